/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* `hutch run`, three processes deep:
 *   monitor (hutch, on the host): clones the outer child into a new user
 *     and mount namespace, maps its ids with newuidmap/newgidmap (or the
 *     child joins a user namespace made and mapped ahead, while `run` made
 *     the container), lets it go, forwards signals, relays a terminal
 *     (monitor.c), and returns the exit status;
 *   outer child (root of the user namespace, host pid namespace): mounts
 *     the rootfs and serves fuse-overlayfs where the container cannot see
 *     it, clones pid 1 into the pid, mount, uts, ipc, net and cgroup
 *     namespaces, passes signals on, unmounts and cleans up after it;
 *   pid 1: /proc, /dev, /sys, binds, pivot_root (mounts.c), then the init
 *     and the command (init.c). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sandbox-private.h"

static const int forwarded[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH };

const char *const hutch_sandbox_ns_names[HUTCH_SANDBOX_N_NS] = {
  "user", "mnt", "pid", "uts", "ipc", "net", "cgroup",
};

void
hutch_sandbox_mount_free (HutchSandboxMount *m)
{
  if (m == NULL)
    return;
  g_free (m->source);
  g_free (m->target);
  g_free (m->data);
  g_free (m->volume);
  g_free (m->overlay_dir);
  g_free (m);
}

void
hutch_sandbox_send (int fd, char kind, const char *text)
{
  g_autoptr (GString) msg = g_string_new (NULL);

  g_string_append_c (msg, kind);
  g_string_append (msg, text);
  g_string_append_c (msg, '\0');
  (void) hutch_util_write_all (fd, msg->str, msg->len, NULL);
}

static gboolean
outer_setup (const HutchSandboxSpec *spec, int err_fd, pid_t *fuse_pid, GArray *fuse_pids,
             GError **error)
{
  HutchRootfsDriver used;
  g_autofree char *why = NULL, *msg = NULL;

  if (hutch_sandbox_idmap_root_mapped (spec->idmap)
      && (setresgid (0, 0, 0) < 0 || setresuid (0, 0, 0) < 0))
    return hutch_throw_errno (error, "becoming root of the user namespace");
  if (!hutch_sandbox_mount_rootfs (spec, &used, fuse_pid, &why, error)
      || (spec->early_mounts != NULL && !hutch_sandbox_mount_early (spec, fuse_pids, error)))
    return FALSE;
  /* The fallback's notice, said now rather than after the command. */
  if (*why != '\0')
    g_warning ("the rootfs is on %s: %s", hutch_rootfs_driver_name (used), why);
  msg = g_strdup_printf ("%c", '0' + used);
  hutch_sandbox_send (err_fd, HUTCH_SANDBOX_MSG_DRIVER, msg);
  return TRUE;
}

/* After pid 1: the rootfs unmounted (synchronously, so fuse-overlayfs has
 * written everything before it goes) and, with --rm, what the container
 * wrote removed while we are root of its user namespace: its files belong
 * to subordinate ids the user alone could not delete. */
static void
outer_cleanup (const HutchSandboxSpec *spec, pid_t fuse_pid, GArray *fuse_pids)
{
  if (umount2 (spec->rootfs, 0) < 0)
    (void) umount2 (spec->rootfs, MNT_DETACH);
  /* hutch shell's overlays served by fuse-overlayfs: their mounts went,
   * detached, with the rootfs's tree, where no unmount reaches the server
   * (it would wait on /dev/fuse for good); it writes each request through
   * as it answers it, so nothing is lost by killing it */
  for (guint i = 0; fuse_pids != NULL && i < fuse_pids->len; i++)
    {
      pid_t p = g_array_index (fuse_pids, pid_t, i);
      (void) kill (p, SIGKILL);
      while (waitpid (p, NULL, 0) < 0 && errno == EINTR)
        ;
    }
  if (fuse_pid > 0)
    {
      /* its file system is gone: it ends; make sure */
      (void) kill (fuse_pid, SIGTERM);
      while (waitpid (fuse_pid, NULL, 0) < 0 && errno == EINTR)
        ;
    }
  /* -v :O: what the container wrote over the host's directory */
  for (guint i = 0; spec->mounts != NULL && i < spec->mounts->len; i++)
    if (((HutchSandboxMount *) spec->mounts->pdata[i])->overlay_dir != NULL
        && !((HutchSandboxMount *) spec->mounts->pdata[i])->keep_overlay)
      (void) hutch_util_remove_tree_at (AT_FDCWD,
                                        ((HutchSandboxMount *) spec->mounts->pdata[i])->overlay_dir);
  /* --rm: the anonymous volumes go with the container; what they hold is
   * deleted here, where the container's ids are ours to delete */
  for (guint i = 0; spec->cleanup_fd >= 0 && spec->mounts != NULL && i < spec->mounts->len; i++)
    {
      const HutchSandboxMount *m = spec->mounts->pdata[i];
      hutch_autofd int dfd = -1;
      g_autoptr (GPtrArray) names = NULL;
      if (!m->anonymous || m->source == NULL)
        continue;
      dfd = open (m->source, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      names = dfd >= 0 ? hutch_util_list_dir_at (dfd, NULL) : NULL;
      for (guint j = 0; names != NULL && j < names->len; j++)
        (void) hutch_util_remove_tree_at (dfd, names->pdata[j]);
    }
  if (spec->cleanup_fd >= 0)
    {
      (void) hutch_util_remove_tree_at (spec->cleanup_fd, "upper");
      (void) hutch_util_remove_tree_at (spec->cleanup_fd, "work");
      (void) hutch_util_remove_tree_at (spec->cleanup_fd, "rootfs");
    }
}

int
hutch_sandbox_exit_code (int wait_status)
{
  return WIFEXITED (wait_status) ? WEXITSTATUS (wait_status) : 128 + WTERMSIG (wait_status);
}

/* No signal can be passed on any more: @pid is ended rather than left
 * beyond anyone's reach, and waited for (with @reap_all, reaping the
 * others on the way). */
static int
kill_and_wait (pid_t pid, gboolean reap_all, const char *what)
{
  int errsv = errno;
  pid_t gone;
  int status;

  g_warning ("%s: %s; the container is ended, as no signal could reach it", what,
             g_strerror (errsv));
  (void) kill (pid, SIGKILL);
  while ((gone = waitpid (reap_all ? -1 : pid, &status, 0)) != pid)
    if (gone < 0 && errno != EINTR)
      return W_EXITCODE (0, SIGKILL);
  return status;
}

int
hutch_sandbox_forward_until_exit (pid_t pid, const sigset_t *set, gboolean reap_all)
{
  for (;;)
    {
      siginfo_t info;
      pid_t gone;
      int status;
      int sig = sigwaitinfo (set, &info);
      if (sig < 0 && errno == EINTR)
        continue;
      if (sig < 0)
        return kill_and_wait (pid, reap_all, "waiting for signals: sigwaitinfo");
      if (sig != SIGCHLD)
        {
          (void) kill (pid, sig);
          continue;
        }
      while ((gone = waitpid (reap_all ? -1 : pid, &status, WNOHANG)) > 0)
        if (gone == pid)
          return status;
    }
}

/* The outer child's wait when the monitor may ask for things on @ctl
 * (sockets in the container's network namespace). */
static int
outer_wait (const HutchSandboxSpec *spec, pid_t pid, const sigset_t *set, int ctl)
{
  hutch_autofd int sfd = -1;

  if (ctl < 0 || (sfd = signalfd (-1, set, SFD_CLOEXEC | SFD_NONBLOCK)) < 0)
    return hutch_sandbox_forward_until_exit (pid, set, FALSE);
  for (;;)
    {
      struct pollfd p[2] = { { sfd, POLLIN, 0 }, { ctl, POLLIN, 0 } };
      struct signalfd_siginfo si;
      int status;
      if (poll (p, ctl >= 0 ? 2 : 1, -1) < 0)
        {
          if (errno == EINTR)
            continue;
          return kill_and_wait (pid, FALSE, "waiting for the container: poll");
        }
      if (p[1].revents != 0 && !spec->net->child_serve (ctl))
        ctl = -1; /* the monitor has gone; PDEATHSIG follows */
      while (read (sfd, &si, sizeof si) == sizeof si)
        if (si.ssi_signo != SIGCHLD)
          (void) kill (pid, (int) si.ssi_signo);
        else if (waitpid (pid, &status, WNOHANG) == pid)
          return status;
    }
}

/* The network namespace of the container, made here so that the tap and
 * the sockets the monitor asks for are made in it; pid 1 inherits it. */
static gboolean
outer_network (const HutchSandboxSpec *spec, int ctl, GError **error)
{
  hutch_autofd int tap = -1;

  if (unshare (CLONE_NEWNET) < 0)
    return hutch_throw_errno (error, "creating the container's network namespace");
  tap = spec->net->child_setup (spec->net->data, error);
  if (tap < 0)
    return FALSE;
  if (!hutch_util_send_fds (ctl, 'T', &tap, 1))
    return hutch_throw_errno (error, "passing the tap device to hutch");
  return TRUE;
}

void
hutch_sandbox_block_forwarded (sigset_t *set, sigset_t *old)
{
  hutch_sandbox_forwarded_set (set);
  /* Blocked before the clone, so none is lost; the child unblocks them.
   * A signal ignored is discarded even while blocked, and a shell starts
   * background jobs with SIGINT and SIGQUIT ignored: take them back. */
  for (gsize i = 0; i < G_N_ELEMENTS (forwarded); i++)
    signal (forwarded[i], SIG_DFL);
  sigprocmask (SIG_BLOCK, set, old);
}

/* The signals hutch passes on to the container, and SIGCHLD. */
void
hutch_sandbox_forwarded_set (sigset_t *set)
{
  sigemptyset (set);
  for (gsize i = 0; i < G_N_ELEMENTS (forwarded); i++)
    sigaddset (set, forwarded[i]);
  sigaddset (set, SIGCHLD);
}

/* pid 1's namespaces, to the monitor, for `hutch exec`: opened here, by
 * pid 1 itself, as no one else may open them once it is not dumpable.
 * /proc is still the host's, where "self" is us. */
static void
send_namespaces (int err_fd)
{
  int fds[HUTCH_SANDBOX_N_NS];
  guint n = 0;

  for (; n < HUTCH_SANDBOX_N_NS; n++)
    {
      g_autofree char *path = g_strconcat ("/proc/self/ns/", hutch_sandbox_ns_names[n], NULL);
      if ((fds[n] = open (path, O_RDONLY | O_CLOEXEC)) < 0)
        break;
    }
  if (n == HUTCH_SANDBOX_N_NS)
    (void) hutch_util_send_fds (err_fd, HUTCH_SANDBOX_MSG_NAMESPACES, fds, n);
  for (guint i = 0; i < n; i++)
    close (fds[i]);
}

/* The container's pid 1, in its own pid, mount, uts, ipc, net and cgroup
 * namespaces: /proc, /dev, /sys, the binds, pivot_root, then the init. */
static void G_GNUC_NORETURN
inner_main (const HutchSandboxSpec *spec, int err_fd, int tty_sock, int ctl)
{
  g_autoptr (GError) error = NULL;

  hutch_fd_clear (&ctl);
  (void) prctl (PR_SET_PDEATHSIG, SIGKILL);
  send_namespaces (err_fd);
  if (hutch_sandbox_setup_mounts (spec, &error))
    hutch_sandbox_init_run (spec, err_fd, tty_sock);
  hutch_sandbox_send (err_fd, HUTCH_SANDBOX_MSG_SETUP, error->message);
  _exit (125);
}

/* In the map writer, a child of the outer one left in the holder's
 * namespace: errno, or 0. */
static int
write_nested_map (pid_t pid, const char *name, const char *text)
{
  char path[64];
  hutch_autofd int fd = -1;
  size_t len = strlen (text);

  g_snprintf (path, sizeof path, "/proc/%d/%s", (int) pid, name);
  fd = open (path, O_WRONLY | O_CLOEXEC);
  if (fd < 0)
    return errno;
  if (write (fd, text, len) != (ssize_t) len)
    return errno != 0 ? errno : EIO;
  return 0;
}

/* The outer child joins the user namespace made ahead and makes its mount
 * namespace. With nest_maps, that was the user's holder: its own user
 * namespace is made inside it, and mapped by a child that stays behind
 * (only a process in the parent namespace may write the map). NULL, or
 * what failed. */
static char *
join_userns (const HutchSandboxSpec *spec)
{
  pid_t self = getpid (), writer;
  int go[2], status, errsv = 0;
  char c;
  /* the host's limit, which the holder's namespace no longer shows: read
   * only if its unshare is refused */
  hutch_autofd int max_fd = spec->nest_maps[0] != NULL
                                ? open ("/proc/sys/user/max_user_namespaces", O_RDONLY | O_CLOEXEC)
                                : -1;

  if (setns (spec->userns_fd, CLONE_NEWUSER) < 0)
    return g_strdup_printf ("joining the container's user namespace: %s", g_strerror (errno));
  close (spec->userns_fd);
  if (spec->nest_maps[0] == NULL)
    return unshare (CLONE_NEWNS) == 0
               ? NULL
               : g_strdup_printf ("making the container's mount namespace: %s",
                                  g_strerror (errno));
  if (pipe2 (go, O_CLOEXEC) < 0)
    return g_strdup_printf ("making the container's user namespace: pipe: %s",
                            g_strerror (errno));
  hutch_util_assert_single_thread ();
  writer = fork ();
  if (writer == 0)
    {
      int e;
      close (go[1]);
      if (read (go[0], &c, 1) != 1 || c != 'm')
        _exit (0);
      e = write_nested_map (self, "uid_map", spec->nest_maps[0]);
      if (e == 0)
        e = write_nested_map (self, "gid_map", spec->nest_maps[1]);
      _exit (e);
    }
  close (go[0]);
  if (writer < 0)
    {
      errsv = errno;
      close (go[1]);
      return g_strdup_printf ("making the container's user namespace: fork: %s",
                              g_strerror (errsv));
    }
  if (unshare (CLONE_NEWUSER | CLONE_NEWNS) < 0)
    errsv = errno;
  (void) !write (go[1], errsv == 0 ? "m" : "x", 1);
  close (go[1]);
  while (waitpid (writer, &status, 0) < 0 && errno == EINTR)
    ;
  if (errsv != 0)
    {
      g_autofree char *fix = NULL;
      g_autofree char *why = NULL;
      char text[32] = "";
      if (errsv == ENOSPC && max_fd >= 0 && read (max_fd, text, sizeof text - 1) > 0)
        why = hutch_sandbox_userns_why_nospace (g_ascii_strtoll (text, NULL, 10), &fix);
      else
        why = hutch_sandbox_userns_why (errsv, &fix);
      return g_strdup_printf ("creating the container's namespaces: %s%s%s (see \"hutch check\")",
                              why, fix != NULL ? ". To fix it: " : "", fix != NULL ? fix : "");
    }
  if (!WIFEXITED (status) || WEXITSTATUS (status) != 0)
    return g_strdup_printf ("mapping ids into the container: writing its uid_map and gid_map "
                            "from the user's namespace holder: %s",
                            WIFEXITED (status) ? g_strerror (WEXITSTATUS (status))
                                               : "the writer was killed");
  return NULL;
}

/* The outer child: root of the new user and mount namespaces, still in the
 * host's pid namespace. It mounts the rootfs (and serves fuse-overlayfs
 * from here, out of the container's sight), starts pid 1 in the other
 * namespaces, passes signals to it, and cleans up after it. */
static void G_GNUC_NORETURN
child_main (const HutchSandboxSpec *spec, int go_fd, int err_fd, int tty_sock, int ctl)
{
  g_autoptr (GError) error = NULL;
  unsigned long flags = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWCGROUP
                        | SIGCHLD;
  sigset_t set;
  pid_t fuse_pid = -1, init;
  g_autoptr (GArray) fuse_pids = g_array_new (FALSE, FALSE, sizeof (pid_t));
  int status;
  char c;

  (void) prctl (PR_SET_PDEATHSIG, SIGKILL);
  if (read (go_fd, &c, 1) != 1 || c != 'g')
    _exit (125); /* the monitor failed to map us and said why */
  close (go_fd);
  if (spec->join_userns)
    {
      g_autofree char *msg = join_userns (spec);
      if (msg != NULL)
        {
          hutch_sandbox_send (err_fd, HUTCH_SANDBOX_MSG_SETUP, msg);
          _exit (125);
        }
    }
  for (int i = 0; spec->redirect && i < 3; i++)
    if (spec->stdio[i] != i && dup2 (spec->stdio[i], i) < 0)
      _exit (125);
  for (guint i = 0; spec->redirect && i < spec->n_readers && i < G_N_ELEMENTS (spec->readers); i++)
    close (spec->readers[i]);
  if (!outer_setup (spec, err_fd, &fuse_pid, fuse_pids, &error)
      || (spec->net != NULL && !outer_network (spec, ctl, &error)))
    {
      hutch_sandbox_send (err_fd, HUTCH_SANDBOX_MSG_SETUP, error->message);
      outer_cleanup (spec, fuse_pid, fuse_pids);
      _exit (125);
    }
  if (!spec->network_host && spec->net == NULL)
    flags |= CLONE_NEWNET;
  hutch_util_assert_single_thread ();
  init = (pid_t) syscall (SYS_clone, flags, NULL, NULL, NULL, 0);
  if (init == 0)
    inner_main (spec, err_fd, tty_sock, ctl);
  hutch_fd_clear (&tty_sock);
  if (init < 0)
    {
      g_autofree char *msg = g_strdup_printf ("creating the container's namespaces: %s",
                                              g_strerror (errno));
      hutch_sandbox_send (err_fd, HUTCH_SANDBOX_MSG_SETUP, msg);
      outer_cleanup (spec, fuse_pid, fuse_pids);
      _exit (125);
    }
  {
    g_autofree char *msg = g_strdup_printf ("%d", (int) init);
    hutch_sandbox_send (err_fd, HUTCH_SANDBOX_MSG_PID, msg);
    /* Closed, so that the monitor sees the end once the command is exec'd. */
    close (err_fd);
  }
  /* the monitor blocked these before cloning us: they wait for us here */
  hutch_sandbox_forwarded_set (&set);
  status = outer_wait (spec, init, &set, ctl);
  outer_cleanup (spec, fuse_pid, fuse_pids);
  _exit (hutch_sandbox_exit_code (status));
}

static pid_t
clone_child (const HutchSandboxSpec *spec)
{
  /* A fork-like clone: no new stack, the child returns here. The user
   * namespace is made first and owns the others; one made ahead is joined
   * by the child itself (setns needs a single-threaded caller: it is). */
  hutch_util_assert_single_thread ();
  return (pid_t) syscall (SYS_clone, spec->join_userns ? SIGCHLD : CLONE_NEWUSER | CLONE_NEWNS | SIGCHLD,
                          NULL, NULL, NULL, 0);
}

struct _HutchUsernsAhead
{
  pid_t holder;
  int hold;  /* the holder leaves when this closes */
  int ns;
  HutchIdMapWriter *writer;
  HutchHolderNew *made; /* the user's holder, being made */
  char *nest[2];        /* with the user's holder: the container's maps in it */
};

/* The user's holder's namespace, or one being made, with the maps that
 * nest @map in it; FALSE when it does not serve (no subordinate ids, ids
 * outside the user's, no runroot). */
static gboolean
ahead_from_holder (HutchUsernsAhead *a, const HutchIdMap *map, const char *runroot)
{
  HutchIdMap user;

  if (runroot == NULL || map->single || g_strcmp0 (g_getenv ("HUTCH_USERNS_HOLDER"), "0") == 0)
    return FALSE;
  user = hutch_sandbox_holder_map (map);
  a->nest[0] = hutch_sandbox_idmap_nest_text (map, &user, FALSE);
  a->nest[1] = hutch_sandbox_idmap_nest_text (map, &user, TRUE);
  if (a->nest[0] == NULL || a->nest[1] == NULL)
    return FALSE;
  a->made = hutch_sandbox_holder_get (&user, runroot, &a->ns);
  return a->made != NULL || a->ns >= 0;
}

HutchUsernsAhead *
hutch_sandbox_userns_ahead (const HutchIdMap *map, const char *runroot)
{
  g_autoptr (HutchUsernsAhead) a = g_new0 (HutchUsernsAhead, 1);
  g_autofree char *path = NULL;
  int hold[2];
  char c;

  a->hold = a->ns = -1;
  if (ahead_from_holder (a, map, runroot))
    return g_steal_pointer (&a);
  g_clear_pointer (&a->nest[0], g_free);
  g_clear_pointer (&a->nest[1], g_free);
  if (pipe2 (hold, O_CLOEXEC) < 0)
    return NULL;
  /* born in its namespace: nothing to wait for before mapping it */
  hutch_util_assert_single_thread ();
  a->holder = (pid_t) syscall (SYS_clone, CLONE_NEWUSER | SIGCHLD, NULL, NULL, NULL, 0);
  if (a->holder == 0)
    {
      (void) prctl (PR_SET_PDEATHSIG, SIGKILL);
      close (hold[1]);
      (void) !read (hold[0], &c, 1);
      _exit (0);
    }
  close (hold[0]);
  a->hold = hold[1];
  if (a->holder < 0)
    return NULL;
  path = g_strdup_printf ("/proc/%d/ns/user", (int) a->holder);
  a->ns = open (path, O_RDONLY | O_CLOEXEC);
  if (a->ns < 0)
    return NULL;
  a->writer = hutch_sandbox_idmap_write_start (a->holder, map);
  return g_steal_pointer (&a);
}

static void
map_error_propagate (GError **error, GError *map_error)
{
  if (g_error_matches (map_error, HUTCH_ERROR, HUTCH_ERROR_HOST_UNSUPPORTED))
    g_propagate_error (error, map_error);
  else
    g_propagate_prefixed_error (error, map_error,
                                "mapping ids into the container (see \"hutch check\"): ");
}

gboolean
hutch_sandbox_userns_ahead_finish (HutchUsernsAhead *ahead, HutchSandboxSpec *spec,
                                   GError **error)
{
  GError *map_error = NULL;
  int ns = -1;

  if (ahead->made != NULL)
    {
      ns = hutch_sandbox_holder_finish (g_steal_pointer (&ahead->made), &map_error);
      if (ns < 0)
        map_error_propagate (error, map_error);
    }
  else if (ahead->writer == NULL
           || hutch_sandbox_idmap_write_finish (g_steal_pointer (&ahead->writer), &map_error))
    ns = hutch_fd_steal (&ahead->ns);
  else
    map_error_propagate (error, map_error);
  if (ns >= 0)
    {
      spec->userns_fd = ns;
      spec->join_userns = TRUE;
      spec->nest_maps[0] = g_steal_pointer (&ahead->nest[0]);
      spec->nest_maps[1] = g_steal_pointer (&ahead->nest[1]);
    }
  hutch_sandbox_userns_ahead_free (ahead);
  return ns >= 0;
}

void
hutch_sandbox_userns_ahead_free (HutchUsernsAhead *ahead)
{
  if (ahead->writer != NULL)
    (void) hutch_sandbox_idmap_write_finish (ahead->writer, NULL);
  g_clear_pointer (&ahead->made, hutch_sandbox_holder_new_free);
  hutch_fd_clear (&ahead->ns);
  hutch_fd_clear (&ahead->hold);
  if (ahead->holder > 0)
    while (waitpid (ahead->holder, NULL, 0) < 0 && errno == EINTR)
      ;
  g_free (ahead->nest[0]);
  g_free (ahead->nest[1]);
  g_free (ahead);
}

gboolean
hutch_sandbox_run (const HutchSandboxSpec *spec, HutchSandboxResult *result, GError **error)
{
  int go[2], err[2], tty[2] = { -1, -1 }, ctl[2] = { -1, -1 };
  hutch_autofd int master = -1;
  sigset_t set, old;
  pid_t pid;
  int status, clone_errno;
  g_autoptr (GError) map_error = NULL;

  memset (result, 0, sizeof *result);
  result->driver = spec->driver;
  if (pipe2 (go, O_CLOEXEC) < 0)
    return hutch_throw_errno (error, "starting the container: pipe");
  if (socketpair (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, err) < 0)
    {
      close (go[0]), close (go[1]);
      return hutch_throw_errno (error, "starting the container: pipe");
    }
  if (spec->tty && socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, tty) < 0)
    {
      close (go[0]), close (go[1]), close (err[0]), close (err[1]);
      return hutch_throw_errno (error, "starting the container: socketpair");
    }
  if (spec->net != NULL && socketpair (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, ctl) < 0)
    {
      close (go[0]), close (go[1]), close (err[0]), close (err[1]);
      hutch_fd_clear (&tty[0]), hutch_fd_clear (&tty[1]);
      return hutch_throw_errno (error, "starting the container: socketpair");
    }
  hutch_sandbox_forwarded_set (&set);
  /* Blocked before the clone, so none is lost; the child unblocks them.
   * A signal ignored is discarded even while blocked, and a shell starts
   * background jobs with SIGINT and SIGQUIT ignored: take them back. */
  for (gsize i = 0; i < G_N_ELEMENTS (forwarded); i++)
    signal (forwarded[i], SIG_DFL);
  sigprocmask (SIG_BLOCK, &set, &old);
  pid = clone_child (spec);
  clone_errno = errno; /* before the closes below */
  if (pid == 0)
    {
      close (go[1]);
      close (err[0]);
      hutch_fd_clear (&tty[0]);
      hutch_fd_clear (&ctl[0]);
      child_main (spec, go[0], err[1], tty[1], ctl[1]);
    }
  close (go[0]);
  close (err[1]);
  hutch_fd_clear (&tty[1]);
  hutch_fd_clear (&ctl[1]);
  if (pid < 0)
    {
      close (go[1]), close (err[0]);
      hutch_fd_clear (&tty[0]);
      hutch_fd_clear (&ctl[0]);
      sigprocmask (SIG_SETMASK, &old, NULL);
      /* the user namespace is the one a normal user may be refused */
      if (!spec->join_userns)
        return hutch_sandbox_userns_throw (error, clone_errno,
                                           "creating the container's namespaces");
      return hutch_throw_errno_val (error, clone_errno, "starting the container: clone");
    }
  if ((!spec->join_userns && !hutch_sandbox_idmap_write (pid, spec->idmap, &map_error))
      || (spec->hooks != NULL && spec->hooks->created != NULL
          && !spec->hooks->created (spec->hooks->data, pid, &map_error)))
    {
      close (go[1]);
      (void) waitpid (pid, NULL, 0);
      close (err[0]);
      hutch_fd_clear (&tty[0]);
      hutch_fd_clear (&ctl[0]);
      sigprocmask (SIG_SETMASK, &old, NULL);
      map_error_propagate (error, g_steal_pointer (&map_error));
      return FALSE;
    }
  (void) !write (go[1], "g", 1);
  close (go[1]);

  if (tty[0] >= 0)
    {
      master = hutch_sandbox_tty_receive (tty[0]);
      hutch_fd_clear (&tty[0]);
    }
  if (spec->net != NULL)
    spec->net->monitor_start (spec->net->data, ctl[0]);
  {
    HutchSandboxMessages m;
    HutchSandboxPoll msg_poll = { hutch_sandbox_messages_prepare, hutch_sandbox_messages_dispatch, &m };
    HutchSandboxPoll net_poll = { NULL, NULL, NULL };
    const HutchSandboxPoll *polls[4] = { &msg_poll, NULL, NULL, NULL };
    guint n = 1;
    g_autoptr (GError) watch_error = NULL;

    hutch_sandbox_messages_init (&m, err[0], result, spec->hooks);
    if (spec->net != NULL)
      {
        net_poll = (HutchSandboxPoll) { spec->net->prepare, spec->net->dispatch, spec->net->data };
        polls[n++] = &net_poll;
      }
    if (spec->hooks != NULL && spec->hooks->poll.prepare != NULL)
      polls[n++] = &spec->hooks->poll;
    status = hutch_sandbox_monitor (pid, &set, master, spec->input, polls,
                                    spec->hooks != NULL ? spec->hooks->tty_output : NULL,
                                    spec->hooks != NULL ? spec->hooks->data : NULL, &watch_error);
    hutch_fd_clear (&ctl[0]);
    sigprocmask (SIG_SETMASK, &old, NULL);
    /* pid 1 has gone, and the children with it: what is left to hear */
    hutch_sandbox_messages_finish (&m);
    close (err[0]);
    if (m.setup_error != NULL)
      {
        hutch_throw (error, HUTCH_ERROR_FAILED, "setting up the container: %s", m.setup_error);
        g_free (m.setup_error);
        return FALSE;
      }
    if (status < 0)
      {
        g_propagate_error (error, g_steal_pointer (&watch_error));
        return FALSE;
      }
  }
  result->status = hutch_sandbox_exit_code (status);
  return TRUE;
}
