/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* DNS at 10.0.2.3, answered by the monitor rather than libslirp: queries
 * the container sends over UDP are taken off the tap, sent from the host to
 * every upstream resolver (the host's resolv.conf, or --network
 * slirp:dns=), and the first answer goes back as a frame from 10.0.2.3.
 * The host's loopback stubs (systemd-resolved's 127.0.0.53, a local
 * dnsmasq) work, since the monitor is on the host; libslirp reads only the
 * first nameserver of /etc/resolv.conf and cannot be pointed elsewhere.
 * Queries over TCP (after a truncated answer) still go to libslirp.
 * Under an egress policy a query for a name no --allow-host entry allows
 * is answered NXDOMAIN here and never leaves, and the addresses in the
 * answer for an allowed one are taught to the policy. */
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
  char *qname;          /* under a policy: the name asked about */
} Pending;

struct HutchNetDns
{
  int fd;
  GArray *servers;       /* struct sockaddr_in */
  GHashTable *pending;   /* our id -> Pending */
  guint32 dns_addr;      /* 10.0.2.3, network order */
  HutchNetPolicy *policy; /* or NULL */
};

static void
pending_free (gpointer data)
{
  Pending *p = data;

  g_free (p->qname);
  g_free (p);
}

HutchNetDns *
hutch_net_dns_new (const HutchNetConfig *cfg, HutchNetPolicy *policy, GError **error)
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
  dns->pending = g_hash_table_new_full (NULL, NULL, NULL, pending_free);
  inet_pton (AF_INET, HUTCH_NET_DNS, &dns->dns_addr);
  dns->policy = policy;
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

#define get16 hutch_net_get16
#define put16 hutch_net_put16

static gboolean
expired (gpointer key, gpointer value, gpointer now)
{
  return ((Pending *) value)->sent + PENDING_USEC < *(gint64 *) now;
}

static void send_answer (HutchNetDns *dns, const Pending *p, guint8 *ans, gsize len, int tap,
                         guint32 mtu);

/* Under a policy: the name @q asks about when some entry allows it, into
 * *@out_name; else an answer made here goes back (NXDOMAIN, or FORMERR
 * for a query that cannot be read) and the refusal is logged. */
static gboolean
policy_admits (HutchNetDns *dns, const Pending *who, const guint8 *q, gsize qlen, char **out_name,
               int tap, guint32 mtu)
{
  g_autofree char *name = NULL;
  g_autofree guint8 *ans = NULL;
  gsize end = DNS_HLEN;
  guint16 type = 0;
  gboolean readable = hutch_net_dns_parse_query (q, qlen, &name, &type, &end);

  if (readable && hutch_net_policy_name_allowed (dns->policy, name))
    {
      *out_name = g_steal_pointer (&name);
      return TRUE;
    }
  if (readable)
    {
      g_autofree char *t = type == 1    ? g_strdup ("A")
                           : type == 28 ? g_strdup ("AAAA")
                                        : g_strdup_printf ("type-%u", type);
      g_autofree char *why = g_strdup_printf ("refused (NXDOMAIN), needs --allow-host %s",
                                              *name != '\0' ? name : ".");
      hutch_net_policy_log (dns->policy, "dns", *name != '\0' ? name : ".", t, why);
    }
  /* the question kept, no records: QR, the query's opcode and RD, RA */
  ans = g_memdup2 (q, readable ? end : DNS_HLEN);
  ans[2] = (guint8) (0x80 | (q[2] & 0x79));
  ans[3] = (guint8) (0x80 | (readable ? 3 : 1));
  memset (ans + 6, 0, 6);
  if (!readable)
    put16 (ans + 4, 0);
  if (tap >= 0)
    send_answer (dns, who, ans, readable ? end : DNS_HLEN, tap, mtu);
  return FALSE;
}

gboolean
hutch_net_dns_intercept (HutchNetDns *dns, const guint8 *f, gsize len, int tap, guint32 mtu)
{
  const guint8 *ip = f + ETH_HLEN, *udp, *q;
  gsize ihl, qlen;
  Pending who = { 0 };
  g_autofree char *qname = NULL;
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
  if (qlen < UDP_HLEN + DNS_HLEN)
    return TRUE;
  qlen -= UDP_HLEN;
  q = udp + UDP_HLEN;
  memcpy (who.mac, f + 6, 6);
  memcpy (who.server_mac, f, 6);
  memcpy (&who.client_ip, ip + 12, 4);
  memcpy (&who.client_port, udp, 2);
  who.client_id = get16 (q);
  if (dns->policy != NULL && !policy_admits (dns, &who, q, qlen, &qname, tap, mtu))
    return TRUE;
  if (dns->servers->len == 0)
    return TRUE;
  now = g_get_monotonic_time ();
  g_hash_table_foreach_remove (dns->pending, expired, &now);
  if (g_hash_table_size (dns->pending) >= PENDING_MAX)
    return TRUE;
  do /* random ids: an answer forged off the path must guess one */
    id = (guint16) g_random_int ();
  while (g_hash_table_contains (dns->pending, GUINT_TO_POINTER (id)));
  who.sent = now;
  who.qname = g_steal_pointer (&qname);
  g_hash_table_insert (dns->pending, GUINT_TO_POINTER (id), g_memdup2 (&who, sizeof who));
  out = g_memdup2 (q, qlen);
  put16 (out, id);
  for (guint i = 0; i < dns->servers->len; i++)
    {
      const struct sockaddr_in *s = &g_array_index (dns->servers, struct sockaddr_in, i);
      (void) sendto (dns->fd, out, qlen, 0, (const struct sockaddr *) s, sizeof *s);
    }
  return TRUE;
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
  put16 (ip + 10, hutch_net_sum_fold (hutch_net_sum (0, ip, IP_HLEN)));
  put16 (udp, 53);
  memcpy (udp + 2, &p->client_port, 2);
  put16 (udp + 4, (guint16) (UDP_HLEN + len));
  put16 (udp + 6, 0); /* no checksum, as IPv4 allows */
  memcpy (udp + UDP_HLEN, ans, len);
  (void) !write (tap, frame, ETH_HLEN + IP_HLEN + UDP_HLEN + len);
}

typedef struct
{
  HutchNetDns *dns;
  const Pending *p;
} Learning;

static void
learn_one (const char *qname, guint32 addr, gpointer data)
{
  Learning *l = data;

  /* the question must be the one the container asked */
  if (strcmp (qname, l->p->qname) == 0)
    hutch_net_policy_learn (l->dns->policy, qname, addr);
}

static void
learn_answer (HutchNetDns *dns, const Pending *p, const guint8 *ans, gsize len)
{
  Learning l = { dns, p };

  hutch_net_dns_parse_answer (ans, len, learn_one, &l);
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
      /* what the policy learns comes from the answer the container gets */
      if (p->qname != NULL)
        learn_answer (dns, p, buf, (gsize) n);
      if (tap >= 0)
        send_answer (dns, p, buf, (gsize) n, tap, mtu);
      g_hash_table_remove (dns->pending, key);
    }
}
