/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Capability names and the set a container's command gets: Docker's
 * default, changed by --cap-add and --cap-drop, or everything the user
 * namespace has with --privileged. */
#include "config.h"

#include <errno.h>
#include <linux/capability.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sandbox-private.h"

static const char *const names[] = {
  "CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID", "KILL", "SETGID", "SETUID",
  "SETPCAP", "LINUX_IMMUTABLE", "NET_BIND_SERVICE", "NET_BROADCAST", "NET_ADMIN", "NET_RAW",
  "IPC_LOCK", "IPC_OWNER", "SYS_MODULE", "SYS_RAWIO", "SYS_CHROOT", "SYS_PTRACE", "SYS_PACCT",
  "SYS_ADMIN", "SYS_BOOT", "SYS_NICE", "SYS_RESOURCE", "SYS_TIME", "SYS_TTY_CONFIG", "MKNOD",
  "LEASE", "AUDIT_WRITE", "AUDIT_CONTROL", "SETFCAP", "MAC_OVERRIDE", "MAC_ADMIN", "SYSLOG",
  "WAKE_ALARM", "BLOCK_SUSPEND", "AUDIT_READ", "PERFMON", "BPF", "CHECKPOINT_RESTORE",
};

G_STATIC_ASSERT (G_N_ELEMENTS (names) == CAP_LAST_CAP + 1);

/* Docker's default set (moby/oci/caps/defaults.go). */
static const int docker_default[] = {
  CAP_CHOWN, CAP_DAC_OVERRIDE, CAP_FSETID, CAP_FOWNER, CAP_MKNOD, CAP_NET_RAW, CAP_SETGID,
  CAP_SETUID, CAP_SETFCAP, CAP_SETPCAP, CAP_NET_BIND_SERVICE, CAP_SYS_CHROOT, CAP_KILL,
  CAP_AUDIT_WRITE,
};

#define ALL_CAPS ((G_GUINT64_CONSTANT (1) << (CAP_LAST_CAP + 1)) - 1)

guint64
hutch_sandbox_caps_default (void)
{
  guint64 mask = 0;

  for (gsize i = 0; i < G_N_ELEMENTS (docker_default); i++)
    mask |= G_GUINT64_CONSTANT (1) << docker_default[i];
  return mask;
}

/* "NET_ADMIN", "net_admin", "CAP_NET_ADMIN" or "ALL" */
static gboolean
lookup (const char *text, guint64 *out, GError **error)
{
  const char *name = g_ascii_strncasecmp (text, "CAP_", 4) == 0 ? text + 4 : text;

  if (g_ascii_strcasecmp (name, "ALL") == 0)
    {
      *out = ALL_CAPS;
      return TRUE;
    }
  for (gsize i = 0; i < G_N_ELEMENTS (names); i++)
    if (g_ascii_strcasecmp (name, names[i]) == 0)
      {
        *out = G_GUINT64_CONSTANT (1) << i;
        return TRUE;
      }
  return hutch_throw (error, HUTCH_ERROR_USAGE,
                      "unknown capability \"%s\" (names as in capabilities(7), e.g. NET_ADMIN)",
                      text);
}

gboolean
hutch_sandbox_caps_compute (char **add, char **drop, gboolean privileged, guint64 *out_mask,
                            GError **error)
{
  guint64 mask = privileged ? ALL_CAPS : hutch_sandbox_caps_default ();

  /* Drops first, as docker: --cap-drop ALL --cap-add X leaves X. */
  for (char **c = drop; c != NULL && *c != NULL; c++)
    {
      guint64 bit = 0;
      if (!lookup (*c, &bit, error))
        return FALSE;
      mask &= ~bit;
    }
  for (char **c = add; c != NULL && *c != NULL; c++)
    {
      guint64 bit = 0;
      if (!lookup (*c, &bit, error))
        return FALSE;
      mask |= bit;
    }
  *out_mask = mask;
  return TRUE;
}

char **
hutch_sandbox_caps_names (guint64 mask)
{
  GPtrArray *out = g_ptr_array_new ();

  for (gsize i = 0; i < G_N_ELEMENTS (names); i++)
    if (mask & (G_GUINT64_CONSTANT (1) << i))
      g_ptr_array_add (out, g_strconcat ("CAP_", names[i], NULL));
  g_ptr_array_add (out, NULL);
  return (char **) g_ptr_array_free (out, FALSE);
}

gboolean
hutch_sandbox_caps_from_names (const char *const *list, guint64 *out_mask, GError **error)
{
  guint64 mask = 0;

  for (const char *const *c = list; c != NULL && *c != NULL; c++)
    {
      guint64 bit = 0;
      g_autoptr (GError) local = NULL;
      if (!lookup (*c, &bit, &local))
        return hutch_throw (error, HUTCH_ERROR_INVALID_IMAGE, "%s", local->message);
      mask |= bit;
    }
  *out_mask = mask;
  return TRUE;
}

gboolean
hutch_sandbox_caps_bound (guint64 keep, GError **error)
{
  int last = CAP_LAST_CAP;
  g_autofree char *text = hutch_util_read_host_file ("/proc/sys/kernel/cap_last_cap", 32, NULL);

  if (text != NULL)
    last = atoi (text);
  for (int cap = 0; cap <= last; cap++)
    if (!(keep & (G_GUINT64_CONSTANT (1) << cap)) && prctl (PR_CAPBSET_DROP, cap, 0, 0, 0) < 0
        && errno != EINVAL)
      return hutch_throw_errno (error, "dropping capability %d from the bounding set", cap);
  return TRUE;
}

gboolean
hutch_sandbox_caps_set (guint64 effective, guint64 permitted, guint64 inheritable,
                        GError **error)
{
  struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
  struct __user_cap_data_struct data[2] = { { 0 } };

  data[0].effective = (guint32) effective;
  data[1].effective = (guint32) (effective >> 32);
  data[0].permitted = (guint32) permitted;
  data[1].permitted = (guint32) (permitted >> 32);
  data[0].inheritable = (guint32) inheritable;
  data[1].inheritable = (guint32) (inheritable >> 32);
  if (syscall (SYS_capset, &hdr, data) < 0)
    return hutch_throw_errno (error, "setting the capabilities");
  return TRUE;
}
