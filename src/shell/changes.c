/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What a shell session changed, read from its overlays' upper dirs (a
 * whiteout, a 0/0 character device, is a deletion; a directory with
 * user.overlay.opaque=y replaced the host's), and applying it onto the
 * host: every host path walked one component at a time with O_NOFOLLOW,
 * so no link (the host's, or one the session made) leads a write
 * elsewhere; each file written to a temporary name beside its target and
 * renamed over it. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "shell-private.h"

#define OPAQUE_XATTR "user.overlay.opaque"
/* fuse-overlayfs's forms: a file .wh.NAME where it could not make a 0/0
 * device, and these two markers in an opaque directory */
#define WH_PREFIX ".wh."
#define WH_OPAQUE ".wh..wh..opq"
#define WH_OPAQUE_DEV ".wh..opq"
#define COPY_CHUNK (256 * 1024)

void
hutch_shell_change_free (HutchShellChange *c)
{
  if (c == NULL)
    return;
  g_free (c->path);
  g_free (c->rel);
  g_free (c);
}

/* Opens directory @rel (a relative path of plain names) under @root_fd, no
 * component a link. -1 with errno set. */
static int
open_dir_nofollow (int root_fd, const char *rel)
{
  g_auto (GStrv) parts = g_strsplit (rel, "/", -1);
  int fd = fcntl (root_fd, F_DUPFD_CLOEXEC, 3);

  for (guint i = 0; fd >= 0 && parts[i] != NULL; i++)
    {
      int next;
      if (parts[i][0] == '\0' || strcmp (parts[i], ".") == 0)
        continue;
      if (strcmp (parts[i], "..") == 0)
        {
          close (fd);
          errno = EXDEV;
          return -1;
        }
      next = openat (fd, parts[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      close (fd);
      fd = next;
    }
  return fd;
}

static gboolean
is_whiteout (const struct stat *st)
{
  return S_ISCHR (st->st_mode) && st->st_rdev == makedev (0, 0);
}

static gboolean
dir_opaque (int dfd)
{
  char v[4] = { 0 };
  g_autofree char *path = g_strdup_printf ("/proc/self/fd/%d", dfd);

  if (getxattr (path, OPAQUE_XATTR, v, sizeof v - 1) == 1 && v[0] == 'y')
    return TRUE;
  return faccessat (dfd, WH_OPAQUE, F_OK, AT_SYMLINK_NOFOLLOW) == 0;
}

static gint64
stat_ns (const struct stat *st)
{
  gint64 m = (gint64) st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
  gint64 c = (gint64) st->st_ctim.tv_sec * 1000000000 + st->st_ctim.tv_nsec;

  return MAX (m, c);
}

typedef struct
{
  const HutchShellSession *s;
  guint overlay;
  int host_root; /* the overlay's host directory */
  GPtrArray *out;
} Walk;

static void
change_add (Walk *w, char kind, const char *rel, gboolean is_dir, gboolean opaque,
            const struct stat *host)
{
  HutchShellChange *c = g_new0 (HutchShellChange, 1);

  c->kind = kind;
  c->rel = g_strdup (rel);
  c->path = g_build_filename (w->s->paths[w->overlay], rel, NULL);
  c->overlay = w->overlay;
  c->is_dir = is_dir;
  c->opaque = opaque;
  c->conflict = host != NULL && stat_ns (host) > w->s->since_ns;
  g_ptr_array_add (w->out, c);
}

/* The host's entry at @rel: FALSE when there is none (or no way to it
 * without a link). */
static gboolean
host_lstat (Walk *w, const char *rel, struct stat *st)
{
  g_autofree char *dir = g_path_get_dirname (rel);
  g_autofree char *base = g_path_get_basename (rel);
  hutch_autofd int dfd = open_dir_nofollow (w->host_root, strcmp (dir, ".") == 0 ? "" : dir);

  return dfd >= 0 && fstatat (dfd, base, st, AT_SYMLINK_NOFOLLOW) == 0;
}

static gboolean walk_dir (Walk *w, int upper_fd, const char *rel, gboolean replaced,
                          GError **error);

static gboolean
walk_entry (Walk *w, int upper_fd, const char *rel, const char *name, gboolean replaced,
            GError **error)
{
  g_autofree char *child = *rel != '\0' ? g_build_filename (rel, name, NULL) : g_strdup (name);
  struct stat st, host;
  gboolean on_host;

  if (strcmp (name, WH_OPAQUE) == 0 || strcmp (name, WH_OPAQUE_DEV) == 0)
    return TRUE;
  if (fstatat (upper_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return hutch_throw_errno (error, "reading the session's %s", child);
  if (g_str_has_prefix (name, WH_PREFIX) && name[strlen (WH_PREFIX)] != '\0')
    {
      /* fuse-overlayfs's whiteout of NAME */
      g_free (child);
      child = *rel != '\0' ? g_build_filename (rel, name + strlen (WH_PREFIX), NULL)
                           : g_strdup (name + strlen (WH_PREFIX));
      if (!replaced && host_lstat (w, child, &host))
        change_add (w, 'D', child, S_ISDIR (host.st_mode), FALSE, &host);
      return TRUE;
    }
  on_host = !replaced && host_lstat (w, child, &host);
  if (is_whiteout (&st))
    {
      if (on_host)
        change_add (w, 'D', child, S_ISDIR (host.st_mode), FALSE, &host);
      return TRUE;
    }
  if (S_ISDIR (st.st_mode))
    {
      hutch_autofd int fd = openat (upper_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      gboolean opaque;
      if (fd < 0)
        return hutch_throw_errno (error, "reading the session's %s", child);
      opaque = dir_opaque (fd);
      if (!on_host || !S_ISDIR (host.st_mode))
        change_add (w, on_host ? 'C' : 'A', child, TRUE, TRUE, on_host ? &host : NULL);
      else if (opaque || (host.st_mode & 07777) != (st.st_mode & 07777))
        change_add (w, 'C', child, TRUE, opaque, &host);
      /* what the host holds that the opaque dir left out is gone */
      if (on_host && S_ISDIR (host.st_mode) && opaque)
        {
          hutch_autofd int hfd = open_dir_nofollow (w->host_root, child);
          g_autoptr (GPtrArray) names = hfd >= 0 ? hutch_util_list_dir_at (hfd, NULL) : NULL;
          for (guint i = 0; names != NULL && i < names->len; i++)
            {
              struct stat hst, ust;
              g_autofree char *gone = g_build_filename (child, names->pdata[i], NULL);
              g_autofree char *wh = g_strconcat (WH_PREFIX, names->pdata[i], NULL);
              if (fstatat (fd, names->pdata[i], &ust, AT_SYMLINK_NOFOLLOW) == 0
                  || fstatat (fd, wh, &ust, AT_SYMLINK_NOFOLLOW) == 0)
                continue;
              if (fstatat (hfd, names->pdata[i], &hst, AT_SYMLINK_NOFOLLOW) == 0)
                change_add (w, 'D', gone, S_ISDIR (hst.st_mode), FALSE, &hst);
            }
        }
      return walk_dir (w, fd, child, !on_host || !S_ISDIR (host.st_mode), error);
    }
  change_add (w, on_host ? 'C' : 'A', child, FALSE, FALSE, on_host ? &host : NULL);
  return TRUE;
}

static gboolean
walk_dir (Walk *w, int upper_fd, const char *rel, gboolean replaced, GError **error)
{
  g_autoptr (GPtrArray) names = hutch_util_list_dir_at (upper_fd, error);

  if (names == NULL)
    return FALSE;
  for (guint i = 0; i < names->len; i++)
    if (!walk_entry (w, upper_fd, rel, names->pdata[i], replaced, error))
      return FALSE;
  return TRUE;
}

static int
compare_changes (gconstpointer a, gconstpointer b)
{
  const HutchShellChange *x = *(HutchShellChange **) a, *y = *(HutchShellChange **) b;

  return strcmp (x->path, y->path);
}

static int
upper_open (const HutchShellSession *s, guint i)
{
  g_autofree char *upper = g_strdup_printf ("%s/ov/%u/upper", s->dir, i);

  return open (upper, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
}

GPtrArray *
hutch_shell_changes (const HutchShellSession *s, GError **error)
{
  g_autoptr (GPtrArray) out = g_ptr_array_new_with_free_func ((GDestroyNotify) hutch_shell_change_free);

  for (guint i = 0; s->paths != NULL && s->paths[i] != NULL; i++)
    {
      hutch_autofd int upper = upper_open (s, i);
      hutch_autofd int host = open (s->paths[i], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      Walk w = { s, i, host, out };

      if (upper < 0 && errno == ENOENT)
        continue; /* never entered, or discarded */
      if (upper < 0)
        return hutch_throw_errno (error, "reading session %s's changes", s->name), NULL;
      if (host < 0)
        return hutch_throw_errno (error, "session %s: %s", s->name, s->paths[i]), NULL;
      if (!walk_dir (&w, upper, "", FALSE, error))
        return NULL;
    }
  g_ptr_array_sort (out, compare_changes);
  return g_steal_pointer (&out);
}

/* ---- apply ---- */

static gboolean
copy_data (int from, int to, GError **error)
{
  g_autofree char *buf = g_malloc (COPY_CHUNK);

  for (;;)
    {
      ssize_t n = read (from, buf, COPY_CHUNK);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return hutch_throw_errno (error, "reading");
      if (n == 0)
        return TRUE;
      if (!hutch_util_write_all (to, buf, (size_t) n, error))
        return FALSE;
    }
}

/* Puts the upper dir's @base (in @ufd) at @base in @hfd: a file or link
 * under a temporary name renamed over the target, a directory made. */
static gboolean
put_entry (int ufd, int hfd, const char *base, GError **error)
{
  struct stat st, hst;
  g_autofree char *tmp = g_strdup_printf (".hutch-apply-%s.%06x", base, g_random_int () & 0xffffff);
  gboolean ok = TRUE;

  if (fstatat (ufd, base, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return hutch_throw_errno (error, "reading the session's copy");
  if (S_ISDIR (st.st_mode))
    {
      if (fstatat (hfd, base, &hst, AT_SYMLINK_NOFOLLOW) == 0 && !S_ISDIR (hst.st_mode)
          && unlinkat (hfd, base, 0) < 0)
        return hutch_throw_errno (error, "removing what was there");
      if (mkdirat (hfd, base, st.st_mode & 07777) < 0 && errno != EEXIST)
        return hutch_throw_errno (error, "making the directory");
      if (fchmodat (hfd, base, st.st_mode & 07777, 0) < 0)
        return hutch_throw_errno (error, "setting its mode");
      return TRUE;
    }
  if (S_ISLNK (st.st_mode))
    {
      g_autofree char *target = g_malloc (st.st_size + 2);
      ssize_t n = readlinkat (ufd, base, target, st.st_size + 1);
      if (n < 0 || n > st.st_size)
        return hutch_throw_errno (error, "reading the link");
      target[n] = '\0';
      if (symlinkat (target, hfd, tmp) < 0)
        return hutch_throw_errno (error, "making the link");
    }
  else if (S_ISREG (st.st_mode))
    {
      hutch_autofd int in = openat (ufd, base, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
      hutch_autofd int out = openat (hfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                                     0600);
      struct timespec times[2] = { st.st_atim, st.st_mtim };
      if (in < 0 || out < 0)
        return hutch_throw_errno (error, in < 0 ? "reading the session's copy" : "writing");
      ok = copy_data (in, out, error) && (fchmod (out, st.st_mode & 07777) == 0
                                          || hutch_throw_errno (error, "setting its mode"));
      if (ok && (futimens (out, times) < 0 || fsync (out) < 0))
        ok = hutch_throw_errno (error, "writing");
    }
  else
    return hutch_throw (error, HUTCH_ERROR_FAILED,
                        "a device, fifo or socket: hutch applies files, links and directories");
  /* a directory in the way (the session replaced it with a file) goes */
  if (ok && fstatat (hfd, base, &hst, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR (hst.st_mode)
      && !hutch_util_remove_tree_at (hfd, base))
    ok = hutch_throw_errno (error, "removing the directory that was there");
  if (ok && renameat (hfd, tmp, hfd, base) < 0)
    ok = hutch_throw_errno (error, "renaming into place");
  if (!ok)
    (void) unlinkat (hfd, tmp, 0);
  return ok;
}

static gboolean
apply_one (const HutchShellSession *s, const HutchShellChange *c, GError **error)
{
  g_autofree char *dir = g_path_get_dirname (c->rel);
  g_autofree char *base = g_path_get_basename (c->rel);
  const char *d = strcmp (dir, ".") == 0 ? "" : dir;
  hutch_autofd int host_root = open (s->paths[c->overlay], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  hutch_autofd int upper_root = upper_open (s, c->overlay);
  hutch_autofd int hfd = host_root >= 0 ? open_dir_nofollow (host_root, d) : -1;
  hutch_autofd int ufd = upper_root >= 0 ? open_dir_nofollow (upper_root, d) : -1;

  if (hfd < 0)
    return hutch_throw_errno (error, "its directory on the host is not there, or is a link");
  if (c->kind == 'D')
    {
      struct stat st;
      if (fstatat (hfd, base, &st, AT_SYMLINK_NOFOLLOW) < 0)
        return errno == ENOENT || hutch_throw_errno (error, "looking at it");
      if (S_ISDIR (st.st_mode) ? !hutch_util_remove_tree_at (hfd, base) : unlinkat (hfd, base, 0) < 0)
        return hutch_throw_errno (error, "removing it");
      /* the whiteout, when it was one, in either form */
      if (ufd >= 0)
        {
          g_autofree char *wh = g_strconcat (WH_PREFIX, base, NULL);
          (void) unlinkat (ufd, base, 0);
          (void) unlinkat (ufd, wh, 0);
        }
      return TRUE;
    }
  if (ufd < 0)
    return hutch_throw_errno (error, "reading the session's copy");
  if (!put_entry (ufd, hfd, base, error))
    return FALSE;
  if (c->is_dir)
    {
      /* the host's directory is the session's now: nothing of the host's
       * is to be hidden beneath it any more */
      hutch_autofd int fd = openat (ufd, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (fd >= 0)
        {
          g_autofree char *fp = g_strdup_printf ("/proc/self/fd/%d", fd);
          (void) removexattr (fp, OPAQUE_XATTR);
          (void) unlinkat (fd, WH_OPAQUE, 0);
          (void) unlinkat (fd, WH_OPAQUE_DEV, 0);
        }
      return TRUE;
    }
  (void) unlinkat (ufd, base, 0);
  return TRUE;
}

static gboolean
wanted (const HutchShellChange *c, char **only)
{
  if (only == NULL || only[0] == NULL)
    return TRUE;
  for (char **o = only; *o != NULL; o++)
    {
      gsize n = strlen (*o), m = strlen (c->path);
      /* the path or below it, or a directory it needs made first */
      if (strncmp (c->path, *o, n) == 0 && (c->path[n] == '\0' || c->path[n] == '/'))
        return TRUE;
      if (c->kind == 'A' && c->is_dir && strncmp (*o, c->path, m) == 0 && (*o)[m] == '/')
        return TRUE;
    }
  return FALSE;
}

/* Empty directories left in the upper dirs, deepest first: applied. */
static void
prune_empty (int dfd)
{
  g_autoptr (GPtrArray) names = hutch_util_list_dir_at (dfd, NULL);

  for (guint i = 0; names != NULL && i < names->len; i++)
    {
      hutch_autofd int fd = openat (dfd, names->pdata[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (fd < 0 || dir_opaque (fd))
        continue;
      prune_empty (fd);
      (void) unlinkat (dfd, names->pdata[i], AT_REMOVEDIR);
    }
}

gboolean
hutch_shell_apply (HutchShellSession *s, char **only, gboolean force, GPtrArray *report,
                   GError **error)
{
  g_autoptr (GPtrArray) changes = NULL;
  g_autoptr (GPtrArray) left = NULL;
  g_autoptr (GPtrArray) blocked = g_ptr_array_new_with_free_func (g_free);
  guint failed = 0, done = 0;

  if (hutch_shell_session_running (s, NULL, NULL))
    return hutch_throw (error, HUTCH_ERROR_BUSY,
                        "shell session %s is running: leave its shells, then apply", s->name);
  if ((changes = hutch_shell_changes (s, error)) == NULL)
    return FALSE;
  for (guint i = 0; i < changes->len; i++)
    {
      const HutchShellChange *c = changes->pdata[i];
      g_autoptr (GError) local = NULL;
      const char *under = NULL;

      if (!wanted (c, only))
        continue;
      /* below a directory change that was not done: the session's view of
       * it (an opaque directory above all) is not the host's */
      for (guint b = 0; b < blocked->len && under == NULL; b++)
        if (g_str_has_prefix (c->path, blocked->pdata[b])
            && c->path[strlen (blocked->pdata[b])] == '/')
          under = blocked->pdata[b];
      if (under != NULL)
        {
          g_ptr_array_add (report, g_strdup_printf ("error: %s: not applied, as %s was not",
                                                    c->path, under));
          failed++;
          continue;
        }
      if (c->conflict && !force)
        {
          g_ptr_array_add (report, g_strdup_printf ("error: %s: changed on the host since the "
                                                    "session started (apply --force to overwrite "
                                                    "it)", c->path));
          failed++;
          if (c->is_dir)
            g_ptr_array_add (blocked, g_strdup (c->path));
          continue;
        }
      if (!apply_one (s, c, &local))
        {
          g_ptr_array_add (report, g_strdup_printf ("error: %s: %s", c->path, local->message));
          failed++;
          if (c->is_dir)
            g_ptr_array_add (blocked, g_strdup (c->path));
          continue;
        }
      g_ptr_array_add (report, g_strdup_printf ("%c %s", c->kind, c->path));
      done++;
    }
  for (guint i = 0; s->paths != NULL && s->paths[i] != NULL; i++)
    {
      hutch_autofd int upper = upper_open (s, i);
      if (upper >= 0)
        prune_empty (upper);
    }
  /* all of it on the host: what the host does from now on is no conflict */
  left = hutch_shell_changes (s, NULL);
  if (failed == 0 && left != NULL && left->len == 0)
    {
      s->since_ns = hutch_shell_now_ns ();
      (void) hutch_shell_session_save (s, NULL);
    }
  if (failed > 0)
    return hutch_throw (error, HUTCH_ERROR_FAILED,
                        "%u change%s of session %s not applied (%u applied): see above; they stay "
                        "in the session",
                        failed, failed == 1 ? "" : "s", s->name, done);
  return TRUE;
}
