/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* `hutch exec`: a command started in a running container, four processes
 * deep:
 *   hutch (the caller): relays a terminal, or the command's stdin, stdout
 *     and stderr through pipes, and signals; returns the status;
 *   joiner: joins the container's namespaces from the fds its pid 1 gave
 *     the monitor (user first, then mnt, pid, uts, ipc, net and cgroup), as
 *     pid 1 is not dumpable and no one may open them from /proc;
 *   waiter: the first process in the container's pid namespace; waits for
 *     the command and passes signals on. If hutch goes, it goes too
 *     (PDEATHSIG), and the command is reparented to the container's pid 1,
 *     which reaps it: a parent outside the namespace would hand it to the
 *     host's init instead;
 *   the command, made as the container's own (init.c).
 * The container can see the waiter, and the command's fds: both are made
 * to give it nothing of the host's. The joiner is not dumpable before it
 * enters (so no one inside may ptrace it or its waiter, or open their
 * /proc/PID/mem, environ, fd or exe, the hutch binary: the CVE-2019-5736
 * and CVE-2016-9962 class), shows a neutral command line and has wiped the
 * caller's environment; the waiter takes the command's user,
 * capabilities, no_new_privs and seccomp filter before the command exists;
 * and the command's stdio are pipes of ours, not the files or terminal
 * exec's caller had, which /proc/PID/fd would let it open again.
 * setns() on a pidfd would do the joining in one call, but the kernel
 * checks ptrace access to the target, which a non-dumpable pid 1 refuses. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
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
  if (detach && tty < 0)
    {
      /* detached, it keeps nothing of ours open (as docker exec -d) */
      int null = open ("/dev/null", O_RDWR | O_CLOEXEC);
      for (int fd = 0; null >= 0 && fd <= 2; fd++)
        (void) dup2 (null, fd);
    }
  cmd = hutch_sandbox_fork_command (spec, err_fd, tty);
  close (err_fd);
  hutch_fd_clear (&tty);
  if (detach)
    _exit (0); /* the container's pid 1 is its parent now */
  _exit (hutch_sandbox_exit_code (hutch_sandbox_forward_until_exit (cmd, set, FALSE)));
}

static void G_GNUC_NORETURN
joiner_main (const HutchSandboxSpec *spec, const int *ns, gboolean detach, int err_fd,
             int tty_sock, int *stdio, const sigset_t *set)
{
  g_autoptr (GError) error = NULL;
  int tty = -1;
  pid_t waiter;

  /* Before anything of the container can reach us: not dumpable (the
   * waiter inherits it), no command line or environment of the caller's. */
  (void) prctl (PR_SET_DUMPABLE, 0, 0, 0, 0);
  (void) prctl (PR_SET_PDEATHSIG, SIGKILL);
  (void) hutch_util_proc_title_set ("hutch-exec");
  for (int fd = 0; fd <= 2; fd++)
    if (stdio[fd] >= 0 && (dup2 (stdio[fd], fd) < 0 || close (stdio[fd]) < 0))
      fail (err_fd, "giving the command its stdin, stdout and stderr");
  for (guint i = 0; i < HUTCH_SANDBOX_N_NS; i++)
    if (setns (ns[i], 0) < 0)
      {
        g_autofree char *what = g_strdup_printf ("joining the container's %s namespace",
                                                 hutch_sandbox_ns_names[i]);
        fail (err_fd, what);
      }
  if (hutch_sandbox_idmap_root_mapped (spec->idmap)
      && (setresgid (0, 0, 0) < 0 || setresuid (0, 0, 0) < 0))
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
  hutch_util_assert_single_thread ();
  waiter = fork ();
  if (waiter < 0)
    fail (err_fd, "entering the container's pid namespace (has it ended?)");
  if (waiter == 0)
    waiter_main (spec, detach, err_fd, tty, set);
  close (err_fd);
  hutch_fd_clear (&tty);
  _exit (hutch_sandbox_exit_code (hutch_sandbox_forward_until_exit (waiter, set, FALSE)));
}

/* Without a terminal the command's stdin, stdout and stderr are pipes,
 * relayed here to ours. */
typedef struct
{
  int in;              /* to its stdin (-i), or -1 */
  int out[2];          /* from its stdout and stderr; -1 at their end */
  GByteArray *pending; /* read from our stdin, not yet taken */
  gboolean stdin_done;
} Relay;

static void
relay_prepare (gpointer data, GArray *fds, int *timeout_ms)
{
  Relay *r = data;

  (void) timeout_ms;
  for (int i = 0; i < 2; i++)
    if (r->out[i] >= 0)
      {
        struct pollfd p = { r->out[i], POLLIN, 0 };
        g_array_append_val (fds, p);
      }
  if (r->in >= 0 && r->pending->len > 0)
    {
      struct pollfd p = { r->in, POLLOUT, 0 };
      g_array_append_val (fds, p);
    }
  else if (r->in >= 0 && !r->stdin_done)
    {
      struct pollfd p = { STDIN_FILENO, POLLIN, 0 };
      g_array_append_val (fds, p);
    }
}

/* What @from has (all of it with @drain), on to @to. A reader of ours that
 * has gone closes the pipe: the command's next write fails, as it would
 * have without us between. */
static void
relay_copy (int *from, int to, gboolean drain)
{
  char buf[65536];

  for (;;)
    {
      ssize_t n = read (*from, buf, sizeof buf);
      if (n > 0 && !hutch_util_write_all (to, buf, (gsize) n, NULL))
        n = 0;
      if (n > 0 && drain)
        continue;
      if (n < 0 && errno == EINTR)
        continue;
      if (n == 0 || (n < 0 && errno != EAGAIN))
        hutch_fd_clear (from);
      return;
    }
}

static void
relay_input (Relay *r, short revents)
{
  char buf[16384];
  ssize_t n;

  if (r->pending->len > 0)
    {
      if (!(revents & (POLLOUT | POLLERR | POLLHUP)))
        return;
      n = write (r->in, r->pending->data, r->pending->len);
      if (n > 0)
        g_byte_array_remove_range (r->pending, 0, (guint) n);
      else if (n < 0 && errno != EAGAIN && errno != EINTR)
        hutch_fd_clear (&r->in); /* it closed its stdin */
      if (r->in >= 0 && r->pending->len == 0 && r->stdin_done)
        hutch_fd_clear (&r->in);
      return;
    }
  n = read (STDIN_FILENO, buf, sizeof buf);
  if (n > 0)
    g_byte_array_append (r->pending, (guint8 *) buf, (guint) n);
  else if (n == 0 || (errno != EINTR && errno != EAGAIN))
    {
      r->stdin_done = TRUE; /* our end of input is its */
      hutch_fd_clear (&r->in);
    }
}

static void
relay_dispatch (gpointer data, GArray *fds)
{
  Relay *r = data;

  for (guint i = 0; i < fds->len; i++)
    {
      const struct pollfd *p = &g_array_index (fds, struct pollfd, i);
      if (p->revents == 0)
        continue;
      if (p->fd == r->out[0] && r->out[0] >= 0)
        relay_copy (&r->out[0], STDOUT_FILENO, FALSE);
      else if (p->fd == r->out[1] && r->out[1] >= 0)
        relay_copy (&r->out[1], STDERR_FILENO, FALSE);
      else if ((p->fd == r->in && r->in >= 0) || (p->fd == STDIN_FILENO && r->in >= 0))
        relay_input (r, p->revents);
    }
}

/* The pipes: ours in @r, the command's ends in @stdio (-1: the command
 * keeps ours, detached or on a terminal). */
static void
relay_close (Relay *r, int *stdio)
{
  hutch_fd_clear (&r->in);
  hutch_fd_clear (&r->out[0]);
  hutch_fd_clear (&r->out[1]);
  for (int i = 0; i < 3; i++)
    hutch_fd_clear (&stdio[i]);
  if (r->pending != NULL)
    g_byte_array_unref (g_steal_pointer (&r->pending));
}

static gboolean
relay_open (Relay *r, gboolean input, int *stdio, GError **error)
{
  int p[3][2] = { { -1, -1 }, { -1, -1 }, { -1, -1 } };

  for (int i = 0; i < 3; i++)
    if ((i > 0 || input) && pipe2 (p[i], O_CLOEXEC) < 0)
      {
        int errsv = errno;
        for (int k = 0; k < i; k++)
          hutch_fd_clear (&p[k][0]), hutch_fd_clear (&p[k][1]);
        return hutch_throw_errno_val (error, errsv, "exec: making the command's pipes");
      }
  /* the command's stdin is read end 0; its stdout and stderr write ends */
  r->in = p[0][1], stdio[0] = p[0][0];
  r->out[0] = p[1][0], stdio[1] = p[1][1];
  r->out[1] = p[2][0], stdio[2] = p[2][1];
  for (int i = 0; i < 2; i++)
    (void) fcntl (r->out[i], F_SETFL, O_NONBLOCK);
  if (r->in >= 0)
    (void) fcntl (r->in, F_SETFL, O_NONBLOCK);
  return TRUE;
}

gboolean
hutch_sandbox_exec (const HutchSandboxSpec *spec, int *ns, gboolean detach,
                    HutchSandboxResult *result, GError **error)
{
  int err[2], tty[2] = { -1, -1 }, stdio[3] = { -1, -1, -1 };
  hutch_autofd int master = -1;
  HutchSandboxMessages m;
  Relay r = { -1, { -1, -1 }, NULL, FALSE };
  HutchSandboxPoll msg_poll = { hutch_sandbox_messages_prepare, hutch_sandbox_messages_dispatch, &m };
  HutchSandboxPoll relay_poll = { relay_prepare, relay_dispatch, &r };
  const HutchSandboxPoll *polls[] = { &msg_poll, &relay_poll, NULL };
  sigset_t set, old;
  pid_t pid;
  int status;
  g_autoptr (GError) local = NULL;

  memset (result, 0, sizeof *result);
  if (!spec->tty && !detach && !relay_open (&r, spec->input, stdio, error))
    return FALSE;
  r.pending = g_byte_array_new ();
  if (socketpair (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, err) < 0)
    {
      relay_close (&r, stdio);
      return hutch_throw_errno (error, "exec: socketpair");
    }
  if (spec->tty && socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, tty) < 0)
    {
      close (err[0]), close (err[1]);
      relay_close (&r, stdio);
      return hutch_throw_errno (error, "exec: socketpair");
    }
  hutch_sandbox_block_forwarded (&set, &old);
  hutch_util_assert_single_thread ();
  pid = fork ();
  if (pid == 0)
    {
      close (err[0]);
      hutch_fd_clear (&tty[0]);
      /* our ends: held here, the command would never see its input end */
      hutch_fd_clear (&r.in);
      hutch_fd_clear (&r.out[0]);
      hutch_fd_clear (&r.out[1]);
      joiner_main (spec, ns, detach, err[1], tty[1], stdio, &set);
    }
  close (err[1]);
  hutch_fd_clear (&tty[1]);
  /* the joiner has them; held here they would outlive the container, and
   * the command's ends of the pipes would never read as ended */
  for (guint i = 0; i < HUTCH_SANDBOX_N_NS; i++)
    hutch_fd_clear (&ns[i]);
  for (int i = 0; i < 3; i++)
    hutch_fd_clear (&stdio[i]);
  if (pid < 0)
    {
      int errsv = errno;
      close (err[0]);
      hutch_fd_clear (&tty[0]);
      relay_close (&r, stdio);
      sigprocmask (SIG_SETMASK, &old, NULL);
      return hutch_throw_errno_val (error, errsv, "exec: fork");
    }
  if (tty[0] >= 0)
    {
      master = hutch_sandbox_tty_receive (tty[0]);
      hutch_fd_clear (&tty[0]);
    }
  hutch_sandbox_messages_init (&m, err[0], result, NULL);
  status = hutch_sandbox_monitor (pid, &set, master, spec->input, polls, NULL, NULL, &local);
  sigprocmask (SIG_SETMASK, &old, NULL);
  /* What the command wrote before it ended; not more: a process it left
   * behind in the container may hold the pipes for as long as it likes. */
  for (int i = 0; i < 2; i++)
    if (r.out[i] >= 0)
      relay_copy (&r.out[i], i == 0 ? STDOUT_FILENO : STDERR_FILENO, TRUE);
  relay_close (&r, stdio);
  /* detached, the end comes when the command is exec'd */
  hutch_sandbox_messages_finish (&m);
  close (err[0]);
  if (m.setup_error != NULL)
    {
      hutch_throw (error, HUTCH_ERROR_FAILED, "exec: %s", m.setup_error);
      g_free (m.setup_error);
      return FALSE;
    }
  if (status < 0)
    {
      g_propagate_prefixed_error (error, g_steal_pointer (&local), "exec: ");
      return FALSE;
    }
  result->status = detach ? (m.exec_status != 0 ? m.exec_status : 0)
                          : hutch_sandbox_exit_code (status);
  return TRUE;
}
