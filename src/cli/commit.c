/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* hutch commit [OPTIONS] CONTAINER [IMAGE[:TAG]]: a container's changes as
 * a new image, one layer more than its own; the new image's ID on stdout. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "cli-private.h"
#include "container/container.h"

/* A name for a new image: a reference without a digest, in full. */
static char *
new_name (const char *text, GError **error)
{
  g_autoptr (HutchImageRef) ref = hutch_image_ref_parse (text, error);

  if (ref == NULL)
    return NULL;
  if (ref->digest != NULL)
    return hutch_throw (error, HUTCH_ERROR_USAGE,
                        "\"%s\": a new image's name cannot have a digest (digests belong to "
                        "the content); give NAME[:TAG]", text), NULL;
  return hutch_image_ref_to_string (ref);
}

/* --compression-format: gzip (the default) or zstd. */
gboolean
hutch_cli_compression_parse (const char *text, HutchLayerCompression *out, GError **error)
{
  if (text == NULL || strcmp (text, "gzip") == 0)
    *out = HUTCH_LAYER_GZIP;
  else if (strcmp (text, "zstd") == 0)
    *out = HUTCH_LAYER_ZSTD;
  else
    return hutch_throw (error, HUTCH_ERROR_USAGE,
                        "--compression-format \"%s\": use gzip or zstd", text);
  return TRUE;
}

static int
run_commit (const HutchCliCommand *cmd, HutchContext *ctx, int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *id = NULL, *format = NULL, *compression = NULL;
  g_auto (HutchCommitOptions) o = { 0 };
  gboolean quiet = FALSE;
  char image_id[HUTCH_DIGEST_BUFSIZE];
  int status;
  const GOptionEntry entries[] = {
    { "message", 'm', 0, G_OPTION_ARG_STRING, &o.message, "A message for the image's history", "MSG" },
    { "author", 'a', 0, G_OPTION_ARG_STRING, &o.author, "The image's author", "AUTHOR" },
    { "change", 'c', 0, G_OPTION_ARG_STRING_ARRAY, &o.changes,
      "Apply a Dockerfile instruction: CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, STOPSIGNAL, USER, "
      "VOLUME or WORKDIR (repeatable)", "INSTR" },
    { "pause", 'p', 0, G_OPTION_ARG_NONE, &o.pause,
      "Stop the container's processes while its changes are read", NULL },
    { "squash", 's', 0, G_OPTION_ARG_NONE, &o.squash,
      "One layer of the whole file system instead of one layer more", NULL },
    { "format", 'f', 0, G_OPTION_ARG_STRING, &format,
      "oci (the default) or docker: the manifest and config format", "FORMAT" },
    { "compression-format", 0, 0, G_OPTION_ARG_STRING, &compression,
      "gzip (the default) or zstd", "FORMAT" },
    { "quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet, "Print nothing on success", NULL },
    { NULL },
  };

  if (!hutch_cli_parse (cmd, entries, &argc, &argv, &status))
    return status;
  if (argc < 2 || argc > 3)
    return hutch_cli_usage_error (cmd, "name a container, and optionally the new image");
  if (format != NULL && strcmp (format, "oci") != 0 && strcmp (format, "docker") != 0)
    return hutch_cli_usage_error (cmd, "--format \"%s\": use oci or docker", format);
  o.docker = g_strcmp0 (format, "docker") == 0;
  if (!hutch_cli_compression_parse (compression, &o.compression, &error))
    return hutch_cli_usage_error (cmd, "%s", error->message);
  if (o.docker && o.compression == HUTCH_LAYER_ZSTD)
    return hutch_cli_usage_error (cmd, "--format docker takes no zstd layer: use --format oci");
  if (argc == 3 && (o.name = new_name (argv[2], &error)) == NULL)
    return hutch_cli_usage_error (cmd, "%s", error->message);
  if (!hutch_image_changes_check ((const char *const *) o.changes, &error))
    return hutch_cli_usage_error (cmd, "%s", error->message);
  if ((id = hutch_container_resolve (ctx, argv[1], &error)) == NULL
      || !hutch_container_commit (ctx, id, &o, image_id, &error))
    {
      hutch_cli_explain_full_disk (ctx, error, NULL);
      return hutch_cli_fail (g_steal_pointer (&error));
    }
  if (!quiet)
    printf ("%s\n", image_id);
  hutch_event_record (ctx, 0, "image", "commit", image_id, argc > 2 ? argv[2] : image_id, NULL, NULL);
  return fflush (stdout) == 0 ? 0 : HUTCH_EXIT_FAILURE;
}

const HutchCliCommand hutch_cli_command_commit = {
  "commit", "[OPTIONS] CONTAINER [IMAGE[:TAG]]",
  "Make a new image from a container's changes",
  run_commit,
};
