/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Our stdout (or stderr) written without ever waiting for its reader: what
 * it cannot take now is kept, up to a bound that tells the caller to stop
 * reading its source (backpressure), and goes when poll says POLLOUT. A
 * relay loop that blocked on a slow or stopped reader held up the signals,
 * keys and network it also serves. Reading the source is the caller's. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "util.h"

struct HutchOutput
{
  int fd;          /* what we write to: @fd itself or a description of our own */
  gboolean owned;  /* fd was opened here */
  gboolean socket; /* send(MSG_DONTWAIT) rather than write */
  int restore;     /* the file status flags to put back on @fd, or -1 */
  gboolean gone;   /* a write failed: nobody reads any more */
  GByteArray *kept;
};

/* O_NONBLOCK belongs to the open file description, which @fd shares with
 * the shell and whatever else runs on the same terminal or pipe (and with
 * our stdin and stderr, when they are the same terminal): set there, it
 * would make their reads and writes fail with EAGAIN, and stay after a
 * kill -9. A pipe or a terminal is opened again through /proc/self/fd for
 * a description of our own; a socket takes MSG_DONTWAIT per call; a file's
 * writes do not wait on a reader. Only a terminal we may not open (another
 * user's, after su) gets the flag, taken back when we are done. */
HutchOutput *
hutch_util_output_new (int fd)
{
  HutchOutput *o = g_new0 (HutchOutput, 1);
  g_autofree char *path = g_strdup_printf ("/proc/self/fd/%d", fd);
  struct stat st;
  int flags;

  o->fd = fd;
  o->restore = -1;
  o->kept = g_byte_array_new ();
  if (fstat (fd, &st) < 0)
    return o; /* closed: the first write says it has gone */
  if (S_ISSOCK (st.st_mode))
    o->socket = TRUE;
  if (!S_ISFIFO (st.st_mode) && !S_ISCHR (st.st_mode))
    return o;
  o->fd = open (path, O_WRONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  if (o->fd >= 0)
    {
      o->owned = TRUE;
      return o;
    }
  o->fd = fd;
  flags = fcntl (fd, F_GETFL);
  if (flags >= 0 && !(flags & O_NONBLOCK) && fcntl (fd, F_SETFL, flags | O_NONBLOCK) == 0)
    o->restore = flags;
  return o;
}

void
hutch_util_output_free (HutchOutput *o)
{
  if (o == NULL)
    return;
  if (o->owned)
    close (o->fd);
  else if (o->restore >= 0)
    (void) fcntl (o->fd, F_SETFL, o->restore);
  g_byte_array_unref (o->kept);
  g_free (o);
}

static ssize_t
put (HutchOutput *o, const void *buf, gsize len)
{
  if (o->socket)
    return send (o->fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL);
  return write (o->fd, buf, len);
}

gboolean
hutch_util_output_flush (HutchOutput *o)
{
  while (o->kept->len > 0 && !o->gone)
    {
      ssize_t n = put (o, o->kept->data, o->kept->len);
      if (n > 0)
        g_byte_array_remove_range (o->kept, 0, (guint) n);
      else if (n < 0 && errno == EINTR)
        continue;
      else if (n < 0 && errno == EAGAIN)
        break; /* the rest when poll says POLLOUT */
      else
        {
          /* EPIPE, EIO: nobody reads any more */
          o->gone = TRUE;
          g_byte_array_set_size (o->kept, 0);
        }
    }
  return !o->gone;
}

gboolean
hutch_util_output_write (HutchOutput *o, const void *buf, gsize len)
{
  if (o->gone)
    return FALSE;
  g_byte_array_append (o->kept, buf, (guint) len);
  return hutch_util_output_flush (o);
}

gsize
hutch_util_output_kept (const HutchOutput *o)
{
  return o->kept->len;
}

gboolean
hutch_util_output_gone (const HutchOutput *o)
{
  return o->gone;
}

int
hutch_util_output_poll_fd (const HutchOutput *o)
{
  return o->kept->len > 0 && !o->gone ? o->fd : -1;
}
