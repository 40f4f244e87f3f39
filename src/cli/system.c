/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* hutch system df and system prune: what the store holds and takes, and
 * collecting what no image uses. */
#include "config.h"

#include <stdio.h>

#include "cli-private.h"
#include "container/container.h"
#include "store/store.h"

static int
run_df (const HutchCliCommand *cmd, HutchContext *ctx, int argc, char **argv)
{
  g_autofree char *format_text = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (HutchStore) store = NULL;
  HutchFormat format = HUTCH_FORMAT_TEXT;
  HutchStoreUsage u;
  int status;
  const GOptionEntry entries[] = {
    { "format", 'f', 0, G_OPTION_ARG_STRING, &format_text, "Output format: table or json", "FORMAT" },
    { NULL },
  };

  if (!hutch_cli_parse_no_args (cmd, entries, argc, argv, &status))
    return status;
  if (!hutch_cli_format_parse (format_text, &format, &error))
    return hutch_cli_usage_error (cmd, "%s", error->message);
  store = hutch_store_open (ctx->root, FALSE, &error);
  if (store == NULL || !hutch_store_usage (store, &u, &error))
    return hutch_cli_fail (g_steal_pointer (&error));
  if (format == HUTCH_FORMAT_JSON)
    {
      g_autoptr (HutchJsonWriter) w = hutch_json_writer_new (TRUE);
      g_autofree char *text = NULL;
      hutch_json_begin_object (w);
      hutch_json_key (w, "Images");
      hutch_json_int (w, u.images);
      hutch_json_key (w, "Untagged");
      hutch_json_int (w, u.dangling);
      hutch_json_key (w, "Blobs");
      hutch_json_int (w, u.blobs);
      hutch_json_key (w, "Size");
      hutch_json_int (w, u.blob_bytes);
      hutch_json_key (w, "Reclaimable");
      hutch_json_int (w, u.unreferenced_bytes);
      hutch_json_key (w, "UnusedBlobs");
      hutch_json_int (w, u.unreferenced);
      hutch_json_end_object (w);
      text = hutch_json_writer_finish (w);
      puts (text);
      return 0;
    }
  {
    g_autofree char *size = hutch_cli_format_size (u.blob_bytes);
    g_autofree char *reclaim = hutch_cli_format_size (u.unreferenced_bytes);
    printf ("%-8s %-8s %-8s %-12s %s\n", "TYPE", "TOTAL", "UNTAGGED", "SIZE", "RECLAIMABLE");
    printf ("%-8s %-8u %-8u %-12s %s (%u unused blobs)\n", "Images", u.images, u.dangling, size,
            reclaim, u.unreferenced);
  }
  return 0;
}

static const HutchCliCommand system_df = {
  "system df", "[OPTIONS]",
  "Show how much disk the store takes",
  run_df,
};

static int
run_prune (const HutchCliCommand *cmd, HutchContext *ctx, int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (HutchStore) store = NULL;
  g_autofree char *size = NULL;
  gboolean force = FALSE;
  guint images, blobs, layers, containers;
  gint64 bytes;
  int status;
  const GOptionEntry entries[] = {
    { "force", 'f', 0, G_OPTION_ARG_NONE, &force, "Accepted for podman compatibility; hutch never asks",
      NULL },
    { NULL },
  };

  if (!hutch_cli_parse_no_args (cmd, entries, argc, argv, &status))
    return status;
  /* containers first: the layers an exited container used may go next */
  if (!hutch_container_prune (ctx, &containers, &error))
    return hutch_cli_fail (g_steal_pointer (&error));
  if (containers > 0)
    printf ("Removed %u exited container%s\n", containers, containers == 1 ? "" : "s");
  store = hutch_store_open (ctx->root, FALSE, &error);
  if (store == NULL || !hutch_store_prune (store, &images, &blobs, &bytes, &layers, &error))
    return hutch_cli_fail (g_steal_pointer (&error));
  size = hutch_cli_format_size (bytes);
  printf ("Removed %u untagged image%s, %u unused blob%s and %u unused layer%s; reclaimed %s "
          "of blobs\n", images, images == 1 ? "" : "s", blobs, blobs == 1 ? "" : "s", layers,
          layers == 1 ? "" : "s", size);
  return 0;
}

static const HutchCliCommand system_prune = {
  "system prune", "[OPTIONS]",
  "Remove untagged images and blobs no image uses",
  run_prune,
};

static int
run_system (const HutchCliCommand *cmd, HutchContext *ctx, int argc, char **argv)
{
  static const HutchCliCommand *const subs[] = { &system_df, &system_prune, NULL };
  return hutch_cli_run_group (cmd, subs, ctx, argc, argv);
}

const HutchCliCommand hutch_cli_command_system = {
  "system", "COMMAND",
  "Manage the store: df, prune",
  run_system,
};
