/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* `hutch exec`: a command started in a running container, four processes
 * deep:
 *   hutch (the caller): relays a terminal and signals, returns the status;
 *   joiner: joins the container's namespaces from the fds its pid 1 gave
 *     the monitor (user first, then mnt, pid, uts, ipc, net and cgroup), as
 *     pid 1 is not dumpable and no one may open them from /proc;
 *   waiter: the first process in the container's pid namespace; waits for
 *     the command and passes signals on. If hutch goes, it goes too
 *     (PDEATHSIG), and the command is reparented to the container's pid 1,
 *     which reaps it: a parent outside the namespace would hand it to the
 *     host's init instead;
 *   the command, made as the container's own (init.c).
 * setns() on a pidfd would do the joining in one call, but the kernel
 * checks ptrace access to the target, which a non-dumpable pid 1 refuses. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sandbox-private.h"

static void G_GNUC_NORETURN
fail (int err_fd, const char *what)
{
  g_autofree char *msg = g_strdup_printf ("%s: %s", what, g_strerror (errno));

  hutch_sandbox_send (err_fd, HUTCH_SANDBOX_MSG_SETUP, msg);
  _exit (125);
}

static void G_GNUC_NORETURN
waiter_main (const HutchSandboxSpec *spec, gboolean detach, int err_fd, int tty,
             const sigset_t *set)
{
  pid_t cmd;

  (void) prctl (PR_SET_PDEATHSIG, SIGKILL);
  cmd = fork ();
  if (cmd < 0)
    fail (err_fd, "starting the command in the container");
  if (cmd == 0)
    {
      /* detached, it keeps nothing of ours open (as docker exec -d) */
      int null = detach && tty < 0 ? open ("/dev/null", O_RDWR | O_CLOEXEC) : -1;
      for (int fd = 0; null >= 0 && fd <= 2; fd++)
        (void) dup2 (null, fd);
      hutch_sandbox_become_command (spec, err_fd, tty);
    }
  close (err_fd);
  hutch_fd_clear (&tty);
  if (detach)
    _exit (0); /* the container's pid 1 is its parent now */
  _exit (hutch_sandbox_exit_code (hutch_sandbox_forward_until_exit (cmd, set, FALSE)));
}

static void G_GNUC_NORETURN
joiner_main (const HutchSandboxSpec *spec, const int *ns, gboolean detach, int err_fd,
             int tty_sock, const sigset_t *set)
{
  g_autoptr (GError) error = NULL;
  int tty = -1;
  pid_t waiter;

  (void) prctl (PR_SET_PDEATHSIG, SIGKILL);
  for (guint i = 0; i < HUTCH_SANDBOX_N_NS; i++)
    if (setns (ns[i], 0) < 0)
      {
        g_autofree char *what = g_strdup_printf ("joining the container's %s namespace",
                                                 hutch_sandbox_ns_names[i]);
        fail (err_fd, what);
      }
  if (setresgid (0, 0, 0) < 0 || setresuid (0, 0, 0) < 0)
    fail (err_fd, "becoming root of the container's user namespace");
  if (tty_sock >= 0)
    {
      tty = hutch_sandbox_tty_open (tty_sock, &error);
      if (tty < 0)
        {
          hutch_sandbox_send (err_fd, HUTCH_SANDBOX_MSG_SETUP, error->message);
          _exit (125);
        }
      close (tty_sock);
    }
  waiter = fork ();
  if (waiter < 0)
    fail (err_fd, "entering the container's pid namespace (has it ended?)");
  if (waiter == 0)
    waiter_main (spec, detach, err_fd, tty, set);
  close (err_fd);
  hutch_fd_clear (&tty);
  _exit (hutch_sandbox_exit_code (hutch_sandbox_forward_until_exit (waiter, set, FALSE)));
}

gboolean
hutch_sandbox_exec (const HutchSandboxSpec *spec, int *ns, gboolean detach,
                    HutchSandboxResult *result, GError **error)
{
  int err[2], tty[2] = { -1, -1 };
  hutch_autofd int master = -1;
  HutchSandboxMessages m;
  HutchSandboxPoll msg_poll = { hutch_sandbox_messages_prepare, hutch_sandbox_messages_dispatch, &m };
  const HutchSandboxPoll *polls[] = { &msg_poll, NULL };
  sigset_t set, old;
  pid_t pid;
  int status;

  memset (result, 0, sizeof *result);
  if (socketpair (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, err) < 0)
    return hutch_throw_errno (error, "exec: socketpair");
  if (spec->tty && socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, tty) < 0)
    {
      close (err[0]), close (err[1]);
      return hutch_throw_errno (error, "exec: socketpair");
    }
  hutch_sandbox_block_forwarded (&set, &old);
  pid = fork ();
  if (pid == 0)
    {
      close (err[0]);
      hutch_fd_clear (&tty[0]);
      joiner_main (spec, ns, detach, err[1], tty[1], &set);
    }
  close (err[1]);
  hutch_fd_clear (&tty[1]);
  /* the joiner has them; held here they would outlive the container */
  for (guint i = 0; i < HUTCH_SANDBOX_N_NS; i++)
    hutch_fd_clear (&ns[i]);
  if (pid < 0)
    {
      int errsv = errno;
      close (err[0]);
      hutch_fd_clear (&tty[0]);
      sigprocmask (SIG_SETMASK, &old, NULL);
      return hutch_throw_errno_val (error, errsv, "exec: fork");
    }
  if (tty[0] >= 0)
    {
      master = hutch_sandbox_tty_receive (tty[0]);
      hutch_fd_clear (&tty[0]);
    }
  hutch_sandbox_messages_init (&m, err[0], result, NULL);
  status = hutch_sandbox_monitor (pid, &set, master, spec->input, polls, NULL, NULL);
  sigprocmask (SIG_SETMASK, &old, NULL);
  /* detached, the end comes when the command is exec'd */
  hutch_sandbox_messages_finish (&m);
  close (err[0]);
  if (m.setup_error != NULL)
    {
      hutch_throw (error, HUTCH_ERROR_FAILED, "exec: %s", m.setup_error);
      g_free (m.setup_error);
      return FALSE;
    }
  result->status = detach ? (m.exec_status != 0 ? m.exec_status : 0)
                          : hutch_sandbox_exit_code (status);
  return TRUE;
}
