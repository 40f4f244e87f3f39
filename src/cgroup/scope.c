/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* When hutch's own cgroup is not delegated but a systemd user manager
 * answers on the session bus, limits need a cgroup from it: hutch runs
 * itself again inside a transient scope with Delegate=yes, through the
 * manager's own client, systemd-run --user --scope (it asks on D-Bus and
 * waits for the job, then execs us in the scope). There hutch finds a
 * delegated cgroup of its own and goes on as on any delegated host. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cgroup.h"

gboolean
hutch_cgroup_need_scope (const HutchCgroupCaps *caps, const HutchCgroupLimits *l)
{
  return caps->version == HUTCH_CGROUP_V2 && caps->delegation == HUTCH_CGROUP_DELEGATION_SYSTEMD
         && !l->disabled && hutch_cgroup_limits_any (l) && g_getenv (HUTCH_CGROUP_SCOPE_ENV) == NULL;
}

gboolean
hutch_cgroup_exec_in_scope (char **argv, GError **error)
{
  g_autoptr (GPtrArray) args = g_ptr_array_new ();
  g_autofree char *self = g_file_read_link ("/proc/self/exe", NULL);
  g_autofree char *unit = g_strdup_printf ("hutch-%d-%08x.scope", (int) getpid (), g_random_int ());
  g_autofree char *bus = NULL;

  if (self == NULL || argv == NULL || argv[0] == NULL)
    return hutch_throw (error, HUTCH_ERROR_FAILED, "cannot find hutch's own binary to run it again");
  /* the bus hutch found, for systemd-run too */
  if (g_getenv ("DBUS_SESSION_BUS_ADDRESS") == NULL && g_getenv ("XDG_RUNTIME_DIR") != NULL)
    {
      bus = g_strdup_printf ("unix:path=%s/bus", g_getenv ("XDG_RUNTIME_DIR"));
      g_setenv ("DBUS_SESSION_BUS_ADDRESS", bus, TRUE);
    }
  g_setenv (HUTCH_CGROUP_SCOPE_ENV, unit, TRUE);
  g_ptr_array_add (args, "systemd-run");
  g_ptr_array_add (args, "--user");
  g_ptr_array_add (args, "--scope");
  g_ptr_array_add (args, "--quiet");
  g_ptr_array_add (args, "--collect");
  g_ptr_array_add (args, "--property=Delegate=yes");
  g_ptr_array_add (args, "--unit");
  g_ptr_array_add (args, unit);
  g_ptr_array_add (args, "--description=hutch, for a container's resource limits");
  g_ptr_array_add (args, "--");
  g_ptr_array_add (args, self);
  for (char **a = argv + 1; *a != NULL; a++)
    g_ptr_array_add (args, *a);
  g_ptr_array_add (args, NULL);
  execvp ("systemd-run", (char **) args->pdata);
  g_unsetenv (HUTCH_CGROUP_SCOPE_ENV);
  return hutch_throw_errno (error,
                            "limits need a cgroup of the systemd user manager, asked for with "
                            "systemd-run, which cannot be run (install systemd)");
}
