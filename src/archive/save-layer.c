/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A compressed layer of the store, decompressed into a docker-archive as
 * it is written. The store's gzip layers from load, commit and import are
 * our compressor's: independent members of 1 MiB each, which libdeflate
 * decodes whole, two to three times as fast as zlib streams them; a member
 * larger than that (a pulled layer is usually one member) and zstd go
 * through layer/'s streaming decoder. Either way the bytes are hashed here
 * and must give the layer's diff id and length. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <libdeflate.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "archive-private.h"

#define BLOCK (1 << 20)
#define MEMBER_CAP (4 << 20) /* our members are 1 MiB; room for others' */

typedef struct
{
  const guint8 *map;
  gsize len;
  gsize pos;
  HutchLayerCompression compression;
  int out_fd; /* the pipe's write end, or -1 to only count and hash */
  HutchSha256 *sha;
  const char *what;
  GError *error;
} Feed;

static gboolean
emit (Feed *f, const void *buf, gsize len, GError **error)
{
  hutch_sha256_update (f->sha, buf, len);
  return f->out_fd < 0 || hutch_util_write_all (f->out_fd, buf, len, error);
}

static gssize
map_read (gpointer data, void *buf, gsize len, GError **error)
{
  Feed *f = data;
  gsize n = MIN (len, f->len - f->pos);

  memcpy (buf, f->map + f->pos, n);
  f->pos += n;
  return (gssize) n;
}

/* From f->pos to the end, through layer/'s streaming decoder. */
static gboolean
feed_stream (Feed *f, GError **error)
{
  g_autoptr (HutchLayerStream) stream = NULL;
  g_autofree guint8 *buf = g_malloc (BLOCK);
  gssize n;

  stream = hutch_layer_stream_new_from (map_read, f, f->compression, G_MAXUINT64, f->what, error);
  if (stream == NULL)
    return FALSE;
  while ((n = hutch_layer_stream_read_into (stream, buf, BLOCK, error)) > 0)
    if (!emit (f, buf, (gsize) n, error))
      return FALSE;
  return n == 0;
}

/* Whole gzip members with libdeflate while they fit MEMBER_CAP; from the
 * first that does not (or is not gzip), the streaming decoder, which also
 * words any error. */
static gboolean
feed_members (Feed *f, GError **error)
{
  struct libdeflate_decompressor *d = libdeflate_alloc_decompressor ();
  g_autofree guint8 *out = g_malloc (MEMBER_CAP);
  gboolean ok = TRUE;

  while (ok && f->pos < f->len)
    {
      size_t in_used = 0, out_len = 0;
      if (d == NULL || libdeflate_gzip_decompress_ex (d, f->map + f->pos, f->len - f->pos, out,
                                                      MEMBER_CAP, &in_used, &out_len)
                           != LIBDEFLATE_SUCCESS)
        break;
      f->pos += in_used;
      ok = emit (f, out, out_len, error);
    }
  if (d != NULL)
    libdeflate_free_decompressor (d);
  return ok && (f->pos == f->len || feed_stream (f, error));
}

static gpointer
feed_thread (gpointer data)
{
  Feed *f = data;
  sigset_t pipe_only;

  /* When the reader stops early, write fails with EPIPE instead of the
   * signal ending the process. */
  sigemptyset (&pipe_only);
  sigaddset (&pipe_only, SIGPIPE);
  pthread_sigmask (SIG_BLOCK, &pipe_only, NULL);
  if (f->compression == HUTCH_LAYER_GZIP)
    (void) feed_members (f, &f->error);
  else
    (void) feed_stream (f, &f->error);
  hutch_fd_clear (&f->out_fd);
  return NULL;
}

/* Maps blob @digest for @f. */
static gboolean
map_blob (HutchStore *store, const char *digest, Feed *f, GError **error)
{
  hutch_autofd int fd = hutch_store_blob_open (store, digest, error);
  struct stat st;
  void *map;

  if (fd < 0)
    return FALSE;
  if (fstat (fd, &st) < 0)
    return hutch_throw_errno (error, "reading blob %s", digest);
  f->len = (gsize) st.st_size;
  f->map = NULL;
  if (f->len == 0)
    return TRUE;
  map = mmap (NULL, f->len, PROT_READ, MAP_PRIVATE, fd, 0);
  if (map == MAP_FAILED)
    return hutch_throw_errno (error, "reading blob %s", digest);
  (void) madvise (map, f->len, MADV_SEQUENTIAL);
  f->map = map;
  return TRUE;
}

static void
feed_clear (Feed *f)
{
  if (f->map != NULL)
    munmap ((void *) f->map, f->len);
  f->map = NULL;
  g_clear_pointer (&f->sha, hutch_sha256_free);
  g_clear_error (&f->error);
  hutch_fd_clear (&f->out_fd);
}

/* The uncompressed length of a layer whose info does not record it (not
 * unpacked): one pass through the decoder, checked against @diff_id. */
static gint64
count_layer (HutchStore *store, const char *digest, HutchLayerCompression c,
             const char *diff_id, const char *what, GError **error)
{
  Feed f = { .compression = c, .out_fd = -1, .what = what };
  char got[HUTCH_DIGEST_BUFSIZE];
  gint64 bytes = -1;

  f.sha = hutch_sha256_new ();
  if (map_blob (store, digest, &f, error)
      && (c == HUTCH_LAYER_GZIP ? feed_members (&f, error) : feed_stream (&f, error)))
    {
      bytes = (gint64) hutch_sha256_bytes (f.sha);
      hutch_sha256_finish (f.sha, got);
      if (strcmp (got, diff_id) != 0)
        {
          hutch_throw (error, HUTCH_ERROR_DIGEST_MISMATCH,
                       "%s decompresses to %s, but the image says %s: the blob is damaged "
                       "(hutch system check)", what, got, diff_id);
          bytes = -1;
        }
    }
  feed_clear (&f);
  return bytes;
}

gboolean
hutch_archive_save_layer (HutchTarWriter *tar, HutchStore *store, const char *name,
                          const char *digest, HutchLayerCompression c, const char *diff_id,
                          const char *chain, GError **error)
{
  g_autofree char *what = g_strdup_printf ("layer %s", digest);
  gint64 size = hutch_store_layer_tar_size (store, chain, diff_id);
  Feed f = { .compression = c, .out_fd = -1, .what = what };
  hutch_autofd int rd = -1;
  int pipefd[2];
  GThread *thread;
  char got[HUTCH_DIGEST_BUFSIZE];
  guint64 bytes;
  gboolean ok;

  if (size < 0 && (size = count_layer (store, digest, c, diff_id, what, error)) < 0)
    return FALSE;
  f.sha = hutch_sha256_new ();
  if (!map_blob (store, digest, &f, error))
    return feed_clear (&f), FALSE;
  if (pipe2 (pipefd, O_CLOEXEC) < 0)
    return feed_clear (&f), hutch_throw_errno (error, "decompressing %s", what);
  rd = pipefd[0];
  f.out_fd = pipefd[1];
  (void) fcntl (rd, F_SETPIPE_SZ, BLOCK); /* fewer, larger writes; a smaller pipe works too */
  /* The decoder runs in a thread of its own and hands its bytes over a
   * pipe, which the tar writer reads as any file: on two cores decoding
   * runs beside the writing. (A read-callback entry in the tar writer would
   * save the pipe's copy, not the thread.) */
  thread = g_thread_new ("hutch-save-layer", feed_thread, &f);
  ok = hutch_tar_writer_add_fd (tar, name, rd, (guint64) size, 0, error);
  hutch_fd_clear (&rd); /* a feeder still writing gets EPIPE */
  g_thread_join (thread);
  if (ok && f.error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&f.error));
      ok = FALSE;
    }
  if (ok)
    {
      bytes = hutch_sha256_bytes (f.sha);
      hutch_sha256_finish (f.sha, got);
      if (bytes != (guint64) size || strcmp (got, diff_id) != 0)
        ok = hutch_throw (error, HUTCH_ERROR_DIGEST_MISMATCH,
                          "%s decompresses to %s (%" G_GUINT64_FORMAT " bytes), but the image "
                          "says %s (%" G_GINT64_FORMAT " bytes): the blob is damaged (hutch "
                          "system check)", what, got, bytes, diff_id, size);
    }
  feed_clear (&f);
  return ok;
}
