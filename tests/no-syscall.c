/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* no-syscall NAME[:ERRNO]... -- COMMAND [ARG...]: runs COMMAND under a
 * seccomp filter that makes each system call NAME fail with ERRNO (ENOSYS,
 * or EINVAL or EPERM), as on a kernel or under a container profile without
 * it, so that CI proves a fallback is what the tests exercised: openat2
 * (before 5.6), close_range (ENOSYS before 5.9, EINVAL for
 * CLOSE_RANGE_CLOEXEC on 5.9 and 5.10), mount_setattr (before 5.12). Each
 * NAME is told to COMMAND as HUTCH_TEST_NO_<NAME>=<ERRNO>. The filter needs
 * no_new_privs, so nothing setuid (newuidmap) works under it. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>
#include <seccomp.h>

static int
errno_of (const char *name)
{
  static const struct
  {
    const char *name;
    int value;
  } known[] = { { "ENOSYS", ENOSYS }, { "EINVAL", EINVAL }, { "EPERM", EPERM } };

  for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
    if (strcmp (name, known[i].name) == 0)
      return known[i].value;
  return -1;
}

/* HUTCH_TEST_NO_<NAME in capitals>=<ERRNO> */
static void
tell (const char *name, const char *err)
{
  char key[96] = "HUTCH_TEST_NO_";
  size_t at = strlen (key);

  for (const char *p = name; *p != '\0' && at < sizeof key - 1; p++)
    key[at++] = (char) toupper ((unsigned char) *p);
  key[at] = '\0';
  setenv (key, err, 1);
}

int
main (int argc, char **argv)
{
  scmp_filter_ctx ctx = seccomp_init (SCMP_ACT_ALLOW);
  int i, r = 0;

  if (ctx == NULL)
    {
      fprintf (stderr, "no-syscall: seccomp_init failed\n");
      return 1;
    }
  for (i = 1; i < argc && strcmp (argv[i], "--") != 0 && r == 0; i++)
    {
      char *name = argv[i], *colon = strchr (name, ':');
      const char *err = colon != NULL ? colon + 1 : "ENOSYS";
      int nr, value = errno_of (err);
      if (colon != NULL)
        *colon = '\0';
      nr = seccomp_syscall_resolve_name (name);
      if (value < 0 || nr == __NR_SCMP_ERROR)
        {
          fprintf (stderr, "no-syscall: \"%s:%s\": a system call and ENOSYS, EINVAL or EPERM\n",
                   name, err);
          return 2;
        }
      r = seccomp_rule_add (ctx, SCMP_ACT_ERRNO (value), nr, 0);
      tell (name, err);
    }
  if (i >= argc - 1 || strcmp (argv[i], "--") != 0)
    {
      fprintf (stderr, "usage: no-syscall NAME[:ERRNO]... -- COMMAND [ARG...]\n");
      return 2;
    }
  if (r == 0 && prctl (PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
    r = -errno;
  if (r == 0)
    r = seccomp_load (ctx);
  seccomp_release (ctx);
  if (r < 0)
    {
      fprintf (stderr, "no-syscall: installing the filter: %s\n", strerror (-r));
      return 1;
    }
  execvp (argv[i + 1], argv + i + 1);
  fprintf (stderr, "no-syscall: executing %s: %s\n", argv[i + 1], strerror (errno));
  return 127;
}
