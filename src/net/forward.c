/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* -p without libslirp: for TCP the monitor accepts on the host and
 * connects to 10.0.2.100:PORT over a socket that lives in the container's
 * network namespace (made there by the outer child, with IP_TRANSPARENT,
 * and passed to us), bound to the client's own address first. The server
 * in the container sees who connected, where libslirp's hostfwd shows
 * 10.0.2.2 (podman#5138), and the bytes move between the two sockets with
 * splice(2), never through a user-space TCP stack. UDP goes the same way,
 * a connected socket in the namespace per client address and port, the
 * datagrams copied (libslirp's UDP hostfwd cannot answer a client unless
 * the host's loopback is open to the container). The outer child routes
 * the server's replies back over loopback (tap.c). */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net-private.h"

#define POOL_BATCH 16
#define PIPE_BYTES (256 * 1024)
#define UDP_IDLE_USEC (180 * G_USEC_PER_SEC) /* as conntrack forgets a UDP stream */
#define UDP_FLOWS_MAX 4096

typedef struct
{
  int fd;
  guint16 ctr_port;
  gboolean udp;
  int idx;
} Listener;

/* A UDP client of a forwarded port. */
typedef struct
{
  int fd;                  /* connected to the server, from the client's address */
  guint listener;
  struct sockaddr_in peer; /* the client on the host */
  gint64 last;
  int idx;
} Flow;

typedef struct
{
  int fd[2];        /* 0: the client on the host, 1: the server in the container */
  int pipe[2][2];   /* pipe[d] carries what fd[d] sent towards fd[!d] */
  gsize queued[2];
  gsize pipe_size;
  gboolean eof[2];  /* fd[d] will send no more */
  gboolean shut[2]; /* and fd[!d] was told so */
  gboolean reset;   /* a side failed: end once what it sent is passed on */
  gboolean connecting;
  int idx[2];
} Relay;

struct HutchNetForward
{
  GArray *listeners; /* Listener */
  GPtrArray *relays; /* Relay */
  GArray *pool[2];   /* sockets in the container's namespace, not yet used: TCP, UDP */
  GHashTable *flows; /* of Flow, by client and listener */
  guint8 *buf;
  GArray *fds_now; /* the poll array, while dispatching */
  int ctl;
  struct in_addr ctr_addr;
};

gboolean
hutch_net_port_error (GError **error, int errsv, const HutchNetPort *p, guint32 unprivileged_start)
{
  char ip[INET_ADDRSTRLEN];
  g_autofree char *what = NULL;

  inet_ntop (AF_INET, &p->host_ip, ip, sizeof ip);
  what = g_strdup_printf ("-p %s:%u:%u/%s", ip, p->host_port, p->ctr_port, p->udp ? "udp" : "tcp");
  if (errsv == EADDRINUSE)
    return hutch_throw (error, HUTCH_ERROR_BUSY,
                        "%s: host port %u is already in use: choose another host port, or stop "
                        "what listens on it (ss -ltnup 'sport = :%u' shows it)",
                        what, p->host_port, p->host_port);
  if (errsv == EACCES && unprivileged_start > 0)
    return hutch_throw (error, HUTCH_ERROR_USAGE,
                        "%s: host port %u is below net.ipv4.ip_unprivileged_port_start (%u), so "
                        "only root may bind it: use a host port from %u, or lower the limit as "
                        "root (sysctl -w net.ipv4.ip_unprivileged_port_start=%u)",
                        what, p->host_port, unprivileged_start, unprivileged_start, p->host_port);
  if (errsv == EADDRNOTAVAIL)
    return hutch_throw (error, HUTCH_ERROR_USAGE, "%s: %s is not an address of this host", what, ip);
  return hutch_throw_errno_val (error, errsv, "%s: binding the host port", what);
}

static void
flow_free (gpointer data)
{
  Flow *f = data;

  hutch_fd_clear (&f->fd);
  g_free (f);
}

static void
relay_free (Relay *r)
{
  for (int d = 0; d < 2; d++)
    {
      hutch_fd_clear (&r->fd[d]);
      hutch_fd_clear (&r->pipe[d][0]);
      hutch_fd_clear (&r->pipe[d][1]);
    }
  g_free (r);
}

HutchNetForward *
hutch_net_forward_new (HutchNetConfig *cfg, guint32 unprivileged_start, GError **error)
{
  HutchNetForward *fwd = g_new0 (HutchNetForward, 1);

  fwd->listeners = g_array_new (FALSE, FALSE, sizeof (Listener));
  fwd->relays = g_ptr_array_new_with_free_func ((GDestroyNotify) relay_free);
  fwd->pool[0] = g_array_new (FALSE, FALSE, sizeof (int));
  fwd->pool[1] = g_array_new (FALSE, FALSE, sizeof (int));
  fwd->flows = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, flow_free);
  fwd->buf = g_malloc (65536);
  fwd->ctl = -1;
  inet_pton (AF_INET, HUTCH_NET_ADDR, &fwd->ctr_addr);
  for (guint i = 0; i < cfg->ports->len; i++)
    {
      HutchNetPort *p = &g_array_index (cfg->ports, HutchNetPort, i);
      struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr = p->host_ip,
                                 .sin_port = htons (p->host_port) };
      socklen_t len = sizeof sin;
      Listener l = { socket (AF_INET, (p->udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_NONBLOCK | SOCK_CLOEXEC, 0),
                     p->ctr_port, p->udp, -1 };
      int one = 1;
      /* reusable at once after we end, whatever TIME_WAIT is left */
      if (l.fd >= 0 && !p->udp)
        (void) setsockopt (l.fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
      if (l.fd < 0 || bind (l.fd, (struct sockaddr *) &sin, sizeof sin) < 0
          || (!p->udp && listen (l.fd, 512) < 0)
          || getsockname (l.fd, (struct sockaddr *) &sin, &len) < 0)
        {
          int errsv = errno;
          hutch_fd_clear (&l.fd);
          hutch_net_forward_free (fwd);
          return hutch_net_port_error (error, errsv, p, unprivileged_start), NULL;
        }
      p->host_port = ntohs (sin.sin_port);
      g_array_append_val (fwd->listeners, l);
    }
  return fwd;
}

void
hutch_net_forward_free (HutchNetForward *fwd)
{
  if (fwd == NULL)
    return;
  for (guint i = 0; i < fwd->listeners->len; i++)
    close (g_array_index (fwd->listeners, Listener, i).fd);
  for (int k = 0; k < 2; k++)
    {
      for (guint i = 0; i < fwd->pool[k]->len; i++)
        close (g_array_index (fwd->pool[k], int, i));
      g_array_unref (fwd->pool[k]);
    }
  g_array_unref (fwd->listeners);
  g_hash_table_unref (fwd->flows);
  g_free (fwd->buf);
  g_ptr_array_unref (fwd->relays);
  g_free (fwd);
}

void
hutch_net_forward_set_ctl (HutchNetForward *fwd, int ctl)
{
  fwd->ctl = ctl;
}

void
hutch_net_forward_host_fds (HutchNetForward *fwd, GArray *out)
{
  for (guint i = 0; i < fwd->listeners->len; i++)
    g_array_append_val (out, g_array_index (fwd->listeners, Listener, i).fd);
}

/* A socket in the container's network namespace, from the pool, which
 * the outer child fills a batch at a time. */
static int
take_socket (HutchNetForward *fwd, gboolean udp)
{
  GArray *pool = fwd->pool[udp];
  int fd;

  if (pool->len == 0 && fwd->ctl >= 0)
    {
      int fds[POOL_BATCH];
      guint8 want = POOL_BATCH | (udp ? HUTCH_NET_WANT_UDP : 0);
      char tag;
      int n;
      if (write (fwd->ctl, &want, 1) != 1
          || (n = hutch_util_recv_fds (fwd->ctl, &tag, fds, POOL_BATCH)) <= 0)
        return -1;
      if (tag != 's')
        {
          for (int i = 0; i < n; i++)
            close (fds[i]);
          return -1;
        }
      g_array_append_vals (pool, fds, (guint) n);
    }
  if (pool->len == 0)
    return -1;
  fd = g_array_index (pool, int, pool->len - 1);
  g_array_set_size (pool, pool->len - 1);
  return fd;
}

/* Binds @fd, a socket in the container's namespace, to the client's own
 * address and port where IP_TRANSPARENT allows it (any port of it when
 * the namespace has that one in use); TCP connects it to the server. A
 * UDP one stays unconnected: the server answers from whichever address
 * its route to the client gives it (127.0.0.1 to 127.0.0.1). */
static gboolean
connect_as (HutchNetForward *fwd, int fd, struct sockaddr_in peer, guint16 ctr_port, gboolean udp)
{
  struct sockaddr_in to = { .sin_family = AF_INET, .sin_addr = fwd->ctr_addr,
                            .sin_port = htons (ctr_port) };

  if (peer.sin_family == AF_INET && bind (fd, (struct sockaddr *) &peer, sizeof peer) < 0)
    {
      peer.sin_port = 0;
      (void) bind (fd, (struct sockaddr *) &peer, sizeof peer);
    }
  return udp || connect (fd, (struct sockaddr *) &to, sizeof to) == 0 || errno == EINPROGRESS;
}

static void
accept_one (HutchNetForward *fwd, const Listener *l, int client)
{
  Relay *r = g_new0 (Relay, 1);
  struct sockaddr_in peer = { 0 };
  socklen_t plen = sizeof peer;
  int one = 1;

  r->fd[0] = client;
  r->fd[1] = take_socket (fwd, FALSE);
  r->pipe[0][0] = r->pipe[0][1] = r->pipe[1][0] = r->pipe[1][1] = -1;
  if (r->fd[1] < 0 || pipe2 (r->pipe[0], O_NONBLOCK | O_CLOEXEC) < 0
      || pipe2 (r->pipe[1], O_NONBLOCK | O_CLOEXEC) < 0)
    {
      relay_free (r);
      return;
    }
  r->pipe_size = 65536;
  for (int d = 0; d < 2; d++)
    {
      int got = fcntl (r->pipe[d][1], F_SETPIPE_SZ, PIPE_BYTES);
      if (got > 0)
        r->pipe_size = d == 0 ? (gsize) got : MIN (r->pipe_size, (gsize) got);
    }
  (void) setsockopt (r->fd[1], IPPROTO_TCP, 1 /* TCP_NODELAY */, &one, sizeof one);
  (void) setsockopt (r->fd[0], IPPROTO_TCP, 1 /* TCP_NODELAY */, &one, sizeof one);
  if (getpeername (client, (struct sockaddr *) &peer, &plen) < 0
      || !connect_as (fwd, r->fd[1], peer, l->ctr_port, FALSE))
    {
      relay_free (r);
      return;
    }
  r->connecting = TRUE;
  g_ptr_array_add (fwd->relays, r);
}

static void
flow_prepare (gpointer key, gpointer value, gpointer fds)
{
  Flow *f = value;

  f->idx = hutch_net_poll_add (fds, f->fd, POLLIN);
}

void
hutch_net_forward_prepare (HutchNetForward *fwd, GArray *fds)
{
  for (guint i = 0; i < fwd->listeners->len; i++)
    {
      Listener *l = &g_array_index (fwd->listeners, Listener, i);
      l->idx = fwd->ctl >= 0 ? hutch_net_poll_add (fds, l->fd, POLLIN) : -1;
    }
  g_hash_table_foreach (fwd->flows, flow_prepare, fds);
  for (guint i = 0; i < fwd->relays->len; i++)
    {
      Relay *r = fwd->relays->pdata[i];
      short ev[2] = { 0, 0 };
      if (r->connecting)
        ev[1] = POLLOUT;
      else
        for (int d = 0; d < 2; d++)
          {
            if (!r->eof[d] && r->queued[d] < r->pipe_size)
              ev[d] |= POLLIN;
            if (r->queued[d] > 0)
              ev[!d] |= POLLOUT;
          }
      r->idx[0] = hutch_net_poll_add (fds, r->fd[0], ev[0]);
      r->idx[1] = hutch_net_poll_add (fds, r->fd[1], ev[1]);
    }
}

/* Moves what it can of direction @d; FALSE when the connection is over.
 * What a side sent before it reset the connection is still delivered to
 * the other, then both are closed; a write that fails ends both. */
static gboolean
relay_move (Relay *r, int d)
{
  ssize_t n;

  if (!r->eof[d] && r->queued[d] < r->pipe_size)
    {
      n = splice (r->fd[d], NULL, r->pipe[d][1], NULL, r->pipe_size - r->queued[d],
                  SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
      if (n > 0)
        r->queued[d] += (gsize) n;
      else if (n == 0)
        r->eof[d] = TRUE;
      else if (errno != EAGAIN && errno != EINTR)
        r->eof[d] = r->reset = TRUE;
    }
  if (r->queued[d] > 0)
    {
      n = splice (r->pipe[d][0], NULL, r->fd[!d], NULL, r->queued[d],
                  SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
      if (n > 0)
        r->queued[d] -= (gsize) n;
      else if (n < 0 && errno != EAGAIN && errno != EINTR)
        return FALSE;
    }
  if (r->eof[d] && r->queued[d] == 0 && !r->shut[d])
    {
      if (r->reset)
        return FALSE;
      (void) shutdown (r->fd[!d], SHUT_WR);
      r->shut[d] = TRUE;
    }
  return !(r->shut[0] && r->shut[1]);
}

static gboolean
relay_dispatch (Relay *r, GArray *fds)
{
  short rev[2] = { g_array_index (fds, struct pollfd, r->idx[0]).revents,
                   g_array_index (fds, struct pollfd, r->idx[1]).revents };

  if (r->connecting)
    {
      int err = 0;
      socklen_t len = sizeof err;
      if (rev[1] == 0)
        return TRUE;
      if (getsockopt (r->fd[1], SOL_SOCKET, SO_ERROR, &err, &len) < 0 || err != 0)
        return FALSE; /* nothing listens there: the client sees the connection end */
      r->connecting = FALSE;
      return TRUE;
    }
  if (rev[0] == 0 && rev[1] == 0)
    return TRUE;
  return relay_move (r, 0) && relay_move (r, 1);
}

static guint64
flow_key (guint listener, const struct sockaddr_in *peer)
{
  return (guint64) peer->sin_addr.s_addr << 32 | (guint64) peer->sin_port << 16 | listener;
}

/* Datagrams from a client to the server, each client on a socket of its
 * own in the container's namespace. */
static void
udp_receive (HutchNetForward *fwd, guint li)
{
  const Listener *l = &g_array_index (fwd->listeners, Listener, li);
  struct sockaddr_in to = { .sin_family = AF_INET, .sin_addr = fwd->ctr_addr,
                            .sin_port = htons (l->ctr_port) };

  for (int batch = 0; batch < 64; batch++)
    {
      struct sockaddr_in peer;
      socklen_t plen = sizeof peer;
      ssize_t n = recvfrom (l->fd, fwd->buf, 65536, 0, (struct sockaddr *) &peer, &plen);
      guint64 key;
      Flow *f;
      if (n < 0)
        return;
      key = flow_key (li, &peer);
      f = g_hash_table_lookup (fwd->flows, &key);
      if (f == NULL)
        {
          int fd;
          if (g_hash_table_size (fwd->flows) >= UDP_FLOWS_MAX || (fd = take_socket (fwd, TRUE)) < 0)
            continue;
          f = g_new0 (Flow, 1);
          f->fd = fd;
          f->listener = li;
          f->peer = peer;
          f->idx = -1;
          if (!connect_as (fwd, fd, peer, l->ctr_port, TRUE))
            {
              flow_free (f);
              continue;
            }
          g_hash_table_insert (fwd->flows, g_memdup2 (&key, sizeof key), f);
        }
      f->last = g_get_monotonic_time ();
      (void) sendto (f->fd, fwd->buf, (gsize) n, MSG_DONTWAIT, (struct sockaddr *) &to, sizeof to);
    }
}

/* The server's answers to its clients; clients gone quiet forgotten. */
static gboolean
flow_dispatch (gpointer key, gpointer value, gpointer data)
{
  HutchNetForward *fwd = data;
  Flow *f = value;
  gint64 now = g_get_monotonic_time ();

  if (f->idx >= 0 && g_array_index (fwd->fds_now, struct pollfd, f->idx).revents != 0)
    for (int batch = 0; batch < 64; batch++)
      {
        ssize_t n = recv (f->fd, fwd->buf, 65536, MSG_DONTWAIT);
        if (n < 0)
          break;
        f->last = now;
        (void) sendto (g_array_index (fwd->listeners, Listener, f->listener).fd, fwd->buf,
                       (gsize) n, MSG_DONTWAIT, (struct sockaddr *) &f->peer, sizeof f->peer);
      }
  return f->last + UDP_IDLE_USEC < now;
}

void
hutch_net_forward_dispatch (HutchNetForward *fwd, GArray *fds)
{
  guint relays = fwd->relays->len;

  fwd->fds_now = fds;
  g_hash_table_foreach_remove (fwd->flows, flow_dispatch, fwd);

  /* the relays polled this round, before accept adds new ones */
  for (guint i = relays; i-- > 0;)
    if (!relay_dispatch (fwd->relays->pdata[i], fds))
      g_ptr_array_remove_index_fast (fwd->relays, i);
  for (guint i = 0; i < fwd->listeners->len; i++)
    {
      const Listener *l = &g_array_index (fwd->listeners, Listener, i);
      int c;
      if (l->idx < 0 || !(g_array_index (fds, struct pollfd, l->idx).revents & POLLIN))
        continue;
      if (l->udp)
        {
          udp_receive (fwd, i);
          continue;
        }
      while ((c = accept4 (l->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0)
        accept_one (fwd, l, c);
    }
}
