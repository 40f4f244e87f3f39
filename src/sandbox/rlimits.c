/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* --ulimit: the names docker takes (nofile, or RLIMIT_NOFILE as the OCI
 * config writes them), and setting them in the container's processes. */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/resource.h>

#include "sandbox.h"

static const struct
{
  const char *name; /* docker's, after "RLIMIT_" in upper case */
  int resource;
} rlimits[] = {
  { "as", RLIMIT_AS },           { "core", RLIMIT_CORE },
  { "cpu", RLIMIT_CPU },         { "data", RLIMIT_DATA },
  { "fsize", RLIMIT_FSIZE },     { "locks", RLIMIT_LOCKS },
  { "memlock", RLIMIT_MEMLOCK }, { "msgqueue", RLIMIT_MSGQUEUE },
  { "nice", RLIMIT_NICE },       { "nofile", RLIMIT_NOFILE },
  { "nproc", RLIMIT_NPROC },     { "rss", RLIMIT_RSS },
  { "rtprio", RLIMIT_RTPRIO },   { "rttime", RLIMIT_RTTIME },
  { "sigpending", RLIMIT_SIGPENDING }, { "stack", RLIMIT_STACK },
};

int
hutch_sandbox_rlimit_from_name (const char *name)
{
  if (g_ascii_strncasecmp (name, "RLIMIT_", 7) == 0)
    name += 7;
  for (gsize i = 0; i < G_N_ELEMENTS (rlimits); i++)
    if (g_ascii_strcasecmp (name, rlimits[i].name) == 0)
      return rlimits[i].resource;
  return -1;
}

char *
hutch_sandbox_rlimit_name (int resource)
{
  for (gsize i = 0; i < G_N_ELEMENTS (rlimits); i++)
    if (rlimits[i].resource == resource)
      return g_ascii_strup (rlimits[i].name, -1);
  return NULL;
}

char *
hutch_sandbox_rlimit_known_names (void)
{
  g_autoptr (GString) s = g_string_new (NULL);

  for (gsize i = 0; i < G_N_ELEMENTS (rlimits); i++)
    g_string_append_printf (s, "%s%s", i > 0 ? ", " : "", rlimits[i].name);
  return g_strdup (s->str);
}

gboolean
hutch_sandbox_rlimits_apply (GArray *limits, GError **error)
{
  for (guint i = 0; limits != NULL && i < limits->len; i++)
    {
      const HutchSandboxRlimit *l = &g_array_index (limits, HutchSandboxRlimit, i);
      struct rlimit r = { (rlim_t) l->soft, (rlim_t) l->hard };
      if (setrlimit (l->resource, &r) < 0)
        {
          g_autofree char *name = hutch_sandbox_rlimit_name (l->resource);
          return hutch_throw_errno (error, "--ulimit %s=%" G_GUINT64_FORMAT ":%" G_GUINT64_FORMAT,
                                    name != NULL ? name : "?", l->soft, l->hard);
        }
    }
  return TRUE;
}
