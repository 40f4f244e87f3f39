/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The compressing end of every layer hutch writes (commit, import, load of
 * a plain layer, push's recompression): tar bytes in, gzip or zstd out,
 * and the diff_id hashed from the same bytes.
 *
 * gzip: the input is cut into 1 MiB pieces, each compressed by libdeflate
 * as a gzip member of its own, in worker threads, and written in order.
 * A gzip file of several members is one stream to every reader (RFC 1952
 * 2.2; Go's compress/gzip, zlib's gunzip, our stream.c), so the blob is an
 * ordinary tar.gz; what it costs is ~20 bytes and a dictionary reset per
 * MiB, well under 1% on layer contents. podman and skopeo compress with one
 * thread (Go's compress/gzip, level 6); this is how we stay under their
 * time on two cores and more.
 *
 * zstd: libzstd's own workers (ZSTD_c_nbWorkers), one frame.
 *
 * The caller's thread hashes (the diff_id needs the bytes in order) and
 * writes; the workers only compress. They end in _finish() and _free(),
 * so nothing of ours is left running across a fork. */
#include "config.h"

#include <errno.h>
#include <libdeflate.h>
#include <string.h>
#include <zstd.h>

#include "layer.h"

#define PIECE_SIZE ((gsize) 1 << 20)
#define MAX_THREADS 4
/* libdeflate's fastest level, for every layer hutch gzips (load, commit,
 * import, push): on the Debian image 1.07x the bytes of the registry's
 * gzip (level 4: 1.01x) for 0.7x the CPU of level 4. One level for all, so
 * that the same layer compressed by any of them is the same blob: a push
 * that turns a zstd layer back to gzip gives the loaded image's digest. */
#define GZIP_DEFAULT_LEVEL 1
#define ZSTD_DEFAULT_LEVEL 3

typedef struct
{
  guint8 *in;
  gsize in_len;
  guint8 *out;
  gsize out_cap;
  gsize out_len; /* 0 when libdeflate failed (cannot: the bound is right) */
  gboolean done;
} Piece;

struct HutchLayerCompressor
{
  HutchLayerCompression compression;
  int level;
  HutchLayerWriteFunc write;
  gpointer write_data;
  HutchSha256 *sha;
  gboolean failed;
  gboolean finished;

  /* gzip */
  Piece *filling;            /* the piece the caller appends to */
  GQueue pending;            /* submitted pieces, in stream order */
  GPtrArray *free_pieces;    /* done and written, for reuse */
  GAsyncQueue *todo;         /* Piece * for the workers; a sentinel ends one */
  GPtrArray *workers;        /* GThread *; empty when compressing inline */
  GMutex lock;
  GCond piece_done;
  guint max_pending;
  struct libdeflate_compressor *inline_deflate;

  /* zstd */
  ZSTD_CCtx *zcx;
  guint8 *zout;
  gsize zout_cap;
};

/* The address the workers take as "stop". */
static Piece stop_sentinel;

static guint
default_threads (void)
{
  guint n = g_get_num_processors ();

  return CLAMP (n, 1, MAX_THREADS);
}

static Piece *
piece_new (void)
{
  Piece *p = g_new0 (Piece, 1);

  p->in = g_malloc (PIECE_SIZE);
  return p;
}

static void
piece_free (gpointer data)
{
  Piece *p = data;

  if (p == NULL)
    return;
  g_free (p->in);
  g_free (p->out);
  g_free (p);
}

static void
piece_compress (struct libdeflate_compressor *d, Piece *p)
{
  gsize bound = libdeflate_gzip_compress_bound (d, p->in_len);

  if (p->out_cap < bound)
    {
      g_free (p->out);
      p->out = g_malloc (bound);
      p->out_cap = bound;
    }
  p->out_len = libdeflate_gzip_compress (d, p->in, p->in_len, p->out, p->out_cap);
}

static gpointer
worker (gpointer data)
{
  HutchLayerCompressor *c = data;
  struct libdeflate_compressor *d = libdeflate_alloc_compressor (c->level);

  for (;;)
    {
      Piece *p = g_async_queue_pop (c->todo);
      if (p == &stop_sentinel)
        break;
      if (d != NULL)
        piece_compress (d, p);
      else
        p->out_len = 0;
      g_mutex_lock (&c->lock);
      p->done = TRUE;
      g_cond_broadcast (&c->piece_done);
      g_mutex_unlock (&c->lock);
    }
  if (d != NULL)
    libdeflate_free_compressor (d);
  return NULL;
}

static gboolean
emit (HutchLayerCompressor *c, const void *buf, gsize len, GError **error)
{
  if (len == 0)
    return TRUE;
  if (!c->write (c->write_data, buf, len, error))
    {
      c->failed = TRUE;
      return FALSE;
    }
  return TRUE;
}

static gboolean
piece_emit (HutchLayerCompressor *c, Piece *p, GError **error)
{
  if (p->out_len == 0)
    {
      c->failed = TRUE;
      return hutch_throw (error, HUTCH_ERROR_FAILED,
                               "gzip compression failed (libdeflate: out of memory)");
    }
  return emit (c, p->out, p->out_len, error);
}

/* Writes the oldest submitted piece once a worker has done it. */
static gboolean
drain_one (HutchLayerCompressor *c, GError **error)
{
  Piece *p = g_queue_pop_head (&c->pending);
  gboolean ok;

  g_mutex_lock (&c->lock);
  while (!p->done)
    g_cond_wait (&c->piece_done, &c->lock);
  g_mutex_unlock (&c->lock);
  ok = piece_emit (c, p, error);
  p->in_len = 0;
  p->done = FALSE;
  g_ptr_array_add (c->free_pieces, p);
  return ok;
}

static gboolean
submit (HutchLayerCompressor *c, GError **error)
{
  Piece *p = c->filling;

  c->filling = NULL;
  if (c->workers->len == 0)
    {
      gboolean ok;
      if (c->inline_deflate != NULL)
        piece_compress (c->inline_deflate, p);
      else
        p->out_len = 0;
      ok = piece_emit (c, p, error);
      p->in_len = 0;
      c->filling = p;
      return ok;
    }
  g_queue_push_tail (&c->pending, p);
  g_async_queue_push (c->todo, p);
  while (c->pending.length >= c->max_pending)
    if (!drain_one (c, error))
      return FALSE;
  return TRUE;
}

static Piece *
piece_take (HutchLayerCompressor *c)
{
  if (c->free_pieces->len > 0)
    return g_ptr_array_steal_index_fast (c->free_pieces, c->free_pieces->len - 1);
  return piece_new ();
}

HutchLayerCompressor *
hutch_layer_compressor_new (HutchLayerCompression compression, int level, guint threads,
                            HutchLayerWriteFunc write, gpointer write_data)
{
  HutchLayerCompressor *c = g_new0 (HutchLayerCompressor, 1);

  c->compression = compression;
  c->write = write;
  c->write_data = write_data;
  c->sha = hutch_sha256_new ();
  if (threads == 0)
    threads = default_threads ();
  threads = MIN (threads, MAX_THREADS);
  g_mutex_init (&c->lock);
  g_cond_init (&c->piece_done);
  g_queue_init (&c->pending);
  c->free_pieces = g_ptr_array_new_with_free_func (piece_free);
  c->workers = g_ptr_array_new ();

  switch (compression)
    {
    case HUTCH_LAYER_GZIP:
      c->level = level == HUTCH_LAYER_LEVEL_DEFAULT ? GZIP_DEFAULT_LEVEL : CLAMP (level, 1, 9);
      c->filling = piece_new ();
      if (threads <= 1)
        c->inline_deflate = libdeflate_alloc_compressor (c->level);
      else
        {
          c->todo = g_async_queue_new ();
          c->max_pending = threads * 2;
          for (guint i = 0; i < threads; i++)
            g_ptr_array_add (c->workers, g_thread_new ("hutch-gzip", worker, c));
        }
      break;
    case HUTCH_LAYER_ZSTD:
      c->level = level == HUTCH_LAYER_LEVEL_DEFAULT ? ZSTD_DEFAULT_LEVEL : CLAMP (level, 1, 19);
      c->zcx = ZSTD_createCCtx ();
      if (c->zcx != NULL)
        {
          ZSTD_CCtx_setParameter (c->zcx, ZSTD_c_compressionLevel, c->level);
          ZSTD_CCtx_setParameter (c->zcx, ZSTD_c_checksumFlag, 1);
          /* A libzstd built without threads refuses this: one thread, then. */
          if (threads > 1)
            (void) ZSTD_CCtx_setParameter (c->zcx, ZSTD_c_nbWorkers, (int) threads);
        }
      c->zout_cap = ZSTD_CStreamOutSize ();
      c->zout = g_malloc (c->zout_cap);
      break;
    case HUTCH_LAYER_PLAIN:
    default:
      c->compression = HUTCH_LAYER_PLAIN;
      break;
    }
  return c;
}

static gboolean
zstd_run (HutchLayerCompressor *c, const void *buf, gsize len, ZSTD_EndDirective mode,
          GError **error)
{
  ZSTD_inBuffer in = { buf, len, 0 };

  if (c->zcx == NULL)
    {
      c->failed = TRUE;
      return hutch_throw (error, HUTCH_ERROR_FAILED, "zstd compression failed: out of memory");
    }
  for (;;)
    {
      ZSTD_outBuffer out = { c->zout, c->zout_cap, 0 };
      size_t left = ZSTD_compressStream2 (c->zcx, &out, &in, mode);
      if (ZSTD_isError (left))
        {
          c->failed = TRUE;
          return hutch_throw (error, HUTCH_ERROR_FAILED, "zstd compression failed: %s",
                                   ZSTD_getErrorName (left));
        }
      if (!emit (c, c->zout, out.pos, error))
        return FALSE;
      if (mode == ZSTD_e_end ? left == 0 : in.pos == in.size)
        return TRUE;
    }
}

gboolean
hutch_layer_compressor_write (HutchLayerCompressor *c, const void *buf, gsize len, GError **error)
{
  const guint8 *b = buf;

  if (c->failed || c->finished)
    return hutch_throw (error, HUTCH_ERROR_FAILED, "the layer writer failed before");
  hutch_sha256_update (c->sha, buf, len);
  switch (c->compression)
    {
    case HUTCH_LAYER_GZIP:
      while (len > 0)
        {
          gsize n = MIN (len, PIECE_SIZE - c->filling->in_len);
          memcpy (c->filling->in + c->filling->in_len, b, n);
          c->filling->in_len += n;
          b += n;
          len -= n;
          if (c->filling->in_len == PIECE_SIZE)
            {
              if (!submit (c, error))
                return FALSE;
              if (c->filling == NULL)
                c->filling = piece_take (c);
            }
        }
      return TRUE;
    case HUTCH_LAYER_ZSTD:
      return zstd_run (c, buf, len, ZSTD_e_continue, error);
    case HUTCH_LAYER_PLAIN:
    default:
      return emit (c, buf, len, error);
    }
}

gboolean
hutch_layer_compressor_write_func (gpointer data, const void *buf, gsize len, GError **error)
{
  return hutch_layer_compressor_write (data, buf, len, error);
}

static void
workers_stop (HutchLayerCompressor *c)
{
  for (guint i = 0; i < c->workers->len; i++)
    g_async_queue_push (c->todo, &stop_sentinel);
  for (guint i = 0; i < c->workers->len; i++)
    g_thread_join (g_ptr_array_index (c->workers, i));
  g_ptr_array_set_size (c->workers, 0);
}

gboolean
hutch_layer_compressor_finish (HutchLayerCompressor *c, char out_diff_id[HUTCH_DIGEST_BUFSIZE],
                               guint64 *out_bytes, GError **error)
{
  if (c->failed || c->finished)
    return hutch_throw (error, HUTCH_ERROR_FAILED, "the layer writer failed before");
  switch (c->compression)
    {
    case HUTCH_LAYER_GZIP:
      {
        gboolean threaded = c->workers->len > 0;
        /* The last piece, or one empty member: an empty stream is still gzip. */
        if (c->filling->in_len > 0 || (c->pending.length == 0 && hutch_sha256_bytes (c->sha) == 0))
          {
            if (!submit (c, error))
              return FALSE;
          }
        else if (threaded)
          g_ptr_array_add (c->free_pieces, g_steal_pointer (&c->filling));
        while (c->pending.length > 0)
          if (!drain_one (c, error))
            return FALSE;
        if (threaded)
          workers_stop (c);
        break;
      }
    case HUTCH_LAYER_ZSTD:
      if (!zstd_run (c, NULL, 0, ZSTD_e_end, error))
        return FALSE;
      break;
    case HUTCH_LAYER_PLAIN:
    default:
      break;
    }
  c->finished = TRUE;
  if (out_bytes != NULL)
    *out_bytes = hutch_sha256_bytes (c->sha);
  hutch_sha256_finish (c->sha, out_diff_id);
  return TRUE;
}

void
hutch_layer_compressor_free (HutchLayerCompressor *c)
{
  if (c == NULL)
    return;
  if (c->workers->len > 0)
    {
      /* Let the workers finish what they hold before the buffers go. */
      g_mutex_lock (&c->lock);
      for (GList *l = c->pending.head; l != NULL; l = l->next)
        while (!((Piece *) l->data)->done)
          g_cond_wait (&c->piece_done, &c->lock);
      g_mutex_unlock (&c->lock);
      workers_stop (c);
    }
  g_queue_clear_full (&c->pending, piece_free);
  piece_free (c->filling);
  g_ptr_array_unref (c->free_pieces);
  g_ptr_array_unref (c->workers);
  if (c->todo != NULL)
    g_async_queue_unref (c->todo);
  if (c->inline_deflate != NULL)
    libdeflate_free_compressor (c->inline_deflate);
  if (c->zcx != NULL)
    ZSTD_freeCCtx (c->zcx);
  g_free (c->zout);
  hutch_sha256_free (c->sha);
  g_mutex_clear (&c->lock);
  g_cond_clear (&c->piece_done);
  g_free (c);
}
