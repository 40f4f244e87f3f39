/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The runtime's state directory: one directory per container id under
 * --root, made with mkdir (so two creates of one id cannot both win),
 * holding state.json (ours: the runtime-spec state plus the process's start
 * time, so a reused pid is never taken for it), the exec fifo until start,
 * and a copy of config.json for the later hooks. The status is never
 * stored: it is read from the process and the fifo each time. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "oci-private.h"

static const char *const status_names[] = { "creating", "created", "running", "stopped" };

const char *
hutch_oci_status_name (HutchOciStatus s)
{
  return status_names[s];
}

char *
hutch_oci_default_root (void)
{
  const char *xdg = g_getenv ("XDG_RUNTIME_DIR");

  if (geteuid () == 0 && (xdg == NULL || *xdg == '\0'))
    return g_strdup ("/run/hutch-runtime");
  if (xdg != NULL && *xdg != '\0' && access (xdg, W_OK) == 0)
    return g_build_filename (xdg, "hutch-runtime", NULL);
  return g_strdup_printf ("/tmp/hutch-runtime-%u", (unsigned) geteuid ());
}

gboolean
hutch_oci_id_validate (const char *id, GError **error)
{
  if (id == NULL || *id == '\0')
    return hutch_throw (error, HUTCH_ERROR_USAGE, "container id cannot be empty");
  if (strchr (id, '/') != NULL || strcmp (id, ".") == 0 || strcmp (id, "..") == 0
      || strlen (id) > 1024)
    return hutch_throw (error, HUTCH_ERROR_USAGE, "invalid container id \"%s\" (no '/', not . or ..)",
                        id);
  return TRUE;
}

static char *
root_of (const HutchOciContext *ctx)
{
  return ctx->root != NULL ? g_strdup (ctx->root) : hutch_oci_default_root ();
}

char *
hutch_oci_state_dir (const HutchOciContext *ctx, const char *id, gboolean create, GError **error)
{
  g_autofree char *root = root_of (ctx);
  g_autofree char *dir = NULL;

  if (!hutch_oci_id_validate (id, error))
    return NULL;
  dir = g_build_filename (root, id, NULL);
  if (!create)
    return g_steal_pointer (&dir);
  if (g_mkdir_with_parents (root, 0700) < 0)
    return hutch_throw_errno (error, "creating the state directory %s", root), NULL;
  /* the one step two creates of one id race on: only one mkdir wins */
  if (mkdir (dir, 0700) < 0)
    {
      if (errno == EEXIST)
        return hutch_throw (error, HUTCH_ERROR_BUSY, "container with id exists: %s", id), NULL;
      return hutch_throw_errno (error, "creating %s", dir), NULL;
    }
  return g_steal_pointer (&dir);
}

void
hutch_oci_state_free (HutchOciState *s)
{
  if (s == NULL)
    return;
  g_free (s->id);
  g_free (s->dir);
  g_free (s->bundle);
  g_free (s->rootfs);
  g_free (s->created);
  g_free (s->owner);
  hutch_json_node_free (s->annotations);
  g_free (s);
}

static void
write_state (HutchJsonWriter *w, const HutchOciState *s, gboolean internal)
{
  hutch_json_begin_object (w);
  hutch_json_member_string (w, "ociVersion", "1.2.0");
  hutch_json_member_string (w, "id", s->id);
  hutch_json_member_string (w, "status", hutch_oci_status_name (s->status));
  hutch_json_member_int (w, "pid", s->status == HUTCH_OCI_STOPPED && !internal ? 0 : s->pid);
  hutch_json_member_string (w, "bundle", s->bundle);
  hutch_json_member_string (w, "rootfs", s->rootfs);
  hutch_json_member_string (w, "created", s->created);
  hutch_json_member_string (w, "owner", s->owner);
  hutch_json_key (w, "annotations");
  if (s->annotations != NULL)
    hutch_json_write_node (w, s->annotations);
  else
    {
      hutch_json_begin_object (w);
      hutch_json_end_object (w);
    }
  if (internal)
    hutch_json_member_int (w, "hutchStartTime", (gint64) s->start_time);
  hutch_json_end_object (w);
}

char *
hutch_oci_state_json (const HutchOciState *s, gboolean pretty)
{
  g_autoptr (HutchJsonWriter) w = hutch_json_writer_new (pretty);

  write_state (w, s, FALSE);
  return hutch_json_writer_finish (w);
}

gboolean
hutch_oci_state_save (const HutchOciState *s, GError **error)
{
  g_autoptr (HutchJsonWriter) w = hutch_json_writer_new (FALSE);
  g_autofree char *path = g_build_filename (s->dir, HUTCH_OCI_STATE_FILE, NULL);
  g_autofree char *text = NULL;

  write_state (w, s, TRUE);
  text = hutch_json_writer_finish (w);
  return hutch_util_replace_file (path, text, strlen (text), 0600, FALSE, error);
}

gboolean
hutch_oci_process_alive (pid_t pid, guint64 start)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/stat", (int) pid);
  g_autofree char *text = NULL;
  const char *close_paren;
  guint64 now;

  if (pid <= 0 || !hutch_util_pid_start_time (pid, &now) || now != start)
    return FALSE;
  text = hutch_util_read_host_file (path, 4096, NULL);
  close_paren = text != NULL ? strrchr (text, ')') : NULL;
  return close_paren != NULL && close_paren[1] == ' ' && close_paren[2] != 'Z'
         && close_paren[2] != 'X';
}

static HutchOciState *
state_read (const char *dir, const char *id, GError **error)
{
  g_autofree char *path = g_build_filename (dir, HUTCH_OCI_STATE_FILE, NULL);
  g_autofree char *fifo = g_build_filename (dir, HUTCH_OCI_FIFO, NULL);
  g_autofree char *text = NULL;
  g_autoptr (HutchJsonNode) doc = NULL;
  g_autoptr (HutchOciState) s = g_new0 (HutchOciState, 1);
  const HutchJsonNode *ann;
  gint64 pid, start;
  gsize len;

  if (!g_file_get_contents (path, &text, &len, NULL))
    {
      if (!g_file_test (dir, G_FILE_TEST_IS_DIR))
        return hutch_throw (error, HUTCH_ERROR_NOT_FOUND, "container does not exist: %s", id), NULL;
      /* the directory of a create still under way */
      s->id = g_strdup (id);
      s->dir = g_strdup (dir);
      s->status = HUTCH_OCI_CREATING;
      return g_steal_pointer (&s);
    }
  doc = hutch_json_parse (text, len, error);
  if (doc == NULL)
    return g_prefix_error (error, "%s: ", path), NULL;
  s->id = g_strdup (id);
  s->dir = g_strdup (dir);
  if (!hutch_oci_json_string (doc, "bundle", "state", &s->bundle, error)
      || !hutch_oci_json_string (doc, "rootfs", "state", &s->rootfs, error)
      || !hutch_oci_json_string (doc, "created", "state", &s->created, error)
      || !hutch_oci_json_string (doc, "owner", "state", &s->owner, error)
      || !hutch_oci_json_int (doc, "pid", "state", 0, G_MAXINT, &pid, NULL, error)
      || !hutch_oci_json_int (doc, "hutchStartTime", "state", 0, G_MAXINT64, &start, NULL, error))
    return NULL;
  s->pid = (pid_t) pid;
  s->start_time = (guint64) start;
  ann = hutch_json_node_member (doc, "annotations");
  if (ann != NULL && ann->type == HUTCH_JSON_OBJECT && ann->n_members > 0)
    {
      g_autoptr (HutchJsonWriter) w = hutch_json_writer_new (FALSE);
      g_autofree char *t = NULL;
      hutch_json_write_node (w, ann);
      t = hutch_json_writer_finish (w);
      s->annotations = hutch_json_parse (t, strlen (t), NULL);
    }
  if (!hutch_oci_process_alive (s->pid, s->start_time))
    s->status = HUTCH_OCI_STOPPED;
  else if (g_file_test (fifo, G_FILE_TEST_EXISTS))
    s->status = HUTCH_OCI_CREATED;
  else
    s->status = HUTCH_OCI_RUNNING;
  return g_steal_pointer (&s);
}

HutchOciState *
hutch_oci_state_load (const HutchOciContext *ctx, const char *id, GError **error)
{
  g_autofree char *dir = hutch_oci_state_dir (ctx, id, FALSE, error);

  if (dir == NULL)
    return NULL;
  return state_read (dir, id, error);
}

static gint
by_id (gconstpointer a, gconstpointer b)
{
  return strcmp ((*(HutchOciState *const *) a)->id, (*(HutchOciState *const *) b)->id);
}

GPtrArray *
hutch_oci_state_list (const HutchOciContext *ctx, GError **error)
{
  g_autofree char *root = root_of (ctx);
  g_autoptr (GPtrArray) out = g_ptr_array_new_with_free_func ((GDestroyNotify) hutch_oci_state_free);
  g_autoptr (GDir) d = g_dir_open (root, 0, NULL);
  const char *name;

  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *dir = g_build_filename (root, name, NULL);
      HutchOciState *s;
      if (*name == '.' || !g_file_test (dir, G_FILE_TEST_IS_DIR))
        continue;
      s = state_read (dir, name, NULL);
      if (s != NULL)
        g_ptr_array_add (out, s);
    }
  g_ptr_array_sort (out, by_id);
  (void) error;
  return g_steal_pointer (&out);
}

gboolean
hutch_oci_state_remove (const char *dir, GError **error)
{
  g_autofree char *parent = g_path_get_dirname (dir);
  g_autofree char *base = g_path_get_basename (dir);
  g_autofree char *gone = g_strdup_printf (".%s.deleted.%d", base, (int) getpid ());
  hutch_autofd int pfd = open (parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

  if (pfd < 0)
    return hutch_throw_errno (error, "opening %s", parent);
  /* renamed first: the id is free at once, and a second delete finds
   * nothing to half-remove */
  if (renameat (pfd, base, pfd, gone) < 0)
    {
      if (errno == ENOENT)
        return hutch_throw (error, HUTCH_ERROR_NOT_FOUND, "container does not exist: %s", base);
      return hutch_throw_errno (error, "removing %s", dir);
    }
  if (!hutch_util_remove_tree_at (pfd, gone))
    return hutch_throw_errno (error, "removing %s", dir);
  return TRUE;
}

char *
hutch_oci_owner (void)
{
  struct passwd *pw = getpwuid (geteuid ());

  return g_strdup (pw != NULL ? pw->pw_name : "");
}
