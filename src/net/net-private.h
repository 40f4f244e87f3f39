/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Inside net/: the monitor's DNS answerer and port forwarder. */
#pragma once

#include "net.h"

G_BEGIN_DECLS

/* Appends @fd to the poll array @fds (of struct pollfd); its index. */
int hutch_net_poll_add (GArray *fds, int fd, short events);

/* Frames on the tap are at most this long (Ethernet header + MTU). */
#define HUTCH_NET_FRAME_MAX (14 + 65536)

/* ---- DNS at 10.0.2.3 (dns.c) ---- */

typedef struct HutchNetDns HutchNetDns;

HutchNetDns *hutch_net_dns_new (const HutchNetConfig *cfg, GError **error);
void hutch_net_dns_free (HutchNetDns *dns);
/* TRUE when @frame is a UDP query to 10.0.2.3:53, now sent upstream. */
gboolean hutch_net_dns_intercept (HutchNetDns *dns, const guint8 *frame, gsize len);
/* The socket answers come back on. */
int hutch_net_dns_fd (HutchNetDns *dns);
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
