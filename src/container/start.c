/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Starting a container from its record: the network chosen again (the tap
 * device may have gone), the /etc files written, the live state taken in
 * the runroot (the "live" file, locked while the monitor runs, and the
 * "ctl" socket where `exec` gets the namespaces), then the sandbox. In the
 * foreground this process is the monitor, and the output goes through it
 * to the log and on to our stdout and stderr (as with podman, `logs` works
 * on a container that was run in the foreground); detached, a child of it
 * is, in a session of its own, with the output going to the log alone, and
 * this process returns once the command has been exec'd. The record says running from
 * the exec to the end, then exited with the code. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "container-private.h"

static gboolean
write_file (const char *dir, const char *name, const char *text, char **out_path, GError **error)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);

  if (!g_file_set_contents (path, text, -1, NULL))
    return hutch_throw_errno (error, "writing %s", path);
  *out_path = g_steal_pointer (&path);
  return TRUE;
}

static gboolean
make_etc_files (HutchSandboxSpec *spec, const char *dir, HutchNetConfig *net,
                const HutchContainer *c, GError **error)
{
  g_autofree char *hostname = g_strdup_printf ("%s\n", spec->hostname);
  g_autofree char *hosts = hutch_net_hosts_text (net, spec->hostname, c->name, c->extra_hosts);
  g_autofree char *resolv = NULL;
  gboolean custom = c->dns != NULL || c->dns_search != NULL || c->dns_options != NULL;

  /* the host's own file as it is, unless --dns and the like change it */
  if (net->mode == HUTCH_NET_HOST)
    resolv = hutch_util_read_host_file ("/etc/resolv.conf", 65536, NULL);
  if (net->mode == HUTCH_NET_HOST && custom)
    hutch_net_config_read_resolv (net, resolv);
  if (resolv == NULL || custom)
    {
      g_free (resolv);
      resolv = hutch_net_resolv_conf_text (net, c->dns, c->dns_search, c->dns_options);
    }
  return write_file (dir, "hostname", hostname, &spec->hostname_file, error)
         && write_file (dir, "hosts", hosts, &spec->hosts_file, error)
         && write_file (dir, "resolv.conf", resolv, &spec->resolv_file, error);
}

/* The network asked for, or the fallback to loopback alone when the tap
 * device cannot be had and slirp was only the default. */
static gboolean
choose_network (HutchNetConfig *net, GError **error)
{
  g_autofree char *resolv = NULL;
  hutch_autofd int tun = -1;
  struct stat st;
  int errsv;

  if (net->mode != HUTCH_NET_SLIRP)
    return TRUE;
  tun = open ("/dev/net/tun", O_RDWR | O_CLOEXEC);
  errsv = errno;
  if (tun < 0)
    {
      g_autofree char *what = NULL;
      if (stat ("/dev/net/tun", &st) == 0)
        what = g_strdup_printf ("/dev/net/tun (mode %04o, owner uid %u) cannot be opened: %s: "
                                "make it usable by everyone as udev does on stock distributions "
                                "(as root: chmod 0666 /dev/net/tun)",
                                st.st_mode & 07777, st.st_uid, g_strerror (errsv));
      else
        what = g_strdup_printf ("/dev/net/tun is missing (%s): load the tun module (as root: "
                                "modprobe tun)",
                                g_strerror (errno));
      /* --allow-host asks for the slirp network: its policy lives there */
      if (net->explicit_mode || net->ports->len > 0 || hutch_net_config_has_policy (net))
        return hutch_throw (error, HUTCH_ERROR_HOST_UNSUPPORTED,
                            "the slirp network needs a tap device, but %s; or run with --network none",
                            what);
      g_warning ("no network, only loopback (--network none): %s", what);
      net->mode = HUTCH_NET_NONE;
      return TRUE;
    }
  resolv = hutch_util_read_host_file ("/etc/resolv.conf", 65536, NULL);
  hutch_net_config_read_resolv (net, resolv);
  return TRUE;
}

typedef struct
{
  const HutchContext *ctx;
  HutchContainer *c;
  int notify;      /* detached: where `start` waits to hear; -1 once told */
  int live;        /* locked while we run */
  int listen;      /* the ctl socket */
  int ns[HUTCH_SANDBOX_N_NS];
  int init;        /* a pidfd of the container's pid 1 */
  int lock;        /* the container's lock, held by `start` (not by us) */
  HutchCgroup *cg; /* the container's cgroup, or NULL */
  HutchLogWriter *log;
  HutchSandboxHooks hooks;
  gboolean foreground; /* this process is `run` or `start -a`, the user's */
  int events;          /* the store's event log, opened while it is in sight; -1 */
  gboolean keep;       /* a restart keeper is to watch it (restart.c) */
} Monitor;

/* From the moment the container's command runs, the monitor (and the
 * libslirp in it) sees only what it still writes: the containers' records
 * and names (--rm removes its own, and its anonymous volumes), the live
 * state, its cgroup's parent. */
static void
monitor_confine (Monitor *m)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) keep = g_ptr_array_new_with_free_func (g_free);

  g_ptr_array_add (keep, g_build_filename (m->ctx->root, "containers", NULL));
  g_ptr_array_add (keep, g_build_filename (m->ctx->root, "names", NULL));
  g_ptr_array_add (keep, g_build_filename (m->ctx->runroot, "containers", NULL));
  /* --rm removes the container's anonymous volumes too (emptied by the
   * sandbox, which can delete what the container's ids wrote) */
  if (m->c->auto_remove)
    g_ptr_array_add (keep, g_build_filename (m->ctx->root, "volumes", NULL));
  if (m->cg != NULL)
    g_ptr_array_add (keep, g_path_get_dirname (hutch_cgroup_dir (m->cg)));
  for (guint i = keep->len; i-- > 0;)
    if (!g_file_test (keep->pdata[i], G_FILE_TEST_IS_DIR))
      g_ptr_array_remove_index (keep, i);
  g_ptr_array_add (keep, NULL);
  if (!hutch_sandbox_monitor_confine ((const char *const *) keep->pdata, &error))
    g_warning ("the monitor of container %s keeps the view of your files: %s", m->c->name,
               error->message);
}

/* The monitor's writes of the record: with the name it has now, which
 * `rename` may have changed while the container ran. */
static gboolean
monitor_save (Monitor *m, gboolean end, GError **error)
{
  hutch_autofd int names_lock = hutch_container_name_sync (m->ctx, m->c);
  gboolean ok = end ? hutch_container_save_end (m->ctx, m->c, error)
                    : hutch_container_save (m->ctx, m->c, error);

  /* the record is written: a rename may go on */
  hutch_fd_clear (&names_lock);
  return ok;
}

static void
monitor_started (gpointer data, pid_t init, const int *ns)
{
  Monitor *m = data;
  g_autoptr (GError) error = NULL;
  guint64 mon_start = 0, init_start = 0;
  g_autofree char *pids = NULL;

  for (guint i = 0; i < HUTCH_SANDBOX_N_NS; i++)
    m->ns[i] = fcntl (ns[i], F_DUPFD_CLOEXEC, 3);
  /* the namespaces are let go the moment pid 1 ends, or they would keep
   * its mounts (and a fuse-overlayfs server) alive */
  m->init = (int) syscall (SYS_pidfd_open, init, 0);
  if (m->init < 0)
    for (guint i = 0; i < HUTCH_SANDBOX_N_NS; i++)
      hutch_fd_clear (&m->ns[i]);
  /* with their start times, so that no one acts on a reused pid */
  (void) hutch_util_pid_start_time (getpid (), &mon_start);
  (void) hutch_util_pid_start_time (init, &init_start);
  pids = g_strdup_printf ("%d %d %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT "\n", (int) getpid (),
                          (int) init, mon_start, init_start);
  (void) pwrite (m->live, pids, strlen (pids), 0);
  m->c->status = HUTCH_CONTAINER_RUNNING;
  g_free (m->c->cgroup);
  m->c->cgroup = m->cg != NULL ? g_strdup (hutch_cgroup_dir (m->cg)) : NULL;
  m->c->started_at = g_get_real_time ();
  m->c->finished_at = 0;
  m->c->exit_code = 0;
  g_clear_pointer (&m->c->error, g_free);
  g_clear_pointer (&m->c->log_error, g_free);
  if (!monitor_save (m, FALSE, &error))
    g_warning ("%s", error->message);
  /* kept for the end, which comes after monitor_confine() */
  m->events = hutch_event_log_open (m->ctx);
  hutch_event_write (m->events, m->c->started_at, "container", "start", m->c->id, m->c->name,
                     m->c->image, NULL);
  if (m->notify >= 0)
    {
      (void) !write (m->notify, "R", 1);
      hutch_fd_clear (&m->notify);
    }
  /* while the monitor still sees the store: the keeper starts the
   * container again after this monitor has gone */
  if (m->keep)
    hutch_container_keeper_spawn (m->ctx, m->c);
  monitor_confine (m);
}

static gboolean
monitor_created (gpointer data, pid_t pid, GError **error)
{
  Monitor *m = data;

  return m->cg == NULL || hutch_cgroup_enter (m->cg, pid, error);
}

static void
ctl_prepare (gpointer data, GArray *fds, int *timeout_ms)
{
  Monitor *m = data;
  struct pollfd p = { m->listen, POLLIN, 0 }, q = { m->init, POLLIN, 0 };

  (void) timeout_ms;
  if (m->listen >= 0)
    g_array_append_val (fds, p);
  if (m->init >= 0)
    g_array_append_val (fds, q);
}

/* `exec` asks: the namespaces, to the user alone. */
static void
ctl_dispatch (gpointer data, GArray *fds)
{
  Monitor *m = data;

  for (guint i = 0; i < fds->len; i++)
    {
      struct pollfd *p = &g_array_index (fds, struct pollfd, i);
      hutch_autofd int conn = -1;
      struct ucred cred;
      socklen_t len = sizeof cred;
      if (p->fd == m->init && m->init >= 0 && p->revents != 0)
        {
          hutch_fd_clear (&m->init);
          for (guint k = 0; k < HUTCH_SANDBOX_N_NS; k++)
            hutch_fd_clear (&m->ns[k]);
          continue;
        }
      if (p->fd != m->listen || p->revents == 0)
        continue;
      conn = accept4 (m->listen, NULL, NULL, SOCK_CLOEXEC);
      if (conn < 0)
        continue;
      if (getsockopt (conn, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 || cred.uid != getuid ())
        continue;
      if (m->ns[0] >= 0)
        (void) hutch_util_send_fds (conn, 'N', m->ns, HUTCH_SANDBOX_N_NS);
      else
        (void) hutch_util_send_fds (conn, 'E', NULL, 0);
    }
}

/* A failure to write the log, recorded once (inspect's State.LogError,
 * and `logs` warns of it); in the foreground the user hears it at once.
 * The container goes on: its output is only missing from the log. */
static void
log_check (Monitor *m)
{
  g_autofree char *failure = m->log != NULL ? hutch_log_writer_take_failure (m->log) : NULL;
  g_autofree char *now = NULL;
  g_autoptr (GError) error = NULL;

  if (failure == NULL)
    return;
  now = hutch_container_time_text (g_get_real_time ());
  g_free (m->c->log_error);
  m->c->log_error = g_strdup_printf ("%s (at %s): what the container printed then is missing "
                                     "from the log",
                                     failure, now);
  if (m->foreground)
    g_warning ("container %s: %s; its output still comes here, but the log misses it", m->c->name,
               failure);
  if (!monitor_save (m, FALSE, &error))
    g_warning ("%s", error->message);
}

static void
monitor_prepare (gpointer data, GArray *fds, int *timeout_ms)
{
  Monitor *m = data;

  ctl_prepare (m, fds, timeout_ms);
  if (m->log != NULL)
    hutch_log_writer_prepare (m->log, fds, timeout_ms);
}

static void
monitor_dispatch (gpointer data, GArray *fds)
{
  Monitor *m = data;

  ctl_dispatch (m, fds);
  if (m->log != NULL)
    hutch_log_writer_dispatch (m->log, fds);
  log_check (m);
}

static void
monitor_tty (gpointer data, const char *buf, gsize len)
{
  Monitor *m = data;

  hutch_log_writer_tty (m->log, buf, len);
  log_check (m);
}

/* The live state: <runroot>/containers/<id>/live locked, and ctl bound. */
static gboolean
live_take (Monitor *m, GError **error)
{
  g_autofree char *dir = hutch_container_run_dir (m->ctx, m->c->id, error);
  g_autofree char *live = NULL;
  g_autofree char *ctl = NULL;
  hutch_autofd int dfd = -1;
  struct sockaddr_un addr = { .sun_family = AF_UNIX };

  if (dir == NULL)
    return FALSE;
  live = g_build_filename (dir, "live", NULL);
  if (g_mkdir_with_parents (dir, 0700) < 0)
    return hutch_throw_errno (error, "making %s", dir);
  m->live = open (live, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (m->live < 0)
    return hutch_throw_errno (error, "opening %s", live);
  if (flock (m->live, LOCK_EX | LOCK_NB) < 0)
    return hutch_fd_clear (&m->live), hutch_throw (error, HUTCH_ERROR_BUSY, "container %s is already running", m->c->name);
  (void) ftruncate (m->live, 0);
  /* through /proc/self/fd: a socket's path is short, the runroot may not be */
  dfd = open (dir, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  ctl = g_strdup_printf ("/proc/self/fd/%d/ctl", dfd);
  if (dfd < 0 || strlen (ctl) >= sizeof addr.sun_path)
    return hutch_throw_errno (error, "opening %s", dir);
  if (!hutch_util_check_private_fd (dfd, dir, error))
    return FALSE;
  strcpy (addr.sun_path, ctl);
  (void) unlinkat (dfd, "ctl", 0);
  m->listen = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (m->listen < 0 || bind (m->listen, (struct sockaddr *) &addr, sizeof addr) < 0
      || listen (m->listen, 16) < 0)
    return hutch_throw_errno (error, "making the control socket in %s", dir);
  return TRUE;
}

static void
live_release (Monitor *m)
{
  g_autofree char *dir = NULL;
  g_autofree char *ctl = NULL;
  g_autofree char *live = NULL;

  hutch_fd_clear (&m->listen);
  hutch_fd_clear (&m->init);
  for (guint i = 0; i < HUTCH_SANDBOX_N_NS; i++)
    hutch_fd_clear (&m->ns[i]);
  if (m->live < 0)
    return; /* not ours: another monitor's, or already released */
  /* checked by live_take(), and no one else can have changed it since */
  dir = g_build_filename (m->ctx->runroot, "containers", m->c->id, NULL);
  ctl = g_build_filename (dir, "ctl", NULL);
  live = g_build_filename (dir, "live", NULL);
  (void) unlink (ctl);
  (void) unlink (live);
  (void) rmdir (dir);
  hutch_fd_clear (&m->live);
}

/* After the end: the record, and with --rm the container gone. */
static void
finish (Monitor *m, const HutchSandboxSpec *spec, gboolean ran, const HutchSandboxResult *result,
        const GError *setup_error)
{
  g_autoptr (GError) error = NULL;

  if (ran || (result != NULL && result->exec_error != NULL))
    {
      m->c->status = HUTCH_CONTAINER_EXITED;
      m->c->exit_code = result->status;
      m->c->finished_at = g_get_real_time ();
      g_free (m->c->error);
      m->c->error = g_strdup (result->exec_error);
      m->c->oom_killed = m->cg != NULL && hutch_cgroup_oom_killed (m->cg);
      if (m->c->oom_killed)
        {
          g_free (m->c->error);
          m->c->error = g_strdup ("killed by the kernel at its memory limit (--memory)");
          if (m->notify < 0 && m->log == NULL) /* in the foreground: the user is there */
            g_printerr ("hutch: container %s was killed at its memory limit (--memory): "
                        "out of memory\n", m->c->name);
        }
    }
  else if (setup_error != NULL)
    {
      g_free (m->c->error);
      m->c->error = g_strdup (setup_error->message);
    }
  if (m->c->status == HUTCH_CONTAINER_EXITED && m->c->finished_at != 0)
    {
      g_autofree char *code = g_strdup_printf ("%d", m->c->exit_code);
      hutch_event_write (m->events, m->c->finished_at, "container", "die", m->c->id, m->c->name,
                         m->c->image, code);
    }
  /* the record says whether the end was asked for (stop, kill, rm -f) */
  m->c->stop_asked = hutch_container_stop_marked (m->ctx, m->c->id);
  /* into the room taken before it ran: a container that filled the disk
   * still has its end recorded */
  if (!m->c->auto_remove && !monitor_save (m, TRUE, &error))
    g_warning ("%s", error->message);
  /* the record goes with --rm: the exit code is left for a `wait` that
   * holds live open */
  if (m->c->auto_remove && m->live >= 0 && m->c->status == HUTCH_CONTAINER_EXITED)
    {
      g_autofree char *line = g_strdup_printf ("\nexit %d\n", m->c->exit_code);
      struct stat st;
      if (fstat (m->live, &st) == 0)
        (void) pwrite (m->live, line, strlen (line), st.st_size);
    }
  live_release (m);
  g_clear_pointer (&m->cg, hutch_cgroup_free);
  /* (not found: whoever listed containers first found it abandoned) */
  if (m->c->auto_remove && !hutch_container_remove (m->ctx, m->c->id, FALSE, &error)
      && !g_error_matches (error, HUTCH_ERROR, HUTCH_ERROR_NOT_FOUND))
    g_warning ("%s", error->message);
  else if (m->c->auto_remove)
    hutch_event_write (m->events, 0, "container", "remove", m->c->id, m->c->name, m->c->image, NULL);
  hutch_fd_clear (&m->events);
  (void) spec;
}

static gboolean
prepare_network (Monitor *m, HutchNetConfig *net, GError **error)
{
  hutch_net_config_init (net);
  if (m->c->network != NULL && !hutch_net_config_parse_mode (net, m->c->network, error))
    return FALSE;
  g_array_append_vals (net->ports, m->c->ports->data, m->c->ports->len);
  /* the policy of create, again at each start; its log in the
   * container's directory */
  for (char **a = m->c->allow_hosts; a != NULL && *a != NULL; a++)
    if (!hutch_net_config_add_allow (net, *a, error))
      return FALSE;
  if (hutch_net_config_has_policy (net))
    {
      g_autofree char *dir = hutch_container_dir (m->ctx, m->c->id);
      net->egress_log = g_build_filename (dir, "egress.log", NULL);
    }
  return choose_network (net, error);
}

/* Detached: this child becomes the monitor, in a session of its own,
 * writing @log (taken). */
static void G_GNUC_NORETURN
monitor_main (Monitor *m, HutchSandboxSpec *spec, int out_r, int err_r, HutchLogWriter *log)
{
  HutchSandboxResult result = { 0 };
  g_autoptr (GError) error = NULL;
  hutch_autofd int null = open ("/dev/null", O_RDWR | O_CLOEXEC);
  gboolean ran;

  (void) setsid ();
  for (int fd = 0; fd <= 2 && null >= 0; fd++)
    (void) dup2 (null, fd);
  m->log = log;
  hutch_log_writer_attach (m->log, out_r, err_r);
  m->hooks.tty_output = monitor_tty;
  ran = hutch_sandbox_run (spec, &result, &error);
  hutch_log_writer_drain (m->log);
  log_check (m);
  if (!ran && m->notify >= 0)
    {
      g_autofree char *msg = g_strdup_printf ("F125 %s", error->message);
      (void) !write (m->notify, msg, strlen (msg));
    }
  else if (ran && m->notify >= 0)
    {
      g_autofree char *msg = g_strdup_printf ("F%d %s", result.status,
                                              result.exec_error != NULL ? result.exec_error : "");
      (void) !write (m->notify, msg, strlen (msg));
    }
  hutch_fd_clear (&m->notify);
  finish (m, spec, ran && result.exec_error == NULL, &result, error);
  hutch_log_writer_free (m->log);
  _exit (0);
}

/* What the monitor said: "R" running, or "F<status> <why>" at its end.
 * The first byte is enough for R: the container's processes (forks of the
 * monitor) hold the pipe, so its end comes with theirs. */
static gboolean
hear_monitor (int fd, pid_t monitor, HutchSandboxResult *result, GError **error)
{
  g_autofree char *said = NULL;
  char first = 0;
  char *end = NULL;
  ssize_t n;

  result->status = 0;
  do
    n = read (fd, &first, 1);
  while (n < 0 && errno == EINTR);
  if (n == 1 && first == 'R')
    return TRUE;
  said = n == 1 && first == 'F' ? hutch_util_read_all (fd, 1 << 16, NULL, NULL) : NULL;
  if (said == NULL)
    return hutch_throw (error, HUTCH_ERROR_FAILED,
                        "the container's monitor (pid %d) ended before the container started",
                        (int) monitor);
  result->status = (int) strtol (said, &end, 10);
  if (end != NULL && *end == ' ')
    end++;
  if (result->status == 125)
    return hutch_throw (error, HUTCH_ERROR_FAILED, "%s", end);
  result->exec_error = end != NULL && *end != '\0' ? g_strdup (end) : NULL;
  return TRUE;
}

static HutchLogWriter *
open_log (Monitor *m, GError **error)
{
  g_autofree char *dir = hutch_container_dir (m->ctx, m->c->id);

  return hutch_log_writer_open (dir, &m->c->log, error);
}

/* In the foreground: the command's output through pipes of ours (or its
 * terminal) to the log and on to our stdout and stderr. */
static gboolean
run_foreground (Monitor *m, HutchSandboxSpec *spec, HutchSandboxResult *result, GError **error)
{
  g_autoptr (HutchLogWriter) log = open_log (m, error);
  int out[2] = { -1, -1 }, err[2] = { -1, -1 };
  gboolean ok;

  if (log == NULL)
    return FALSE;
  if (!spec->tty && (pipe2 (out, O_CLOEXEC) < 0 || pipe2 (err, O_CLOEXEC) < 0))
    {
      hutch_fd_clear (&out[0]), hutch_fd_clear (&out[1]);
      return hutch_throw_errno (error, "making the pipes for the container's output");
    }
  if (!spec->tty)
    {
      spec->redirect = TRUE;
      spec->stdio[0] = STDIN_FILENO;
      spec->stdio[1] = out[1];
      spec->stdio[2] = err[1];
      spec->readers[0] = out[0];
      spec->readers[1] = err[0];
      spec->n_readers = 2;
    }
  m->log = g_steal_pointer (&log);
  m->foreground = TRUE;
  hutch_log_writer_attach (m->log, out[0], err[0]);
  hutch_log_writer_tee (m->log, STDOUT_FILENO, STDERR_FILENO);
  m->hooks.tty_output = monitor_tty;
  ok = hutch_sandbox_run (spec, result, error);
  hutch_fd_clear (&out[1]);
  hutch_fd_clear (&err[1]);
  spec->redirect = FALSE;
  spec->n_readers = 0;
  hutch_log_writer_drain (m->log);
  log_check (m);
  g_clear_pointer (&m->log, hutch_log_writer_free);
  return ok;
}

static gboolean
start_detached (Monitor *m, HutchSandboxSpec *spec, HutchSandboxResult *result, GError **error)
{
  g_autoptr (HutchLogWriter) log = open_log (m, error);
  int out[2] = { -1, -1 }, err[2] = { -1, -1 }, note[2] = { -1, -1 };
  hutch_autofd int null = open ("/dev/null", O_RDONLY | O_CLOEXEC);
  pid_t pid;
  gboolean ok;

  if (log == NULL)
    return FALSE;
  if (pipe2 (out, O_CLOEXEC) < 0 || pipe2 (err, O_CLOEXEC) < 0 || pipe2 (note, O_CLOEXEC) < 0)
    {
      hutch_fd_clear (&out[0]), hutch_fd_clear (&out[1]);
      hutch_fd_clear (&err[0]), hutch_fd_clear (&err[1]);
      return hutch_throw_errno (error, "starting the monitor: pipe");
    }
  spec->redirect = TRUE;
  spec->stdio[0] = null;
  spec->stdio[1] = out[1];
  spec->stdio[2] = err[1];
  spec->readers[0] = out[0];
  spec->readers[1] = err[0];
  spec->n_readers = 2;
  m->notify = note[1];
  hutch_util_assert_single_thread ();
  pid = fork ();
  if (pid == 0)
    {
      close (note[0]);
      /* the lock is start's: ours would last as long as the container */
      hutch_fd_clear (&m->lock);
      monitor_main (m, spec, out[0], err[0], g_steal_pointer (&log));
    }
  close (note[1]);
  m->notify = -1;
  close (out[0]), close (out[1]), close (err[0]), close (err[1]);
  if (pid < 0)
    {
      close (note[0]);
      return hutch_throw_errno (error, "starting the monitor: fork");
    }
  /* the monitor has the lock and the socket now */
  hutch_fd_clear (&m->live);
  hutch_fd_clear (&m->listen);
  ok = hear_monitor (note[0], pid, result, error);
  close (note[0]);
  return ok;
}

static const char *
image_hex (const char *image_id)
{
  return image_id == NULL ? "?" : g_str_has_prefix (image_id, "sha256:") ? image_id + 7 : image_id;
}

/* The image's layers are still in the store: `rmi -f` may have removed
 * them since the container was made, and overlayfs would only say that a
 * lower directory is missing. */
static gboolean
layers_present (const HutchContainer *c, const HutchSandboxSpec *spec, GError **error)
{
  for (char **l = spec->lowerdirs; l != NULL && *l != NULL; l++)
    if (access (*l, F_OK) < 0)
      return hutch_throw (error, HUTCH_ERROR_NOT_FOUND,
                          "container %s cannot start: its image %s (ID %.12s) is no longer in "
                          "the store, and its layer %s has gone with it (rmi -f removes an "
                          "image that containers use); load or pull the image again, or remove "
                          "the container (hutch rm %s)",
                          c->name, c->image, image_hex (c->image_id), *l, c->name);
  return TRUE;
}

/* Under the container's lock, before it starts: a restart by the policy
 * is counted (and refused once the user has asked it to stop); a start
 * by the user begins the policy afresh. */
static gboolean
restart_begin (HutchContext *ctx, HutchContainer *c, gboolean restart, GError **error)
{
  if (!restart)
    {
      hutch_container_stop_unmark (ctx, c->id);
      c->stop_asked = FALSE;
      c->restart_count = 0;
      return TRUE;
    }
  if (c->stop_asked)
    return hutch_throw (error, HUTCH_ERROR_FAILED,
                        "container %s is not restarted: it was asked to stop", c->name);
  c->restart_count++;
  return hutch_container_save (ctx, c, error);
}

/* @ahead: the user namespace `run` had made while it created the
 * container, taken; NULL makes one here. @restart: by the restart
 * keeper, not the user. */
/* The container's user namespace, made (or the user's holder found in
 * the runroot) while the caller does other work. */
static HutchUsernsAhead *
userns_ahead (const HutchContext *ctx, const HutchIdMap *map)
{
  gboolean runroot = hutch_util_ensure_private_dir (ctx->runroot, 0700, NULL);

  return hutch_sandbox_userns_ahead (map, runroot ? ctx->runroot : NULL);
}

static gboolean
start_container (HutchContext *ctx, const char *id, HutchStartMode mode, HutchUsernsAhead *ahead_in,
                 gboolean restart, HutchSandboxResult *result, GError **error)
{
  g_autoptr (HutchUsernsAhead) ahead = ahead_in;
  hutch_autofd int lock = hutch_container_lock (ctx, id, error);
  g_autoptr (HutchContainer) c = lock >= 0 ? hutch_container_load (ctx, id, error) : NULL;
  g_autoptr (HutchIdMap) map = NULL;
  g_autoptr (HutchNet) slirp = NULL;
  g_autofree char *dir = hutch_container_dir (ctx, id);
  HutchSandboxSpec spec = { .cleanup_fd = -1, .userns_fd = -1 };
  HutchNetConfig net = { 0 };
  HutchCgroupLimits limits = { 0 };
  HutchSandboxNet hooks = { 0 };
  Monitor m = { ctx, c, -1, -1, -1, { -1, -1, -1, -1, -1, -1, -1 }, -1, lock, NULL, NULL, { { 0 } },
                FALSE, -1 };
  gboolean ok;
  g_autoptr (GError) local = NULL;

  memset (result, 0, sizeof *result);
  if (c == NULL || (map = hutch_container_idmap_new (c, error)) == NULL)
    return FALSE;
  if (c->status == HUTCH_CONTAINER_RUNNING)
    return hutch_throw (error, HUTCH_ERROR_BUSY, "container %s is already running", c->name);
  if (!restart_begin (ctx, c, restart, error))
    return FALSE;
  m.keep = !restart && c->restart.kind != HUTCH_RESTART_NO;
  /* the host may have changed since create: the limits are checked again */
  ok = hutch_container_limits_read (dir, &limits, error)
       && hutch_container_limits_usable (&limits, error)
       && hutch_container_spec_read (dir, &spec, error) && layers_present (c, &spec, error)
       && (c->auto_remove || hutch_container_record_reserve (ctx, c, error))
       && prepare_network (&m, &net, error)
       && make_etc_files (&spec, dir, &net, c, error) && live_take (&m, error);
  /* before the cgroup: its holder is a process in ours until it is done */
  if (ok && ahead == NULL)
    ahead = userns_ahead (ctx, map);
  if (ok && ahead != NULL)
    ok = hutch_sandbox_userns_ahead_finish (g_steal_pointer (&ahead), &spec, error);
  if (ok && !limits.disabled)
    {
      HutchCgroupCaps caps;
      g_autoptr (GError) cg_error = NULL;
      hutch_cgroup_caps_probe (&caps);
      m.cg = hutch_cgroup_prepare (&caps, id, &limits, &cg_error);
      hutch_cgroup_caps_clear (&caps);
      if (cg_error != NULL)
        ok = (g_propagate_error (error, g_steal_pointer (&cg_error)), FALSE);
    }
  hutch_cgroup_limits_clear (&limits);
  spec.idmap = map;
  if (ok && net.mode == HUTCH_NET_SLIRP)
    {
      ok = (slirp = hutch_net_new (&net, error)) != NULL;
      hutch_net_sandbox_hooks (slirp, &hooks);
      spec.net = &hooks;
      g_array_set_size (c->bound, 0);
      if (ok)
        g_array_append_vals (c->bound, net.ports->data, net.ports->len);
    }
  m.hooks.started = monitor_started;
  m.hooks.created = monitor_created;
  m.hooks.poll = (HutchSandboxPoll) { monitor_prepare, monitor_dispatch, &m };
  m.hooks.data = &m;
  if (ok && c->auto_remove)
    spec.cleanup_fd = open (dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  spec.hooks = &m.hooks;
  if (ok && mode == HUTCH_START_DETACHED)
    ok = start_detached (&m, &spec, result, error);
  else if (ok)
    {
      hutch_fd_clear (&lock); /* live is ours: a second start sees it running */
      ok = run_foreground (&m, &spec, result, &local);
      finish (&m, &spec, ok && result->exec_error == NULL, result, local);
      if (!ok)
        g_propagate_error (error, g_steal_pointer (&local));
    }
  if (!ok)
    {
      live_release (&m);
      hutch_container_nospace_explain (ctx, error);
    }
  /* a restart that failed says why in the record (the keeper has no one
   * to tell) */
  if (!ok && restart && error != NULL && *error != NULL)
    {
      g_free (c->error);
      c->error = g_strdup ((*error)->message);
      (void) hutch_container_save (ctx, c, NULL);
    }
  g_clear_pointer (&m.cg, hutch_cgroup_free);
  g_clear_pointer (&slirp, hutch_net_free);
  hutch_fd_clear (&spec.cleanup_fd);
  hutch_fd_clear (&spec.userns_fd);
  spec.idmap = NULL;
  hutch_container_spec_clear (&spec);
  hutch_net_config_clear (&net);
  return ok;
}

gboolean
hutch_container_start (HutchContext *ctx, const char *id, HutchStartMode mode,
                       HutchSandboxResult *result, GError **error)
{
  return start_container (ctx, id, mode, NULL, FALSE, result, error);
}

gboolean
hutch_container_start_restart (const HutchContext *ctx, const char *id,
                               HutchSandboxResult *result, GError **error)
{
  /* (not changed: the start only reads the context) */
  return start_container ((HutchContext *) ctx, id, HUTCH_START_DETACHED, NULL, TRUE, result,
                          error);
}

gboolean
hutch_container_run (HutchContext *ctx, const HutchRunOptions *o, HutchSandboxResult *result,
                     char **out_id, GError **error)
{
  /* the id helpers run while the container is made */
  g_autoptr (HutchIdMap) map = hutch_container_idmap_new_for_mode (o->userns, NULL);
  g_autoptr (HutchUsernsAhead) ahead = map != NULL ? userns_ahead (ctx, map) : NULL;
  g_autoptr (HutchContainer) c = hutch_container_create (ctx, o, error);

  if (c == NULL)
    return FALSE;
  if (!start_container (ctx, c->id, o->detach ? HUTCH_START_DETACHED : HUTCH_START_FOREGROUND,
                        g_steal_pointer (&ahead), FALSE, result, error))
    {
      /* never ran: nothing of it is worth keeping, its anonymous volumes
       * neither */
      g_autoptr (GError) local = NULL;
      if (!hutch_container_remove_volumes (ctx, c->id, FALSE, &local)
          && !g_error_matches (local, HUTCH_ERROR, HUTCH_ERROR_NOT_FOUND))
        g_warning ("%s", local->message);
      return FALSE;
    }
  if (out_id != NULL)
    *out_id = g_strdup (c->id);
  return TRUE;
}
