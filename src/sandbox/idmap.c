/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Subordinate id ranges (/etc/subuid, /etc/subgid) and writing a user
 * namespace's id maps, through the setuid newuidmap/newgidmap when the user
 * has ranges, or directly for the single-id fallback. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sandbox.h"

#define SUBID_FILE_MAX (4 * 1024 * 1024)
#define SUBID_FIRST_FREE 100000

static gboolean
parse_subid_line (const char *line, char **out_owner, guint32 *out_start, guint32 *out_count)
{
  g_auto (GStrv) fields = g_strsplit (line, ":", -1);
  guint64 start, count;
  char *end;

  if (g_strv_length (fields) != 3 || fields[0][0] == '\0')
    return FALSE;
  start = g_ascii_strtoull (fields[1], &end, 10);
  if (*end != '\0' || end == fields[1])
    return FALSE;
  count = g_ascii_strtoull (fields[2], &end, 10);
  if (*end != '\0' || end == fields[2] || count == 0 || start + count > G_MAXUINT32)
    return FALSE;
  *out_owner = g_strdup (g_strstrip (fields[0]));
  *out_start = (guint32) start;
  *out_count = (guint32) count;
  return TRUE;
}

GArray *
hutch_sandbox_subid_ranges_read (const char *path, const char *user, uid_t uid, GError **error)
{
  g_autoptr (GArray) ranges = g_array_new (FALSE, FALSE, sizeof (HutchIdRange));
  g_autoptr (GError) local_error = NULL;
  g_autofree char *data = hutch_util_read_host_file (path, SUBID_FILE_MAX, &local_error);
  g_autofree char *uid_text = g_strdup_printf ("%u", (unsigned) uid);
  g_auto (GStrv) lines = NULL;

  if (data == NULL)
    {
      if (g_error_matches (local_error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
        return g_steal_pointer (&ranges);
      g_propagate_error (error, g_steal_pointer (&local_error));
      return NULL;
    }

  lines = g_strsplit (data, "\n", -1);
  for (char **l = lines; *l != NULL; l++)
    {
      g_autofree char *owner = NULL;
      HutchIdRange r;

      if (**l == '#' || !parse_subid_line (*l, &owner, &r.start, &r.count))
        continue;
      if (g_strcmp0 (owner, user) == 0 || strcmp (owner, uid_text) == 0)
        g_array_append_val (ranges, r);
    }
  return g_steal_pointer (&ranges);
}

guint32
hutch_sandbox_subid_free_start (const char *path, guint32 count)
{
  g_autofree char *data = hutch_util_read_host_file (path, SUBID_FILE_MAX, NULL);
  g_auto (GStrv) lines = data != NULL ? g_strsplit (data, "\n", -1) : NULL;
  guint64 start = SUBID_FIRST_FREE;

  /* Move past every existing entry, whoever owns it, then round up to a
   * multiple of @count as useradd's own allocations are. */
  for (char **l = lines; l != NULL && *l != NULL; l++)
    {
      g_autofree char *owner = NULL;
      guint32 s, c;

      if (parse_subid_line (*l, &owner, &s, &c) && (guint64) s + c > start)
        start = (guint64) s + c;
    }
  if (count > 0 && start % count != 0)
    start += count - start % count;
  return start + count > G_MAXUINT32 ? SUBID_FIRST_FREE : (guint32) start;
}

guint64
hutch_sandbox_id_ranges_total (GArray *ranges)
{
  guint64 total = 0;

  for (guint i = 0; ranges != NULL && i < ranges->len; i++)
    total += g_array_index (ranges, HutchIdRange, i).count;
  return total;
}

void
hutch_sandbox_id_helper_find (const char *name, HutchIdHelper *out)
{
  struct stat st;

  out->path = g_find_program_in_path (name);
  out->privileged = FALSE;
  if (out->path == NULL || stat (out->path, &st) < 0)
    return;
  if ((st.st_mode & S_ISUID) && st.st_uid == 0)
    out->privileged = TRUE;
  else if (getxattr (out->path, "security.capability", NULL, 0) > 0)
    out->privileged = TRUE;
}

GArray *
hutch_sandbox_idmap_lines (const HutchIdMap *map, gboolean gid)
{
  GArray *lines = g_array_new (FALSE, FALSE, sizeof (HutchIdMapLine));
  GArray *ranges = gid ? map->gid_ranges : map->uid_ranges;
  guint32 own = gid ? (guint32) map->gid : (guint32) map->uid;
  /* where the user sits inside, and where the subordinate ids start */
  guint32 own_at = map->keep_id ? own : 0;
  guint32 next = map->keep_id ? 0 : 1;
  HutchIdMapLine self = { own_at, own, 1 };

  if (map->single || ranges == NULL || ranges->len == 0)
    {
      g_array_append_val (lines, self);
      return lines;
    }
  if (!map->keep_id)
    g_array_append_val (lines, self);
  for (guint i = 0; i < ranges->len; i++)
    {
      const HutchIdRange *r = &g_array_index (ranges, HutchIdRange, i);
      guint32 start = r->start, count = r->count;

      /* keep-id: a range that reaches the user's own id is cut there, its
       * rest going on after it */
      if (map->keep_id && next <= own_at && (guint64) next + count > own_at)
        {
          HutchIdMapLine below = { next, start, own_at - next };

          if (below.count > 0)
            g_array_append_val (lines, below);
          g_array_append_val (lines, self);
          start += below.count;
          count -= below.count;
          next = own_at + 1;
          if (count == 0 || (guint64) next + count > G_MAXUINT32)
            continue;
        }
      HutchIdMapLine l = { next, start, count };
      g_array_append_val (lines, l);
      next += count;
    }
  /* fewer subordinate ids than the user's own id: the user above them */
  if (map->keep_id && next <= own_at)
    g_array_append_val (lines, self);
  return lines;
}

gboolean
hutch_sandbox_idmap_contains (const HutchIdMap *map, gboolean gid, guint32 id)
{
  g_autoptr (GArray) lines = hutch_sandbox_idmap_lines (map, gid);

  for (guint i = 0; i < lines->len; i++)
    {
      const HutchIdMapLine *l = &g_array_index (lines, HutchIdMapLine, i);
      if (id >= l->inside && (guint64) id < (guint64) l->inside + l->count)
        return TRUE;
    }
  return FALSE;
}

void
hutch_sandbox_idmap_set_keep_id (HutchIdMap *map)
{
  map->keep_id = TRUE;
}

gboolean
hutch_sandbox_idmap_root_mapped (const HutchIdMap *map)
{
  return !(map->keep_id && map->single) || map->uid == 0;
}

/* newuidmap/newgidmap's arguments: the lines of the map. */
static GPtrArray *
helper_argv (const char *helper, pid_t pid, GArray *lines)
{
  GPtrArray *argv = g_ptr_array_new_with_free_func (g_free);

  g_ptr_array_add (argv, g_strdup (helper));
  g_ptr_array_add (argv, g_strdup_printf ("%d", (int) pid));
  for (guint i = 0; i < lines->len; i++)
    {
      const HutchIdMapLine *l = &g_array_index (lines, HutchIdMapLine, i);
      g_ptr_array_add (argv, g_strdup_printf ("%u", l->inside));
      g_ptr_array_add (argv, g_strdup_printf ("%u", l->outside));
      g_ptr_array_add (argv, g_strdup_printf ("%u", l->count));
    }
  g_ptr_array_add (argv, NULL);
  return argv;
}

typedef struct
{
  GPtrArray *argv;
  GPid pid;
  int err_fd;
} Helper;

/* Both helpers at once, and the caller free to do other work while they
 * run: each is a setuid program that costs 1-15 ms to start, and container
 * start-up waits for them (tests/bench/run-latency.sh). */
struct _HutchIdMapWriter
{
  Helper helpers[2];
  guint started;
  GError *error; /* what went wrong before or while starting them */
};

/* posix_spawn: the vfork kind, which returns as soon as the helper is
 * exec'd (GLib's spawn forks and took a millisecond of run's start-up for
 * the two). Its stdin and stdout are /dev/null, its stderr comes to us. */
static gboolean
helper_start (Helper *h, GPtrArray *argv, GError **error)
{
  extern char **environ;
  posix_spawn_file_actions_t fa;
  int err[2], r;

  h->argv = argv;
  h->err_fd = -1;
  if (pipe2 (err, O_CLOEXEC) < 0)
    return hutch_throw_errno (error, "starting %s", (char *) argv->pdata[0]);
  posix_spawn_file_actions_init (&fa);
  posix_spawn_file_actions_addopen (&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen (&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_adddup2 (&fa, err[1], STDERR_FILENO);
  posix_spawn_file_actions_addclosefrom_np (&fa, STDERR_FILENO + 1);
  hutch_util_assert_single_thread ();
  r = posix_spawn (&h->pid, argv->pdata[0], &fa, NULL, (char **) argv->pdata, environ);
  posix_spawn_file_actions_destroy (&fa);
  close (err[1]);
  if (r != 0)
    {
      close (err[0]);
      return hutch_throw_errno_val (error, r, "starting %s", (char *) argv->pdata[0]);
    }
  h->err_fd = err[0];
  return TRUE;
}

/* Waits for the helper; its stderr becomes the message when it fails. */
static gboolean
helper_finish (Helper *h, GError **error)
{
  g_autofree char *said = NULL;
  g_autoptr (GError) local_error = NULL;
  const char *name = h->argv->pdata[0];
  gsize len;
  int status;

  said = hutch_util_read_all (h->err_fd, 65536, &len, NULL);
  close (h->err_fd);
  while (waitpid (h->pid, &status, 0) < 0)
    if (errno != EINTR)
      return hutch_throw_errno (error, "waiting for %s", name);
  if (!g_spawn_check_wait_status (status, &local_error))
    {
      g_autofree char *text = g_strstrip (g_strdup (said != NULL ? said : ""));
      return hutch_throw (error, HUTCH_ERROR_HOST_UNSUPPORTED, "%s failed: %s", name,
                          *text != '\0' ? text : local_error->message);
    }
  return TRUE;
}

static void
start_id_helpers (HutchIdMapWriter *w, pid_t pid, GArray *uid_lines, GArray *gid_lines)
{
  HutchIdHelper uidh = { 0 }, gidh = { 0 };

  hutch_sandbox_id_helper_find ("newuidmap", &uidh);
  hutch_sandbox_id_helper_find ("newgidmap", &gidh);
  if (uidh.path == NULL || gidh.path == NULL)
    hutch_throw (&w->error, HUTCH_ERROR_HOST_UNSUPPORTED,
                 "newuidmap or newgidmap is not installed (install the \"uidmap\" package)");
  else if (helper_start (&w->helpers[0], helper_argv (uidh.path, pid, uid_lines), &w->error))
    {
      w->started = 1;
      if (helper_start (&w->helpers[1], helper_argv (gidh.path, pid, gid_lines), &w->error))
        w->started = 2;
      else
        g_ptr_array_unref (w->helpers[1].argv);
    }
  else
    g_ptr_array_unref (w->helpers[0].argv);
  g_free (uidh.path);
  g_free (gidh.path);
}

static gboolean
write_proc_file (pid_t pid, const char *name, const char *text, GError **error)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/%s", (int) pid, name);
  hutch_autofd int fd = open (path, O_WRONLY | O_CLOEXEC);

  if (fd < 0)
    return hutch_throw_errno (error, "opening %s", path);
  if (!hutch_util_write_all (fd, text, strlen (text), error))
    {
      g_prefix_error (error, "%s: ", path);
      return FALSE;
    }
  return TRUE;
}

HutchIdMapWriter *
hutch_sandbox_idmap_write_start (pid_t pid, const HutchIdMap *map)
{
  HutchIdMapWriter *w = g_new0 (HutchIdMapWriter, 1);
  g_autofree char *uid_line = NULL;
  g_autofree char *gid_line = NULL;

  if (!map->single)
    {
      g_autoptr (GArray) uid_lines = hutch_sandbox_idmap_lines (map, FALSE);
      g_autoptr (GArray) gid_lines = hutch_sandbox_idmap_lines (map, TRUE);
      start_id_helpers (w, pid, uid_lines, gid_lines);
      return w;
    }
  /* Without newgidmap an unprivileged process may map only its own gid, and
   * only after giving up setgroups (user_namespaces(7), since Linux 3.19). */
  uid_line = g_strdup_printf ("%u %u 1\n", map->keep_id ? (unsigned) map->uid : 0,
                              (unsigned) map->uid);
  gid_line = g_strdup_printf ("%u %u 1\n", map->keep_id ? (unsigned) map->gid : 0,
                              (unsigned) map->gid);
  (void) (write_proc_file (pid, "setgroups", "deny", &w->error)
          && write_proc_file (pid, "uid_map", uid_line, &w->error)
          && write_proc_file (pid, "gid_map", gid_line, &w->error));
  return w;
}

gboolean
hutch_sandbox_idmap_write_finish (HutchIdMapWriter *w, GError **error)
{
  gboolean ok = w->error == NULL;

  for (guint i = 0; i < w->started; i++)
    {
      if (!helper_finish (&w->helpers[i], ok ? error : NULL))
        ok = FALSE;
      g_ptr_array_unref (w->helpers[i].argv);
    }
  if (w->error != NULL)
    g_propagate_error (error, w->error);
  g_free (w);
  return ok;
}

gboolean
hutch_sandbox_idmap_write (pid_t pid, const HutchIdMap *map, GError **error)
{
  return hutch_sandbox_idmap_write_finish (hutch_sandbox_idmap_write_start (pid, map), error);
}

/* ---- id maps as an OCI bundle's config.json gives them ---- */

static char *
lines_text (GArray *lines)
{
  GString *s = g_string_new (NULL);

  for (guint i = 0; lines != NULL && i < lines->len; i++)
    {
      const HutchIdMapLine *l = &g_array_index (lines, HutchIdMapLine, i);
      g_string_append_printf (s, "%u %u %u\n", l->inside, l->outside, l->count);
    }
  return g_string_free (s, FALSE);
}

/* Only our own id, once: what an unprivileged process may write itself
 * (user_namespaces(7)); anything more needs the setuid helpers. */
static gboolean
only_own (GArray *lines, guint32 own)
{
  return lines != NULL && lines->len == 1
         && g_array_index (lines, HutchIdMapLine, 0).outside == own
         && g_array_index (lines, HutchIdMapLine, 0).count == 1;
}

gboolean
hutch_sandbox_idmap_write_lines (pid_t pid, GArray *uid_map, GArray *gid_map, GError **error)
{
  g_autofree char *uids = lines_text (uid_map);
  g_autofree char *gids = lines_text (gid_map);
  HutchIdMapWriter *w;

  if (uid_map == NULL || uid_map->len == 0 || gid_map == NULL || gid_map->len == 0)
    return hutch_throw (error, HUTCH_ERROR_USAGE,
                        "linux.uidMappings and linux.gidMappings are needed for a new user "
                        "namespace");
  if (geteuid () == 0 || (only_own (uid_map, geteuid ()) && only_own (gid_map, getegid ())))
    {
      /* unprivileged, setgroups must be denied before gid_map is written */
      if (geteuid () != 0 && !write_proc_file (pid, "setgroups", "deny", error))
        return FALSE;
      return write_proc_file (pid, "uid_map", uids, error)
             && write_proc_file (pid, "gid_map", gids, error);
    }
  w = g_new0 (HutchIdMapWriter, 1);
  start_id_helpers (w, pid, uid_map, gid_map);
  if (!hutch_sandbox_idmap_write_finish (w, error))
    {
      g_prefix_error (error, "linux.uidMappings and gidMappings (are they in /etc/subuid and "
                      "/etc/subgid? see \"hutch check\"): ");
      return FALSE;
    }
  return TRUE;
}
