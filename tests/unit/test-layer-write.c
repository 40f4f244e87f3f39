/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* layer/: the write side. The compressor's output decompresses (through our
 * own reader, stream.c) to the bytes that went in, its diff_id is their
 * sha256, in every form and thread count; the tar writer's output, read back
 * by libarchive, has the tree's entries, links, xattrs and, for an overlay
 * upper dir, OCI whiteouts. Runs as an ordinary user: whiteouts (0/0 char
 * devices) need no privilege since Linux 5.8. */
#include "config.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <glib/gstdio.h>

#include "layer/layer.h"

static gboolean
to_bytes (gpointer data, const void *buf, gsize len, GError **error)
{
  g_byte_array_append (data, buf, (guint) len);
  return TRUE;
}

typedef struct
{
  const guint8 *data;
  gsize len;
  gsize pos;
} Reader;

static gssize
from_bytes (gpointer data, void *buf, gsize len, GError **error)
{
  Reader *r = data;
  gsize n = MIN (len, r->len - r->pos);

  memcpy (buf, r->data + r->pos, n);
  r->pos += n;
  return (gssize) n;
}

/* Input that compresses a little and not at all, in turn. */
static GByteArray *
sample (gsize len)
{
  GByteArray *b = g_byte_array_sized_new ((guint) len);
  g_autoptr (GRand) rand = g_rand_new_with_seed (42);

  for (gsize i = 0; i < len; i++)
    {
      guint8 c = (i / 4096) % 2 ? (guint8) g_rand_int (rand) : (guint8) ("hutch layer "[i % 12]);
      g_byte_array_append (b, &c, 1);
    }
  return b;
}

static void
roundtrip (HutchLayerCompression comp, guint threads, gsize len)
{
  g_autoptr (GByteArray) in = sample (len);
  g_autoptr (GByteArray) out = g_byte_array_new ();
  g_autoptr (HutchLayerCompressor) c = hutch_layer_compressor_new (comp, HUTCH_LAYER_LEVEL_DEFAULT,
                                                                    threads, to_bytes, out);
  g_autoptr (GError) error = NULL;
  g_autoptr (HutchLayerStream) s = NULL;
  char diff_id[HUTCH_DIGEST_BUFSIZE], want[HUTCH_DIGEST_BUFSIZE], got_id[HUTCH_DIGEST_BUFSIZE];
  guint64 bytes = 0, got_bytes = 0;
  g_autoptr (GByteArray) back = g_byte_array_new ();
  Reader r;
  guint8 buf[65536];
  gssize n;

  /* Odd-sized writes, so pieces are cut in the middle of one. */
  for (gsize off = 0; off < len;)
    {
      gsize step = MIN (len - off, (gsize) 77777);
      g_assert_true (hutch_layer_compressor_write (c, in->data + off, step, &error));
      g_assert_no_error (error);
      off += step;
    }
  g_assert_true (hutch_layer_compressor_finish (c, diff_id, &bytes, &error));
  g_assert_no_error (error);
  hutch_sha256_digest_of (in->data, in->len, want);
  g_assert_cmpstr (diff_id, ==, want);
  g_assert_cmpuint (bytes, ==, len);
  if (comp != HUTCH_LAYER_PLAIN)
    g_assert_cmpint (hutch_layer_sniff (out->data, out->len), ==, comp);

  r = (Reader){ out->data, out->len, 0 };
  s = hutch_layer_stream_new_from (from_bytes, &r, comp, (guint64) 1 << 32, "test", &error);
  g_assert_no_error (error);
  while ((n = hutch_layer_stream_read_into (s, buf, sizeof buf, &error)) > 0)
    g_byte_array_append (back, buf, (guint) n);
  g_assert_no_error (error);
  g_assert_cmpint (n, ==, 0);
  g_assert_cmpmem (back->data, back->len, in->data, in->len);
  hutch_layer_stream_digest (s, got_id, &got_bytes);
  g_assert_cmpstr (got_id, ==, want);
}

static void
test_gzip (void)
{
  roundtrip (HUTCH_LAYER_GZIP, 4, (5 << 20) + 12345);
  roundtrip (HUTCH_LAYER_GZIP, 2, 1 << 20); /* exactly one piece */
  roundtrip (HUTCH_LAYER_GZIP, 1, (3 << 20) + 1);
  roundtrip (HUTCH_LAYER_GZIP, 4, 0); /* an empty stream is still gzip */
  roundtrip (HUTCH_LAYER_GZIP, 1, 0);
}

static void
test_zstd (void)
{
  roundtrip (HUTCH_LAYER_ZSTD, 4, (3 << 20) + 7);
  roundtrip (HUTCH_LAYER_ZSTD, 1, 100000);
  roundtrip (HUTCH_LAYER_ZSTD, 2, 0);
}

static void
test_plain (void)
{
  roundtrip (HUTCH_LAYER_PLAIN, 0, 300000);
}

static gboolean
fail_write (gpointer data, const void *buf, gsize len, GError **error)
{
  guint *left = data;

  if (*left == 0)
    {
      g_set_error_literal (error, G_FILE_ERROR, G_FILE_ERROR_NOSPC, "disk full (test)");
      return FALSE;
    }
  (*left)--;
  return TRUE;
}

/* A sink that fails ends the writer with its error, and freeing it then
 * (threads still holding pieces) is clean. */
static void
test_sink_fails (void)
{
  g_autoptr (GByteArray) in = sample (6 << 20);
  g_autoptr (GError) error = NULL;
  guint left = 2;
  g_autoptr (HutchLayerCompressor) c = hutch_layer_compressor_new (HUTCH_LAYER_GZIP, 1, 4,
                                                                    fail_write, &left);
  gboolean ok = TRUE;

  for (gsize off = 0; ok && off < in->len; off += 65536)
    ok = hutch_layer_compressor_write (c, in->data + off, 65536, &error);
  if (ok)
    {
      char id[HUTCH_DIGEST_BUFSIZE];
      ok = hutch_layer_compressor_finish (c, id, NULL, &error);
    }
  g_assert_false (ok);
  g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_NOSPC);
}

/* ---- the tar writer ---- */

/* One line per entry, as the assertions read them. */
static char *
read_back (GByteArray *tar, GHashTable *xattrs)
{
  struct archive *a = archive_read_new ();
  struct archive_entry *e;
  GString *s = g_string_new (NULL);

  archive_read_support_format_tar (a);
  g_assert_cmpint (archive_read_open_memory (a, tar->data, tar->len), ==, ARCHIVE_OK);
  while (archive_read_next_header (a, &e) == ARCHIVE_OK)
    {
      const char *name = archive_entry_pathname (e);
      const char *xname;
      const void *xv;
      size_t xlen;

      if (archive_entry_hardlink (e) != NULL)
        g_string_append_printf (s, "h %s %s\n", name, archive_entry_hardlink (e));
      else if (archive_entry_filetype (e) == AE_IFLNK)
        g_string_append_printf (s, "l %s %s\n", name, archive_entry_symlink (e));
      else if (archive_entry_filetype (e) == AE_IFDIR)
        g_string_append_printf (s, "d %s\n", name);
      else
        g_string_append_printf (s, "f %s %jd %o\n", name, (intmax_t) archive_entry_size (e),
                                (unsigned) archive_entry_perm (e));
      archive_entry_xattr_reset (e);
      while (archive_entry_xattr_next (e, &xname, &xv, &xlen) == ARCHIVE_OK)
        if (xattrs != NULL)
          g_hash_table_insert (xattrs, g_strdup_printf ("%s %s", name, xname),
                               g_strndup (xv, xlen));
    }
  archive_read_free (a);
  return g_string_free (s, FALSE);
}

static void
put (const char *dir, const char *path, const char *data)
{
  g_autofree char *p = g_build_filename (dir, path, NULL);

  g_assert_true (g_file_set_contents (p, data, -1, NULL));
}

static void
xattr_set (const char *dir, const char *path, const char *key, const char *value)
{
  g_autofree char *p = g_build_filename (dir, path, NULL);

  g_assert_cmpint (setxattr (p, key, value, strlen (value), 0), ==, 0);
}

static void
test_tree (void)
{
  g_autofree char *dir = g_dir_make_tmp ("hutch-tarw-XXXXXX", NULL);
  int dfd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  g_autoptr (GByteArray) tar = g_byte_array_new ();
  g_autoptr (GError) error = NULL;
  g_autoptr (GHashTable) xattrs = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_autoptr (HutchTarWriter) w = NULL;
  g_autofree char *got = NULL;
  g_autofree char *sock_path = NULL;
  const char *const exclude[] = { "etc/hostname", NULL };
  HutchTarWriteStats st = { 0 };
  struct sockaddr_un sa = { .sun_family = AF_UNIX };
  int sock;

  g_assert_cmpint (dfd, >=, 0);
  g_assert_cmpint (mkdirat (dfd, "etc", 0755), ==, 0);
  g_assert_cmpint (mkdirat (dfd, "gone", 0755), ==, 0);
  g_assert_cmpint (mkdirat (dfd, "opaque", 0755), ==, 0);
  put (dir, "etc/passwd", "root:x:0:0::/root:/bin/sh\n");
  put (dir, "etc/hostname", "box\n");
  put (dir, "opaque/new", "n");
  /* a name over ustar's 100 bytes: a PAX path record */
  put (dir, "opaque/nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn", "abc");
  g_assert_cmpint (linkat (dfd, "etc/passwd", dfd, "etc/passwd-", 0), ==, 0);
  g_assert_cmpint (symlinkat ("../etc/passwd", dfd, "gone/link"), ==, 0);
  g_assert_cmpint (mknodat (dfd, "gone/file", S_IFCHR | 0, makedev (0, 0)), ==, 0);
  g_assert_cmpint (fchmodat (dfd, "etc/passwd", 0600, 0), ==, 0);
  xattr_set (dir, "opaque", "user.overlay.opaque", "y");
  xattr_set (dir, "etc/passwd", "user.note", "kept");
  sock_path = g_build_filename (dir, "sock", NULL);
  g_strlcpy (sa.sun_path, sock_path, sizeof sa.sun_path);
  sock = socket (AF_UNIX, SOCK_STREAM, 0);
  g_assert_cmpint (bind (sock, (struct sockaddr *) &sa, sizeof sa), ==, 0);

  w = hutch_tar_writer_new (to_bytes, tar, "test tree");
  g_assert_true (hutch_tar_writer_add_tree (w, dfd, ".", "", HUTCH_TAR_TREE_OVERLAY_UPPER, exclude, &error));
  g_assert_no_error (error);
  g_assert_true (hutch_tar_writer_finish (w, &st, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (tar->len % 512, ==, 0);

  got = read_back (tar, xattrs);
  g_assert_cmpstr (got, ==,
                   "d etc/\n"
                   "f etc/passwd 26 600\n"
                   "h etc/passwd- etc/passwd\n"
                   "d gone/\n"
                   "f gone/.wh.file 0 0\n"
                   "l gone/link ../etc/passwd\n"
                   "d opaque/\n"
                   "f opaque/.wh..wh..opq 0 0\n"
                   "f opaque/new 1 644\n"
                   "f opaque/nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn 3 644\n");
  g_assert_cmpstr (g_hash_table_lookup (xattrs, "etc/passwd user.note"), ==, "kept");
  g_assert_false (g_hash_table_contains (xattrs, "opaque user.overlay.opaque"));
  g_assert_cmpuint (st.whiteouts, ==, 2);
  g_assert_cmpuint (st.skipped, ==, 2); /* the socket and etc/hostname */

  /* Flat, under a name (cp's form): the device is a device, no whiteouts. */
  g_byte_array_set_size (tar, 0);
  g_clear_pointer (&w, hutch_tar_writer_free);
  w = hutch_tar_writer_new (to_bytes, tar, "test tree");
  g_assert_true (hutch_tar_writer_add_tree (w, dfd, "gone", "gone", HUTCH_TAR_TREE_FLAT, NULL, &error));
  g_assert_true (hutch_tar_writer_add_bytes (w, "manifest.json", "[]", 2, 0, &error));
  g_assert_true (hutch_tar_writer_finish (w, NULL, &error));
  g_assert_no_error (error);
  g_free (got);
  got = read_back (tar, NULL);
  g_assert_cmpstr (got, ==, "d gone/\nf gone/file 0 0\nl gone/link ../etc/passwd\nf manifest.json 2 644\n");

  close (sock);
  close (dfd);
  {
    g_autofree char *rm = g_strdup_printf ("rm -rf %s", dir);
    g_assert_true (g_spawn_command_line_sync (rm, NULL, NULL, NULL, NULL));
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/layer-write/gzip", test_gzip);
  g_test_add_func ("/layer-write/zstd", test_zstd);
  g_test_add_func ("/layer-write/plain", test_plain);
  g_test_add_func ("/layer-write/sink-fails", test_sink_fails);
  g_test_add_func ("/layer-write/tree", test_tree);
  return g_test_run ();
}
