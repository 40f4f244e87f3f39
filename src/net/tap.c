/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Inside the container's network namespace, as its root (the sandbox's
 * outer child): tap0 made and configured over rtnetlink, and the sockets
 * the monitor needs to reach forwarded ports from the client's address. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/fib_rules.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net.h"

/* The routing table where replies to forwarded connections are local. */
#define FORWARD_TABLE 100
#define FORWARD_RULE_PRIORITY 100

typedef struct
{
  struct nlmsghdr h;
  char body[512];
} NlMsg;

static void *
nl_start (NlMsg *m, guint16 type, guint16 flags, gsize header_len)
{
  memset (m, 0, sizeof *m);
  m->h.nlmsg_len = NLMSG_LENGTH (header_len);
  m->h.nlmsg_type = type;
  m->h.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
  return NLMSG_DATA (&m->h);
}

static void
nl_attr (NlMsg *m, guint16 type, const void *data, gsize len)
{
  struct rtattr *rta = (struct rtattr *) ((char *) &m->h + NLMSG_ALIGN (m->h.nlmsg_len));

  g_assert (NLMSG_ALIGN (m->h.nlmsg_len) + RTA_SPACE (len) <= sizeof *m);
  rta->rta_type = type;
  rta->rta_len = (unsigned short) RTA_LENGTH (len);
  memcpy (RTA_DATA (rta), data, len);
  m->h.nlmsg_len = NLMSG_ALIGN (m->h.nlmsg_len) + RTA_SPACE (len);
}

static void
nl_attr_u32 (NlMsg *m, guint16 type, guint32 v)
{
  nl_attr (m, type, &v, sizeof v);
}

/* Sends @m and reads the kernel's answer: FALSE with @error saying @what. */
static gboolean
nl_talk (int fd, NlMsg *m, const char *what, GError **error)
{
  char buf[1024];
  ssize_t n;
  struct nlmsghdr *h = (struct nlmsghdr *) buf;

  if (send (fd, m, m->h.nlmsg_len, 0) < 0)
    return hutch_throw_errno (error, "%s: netlink", what);
  do
    n = recv (fd, buf, sizeof buf, 0);
  while (n < 0 && errno == EINTR);
  if (n < (ssize_t) NLMSG_LENGTH (sizeof (struct nlmsgerr)) || h->nlmsg_type != NLMSG_ERROR)
    return hutch_throw (error, HUTCH_ERROR_FAILED, "%s: no answer from netlink", what);
  if (((struct nlmsgerr *) NLMSG_DATA (h))->error != 0)
    return hutch_throw_errno_val (error, -((struct nlmsgerr *) NLMSG_DATA (h))->error, "%s", what);
  return TRUE;
}

static gboolean
link_up (int nl, int index, guint32 mtu, const char *what, GError **error)
{
  NlMsg m;
  struct ifinfomsg *ifi = nl_start (&m, RTM_NEWLINK, 0, sizeof *ifi);

  ifi->ifi_family = AF_UNSPEC;
  ifi->ifi_index = index;
  ifi->ifi_flags = IFF_UP;
  ifi->ifi_change = IFF_UP;
  if (mtu != 0)
    nl_attr_u32 (&m, IFLA_MTU, mtu);
  return nl_talk (nl, &m, what, error);
}

static gboolean
add_address (int nl, int index, GError **error)
{
  NlMsg m;
  struct ifaddrmsg *ifa = nl_start (&m, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, sizeof *ifa);
  struct in_addr a;

  inet_pton (AF_INET, HUTCH_NET_ADDR, &a);
  ifa->ifa_family = AF_INET;
  ifa->ifa_prefixlen = 24;
  ifa->ifa_index = (unsigned) index;
  nl_attr (&m, IFA_LOCAL, &a, sizeof a);
  nl_attr (&m, IFA_ADDRESS, &a, sizeof a);
  return nl_talk (nl, &m, "giving tap0 the address " HUTCH_NET_ADDR "/24", error);
}

static gboolean
add_route (int nl, gboolean local, int index, guint32 table, GError **error)
{
  NlMsg m;
  struct rtmsg *rt = nl_start (&m, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, sizeof *rt);
  struct in_addr gw;

  rt->rtm_family = AF_INET;
  rt->rtm_table = RT_TABLE_UNSPEC;
  rt->rtm_protocol = RTPROT_BOOT;
  rt->rtm_scope = local ? RT_SCOPE_HOST : RT_SCOPE_UNIVERSE;
  rt->rtm_type = local ? RTN_LOCAL : RTN_UNICAST;
  nl_attr_u32 (&m, RTA_TABLE, table);
  nl_attr_u32 (&m, RTA_OIF, (guint32) index);
  if (!local)
    {
      inet_pton (AF_INET, HUTCH_NET_GATEWAY, &gw);
      nl_attr (&m, RTA_GATEWAY, &gw, sizeof gw);
    }
  return nl_talk (nl, &m, local ? "adding the route for forwarded ports" : "adding the default route",
                  error);
}

/* Replies from a forwarded port go back over loopback to the socket that
 * connected from the client's address (IP_TRANSPARENT), not to the
 * default route: "from 10.0.2.100 ipproto tcp sport PORT lookup 100", and
 * "ipproto udp sport PORT lookup 100". */
static gboolean
add_port_rule (int nl, gboolean udp, guint16 port, GError **error)
{
  NlMsg m;
  struct fib_rule_hdr *fr = nl_start (&m, RTM_NEWRULE, NLM_F_CREATE | NLM_F_EXCL, sizeof *fr);
  struct fib_rule_port_range range = { port, port };
  struct in_addr src;
  guint8 proto = udp ? IPPROTO_UDP : IPPROTO_TCP;
  g_autofree char *what = g_strdup_printf ("routing replies from forwarded port %u/%s", port,
                                           udp ? "udp" : "tcp");

  inet_pton (AF_INET, HUTCH_NET_ADDR, &src);
  fr->family = AF_INET;
  fr->action = FR_ACT_TO_TBL;
  /* A TCP reply has its source address already; a UDP one is routed
   * before it has one. */
  if (!udp)
    {
      fr->src_len = 32;
      nl_attr (&m, FRA_SRC, &src, sizeof src);
    }
  nl_attr (&m, FRA_IP_PROTO, &proto, sizeof proto);
  nl_attr (&m, FRA_SPORT_RANGE, &range, sizeof range);
  nl_attr_u32 (&m, FRA_PRIORITY, FORWARD_RULE_PRIORITY);
  nl_attr_u32 (&m, FRA_TABLE, FORWARD_TABLE);
  return nl_talk (nl, &m, what, error);
}

static gboolean
configure (int nl, int index, const HutchNetConfig *cfg, GError **error)
{
  GHashTable *done;
  gboolean ok = TRUE;

  if (!link_up (nl, 1, 0, "bringing up the loopback interface", error)
      || !link_up (nl, index, cfg->mtu, "bringing up tap0", error) || !add_address (nl, index, error)
      || !add_route (nl, FALSE, index, RT_TABLE_MAIN, error))
    return FALSE;
  done = g_hash_table_new (NULL, NULL);
  for (guint i = 0; ok && i < cfg->ports->len; i++)
    {
      const HutchNetPort *p = &g_array_index (cfg->ports, HutchNetPort, i);
      guint key = p->ctr_port | (p->udp ? 0x10000u : 0);
      if (g_hash_table_contains (done, GUINT_TO_POINTER (key)))
        continue;
      if (g_hash_table_size (done) == 0)
        ok = add_route (nl, TRUE, 1, FORWARD_TABLE, error);
      ok = ok && add_port_rule (nl, p->udp, p->ctr_port, error);
      g_hash_table_add (done, GUINT_TO_POINTER (key));
    }
  g_hash_table_unref (done);
  return ok;
}

int
hutch_net_tap_setup (const HutchNetConfig *cfg, GError **error)
{
  hutch_autofd int tap = open ("/dev/net/tun", O_RDWR | O_CLOEXEC);
  hutch_autofd int nl = -1;
  struct ifreq ifr = { 0 };
  struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
  int index;

  if (tap < 0)
    return hutch_throw_errno (error, "opening /dev/net/tun"), -1;
  g_strlcpy (ifr.ifr_name, "tap0", sizeof ifr.ifr_name);
  ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
  if (ioctl (tap, TUNSETIFF, &ifr) < 0)
    return hutch_throw_errno (error, "making the tap device tap0"), -1;
  /* Persistent, so that closing the last fd does not unregister the device
   * there and then (an RCU grace period, ~15 ms of hutch's exit): it goes
   * with its namespace, which the kernel tears down in the background. */
  (void) ioctl (tap, TUNSETPERSIST, 1);
  nl = socket (AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (nl < 0 || ioctl (nl, SIOCGIFINDEX, &ifr) < 0)
    return hutch_throw_errno (error, "finding tap0"), -1;
  index = ifr.ifr_ifindex;
  hutch_fd_clear (&nl);
  nl = socket (AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (nl < 0 || bind (nl, (struct sockaddr *) &sa, sizeof sa) < 0)
    return hutch_throw_errno (error, "opening a netlink socket"), -1;
  if (index == 0 || !configure (nl, index, cfg, error))
    return -1;
  return hutch_fd_steal (&tap);
}

gboolean
hutch_net_serve_request (int ctl)
{
  int fds[HUTCH_UTIL_FDS_MAX];
  guint8 want;
  guint n = 0;
  int type;
  gboolean ok;
  ssize_t r;

  do
    r = read (ctl, &want, 1);
  while (r < 0 && errno == EINTR);
  if (r <= 0)
    return r < 0 && errno == EAGAIN;
  type = (want & HUTCH_NET_WANT_UDP) ? SOCK_DGRAM : SOCK_STREAM;
  want &= (guint8) ~HUTCH_NET_WANT_UDP;
  for (; n < MIN (want, HUTCH_UTIL_FDS_MAX); n++)
    {
      int one = 1;
      fds[n] = socket (AF_INET, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
      if (fds[n] < 0)
        break;
      /* Binding the client's address needs it; root of the namespace may. */
      (void) setsockopt (fds[n], SOL_IP, IP_TRANSPARENT, &one, sizeof one);
    }
  ok = hutch_util_send_fds (ctl, 's', fds, n);
  for (guint i = 0; i < n; i++)
    close (fds[i]);
  return ok;
}
