/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Resource limits as run's flags ask for them, docker's syntax and rules,
 * and whether this host can apply them. A limit asked for that cannot be
 * applied is an error before anything starts, never a container that
 * silently runs without it. */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cgroup.h"

void
hutch_cgroup_limits_clear (HutchCgroupLimits *l)
{
  g_free (l->cpuset_cpus);
  g_free (l->parent);
  memset (l, 0, sizeof *l);
}

gboolean
hutch_cgroup_limits_any (const HutchCgroupLimits *l)
{
  return l->memory != 0 || l->memory_swap != 0 || l->memory_reservation != 0 || l->cpus != 0
         || l->cpu_shares != 0 || l->cpuset_cpus != NULL || l->pids_limit != 0;
}

char *
hutch_cgroup_limits_describe (const HutchCgroupLimits *l)
{
  GPtrArray *flags = g_ptr_array_new ();
  char *text;

  if (l->memory != 0)
    g_ptr_array_add (flags, "--memory");
  if (l->memory_swap != 0)
    g_ptr_array_add (flags, "--memory-swap");
  if (l->memory_reservation != 0)
    g_ptr_array_add (flags, "--memory-reservation");
  if (l->cpus != 0)
    g_ptr_array_add (flags, "--cpus");
  if (l->cpu_shares != 0)
    g_ptr_array_add (flags, "--cpu-shares");
  if (l->cpuset_cpus != NULL)
    g_ptr_array_add (flags, "--cpuset-cpus");
  if (l->pids_limit != 0)
    g_ptr_array_add (flags, "--pids-limit");
  g_ptr_array_add (flags, NULL);
  text = g_strjoinv (", ", (char **) flags->pdata);
  g_ptr_array_unref (flags);
  return text;
}

gboolean
hutch_cgroup_parse_size (const char *flag, const char *text, gint64 *out, GError **error)
{
  char *end = NULL;
  double v = g_ascii_strtod (text, &end);
  double unit = 1;

  if (end != text && *end != '\0' && end[1] == '\0')
    switch (g_ascii_tolower (*end))
      {
      case 'b':
        unit = 1;
        end++;
        break;
      case 'k':
        unit = 1024.0;
        end++;
        break;
      case 'm':
        unit = 1024.0 * 1024;
        end++;
        break;
      case 'g':
        unit = 1024.0 * 1024 * 1024;
        end++;
        break;
      case 't':
        unit = 1024.0 * 1024 * 1024 * 1024;
        end++;
        break;
      default:
        break;
      }
  if (end == text || *end != '\0' || !(v > 0) || v * unit > (double) G_MAXINT64)
    return hutch_throw (error, HUTCH_ERROR_USAGE,
                        "%s %s: give a size in bytes, or with a unit: 512m, 1.5g (b, k, m, g, t)",
                        flag, text);
  *out = (gint64) (v * unit);
  return TRUE;
}

gboolean
hutch_cgroup_parse_cpus (const char *text, double *out, GError **error)
{
  char *end = NULL;
  double v = g_ascii_strtod (text, &end);

  if (end == text || *end != '\0' || !(v >= 0.01) || v > 1024 || !isfinite (v))
    return hutch_throw (error, HUTCH_ERROR_USAGE,
                        "--cpus %s: give a number of CPUs from 0.01 up, as 0.5 or 2", text);
  *out = v;
  return TRUE;
}

gboolean
hutch_cgroup_parse_cpuset (const char *text, GError **error)
{
  g_auto (GStrv) parts = g_strsplit (text, ",", -1);

  for (char **p = parts; *p != NULL; p++)
    {
      char *end = NULL;
      guint64 lo, hi;
      if (!g_ascii_isdigit (**p))
        goto bad;
      lo = g_ascii_strtoull (*p, &end, 10);
      hi = lo;
      if (*end == '-')
        {
          if (!g_ascii_isdigit (end[1]))
            goto bad;
          hi = g_ascii_strtoull (end + 1, &end, 10);
        }
      if (*end != '\0' || hi < lo || hi > 4095)
        goto bad;
    }
  return TRUE;
bad:
  return hutch_throw (error, HUTCH_ERROR_USAGE,
                      "--cpuset-cpus %s: give CPU numbers and ranges, as 0-2,4", text);
}

gboolean
hutch_cgroup_limits_validate (const HutchCgroupLimits *l, GError **error)
{
  if (l->memory != 0 && l->memory < 6 * 1024 * 1024)
    return hutch_throw (error, HUTCH_ERROR_USAGE,
                        "--memory: at least 6m, as in docker (a container starts in less only "
                        "to be killed at once)");
  if (l->memory_swap > 0 && l->memory == 0)
    return hutch_throw (error, HUTCH_ERROR_USAGE,
                        "--memory-swap is memory plus swap: give --memory too");
  if (l->memory_swap > 0 && l->memory_swap < l->memory)
    return hutch_throw (error, HUTCH_ERROR_USAGE,
                        "--memory-swap (memory plus swap) must be at least --memory");
  if (l->memory_reservation != 0 && l->memory != 0 && l->memory_reservation > l->memory)
    return hutch_throw (error, HUTCH_ERROR_USAGE,
                        "--memory-reservation must be at most --memory");
  if (l->cpu_shares != 0 && (l->cpu_shares < 2 || l->cpu_shares > 262144))
    return hutch_throw (error, HUTCH_ERROR_USAGE, "--cpu-shares: from 2 to 262144");
  if (l->pids_limit < -1)
    return hutch_throw (error, HUTCH_ERROR_USAGE, "--pids-limit: a positive number, or -1 for none");
  if (l->parent != NULL)
    {
      g_auto (GStrv) parts = g_strsplit (l->parent, "/", -1);
      for (char **p = parts; *p != NULL; p++)
        if (strcmp (*p, "..") == 0 || strcmp (*p, ".") == 0
            || strspn (*p, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-@:") != strlen (*p))
          return hutch_throw (error, HUTCH_ERROR_USAGE,
                              "--cgroup-parent %s: a path of names (letters, digits, _ . - @ :) "
                              "under the cgroup hutch runs in, without . or ..",
                              l->parent);
    }
  if (l->disabled && hutch_cgroup_limits_any (l))
    return hutch_throw (error, HUTCH_ERROR_USAGE,
                        "--cgroups=disabled with a limit: a limit needs a cgroup");
  return TRUE;
}

guint64
hutch_cgroup_shares_to_weight (guint64 shares)
{
  if (shares == 0)
    return 0;
  shares = CLAMP (shares, 2, 262144);
  return 1 + ((shares - 2) * 9999) / 262142;
}

/* The controllers @l needs. */
static void
needed (const HutchCgroupLimits *l, GPtrArray *out)
{
  if (l->memory != 0 || l->memory_swap != 0 || l->memory_reservation != 0)
    g_ptr_array_add (out, "memory");
  if (l->cpus != 0 || l->cpu_shares != 0)
    g_ptr_array_add (out, "cpu");
  if (l->cpuset_cpus != NULL)
    g_ptr_array_add (out, "cpuset");
  if (l->pids_limit > 0)
    g_ptr_array_add (out, "pids");
}

char *
hutch_cgroup_limits_missing (const HutchCgroupCaps *caps, const HutchCgroupLimits *l)
{
  g_autoptr (GPtrArray) want = g_ptr_array_new ();
  GString *missing = g_string_new (NULL);

  needed (l, want);
  for (guint i = 0; i < want->len; i++)
    if (!g_strv_contains ((const char *const *) caps->controllers, want->pdata[i]))
      g_string_append_printf (missing, "%s%s", missing->len > 0 ? ", " : "", (char *) want->pdata[i]);
  if (missing->len == 0)
    return (g_string_free (missing, TRUE), NULL);
  return g_string_free (missing, FALSE);
}

gboolean
hutch_cgroup_caps_check (const HutchCgroupCaps *caps, const char *asked, GError **error)
{
  const char *user = g_get_user_name ();

  if (caps->version != HUTCH_CGROUP_V2)
    return hutch_throw (error, HUTCH_ERROR_HOST_UNSUPPORTED,
                        "%s cannot be applied: this host mounts cgroup %s, where %s. Boot with "
                        "the unified hierarchy: add "
                        "systemd.unified_cgroup_hierarchy=1 to GRUB_CMDLINE_LINUX in "
                        "/etc/default/grub, then sudo update-grub and reboot; or run without "
                        "the limit (see \"hutch check\")",
                        asked, caps->version == HUTCH_CGROUP_V1 ? "v1 only" : "v1 (hybrid)",
                        geteuid () == 0 ? "hutch applies no limits (it uses cgroup v2 only)"
                                        : "a normal user cannot be given controllers");
  if (caps->delegation == HUTCH_CGROUP_DELEGATION_NONE)
    return hutch_throw (error, HUTCH_ERROR_HOST_UNSUPPORTED,
                        "%s cannot be applied: cgroup %s is not writable by you and no systemd "
                        "user manager answers on the session bus. Let it run for you: sudo "
                        "loginctl enable-linger %s, then log in again (see \"hutch check\")",
                        asked, caps->own_path != NULL ? caps->own_path : "/", user);
  return TRUE;
}

gboolean
hutch_cgroup_limits_check (const HutchCgroupCaps *caps, const HutchCgroupLimits *l, GError **error)
{
  g_autofree char *asked = NULL;
  g_autofree char *missing = NULL;
  g_autofree char *why = NULL;

  if (!hutch_cgroup_limits_any (l))
    return TRUE;
  asked = hutch_cgroup_limits_describe (l);
  if (!hutch_cgroup_caps_check (caps, asked, error))
    return FALSE;
  why = hutch_cgroup_need_scope (caps, l);
  if (why != NULL)
    return TRUE; /* `run` and `start` go into a scope of the user manager, and look again there */
  missing = hutch_cgroup_limits_missing (caps, l);
  if (missing != NULL)
    return hutch_throw (error, HUTCH_ERROR_HOST_UNSUPPORTED,
                        "%s cannot be applied: the %s controller%s not delegated to you. "
                        "Delegate them to user sessions: sudo mkdir -p "
                        "/etc/systemd/system/user@.service.d && printf '[Service]\\nDelegate=cpu "
                        "cpuset io memory pids\\n' | sudo tee "
                        "/etc/systemd/system/user@.service.d/delegate.conf && sudo systemctl "
                        "daemon-reload, then log in again",
                        asked, missing, strchr (missing, ',') != NULL ? "s are" : " is");
  if (caps->delegation == HUTCH_CGROUP_DELEGATION_SYSTEMD && g_getenv (HUTCH_CGROUP_SCOPE_ENV) != NULL)
    return hutch_throw (error, HUTCH_ERROR_HOST_UNSUPPORTED,
                        "%s cannot be applied: the systemd user manager's scope (%s) is not "
                        "delegated to you. Delegate the controllers to user sessions: sudo mkdir "
                        "-p /etc/systemd/system/user@.service.d && printf '[Service]\\nDelegate=cpu "
                        "cpuset io memory pids\\n' | sudo tee "
                        "/etc/systemd/system/user@.service.d/delegate.conf && sudo systemctl "
                        "daemon-reload, then log in again",
                        asked, caps->own_path != NULL ? caps->own_path : "/");
  return TRUE;
}
