/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The single-thread rule before fork and clone, checked in debug builds:
 * a child forked from a process with other threads inherits their locks
 * held (malloc's, GLib's, libcurl's) and may deadlock on the first call.
 * What keeps hutch single-threaded there is the code's shape; this says
 * loudly, at the fork, when a change broke it. */
#include "config.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

#ifndef NDEBUG
static void
say (const char *text)
{
  (void) !write (STDERR_FILENO, text, strlen (text));
}

/* Async-signal-safe (no allocation, no stdio): it runs in forked children
 * too, before their own forks. */
void
hutch_util_assert_single_thread_at (const char *where)
{
  char buf[4096], count[24];
  const char *line, *end;
  ssize_t n = -1;
  int fd = open ("/proc/self/status", O_RDONLY | O_CLOEXEC);

  if (fd >= 0)
    {
      n = read (fd, buf, sizeof buf - 1);
      close (fd);
    }
  /* without /proc (pid 1 before it mounts its own) nothing can be said */
  if (n <= 0)
    return;
  buf[n] = '\0';
  line = strstr (buf, "\nThreads:\t");
  if (line == NULL)
    return;
  line += strlen ("\nThreads:\t");
  end = strchr (line, '\n');
  if (end == NULL || (end - line == 1 && line[0] == '1'))
    return;
  n = MIN (end - line, (ssize_t) sizeof count - 1);
  memcpy (count, line, (size_t) n);
  count[n] = '\0';
  /* a programming error, in a debug build: say where and stop */
  say ("hutch: BUG: forking with ");
  say (count);
  say (" threads in ");
  say (where);
  say (" (see \"Across fork and clone\" in STYLE.md)\n");
  abort ();
}
#endif
