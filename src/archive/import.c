/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* hutch import: a rootfs tarball (plain, gzip or zstd; a file or stdin)
 * as a one-layer image. Its tar is decompressed and passed through as it
 * is (its diff_id is the tarball's own), compressed again as the store
 * keeps layers, and unpacked into the layer cache in the same pass
 * (store/layer-new.c), where the unpack refuses what a pulled layer may
 * not hold. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "archive.h"

typedef struct
{
  int fd;
  const char *what;
  guint8 head[512]; /* read to tell the compression, given back first */
  gsize head_len, head_at;
} Input;

static gssize
input_read (gpointer data, void *buf, gsize len, GError **error)
{
  Input *in = data;
  gssize n;

  if (in->head_at < in->head_len)
    {
      gsize k = MIN (len, in->head_len - in->head_at);
      memcpy (buf, in->head + in->head_at, k);
      in->head_at += k;
      return (gssize) k;
    }
  do
    n = read (in->fd, buf, len);
  while (n < 0 && errno == EINTR);
  if (n < 0)
    return hutch_throw_errno (error, "reading %s", in->what), -1;
  return n;
}

static gboolean
fill_import (gpointer data, HutchLayerWriteFunc write, gpointer write_data, GError **error)
{
  Input *in = data;
  HutchLayerCompression c = hutch_layer_sniff (in->head, in->head_len);
  g_autoptr (HutchLayerStream) s = hutch_layer_stream_new_from (input_read, in, c,
                                                                HUTCH_LAYER_DEFAULT_MAX_BYTES,
                                                                in->what, error);
  g_autofree guint8 *buf = g_malloc (1 << 20);

  if (s == NULL)
    return FALSE;
  for (;;)
    {
      gssize n = hutch_layer_stream_read_into (s, buf, 1 << 20, error);
      if (n < 0)
        return FALSE;
      if (n == 0)
        return TRUE;
      if (!write (write_data, buf, (gsize) n, error))
        return FALSE;
    }
}

gboolean
hutch_archive_import (HutchStore *store, const char *path, const HutchArchiveImport *opts,
                      char out_id[HUTCH_DIGEST_BUFSIZE], GError **error)
{
  gboolean from_stdin = strcmp (path, "-") == 0;
  g_autofree char *what = from_stdin ? g_strdup ("the tarball on stdin")
                                     : g_strdup_printf ("the tarball %s", path);
  g_autofree char *by = g_strdup_printf ("hutch import %s", path);
  hutch_autofd int fd = from_stdin ? fcntl (STDIN_FILENO, F_DUPFD_CLOEXEC, 3)
                                   : open (path, O_RDONLY | O_CLOEXEC);
  g_autoptr (HutchIdMap) map = NULL;
  g_autofree char *config = NULL;
  const char *diff_ids[2] = { NULL, NULL };
  HutchStoreNewLayer layer;
  Input in = { fd, what, { 0 }, 0, 0 };
  ssize_t n;

  if (fd < 0)
    return hutch_throw_errno (error, "opening %s", from_stdin ? "stdin" : path);
  if (!hutch_image_changes_check (opts->changes, error))
    return FALSE;
  /* enough to tell gzip and zstd by their magic */
  while (in.head_len < sizeof in.head
         && ((n = read (fd, in.head + in.head_len, sizeof in.head - in.head_len)) > 0
             || (n < 0 && errno == EINTR)))
    in.head_len += n > 0 ? (gsize) n : 0;
  if (in.head_len == 0)
    return hutch_throw (error, HUTCH_ERROR_INVALID_IMAGE,
                        "%s is empty: give a tar of a root file system, plain or compressed with "
                        "gzip or zstd", what);
  if ((map = hutch_sandbox_idmap_new_for_user (error)) == NULL
      || !hutch_store_layer_create (store, map, NULL, opts->compression, what, fill_import, &in,
                                    &layer, error))
    return g_prefix_error (error, "importing: "), FALSE;
  diff_ids[0] = layer.diff_id;
  config = hutch_image_config_derive (NULL,
                                      &(HutchImageConfigEdit){ .changes = opts->changes,
                                                               .diff_ids = diff_ids,
                                                               .comment = opts->message,
                                                               .created_by = by },
                                      error);
  if (config == NULL
      || !hutch_store_image_create (store, config, NULL, &layer, FALSE, opts->name, out_id, error))
    {
      hutch_store_new_layer_discard (store, &layer);
      return g_prefix_error (error, "importing: "), FALSE;
    }
  return TRUE;
}
