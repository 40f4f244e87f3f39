/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The host picture: every probe run once into HutchHostCaps, then judged
 * into rows of ok / fallback / missing, each with the command that fixes it.
 * `check` and `info` print these rows; `run` will choose its fallbacks from
 * the same caps. Printing is cli/'s business. */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "container.h"

HutchHostCaps *
hutch_container_host_probe (const HutchContext *ctx, GError **error)
{
  g_autoptr (HutchHostCaps) caps = g_new0 (HutchHostCaps, 1);
  g_autoptr (GError) local_error = NULL;
  gint64 start = g_get_monotonic_time ();
  struct utsname uts;

  if (uname (&uts) == 0)
    {
      caps->kernel_release = g_strdup (uts.release);
      caps->kernel_machine = g_strdup (uts.machine);
    }
  caps->openat2 = hutch_util_have_openat2 ();

  caps->root_ok = hutch_util_ensure_private_dir (ctx->root, 0700, &local_error);
  if (!caps->root_ok)
    caps->root_error = g_strdup (local_error->message);
  g_clear_error (&local_error);
  caps->runroot_ok = hutch_util_ensure_private_dir (ctx->runroot, 0700, &local_error);
  if (!caps->runroot_ok)
    caps->runroot_error = g_strdup (local_error->message);
  g_clear_error (&local_error);

  /* The overlay probe runs on the store's filesystem, where layers and
   * upper directories will live; without a store, on the runroot's. */
  if (!hutch_sandbox_caps_probe (&caps->sandbox, caps->root_ok ? ctx->root : ctx->runroot,
                                 error))
    return NULL;
  hutch_net_caps_probe (&caps->net);
  hutch_cgroup_caps_probe (&caps->cgroup);
  caps->probe_usec = g_get_monotonic_time () - start;
  return g_steal_pointer (&caps);
}

void
hutch_container_host_caps_free (HutchHostCaps *caps)
{
  if (caps == NULL)
    return;
  g_free (caps->kernel_release);
  g_free (caps->kernel_machine);
  hutch_sandbox_caps_clear (&caps->sandbox);
  hutch_net_caps_clear (&caps->net);
  hutch_cgroup_caps_clear (&caps->cgroup);
  g_free (caps->runroot_error);
  g_free (caps->root_error);
  g_free (caps);
}

const char *
hutch_check_status_name (HutchCheckStatus status)
{
  switch (status)
    {
    case HUTCH_CHECK_OK:
      return "ok";
    case HUTCH_CHECK_FALLBACK:
      return "fallback";
    case HUTCH_CHECK_MISSING:
      return "missing";
    default:
      g_assert_not_reached ();
    }
}

HutchRootfsDriver
hutch_container_host_rootfs_driver (const HutchHostCaps *caps)
{
  const HutchSandboxCaps *s = &caps->sandbox;

  /* Layers store whiteouts as 0/0 character devices, so kernel overlay
   * needs both the userxattr mount and unprivileged mknod of them. */
  if (s->overlay && s->whiteout)
    return HUTCH_ROOTFS_OVERLAY;
  if (s->fuse_overlayfs != NULL && s->dev_fuse)
    return HUTCH_ROOTFS_FUSE_OVERLAYFS;
  return HUTCH_ROOTFS_COPY;
}

static void
row_free (gpointer data)
{
  HutchCheckRow *row = data;
  g_free (row->detail);
  g_free (row->fix);
  g_free (row);
}

static HutchCheckRow *
add_row (GPtrArray *rows, const char *id, const char *title, HutchCheckStatus status,
         gboolean required, char *detail, char *fix)
{
  HutchCheckRow *row = g_new0 (HutchCheckRow, 1);
  row->id = id;
  row->title = title;
  row->status = status;
  row->required = required;
  row->detail = detail;
  row->fix = fix;
  g_ptr_array_add (rows, row);
  return row;
}

static char *
format_ranges (GArray *ranges)
{
  g_autoptr (GString) s = g_string_new (NULL);

  for (guint i = 0; i < ranges->len; i++)
    {
      const HutchIdRange *r = &g_array_index (ranges, HutchIdRange, i);
      g_string_append_printf (s, "%s%u-%u", i > 0 ? ", " : "", r->start,
                              r->start + r->count - 1);
    }
  return g_string_free (g_steal_pointer (&s), FALSE);
}

static void
report_userns (GPtrArray *rows, const HutchHostCaps *caps)
{
  const HutchSandboxCaps *s = &caps->sandbox;
  g_autofree char *exe = g_file_read_link ("/proc/self/exe", NULL);

  if (s->userns && s->userns_setup_errno == 0)
    {
      add_row (rows, "userns", "user namespaces", HUTCH_CHECK_OK, TRUE,
               g_strdup_printf ("unprivileged user namespaces work (user.max_user_namespaces=%"
                                G_GINT64_FORMAT ")", s->max_user_namespaces),
               NULL);
      return;
    }
  if (s->userns && s->apparmor_restrict_userns == 1)
    {
      add_row (rows, "userns", "user namespaces", HUTCH_CHECK_MISSING, TRUE,
               g_strdup_printf ("a user namespace is created but has no privileges in it (%s): "
                                "kernel.apparmor_restrict_unprivileged_userns=1 (Ubuntu) "
                                "denies them to programs without an AppArmor profile",
                                g_strerror (s->userns_setup_errno)),
               g_strdup_printf ("printf 'abi <abi/4.0>,\\ninclude <tunables/global>\\nprofile "
                                "hutch %s flags=(unconfined) {\\n  userns,\\n}\\n' | sudo tee "
                                "/etc/apparmor.d/hutch && sudo apparmor_parser -r "
                                "/etc/apparmor.d/hutch",
                                exe != NULL ? exe : "/usr/local/bin/hutch"));
      return;
    }
  if (s->userns)
    {
      add_row (rows, "userns", "user namespaces", HUTCH_CHECK_MISSING, TRUE,
               g_strdup_printf ("a user namespace is created but mounting in it fails (%s): "
                                "is hutch running inside a container that forbids it?",
                                g_strerror (s->userns_setup_errno)),
               NULL);
      return;
    }
  /* the words run and unshare use when the kernel refuses them one */
  {
    char *fix = NULL;
    char *why = hutch_sandbox_userns_why (s->userns_errno, &fix);
    add_row (rows, "userns", "user namespaces", HUTCH_CHECK_MISSING, TRUE, why, fix);
  }
}

static void
report_idmap (GPtrArray *rows, const HutchHostCaps *caps)
{
  const HutchSandboxCaps *s = &caps->sandbox;
  const char *title = "id mapping";
  const char *single = "single-id fallback: your uid is root in the container and every file "
                       "of an image is owned by it";
  guint64 nuid = hutch_sandbox_id_ranges_total (s->subuids);
  guint64 ngid = hutch_sandbox_id_ranges_total (s->subgids);

  if (getuid () == 0 && (nuid == 0 || ngid == 0))
    {
      /* Subordinate ids are how a normal user gets more than one id; root
       * needs none, and hutch is not meant to run as root. */
      add_row (rows, "idmap", title, HUTCH_CHECK_FALLBACK, FALSE,
               g_strdup_printf ("running as root: %s", single),
               g_strdup ("run hutch as a normal user (helpers/quickstart under sudo does)"));
      return;
    }
  if (nuid == 0 || ngid == 0)
    {
      guint32 u = hutch_sandbox_subid_free_start ("/etc/subuid", 65536);
      guint32 g = hutch_sandbox_subid_free_start ("/etc/subgid", 65536);
      guint32 start = MAX (u, g);
      add_row (rows, "idmap", title, HUTCH_CHECK_FALLBACK, FALSE,
               g_strdup_printf ("%s has no subordinate %s in /etc/sub%s: %s", s->user,
                                nuid == 0 && ngid == 0 ? "uids or gids" : nuid == 0 ? "uids" : "gids",
                                nuid == 0 && ngid == 0 ? "uid and /etc/subgid" : nuid == 0 ? "uid" : "gid",
                                single),
               g_strdup_printf ("sudo usermod --add-subuids %u-%u --add-subgids %u-%u %s", start,
                                start + 65535, start, start + 65535, s->user));
      return;
    }
  if (s->newuidmap.path == NULL || s->newgidmap.path == NULL)
    {
      add_row (rows, "idmap", title, HUTCH_CHECK_FALLBACK, FALSE,
               g_strdup_printf ("newuidmap/newgidmap are not installed: %s", single),
               g_strdup ("sudo apt-get install uidmap"));
      return;
    }
  if (!s->newuidmap.privileged || !s->newgidmap.privileged)
    {
      add_row (rows, "idmap", title, HUTCH_CHECK_FALLBACK, FALSE,
               g_strdup_printf ("%s is neither setuid root nor given file capabilities, so it "
                                "cannot write the maps: %s",
                                !s->newuidmap.privileged ? s->newuidmap.path : s->newgidmap.path,
                                single),
               g_strdup_printf ("sudo chmod u+s %s %s", s->newuidmap.path, s->newgidmap.path));
      return;
    }
  if (!s->idmap_full)
    {
      add_row (rows, "idmap", title, HUTCH_CHECK_FALLBACK, FALSE,
               g_strdup_printf ("mapping the subordinate ids failed (%s): %s",
                                s->idmap_error != NULL ? s->idmap_error : "unknown error", single),
               g_strdup_printf ("check the lines for %s in /etc/subuid and /etc/subgid "
                                "(name:start:count, no overlap with other users)", s->user));
      return;
    }

  g_autofree char *uids = format_ranges (s->subuids);
  g_autofree char *gids = format_ranges (s->subgids);
  HutchCheckRow *row = add_row (
      rows, "idmap", title, HUTCH_CHECK_OK, FALSE,
      g_strdup_printf ("newuidmap and newgidmap map %" G_GUINT64_FORMAT " subordinate uids (%s) "
                       "and %" G_GUINT64_FORMAT " gids (%s)",
                       nuid, uids, ngid, gids),
      NULL);
  if (nuid < 65536 || ngid < 65536)
    {
      /* nobody (65534) and the ids of many images need the full range. */
      g_autofree char *old = g_steal_pointer (&row->detail);
      row->detail = g_strdup_printf ("%s; fewer than 65536: images with higher ids will not "
                                     "unpack", old);
      row->fix = g_strdup_printf ("give %s a range of 65536: sudo usermod --add-subuids "
                                  "START-END --add-subgids START-END %s", s->user, s->user);
    }
}

static void
report_storage (GPtrArray *rows, const HutchHostCaps *caps, const HutchContext *ctx)
{
  const HutchSandboxCaps *s = &caps->sandbox;
  HutchRootfsDriver driver = hutch_container_host_rootfs_driver (caps);
  gboolean fuse_ok = s->fuse_overlayfs != NULL && s->dev_fuse;

  if (driver == HUTCH_ROOTFS_OVERLAY)
    add_row (rows, "rootfs", "rootfs", HUTCH_CHECK_OK, FALSE,
             g_strdup_printf ("kernel overlayfs with userxattr in a user namespace, on %s",
                              ctx->root),
             NULL);
  else
    add_row (rows, "rootfs", "rootfs", HUTCH_CHECK_FALLBACK, FALSE,
             g_strdup_printf ("kernel overlayfs unusable (%s): falling back to %s",
                              s->overlay_error != NULL ? s->overlay_error
                                                       : "whiteouts cannot be made",
                              driver == HUTCH_ROOTFS_FUSE_OVERLAYFS
                                  ? "fuse-overlayfs"
                                  : "a private copy of the layers (slower start, more disk)"),
             g_strdup ("a kernel of 5.11 or later mounts overlayfs in a user namespace; "
                       "a store on NFS cannot: use --root on a local filesystem"));

  if (fuse_ok)
    add_row (rows, "fuse-overlayfs", "fuse-overlayfs", HUTCH_CHECK_OK, FALSE,
             g_strdup_printf ("%s, /dev/fuse usable", s->fuse_overlayfs), NULL);
  else if (s->fuse_overlayfs == NULL)
    add_row (rows, "fuse-overlayfs", "fuse-overlayfs", HUTCH_CHECK_MISSING, FALSE,
             g_strdup ("fuse-overlayfs is not installed (the fallback when kernel overlayfs "
                       "fails)"),
             g_strdup ("sudo apt-get install fuse-overlayfs"));
  else
    add_row (rows, "fuse-overlayfs", "fuse-overlayfs", HUTCH_CHECK_MISSING, FALSE,
             g_strdup_printf ("/dev/fuse cannot be opened: %s", g_strerror (s->dev_fuse_errno)),
             s->dev_fuse_errno == EACCES
                 ? g_strdup ("sudo chmod 0666 /dev/fuse   (the mode a stock udev rule sets)")
                 : g_strdup ("sudo modprobe fuse"));
}

static void
report_network (GPtrArray *rows, const HutchHostCaps *caps)
{
  const HutchNetCaps *n = &caps->net;

  if (n->tun)
    {
      add_row (rows, "network", "network", HUTCH_CHECK_OK, FALSE,
               g_strdup_printf ("libslirp %s on /dev/net/tun: containers get --network slirp",
                                n->slirp_version),
               NULL);
      return;
    }
  add_row (rows, "network", "network", HUTCH_CHECK_FALLBACK, FALSE,
           g_strdup_printf ("/dev/net/tun cannot be opened (%s): networking will be none "
                            "(loopback only), and --network slirp fails",
                            g_strerror (n->tun_errno)),
           n->tun_errno == EACCES
               ? g_strdup ("sudo chmod 0666 /dev/net/tun   (the mode a stock udev rule sets; "
                           "to keep it: echo 'KERNEL==\"tun\", MODE=\"0666\"' | sudo tee "
                           "/etc/udev/rules.d/60-tun.rules)")
               : g_strdup ("sudo modprobe tun"));
}

static void
report_cgroup (GPtrArray *rows, const HutchHostCaps *caps)
{
  const HutchCgroupCaps *c = &caps->cgroup;
  const char *title = "resource limits";
  const char *user = caps->sandbox.user;
  g_autofree char *controllers = g_strjoinv (" ", c->controllers);
  g_autofree char *why = NULL;
  HutchCgroupLimits typical = { .memory = 1, .cpus = 1 };
  gboolean have_cpu = g_strv_contains ((const char *const *) c->controllers, "cpu");
  gboolean have_memory = g_strv_contains ((const char *const *) c->controllers, "memory");

  if (c->version != HUTCH_CGROUP_V2)
    {
      add_row (rows, "cgroups", title, HUTCH_CHECK_MISSING, FALSE,
               g_strdup_printf ("cgroup %s host: a normal user cannot be delegated controllers, "
                                "so --memory, --cpus and --pids-limit are refused; containers "
                                "run without a cgroup of their own",
                                hutch_cgroup_version_name (c->version)),
               g_strdup ("boot with systemd.unified_cgroup_hierarchy=1: add it to "
                         "GRUB_CMDLINE_LINUX in /etc/default/grub, then sudo update-grub "
                         "and reboot"));
      return;
    }
  if (c->delegation == HUTCH_CGROUP_DELEGATION_NONE)
    {
      add_row (rows, "cgroups", title, HUTCH_CHECK_MISSING, FALSE,
               g_strdup_printf ("cgroup v2, but %s is not writable and no systemd user "
                                "manager answers: limits cannot be applied",
                                c->own_path != NULL ? c->own_path : "our cgroup"),
               g_strdup_printf ("sudo loginctl enable-linger %s   (then log in again)", user));
      return;
    }
  /* where --memory --cpus would go: a scope of the user manager, asked
   * for its cgroup (which says it answers), or our own */
  why = hutch_cgroup_need_scope (c, &typical);
  if (why != NULL)
    {
      g_autoptr (GError) error = NULL;
      g_autofree char *mgr = hutch_cgroup_manager_cgroup (c->user_bus, &error);
      g_autofree char *path = mgr != NULL ? g_build_filename ("/sys/fs/cgroup", mgr,
                                                              "cgroup.controllers", NULL)
                                          : NULL;
      g_autofree char *text = path != NULL ? hutch_util_read_host_file (path, 4096, NULL) : NULL;
      if (mgr == NULL)
        {
          add_row (rows, "cgroups", title, HUTCH_CHECK_MISSING, FALSE,
                   g_strdup_printf ("cgroup v2; %s, and %s", why, error->message),
                   g_strdup_printf ("systemctl --user status, or sudo loginctl enable-linger %s "
                                    "(then log in again)",
                                    user));
          return;
        }
      g_auto (GStrv) there = g_strsplit (text != NULL ? g_strstrip (text) : "", " ", -1);
      g_free (controllers);
      controllers = g_strjoinv (" ", there);
      have_cpu = g_strv_contains ((const char *const *) there, "cpu");
      have_memory = g_strv_contains ((const char *const *) there, "memory");
    }
  add_row (rows, "cgroups", title, have_cpu && have_memory ? HUTCH_CHECK_OK : HUTCH_CHECK_FALLBACK,
           FALSE,
           why != NULL ? g_strdup_printf ("cgroup v2 through a systemd user scope with "
                                          "Delegate=yes (%s); controllers: %s",
                                          why, *controllers != '\0' ? controllers : "none")
                       : g_strdup_printf ("cgroup v2 through the delegated subtree hutch runs "
                                          "in; controllers: %s",
                                          *controllers != '\0' ? controllers : "none"),
           g_strdup ("to delegate all: sudo mkdir -p /etc/systemd/system/user@.service.d && "
                     "printf '[Service]\\nDelegate=cpu cpuset io memory pids\\n' | sudo tee "
                     "/etc/systemd/system/user@.service.d/delegate.conf && sudo systemctl "
                     "daemon-reload"));
}

GPtrArray *
hutch_container_host_report (const HutchHostCaps *caps, const HutchContext *ctx,
                             gboolean *out_runnable)
{
  g_autoptr (GPtrArray) rows = g_ptr_array_new_with_free_func (row_free);
  gboolean runnable = TRUE;

  add_row (rows, "kernel", "kernel", HUTCH_CHECK_OK, FALSE,
           g_strdup_printf ("Linux %s (%s)", caps->kernel_release, caps->kernel_machine), NULL);
  report_userns (rows, caps);
  report_idmap (rows, caps);
  report_storage (rows, caps, ctx);
  report_network (rows, caps);
  report_cgroup (rows, caps);
  add_row (rows, "openat2", "path safety", caps->openat2 ? HUTCH_CHECK_OK : HUTCH_CHECK_FALLBACK,
           FALSE,
           g_strdup (caps->openat2 ? "openat2 with RESOLVE_IN_ROOT keeps image paths inside"
                                   : "no openat2 (kernel before 5.6, or a seccomp filter): "
                                     "image paths are resolved one component at a time"),
           NULL);
  if (caps->runroot_ok)
    add_row (rows, "runroot", "runroot", ctx->runroot_why != NULL ? HUTCH_CHECK_FALLBACK
                                                                  : HUTCH_CHECK_OK,
             TRUE,
             ctx->runroot_why != NULL
                 ? g_strdup_printf ("%s, a private directory, because %s", ctx->runroot,
                                    ctx->runroot_why)
                 : g_strdup (ctx->runroot),
             NULL);
  else
    add_row (rows, "runroot", "runroot", HUTCH_CHECK_MISSING, TRUE,
             g_strdup (caps->runroot_error), NULL);
  if (caps->root_ok)
    add_row (rows, "store", "store", HUTCH_CHECK_OK, TRUE, g_strdup (ctx->root), NULL);
  else
    add_row (rows, "store", "store", HUTCH_CHECK_MISSING, TRUE, g_strdup (caps->root_error),
             NULL);

  for (guint i = 0; i < rows->len; i++)
    {
      const HutchCheckRow *row = rows->pdata[i];
      if (row->required && row->status == HUTCH_CHECK_MISSING)
        runnable = FALSE;
    }
  *out_runnable = runnable;
  return g_steal_pointer (&rows);
}
