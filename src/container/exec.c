/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* hutch exec: the container's namespaces from its monitor (over the ctl
 * socket in the runroot, to the same user only), the command made from
 * the container's config.json with exec's own -e, -w, -u and -t. */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "container-private.h"

gboolean
hutch_container_namespaces_get (const HutchContext *ctx, const HutchContainer *c, int *ns,
                                GError **error)
{
  g_autofree char *dir = hutch_container_run_dir (ctx, c->id, error);
  hutch_autofd int dfd = dir != NULL ? open (dir, O_PATH | O_DIRECTORY | O_CLOEXEC) : -1;
  hutch_autofd int sock = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  struct ucred cred;
  socklen_t len = sizeof cred;
  char tag = 0;
  int n;

  if (dir == NULL)
    return FALSE;
  g_snprintf (addr.sun_path, sizeof addr.sun_path, "/proc/self/fd/%d/ctl", dfd);
  if (dfd < 0 || sock < 0 || connect (sock, (struct sockaddr *) &addr, sizeof addr) < 0)
    return hutch_throw_errno (error, "reaching the monitor of container %s (%s/ctl)", c->name, dir);
  /* the namespaces are taken only from a monitor of ours */
  if (getsockopt (sock, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 || cred.uid != getuid ())
    return hutch_throw (error, HUTCH_ERROR_UNSAFE_PATH,
                        "the control socket of container %s (%s/ctl) is not held by a process of "
                        "yours: refusing it",
                        c->name, dir);
  n = hutch_util_recv_fds (sock, &tag, ns, HUTCH_SANDBOX_N_NS);
  if (n != HUTCH_SANDBOX_N_NS || tag != 'N')
    {
      for (int i = 0; i < n; i++)
        close (ns[i]);
      return hutch_throw (error, HUTCH_ERROR_FAILED,
                          "container %s is starting or ending: its namespaces are not there", c->name);
    }
  return TRUE;
}

gboolean
hutch_container_exec (const HutchContext *ctx, const char *id, const HutchExecOptions *o,
                      HutchSandboxResult *result, GError **error)
{
  g_autoptr (HutchContainer) c = hutch_container_load (ctx, id, error);
  g_autofree char *dir = hutch_container_dir (ctx, id);
  g_autoptr (HutchIdMap) map = NULL;
  HutchSandboxSpec spec = { .cleanup_fd = -1 };
  int ns[HUTCH_SANDBOX_N_NS] = { -1, -1, -1, -1, -1, -1, -1 };
  gboolean ok;

  if (c == NULL)
    return FALSE;
  if (c->status != HUTCH_CONTAINER_RUNNING)
    return hutch_throw (error, HUTCH_ERROR_USAGE, "container %s is not running (%s): start it first",
                        c->name, hutch_container_status_name (c->status));
  if ((map = hutch_container_idmap_new (c, error)) == NULL
      || !hutch_container_user_validate ("-u", o->user, map, error)
      || !hutch_container_workdir_validate ("-w", o->workdir, error)
      || !hutch_container_spec_read (dir, &spec, error))
    return FALSE;
  g_strfreev (spec.argv);
  spec.argv = g_strdupv (o->command);
  spec.idmap = map;
  spec.tty = o->tty;
  spec.input = o->interactive;
  if (o->workdir != NULL)
    g_free (spec.cwd), spec.cwd = g_strdup (o->workdir);
  if (o->user != NULL)
    g_free (spec.user), spec.user = g_strdup (o->user);
  if (o->privileged)
    {
      spec.seccomp = FALSE;
      ok = hutch_sandbox_caps_compute (NULL, NULL, TRUE, &spec.caps, error);
    }
  else
    ok = TRUE;
  for (char **e = o->env; ok && e != NULL && *e != NULL; e++)
    ok = hutch_container_env_add (&spec.env, *e, "-e", error);
  ok = ok && hutch_container_namespaces_get (ctx, c, ns, error)
       && hutch_sandbox_exec (&spec, ns, o->detach, result, error);
  for (guint i = 0; i < HUTCH_SANDBOX_N_NS; i++)
    hutch_fd_clear (&ns[i]);
  spec.idmap = NULL;
  hutch_container_spec_clear (&spec);
  return ok;
}
