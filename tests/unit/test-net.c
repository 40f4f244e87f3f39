/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* net/'s egress policy without a network: --allow-host as parsed, the
 * verdicts, the DNS messages it reads (hostile ones too), and the frames
 * that refuse a connection, checked byte by byte; and which of libslirp's
 * ACKs are held back. */
#include "config.h"

#include <arpa/inet.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net/net-private.h"

static guint32
ip4 (const char *text)
{
  return inet_addr (text);
}

static void
config_with (HutchNetConfig *cfg, const char *const *entries)
{
  hutch_net_config_init (cfg);
  for (const char *const *e = entries; *e != NULL; e++)
    {
      g_autoptr (GError) error = NULL;
      g_assert_true (hutch_net_config_add_allow (cfg, *e, &error));
      g_assert_no_error (error);
    }
}

static void
test_allow_parse (void)
{
  static const char *const good[] = { "example.org", "*.Example.ORG:443", "192.0.2.10",
                                      "10.0.0.0/8:5432", "host.containers.internal:8080",
                                      "db.example.org.", NULL };
  static const struct
  {
    const char *text;
    const char *says;
  } bad[] = {
    { "", "empty" },
    { "no such host", "not a host name" },
    { "a.*.org", "not a host name" },
    { "*", "lone *" },
    { "example.org:0", "the port is a number" },
    { "example.org:http", "the port is a number" },
    { "1.2.3", "not an IPv4 address" },
    { "10.0.0.1/8", "did you mean 10.0.0.0/8" },
    { "10.0.0.0/33", "prefix length" },
    { "fd00::1", "IPv6 is not supported" },
    { "[::1]:80", "IPv6 is not supported" },
  };
  HutchNetConfig cfg;
  const HutchNetAllow *a;

  config_with (&cfg, good);
  g_assert_true (hutch_net_config_has_policy (&cfg));
  g_assert_cmpuint (cfg.allow->len, ==, 6);
  a = cfg.allow->pdata[1];
  g_assert_cmpstr (a->name, ==, ".example.org");
  g_assert_cmpuint (a->port, ==, 443);
  a = cfg.allow->pdata[3];
  g_assert_null (a->name);
  g_assert_cmpuint (a->addr, ==, ip4 ("10.0.0.0"));
  g_assert_cmpuint (a->mask, ==, ip4 ("255.0.0.0"));
  a = cfg.allow->pdata[4];
  g_assert_true (a->gateway);
  g_assert_true (cfg.allow_host_loopback);
  a = cfg.allow->pdata[5];
  g_assert_cmpstr (a->name, ==, "db.example.org");
  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (GError) error = NULL;
      g_assert_false (hutch_net_config_add_allow (&cfg, bad[i].text, &error));
      g_assert_error (error, HUTCH_ERROR, HUTCH_ERROR_USAGE);
      g_assert_nonnull (strstr (error->message, bad[i].says));
      g_assert_nonnull (strstr (error->message, bad[i].text));
    }
  g_assert_cmpuint (cfg.allow->len, ==, 6);
  hutch_net_config_clear (&cfg);
  hutch_net_config_init (&cfg);
  g_assert_false (hutch_net_config_has_policy (&cfg));
  hutch_net_config_clear (&cfg);
}

static void
test_allow_copy (void)
{
  static const char *const entries[] = { "example.org:443", NULL };
  HutchNetConfig cfg, copy;

  config_with (&cfg, entries);
  cfg.egress_log = g_strdup ("/x/egress.log");
  hutch_net_config_copy (&copy, &cfg);
  hutch_net_config_clear (&cfg);
  g_assert_true (hutch_net_config_has_policy (&copy));
  g_assert_cmpstr (((HutchNetAllow *) copy.allow->pdata[0])->name, ==, "example.org");
  g_assert_cmpstr (copy.egress_log, ==, "/x/egress.log");
  hutch_net_config_clear (&copy);
}

static void
test_policy_judge (void)
{
  static const char *const entries[] = { "192.0.2.10:80", "198.51.100.0/24", "web.test:443",
                                         "*.wild.test", "10.0.2.2:8080", NULL };
  HutchNetConfig cfg;
  HutchNetPolicy *p;
  const char *name;
  g_autofree char *why = NULL;

  config_with (&cfg, entries);
  p = hutch_net_policy_new (&cfg, NULL);
  g_assert_null (hutch_net_policy_judge (p, ip4 ("192.0.2.10"), 80, &name));
  why = hutch_net_policy_judge (p, ip4 ("192.0.2.10"), 81, &name);
  g_assert_cmpstr (why, ==, "refused, needs --allow-host 192.0.2.10:81");
  g_clear_pointer (&why, g_free);
  g_assert_null (hutch_net_policy_judge (p, ip4 ("198.51.100.200"), 9, &name));
  g_assert_null (hutch_net_policy_judge (p, ip4 ("198.51.100.200"), HUTCH_NET_ANY_PORT, &name));
  /* the host's loopback: its own entry and port alone */
  g_assert_null (hutch_net_policy_judge (p, ip4 ("10.0.2.2"), 8080, &name));
  why = hutch_net_policy_judge (p, ip4 ("10.0.2.2"), 22, &name);
  g_assert_cmpstr (why, ==, "refused, needs --allow-host 10.0.2.2:22");
  g_clear_pointer (&why, g_free);
  why = hutch_net_policy_judge (p, ip4 ("10.0.2.3"), 53, &name);
  g_assert_nonnull (why);
  g_clear_pointer (&why, g_free);
  /* a name: nothing before its answer, then its port */
  g_assert_true (hutch_net_policy_name_allowed (p, "web.test"));
  g_assert_false (hutch_net_policy_name_allowed (p, "www.web.test"));
  g_assert_true (hutch_net_policy_name_allowed (p, "a.wild.test"));
  g_assert_false (hutch_net_policy_name_allowed (p, "wild.test"));
  g_assert_false (hutch_net_policy_name_allowed (p, "xwild.test"));
  why = hutch_net_policy_judge (p, ip4 ("203.0.113.5"), 443, &name);
  g_assert_cmpstr (why, ==, "refused, needs --allow-host 203.0.113.5:443");
  g_clear_pointer (&why, g_free);
  hutch_net_policy_learn (p, "web.test", ip4 ("203.0.113.5"));
  g_assert_null (hutch_net_policy_judge (p, ip4 ("203.0.113.5"), 443, &name));
  why = hutch_net_policy_judge (p, ip4 ("203.0.113.5"), 80, &name);
  g_assert_cmpstr (why, ==, "refused, needs --allow-host web.test:80");
  g_assert_cmpstr (name, ==, "web.test");
  g_clear_pointer (&why, g_free);
  /* the gateway is never learned into */
  hutch_net_policy_learn (p, "a.wild.test", ip4 ("10.0.2.2"));
  why = hutch_net_policy_judge (p, ip4 ("10.0.2.2"), 22, &name);
  g_assert_nonnull (why);
  hutch_net_policy_free (p);
  hutch_net_config_clear (&cfg);
}

static void
collect (const char *qname, guint32 addr, gpointer data)
{
  char ip[INET_ADDRSTRLEN];

  inet_ntop (AF_INET, &addr, ip, sizeof ip);
  g_ptr_array_add (data, g_strdup_printf ("%s=%s", qname, ip));
}

/* A message: header (@an answers), the question for www.test A, then @rest. */
static GByteArray *
message (guint16 an, const guint8 *rest, gsize len)
{
  static const guint8 head[] = { 0x12, 0x34, 0x81, 0x80, 0, 1, 0, 0, 0, 0, 0, 0,
                                 3, 'w', 'w', 'w', 4, 'T', 'e', 's', 't', 0, 0, 1, 0, 1 };
  GByteArray *m = g_byte_array_new ();

  g_byte_array_append (m, head, sizeof head);
  hutch_net_put16 (m->data + 6, an);
  g_byte_array_append (m, rest, (guint) len);
  return m;
}

static void
test_dns_parse (void)
{
  /* www.test CNAME cdn.other, cdn.other A 192.0.2.7, elsewhere.test A
   * 192.0.2.8 (not in the chain), www.test A 192.0.2.9 */
  static const guint8 answer[] = {
    0xc0, 12, 0, 5, 0, 1, 0, 0, 0, 30, 0, 11, 3, 'c', 'd', 'n', 5, 'o', 't', 'h', 'e', 'r', 0,
    0xc0, 38, 0, 1, 0, 1, 0, 0, 0, 30, 0, 4, 192, 0, 2, 7,
    9, 'e', 'l', 's', 'e', 'w', 'h', 'e', 'r', 'e', 0xc0, 16, 0, 1, 0, 1, 0, 0, 0, 30, 0, 4, 192, 0, 2, 8,
    0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 30, 0, 4, 192, 0, 2, 9,
  };
  /* a pointer to itself, and one forward */
  static const guint8 loop[] = { 0xc0, 26, 0, 1, 0, 1, 0, 0, 0, 30, 0, 4, 192, 0, 2, 7 };
  static const guint8 forward[] = { 0xc0, 40, 0, 1, 0, 1, 0, 0, 0, 30, 0, 4, 192, 0, 2, 7 };
  g_autoptr (GPtrArray) got = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GByteArray) m = message (4, answer, sizeof answer);
  g_autofree char *name = NULL;
  guint16 type;
  gsize end;

  g_assert_true (hutch_net_dns_parse_query (m->data, m->len, &name, &type, &end));
  g_assert_cmpstr (name, ==, "www.test");
  g_assert_cmpuint (type, ==, 1);
  g_assert_cmpuint (end, ==, 26);
  hutch_net_dns_parse_answer (m->data, m->len, collect, got);
  g_assert_cmpuint (got->len, ==, 2);
  g_assert_cmpstr (got->pdata[0], ==, "www.test=192.0.2.7");
  g_assert_cmpstr (got->pdata[1], ==, "www.test=192.0.2.9");
  /* every truncation is refused or read short, never past the end */
  for (guint cut = 0; cut < m->len; cut++)
    {
      g_autofree guint8 *piece = g_memdup2 (m->data, cut);
      hutch_net_dns_parse_answer (piece, cut, collect, got);
    }
  g_ptr_array_set_size (got, 0);
  g_byte_array_unref (m);
  m = message (1, loop, sizeof loop);
  hutch_net_dns_parse_answer (m->data, m->len, collect, got);
  g_byte_array_unref (m);
  m = message (1, forward, sizeof forward);
  hutch_net_dns_parse_answer (m->data, m->len, collect, got);
  g_assert_cmpuint (got->len, ==, 0);
  /* an error code: nothing learned */
  g_byte_array_unref (m);
  m = message (4, answer, sizeof answer);
  m->data[3] |= 3;
  hutch_net_dns_parse_answer (m->data, m->len, collect, got);
  g_assert_cmpuint (got->len, ==, 0);
}

/* A frame from the container (02:..:01) to the gateway's MAC, from
 * 10.0.2.100:40000 to @dst:@port over @proto (TCP with @tcp_flags). */
static GByteArray *
frame (guint8 proto, const char *dst, guint16 port, guint8 tcp_flags)
{
  guint8 f[14 + 20 + 20] = { 0x52, 0x55, 0x0a, 0x00, 0x02, 0x02, 0x02, 0, 0, 0, 0, 1, 0x08, 0x00 };
  guint8 *ip = f + 14, *l4 = ip + 20;
  gsize l4len = proto == IPPROTO_TCP ? 20 : 8;
  guint32 src = ip4 ("10.0.2.100"), d = ip4 (dst);
  GByteArray *out = g_byte_array_new ();

  ip[0] = 0x45;
  hutch_net_put16 (ip + 2, (guint16) (20 + l4len));
  ip[8] = 64;
  ip[9] = proto;
  memcpy (ip + 12, &src, 4);
  memcpy (ip + 16, &d, 4);
  hutch_net_put16 (l4, 40000);
  hutch_net_put16 (l4 + 2, port);
  if (proto == IPPROTO_TCP)
    {
      hutch_net_put16 (l4 + 4, 0x0102);
      hutch_net_put16 (l4 + 6, 0x0304); /* seq 0x01020304 */
      l4[12] = 5 << 4;
      l4[13] = tcp_flags;
    }
  else
    hutch_net_put16 (l4 + 4, 8);
  g_byte_array_append (out, f, (guint) (14 + 20 + l4len));
  return out;
}

static void
test_policy_frames (void)
{
  static const char *const entries[] = { "192.0.2.10:80", NULL };
  HutchNetConfig cfg;
  HutchNetPolicy *p;
  int sv[2];
  guint8 buf[256];
  ssize_t n;
  guint32 sum;
  g_autoptr (GByteArray) f = NULL;
  static const guint8 ipv6[] = { 0x52, 0x55, 0x0a, 0, 2, 2, 2, 0, 0, 0, 0, 1, 0x86, 0xdd, 0x60, 0 };
  static const guint8 arp[] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0, 0, 1, 0x08, 0x06, 0, 1 };

  g_assert_cmpint (socketpair (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), ==, 0);
  config_with (&cfg, entries);
  p = hutch_net_policy_new (&cfg, NULL);
  f = frame (IPPROTO_TCP, "192.0.2.10", 80, 0x02);
  g_assert_true (hutch_net_policy_filter (p, f->data, f->len, sv[0]));
  g_byte_array_unref (f);
  /* a SYN elsewhere: a reset back, checksums right, acking seq + 1 */
  f = frame (IPPROTO_TCP, "192.0.2.10", 81, 0x02);
  g_assert_false (hutch_net_policy_filter (p, f->data, f->len, sv[0]));
  n = recv (sv[1], buf, sizeof buf, MSG_DONTWAIT);
  g_assert_cmpint (n, ==, 14 + 20 + 20);
  g_assert_cmpmem (buf, 6, f->data + 6, 6);
  g_assert_cmpuint (hutch_net_sum_fold (hutch_net_sum (0, buf + 14, 20)), ==, 0);
  g_assert_cmpmem (buf + 14 + 12, 4, f->data + 14 + 16, 4);
  g_assert_cmpuint (buf[14 + 20 + 13], ==, 0x14); /* RST|ACK */
  g_assert_cmpuint (hutch_net_get16 (buf + 14 + 20 + 8), ==, 0x0102);
  g_assert_cmpuint (hutch_net_get16 (buf + 14 + 20 + 10), ==, 0x0305);
  sum = hutch_net_sum (0, buf + 14 + 12, 8) + IPPROTO_TCP + 20;
  g_assert_cmpuint (hutch_net_sum_fold (hutch_net_sum (sum, buf + 14 + 20, 20)), ==, 0);
  g_byte_array_unref (f);
  /* the rest of a flow is not judged */
  f = frame (IPPROTO_TCP, "192.0.2.10", 81, 0x10);
  g_assert_true (hutch_net_policy_filter (p, f->data, f->len, sv[0]));
  g_byte_array_unref (f);
  /* UDP: ICMP unreachable, admin prohibited, quoting the datagram */
  f = frame (IPPROTO_UDP, "192.0.2.11", 53, 0);
  g_assert_false (hutch_net_policy_filter (p, f->data, f->len, sv[0]));
  n = recv (sv[1], buf, sizeof buf, MSG_DONTWAIT);
  g_assert_cmpint (n, ==, 14 + 20 + 8 + 28);
  g_assert_cmpuint (buf[14 + 9], ==, IPPROTO_ICMP);
  g_assert_cmpuint (buf[14 + 20], ==, 3);
  g_assert_cmpuint (buf[14 + 20 + 1], ==, 13);
  g_assert_cmpuint (hutch_net_sum_fold (hutch_net_sum (0, buf + 14 + 20, 8 + 28)), ==, 0);
  g_assert_cmpmem (buf + 14 + 20 + 8, 28, f->data + 14, 28);
  g_byte_array_unref (f);
  /* DNS to 10.0.2.3 goes on (to the answerer); IPv6 does not; ARP does */
  f = frame (IPPROTO_UDP, HUTCH_NET_DNS, 53, 0);
  g_assert_true (hutch_net_policy_filter (p, f->data, f->len, sv[0]));
  g_assert_false (hutch_net_policy_filter (p, ipv6, sizeof ipv6, sv[0]));
  g_assert_true (hutch_net_policy_filter (p, arp, sizeof arp, sv[0]));
  g_assert_cmpint (recv (sv[1], buf, sizeof buf, MSG_DONTWAIT), <, 0);
  hutch_net_policy_free (p);
  hutch_net_config_clear (&cfg);
  close (sv[0]);
  close (sv[1]);
}

/* A segment of libslirp's to the container: @flags, acking @ack with
 * window @win, and @payload bytes of data. */
static GByteArray *
ack_frame (guint16 port, guint32 ack, guint16 win, guint8 flags, guint payload)
{
  GByteArray *f = frame (IPPROTO_TCP, "192.0.2.10", port, flags);
  guint8 *tcp = f->data + 14 + 20;

  hutch_net_put16 (tcp + 8, (guint16) (ack >> 16));
  hutch_net_put16 (tcp + 10, (guint16) ack);
  hutch_net_put16 (tcp + 14, win);
  for (guint i = 0; i < payload; i++)
    g_byte_array_append (f, (const guint8 *) "x", 1);
  hutch_net_put16 (f->data + 14 + 2, (guint16) (20 + 20 + payload));
  return f;
}

static gboolean
hold (HutchNetAckHold *h, int tap, guint16 port, guint32 ack, guint16 win, guint8 flags,
      guint payload)
{
  g_autoptr (GByteArray) f = ack_frame (port, ack, win, flags, payload);

  return hutch_net_ack_hold (h, tap, f->data, f->len);
}

/* The ack number of the next frame on @fd, or -1 when there is none. */
static gint64
next_ack (int fd)
{
  guint8 buf[256];
  ssize_t n = recv (fd, buf, sizeof buf, MSG_DONTWAIT);

  if (n < 0)
    return -1;
  g_assert_cmpint (n, >=, 14 + 20 + 20);
  return (gint64) hutch_net_get16 (buf + 14 + 20 + 8) << 16 | hutch_net_get16 (buf + 14 + 20 + 10);
}

static void
test_ack_hold (void)
{
  HutchNetAckHold h = { .len = 0 };
  int sv[2];

  g_assert_cmpint (socketpair (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), ==, 0);
  /* a later ACK of the flow stands for the one held */
  g_assert_true (hold (&h, sv[0], 80, 100, 5000, 0x10, 0));
  g_assert_true (hold (&h, sv[0], 80, 200, 5000, 0x10, 0));
  g_assert_cmpint (next_ack (sv[1]), ==, -1);
  hutch_net_ack_flush (&h, sv[0]);
  g_assert_cmpint (next_ack (sv[1]), ==, 200);
  g_assert_cmpint (next_ack (sv[1]), ==, -1);
  /* so does a window update, but a duplicate ACK is not swallowed */
  g_assert_true (hold (&h, sv[0], 80, 300, 5000, 0x10, 0));
  g_assert_true (hold (&h, sv[0], 80, 300, 6000, 0x10, 0));
  g_assert_true (hold (&h, sv[0], 80, 300, 6000, 0x10, 0));
  hutch_net_ack_flush (&h, sv[0]);
  g_assert_cmpint (next_ack (sv[1]), ==, 300);
  g_assert_cmpint (next_ack (sv[1]), ==, 300);
  g_assert_cmpint (next_ack (sv[1]), ==, -1);
  /* nor is an older one, nor one of another flow */
  g_assert_true (hold (&h, sv[0], 80, 500, 5000, 0x10, 0));
  g_assert_true (hold (&h, sv[0], 80, 400, 5000, 0x10, 0));
  g_assert_true (hold (&h, sv[0], 81, 600, 5000, 0x10, 0));
  g_assert_cmpint (next_ack (sv[1]), ==, 500);
  g_assert_cmpint (next_ack (sv[1]), ==, 400);
  g_assert_cmpint (next_ack (sv[1]), ==, -1);
  /* data, or any flag but ACK, is the caller's to write, after what was held */
  g_assert_false (hold (&h, sv[0], 81, 700, 5000, 0x18, 10));
  g_assert_cmpint (next_ack (sv[1]), ==, 600);
  g_assert_false (hold (&h, sv[0], 81, 700, 5000, 0x11, 0));
  g_assert_false (hold (&h, sv[0], 81, 700, 5000, 0x14, 0));
  g_assert_cmpint (next_ack (sv[1]), ==, -1);
  hutch_net_ack_flush (&h, sv[0]);
  g_assert_cmpint (next_ack (sv[1]), ==, -1);
  close (sv[0]);
  close (sv[1]);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/net/allow/parse", test_allow_parse);
  g_test_add_func ("/net/allow/copy", test_allow_copy);
  g_test_add_func ("/net/policy/judge", test_policy_judge);
  g_test_add_func ("/net/policy/frames", test_policy_frames);
  g_test_add_func ("/net/dns/parse", test_dns_parse);
  g_test_add_func ("/net/ack/hold", test_ack_hold);
  return g_test_run ();
}
