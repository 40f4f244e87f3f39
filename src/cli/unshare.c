/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* hutch unshare [COMMAND...]: a command (default: your shell) as root of a
 * user namespace mapped with your ids, as `podman unshare` does: where the
 * files of unpacked layers, owned by your subordinate ids, can be looked at
 * with their container owners, changed and removed. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli-private.h"
#include "sandbox/sandbox.h"

static int
run_unshare (const HutchCliCommand *cmd, HutchContext *ctx, int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (HutchIdMap) map = NULL;
  const char *shell = g_getenv ("SHELL");
  char *default_argv[] = { (char *) (shell != NULL && *shell != '\0' ? shell : "/bin/sh"), NULL };
  int status;

  /* Everything after "unshare" is the command's own, options included;
   * only a first -h or --help is ours. */
  if ((argc > 1 && (strcmp (argv[1], "-h") == 0 || strcmp (argv[1], "--help") == 0))
      || g_getenv (HUTCH_CLI_COMPLETE_ENV) != NULL)
    {
      hutch_cli_parse (cmd, NULL, &argc, &argv, &status);
      return status;
    }
  if (argc > 1 && strcmp (argv[1], "--") == 0)
    argc--, argv++;
  map = hutch_sandbox_idmap_new_for_user (&error);
  if (map == NULL)
    return hutch_cli_fail (g_steal_pointer (&error));
  /* The store's paths, for scripts: rm -rf "$HUTCH_ROOT/layers". */
  g_setenv ("HUTCH_ROOT", ctx->root, TRUE);
  status = hutch_sandbox_userns_exec (map, argc > 1 ? argv + 1 : default_argv, &error);
  if (status < 0)
    {
      int code = g_error_matches (error, G_FILE_ERROR, G_FILE_ERROR_NOENT) ? 127 : 126;
      fprintf (stderr, "hutch: %s\n", error->message);
      return code;
    }
  return status;
}

const HutchCliCommand hutch_cli_command_unshare = {
  "unshare", "[COMMAND [ARG...]]",
  "Run a command as root of a user namespace with your ids (default: your shell)",
  run_unshare,
};
