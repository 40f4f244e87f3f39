/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* hutch healthcheck run CONTAINER: the container's health check, once,
 * as podman's: "healthy" and 0, or "unhealthy" and 1. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "cli-private.h"
#include "container/container.h"

static int
run_health_run (const HutchCliCommand *cmd, HutchContext *ctx, int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *id = NULL, *status = NULL;
  int code;

  if (!hutch_cli_parse (cmd, NULL, &argc, &argv, &code))
    return code;
  if (argc != 2)
    return hutch_cli_usage_error (cmd, "name one container");
  if ((id = hutch_container_resolve (ctx, argv[1], &error)) == NULL
      || !hutch_container_health_run (ctx, id, &status, &error))
    return hutch_cli_fail (g_steal_pointer (&error));
  printf ("%s\n", status);
  return strcmp (status, "unhealthy") == 0 ? 1 : 0;
}

static const HutchCliCommand health_run = {
  "healthcheck run", "CONTAINER",
  "Run the container's health check once and record the result",
  run_health_run,
};

static int
run_healthcheck (const HutchCliCommand *cmd, HutchContext *ctx, int argc, char **argv)
{
  static const HutchCliCommand *const subs[] = { &health_run, NULL };

  return hutch_cli_run_group (cmd, subs, ctx, argc, argv);
}

const HutchCliCommand hutch_cli_command_healthcheck = {
  "healthcheck", "COMMAND",
  "Run containers' health checks",
  run_healthcheck,
};
