/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* layer/: hostile layers. Each case writes a tar with libarchive, unpacks it
 * into base/layer beside base/canary, and checks that it was refused with the
 * expected words (or neutralised inside the layer) and that the canary and
 * everything outside the layer directory stayed as they were. Runs as an
 * ordinary user: owners are squashed, and whiteouts need no privilege since
 * Linux 5.8. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <zlib.h>
#include <glib/gstdio.h>

#include "layer/layer.h"

typedef struct
{
  char type;          /* f file, d dir, l symlink, h hardlink, c chardev */
  const char *path;
  const char *data;   /* file content, or link target */
  int mode;
  gint64 size;        /* declared size when >= 0 and no data (a lie) */
} E;

typedef struct
{
  char *base;
  int layer_fd;
  char *canary_before;
} Fx;

/* A tar writer of our own (libarchive's writer would pull its crypto into
 * the test): a pax header with path and linkpath for every entry, so long
 * and odd names go through as the hostile archives carry them, then a
 * ustar header. */
static void
header (GByteArray *out, const char *name, char type, int mode, gint64 size, const char *link,
        unsigned dev_major, unsigned dev_minor)
{
  guint8 h[512] = { 0 };
  unsigned sum = 0;

  g_strlcpy ((char *) h, name, 100);
  g_snprintf ((char *) h + 100, 8, "%07o", mode & 07777);
  g_snprintf ((char *) h + 108, 8, "%07o", 0);
  g_snprintf ((char *) h + 116, 8, "%07o", 0);
  g_snprintf ((char *) h + 124, 12, "%011llo", (unsigned long long) size);
  g_snprintf ((char *) h + 136, 12, "%011o", 1767323045u);
  memset (h + 148, ' ', 8);
  h[156] = (guint8) type;
  if (link != NULL)
    g_strlcpy ((char *) h + 157, link, 100);
  memcpy (h + 257, "ustar", 6);
  memcpy (h + 263, "00", 2);
  g_snprintf ((char *) h + 329, 8, "%07o", dev_major);
  g_snprintf ((char *) h + 337, 8, "%07o", dev_minor);
  for (int i = 0; i < 512; i++)
    sum += h[i];
  g_snprintf ((char *) h + 148, 8, "%06o", sum);
  h[155] = ' ';
  g_byte_array_append (out, h, 512);
}

static void
pad (GByteArray *out, gsize len)
{
  static const guint8 zeros[512];
  if (len % 512 != 0)
    g_byte_array_append (out, zeros, 512 - len % 512);
}

static void
pax_record (GString *s, const char *key, const char *value)
{
  gsize body = strlen (key) + strlen (value) + 3; /* " " "=" "\n" */
  gsize total = body + 1;
  char digits[32];

  /* the length counts its own digits */
  while (g_snprintf (digits, sizeof digits, "%zu", total) + body != total)
    total = body + (gsize) g_snprintf (digits, sizeof digits, "%zu", total);
  g_string_append_printf (s, "%zu %s=%s\n", total, key, value);
}

static void
tar_add (GByteArray *out, const E *e)
{
  g_autoptr (GString) pax = g_string_new (NULL);
  gsize len = e->data != NULL && e->type == 'f' ? strlen (e->data) : 0;
  gint64 size = e->type == 'f' ? (e->size >= 0 && e->data == NULL ? e->size : (gint64) len) : 0;
  char type = e->type == 'd' ? '5' : e->type == 'l' ? '2' : e->type == 'h' ? '1' : e->type == 'c' ? '3' : '0';
  int mode = e->mode != 0 ? e->mode : e->type == 'd' ? 0755 : 0644;

  pax_record (pax, "path", e->path);
  if (e->type == 'l' || e->type == 'h')
    pax_record (pax, "linkpath", e->data);
  header (out, "PaxHeader", 'x', 0644, (gint64) pax->len, NULL, 0, 0);
  g_byte_array_append (out, (const guint8 *) pax->str, pax->len);
  pad (out, pax->len);
  header (out, e->path, type, mode, size, e->type == 'l' || e->type == 'h' ? e->data : NULL,
          e->type == 'c' ? 1 : 0, e->type == 'c' ? 3 : 0);
  if (len > 0)
    {
      g_byte_array_append (out, (const guint8 *) e->data, len);
      pad (out, len);
    }
}

/* A pax tar of @entries in memory, ended by two zero blocks. */
static GBytes *
make_tar (const E *entries, gsize n)
{
  GByteArray *out = g_byte_array_new ();
  static const guint8 zeros[1024];

  for (gsize i = 0; i < n; i++)
    tar_add (out, &entries[i]);
  g_byte_array_append (out, zeros, sizeof zeros);
  return g_byte_array_free_to_bytes (out);
}

static GBytes *
gzip_bytes (GBytes *in)
{
  z_stream z = { 0 };
  gsize len;
  const guint8 *data = g_bytes_get_data (in, &len);
  gsize cap = len + len / 100 + 1024;
  guint8 *out = g_malloc (cap);

  g_assert_cmpint (deflateInit2 (&z, 9, Z_DEFLATED, 16 + 15, 9, Z_DEFAULT_STRATEGY), ==, Z_OK);
  z.next_in = (guint8 *) data;
  z.avail_in = (uInt) len;
  z.next_out = out;
  z.avail_out = (uInt) cap;
  g_assert_cmpint (deflate (&z, Z_FINISH), ==, Z_STREAM_END);
  deflateEnd (&z);
  return g_bytes_new_take (out, z.total_out);
}

static int
memfd_of (GBytes *b)
{
  gsize len;
  const void *data = g_bytes_get_data (b, &len);
  int fd = memfd_create ("layer", MFD_CLOEXEC);

  g_assert_cmpint (fd, >=, 0);
  g_assert_true (hutch_util_write_all (fd, data, len, NULL));
  g_assert_cmpint (lseek (fd, 0, SEEK_SET), ==, 0);
  return fd;
}

/* Everything under @dir with types and sizes: equal means untouched. */
static void
snapshot_into (GString *out, const char *dir)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;

  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);
      struct stat st;
      g_assert_cmpint (lstat (path, &st), ==, 0);
      g_string_append_printf (out, "%s %o %ld\n", path, st.st_mode, (long) st.st_size);
      if (S_ISDIR (st.st_mode))
        snapshot_into (out, path);
    }
}

static char *
snapshot (const char *dir)
{
  GString *s = g_string_new (NULL);
  snapshot_into (s, dir);
  return g_string_free (s, FALSE);
}

static void
fx_setup (Fx *fx, gconstpointer data)
{
  g_autofree char *canary = NULL, *layer = NULL;

  fx->base = g_dir_make_tmp ("hutch-layer-XXXXXX", NULL);
  canary = g_build_filename (fx->base, "canary", NULL);
  layer = g_build_filename (fx->base, "layer", NULL);
  g_assert_cmpint (g_mkdir (canary, 0755), ==, 0);
  g_assert_cmpint (g_mkdir (layer, 0755), ==, 0);
  {
    g_autofree char *f = g_build_filename (canary, "file", NULL);
    g_assert_true (g_file_set_contents (f, "canary\n", -1, NULL));
  }
  fx->layer_fd = open (layer, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  fx->canary_before = snapshot (canary);
}

static void
rm_rf (const char *path)
{
  g_autofree char *cmd = g_strdup_printf ("rm -rf '%s'", path);
  g_assert_cmpint (system (cmd), ==, 0);
}

static void
fx_teardown (Fx *fx, gconstpointer data)
{
  g_autofree char *canary = g_build_filename (fx->base, "canary", NULL);
  g_autofree char *after = snapshot (canary);
  g_autofree char *outside = g_build_filename (fx->base, "outside", NULL);

  g_assert_cmpstr (after, ==, fx->canary_before);
  g_assert_false (g_file_test (outside, G_FILE_TEST_EXISTS));
  close (fx->layer_fd);
  rm_rf (fx->base);
  g_free (fx->base);
  g_free (fx->canary_before);
}

static gboolean
unpack_full (Fx *fx, GBytes *tar, HutchLayerCompression c, guint64 max_bytes, guint64 max_file,
             HutchLayerStats *stats, GError **error)
{
  int fd = memfd_of (tar);
  HutchLayerOptions opts = { "test layer", max_bytes, max_file, 1, TRUE };
  gboolean ok = hutch_layer_unpack_at (fx->layer_fd, fd, c, &opts, stats, error);
  close (fd);
  return ok;
}

static gboolean
unpack (Fx *fx, const E *entries, gsize n, GError **error)
{
  g_autoptr (GBytes) tar = make_tar (entries, n);
  HutchLayerStats stats;
  return unpack_full (fx, tar, HUTCH_LAYER_PLAIN, 1 << 30, 1 << 30, &stats, error);
}

#define REFUSED(fx, entries, fragment) refused (fx, entries, G_N_ELEMENTS (entries), fragment)

static void
refused (Fx *fx, const E *entries, gsize n, const char *fragment)
{
  g_autoptr (GError) error = NULL;

  g_assert_false (unpack (fx, entries, n, &error));
  g_assert_nonnull (error);
  if (strstr (error->message, fragment) == NULL || strstr (error->message, "test layer") == NULL)
    g_error ("message \"%s\" lacks \"%s\" or the layer's name", error->message, fragment);
}

static char *
layer_path (Fx *fx, const char *rel)
{
  return g_build_filename (fx->base, "layer", rel, NULL);
}

static void
test_good (Fx *fx, gconstpointer data)
{
  const E entries[] = {
    { 'd', "./", NULL, 0755, -1 },
    { 'd', "./etc/", NULL, 0755, -1 },
    { 'f', "./etc/passwd", "root:x:0:0::/root:/bin/sh\n", 0644, -1 },
    { 'f', "./bin/su", "#!\n", 04755, -1 },
    { 'l', "./bin/sh", "/bin/busybox", 0777, -1 },
    { 'h', "./bin/su2", "./bin/su", 0, -1 },
    { 'd', "./tmp", NULL, 01777, -1 },
    { 'f', "./name\nwith\x01" "escapes\xff", "odd", 0600, -1 },
    { 'd', "./data", NULL, 0755, -1 },
    { 'f', "./data/.wh.gone", "", 0, -1 },
    { 'f', "./opq/.wh..wh..opq", "", 0, -1 },
    { 'f', "./opq/new", "new", 0, -1 },
    { 'c', "./dev/null", NULL, 0666, -1 },
  };
  g_autoptr (GBytes) tar = make_tar (entries, G_N_ELEMENTS (entries));
  g_autoptr (GError) error = NULL;
  g_autofree char *su = layer_path (fx, "bin/su"), *su2 = layer_path (fx, "bin/su2");
  g_autofree char *sh = layer_path (fx, "bin/sh"), *tmp = layer_path (fx, "tmp");
  g_autofree char *gone = layer_path (fx, "data/gone"), *opq = layer_path (fx, "opq");
  g_autofree char *odd = layer_path (fx, "name\nwith\x01" "escapes\xff");
  g_autofree char *target = NULL;
  char x[8] = { 0 };
  struct stat st, st2;
  HutchLayerStats stats;

  unpack_full (fx, tar, HUTCH_LAYER_PLAIN, 1 << 30, 1 << 30, &stats, &error);
  g_assert_no_error (error);
  g_assert_cmpint (lstat (su, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 07777, ==, 04755);
  g_assert_cmpint (lstat (su2, &st2), ==, 0);
  g_assert_cmpint (st.st_ino, ==, st2.st_ino);
  g_assert_cmpint (st.st_mtime, ==, 1767323045);
  target = g_file_read_link (sh, NULL);
  g_assert_cmpstr (target, ==, "/bin/busybox");
  g_assert_cmpint (lstat (tmp, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 07777, ==, 01777);
  g_assert_cmpint (lstat (gone, &st), ==, 0);
  g_assert_true (S_ISCHR (st.st_mode) && st.st_rdev == makedev (0, 0));
  g_assert_cmpint (getxattr (opq, "user.overlay.opaque", x, sizeof x), ==, 1);
  g_assert_cmpint (x[0], ==, 'y');
  g_assert_true (g_file_test (odd, G_FILE_TEST_IS_REGULAR));
  g_assert_cmpuint (stats.devices_skipped, ==, 1);
  g_assert_cmpuint (stats.entries, ==, G_N_ELEMENTS (entries));
  {
    char digest[HUTCH_DIGEST_BUFSIZE];
    gsize len;
    const void *d = g_bytes_get_data (tar, &len);
    hutch_sha256_digest_of (d, len, digest);
    g_assert_cmpstr (stats.diff_id, ==, digest);
  }
}

static void
test_dotdot (Fx *fx, gconstpointer data)
{
  const E e1[] = { { 'f', "../outside", "x", 0, -1 } };
  const E e2[] = { { 'f', "a/../../outside", "x", 0, -1 } };
  g_autofree char *as = g_strnfill (120, 'a');
  g_autofree char *long_name = g_strconcat ("./", as, "/../../../outside", NULL);
  const E e3[] = { { 'f', long_name, "x", 0, -1 } };
  const E e4[] = { { 'd', "../outside", NULL, 0, -1 } };

  REFUSED (fx, e1, "\"..\" in a name");
  REFUSED (fx, e2, "\"..\" in a name");
  REFUSED (fx, e3, "\"..\" in a name"); /* through a PAX long name */
  REFUSED (fx, e4, "\"..\" in a name");
}

static void
test_absolute_neutralised (Fx *fx, gconstpointer data)
{
  const E e[] = { { 'f', "/etc/hutch-absolute", "x", 0, -1 } };
  g_autofree char *inside = layer_path (fx, "etc/hutch-absolute");

  g_assert_true (unpack (fx, e, G_N_ELEMENTS (e), NULL));
  g_assert_true (g_file_test (inside, G_FILE_TEST_IS_REGULAR));
  g_assert_false (g_file_test ("/etc/hutch-absolute", G_FILE_TEST_EXISTS));
}

static void
test_through_symlink (Fx *fx, gconstpointer data)
{
  g_autofree char *canary = g_build_filename (fx->base, "canary", NULL);
  const E write[] = { { 'l', "evil", canary, 0, -1 }, { 'f', "evil/file", "pwned", 0, -1 } };
  const E mkdir_[] = { { 'l', "evil", canary, 0, -1 }, { 'd', "evil/sub", NULL, 0, -1 } };
  const E chmod_[] = { { 'l', "evil", canary, 0, -1 }, { 'd', "evil/", NULL, 0777, -1 } };
  const E rel[] = { { 'l', "evil", "../canary", 0, -1 }, { 'f', "evil/file", "pwned", 0, -1 } };
  const E proc[] = { { 'l', "evil", "/proc/self/root/tmp", 0, -1 }, { 'f', "evil/x", "pwned", 0, -1 } };
  const E wh[] = { { 'l', "evil", canary, 0, -1 }, { 'f', "evil/.wh.file", "", 0, -1 } };
  const E opq[] = { { 'l', "evil", canary, 0, -1 }, { 'f', "evil/.wh..wh..opq", "", 0, -1 } };
  const E deep[] = { { 'd', "a", NULL, 0, -1 }, { 'l', "a/b", "/", 0, -1 },
                     { 'f', "a/b/outside", "pwned", 0, -1 } };

  REFUSED (fx, write, "a directory on its path is a symlink");
  REFUSED (fx, mkdir_, "a directory on its path is a symlink");
  REFUSED (fx, rel, "a directory on its path is a symlink");
  REFUSED (fx, proc, "a directory on its path is a symlink");
  REFUSED (fx, wh, "a directory on its path is a symlink");
  REFUSED (fx, opq, "a directory on its path is a symlink");
  REFUSED (fx, deep, "a directory on its path is a symlink");
  /* "evil/" names the symlink itself: a directory replaces it, in the layer */
  g_assert_true (unpack (fx, chmod_, G_N_ELEMENTS (chmod_), NULL));
  {
    g_autofree char *evil = layer_path (fx, "evil");
    struct stat st;
    g_assert_cmpint (lstat (evil, &st), ==, 0);
    g_assert_true (S_ISDIR (st.st_mode));
  }
}

static void
test_hardlinks (Fx *fx, gconstpointer data)
{
  g_autofree char *canary = g_build_filename (fx->base, "canary/file", NULL);
  const E out[] = { { 'h', "x", "../canary/file", 0, -1 } };
  const E abs[] = { { 'h', "x", canary, 0, -1 } };
  const E missing[] = { { 'h', "x", "nothere", 0, -1 } };
  const E via_link[] = { { 'l', "d", "/etc", 0, -1 }, { 'h', "x", "d/passwd", 0, -1 } };
  const E to_link[] = { { 'l', "s", "/etc/passwd", 0, -1 }, { 'h', "x", "s", 0, -1 } };
  const E to_dir[] = { { 'd', "dir", NULL, 0, -1 }, { 'h', "x", "dir", 0, -1 } };

  REFUSED (fx, out, "\"..\" in a name");
  REFUSED (fx, abs, "not a regular file already in this layer");
  REFUSED (fx, missing, "not a regular file already in this layer");
  REFUSED (fx, via_link, "a directory on its path is a symlink");
  REFUSED (fx, to_link, "not a regular file already in this layer");
  REFUSED (fx, to_dir, "not a regular file already in this layer");
}

static void
test_dir_symlink_file (Fx *fx, gconstpointer data)
{
  g_autofree char *canary = g_build_filename (fx->base, "canary", NULL);
  const E e[] = { { 'd', "a", NULL, 0, -1 }, { 'f', "a/inner", "1", 0, -1 },
                  { 'l', "a", canary, 0, -1 }, { 'f', "a", "file now", 0, -1 } };
  g_autofree char *a = layer_path (fx, "a");
  g_autofree char *content = NULL;

  g_assert_true (unpack (fx, e, G_N_ELEMENTS (e), NULL));
  g_assert_true (g_file_get_contents (a, &content, NULL, NULL));
  g_assert_cmpstr (content, ==, "file now");
}

static void
test_root_entry (Fx *fx, gconstpointer data)
{
  const E e[] = { { 'f', ".", "x", 0, -1 } };
  const E e2[] = { { 'l', "./", "/", 0, -1 } };

  REFUSED (fx, e, "the layer's root that is not a directory");
  REFUSED (fx, e2, "the layer's root that is not a directory");
}

/* An empty link name: pax says so here; a bare ustar header made
 * libarchive give NULL (tests/fuzz/regressions/layer-unpack). */
static void
test_symlink_without_target (Fx *fx, gconstpointer data)
{
  const E e[] = { { 'f', "a", "x", 0, -1 }, { 'l', "s", "", 0, -1 } };

  REFUSED (fx, e, "a symlink without a target");
}

static void
test_bad_whiteouts (Fx *fx, gconstpointer data)
{
  const E e1[] = { { 'f', ".wh.", "", 0, -1 } };
  const E e2[] = { { 'f', "d/.wh..", "", 0, -1 } };
  const E e3[] = { { 'f', "../.wh.x", "", 0, -1 } };
  const E e4[] = { { 'f', "d/.wh..wh.plnk", "", 0, -1 } };

  REFUSED (fx, e1, "a whiteout that names no file");
  REFUSED (fx, e2, "a whiteout that names no file");
  REFUSED (fx, e3, "\"..\" in a name");
  g_assert_true (unpack (fx, e4, G_N_ELEMENTS (e4), NULL)); /* aufs metadata: ignored */
}

static void
test_escaped_message (Fx *fx, gconstpointer data)
{
  const E e[] = { { 'l', "bad\nname\xff", "/", 0, -1 }, { 'f', "bad\nname\xff/x", "", 0, -1 } };
  g_autoptr (GError) error = NULL;

  g_assert_false (unpack (fx, e, G_N_ELEMENTS (e), &error));
  g_assert_nonnull (strstr (error->message, "bad\\nname\\377/x"));
}

static void
test_sizes (Fx *fx, gconstpointer data)
{
  g_autofree char *big = g_strnfill (4096, 'x');
  const E e[] = { { 'f', "big", big, 0, -1 } };
  g_autoptr (GBytes) tar = make_tar (e, 1);
  g_autoptr (GBytes) zeros = g_bytes_new_take (g_malloc0 (64 << 20), 64 << 20);
  g_autoptr (GBytes) bomb = gzip_bytes (zeros);
  g_autoptr (GError) error = NULL;
  HutchLayerStats stats;

  g_assert_false (unpack_full (fx, tar, HUTCH_LAYER_PLAIN, 1 << 30, 1000, &stats, &error));
  g_assert_nonnull (strstr (error->message, "size is over the limit"));
  g_clear_error (&error);
  /* 64 MiB of zeros gzip to 64 KiB: a bomb against a 16 MiB quota */
  g_assert_cmpuint (g_bytes_get_size (bomb), <, 100000);
  g_assert_false (unpack_full (fx, bomb, HUTCH_LAYER_GZIP, 16 << 20, 1 << 30, &stats, &error));
  g_assert_nonnull (strstr (error->message, "decompression bomb"));
}

/* Entries made with their final mode when nothing can change it, fixed
 * with fchmod when something can (the umask, a set-id bit, a set-group-ID
 * parent), and a name taken by an earlier entry replaced as tar does. */
static void
test_modes_and_replace (Fx *fx, gconstpointer data)
{
  const E entries[] = {
    { 'f', "plain", "x", 0644, -1 },
    { 'f', "exec", "x", 0755, -1 },
    { 'f', "open", "x", 0666, -1 },   /* the umask (022 here) would take bits */
    { 'f', "readonly", "x", 0444, -1 },
    { 'f', "setuid", "x", 04755, -1 },
    { 'd', "sg", NULL, 02775, -1 },
    { 'd', "sg/sub", NULL, 0755, -1 }, /* would inherit S_ISGID */
    { 'f', "again", "first", 0600, -1 },
    { 'f', "again", "second", 0640, -1 },
    { 'f', "was-file", "x", 0644, -1 },
    { 'd', "was-file", NULL, 0750, -1 },
    { 'd', "was-dir", NULL, 0755, -1 },
    { 'f', "was-dir/inside", "x", 0644, -1 },
    { 'f', "was-dir", "now a file", 0644, -1 },
    { 'd', "kept", NULL, 0755, -1 },
    { 'f', "kept/inside", "x", 0644, -1 },
    { 'd', "kept", NULL, 0711, -1 },
  };
  static const struct { const char *path; int mode; } want[] = {
    { "plain", S_IFREG | 0644 },   { "exec", S_IFREG | 0755 },  { "open", S_IFREG | 0666 },
    { "readonly", S_IFREG | 0444 }, { "setuid", S_IFREG | 04755 }, { "sg", S_IFDIR | 02775 },
    { "sg/sub", S_IFDIR | 0755 },  { "again", S_IFREG | 0640 }, { "was-file", S_IFDIR | 0750 },
    { "was-dir", S_IFREG | 0644 }, { "kept", S_IFDIR | 0711 },  { "kept/inside", S_IFREG | 0644 },
  };
  g_autoptr (GError) error = NULL;
  g_autofree char *again = layer_path (fx, "again"), *text = NULL;

  unpack (fx, entries, G_N_ELEMENTS (entries), &error);
  g_assert_no_error (error);
  for (gsize i = 0; i < G_N_ELEMENTS (want); i++)
    {
      g_autofree char *path = layer_path (fx, want[i].path);
      struct stat st;
      g_assert_cmpint (lstat (path, &st), ==, 0);
      if ((int) (st.st_mode & (S_IFMT | 07777)) != want[i].mode)
        g_error ("%s: mode %o, want %o", want[i].path, st.st_mode, want[i].mode);
    }
  g_assert_true (g_file_get_contents (again, &text, NULL, NULL));
  g_assert_cmpstr (text, ==, "second");
}

static void
test_corrupt (Fx *fx, gconstpointer data)
{
  const E e[] = { { 'f', "a", "hello", 0, -1 }, { 'f', "b", "world", 0, -1 } };
  g_autoptr (GBytes) tar = make_tar (e, 2);
  g_autoptr (GBytes) gz = gzip_bytes (tar);
  gsize len, glen;
  const char *t = g_bytes_get_data (tar, &len);
  const char *g = g_bytes_get_data (gz, &glen);
  g_autoptr (GBytes) cut = g_bytes_new (t, 1024);
  g_autoptr (GBytes) gcut = g_bytes_new (g, glen - 12);
  g_autoptr (GBytes) trailing = NULL, gtrailing = NULL, flipped = NULL;
  g_autoptr (GError) error = NULL;
  HutchLayerStats stats;
  char *buf;

  g_assert_false (unpack_full (fx, cut, HUTCH_LAYER_PLAIN, 1 << 30, 1 << 30, &stats, &error));
  g_assert_nonnull (strstr (error->message, "test layer"));
  g_clear_error (&error);
  g_assert_false (unpack_full (fx, gcut, HUTCH_LAYER_GZIP, 1 << 30, 1 << 30, &stats, &error));
  g_assert_nonnull (strstr (error->message, "truncated"));
  g_clear_error (&error);
  buf = g_malloc (len + 512);
  memcpy (buf, t, len);
  memset (buf + len, 'G', 512);
  trailing = g_bytes_new_take (buf, len + 512);
  g_assert_false (unpack_full (fx, trailing, HUTCH_LAYER_PLAIN, 1 << 30, 1 << 30, &stats, &error));
  g_assert_nonnull (strstr (error->message, "after the end of the tar"));
  g_clear_error (&error);
  buf = g_malloc (glen + 7);
  memcpy (buf, g, glen);
  memcpy (buf + glen, "garbage", 7);
  gtrailing = g_bytes_new_take (buf, glen + 7);
  g_assert_false (unpack_full (fx, gtrailing, HUTCH_LAYER_GZIP, 1 << 30, 1 << 30, &stats, &error));
  g_assert_nonnull (strstr (error->message, "after the end of the gzip stream"));
  g_clear_error (&error);
  buf = g_memdup2 (g, glen);
  buf[glen / 2] ^= 0x55;
  flipped = g_bytes_new_take (buf, glen);
  g_assert_false (unpack_full (fx, flipped, HUTCH_LAYER_GZIP, 1 << 30, 1 << 30, &stats, &error));
  g_clear_error (&error);
  /* the media type says gzip, the bytes are a plain tar */
  g_assert_false (unpack_full (fx, tar, HUTCH_LAYER_GZIP, 1 << 30, 1 << 30, &stats, &error));
  g_assert_nonnull (strstr (error->message, "first bytes are uncompressed tar"));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
#define ADD(name, fn) g_test_add ("/layer/unpack/" name, Fx, NULL, fx_setup, fn, fx_teardown)
  ADD ("good", test_good);
  ADD ("dotdot", test_dotdot);
  ADD ("absolute-neutralised", test_absolute_neutralised);
  ADD ("through-symlink", test_through_symlink);
  ADD ("hardlinks", test_hardlinks);
  ADD ("dir-symlink-file", test_dir_symlink_file);
  ADD ("root-entry", test_root_entry);
  ADD ("bad-whiteouts", test_bad_whiteouts);
  ADD ("symlink-without-target", test_symlink_without_target);
  ADD ("escaped-message", test_escaped_message);
  ADD ("sizes", test_sizes);
  ADD ("corrupt", test_corrupt);
  ADD ("modes-and-replace", test_modes_and_replace);
  return g_test_run ();
}
