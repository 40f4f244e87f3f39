/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* `hutch logs`: the log of a container (log-file.c writes it) read back,
 * its rotated files oldest first, then ctr.log; with -f followed (inotify
 * on the container's directory) across rotations until the monitor has
 * gone. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "container-private.h"

/* ---- reading ---- */

typedef struct
{
  const HutchLogsOptions *o;
  GString *partial;   /* of the line being read from the file */
  gboolean mid[2];    /* a P piece was printed: the next is the same line */
  int dir;            /* the container's directory */
  int max_file;       /* its log's files: ctr.log.<max_file - 1> is the oldest */
} Reader;

static gint64
line_time (const char *line)
{
  g_autofree char *ts = g_strndup (line, strcspn (line, " "));
  g_autoptr (GDateTime) t = g_date_time_new_from_iso8601 (ts, NULL);

  return t != NULL ? g_date_time_to_unix (t) * G_USEC_PER_SEC + g_date_time_get_microsecond (t) : 0;
}

/* One line of the file: "TIME STREAM F|P TEXT". */
static void
print_line (Reader *r, const char *line)
{
  const char *sp1 = strchr (line, ' '), *sp2 = sp1 != NULL ? strchr (sp1 + 1, ' ') : NULL;
  gboolean err, full;
  FILE *to;

  if (sp2 == NULL || (sp2[1] != 'F' && sp2[1] != 'P') || (sp2[2] != ' ' && sp2[2] != '\0'))
    return;
  if (r->o->since != 0 && line_time (line) < r->o->since)
    return;
  err = strncmp (sp1 + 1, "stderr", 6) == 0;
  full = sp2[1] == 'F';
  to = err ? stderr : stdout;
  if (r->o->timestamps && !r->mid[err])
    fprintf (to, "%.*s ", (int) (sp1 - line), line);
  fputs (sp2[2] != '\0' ? sp2 + 3 : "", to);
  if (full)
    fputc ('\n', to);
  r->mid[err] = !full;
}

/* Prints the complete lines of @text (@len bytes), keeping a last one
 * without its newline for later. */
static void
print_text (Reader *r, const char *text, gsize len)
{
  g_string_append_len (r->partial, text, (gssize) len);
  for (;;)
    {
      char *nl = memchr (r->partial->str, '\n', r->partial->len);
      if (nl == NULL)
        break;
      *nl = '\0';
      print_line (r, r->partial->str);
      g_string_erase (r->partial, 0, nl - r->partial->str + 1);
    }
  fflush (stdout);
  fflush (stderr);
}

static gboolean
is_full (const char *line)
{
  const char *sp1 = strchr (line, ' '), *sp2 = sp1 != NULL ? strchr (sp1 + 1, ' ') : NULL;

  return sp2 != NULL && sp2[1] == 'F';
}

/* How many whole lines (F) @text has. */
static gint64
count_full (const char *text, gsize len)
{
  gint64 n = 0;

  for (gsize i = 0; i < len;)
    {
      const char *nl = memchr (text + i, '\n', len - i);
      n += is_full (text + i);
      i = nl != NULL ? (gsize) (nl - text) + 1 : len;
    }
  return n;
}

/* Where the last @n whole lines of the log begin (P pieces go with the F
 * that ends their line). */
static gsize
tail_start (const char *text, gsize len, gint64 n)
{
  g_autoptr (GArray) starts = g_array_new (FALSE, FALSE, sizeof (gsize));
  gint64 seen = 0;

  if (n < 0)
    return 0;
  for (gsize i = 0; i < len;)
    {
      const char *nl = memchr (text + i, '\n', len - i);
      g_array_append_val (starts, i);
      i = nl != NULL ? (gsize) (nl - text) + 1 : len;
    }
  for (guint k = starts->len; k > 0; k--)
    if (is_full (text + g_array_index (starts, gsize, k - 1)))
      {
        if (seen == n)
          return k < starts->len ? g_array_index (starts, gsize, k) : len;
        seen++;
      }
  return 0;
}

/* ---- the files of a log, in the order they were written ----
 *
 * The writer (rotate() in log-file.c) moves a file only up, one place at
 * a time, oldest first, and gives ctr.log its second name before the new
 * one replaces it. So wherever a file is, the place below holds the file
 * written next, and a reader that holds a file open can always find what
 * follows it, however late, unless it has been dropped (more than
 * max-file - 1 rotations since). An open file is read to its end even
 * once dropped. */

static gboolean
same_file (const struct stat *a, const struct stat *b)
{
  return a->st_dev == b->st_dev && a->st_ino == b->st_ino;
}

/* Whether file @k of the log is @st. */
static gboolean
file_is (const Reader *r, int k, const struct stat *st)
{
  g_autofree char *name = hutch_log_file_name (k);
  struct stat now;

  return fstatat (r->dir, name, &now, AT_SYMLINK_NOFOLLOW) == 0 && same_file (&now, st);
}

static int
file_open (const Reader *r, int k)
{
  g_autofree char *name = hutch_log_file_name (k);

  return openat (r->dir, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
}

/* The oldest file of the log, opened; -1 when there is none (yet). */
static int
open_oldest (const Reader *r)
{
  for (int tries = 0; tries < 16; tries++)
    for (int k = r->max_file; k >= 0; k--)
      {
        g_autofree char *above = hutch_log_file_name (k + 1);
        hutch_autofd int fd = file_open (r, k);
        if (fd < 0)
          continue;
        /* nothing moved up past it since we looked there */
        if (faccessat (r->dir, above, F_OK, AT_SYMLINK_NOFOLLOW) < 0)
          return hutch_fd_steal (&fd);
        break;
      }
  return -1;
}

/* The file written after @cur, opened; -1 while @cur is ctr.log (or for
 * a moment in a rotation). The oldest there is when @cur was dropped. */
static int
open_next (const Reader *r, int cur)
{
  struct stat st;

  if (fstat (cur, &st) < 0)
    return -1;
  for (int tries = 0; tries < 16; tries++)
    {
      hutch_autofd int next = -1;
      int k = 1;
      if (file_is (r, 0, &st))
        return -1;
      /* upwards, as files move: one moving is not missed */
      while (k <= r->max_file && !file_is (r, k, &st))
        k++;
      if (k > r->max_file)
        {
          if (tries < 2)
            continue; /* looked again, and gone: dropped */
          return open_oldest (r);
        }
      next = file_open (r, k - 1);
      /* still at k: nothing has moved since, so k - 1 held the next */
      if (next >= 0 && file_is (r, k, &st))
        return hutch_fd_steal (&next);
    }
  return -1;
}

/* Prints @fd from where it is to its end. */
static void
print_rest (Reader *r, int fd)
{
  char buf[65536];
  ssize_t n;

  while ((n = read (fd, buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR))
    if (n > 0)
      print_text (r, buf, (gsize) n);
}

/* Prints what @cur has left and moves on to the next file as long as
 * there is one; *@cur is then the last, read to its end (or -1 when the
 * log has no file yet). */
static void
print_on (Reader *r, int *cur)
{
  if (*cur < 0 && (*cur = open_oldest (r)) < 0)
    return;
  for (;;)
    {
      int next;
      print_rest (r, *cur);
      if ((next = open_next (r, *cur)) < 0)
        return;
      /* @cur is done with now: what was written to it before it moved */
      print_rest (r, *cur);
      hutch_fd_clear (cur);
      *cur = next;
      g_string_truncate (r->partial, 0); /* a file ends with a line's end */
    }
}

/* -n: the last @n lines, from as many files back as they take. Leaves
 * *@cur the newest file, read to its end. */
static gboolean
print_tail (Reader *r, gint64 n, int *cur, GError **error)
{
  g_autoptr (GArray) files = g_array_new (FALSE, FALSE, sizeof (int));
  g_autoptr (GString) text = g_string_new (NULL);
  gboolean ok = TRUE;
  gint64 seen = 0;

  if ((*cur = open_oldest (r)) < 0)
    return TRUE;
  /* each kept open, as a file dropped meanwhile must be */
  for (int next; (next = open_next (r, *cur)) >= 0; *cur = next)
    g_array_append_val (files, *cur);
  g_array_append_val (files, *cur);
  /* newest first, until one more whole line than asked for: the pieces
   * of the first line printed may be in the file before */
  for (guint i = files->len; ok && i > 0 && seen <= n; i--)
    {
      gsize len = 0;
      g_autofree char *one = hutch_util_read_all (g_array_index (files, int, i - 1), G_MAXSSIZE,
                                                  &len, error);
      ok = one != NULL;
      seen += ok ? count_full (one, len) : 0;
      g_string_prepend_len (text, ok ? one : "", (gssize) len);
    }
  for (guint i = 0; i + 1 < files->len; i++)
    close (g_array_index (files, int, i));
  if (ok)
    {
      gsize from = tail_start (text->str, text->len, n);
      print_text (r, text->str + from, text->len - from);
    }
  return ok;
}

/* -f: on until the monitor has gone, after its last write. */
static void
follow (Reader *r, int ino, int monitor, int *cur)
{
  gboolean gone = FALSE;

  while (!gone)
    {
      struct pollfd p[2] = { { ino, POLLIN, 0 }, { monitor, POLLIN, 0 } };
      char buf[4096];
      if (poll (p, 2, -1) < 0 && errno != EINTR)
        return;
      while (read (ino, buf, sizeof buf) > 0)
        ;
      gone = p[1].revents != 0;
      print_on (r, cur);
    }
}

gboolean
hutch_container_logs (const HutchContext *ctx, const char *id, const HutchLogsOptions *o,
                      GError **error)
{
  g_autoptr (HutchContainer) c = hutch_container_load (ctx, id, error);
  g_autofree char *dir = hutch_container_dir (ctx, id);
  hutch_autofd int dfd = -1, ino = -1, monitor = -1, cur = -1;
  g_autoptr (GString) partial = g_string_new (NULL);
  Reader r = { o, partial, { FALSE, FALSE }, -1, 0 };

  if (c == NULL)
    return FALSE;
  if (c->log.driver == HUTCH_LOG_DRIVER_NONE)
    return hutch_throw (error, HUTCH_ERROR_FAILED,
                        "container %s keeps no log: it was made with --log-driver none", c->name);
  dfd = open (dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0)
    return hutch_throw_errno (error, "reading the log of container %s: %s", c->name, dir);
  r.dir = dfd;
  r.max_file = c->log.max_file;
  if (o->follow && c->status == HUTCH_CONTAINER_RUNNING)
    {
      /* watched before the read, so nothing written between is missed;
       * the directory, for the new files of a rotation too */
      ino = inotify_init1 (IN_CLOEXEC | IN_NONBLOCK);
      if (ino >= 0 && inotify_add_watch (ino, dir, IN_MODIFY | IN_CREATE | IN_MOVED_TO) < 0)
        hutch_fd_clear (&ino);
      /* the monitor that wrote live, not a later process with its pid */
      monitor = hutch_container_pidfd (c, TRUE, NULL);
    }
  if (o->tail >= 0 && !print_tail (&r, o->tail, &cur, error))
    return FALSE;
  print_on (&r, &cur);
  if (ino >= 0 && monitor >= 0)
    follow (&r, ino, monitor, &cur);
  return TRUE;
}

gboolean
hutch_container_parse_since (const char *text, gint64 *out_usec, GError **error)
{
  g_autoptr (GDateTime) t = g_date_time_new_from_iso8601 (text, NULL);
  char *end = NULL;
  double v;

  if (t == NULL)
    {
      g_autoptr (GTimeZone) utc = g_time_zone_new_utc ();
      t = g_date_time_new_from_iso8601 (text, utc);
    }
  if (t != NULL)
    {
      *out_usec = g_date_time_to_unix (t) * G_USEC_PER_SEC + g_date_time_get_microsecond (t);
      return TRUE;
    }
  v = g_ascii_strtod (text, &end);
  if (end != text && *end == '\0')
    {
      *out_usec = (gint64) (v * G_USEC_PER_SEC);
      return TRUE;
    }
  if (end != text && end[1] == '\0' && strchr ("smhd", *end) != NULL && v >= 0)
    {
      double unit = *end == 's' ? 1 : *end == 'm' ? 60 : *end == 'h' ? 3600 : 86400;
      *out_usec = g_get_real_time () - (gint64) (v * unit * G_USEC_PER_SEC);
      return TRUE;
    }
  return hutch_throw (error, HUTCH_ERROR_USAGE,
                      "--since \"%s\": give a time (2026-11-23T10:00:00Z), a unix time, or a "
                      "duration back from now (30s, 10m, 2h, 1d)",
                      text);
}
