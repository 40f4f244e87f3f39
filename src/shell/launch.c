/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* hutch shell: the plan over the host (what is read-only, under an overlay,
 * hidden, written through), the sandbox spec made of it, and the run, or
 * the join of a session whose shell runs. The sandbox (sandbox/) does the
 * namespaces, mounts, capabilities and seccomp exactly as for `run`; the
 * network, with an allow-list when one is given, is net/'s. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <poll.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/stat.h>
#include <unistd.h>

#include "shell-private.h"

extern char **environ;

typedef struct
{
  HutchShellSession *session;
  GPtrArray *early;  /* of HutchSandboxMount: /tmp, /run and the overlays, by the outer child */
  GPtrArray *mounts; /* of HutchSandboxMount: the rest, by pid 1 */
  GPtrArray *env;    /* NULL-terminated at the end */
  HutchSandboxHooks hooks;
  /* a second `hutch shell` of the session asks here for the namespaces
   * (pid 1 itself, root of them and not dumpable, is not open to it) */
  int listen_fd;
  guint listen_idx;
  int ns[HUTCH_SANDBOX_N_NS];
} Plan;

/* @path is @top or below it. */
static gboolean
path_under (const char *path, const char *top)
{
  gsize n = strlen (top);

  if (strcmp (top, "/") == 0)
    return TRUE;
  return strncmp (path, top, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

static HutchSandboxMount *
mount_new (const char *source, const char *target)
{
  HutchSandboxMount *m = g_new0 (HutchSandboxMount, 1);

  m->source = g_strdup (source);
  m->target = g_strdup (target);
  return m;
}

static void
add_tmpfs (Plan *p, const char *target, const char *data)
{
  HutchSandboxMount *m = mount_new (NULL, target);

  m->flags = MS_NOSUID | MS_NODEV;
  m->data = g_strdup (data);
  g_ptr_array_add (p->early, m);
}

static void
add_hide (Plan *p, const char *target)
{
  HutchSandboxMount *m = mount_new (NULL, target);

  m->hide = TRUE;
  g_ptr_array_add (p->mounts, m);
}

/* An absolute, canonical form of what the user typed; it must exist. */
static char *
host_path (const char *flag, const char *text, GError **error)
{
  g_autofree char *abs = g_canonicalize_filename (text, NULL);
  char *real = realpath (abs, NULL);

  if (real == NULL)
    return hutch_throw (error, HUTCH_ERROR_USAGE, "%s %s: %s", flag, text, g_strerror (errno)),
           NULL;
  return real;
}

/* -w: only the user's own files, under the home or working directory. */
static gboolean
writable_check (const char *text, const char *real, const char *cwd, GError **error)
{
  struct stat st;
  const char *home = g_get_home_dir ();

  if (lstat (real, &st) < 0)
    return hutch_throw (error, HUTCH_ERROR_USAGE, "-w %s: %s", text, g_strerror (errno));
  if (st.st_uid != getuid () || (!path_under (real, home) && !path_under (real, cwd))
      || strcmp (real, "/") == 0)
    return hutch_throw (error, HUTCH_ERROR_USAGE,
                        "-w %s: only your own files under your home (%s) or the working directory "
                        "(%s) can be made writable, and %s is %s",
                        text, home, cwd, real,
                        st.st_uid != getuid () ? "owned by someone else" : "outside both");
  return TRUE;
}

/* The session's overlays: its recorded paths, and the home and working
 * directories when they are not among them yet. */
static gboolean
plan_overlays (Plan *p, const char *cwd, gboolean *out_changed)
{
  HutchShellSession *s = p->session;
  g_autoptr (GPtrArray) paths = g_ptr_array_new_with_free_func (g_free);
  const char *want[] = { g_get_home_dir (), cwd };
  struct stat st;

  for (char **q = s->paths; q != NULL && *q != NULL; q++)
    g_ptr_array_add (paths, g_strdup (*q));
  for (gsize i = 0; i < G_N_ELEMENTS (want); i++)
    {
      gboolean covered = FALSE;
      g_autofree char *real = realpath (want[i], NULL);
      if (real == NULL || strcmp (real, "/") == 0 || stat (real, &st) < 0 || !S_ISDIR (st.st_mode)
          || st.st_uid != getuid ())
        continue; /* not the user's: read-only, as the rest of the host */
      for (guint j = 0; j < paths->len && !covered; j++)
        covered = path_under (real, paths->pdata[j]);
      if (!covered)
        {
          g_ptr_array_add (paths, g_steal_pointer (&real));
          *out_changed = TRUE;
        }
    }
  for (guint i = 0; i < paths->len; i++)
    {
      HutchSandboxMount *m = mount_new (paths->pdata[i], paths->pdata[i]);
      m->overlay = TRUE;
      m->keep_overlay = TRUE;
      m->overlay_dir = g_strdup_printf ("%s/ov/%u", s->dir, i);
      g_ptr_array_add (p->early, m);
    }
  g_ptr_array_add (paths, NULL);
  g_strfreev (s->paths);
  s->paths = (char **) g_ptr_array_free (g_steal_pointer (&paths), FALSE);
  return TRUE;
}

static gboolean
in_list (GPtrArray *list, const char *path)
{
  for (guint i = 0; i < list->len; i++)
    if (strcmp (list->pdata[i], path) == 0)
      return TRUE;
  return FALSE;
}

/* The mounts over the read-only host, in the order they are made: what
 * hides the host's sockets, the overlays, the secrets hidden, then what
 * the user opened on purpose. */
static gboolean
plan_mounts (Plan *p, HutchContext *ctx, const HutchShellOptions *o, const char *cwd,
             gboolean *out_changed, GError **error)
{
  g_autoptr (GPtrArray) hide = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GPtrArray) show = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GPtrArray) ro = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GPtrArray) rw = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GPtrArray) drop = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *conf = hutch_shell_config_path ();
  g_autofree char *runtime_dir = g_strdup_printf ("/run/user/%u", (unsigned) getuid ());
  g_autofree char *runtime_data = g_strdup_printf ("mode=0700,uid=%u,gid=%u,size=65536k",
                                                   (unsigned) getuid (), (unsigned) getgid ());
  struct stat st;

  if (!hutch_shell_config_read (conf, hide, show, ro, rw, drop, error))
    return FALSE;
  for (const char *const *h = hutch_shell_default_hidden (); *h != NULL; h++)
    {
      g_autofree char *path = g_build_filename (g_get_home_dir (), *h, NULL);
      if (!in_list (show, path) && !in_list (hide, path))
        g_ptr_array_add (hide, g_steal_pointer (&path));
    }
  /* hutch's own store: the sessions' writes and every container's files */
  g_ptr_array_add (hide, g_strdup (ctx->root));
  for (char **q = o->hide; q != NULL && *q != NULL; q++)
    {
      g_autofree char *abs = g_canonicalize_filename (*q, NULL);
      g_ptr_array_add (hide, g_steal_pointer (&abs));
    }
  for (char **q = o->readonly; q != NULL && *q != NULL; q++)
    {
      char *real = host_path ("--ro", *q, error);
      if (real == NULL)
        return FALSE;
      g_ptr_array_add (ro, real);
    }
  for (char **q = o->writable; q != NULL && *q != NULL; q++)
    {
      char *real = host_path ("-w", *q, error);
      if (real == NULL)
        return FALSE;
      g_ptr_array_add (rw, real);
    }
  for (guint i = 0; i < rw->len; i++)
    if (!writable_check (rw->pdata[i], rw->pdata[i], cwd, error))
      return FALSE;

  /* a private /tmp (the X11 sockets with it), and /run without the
   * host's sockets (D-Bus, the user's session bus, agents, snapd): an
   * empty tmpfs, the resolver's files bound back */
  add_tmpfs (p, "/tmp", "mode=1777,size=50%");
  add_tmpfs (p, "/run", "mode=0755,size=65536k");
  if (stat ("/run/systemd/resolve", &st) == 0 && S_ISDIR (st.st_mode))
    {
      HutchSandboxMount *m = mount_new ("/run/systemd/resolve", "/run/systemd/resolve");
      m->readonly = TRUE;
      g_ptr_array_add (p->early, m);
    }
  add_tmpfs (p, runtime_dir, runtime_data);
  if (!plan_overlays (p, cwd, out_changed))
    return FALSE;
  /* (what is not on the host has nothing to hide: no mount for it) */
  for (guint i = 0; i < hide->len; i++)
    if (lstat (hide->pdata[i], &st) == 0)
      add_hide (p, hide->pdata[i]);
  for (guint i = 0; i < ro->len; i++)
    {
      HutchSandboxMount *m = mount_new (ro->pdata[i], ro->pdata[i]);
      m->readonly = TRUE;
      g_ptr_array_add (p->mounts, m);
    }
  for (guint i = 0; i < rw->len; i++)
    g_ptr_array_add (p->mounts, mount_new (rw->pdata[i], rw->pdata[i]));
  for (char **q = o->allow_socket; q != NULL && *q != NULL; q++)
    {
      g_autofree char *real = host_path ("--allow-socket", *q, error);
      if (real == NULL)
        return FALSE;
      if (stat (real, &st) < 0 || !S_ISSOCK (st.st_mode))
        return hutch_throw (error, HUTCH_ERROR_USAGE, "--allow-socket %s: not a unix socket", *q);
      g_ptr_array_add (p->mounts, mount_new (real, real));
    }
  /* the environment: the caller's, less what looks like a secret */
  for (char **e = environ; *e != NULL; e++)
    {
      g_autofree char *name = g_strndup (*e, strcspn (*e, "="));
      gboolean secret = hutch_shell_env_is_secret (name);
      for (guint i = 0; !secret && i < drop->len; i++)
        secret = g_pattern_match_simple (drop->pdata[i], name);
      if (!secret && !g_str_has_prefix (name, "HUTCH_"))
        g_ptr_array_add (p->env, g_strdup (*e));
    }
  for (char **q = o->env; q != NULL && *q != NULL; q++)
    {
      const char *value = strchr (*q, '=') != NULL ? NULL : g_getenv (*q);
      if (strchr (*q, '=') != NULL)
        g_ptr_array_add (p->env, g_strdup (*q));
      else if (value != NULL)
        g_ptr_array_add (p->env, g_strdup_printf ("%s=%s", *q, value));
    }
  g_ptr_array_add (p->env, g_strdup_printf ("HUTCH_SHELL=%s", p->session->name));
  g_ptr_array_add (p->env, NULL);
  return TRUE;
}

/* The running shell's pid 1, for a second `hutch shell` to join. */
static void
shell_started (gpointer data, pid_t init, const int *ns)
{
  Plan *p = data;
  guint64 start = 0;
  g_autofree char *path = g_build_filename (p->session->dir, "state", NULL);
  g_autofree char *text = NULL;

  for (guint i = 0; i < HUTCH_SANDBOX_N_NS; i++)
    p->ns[i] = fcntl (ns[i], F_DUPFD_CLOEXEC, 3);
  (void) hutch_util_pid_start_time (init, &start);
  text = g_strdup_printf ("%d %" G_GUINT64_FORMAT "\n", (int) init, start);
  (void) hutch_util_replace_file (path, text, strlen (text), 0600, FALSE, NULL);
}

/* STATE_DIR/ctl, bound through the directory's fd: short whatever the
 * store's path. */
static gboolean
ctl_address (int dir_fd, struct sockaddr_un *addr)
{
  memset (addr, 0, sizeof *addr);
  addr->sun_family = AF_UNIX;
  return g_snprintf (addr->sun_path, sizeof addr->sun_path, "/proc/self/fd/%d/ctl", dir_fd)
         < (int) sizeof addr->sun_path;
}

static int
ctl_listen (const HutchShellSession *s, GError **error)
{
  hutch_autofd int dir = open (s->dir, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  hutch_autofd int fd = socket (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  struct sockaddr_un addr;

  if (dir < 0 || fd < 0 || !ctl_address (dir, &addr))
    return hutch_throw_errno (error, "making session %s's socket", s->name), -1;
  (void) unlinkat (dir, "ctl", 0);
  if (bind (fd, (struct sockaddr *) &addr, sizeof addr) < 0 || listen (fd, 8) < 0)
    return hutch_throw_errno (error, "making session %s's socket", s->name), -1;
  return g_steal_fd (&fd);
}

static void
ctl_prepare (gpointer data, GArray *fds, int *timeout_ms)
{
  Plan *p = data;
  struct pollfd pfd = { p->listen_fd, POLLIN, 0 };

  (void) timeout_ms;
  p->listen_idx = fds->len;
  g_array_append_val (fds, pfd);
}

static void
ctl_dispatch (gpointer data, GArray *fds)
{
  Plan *p = data;
  struct ucred cred;
  socklen_t len = sizeof cred;
  hutch_autofd int conn = -1;

  if (!(g_array_index (fds, struct pollfd, p->listen_idx).revents & POLLIN))
    return;
  conn = accept4 (p->listen_fd, NULL, NULL, SOCK_CLOEXEC);
  if (conn < 0)
    return;
  /* (the directory is the user's alone; and so must the asker be) */
  if (getsockopt (conn, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 || cred.uid != getuid ()
      || p->ns[0] < 0)
    (void) hutch_util_send_fds (conn, 'E', NULL, 0);
  else
    (void) hutch_util_send_fds (conn, 'N', p->ns, HUTCH_SANDBOX_N_NS);
}

static char **
shell_argv (const HutchShellOptions *o)
{
  const char *sh = g_getenv ("SHELL");

  if (o->argv != NULL && o->argv[0] != NULL)
    return g_strdupv (o->argv);
  if (sh == NULL || *sh != '/' || access (sh, X_OK) < 0)
    sh = "/bin/sh";
  return g_strsplit (sh, "\n", 1); /* { sh, NULL } */
}

/* Enters the namespaces of the session's running shell, which its
 * monitor hands over on the session's socket. */
static gboolean
join (const HutchShellSession *s, HutchSandboxSpec *spec, HutchSandboxResult *result,
      GError **error)
{
  int ns[HUTCH_SANDBOX_N_NS];
  hutch_autofd int dir = open (s->dir, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  hutch_autofd int fd = socket (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  struct sockaddr_un addr;
  char tag = 0;
  int n;
  gboolean ok;

  for (guint i = 0; i < HUTCH_SANDBOX_N_NS; i++)
    ns[i] = -1;
  if (dir < 0 || fd < 0 || !ctl_address (dir, &addr)
      || connect (fd, (struct sockaddr *) &addr, sizeof addr) < 0)
    return hutch_throw (error, HUTCH_ERROR_BUSY,
                        "shell session %s is running, but its shell did not answer (%s): try "
                        "again in a moment",
                        s->name, g_strerror (errno));
  n = hutch_util_recv_fds (fd, &tag, ns, HUTCH_SANDBOX_N_NS);
  if (n != HUTCH_SANDBOX_N_NS || tag != 'N')
    {
      for (int i = 0; i < n; i++)
        close (ns[i]);
      return hutch_throw (error, HUTCH_ERROR_BUSY,
                          "shell session %s is starting or ending: try again in a moment", s->name);
    }
  ok = hutch_sandbox_exec (spec, ns, FALSE, result, error);
  for (guint i = 0; i < HUTCH_SANDBOX_N_NS; i++)
    hutch_fd_clear (&ns[i]);
  return ok;
}

static gboolean
session_open (HutchContext *ctx, const HutchShellOptions *o, HutchShellSession **out,
              gboolean *out_new, GError **error)
{
  g_autofree char *name = o->name != NULL ? g_strdup (o->name)
                                          : g_strdup_printf ("shell-%06x", g_random_int () & 0xffffff);
  g_autoptr (GError) local = NULL;
  HutchShellSession *s;

  if (!hutch_shell_name_validate (name, error))
    return FALSE;
  s = hutch_shell_session_load (ctx->root, name, &local);
  if (s == NULL && !g_error_matches (local, HUTCH_ERROR, HUTCH_ERROR_NOT_FOUND))
    return (g_propagate_error (error, g_steal_pointer (&local)), FALSE);
  if (s == NULL)
    {
      g_autofree char *shells = g_build_filename (ctx->root, "shells", NULL);
      s = g_new0 (HutchShellSession, 1);
      s->name = g_steal_pointer (&name);
      s->dir = hutch_shell_dir (ctx->root, s->name);
      s->created = g_get_real_time () / G_USEC_PER_SEC;
      s->since_ns = hutch_shell_now_ns ();
      s->paths = g_new0 (char *, 1);
      *out_new = TRUE;
      if ((g_mkdir_with_parents (shells, 0700) < 0 || mkdir (s->dir, 0700) < 0) && errno != EEXIST)
        {
          hutch_throw_errno (error, "making %s", s->dir);
          hutch_shell_session_free (s);
          return FALSE;
        }
    }
  *out = s;
  return TRUE;
}

/* The network: none, all through slirp, or slirp with the allow-list. */
static gboolean
network_prepare (const HutchShellOptions *o, HutchShellSession *s, HutchNetConfig *cfg,
                 HutchSandboxSpec *spec, GError **error)
{
  g_autofree char *resolv = NULL, *host_resolv = NULL;
  const char *mode = o->network != NULL ? o->network
                     : o->allow_host != NULL && o->allow_host[0] != NULL ? "slirp"
                                                                          : "none";

  hutch_net_config_init (cfg);
  if (strcmp (mode, "host") == 0)
    return hutch_throw (error, HUTCH_ERROR_USAGE,
                        "--network host: a shell has none, slirp, or an --allow-host list");
  if (!hutch_net_config_parse_mode (cfg, mode, error))
    return FALSE;
  cfg->explicit_mode = TRUE;
  for (char **a = o->allow_host; a != NULL && *a != NULL; a++)
    {
      if (cfg->mode != HUTCH_NET_SLIRP)
        return hutch_throw (error, HUTCH_ERROR_USAGE,
                            "--allow-host needs the slirp network, not --network %s", mode);
      if (!hutch_net_config_add_allow (cfg, *a, error))
        return FALSE;
    }
  if (cfg->mode != HUTCH_NET_SLIRP)
    return TRUE;
  cfg->egress_log = g_build_filename (s->dir, "egress.log", NULL);
  host_resolv = hutch_util_read_host_file ("/etc/resolv.conf", 1 << 20, NULL);
  hutch_net_config_read_resolv (cfg, host_resolv);
  resolv = hutch_net_resolv_conf_text (cfg, NULL, NULL, NULL);
  spec->resolv_file = g_build_filename (s->dir, "resolv.conf", NULL);
  return hutch_util_replace_file (spec->resolv_file, resolv, strlen (resolv), 0644, FALSE, error);
}

gboolean
hutch_shell_run (HutchContext *ctx, const HutchShellOptions *o, HutchSandboxResult *result,
                 char **out_name, gboolean *out_joined, GError **error)
{
  g_autoptr (HutchShellSession) s = NULL;
  g_autoptr (HutchIdMap) map = NULL;
  g_autoptr (GPtrArray) mounts = g_ptr_array_new_with_free_func ((GDestroyNotify) hutch_sandbox_mount_free);
  g_autoptr (GPtrArray) early = g_ptr_array_new_with_free_func ((GDestroyNotify) hutch_sandbox_mount_free);
  g_autoptr (GPtrArray) env = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *cwd = g_get_current_dir ();
  g_autofree char *rootfs = NULL, *user = NULL, *state = NULL;
  g_auto (GStrv) argv = shell_argv (o);
  g_autoptr (HutchNet) slirp = NULL;
  HutchNetConfig net = { 0 };
  HutchSandboxNet net_hooks = { 0 };
  HutchSandboxSpec spec = { .cleanup_fd = -1, .userns_fd = -1 };
  Plan p = { NULL, early, mounts, env, { { 0 } }, -1, 0, { -1, -1, -1, -1, -1, -1, -1 } };
  hutch_autofd int lock = -1;
  pid_t init = 0;
  guint64 start = 0;
  gboolean changed = FALSE, ok;

  memset (result, 0, sizeof *result);
  if (!session_open (ctx, o, &s, &changed, error))
    return FALSE;
  p.session = s;
  *out_name = g_strdup (s->name);
  /* the user alone, at its own id: no setuid helper to run, and every
   * file the session writes (whiteouts too) is the user's */
  map = g_new0 (HutchIdMap, 1);
  map->uid = getuid ();
  map->gid = getgid ();
  map->single = TRUE;
  hutch_sandbox_idmap_set_keep_id (map);
  user = g_strdup_printf ("%u:%u", (unsigned) getuid (), (unsigned) getgid ());
  spec.idmap = map;
  spec.argv = argv;
  spec.cwd = cwd;
  spec.user = user;
  spec.caps = 0;
  spec.seccomp = TRUE;
  spec.init = TRUE;
  spec.tty = spec.input = isatty (STDIN_FILENO) && isatty (STDOUT_FILENO);
  if (!spec.tty)
    spec.input = TRUE;
  if (hutch_shell_session_running (s, &init, &start))
    {
      if (o->writable != NULL || o->readonly != NULL || o->hide != NULL || o->allow_host != NULL
          || o->allow_socket != NULL || o->network != NULL)
        return hutch_throw (error, HUTCH_ERROR_USAGE,
                            "shell session %s is running: its mounts and network are set; join it "
                            "without -w, --ro, --hide, --network, --allow-host or --allow-socket",
                            s->name);
      if (!plan_mounts (&p, ctx, o, cwd, &changed, error))
        return FALSE;
      spec.env = (char **) env->pdata;
      *out_joined = TRUE;
      return join (s, &spec, result, error);
    }
  if ((lock = hutch_shell_lock_open (s, error)) < 0)
    return FALSE;
  if (flock (lock, LOCK_EX | LOCK_NB) < 0)
    return hutch_throw (error, HUTCH_ERROR_BUSY,
                        "shell session %s is starting in another terminal: try again", s->name);
  if (!plan_mounts (&p, ctx, o, cwd, &changed, error) || !network_prepare (o, s, &net, &spec, error)
      || (changed && !hutch_shell_session_save (s, error)))
    {
      hutch_net_config_clear (&net);
      return FALSE;
    }
  rootfs = g_build_filename (s->dir, "rootfs", NULL);
  if (mkdir (rootfs, 0700) < 0 && errno != EEXIST)
    {
      hutch_net_config_clear (&net);
      return hutch_throw_errno (error, "making %s", rootfs);
    }
  spec.host_root = TRUE;
  spec.rootfs = rootfs;
  spec.hostname = (char *) g_get_host_name ();
  spec.mounts = mounts;
  spec.early_mounts = early;
  if (o->overlay_driver != NULL && strcmp (o->overlay_driver, "overlay") != 0)
    {
      spec.driver = HUTCH_ROOTFS_FUSE_OVERLAYFS;
      spec.driver_forced = TRUE;
    }
  spec.env = (char **) env->pdata;
  if ((p.listen_fd = ctl_listen (s, error)) < 0)
    {
      hutch_net_config_clear (&net);
      return FALSE;
    }
  p.hooks.started = shell_started;
  p.hooks.poll = (HutchSandboxPoll) { ctl_prepare, ctl_dispatch, &p };
  p.hooks.data = &p;
  spec.hooks = &p.hooks;
  ok = TRUE;
  if (net.mode == HUTCH_NET_SLIRP)
    {
      ok = (slirp = hutch_net_new (&net, error)) != NULL;
      hutch_net_sandbox_hooks (slirp, &net_hooks);
      spec.net = &net_hooks;
    }
  if (ok)
    ok = hutch_sandbox_run (&spec, result, error);
  state = g_build_filename (s->dir, "state", NULL);
  (void) unlink (state);
  g_free (state);
  state = g_build_filename (s->dir, "ctl", NULL);
  (void) unlink (state);
  hutch_fd_clear (&p.listen_fd);
  for (guint i = 0; i < HUTCH_SANDBOX_N_NS; i++)
    hutch_fd_clear (&p.ns[i]);
  g_clear_pointer (&slirp, hutch_net_free);
  hutch_net_config_clear (&net);
  g_free (spec.resolv_file);
  return ok;
}
