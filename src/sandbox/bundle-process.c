/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* An OCI process becoming itself: config.json's "process" (or exec's
 * --process) applied to the calling process, then its exec. The ids are
 * numbers (the runtime-spec resolves no names); the five capability sets
 * are set as given; the seccomp filter is loaded last, so that it never
 * stands in the way of our own steps. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "bundle-private.h"

void
hutch_sandbox_bundle_process_clear (HutchBundleProcess *p)
{
  g_clear_pointer (&p->args, g_strfreev);
  g_clear_pointer (&p->env, g_strfreev);
  g_clear_pointer (&p->cwd, g_free);
  g_clear_pointer (&p->groups, g_array_unref);
  g_clear_pointer (&p->rlimits, g_array_unref);
  g_clear_pointer (&p->seccomp, hutch_sandbox_seccomp_profile_free);
}

char *
hutch_sandbox_bundle_find_command (const HutchBundleProcess *p, GError **error)
{
  const char *cmd = p->args != NULL ? p->args[0] : NULL;
  const char *path = g_environ_getenv (p->env, "PATH");
  g_auto (GStrv) dirs = NULL;
  struct stat st;

  if (cmd == NULL || *cmd == '\0')
    return hutch_throw (error, HUTCH_ERROR_USAGE, "process.args: no command given"), NULL;
  if (strchr (cmd, '/') != NULL)
    {
      if (stat (cmd, &st) < 0)
        return hutch_throw_errno (error, "exec: \"%s\"", cmd), NULL;
      return g_strdup (cmd);
    }
  dirs = g_strsplit (path != NULL ? path : "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                     ":", -1);
  for (char **d = dirs; *d != NULL; d++)
    {
      g_autofree char *candidate = g_build_filename (**d != '\0' ? *d : ".", cmd, NULL);
      if (stat (candidate, &st) == 0 && S_ISREG (st.st_mode))
        return g_steal_pointer (&candidate);
    }
  hutch_throw_errno_val (error, ENOENT, "exec: \"%s\": executable file not found in $PATH", cmd);
  return NULL;
}

int
hutch_sandbox_bundle_tty_open (int console_fd, GError **error)
{
  hutch_autofd int master = open ("/dev/pts/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
  hutch_autofd int slave = -1;
  char name[64] = "";
  struct iovec iov;
  struct msghdr msg = { 0 };
  union
  {
    char buf[CMSG_SPACE (sizeof (int))];
    struct cmsghdr align;
  } u;
  struct cmsghdr *c;

  if (master < 0)
    master = open ("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master < 0)
    return hutch_throw_errno (error, "opening the container's /dev/pts/ptmx"), -1;
  if (unlockpt (master) < 0 || ptsname_r (master, name, sizeof name) != 0)
    return hutch_throw_errno (error, "making the container's terminal"), -1;
  slave = open (name, O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (slave < 0)
    return hutch_throw_errno (error, "opening the container's terminal %s", name), -1;
  /* runc's protocol: the terminal's name as the payload, the master as
   * SCM_RIGHTS; conmon and the containerd shim read it so */
  iov.iov_base = name;
  iov.iov_len = strlen (name);
  memset (&u, 0, sizeof u);
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = u.buf;
  msg.msg_controllen = sizeof u.buf;
  c = CMSG_FIRSTHDR (&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN (sizeof (int));
  memcpy (CMSG_DATA (c), &master, sizeof (int));
  while (sendmsg (console_fd, &msg, MSG_NOSIGNAL) < 0)
    if (errno != EINTR)
      return hutch_throw_errno (error, "sending the terminal to the --console-socket"), -1;
  return hutch_fd_steal (&slave);
}

static void G_GNUC_NORETURN
fail (int err_fd, int status, const char *message)
{
  if (err_fd >= 0)
    hutch_sandbox_send (err_fd, HUTCH_BUNDLE_MSG_ERROR, message);
  else
    {
      /* after start nobody listens but the container's stderr */
      g_autofree char *line = g_strdup_printf ("hutch-runtime: %s\n", message);
      (void) hutch_util_write_all (STDERR_FILENO, line, strlen (line), NULL);
    }
  _exit (status);
}

static void G_GNUC_NORETURN
fail_error (int err_fd, GError *error)
{
  fail (err_fd, g_error_matches (error, G_FILE_ERROR, G_FILE_ERROR_NOENT) ? 127 : 126,
        error->message);
}

/* While root of the namespace with every capability: what the bounding
 * set lacks goes, and the capabilities survive the change of uid
 * (PR_SET_KEEPCAPS) to be set after it. */
static gboolean
drop_bounding (guint64 keep, GError **error)
{
  if (!hutch_sandbox_caps_bound (keep, error))
    return g_prefix_error (error, "process.capabilities.bounding: "), FALSE;
  if (prctl (PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
    return hutch_throw_errno (error, "PR_SET_KEEPCAPS");
  return TRUE;
}

static gboolean
set_caps (const guint64 *caps, GError **error)
{
  if (!hutch_sandbox_caps_set (caps[HUTCH_CAPS_EFFECTIVE], caps[HUTCH_CAPS_PERMITTED],
                               caps[HUTCH_CAPS_INHERITABLE], error))
    return g_prefix_error (error, "process.capabilities: "), FALSE;
  if (prctl (PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
    return hutch_throw_errno (error, "clearing the ambient capabilities");
  for (int cap = 0; cap < 64; cap++)
    if ((caps[HUTCH_CAPS_AMBIENT] & (G_GUINT64_CONSTANT (1) << cap))
        && prctl (PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) < 0)
      return hutch_throw_errno (error, "process.capabilities.ambient: raising %d", cap);
  return TRUE;
}

static gboolean
set_ids (const HutchBundleProcess *p, GError **error)
{
  guint n = p->groups != NULL ? p->groups->len : 0;

  /* With setgroups denied (a single-id map) there are none to set; asked
   * for, that is an error */
  if (setgroups (n, n > 0 ? (gid_t *) p->groups->data : NULL) < 0 && (n > 0 || errno != EPERM))
    return hutch_throw_errno (error, "process.user.additionalGids");
  if (setresgid (p->gid, p->gid, p->gid) < 0)
    return hutch_throw_errno (error, "process.user.gid %u", (unsigned) p->gid);
  if (setresuid (p->uid, p->uid, p->uid) < 0)
    return hutch_throw_errno (error, "process.user.uid %u", (unsigned) p->uid);
  return TRUE;
}

static gboolean
write_oom_score_adj (int value, GError **error)
{
  g_autofree char *text = g_strdup_printf ("%d", value);
  hutch_autofd int fd = open ("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);

  if (fd < 0 || !hutch_util_write_all (fd, text, strlen (text), NULL))
    return hutch_throw_errno (error, "process.oomScoreAdj %d", value);
  return TRUE;
}

/* fds 3 .. 3+n-1 are the caller's to pass on (--preserve-fds, LISTEN_FDS);
 * every other one closes at exec. */
static gboolean
prepare_fds (int preserve_fds)
{
  for (int fd = 3; fd < 3 + preserve_fds; fd++)
    {
      int flags = fcntl (fd, F_GETFD);
      if (flags >= 0 && fcntl (fd, F_SETFD, flags & ~FD_CLOEXEC) < 0)
        return FALSE;
    }
  return hutch_util_cloexec_from (3 + preserve_fds);
}

void
hutch_sandbox_bundle_process_exec (const HutchBundleProcess *p, int preserve_fds, int tty,
                                   int err_fd)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *path = NULL;
  guint64 no_caps[HUTCH_CAPS_N_SETS] = { 0 };
  const guint64 *caps = p->has_caps ? p->caps : no_caps;
  sigset_t none;

  for (int sig = 1; sig < NSIG; sig++)
    if (sig != SIGKILL && sig != SIGSTOP)
      signal (sig, SIG_DFL);
  sigemptyset (&none);
  sigprocmask (SIG_SETMASK, &none, NULL);
  if (tty >= 0 && !hutch_sandbox_tty_attach (tty))
    fail (err_fd, 126, "making the terminal the process's");
  if (p->has_oom_score_adj && !write_oom_score_adj (p->oom_score_adj, &error))
    fail_error (err_fd, error);
  if (!hutch_sandbox_rlimits_apply (p->rlimits, &error))
    fail_error (err_fd, error);
  if (p->has_umask)
    umask (p->umask);
  if (chdir (p->cwd != NULL ? p->cwd : "/") < 0)
    {
      hutch_throw_errno (&error, "process.cwd %s", p->cwd);
      fail_error (err_fd, error);
    }
  path = hutch_sandbox_bundle_find_command (p, &error);
  if (path == NULL)
    fail_error (err_fd, error);
  if (!prepare_fds (preserve_fds))
    fail (err_fd, 126, "closing the file descriptors");
  /* Without no_new_privs a filter needs CAP_SYS_ADMIN, which the process
   * may be about to lose: loaded now, as runc does, while we are still
   * root of the namespace (the profile must then allow the steps below). */
  if (p->seccomp != NULL && !p->no_new_privs
      && !hutch_sandbox_bundle_seccomp_load (p->seccomp, &error))
    fail_error (err_fd, error);
  if (!drop_bounding (caps[HUTCH_CAPS_BOUNDING], &error) || !set_ids (p, &error)
      || !set_caps (caps, &error))
    fail_error (err_fd, error);
  if (p->no_new_privs && prctl (PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
    fail (err_fd, 126, "setting process.noNewPrivileges");
  if (p->seccomp != NULL && p->no_new_privs
      && !hutch_sandbox_bundle_seccomp_load (p->seccomp, &error))
    fail_error (err_fd, error);
  execve (path, p->args, p->env);
  {
    int errsv = errno;
    g_autofree char *msg = g_strdup_printf ("exec %s: %s", path, g_strerror (errsv));
    fail (err_fd, errsv == ENOENT ? 127 : 126, msg);
  }
}
