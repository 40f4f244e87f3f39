/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kill, stop, wait and rm. Signals go to the container's pid 1 (our init
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

static HutchContainer *
load_running (const HutchContext *ctx, const char *id, GError **error)
{
  g_autoptr (HutchContainer) c = hutch_container_load (ctx, id, error);

  if (c != NULL && c->status != HUTCH_CONTAINER_RUNNING)
    return hutch_throw (error, HUTCH_ERROR_USAGE, "container %s is not running (%s)", c->name,
                        hutch_container_status_name (c->status)), NULL;
  return g_steal_pointer (&c);
}

/* TRUE once the monitor of @c has gone, within @timeout_ms (-1: no limit). */
static gboolean
monitor_wait (const HutchContext *ctx, const HutchContainer *c, int timeout_ms)
{
  hutch_autofd int fd = (int) syscall (SYS_pidfd_open, c->monitor_pid, 0);
  g_autoptr (HutchContainer) again = NULL;
  struct pollfd p = { fd, POLLIN, 0 };
  int r;

  if (fd < 0)
    return TRUE;
  /* the pid is its while it still holds the live lock */
  again = hutch_container_load (ctx, c->id, NULL);
  if (again == NULL || again->status != HUTCH_CONTAINER_RUNNING || again->monitor_pid != c->monitor_pid)
    return TRUE;
  do
    r = poll (&p, 1, timeout_ms);
  while (r < 0 && errno == EINTR);
  return r > 0;
}

gboolean
hutch_container_kill (const HutchContext *ctx, const char *id, int sig, GError **error)
{
  g_autoptr (HutchContainer) c = load_running (ctx, id, error);

  if (c == NULL)
    return FALSE;
  if (c->init_pid <= 0 || kill (c->init_pid, sig) < 0)
    return hutch_throw_errno (error, "signalling container %s (pid %d)", c->name, (int) c->init_pid);
  return TRUE;
}

gboolean
hutch_container_stop (const HutchContext *ctx, const char *id, int timeout, GError **error)
{
  g_autoptr (HutchContainer) c = hutch_container_load (ctx, id, error);
  int sig;

  if (c == NULL)
    return FALSE;
  if (c->status != HUTCH_CONTAINER_RUNNING)
    return TRUE; /* as docker: stopping a stopped container is no error */
  sig = c->stop_signal != NULL ? hutch_container_signal_parse (c->stop_signal) : SIGTERM;
  if (sig < 0)
    sig = SIGTERM;
  if (kill (c->init_pid, sig) < 0 && errno != ESRCH)
    return hutch_throw_errno (error, "signalling container %s", c->name);
  if (monitor_wait (ctx, c, timeout >= 0 ? timeout * 1000 : -1))
    return TRUE;
  if (kill (c->init_pid, SIGKILL) < 0 && errno != ESRCH)
    return hutch_throw_errno (error, "killing container %s", c->name);
  (void) monitor_wait (ctx, c, -1);
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
      g_autofree char *run = hutch_container_run_dir (ctx, id);
      g_autofree char *path = g_build_filename (run, "live", NULL);
      g_autofree char *name = g_strdup (c->name);
      hutch_autofd int live = open (path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);

      (void) monitor_wait (ctx, c, -1);
      hutch_container_free (c);
      c = hutch_container_load (ctx, id, NULL);
      if (c == NULL) /* it had --rm */
        return live_exit_code (live, out_code)
               || hutch_throw (error, HUTCH_ERROR_NOT_FOUND,
                               "container %s was removed (--rm) without leaving its exit code: "
                               "its monitor was killed",
                               name);
    }
  *out_code = c->exit_code;
  return TRUE;
}

gboolean
hutch_container_remove (const HutchContext *ctx, const char *id, gboolean force, GError **error)
{
  hutch_autofd int lock = hutch_container_lock (ctx, id, error);
  g_autoptr (HutchContainer) c = lock >= 0 ? hutch_container_load (ctx, id, error) : NULL;
  g_autofree char *containers = g_build_filename (ctx->root, "containers", NULL);
  g_autofree char *run = hutch_container_run_dir (ctx, id);
  hutch_autofd int dfd = -1;
  const char *names[] = { id, NULL };

  if (c == NULL)
    return FALSE;
  if (c->status == HUTCH_CONTAINER_RUNNING)
    {
      if (!force)
        return hutch_throw (error, HUTCH_ERROR_BUSY,
                            "container %s is running: stop it first (hutch stop %s), or remove it "
                            "with rm -f",
                            c->name, c->name);
      (void) kill (c->init_pid, SIGKILL);
      /* not under the lock: with --rm the monitor removes it itself */
      hutch_fd_clear (&lock);
      (void) monitor_wait (ctx, c, -1);
      {
        g_autoptr (GError) local = NULL;
        if (hutch_container_remove (ctx, id, FALSE, &local)
            || g_error_matches (local, HUTCH_ERROR, HUTCH_ERROR_NOT_FOUND)
            || g_error_matches (local, G_FILE_ERROR, G_FILE_ERROR_NOENT))
          return TRUE;
        return g_propagate_error (error, g_steal_pointer (&local)), FALSE;
      }
    }
  hutch_container_name_release (ctx, c->name, id);
  /* left behind when its monitor was killed (empty: its processes died) */
  if (c->cgroup != NULL && g_str_has_prefix (c->cgroup, "/sys/fs/cgroup/")
      && !hutch_cgroup_remove_dir (c->cgroup, 10000))
    g_warning ("leaving the cgroup %s of container %s behind: %s", c->cgroup, c->name,
               g_strerror (errno));
  (void) hutch_util_remove_tree_at (AT_FDCWD, run);
  dfd = open (containers, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (dfd < 0)
    return hutch_throw_errno (error, "opening %s", containers);
  if (!hutch_util_remove_tree_at (dfd, id))
    {
      /* what the container wrote belongs to subordinate ids */
      g_autoptr (HutchIdMap) map = hutch_sandbox_idmap_new_for_user (error);
      if (map == NULL || !hutch_sandbox_userns_remove_at (map, dfd, names, error))
        return g_prefix_error (error, "removing container %s: ", c->name), FALSE;
    }
  return TRUE;
}
