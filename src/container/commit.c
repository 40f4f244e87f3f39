/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* hutch commit: a container's changes as a new image. One new layer is
 * written in one pass (store/layer-new.c) from what diff.c walks: the
 * overlay upper directory through the tar writer's overlay conversion, or
 * with the copy driver the changed paths and whiteouts for the deleted
 * ones. The config is the image's with the -c changes, the new diff_id
 * and a history entry. --pause stops the container's processes for the
 * walk (SIGSTOP: no cgroup freezer is needed). */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "container-private.h"

void
hutch_commit_options_clear (HutchCommitOptions *o)
{
  g_free (o->message);
  g_free (o->author);
  g_strfreev (o->changes);
  g_free (o->name);
  g_free (o->created_by);
}

/* ---- --pause ---- */

/* The pids of @root and every process below it, from /proc. */
static GArray *
descendants (pid_t root)
{
  g_autoptr (GHashTable) parent = g_hash_table_new (g_direct_hash, g_direct_equal);
  GArray *out = g_array_new (FALSE, FALSE, sizeof (pid_t));
  g_autoptr (GDir) d = g_dir_open ("/proc", 0, NULL);
  const char *name;

  g_array_append_val (out, root);
  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *path = g_strdup_printf ("/proc/%s/stat", name);
      g_autofree char *text = NULL;
      const char *close_paren;
      int ppid = 0;
      if (!g_ascii_isdigit (*name) || !g_file_get_contents (path, &text, NULL, NULL)
          || (close_paren = strrchr (text, ')')) == NULL
          || sscanf (close_paren + 1, " %*c %d", &ppid) != 1)
        continue;
      g_hash_table_insert (parent, GINT_TO_POINTER (atoi (name)), GINT_TO_POINTER (ppid));
    }
  /* breadth first over the parent links */
  for (guint i = 0; i < out->len; i++)
    {
      GHashTableIter it;
      gpointer k, v;
      g_hash_table_iter_init (&it, parent);
      while (g_hash_table_iter_next (&it, &k, &v))
        if (GPOINTER_TO_INT (v) == g_array_index (out, pid_t, i))
          {
            pid_t child = GPOINTER_TO_INT (k);
            g_array_append_val (out, child);
          }
    }
  return out;
}

/* SIGSTOPs the processes of @c until a look finds no new one (a process
 * forked meanwhile is seen by the next look). Returns the stopped pids. */
static GArray *
pause_container (const HutchContainer *c, GError **error)
{
  g_autoptr (GHashTable) stopped = g_hash_table_new (g_direct_hash, g_direct_equal);
  GArray *pids = g_array_new (FALSE, FALSE, sizeof (pid_t));
  hutch_autofd int pidfd = hutch_container_pidfd (c, FALSE, error);

  if (pidfd < 0)
    {
      g_array_unref (pids);
      return NULL;
    }
  for (guint round = 0; round < 100; round++)
    {
      g_autoptr (GArray) now = descendants (c->init_pid);
      guint fresh = 0;
      for (guint i = 0; i < now->len; i++)
        {
          pid_t pid = g_array_index (now, pid_t, i);
          if (g_hash_table_contains (stopped, GINT_TO_POINTER (pid)))
            continue;
          if (kill (pid, SIGSTOP) == 0)
            {
              g_hash_table_add (stopped, GINT_TO_POINTER (pid));
              g_array_append_val (pids, pid);
              fresh++;
            }
        }
      if (fresh == 0)
        break;
    }
  return pids;
}

static void
resume_container (GArray *pids)
{
  for (guint i = 0; pids != NULL && i < pids->len; i++)
    (void) kill (g_array_index (pids, pid_t, i), SIGCONT);
}

/* ---- the layer's tar, in the user namespace ---- */

typedef struct
{
  const HutchContainerRootfs *rootfs;
  const char *what;
  HutchTarWriter *tar;
  int root_fd;          /* the copy's rootfs */
  GHashTable *written;  /* directories already in the tar (copy driver) */
  gboolean squash;      /* the whole merged tree, not the changes */
} Fill;

/* The copy driver: a changed path, after its parent directories. */
static gboolean
copy_change (gpointer data, char kind, const char *path, GError **error)
{
  Fill *f = data;
  g_autofree char *parent = g_path_get_dirname (path);

  if (strcmp (parent, ".") != 0 && !g_hash_table_contains (f->written, parent))
    {
      /* the parents, top down, as the tar needs them before their entries */
      g_auto (GStrv) parts = g_strsplit (parent, "/", -1);
      g_autoptr (GString) at = g_string_new (NULL);
      for (char **p = parts; *p != NULL; p++)
        {
          if (at->len > 0)
            g_string_append_c (at, '/');
          g_string_append (at, *p);
          if (!g_hash_table_contains (f->written, at->str))
            {
              if (!hutch_tar_writer_add_path (f->tar, f->root_fd, at->str, at->str,
                                              HUTCH_TAR_TREE_FLAT, error))
                return FALSE;
              g_hash_table_add (f->written, g_strdup (at->str));
            }
        }
    }
  if (kind == 'D')
    {
      g_autofree char *base = g_path_get_basename (path);
      g_autofree char *wh = strcmp (parent, ".") != 0 ? g_strconcat (parent, "/.wh.", base, NULL)
                                                      : g_strconcat (".wh.", base, NULL);
      return hutch_tar_writer_add_whiteout (f->tar, wh, error);
    }
  if (g_hash_table_contains (f->written, path))
    return TRUE;
  g_hash_table_add (f->written, g_strdup (path));
  return hutch_tar_writer_add_path (f->tar, f->root_fd, path, path, HUTCH_TAR_TREE_FLAT, error);
}

/* --squash: every entry of the merged tree. */
static gboolean
merged_entry (gpointer data, int dir_fd, const char *name, const char *path, GError **error)
{
  Fill *f = data;

  return hutch_tar_writer_add_path (f->tar, dir_fd, name, path, HUTCH_TAR_TREE_FLAT, error);
}

static gboolean
fill_layer (gpointer data, HutchLayerWriteFunc write, gpointer write_data, GError **error)
{
  Fill *f = data;
  const HutchContainerRootfs *r = f->rootfs;
  g_autoptr (HutchTarWriter) tar = hutch_tar_writer_new (write, write_data, f->what);
  g_autoptr (GHashTable) written = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  hutch_autofd int fd = -1;
  HutchTarWriteStats stats;
  gboolean ok;

  f->tar = tar;
  f->written = written;
  if (f->squash)
    ok = hutch_container_merged_walk (r, merged_entry, f, error);
  else if (r->driver == HUTCH_ROOTFS_COPY)
    {
      fd = open (r->spec.rootfs, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      f->root_fd = fd;
      ok = fd >= 0 ? hutch_container_changes_walk (r, copy_change, f, error)
                   : hutch_throw_errno (error, "opening %s", r->spec.rootfs);
    }
  else
    {
      fd = open (r->spec.upperdir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      ok = fd >= 0 ? hutch_tar_writer_add_tree (tar, fd, ".", "", HUTCH_TAR_TREE_OVERLAY_UPPER,
                                                (const char *const *) r->exclude, error)
                   : hutch_throw_errno (error, "opening %s", r->spec.upperdir);
    }
  return ok && hutch_tar_writer_finish (tar, &stats, error);
}

/* ---- the image ---- */

static char *
created_by (const HutchContainer *c)
{
  g_autofree char *cmd = c->command != NULL ? g_strjoinv (" ", c->command) : g_strdup ("");

  return g_strdup_printf ("hutch commit %s (%s)", c->name, cmd);
}

gboolean
hutch_container_commit (HutchContext *ctx, const char *id, const HutchCommitOptions *o,
                        char out_id[HUTCH_DIGEST_BUFSIZE], GError **error)
{
  g_autoptr (HutchContainer) c = hutch_container_load (ctx, id, error);
  g_auto (HutchContainerRootfs) rootfs = { 0 };
  g_autoptr (HutchStore) store = NULL;
  g_autoptr (HutchStoreImage) image = NULL;
  g_autoptr (HutchIdMap) map = NULL;
  g_autoptr (GPtrArray) chains = NULL;
  g_autoptr (GArray) paused = NULL;
  g_autofree char *what = NULL, *config = NULL, *by = NULL;
  HutchStoreNewLayer layer;
  Fill fill = { 0 };
  const char *diff_ids[2] = { NULL, NULL };
  gboolean ok;

  if (c == NULL || !hutch_image_changes_check ((const char *const *) o->changes, error))
    return FALSE;
  store = hutch_store_open (ctx->root, TRUE, error);
  if (store == NULL)
    return FALSE;
  image = hutch_store_image_lookup (store, c->image_id, NULL, error);
  if (image == NULL)
    return g_prefix_error (error, "the image of container %s (%s): ", c->name, c->image), FALSE;
  if (!hutch_container_rootfs_open (ctx, c, &rootfs, error)
      || (map = hutch_container_idmap_new (c, error)) == NULL)
    return FALSE;
  what = g_strdup_printf ("the new layer of container %s", c->name);
  chains = hutch_store_chain_ids (image->config);
  fill.rootfs = &rootfs;
  fill.what = what;
  fill.squash = o->squash;
  if (o->pause && c->status == HUTCH_CONTAINER_RUNNING
      && (paused = pause_container (c, error)) == NULL)
    return g_prefix_error (error, "pausing container %s: ", c->name), FALSE;
  ok = hutch_store_layer_create (store, map,
                                 !o->squash && chains->len > 0 ? chains->pdata[chains->len - 1] : NULL,
                                 o->compression, what, fill_layer, &fill, &layer, error);
  resume_container (paused);
  if (!ok)
    return g_prefix_error (error, "committing container %s: ", c->name), FALSE;
  diff_ids[0] = layer.diff_id;
  by = o->created_by != NULL ? g_strdup (o->created_by) : created_by (c);
  config = hutch_image_config_derive (image->config->root,
                                      &(HutchImageConfigEdit){ .changes = (const char *const *) o->changes,
                                                               .diff_ids = diff_ids,
                                                               .author = o->author,
                                                               .comment = o->message,
                                                               .created_by = by,
                                                               .squash = o->squash },
                                      error);
  if (config == NULL
      || !hutch_store_image_create (store, config, o->squash ? NULL : image->manifest, &layer,
                                    o->docker, o->name,
                                    out_id, error))
    {
      hutch_store_new_layer_discard (store, &layer);
      return g_prefix_error (error, "committing container %s: ", c->name), FALSE;
    }
  return TRUE;
}
