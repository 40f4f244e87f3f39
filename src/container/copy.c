/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* hutch cp: files between the host and a container, as docker cp copies
 * them. Both ways a tar stream goes through a pipe between hutch (the
 * host's side, as the user) and a child that sees the container's files
 * (rootfs.c): the child resolves the container path beneath the
 * container's root, tells hutch what is there, hutch applies docker's
 * rules for the destination and answers, then the tar flows. The child
 * writes it with the one tar writer (owners as the container sees them)
 * or unpacks it with the layer unpacker, which refuses any name that
 * leads out of the directory it unpacks into. Neither side ever opens the
 * other side's paths. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "container-private.h"
#include "layer/layer.h"

/* What the child found at the container path. */
typedef struct
{
  gint32 err;       /* errno of resolving it; 0 when it is there */
  guint32 mode;     /* its st_mode */
  guint32 parent_ok; /* copying in to a path not there: its parent is a directory */
} PathInfo;

/* A container path split as docker cp reads it. */
typedef struct
{
  char *path;       /* without a trailing "/." or "/" */
  char *dir;        /* its parent directory */
  char *base;       /* its last component ("." for the root) */
  gboolean contents; /* "SRC/.": what the directory holds */
  gboolean slash;    /* "DEST/": must be a directory */
} CopyPath;

static void
copy_path_clear (CopyPath *p)
{
  g_free (p->path);
  g_free (p->dir);
  g_free (p->base);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (CopyPath, copy_path_clear)

static void
copy_path_parse (const char *text, CopyPath *out)
{
  g_autoptr (GString) s = g_string_new (text);

  memset (out, 0, sizeof *out);
  if (g_str_has_suffix (s->str, "/.") || strcmp (s->str, ".") == 0)
    {
      out->contents = TRUE;
      g_string_truncate (s, s->len - 1);
    }
  out->slash = s->len > 0 && s->str[s->len - 1] == '/';
  while (s->len > 1 && s->str[s->len - 1] == '/')
    g_string_truncate (s, s->len - 1);
  if (s->len == 0)
    g_string_assign (s, ".");
  out->path = g_strdup (s->str);
  out->dir = g_path_get_dirname (s->str);
  out->base = g_path_get_basename (s->str);
  if (strcmp (out->base, "/") == 0)
    {
      g_free (out->base);
      out->base = g_strdup (".");
    }
}

static gboolean
write_fd (gpointer data, const void *buf, gsize len, GError **error)
{
  return hutch_util_write_all (*(int *) data, buf, len, error);
}

static gssize
read_fd (gpointer data, void *buf, gsize len, GError **error)
{
  for (;;)
    {
      ssize_t n = read (*(int *) data, buf, len);
      if (n >= 0)
        return n;
      if (errno != EINTR)
        return hutch_throw_errno (error, "reading the tar stream"), -1;
    }
}

/* Copies @in to @out to its end. */
static gboolean
pump (int in, int out, const char *what, GError **error)
{
  g_autofree char *buf = g_malloc (1 << 17);

  for (;;)
    {
      gssize n = read_fd (&in, buf, 1 << 17, error);
      if (n < 0)
        return g_prefix_error (error, "%s: ", what), FALSE;
      if (n == 0)
        return TRUE;
      if (!hutch_util_write_all (out, buf, (gsize) n, error))
        return g_prefix_error (error, "%s: ", what), FALSE;
    }
}

/* ---- in the child (the container's side) ---- */

/* The tar stream, its first bytes read ahead to see whether it is
 * compressed (a tar on stdin may be, as docker cp takes it). */
typedef struct
{
  int fd;
  guint8 head[4];
  gsize head_len;
  gsize head_pos;
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
      return (gssize) n;
    }
  return read_fd (&s->fd, buf, len, error);
}

static HutchLayerCompression
sniff (Sniffed *s, GError **error)
{
  while (s->head_len < sizeof s->head)
    {
      gssize n = read_fd (&s->fd, s->head + s->head_len, sizeof s->head - s->head_len, error);
      if (n <= 0)
        break;
      s->head_len += (gsize) n;
    }
  return hutch_layer_sniff (s->head, s->head_len);
}

typedef struct
{
  const char *path;
  const char *what; /* for the unpacker's messages */
  int up;           /* to hutch: PathInfo, then (out) the tar */
  int down;         /* from hutch: the answer, then (in) the tar */
  int theirs[2];    /* hutch's ends, which the child closes: held, neither
                     * side would see the other's end */
  guint64 id_count;
  gboolean squash;
} Job;

/* The answer: a length, then the tar's top name (out) or the directory
 * to unpack into, "." or ".." of the path (in). Length 0: hutch gave up. */
static char *
answer_read (int fd)
{
  guint32 len;
  char *text;

  if (!hutch_util_read_exact (fd, &len, sizeof len) || len == 0 || len > 4096)
    return NULL;
  text = g_malloc0 (len + 1);
  if (!hutch_util_read_exact (fd, text, len))
    return g_free (text), NULL;
  return text;
}

static gboolean
answer_write (int fd, const char *text, GError **error)
{
  guint32 len = text != NULL ? (guint32) strlen (text) : 0;

  return hutch_util_write_all (fd, &len, sizeof len, error)
         && hutch_util_write_all (fd, text != NULL ? text : "", len, error);
}

/* The source: its directory beneath @root and its stat; a trailing "/"
 * or "/." follows a symlink to a directory (within the root). */
static int
source_open (int root, const CopyPath *p, const char **out_base, struct stat *st, GError **error)
{
  hutch_autofd int dir = -1;

  if (p->contents || p->slash)
    {
      dir = hutch_util_open_in_root (root, p->path, O_PATH | O_DIRECTORY, 0, error);
      *out_base = ".";
    }
  else
    {
      dir = hutch_util_open_in_root (root, p->dir, O_PATH | O_DIRECTORY, 0, error);
      *out_base = p->base;
    }
  if (dir < 0)
    return -1;
  if (fstatat (dir, *out_base, st, AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH) < 0)
    return hutch_throw_errno (error, "%s", p->path), -1;
  return hutch_fd_steal (&dir);
}

static gboolean
out_child (int root, gpointer data, GError **error)
{
  Job *j = data;
  g_auto (CopyPath) p;
  g_autoptr (GError) local = NULL;
  g_autoptr (HutchTarWriter) w = NULL;
  g_autofree char *name = NULL;
  PathInfo info = { 0 };
  hutch_autofd int dir = -1;
  const char *base = NULL;
  HutchTarWriteStats stats;
  struct stat st;

  /* hutch gone or given up: a write error, not a silent death */
  signal (SIGPIPE, SIG_IGN);
  hutch_fd_clear (&j->theirs[0]), hutch_fd_clear (&j->theirs[1]);
  copy_path_parse (j->path, &p);
  dir = source_open (root, &p, &base, &st, &local);
  if (dir < 0)
    info.err = local->domain == G_FILE_ERROR ? errno : EXDEV;
  else
    info.mode = st.st_mode;
  if (!hutch_util_write_all (j->up, &info, sizeof info, error))
    return FALSE;
  if (info.err != 0 || (name = answer_read (j->down)) == NULL)
    return TRUE; /* hutch says why */
  w = hutch_tar_writer_new (write_fd, &j->up, j->what);
  if (S_ISDIR (st.st_mode))
    return hutch_tar_writer_add_tree (w, dir, base, name, HUTCH_TAR_TREE_FLAT, NULL, error)
           && hutch_tar_writer_finish (w, &stats, error);
  return hutch_tar_writer_add_path (w, dir, base, name, HUTCH_TAR_TREE_FLAT, error)
         && hutch_tar_writer_finish (w, &stats, error);
}

static gboolean
in_child (int root, gpointer data, GError **error)
{
  Job *j = data;
  g_auto (CopyPath) p;
  g_autofree char *where = NULL;
  PathInfo info = { 0 };
  hutch_autofd int target = -1, dir = -1;
  HutchLayerOptions opts = {
    .what = j->what,
    .max_bytes = G_MAXUINT64,
    .max_file_size = G_MAXUINT64,
    .id_count = j->id_count,
    .squash_owners = j->squash,
  };
  HutchLayerStats stats;
  Sniffed in = { .fd = j->down };
  g_autoptr (GError) local = NULL;
  HutchLayerCompression compression;
  struct stat st;

  signal (SIGPIPE, SIG_IGN);
  hutch_fd_clear (&j->theirs[0]), hutch_fd_clear (&j->theirs[1]);
  copy_path_parse (j->path, &p);
  /* a destination that is a symlink is followed, within the root */
  target = hutch_util_open_in_root (root, p.path, O_PATH, 0, NULL);
  if (target >= 0 && fstat (target, &st) == 0)
    info.mode = st.st_mode;
  else if (errno == ENOENT)
    {
      info.err = ENOENT;
      dir = hutch_util_open_in_root (root, p.dir, O_PATH | O_DIRECTORY, 0, NULL);
      info.parent_ok = dir >= 0;
    }
  else
    info.err = errno;
  if (!hutch_util_write_all (j->up, &info, sizeof info, error))
    return FALSE;
  if ((where = answer_read (j->down)) == NULL)
    return TRUE;
  hutch_fd_clear (&target);
  target = hutch_util_open_in_root (root, strcmp (where, ".") == 0 ? p.path : p.dir,
                                    O_RDONLY | O_DIRECTORY, 0, error);
  if (target < 0)
    return FALSE;
  compression = sniff (&in, &local);
  if (local != NULL)
    return g_propagate_error (error, g_steal_pointer (&local)), FALSE;
  return hutch_layer_unpack_from (target, read_sniffed, &in, compression, &opts, &stats, error);
}

/* ---- in hutch (the host's side) ---- */

typedef struct
{
  int up[2];
  int down[2];
  HutchSandboxRootJob *job;
} Channel;

static void
channel_close (Channel *ch)
{
  for (int i = 0; i < 2; i++)
    hutch_fd_clear (&ch->up[i]), hutch_fd_clear (&ch->down[i]);
}

static gboolean
channel_start (const HutchContext *ctx, const char *id, HutchSandboxRootFunc func, Job *j,
               Channel *ch, PathInfo *info, GError **error)
{
  ch->up[0] = ch->up[1] = ch->down[0] = ch->down[1] = -1;
  if (pipe2 (ch->up, O_CLOEXEC) < 0 || pipe2 (ch->down, O_CLOEXEC) < 0)
    return channel_close (ch), hutch_throw_errno (error, "pipe");
  j->up = ch->up[1];
  j->down = ch->down[0];
  j->theirs[0] = ch->up[0];
  j->theirs[1] = ch->down[1];
  ch->job = hutch_container_root_job_start (ctx, id, HUTCH_SANDBOX_VIEW_MOUNTS, func, j, error);
  /* the child's ends: held here, neither side would see the other's end */
  hutch_fd_clear (&ch->up[1]);
  hutch_fd_clear (&ch->down[0]);
  if (ch->job == NULL)
    return channel_close (ch), FALSE;
  if (!hutch_util_read_exact (ch->up[0], info, sizeof *info))
    {
      channel_close (ch);
      if (hutch_sandbox_root_job_finish (g_steal_pointer (&ch->job), error))
        hutch_throw (error, HUTCH_ERROR_FAILED, "the process in the container ended early");
      return FALSE;
    }
  return TRUE;
}

/* Ends the exchange: the child's error, if it had one, is the one that
 * says why (a broken pipe here is only its consequence). */
static gboolean
channel_finish (Channel *ch, gboolean ok, GError **error)
{
  g_autoptr (GError) local = NULL;
  gboolean child_ok;

  channel_close (ch);
  child_ok = hutch_sandbox_root_job_finish (g_steal_pointer (&ch->job), &local);
  if (child_ok)
    return ok;
  /* a child that could not write because hutch had stopped reading (its
   * own failure, said already) is no news */
  if (!ok && error != NULL && *error != NULL
      && g_error_matches (local, G_FILE_ERROR, G_FILE_ERROR_PIPE))
    return FALSE;
  if (error != NULL && *error != NULL)
    g_clear_error (error);
  g_propagate_error (error, g_steal_pointer (&local));
  return FALSE;
}

/* The container path was not there, or could not be resolved. */
static gboolean
throw_path (GError **error, const HutchCopyOptions *o, int err)
{
  if (err == ENOENT || err == ENOTDIR)
    return hutch_throw (error, HUTCH_ERROR_NOT_FOUND, "container %s has no %s: %s", o->ref,
                        o->path,
                        err == ENOTDIR ? "a file on its path is taken as a directory"
                                       : "no such file or directory");
  if (err == EXDEV || err == ELOOP)
    return hutch_throw (error, HUTCH_ERROR_UNSAFE_PATH,
                        "%s in container %s: a symlink on the path leads out of the container, "
                        "or loops: refused",
                        o->path, o->ref);
  return hutch_throw_errno_val (error, err, "%s in container %s", o->path, o->ref);
}

/* docker cp's rules for a host destination: the directory to unpack into
 * and the top name the tar is to have there. */
static gboolean
host_destination (const HutchCopyOptions *o, const CopyPath *src, gboolean src_dir, int *out_dfd,
                  char **out_name, GError **error)
{
  g_auto (CopyPath) dst;
  struct stat st;
  const char *dir;

  gboolean exists;

  copy_path_parse (o->host, &dst);
  if (stat (o->host, &st) == 0)
    exists = TRUE;
  else if (errno == ENOENT)
    exists = FALSE;
  else
    return hutch_throw_errno (error, "%s", o->host);
  if (exists && S_ISDIR (st.st_mode))
    {
      dir = o->host;
      *out_name = g_strdup (src->contents ? "." : src->base);
    }
  else
    {
      if (exists && src_dir)
        return hutch_throw (error, HUTCH_ERROR_USAGE,
                            "cannot copy the directory %s onto the file %s", o->path, o->host);
      if (!exists && dst.slash && !src_dir)
        return hutch_throw (error, HUTCH_ERROR_NOT_FOUND,
                            "the destination directory %s does not exist: make it first",
                            o->host);
      dir = dst.dir;
      *out_name = g_strdup (dst.base);
    }
  *out_dfd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (*out_dfd < 0)
    {
      g_clear_pointer (out_name, g_free);
      return hutch_throw_errno (error, "%s", dir);
    }
  return TRUE;
}

gboolean
hutch_container_copy_out (const HutchContext *ctx, const char *id, const HutchCopyOptions *o,
                          GError **error)
{
  g_auto (CopyPath) src;
  g_autofree char *name = NULL;
  hutch_autofd int dfd = -1;
  g_autofree char *what = g_strdup_printf ("copying %s out of container %s", o->path, o->ref);
  Job j = { .path = o->path, .what = what };
  Channel ch;
  PathInfo info;
  gboolean ok;

  copy_path_parse (o->path, &src);
  if (!channel_start (ctx, id, out_child, &j, &ch, &info, error))
    return FALSE;
  if (info.err != 0)
    ok = throw_path (error, o, info.err);
  else if (o->host == NULL)
    ok = (name = g_strdup (src.contents ? "." : src.base)) != NULL;
  else
    ok = host_destination (o, &src, S_ISDIR (info.mode), &dfd, &name, error);
  ok = ok && answer_write (ch.down[1], name, error);
  hutch_fd_clear (&ch.down[1]);
  if (ok && o->host == NULL)
    ok = pump (ch.up[0], STDOUT_FILENO, "writing the tar to stdout", error);
  else if (ok)
    {
      /* As the user, without chown: the files are the caller's (docker
       * cp); the unpacker still refuses a name that leads out of @dfd. */
      HutchLayerOptions opts = { what, G_MAXUINT64, G_MAXUINT64, G_MAXUINT64, TRUE };
      HutchLayerStats stats;
      ok = hutch_layer_unpack_from (dfd, read_fd, &ch.up[0], HUTCH_LAYER_PLAIN, &opts, &stats,
                                    error);
    }
  return channel_finish (&ch, ok, error);
}

/* The host's source as a tar named @name on @fd. */
static gboolean
host_source_write (const HutchCopyOptions *o, const CopyPath *src, const struct stat *st,
                   const char *name, int fd, GError **error)
{
  g_autoptr (HutchTarWriter) w = hutch_tar_writer_new (write_fd, &fd, o->host);
  const char *dir = src->contents || src->slash ? src->path : src->dir;
  const char *base = src->contents || src->slash ? "." : src->base;
  hutch_autofd int dfd = open (dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
  HutchTarWriteStats stats;

  if (dfd < 0)
    return hutch_throw_errno (error, "%s", dir);
  if (S_ISDIR (st->st_mode))
    return hutch_tar_writer_add_tree (w, dfd, base, name, HUTCH_TAR_TREE_FLAT, NULL, error)
           && hutch_tar_writer_finish (w, &stats, error);
  return hutch_tar_writer_add_path (w, dfd, base, name, HUTCH_TAR_TREE_FLAT, error)
         && hutch_tar_writer_finish (w, &stats, error);
}

/* docker cp's rules for a container destination: "." (into the path) or
 * ".." (into its parent), and the tar's top name. */
static gboolean
container_destination (const HutchCopyOptions *o, const CopyPath *src, const struct stat *src_st,
                       const PathInfo *info, const char **out_where, char **out_name,
                       GError **error)
{
  g_auto (CopyPath) dst;
  gboolean src_dir = src_st != NULL && S_ISDIR (src_st->st_mode);

  copy_path_parse (o->path, &dst);
  if (info->err != 0 && info->err != ENOENT)
    return throw_path (error, o, info->err);
  if (info->err == 0 && S_ISDIR (info->mode))
    {
      *out_where = ".";
      *out_name = g_strdup (src == NULL || src->contents ? "." : src->base);
      return TRUE;
    }
  if (src == NULL)
    return hutch_throw (error, info->err == 0 ? HUTCH_ERROR_USAGE : HUTCH_ERROR_NOT_FOUND,
                        "%s in container %s is not a directory: from a tar stream (-) the "
                        "destination must be one", o->path, o->ref);
  if (info->err == 0 && src_dir)
    return hutch_throw (error, HUTCH_ERROR_USAGE,
                        "cannot copy the directory %s onto the file %s in container %s", o->host,
                        o->path, o->ref);
  if (info->err == ENOENT && ((dst.slash && !src_dir) || !info->parent_ok))
    return hutch_throw (error, HUTCH_ERROR_NOT_FOUND,
                        "container %s has no directory %s: make it first",
                        o->ref, dst.slash && !src_dir ? dst.path : dst.dir);
  *out_where = "..";
  *out_name = g_strdup (dst.base);
  return TRUE;
}

gboolean
hutch_container_copy_in (const HutchContext *ctx, const char *id, const HutchCopyOptions *o,
                         GError **error)
{
  g_auto (CopyPath) src = { 0 };
  g_autoptr (HutchContainer) c = hutch_container_load (ctx, id, error);
  g_autoptr (HutchIdMap) map = c != NULL ? hutch_container_idmap_new (c, error) : NULL;
  g_autofree char *name = NULL;
  const char *where = NULL;
  struct sigaction ignore = { .sa_handler = SIG_IGN }, old_pipe;
  g_autofree char *what = g_strdup_printf ("copying into %s in container %s", o->path, o->ref);
  Job j = { .path = o->path, .what = what, .squash = !o->archive };
  struct stat st;
  Channel ch;
  PathInfo info;
  gboolean ok;

  if (map == NULL)
    return FALSE;
  j.id_count = hutch_sandbox_idmap_size (map);
  if (o->host != NULL)
    {
      copy_path_parse (o->host, &src);
      if ((src.contents || src.slash ? stat (src.path, &st) : lstat (src.path, &st)) < 0)
        return hutch_throw_errno (error, "%s", o->host), FALSE;
      if ((src.contents || src.slash) && !S_ISDIR (st.st_mode))
        return hutch_throw (error, HUTCH_ERROR_USAGE, "%s is not a directory", o->host);
    }
  if (!channel_start (ctx, id, in_child, &j, &ch, &info, error))
    return FALSE;
  /* A child that stops reading (it refused a member, the disk is full) is
   * an EPIPE here, and its own error the one told, not a death by
   * SIGPIPE without a word. */
  sigaction (SIGPIPE, &ignore, &old_pipe);
  ok = container_destination (o, o->host != NULL ? &src : NULL, o->host != NULL ? &st : NULL,
                              &info, &where, &name, error)
       && answer_write (ch.down[1], where, error);
  if (ok && o->host == NULL)
    ok = pump (STDIN_FILENO, ch.down[1], "passing the tar from stdin on", error);
  else if (ok)
    ok = host_source_write (o, &src, &st, name, ch.down[1], error);
  hutch_fd_clear (&ch.down[1]);
  sigaction (SIGPIPE, &old_pipe, NULL);
  return channel_finish (&ch, ok, error);
}
