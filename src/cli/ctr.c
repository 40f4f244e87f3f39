/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The lifecycle of containers: start, restart, stop, kill, wait, rm and
 * the `container` group. Each takes names, ids or id prefixes, and as
 * docker goes through them all, saying which failed. */
#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cli-private.h"
#include "container/container.h"

typedef gboolean (*EachFunc) (HutchContext *ctx, const char *id, gpointer data, GError **error);

/* start and restart: limits that only the systemd user manager can give
 * here mean going into a scope of its first (as run does). */
static gboolean
scope_if_needed (HutchContext *ctx, int argc, char **argv, GError **error)
{
  g_autoptr (GPtrArray) ids = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *why = NULL;
  HutchCgroupCaps caps;
  gboolean ok;

  for (int i = 1; i < argc; i++)
    {
      char *id = hutch_container_resolve (ctx, argv[i], NULL);
      if (id != NULL)
        g_ptr_array_add (ids, id);
    }
  g_ptr_array_add (ids, NULL);
  why = hutch_container_need_scope (ctx, (char **) ids->pdata);
  if (why == NULL)
    return TRUE;
  hutch_cgroup_caps_probe (&caps);
  ok = hutch_cgroup_enter_scope (caps.user_bus, why, error);
  hutch_cgroup_caps_clear (&caps);
  return ok;
}

/* @func on each container named in @argv[1..]; the ref is echoed on
 * success when @echo. */
static int
each (const HutchCliCommand *cmd, HutchContext *ctx, int argc, char **argv, EachFunc func,
      gpointer data, gboolean echo)
{
  int status = 0;

  if (argc < 2)
    return hutch_cli_usage_error (cmd, "name at least one container");
  for (int i = 1; i < argc; i++)
    {
      g_autoptr (GError) error = NULL;
      g_autofree char *id = hutch_container_resolve (ctx, argv[i], &error);
      if (id != NULL && func (ctx, id, data, &error))
        {
          if (echo)
            printf ("%s\n", argv[i]);
          continue;
        }
      status = hutch_cli_fail (g_steal_pointer (&error));
    }
  return status;
}

static gboolean
do_start (HutchContext *ctx, const char *id, gpointer data, GError **error)
{
  HutchSandboxResult result = { 0 };
  gboolean ok = hutch_container_start (ctx, id, HUTCH_START_DETACHED, &result, error);

  if (ok && result.exec_error != NULL)
    {
      ok = hutch_throw (error, HUTCH_ERROR_FAILED, "%s", result.exec_error);
      if (data != NULL)
        *(int *) data = result.status;
    }
  g_free (result.exec_error);
  return ok;
}

static int
run_start (const HutchCliCommand *cmd, HutchContext *ctx, int argc, char **argv)
{
  gboolean attach = FALSE, interactive = FALSE;
  int status, exec_status = 0;
  const GOptionEntry entries[] = {
    { "attach", 'a', 0, G_OPTION_ARG_NONE, &attach, "Run in the foreground: our output is its own", NULL },
    { "interactive", 'i', 0, G_OPTION_ARG_NONE, &interactive, "With -a, our stdin is its own", NULL },
    { NULL },
  };

  if (!hutch_cli_parse (cmd, entries, &argc, &argv, &status))
    return status;
  {
    g_autoptr (GError) error = NULL;
    if (!scope_if_needed (ctx, argc, argv, &error))
      return hutch_cli_fail (g_steal_pointer (&error));
  }
  if (attach || interactive)
    {
      g_autoptr (GError) error = NULL;
      g_autofree char *id = NULL;
      HutchSandboxResult result = { 0 };
      if (argc != 2)
        return hutch_cli_usage_error (cmd, "-a and -i take one container");
      if (!interactive && !freopen ("/dev/null", "r", stdin))
        return hutch_cli_fail (g_error_new (HUTCH_ERROR, HUTCH_ERROR_FAILED, "opening /dev/null"));
      if ((id = hutch_container_resolve (ctx, argv[1], &error)) == NULL
          || !hutch_container_start (ctx, id, HUTCH_START_FOREGROUND, &result, &error))
        return hutch_cli_fail (g_steal_pointer (&error));
      if (result.exec_error != NULL)
        fprintf (stderr, "hutch: %s\n", result.exec_error);
      g_free (result.exec_error);
      return result.status;
    }
  status = each (cmd, ctx, argc, argv, do_start, &exec_status, TRUE);
  return exec_status != 0 ? exec_status : status;
}

/* The event of what was done to container @id (its record read again:
 * the name may have moved since the command resolved it). */
static void
event_of (HutchContext *ctx, const char *id, const char *action)
{
  g_autoptr (HutchContainer) c = hutch_container_load (ctx, id, NULL);

  if (c != NULL)
    hutch_event_container (ctx, c, action);
}

static gboolean
do_stop (HutchContext *ctx, const char *id, gpointer data, GError **error)
{
  if (!hutch_container_stop (ctx, id, *(int *) data, error))
    return FALSE;
  event_of (ctx, id, "stop");
  return TRUE;
}

static gboolean
do_restart (HutchContext *ctx, const char *id, gpointer data, GError **error)
{
  if (!hutch_container_stop (ctx, id, *(int *) data, error))
    return FALSE;
  event_of (ctx, id, "restart");
  return do_start (ctx, id, NULL, error);
}

static int
run_stop_or_restart (const HutchCliCommand *cmd, HutchContext *ctx, int argc, char **argv)
{
  int timeout = HUTCH_STOP_TIMEOUT_UNSET, status;
  const GOptionEntry entries[] = {
    { "time", 't', 0, G_OPTION_ARG_INT, &timeout,
      "Seconds to wait before SIGKILL (default: the container's --stop-timeout, else 10)", "SECS" },
    { NULL },
  };

  if (!hutch_cli_parse (cmd, entries, &argc, &argv, &status))
    return status;
  if (strstr (cmd->name, "restart") != NULL)
    {
      g_autoptr (GError) error = NULL;
      if (!scope_if_needed (ctx, argc, argv, &error))
        return hutch_cli_fail (g_steal_pointer (&error));
    }
  return each (cmd, ctx, argc, argv, strstr (cmd->name, "restart") != NULL ? do_restart : do_stop,
               &timeout, TRUE);
}

static gboolean
do_kill (HutchContext *ctx, const char *id, gpointer data, GError **error)
{
  g_autoptr (HutchContainer) c = NULL;
  g_autofree char *sig = NULL;

  if (!hutch_container_kill (ctx, id, *(int *) data, error))
    return FALSE;
  c = hutch_container_load (ctx, id, NULL);
  sig = g_strdup_printf ("%d", *(int *) data);
  if (c != NULL)
    hutch_event_record (ctx, 0, "container", "kill", c->id, c->name, c->image, sig);
  return TRUE;
}

static int
run_kill (const HutchCliCommand *cmd, HutchContext *ctx, int argc, char **argv)
{
  g_autofree char *signal_text = NULL;
  int sig = SIGKILL, status;
  const GOptionEntry entries[] = {
    { "signal", 's', 0, G_OPTION_ARG_STRING, &signal_text, "The signal (default KILL)", "SIG" },
    { NULL },
  };

  if (!hutch_cli_parse (cmd, entries, &argc, &argv, &status))
    return status;
  if (signal_text != NULL && (sig = hutch_container_signal_parse (signal_text)) < 0)
    return hutch_cli_usage_error (cmd, "-s %s: no such signal (a name as TERM or SIGTERM, or a number)",
                                  signal_text);
  return each (cmd, ctx, argc, argv, do_kill, &sig, TRUE);
}

static gboolean
do_wait (HutchContext *ctx, const char *id, gpointer data, GError **error)
{
  int code;

  if (!hutch_container_wait (ctx, id, &code, error))
    return FALSE;
  printf ("%d\n", code);
  fflush (stdout);
  return TRUE;
}

static int
run_wait (const HutchCliCommand *cmd, HutchContext *ctx, int argc, char **argv)
{
  int status;

  if (!hutch_cli_parse (cmd, NULL, &argc, &argv, &status))
    return status;
  return each (cmd, ctx, argc, argv, do_wait, NULL, FALSE);
}

typedef struct
{
  gboolean force;
  gboolean volumes; /* -v: its anonymous volumes too */
} RmOptions;

static gboolean
do_rm (HutchContext *ctx, const char *id, gpointer data, GError **error)
{
  const RmOptions *o = data;
  g_autoptr (HutchContainer) c = hutch_container_load (ctx, id, NULL);

  if (!(o->volumes ? hutch_container_remove_volumes (ctx, id, o->force, error)
                   : hutch_container_remove (ctx, id, o->force, error)))
    return FALSE;
  if (c != NULL)
    hutch_event_container (ctx, c, "remove");
  return TRUE;
}

static int
run_rm (const HutchCliCommand *cmd, HutchContext *ctx, int argc, char **argv)
{
  RmOptions o = { FALSE, FALSE };
  int status;
  const GOptionEntry entries[] = {
    { "force", 'f', 0, G_OPTION_ARG_NONE, &o.force, "Kill a running container first", NULL },
    { "volumes", 'v', 0, G_OPTION_ARG_NONE, &o.volumes,
      "Remove its anonymous volumes too (named ones stay)", NULL },
    { NULL },
  };

  if (!hutch_cli_parse (cmd, entries, &argc, &argv, &status))
    return status;
  return each (cmd, ctx, argc, argv, do_rm, &o, TRUE);
}

static int
run_container_prune (const HutchCliCommand *cmd, HutchContext *ctx, int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  gboolean force = FALSE;
  guint removed = 0;
  int status;
  const GOptionEntry entries[] = {
    { "force", 'f', 0, G_OPTION_ARG_NONE, &force, "Do not ask (hutch never asks)", NULL },
    { NULL },
  };

  if (!hutch_cli_parse_no_args (cmd, entries, argc, argv, &status))
    return status;
  if (!hutch_container_prune (ctx, &removed, &error))
    return hutch_cli_fail (g_steal_pointer (&error));
  printf ("Removed %u exited container%s\n", removed, removed == 1 ? "" : "s");
  return 0;
}

const HutchCliCommand hutch_cli_command_start = {
  "start", "[OPTIONS] CONTAINER...", "Start containers in the background (-a: one, in the foreground)",
  run_start,
};
const HutchCliCommand hutch_cli_command_stop = {
  "stop", "[OPTIONS] CONTAINER...", "Stop containers: the stop signal, then SIGKILL after a grace time",
  run_stop_or_restart,
};
const HutchCliCommand hutch_cli_command_restart = {
  "restart", "[OPTIONS] CONTAINER...", "Stop containers, then start them again",
  run_stop_or_restart,
};
const HutchCliCommand hutch_cli_command_kill = {
  "kill", "[OPTIONS] CONTAINER...", "Send a signal to containers (default SIGKILL)", run_kill,
};
const HutchCliCommand hutch_cli_command_wait = {
  "wait", "CONTAINER...", "Wait for containers to end; print their exit codes", run_wait,
};
const HutchCliCommand hutch_cli_command_rm = {
  "rm", "[OPTIONS] CONTAINER...", "Remove containers (-f: running ones too)", run_rm,
};

static const HutchCliCommand container_prune = { "container prune", "[OPTIONS]",
                                                 "Remove every container that has exited",
                                                 run_container_prune };

static int
run_container (const HutchCliCommand *cmd, HutchContext *ctx, int argc, char **argv)
{
  static const HutchCliCommand ls = { "container ls", "[OPTIONS]", "List containers", NULL };
  static const HutchCliCommand *const subs[] = {
    &hutch_cli_command_cp,     &hutch_cli_command_create, &hutch_cli_command_exec,
    &hutch_cli_command_export, &hutch_cli_command_inspect,
    &hutch_cli_command_kill,   &hutch_cli_command_logs, &ls,
    &hutch_cli_command_port,   &container_prune,        &hutch_cli_command_restart,
    &hutch_cli_command_rm,     &hutch_cli_command_run,  &hutch_cli_command_start,
    &hutch_cli_command_stop,   &hutch_cli_command_wait,
    &hutch_cli_command_pause,  &hutch_cli_command_rename, &hutch_cli_command_top,
    &hutch_cli_command_unpause, NULL,
  };

  if (argc < 2 && g_getenv (HUTCH_CLI_COMPLETE_ENV) != NULL)
    {
      for (guint i = 0; subs[i] != NULL; i++)
        printf ("@%s\n", strchr (subs[i]->name, ' ') != NULL ? strchr (subs[i]->name, ' ') + 1
                                                             : subs[i]->name);
      return 0;
    }
  /* `container ls` (docker's list and ps too) is ps; the others are the
   * top-level commands */
  if (argc >= 2 && (strcmp (argv[1], "ls") == 0 || strcmp (argv[1], "list") == 0
                    || strcmp (argv[1], "ps") == 0))
    return hutch_cli_command_ps.run (&hutch_cli_command_ps, ctx, argc - 1, argv + 1);
  if (argc >= 2 && strcmp (argv[1], "prune") == 0)
    return run_container_prune (&container_prune, ctx, argc - 1, argv + 1);
  for (guint i = 0; argc >= 2 && subs[i] != NULL; i++)
    if (subs[i]->run != NULL && strcmp (subs[i]->name, argv[1]) == 0)
      return subs[i]->run (subs[i], ctx, argc - 1, argv + 1);
  if (argc >= 2 && strcmp (argv[1], "remove") == 0)
    return hutch_cli_command_rm.run (&hutch_cli_command_rm, ctx, argc - 1, argv + 1);
  if (argc >= 2 && strcmp (argv[1], "--help") != 0 && strcmp (argv[1], "-h") != 0)
    return hutch_cli_usage_error (cmd, "unknown command \"container %s\"", argv[1]);
  printf ("Usage: hutch container COMMAND\n\n%s\n\nCommands:\n", cmd->summary);
  for (guint i = 0; subs[i] != NULL; i++)
    printf ("  %-16s %s\n",
            strchr (subs[i]->name, ' ') != NULL ? strchr (subs[i]->name, ' ') + 1 : subs[i]->name,
            subs[i]->summary);
  return argc >= 2 ? 0 : HUTCH_EXIT_FAILURE;
}

const HutchCliCommand hutch_cli_command_container = {
  "container", "COMMAND",
  "Manage containers: cp, create, exec, export, inspect, kill, logs, ls, pause, port, prune, "
  "rename, restart, rm, run, start, stop, top, unpause, wait",
  run_container,
};
