/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* hutch run [OPTIONS] IMAGE [COMMAND [ARG...]]: an image as a container, in
 * the foreground or detached, with docker's flags where the meaning is the
 * same; hutch create takes the same flags and only makes the container. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "cli-private.h"
#include "container/container.h"
#include "run-restart.h"

static int
run_usage_error (const HutchCliCommand *cmd, HutchRunOptions *o, GError **error)
{
  int status = hutch_cli_usage_error (cmd, "%s", (*error)->message);

  g_clear_error (error);
  hutch_run_options_clear (o);
  return status;
}

/* The flags of files, names and signals, into @o. */
static gboolean
run_flags_parse (const HutchCliCommand *cmd, HutchRunOptions *o, const char *ro_tmpfs,
                 const char *stop_timeout, char **label_files, GError **error)
{
  g_autoptr (GPtrArray) labels = g_ptr_array_new_with_free_func (g_free);

  (void) cmd;
  if (ro_tmpfs != NULL && strcmp (ro_tmpfs, "true") != 0 && strcmp (ro_tmpfs, "false") != 0)
    return hutch_throw (error, HUTCH_ERROR_USAGE, "--read-only-tmpfs=%s: use true or false", ro_tmpfs);
  o->read_only_tmpfs = ro_tmpfs == NULL || strcmp (ro_tmpfs, "true") == 0;
  if (o->stop_signal != NULL && hutch_container_signal_parse (o->stop_signal) <= 0)
    return hutch_throw (error, HUTCH_ERROR_USAGE,
                        "--stop-signal %s: not a signal (use a name, as SIGINT or INT, or a number)",
                        o->stop_signal);
  if (stop_timeout != NULL)
    {
      gint64 secs;
      if (!g_ascii_string_to_signed (stop_timeout, 10, -1, G_MAXINT, &secs, NULL))
        return hutch_throw (error, HUTCH_ERROR_USAGE,
                            "--stop-timeout %s: a number of seconds, or -1 to wait forever",
                            stop_timeout);
      o->stop_timeout = (int) secs;
    }
  if (o->cidfile != NULL && g_file_test (o->cidfile, G_FILE_TEST_EXISTS))
    return hutch_throw (error, HUTCH_ERROR_USAGE,
                        "--cidfile %s exists: another container may be using it; remove it, or "
                        "name another file", o->cidfile);
  /* --label-file first, then --label, the later winning as docker */
  for (char **f = label_files; f != NULL && *f != NULL; f++)
    {
      g_autofree char *text = NULL;
      g_auto (GStrv) lines = NULL;
      if (!g_file_get_contents (*f, &text, NULL, error))
        return g_prefix_error (error, "--label-file: "), FALSE;
      lines = g_strsplit (text, "\n", -1);
      for (char **l = lines; *l != NULL; l++)
        {
          char *line = g_strstrip (*l);
          if (*line != '\0' && *line != '#')
            g_ptr_array_add (labels, g_strdup (line));
        }
    }
  for (char **l = o->labels; l != NULL && *l != NULL; l++)
    g_ptr_array_add (labels, g_strdup (*l));
  /* one entry a key: the later takes the earlier's place */
  for (guint i = 0; i < labels->len; i++)
    {
      gsize ka = strcspn (labels->pdata[i], "=");
      for (guint j = i + 1; j < labels->len;)
        {
          const char *b = labels->pdata[j];
          if (strcspn (b, "=") == ka && strncmp (labels->pdata[i], b, ka) == 0)
            {
              g_free (labels->pdata[i]);
              labels->pdata[i] = g_ptr_array_steal_index (labels, j);
            }
          else
            j++;
        }
    }
  g_strfreev (o->labels);
  g_ptr_array_add (labels, NULL);
  o->labels = (char **) g_ptr_array_free (g_steal_pointer (&labels), FALSE);
  if (o->labels[0] == NULL)
    g_clear_pointer (&o->labels, g_strfreev);
  return TRUE;
}

static int
run_or_create (const HutchCliCommand *cmd, HutchContext *ctx, int argc, char **argv, gboolean create)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *network = NULL, *driver = NULL, *init_text = NULL;
  g_autofree char *pull = NULL, *tls_text = NULL, *creds = NULL, *authfile = NULL;
  g_autofree char *memory = NULL, *memory_swap = NULL, *memory_res = NULL, *cpus = NULL;
  g_autofree char *cgroups = NULL;
  g_autofree char *log_driver = NULL;
  g_autofree char *restart = NULL, *userns = NULL;
  g_auto (GStrv) log_opts = NULL;
  gint64 cpu_shares = 0, pids_limit = 0;
  HutchPullOptions pull_opts = { 0 };
  gboolean quiet = FALSE;
  g_auto (GStrv) security = NULL, publish = NULL;
  HutchRunOptions o = { .init = TRUE, .read_only_tmpfs = TRUE, .stop_timeout = HUTCH_STOP_TIMEOUT_UNSET };
  g_autofree char *ro_tmpfs = NULL, *stop_timeout = NULL;
  g_auto (GStrv) label_files = NULL;
  g_autofree char *platform_text = NULL, *sig_proxy = NULL;
  g_autoptr (HutchPlatform) platform = NULL;
  HutchSandboxResult result = { 0 };
  g_autofree char *id = NULL;
  int status;
  const GOptionEntry entries[] = {
    { "detach", 'd', create ? G_OPTION_FLAG_HIDDEN : 0, G_OPTION_ARG_NONE, &o.detach,
      "Run in the background: print the id and return", NULL },
    { "rm", 0, 0, G_OPTION_ARG_NONE, &o.rm, "Remove the container when it exits", NULL },
    { "env", 'e', 0, G_OPTION_ARG_STRING_ARRAY, &o.env, "Set NAME=VALUE (or NAME from your environment)", "NAME[=VALUE]" },
    { "env-file", 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &o.env_files, "Read variables from FILE, a NAME=VALUE a line", "FILE" },
    { "name", 0, 0, G_OPTION_ARG_STRING, &o.name, "Name the container", "NAME" },
    { "workdir", 'w', 0, G_OPTION_ARG_STRING, &o.workdir, "Working directory inside the container", "DIR" },
    { "user", 'u', 0, G_OPTION_ARG_STRING, &o.user, "Run as uid[:gid] or name[:group] of the image", "USER" },
    { "entrypoint", 0, 0, G_OPTION_ARG_STRING, &o.entrypoint, "Replace the image's entrypoint", "CMD" },
    { "hostname", 'h', 0, G_OPTION_ARG_STRING, &o.hostname, "The container's hostname", "NAME" },
    { "volume", 'v', 0, G_OPTION_ARG_STRING_ARRAY, &o.volumes,
      "Bind a host path or a named volume at CTR (CTR alone: a new anonymous volume); OPTIONS ro, rw, z, Z, U, O, nocopy",
      "SOURCE:CTR[:OPTIONS]" },
    { "mount", 0, 0, G_OPTION_ARG_STRING_ARRAY, &o.mounts,
      "A bind, volume or tmpfs: type=bind|volume|tmpfs,source=...,target=...[,readonly]", "KEY=VALUE,..." },
    { "tmpfs", 0, 0, G_OPTION_ARG_STRING_ARRAY, &o.tmpfs, "Mount a tmpfs at CTR", "CTR[:OPTIONS]" },
    { "network", 0, 0, G_OPTION_ARG_STRING, &network,
      "slirp[:OPTIONS] (default: user-mode networking), none or host", "MODE" },
    { "allow-host", 0, 0, G_OPTION_ARG_STRING_ARRAY, &o.allow_hosts,
      "Let the container reach only these (repeatable; every refusal is logged in its egress.log)",
      "NAME|*.DOMAIN|IP|CIDR[:PORT]" },
    { "publish", 'p', 0, G_OPTION_ARG_STRING_ARRAY, &publish, "Forward a host port to the container",
      "[HOSTIP:][HOSTPORT:]CTRPORT[/udp]" },
    { "publish-all", 'P', 0, G_OPTION_ARG_NONE, &o.publish_all,
      "Forward the image's exposed ports from free host ports", NULL },
    { "read-only", 0, 0, G_OPTION_ARG_NONE, &o.read_only, "Mount the rootfs read-only", NULL },
    { "read-only-tmpfs", 0, 0, G_OPTION_ARG_STRING, &ro_tmpfs,
      "With --read-only: tmpfs at /tmp, /var/tmp and /run (default true)", "BOOL" },
    { "cidfile", 0, 0, G_OPTION_ARG_FILENAME, &o.cidfile, "Write the container's id to FILE", "FILE" },
    { "stop-signal", 0, 0, G_OPTION_ARG_STRING, &o.stop_signal,
      "The signal stop sends first (default: the image's, else SIGTERM)", "SIGNAL" },
    { "stop-timeout", 0, 0, G_OPTION_ARG_STRING, &stop_timeout,
      "Seconds stop waits before SIGKILL (default 10; -1: forever)", "SECS" },
    { "label", 'l', 0, G_OPTION_ARG_STRING_ARRAY, &o.labels, "Set a label on the container", "KEY=VALUE" },
    { "label-file", 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &label_files,
      "Read labels from FILE, a KEY=VALUE a line", "FILE" },
    { "expose", 0, 0, G_OPTION_ARG_STRING_ARRAY, &o.expose,
      "Expose a port (published on a free host port by -P)", "PORT[/PROTO]" },
    { "add-host", 0, 0, G_OPTION_ARG_STRING_ARRAY, &o.extra_hosts,
      "Add NAME at IP to /etc/hosts (host-gateway: the host)", "NAME:IP" },
    { "dns", 0, 0, G_OPTION_ARG_STRING_ARRAY, &o.dns, "A name server for /etc/resolv.conf", "IP" },
    { "dns-search", 0, 0, G_OPTION_ARG_STRING_ARRAY, &o.dns_search,
      "A search domain for /etc/resolv.conf (\".\": none)", "DOMAIN" },
    { "dns-option", 0, 0, G_OPTION_ARG_STRING_ARRAY, &o.dns_options,
      "An option for /etc/resolv.conf", "OPT" },
    { "health-cmd", 0, 0, G_OPTION_ARG_STRING, &o.health_cmd,
      "A command that says whether the container is healthy (hutch healthcheck run)", "CMD" },
    { "health-interval", 0, 0, G_OPTION_ARG_STRING, &o.health_interval,
      "Between checks, for a timer that runs them (default 30s)", "DURATION" },
    { "health-timeout", 0, 0, G_OPTION_ARG_STRING, &o.health_timeout,
      "A check running longer fails (default 30s)", "DURATION" },
    { "health-retries", 0, 0, G_OPTION_ARG_INT, &o.health_retries,
      "Failures in a row that make it unhealthy (default 3)", "N" },
    { "health-start-period", 0, 0, G_OPTION_ARG_STRING, &o.health_start_period,
      "Failures in this time after the start do not count (default 0s)", "DURATION" },
    { "no-healthcheck", 0, 0, G_OPTION_ARG_NONE, &o.no_healthcheck, "No health check, not even the image's", NULL },
    { "shm-size", 0, 0, G_OPTION_ARG_STRING, &o.shm_size, "Size of /dev/shm (default 64m)", "SIZE" },
    { "ulimit", 0, 0, G_OPTION_ARG_STRING_ARRAY, &o.ulimits, "A resource limit, as nofile=1024:2048",
      "NAME=SOFT[:HARD]" },
    { "group-add", 0, 0, G_OPTION_ARG_STRING_ARRAY, &o.group_add,
      "One more group for the command (a name of the image's, or an id)", "GROUP" },
    { "device", 0, 0, G_OPTION_ARG_STRING_ARRAY, &o.devices,
      "Give the container a device of the host's", "HOST[:CTR[:PERMS]]" },
    { "init", 0, 0, G_OPTION_ARG_STRING, &init_text, "true (default): an init is pid 1; false: the command is", "BOOL" },
    { "rootfs-driver", 0, 0, G_OPTION_ARG_STRING, &driver, "overlay, fuse-overlayfs or copy (default: the first that works)", "DRIVER" },
    { "cap-add", 0, 0, G_OPTION_ARG_STRING_ARRAY, &o.cap_add, "Add a capability (or ALL)", "CAP" },
    { "cap-drop", 0, 0, G_OPTION_ARG_STRING_ARRAY, &o.cap_drop, "Drop a capability (or ALL)", "CAP" },
    { "privileged", 0, 0, G_OPTION_ARG_NONE, &o.privileged,
      "Every capability of the user namespace, no seccomp filter", NULL },
    { "security-opt", 0, 0, G_OPTION_ARG_STRING_ARRAY, &security, "seccomp=unconfined", "OPT" },
    { "interactive", 'i', 0, G_OPTION_ARG_NONE, &o.interactive, "Keep stdin open", NULL },
    { "tty", 't', 0, G_OPTION_ARG_NONE, &o.tty, "Allocate a terminal", NULL },
    { "pull", 0, 0, G_OPTION_ARG_STRING, &pull,
      "missing (default): pull the image when the store has none; always (newer: the same); never",
      "POLICY" },
    { "platform", 0, 0, G_OPTION_ARG_STRING, &platform_text,
      "When pulling: OS/ARCH[/VARIANT] of a multi-platform image (default: this host's)", "PLATFORM" },
    { "sig-proxy", 0, 0, G_OPTION_ARG_STRING, &sig_proxy,
      "true (default): signals to hutch go to the command", "BOOL" },
    { "tls-verify", 0, 0, G_OPTION_ARG_STRING, &tls_text,
      "When pulling: false accepts any certificate, or plain HTTP", "BOOL" },
    { "creds", 0, 0, G_OPTION_ARG_STRING, &creds, "When pulling: log in as USER", "USER:PASSWORD" },
    { "authfile", 0, 0, G_OPTION_ARG_FILENAME, &authfile, "When pulling: credentials from FILE", "FILE" },
    { "quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet, "Pull without progress", NULL },
    { "memory", 'm', 0, G_OPTION_ARG_STRING, &memory, "Memory limit (512m, 2g)", "SIZE" },
    { "memory-swap", 0, 0, G_OPTION_ARG_STRING, &memory_swap, "Memory plus swap limit; -1: no swap limit", "SIZE" },
    { "memory-reservation", 0, 0, G_OPTION_ARG_STRING, &memory_res, "Memory soft limit", "SIZE" },
    { "cpus", 0, 0, G_OPTION_ARG_STRING, &cpus, "CPU time, in CPUs (0.5: half of one)", "N" },
    { "cpu-shares", 'c', 0, G_OPTION_ARG_INT64, &cpu_shares, "Relative CPU weight (docker's 2-262144)", "N" },
    { "cpuset-cpus", 0, 0, G_OPTION_ARG_STRING, &o.limits.cpuset_cpus, "The CPUs it may use (0-2,4)", "LIST" },
    { "pids-limit", 0, 0, G_OPTION_ARG_INT64, &pids_limit, "Most processes at once; -1: no limit", "N" },
    { "cgroups", 0, 0, G_OPTION_ARG_STRING, &cgroups, "enabled (default) or disabled", "MODE" },
    { "cgroup-parent", 0, 0, G_OPTION_ARG_STRING, &o.limits.parent, "The cgroup to make the container's in", "PATH" },
    { "log-driver", 0, 0, G_OPTION_ARG_STRING, &log_driver,
      "k8s-file (default; json-file is taken as it) or none", "DRIVER" },
    { "log-opt", 0, 0, G_OPTION_ARG_STRING_ARRAY, &log_opts,
      "max-size=SIZE (default 20m; -1: no cap), max-file=N (default 5)", "OPT" },
    { "restart", 0, 0, G_OPTION_ARG_STRING, &restart,
      "no (default), on-failure[:N], always or unless-stopped: start it again when it ends",
      "POLICY" },
    { "userns", 0, 0, G_OPTION_ARG_STRING, &userns,
      "keep-id: your uid and gid inside as outside (\"\": container root is you)", "MODE" },
    { NULL },
  };

  hutch_net_config_init (&o.net);
  if (!hutch_cli_parse_posix (cmd, entries, &argc, &argv, &status))
    {
      hutch_run_options_clear (&o);
      return status;
    }
  if (argc < 2)
    return hutch_cli_usage_error (cmd, "name the image to run");
  /* before anything is pulled or made */
  if (!hutch_container_state_dirs_check (ctx, &error))
    {
      hutch_run_options_clear (&o);
      return hutch_cli_fail (g_steal_pointer (&error));
    }
  if (network != NULL && !hutch_net_config_parse_mode (&o.net, network, &error))
    return run_usage_error (cmd, &o, &error);
  o.network = g_strdup (network);
  for (char **p = publish; p != NULL && *p != NULL; p++)
    if (!hutch_net_config_add_port (&o.net, *p, &error))
      return run_usage_error (cmd, &o, &error);
  for (char **a = o.allow_hosts; a != NULL && *a != NULL; a++)
    if (!hutch_net_config_add_allow (&o.net, *a, &error))
      return run_usage_error (cmd, &o, &error);
  if (hutch_net_config_has_policy (&o.net) && o.net.mode != HUTCH_NET_SLIRP)
    {
      hutch_run_options_clear (&o);
      return hutch_cli_usage_error (cmd, "--allow-host needs the slirp network, where hutch sees "
                                    "every packet the container sends: with --network %s %s; "
                                    "leave --network out, or give --network slirp",
                                    network,
                                    strcmp (network, "none") == 0
                                      ? "the container has no network to allow anything on"
                                      : "it uses the host's own network, which hutch cannot filter");
    }
  if (!run_flags_parse (cmd, &o, ro_tmpfs, stop_timeout, label_files, &error))
    return run_usage_error (cmd, &o, &error);
  if (init_text != NULL && strcmp (init_text, "true") != 0 && strcmp (init_text, "false") != 0)
    return hutch_cli_usage_error (cmd, "--init \"%s\": use true or false", init_text);
  o.init = init_text == NULL || strcmp (init_text, "true") == 0;
  if (driver != NULL)
    {
      o.driver_forced = TRUE;
      if (strcmp (driver, "overlay") == 0)
        o.driver = HUTCH_ROOTFS_OVERLAY;
      else if (strcmp (driver, "fuse-overlayfs") == 0)
        o.driver = HUTCH_ROOTFS_FUSE_OVERLAYFS;
      else if (strcmp (driver, "copy") == 0)
        o.driver = HUTCH_ROOTFS_COPY;
      else
        return hutch_cli_usage_error (cmd, "--rootfs-driver \"%s\": use overlay, fuse-overlayfs or copy",
                                      driver);
    }
  for (char **so = security; so != NULL && *so != NULL; so++)
    {
      if (strcmp (*so, "seccomp=unconfined") == 0 || strcmp (*so, "seccomp:unconfined") == 0)
        o.no_seccomp = TRUE;
      else if (strcmp (*so, "no-new-privileges") != 0 && strcmp (*so, "no-new-privileges=true") != 0)
        return hutch_cli_usage_error (cmd, "--security-opt \"%s\": hutch knows seccomp=unconfined "
                                      "(no_new_privs is always on)", *so);
    }
  if ((memory != NULL && !hutch_cgroup_parse_size ("--memory", memory, &o.limits.memory, &error))
      || (memory_res != NULL
          && !hutch_cgroup_parse_size ("--memory-reservation", memory_res, &o.limits.memory_reservation, &error))
      || (cpus != NULL && !hutch_cgroup_parse_cpus (cpus, &o.limits.cpus, &error))
      || (o.limits.cpuset_cpus != NULL && !hutch_cgroup_parse_cpuset (o.limits.cpuset_cpus, &error)))
    return run_usage_error (cmd, &o, &error);
  if (memory_swap != NULL && strcmp (memory_swap, "-1") == 0)
    o.limits.memory_swap = -1;
  else if (memory_swap != NULL
           && !hutch_cgroup_parse_size ("--memory-swap", memory_swap, &o.limits.memory_swap, &error))
    return run_usage_error (cmd, &o, &error);
  o.limits.cpu_shares = (guint64) MAX (cpu_shares, 0);
  if (cpu_shares < 0)
    o.limits.cpu_shares = 1; /* refused by validate */
  o.limits.pids_limit = pids_limit;
  if (cgroups != NULL && strcmp (cgroups, "enabled") != 0 && strcmp (cgroups, "disabled") != 0)
    return hutch_cli_usage_error (cmd, "--cgroups=%s: use enabled or disabled", cgroups);
  o.limits.disabled = cgroups != NULL && strcmp (cgroups, "disabled") == 0;
  if (!hutch_cgroup_limits_validate (&o.limits, &error))
    return run_usage_error (cmd, &o, &error);
  if (!hutch_log_config_parse (&o.log, log_driver, log_opts, &error))
    return run_usage_error (cmd, &o, &error);
  /* -v and --mount refused before anything is pulled */
  if (!hutch_container_mounts_check (&o, &error) || !hutch_cli_restart_parse (restart, &o, &error)
      || !hutch_container_userns_parse (userns, &o.userns, &error))
    return run_usage_error (cmd, &o, &error);
  if (!create)
    {
      HutchCgroupCaps caps;
      g_autofree char *why = NULL;
      gboolean ok = TRUE;
      hutch_cgroup_caps_probe (&caps);
      why = hutch_cgroup_need_scope (&caps, &o.limits);
      if (why != NULL)
        ok = hutch_cgroup_enter_scope (caps.user_bus, why, &error);
      hutch_cgroup_caps_clear (&caps);
      if (!ok)
        {
          hutch_run_options_clear (&o);
          return hutch_cli_fail (g_steal_pointer (&error));
        }
    }
  /* podman's newer: pull when the registry's differs, which a pull that
   * finds every blob in the store costs no more than asking */
  if (pull != NULL && strcmp (pull, "newer") == 0)
    {
      g_free (pull);
      pull = g_strdup ("always");
    }
  if (pull != NULL && strcmp (pull, "missing") != 0 && strcmp (pull, "always") != 0
      && strcmp (pull, "never") != 0)
    return hutch_cli_usage_error (cmd, "--pull=%s: use missing, always, newer or never", pull);
  if (sig_proxy != NULL && strcmp (sig_proxy, "true") != 0)
    return hutch_cli_usage_error (cmd, "--sig-proxy=%s: hutch's foreground run is the container's "
                                  "monitor and always passes signals on (true); to leave a "
                                  "container running apart from this terminal, use -d and "
                                  "\"hutch logs -f\"", sig_proxy);
  if (platform_text != NULL && (platform = hutch_image_platform_parse (platform_text, &error)) == NULL)
    return run_usage_error (cmd, &o, &error);
  pull_opts.platform = platform;
  pull_opts.platform_asked = platform != NULL;
  if (!hutch_cli_registry_options (&pull_opts.registry, tls_text, creds, authfile, &error))
    return run_usage_error (cmd, &o, &error);
  pull_opts.progress = hutch_cli_pull_progress (quiet);
  o.image = g_strdup (argv[1]);
  o.command = argc > 2 ? g_strdupv (argv + 2) : NULL;
  if (o.detach && o.tty && o.interactive)
    return hutch_cli_usage_error (cmd, "-d with -it: hutch cannot attach later; use -d -t, or -it "
                                  "without -d");
  /* Without -i the command reads an empty stdin, as with docker. */
  if (!o.interactive && !freopen ("/dev/null", "r", stdin))
    return hutch_cli_fail (g_error_new (HUTCH_ERROR, HUTCH_ERROR_FAILED, "opening /dev/null"));
  if (create)
    {
      g_autoptr (HutchContainer) c = NULL;
      if (hutch_cli_pull_for_run (ctx, o.image, pull, &pull_opts, &error))
        c = hutch_container_create (ctx, &o, &error);
      hutch_cli_registry_options_clear (&pull_opts.registry);
      hutch_run_options_clear (&o);
      if (c == NULL)
        return hutch_cli_fail (g_steal_pointer (&error));
      printf ("%s\n", c->id);
      return 0;
    }
  if (!hutch_cli_pull_for_run (ctx, o.image, pull, &pull_opts, &error)
      || !hutch_container_run (ctx, &o, &result, &id, &error))
    {
      hutch_cli_registry_options_clear (&pull_opts.registry);
      hutch_run_options_clear (&o);
      return hutch_cli_fail (g_steal_pointer (&error));
    }
  if (result.exec_error != NULL)
    fprintf (stderr, "hutch: %s\n", result.exec_error);
  else if (o.detach)
    printf ("%s\n", id);
  g_free (result.exec_error);
  hutch_cli_registry_options_clear (&pull_opts.registry);
  hutch_run_options_clear (&o);
  return result.status;
}

static int
run_run (const HutchCliCommand *cmd, HutchContext *ctx, int argc, char **argv)
{
  return run_or_create (cmd, ctx, argc, argv, FALSE);
}

static int
run_create (const HutchCliCommand *cmd, HutchContext *ctx, int argc, char **argv)
{
  return run_or_create (cmd, ctx, argc, argv, TRUE);
}

const HutchCliCommand hutch_cli_command_run = {
  "run", "[OPTIONS] IMAGE [COMMAND [ARG...]]",
  "Run an image as a container, in the foreground or with -d in the background",
  run_run,
};

const HutchCliCommand hutch_cli_command_create = {
  "create", "[OPTIONS] IMAGE [COMMAND [ARG...]]",
  "Make a container of an image, to start later",
  run_create,
};
