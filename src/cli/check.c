/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* hutch check: can this host run rootless containers, what falls back, and
 * the exact command that fixes each missing piece. */
#include "config.h"

#include "cli-private.h"

static int
run_check (const HutchCliCommand *cmd, HutchContext *ctx, int argc, char **argv)
{
  g_autofree char *format_text = NULL;
  g_autoptr (GError) error = NULL;
  HutchFormat format;
  int status;
  const GOptionEntry entries[] = {
    { "format", 'f', 0, G_OPTION_ARG_STRING, &format_text, "Output format: text or json",
      "FORMAT" },
    { NULL },
  };

  if (!hutch_cli_parse_no_args (cmd, entries, argc, argv, &status))
    return status;
  if (!hutch_cli_format_parse (format_text, &format, &error))
    return hutch_cli_usage_error (cmd, "%s", error->message);
  return hutch_cli_host_show (ctx, format, TRUE);
}

const HutchCliCommand hutch_cli_command_check = {
  "check", "[OPTIONS]",
  "Check what this host offers rootless containers, and how to fix what is missing",
  run_check,
};
