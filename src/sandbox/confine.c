/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The monitor's own view of the file system once its container runs, as
 * slirp4netns --enable-sandbox makes one: it runs libslirp, which parses
 * every packet the container sends, so a flaw there must not reach the
 * user's home, keys or shell start-up files. The monitor moves into a user
 * namespace of its own (its uid mapped to itself, nothing else), with a
 * mount namespace whose root is an empty tmpfs holding only the
 * directories it still writes (the container's record and log, its live
 * state, its cgroup), its own /proc/PID and /dev/null. It keeps every fd
 * it has (the container's terminal, the network's sockets and tap). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sandbox-private.h"

static gboolean
write_proc_self (const char *name, const char *text, GError **error)
{
  g_autofree char *path = g_strconcat ("/proc/self/", name, NULL);
  hutch_autofd int fd = open (path, O_WRONLY | O_CLOEXEC);

  if (fd < 0 || !hutch_util_write_all (fd, text, strlen (text), error))
    return fd < 0 ? hutch_throw_errno (error, "opening %s", path) : FALSE;
  return TRUE;
}

/* mkdir -p of @path beneath @root_fd, a tmpfs of ours: no link can be in
 * the way. */
static gboolean
mkdirs_at (int root_fd, const char *path, gboolean last_is_file, GError **error)
{
  g_auto (GStrv) parts = g_strsplit (path, "/", -1);
  g_autoptr (GString) at = g_string_new (NULL);
  guint n = g_strv_length (parts);

  for (guint i = 0; i < n; i++)
    {
      if (parts[i][0] == '\0')
        continue;
      if (at->len > 0)
        g_string_append_c (at, '/');
      g_string_append (at, parts[i]);
      if (i == n - 1 && last_is_file)
        {
          hutch_autofd int fd = openat (root_fd, at->str, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
          if (fd < 0)
            return hutch_throw_errno (error, "making %s in the monitor's view", path);
        }
      else if (mkdirat (root_fd, at->str, 0700) < 0 && errno != EEXIST)
        return hutch_throw_errno (error, "making %s in the monitor's view", path);
    }
  return TRUE;
}

/* @from (an O_PATH fd, opened before the view covered it) bound at @path. */
static gboolean
bind_at (int root_fd, const char *root, int from, const char *path, gboolean is_file,
         GError **error)
{
  g_autofree char *source = g_strdup_printf ("/proc/self/fd/%d", from);
  g_autofree char *target = g_build_filename (root, path, NULL);

  if (!mkdirs_at (root_fd, path, is_file, error))
    return FALSE;
  if (mount (source, target, NULL, MS_BIND | MS_REC, NULL) < 0)
    return hutch_throw_errno (error, "binding %s into the monitor's view", path);
  return TRUE;
}

static void
fd_clear (gpointer fdp)
{
  hutch_fd_clear (fdp);
}

/* Opens what stays, before the tmpfs covers some of it. */
static GArray *
open_kept (const char *const *keep, GError **error)
{
  g_autoptr (GArray) fds = g_array_new (FALSE, FALSE, sizeof (int));

  g_array_set_clear_func (fds, fd_clear);
  for (const char *const *k = keep; k != NULL && *k != NULL; k++)
    {
      int fd = open (*k, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (fd < 0)
        return hutch_throw_errno (error, "opening %s for the monitor's view", *k), NULL;
      g_array_append_val (fds, fd);
    }
  return g_steal_pointer (&fds);
}

/* A user namespace where we are ourselves, and a mount namespace of it. */
static gboolean
own_namespaces (GError **error)
{
  g_autofree char *uid_map = g_strdup_printf ("%u %u 1\n", (unsigned) getuid (), (unsigned) getuid ());
  g_autofree char *gid_map = g_strdup_printf ("%u %u 1\n", (unsigned) getgid (), (unsigned) getgid ());

  hutch_util_assert_single_thread ();
  if (unshare (CLONE_NEWUSER | CLONE_NEWNS) < 0)
    return hutch_throw_errno (error, "a user and mount namespace for the monitor");
  if (!write_proc_self ("setgroups", "deny", error) || !write_proc_self ("uid_map", uid_map, error)
      || !write_proc_self ("gid_map", gid_map, error))
    return FALSE;
  if (mount (NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
    return hutch_throw_errno (error, "making the monitor's mounts private");
  return TRUE;
}

static gboolean
fill_view (const char *root, int root_fd, const char *const *keep, GArray *fds, int self_fd,
           int null_fd, GError **error)
{
  g_autofree char *pid_dir = g_strdup_printf ("proc/%d", (int) getpid ());
  g_autofree char *pid_text = g_strdup_printf ("%d", (int) getpid ());

  for (guint i = 0; i < fds->len; i++)
    if (!bind_at (root_fd, root, g_array_index (fds, int, i), keep[i], FALSE, error))
      return FALSE;
  /* its own /proc/PID (start times, /proc/self/fd, the sanitizers' maps),
   * never the rest: another process's /proc/PID/root leads back out */
  if (!bind_at (root_fd, root, self_fd, pid_dir, FALSE, error)
      || !bind_at (root_fd, root, null_fd, "dev/null", TRUE, error))
    return FALSE;
  if (symlinkat (pid_text, root_fd, "proc/self") < 0
      || symlinkat (pid_text, root_fd, "proc/thread-self") < 0)
    return hutch_throw_errno (error, "linking /proc/self in the monitor's view");
  return TRUE;
}

static gboolean
enter_view (const char *const *keep, GError **error)
{
  g_autofree char *self = g_strdup_printf ("/proc/%d", (int) getpid ());
  g_autoptr (GArray) fds = NULL;
  hutch_autofd int self_fd = -1;
  hutch_autofd int null_fd = -1;
  hutch_autofd int root_fd = -1;
  /* any directory will do as the mount point: the view replaces "/" */
  const char *root = "/tmp";

  if (!own_namespaces (error))
    return FALSE;
  /* what stays, opened in the new mount namespace (a bind's source must be
   * there) before the tmpfs covers some of it */
  if ((fds = open_kept (keep, error)) == NULL)
    return FALSE;
  self_fd = open (self, O_PATH | O_DIRECTORY | O_CLOEXEC);
  null_fd = open ("/dev/null", O_PATH | O_CLOEXEC);
  if (self_fd < 0 || null_fd < 0)
    return hutch_throw_errno (error, "opening %s and /dev/null for the monitor's view", self);
  if (mount ("tmpfs", root, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=0755,size=1m") < 0
      || (root_fd = open (root, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
    return hutch_throw_errno (error, "mounting the monitor's view");
  if (!fill_view (root, root_fd, keep, fds, self_fd, null_fd, error)
      || chdir (root) < 0 || syscall (SYS_pivot_root, ".", ".") < 0)
    {
      /* whatever failed, the paths it covered are ours again */
      if (error != NULL && *error == NULL)
        hutch_throw_errno (error, "pivot_root into the monitor's view");
      (void) chdir ("/");
      (void) umount2 (root, MNT_DETACH);
      return FALSE;
    }
  if (umount2 (".", MNT_DETACH) < 0 || chdir ("/") < 0)
    return hutch_throw_errno (error, "leaving the host's file system for the monitor's view");
  return TRUE;
}

gboolean
hutch_sandbox_monitor_confine (const char *const *keep, GError **error)
{
  g_autoptr (GError) view_error = NULL;
  gboolean viewed = enter_view (keep, &view_error);

  /* the filter denies unshare and mount: it comes last, and whether the
   * view could be made or not */
  if (!hutch_sandbox_seccomp_load_monitor (error))
    return FALSE;
  if (!viewed)
    return g_propagate_error (error, g_steal_pointer (&view_error)), FALSE;
  return TRUE;
}
