/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The runtime's commands on a container's state: create (config.json read
 * before anything is made, so a bad bundle leaves nothing; everything made
 * undone when a later step fails), start through the exec fifo, kill with a
 * pidfd checked against the process's start time, delete, the pids of a
 * container, and `run`'s wait. exec is exec.c's. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "oci-private.h"

HutchOciConfig *
hutch_oci_state_config (const HutchOciState *s, GError **error)
{
  g_autofree char *path = g_build_filename (s->dir, HUTCH_OCI_CONFIG_COPY, NULL);

  return hutch_oci_config_load (path, s->bundle != NULL ? s->bundle : "/", error);
}

int
hutch_oci_console_connect (const char *path, GError **error)
{
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  hutch_autofd int fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

  if (strlen (path) >= sizeof addr.sun_path)
    return hutch_throw (error, HUTCH_ERROR_USAGE, "--console-socket %s: path too long", path), -1;
  strcpy (addr.sun_path, path);
  if (fd < 0 || connect (fd, (struct sockaddr *) &addr, sizeof addr) < 0)
    return hutch_throw_errno (error, "--console-socket %s", path), -1;
  return hutch_fd_steal (&fd);
}

static char *
now_rfc3339 (void)
{
  g_autoptr (GDateTime) now = g_date_time_new_now_utc ();

  return g_date_time_format (now, "%Y-%m-%dT%H:%M:%S.%fZ");
}

static gboolean
write_pid_file (const char *path, pid_t pid, GError **error)
{
  g_autofree char *text = g_strdup_printf ("%d", (int) pid);

  if (!hutch_util_replace_file (path, text, strlen (text), 0644, FALSE, error))
    {
      g_prefix_error (error, "--pid-file: ");
      return FALSE;
    }
  return TRUE;
}

static gboolean
copy_config (const char *from, const char *dir, GError **error)
{
  g_autofree char *text = NULL;
  g_autofree char *to = g_build_filename (dir, HUTCH_OCI_CONFIG_COPY, NULL);
  gsize len;

  return g_file_get_contents (from, &text, &len, error)
         && hutch_util_replace_file (to, text, len, 0600, FALSE, error);
}

/* What the hooks of create are given (sandbox/ calls back with it). */
typedef struct
{
  HutchOciState *state;
  HutchOciConfig *cfg;
} CreateHooks;

/* prestart and createRuntime: the runtime's, while the process waits with
 * its mounts made (runtime-spec: in the runtime's namespaces, after the
 * container's are made, before pivot_root); the state has the pid as the
 * runtime sees it. */
static gboolean
runtime_hooks (pid_t pid, gconstpointer data, GError **error)
{
  const CreateHooks *h = data;
  g_autofree char *state = NULL;

  h->state->pid = pid;
  state = hutch_oci_state_json (h->state, FALSE);
  return hutch_sandbox_hooks_run (h->cfg->hooks[HUTCH_OCI_HOOK_PRESTART], "prestart", state, error)
         && hutch_sandbox_hooks_run (h->cfg->hooks[HUTCH_OCI_HOOK_CREATE_RUNTIME], "createRuntime",
                                     state, error);
}

/* createContainer and startContainer: in the process, which passes its
 * own pid as it sees it (runc does the same) */
static char *
process_hook_state (const char *status, pid_t pid, gconstpointer data)
{
  const CreateHooks *h = data;
  HutchOciState copy = *h->state;

  copy.pid = pid;
  copy.status = strcmp (status, "creating") == 0 ? HUTCH_OCI_CREATING : HUTCH_OCI_CREATED;
  return hutch_oci_state_json (&copy, FALSE);
}

static gboolean
has_hooks (const HutchOciConfig *cfg, HutchOciHookKind kind)
{
  return cfg->hooks[kind] != NULL && cfg->hooks[kind]->len > 0;
}

/* Everything of create after the state directory exists; the caller
 * removes it when this fails. */
static gboolean
create_in (const char *id, const char *dir, const char *config_path, HutchOciConfig *cfg,
           const HutchOciCreateOptions *opts, GError **error)
{
  g_autofree char *fifo = g_build_filename (dir, HUTCH_OCI_FIFO, NULL);
  hutch_autofd int fifo_fd = -1, console_fd = -1, relay_fd = -1;
  g_autoptr (HutchOciState) s = g_new0 (HutchOciState, 1);
  CreateHooks hooks = { s, cfg };

  if (!copy_config (config_path, dir, error))
    return FALSE;
  if (mkfifo (fifo, 0600) < 0)
    return hutch_throw_errno (error, "creating %s", fifo);
  fifo_fd = open (fifo, O_PATH | O_CLOEXEC);
  if (fifo_fd < 0)
    return hutch_throw_errno (error, "opening %s", fifo);
  if (opts->console_socket != NULL && (console_fd = hutch_oci_console_connect (opts->console_socket, error)) < 0)
    return FALSE;
  if (opts->console_socket == NULL && opts->out_master != NULL && cfg->sandbox.process.terminal)
    {
      /* runc run's own terminal: the process sends its master to us */
      int pair[2];
      if (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) < 0)
        return hutch_throw_errno (error, "creating the terminal's socket");
      relay_fd = pair[0];
      console_fd = pair[1];
    }
  s->id = g_strdup (id);
  s->dir = g_strdup (dir);
  s->bundle = g_strdup (cfg->bundle);
  s->rootfs = g_strdup (cfg->sandbox.rootfs);
  s->created = now_rfc3339 ();
  s->owner = hutch_oci_owner ();
  s->status = HUTCH_OCI_CREATING;
  s->annotations = g_steal_pointer (&cfg->annotations);
  cfg->sandbox.fifo_fd = fifo_fd;
  cfg->sandbox.console_fd = console_fd;
  cfg->sandbox.no_pivot = opts->no_pivot;
  cfg->sandbox.preserve_fds = opts->preserve_fds;
  /* the hook stop costs a round trip: only when there is a hook for it */
  if (has_hooks (cfg, HUTCH_OCI_HOOK_PRESTART) || has_hooks (cfg, HUTCH_OCI_HOOK_CREATE_RUNTIME))
    cfg->sandbox.runtime_hooks = runtime_hooks;
  cfg->sandbox.create_hooks = cfg->hooks[HUTCH_OCI_HOOK_CREATE_CONTAINER];
  cfg->sandbox.start_hooks = cfg->hooks[HUTCH_OCI_HOOK_START_CONTAINER];
  cfg->sandbox.hook_state = process_hook_state;
  cfg->sandbox.hooks_data = &hooks;
  s->pid = hutch_sandbox_bundle_create (&cfg->sandbox, error);
  if (s->pid < 0)
    return FALSE;
  s->status = HUTCH_OCI_CREATED;
  if (!hutch_util_pid_start_time (s->pid, &s->start_time))
    return hutch_throw (error, HUTCH_ERROR_FAILED, "the container's process ended while created");
  if (relay_fd >= 0)
    {
      char tag;
      /* sent before the process said it was ready: there already */
      if (hutch_util_recv_fds (relay_fd, &tag, opts->out_master, 1) != 1)
        {
          (void) kill (s->pid, SIGKILL);
          return hutch_throw (error, HUTCH_ERROR_FAILED, "the container's terminal did not come");
        }
    }
  if (!hutch_oci_state_save (s, error)
      || (opts->pid_file != NULL && !write_pid_file (opts->pid_file, s->pid, error)))
    {
      /* a failed create leaves no process behind */
      (void) kill (s->pid, SIGKILL);
      return FALSE;
    }
  return TRUE;
}

gboolean
hutch_oci_create (const HutchOciContext *ctx, const char *id, const HutchOciCreateOptions *opts,
                  GError **error)
{
  g_autofree char *cwd = g_get_current_dir ();
  g_autofree char *bundle = NULL, *config_path = NULL, *dir = NULL;
  g_autoptr (HutchOciConfig) cfg = NULL;

  if (!hutch_oci_id_validate (id, error))
    return FALSE;
  bundle = opts->bundle == NULL ? g_strdup (cwd)
           : g_path_is_absolute (opts->bundle) ? g_strdup (opts->bundle)
                                               : g_build_filename (cwd, opts->bundle, NULL);
  config_path = g_build_filename (bundle, "config.json", NULL);
  if (!g_file_test (config_path, G_FILE_TEST_EXISTS))
    return hutch_throw (error, HUTCH_ERROR_NOT_FOUND, "bundle %s has no config.json", bundle);
  cfg = hutch_oci_config_load (config_path, bundle, error);
  if (cfg == NULL || !hutch_oci_resources_check (cfg->resources, cfg->cgroups_path, error))
    return FALSE;
  dir = hutch_oci_state_dir (ctx, id, TRUE, error);
  if (dir == NULL)
    return FALSE;
  if (!create_in (id, dir, config_path, cfg, opts, error))
    {
      (void) hutch_oci_state_remove (dir, NULL);
      return FALSE;
    }
  return TRUE;
}

/* the process that waits for start: gone, or a zombie, it never will */
static gboolean
alive_cb (gconstpointer data)
{
  const HutchOciState *s = data;

  return hutch_oci_process_alive (s->pid, s->start_time);
}

gboolean
hutch_oci_start (const HutchOciContext *ctx, const char *id, GError **error)
{
  g_autoptr (HutchOciState) s = hutch_oci_state_load (ctx, id, error);
  g_autoptr (HutchOciConfig) cfg = NULL;
  g_autoptr (GError) hook_error = NULL;
  g_autofree char *state = NULL, *fifo = NULL;

  if (s == NULL)
    return FALSE;
  if (s->status != HUTCH_OCI_CREATED)
    return hutch_throw (error, HUTCH_ERROR_USAGE, "cannot start container %s: it is %s, not created",
                        id, hutch_oci_status_name (s->status));
  cfg = hutch_oci_state_config (s, error);
  if (cfg == NULL)
    return FALSE;
  fifo = g_build_filename (s->dir, HUTCH_OCI_FIFO, NULL);
  if (!hutch_sandbox_bundle_start (fifo, alive_cb, s, error))
    return g_prefix_error (error, "starting container %s: ", id), FALSE;
  s->status = HUTCH_OCI_RUNNING;
  state = hutch_oci_state_json (s, FALSE);
  /* the container runs: a failing poststart hook is a warning (runtime-spec) */
  if (!hutch_sandbox_hooks_run (cfg->hooks[HUTCH_OCI_HOOK_POSTSTART], "poststart", state, &hook_error))
    g_warning ("%s", hook_error->message);
  return TRUE;
}

/* Each process of the container: those in its pid namespace when it has
 * its own, else its process alone. */
GArray *
hutch_oci_pids (const HutchOciContext *ctx, const char *id, GError **error)
{
  g_autoptr (HutchOciState) s = hutch_oci_state_load (ctx, id, error);
  GArray *pids;
  struct stat theirs, ours;
  g_autofree char *ns = NULL;
  DIR *d;
  struct dirent *e;

  if (s == NULL)
    return NULL;
  pids = g_array_new (FALSE, FALSE, sizeof (pid_t));
  if (s->status == HUTCH_OCI_STOPPED || s->status == HUTCH_OCI_CREATING)
    return pids;
  ns = g_strdup_printf ("/proc/%d/ns/pid", (int) s->pid);
  if (stat (ns, &theirs) < 0 || stat ("/proc/self/ns/pid", &ours) < 0
      || theirs.st_ino == ours.st_ino || (d = opendir ("/proc")) == NULL)
    {
      g_array_append_val (pids, s->pid);
      return pids;
    }
  while ((e = readdir (d)) != NULL)
    {
      g_autofree char *p = NULL;
      struct stat st;
      pid_t pid = (pid_t) g_ascii_strtoll (e->d_name, NULL, 10);
      if (pid <= 0)
        continue;
      p = g_strdup_printf ("/proc/%d/ns/pid", (int) pid);
      if (stat (p, &st) == 0 && st.st_ino == theirs.st_ino && st.st_dev == theirs.st_dev)
        g_array_append_val (pids, pid);
    }
  closedir (d);
  return pids;
}

gboolean
hutch_oci_kill (const HutchOciContext *ctx, const char *id, int sig, gboolean all, GError **error)
{
  g_autoptr (HutchOciState) s = hutch_oci_state_load (ctx, id, error);
  g_autofree char *what = NULL;
  hutch_autofd int pidfd = -1;

  if (s == NULL)
    return FALSE;
  if (s->status == HUTCH_OCI_STOPPED || s->status == HUTCH_OCI_CREATING)
    return hutch_throw (error, HUTCH_ERROR_NOT_FOUND, "container %s is not running", id);
  what = g_strdup_printf ("container %s's process", id);
  pidfd = hutch_util_pidfd_open_checked (s->pid, s->start_time, what, error);
  if (pidfd < 0 || !hutch_util_pidfd_signal (pidfd, sig, error))
    return FALSE;
  if (all)
    {
      g_autoptr (GArray) pids = hutch_oci_pids (ctx, id, NULL);
      for (guint i = 0; pids != NULL && i < pids->len; i++)
        if (g_array_index (pids, pid_t, i) != s->pid)
          (void) kill (g_array_index (pids, pid_t, i), sig);
    }
  return TRUE;
}

/* Up to 10 s for a killed process to be gone (its reaper is not us). */
static gboolean
wait_gone (const HutchOciState *s, GError **error)
{
  for (int i = 0; i < 1000; i++)
    {
      if (!hutch_oci_process_alive (s->pid, s->start_time))
        return TRUE;
      g_usleep (10000);
    }
  return hutch_throw (error, HUTCH_ERROR_BUSY, "container %s: its process did not end after SIGKILL",
                      s->id);
}

gboolean
hutch_oci_delete (const HutchOciContext *ctx, const char *id, gboolean force, GError **error)
{
  g_autoptr (HutchOciState) s = hutch_oci_state_load (ctx, id, error);
  g_autoptr (HutchOciConfig) cfg = NULL;
  g_autoptr (GError) hook_error = NULL;
  g_autofree char *state = NULL;

  if (s == NULL)
    return FALSE;
  if ((s->status == HUTCH_OCI_RUNNING || s->status == HUTCH_OCI_CREATING) && !force)
    return hutch_throw (error, HUTCH_ERROR_BUSY,
                        "cannot delete container %s that is not stopped: %s", id,
                        hutch_oci_status_name (s->status));
  if (s->status == HUTCH_OCI_RUNNING || s->status == HUTCH_OCI_CREATED)
    {
      /* a created container is deleted without --force, as runc does */
      if (kill (s->pid, SIGKILL) < 0 && errno != ESRCH)
        return hutch_throw_errno (error, "killing container %s", id);
      if (!wait_gone (s, error))
        return FALSE;
    }
  s->status = HUTCH_OCI_STOPPED;
  cfg = s->bundle != NULL ? hutch_oci_state_config (s, NULL) : NULL;
  if (!hutch_oci_state_remove (s->dir, error))
    return FALSE;
  state = hutch_oci_state_json (s, FALSE);
  if (cfg != NULL
      && !hutch_sandbox_hooks_run (cfg->hooks[HUTCH_OCI_HOOK_POSTSTOP], "poststop", state, &hook_error))
    g_warning ("%s", hook_error->message);
  return TRUE;
}

static void
forwarded_set (sigset_t *set)
{
  static const int passed[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH };

  sigemptyset (set);
  for (gsize i = 0; i < G_N_ELEMENTS (passed); i++)
    sigaddset (set, passed[i]);
  sigaddset (set, SIGCHLD);
}

void
hutch_oci_run_begin (void)
{
  sigset_t set;

  /* the intermediate leaves the process to us */
  (void) prctl (PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
  forwarded_set (&set);
  sigprocmask (SIG_BLOCK, &set, NULL);
}

int
hutch_oci_relay (const HutchOciState *s, int master, GError **error)
{
  sigset_t set;

  forwarded_set (&set);
  sigprocmask (SIG_BLOCK, &set, NULL);
  return hutch_sandbox_bundle_relay (s->pid, master, &set, error);
}

int
hutch_oci_wait (const HutchOciState *s)
{
  sigset_t set;
  int status;

  forwarded_set (&set);
  sigprocmask (SIG_BLOCK, &set, NULL);
  for (;;)
    {
      pid_t gone;
      int sig;
      /* reap every orphan handed to us; end with the container's process.
       * Looked at before the first wait: it may have ended already, its
       * SIGCHLD dropped while still unblocked. */
      while ((gone = waitpid (-1, &status, WNOHANG)) > 0)
        if (gone == s->pid)
          return WIFEXITED (status) ? WEXITSTATUS (status) : 128 + WTERMSIG (status);
      if (gone < 0 && errno == ECHILD)
        return 255;
      sig = sigwaitinfo (&set, NULL);
      if (sig > 0 && sig != SIGCHLD)
        (void) kill (s->pid, sig);
    }
}

int
hutch_oci_signal_parse (const char *text)
{
  static const struct
  {
    const char *name;
    int sig;
  } sigs[] = {
    { "HUP", SIGHUP },   { "INT", SIGINT },     { "QUIT", SIGQUIT },   { "ILL", SIGILL },
    { "TRAP", SIGTRAP }, { "ABRT", SIGABRT },   { "BUS", SIGBUS },     { "FPE", SIGFPE },
    { "KILL", SIGKILL }, { "USR1", SIGUSR1 },   { "SEGV", SIGSEGV },   { "USR2", SIGUSR2 },
    { "PIPE", SIGPIPE }, { "ALRM", SIGALRM },   { "TERM", SIGTERM },   { "CHLD", SIGCHLD },
    { "CONT", SIGCONT }, { "STOP", SIGSTOP },   { "TSTP", SIGTSTP },   { "TTIN", SIGTTIN },
    { "TTOU", SIGTTOU }, { "URG", SIGURG },     { "XCPU", SIGXCPU },   { "XFSZ", SIGXFSZ },
    { "VTALRM", SIGVTALRM }, { "PROF", SIGPROF }, { "WINCH", SIGWINCH }, { "IO", SIGIO },
    { "PWR", SIGPWR },   { "SYS", SIGSYS },
  };
  const char *name = g_str_has_prefix (text, "SIG") ? text + 3 : text;
  char *end = NULL;
  gint64 n = g_ascii_strtoll (text, &end, 10);

  if (end != text && *end == '\0')
    return n > 0 && n < NSIG ? (int) n : -1;
  for (gsize i = 0; i < G_N_ELEMENTS (sigs); i++)
    if (g_ascii_strcasecmp (name, sigs[i].name) == 0)
      return sigs[i].sig;
  return -1;
}
