/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Removing the containers that have exited (`container prune`, and what
 * `system prune` does first, as docker's does), and keeping the images of
 * those that are left from the store's prune. */
#include "config.h"

#include "container-private.h"

gboolean
hutch_container_prune (HutchContext *ctx, guint *out_removed, GError **error)
{
  g_autoptr (GPtrArray) all = hutch_container_list (ctx, error);

  *out_removed = 0;
  if (all == NULL)
    return FALSE;
  for (guint i = 0; i < all->len; i++)
    {
      const HutchContainer *c = all->pdata[i];
      g_autoptr (GError) local = NULL;
      /* (as docker: one waiting to restart is not stopped) */
      if (c->status != HUTCH_CONTAINER_EXITED || c->restarting)
        continue;
      if (!hutch_container_remove (ctx, c->id, FALSE, &local))
        {
          if (g_error_matches (local, HUTCH_ERROR, HUTCH_ERROR_BUSY)
              || g_error_matches (local, HUTCH_ERROR, HUTCH_ERROR_NOT_FOUND))
            continue; /* started, or removed, meanwhile */
          return g_propagate_error (error, g_steal_pointer (&local)), FALSE;
        }
      (*out_removed)++;
    }
  return TRUE;
}

gboolean
hutch_container_images_protect (const HutchContext *ctx, HutchStore *store, GError **error)
{
  g_autoptr (GPtrArray) all = NULL;
  GHashTable *ids;

  if (!hutch_store_lock_exclusive (store, error) || (all = hutch_container_list (ctx, error)) == NULL)
    return FALSE;
  ids = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  for (guint i = 0; i < all->len; i++)
    {
      const HutchContainer *c = all->pdata[i];
      if (c->image_id != NULL)
        g_hash_table_add (ids, g_strdup (c->image_id));
    }
  hutch_store_images_keep (store, ids);
  return TRUE;
}
