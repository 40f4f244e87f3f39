/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A bundle's config.json read into a HutchSandboxBundle (what sandbox/
 * runs) plus the hooks and annotations. Every field is checked for its
 * kind and named in the error; a field hutch knows but cannot honour is an
 * error naming it, never dropped in silence; fields unknown to us are
 * ignored, as the runtime-spec requires. The seccomp profile is
 * config-seccomp.c's. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <unistd.h>

#include "oci-private.h"

static const char *const type_names[] = { "null", "a boolean", "a number", "a string",
                                          "an array", "an object" };

gboolean
hutch_oci_json_want (const HutchJsonNode *n, HutchJsonType type, const char *field,
                     GError **error)
{
  if (n != NULL && n->type == type)
    return TRUE;
  return hutch_throw (error, HUTCH_ERROR_INVALID_IMAGE, "config.json: %s: expected %s", field,
                      type_names[type]);
}

gboolean
hutch_oci_json_string (const HutchJsonNode *obj, const char *key, const char *where, char **out,
                       GError **error)
{
  const HutchJsonNode *n = hutch_json_node_member (obj, key);
  g_autofree char *field = *where != '\0' ? g_strconcat (where, ".", key, NULL) : g_strdup (key);

  *out = NULL;
  if (n == NULL || n->type == HUTCH_JSON_NULL)
    return TRUE;
  if (!hutch_oci_json_want (n, HUTCH_JSON_STRING, field, error))
    return FALSE;
  *out = g_strdup (n->string);
  return TRUE;
}

gboolean
hutch_oci_json_strv (const HutchJsonNode *obj, const char *key, const char *where, char ***out,
                     GError **error)
{
  const HutchJsonNode *n = hutch_json_node_member (obj, key);
  g_autofree char *field = *where != '\0' ? g_strconcat (where, ".", key, NULL) : g_strdup (key);
  g_autoptr (GPtrArray) v = NULL;

  *out = NULL;
  if (n == NULL || n->type == HUTCH_JSON_NULL)
    return TRUE;
  if (!hutch_oci_json_want (n, HUTCH_JSON_ARRAY, field, error))
    return FALSE;
  v = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; i < n->n_members; i++)
    {
      g_autofree char *item = g_strdup_printf ("%s[%u]", field, i);
      if (!hutch_oci_json_want (n->members[i], HUTCH_JSON_STRING, item, error))
        return FALSE;
      g_ptr_array_add (v, g_strdup (n->members[i]->string));
    }
  g_ptr_array_add (v, NULL);
  *out = (char **) g_ptr_array_free (g_steal_pointer (&v), FALSE);
  return TRUE;
}

gboolean
hutch_oci_json_bool (const HutchJsonNode *obj, const char *key, const char *where,
                     gboolean *out, GError **error)
{
  const HutchJsonNode *n = hutch_json_node_member (obj, key);
  g_autofree char *field = *where != '\0' ? g_strconcat (where, ".", key, NULL) : g_strdup (key);

  *out = FALSE;
  if (n == NULL || n->type == HUTCH_JSON_NULL)
    return TRUE;
  if (!hutch_oci_json_want (n, HUTCH_JSON_BOOL, field, error))
    return FALSE;
  *out = n->boolean;
  return TRUE;
}

/* An integer in [@min, @max]; *@present tells whether it was given. */
gboolean
hutch_oci_json_int (const HutchJsonNode *obj, const char *key, const char *where, gint64 min,
                    gint64 max, gint64 *out, gboolean *present, GError **error)
{
  const HutchJsonNode *n = hutch_json_node_member (obj, key);
  g_autofree char *field = *where != '\0' ? g_strconcat (where, ".", key, NULL) : g_strdup (key);

  *out = 0;
  if (present != NULL)
    *present = FALSE;
  if (n == NULL || n->type == HUTCH_JSON_NULL)
    return TRUE;
  if (n->type != HUTCH_JSON_NUMBER || !n->is_int || n->integer < min || n->integer > max)
    return hutch_throw (error, HUTCH_ERROR_INVALID_IMAGE,
                        "config.json: %s: expected an integer from %" G_GINT64_FORMAT
                        " to %" G_GINT64_FORMAT, field, min, max);
  *out = n->integer;
  if (present != NULL)
    *present = TRUE;
  return TRUE;
}

/* A field hutch knows of but does not implement: an error naming it. */
gboolean
hutch_oci_json_unsupported (const HutchJsonNode *obj, const char *key, const char *where,
                            GError **error)
{
  const HutchJsonNode *n = hutch_json_node_member (obj, key);

  if (n == NULL || n->type == HUTCH_JSON_NULL
      || ((n->type == HUTCH_JSON_OBJECT || n->type == HUTCH_JSON_ARRAY) && n->n_members == 0))
    return TRUE;
  return hutch_throw (error, HUTCH_ERROR_USAGE, "config.json: %s%s%s is not supported by hutch",
                      where, *where != '\0' ? "." : "", key);
}

/* ---- mounts ---- */

static const struct
{
  const char *name;
  unsigned long set;
  unsigned long clear;
  unsigned long propagation;
} mount_options[] = {
  { "ro", MS_RDONLY, 0, 0 },          { "rw", 0, MS_RDONLY, 0 },
  { "nosuid", MS_NOSUID, 0, 0 },      { "suid", 0, MS_NOSUID, 0 },
  { "nodev", MS_NODEV, 0, 0 },        { "dev", 0, MS_NODEV, 0 },
  { "noexec", MS_NOEXEC, 0, 0 },      { "exec", 0, MS_NOEXEC, 0 },
  { "sync", MS_SYNCHRONOUS, 0, 0 },   { "async", 0, MS_SYNCHRONOUS, 0 },
  { "dirsync", MS_DIRSYNC, 0, 0 },    { "mand", MS_MANDLOCK, 0, 0 },
  { "nomand", 0, MS_MANDLOCK, 0 },    { "atime", 0, MS_NOATIME, 0 },
  { "noatime", MS_NOATIME, 0, 0 },    { "diratime", 0, MS_NODIRATIME, 0 },
  { "nodiratime", MS_NODIRATIME, 0, 0 }, { "relatime", MS_RELATIME, 0, 0 },
  { "norelatime", 0, MS_RELATIME, 0 }, { "strictatime", MS_STRICTATIME, 0, 0 },
  { "nostrictatime", 0, MS_STRICTATIME, 0 }, { "bind", MS_BIND, 0, 0 },
  { "rbind", MS_BIND | MS_REC, 0, 0 }, { "private", 0, 0, MS_PRIVATE },
  { "rprivate", 0, 0, MS_PRIVATE | MS_REC }, { "shared", 0, 0, MS_SHARED },
  { "rshared", 0, 0, MS_SHARED | MS_REC }, { "slave", 0, 0, MS_SLAVE },
  { "rslave", 0, 0, MS_SLAVE | MS_REC }, { "unbindable", 0, 0, MS_UNBINDABLE },
  { "runbindable", 0, 0, MS_UNBINDABLE | MS_REC },
};

/* Options of no meaning to a bind or with no kernel flag, accepted as
 * runc and crun accept them. */
static const char *const ignored_options[] = { "defaults", "tmpcopyup", "notmpcopyup", "copy-symlink",
                                               "nocopyup", "z", "Z" };

static gboolean
parse_mount_options (char **options, const char *field, HutchBundleMount *m, GError **error)
{
  g_autoptr (GPtrArray) data = g_ptr_array_new ();

  for (char **o = options; o != NULL && *o != NULL; o++)
    {
      gboolean known = FALSE;
      for (gsize i = 0; i < G_N_ELEMENTS (mount_options) && !known; i++)
        if (strcmp (*o, mount_options[i].name) == 0)
          {
            m->flags = (m->flags | mount_options[i].set) & ~mount_options[i].clear;
            m->propagation |= mount_options[i].propagation;
            known = TRUE;
          }
      if (known || g_strv_contains (ignored_options, *o))
        continue;
      if (strcmp (*o, "idmap") == 0 || strcmp (*o, "ridmap") == 0 || strcmp (*o, "remount") == 0)
        return hutch_throw (error, HUTCH_ERROR_USAGE,
                            "config.json: %s.options: \"%s\" is not supported by hutch", field, *o);
      g_ptr_array_add (data, *o);
    }
  if (data->len > 0)
    {
      g_ptr_array_add (data, NULL);
      m->data = g_strjoinv (",", (char **) data->pdata);
    }
  return TRUE;
}

static gboolean
parse_mounts (const HutchJsonNode *root, const char *bundle, GPtrArray **out, GError **error)
{
  const HutchJsonNode *n = hutch_json_node_member (root, "mounts");
  g_autoptr (GPtrArray) mounts = g_ptr_array_new_with_free_func (
      (GDestroyNotify) hutch_sandbox_bundle_mount_free);

  if (n != NULL && !hutch_oci_json_want (n, HUTCH_JSON_ARRAY, "mounts", error))
    return FALSE;
  for (guint i = 0; n != NULL && i < n->n_members; i++)
    {
      g_autofree char *field = g_strdup_printf ("mounts[%u]", i);
      g_autoptr (HutchBundleMount) m = g_new0 (HutchBundleMount, 1);
      g_auto (GStrv) options = NULL;
      if (!hutch_oci_json_want (n->members[i], HUTCH_JSON_OBJECT, field, error)
          || !hutch_oci_json_string (n->members[i], "destination", field, &m->destination, error)
          || !hutch_oci_json_string (n->members[i], "type", field, &m->type, error)
          || !hutch_oci_json_string (n->members[i], "source", field, &m->source, error)
          || !hutch_oci_json_strv (n->members[i], "options", field, &options, error)
          || !hutch_oci_json_unsupported (n->members[i], "uidMappings", field, error)
          || !hutch_oci_json_unsupported (n->members[i], "gidMappings", field, error)
          || !parse_mount_options (options, field, m, error))
        return FALSE;
      if (m->destination == NULL || !g_path_is_absolute (m->destination))
        return hutch_throw (error, HUTCH_ERROR_INVALID_IMAGE,
                            "config.json: %s.destination: expected an absolute path", field);
      /* a relative bind source is the bundle's */
      if (m->source != NULL && !g_path_is_absolute (m->source)
          && ((m->flags & MS_BIND) || g_strcmp0 (m->type, "bind") == 0))
        {
          char *abs = g_build_filename (bundle, m->source, NULL);
          g_free (m->source);
          m->source = abs;
        }
      if (((m->flags & MS_BIND) || g_strcmp0 (m->type, "bind") == 0) && m->source == NULL)
        return hutch_throw (error, HUTCH_ERROR_INVALID_IMAGE,
                            "config.json: %s.source: a bind needs one", field);
      g_ptr_array_add (mounts, g_steal_pointer (&m));
    }
  *out = g_steal_pointer (&mounts);
  return TRUE;
}

/* ---- process ---- */

static gboolean
parse_caps (const HutchJsonNode *proc, const char *where, HutchBundleProcess *out, GError **error)
{
  static const char *const sets[HUTCH_CAPS_N_SETS] = { "bounding", "effective", "inheritable",
                                                       "permitted", "ambient" };
  const HutchJsonNode *c = hutch_json_node_member (proc, "capabilities");
  g_autofree char *field = g_strconcat (where, ".capabilities", NULL);

  if (c == NULL || c->type == HUTCH_JSON_NULL)
    return TRUE;
  if (!hutch_oci_json_want (c, HUTCH_JSON_OBJECT, field, error))
    return FALSE;
  out->has_caps = TRUE;
  for (int i = 0; i < HUTCH_CAPS_N_SETS; i++)
    {
      g_auto (GStrv) names = NULL;
      if (!hutch_oci_json_strv (c, sets[i], field, &names, error))
        return FALSE;
      if (names != NULL && !hutch_sandbox_caps_from_names ((const char *const *) names,
                                                           &out->caps[i], error))
        {
          g_prefix_error (error, "config.json: %s.%s: ", field, sets[i]);
          return FALSE;
        }
    }
  return TRUE;
}

static gboolean
parse_rlimits (const HutchJsonNode *proc, const char *where, HutchBundleProcess *out,
               GError **error)
{
  const HutchJsonNode *r = hutch_json_node_member (proc, "rlimits");
  g_autofree char *field = g_strconcat (where, ".rlimits", NULL);

  if (r == NULL || r->type == HUTCH_JSON_NULL)
    return TRUE;
  if (!hutch_oci_json_want (r, HUTCH_JSON_ARRAY, field, error))
    return FALSE;
  out->rlimits = g_array_new (FALSE, FALSE, sizeof (HutchSandboxRlimit));
  for (guint i = 0; i < r->n_members; i++)
    {
      g_autofree char *item = g_strdup_printf ("%s[%u]", field, i);
      g_autofree char *type = NULL;
      HutchSandboxRlimit l;
      gint64 soft, hard;
      if (!hutch_oci_json_want (r->members[i], HUTCH_JSON_OBJECT, item, error)
          || !hutch_oci_json_string (r->members[i], "type", item, &type, error)
          || !hutch_oci_json_int (r->members[i], "soft", item, 0, G_MAXINT64, &soft, NULL, error)
          || !hutch_oci_json_int (r->members[i], "hard", item, 0, G_MAXINT64, &hard, NULL, error))
        return FALSE;
      l.resource = type != NULL ? hutch_sandbox_rlimit_from_name (type) : -1;
      if (l.resource < 0)
        return hutch_throw (error, HUTCH_ERROR_INVALID_IMAGE, "config.json: %s.type: unknown %s",
                            item, type != NULL ? type : "(none)");
      l.soft = (guint64) soft;
      l.hard = (guint64) hard;
      g_array_append_val (out->rlimits, l);
    }
  return TRUE;
}

static gboolean
parse_user (const HutchJsonNode *proc, const char *where, HutchBundleProcess *out, GError **error)
{
  const HutchJsonNode *u = hutch_json_node_member (proc, "user");
  const HutchJsonNode *groups;
  g_autofree char *field = g_strconcat (where, ".user", NULL);
  gint64 v;

  if (u == NULL)
    return TRUE;
  if (!hutch_oci_json_want (u, HUTCH_JSON_OBJECT, field, error)
      || !hutch_oci_json_int (u, "uid", field, 0, G_MAXUINT32 - 1, &v, NULL, error))
    return FALSE;
  out->uid = (uid_t) v;
  if (!hutch_oci_json_int (u, "gid", field, 0, G_MAXUINT32 - 1, &v, NULL, error))
    return FALSE;
  out->gid = (gid_t) v;
  if (!hutch_oci_json_int (u, "umask", field, 0, 0777, &v, &out->has_umask, error))
    return FALSE;
  out->umask = (mode_t) v;
  groups = hutch_json_node_member (u, "additionalGids");
  if (groups != NULL && groups->type != HUTCH_JSON_NULL)
    {
      g_autofree char *gfield = g_strconcat (field, ".additionalGids", NULL);
      if (!hutch_oci_json_want (groups, HUTCH_JSON_ARRAY, gfield, error))
        return FALSE;
      out->groups = g_array_new (FALSE, FALSE, sizeof (gid_t));
      for (guint i = 0; i < groups->n_members; i++)
        {
          gid_t g;
          if (groups->members[i]->type != HUTCH_JSON_NUMBER || !groups->members[i]->is_int
              || groups->members[i]->integer < 0 || groups->members[i]->integer >= G_MAXUINT32)
            return hutch_throw (error, HUTCH_ERROR_INVALID_IMAGE,
                                "config.json: %s[%u]: expected a gid", gfield, i);
          g = (gid_t) groups->members[i]->integer;
          g_array_append_val (out->groups, g);
        }
    }
  return TRUE;
}

gboolean
hutch_oci_process_parse (const HutchJsonNode *node, const char *where, HutchBundleProcess *out,
                         GError **error)
{
  gint64 v;

  hutch_sandbox_bundle_process_clear (out);
  memset (out, 0, sizeof *out);
  if (!hutch_oci_json_want (node, HUTCH_JSON_OBJECT, where, error)
      || !hutch_oci_json_bool (node, "terminal", where, &out->terminal, error)
      || !hutch_oci_json_strv (node, "args", where, &out->args, error)
      || !hutch_oci_json_strv (node, "env", where, &out->env, error)
      || !hutch_oci_json_string (node, "cwd", where, &out->cwd, error)
      || !hutch_oci_json_bool (node, "noNewPrivileges", where, &out->no_new_privs, error)
      || !hutch_oci_json_int (node, "oomScoreAdj", where, -1000, 1000, &v,
                              &out->has_oom_score_adj, error)
      || !parse_user (node, where, out, error) || !parse_caps (node, where, out, error)
      || !parse_rlimits (node, where, out, error)
      || !hutch_oci_json_unsupported (node, "scheduler", where, error)
      || !hutch_oci_json_unsupported (node, "ioPriority", where, error)
      || !hutch_oci_json_unsupported (node, "execCPUAffinity", where, error))
    return FALSE;
  out->oom_score_adj = (int) v;
  if (out->args == NULL || out->args[0] == NULL)
    return hutch_throw (error, HUTCH_ERROR_INVALID_IMAGE, "config.json: %s.args: no command given",
                        where);
  if (out->cwd == NULL || !g_path_is_absolute (out->cwd))
    return hutch_throw (error, HUTCH_ERROR_INVALID_IMAGE,
                        "config.json: %s.cwd: expected an absolute path", where);
  if (out->env == NULL)
    out->env = g_new0 (char *, 1);
  /* apparmorProfile and selinuxLabel: hutch confines with namespaces and
   * seccomp; a host with neither LSM has nothing to apply them with */
  if (hutch_json_node_member (node, "apparmorProfile") != NULL
      || hutch_json_node_member (node, "selinuxLabel") != NULL)
    g_debug ("%s: apparmorProfile and selinuxLabel are ignored", where);
  return TRUE;
}

/* ---- linux ---- */

static const struct
{
  const char *name;
  int type;
} ns_types[] = {
  { "pid", CLONE_NEWPID }, { "network", CLONE_NEWNET }, { "mount", CLONE_NEWNS },
  { "ipc", CLONE_NEWIPC }, { "uts", CLONE_NEWUTS },     { "user", CLONE_NEWUSER },
  { "cgroup", CLONE_NEWCGROUP },
};

static gboolean
parse_namespaces (const HutchJsonNode *linux_, HutchSandboxBundle *b, GError **error)
{
  const HutchJsonNode *n = hutch_json_node_member (linux_, "namespaces");

  b->namespaces = g_array_new (FALSE, TRUE, sizeof (HutchBundleNs));
  if (n == NULL || n->type == HUTCH_JSON_NULL)
    return TRUE;
  if (!hutch_oci_json_want (n, HUTCH_JSON_ARRAY, "linux.namespaces", error))
    return FALSE;
  for (guint i = 0; i < n->n_members; i++)
    {
      g_autofree char *field = g_strdup_printf ("linux.namespaces[%u]", i);
      g_autofree char *type = NULL, *path = NULL;
      HutchBundleNs ns = { 0, NULL };
      if (!hutch_oci_json_want (n->members[i], HUTCH_JSON_OBJECT, field, error)
          || !hutch_oci_json_string (n->members[i], "type", field, &type, error)
          || !hutch_oci_json_string (n->members[i], "path", field, &path, error))
        return FALSE;
      for (gsize j = 0; j < G_N_ELEMENTS (ns_types); j++)
        if (g_strcmp0 (type, ns_types[j].name) == 0)
          ns.type = ns_types[j].type;
      if (ns.type == 0)
        return hutch_throw (error, HUTCH_ERROR_USAGE,
                            "config.json: %s.type: \"%s\" is not supported by hutch", field,
                            type != NULL ? type : "");
      if (hutch_sandbox_bundle_ns (b, ns.type) != NULL)
        return hutch_throw (error, HUTCH_ERROR_INVALID_IMAGE, "config.json: %s: %s given twice",
                            field, type);
      if (ns.type == CLONE_NEWNS && path != NULL)
        return hutch_throw (error, HUTCH_ERROR_USAGE,
                            "config.json: %s.path: joining a mount namespace is not supported "
                            "by hutch", field);
      ns.path = g_steal_pointer (&path);
      g_array_append_val (b->namespaces, ns);
    }
  return TRUE;
}

static gboolean
parse_mappings (const HutchJsonNode *linux_, const char *key, GArray **out, GError **error)
{
  const HutchJsonNode *n = hutch_json_node_member (linux_, key);
  g_autofree char *field = g_strconcat ("linux.", key, NULL);

  if (n == NULL || n->type == HUTCH_JSON_NULL)
    return TRUE;
  if (!hutch_oci_json_want (n, HUTCH_JSON_ARRAY, field, error))
    return FALSE;
  *out = g_array_new (FALSE, FALSE, sizeof (HutchIdMapLine));
  for (guint i = 0; i < n->n_members; i++)
    {
      g_autofree char *item = g_strdup_printf ("%s[%u]", field, i);
      gint64 c, h, s;
      HutchIdMapLine l;
      if (!hutch_oci_json_want (n->members[i], HUTCH_JSON_OBJECT, item, error)
          || !hutch_oci_json_int (n->members[i], "containerID", item, 0, G_MAXUINT32, &c, NULL, error)
          || !hutch_oci_json_int (n->members[i], "hostID", item, 0, G_MAXUINT32, &h, NULL, error)
          || !hutch_oci_json_int (n->members[i], "size", item, 1, G_MAXUINT32, &s, NULL, error))
        return FALSE;
      l = (HutchIdMapLine) { (guint32) c, (guint32) h, (guint32) s };
      g_array_append_val (*out, l);
    }
  return TRUE;
}

static gboolean
parse_devices_sysctl (const HutchJsonNode *linux_, HutchSandboxBundle *b, GError **error)
{
  const HutchJsonNode *d = hutch_json_node_member (linux_, "devices");
  const HutchJsonNode *s = hutch_json_node_member (linux_, "sysctl");
  g_autoptr (GPtrArray) paths = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GPtrArray) kv = g_ptr_array_new_with_free_func (g_free);

  if (d != NULL && !hutch_oci_json_want (d, HUTCH_JSON_ARRAY, "linux.devices", error))
    return FALSE;
  for (guint i = 0; d != NULL && i < d->n_members; i++)
    {
      g_autofree char *field = g_strdup_printf ("linux.devices[%u]", i);
      g_autofree char *path = NULL;
      if (!hutch_oci_json_want (d->members[i], HUTCH_JSON_OBJECT, field, error)
          || !hutch_oci_json_string (d->members[i], "path", field, &path, error))
        return FALSE;
      if (path == NULL || !g_path_is_absolute (path))
        return hutch_throw (error, HUTCH_ERROR_INVALID_IMAGE,
                            "config.json: %s.path: expected an absolute path", field);
      g_ptr_array_add (paths, g_steal_pointer (&path));
    }
  if (s != NULL && !hutch_oci_json_want (s, HUTCH_JSON_OBJECT, "linux.sysctl", error))
    return FALSE;
  for (guint i = 0; s != NULL && i < s->n_members; i++)
    {
      g_autofree char *field = g_strdup_printf ("linux.sysctl.%s", s->keys[i]);
      if (!hutch_oci_json_want (s->members[i], HUTCH_JSON_STRING, field, error))
        return FALSE;
      g_ptr_array_add (kv, g_strdup_printf ("%s=%s", s->keys[i], s->members[i]->string));
    }
  g_ptr_array_add (paths, NULL);
  g_ptr_array_add (kv, NULL);
  b->devices = (char **) g_ptr_array_free (g_steal_pointer (&paths), FALSE);
  b->sysctl = (char **) g_ptr_array_free (g_steal_pointer (&kv), FALSE);
  return TRUE;
}

static gboolean
parse_propagation (const HutchJsonNode *linux_, HutchSandboxBundle *b, GError **error)
{
  g_autofree char *p = NULL;

  if (!hutch_oci_json_string (linux_, "rootfsPropagation", "linux", &p, error))
    return FALSE;
  if (p == NULL)
    return TRUE;
  for (gsize i = 0; i < G_N_ELEMENTS (mount_options); i++)
    if (strcmp (p, mount_options[i].name) == 0 && mount_options[i].propagation != 0)
      {
        b->rootfs_propagation = mount_options[i].propagation;
        return TRUE;
      }
  return hutch_throw (error, HUTCH_ERROR_INVALID_IMAGE,
                      "config.json: linux.rootfsPropagation: unknown \"%s\"", p);
}

static gboolean
parse_linux (const HutchJsonNode *root, HutchOciConfig *c, GError **error)
{
  HutchSandboxBundle *b = &c->sandbox;
  const HutchJsonNode *l = hutch_json_node_member (root, "linux");

  if (l == NULL)
    return hutch_throw (error, HUTCH_ERROR_INVALID_IMAGE, "config.json: linux: missing");
  if (!hutch_oci_json_want (l, HUTCH_JSON_OBJECT, "linux", error) || !parse_namespaces (l, b, error)
      || !parse_mappings (l, "uidMappings", &b->uid_map, error)
      || !parse_mappings (l, "gidMappings", &b->gid_map, error)
      || !hutch_oci_json_strv (l, "maskedPaths", "linux", &b->masked_paths, error)
      || !hutch_oci_json_strv (l, "readonlyPaths", "linux", &b->readonly_paths, error)
      || !parse_devices_sysctl (l, b, error) || !parse_propagation (l, b, error)
      || !hutch_oci_json_string (l, "cgroupsPath", "linux", &c->cgroups_path, error)
      || (c->resources = hutch_oci_resources_parse (hutch_json_node_member (l, "resources"),
                                                    "linux.resources", error)) == NULL
      || !hutch_oci_json_unsupported (l, "intelRdt", "linux", error)
      || !hutch_oci_json_unsupported (l, "personality", "linux", error)
      || !hutch_oci_json_unsupported (l, "timeOffsets", "linux", error))
    return FALSE;
  if ((b->uid_map != NULL || b->gid_map != NULL) && hutch_sandbox_bundle_ns (b, CLONE_NEWUSER) == NULL)
    return hutch_throw (error, HUTCH_ERROR_INVALID_IMAGE,
                        "config.json: linux.uidMappings: given without a user namespace");
  return hutch_oci_seccomp_parse (hutch_json_node_member (l, "seccomp"), &b->process.seccomp, error);
}

/* ---- the document ---- */

void
hutch_oci_config_free (HutchOciConfig *c)
{
  if (c == NULL)
    return;
  hutch_sandbox_bundle_clear (&c->sandbox);
  for (int i = 0; i < HUTCH_OCI_HOOK_N_KINDS; i++)
    if (c->hooks[i] != NULL)
      g_ptr_array_unref (c->hooks[i]);
  g_free (c->bundle);
  hutch_json_node_free (c->annotations);
  if (c->resources != NULL)
    g_ptr_array_unref (c->resources);
  g_free (c->cgroups_path);
  g_free (c);
}

static gboolean
parse_root (const HutchJsonNode *root, const char *bundle, HutchSandboxBundle *b, GError **error)
{
  const HutchJsonNode *r = hutch_json_node_member (root, "root");
  g_autofree char *path = NULL;

  if (r == NULL)
    return hutch_throw (error, HUTCH_ERROR_INVALID_IMAGE, "config.json: root: missing");
  if (!hutch_oci_json_want (r, HUTCH_JSON_OBJECT, "root", error)
      || !hutch_oci_json_string (r, "path", "root", &path, error)
      || !hutch_oci_json_bool (r, "readonly", "root", &b->rootfs_readonly, error))
    return FALSE;
  if (path == NULL)
    return hutch_throw (error, HUTCH_ERROR_INVALID_IMAGE, "config.json: root.path: missing");
  b->rootfs = g_path_is_absolute (path) ? g_strdup (path) : g_build_filename (bundle, path, NULL);
  if (!g_file_test (b->rootfs, G_FILE_TEST_IS_DIR))
    return hutch_throw (error, HUTCH_ERROR_NOT_FOUND,
                        "config.json: root.path: %s is not a directory", b->rootfs);
  return TRUE;
}

HutchOciConfig *
hutch_oci_config_load (const char *path, const char *bundle, GError **error)
{
  g_autoptr (HutchOciConfig) c = g_new0 (HutchOciConfig, 1);
  g_autoptr (HutchJsonNode) doc = NULL;
  g_autofree char *text = NULL;
  const HutchJsonNode *proc, *ann;
  gsize len;

  if (!g_file_get_contents (path, &text, &len, error))
    return NULL;
  doc = hutch_json_parse (text, len, error);
  if (doc == NULL)
    return g_prefix_error (error, "%s: ", path), NULL;
  c->bundle = g_strdup (bundle);
  c->sandbox.console_fd = c->sandbox.fifo_fd = -1;
  proc = hutch_json_node_member (doc, "process");
  if (!hutch_oci_json_want (doc, HUTCH_JSON_OBJECT, "(the document)", error)
      || !parse_root (doc, bundle, &c->sandbox, error)
      || !parse_mounts (doc, bundle, &c->sandbox.mounts, error)
      || !hutch_oci_json_string (doc, "hostname", "", &c->sandbox.hostname, error)
      || !hutch_oci_json_string (doc, "domainname", "", &c->sandbox.domainname, error)
      || (proc == NULL
          && !hutch_throw (error, HUTCH_ERROR_INVALID_IMAGE, "config.json: process: missing"))
      || !hutch_oci_process_parse (proc, "process", &c->sandbox.process, error)
      || !parse_linux (doc, c, error) || !hutch_oci_hooks_parse (doc, c->hooks, error)
      || !hutch_oci_json_unsupported (doc, "vm", "", error)
      || !hutch_oci_json_unsupported (doc, "solaris", "", error)
      || !hutch_oci_json_unsupported (doc, "windows", "", error))
    return NULL;
  if ((c->sandbox.hostname != NULL || c->sandbox.domainname != NULL)
      && hutch_sandbox_bundle_ns (&c->sandbox, CLONE_NEWUTS) == NULL)
    return hutch_throw (error, HUTCH_ERROR_INVALID_IMAGE,
                        "config.json: hostname: needs a uts namespace"), NULL;
  ann = hutch_json_node_member (doc, "annotations");
  if (ann != NULL && ann->type == HUTCH_JSON_OBJECT)
    {
      /* kept for the state document: written back and parsed again */
      g_autoptr (HutchJsonWriter) w = hutch_json_writer_new (FALSE);
      g_autofree char *t = NULL;
      hutch_json_write_node (w, ann);
      t = hutch_json_writer_finish (w);
      c->annotations = hutch_json_parse (t, strlen (t), NULL);
    }
  return g_steal_pointer (&c);
}
