/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Garbage collection: which blobs the images in index.json reference, and
 * deleting the rest with the store lock exclusive, so that no writer is
 * between linking a blob and naming it in index.json. Also disk usage. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "store-private.h"

#define MAX_INDEX_NESTING 4

/* Adds what @d needs to @set; FALSE when that cannot be known (a manifest
 * or index that cannot be read), with the reason. */
static gboolean
add_referenced (HutchStore *store, GHashTable *set, const HutchDescriptor *d, guint depth,
                GError **error)
{
  g_autofree char *text = NULL;
  gboolean ok = TRUE;
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
        if (hutch_store_blob_exists (store, ((HutchDescriptor *) idx->manifests->pdata[i])->digest))
          ok &= add_referenced (store, set, idx->manifests->pdata[i], depth + 1,
                                ok ? error : NULL);
      return ok;
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
hutch_store_referenced (HutchStore *store, GPtrArray *entries, char **out_unknown)
{
  g_autoptr (GHashTable) set = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

  *out_unknown = NULL;
  for (guint i = 0; i < entries->len; i++)
    {
      const HutchDescriptor *d = entries->pdata[i];
      g_autoptr (GError) local = NULL;
      if (!add_referenced (store, set, d, 0, &local) && *out_unknown == NULL)
        *out_unknown = g_strdup_printf ("image %s is damaged (%s)",
                                        d->ref_name != NULL ? d->ref_name : d->digest,
                                        local->message);
    }
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
  g_autofree char *unknown = NULL;

  memset (out, 0, sizeof *out);
  if (entries == NULL || !list_blob_files (store, &files, error))
    return FALSE;
  used = hutch_store_referenced (store, entries, &unknown);
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

/* Bytes in blobs/sha256: all blobs, those not in @used (when known), and
 * partial downloads. */
static void
blob_bytes (HutchStore *store, GHashTable *used, gint64 *out_total, gint64 *out_unused,
            gint64 *out_partial)
{
  g_autoptr (GPtrArray) names = NULL;

  *out_total = *out_unused = *out_partial = 0;
  if (!list_blob_files (store, &names, NULL))
    return;
  for (guint i = 0; i < names->len; i++)
    {
      const char *name = names->pdata[i];
      g_autofree char *digest = g_strconcat ("sha256:", name, NULL);
      struct stat st;
      if (fstatat (store->blobs_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG (st.st_mode))
        continue;
      if (g_str_has_prefix (name, HUTCH_STORE_PARTIAL_PREFIX))
        *out_partial += st.st_size;
      else if (hutch_digest_validate (digest, NULL))
        {
          *out_total += st.st_size;
          if (used != NULL && !g_hash_table_contains (used, digest))
            *out_unused += st.st_size;
        }
    }
}

char *
hutch_store_space_describe (HutchStore *store)
{
  g_autoptr (GPtrArray) entries = hutch_store_index_entries (store, NULL);
  g_autoptr (GHashTable) used = NULL, chains = NULL;
  g_autofree char *unknown = NULL, *unknown_chains = NULL;
  g_autofree char *s_blobs = NULL, *s_layers = NULL, *s_free = NULL, *s_size = NULL, *s_frees = NULL;
  g_autoptr (GString) text = g_string_new (NULL);
  gint64 blobs, unused, partial, layers, unused_layers, frees;
  struct statvfs vfs;

  if (entries != NULL)
    {
      used = hutch_store_referenced (store, entries, &unknown);
      chains = hutch_store_chains_in_use (store, entries, &unknown_chains);
    }
  blob_bytes (store, unknown == NULL ? used : NULL, &blobs, &unused, &partial);
  hutch_store_layers_bytes (store, unknown_chains == NULL ? chains : NULL, &layers, &unused_layers);
  s_blobs = hutch_util_format_size ((guint64) (blobs + partial));
  s_layers = hutch_util_format_size ((guint64) layers);
  g_string_append_printf (text, "the store %s holds %s of blobs and %s of unpacked layers",
                          store->root, s_blobs, s_layers);
  frees = unused + partial + unused_layers;
  if (partial > 0)
    {
      g_autofree char *p = hutch_util_format_size ((guint64) partial);
      g_string_append_printf (text, "; %s of that is in downloads that did not finish, kept to "
                                    "resume them", p);
    }
  if (unused + unused_layers > 0)
    {
      g_autofree char *u = hutch_util_format_size ((guint64) (unused + unused_layers));
      g_string_append_printf (text, "; %s is in blobs and layers no image uses", u);
    }
  s_frees = hutch_util_format_size ((guint64) frees);
  if (frees > 0)
    g_string_append_printf (text, ": \"hutch system prune\" frees %s", s_frees);
  else
    g_string_append (text, ", all of it in use: \"hutch rmi\" of an image you do not need "
                           "frees its share");
  if (statvfs (store->root, &vfs) == 0)
    {
      s_free = hutch_util_format_size ((guint64) vfs.f_bavail * vfs.f_frsize);
      s_size = hutch_util_format_size ((guint64) vfs.f_blocks * vfs.f_frsize);
      g_string_append_printf (text, "; its file system has %s free of %s", s_free, s_size);
    }
  return g_string_free (g_steal_pointer (&text), FALSE);
}


void
hutch_store_images_keep (HutchStore *store, GHashTable *ids)
{
  g_clear_pointer (&store->keep, g_hash_table_unref);
  store->keep = ids;
}

/* Whether the image of index entry @d is one that containers use. */
static gboolean
image_kept (HutchStore *store, const HutchDescriptor *d)
{
  g_autofree char *text = NULL;
  g_autoptr (HutchManifest) m = NULL;
  gsize len;

  if (store->keep == NULL || g_hash_table_size (store->keep) == 0
      || !hutch_image_media_is_manifest (d->kind))
    return FALSE;
  text = hutch_store_blob_read (store, d->digest, HUTCH_JSON_MAX_SIZE, &len, NULL);
  m = text != NULL ? hutch_image_manifest_parse (text, len, d->kind, NULL) : NULL;
  return m != NULL && g_hash_table_contains (store->keep, m->config->digest);
}

/* Drops untagged images from index.json, but those containers use. */
static gboolean
drop_dangling (HutchStore *store, GPtrArray *entries, guint *out_images, GError **error)
{
  guint before = entries->len;

  for (guint i = 0; i < entries->len; i++)
    if (((HutchDescriptor *) entries->pdata[i])->ref_name == NULL
        && !image_kept (store, entries->pdata[i]))
      g_ptr_array_remove_index (entries, i--);
  *out_images = before - entries->len;
  if (*out_images == 0)
    return TRUE;
  return hutch_store_index_write (store, entries, error);
}

/* Lock files of blobs and layers, left by writers that were killed (a
 * holder unlinks its own): one we can take is no one's. */
static gboolean
sweep_locks (HutchStore *store, guint *out_removed, GError **error)
{
  g_autoptr (GPtrArray) names = hutch_util_list_dir_at (store->locks_fd, error);

  if (names == NULL)
    return g_prefix_error (error, "%s/locks: ", store->root), FALSE;
  for (guint i = 0; i < names->len; i++)
    {
      const char *name = names->pdata[i];
      gboolean layer = g_str_has_prefix (name, "layer-");
      gboolean busy;
      int fd;
      if (layer ? !hutch_store_layer_name_parse (name + 6, NULL, NULL)
                : strlen (name) != 64 || strspn (name, "0123456789abcdef") != 64)
        continue;
      fd = hutch_store_lock_file_try (store, name, &busy, NULL);
      if (fd < 0)
        continue;
      hutch_store_unlock_file (store, name, &fd);
      (*out_removed)++;
    }
  return TRUE;
}

/* Files in blobs/sha256 that are not blobs: a writer writes an unnamed
 * file or, replacing a damaged blob, a .new- name it renames at once; with
 * no writer running, such a name is a killed one's. A .partial- download
 * stays for the next pull to resume (prune removes it). */
static gboolean
sweep_blob_files (HutchStore *store, guint *out_removed, GError **error)
{
  g_autoptr (GPtrArray) names = NULL;

  if (!list_blob_files (store, &names, error))
    return FALSE;
  for (guint i = 0; i < names->len; i++)
    {
      const char *name = names->pdata[i];
      if (!g_str_has_prefix (name, HUTCH_STORE_NEW_PREFIX))
        continue;
      if (unlinkat (store->blobs_fd, name, 0) < 0 && errno != ENOENT)
        return hutch_throw_errno (error, "removing %s/blobs/sha256/%s", store->root, name);
      (*out_removed)++;
    }
  return TRUE;
}

gboolean
hutch_store_sweep (HutchStore *store, HutchStoreSweep *out, GError **error)
{
  memset (out, 0, sizeof *out);
  if (store->root_fd < 0 || store->locks_fd < 0)
    return TRUE;
  return sweep_locks (store, &out->locks, error) && sweep_blob_files (store, &out->files, error)
         && hutch_store_layers_sweep (store, &out->layers, error);
}

void
hutch_store_pruned_clear (HutchStorePruned *p)
{
  g_clear_pointer (&p->kept, g_free);
}

/* Deletes the blobs in @files that are not in @used, and the other files
 * in blobs/sha256 (partial downloads) unless @blobs_too is FALSE. */
static gboolean
prune_blob_files (HutchStore *store, GPtrArray *files, GHashTable *used, gboolean blobs_too,
                  HutchStorePruned *out, GError **error)
{
  for (guint i = 0; i < files->len; i++)
    {
      const char *name = files->pdata[i];
      g_autofree char *digest = g_strconcat ("sha256:", name, NULL);
      if (hutch_digest_validate (digest, NULL))
        {
          if (!blobs_too || g_hash_table_contains (used, digest))
            continue;
          if (!hutch_store_blob_delete (store, digest, &out->bytes, error))
            return FALSE;
          out->blobs++;
        }
      /* Anything else in blobs/sha256 is no blob of ours; a writer uses
       * unnamed files, and we hold the lock exclusive. */
      else if (unlinkat (store->blobs_fd, name, 0) < 0 && errno != ENOENT)
        return hutch_throw_errno (error, "removing %s/blobs/sha256/%s", store->root, name);
    }
  return TRUE;
}

gboolean
hutch_store_prune (HutchStore *store, HutchStorePruned *out, GError **error)
{
  g_autoptr (GHashTable) chains = NULL;
  g_autoptr (GPtrArray) entries = NULL;
  g_autoptr (GPtrArray) files = NULL;
  g_autoptr (GHashTable) used = NULL;
  g_autofree char *unknown = NULL, *unknown_chains = NULL;
  hutch_autofd int lock = -1;
  HutchStoreSweep swept;

  memset (out, 0, sizeof *out);
  if (store->root_fd < 0)
    return TRUE;
  if (!hutch_store_lock_exclusive (store, error))
    return FALSE;
  lock = hutch_store_index_lock (store, error);
  if (lock < 0 || (entries = hutch_store_index_entries (store, error)) == NULL
      || !hutch_store_sweep (store, &swept, error)
      || !drop_dangling (store, entries, &out->images, error)
      || !list_blob_files (store, &files, error))
    return FALSE;
  /* We never delete what we cannot prove unused: with a manifest that
   * cannot be read, any blob may be one it needs. */
  used = hutch_store_referenced (store, entries, &unknown);
  if (!prune_blob_files (store, files, used, unknown == NULL, out, error))
    return FALSE;
  chains = hutch_store_chains_in_use (store, entries, &unknown_chains);
  if (unknown_chains == NULL
      && !hutch_store_layers_remove (store, chains, NULL, FALSE, &out->layers, error))
    return FALSE;
  out->layers += swept.layers;
  if (unknown != NULL || unknown_chains != NULL)
    out->kept = g_strdup_printf ("kept the %s no image is known to use: %s%s (remove it with "
                                 "\"hutch rmi -f\", or load or pull it again, then prune again)",
                                 unknown != NULL ? "blobs and layers" : "layers",
                                 unknown != NULL ? unknown : "image ",
                                 unknown != NULL ? "" : unknown_chains);
  return TRUE;
}

gboolean
hutch_store_delete_unreferenced (HutchStore *store, GPtrArray *digests, GError **error)
{
  g_autoptr (GPtrArray) entries = NULL;
  g_autoptr (GHashTable) used = NULL;
  g_autofree char *unknown = NULL;

  if (digests->len == 0)
    return TRUE;
  if (!hutch_store_lock_exclusive (store, error)
      || (entries = hutch_store_index_entries (store, error)) == NULL)
    return FALSE;
  used = hutch_store_referenced (store, entries, &unknown);
  if (unknown != NULL)
    return hutch_throw (error, HUTCH_ERROR_INVALID_IMAGE, "%s", unknown);
  for (guint i = 0; i < digests->len; i++)
    if (!g_hash_table_contains (used, digests->pdata[i])
        && !hutch_store_blob_delete (store, digests->pdata[i], NULL, error))
      return FALSE;
  return TRUE;
}
