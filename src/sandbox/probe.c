/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What the host lets an unprivileged user do for a sandbox, found by doing
 * it once in a throwaway child: unshare a user and mount namespace, map ids
 * as `run` will, make a whiteout and mount an overlay on the store's own
 * filesystem. How the findings are worded and what fixes them is
 * container/host.c's business. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <pwd.h>
#include <unistd.h>

#include "sandbox.h"

typedef struct
{
  int setup_errno;    /* making mounts private or the probe directories */
  int whiteout_errno; /* mknod of a 0/0 character device */
  int overlay_errno;  /* mount -t overlay -o userxattr */
} ProbeResult;

typedef struct
{
  char *dir;
  char *lower, *upper, *work, *merged, *whiteout, *workwork, *options;
} ProbePaths;

static void
probe_paths_clear (ProbePaths *p)
{
  g_free (p->dir);
  g_free (p->lower);
  g_free (p->upper);
  g_free (p->work);
  g_free (p->merged);
  g_free (p->whiteout);
  g_free (p->workwork);
  g_free (p->options);
}

/* Runs in the forked child: only syscalls on memory prepared before fork. */
static void G_GNUC_NORETURN
probe_child (int to_parent, int from_parent, const ProbePaths *p)
{
  ProbeResult res = { 0 };
  int unshare_errno = unshare (CLONE_NEWUSER | CLONE_NEWNS) == 0 ? 0 : errno;
  char go;

  if (write (to_parent, &unshare_errno, sizeof unshare_errno) != sizeof unshare_errno
      || unshare_errno != 0)
    _exit (0);
  /* The parent writes our id maps, then lets us go. */
  if (read (from_parent, &go, 1) != 1)
    _exit (0);

  if (mount (NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0
      || mkdir (p->lower, 0755) < 0 || mkdir (p->upper, 0755) < 0 || mkdir (p->work, 0755) < 0
      || mkdir (p->merged, 0755) < 0)
    res.setup_errno = errno;
  else
    {
      /* Unprivileged whiteouts need Linux 5.8. */
      if (mknod (p->whiteout, S_IFCHR | 0, makedev (0, 0)) < 0)
        res.whiteout_errno = errno;
      /* userxattr: overlay in a user namespace, Linux 5.11. */
      if (mount ("overlay", p->merged, "overlay", 0, p->options) < 0)
        res.overlay_errno = errno;
      else
        (void) umount2 (p->merged, MNT_DETACH);
    }
  (void) !write (to_parent, &res, sizeof res);
  _exit (0);
}

static void
probe_cleanup (const ProbePaths *p)
{
  (void) unlink (p->whiteout);
  (void) rmdir (p->workwork);
  (void) rmdir (p->work);
  (void) rmdir (p->upper);
  (void) rmdir (p->lower);
  (void) rmdir (p->merged);
  (void) rmdir (p->dir);
}

static void
map_child (HutchSandboxCaps *caps, pid_t pid)
{
  g_autoptr (GError) error = NULL;
  HutchIdMap map = { getuid (), getgid (), caps->subuids, caps->subgids, FALSE };

  if (caps->subuids->len > 0 && caps->subgids->len > 0)
    {
      if (hutch_sandbox_idmap_write (pid, &map, &error))
        {
          caps->idmap_full = TRUE;
          return;
        }
      caps->idmap_error = g_strdup (error->message);
      g_clear_error (&error);
    }
  map.single = TRUE;
  if (!hutch_sandbox_idmap_write (pid, &map, &error) && caps->idmap_error == NULL)
    caps->idmap_error = g_strdup (error->message);
}

static gboolean
probe_namespaces (HutchSandboxCaps *caps, const char *probe_dir, GError **error)
{
  int to_parent[2], from_parent[2];
  ProbePaths p = { 0 };
  ProbeResult res = { -1, -1, -1 };
  int unshare_errno = 0;
  pid_t pid;
  int status;

  p.dir = g_build_filename (probe_dir, ".probe-XXXXXX", NULL);
  if (g_mkdtemp (p.dir) == NULL)
    {
      caps->overlay_error = g_strdup_printf ("cannot make a probe directory in %s: %s",
                                             probe_dir, g_strerror (errno));
      g_clear_pointer (&p.dir, g_free);
    }
  else
    {
      p.lower = g_build_filename (p.dir, "l", NULL);
      p.upper = g_build_filename (p.dir, "u", NULL);
      p.work = g_build_filename (p.dir, "w", NULL);
      p.merged = g_build_filename (p.dir, "m", NULL);
      p.whiteout = g_build_filename (p.upper, "wh", NULL);
      p.workwork = g_build_filename (p.work, "work", NULL);
      g_autofree char *lower = hutch_util_option_escape (p.lower);
      g_autofree char *upper = hutch_util_option_escape (p.upper);
      g_autofree char *work = hutch_util_option_escape (p.work);
      /* escaped as run's are: the store's path may have ',' or ':' */
      p.options = g_strdup_printf ("lowerdir=%s,upperdir=%s,workdir=%s,userxattr", lower, upper,
                                   work);
    }

  if (pipe2 (to_parent, O_CLOEXEC) < 0)
    return hutch_throw_errno (error, "probing user namespaces: pipe");
  if (pipe2 (from_parent, O_CLOEXEC) < 0)
    {
      close (to_parent[0]);
      close (to_parent[1]);
      return hutch_throw_errno (error, "probing user namespaces: pipe");
    }
  hutch_util_assert_single_thread ();
  pid = fork ();
  if (pid < 0)
    {
      int errsv = errno;
      close (to_parent[0]), close (to_parent[1]), close (from_parent[0]), close (from_parent[1]);
      return hutch_throw_errno_val (error, errsv, "probing user namespaces: fork");
    }
  if (pid == 0)
    {
      close (to_parent[0]);
      close (from_parent[1]);
      if (p.dir == NULL)
        _exit (0);
      probe_child (to_parent[1], from_parent[0], &p);
    }
  close (to_parent[1]);
  close (from_parent[0]);

  if (!hutch_util_read_exact (to_parent[0], &unshare_errno, sizeof unshare_errno))
    unshare_errno = p.dir == NULL ? 0 : EIO;
  caps->userns_errno = unshare_errno;
  caps->userns = unshare_errno == 0;
  if (caps->userns && p.dir != NULL)
    {
      map_child (caps, pid);
      (void) !write (from_parent[1], "g", 1);
      if (hutch_util_read_exact (to_parent[0], &res, sizeof res))
        {
          caps->userns_setup_errno = res.setup_errno;
          caps->whiteout = res.whiteout_errno == 0;
          caps->overlay = res.setup_errno == 0 && res.overlay_errno == 0;
          if (res.setup_errno != 0)
            caps->overlay_error = g_strdup_printf ("could not prepare the probe mount: %s",
                                                   g_strerror (res.setup_errno));
          else if (res.overlay_errno != 0)
            caps->overlay_error = g_strdup_printf ("mount -t overlay -o userxattr on %s: %s",
                                                   probe_dir, g_strerror (res.overlay_errno));
        }
    }
  close (from_parent[1]);
  close (to_parent[0]);
  while (waitpid (pid, &status, 0) < 0 && errno == EINTR)
    ;
  if (p.dir != NULL)
    probe_cleanup (&p);
  probe_paths_clear (&p);
  return TRUE;
}

static char *
current_user_name (uid_t uid)
{
  struct passwd pw, *result = NULL;
  char buf[4096];

  if (getpwuid_r (uid, &pw, buf, sizeof buf, &result) == 0 && result != NULL)
    return g_strdup (result->pw_name);
  return g_strdup_printf ("%u", (unsigned) uid);
}

gboolean
hutch_sandbox_caps_probe (HutchSandboxCaps *caps, const char *probe_dir, GError **error)
{
  uid_t uid = getuid ();
  hutch_autofd int fuse_fd = -1;

  memset (caps, 0, sizeof *caps);
  caps->user = current_user_name (uid);
  caps->max_user_namespaces = hutch_sandbox_sysctl_read ("/proc/sys/user/max_user_namespaces");
  caps->unprivileged_userns_clone
      = hutch_sandbox_sysctl_read ("/proc/sys/kernel/unprivileged_userns_clone");
  caps->apparmor_restrict_userns
      = hutch_sandbox_sysctl_read ("/proc/sys/kernel/apparmor_restrict_unprivileged_userns");

  hutch_sandbox_id_helper_find ("newuidmap", &caps->newuidmap);
  hutch_sandbox_id_helper_find ("newgidmap", &caps->newgidmap);
  caps->subuids = hutch_sandbox_subid_ranges_read ("/etc/subuid", caps->user, uid, error);
  if (caps->subuids == NULL)
    return FALSE;
  caps->subgids = hutch_sandbox_subid_ranges_read ("/etc/subgid", caps->user, uid, error);
  if (caps->subgids == NULL)
    return FALSE;

  caps->fuse_overlayfs = g_find_program_in_path ("fuse-overlayfs");
  fuse_fd = open ("/dev/fuse", O_RDWR | O_CLOEXEC);
  caps->dev_fuse = fuse_fd >= 0;
  caps->dev_fuse_errno = fuse_fd >= 0 ? 0 : errno;

  return probe_namespaces (caps, probe_dir, error);
}

void
hutch_sandbox_caps_clear (HutchSandboxCaps *caps)
{
  g_free (caps->user);
  g_free (caps->newuidmap.path);
  g_free (caps->newgidmap.path);
  g_clear_pointer (&caps->subuids, g_array_unref);
  g_clear_pointer (&caps->subgids, g_array_unref);
  g_free (caps->idmap_error);
  g_free (caps->overlay_error);
  g_free (caps->fuse_overlayfs);
  memset (caps, 0, sizeof *caps);
}
