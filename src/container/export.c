/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* hutch export: a container's merged rootfs as one flat tar, written by a
 * child that sees it (rootfs.c) as root of the container's user namespace,
 * so owners are the container's ids, not the user's subordinate ones. The
 * rootfs alone: what is mounted on it in a running container (/proc, /dev,
 * volumes, the /etc files hutch binds) is not in it, as docker export
 * reads the container's own layer and not its mounts. The merged view has
 * no whiteouts: a deleted file is simply not there. */
#include "config.h"

#include <signal.h>
#include <unistd.h>

#include "container-private.h"
#include "layer/layer.h"

typedef struct
{
  int fd;
} ExportJob;

static gboolean
write_fd (gpointer data, const void *buf, gsize len, GError **error)
{
  return hutch_util_write_all (((ExportJob *) data)->fd, buf, len, error);
}

static gboolean
export_child (int root, gpointer data, GError **error)
{
  g_autoptr (HutchTarWriter) w = hutch_tar_writer_new (write_fd, data, "the container's rootfs");
  HutchTarWriteStats stats;

  /* a reader that stops early is a write error, said, not a silent death */
  signal (SIGPIPE, SIG_IGN);
  return hutch_tar_writer_add_tree (w, root, ".", "", HUTCH_TAR_TREE_FLAT, NULL, error)
         && hutch_tar_writer_finish (w, &stats, error);
}

gboolean
hutch_container_export (const HutchContext *ctx, const char *id, int fd, GError **error)
{
  ExportJob job = { fd };
  HutchSandboxRootJob *j = hutch_container_root_job_start (ctx, id, HUTCH_SANDBOX_VIEW_ROOTFS,
                                                           export_child, &job, error);

  return j != NULL && hutch_sandbox_root_job_finish (j, error);
}
