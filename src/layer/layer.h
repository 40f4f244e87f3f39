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

/* ---- the write side: compression (compress.c) ---- */

/* Where written bytes go: a blob writer, a pipe, stdout. FALSE with @error
 * set stops the writer. */
typedef gboolean (*HutchLayerWriteFunc) (gpointer data, const void *buf, gsize len,
                                         GError **error);

/* Compresses a layer's tar as it is written, in up to four threads (gzip as
 * independent 1 MiB members, which every gzip reader takes as one stream;
 * zstd with libzstd's workers), and hashes the uncompressed bytes: the
 * diff_id comes out of the same pass. HUTCH_LAYER_PLAIN passes bytes
 * through (still hashed). */
typedef struct HutchLayerCompressor HutchLayerCompressor;

#define HUTCH_LAYER_LEVEL_DEFAULT (-1)

/* @level: HUTCH_LAYER_LEVEL_DEFAULT, or 1..9 (gzip), 1..19 (zstd).
 * @threads: 0 for one per core, at most 4; 1 compresses in the caller. */
HutchLayerCompressor *hutch_layer_compressor_new (HutchLayerCompression compression, int level,
                                                  guint threads, HutchLayerWriteFunc write,
                                                  gpointer write_data);
gboolean hutch_layer_compressor_write (HutchLayerCompressor *c, const void *buf, gsize len,
                                       GError **error);
/* Ends the stream: everything compressed and written. Gives the sha256 of
 * the uncompressed bytes (the diff_id) and their length. */
gboolean hutch_layer_compressor_finish (HutchLayerCompressor *c,
                                        char out_diff_id[HUTCH_DIGEST_BUFSIZE],
                                        guint64 *out_bytes, GError **error);
void hutch_layer_compressor_free (HutchLayerCompressor *c);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (HutchLayerCompressor, hutch_layer_compressor_free)
/* A HutchLayerWriteFunc that feeds @data, a HutchLayerCompressor. */
gboolean hutch_layer_compressor_write_func (gpointer data, const void *buf, gsize len,
                                            GError **error);

/* ---- the write side: tar (tar-write.c) ---- */

/* One tar writer for every tar hutch writes (commit's layer, export, cp,
 * save's archive): PAX headers (long names, large sizes, xattrs as
 * SCHILY.xattr.*), hard links kept as links, owners as stat() shows them.
 * Run it as root of the container's user namespace (sandbox/) and the
 * owners are the container's ids, not the user's subordinate ones. */
typedef struct HutchTarWriter HutchTarWriter;

typedef enum
{
  /* Every entry as it is (export, cp). */
  HUTCH_TAR_TREE_FLAT = 0,
  /* An overlay upper dir (commit): a char device 0:0 becomes .wh.NAME, a
   * directory with overlay.opaque "y" (trusted., user., or
   * fuse-overlayfs's user.fuseoverlayfs.) gets .wh..wh..opq, and the
   * overlay xattrs themselves are left out. */
  HUTCH_TAR_TREE_OVERLAY_UPPER = 1 << 0,
  /* Leave xattrs out (security.capability included). */
  HUTCH_TAR_TREE_NO_XATTRS = 1 << 1,
} HutchTarTreeFlags;

typedef struct
{
  guint64 entries;
  guint64 whiteouts;
  guint64 skipped; /* sockets, and what @exclude named */
} HutchTarWriteStats;

HutchTarWriter *hutch_tar_writer_new (HutchLayerWriteFunc write, gpointer write_data,
                                      const char *what);
/* From now on every entry is owned by @uid:@gid, whatever the files say
 * (build's COPY, --chown). */
void hutch_tar_writer_set_owner (HutchTarWriter *w, guint32 uid, guint32 gid);
/* From now on every entry but symlinks has the permission bits @mode
 * (COPY --chmod); 0 keeps the files' own. */
void hutch_tar_writer_set_mode (HutchTarWriter *w, guint32 mode);
/* @path, relative to @dir_fd ("." for itself), as @name in the tar: a
 * directory alone (not what it holds), a file with its content, a symlink,
 * a device or fifo; a second name of a file already written becomes a hard
 * link to the first. A socket is skipped. */
gboolean hutch_tar_writer_add_path (HutchTarWriter *w, int dir_fd, const char *path,
                                    const char *name, HutchTarTreeFlags flags, GError **error);
/* @path and everything beneath it, named @name/... in the tar, in a stable
 * order (sorted by name), not following symlinks nor crossing mount points.
 * @exclude: NULL-terminated paths relative to @path, left out with what is
 * beneath them (/etc/hostname, volumes' mount points). */
gboolean hutch_tar_writer_add_tree (HutchTarWriter *w, int dir_fd, const char *path,
                                    const char *name, HutchTarTreeFlags flags,
                                    const char *const *exclude, GError **error);
/* A whiteout entry (empty file, mode 0) for @name: "dir/.wh.file". */
gboolean hutch_tar_writer_add_whiteout (HutchTarWriter *w, const char *name, GError **error);
/* A regular file @name of @len bytes from memory, mode 0644, owner 0 (or
 * as set_mode() and set_owner() say), mtime @mtime (save's manifest.json,
 * index.json, build's COPY <<EOF). */
gboolean hutch_tar_writer_add_bytes (HutchTarWriter *w, const char *name, const void *data,
                                     gsize len, gint64 mtime, GError **error);
/* A regular file @name of @size bytes read from @fd (a blob), mode 0644. */
gboolean hutch_tar_writer_add_fd (HutchTarWriter *w, const char *name, int fd, guint64 size,
                                  gint64 mtime, GError **error);
/* A directory entry @name, mode 0755 (save's blobs/, blobs/sha256/), or
 * the mode and owner set_mode() and set_owner() gave. */
gboolean hutch_tar_writer_add_dir (HutchTarWriter *w, const char *name, gint64 mtime,
                                   GError **error);
/* Writes the end-of-archive blocks. */
gboolean hutch_tar_writer_finish (HutchTarWriter *w, HutchTarWriteStats *out_stats,
                                  GError **error);
void hutch_tar_writer_free (HutchTarWriter *w);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (HutchTarWriter, hutch_tar_writer_free)

G_END_DECLS
