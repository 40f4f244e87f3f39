/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A function run in a child that sees a container's files as the
 * container does, for cp, export and commit: by joining a running
 * container's user and mount namespaces, or, for one that is not running,
 * by mounting its rootfs as start would in namespaces of the child's own.
 * What the function reads and writes is the caller's business (pipes); its
 * result comes back as userns.c's does. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sandbox-private.h"

struct _HutchSandboxRootJob
{
  pid_t pid;
  int result; /* read end of the child's result */
};

static HutchSandboxRootJob *
job_new (pid_t pid, int result)
{
  HutchSandboxRootJob *job = g_new0 (HutchSandboxRootJob, 1);

  job->pid = pid;
  job->result = result;
  return job;
}

gboolean
hutch_sandbox_root_job_finish (HutchSandboxRootJob *job, GError **error)
{
  gboolean ok = hutch_sandbox_result_receive (job->result, error);
  int status = 0;

  close (job->result);
  while (waitpid (job->pid, &status, 0) < 0)
    if (errno != EINTR)
      break;
  g_free (job);
  if (ok && !(WIFEXITED (status) && WEXITSTATUS (status) == 0))
    return hutch_throw (error, HUTCH_ERROR_FAILED,
                        "the process working in the container ended with status %d",
                        hutch_sandbox_exit_code (status));
  return ok;
}

/* In the joining child: the namespaces, root of them, and the root to
 * work beneath. */
static gboolean
join_enter (const int *ns, HutchSandboxView view, int *out_root, GError **error)
{
  /* user first: the mount namespace belongs to it, and joining it gives
   * the capabilities the second setns needs */
  for (guint i = 0; i < 2; i++)
    if (setns (ns[i], 0) < 0)
      return hutch_throw_errno (error, "joining the container's %s namespace (has it ended?)",
                                hutch_sandbox_ns_names[i]);
  if (setresgid (0, 0, 0) < 0 || setresuid (0, 0, 0) < 0)
    return hutch_throw_errno (error, "becoming root of the container's user namespace");
  /* setns put us at the container's root (the kernel walks down to the
   * mount pivot_root put there). Its rootfs alone is a clone of that one
   * mount, without what is mounted on it: /proc, /dev, volumes, the /etc
   * files bound over the image's. They were mounted in the container's
   * own user namespace, so none is locked and the clone is allowed. */
  if (view == HUTCH_SANDBOX_VIEW_ROOTFS)
    *out_root = open_tree (AT_FDCWD, "/", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
  else
    *out_root = open ("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (*out_root < 0)
    return hutch_throw_errno (error, "opening the container's root");
  return TRUE;
}

HutchSandboxRootJob *
hutch_sandbox_root_job_join (int *ns, HutchSandboxView view, HutchSandboxRootFunc func,
                             gpointer data, GError **error)
{
  int result[2];
  pid_t pid;

  if (pipe2 (result, O_CLOEXEC) < 0)
    {
      for (guint i = 0; i < HUTCH_SANDBOX_N_NS; i++)
        hutch_fd_clear (&ns[i]);
      return hutch_throw_errno (error, "pipe"), NULL;
    }
  hutch_util_assert_single_thread ();
  pid = fork ();
  if (pid == 0)
    {
      g_autoptr (GError) child_error = NULL;
      hutch_autofd int root = -1;
      gboolean ok;

      close (result[0]);
      /* Before anything of the container can reach us (as exec's joiner):
       * not dumpable, so no process inside may ptrace us or open our fds
       * through /proc; no command line or environment of the caller's. */
      (void) prctl (PR_SET_DUMPABLE, 0, 0, 0, 0);
      (void) prctl (PR_SET_PDEATHSIG, SIGKILL);
      (void) hutch_util_proc_title_set ("hutch-rootfs");
      umask (0);
      ok = join_enter (ns, view, &root, &child_error) && func (root, data, &child_error);
      hutch_sandbox_result_send (result[1], ok, child_error);
      _exit (ok ? 0 : 1);
    }
  for (guint i = 0; i < HUTCH_SANDBOX_N_NS; i++)
    hutch_fd_clear (&ns[i]);
  close (result[1]);
  if (pid < 0)
    {
      int errsv = errno;
      close (result[0]);
      return hutch_throw_errno_val (error, errsv, "fork"), NULL;
    }
  return job_new (pid, result[0]);
}

typedef struct
{
  const HutchSandboxSpec *spec;
  HutchSandboxRootFunc func;
  gpointer data;
} MountJob;

static gboolean
dir_is_empty (const char *path)
{
  hutch_autofd int fd = open (path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  g_autoptr (GPtrArray) names = fd >= 0 ? hutch_util_list_dir_at (fd, NULL) : NULL;

  return names == NULL || names->len == 0;
}

/* In the child, root of its new user namespace: a mount namespace of its
 * own, the rootfs mounted there as start mounts it (the same driver
 * chain), @func, and the unmount (synchronous, so that fuse-overlayfs has
 * written everything before its server goes). Nothing is mounted where
 * anyone else sees it, and it all goes with the child. */
static gboolean
mount_job_main (gpointer data, GError **error)
{
  MountJob *job = data;
  HutchRootfsDriver used;
  g_autofree char *why = NULL;
  pid_t fuse_pid = -1;
  hutch_autofd int root = -1;
  gboolean ok;

  if (unshare (CLONE_NEWNS) < 0)
    return hutch_throw_errno (error, "making a mount namespace");
  /* The copy driver's rootfs, once made, is the container's files, its
   * writes among them: copying the layers over it again would undo its
   * changes. Only one never started is made here. */
  if (job->spec->driver == HUTCH_ROOTFS_COPY && !dir_is_empty (job->spec->rootfs))
    {
      root = open (job->spec->rootfs, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (root < 0)
        return hutch_throw_errno (error, "opening %s", job->spec->rootfs);
      return job->func (root, job->data, error);
    }
  if (!hutch_sandbox_mount_rootfs (job->spec, &used, &fuse_pid, &why, error))
    return g_prefix_error (error, "mounting the container's rootfs: "), FALSE;
  root = open (job->spec->rootfs, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  ok = root >= 0 || hutch_throw_errno (error, "opening %s", job->spec->rootfs);
  ok = ok && job->func (root, job->data, error);
  hutch_fd_clear (&root);
  if (umount2 (job->spec->rootfs, 0) < 0)
    (void) umount2 (job->spec->rootfs, MNT_DETACH);
  if (fuse_pid > 0)
    {
      (void) kill (fuse_pid, SIGTERM);
      while (waitpid (fuse_pid, NULL, 0) < 0 && errno == EINTR)
        ;
    }
  return ok;
}

HutchSandboxRootJob *
hutch_sandbox_root_job_mount (const HutchSandboxSpec *spec, HutchSandboxRootFunc func,
                              gpointer data, GError **error)
{
  MountJob job = { spec, func, data };
  int result = -1;
  pid_t pid = hutch_sandbox_userns_spawn (spec->idmap, mount_job_main, &job, &result, error);

  if (pid < 0)
    return NULL;
  return job_new (pid, result);
}
