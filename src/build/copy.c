/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* COPY and ADD: the sources resolved beneath the context (or, with --from,
 * inside another image's root), written as one tar by the layer writer's
 * tar encoder, and unpacked in the user namespace of a container of the
 * stage's image, which the executor then commits. A source that leads out
 * of the context, by ".." or by a symlink, is refused, never followed. The
 * tar goes through a pipe: its producer is hutch itself for the context, or
 * a second root job in a container of the --from image. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "executor.h"
#include "layer/layer.h"

void
hutch_build_copy_clear (HutchBuildCopy *c)
{
  g_strfreev (c->sources);
  g_free (c->inline_name);
  g_free (c->inline_body);
  g_free (c->dest);
  g_free (c->chown);
  g_free (c->from_id);
  g_free (c->what);
  hutch_fd_clear (&c->source_fd);
}

/* ---- sources ---- */

static int
compare_names (gconstpointer a, gconstpointer b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

typedef struct
{
  char *path;  /* relative to the root, cleaned; "" for the root itself */
  gboolean dir;
} Source;

static void
source_free (gpointer p)
{
  Source *s = p;
  g_free (s->path);
  g_free (s);
}

/* @path cleaned as docker cleans a source: leading "/" and "./" dropped,
 * "." components gone, ".." taken back; NULL when ".." leads out. */
static char *
clean_path (const char *path)
{
  g_auto (GStrv) parts = g_strsplit (path, "/", -1);
  g_autoptr (GPtrArray) out = g_ptr_array_new ();

  for (char **p = parts; *p != NULL; p++)
    {
      if (**p == '\0' || strcmp (*p, ".") == 0)
        continue;
      if (strcmp (*p, "..") == 0)
        {
          if (out->len == 0)
            return NULL;
          g_ptr_array_remove_index (out, out->len - 1);
          continue;
        }
      g_ptr_array_add (out, *p);
    }
  g_ptr_array_add (out, NULL);
  return g_strjoinv ("/", (char **) out->pdata);
}

static int
open_at_root (int root, gboolean in_root, const char *path, int flags, GError **error)
{
  const char *p = *path == '\0' ? "." : path;

  return in_root ? hutch_util_open_in_root (root, p, flags, 0, error)
                 : hutch_util_open_beneath (root, p, flags, 0, error);
}

static gboolean
add_match (int root, gboolean in_root, const HutchBuildIgnore *ignore, const char *path,
           GPtrArray *out, GError **error)
{
  hutch_autofd int fd = -1;
  struct stat st;
  Source *s;

  if (ignore != NULL && *path != '\0' && hutch_build_ignore_match (ignore, path))
    return TRUE; /* not in the context, as docker sends it */
  fd = open_at_root (root, in_root, path, O_PATH | O_CLOEXEC, error);
  if (fd < 0 || fstat (fd, &st) < 0)
    return FALSE;
  s = g_new0 (Source, 1);
  s->path = g_strdup (path);
  s->dir = S_ISDIR (st.st_mode);
  g_ptr_array_add (out, s);
  return TRUE;
}

/* The paths beneath @dir (relative) that match @parts from @i on, each a
 * component of a glob. */
static gboolean
glob_walk (int root, gboolean in_root, const HutchBuildIgnore *ignore, const char *dir,
           char **parts, guint i, GPtrArray *out, GError **error)
{
  g_autoptr (GPtrArray) names = NULL;
  hutch_autofd int fd = -1;
  g_autoptr (GDir) d = NULL;
  g_autofree char *proc = NULL;
  const char *name;

  if (parts[i] == NULL)
    return add_match (root, in_root, ignore, dir, out, error);
  if (!hutch_build_glob_is_pattern (parts[i]))
    {
      g_autofree char *next = *dir == '\0' ? g_strdup (parts[i]) : g_strconcat (dir, "/", parts[i], NULL);
      hutch_autofd int probe = open_at_root (root, in_root, next, O_PATH | O_CLOEXEC, NULL);
      if (probe < 0)
        return TRUE;
      return glob_walk (root, in_root, ignore, next, parts, i + 1, out, error);
    }
  fd = open_at_root (root, in_root, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC, NULL);
  if (fd < 0)
    return TRUE;
  proc = g_strdup_printf ("/proc/self/fd/%d", fd);
  d = g_dir_open (proc, 0, NULL);
  names = g_ptr_array_new_with_free_func (g_free);
  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    if (hutch_build_glob_match (parts[i], name))
      g_ptr_array_add (names, g_strdup (name));
  g_ptr_array_sort (names, compare_names);
  for (guint n = 0; n < names->len; n++)
    {
      g_autofree char *next = *dir == '\0' ? g_strdup (names->pdata[n])
                                           : g_strconcat (dir, "/", names->pdata[n], NULL);
      if (!glob_walk (root, in_root, ignore, next, parts, i + 1, out, error))
        return FALSE;
    }
  return TRUE;
}

/* Resolves @c's sources beneath @root: a GPtrArray of Source. */
static GPtrArray *
resolve_sources (int root, gboolean in_root, const HutchBuildIgnore *ignore,
                 const HutchBuildCopy *c, GError **error)
{
  g_autoptr (GPtrArray) out = g_ptr_array_new_with_free_func (source_free);

  for (char **s = c->sources; s != NULL && *s != NULL; s++)
    {
      g_autofree char *path = clean_path (*s);
      guint before = out->len;
      if (path == NULL)
        return hutch_throw (error, HUTCH_ERROR_UNSAFE_PATH,
                            "%s: the source %s is outside the build context: a source must be "
                            "inside it", c->what, *s),
               NULL;
      if (hutch_build_glob_is_pattern (path))
        {
          g_auto (GStrv) parts = g_strsplit (path, "/", -1);
          if (!glob_walk (root, in_root, ignore, "", parts, 0, out, error))
            return NULL;
        }
      else
        {
          g_autoptr (GError) local = NULL;
          if (!add_match (root, in_root, ignore, path, out, &local))
            {
              if (g_error_matches (local, HUTCH_ERROR, HUTCH_ERROR_UNSAFE_PATH))
                return hutch_throw (error, HUTCH_ERROR_UNSAFE_PATH,
                                    "%s: the source %s leads outside the %s (a symlink): it is "
                                    "refused, not followed", c->what, *s,
                                    in_root ? "image" : "build context"),
                       NULL;
              if (!g_error_matches (local, G_FILE_ERROR, G_FILE_ERROR_NOENT))
                return g_propagate_prefixed_error (error, g_steal_pointer (&local), "%s: %s: ",
                                                   c->what, *s),
                       NULL;
            }
        }
      if (out->len == before)
        return hutch_throw (error, HUTCH_ERROR_NOT_FOUND,
                            "%s: %s is not in the %s%s", c->what, *s,
                            in_root ? "image it copies from" : "build context",
                            in_root ? "" : " (or .dockerignore leaves it out)"),
               NULL;
    }
  return g_steal_pointer (&out);
}

/* ---- walking what a source holds ---- */

/* Called for each entry: @dir_fd and @name locate it, @rel names it in
 * the tar (relative to the destination directory). */
typedef gboolean (*Visit) (gpointer data, int dir_fd, const char *name, const char *rel,
                           const struct stat *st, GError **error);

static gboolean
walk_tree (int fd, const char *ctx_path, const char *rel, const HutchBuildIgnore *ignore,
           Visit visit, gpointer data, GError **error)
{
  g_autofree char *proc = g_strdup_printf ("/proc/self/fd/%d", fd);
  g_autoptr (GDir) d = g_dir_open (proc, 0, NULL);
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  const char *name;

  if (d == NULL)
    return hutch_throw_errno (error, "reading the directory %s", *ctx_path ? ctx_path : ".");
  while ((name = g_dir_read_name (d)) != NULL)
    g_ptr_array_add (names, g_strdup (name));
  g_ptr_array_sort (names, compare_names);
  for (guint i = 0; i < names->len; i++)
    {
      const char *n = names->pdata[i];
      g_autofree char *cpath = *ctx_path ? g_strconcat (ctx_path, "/", n, NULL) : g_strdup (n);
      g_autofree char *r = *rel ? g_strconcat (rel, "/", n, NULL) : g_strdup (n);
      gboolean ignored = ignore != NULL && hutch_build_ignore_match (ignore, cpath);
      struct stat st;
      if (fstatat (fd, n, &st, AT_SYMLINK_NOFOLLOW) < 0)
        return hutch_throw_errno (error, "%s", cpath);
      if (ignored && !(S_ISDIR (st.st_mode) && hutch_build_ignore_has_exceptions (ignore)))
        continue;
      if (!ignored && !visit (data, fd, n, r, &st, error))
        return FALSE;
      if (S_ISDIR (st.st_mode))
        {
          hutch_autofd int sub = openat (fd, n, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
          if (sub < 0)
            return hutch_throw_errno (error, "opening %s", cpath);
          if (!walk_tree (sub, cpath, r, ignore, visit, data, error))
            return FALSE;
        }
    }
  return TRUE;
}

/* The name a file source gets beneath the destination directory. */
static const char *
file_name (const HutchBuildCopy *c, gboolean dest_dir, const Source *s)
{
  const char *slash;

  if (!dest_dir)
    return strrchr (c->dest, '/') + 1;
  slash = strrchr (s->path, '/');
  return slash != NULL ? slash + 1 : s->path;
}

/* Visits every source: a directory's contents, a file under its name.
 * A source that is a symlink is followed (beneath the root). */
static gboolean
visit_sources (int root, gboolean in_root, const HutchBuildIgnore *ignore, GPtrArray *sources,
               const HutchBuildCopy *c, gboolean dest_dir, Visit visit, gpointer data,
               GError **error)
{
  for (guint i = 0; i < sources->len; i++)
    {
      const Source *s = sources->pdata[i];
      if (s->dir)
        {
          hutch_autofd int fd = open_at_root (root, in_root, s->path,
                                              O_RDONLY | O_DIRECTORY | O_CLOEXEC, error);
          /* a directory onto a destination that is not one: it becomes
           * the destination, made beside it (the tar's top entry) */
          const char *top = dest_dir ? "" : strrchr (c->dest, '/') + 1;
          struct stat st;
          if (fd < 0)
            return FALSE;
          if (*top != '\0'
              && (fstat (fd, &st) < 0 || !visit (data, fd, ".", top, &st, error)))
            return FALSE;
          if (!walk_tree (fd, s->path, top, ignore, visit, data, error))
            return FALSE;
        }
      else
        {
          /* a symlink source is followed, beneath the root */
          hutch_autofd int fd = open_at_root (root, in_root, s->path, O_RDONLY | O_CLOEXEC, error);
          struct stat st;
          if (fd < 0 || fstat (fd, &st) < 0)
            return fd < 0 ? FALSE : hutch_throw_errno (error, "%s", s->path);
          if (!visit (data, fd, "", file_name (c, dest_dir, s), &st, error))
            return FALSE;
        }
    }
  return TRUE;
}

/* ---- the cache key's share ---- */

/* A file's content digest by its identity (device, inode, size, times):
 * a rebuild reads again only what changed, as git's index does. A file
 * changed within the last two seconds is not remembered (its next change
 * may keep its times, to the granularity the file system has). */
typedef struct
{
  HutchSha256 *sum;
  GHashTable *known; /* "dev:ino:size:mtime:ctime" -> "sha256:..." */
  gboolean changed;
} Hashing;

static char *
file_identity (const struct stat *st)
{
  return g_strdup_printf ("%" G_GUINT64_FORMAT ":%" G_GUINT64_FORMAT ":%" G_GINT64_FORMAT
                          ":%" G_GINT64_FORMAT ".%09ld:%" G_GINT64_FORMAT ".%09ld",
                          (guint64) st->st_dev, (guint64) st->st_ino, (gint64) st->st_size,
                          (gint64) st->st_mtim.tv_sec, st->st_mtim.tv_nsec,
                          (gint64) st->st_ctim.tv_sec, st->st_ctim.tv_nsec);
}

static gboolean
file_digest (Hashing *h, int fd, const struct stat *st, const char *rel, char out[HUTCH_DIGEST_BUFSIZE],
             GError **error)
{
  g_autofree char *id = file_identity (st);
  const char *known = h->known != NULL ? g_hash_table_lookup (h->known, id) : NULL;
  g_autoptr (HutchSha256) sum = NULL;
  guint8 buf[128 * 1024];
  ssize_t n;

  if (known != NULL)
    return g_strlcpy (out, known, HUTCH_DIGEST_BUFSIZE), TRUE;
  sum = hutch_sha256_new ();
  while ((n = pread (fd, buf, sizeof buf, hutch_sha256_bytes (sum))) > 0)
    hutch_sha256_update (sum, buf, n);
  if (n < 0)
    return hutch_throw_errno (error, "reading %s", rel);
  hutch_sha256_finish (sum, out);
  if (h->known != NULL && st->st_ctim.tv_sec < g_get_real_time () / G_USEC_PER_SEC - 2
      && st->st_mtim.tv_sec < g_get_real_time () / G_USEC_PER_SEC - 2)
    {
      g_hash_table_replace (h->known, g_steal_pointer (&id), g_strdup (out));
      h->changed = TRUE;
    }
  return TRUE;
}

static gboolean
hash_entry (gpointer data, int dir_fd, const char *name, const char *rel, const struct stat *st,
            GError **error)
{
  Hashing *h = data;
  char head[64];
  int len = g_snprintf (head, sizeof head, "%o %" G_GINT64_FORMAT " ", (unsigned) st->st_mode,
                        (gint64) st->st_size);

  hutch_sha256_update (h->sum, (const guchar *) rel, strlen (rel) + 1);
  hutch_sha256_update (h->sum, (const guchar *) head, len);
  if (S_ISLNK (st->st_mode))
    {
      char target[PATH_MAX];
      ssize_t n = readlinkat (dir_fd, name, target, sizeof target);
      if (n < 0)
        return hutch_throw_errno (error, "reading the link %s", rel);
      hutch_sha256_update (h->sum, (const guchar *) target, n);
    }
  else if (S_ISREG (st->st_mode))
    {
      hutch_autofd int fd = *name ? openat (dir_fd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
                                  : fcntl (dir_fd, F_DUPFD_CLOEXEC, 0);
      char digest[HUTCH_DIGEST_BUFSIZE];
      if (fd < 0)
        return hutch_throw_errno (error, "reading %s", rel);
      if (!file_digest (h, fd, st, rel, digest, error))
        return FALSE;
      hutch_sha256_update (h->sum, digest, strlen (digest));
    }
  return TRUE;
}

gboolean
hutch_build_copy_digest (int context_fd, const HutchBuildIgnore *ignore, const HutchBuildCopy *c,
                         GHashTable *known, gboolean *out_known_changed, HutchSha256 *sum,
                         GError **error)
{
  g_autoptr (GPtrArray) sources = NULL;
  Hashing h = { sum, known, FALSE };
  gboolean ok;

  for (char **s = c->sources; s != NULL && *s != NULL; s++)
    hutch_sha256_update (sum, (const guchar *) *s, strlen (*s) + 1);
  if (c->inline_body != NULL)
    hutch_sha256_update (sum, (const guchar *) c->inline_body, strlen (c->inline_body));
  if (c->from_id != NULL || c->sources == NULL || c->sources[0] == NULL)
    return TRUE;
  sources = resolve_sources (context_fd, FALSE, ignore, c, error);
  if (sources == NULL)
    return FALSE;
  ok = visit_sources (context_fd, FALSE, ignore, sources, c, c->dest_is_dir || sources->len > 1,
                      hash_entry, &h, error);
  if (h.changed)
    *out_known_changed = TRUE;
  return ok;
}

/* ---- the tar ---- */

static gboolean
write_fd (gpointer data, const void *buf, gsize len, GError **error)
{
  return hutch_util_write_all (*(int *) data, buf, len, error);
}

static gssize
read_fd (gpointer data, void *buf, gsize len, GError **error)
{
  ssize_t n;

  do
    n = read (*(int *) data, buf, len);
  while (n < 0 && errno == EINTR);
  if (n < 0)
    return hutch_throw_errno (error, "reading the files to copy"), -1;
  return n;
}

static gboolean
tar_entry (gpointer data, int dir_fd, const char *name, const char *rel, const struct stat *st,
           GError **error)
{
  HutchTarWriter *tar = data;

  if (strcmp (name, ".") == 0)
    /* the destination a directory source becomes: made as docker and
     * podman make it, 0755 and root's (or --chown's, --chmod's) */
    return hutch_tar_writer_add_dir (tar, rel, st->st_mtim.tv_sec, error);
  if (*name == '\0')
    {
      /* a file source, opened (a symlink followed): its entry is made from
       * its parent and name, which its /proc link gives */
      g_autofree char *link = g_strdup_printf ("/proc/self/fd/%d", dir_fd);
      g_autofree char *resolved = g_file_read_link (link, NULL);
      g_autofree char *parent = NULL, *base = NULL;
      hutch_autofd int pfd = -1;
      if (resolved == NULL)
        return hutch_throw_errno (error, "%s", rel);
      parent = g_path_get_dirname (resolved);
      base = g_path_get_basename (resolved);
      pfd = open (parent, O_PATH | O_DIRECTORY | O_CLOEXEC);
      if (pfd < 0)
        return hutch_throw_errno (error, "%s", rel);
      return hutch_tar_writer_add_path (tar, pfd, base, rel, HUTCH_TAR_TREE_NO_XATTRS, error);
    }
  return hutch_tar_writer_add_path (tar, dir_fd, name, rel, HUTCH_TAR_TREE_NO_XATTRS, error);
}

/* ADD's local archives, which it unpacks: a tar, plain, gzip or zstd (the
 * layer reader's formats; bzip2 and xz are copied as they are). */
static gboolean
archive_source (int root, const Source *s)
{
  hutch_autofd int fd = s->dir ? -1 : hutch_util_open_beneath (root, s->path, O_RDONLY | O_CLOEXEC, 0, NULL);
  guint8 head[512];
  gssize n;

  if (fd < 0)
    return FALSE;
  n = pread (fd, head, sizeof head, 0);
  if (n >= 4 && (hutch_layer_sniff (head, n) != HUTCH_LAYER_PLAIN))
    return TRUE;
  return n >= 262 && memcmp (head + 257, "ustar", 5) == 0;
}

/* The archive's bytes as they are: the other side sniffs and unpacks them. */
static gboolean
pump_source (int root, const Source *s, int out, GError **error)
{
  hutch_autofd int fd = hutch_util_open_beneath (root, s->path, O_RDONLY | O_CLOEXEC, 0, error);
  guint8 buf[64 * 1024];
  gssize n;

  if (fd < 0)
    return FALSE;
  while ((n = read (fd, buf, sizeof buf)) > 0)
    if (!hutch_util_write_all (out, buf, n, error))
      return FALSE;
  return n == 0 || hutch_throw_errno (error, "reading %s", s->path);
}

/* Whether ADD unpacks its one source (then the destination is a directory). */
static gboolean
add_unpacks (int context_fd, const HutchBuildIgnore *ignore, const HutchBuildCopy *c)
{
  g_autoptr (GPtrArray) sources = NULL;

  if (!c->add || c->from_id != NULL || c->inline_body != NULL)
    return FALSE;
  sources = resolve_sources (context_fd, FALSE, ignore, c, NULL);
  return sources != NULL && sources->len == 1 && archive_source (context_fd, sources->pdata[0]);
}

/* What the destination's side found out, for the producer of the tar. */
typedef struct
{
  gint32 dest_dir; /* the files go beneath the destination */
  guint32 uid, gid; /* their owner */
} Answer;

/* Writes the tar of @c's sources beneath @root on @fd. */
static gboolean
produce (int root, gboolean in_root, const HutchBuildIgnore *ignore, const HutchBuildCopy *c,
         const Answer *a, int fd, GError **error)
{
  g_autoptr (GPtrArray) sources = NULL;
  g_autoptr (HutchTarWriter) tar = hutch_tar_writer_new (write_fd, &fd, c->what);
  HutchTarWriteStats stats;

  /* files of the context are root's, or --chown's; files of an image
   * keep their owners (COPY --from, as podman) unless --chown is given */
  if (!in_root || c->chown != NULL)
    hutch_tar_writer_set_owner (tar, a->uid, a->gid);
  if (c->chmod_set)
    hutch_tar_writer_set_mode (tar, c->chmod);
  if (c->inline_body != NULL)
    {
      const char *n = a->dest_dir ? c->inline_name : strrchr (c->dest, '/') + 1;
      return hutch_tar_writer_add_bytes (tar, n, c->inline_body, strlen (c->inline_body),
                                         g_get_real_time () / G_USEC_PER_SEC, error)
             && hutch_tar_writer_finish (tar, &stats, error);
    }
  sources = resolve_sources (root, in_root, ignore, c, error);
  if (sources == NULL)
    return FALSE;
  if (c->add && sources->len == 1 && archive_source (root, sources->pdata[0]))
    return pump_source (root, sources->pdata[0], fd, error);
  return visit_sources (root, in_root, ignore, sources, c, a->dest_dir, tar_entry, tar, error)
         && hutch_tar_writer_finish (tar, &stats, error);
}

/* ---- in the containers' user namespace ---- */

typedef struct
{
  const HutchBuildCopy *c;
  gboolean dest_dir;   /* known before looking: a trailing "/", several sources */
  guint64 id_count;
  int answer_fd;       /* the child writes the Answer here */
  int data_fd;         /* and reads the tar here */
  int close_fds[2];    /* the ends it must not hold */
  Answer answer;       /* for the --from producer, filled before it forks */
} Job;

/* The numeric id @spec names in the file @file ("/etc/passwd") of @root,
 * or by number. */
static gboolean
lookup_id (int root, const char *file, const char *spec, guint32 *out, GError **error)
{
  g_autofree char *text = NULL;
  hutch_autofd int fd = -1;
  char *end = NULL;
  guint64 n = g_ascii_strtoull (spec, &end, 10);
  gsize len;

  if (*spec != '\0' && *end == '\0' && n < G_MAXUINT32)
    return *out = (guint32) n, TRUE;
  fd = hutch_util_open_in_root (root, file, O_RDONLY | O_CLOEXEC, 0, NULL);
  text = fd >= 0 ? hutch_util_read_all (fd, 4 << 20, &len, NULL) : NULL;
  if (text != NULL)
    {
      g_auto (GStrv) lines = g_strsplit (text, "\n", -1);
      for (char **l = lines; *l != NULL; l++)
        {
          g_auto (GStrv) f = g_strsplit (*l, ":", 4);
          if (g_strv_length (f) >= 3 && strcmp (f[0], spec) == 0)
            return *out = (guint32) g_ascii_strtoull (f[2], NULL, 10), TRUE;
        }
    }
  return hutch_throw (error, HUTCH_ERROR_NOT_FOUND, "--chown: the image has no %s \"%s\" in %s",
                      strcmp (file, "/etc/passwd") == 0 ? "user" : "group", spec, file);
}

/* mkdir -p beneath @root, each new directory 0755 and root's. */
static gboolean
make_dirs (int root, const char *path, GError **error)
{
  g_auto (GStrv) parts = g_strsplit (path, "/", -1);
  g_autoptr (GString) at = g_string_new ("/");

  for (char **p = parts; *p != NULL; p++)
    {
      hutch_autofd int parent = -1, probe = -1;
      if (**p == '\0')
        continue;
      parent = hutch_util_open_in_root (root, at->str, O_PATH | O_DIRECTORY | O_CLOEXEC, 0, error);
      if (parent < 0)
        return FALSE;
      probe = openat (parent, *p, O_PATH | O_CLOEXEC);
      if (probe < 0 && mkdirat (parent, *p, 0755) < 0 && errno != EEXIST)
        return hutch_throw_errno (error, "making the directory %s%s%s", at->str,
                                  at->len > 1 ? "/" : "", *p);
      if (at->len > 1)
        g_string_append_c (at, '/');
      g_string_append (at, *p);
    }
  return TRUE;
}

typedef struct
{
  int fd;
  guint8 head[8];
  gsize head_len, head_pos;
} Sniffed;

static gssize
read_sniffed (gpointer data, void *buf, gsize len, GError **error)
{
  Sniffed *s = data;

  if (s->head_pos < s->head_len)
    {
      gsize n = MIN (len, s->head_len - s->head_pos);
      memcpy (buf, s->head + s->head_pos, n);
      s->head_pos += n;
      return n;
    }
  return read_fd (&s->fd, buf, len, error);
}

static gboolean
dest_child (int root, gpointer data, GError **error)
{
  Job *j = data;
  const HutchBuildCopy *c = j->c;
  Answer a = { .dest_dir = j->dest_dir };
  g_autofree char *target = NULL;
  hutch_autofd int probe = -1, tfd = -1;
  HutchLayerOptions opts = { .what = c->what, .max_bytes = G_MAXUINT64,
                             .max_file_size = G_MAXUINT64, .id_count = j->id_count };
  struct stat st;

  signal (SIGPIPE, SIG_IGN);
  for (int i = 0; i < 2; i++)
    hutch_fd_clear (&j->close_fds[i]);
  probe = hutch_util_open_in_root (root, c->dest, O_PATH | O_CLOEXEC, 0, NULL);
  if (probe >= 0 && fstat (probe, &st) == 0 && S_ISDIR (st.st_mode))
    a.dest_dir = TRUE;
  if (c->chown != NULL)
    {
      g_auto (GStrv) ug = g_strsplit (c->chown, ":", 2);
      if (!lookup_id (root, "/etc/passwd", ug[0], &a.uid, error))
        return FALSE;
      a.gid = a.uid;
      if (ug[1] != NULL && !lookup_id (root, "/etc/group", ug[1], &a.gid, error))
        return FALSE;
    }
  if (!hutch_util_write_all (j->answer_fd, &a, sizeof a, error))
    return FALSE;
  hutch_fd_clear (&j->answer_fd);
  target = a.dest_dir ? g_strdup (c->dest) : g_path_get_dirname (c->dest);
  if (!make_dirs (root, target, error))
    return FALSE;
  tfd = hutch_util_open_in_root (root, target, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0, error);
  if (tfd < 0)
    return FALSE;
  /* nothing at all: the producer failed, and says why */
  return hutch_build_unpack_stream (tfd, j->data_fd, &opts, TRUE, error);
}

gboolean
hutch_build_unpack_stream (int dir_fd, int in_fd, const HutchLayerOptions *opts,
                           gboolean empty_ok, GError **error)
{
  Sniffed in = { .fd = in_fd };
  HutchLayerStats stats;

  while (in.head_len < sizeof in.head)
    {
      gssize n = read_fd (&in.fd, in.head + in.head_len, sizeof in.head - in.head_len, error);
      if (n < 0)
        return FALSE;
      if (n == 0)
        break;
      in.head_len += n;
    }
  if (in.head_len == 0)
    return empty_ok || hutch_throw (error, HUTCH_ERROR_USAGE, "%s: empty, not a tar", opts->what);
  return hutch_layer_unpack_from (dir_fd, read_sniffed, &in, hutch_layer_sniff (in.head, in.head_len),
                                  opts, &stats, error);
}

typedef struct
{
  const HutchBuildCopy *c;
  const Answer *answer;
  int data_fd;
  int close_fds[3];
} SourceJob;

/* In a container of the --from image: the tar of the sources. */
static gboolean
source_child (int root, gpointer data, GError **error)
{
  SourceJob *j = data;

  signal (SIGPIPE, SIG_IGN);
  for (int i = 0; i < 3; i++)
    hutch_fd_clear (&j->close_fds[i]);
  return produce (root, TRUE, NULL, j->c, j->answer, j->data_fd, error);
}

/* ---- in hutch ---- */

static gboolean
from_image (HutchContext *ctx, const HutchBuildCopy *c, const Answer *a, int data_fd,
            int *close_fds, GError **error)
{
  HutchRunOptions ro = { .stop_timeout = HUTCH_STOP_TIMEOUT_UNSET };
  g_autoptr (HutchContainer) ctr = NULL;
  g_autoptr (GError) local = NULL;
  HutchSandboxRootJob *job;
  SourceJob sj = { c, a, data_fd, { close_fds[0], close_fds[1], close_fds[2] } };
  char *command[] = { (char *) "true", NULL };
  gboolean ok;

  hutch_net_config_init (&ro.net);
  ro.image = c->from_id + (g_str_has_prefix (c->from_id, "sha256:") ? 7 : 0);
  ro.command = command;
  ro.entrypoint = (char *) "";
  ro.net.mode = HUTCH_NET_NONE;
  ro.log.driver = HUTCH_LOG_DRIVER_NONE;
  ctr = hutch_container_create (ctx, &ro, error);
  ro.image = NULL, ro.command = NULL, ro.entrypoint = NULL;
  hutch_run_options_clear (&ro);
  if (ctr == NULL)
    {
      close (data_fd);
      return g_prefix_error (error, "%s: --from: ", c->what), FALSE;
    }
  job = hutch_container_root_job_start (ctx, ctr->id, HUTCH_SANDBOX_VIEW_ROOTFS, source_child, &sj,
                                        error);
  /* the child holds the write end now: without ours, its end is EOF */
  close (data_fd);
  ok = job != NULL && hutch_sandbox_root_job_finish (job, error);
  if (!hutch_container_remove (ctx, ctr->id, TRUE, &local))
    g_warning ("%s", local->message);
  return ok;
}

static gboolean copy_one (HutchContext *ctx, const char *id, int context_fd,
                          const HutchBuildIgnore *ignore, const HutchBuildCopy *c, GError **error);

gboolean
hutch_build_copy_run (HutchContext *ctx, const char *id, int context_fd,
                      const HutchBuildIgnore *ignore, const HutchBuildCopy *c, GError **error)
{
  if (c->add && c->sources != NULL && g_strv_length (c->sources) > 1)
    {
      /* ADD: an archive among the sources is unpacked, the others copied;
       * one source at a time */
      for (char **src = c->sources; *src != NULL; src++)
        {
          HutchBuildCopy one = *c;
          char *single[] = { *src, NULL };
          one.sources = single;
          one.dest_is_dir = TRUE;
          if (!copy_one (ctx, id, context_fd, ignore, &one, error))
            return FALSE;
        }
      return TRUE;
    }
  return copy_one (ctx, id, context_fd, ignore, c, error);
}

static gboolean
copy_one (HutchContext *ctx, const char *id, int context_fd, const HutchBuildIgnore *ignore,
          const HutchBuildCopy *c, GError **error)
{
  g_autoptr (HutchIdMap) map = hutch_sandbox_idmap_new_for_user (error);
  int up[2] = { -1, -1 }, data[2] = { -1, -1 };
  Job j = { .c = c, .dest_dir = c->dest_is_dir || add_unpacks (context_fd, ignore, c) };
  HutchSandboxRootJob *job;
  struct sigaction ignore_pipe = { .sa_handler = SIG_IGN }, old_pipe;
  g_autoptr (GError) produced = NULL;
  gboolean ok;
  Answer a;

  if (map == NULL)
    return FALSE;
  j.id_count = hutch_sandbox_idmap_size (map);
  if (pipe2 (up, O_CLOEXEC) < 0 || pipe2 (data, O_CLOEXEC) < 0)
    {
      for (int i = 0; i < 2; i++)
        hutch_fd_clear (&up[i]);
      return hutch_throw_errno (error, "pipe");
    }
  j.answer_fd = up[1];
  j.data_fd = data[0];
  j.close_fds[0] = up[0];
  j.close_fds[1] = data[1];
  job = hutch_container_root_job_start (ctx, id, HUTCH_SANDBOX_VIEW_ROOTFS, dest_child, &j, error);
  hutch_fd_clear (&up[1]);
  hutch_fd_clear (&data[0]);
  if (job == NULL)
    {
      hutch_fd_clear (&up[0]);
      hutch_fd_clear (&data[1]);
      return FALSE;
    }
  sigaction (SIGPIPE, &ignore_pipe, &old_pipe);
  ok = hutch_util_read_exact (up[0], &a, sizeof a);
  hutch_fd_clear (&up[0]);
  if (ok && c->from_id != NULL)
    {
      int close_fds[3] = { -1, -1, -1 };
      ok = from_image (ctx, c, &a, data[1], close_fds, &produced);
      data[1] = -1; /* closed by from_image */
    }
  else if (ok)
    ok = produce (context_fd, FALSE, ignore, c, &a, data[1], &produced);
  hutch_fd_clear (&data[1]);
  sigaction (SIGPIPE, &old_pipe, NULL);
  /* the child's error first: a broken pipe here is only its consequence */
  if (!hutch_sandbox_root_job_finish (job, error))
    return FALSE;
  if (produced != NULL)
    return g_propagate_error (error, g_steal_pointer (&produced)), FALSE;
  if (!ok)
    return hutch_throw (error, HUTCH_ERROR_FAILED, "%s: the copying process ended early", c->what);
  return TRUE;
}
