/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* hutch cp [-a] CONTAINER:PATH HOSTPATH|-  and  hutch cp [-a] HOSTPATH|- CONTAINER:PATH:
 * which argument names the container, as docker cp reads it; the copy
 * itself is container/copy.c's. */
#include "config.h"

#include <string.h>
#include <unistd.h>

#include "cli-private.h"
#include "container/container.h"

/* "NAME:PATH" names a container path; a host path with a ':' in it is
 * written "./a:b" or "/a:b" (docker's rule: a '/' before the ':' makes
 * it a host path). Returns the container's name, or NULL. */
static char *
split_container (const char *arg, const char **out_path)
{
  const char *colon = strchr (arg, ':');

  if (colon == NULL || colon == arg || arg[0] == '/' || arg[0] == '.'
      || memchr (arg, '/', (gsize) (colon - arg)) != NULL)
    return NULL;
  *out_path = colon + 1;
  return g_strndup (arg, (gsize) (colon - arg));
}

static int
run_cp (const HutchCliCommand *cmd, HutchContext *ctx, int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *src_ctr = NULL, *dst_ctr = NULL, *id = NULL;
  const char *src_path = NULL, *dst_path = NULL;
  gboolean archive = FALSE;
  HutchCopyOptions o = { 0 };
  int status;
  const GOptionEntry entries[] = {
    { "archive", 'a', 0, G_OPTION_ARG_NONE, &archive,
      "Keep owners (uid and gid) of what is copied into the container", NULL },
    { NULL },
  };

  if (!hutch_cli_parse (cmd, entries, &argc, &argv, &status))
    return status;
  if (argc != 3)
    return hutch_cli_usage_error (cmd, "give a source and a destination, one of them "
                                       "CONTAINER:PATH");
  src_ctr = split_container (argv[1], &src_path);
  dst_ctr = split_container (argv[2], &dst_path);
  if ((src_ctr == NULL) == (dst_ctr == NULL))
    return hutch_cli_usage_error (cmd, "%s: exactly one of source and destination is "
                                       "CONTAINER:PATH (a host path with ':' is written ./%s)",
                                  src_ctr != NULL ? "copying between containers is not "
                                                    "supported"
                                                  : "no container named",
                                  src_ctr != NULL ? argv[1] : argv[1]);
  o.ref = src_ctr != NULL ? src_ctr : dst_ctr;
  o.path = src_ctr != NULL ? src_path : dst_path;
  o.host = src_ctr != NULL ? argv[2] : argv[1];
  o.archive = archive;
  if (*o.path == '\0')
    return hutch_cli_usage_error (cmd, "no path after \"%s:\"", o.ref);
  if (strcmp (o.host, "-") == 0)
    o.host = NULL;
  if (o.host != NULL && *o.host == '\0')
    return hutch_cli_usage_error (cmd, "an empty host path");
  if (src_ctr != NULL && o.host == NULL && isatty (STDOUT_FILENO))
    return hutch_cli_usage_error (cmd, "refusing to write a tar to a terminal: redirect stdout, "
                                       "or give a host path");
  if (dst_ctr != NULL && o.host == NULL && (ctx->stdin_closed || isatty (STDIN_FILENO)))
    return hutch_cli_usage_error (cmd, "\"-\" reads a tar from stdin: pipe one in");
  if ((id = hutch_container_resolve (ctx, o.ref, &error)) == NULL
      || !(src_ctr != NULL ? hutch_container_copy_out (ctx, id, &o, &error)
                           : hutch_container_copy_in (ctx, id, &o, &error)))
    return hutch_cli_fail (g_steal_pointer (&error));
  return 0;
}

const HutchCliCommand hutch_cli_command_cp = {
  "cp", "[OPTIONS] CONTAINER:PATH HOSTPATH|-  or  HOSTPATH|- CONTAINER:PATH",
  "Copy files between a container and the host",
  run_cp,
};
