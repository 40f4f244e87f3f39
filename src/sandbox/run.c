/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The monitor's side of `hutch run`: clone the sandbox child into its new
 * namespaces, map its ids with newuidmap/newgidmap, let it go, forward the
 * signals we get to it and return its exit status. The child's side is
 * mounts.c (its file system) and init.c (pid 1 and the command). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sandbox-private.h"

static const int forwarded[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH };

void
hutch_sandbox_bind_free (HutchSandboxBind *b)
{
  if (b == NULL)
    return;
  g_free (b->source);
  g_free (b->target);
  g_free (b);
}

void
hutch_sandbox_send (int fd, char kind, const char *text)
{
  g_autoptr (GString) msg = g_string_new (NULL);

  g_string_append_c (msg, kind);
  g_string_append (msg, text);
  g_string_append_c (msg, '\0');
  (void) hutch_util_write_all (fd, msg->str, msg->len, NULL);
}

static gboolean
child_setup (const HutchSandboxSpec *spec, int err_fd, GError **error)
{
  HutchRootfsDriver used;
  char driver[2];

  if (setresgid (0, 0, 0) < 0 || setresuid (0, 0, 0) < 0)
    return hutch_throw_errno (error, "becoming root of the user namespace");
  if (!hutch_sandbox_mount_rootfs (spec, &used, error))
    return FALSE;
  driver[0] = (char) ('0' + used);
  driver[1] = '\0';
  hutch_sandbox_send (err_fd, HUTCH_SANDBOX_MSG_DRIVER, driver);
  return hutch_sandbox_setup_mounts (spec, error);
}

static void G_GNUC_NORETURN
child_main (const HutchSandboxSpec *spec, int go_fd, int err_fd)
{
  g_autoptr (GError) error = NULL;
  char c;

  (void) prctl (PR_SET_PDEATHSIG, SIGKILL);
  if (read (go_fd, &c, 1) != 1 || c != 'g')
    _exit (125); /* the monitor failed to map us and said why */
  close (go_fd);
  if (child_setup (spec, err_fd, &error))
    hutch_sandbox_init_run (spec, err_fd);
  hutch_sandbox_send (err_fd, HUTCH_SANDBOX_MSG_SETUP, error->message);
  _exit (125);
}

/* What the child said, after it is gone. */
static gboolean
read_messages (int fd, HutchSandboxResult *result, GError **error)
{
  g_autoptr (GError) local = NULL;
  g_autofree char *all = NULL;
  gsize len = 0;

  all = hutch_util_read_all (fd, 1 << 20, &len, &local);
  for (gsize at = 0; all != NULL && at < len;)
    {
      const char *msg = all + at;
      gsize n = strnlen (msg, len - at);
      if (msg[0] == HUTCH_SANDBOX_MSG_DRIVER && n >= 2)
        result->driver = (HutchRootfsDriver) (msg[1] - '0');
      else if (msg[0] == HUTCH_SANDBOX_MSG_SETUP)
        return hutch_throw (error, HUTCH_ERROR_FAILED, "setting up the container: %s", msg + 1);
      else if (msg[0] == HUTCH_SANDBOX_MSG_EXEC)
        {
          g_free (result->exec_error);
          result->exec_error = g_strdup (msg + 1);
        }
      at += n + 1;
    }
  return TRUE;
}

static pid_t
clone_child (const HutchSandboxSpec *spec)
{
  unsigned long flags = CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC
                        | CLONE_NEWCGROUP | SIGCHLD;

  if (!spec->network_host)
    flags |= CLONE_NEWNET;
  /* A fork-like clone: no new stack, the child returns here. The user
   * namespace is made first and owns the others. */
  return (pid_t) syscall (SYS_clone, flags, NULL, NULL, NULL, 0);
}

/* Waits for @pid, passing on the signals we get; returns its wait status. */
static int
supervise (pid_t pid, const sigset_t *set)
{
  int status = 0;

  for (;;)
    {
      siginfo_t info;
      int sig = sigwaitinfo (set, &info);
      if (sig < 0)
        continue;
      if (sig != SIGCHLD)
        {
          (void) kill (pid, sig);
          continue;
        }
      if (waitpid (pid, &status, WNOHANG) == pid)
        return status;
    }
}

gboolean
hutch_sandbox_run (const HutchSandboxSpec *spec, HutchSandboxResult *result, GError **error)
{
  int go[2], err[2];
  sigset_t set, old;
  pid_t pid;
  int status;
  g_autoptr (GError) map_error = NULL;
  gboolean ok;

  memset (result, 0, sizeof *result);
  result->driver = spec->driver;
  if (pipe2 (go, O_CLOEXEC) < 0)
    return hutch_throw_errno (error, "starting the container: pipe");
  if (pipe2 (err, O_CLOEXEC) < 0)
    {
      close (go[0]), close (go[1]);
      return hutch_throw_errno (error, "starting the container: pipe");
    }
  sigemptyset (&set);
  for (gsize i = 0; i < G_N_ELEMENTS (forwarded); i++)
    sigaddset (&set, forwarded[i]);
  sigaddset (&set, SIGCHLD);
  /* Blocked before the clone, so none is lost; the child unblocks them.
   * A signal ignored is discarded even while blocked, and a shell starts
   * background jobs with SIGINT and SIGQUIT ignored: take them back. */
  for (gsize i = 0; i < G_N_ELEMENTS (forwarded); i++)
    signal (forwarded[i], SIG_DFL);
  sigprocmask (SIG_BLOCK, &set, &old);
  pid = clone_child (spec);
  if (pid == 0)
    {
      close (go[1]);
      close (err[0]);
      child_main (spec, go[0], err[1]);
    }
  close (go[0]);
  close (err[1]);
  if (pid < 0)
    {
      int errsv = errno;
      close (go[1]), close (err[0]);
      sigprocmask (SIG_SETMASK, &old, NULL);
      return hutch_throw_errno_val (error, errsv,
                                    "creating the container's namespaces (see \"hutch check\")");
    }
  if (!hutch_sandbox_idmap_write (pid, spec->idmap, &map_error))
    {
      close (go[1]);
      (void) waitpid (pid, NULL, 0);
      close (err[0]);
      sigprocmask (SIG_SETMASK, &old, NULL);
      g_propagate_prefixed_error (error, g_steal_pointer (&map_error),
                                  "mapping ids into the container (see \"hutch check\"): ");
      return FALSE;
    }
  (void) !write (go[1], "g", 1);
  close (go[1]);
  status = supervise (pid, &set);
  sigprocmask (SIG_SETMASK, &old, NULL);
  ok = read_messages (err[0], result, error);
  close (err[0]);
  if (!ok)
    return FALSE;
  result->status = WIFEXITED (status) ? WEXITSTATUS (status) : 128 + WTERMSIG (status);
  return TRUE;
}
