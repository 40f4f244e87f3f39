/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* `hutch oci exec`: the process to start, from --process (a runtime-spec
 * "process" object, as podman and the containerd shim pass it) or from the
 * container's own process with the command line's args, --cwd, --env,
 * --user, --cap and --tty over it; then sandbox/ starts it in the
 * container's namespaces, with the container's seccomp profile. */
#include "config.h"

#include <string.h>
#include <unistd.h>

#include "oci-private.h"

static gboolean
process_from_file (const char *path, HutchBundleProcess *out, GError **error)
{
  g_autofree char *text = NULL;
  g_autoptr (HutchJsonNode) doc = NULL;
  gsize len;

  if (!g_file_get_contents (path, &text, &len, error))
    return FALSE;
  doc = hutch_json_parse (text, len, error);
  if (doc == NULL || !hutch_oci_process_parse (doc, "process", out, error))
    {
      g_prefix_error (error, "--process %s: ", path);
      return FALSE;
    }
  return TRUE;
}

static gboolean
parse_user (const char *text, HutchBundleProcess *p, GError **error)
{
  g_auto (GStrv) parts = g_strsplit (text, ":", 2);
  char *end = NULL;
  guint64 v = g_ascii_strtoull (parts[0], &end, 10);

  if (end == parts[0] || *end != '\0' || v >= G_MAXUINT32)
    return hutch_throw (error, HUTCH_ERROR_USAGE, "--user %s: expected UID[:GID]", text);
  p->uid = (uid_t) v;
  if (parts[1] != NULL)
    {
      v = g_ascii_strtoull (parts[1], &end, 10);
      if (end == parts[1] || *end != '\0' || v >= G_MAXUINT32)
        return hutch_throw (error, HUTCH_ERROR_USAGE, "--user %s: expected UID[:GID]", text);
      p->gid = (gid_t) v;
    }
  return TRUE;
}

/* The container's process with the command line over it. */
static gboolean
process_from_options (const HutchOciConfig *cfg, const HutchOciExecOptions *o,
                      HutchBundleProcess *p, GError **error)
{
  const HutchBundleProcess *base = &cfg->sandbox.process;

  if (o->args == NULL || o->args[0] == NULL)
    return hutch_throw (error, HUTCH_ERROR_USAGE, "exec: no command given (ARGS or --process)");
  memset (p, 0, sizeof *p);
  p->args = g_strdupv (o->args);
  p->env = g_strdupv (base->env);
  for (char **e = o->env; e != NULL && *e != NULL; e++)
    {
      g_auto (GStrv) kv = g_strsplit (*e, "=", 2);
      p->env = g_environ_setenv (p->env, kv[0], kv[1] != NULL ? kv[1] : "", TRUE);
    }
  p->cwd = g_strdup (o->cwd != NULL ? o->cwd : base->cwd);
  p->uid = base->uid;
  p->gid = base->gid;
  if (base->groups != NULL)
    p->groups = g_array_copy (base->groups);
  if (base->rlimits != NULL)
    p->rlimits = g_array_copy (base->rlimits);
  p->has_umask = base->has_umask;
  p->umask = base->umask;
  p->has_caps = base->has_caps;
  memcpy (p->caps, base->caps, sizeof p->caps);
  p->no_new_privs = base->no_new_privs || o->no_new_privs;
  p->terminal = o->tty;
  if (o->user != NULL && !parse_user (o->user, p, error))
    return FALSE;
  if (o->caps != NULL)
    {
      guint64 add = 0;
      if (!hutch_sandbox_caps_from_names ((const char *const *) o->caps, &add, error))
        return g_prefix_error (error, "--cap: "), FALSE;
      p->has_caps = TRUE;
      for (int i = 0; i < HUTCH_CAPS_N_SETS; i++)
        p->caps[i] |= add;
    }
  return TRUE;
}

gboolean
hutch_oci_exec (const HutchOciContext *ctx, const char *id, const HutchOciExecOptions *opts,
                int *out_status, GError **error)
{
  g_autoptr (HutchOciState) s = hutch_oci_state_load (ctx, id, error);
  g_autoptr (HutchOciConfig) cfg = NULL;
  HutchBundleProcess p = { 0 };
  hutch_autofd int console_fd = -1;
  pid_t pid;
  gboolean ok;

  *out_status = 0;
  if (s == NULL)
    return FALSE;
  if (s->status != HUTCH_OCI_RUNNING && s->status != HUTCH_OCI_CREATED)
    return hutch_throw (error, HUTCH_ERROR_USAGE, "cannot exec in container %s: it is %s", id,
                        hutch_oci_status_name (s->status));
  cfg = hutch_oci_state_config (s, error);
  if (cfg == NULL)
    return FALSE;
  ok = opts->process_file != NULL ? process_from_file (opts->process_file, &p, error)
                                  : process_from_options (cfg, opts, &p, error);
  if (!ok)
    {
      hutch_sandbox_bundle_process_clear (&p);
      return FALSE;
    }
  if (opts->tty)
    p.terminal = TRUE;
  /* the container's filter applies to what is started in it too */
  p.seccomp = g_steal_pointer (&cfg->sandbox.process.seccomp);
  if (opts->console_socket != NULL)
    {
      console_fd = hutch_oci_console_connect (opts->console_socket, error);
      if (console_fd < 0)
        {
          hutch_sandbox_bundle_process_clear (&p);
          return FALSE;
        }
    }
  pid = hutch_sandbox_bundle_exec (s->pid, &p, console_fd, opts->preserve_fds, opts->detach,
                                   opts->pid_file, out_status, error);
  hutch_sandbox_bundle_process_clear (&p);
  return pid >= 0;
}
