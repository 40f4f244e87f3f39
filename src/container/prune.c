/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Removing the containers that have exited (`container prune`, and what
 * `system prune` does first, as docker's does). */
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
      if (c->status != HUTCH_CONTAINER_EXITED)
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
