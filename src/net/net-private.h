/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Inside net/: the monitor's DNS answerer and port forwarder. */
#pragma once

#include "net.h"

G_BEGIN_DECLS

/* Appends @fd to the poll array @fds (of struct pollfd); its index. */
int hutch_net_poll_add (GArray *fds, int fd, short events);

/* Frames on the tap are at most this long (Ethernet header + MTU). */
#define HUTCH_NET_FRAME_MAX (14 + 65536)

/* ---- pure ACKs held back within a round of the loop (ack.c) ---- */

/* An Ethernet frame of a TCP ACK with the longest headers. */
#define HUTCH_NET_ACK_MAX (14 + 60 + 60)

typedef struct
{
  guint8 frame[HUTCH_NET_ACK_MAX];
  gsize len; /* 0: none held */
} HutchNetAckHold;

/* For a frame libslirp sends to @tap: TRUE when it is a pure IPv4 TCP
 * ACK, now held in @hold (replacing a held one that it supersedes, else
 * after writing that one); FALSE when the caller is to write it, after
 * what was held, now written. */
gboolean hutch_net_ack_hold (HutchNetAckHold *hold, int tap, const guint8 *frame, gsize len);
/* Writes the ACK held, if any, to @tap. */
void hutch_net_ack_flush (HutchNetAckHold *hold, int tap);

/* Big-endian fields of frames, and the Internet checksum (RFC 1071):
 * hutch_net_sum() adds @len bytes to a running @sum, hutch_net_sum_fold()
 * makes the field of it. */
static inline guint16
hutch_net_get16 (const guint8 *p)
{
  return (guint16) (p[0] << 8 | p[1]);
}

static inline void
hutch_net_put16 (guint8 *p, guint16 v)
{
  p[0] = (guint8) (v >> 8);
  p[1] = (guint8) v;
}

static inline guint32
hutch_net_sum (guint32 sum, const guint8 *p, gsize len)
{
  for (gsize i = 0; i + 1 < len; i += 2)
    sum += hutch_net_get16 (p + i);
  if (len & 1)
    sum += (guint32) p[len - 1] << 8;
  return sum;
}

static inline guint16
hutch_net_sum_fold (guint32 sum)
{
  while (sum >> 16)
    sum = (sum & 0xffff) + (sum >> 16);
  return (guint16) ~sum;
}

/* ---- the egress policy of --allow-host (policy.c, policy-frame.c) ---- */

void hutch_net_allow_free (gpointer allow);
gpointer hutch_net_allow_copy (gconstpointer allow, gpointer unused);

typedef struct HutchNetPolicy HutchNetPolicy;

/* The policy of @cfg's allow list, with @cfg->egress_log (if set) opened
 * for appending now, before the monitor confines itself. */
HutchNetPolicy *hutch_net_policy_new (const HutchNetConfig *cfg, GError **error);
void hutch_net_policy_free (HutchNetPolicy *policy);
/* The log's fd, or -1: for a child to close. */
int hutch_net_policy_log_fd (HutchNetPolicy *policy);

/* Whether @frame, read from the container's tap, may go on (to the DNS
 * answerer or libslirp). One that may not is answered on @tap (a TCP
 * reset for a SYN, ICMP unreachable for UDP) or dropped, and logged. */
gboolean hutch_net_policy_filter (HutchNetPolicy *policy, const guint8 *frame, gsize len, int tap);

/* What a port of HUTCH_NET_ANY_PORT asks: any port (a protocol without). */
#define HUTCH_NET_ANY_PORT (-1)
/* NULL when a connection to @addr (network order) at @port (or
 * HUTCH_NET_ANY_PORT) is allowed; else the --allow-host entry that would
 * allow it (to log), and *@out_name the name @addr was an answer for, or
 * NULL. */
char *hutch_net_policy_judge (HutchNetPolicy *policy, guint32 addr, int port,
                              const char **out_name);
/* Writes a line to the log: @proto, @dest and @name (NULL: "-") and then
 * @why. */
void hutch_net_policy_log (HutchNetPolicy *policy, const char *proto, const char *dest,
                           const char *name, const char *why);

/* Whether some entry allows the name @name (lower case, no final dot). */
gboolean hutch_net_policy_name_allowed (HutchNetPolicy *policy, const char *name);
/* @addr (network order) was in an answer for @name: from now on it may be
 * reached as the entries that allow @name say, until the container ends. */
void hutch_net_policy_learn (HutchNetPolicy *policy, const char *name, guint32 addr);

/* ---- DNS at 10.0.2.3 (dns.c) ---- */

typedef struct HutchNetDns HutchNetDns;

/* @policy (kept, not owned; NULL: none): names it does not allow are
 * answered NXDOMAIN here, and the answers for those it does teach it
 * their addresses. */
HutchNetDns *hutch_net_dns_new (const HutchNetConfig *cfg, HutchNetPolicy *policy, GError **error);
void hutch_net_dns_free (HutchNetDns *dns);
/* TRUE when @frame is a UDP query to 10.0.2.3:53, now sent upstream (or
 * answered on @tap, under a policy). */
gboolean hutch_net_dns_intercept (HutchNetDns *dns, const guint8 *frame, gsize len, int tap,
                                  guint32 mtu);
/* The socket answers come back on. */
int hutch_net_dns_fd (HutchNetDns *dns);
/* Under a policy, the query's name and type, and the A records of an
 * answer for it (dns-parse.c). */
gboolean hutch_net_dns_parse_query (const guint8 *msg, gsize len, char **out_name,
                                    guint16 *out_type, gsize *out_end);
/* Calls @each for every IPv4 address the answer @msg gives for the name
 * it asked about, following CNAMEs within the answer. */
void hutch_net_dns_parse_answer (const guint8 *msg, gsize len,
                                 void (*each) (const char *qname, guint32 addr, gpointer data),
                                 gpointer data);
/* Reads the answers waiting and writes each as a frame to @tap. */
void hutch_net_dns_answer (HutchNetDns *dns, int tap, guint32 mtu);

/* ---- TCP ports: accepted on the host, spliced into the container
 * (forward.c) ---- */

typedef struct HutchNetForward HutchNetForward;

/* Binds a listener for each TCP port of @cfg (choosing the free host
 * ports left as 0); errors name the port and the fix. */
HutchNetForward *hutch_net_forward_new (HutchNetConfig *cfg, guint32 unprivileged_start,
                                        GError **error);
void hutch_net_forward_free (HutchNetForward *fwd);
/* Where sockets in the container's network namespace come from. */
void hutch_net_forward_set_ctl (HutchNetForward *fwd, int ctl);
/* The fds a child must not keep (the listeners). */
void hutch_net_forward_host_fds (HutchNetForward *fwd, GArray *out);
void hutch_net_forward_prepare (HutchNetForward *fwd, GArray *fds);
void hutch_net_forward_dispatch (HutchNetForward *fwd, GArray *fds);

/* The message for a host port that cannot be bound (in use, privileged). */
gboolean hutch_net_port_error (GError **error, int errsv, const HutchNetPort *port,
                               guint32 unprivileged_start);

G_END_DECLS
