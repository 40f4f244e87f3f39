/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* hutch image prune, and the images `system prune -a` removes: untagged
 * images (with -a, every image no container uses), then what no image
 * uses any more, reported as docker reports it ("Deleted Images:", then
 * "Total reclaimed space:"). */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "cli-private.h"
#include "container/container.h"
#include "store/store.h"

/* The config digests of the images containers were made from. */
static GHashTable *
images_in_use (HutchContext *ctx, GError **error)
{
  g_autoptr (GPtrArray) containers = hutch_container_list (ctx, error);
  GHashTable *used;

  if (containers == NULL)
    return NULL;
  used = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  for (guint i = 0; i < containers->len; i++)
    {
      const HutchContainer *c = containers->pdata[i];
      if (c->image_id != NULL)
        g_hash_table_add (used, g_strdup (c->image_id));
    }
  return used;
}

/* "Untagged: NAME" and "Deleted: ID" of the store, as docker words them. */
static void
report_add (GPtrArray *report, GPtrArray *lines)
{
  for (guint i = 0; i < lines->len; i++)
    {
      const char *l = lines->pdata[i];
      if (g_str_has_prefix (l, "Deleted: "))
        g_ptr_array_add (report, g_strdup_printf ("deleted: sha256:%s", l + strlen ("Deleted: ")));
      else if (g_str_has_prefix (l, "Untagged: "))
        g_ptr_array_add (report, g_strdup_printf ("untagged: %s", l + strlen ("Untagged: ")));
      else
        g_ptr_array_add (report, g_strdup (l));
    }
}

gboolean
hutch_cli_images_prune (HutchContext *ctx, gboolean all, GPtrArray *report,
                        gint64 *out_reclaimed, GError **error)
{
  g_autoptr (HutchStore) store = hutch_store_open (ctx->root, FALSE, error);
  g_autoptr (GHashTable) used = NULL;
  g_autoptr (GPtrArray) images = NULL;
  g_auto (HutchStorePruned) p = { 0 };
  HutchStoreUsage before, after;

  /* the store lock exclusive first: no container is being made from an
   * image meanwhile, so those in use all have their records */
  if (store == NULL || !hutch_container_images_protect (ctx, store, error)
      || (used = images_in_use (ctx, error)) == NULL
      || !hutch_store_usage (store, &before, error)
      || (images = hutch_store_images_list (store, error)) == NULL)
    return FALSE;
  for (guint i = 0; i < images->len; i++)
    {
      const HutchStoreImage *image = images->pdata[i];
      g_autoptr (GPtrArray) lines = g_ptr_array_new_with_free_func (g_free);
      g_autofree char *digest = NULL;
      gboolean ok;
      if (image->manifest == NULL || (!all && image->names->len > 0))
        continue; /* a damaged image is system check's */
      digest = g_strdup_printf ("sha256:%s", hutch_store_image_id (image));
      if (g_hash_table_contains (used, digest))
        continue;
      ok = hutch_store_image_remove (store, digest, TRUE, lines, error);
      report_add (report, lines);
      if (!ok)
        return g_prefix_error (error, "pruning image %.12s: ", hutch_store_image_id (image)),
               FALSE;
    }
  /* then the blobs and layers nothing uses now */
  if (!hutch_store_prune (store, &p, error) || !hutch_store_usage (store, &after, error))
    return FALSE;
  if (p.kept != NULL)
    g_warning ("%s", p.kept);
  *out_reclaimed = MAX (before.blob_bytes - after.blob_bytes, 0);
  return TRUE;
}

void
hutch_cli_images_prune_print (GPtrArray *report, gint64 reclaimed)
{
  g_autofree char *size = NULL;

  if (report->len > 0)
    {
      printf ("Deleted Images:\n");
      for (guint i = 0; i < report->len; i++)
        printf ("%s\n", (const char *) report->pdata[i]);
      printf ("\n");
    }
  size = hutch_cli_format_size_docker (reclaimed);
  printf ("Total reclaimed space: %s\n", size);
}

static int
run_image_prune (const HutchCliCommand *cmd, HutchContext *ctx, int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) report = g_ptr_array_new_with_free_func (g_free);
  gboolean all = FALSE, force = FALSE;
  gint64 reclaimed = 0;
  int status;
  const GOptionEntry entries[] = {
    { "all", 'a', 0, G_OPTION_ARG_NONE, &all, "Every image no container uses, not only untagged ones",
      NULL },
    { "force", 'f', 0, G_OPTION_ARG_NONE, &force, "Do not ask (hutch never asks)", NULL },
    { NULL },
  };

  if (!hutch_cli_parse_no_args (cmd, entries, argc, argv, &status))
    return status;
  if (!hutch_cli_images_prune (ctx, all, report, &reclaimed, &error))
    {
      hutch_cli_images_prune_print (report, reclaimed);
      return hutch_cli_fail (g_steal_pointer (&error));
    }
  hutch_cli_images_prune_print (report, reclaimed);
  return 0;
}

const HutchCliCommand hutch_cli_command_image_prune = {
  "image prune", "[OPTIONS]",
  "Remove untagged images (-a: every image no container uses)",
  run_image_prune,
};
