/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* `hutch oci exec`: a process started in a running container's
 * namespaces, and the id maps of a bundle (its uidMappings as given, not
 * the user's subordinate ranges that `run` maps). The process is forked by
 * an intermediate that joined the namespaces (a pid namespace is entered by
 * the children of who joins it); the runtime is the subreaper that gets it
 * when the intermediate leaves, so it can wait for it without --detach. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bundle-private.h"

static const struct
{
  const char *name;
  int type;
} exec_ns[] = {
  { "user", CLONE_NEWUSER }, { "ipc", CLONE_NEWIPC }, { "uts", CLONE_NEWUTS },
  { "net", CLONE_NEWNET },   { "pid", CLONE_NEWPID }, { "cgroup", CLONE_NEWCGROUP },
  { "mnt", CLONE_NEWNS },
};

/* The namespaces of @pid that are not already ours (setns into our own
 * user namespace is EINVAL), in the order they are joined. */
static gboolean
open_namespaces (pid_t pid, int *fds, GError **error)
{
  for (gsize i = 0; i < G_N_ELEMENTS (exec_ns); i++)
    {
      g_autofree char *theirs = g_strdup_printf ("/proc/%d/ns/%s", (int) pid, exec_ns[i].name);
      g_autofree char *ours = g_strdup_printf ("/proc/self/ns/%s", exec_ns[i].name);
      struct stat a, b;
      fds[i] = -1;
      if (stat (theirs, &a) < 0)
        return hutch_throw_errno (error, "the container's %s namespace", exec_ns[i].name);
      if (stat (ours, &b) == 0 && a.st_ino == b.st_ino && a.st_dev == b.st_dev)
        continue;
      fds[i] = open (theirs, O_RDONLY | O_CLOEXEC);
      if (fds[i] < 0)
        return hutch_throw_errno (error, "opening %s", theirs);
    }
  return TRUE;
}

static void G_GNUC_NORETURN
exec_child (const HutchBundleProcess *p, int console_fd, int preserve_fds, int msg_fd)
{
  g_autoptr (GError) error = NULL;
  int tty = -1;

  if (p->terminal)
    {
      (void) setsid ();
      if (console_fd < 0)
        {
          hutch_sandbox_send (msg_fd, HUTCH_BUNDLE_MSG_ERROR,
                              "process.terminal is set but no --console-socket was given");
          _exit (126);
        }
      tty = hutch_sandbox_bundle_tty_open (console_fd, &error);
      if (tty < 0)
        {
          hutch_sandbox_send (msg_fd, HUTCH_BUNDLE_MSG_ERROR, error->message);
          _exit (126);
        }
      close (console_fd);
    }
  hutch_sandbox_bundle_process_exec (p, preserve_fds, tty, msg_fd);
}

static void G_GNUC_NORETURN
exec_intermediate (const HutchBundleProcess *p, int *fds, int console_fd, int preserve_fds,
                   int msg_fd)
{
  g_autofree char *text = NULL;
  pid_t pid;

  for (gsize i = 0; i < G_N_ELEMENTS (exec_ns); i++)
    if (fds[i] >= 0 && setns (fds[i], exec_ns[i].type) < 0)
      {
        g_autofree char *msg = g_strdup_printf ("joining the container's %s namespace: %s",
                                                exec_ns[i].name, g_strerror (errno));
        hutch_sandbox_send (msg_fd, HUTCH_BUNDLE_MSG_ERROR, msg);
        _exit (1);
      }
  for (gsize i = 0; i < G_N_ELEMENTS (exec_ns); i++)
    hutch_fd_clear (&fds[i]);
  hutch_util_assert_single_thread ();
  pid = fork ();
  if (pid < 0)
    {
      hutch_sandbox_send (msg_fd, HUTCH_BUNDLE_MSG_ERROR, "fork failed");
      _exit (1);
    }
  if (pid == 0)
    exec_child (p, console_fd, preserve_fds, msg_fd);
  text = g_strdup_printf ("%d", (int) pid);
  hutch_sandbox_send (msg_fd, HUTCH_BUNDLE_MSG_PID, text);
  _exit (0);
}

/* The pid, then the end of the socket once the process has exec'd (or an
 * error). */
static pid_t
exec_messages (int fd, int *out_status, GError **error)
{
  char buf[4096];
  pid_t pid = -1;

  for (;;)
    {
      ssize_t n = recv (fd, buf, sizeof buf - 1, 0);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        break;
      buf[n] = '\0';
      if (buf[0] == HUTCH_BUNDLE_MSG_PID)
        pid = (pid_t) atoi (buf + 1);
      else if (buf[0] == HUTCH_BUNDLE_MSG_ERROR)
        {
          *out_status = strstr (buf, "not found") != NULL ? 127 : 126;
          return hutch_throw (error, HUTCH_ERROR_FAILED, "%s", buf + 1), -1;
        }
    }
  if (pid <= 0)
    return hutch_throw (error, HUTCH_ERROR_FAILED, "exec: the process ended before it started"), -1;
  return pid;
}

/* runc writes it as soon as the process runs, detached or not: a caller
 * that waits on exec (conmon's attached exec) reads it meanwhile. */
static gboolean
write_pid_file (const char *path, pid_t pid, GError **error)
{
  g_autofree char *text = g_strdup_printf ("%d", (int) pid);

  if (!hutch_util_replace_file (path, text, strlen (text), 0644, FALSE, error))
    return g_prefix_error (error, "--pid-file: "), FALSE;
  return TRUE;
}

int
hutch_sandbox_bundle_relay (pid_t pid, int master, const sigset_t *set, GError **error)
{
  int status = hutch_sandbox_monitor (pid, set, master, TRUE, NULL, NULL, NULL, error);

  return status < 0 ? -1 : hutch_sandbox_exit_code (status);
}

pid_t
hutch_sandbox_bundle_exec (pid_t init, const HutchBundleProcess *p, int console_fd,
                           int preserve_fds, gboolean detach, const char *pid_file,
                           int *out_status, GError **error)
{
  int fds[G_N_ELEMENTS (exec_ns)];
  int msg[2];
  hutch_autofd int msg_r = -1;
  sigset_t set, old;
  pid_t mid, pid;
  gboolean opened;

  opened = open_namespaces (init, fds, error);
  if (!opened || socketpair (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, msg) < 0)
    {
      if (opened)
        hutch_throw_errno (error, "exec: socketpair");
      for (gsize i = 0; i < G_N_ELEMENTS (exec_ns); i++)
        hutch_fd_clear (&fds[i]);
      return -1;
    }
  msg_r = msg[0];
  /* the process comes to us when the intermediate leaves */
  if (!detach)
    (void) prctl (PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
  hutch_sandbox_block_forwarded (&set, &old);
  hutch_util_assert_single_thread ();
  mid = fork ();
  if (mid == 0)
    {
      hutch_fd_clear (&msg_r);
      sigprocmask (SIG_SETMASK, &old, NULL);
      exec_intermediate (p, fds, console_fd, preserve_fds, msg[1]);
    }
  close (msg[1]);
  for (gsize i = 0; i < G_N_ELEMENTS (exec_ns); i++)
    hutch_fd_clear (&fds[i]);
  if (mid < 0)
    {
      sigprocmask (SIG_SETMASK, &old, NULL);
      return hutch_throw_errno (error, "exec: fork"), -1;
    }
  pid = exec_messages (msg_r, out_status, error);
  while (waitpid (mid, NULL, 0) < 0 && errno == EINTR)
    ;
  if (pid > 0 && pid_file != NULL && !write_pid_file (pid_file, pid, error))
    {
      (void) kill (pid, SIGKILL);
      if (!detach)
        (void) hutch_sandbox_forward_until_exit (pid, &set, FALSE);
      sigprocmask (SIG_SETMASK, &old, NULL);
      return -1;
    }
  if (pid > 0 && !detach)
    *out_status = hutch_sandbox_exit_code (hutch_sandbox_forward_until_exit (pid, &set, FALSE));
  else if (pid < 0 && !detach)
    /* it may have said its error and gone: reaped, as our child now */
    while (waitpid (-1, NULL, WNOHANG) > 0)
      ;
  sigprocmask (SIG_SETMASK, &old, NULL);
  return pid;
}

/* ---- id maps as config.json gives them ---- */

static char *
lines_text (GArray *lines)
{
  GString *s = g_string_new (NULL);

  for (guint i = 0; lines != NULL && i < lines->len; i++)
    {
      const HutchIdMapLine *l = &g_array_index (lines, HutchIdMapLine, i);
      g_string_append_printf (s, "%u %u %u\n", l->inside, l->outside, l->count);
    }
  return g_string_free (s, FALSE);
}

/* Only our own id, once: what an unprivileged process may write itself
 * (user_namespaces(7)); anything more needs the setuid helpers. */
static gboolean
only_own (GArray *lines, guint32 own)
{
  return lines != NULL && lines->len == 1
         && g_array_index (lines, HutchIdMapLine, 0).outside == own
         && g_array_index (lines, HutchIdMapLine, 0).count == 1;
}

static gboolean
write_map_file (pid_t pid, const char *name, const char *text, GError **error)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/%s", (int) pid, name);
  hutch_autofd int fd = open (path, O_WRONLY | O_CLOEXEC);

  if (fd < 0 || !hutch_util_write_all (fd, text, strlen (text), NULL))
    return hutch_throw_errno (error, "writing %s", path);
  return TRUE;
}

static gboolean
run_helper (const char *name, pid_t pid, GArray *lines, GError **error)
{
  extern char **environ;
  g_autoptr (GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *helper = g_find_program_in_path (name);
  posix_spawn_file_actions_t fa;
  pid_t child;
  int status, r;

  if (helper == NULL)
    return hutch_throw (error, HUTCH_ERROR_HOST_UNSUPPORTED,
                        "linux.uidMappings: %s is not installed (install the \"uidmap\" package)",
                        name);
  g_ptr_array_add (argv, g_strdup (helper));
  g_ptr_array_add (argv, g_strdup_printf ("%d", (int) pid));
  for (guint i = 0; i < lines->len; i++)
    {
      const HutchIdMapLine *l = &g_array_index (lines, HutchIdMapLine, i);
      g_ptr_array_add (argv, g_strdup_printf ("%u", l->inside));
      g_ptr_array_add (argv, g_strdup_printf ("%u", l->outside));
      g_ptr_array_add (argv, g_strdup_printf ("%u", l->count));
    }
  g_ptr_array_add (argv, NULL);
  posix_spawn_file_actions_init (&fa);
  posix_spawn_file_actions_addopen (&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen (&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  hutch_util_assert_single_thread ();
  r = posix_spawn (&child, helper, &fa, NULL, (char **) argv->pdata, environ);
  posix_spawn_file_actions_destroy (&fa);
  if (r != 0)
    return hutch_throw_errno_val (error, r, "starting %s", helper);
  while (waitpid (child, &status, 0) < 0)
    if (errno != EINTR)
      return hutch_throw_errno (error, "waiting for %s", helper);
  if (!WIFEXITED (status) || WEXITSTATUS (status) != 0)
    return hutch_throw (error, HUTCH_ERROR_HOST_UNSUPPORTED,
                        "%s failed for the bundle's mappings (are they in /etc/subuid and "
                        "/etc/subgid? see \"hutch check\")", name);
  return TRUE;
}

gboolean
hutch_sandbox_idmap_write_lines (pid_t pid, GArray *uid_map, GArray *gid_map, GError **error)
{
  g_autofree char *uids = lines_text (uid_map);
  g_autofree char *gids = lines_text (gid_map);

  if (uid_map == NULL || uid_map->len == 0 || gid_map == NULL || gid_map->len == 0)
    return hutch_throw (error, HUTCH_ERROR_USAGE,
                        "linux.uidMappings and linux.gidMappings are needed for a new user "
                        "namespace");
  if (geteuid () == 0 || (only_own (uid_map, geteuid ()) && only_own (gid_map, getegid ())))
    {
      /* unprivileged, setgroups must be denied before gid_map is written */
      if (geteuid () != 0 && !write_map_file (pid, "setgroups", "deny", error))
        return FALSE;
      return write_map_file (pid, "uid_map", uids, error)
             && write_map_file (pid, "gid_map", gids, error);
    }
  return run_helper ("newuidmap", pid, uid_map, error) && run_helper ("newgidmap", pid, gid_map, error);
}
