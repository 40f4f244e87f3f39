/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Printing the host picture for `check` (a table with fixes) and `info`
 * (the same as JSON). The judging lives in container/host.c. */
#include "config.h"

#include <stdio.h>
#include <unistd.h>
#include <json-glib/json-glib.h>

#include "cli-private.h"
#include "container/container.h"

static void
add_ranges (JsonBuilder *b, const char *name, GArray *ranges)
{
  json_builder_set_member_name (b, name);
  json_builder_begin_array (b);
  for (guint i = 0; i < ranges->len; i++)
    {
      const HutchIdRange *r = &g_array_index (ranges, HutchIdRange, i);
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "start");
      json_builder_add_int_value (b, r->start);
      json_builder_set_member_name (b, "count");
      json_builder_add_int_value (b, r->count);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
}

#define MEMBER_STR(b, k, v)                                                                     \
  (json_builder_set_member_name (b, k), (v) != NULL ? json_builder_add_string_value (b, v)     \
                                                    : json_builder_add_null_value (b))
#define MEMBER_BOOL(b, k, v) (json_builder_set_member_name (b, k), json_builder_add_boolean_value (b, v))
#define MEMBER_INT(b, k, v) (json_builder_set_member_name (b, k), json_builder_add_int_value (b, v))

static void
add_host (JsonBuilder *b, const HutchHostCaps *caps, const HutchContext *ctx)
{
  const HutchSandboxCaps *s = &caps->sandbox;
  const HutchCgroupCaps *c = &caps->cgroup;

  json_builder_set_member_name (b, "host");
  json_builder_begin_object (b);
  MEMBER_STR (b, "kernel", caps->kernel_release);
  MEMBER_STR (b, "arch", caps->kernel_machine);
  MEMBER_STR (b, "user", s->user);
  MEMBER_INT (b, "uid", getuid ());
  MEMBER_BOOL (b, "openat2", caps->openat2);

  json_builder_set_member_name (b, "userNamespaces");
  json_builder_begin_object (b);
  MEMBER_BOOL (b, "available", s->userns && s->userns_setup_errno == 0);
  MEMBER_INT (b, "maxUserNamespaces", s->max_user_namespaces);
  MEMBER_INT (b, "unprivilegedUsernsClone", s->unprivileged_userns_clone);
  MEMBER_INT (b, "apparmorRestrictUnprivilegedUserns", s->apparmor_restrict_userns);
  json_builder_end_object (b);

  json_builder_set_member_name (b, "idMapping");
  json_builder_begin_object (b);
  MEMBER_STR (b, "mode", s->idmap_full ? "subordinate" : "single");
  MEMBER_STR (b, "newuidmap", s->newuidmap.path);
  MEMBER_BOOL (b, "newuidmapPrivileged", s->newuidmap.privileged);
  MEMBER_STR (b, "newgidmap", s->newgidmap.path);
  MEMBER_BOOL (b, "newgidmapPrivileged", s->newgidmap.privileged);
  add_ranges (b, "subuids", s->subuids);
  add_ranges (b, "subgids", s->subgids);
  MEMBER_STR (b, "error", s->idmap_error);
  json_builder_end_object (b);

  json_builder_set_member_name (b, "rootfs");
  json_builder_begin_object (b);
  MEMBER_STR (b, "driver", s->overlay && s->whiteout ? "overlay"
                           : s->fuse_overlayfs != NULL && s->dev_fuse ? "fuse-overlayfs"
                                                                      : "copy");
  MEMBER_BOOL (b, "overlayUserxattr", s->overlay);
  MEMBER_BOOL (b, "whiteouts", s->whiteout);
  MEMBER_STR (b, "overlayError", s->overlay_error);
  MEMBER_STR (b, "fuseOverlayfs", s->fuse_overlayfs);
  MEMBER_BOOL (b, "devFuse", s->dev_fuse);
  json_builder_end_object (b);

  json_builder_set_member_name (b, "network");
  json_builder_begin_object (b);
  MEMBER_STR (b, "default", caps->net.tun ? "slirp" : "none");
  MEMBER_BOOL (b, "tun", caps->net.tun);
  MEMBER_STR (b, "slirp", caps->net.slirp_version);
  json_builder_end_object (b);

  json_builder_set_member_name (b, "cgroups");
  json_builder_begin_object (b);
  MEMBER_STR (b, "version", hutch_cgroup_version_name (c->version));
  MEMBER_STR (b, "path", c->own_path);
  MEMBER_STR (b, "delegation", c->delegation == HUTCH_CGROUP_DELEGATION_INHERITED ? "inherited"
                               : c->delegation == HUTCH_CGROUP_DELEGATION_SYSTEMD ? "systemd"
                                                                                  : "none");
  json_builder_set_member_name (b, "controllers");
  json_builder_begin_array (b);
  for (char **ctl = c->controllers; *ctl != NULL; ctl++)
    if (**ctl != '\0')
      json_builder_add_string_value (b, *ctl);
  json_builder_end_array (b);
  json_builder_end_object (b);

  json_builder_set_member_name (b, "store");
  json_builder_begin_object (b);
  MEMBER_STR (b, "root", ctx->root);
  MEMBER_STR (b, "runroot", ctx->runroot);
  MEMBER_STR (b, "runrootFallback", ctx->runroot_why);
  json_builder_end_object (b);

  json_builder_end_object (b);
}

static void
print_json (const HutchHostCaps *caps, const HutchContext *ctx, GPtrArray *rows,
            gboolean runnable)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  g_autoptr (JsonNode) root = NULL;
  g_autofree char *text = NULL;

  json_builder_begin_object (b);
  MEMBER_STR (b, "version", HUTCH_VERSION);
  MEMBER_BOOL (b, "runnable", runnable);
  add_host (b, caps, ctx);
  json_builder_set_member_name (b, "checks");
  json_builder_begin_array (b);
  for (guint i = 0; i < rows->len; i++)
    {
      const HutchCheckRow *row = rows->pdata[i];
      json_builder_begin_object (b);
      MEMBER_STR (b, "id", row->id);
      MEMBER_STR (b, "title", row->title);
      MEMBER_STR (b, "status", hutch_check_status_name (row->status));
      MEMBER_STR (b, "detail", row->detail);
      MEMBER_STR (b, "fix", row->fix);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_builder_set_member_name (b, "probeMilliseconds");
  json_builder_add_double_value (b, caps->probe_usec / 1000.0);
  json_builder_end_object (b);

  root = json_builder_get_root (b);
  json_generator_set_root (gen, root);
  json_generator_set_pretty (gen, TRUE);
  text = json_generator_to_data (gen, NULL);
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
