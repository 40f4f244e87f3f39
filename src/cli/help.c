/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* hutch help [COMMAND]: the help of a command, as `hutch COMMAND --help`. */
#include "config.h"

#include <stdio.h>

#include "cli-private.h"

static int
run_help (const HutchCliCommand *cmd, HutchContext *ctx, int argc, char **argv)
{
  const HutchCliCommand *target;
  char *help_argv[] = { NULL, (char *) "--help", NULL };
  int status;

  if (!hutch_cli_parse (cmd, NULL, &argc, &argv, &status))
    return status;
  if (argc < 2)
    {
      printf ("Usage: hutch [OPTIONS] COMMAND [ARG...]\n\nCommands:\n");
      for (const HutchCliCommand *const *c = hutch_cli_commands (); *c != NULL; c++)
        if ((*c)->name[0] != '_')
          printf ("  %-10s %s\n", (*c)->name, (*c)->summary);
      printf ("\nRun 'hutch help COMMAND' for more on a command, 'hutch --help' for the "
              "global options.\n");
      return 0;
    }
  if (argc > 2)
    return hutch_cli_usage_error (cmd, "one command at a time");
  target = hutch_cli_command_find (argv[1]);
  if (target == NULL)
    return hutch_cli_usage_error (cmd, "unknown command \"%s\"", argv[1]);
  help_argv[0] = argv[1];
  return target->run (target, ctx, 2, help_argv);
}

const HutchCliCommand hutch_cli_command_help = {
  "help", "[COMMAND]",
  "Show the help of a command",
  run_help,
};
