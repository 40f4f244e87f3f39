/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* `hutch oci create` and `exec`, two processes deep, none left behind:
 *   runtime (hutch oci, which exits): clones the intermediate (into a new
 *     user namespace when the bundle wants one, whose ids it maps), hears
 *     the process's pid and its "ready", and leaves;
 *   intermediate: joins the namespaces config.json names by path, makes
 *     the new ones, forks the process (pid 1 of a new pid namespace) and
 *     exits, so that the process's parent becomes the caller's subreaper
 *     (conmon, the containerd shim) as with runc;
 *   the process: its file system (bundle-mounts.c), hostname, sysctls and
 *     terminal, then it waits on the exec fifo until `start` reads it, and
 *     becomes the command (bundle-process.c).
 * Messages go up a SOCK_SEQPACKET pair as hutch_sandbox_send() kinds. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bundle-private.h"

/* Joined in this order: the user namespace first, as it owns the others;
 * the mount namespace last, once every path has been opened. */
static const int ns_order[] = {
  CLONE_NEWUSER, CLONE_NEWIPC, CLONE_NEWUTS, CLONE_NEWNET, CLONE_NEWPID, CLONE_NEWCGROUP,
  CLONE_NEWNS,
};

void
hutch_sandbox_bundle_mount_free (HutchBundleMount *m)
{
  if (m == NULL)
    return;
  g_free (m->destination);
  g_free (m->type);
  g_free (m->source);
  g_free (m->data);
  g_free (m);
}

void
hutch_sandbox_bundle_clear (HutchSandboxBundle *b)
{
  g_clear_pointer (&b->rootfs, g_free);
  g_clear_pointer (&b->mounts, g_ptr_array_unref);
  g_clear_pointer (&b->masked_paths, g_strfreev);
  g_clear_pointer (&b->readonly_paths, g_strfreev);
  g_clear_pointer (&b->devices, g_strfreev);
  g_clear_pointer (&b->sysctl, g_strfreev);
  g_clear_pointer (&b->hostname, g_free);
  g_clear_pointer (&b->domainname, g_free);
  for (guint i = 0; b->namespaces != NULL && i < b->namespaces->len; i++)
    g_free (g_array_index (b->namespaces, HutchBundleNs, i).path);
  g_clear_pointer (&b->namespaces, g_array_unref);
  g_clear_pointer (&b->uid_map, g_array_unref);
  g_clear_pointer (&b->gid_map, g_array_unref);
  hutch_sandbox_bundle_process_clear (&b->process);
}

const HutchBundleNs *
hutch_sandbox_bundle_ns (const HutchSandboxBundle *b, int type)
{
  for (guint i = 0; b->namespaces != NULL && i < b->namespaces->len; i++)
    if (g_array_index (b->namespaces, HutchBundleNs, i).type == type)
      return &g_array_index (b->namespaces, HutchBundleNs, i);
  return NULL;
}

static void G_GNUC_NORETURN
child_fail (int msg_fd, const char *message)
{
  hutch_sandbox_send (msg_fd, HUTCH_BUNDLE_MSG_ERROR, message);
  _exit (1);
}

/* The intermediate joins @fds (opened from the paths, in ns_order) and
 * makes the rest: after this its children are in all of them. */
static gboolean
enter_namespaces (const HutchSandboxBundle *b, gboolean own_userns, GError **error)
{
  int fds[G_N_ELEMENTS (ns_order)];
  int unshare_flags = 0;
  gboolean ok = TRUE;

  for (gsize i = 0; i < G_N_ELEMENTS (ns_order); i++)
    {
      const HutchBundleNs *ns = hutch_sandbox_bundle_ns (b, ns_order[i]);
      fds[i] = -1;
      if (ns != NULL && ns->path != NULL && ok)
        {
          fds[i] = open (ns->path, O_RDONLY | O_CLOEXEC);
          if (fds[i] < 0)
            ok = hutch_throw_errno (error, "linux.namespaces: opening %s", ns->path);
        }
      else if (ns != NULL && ns->path == NULL && !(own_userns && ns->type == CLONE_NEWUSER))
        unshare_flags |= ns->type;
    }
  for (gsize i = 0; ok && i < G_N_ELEMENTS (ns_order); i++)
    if (fds[i] >= 0 && setns (fds[i], ns_order[i]) < 0)
      ok = hutch_throw_errno (error, "linux.namespaces: joining %s",
                              hutch_sandbox_bundle_ns (b, ns_order[i])->path);
  for (gsize i = 0; i < G_N_ELEMENTS (ns_order); i++)
    hutch_fd_clear (&fds[i]);
  if (ok && unshare_flags != 0 && unshare (unshare_flags) < 0)
    ok = hutch_throw_errno (error, "linux.namespaces: creating them");
  return ok;
}

/* The runtime's hooks (prestart, createRuntime), run by the runtime while
 * we wait: it knows our pid as it sees it, which a hook may need to enter
 * our namespaces. Its "go" comes back on the same socket. */
static gboolean
await_runtime_hooks (int msg_fd, GError **error)
{
  char c = 0;
  ssize_t n;

  hutch_sandbox_send (msg_fd, HUTCH_BUNDLE_MSG_HOOKS, "");
  while ((n = recv (msg_fd, &c, 1, 0)) < 0 && errno == EINTR)
    ;
  if (n != 1 || c != HUTCH_BUNDLE_MSG_GO)
    return hutch_throw (error, HUTCH_ERROR_FAILED, "the runtime's hooks did not complete");
  return TRUE;
}

/* Our hooks of @kind, run here: the state as we see it. */
static gboolean
run_own_hooks (const HutchSandboxBundle *b, GPtrArray *hooks, const char *kind,
               const char *status, GError **error)
{
  g_autofree char *state = NULL;

  if (hooks == NULL || hooks->len == 0)
    return TRUE;
  state = b->hook_state (status, getpid (), b->hooks_data);
  return hutch_sandbox_hooks_run (hooks, kind, state, error);
}

/* In the process, until it waits: everything that can fail is done here,
 * so that a failure is create's to report. */
static gboolean
container_setup (const HutchSandboxBundle *b, int msg_fd, int *out_tty, GError **error)
{
  g_autofree char *path = NULL;

  /* root of the user namespace we are in (made or joined), if we may be */
  if (hutch_sandbox_bundle_ns (b, CLONE_NEWUSER) != NULL
      && (setresgid (0, 0, 0) < 0 || setresuid (0, 0, 0) < 0))
    return hutch_throw_errno (error, "becoming root of the user namespace");
  if (b->hostname != NULL && sethostname (b->hostname, strlen (b->hostname)) < 0)
    return hutch_throw_errno (error, "hostname %s", b->hostname);
  if (b->domainname != NULL && setdomainname (b->domainname, strlen (b->domainname)) < 0)
    return hutch_throw_errno (error, "domainname %s", b->domainname);
  /* runtime-spec: createRuntime, then createContainer, both after the
   * mounts and before pivot_root (a createContainer hook's path is the
   * runtime's, seen from our mount namespace) */
  if (!hutch_sandbox_bundle_mount_all (b, error)
      || (b->runtime_hooks != NULL && !await_runtime_hooks (msg_fd, error))
      || !run_own_hooks (b, b->create_hooks, "createContainer", "creating", error)
      || !hutch_sandbox_bundle_pivot (b, error))
    return FALSE;
  if (b->process.terminal)
    {
      if (b->console_fd < 0)
        return hutch_throw (error, HUTCH_ERROR_USAGE,
                            "process.terminal is set but no --console-socket was given");
      *out_tty = hutch_sandbox_bundle_tty_open (b->console_fd, error);
      if (*out_tty < 0)
        return FALSE;
    }
  /* not found is create's error, as with runc, not a silent exit at start */
  path = hutch_sandbox_bundle_find_command (&b->process, error);
  return path != NULL;
}

/* The exec fifo, reopened for writing through /proc (its path is on the
 * host, out of sight since pivot_root): the open blocks until `start`
 * opens it for reading; the byte tells it that we go on. The fd stays
 * open until our exec closes it (O_CLOEXEC): `start` waits for that, and
 * hears on it why we failed before. */
static int
wait_for_start (int fifo_fd, GError **error)
{
  g_autofree char *path = g_strdup_printf ("/proc/self/fd/%d", fifo_fd);
  hutch_autofd int fd = -1;

  while ((fd = open (path, O_WRONLY | O_CLOEXEC)) < 0)
    if (errno != EINTR)
      return hutch_throw_errno (error, "opening the exec fifo (is /proc mounted?)"), -1;
  if (!hutch_util_write_all (fd, "0", 1, error))
    return -1;
  return hutch_fd_steal (&fd);
}

static void G_GNUC_NORETURN
container_main (const HutchSandboxBundle *b, int msg_fd)
{
  g_autoptr (GError) error = NULL;
  int tty = -1, started;

  if (b->process.terminal)
    (void) setsid ();
  if (!container_setup (b, msg_fd, &tty, &error))
    child_fail (msg_fd, error->message);
  hutch_sandbox_send (msg_fd, HUTCH_BUNDLE_MSG_READY, "");
  hutch_fd_clear (&msg_fd);
  if (b->console_fd >= 0)
    close (b->console_fd);
  started = wait_for_start (b->fifo_fd, &error);
  if (started < 0)
    {
      g_autofree char *line = g_strdup_printf ("hutch-runtime: %s\n", error->message);
      (void) hutch_util_write_all (STDERR_FILENO, line, strlen (line), NULL);
      _exit (1);
    }
  close (b->fifo_fd);
  if (!run_own_hooks (b, b->start_hooks, "startContainer", "created", &error))
    child_fail (started, error->message);
  hutch_sandbox_bundle_process_exec (&b->process, b->preserve_fds, tty, started);
}

static void G_GNUC_NORETURN
intermediate_main (const HutchSandboxBundle *b, gboolean own_userns, int go_fd, int msg_fd)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *text = NULL;
  pid_t pid;
  char c;

  /* dies with create until the process is handed over */
  (void) prctl (PR_SET_PDEATHSIG, SIGKILL);
  if (read (go_fd, &c, 1) != 1 || c != 'g')
    _exit (1); /* the runtime failed to map us and said why */
  close (go_fd);
  if (!enter_namespaces (b, own_userns, &error))
    child_fail (msg_fd, error->message);
  hutch_util_assert_single_thread ();
  pid = fork ();
  if (pid < 0)
    child_fail (msg_fd, "fork of the container's process failed");
  if (pid == 0)
    container_main (b, msg_fd);
  text = g_strdup_printf ("%d", (int) pid);
  hutch_sandbox_send (msg_fd, HUTCH_BUNDLE_MSG_PID, text);
  _exit (0);
}

/* What the children say, until "ready" (TRUE), an error or the end; the
 * runtime's hooks run when the process asks, once its pid is known. */
static gboolean
read_messages (const HutchSandboxBundle *b, int fd, pid_t *out_pid, GError **error)
{
  char buf[4096];
  gboolean ready = FALSE, hooks_asked = FALSE;

  /* two writers: the pid and the rest may come in either order */
  while (!ready || *out_pid <= 0)
    {
      ssize_t n = recv (fd, buf, sizeof buf - 1, 0);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return hutch_throw (error, HUTCH_ERROR_FAILED,
                            "the container's process ended before it was set up");
      buf[n] = '\0';
      if (buf[0] == HUTCH_BUNDLE_MSG_PID)
        *out_pid = (pid_t) atoi (buf + 1);
      else if (buf[0] == HUTCH_BUNDLE_MSG_READY)
        ready = TRUE;
      else if (buf[0] == HUTCH_BUNDLE_MSG_HOOKS)
        hooks_asked = TRUE;
      else if (buf[0] == HUTCH_BUNDLE_MSG_ERROR)
        return hutch_throw (error, HUTCH_ERROR_FAILED, "%s", buf + 1);
      if (hooks_asked && *out_pid > 0)
        {
          hooks_asked = FALSE;
          if (b->runtime_hooks == NULL || !b->runtime_hooks (*out_pid, b->hooks_data, error)
              || !hutch_util_write_all (fd, (char[]){ HUTCH_BUNDLE_MSG_GO }, 1, error))
            return FALSE;
        }
    }
  return TRUE;
}

/* The fifo read: the process's open for writing meets ours, and its byte
 * says it goes on. Opened without blocking, so that a process that died
 * waiting is noticed rather than waited for forever; then read to its end,
 * which comes when the process execs (or dies), with what it said if its
 * startContainer hooks or its exec failed. */
gboolean
hutch_sandbox_bundle_start (const char *fifo, gboolean (*alive) (gconstpointer data),
                            gconstpointer data, GError **error)
{
  hutch_autofd int fd = open (fifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  g_autoptr (GString) said = g_string_new (NULL);
  gboolean opened = FALSE;

  if (fd < 0)
    return hutch_throw_errno (error, "opening %s", fifo);
  for (;;)
    {
      struct pollfd p = { fd, POLLIN, 0 };
      char buf[1024];
      ssize_t n;
      int r = poll (&p, 1, 100);
      if (r < 0 && errno != EINTR)
        return hutch_throw_errno (error, "waiting on %s", fifo);
      n = r > 0 ? read (fd, buf, sizeof buf) : -1;
      if (n > 0)
        {
          opened = TRUE;
          g_string_append_len (said, buf, n);
        }
      else if (n == 0 && opened)
        break; /* exec'd, or ended */
      else if (!alive (data))
        {
          if (opened)
            break;
          return hutch_throw (error, HUTCH_ERROR_FAILED, "its process ended before start");
        }
    }
  if (unlink (fifo) < 0)
    return hutch_throw_errno (error, "removing %s", fifo);
  /* "0", then the error message hutch_sandbox_send() framed, if any */
  if (said->len > 2 && said->str[1] == HUTCH_BUNDLE_MSG_ERROR)
    return hutch_throw (error, HUTCH_ERROR_FAILED, "%s", said->str + 2);
  return TRUE;
}

static pid_t
clone_intermediate (gboolean own_userns)
{
  hutch_util_assert_single_thread ();
  return (pid_t) syscall (SYS_clone, own_userns ? CLONE_NEWUSER | SIGCHLD : SIGCHLD, NULL, NULL,
                          NULL, 0);
}

pid_t
hutch_sandbox_bundle_create (const HutchSandboxBundle *b, GError **error)
{
  const HutchBundleNs *user = hutch_sandbox_bundle_ns (b, CLONE_NEWUSER);
  gboolean own_userns = user != NULL && user->path == NULL;
  hutch_autofd int go_r = -1, go_w = -1, msg_r = -1, msg_w = -1;
  int go[2], msg[2];
  pid_t mid, pid = -1;
  gboolean ok;

  if (pipe2 (go, O_CLOEXEC) < 0)
    return hutch_throw_errno (error, "creating the container: pipe"), -1;
  go_r = go[0], go_w = go[1];
  if (socketpair (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, msg) < 0)
    return hutch_throw_errno (error, "creating the container: socketpair"), -1;
  msg_r = msg[0], msg_w = msg[1];
  mid = clone_intermediate (own_userns);
  if (mid == 0)
    {
      hutch_fd_clear (&go_w);
      hutch_fd_clear (&msg_r);
      intermediate_main (b, own_userns, go_r, msg_w);
    }
  if (mid < 0)
    return hutch_sandbox_userns_throw (error, errno, "creating the container's namespaces"), -1;
  hutch_fd_clear (&go_r);
  hutch_fd_clear (&msg_w);
  ok = !own_userns || hutch_sandbox_idmap_write_lines (mid, b->uid_map, b->gid_map, error);
  if (ok)
    ok = hutch_util_write_all (go_w, "g", 1, error);
  hutch_fd_clear (&go_w);
  if (ok)
    ok = read_messages (b, msg_r, &pid, error);
  while (waitpid (mid, NULL, 0) < 0 && errno == EINTR)
    ;
  if (!ok)
    {
      /* a failed create leaves nothing running */
      if (pid > 0)
        (void) kill (pid, SIGKILL);
      return -1;
    }
  return pid;
}
