/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* DNS at 10.0.2.3, answered by the monitor rather than libslirp: queries
 * the container sends over UDP are taken off the tap, sent from the host to
 * every upstream resolver (the host's resolv.conf, or --network
 * slirp:dns=), and the first answer goes back as a frame from 10.0.2.3.
 * The host's loopback stubs (systemd-resolved's 127.0.0.53, a local
 * dnsmasq) work, since the monitor is on the host; libslirp reads only the
 * first nameserver of /etc/resolv.conf and cannot be pointed elsewhere.
 * Queries over TCP (after a truncated answer) still go to libslirp. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net-private.h"

#define ETH_HLEN 14
#define IP_HLEN 20
#define UDP_HLEN 8
#define DNS_HLEN 12
#define PENDING_MAX 1024
#define PENDING_USEC (10 * G_USEC_PER_SEC)

typedef struct
{
  guint8 mac[6];        /* the container's */
  guint8 server_mac[6]; /* the one it sent the query to */
  guint32 client_ip;    /* network order */
  guint16 client_port;  /* network order */
  guint16 client_id;    /* the query's own id */
  gint64 sent;
} Pending;

struct HutchNetDns
{
  int fd;
  GArray *servers;       /* struct sockaddr_in */
  GHashTable *pending;   /* our id -> Pending */
  guint32 dns_addr;      /* 10.0.2.3, network order */
};

HutchNetDns *
hutch_net_dns_new (const HutchNetConfig *cfg, GError **error)
{
  HutchNetDns *dns = g_new0 (HutchNetDns, 1);
  struct sockaddr_in any = { .sin_family = AF_INET };

  dns->fd = socket (AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (dns->fd < 0 || bind (dns->fd, (struct sockaddr *) &any, sizeof any) < 0)
    {
      hutch_net_dns_free (dns);
      return hutch_throw_errno (error, "opening a socket for DNS"), NULL;
    }
  dns->servers = g_array_copy (cfg->dns);
  dns->pending = g_hash_table_new_full (NULL, NULL, NULL, g_free);
  inet_pton (AF_INET, HUTCH_NET_DNS, &dns->dns_addr);
  return dns;
}

void
hutch_net_dns_free (HutchNetDns *dns)
{
  if (dns == NULL)
    return;
  hutch_fd_clear (&dns->fd);
  g_clear_pointer (&dns->servers, g_array_unref);
  g_clear_pointer (&dns->pending, g_hash_table_unref);
  g_free (dns);
}

int
hutch_net_dns_fd (HutchNetDns *dns)
{
  return dns->fd;
}

static guint16
get16 (const guint8 *p)
{
  return (guint16) (p[0] << 8 | p[1]);
}

static void
put16 (guint8 *p, guint16 v)
{
  p[0] = (guint8) (v >> 8);
  p[1] = (guint8) v;
}

static gboolean
expired (gpointer key, gpointer value, gpointer now)
{
  return ((Pending *) value)->sent + PENDING_USEC < *(gint64 *) now;
}

gboolean
hutch_net_dns_intercept (HutchNetDns *dns, const guint8 *f, gsize len)
{
  const guint8 *ip = f + ETH_HLEN, *udp, *q;
  gsize ihl, qlen;
  Pending *p;
  guint16 id;
  gint64 now;
  g_autofree guint8 *out = NULL;

  if (len < ETH_HLEN + IP_HLEN + UDP_HLEN + DNS_HLEN || get16 (f + 12) != 0x0800
      || (ip[0] >> 4) != 4 || ip[9] != IPPROTO_UDP || memcmp (ip + 16, &dns->dns_addr, 4) != 0)
    return FALSE;
  ihl = (gsize) (ip[0] & 0xf) * 4;
  if (ihl < IP_HLEN || (get16 (ip + 6) & 0x3fff) != 0 /* a fragment */
      || len < ETH_HLEN + ihl + UDP_HLEN + DNS_HLEN)
    return FALSE;
  udp = ip + ihl;
  if (get16 (udp + 2) != 53)
    return FALSE;
  /* Ours from here: what is malformed is dropped, as a resolver would. */
  qlen = MIN ((gsize) get16 (udp + 4), len - ETH_HLEN - ihl);
  if (qlen < UDP_HLEN + DNS_HLEN || dns->servers->len == 0)
    return TRUE;
  qlen -= UDP_HLEN;
  q = udp + UDP_HLEN;
  now = g_get_monotonic_time ();
  g_hash_table_foreach_remove (dns->pending, expired, &now);
  if (g_hash_table_size (dns->pending) >= PENDING_MAX)
    return TRUE;
  do /* random ids: an answer forged off the path must guess one */
    id = (guint16) g_random_int ();
  while (g_hash_table_contains (dns->pending, GUINT_TO_POINTER (id)));
  p = g_new0 (Pending, 1);
  memcpy (p->mac, f + 6, 6);
  memcpy (p->server_mac, f, 6);
  memcpy (&p->client_ip, ip + 12, 4);
  memcpy (&p->client_port, udp, 2);
  p->client_id = get16 (q);
  p->sent = now;
  g_hash_table_insert (dns->pending, GUINT_TO_POINTER (id), p);
  out = g_memdup2 (q, qlen);
  put16 (out, id);
  for (guint i = 0; i < dns->servers->len; i++)
    {
      const struct sockaddr_in *s = &g_array_index (dns->servers, struct sockaddr_in, i);
      (void) sendto (dns->fd, out, qlen, 0, (const struct sockaddr *) s, sizeof *s);
    }
  return TRUE;
}

static guint16
ip_checksum (const guint8 *h, gsize len)
{
  guint32 sum = 0;

  for (gsize i = 0; i + 1 < len; i += 2)
    sum += get16 (h + i);
  while (sum >> 16)
    sum = (sum & 0xffff) + (sum >> 16);
  return (guint16) ~sum;
}

static gboolean
from_upstream (HutchNetDns *dns, const struct sockaddr_in *from)
{
  for (guint i = 0; i < dns->servers->len; i++)
    {
      const struct sockaddr_in *s = &g_array_index (dns->servers, struct sockaddr_in, i);
      if (s->sin_addr.s_addr == from->sin_addr.s_addr && s->sin_port == from->sin_port)
        return TRUE;
    }
  return FALSE;
}

/* The answer as a frame from 10.0.2.3:53 to the client; one too big for
 * the MTU goes as its header alone, truncated (TC), so the client asks
 * again over TCP. */
static void
send_answer (HutchNetDns *dns, const Pending *p, guint8 *ans, gsize len, int tap, guint32 mtu)
{
  guint8 frame[ETH_HLEN + IP_HLEN + UDP_HLEN + 4096];
  guint8 *ip = frame + ETH_HLEN, *udp = ip + IP_HLEN;

  put16 (ans, p->client_id);
  if (len > sizeof frame - (ETH_HLEN + IP_HLEN + UDP_HLEN) || len + IP_HLEN + UDP_HLEN > mtu)
    {
      ans[2] |= 0x02;
      memset (ans + 4, 0, 8);
      len = DNS_HLEN;
    }
  memcpy (frame, p->mac, 6);
  memcpy (frame + 6, p->server_mac, 6);
  put16 (frame + 12, 0x0800);
  memset (ip, 0, IP_HLEN);
  ip[0] = 0x45;
  put16 (ip + 2, (guint16) (IP_HLEN + UDP_HLEN + len));
  put16 (ip + 6, 0x4000); /* don't fragment */
  ip[8] = 64;
  ip[9] = IPPROTO_UDP;
  memcpy (ip + 12, &dns->dns_addr, 4);
  memcpy (ip + 16, &p->client_ip, 4);
  put16 (ip + 10, ip_checksum (ip, IP_HLEN));
  put16 (udp, 53);
  memcpy (udp + 2, &p->client_port, 2);
  put16 (udp + 4, (guint16) (UDP_HLEN + len));
  put16 (udp + 6, 0); /* no checksum, as IPv4 allows */
  memcpy (udp + UDP_HLEN, ans, len);
  (void) !write (tap, frame, ETH_HLEN + IP_HLEN + UDP_HLEN + len);
}

void
hutch_net_dns_answer (HutchNetDns *dns, int tap, guint32 mtu)
{
  guint8 buf[65536];

  for (;;)
    {
      struct sockaddr_in from;
      socklen_t flen = sizeof from;
      ssize_t n = recvfrom (dns->fd, buf, sizeof buf, 0, (struct sockaddr *) &from, &flen);
      gpointer key;
      Pending *p;
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return;
      if (n < DNS_HLEN || !from_upstream (dns, &from))
        continue;
      key = GUINT_TO_POINTER (get16 (buf));
      p = g_hash_table_lookup (dns->pending, key);
      if (p == NULL)
        continue; /* answered already by another server, or too late */
      if (tap >= 0)
        send_answer (dns, p, buf, (gsize) n, tap, mtu);
      g_hash_table_remove (dns->pending, key);
    }
}
