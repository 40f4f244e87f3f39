/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Every fd from a number up made close-on-exec, just before exec, so that
 * nothing of ours or of the caller's shell reaches a container's command:
 * close_range(CLOSE_RANGE_CLOEXEC), Linux 5.11; before it, or under a
 * seccomp profile that refuses it, each fd /proc/self/fd lists; without
 * /proc, each number below RLIMIT_NOFILE. Async-signal-safe: no malloc. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "util.h"

static gboolean
set_cloexec (int fd)
{
  int flags = fcntl (fd, F_GETFD);

  if (flags < 0)
    return errno == EBADF; /* closed since it was listed: nothing to do */
  return (flags & FD_CLOEXEC) || fcntl (fd, F_SETFD, flags | FD_CLOEXEC) == 0;
}

/* The fds /proc/self/fd lists, read with getdents64 into the stack.
 * FALSE with errno when it could not be read. */
static gboolean
cloexec_listed (int first)
{
  char buf[4096] __attribute__ ((aligned (8)));
  int dir = open ("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  ssize_t n;

  if (dir < 0)
    return FALSE;
  while ((n = syscall (SYS_getdents64, dir, buf, sizeof buf)) > 0)
    for (ssize_t at = 0; at < n;)
      {
        struct dirent64 *d = (struct dirent64 *) (buf + at);
        long fd = d->d_name[0] != '\0' ? 0 : -1;
        at += d->d_reclen;
        for (const char *c = d->d_name; *c != '\0' && fd >= 0 && fd <= INT32_MAX; c++)
          fd = g_ascii_isdigit (*c) ? fd * 10 + (*c - '0') : -1; /* "." and ".." too */
        if (fd < first || fd > INT32_MAX || fd == dir)
          continue;
        if (!set_cloexec ((int) fd))
          {
            int errsv = errno;
            close (dir);
            errno = errsv;
            return FALSE;
          }
      }
  close (dir);
  return n == 0;
}

/* Without /proc: every number the process may have an fd under. */
static gboolean
cloexec_counted (int first)
{
  struct rlimit rl;

  if (getrlimit (RLIMIT_NOFILE, &rl) < 0)
    return FALSE;
  for (rlim_t fd = (rlim_t) first; fd < rl.rlim_cur && fd <= INT32_MAX; fd++)
    if (!set_cloexec ((int) fd))
      return FALSE;
  return TRUE;
}

gboolean
hutch_util_cloexec_from (int first)
{
  if (syscall (SYS_close_range, (unsigned) first, ~0U, CLOSE_RANGE_CLOEXEC) == 0)
    return TRUE;
  /* ENOSYS: before Linux 5.9; EINVAL: 5.9 and 5.10, without the flag;
   * EPERM or ENOSYS: a seccomp profile that does not know it */
  if (errno != ENOSYS && errno != EINVAL && errno != EPERM)
    return FALSE;
  if (cloexec_listed (first))
    return TRUE;
  if (errno != ENOENT && errno != EACCES)
    return FALSE;
  return cloexec_counted (first);
}
