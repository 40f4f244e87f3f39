/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A new layer (commit, import) in one pass: its tar, as the caller's fill
 * function writes it, goes to the compressor (and from there into a new
 * blob) and, through a queue, to an unpack in a thread of its own, into
 * the layer cache. So the tar is read once, never stored uncompressed,
 * and the image that uses the layer runs at once. The unpack is the same
 * as a pull's (layer/unpack.c), so the cached tree is what any later
 * unpack of the blob would give. All of it runs as root of a user
 * namespace: the files belong to the container's ids. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store-private.h"

/* At most this many chunks wait for the unpack: the writer stops there
 * rather than hold the layer in memory. */
#define QUEUE_MAX 64

typedef struct
{
  GMutex lock;
  GCond cond;
  GQueue chunks; /* of GBytes */
  guint64 queued;
  gboolean ended;  /* the writer is done */
  gboolean failed; /* the reader stopped: nothing more is wanted */
  gboolean done;   /* the reader returned (it should have read to the end) */
  GBytes *current; /* the reader's chunk */
  gsize offset;
} Queue;

typedef struct
{
  HutchStore *store;
  const HutchIdMap *map;
  const char *parent_chain;
  HutchLayerCompression compression;
  const char *what;
  HutchStoreLayerFill fill;
  gpointer fill_data;
  HutchStoreNewLayer *out; /* shared with the parent (MAP_SHARED) */
  /* in the child */
  HutchBlobWriter *blob;
  HutchLayerCompressor *compressor;
  Queue queue;
  int diff_fd;
  HutchLayerOptions options;
  HutchLayerStats stats;
  GError *unpack_error;
  gboolean tee_refused; /* a write failed because the unpack had stopped */
} Job;

static gboolean
blob_write (gpointer data, const void *buf, gsize len, GError **error)
{
  return hutch_store_blob_writer_write (data, buf, len, error);
}

/* The tar's bytes: to the compressor, and a copy to the unpack. */
static gboolean
tee_write (gpointer data, const void *buf, gsize len, GError **error)
{
  Job *job = data;
  Queue *q = &job->queue;
  gboolean failed;

  if (!hutch_layer_compressor_write (job->compressor, buf, len, error))
    return FALSE;
  g_mutex_lock (&q->lock);
  while (q->chunks.length >= QUEUE_MAX && !q->done)
    g_cond_wait (&q->cond, &q->lock);
  failed = q->failed;
  /* A reader that returned early cannot hang us: what it did not read
   * shows as a diff_id that is not the compressor's. */
  if (!q->done)
    {
      g_queue_push_tail (&q->chunks, g_bytes_new (buf, len));
      g_cond_broadcast (&q->cond);
    }
  g_mutex_unlock (&q->lock);
  if (failed) /* the unpack's error is the one to tell */
    {
      job->tee_refused = TRUE;
      return hutch_throw (error, HUTCH_ERROR_FAILED, "the unpack stopped");
    }
  return TRUE;
}

static gssize
queue_read (gpointer data, void *buf, gsize len, GError **error)
{
  Queue *q = data;
  gsize n, size;
  const guint8 *bytes;

  (void) error;
  g_mutex_lock (&q->lock);
  while (q->current == NULL)
    {
      if (q->chunks.length > 0)
        {
          q->current = g_queue_pop_head (&q->chunks);
          q->offset = 0;
          g_cond_broadcast (&q->cond);
        }
      else if (q->ended)
        {
          g_mutex_unlock (&q->lock);
          return 0;
        }
      else
        g_cond_wait (&q->cond, &q->lock);
    }
  g_mutex_unlock (&q->lock);
  bytes = g_bytes_get_data (q->current, &size);
  n = MIN (len, size - q->offset);
  memcpy (buf, bytes + q->offset, n);
  q->offset += n;
  if (q->offset == size)
    g_clear_pointer (&q->current, g_bytes_unref);
  return (gssize) n;
}

static gpointer
unpack_thread (gpointer data)
{
  Job *job = data;
  Queue *q = &job->queue;
  gboolean ok = hutch_layer_unpack_from (job->diff_fd, queue_read, q, HUTCH_LAYER_PLAIN,
                                         &job->options, &job->stats, &job->unpack_error);

  g_mutex_lock (&q->lock);
  q->failed = !ok;
  q->done = TRUE;
  g_cond_broadcast (&q->cond);
  g_mutex_unlock (&q->lock);
  return GINT_TO_POINTER (ok);
}

static void
queue_end (Queue *q)
{
  g_mutex_lock (&q->lock);
  q->ended = TRUE;
  g_cond_broadcast (&q->cond);
  g_mutex_unlock (&q->lock);
}

static void
queue_clear (Queue *q)
{
  GBytes *b;

  while ((b = g_queue_pop_head (&q->chunks)) != NULL)
    g_bytes_unref (b);
  g_clear_pointer (&q->current, g_bytes_unref);
  g_mutex_clear (&q->lock);
  g_cond_clear (&q->cond);
}

/* layers/.tmp-PID-N/diff: named by our process, which a sweep tests. */
static char *
make_tmp (Job *job, int *out_tmp_fd, GError **error)
{
  int layers_fd = job->store->layers_fd;
  g_autofree char *tmp = g_strdup_printf (HUTCH_STORE_TMP_PREFIX "%d-%u", (int) getpid (),
                                          g_random_int ());

  if (mkdirat (layers_fd, tmp, 0700) < 0)
    return hutch_throw_errno (error, "making a directory in %s/layers", job->store->root), NULL;
  *out_tmp_fd = openat (layers_fd, tmp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (*out_tmp_fd < 0 || !hutch_store_keep_id_own (*out_tmp_fd, NULL, job->map, NULL)
      || mkdirat (*out_tmp_fd, "diff", 0755) < 0
      || (job->diff_fd = openat (*out_tmp_fd, "diff", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
    {
      hutch_throw_errno (error, "making a directory in %s/layers", job->store->root);
      (void) hutch_util_remove_tree_at (layers_fd, tmp);
      return NULL;
    }
  return g_steal_pointer (&tmp);
}

/* The tar through the compressor and the unpack; the diff_id of both. */
static gboolean
write_layer (Job *job, GError **error)
{
  GThread *thread;
  gboolean filled, finished, unpacked;
  g_autoptr (GError) fill_error = NULL;
  char diff_id[HUTCH_DIGEST_BUFSIZE];

  job->compressor = hutch_layer_compressor_new (job->compression, HUTCH_LAYER_LEVEL_DEFAULT, 0,
                                                blob_write, job->blob);
  thread = g_thread_new ("unpack", unpack_thread, job);
  filled = job->fill (job->fill_data, tee_write, job, &fill_error);
  finished = filled && hutch_layer_compressor_finish (job->compressor, diff_id,
                                                      &job->out->tar_bytes, &fill_error);
  queue_end (&job->queue);
  unpacked = GPOINTER_TO_INT (g_thread_join (thread));
  /* The first failure is the one to tell: a fill that failed ends the
   * unpack's input early, an unpack that failed refuses the fill's writes. */
  if ((!filled || !finished) && !job->tee_refused)
    return g_propagate_error (error, g_steal_pointer (&fill_error)), FALSE;
  if (!unpacked)
    return g_propagate_error (error, g_steal_pointer (&job->unpack_error)), FALSE;
  if (!filled || !finished)
    return g_propagate_error (error, g_steal_pointer (&fill_error)), FALSE;
  if (strcmp (diff_id, job->stats.diff_id) != 0)
    return hutch_throw (error, HUTCH_ERROR_DIGEST_MISMATCH,
                        "%s: the tar written (%s) and the tar unpacked (%s) differ", job->what,
                        diff_id, job->stats.diff_id);
  memcpy (job->out->diff_id, diff_id, sizeof diff_id);
  return TRUE;
}

static void
chain_of (const char *parent, const char *diff_id, char out[HUTCH_DIGEST_BUFSIZE])
{
  g_autofree char *text = NULL;

  if (parent == NULL)
    {
      memcpy (out, diff_id, HUTCH_DIGEST_BUFSIZE);
      return;
    }
  /* OCI image-spec: ChainID(n) = sha256(ChainID(n-1) + " " + DiffID(n)) */
  text = g_strconcat (parent, " ", diff_id, NULL);
  hutch_sha256_digest_of (text, strlen (text), out);
}

/* The unpacked tree into layers/<chain id> (the map's copy), under the
 * layer's lock; when that layer is there already (the same change committed
 * twice), ours goes. */
static gboolean
place_layer (Job *job, const char *tmp, int tmp_fd, GError **error)
{
  HutchStore *store = job->store;
  const char *chain = job->out->chain_id;
  g_autofree char *idmap = hutch_sandbox_idmap_describe (job->map);
  g_autofree char *name = hutch_store_layer_name (chain, job->map);
  g_autofree char *lock_name = g_strconcat ("layer-", name, NULL);
  g_autofree char *present = NULL;
  int lock;
  gboolean ok;

  if (!hutch_store_layer_info_write (tmp_fd, job->out->diff_id, chain, idmap, &job->stats, error)
      || !hutch_store_keep_id_own (tmp_fd, "info", job->map, error) || syncfs (tmp_fd) < 0)
    return g_prefix_error (error, "%s: ", job->what), FALSE;
  lock = hutch_store_lock_file (store, lock_name, error);
  if (lock < 0)
    return FALSE;
  if (!hutch_store_keep_id_own (lock, NULL, job->map, error))
    {
      hutch_store_unlock_file (store, lock_name, &lock);
      return FALSE;
    }
  present = hutch_store_layer_complete_idmap (store, name, chain);
  if (present != NULL)
    {
      (void) hutch_util_remove_tree_at (store->layers_fd, tmp);
      ok = TRUE;
    }
  else
    {
      struct stat st;
      g_autofree char *tomb = NULL;
      /* half made or half removed: never used; out of the way */
      ok = fstatat (store->layers_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0
           || hutch_store_layer_bury_at (store->layers_fd, name, &tomb, error);
      if (tomb != NULL)
        (void) hutch_util_remove_tree_at (store->layers_fd, tomb);
      ok = ok
           && (renameat (store->layers_fd, tmp, store->layers_fd, name) == 0
               || hutch_throw_errno (error, "renaming layer %s into place", chain));
      job->out->layer_created = ok;
    }
  hutch_store_unlock_file (store, lock_name, &lock);
  return ok;
}

static gboolean
create_in_userns (gpointer data, GError **error)
{
  Job *job = data;
  g_autofree char *tmp = NULL;
  hutch_autofd int tmp_fd = -1;
  gboolean present = FALSE, ok;

  job->blob = hutch_store_blob_writer_new (job->store, NULL, &present, error);
  if (job->blob == NULL || (tmp = make_tmp (job, &tmp_fd, error)) == NULL)
    return FALSE;
  ok = write_layer (job, error) && hutch_store_blob_writer_finish (job->blob, -1, error);
  if (ok)
    {
      g_strlcpy (job->out->digest, hutch_store_blob_writer_digest (job->blob), HUTCH_DIGEST_BUFSIZE);
      job->out->size = hutch_store_blob_writer_size (job->blob);
      chain_of (job->parent_chain, job->out->diff_id, job->out->chain_id);
      ok = hutch_store_blob_writer_commit (job->blob, &job->out->blob_created, error)
           && hutch_store_keep_id_own (job->store->blobs_fd, hutch_store_digest_hex (job->out->digest),
                                       job->map, error)
           && place_layer (job, tmp, tmp_fd, error);
    }
  if (!ok)
    (void) hutch_util_remove_tree_at (job->store->layers_fd, tmp);
  g_clear_pointer (&job->compressor, hutch_layer_compressor_free);
  g_clear_pointer (&job->blob, hutch_store_blob_writer_free);
  g_clear_error (&job->unpack_error);
  hutch_fd_clear (&job->diff_fd);
  return ok;
}

gboolean
hutch_store_layer_create (HutchStore *store, const HutchIdMap *map, const char *parent_chain,
                          HutchLayerCompression compression, const char *what,
                          HutchStoreLayerFill fill, gpointer fill_data, HutchStoreNewLayer *out,
                          GError **error)
{
  Job job = { store, map, parent_chain, compression, what, fill, fill_data, NULL };
  /* the child fills it in; a page both of us see */
  HutchStoreNewLayer *shared = mmap (NULL, sizeof *shared, PROT_READ | PROT_WRITE,
                                     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  gboolean ok;

  if (shared == MAP_FAILED)
    return hutch_throw_errno (error, "mapping memory");
  memset (shared, 0, sizeof *shared);
  shared->compression = compression;
  shared->keep_id = map->keep_id;
  job.out = shared;
  job.diff_fd = -1;
  job.options.what = what;
  job.options.max_bytes = HUTCH_LAYER_DEFAULT_MAX_BYTES;
  job.options.max_file_size = HUTCH_LAYER_DEFAULT_MAX_FILE;
  job.options.id_count = hutch_sandbox_idmap_size (map);
  job.options.squash_owners = map->single;
  g_mutex_init (&job.queue.lock);
  g_cond_init (&job.queue.cond);
  ok = hutch_store_layers_dir_open (store)
       || (mkdirat (store->root_fd, "layers", 0700) == 0 && hutch_store_layers_dir_open (store))
       || hutch_throw_errno (error, "making %s/layers", store->root);
  ok = ok && hutch_sandbox_userns_run (map, create_in_userns, &job, error);
  /* what the child allocated is the child's; only the queue's own
   * structures are ours to clear */
  queue_clear (&job.queue);
  if (ok)
    *out = *shared;
  else if (shared->blob_created)
    hutch_store_new_layer_discard (store, shared); /* the blob went in, the layer did not */
  (void) munmap (shared, sizeof *shared);
  return ok;
}

void
hutch_store_new_layer_discard (HutchStore *store, const HutchStoreNewLayer *layer)
{
  g_autoptr (GError) local = NULL;
  g_autoptr (GPtrArray) blobs = g_ptr_array_new ();
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);

  if (layer->blob_created)
    g_ptr_array_add (blobs, (gpointer) layer->digest);
  if (!hutch_store_delete_unreferenced (store, blobs, &local))
    g_debug ("removing blob %s: %s", layer->digest, local->message);
  g_clear_error (&local);
  if (layer->layer_created)
    {
      g_autoptr (GPtrArray) entries = hutch_store_index_entries (store, NULL);
      g_autofree char *unknown = NULL;
      g_autoptr (GHashTable) used = entries != NULL ? hutch_store_chains_in_use (store, entries, &unknown)
                                                    : NULL;
      if (used == NULL || unknown != NULL || g_hash_table_contains (used, layer->chain_id))
        return;
      g_ptr_array_add (names, g_strconcat (hutch_store_digest_hex (layer->chain_id),
                                           layer->keep_id ? HUTCH_STORE_KEEP_ID_SUFFIX : "", NULL));
      if (!hutch_store_layers_remove_names (store, names, &local))
        g_debug ("removing layer %s: %s", layer->chain_id, local->message);
    }
}
