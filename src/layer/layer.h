/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* layer/: one layer blob unpacked into a directory. Decompression and the
 * diff_id are ours (stream.c), libarchive only parses tar, and every entry is
 * written by our own *at() calls beneath the layer's directory fd (unpack.c),
 * whiteouts in overlay's own format. Meant to run as root of a user
 * namespace mapped with the user's ids (sandbox/), so owners land on them. */
#pragma once

#include <glib.h>

#include "util/util.h"

G_BEGIN_DECLS

typedef enum
{
  HUTCH_LAYER_PLAIN,
  HUTCH_LAYER_GZIP,
  HUTCH_LAYER_ZSTD,
} HutchLayerCompression;

typedef struct
{
  const char *what;        /* "image NAME, layer N (sha256:…)", for messages */
  guint64 max_bytes;       /* cap on the uncompressed stream (gzip bombs) */
  guint64 max_file_size;   /* cap on one entry's declared or sparse size */
  guint64 id_count;        /* container ids 0 .. id_count-1 are mapped */
  gboolean squash_owners;  /* single mapping: every owner becomes 0 */
} HutchLayerOptions;

#define HUTCH_LAYER_DEFAULT_MAX_BYTES ((guint64) 64 << 30)
#define HUTCH_LAYER_DEFAULT_MAX_FILE ((guint64) 16 << 30)

typedef struct
{
  char diff_id[HUTCH_DIGEST_BUFSIZE]; /* sha256 of the uncompressed stream */
  guint64 bytes;                      /* its length */
  guint entries;
  guint devices_skipped;              /* device nodes cannot be made in a userns */
  guint xattrs_dropped;               /* trusted.*, user.overlay.*, others */
} HutchLayerStats;

/* Where a layer's compressed bytes come from: a blob's fd, or a download
 * still under way (registry/). Returns their number, 0 at the end, or -1
 * with @error set. */
typedef gssize (*HutchLayerReadFunc) (gpointer data, void *buf, gsize len, GError **error);

/* Unpacks the layer read from @blob_fd (compressed as @compression, which
 * the blob's magic bytes must agree with) into the empty directory @dir_fd.
 * Refuses, naming opts->what and the entry (escaped): ".." in a name, a
 * parent that is not a real directory of this layer (a symlink), a hard link
 * to anything but a regular file already in this layer, invalid whiteouts,
 * sizes over the caps, owners outside the mapping, truncated or corrupt
 * input and anything but zeros after the tar's end. HUTCH_ERROR_INVALID_IMAGE
 * or HUTCH_ERROR_UNSAFE_PATH, or G_FILE_ERROR for the disk. On failure the
 * directory holds a partial tree the caller must delete. */
gboolean hutch_layer_unpack_at (int dir_fd, int blob_fd, HutchLayerCompression compression,
                                const HutchLayerOptions *opts, HutchLayerStats *out_stats,
                                GError **error);
/* As hutch_layer_unpack_at(), reading through @read. */
gboolean hutch_layer_unpack_from (int dir_fd, HutchLayerReadFunc read, gpointer read_data,
                                  HutchLayerCompression compression, const HutchLayerOptions *opts,
                                  HutchLayerStats *out_stats, GError **error);

/* The compression a blob's first bytes show. */
HutchLayerCompression hutch_layer_sniff (const guint8 *magic, gsize len);
const char *hutch_layer_compression_name (HutchLayerCompression c);

/* ---- the uncompressed stream (stream.c) ---- */

typedef struct HutchLayerStream HutchLayerStream;

HutchLayerStream *hutch_layer_stream_new (int fd, HutchLayerCompression compression,
                                          guint64 max_bytes, const char *what, GError **error);
/* As hutch_layer_stream_new(), reading through @read. */
HutchLayerStream *hutch_layer_stream_new_from (HutchLayerReadFunc read, gpointer read_data,
                                               HutchLayerCompression compression,
                                               guint64 max_bytes, const char *what,
                                               GError **error);
void hutch_layer_stream_free (HutchLayerStream *s);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (HutchLayerStream, hutch_layer_stream_free)
/* Decodes the next bytes into @buf (hashed, and counted against the
 * quota): their number, 0 at the end, -1 on error. */
gssize hutch_layer_stream_read_into (HutchLayerStream *s, guint8 *buf, gsize cap, GError **error);
/* The diff_id and length of everything read; only after the end. */
void hutch_layer_stream_digest (HutchLayerStream *s, char out_diff_id[HUTCH_DIGEST_BUFSIZE],
                                guint64 *out_bytes);

/* ---- decoding in a thread of its own (pipe.c) ---- */

/* Decompression and hashing run in a second thread while the caller writes
 * files: on two cores the layer costs the larger of the two, not the sum. */
typedef struct HutchLayerPipe HutchLayerPipe;

/* Starts the thread; takes @stream. @what names the layer in messages. */
HutchLayerPipe *hutch_layer_pipe_new (HutchLayerStream *stream, const char *what);
/* Stops the thread if it still runs, and frees everything. */
void hutch_layer_pipe_free (HutchLayerPipe *p);
/* The next decoded bytes, valid until the next call: their number, 0 at the
 * end, -1 on error. */
gssize hutch_layer_pipe_read (HutchLayerPipe *p, const void **out_buf, GError **error);
/* Checks what follows the tar's end, which the parser consumed up to
 * @consumed bytes of the stream: it must be zeros, and the compressed stream
 * must end there. Then gives the diff_id. */
gboolean hutch_layer_pipe_finish (HutchLayerPipe *p, guint64 consumed,
                                  char out_diff_id[HUTCH_DIGEST_BUFSIZE], guint64 *out_bytes,
                                  GError **error);

G_END_DECLS
