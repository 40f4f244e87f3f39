/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The container's file system, set up by its pid 1 as root of the user and
 * mount namespaces: the rootfs (overlay of the cached layers, or
 * fuse-overlayfs), /proc with Docker's masked and read-only paths, /dev as a
 * tmpfs with the safe host devices bound in, /sys read-only, the generated
 * /etc files, then pivot_root. Every target inside the image is resolved
 * beneath the new root and mounted by fd, so a symlink in the image cannot
 * send a mount onto the host. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sandbox-private.h"

/* Docker's defaults (moby/oci/defaults.go). */
static const char *const masked_paths[] = {
  "/proc/asound", "/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
  "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi",
  "/sys/firmware", "/sys/devices/virtual/powercap",
};
static const char *const readonly_paths[] = {
  "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
};
static const char *const host_devices[] = { "null", "zero", "full", "random", "urandom", "tty" };

static gboolean
fail_mount (GError **error, const char *what, const char *where)
{
  return hutch_throw_errno (error, "mounting %s on %s", what, where);
}

/* Opens @path inside the rootfs @root_fd (resolved as if it were "/"),
 * creating it as a directory (or an empty file) when missing. */
static int
target_in_root (int root_fd, const char *path, gboolean is_file, GError **error)
{
  g_autoptr (GError) local = NULL;
  int fd = hutch_util_open_in_root (root_fd, path, O_PATH, 0, &local);

  if (fd >= 0)
    return fd;
  if (!g_error_matches (local, G_FILE_ERROR, G_FILE_ERROR_NOENT))
    {
      g_propagate_prefixed_error (error, g_steal_pointer (&local), "inside the container: ");
      return -1;
    }
  {
    g_autofree char *dir = g_path_get_dirname (path);
    g_autofree char *base = g_path_get_basename (path);
    hutch_autofd int parent = -1;
    g_autoptr (GError) parent_error = NULL;
    /* its parents too, as docker makes them (--tmpfs /var/tmp in an image
     * without /var); each made beneath the root, never through a link */
    parent = hutch_util_open_in_root (root_fd, dir, O_PATH | O_DIRECTORY, 0, &parent_error);
    if (parent < 0 && g_error_matches (parent_error, G_FILE_ERROR, G_FILE_ERROR_NOENT)
        && strcmp (dir, "/") != 0 && strcmp (dir, ".") != 0)
      {
        hutch_autofd int made = target_in_root (root_fd, dir, FALSE, error);
        if (made < 0)
          return -1;
        parent = hutch_util_open_in_root (root_fd, dir, O_PATH | O_DIRECTORY, 0, error);
      }
    else if (parent < 0)
      g_propagate_error (error, g_steal_pointer (&parent_error));
    if (parent < 0)
      return -1;
    if (is_file)
      {
        int f = openat (parent, base, O_CREAT | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (f < 0)
          return hutch_throw_errno (error, "making %s in the container", path), -1;
        close (f);
      }
    else if (mkdirat (parent, base, 0755) < 0 && errno != EEXIST)
      return hutch_throw_errno (error, "making %s in the container", path), -1;
    return hutch_util_open_in_root (root_fd, path, O_PATH, 0, error);
  }
}

static char *
fd_path (int fd)
{
  return g_strdup_printf ("/proc/self/fd/%d", fd);
}

/* Mounts (or binds @source) onto @path beneath the rootfs. */
static gboolean
mount_in_root (int root_fd, const char *source, const char *path, const char *fstype,
               unsigned long flags, const char *data, gboolean is_file, GError **error)
{
  hutch_autofd int fd = target_in_root (root_fd, path, is_file, error);
  g_autofree char *target = NULL;

  if (fd < 0)
    return FALSE;
  target = fd_path (fd);
  if (mount (source, target, fstype, flags, data) < 0)
    return fail_mount (error, source != NULL ? source : fstype, path);
  return TRUE;
}

/* A bind made read-only must keep the flags the kernel locked on the mount
 * it came from (nosuid, nodev, noexec) or the remount fails with EPERM. */
static gboolean
remount_readonly (const char *target, GError **error)
{
  struct statvfs sv;
  unsigned long flags = MS_BIND | MS_REMOUNT | MS_RDONLY;

  if (statvfs (target, &sv) == 0)
    {
      if (sv.f_flag & ST_NOSUID)
        flags |= MS_NOSUID;
      if (sv.f_flag & ST_NODEV)
        flags |= MS_NODEV;
      if (sv.f_flag & ST_NOEXEC)
        flags |= MS_NOEXEC;
    }
  if (mount (NULL, target, NULL, flags, NULL) < 0)
    return hutch_throw_errno (error, "making %s read-only", target);
  return TRUE;
}

/* The mount points at @top and below it, from mountinfo (its fifth field,
 * with the kernel's octal escapes for space, tab, newline and '\\'). */
static GPtrArray *
mounts_below (const char *top, GError **error)
{
  g_autofree char *text = hutch_util_read_host_file ("/proc/self/mountinfo", 16 << 20, error);
  g_auto (GStrv) lines = NULL;
  GPtrArray *out = NULL;
  gsize top_len = strlen (top);

  if (text == NULL)
    return NULL;
  out = g_ptr_array_new_with_free_func (g_free);
  lines = g_strsplit (text, "\n", -1);
  for (char **l = lines; *l != NULL; l++)
    {
      g_auto (GStrv) f = g_strsplit (*l, " ", 6);
      g_autofree char *mp = NULL;
      if (g_strv_length (f) < 6)
        continue;
      mp = g_strcompress (f[4]); /* \040 and the like */
      if (strncmp (mp, top, top_len) == 0 && (mp[top_len] == '\0' || mp[top_len] == '/' || top_len == 1))
        g_ptr_array_add (out, g_steal_pointer (&mp));
    }
  return out;
}

/* @target and every mount below it read-only: -v HOST:CTR:ro where HOST
 * has mounts of its own (one bind of it with MS_REC brings them all, and
 * a remount changes the top one only), the host's /sys with its cgroup
 * and other file systems. mount_setattr(2) with AT_RECURSIVE does it at
 * once (Linux 5.12); before it, each mount is remounted. */
static gboolean
readonly_recursive (const char *target, GError **error)
{
  struct mount_attr attr = { .attr_set = MOUNT_ATTR_RDONLY };
  g_autofree char *real = NULL;
  g_autoptr (GPtrArray) below = NULL;

  if (syscall (SYS_mount_setattr, AT_FDCWD, target, AT_RECURSIVE, &attr, sizeof attr) == 0)
    return TRUE;
  if (errno != ENOSYS && errno != EINVAL && errno != EPERM)
    return hutch_throw_errno (error, "making %s and the mounts below it read-only", target);
  /* ENOSYS: older kernels; EPERM: a seccomp profile that does not know it */
  real = g_file_read_link (target, NULL); /* a /proc/self/fd path: the mount point */
  below = mounts_below (real != NULL ? real : target, error);
  if (below == NULL)
    return FALSE;
  if (!remount_readonly (target, error))
    return FALSE;
  for (guint i = 0; i < below->len; i++)
    if (strcmp (below->pdata[i], real != NULL ? real : target) != 0
        && !remount_readonly (below->pdata[i], error))
      return FALSE;
  return TRUE;
}

/* A bind just made is a new mount on top: reach it through a fresh fd. */
static gboolean
remount_readonly_in_root (int root_fd, const char *path, GError **error)
{
  hutch_autofd int fd = hutch_util_open_in_root (root_fd, path, O_PATH, 0, error);
  g_autofree char *target = NULL;

  if (fd < 0)
    return FALSE;
  target = fd_path (fd);
  if (!readonly_recursive (target, error))
    return g_prefix_error (error, "%s: ", path), FALSE;
  return TRUE;
}

static gboolean
setup_dev (int root_fd, guint64 shm_size, GError **error)
{
  hutch_autofd int dev = -1;
  /* --shm-size; docker's 64 MiB otherwise */
  g_autofree char *shm_data = g_strdup_printf ("mode=1777,size=%" G_GUINT64_FORMAT "k",
                                               shm_size > 0 ? MAX (shm_size / 1024, 1) : 65536);

  if (!mount_in_root (root_fd, "tmpfs", "/dev", "tmpfs", MS_NOSUID | MS_NOEXEC | MS_STRICTATIME,
                      "mode=755,size=65536k", FALSE, error))
    return FALSE;
  dev = hutch_util_open_in_root (root_fd, "/dev", O_PATH | O_DIRECTORY, 0, error);
  if (dev < 0)
    return FALSE;
  for (gsize i = 0; i < G_N_ELEMENTS (host_devices); i++)
    {
      g_autofree char *host = g_strconcat ("/dev/", host_devices[i], NULL);
      if (!mount_in_root (root_fd, host, host, NULL, MS_BIND, NULL, TRUE, error))
        return FALSE;
    }
  if (!mount_in_root (root_fd, "devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC,
                      "newinstance,ptmxmode=0666,mode=0620", FALSE, error)
      || !mount_in_root (root_fd, "shm", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
                         shm_data, FALSE, error))
    return FALSE;
  /* mqueue needs the IPC namespace to be ours, which it is. */
  if (!mount_in_root (root_fd, "mqueue", "/dev/mqueue", "mqueue", MS_NOSUID | MS_NODEV | MS_NOEXEC,
                      NULL, FALSE, error))
    return FALSE;
  if (symlinkat ("pts/ptmx", dev, "ptmx") < 0 || symlinkat ("/proc/self/fd", dev, "fd") < 0
      || symlinkat ("/proc/self/fd/0", dev, "stdin") < 0
      || symlinkat ("/proc/self/fd/1", dev, "stdout") < 0
      || symlinkat ("/proc/self/fd/2", dev, "stderr") < 0)
    return hutch_throw_errno (error, "making the links in the container's /dev");
  return TRUE;
}

static gboolean
setup_proc_sys (int root_fd, gboolean own_netns, GError **error)
{
  if (!mount_in_root (root_fd, "proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL,
                      FALSE, error))
    return FALSE;
  /* sysfs may be mounted only by the owner of the network namespace; with
   * the host's network, bind the host's /sys instead. */
  if (own_netns)
    {
      if (!mount_in_root (root_fd, "sysfs", "/sys", "sysfs",
                          MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY, NULL, FALSE, error))
        return FALSE;
    }
  else
    {
      hutch_autofd int fd = target_in_root (root_fd, "/sys", FALSE, error);
      g_autofree char *target = NULL;
      if (fd < 0)
        return FALSE;
      target = fd_path (fd);
      if (mount ("/sys", target, NULL, MS_BIND | MS_REC, NULL) < 0)
        return fail_mount (error, "/sys", "/sys");
      if (!remount_readonly_in_root (root_fd, "/sys", error))
        return FALSE;
    }
  for (gsize i = 0; i < G_N_ELEMENTS (masked_paths); i++)
    {
      g_autoptr (GError) local = NULL;
      hutch_autofd int fd = hutch_util_open_in_root (root_fd, masked_paths[i], O_PATH, 0, &local);
      struct stat st;
      g_autofree char *target = NULL;
      if (fd < 0)
        continue; /* not on this kernel */
      target = fd_path (fd);
      if (fstat (fd, &st) < 0)
        return hutch_throw_errno (error, "looking at %s", masked_paths[i]);
      if (S_ISDIR (st.st_mode) ? mount ("tmpfs", target, "tmpfs", MS_RDONLY, "size=0") < 0
                               : mount ("/dev/null", target, NULL, MS_BIND, NULL) < 0)
        return fail_mount (error, "a mask", masked_paths[i]);
    }
  for (gsize i = 0; i < G_N_ELEMENTS (readonly_paths); i++)
    {
      hutch_autofd int fd = hutch_util_open_in_root (root_fd, readonly_paths[i], O_PATH, 0, NULL);
      g_autofree char *target = NULL;
      if (fd < 0)
        continue;
      target = fd_path (fd);
      if (mount (target, target, NULL, MS_BIND | MS_REC, NULL) < 0)
        return fail_mount (error, readonly_paths[i], readonly_paths[i]);
      if (!remount_readonly_in_root (root_fd, readonly_paths[i], error))
        return FALSE;
    }
  return TRUE;
}

/* /etc/hostname, /etc/hosts and /etc/resolv.conf: files written by the
 * monitor in the container's directory, bound over the image's. */
static gboolean
bind_etc_files (int root_fd, const HutchSandboxSpec *spec, GError **error)
{
  const struct
  {
    const char *name;
    const char *source;
  } files[] = {
    { "/etc/hostname", spec->hostname_file },
    { "/etc/hosts", spec->hosts_file },
    { "/etc/resolv.conf", spec->resolv_file },
  };

  hutch_autofd int etc = target_in_root (root_fd, "/etc", FALSE, error);

  if (etc < 0)
    return FALSE;
  for (gsize i = 0; i < G_N_ELEMENTS (files); i++)
    {
      if (files[i].source == NULL)
        continue;
      if (!mount_in_root (root_fd, files[i].source, files[i].name, NULL, MS_BIND, NULL, TRUE, error))
        return FALSE;
      /* --read-only: these are the rootfs's files too, as docker and
       * podman make them (the remount of / later reaches / alone) */
      if (spec->read_only && !remount_readonly_in_root (root_fd, files[i].name, error))
        return FALSE;
    }
  return TRUE;
}

static gboolean
loopback_up (GError **error)
{
  struct ifreq ifr = { 0 };
  hutch_autofd int s = socket (AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

  if (s < 0)
    return hutch_throw_errno (error, "bringing up the loopback interface: socket");
  g_strlcpy (ifr.ifr_name, "lo", IFNAMSIZ);
  if (ioctl (s, SIOCGIFFLAGS, &ifr) < 0)
    return hutch_throw_errno (error, "bringing up the loopback interface");
  ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
  if (ioctl (s, SIOCSIFFLAGS, &ifr) < 0)
    return hutch_throw_errno (error, "bringing up the loopback interface");
  return TRUE;
}

/* The new mount API: one fsconfig call per lower layer ("lowerdir+",
 * Linux 6.8), so no option string limits how many layers an image has. */
static gboolean
mount_overlay_fsconfig (const HutchSandboxSpec *spec, GError **error)
{
  hutch_autofd int fs = fsopen ("overlay", FSOPEN_CLOEXEC);
  hutch_autofd int mnt = -1;
  g_autofree char *upper = hutch_util_option_escape (spec->upperdir);
  g_autofree char *work = hutch_util_option_escape (spec->workdir);

  if (fs < 0)
    return hutch_throw_errno (error, "fsopen overlay");
  for (guint i = 0; spec->lowerdirs[i] != NULL; i++)
    if (fsconfig (fs, FSCONFIG_SET_STRING, "lowerdir+", spec->lowerdirs[i], 0) < 0)
      {
        if (errno == EINVAL && i >= 500) /* OVL_MAX_STACK */
          return hutch_throw (error, HUTCH_ERROR_HOST_UNSUPPORTED,
                              "the kernel overlay takes at most 500 layers, and this image has %u",
                              g_strv_length (spec->lowerdirs));
        return hutch_throw_errno (error, "overlay: adding lower layer %u (lowerdir+ needs Linux 6.8)",
                                  i + 1);
      }
  /* lowerdir+ takes its path as is; upperdir and workdir are unescaped
   * (fs/overlayfs/params.c, ovl_mount_dir) even here */
  if (fsconfig (fs, FSCONFIG_SET_STRING, "upperdir", upper, 0) < 0
      || fsconfig (fs, FSCONFIG_SET_STRING, "workdir", work, 0) < 0
      || fsconfig (fs, FSCONFIG_SET_FLAG, "userxattr", NULL, 0) < 0
      || (spec->cleanup_fd >= 0 && fsconfig (fs, FSCONFIG_SET_FLAG, "volatile", NULL, 0) < 0)
      || fsconfig (fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
    return hutch_throw_errno (error, "configuring the kernel overlay");
  mnt = fsmount (fs, FSMOUNT_CLOEXEC, 0);
  if (mnt < 0 || move_mount (mnt, "", AT_FDCWD, spec->rootfs, MOVE_MOUNT_F_EMPTY_PATH) < 0)
    return hutch_throw_errno (error, "mounting the kernel overlay on %s", spec->rootfs);
  return TRUE;
}

static gboolean
mount_rootfs_overlay (const HutchSandboxSpec *spec, GError **error)
{
  g_autoptr (GString) opts = g_string_new ("lowerdir=");
  g_autofree char *lower = hutch_util_list_join (spec->lowerdirs, ':');
  g_autofree char *upper = hutch_util_option_escape (spec->upperdir);
  g_autofree char *work = hutch_util_option_escape (spec->workdir);

  /* escaped: a ',' or ':' of the store's path is not a separator */
  g_string_append_printf (opts, "%s,upperdir=%s,workdir=%s,userxattr", lower, upper, work);
  /* --rm: what the container writes is thrown away, so unmounting it need
   * not sync the upper file system first */
  if (spec->cleanup_fd >= 0)
    g_string_append (opts, ",volatile");
  /* mount(2) takes one page of options: enough for a few dozen layers. */
  if (opts->len >= 4000)
    return mount_overlay_fsconfig (spec, error);
  if (mount ("overlay", spec->rootfs, "overlay", 0, opts->str) < 0)
    return hutch_throw_errno (error, "mounting the kernel overlay on %s", spec->rootfs);
  return TRUE;
}

/* fuse-overlayfs, mounted by us through /dev/fuse (so the mount exists
 * when this returns) and served by `fuse-overlayfs -f /dev/fd/N`: a child
 * of the process that stays outside the container's pid namespace, where
 * the container cannot reach it through /proc, and killed with it. */
static gboolean
fuse_serve (const HutchSandboxSpec *spec, const char *at, const char *at_text, pid_t *out_pid,
            GError **error)
{
  g_auto (HutchFusePaths) paths = { NULL, NULL };
  g_autofree char *data = NULL, *devfd = NULL;
  hutch_autofd int fuse = open ("/dev/fuse", O_RDWR | O_CLOEXEC);
  hutch_autofd int log = memfd_create ("fuse-overlayfs", MFD_CLOEXEC);
  struct stat st;
  pid_t pid;

  if (fuse < 0)
    return hutch_throw_errno (error, "fuse-overlayfs: opening /dev/fuse (see \"hutch check\")");
  if (!hutch_sandbox_fuse_paths_prepare (spec, &paths, error))
    return FALSE;
  /* (the mount's owner: root of the namespace, or the user where it is
   * alone in it) */
  data = g_strdup_printf ("fd=%d,rootmode=40000,user_id=%u,group_id=%u,default_permissions,"
                          "allow_other",
                          fuse, (unsigned) geteuid (), (unsigned) getegid ());
  if (mount ("fuse-overlayfs", at, "fuse.fuse-overlayfs", MS_NODEV, data) < 0)
    return hutch_throw_errno (error, "fuse-overlayfs: mounting on %s", at_text);
  devfd = g_strdup_printf ("/dev/fd/%d", fuse);
  hutch_util_assert_single_thread ();
  pid = fork ();
  if (pid < 0)
    {
      (void) umount2 (at, MNT_DETACH);
      return hutch_throw_errno (error, "starting fuse-overlayfs");
    }
  if (pid == 0)
    {
      (void) prctl (PR_SET_PDEATHSIG, SIGKILL);
      /* What it prints ("unknown argument ignored: lazytime") is kept for
       * an error, never shown on success. */
      if (fcntl (fuse, F_SETFD, 0) < 0 || (log >= 0 && dup2 (log, STDERR_FILENO) < 0)
          || (log >= 0 && dup2 (log, STDOUT_FILENO) < 0))
        _exit (127);
      if (!hutch_sandbox_fuse_paths_enter (&paths, at_text))
        {
          dprintf (STDERR_FILENO, "showing it the store's directories: %s", g_strerror (errno));
          _exit (126);
        }
      execlp ("fuse-overlayfs", "fuse-overlayfs", "-f", "-o", paths.opts->str, devfd,
              (char *) NULL);
      dprintf (STDERR_FILENO, "%s", g_strerror (errno));
      _exit (127);
    }
  /* Only the server holds the device now: if it dies, the mount fails
   * requests instead of waiting for an answer. */
  hutch_fd_clear (&fuse);
  if (stat (at, &st) == 0)
    {
      *out_pid = pid;
      return TRUE;
    }
  {
    int errsv = errno, status = 0;
    char buf[1024] = "";
    ssize_t n = log >= 0 ? pread (log, buf, sizeof buf - 1, 0) : -1;
    g_autofree char *said = g_strstrip (g_strndup (buf, n > 0 ? (gsize) n : 0));
    (void) umount2 (at, MNT_DETACH);
    (void) kill (pid, SIGKILL);
    while (waitpid (pid, &status, 0) < 0 && errno == EINTR)
      ;
    if (WIFEXITED (status) && WEXITSTATUS (status) == 127)
      return hutch_throw (error, HUTCH_ERROR_HOST_UNSUPPORTED,
                          "fuse-overlayfs could not be run (%s): install it (apt-get install "
                          "fuse-overlayfs)", said);
    return hutch_throw (error, HUTCH_ERROR_HOST_UNSUPPORTED,
                        "fuse-overlayfs could not serve %s (%s%s%s)", at_text,
                        g_strerror (errsv), *said != '\0' ? ": " : "", said);
  }
}

static gboolean
mount_rootfs_fuse (const HutchSandboxSpec *spec, pid_t *out_pid, GError **error)
{
  return fuse_serve (spec, spec->rootfs, spec->rootfs, out_pid, error);
}

const char *
hutch_rootfs_driver_name (HutchRootfsDriver driver)
{
  switch (driver)
    {
    case HUTCH_ROOTFS_OVERLAY:
      return "overlay";
    case HUTCH_ROOTFS_FUSE_OVERLAYFS:
      return "fuse-overlayfs";
    case HUTCH_ROOTFS_COPY:
      return "copy";
    default:
      g_assert_not_reached ();
    }
}

/* The chain of DESIGN.md: kernel overlay, fuse-overlayfs, a private copy;
 * a forced driver is the only one tried. */
gboolean
hutch_sandbox_mount_rootfs (const HutchSandboxSpec *spec, HutchRootfsDriver *out_used,
                            pid_t *out_fuse_pid, char **out_why, GError **error)
{
  g_autoptr (GString) why = g_string_new (NULL);

  if (mount (NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
    return hutch_throw_errno (error, "making the mounts private");
  if (spec->host_root)
    {
      /* the host as it is, every mount below / with it, none writable */
      if (mount ("/", spec->rootfs, NULL, MS_BIND | MS_REC, NULL) < 0)
        return fail_mount (error, "the host's /", spec->rootfs);
      if (!readonly_recursive (spec->rootfs, error))
        return FALSE;
      *out_used = HUTCH_ROOTFS_OVERLAY;
      *out_why = g_strdup ("");
      return TRUE;
    }
  for (HutchRootfsDriver d = spec->driver; d <= HUTCH_ROOTFS_COPY; d++)
    {
      g_autoptr (GError) local = NULL;
      gboolean ok = d == HUTCH_ROOTFS_OVERLAY          ? mount_rootfs_overlay (spec, &local)
                    : d == HUTCH_ROOTFS_FUSE_OVERLAYFS ? mount_rootfs_fuse (spec, out_fuse_pid, &local)
                                                       : hutch_sandbox_copy_rootfs (spec, &local);
      if (ok)
        {
          *out_used = d;
          *out_why = g_string_free (g_steal_pointer (&why), FALSE);
          return TRUE;
        }
      g_string_append_printf (why, "%s%s", why->len > 0 ? "; then " : "", local->message);
      if (spec->driver_forced)
        break;
    }
  return hutch_throw (error, HUTCH_ERROR_HOST_UNSUPPORTED, "%s", why->str);
}

/* How a -v mount is named in errors: "-v SOURCE:TARGET", the volume's
 * name rather than its directory. */
static char *
mount_text (const HutchSandboxMount *m)
{
  if (m->source == NULL)
    return g_strdup_printf ("--tmpfs %s", m->target);
  return g_strdup_printf ("-v %s:%s", m->volume != NULL ? m->volume : m->source, m->target);
}

/* A volume used while empty gets what the image has at its target first,
 * owners, modes and times kept, as docker fills it (and never again once
 * it holds something). As root of the user namespace, the owners are the
 * image's ids as the container sees them. */
static gboolean
fill_volume (int root_fd, const HutchSandboxMount *m, GError **error)
{
  g_autoptr (GError) local = NULL;
  g_autoptr (GPtrArray) held = NULL;
  hutch_autofd int dst = open (m->source, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  hutch_autofd int src = -1;

  if (dst < 0)
    return hutch_throw_errno (error, "opening the volume's directory %s", m->source);
  if ((held = hutch_util_list_dir_at (dst, error)) == NULL)
    return FALSE;
  if (held->len > 0)
    return TRUE;
  src = hutch_util_open_in_root (root_fd, m->target, O_RDONLY | O_DIRECTORY, 0, &local);
  if (src < 0)
    return TRUE; /* the image has no directory there: nothing to fill it with */
  return hutch_sandbox_copy_tree_at (src, dst, m->target, error);
}

/* -v :U, as podman: what @dir_fd holds given to @uid:@gid, never through
 * a symlink, and not into another file system mounted below it. */
static gboolean
chown_tree (int dir_fd, uid_t uid, gid_t gid, dev_t dev, GError **error)
{
  g_autoptr (GPtrArray) names = hutch_util_list_dir_at (dir_fd, error);

  if (names == NULL)
    return FALSE;
  for (guint i = 0; i < names->len; i++)
    {
      const char *name = names->pdata[i];
      struct stat st;
      hutch_autofd int sub = -1;
      if (fstatat (dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        return hutch_throw_errno (error, "looking at %s", name);
      if (st.st_dev != dev)
        continue;
      if (fchownat (dir_fd, name, uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
        return hutch_throw_errno (error, "giving %s to %u:%u", name, uid, gid);
      if (!S_ISDIR (st.st_mode))
        continue;
      sub = openat (dir_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (sub < 0)
        return hutch_throw_errno (error, "opening %s", name);
      if (!chown_tree (sub, uid, gid, dev, error))
        return g_prefix_error (error, "%s/", name), FALSE;
    }
  return TRUE;
}

static gboolean
chown_source (int root_fd, const HutchSandboxSpec *spec, const HutchSandboxMount *m, GError **error)
{
  hutch_autofd int fd = open (m->source, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  struct stat st;
  uid_t uid;
  gid_t gid;

  /* the ids the command will have, from the image's own /etc/passwd */
  if (!hutch_sandbox_user_ids_at (root_fd, spec->user, &uid, &gid, error))
    return FALSE;
  if (fd < 0 || fstat (fd, &st) < 0)
    return hutch_throw_errno (error, "opening %s", m->source);
  if (fchown (fd, uid, gid) < 0)
    {
      if (errno == EINVAL) /* an id this user namespace does not map */
        return hutch_throw (error, HUTCH_ERROR_HOST_UNSUPPORTED,
                            "giving %s to the container's user %u:%u: that id is not mapped "
                            "(see \"hutch check\" for the subordinate ids)", m->source, uid, gid);
      return hutch_throw_errno (error, "giving %s to the container's user %u:%u", m->source, uid,
                                gid);
    }
  if (S_ISDIR (st.st_mode) && !chown_tree (fd, uid, gid, st.st_dev, error))
    return g_prefix_error (error, "giving %s/ to the container's user %u:%u: ", m->source, uid,
                           gid), FALSE;
  return TRUE;
}

static gboolean mount_user (int root_fd, const HutchSandboxSpec *spec, const HutchSandboxMount *m,
                            GError **error);

/* The upper and work dirs of an overlay over m->source, in
 * m->overlay_dir: emptied first (what a killed run left), but for a kept
 * overlay's upper dir; the upper dir looks as the host's directory does. */
static gboolean
overlay_dirs_prepare (const HutchSandboxMount *m, const char *upper, const char *work,
                      gboolean reuse_work, GError **error)
{
  struct stat st;

  if (stat (m->source, &st) < 0 || !S_ISDIR (st.st_mode))
    return hutch_throw (error, HUTCH_ERROR_USAGE, "%s is not a directory: :O lays an overlay over a "
                        "directory", m->source);
  /* A kept overlay's work dir is the kernel's to empty: it removes what
   * a killed run left in it at each mount (two directory removals and a
   * mkdir less per overlay, on the store's file system, each run). */
  if (!m->keep_overlay || !reuse_work)
    (void) hutch_util_remove_tree_at (AT_FDCWD, m->keep_overlay ? work : m->overlay_dir);
  if ((g_mkdir_with_parents (upper, 0755) < 0 && errno != EEXIST)
      || (mkdir (work, 0700) < 0 && !(m->keep_overlay && reuse_work && errno == EEXIST)))
    return hutch_throw_errno (error, "making %s", m->overlay_dir);
  if (!m->keep_overlay
      && (chown (upper, st.st_uid, st.st_gid) < 0 || chmod (upper, st.st_mode & 07777) < 0))
    return hutch_throw_errno (error, "making %s", upper);
  return TRUE;
}

/* -v :O: the kernel overlay over the host's directory, its upper and work
 * dirs in the container's own directory, made empty here and removed when
 * the container ends (outer_cleanup() in run.c). */
static gboolean
mount_overlay_over (const HutchSandboxMount *m, const char *target, GError **error)
{
  g_autofree char *upper = g_build_filename (m->overlay_dir, "upper", NULL);
  g_autofree char *work = g_build_filename (m->overlay_dir, "work", NULL);
  g_autofree char *lower_opt = hutch_util_option_escape (m->source);
  g_autofree char *upper_opt = hutch_util_option_escape (upper);
  g_autofree char *work_opt = hutch_util_option_escape (work);
  g_autofree char *opts = NULL;

  if (!overlay_dirs_prepare (m, upper, work, TRUE, error))
    return FALSE;
  opts = g_strdup_printf ("lowerdir=%s,upperdir=%s,workdir=%s,userxattr", lower_opt, upper_opt,
                          work_opt);
  if (mount ("overlay", target, "overlay", m->readonly ? MS_RDONLY : 0, opts) < 0)
    {
      int errsv = errno;
      if (m->keep_overlay)
        return hutch_throw (error, HUTCH_ERROR_HOST_UNSUPPORTED,
                            "the kernel refused an overlay over %s (%s)", m->source,
                            g_strerror (errsv));
      (void) hutch_util_remove_tree_at (AT_FDCWD, m->overlay_dir);
      return hutch_throw (error, HUTCH_ERROR_HOST_UNSUPPORTED,
                          "the kernel refused an overlay over %s (%s): :O needs the kernel "
                          "overlay in a user namespace (Linux 5.11 or later; see \"hutch check\"), "
                          "which hutch does not replace with fuse-overlayfs or a copy here",
                          m->source, g_strerror (errsv));
    }
  return TRUE;
}

/* hutch shell's overlays, made by the outer child: the kernel's; where it
 * refuses (or fuse-overlayfs was asked for), fuse-overlayfs, served from
 * here as the rootfs's is, out of the sandbox's sight. */
static gboolean
mount_kept_overlay (const HutchSandboxSpec *spec, int root_fd, const HutchSandboxMount *m,
                    GArray *fuse_pids, GError **error)
{
  hutch_autofd int fd = target_in_root (root_fd, m->target, FALSE, error);
  g_autofree char *target = NULL, *text = NULL;
  g_autofree char *upper = g_build_filename (m->overlay_dir, "upper", NULL);
  g_autofree char *work = g_build_filename (m->overlay_dir, "work", NULL);
  g_autoptr (GError) kernel = NULL, fuse = NULL;
  char *lower[2] = { m->source, NULL };
  HutchSandboxSpec dirs = { .lowerdirs = lower, .upperdir = upper, .workdir = work };
  gboolean forced = spec->driver_forced && spec->driver == HUTCH_ROOTFS_FUSE_OVERLAYFS;
  pid_t pid = -1;

  if (fd < 0)
    return g_prefix_error (error, "an overlay over %s: ", m->source), FALSE;
  target = fd_path (fd);
  if (!forced && mount_overlay_over (m, target, &kernel))
    return TRUE;
  text = g_build_filename (spec->rootfs, m->target, NULL);
  if ((forced && !overlay_dirs_prepare (m, upper, work, FALSE, &fuse))
      || (fuse == NULL && !fuse_serve (&dirs, target, text, &pid, &fuse)))
    return hutch_throw (error, HUTCH_ERROR_HOST_UNSUPPORTED,
                        "%s%s%s: an overlay needs the kernel's overlay in a user namespace "
                        "(Linux 5.11 or later, with overlayfs loaded: \"modprobe overlay\" as "
                        "root) or fuse-overlayfs (\"apt-get install fuse-overlayfs\", and /dev/fuse "
                        "open to you); see \"hutch check\"",
                        kernel != NULL ? kernel->message : "", kernel != NULL ? "; then " : "",
                        fuse->message);
  g_array_append_val (fuse_pids, pid);
  if (kernel != NULL)
    g_warning ("%s: fuse-overlayfs serves it instead", kernel->message);
  return TRUE;
}

gboolean
hutch_sandbox_mount_early (const HutchSandboxSpec *spec, GArray *fuse_pids, GError **error)
{
  hutch_autofd int root_fd = open (spec->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);

  if (root_fd < 0)
    return hutch_throw_errno (error, "opening the rootfs %s", spec->rootfs);
  for (guint i = 0; spec->early_mounts != NULL && i < spec->early_mounts->len; i++)
    {
      const HutchSandboxMount *m = spec->early_mounts->pdata[i];
      if (m->overlay && m->keep_overlay ? !mount_kept_overlay (spec, root_fd, m, fuse_pids, error)
                                        : !mount_user (root_fd, spec, m, error))
        return FALSE;
    }
  return TRUE;
}

/* Hides @path (when it is there): an empty read-only tmpfs over a
 * directory, /dev/null over anything else. */
static gboolean
hide_in_root (int root_fd, const char *path, GError **error)
{
  g_autoptr (GError) local = NULL;
  hutch_autofd int fd = hutch_util_open_in_root (root_fd, path, O_PATH | O_NOFOLLOW, 0, &local);
  g_autofree char *target = NULL;
  struct stat st;

  if (fd < 0)
    {
      if (g_error_matches (local, G_FILE_ERROR, G_FILE_ERROR_NOENT)
          || g_error_matches (local, G_FILE_ERROR, G_FILE_ERROR_NOTDIR)
          || g_error_matches (local, G_FILE_ERROR, G_FILE_ERROR_ACCES))
        return TRUE; /* nothing there to hide, or nothing the user could reach */
      g_propagate_prefixed_error (error, g_steal_pointer (&local), "hiding %s: ", path);
      return FALSE;
    }
  if (fstat (fd, &st) < 0)
    return hutch_throw_errno (error, "hiding %s", path);
  if (S_ISLNK (st.st_mode))
    return TRUE; /* a link leads to what is hidden, or not, on its own */
  target = fd_path (fd);
  if (S_ISDIR (st.st_mode) ? mount ("tmpfs", target, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV,
                                    "size=0,mode=0700") < 0
                           : mount ("/dev/null", target, NULL, MS_BIND, NULL) < 0)
    return fail_mount (error, "a mask", path);
  return TRUE;
}

/* A -v bind, volume or overlay, or a --tmpfs, its target resolved
 * beneath the root. */
static gboolean
mount_user (int root_fd, const HutchSandboxSpec *spec, const HutchSandboxMount *m, GError **error)
{
  struct stat st;
  gboolean is_file = m->source != NULL && stat (m->source, &st) == 0 && !S_ISDIR (st.st_mode);
  hutch_autofd int fd = -1;
  g_autofree char *target = NULL, *what = mount_text (m);

  if (m->hide)
    return hide_in_root (root_fd, m->target, error);
  /* before the target is made: an image without it has nothing to give */
  if (m->copy_up && m->source != NULL && !fill_volume (root_fd, m, error))
    return g_prefix_error (error, "%s: filling the volume from the image: ", what), FALSE;
  if (m->chown && m->source != NULL && !chown_source (root_fd, spec, m, error))
    return g_prefix_error (error, "%s:U: ", what), FALSE;
  fd = target_in_root (root_fd, m->target, is_file, error);
  if (fd < 0)
    return g_prefix_error (error, "%s: ", what), FALSE;
  target = fd_path (fd);
  if (m->source == NULL)
    {
      if (mount ("tmpfs", target, "tmpfs", m->flags | (m->readonly ? MS_RDONLY : 0), m->data) < 0)
        return hutch_throw_errno (error, "--tmpfs %s%s%s", m->target, m->data != NULL ? ":" : "",
                                  m->data != NULL ? m->data : "");
      return TRUE;
    }
  if (m->overlay)
    return mount_overlay_over (m, target, error) || (g_prefix_error (error, "%s:O: ", what), FALSE);
  if (mount (m->source, target, NULL, MS_BIND | MS_REC, NULL) < 0)
    return fail_mount (error, m->source, m->target);
  return !m->readonly || remount_readonly_in_root (root_fd, m->target, error);
}

gboolean
hutch_sandbox_setup_mounts (const HutchSandboxSpec *spec, GError **error)
{
  hutch_autofd int root_fd = open (spec->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);

  if (root_fd < 0)
    return hutch_throw_errno (error, "opening the rootfs %s", spec->rootfs);
  if (!setup_proc_sys (root_fd, !spec->network_host, error) || !setup_dev (root_fd, spec->shm_size, error)
      || !bind_etc_files (root_fd, spec, error))
    return FALSE;
  for (guint i = 0; spec->mounts != NULL && i < spec->mounts->len; i++)
    if (!mount_user (root_fd, spec, spec->mounts->pdata[i], error))
      return FALSE;
  if (!spec->network_host && !loopback_up (error))
    return FALSE;
  if (sethostname (spec->hostname, strlen (spec->hostname)) < 0)
    return hutch_throw_errno (error, "setting the hostname");
  /* pivot_root, never chroot: the old root is detached and cannot be
   * reached again through "..". */
  if (chdir (spec->rootfs) < 0 || syscall (SYS_pivot_root, ".", ".") < 0
      || umount2 (".", MNT_DETACH) < 0 || chdir ("/") < 0)
    return hutch_throw_errno (error, "pivot_root into %s", spec->rootfs);
  if (spec->read_only && mount (NULL, "/", NULL, MS_BIND | MS_REMOUNT | MS_RDONLY, NULL) < 0)
    return hutch_throw_errno (error, "making the rootfs read-only");
  return TRUE;
}
