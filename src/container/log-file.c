/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The log on disk: its options (--log-driver, --log-opt max-size and
 * max-file) and the monitor's writer, which turns the container's output
 * into podman's k8s-file lines,
 *   2026-11-23T10:00:00.123456Z stdout F the text
 * (P instead of F for a piece without its newline: a long line, or output
 * that ended without one), in containers/<id>/ctr.log, rotated to
 * ctr.log.1, .2, ... at max-size. In the foreground it also passes the
 * output on to our stdout and stderr, as podman's conmon does. Reading the
 * log back is logs.c's. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "container-private.h"

#define PIECE_MAX 16384
/* A round's reads of a stream, so that a command writing without end
 * leaves the monitor time for signals and the network; and what our
 * stdout or stderr may keep untaken before the stream is read no more
 * (the command then waits on its pipe, as on a slow reader). */
#define READS_PER_ROUND 4
#define TEE_KEPT_MAX (64 * 1024)
/* made before ctr.log is rotated, then renamed over it */
#define FRESH_FILE "ctr.log.new"
/* What the log leaves free on its filesystem. A log that filled a disk
 * left no room for the container's record: its end read as killed (137),
 * with no word of the log's failure. The record needs a few kB. */
#define KEEP_FREE (1024 * 1024)

/* ---- options ---- */

const char *
hutch_log_driver_name (HutchLogDriver driver)
{
  return driver == HUTCH_LOG_DRIVER_NONE ? "none" : "k8s-file";
}

void
hutch_log_config_resolve (HutchLogConfig *config)
{
  if (config->max_size == 0)
    config->max_size = HUTCH_LOG_DEFAULT_MAX_SIZE;
  if (config->max_file <= 0)
    config->max_file = HUTCH_LOG_DEFAULT_MAX_FILE;
}

/* k, m, g, t, p: powers of 1000 */
static const char size_units[] = "kmgtp";

char *
hutch_log_size_text (gint64 size)
{
  gint64 unit = 1000000000000000;

  for (int i = 4; i >= 0 && size > 0; i--, unit /= 1000)
    if (size % unit == 0)
      return g_strdup_printf ("%" G_GINT64_FORMAT "%c", size / unit, size_units[i]);
  return g_strdup_printf ("%" G_GINT64_FORMAT, size);
}

/* The sizes of docker's json-file and of podman, which both read
 * --log-opt max-size with go-units' FromHumanSize: 10k, 20m, 20mb, 1.5g,
 * 20MiB, all in powers of 1000 (20m is 20,000,000 bytes, and so is 20MiB).
 * -1 is hutch's: no cap. */
static gboolean
parse_max_size (const char *text, gint64 *out, GError **error)
{
  g_autofree char *number = NULL;
  const char *p = text, *unit;
  double v, scale = 1;
  gsize n = strspn (p, "0123456789");

  if (strcmp (text, "-1") == 0)
    return *out = -1, TRUE;
  if (n > 0 && p[n] == '.' && g_ascii_isdigit (p[n + 1]))
    n += 1 + strspn (p + n + 1, "0123456789");
  number = g_strndup (p, n);
  v = g_ascii_strtod (number, NULL);
  p += n;
  if (*p == ' ')
    p++;
  if (*p != '\0' && (unit = strchr (size_units, g_ascii_tolower (*p))) != NULL)
    {
      for (const char *u = size_units; u <= unit; u++)
        scale *= 1000;
      p++;
      if (*p == 'i' || *p == 'I')
        p++;
    }
  if (*p == 'b' || *p == 'B')
    p++;
  if (n == 0 || *p != '\0' || v * scale < 1 || v * scale > (double) G_MAXINT64 / 2)
    return hutch_throw (error, HUTCH_ERROR_USAGE,
                        "--log-opt max-size=%s: give a size in bytes, or with a unit (10k, 20m, "
                        "1g: powers of 1000, as docker and podman read them), or -1 for no cap",
                        text);
  *out = (gint64) (v * scale);
  return TRUE;
}

static gboolean
parse_max_file (const char *text, int *out, GError **error)
{
  char *end = NULL;
  gint64 n = g_ascii_strtoll (text, &end, 10);

  if (*text == '\0' || *end != '\0' || n < 1 || n > HUTCH_LOG_MAX_FILE_LIMIT)
    return hutch_throw (error, HUTCH_ERROR_USAGE,
                        "--log-opt max-file=%s: give the number of files to keep, 1 to %d",
                        text, HUTCH_LOG_MAX_FILE_LIMIT);
  *out = (int) n;
  return TRUE;
}

static gboolean
parse_opt (HutchLogConfig *out, const char *item, GError **error)
{
  const char *eq = strchr (item, '=');
  g_autofree char *key = eq != NULL ? g_strndup (item, eq - item) : g_strdup (item);

  if (out->driver == HUTCH_LOG_DRIVER_NONE)
    return hutch_throw (error, HUTCH_ERROR_USAGE,
                        "--log-opt %s: --log-driver none keeps no log, so takes no option", item);
  if (eq != NULL && strcmp (key, "max-size") == 0)
    return parse_max_size (eq + 1, &out->max_size, error);
  if (eq != NULL && strcmp (key, "max-file") == 0)
    return parse_max_file (eq + 1, &out->max_file, error);
  return hutch_throw (error, HUTCH_ERROR_USAGE,
                      "--log-opt %s: hutch's k8s-file log takes max-size=SIZE and max-file=N", item);
}

gboolean
hutch_log_config_parse (HutchLogConfig *out, const char *driver, char **opts, GError **error)
{
  *out = (HutchLogConfig) { 0 };
  /* podman calls json-file an alias of k8s-file, for docker's scripts */
  if (driver == NULL || strcmp (driver, "k8s-file") == 0 || strcmp (driver, "json-file") == 0)
    out->driver = HUTCH_LOG_DRIVER_K8S_FILE;
  else if (strcmp (driver, "none") == 0)
    out->driver = HUTCH_LOG_DRIVER_NONE;
  else
    return hutch_throw (error, HUTCH_ERROR_USAGE,
                        "--log-driver %s: hutch writes k8s-file (json-file is taken as it, as "
                        "podman does) or none",
                        driver);
  for (char **o = opts; o != NULL && *o != NULL; o++)
    {
      g_auto (GStrv) items = g_strsplit (*o, ",", -1);
      for (char **i = items; *i != NULL; i++)
        if (**i != '\0' && !parse_opt (out, *i, error))
          return FALSE;
    }
  hutch_log_config_resolve (out);
  return TRUE;
}

char *
hutch_log_file_name (int k)
{
  return k == 0 ? g_strdup (HUTCH_LOG_FILE) : g_strdup_printf (HUTCH_LOG_FILE ".%d", k);
}

/* ---- the writer ---- */

typedef struct
{
  int fd;
  const char *name;
  GString *pending;
  HutchOutput *tee; /* where it goes on to, never waited on, or NULL */
} Stream;

struct HutchLogWriter
{
  HutchLogConfig config;
  char *path;       /* of ctr.log, for messages */
  int dir;          /* the container's directory */
  int file;         /* ctr.log; -1 with --log-driver none */
  gint64 size;      /* of file, as we wrote it */
  gboolean fsize_limited; /* RLIMIT_FSIZE is set */
  gint64 unchecked; /* what may be written before the free space is looked at again */
  gboolean failed;  /* a failure was seen (and kept in failure until taken) */
  char *failure;
  Stream s[2];
};

HutchLogWriter *
hutch_log_writer_open (const char *dir, const HutchLogConfig *config, GError **error)
{
  g_autoptr (HutchLogWriter) w = g_new0 (HutchLogWriter, 1);
  struct rlimit fsize;
  struct stat st;

  w->config = *config;
  w->path = g_build_filename (dir, HUTCH_LOG_FILE, NULL);
  w->dir = w->file = -1;
  w->s[0] = (Stream) { -1, "stdout", g_string_new (NULL), NULL };
  w->s[1] = (Stream) { -1, "stderr", g_string_new (NULL), NULL };
  if (config->driver == HUTCH_LOG_DRIVER_NONE)
    return g_steal_pointer (&w);
  w->dir = open (dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (w->dir >= 0)
    w->file = openat (w->dir, HUTCH_LOG_FILE, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC,
                      0600);
  if (w->file < 0 || fstat (w->file, &st) < 0)
    return hutch_throw_errno (error, "opening the log %s", w->path), NULL;
  w->size = st.st_size;
  w->fsize_limited = getrlimit (RLIMIT_FSIZE, &fsize) == 0 && fsize.rlim_cur != RLIM_INFINITY;
  return g_steal_pointer (&w);
}

void
hutch_log_writer_attach (HutchLogWriter *w, int out_fd, int err_fd)
{
  w->s[0].fd = out_fd;
  w->s[1].fd = err_fd;
  for (int i = 0; i < 2; i++)
    if (w->s[i].fd >= 0)
      (void) fcntl (w->s[i].fd, F_SETFL, O_NONBLOCK);
}

/* Only the first is told: a full disk fails every write, and would
 * flood the record. */
static void
fail (HutchLogWriter *w, const GError *error)
{
  if (w->failed)
    return;
  w->failed = TRUE;
  w->failure = g_strdup (error->message);
}

char *
hutch_log_writer_take_failure (HutchLogWriter *w)
{
  return g_steal_pointer (&w->failure);
}

/* write(2) once. Past RLIMIT_FSIZE the kernel sends SIGXFSZ with the
 * EFBIG, and its default action would end the monitor, and the container
 * with it: it is held back around the write, and taken off if raised. */
static ssize_t
write_once (HutchLogWriter *w, const char *buf, gsize len)
{
  const struct timespec now = { 0, 0 };
  sigset_t xfsz, old;
  ssize_t n;
  int errsv;

  if (!w->fsize_limited)
    return write (w->file, buf, len);
  sigemptyset (&xfsz);
  sigaddset (&xfsz, SIGXFSZ);
  sigprocmask (SIG_BLOCK, &xfsz, &old);
  n = write (w->file, buf, len);
  errsv = errno;
  if (n < 0 && errsv == EFBIG)
    (void) sigtimedwait (&xfsz, NULL, &now);
  sigprocmask (SIG_SETMASK, &old, NULL);
  errno = errsv;
  return n;
}

/* @buf (whole lines), or the lines of it that could be written: a line
 * cut short by a full disk would run into the next one written, and a
 * reader could not tell them apart, so the file is cut back to the end of
 * the last whole one. */
static gboolean
write_file (HutchLogWriter *w, const char *buf, gsize len, GError **error)
{
  gsize done = 0;

  while (done < len)
    {
      ssize_t n = write_once (w, buf + done, len - done);
      int errsv = n < 0 ? errno : ENOSPC;
      const char *nl;
      if (n > 0)
        {
          done += (gsize) n;
          continue;
        }
      if (errsv == EINTR)
        continue;
      nl = done > 0 ? memrchr (buf, '\n', done) : NULL;
      done = nl != NULL ? (gsize) (nl - buf) + 1 : 0;
      if (ftruncate (w->file, w->size + (gint64) done) == 0)
        w->size += (gint64) done;
      return hutch_throw_errno_val (error, errsv, "writing the log %s", w->path);
    }
  w->size += (gint64) len;
  return TRUE;
}

/* Whether @len bytes more leave KEEP_FREE on the log's filesystem. Looked
 * at every 1 MiB written at most (others fill disks too), more often as
 * the free space comes closer to it. */
static gboolean
keep_free (HutchLogWriter *w, gsize len, GError **error)
{
  struct statvfs sv;
  guint64 avail;

  if ((gint64) len <= w->unchecked)
    {
      w->unchecked -= (gint64) len;
      return TRUE;
    }
  if (fstatvfs (w->file, &sv) < 0)
    {
      w->unchecked = KEEP_FREE; /* not known: the write will tell */
      return TRUE;
    }
  avail = (guint64) sv.f_bavail * sv.f_frsize;
  if (avail < len + KEEP_FREE)
    {
      g_autofree char *left = g_format_size (avail);
      w->unchecked = 0;
      return hutch_throw (error, HUTCH_ERROR_FAILED,
                          "writing the log %s: its filesystem has %s left, and hutch leaves the "
                          "last MiB of it for the container's record (free some space there)",
                          w->path, left);
    }
  w->unchecked = (gint64) MIN ((avail - KEEP_FREE - len) / 2, KEEP_FREE);
  return TRUE;
}

static gboolean
rotate_fail (HutchLogWriter *w, const char *what, GError **error)
{
  return hutch_throw_errno (error, "rotating the log %s: %s", w->path, what);
}

/* ctr.log becomes ctr.log.1, the older ones moving up one and the oldest
 * dropped, and a new ctr.log is begun. The new file is made first and
 * renamed over ctr.log once that has its second name, .1: there is always
 * a ctr.log, and a file only ever moves up, one place at a time, oldest
 * first, so the one below a file is always the one written after it, which
 * is how `logs -f` finds its way (logs.c). */
static gboolean
rotate (HutchLogWriter *w, GError **error)
{
  int max = w->config.max_file;
  hutch_autofd int fresh = openat (w->dir, FRESH_FILE,
                                   O_WRONLY | O_APPEND | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC,
                                   0600);

  if (fresh < 0)
    return rotate_fail (w, "making " FRESH_FILE, error);
  if (max > 1)
    {
      g_autofree char *oldest = hutch_log_file_name (max - 1);
      if (unlinkat (w->dir, oldest, 0) < 0 && errno != ENOENT)
        return rotate_fail (w, oldest, error);
      for (int k = max - 2; k >= 1; k--)
        {
          g_autofree char *from = hutch_log_file_name (k), *to = hutch_log_file_name (k + 1);
          if (renameat (w->dir, from, w->dir, to) < 0 && errno != ENOENT)
            return rotate_fail (w, from, error);
        }
      /* a filesystem without hard links: ctr.log is missing for a moment */
      if (linkat (w->dir, HUTCH_LOG_FILE, w->dir, HUTCH_LOG_FILE ".1", 0) < 0 && errno != ENOENT
          && renameat (w->dir, HUTCH_LOG_FILE, w->dir, HUTCH_LOG_FILE ".1") < 0 && errno != ENOENT)
        return rotate_fail (w, HUTCH_LOG_FILE, error);
    }
  if (renameat (w->dir, FRESH_FILE, w->dir, HUTCH_LOG_FILE) < 0)
    return rotate_fail (w, FRESH_FILE, error);
  hutch_fd_clear (&w->file);
  w->file = hutch_fd_steal (&fresh);
  w->size = 0;
  return TRUE;
}

/* @buf: whole lines of the log. ctr.log is rotated at a line's end when
 * the next would take it past max-size; a line longer than max-size alone
 * (a piece is at most PIECE_MAX) gets a file of its own. What cannot be
 * written, or would leave less than KEEP_FREE, is dropped (the container
 * must not wait for a disk), and the failure kept for the monitor to
 * record. */
static void
append (HutchLogWriter *w, const char *buf, gsize len)
{
  while (w->file >= 0 && len > 0)
    {
      g_autoptr (GError) error = NULL;
      gsize part = len;
      if (w->config.max_size > 0 && w->size + (gint64) len > w->config.max_size)
        {
          gint64 room = w->config.max_size - w->size;
          const char *nl = room > 0 ? memrchr (buf, '\n', (gsize) room) : NULL;
          part = nl != NULL ? (gsize) (nl - buf) + 1 : 0;
          if (part == 0 && w->size > 0)
            {
              if (rotate (w, &error))
                continue;
              fail (w, error);
              return;
            }
          if (part == 0)
            part = (gsize) ((const char *) memchr (buf, '\n', len) - buf) + 1;
        }
      if (!keep_free (w, part, &error) || !write_file (w, buf, part, &error))
        fail (w, error);
      buf += part;
      len -= part;
    }
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
    append (w, out->str, out->len);
}

/* Whether @s may be read now: not while its tee keeps TEE_KEPT_MAX. */
static gboolean
wanted (const Stream *s)
{
  return s->fd >= 0
         && (s->tee == NULL || hutch_util_output_gone (s->tee)
             || hutch_util_output_kept (s->tee) < TEE_KEPT_MAX);
}

/* Up to @max_reads reads of @s, to the log and on to its tee. */
static void
take (HutchLogWriter *w, Stream *s, guint max_reads)
{
  char buf[65536];

  for (guint i = 0; i < max_reads && wanted (s); i++)
    {
      ssize_t n = read (s->fd, buf, sizeof buf);
      if (n > 0)
        {
          if (w->file >= 0)
            {
              g_string_append_len (s->pending, buf, n);
              flush (w, s, FALSE);
            }
          if (s->tee != NULL && !hutch_util_output_write (s->tee, buf, (gsize) n))
            {
              /* our reader has gone (`hutch run ... | head -1`): so does
               * the container's, and its next write fails as it would have
               * without us between */
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
  w->s[0].tee = hutch_util_output_new (out_fd);
  w->s[1].tee = hutch_util_output_new (err_fd);
}

void
hutch_log_writer_prepare (HutchLogWriter *w, GArray *fds, int *timeout_ms)
{
  (void) timeout_ms;
  for (int i = 0; i < 2; i++)
    {
      struct pollfd in = { w->s[i].fd, POLLIN, 0 };
      struct pollfd out = { -1, POLLOUT, 0 };
      if (wanted (&w->s[i]))
        g_array_append_val (fds, in);
      if (w->s[i].tee != NULL && (out.fd = hutch_util_output_poll_fd (w->s[i].tee)) >= 0)
        g_array_append_val (fds, out);
    }
}

void
hutch_log_writer_dispatch (HutchLogWriter *w, GArray *fds)
{
  for (guint i = 0; i < fds->len; i++)
    {
      struct pollfd *p = &g_array_index (fds, struct pollfd, i);
      for (int k = 0; k < 2 && p->revents != 0; k++)
        if ((p->events & POLLOUT) && w->s[k].tee != NULL
            && p->fd == hutch_util_output_poll_fd (w->s[k].tee))
          (void) hutch_util_output_flush (w->s[k].tee);
        else if ((p->events & POLLIN) && p->fd == w->s[k].fd && w->s[k].fd >= 0)
          take (w, &w->s[k], READS_PER_ROUND);
    }
}

void
hutch_log_writer_tty (HutchLogWriter *w, const char *buf, gsize len)
{
  if (w->file < 0)
    return;
  /* a terminal ends its lines with \r\n: the \r goes */
  for (gsize i = 0; i < len; i++)
    if (buf[i] != '\r')
      g_string_append_c (w->s[0].pending, buf[i]);
  flush (w, &w->s[0], FALSE);
}

/* Called with the container gone and our signals back to their defaults:
 * waits for our readers to take what is kept (a Ctrl-C ends the wait). */
void
hutch_log_writer_drain (HutchLogWriter *w)
{
  for (;;)
    {
      struct pollfd p[2];
      nfds_t n = 0;
      gboolean again = FALSE;
      for (int i = 0; i < 2; i++)
        {
          gboolean skipped = !wanted (&w->s[i]);
          if (!skipped)
            take (w, &w->s[i], G_MAXUINT);
          if (w->s[i].tee != NULL && hutch_util_output_flush (w->s[i].tee)
              && hutch_util_output_kept (w->s[i].tee) > 0)
            p[n++] = (struct pollfd) { hutch_util_output_poll_fd (w->s[i].tee), POLLOUT, 0 };
          else if (skipped && wanted (&w->s[i]))
            again = TRUE; /* left unread for want of room, which the flush made */
        }
      if (again)
        continue;
      if (n == 0 || (poll (p, n, -1) < 0 && errno != EINTR))
        break;
    }
  for (int i = 0; i < 2; i++)
    flush (w, &w->s[i], TRUE);
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
      hutch_util_output_free (w->s[i].tee);
    }
  hutch_fd_clear (&w->file);
  hutch_fd_clear (&w->dir);
  g_free (w->path);
  g_free (w->failure);
  g_free (w);
}
