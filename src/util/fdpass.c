/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* File descriptors across a unix socket (SCM_RIGHTS), each message a
 * one-byte tag with up to HUTCH_UTIL_FDS_MAX fds. */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "util.h"

gboolean
hutch_util_send_fds (int sock, char tag, const int *fds, guint n)
{
  char control[CMSG_SPACE (sizeof (int) * HUTCH_UTIL_FDS_MAX)] = { 0 };
  struct iovec iov = { &tag, 1 };
  struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
  ssize_t r;

  g_return_val_if_fail (n <= HUTCH_UTIL_FDS_MAX, FALSE);
  if (n > 0)
    {
      struct cmsghdr *cmsg;
      msg.msg_control = control;
      msg.msg_controllen = CMSG_SPACE (sizeof (int) * n);
      cmsg = CMSG_FIRSTHDR (&msg);
      cmsg->cmsg_level = SOL_SOCKET;
      cmsg->cmsg_type = SCM_RIGHTS;
      cmsg->cmsg_len = CMSG_LEN (sizeof (int) * n);
      memcpy (CMSG_DATA (cmsg), fds, sizeof (int) * n);
    }
  do
    r = sendmsg (sock, &msg, MSG_NOSIGNAL);
  while (r < 0 && errno == EINTR);
  return r == 1;
}

int
hutch_util_recv_fds (int sock, char *tag, int *fds, guint max)
{
  char control[CMSG_SPACE (sizeof (int) * HUTCH_UTIL_FDS_MAX)] = { 0 };
  struct iovec iov = { tag, 1 };
  struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control,
                        .msg_controllen = sizeof control };
  guint got = 0;
  ssize_t r;

  do
    r = recvmsg (sock, &msg, MSG_CMSG_CLOEXEC);
  while (r < 0 && errno == EINTR);
  if (r <= 0)
    return -1;
  for (struct cmsghdr *c = CMSG_FIRSTHDR (&msg); c != NULL; c = CMSG_NXTHDR (&msg, c))
    {
      guint n;
      if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
        continue;
      n = (guint) ((c->cmsg_len - CMSG_LEN (0)) / sizeof (int));
      for (guint i = 0; i < n; i++)
        {
          int fd;
          memcpy (&fd, CMSG_DATA (c) + i * sizeof (int), sizeof fd);
          if (got < max)
            fds[got++] = fd;
          else
            close (fd); /* more than asked for: not ours to keep */
        }
    }
  return (int) got;
}
