/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Phase marks for the benchmarks (tests/bench/load.sh --profile): with
 * HUTCH_PROFILE set, each mark is one line on stderr with the wall clock
 * and this process's CPU time; the script takes the differences. Unset,
 * a mark costs one getenv. Not a log: nothing reads these but scripts. */
#include "config.h"

#include <stdio.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

void
hutch_util_profile_mark (const char *phase)
{
  struct timespec now;
  struct rusage ru;
  char line[256];
  int n;

  if (g_getenv ("HUTCH_PROFILE") == NULL)
    return;
  if (clock_gettime (CLOCK_MONOTONIC, &now) < 0 || getrusage (RUSAGE_SELF, &ru) < 0)
    return;
  /* one write, so that the lines of a parent and its child never mix */
  n = snprintf (line, sizeof line, "hutch-profile %d %ld.%06ld %ld.%06ld %ld.%06ld %s\n",
                (int) getpid (), (long) now.tv_sec, now.tv_nsec / 1000L,
                (long) ru.ru_utime.tv_sec, (long) ru.ru_utime.tv_usec,
                (long) ru.ru_stime.tv_sec, (long) ru.ru_stime.tv_usec, phase);
  if (n > 0)
    (void) !write (STDERR_FILENO, line, (size_t) MIN (n, (int) sizeof line - 1));
}
