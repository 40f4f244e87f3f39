/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Blobs: reading them back verified, and writing them crash-safely. A blob
 * is written to an unnamed O_TMPFILE in blobs/sha256 while its sha256 and
 * size are computed, fsynced, and only then linked under its digest; a
 * per-blob lock file makes two writers of one digest write it once. A blob
 * the store has is checked against its digest before a writer skips it, so
 * that good content from a load or pull replaces a damaged copy. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store-private.h"

/* Start writeback every so many bytes, so that the final fsync does not wait
 * for the whole blob (measured in tests/bench/load.sh). */
#define WRITEBACK_CHUNK (8 << 20)

struct HutchBlobWriter
{
  HutchStore *store; /* borrowed */
  int fd;
  int lock_fd;
  char *lock_name;
  char *expected;
  HutchSha256 *sha;
  guint64 size;
  guint64 written_back;
  char digest[HUTCH_DIGEST_BUFSIZE];
  gboolean finished;
  char *partial; /* a resumable download's file name, or NULL for O_TMPFILE */
  gboolean replace; /* the store has the blob (damaged, or not checked): rename over it */
};

gboolean
hutch_store_blob_exists (HutchStore *store, const char *digest)
{
  struct stat st;

  return store->blobs_fd >= 0
         && fstatat (store->blobs_fd, hutch_store_digest_hex (digest), &st, AT_SYMLINK_NOFOLLOW) == 0
         && S_ISREG (st.st_mode);
}

gint64
hutch_store_blob_size (HutchStore *store, const char *digest)
{
  struct stat st;

  if (store->blobs_fd < 0
      || fstatat (store->blobs_fd, hutch_store_digest_hex (digest), &st, AT_SYMLINK_NOFOLLOW) < 0
      || !S_ISREG (st.st_mode))
    return -1;
  return st.st_size;
}

int
hutch_store_blob_open (HutchStore *store, const char *digest, GError **error)
{
  int fd;

  if (store->blobs_fd < 0)
    return hutch_throw (error, HUTCH_ERROR_NOT_FOUND, "blob %s is not in the store", digest), -1;
  fd = openat (store->blobs_fd, hutch_store_digest_hex (digest), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT)
    return hutch_throw (error, HUTCH_ERROR_NOT_FOUND,
                        "blob %s is missing from the store (load or pull the image again)",
                        digest), -1;
  if (fd < 0)
    return hutch_throw_errno (error, "opening blob %s", digest), -1;
  return fd;
}

char *
hutch_store_blob_read (HutchStore *store, const char *digest, gsize max, gsize *out_len,
                       GError **error)
{
  hutch_autofd int fd = hutch_store_blob_open (store, digest, error);
  g_autofree char *data = NULL;
  char actual[HUTCH_DIGEST_BUFSIZE];
  gsize len;

  if (fd < 0)
    return NULL;
  data = hutch_util_read_all (fd, max, &len, error);
  if (data == NULL)
    return g_prefix_error (error, "reading blob %s: ", digest), NULL;
  hutch_sha256_digest_of (data, len, actual);
  if (strcmp (actual, digest) != 0)
    return hutch_throw (error, HUTCH_ERROR_DIGEST_MISMATCH,
                        "blob %s in the store is damaged (its content hashes to %s)", digest,
                        actual), NULL;
  *out_len = len;
  return g_steal_pointer (&data);
}

gboolean
hutch_store_blob_hash (HutchStore *store, const char *digest, char out_actual[HUTCH_DIGEST_BUFSIZE],
                       GError **error)
{
  hutch_autofd int fd = hutch_store_blob_open (store, digest, error);
  g_autoptr (HutchSha256) sha = hutch_sha256_new ();
  g_autofree guint8 *buf = NULL;
  ssize_t n;

  if (fd < 0)
    return FALSE;
  buf = g_malloc (1 << 20);
  while ((n = read (fd, buf, 1 << 20)) != 0)
    {
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return hutch_throw_errno (error, "reading blob %s", digest);
      hutch_sha256_update (sha, buf, (gsize) n);
    }
  hutch_sha256_finish (sha, out_actual);
  return TRUE;
}

gboolean
hutch_store_blob_verify (HutchStore *store, const char *digest, GError **error)
{
  char actual[HUTCH_DIGEST_BUFSIZE];

  if (!hutch_store_blob_hash (store, digest, actual, error))
    return FALSE;
  if (strcmp (actual, digest) != 0)
    return hutch_throw (error, HUTCH_ERROR_DIGEST_MISMATCH,
                        "blob %s in the store is damaged (its content hashes to %s)", digest,
                        actual);
  return TRUE;
}

/* Locks locks/<name>. The holder unlinks the file when done; a waiter that
 * wakes on an unlinked file retries on the new one, so the lock is never
 * held on a name no one else can see, and no lock file outlives its use.
 * Without @wait, -1 with *@out_busy set when another holds it. */
static int
lock_file (HutchStore *store, const char *name, gboolean wait, gboolean *out_busy, GError **error)
{
  *out_busy = FALSE;
  for (;;)
    {
      hutch_autofd int fd = openat (store->locks_fd, name, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC,
                                    0600);
      struct stat st_fd, st_path;

      if (fd < 0)
        return hutch_throw_errno (error, "opening the lock %s/locks/%s", store->root, name), -1;
      while (flock (fd, LOCK_EX | (wait ? 0 : LOCK_NB)) < 0)
        {
          if (errno == EWOULDBLOCK && !wait)
            return *out_busy = TRUE, -1;
          if (errno != EINTR)
            return hutch_throw_errno (error, "locking %s/locks/%s", store->root, name), -1;
        }
      if (fstat (fd, &st_fd) == 0 && fstatat (store->locks_fd, name, &st_path, AT_SYMLINK_NOFOLLOW) == 0
          && st_fd.st_ino == st_path.st_ino && st_fd.st_dev == st_path.st_dev)
        return hutch_fd_steal (&fd);
    }
}

int
hutch_store_lock_file (HutchStore *store, const char *name, GError **error)
{
  gboolean busy;

  return lock_file (store, name, TRUE, &busy, error);
}

int
hutch_store_lock_file_try (HutchStore *store, const char *name, gboolean *out_busy,
                           GError **error)
{
  return lock_file (store, name, FALSE, out_busy, error);
}

void
hutch_store_unlock_file (HutchStore *store, const char *name, int *fdp)
{
  if (*fdp < 0)
    return;
  (void) unlinkat (store->locks_fd, name, 0);
  hutch_fd_clear (fdp);
}

static int
lock_blob (HutchStore *store, const char *digest, GError **error)
{
  return hutch_store_lock_file (store, hutch_store_digest_hex (digest), error);
}

static void
unlock_blob (HutchBlobWriter *w)
{
  if (w->lock_fd < 0)
    return;
  hutch_store_unlock_file (w->store, w->lock_name, &w->lock_fd);
}

void
hutch_store_blob_writer_free (HutchBlobWriter *w)
{
  if (w == NULL)
    return;
  /* An unlinked O_TMPFILE goes away with its fd; a partial download stays
   * for the next pull to resume. */
  hutch_fd_clear (&w->fd);
  unlock_blob (w);
  g_free (w->partial);
  g_free (w->lock_name);
  g_free (w->expected);
  hutch_sha256_free (w->sha);
  g_free (w);
}

/* A writer without its file yet: with @expected_digest, under the blob's
 * lock, and NULL with *@out_present when the store has the blob. */
static HutchBlobWriter *
writer_start (HutchStore *store, const char *expected_digest, gboolean *out_present,
              GError **error)
{
  g_autoptr (HutchBlobWriter) w = g_new0 (HutchBlobWriter, 1);

  *out_present = FALSE;
  w->store = store;
  w->fd = w->lock_fd = -1;
  w->sha = hutch_sha256_new ();
  if (expected_digest != NULL)
    {
      if (!hutch_digest_validate (expected_digest, error))
        return NULL;
      w->expected = g_strdup (expected_digest);
      w->lock_name = g_strdup (hutch_store_digest_hex (expected_digest));
      w->lock_fd = lock_blob (store, expected_digest, error);
      if (w->lock_fd < 0)
        return NULL;
      if (hutch_store_blob_exists (store, expected_digest))
        {
          g_autoptr (GError) local = NULL;
          if (hutch_store_blob_verify (store, expected_digest, &local))
            {
              *out_present = TRUE;
              return NULL;
            }
          /* Damaged (or unreadable): these bytes replace it, atomically. */
          g_debug ("%s: writing it again", local->message);
          w->replace = TRUE;
        }
    }
  return g_steal_pointer (&w);
}

HutchBlobWriter *
hutch_store_blob_writer_new (HutchStore *store, const char *expected_digest, gboolean *out_present,
                             GError **error)
{
  g_autoptr (HutchBlobWriter) w = writer_start (store, expected_digest, out_present, error);

  if (w == NULL)
    return NULL;
  w->fd = openat (store->blobs_fd, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, 0644);
  if (w->fd < 0)
    return hutch_throw_errno (error,
                              "creating a file in %s/blobs/sha256 (the store's file system must "
                              "support O_TMPFILE)", store->root), NULL;
  return g_steal_pointer (&w);
}

HutchBlobWriter *
hutch_store_blob_writer_resume (HutchStore *store, const char *digest, gboolean *out_present,
                                GError **error)
{
  g_autoptr (HutchBlobWriter) w = writer_start (store, digest, out_present, error);
  g_autofree guint8 *buf = NULL;
  struct stat st;
  ssize_t n;

  if (w == NULL)
    return NULL;
  w->partial = g_strconcat (HUTCH_STORE_PARTIAL_PREFIX, hutch_store_digest_hex (digest), NULL);
  w->fd = openat (store->blobs_fd, w->partial, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (w->fd < 0 || fstat (w->fd, &st) < 0)
    return hutch_throw_errno (error, "opening %s/blobs/sha256/%s", store->root, w->partial), NULL;
  if (!S_ISREG (st.st_mode))
    return hutch_throw (error, HUTCH_ERROR_FAILED, "%s/blobs/sha256/%s is not a regular file",
                        store->root, w->partial), NULL;
  /* What an earlier pull left: hashed again, then appended to. */
  buf = g_malloc (1 << 20);
  while ((n = read (w->fd, buf, 1 << 20)) > 0)
    {
      hutch_sha256_update (w->sha, buf, (gsize) n);
      w->size += (guint64) n;
    }
  if (n < 0)
    return hutch_throw_errno (error, "reading %s/blobs/sha256/%s", store->root, w->partial), NULL;
  w->written_back = w->size;
  return g_steal_pointer (&w);
}

int
hutch_store_blob_writer_fd (const HutchBlobWriter *w)
{
  return w->fd;
}

gboolean
hutch_store_blob_writer_write (HutchBlobWriter *w, const void *buf, gsize len, GError **error)
{
  hutch_sha256_update (w->sha, buf, len);
  if (!hutch_util_write_all (w->fd, buf, len, NULL))
    {
      int errsv = errno;
      g_autofree char *done = hutch_util_format_size (w->size);
      return hutch_throw_errno_val (error, errsv, "writing %s to the store %s (%s of it written)",
                                w->expected != NULL ? w->expected : "a blob", w->store->root,
                                done);
    }
  w->size += len;
  if (w->size - w->written_back >= WRITEBACK_CHUNK)
    {
      /* Only a hint: errors surface at the fsync in finish. */
      (void) sync_file_range (w->fd, (off64_t) w->written_back,
                              (off64_t) (w->size - w->written_back), SYNC_FILE_RANGE_WRITE);
      w->written_back = w->size;
    }
  return TRUE;
}

gboolean
hutch_store_blob_writer_finish (HutchBlobWriter *w, gint64 expected_size, GError **error)
{
  hutch_sha256_finish (w->sha, w->digest);
  if (w->partial != NULL
      && ((w->expected != NULL && strcmp (w->digest, w->expected) != 0)
          || (expected_size >= 0 && (guint64) expected_size != w->size)))
    (void) unlinkat (w->store->blobs_fd, w->partial, 0); /* never resumed from */
  if (w->expected != NULL && strcmp (w->digest, w->expected) != 0)
    return hutch_throw (error, HUTCH_ERROR_DIGEST_MISMATCH,
                        "blob %s: its content hashes to %s (the data is corrupt or was "
                        "tampered with)", w->expected, w->digest);
  if (expected_size >= 0 && (guint64) expected_size != w->size)
    return hutch_throw (error, HUTCH_ERROR_DIGEST_MISMATCH,
                        "blob %s: %" G_GUINT64_FORMAT " bytes, but %" G_GINT64_FORMAT
                        " were declared", w->digest, w->size, expected_size);
  if (fsync (w->fd) < 0)
    return hutch_throw_errno (error, "syncing blob %s to %s", w->digest, w->store->root);
  w->finished = TRUE;
  return TRUE;
}

const char *
hutch_store_blob_writer_digest (const HutchBlobWriter *w)
{
  return w->finished ? w->digest : NULL;
}

gint64
hutch_store_blob_writer_size (const HutchBlobWriter *w)
{
  return (gint64) w->size;
}

/* Links the finished unnamed file under @name in blobs/sha256: FALSE
 * without error when the name is taken. */
static gboolean
link_tmpfile (HutchBlobWriter *w, const char *name, GError **error)
{
  g_autofree char *proc = g_strdup_printf ("/proc/self/fd/%d", w->fd);

  /* linkat of an O_TMPFILE by fd needs CAP_DAC_READ_SEARCH with
   * AT_EMPTY_PATH; through /proc/self/fd it needs nothing. */
  if (linkat (AT_FDCWD, proc, w->store->blobs_fd, name, AT_SYMLINK_FOLLOW) == 0)
    return TRUE;
  if (errno == EEXIST)
    return FALSE;
  return hutch_throw_errno (error, "linking blob %s into %s/blobs/sha256", w->digest,
                            w->store->root);
}

/* The finished file takes the place of the store's copy (damaged, or one
 * it need not be checked against) in one rename, so that the digest never
 * names nothing, nor half a blob. */
static gboolean
replace_with_tmpfile (HutchBlobWriter *w, const char *hex, GError **error)
{
  g_autofree char *tmp = g_strdup_printf (HUTCH_STORE_NEW_PREFIX "%s.%d", hex, (int) getpid ());
  g_autoptr (GError) local = NULL;

  (void) unlinkat (w->store->blobs_fd, tmp, 0);
  if (!link_tmpfile (w, tmp, &local))
    {
      if (local == NULL)
        return hutch_throw (error, HUTCH_ERROR_FAILED, "%s/blobs/sha256/%s is in the way",
                            w->store->root, tmp);
      return g_propagate_error (error, g_steal_pointer (&local)), FALSE;
    }
  if (renameat (w->store->blobs_fd, tmp, w->store->blobs_fd, hex) < 0)
    {
      int errsv = errno;
      (void) unlinkat (w->store->blobs_fd, tmp, 0);
      return hutch_throw_errno_val (error, errsv, "replacing blob %s in %s/blobs/sha256",
                                    w->digest, w->store->root);
    }
  return TRUE;
}

gboolean
hutch_store_blob_writer_commit (HutchBlobWriter *w, gboolean *out_created, GError **error)
{
  const char *hex = hutch_store_digest_hex (w->digest);

  g_return_val_if_fail (w->finished, FALSE);
  *out_created = FALSE;
  if (w->partial != NULL)
    {
      /* under the blob's lock, taken by _resume() */
      if (renameat (w->store->blobs_fd, w->partial, w->store->blobs_fd, hex) < 0)
        return hutch_throw_errno (error, "renaming blob %s into place in %s/blobs/sha256",
                                  w->digest, w->store->root);
      g_clear_pointer (&w->partial, g_free);
      *out_created = TRUE;
      hutch_fd_clear (&w->fd);
      unlock_blob (w);
      return TRUE;
    }
  if (w->lock_fd < 0)
    {
      w->lock_name = g_strdup (hex);
      w->lock_fd = lock_blob (w->store, w->digest, error);
      if (w->lock_fd < 0)
        return FALSE;
    }
  if (!w->replace)
    {
      g_autoptr (GError) local = NULL;
      if (link_tmpfile (w, hex, &local))
        *out_created = TRUE;
      else if (local != NULL)
        return g_propagate_error (error, g_steal_pointer (&local)), FALSE;
      /* The store has it (another writer linked it, or it was there
       * before and this writer had no digest to check it by). Ours was
       * checked as it was written: it takes the place of the store's
       * copy, which mends a damaged one at the cost of a rename, where
       * checking that copy would cost reading it through. */
      else
        w->replace = TRUE;
    }
  if (w->replace && !replace_with_tmpfile (w, hex, error))
    return FALSE;
  hutch_fd_clear (&w->fd);
  unlock_blob (w);
  return TRUE;
}

gboolean
hutch_store_blob_put (HutchStore *store, const void *data, gsize len, const char *digest,
                      gboolean *out_created, GError **error)
{
  g_autoptr (HutchBlobWriter) w = NULL;
  gboolean present = FALSE;

  *out_created = FALSE;
  w = hutch_store_blob_writer_new (store, digest, &present, error);
  if (w == NULL)
    return present;
  return hutch_store_blob_writer_write (w, data, len, error)
         && hutch_store_blob_writer_finish (w, (gint64) len, error)
         && hutch_store_blob_writer_commit (w, out_created, error);
}

gboolean
hutch_store_blob_delete (HutchStore *store, const char *digest, gint64 *bytes, GError **error)
{
  gint64 size = hutch_store_blob_size (store, digest);

  if (unlinkat (store->blobs_fd, hutch_store_digest_hex (digest), 0) < 0)
    {
      if (errno == ENOENT)
        return TRUE;
      return hutch_throw_errno (error, "deleting blob %s", digest);
    }
  if (bytes != NULL && size > 0)
    *bytes += size;
  return TRUE;
}
