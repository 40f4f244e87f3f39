/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* containers/<id>/config.json: the container as an OCI runtime-spec
 * config (process, root, hostname, the -v and --tmpfs mounts, namespaces,
 * id mappings), with what the spec has no field for in io.hutch.*
 * annotations (the layers, the rootfs driver, the image's user name, the
 * init, the seccomp choice). `start`, `restart` and `exec` read it back;
 * /proc, /dev and /sys are hutch's own and not listed. */
#include "config.h"

#include <string.h>
#include <sys/resource.h>
#include <sys/mount.h>

#include "container-private.h"

#define A_USER "io.hutch.user"
#define A_LOWER "io.hutch.lowerdirs"
#define A_DRIVER "io.hutch.rootfs-driver"
#define A_FORCED "io.hutch.rootfs-driver-forced"
#define A_INIT "io.hutch.init"
#define A_STDIN "io.hutch.stdin"
#define A_NET_HOST "io.hutch.network-host"
#define A_SECCOMP "io.hutch.seccomp"
#define A_CGROUPS "io.hutch.cgroups"
#define A_GROUP_ADD "io.hutch.group-add"
#define A_SHM_SIZE "io.hutch.shm-size"
/* on a mount of a volume: its name, and whether it was made for this
 * container alone (-v /path; run --rm removes it) */
#define A_VOLUME "io.hutch.volume"
#define A_ANONYMOUS "io.hutch.volume-anonymous"

static const struct
{
  const char *name;
  unsigned long flag;
} mount_flags[] = { { "nosuid", MS_NOSUID }, { "nodev", MS_NODEV }, { "noexec", MS_NOEXEC } };

static void
id_mappings (HutchJsonWriter *w, const char *key, const HutchIdMap *map, gboolean gid)
{
  g_autoptr (GArray) lines = hutch_sandbox_idmap_lines (map, gid);

  hutch_json_key (w, key);
  hutch_json_begin_array (w);
  for (guint i = 0; i < lines->len; i++)
    {
      const HutchIdMapLine *l = &g_array_index (lines, HutchIdMapLine, i);
      hutch_json_begin_object (w);
      hutch_json_member_int (w, "containerID", l->inside);
      hutch_json_member_int (w, "hostID", l->outside);
      hutch_json_member_int (w, "size", l->count);
      hutch_json_end_object (w);
    }
  hutch_json_end_array (w);
}

/* linux.resources, as the runtime-spec has them (cgroup v1 terms, which
 * runtimes convert for v2: shares to cpu.weight, quota/period to cpu.max). */
static void
resources (HutchJsonWriter *w, const HutchCgroupLimits *l)
{
  hutch_json_key (w, "resources");
  hutch_json_begin_object (w);
  if (l->memory != 0 || l->memory_swap != 0 || l->memory_reservation != 0)
    {
      hutch_json_key (w, "memory");
      hutch_json_begin_object (w);
      if (l->memory != 0)
        hutch_json_member_int (w, "limit", l->memory);
      if (l->memory_swap != 0)
        hutch_json_member_int (w, "swap", l->memory_swap);
      if (l->memory_reservation != 0)
        hutch_json_member_int (w, "reservation", l->memory_reservation);
      hutch_json_end_object (w);
    }
  if (l->cpus != 0 || l->cpu_shares != 0 || l->cpuset_cpus != NULL)
    {
      hutch_json_key (w, "cpu");
      hutch_json_begin_object (w);
      if (l->cpu_shares != 0)
        hutch_json_member_int (w, "shares", (gint64) l->cpu_shares);
      if (l->cpus != 0)
        {
          hutch_json_member_int (w, "quota", (gint64) (l->cpus * 100000 + 0.5));
          hutch_json_member_int (w, "period", 100000);
        }
      if (l->cpuset_cpus != NULL)
        hutch_json_member_string (w, "cpus", l->cpuset_cpus);
      hutch_json_end_object (w);
    }
  if (l->pids_limit != 0)
    {
      hutch_json_key (w, "pids");
      hutch_json_begin_object (w);
      hutch_json_member_int (w, "limit", l->pids_limit);
      hutch_json_end_object (w);
    }
  hutch_json_end_object (w);
}

gboolean
hutch_container_spec_write (const char *dir, const HutchSandboxSpec *spec,
                            const HutchCgroupLimits *limits, gboolean lasting, GError **error)
{
  g_autoptr (HutchJsonWriter) w = hutch_json_writer_new (TRUE);
  g_auto (GStrv) caps = hutch_sandbox_caps_names (spec->caps);
  /* in overlayfs's own syntax: a ':' of a path is escaped, not a separator */
  g_autofree char *lower = hutch_util_list_join (spec->lowerdirs, ':');
  g_autofree char *path = g_build_filename (dir, "config.json", NULL);
  g_autofree char *text = NULL;
  static const char *const ns[] = { "pid", "network", "ipc", "uts", "mount", "cgroup", "user" };

  hutch_json_begin_object (w);
  hutch_json_member_string (w, "ociVersion", "1.0.2");
  hutch_json_key (w, "process");
  hutch_json_begin_object (w);
  hutch_json_member_bool (w, "terminal", spec->tty);
  hutch_json_key (w, "user");
  hutch_json_begin_object (w);
  hutch_json_member_int (w, "uid", 0);
  hutch_json_member_int (w, "gid", 0);
  hutch_json_end_object (w);
  hutch_json_member_strv (w, "args", spec->argv);
  hutch_json_member_strv (w, "env", spec->env);
  hutch_json_member_string (w, "cwd", spec->cwd);
  hutch_json_key (w, "capabilities");
  hutch_json_begin_object (w);
  hutch_json_member_strv (w, "bounding", caps);
  hutch_json_member_strv (w, "effective", caps);
  hutch_json_member_strv (w, "permitted", caps);
  hutch_json_end_object (w);
  hutch_json_member_bool (w, "noNewPrivileges", TRUE);
  if (spec->rlimits != NULL && spec->rlimits->len > 0)
    {
      hutch_json_key (w, "rlimits");
      hutch_json_begin_array (w);
      for (guint i = 0; i < spec->rlimits->len; i++)
        {
          const HutchSandboxRlimit *l = &g_array_index (spec->rlimits, HutchSandboxRlimit, i);
          g_autofree char *name = hutch_sandbox_rlimit_name (l->resource);
          g_autofree char *type = g_strconcat ("RLIMIT_", name, NULL);
          hutch_json_begin_object (w);
          hutch_json_member_string (w, "type", type);
          hutch_json_member_int (w, "hard", (gint64) MIN (l->hard, (guint64) G_MAXINT64));
          hutch_json_member_int (w, "soft", (gint64) MIN (l->soft, (guint64) G_MAXINT64));
          hutch_json_end_object (w);
        }
      hutch_json_end_array (w);
    }
  hutch_json_end_object (w);
  hutch_json_key (w, "root");
  hutch_json_begin_object (w);
  hutch_json_member_string (w, "path", "rootfs");
  hutch_json_member_bool (w, "readonly", spec->read_only);
  hutch_json_end_object (w);
  hutch_json_member_string (w, "hostname", spec->hostname);
  hutch_json_key (w, "mounts");
  hutch_json_begin_array (w);
  for (guint i = 0; spec->mounts != NULL && i < spec->mounts->len; i++)
    {
      const HutchSandboxMount *m = spec->mounts->pdata[i];
      g_auto (GStrv) data = g_strsplit (m->data != NULL ? m->data : "", ",", -1);
      hutch_json_begin_object (w);
      hutch_json_member_string (w, "destination", m->target);
      hutch_json_member_string (w, "type", m->overlay            ? "overlay"
                                           : m->source != NULL ? "bind"
                                                               : "tmpfs");
      hutch_json_member_string (w, "source", m->source != NULL ? m->source : "tmpfs");
      if (m->volume != NULL)
        {
          hutch_json_member_string (w, A_VOLUME, m->volume);
          hutch_json_member_bool (w, A_ANONYMOUS, m->anonymous);
        }
      hutch_json_key (w, "options");
      hutch_json_begin_array (w);
      if (m->source != NULL && !m->overlay)
        hutch_json_string (w, "rbind");
      hutch_json_string (w, m->readonly ? "ro" : "rw");
      if (m->chown)
        hutch_json_string (w, "U");
      if (m->volume != NULL && !m->copy_up)
        hutch_json_string (w, "nocopy");
      for (gsize f = 0; f < G_N_ELEMENTS (mount_flags); f++)
        if (m->flags & mount_flags[f].flag)
          hutch_json_string (w, mount_flags[f].name);
      for (char **d = data; *d != NULL; d++)
        if (**d != '\0')
          hutch_json_string (w, *d);
      hutch_json_end_array (w);
      hutch_json_end_object (w);
    }
  hutch_json_end_array (w);
  hutch_json_key (w, "linux");
  hutch_json_begin_object (w);
  hutch_json_key (w, "namespaces");
  hutch_json_begin_array (w);
  for (gsize i = 0; i < G_N_ELEMENTS (ns); i++)
    if (!(spec->network_host && strcmp (ns[i], "network") == 0))
      {
        hutch_json_begin_object (w);
        hutch_json_member_string (w, "type", ns[i]);
        hutch_json_end_object (w);
      }
  hutch_json_end_array (w);
  id_mappings (w, "uidMappings", spec->idmap, FALSE);
  id_mappings (w, "gidMappings", spec->idmap, TRUE);
  if (limits != NULL)
    resources (w, limits);
  if (limits != NULL && limits->parent != NULL)
    hutch_json_member_string (w, "cgroupsPath", limits->parent);
  hutch_json_end_object (w);
  hutch_json_key (w, "annotations");
  hutch_json_begin_object (w);
  hutch_json_member_string (w, A_USER, spec->user != NULL ? spec->user : "");
  hutch_json_member_string (w, A_LOWER, lower);
  hutch_json_member_string (w, A_DRIVER, hutch_rootfs_driver_name (spec->driver));
  hutch_json_member_string (w, A_FORCED, spec->driver_forced ? "true" : "false");
  hutch_json_member_string (w, A_INIT, spec->init ? "true" : "false");
  hutch_json_member_string (w, A_STDIN, spec->input ? "true" : "false");
  hutch_json_member_string (w, A_NET_HOST, spec->network_host ? "true" : "false");
  hutch_json_member_string (w, A_SECCOMP, spec->seccomp ? "default" : "unconfined");
  hutch_json_member_string (w, A_CGROUPS, limits != NULL && limits->disabled ? "disabled" : "enabled");
  if (spec->groups_add != NULL && spec->groups_add[0] != NULL)
    {
      g_autofree char *groups = g_strjoinv (",", spec->groups_add);
      hutch_json_member_string (w, A_GROUP_ADD, groups);
    }
  if (spec->shm_size > 0)
    {
      g_autofree char *size = g_strdup_printf ("%" G_GUINT64_FORMAT, spec->shm_size);
      hutch_json_member_string (w, A_SHM_SIZE, size);
    }
  hutch_json_end_object (w);
  hutch_json_end_object (w);
  text = hutch_json_writer_finish (w);
  return hutch_util_replace_file (path, text, strlen (text), 0600, lasting, error);
}

static char **
strv_of (const HutchJsonNode *n)
{
  GPtrArray *a = g_ptr_array_new ();

  for (guint i = 0; n != NULL && n->type == HUTCH_JSON_ARRAY && i < n->n_members; i++)
    if (n->members[i]->type == HUTCH_JSON_STRING)
      g_ptr_array_add (a, g_strdup (n->members[i]->string));
  g_ptr_array_add (a, NULL);
  return (char **) g_ptr_array_free (a, FALSE);
}

static const char *
str_of (const HutchJsonNode *obj, const char *key)
{
  const HutchJsonNode *n = hutch_json_node_member (obj, key);

  return n != NULL && n->type == HUTCH_JSON_STRING ? n->string : NULL;
}

static gboolean
true_of (const HutchJsonNode *obj, const char *key)
{
  return g_strcmp0 (str_of (obj, key), "true") == 0;
}

static HutchSandboxMount *
mount_of (const HutchJsonNode *n, const char *dir, guint index)
{
  g_auto (GStrv) options = strv_of (hutch_json_node_member (n, "options"));
  g_autoptr (GString) data = g_string_new (NULL);
  HutchSandboxMount *m = g_new0 (HutchSandboxMount, 1);
  gboolean bind = g_strcmp0 (str_of (n, "type"), "bind") == 0;
  const HutchJsonNode *anonymous = hutch_json_node_member (n, A_ANONYMOUS);
  gboolean nocopy = FALSE;

  m->overlay = g_strcmp0 (str_of (n, "type"), "overlay") == 0;
  m->target = g_strdup (str_of (n, "destination"));
  m->source = bind || m->overlay ? g_strdup (str_of (n, "source")) : NULL;
  m->volume = bind ? g_strdup (str_of (n, A_VOLUME)) : NULL;
  m->anonymous = m->volume != NULL && anonymous != NULL && anonymous->boolean;
  /* not recorded: derived from the container's directory */
  if (m->overlay)
    m->overlay_dir = g_strdup_printf ("%s/overlay/%u", dir, index);
  for (char **o = options; *o != NULL; o++)
    {
      gboolean flag = FALSE;
      for (gsize f = 0; f < G_N_ELEMENTS (mount_flags); f++)
        if (strcmp (*o, mount_flags[f].name) == 0)
          m->flags |= mount_flags[f].flag, flag = TRUE;
      if (strcmp (*o, "ro") == 0)
        m->readonly = TRUE;
      else if (strcmp (*o, "U") == 0 && m->source != NULL)
        m->chown = TRUE;
      else if (strcmp (*o, "nocopy") == 0 && m->source != NULL)
        nocopy = TRUE;
      else if (!flag && m->source == NULL && strcmp (*o, "rw") != 0)
        g_string_append_printf (data, "%s%s", data->len > 0 ? "," : "", *o);
    }
  m->copy_up = m->volume != NULL && !nocopy;
  m->data = data->len > 0 ? g_strdup (data->str) : NULL;
  return m;
}

static gboolean
rlimits_of (const HutchJsonNode *n, HutchSandboxSpec *spec, GError **error)
{
  for (guint i = 0; n != NULL && n->type == HUTCH_JSON_ARRAY && i < n->n_members; i++)
    {
      const HutchJsonNode *hard = hutch_json_node_member (n->members[i], "hard");
      const HutchJsonNode *soft = hutch_json_node_member (n->members[i], "soft");
      const char *type = str_of (n->members[i], "type");
      HutchSandboxRlimit l = { type != NULL ? hutch_sandbox_rlimit_from_name (type) : -1, 0, 0 };
      if (l.resource < 0 || hard == NULL || !hard->is_int || soft == NULL || !soft->is_int
          || hard->integer < 0 || soft->integer < 0)
        return hutch_throw (error, HUTCH_ERROR_FAILED, "process.rlimits[%u] is not one hutch knows", i);
      /* RLIM_INFINITY was written as the largest JSON integer */
      l.hard = hard->integer == G_MAXINT64 ? (guint64) RLIM_INFINITY : (guint64) hard->integer;
      l.soft = soft->integer == G_MAXINT64 ? (guint64) RLIM_INFINITY : (guint64) soft->integer;
      if (spec->rlimits == NULL)
        spec->rlimits = g_array_new (FALSE, FALSE, sizeof (HutchSandboxRlimit));
      g_array_append_val (spec->rlimits, l);
    }
  return TRUE;
}

void
hutch_container_spec_clear (HutchSandboxSpec *spec)
{
  g_clear_pointer (&spec->nest_maps[0], g_free);
  g_clear_pointer (&spec->nest_maps[1], g_free);
  g_strfreev (spec->lowerdirs);
  g_free (spec->upperdir);
  g_free (spec->workdir);
  g_free (spec->rootfs);
  g_free (spec->hostname);
  g_free (spec->hostname_file);
  g_free (spec->hosts_file);
  g_free (spec->resolv_file);
  if (spec->mounts != NULL)
    g_ptr_array_unref (spec->mounts);
  g_strfreev (spec->argv);
  g_strfreev (spec->env);
  g_free (spec->cwd);
  g_free (spec->user);
  if (spec->rlimits != NULL)
    g_array_unref (spec->rlimits);
  g_strfreev (spec->groups_add);
  memset (spec, 0, sizeof *spec);
  spec->cleanup_fd = -1;
}

gboolean
hutch_container_spec_read (const char *dir, HutchSandboxSpec *spec, GError **error)
{
  g_autofree char *path = g_build_filename (dir, "config.json", NULL);
  g_autofree char *text = NULL;
  g_autoptr (HutchJsonNode) root = NULL;
  const HutchJsonNode *process, *caps, *mounts, *notes;
  g_auto (GStrv) bounding = NULL;
  const char *driver, *user;
  gsize len;

  if (!g_file_get_contents (path, &text, &len, error) || (root = hutch_json_parse (text, len, error)) == NULL)
    return g_prefix_error (error, "reading %s: ", path), FALSE;
  process = hutch_json_node_member (root, "process");
  notes = hutch_json_node_member (root, "annotations");
  caps = hutch_json_node_member (process, "capabilities");
  bounding = strv_of (hutch_json_node_member (caps, "bounding"));
  if (!hutch_sandbox_caps_from_names ((const char *const *) bounding, &spec->caps, error))
    return g_prefix_error (error, "%s: ", path), FALSE;
  spec->argv = strv_of (hutch_json_node_member (process, "args"));
  spec->env = strv_of (hutch_json_node_member (process, "env"));
  spec->cwd = g_strdup (str_of (process, "cwd"));
  spec->hostname = g_strdup (str_of (root, "hostname"));
  spec->lowerdirs
      = hutch_util_list_split (str_of (notes, A_LOWER) != NULL ? str_of (notes, A_LOWER) : "", ':');
  if (spec->argv[0] == NULL || spec->cwd == NULL || spec->hostname == NULL || spec->lowerdirs[0] == NULL)
    return hutch_throw (error, HUTCH_ERROR_FAILED,
                        "%s lacks process.args, process.cwd, hostname or the layers", path);
  user = str_of (notes, A_USER);
  spec->user = user != NULL && *user != '\0' ? g_strdup (user) : NULL;
  driver = str_of (notes, A_DRIVER);
  spec->driver = g_strcmp0 (driver, "fuse-overlayfs") == 0 ? HUTCH_ROOTFS_FUSE_OVERLAYFS
                 : g_strcmp0 (driver, "copy") == 0         ? HUTCH_ROOTFS_COPY
                                                           : HUTCH_ROOTFS_OVERLAY;
  spec->driver_forced = true_of (notes, A_FORCED);
  spec->init = true_of (notes, A_INIT);
  spec->input = true_of (notes, A_STDIN);
  spec->network_host = true_of (notes, A_NET_HOST);
  spec->seccomp = g_strcmp0 (str_of (notes, A_SECCOMP), "unconfined") != 0;
  if (str_of (notes, A_GROUP_ADD) != NULL)
    spec->groups_add = g_strsplit (str_of (notes, A_GROUP_ADD), ",", -1);
  if (str_of (notes, A_SHM_SIZE) != NULL)
    spec->shm_size = g_ascii_strtoull (str_of (notes, A_SHM_SIZE), NULL, 10);
  if (!rlimits_of (hutch_json_node_member (process, "rlimits"), spec, error))
    return g_prefix_error (error, "%s: ", path), FALSE;
  spec->tty = hutch_json_node_member (process, "terminal") != NULL
              && hutch_json_node_member (process, "terminal")->boolean;
  spec->read_only = hutch_json_node_member (hutch_json_node_member (root, "root"), "readonly") != NULL
                    && hutch_json_node_member (hutch_json_node_member (root, "root"), "readonly")->boolean;
  spec->mounts = g_ptr_array_new_with_free_func ((GDestroyNotify) hutch_sandbox_mount_free);
  mounts = hutch_json_node_member (root, "mounts");
  for (guint i = 0; mounts != NULL && mounts->type == HUTCH_JSON_ARRAY && i < mounts->n_members; i++)
    {
      HutchSandboxMount *m = mount_of (mounts->members[i], dir, i);
      if (m->target == NULL || (m->source == NULL && g_strcmp0 (str_of (mounts->members[i], "type"), "tmpfs") != 0))
        {
          hutch_sandbox_mount_free (m);
          return hutch_throw (error, HUTCH_ERROR_FAILED, "%s: mount %u is neither bind, overlay nor tmpfs",
                              path, i);
        }
      g_ptr_array_add (spec->mounts, m);
    }
  spec->upperdir = g_build_filename (dir, "upper", NULL);
  spec->workdir = g_build_filename (dir, "work", NULL);
  spec->rootfs = g_build_filename (dir, "rootfs", NULL);
  return TRUE;
}

static gint64
int_of (const HutchJsonNode *obj, const char *key)
{
  const HutchJsonNode *n = hutch_json_node_member (obj, key);

  return n != NULL && n->is_int ? n->integer : 0;
}

gboolean
hutch_container_limits_read (const char *dir, HutchCgroupLimits *l, GError **error)
{
  g_autofree char *path = g_build_filename (dir, "config.json", NULL);
  g_autofree char *text = NULL;
  g_autoptr (HutchJsonNode) root = NULL;
  const HutchJsonNode *linux_, *res, *cpu;
  gint64 quota, period;
  gsize len;

  memset (l, 0, sizeof *l);
  if (!g_file_get_contents (path, &text, &len, error) || (root = hutch_json_parse (text, len, error)) == NULL)
    return g_prefix_error (error, "reading %s: ", path), FALSE;
  linux_ = hutch_json_node_member (root, "linux");
  res = hutch_json_node_member (linux_, "resources");
  l->memory = int_of (hutch_json_node_member (res, "memory"), "limit");
  l->memory_swap = int_of (hutch_json_node_member (res, "memory"), "swap");
  l->memory_reservation = int_of (hutch_json_node_member (res, "memory"), "reservation");
  cpu = hutch_json_node_member (res, "cpu");
  l->cpu_shares = (guint64) MAX (int_of (cpu, "shares"), 0);
  quota = int_of (cpu, "quota");
  period = int_of (cpu, "period");
  l->cpus = quota > 0 && period > 0 ? (double) quota / (double) period : 0;
  l->cpuset_cpus = g_strdup (str_of (cpu, "cpus"));
  l->pids_limit = int_of (hutch_json_node_member (res, "pids"), "limit");
  l->parent = g_strdup (str_of (linux_, "cgroupsPath"));
  l->disabled = g_strcmp0 (str_of (hutch_json_node_member (root, "annotations"), A_CGROUPS), "disabled") == 0;
  return TRUE;
}

gboolean
hutch_container_limits_usable (const HutchCgroupLimits *limits, GError **error)
{
  HutchCgroupCaps caps;
  gboolean ok;

  if (limits->disabled || !hutch_cgroup_limits_any (limits))
    return TRUE;
  hutch_cgroup_caps_probe (&caps);
  ok = hutch_cgroup_limits_check (&caps, limits, error);
  hutch_cgroup_caps_clear (&caps);
  return ok;
}

gboolean
hutch_container_limits (const HutchContext *ctx, const char *id, HutchCgroupLimits *out,
                        GError **error)
{
  g_autofree char *dir = hutch_container_dir (ctx, id);

  return hutch_container_limits_read (dir, out, error);
}

char *
hutch_container_need_scope (const HutchContext *ctx, char **ids)
{
  HutchCgroupCaps caps;
  char *need = NULL;

  hutch_cgroup_caps_probe (&caps);
  for (char **id = ids; need == NULL && id != NULL && *id != NULL; id++)
    {
      HutchCgroupLimits l = { 0 };
      if (hutch_container_limits (ctx, *id, &l, NULL))
        need = hutch_cgroup_need_scope (&caps, &l);
      hutch_cgroup_limits_clear (&l);
    }
  hutch_cgroup_caps_clear (&caps);
  return need;
}
