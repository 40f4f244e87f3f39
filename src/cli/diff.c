/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* hutch diff CONTAINER: what the container changed in its rootfs, as
 * docker prints it (A added, C changed, D deleted), or with --format json
 * as docker's API gives it ([{"Path": ..., "Kind": 0|1|2}]). */
#include "config.h"

#include <stdio.h>

#include "cli-private.h"
#include "container/container.h"

static int
run_diff (const HutchCliCommand *cmd, HutchContext *ctx, int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *id = NULL, *format_text = NULL;
  g_autoptr (GPtrArray) changes = NULL;
  HutchFormat format = HUTCH_FORMAT_TEXT;
  int status;
  const GOptionEntry entries[] = {
    { "format", 0, 0, G_OPTION_ARG_STRING, &format_text, "text (A/C/D lines) or json", "FORMAT" },
    { NULL },
  };

  if (!hutch_cli_parse (cmd, entries, &argc, &argv, &status))
    return status;
  if (argc != 2)
    return hutch_cli_usage_error (cmd, "name one container");
  if (format_text != NULL && !hutch_cli_format_parse (format_text, &format, &error))
    return hutch_cli_usage_error (cmd, "%s", error->message);
  if ((id = hutch_container_resolve (ctx, argv[1], &error)) == NULL
      || (changes = hutch_container_diff (ctx, id, &error)) == NULL)
    return hutch_cli_fail (g_steal_pointer (&error));
  if (format == HUTCH_FORMAT_JSON)
    {
      g_autoptr (HutchJsonWriter) w = hutch_json_writer_new (TRUE);
      g_autofree char *text = NULL;
      hutch_json_begin_array (w);
      for (guint i = 0; i < changes->len; i++)
        {
          const char *c = changes->pdata[i];
          hutch_json_begin_object (w);
          hutch_json_member_string (w, "Path", c + 1);
          /* docker's ChangeType: 0 modified, 1 added, 2 deleted */
          hutch_json_member_int (w, "Kind", c[0] == 'C' ? 0 : c[0] == 'A' ? 1 : 2);
          hutch_json_end_object (w);
        }
      hutch_json_end_array (w);
      text = hutch_json_writer_finish (w);
      printf ("%s\n", text);
    }
  else
    for (guint i = 0; i < changes->len; i++)
      {
        const char *c = changes->pdata[i];
        printf ("%c %s\n", c[0], c + 1);
      }
  return fflush (stdout) == 0 ? 0 : HUTCH_EXIT_FAILURE;
}

const HutchCliCommand hutch_cli_command_diff = {
  "diff", "[OPTIONS] CONTAINER",
  "Show the changes of a container's files against its image",
  run_diff,
};
