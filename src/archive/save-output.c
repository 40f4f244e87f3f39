/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Where `hutch save` writes: stdout, a file or an OCI layout directory.
 * A file or directory appears whole or not at all: the archive is written
 * to an unnamed file (O_TMPFILE) or a hidden temporary directory next to the
 * target, synced, and only then given the target's name, so a full disk or
 * a kill halfway leaves nothing a later `load` could mistake for an archive. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "archive-private.h"

void
hutch_archive_output_clear (SaveOutput *o)
{
  if (o->tmp_name != NULL)
    {
      /* not committed: what we wrote goes */
      if (o->is_dir)
        {
          hutch_autofd int parent = open (o->parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
          if (parent >= 0)
            (void) hutch_util_remove_tree_at (parent, o->tmp_name);
        }
      else
        {
          g_autofree char *tmp = g_build_filename (o->parent, o->tmp_name, NULL);
          (void) unlink (tmp);
        }
    }
  hutch_fd_clear (&o->fd);
  g_clear_pointer (&o->tmp_name, g_free);
  g_clear_pointer (&o->parent, g_free);
  g_clear_pointer (&o->path, g_free);
}

static char *
hidden_name (const char *base)
{
  return g_strdup_printf (".%s.hutch-%08x", base, g_random_int ());
}

/* A directory that is missing or empty can take the layout's name. */
static gboolean
check_dir_target (const char *path, GError **error)
{
  g_autoptr (GDir) dir = NULL;
  struct stat st;

  if (lstat (path, &st) < 0)
    return errno == ENOENT || hutch_throw_errno (error, "looking at %s", path);
  if (!S_ISDIR (st.st_mode))
    return hutch_throw (error, HUTCH_ERROR_USAGE,
                        "%s exists and is not a directory: an oci-dir is written as a new "
                        "directory; name one that does not exist, or remove it first", path);
  dir = g_dir_open (path, 0, NULL);
  if (dir != NULL && g_dir_read_name (dir) != NULL)
    return hutch_throw (error, HUTCH_ERROR_USAGE,
                        "directory %s is not empty: an oci-dir is written as a new directory; "
                        "name one that does not exist, or remove it first", path);
  return TRUE;
}

gboolean
hutch_archive_output_open (SaveOutput *o, const char *path, gboolean is_dir, GError **error)
{
  g_autofree char *base = NULL;
  struct stat st;

  memset (o, 0, sizeof *o);
  o->fd = -1;
  o->is_dir = is_dir;
  if (path == NULL)
    {
      o->fd = fcntl (STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
      if (o->fd < 0)
        return hutch_throw_errno (error, "writing the archive to stdout");
      return TRUE;
    }
  o->path = g_strdup (path);
  o->parent = g_path_get_dirname (path);
  base = g_path_get_basename (path);
  if (is_dir)
    {
      g_autofree char *tmp = NULL;
      if (!check_dir_target (path, error))
        return FALSE;
      o->tmp_name = hidden_name (base);
      tmp = g_build_filename (o->parent, o->tmp_name, NULL);
      if (mkdir (tmp, 0755) < 0)
        {
          int e = errno;
          g_clear_pointer (&o->tmp_name, g_free);
          errno = e;
          return hutch_throw_errno (error, "making the directory %s", path);
        }
      o->fd = open (tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      return o->fd >= 0 || hutch_throw_errno (error, "opening %s", tmp);
    }
  /* A fifo or a device (-o /dev/stdout) is written as it is: there is no
   * name to give it at the end. */
  if (stat (path, &st) == 0 && !S_ISREG (st.st_mode))
    {
      if (S_ISDIR (st.st_mode))
        return hutch_throw (error, HUTCH_ERROR_USAGE,
                            "%s is a directory: -o names the archive file to write (or use "
                            "--format oci-dir to write an OCI layout directory)", path);
      o->fd = open (path, O_WRONLY | O_CLOEXEC);
      return o->fd >= 0 || hutch_throw_errno (error, "opening %s", path);
    }
  o->fd = open (o->parent, O_TMPFILE | O_WRONLY | O_CLOEXEC, 0644);
  if (o->fd >= 0)
    return o->tmpfile = TRUE;
  if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL)
    return hutch_throw_errno (error, "cannot write %s", path);
  /* A file system without unnamed files: a hidden name, removed on failure */
  o->tmp_name = hidden_name (base);
  {
    g_autofree char *tmp = g_build_filename (o->parent, o->tmp_name, NULL);
    o->fd = open (tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (o->fd < 0)
      {
        int e = errno;
        g_clear_pointer (&o->tmp_name, g_free);
        errno = e;
        return hutch_throw_errno (error, "cannot write %s", path);
      }
  }
  return TRUE;
}

#define WRITEBACK_STEP ((guint64) 8 << 20)

gboolean
hutch_archive_output_write (gpointer data, const void *buf, gsize len, GError **error)
{
  SaveOutput *o = data;

  if (!hutch_util_write_all (o->fd, buf, len, error))
    return g_prefix_error (error, "writing %s: ", o->path != NULL ? o->path : "the archive to stdout"),
           FALSE;
  o->written += len;
  /* The file is synced before it gets its name; writing it back as it
   * grows, not all at the end, lets the disk work while we decompress. */
  if ((o->tmpfile || o->tmp_name != NULL) && !o->is_dir
      && o->written - o->kicked >= WRITEBACK_STEP)
    {
      (void) sync_file_range (o->fd, (off64_t) o->kicked, (off64_t) (o->written - o->kicked),
                              SYNC_FILE_RANGE_WRITE);
      o->kicked = o->written;
    }
  return TRUE;
}

/* Gives the file its name: linked from its fd under a hidden name, then
 * renamed over the target (linkat cannot replace a file). */
static gboolean
name_tmpfile (SaveOutput *o, GError **error)
{
  g_autofree char *proc = g_strdup_printf ("/proc/self/fd/%d", o->fd);
  g_autofree char *base = g_path_get_basename (o->path);

  for (int tries = 0; o->tmp_name == NULL; tries++)
    {
      g_autofree char *name = hidden_name (base);
      g_autofree char *tmp = g_build_filename (o->parent, name, NULL);
      if (linkat (AT_FDCWD, proc, AT_FDCWD, tmp, AT_SYMLINK_FOLLOW) == 0)
        o->tmp_name = g_steal_pointer (&name);
      else if (errno != EEXIST || tries > 16)
        return hutch_throw_errno (error, "naming %s", o->path);
    }
  return TRUE;
}

gboolean
hutch_archive_output_commit (SaveOutput *o, GError **error)
{
  g_autofree char *tmp = NULL;

  if (o->path == NULL)
    return TRUE; /* stdout */
  if ((o->is_dir ? syncfs (o->fd) : fsync (o->fd)) < 0 && errno != EINVAL)
    return hutch_throw_errno (error, "writing %s", o->path);
  if (!o->is_dir && o->tmp_name == NULL && !o->tmpfile)
    return TRUE; /* a fifo or a device: nothing to name */
  if (o->tmpfile && !name_tmpfile (o, error))
    return FALSE;
  tmp = g_build_filename (o->parent, o->tmp_name, NULL);
  if (rename (tmp, o->path) < 0)
    {
      if (o->is_dir && (errno == ENOTEMPTY || errno == EEXIST))
        return hutch_throw (error, HUTCH_ERROR_USAGE,
                            "directory %s was filled while the layout was written: not "
                            "replacing it", o->path);
      return hutch_throw_errno (error, "renaming the finished archive to %s", o->path);
    }
  g_clear_pointer (&o->tmp_name, g_free);
  return TRUE;
}
