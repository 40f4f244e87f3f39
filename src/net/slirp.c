/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The monitor's network: libslirp on the container's tap fd, in the
 * monitor's own poll loop (no slirp4netns process). libslirp is loaded
 * with dlopen() by the monitor of a container that has a network: linked
 * into hutch it would cost every command its load time, and it needs the
 * shared GLib while hutch carries a static one (meson.build). The two do
 * not meet: libslirp's GLib is used by libslirp alone. */
#include "config.h"

#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>
#include <libslirp.h>

#include "net-private.h"

typedef struct
{
  Slirp *(*create) (const SlirpConfig *cfg, const SlirpCb *callbacks, void *opaque);
  void (*cleanup) (Slirp *slirp);
  void (*pollfds_fill) (Slirp *slirp, uint32_t *timeout, SlirpAddPollCb add_poll, void *opaque);
  void (*pollfds_poll) (Slirp *slirp, int select_error, SlirpGetREventsCb get_revents,
                        void *opaque);
  void (*input) (Slirp *slirp, const uint8_t *pkt, int pkt_len);
  void (*handle_timer) (Slirp *slirp, SlirpTimerId id, void *cb_opaque);
} SlirpApi;

typedef struct
{
  SlirpTimerId id;
  void *cb_opaque;
  gint64 expire_ms; /* -1: not armed */
} Timer;

struct HutchNet
{
  HutchNetConfig *cfg;
  void *lib;
  SlirpApi api;
  Slirp *slirp;
  int ctl;          /* the monitor's end of the socket to the outer child */
  int tap;          /* -1 until the outer child has sent it */
  GPtrArray *timers;
  HutchNetDns *dns;
  HutchNetForward *fwd;
  HutchNetPolicy *policy; /* --allow-host, or NULL */
  guint8 *frame;
  HutchNetAckHold acks; /* libslirp's last pure ACK of this round */
  /* where our fds are in the poll array of this round */
  GArray *fds;
  guint base;
  int ctl_idx, tap_idx, dns_idx;
  gboolean slirp_polled;
};

static gint64
now_ms (void)
{
  return g_get_monotonic_time () / 1000;
}

static ssize_t
cb_send_packet (const void *buf, size_t len, void *opaque)
{
  HutchNet *net = opaque;
  ssize_t n;

  if (net->tap < 0)
    return (ssize_t) len; /* dropped: TCP retransmits */
  /* libslirp acknowledges each segment it takes from the container at
   * once, and each ACK written to the tap makes the container's TCP send
   * again from inside that write, in this process: held until the round
   * ends, one ACK stands for all the segments the round read. */
  if (hutch_net_ack_hold (&net->acks, net->tap, buf, len))
    return (ssize_t) len;
  do
    n = write (net->tap, buf, len);
  while (n < 0 && errno == EINTR);
  return n < 0 && errno == EAGAIN ? (ssize_t) len : n;
}

static void
cb_guest_error (const char *msg, void *opaque)
{
  g_debug ("slirp: %s", msg);
}

static int64_t
cb_clock_get_ns (void *opaque)
{
  return g_get_monotonic_time () * 1000;
}

static void *
cb_timer_new_opaque (SlirpTimerId id, void *cb_opaque, void *opaque)
{
  HutchNet *net = opaque;
  Timer *t = g_new0 (Timer, 1);

  t->id = id;
  t->cb_opaque = cb_opaque;
  t->expire_ms = -1;
  g_ptr_array_add (net->timers, t);
  return t;
}

static void
cb_timer_free (void *timer, void *opaque)
{
  HutchNet *net = opaque;

  g_ptr_array_remove_fast (net->timers, timer); /* and frees it */
}

static void
cb_timer_mod (void *timer, int64_t expire_time, void *opaque)
{
  ((Timer *) timer)->expire_ms = expire_time;
}

/* libslirp's sockets are made once the container talks, after the outer
 * child has its copy of us: none for it to close. */
static void
cb_register_poll_fd (int fd, void *opaque)
{
}

static void
cb_unregister_poll_fd (int fd, void *opaque)
{
}

static void
cb_notify (void *opaque)
{
}

static const SlirpCb callbacks = {
  .send_packet = cb_send_packet,
  .guest_error = cb_guest_error,
  .clock_get_ns = cb_clock_get_ns,
  .timer_free = cb_timer_free,
  .timer_mod = cb_timer_mod,
  .register_poll_fd = cb_register_poll_fd,
  .unregister_poll_fd = cb_unregister_poll_fd,
  .notify = cb_notify,
  .timer_new_opaque = cb_timer_new_opaque,
};

static gboolean
load_slirp (HutchNet *net, GError **error)
{
  static const char *const names[] = { "slirp_new", "slirp_cleanup", "slirp_pollfds_fill",
                                       "slirp_pollfds_poll", "slirp_input", "slirp_handle_timer" };
  void **slots[] = { (void **) &net->api.create, (void **) &net->api.cleanup,
                     (void **) &net->api.pollfds_fill, (void **) &net->api.pollfds_poll,
                     (void **) &net->api.input, (void **) &net->api.handle_timer };

  net->lib = dlopen ("libslirp.so.0", RTLD_NOW | RTLD_LOCAL);
  if (net->lib == NULL)
    return hutch_throw (error, HUTCH_ERROR_HOST_UNSUPPORTED,
                        "--network slirp needs libslirp (%s): install it (apt-get install "
                        "libslirp0), or run with --network none",
                        dlerror ());
  for (gsize i = 0; i < G_N_ELEMENTS (names); i++)
    if ((*slots[i] = dlsym (net->lib, names[i])) == NULL)
      return hutch_throw (error, HUTCH_ERROR_HOST_UNSUPPORTED,
                          "the libslirp found has no %s: hutch needs libslirp 4.7 or later",
                          names[i]);
  return TRUE;
}

static gboolean
start_slirp (HutchNet *net, GError **error)
{
  SlirpConfig c = { .version = 4 };
  c.in_enabled = true;
  inet_pton (AF_INET, "10.0.2.0", &c.vnetwork);
  inet_pton (AF_INET, "255.255.255.0", &c.vnetmask);
  inet_pton (AF_INET, HUTCH_NET_GATEWAY, &c.vhost);
  inet_pton (AF_INET, "10.0.2.15", &c.vdhcp_start);
  inet_pton (AF_INET, HUTCH_NET_DNS, &c.vnameserver);
  /* the policy covers IPv4: IPv6 is off under one */
  c.in6_enabled = net->cfg->ipv6 && net->policy == NULL;
  inet_pton (AF_INET6, "fd00::", &c.vprefix_addr6);
  c.vprefix_len = 64;
  inet_pton (AF_INET6, "fd00::2", &c.vhost6);
  inet_pton (AF_INET6, "fd00::3", &c.vnameserver6);
  c.if_mtu = net->cfg->mtu;
  c.if_mru = net->cfg->mtu;
  c.disable_host_loopback = !net->cfg->allow_host_loopback;
  c.disable_dhcp = true; /* the address is set, not leased */
  net->slirp = net->api.create (&c, &callbacks, net);
  if (net->slirp == NULL)
    return hutch_throw (error, HUTCH_ERROR_FAILED, "starting libslirp failed");
  return TRUE;
}

static guint32
unprivileged_port_start (void)
{
  g_autofree char *text = hutch_util_read_host_file ("/proc/sys/net/ipv4/ip_unprivileged_port_start",
                                                     64, NULL);
  guint64 v = 1024;

  if (text != NULL)
    (void) g_ascii_string_to_unsigned (g_strstrip (text), 10, 0, 65536, &v, NULL);
  return (guint32) v;
}

HutchNet *
hutch_net_new (HutchNetConfig *cfg, GError **error)
{
  g_autoptr (HutchNet) net = g_new0 (HutchNet, 1);
  guint32 start = unprivileged_port_start ();
  struct rlimit rl;

  net->cfg = cfg;
  net->ctl = net->tap = -1;
  net->timers = g_ptr_array_new_with_free_func (g_free);
  net->frame = g_malloc (HUTCH_NET_FRAME_MAX);
  /* A forwarded connection holds two sockets and two pipes. */
  if (getrlimit (RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max)
    {
      rl.rlim_cur = rl.rlim_max;
      (void) setrlimit (RLIMIT_NOFILE, &rl);
    }
  for (guint i = 0; i < cfg->ports->len; i++)
    {
      const HutchNetPort *p = &g_array_index (cfg->ports, HutchNetPort, i);
      if (p->host_port != 0 && p->host_port < start)
        return hutch_net_port_error (error, EACCES, p, start), NULL;
    }
  if (hutch_net_config_has_policy (cfg) && (net->policy = hutch_net_policy_new (cfg, error)) == NULL)
    return NULL;
  if ((net->fwd = hutch_net_forward_new (cfg, start, error)) == NULL
      || (net->dns = hutch_net_dns_new (cfg, net->policy, error)) == NULL || !load_slirp (net, error)
      || !start_slirp (net, error))
    return NULL;
  return g_steal_pointer (&net);
}

void
hutch_net_set_ctl (HutchNet *net, int ctl)
{
  net->ctl = ctl; /* the forwarder gets it once the tap has come */
}

int
hutch_net_child_setup (HutchNet *net, GError **error)
{
  g_autoptr (GArray) fds = g_array_new (FALSE, FALSE, sizeof (int));
  int dns = hutch_net_dns_fd (net->dns);

  /* not ours to hold: the ports must close when the monitor goes */
  hutch_net_forward_host_fds (net->fwd, fds);
  g_array_append_val (fds, dns);
  if (net->policy != NULL && hutch_net_policy_log_fd (net->policy) >= 0)
    {
      int log = hutch_net_policy_log_fd (net->policy);
      g_array_append_val (fds, log);
    }
  for (guint i = 0; i < fds->len; i++)
    close (g_array_index (fds, int, i));
  return hutch_net_tap_setup (net->cfg, error);
}

void
hutch_net_free (HutchNet *net)
{
  if (net == NULL)
    return;
  if (net->slirp != NULL)
    net->api.cleanup (net->slirp);
  /* libslirp's GLib stays loaded: unloading a GLib is not supported */
  g_clear_pointer (&net->fwd, hutch_net_forward_free);
  g_clear_pointer (&net->dns, hutch_net_dns_free);
  g_clear_pointer (&net->policy, hutch_net_policy_free);
  hutch_fd_clear (&net->tap);
  g_ptr_array_unref (net->timers);
  g_free (net->frame);
  g_free (net);
}

static short
to_poll (int events)
{
  return (short) (((events & SLIRP_POLL_IN) ? POLLIN : 0) | ((events & SLIRP_POLL_OUT) ? POLLOUT : 0)
                  | ((events & SLIRP_POLL_PRI) ? POLLPRI : 0));
}

static int
cb_add_poll (int fd, int events, void *opaque)
{
  return hutch_net_poll_add (((HutchNet *) opaque)->fds, fd, to_poll (events));
}

static int
cb_get_revents (int idx, void *opaque)
{
  HutchNet *net = opaque;
  short r;

  if (idx < 0 || (guint) idx >= net->fds->len)
    return 0;
  r = g_array_index (net->fds, struct pollfd, idx).revents;
  return ((r & POLLIN) ? SLIRP_POLL_IN : 0) | ((r & POLLOUT) ? SLIRP_POLL_OUT : 0)
         | ((r & POLLPRI) ? SLIRP_POLL_PRI : 0) | ((r & POLLERR) ? SLIRP_POLL_ERR : 0)
         | ((r & POLLHUP) ? SLIRP_POLL_HUP : 0);
}

int
hutch_net_poll_add (GArray *fds, int fd, short events)
{
  struct pollfd p = { fd, events, 0 };

  g_array_append_val (fds, p);
  return (int) (fds->len - 1);
}

void
hutch_net_poll_prepare (HutchNet *net, GArray *fds, int *timeout_ms)
{
  uint32_t timeout = *timeout_ms < 0 ? UINT32_MAX : (uint32_t) *timeout_ms;
  gint64 now = now_ms ();

  net->fds = fds;
  net->base = fds->len;
  net->ctl_idx = net->tap < 0 && net->ctl >= 0 ? hutch_net_poll_add (fds, net->ctl, POLLIN) : -1;
  net->tap_idx = net->tap >= 0 ? hutch_net_poll_add (fds, net->tap, POLLIN) : -1;
  net->dns_idx = hutch_net_poll_add (fds, hutch_net_dns_fd (net->dns), POLLIN);
  net->api.pollfds_fill (net->slirp, &timeout, cb_add_poll, net);
  net->slirp_polled = TRUE;
  for (guint i = 0; i < net->timers->len; i++)
    {
      const Timer *t = net->timers->pdata[i];
      if (t->expire_ms >= 0)
        timeout = (uint32_t) MIN ((gint64) timeout, MAX (t->expire_ms - now, 0));
    }
  hutch_net_forward_prepare (net->fwd, fds);
  *timeout_ms = timeout == UINT32_MAX ? -1 : (int) MIN (timeout, (uint32_t) G_MAXINT);
}

static void
receive_tap (HutchNet *net)
{
  char tag;
  int fd = -1;

  if (hutch_util_recv_fds (net->ctl, &tag, &fd, 1) != 1 || tag != 'T')
    {
      hutch_fd_clear (&fd);
      net->ctl = -1; /* the outer child has gone: so will the container */
      return;
    }
  (void) fcntl (fd, F_SETFL, O_NONBLOCK);
  net->tap = fd;
  /* From now on the outer child only answers: clients waiting in the
   * listeners' backlog until now are taken. */
  hutch_net_forward_set_ctl (net->fwd, net->ctl);
}

/* Frames from the container, 16 per wake-up: libslirp's sockets to the
 * host are served between batches (a batch of 256 measured slower). */
static void
read_tap (HutchNet *net)
{
  for (int i = 0; i < 16; i++)
    {
      ssize_t n = read (net->tap, net->frame, HUTCH_NET_FRAME_MAX);
      if (n <= 0)
        break;
      /* the policy first: what it refuses reaches neither DNS nor libslirp */
      if (net->policy != NULL && !hutch_net_policy_filter (net->policy, net->frame, (gsize) n, net->tap))
        continue;
      if (!hutch_net_dns_intercept (net->dns, net->frame, (gsize) n, net->tap, net->cfg->mtu))
        net->api.input (net->slirp, net->frame, (int) n);
    }
}

void
hutch_net_poll_dispatch (HutchNet *net, GArray *fds)
{
  gint64 now = now_ms ();

  net->fds = fds;
  if (net->ctl_idx >= 0 && g_array_index (fds, struct pollfd, net->ctl_idx).revents != 0)
    receive_tap (net);
  if (net->tap_idx >= 0 && g_array_index (fds, struct pollfd, net->tap_idx).revents & POLLIN)
    read_tap (net);
  if (g_array_index (fds, struct pollfd, net->dns_idx).revents & POLLIN)
    hutch_net_dns_answer (net->dns, net->tap, net->cfg->mtu);
  if (net->slirp_polled)
    net->api.pollfds_poll (net->slirp, 0, cb_get_revents, net);
  net->slirp_polled = FALSE;
  for (guint i = 0; i < net->timers->len; i++)
    {
      Timer *t = net->timers->pdata[i];
      if (t->expire_ms >= 0 && t->expire_ms <= now)
        {
          t->expire_ms = -1;
          net->api.handle_timer (net->slirp, t->id, t->cb_opaque);
        }
    }
  if (net->tap >= 0)
    hutch_net_ack_flush (&net->acks, net->tap); /* before the loop may sleep */
  hutch_net_forward_dispatch (net->fwd, fds);
  net->fds = NULL;
}

static int
hooks_child_setup (gpointer data, GError **error)
{
  return hutch_net_child_setup (data, error);
}

static void
hooks_monitor_start (gpointer data, int ctl)
{
  hutch_net_set_ctl (data, ctl);
}

static void
hooks_prepare (gpointer data, GArray *fds, int *timeout_ms)
{
  hutch_net_poll_prepare (data, fds, timeout_ms);
}

static void
hooks_dispatch (gpointer data, GArray *fds)
{
  hutch_net_poll_dispatch (data, fds);
}

void
hutch_net_sandbox_hooks (HutchNet *net, HutchSandboxNet *out)
{
  *out = (HutchSandboxNet) { hooks_child_setup, hutch_net_serve_request, hooks_monitor_start,
                             hooks_prepare, hooks_dispatch, net };
}
