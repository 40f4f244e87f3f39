/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Doing work as root of a user namespace mapped with the user's ids: the id
 * map this user gets, running a function in a forked child that entered such
 * a namespace (its GError comes back through a pipe), and running a command
 * there (hutch unshare). Mount namespaces and the container itself are not
 * here. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sandbox-private.h"

void
hutch_sandbox_idmap_free (HutchIdMap *map)
{
  if (map == NULL)
    return;
  if (map->uid_ranges != NULL)
    g_array_unref (map->uid_ranges);
  if (map->gid_ranges != NULL)
    g_array_unref (map->gid_ranges);
  g_free (map);
}

HutchIdMap *
hutch_sandbox_idmap_new_for_user (GError **error)
{
  g_autoptr (HutchIdMap) map = g_new0 (HutchIdMap, 1);
  struct passwd *pw = getpwuid (getuid ());
  const char *name = pw != NULL ? pw->pw_name : NULL;

  map->uid = getuid ();
  map->gid = getgid ();
  map->uid_ranges = hutch_sandbox_subid_ranges_read ("/etc/subuid", name, map->uid, error);
  if (map->uid_ranges == NULL)
    return NULL;
  map->gid_ranges = hutch_sandbox_subid_ranges_read ("/etc/subgid", name, map->uid, error);
  if (map->gid_ranges == NULL)
    return NULL;
  map->single = map->uid_ranges->len == 0 || map->gid_ranges->len == 0;
  return g_steal_pointer (&map);
}

char *
hutch_sandbox_idmap_describe (const HutchIdMap *map)
{
  GString *s = g_string_new (NULL);

  g_string_append_printf (s, "uid %u", (unsigned) map->uid);
  for (guint i = 0; !map->single && i < map->uid_ranges->len; i++)
    {
      HutchIdRange *r = &g_array_index (map->uid_ranges, HutchIdRange, i);
      g_string_append_printf (s, "+%u:%u", r->start, r->count);
    }
  g_string_append_printf (s, " gid %u", (unsigned) map->gid);
  for (guint i = 0; !map->single && i < map->gid_ranges->len; i++)
    {
      HutchIdRange *r = &g_array_index (map->gid_ranges, HutchIdRange, i);
      g_string_append_printf (s, "+%u:%u", r->start, r->count);
    }
  /* the same ids in another order: files unpacked under one are not right
   * under the other */
  if (map->keep_id)
    g_string_append (s, " keep-id");
  return g_string_free (s, FALSE);
}

guint64
hutch_sandbox_idmap_size (const HutchIdMap *map)
{
  guint64 n = map->single ? 1 : 1 + hutch_sandbox_id_ranges_total (map->uid_ranges);

  /* keep-id with fewer subordinate ids than the user's uid: 0..n-2 and uid */
  return map->keep_id && n <= map->uid ? (guint64) map->uid + 1 : n;
}

/* The child's half: enter the namespace and say how it went (0, or
 * unshare's errno: a message of its own, which a result cannot be taken
 * for), wait to be mapped, become its root. Returns 0, an errno for the
 * result, or -1 when all there was to say is said. */
static int
child_enter (int to_parent, int from_parent, int holder_ns)
{
  int unshare_errno;
  char c;

  /* Die with the parent rather than unpack for no one. */
  (void) prctl (PR_SET_PDEATHSIG, SIGKILL);
  /* the user's namespace holder's, mapped already; else a new one */
  if (holder_ns >= 0)
    unshare_errno = setns (holder_ns, CLONE_NEWUSER) == 0 ? 0 : errno;
  else
    unshare_errno = unshare (CLONE_NEWUSER) == 0 ? 0 : errno;
  if (write (to_parent, &unshare_errno, sizeof unshare_errno) != sizeof unshare_errno
      || unshare_errno != 0)
    return -1;
  /* no 'g': the parent could not map us, and says why itself */
  if (!hutch_util_read_exact (from_parent, &c, 1) || c != 'g')
    return -1;
  if (setresgid (0, 0, 0) < 0 || setresuid (0, 0, 0) < 0)
    return errno;
  return 0;
}

/* The result of the child's function: a status byte, then for a failure the
 * error's domain name, code and message, each length-prefixed. */
static void
send_result (int fd, gboolean ok, const GError *error)
{
  g_autoptr (GString) msg = g_string_new (NULL);
  const char *domain = error != NULL ? g_quark_to_string (error->domain) : "";
  const char *text = error != NULL ? error->message : "the function failed without saying why";
  guint32 len;
  gint32 code = error != NULL ? error->code : HUTCH_ERROR_FAILED;

  g_string_append_c (msg, ok ? 1 : 0);
  len = (guint32) strlen (domain);
  g_string_append_len (msg, (const char *) &len, sizeof len);
  g_string_append (msg, domain);
  g_string_append_len (msg, (const char *) &code, sizeof code);
  len = (guint32) strlen (text);
  g_string_append_len (msg, (const char *) &len, sizeof len);
  g_string_append (msg, text);
  (void) hutch_util_write_all (fd, msg->str, msg->len, NULL);
}

/* The rest of a result whose status byte @ok was read. */
static gboolean
receive_rest (int fd, guint8 ok, GError **error)
{
  guint32 len;
  gint32 code;
  g_autofree char *domain = NULL, *text = NULL;

  if (!hutch_util_read_exact (fd, &len, sizeof len) || len > 4096)
    return hutch_throw (error, HUTCH_ERROR_FAILED, "garbled result from the user namespace");
  domain = g_malloc0 (len + 1);
  if (!hutch_util_read_exact (fd, domain, len) || !hutch_util_read_exact (fd, &code, sizeof code)
      || !hutch_util_read_exact (fd, &len, sizeof len) || len > (1 << 20))
    return hutch_throw (error, HUTCH_ERROR_FAILED, "garbled result from the user namespace");
  text = g_malloc0 (len + 1);
  if (!hutch_util_read_exact (fd, text, len))
    return hutch_throw (error, HUTCH_ERROR_FAILED, "garbled result from the user namespace");
  if (ok)
    return TRUE;
  g_set_error_literal (error, *domain != '\0' ? g_quark_from_string (domain) : HUTCH_ERROR, code,
                       text);
  return FALSE;
}

static gboolean
receive_result (int fd, GError **error)
{
  guint8 ok;

  if (!hutch_util_read_exact (fd, &ok, 1))
    return hutch_throw (error, HUTCH_ERROR_FAILED,
                        "the process working in the user namespace died without a result");
  return receive_rest (fd, ok, error);
}

/* Forks a child that enters a user namespace mapped with @map and, as its
 * root, calls @func (or execs @argv). Returns the child's pid with
 * *@out_result the read end of its result pipe, or -1. */
static pid_t
spawn_in_userns (const HutchIdMap *map, HutchUsernsFunc func, gpointer user_data, char **argv,
                 int *out_result, GError **error)
{
  int to_parent[2], from_parent[2];
  g_autoptr (GError) map_error = NULL;
  int unshare_errno = 0;
  hutch_autofd int holder_ns = hutch_sandbox_holder_ns_for (map);
  pid_t pid;

  if (pipe2 (to_parent, O_CLOEXEC) < 0)
    return hutch_throw_errno (error, "entering a user namespace: pipe"), -1;
  if (pipe2 (from_parent, O_CLOEXEC) < 0)
    {
      close (to_parent[0]), close (to_parent[1]);
      return hutch_throw_errno (error, "entering a user namespace: pipe"), -1;
    }
  hutch_util_assert_single_thread ();
  pid = fork ();
  if (pid < 0)
    {
      int errsv = errno;
      close (to_parent[0]), close (to_parent[1]), close (from_parent[0]), close (from_parent[1]);
      return hutch_throw_errno_val (error, errsv, "entering a user namespace: fork"), -1;
    }
  if (pid == 0)
    {
      g_autoptr (GError) child_error = NULL;
      int err;
      gboolean ok;

      close (to_parent[0]);
      close (from_parent[1]);
      err = child_enter (to_parent[1], from_parent[0], holder_ns);
      if (err < 0)
        _exit (1);
      if (err != 0)
        {
          hutch_throw_errno_val (&child_error, err, "entering a user namespace");
          send_result (to_parent[1], FALSE, child_error);
          _exit (1);
        }
      if (argv != NULL)
        {
          execvp (argv[0], argv);
          hutch_throw_errno (&child_error, "running %s in the user namespace", argv[0]);
          send_result (to_parent[1], FALSE, child_error);
          _exit (errno == ENOENT ? 127 : 126);
        }
      /* Our own work sets every mode explicitly; a command keeps the umask. */
      umask (0);
      ok = func (user_data, &child_error);
      send_result (to_parent[1], ok, child_error);
      _exit (ok ? 0 : 1);
    }
  close (to_parent[1]);
  close (from_parent[0]);
  if (!hutch_util_read_exact (to_parent[0], &unshare_errno, sizeof unshare_errno)
      || unshare_errno != 0)
    {
      gboolean said = unshare_errno != 0;
      close (from_parent[1]);
      close (to_parent[0]);
      while (waitpid (pid, NULL, 0) < 0 && errno == EINTR)
        ;
      if (said)
        return hutch_sandbox_userns_throw (error, unshare_errno, "entering a user namespace"), -1;
      hutch_throw (error, HUTCH_ERROR_FAILED,
                   "entering a user namespace: the process making it died first");
      return -1;
    }
  if (holder_ns < 0 && !hutch_sandbox_idmap_write (pid, map, &map_error))
    {
      close (from_parent[1]);
      close (to_parent[0]);
      (void) kill (pid, SIGKILL);
      (void) waitpid (pid, NULL, 0);
      g_propagate_prefixed_error (error, g_steal_pointer (&map_error),
                                  "mapping your ids into a user namespace (see \"hutch check\"): ");
      return -1;
    }
  (void) !write (from_parent[1], "g", 1);
  close (from_parent[1]);
  *out_result = to_parent[0];
  return pid;
}

static int
wait_child (pid_t pid)
{
  int status;

  while (waitpid (pid, &status, 0) < 0)
    if (errno != EINTR)
      return -1;
  return hutch_sandbox_exit_code (status);
}

typedef struct
{
  int dfd;
  const char *const *names;
} RemoveJob;

static gboolean
remove_names (gpointer data, GError **error)
{
  RemoveJob *job = data;

  for (const char *const *n = job->names; *n != NULL; n++)
    if (!hutch_util_remove_tree_at (job->dfd, *n))
      return hutch_throw_errno (error, "removing %s", *n);
  return TRUE;
}

gboolean
hutch_sandbox_userns_remove_at (const HutchIdMap *map, int dfd, const char *const *names,
                                GError **error)
{
  RemoveJob job = { dfd, names };

  return hutch_sandbox_userns_run (map, remove_names, &job, error);
}

struct HutchUsernsChild
{
  pid_t pid;
  int result; /* the read end of its result pipe */
};

HutchUsernsChild *
hutch_sandbox_userns_start (const HutchIdMap *map, HutchUsernsFunc func, gpointer user_data,
                            GError **error)
{
  int result = -1;
  pid_t pid = spawn_in_userns (map, func, user_data, NULL, &result, error);
  HutchUsernsChild *child;

  if (pid < 0)
    return NULL;
  child = g_new0 (HutchUsernsChild, 1);
  child->pid = pid;
  child->result = result;
  return child;
}

gboolean
hutch_sandbox_userns_join (HutchUsernsChild *child, GError **error)
{
  gboolean ok = receive_result (child->result, error);
  int status = wait_child (child->pid);

  hutch_fd_clear (&child->result);
  g_free (child);
  if (ok && status != 0)
    return hutch_throw (error, HUTCH_ERROR_FAILED,
                        "the process working in the user namespace exited with status %d", status);
  return ok;
}

gboolean
hutch_sandbox_userns_run (const HutchIdMap *map, HutchUsernsFunc func, gpointer user_data,
                          GError **error)
{
  HutchUsernsChild *child = hutch_sandbox_userns_start (map, func, user_data, error);

  return child != NULL && hutch_sandbox_userns_join (child, error);
}

int
hutch_sandbox_userns_exec (const HutchIdMap *map, char **argv, GError **error)
{
  hutch_autofd int result = -1;
  pid_t pid = spawn_in_userns (map, NULL, NULL, argv, &result, error);
  guint8 byte;

  if (pid < 0)
    return -1;
  /* exec closes the pipe (O_CLOEXEC): EOF means the command is running. */
  if (hutch_util_read_exact (result, &byte, 1))
    {
      (void) receive_rest (result, byte, error);
      (void) wait_child (pid);
      return -1;
    }
  return wait_child (pid);
}

gint64
hutch_sandbox_sysctl_read (const char *path)
{
  g_autofree char *text = hutch_util_read_host_file (path, 64, NULL);
  return text != NULL ? g_ascii_strtoll (text, NULL, 10) : -1;
}

#define SYSCTL_CONF "/etc/sysctl.d/90-hutch-userns.conf"
#define USERNS_DEFAULT_MAX 28633 /* what Debian's kernels allow by default */

/* ENOSPC: the count of user namespaces, for this user or in all, reached
 * user.max_user_namespaces (of this namespace or an ancestor's). */
char *
hutch_sandbox_userns_why_nospace (gint64 max, char **out_fix)
{
  if (max == 0)
    {
      *out_fix = g_strdup_printf ("echo user.max_user_namespaces=%d | sudo tee " SYSCTL_CONF
                                  " && sudo sysctl --system", USERNS_DEFAULT_MAX);
      return g_strdup ("user namespaces are off: user.max_user_namespaces=0");
    }
  *out_fix = g_strdup_printf ("echo user.max_user_namespaces=%" G_GINT64_FORMAT
                              " | sudo tee " SYSCTL_CONF " && sudo sysctl --system",
                              MAX ((gint64) USERNS_DEFAULT_MAX, max * 2));
  return g_strdup_printf ("the limit of user namespaces is reached (user.max_user_namespaces=%"
                          G_GINT64_FORMAT " in /proc/sys/user/max_user_namespaces): too many "
                          "are in use, or the limit is too low",
                          max);
}

/* EPERM or EACCES: a switch that keeps them from unprivileged users, or a
 * policy around us (a container, a sandbox, a seccomp filter). */
static char *
why_refused (int errsv, char **out_fix)
{
  if (hutch_sandbox_sysctl_read ("/proc/sys/kernel/unprivileged_userns_clone") == 0)
    {
      *out_fix = g_strdup ("echo kernel.unprivileged_userns_clone=1 | sudo tee " SYSCTL_CONF
                           " && sudo sysctl --system");
      return g_strdup ("unprivileged user namespaces are off: kernel.unprivileged_userns_clone=0");
    }
  if (hutch_sandbox_sysctl_read ("/proc/sys/kernel/apparmor_restrict_unprivileged_userns") == 1)
    {
      g_autofree char *exe = g_file_read_link ("/proc/self/exe", NULL);
      *out_fix = g_strdup_printf ("printf 'abi <abi/4.0>,\\ninclude <tunables/global>\\nprofile "
                                  "hutch %s flags=(unconfined) {\\n  userns,\\n}\\n' | sudo tee "
                                  "/etc/apparmor.d/hutch && sudo apparmor_parser -r "
                                  "/etc/apparmor.d/hutch",
                                  exe != NULL ? exe : "/usr/local/bin/hutch");
      return g_strdup_printf ("user namespaces are restricted (%s): "
                              "kernel.apparmor_restrict_unprivileged_userns=1 (Ubuntu) denies "
                              "them to programs without an AppArmor profile",
                              g_strerror (errsv));
    }
  return g_strdup_printf ("the kernel refused a new user namespace (%s): hutch may run inside a "
                          "container or sandbox that forbids nesting, or under a seccomp filter",
                          g_strerror (errsv));
}

char *
hutch_sandbox_userns_why (int errsv, char **out_fix)
{
  *out_fix = NULL;
  switch (errsv)
    {
    case ENOSPC:
      return hutch_sandbox_userns_why_nospace (
          hutch_sandbox_sysctl_read ("/proc/sys/user/max_user_namespaces"), out_fix);
    case EPERM:
    case EACCES:
      return why_refused (errsv, out_fix);
    case EUSERS:
      return g_strdup_printf ("the kernel refused a new user namespace (%s): user namespaces "
                              "nest 32 deep at most",
                              g_strerror (errsv));
    case EINVAL:
      return g_strdup_printf ("the kernel refused a new user namespace (%s): a process in a "
                              "chroot cannot make one",
                              g_strerror (errsv));
    default:
      return g_strdup_printf ("the kernel refused a new user namespace (%s)", g_strerror (errsv));
    }
}

gboolean
hutch_sandbox_userns_throw (GError **error, int errsv, const char *what)
{
  g_autofree char *fix = NULL;
  g_autofree char *why = hutch_sandbox_userns_why (errsv, &fix);

  if (fix != NULL)
    return hutch_throw (error, HUTCH_ERROR_HOST_UNSUPPORTED,
                        "%s: %s. To fix it: %s (see \"hutch check\")", what, why, fix);
  return hutch_throw (error, HUTCH_ERROR_HOST_UNSUPPORTED, "%s: %s (see \"hutch check\")", what,
                      why);
}

/* For rootfs-job.c, which runs functions the same way. */
void
hutch_sandbox_result_send (int fd, gboolean ok, const GError *error)
{
  send_result (fd, ok, error);
}

gboolean
hutch_sandbox_result_receive (int fd, GError **error)
{
  return receive_result (fd, error);
}

pid_t
hutch_sandbox_userns_spawn (const HutchIdMap *map, HutchUsernsFunc func, gpointer user_data,
                            int *out_result, GError **error)
{
  return spawn_in_userns (map, func, user_data, NULL, out_result, error);
}
