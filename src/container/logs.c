/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The log of a container, containers/<id>/ctr.log, in podman's
 * k8s-file format: one line per line of output,
 *   2026-11-23T10:00:00.123456Z stdout F the text
 * with P instead of F for a piece without its newline (a long line, or
 * output that ended without one). The monitor writes it (in the
 * foreground passing the output on to its own stdout and stderr too, as
 * podman's conmon does); `logs` reads it, and with -f follows it (inotify)
 * until the monitor has gone. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "container-private.h"

#define PIECE_MAX 16384

typedef struct
{
  int fd;
  const char *name;
  GString *pending;
  int tee; /* where it goes on to (borrowed), or -1 */
} Stream;

struct HutchLogWriter
{
  int file;
  Stream s[2];
};

HutchLogWriter *
hutch_log_writer_new (int file_fd, int out_fd, int err_fd)
{
  HutchLogWriter *w = g_new0 (HutchLogWriter, 1);

  w->file = file_fd;
  w->s[0] = (Stream) { out_fd, "stdout", g_string_new (NULL), -1 };
  w->s[1] = (Stream) { err_fd, "stderr", g_string_new (NULL), -1 };
  for (int i = 0; i < 2; i++)
    if (w->s[i].fd >= 0)
      (void) fcntl (w->s[i].fd, F_SETFL, O_NONBLOCK);
  return w;
}

/* One line of the log onto @out; @head is "TIME STREAM ". */
static void
emit (GString *out, const char *head, const char *text, gsize len, gboolean full)
{
  g_string_append (out, head);
  g_string_append_c (out, full ? 'F' : 'P');
  g_string_append_c (out, ' ');
  g_string_append_len (out, text, (gssize) len);
  g_string_append_c (out, '\n');
}

/* Whole lines out of @s->pending; with @all, the rest as a piece too.
 * They share one time, and go to the file in one write. */
static void
flush (HutchLogWriter *w, Stream *s, gboolean all)
{
  g_autofree char *now = hutch_container_time_text (g_get_real_time ());
  g_autofree char *head = g_strdup_printf ("%s %s ", now, s->name);
  g_autoptr (GString) out = g_string_sized_new (s->pending->len + 64);
  gsize at = 0;

  for (;;)
    {
      const char *nl = memchr (s->pending->str + at, '\n', s->pending->len - at);
      gsize len;
      if (nl == NULL)
        break;
      len = (gsize) (nl - (s->pending->str + at));
      emit (out, head, s->pending->str + at, len, TRUE);
      at += len + 1;
    }
  while (s->pending->len - at >= PIECE_MAX || (all && s->pending->len > at))
    {
      gsize len = MIN (s->pending->len - at, PIECE_MAX);
      emit (out, head, s->pending->str + at, len, FALSE);
      at += len;
    }
  g_string_erase (s->pending, 0, (gssize) at);
  if (out->len > 0)
    (void) hutch_util_write_all (w->file, out->str, out->len, NULL);
}

static void
take (HutchLogWriter *w, Stream *s)
{
  char buf[65536];

  for (;;)
    {
      ssize_t n = read (s->fd, buf, sizeof buf);
      if (n > 0)
        {
          g_string_append_len (s->pending, buf, n);
          flush (w, s, FALSE);
          if (s->tee >= 0 && !hutch_util_write_all (s->tee, buf, (gsize) n, NULL))
            {
              /* our reader has gone (`hutch run ... | head -1`): so does
               * the container's, and its next write fails as it would have
               * without us between */
              s->tee = -1;
              hutch_fd_clear (&s->fd);
              return;
            }
          continue;
        }
      if (n < 0 && errno == EINTR)
        continue;
      if (n == 0 || errno != EAGAIN)
        hutch_fd_clear (&s->fd);
      return;
    }
}

void
hutch_log_writer_tee (HutchLogWriter *w, int out_fd, int err_fd)
{
  w->s[0].tee = out_fd;
  w->s[1].tee = err_fd;
}

void
hutch_log_writer_prepare (HutchLogWriter *w, GArray *fds, int *timeout_ms)
{
  (void) timeout_ms;
  for (int i = 0; i < 2; i++)
    if (w->s[i].fd >= 0)
      {
        struct pollfd p = { w->s[i].fd, POLLIN, 0 };
        g_array_append_val (fds, p);
      }
}

void
hutch_log_writer_dispatch (HutchLogWriter *w, GArray *fds)
{
  for (guint i = 0; i < fds->len; i++)
    {
      struct pollfd *p = &g_array_index (fds, struct pollfd, i);
      for (int k = 0; k < 2; k++)
        if (p->revents != 0 && p->fd == w->s[k].fd && w->s[k].fd >= 0)
          take (w, &w->s[k]);
    }
}

void
hutch_log_writer_tty (HutchLogWriter *w, const char *buf, gsize len)
{
  /* a terminal ends its lines with \r\n: the \r goes */
  for (gsize i = 0; i < len; i++)
    if (buf[i] != '\r')
      g_string_append_c (w->s[0].pending, buf[i]);
  flush (w, &w->s[0], FALSE);
}

void
hutch_log_writer_drain (HutchLogWriter *w)
{
  for (int i = 0; i < 2; i++)
    {
      if (w->s[i].fd >= 0)
        take (w, &w->s[i]);
      flush (w, &w->s[i], TRUE);
    }
}

void
hutch_log_writer_free (HutchLogWriter *w)
{
  if (w == NULL)
    return;
  for (int i = 0; i < 2; i++)
    {
      hutch_fd_clear (&w->s[i].fd);
      g_string_free (w->s[i].pending, TRUE);
    }
  hutch_fd_clear (&w->file);
  g_free (w);
}

/* ---- reading ---- */

typedef struct
{
  const HutchLogsOptions *o;
  GString *partial;   /* of the line being read from the file */
  gboolean mid[2];    /* a P piece was printed: the next is the same line */
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

static int
pidfd_of (pid_t pid)
{
  return pid > 0 ? (int) syscall (SYS_pidfd_open, pid, 0) : -1;
}

gboolean
hutch_container_logs (const HutchContext *ctx, const char *id, const HutchLogsOptions *o,
                      GError **error)
{
  g_autoptr (HutchContainer) c = hutch_container_load (ctx, id, error);
  g_autofree char *dir = hutch_container_dir (ctx, id);
  g_autofree char *path = g_build_filename (dir, "ctr.log", NULL);
  hutch_autofd int fd = -1, ino = -1, monitor = -1;
  g_autofree char *text = NULL;
  gsize len = 0;
  Reader r = { o, g_string_new (NULL), { FALSE, FALSE } };

  if (c == NULL)
    return FALSE;
  fd = open (path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0 && errno != ENOENT)
    return g_string_free (r.partial, TRUE), hutch_throw_errno (error, "reading the log %s", path);
  if (o->follow && c->status == HUTCH_CONTAINER_RUNNING)
    {
      /* watched before the read, so nothing written between is missed */
      ino = inotify_init1 (IN_CLOEXEC | IN_NONBLOCK);
      if (ino >= 0)
        (void) inotify_add_watch (ino, path, IN_MODIFY);
      monitor = pidfd_of (c->monitor_pid);
    }
  if (fd >= 0)
    {
      text = hutch_util_read_all (fd, G_MAXSSIZE, &len, error);
      if (text == NULL)
        return g_string_free (r.partial, TRUE), FALSE;
      {
        gsize from = tail_start (text, len, o->tail);
        print_text (&r, text + from, len - from);
      }
    }
  while (monitor >= 0 && ino >= 0 && fd >= 0)
    {
      struct pollfd p[2] = { { ino, POLLIN, 0 }, { monitor, POLLIN, 0 } };
      char buf[65536];
      ssize_t n;
      if (poll (p, 2, -1) < 0 && errno != EINTR)
        break;
      while (read (ino, buf, sizeof buf) > 0)
        ;
      while ((n = read (fd, buf, sizeof buf)) > 0)
        print_text (&r, buf, (gsize) n);
      if (p[1].revents != 0)
        break; /* the monitor has gone, after its last write */
    }
  g_string_free (r.partial, TRUE);
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
