/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A container's files seen from a child process, for cp, export and
 * commit. Running, the child joins its user and mount namespaces: it sees
 * what the container sees, writes land where the container's own would,
 * and a second mount of the overlay (which the kernel refuses while its
 * upper dir is in use) is never needed. Not running, the child mounts the
 * rootfs as start does (same driver chain, layers and upper dir) in user
 * and mount namespaces of its own, so overlay's copy-up, whiteouts and
 * opaque directories are the kernel's (or fuse-overlayfs's) and not ours
 * to redo over the layers and upper dir. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include "container-private.h"

/* The container's lock, without waiting: start holds it while it mounts
 * the rootfs, remove while it deletes; -1 with *@out_busy when someone
 * holds it now. A second mount of the same overlay upper dir beside a
 * start's is undefined behaviour in the kernel's words. */
static int
lock_try (const HutchContext *ctx, const char *id, gboolean *out_busy, GError **error)
{
  g_autofree char *dir = hutch_container_dir (ctx, id);
  g_autofree char *path = g_build_filename (dir, "lock", NULL);
  hutch_autofd int fd = open (path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);

  *out_busy = FALSE;
  if (fd < 0)
    return hutch_throw_errno (error, "locking container %.12s", id), -1;
  while (flock (fd, LOCK_EX | LOCK_NB) < 0)
    if (errno == EWOULDBLOCK)
      return *out_busy = TRUE, -1;
    else if (errno != EINTR)
      return hutch_throw_errno (error, "locking container %.12s", id), -1;
  return hutch_fd_steal (&fd);
}

HutchSandboxRootJob *
hutch_container_root_job_start (const HutchContext *ctx, const char *id, HutchSandboxView view,
                                HutchSandboxRootFunc func, gpointer data, GError **error)
{
  g_autoptr (HutchContainer) c = NULL;
  g_autofree char *dir = hutch_container_dir (ctx, id);
  g_autoptr (HutchIdMap) map = NULL;
  HutchSandboxSpec spec = { .cleanup_fd = -1 };
  HutchSandboxRootJob *job;
  hutch_autofd int lock = -1;
  gboolean busy = FALSE;

  /* Not running: held locked until the child is done (it has the lock's
   * fd too), so no start mounts the same rootfs meanwhile. Running (the
   * lock is free once it runs): joined, no lock needed. */
  if ((lock = lock_try (ctx, id, &busy, error)) < 0 && !busy)
    return NULL;
  if ((c = hutch_container_load (ctx, id, error)) == NULL)
    return NULL;
  if (busy && c->status != HUTCH_CONTAINER_RUNNING)
    return hutch_throw (error, HUTCH_ERROR_BUSY,
                        "container %s is being started or removed: try again", c->name), NULL;
  if (c->status == HUTCH_CONTAINER_RUNNING)
    {
      int ns[HUTCH_SANDBOX_N_NS] = { -1, -1, -1, -1, -1, -1, -1 };
      /* not into the container's namespaces with an fd of the store */
      hutch_fd_clear (&lock);
      if (!hutch_container_namespaces_get (ctx, c, ns, error))
        return NULL;
      return hutch_sandbox_root_job_join (ns, view, func, data, error);
    }
  if ((map = hutch_container_idmap_new (c, error)) == NULL
      || !hutch_container_spec_read (dir, &spec, error))
    return NULL;
  spec.idmap = map;
  /* not --rm's "volatile": what is written here is kept */
  spec.cleanup_fd = -1;
  job = hutch_sandbox_root_job_mount (&spec, func, data, error);
  spec.idmap = NULL;
  hutch_container_spec_clear (&spec);
  return job;
}
