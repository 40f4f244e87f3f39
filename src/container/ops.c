/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kill, stop and wait (rm is remove.c). Signals go to the container's pid 1 (our init
 * passes them to the command; with --init=false the command is pid 1 and,
 * as in docker, ignores those it has no handler for). The end is awaited
 * on a pidfd of the monitor: it has recorded the exit code when it goes
 * (with --rm, whose record goes too, in the live file `wait` holds open). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "container-private.h"

/* Under the container's lock, where the restart keeper looks before it
 * starts the container again: the user's stop is recorded, then the
 * record read. A restart either comes before (and is what we stop) or
 * sees the mark and does not happen. */
static HutchContainer *
load_stopping (const HutchContext *ctx, const char *id, GError **error)
{
  hutch_autofd int lock = hutch_container_lock (ctx, id, error);

  if (lock < 0 || !hutch_container_stop_mark (ctx, id, error))
    return NULL;
  return hutch_container_load (ctx, id, error);
}

static HutchContainer *
load_running (const HutchContext *ctx, const char *id, GError **error)
{
  g_autoptr (HutchContainer) c = load_stopping (ctx, id, error);

  if (c != NULL && c->status != HUTCH_CONTAINER_RUNNING)
    return hutch_throw (error, HUTCH_ERROR_USAGE, "container %s is not running (%s)", c->name,
                        hutch_container_status_name (c->status)), NULL;
  return g_steal_pointer (&c);
}

/* TRUE once the monitor of @c has gone, within @timeout_ms (-1: no limit). */
static gboolean
monitor_wait (const HutchContainer *c, int timeout_ms)
{
  /* checked to be the monitor that wrote the live file, not a later
   * process that has its pid */
  hutch_autofd int fd = hutch_container_pidfd (c, TRUE, NULL);
  struct pollfd p = { fd, POLLIN, 0 };
  int r;

  if (fd < 0)
    return TRUE;
  do
    r = poll (&p, 1, timeout_ms);
  while (r < 0 && errno == EINTR);
  return r != 0;
}

/* Sends @sig to @c's pid 1, if it is still the process its monitor
 * recorded; FALSE with HUTCH_ERROR_NOT_FOUND when it has ended. */
static gboolean
init_signal (const HutchContainer *c, int sig, GError **error)
{
  hutch_autofd int fd = hutch_container_pidfd (c, FALSE, error);

  if (fd < 0 || !hutch_util_pidfd_signal (fd, sig, error))
    return g_prefix_error (error, "signalling container %s: ", c->name), FALSE;
  return TRUE;
}

/* As init_signal(), but a pid 1 that has just ended is no error. */
static gboolean
init_signal_if_running (const HutchContainer *c, int sig, GError **error)
{
  g_autoptr (GError) local = NULL;

  if (init_signal (c, sig, &local) || g_error_matches (local, HUTCH_ERROR, HUTCH_ERROR_NOT_FOUND))
    return TRUE;
  g_propagate_error (error, g_steal_pointer (&local));
  return FALSE;
}

gboolean
hutch_container_kill (const HutchContext *ctx, const char *id, int sig, GError **error)
{
  /* (as docker: a kill by the user keeps a policy from restarting it) */
  g_autoptr (HutchContainer) c = load_running (ctx, id, error);

  return c != NULL && init_signal (c, sig, error);
}

gboolean
hutch_container_stop (const HutchContext *ctx, const char *id, int timeout, GError **error)
{
  g_autoptr (HutchContainer) c = load_stopping (ctx, id, error);
  int sig;

  if (c == NULL)
    return FALSE;
  if (c->status != HUTCH_CONTAINER_RUNNING)
    {
      /* between two runs: the keeper goes, and no restart comes */
      hutch_container_keeper_end (ctx, id);
      return TRUE; /* as docker: stopping a stopped container is no error */
    }
  /* no -t: the container's --stop-timeout, else docker's 10 s */
  if (timeout == HUTCH_STOP_TIMEOUT_UNSET)
    timeout = c->stop_timeout != HUTCH_STOP_TIMEOUT_UNSET ? c->stop_timeout : 10;
  sig = c->stop_signal != NULL ? hutch_container_signal_parse (c->stop_signal) : SIGTERM;
  if (sig < 0)
    sig = SIGTERM;
  if (!init_signal_if_running (c, sig, error))
    return FALSE;
  if (!monitor_wait (c, timeout >= 0 ? timeout * 1000 : -1)
      && !init_signal_if_running (c, SIGKILL, error))
    return FALSE;
  (void) monitor_wait (c, -1);
  hutch_container_keeper_end (ctx, id);
  return TRUE;
}

/* The "exit N" line the monitor of a --rm container adds to live (start.c)
 * before the container goes. */
static gboolean
live_exit_code (int live, int *out_code)
{
  char buf[128];
  ssize_t n = live >= 0 ? pread (live, buf, sizeof buf - 1, 0) : -1;
  const char *line;

  if (n <= 0)
    return FALSE;
  buf[n] = '\0';
  line = strstr (buf, "\nexit ");
  return line != NULL && sscanf (line, "\nexit %d", out_code) == 1;
}

gboolean
hutch_container_wait (const HutchContext *ctx, const char *id, int *out_code, GError **error)
{
  g_autoptr (HutchContainer) c = hutch_container_load (ctx, id, error);

  if (c == NULL)
    return FALSE;
  if (c->status == HUTCH_CONTAINER_RUNNING)
    {
      g_autofree char *run = hutch_container_run_dir (ctx, id, error);
      g_autofree char *path = run != NULL ? g_build_filename (run, "live", NULL) : NULL;
      g_autofree char *name = g_strdup (c->name);
      hutch_autofd int live = -1;

      if (run == NULL)
        return FALSE;
      live = open (path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
      (void) monitor_wait (c, -1);
      hutch_container_free (c);
      c = hutch_container_load (ctx, id, NULL);
      if (c == NULL) /* it had --rm */
        return live_exit_code (live, out_code)
               || hutch_throw (error, HUTCH_ERROR_NOT_FOUND,
                               "container %s was removed (--rm) without leaving its exit code: "
                               "its monitor was killed",
                               name);
      if (c->status == HUTCH_CONTAINER_RUNNING) /* its monitor could not be watched */
        return hutch_throw (error, HUTCH_ERROR_FAILED,
                            "container %s: its monitor (pid %d) is running, but could not be "
                            "watched: see \"hutch ps\" for it",
                            name, (int) c->monitor_pid);
    }
  *out_code = c->exit_code;
  return TRUE;
}
