/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* hutch load: images from a docker-archive or oci-archive (file or stdin) or
 * an OCI layout directory into the store. */
#include "config.h"

#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "archive/archive.h"
#include "layer/layer.h"
#include "cli-private.h"
#include "container/container.h"

/* "123", "500k", "64M", "2G" (powers of 1024). */
static gboolean
parse_size (const char *text, guint64 *out)
{
  char *end = NULL;
  guint64 v = g_ascii_strtoull (text, &end, 10);
  int shift = 0;

  if (end == text)
    return FALSE;
  switch (g_ascii_toupper (*end))
    {
    case 'K': shift = 10; end++; break;
    case 'M': shift = 20; end++; break;
    case 'G': shift = 30; end++; break;
    case 'T': shift = 40; end++; break;
    default: break;
    }
  if (*end != '\0' || v == 0 || v > (G_MAXUINT64 >> shift))
    return FALSE;
  *out = v << shift;
  return TRUE;
}

static int
run_load (const HutchCliCommand *cmd, HutchContext *ctx, int argc, char **argv)
{
  g_autofree char *input = NULL, *format_text = NULL, *platform_text = NULL, *limit_text = NULL;
  guint64 limit = HUTCH_LAYER_DEFAULT_MAX_BYTES;
  g_autoptr (GError) error = NULL;
  g_autoptr (HutchPlatform) platform = NULL;
  g_autoptr (HutchStore) store = NULL;
  g_autoptr (GPtrArray) loaded = g_ptr_array_new_with_free_func (g_free);
  HutchArchiveFormat format = HUTCH_ARCHIVE_AUTO;
  gboolean quiet = FALSE;
  int status;
  const GOptionEntry entries[] = {
    { "input", 'i', 0, G_OPTION_ARG_FILENAME, &input,
      "Read from FILE (a directory with --input-format oci-dir) instead of stdin", "FILE" },
    { "input-format", 0, 0, G_OPTION_ARG_STRING, &format_text,
      "docker-archive, oci-archive or oci-dir (default: what the tarball holds)", "FORMAT" },
    { "platform", 0, 0, G_OPTION_ARG_STRING, &platform_text,
      "From a multi-platform image, load OS/ARCH[/VARIANT] (default: this host's)", "PLATFORM" },
    { "unpack-limit", 0, 0, G_OPTION_ARG_STRING, &limit_text,
      "Refuse a layer that unpacks to more than SIZE bytes (k, M, G suffixes; default 64G)", "SIZE" },
    { "quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet, "Print nothing on success", NULL },
    { NULL },
  };

  if (!hutch_cli_parse (cmd, entries, &argc, &argv, &status))
    return status;
  if (argc > 1)
    return hutch_cli_usage_error (cmd, "unexpected argument \"%s\" (give the file with -i)",
                                  argv[1]);
  if (format_text != NULL && !hutch_archive_format_parse (format_text, &format, &error))
    return hutch_cli_usage_error (cmd, "%s", error->message);
  if (format == HUTCH_ARCHIVE_OCI_DIR && input == NULL)
    return hutch_cli_usage_error (cmd, "--input-format oci-dir needs the directory as -i DIR");
  if (input == NULL && ctx->stdin_closed)
    return hutch_cli_usage_error (cmd, "no input: stdin is closed; give -i FILE, or pipe an "
                                       "archive in");
  if (input == NULL && isatty (STDIN_FILENO))
    return hutch_cli_usage_error (cmd, "no input: give -i FILE, or pipe an archive in");
  if (limit_text != NULL && !parse_size (limit_text, &limit))
    return hutch_cli_usage_error (cmd, "--unpack-limit \"%s\" is not a size such as 500M or 2G",
                                  limit_text);
  platform = platform_text != NULL ? hutch_image_platform_parse (platform_text, &error)
                                   : hutch_image_platform_host ();
  if (platform == NULL)
    return hutch_cli_usage_error (cmd, "%s", error->message);
  store = hutch_store_open (ctx->root, TRUE, &error);
  if (store == NULL
      || !hutch_archive_load (store, input != NULL ? input : "-", format, platform, limit, loaded,
                              &error))
    {
      struct stat st;
      g_autofree char *needed = NULL;
      if (input != NULL && stat (input, &st) == 0 && S_ISREG (st.st_mode))
        {
          g_autofree char *size = hutch_util_format_size ((guint64) st.st_size);
          needed = g_strdup_printf ("The archive is %s: its blobs need up to as much (its "
                                    "plain tar layers are kept gzipped), and its layers room "
                                    "to be unpacked.", size);
        }
      g_clear_pointer (&store, hutch_store_free); /* its lock, for the look at what it holds */
      hutch_cli_explain_full_disk (ctx, error, needed);
      return hutch_cli_fail (g_steal_pointer (&error));
    }
  for (guint i = 0; i < loaded->len; i++)
    hutch_event_record (ctx, 0, "image", "load", loaded->pdata[i], loaded->pdata[i], NULL, NULL);
  for (guint i = 0; !quiet && i < loaded->len; i++)
    {
      const char *what = loaded->pdata[i];
      if (g_str_has_prefix (what, "sha256:"))
        printf ("Loaded image ID: %s\n", what);
      else
        printf ("Loaded image: %s\n", what);
    }
  return 0;
}

const HutchCliCommand hutch_cli_command_load = {
  "load", "[OPTIONS]",
  "Load images from a docker-archive, oci-archive or OCI layout",
  run_load,
};
