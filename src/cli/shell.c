/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* hutch shell [OPTIONS] [-- COMMAND...], and its sessions: diff, apply,
 * discard, ls, rm, log. What a session is and does lives in shell/. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli-private.h"
#include "container/container.h"
#include "shell/shell.h"

static HutchShellSession *
session_arg (const HutchCliCommand *cmd, HutchContext *ctx, int argc, char **argv, int *status)
{
  g_autoptr (GError) error = NULL;
  HutchShellSession *s;

  if (argc < 2)
    {
      *status = hutch_cli_usage_error (cmd, "name the session (\"hutch shell ls\" lists them)");
      return NULL;
    }
  if ((s = hutch_shell_session_load (ctx->root, argv[1], &error)) == NULL)
    *status = hutch_cli_fail (g_steal_pointer (&error));
  return s;
}

/* `diff -u` of the host's file and the session's, labelled by path;
 * NULL when diff is not there or failed to start. */
static char *
unified_diff (const HutchShellSession *s, const HutchShellChange *c)
{
  g_autofree char *upper = g_strdup_printf ("%s/ov/%u/upper/%s", s->dir, c->overlay, c->rel);
  g_autofree char *a = g_strconcat ("a", c->path, NULL), *b = g_strconcat ("b", c->path, NULL);
  const char *argv[] = { "diff", "-u", "--label", a, "--label", b,
                         c->kind == 'A' ? "/dev/null" : c->path,
                         c->kind == 'D' ? "/dev/null" : upper, NULL };
  char *out = NULL;
  int status;

  if (c->is_dir
      || !g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDERR_TO_DEV_NULL,
                        NULL, NULL, &out, NULL, &status, NULL))
    return NULL;
  return out;
}

static void
count_lines (const char *diff, guint *plus, guint *minus)
{
  g_auto (GStrv) lines = g_strsplit (diff, "\n", -1);

  *plus = *minus = 0;
  for (guint i = 0; lines[i] != NULL; i++)
    if (lines[i][0] == '+' && !g_str_has_prefix (lines[i], "+++ "))
      (*plus)++;
    else if (lines[i][0] == '-' && !g_str_has_prefix (lines[i], "--- "))
      (*minus)++;
}

static int
run_shell_diff (const HutchCliCommand *cmd, HutchContext *ctx, int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (HutchShellSession) s = NULL;
  g_autoptr (GPtrArray) changes = NULL;
  gboolean stat = FALSE, patch = FALSE;
  guint files = 0, ins = 0, del = 0;
  int status;
  const GOptionEntry entries[] = {
    { "stat", 0, 0, G_OPTION_ARG_NONE, &stat, "Lines added and removed per file", NULL },
    { "patch", 'p', 0, G_OPTION_ARG_NONE, &patch, "A unified diff of each text file", NULL },
    { NULL },
  };

  if (!hutch_cli_parse (cmd, entries, &argc, &argv, &status))
    return status;
  if (argc > 2)
    return hutch_cli_usage_error (cmd, "one session at a time");
  if ((s = session_arg (cmd, ctx, argc, argv, &status)) == NULL)
    return status;
  if ((changes = hutch_shell_changes (s, &error)) == NULL)
    return hutch_cli_fail (g_steal_pointer (&error));
  for (guint i = 0; i < changes->len; i++)
    {
      const HutchShellChange *c = changes->pdata[i];
      g_autofree char *d = NULL;
      guint plus = 0, minus = 0;

      if (!stat && !patch)
        {
          printf ("%c %s%s\n", c->kind, c->path,
                  c->conflict ? "   (changed on the host too since the session started)" : "");
          continue;
        }
      d = unified_diff (s, c);
      if (patch)
        {
          if (d != NULL && *d != '\0')
            fputs (d, stdout);
          else if (!c->is_dir && d == NULL)
            printf ("%c %s (no text diff)\n", c->kind, c->path);
          continue;
        }
      if (d != NULL)
        count_lines (d, &plus, &minus);
      files++, ins += plus, del += minus;
      printf (" %c %s | %u +%u -%u\n", c->kind, c->path, plus + minus, plus, minus);
    }
  if (stat)
    printf (" %u file%s changed, %u insertion%s(+), %u deletion%s(-)\n", files,
            files == 1 ? "" : "s", ins, ins == 1 ? "" : "s", del, del == 1 ? "" : "s");
  return 0;
}

static int
run_shell_apply (const HutchCliCommand *cmd, HutchContext *ctx, int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (HutchShellSession) s = NULL;
  g_autoptr (GPtrArray) report = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GPtrArray) only = g_ptr_array_new_with_free_func (g_free);
  gboolean force = FALSE, ok;
  int status;
  const GOptionEntry entries[] = {
    { "force", 'f', 0, G_OPTION_ARG_NONE, &force,
      "Overwrite files the host changed since the session started", NULL },
    { NULL },
  };

  if (!hutch_cli_parse (cmd, entries, &argc, &argv, &status))
    return status;
  if ((s = session_arg (cmd, ctx, argc, argv, &status)) == NULL)
    return status;
  for (int i = 2; i < argc; i++)
    g_ptr_array_add (only, g_canonicalize_filename (argv[i], NULL));
  g_ptr_array_add (only, NULL);
  ok = hutch_shell_apply (s, only->len > 1 ? (char **) only->pdata : NULL, force, report, &error);
  for (guint i = 0; i < report->len; i++)
    fprintf (g_str_has_prefix (report->pdata[i], "error: ") ? stderr : stdout, "%s\n",
             (char *) report->pdata[i]);
  if (!ok)
    return hutch_cli_fail (g_steal_pointer (&error));
  return 0;
}

static int
run_shell_discard (const HutchCliCommand *cmd, HutchContext *ctx, int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (HutchShellSession) s = NULL;
  int status;

  if (!hutch_cli_parse (cmd, NULL, &argc, &argv, &status))
    return status;
  if (argc > 2)
    return hutch_cli_usage_error (cmd, "one session at a time");
  if ((s = session_arg (cmd, ctx, argc, argv, &status)) == NULL)
    return status;
  if (!hutch_shell_session_discard (s, &error))
    return hutch_cli_fail (g_steal_pointer (&error));
  return 0;
}

static int
run_shell_ls (const HutchCliCommand *cmd, HutchContext *ctx, int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) names = NULL;
  gboolean quiet = FALSE;
  int status;
  const GOptionEntry entries[] = {
    { "quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet, "Print session names only", NULL },
    { NULL },
  };

  if (!hutch_cli_parse_no_args (cmd, entries, argc, argv, &status))
    return status;
  if ((names = hutch_shell_session_names (ctx->root, &error)) == NULL)
    return hutch_cli_fail (g_steal_pointer (&error));
  if (!quiet)
    printf ("%-24s %-9s %-8s %-16s %s\n", "NAME", "STATUS", "CHANGES", "CREATED", "PATHS");
  for (guint i = 0; i < names->len; i++)
    {
      g_autoptr (HutchShellSession) s = hutch_shell_session_load (ctx->root, names->pdata[i], NULL);
      g_autoptr (GPtrArray) changes = NULL;
      g_autofree char *ago = NULL, *paths = NULL;
      if (s == NULL)
        continue;
      if (quiet)
        {
          printf ("%s\n", s->name);
          continue;
        }
      changes = hutch_shell_changes (s, NULL);
      ago = hutch_cli_format_ago (s->created);
      paths = g_strjoinv (",", s->paths);
      printf ("%-24s %-9s %-8u %-16s %s\n", s->name,
              hutch_shell_session_running (s, NULL, NULL) ? "running" : "stopped",
              changes != NULL ? changes->len : 0, ago, paths);
    }
  return 0;
}

static int
run_shell_rm (const HutchCliCommand *cmd, HutchContext *ctx, int argc, char **argv)
{
  int status, failed = 0;

  if (!hutch_cli_parse (cmd, NULL, &argc, &argv, &status))
    return status;
  if (argc < 2)
    return hutch_cli_usage_error (cmd, "name at least one session");
  for (int i = 1; i < argc; i++)
    {
      g_autoptr (GError) error = NULL;
      if (hutch_shell_session_remove (ctx->root, argv[i], &error))
        printf ("%s\n", argv[i]);
      else
        failed = hutch_cli_fail (g_steal_pointer (&error));
    }
  return failed;
}

static int
run_shell_log (const HutchCliCommand *cmd, HutchContext *ctx, int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (HutchShellSession) s = NULL;
  g_autofree char *path = NULL, *text = NULL;
  int status;

  if (!hutch_cli_parse (cmd, NULL, &argc, &argv, &status))
    return status;
  if (argc > 2)
    return hutch_cli_usage_error (cmd, "one session at a time");
  if ((s = session_arg (cmd, ctx, argc, argv, &status)) == NULL)
    return status;
  path = g_build_filename (s->dir, "egress.log", NULL);
  if (!g_file_get_contents (path, &text, NULL, &error))
    {
      if (g_error_matches (error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
        return 0; /* nothing refused */
      return hutch_cli_fail (g_error_new (HUTCH_ERROR, HUTCH_ERROR_FAILED, "%s", error->message));
    }
  fputs (text, stdout);
  return 0;
}

static const HutchCliCommand shell_diff = {
  "shell diff", "[--stat|-p] NAME", "What a session changed under the host's paths",
  run_shell_diff,
};
static const HutchCliCommand shell_apply = {
  "shell apply", "[--force] NAME [PATH...]", "Copy a session's changes onto the host",
  run_shell_apply,
};
static const HutchCliCommand shell_discard = {
  "shell discard", "NAME", "Forget a session's changes", run_shell_discard,
};
static const HutchCliCommand shell_ls = {
  "shell ls", "[-q]", "List the shell sessions", run_shell_ls,
};
static const HutchCliCommand shell_rm = {
  "shell rm", "NAME...", "Remove shell sessions and their changes", run_shell_rm,
};
static const HutchCliCommand shell_log = {
  "shell log", "NAME", "The destinations a session's network refused", run_shell_log,
};

static gboolean
name_free_of_containers (HutchContext *ctx, const char *name, GError **error)
{
  g_autoptr (GError) local = NULL;
  g_autofree char *id = hutch_container_resolve (ctx, name, &local);

  if (id != NULL)
    return hutch_throw (error, HUTCH_ERROR_USAGE,
                        "--name %s: a container has that name; give the session another one", name);
  return TRUE;
}

static gboolean
changes_hint (HutchContext *ctx, const char *name, gboolean named)
{
  g_autoptr (HutchShellSession) s = hutch_shell_session_load (ctx->root, name, NULL);
  g_autoptr (GPtrArray) changes = s != NULL ? hutch_shell_changes (s, NULL) : NULL;

  if (changes == NULL)
    return FALSE;
  if (changes->len == 0 && !named)
    return hutch_shell_session_remove (ctx->root, name, NULL);
  if (changes->len > 0)
    fprintf (stderr,
             "hutch: session %s holds %u change%s, not yet on the host: review them with \"hutch "
             "shell diff %s\", then \"hutch shell apply %s\" or \"hutch shell discard %s\"\n",
             name, changes->len, changes->len == 1 ? "" : "s", name, name, name);
  return TRUE;
}

static int
run_shell (const HutchCliCommand *cmd, HutchContext *ctx, int argc, char **argv)
{
  static const HutchCliCommand *const subs[]
      = { &shell_apply, &shell_diff, &shell_discard, &shell_log, &shell_ls, &shell_rm, NULL };
  static const char *const sub_names[] = { "apply", "diff", "discard", "log", "ls", "rm", "list",
                                           NULL };
  g_autoptr (GError) error = NULL;
  HutchShellOptions o = { 0 };
  g_auto (GStrv) o_writable = NULL, o_readonly = NULL, o_hide = NULL, o_env = NULL;
  g_auto (GStrv) o_allow_socket = NULL, o_allow_host = NULL;
  g_autofree char *o_network = NULL, *o_name = NULL, *o_overlay_driver = NULL;
  HutchSandboxResult result;
  g_autofree char *name = NULL, *userns = NULL;
  gboolean joined = FALSE;
  int status;
  const GOptionEntry entries[] = {
    { "name", 0, 0, G_OPTION_ARG_STRING, &o_name, "The session's name (kept, re-entered)", "NAME" },
    { "writable", 'w', 0, G_OPTION_ARG_FILENAME_ARRAY, &o_writable,
      "Write this path of yours straight through to the host", "PATH" },
    { "ro", 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &o_readonly, "Show this path read-only", "PATH" },
    { "hide", 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &o_hide, "Hide this path too", "PATH" },
    { "env", 'e', 0, G_OPTION_ARG_STRING_ARRAY, &o_env,
      "Pass this variable although it looks secret, or set it", "NAME[=VALUE]" },
    { "allow-socket", 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &o_allow_socket,
      "Show this unix socket of the host (an agent, a bus)", "PATH" },
    { "network", 0, 0, G_OPTION_ARG_STRING, &o_network, "none (default) or slirp (everything)",
      "MODE" },
    { "allow-host", 0, 0, G_OPTION_ARG_STRING_ARRAY, &o_allow_host,
      "Reach only these: NAME, *.DOMAIN, IP or CIDR, each with :PORT or not", "HOST" },
    { "userns", 0, 0, G_OPTION_ARG_STRING, &userns, "keep-id (the only mode of a shell)", "MODE" },
    { "overlay-driver", 0, 0, G_OPTION_ARG_STRING, &o_overlay_driver,
      "overlay (the kernel's, then fuse-overlayfs: the default) or fuse-overlayfs", "DRIVER" },
    { NULL },
  };

  if (argc >= 2 && g_strv_contains (sub_names, argv[1]))
    {
      if (strcmp (argv[1], "list") == 0)
        return run_shell_ls (&shell_ls, ctx, argc - 1, argv + 1);
      return hutch_cli_run_group (cmd, subs, ctx, argc, argv);
    }
  if (!hutch_cli_parse_posix (cmd, entries, &argc, &argv, &status))
    return status;
  if (argc >= 2 && strcmp (argv[1], "--") == 0)
    argv++, argc--;
  o = (HutchShellOptions) { o_name, NULL, o_writable, o_readonly, o_hide, o_env, o_allow_socket,
                            o_allow_host, o_network, o_overlay_driver };
  if (userns != NULL && strcmp (userns, "keep-id") != 0)
    return hutch_cli_usage_error (cmd, "--userns %s: a shell runs as you, --userns=keep-id", userns);
  if (o.overlay_driver != NULL && strcmp (o.overlay_driver, "overlay") != 0
      && strcmp (o.overlay_driver, "fuse-overlayfs") != 0)
    return hutch_cli_usage_error (cmd, "--overlay-driver %s: overlay or fuse-overlayfs",
                                  o.overlay_driver);
  if (o.name != NULL && !hutch_shell_name_validate (o.name, &error))
    return hutch_cli_usage_error (cmd, "%s", error->message);
  if (o.name != NULL && !name_free_of_containers (ctx, o.name, &error))
    return hutch_cli_usage_error (cmd, "%s", error->message);
  o.argv = argc > 1 ? argv + 1 : NULL;
  if (!hutch_shell_run (ctx, &o, &result, &name, &joined, &error))
    {
      if (g_error_matches (error, HUTCH_ERROR, HUTCH_ERROR_USAGE))
        return hutch_cli_usage_error (cmd, "%s", error->message);
      return hutch_cli_fail (g_steal_pointer (&error));
    }
  if (result.exec_error != NULL)
    fprintf (stderr, "hutch: %s\n", result.exec_error);
  if (!joined) /* (the first shell of the session says it when it ends) */
    (void) changes_hint (ctx, name, o.name != NULL);
  g_free (result.exec_error);
  return result.status;
}

const HutchCliCommand hutch_cli_command_shell = {
  "shell",
  "[OPTIONS] [-- COMMAND...] | diff|apply|discard|ls|rm|log ...",
  "A sandboxed shell over your own files: writes reviewed, secrets hidden, network allow-listed",
  run_shell,
};
