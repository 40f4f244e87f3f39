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

/* (id maps as config.json gives them: hutch_sandbox_idmap_write_lines,
 * in idmap.c beside the rest of the mapping) */
