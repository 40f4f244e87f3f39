/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* hutch_autofd: GLib 2.74 (Debian 12) has no g_autofd, so we keep our own. */
#pragma once

#include <errno.h>
#include <unistd.h>
#include <glib.h>

static inline void
hutch_fd_clear (int *fdp)
{
  int saved_errno = errno; /* a cleanup must not change errno */
  if (*fdp >= 0)
    (void) close (*fdp);
  *fdp = -1;
  errno = saved_errno;
}

#define hutch_autofd __attribute__ ((cleanup (hutch_fd_clear)))

/* Hands ownership of *@fdp to the caller and leaves -1 behind. */
static inline int
hutch_fd_steal (int *fdp)
{
  int fd = *fdp;
  *fdp = -1;
  return fd;
}
