/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* --network and -p as the user writes them, and the container's
 * resolv.conf and hosts for them. */
#include "config.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "net-private.h"

void
hutch_net_config_init (HutchNetConfig *cfg)
{
  memset (cfg, 0, sizeof *cfg);
  cfg->mode = HUTCH_NET_SLIRP;
  cfg->mtu = 65520;
  cfg->ipv6 = TRUE;
  cfg->dns = g_array_new (FALSE, TRUE, sizeof (struct sockaddr_in));
  cfg->ports = g_array_new (FALSE, TRUE, sizeof (HutchNetPort));
  cfg->allow = g_ptr_array_new_with_free_func (hutch_net_allow_free);
}

void
hutch_net_config_clear (HutchNetConfig *cfg)
{
  g_clear_pointer (&cfg->dns, g_array_unref);
  g_clear_pointer (&cfg->ports, g_array_unref);
  g_clear_pointer (&cfg->search, g_strfreev);
  g_clear_pointer (&cfg->allow, g_ptr_array_unref);
  g_clear_pointer (&cfg->egress_log, g_free);
}

void
hutch_net_config_copy (HutchNetConfig *dst, const HutchNetConfig *src)
{
  *dst = *src;
  dst->dns = g_array_copy (src->dns);
  dst->ports = g_array_copy (src->ports);
  dst->search = g_strdupv (src->search);
  dst->allow = src->allow != NULL ? g_ptr_array_copy (src->allow, hutch_net_allow_copy, NULL)
                                  : g_ptr_array_new ();
  g_ptr_array_set_free_func (dst->allow, hutch_net_allow_free);
  dst->egress_log = g_strdup (src->egress_log);
}

static gboolean
parse_bool (const char *key, const char *val, gboolean *out, GError **error)
{
  if (g_strcmp0 (val, "true") == 0)
    *out = TRUE;
  else if (g_strcmp0 (val, "false") == 0)
    *out = FALSE;
  else
    return hutch_throw (error, HUTCH_ERROR_USAGE, "--network slirp:%s=%s: use true or false", key,
                        val != NULL ? val : "");
  return TRUE;
}

/* IP or IP:PORT (port 53 when left out). */
static gboolean
parse_server (const char *text, struct sockaddr_in *out)
{
  g_autofree char *ip = g_strdup (text);
  char *colon = strchr (ip, ':');
  guint64 port = 53;

  memset (out, 0, sizeof *out);
  out->sin_family = AF_INET;
  if (colon != NULL)
    {
      *colon = '\0';
      if (!g_ascii_string_to_unsigned (colon + 1, 10, 1, 65535, &port, NULL))
        return FALSE;
    }
  out->sin_port = htons ((guint16) port);
  return inet_pton (AF_INET, ip, &out->sin_addr) == 1;
}

static gboolean
parse_option (HutchNetConfig *cfg, const char *opt, GError **error)
{
  g_autofree char *key = g_strdup (opt);
  char *val = strchr (key, '=');

  if (val != NULL)
    *val++ = '\0';
  if (strcmp (key, "mtu") == 0)
    {
      guint64 mtu;
      if (val == NULL || !g_ascii_string_to_unsigned (val, 10, 576, 65520, &mtu, NULL))
        return hutch_throw (error, HUTCH_ERROR_USAGE,
                            "--network slirp:mtu=%s: give a number from 576 to 65520",
                            val != NULL ? val : "");
      cfg->mtu = (guint32) mtu;
      return TRUE;
    }
  if (strcmp (key, "allow_host_loopback") == 0)
    return parse_bool (key, val, &cfg->allow_host_loopback, error);
  if (strcmp (key, "enable_ipv6") == 0)
    return parse_bool (key, val, &cfg->ipv6, error);
  if (strcmp (key, "dns") == 0)
    {
      struct sockaddr_in sin;
      if (val == NULL || !parse_server (val, &sin))
        return hutch_throw (error, HUTCH_ERROR_USAGE,
                            "--network slirp:dns=%s: give an IPv4 address, with :PORT if not 53",
                            val != NULL ? val : "");
      g_array_append_val (cfg->dns, sin);
      return TRUE;
    }
  return hutch_throw (error, HUTCH_ERROR_USAGE,
                      "--network slirp:%s: options are mtu=N, allow_host_loopback=true|false, "
                      "enable_ipv6=true|false, dns=IP[:PORT]",
                      opt);
}

gboolean
hutch_net_config_parse_mode (HutchNetConfig *cfg, const char *text, GError **error)
{
  g_auto (GStrv) opts = NULL;
  const char *colon = strchr (text, ':');
  g_autofree char *mode = g_strndup (text, colon != NULL ? (gsize) (colon - text) : strlen (text));

  cfg->explicit_mode = TRUE;
  if (strcmp (mode, "slirp") == 0 || strcmp (mode, "slirp4netns") == 0)
    cfg->mode = HUTCH_NET_SLIRP;
  else if (strcmp (mode, "none") == 0 && colon == NULL)
    cfg->mode = HUTCH_NET_NONE;
  else if (strcmp (mode, "host") == 0 && colon == NULL)
    cfg->mode = HUTCH_NET_HOST;
  else
    return hutch_throw (error, HUTCH_ERROR_USAGE,
                        "--network \"%s\": use slirp[:OPTIONS] (the default), none or host", text);
  if (colon == NULL)
    return TRUE;
  opts = g_strsplit (colon + 1, ",", -1);
  for (char **o = opts; *o != NULL; o++)
    if (**o != '\0' && !parse_option (cfg, *o, error))
      return FALSE;
  return TRUE;
}

/* N or N-M, each 1..65535. */
static gboolean
parse_range (const char *text, guint *first, guint *count)
{
  const char *dash = strchr (text, '-');
  g_autofree char *a = g_strndup (text, dash != NULL ? (gsize) (dash - text) : strlen (text));
  guint64 lo, hi;

  if (!g_ascii_string_to_unsigned (a, 10, 1, 65535, &lo, NULL))
    return FALSE;
  hi = lo;
  if (dash != NULL && !g_ascii_string_to_unsigned (dash + 1, 10, lo, 65535, &hi, NULL))
    return FALSE;
  *first = (guint) lo;
  *count = (guint) (hi - lo + 1);
  return TRUE;
}

gboolean
hutch_net_config_add_port (HutchNetConfig *cfg, const char *text, GError **error)
{
  g_autofree char *spec = g_strdup (text);
  char *proto = strrchr (spec, '/');
  char *ctr, *host = NULL, *ip = NULL;
  guint ctr_first, ctr_count, host_first = 0, host_count = 0;
  HutchNetPort port = { 0 };

  if (proto != NULL)
    {
      *proto++ = '\0';
      if (strcmp (proto, "udp") == 0)
        port.udp = TRUE;
      else if (strcmp (proto, "tcp") != 0)
        return hutch_throw (error, HUTCH_ERROR_USAGE, "-p %s: the protocol is tcp or udp", text);
    }
  ctr = strrchr (spec, ':');
  if (ctr != NULL)
    {
      *ctr++ = '\0';
      host = strrchr (spec, ':');
      if (host != NULL)
        {
          *host++ = '\0';
          ip = spec;
        }
      else
        host = spec;
    }
  else
    ctr = spec;
  if (ip != NULL && *ip != '\0' && inet_pton (AF_INET, ip, &port.host_ip) != 1)
    return hutch_throw (error, HUTCH_ERROR_USAGE, "-p %s: \"%s\" is not an IPv4 address", text, ip);
  if (!parse_range (ctr, &ctr_first, &ctr_count)
      || (host != NULL && *host != '\0' && !parse_range (host, &host_first, &host_count)))
    return hutch_throw (error, HUTCH_ERROR_USAGE,
                        "-p %s: write [HOSTIP:][HOSTPORT:]CTRPORT[/udp], ports 1-65535, "
                        "ranges as 8000-8010",
                        text);
  if (host_count != 0 && host_count != ctr_count)
    return hutch_throw (error, HUTCH_ERROR_USAGE,
                        "-p %s: the host range has %u ports and the container range %u", text,
                        host_count, ctr_count);
  for (guint i = 0; i < ctr_count; i++)
    {
      port.ctr_port = (guint16) (ctr_first + i);
      port.host_port = host_count != 0 ? (guint16) (host_first + i) : 0;
      g_array_append_val (cfg->ports, port);
    }
  return TRUE;
}

void
hutch_net_config_read_resolv (HutchNetConfig *cfg, const char *resolv_conf)
{
  g_auto (GStrv) lines = g_strsplit (resolv_conf != NULL ? resolv_conf : "", "\n", -1);
  gboolean have_dns = cfg->dns->len > 0;
  g_autoptr (GPtrArray) search = g_ptr_array_new_with_free_func (g_free);

  for (char **l = lines; *l != NULL; l++)
    {
      g_auto (GStrv) words = g_strsplit_set (g_strstrip (*l), " \t", -1);
      guint n = g_strv_length (words);
      struct sockaddr_in sin;
      if (n < 2)
        continue;
      if (!have_dns && strcmp (words[0], "nameserver") == 0 && parse_server (words[1], &sin))
        g_array_append_val (cfg->dns, sin);
      else if (strcmp (words[0], "search") == 0 || strcmp (words[0], "domain") == 0)
        {
          g_ptr_array_set_size (search, 0);
          for (guint i = 1; i < n; i++)
            if (*words[i] != '\0')
              g_ptr_array_add (search, g_strdup (words[i]));
        }
    }
  g_ptr_array_add (search, NULL);
  g_strfreev (cfg->search);
  cfg->search = (char **) g_ptr_array_steal (search, NULL);
}

char *
hutch_net_resolv_conf_text (const HutchNetConfig *cfg, char **servers, char **search,
                            char **options)
{
  GString *s = g_string_new (NULL);
  char **domains = search != NULL ? search : cfg->search;

  if (servers != NULL)
    for (char **n = servers; *n != NULL; n++)
      g_string_append_printf (s, "nameserver %s\n", *n);
  else if (cfg->mode == HUTCH_NET_SLIRP)
    g_string_append (s, "nameserver " HUTCH_NET_DNS "\n");
  else if (cfg->mode == HUTCH_NET_HOST)
    for (guint i = 0; i < cfg->dns->len; i++)
      {
        char ip[INET_ADDRSTRLEN];
        const struct sockaddr_in *sin = &g_array_index (cfg->dns, struct sockaddr_in, i);
        if (inet_ntop (AF_INET, &sin->sin_addr, ip, sizeof ip) != NULL)
          g_string_append_printf (s, "nameserver %s\n", ip);
      }
  /* --dns-search .: no search domains at all, as docker */
  if (domains != NULL && domains[0] != NULL && strcmp (domains[0], ".") != 0)
    {
      g_autofree char *joined = g_strjoinv (" ", domains);
      g_string_append_printf (s, "search %s\n", joined);
    }
  if (options != NULL && options[0] != NULL)
    {
      g_autofree char *joined = g_strjoinv (" ", options);
      g_string_append_printf (s, "options %s\n", joined);
    }
  if (s->len == 0)
    g_string_append (s, "# --network none: no name servers\n");
  return g_string_free (s, FALSE);
}

/* The host's first address on an interface that is up and not loopback:
 * what the container reaches the host at through slirp when the host's
 * loopback is closed to it (as podman's host.containers.internal). */
static gboolean
host_address (char out[INET_ADDRSTRLEN])
{
  struct ifaddrs *all = NULL;
  gboolean found = FALSE;

  if (getifaddrs (&all) < 0)
    return FALSE;
  for (struct ifaddrs *i = all; i != NULL && !found; i = i->ifa_next)
    if (i->ifa_addr != NULL && i->ifa_addr->sa_family == AF_INET && (i->ifa_flags & IFF_UP)
        && !(i->ifa_flags & IFF_LOOPBACK))
      found = inet_ntop (AF_INET, &((struct sockaddr_in *) i->ifa_addr)->sin_addr, out,
                         INET_ADDRSTRLEN) != NULL;
  freeifaddrs (all);
  return found;
}

/* What host-gateway and host.containers.internal name: the host, as the
 * container reaches it; NULL when it cannot (--network none). */
static char *
host_gateway (const HutchNetConfig *cfg)
{
  char ip[INET_ADDRSTRLEN];

  if (cfg->mode == HUTCH_NET_SLIRP && cfg->allow_host_loopback)
    return g_strdup (HUTCH_NET_GATEWAY);
  if (cfg->mode == HUTCH_NET_NONE)
    return NULL;
  if (host_address (ip))
    return g_strdup (ip);
  return cfg->mode == HUTCH_NET_HOST ? g_strdup ("127.0.0.1") : NULL;
}

char *
hutch_net_hosts_text (const HutchNetConfig *cfg, const char *hostname, const char *name,
                      char **extra)
{
  GString *s = g_string_new ("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n");
  g_autofree char *gateway = host_gateway (cfg);
  /* the container's name resolves to it too, as podman writes it */
  g_autofree char *names = name != NULL && strcmp (name, hostname) != 0
                             ? g_strdup_printf ("%s %s", hostname, name) : g_strdup (hostname);

  if (cfg->mode == HUTCH_NET_SLIRP)
    g_string_append_printf (s, HUTCH_NET_ADDR "\t%s\n", names);
  else
    g_string_append_printf (s, "127.0.1.1\t%s\n", names);
  if (gateway != NULL)
    g_string_append_printf (s, "%s\thost.containers.internal host.docker.internal\n", gateway);
  /* --add-host NAME:IP, checked by run (util: no newline, a real address) */
  for (char **e = extra; e != NULL && *e != NULL; e++)
    {
      const char *sep = strpbrk (*e, ":=");
      const char *ip = sep != NULL ? sep + 1 : NULL;
      if (ip == NULL)
        continue;
      if (strcmp (ip, "host-gateway") == 0)
        ip = gateway;
      if (ip != NULL)
        g_string_append_printf (s, "%s\t%.*s\n", ip, (int) (sep - *e), *e);
    }
  return g_string_free (s, FALSE);
}
