/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Limits applied on a delegated cgroup v2 subtree: the cgroup hutch runs
 * in (OWN, writable by the user: a systemd scope with Delegate=yes, a CI
 * job's cgroup) gets, per container,
 *   OWN/hutch-ID.monitor   a leaf the monitor moves into, so that OWN holds
 *                          no process: the kernel lets only a cgroup
 *                          without processes give controllers to children;
 *   OWN/hutch-ID           the container, its limits written before its
 *                          first process is let go.
 * A limit asked for that cannot be applied is an error; the default pids
 * limit (2048, as podman) is not one: without a cgroup it is dropped. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "cgroup.h"

#define CGROUP_ROOT "/sys/fs/cgroup"
#define DEFAULT_PIDS 2048

struct HutchCgroup
{
  char *dir;     /* CGROUP_ROOT/OWN/hutch-ID */
  char *monitor; /* CGROUP_ROOT/OWN/hutch-ID.monitor */
};

static gboolean
write_file (const char *dir, const char *name, const char *value, GError **error)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  hutch_autofd int fd = open (path, O_WRONLY | O_CLOEXEC);

  if (fd < 0 || write (fd, value, strlen (value)) < 0)
    return hutch_throw_errno (error, "writing \"%s\" to %s", value, path);
  return TRUE;
}

/* OWN: where we run, or its parent when that is a monitor leaf of ours
 * (`start A B` moved us into A's before B). */
static char *
own_dir (const HutchCgroupCaps *caps)
{
  g_autofree char *own = g_build_filename (CGROUP_ROOT, caps->own_path != NULL ? caps->own_path : "/", NULL);
  g_autofree char *base = g_path_get_basename (own);

  if (g_str_has_prefix (base, "hutch-") && g_str_has_suffix (base, ".monitor"))
    return g_path_get_dirname (own);
  return g_steal_pointer (&own);
}

/* Empty leaves of monitors that have ended go (rmdir fails on the others). */
static void
sweep (const char *own)
{
  g_autoptr (GDir) d = g_dir_open (own, 0, NULL);
  const char *name;

  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    if (g_str_has_prefix (name, "hutch-") && g_str_has_suffix (name, ".monitor"))
      {
        g_autofree char *path = g_build_filename (own, name, NULL);
        (void) rmdir (path);
      }
}

static gboolean
write_limits (const char *dir, const HutchCgroupLimits *l, GError **error)
{
  g_autofree char *v = NULL;

  if (l->memory != 0 && !write_file (dir, "memory.max", v = g_strdup_printf ("%" G_GINT64_FORMAT, l->memory), error))
    return FALSE;
  g_clear_pointer (&v, g_free);
  if (l->memory_swap == -1 && !write_file (dir, "memory.swap.max", "max", error))
    return FALSE;
  if (l->memory_swap > 0
      && !write_file (dir, "memory.swap.max",
                      v = g_strdup_printf ("%" G_GINT64_FORMAT, l->memory_swap - l->memory), error))
    return FALSE;
  g_clear_pointer (&v, g_free);
  if (l->memory_reservation != 0
      && !write_file (dir, "memory.low", v = g_strdup_printf ("%" G_GINT64_FORMAT, l->memory_reservation), error))
    return FALSE;
  g_clear_pointer (&v, g_free);
  if (l->cpus != 0
      && !write_file (dir, "cpu.max", v = g_strdup_printf ("%" G_GINT64_FORMAT " 100000",
                                                           (gint64) (l->cpus * 100000 + 0.5)), error))
    return FALSE;
  g_clear_pointer (&v, g_free);
  if (l->cpu_shares != 0
      && !write_file (dir, "cpu.weight",
                      v = g_strdup_printf ("%" G_GUINT64_FORMAT, hutch_cgroup_shares_to_weight (l->cpu_shares)),
                      error))
    return FALSE;
  g_clear_pointer (&v, g_free);
  if (l->cpuset_cpus != NULL && !write_file (dir, "cpuset.cpus", l->cpuset_cpus, error))
    return FALSE;
  if (l->pids_limit != 0
      && !write_file (dir, "pids.max",
                      l->pids_limit < 0 ? "max" : (v = g_strdup_printf ("%" G_GINT64_FORMAT, l->pids_limit)),
                      error))
    return FALSE;
  return TRUE;
}

/* "+memory +cpu +pids" for what @l needs, of what is delegated. */
static char *
controllers_for (const HutchCgroupCaps *caps, const HutchCgroupLimits *l)
{
  GString *s = g_string_new (NULL);
  const struct
  {
    const char *name;
    gboolean want;
  } c[] = {
    { "memory", l->memory != 0 || l->memory_swap != 0 || l->memory_reservation != 0 },
    { "cpu", l->cpus != 0 || l->cpu_shares != 0 },
    { "cpuset", l->cpuset_cpus != NULL },
    { "pids", l->pids_limit != 0 },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (c); i++)
    if (c[i].want && g_strv_contains ((const char *const *) caps->controllers, c[i].name))
      g_string_append_printf (s, "%s+%s", s->len > 0 ? " " : "", c[i].name);
  return g_string_free (s, FALSE);
}

static gboolean
setup (HutchCgroup *cg, const char *own, const char *self, const char *want,
       const HutchCgroupLimits *l, const char *asked, GError **error)
{
  if (g_mkdir (cg->monitor, 0755) < 0 && errno != EEXIST)
    return hutch_throw_errno (error, "making %s", cg->monitor);
  if (!write_file (cg->monitor, "cgroup.procs", self, error))
    return FALSE;
  if (*want != '\0' && !write_file (own, "cgroup.subtree_control", want, error))
    {
      if (errno != EBUSY)
        return FALSE;
      g_clear_error (error);
      return hutch_throw (error, HUTCH_ERROR_HOST_UNSUPPORTED,
                          "%s cannot be applied: cgroup %s holds processes besides hutch (your "
                          "shell?), and the kernel gives controllers only to the children of a "
                          "cgroup without processes. Start hutch in a cgroup of its own: "
                          "systemd-run --user --scope hutch run ...",
                          asked, own + strlen (CGROUP_ROOT));
    }
  /* --cgroup-parent: the cgroups between, each giving the controllers on */
  if (l->parent != NULL)
    {
      g_auto (GStrv) parts = g_strsplit (l->parent, "/", -1);
      g_autofree char *at = g_strdup (own);
      for (char **p = parts; *p != NULL; p++)
        {
          char *next;
          if (**p == '\0')
            continue;
          next = g_build_filename (at, *p, NULL);
          g_free (at);
          at = next;
          if (g_mkdir (at, 0755) < 0 && errno != EEXIST)
            return hutch_throw_errno (error, "making %s (--cgroup-parent)", at);
          if (*want != '\0' && !write_file (at, "cgroup.subtree_control", want, error))
            return FALSE;
        }
    }
  if (g_mkdir (cg->dir, 0755) < 0 && errno != EEXIST)
    return hutch_throw_errno (error, "making %s", cg->dir);
  return write_limits (cg->dir, l, error);
}

HutchCgroup *
hutch_cgroup_prepare (const HutchCgroupCaps *caps, const char *id, HutchCgroupLimits *l,
                      GError **error)
{
  g_autoptr (GError) local = NULL;
  g_autofree char *own = NULL, *want = NULL, *asked = hutch_cgroup_limits_describe (l);
  g_autofree char *self = NULL;
  HutchCgroup *cg;
  gboolean required = hutch_cgroup_limits_any (l);

  if (l->disabled || caps->version != HUTCH_CGROUP_V2
      || caps->delegation != HUTCH_CGROUP_DELEGATION_INHERITED)
    {
      if (required && hutch_cgroup_limits_check (caps, l, error))
        hutch_throw (error, HUTCH_ERROR_HOST_UNSUPPORTED,
                     "%s cannot be applied: hutch's cgroup is not delegated, and this command "
                     "does not ask the systemd user manager for one; run it in a scope: "
                     "systemd-run --user --scope hutch ...",
                     asked);
      return NULL;
    }
  if (l->pids_limit == 0 && g_strv_contains ((const char *const *) caps->controllers, "pids"))
    l->pids_limit = DEFAULT_PIDS;
  own = own_dir (caps);
  sweep (own);
  cg = g_new0 (HutchCgroup, 1);
  cg->dir = l->parent != NULL ? g_strdup_printf ("%s/%s/hutch-%.12s", own, l->parent, id)
                              : g_strdup_printf ("%s/hutch-%.12s", own, id);
  cg->monitor = g_strdup_printf ("%s/hutch-%.12s.monitor", own, id);
  self = g_strdup_printf ("%d", (int) getpid ());
  want = controllers_for (caps, l);
  (void) setup (cg, own, self, want, l, asked, &local);
  if (local == NULL)
    return cg;
  /* back where we were, and no leaf left behind */
  (void) write_file (own, "cgroup.procs", self, NULL);
  (void) rmdir (cg->monitor);
  hutch_cgroup_free (cg);
  if (!required)
    return NULL; /* only the default pids limit is lost */
  g_propagate_error (error, g_steal_pointer (&local));
  if (!g_error_matches (*error, HUTCH_ERROR, HUTCH_ERROR_HOST_UNSUPPORTED))
    g_prefix_error (error, "%s cannot be applied: ", asked);
  return NULL;
}

gboolean
hutch_cgroup_enter (HutchCgroup *cg, pid_t pid, GError **error)
{
  g_autofree char *v = g_strdup_printf ("%d", (int) pid);

  return write_file (cg->dir, "cgroup.procs", v, error);
}

const char *
hutch_cgroup_dir (const HutchCgroup *cg)
{
  return cg->dir;
}

gboolean
hutch_cgroup_oom_killed (const HutchCgroup *cg)
{
  g_autofree char *path = g_build_filename (cg->dir, "memory.events", NULL);
  g_autofree char *text = hutch_util_read_host_file (path, 4096, NULL);
  const char *at = text != NULL ? strstr (text, "oom_kill ") : NULL;

  return at != NULL && strtoll (at + 9, NULL, 10) > 0;
}

void
hutch_cgroup_free (HutchCgroup *cg)
{
  if (cg == NULL)
    return;
  (void) rmdir (cg->dir); /* empty once the container has ended */
  g_free (cg->dir);
  g_free (cg->monitor);
  g_free (cg);
}

gboolean
hutch_cgroup_remove_dir (const char *dir, int timeout_ms)
{
  g_autofree char *events = g_build_filename (dir, "cgroup.events", NULL);
  hutch_autofd int fd = -1;
  gint64 end = g_get_monotonic_time () + (gint64) timeout_ms * 1000;

  if (rmdir (dir) == 0 || errno == ENOENT)
    return TRUE;
  if (errno != EBUSY || (fd = open (events, O_RDONLY | O_CLOEXEC)) < 0)
    return FALSE;
  /* the kernel says when it is empty: cgroup.events changes (POLLPRI) */
  for (;;)
    {
      char buf[256];
      struct pollfd p = { fd, POLLPRI, 0 };
      ssize_t n = pread (fd, buf, sizeof buf - 1, 0);
      gint64 left = (end - g_get_monotonic_time ()) / 1000;
      if (n > 0)
        {
          buf[n] = '\0';
          if (strstr (buf, "populated 0") != NULL)
            return rmdir (dir) == 0 || errno == ENOENT;
        }
      if (left <= 0 || poll (&p, 1, (int) left) <= 0)
        return FALSE;
    }
}
