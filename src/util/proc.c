/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Processes named by a pid read from a state file: a pid alone names
 * whatever process has it now, so hutch keeps each pid with the time its
 * process started and only acts on it through a pidfd whose process still
 * has that start time. Signalling goes through that pidfd, so the check
 * and the signal are about one process even if the pid is reused. */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "util.h"

gboolean
hutch_util_pid_start_time (pid_t pid, guint64 *out_start)
{
  char path[64], buf[1024];
  hutch_autofd int fd = -1;
  const char *p;
  ssize_t n;

  g_snprintf (path, sizeof path, "/proc/%d/stat", (int) pid);
  fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return FALSE;
  do
    n = read (fd, buf, sizeof buf - 1);
  while (n < 0 && errno == EINTR);
  if (n <= 0)
    return FALSE;
  buf[n] = '\0';
  /* The command name (field 2) is in parentheses and may hold spaces and
   * ')' itself: the fields that follow start after the last ')'. */
  p = strrchr (buf, ')');
  if (p == NULL)
    return FALSE;
  /* field 3 (state) is the first after ") "; starttime is field 22 */
  p += 2;
  for (int field = 3; field < 22; field++)
    {
      p = strchr (p, ' ');
      if (p == NULL)
        return FALSE;
      p++;
    }
  return sscanf (p, "%" G_GUINT64_FORMAT, out_start) == 1;
}

int
hutch_util_pidfd_open_checked (pid_t pid, guint64 start, const char *what, GError **error)
{
  hutch_autofd int fd = -1;
  guint64 now = 0;

  /* 0 and -1 mean a process group and every process we may signal; 1 is
   * an init. None of them is ever one of ours to act on. */
  if (pid <= 1)
    return hutch_throw (error, HUTCH_ERROR_UNSAFE_PATH,
                        "%s has no valid pid (%d) in its state file: refusing to act on it", what,
                        (int) pid), -1;
  if (start == 0)
    return hutch_throw (error, HUTCH_ERROR_FAILED,
                        "%s: its state file has no start time for pid %d (written by an older "
                        "hutch?): refusing to signal a pid that cannot be checked",
                        what, (int) pid), -1;
  fd = (int) syscall (SYS_pidfd_open, pid, 0);
  if (fd < 0 && errno != ESRCH)
    return hutch_throw_errno (error, "%s: opening pid %d", what, (int) pid), -1;
  /* After pidfd_open the process cannot be replaced under the fd: if its
   * start time is the one recorded, the fd is the process we started. */
  if (fd < 0 || !hutch_util_pid_start_time (pid, &now) || now != start)
    return hutch_throw (error, HUTCH_ERROR_NOT_FOUND, "%s: pid %d has ended", what, (int) pid), -1;
  return hutch_fd_steal (&fd);
}

gboolean
hutch_util_pidfd_signal (int pidfd, int sig, GError **error)
{
  if (syscall (SYS_pidfd_send_signal, pidfd, sig, NULL, 0) < 0)
    {
      if (errno == ESRCH)
        return hutch_throw (error, HUTCH_ERROR_NOT_FOUND, "the process has ended");
      return hutch_throw_errno (error, "sending signal %d", sig);
    }
  return TRUE;
}

/* Fields 48 to 51 of /proc/self/stat (Linux 3.5): where the kernel finds
 * the arguments and the environment that /proc/PID/cmdline and environ
 * show. */
static gboolean
proc_strings (guintptr out[4])
{
  g_autofree char *text = hutch_util_read_host_file ("/proc/self/stat", 4096, NULL);
  const char *p = text != NULL ? strrchr (text, ')') : NULL;

  if (p == NULL)
    return FALSE;
  p += 2; /* field 3 */
  for (int field = 3; field < 48; field++)
    {
      p = strchr (p, ' ');
      if (p == NULL)
        return FALSE;
      p++;
    }
  return sscanf (p, "%" G_GUINTPTR_FORMAT " %" G_GUINTPTR_FORMAT " %" G_GUINTPTR_FORMAT
                 " %" G_GUINTPTR_FORMAT,
                 &out[0], &out[1], &out[2], &out[3]) == 4
         && out[0] < out[1] && out[2] <= out[3];
}

gboolean
hutch_util_proc_title_set (const char *title)
{
  guintptr at[4];
  char *args, *env;
  gsize args_len, env_len;
  char comm[16];

  g_strlcpy (comm, title, sizeof comm);
  (void) prctl (PR_SET_NAME, comm, 0, 0, 0);
  if (!proc_strings (at))
    return FALSE;
  args = (char *) at[0], args_len = at[1] - at[0];
  env = (char *) at[2], env_len = at[3] - at[2];
  /* Nothing may point into the environment once it is wiped. */
  (void) clearenv ();
  memset (env, 0, env_len);
  /* With a NUL at its end the kernel shows the whole area, NULs and all;
   * without one, it takes the area for setproctitle()'s and shows it up to
   * its first NUL (get_mm_proctitle()): the title alone. */
  if (args_len < 2)
    return FALSE;
  memset (args, ' ', args_len);
  args[MIN (strlen (title), args_len - 2)] = '\0';
  memcpy (args, title, MIN (strlen (title), args_len - 2));
  return TRUE;
}
