/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* hutch logs [-f] [--tail N] [-t] [--since WHEN] CONTAINER: what a detached
 * container printed, stdout to stdout and stderr to stderr. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "cli-private.h"
#include "container/container.h"

static int
run_logs (const HutchCliCommand *cmd, HutchContext *ctx, int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *tail = NULL, *since = NULL, *id = NULL;
  g_autoptr (HutchContainer) c = NULL;
  HutchLogsOptions o = { .tail = -1 };
  int status;
  const GOptionEntry entries[] = {
    { "follow", 'f', 0, G_OPTION_ARG_NONE, &o.follow, "Go on printing until the container ends", NULL },
    { "tail", 'n', 0, G_OPTION_ARG_STRING, &tail, "Only the last N lines (or all)", "N" },
    { "timestamps", 't', 0, G_OPTION_ARG_NONE, &o.timestamps, "Each line with its time", NULL },
    { "since", 0, 0, G_OPTION_ARG_STRING, &since, "Only lines since a time, or a duration ago (10m)", "WHEN" },
    { NULL },
  };

  if (!hutch_cli_parse (cmd, entries, &argc, &argv, &status))
    return status;
  if (argc != 2)
    return hutch_cli_usage_error (cmd, "name one container");
  if (tail != NULL && g_strcmp0 (tail, "all") != 0)
    {
      char *end = NULL;
      o.tail = g_ascii_strtoll (tail, &end, 10);
      if (*tail == '\0' || *end != '\0' || o.tail < 0)
        return hutch_cli_usage_error (cmd, "--tail %s: give a number of lines, or all", tail);
    }
  if (since != NULL && !hutch_container_parse_since (since, &o.since, &error))
    return hutch_cli_usage_error (cmd, "%s", error->message);
  if ((id = hutch_container_resolve (ctx, argv[1], &error)) == NULL
      || !hutch_container_logs (ctx, id, &o, &error))
    return hutch_cli_fail (g_steal_pointer (&error));
  /* read after the log: with -f, a failure while it was followed too */
  c = hutch_container_load (ctx, id, NULL);
  if (c != NULL && c->log_error != NULL)
    g_warning ("the log of container %s is incomplete: %s", c->name, c->log_error);
  return 0;
}

const HutchCliCommand hutch_cli_command_logs = {
  "logs", "[OPTIONS] CONTAINER", "Show what a detached container printed", run_logs,
};
