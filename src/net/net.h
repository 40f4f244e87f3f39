/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* net/: user-mode networking. The container's network namespace gets a tap
 * device (tap.c, done by the sandbox's outer child inside that namespace);
 * hutch's monitor, on the host, runs libslirp on the tap's fd (slirp.c),
 * answers DNS at 10.0.2.3 itself (dns.c) and serves -p: TCP by accepting on
 * the host and splicing into a connection made inside the namespace from
 * the client's own address, UDP through libslirp (forward.c). With
 * --allow-host, every frame the container sends is judged first by the
 * egress policy (policy.c, policy-frame.c), which DNS teaches the
 * addresses of allowed names (dns.c, dns-parse.c). */
#pragma once

#include <netinet/in.h>
#include <poll.h>
#include <glib.h>

#include "sandbox/sandbox.h"
#include "util/util.h"

G_BEGIN_DECLS

typedef struct
{
  gboolean tun;       /* /dev/net/tun opens read-write for this user */
  int tun_errno;      /* why it does not */
  char *slirp_version;
} HutchNetCaps;

/* Fills @caps; never fails: what is missing is recorded in @caps. */
void hutch_net_caps_probe (HutchNetCaps *caps);
void hutch_net_caps_clear (HutchNetCaps *caps);

/* ---- configuration (config.c) ---- */

typedef enum
{
  HUTCH_NET_SLIRP,
  HUTCH_NET_NONE,
  HUTCH_NET_HOST,
} HutchNetMode;

/* One forwarded port: -p [HOSTIP:]HOSTPORT:CTRPORT[/udp], a range already
 * expanded into single ports. */
typedef struct
{
  gboolean udp;
  struct in_addr host_ip; /* INADDR_ANY unless given */
  guint16 host_port;      /* 0: a free one, chosen when bound (-P) */
  guint16 ctr_port;
} HutchNetPort;

typedef struct
{
  HutchNetMode mode;
  gboolean explicit_mode;      /* --network was given: no silent fallback */
  guint32 mtu;                 /* 65520 */
  gboolean allow_host_loopback;
  gboolean ipv6;               /* fd00::/64 through slirp */
  GArray *dns;                 /* of struct sockaddr_in: the upstream resolvers */
  GArray *ports;               /* of HutchNetPort */
  char **search;               /* the host's search domains */
  GPtrArray *allow;            /* of HutchNetAllow: --allow-host; empty: no policy */
  char *egress_log;            /* where refusals are written under a policy, or NULL */
} HutchNetConfig;

/* One --allow-host entry (policy.c): NAME, *.SUFFIX, IP or IP/BITS, each
 * with :PORT or not. */
typedef struct
{
  char *text;        /* as given */
  char *name;        /* NULL for an address; lower case, no final dot; for
                      * *.example.org: ".example.org" */
  guint32 addr;      /* network order, masked */
  guint32 mask;      /* network order */
  guint16 port;      /* 0: any */
  gboolean gateway;  /* 10.0.2.2, the host's loopback (also as
                      * host.containers.internal) */
} HutchNetAllow;

/* The fixed addresses of the slirp network, as slirp4netns uses them. */
#define HUTCH_NET_ADDR "10.0.2.100"
#define HUTCH_NET_GATEWAY "10.0.2.2"
#define HUTCH_NET_DNS "10.0.2.3"

void hutch_net_config_init (HutchNetConfig *cfg);
void hutch_net_config_clear (HutchNetConfig *cfg);
/* A deep copy of @src into @dst (cleared with hutch_net_config_clear()). */
void hutch_net_config_copy (HutchNetConfig *dst, const HutchNetConfig *src);

/* --network MODE[:OPT=VAL,...]: slirp (mtu=, allow_host_loopback=,
 * enable_ipv6=, dns=IP[:PORT]), none or host. HUTCH_ERROR_USAGE when
 * malformed. */
gboolean hutch_net_config_parse_mode (HutchNetConfig *cfg, const char *text, GError **error);

/* --allow-host NAME|IP|CIDR[:PORT], added to @cfg: from then on the
 * network has an egress policy (hutch_net_config_has_policy()): only
 * what some entry allows gets out, IPv6 is off, and DNS answers only the
 * names allowed. NAME may start with "*." (any name below it, not the
 * name itself). 10.0.2.2, host.containers.internal and
 * host.docker.internal open the host's loopback (for that port alone, if
 * given). HUTCH_ERROR_USAGE naming the entry and the accepted forms. */
gboolean hutch_net_config_add_allow (HutchNetConfig *cfg, const char *text, GError **error);
/* TRUE when @cfg has an --allow-host entry. */
gboolean hutch_net_config_has_policy (const HutchNetConfig *cfg);

/* -p [HOSTIP:][HOSTPORT[-END]:]CTRPORT[-END][/tcp|/udp], added to @cfg. */
gboolean hutch_net_config_add_port (HutchNetConfig *cfg, const char *text, GError **error);

/* The upstream resolvers and search domains of the host's resolv.conf
 * text, unless dns= gave the upstreams. */
void hutch_net_config_read_resolv (HutchNetConfig *cfg, const char *resolv_conf);

/* The container's /etc/resolv.conf for @cfg: @servers (--dns), @search
 * (--dns-search; "." for none) and @options (--dns-option) where given,
 * else the network's (slirp: its own resolver; host: the host's). */
char *hutch_net_resolv_conf_text (const HutchNetConfig *cfg, char **servers, char **search,
                                  char **options);
/* Its /etc/hosts: @hostname and the container's @name (or NULL) at its
 * address, host.containers.internal at the host as the container reaches
 * it, and @extra, --add-host's NAME:IP (IP may be host-gateway). */
char *hutch_net_hosts_text (const HutchNetConfig *cfg, const char *hostname, const char *name,
                            char **extra);

/* ---- inside the container's network namespace (tap.c) ---- */

/* Creates and configures tap0 in the calling process's network namespace:
 * loopback up, 10.0.2.100/24, the MTU, the default route through 10.0.2.2,
 * and the routing that brings replies to forwarded connections from
 * other hosts back to us. Returns the tap fd, or -1 with @error set. */
int hutch_net_tap_setup (const HutchNetConfig *cfg, GError **error);

/* Answers one request of the monitor read from @ctl, a byte: a count of
 * sockets, TCP or with HUTCH_NET_WANT_UDP set UDP, made in this network
 * namespace non-blocking and with IP_TRANSPARENT set and sent back with SCM_RIGHTS. FALSE
 * when @ctl has ended. */
#define HUTCH_NET_WANT_UDP 0x80
gboolean hutch_net_serve_request (int ctl);

/* ---- the monitor's side (slirp.c) ---- */

typedef struct HutchNet HutchNet;

/* Binds the forwarded ports on the host now, so that a port in use or
 * below net.ipv4.ip_unprivileged_port_start fails before the container
 * starts, and loads libslirp. @ctl is the monitor's end of the socket on
 * which the tap fd will arrive (kept, not owned). */
HutchNet *hutch_net_new (HutchNetConfig *cfg, GError **error);
void hutch_net_set_ctl (HutchNet *net, int ctl);
/* In the outer child, a copy of the monitor (clone without exec), in the
 * container's new network namespace: closes its copies of the monitor's
 * host sockets and makes the tap (hutch_net_tap_setup()). */
int hutch_net_child_setup (HutchNet *net, GError **error);
void hutch_net_free (HutchNet *net);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (HutchNet, hutch_net_free)

/* The monitor's poll loop: what to watch (appended to @fds, an array of
 * struct pollfd) and for how long at most (lowers *@timeout_ms), then what
 * to do with what poll() said about them. */
void hutch_net_poll_prepare (HutchNet *net, GArray *fds, int *timeout_ms);
void hutch_net_poll_dispatch (HutchNet *net, GArray *fds);

/* @net as the sandbox's network hooks (HutchSandboxNet), for a spec's net. */
void hutch_net_sandbox_hooks (HutchNet *net, HutchSandboxNet *out);

G_END_DECLS
