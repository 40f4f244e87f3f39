/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The HUTCH_ERROR domain and the errno-to-GError helpers. */
#include "config.h"

#include <errno.h>

#include "util.h"

G_DEFINE_QUARK (hutch-error-quark, hutch_error)

gboolean
hutch_throw (GError **error, HutchErrorCode code, const char *fmt, ...)
{
  va_list ap;

  if (error == NULL)
    return FALSE;

  va_start (ap, fmt);
  g_autofree char *msg = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  g_set_error_literal (error, HUTCH_ERROR, code, msg);
  return FALSE;
}

/* The attribute lets clang check the callers' formats (-Wformat-nonliteral
 * under -Werror=format=2 refuses a va_list format without it). */
static gboolean throw_errno_va (GError **error, int errsv, const char *fmt, va_list ap)
    G_GNUC_PRINTF (3, 0);

static gboolean
throw_errno_va (GError **error, int errsv, const char *fmt, va_list ap)
{
  if (error != NULL)
    {
      g_autofree char *msg = g_strdup_vprintf (fmt, ap);
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (errsv), "%s: %s", msg,
                   g_strerror (errsv));
    }
  errno = errsv;
  return FALSE;
}

gboolean
hutch_throw_errno (GError **error, const char *fmt, ...)
{
  int errsv = errno;
  va_list ap;

  va_start (ap, fmt);
  throw_errno_va (error, errsv, fmt, ap);
  va_end (ap);
  return FALSE;
}

gboolean
hutch_throw_errno_val (GError **error, int errsv, const char *fmt, ...)
{
  va_list ap;

  va_start (ap, fmt);
  throw_errno_va (error, errsv, fmt, ap);
  va_end (ap);
  return FALSE;
}
