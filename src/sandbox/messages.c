/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What the children of a container's monitor (or of `exec`) say on the
 * message socket: one datagram each, a kind byte then text (or fds). Heard
 * while the container runs: its end with no failure said means the
 * command was exec'd. */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sandbox-private.h"

/* What the children say on the message socket, heard while the container
 * runs: its end, with no failure said, is the command exec'd. */
static void
message_take (HutchSandboxMessages *m, const char *msg, gsize n, const int *fds, int n_fds)
{
  if (msg[0] == HUTCH_SANDBOX_MSG_DRIVER && n >= 2)
    m->result->driver = (HutchRootfsDriver) (msg[1] - '0');
  else if (msg[0] == HUTCH_SANDBOX_MSG_PID)
    m->init = (pid_t) atoi (msg + 1);
  else if (msg[0] == HUTCH_SANDBOX_MSG_NAMESPACES && n_fds == HUTCH_SANDBOX_N_NS
           && m->ns[0] < 0)
    {
      memcpy (m->ns, fds, sizeof m->ns);
      return;
    }
  else if (msg[0] == HUTCH_SANDBOX_MSG_SETUP && m->setup_error == NULL)
    m->setup_error = g_strdup (msg + 1);
  else if (msg[0] == HUTCH_SANDBOX_MSG_EXEC || msg[0] == HUTCH_SANDBOX_MSG_NOT_FOUND)
    {
      m->exec_status = msg[0] == HUTCH_SANDBOX_MSG_EXEC ? 126 : 127;
      g_free (m->result->exec_error);
      m->result->exec_error = g_strdup (msg + 1);
    }
  for (int i = 0; i < n_fds; i++)
    close (fds[i]);
}

/* One datagram; FALSE when there is none now, or at the end. */
gboolean
hutch_sandbox_message_read (HutchSandboxMessages *m)
{
  char buf[8192];
  char control[CMSG_SPACE (sizeof (int) * HUTCH_SANDBOX_N_NS)];
  struct iovec iov = { buf, sizeof buf - 1 };
  struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control,
                        .msg_controllen = sizeof control };
  int fds[HUTCH_SANDBOX_N_NS];
  int n_fds = 0;
  ssize_t r = recvmsg (m->fd, &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);

  if (r < 0 && errno == EINTR)
    return TRUE;
  if (r <= 0)
    {
      if (r == 0 || (errno != EAGAIN && errno != EWOULDBLOCK))
        m->ended = TRUE;
      return FALSE;
    }
  buf[r] = '\0';
  for (struct cmsghdr *c = CMSG_FIRSTHDR (&msg); c != NULL; c = CMSG_NXTHDR (&msg, c))
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
      for (gsize i = 0; i < (c->cmsg_len - CMSG_LEN (0)) / sizeof (int); i++)
        {
          int fd;
          memcpy (&fd, CMSG_DATA (c) + i * sizeof (int), sizeof fd);
          if (n_fds < HUTCH_SANDBOX_N_NS)
            fds[n_fds++] = fd;
          else
            close (fd);
        }
  message_take (m, buf, (gsize) r, fds, n_fds);
  return TRUE;
}

void
hutch_sandbox_messages_prepare (gpointer data, GArray *fds, int *timeout_ms)
{
  HutchSandboxMessages *m = data;
  struct pollfd p = { m->fd, POLLIN, 0 };

  (void) timeout_ms;
  if (!m->ended)
    g_array_append_val (fds, p);
}

void
hutch_sandbox_messages_dispatch (gpointer data, GArray *fds)
{
  HutchSandboxMessages *m = data;

  for (guint i = 0; i < fds->len && !m->ended; i++)
    if (g_array_index (fds, struct pollfd, i).fd == m->fd
        && g_array_index (fds, struct pollfd, i).revents != 0)
      {
        while (hutch_sandbox_message_read (m))
          ;
        break;
      }
  if (m->ended && m->setup_error == NULL && m->result->exec_error == NULL && m->init > 0
      && m->ns[0] >= 0 && m->hooks != NULL && m->hooks->started != NULL)
    m->hooks->started (m->hooks->data, m->init, m->ns);
  /* Not kept here: a namespace held open outlives the container (its
   * mounts, and a fuse-overlayfs server waiting for them, with it). */
  if (m->ended)
    for (guint i = 0; i < HUTCH_SANDBOX_N_NS; i++)
      hutch_fd_clear (&m->ns[i]);
}

void
hutch_sandbox_messages_init (HutchSandboxMessages *m, int fd, HutchSandboxResult *result,
                             const HutchSandboxHooks *hooks)
{
  memset (m, 0, sizeof *m);
  m->fd = fd;
  m->result = result;
  m->hooks = hooks;
  m->init = -1;
  for (guint i = 0; i < HUTCH_SANDBOX_N_NS; i++)
    m->ns[i] = -1;
}

void
hutch_sandbox_messages_finish (HutchSandboxMessages *m)
{
  while (!m->ended)
    if (!hutch_sandbox_message_read (m) && !m->ended)
      {
        struct pollfd p = { m->fd, POLLIN, 0 };
        /* ENOMEM or EINVAL would come back at once: what was heard stands */
        if (poll (&p, 1, -1) < 0 && errno != EINTR)
          break;
      }
  for (guint i = 0; i < HUTCH_SANDBOX_N_NS; i++)
    hutch_fd_clear (&m->ns[i]);
}
