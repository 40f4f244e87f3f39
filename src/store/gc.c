/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Garbage collection: which blobs the images in index.json reference, and
 * deleting the rest with the store lock exclusive, so that no writer is
 * between linking a blob and naming it in index.json. Also disk usage. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store-private.h"

#define MAX_INDEX_NESTING 4

static gboolean
add_referenced (HutchStore *store, GHashTable *set, const HutchDescriptor *d, guint depth,
                GError **error)
{
  g_autofree char *text = NULL;
  gsize len;

  if (g_hash_table_contains (set, d->digest))
    return TRUE;
  g_hash_table_add (set, g_strdup (d->digest));
  if (!hutch_image_media_is_manifest (d->kind) && !hutch_image_media_is_index (d->kind))
    return TRUE;
  if (depth > MAX_INDEX_NESTING)
    return hutch_throw (error, HUTCH_ERROR_INVALID_IMAGE, "index %s is nested too deeply",
                        d->digest);
  text = hutch_store_blob_read (store, d->digest, HUTCH_JSON_MAX_SIZE, &len, error);
  if (text == NULL)
    return FALSE;
  if (hutch_image_media_is_index (d->kind))
    {
      g_autoptr (HutchIndex) idx = hutch_image_index_parse (text, len, d->kind, error);
      if (idx == NULL)
        return g_prefix_error (error, "index %s: ", d->digest), FALSE;
      for (guint i = 0; i < idx->manifests->len; i++)
        if (hutch_store_blob_exists (store, ((HutchDescriptor *) idx->manifests->pdata[i])->digest)
            && !add_referenced (store, set, idx->manifests->pdata[i], depth + 1, error))
          return FALSE;
      return TRUE;
    }
  {
    g_autoptr (HutchManifest) m = hutch_image_manifest_parse (text, len, d->kind, error);
    if (m == NULL)
      return g_prefix_error (error, "manifest %s: ", d->digest), FALSE;
    g_hash_table_add (set, g_strdup (m->config->digest));
    for (guint i = 0; i < m->layers->len; i++)
      g_hash_table_add (set, g_strdup (((HutchDescriptor *) m->layers->pdata[i])->digest));
  }
  return TRUE;
}

GHashTable *
hutch_store_referenced (HutchStore *store, GPtrArray *entries, GError **error)
{
  g_autoptr (GHashTable) set = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

  for (guint i = 0; i < entries->len; i++)
    if (!add_referenced (store, set, entries->pdata[i], 0, error))
      return g_prefix_error (error, "finding the blobs in use: "), NULL;
  return g_steal_pointer (&set);
}

/* Every name in blobs/sha256: digests, and leftovers. */
static gboolean
list_blob_files (HutchStore *store, GPtrArray **out_names, GError **error)
{
  if (store->blobs_fd < 0)
    {
      *out_names = g_ptr_array_new_with_free_func (g_free);
      return TRUE;
    }
  *out_names = hutch_util_list_dir_at (store->blobs_fd, error);
  return *out_names != NULL || (g_prefix_error (error, "%s/blobs/sha256: ", store->root), FALSE);
}

gboolean
hutch_store_usage (HutchStore *store, HutchStoreUsage *out, GError **error)
{
  g_autoptr (GPtrArray) entries = hutch_store_index_entries (store, error);
  g_autoptr (GPtrArray) files = NULL;
  g_autoptr (GHashTable) used = NULL;
  g_autoptr (GHashTable) digests = g_hash_table_new (g_str_hash, g_str_equal);

  memset (out, 0, sizeof *out);
  if (entries == NULL || (used = hutch_store_referenced (store, entries, error)) == NULL
      || !list_blob_files (store, &files, error))
    return FALSE;
  for (guint i = 0; i < entries->len; i++)
    {
      HutchDescriptor *d = entries->pdata[i];
      if (!g_hash_table_contains (digests, d->digest))
        out->images++;
      g_hash_table_add (digests, d->digest);
      if (d->ref_name == NULL)
        out->dangling++;
    }
  for (guint i = 0; i < files->len; i++)
    {
      g_autofree char *digest = g_strconcat ("sha256:", (char *) files->pdata[i], NULL);
      gint64 size = hutch_digest_validate (digest, NULL) ? hutch_store_blob_size (store, digest) : -1;
      if (size < 0)
        continue;
      out->blobs++;
      out->blob_bytes += size;
      if (!g_hash_table_contains (used, digest))
        {
          out->unreferenced++;
          out->unreferenced_bytes += size;
        }
    }
  return TRUE;
}

/* Drops untagged images from index.json. */
static gboolean
drop_dangling (HutchStore *store, GPtrArray *entries, guint *out_images, GError **error)
{
  guint before = entries->len;

  for (guint i = 0; i < entries->len; i++)
    if (((HutchDescriptor *) entries->pdata[i])->ref_name == NULL)
      g_ptr_array_remove_index (entries, i--);
  *out_images = before - entries->len;
  if (*out_images == 0)
    return TRUE;
  return hutch_store_index_write (store, entries, error);
}

/* Lock files of blobs, left by writers that were killed: with the store
 * lock exclusive no writer is running, so any there is stale. */
static gboolean
remove_stale_locks (HutchStore *store, GError **error)
{
  g_autoptr (GPtrArray) names = hutch_util_list_dir_at (store->locks_fd, error);

  if (names == NULL)
    return g_prefix_error (error, "%s/locks: ", store->root), FALSE;
  for (guint i = 0; i < names->len; i++)
    {
      const char *name = names->pdata[i];
      const char *hex = g_str_has_prefix (name, "layer-") ? name + 6 : name;
      if (strlen (hex) == 64 && strspn (hex, "0123456789abcdef") == 64)
        (void) unlinkat (store->locks_fd, name, 0);
    }
  return TRUE;
}

gboolean
hutch_store_prune (HutchStore *store, guint *out_images, guint *out_blobs, gint64 *out_bytes,
                   guint *out_layers, GError **error)
{
  g_autoptr (GHashTable) chains = NULL;
  g_autoptr (GPtrArray) entries = NULL;
  g_autoptr (GPtrArray) files = NULL;
  g_autoptr (GHashTable) used = NULL;
  hutch_autofd int lock = -1;

  *out_images = *out_blobs = *out_layers = 0;
  *out_bytes = 0;
  if (store->root_fd < 0)
    return TRUE;
  if (!hutch_store_lock_exclusive (store, error))
    return FALSE;
  lock = hutch_store_index_lock (store, error);
  if (lock < 0 || (entries = hutch_store_index_entries (store, error)) == NULL
      || !remove_stale_locks (store, error)
      || !drop_dangling (store, entries, out_images, error)
      || (used = hutch_store_referenced (store, entries, error)) == NULL
      || !list_blob_files (store, &files, error))
    return FALSE;
  for (guint i = 0; i < files->len; i++)
    {
      const char *name = files->pdata[i];
      g_autofree char *digest = g_strconcat ("sha256:", name, NULL);
      if (hutch_digest_validate (digest, NULL))
        {
          if (g_hash_table_contains (used, digest))
            continue;
          if (!hutch_store_blob_delete (store, digest, out_bytes, error))
            return FALSE;
          (*out_blobs)++;
        }
      /* Anything else in blobs/sha256 is no blob of ours; a writer uses
       * unnamed files, and we hold the lock exclusive. */
      else if (unlinkat (store->blobs_fd, name, 0) < 0 && errno != ENOENT)
        return hutch_throw_errno (error, "removing %s/blobs/sha256/%s", store->root, name);
    }
  chains = hutch_store_referenced_chains (store, entries, error);
  return chains != NULL && hutch_store_layers_remove (store, chains, NULL, TRUE, out_layers, error);
}

gboolean
hutch_store_delete_unreferenced (HutchStore *store, GPtrArray *digests, GError **error)
{
  g_autoptr (GPtrArray) entries = NULL;
  g_autoptr (GHashTable) used = NULL;

  if (digests->len == 0)
    return TRUE;
  if (!hutch_store_lock_exclusive (store, error)
      || (entries = hutch_store_index_entries (store, error)) == NULL
      || (used = hutch_store_referenced (store, entries, error)) == NULL)
    return FALSE;
  for (guint i = 0; i < digests->len; i++)
    if (!g_hash_table_contains (used, digests->pdata[i])
        && !hutch_store_blob_delete (store, digests->pdata[i], NULL, error))
      return FALSE;
  return TRUE;
}
