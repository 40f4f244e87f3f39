/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* hutch push [OPTIONS] IMAGE [DESTINATION] */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "cli-private.h"
#include "container/container.h"
#include "store/store.h"

/* HUTCH_PUSH_CHUNK_SIZE: blobs larger than this many bytes go in chunks
 * of it (the tests' way to see chunked uploads without large images). */
static guint64
chunk_size_from_env (void)
{
  const char *text = g_getenv ("HUTCH_PUSH_CHUNK_SIZE");
  guint64 v = 0;

  if (text != NULL && !g_ascii_string_to_unsigned (text, 10, 1, G_MAXINT64, &v, NULL))
    v = 0;
  return v;
}

static int
run_push (const HutchCliCommand *cmd, HutchContext *ctx, int argc, char **argv)
{
  g_autofree char *tls_text = NULL, *creds = NULL, *authfile = NULL, *format = NULL;
  g_autofree char *digestfile = NULL, *name = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (HutchStore) store = NULL;
  HutchPushOptions opts = { 0 };
  char digest[HUTCH_DIGEST_BUFSIZE];
  gboolean quiet = FALSE;
  int jobs = 0, status;
  const GOptionEntry entries[] = {
    { "tls-verify", 0, 0, G_OPTION_ARG_STRING, &tls_text,
      "false: accept any certificate, or plain HTTP (default: true)", "BOOL" },
    { "creds", 0, 0, G_OPTION_ARG_STRING, &creds, "Log in as USER with PASSWORD", "USER:PASSWORD" },
    { "authfile", 0, 0, G_OPTION_ARG_FILENAME, &authfile,
      "Read credentials from FILE (default: the usual auth.json files)", "FILE" },
    { "compression-format", 0, 0, G_OPTION_ARG_STRING, &format,
      "Push layers as gzip or zstd (default: as stored; plain ones as gzip)", "FORMAT" },
    { "digestfile", 0, 0, G_OPTION_ARG_FILENAME, &digestfile,
      "Write the pushed manifest's digest to FILE", "FILE" },
    { "jobs", 'j', 0, G_OPTION_ARG_INT, &jobs, "Push N layers at once (default 4)", "N" },
    { "quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet, "No progress", NULL },
    { NULL },
  };

  if (!hutch_cli_parse (cmd, entries, &argc, &argv, &status))
    return status;
  if (argc < 2)
    return hutch_cli_usage_error (cmd, "name the image to push");
  if (argc > 3)
    return hutch_cli_usage_error (cmd, "unexpected argument \"%s\"", argv[3]);
  if (jobs < 0 || jobs > 64)
    return hutch_cli_usage_error (cmd, "--jobs %d: give 1 to 64", jobs);
  if (format == NULL)
    opts.compression = HUTCH_PUSH_COMPRESSION_DEFAULT;
  else if (strcmp (format, "gzip") == 0)
    opts.compression = HUTCH_PUSH_COMPRESSION_GZIP;
  else if (strcmp (format, "zstd") == 0)
    opts.compression = HUTCH_PUSH_COMPRESSION_ZSTD;
  else
    return hutch_cli_usage_error (cmd, "--compression-format=%s: use gzip or zstd", format);
  if (!hutch_cli_registry_options (&opts.registry, tls_text, creds, authfile, &error))
    return hutch_cli_usage_error (cmd, "%s", error->message);
  opts.jobs = (guint) jobs;
  opts.chunk_size = chunk_size_from_env ();
  opts.progress = hutch_cli_pull_progress (quiet);
  status = 0;
  store = hutch_store_open (ctx->root, FALSE, &error);
  if (store != NULL && opts.progress != HUTCH_PULL_PROGRESS_NONE)
    fprintf (stderr, "Pushing %s%s%s...\n", argv[1], argc > 2 ? " to " : "",
             argc > 2 ? argv[2] : "");
  if (store == NULL
      || !hutch_registry_push (store, argv[1], argc > 2 ? argv[2] : NULL, &opts, &name, digest,
                               &error))
    status = hutch_cli_fail (g_steal_pointer (&error));
  else
    {
      hutch_event_record (ctx, 0, "image", "push", digest, name, NULL, NULL);
      if (opts.progress != HUTCH_PULL_PROGRESS_NONE)
        fprintf (stderr, "Pushed %s@%s\n", name, digest);
      if (digestfile != NULL && !g_file_set_contents (digestfile, digest, -1, &error))
        status = hutch_cli_fail (g_steal_pointer (&error));
    }
  hutch_cli_registry_options_clear (&opts.registry);
  return status;
}

const HutchCliCommand hutch_cli_command_push = {
  "push", "[OPTIONS] IMAGE [DESTINATION]",
  "Push an image to a registry",
  run_push,
};
