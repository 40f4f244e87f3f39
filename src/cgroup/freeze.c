/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The cgroup v2 freezer of a container's cgroup, for pause and unpause:
 * cgroup.freeze written, then cgroup.events read until the kernel says
 * the whole subtree is frozen (or thawed). Not the v1 freezer: a normal
 * user is never given a v1 hierarchy. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include "cgroup.h"

/* cgroup.events says "frozen 1" (or "frozen 0"). */
static gboolean
events_say (const char *dir, gboolean frozen)
{
  g_autofree char *path = g_build_filename (dir, "cgroup.events", NULL);
  g_autofree char *text = hutch_util_read_host_file (path, 4096, NULL);

  return text != NULL && strstr (text, frozen ? "frozen 1" : "frozen 0") != NULL;
}

gboolean
hutch_cgroup_frozen (const char *dir)
{
  g_autofree char *path = g_build_filename (dir, "cgroup.freeze", NULL);
  g_autofree char *text = hutch_util_read_host_file (path, 64, NULL);

  return text != NULL && text[0] == '1';
}

gboolean
hutch_cgroup_freeze (const char *dir, gboolean frozen, GError **error)
{
  g_autofree char *path = g_build_filename (dir, "cgroup.freeze", NULL);
  g_autofree char *events = g_build_filename (dir, "cgroup.events", NULL);
  hutch_autofd int fd = open (path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
  hutch_autofd int efd = -1;

  if (fd < 0)
    return hutch_throw_errno (error, "opening %s", path);
  if (write (fd, frozen ? "1" : "0", 1) != 1)
    return hutch_throw_errno (error, "writing %s", path);
  /* the kernel freezes the tasks one by one: cgroup.events changes (and
   * polls as POLLPRI) once all are; ten seconds at most, as a task in an
   * uninterruptible sleep can hold it off */
  efd = open (events, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  for (int waited = 0; !events_say (dir, frozen); waited += 100)
    {
      struct pollfd p = { efd, POLLPRI, 0 };
      if (waited >= 10000)
        return hutch_throw (error, HUTCH_ERROR_BUSY,
                            "cgroup %s is not %s after 10 s: a process of it may be stuck in "
                            "the kernel (see its cgroup.events)",
                            dir, frozen ? "frozen" : "thawed");
      if (efd < 0 || poll (&p, 1, 100) < 0)
        (void) g_usleep (100 * 1000);
    }
  return TRUE;
}
