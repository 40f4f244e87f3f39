/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* When hutch's own cgroup is not delegated but a systemd user manager
 * answers on the session bus, limits need a cgroup from it: hutch asks the
 * manager over D-Bus (GDBus) for a transient scope with Delegate=yes that
 * holds hutch itself, as crun and podman do, waits for the job, and goes
 * on there as on any delegated host.
 *
 * The asking is done by a forked child that loads GIO with dlopen(): GIO
 * needs the shared GLib while hutch carries a static one (meson.build),
 * and GDBus starts a worker thread that never ends, where hutch must stay
 * single-threaded to make user namespaces later (unshare(CLONE_NEWUSER)
 * refuses a threaded caller). The child names its parent in the scope's
 * PIDs, waits for the manager's JobRemoved, says how it went on a pipe and
 * exits. Nothing of the shared GLib meets ours: every GIO and GVariant
 * call below goes through the pointers dlsym() gave. */
#include "config.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <gio/gio.h>

#include "cgroup.h"

#define CGROUP_ROOT "/sys/fs/cgroup"
#define SYSTEMD_NAME "org.freedesktop.systemd1"
#define SYSTEMD_PATH "/org/freedesktop/systemd1"
#define SYSTEMD_MANAGER "org.freedesktop.systemd1.Manager"
#define JOB_TIMEOUT_S 30

typedef struct
{
  GDBusConnection *(*connect) (const gchar *address, GDBusConnectionFlags flags,
                               GDBusAuthObserver *observer, GCancellable *cancellable,
                               GError **error);
  GVariant *(*call_sync) (GDBusConnection *c, const gchar *bus_name, const gchar *object_path,
                          const gchar *interface_name, const gchar *method_name,
                          GVariant *parameters, const GVariantType *reply_type,
                          GDBusCallFlags flags, gint timeout_msec, GCancellable *cancellable,
                          GError **error);
  guint (*subscribe) (GDBusConnection *c, const gchar *sender, const gchar *interface_name,
                      const gchar *member, const gchar *object_path, const gchar *arg0,
                      GDBusSignalFlags flags, GDBusSignalCallback callback, gpointer user_data,
                      GDestroyNotify user_data_free_func);
  GVariant *(*new_parsed) (const gchar *format, ...);
  void (*get) (GVariant *value, const gchar *format, ...);
  gboolean (*iteration) (GMainContext *context, gboolean may_block);
  guint (*timeout_add_seconds) (guint interval, GSourceFunc function, gpointer data);
  gboolean (*strip_remote_error) (GError *error);
} Gio;

typedef struct
{
  const Gio *gio;
  const char *unit;
  char *result;      /* the job's result: "done", "failed", ... */
  gboolean timed_out;
} Ask;

/* Whether cgroup @own holds a process besides this one. */
static gboolean
shared (const char *own)
{
  g_autofree char *path = g_build_filename (CGROUP_ROOT, own, "cgroup.procs", NULL);
  g_autofree char *text = hutch_util_read_host_file (path, 1024 * 1024, NULL);
  g_auto (GStrv) pids = text != NULL ? g_strsplit (g_strstrip (text), "\n", -1) : NULL;
  pid_t self = getpid ();

  for (char **p = pids; p != NULL && *p != NULL; p++)
    if (**p != '\0' && (pid_t) g_ascii_strtoll (*p, NULL, 10) != self)
      return TRUE;
  return FALSE;
}

char *
hutch_cgroup_need_scope (const HutchCgroupCaps *caps, const HutchCgroupLimits *l)
{
  g_autofree char *missing = NULL;
  const char *own = caps->own_path != NULL ? caps->own_path : "/";

  if (caps->version != HUTCH_CGROUP_V2 || caps->user_bus == NULL || l->disabled
      || !hutch_cgroup_limits_any (l) || g_getenv (HUTCH_CGROUP_SCOPE_ENV) != NULL)
    return NULL;
  if (caps->delegation == HUTCH_CGROUP_DELEGATION_SYSTEMD)
    return g_strdup_printf ("cgroup %s is not yours", own);
  if (caps->delegation != HUTCH_CGROUP_DELEGATION_INHERITED)
    return NULL;
  /* ours, but of no use: a terminal's scope on a desktop */
  missing = hutch_cgroup_limits_missing (caps, l);
  if (missing != NULL)
    return g_strdup_printf ("cgroup %s, yours, has no %s controller", own, missing);
  if (shared (own))
    return g_strdup_printf ("cgroup %s, yours, also holds other processes (your shell?)", own);
  return NULL;
}

static char *
load_gio (Gio *gio)
{
  static const char *const names[] = { "g_dbus_connection_new_for_address_sync",
                                       "g_dbus_connection_call_sync",
                                       "g_dbus_connection_signal_subscribe",
                                       "g_variant_new_parsed",
                                       "g_variant_get",
                                       "g_main_context_iteration",
                                       "g_timeout_add_seconds",
                                       "g_dbus_error_strip_remote_error" };
  void **slots[] = { (void **) &gio->connect,   (void **) &gio->call_sync,
                     (void **) &gio->subscribe, (void **) &gio->new_parsed,
                     (void **) &gio->get,       (void **) &gio->iteration,
                     (void **) &gio->timeout_add_seconds, (void **) &gio->strip_remote_error };
  void *lib = dlopen ("libgio-2.0.so.0", RTLD_NOW | RTLD_LOCAL);

  if (lib == NULL)
    return g_strdup_printf ("limits here need a scope of the systemd user manager, asked for "
                            "over D-Bus with GIO, which cannot be loaded (%s): install it "
                            "(apt-get install libglib2.0-0)",
                            dlerror ());
  for (gsize i = 0; i < G_N_ELEMENTS (names); i++)
    if ((*slots[i] = dlsym (lib, names[i])) == NULL)
      return g_strdup_printf ("the GIO found has no %s: hutch needs GLib 2.74 or later", names[i]);
  return NULL;
}

/* A D-Bus address for the socket at @path: bytes outside the set the
 * specification leaves bare are %-escaped. */
static char *
bus_address (const char *path)
{
  GString *a = g_string_new ("unix:path=");

  for (const char *p = path; *p != '\0'; p++)
    if (g_ascii_isalnum (*p) || strchr ("-_/.\\*", *p) != NULL)
      g_string_append_c (a, *p);
    else
      g_string_append_printf (a, "%%%02x", (guint) (guchar) *p);
  return g_string_free (a, FALSE);
}

static void
on_job_removed (GDBusConnection *c, const gchar *sender, const gchar *path, const gchar *iface,
                const gchar *signal, GVariant *params, gpointer data)
{
  Ask *ask = data;
  guint32 id;
  const char *job, *unit, *result;

  ask->gio->get (params, "(u&o&s&s)", &id, &job, &unit, &result);
  if (strcmp (unit, ask->unit) == 0 && ask->result == NULL)
    ask->result = g_strdup (result);
}

static gboolean
on_timeout (gpointer data)
{
  ((Ask *) data)->timed_out = TRUE;
  return G_SOURCE_REMOVE;
}

/* @e belongs to the shared GLib and dies with this child; @what is ours */
static char *
remote_error (const Gio *gio, GError *e, char *what)
{
  g_autofree char *owned = what;
  gio->strip_remote_error (e);
  return g_strdup_printf ("%s: %s", owned, e->message);
}

/* The questions a child can put to the manager: each returns NULL and sets
 * *@out, or returns what went wrong. */
typedef char *(*Question) (const Gio *gio, GDBusConnection *c, gconstpointer data, char **out);

typedef struct
{
  const char *unit;
  pid_t pid;
} ScopeAsk;

/* A transient scope, ScopeAsk.unit, holding ScopeAsk.pid. */
static char *
start_scope (const Gio *gio, GDBusConnection *c, gconstpointer data, char **out)
{
  const ScopeAsk *q = data;
  Ask ask = { gio, q->unit, NULL, FALSE };
  GError *e = NULL;
  GVariant *reply;

  /* before the call, so that the job cannot end unseen */
  gio->subscribe (c, SYSTEMD_NAME, SYSTEMD_MANAGER, "JobRemoved", SYSTEMD_PATH, NULL,
                  G_DBUS_SIGNAL_FLAGS_NONE, on_job_removed, &ask, NULL);
  reply = gio->call_sync (
    c, SYSTEMD_NAME, SYSTEMD_PATH, SYSTEMD_MANAGER, "StartTransientUnit",
    gio->new_parsed ("(%s, 'fail', [('Description', <'hutch: resource limits of a container'>),"
                     " ('PIDs', <[%u]>), ('Delegate', <true>),"
                     " ('CollectMode', <'inactive-or-failed'>)], @a(sa(sv)) [])",
                     q->unit, (guint32) q->pid),
    (const GVariantType *) "(o)", G_DBUS_CALL_FLAGS_NONE, JOB_TIMEOUT_S * 1000, NULL, &e);
  if (reply == NULL)
    return remote_error (gio, e, g_strdup_printf ("the systemd user manager refused scope %s",
                                                  q->unit));
  gio->timeout_add_seconds (JOB_TIMEOUT_S, on_timeout, &ask);
  while (ask.result == NULL && !ask.timed_out)
    gio->iteration (NULL, TRUE);
  if (ask.result == NULL)
    return g_strdup_printf ("the systemd user manager did not start scope %s within %d s: see "
                            "journalctl --user -u %s",
                            q->unit, JOB_TIMEOUT_S, q->unit);
  if (strcmp (ask.result, "done") != 0)
    return g_strdup_printf ("the systemd user manager could not start scope %s (the job %s): "
                            "see journalctl --user -u %s",
                            q->unit, ask.result, q->unit);
  *out = g_strdup (q->unit);
  return NULL;
}

/* The manager's own cgroup (its ControlGroup property). */
static char *
manager_cgroup (const Gio *gio, GDBusConnection *c, gconstpointer data, char **out)
{
  GError *e = NULL;
  GVariant *value = NULL;
  const char *path = NULL;
  GVariant *reply = gio->call_sync (
    c, SYSTEMD_NAME, SYSTEMD_PATH, "org.freedesktop.DBus.Properties", "Get",
    gio->new_parsed ("(%s, 'ControlGroup')", SYSTEMD_MANAGER), (const GVariantType *) "(v)",
    G_DBUS_CALL_FLAGS_NONE, JOB_TIMEOUT_S * 1000, NULL, &e);

  if (reply == NULL)
    return remote_error (gio, e, g_strdup ("the systemd user manager does not answer"));
  gio->get (reply, "(v)", &value);
  gio->get (value, "&s", &path);
  *out = g_strdup (path);
  return NULL;
}

/* In the forked child: connects to the session bus at @bus and puts
 * @question. */
static char *
put (const char *bus, Question question, gconstpointer data, char **out)
{
  Gio gio;
  GDBusConnection *c;
  GError *e = NULL;
  g_autofree char *address = bus_address (bus);
  char *failed = load_gio (&gio);

  if (failed != NULL)
    return failed;
  c = gio.connect (address,
                   G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT
                     | G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
                   NULL, NULL, &e);
  if (c == NULL)
    return remote_error (&gio, e, g_strdup_printf ("connecting to the session bus at %s", bus));
  return question (&gio, c, data, out);
}

/* Puts @question to the manager from a forked child; its answer, or NULL
 * with @error (HUTCH_ERROR_HOST_UNSUPPORTED and what went wrong). */
static char *
ask_manager (const char *bus, Question question, gconstpointer data, GError **error)
{
  g_autofree char *said = NULL;
  int fds[2];
  int status;
  pid_t child;

  if (bus == NULL)
    return (hutch_throw (error, HUTCH_ERROR_HOST_UNSUPPORTED,
                         "no systemd user manager answers on the session bus"),
            NULL);
  if (pipe2 (fds, O_CLOEXEC) < 0)
    return (hutch_throw_errno (error, "making a pipe to ask the systemd user manager"), NULL);
  hutch_util_assert_single_thread ();
  child = fork ();
  if (child < 0)
    {
      close (fds[0]);
      close (fds[1]);
      return (hutch_throw_errno (error, "forking to ask the systemd user manager"), NULL);
    }
  if (child == 0)
    {
      /* "+answer" or "-what went wrong" */
      g_autofree char *answer = NULL;
      g_autofree char *failed = NULL;
      g_autofree char *text = NULL;
      close (fds[0]);
      failed = put (bus, question, data, &answer);
      text = g_strconcat (failed != NULL ? "-" : "+", failed != NULL ? failed : answer, NULL);
      (void) !write (fds[1], text, strlen (text));
      _exit (failed != NULL);
    }
  close (fds[1]);
  said = hutch_util_read_all (fds[0], 64 * 1024, NULL, NULL);
  close (fds[0]);
  while (waitpid (child, &status, 0) < 0 && errno == EINTR)
    ;
  if (said != NULL && said[0] == '-')
    return (hutch_throw (error, HUTCH_ERROR_HOST_UNSUPPORTED, "%s", said + 1), NULL);
  if (said == NULL || said[0] != '+' || !WIFEXITED (status) || WEXITSTATUS (status) != 0)
    return (hutch_throw (error, HUTCH_ERROR_FAILED,
                         "the process asking the systemd user manager died"),
            NULL);
  return g_strdup (said + 1);
}

static gboolean
in_unit (const char *unit)
{
  g_autofree char *text = hutch_util_read_host_file ("/proc/self/cgroup", 64 * 1024, NULL);
  g_autofree char *tail = g_strdup_printf ("/%s\n", unit);
  return text != NULL && strstr (text, tail) != NULL;
}

gboolean
hutch_cgroup_enter_scope (const char *bus, const char *why, GError **error)
{
  g_autofree char *unit = g_strdup_printf ("hutch-%d-%08x.scope", (int) getpid (), g_random_int ());
  g_autofree char *done = NULL;
  ScopeAsk q = { unit, getpid () };

  done = ask_manager (bus, start_scope, &q, error);
  if (done == NULL)
    {
      g_prefix_error (error, "limits need a scope of the systemd user manager (%s): ", why);
      return FALSE;
    }
  if (!in_unit (unit))
    return hutch_throw (error, HUTCH_ERROR_HOST_UNSUPPORTED,
                        "limits need a scope of the systemd user manager (%s); it started %s "
                        "but hutch is not in it: see journalctl --user -u %s",
                        why, unit, unit);
  g_setenv (HUTCH_CGROUP_SCOPE_ENV, unit, TRUE);
  return TRUE;
}

char *
hutch_cgroup_manager_cgroup (const char *bus, GError **error)
{
  return ask_manager (bus, manager_cgroup, NULL, error);
}
