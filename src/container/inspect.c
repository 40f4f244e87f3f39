/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* `hutch inspect CONTAINER`: docker's document, as far as hutch has its
 * fields: the record (state, ports) and config.json (the process, the
 * mounts). */
#include "config.h"

#include <arpa/inet.h>
#include <string.h>

#include "container-private.h"

static void
str (HutchJsonWriter *w, const char *key, const char *value)
{
  hutch_json_key (w, key);
  hutch_json_string (w, value);
}

static void
boolean (HutchJsonWriter *w, const char *key, gboolean value)
{
  hutch_json_key (w, key);
  hutch_json_bool (w, value);
}

static void
strv (HutchJsonWriter *w, const char *key, char **v)
{
  hutch_json_key (w, key);
  hutch_json_begin_array (w);
  for (; v != NULL && *v != NULL; v++)
    hutch_json_string (w, *v);
  hutch_json_end_array (w);
}

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
          str (w, "HostIp", ip);
          str (w, "HostPort", q->host_port != 0 ? port : "");
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
  str (w, "Id", c->id);
  str (w, "Created", created);
  str (w, "Path", spec.argv[0]);
  strv (w, "Args", spec.argv + 1);
  hutch_json_key (w, "State");
  hutch_json_begin_object (w);
  str (w, "Status", hutch_container_status_name (c->status));
  boolean (w, "Running", running);
  boolean (w, "Paused", FALSE);
  boolean (w, "Restarting", FALSE);
  boolean (w, "OOMKilled", FALSE);
  boolean (w, "Dead", FALSE);
  hutch_json_key (w, "Pid");
  hutch_json_int (w, running ? c->init_pid : 0);
  hutch_json_key (w, "MonitorPid");
  hutch_json_int (w, running ? c->monitor_pid : 0);
  hutch_json_key (w, "ExitCode");
  hutch_json_int (w, c->exit_code);
  str (w, "Error", c->error != NULL ? c->error : "");
  str (w, "StartedAt", c->started_at != 0 ? started : "0001-01-01T00:00:00Z");
  str (w, "FinishedAt", c->finished_at != 0 ? finished : "0001-01-01T00:00:00Z");
  hutch_json_end_object (w);
  str (w, "Image", c->image_id);
  str (w, "ImageName", c->image);
  str (w, "Name", name);
  str (w, "Driver", hutch_rootfs_driver_name (spec.driver));
  str (w, "LogPath", log);
  hutch_json_key (w, "Config");
  hutch_json_begin_object (w);
  str (w, "Hostname", spec.hostname);
  str (w, "User", spec.user != NULL ? spec.user : "");
  boolean (w, "Tty", spec.tty);
  boolean (w, "OpenStdin", spec.input);
  strv (w, "Env", spec.env);
  strv (w, "Cmd", spec.argv);
  str (w, "Image", c->image);
  str (w, "WorkingDir", spec.cwd);
  str (w, "StopSignal", c->stop_signal != NULL ? c->stop_signal : "SIGTERM");
  hutch_json_end_object (w);
  hutch_json_key (w, "HostConfig");
  hutch_json_begin_object (w);
  boolean (w, "AutoRemove", c->auto_remove);
  str (w, "NetworkMode", c->network != NULL ? c->network : "slirp");
  boolean (w, "ReadonlyRootfs", spec.read_only);
  boolean (w, "Init", spec.init);
  hutch_json_key (w, "PortBindings");
  ports (w, c->ports);
  hutch_json_end_object (w);
  hutch_json_key (w, "Mounts");
  hutch_json_begin_array (w);
  for (guint i = 0; i < spec.mounts->len; i++)
    {
      const HutchSandboxMount *m = spec.mounts->pdata[i];
      hutch_json_begin_object (w);
      str (w, "Type", m->source != NULL ? "bind" : "tmpfs");
      str (w, "Source", m->source != NULL ? m->source : "");
      str (w, "Destination", m->target);
      boolean (w, "RW", !m->readonly);
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
