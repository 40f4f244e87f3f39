/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* hutch rename, pause and unpause: a container's name changed, its
 * processes frozen and let go (see hutch_container_rename() and
 * hutch_container_pause()). */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "cli-private.h"
#include "container/container.h"

static int
run_rename (const HutchCliCommand *cmd, HutchContext *ctx, int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *id = NULL;
  int status;

  if (!hutch_cli_parse (cmd, NULL, &argc, &argv, &status))
    return status;
  if (argc != 3)
    return hutch_cli_usage_error (cmd, "give the container and its new name");
  if ((id = hutch_container_resolve (ctx, argv[1], &error)) == NULL
      || !hutch_container_rename (ctx, id, argv[2], &error))
    return hutch_cli_fail (g_steal_pointer (&error));
  return 0;
}

const HutchCliCommand hutch_cli_command_rename = {
  "rename", "CONTAINER NEW_NAME", "Give a container another name", run_rename,
};

/* As docker: each container named is tried, and echoed once done. */
static int
run_pause_or_unpause (const HutchCliCommand *cmd, HutchContext *ctx, int argc, char **argv)
{
  gboolean pause = strcmp (cmd->name, "pause") == 0;
  int status, failed = 0;

  if (!hutch_cli_parse (cmd, NULL, &argc, &argv, &status))
    return status;
  if (argc < 2)
    return hutch_cli_usage_error (cmd, "name at least one container");
  for (int i = 1; i < argc; i++)
    {
      g_autoptr (GError) error = NULL;
      g_autofree char *id = hutch_container_resolve (ctx, argv[i], &error);
      if (id != NULL && hutch_container_pause (ctx, id, pause, &error))
        printf ("%s\n", argv[i]);
      else
        failed = hutch_cli_fail (g_steal_pointer (&error));
    }
  return failed;
}

const HutchCliCommand hutch_cli_command_pause = {
  "pause", "CONTAINER...", "Freeze every process of containers (cgroup v2 freezer)",
  run_pause_or_unpause,
};
const HutchCliCommand hutch_cli_command_unpause = {
  "unpause", "CONTAINER...", "Let the processes of paused containers go on",
  run_pause_or_unpause,
};
