/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Runs a command under a seccomp filter that makes openat2(2) fail with
 * ENOSYS, as on a kernel before 5.6 or under an old container profile, so
 * that CI proves the openat2-free resolution is what the tests exercised. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>
#include <seccomp.h>

int
main (int argc, char **argv)
{
  scmp_filter_ctx ctx;
  int r;

  if (argc < 2)
    {
      fprintf (stderr, "usage: no-openat2 COMMAND [ARG...]\n");
      return 2;
    }
  ctx = seccomp_init (SCMP_ACT_ALLOW);
  if (ctx == NULL)
    {
      fprintf (stderr, "no-openat2: seccomp_init failed\n");
      return 1;
    }
  r = seccomp_rule_add (ctx, SCMP_ACT_ERRNO (ENOSYS), SCMP_SYS (openat2), 0);
  if (r == 0 && prctl (PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
    r = -errno;
  if (r == 0)
    r = seccomp_load (ctx);
  seccomp_release (ctx);
  if (r < 0)
    {
      fprintf (stderr, "no-openat2: installing the filter: %s\n", strerror (-r));
      return 1;
    }
  setenv ("HUTCH_TEST_NO_OPENAT2", "1", 1);
  execvp (argv[1], argv + 1);
  fprintf (stderr, "no-openat2: executing %s: %s\n", argv[1], strerror (errno));
  return 127;
}
