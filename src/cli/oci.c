/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* `hutch oci ...` and the `hutch-runtime` link: runc's command line, as
 * podman, conmon, the containerd shim and CRI-O call it. Global options
 * come before the command; errors go to stderr and, with --log, to the
 * log file as the JSON lines ({"level","msg","time"}) conmon and the shim
 * read back; the exit status is 1 on failure, as runc's. The work is
 * oci/'s. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli-private.h"
#include "oci/oci.h"

#define OCI_EXIT_FAILURE 1

typedef struct
{
  HutchOciContext oci;
  int log_fd;        /* --log, or -1: stderr */
  gboolean log_json; /* --log-format json */
} OciCli;

static void
log_line (const OciCli *c, const char *level, const char *msg)
{
  g_autofree char *line = NULL;

  if (c->log_fd >= 0 && c->log_json)
    {
      g_autoptr (HutchJsonWriter) w = hutch_json_writer_new (FALSE);
      g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
      g_autofree char *time = g_date_time_format_iso8601 (now);
      g_autofree char *text = NULL;
      hutch_json_begin_object (w);
      hutch_json_member_string (w, "level", level);
      hutch_json_member_string (w, "msg", msg);
      hutch_json_member_string (w, "time", time);
      hutch_json_end_object (w);
      text = hutch_json_writer_finish (w);
      line = g_strconcat (text, "\n", NULL);
    }
  else
    line = g_strdup_printf ("%s: %s\n", level, msg);
  (void) hutch_util_write_all (c->log_fd >= 0 ? c->log_fd : STDERR_FILENO, line, strlen (line),
                               NULL);
}

static GLogWriterOutput
oci_log_writer (GLogLevelFlags level, const GLogField *fields, gsize n_fields, gpointer data)
{
  const OciCli *c = data;
  const char *message = "";
  const char *name = (level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL)) ? "error"
                     : (level & G_LOG_LEVEL_WARNING)                       ? "warning"
                     : (level & (G_LOG_LEVEL_MESSAGE | G_LOG_LEVEL_INFO))   ? "info"
                                                                            : "debug";

  if (strcmp (name, "debug") == 0 && !c->oci.debug)
    return G_LOG_WRITER_HANDLED;
  for (gsize i = 0; i < n_fields; i++)
    if (strcmp (fields[i].key, "MESSAGE") == 0)
      message = fields[i].value;
  log_line (c, name, message);
  return G_LOG_WRITER_HANDLED;
}

/* runc's way: the message on stderr, and in the log for the caller. */
static int
fail (const OciCli *c, GError *error)
{
  fprintf (stderr, "hutch-runtime: %s\n", error->message);
  if (c->log_fd >= 0)
    log_line (c, "error", error->message);
  g_error_free (error);
  return OCI_EXIT_FAILURE;
}

static int usage (const OciCli *c, const char *fmt, ...) G_GNUC_PRINTF (2, 3);

static int
usage (const OciCli *c, const char *fmt, ...)
{
  va_list ap;
  g_autofree char *msg = NULL;

  va_start (ap, fmt);
  msg = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  return fail (c, g_error_new_literal (HUTCH_ERROR, HUTCH_ERROR_USAGE, msg));
}

/* Options of one command, parsed POSIX-style (they end at the first
 * argument: exec ID CMD -x leaves -x to CMD). */
static gboolean
parse (const OciCli *c, const char *name, const GOptionEntry *entries, int *argc, char ***argv,
       int *out_status)
{
  g_autoptr (GOptionContext) oc = g_option_context_new (NULL);
  g_autoptr (GError) error = NULL;
  g_autofree char *prg = g_strdup_printf ("hutch-runtime %s", name);

  g_set_prgname (prg);
  g_option_context_set_strict_posix (oc, TRUE);
  if (entries != NULL)
    g_option_context_add_main_entries (oc, entries, NULL);
  if (!g_option_context_parse (oc, argc, argv, &error))
    {
      *out_status = fail (c, g_steal_pointer (&error));
      return FALSE;
    }
  return TRUE;
}

/* The one ID argument a command takes. */
static const char *
one_id (const OciCli *c, const char *name, int argc, char **argv, int *out_status)
{
  if (argc < 2)
    {
      *out_status = usage (c, "%s: a container id is needed", name);
      return NULL;
    }
  return argv[1];
}

static int
cmd_create_or_run (const OciCli *c, gboolean run, int argc, char **argv)
{
  HutchOciCreateOptions o = { 0 };
  g_autofree char *bundle = NULL, *pid_file = NULL, *console = NULL;
  gboolean detach = FALSE, keep = FALSE;
  hutch_autofd int master = -1;
  const char *id;
  int status = 0, preserve = 0;
  GError *error = NULL;
  const GOptionEntry entries[] = {
    { "bundle", 'b', 0, G_OPTION_ARG_FILENAME, &bundle, "The bundle directory", "DIR" },
    { "pid-file", 0, 0, G_OPTION_ARG_FILENAME, &pid_file, "Write the process's pid here", "FILE" },
    { "console-socket", 0, 0, G_OPTION_ARG_FILENAME, &console,
      "Unix socket that gets the terminal's master", "SOCK" },
    { "no-pivot", 0, 0, G_OPTION_ARG_NONE, &o.no_pivot, "chroot instead of pivot_root", NULL },
    { "no-new-keyring", 0, 0, G_OPTION_ARG_NONE, &o.no_new_keyring, "Accepted (no keyring is made)",
      NULL },
    { "preserve-fds", 0, 0, G_OPTION_ARG_INT, &preserve, "Pass fds 3..3+N-1 on", "N" },
    { "detach", 'd', 0, G_OPTION_ARG_NONE, &detach, "run: do not wait for the container", NULL },
    { "keep", 0, 0, G_OPTION_ARG_NONE, &keep, "run: keep the state after it ends", NULL },
    { NULL },
  };

  if (!parse (c, run ? "run" : "create", entries, &argc, &argv, &status))
    return status;
  if ((id = one_id (c, run ? "run" : "create", argc, argv, &status)) == NULL)
    return status;
  if (preserve < 0)
    return usage (c, "--preserve-fds %d: expected a count", preserve);
  o.bundle = bundle;
  o.pid_file = pid_file;
  o.console_socket = console;
  o.preserve_fds = preserve;
  /* run waits for the process, relaying its terminal when it has one and
   * no --console-socket takes it */
  if (run && !detach)
    {
      hutch_oci_run_begin ();
      o.out_master = &master;
    }
  if (!hutch_oci_create (&c->oci, id, &o, &error))
    return fail (c, error);
  if (!run)
    return 0;
  if (!hutch_oci_start (&c->oci, id, &error))
    {
      (void) hutch_oci_delete (&c->oci, id, TRUE, NULL);
      return fail (c, error);
    }
  if (detach)
    return 0;
  {
    g_autoptr (HutchOciState) s = hutch_oci_state_load (&c->oci, id, &error);
    if (s == NULL)
      return fail (c, error);
    status = master >= 0 ? hutch_oci_relay (s, master, &error) : hutch_oci_wait (s);
    if (status < 0)
      return fail (c, error);
  }
  if (!keep && !hutch_oci_delete (&c->oci, id, TRUE, &error))
    return fail (c, error);
  return status;
}

static int
cmd_start (const OciCli *c, int argc, char **argv)
{
  GError *error = NULL;
  const char *id;
  int status = 0;

  if (!parse (c, "start", NULL, &argc, &argv, &status)
      || (id = one_id (c, "start", argc, argv, &status)) == NULL)
    return status;
  return hutch_oci_start (&c->oci, id, &error) ? 0 : fail (c, error);
}

static int
cmd_state (const OciCli *c, int argc, char **argv)
{
  g_autoptr (HutchOciState) s = NULL;
  g_autofree char *text = NULL;
  GError *error = NULL;
  const char *id;
  int status = 0;

  if (!parse (c, "state", NULL, &argc, &argv, &status)
      || (id = one_id (c, "state", argc, argv, &status)) == NULL)
    return status;
  s = hutch_oci_state_load (&c->oci, id, &error);
  if (s == NULL)
    return fail (c, error);
  text = hutch_oci_state_json (s, TRUE);
  printf ("%s\n", text);
  return 0;
}

static int
cmd_kill (const OciCli *c, int argc, char **argv)
{
  gboolean all = FALSE;
  GError *error = NULL;
  const char *id;
  int status = 0, sig = SIGTERM;
  const GOptionEntry entries[] = {
    { "all", 'a', 0, G_OPTION_ARG_NONE, &all, "Signal every process of the container", NULL },
    { NULL },
  };

  if (!parse (c, "kill", entries, &argc, &argv, &status)
      || (id = one_id (c, "kill", argc, argv, &status)) == NULL)
    return status;
  if (argc > 2 && (sig = hutch_oci_signal_parse (argv[2])) < 0)
    return usage (c, "kill: unknown signal %s", argv[2]);
  return hutch_oci_kill (&c->oci, id, sig, all, &error) ? 0 : fail (c, error);
}

static int
cmd_delete (const OciCli *c, int argc, char **argv)
{
  gboolean force = FALSE;
  GError *error = NULL;
  const char *id;
  int status = 0;
  const GOptionEntry entries[] = {
    { "force", 'f', 0, G_OPTION_ARG_NONE, &force, "Kill a running container first", NULL },
    { NULL },
  };

  if (!parse (c, "delete", entries, &argc, &argv, &status)
      || (id = one_id (c, "delete", argc, argv, &status)) == NULL)
    return status;
  if (hutch_oci_delete (&c->oci, id, force, &error))
    return 0;
  /* runc: deleting what is not there with --force is no error */
  if (force && g_error_matches (error, HUTCH_ERROR, HUTCH_ERROR_NOT_FOUND))
    {
      g_error_free (error);
      return 0;
    }
  return fail (c, error);
}

static int
cmd_update (const OciCli *c, int argc, char **argv)
{
  g_autofree char *resources = NULL;
  GError *error = NULL;
  const char *id;
  int status = 0;
  const GOptionEntry entries[] = {
    { "resources", 'r', 0, G_OPTION_ARG_FILENAME, &resources,
      "The new linux.resources, as JSON (- for stdin)", "FILE" },
    { NULL },
  };

  if (!parse (c, "update", entries, &argc, &argv, &status)
      || (id = one_id (c, "update", argc, argv, &status)) == NULL)
    return status;
  if (!hutch_oci_update (&c->oci, id, resources, &error))
    return fail (c, error);
  return 0;
}

static int
cmd_list (const OciCli *c, int argc, char **argv)
{
  g_autofree char *format = NULL;
  gboolean quiet = FALSE;
  g_autoptr (GPtrArray) all = NULL;
  GError *error = NULL;
  int status = 0;
  const GOptionEntry entries[] = {
    { "format", 'f', 0, G_OPTION_ARG_STRING, &format, "table or json", "FORMAT" },
    { "quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet, "Only the ids", NULL },
    { NULL },
  };

  if (!parse (c, "list", entries, &argc, &argv, &status))
    return status;
  all = hutch_oci_state_list (&c->oci, &error);
  if (all == NULL)
    return fail (c, error);
  if (g_strcmp0 (format, "json") == 0)
    {
      GString *out = g_string_new ("[");
      for (guint i = 0; i < all->len; i++)
        {
          g_autofree char *one = hutch_oci_state_json (all->pdata[i], FALSE);
          g_string_append_printf (out, "%s%s", i > 0 ? "," : "", one);
        }
      printf ("%s]\n", out->str);
      g_string_free (out, TRUE);
      return 0;
    }
  if (!quiet)
    printf ("%-20s %-8s %-10s %-40s %-30s %s\n", "ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER");
  for (guint i = 0; i < all->len; i++)
    {
      const HutchOciState *s = all->pdata[i];
      if (quiet)
        printf ("%s\n", s->id);
      else
        printf ("%-20s %-8d %-10s %-40s %-30s %s\n", s->id,
                s->status == HUTCH_OCI_STOPPED ? 0 : (int) s->pid, hutch_oci_status_name (s->status),
                s->bundle != NULL ? s->bundle : "", s->created != NULL ? s->created : "",
                s->owner != NULL ? s->owner : "");
    }
  return 0;
}

static int
cmd_ps (const OciCli *c, int argc, char **argv)
{
  g_autofree char *format = NULL;
  g_autoptr (GArray) pids = NULL;
  GError *error = NULL;
  const char *id;
  int status = 0;
  const GOptionEntry entries[] = {
    { "format", 'f', 0, G_OPTION_ARG_STRING, &format, "table or json", "FORMAT" },
    { NULL },
  };

  if (!parse (c, "ps", entries, &argc, &argv, &status)
      || (id = one_id (c, "ps", argc, argv, &status)) == NULL)
    return status;
  pids = hutch_oci_pids (&c->oci, id, &error);
  if (pids == NULL)
    return fail (c, error);
  if (g_strcmp0 (format, "json") == 0)
    {
      printf ("[");
      for (guint i = 0; i < pids->len; i++)
        printf ("%s%d", i > 0 ? "," : "", (int) g_array_index (pids, pid_t, i));
      printf ("]\n");
      return 0;
    }
  printf ("%-8s %s\n", "PID", "CMD");
  for (guint i = 0; i < pids->len; i++)
    {
      pid_t pid = g_array_index (pids, pid_t, i);
      g_autofree char *path = g_strdup_printf ("/proc/%d/comm", (int) pid);
      g_autofree char *comm = hutch_util_read_host_file (path, 64, NULL);
      printf ("%-8d %s\n", (int) pid, comm != NULL ? g_strstrip (comm) : "?");
    }
  return 0;
}

static int
cmd_exec (const OciCli *c, int argc, char **argv)
{
  HutchOciExecOptions o = { 0 };
  g_auto (GStrv) env = NULL, caps = NULL;
  g_autofree char *process = NULL, *cwd = NULL, *user = NULL, *pid_file = NULL, *console = NULL;
  g_autofree char *label = NULL, *apparmor = NULL;
  GError *error = NULL;
  const char *id;
  int status = 0, preserve = 0, exit_status = 0;
  const GOptionEntry entries[] = {
    { "process", 'p', 0, G_OPTION_ARG_FILENAME, &process, "A runtime-spec process JSON", "FILE" },
    { "tty", 't', 0, G_OPTION_ARG_NONE, &o.tty, "A terminal (sent to --console-socket)", NULL },
    { "detach", 'd', 0, G_OPTION_ARG_NONE, &o.detach, "Do not wait for the process", NULL },
    { "pid-file", 0, 0, G_OPTION_ARG_FILENAME, &pid_file, "Write the process's pid here", "FILE" },
    { "console-socket", 0, 0, G_OPTION_ARG_FILENAME, &console, "Where the terminal goes", "SOCK" },
    { "cwd", 0, 0, G_OPTION_ARG_FILENAME, &cwd, "Working directory", "DIR" },
    { "env", 'e', 0, G_OPTION_ARG_STRING_ARRAY, &env, "Set an environment variable", "K=V" },
    { "user", 'u', 0, G_OPTION_ARG_STRING, &user, "UID[:GID]", "UID[:GID]" },
    { "cap", 'c', 0, G_OPTION_ARG_STRING_ARRAY, &caps, "Add a capability", "CAP" },
    { "no-new-privs", 0, 0, G_OPTION_ARG_NONE, &o.no_new_privs, "Set no_new_privs", NULL },
    { "preserve-fds", 0, 0, G_OPTION_ARG_INT, &preserve, "Pass fds 3..3+N-1 on", "N" },
    { "process-label", 0, 0, G_OPTION_ARG_STRING, &label, "Ignored (no SELinux)", "L" },
    { "apparmor", 0, 0, G_OPTION_ARG_STRING, &apparmor, "Ignored (no AppArmor)", "P" },
    { NULL },
  };

  if (!parse (c, "exec", entries, &argc, &argv, &status)
      || (id = one_id (c, "exec", argc, argv, &status)) == NULL)
    return status;
  o.process_file = process;
  o.args = argc > 2 ? argv + 2 : NULL;
  o.cwd = cwd;
  o.env = env;
  o.user = user;
  o.caps = caps;
  o.pid_file = pid_file;
  o.console_socket = console;
  o.preserve_fds = preserve;
  if (!hutch_oci_exec (&c->oci, id, &o, &exit_status, &error))
    {
      fail (c, error);
      return exit_status != 0 ? exit_status : OCI_EXIT_FAILURE;
    }
  return exit_status;
}

static int
cmd_spec (const OciCli *c, int argc, char **argv)
{
  gboolean rootless = FALSE;
  g_autofree char *bundle = NULL, *path = NULL, *text = NULL;
  GError *error = NULL;
  int status = 0;
  const GOptionEntry entries[] = {
    { "rootless", 0, 0, G_OPTION_ARG_NONE, &rootless, "For a container made by a user", NULL },
    { "bundle", 'b', 0, G_OPTION_ARG_FILENAME, &bundle, "Where config.json goes", "DIR" },
    { NULL },
  };

  if (!parse (c, "spec", entries, &argc, &argv, &status))
    return status;
  path = g_build_filename (bundle != NULL ? bundle : ".", "config.json", NULL);
  if (g_file_test (path, G_FILE_TEST_EXISTS))
    return usage (c, "spec: %s exists already", path);
  text = hutch_oci_spec_default (rootless || c->oci.rootless);
  if (!hutch_util_replace_file (path, text, strlen (text), 0644, FALSE, &error))
    return fail (c, error);
  return 0;
}

static int
cmd_features (const OciCli *c, int argc, char **argv)
{
  g_autofree char *text = NULL;
  int status = 0;

  if (!parse (c, "features", NULL, &argc, &argv, &status))
    return status;
  text = hutch_oci_features ();
  printf ("%s\n", text);
  return 0;
}

static int
cmd_unsupported (const OciCli *c, int argc, char **argv)
{
  (void) argc;
  return usage (c, "%s: hutch's runtime has no cgroup of its own to freeze yet", argv[0]);
}

static const struct
{
  const char *name;
  const char *summary;
  int (*run) (const OciCli *c, int argc, char **argv);
} commands[] = {
  { "create", "create a container from a bundle, its process waiting for start", NULL },
  { "start", "let a created container's process run", cmd_start },
  { "run", "create and start a container, and wait for it", NULL },
  { "state", "print a container's state (runtime-spec JSON)", cmd_state },
  { "kill", "send a signal (default TERM) to a container", cmd_kill },
  { "delete", "remove a stopped container (--force: any)", cmd_delete },
  { "exec", "run a process in a running container", cmd_exec },
  { "list", "list the containers under --root", cmd_list },
  { "ps", "list a container's processes", cmd_ps },
  { "spec", "write a default config.json", cmd_spec },
  { "features", "print what this runtime supports (JSON)", cmd_features },
  { "pause", "(not supported)", cmd_unsupported },
  { "resume", "(not supported)", cmd_unsupported },
  { "update", "change a container's linux.resources (--resources FILE)", cmd_update },
};

static void
help (void)
{
  printf ("Usage: hutch-runtime [GLOBAL OPTIONS] COMMAND [OPTIONS] [ID]\n"
          "       hutch oci [GLOBAL OPTIONS] COMMAND ...\n\n"
          "hutch as an OCI runtime, with runc's command line.\n\nCommands:\n");
  for (gsize i = 0; i < G_N_ELEMENTS (commands); i++)
    printf ("  %-10s %s\n", commands[i].name, commands[i].summary);
  printf ("\nGlobal options:\n"
          "  --root DIR          state directory (default $XDG_RUNTIME_DIR/hutch-runtime,\n"
          "                      /run/hutch-runtime as root)\n"
          "  --log FILE          log errors and warnings here\n"
          "  --log-format FMT    text or json\n"
          "  --debug             debug messages too\n"
          "  --systemd-cgroup    accepted (no cgroup is made)\n"
          "  --rootless[=BOOL]   accepted; spec --rootless\n"
          "  -v, --version       print the version\n"
          "  -h, --help          show this help\n");
}

/* For `hutch __complete oci`: the global options, as --help lists them. */
static void
complete_options (void)
{
  static const GOptionEntry globals[] = {
    { "root", 0, 0, G_OPTION_ARG_FILENAME, NULL, NULL, NULL },
    { "log", 0, 0, G_OPTION_ARG_FILENAME, NULL, NULL, NULL },
    { "log-format", 0, 0, G_OPTION_ARG_STRING, NULL, NULL, NULL },
    { "debug", 0, 0, G_OPTION_ARG_NONE, NULL, NULL, NULL },
    { "systemd-cgroup", 0, 0, G_OPTION_ARG_NONE, NULL, NULL, NULL },
    { "rootless", 0, 0, G_OPTION_ARG_NONE, NULL, NULL, NULL },
    { "version", 'v', 0, G_OPTION_ARG_NONE, NULL, NULL, NULL },
    { "help", 'h', 0, G_OPTION_ARG_NONE, NULL, NULL, NULL },
    { NULL },
  };

  hutch_cli_complete_print_options (globals);
}

/* --opt VALUE or --opt=VALUE at argv[*i]; NULL when @name is not it. */
static const char *
global_value (int argc, char **argv, int *i, const char *name, gboolean *bad)
{
  gsize n = strlen (name);

  if (strncmp (argv[*i], name, n) != 0)
    return NULL;
  if (argv[*i][n] == '=')
    return argv[*i] + n + 1;
  if (argv[*i][n] != '\0')
    return NULL;
  if (*i + 1 >= argc)
    {
      *bad = TRUE;
      return NULL;
    }
  return argv[++*i];
}

int
hutch_cli_oci_main (int argc, char **argv)
{
  OciCli c = { { 0 }, -1, FALSE };
  g_autofree char *root = NULL;
  int i = 1, status;

  if (g_getenv (HUTCH_CLI_COMPLETE_ENV) != NULL)
    {
      complete_options ();
      return 0;
    }
  for (; i < argc && argv[i][0] == '-'; i++)
    {
      const char *v;
      gboolean bad = FALSE;
      if ((v = global_value (argc, argv, &i, "--root", &bad)) != NULL)
        c.oci.root = root = g_strdup (v);
      else if ((v = global_value (argc, argv, &i, "--log", &bad)) != NULL)
        {
          hutch_fd_clear (&c.log_fd);
          c.log_fd = open (v, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
        }
      else if ((v = global_value (argc, argv, &i, "--log-format", &bad)) != NULL)
        c.log_json = strcmp (v, "json") == 0;
      else if ((v = global_value (argc, argv, &i, "--criu", &bad)) != NULL
               || (v = global_value (argc, argv, &i, "--log-level", &bad)) != NULL)
        ;
      else if (strcmp (argv[i], "--debug") == 0)
        c.oci.debug = TRUE;
      else if (strcmp (argv[i], "--systemd-cgroup") == 0)
        c.oci.systemd_cgroup = TRUE;
      else if (g_str_has_prefix (argv[i], "--rootless"))
        c.oci.rootless = strcmp (argv[i], "--rootless=false") != 0;
      else if (strcmp (argv[i], "--version") == 0 || strcmp (argv[i], "-v") == 0)
        {
          printf ("hutch-runtime version " HUTCH_VERSION "\nspec: 1.2.0\n");
          return 0;
        }
      else if (strcmp (argv[i], "--help") == 0 || strcmp (argv[i], "-h") == 0)
        {
          help ();
          return 0;
        }
      else
        bad = TRUE;
      if (bad)
        {
          fprintf (stderr, "hutch-runtime: unknown or incomplete global option %s\n", argv[i]);
          return OCI_EXIT_FAILURE;
        }
    }
  g_log_set_writer_func (oci_log_writer, &c, NULL);
  if (i >= argc)
    {
      help ();
      status = OCI_EXIT_FAILURE;
    }
  else if (strcmp (argv[i], "create") == 0 || strcmp (argv[i], "run") == 0)
    status = cmd_create_or_run (&c, strcmp (argv[i], "run") == 0, argc - i, argv + i);
  else
    {
      status = -1;
      for (gsize k = 0; k < G_N_ELEMENTS (commands) && status < 0; k++)
        if (commands[k].run != NULL && strcmp (argv[i], commands[k].name) == 0)
          status = commands[k].run (&c, argc - i, argv + i);
      if (status < 0)
        status = usage (&c, "unknown command \"%s\" (see --help)", argv[i]);
    }
  hutch_fd_clear (&c.log_fd);
  return status;
}

static int
run_oci (const HutchCliCommand *cmd, HutchContext *ctx, int argc, char **argv)
{
  (void) cmd;
  (void) ctx;
  return hutch_cli_oci_main (argc, argv);
}

const HutchCliCommand hutch_cli_command_oci = {
  "oci", "[GLOBAL OPTIONS] COMMAND [OPTIONS] ID",
  "Act as an OCI runtime (runc's command line; also the hutch-runtime link)", run_oci,
};
