/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The layer stream decoded in a thread of its own: the producer fills
 * buffers from a small pool (decompressing and hashing), the consumer
 * (libarchive's read callback) takes them in order and gives each back when
 * it asks for the next. tar -xzf gets the same overlap from running gzip as
 * a separate process; tests/bench/unpack.sh measures both. */
#include "config.h"

#include <string.h>

#include "layer.h"

#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
/* -Dfuzz=true: fuzz inputs are a few KiB, and 4 MiB mapped and unmapped
 * per input (shadow memory, TLB shootdowns with our second thread) held
 * the fuzzer to ~150 inputs a second. Chunk boundaries come often, too. */
#define CHUNK_SIZE (4 << 10)
#else
#define CHUNK_SIZE (1 << 20)
#endif
#define CHUNKS 4

typedef struct
{
  guint8 *data;
  gssize len; /* > 0 data; 0 end; -1 error */
} Chunk;

struct HutchLayerPipe
{
  HutchLayerStream *stream;
  char *what;
  GThread *thread;
  GAsyncQueue *free_chunks; /* Chunk* with a buffer, ready to fill */
  GAsyncQueue *full_chunks; /* Chunk* in stream order */
  Chunk *current;           /* held by the consumer */
  GError *error;            /* the producer's, read after its -1 chunk */
  gint cancelled;
  gboolean done;            /* the terminal chunk was taken */
  guint64 delivered;        /* bytes handed to the consumer */
};

static gpointer
produce (gpointer data)
{
  HutchLayerPipe *p = data;

  for (;;)
    {
      Chunk *c = g_async_queue_pop (p->free_chunks);
      if (g_atomic_int_get (&p->cancelled))
        c->len = 0;
      else
        c->len = hutch_layer_stream_read_into (p->stream, c->data, CHUNK_SIZE, &p->error);
      g_async_queue_push (p->full_chunks, c);
      if (c->len <= 0)
        return NULL;
    }
}

HutchLayerPipe *
hutch_layer_pipe_new (HutchLayerStream *stream, const char *what)
{
  HutchLayerPipe *p = g_new0 (HutchLayerPipe, 1);

  p->stream = stream;
  p->what = g_strdup (what);
  p->free_chunks = g_async_queue_new ();
  p->full_chunks = g_async_queue_new ();
  for (int i = 0; i < CHUNKS; i++)
    {
      Chunk *c = g_new0 (Chunk, 1);
      c->data = g_malloc (CHUNK_SIZE);
      g_async_queue_push (p->free_chunks, c);
    }
  p->thread = g_thread_new ("hutch-unpack", produce, p);
  return p;
}

static void
chunk_free (gpointer data)
{
  Chunk *c = data;
  g_free (c->data);
  g_free (c);
}

void
hutch_layer_pipe_free (HutchLayerPipe *p)
{
  Chunk *c;

  if (p == NULL)
    return;
  if (p->current != NULL)
    g_async_queue_push (p->free_chunks, g_steal_pointer (&p->current));
  /* Stop the producer: it ends at its next buffer, and there is always one
   * free, as we give back everything it filled until its last. */
  g_atomic_int_set (&p->cancelled, 1);
  while (!p->done)
    {
      c = g_async_queue_pop (p->full_chunks);
      p->done = c->len <= 0;
      g_async_queue_push (p->free_chunks, c);
    }
  if (p->thread != NULL)
    g_thread_join (p->thread);
  while ((c = g_async_queue_try_pop (p->free_chunks)) != NULL)
    chunk_free (c);
  while ((c = g_async_queue_try_pop (p->full_chunks)) != NULL)
    chunk_free (c);
  g_async_queue_unref (p->free_chunks);
  g_async_queue_unref (p->full_chunks);
  g_clear_error (&p->error);
  hutch_layer_stream_free (p->stream);
  g_free (p->what);
  g_free (p);
}

gssize
hutch_layer_pipe_read (HutchLayerPipe *p, const void **out_buf, GError **error)
{
  gssize len;

  if (p->current != NULL)
    g_async_queue_push (p->free_chunks, g_steal_pointer (&p->current));
  if (p->done)
    return 0;
  p->current = g_async_queue_pop (p->full_chunks);
  len = p->current->len;
  if (len <= 0)
    {
      p->done = TRUE;
      g_async_queue_push (p->free_chunks, g_steal_pointer (&p->current));
      if (len < 0)
        {
          /* the producer has returned: its error is ours to take */
          g_propagate_error (error, g_steal_pointer (&p->error));
          return -1;
        }
      return 0;
    }
  p->delivered += (guint64) len;
  *out_buf = p->current->data;
  return len;
}

gboolean
hutch_layer_pipe_finish (HutchLayerPipe *p, guint64 consumed,
                         char out_diff_id[HUTCH_DIGEST_BUFSIZE], guint64 *out_bytes,
                         GError **error)
{
  const void *buf;
  gssize n;

  /* libarchive stops at the end-of-archive blocks; what it was handed
   * beyond them is still in the chunk it holds. */
  if (p->current != NULL)
    {
      guint64 start = p->delivered - (guint64) p->current->len;
      for (guint64 at = MAX (consumed, start); at < p->delivered; at++)
        if (p->current->data[at - start] != 0)
          return hutch_throw (error, HUTCH_ERROR_INVALID_IMAGE,
                              "%s: data after the end of the tar archive", p->what);
    }
  while ((n = hutch_layer_pipe_read (p, &buf, error)) > 0)
    for (gssize i = 0; i < n; i++)
      if (((const guint8 *) buf)[i] != 0)
        return hutch_throw (error, HUTCH_ERROR_INVALID_IMAGE,
                            "%s: data after the end of the tar archive", p->what);
  if (n < 0)
    return FALSE;
  /* The producer has ended (its terminal chunk was taken): the hash is ours. */
  g_thread_join (p->thread);
  p->thread = NULL;
  hutch_layer_stream_digest (p->stream, out_diff_id, out_bytes);
  return TRUE;
}
