/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The unpacked-layer cache: layers/<chain id>/diff holds one layer's tree,
 * layers/<chain id>/info what it is and under which id mapping it was made.
 * Layers are unpacked by a child that is root of a user namespace mapped
 * with the user's ids, into layers/.tmp-<chain hex>, checked against their
 * diff_id, given their info (the completeness marker) and renamed into place
 * under a per-layer lock. Removal is the reverse: the directory is first
 * renamed to a tombstone (layers/.rm-*), in one step that no reader can see
 * half done, then deleted inside the same namespace, since its files belong
 * to subordinate ids. Leftovers of killed processes are swept here too.
 * A keep-id container's layers are a second copy, layers/<chain id>-keep-id
 * (see store.h): the same files, owned as that map has them. */
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
  const HutchIdMap *map; /* whose copies: keep-id's, or the default ones */
  HutchLayerOptions options;
  GPtrArray *todo; /* indexes of layers to unpack, as GUINT_TO_POINTER */
  HutchLayerReadFunc read; /* the compressed bytes, or NULL to read the blob */
  gpointer read_data;
} EnsureJob;

/* The name in layers/ of @chain's copy, keep-id's or the default one. */
static char *
copy_name (const char *chain, gboolean keep_id)
{
  return g_strconcat (hutch_store_digest_hex (chain), keep_id ? HUTCH_STORE_KEEP_ID_SUFFIX : "",
                      NULL);
}

char *
hutch_store_layer_name (const char *chain, const HutchIdMap *map)
{
  return copy_name (chain, map->keep_id);
}

char *
hutch_store_layer_diff_path (const char *root, const char *chain, const HutchIdMap *map)
{
  g_autofree char *name = hutch_store_layer_name (chain, map);

  return g_build_filename (root, "layers", name, "diff", NULL);
}

gboolean
hutch_store_layer_name_parse (const char *name, char **out_chain, gboolean *out_keep_id)
{
  gboolean keep_id;

  if (strlen (name) < 64 || strspn (name, "0123456789abcdef") != 64)
    return FALSE;
  keep_id = strcmp (name + 64, HUTCH_STORE_KEEP_ID_SUFFIX) == 0;
  if (name[64] != '\0' && !keep_id)
    return FALSE;
  if (out_chain != NULL)
    *out_chain = g_strdup_printf ("sha256:%.64s", name);
  if (out_keep_id != NULL)
    *out_keep_id = keep_id;
  return TRUE;
}

gboolean
hutch_store_keep_id_own (int dfd, const char *name, const HutchIdMap *map, GError **error)
{
  /* under keep-id the user is container uid @map->uid, the same id outside */
  if (map->keep_id
      && fchownat (dfd, name != NULL ? name : "", map->uid, map->gid,
                   name != NULL ? AT_SYMLINK_NOFOLLOW : AT_EMPTY_PATH) < 0)
    return hutch_throw_errno (error, "giving %s to uid %u", name != NULL ? name : "a directory of "
                              "the store", (unsigned) map->uid);
  return TRUE;
}

/* layers/<name>/info, or NULL when it cannot be read. */
static char *
info_read (HutchStore *store, const char *name)
{
  g_autofree char *path = g_strconcat (name, "/info", NULL);
  hutch_autofd int fd = openat (store->layers_fd, path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  gsize len;

  return fd >= 0 ? hutch_util_read_all (fd, 65536, &len, NULL) : NULL;
}

/* The idmap recorded in an info file (its "idmap" member) when the info
 * is whole and names @chain; NULL otherwise. */
static char *
info_idmap (const char *info, const char *chain)
{
  g_autoptr (HutchJsonNode) root = hutch_json_parse (info, strlen (info), NULL);
  const HutchJsonNode *n = hutch_json_node_member (root, "idmap");
  const HutchJsonNode *c = hutch_json_node_member (root, "chainID");

  if (c == NULL || c->type != HUTCH_JSON_STRING || strcmp (c->string, chain) != 0)
    return NULL;
  return n != NULL && n->type == HUTCH_JSON_STRING ? g_strdup (n->string) : NULL;
}

/* A layer is complete when its info, written last and synced before the
 * directory got its name, is whole and names this chain, and its diff is a
 * directory. Anything else there is half made or half removed, and is
 * never used. */
char *
hutch_store_layer_complete_idmap (HutchStore *store, const char *name, const char *chain)
{
  g_autofree char *info = info_read (store, name);
  g_autofree char *idmap = info != NULL ? info_idmap (info, chain) : NULL;
  g_autofree char *diff = g_strconcat (name, "/diff", NULL);
  struct stat st;

  if (idmap == NULL || fstatat (store->layers_fd, diff, &st, AT_SYMLINK_NOFOLLOW) < 0
      || !S_ISDIR (st.st_mode))
    return NULL;
  return g_steal_pointer (&idmap);
}

static gboolean
layer_complete (HutchStore *store, const char *name, const char *chain)
{
  g_autofree char *idmap = hutch_store_layer_complete_idmap (store, name, chain);

  return idmap != NULL;
}

gboolean
hutch_store_layer_bury_at (int layers_fd, const char *name, char **out_tomb, GError **error)
{
  for (guint tries = 0;; tries++)
    {
      g_autofree char *tomb = g_strdup_printf (HUTCH_STORE_TOMB_PREFIX "%.64s.%08x", name,
                                               g_random_int ());
      if (renameat2 (layers_fd, name, layers_fd, tomb, RENAME_NOREPLACE) == 0)
        {
          if (out_tomb != NULL)
            *out_tomb = g_steal_pointer (&tomb);
          return TRUE;
        }
      if (errno != EEXIST || tries > 16)
        return hutch_throw_errno (error, "moving layer %s out of the way", name);
    }
}

gboolean
hutch_store_layer_info_write (int dfd, const char *diff_id, const char *chain, const char *idmap,
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
  if (fd < 0 || !hutch_util_write_all (fd, text, strlen (text), NULL))
    return hutch_throw_errno (error, "writing the info of layer %s", chain);
  return TRUE;
}

/* In the user namespace, holding the layer's lock: from blob to
 * layers/@name through the temporary directory @tmp. */
static gboolean
unpack_locked (EnsureJob *job, guint i, const char *what, const char *name, const char *tmp,
               GError **error)
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

  if (fstatat (store->layers_fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0)
    {
      g_autofree char *tomb = NULL;
      if (layer_complete (store, name, chain))
        return TRUE; /* another process unpacked it while we waited */
      /* Half made or half removed (by a hutch before tombstones, or by
       * hand): never used, and as root of the namespace we can finish it
       * off here. Its name is free the moment it is renamed. */
      g_debug ("layers/%s is incomplete: removing it", name);
      if (!hutch_store_layer_bury_at (store->layers_fd, name, &tomb, error))
        return FALSE;
      (void) hutch_util_remove_tree_at (store->layers_fd, tomb);
    }
  opts.what = what;
  /* Under the layer's lock, a .tmp- of this layer is a killed unpack's. */
  (void) hutch_util_remove_tree_at (store->layers_fd, tmp);
  if (mkdirat (store->layers_fd, tmp, 0700) < 0
      || (tmp_fd = openat (store->layers_fd, tmp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0
      || !hutch_store_keep_id_own (tmp_fd, NULL, job->map, NULL)
      || mkdirat (tmp_fd, "diff", 0755) < 0
      || (diff_fd = openat (tmp_fd, "diff", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
    {
      hutch_throw_errno (error, "making a directory in %s/layers", store->root);
      (void) hutch_util_remove_tree_at (store->layers_fd, tmp);
      return FALSE;
    }
  hutch_util_profile_mark ("unpack: start");
  if (job->read != NULL)
    ok = hutch_layer_unpack_from (diff_fd, job->read, job->read_data, c, &opts, &stats, error);
  else
    {
      blob_fd = hutch_store_blob_open (store, blob->digest, error);
      ok = blob_fd >= 0 && hutch_layer_unpack_at (diff_fd, blob_fd, c, &opts, &stats, error);
    }
  if (ok && strcmp (stats.diff_id, diff_id) != 0)
    ok = hutch_throw (error, HUTCH_ERROR_DIGEST_MISMATCH,
                      "%s: its content is %s, but the image config says its content is %s: the layer is "
                      "corrupt or was tampered with", what, stats.diff_id, diff_id);
  hutch_util_profile_mark ("unpack: extracted, diff_id checked");
  /* Durable before it has its name: a crash leaves a .tmp- directory, never
   * a layer with empty files. */
  ok = ok && hutch_store_layer_info_write (tmp_fd, diff_id, chain, job->idmap_text, &stats, error)
       && hutch_store_keep_id_own (tmp_fd, "info", job->map, error)
       && (syncfs (tmp_fd) == 0 || hutch_throw_errno (error, "syncing %s", what));
  hutch_util_profile_mark ("unpack: synced (syncfs)");
  ok = ok
       && (renameat (store->layers_fd, tmp, store->layers_fd, name) == 0
           || hutch_throw_errno (error, "renaming layer %s into place", chain));
  if (!ok)
    {
      (void) hutch_util_remove_tree_at (store->layers_fd, tmp);
      return FALSE;
    }
  g_debug ("unpacked %s into layers/%s: %u entries, %" G_GUINT64_FORMAT " bytes", what, name,
           stats.entries, stats.bytes);
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
  g_autofree char *name = hutch_store_layer_name (chain, job->map);
  /* Named by the layer, not the process: the next unpack of the layer,
   * holding its lock, knows a .tmp- of that name is a killed one's. */
  g_autofree char *tmp = g_strconcat (HUTCH_STORE_TMP_PREFIX, name, NULL);
  g_autofree char *lock_name = g_strconcat ("layer-", name, NULL);
  int lock = hutch_store_lock_file (job->store, lock_name, error);
  gboolean ok;

  if (lock < 0)
    return FALSE;
  ok = hutch_store_keep_id_own (lock, NULL, job->map, error)
       && unpack_locked (job, i, what, name, tmp, error);
  hutch_store_unlock_file (job->store, lock_name, &lock);
  return ok;
}

static gboolean
ensure_in_userns (gpointer data, GError **error)
{
  EnsureJob *job = data;

  hutch_util_profile_mark ("unpack: in the user namespace");
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
find_missing (HutchStore *store, GPtrArray *chains, const HutchIdMap *map, const char *idmap_text,
              const char *image, GPtrArray *todo, GError **error)
{
  if (!open_layers_dir (store, error))
    return FALSE;
  for (guint i = 0; i < chains->len; i++)
    {
      g_autofree char *name = hutch_store_layer_name (chains->pdata[i], map);
      g_autofree char *recorded = hutch_store_layer_complete_idmap (store, name, chains->pdata[i]);
      if (recorded == NULL)
        {
          /* not there, or not whole: the unpack finishes off what is there */
          g_ptr_array_add (todo, GUINT_TO_POINTER (i));
          continue;
        }
      if (g_strcmp0 (recorded, idmap_text) != 0)
        return hutch_throw (error, HUTCH_ERROR_HOST_UNSUPPORTED,
                            "image %s, layer %u was unpacked with the id mapping \"%s\", but "
                            "yours is now \"%s\" (/etc/subuid or /etc/subgid changed): its files "
                            "would have the wrong owners. Remove the cached layers with \"hutch "
                            "unshare rm -rf %s/layers\" and load the images again",
                            image, i + 1, recorded, idmap_text,
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
  job->map = map;
}

GPtrArray *
hutch_store_layers_missing (HutchStore *store, const HutchImageConfig *config,
                            const HutchIdMap *map, const char *image, GError **error)
{
  g_autoptr (GPtrArray) chains = hutch_store_chain_ids (config);
  g_autoptr (GPtrArray) todo = g_ptr_array_new ();
  g_autofree char *idmap_text = hutch_sandbox_idmap_describe (map);

  if (!find_missing (store, chains, map, idmap_text, image, todo, error))
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
  EnsureJob job = { store, manifest, config, chains, image, idmap_text, NULL, { 0 }, NULL, read,
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
  EnsureJob job = { store, manifest, config, chains, image, idmap_text, NULL, { 0 }, todo };

  if (!find_missing (store, chains, map, idmap_text, image, todo, error))
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
  hutch_util_profile_mark ("unpack: entering a user namespace");
  return hutch_sandbox_userns_run (map, ensure_in_userns, &job, error);
}

/* The "bytes" an info records (what the layer unpacked to), or 0. */
static gint64
info_bytes (const char *info)
{
  g_autoptr (HutchJsonNode) root = hutch_json_parse (info, strlen (info), NULL);
  const HutchJsonNode *n = hutch_json_node_member (root, "bytes");

  return n != NULL && n->is_int && n->integer > 0 ? n->integer : 0;
}

gint64
hutch_store_layer_tar_size (HutchStore *store, const char *chain, const char *diff_id)
{
  g_autofree char *info = NULL;
  g_autoptr (HutchJsonNode) root = NULL;
  const HutchJsonNode *c, *d;

  g_autofree char *name = copy_name (chain, FALSE);
  g_autofree char *keep_id_name = copy_name (chain, TRUE);

  /* either copy knows: a keep-id container's commit unpacks only its own */
  if (!hutch_store_layers_dir_open (store)
      || ((info = info_read (store, name)) == NULL
          && (info = info_read (store, keep_id_name)) == NULL)
      || (root = hutch_json_parse (info, strlen (info), NULL)) == NULL)
    return -1;
  c = hutch_json_node_member (root, "chainID");
  d = hutch_json_node_member (root, "diffID");
  if (c == NULL || c->type != HUTCH_JSON_STRING || strcmp (c->string, chain) != 0 || d == NULL
      || d->type != HUTCH_JSON_STRING || strcmp (d->string, diff_id) != 0)
    return -1;
  return info_bytes (info) > 0 ? info_bytes (info) : -1;
}

void
hutch_store_layers_bytes (HutchStore *store, GHashTable *in_use, gint64 *out_total,
                          gint64 *out_unused)
{
  g_autoptr (GPtrArray) names = NULL;

  *out_total = *out_unused = 0;
  if (!hutch_store_layers_dir_open (store)
      || (names = hutch_util_list_dir_at (store->layers_fd, NULL)) == NULL)
    return;
  for (guint i = 0; i < names->len; i++)
    {
      g_autofree char *chain = NULL;
      g_autofree char *info = hutch_store_layer_name_parse (names->pdata[i], &chain, NULL)
                                  ? info_read (store, names->pdata[i]) : NULL;
      gint64 bytes = info != NULL ? info_bytes (info) : 0;
      *out_total += bytes;
      if (in_use != NULL && !g_hash_table_contains (in_use, chain))
        *out_unused += bytes;
    }
}

gboolean
hutch_store_layers_dir_open (HutchStore *store)
{
  if (store->layers_fd < 0 && store->root_fd >= 0)
    store->layers_fd = openat (store->root_fd, "layers", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  return store->layers_fd >= 0;
}

/* Deletes the tombstones @tombs (NULL-terminated) in the user namespace. */
static gboolean
remove_tombs (HutchStore *store, GPtrArray *tombs, GError **error)
{
  g_autoptr (HutchIdMap) map = NULL;

  if (tombs->len == 0)
    return TRUE;
  map = hutch_sandbox_idmap_new_for_user (error);
  g_ptr_array_add (tombs, NULL);
  if (map == NULL
      || !hutch_sandbox_userns_remove_at (map, store->layers_fd, (const char *const *) tombs->pdata, error))
    {
      g_ptr_array_set_size (tombs, tombs->len - 1);
      return g_prefix_error (error, "removing layers from %s/layers: ", store->root), FALSE;
    }
  g_ptr_array_set_size (tombs, tombs->len - 1);
  return TRUE;
}

/* Whether process @pid is gone: no such process, or a zombie (whose
 * parent was killed too, and which an init that does not reap, as on some
 * VMs and containers, keeps for ever). */
static gboolean
process_gone (pid_t pid)
{
  g_autofree char *path = NULL;
  g_autofree char *text = NULL;
  const char *paren;

  if (kill (pid, 0) < 0)
    return errno == ESRCH;
  path = g_strdup_printf ("/proc/%d/stat", (int) pid);
  if (!g_file_get_contents (path, &text, NULL, NULL))
    return FALSE;
  paren = strrchr (text, ')');
  return paren != NULL && paren[1] == ' ' && (paren[2] == 'Z' || paren[2] == 'X');
}

/* Whether a leftover .tmp- directory belongs to no live unpack: a new one
 * is named by its layer, whose lock (taken into *@out_lock, for the caller
 * to release after removing it) its unpacker holds; an old one
 * (.tmp-PID-N, from before) by its process, which must be gone. */
static gboolean
tmp_is_stale (HutchStore *store, const char *name, int *out_lock, char **out_lock_name)
{
  const char *rest = name + strlen (HUTCH_STORE_TMP_PREFIX);
  g_autofree char *lock_name = NULL;
  gboolean busy = FALSE;
  char *end = NULL;
  guint64 pid;

  if (hutch_store_layer_name_parse (rest, NULL, NULL))
    {
      lock_name = g_strconcat ("layer-", rest, NULL);
      *out_lock = hutch_store_lock_file_try (store, lock_name, &busy, NULL);
      if (*out_lock < 0)
        return FALSE;
      *out_lock_name = g_steal_pointer (&lock_name);
      return TRUE;
    }
  pid = g_ascii_strtoull (rest, &end, 10);
  /* A live process of that pid may be another one that reused it: then
   * the directory waits for a later sweep, or for prune. */
  return end != rest && *end == '-' && pid > 1 && pid < G_MAXINT && process_gone ((pid_t) pid);
}

gboolean
hutch_store_layers_sweep (HutchStore *store, guint *out_removed, GError **error)
{
  g_autoptr (GPtrArray) listed = NULL;
  g_autoptr (GPtrArray) tombs = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GPtrArray) locks = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GArray) lock_fds = g_array_new (FALSE, FALSE, sizeof (int));
  gboolean ok = TRUE;

  if (out_removed != NULL)
    *out_removed = 0;
  if (!hutch_store_layers_dir_open (store))
    return TRUE;
  listed = hutch_util_list_dir_at (store->layers_fd, error);
  if (listed == NULL)
    return g_prefix_error (error, "%s/layers: ", store->root), FALSE;
  for (guint i = 0; i < listed->len; i++)
    {
      const char *name = listed->pdata[i];
      int lock = -1;
      char *lock_name = NULL;
      if (g_str_has_prefix (name, HUTCH_STORE_TOMB_PREFIX))
        g_ptr_array_add (tombs, g_strdup (name));
      else if (g_str_has_prefix (name, HUTCH_STORE_TMP_PREFIX)
               && tmp_is_stale (store, name, &lock, &lock_name))
        {
          g_ptr_array_add (tombs, g_strdup (name));
          if (lock >= 0)
            {
              g_array_append_val (lock_fds, lock);
              g_ptr_array_add (locks, lock_name);
            }
        }
    }
  if (tombs->len > 0)
    g_debug ("removing %u leftovers of killed processes from %s/layers", tombs->len, store->root);
  ok = remove_tombs (store, tombs, error);
  for (guint i = 0; i < lock_fds->len; i++)
    hutch_store_unlock_file (store, locks->pdata[i], &g_array_index (lock_fds, int, i));
  if (ok && out_removed != NULL)
    *out_removed = tombs->len;
  return ok;
}

gboolean
hutch_store_layers_remove_names (HutchStore *store, GPtrArray *names, GError **error)
{
  g_autoptr (GPtrArray) tombs = g_ptr_array_new_with_free_func (g_free);

  for (guint i = 0; i < names->len; i++)
    {
      g_autofree char *tomb = NULL;
      /* Invisible first, in one step: a kill after this leaves a
       * tombstone, never a layer with its info and half its files. */
      if (!hutch_store_layer_bury_at (store->layers_fd, names->pdata[i], &tomb, error))
        return FALSE;
      g_ptr_array_add (tombs, g_steal_pointer (&tomb));
    }
  if (tombs->len > 0 && fsync (store->layers_fd) < 0)
    return hutch_throw_errno (error, "syncing %s/layers", store->root);
  return remove_tombs (store, tombs, error);
}

gboolean
hutch_store_layers_remove (HutchStore *store, GHashTable *keep, GPtrArray *only,
                           gboolean leftovers, guint *out_removed, GError **error)
{
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GPtrArray) listed = NULL;
  guint swept = 0;

  if (out_removed != NULL)
    *out_removed = 0;
  if (!hutch_store_layers_dir_open (store))
    return TRUE; /* nothing unpacked yet */
  listed = hutch_util_list_dir_at (store->layers_fd, error);
  if (listed == NULL)
    return g_prefix_error (error, "%s/layers: ", store->root), FALSE;
  for (guint n = 0; n < listed->len; n++)
    {
      const char *name = listed->pdata[n];
      g_autofree char *digest = NULL;
      gboolean mine = only == NULL;
      /* a layer's copies, keep-id's too, go together */
      if (!hutch_store_layer_name_parse (name, &digest, NULL))
        continue;
      for (guint i = 0; !mine && i < only->len; i++)
        mine = strcmp (only->pdata[i], digest) == 0;
      if (mine && !g_hash_table_contains (keep, digest))
        g_ptr_array_add (names, g_strdup (name));
    }
  if (!hutch_store_layers_remove_names (store, names, error))
    return FALSE;
  if (leftovers && !hutch_store_layers_sweep (store, &swept, error))
    return FALSE;
  if (out_removed != NULL)
    *out_removed = names->len + swept;
  return TRUE;
}
