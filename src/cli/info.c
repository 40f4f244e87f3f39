/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* hutch info: the same host picture as `check`, as data for scripts. */
#include "config.h"

#include "cli-private.h"

static int
run_info (const HutchCliCommand *cmd, HutchContext *ctx, int argc, char **argv)
{
  g_autofree char *format_text = NULL;
  g_autoptr (GError) error = NULL;
  HutchFormat format;
  int status;
  const GOptionEntry entries[] = {
    { "format", 'f', 0, G_OPTION_ARG_STRING, &format_text,
      "Output format: json (default) or text", "FORMAT" },
    { NULL },
  };

  if (!hutch_cli_parse_no_args (cmd, entries, argc, argv, &status))
    return status;
  if (format_text == NULL)
    format = HUTCH_FORMAT_JSON;
  else if (!hutch_cli_format_parse (format_text, &format, &error))
    return hutch_cli_usage_error (cmd, "%s", error->message);
  return hutch_cli_host_show (ctx, format, FALSE);
}

const HutchCliCommand hutch_cli_command_info = {
  "info", "[OPTIONS]",
  "Show the host picture of 'check' as data (JSON)",
  run_info,
};
