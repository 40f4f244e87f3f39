/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* hutch export [-o FILE] CONTAINER: its merged rootfs as one tar, to stdout
 * (never a terminal) or to FILE, which appears whole or not at all. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include "cli-private.h"
#include "container/container.h"

/* To a temporary name beside @output, renamed over it at the end, so that
 * a failed export leaves no half tar under the name asked for. */
static gboolean
export_to_file (HutchContext *ctx, const char *id, const char *output, GError **error)
{
  g_autofree char *dir = g_path_get_dirname (output);
  g_autofree char *base = g_path_get_basename (output);
  g_autofree char *tmp = g_strdup_printf ("%s/.%s.hutch-export-XXXXXX", dir, base);
  hutch_autofd int fd = g_mkstemp_full (tmp, O_WRONLY | O_CLOEXEC, 0644);
  gboolean ok;

  if (fd < 0)
    return hutch_throw_errno (error, "creating a file beside %s", output);
  ok = hutch_container_export (ctx, id, fd, error);
  if (ok && (fsync (fd) < 0 || close (g_steal_fd (&fd)) < 0))
    ok = hutch_throw_errno (error, "writing %s", output);
  if (ok && rename (tmp, output) < 0)
    ok = hutch_throw_errno (error, "renaming %s to %s", tmp, output);
  if (!ok)
    (void) unlink (tmp);
  return ok;
}

static int
run_export (const HutchCliCommand *cmd, HutchContext *ctx, int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *output = NULL, *id = NULL;
  int status;
  const GOptionEntry entries[] = {
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &output, "Write to FILE instead of stdout",
      "FILE" },
    { NULL },
  };

  if (!hutch_cli_parse (cmd, entries, &argc, &argv, &status))
    return status;
  if (argc != 2)
    return hutch_cli_usage_error (cmd, "name one container");
  if (output == NULL && isatty (STDOUT_FILENO))
    return hutch_cli_usage_error (cmd, "refusing to write a tar to a terminal: redirect stdout, "
                                       "or give -o FILE");
  if ((id = hutch_container_resolve (ctx, argv[1], &error)) == NULL
      || !(output != NULL ? export_to_file (ctx, id, output, &error)
                          : hutch_container_export (ctx, id, STDOUT_FILENO, &error)))
    {
      g_prefix_error (&error, "exporting container %s: ", argv[1]);
      return hutch_cli_fail (g_steal_pointer (&error));
    }
  return 0;
}

const HutchCliCommand hutch_cli_command_export = {
  "export", "[OPTIONS] CONTAINER",
  "Write a container's files as one tar archive",
  run_export,
};
