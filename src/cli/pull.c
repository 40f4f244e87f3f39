/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* hutch pull [OPTIONS] IMAGE, and the registry options that run and login
 * share with it. */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli-private.h"
#include "container/container.h"
#include "store/store.h"

gboolean
hutch_cli_registry_options (HutchRegistryOptions *out, const char *tls_text, const char *creds,
                            const char *authfile, GError **error)
{
  out->tls = HUTCH_TLS_DEFAULT;
  if (tls_text != NULL)
    {
      if (strcmp (tls_text, "true") == 0)
        out->tls = HUTCH_TLS_VERIFY;
      else if (strcmp (tls_text, "false") == 0)
        out->tls = HUTCH_TLS_NO_VERIFY;
      else
        return hutch_throw (error, HUTCH_ERROR_USAGE, "--tls-verify=\"%s\": use true or false",
                            tls_text);
    }
  if (creds != NULL)
    {
      const char *colon = strchr (creds, ':');
      if (colon == NULL || colon == creds)
        return hutch_throw (error, HUTCH_ERROR_USAGE, "--creds wants USER:PASSWORD");
      out->username = g_strndup (creds, colon - creds);
      out->password = g_strdup (colon + 1);
    }
  out->auth_file = authfile;
  return TRUE;
}

void
hutch_cli_registry_options_clear (HutchRegistryOptions *o)
{
  g_free ((char *) o->username);
  g_free ((char *) o->password);
  o->username = o->password = NULL;
}

gboolean
hutch_cli_pull (HutchContext *ctx, const char *ref, const HutchPullOptions *opts,
                gboolean print_name, GError **error)
{
  g_autoptr (HutchStore) store = hutch_store_open (ctx->root, TRUE, error);
  g_autofree char *name = NULL, *id = NULL;
  gboolean fresh;

  if (store == NULL)
    return FALSE;
  if (opts->progress != HUTCH_PULL_PROGRESS_NONE)
    fprintf (stderr, "Trying to pull %s...\n", ref);
  if (!hutch_registry_pull (store, ref, opts, &name, &id, &fresh, error))
    {
      hutch_cli_explain_full_disk (ctx, error != NULL ? *error : NULL, NULL);
      return FALSE;
    }
  if (opts->progress != HUTCH_PULL_PROGRESS_NONE)
    fprintf (stderr, "%s: %s\n", fresh ? "Downloaded newer image" : "Image is up to date",
             name);
  hutch_event_record (ctx, 0, "image", "pull", id, name, NULL, NULL);
  if (print_name)
    printf ("%s\n", name);
  return TRUE;
}

gboolean
hutch_cli_pull_for_run (HutchContext *ctx, const char *image, const char *policy,
                        const HutchPullOptions *opts, GError **error)
{
  g_autoptr (HutchStore) store = NULL;
  g_autoptr (HutchStoreImage) found = NULL;
  g_autoptr (GError) local = NULL;

  if (policy == NULL || strcmp (policy, "missing") == 0)
    {
      store = hutch_store_open (ctx->root, FALSE, error);
      if (store == NULL)
        return FALSE;
      found = hutch_store_image_lookup (store, image, NULL, &local);
      if (found != NULL)
        return TRUE;
      if (!g_error_matches (local, HUTCH_ERROR, HUTCH_ERROR_NOT_FOUND))
        {
          g_propagate_error (error, g_steal_pointer (&local));
          return FALSE;
        }
      /* an image ID or a digest is not something to pull */
      if (strchr (image, '/') == NULL && strchr (image, ':') == NULL
          && strlen (image) >= 12 && strspn (image, "0123456789abcdef") == strlen (image))
        {
          g_propagate_error (error, g_steal_pointer (&local));
          return FALSE;
        }
    }
  else if (strcmp (policy, "never") == 0)
    return TRUE;
  else if (strcmp (policy, "always") != 0)
    return hutch_throw (error, HUTCH_ERROR_USAGE, "--pull=%s: use missing, always or never", policy);
  if (hutch_cli_pull (ctx, image, opts, FALSE, error))
    return TRUE;
  /* what the store has says as much as why the registry failed */
  if (local != NULL)
    g_prefix_error (error, "%s, and pulling it failed: ", local->message);
  return FALSE;
}

HutchPullProgress
hutch_cli_pull_progress (gboolean quiet)
{
  if (quiet)
    return HUTCH_PULL_PROGRESS_NONE;
  return isatty (STDERR_FILENO) && g_strcmp0 (g_getenv ("TERM"), "dumb") != 0
             ? HUTCH_PULL_PROGRESS_LIVE
             : HUTCH_PULL_PROGRESS_LINES;
}

static int
run_pull (const HutchCliCommand *cmd, HutchContext *ctx, int argc, char **argv)
{
  g_autofree char *platform_text = NULL, *tls_text = NULL, *creds = NULL, *authfile = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (HutchPlatform) platform = NULL;
  HutchPullOptions opts = { 0 };
  gboolean quiet = FALSE;
  int jobs = 0, status;
  const GOptionEntry entries[] = {
    { "platform", 0, 0, G_OPTION_ARG_STRING, &platform_text,
      "From a multi-platform image, pull OS/ARCH[/VARIANT] (default: this host's)", "PLATFORM" },
    { "tls-verify", 0, 0, G_OPTION_ARG_STRING, &tls_text,
      "false: accept any certificate, or plain HTTP (default: true)", "BOOL" },
    { "creds", 0, 0, G_OPTION_ARG_STRING, &creds, "Log in as USER with PASSWORD", "USER:PASSWORD" },
    { "authfile", 0, 0, G_OPTION_ARG_FILENAME, &authfile,
      "Read credentials from FILE (default: the usual auth.json files)", "FILE" },
    { "jobs", 'j', 0, G_OPTION_ARG_INT, &jobs, "Fetch N layers at once (default 4)", "N" },
    { "quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet, "No progress: print the name alone", NULL },
    { NULL },
  };

  if (!hutch_cli_parse (cmd, entries, &argc, &argv, &status))
    return status;
  if (argc < 2)
    return hutch_cli_usage_error (cmd, "name the image to pull");
  if (argc > 2)
    return hutch_cli_usage_error (cmd, "unexpected argument \"%s\"", argv[2]);
  if (jobs < 0 || jobs > 64)
    return hutch_cli_usage_error (cmd, "--jobs %d: give 1 to 64", jobs);
  if (platform_text != NULL && (platform = hutch_image_platform_parse (platform_text, &error)) == NULL)
    return hutch_cli_usage_error (cmd, "%s", error->message);
  if (!hutch_cli_registry_options (&opts.registry, tls_text, creds, authfile, &error))
    return hutch_cli_usage_error (cmd, "%s", error->message);
  opts.platform = platform;
  opts.platform_asked = platform != NULL;
  opts.jobs = (guint) jobs;
  opts.progress = hutch_cli_pull_progress (quiet);
  status = 0;
  if (!hutch_cli_pull (ctx, argv[1], &opts, TRUE, &error))
    status = hutch_cli_fail (g_steal_pointer (&error));
  hutch_cli_registry_options_clear (&opts.registry);
  return status;
}

const HutchCliCommand hutch_cli_command_pull = {
  "pull", "[OPTIONS] IMAGE",
  "Pull an image from a registry",
  run_pull,
};
