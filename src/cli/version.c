/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* hutch version: hutch's own version and the libraries it was built with. */
#include "config.h"

#include <stdio.h>

#include "cli-private.h"

static int
run_version (const HutchCliCommand *cmd, HutchContext *ctx, int argc, char **argv)
{
  int status;

  if (!hutch_cli_parse_no_args (cmd, NULL, argc, argv, &status))
    return status;
  printf ("hutch version %s\nGLib %u.%u.%u\n", HUTCH_VERSION, glib_major_version,
          glib_minor_version, glib_micro_version);
  return 0;
}

const HutchCliCommand hutch_cli_command_version = {
  "version", "",
  "Show hutch's version",
  run_version,
};
