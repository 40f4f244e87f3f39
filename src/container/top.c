/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The processes of a running container, for `top`: its pid 1, and every
 * process of the host whose pid namespace is its (the ns/pid links
 * compared by device and inode, as the kernel names a namespace), exec'd
 * ones too. A process that is not dumpable (hutch's own, forked without
 * an exec) has a /proc/PID/ns we may not read: it is left out. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "container-private.h"

static gint
pid_compare (gconstpointer a, gconstpointer b)
{
  return *(const pid_t *) a - *(const pid_t *) b;
}

GArray *
hutch_container_pids (const HutchContext *ctx, const char *id, GError **error)
{
  g_autoptr (HutchContainer) c = hutch_container_load (ctx, id, error);
  g_autoptr (GArray) pids = g_array_new (FALSE, FALSE, sizeof (pid_t));
  int ns[HUTCH_SANDBOX_N_NS];
  gboolean got = FALSE;
  struct stat want;
  DIR *proc;
  struct dirent *e;

  if (c == NULL)
    return NULL;
  if (c->status != HUTCH_CONTAINER_RUNNING)
    return hutch_throw (error, HUTCH_ERROR_USAGE, "container %s is not running (it is %s)",
                        c->name, hutch_container_status_name (c->status)), NULL;
  /* the pid namespace as its monitor holds it (as exec joins it): pid 1
   * itself is not dumpable, so its /proc/PID/ns is not ours to read */
  if (!hutch_container_namespaces_get (ctx, c, ns, error))
    return g_prefix_error (error, "listing the processes of container %s: ", c->name), NULL;
  for (guint i = 0; i < HUTCH_SANDBOX_N_NS; i++)
    if (strcmp (hutch_sandbox_ns_names[i], "pid") == 0)
      got = fstat (ns[i], &want) == 0;
  for (guint i = 0; i < HUTCH_SANDBOX_N_NS; i++)
    hutch_fd_clear (&ns[i]);
  if (!got)
    return hutch_throw_errno (error, "reading the pid namespace of container %s", c->name), NULL;
  g_array_append_val (pids, c->init_pid);
  if ((proc = opendir ("/proc")) == NULL)
    return hutch_throw_errno (error, "listing /proc"), NULL;
  while ((e = readdir (proc)) != NULL)
    {
      g_autofree char *path = NULL;
      struct stat st;
      char *end;
      long pid = strtol (e->d_name, &end, 10);
      if (*end != '\0' || pid <= 0 || pid == c->init_pid)
        continue;
      path = g_strdup_printf ("/proc/%ld/ns/pid", pid);
      /* a process that ended meanwhile, or one we may not look at (not
       * ours): not the container's */
      if (stat (path, &st) == 0 && st.st_dev == want.st_dev && st.st_ino == want.st_ino)
        {
          pid_t p = (pid_t) pid;
          g_array_append_val (pids, p);
        }
    }
  closedir (proc);
  g_array_sort (pids, pid_compare);
  return g_steal_pointer (&pids);
}
