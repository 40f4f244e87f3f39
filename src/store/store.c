/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Opening the store: the OCI layout files, the lock directory and the store
 * lock, and index.json read and replaced atomically. Blobs are blob.c; images
 * and names are images.c; garbage collection is gc.c. */
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
  g_free (store);
}

static int
open_dir_at (int dfd, const char *name, gboolean create, GError **error)
{
  int fd;

  if (create && mkdirat (dfd, name, 0700) < 0 && errno != EEXIST)
    return hutch_throw_errno (error, "creating %s", name), -1;
  fd = openat (dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return hutch_throw_errno (error, "opening %s", name), -1;
  return fd;
}

/* Writes @name in @dfd atomically (temporary name, fsync, rename, fsync of
 * the directory) unless @only_if_missing and it exists. */
static gboolean
write_file_atomic_at (int dfd, const char *name, const char *data, gsize len,
                      gboolean only_if_missing, GError **error)
{
  g_autofree char *tmp = g_strdup_printf (".%s.%d.tmp", name, (int) getpid ());
  hutch_autofd int fd = -1;

  if (only_if_missing && faccessat (dfd, name, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
    return TRUE;
  fd = openat (dfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (fd < 0)
    return hutch_throw_errno (error, "creating %s", tmp);
  if (!hutch_util_write_all (fd, data, len, error) || fsync (fd) < 0
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
  if (fsync (dfd) < 0)
    return hutch_throw_errno (error, "syncing the directory of %s", name);
  return TRUE;
}

static gboolean
take_lock (int fd, int how, const char *what, GError **error)
{
  while (flock (fd, how) < 0)
    if (errno != EINTR)
      return hutch_throw_errno (error, "locking %s", what);
  return TRUE;
}

static gboolean
make_layout (HutchStore *store, GError **error)
{
  hutch_autofd int blobs = -1;
  int lock;

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
  if (!take_lock (store->lock_fd, LOCK_SH, "the store", error))
    return FALSE;
  blobs = open_dir_at (store->root_fd, "blobs", TRUE, error);
  if (blobs < 0)
    return FALSE;
  store->blobs_fd = open_dir_at (blobs, "sha256", TRUE, error);
  if (store->blobs_fd < 0)
    return FALSE;
  if (!write_file_atomic_at (store->root_fd, "oci-layout", OCI_LAYOUT_JSON,
                             strlen (OCI_LAYOUT_JSON), TRUE, error))
    return FALSE;
  lock = hutch_store_index_lock (store, error);
  if (lock < 0)
    return FALSE;
  if (!write_file_atomic_at (store->root_fd, "index.json", EMPTY_INDEX_JSON,
                             strlen (EMPTY_INDEX_JSON), TRUE, error))
    {
      close (lock);
      return FALSE;
    }
  close (lock);
  return TRUE;
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
  store->root_fd = open (root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (store->root_fd < 0)
    {
      if (errno == ENOENT)
        return g_steal_pointer (&store); /* no store yet: no images */
      return hutch_throw_errno (error, "opening the image store %s", root), NULL;
    }
  store->blobs_fd = openat (store->root_fd, "blobs/sha256",
                            O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  store->locks_fd = openat (store->root_fd, "locks",
                            O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
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

GPtrArray *
hutch_store_index_entries (HutchStore *store, GError **error)
{
  hutch_autofd int fd = -1;
  g_autofree char *text = NULL;
  g_autoptr (HutchIndex) idx = NULL;
  gsize len;

  if (store->root_fd < 0)
    return g_ptr_array_new_with_free_func ((GDestroyNotify) hutch_descriptor_free);
  fd = openat (store->root_fd, "index.json", O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT)
    return g_ptr_array_new_with_free_func ((GDestroyNotify) hutch_descriptor_free);
  if (fd < 0)
    return hutch_throw_errno (error, "opening %s/index.json", store->root), NULL;
  text = hutch_util_read_all (fd, HUTCH_JSON_MAX_SIZE, &len, error);
  if (text == NULL)
    return g_prefix_error (error, "reading %s/index.json: ", store->root), NULL;
  idx = hutch_image_index_parse (text, len, HUTCH_MEDIA_OCI_INDEX, error);
  if (idx == NULL)
    return g_prefix_error (error, "%s/index.json: ", store->root), NULL;
  return g_ptr_array_ref (idx->manifests);
}

gboolean
hutch_store_index_write (HutchStore *store, GPtrArray *entries, GError **error)
{
  g_autoptr (HutchJsonWriter) w = hutch_json_writer_new (FALSE);
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
  return write_file_atomic_at (store->root_fd, "index.json", text, strlen (text), FALSE, error);
}
