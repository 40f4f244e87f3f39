/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* hutch import [OPTIONS] FILE|- [IMAGE[:TAG]]: a rootfs tarball as a new
 * one-layer image; its ID on stdout. */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "archive/archive.h"
#include "cli-private.h"
#include "container/container.h"

static int
run_import (const HutchCliCommand *cmd, HutchContext *ctx, int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *message = NULL, *compression = NULL, *name = NULL;
  g_auto (GStrv) changes = NULL;
  g_autoptr (HutchImageRef) ref = NULL;
  g_autoptr (HutchStore) store = NULL;
  HutchArchiveImport opts = { 0 };
  gboolean quiet = FALSE;
  char image_id[HUTCH_DIGEST_BUFSIZE];
  int status;
  const GOptionEntry entries[] = {
    { "change", 'c', 0, G_OPTION_ARG_STRING_ARRAY, &changes,
      "Apply a Dockerfile instruction: CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, STOPSIGNAL, USER, "
      "VOLUME or WORKDIR (repeatable)", "INSTR" },
    { "message", 'm', 0, G_OPTION_ARG_STRING, &message, "A message for the image's history", "MSG" },
    { "compression-format", 0, 0, G_OPTION_ARG_STRING, &compression,
      "How the store keeps the layer: gzip (the default) or zstd", "FORMAT" },
    { "quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet, "Print nothing on success", NULL },
    { NULL },
  };

  if (!hutch_cli_parse (cmd, entries, &argc, &argv, &status))
    return status;
  if (argc < 2 || argc > 3)
    return hutch_cli_usage_error (cmd, "give the tarball (a file, or - for stdin), and "
                                       "optionally the new image's name");
  if (strcmp (argv[1], "-") == 0 && (ctx->stdin_closed || isatty (STDIN_FILENO)))
    return hutch_cli_usage_error (cmd, "no input: pipe a tarball in, or give a file");
  if (!hutch_cli_compression_parse (compression, &opts.compression, &error))
    return hutch_cli_usage_error (cmd, "%s", error->message);
  if (argc == 3)
    {
      if ((ref = hutch_image_ref_parse (argv[2], &error)) == NULL)
        return hutch_cli_usage_error (cmd, "%s", error->message);
      if (ref->digest != NULL)
        return hutch_cli_usage_error (cmd, "\"%s\": a new image's name cannot have a digest; "
                                           "give NAME[:TAG]", argv[2]);
      name = hutch_image_ref_to_string (ref);
    }
  if (!hutch_image_changes_check ((const char *const *) changes, &error))
    return hutch_cli_usage_error (cmd, "%s", error->message);
  opts.changes = (const char *const *) changes;
  opts.message = message;
  opts.name = name;
  store = hutch_store_open (ctx->root, TRUE, &error);
  if (store == NULL || !hutch_archive_import (store, argv[1], &opts, image_id, &error))
    {
      g_clear_pointer (&store, hutch_store_free);
      hutch_cli_explain_full_disk (ctx, error, NULL);
      return hutch_cli_fail (g_steal_pointer (&error));
    }
  if (!quiet)
    printf ("%s\n", image_id);
  hutch_event_record (ctx, 0, "image", "import", image_id, argc > 2 ? argv[2] : image_id, NULL, NULL);
  return fflush (stdout) == 0 ? 0 : HUTCH_EXIT_FAILURE;
}

const HutchCliCommand hutch_cli_command_import = {
  "import", "[OPTIONS] FILE|- [IMAGE[:TAG]]",
  "Make a one-layer image from a tarball of a root file system",
  run_import,
};
