/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Opening a path beneath a directory fd without ever leaving it: openat2()
 * with RESOLVE_IN_ROOT or RESOLVE_BENEATH, and a component-by-component walk
 * with the same guarantees for kernels (or seccomp profiles) without openat2.
 * Creating directories and other entries beneath a root lives in fs.c. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "util.h"
#include "util-private.h"

/* Linux's own limit on symlinks followed in one lookup (MAXSYMLINKS). */
#define MAX_SYMLINKS 40
/* openat2 answers EAGAIN when a rename or mount raced with a ".." step; the
 * kernel asks us to retry, and after this many we use the walk instead. */
#define MAX_EAGAIN 64

static char *
describe_fd (int fd)
{
  char proc[64];
  char buf[PATH_MAX];
  ssize_t n;

  g_snprintf (proc, sizeof proc, "/proc/self/fd/%d", fd);
  n = readlink (proc, buf, sizeof buf - 1);
  if (n <= 0)
    return g_strdup_printf ("directory fd %d", fd);
  buf[n] = '\0';
  return g_strdup (buf);
}

static int
throw_escape (int root_fd, const char *path, GError **error)
{
  g_autofree char *root = describe_fd (root_fd);
  hutch_throw (error, HUTCH_ERROR_UNSAFE_PATH,
               "\"%s\" leads outside %s (through \"..\" or an absolute symlink); refusing to "
               "follow it", path, root);
  errno = EXDEV;
  return -1;
}

static int
throw_open (int root_fd, const char *path, int errsv, GError **error)
{
  g_autofree char *root = describe_fd (root_fd);
  if (errsv == ELOOP)
    {
      hutch_throw (error, HUTCH_ERROR_UNSAFE_PATH,
                   "opening \"%s\" beneath %s: too many symlinks, a symlink loop, or a link "
                   "into /proc that is never followed", path, root);
      errno = ELOOP;
      return -1;
    }
  hutch_throw_errno_val (error, errsv, "opening \"%s\" beneath %s", path, root);
  return -1;
}

/* The first component of *@cursor: returns its length and advances the cursor
 * past it and the slashes that follow. */
static size_t
next_component (const char **cursor, const char **out_start)
{
  const char *p = *cursor;
  size_t len;

  while (*p == '/')
    p++;
  *out_start = p;
  len = strcspn (p, "/");
  p += len;
  while (*p == '/')
    p++;
  *cursor = p;
  return len;
}

typedef struct
{
  int root_fd;       /* not owned */
  GArray *stack;     /* owned fds of the directories entered, root excluded */
  HutchResolveMode mode;
  const char *path;  /* as asked, for messages */
  guint n_links;
} Walk;

static int
walk_top (Walk *w)
{
  return w->stack->len == 0 ? w->root_fd : g_array_index (w->stack, int, w->stack->len - 1);
}

/* Splices the target of the symlink (@dir_fd, @name) in front of @rest,
 * restarting at the root for an absolute target. */
static char *
follow_symlink (Walk *w, int dir_fd, const char *name, const char *rest, GError **error)
{
  char target[PATH_MAX + 1];
  ssize_t n;

  if (++w->n_links > MAX_SYMLINKS)
    {
      throw_open (w->root_fd, w->path, ELOOP, error);
      return NULL;
    }
  n = readlinkat (dir_fd, name, target, sizeof target);
  if (n < 0)
    {
      throw_open (w->root_fd, w->path, errno, error);
      return NULL;
    }
  if ((size_t) n >= sizeof target)
    {
      throw_open (w->root_fd, w->path, ENAMETOOLONG, error);
      return NULL;
    }
  target[n] = '\0';

  if (target[0] == '/')
    {
      if (w->mode == HUTCH_RESOLVE_BENEATH)
        {
          throw_escape (w->root_fd, w->path, error);
          return NULL;
        }
      g_array_set_size (w->stack, 0);
    }
  return g_strconcat (target, "/", rest, NULL);
}

static gboolean
is_symlink_at (int dir_fd, const char *name)
{
  struct stat st;
  return fstatat (dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK (st.st_mode);
}

int
hutch_util_open_beneath_walk (int root_fd, const char *path, int flags, mode_t mode,
                              HutchResolveMode resolve, GError **error)
{
  g_autoptr (GArray) stack = g_array_new (FALSE, FALSE, sizeof (int));
  Walk w = { root_fd, stack, resolve, path, 0 };
  g_autofree char *todo = g_strdup (path);
  const char *cursor = todo;
  const gboolean follow_last = (flags & O_NOFOLLOW) == 0;
  const gboolean trailing_slash = path[0] != '\0' && path[strlen (path) - 1] == '/';

  g_array_set_clear_func (stack, (GDestroyNotify) hutch_fd_clear);
  flags |= O_CLOEXEC;

  if (path[0] == '\0')
    return throw_open (root_fd, path, ENOENT, error);
  if (path[0] == '/' && resolve == HUTCH_RESOLVE_BENEATH)
    return throw_escape (root_fd, path, error);

  for (;;)
    {
      const char *start;
      size_t len = next_component (&cursor, &start);
      const gboolean last = *cursor == '\0';
      g_autofree char *name = g_strndup (start, len);
      hutch_autofd int fd = -1;
      struct stat st;

      if (len == 0 || strcmp (name, ".") == 0 || strcmp (name, "..") == 0)
        {
          if (strcmp (name, "..") == 0)
            {
              if (stack->len > 0)
                g_array_set_size (stack, stack->len - 1);
              else if (resolve == HUTCH_RESOLVE_BENEATH)
                return throw_escape (root_fd, path, error);
              /* RESOLVE_IN_ROOT: ".." at the root stays at the root. */
            }
          if (!last)
            continue;
          fd = openat (walk_top (&w), ".", flags & ~(O_CREAT | O_EXCL | O_NOFOLLOW), mode);
          if (fd < 0)
            return throw_open (root_fd, path, errno, error);
          return hutch_fd_steal (&fd);
        }

      if (!last)
        {
          fd = openat (walk_top (&w), name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
          if (fd < 0)
            return throw_open (root_fd, path, errno, error);
          if (fstat (fd, &st) < 0)
            return throw_open (root_fd, path, errno, error);
          if (S_ISLNK (st.st_mode))
            {
              g_autofree char *next = follow_symlink (&w, fd, "", cursor, error);
              if (next == NULL)
                return -1;
              g_free (todo);
              todo = g_steal_pointer (&next);
              cursor = todo;
              continue;
            }
          if (!S_ISDIR (st.st_mode))
            return throw_open (root_fd, path, ENOTDIR, error);
          g_array_append_val (stack, fd);
          fd = -1;
          continue;
        }

      /* The last component: open it without following, and when it turns
       * out to be a symlink we were asked to follow, resolve it ourselves. */
      fd = openat (walk_top (&w), name,
                   flags | O_NOFOLLOW | (trailing_slash ? O_DIRECTORY : 0), mode);
      if (fd >= 0 && (flags & O_PATH) && follow_last && fstat (fd, &st) == 0
          && S_ISLNK (st.st_mode))
        {
          hutch_fd_clear (&fd);
          errno = ELOOP;
        }
      if (fd < 0)
        {
          int errsv = errno;
          if ((errsv == ELOOP || errsv == ENOTDIR || errsv == EEXIST)
              && follow_last && is_symlink_at (walk_top (&w), name))
            {
              g_autofree char *next = NULL;
              /* O_CREAT|O_EXCL must not create through a symlink. */
              if ((flags & (O_CREAT | O_EXCL)) == (O_CREAT | O_EXCL))
                return throw_open (root_fd, path, EEXIST, error);
              next = follow_symlink (&w, walk_top (&w), name,
                                     trailing_slash ? "/" : "", error);
              if (next == NULL)
                return -1;
              g_free (todo);
              todo = g_steal_pointer (&next);
              cursor = todo;
              continue;
            }
          return throw_open (root_fd, path, errsv, error);
        }
      return hutch_fd_steal (&fd);
    }
}

static int
open_with (int root_fd, const char *path, int flags, mode_t mode, HutchResolveMode resolve,
           GError **error)
{
  struct open_how how = { 0 };
  guint eagain = 0;

  g_return_val_if_fail (root_fd >= 0 || root_fd == AT_FDCWD, -1);
  g_return_val_if_fail (path != NULL, -1);

  how.flags = (guint64) (flags | O_CLOEXEC);
  how.mode = (flags & (O_CREAT | O_TMPFILE)) ? mode : 0;
  how.resolve = RESOLVE_NO_MAGICLINKS
                | (resolve == HUTCH_RESOLVE_IN_ROOT ? RESOLVE_IN_ROOT : RESOLVE_BENEATH);

  for (;;)
    {
      int fd = (int) syscall (SYS_openat2, root_fd, path, &how, sizeof how);
      if (fd >= 0)
        return fd;
      switch (errno)
        {
        case EINTR:
          continue;
        case EAGAIN:
          if (++eagain < MAX_EAGAIN)
            continue;
          G_GNUC_FALLTHROUGH;
        case ENOSYS: /* kernel before 5.6 */
        case EPERM:  /* a seccomp profile that predates openat2 */
        case EINVAL: /* a filter or kernel that rejects the resolve flags */
          return hutch_util_open_beneath_walk (root_fd, path, flags, mode, resolve, error);
        case EXDEV:
          return throw_escape (root_fd, path, error);
        default:
          return throw_open (root_fd, path, errno, error);
        }
    }
}

int
hutch_util_open_beneath (int root_fd, const char *path, int flags, mode_t mode, GError **error)
{
  return open_with (root_fd, path, flags, mode, HUTCH_RESOLVE_BENEATH, error);
}

int
hutch_util_open_in_root (int root_fd, const char *path, int flags, mode_t mode, GError **error)
{
  return open_with (root_fd, path, flags, mode, HUTCH_RESOLVE_IN_ROOT, error);
}

gboolean
hutch_util_have_openat2 (void)
{
  struct open_how how = { .flags = O_PATH | O_CLOEXEC, .resolve = RESOLVE_BENEATH };
  int fd = (int) syscall (SYS_openat2, AT_FDCWD, ".", &how, sizeof how);
  if (fd < 0)
    return FALSE;
  close (fd);
  return TRUE;
}
