/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* hutch generate systemd: a systemd user unit that runs a container, as
 * podman generate systemd writes one. hutch has no daemon: such a unit is
 * what starts a container after the user logs in again or the machine
 * restarts. The unit's main process is `hutch start -a`, the container's
 * monitor, so its end is the container's and systemd's Restart= replaces
 * the container's own --restart policy. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "cli-private.h"
#include "container/container.h"

/* systemd's restart settings (systemd.service(5), Restart=). */
static const char *const systemd_policies[] = {
  "no", "on-success", "on-failure", "on-abnormal", "on-watchdog", "on-abort", "always", NULL,
};

/* One word of a command line as systemd reads it: quoted when it holds
 * a space or a quote, "%" and "$" doubled so that no specifier or
 * variable is expanded (systemd.service(5), "Command lines"). */
static void
append_word (GString *s, const char *word)
{
  gboolean quote = word[0] == '\0' || strpbrk (word, " \t\"'\\;") != NULL;

  g_string_append_c (s, ' ');
  if (quote)
    g_string_append_c (s, '"');
  for (const char *p = word; *p != '\0'; p++)
    {
      if (*p == '%' || *p == '$')
        g_string_append_c (s, *p);
      else if (quote && (*p == '"' || *p == '\\'))
        g_string_append_c (s, '\\');
      g_string_append_c (s, *p);
    }
  if (quote)
    g_string_append_c (s, '"');
}

/* "BIN --root ROOT --runroot RUNROOT": the store the container is in,
 * whatever the unit's environment would make the default. */
static GString *
command_start (const HutchContext *ctx, const char *bin)
{
  GString *s = g_string_new (NULL);

  append_word (s, bin);
  g_string_erase (s, 0, 1);
  append_word (s, "--root");
  append_word (s, ctx->root);
  append_word (s, "--runroot");
  append_word (s, ctx->runroot);
  return s;
}

/* Restart= when none is asked: the container's own policy, or podman's
 * default, on-failure. */
static const char *
policy_default (const HutchContainer *c)
{
  return c->restart.kind == HUTCH_RESTART_ALWAYS || c->restart.kind == HUTCH_RESTART_UNLESS_STOPPED
           ? "always"
           : "on-failure";
}

static char *
unit_text (const HutchContext *ctx, const HutchContainer *c, const char *ref, const char *policy,
           int stop_time)
{
  g_autofree char *bin = g_file_read_link ("/proc/self/exe", NULL);
  g_autoptr (GString) start = command_start (ctx, bin != NULL ? bin : "/usr/bin/hutch");
  g_autoptr (GString) stop = command_start (ctx, bin != NULL ? bin : "/usr/bin/hutch");
  g_autofree char *time_text = g_strdup_printf ("%d", stop_time);
  GString *u = g_string_new (NULL);

  g_string_append (start, " start -a");
  append_word (start, ref);
  g_string_append (stop, " stop -t");
  append_word (stop, time_text);
  append_word (stop, ref);
  g_string_append_printf (u, "# container-%s.service\n", c->name);
  g_string_append_printf (u, "# made by hutch generate systemd (hutch %s)\n", HUTCH_VERSION);
  g_string_append (u, "# Put it in ~/.config/systemd/user/, then: systemctl --user daemon-reload;\n"
                      "# systemctl --user enable --now THIS.service. For it to start\n"
                      "# at boot, without a login: loginctl enable-linger\n\n");
  g_string_append (u, "[Unit]\n");
  g_string_append_printf (u, "Description=hutch container %s\n", c->name);
  g_string_append (u, "Documentation=man:hutch-generate(1)\n"
                      "Wants=network-online.target\n"
                      "After=network-online.target\n\n");
  g_string_append (u, "[Service]\n");
  /* systemd restarts it, not the container's own policy (restart.c) */
  g_string_append_printf (u, "Environment=%s=1\n", HUTCH_RESTART_BY_ENV);
  g_string_append_printf (u, "Restart=%s\n", policy);
  /* the stop's grace time, and a minute for the rest, as podman */
  g_string_append_printf (u, "TimeoutStopSec=%d\n", stop_time + 60);
  /* `hutch start -a` stays in the foreground: it is the container's
   * monitor, and exits with the container's code */
  g_string_append (u, "Type=exec\n");
  g_string_append_printf (u, "ExecStart=%s\n", start->str);
  g_string_append_printf (u, "ExecStop=%s\n\n", stop->str);
  g_string_append (u, "[Install]\nWantedBy=default.target\n");
  return g_string_free (u, FALSE);
}

static int
run_generate_systemd (const HutchCliCommand *cmd, HutchContext *ctx, int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *policy = NULL, *id = NULL, *text = NULL;
  g_autoptr (HutchContainer) c = NULL;
  gboolean name = FALSE, new_ = FALSE;
  int stop_time = 10, status;
  const GOptionEntry entries[] = {
    { "name", 'n', 0, G_OPTION_ARG_NONE, &name, "Name the container by its name, not its id", NULL },
    { "restart-policy", 0, 0, G_OPTION_ARG_STRING, &policy,
      "systemd's Restart= (default: always for a container made with --restart always or "
      "unless-stopped, else on-failure)",
      "POLICY" },
    { "time", 't', 0, G_OPTION_ARG_INT, &stop_time, "Seconds hutch stop waits before SIGKILL (default 10)", "SECS" },
    { "new", 0, 0, G_OPTION_ARG_NONE, &new_, "Not supported yet (see hutch-generate(1))", NULL },
    { NULL },
  };

  if (!hutch_cli_parse (cmd, entries, &argc, &argv, &status))
    return status;
  if (argc != 2)
    return hutch_cli_usage_error (cmd, "name one container");
  if (new_)
    return hutch_cli_usage_error (cmd, "--new is not supported: hutch does not record the options "
                                  "a container was made with; generate the unit without it (it "
                                  "starts the container that exists)");
  if (policy != NULL && !g_strv_contains (systemd_policies, policy))
    return hutch_cli_usage_error (cmd, "--restart-policy \"%s\": use no, on-success, on-failure, "
                                  "on-abnormal, on-watchdog, on-abort or always", policy);
  if (stop_time < 0)
    return hutch_cli_usage_error (cmd, "--time %d: give the seconds to wait, from 0", stop_time);
  if ((id = hutch_container_resolve (ctx, argv[1], &error)) == NULL
      || (c = hutch_container_load (ctx, id, &error)) == NULL)
    return hutch_cli_fail (g_steal_pointer (&error));
  if (c->auto_remove)
    return hutch_cli_fail (g_error_new (HUTCH_ERROR, HUTCH_ERROR_USAGE,
                                        "container %s was made with --rm: it goes at its first "
                                        "end, so a unit could not start it again; make one "
                                        "without --rm",
                                        c->name));
  text = unit_text (ctx, c, name ? c->name : c->id,
                    policy != NULL ? policy : policy_default (c), stop_time);
  fputs (text, stdout);
  return 0;
}

static const HutchCliCommand generate_systemd = {
  "generate systemd", "[OPTIONS] CONTAINER",
  "Print a systemd user unit that starts the container", run_generate_systemd,
};

static int
run_generate (const HutchCliCommand *cmd, HutchContext *ctx, int argc, char **argv)
{
  static const HutchCliCommand *const subs[] = { &generate_systemd, NULL };

  return hutch_cli_run_group (cmd, subs, ctx, argc, argv);
}

const HutchCliCommand hutch_cli_command_generate = {
  "generate", "COMMAND",
  "Generate files for other tools: systemd",
  run_generate,
};
