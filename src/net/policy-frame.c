/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The policy at the tap: every frame the container sends is looked at
 * before libslirp (or the DNS answerer) sees it. A TCP SYN or a UDP
 * datagram to a destination no entry allows is answered at once (a reset,
 * an ICMP "administratively prohibited"), so the program fails fast
 * instead of waiting for a timeout; other IPv4 protocols to such an
 * address are dropped, and so is all IPv6. The verdict itself is
 * policy.c's. */
#include "config.h"

#include <arpa/inet.h>
#include <string.h>
#include <unistd.h>

#include "net-private.h"

#define ETH_HLEN 14
#define IP_HLEN 20
#define TCP_HLEN 20
#define UDP_HLEN 8
#define ICMP_HLEN 8
#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_ACK 0x10
#define ICMP_UNREACH 3
#define ICMP_ADMIN_PROHIBITED 13

/* An IPv4 packet of a frame, checked to be whole. */
typedef struct
{
  const guint8 *frame;
  const guint8 *ip;
  gsize ihl;       /* its header's length */
  gsize len;       /* its total length, within the frame */
  const guint8 *l4; /* NULL in a fragment other than the first */
  gsize l4_len;
} Packet;

static gboolean
packet_parse (Packet *pk, const guint8 *f, gsize len)
{
  const guint8 *ip = f + ETH_HLEN;

  if (len < ETH_HLEN + IP_HLEN || (ip[0] >> 4) != 4)
    return FALSE;
  pk->frame = f;
  pk->ip = ip;
  pk->ihl = (gsize) (ip[0] & 0xf) * 4;
  pk->len = MIN ((gsize) hutch_net_get16 (ip + 2), len - ETH_HLEN);
  if (pk->ihl < IP_HLEN || pk->len < pk->ihl)
    return FALSE;
  pk->l4 = (hutch_net_get16 (ip + 6) & 0x1fff) == 0 ? ip + pk->ihl : NULL;
  pk->l4_len = pk->len - pk->ihl;
  return TRUE;
}

/* The reply's Ethernet and IPv4 headers, from @src to the container: the
 * frame's addresses swapped. */
static void
reply_headers (guint8 *out, const Packet *pk, const guint8 *src, guint8 proto, gsize ip_len)
{
  guint8 *ip = out + ETH_HLEN;

  memcpy (out, pk->frame + 6, 6);
  memcpy (out + 6, pk->frame, 6);
  hutch_net_put16 (out + 12, 0x0800);
  memset (ip, 0, IP_HLEN);
  ip[0] = 0x45;
  hutch_net_put16 (ip + 2, (guint16) ip_len);
  hutch_net_put16 (ip + 6, 0x4000); /* don't fragment */
  ip[8] = 64;
  ip[9] = proto;
  memcpy (ip + 12, src, 4);
  memcpy (ip + 16, pk->ip + 12, 4);
  hutch_net_put16 (ip + 10, hutch_net_sum_fold (hutch_net_sum (0, ip, IP_HLEN)));
}

static void
send_frame (int tap, const guint8 *frame, gsize len)
{
  /* the tap is non-blocking: a reply that does not fit now is lost, and
   * the container's retry is refused again */
  (void) !write (tap, frame, len);
}

/* RFC 793's reset for a SYN to no one: seq 0, ack the SYN (and its data). */
static void
refuse_tcp (const Packet *pk, int tap)
{
  guint8 out[ETH_HLEN + IP_HLEN + TCP_HLEN] = { 0 };
  guint8 *ip = out + ETH_HLEN, *tcp = ip + IP_HLEN;
  const guint8 *in = pk->l4;
  gsize doff = (gsize) (in[12] >> 4) * 4;
  guint32 seq, ack, sum;

  memcpy (&seq, in + 4, 4);
  ack = g_ntohl (seq) + 1 + (guint32) (pk->l4_len > doff ? pk->l4_len - doff : 0)
        + ((in[13] & TCP_FIN) ? 1 : 0);
  reply_headers (out, pk, pk->ip + 16, IPPROTO_TCP, IP_HLEN + TCP_HLEN);
  memcpy (tcp, in + 2, 2);
  memcpy (tcp + 2, in, 2);
  ack = g_htonl (ack);
  memcpy (tcp + 8, &ack, 4);
  tcp[12] = (TCP_HLEN / 4) << 4;
  tcp[13] = TCP_RST | TCP_ACK;
  /* the pseudo-header: addresses, protocol, length */
  sum = hutch_net_sum (0, ip + 12, 8) + IPPROTO_TCP + TCP_HLEN;
  hutch_net_put16 (tcp + 16, hutch_net_sum_fold (hutch_net_sum (sum, tcp, TCP_HLEN)));
  send_frame (tap, out, sizeof out);
}

/* ICMP destination unreachable, administratively prohibited (RFC 1812),
 * from the gateway, quoting the datagram's header and first 8 bytes: the
 * sending socket gets EHOSTUNREACH. */
static void
refuse_icmp (const Packet *pk, int tap)
{
  guint8 out[ETH_HLEN + IP_HLEN + ICMP_HLEN + 60 + 8] = { 0 };
  guint8 *icmp = out + ETH_HLEN + IP_HLEN;
  gsize quote = MIN (pk->len, pk->ihl + 8);
  guint32 gateway = inet_addr (HUTCH_NET_GATEWAY);

  reply_headers (out, pk, (const guint8 *) &gateway, IPPROTO_ICMP, IP_HLEN + ICMP_HLEN + quote);
  icmp[0] = ICMP_UNREACH;
  icmp[1] = ICMP_ADMIN_PROHIBITED;
  memcpy (icmp + ICMP_HLEN, pk->ip, quote);
  hutch_net_put16 (icmp + 2, hutch_net_sum_fold (hutch_net_sum (0, icmp, ICMP_HLEN + quote)));
  send_frame (tap, out, ETH_HLEN + IP_HLEN + ICMP_HLEN + quote);
}

static const char *
proto_name (guint8 proto, char buf[16])
{
  if (proto == IPPROTO_TCP)
    return "tcp";
  if (proto == IPPROTO_UDP)
    return "udp";
  if (proto == IPPROTO_ICMP)
    return "icmp";
  g_snprintf (buf, 16, "ip-proto-%u", proto);
  return buf;
}

/* Broadcast and multicast get no ICMP error (RFC 1122 3.2.2): dropped. */
static gboolean
unicast (guint32 addr)
{
  guint32 h = g_ntohl (addr);

  return h != G_MAXUINT32 && (h & 0xf0000000) != 0xe0000000 && (h & 0xff) != 0xff;
}

static gboolean
filter_ipv4 (HutchNetPolicy *p, const guint8 *f, gsize len, int tap)
{
  Packet pk;
  guint8 proto;
  guint32 dst;
  int port = HUTCH_NET_ANY_PORT;
  gboolean syn = FALSE;
  const char *name = NULL;
  g_autofree char *why = NULL;
  g_autofree char *dest = NULL;
  char ip[INET_ADDRSTRLEN], pbuf[16];

  if (!packet_parse (&pk, f, len))
    return FALSE; /* libslirp would drop it too */
  proto = pk.ip[9];
  memcpy (&dst, pk.ip + 16, 4);
  if (pk.l4 != NULL && proto == IPPROTO_TCP)
    {
      if (pk.l4_len < TCP_HLEN)
        return FALSE;
      /* only a SYN makes libslirp connect; the rest of a flow follows it */
      syn = (pk.l4[13] & (TCP_SYN | TCP_ACK)) == TCP_SYN;
      if (!syn)
        return TRUE;
      port = hutch_net_get16 (pk.l4 + 2);
    }
  else if (pk.l4 != NULL && proto == IPPROTO_UDP)
    {
      if (pk.l4_len < UDP_HLEN)
        return FALSE;
      port = hutch_net_get16 (pk.l4 + 2);
      /* the DNS answerer's, which asks the policy itself; a fragmented
       * query it leaves to libslirp, which would send it to the host's
       * resolver unasked: refused */
      if (dst == inet_addr (HUTCH_NET_DNS) && port == 53 && (hutch_net_get16 (pk.ip + 6) & 0x3fff) == 0)
        return TRUE;
    }
  /* (a later fragment has no ports: its address must be allowed at some
   * port, and libslirp reassembles nothing without the first) */
  why = hutch_net_policy_judge (p, dst, port, &name);
  if (why == NULL)
    return TRUE;
  inet_ntop (AF_INET, &dst, ip, sizeof ip);
  dest = port == HUTCH_NET_ANY_PORT ? g_strdup (ip) : g_strdup_printf ("%s:%d", ip, port);
  hutch_net_policy_log (p, proto_name (proto, pbuf), dest, name, why);
  if (tap >= 0 && syn)
    refuse_tcp (&pk, tap);
  else if (tap >= 0 && proto == IPPROTO_UDP && pk.l4 != NULL && unicast (dst))
    refuse_icmp (&pk, tap);
  return FALSE;
}

gboolean
hutch_net_policy_filter (HutchNetPolicy *p, const guint8 *f, gsize len, int tap)
{
  guint16 type;

  if (len < ETH_HLEN)
    return FALSE;
  type = hutch_net_get16 (f + 12);
  if (type == 0x0806) /* ARP: the container finds the gateway's address */
    return TRUE;
  if (type == 0x0800)
    return filter_ipv4 (p, f, len, tap);
  return FALSE; /* IPv6 (off under a policy, the container has none) and the rest */
}
