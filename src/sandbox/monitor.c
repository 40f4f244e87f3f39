/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The monitor's loop while the container runs: signals we get go to its
 * pid 1 (through a signalfd, so none is lost between polls), and with -t
 * the container's terminal is relayed to ours: keys in (with -i), output
 * out, window size changes passed on. Each round reads a bounded amount
 * and nothing waits on our stdout's reader, so a command that writes
 * without end or a reader that stops holds up no signal, key or packet.
 * Ends when pid 1 has, with the terminal's output drained and the user's
 * terminal mode restored. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sandbox-private.h"

/* Our stdout's backlog at which the container's terminal is read no more:
 * the command then waits on its terminal, as it would on a slow one. */
#define OUT_KEPT_MAX (64 * 1024)
/* Reads of the terminal per round, before signals, keys and the network. */
#define OUT_READS_PER_ROUND 4

typedef struct
{
  void (*output) (gpointer, const char *, gsize); /* a copy of it (the log), or NULL */
  gpointer output_data;
  int master;          /* -1 without -t, or once it has ended */
  gboolean input;      /* keys go in (-i) */
  GByteArray *pending; /* read from stdin, not yet taken by the master */
  gboolean stdin_done;
  HutchOutput *out;    /* our stdout, never waited on (with -t) */
} Relay;

/* Whether the container's terminal may be read now: not while our stdout
 * keeps OUT_KEPT_MAX its reader has not taken. */
static gboolean
relay_out_wanted (const Relay *r)
{
  return r->master >= 0
         && (hutch_util_output_gone (r->out) || hutch_util_output_kept (r->out) < OUT_KEPT_MAX);
}

/* Up to @max_reads reads of the container's terminal, each to the output
 * hook and our stdout. FALSE at its end (EIO: every holder of the slave
 * has gone), or when nobody reads it any more. */
static gboolean
relay_out (Relay *r, guint max_reads)
{
  char buf[16384];

  for (guint i = 0; i < max_reads && relay_out_wanted (r); i++)
    {
      ssize_t n = read (r->master, buf, sizeof buf);
      if (n > 0)
        {
          if (r->output != NULL)
            r->output (r->output_data, buf, (gsize) n);
          /* nobody reads our output any more; the log still does */
          if (!hutch_util_output_write (r->out, buf, (gsize) n) && r->output == NULL)
            return FALSE;
          continue;
        }
      if (n < 0 && errno == EINTR)
        continue;
      return n < 0 && errno == EAGAIN;
    }
  return TRUE;
}

/* After pid 1: what the terminal still holds (nothing writes to it any
 * more) goes to our stdout as its reader takes it. A signal (Ctrl-C, a
 * kill) ends the wait for a reader that takes nothing. */
static void
relay_drain (Relay *r, int sfd)
{
  for (;;)
    {
      struct pollfd p[2] = { { sfd, POLLIN, 0 }, { -1, POLLOUT, 0 } };
      struct signalfd_siginfo si;

      /* read to its end or until it is empty; or wait for room */
      if (relay_out_wanted (r) && (!relay_out (r, G_MAXUINT) || relay_out_wanted (r)))
        r->master = -1;
      (void) hutch_util_output_flush (r->out);
      p[1].fd = hutch_util_output_poll_fd (r->out);
      if (p[1].fd < 0 && r->master < 0)
        return;
      /* all taken since the terminal was left unread for want of room:
       * read it on, rather than wait for a signal alone */
      if (p[1].fd < 0)
        continue;
      if (poll (p, 2, -1) < 0 && errno != EINTR)
        return;
      while (read (sfd, &si, sizeof si) == sizeof si)
        if (si.ssi_signo != SIGCHLD && si.ssi_signo != SIGWINCH)
          return;
    }
}

static void
relay_in (Relay *r)
{
  char buf[4096];
  ssize_t n = read (STDIN_FILENO, buf, sizeof buf);

  if (n > 0)
    g_byte_array_append (r->pending, (guint8 *) buf, (guint) n);
  else if (n == 0 || (errno != EINTR && errno != EAGAIN))
    {
      /* Our input has ended: the terminal's end-of-file key, as if typed. */
      static const guint8 eof = 4;
      g_byte_array_append (r->pending, &eof, 1);
      r->stdin_done = TRUE;
    }
}

static void
flush_in (Relay *r)
{
  ssize_t n = write (r->master, r->pending->data, r->pending->len);

  if (n > 0)
    g_byte_array_remove_range (r->pending, 0, (guint) n);
  else if (n < 0 && errno != EAGAIN && errno != EINTR)
    g_byte_array_set_size (r->pending, 0);
}

/* What cannot be watched cannot be controlled: no signal would reach the
 * container and its end would go unseen. It is killed and reaped, and
 * @what (with errno's text) is the error. Returns -1. */
static int
monitor_abort (pid_t pid, int errsv, const char *what, GError **error)
{
  int status;

  (void) kill (pid, SIGKILL);
  while (waitpid (pid, &status, 0) < 0 && errno == EINTR)
    ;
  hutch_throw (error, HUTCH_ERROR_FAILED,
               "%s: %s; the container was killed, as nothing could pass it signals or see it end",
               what, g_strerror (errsv));
  return -1;
}

/* The master's events this round: its output only while our stdout has
 * room, keys while some are pending. None at all: not polled, as a
 * terminal whose slave has closed would say POLLHUP at once, again. */
static struct pollfd
master_poll (const Relay *r)
{
  struct pollfd p = { -1, 0, 0 };

  if (relay_out_wanted (r))
    p.events |= POLLIN;
  if (r->master >= 0 && r->pending->len > 0)
    p.events |= POLLOUT;
  if (p.events != 0)
    p.fd = r->master;
  return p;
}

/* One round's work on what poll said of our own fds: signalfd, master,
 * stdin, stdout. TRUE once @pid has ended (its wait status in *@status). */
static gboolean
monitor_round (Relay *r, HutchTtyState *tty, pid_t pid, int sfd, const struct pollfd *p,
               int *status)
{
  struct signalfd_siginfo si;
  gboolean done = FALSE;

  if (p[3].revents != 0)
    (void) hutch_util_output_flush (r->out);
  if (p[1].revents & (POLLOUT | POLLHUP | POLLERR) && r->pending->len > 0)
    flush_in (r);
  if (p[1].revents & (POLLIN | POLLHUP | POLLERR) && (p[1].events & POLLIN)
      && !relay_out (r, OUT_READS_PER_ROUND))
    r->master = -1; /* kept open: ends with the container */
  if (p[2].revents & (POLLIN | POLLHUP | POLLERR))
    relay_in (r);
  while (read (sfd, &si, sizeof si) == sizeof si)
    {
      int sig = (int) si.ssi_signo;
      if (sig == SIGWINCH && tty != NULL)
        hutch_sandbox_tty_resize (tty, r->master); /* the kernel tells the command */
      else if (sig != SIGCHLD)
        (void) kill (pid, sig);
      else if (waitpid (pid, status, WNOHANG) == pid)
        done = TRUE;
    }
  return done;
}

int
hutch_sandbox_monitor (pid_t pid, const sigset_t *set, int master, gboolean input,
                       const HutchSandboxPoll *const *polls,
                       void (*tty_output) (gpointer, const char *, gsize), gpointer tty_data,
                       GError **error)
{
  g_autoptr (GArray) fds = g_array_new (FALSE, FALSE, sizeof (struct pollfd));
  hutch_autofd int sfd = signalfd (-1, set, SFD_CLOEXEC | SFD_NONBLOCK);
  Relay r = { tty_output, tty_data, master, input && master >= 0, NULL, FALSE, NULL };
  HutchTtyState *tty = NULL;
  int status = 0, poll_errno = 0;
  gboolean done = FALSE;

  if (sfd < 0)
    return monitor_abort (pid, errno, "watching the container: signalfd", error);
  r.pending = g_byte_array_new ();
  if (master >= 0)
    {
      (void) fcntl (master, F_SETFL, O_NONBLOCK);
      r.out = hutch_util_output_new (STDOUT_FILENO);
      tty = hutch_sandbox_tty_state_new (r.input);
      hutch_sandbox_tty_resize (tty, master);
    }
  /* A write to a peer that has gone (our stdout, a forwarded client, a
   * socket of libslirp's) is an error to handle, never our death: the
   * container would die with us. Set after the clone: the container's
   * processes keep the default. */
  signal (SIGPIPE, SIG_IGN);
  while (!done)
    {
      int out_fd = r.out != NULL ? hutch_util_output_poll_fd (r.out) : -1;
      struct pollfd own[4] = { { sfd, POLLIN, 0 }, master_poll (&r), { -1, POLLIN, 0 },
                               { out_fd, POLLOUT, 0 } };
      int timeout = -1;

      if (r.input && !r.stdin_done && r.master >= 0 && r.pending->len < 65536)
        own[2].fd = STDIN_FILENO;
      g_array_set_size (fds, 0);
      g_array_append_vals (fds, own, G_N_ELEMENTS (own));
      for (const HutchSandboxPoll *const *x = polls; x != NULL && *x != NULL; x++)
        (*x)->prepare ((*x)->data, fds, &timeout);
      if (poll ((struct pollfd *) fds->data, fds->len, timeout) < 0)
        {
          if (errno == EINTR)
            continue;
          poll_errno = errno; /* ENOMEM, EINVAL: it would fail again at once */
          break;
        }
      for (const HutchSandboxPoll *const *x = polls; x != NULL && *x != NULL; x++)
        (*x)->dispatch ((*x)->data, fds);
      done = monitor_round (&r, tty, pid, sfd, (struct pollfd *) fds->data, &status);
    }
  /* pid 1 has gone and its namespace with it: what the terminal holds. */
  if (r.out != NULL && poll_errno == 0)
    relay_drain (&r, sfd);
  hutch_sandbox_tty_state_free (tty);
  hutch_util_output_free (r.out);
  g_byte_array_unref (r.pending);
  signal (SIGPIPE, SIG_DFL);
  if (poll_errno != 0)
    return monitor_abort (pid, poll_errno, "watching the container: poll", error);
  return status;
}
