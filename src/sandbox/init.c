/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Inside the container, after pivot_root: pid 1 forks the command, reaps
 * every child and passes signals on; the command is made with the image's
 * user (resolved from the image's own /etc/passwd and /etc/group, never the
 * host's NSS), its capabilities (capabilities.c), no_new_privs, every fd above
 * 2 closed at exec and a working directory inside the root. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sandbox-private.h"

typedef struct
{
  uid_t uid;
  gid_t gid;
  GArray *groups; /* gid_t, supplementary */
  char *home;
} User;

static void
user_clear (User *u)
{
  if (u->groups != NULL)
    g_array_unref (u->groups);
  g_free (u->home);
}

static gboolean
parse_id (const char *text, guint32 *out)
{
  char *end = NULL;
  guint64 v;

  if (text == NULL || *text == '\0' || !g_ascii_isdigit (*text))
    return FALSE;
  v = g_ascii_strtoull (text, &end, 10);
  /* (uid_t) -1 is "unchanged" to setresuid(2), never an id */
  if (*end != '\0' || v >= G_MAXUINT32)
    return FALSE;
  *out = (guint32) v;
  return TRUE;
}

/* The lines of the image's /etc/passwd or /etc/group, split at ':'. */
static GPtrArray *
read_db (int root, const char *path)
{
  g_autofree char *text = NULL;
  GPtrArray *rows = g_ptr_array_new_with_free_func ((GDestroyNotify) g_strfreev);
  hutch_autofd int fd = hutch_util_open_in_root (root, path, O_RDONLY, 0, NULL);
  gsize len;

  g_auto (GStrv) lines = NULL;

  if (fd < 0 || (text = hutch_util_read_all (fd, 16 << 20, &len, NULL)) == NULL)
    return rows;
  lines = g_strsplit (text, "\n", -1);
  for (char **l = lines; *l != NULL; l++)
    if (**l != '\0' && **l != '#')
      g_ptr_array_add (rows, g_strsplit (*l, ":", -1));
  return rows;
}

/* --group-add: each a gid, or a group of the image's /etc/group. */
static gboolean
add_groups (char **names, GPtrArray *group, User *out, GError **error)
{
  for (char **n = names; n != NULL && *n != NULL; n++)
    {
      guint32 gid;
      gboolean found = parse_id (*n, &gid);
      for (guint i = 0; !found && i < group->len; i++)
        {
          char **g = group->pdata[i];
          found = g_strv_length (g) >= 3 && strcmp (g[0], *n) == 0 && parse_id (g[2], &gid);
        }
      if (!found)
        return hutch_throw (error, HUTCH_ERROR_NOT_FOUND,
                            "--group-add %s: no such group in the image's /etc/group", *n);
      g_array_append_val (out->groups, gid);
    }
  return TRUE;
}

/* @spec in the image whose root is @root, with --group-add's @groups_add. */
static gboolean
resolve_user_at (int root, const char *spec, char **groups_add, User *out, GError **error)
{
  g_autoptr (GPtrArray) passwd = read_db (root, "/etc/passwd");
  g_autoptr (GPtrArray) group = read_db (root, "/etc/group");
  g_auto (GStrv) parts = g_strsplit (spec != NULL && *spec != '\0' ? spec : "0", ":", 2);
  const char *name = NULL;
  gboolean found = FALSE, gid_given = parts[1] != NULL;
  guint32 id;

  out->groups = g_array_new (FALSE, FALSE, sizeof (gid_t));
  out->home = g_strdup ("/");
  /* A uid the image does not list runs with gid 0, as in docker. */
  if (parse_id (parts[0], &id))
    out->uid = id, out->gid = 0;
  for (guint i = 0; i < passwd->len; i++)
    {
      char **p = passwd->pdata[i];
      guint32 pu, pg;
      if (g_strv_length (p) < 7 || !parse_id (p[2], &pu) || !parse_id (p[3], &pg))
        continue;
      if (parse_id (parts[0], &id) ? pu == id : strcmp (p[0], parts[0]) == 0)
        {
          out->uid = pu, out->gid = pg, name = p[0], found = TRUE;
          g_free (out->home);
          out->home = g_strdup (p[5]);
          break;
        }
    }
  if (!found && !parse_id (parts[0], &id))
    return hutch_throw (error, HUTCH_ERROR_NOT_FOUND,
                        "user \"%s\" is not in the image's /etc/passwd", parts[0]);
  if (gid_given && !parse_id (parts[1], &id))
    {
      gboolean g_found = FALSE;
      for (guint i = 0; i < group->len && !g_found; i++)
        {
          char **g = group->pdata[i];
          if (g_strv_length (g) >= 3 && strcmp (g[0], parts[1]) == 0 && parse_id (g[2], &id))
            g_found = TRUE;
        }
      if (!g_found)
        return hutch_throw (error, HUTCH_ERROR_NOT_FOUND,
                            "group \"%s\" is not in the image's /etc/group", parts[1]);
    }
  if (gid_given)
    out->gid = id;
  /* Supplementary groups: those that list the user by name. */
  for (guint i = 0; name != NULL && i < group->len; i++)
    {
      char **g = group->pdata[i];
      g_auto (GStrv) members = NULL;
      guint32 gid;
      if (g_strv_length (g) < 4 || !parse_id (g[2], &gid))
        continue;
      members = g_strsplit (g[3], ",", -1);
      if (g_strv_contains ((const char *const *) members, name) && gid != out->gid)
        g_array_append_val (out->groups, gid);
    }
  return add_groups (groups_add, group, out, error);
}

static gboolean
resolve_user (const char *spec, char **groups_add, User *out, GError **error)
{
  hutch_autofd int root = open ("/", O_PATH | O_DIRECTORY | O_CLOEXEC);

  return resolve_user_at (root, spec, groups_add, out, error);
}

gboolean
hutch_sandbox_user_ids_at (int root_fd, const char *spec, uid_t *out_uid, gid_t *out_gid,
                           GError **error)
{
  User user = { 0 };
  gboolean ok = resolve_user_at (root_fd, spec, NULL, &user, error);

  *out_uid = user.uid;
  *out_gid = user.gid;
  user_clear (&user);
  return ok;
}

/* While still root with every capability (CAP_SETPCAP is needed). */
static gboolean
drop_bounding_set (guint64 keep, GError **error)
{
  if (!hutch_sandbox_caps_bound (keep, error))
    return FALSE;
  if (prctl (PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
    return hutch_throw_errno (error, "clearing the ambient capabilities");
  return TRUE;
}

/* After the user change: the container's set for root, nothing for others. */
static gboolean
set_capabilities (guint64 keep, gboolean root, GError **error)
{
  if (!root)
    keep = 0; /* setresuid to a non-zero uid has cleared them; keep it so */
  return hutch_sandbox_caps_set (keep, keep, keep, error);
}

/* The command's path: as given when it has a '/', else searched in PATH. */
static char *
find_command (const char *cmd, char **env)
{
  const char *path = g_environ_getenv (env, "PATH");
  g_auto (GStrv) dirs = NULL;

  if (strchr (cmd, '/') != NULL)
    return g_strdup (cmd);
  dirs = g_strsplit (path != NULL ? path : "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                     ":", -1);
  for (char **d = dirs; *d != NULL; d++)
    {
      g_autofree char *candidate = g_build_filename (**d != '\0' ? *d : ".", cmd, NULL);
      if (access (candidate, F_OK) == 0)
        return g_steal_pointer (&candidate);
    }
  return NULL;
}

static void G_GNUC_NORETURN
exec_fail (int err_fd, int errsv, const char *what)
{
  g_autofree char *msg = NULL;
  int status = errsv == ENOENT ? 127 : 126;

  msg = g_strdup_printf ("%s: %s inside the container%s", what, g_strerror (errsv),
                         errsv == ENOENT ? " (not in the image, or not in its PATH)" : "");
  hutch_sandbox_send (err_fd, status == 127 ? HUTCH_SANDBOX_MSG_NOT_FOUND : HUTCH_SANDBOX_MSG_EXEC,
                      msg);
  _exit (status);
}

/* The command's credentials, for the calling process: the image's user and
 * groups, the container's capabilities, no_new_privs and its seccomp
 * filter. Failures go to @err_fd (126). */
static void
take_credentials (const HutchSandboxSpec *spec, const User *user, int err_fd)
{
  g_autoptr (GError) error = NULL;

  /* --ulimit, while still root of the namespace: lowering a hard limit
   * needs no capability, raising one past the host's cannot be done */
  if (!drop_bounding_set (spec->caps, &error) || !hutch_sandbox_rlimits_apply (spec->rlimits, &error))
    {
      hutch_sandbox_send (err_fd, HUTCH_SANDBOX_MSG_EXEC, error->message);
      _exit (126);
    }
  /* With the single-id mapping setgroups is denied (user_namespaces(7)):
   * there are no other groups to set anyway. */
  if ((!spec->idmap->single && setgroups (user->groups->len, (gid_t *) user->groups->data) < 0)
      || setresgid (user->gid, user->gid, user->gid) < 0
      || setresuid (user->uid, user->uid, user->uid) < 0)
    {
      int errsv = errno;
      g_autofree char *what = g_strdup_printf ("becoming uid %u gid %u", user->uid, user->gid);
      if (errsv == EINVAL) /* the image's user, beyond the ids hutch maps */
        {
          g_autofree char *msg = g_strdup_printf ("%s: the id is not mapped in the container's "
                                                  "user namespace (see \"hutch check\" for "
                                                  "your subordinate ids)",
                                                  what);
          hutch_sandbox_send (err_fd, HUTCH_SANDBOX_MSG_EXEC, msg);
          _exit (126);
        }
      exec_fail (err_fd, errsv, what);
    }
  if (!set_capabilities (spec->caps, user->uid == 0, &error) || prctl (PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
    {
      hutch_sandbox_send (err_fd, HUTCH_SANDBOX_MSG_EXEC,
                          error != NULL ? error->message : "setting no_new_privs failed");
      _exit (126);
    }
  if (spec->seccomp && !hutch_sandbox_seccomp_load (&error))
    {
      hutch_sandbox_send (err_fd, HUTCH_SANDBOX_MSG_EXEC, error->message);
      _exit (126);
    }
}

/* @creds_taken: by exec's waiter, whose child this is; else they are
 * taken here, after the working directory (which may need root to make). */
static void G_GNUC_NORETURN
exec_command (const HutchSandboxSpec *spec, const User *user, int err_fd, int tty,
              gboolean creds_taken)
{
  g_autoptr (GError) error = NULL;
  g_auto (GStrv) env = g_strdupv (spec->env);
  g_autofree char *path = NULL;
  hutch_autofd int root = open ("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  hutch_autofd int cwd = -1;
  sigset_t all;

  /* The command starts with every signal at its default, whatever the
   * shell that started hutch ignored. */
  for (int sig = 1; sig < NSIG; sig++)
    if (sig != SIGKILL && sig != SIGSTOP)
      signal (sig, SIG_DFL);
  sigemptyset (&all);
  sigprocmask (SIG_SETMASK, &all, NULL);
  if (tty >= 0 && !hutch_sandbox_tty_attach (tty))
    exec_fail (err_fd, errno, "making the terminal the command's");
  if (g_environ_getenv (env, "HOME") == NULL)
    env = g_environ_setenv (env, "HOME", user->home, TRUE);
  /* The working directory, resolved inside the root (made when missing,
   * as docker does): never an fd or path that leads out. */
  cwd = hutch_util_open_in_root (root, spec->cwd, O_PATH | O_DIRECTORY, 0, NULL);
  if (cwd < 0)
    {
      /* we are inside the new root: this path cannot leave it */
      (void) g_mkdir_with_parents (spec->cwd, 0755);
      cwd = hutch_util_open_in_root (root, spec->cwd, O_PATH | O_DIRECTORY, 0, &error);
      if (cwd < 0)
        {
          hutch_sandbox_send (err_fd, HUTCH_SANDBOX_MSG_EXEC, error->message);
          _exit (126);
        }
    }
  if (fchdir (cwd) < 0)
    exec_fail (err_fd, errno, spec->cwd);
  if (!creds_taken)
    take_credentials (spec, user, err_fd);
  path = find_command (spec->argv[0], env);
  if (path == NULL)
    exec_fail (err_fd, ENOENT, spec->argv[0]);
  /* Every fd above stderr (the error pipe included) closes at exec: none
   * of ours, nor one opened on the host, reaches the command. */
  if (!hutch_util_cloexec_from (3))
    exec_fail (err_fd, errno, "closing the file descriptors");
  execve (path, spec->argv, env);
  exec_fail (err_fd, errno, path);
}

/* pid 1: the command's parent and every orphan's reaper. When the command
 * is gone pid 1 leaves, and the kernel ends the rest of the namespace with
 * it. */
static void G_GNUC_NORETURN
init_loop (pid_t cmd)
{
  sigset_t set;

  sigfillset (&set);
  sigprocmask (SIG_SETMASK, &set, NULL);
  _exit (hutch_sandbox_exit_code (hutch_sandbox_forward_until_exit (cmd, &set, TRUE)));
}

pid_t
hutch_sandbox_fork_command (const HutchSandboxSpec *spec, int err_fd, int tty)
{
  g_autoptr (GError) error = NULL;
  User user = { 0 };
  pid_t cmd;

  if (!resolve_user (spec->user, spec->groups_add, &user, &error))
    {
      hutch_sandbox_send (err_fd, HUTCH_SANDBOX_MSG_EXEC, error->message);
      _exit (126);
    }
  /* The caller is the one process of ours the container can see while the
   * command runs: it becomes what the command will be (its user, its
   * capabilities, no_new_privs and seccomp filter) before the command
   * exists. A change of uid resets the parent-death signal and may reset
   * dumpability (commit_creds()): both are set again. */
  take_credentials (spec, &user, err_fd);
  (void) prctl (PR_SET_DUMPABLE, 0, 0, 0, 0);
  (void) prctl (PR_SET_PDEATHSIG, SIGKILL);
  hutch_util_assert_single_thread ();
  cmd = fork ();
  if (cmd < 0)
    exec_fail (err_fd, errno, "starting the command");
  if (cmd == 0)
    exec_command (spec, &user, err_fd, tty, TRUE);
  user_clear (&user);
  return cmd;
}

void
hutch_sandbox_init_run (const HutchSandboxSpec *spec, int err_fd, int tty_sock)
{
  g_autoptr (GError) error = NULL;
  User user = { 0 };
  int tty = -1;
  pid_t cmd;

  if (!resolve_user (spec->user, spec->groups_add, &user, &error))
    {
      hutch_sandbox_send (err_fd, HUTCH_SANDBOX_MSG_SETUP, error->message);
      _exit (125);
    }
  /* Every process in the container can read pid 1's command line and
   * ours is hutch's: its host path, -v paths, --creds. It shows a neutral
   * name instead, and the caller's environment is wiped. */
  (void) hutch_util_proc_title_set ("hutch-init");
  /* A session of its own: with no controlling terminal, a program in the
   * container cannot push keystrokes (TIOCSTI) into the user's. */
  (void) setsid ();
  /* pid 1 is a fork of the hutch binary: not dumpable, so the container
   * (whose root lacks CAP_SYS_PTRACE) cannot open /proc/1/exe and write to
   * hutch on the host (the CVE-2019-5736 class). exec resets it for the
   * command. */
  (void) prctl (PR_SET_DUMPABLE, 0, 0, 0, 0);
  if (tty_sock >= 0)
    {
      /* pid 1 keeps the slave open until the command is done, so the
       * master never reads as ended before the command has its own. */
      tty = hutch_sandbox_tty_open (tty_sock, &error);
      if (tty < 0)
        {
          hutch_sandbox_send (err_fd, HUTCH_SANDBOX_MSG_SETUP, error->message);
          _exit (125);
        }
      close (tty_sock);
    }
  if (!spec->init)
    exec_command (spec, &user, err_fd, tty, FALSE);
  hutch_util_assert_single_thread ();
  cmd = fork ();
  if (cmd < 0)
    {
      hutch_sandbox_send (err_fd, HUTCH_SANDBOX_MSG_SETUP, "fork of the command failed");
      _exit (125);
    }
  if (cmd == 0)
    exec_command (spec, &user, err_fd, tty, FALSE);
  close (err_fd);
  user_clear (&user);
  init_loop (cmd);
}
