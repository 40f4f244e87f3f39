/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* --restart: the policy as docker spells it, the mark a stop by the user
 * leaves (containers/<id>/stop-asked), and the restart keeper, the
 * process that starts a container again when its command ends. Starting
 * is start.c's; what ps and inspect show of it is record.c's. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "container-private.h"

#define STOP_MARK "stop-asked"
#define KEEPER_FILE "keeper"
/* docker's back-off: 100 ms, doubled at each restart up to a minute, and
 * back to 100 ms once the container has run for 10 s. */
#define BACKOFF_FIRST_MS 100
#define BACKOFF_MAX_MS (60 * 1000)
#define BACKOFF_RESET_USEC (10 * G_USEC_PER_SEC)

static const char *const kind_names[] = { "no", "on-failure", "always", "unless-stopped" };

const char *
hutch_container_restart_kind_name (HutchRestartKind kind)
{
  return (guint) kind < G_N_ELEMENTS (kind_names) ? kind_names[kind] : "no";
}

gboolean
hutch_container_restart_policy_parse (const char *text, HutchRestartPolicy *out, GError **error)
{
  const char *colon = strchr (text, ':');
  g_autofree char *name = g_strndup (text, colon != NULL ? (gsize) (colon - text) : strlen (text));
  guint64 n = 0;

  *out = (HutchRestartPolicy) { HUTCH_RESTART_NO, 0 };
  for (gsize i = 0; i < G_N_ELEMENTS (kind_names); i++)
    if (strcmp (name, kind_names[i]) == 0)
      out->kind = (HutchRestartKind) i;
  if (out->kind == HUTCH_RESTART_NO && strcmp (name, "no") != 0)
    return hutch_throw (error, HUTCH_ERROR_USAGE,
                        "--restart \"%s\": use no, on-failure[:N], always or unless-stopped", text);
  if (colon == NULL)
    return TRUE;
  if (out->kind != HUTCH_RESTART_ON_FAILURE)
    return hutch_throw (error, HUTCH_ERROR_USAGE,
                        "--restart \"%s\": only on-failure takes a count of retries "
                        "(on-failure:N); use no, on-failure[:N], always or unless-stopped",
                        text);
  if (!g_ascii_string_to_unsigned (colon + 1, 10, 0, G_MAXINT, &n, NULL))
    return hutch_throw (error, HUTCH_ERROR_USAGE,
                        "--restart \"%s\": the count of retries must be a number from 0 "
                        "(no limit), as in on-failure:3",
                        text);
  out->max_retries = (int) n;
  return TRUE;
}

/* Whether @c's policy starts it again now that it has ended. */
static gboolean
policy_restarts (const HutchContainer *c)
{
  switch (c->restart.kind)
    {
    case HUTCH_RESTART_ON_FAILURE:
      return c->exit_code != 0
             && (c->restart.max_retries == 0 || c->restart_count < c->restart.max_retries);
    case HUTCH_RESTART_ALWAYS:
    case HUTCH_RESTART_UNLESS_STOPPED:
      return TRUE;
    case HUTCH_RESTART_NO:
    default:
      return FALSE;
    }
}

static char *
file_path (const HutchContext *ctx, const char *id, const char *name)
{
  g_autofree char *dir = hutch_container_dir (ctx, id);

  return g_build_filename (dir, name, NULL);
}

gboolean
hutch_container_stop_mark (const HutchContext *ctx, const char *id, GError **error)
{
  g_autofree char *path = file_path (ctx, id, STOP_MARK);
  hutch_autofd int fd = open (path, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);

  if (fd < 0)
    return hutch_throw_errno (error, "recording that container %.12s was asked to stop: %s", id,
                              path);
  return TRUE;
}

gboolean
hutch_container_stop_marked (const HutchContext *ctx, const char *id)
{
  g_autofree char *path = file_path (ctx, id, STOP_MARK);

  return access (path, F_OK) == 0;
}

void
hutch_container_stop_unmark (const HutchContext *ctx, const char *id)
{
  g_autofree char *path = file_path (ctx, id, STOP_MARK);

  (void) unlink (path);
}

/* containers/<id>/keeper, which the keeper holds locked while it lives,
 * with "PID START" in it: its pid and its start time. */
static int
keeper_open (const HutchContext *ctx, const char *id, int flags)
{
  g_autofree char *path = file_path (ctx, id, KEEPER_FILE);

  return open (path, flags | O_NOFOLLOW | O_CLOEXEC, 0600);
}

gboolean
hutch_container_keeper_alive (const HutchContext *ctx, const char *id)
{
  hutch_autofd int fd = keeper_open (ctx, id, O_RDONLY);

  return fd >= 0 && flock (fd, LOCK_SH | LOCK_NB) < 0 && errno == EWOULDBLOCK;
}

int
hutch_container_keeper_open (const HutchContext *ctx, const char *id)
{
  return keeper_open (ctx, id, O_RDONLY);
}

void
hutch_container_keeper_end (const HutchContext *ctx, const char *id)
{
  hutch_container_keeper_end_fd (keeper_open (ctx, id, O_RDONLY));
}

void
hutch_container_keeper_end_fd (int fd_in)
{
  hutch_autofd int fd = fd_in;
  hutch_autofd int pidfd = -1;
  char buf[64] = "";
  int pid = 0;
  guint64 start = 0;
  ssize_t n;
  struct pollfd p;

  if (fd < 0 || flock (fd, LOCK_SH | LOCK_NB) == 0 || errno != EWOULDBLOCK)
    return;
  n = pread (fd, buf, sizeof buf - 1, 0);
  if (n <= 0 || sscanf (buf, "%d %" G_GUINT64_FORMAT, &pid, &start) != 2)
    return;
  pidfd = hutch_util_pidfd_open_checked (pid, start, "the restart keeper", NULL);
  if (pidfd < 0 || !hutch_util_pidfd_signal (pidfd, SIGTERM, NULL))
    return;
  p = (struct pollfd) { pidfd, POLLIN, 0 };
  while (poll (&p, 1, -1) < 0 && errno == EINTR)
    ;
}

/* ---- the keeper ---- */

/* Why a process of its own, not the monitor: once the container runs the
 * monitor confines itself (start.c, monitor_confine(): a user and mount
 * namespace whose root holds only the record and the live state), so it
 * can neither see the image's layers to run the sandbox again nor exec a
 * fresh hutch, and a namespace cannot be left. The keeper is forked from
 * the monitor just before that, watches it through a pidfd, and restarts
 * with the code `hutch start` runs: one path for every start, and a
 * monitor killed with its container is restarted just the same. */
typedef struct
{
  HutchContext *ctx;
  char *id;
  int sfd;          /* SIGTERM, SIGINT, SIGHUP: go */
  int lock;         /* containers/<id>/keeper, flocked; -1 while starting */
  int delay_ms;     /* the next back-off */
  gint64 last_started; /* StartedAt of the run last judged */
} Keeper;

typedef enum
{
  NEXT_WAIT,    /* it runs: wait for its monitor */
  NEXT_RESTART, /* after the back-off */
  NEXT_DONE,
} Next;

/* Waits until @fd (a pidfd, or -1) is readable or @timeout_ms has passed;
 * FALSE when a signal said to go. */
static gboolean
keeper_wait (Keeper *k, int fd, int timeout_ms)
{
  struct pollfd p[2] = { { k->sfd, POLLIN, 0 }, { fd, POLLIN, 0 } };
  int r;

  do
    r = poll (p, 2, timeout_ms);
  while (r < 0 && errno == EINTR);
  return r >= 0 && p[0].revents == 0;
}

static void
keeper_backoff (Keeper *k, const HutchContainer *c)
{
  /* a run that lasted resets it; a failed restart (no new run) does not */
  if (c->started_at != k->last_started && c->finished_at - c->started_at >= BACKOFF_RESET_USEC)
    k->delay_ms = 0;
  k->last_started = c->started_at;
  k->delay_ms = k->delay_ms == 0 ? BACKOFF_FIRST_MS : MIN (k->delay_ms * 2, BACKOFF_MAX_MS);
}

/* Under the container's lock: what comes next. Done, the keeper's lock
 * goes before the container's, so a start that follows sees no keeper
 * and its own can take over. */
static Next
keeper_look (Keeper *k, int *out_pidfd)
{
  hutch_autofd int lock = hutch_container_lock (k->ctx, k->id, NULL);
  g_autoptr (HutchContainer) c = lock >= 0 ? hutch_container_load (k->ctx, k->id, NULL) : NULL;
  Next next = NEXT_DONE;

  *out_pidfd = -1;
  if (c != NULL && c->stop_asked)
    next = NEXT_DONE;
  else if (c != NULL && c->status == HUTCH_CONTAINER_RUNNING)
    {
      *out_pidfd = hutch_container_pidfd (c, TRUE, NULL);
      next = NEXT_WAIT;
    }
  else if (c != NULL && policy_restarts (c))
    {
      keeper_backoff (k, c);
      next = NEXT_RESTART;
    }
  if (next == NEXT_DONE)
    hutch_fd_clear (&k->lock);
  return next;
}

/* The start, without our lock: the monitor it forks would hold it for as
 * long as it runs. Taken again after; held by another keeper by then
 * (a user's start made one), that one keeps the container. */
static gboolean
keeper_start (Keeper *k)
{
  HutchSandboxResult result = { 0 };

  hutch_fd_clear (&k->lock);
  (void) hutch_container_start_restart (k->ctx, k->id, &result, NULL);
  g_free (result.exec_error);
  k->lock = keeper_open (k->ctx, k->id, O_RDWR);
  return k->lock >= 0 && flock (k->lock, LOCK_EX | LOCK_NB) == 0;
}

static void
keeper_loop (Keeper *k, int monitor)
{
  hutch_autofd int pidfd = monitor;

  for (;;)
    {
      Next next;
      if (pidfd >= 0 && !keeper_wait (k, pidfd, -1))
        return;
      hutch_fd_clear (&pidfd);
      next = keeper_look (k, &pidfd);
      if (next == NEXT_DONE)
        return;
      if (next == NEXT_WAIT)
        {
          /* running, but its monitor cannot be watched: look again soon */
          if (pidfd < 0 && !keeper_wait (k, -1, BACKOFF_FIRST_MS))
            return;
          continue;
        }
      if (!keeper_wait (k, -1, k->delay_ms) || !keeper_start (k))
        return;
    }
}

static void
close_from (int first)
{
  g_autoptr (GPtrArray) fds = g_ptr_array_new ();
  DIR *d;
  struct dirent *e;

#ifdef SYS_close_range
  if (syscall (SYS_close_range, (unsigned) first, ~0U, 0) == 0)
    return;
#endif
  /* before Linux 5.9 */
  if ((d = opendir ("/proc/self/fd")) == NULL)
    return;
  while ((e = readdir (d)) != NULL)
    if (g_ascii_isdigit (e->d_name[0]) && atoi (e->d_name) >= first && atoi (e->d_name) != dirfd (d))
      g_ptr_array_add (fds, GINT_TO_POINTER (atoi (e->d_name)));
  closedir (d);
  for (guint i = 0; i < fds->len; i++)
    (void) close (GPOINTER_TO_INT (fds->pdata[i]));
}

/* The keeper's start: stdio on /dev/null, no fd of the monitor's (its
 * live lock would make the container look running for ever), signals to
 * go by on its signalfd. */
static void G_GNUC_NORETURN
keeper_main (const HutchContext *ctx, const char *id, int monitor)
{
  Keeper k = { (HutchContext *) ctx, g_strdup (id), -1, -1, 0, 0 };
  int null = open ("/dev/null", O_RDWR | O_CLOEXEC);
  g_autofree char *pids = NULL;
  guint64 start = 0;
  sigset_t set;

  for (int fd = 0; fd <= 2 && null >= 0; fd++)
    (void) dup2 (null, fd);
  if (dup2 (monitor, 3) < 0)
    _exit (1);
  close_from (4);
  monitor = 3;
  for (int sig = 1; sig < NSIG; sig++)
    if (sig != SIGKILL && sig != SIGSTOP)
      signal (sig, SIG_DFL);
  sigemptyset (&set);
  sigaddset (&set, SIGTERM);
  sigaddset (&set, SIGINT);
  sigaddset (&set, SIGHUP);
  sigprocmask (SIG_SETMASK, &set, NULL);
  k.sfd = signalfd (-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
  k.lock = keeper_open (ctx, id, O_RDWR | O_CREAT);
  /* one keeper a container: one that lives keeps it */
  if (k.sfd < 0 || k.lock < 0 || flock (k.lock, LOCK_EX | LOCK_NB) < 0)
    _exit (0);
  (void) hutch_util_pid_start_time (getpid (), &start);
  pids = g_strdup_printf ("%d %" G_GUINT64_FORMAT "\n", (int) getpid (), start);
  if (ftruncate (k.lock, 0) < 0 || pwrite (k.lock, pids, strlen (pids), 0) < 0)
    _exit (1);
  keeper_loop (&k, monitor);
  _exit (0);
}

void
hutch_container_keeper_spawn (const HutchContext *ctx, const HutchContainer *c)
{
  const char *by = g_getenv (HUTCH_RESTART_BY_ENV);
  hutch_autofd int monitor = -1;
  pid_t pid;
  int status;

  if (c->restart.kind == HUTCH_RESTART_NO || (by != NULL && strcmp (by, "1") == 0))
    return;
  monitor = (int) syscall (SYS_pidfd_open, getpid (), 0);
  if (monitor < 0)
    {
      g_warning ("container %s will not be restarted (--restart %s): watching its monitor: %s",
                 c->name, hutch_container_restart_kind_name (c->restart.kind),
                 g_strerror (errno));
      return;
    }
  hutch_util_assert_single_thread ();
  pid = fork ();
  if (pid == 0)
    {
      /* twice, so that the keeper is no child of the monitor's, and in a
       * session of its own, as the monitor of run -d is */
      if (setsid () < 0 || (pid = fork ()) != 0)
        _exit (pid < 0);
      keeper_main (ctx, c->id, monitor);
    }
  if (pid < 0)
    {
      g_warning ("container %s will not be restarted (--restart %s): fork: %s", c->name,
                 hutch_container_restart_kind_name (c->restart.kind), g_strerror (errno));
      return;
    }
  while (waitpid (pid, &status, 0) < 0 && errno == EINTR)
    ;
}
