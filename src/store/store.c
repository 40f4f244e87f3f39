/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Opening the store: the OCI layout files, the lock directory and the store
 * lock (and, when no one else holds it, the sweep of what killed processes
 * left), and index.json read and replaced atomically, with a copy of it to
 * rebuild the names from. Blobs are blob.c; images and names are images.c;
 * garbage collection is gc.c; system check is check.c. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store-private.h"

#define OCI_LAYOUT_JSON "{\"imageLayoutVersion\":\"1.0.0\"}"
#define EMPTY_INDEX_JSON \
  "{\"schemaVersion\":2,\"mediaType\":\"" HUTCH_MEDIA_TYPE_OCI_INDEX "\",\"manifests\":[]}"

const char *
hutch_store_root (const HutchStore *store)
{
  return store->root;
}

void
hutch_store_free (HutchStore *store)
{
  if (store == NULL)
    return;
  hutch_fd_clear (&store->lock_fd); /* closing drops the flock */
  hutch_fd_clear (&store->locks_fd);
  hutch_fd_clear (&store->layers_fd);
  hutch_fd_clear (&store->blobs_fd);
  hutch_fd_clear (&store->root_fd);
  g_free (store->root);
  g_clear_pointer (&store->keep, g_hash_table_unref);
  g_free (store);
}

static int
open_dir_at (int dfd, const char *name, gboolean create, GError **error)
{
  int fd;

  if (create && mkdirat (dfd, name, 0700) < 0 && errno != EEXIST)
    return hutch_throw_errno (error, "creating %s", name), -1;
  fd = openat (dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0 && (errno == ELOOP || errno == ENOTDIR))
    return hutch_throw (error, HUTCH_ERROR_UNSAFE_PATH,
                        "%s in the store is not a directory (a symlink or a file is in its "
                        "place); remove it", name), -1;
  if (fd < 0)
    return hutch_throw_errno (error, "opening %s", name), -1;
  /* the store's root is checked; what is in it must be as private */
  if (!hutch_util_check_private_fd (fd, name, error))
    return close (fd), -1;
  return fd;
}

/* Writes @name in @dfd atomically (temporary name, fsync, rename, fsync of
 * the directory; without @sync, no fsync: a copy that a crash may lose)
 * unless @only_if_missing and it exists. */
static gboolean
write_file_at (int dfd, const char *name, const char *data, gsize len, gboolean only_if_missing,
               gboolean sync, GError **error)
{
  g_autofree char *tmp = g_strdup_printf (".%s.%d.tmp", name, (int) getpid ());
  hutch_autofd int fd = -1;

  if (only_if_missing && faccessat (dfd, name, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
    return TRUE;
  fd = openat (dfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (fd < 0)
    return hutch_throw_errno (error, "creating %s", tmp);
  if (!hutch_util_write_all (fd, data, len, error) || (sync && fsync (fd) < 0)
      || (only_if_missing ? renameat2 (dfd, tmp, dfd, name, RENAME_NOREPLACE)
                          : renameat (dfd, tmp, dfd, name)) < 0)
    {
      int errsv = errno;
      (void) unlinkat (dfd, tmp, 0);
      if (only_if_missing && errsv == EEXIST)
        return TRUE; /* another process made it first */
      if (error != NULL && *error != NULL)
        return FALSE;
      return hutch_throw_errno_val (error, errsv, "writing %s", name);
    }
  if (sync && fsync (dfd) < 0)
    return hutch_throw_errno (error, "syncing the directory of %s", name);
  return TRUE;
}

/* ... with @sync. */
static gboolean
write_file_atomic_at (int dfd, const char *name, const char *data, gsize len,
                      gboolean only_if_missing, GError **error)
{
  return write_file_at (dfd, name, data, len, only_if_missing, TRUE, error);
}

static gboolean
take_lock (int fd, int how, const char *what, GError **error)
{
  while (flock (fd, how) < 0)
    if (errno != EINTR)
      return hutch_throw_errno (error, "locking %s", what);
  return TRUE;
}

/* Whether blobs/sha256 holds any blob: a store whose index.json is missing
 * is new only when it holds none. */
static gboolean
has_blobs (HutchStore *store)
{
  g_autoptr (GPtrArray) names = store->blobs_fd >= 0 ? hutch_util_list_dir_at (store->blobs_fd, NULL)
                                                     : NULL;

  for (guint i = 0; names != NULL && i < names->len; i++)
    {
      const char *name = names->pdata[i];
      if (strlen (name) == 64 && strspn (name, "0123456789abcdef") == 64)
        return TRUE;
    }
  return FALSE;
}

/* The store lock shared, for a writer; but first, when no one else holds
 * it at all, exclusive for a moment to sweep what killed writers left:
 * with no writer running, none of it can be in use. */
static gboolean
lock_shared_after_sweep (HutchStore *store, GError **error)
{
  g_autoptr (GError) local = NULL;
  HutchStoreSweep swept;

  if (flock (store->lock_fd, LOCK_EX | LOCK_NB) < 0)
    {
      if (errno != EWOULDBLOCK && errno != EINTR)
        return hutch_throw_errno (error, "locking the store");
      if (!take_lock (store->lock_fd, LOCK_SH, "the store", error))
        return FALSE;
      /* Layers need no exclusive lock to be swept: a .tmp- directory is
       * stale only when its process is gone (or its layer's lock free),
       * and a tombstone is out of sight already. A killed command's
       * child, dying, may still hold the store lock it inherited while
       * the next command opens the store: without this, what the killed
       * one left would wait for a command that finds the lock free. */
      if (!hutch_store_layers_sweep (store, NULL, &local))
        g_debug ("sweeping %s/layers: %s", store->root, local->message);
      return TRUE;
    }
  if (!hutch_store_sweep (store, &swept, &local))
    g_debug ("sweeping %s: %s", store->root, local->message); /* the next one tries again */
  /* flock converts by dropping the lock first: a process waiting for it
   * exclusive may come in between, which is harmless before we write. */
  return take_lock (store->lock_fd, LOCK_SH, "the store", error);
}

static gboolean
make_layout (HutchStore *store, GError **error)
{
  hutch_autofd int blobs = -1;
  int lock;
  gboolean ok = TRUE;

  if (!hutch_util_ensure_private_dir (store->root, 0700, error))
    return FALSE;
  store->root_fd = open (store->root, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (store->root_fd < 0)
    return hutch_throw_errno (error, "opening the store %s", store->root);
  store->locks_fd = open_dir_at (store->root_fd, "locks", TRUE, error);
  if (store->locks_fd < 0)
    return FALSE;
  store->lock_fd = openat (store->locks_fd, "store", O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC,
                           0600);
  if (store->lock_fd < 0)
    return hutch_throw_errno (error, "opening the store lock in %s/locks", store->root);
  blobs = open_dir_at (store->root_fd, "blobs", TRUE, error);
  if (blobs < 0)
    return FALSE;
  store->blobs_fd = open_dir_at (blobs, "sha256", TRUE, error);
  if (store->blobs_fd < 0)
    return FALSE;
  if (!lock_shared_after_sweep (store, error))
    return FALSE;
  if (!write_file_atomic_at (store->root_fd, "oci-layout", OCI_LAYOUT_JSON,
                             strlen (OCI_LAYOUT_JSON), TRUE, error))
    return FALSE;
  lock = hutch_store_index_lock (store, error);
  if (lock < 0)
    return FALSE;
  /* An empty index only for a new store: one that has blobs but lost its
   * index.json is not empty, and an empty index would make prune delete
   * every blob (hutch system check --repair rebuilds it). */
  if (faccessat (store->root_fd, "index.json", F_OK, AT_SYMLINK_NOFOLLOW) < 0 && errno == ENOENT)
    {
      if (!has_blobs (store))
        ok = write_file_atomic_at (store->root_fd, "index.json", EMPTY_INDEX_JSON,
                                   strlen (EMPTY_INDEX_JSON), TRUE, error);
      else
        {
          /* fails, saying how to fix it: before a load or pull does its
           * work only to fail at naming it */
          GPtrArray *entries = hutch_store_index_entries (store, error);
          ok = entries != NULL;
          g_clear_pointer (&entries, g_ptr_array_unref);
        }
    }
  close (lock);
  return ok;
}

HutchStore *
hutch_store_open (const char *root, gboolean create, GError **error)
{
  g_autoptr (HutchStore) store = g_new0 (HutchStore, 1);

  store->root = g_strdup (root);
  store->root_fd = store->blobs_fd = store->locks_fd = store->lock_fd = store->layers_fd = -1;
  if (create)
    {
      if (!make_layout (store, error))
        return g_prefix_error (error, "opening the image store %s: ", root), NULL;
      return g_steal_pointer (&store);
    }
  store->root_fd = open (root, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (store->root_fd < 0)
    {
      if (errno == ENOENT)
        return g_steal_pointer (&store); /* no store yet: no images */
      if (errno == ELOOP || errno == ENOTDIR)
        return hutch_throw (error, HUTCH_ERROR_UNSAFE_PATH,
                            "the image store %s is not a directory (a symlink or a file is in "
                            "its place); remove it, or choose another one with --root", root), NULL;
      return hutch_throw_errno (error, "opening the image store %s", root), NULL;
    }
  /* read, too, only from a store no one else can have written */
  if (!hutch_util_check_private_fd (store->root_fd, root, error))
    return g_prefix_error (error, "the image store: "), NULL;
  store->blobs_fd = openat (store->root_fd, "blobs/sha256",
                            O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  store->locks_fd = openat (store->root_fd, "locks",
                            O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if ((store->blobs_fd >= 0 && !hutch_util_check_private_fd (store->blobs_fd, "blobs/sha256", error))
      || (store->locks_fd >= 0 && !hutch_util_check_private_fd (store->locks_fd, "locks", error)))
    return g_prefix_error (error, "the image store %s: ", root), NULL;
  return g_steal_pointer (&store);
}

gboolean
hutch_store_lock_exclusive (HutchStore *store, GError **error)
{
  if (store->lock_fd < 0)
    {
      if (store->locks_fd < 0)
        return TRUE; /* no store on disk: nothing to protect */
      store->lock_fd = openat (store->locks_fd, "store",
                               O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
      if (store->lock_fd < 0)
        return hutch_throw_errno (error, "opening the store lock in %s/locks", store->root);
    }
  /* flock converts a shared lock by dropping it first, so two holders that
   * both ask for exclusive cannot deadlock. */
  return take_lock (store->lock_fd, LOCK_EX, "the store", error);
}

int
hutch_store_index_lock (HutchStore *store, GError **error)
{
  hutch_autofd int fd = -1;

  if (store->locks_fd < 0)
    return hutch_throw (error, HUTCH_ERROR_NOT_FOUND, "the image store %s is empty", store->root),
           -1;
  fd = openat (store->locks_fd, "index", O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0)
    return hutch_throw_errno (error, "opening the index lock in %s/locks", store->root), -1;
  if (!take_lock (fd, LOCK_EX, "index.json", error))
    return -1;
  return hutch_fd_steal (&fd);
}

/* index.json's text; NULL with HUTCH_ERROR_NOT_FOUND when it is missing. */
static char *
index_read (HutchStore *store, const char *name, gsize *out_len, GError **error)
{
  hutch_autofd int fd = openat (store->root_fd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  char *text;

  if (fd < 0 && errno == ENOENT)
    return hutch_throw (error, HUTCH_ERROR_NOT_FOUND, "%s/%s is missing", store->root, name), NULL;
  if (fd < 0)
    return hutch_throw_errno (error, "opening %s/%s", store->root, name), NULL;
  text = hutch_util_read_all (fd, HUTCH_JSON_MAX_SIZE, out_len, error);
  if (text == NULL)
    return g_prefix_error (error, "reading %s/%s: ", store->root, name), NULL;
  return text;
}

GPtrArray *
hutch_store_index_read_at (HutchStore *store, const char *name, GError **error)
{
  g_autofree char *text = NULL;
  g_autoptr (HutchIndex) idx = NULL;
  gsize len;

  text = index_read (store, name, &len, error);
  if (text == NULL)
    return NULL;
  idx = hutch_image_index_parse (text, len, HUTCH_MEDIA_OCI_INDEX, error);
  if (idx == NULL)
    return g_prefix_error (error, "%s/%s: ", store->root, name), NULL;
  return g_ptr_array_ref (idx->manifests);
}

GPtrArray *
hutch_store_index_entries (HutchStore *store, GError **error)
{
  g_autoptr (GError) local = NULL;
  GPtrArray *entries;

  if (store->root_fd < 0)
    return g_ptr_array_new_with_free_func ((GDestroyNotify) hutch_descriptor_free);
  entries = hutch_store_index_read_at (store, "index.json", &local);
  if (entries != NULL)
    return entries;
  /* Missing in a store without blobs: one not made yet. */
  if (g_error_matches (local, HUTCH_ERROR, HUTCH_ERROR_NOT_FOUND) && !has_blobs (store))
    return g_ptr_array_new_with_free_func ((GDestroyNotify) hutch_descriptor_free);
  /* Never taken for an empty store: that would hide every image, and make
   * prune delete every blob. */
  g_set_error (error, HUTCH_ERROR, HUTCH_ERROR_FAILED,
               "the store's list of images: %s (\"hutch system check --repair\" rebuilds it "
               "from the blobs, with the names kept in " HUTCH_STORE_INDEX_BACKUP ")",
               local->message);
  return NULL;
}

gboolean
hutch_store_index_write (HutchStore *store, GPtrArray *entries, GError **error)
{
  g_autoptr (HutchJsonWriter) w = hutch_json_writer_new (FALSE);
  g_autoptr (GError) local = NULL;
  g_autofree char *text = NULL;

  hutch_json_begin_object (w);
  hutch_json_key (w, "schemaVersion");
  hutch_json_int (w, 2);
  hutch_json_key (w, "mediaType");
  hutch_json_string (w, HUTCH_MEDIA_TYPE_OCI_INDEX);
  hutch_json_key (w, "manifests");
  hutch_json_begin_array (w);
  for (guint i = 0; i < entries->len; i++)
    {
      const HutchDescriptor *d = entries->pdata[i];
      hutch_json_begin_object (w);
      hutch_json_key (w, "mediaType");
      hutch_json_string (w, d->media_type);
      hutch_json_key (w, "digest");
      hutch_json_string (w, d->digest);
      hutch_json_key (w, "size");
      hutch_json_int (w, d->size);
      if (d->ref_name != NULL)
        {
          hutch_json_key (w, "annotations");
          hutch_json_begin_object (w);
          hutch_json_key (w, "org.opencontainers.image.ref.name");
          hutch_json_string (w, d->ref_name);
          hutch_json_end_object (w);
        }
      hutch_json_end_object (w);
    }
  hutch_json_end_array (w);
  hutch_json_end_object (w);
  text = hutch_json_writer_finish (w);
  /* The blobs the new index names must be on disk before it is. */
  if (fsync (store->blobs_fd) < 0)
    return hutch_throw_errno (error, "syncing %s/blobs/sha256", store->root);
  if (!write_file_atomic_at (store->root_fd, "index.json", text, strlen (text), FALSE, error))
    return FALSE;
  /* A copy, for the names should index.json be lost or damaged: system
   * check --repair rebuilds the index from the blobs, and takes the names
   * from here. Not synced; a crash may leave it a step behind, or empty. */
  if (!write_file_at (store->root_fd, HUTCH_STORE_INDEX_BACKUP, text, strlen (text), FALSE, FALSE,
                      &local))
    g_debug ("%s", local->message);
  return TRUE;
}
