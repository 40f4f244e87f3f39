/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* hutch exec [OPTIONS] CONTAINER COMMAND [ARG...]: a command in a running
 * container, as its own command runs; its exit status is ours. */
#include "config.h"

#include <stdio.h>

#include "cli-private.h"
#include "container/container.h"

static int
run_exec (const HutchCliCommand *cmd, HutchContext *ctx, int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *id = NULL;
  HutchExecOptions o = { 0 };
  HutchSandboxResult result = { 0 };
  int status;
  const GOptionEntry entries[] = {
    { "interactive", 'i', 0, G_OPTION_ARG_NONE, &o.interactive, "Keep stdin open", NULL },
    { "tty", 't', 0, G_OPTION_ARG_NONE, &o.tty, "Allocate a terminal", NULL },
    { "detach", 'd', 0, G_OPTION_ARG_NONE, &o.detach, "Leave the command running in the background", NULL },
    { "env", 'e', 0, G_OPTION_ARG_STRING_ARRAY, &o.env, "Set NAME=VALUE (or NAME from your environment)", "NAME[=VALUE]" },
    { "workdir", 'w', 0, G_OPTION_ARG_STRING, &o.workdir, "Working directory inside the container", "DIR" },
    { "user", 'u', 0, G_OPTION_ARG_STRING, &o.user, "Run as uid[:gid] or name[:group] of the image", "USER" },
    { "privileged", 0, 0, G_OPTION_ARG_NONE, &o.privileged, "Every capability, no seccomp filter", NULL },
    { NULL },
  };

  if (!hutch_cli_parse_posix (cmd, entries, &argc, &argv, &status))
    goto out;
  status = HUTCH_EXIT_FAILURE;
  if (argc < 3)
    {
      status = hutch_cli_usage_error (cmd, "name a container and the command to run in it");
      goto out;
    }
  o.command = g_strdupv (argv + 2);
  if (!o.interactive && !freopen ("/dev/null", "r", stdin))
    {
      status = hutch_cli_fail (g_error_new (HUTCH_ERROR, HUTCH_ERROR_FAILED, "opening /dev/null"));
      goto out;
    }
  if ((id = hutch_container_resolve (ctx, argv[1], &error)) == NULL
      || !hutch_container_exec (ctx, id, &o, &result, &error))
    {
      status = hutch_cli_fail (g_steal_pointer (&error));
      goto out;
    }
  if (result.exec_error != NULL)
    fprintf (stderr, "hutch: %s\n", result.exec_error);
  status = result.status;
out:
  g_free (result.exec_error);
  g_strfreev (o.command);
  g_strfreev (o.env);
  g_free (o.workdir);
  g_free (o.user);
  return status;
}

const HutchCliCommand hutch_cli_command_exec = {
  "exec", "[OPTIONS] CONTAINER COMMAND [ARG...]", "Run a command in a running container", run_exec,
};
