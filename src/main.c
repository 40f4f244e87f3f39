/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The entry point only hands off to cli/. */
#include "config.h"

#include "cli/cli.h"

int
main (int argc, char **argv)
{
  return hutch_cli_main (argc, argv);
}
