/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The last rootfs driver: when neither the kernel overlay nor
 * fuse-overlayfs can be mounted, the container gets a private copy of its
 * layers, applied bottom first as overlayfs would merge them (a 0/0
 * character device deletes what is below, an opaque directory hides it).
 * Runs in the child as root of the user namespace, so owners, setuid bits
 * and security.capability come across as the layers have them. Every step
 * is relative to a directory fd with O_NOFOLLOW: a name is one component
 * read from a directory we made or unpacked. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "sandbox-private.h"

typedef struct
{
  GHashTable *links; /* source inode -> path (relative to the rootfs) of its first copy */
  int root_fd;       /* the rootfs being made */
} Copy;

static gboolean
is_whiteout (const struct stat *st)
{
  return S_ISCHR (st->st_mode) && major (st->st_rdev) == 0 && minor (st->st_rdev) == 0;
}

/* The markers unpack leaves on an opaque directory: they describe a layer,
 * not the merged tree, so they are read here and never copied. */
static gboolean
is_opaque_xattr (const char *name)
{
  return strcmp (name, "user.overlay.opaque") == 0 || strcmp (name, "user.fuseoverlayfs.opaque") == 0;
}

static gboolean
is_opaque (int dir_fd)
{
  char v[2];
  g_autofree char *path = g_strdup_printf ("/proc/self/fd/%d", dir_fd);

  return getxattr (path, "user.overlay.opaque", v, sizeof v) == 1 && v[0] == 'y';
}

/* The xattrs unpack keeps (user.*, security.capability), copied by path
 * through /proc/self/fd: that works for symlinks' O_PATH fds too. */
static gboolean
copy_xattrs (int src_fd, int dst_fd, const char *what, GError **error)
{
  g_autofree char *src = g_strdup_printf ("/proc/self/fd/%d", src_fd);
  g_autofree char *dst = g_strdup_printf ("/proc/self/fd/%d", dst_fd);
  char names[4096];
  ssize_t len = llistxattr (src, names, sizeof names);

  if (len < 0)
    return errno == ENOTSUP || errno == EPERM ? TRUE
                                                : hutch_throw_errno (error, "listing the xattrs of %s", what);
  for (ssize_t at = 0; at < len; at += (ssize_t) strlen (names + at) + 1)
    {
      const char *name = names + at;
      char value[65536];
      ssize_t n;
      if (is_opaque_xattr (name))
        continue;
      n = lgetxattr (src, name, value, sizeof value);
      if (n < 0 || lsetxattr (dst, name, value, (size_t) n, 0) < 0)
        return hutch_throw_errno (error, "copying xattr %s of %s", name, what);
    }
  return TRUE;
}

/* Owner, mode (after the owner: chown clears setuid), xattrs and times. */
static gboolean
copy_meta (int src_fd, int dst_fd, const struct stat *st, const char *what, GError **error)
{
  struct timespec times[2] = { st->st_atim, st->st_mtim };
  g_autofree char *dst = g_strdup_printf ("/proc/self/fd/%d", dst_fd);

  if (fchownat (dst_fd, "", st->st_uid, st->st_gid, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0)
    return hutch_throw_errno (error, "giving %s its owner %u:%u", what, st->st_uid, st->st_gid);
  if (!S_ISLNK (st->st_mode) && chmod (dst, st->st_mode & 07777) < 0)
    return hutch_throw_errno (error, "giving %s its mode", what);
  if (!copy_xattrs (src_fd, dst_fd, what, error))
    return FALSE;
  if (utimensat (dst_fd, "", times, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0 && errno != EINVAL)
    return hutch_throw_errno (error, "giving %s its times", what);
  return TRUE;
}

static gboolean
copy_data (int in, int out, const char *what, GError **error)
{
  for (;;)
    {
      ssize_t n = copy_file_range (in, NULL, out, NULL, 1 << 30, 0);
      if (n == 0)
        return TRUE;
      if (n < 0)
        {
          char buf[65536];
          if (errno != EXDEV && errno != ENOSYS && errno != EOPNOTSUPP && errno != EINVAL)
            return hutch_throw_errno (error, "copying %s", what);
          /* another file system, or one without copy_file_range */
          while ((n = read (in, buf, sizeof buf)) > 0)
            if (!hutch_util_write_all (out, buf, (gsize) n, error))
              return FALSE;
          return n == 0 ? TRUE : hutch_throw_errno (error, "copying %s", what);
        }
    }
}

static gboolean apply_dir (Copy *c, int src_dir, int dst_dir, const char *rel, GError **error);

/* One entry of a layer that is not a whiteout, onto a place now free. */
static gboolean
create_entry (Copy *c, int src_dir, int dst_dir, const char *name, const struct stat *st,
              const char *rel, GError **error)
{
  hutch_autofd int src = -1, dst = -1;

  if (S_ISREG (st->st_mode) && st->st_nlink > 1)
    {
      guint64 key = (guint64) st->st_ino;
      const char *first = g_hash_table_lookup (c->links, &key);
      if (first != NULL)
        {
          if (linkat (c->root_fd, first, dst_dir, name, 0) < 0)
            return hutch_throw_errno (error, "linking /%s to /%s", rel, first);
          return TRUE;
        }
      g_hash_table_insert (c->links, g_memdup2 (&key, sizeof key), g_strdup (rel));
    }
  if (S_ISDIR (st->st_mode))
    {
      if (mkdirat (dst_dir, name, 0700) < 0)
        return hutch_throw_errno (error, "making /%s", rel);
      src = openat (src_dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      dst = openat (dst_dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (src < 0 || dst < 0)
        return hutch_throw_errno (error, "opening /%s", rel);
      /* contents first: their creation would change the times set after */
      return apply_dir (c, src, dst, rel, error) && copy_meta (src, dst, st, rel, error);
    }
  if (S_ISREG (st->st_mode))
    {
      src = openat (src_dir, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
      dst = openat (dst_dir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
      if (src < 0 || dst < 0)
        return hutch_throw_errno (error, "copying /%s", rel);
      return copy_data (src, dst, rel, error) && copy_meta (src, dst, st, rel, error);
    }
  if (S_ISLNK (st->st_mode))
    {
      char target[PATH_MAX + 1];
      ssize_t n = readlinkat (src_dir, name, target, PATH_MAX);
      if (n < 0)
        return hutch_throw_errno (error, "reading the link /%s", rel);
      target[n] = '\0';
      if (symlinkat (target, dst_dir, name) < 0)
        return hutch_throw_errno (error, "making the link /%s", rel);
    }
  else if (S_ISFIFO (st->st_mode) || S_ISSOCK (st->st_mode))
    {
      if (mknodat (dst_dir, name, st->st_mode & S_IFMT, 0) < 0)
        return hutch_throw_errno (error, "making /%s", rel);
    }
  else
    return TRUE; /* devices: unpack never makes them, other than whiteouts */
  src = openat (src_dir, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
  dst = openat (dst_dir, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
  if (src < 0 || dst < 0)
    return hutch_throw_errno (error, "opening /%s", rel);
  return copy_meta (src, dst, st, rel, error);
}

/* Merges the layer directory @src_dir onto @dst_dir. */
static gboolean
apply_dir (Copy *c, int src_dir, int dst_dir, const char *rel, GError **error)
{
  g_autoptr (GPtrArray) names = hutch_util_list_dir_at (src_dir, error);

  if (names == NULL)
    return g_prefix_error (error, "reading /%s: ", rel), FALSE;
  for (guint i = 0; i < names->len; i++)
    {
      const char *name = names->pdata[i];
      g_autofree char *path = *rel != '\0' ? g_strconcat (rel, "/", name, NULL) : g_strdup (name);
      struct stat st, old;
      gboolean exists;

      if (fstatat (src_dir, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        return hutch_throw_errno (error, "looking at /%s in a layer", path);
      exists = fstatat (dst_dir, name, &old, AT_SYMLINK_NOFOLLOW) == 0;
      if (is_whiteout (&st))
        {
          if (exists && !hutch_util_remove_tree_at (dst_dir, name))
            return hutch_throw_errno (error, "removing /%s (whited out)", path);
          continue;
        }
      if (exists && S_ISDIR (st.st_mode) && S_ISDIR (old.st_mode))
        {
          hutch_autofd int src = openat (src_dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
          hutch_autofd int dst = openat (dst_dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
          if (src < 0 || dst < 0)
            return hutch_throw_errno (error, "opening /%s", path);
          if (is_opaque (src))
            {
              g_autoptr (GPtrArray) below = hutch_util_list_dir_at (dst, error);
              if (below == NULL)
                return FALSE;
              for (guint j = 0; j < below->len; j++)
                if (!hutch_util_remove_tree_at (dst, below->pdata[j]))
                  return hutch_throw_errno (error, "emptying /%s (opaque)", path);
            }
          if (!apply_dir (c, src, dst, path, error) || !copy_meta (src, dst, &st, path, error))
            return FALSE;
          continue;
        }
      if (exists && !hutch_util_remove_tree_at (dst_dir, name))
        return hutch_throw_errno (error, "replacing /%s", path);
      if (!create_entry (c, src_dir, dst_dir, name, &st, path, error))
        return FALSE;
    }
  return TRUE;
}

gboolean
hutch_sandbox_copy_rootfs (const HutchSandboxSpec *spec, GError **error)
{
  hutch_autofd int root = open (spec->rootfs, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  guint n = g_strv_length (spec->lowerdirs);
  struct stat st;

  if (root < 0)
    return hutch_throw_errno (error, "opening %s", spec->rootfs);
  /* lowerdirs are top first: apply from the bottom */
  for (guint i = n; i-- > 0;)
    {
      hutch_autofd int layer = open (spec->lowerdirs[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      Copy c = { g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, g_free), root };
      gboolean ok;
      if (layer < 0)
        {
          g_hash_table_unref (c.links);
          return hutch_throw_errno (error, "opening the layer %s", spec->lowerdirs[i]);
        }
      ok = apply_dir (&c, layer, root, "", error)
           && (i > 0 || (fstat (layer, &st) == 0 && copy_meta (layer, root, &st, "/", error)));
      g_hash_table_unref (c.links);
      if (!ok)
        return g_prefix_error (error, "copying layer %u of %u: ", n - i, n), FALSE;
    }
  /* pivot_root wants a mount point */
  if (mount (spec->rootfs, spec->rootfs, NULL, MS_BIND | MS_REC, NULL) < 0)
    return hutch_throw_errno (error, "binding the copied rootfs %s", spec->rootfs);
  return TRUE;
}

gboolean
hutch_sandbox_copy_tree_at (int src_fd, int dst_fd, const char *what, GError **error)
{
  Copy c = { g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, g_free), dst_fd };
  struct stat st;
  gboolean ok;

  /* a merged view has no whiteouts or opaque markers left for apply_dir
   * to act on: it is a plain copy here */
  ok = apply_dir (&c, src_fd, dst_fd, "", error)
       && (fstat (src_fd, &st) == 0 || hutch_throw_errno (error, "looking at %s", what))
       && copy_meta (src_fd, dst_fd, &st, what, error);
  g_hash_table_unref (c.links);
  if (!ok)
    return g_prefix_error (error, "copying %s: ", what), FALSE;
  return TRUE;
}
