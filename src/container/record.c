/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Container records: containers/<id>/hutch.json in the store (what `ps`
 * and `inspect` show, rewritten atomically at each change of state) and
 * <runroot>/containers/<id>/live, which the monitor holds locked while the
 * container runs. A record that says running without that lock held is a
 * container whose monitor was killed or whose machine restarted: it reads
 * as exited, never as running. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "container-private.h"

#define RECORD "hutch.json"
/* Room for the record of a container's end, taken before it runs: its
 * upper directory is on the store's disk, and a container that filled it
 * left none for the monitor to write the exit status, which then read as
 * 137. The record as it is (a few KiB; a published port adds 90 bytes),
 * and room for what its end adds (the error, the log's failure: a few
 * hundred bytes each). */
#define RESERVE "hutch.json.end"
#define RESERVE_SLACK (16 * 1024)

void
hutch_container_free (HutchContainer *c)
{
  if (c == NULL)
    return;
  g_free (c->id);
  g_free (c->name);
  g_free (c->image);
  g_free (c->image_id);
  g_strfreev (c->command);
  g_free (c->error);
  g_free (c->network);
  if (c->ports != NULL)
    g_array_unref (c->ports);
  if (c->bound != NULL)
    g_array_unref (c->bound);
  g_free (c->stop_signal);
  g_strfreev (c->labels);
  g_strfreev (c->extra_hosts);
  g_strfreev (c->dns);
  g_strfreev (c->dns_search);
  g_strfreev (c->dns_options);
  g_strfreev (c->allow_hosts);
  g_free (c->cgroup);
  g_free (c->log_error);
  g_free (c);
}

char *
hutch_container_dir (const HutchContext *ctx, const char *id)
{
  return g_build_filename (ctx->root, "containers", id, NULL);
}

char *
hutch_container_run_dir (const HutchContext *ctx, const char *id, GError **error)
{
  /* Without XDG_RUNTIME_DIR the runroot is /tmp/hutch-run-UID, which
   * another user can make first, or plant a symlink at: the pids and
   * sockets in it are only trusted once it is checked to be ours, not a
   * symlink, and writable by no one else. Then nothing below it can be
   * changed by another user (and /tmp's sticky bit keeps it in place). */
  if (!hutch_util_ensure_private_dir (ctx->runroot, 0700, error))
    return g_prefix_error (error, "the live state of containers: "), NULL;
  return g_build_filename (ctx->runroot, "containers", id, NULL);
}

gboolean
hutch_container_state_dirs_check (const HutchContext *ctx, GError **error)
{
  if (!hutch_util_ensure_private_dir (ctx->root, 0700, error))
    return g_prefix_error (error, "the store: "), FALSE;
  if (!hutch_util_ensure_private_dir (ctx->runroot, 0700, error))
    return g_prefix_error (error, "the live state of containers: "), FALSE;
  return TRUE;
}

int
hutch_container_pidfd (const HutchContainer *c, gboolean monitor, GError **error)
{
  g_autofree char *what = g_strdup_printf (monitor ? "the monitor of container %s" : "container %s's pid 1",
                                           c->name);

  return hutch_util_pidfd_open_checked (monitor ? c->monitor_pid : c->init_pid,
                                        monitor ? c->monitor_start : c->init_start, what, error);
}

int
hutch_container_lock (const HutchContext *ctx, const char *id, GError **error)
{
  g_autofree char *dir = hutch_container_dir (ctx, id);
  g_autofree char *path = g_build_filename (dir, "lock", NULL);
  hutch_autofd int fd = open (path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);

  if (fd < 0 && errno == ENOENT)
    return hutch_throw (error, HUTCH_ERROR_NOT_FOUND, "container %.12s has been removed", id), -1;
  if (fd < 0)
    return hutch_throw_errno (error, "locking container %.12s", id), -1;
  while (flock (fd, LOCK_EX) < 0)
    if (errno != EINTR)
      return hutch_throw_errno (error, "locking container %.12s", id), -1;
  /* removed while we waited? */
  if (access (dir, F_OK) < 0)
    return hutch_throw (error, HUTCH_ERROR_NOT_FOUND, "container %.12s has just been removed", id),
           -1;
  return hutch_fd_steal (&fd);
}

const char *
hutch_container_status_name (HutchContainerStatus status)
{
  switch (status)
    {
    case HUTCH_CONTAINER_CREATED:
      return "created";
    case HUTCH_CONTAINER_RUNNING:
      return "running";
    case HUTCH_CONTAINER_EXITED:
    default:
      return "exited";
    }
}

char *
hutch_container_time_text (gint64 usec)
{
  g_autoptr (GDateTime) t = g_date_time_new_from_unix_utc (usec / G_USEC_PER_SEC);
  g_autoptr (GDateTime) exact = t != NULL ? g_date_time_add (t, usec % G_USEC_PER_SEC) : NULL;

  return exact != NULL ? g_date_time_format (exact, "%Y-%m-%dT%H:%M:%S.%fZ")
                       : g_strdup ("0001-01-01T00:00:00Z");
}

static gint64
time_parse (const HutchJsonNode *n)
{
  g_autoptr (GDateTime) t = NULL;

  if (n == NULL || n->type != HUTCH_JSON_STRING
      || (t = g_date_time_new_from_iso8601 (n->string, NULL)) == NULL)
    return 0;
  return g_date_time_to_unix (t) * G_USEC_PER_SEC + g_date_time_get_microsecond (t);
}

static void
write_ports (HutchJsonWriter *w, const char *key, GArray *ports)
{
  hutch_json_key (w, key);
  hutch_json_begin_array (w);
  for (guint i = 0; ports != NULL && i < ports->len; i++)
    {
      const HutchNetPort *p = &g_array_index (ports, HutchNetPort, i);
      char ip[INET_ADDRSTRLEN] = "0.0.0.0";
      (void) inet_ntop (AF_INET, &p->host_ip, ip, sizeof ip);
      hutch_json_begin_object (w);
      hutch_json_member_string (w, "HostIp", ip);
      hutch_json_member_int (w, "HostPort", p->host_port);
      hutch_json_member_int (w, "ContainerPort", p->ctr_port);
      hutch_json_member_string (w, "Protocol", p->udp ? "udp" : "tcp");
      hutch_json_end_object (w);
    }
  hutch_json_end_array (w);
}

static GArray *
read_ports (const HutchJsonNode *n)
{
  GArray *ports = g_array_new (FALSE, TRUE, sizeof (HutchNetPort));

  for (guint i = 0; n != NULL && n->type == HUTCH_JSON_ARRAY && i < n->n_members; i++)
    {
      const HutchJsonNode *o = n->members[i];
      const HutchJsonNode *ip = hutch_json_node_member (o, "HostIp");
      const HutchJsonNode *hp = hutch_json_node_member (o, "HostPort");
      const HutchJsonNode *cp = hutch_json_node_member (o, "ContainerPort");
      const HutchJsonNode *proto = hutch_json_node_member (o, "Protocol");
      HutchNetPort p = { 0 };
      if (hp == NULL || !hp->is_int || cp == NULL || !cp->is_int || hp->integer < 0
          || hp->integer > 65535 || cp->integer < 1 || cp->integer > 65535)
        continue;
      p.host_port = (guint16) hp->integer;
      p.ctr_port = (guint16) cp->integer;
      p.udp = proto != NULL && g_strcmp0 (proto->string, "udp") == 0;
      if (ip == NULL || ip->type != HUTCH_JSON_STRING || inet_pton (AF_INET, ip->string, &p.host_ip) != 1)
        p.host_ip.s_addr = INADDR_ANY;
      g_array_append_val (ports, p);
    }
  return ports;
}

/* A record without LogConfig (of a hutch before it) gets the default
 * cap from its next start. */
static void
read_log_config (const HutchJsonNode *n, HutchLogConfig *out)
{
  const HutchJsonNode *type = hutch_json_node_member (n, "Type");
  const HutchJsonNode *size = hutch_json_node_member (n, "MaxSize");
  const HutchJsonNode *files = hutch_json_node_member (n, "MaxFile");

  *out = (HutchLogConfig) { 0 };
  out->driver = type != NULL && type->type == HUTCH_JSON_STRING && g_str_equal (type->string, "none")
                  ? HUTCH_LOG_DRIVER_NONE : HUTCH_LOG_DRIVER_K8S_FILE;
  if (size != NULL && size->is_int && (size->integer > 0 || size->integer == -1))
    out->max_size = size->integer;
  if (files != NULL && files->is_int && files->integer >= 1
      && files->integer <= HUTCH_LOG_MAX_FILE_LIMIT)
    out->max_file = (int) files->integer;
  hutch_log_config_resolve (out);
}

/* RestartPolicy and RestartCount; a record without them (of a hutch
 * before --restart) has the policy no. The stop mark is a file of its
 * own (restart.c): the monitor's copy of the record does not know it. */
static void
read_restart (const HutchJsonNode *root, HutchContainer *c)
{
  const HutchJsonNode *policy = hutch_json_node_member (root, "RestartPolicy");
  const HutchJsonNode *name = hutch_json_node_member (policy, "Name");
  const HutchJsonNode *max = hutch_json_node_member (policy, "MaximumRetryCount");
  const HutchJsonNode *count = hutch_json_node_member (root, "RestartCount");
  HutchRestartPolicy p = { HUTCH_RESTART_NO, 0 };

  if (name != NULL && name->type == HUTCH_JSON_STRING
      && hutch_container_restart_policy_parse (name->string, &p, NULL) && max != NULL
      && max->is_int && max->integer >= 0 && max->integer <= G_MAXINT)
    p.max_retries = (int) max->integer;
  c->restart = p;
  c->restart_count = count != NULL && count->is_int && count->integer >= 0
                         && count->integer <= G_MAXINT ? (int) count->integer : 0;
}

static char *
record_text (const HutchContainer *c)
{
  g_autoptr (HutchJsonWriter) w = hutch_json_writer_new (TRUE);
  g_autofree char *created = hutch_container_time_text (c->created);
  g_autofree char *started = hutch_container_time_text (c->started_at);
  g_autofree char *finished = hutch_container_time_text (c->finished_at);

  hutch_json_begin_object (w);
  hutch_json_member_string (w, "Id", c->id);
  hutch_json_member_string (w, "Name", c->name);
  hutch_json_member_string (w, "Image", c->image);
  hutch_json_member_string (w, "ImageId", c->image_id);
  hutch_json_member_string (w, "Created", created);
  hutch_json_key (w, "Command");
  hutch_json_begin_array (w);
  for (char **a = c->command; a != NULL && *a != NULL; a++)
    hutch_json_string (w, *a);
  hutch_json_end_array (w);
  hutch_json_member_string (w, "Network", c->network);
  write_ports (w, "Publish", c->ports);
  write_ports (w, "Ports", c->bound);
  hutch_json_member_string (w, "StopSignal", c->stop_signal);
  if (c->stop_timeout != HUTCH_STOP_TIMEOUT_UNSET)
    hutch_json_member_int (w, "StopTimeout", c->stop_timeout);
  /* run's flags of files and names; absent when not given */
  if (c->labels != NULL && c->labels[0] != NULL)
    hutch_json_member_strv (w, "Labels", c->labels);
  if (c->extra_hosts != NULL && c->extra_hosts[0] != NULL)
    hutch_json_member_strv (w, "ExtraHosts", c->extra_hosts);
  if (c->dns != NULL && c->dns[0] != NULL)
    hutch_json_member_strv (w, "Dns", c->dns);
  if (c->dns_search != NULL && c->dns_search[0] != NULL)
    hutch_json_member_strv (w, "DnsSearch", c->dns_search);
  if (c->dns_options != NULL && c->dns_options[0] != NULL)
    hutch_json_member_strv (w, "DnsOptions", c->dns_options);
  if (c->allow_hosts != NULL && c->allow_hosts[0] != NULL)
    hutch_json_member_strv (w, "AllowHosts", c->allow_hosts);
  hutch_json_member_bool (w, "AutoRemove", c->auto_remove);
  hutch_json_member_bool (w, "Tty", c->tty);
  /* absent for the default map, as in records of a hutch before --userns */
  if (c->userns != HUTCH_USERNS_DEFAULT)
    hutch_json_member_string (w, "UsernsMode", hutch_container_userns_name (c->userns));
  hutch_json_member_string (w, "Cgroup", c->cgroup);
  hutch_json_key (w, "LogConfig");
  hutch_json_begin_object (w);
  hutch_json_member_string (w, "Type", hutch_log_driver_name (c->log.driver));
  hutch_json_member_int (w, "MaxSize", c->log.max_size);
  hutch_json_member_int (w, "MaxFile", c->log.max_file);
  hutch_json_end_object (w);
  hutch_json_key (w, "RestartPolicy");
  hutch_json_begin_object (w);
  hutch_json_member_string (w, "Name", hutch_container_restart_kind_name (c->restart.kind));
  hutch_json_member_int (w, "MaximumRetryCount", c->restart.max_retries);
  hutch_json_end_object (w);
  hutch_json_member_int (w, "RestartCount", c->restart_count);
  hutch_json_key (w, "State");
  hutch_json_begin_object (w);
  hutch_json_member_string (w, "Status", hutch_container_status_name (c->status));
  hutch_json_member_int (w, "ExitCode", c->exit_code);
  hutch_json_member_bool (w, "OOMKilled", c->oom_killed);
  hutch_json_member_string (w, "StartedAt", c->started_at != 0 ? started : NULL);
  hutch_json_member_string (w, "FinishedAt", c->finished_at != 0 ? finished : NULL);
  hutch_json_member_string (w, "Error", c->error);
  hutch_json_member_string (w, "LogError", c->log_error);
  /* a stop, kill or rm -f by the user: no policy restarts it */
  hutch_json_member_bool (w, "StopAsked", c->stop_asked);
  hutch_json_end_object (w);
  hutch_json_end_object (w);
  return hutch_json_writer_finish (w);
}

gboolean
hutch_container_save (const HutchContext *ctx, const HutchContainer *c, GError **error)
{
  g_autofree char *dir = hutch_container_dir (ctx, c->id);
  g_autofree char *path = g_build_filename (dir, RECORD, NULL);
  g_autofree char *text = record_text (c);

  if (!hutch_util_replace_file (path, text, strlen (text), 0600, !c->auto_remove, error))
    return g_prefix_error (error, "recording container %.12s: ", c->id), FALSE;
  return TRUE;
}

gboolean
hutch_container_record_reserve (const HutchContext *ctx, const HutchContainer *c, GError **error)
{
  g_autofree char *dir = hutch_container_dir (ctx, c->id);
  g_autofree char *path = g_build_filename (dir, RESERVE, NULL);
  g_autofree char *text = record_text (c);
  off_t size = (off_t) ((strlen (text) + RESERVE_SLACK + 4095) & ~(gsize) 4095);
  hutch_autofd int fd = -1;
  struct rlimit rl;
  int r;

  /* Under a file size limit (RLIMIT_FSIZE) smaller than the room, taking
   * it would fail with SIGXFSZ, whose default action ends us: the record
   * is written as any other then. */
  if (getrlimit (RLIMIT_FSIZE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY
      && rl.rlim_cur < (rlim_t) size)
    return (void) unlink (path), TRUE;
  fd = open (path, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0)
    return hutch_throw_errno (error, "reserving room for the record of container %s: %s",
                              c->name, path);
  /* blocks of its own, not a sparse file: writing those needs no more */
  r = posix_fallocate (fd, 0, size);
  if (r == ENOSPC || r == EDQUOT)
    return hutch_throw_errno_val (error, r,
                                  "container %s: its store's disk is full: there is no room for "
                                  "the record of its end (%d KiB in %s); free some space there "
                                  "(hutch system prune removes what no image or container uses)",
                                  c->name, (int) (size / 1024), dir);
  if (r != 0)
    return hutch_throw_errno_val (error, r, "reserving room for the record of container %s: %s",
                                  c->name, path);
  return TRUE;
}

void
hutch_container_nospace_explain (const HutchContext *ctx, GError **error)
{
  struct statvfs st;
  g_autofree char *left = NULL;
  char *text;

  if (error == NULL || *error == NULL || !g_error_matches (*error, G_FILE_ERROR, G_FILE_ERROR_NOSPC)
      || strstr ((*error)->message, "disk is full") != NULL)
    return;
  left = statvfs (ctx->root, &st) == 0 ? g_format_size ((guint64) st.f_bavail * st.f_frsize)
                                        : g_strdup ("?");
  text = g_strdup_printf ("%s: the store's disk is full (%s left in %s): free some space there "
                          "(hutch rm removes containers and what they wrote, hutch system prune "
                          "what no image or container uses)",
                          (*error)->message, left, ctx->root);
  g_free ((*error)->message);
  (*error)->message = text;
}

gboolean
hutch_container_save_end (const HutchContext *ctx, const HutchContainer *c, GError **error)
{
  g_autofree char *dir = hutch_container_dir (ctx, c->id);
  g_autofree char *path = g_build_filename (dir, RECORD, NULL);
  g_autofree char *reserve = g_build_filename (dir, RESERVE, NULL);
  g_autofree char *text = record_text (c);
  gsize len = strlen (text);
  hutch_autofd int fd = open (reserve, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);

  if (fd < 0 && errno == ENOENT)
    return hutch_container_save (ctx, c, error); /* started by a hutch without it */
  if (fd < 0 || !hutch_util_write_all (fd, text, len, error) || ftruncate (fd, (off_t) len) < 0
      || (!c->auto_remove && fsync (fd) < 0) || rename (reserve, path) < 0)
    {
      if (error != NULL && *error != NULL)
        return g_prefix_error (error, "recording the end of container %.12s in %s: ", c->id,
                               reserve), FALSE;
      return hutch_throw_errno (error, "recording the end of container %.12s in %s", c->id,
                                reserve);
    }
  return TRUE;
}

static const char *
string_of (const HutchJsonNode *root, const char *key)
{
  const HutchJsonNode *n = hutch_json_node_member (root, key);

  return n != NULL && n->type == HUTCH_JSON_STRING ? n->string : NULL;
}

/* An array of strings, NULL when absent; what is not a string is left out. */
static char **
strv_of (const HutchJsonNode *root, const char *key)
{
  const HutchJsonNode *n = hutch_json_node_member (root, key);
  GPtrArray *a;

  if (n == NULL || n->type != HUTCH_JSON_ARRAY)
    return NULL;
  a = g_ptr_array_new ();
  for (guint i = 0; i < n->n_members; i++)
    if (n->members[i]->type == HUTCH_JSON_STRING)
      g_ptr_array_add (a, g_strdup (n->members[i]->string));
  g_ptr_array_add (a, NULL);
  return (char **) g_ptr_array_free (a, FALSE);
}

/* Whether the monitor holds live: then its pids and their start times
 * are read ("MONITOR INIT MONITOR-START INIT-START"). */
static gboolean
live_read (const HutchContext *ctx, HutchContainer *c, gboolean *out_live, GError **error)
{
  g_autofree char *dir = hutch_container_run_dir (ctx, c->id, error);
  g_autofree char *path = dir != NULL ? g_build_filename (dir, "live", NULL) : NULL;
  hutch_autofd int fd = -1;
  char buf[128] = "";
  int mon = 0, init = 0;
  ssize_t n;

  *out_live = FALSE;
  if (dir == NULL)
    return FALSE;
  fd = open (path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0 || flock (fd, LOCK_SH | LOCK_NB) == 0 || errno != EWOULDBLOCK)
    return TRUE;
  *out_live = TRUE;
  n = pread (fd, buf, sizeof buf - 1, 0);
  if (n > 0
      && sscanf (buf, "%d %d %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT, &mon, &init,
                 &c->monitor_start, &c->init_start) >= 2)
    c->monitor_pid = mon, c->init_pid = init;
  return TRUE;
}

HutchContainer *
hutch_container_load (const HutchContext *ctx, const char *id, GError **error)
{
  g_autofree char *dir = hutch_container_dir (ctx, id);

  return hutch_container_load_dir (ctx, id, dir, error);
}

/* The record in @dir as it is now; with @first, a record that says
 * running whose monitor holds no live lock is returned as NULL with no
 * error (see hutch_container_load_dir). */
static HutchContainer *
load_once (const HutchContext *ctx, const char *id, const char *dir, gboolean first,
           GError **error)
{
  g_autofree char *path = g_build_filename (dir, RECORD, NULL);
  g_autofree char *text = NULL;
  g_autoptr (HutchJsonNode) root = NULL;
  g_autoptr (HutchContainer) c = g_new0 (HutchContainer, 1);
  const HutchJsonNode *state, *cmd, *n;
  gsize len;
  const char *status;
  gboolean live = FALSE;

  if (!g_file_get_contents (path, &text, &len, error))
    return g_prefix_error (error, "container %.12s: ", id), NULL;
  if ((root = hutch_json_parse (text, len, error)) == NULL)
    return g_prefix_error (error, "container %.12s, %s: ", id, path), NULL;
  c->id = g_strdup (id);
  c->name = g_strdup (string_of (root, "Name"));
  c->image = g_strdup (string_of (root, "Image"));
  c->image_id = g_strdup (string_of (root, "ImageId"));
  c->network = g_strdup (string_of (root, "Network"));
  c->stop_signal = g_strdup (string_of (root, "StopSignal"));
  n = hutch_json_node_member (root, "StopTimeout");
  c->stop_timeout = n != NULL && n->is_int && n->integer >= -1 && n->integer <= G_MAXINT
                      ? (int) n->integer : HUTCH_STOP_TIMEOUT_UNSET;
  c->labels = strv_of (root, "Labels");
  c->extra_hosts = strv_of (root, "ExtraHosts");
  c->dns = strv_of (root, "Dns");
  c->dns_search = strv_of (root, "DnsSearch");
  c->dns_options = strv_of (root, "DnsOptions");
  c->allow_hosts = strv_of (root, "AllowHosts");
  c->cgroup = g_strdup (string_of (root, "Cgroup"));
  c->created = time_parse (hutch_json_node_member (root, "Created"));
  cmd = hutch_json_node_member (root, "Command");
  c->command = g_new0 (char *, cmd != NULL && cmd->type == HUTCH_JSON_ARRAY ? cmd->n_members + 1 : 1);
  for (guint i = 0; cmd != NULL && cmd->type == HUTCH_JSON_ARRAY && i < cmd->n_members; i++)
    c->command[i] = g_strdup (cmd->members[i]->string != NULL ? cmd->members[i]->string : "");
  c->ports = read_ports (hutch_json_node_member (root, "Publish"));
  c->bound = read_ports (hutch_json_node_member (root, "Ports"));
  n = hutch_json_node_member (root, "AutoRemove");
  c->auto_remove = n != NULL && n->type == HUTCH_JSON_BOOL && n->boolean;
  n = hutch_json_node_member (root, "Tty");
  c->tty = n != NULL && n->type == HUTCH_JSON_BOOL && n->boolean;
  (void) hutch_container_userns_parse (string_of (root, "UsernsMode"), &c->userns, NULL);
  read_log_config (hutch_json_node_member (root, "LogConfig"), &c->log);
  read_restart (root, c);
  state = hutch_json_node_member (root, "State");
  status = string_of (state, "Status");
  n = hutch_json_node_member (state, "ExitCode");
  c->exit_code = n != NULL && n->is_int ? (int) n->integer : 0;
  n = hutch_json_node_member (state, "OOMKilled");
  c->oom_killed = n != NULL && n->type == HUTCH_JSON_BOOL && n->boolean;
  c->started_at = time_parse (hutch_json_node_member (state, "StartedAt"));
  c->finished_at = time_parse (hutch_json_node_member (state, "FinishedAt"));
  c->error = g_strdup (string_of (state, "Error"));
  c->log_error = g_strdup (string_of (state, "LogError"));
  if (c->name == NULL || c->image == NULL || status == NULL)
    return hutch_throw (error, HUTCH_ERROR_FAILED, "container %.12s: %s lacks Name, Image or State",
                        id, path), NULL;
  c->status = strcmp (status, "created") == 0   ? HUTCH_CONTAINER_CREATED
              : strcmp (status, "running") == 0 ? HUTCH_CONTAINER_RUNNING
                                                : HUTCH_CONTAINER_EXITED;
  if (c->status == HUTCH_CONTAINER_RUNNING && !live_read (ctx, c, &live, error))
    return NULL;
  if (c->status == HUTCH_CONTAINER_RUNNING && !live && first)
    return NULL;
  c->paused = c->status == HUTCH_CONTAINER_RUNNING && live && c->cgroup != NULL
              && hutch_cgroup_frozen (c->cgroup);
  if (c->status == HUTCH_CONTAINER_RUNNING && !live)
    {
      /* Its monitor went without recording the end: killed (and the
       * container with it, through PDEATHSIG), or the machine restarted. */
      c->status = HUTCH_CONTAINER_EXITED;
      c->monitor_gone = TRUE;
      c->exit_code = 128 + SIGKILL;
      g_free (c->error);
      c->error = g_strdup ("its monitor ended without recording the exit (killed, or the "
                           "machine restarted): the container was killed with it");
    }
  c->stop_asked = hutch_container_stop_marked (ctx, id);
  /* between two runs: the keeper waits out its back-off */
  c->restarting = c->status == HUTCH_CONTAINER_EXITED && c->restart.kind != HUTCH_RESTART_NO
                  && !c->stop_asked && hutch_container_keeper_alive (ctx, id);
  return g_steal_pointer (&c);
}

HutchContainer *
hutch_container_load_dir (const HutchContext *ctx, const char *id, const char *dir,
                          GError **error)
{
  g_autoptr (GError) local = NULL;
  HutchContainer *c = load_once (ctx, id, dir, TRUE, &local);

  if (c != NULL)
    return c;
  if (local != NULL)
    return g_propagate_error (error, g_steal_pointer (&local)), NULL;
  /* Running, but no monitor holds live: the monitor may have recorded the
   * end and let go of live between our reading the record and looking at
   * live (it renames the record first, then lets go). Read after the look,
   * the record is the last word: still running, the monitor was killed. */
  return load_once (ctx, id, dir, FALSE, error);
}

static gint
newest_first (gconstpointer a, gconstpointer b)
{
  const HutchContainer *x = *(HutchContainer *const *) a, *y = *(HutchContainer *const *) b;

  return x->created < y->created ? 1 : x->created > y->created ? -1 : 0;
}

GPtrArray *
hutch_container_list (const HutchContext *ctx, GError **error)
{
  g_autofree char *dir = g_build_filename (ctx->root, "containers", NULL);
  hutch_autofd int fd = open (dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  g_autoptr (GPtrArray) ids = NULL;
  GPtrArray *out = g_ptr_array_new_with_free_func ((GDestroyNotify) hutch_container_free);

  if (fd < 0 && errno == ENOENT)
    return out;
  /* once, rather than a refusal for each container */
  if (!hutch_container_state_dirs_check (ctx, error))
    return g_ptr_array_unref (out), NULL;
  /* what killed commands left is finished off before anything is shown */
  hutch_container_sweep (ctx);
  if (fd < 0 || (ids = hutch_util_list_dir_at (fd, error)) == NULL)
    {
      g_ptr_array_unref (out);
      return fd < 0 ? hutch_throw_errno (error, "opening %s", dir), NULL : NULL;
    }
  for (guint i = 0; i < ids->len; i++)
    {
      g_autoptr (GError) local = NULL;
      HutchContainer *c;
      if (!hutch_container_id_valid (ids->pdata[i]))
        continue;
      c = hutch_container_load (ctx, ids->pdata[i], &local);
      if (c != NULL && c->auto_remove && c->monitor_gone
          && hutch_container_remove_abandoned (ctx, c->id))
        g_clear_pointer (&c, hutch_container_free); /* --rm: it was to go at its end */
      else if (c != NULL)
        g_ptr_array_add (out, c);
      else if (!g_error_matches (local, G_FILE_ERROR, G_FILE_ERROR_NOENT))
        g_warning ("%s", local->message); /* half created or half removed: skip */
    }
  g_ptr_array_sort (out, newest_first);
  return out;
}

char *
hutch_container_resolve (const HutchContext *ctx, const char *ref, GError **error)
{
  g_autofree char *target = hutch_container_name_lookup (ctx, ref);
  g_autofree char *dir = g_build_filename (ctx->root, "containers", NULL);
  hutch_autofd int fd = -1;
  g_autoptr (GPtrArray) ids = NULL;
  char *found = NULL;
  gsize len = strlen (ref);

  if (target != NULL)
    return g_steal_pointer (&target);
  if (len == 0 || len > 64 || strspn (ref, "0123456789abcdef") != len
      || (fd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0
      || (ids = hutch_util_list_dir_at (fd, NULL)) == NULL)
    return hutch_throw (error, HUTCH_ERROR_NOT_FOUND,
                        "no container is named or has the id \"%s\" (see \"hutch ps -a\")", ref), NULL;
  for (guint i = 0; i < ids->len; i++)
    if (hutch_container_id_valid (ids->pdata[i]) && strncmp (ids->pdata[i], ref, len) == 0)
      {
        if (found != NULL)
          return hutch_throw (error, HUTCH_ERROR_USAGE,
                              "\"%s\" is the start of more than one container id (%.12s and "
                              "%.12s): give more of it",
                              ref, found, (char *) ids->pdata[i]), NULL;
        found = ids->pdata[i];
      }
  if (found == NULL)
    return hutch_throw (error, HUTCH_ERROR_NOT_FOUND,
                        "no container is named or has the id \"%s\" (see \"hutch ps -a\")", ref), NULL;
  return g_strdup (found);
}

char *
hutch_container_ports_text (const HutchContainer *c)
{
  GArray *ports = c->status == HUTCH_CONTAINER_RUNNING && c->bound->len > 0 ? c->bound : c->ports;
  GString *s = g_string_new (NULL);

  for (guint i = 0; i < ports->len; i++)
    {
      const HutchNetPort *p = &g_array_index (ports, HutchNetPort, i);
      char ip[INET_ADDRSTRLEN] = "0.0.0.0";
      (void) inet_ntop (AF_INET, &p->host_ip, ip, sizeof ip);
      if (s->len > 0)
        g_string_append (s, ", ");
      if (p->host_port != 0)
        g_string_append_printf (s, "%s:%u->", ip, p->host_port);
      g_string_append_printf (s, "%u/%s", p->ctr_port, p->udp ? "udp" : "tcp");
    }
  return g_string_free (s, FALSE);
}

int
hutch_container_signal_parse (const char *text)
{
  static const struct
  {
    const char *name;
    int sig;
  } sigs[] = {
    { "HUP", SIGHUP },   { "INT", SIGINT },   { "QUIT", SIGQUIT }, { "ILL", SIGILL },
    { "TRAP", SIGTRAP }, { "ABRT", SIGABRT }, { "BUS", SIGBUS },   { "FPE", SIGFPE },
    { "KILL", SIGKILL }, { "USR1", SIGUSR1 }, { "SEGV", SIGSEGV }, { "USR2", SIGUSR2 },
    { "PIPE", SIGPIPE }, { "ALRM", SIGALRM }, { "TERM", SIGTERM }, { "CHLD", SIGCHLD },
    { "CONT", SIGCONT }, { "STOP", SIGSTOP }, { "TSTP", SIGTSTP }, { "TTIN", SIGTTIN },
    { "TTOU", SIGTTOU }, { "URG", SIGURG },   { "XCPU", SIGXCPU }, { "XFSZ", SIGXFSZ },
    { "VTALRM", SIGVTALRM }, { "PROF", SIGPROF }, { "WINCH", SIGWINCH }, { "IO", SIGIO },
    { "PWR", SIGPWR },   { "SYS", SIGSYS },
  };
  const char *name = g_ascii_strncasecmp (text, "SIG", 3) == 0 ? text + 3 : text;
  char *end = NULL;
  long n = strtol (text, &end, 10);

  if (*text != '\0' && *end == '\0')
    return n >= 1 && n < NSIG ? (int) n : -1;
  for (gsize i = 0; i < G_N_ELEMENTS (sigs); i++)
    if (g_ascii_strcasecmp (name, sigs[i].name) == 0)
      return sigs[i].sig;
  if (g_ascii_strncasecmp (name, "RTMIN+", 6) == 0 && g_ascii_isdigit (name[6]))
    {
      n = SIGRTMIN + atoi (name + 6);
      return n <= SIGRTMAX ? (int) n : -1;
    }
  return -1;
}
