/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* hutch build [OPTIONS] CONTEXT: an image from a Containerfile (build/),
 * with podman's progress on stdout (STEP n/m, --> ID, the final ID); -q
 * prints only the ID. */
#include "config.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli-private.h"
#include "build/build.h"

typedef struct
{
  HutchPullOptions pull;
} PullData;

static gboolean
pull_image (HutchContext *ctx, const char *ref, const char *policy, gpointer data, GError **error)
{
  PullData *p = data;

  return hutch_cli_pull_for_run (ctx, ref, policy, &p->pull, error);
}

static void
progress (const char *line, gpointer data)
{
  (void) data;
  printf ("%s\n", line);
  fflush (stdout);
}

/* --pull alone is --pull=always (podman, docker); true and false too. */
static void
pull_flag_normalise (int argc, char **argv)
{
  for (int i = 1; i < argc && strcmp (argv[i], "--") != 0; i++)
    if (strcmp (argv[i], "--pull") == 0 || strcmp (argv[i], "--pull=true") == 0)
      argv[i] = (char *) "--pull=always";
    else if (strcmp (argv[i], "--pull=false") == 0)
      argv[i] = (char *) "--pull=missing";
}

static gboolean
write_iidfile (const char *path, const char *id, GError **error)
{
  g_autofree char *text = g_strdup (id);

  return g_file_set_contents (path, text, -1, error);
}

static int
run_build (const HutchCliCommand *cmd, HutchContext *ctx, int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_auto (GStrv) tags = NULL, build_args = NULL, labels = NULL;
  g_autofree char *file = NULL, *target = NULL, *pull = NULL, *network = NULL, *layers = NULL;
  g_autofree char *iidfile = NULL, *format = NULL, *tls_text = NULL, *creds = NULL;
  g_autofree char *authfile = NULL;
  gboolean no_cache = FALSE, quiet = FALSE;
  HutchBuildOptions o = { 0 };
  PullData pd;
  char id[HUTCH_DIGEST_BUFSIZE];
  int status = 0, saved_out = -1, saved_err = -1;
  gboolean ok;
  const GOptionEntry entries[] = {
    { "tag", 't', 0, G_OPTION_ARG_STRING_ARRAY, &tags, "Name the image NAME[:TAG] (repeatable)", "NAME" },
    { "file", 'f', 0, G_OPTION_ARG_FILENAME, &file,
      "The Containerfile (- for stdin; default: Containerfile, then Dockerfile, in the context)", "FILE" },
    { "build-arg", 0, 0, G_OPTION_ARG_STRING_ARRAY, &build_args,
      "Set an ARG: NAME=VALUE, or NAME for its value here (repeatable)", "NAME=VALUE" },
    { "target", 0, 0, G_OPTION_ARG_STRING, &target, "Build up to this stage and stop", "STAGE" },
    { "no-cache", 0, 0, G_OPTION_ARG_NONE, &no_cache, "Build every step again", NULL },
    { "pull", 0, 0, G_OPTION_ARG_STRING, &pull,
      "missing (default): pull a base image the store lacks; always (--pull alone); never", "POLICY" },
    { "network", 0, 0, G_OPTION_ARG_STRING, &network, "RUN's network: slirp (default), none or host", "MODE" },
    { "label", 0, 0, G_OPTION_ARG_STRING_ARRAY, &labels, "A label on the image (repeatable)", "KEY=VALUE" },
    { "layers", 0, 0, G_OPTION_ARG_STRING, &layers,
      "true (default): keep each step's image as the build cache; false: neither use nor keep it", "BOOL" },
    { "quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet, "Print only the image's ID", NULL },
    { "iidfile", 0, 0, G_OPTION_ARG_FILENAME, &iidfile, "Write the image's ID to FILE", "FILE" },
    { "format", 0, 0, G_OPTION_ARG_STRING, &format, "oci (default) or docker: the image's format", "FORMAT" },
    { "tls-verify", 0, 0, G_OPTION_ARG_STRING, &tls_text,
      "When pulling: false accepts any certificate, or plain HTTP", "BOOL" },
    { "creds", 0, 0, G_OPTION_ARG_STRING, &creds, "When pulling: log in as USER", "USER:PASSWORD" },
    { "authfile", 0, 0, G_OPTION_ARG_FILENAME, &authfile, "When pulling: credentials from FILE", "FILE" },
    { NULL },
  };

  memset (&pd, 0, sizeof pd);
  pull_flag_normalise (argc, argv);
  if (!hutch_cli_parse_posix (cmd, entries, &argc, &argv, &status))
    return status;
  if (argc != 2)
    return hutch_cli_usage_error (cmd, argc < 2 ? "name the build context (a directory, such as .)"
                                                : "one build context, not %d", argc - 1);
  if (pull != NULL && strcmp (pull, "missing") != 0 && strcmp (pull, "always") != 0
      && strcmp (pull, "never") != 0)
    return hutch_cli_usage_error (cmd, "--pull=%s: use missing, always or never", pull);
  if (layers != NULL && strcmp (layers, "true") != 0 && strcmp (layers, "false") != 0)
    return hutch_cli_usage_error (cmd, "--layers=%s: use true or false", layers);
  if (format != NULL && strcmp (format, "oci") != 0 && strcmp (format, "docker") != 0)
    return hutch_cli_usage_error (cmd, "--format %s: use oci or docker", format);
  if (network != NULL && strcmp (network, "slirp") != 0 && strcmp (network, "slirp4netns") != 0
      && strcmp (network, "none") != 0 && strcmp (network, "host") != 0)
    return hutch_cli_usage_error (cmd, "--network %s: use slirp, none or host", network);
  for (char **t = tags; t != NULL && *t != NULL; t++)
    {
      g_autoptr (HutchImageRef) ref = hutch_image_ref_parse (*t, &error);
      if (ref == NULL || ref->digest != NULL)
        return hutch_cli_usage_error (cmd, "-t %s: %s", *t,
                                      ref == NULL ? error->message
                                                  : "a new image's name cannot have a digest");
    }
  if (!hutch_container_state_dirs_check (ctx, &error)
      || !hutch_cli_registry_options (&pd.pull.registry, tls_text, creds, authfile, &error))
    return hutch_cli_fail (g_steal_pointer (&error));
  pd.pull.progress = hutch_cli_pull_progress (quiet);
  /* RUN's commands read an empty stdin, as docker's; a Containerfile from
   * stdin (-f -) is read first and leaves it at its end */
  if ((file == NULL || strcmp (file, "-") != 0) && !freopen ("/dev/null", "r", stdin))
    return hutch_cli_fail (g_error_new (HUTCH_ERROR, HUTCH_ERROR_FAILED, "opening /dev/null"));
  o.file = file;
  o.context = argv[1];
  o.tags = tags;
  o.build_args = build_args;
  o.target = target;
  o.no_cache = no_cache;
  o.pull = pull;
  o.network = network != NULL && strcmp (network, "slirp4netns") == 0 ? "slirp" : network;
  o.labels = labels;
  o.no_layers = layers != NULL && strcmp (layers, "false") == 0;
  o.docker = format != NULL && strcmp (format, "docker") == 0;
  o.pull_func = pull_image;
  o.pull_data = &pd;
  o.progress = quiet ? NULL : progress;
  if (quiet)
    {
      /* the steps' own output too, as docker build -q */
      hutch_autofd int null = open ("/dev/null", O_WRONLY | O_CLOEXEC);
      fflush (stdout);
      saved_out = fcntl (STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
      saved_err = fcntl (STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
      if (null < 0 || saved_out < 0 || saved_err < 0 || dup2 (null, STDOUT_FILENO) < 0
          || dup2 (null, STDERR_FILENO) < 0)
        return hutch_cli_fail (g_error_new (HUTCH_ERROR, HUTCH_ERROR_FAILED, "opening /dev/null"));
    }
  ok = hutch_build_image (ctx, &o, id, &status, &error);
  if (quiet)
    {
      dup2 (saved_out, STDOUT_FILENO);
      dup2 (saved_err, STDERR_FILENO);
      hutch_fd_clear (&saved_out);
      hutch_fd_clear (&saved_err);
    }
  hutch_cli_registry_options_clear (&pd.pull.registry);
  if (!ok)
    {
      int code = status;
      hutch_cli_explain_full_disk (ctx, error, NULL);
      hutch_cli_fail (g_steal_pointer (&error));
      return code != 0 ? code : HUTCH_EXIT_FAILURE;
    }
  if (iidfile != NULL && !write_iidfile (iidfile, id, &error))
    return hutch_cli_fail (g_steal_pointer (&error));
  printf ("%s\n", id + 7);
  return fflush (stdout) == 0 ? 0 : HUTCH_EXIT_FAILURE;
}

const HutchCliCommand hutch_cli_command_build = {
  "build", "[OPTIONS] CONTEXT",
  "Build an image from a Containerfile (or Dockerfile) and a context directory",
  run_build,
};
