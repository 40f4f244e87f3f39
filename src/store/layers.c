/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The unpacked-layer cache: layers/<chain id>/diff holds one layer's tree,
 * layers/<chain id>/info what it is and under which id mapping it was made.
 * Layers are unpacked by a child that is root of a user namespace mapped
 * with the user's ids, into layers/.tmp-*, checked against their diff_id and
 * renamed into place under a per-layer lock; deleting them needs the same
 * namespace, since their files belong to subordinate ids. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "layer/layer.h"
#include "store-private.h"

GPtrArray *
hutch_store_chain_ids (const HutchImageConfig *config)
{
  GPtrArray *chains = g_ptr_array_new_with_free_func (g_free);

  for (guint i = 0; i < config->diff_ids->len; i++)
    {
      const char *diff_id = config->diff_ids->pdata[i];
      char digest[HUTCH_DIGEST_BUFSIZE];
      g_autofree char *text = NULL;

      if (i == 0)
        {
          g_ptr_array_add (chains, g_strdup (diff_id));
          continue;
        }
      /* OCI image-spec: ChainID(n) = sha256(ChainID(n-1) + " " + DiffID(n)) */
      text = g_strconcat ((char *) chains->pdata[i - 1], " ", diff_id, NULL);
      hutch_sha256_digest_of (text, strlen (text), digest);
      g_ptr_array_add (chains, g_strdup (digest));
    }
  return chains;
}

typedef struct
{
  HutchStore *store;
  const HutchManifest *manifest;
  const HutchImageConfig *config;
  GPtrArray *chains;
  const char *image;
  const char *idmap_text;
  HutchLayerOptions options;
  GPtrArray *todo; /* indexes of layers to unpack, as GUINT_TO_POINTER */
  HutchLayerReadFunc read; /* the compressed bytes, or NULL to read the blob */
  gpointer read_data;
} EnsureJob;

static char *
info_read (HutchStore *store, const char *chain, GError **error)
{
  g_autofree char *path = g_strconcat (hutch_store_digest_hex (chain), "/info", NULL);
  hutch_autofd int fd = openat (store->layers_fd, path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  gsize len;

  if (fd < 0)
    return errno == ENOENT ? NULL : (hutch_throw_errno (error, "reading layer %s", chain), NULL);
  return hutch_util_read_all (fd, 65536, &len, error);
}

/* The idmap recorded in an info file: its "idmap" member. */
static char *
info_idmap (const char *info)
{
  g_autoptr (HutchJsonNode) root = hutch_json_parse (info, strlen (info), NULL);
  const HutchJsonNode *n = hutch_json_node_member (root, "idmap");

  return n != NULL && n->type == HUTCH_JSON_STRING ? g_strdup (n->string) : NULL;
}

static gboolean
write_info (int dfd, const char *diff_id, const char *chain, const char *idmap,
            const HutchLayerStats *stats, GError **error)
{
  g_autoptr (HutchJsonWriter) w = hutch_json_writer_new (FALSE);
  g_autofree char *text = NULL;
  hutch_autofd int fd = -1;

  hutch_json_begin_object (w);
  hutch_json_key (w, "diffID");
  hutch_json_string (w, diff_id);
  hutch_json_key (w, "chainID");
  hutch_json_string (w, chain);
  hutch_json_key (w, "idmap");
  hutch_json_string (w, idmap);
  hutch_json_key (w, "bytes");
  hutch_json_int (w, (gint64) stats->bytes);
  hutch_json_key (w, "entries");
  hutch_json_int (w, stats->entries);
  hutch_json_end_object (w);
  text = hutch_json_writer_finish (w);
  fd = openat (dfd, "info", O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (fd < 0 || !hutch_util_write_all (fd, text, strlen (text), error))
    return error != NULL && *error != NULL ? FALSE : hutch_throw_errno (error, "writing layer info");
  return TRUE;
}

/* In the user namespace, holding the layer's lock: from blob to
 * layers/<chain> through the temporary directory @tmp. */
static gboolean
unpack_locked (EnsureJob *job, guint i, const char *what, const char *tmp, GError **error)
{
  HutchStore *store = job->store;
  const HutchDescriptor *blob = job->manifest->layers->pdata[i];
  const char *chain = job->chains->pdata[i];
  const char *diff_id = job->config->diff_ids->pdata[i];
  hutch_autofd int tmp_fd = -1, diff_fd = -1, blob_fd = -1;
  HutchLayerOptions opts = job->options;
  HutchLayerCompression c = blob->kind == HUTCH_MEDIA_LAYER_GZIP   ? HUTCH_LAYER_GZIP
                            : blob->kind == HUTCH_MEDIA_LAYER_ZSTD ? HUTCH_LAYER_ZSTD
                                                                   : HUTCH_LAYER_PLAIN;
  HutchLayerStats stats = { 0 };
  struct stat st;
  gboolean ok;

  if (fstatat (store->layers_fd, hutch_store_digest_hex (chain), &st, AT_SYMLINK_NOFOLLOW) == 0)
    return TRUE; /* another process unpacked it while we waited */
  opts.what = what;
  (void) hutch_util_remove_tree_at (store->layers_fd, tmp);
  if (mkdirat (store->layers_fd, tmp, 0700) < 0
      || (tmp_fd = openat (store->layers_fd, tmp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0
      || mkdirat (tmp_fd, "diff", 0755) < 0
      || (diff_fd = openat (tmp_fd, "diff", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
    {
      hutch_throw_errno (error, "making a directory in %s/layers", store->root);
      (void) hutch_util_remove_tree_at (store->layers_fd, tmp);
      return FALSE;
    }
  if (job->read != NULL)
    ok = hutch_layer_unpack_from (diff_fd, job->read, job->read_data, c, &opts, &stats, error);
  else
    {
      blob_fd = hutch_store_blob_open (store, blob->digest, error);
      ok = blob_fd >= 0 && hutch_layer_unpack_at (diff_fd, blob_fd, c, &opts, &stats, error);
    }
  if (ok && strcmp (stats.diff_id, diff_id) != 0)
    ok = hutch_throw (error, HUTCH_ERROR_DIGEST_MISMATCH,
                      "%s: its content is %s, but the image config says %s: the layer is "
                      "corrupt or was tampered with", what, stats.diff_id, diff_id);
  /* Durable before it has its name: a crash leaves a .tmp- directory, never
   * a layer with empty files. */
  ok = ok && write_info (tmp_fd, diff_id, chain, job->idmap_text, &stats, error)
       && (syncfs (tmp_fd) == 0 || hutch_throw_errno (error, "syncing %s", what))
       && (renameat (store->layers_fd, tmp, store->layers_fd, hutch_store_digest_hex (chain)) == 0
           || hutch_throw_errno (error, "renaming layer %s into place", chain));
  if (!ok)
    {
      (void) hutch_util_remove_tree_at (store->layers_fd, tmp);
      return FALSE;
    }
  g_debug ("unpacked %s into layers/%s: %u entries, %" G_GUINT64_FORMAT " bytes", what,
           hutch_store_digest_hex (chain), stats.entries, stats.bytes);
  if (stats.devices_skipped > 0)
    g_warning ("%s: skipped %u device node%s (they cannot be made without privileges)", what,
               stats.devices_skipped, stats.devices_skipped == 1 ? "" : "s");
  return TRUE;
}

/* In the user namespace: one layer, under its lock. */
static gboolean
unpack_one (EnsureJob *job, guint i, GError **error)
{
  const HutchDescriptor *blob = job->manifest->layers->pdata[i];
  const char *chain = job->chains->pdata[i];
  g_autofree char *what = g_strdup_printf ("image %s, layer %u (%s)", job->image, i + 1, blob->digest);
  g_autofree char *tmp = g_strdup_printf (".tmp-%d-%u", (int) getpid (), i);
  g_autofree char *lock_name = g_strconcat ("layer-", hutch_store_digest_hex (chain), NULL);
  int lock = hutch_store_lock_file (job->store, lock_name, error);
  gboolean ok;

  if (lock < 0)
    return FALSE;
  ok = unpack_locked (job, i, what, tmp, error);
  hutch_store_unlock_file (job->store, lock_name, &lock);
  return ok;
}

static gboolean
ensure_in_userns (gpointer data, GError **error)
{
  EnsureJob *job = data;

  for (guint j = 0; j < job->todo->len; j++)
    if (!unpack_one (job, GPOINTER_TO_UINT (job->todo->pdata[j]), error))
      return FALSE;
  return TRUE;
}

static gboolean
open_layers_dir (HutchStore *store, GError **error)
{
  if (store->layers_fd >= 0)
    return TRUE;
  if (mkdirat (store->root_fd, "layers", 0700) < 0 && errno != EEXIST)
    return hutch_throw_errno (error, "making %s/layers", store->root);
  store->layers_fd = openat (store->root_fd, "layers", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (store->layers_fd < 0)
    return hutch_throw_errno (error, "opening %s/layers", store->root);
  return TRUE;
}

/* Which layers of the image are not unpacked yet; a layer unpacked under
 * another mapping is an error. */
static gboolean
find_missing (HutchStore *store, GPtrArray *chains, const char *idmap_text, const char *image,
              GPtrArray *todo, GError **error)
{
  if (!open_layers_dir (store, error))
    return FALSE;
  for (guint i = 0; i < chains->len; i++)
    {
      g_autoptr (GError) local = NULL;
      g_autofree char *info = info_read (store, chains->pdata[i], &local);
      g_autofree char *recorded = NULL;
      if (local != NULL)
        {
          g_propagate_error (error, g_steal_pointer (&local));
          return FALSE;
        }
      if (info == NULL)
        {
          g_ptr_array_add (todo, GUINT_TO_POINTER (i));
          continue;
        }
      recorded = info_idmap (info);
      if (g_strcmp0 (recorded, idmap_text) != 0)
        return hutch_throw (error, HUTCH_ERROR_HOST_UNSUPPORTED,
                            "image %s, layer %u was unpacked with the id mapping \"%s\", but "
                            "yours is now \"%s\" (/etc/subuid or /etc/subgid changed): its files "
                            "would have the wrong owners. Remove the cached layers with \"hutch "
                            "unshare rm -rf %s/layers\" and load the images again",
                            image, i + 1, recorded != NULL ? recorded : "unknown", idmap_text,
                            store->root);
    }
  return TRUE;
}

static void
job_options (EnsureJob *job, const HutchIdMap *map, guint64 max_bytes)
{
  job->options.max_bytes = max_bytes;
  job->options.max_file_size = HUTCH_LAYER_DEFAULT_MAX_FILE;
  job->options.id_count = hutch_sandbox_idmap_size (map);
  job->options.squash_owners = map->single;
}

GPtrArray *
hutch_store_layers_missing (HutchStore *store, const HutchImageConfig *config,
                            const HutchIdMap *map, const char *image, GError **error)
{
  g_autoptr (GPtrArray) chains = hutch_store_chain_ids (config);
  g_autoptr (GPtrArray) todo = g_ptr_array_new ();
  g_autofree char *idmap_text = hutch_sandbox_idmap_describe (map);

  if (!find_missing (store, chains, idmap_text, image, todo, error))
    return NULL;
  return g_steal_pointer (&todo);
}

gboolean
hutch_store_layer_unpack_from (HutchStore *store, const HutchManifest *manifest,
                               const HutchImageConfig *config, guint index, const HutchIdMap *map,
                               const char *image, guint64 max_bytes, HutchLayerReadFunc read,
                               gpointer read_data, GError **error)
{
  g_autoptr (GPtrArray) chains = hutch_store_chain_ids (config);
  g_autofree char *idmap_text = hutch_sandbox_idmap_describe (map);
  EnsureJob job = { store, manifest, config, chains, image, idmap_text, { 0 }, NULL, read,
                    read_data };

  if (!open_layers_dir (store, error))
    return FALSE;
  job_options (&job, map, max_bytes);
  return unpack_one (&job, index, error);
}

gboolean
hutch_store_layers_ensure (HutchStore *store, const HutchManifest *manifest,
                           const HutchImageConfig *config, const HutchIdMap *map,
                           const char *image, guint64 max_bytes, GPtrArray *out_created,
                           GError **error)
{
  g_autoptr (GPtrArray) chains = hutch_store_chain_ids (config);
  g_autoptr (GPtrArray) todo = g_ptr_array_new ();
  g_autofree char *idmap_text = hutch_sandbox_idmap_describe (map);
  EnsureJob job = { store, manifest, config, chains, image, idmap_text, { 0 }, todo };

  if (!find_missing (store, chains, idmap_text, image, todo, error))
    return FALSE;
  if (todo->len == 0)
    return TRUE;
  job_options (&job, map, max_bytes);
  /* Reported before the work: when a later layer fails, the earlier ones
   * this call made must go too. The caller deletes only those no image uses,
   * with the store lock exclusive, so a layer another load made in the
   * meantime is safe. */
  for (guint j = 0; out_created != NULL && j < todo->len; j++)
    g_ptr_array_add (out_created, g_strdup (chains->pdata[GPOINTER_TO_UINT (todo->pdata[j])]));
  return hutch_sandbox_userns_run (map, ensure_in_userns, &job, error);
}

gboolean
hutch_store_layers_remove (HutchStore *store, GHashTable *keep, GPtrArray *only,
                           gboolean leftovers, guint *out_removed, GError **error)
{
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GPtrArray) listed = NULL;
  g_autoptr (HutchIdMap) map = NULL;

  if (out_removed != NULL)
    *out_removed = 0;
  if (store->root_fd < 0)
    return TRUE;
  if (store->layers_fd < 0)
    store->layers_fd = openat (store->root_fd, "layers", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (store->layers_fd < 0)
    return TRUE; /* nothing unpacked yet */
  listed = hutch_util_list_dir_at (store->layers_fd, error);
  if (listed == NULL)
    return g_prefix_error (error, "%s/layers: ", store->root), FALSE;
  for (guint n = 0; n < listed->len; n++)
    {
      const char *name = listed->pdata[n];
      g_autofree char *digest = g_strconcat ("sha256:", name, NULL);
      gboolean mine = only == NULL;
      for (guint i = 0; !mine && i < only->len; i++)
        mine = strcmp (only->pdata[i], digest) == 0;
      if (hutch_digest_validate (digest, NULL) ? mine && !g_hash_table_contains (keep, digest)
                                               : leftovers && g_str_has_prefix (name, ".tmp-"))
        g_ptr_array_add (names, g_strdup (name));
    }
  if (names->len == 0)
    return TRUE;
  map = hutch_sandbox_idmap_new_for_user (error);
  g_ptr_array_add (names, NULL);
  if (map == NULL
      || !hutch_sandbox_userns_remove_at (map, store->layers_fd, (const char *const *) names->pdata, error))
    return g_prefix_error (error, "removing unused layers from %s/layers: ", store->root), FALSE;
  names->len--; /* the NULL does not count */
  if (out_removed != NULL)
    *out_removed = names->len;
  return TRUE;
}
