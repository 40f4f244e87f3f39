/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* hutch's entry: global options, the command table and dispatch, the log
 * writer, and the shared usage-error and failure paths of every command. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "cli-private.h"
#include "store/store.h"

static gsize name_distance (const char *typed, const char *name);

static const HutchCliCommand *const commands[] = {
  &hutch_cli_command_run,
  &hutch_cli_command_create,
  &hutch_cli_command_start,
  &hutch_cli_command_ps,
  &hutch_cli_command_logs,
  &hutch_cli_command_attach,
  &hutch_cli_command_events,
  &hutch_cli_command_exec,
  &hutch_cli_command_cp,
  &hutch_cli_command_export,
  &hutch_cli_command_stop,
  &hutch_cli_command_kill,
  &hutch_cli_command_restart,
  &hutch_cli_command_wait,
  &hutch_cli_command_diff,
  &hutch_cli_command_commit,
  &hutch_cli_command_build,
  &hutch_cli_command_rm,
  &hutch_cli_command_inspect,
  &hutch_cli_command_port,
  &hutch_cli_command_stats,
  &hutch_cli_command_healthcheck,
  &hutch_cli_command_container,
  &hutch_cli_command_generate,
  &hutch_cli_command_pull,
  &hutch_cli_command_push,
  &hutch_cli_command_load,
  &hutch_cli_command_import,
  &hutch_cli_command_save,
  &hutch_cli_command_images,
  &hutch_cli_command_image,
  &hutch_cli_command_tag,
  &hutch_cli_command_rmi,
  &hutch_cli_command_volume,
  &hutch_cli_command_system,
  &hutch_cli_command_login,
  &hutch_cli_command_logout,
  &hutch_cli_command_shell,
  &hutch_cli_command_unshare,
  &hutch_cli_command_check,
  &hutch_cli_command_info,
  &hutch_cli_command_help,
  &hutch_cli_command_version,
  &hutch_cli_command_completion,
  &hutch_cli_command_complete,
  &hutch_cli_command_rename,
  &hutch_cli_command_pause,
  &hutch_cli_command_unpause,
  &hutch_cli_command_top,
  &hutch_cli_command_history,
  &hutch_cli_command_oci,
  NULL,
};

const HutchCliCommand *const *
hutch_cli_commands (void)
{
  return commands;
}

const HutchCliCommand *
hutch_cli_command_find (const char *name)
{
  for (const HutchCliCommand *const *c = commands; *c != NULL; c++)
    if (strcmp ((*c)->name, name) == 0)
      return *c;
  return NULL;
}

int
hutch_cli_usage_error (const HutchCliCommand *cmd, const char *fmt, ...)
{
  g_autofree char *msg = NULL;
  va_list ap;

  va_start (ap, fmt);
  msg = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  if (cmd != NULL)
    fprintf (stderr, "hutch %s: %s\nUsage: hutch %s %s\nRun 'hutch help %s' for its options.\n",
             cmd->name, msg, cmd->name, cmd->params, cmd->name);
  else
    fprintf (stderr, "hutch: %s\nUsage: hutch [OPTIONS] COMMAND [ARG...]\n"
                     "Run 'hutch --help' for the list of commands.\n", msg);
  return HUTCH_EXIT_FAILURE;
}

int
hutch_cli_fail (GError *error)
{
  fprintf (stderr, "hutch: %s\n", error->message);
  g_error_free (error);
  return HUTCH_EXIT_FAILURE;
}

int
hutch_cli_run_group (const HutchCliCommand *group, const HutchCliCommand *const *subs,
                     HutchContext *ctx, int argc, char **argv)
{
  if (argc < 2 && g_getenv (HUTCH_CLI_COMPLETE_ENV) != NULL)
    {
      for (const HutchCliCommand *const *c = subs; *c != NULL; c++)
        printf ("@%s\n", (*c)->name + strlen (group->name) + 1);
      return 0;
    }
  if (argc >= 2 && strcmp (argv[1], "--help") != 0 && strcmp (argv[1], "-h") != 0)
    {
      /* what docker spells differently: container list/ps, image remove */
      static const char *const aliases[][2] = { { "list", "ls" }, { "ps", "ls" }, { "remove", "rm" } };
      g_autofree char *want = g_strdup_printf ("%s %s", group->name, argv[1]);
      const char *near = NULL;
      gsize best = 3 * 64; /* at most two edits (name_distance) */
      for (gsize a = 0; a <= G_N_ELEMENTS (aliases); a++)
        {
          g_autofree char *name = a == 0 ? g_strdup (want)
                                  : strcmp (argv[1], aliases[a - 1][0]) == 0
                                      ? g_strdup_printf ("%s %s", group->name, aliases[a - 1][1])
                                      : NULL;
          for (const HutchCliCommand *const *c = subs; name != NULL && *c != NULL; c++)
            if (strcmp ((*c)->name, name) == 0)
              return (*c)->run (*c, ctx, argc - 1, argv + 1);
        }
      for (const HutchCliCommand *const *c = subs; *c != NULL; c++)
        {
          const char *sub = (*c)->name + strlen (group->name) + 1;
          gsize d = name_distance (argv[1], sub);
          if (d < best)
            best = d, near = sub;
        }
      if (near != NULL)
        return hutch_cli_usage_error (group, "unknown command \"%s\" (did you mean \"%s %s\"?)", want,
                                      group->name, near);
      return hutch_cli_usage_error (group, "unknown command \"%s\"", want);
    }
  printf ("Usage: hutch %s COMMAND\n\n%s\n\nCommands:\n", group->name, group->summary);
  for (const HutchCliCommand *const *c = subs; *c != NULL; c++)
    printf ("  %-16s %s\n", (*c)->name + strlen (group->name) + 1, (*c)->summary);
  return argc >= 2 ? 0 : HUTCH_EXIT_FAILURE;
}

char *
hutch_cli_format_ago (gint64 unix_time)
{
  gint64 s = g_get_real_time () / G_USEC_PER_SEC - unix_time;

  if (unix_time <= 0)
    return g_strdup ("unknown");
  if (s < 1)
    return g_strdup ("Less than a second ago");
  if (s < 60)
    return g_strdup_printf ("%" G_GINT64_FORMAT " second%s ago", s, s == 1 ? "" : "s");
  if (s < 120)
    return g_strdup ("About a minute ago");
  if (s < 3600)
    return g_strdup_printf ("%" G_GINT64_FORMAT " minutes ago", s / 60);
  if (s < 7200)
    return g_strdup ("About an hour ago");
  if (s < 2 * 86400)
    return g_strdup_printf ("%" G_GINT64_FORMAT " hours ago", s / 3600);
  if (s < 14 * 86400)
    return g_strdup_printf ("%" G_GINT64_FORMAT " days ago", s / 86400);
  if (s < 60 * 86400)
    return g_strdup_printf ("%" G_GINT64_FORMAT " weeks ago", s / (7 * 86400));
  if (s < 2 * 365 * 86400)
    return g_strdup_printf ("%" G_GINT64_FORMAT " months ago", s / (30 * 86400));
  return g_strdup_printf ("%" G_GINT64_FORMAT " years ago", s / (365 * 86400));
}

/* go-units' HumanSizeWithPrecision (size, 3), as docker prints sizes. */
char *
hutch_cli_format_size_docker (gint64 bytes)
{
  static const char *const units[] = { "B", "kB", "MB", "GB", "TB", "PB" };
  double size = (double) MAX (bytes, 0);
  guint i = 0;
  char buf[G_ASCII_DTOSTR_BUF_SIZE];

  while (size >= 1000 && i + 1 < G_N_ELEMENTS (units))
    size /= 1000, i++;
  g_ascii_formatd (buf, sizeof buf, "%.3g", size);
  return g_strconcat (buf, units[i], NULL);
}

char *
hutch_cli_format_size (gint64 bytes)
{
  /* a plain space before the unit: scripts and column alignment want it,
   * as podman prints */
  return hutch_util_format_size ((guint64) MAX (bytes, 0));
}

gboolean
hutch_cli_format_parse (const char *text, HutchFormat *out_format, GError **error)
{
  if (text == NULL || strcmp (text, "text") == 0 || strcmp (text, "table") == 0)
    *out_format = HUTCH_FORMAT_TEXT;
  else if (strcmp (text, "json") == 0)
    *out_format = HUTCH_FORMAT_JSON;
  else
    return hutch_throw (error, HUTCH_ERROR_USAGE, "unknown format \"%s\" (use text or json)",
                        text);
  return TRUE;
}

static gboolean
parse_options (const HutchCliCommand *cmd, const GOptionEntry *entries, int *argc, char ***argv,
               int *out_status, gboolean posix);
static const char *closest_option (const GOptionEntry *entries, const char *arg);
static const char *unknown_long_option (const GOptionEntry *entries, char **argv, int argc);

gboolean
hutch_cli_parse (const HutchCliCommand *cmd, const GOptionEntry *entries, int *argc,
                 char ***argv, int *out_status)
{
  return parse_options (cmd, entries, argc, argv, out_status, FALSE);
}

gboolean
hutch_cli_parse_no_args (const HutchCliCommand *cmd, const GOptionEntry *entries, int argc,
                         char **argv, int *out_status)
{
  if (!parse_options (cmd, entries, &argc, &argv, out_status, FALSE))
    return FALSE;
  if (argc > 1)
    {
      *out_status = hutch_cli_usage_error (cmd, "unexpected argument \"%s\"", argv[1]);
      return FALSE;
    }
  return TRUE;
}

gboolean
hutch_cli_parse_posix (const HutchCliCommand *cmd, const GOptionEntry *entries, int *argc,
                       char ***argv, int *out_status)
{
  return parse_options (cmd, entries, argc, argv, out_status, TRUE);
}

static gboolean
parse_options (const HutchCliCommand *cmd, const GOptionEntry *entries, int *argc, char ***argv,
               int *out_status, gboolean posix)
{
  g_autofree char *params = g_strdup (cmd->params);
  g_autoptr (GOptionContext) oc = NULL;
  g_autoptr (GError) error = NULL;
  gboolean help = FALSE;
  const GOptionEntry help_entries[] = {
    { "help", 'h', 0, G_OPTION_ARG_NONE, &help, "Show this help", NULL },
    { NULL },
  };

  /* "[OPTIONS] X" reads better in the usage line than GOption's own. */
  if (g_str_has_prefix (params, "[OPTIONS]"))
    memmove (params, params + strlen ("[OPTIONS]"), strlen (params) - strlen ("[OPTIONS]") + 1);
  oc = g_option_context_new (g_strstrip (params));
  g_option_context_set_summary (oc, cmd->summary);
  g_option_context_set_help_enabled (oc, FALSE);
  /* run: options end at the image; what follows is the command's */
  g_option_context_set_strict_posix (oc, posix);
  g_option_context_add_main_entries (oc, help_entries, NULL);
  if (entries != NULL)
    g_option_context_add_main_entries (oc, entries, NULL);
  /* hutch __complete asks a command for its options this way: from the
   * table it parses with, so completion cannot drift from it */
  if (g_getenv (HUTCH_CLI_COMPLETE_ENV) != NULL)
    {
      hutch_cli_complete_print_options (help_entries);
      if (entries != NULL)
        hutch_cli_complete_print_options (entries);
      *out_status = 0;
      return FALSE;
    }

  if (!g_option_context_parse (oc, argc, argv, &error))
    {
      const char *bad = NULL, *near = NULL;
      if (g_error_matches (error, G_OPTION_ERROR, G_OPTION_ERROR_UNKNOWN_OPTION))
        bad = unknown_long_option (entries, *argv, *argc);
      if (bad != NULL)
        near = closest_option (entries, bad);
      if (near != NULL)
        *out_status = hutch_cli_usage_error (cmd, "%s (did you mean \"--%s\"?)", error->message,
                                             near);
      else
        *out_status = hutch_cli_usage_error (cmd, "%s", error->message);
      return FALSE;
    }
  if (help)
    {
      g_autofree char *text = g_option_context_get_help (oc, TRUE, NULL);
      g_autofree char *prg = g_strdup_printf ("hutch %s", cmd->name);
      /* GOption names the program from argv[0]; say "hutch NAME" instead. */
      g_autofree char *fixed = NULL;
      g_auto (GStrv) parts = g_strsplit (text, g_get_prgname (), 2);
      fixed = g_strjoinv (prg, parts);
      fputs (fixed, stdout);
      *out_status = 0;
      return FALSE;
    }
  /* "--" ends the options; what follows belongs to the command. */
  return TRUE;
}

static GLogWriterOutput
log_writer (GLogLevelFlags level, const GLogField *fields, gsize n_fields, gpointer user_data)
{
  HutchLogLevel want = (HutchLogLevel) GPOINTER_TO_INT (user_data);
  HutchLogLevel have;
  const char *label = "";
  const char *message = NULL;

  if (level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL))
    have = HUTCH_LOG_ERROR, label = "error: ";
  else if (level & G_LOG_LEVEL_WARNING)
    have = HUTCH_LOG_WARN, label = "warning: ";
  else if (level & (G_LOG_LEVEL_MESSAGE | G_LOG_LEVEL_INFO))
    have = HUTCH_LOG_INFO;
  else
    have = HUTCH_LOG_DEBUG, label = "debug: ";
  if (have > want)
    return G_LOG_WRITER_HANDLED;
  for (gsize i = 0; i < n_fields; i++)
    if (strcmp (fields[i].key, "MESSAGE") == 0)
      message = fields[i].value;
  fprintf (stderr, "hutch: %s%s\n", label, message != NULL ? message : "");
  return G_LOG_WRITER_HANDLED;
}

/* Edits from @a to @b: insertions, deletions, substitutions and swaps of
 * two neighbours (the typo "nmae" is one edit from "name"). */
static gsize
edit_distance (const char *a, const char *b)
{
  gsize la = strlen (a), lb = strlen (b), w = lb + 1;
  g_autofree gsize *d = g_new (gsize, (la + 1) * w);

  for (gsize i = 0; i <= la; i++)
    for (gsize j = 0; j <= lb; j++)
      {
        gsize best;
        if (i == 0 || j == 0)
          {
            d[i * w + j] = i + j;
            continue;
          }
        best = MIN (d[(i - 1) * w + j] + 1, d[i * w + j - 1] + 1);
        best = MIN (best, d[(i - 1) * w + j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
        if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
          best = MIN (best, d[(i - 2) * w + j - 2] + 1);
        d[i * w + j] = best;
      }
  return d[la * w + lb];
}

/* Edits from @typed to @name, in 64ths, ties going to the name that shares
 * the longer start with what was typed ("pus": push before ps). */
static gsize
name_distance (const char *typed, const char *name)
{
  gsize common = 0;

  while (typed[common] != '\0' && typed[common] == name[common])
    common++;
  return edit_distance (typed, name) * 64 - MIN (common, 63);
}

static const char *
closest_command (const char *name)
{
  const char *best = NULL;
  gsize best_score = 3 * 64; /* at most two edits away (name_distance) */

  for (const HutchCliCommand *const *c = commands; *c != NULL; c++)
    {
      gsize d = (*c)->name[0] == '_' ? G_MAXSIZE : name_distance (name, (*c)->name);
      if (d < best_score)
        best_score = d, best = (*c)->name;
    }
  return best;
}

/* The long option of @entries nearest to @arg ("--nmae" or "--nmae=x"),
 * at most two edits away (one for names of up to four letters, where two
 * edits make anything of anything); NULL when none is. */
static const char *
closest_option (const GOptionEntry *entries, const char *arg)
{
  g_autofree char *name = g_strndup (arg + 2, strcspn (arg + 2, "="));
  const char *best = NULL;
  gsize best_score = strlen (name) <= 4 ? 2 : 3;

  for (const GOptionEntry *e = entries; e != NULL && e->long_name != NULL; e++)
    {
      gsize d = edit_distance (name, e->long_name);
      if (d < best_score)
        best_score = d, best = e->long_name;
    }
  return best;
}

/* The first "--name" in @argv that no entry has: what GOption refused. */
static const char *
unknown_long_option (const GOptionEntry *entries, char **argv, int argc)
{
  for (int i = 1; i < argc && argv[i] != NULL; i++)
    {
      const char *a = argv[i];
      gsize len;
      gboolean known = strcmp (a, "--help") == 0;
      if (strcmp (a, "--") == 0)
        return NULL;
      if (!g_str_has_prefix (a, "--"))
        continue;
      len = strcspn (a + 2, "=");
      for (const GOptionEntry *e = entries; !known && e != NULL && e->long_name != NULL; e++)
        known = strlen (e->long_name) == len && strncmp (e->long_name, a + 2, len) == 0;
      if (!known)
        return a;
    }
  return NULL;
}

static char *
global_help (GOptionContext *oc)
{
  g_autoptr (GString) cmds = g_string_new ("Commands:\n");

  for (const HutchCliCommand *const *c = commands; *c != NULL; c++)
    if ((*c)->name[0] != '_') /* __complete is the scripts', not the user's */
      g_string_append_printf (cmds, "  %-10s %s\n", (*c)->name, (*c)->summary);
  g_string_append (cmds, "\nRun 'hutch help COMMAND' for more on a command.");
  g_option_context_set_description (oc, cmds->str);
  return g_option_context_get_help (oc, TRUE, NULL);
}

/* A password given as an argument (--creds USER:PASSWORD, login's
 * --password) is in /proc/PID/cmdline for every user of the host for as
 * long as hutch runs, the monitor of a detached container included: the
 * command parses a copy of @argv, and the original's password is starred
 * out (the user name stays, so that ps still says who). Strings of the
 * same length: the kernel shows the area the arguments had. */
static char **
argv_without_passwords (int argc, char **argv)
{
  char **copy = g_new0 (char *, argc + 1);
  gboolean login = FALSE;

  for (int i = 0; i < argc; i++)
    copy[i] = g_strdup (argv[i]);
  for (int i = 1; i < argc; i++)
    {
      char *value = NULL;
      gboolean creds = FALSE;
      if (strcmp (argv[i], "--") == 0)
        break;
      if (!login && strcmp (argv[i], "login") == 0)
        login = TRUE;
      if ((creds = strcmp (argv[i], "--creds") == 0) || strcmp (argv[i], "--password") == 0
          || (login && strcmp (argv[i], "-p") == 0))
        value = i + 1 < argc ? argv[++i] : NULL;
      else if ((creds = g_str_has_prefix (argv[i], "--creds=")) || g_str_has_prefix (argv[i], "--password="))
        value = strchr (argv[i], '=') + 1;
      if (value != NULL && creds && strchr (value, ':') != NULL)
        value = strchr (value, ':') + 1;
      if (value != NULL)
        memset (value, '*', strlen (value));
    }
  return copy;
}

void
hutch_cli_explain_full_disk (const HutchContext *ctx, GError *error, const char *needed)
{
  g_autoptr (HutchStore) store = NULL;
  g_autofree char *held = NULL;
  char *message;

  if (error == NULL
      || (!g_error_matches (error, G_FILE_ERROR, G_FILE_ERROR_NOSPC)
          && strstr (error->message, g_strerror (ENOSPC)) == NULL
          && strstr (error->message, g_strerror (EDQUOT)) == NULL))
    return;
  store = hutch_store_open (ctx->root, FALSE, NULL);
  held = store != NULL ? hutch_store_space_describe (store) : NULL;
  message = g_strdup_printf ("%s.%s%s%s%s", error->message, needed != NULL ? " " : "",
                             needed != NULL ? needed : "", held != NULL ? " Now " : "",
                             held != NULL ? held : "");
  g_free (error->message);
  error->message = message;
}

/* Started with stdin, stdout or stderr closed, the first files we open
 * would get their numbers: a store file read as an archive on "stdin", or
 * messages written into one. Each closed one gets /dev/null; whether stdin
 * was closed is returned, for the commands that read it to say so. */
static gboolean
standard_fds_fill (void)
{
  gboolean stdin_closed = FALSE;

  for (int fd = 0; fd <= 2; fd++)
    {
      int got;
      if (fcntl (fd, F_GETFD) >= 0 || errno != EBADF)
        continue;
      stdin_closed |= fd == 0;
      /* not CLOEXEC: it stands in for a standard stream */
      got = open ("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY);
      if (got >= 0 && got != fd)
        {
          (void) dup2 (got, fd);
          close (got);
        }
    }
  return stdin_closed;
}

int
hutch_cli_main (int argc, char **argv)
{
  g_autofree char *root = NULL;
  g_autofree char *runroot = NULL;
  g_autofree char *log_level = NULL;
  gboolean version = FALSE, help = FALSE;
  g_autoptr (GOptionContext) oc = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (HutchContext) ctx = NULL;
  HutchLogLevel level = HUTCH_LOG_WARN;
  const HutchCliCommand *cmd;
  g_auto (GStrv) owned_argv = NULL; /* the strings; argv, their order as parsed */
  g_autofree char **parsed_argv = NULL;
  gboolean stdin_closed = standard_fds_fill ();
  g_autofree char *called = argc > 0 ? g_path_get_basename (argv[0]) : NULL;
  const GOptionEntry entries[] = {
    { "root", 0, 0, G_OPTION_ARG_FILENAME, &root,
      "Store directory (default: ${XDG_DATA_HOME:-~/.local/share}/hutch)", "DIR" },
    { "runroot", 0, 0, G_OPTION_ARG_FILENAME, &runroot,
      "Live-state directory (default: $XDG_RUNTIME_DIR/hutch, else /tmp/hutch-run-UID)", "DIR" },
    { "log-level", 0, 0, G_OPTION_ARG_STRING, &log_level,
      "error, warn (default), info or debug", "LEVEL" },
    { "version", 'v', 0, G_OPTION_ARG_NONE, &version, "Print hutch's version", NULL },
    { "help", 'h', 0, G_OPTION_ARG_NONE, &help, "Show this help", NULL },
    { NULL },
  };

  /* Called through the hutch-runtime link: runc's command line alone
   * (after the closed standard fds were filled: a fifo or socket the
   * runtime opens must never become the container's stdin) */
  if (g_strcmp0 (called, "hutch-runtime") == 0)
    return hutch_cli_oci_main (argc, argv);

  /* The fast path: `hutch --version` must cost little more than exec. */
  if (argc == 2 && (strcmp (argv[1], "--version") == 0 || strcmp (argv[1], "-v") == 0))
    {
      fputs ("hutch version " HUTCH_VERSION "\n", stdout);
      return 0;
    }
  owned_argv = argv_without_passwords (argc, argv);
  argv = parsed_argv = g_memdup2 (owned_argv, sizeof (char *) * ((gsize) argc + 1));

  setlocale (LC_ALL, "");
  g_set_prgname ("hutch");
  oc = g_option_context_new ("COMMAND [ARG...]");
  g_option_context_set_summary (oc, "A rootless, daemonless container sandbox.");
  g_option_context_set_help_enabled (oc, FALSE);
  /* Stop at the command: what follows is the command's to parse. */
  g_option_context_set_strict_posix (oc, TRUE);
  g_option_context_add_main_entries (oc, entries, NULL);
  if (!g_option_context_parse (oc, &argc, &argv, &error))
    return hutch_cli_usage_error (NULL, "%s", error->message);
  if (version)
    {
      fputs ("hutch version " HUTCH_VERSION "\n", stdout);
      return 0;
    }
  if (help || argc < 2)
    {
      g_autofree char *text = global_help (oc);
      fputs (text, help ? stdout : stderr);
      return help ? 0 : HUTCH_EXIT_FAILURE;
    }
  /* its own global options, log and exit statuses: runc's */
  if (argc >= 2 && strcmp (argv[1], "oci") == 0)
    return hutch_cli_oci_main (argc - 1, argv + 1);
  if (log_level != NULL && !hutch_log_level_parse (log_level, &level, &error))
    return hutch_cli_usage_error (NULL, "%s", error->message);
  g_log_set_writer_func (log_writer, GINT_TO_POINTER (level), NULL);

  cmd = hutch_cli_command_find (argv[1]);
  if (cmd == NULL)
    {
      const char *near = closest_command (argv[1]);
      if (near != NULL)
        return hutch_cli_usage_error (NULL, "unknown command \"%s\" (did you mean \"%s\"?)",
                                      argv[1], near);
      return hutch_cli_usage_error (NULL, "unknown command \"%s\"", argv[1]);
    }

  ctx = hutch_context_new (root, runroot, level);
  ctx->stdin_closed = stdin_closed;
  return cmd->run (cmd, ctx, argc - 1, argv + 1);
}
