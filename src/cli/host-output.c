/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Printing the host picture for `check` (a table with fixes) and `info`
 * (the same as JSON). The judging lives in container/host.c. */
#include "config.h"

#include <stdio.h>
#include <unistd.h>

#include "cli-private.h"
#include "container/container.h"

static void
add_ranges (HutchJsonWriter *w, const char *name, GArray *ranges)
{
  hutch_json_key (w, name);
  hutch_json_begin_array (w);
  for (guint i = 0; i < ranges->len; i++)
    {
      const HutchIdRange *r = &g_array_index (ranges, HutchIdRange, i);
      hutch_json_begin_object (w);
      hutch_json_key (w, "start");
      hutch_json_int (w, r->start);
      hutch_json_key (w, "count");
      hutch_json_int (w, r->count);
      hutch_json_end_object (w);
    }
  hutch_json_end_array (w);
}

static const char *
delegation_name (HutchCgroupDelegation d)
{
  switch (d)
    {
    case HUTCH_CGROUP_DELEGATION_INHERITED:
      return "inherited";
    case HUTCH_CGROUP_DELEGATION_SYSTEMD:
      return "systemd";
    case HUTCH_CGROUP_DELEGATION_NONE:
    default:
      return "none";
    }
}

static void
add_sandbox (HutchJsonWriter *w, const HutchHostCaps *caps)
{
  const HutchSandboxCaps *s = &caps->sandbox;

  hutch_json_key (w, "userNamespaces");
  hutch_json_begin_object (w);
  hutch_json_member_bool (w, "available", s->userns && s->userns_setup_errno == 0);
  hutch_json_member_int (w, "maxUserNamespaces", s->max_user_namespaces);
  hutch_json_member_int (w, "unprivilegedUsernsClone", s->unprivileged_userns_clone);
  hutch_json_member_int (w, "apparmorRestrictUnprivilegedUserns", s->apparmor_restrict_userns);
  hutch_json_end_object (w);

  hutch_json_key (w, "idMapping");
  hutch_json_begin_object (w);
  hutch_json_member_string (w, "mode", s->idmap_full ? "subordinate" : "single");
  hutch_json_member_string (w, "newuidmap", s->newuidmap.path);
  hutch_json_member_bool (w, "newuidmapPrivileged", s->newuidmap.privileged);
  hutch_json_member_string (w, "newgidmap", s->newgidmap.path);
  hutch_json_member_bool (w, "newgidmapPrivileged", s->newgidmap.privileged);
  add_ranges (w, "subuids", s->subuids);
  add_ranges (w, "subgids", s->subgids);
  hutch_json_member_string (w, "error", s->idmap_error);
  hutch_json_end_object (w);

  hutch_json_key (w, "rootfs");
  hutch_json_begin_object (w);
  hutch_json_member_string (w, "driver", hutch_rootfs_driver_name (hutch_container_host_rootfs_driver (caps)));
  hutch_json_member_bool (w, "overlayUserxattr", s->overlay);
  hutch_json_member_bool (w, "whiteouts", s->whiteout);
  hutch_json_member_string (w, "overlayError", s->overlay_error);
  hutch_json_member_string (w, "fuseOverlayfs", s->fuse_overlayfs);
  hutch_json_member_bool (w, "devFuse", s->dev_fuse);
  hutch_json_end_object (w);
}

static void
add_host (HutchJsonWriter *w, const HutchHostCaps *caps, const HutchContext *ctx)
{
  const HutchCgroupCaps *c = &caps->cgroup;

  hutch_json_key (w, "host");
  hutch_json_begin_object (w);
  hutch_json_member_string (w, "kernel", caps->kernel_release);
  hutch_json_member_string (w, "arch", caps->kernel_machine);
  hutch_json_member_string (w, "user", caps->sandbox.user);
  hutch_json_member_int (w, "uid", getuid ());
  hutch_json_member_bool (w, "openat2", caps->openat2);
  add_sandbox (w, caps);

  hutch_json_key (w, "network");
  hutch_json_begin_object (w);
  hutch_json_member_string (w, "default", caps->net.tun ? "slirp" : "none");
  hutch_json_member_bool (w, "tun", caps->net.tun);
  hutch_json_member_string (w, "slirp", caps->net.slirp_version);
  hutch_json_end_object (w);

  hutch_json_key (w, "cgroups");
  hutch_json_begin_object (w);
  hutch_json_member_string (w, "version", hutch_cgroup_version_name (c->version));
  hutch_json_member_string (w, "path", c->own_path);
  hutch_json_member_string (w, "delegation", delegation_name (c->delegation));
  hutch_json_key (w, "controllers");
  hutch_json_begin_array (w);
  for (char **ctl = c->controllers; *ctl != NULL; ctl++)
    if (**ctl != '\0')
      hutch_json_string (w, *ctl);
  hutch_json_end_array (w);
  hutch_json_end_object (w);

  hutch_json_key (w, "store");
  hutch_json_begin_object (w);
  hutch_json_member_string (w, "root", ctx->root);
  hutch_json_member_string (w, "runroot", ctx->runroot);
  hutch_json_member_string (w, "runrootFallback", ctx->runroot_why);
  hutch_json_end_object (w);

  hutch_json_end_object (w);
}

static void
print_json (const HutchHostCaps *caps, const HutchContext *ctx, GPtrArray *rows,
            gboolean runnable)
{
  g_autoptr (HutchJsonWriter) w = hutch_json_writer_new (TRUE);
  g_autofree char *text = NULL;

  hutch_json_begin_object (w);
  hutch_json_member_string (w, "version", HUTCH_VERSION);
  hutch_json_member_bool (w, "runnable", runnable);
  add_host (w, caps, ctx);
  hutch_json_key (w, "checks");
  hutch_json_begin_array (w);
  for (guint i = 0; i < rows->len; i++)
    {
      const HutchCheckRow *row = rows->pdata[i];
      hutch_json_begin_object (w);
      hutch_json_member_string (w, "id", row->id);
      hutch_json_member_string (w, "title", row->title);
      hutch_json_member_string (w, "status", hutch_check_status_name (row->status));
      hutch_json_member_string (w, "detail", row->detail);
      hutch_json_member_string (w, "fix", row->fix);
      hutch_json_end_object (w);
    }
  hutch_json_end_array (w);
  hutch_json_key (w, "probeMilliseconds");
  hutch_json_double (w, caps->probe_usec / 1000.0);
  hutch_json_end_object (w);

  text = hutch_json_writer_finish (w);
  printf ("%s\n", text);
}

static void
print_table (const HutchHostCaps *caps, GPtrArray *rows, gboolean runnable)
{
  guint n_fallback = 0, n_missing = 0;

  printf ("%-9s %-16s %s\n", "STATUS", "WHAT", "FOUND");
  for (guint i = 0; i < rows->len; i++)
    {
      const HutchCheckRow *row = rows->pdata[i];
      printf ("%-9s %-16s %s\n", hutch_check_status_name (row->status), row->title, row->detail);
      if (row->fix != NULL && row->status != HUTCH_CHECK_OK)
        printf ("%-9s %-16s fix: %s\n", "", "", row->fix);
      n_fallback += row->status == HUTCH_CHECK_FALLBACK;
      n_missing += row->status == HUTCH_CHECK_MISSING;
    }
  printf ("\n%s", runnable ? "Containers can run here." : "Containers cannot run here.");
  if (n_fallback + n_missing > 0)
    printf (" %u fallback%s, %u missing: the fix lines above say what to run.", n_fallback,
            n_fallback == 1 ? "" : "s", n_missing);
  printf ("\n(probed in %.1f ms)\n", caps->probe_usec / 1000.0);
}

int
hutch_cli_host_show (const HutchContext *ctx, HutchFormat format, gboolean exit_by_result)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (HutchHostCaps) caps = hutch_container_host_probe (ctx, &error);
  g_autoptr (GPtrArray) rows = NULL;
  gboolean runnable;

  if (caps == NULL)
    return hutch_cli_fail (g_steal_pointer (&error));
  rows = hutch_container_host_report (caps, ctx, &runnable);
  if (format == HUTCH_FORMAT_JSON)
    print_json (caps, ctx, rows, runnable);
  else
    print_table (caps, rows, runnable);
  return exit_by_result && !runnable ? 1 : 0;
}
