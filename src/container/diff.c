/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What a container changed in its rootfs, against its image: docker's
 * A/C/D. With overlay and fuse-overlayfs the changes are the upper
 * directory (a 0/0 character device or fuse-overlayfs's .wh.NAME deletes,
 * an opaque directory hides what was below it); with the copy driver the
 * copy is compared with the layers, merged as overlayfs would merge them.
 * The walk runs as root of the user namespace (the files belong to the
 * container's ids, some unreadable to the user) and is what commit writes
 * from, so `diff` shows exactly what a commit would keep. The container's
 * generated files and mount points are left out of both. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "container-private.h"

#define WH_PREFIX ".wh."
#define WH_OPAQUE ".wh..wh..opq"

void
hutch_container_rootfs_clear (HutchContainerRootfs *r)
{
  hutch_container_spec_clear (&r->spec);
  g_clear_pointer (&r->exclude, g_strfreev);
}

static gboolean
dir_has_entries (const char *path)
{
  g_autoptr (GDir) d = g_dir_open (path, 0, NULL);

  return d != NULL && g_dir_read_name (d) != NULL;
}

gboolean
hutch_container_rootfs_open (const HutchContext *ctx, const HutchContainer *c,
                             HutchContainerRootfs *out, GError **error)
{
  g_autofree char *dir = hutch_container_dir (ctx, c->id);
  g_autoptr (GPtrArray) ex = g_ptr_array_new_with_free_func (g_free);
  static const char *const made[] = { "dev", "proc", "sys" };

  memset (out, 0, sizeof *out);
  if (!hutch_container_spec_read (dir, &out->spec, error))
    return g_prefix_error (error, "container %s: ", c->name), FALSE;
  /* The copy driver leaves the merged tree in rootfs/ (overlay mounts it
   * in the container's own mount namespace only, so from here it is an
   * empty directory then): a rootfs with entries is a copy. */
  out->driver = out->spec.driver;
  if (dir_has_entries (out->spec.rootfs))
    out->driver = HUTCH_ROOTFS_COPY;
  else if (out->driver == HUTCH_ROOTFS_COPY)
    out->driver = HUTCH_ROOTFS_OVERLAY; /* never started: nothing changed */
  g_ptr_array_add (ex, g_strdup ("etc/hostname"));
  g_ptr_array_add (ex, g_strdup ("etc/hosts"));
  g_ptr_array_add (ex, g_strdup ("etc/resolv.conf"));
  /* the mount points hutch makes when the image lacks them */
  for (gsize i = 0; i < G_N_ELEMENTS (made); i++)
    {
      gboolean in_image = FALSE;
      for (char **l = out->spec.lowerdirs; *l != NULL && !in_image; l++)
        {
          g_autofree char *p = g_build_filename (*l, made[i], NULL);
          in_image = g_file_test (p, G_FILE_TEST_IS_DIR);
        }
      if (!in_image)
        g_ptr_array_add (ex, g_strdup (made[i]));
    }
  for (guint i = 0; out->spec.mounts != NULL && i < out->spec.mounts->len; i++)
    {
      const HutchSandboxMount *m = out->spec.mounts->pdata[i];
      g_autofree char *canon = g_canonicalize_filename (m->target, "/");
      if (strcmp (canon, "/") != 0)
        g_ptr_array_add (ex, g_strdup (canon + 1));
    }
  g_ptr_array_add (ex, NULL);
  out->exclude = (char **) g_ptr_array_free (g_steal_pointer (&ex), FALSE);
  return TRUE;
}

gboolean
hutch_container_path_excluded (const HutchContainerRootfs *r, const char *path)
{
  for (char **e = r->exclude; *e != NULL; e++)
    if (strcmp (path, *e) == 0 || (g_str_has_prefix (path, *e) && path[strlen (*e)] == '/'))
      return TRUE;
  return FALSE;
}

/* For sorting names held by pointer (GPtrArray's and qsort's). */
static int
name_cmp (gconstpointer a, gconstpointer b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

static gboolean
is_whiteout (const struct stat *st)
{
  return S_ISCHR (st->st_mode) && major (st->st_rdev) == 0 && minor (st->st_rdev) == 0;
}

/* overlay's opaque marks, in each form the layer cache and the two
 * drivers write: trusted. (root's overlay), user. (userxattr), and
 * fuse-overlayfs's own xattr or .wh..wh..opq file. */
static gboolean
is_opaque_at (int dir_fd, const char *path)
{
  static const char *const names[] = { "user.overlay.opaque", "trusted.overlay.opaque",
                                       "user.fuseoverlayfs.opaque" };
  g_autofree char *proc = NULL;
  g_autofree char *marker = g_strconcat (path, "/" WH_OPAQUE, NULL);
  hutch_autofd int fd = openat (dir_fd, path, O_PATH | O_NOFOLLOW | O_CLOEXEC);
  struct stat st;
  char v[2];

  if (fd < 0)
    return FALSE;
  proc = g_strdup_printf ("/proc/self/fd/%d", fd);
  for (gsize i = 0; i < G_N_ELEMENTS (names); i++)
    if (getxattr (proc, names[i], v, sizeof v) == 1 && v[0] == 'y')
      return TRUE;
  return fstatat (dir_fd, marker, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

typedef struct
{
  const HutchContainerRootfs *rootfs;
  int *lowers; /* fds, top first */
  guint n_lowers;
  HutchContainerChangeFunc func;
  gpointer data;
  /* Directories of the image whose own mode and owner are unchanged: a
   * change only when something beneath them is (their times change with
   * any entry made, hutch's own mount points too, as in docker). */
  GPtrArray *pending;
} Walk;

/* The entry @path of the image (the merged layers), into *@out: FALSE
 * when the image has none. */
static gboolean
lower_lookup (Walk *w, const char *path, struct stat *out, int *out_layer)
{
  for (guint l = 0; l < w->n_lowers; l++)
    {
      g_autofree char *prefix = g_strdup (path);
      char *slash;
      if (fstatat (w->lowers[l], path, out, AT_SYMLINK_NOFOLLOW) == 0)
        {
          if (out_layer != NULL)
            *out_layer = (int) l;
          return !is_whiteout (out);
        }
      /* not in this layer: does the layer hide it from those below? */
      while ((slash = strrchr (prefix, '/')) != NULL)
        {
          struct stat st;
          *slash = '\0';
          if (fstatat (w->lowers[l], prefix, &st, AT_SYMLINK_NOFOLLOW) < 0)
            continue;
          if (!S_ISDIR (st.st_mode) || is_opaque_at (w->lowers[l], prefix))
            return FALSE;
        }
    }
  return FALSE;
}

/* The names in the image's directory @path, merged. */
static GHashTable *
lower_children (Walk *w, const char *path)
{
  GHashTable *names = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr (GHashTable) hidden = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  struct stat st;
  int top;

  if (!lower_lookup (w, path, &st, &top) || !S_ISDIR (st.st_mode))
    return names;
  for (guint l = (guint) top; l < w->n_lowers; l++)
    {
      hutch_autofd int fd = openat (w->lowers[l], path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      g_autoptr (GPtrArray) list = fd >= 0 ? hutch_util_list_dir_at (fd, NULL) : NULL;
      if (list == NULL)
        break; /* not a directory here: it hides what is below */
      for (guint i = 0; i < list->len; i++)
        {
          const char *name = list->pdata[i];
          if (strcmp (name, WH_OPAQUE) == 0 || g_hash_table_contains (hidden, name)
              || g_hash_table_contains (names, name))
            continue;
          if (fstatat (fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && is_whiteout (&st))
            g_hash_table_add (hidden, g_strdup (name));
          else
            g_hash_table_add (names, g_strdup (name));
        }
      if (is_opaque_at (w->lowers[l], path))
        break;
    }
  return names;
}

/* The pending directories are changes after all: something beneath is. */
static gboolean
flush_pending (Walk *w, GError **error)
{
  for (guint i = 0; i < w->pending->len; i++)
    if (!w->func (w->data, 'C', w->pending->pdata[i], error))
      return FALSE;
  g_ptr_array_set_size (w->pending, 0);
  return TRUE;
}

static gboolean
emit (Walk *w, char kind, const char *path, GError **error)
{
  return flush_pending (w, error) && w->func (w->data, kind, path, error);
}

/* A directory @path of the image, seen again (@st) as it was (@low). */
static gboolean
emit_dir (Walk *w, const char *path, const struct stat *st, const struct stat *low, GError **error)
{
  if (st->st_mode == low->st_mode && st->st_uid == low->st_uid && st->st_gid == low->st_gid)
    {
      g_ptr_array_add (w->pending, g_strdup (path));
      return TRUE;
    }
  return emit (w, 'C', path, error);
}

/* After the walk beneath @path: when nothing there was a change, neither
 * is the directory. */
static void
drop_pending (Walk *w, const char *path)
{
  if (w->pending->len > 0 && strcmp (w->pending->pdata[w->pending->len - 1], path) == 0)
    g_ptr_array_set_size (w->pending, w->pending->len - 1);
}

/* Ds for what the image has in @path that @present lacks, sorted. */
static gboolean
emit_deleted (Walk *w, const char *path, GHashTable *present, GError **error)
{
  g_autoptr (GHashTable) below = lower_children (w, path);
  g_autofree const char **names = (const char **) g_hash_table_get_keys_as_array (below, NULL);
  guint n = g_hash_table_size (below);

  qsort (names, n, sizeof *names, name_cmp);
  for (guint i = 0; i < n; i++)
    {
      g_autofree char *child = *path != '\0' ? g_strconcat (path, "/", names[i], NULL)
                                            : g_strdup (names[i]);
      if (!g_hash_table_contains (present, names[i]) && !hutch_container_path_excluded (w->rootfs, child)
          && !emit (w, 'D', child, error))
        return FALSE;
    }
  return TRUE;
}

/* One directory of an overlay upper dir. @is_new: the image has no
 * directory here, so everything beneath is added. */
static gboolean
walk_upper (Walk *w, int dir_fd, const char *path, gboolean is_new, GError **error)
{
  g_autoptr (GPtrArray) names = hutch_util_list_dir_at (dir_fd, error);
  g_autoptr (GHashTable) present = g_hash_table_new (g_str_hash, g_str_equal);

  if (names == NULL)
    return g_prefix_error (error, "reading /%s: ", path), FALSE;
  g_ptr_array_sort (names, name_cmp);
  for (guint i = 0; i < names->len; i++)
    {
      const char *name = names->pdata[i];
      gboolean whiteout_file = g_str_has_prefix (name, WH_PREFIX);
      const char *real = whiteout_file ? name + strlen (WH_PREFIX) : name;
      g_autofree char *child = *path != '\0' ? g_strconcat (path, "/", real, NULL) : g_strdup (real);
      struct stat st, low;
      gboolean in_image;
      char kind;

      if (strcmp (name, WH_OPAQUE) == 0 || hutch_container_path_excluded (w->rootfs, child))
        continue;
      if (fstatat (dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        {
          if (errno == ENOENT)
            continue; /* gone while we looked (a running container) */
          return hutch_throw_errno (error, "looking at /%s", child);
        }
      if (whiteout_file || is_whiteout (&st))
        {
          if (!is_new && lower_lookup (w, child, &low, NULL) && !emit (w, 'D', child, error))
            return FALSE;
          continue;
        }
      g_hash_table_add (present, (gpointer) name);
      in_image = !is_new && lower_lookup (w, child, &low, NULL);
      kind = in_image ? 'C' : 'A';
      if (in_image && S_ISDIR (st.st_mode) && S_ISDIR (low.st_mode))
        {
          if (!emit_dir (w, child, &st, &low, error))
            return FALSE;
        }
      else if (!emit (w, kind, child, error))
        return FALSE;
      if (S_ISDIR (st.st_mode))
        {
          hutch_autofd int fd = openat (dir_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
          gboolean opaque = in_image && S_ISDIR (low.st_mode) && is_opaque_at (dir_fd, name);
          if (fd < 0)
            {
              if (errno == ENOENT)
                continue;
              return hutch_throw_errno (error, "opening /%s", child);
            }
          /* an opaque directory always changed: it hides the image's */
          if (opaque && !flush_pending (w, error))
            return FALSE;
          if (!walk_upper (w, fd, child, !in_image || !S_ISDIR (low.st_mode) || opaque, error))
            return FALSE;
          drop_pending (w, child);
          if (opaque)
            {
              g_autoptr (GPtrArray) mine = hutch_util_list_dir_at (fd, error);
              g_autoptr (GHashTable) kept = g_hash_table_new (g_str_hash, g_str_equal);
              if (mine == NULL)
                return FALSE;
              for (guint j = 0; j < mine->len; j++)
                g_hash_table_add (kept, mine->pdata[j]);
              if (!emit_deleted (w, child, kept, error))
                return FALSE;
            }
        }
    }
  return TRUE;
}

/* An entry of the copy that differs from the image's: as docker judges
 * it, by type, mode, owner, size, mtime and a symlink's target. */
static gboolean
differs (int dir_fd, const char *name, const struct stat *a, Walk *w, const char *path,
         const struct stat *b, int layer)
{
  if ((a->st_mode & S_IFMT) != (b->st_mode & S_IFMT) || a->st_mode != b->st_mode
      || a->st_uid != b->st_uid || a->st_gid != b->st_gid)
    return TRUE;
  if (S_ISDIR (a->st_mode))
    return a->st_mtim.tv_sec != b->st_mtim.tv_sec || a->st_mtim.tv_nsec != b->st_mtim.tv_nsec;
  if (a->st_size != b->st_size || a->st_mtim.tv_sec != b->st_mtim.tv_sec
      || a->st_mtim.tv_nsec != b->st_mtim.tv_nsec)
    return TRUE;
  if (S_ISLNK (a->st_mode))
    {
      char t1[4096], t2[4096];
      ssize_t n1 = readlinkat (dir_fd, name, t1, sizeof t1);
      ssize_t n2 = readlinkat (w->lowers[layer], path, t2, sizeof t2);
      return n1 != n2 || n1 < 0 || memcmp (t1, t2, (gsize) n1) != 0;
    }
  return FALSE;
}

/* One directory of the copy driver's rootfs, against the image. */
static gboolean
walk_copy (Walk *w, int dir_fd, const char *path, gboolean is_new, GError **error)
{
  g_autoptr (GPtrArray) names = hutch_util_list_dir_at (dir_fd, error);
  g_autoptr (GHashTable) present = g_hash_table_new (g_str_hash, g_str_equal);

  if (names == NULL)
    return g_prefix_error (error, "reading /%s: ", path), FALSE;
  g_ptr_array_sort (names, name_cmp);
  for (guint i = 0; i < names->len; i++)
    {
      const char *name = names->pdata[i];
      g_autofree char *child = *path != '\0' ? g_strconcat (path, "/", name, NULL) : g_strdup (name);
      struct stat st, low;
      int layer = 0;
      gboolean in_image;

      g_hash_table_add (present, (gpointer) name);
      if (hutch_container_path_excluded (w->rootfs, child))
        continue;
      if (fstatat (dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        {
          if (errno == ENOENT)
            continue;
          return hutch_throw_errno (error, "looking at /%s", child);
        }
      in_image = !is_new && lower_lookup (w, child, &low, &layer);
      if (in_image && S_ISDIR (st.st_mode) && S_ISDIR (low.st_mode))
        {
          if (!emit_dir (w, child, &st, &low, error))
            return FALSE;
        }
      else if ((!in_image || differs (dir_fd, name, &st, w, child, &low, layer))
               && !emit (w, in_image ? 'C' : 'A', child, error))
        return FALSE;
      if (S_ISDIR (st.st_mode))
        {
          hutch_autofd int fd = openat (dir_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
          if (fd < 0)
            return hutch_throw_errno (error, "opening /%s", child);
          if (!walk_copy (w, fd, child, !in_image || !S_ISDIR (low.st_mode), error))
            return FALSE;
          drop_pending (w, child);
        }
    }
  return is_new || emit_deleted (w, path, present, error);
}

gboolean
hutch_container_changes_walk (const HutchContainerRootfs *r, HutchContainerChangeFunc func,
                              gpointer data, GError **error)
{
  guint n = g_strv_length (r->spec.lowerdirs);
  g_autofree int *lowers = g_new (int, n);
  g_autoptr (GPtrArray) pending = g_ptr_array_new_with_free_func (g_free);
  Walk w = { r, lowers, 0, func, data, pending };
  const char *top = r->driver == HUTCH_ROOTFS_COPY ? r->spec.rootfs : r->spec.upperdir;
  hutch_autofd int fd = open (top, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  gboolean ok;

  if (fd < 0)
    return hutch_throw_errno (error, "opening %s", top);
  for (; w.n_lowers < n; w.n_lowers++)
    {
      lowers[w.n_lowers] = open (r->spec.lowerdirs[w.n_lowers], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (lowers[w.n_lowers] < 0)
        {
          ok = hutch_throw_errno (error, "opening the layer %s", r->spec.lowerdirs[w.n_lowers]);
          goto out;
        }
    }
  ok = r->driver == HUTCH_ROOTFS_COPY ? walk_copy (&w, fd, "", FALSE, error)
                                      : walk_upper (&w, fd, "", FALSE, error);
out: /* the layer fds, however many were opened */
  for (guint i = 0; i < w.n_lowers; i++)
    close (lowers[i]);
  return ok;
}

/* ---- the merged tree (commit --squash) ---- */

typedef struct
{
  const HutchContainerRootfs *rootfs;
  HutchContainerEntryFunc func;
  gpointer data;
} Merge;

/* Whether @name in a layer's directory @fd hides what is below: a 0/0
 * character device, or a .wh. file (fuse-overlayfs's own form). */
static gboolean
hides (int fd, const char *name)
{
  struct stat st;

  return g_str_has_prefix (name, WH_PREFIX)
         || (fstatat (fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && is_whiteout (&st));
}

/* Directory @path as the layers @fds (top first, -1 where a layer lacks
 * it) merge it: each name from the topmost layer that has it. */
static gboolean
merge_dir (Merge *m, int *fds, guint n, const char *path, GError **error)
{
  g_autoptr (GHashTable) where = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr (GHashTable) hidden = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr (GPtrArray) names = g_ptr_array_new ();
  guint depth = n;

  for (guint l = 0; l < n; l++)
    {
      g_autoptr (GPtrArray) list = NULL;
      if (fds[l] < 0)
        continue;
      if ((list = hutch_util_list_dir_at (fds[l], error)) == NULL)
        return g_prefix_error (error, "reading /%s: ", path), FALSE;
      for (guint i = 0; i < list->len; i++)
        {
          const char *name = list->pdata[i];
          if (strcmp (name, WH_OPAQUE) == 0 || g_hash_table_contains (hidden, name)
              || g_hash_table_contains (where, name))
            continue;
          if (hides (fds[l], name))
            g_hash_table_add (hidden, g_strdup (g_str_has_prefix (name, WH_PREFIX)
                                                    ? name + strlen (WH_PREFIX) : name));
          else
            g_hash_table_insert (where, g_strdup (name), GUINT_TO_POINTER (l));
        }
      if (is_opaque_at (fds[l], "."))
        {
          depth = l + 1;
          break;
        }
    }
  {
    GHashTableIter it;
    gpointer key;
    g_hash_table_iter_init (&it, where);
    while (g_hash_table_iter_next (&it, &key, NULL))
      g_ptr_array_add (names, key);
  }
  g_ptr_array_sort (names, name_cmp);
  for (guint i = 0; i < names->len; i++)
    {
      const char *name = names->pdata[i];
      guint top = GPOINTER_TO_UINT (g_hash_table_lookup (where, name));
      g_autofree char *child = *path != '\0' ? g_strconcat (path, "/", name, NULL) : g_strdup (name);
      g_autofree int *sub = NULL;
      struct stat st;
      gboolean ok = TRUE;

      if (hutch_container_path_excluded (m->rootfs, child))
        continue;
      if (fstatat (fds[top], name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        {
          if (errno == ENOENT)
            continue;
          return hutch_throw_errno (error, "looking at /%s", child);
        }
      if (!m->func (m->data, fds[top], name, child, error))
        return FALSE;
      if (!S_ISDIR (st.st_mode))
        continue;
      /* below: the layers from this one down that have a directory here */
      sub = g_new (int, depth);
      for (guint l = 0; l < depth; l++)
        {
          struct stat below;
          sub[l] = -1;
          if (l < top || fds[l] < 0 || fstatat (fds[l], name, &below, AT_SYMLINK_NOFOLLOW) < 0
              || !S_ISDIR (below.st_mode))
            continue;
          sub[l] = openat (fds[l], name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
          if (sub[l] < 0)
            ok = hutch_throw_errno (error, "opening /%s", child);
        }
      /* a layer with something else here (a file, a whiteout) hides the rest */
      ok = ok && merge_dir (m, sub, depth, child, error);
      for (guint l = 0; l < depth; l++)
        if (sub[l] >= 0)
          close (sub[l]);
      if (!ok)
        return FALSE;
    }
  return TRUE;
}

gboolean
hutch_container_merged_walk (const HutchContainerRootfs *r, HutchContainerEntryFunc func,
                             gpointer data, GError **error)
{
  guint n = g_strv_length (r->spec.lowerdirs) + 1;
  g_autofree int *fds = g_new (int, n);
  Merge m = { r, func, data };
  gboolean ok = TRUE;

  /* the copy holds the merged tree itself; overlay's is the upper dir on the layers */
  fds[0] = open (r->driver == HUTCH_ROOTFS_COPY ? r->spec.rootfs : r->spec.upperdir,
                 O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fds[0] < 0)
    ok = hutch_throw_errno (error, "opening the container's files");
  for (guint l = 1; l < n; l++)
    {
      fds[l] = r->driver == HUTCH_ROOTFS_COPY ? -1
               : open (r->spec.lowerdirs[l - 1], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (r->driver != HUTCH_ROOTFS_COPY && fds[l] < 0 && ok)
        ok = hutch_throw_errno (error, "opening the layer %s", r->spec.lowerdirs[l - 1]);
    }
  ok = ok && merge_dir (&m, fds, n, "", error);
  for (guint l = 0; l < n; l++)
    if (fds[l] >= 0)
      close (fds[l]);
  return ok;
}

/* ---- hutch diff: the walk in the user namespace, its lines back in a memfd ---- */

typedef struct
{
  const HutchContainerRootfs *rootfs;
  int out_fd;
  GString *buf;
} DiffJob;

static gboolean
diff_line (gpointer data, char kind, const char *path, GError **error)
{
  DiffJob *job = data;

  (void) error;
  /* NUL-separated: a path may hold a newline */
  g_string_append_c (job->buf, kind);
  g_string_append_c (job->buf, '/');
  g_string_append (job->buf, path);
  g_string_append_c (job->buf, '\0');
  return TRUE;
}

static gboolean
diff_in_userns (gpointer data, GError **error)
{
  DiffJob *job = data;

  job->buf = g_string_new (NULL);
  return hutch_container_changes_walk (job->rootfs, diff_line, job, error)
         && hutch_util_write_all (job->out_fd, job->buf->str, job->buf->len, error);
}

static int
change_cmp (gconstpointer a, gconstpointer b)
{
  return strcmp (*(char *const *) a + 1, *(char *const *) b + 1);
}

GPtrArray *
hutch_container_diff (const HutchContext *ctx, const char *id, GError **error)
{
  g_autoptr (HutchContainer) c = hutch_container_load (ctx, id, error);
  g_auto (HutchContainerRootfs) rootfs = { 0 };
  g_autoptr (HutchIdMap) map = NULL;
  g_autoptr (GPtrArray) out = g_ptr_array_new_with_free_func (g_free);
  hutch_autofd int fd = memfd_create ("hutch-diff", MFD_CLOEXEC);
  DiffJob job = { &rootfs, fd, NULL };
  g_autofree char *text = NULL;
  gsize len = 0;

  if (c == NULL || !hutch_container_rootfs_open (ctx, c, &rootfs, error))
    return NULL;
  if (fd < 0)
    return hutch_throw_errno (error, "memfd_create"), NULL;
  if ((map = hutch_container_idmap_new (c, error)) == NULL
      || !hutch_sandbox_userns_run (map, diff_in_userns, &job, error))
    return g_prefix_error (error, "the changes of container %s: ", c->name), NULL;
  if (lseek (fd, 0, SEEK_SET) < 0 || (text = hutch_util_read_all (fd, G_MAXSIZE / 2, &len, error)) == NULL)
    return NULL;
  for (gsize at = 0; at < len; at += strlen (text + at) + 1)
    g_ptr_array_add (out, g_strdup (text + at));
  /* as docker lists them: by path */
  g_ptr_array_sort (out, change_cmp);
  return g_steal_pointer (&out);
}
