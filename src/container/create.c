/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* hutch create (and the first half of run): the image's layers and config
 * become a sandbox spec (lower directories, Entrypoint and Cmd, Env,
 * WorkingDir, User, mounts, capabilities) recorded in containers/<id> as
 * config.json, with hutch.json for the rest, under a name of its own. */
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

#include "container-private.h"
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
  g_strfreev (o->mounts);
  g_strfreev (o->cap_add);
  g_strfreev (o->cap_drop);
  g_free (o->network);
  g_free (o->cidfile);
  g_free (o->stop_signal);
  g_strfreev (o->labels);
  g_strfreev (o->expose);
  g_strfreev (o->extra_hosts);
  g_strfreev (o->dns);
  g_strfreev (o->dns_search);
  g_strfreev (o->dns_options);
  g_strfreev (o->allow_hosts);
  g_free (o->shm_size);
  g_strfreev (o->ulimits);
  g_strfreev (o->group_add);
  g_strfreev (o->devices);
  g_free (o->health_cmd);
  g_free (o->health_interval);
  g_free (o->health_timeout);
  g_free (o->health_start_period);
  hutch_cgroup_limits_clear (&o->limits);
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

  if (o->entrypoint != NULL && o->entrypoint[0] == '[')
    {
      /* the JSON form, as in a Dockerfile: --entrypoint '["/bin/sh","-c"]' */
      g_autoptr (HutchJsonNode) root = hutch_json_parse (o->entrypoint, strlen (o->entrypoint), NULL);
      gboolean strings = root != NULL && root->type == HUTCH_JSON_ARRAY;
      for (guint i = 0; strings && i < root->n_members; i++)
        strings = root->members[i]->type == HUTCH_JSON_STRING;
      if (!strings)
        return hutch_throw (error, HUTCH_ERROR_USAGE,
                            "--entrypoint %s: the JSON form is an array of strings, as "
                            "'[\"/bin/sh\", \"-c\"]'", o->entrypoint), NULL;
      entry = string_array (root);
    }
  else if (o->entrypoint != NULL)
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
gboolean
hutch_container_env_add (char ***env, const char *item, const char *where, GError **error)
{
  const char *eq = strchr (item, '=');
  g_autofree char *key = eq != NULL ? g_strndup (item, (gsize) (eq - item)) : g_strdup (item);

  if (*key == '\0')
    return hutch_throw (error, HUTCH_ERROR_USAGE, "%s \"%s\": no variable name", where, item);
  if (strpbrk (key, " \t") != NULL)
    return hutch_throw (error, HUTCH_ERROR_USAGE, "%s: the variable name \"%s\" has white space",
                        where, key);
  /* A newline (or another control byte) in a name would split the entry
   * wherever environments are written one a line (/proc/PID/environ read
   * by a shell, docker's env files, a shell's "export -p"). A NUL cannot get
   * here: argv and --env-file (refused as not text) cannot carry one. The
   * value may hold newlines, as docker allows: it is never split. */
  for (const char *c = key; *c != '\0'; c++)
    if ((guchar) *c < 0x20 || *c == 0x7f)
      {
        g_autofree char *shown = g_strescape (key, NULL);
        return hutch_throw (error, HUTCH_ERROR_USAGE,
                            "%s: the variable name \"%s\" has a control character (a newline, "
                            "perhaps): a name is one line of printable characters", where, shown);
      }
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
      if (!hutch_container_env_add (env, item, where, error))
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
  /* docker's -t: a terminal programs can draw on, unless the image or -e
   * says which */
  if (o->tty && g_environ_getenv (env, "TERM") == NULL)
    env = g_environ_setenv (env, "TERM", "xterm", TRUE);
  for (char **f = o->env_files; f != NULL && *f != NULL; f++)
    if (!env_file_add (&env, *f, error))
      return NULL;
  for (char **e = o->env; e != NULL && *e != NULL; e++)
    if (!hutch_container_env_add (&env, *e, "-e", error))
      return NULL;
  return g_steal_pointer (&env);
}

/* --tmpfs PATH[:OPTIONS], as docker: rw,noexec,nosuid,nodev unless said
 * otherwise; size=, mode=, uid=, gid=, nr_inodes= go to the kernel. */
HutchSandboxMount *
hutch_container_tmpfs_parse (const char *v, GError **error)
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

/* What --read-only leaves writable, as podman does. */
static const struct
{
  const char *path;
  const char *data;
} scratch_dirs[] = {
  { "/tmp", "mode=1777" },
  { "/var/tmp", "mode=1777" },
  { "/run", "mode=755" },
};

/* -v, --mount and --tmpfs, shallowest target first, so that --tmpfs
 * /data with -v x:/data/x puts the bind on the tmpfs, not under it. The
 * volumes they name are made when missing (see
 * hutch_container_volumes_resolve() for @volumes_lock and @made). */
static gboolean
parse_mounts (const HutchContext *ctx, HutchSandboxSpec *spec, const HutchRunOptions *o,
              int *volumes_lock, GPtrArray *made, GError **error)
{
  g_autoptr (GPtrArray) asked = hutch_container_mounts_parse (o, error);

  if (asked == NULL || !hutch_container_volumes_resolve (ctx, asked, volumes_lock, made, error))
    return FALSE;
  spec->mounts = g_ptr_array_new_with_free_func ((GDestroyNotify) hutch_sandbox_mount_free);
  for (guint i = 0; i < asked->len; i++)
    g_ptr_array_add (spec->mounts,
                     g_steal_pointer (&((HutchContainerMount *) asked->pdata[i])->mount));
  for (char **v = o->tmpfs; v != NULL && *v != NULL; v++)
    {
      HutchSandboxMount *m = hutch_container_tmpfs_parse (*v, error);
      if (m == NULL)
        return FALSE;
      g_ptr_array_add (spec->mounts, m);
    }
  /* podman's --read-only-tmpfs (on by default): a read-only container
   * still has somewhere to write its scratch files */
  for (gsize i = 0; o->read_only && o->read_only_tmpfs && i < G_N_ELEMENTS (scratch_dirs); i++)
    {
      HutchSandboxMount *m;
      gboolean taken = FALSE;
      for (guint j = 0; j < spec->mounts->len && !taken; j++)
        taken = strcmp (((HutchSandboxMount *) spec->mounts->pdata[j])->target, scratch_dirs[i].path) == 0;
      if (taken)
        continue;
      m = g_new0 (HutchSandboxMount, 1);
      m->target = g_strdup (scratch_dirs[i].path);
      m->flags = MS_NOSUID | MS_NODEV;
      m->data = g_strdup (scratch_dirs[i].data);
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

/* --cidfile: made, never overwritten (another container's may be there) */
static gboolean
write_cidfile (const char *path, const char *id, GError **error)
{
  hutch_autofd int fd = open (path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);

  if (fd < 0 && errno == EEXIST)
    return hutch_throw (error, HUTCH_ERROR_USAGE,
                        "--cidfile %s exists: another container may be using it; remove it, "
                        "or name another file", path);
  if (fd < 0)
    return hutch_throw_errno (error, "--cidfile: making %s", path);
  if (!hutch_util_write_all (fd, id, strlen (id), error))
    return g_prefix_error (error, "--cidfile %s: ", path), FALSE;
  return TRUE;
}

/* docker's way: an adjective and a scientist, made unique by the name lock. */
static char *
generate_name (void)
{
  static const char *const left[] = {
    "admiring", "brave", "busy", "clever", "eager", "elegant", "festive", "gentle", "happy",
    "jolly", "keen", "lucid", "nifty", "quirky", "serene", "sharp", "stoic", "tender", "vibrant",
    "zealous",
  };
  static const char *const right[] = {
    "babbage", "curie", "darwin", "euler", "fermi", "galois", "hopper", "hypatia", "kepler",
    "lovelace", "meitner", "noether", "pascal", "ritchie", "shannon", "thompson", "turing",
    "wozniak", "yonath", "zuse",
  };

  return g_strdup_printf ("%s_%s", left[g_random_int_range (0, G_N_ELEMENTS (left))],
                          right[g_random_int_range (0, G_N_ELEMENTS (right))]);
}

static gboolean
take_name (const HutchContext *ctx, HutchContainer *c, const char *asked, GError **error)
{
  if (asked != NULL)
    {
      c->name = g_strdup (asked);
      return hutch_container_name_reserve (ctx, asked, c->id, error);
    }
  for (guint tries = 0;; tries++)
    {
      g_autoptr (GError) local = NULL;
      g_autofree char *name = generate_name ();
      if (tries >= 10)
        name = g_strdup_printf ("%s_%u", (char *) g_steal_pointer (&name), g_random_int_range (1, 100000));
      if (hutch_container_name_reserve (ctx, name, c->id, &local))
        {
          c->name = g_steal_pointer (&name);
          return TRUE;
        }
      if (!g_error_matches (local, HUTCH_ERROR, HUTCH_ERROR_BUSY) || tries > 50)
        return g_propagate_error (error, g_steal_pointer (&local)), FALSE;
    }
}

static gboolean
make_spec (HutchContext *ctx, const HutchRunOptions *o, HutchStoreImage *image, const HutchIdMap *map,
           HutchContainer *c, HutchSandboxSpec *spec, int *volumes_lock, GPtrArray *made,
           GError **error)
{
  g_autoptr (GPtrArray) chains = hutch_store_chain_ids (image->config);
  const char *wd = hutch_image_config_get_string (image->config, "WorkingDir");
  const char *user = hutch_image_config_get_string (image->config, "User");

  if (chains->len == 0)
    {
      /* An image of no layers (build's FROM scratch): an empty directory
       * of the container's own as the one lower layer overlayfs needs. */
      g_autofree char *dir = hutch_container_dir (ctx, c->id);
      spec->lowerdirs = g_new0 (char *, 2);
      spec->lowerdirs[0] = g_build_filename (dir, "empty", NULL);
      if (g_mkdir (spec->lowerdirs[0], 0755) < 0)
        return hutch_throw_errno (error, "making %s", spec->lowerdirs[0]);
    }
  else
    spec->lowerdirs = g_new0 (char *, chains->len + 1);
  for (guint i = 0; i < chains->len; i++)
    spec->lowerdirs[chains->len - 1 - i] = hutch_store_layer_diff_path (ctx->root, chains->pdata[i], map);
  spec->hostname = g_strdup (o->hostname != NULL ? o->hostname : (const char *) c->id);
  if (o->hostname == NULL)
    spec->hostname[12] = '\0';
  spec->cwd = g_strdup (o->workdir != NULL ? o->workdir : wd != NULL && *wd != '\0' ? wd : "/");
  spec->user = g_strdup (o->user != NULL ? o->user : user);
  spec->idmap = map;
  spec->driver = o->driver;
  spec->driver_forced = o->driver_forced;
  spec->network_host = o->net.mode == HUTCH_NET_HOST;
  spec->read_only = o->read_only;
  spec->init = o->init;
  spec->seccomp = !o->no_seccomp && !o->privileged;
  spec->tty = o->tty;
  spec->input = o->interactive;
  return hutch_sandbox_caps_compute (o->cap_add, o->cap_drop, o->privileged, &spec->caps, error)
         && parse_mounts (ctx, spec, o, volumes_lock, made, error)
         && hutch_container_run_flags_apply (o, spec, error)
         && (spec->argv = make_argv (o, image->config, error)) != NULL
         && (spec->env = make_env (o, image->config, spec->hostname, error)) != NULL;
}

/* containers/@id, held (hutch_container_dir_hold()) until its record is
 * written: a directory without hutch.json that no one holds is a killed
 * create's, which the next sweep removes. Its making is under the making
 * lock (shared), so that a sweep never sees it before it is held. */
static int
make_dir (const HutchContext *ctx, const char *id, GError **error)
{
  g_autofree char *containers = g_build_filename (ctx->root, "containers", NULL);
  hutch_autofd int dfd = -1;
  hutch_autofd int making = -1;

  if (g_mkdir_with_parents (containers, 0700) < 0
      || (dfd = open (containers, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
    return hutch_throw_errno (error, "making %s", containers), -1;
  if (!hutch_util_check_private_fd (dfd, containers, error))
    return -1;
  if ((making = hutch_container_making_lock (dfd, FALSE, error)) < 0)
    return -1;
  if (mkdirat (dfd, id, 0700) < 0)
    return hutch_throw_errno (error, "making the container directory %s/%s", containers, id), -1;
  return hutch_container_dir_hold (dfd, id, TRUE, error);
}

/* The image is looked up and the record written under the store lock
 * (shared): `rmi` and `system prune`, which take it exclusive, see either
 * no such container and an image that is still there, or its record. */
HutchContainer *
hutch_container_create (HutchContext *ctx, const HutchRunOptions *o, GError **error)
{
  g_autoptr (HutchIdMap) map = hutch_container_idmap_new_for_mode (o->userns, error);
  g_autoptr (HutchStore) store = NULL;
  g_autoptr (HutchStoreImage) image = NULL;
  g_autoptr (HutchContainer) c = g_new0 (HutchContainer, 1);
  g_autofree char *dir = NULL;
  hutch_autofd int held = -1;
  hutch_autofd int volumes_lock = -1;
  g_autoptr (GPtrArray) made = g_ptr_array_new_with_free_func (g_free);
  HutchSandboxSpec spec = { .cleanup_fd = -1 };
  HutchNetConfig net;
  const char *stop;
  gboolean ok;

  if (map == NULL
      || (o->hostname != NULL && !hutch_container_hostname_validate (o->hostname, error))
      || !hutch_container_user_validate ("-u", o->user, map, error)
      || !hutch_container_workdir_validate ("-w", o->workdir, error)
      || !hutch_container_run_flags_validate (o, error)
      || !hutch_container_limits_usable (&o->limits, error)
      || (store = hutch_store_open (ctx->root, TRUE, error)) == NULL
      || (image = hutch_store_image_lookup (store, o->image, NULL, error)) == NULL
      || !hutch_store_layers_ensure (store, image->manifest, image->config, map, o->image,
                                     G_GUINT64_CONSTANT (64) << 30, NULL, error))
    return NULL;
  if (o->net.mode != HUTCH_NET_SLIRP && (o->net.ports->len > 0 || o->publish_all))
    return hutch_throw (error, HUTCH_ERROR_USAGE,
                        "-p needs --network slirp (the default): with --network %s the container has %s",
                        o->net.mode == HUTCH_NET_HOST ? "host" : "none",
                        o->net.mode == HUTCH_NET_HOST ? "the host's ports already" : "no network"),
           NULL;
  hutch_net_config_copy (&net, &o->net);
  c->id = new_id ();
  c->image = g_strdup (o->image);
  c->image_id = g_strdup (image->manifest->config->digest);
  c->created = g_get_real_time ();
  c->status = HUTCH_CONTAINER_CREATED;
  c->auto_remove = o->rm;
  c->network = g_strdup (o->network);
  c->tty = o->tty;
  c->log = o->log;
  c->restart = o->restart;
  c->userns = o->userns;
  hutch_log_config_resolve (&c->log);
  stop = o->stop_signal != NULL ? o->stop_signal
                                : hutch_image_config_get_string (image->config, "StopSignal");
  c->stop_signal = stop != NULL && *stop != '\0' ? g_strdup (stop) : NULL;
  c->stop_timeout = o->stop_timeout;
  c->labels = g_strdupv (o->labels);
  c->extra_hosts = g_strdupv (o->extra_hosts);
  c->dns = g_strdupv (o->dns);
  c->dns_search = g_strdupv (o->dns_search);
  c->dns_options = g_strdupv (o->dns_options);
  c->allow_hosts = g_strdupv (o->allow_hosts);
  dir = hutch_container_dir (ctx, c->id);
  /* what killed commands left, before a name is taken */
  hutch_container_sweep (ctx);
  if ((held = make_dir (ctx, c->id, error)) < 0)
    {
      hutch_net_config_clear (&net);
      hutch_container_nospace_explain (ctx, error);
      return NULL;
    }
  ok = take_name (ctx, c, o->name, error);
  if (ok && o->publish_all)
    ok = add_exposed_ports (&net, image->config, error);
  for (char **e = o->expose; ok && o->publish_all && e != NULL && *e != NULL; e++)
    ok = hutch_net_config_add_port (&net, *e, error)
         || (g_prefix_error (error, "--expose %s: ", *e), FALSE);
  if (ok)
    {
      c->ports = g_array_copy (net.ports);
      c->bound = g_array_new (FALSE, TRUE, sizeof (HutchNetPort));
      ok = make_spec (ctx, o, image, map, c, &spec, &volumes_lock, made, error)
           && (o->userns != HUTCH_USERNS_KEEP_ID
               || hutch_container_keep_id_prepare (dir, &spec, o->user != NULL, o->read_only,
                                                   error));
    }
  if (ok)
    {
      c->command = g_strdupv (spec.argv);
      ok = (g_mkdir (spec.upperdir = g_build_filename (dir, "upper", NULL), 0755) == 0
            && g_mkdir (spec.workdir = g_build_filename (dir, "work", NULL), 0700) == 0
            && g_mkdir (spec.rootfs = g_build_filename (dir, "rootfs", NULL), 0755) == 0)
           || hutch_throw_errno (error, "making the container directory %s", dir);
      ok = ok && (o->userns != HUTCH_USERNS_KEEP_ID || hutch_container_keep_id_own_root (map, dir, error));
    }
  ok = ok && hutch_container_spec_write (dir, &spec, &o->limits, !o->rm, error)
       && hutch_container_health_config_write (dir, o, image->config, error)
       && hutch_container_save (ctx, c, error)
       && (o->cidfile == NULL || write_cidfile (o->cidfile, c->id, error));
  spec.idmap = NULL;
  hutch_container_spec_clear (&spec);
  hutch_net_config_clear (&net);
  if (!ok)
    {
      g_autoptr (GError) local = NULL;
      hutch_container_nospace_explain (ctx, error);
      if (!hutch_container_discard (ctx, c, &local))
        g_warning ("%s", local->message);
      /* the anonymous volumes made for it (named ones stay, as docker's) */
      hutch_fd_clear (&volumes_lock);
      g_ptr_array_add (made, NULL);
      hutch_container_volumes_drop (ctx, (char **) made->pdata);
      return NULL;
    }
  hutch_event_record (ctx, c->created, "container", "create", c->id, c->name, c->image, NULL);
  return g_steal_pointer (&c);
}
