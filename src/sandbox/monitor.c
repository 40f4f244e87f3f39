/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The monitor's loop while the container runs: signals we get go to its
 * pid 1 (through a signalfd, so none is lost between polls), and with -t
 * the container's terminal is relayed to ours: keys in (with -i), output
 * out, window size changes passed on. Ends when pid 1 has, with the
 * terminal's output drained and the user's terminal mode restored. */
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

typedef struct
{
  void (*output) (gpointer, const char *, gsize); /* a copy of it (the log), or NULL */
  gpointer output_data;
  int master;          /* -1 without -t, or once it has ended */
  gboolean input;      /* keys go in (-i) */
  GByteArray *pending; /* read from stdin, not yet taken by the master */
  gboolean stdin_done;
  gboolean stdout_gone; /* writing to our stdout failed */
} Relay;

/* Everything the container's terminal has, to our stdout and the output
 * hook. FALSE at its end. */
static gboolean
relay_out (Relay *r)
{
  char buf[16384];

  for (;;)
    {
      ssize_t n = read (r->master, buf, sizeof buf);
      if (n > 0)
        {
          if (r->output != NULL)
            r->output (r->output_data, buf, (gsize) n);
          if (!r->stdout_gone && !hutch_util_write_all (STDOUT_FILENO, buf, (gsize) n, NULL))
            r->stdout_gone = TRUE; /* nobody reads our output any more; the log still does */
          if (r->stdout_gone && r->output == NULL)
            return FALSE;
          continue;
        }
      if (n < 0 && errno == EINTR)
        continue;
      /* EIO: every holder of the slave has gone */
      return n < 0 && errno == EAGAIN;
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

int
hutch_sandbox_monitor (pid_t pid, const sigset_t *set, int master, gboolean input,
                       const HutchSandboxPoll *const *polls,
                       void (*tty_output) (gpointer, const char *, gsize), gpointer tty_data)
{
  g_autoptr (GArray) fds = g_array_new (FALSE, FALSE, sizeof (struct pollfd));
  hutch_autofd int sfd = signalfd (-1, set, SFD_CLOEXEC | SFD_NONBLOCK);
  Relay r = { tty_output, tty_data, master, input && master >= 0, g_byte_array_new (), FALSE, FALSE };
  HutchTtyState *tty = NULL;
  int status = 0;
  gboolean done = FALSE;

  if (master >= 0)
    {
      (void) fcntl (master, F_SETFL, O_NONBLOCK);
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
      struct pollfd own[3] = { { sfd, POLLIN, 0 }, { r.master, POLLIN, 0 }, { -1, POLLIN, 0 } };
      struct pollfd *p;
      struct signalfd_siginfo si;
      int timeout = -1;

      if (r.master >= 0 && r.pending->len > 0)
        own[1].events |= POLLOUT;
      if (r.input && !r.stdin_done && r.master >= 0 && r.pending->len < 65536)
        own[2].fd = STDIN_FILENO;
      g_array_set_size (fds, 0);
      g_array_append_vals (fds, own, 3);
      for (const HutchSandboxPoll *const *x = polls; x != NULL && *x != NULL; x++)
        (*x)->prepare ((*x)->data, fds, &timeout);
      if (poll ((struct pollfd *) fds->data, fds->len, timeout) < 0)
        continue;
      for (const HutchSandboxPoll *const *x = polls; x != NULL && *x != NULL; x++)
        (*x)->dispatch ((*x)->data, fds);
      p = (struct pollfd *) fds->data;
      if (p[1].revents & POLLOUT)
        flush_in (&r);
      if (p[1].revents & (POLLIN | POLLHUP | POLLERR) && !relay_out (&r))
        r.master = -1; /* kept open: ends with the container */
      if (p[2].revents & (POLLIN | POLLHUP | POLLERR))
        relay_in (&r);
      while (read (sfd, &si, sizeof si) == sizeof si)
        {
          int sig = (int) si.ssi_signo;
          if (sig == SIGWINCH && master >= 0)
            hutch_sandbox_tty_resize (tty, master); /* the kernel tells the command */
          else if (sig != SIGCHLD)
            (void) kill (pid, sig);
          else if (waitpid (pid, &status, WNOHANG) == pid)
            done = TRUE;
        }
    }
  /* pid 1 has gone and its namespace with it: what the terminal holds. */
  if (r.master >= 0)
    (void) relay_out (&r);
  hutch_sandbox_tty_state_free (tty);
  g_byte_array_unref (r.pending);
  signal (SIGPIPE, SIG_DFL);
  return status;
}
