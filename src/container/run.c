/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* hutch run, before and after the sandbox: the image's layers and config
 * become a sandbox spec (lower directories, Entrypoint and Cmd, Env,
 * WorkingDir, User, the generated /etc files) in a container directory
 * under containers/<id>; after the command ends the directory is marked
 * exited, or removed with --rm (inside the user namespace, as its upper
 * layer may hold files of subordinate ids). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <stdlib.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "container.h"
#include "store/store.h"

#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

void
hutch_run_options_clear (HutchRunOptions *o)
{
  g_free (o->image);
  g_strfreev (o->command);
  g_free (o->entrypoint);
  g_strfreev (o->env);
  g_free (o->workdir);
  g_free (o->user);
  g_free (o->hostname);
  g_strfreev (o->volumes);
  g_strfreev (o->cap_add);
  g_strfreev (o->cap_drop);
}

static char *
new_id (void)
{
  guint8 bytes[32];
  GString *s = g_string_new (NULL);

  if (getrandom (bytes, sizeof bytes, 0) != sizeof bytes)
    for (gsize i = 0; i < sizeof bytes; i++)
      bytes[i] = (guint8) g_random_int ();
  for (gsize i = 0; i < sizeof bytes; i++)
    g_string_append_printf (s, "%02x", bytes[i]);
  return g_string_free (s, FALSE);
}

static char **
string_array (const HutchJsonNode *n)
{
  GPtrArray *a = g_ptr_array_new ();

  for (guint i = 0; n != NULL && n->type == HUTCH_JSON_ARRAY && i < n->n_members; i++)
    g_ptr_array_add (a, g_strdup (n->members[i]->string));
  g_ptr_array_add (a, NULL);
  return (char **) g_ptr_array_free (a, FALSE);
}

/* Docker's rules: --entrypoint replaces the image's (and drops its Cmd);
 * arguments after the image replace Cmd. */
static char **
make_argv (const HutchRunOptions *o, const HutchImageConfig *c, GError **error)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
  g_auto (GStrv) entry = NULL, cmd = NULL;

  if (o->entrypoint != NULL)
    entry = *o->entrypoint != '\0' ? g_strsplit (o->entrypoint, " ", -1) : g_new0 (char *, 1);
  else
    entry = string_array (hutch_json_node_member (c->config, "Entrypoint"));
  if (o->command != NULL && o->command[0] != NULL)
    cmd = g_strdupv (o->command);
  else if (o->entrypoint == NULL)
    cmd = string_array (hutch_json_node_member (c->config, "Cmd"));
  for (char **a = entry; a != NULL && *a != NULL; a++)
    g_ptr_array_add (argv, g_strdup (*a));
  for (char **a = cmd; a != NULL && *a != NULL; a++)
    g_ptr_array_add (argv, g_strdup (*a));
  if (argv->len == 0)
    return hutch_throw (error, HUTCH_ERROR_USAGE,
                        "the image has no Entrypoint or Cmd: give a command after the image name"),
           NULL;
  g_ptr_array_add (argv, NULL);
  return (char **) g_ptr_array_free (g_steal_pointer (&argv), FALSE);
}

static char **
make_env (const HutchRunOptions *o, const HutchImageConfig *c, const char *hostname,
          GError **error)
{
  g_auto (GStrv) env = string_array (hutch_json_node_member (c->config, "Env"));

  if (g_environ_getenv (env, "PATH") == NULL)
    env = g_environ_setenv (env, "PATH", DEFAULT_PATH, TRUE);
  env = g_environ_setenv (env, "HOSTNAME", hostname, TRUE);
  for (char **e = o->env; e != NULL && *e != NULL; e++)
    {
      const char *eq = strchr (*e, '=');
      g_autofree char *key = eq != NULL ? g_strndup (*e, (gsize) (eq - *e)) : g_strdup (*e);
      if (*key == '\0')
        return hutch_throw (error, HUTCH_ERROR_USAGE, "-e \"%s\": no variable name", *e), NULL;
      if (eq != NULL)
        env = g_environ_setenv (env, key, eq + 1, TRUE);
      else if (g_getenv (key) != NULL)
        env = g_environ_setenv (env, key, g_getenv (key), TRUE); /* -e NAME: the host's value */
    }
  return g_steal_pointer (&env);
}

static gboolean
write_file (const char *dir, const char *name, const char *text, char **out_path, GError **error)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);

  if (!g_file_set_contents (path, text, -1, NULL))
    return hutch_throw_errno (error, "writing %s", path);
  *out_path = g_steal_pointer (&path);
  return TRUE;
}

static gboolean
make_etc_files (HutchSandboxSpec *spec, const char *dir, gboolean network_host, GError **error)
{
  g_autofree char *hostname = g_strdup_printf ("%s\n", spec->hostname);
  g_autofree char *hosts = g_strdup_printf ("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost "
                                            "ip6-loopback\n127.0.1.1\t%s\n", spec->hostname);
  g_autofree char *resolv = NULL;

  if (network_host)
    resolv = hutch_util_read_host_file ("/etc/resolv.conf", 65536, NULL);
  if (resolv == NULL)
    resolv = g_strdup ("# --network none: no name servers\n");
  return write_file (dir, "hostname", hostname, &spec->hostname_file, error)
         && write_file (dir, "hosts", hosts, &spec->hosts_file, error)
         && write_file (dir, "resolv.conf", resolv, &spec->resolv_file, error);
}

static gboolean
parse_volumes (HutchSandboxSpec *spec, char **volumes, GError **error)
{
  spec->binds = g_ptr_array_new_with_free_func ((GDestroyNotify) hutch_sandbox_bind_free);
  for (char **v = volumes; v != NULL && *v != NULL; v++)
    {
      g_auto (GStrv) parts = g_strsplit (*v, ":", 3);
      HutchSandboxBind *b;
      char *real;
      if (g_strv_length (parts) < 2 || *parts[0] == '\0' || parts[1][0] != '/'
          || (parts[2] != NULL && strcmp (parts[2], "ro") != 0 && strcmp (parts[2], "rw") != 0))
        return hutch_throw (error, HUTCH_ERROR_USAGE,
                            "-v \"%s\": use HOST-PATH:CONTAINER-PATH[:ro|rw], the container path "
                            "absolute", *v);
      real = realpath (parts[0], NULL);
      if (real == NULL)
        return hutch_throw_errno (error, "-v %s: the host path", *v);
      b = g_new0 (HutchSandboxBind, 1);
      b->source = g_strdup (real);
      free (real);
      b->target = g_strdup (parts[1]);
      b->readonly = parts[2] != NULL && strcmp (parts[2], "ro") == 0;
      g_ptr_array_add (spec->binds, b);
    }
  return TRUE;
}

static void
spec_clear (HutchSandboxSpec *spec)
{
  g_strfreev (spec->lowerdirs);
  g_free (spec->upperdir);
  g_free (spec->workdir);
  g_free (spec->rootfs);
  g_free (spec->hostname);
  g_free (spec->hostname_file);
  g_free (spec->hosts_file);
  g_free (spec->resolv_file);
  if (spec->binds != NULL)
    g_ptr_array_unref (spec->binds);
  g_strfreev (spec->argv);
  g_strfreev (spec->env);
  g_free (spec->cwd);
  g_free (spec->user);
}

static gboolean
prepare (HutchContext *ctx, const HutchRunOptions *o, const HutchIdMap *map, HutchSandboxSpec *spec,
         char **out_dir, GError **error)
{
  g_autoptr (HutchStore) store = hutch_store_open (ctx->root, FALSE, error);
  g_autoptr (HutchStoreImage) image = NULL;
  g_autoptr (GPtrArray) chains = NULL;
  g_autofree char *id = new_id ();
  g_autofree char *containers = g_build_filename (ctx->root, "containers", NULL);
  g_autofree char *dir = g_build_filename (containers, id, NULL);
  const char *wd, *user;

  if (store == NULL || (image = hutch_store_image_lookup (store, o->image, NULL, error)) == NULL)
    return FALSE;
  if (!hutch_store_layers_ensure (store, image->manifest, image->config, map, o->image,
                                  G_GUINT64_CONSTANT (64) << 30, NULL, error))
    return FALSE;
  chains = hutch_store_chain_ids (image->config);
  spec->lowerdirs = g_new0 (char *, chains->len + 1);
  for (guint i = 0; i < chains->len; i++)
    spec->lowerdirs[chains->len - 1 - i] = g_build_filename (ctx->root, "layers",
                                                              (char *) chains->pdata[i] + 7, "diff", NULL);
  if (chains->len == 0)
    return hutch_throw (error, HUTCH_ERROR_INVALID_IMAGE, "image %s has no layers", o->image);
  if (g_mkdir_with_parents (containers, 0700) < 0 || g_mkdir (dir, 0700) < 0)
    return hutch_throw_errno (error, "making the container directory %s", dir);
  *out_dir = g_strdup (dir);
  spec->upperdir = g_build_filename (dir, "upper", NULL);
  spec->workdir = g_build_filename (dir, "work", NULL);
  spec->rootfs = g_build_filename (dir, "rootfs", NULL);
  if (g_mkdir (spec->upperdir, 0755) < 0 || g_mkdir (spec->workdir, 0700) < 0
      || g_mkdir (spec->rootfs, 0755) < 0)
    return hutch_throw_errno (error, "making the container directory %s", dir);
  spec->hostname = g_strdup (o->hostname != NULL ? o->hostname : (const char *) id);
  if (o->hostname == NULL)
    spec->hostname[12] = '\0';
  wd = hutch_image_config_get_string (image->config, "WorkingDir");
  user = hutch_image_config_get_string (image->config, "User");
  spec->cwd = g_strdup (o->workdir != NULL ? o->workdir : wd != NULL && *wd != '\0' ? wd : "/");
  spec->user = g_strdup (o->user != NULL ? o->user : user);
  spec->idmap = map;
  spec->driver = o->driver;
  spec->driver_forced = o->driver_forced;
  spec->network_host = o->network_host;
  spec->read_only = o->read_only;
  spec->init = o->init;
  spec->seccomp = !o->no_seccomp && !o->privileged;
  if (!hutch_sandbox_caps_compute (o->cap_add, o->cap_drop, o->privileged, &spec->caps, error))
    return FALSE;
  return make_etc_files (spec, dir, o->network_host, error) && parse_volumes (spec, o->volumes, error)
         && (spec->argv = make_argv (o, image->config, error)) != NULL
         && (spec->env = make_env (o, image->config, spec->hostname, error)) != NULL;
}

gboolean
hutch_container_run (HutchContext *ctx, const HutchRunOptions *o, HutchSandboxResult *result,
                     GError **error)
{
  g_autoptr (HutchIdMap) map = hutch_sandbox_idmap_new_for_user (error);
  g_autofree char *dir = NULL;
  HutchSandboxSpec spec = { .cleanup_fd = -1 };
  gboolean ok;

  if (map == NULL)
    return FALSE;
  ok = prepare (ctx, o, map, &spec, &dir, error);
  if (ok && o->rm)
    spec.cleanup_fd = open (dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  ok = ok && hutch_sandbox_run (&spec, result, error);
  hutch_fd_clear (&spec.cleanup_fd);
  if (dir != NULL && (o->rm || !ok))
    {
      g_autoptr (GError) local = NULL;
      g_autofree char *parent = g_path_get_dirname (dir);
      g_autofree char *base = g_path_get_basename (dir);
      hutch_autofd int pfd = open (parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      /* pid 1 emptied upper and work; what is left is ours. When it could
       * not (killed), a user namespace is needed for the rest. */
      const char *names[] = { base, NULL };
      if (pfd < 0)
        g_warning ("leaving %s behind: %s", dir, g_strerror (errno));
      else if (!hutch_util_remove_tree_at (pfd, base)
               && !hutch_sandbox_userns_remove_at (map, pfd, names, &local))
        g_warning ("leaving %s behind: %s", dir, local->message);
    }
  else if (dir != NULL)
    {
      g_autofree char *state = g_strdup_printf ("exited %d\n", result->status);
      g_autofree char *path = g_build_filename (dir, "state", NULL);
      (void) g_file_set_contents (path, state, -1, NULL);
    }
  spec_clear (&spec);
  return ok;
}
