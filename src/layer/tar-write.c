/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The one tar writer: commit's layer, export, cp out and save's archive.
 * ustar headers, with a PAX header first where ustar cannot say it (long
 * names, big ids and sizes, xattrs as SCHILY.xattr.*, which Go's
 * archive/tar and so podman and docker read). Our own encoder, not
 * libarchive's writer: its pax writer references the table of every write
 * format, which drags 7zip, xar, lzma, bzip2, libxml2 and nettle into a
 * static link (measured: 40 undefined symbols). The end is two zero blocks,
 * as Go writes it, with no padding to libarchive's 10 KiB records.
 *
 * Every file is opened with O_NOFOLLOW beneath the directory fd the caller
 * gives, one level at a time, so a symlink in the tree is written as a
 * symlink and never followed. A file's content is written at the size its
 * header declared: one that grows while it is read (a running container
 * committed without --pause) is cut there, one that shrinks is padded with
 * zeros, so the tar stays well formed whatever the container does. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "layer.h"
#include "util/fd.h"

#define WHITEOUT_PREFIX ".wh."
#define OPAQUE_NAME ".wh..wh..opq"
#define COPY_CHUNK ((gsize) 256 << 10)
#define XATTR_LIST_MAX_BYTES ((gsize) 64 << 10)

#define BLOCK 512
#define OUT_BUFFER ((gsize) 64 << 10)
#define USTAR_ID_MAX 07777777 /* 7 octal digits */
#define USTAR_SIZE_MAX G_GUINT64_CONSTANT (077777777777)

typedef struct
{
  dev_t dev;
  ino_t ino;
} InodeKey;

typedef struct
{
  char *key;
  guint8 *value;
  gsize len;
} Xattr;

/* One entry's header, before it is encoded. */
typedef struct
{
  const char *name;
  char type; /* '0' file, '1' hard link, '2' symlink, '3' char, '4' block, '5' dir, '6' fifo */
  guint mode;
  guint64 uid, gid, size;
  gint64 mtime;
  const char *link;
  guint dev_major, dev_minor;
  GPtrArray *xattrs; /* Xattr *, or NULL */
} Header;

struct HutchTarWriter
{
  HutchLayerWriteFunc write;
  gpointer write_data;
  char *what;
  gboolean failed;
  GHashTable *links; /* InodeKey * -> first name, for files with nlink > 1 */
  HutchTarWriteStats stats;
  guint8 *buf;       /* a read buffer for file content */
  GByteArray *out;   /* what is not yet given to @write */
  gboolean finished;
  gboolean own;      /* hutch_tar_writer_set_owner(): every entry's owner */
  guint32 uid, gid;
  guint32 mode;      /* hutch_tar_writer_set_mode(): 0, or the bits of every entry but links */
};

static guint
inode_hash (gconstpointer k)
{
  const InodeKey *key = k;

  return (guint) (key->ino ^ (key->ino >> 32) ^ key->dev);
}

static gboolean
inode_equal (gconstpointer a, gconstpointer b)
{
  const InodeKey *x = a, *y = b;

  return x->dev == y->dev && x->ino == y->ino;
}

static gboolean
flush (HutchTarWriter *w, GError **error)
{
  if (w->out->len == 0)
    return TRUE;
  if (!w->write (w->write_data, w->out->data, w->out->len, error))
    {
      w->failed = TRUE;
      return FALSE;
    }
  g_byte_array_set_size (w->out, 0);
  return TRUE;
}

static gboolean
emit (HutchTarWriter *w, const void *data, gsize len, GError **error)
{
  if (w->failed)
    return hutch_throw (error, HUTCH_ERROR_FAILED, "%s: the tar writer failed before", w->what);
  g_byte_array_append (w->out, data, (guint) len);
  return w->out->len < OUT_BUFFER || flush (w, error);
}

static gboolean
pad (HutchTarWriter *w, guint64 len, GError **error)
{
  static const guint8 zeros[BLOCK];
  gsize rest = (gsize) (len % BLOCK);

  return rest == 0 || emit (w, zeros, BLOCK - rest, error);
}

HutchTarWriter *
hutch_tar_writer_new (HutchLayerWriteFunc write, gpointer write_data, const char *what)
{
  HutchTarWriter *w = g_new0 (HutchTarWriter, 1);

  w->write = write;
  w->write_data = write_data;
  w->what = g_strdup (what);
  w->links = g_hash_table_new_full (inode_hash, inode_equal, g_free, g_free);
  w->buf = g_malloc (COPY_CHUNK);
  w->out = g_byte_array_sized_new (OUT_BUFFER + COPY_CHUNK + 4 * BLOCK);
  return w;
}

void
hutch_tar_writer_free (HutchTarWriter *w)
{
  if (w == NULL)
    return;
  g_hash_table_unref (w->links);
  g_byte_array_unref (w->out);
  g_free (w->buf);
  g_free (w->what);
  g_free (w);
}

/* "LEN key=value\n", LEN counting itself. */
static void
pax_record (GString *s, const char *key, const void *value, gsize value_len)
{
  gsize body = 1 + strlen (key) + 1 + value_len + 1;
  gsize len = body + 1;

  while (len != body + (gsize) snprintf (NULL, 0, "%zu", len))
    len = body + (gsize) snprintf (NULL, 0, "%zu", len);
  g_string_append_printf (s, "%zu %s=", len, key);
  g_string_append_len (s, value, (gssize) value_len);
  g_string_append_c (s, '\n');
}

static void
octal (guint8 *field, gsize width, guint64 value)
{
  /* width - 1 digits and a NUL */
  g_snprintf ((char *) field, width, "%0*" G_GINT64_MODIFIER "o", (int) (width - 1), value);
}

static void
block_encode (guint8 h[BLOCK], const char *name, char type, guint mode, guint64 uid, guint64 gid,
              guint64 size, gint64 mtime, const char *link, guint dev_major, guint dev_minor)
{
  guint sum = 0;

  memset (h, 0, BLOCK);
  strncpy ((char *) h, name, 100);
  octal (h + 100, 8, mode & 07777);
  octal (h + 108, 8, MIN (uid, USTAR_ID_MAX));
  octal (h + 116, 8, MIN (gid, USTAR_ID_MAX));
  octal (h + 124, 12, MIN (size, USTAR_SIZE_MAX));
  octal (h + 136, 12, (guint64) CLAMP (mtime, 0, (gint64) USTAR_SIZE_MAX));
  h[156] = (guint8) type;
  if (link != NULL)
    strncpy ((char *) h + 157, link, 100);
  memcpy (h + 257, "ustar", 6);
  memcpy (h + 263, "00", 2);
  octal (h + 329, 8, dev_major);
  octal (h + 337, 8, dev_minor);
  memset (h + 148, ' ', 8);
  for (gsize i = 0; i < BLOCK; i++)
    sum += h[i];
  g_snprintf ((char *) h + 148, 8, "%06o", sum);
}

/* The header of one entry: a PAX extended header first when ustar cannot
 * say it all (a name or link over 100 bytes, ids or a size too large for
 * its field, xattrs). */
static gboolean
header (HutchTarWriter *w, const Header *e, GError **error)
{
  g_autoptr (GString) pax = g_string_new (NULL);
  guint8 h[BLOCK];

  if (strlen (e->name) > 100)
    pax_record (pax, "path", e->name, strlen (e->name));
  if (e->link != NULL && strlen (e->link) > 100)
    pax_record (pax, "linkpath", e->link, strlen (e->link));
  if (e->uid > USTAR_ID_MAX)
    {
      g_autofree char *v = g_strdup_printf ("%" G_GUINT64_FORMAT, e->uid);
      pax_record (pax, "uid", v, strlen (v));
    }
  if (e->gid > USTAR_ID_MAX)
    {
      g_autofree char *v = g_strdup_printf ("%" G_GUINT64_FORMAT, e->gid);
      pax_record (pax, "gid", v, strlen (v));
    }
  if (e->size > USTAR_SIZE_MAX)
    {
      g_autofree char *v = g_strdup_printf ("%" G_GUINT64_FORMAT, e->size);
      pax_record (pax, "size", v, strlen (v));
    }
  for (guint i = 0; e->xattrs != NULL && i < e->xattrs->len; i++)
    {
      const Xattr *x = g_ptr_array_index (e->xattrs, i);
      g_autofree char *key = g_strconcat ("SCHILY.xattr.", x->key, NULL);
      pax_record (pax, key, x->value, x->len);
    }
  if (pax->len > 0)
    {
      g_autofree char *base = g_path_get_basename (e->name);
      g_autofree char *pax_name = g_strconcat ("PaxHeaders.0/", base, NULL);
      block_encode (h, pax_name, 'x', 0644, 0, 0, pax->len, e->mtime, NULL, 0, 0);
      if (!emit (w, h, BLOCK, error) || !emit (w, pax->str, pax->len, error)
          || !pad (w, pax->len, error))
        return FALSE;
    }
  block_encode (h, e->name, e->type, e->mode, e->uid, e->gid, e->size, e->mtime, e->link,
                e->dev_major, e->dev_minor);
  if (!emit (w, h, BLOCK, error))
    return FALSE;
  w->stats.entries++;
  return TRUE;
}

gboolean
hutch_tar_writer_add_whiteout (HutchTarWriter *w, const char *name, GError **error)
{
  Header e = { .name = name, .type = '0' };

  if (!header (w, &e, error))
    return FALSE;
  w->stats.whiteouts++;
  return TRUE;
}

gboolean
hutch_tar_writer_add_dir (HutchTarWriter *w, const char *name, gint64 mtime, GError **error)
{
  g_autofree char *slashed = g_str_has_suffix (name, "/") ? g_strdup (name) : g_strconcat (name, "/", NULL);
  Header e = { .name = slashed, .type = '5', .mode = w->mode != 0 ? w->mode : 0755,
               .uid = w->own ? w->uid : 0, .gid = w->own ? w->gid : 0, .mtime = mtime };

  return header (w, &e, error);
}

gboolean
hutch_tar_writer_add_bytes (HutchTarWriter *w, const char *name, const void *data, gsize len,
                            gint64 mtime, GError **error)
{
  Header e = { .name = name, .type = '0', .mode = w->mode != 0 ? w->mode : 0644, .size = len,
               .uid = w->own ? w->uid : 0, .gid = w->own ? w->gid : 0, .mtime = mtime };

  return header (w, &e, error) && emit (w, data, len, error) && pad (w, len, error);
}

/* Writes @size bytes of @fd's content at the current offset: fewer in the
 * file are made up with zeros, more are left out (see the top). */
static gboolean
content (HutchTarWriter *w, int fd, guint64 size, const char *name, GError **error)
{
  guint64 left = size;

  while (left > 0)
    {
      gsize want = (gsize) MIN (left, (guint64) COPY_CHUNK);
      ssize_t n = read (fd, w->buf, want);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return hutch_throw_errno (error, "%s: cannot read \"%s\"", w->what, name);
      if (n == 0)
        {
          memset (w->buf, 0, want);
          n = (ssize_t) want;
        }
      if (!emit (w, w->buf, (gsize) n, error))
        return FALSE;
      left -= (guint64) n;
    }
  return pad (w, size, error);
}

gboolean
hutch_tar_writer_add_fd (HutchTarWriter *w, const char *name, int fd, guint64 size, gint64 mtime,
                         GError **error)
{
  Header e = { .name = name, .type = '0', .mode = 0644, .size = size, .mtime = mtime };

  return header (w, &e, error) && content (w, fd, size, name, error);
}

static void
xattr_free (gpointer p)
{
  Xattr *x = p;

  g_free (x->key);
  g_free (x->value);
  g_free (x);
}

/* Whether an xattr belongs to the overlay's bookkeeping, not the file. */
static gboolean
xattr_is_overlay (const char *key)
{
  return g_str_has_prefix (key, "trusted.overlay.") || g_str_has_prefix (key, "user.overlay.")
         || g_str_has_prefix (key, "user.fuseoverlayfs.")
         || g_str_has_prefix (key, "trusted.fuseoverlayfs.");
}

/* The value of @key of the file that @fd (maybe O_PATH) is, or NULL. */
static guint8 *
xattr_get (int fd, gboolean opath, const char *key, gsize *out_len)
{
  char proc[64];
  ssize_t n;
  g_autofree guint8 *v = NULL;

  g_snprintf (proc, sizeof proc, "/proc/self/fd/%d", fd);
  n = opath ? getxattr (proc, key, NULL, 0) : fgetxattr (fd, key, NULL, 0);
  if (n < 0 || (gsize) n > XATTR_LIST_MAX_BYTES)
    return NULL;
  v = g_malloc (n > 0 ? (gsize) n : 1);
  n = opath ? getxattr (proc, key, v, (size_t) n) : fgetxattr (fd, key, v, (size_t) n);
  if (n < 0)
    return NULL;
  *out_len = (gsize) n;
  return g_steal_pointer (&v);
}

/* Whether the directory @fd is marked opaque, in any overlay's form. */
static gboolean
dir_is_opaque (int fd)
{
  static const char *const keys[] = {
    "trusted.overlay.opaque",
    "user.overlay.opaque",
    "user.fuseoverlayfs.opaque",
    "trusted.fuseoverlayfs.opaque",
  };

  for (gsize i = 0; i < G_N_ELEMENTS (keys); i++)
    {
      gsize len = 0;
      g_autofree guint8 *v = xattr_get (fd, FALSE, keys[i], &len);
      if (v != NULL && len >= 1 && v[0] == 'y')
        return TRUE;
    }
  return FALSE;
}

/* The file's xattrs, but the overlay's own, as Xattr *; NULL for
 * none. Unreadable ones (trusted.* as a normal user) are not ours to copy. */
static GPtrArray *
xattrs_read (int fd, gboolean opath)
{
  char proc[64];
  g_autofree char *list = NULL;
  g_autoptr (GPtrArray) out = NULL;
  ssize_t n;

  g_snprintf (proc, sizeof proc, "/proc/self/fd/%d", fd);
  n = opath ? listxattr (proc, NULL, 0) : flistxattr (fd, NULL, 0);
  if (n <= 0 || (gsize) n > XATTR_LIST_MAX_BYTES)
    return NULL;
  list = g_malloc ((gsize) n + 1);
  n = opath ? listxattr (proc, list, (size_t) n) : flistxattr (fd, list, (size_t) n);
  if (n <= 0)
    return NULL;
  list[n] = '\0';
  for (char *k = list; k < list + n; k += strlen (k) + 1)
    {
      gsize len = 0;
      guint8 *v;
      Xattr *x;
      if (*k == '\0' || xattr_is_overlay (k))
        continue;
      v = xattr_get (fd, opath, k, &len);
      if (v == NULL)
        continue;
      if (out == NULL)
        out = g_ptr_array_new_with_free_func (xattr_free);
      x = g_new0 (Xattr, 1);
      x->key = g_strdup (k);
      x->value = v;
      x->len = len;
      g_ptr_array_add (out, x);
    }
  return g_steal_pointer (&out);
}

static char
type_flag (mode_t type)
{
  switch (type)
    {
    case S_IFDIR:
      return '5';
    case S_IFLNK:
      return '2';
    case S_IFCHR:
      return '3';
    case S_IFBLK:
      return '4';
    case S_IFIFO:
      return '6';
    default:
      return '0';
    }
}

/* Writes the entry @name of the file @path beneath @dir_fd, whose lstat is
 * @st: a directory's own entry only, whose open fd goes to *@out_dir_fd
 * when that is not NULL, and whether it is opaque to *@out_opaque. */
static gboolean
add_one (HutchTarWriter *w, int dir_fd, const char *path, const char *name, const struct stat *st,
         HutchTarTreeFlags flags, int *out_dir_fd, gboolean *out_opaque, GError **error)
{
  g_autoptr (GPtrArray) xattrs = NULL;
  g_autofree char *target = NULL;
  g_autofree char *dir_name = NULL;
  hutch_autofd int fd = -1;
  gboolean opath = FALSE;
  gboolean with_xattrs = !(flags & HUTCH_TAR_TREE_NO_XATTRS);
  mode_t type = st->st_mode & S_IFMT;
  Header e = {
    .name = name,
    .type = type_flag (type),
    .mode = st->st_mode & 07777,
    .uid = st->st_uid,
    .gid = st->st_gid,
    .mtime = st->st_mtim.tv_sec,
  };

  if (w->own)
    e.uid = w->uid, e.gid = w->gid;
  if (w->mode != 0 && type != S_IFLNK)
    e.mode = w->mode & 07777;

  if (type == S_IFREG)
    fd = openat (dir_fd, path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
  else if (type == S_IFDIR)
    fd = openat (dir_fd, path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  else if (with_xattrs && type != S_IFLNK)
    {
      fd = openat (dir_fd, path, O_PATH | O_NOFOLLOW | O_CLOEXEC);
      opath = TRUE;
    }
  if (fd < 0 && (type == S_IFREG || type == S_IFDIR))
    return hutch_throw_errno (error, "%s: cannot open \"%s\"", w->what, name);

  if (type == S_IFLNK)
    {
      ssize_t n;
      target = g_malloc ((gsize) st->st_size + 2);
      n = readlinkat (dir_fd, path, target, (size_t) st->st_size + 1);
      if (n < 0)
        return hutch_throw_errno (error, "%s: cannot read the symlink \"%s\"", w->what, name);
      target[n] = '\0';
      e.link = target;
    }
  if (type == S_IFCHR || type == S_IFBLK)
    {
      e.dev_major = major (st->st_rdev);
      e.dev_minor = minor (st->st_rdev);
    }
  if (type == S_IFREG && st->st_nlink > 1)
    {
      InodeKey key = { st->st_dev, st->st_ino };
      const char *first = g_hash_table_lookup (w->links, &key);
      if (first != NULL)
        {
          e.type = '1';
          e.link = first;
          return header (w, &e, error);
        }
      g_hash_table_insert (w->links, g_memdup2 (&key, sizeof key), g_strdup (name));
    }
  if (type == S_IFREG)
    e.size = (guint64) st->st_size;
  if (with_xattrs && fd >= 0)
    e.xattrs = xattrs = xattrs_read (fd, opath);
  if (type == S_IFDIR && (flags & HUTCH_TAR_TREE_OVERLAY_UPPER) && out_opaque != NULL)
    *out_opaque = dir_is_opaque (fd);
  if (type == S_IFDIR && !g_str_has_suffix (name, "/"))
    e.name = dir_name = g_strconcat (name, "/", NULL);
  if (name[0] != '\0' && !header (w, &e, error))
    return FALSE;
  if (type == S_IFREG && !content (w, fd, e.size, name, error))
    return FALSE;
  if (type == S_IFDIR && out_dir_fd != NULL)
    *out_dir_fd = hutch_fd_steal (&fd);
  return TRUE;
}

void
hutch_tar_writer_set_owner (HutchTarWriter *w, guint32 uid, guint32 gid)
{
  w->own = TRUE;
  w->uid = uid;
  w->gid = gid;
}

void
hutch_tar_writer_set_mode (HutchTarWriter *w, guint32 mode)
{
  w->mode = mode;
}

gboolean
hutch_tar_writer_add_path (HutchTarWriter *w, int dir_fd, const char *path, const char *name,
                           HutchTarTreeFlags flags, GError **error)
{
  struct stat st;

  if (fstatat (dir_fd, path, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return hutch_throw_errno (error, "%s: cannot read \"%s\"", w->what, name);
  if (S_ISSOCK (st.st_mode))
    {
      w->stats.skipped++;
      return TRUE;
    }
  return add_one (w, dir_fd, path, name, &st, flags, NULL, NULL, error);
}

typedef struct
{
  HutchTarWriter *w;
  HutchTarTreeFlags flags;
  GHashTable *exclude; /* relative paths */
  dev_t root_dev;
} Walk;

static int
compare_names (gconstpointer a, gconstpointer b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

static char *
join (const char *dir, const char *name)
{
  if (dir[0] == '\0')
    return g_strdup (name);
  return g_strconcat (dir, "/", name, NULL);
}

/* The entries of the directory @fd, @rel beneath the tree's root and
 * @name in the tar. */
static gboolean
walk_dir (Walk *k, int fd, const char *rel, const char *name, GError **error)
{
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  DIR *d;
  int dup_fd = fcntl (fd, F_DUPFD_CLOEXEC, 3);

  if (dup_fd < 0 || (d = fdopendir (dup_fd)) == NULL)
    {
      if (dup_fd >= 0)
        close (dup_fd);
      return hutch_throw_errno (error, "%s: cannot list \"%s\"", k->w->what, name);
    }
  for (struct dirent *de; (errno = 0, de = readdir (d)) != NULL;)
    if (strcmp (de->d_name, ".") != 0 && strcmp (de->d_name, "..") != 0)
      g_ptr_array_add (names, g_strdup (de->d_name));
  if (errno != 0)
    {
      int errsv = errno;
      closedir (d);
      return hutch_throw_errno_val (error, errsv, "%s: cannot list \"%s\"", k->w->what, name);
    }
  closedir (d);
  g_ptr_array_sort (names, compare_names);

  for (guint i = 0; i < names->len; i++)
    {
      const char *child = g_ptr_array_index (names, i);
      g_autofree char *child_rel = join (rel, child);
      g_autofree char *child_name = join (name, child);
      hutch_autofd int child_fd = -1;
      gboolean opaque = FALSE;
      struct stat st;

      if (k->exclude != NULL && g_hash_table_contains (k->exclude, child_rel))
        {
          k->w->stats.skipped++;
          continue;
        }
      if (fstatat (fd, child, &st, AT_SYMLINK_NOFOLLOW) < 0)
        {
          if (errno == ENOENT) /* gone while we looked: a running container */
            continue;
          return hutch_throw_errno (error, "%s: cannot read \"%s\"", k->w->what, child_name);
        }
      if (S_ISSOCK (st.st_mode))
        {
          k->w->stats.skipped++;
          continue;
        }
      if ((k->flags & HUTCH_TAR_TREE_OVERLAY_UPPER) && S_ISCHR (st.st_mode) && st.st_rdev == 0)
        {
          g_autofree char *wh = g_strconcat (WHITEOUT_PREFIX, child, NULL);
          g_autofree char *wh_name = join (name, wh);
          if (!hutch_tar_writer_add_whiteout (k->w, wh_name, error))
            return FALSE;
          continue;
        }
      if (!add_one (k->w, fd, child, child_name, &st, k->flags, &child_fd, &opaque, error))
        return FALSE;
      if (child_fd < 0)
        continue;
      if (opaque)
        {
          g_autofree char *opq = join (child_name, OPAQUE_NAME);
          if (!hutch_tar_writer_add_whiteout (k->w, opq, error))
            return FALSE;
        }
      /* A mount point's own entry is there; what is mounted on it is not
       * the tree's (a volume, /proc of a running container). */
      if (st.st_dev != k->root_dev)
        continue;
      if (!walk_dir (k, child_fd, child_rel, child_name, error))
        return FALSE;
    }
  return TRUE;
}

gboolean
hutch_tar_writer_add_tree (HutchTarWriter *w, int dir_fd, const char *path, const char *name,
                           HutchTarTreeFlags flags, const char *const *exclude, GError **error)
{
  g_autoptr (GHashTable) excl = NULL;
  hutch_autofd int fd = -1;
  gboolean opaque = FALSE;
  struct stat st;
  Walk k = { w, flags, NULL, 0 };

  if (fstatat (dir_fd, path, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return hutch_throw_errno (error, "%s: cannot read \"%s\"", w->what, path);
  if (!S_ISDIR (st.st_mode))
    return hutch_tar_writer_add_path (w, dir_fd, path, name, flags, error);
  if (exclude != NULL && exclude[0] != NULL)
    {
      excl = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
      for (const char *const *x = exclude; *x != NULL; x++)
        {
          const char *rel = *x;
          while (*rel == '/')
            rel++;
          g_hash_table_add (excl, g_strdup (rel));
        }
      k.exclude = excl;
    }
  k.root_dev = st.st_dev;
  /* The root's own entry, unless it is the layer's root (name ""). */
  if (!add_one (w, dir_fd, path, name, &st, flags, &fd, &opaque, error))
    return FALSE;
  if (opaque && name[0] != '\0')
    {
      g_autofree char *opq = join (name, OPAQUE_NAME);
      if (!hutch_tar_writer_add_whiteout (w, opq, error))
        return FALSE;
    }
  return walk_dir (&k, fd, "", name, error);
}

gboolean
hutch_tar_writer_finish (HutchTarWriter *w, HutchTarWriteStats *out_stats, GError **error)
{
  static const guint8 end[2 * BLOCK];

  if (!emit (w, end, sizeof end, error) || !flush (w, error))
    return FALSE;
  w->finished = TRUE;
  if (out_stats != NULL)
    *out_stats = w->stats;
  return TRUE;
}
