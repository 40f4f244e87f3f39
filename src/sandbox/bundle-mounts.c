/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* An OCI bundle's file system, made by the container's process as root of
 * its user and mount namespaces: the rootfs directory bound on itself, the
 * mounts of config.json in their order, the devices, pivot_root, then
 * maskedPaths, readonlyPaths and a read-only root. Every destination is
 * resolved beneath the rootfs and mounted by fd, so a symlink in the rootfs
 * cannot send a mount onto the host. `run`'s own plan is mounts.c's. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "bundle-private.h"

/* What runc and crun make in every container's /dev. */
static const char *const default_devices[] = {
  "/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom", "/dev/tty",
};
static const char *const dev_links[][2] = {
  { "/proc/self/fd", "fd" },     { "/proc/self/fd/0", "stdin" },
  { "/proc/self/fd/1", "stdout" }, { "/proc/self/fd/2", "stderr" },
  { "pts/ptmx", "ptmx" },
};

static char *
fd_path (int fd)
{
  return g_strdup_printf ("/proc/self/fd/%d", fd);
}

/* @path beneath @root_fd, made (its parents too) as a directory or, with
 * @is_file, an empty file when missing. */
static int
target_open (int root_fd, const char *path, gboolean is_file, GError **error)
{
  g_autoptr (GError) local = NULL;
  g_autofree char *dir = NULL, *base = NULL;
  hutch_autofd int parent = -1;
  int fd = hutch_util_open_in_root (root_fd, path, O_PATH, 0, &local);

  if (fd >= 0 || !g_error_matches (local, G_FILE_ERROR, G_FILE_ERROR_NOENT))
    {
      if (fd < 0)
        g_propagate_error (error, g_steal_pointer (&local));
      return fd;
    }
  dir = g_path_get_dirname (path);
  base = g_path_get_basename (path);
  if (strcmp (dir, path) == 0)
    return hutch_throw (error, HUTCH_ERROR_FAILED, "%s: no such directory", path), -1;
  parent = target_open (root_fd, dir, FALSE, error);
  if (parent < 0)
    return -1;
  /* an O_PATH fd is no directory to make things in: reopened beneath */
  hutch_fd_clear (&parent);
  parent = hutch_util_open_in_root (root_fd, dir, O_RDONLY | O_DIRECTORY, 0, error);
  if (parent < 0)
    return -1;
  if (is_file)
    {
      int made = openat (parent, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
      if (made < 0 && errno != EEXIST)
        return hutch_throw_errno (error, "creating %s", path), -1;
      if (made >= 0)
        close (made);
    }
  else if (mkdirat (parent, base, 0755) < 0 && errno != EEXIST)
    return hutch_throw_errno (error, "creating %s", path), -1;
  return hutch_util_open_in_root (root_fd, path, O_PATH, 0, error);
}

/* The flags a mount has that a user namespace may not clear
 * (mount_namespaces(7), "locked" flags), as MS_* for a remount. */
static unsigned long
locked_flags (int fd)
{
  struct statvfs st;
  unsigned long f = 0;

  if (fstatvfs (fd, &st) < 0)
    return 0;
  f |= (st.f_flag & ST_NOSUID) ? MS_NOSUID : 0;
  f |= (st.f_flag & ST_NODEV) ? MS_NODEV : 0;
  f |= (st.f_flag & ST_NOEXEC) ? MS_NOEXEC : 0;
  f |= (st.f_flag & ST_RDONLY) ? MS_RDONLY : 0;
  f |= (st.f_flag & ST_NOATIME) ? MS_NOATIME : 0;
  f |= (st.f_flag & ST_NODIRATIME) ? MS_NODIRATIME : 0;
  f |= (st.f_flag & ST_RELATIME) ? MS_RELATIME : 0;
  return f;
}

/* A bind mount's own flags (ro, nosuid, ...) need a second call, made on
 * the new mount (the fd of the target still names what is beneath it). */
static gboolean
remount_bind (int root_fd, const char *dest, unsigned long flags, GError **error)
{
  hutch_autofd int fd = hutch_util_open_in_root (root_fd, dest, O_PATH, 0, error);
  g_autofree char *where = NULL;
  unsigned long keep;

  if (fd < 0)
    return FALSE;
  where = fd_path (fd);
  keep = locked_flags (fd) & ~MS_RDONLY;
  if (mount (NULL, where, NULL, MS_REMOUNT | MS_BIND | flags | keep, NULL) < 0)
    return hutch_throw_errno (error, "remounting %s", dest);
  return TRUE;
}

static gboolean
set_propagation (int root_fd, const char *dest, unsigned long propagation, GError **error)
{
  hutch_autofd int fd = -1;
  g_autofree char *where = NULL;

  if (propagation == 0)
    return TRUE;
  fd = hutch_util_open_in_root (root_fd, dest, O_PATH, 0, error);
  if (fd < 0)
    return FALSE;
  where = fd_path (fd);
  if (mount (NULL, where, NULL, propagation, NULL) < 0)
    return hutch_throw_errno (error, "setting the propagation of %s", dest);
  return TRUE;
}

#define BIND_FLAGS (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME | MS_NODIRATIME \
                    | MS_RELATIME | MS_STRICTATIME)

static gboolean
mount_bind (int root_fd, const char *source, const char *dest, unsigned long flags,
            GError **error)
{
  hutch_autofd int src = open (source, O_PATH | O_CLOEXEC);
  hutch_autofd int tgt = -1;
  g_autofree char *from = NULL, *to = NULL;
  struct stat st;

  if (src < 0 || fstat (src, &st) < 0)
    return hutch_throw_errno (error, "bind source %s", source);
  tgt = target_open (root_fd, dest, !S_ISDIR (st.st_mode), error);
  if (tgt < 0)
    return FALSE;
  from = fd_path (src);
  to = fd_path (tgt);
  if (mount (from, to, NULL, MS_BIND | (flags & MS_REC), NULL) < 0)
    return hutch_throw_errno (error, "binding %s on %s", source, dest);
  if ((flags & BIND_FLAGS) != 0)
    return remount_bind (root_fd, dest, flags & BIND_FLAGS, error);
  return TRUE;
}

/* devpts refuses gid=5 when gid 5 is not mapped (rootless with one id):
 * without it, as runc and crun retry. */
static char *
data_without_gid (const char *data)
{
  g_auto (GStrv) opts = g_strsplit (data != NULL ? data : "", ",", -1);
  g_autoptr (GPtrArray) kept = g_ptr_array_new ();

  for (char **o = opts; *o != NULL; o++)
    if (!g_str_has_prefix (*o, "gid=") && **o != '\0')
      g_ptr_array_add (kept, *o);
  g_ptr_array_add (kept, NULL);
  return g_strjoinv (",", (char **) kept->pdata);
}

/* A file system the user namespace may not mount when it does not own the
 * namespace it shows (sysfs without our own network namespace, cgroup v1,
 * mqueue): the host's bound instead, read-only, as runc does rootless. */
static const char *
bind_fallback (const char *type)
{
  if (strcmp (type, "sysfs") == 0)
    return "/sys";
  if (strcmp (type, "cgroup") == 0 || strcmp (type, "cgroup2") == 0)
    return "/sys/fs/cgroup";
  if (strcmp (type, "mqueue") == 0)
    return "/dev/mqueue";
  return NULL;
}

static gboolean
mount_one (int root_fd, const HutchBundleMount *m, GError **error)
{
  hutch_autofd int tgt = -1;
  g_autofree char *to = NULL;
  const char *type = m->type != NULL ? m->type : "none";
  const char *fallback;
  int errsv;

  if ((m->flags & MS_BIND) != 0 || strcmp (type, "bind") == 0)
    return mount_bind (root_fd, m->source, m->destination, m->flags, error)
           && set_propagation (root_fd, m->destination, m->propagation, error);
  tgt = target_open (root_fd, m->destination, FALSE, error);
  if (tgt < 0)
    return FALSE;
  to = fd_path (tgt);
  if (mount (m->source, to, type, m->flags, m->data) == 0)
    return set_propagation (root_fd, m->destination, m->propagation, error);
  errsv = errno;
  if (errsv == EINVAL && strcmp (type, "devpts") == 0 && m->data != NULL
      && strstr (m->data, "gid=") != NULL)
    {
      g_autofree char *data = data_without_gid (m->data);
      if (mount (m->source, to, type, m->flags, data) == 0)
        return set_propagation (root_fd, m->destination, m->propagation, error);
    }
  fallback = bind_fallback (type);
  if ((errsv == EPERM || errsv == EACCES || errsv == EBUSY) && fallback != NULL
      && access (fallback, F_OK) == 0)
    return mount_bind (root_fd, fallback, m->destination,
                       MS_REC | MS_RDONLY | (m->flags & (MS_NOSUID | MS_NODEV | MS_NOEXEC)),
                       error);
  return hutch_throw_errno_val (error, errsv, "mounting %s (%s) on %s",
                                m->source != NULL ? m->source : type, type, m->destination);
}

static gboolean
make_devices (int root_fd, const HutchSandboxBundle *b, GError **error)
{
  g_autoptr (GPtrArray) all = g_ptr_array_new ();
  hutch_autofd int dev = -1;
  struct stat st;

  for (gsize i = 0; i < G_N_ELEMENTS (default_devices); i++)
    g_ptr_array_add (all, (char *) default_devices[i]);
  for (char **d = b->devices; d != NULL && *d != NULL; d++)
    g_ptr_array_add (all, *d);
  for (guint i = 0; i < all->len; i++)
    {
      const char *path = all->pdata[i];
      hutch_autofd int have = hutch_util_open_in_root (root_fd, path, O_PATH, 0, NULL);
      /* already a device (a /dev bound from the host): kept */
      if (have >= 0 && fstat (have, &st) == 0 && (S_ISCHR (st.st_mode) || S_ISBLK (st.st_mode)))
        continue;
      /* mknod is not ours to do in a user namespace: the host's node bound */
      if (access (path, F_OK) == 0 && !mount_bind (root_fd, path, path, 0, error))
        return FALSE;
    }
  dev = hutch_util_open_in_root (root_fd, "/dev", O_RDONLY | O_DIRECTORY, 0, NULL);
  for (gsize i = 0; dev >= 0 && i < G_N_ELEMENTS (dev_links); i++)
    if (symlinkat (dev_links[i][0], dev, dev_links[i][1]) < 0 && errno != EEXIST)
      return hutch_throw_errno (error, "creating /dev/%s", dev_links[i][1]);
  return TRUE;
}

/* pivot_root(".", "."): the old root stacked under the new one, then
 * detached; made a slave first so that the detach never reaches the host's
 * mounts through shared propagation. */
static gboolean
enter_root (const HutchSandboxBundle *b, GError **error)
{
  if (chdir (b->rootfs) < 0)
    return hutch_throw_errno (error, "entering %s", b->rootfs);
  if (b->no_pivot)
    {
      /* --no-pivot: for a rootfs on a ramfs, where pivot_root fails */
      if (mount (b->rootfs, "/", NULL, MS_MOVE, NULL) < 0 || chroot (".") < 0)
        return hutch_throw_errno (error, "moving the rootfs to /");
      return chdir ("/") == 0 || hutch_throw_errno (error, "chdir /");
    }
  if (syscall (SYS_pivot_root, ".", ".") < 0)
    return hutch_throw_errno (error, "pivot_root into %s", b->rootfs);
  if (mount (NULL, ".", NULL, MS_SLAVE | MS_REC, NULL) < 0 || umount2 (".", MNT_DETACH) < 0)
    return hutch_throw_errno (error, "detaching the old root");
  return chdir ("/") == 0 || hutch_throw_errno (error, "chdir /");
}

/* maskedPaths: a directory under an empty read-only tmpfs, anything else
 * under /dev/null; a path that is not there is left alone. */
static gboolean
mask_path (int root_fd, const char *path, GError **error)
{
  hutch_autofd int fd = hutch_util_open_in_root (root_fd, path, O_PATH, 0, NULL);
  g_autofree char *to = NULL;
  struct stat st;

  if (fd < 0 || fstat (fd, &st) < 0)
    return TRUE;
  to = fd_path (fd);
  if (S_ISDIR (st.st_mode) ? mount ("tmpfs", to, "tmpfs", MS_RDONLY, "size=0k") < 0
                           : mount ("/dev/null", to, NULL, MS_BIND, NULL) < 0)
    return hutch_throw_errno (error, "masking %s", path);
  return TRUE;
}

static gboolean
readonly_path (int root_fd, const char *path, GError **error)
{
  hutch_autofd int fd = hutch_util_open_in_root (root_fd, path, O_PATH, 0, NULL);
  g_autofree char *to = NULL;

  if (fd < 0)
    return TRUE;
  to = fd_path (fd);
  if (mount (to, to, NULL, MS_BIND | MS_REC, NULL) < 0)
    return hutch_throw_errno (error, "making %s read-only", path);
  return remount_bind (root_fd, path, MS_RDONLY, error);
}

/* linux.sysctl, written while /proc/sys is still writable (readonlyPaths
 * usually has it). */
static gboolean
write_sysctl (const char *kv, GError **error)
{
  g_auto (GStrv) parts = g_strsplit (kv, "=", 2);
  g_autofree char *path = NULL;
  hutch_autofd int fd = -1;

  if (parts[0] == NULL || parts[1] == NULL || strstr (parts[0], "..") != NULL)
    return hutch_throw (error, HUTCH_ERROR_USAGE, "linux.sysctl: bad entry %s", kv);
  path = g_strconcat ("/proc/sys/", parts[0], NULL);
  g_strdelimit (path + strlen ("/proc/sys/"), ".", '/');
  fd = open (path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0 || !hutch_util_write_all (fd, parts[1], strlen (parts[1]), NULL))
    return hutch_throw_errno (error, "linux.sysctl: %s", parts[0]);
  return TRUE;
}

gboolean
hutch_sandbox_bundle_mount_all (const HutchSandboxBundle *b, GError **error)
{
  hutch_autofd int root_fd = -1;
  unsigned long prop = b->rootfs_propagation != 0 ? b->rootfs_propagation : MS_REC | MS_PRIVATE;

  /* nothing we mount reaches the namespace we came from */
  if (mount (NULL, "/", NULL, prop, NULL) < 0)
    return hutch_throw_errno (error, "setting the propagation of /");
  if (mount (b->rootfs, b->rootfs, NULL, MS_BIND | MS_REC, NULL) < 0)
    return hutch_throw_errno (error, "binding the rootfs %s", b->rootfs);
  root_fd = open (b->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root_fd < 0)
    return hutch_throw_errno (error, "opening the rootfs %s", b->rootfs);
  for (guint i = 0; b->mounts != NULL && i < b->mounts->len; i++)
    if (!mount_one (root_fd, b->mounts->pdata[i], error))
      return FALSE;
  return make_devices (root_fd, b, error);
}

gboolean
hutch_sandbox_bundle_pivot (const HutchSandboxBundle *b, GError **error)
{
  hutch_autofd int root_fd = -1;

  if (!enter_root (b, error))
    return FALSE;
  root_fd = open ("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root_fd < 0)
    return hutch_throw_errno (error, "opening the new root");
  for (char **s = b->sysctl; s != NULL && *s != NULL; s++)
    if (!write_sysctl (*s, error))
      return FALSE;
  for (char **p = b->masked_paths; p != NULL && *p != NULL; p++)
    if (!mask_path (root_fd, *p, error))
      return FALSE;
  for (char **p = b->readonly_paths; p != NULL && *p != NULL; p++)
    if (!readonly_path (root_fd, *p, error))
      return FALSE;
  if (b->rootfs_readonly && mount (NULL, "/", NULL,
                                   MS_REMOUNT | MS_BIND | MS_RDONLY | locked_flags (root_fd), NULL) < 0)
    return hutch_throw_errno (error, "making the rootfs read-only");
  return TRUE;
}
