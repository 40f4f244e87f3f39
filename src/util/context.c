/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* HutchContext: the paths and verbosity of one invocation, made by cli/ and
 * passed down; there are no globals to hold them. */
#include "config.h"

#include <string.h>

#include "util.h"

HutchContext *
hutch_context_new (const char *root, const char *runroot, HutchLogLevel level)
{
  HutchContext *ctx = g_new0 (HutchContext, 1);

  /* Relative --root/--runroot are taken from the working directory now, so
   * that a later chdir (into a container's rootfs) cannot change them. */
  ctx->root = root != NULL ? g_canonicalize_filename (root, NULL) : hutch_util_default_root ();
  ctx->runroot = runroot != NULL ? g_canonicalize_filename (runroot, NULL)
                                 : hutch_util_default_runroot (&ctx->runroot_why);
  ctx->log_level = level;
  return ctx;
}

void
hutch_context_free (HutchContext *ctx)
{
  if (ctx == NULL)
    return;
  g_free (ctx->root);
  g_free (ctx->runroot);
  g_free (ctx->runroot_why);
  g_free (ctx);
}

gboolean
hutch_log_level_parse (const char *text, HutchLogLevel *out_level, GError **error)
{
  static const struct
  {
    const char *name;
    HutchLogLevel level;
  } levels[] = {
    { "error", HUTCH_LOG_ERROR }, { "warn", HUTCH_LOG_WARN },    { "warning", HUTCH_LOG_WARN },
    { "info", HUTCH_LOG_INFO },   { "debug", HUTCH_LOG_DEBUG },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (levels); i++)
    if (g_ascii_strcasecmp (text, levels[i].name) == 0)
      {
        *out_level = levels[i].level;
        return TRUE;
      }
  return hutch_throw (error, HUTCH_ERROR_USAGE,
                      "unknown log level \"%s\" (use error, warn, info or debug)", text);
}
