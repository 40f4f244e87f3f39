/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The documents the runtime writes without a container: `spec` (a default
 * config.json, as `runc spec` gives one, with a rootless variant that maps
 * the caller to root of a user namespace) and `features` (what this
 * runtime supports, in the runtime-spec's features.md shape). */
#include "config.h"

#include <unistd.h>

#include "oci-private.h"

static const char *const default_caps[] = { "CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE",
                                            NULL };
static const char *const masked[] = {
  "/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
  "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware", "/proc/scsi",
  NULL,
};
static const char *const readonly[] = { "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys",
                                        "/proc/sysrq-trigger", NULL };

static void
mount_entry (HutchJsonWriter *w, const char *dest, const char *type, const char *source,
             const char *const *options)
{
  hutch_json_begin_object (w);
  hutch_json_member_string (w, "destination", dest);
  hutch_json_member_string (w, "type", type);
  hutch_json_member_string (w, "source", source);
  if (options != NULL)
    hutch_json_member_strv (w, "options", (char **) options);
  hutch_json_end_object (w);
}

static void
mapping (HutchJsonWriter *w, const char *key, guint32 host)
{
  hutch_json_key (w, key);
  hutch_json_begin_array (w);
  hutch_json_begin_object (w);
  hutch_json_member_int (w, "containerID", 0);
  hutch_json_member_int (w, "hostID", host);
  hutch_json_member_int (w, "size", 1);
  hutch_json_end_object (w);
  hutch_json_end_array (w);
}

static void
spec_process (HutchJsonWriter *w)
{
  static const char *const args[] = { "sh", NULL };
  static const char *const env[] = { "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                                     "TERM=xterm", NULL };

  hutch_json_key (w, "process");
  hutch_json_begin_object (w);
  hutch_json_member_bool (w, "terminal", TRUE);
  hutch_json_key (w, "user");
  hutch_json_begin_object (w);
  hutch_json_member_int (w, "uid", 0);
  hutch_json_member_int (w, "gid", 0);
  hutch_json_end_object (w);
  hutch_json_member_strv (w, "args", (char **) args);
  hutch_json_member_strv (w, "env", (char **) env);
  hutch_json_member_string (w, "cwd", "/");
  hutch_json_key (w, "capabilities");
  hutch_json_begin_object (w);
  hutch_json_member_strv (w, "bounding", (char **) default_caps);
  hutch_json_member_strv (w, "effective", (char **) default_caps);
  hutch_json_member_strv (w, "permitted", (char **) default_caps);
  hutch_json_end_object (w);
  hutch_json_key (w, "rlimits");
  hutch_json_begin_array (w);
  hutch_json_begin_object (w);
  hutch_json_member_string (w, "type", "RLIMIT_NOFILE");
  hutch_json_member_int (w, "hard", 1024);
  hutch_json_member_int (w, "soft", 1024);
  hutch_json_end_object (w);
  hutch_json_end_array (w);
  hutch_json_member_bool (w, "noNewPrivileges", TRUE);
  hutch_json_end_object (w);
}

static void
spec_mounts (HutchJsonWriter *w, gboolean rootless)
{
  static const char *const dev[] = { "nosuid", "strictatime", "mode=755", "size=65536k", NULL };
  static const char *const pts[] = { "nosuid", "noexec", "newinstance", "ptmxmode=0666",
                                     "mode=0620", "gid=5", NULL };
  static const char *const pts_rootless[] = { "nosuid", "noexec", "newinstance", "ptmxmode=0666",
                                              "mode=0620", NULL };
  static const char *const shm[] = { "nosuid", "noexec", "nodev", "mode=1777", "size=65536k", NULL };
  static const char *const plain[] = { "nosuid", "noexec", "nodev", NULL };
  static const char *const ro[] = { "nosuid", "noexec", "nodev", "ro", NULL };
  static const char *const cgroup[] = { "nosuid", "noexec", "nodev", "relatime", "ro", NULL };

  hutch_json_key (w, "mounts");
  hutch_json_begin_array (w);
  mount_entry (w, "/proc", "proc", "proc", NULL);
  mount_entry (w, "/dev", "tmpfs", "tmpfs", dev);
  mount_entry (w, "/dev/pts", "devpts", "devpts", rootless ? pts_rootless : pts);
  mount_entry (w, "/dev/shm", "tmpfs", "shm", shm);
  mount_entry (w, "/dev/mqueue", "mqueue", "mqueue", plain);
  mount_entry (w, "/sys", "sysfs", "sysfs", ro);
  mount_entry (w, "/sys/fs/cgroup", "cgroup", "cgroup", cgroup);
  hutch_json_end_array (w);
}

char *
hutch_oci_spec_default (gboolean rootless)
{
  static const char *const ns[] = { "pid", "network", "ipc", "uts", "mount", "cgroup" };
  g_autoptr (HutchJsonWriter) w = hutch_json_writer_new (TRUE);

  hutch_json_begin_object (w);
  hutch_json_member_string (w, "ociVersion", "1.2.0");
  spec_process (w);
  hutch_json_key (w, "root");
  hutch_json_begin_object (w);
  hutch_json_member_string (w, "path", "rootfs");
  hutch_json_member_bool (w, "readonly", TRUE);
  hutch_json_end_object (w);
  hutch_json_member_string (w, "hostname", "hutch");
  spec_mounts (w, rootless);
  hutch_json_key (w, "linux");
  hutch_json_begin_object (w);
  if (rootless)
    {
      mapping (w, "uidMappings", geteuid ());
      mapping (w, "gidMappings", getegid ());
    }
  hutch_json_key (w, "namespaces");
  hutch_json_begin_array (w);
  for (gsize i = 0; i < G_N_ELEMENTS (ns); i++)
    {
      hutch_json_begin_object (w);
      hutch_json_member_string (w, "type", ns[i]);
      hutch_json_end_object (w);
    }
  if (rootless)
    {
      hutch_json_begin_object (w);
      hutch_json_member_string (w, "type", "user");
      hutch_json_end_object (w);
    }
  hutch_json_end_array (w);
  hutch_json_member_strv (w, "maskedPaths", (char **) masked);
  hutch_json_member_strv (w, "readonlyPaths", (char **) readonly);
  hutch_json_end_object (w);
  hutch_json_end_object (w);
  return hutch_json_writer_finish (w);
}

char *
hutch_oci_features (void)
{
  static const char *const hooks[] = { "prestart", "createRuntime", "createContainer",
                                       "startContainer", "poststart", "poststop", NULL };
  static const char *const options[] = {
    "async", "atime", "bind", "defaults", "dev", "diratime", "dirsync", "exec", "mand",
    "noatime", "nodev", "nodiratime", "noexec", "nomand", "norelatime", "nostrictatime",
    "nosuid", "private", "rbind", "relatime", "ro", "rprivate", "rshared", "rslave",
    "runbindable", "rw", "shared", "slave", "strictatime", "suid", "sync", "unbindable", NULL,
  };
  static const char *const namespaces[] = { "cgroup", "ipc", "mount", "network", "pid", "user",
                                            "uts", NULL };
  static const char *const actions[] = { "SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO", "SCMP_ACT_KILL",
                                         "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD",
                                         "SCMP_ACT_LOG", "SCMP_ACT_TRACE", "SCMP_ACT_TRAP", NULL };
  static const char *const operators[] = { "SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT",
                                           "SCMP_CMP_LE", "SCMP_CMP_LT", "SCMP_CMP_MASKED_EQ",
                                           "SCMP_CMP_NE", NULL };
  g_autoptr (HutchJsonWriter) w = hutch_json_writer_new (TRUE);
  g_auto (GStrv) caps = hutch_sandbox_caps_names (~G_GUINT64_CONSTANT (0));

  hutch_json_begin_object (w);
  hutch_json_member_string (w, "ociVersionMin", "1.0.0");
  hutch_json_member_string (w, "ociVersionMax", "1.2.0");
  hutch_json_member_strv (w, "hooks", (char **) hooks);
  hutch_json_member_strv (w, "mountOptions", (char **) options);
  hutch_json_key (w, "linux");
  hutch_json_begin_object (w);
  hutch_json_member_strv (w, "namespaces", (char **) namespaces);
  hutch_json_member_strv (w, "capabilities", caps);
  hutch_json_key (w, "cgroup");
  hutch_json_begin_object (w);
  hutch_json_member_bool (w, "v1", FALSE);
  hutch_json_member_bool (w, "v2", FALSE);
  hutch_json_member_bool (w, "systemd", FALSE);
  hutch_json_member_bool (w, "systemdUser", FALSE);
  hutch_json_end_object (w);
  hutch_json_key (w, "seccomp");
  hutch_json_begin_object (w);
  hutch_json_member_bool (w, "enabled", TRUE);
  hutch_json_member_strv (w, "actions", (char **) actions);
  hutch_json_member_strv (w, "operators", (char **) operators);
  hutch_json_end_object (w);
  hutch_json_key (w, "apparmor");
  hutch_json_begin_object (w);
  hutch_json_member_bool (w, "enabled", FALSE);
  hutch_json_end_object (w);
  hutch_json_key (w, "selinux");
  hutch_json_begin_object (w);
  hutch_json_member_bool (w, "enabled", FALSE);
  hutch_json_end_object (w);
  hutch_json_end_object (w);
  hutch_json_key (w, "annotations");
  hutch_json_begin_object (w);
  hutch_json_member_string (w, "io.hutch.runtime", "hutch-runtime");
  hutch_json_end_object (w);
  hutch_json_end_object (w);
  return hutch_json_writer_finish (w);
}
