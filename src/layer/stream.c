/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A layer's uncompressed stream: our own gzip (zlib) and zstd decoding, so
 * that every byte libarchive parses is also hashed into the diff_id, counted
 * against the quota, and so that a truncated stream or trailing garbage is an
 * error rather than a silently shorter layer. */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include "layer.h"

#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
#define IN_SIZE (4 << 10) /* as pipe.c's chunks: fuzz inputs are small */
#else
#define IN_SIZE (256 << 10)
#endif

struct HutchLayerStream
{
  HutchLayerReadFunc read;
  gpointer read_data;
  int fd;
  HutchLayerCompression compression;
  guint64 max_bytes;
  char *what;
  guint8 *in;
  gsize in_len, in_pos;
  gboolean in_eof;
  z_stream z;
  gboolean z_ready;
  ZSTD_DCtx *zstd;
  gboolean ended;
  HutchSha256 *sha;
  guint64 total;
};

HutchLayerCompression
hutch_layer_sniff (const guint8 *magic, gsize len)
{
  if (len >= 2 && magic[0] == 0x1f && magic[1] == 0x8b)
    return HUTCH_LAYER_GZIP;
  if (len >= 4 && magic[0] == 0x28 && magic[1] == 0xb5 && magic[2] == 0x2f && magic[3] == 0xfd)
    return HUTCH_LAYER_ZSTD;
  return HUTCH_LAYER_PLAIN;
}

const char *
hutch_layer_compression_name (HutchLayerCompression c)
{
  return c == HUTCH_LAYER_GZIP ? "gzip" : c == HUTCH_LAYER_ZSTD ? "zstd" : "uncompressed tar";
}

void
hutch_layer_stream_free (HutchLayerStream *s)
{
  if (s == NULL)
    return;
  if (s->z_ready)
    inflateEnd (&s->z);
  ZSTD_freeDCtx (s->zstd);
  g_free (s->in);
  g_free (s->what);
  hutch_sha256_free (s->sha);
  g_free (s);
}

static gssize
read_fd (gpointer data, void *buf, gsize len, GError **error)
{
  HutchLayerStream *s = data;
  ssize_t n;

  do
    n = read (s->fd, buf, len);
  while (n < 0 && errno == EINTR);
  if (n < 0)
    return hutch_throw_errno (error, "%s: reading the blob", s->what), -1;
  return n;
}

static gboolean
refill (HutchLayerStream *s, GError **error)
{
  gssize n;

  if (s->in_pos < s->in_len || s->in_eof)
    return TRUE;
  n = s->read (s->read_data, s->in, IN_SIZE, error);
  if (n < 0)
    return FALSE;
  s->in_len = (gsize) n;
  s->in_pos = 0;
  s->in_eof = n == 0;
  return TRUE;
}

/* Reads the first bytes, checks them against @s->compression and starts
 * the decoder. */
static HutchLayerStream *
stream_start (HutchLayerStream *s_owned, GError **error)
{
  g_autoptr (HutchLayerStream) s = s_owned;
  HutchLayerCompression seen;

  s->in = g_malloc (IN_SIZE);
  s->sha = hutch_sha256_new ();
  if (!refill (s, error))
    return NULL;
  seen = hutch_layer_sniff (s->in, s->in_len);
  if (seen != s->compression)
    return hutch_throw (error, HUTCH_ERROR_INVALID_IMAGE,
                        "%s: the media type says %s, but the blob's first bytes are %s", s->what,
                        hutch_layer_compression_name (s->compression),
                        hutch_layer_compression_name (seen)), NULL;
  if (s->compression == HUTCH_LAYER_GZIP)
    {
      /* 16 + 15: a gzip wrapper, the largest window. */
      if (inflateInit2 (&s->z, 16 + 15) != Z_OK)
        return hutch_throw (error, HUTCH_ERROR_FAILED, "%s: zlib would not start", s->what), NULL;
      s->z_ready = TRUE;
    }
  else if (s->compression == HUTCH_LAYER_ZSTD)
    s->zstd = ZSTD_createDCtx ();
  return g_steal_pointer (&s);
}

HutchLayerStream *
hutch_layer_stream_new_from (HutchLayerReadFunc read, gpointer read_data,
                             HutchLayerCompression compression, guint64 max_bytes,
                             const char *what, GError **error)
{
  HutchLayerStream *s = g_new0 (HutchLayerStream, 1);

  s->read = read;
  s->read_data = read_data;
  s->fd = -1;
  s->compression = compression;
  s->max_bytes = max_bytes;
  s->what = g_strdup (what);
  return stream_start (s, error);
}

HutchLayerStream *
hutch_layer_stream_new (int fd, HutchLayerCompression compression, guint64 max_bytes,
                        const char *what, GError **error)
{
  HutchLayerStream *s = g_new0 (HutchLayerStream, 1);

  s->read = read_fd;
  s->read_data = s;
  s->fd = fd;
  s->compression = compression;
  s->max_bytes = max_bytes;
  s->what = g_strdup (what);
  return stream_start (s, error);
}

static gssize
read_gzip (HutchLayerStream *s, guint8 *outbuf, gsize cap, GError **error)
{
  for (;;)
    {
      int r;

      if (!refill (s, error))
        return -1;
      s->z.next_in = s->in + s->in_pos;
      s->z.avail_in = (uInt) (s->in_len - s->in_pos);
      s->z.next_out = outbuf;
      s->z.avail_out = (uInt) cap;
      r = inflate (&s->z, Z_NO_FLUSH);
      s->in_pos = s->in_len - s->z.avail_in;
      if (r == Z_STREAM_END)
        {
          /* Another gzip member may follow (pigz, concatenated files); any
           * other byte is garbage. */
          if (!refill (s, error))
            return -1;
          if (s->in_pos < s->in_len)
            {
              if (s->in_len - s->in_pos >= 2 && s->in[s->in_pos] == 0x1f && s->in[s->in_pos + 1] == 0x8b)
                inflateReset (&s->z);
              else
                return hutch_throw (error, HUTCH_ERROR_INVALID_IMAGE,
                                    "%s: data after the end of the gzip stream", s->what), -1;
            }
          else
            s->ended = TRUE;
        }
      else if (r == Z_BUF_ERROR && s->in_eof && s->z.avail_out == cap)
        return hutch_throw (error, HUTCH_ERROR_INVALID_IMAGE, "%s: the gzip stream is truncated",
                            s->what), -1;
      else if (r != Z_OK && r != Z_BUF_ERROR)
        return hutch_throw (error, HUTCH_ERROR_INVALID_IMAGE, "%s: corrupt gzip data: %s", s->what,
                            s->z.msg != NULL ? s->z.msg : "inflate failed"), -1;
      if (s->z.avail_out < cap || s->ended)
        return (gssize) (cap - s->z.avail_out);
    }
}

static gssize
read_zstd (HutchLayerStream *s, guint8 *outbuf, gsize cap, GError **error)
{
  for (;;)
    {
      ZSTD_inBuffer in;
      ZSTD_outBuffer out = { outbuf, cap, 0 };
      size_t r;

      if (!refill (s, error))
        return -1;
      if (s->in_pos == s->in_len && s->in_eof)
        {
          s->ended = TRUE;
          return 0;
        }
      in = (ZSTD_inBuffer){ s->in, s->in_len, s->in_pos };
      r = ZSTD_decompressStream (s->zstd, &out, &in);
      s->in_pos = in.pos;
      if (ZSTD_isError (r))
        return hutch_throw (error, HUTCH_ERROR_INVALID_IMAGE, "%s: corrupt zstd data: %s", s->what,
                            ZSTD_getErrorName (r)), -1;
      if (r != 0 && s->in_pos == s->in_len && s->in_eof && out.pos == 0)
        return hutch_throw (error, HUTCH_ERROR_INVALID_IMAGE, "%s: the zstd stream is truncated",
                            s->what), -1;
      if (out.pos > 0)
        return (gssize) out.pos;
    }
}

gssize
hutch_layer_stream_read_into (HutchLayerStream *s, guint8 *buf, gsize cap, GError **error)
{
  gssize n;

  if (s->ended)
    return 0;
  if (s->compression == HUTCH_LAYER_GZIP)
    n = read_gzip (s, buf, cap, error);
  else if (s->compression == HUTCH_LAYER_ZSTD)
    n = read_zstd (s, buf, cap, error);
  else if (s->in_pos < s->in_len)
    {
      /* the bytes read to sniff the magic come first */
      n = (gssize) MIN (cap, s->in_len - s->in_pos);
      memcpy (buf, s->in + s->in_pos, (gsize) n);
      s->in_pos += (gsize) n;
    }
  else
    {
      n = s->read (s->read_data, buf, cap, error);
      s->ended = n == 0;
    }
  if (n < 0)
    return -1;
  s->total += (guint64) n;
  if (s->total > s->max_bytes)
    return hutch_throw (error, HUTCH_ERROR_INVALID_IMAGE,
                        "%s: the layer unpacks to more than %" G_GUINT64_FORMAT " bytes, the limit "
                        "(a decompression bomb? --unpack-limit raises it)", s->what, s->max_bytes), -1;
  hutch_sha256_update (s->sha, buf, (gsize) n);
  return n;
}

void
hutch_layer_stream_digest (HutchLayerStream *s, char out_diff_id[HUTCH_DIGEST_BUFSIZE],
                           guint64 *out_bytes)
{
  hutch_sha256_finish (s->sha, out_diff_id);
  *out_bytes = s->total;
}
