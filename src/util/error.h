/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The HUTCH_ERROR domain and the helpers that set a GError and return FALSE.
 * How an error becomes text on stderr and an exit status is cli/'s business. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define HUTCH_ERROR (hutch_error_quark ())

typedef enum
{
  HUTCH_ERROR_FAILED,
  HUTCH_ERROR_NOT_FOUND,
  HUTCH_ERROR_INVALID_IMAGE,
  HUTCH_ERROR_UNSAFE_PATH,
  HUTCH_ERROR_DIGEST_MISMATCH,
  HUTCH_ERROR_AUTH,
  HUTCH_ERROR_NETWORK,
  HUTCH_ERROR_HOST_UNSUPPORTED,
  HUTCH_ERROR_BUSY,
  HUTCH_ERROR_USAGE,
} HutchErrorCode;

GQuark hutch_error_quark (void);

/* Sets @error to HUTCH_ERROR/@code with a printf-style message; returns FALSE
 * so that a failing function can end with `return hutch_throw (...)`. */
gboolean hutch_throw (GError **error, HutchErrorCode code, const char *fmt, ...)
    G_GNUC_PRINTF (3, 4);

/* Sets @error from errno: a G_FILE_ERROR whose code matches errno
 * (g_file_error_from_errno), with the message "<fmt>: <strerror>". GLib's own
 * errno domain, not GIO's G_IO_ERROR: loading libgio costs every hutch
 * invocation about 2.5 ms of start-up (tests/bench/startup). errno is kept, so the caller may still test
 * it. Returns FALSE. */
gboolean hutch_throw_errno (GError **error, const char *fmt, ...) G_GNUC_PRINTF (2, 3);

/* As hutch_throw_errno() but with an explicit @errsv; errno is set to it. */
gboolean hutch_throw_errno_val (GError **error, int errsv, const char *fmt, ...)
    G_GNUC_PRINTF (3, 4);

G_END_DECLS
