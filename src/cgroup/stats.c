/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What a container's cgroup v2 says of it: CPU time, memory, pids, block
 * I/O, for `hutch stats`. */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cgroup.h"

#define CGROUP_ROOT "/sys/fs/cgroup"

char *
hutch_cgroup_dir_of_pid (pid_t pid)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/cgroup", (int) pid);
  g_autofree char *text = hutch_util_read_host_file (path, 64 * 1024, NULL);
  g_auto (GStrv) lines = text != NULL ? g_strsplit (text, "\n", -1) : NULL;
  g_autofree char *root = g_build_filename (CGROUP_ROOT, "cgroup.controllers", NULL);

  if (access (root, F_OK) < 0)
    return NULL; /* no unified hierarchy at the root: v1 or hybrid */
  for (char **l = lines; l != NULL && *l != NULL; l++)
    if (g_str_has_prefix (*l, "0::"))
      return g_build_filename (CGROUP_ROOT, *l + 3, NULL);
  return NULL;
}

/* A number file ("max" is 0), or -1 when missing. */
static gint64
number (const char *dir, const char *name)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  g_autofree char *text = hutch_util_read_host_file (path, 4096, NULL);

  if (text == NULL)
    return -1;
  if (g_str_has_prefix (text, "max"))
    return 0;
  return g_ascii_strtoll (text, NULL, 10);
}

/* "KEY VALUE" lines (cpu.stat): VALUE of @key, or -1. */
static gint64
keyed (const char *dir, const char *name, const char *key)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  g_autofree char *text = hutch_util_read_host_file (path, 64 * 1024, NULL);
  g_autofree char *want = g_strconcat (key, " ", NULL);
  g_auto (GStrv) lines = text != NULL ? g_strsplit (text, "\n", -1) : NULL;

  for (char **l = lines; l != NULL && *l != NULL; l++)
    if (g_str_has_prefix (*l, want))
      return g_ascii_strtoll (*l + strlen (want), NULL, 10);
  return -1;
}

gboolean
hutch_cgroup_stats_read (const char *dir, HutchCgroupStats *out, GError **error)
{
  g_autofree char *io_path = g_build_filename (dir, "io.stat", NULL);
  g_autofree char *io = NULL;

  if (access (dir, F_OK) < 0)
    return hutch_throw_errno (error, "reading cgroup %s", dir);
  out->cpu_usec = keyed (dir, "cpu.stat", "usage_usec");
  out->memory = number (dir, "memory.current");
  out->memory_limit = number (dir, "memory.max");
  out->pids = number (dir, "pids.current");
  out->pids_limit = number (dir, "pids.max");
  out->io_read = out->io_write = -1;
  io = hutch_util_read_host_file (io_path, 64 * 1024, NULL);
  if (io != NULL)
    {
      /* "8:0 rbytes=N wbytes=N rios=..." a device a line */
      out->io_read = out->io_write = 0;
      for (const char *p = io; (p = strstr (p, "bytes=")) != NULL; p += 6)
        {
          gint64 v = g_ascii_strtoll (p + 6, NULL, 10);
          if (p > io && p[-1] == 'r')
            out->io_read += v;
          else if (p > io && p[-1] == 'w')
            out->io_write += v;
        }
    }
  return TRUE;
}
