/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Removing a container so that a kill at any moment leaves it whole or
 * gone. containers/<id> is first renamed to containers/.trash-<id>: one
 * atomic step, after which no command sees the container or can take its
 * lock. Then its name is released, its live state and cgroups go, and last
 * the tombstone is deleted, file by file. The remover holds a flock on the
 * container's directory from before the rename to the end, as `create`
 * holds it from the directory's making until hutch.json is written. A
 * tombstone, or a directory without hutch.json, whose flock can be taken
 * was left by a process that was killed: the next command that lists or
 * creates containers finishes it off (hutch_container_sweep()), so it is
 * never shown, and never blocks a name. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "container-private.h"

#define TRASH_PREFIX HUTCH_CONTAINER_TRASH_PREFIX
/* held shared by `create` from before it makes a container's directory
 * until it holds that directory's flock; the sweep takes it exclusive to
 * know that a directory without hutch.json is no live create's */
#define MAKING_LOCK ".lock"

static int
open_containers (const HutchContext *ctx, GError **error)
{
  g_autofree char *dir = g_build_filename (ctx->root, "containers", NULL);
  int fd = open (dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

  if (fd < 0)
    return hutch_throw_errno (error, "opening %s", dir), -1;
  return fd;
}

static gboolean
flock_nb (int fd, int how)
{
  int r;

  do
    r = flock (fd, how | LOCK_NB);
  while (r < 0 && errno == EINTR);
  return r == 0;
}

int
hutch_container_making_lock (int containers_fd, gboolean exclusive, GError **error)
{
  hutch_autofd int fd = openat (containers_fd, MAKING_LOCK,
                                O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);

  if (fd < 0)
    return hutch_throw_errno (error, "opening containers/" MAKING_LOCK), -1;
  if (exclusive)
    return flock_nb (fd, LOCK_EX) ? hutch_fd_steal (&fd) : -1;
  while (flock (fd, LOCK_SH) < 0)
    if (errno != EINTR)
      return hutch_throw_errno (error, "locking containers/" MAKING_LOCK), -1;
  return hutch_fd_steal (&fd);
}

int
hutch_container_dir_hold (int containers_fd, const char *name, gboolean wait, GError **error)
{
  hutch_autofd int fd = openat (containers_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

  if (fd < 0)
    return hutch_throw_errno (error, "opening containers/%.12s", name), -1;
  if (!wait)
    return flock_nb (fd, LOCK_EX) ? hutch_fd_steal (&fd)
                                  : (hutch_throw (error, HUTCH_ERROR_BUSY, "in use"), -1);
  while (flock (fd, LOCK_EX) < 0)
    if (errno != EINTR)
      return hutch_throw_errno (error, "locking containers/%.12s", name), -1;
  return hutch_fd_steal (&fd);
}

/* The container's cgroup, empty once its processes have died (a killed
 * monitor leaves it behind), and its monitor's leaf, OWN/hutch-ID.monitor,
 * which only the next start in OWN would sweep otherwise; OWN is the
 * container cgroup's parent, or an ancestor with --cgroup-parent. */
static void
remove_cgroups (const char *cgroup, const char *id, const char *name)
{
  g_autofree char *leaf = g_strdup_printf ("hutch-%.12s.monitor", id);
  g_autofree char *at = NULL;

  if (cgroup == NULL || !g_str_has_prefix (cgroup, "/sys/fs/cgroup/") || strstr (cgroup, "/../") != NULL)
    return;
  if (!hutch_cgroup_remove_dir (cgroup, 10000))
    g_warning ("leaving the cgroup %s of container %s behind: %s", cgroup, name, g_strerror (errno));
  for (at = g_path_get_dirname (cgroup); strlen (at) > strlen ("/sys/fs/cgroup");)
    {
      g_autofree char *path = g_build_filename (at, leaf, NULL);
      char *up = g_path_get_dirname (at);
      if (rmdir (path) == 0 || errno != ENOENT)
        {
          g_free (up);
          break;
        }
      g_free (at);
      at = up;
    }
}

/* Deletes what is left of the tombstone of @id: its live state, its
 * cgroups, its files (those of subordinate ids inside the user namespace). */
static gboolean
finish_tombstone (const HutchContext *ctx, int containers_fd, const char *id, const char *name,
                  const char *cgroup, GError **error)
{
  g_autofree char *trash = g_strconcat (TRASH_PREFIX, id, NULL);
  g_autofree char *run = hutch_container_run_dir (ctx, id, NULL);
  const char *names[] = { trash, NULL };
  g_autoptr (HutchIdMap) map = NULL;

  if (run != NULL)
    (void) hutch_util_remove_tree_at (AT_FDCWD, run);
  remove_cgroups (cgroup, id, name != NULL ? name : id);
  if (hutch_util_remove_tree_at (containers_fd, trash))
    return TRUE;
  /* what the container wrote belongs to subordinate ids; the default map
   * serves a keep-id container too (its record is gone by now): both map
   * the same host ids, the user's and the subordinate ones, so root of
   * either may delete any of its files */
  map = hutch_sandbox_idmap_new_for_user (error);
  if (map == NULL || !hutch_sandbox_userns_remove_at (map, containers_fd, names, error))
    return g_prefix_error (error, "deleting containers/%s: ", trash), FALSE;
  return TRUE;
}

/* Removes container @id, whose directory the caller holds
 * (hutch_container_dir_hold()): renamed to its tombstone (and with @sync
 * that synced), its name @name (NULL: none known) released, the rest
 * deleted. Once the rename is done, the container is gone whatever
 * fails after: a failure to delete leaves a tombstone that the next sweep
 * deletes. */
static gboolean
discard (const HutchContext *ctx, int containers_fd, const char *id, const char *name,
         const char *cgroup, gboolean sync, GError **error)
{
  g_autofree char *trash = g_strconcat (TRASH_PREFIX, id, NULL);

  if (renameat2 (containers_fd, id, containers_fd, trash, RENAME_NOREPLACE) < 0)
    return hutch_throw_errno (error, "renaming containers/%.12s to its tombstone", id);
  if (sync && fsync (containers_fd) < 0)
    g_warning ("syncing the removal of container %s: %s", name != NULL ? name : id,
               g_strerror (errno));
  if (name != NULL)
    hutch_container_name_release (ctx, name, id);
  return finish_tombstone (ctx, containers_fd, id, name, cgroup, error);
}

gboolean
hutch_container_discard (const HutchContext *ctx, const HutchContainer *c, GError **error)
{
  hutch_autofd int containers = open_containers (ctx, error);

  /* a --rm container's record was never synced either (record.c) */
  if (containers < 0
      || !discard (ctx, containers, c->id, c->name, c->cgroup, !c->auto_remove, error))
    return g_prefix_error (error, "removing container %s: ", c->name != NULL ? c->name : c->id),
           FALSE;
  return TRUE;
}

/* Removes @c, not running, whose lock the caller holds. */
static gboolean
remove_locked (const HutchContext *ctx, const HutchContainer *c, GError **error)
{
  hutch_autofd int containers = open_containers (ctx, error);
  hutch_autofd int held = containers >= 0 ? hutch_container_dir_hold (containers, c->id, TRUE, error)
                                          : -1;
  g_autofree char *dir = hutch_container_dir (ctx, c->id);
  /* --rm: its anonymous volumes go with it, as docker's do */
  g_auto (GStrv) anonymous = c->auto_remove ? hutch_container_anonymous_volumes (dir) : NULL;

  if (held < 0
      || !discard (ctx, containers, c->id, c->name, c->cgroup, !c->auto_remove, error))
    return g_prefix_error (error, "removing container %s: ", c->name), FALSE;
  hutch_container_volumes_drop (ctx, anonymous);
  return TRUE;
}

/* Until the monitor of @c has gone. */
static void
monitor_wait (const HutchContainer *c)
{
  /* checked to be the monitor that wrote the live file, not a later
   * process that has its pid */
  hutch_autofd int fd = hutch_container_pidfd (c, TRUE, NULL);
  struct pollfd p = { fd, POLLIN, 0 };

  if (fd >= 0)
    while (poll (&p, 1, -1) < 0 && errno == EINTR)
      ;
}

gboolean
hutch_container_remove (const HutchContext *ctx, const char *id, gboolean force, GError **error)
{
  hutch_autofd int lock = hutch_container_lock (ctx, id, error);
  g_autoptr (HutchContainer) c = lock >= 0 ? hutch_container_load (ctx, id, error) : NULL;
  g_autoptr (GError) local = NULL;
  hutch_autofd int pid1 = -1;

  if (c == NULL)
    return FALSE;
  if (c->status != HUTCH_CONTAINER_RUNNING)
    {
      /* a restart keeper waiting out its back-off goes with it, once our
       * lock (which it would take to look) is let go */
      int keeper = hutch_container_keeper_open (ctx, id);
      gboolean ok = remove_locked (ctx, c, error);
      hutch_fd_clear (&lock);
      hutch_container_keeper_end_fd (keeper);
      return ok;
    }
  if (!force)
    return hutch_throw (error, HUTCH_ERROR_BUSY,
                        "container %s is running: stop it first (hutch stop %s), or remove it "
                        "with rm -f",
                        c->name, c->name);
  /* no policy restarts it between the kill and the removal */
  if (!hutch_container_stop_mark (ctx, id, error))
    return FALSE;
  pid1 = hutch_container_pidfd (c, FALSE, &local);
  if ((pid1 < 0 || !hutch_util_pidfd_signal (pid1, SIGKILL, &local))
      && !g_error_matches (local, HUTCH_ERROR, HUTCH_ERROR_NOT_FOUND))
    return g_propagate_prefixed_error (error, g_steal_pointer (&local),
                                       "killing container %s: ", c->name), FALSE;
  /* not under the lock: the monitor records the end (and with --rm
   * removes the container itself) */
  hutch_fd_clear (&lock);
  monitor_wait (c);
  g_clear_error (&local);
  if (hutch_container_remove (ctx, id, FALSE, &local)
      || g_error_matches (local, HUTCH_ERROR, HUTCH_ERROR_NOT_FOUND))
    return TRUE;
  return g_propagate_error (error, g_steal_pointer (&local)), FALSE;
}

/* A --rm container whose monitor went without removing it (killed, or
 * the machine restarted) is removed by whoever finds it, unless someone
 * holds its lock (then that one is at it). TRUE when it went. */
gboolean
hutch_container_remove_abandoned (const HutchContext *ctx, const char *id)
{
  g_autofree char *dir = hutch_container_dir (ctx, id);
  g_autofree char *path = g_build_filename (dir, "lock", NULL);
  hutch_autofd int lock = open (path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
  g_autoptr (HutchContainer) c = NULL;
  g_autoptr (GError) error = NULL;

  if (lock < 0 || !flock_nb (lock, LOCK_EX) || access (dir, F_OK) < 0)
    return FALSE;
  c = hutch_container_load (ctx, id, NULL);
  if (c == NULL || !c->auto_remove || !c->monitor_gone)
    return FALSE;
  if (!remove_locked (ctx, c, &error))
    {
      g_warning ("%s", error->message);
      return access (dir, F_OK) < 0;
    }
  return TRUE;
}

/* Whether a monitor holds @id's live state (it holds live/ exclusive
 * for as long as it runs). */
gboolean
hutch_container_monitor_holds (const HutchContext *ctx, const char *id)
{
  g_autofree char *dir = hutch_container_run_dir (ctx, id, NULL);
  g_autofree char *live = dir != NULL ? g_build_filename (dir, "live", NULL) : NULL;
  hutch_autofd int fd = live != NULL ? open (live, O_RDONLY | O_NOFOLLOW | O_CLOEXEC) : -1;

  return fd >= 0 && !flock_nb (fd, LOCK_SH);
}

gboolean
hutch_container_remove_unreadable (const HutchContext *ctx, const char *id, GError **error)
{
  hutch_autofd int lock = hutch_container_lock (ctx, id, error);
  hutch_autofd int containers = lock >= 0 ? open_containers (ctx, error) : -1;
  hutch_autofd int held = containers >= 0 ? hutch_container_dir_hold (containers, id, FALSE, error)
                                          : -1;

  if (held < 0)
    return g_prefix_error (error, "removing container %.12s: ", id), FALSE;
  /* its processes would run on in a directory being deleted */
  if (hutch_container_monitor_holds (ctx, id))
    return hutch_throw (error, HUTCH_ERROR_BUSY,
                        "removing container %.12s: its monitor is running (end its processes "
                        "first)", id);
  /* no name is known: the names' sweep unlinks the one that named it */
  return discard (ctx, containers, id, NULL, NULL, TRUE, error);
}

/* A tombstone whose remover was killed: its record (if still there) says
 * which cgroup to remove with it. */
static void
sweep_tombstone (const HutchContext *ctx, int containers_fd, const char *trash)
{
  const char *id = trash + strlen (TRASH_PREFIX);
  hutch_autofd int held = hutch_container_dir_hold (containers_fd, trash, FALSE, NULL);
  g_autofree char *dir = NULL;
  g_autoptr (HutchContainer) c = NULL;
  g_autoptr (GError) error = NULL;

  if (held < 0)
    return; /* its remover is at work, or it has just gone */
  dir = g_build_filename (ctx->root, "containers", trash, NULL);
  c = hutch_container_load_dir (ctx, id, dir, NULL);
  if (!finish_tombstone (ctx, containers_fd, id, c != NULL ? c->name : NULL,
                         c != NULL ? c->cgroup : NULL, &error))
    g_warning ("finishing the removal of container %.12s: %s", id, error->message);
}

/* A directory without hutch.json whose maker is gone: a create killed
 * before it wrote the record (or a removal by a hutch before tombstones). */
static gboolean
record_exists (int containers_fd, const char *id)
{
  g_autofree char *record = g_build_filename (id, "hutch.json", NULL);

  return faccessat (containers_fd, record, F_OK, AT_SYMLINK_NOFOLLOW) == 0 || errno != ENOENT;
}

static void
sweep_unmade (const HutchContext *ctx, int containers_fd, const char *id)
{
  hutch_autofd int held = hutch_container_dir_hold (containers_fd, id, FALSE, NULL);
  g_autoptr (GError) error = NULL;

  /* again, holding it: its create may have written it and let go */
  if (held < 0 || record_exists (containers_fd, id))
    return;
  /* its name, if it took one, now points at nothing: the names' sweep
   * unlinks it */
  if (!discard (ctx, containers_fd, id, NULL, NULL, TRUE, &error))
    g_warning ("removing the half-made container %.12s: %s", id, error->message);
}

/* The live state of containers that are gone, unless a monitor holds it. */
static void
sweep_run_dirs (const HutchContext *ctx, int containers_fd)
{
  g_autofree char *dir = hutch_container_run_dir (ctx, "", NULL);
  hutch_autofd int dfd = dir != NULL ? open (dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
                                     : -1;
  g_autoptr (GPtrArray) ids = dfd >= 0 ? hutch_util_list_dir_at (dfd, NULL) : NULL;

  for (guint i = 0; ids != NULL && i < ids->len; i++)
    {
      const char *id = ids->pdata[i];
      g_autofree char *trash = g_strconcat (TRASH_PREFIX, id, NULL);
      g_autofree char *live = g_build_filename (id, "live", NULL);
      hutch_autofd int fd = -1;
      if (!hutch_container_id_valid (id)
          || faccessat (containers_fd, id, F_OK, AT_SYMLINK_NOFOLLOW) == 0 || errno != ENOENT
          || faccessat (containers_fd, trash, F_OK, AT_SYMLINK_NOFOLLOW) == 0 || errno != ENOENT)
        continue;
      fd = openat (dfd, live, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
      if (fd >= 0 && !flock_nb (fd, LOCK_SH))
        continue;
      (void) hutch_util_remove_tree_at (dfd, id);
    }
}

void
hutch_container_sweep (const HutchContext *ctx)
{
  hutch_autofd int containers = open_containers (ctx, NULL);
  g_autoptr (GPtrArray) names = containers >= 0 ? hutch_util_list_dir_at (containers, NULL) : NULL;
  hutch_autofd int making = -1;
  gboolean tried = FALSE;

  for (guint i = 0; names != NULL && i < names->len; i++)
    {
      const char *name = names->pdata[i];
      if (g_str_has_prefix (name, TRASH_PREFIX)
          && hutch_container_id_valid (name + strlen (TRASH_PREFIX)))
        sweep_tombstone (ctx, containers, name);
      else if (hutch_container_id_valid (name) && !record_exists (containers, name))
        {
          /* with it, no create is between making a directory and holding
           * it; without, the next sweep will see */
          if (!tried)
            making = hutch_container_making_lock (containers, TRUE, NULL);
          tried = TRUE;
          if (making >= 0)
            sweep_unmade (ctx, containers, name);
        }
    }
  hutch_fd_clear (&making);
  if (containers >= 0)
    sweep_run_dirs (ctx, containers);
  hutch_container_names_sweep (ctx);
}
