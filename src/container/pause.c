/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* pause and unpause: every process of a running container stopped and let
 * go again through the cgroup v2 freezer of its own cgroup. A container
 * without a cgroup (a cgroup v1 or hybrid host, no delegation, or
 * --cgroups=disabled) cannot be paused: SIGSTOP would be seen by the
 * processes (a shell's job control, a parent's waitpid) where the freezer
 * is not, so it is refused with what gives it a cgroup, as podman refuses
 * rootless on cgroup v1. */
#include "config.h"

#include <string.h>

#include "container-private.h"

/* Why @c has no cgroup, and what gives it one: from what the host offers. */
static gboolean
no_cgroup_error (const HutchContainer *c, gboolean pause, GError **error)
{
  HutchCgroupCaps caps;
  g_autofree char *why = NULL;

  hutch_cgroup_caps_probe (&caps);
  if (caps.version != HUTCH_CGROUP_V2)
    why = g_strdup_printf ("this host mounts cgroup %s, where a normal user is given no cgroup "
                           "of its own and no freezer. Boot with the unified hierarchy: add "
                           "systemd.unified_cgroup_hierarchy=1 to GRUB_CMDLINE_LINUX in "
                           "/etc/default/grub, then sudo update-grub and reboot (see \"hutch "
                           "check\"); until then stop it (hutch stop %s) instead",
                           caps.version == HUTCH_CGROUP_V1 ? "v1 only" : "v1 (hybrid)", c->name);
  else if (caps.delegation == HUTCH_CGROUP_DELEGATION_NONE)
    why = g_strdup_printf ("cgroup %s is not yours and no systemd user manager answers on the "
                           "session bus to give it one. Let it run for you: sudo loginctl "
                           "enable-linger %s, log in again, then restart the container (hutch "
                           "restart %s)",
                           caps.own_path != NULL ? caps.own_path : "/", g_get_user_name (),
                           c->name);
  else
    why = g_strdup_printf ("it was started without a cgroup of its own (--cgroups=disabled, or "
                           "before this host gave one): restart it (hutch restart %s), or run it "
                           "again without --cgroups=disabled", c->name);
  hutch_cgroup_caps_clear (&caps);
  return hutch_throw (error, HUTCH_ERROR_HOST_UNSUPPORTED, "cannot %s container %s: %s",
                      pause ? "pause" : "unpause", c->name, why);
}

gboolean
hutch_container_pause (const HutchContext *ctx, const char *id, gboolean pause, GError **error)
{
  hutch_autofd int lock = hutch_container_lock (ctx, id, error);
  g_autoptr (HutchContainer) c = lock >= 0 ? hutch_container_load (ctx, id, error) : NULL;

  if (c == NULL)
    return FALSE;
  if (c->status != HUTCH_CONTAINER_RUNNING)
    return hutch_throw (error, HUTCH_ERROR_USAGE, "container %s is not running (it is %s)",
                        c->name, hutch_container_status_name (c->status));
  if (c->cgroup == NULL)
    return no_cgroup_error (c, pause, error);
  if (pause && c->paused)
    return hutch_throw (error, HUTCH_ERROR_USAGE, "container %s is already paused", c->name);
  if (!pause && !c->paused)
    return hutch_throw (error, HUTCH_ERROR_USAGE, "container %s is not paused", c->name);
  if (!hutch_cgroup_freeze (c->cgroup, pause, error))
    return g_prefix_error (error, "%s container %s: ", pause ? "pausing" : "unpausing", c->name),
           FALSE;
  return TRUE;
}
