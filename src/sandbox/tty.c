/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* run -t: a pseudo-terminal made inside the container, from its own devpts
 * instance, so the command's terminal is one the container owns (a program
 * in it can push keystrokes only into that). Its pid 1 opens the pair,
 * keeps the slave for the command and sends the master to the monitor over
 * a socket (SCM_RIGHTS); the monitor relays it to the user's terminal. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

#include "sandbox-private.h"

int
hutch_sandbox_tty_open (int sock, GError **error)
{
  hutch_autofd int master = open ("/dev/pts/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
  hutch_autofd int slave = -1;
  char name[64];

  if (master < 0)
    return hutch_throw_errno (error, "opening the container's /dev/pts/ptmx"), -1;
  if (unlockpt (master) < 0 || ptsname_r (master, name, sizeof name) != 0)
    return hutch_throw_errno (error, "making the container's terminal"), -1;
  slave = open (name, O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (slave < 0)
    return hutch_throw_errno (error, "opening the container's terminal %s", name), -1;
  if (!hutch_util_send_fds (sock, 't', &master, 1))
    return hutch_throw_errno (error, "passing the terminal to hutch"), -1;
  return hutch_fd_steal (&slave);
}

gboolean
hutch_sandbox_tty_attach (int slave)
{
  (void) setsid (); /* already the leader under --init=false */
  if (ioctl (slave, TIOCSCTTY, 0) < 0)
    return FALSE;
  for (int fd = 0; fd <= 2; fd++)
    if (dup2 (slave, fd) < 0)
      return FALSE;
  return TRUE;
}

int
hutch_sandbox_tty_receive (int sock)
{
  char tag;
  int fd = -1;

  /* none when the child failed before it made the terminal */
  return hutch_util_recv_fds (sock, &tag, &fd, 1) == 1 ? fd : -1;
}

/* The user's terminal: which of our fds is one, and its mode before raw. */
struct HutchTtyState
{
  int fd;                /* 0 or 1 when a terminal, else -1 */
  gboolean raw;          /* we changed its mode */
  struct termios saved;
};

void
hutch_sandbox_tty_resize (HutchTtyState *t, int master)
{
  struct winsize ws;

  if (t->fd >= 0 && ioctl (t->fd, TIOCGWINSZ, &ws) == 0)
    (void) ioctl (master, TIOCSWINSZ, &ws);
}

HutchTtyState *
hutch_sandbox_tty_state_new (gboolean input)
{
  HutchTtyState *t = g_new0 (HutchTtyState, 1);

  t->fd = isatty (STDIN_FILENO) ? STDIN_FILENO : isatty (STDOUT_FILENO) ? STDOUT_FILENO : -1;
  /* Raw only when the keys go to the container, and only in the
   * foreground (a background job would be stopped by SIGTTOU). */
  if (input && t->fd == STDIN_FILENO && tcgetpgrp (STDIN_FILENO) == getpgrp ()
      && tcgetattr (STDIN_FILENO, &t->saved) == 0)
    {
      struct termios raw = t->saved;
      cfmakeraw (&raw);
      if (tcsetattr (STDIN_FILENO, TCSADRAIN, &raw) == 0)
        t->raw = TRUE;
    }
  return t;
}

void
hutch_sandbox_tty_state_free (HutchTtyState *t)
{
  if (t == NULL)
    return;
  if (t->raw)
    (void) tcsetattr (STDIN_FILENO, TCSADRAIN, &t->saved);
  g_free (t);
}
