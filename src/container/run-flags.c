/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* run's flags that shape the sandbox beyond the image: --ulimit,
 * --group-add, --shm-size and --device, each checked against what this
 * host and user can give, and refused naming the flag otherwise. */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "container-private.h"
#include "cgroup/cgroup.h"

static gboolean
parse_limit (const char *text, guint64 *out)
{
  guint64 v;

  if (strcmp (text, "-1") == 0 || strcmp (text, "unlimited") == 0)
    return *out = RLIM_INFINITY, TRUE;
  if (!g_ascii_string_to_unsigned (text, 10, 0, G_MAXINT64 - 1, &v, NULL))
    return FALSE;
  *out = v;
  return TRUE;
}

static char *
limit_text (guint64 v)
{
  return v == (guint64) RLIM_INFINITY ? g_strdup ("unlimited") : g_strdup_printf ("%" G_GUINT64_FORMAT, v);
}

/* --ulimit NAME=SOFT[:HARD], as docker; a hard limit over the user's own
 * cannot be set in a user namespace, so it is refused before anything runs. */
static gboolean
add_ulimit (GArray *out, const char *text, GError **error)
{
  const char *eq = strchr (text, '=');
  g_autofree char *name = eq != NULL ? g_strndup (text, (gsize) (eq - text)) : g_strdup (text);
  g_auto (GStrv) values = g_strsplit (eq != NULL ? eq + 1 : "", ":", 3);
  HutchSandboxRlimit l = { hutch_sandbox_rlimit_from_name (name), 0, 0 };
  struct rlimit have;

  if (l.resource < 0)
    {
      g_autofree char *known = hutch_sandbox_rlimit_known_names ();
      return hutch_throw (error, HUTCH_ERROR_USAGE, "--ulimit %s: unknown limit \"%s\" (one of %s)",
                          text, name, known);
    }
  if (eq == NULL || g_strv_length (values) < 1 || g_strv_length (values) > 2
      || !parse_limit (values[0], &l.soft) || (values[1] != NULL && !parse_limit (values[1], &l.hard)))
    return hutch_throw (error, HUTCH_ERROR_USAGE,
                        "--ulimit %s: use NAME=SOFT[:HARD], numbers or -1 for unlimited", text);
  if (values[1] == NULL)
    l.hard = l.soft;
  if (l.soft > l.hard)
    return hutch_throw (error, HUTCH_ERROR_USAGE, "--ulimit %s: the soft limit is over the hard one", text);
  if (getrlimit (l.resource, &have) == 0 && have.rlim_max != RLIM_INFINITY && l.hard > have.rlim_max)
    {
      g_autofree char *mine = limit_text (have.rlim_max);
      return hutch_throw (error, HUTCH_ERROR_USAGE,
                          "--ulimit %s: over your own hard limit (%s): a user namespace cannot "
                          "raise it; ask for at most %s, or have root raise yours (limits.conf)",
                          text, mine, mine);
    }
  g_array_append_val (out, l);
  return TRUE;
}

/* --device HOST[:CTR[:PERMS]]: a device node of the host the user may
 * open, bound into the container's /dev. */
static gboolean
add_device (GPtrArray *mounts, const char *text, GError **error)
{
  g_auto (GStrv) parts = g_strsplit (text, ":", 3);
  const char *perms = parts[1] != NULL && parts[2] != NULL ? parts[2]
                      : parts[1] != NULL && parts[1][0] != '/' ? parts[1] : "rwm";
  const char *target = parts[1] != NULL && parts[1][0] == '/' ? parts[1] : parts[0];
  HutchSandboxMount *m;
  struct stat st;
  int want = 0;

  if (parts[0] == NULL || parts[0][0] != '/' || target[0] != '/' || *perms == '\0'
      || strspn (perms, "rwm") != strlen (perms))
    return hutch_throw (error, HUTCH_ERROR_USAGE,
                        "--device %s: use HOST-PATH[:CONTAINER-PATH][:PERMISSIONS], absolute paths, "
                        "permissions of r, w and m", text);
  if (stat (parts[0], &st) < 0)
    return hutch_throw_errno (error, "--device %s", parts[0]);
  if (!S_ISCHR (st.st_mode) && !S_ISBLK (st.st_mode))
    return hutch_throw (error, HUTCH_ERROR_USAGE, "--device %s: not a device node", parts[0]);
  want |= strchr (perms, 'r') != NULL ? R_OK : 0;
  want |= strchr (perms, 'w') != NULL ? W_OK : 0;
  if (want != 0 && access (parts[0], want) < 0)
    return hutch_throw (error, HUTCH_ERROR_USAGE,
                        "--device %s: you cannot open it (mode %04o, owner %u): a rootless container "
                        "gets only the devices its user can use; ask root to give you access (a "
                        "group, or a udev rule)", parts[0], (unsigned) (st.st_mode & 07777),
                        (unsigned) st.st_uid);
  m = g_new0 (HutchSandboxMount, 1);
  m->source = g_strdup (parts[0]);
  m->target = g_strdup (target);
  g_ptr_array_add (mounts, m);
  return TRUE;
}

gboolean
hutch_container_run_flags_apply (const HutchRunOptions *o, HutchSandboxSpec *spec, GError **error)
{
  if (o->shm_size != NULL)
    {
      gint64 bytes;
      if (!hutch_cgroup_parse_size ("--shm-size", o->shm_size, &bytes, error))
        return FALSE;
      if (bytes <= 0)
        return hutch_throw (error, HUTCH_ERROR_USAGE, "--shm-size %s: give a size over 0", o->shm_size);
      spec->shm_size = (guint64) bytes;
    }
  for (char **u = o->ulimits; u != NULL && *u != NULL; u++)
    {
      if (spec->rlimits == NULL)
        spec->rlimits = g_array_new (FALSE, FALSE, sizeof (HutchSandboxRlimit));
      if (!add_ulimit (spec->rlimits, *u, error))
        return FALSE;
    }
  for (char **g = o->group_add; g != NULL && *g != NULL; g++)
    if (**g == '\0' || strpbrk (*g, ",:\n") != NULL)
      return hutch_throw (error, HUTCH_ERROR_USAGE, "--group-add \"%s\": a group name or id", *g);
  if (o->group_add != NULL && o->group_add[0] != NULL && spec->idmap->single)
    return hutch_throw (error, HUTCH_ERROR_HOST_UNSUPPORTED,
                        "--group-add needs subordinate group ids, which you do not have: with "
                        "your own id alone the kernel forbids setgroups (see \"hutch check\")");
  spec->groups_add = g_strdupv (o->group_add);
  for (char **d = o->devices; d != NULL && *d != NULL; d++)
    if (!add_device (spec->mounts, *d, error))
      return FALSE;
  return TRUE;
}
