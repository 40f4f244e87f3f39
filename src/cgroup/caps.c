/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Which cgroup hierarchy the host mounts and whether the user may use any
 * part of it: the subtree it already sits in, or a systemd user manager. */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/statfs.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/magic.h>

#include "cgroup.h"

#define CGROUP_ROOT "/sys/fs/cgroup"

static gboolean
is_cgroup2 (const char *path)
{
  struct statfs sfs;
  return statfs (path, &sfs) == 0 && sfs.f_type == CGROUP2_SUPER_MAGIC;
}

static char *
own_v2_path (void)
{
  g_autofree char *text = hutch_util_read_host_file ("/proc/self/cgroup", 64 * 1024, NULL);
  g_auto (GStrv) lines = text != NULL ? g_strsplit (text, "\n", -1) : NULL;

  for (char **l = lines; l != NULL && *l != NULL; l++)
    if (g_str_has_prefix (*l, "0::"))
      return g_strdup (*l + 3);
  return NULL;
}

static char **
read_controllers (const char *dir)
{
  g_autofree char *path = g_build_filename (dir, "cgroup.controllers", NULL);
  g_autofree char *text = hutch_util_read_host_file (path, 4096, NULL);

  if (text == NULL)
    return g_new0 (char *, 1);
  return g_strsplit_set (g_strstrip (text), " ", -1);
}

static char *
find_user_bus (void)
{
  const char *addr = g_getenv ("DBUS_SESSION_BUS_ADDRESS");
  const char *runtime = g_getenv ("XDG_RUNTIME_DIR");
  g_autofree char *bus = NULL;
  struct stat st;

  if (addr != NULL && g_str_has_prefix (addr, "unix:path="))
    bus = g_strdup (addr + strlen ("unix:path="));
  else if (runtime != NULL)
    bus = g_build_filename (runtime, "bus", NULL);
  if (bus != NULL && stat (bus, &st) == 0 && S_ISSOCK (st.st_mode) && st.st_uid == geteuid ())
    return g_steal_pointer (&bus);
  return NULL;
}

void
hutch_cgroup_caps_probe (HutchCgroupCaps *caps)
{
  g_autofree char *dir = NULL;
  g_autofree char *procs = NULL;

  memset (caps, 0, sizeof *caps);
  if (is_cgroup2 (CGROUP_ROOT))
    caps->version = HUTCH_CGROUP_V2;
  else if (is_cgroup2 (CGROUP_ROOT "/unified"))
    caps->version = HUTCH_CGROUP_HYBRID;
  else
    caps->version = HUTCH_CGROUP_V1;

  caps->user_bus = find_user_bus ();
  if (caps->version != HUTCH_CGROUP_V2)
    {
      /* Limits on v1 need root; in hybrid mode the v2 tree has no
       * controllers at all. */
      caps->controllers = g_new0 (char *, 1);
      return;
    }

  caps->own_path = own_v2_path ();
  dir = g_build_filename (CGROUP_ROOT, caps->own_path != NULL ? caps->own_path : "/", NULL);
  procs = g_build_filename (dir, "cgroup.procs", NULL);
  caps->controllers = read_controllers (dir);
  if (access (dir, W_OK) == 0 && access (procs, W_OK) == 0)
    caps->delegation = HUTCH_CGROUP_DELEGATION_INHERITED;
  else if (caps->user_bus != NULL)
    caps->delegation = HUTCH_CGROUP_DELEGATION_SYSTEMD;
}

void
hutch_cgroup_caps_clear (HutchCgroupCaps *caps)
{
  g_free (caps->own_path);
  g_strfreev (caps->controllers);
  g_free (caps->user_bus);
  memset (caps, 0, sizeof *caps);
}

const char *
hutch_cgroup_version_name (HutchCgroupVersion version)
{
  switch (version)
    {
    case HUTCH_CGROUP_V1:
      return "v1";
    case HUTCH_CGROUP_HYBRID:
      return "hybrid";
    case HUTCH_CGROUP_V2:
      return "v2";
    default:
      g_assert_not_reached ();
    }
}
