/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* hutch save: images from the store into a docker-archive (the default, as
 * podman's), an oci-archive or an OCI layout directory, to -o FILE or to
 * stdout when that is not a terminal. */
#include "config.h"

#include <stdio.h>
#include <unistd.h>

#include "archive/archive.h"
#include "cli-private.h"

static int
run_save (const HutchCliCommand *cmd, HutchContext *ctx, int argc, char **argv)
{
  g_autofree char *output = NULL, *format_text = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (HutchStore) store = NULL;
  HutchArchiveFormat format = HUTCH_ARCHIVE_DOCKER;
  gboolean quiet = FALSE;
  int status;
  const GOptionEntry entries[] = {
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &output,
      "Write to FILE (a new directory for oci-dir) instead of stdout", "FILE" },
    { "format", 0, 0, G_OPTION_ARG_STRING, &format_text,
      "docker-archive (default), oci-archive or oci-dir", "FORMAT" },
    { "quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet, "Accepted for podman compatibility; save prints "
                                                  "nothing but the archive", NULL },
    { NULL },
  };

  if (!hutch_cli_parse (cmd, entries, &argc, &argv, &status))
    return status;
  if (argc < 2)
    return hutch_cli_usage_error (cmd, "name at least one image to save");
  if (format_text != NULL && !hutch_archive_format_parse (format_text, &format, &error))
    return hutch_cli_usage_error (cmd, "--format: %s", error->message);
  if (format == HUTCH_ARCHIVE_OCI_DIR && output == NULL)
    return hutch_cli_usage_error (cmd, "--format oci-dir writes a directory: name it with -o DIR");
  if (output == NULL && isatty (STDOUT_FILENO))
    return hutch_cli_usage_error (cmd, "refusing to write an archive to a terminal: give -o FILE, "
                                       "or pipe the output (hutch save IMAGE | gzip > FILE)");
  /* The store lock shared, as a writer takes it: prune waits until the
   * blobs are in the archive. A store not made yet is not made here. */
  store = hutch_store_open (ctx->root, g_file_test (ctx->root, G_FILE_TEST_IS_DIR), &error);
  if (store == NULL
      || !hutch_archive_save (store, (const char *const *) argv + 1, format, output, &error))
    return hutch_cli_fail (g_steal_pointer (&error));
  return 0;
}

const HutchCliCommand hutch_cli_command_save = {
  "save", "[OPTIONS] IMAGE...",
  "Save images to a docker-archive, oci-archive or OCI layout",
  run_save,
};
