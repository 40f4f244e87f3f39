/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Reading and writing whole small files through fds, and deleting a tree
 * beneath a directory fd. Paths that come from an image never reach here:
 * they go through beneath.c or layer/ first. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

gboolean
hutch_util_write_all (int fd, const void *buf, size_t len, GError **error)
{
  const char *p = buf;

  while (len > 0)
    {
      ssize_t n = write (fd, p, len);
      if (n < 0)
        {
          if (errno == EINTR)
            continue;
          /* the caller names what is written: an fd number says nothing */
          return hutch_throw_errno (error, "write");
        }
      p += n;
      len -= (size_t) n;
    }
  return TRUE;
}

char *
hutch_util_read_all (int fd, gsize max, gsize *out_len, GError **error)
{
  g_autoptr (GByteArray) buf = g_byte_array_new ();
  guint8 chunk[8192];

  for (;;)
    {
      ssize_t n = read (fd, chunk, sizeof chunk);
      if (n < 0)
        {
          if (errno == EINTR)
            continue;
          hutch_throw_errno (error, "read");
          return NULL;
        }
      if (n == 0)
        break;
      if (buf->len + (gsize) n > max)
        {
          hutch_throw (error, HUTCH_ERROR_FAILED, "more than %" G_GSIZE_FORMAT " bytes to read",
                       max);
          return NULL;
        }
      g_byte_array_append (buf, chunk, (guint) n);
    }
  if (out_len != NULL)
    *out_len = buf->len;
  g_byte_array_append (buf, (const guint8 *) "", 1);
  return (char *) g_byte_array_free (g_steal_pointer (&buf), FALSE);
}

char *
hutch_util_read_host_file (const char *path, gsize max, GError **error)
{
  hutch_autofd int fd = open (path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
  char *data;

  if (fd < 0)
    {
      hutch_throw_errno (error, "opening %s", path);
      return NULL;
    }
  data = hutch_util_read_all (fd, max, NULL, error);
  if (data == NULL)
    g_prefix_error (error, "%s: ", path);
  return data;
}

gboolean
hutch_util_read_exact (int fd, void *buf, size_t len)
{
  char *p = buf;

  while (len > 0)
    {
      ssize_t n = read (fd, p, len);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return FALSE;
      p += n;
      len -= (size_t) n;
    }
  return TRUE;
}

GPtrArray *
hutch_util_list_dir_at (int dfd, GError **error)
{
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  int fd = openat (dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  DIR *dir;
  struct dirent *e;

  if (fd < 0 || (dir = fdopendir (fd)) == NULL)
    {
      if (fd >= 0)
        close (fd);
      return hutch_throw_errno (error, "listing a directory"), NULL;
    }
  while ((e = readdir (dir)) != NULL)
    if (strcmp (e->d_name, ".") != 0 && strcmp (e->d_name, "..") != 0)
      g_ptr_array_add (names, g_strdup (e->d_name));
  closedir (dir);
  return g_steal_pointer (&names);
}

gboolean
hutch_util_replace_file (const char *path, const char *data, gsize len, mode_t mode,
                         gboolean sync, GError **error)
{
  g_autofree char *tmp = g_strconcat (path, ".XXXXXX", NULL);
  hutch_autofd int fd = g_mkstemp_full (tmp, O_WRONLY | O_CLOEXEC, (int) mode);

  if (fd < 0)
    return hutch_throw_errno (error, "writing %s", path);
  if ((!hutch_util_write_all (fd, data, len, NULL) || (sync && fsync (fd) < 0)
       || rename (tmp, path) < 0))
    {
      int errsv = errno;
      (void) unlink (tmp);
      return hutch_throw_errno_val (error, errsv, "writing %s", path);
    }
  return TRUE;
}

/* A directory's entries, @fd taken; those readdir says are not directories
 * are unlinked without opening them first. */
static void
remove_entries (int fd)
{
  DIR *dir = fdopendir (fd);
  struct dirent *e;

  if (dir == NULL)
    {
      close (fd);
      return;
    }
  while ((e = readdir (dir)) != NULL)
    {
      if (strcmp (e->d_name, ".") == 0 || strcmp (e->d_name, "..") == 0)
        continue;
      if (e->d_type != DT_DIR && e->d_type != DT_UNKNOWN && unlinkat (dirfd (dir), e->d_name, 0) == 0)
        continue;
      (void) hutch_util_remove_tree_at (dirfd (dir), e->d_name);
    }
  closedir (dir);
}

char *
hutch_util_format_size (guint64 bytes)
{
  char *text = g_format_size (bytes);
  char *nbsp;

  while ((nbsp = strstr (text, "\xc2\xa0")) != NULL)
    {
      *nbsp = ' ';
      memmove (nbsp + 1, nbsp + 2, strlen (nbsp + 2) + 1);
    }
  return text;
}

gboolean
hutch_util_remove_tree_at (int dfd, const char *name)
{
  int fd = openat (dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

  if (fd < 0)
    return unlinkat (dfd, name, 0) == 0 || errno == ENOENT;
  remove_entries (fd);
  return unlinkat (dfd, name, AT_REMOVEDIR) == 0 || errno == ENOENT;
}
