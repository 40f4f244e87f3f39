/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Writing a layer's entries: libarchive parses the tar from our stream, and
 * each entry is made here with *at() calls on directory fds opened one
 * component at a time with O_NOFOLLOW, so no name and no symlink (planted in
 * this layer or any other) can lead outside the layer directory. Whiteouts
 * become overlay's own: a 0/0 character device, or the opaque xattr. */
#include "config.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "layer.h"

typedef struct archive HutchArchiveReader;
G_DEFINE_AUTOPTR_CLEANUP_FUNC (HutchArchiveReader, archive_read_free)

#define WHITEOUT ".wh."
#define OPAQUE ".wh..wh..opq"

typedef struct
{
  char *path;
  struct timespec mtime;
} DirTime;

typedef struct
{
  int root_fd;
  const HutchLayerOptions *opts;
  HutchLayerStats *stats;
  HutchLayerPipe *stream; /* decoded in its own thread */
  GError *stream_error;   /* what the read callback hit */
  /* The directories on the current entry's path, held open (O_PATH):
   * held[i] is parts[0..i]. A tar lists a directory's entries together,
   * depth first, so the next entry's parent shares most of them. */
  GArray *held;         /* of int */
  GPtrArray *held_names;
  int deep_fd;          /* the parent of an entry deeper than MAX_HELD */
  int parent_fd;        /* the current parent: borrowed from the above */
  gid_t parent_gid;     /* ... and the group a new file in it gets */
  gboolean parent_setgid; /* ... a new directory in it gets S_ISGID */
  uid_t own_uid;        /* who we are: a new file is ours */
  gid_t own_gid;
  int umask;            /* this process's, or -1 when unknown */
  GArray *dir_times;
  const char *entry;    /* the entry being written, escaped, for messages */
} Unpack;

static gboolean
refuse (Unpack *u, GError **error, HutchErrorCode code, const char *why)
{
  return hutch_throw (error, code, "%s: entry \"%s\": %s", u->opts->what, u->entry, why);
}

static gboolean
refuse_errno (Unpack *u, GError **error, const char *step)
{
  int errsv = errno;
  return hutch_throw_errno_val (error, errsv, "%s: entry \"%s\": %s", u->opts->what, u->entry,
                                step);
}

/* The entry's name as components: leading "/" and "./" dropped (as tar
 * does), "." and empty parts skipped, ".." refused. */
static GPtrArray *
split_name (Unpack *u, const char *raw, GError **error)
{
  g_autoptr (GPtrArray) parts = g_ptr_array_new_with_free_func (g_free);
  g_auto (GStrv) comps = g_strsplit (raw, "/", -1);

  for (char **c = comps; *c != NULL; c++)
    {
      if (**c == '\0' || strcmp (*c, ".") == 0)
        continue;
      if (strcmp (*c, "..") == 0)
        return refuse (u, error, HUTCH_ERROR_UNSAFE_PATH, "\"..\" in a name"), NULL;
      g_ptr_array_add (parts, g_strdup (*c));
    }
  return g_steal_pointer (&parts);
}

static void
drop_held (Unpack *u, guint keep)
{
  while (u->held->len > keep)
    {
      (void) close (g_array_index (u->held, int, u->held->len - 1));
      g_array_set_size (u->held, u->held->len - 1);
      g_ptr_array_set_size (u->held_names, (gint) u->held_names->len - 1);
    }
}

static void
forget_parent (Unpack *u)
{
  drop_held (u, 0);
  hutch_fd_clear (&u->deep_fd);
  u->parent_fd = -1;
}

/* The directory @name in @fd, never through a symlink; with @create, made
 * (0755) when missing. An O_PATH fd, or -1. */
static int
open_step (Unpack *u, int fd, const char *name, gboolean create, GError **error)
{
  int next = openat (fd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

  if (next < 0 && errno == ENOENT && create)
    {
      if (mkdirat (fd, name, 0755) < 0 && errno != EEXIST)
        return refuse_errno (u, error, "making its parent directories"), -1;
      next = openat (fd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    }
  if (next < 0 && (errno == ENOTDIR || errno == ELOOP))
    return refuse (u, error, HUTCH_ERROR_UNSAFE_PATH,
                   "a directory on its path is a symlink or a file in this layer"), -1;
  if (next < 0)
    return refuse_errno (u, error, "opening its parent directory"), -1;
  return next;
}

/* Opens the directory of @parts[0 .. n-1] one component at a time, never
 * following a symlink; with @create, missing directories are made (0755).
 * Returns an O_PATH fd or -1. */
static int
walk (Unpack *u, GPtrArray *parts, guint n, gboolean create, GError **error)
{
  hutch_autofd int fd = fcntl (u->root_fd, F_DUPFD_CLOEXEC, 3);

  for (guint i = 0; i < n && fd >= 0; i++)
    {
      int next = open_step (u, fd, parts->pdata[i], create, error);
      if (next < 0)
        return -1;
      close (fd);
      fd = next;
    }
  return hutch_fd_steal (&fd);
}

/* Past this depth a path is walked afresh each time (fds are limited). */
#define MAX_HELD 64

/* The parent of the entry: only the components that differ from the last
 * entry's path are opened. What is held are the directories above the
 * current entry, so replacing an entry (clear_name, which removes a child
 * of the parent) never removes one of them. */
static int
parent_of (Unpack *u, GPtrArray *parts, GError **error)
{
  guint n = parts->len - 1, same = 0;
  struct stat st;

  while (same < u->held->len && same < n
         && strcmp (u->held_names->pdata[same], parts->pdata[same]) == 0)
    same++;
  if (u->parent_fd >= 0 && u->deep_fd < 0 && same == n && same == u->held->len)
    return u->parent_fd;
  hutch_fd_clear (&u->deep_fd);
  if (n > MAX_HELD)
    {
      forget_parent (u);
      if ((u->deep_fd = walk (u, parts, n, TRUE, error)) < 0)
        return -1;
      u->parent_fd = u->deep_fd;
    }
  else
    {
      drop_held (u, same);
      for (guint i = same; i < n; i++)
        {
          int from = i == 0 ? u->root_fd : g_array_index (u->held, int, i - 1);
          int next = open_step (u, from, parts->pdata[i], TRUE, error);
          if (next < 0)
            return forget_parent (u), -1;
          g_array_append_val (u->held, next);
          g_ptr_array_add (u->held_names, g_strdup (parts->pdata[i]));
        }
      u->parent_fd = n == 0 ? u->root_fd : g_array_index (u->held, int, n - 1);
    }
  /* A set-group-ID directory gives new files its group, not ours. */
  if (fstat (u->parent_fd, &st) < 0)
    return refuse_errno (u, error, "looking at its parent directory"), forget_parent (u), -1;
  u->parent_setgid = (st.st_mode & S_ISGID) != 0;
  u->parent_gid = u->parent_setgid ? st.st_gid : u->own_gid;
  return u->parent_fd;
}

/* An entry replaces what an earlier entry of the same name made, as tar
 * does; a directory over a directory only updates it. Returns TRUE and
 * sets *@out_dir_kept when a directory stays. */
static gboolean
clear_name (Unpack *u, int parent, const char *name, gboolean want_dir, gboolean *out_dir_kept,
            GError **error)
{
  struct stat st;

  *out_dir_kept = FALSE;
  if (fstatat (parent, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return errno == ENOENT || refuse_errno (u, error, "looking at what is there");
  if (S_ISDIR (st.st_mode) && want_dir)
    {
      *out_dir_kept = TRUE;
      return TRUE;
    }
  /* The cached directory is this entry's parent, never inside what goes. */
  if (S_ISDIR (st.st_mode) ? !hutch_util_remove_tree_at (parent, name) : unlinkat (parent, name, 0) < 0)
    return refuse_errno (u, error, "replacing what an earlier entry made");
  return TRUE;
}

static gboolean
write_data (Unpack *u, struct archive *a, struct archive_entry *entry, int fd, GError **error)
{
  const void *buf;
  size_t len;
  la_int64_t offset;
  gint64 size = archive_entry_size (entry);
  gint64 end = 0;

  for (;;)
    {
      int r = archive_read_data_block (a, &buf, &len, &offset);
      if (r == ARCHIVE_EOF)
        break;
      if (r != ARCHIVE_OK && u->stream_error != NULL)
        {
          /* the stream's own words: quota, truncation, corruption */
          g_propagate_error (error, g_steal_pointer (&u->stream_error));
          return FALSE;
        }
      if (r != ARCHIVE_OK)
        return refuse (u, error, HUTCH_ERROR_INVALID_IMAGE, archive_error_string (a));
      if ((guint64) offset + len > u->opts->max_file_size)
        return refuse (u, error, HUTCH_ERROR_INVALID_IMAGE, "its data goes beyond the size limit");
      /* Holes of sparse entries stay holes. */
      while (len > 0)
        {
          ssize_t n = pwrite (fd, buf, len, offset);
          if (n < 0 && errno == EINTR)
            continue;
          if (n <= 0)
            return refuse_errno (u, error, "writing its data");
          buf = (const char *) buf + n;
          len -= (size_t) n;
          offset += n;
        }
      end = MAX (end, (gint64) offset);
    }
  /* Only a sparse entry's trailing hole is left to make. */
  if (end != size && ftruncate (fd, size) < 0)
    return refuse_errno (u, error, "setting its size");
  return TRUE;
}

/* user.* xattrs (not overlay's own) and file capabilities; the rest is
 * dropped: trusted.* needs real root, and an image must not forge overlay
 * whiteouts or opaque marks through xattrs. */
static gboolean
set_xattrs (Unpack *u, struct archive_entry *entry, int fd, gboolean regular, GError **error)
{
  const char *name;
  const void *value;
  size_t size;

  archive_entry_xattr_reset (entry);
  while (archive_entry_xattr_next (entry, &name, &value, &size) == ARCHIVE_OK)
    {
      gboolean keep = (g_str_has_prefix (name, "user.") && !g_str_has_prefix (name, "user.overlay.")
                       && !g_str_has_prefix (name, "user.fuseoverlayfs."))
                      || (regular && strcmp (name, "security.capability") == 0);
      if (!keep)
        {
          u->stats->xattrs_dropped++;
          continue;
        }
      if (fsetxattr (fd, name, value, size, 0) < 0)
        {
          if (errno == ENOTSUP || errno == EPERM)
            {
              u->stats->xattrs_dropped++;
              continue;
            }
          return refuse_errno (u, error, "setting an extended attribute");
        }
    }
  return TRUE;
}

static gboolean
set_owner (Unpack *u, int parent, const char *name, struct archive_entry *entry, GError **error)
{
  la_int64_t uid = archive_entry_uid (entry), gid = archive_entry_gid (entry);

  if (u->opts->squash_owners)
    return TRUE; /* everything stays the user's: the single mapping */
  if (uid < 0 || gid < 0 || (guint64) uid >= u->opts->id_count || (guint64) gid >= u->opts->id_count)
    {
      g_autofree char *why = g_strdup_printf (
          "owned by %" G_GINT64_FORMAT ":%" G_GINT64_FORMAT ", outside the %" G_GUINT64_FORMAT
          " ids your subordinate ranges map (0-%" G_GUINT64_FORMAT "; add ids as \"hutch check\" "
          "says)", (gint64) uid, (gint64) gid, u->opts->id_count, u->opts->id_count - 1);
      return refuse (u, error, HUTCH_ERROR_INVALID_IMAGE, why);
    }
  if ((uid_t) uid == u->own_uid && (gid_t) gid == u->parent_gid)
    return TRUE; /* a new file is ours, in its directory's group: already right */
  if (fchownat (parent, name, (uid_t) uid, (gid_t) gid, AT_SYMLINK_NOFOLLOW) < 0)
    return refuse_errno (u, error, "setting its owner");
  return TRUE;
}

/* Whether an entry made with its mode and our ids is already as the tar
 * says: no chown (which would clear set-id bits), no set-id or sticky bit
 * (chmod's to set), no umask that took bits away. Then fchmod can go. */
static gboolean
made_right (Unpack *u, struct archive_entry *entry)
{
  la_int64_t uid = archive_entry_uid (entry), gid = archive_entry_gid (entry);
  mode_t perm = archive_entry_perm (entry) & 07777;

  if (u->umask < 0 || u->parent_setgid || (perm & 07000) != 0 || (perm & (mode_t) u->umask) != 0)
    return FALSE;
  return u->opts->squash_owners || ((uid_t) uid == u->own_uid && (gid_t) gid == u->parent_gid);
}

static gboolean
make_file (Unpack *u, struct archive *a, struct archive_entry *entry, int parent, const char *name,
           GError **error)
{
  struct timespec times[2] = { { 0, UTIME_OMIT }, { archive_entry_mtime (entry),
                                                     archive_entry_mtime_nsec (entry) } };
  hutch_autofd int fd = -1;
  gboolean right = made_right (u, entry), kept;
  mode_t mode = right ? archive_entry_perm (entry) & 0777 : 0600;

  if ((guint64) MAX (archive_entry_size (entry), 0) > u->opts->max_file_size)
    return refuse (u, error, HUTCH_ERROR_INVALID_IMAGE, "its size is over the limit");
  /* Made first, what is there looked at only when the name is taken: one
   * fstatat less per entry, and a tar rarely repeats a name. */
  fd = openat (parent, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
  if (fd < 0 && errno == EEXIST)
    {
      if (!clear_name (u, parent, name, FALSE, &kept, error))
        return FALSE;
      fd = openat (parent, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
    }
  if (fd < 0)
    return refuse_errno (u, error, "creating it");
  /* Owner before mode (chown clears setuid), capabilities after both
   * (chown clears them too), times last. */
  return write_data (u, a, entry, fd, error) && set_owner (u, parent, name, entry, error)
         && (right || fchmod (fd, archive_entry_perm (entry) & 07777) == 0
             || refuse_errno (u, error, "setting its mode"))
         && set_xattrs (u, entry, fd, TRUE, error)
         && (futimens (fd, times) == 0 || refuse_errno (u, error, "setting its times"));
}

static gboolean
make_dir (Unpack *u, struct archive_entry *entry, int parent, const char *name,
          const char *path, GError **error)
{
  hutch_autofd int fd = -1;
  DirTime t = { g_strdup (path), { archive_entry_mtime (entry), archive_entry_mtime_nsec (entry) } };
  gboolean kept = FALSE;
  mode_t mode = made_right (u, entry) ? archive_entry_perm (entry) & 0777 : 0700;
  int made = mkdirat (parent, name, mode);

  if (made < 0 && errno == EEXIST)
    {
      /* a directory stays (and gets this entry's metadata); else it goes */
      if (!clear_name (u, parent, name, TRUE, &kept, error))
        return g_free (t.path), FALSE;
      made = kept ? 0 : mkdirat (parent, name, mode);
    }
  if (made < 0)
    return g_free (t.path), refuse_errno (u, error, "making it");
  if (!kept && made_right (u, entry) && archive_entry_xattr_count (entry) == 0)
    {
      g_array_append_val (u->dir_times, t); /* set after its contents */
      return TRUE; /* made as the entry says: nothing more to set */
    }
  fd = openat (parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return g_free (t.path), refuse_errno (u, error, "opening it");
  g_array_append_val (u->dir_times, t); /* set after its contents */
  return set_owner (u, parent, name, entry, error)
         && (fchmod (fd, archive_entry_perm (entry) & 07777) == 0
             || refuse_errno (u, error, "setting its mode"))
         && set_xattrs (u, entry, fd, FALSE, error);
}

static gboolean
make_hardlink (Unpack *u, struct archive_entry *entry, int parent, const char *name,
               GError **error)
{
  g_autoptr (GPtrArray) target = split_name (u, archive_entry_hardlink (entry), error);
  hutch_autofd int tparent = -1;
  struct stat st;

  if (target == NULL)
    return FALSE;
  if (target->len == 0)
    return refuse (u, error, HUTCH_ERROR_UNSAFE_PATH, "a hard link to the layer's root");
  {
    g_autoptr (GError) local = NULL;
    tparent = walk (u, target, target->len - 1, FALSE, &local);
    if (tparent < 0 && g_error_matches (local, G_FILE_ERROR, G_FILE_ERROR_NOENT))
      return refuse (u, error, HUTCH_ERROR_UNSAFE_PATH,
                     "a hard link whose target is not a regular file already in this layer");
    if (tparent < 0)
      {
        g_propagate_error (error, g_steal_pointer (&local));
        return FALSE;
      }
  }
  if (fstatat (tparent, target->pdata[target->len - 1], &st, AT_SYMLINK_NOFOLLOW) < 0
      || !S_ISREG (st.st_mode))
    return refuse (u, error, HUTCH_ERROR_UNSAFE_PATH,
                   "a hard link whose target is not a regular file already in this layer");
  if (linkat (tparent, target->pdata[target->len - 1], parent, name, 0) < 0)
    return refuse_errno (u, error, "making the hard link");
  return TRUE;
}

/* ".wh..wh..opq" marks its directory opaque; ".wh.NAME" hides NAME below. */
static gboolean
make_whiteout (Unpack *u, int parent, const char *base, GError **error)
{
  const char *name = base + strlen (WHITEOUT);
  gboolean kept;

  if (strcmp (base, OPAQUE) == 0)
    {
      hutch_autofd int fd = openat (parent, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      /* Kernel overlay in a user namespace reads user.overlay.*; older
       * fuse-overlayfs reads user.fuseoverlayfs.* (newer reads both). */
      if (fd < 0 || fsetxattr (fd, "user.overlay.opaque", "y", 1, 0) < 0
          || fsetxattr (fd, "user.fuseoverlayfs.opaque", "y", 1, 0) < 0)
        return refuse_errno (u, error, "marking its directory opaque");
      return TRUE;
    }
  if (*name == '\0' || strcmp (name, ".") == 0 || strcmp (name, "..") == 0)
    return refuse (u, error, HUTCH_ERROR_UNSAFE_PATH, "a whiteout that names no file");
  if (g_str_has_prefix (name, WHITEOUT))
    return TRUE; /* aufs metadata such as .wh..wh.plnk: nothing to hide */
  if (!clear_name (u, parent, name, FALSE, &kept, error))
    return FALSE;
  /* Unprivileged whiteouts: Linux 5.8. */
  if (mknodat (parent, name, S_IFCHR | 0, makedev (0, 0)) < 0)
    return refuse_errno (u, error, "making the whiteout (a 0/0 character device)");
  return TRUE;
}

static gboolean
make_entry (Unpack *u, struct archive *a, struct archive_entry *entry, GPtrArray *parts,
            const char *path, GError **error)
{
  const char *base = parts->pdata[parts->len - 1];
  mode_t type = archive_entry_filetype (entry);
  struct timespec times[2] = { { 0, UTIME_OMIT }, { archive_entry_mtime (entry),
                                                     archive_entry_mtime_nsec (entry) } };
  gboolean is_link = archive_entry_hardlink (entry) != NULL;
  gboolean kept;
  int parent = parent_of (u, parts, error);

  if (parent < 0)
    return FALSE;
  if (g_str_has_prefix (base, WHITEOUT))
    return make_whiteout (u, parent, base, error);
  if (!is_link && (type == AE_IFCHR || type == AE_IFBLK || type == AE_IFSOCK))
    {
      u->stats->devices_skipped++;
      return TRUE;
    }
  /* files and directories see to a taken name themselves (EEXIST) */
  if ((is_link || (type != AE_IFREG && type != AE_IFDIR))
      && !clear_name (u, parent, base, FALSE, &kept, error))
    return FALSE;
  if (is_link)
    return make_hardlink (u, entry, parent, base, error);
  switch (type)
    {
    case AE_IFDIR:
      return make_dir (u, entry, parent, base, path, error);
    case AE_IFREG:
      return make_file (u, a, entry, parent, base, error);
    case AE_IFLNK:
      /* A symlink header with an empty link name: libarchive gives NULL,
       * which symlinkat(2) must not get (found by tests/fuzz,
       * regressions/layer-unpack); an empty target no kernel makes. */
      if (archive_entry_symlink (entry) == NULL || archive_entry_symlink (entry)[0] == '\0')
        return refuse (u, error, HUTCH_ERROR_INVALID_IMAGE, "a symlink without a target");
      if (symlinkat (archive_entry_symlink (entry), parent, base) < 0)
        return refuse_errno (u, error, "making the symlink");
      return set_owner (u, parent, base, entry, error)
             && (utimensat (parent, base, times, AT_SYMLINK_NOFOLLOW) == 0
                 || refuse_errno (u, error, "setting its times"));
    case AE_IFIFO:
      if (mknodat (parent, base, S_IFIFO | (archive_entry_perm (entry) & 0777), 0) < 0)
        return refuse_errno (u, error, "making the fifo");
      return set_owner (u, parent, base, entry, error)
             && (utimensat (parent, base, times, AT_SYMLINK_NOFOLLOW) == 0
                 || refuse_errno (u, error, "setting its times"));
    default:
      return refuse (u, error, HUTCH_ERROR_INVALID_IMAGE, "an entry of unknown type");
    }
}

/* The layer's root itself ("./"): only a directory may be it. */
static gboolean
root_entry (Unpack *u, struct archive_entry *entry, GError **error)
{
  if (archive_entry_filetype (entry) != AE_IFDIR || archive_entry_hardlink (entry) != NULL)
    return refuse (u, error, HUTCH_ERROR_UNSAFE_PATH, "an entry for the layer's root that is not a directory");
  if (!u->opts->squash_owners && archive_entry_uid (entry) >= 0
      && (guint64) archive_entry_uid (entry) < u->opts->id_count
      && (guint64) archive_entry_gid (entry) < u->opts->id_count)
    (void) fchown (u->root_fd, (uid_t) archive_entry_uid (entry), (gid_t) archive_entry_gid (entry));
  (void) fchmod (u->root_fd, archive_entry_perm (entry) & 07777);
  return TRUE;
}

/* Directory times last, deepest first, each reached again without
 * following symlinks (a later entry may have replaced a parent). */
static void
set_dir_times (Unpack *u)
{
  for (guint i = u->dir_times->len; i-- > 0;)
    {
      DirTime *t = &g_array_index (u->dir_times, DirTime, i);
      g_autoptr (GPtrArray) parts = split_name (u, t->path, NULL);
      struct timespec times[2] = { { 0, UTIME_OMIT }, t->mtime };
      hutch_autofd int parent = -1;

      if (parts == NULL || parts->len == 0)
        continue;
      parent = walk (u, parts, parts->len - 1, FALSE, NULL);
      if (parent >= 0)
        (void) utimensat (parent, parts->pdata[parts->len - 1], times, AT_SYMLINK_NOFOLLOW);
    }
}

/* The umask, from /proc/self/status (Linux 4.7): reading it with umask(2)
 * would change it for a moment under other threads. -1 when unknown. */
static int
read_umask (void)
{
  g_autofree char *text = NULL;
  const char *line;

  if (!g_file_get_contents ("/proc/self/status", &text, NULL, NULL)
      || (line = strstr (text, "\nUmask:")) == NULL)
    return -1;
  return (int) g_ascii_strtoll (line + 7, NULL, 8);
}

static la_ssize_t
read_callback (struct archive *a, void *data, const void **buffer)
{
  Unpack *u = data;
  gssize n = hutch_layer_pipe_read (u->stream, buffer, u->stream_error == NULL ? &u->stream_error : NULL);

  if (n < 0)
    archive_set_error (a, EIO, "%s", "the layer stream failed");
  return n;
}

static void
dir_time_clear (gpointer p)
{
  g_free (((DirTime *) p)->path);
}

static gboolean
unpack_entries (Unpack *u, struct archive *a, GError **error)
{
  struct archive_entry *entry;
  int r;

  /* ARCHIVE_WARN: a pax name that is not valid UTF-8 could not be
   * converted to the locale's charset; the entry still has its raw bytes,
   * which are what we write. */
  while ((r = archive_read_next_header (a, &entry)) == ARCHIVE_OK || r == ARCHIVE_WARN)
    {
      const char *raw = archive_entry_pathname (entry);
      g_autofree char *escaped = g_strescape (raw != NULL ? raw : "", NULL);
      g_autoptr (GPtrArray) parts = NULL;
      gboolean ok;

      u->entry = escaped;
      u->stats->entries++;
      parts = split_name (u, raw != NULL ? raw : "", error);
      if (parts == NULL)
        return FALSE;
      ok = parts->len == 0 ? root_entry (u, entry, error)
                           : make_entry (u, a, entry, parts, raw, error);
      u->entry = NULL;
      if (!ok)
        return FALSE;
    }
  if (r != ARCHIVE_EOF)
    {
      if (u->stream_error != NULL)
        {
          g_propagate_error (error, g_steal_pointer (&u->stream_error));
          return FALSE;
        }
      return hutch_throw (error, HUTCH_ERROR_INVALID_IMAGE, "%s: corrupt tar: %s", u->opts->what,
                          archive_error_string (a));
    }
  return TRUE;
}

static gboolean
unpack_stream (int dir_fd, HutchLayerStream *stream, const HutchLayerOptions *opts,
               HutchLayerStats *out_stats, GError **error)
{
  g_autoptr (HutchArchiveReader) a = archive_read_new ();
  Unpack u = { .root_fd = dir_fd, .opts = opts, .stats = out_stats, .parent_fd = -1, .deep_fd = -1,
               .own_uid = geteuid (), .own_gid = getegid (), .umask = read_umask () };
  gboolean ok;

  if (stream == NULL)
    return FALSE;
  u.stream = hutch_layer_pipe_new (stream, opts->what);
  u.dir_times = g_array_new (FALSE, FALSE, sizeof (DirTime));
  u.held = g_array_new (FALSE, FALSE, sizeof (int));
  u.held_names = g_ptr_array_new_with_free_func (g_free);
  g_array_set_clear_func (u.dir_times, dir_time_clear);
  /* tar only: decompression is ours, and no other format's parser runs. */
  archive_read_support_format_tar (a);
  ok = archive_read_open (a, &u, NULL, read_callback, NULL) == ARCHIVE_OK
       || (u.stream_error != NULL ? (g_propagate_error (error, g_steal_pointer (&u.stream_error)), FALSE)
                                  : hutch_throw (error, HUTCH_ERROR_INVALID_IMAGE, "%s: not a tar archive: %s",
                                                 opts->what, archive_error_string (a)));
  ok = ok && unpack_entries (&u, a, error)
       && hutch_layer_pipe_finish (u.stream, (guint64) archive_filter_bytes (a, 0),
                                   out_stats->diff_id, &out_stats->bytes, error);
  if (ok)
    set_dir_times (&u);
  forget_parent (&u);
  g_array_unref (u.held);
  g_ptr_array_unref (u.held_names);
  g_array_unref (u.dir_times);
  g_clear_error (&u.stream_error);
  /* archive_read_free (the autoptr) must not read from a freed pipe */
  archive_read_close (a);
  hutch_layer_pipe_free (u.stream);
  return ok;
}

gboolean
hutch_layer_unpack_at (int dir_fd, int blob_fd, HutchLayerCompression compression,
                       const HutchLayerOptions *opts, HutchLayerStats *out_stats, GError **error)
{
  memset (out_stats, 0, sizeof *out_stats);
  return unpack_stream (dir_fd,
                        hutch_layer_stream_new (blob_fd, compression, opts->max_bytes, opts->what,
                                                error),
                        opts, out_stats, error);
}

gboolean
hutch_layer_unpack_from (int dir_fd, HutchLayerReadFunc read, gpointer read_data,
                         HutchLayerCompression compression, const HutchLayerOptions *opts,
                         HutchLayerStats *out_stats, GError **error)
{
  memset (out_stats, 0, sizeof *out_stats);
  return unpack_stream (dir_fd,
                        hutch_layer_stream_new_from (read, read_data, compression,
                                                     opts->max_bytes, opts->what, error),
                        opts, out_stats, error);
}
