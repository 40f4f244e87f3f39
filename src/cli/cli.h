/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cli/: the command line. The only header main.c includes. */
#pragma once

/* Parses the global options, runs the command and returns the process exit
 * status (DESIGN.md: 125 when hutch itself failed or was misused). */
int hutch_cli_main (int argc, char **argv);
