/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* `hutch inspect CONTAINER`: docker's document, as far as hutch has its
 * fields: the record (state, ports) and config.json (the process, the
 * mounts). */
#include "config.h"

#include <arpa/inet.h>
#include <string.h>

#include "container-private.h"

static void
ports (HutchJsonWriter *w, GArray *list)
{
  g_autoptr (GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

  hutch_json_begin_object (w);
  for (guint i = 0; i < list->len; i++)
    {
      const HutchNetPort *p = &g_array_index (list, HutchNetPort, i);
      g_autofree char *key = g_strdup_printf ("%u/%s", p->ctr_port, p->udp ? "udp" : "tcp");
      if (!g_hash_table_add (seen, g_strdup (key)))
        continue;
      hutch_json_key (w, key);
      hutch_json_begin_array (w);
      for (guint j = i; j < list->len; j++)
        {
          const HutchNetPort *q = &g_array_index (list, HutchNetPort, j);
          char ip[INET_ADDRSTRLEN] = "0.0.0.0";
          g_autofree char *port = g_strdup_printf ("%u", q->host_port);
          if (q->ctr_port != p->ctr_port || q->udp != p->udp)
            continue;
          (void) inet_ntop (AF_INET, &q->host_ip, ip, sizeof ip);
          hutch_json_begin_object (w);
          hutch_json_member_string (w, "HostIp", ip);
          hutch_json_member_string (w, "HostPort", q->host_port != 0 ? port : "");
          hutch_json_end_object (w);
        }
      hutch_json_end_array (w);
    }
  hutch_json_end_object (w);
}

gboolean
hutch_container_inspect_write (const HutchContext *ctx, const HutchContainer *c, HutchJsonWriter *w,
                               GError **error)
{
  g_autofree char *dir = hutch_container_dir (ctx, c->id);
  g_autofree char *log = g_build_filename (dir, "ctr.log", NULL);
  g_autofree char *created = hutch_container_time_text (c->created);
  g_autofree char *started = hutch_container_time_text (c->started_at);
  g_autofree char *finished = hutch_container_time_text (c->finished_at);
  g_autofree char *name = g_strconcat ("/", c->name, NULL);
  HutchSandboxSpec spec = { .cleanup_fd = -1 };
  gboolean running = c->status == HUTCH_CONTAINER_RUNNING;

  if (!hutch_container_spec_read (dir, &spec, error))
    return FALSE;
  hutch_json_begin_object (w);
  hutch_json_member_string (w, "Id", c->id);
  hutch_json_member_string (w, "Created", created);
  hutch_json_member_string (w, "Path", spec.argv[0]);
  hutch_json_member_strv (w, "Args", spec.argv + 1);
  hutch_json_key (w, "State");
  hutch_json_begin_object (w);
  hutch_json_member_string (w, "Status", c->restarting           ? "restarting"
                                         : running && c->paused ? "paused"
                                                                : hutch_container_status_name (c->status));
  hutch_json_member_bool (w, "Running", running);
  hutch_json_member_bool (w, "Paused", running && c->paused);
  hutch_json_member_bool (w, "Restarting", c->restarting);
  hutch_json_member_bool (w, "OOMKilled", c->oom_killed);
  hutch_json_member_bool (w, "Dead", FALSE);
  hutch_json_member_int (w, "Pid", running ? c->init_pid : 0);
  hutch_json_member_int (w, "MonitorPid", running ? c->monitor_pid : 0);
  hutch_json_member_int (w, "ExitCode", c->exit_code);
  hutch_container_health_inspect (ctx, c, w, FALSE);
  hutch_json_member_string (w, "Error", c->error != NULL ? c->error : "");
  /* hutch's own: what the log could not keep (docker has no such field) */
  hutch_json_member_string (w, "LogError", c->log_error != NULL ? c->log_error : "");
  hutch_json_member_string (w, "StartedAt", c->started_at != 0 ? started : "0001-01-01T00:00:00Z");
  hutch_json_member_string (w, "FinishedAt", c->finished_at != 0 ? finished : "0001-01-01T00:00:00Z");
  hutch_json_end_object (w);
  hutch_json_member_string (w, "Image", c->image_id);
  hutch_json_member_string (w, "ImageName", c->image);
  hutch_json_member_string (w, "Name", name);
  hutch_json_member_int (w, "RestartCount", c->restart_count);
  hutch_json_member_string (w, "Driver", hutch_rootfs_driver_name (spec.driver));
  hutch_json_member_string (w, "LogPath", log);
  hutch_json_key (w, "Config");
  hutch_json_begin_object (w);
  hutch_json_member_string (w, "Hostname", spec.hostname);
  hutch_json_member_string (w, "User", spec.user != NULL ? spec.user : "");
  hutch_json_member_bool (w, "Tty", spec.tty);
  hutch_json_member_bool (w, "OpenStdin", spec.input);
  hutch_json_member_strv (w, "Env", spec.env);
  hutch_json_member_strv (w, "Cmd", spec.argv);
  hutch_json_member_string (w, "Image", c->image);
  hutch_json_member_string (w, "WorkingDir", spec.cwd);
  hutch_json_member_string (w, "StopSignal", c->stop_signal != NULL ? c->stop_signal : "SIGTERM");
  if (c->stop_timeout != HUTCH_STOP_TIMEOUT_UNSET)
    hutch_json_member_int (w, "StopTimeout", c->stop_timeout);
  hutch_container_health_inspect (ctx, c, w, TRUE);
  hutch_json_key (w, "Labels");
  hutch_json_begin_object (w);
  for (char **l = c->labels; l != NULL && *l != NULL; l++)
    {
      const char *eq = strchr (*l, '=');
      g_autofree char *key = eq != NULL ? g_strndup (*l, (gsize) (eq - *l)) : g_strdup (*l);
      hutch_json_member_string (w, key, eq != NULL ? eq + 1 : "");
    }
  hutch_json_end_object (w);
  hutch_json_end_object (w);
  hutch_json_key (w, "HostConfig");
  hutch_json_begin_object (w);
  hutch_json_member_bool (w, "AutoRemove", c->auto_remove);
  hutch_json_member_string (w, "NetworkMode", c->network != NULL ? c->network : "slirp");
  hutch_json_member_string (w, "UsernsMode", hutch_container_userns_name (c->userns));
  hutch_json_member_bool (w, "ReadonlyRootfs", spec.read_only);
  hutch_json_member_bool (w, "Init", spec.init);
  hutch_json_member_string (w, "CgroupPath", c->cgroup);
  hutch_json_member_strv (w, "ExtraHosts", c->extra_hosts);
  hutch_json_member_strv (w, "Dns", c->dns);
  hutch_json_member_strv (w, "DnsSearch", c->dns_search);
  hutch_json_member_strv (w, "DnsOptions", c->dns_options);
  /* hutch's own: the egress policy and where its refusals are logged */
  hutch_json_member_strv (w, "AllowHosts", c->allow_hosts);
  if (c->allow_hosts != NULL && c->allow_hosts[0] != NULL)
    {
      g_autofree char *egress = g_build_filename (dir, "egress.log", NULL);
      hutch_json_member_string (w, "EgressLog", egress);
    }
  hutch_json_key (w, "RestartPolicy");
  hutch_json_begin_object (w);
  hutch_json_member_string (w, "Name", hutch_container_restart_kind_name (c->restart.kind));
  hutch_json_member_int (w, "MaximumRetryCount", c->restart.max_retries);
  hutch_json_end_object (w);
  hutch_json_key (w, "LogConfig");
  hutch_json_begin_object (w);
  hutch_json_member_string (w, "Type", hutch_log_driver_name (c->log.driver));
  hutch_json_key (w, "Config");
  hutch_json_begin_object (w);
  if (c->log.driver != HUTCH_LOG_DRIVER_NONE)
    {
      /* docker's strings, with hutch's defaults filled in */
      g_autofree char *size = hutch_log_size_text (c->log.max_size);
      g_autofree char *files = g_strdup_printf ("%d", c->log.max_file);
      hutch_json_member_string (w, "max-size", size);
      hutch_json_member_string (w, "max-file", files);
    }
  hutch_json_end_object (w);
  hutch_json_end_object (w);
  hutch_json_key (w, "PortBindings");
  ports (w, c->ports);
  hutch_json_end_object (w);
  hutch_json_key (w, "Mounts");
  hutch_json_begin_array (w);
  for (guint i = 0; i < spec.mounts->len; i++)
    {
      const HutchSandboxMount *m = spec.mounts->pdata[i];
      /* keep-id's /etc/passwd and /etc/group are hutch's, as /etc/hosts is:
       * no mount the user made */
      if (m->source != NULL && g_str_has_prefix (m->source, dir)
          && m->source[strlen (dir)] == '/')
        continue;
      hutch_json_begin_object (w);
      hutch_json_member_string (w, "Type", m->volume != NULL   ? "volume"
                                           : m->source != NULL ? "bind"
                                                               : "tmpfs");
      if (m->volume != NULL)
        hutch_json_member_string (w, "Name", m->volume);
      hutch_json_member_string (w, "Source", m->source != NULL ? m->source : "");
      hutch_json_member_string (w, "Destination", m->target);
      if (m->volume != NULL)
        hutch_json_member_string (w, "Driver", "local");
      hutch_json_member_string (w, "Mode", m->overlay ? "O" : m->chown ? "U" : "");
      hutch_json_member_bool (w, "RW", !m->readonly);
      hutch_json_end_object (w);
    }
  hutch_json_end_array (w);
  hutch_json_key (w, "NetworkSettings");
  hutch_json_begin_object (w);
  hutch_json_key (w, "Ports");
  ports (w, running ? c->bound : c->ports);
  hutch_json_end_object (w);
  hutch_json_end_object (w);
  hutch_container_spec_clear (&spec);
  return TRUE;
}
