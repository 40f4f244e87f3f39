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
#include <sys/mount.h>
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
  g_strfreev (o->env_files);
  g_strfreev (o->tmpfs);
  g_free (o->name);
  g_free (o->workdir);
  g_free (o->user);
  g_free (o->hostname);
  g_strfreev (o->volumes);
  g_strfreev (o->cap_add);
  g_strfreev (o->cap_drop);
  hutch_net_config_clear (&o->net);
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

/* NAME=VALUE sets; NAME alone passes the host's value, when it has one. */
static gboolean
env_add (char ***env, const char *item, const char *where, GError **error)
{
  const char *eq = strchr (item, '=');
  g_autofree char *key = eq != NULL ? g_strndup (item, (gsize) (eq - item)) : g_strdup (item);

  if (*key == '\0')
    return hutch_throw (error, HUTCH_ERROR_USAGE, "%s \"%s\": no variable name", where, item);
  if (strpbrk (key, " \t") != NULL)
    return hutch_throw (error, HUTCH_ERROR_USAGE, "%s: the variable name \"%s\" has white space",
                        where, key);
  if (eq != NULL)
    *env = g_environ_setenv (*env, key, eq + 1, TRUE);
  else if (g_getenv (key) != NULL)
    *env = g_environ_setenv (*env, key, g_getenv (key), TRUE);
  return TRUE;
}

/* docker's --env-file: a line is NAME=VALUE (the value as written, quotes
 * and all) or NAME; blank lines and lines starting with # are skipped. */
static gboolean
env_file_add (char ***env, const char *path, GError **error)
{
  g_autoptr (GError) local = NULL;
  hutch_autofd int fd = open (path, O_RDONLY | O_CLOEXEC);
  g_autofree char *text = NULL;
  g_auto (GStrv) lines = NULL;
  gsize len = 0;
  guint n = 0;

  if (fd < 0)
    return hutch_throw (error, HUTCH_ERROR_USAGE, "--env-file %s: %s", path, g_strerror (errno));
  text = hutch_util_read_all (fd, 1 << 20, &len, &local);
  if (text == NULL)
    return hutch_throw (error, HUTCH_ERROR_USAGE, "--env-file %s: %s", path, local->message);
  if (strlen (text) != len || !g_utf8_validate (text, (gssize) len, NULL))
    return hutch_throw (error, HUTCH_ERROR_USAGE,
                        "--env-file %s: not a text file (a NUL byte, or not UTF-8)", path);
  lines = g_strsplit (text, "\n", -1);
  for (char **l = lines; *l != NULL; l++)
    {
      const char *line = *l;
      g_autofree char *where = g_strdup_printf ("--env-file %s, line %u", path, ++n);
      g_autofree char *item = NULL;
      while (*line == ' ' || *line == '\t')
        line++;
      if (*line == '\0' || *line == '#')
        continue;
      item = g_strdup (line);
      if (item[strlen (item) - 1] == '\r')
        item[strlen (item) - 1] = '\0';
      if (!env_add (env, item, where, error))
        return FALSE;
    }
  return TRUE;
}

static char **
make_env (const HutchRunOptions *o, const HutchImageConfig *c, const char *hostname,
          GError **error)
{
  g_auto (GStrv) env = string_array (hutch_json_node_member (c->config, "Env"));

  if (g_environ_getenv (env, "PATH") == NULL)
    env = g_environ_setenv (env, "PATH", DEFAULT_PATH, TRUE);
  env = g_environ_setenv (env, "HOSTNAME", hostname, TRUE);
  for (char **f = o->env_files; f != NULL && *f != NULL; f++)
    if (!env_file_add (&env, *f, error))
      return NULL;
  for (char **e = o->env; e != NULL && *e != NULL; e++)
    if (!env_add (&env, *e, "-e", error))
      return NULL;
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
make_etc_files (HutchSandboxSpec *spec, const char *dir, const HutchNetConfig *net, GError **error)
{
  g_autofree char *hostname = g_strdup_printf ("%s\n", spec->hostname);
  g_autofree char *hosts = hutch_net_hosts_text (net, spec->hostname);
  g_autofree char *resolv = NULL;

  if (net->mode == HUTCH_NET_HOST)
    resolv = hutch_util_read_host_file ("/etc/resolv.conf", 65536, NULL);
  else if (net->mode == HUTCH_NET_SLIRP)
    resolv = hutch_net_resolv_conf_text (net);
  if (resolv == NULL)
    resolv = g_strdup ("# --network none: no name servers\n");
  return write_file (dir, "hostname", hostname, &spec->hostname_file, error)
         && write_file (dir, "hosts", hosts, &spec->hosts_file, error)
         && write_file (dir, "resolv.conf", resolv, &spec->resolv_file, error);
}

static HutchSandboxMount *
parse_volume (const char *v, GError **error)
{
  g_auto (GStrv) parts = g_strsplit (v, ":", 3);
  HutchSandboxMount *m;
  char *real;

  if (g_strv_length (parts) < 2 || *parts[0] == '\0' || parts[1][0] != '/'
      || (parts[2] != NULL && strcmp (parts[2], "ro") != 0 && strcmp (parts[2], "rw") != 0))
    return hutch_throw (error, HUTCH_ERROR_USAGE,
                        "-v \"%s\": use HOST-PATH:CONTAINER-PATH[:ro|rw], the container path "
                        "absolute", v), NULL;
  real = realpath (parts[0], NULL);
  if (real == NULL)
    return hutch_throw_errno (error, "-v %s: the host path", v), NULL;
  m = g_new0 (HutchSandboxMount, 1);
  m->source = g_strdup (real);
  free (real);
  m->target = g_strdup (parts[1]);
  m->readonly = parts[2] != NULL && strcmp (parts[2], "ro") == 0;
  return m;
}

/* --tmpfs PATH[:OPTIONS], as docker: rw,noexec,nosuid,nodev unless said
 * otherwise; size=, mode=, uid=, gid=, nr_inodes= go to the kernel. */
static HutchSandboxMount *
parse_tmpfs (const char *v, GError **error)
{
  const char *colon = strchr (v, ':');
  g_autofree char *target = colon != NULL ? g_strndup (v, (gsize) (colon - v)) : g_strdup (v);
  g_auto (GStrv) opts = g_strsplit (colon != NULL ? colon + 1 : "", ",", -1);
  g_autoptr (GString) data = g_string_new (NULL);
  const struct
  {
    const char *name;
    unsigned long set, clear;
  } flags[] = {
    { "exec", 0, MS_NOEXEC }, { "noexec", MS_NOEXEC, 0 }, { "suid", 0, MS_NOSUID },
    { "nosuid", MS_NOSUID, 0 }, { "dev", 0, MS_NODEV },   { "nodev", MS_NODEV, 0 },
  };
  g_autofree HutchSandboxMount *m = g_new0 (HutchSandboxMount, 1);

  if (*target != '/')
    return hutch_throw (error, HUTCH_ERROR_USAGE,
                        "--tmpfs \"%s\": use an absolute CONTAINER-PATH[:OPTIONS]", v), NULL;
  m->flags = MS_NOEXEC | MS_NOSUID | MS_NODEV;
  for (char **o = opts; *o != NULL; o++)
    {
      gboolean known = FALSE;
      if (**o == '\0' || strcmp (*o, "rw") == 0)
        continue;
      if (strcmp (*o, "ro") == 0)
        {
          m->readonly = TRUE;
          continue;
        }
      for (gsize i = 0; i < G_N_ELEMENTS (flags) && !known; i++)
        if (strcmp (*o, flags[i].name) == 0)
          {
            m->flags = (m->flags | flags[i].set) & ~flags[i].clear;
            known = TRUE;
          }
      if (known)
        continue;
      if (!g_str_has_prefix (*o, "size=") && !g_str_has_prefix (*o, "mode=")
          && !g_str_has_prefix (*o, "uid=") && !g_str_has_prefix (*o, "gid=")
          && !g_str_has_prefix (*o, "nr_inodes="))
        return hutch_throw (error, HUTCH_ERROR_USAGE,
                            "--tmpfs %s: unknown option \"%s\" (use ro, rw, [no]exec, [no]suid, "
                            "[no]dev, size=, mode=, uid=, gid=, nr_inodes=)", v, *o), NULL;
      g_string_append_printf (data, "%s%s", data->len > 0 ? "," : "", *o);
    }
  m->target = g_steal_pointer (&target);
  m->data = data->len > 0 ? g_strdup (data->str) : NULL;
  return g_steal_pointer (&m);
}

static guint
path_depth (const char *path)
{
  g_auto (GStrv) parts = g_strsplit (path, "/", -1);
  guint n = 0;

  for (char **p = parts; *p != NULL; p++)
    n += **p != '\0' && strcmp (*p, ".") != 0;
  return n;
}

/* -v and --tmpfs, shallowest target first, so that --tmpfs /data with
 * -v x:/data/x puts the bind on the tmpfs, not under it. */
static gboolean
parse_mounts (HutchSandboxSpec *spec, const HutchRunOptions *o, GError **error)
{
  spec->mounts = g_ptr_array_new_with_free_func ((GDestroyNotify) hutch_sandbox_mount_free);
  for (char **v = o->volumes; v != NULL && *v != NULL; v++)
    {
      HutchSandboxMount *m = parse_volume (*v, error);
      if (m == NULL)
        return FALSE;
      g_ptr_array_add (spec->mounts, m);
    }
  for (char **v = o->tmpfs; v != NULL && *v != NULL; v++)
    {
      HutchSandboxMount *m = parse_tmpfs (*v, error);
      if (m == NULL)
        return FALSE;
      g_ptr_array_add (spec->mounts, m);
    }
  /* a stable insertion sort: at one depth, the order given */
  for (guint i = 1; i < spec->mounts->len; i++)
    {
      gpointer m = spec->mounts->pdata[i];
      guint d = path_depth (((HutchSandboxMount *) m)->target), j = i;
      for (; j > 0 && path_depth (((HutchSandboxMount *) spec->mounts->pdata[j - 1])->target) > d; j--)
        spec->mounts->pdata[j] = spec->mounts->pdata[j - 1];
      spec->mounts->pdata[j] = m;
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
  if (spec->mounts != NULL)
    g_ptr_array_unref (spec->mounts);
  g_strfreev (spec->argv);
  g_strfreev (spec->env);
  g_free (spec->cwd);
  g_free (spec->user);
}

/* docker's rule for names: [a-zA-Z0-9][a-zA-Z0-9_.-]+ */
static gboolean
name_valid (const char *name)
{
  gsize len = strlen (name);

  if (len < 2 || len > 128 || !g_ascii_isalnum (name[0]))
    return FALSE;
  for (gsize i = 1; i < len; i++)
    if (!g_ascii_isalnum (name[i]) && strchr ("_.-", name[i]) == NULL)
      return FALSE;
  return TRUE;
}

/* A name is a symlink names/<name> -> <id>: made with symlinkat, which
 * fails when it exists, so two runs cannot both take one name. */
static gboolean
reserve_name (const char *root, const char *name, const char *id, GError **error)
{
  g_autofree char *dir = g_build_filename (root, "names", NULL);
  g_autofree char *path = g_build_filename (dir, name, NULL);

  if (!name_valid (name))
    return hutch_throw (error, HUTCH_ERROR_USAGE,
                        "--name \"%s\": a name is 2 to 128 of a-z, A-Z, 0-9, _, . and -, "
                        "starting with a letter or digit", name);
  if (g_mkdir_with_parents (dir, 0700) < 0)
    return hutch_throw_errno (error, "making %s", dir);
  if (symlink (id, path) < 0)
    {
      g_autofree char *other = g_file_read_link (path, NULL);
      if (errno != EEXIST)
        return hutch_throw_errno (error, "reserving the name %s", name);
      return hutch_throw (error, HUTCH_ERROR_BUSY,
                          "the name \"%s\" is in use by container %.12s: choose another name",
                          name, other != NULL ? other : "?");
    }
  return TRUE;
}

/* -P: each "PORT/PROTO" of the image's ExposedPorts on a free host port. */
static gboolean
add_exposed_ports (HutchNetConfig *net, const HutchImageConfig *config, GError **error)
{
  const HutchJsonNode *ports = hutch_json_node_member (config->config, "ExposedPorts");

  for (guint i = 0; ports != NULL && ports->type == HUTCH_JSON_OBJECT && i < ports->n_members; i++)
    {
      g_autoptr (GError) local = NULL;
      if (!hutch_net_config_add_port (net, ports->keys[i], &local))
        return hutch_throw (error, HUTCH_ERROR_INVALID_IMAGE,
                            "-P: the image exposes \"%s\", which is no port", ports->keys[i]);
    }
  return TRUE;
}

static void
release_name (const char *root, const char *name, const char *id)
{
  g_autofree char *path = g_build_filename (root, "names", name, NULL);
  g_autofree char *target = g_file_read_link (path, NULL);

  if (target != NULL && strcmp (target, id) == 0)
    (void) unlink (path);
}

static gboolean
prepare (HutchContext *ctx, const HutchRunOptions *o, const HutchIdMap *map, HutchSandboxSpec *spec,
         HutchNetConfig *net, char **out_dir, GError **error)
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
  if (o->name != NULL && !reserve_name (ctx->root, o->name, id, error))
    return FALSE;
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
  spec->network_host = net->mode == HUTCH_NET_HOST;
  spec->read_only = o->read_only;
  spec->init = o->init;
  spec->seccomp = !o->no_seccomp && !o->privileged;
  spec->tty = o->tty;
  spec->input = o->interactive;
  if (!hutch_sandbox_caps_compute (o->cap_add, o->cap_drop, o->privileged, &spec->caps, error))
    return FALSE;
  if (o->publish_all && !add_exposed_ports (net, image->config, error))
    return FALSE;
  return make_etc_files (spec, dir, net, error) && parse_mounts (spec, o, error)
         && (spec->argv = make_argv (o, image->config, error)) != NULL
         && (spec->env = make_env (o, image->config, spec->hostname, error)) != NULL;
}

static int
net_child_setup (gpointer data, GError **error)
{
  return hutch_net_child_setup (data, error);
}

static void
net_monitor_start (gpointer data, int ctl)
{
  hutch_net_set_ctl (data, ctl);
}

static void
net_prepare (gpointer data, GArray *fds, int *timeout_ms)
{
  hutch_net_poll_prepare (data, fds, timeout_ms);
}

static void
net_dispatch (gpointer data, GArray *fds)
{
  hutch_net_poll_dispatch (data, fds);
}

/* The network asked for, or the fallback to loopback alone when the tap
 * device cannot be had and slirp was only the default. */
static gboolean
choose_network (HutchNetConfig *net, GError **error)
{
  g_autofree char *resolv = NULL;
  hutch_autofd int tun = -1;
  struct stat st;
  int errsv;

  if (net->mode != HUTCH_NET_SLIRP)
    {
      if (net->ports->len > 0)
        return hutch_throw (error, HUTCH_ERROR_USAGE,
                            "-p needs --network slirp (the default): with --network %s the "
                            "container has %s",
                            net->mode == HUTCH_NET_HOST ? "host" : "none",
                            net->mode == HUTCH_NET_HOST ? "the host's ports already" : "no network");
      return TRUE;
    }
  tun = open ("/dev/net/tun", O_RDWR | O_CLOEXEC);
  errsv = errno;
  if (tun < 0)
    {
      g_autofree char *what = NULL;
      if (stat ("/dev/net/tun", &st) == 0)
        what = g_strdup_printf ("/dev/net/tun (mode %04o, owner uid %u) cannot be opened: %s: "
                                "make it usable by everyone as udev does on stock distributions "
                                "(as root: chmod 0666 /dev/net/tun)",
                                st.st_mode & 07777, st.st_uid, g_strerror (errsv));
      else
        what = g_strdup_printf ("/dev/net/tun is missing (%s): load the tun module (as root: "
                                "modprobe tun)",
                                g_strerror (errno));
      if (net->explicit_mode || net->ports->len > 0)
        return hutch_throw (error, HUTCH_ERROR_HOST_UNSUPPORTED,
                            "the slirp network needs a tap device, but %s; or run with --network none",
                            what);
      g_warning ("no network, only loopback (--network none): %s", what);
      net->mode = HUTCH_NET_NONE;
      return TRUE;
    }
  resolv = hutch_util_read_host_file ("/etc/resolv.conf", 65536, NULL);
  hutch_net_config_read_resolv (net, resolv);
  return TRUE;
}

gboolean
hutch_container_run (HutchContext *ctx, const HutchRunOptions *o, HutchSandboxResult *result,
                     GError **error)
{
  g_autoptr (HutchIdMap) map = hutch_sandbox_idmap_new_for_user (error);
  g_autofree char *dir = NULL;
  HutchSandboxSpec spec = { .cleanup_fd = -1 };
  HutchNetConfig net;
  g_autoptr (HutchNet) slirp = NULL;
  HutchSandboxNet hooks = { net_child_setup, hutch_net_serve_request, net_monitor_start,
                            net_prepare, net_dispatch, NULL };
  gboolean ok;

  if (map == NULL)
    return FALSE;
  hutch_net_config_copy (&net, &o->net);
  ok = choose_network (&net, error) && prepare (ctx, o, map, &spec, &net, &dir, error);
  if (ok && net.mode == HUTCH_NET_SLIRP)
    {
      ok = (slirp = hutch_net_new (&net, error)) != NULL;
      hooks.data = slirp;
      spec.net = &hooks;
    }
  if (ok && o->rm)
    spec.cleanup_fd = open (dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  ok = ok && hutch_sandbox_run (&spec, result, error);
  g_clear_pointer (&slirp, hutch_net_free);
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
      if (o->name != NULL)
        release_name (ctx->root, o->name, base);
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
  hutch_net_config_clear (&net);
  return ok;
}
