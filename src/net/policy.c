/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The egress policy of --allow-host: the entries as the user writes them,
 * the addresses DNS answered for allowed names, the verdict on a
 * destination, and the egress log. What a frame is, and the replies that
 * refuse one, are policy-frame.c's; the DNS side is dns.c's. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "net-private.h"

/* Addresses learned from answers are kept for the whole life of the
 * container (a program may cache an answer far longer than its TTL), up to
 * this many; a container that asks for more names than that gets no more. */
#define LEARNED_MAX 65536
/* The log takes at most this many lines a second; the rest are counted. */
#define LOG_LINES_PER_SEC 100

typedef struct
{
  char *name;    /* the first name it was an answer for */
  GArray *ports; /* guint16, of the entries allowing the name; 0: any */
} Learned;

struct HutchNetPolicy
{
  GPtrArray *allow;    /* HutchNetAllow, borrowed from the config */
  GHashTable *learned; /* address (network order) -> Learned */
  guint32 gateway;     /* 10.0.2.2, network order */
  guint32 dns;         /* 10.0.2.3 */
  int log;
  gint64 log_second;   /* the second the count is of */
  guint log_lines;
  guint log_dropped;
  gboolean learned_full_said;
};

void
hutch_net_allow_free (gpointer data)
{
  HutchNetAllow *a = data;

  g_free (a->text);
  g_free (a->name);
  g_free (a);
}

gpointer
hutch_net_allow_copy (gconstpointer data, gpointer unused)
{
  const HutchNetAllow *a = data;
  HutchNetAllow *b = g_memdup2 (a, sizeof *a);

  b->text = g_strdup (a->text);
  b->name = g_strdup (a->name);
  return b;
}

static gboolean
allow_error (GError **error, const char *text, const char *why)
{
  return hutch_throw (error, HUTCH_ERROR_USAGE,
                      "--allow-host \"%s\": %s; write NAME, *.DOMAIN, IP or IP/BITS, each with "
                      ":PORT or not (as example.org, *.example.org:443, 192.0.2.10, "
                      "10.0.0.0/8:5432)",
                      text, why);
}

/* A host name as DNS has it: labels of letters, digits, '-' and '_'. */
static gboolean
valid_name (const char *name)
{
  gsize label = 0;

  if (*name == '\0' || strlen (name) > 253)
    return FALSE;
  for (const char *c = name; *c != '\0'; c++)
    {
      if (*c == '.')
        {
          if (label == 0)
            return FALSE;
          label = 0;
        }
      else if (g_ascii_isalnum (*c) || *c == '-' || *c == '_')
        {
          if (++label > 63)
            return FALSE;
        }
      else
        return FALSE;
    }
  return label > 0;
}

/* IP or IP/BITS into @a; FALSE with @error when it looks like one but is
 * not, FALSE with *@is_addr unset when it is no address at all. */
static gboolean
parse_addr (HutchNetAllow *a, const char *text, const char *host, gboolean *is_addr,
            GError **error)
{
  const char *slash = strchr (host, '/');
  g_autofree char *ip = g_strndup (host, slash != NULL ? (gsize) (slash - host) : strlen (host));
  guint64 bits = 32;
  struct in_addr in;

  *is_addr = slash != NULL || strspn (ip, "0123456789.") == strlen (ip);
  if (!*is_addr)
    return FALSE;
  if (inet_pton (AF_INET, ip, &in) != 1)
    return allow_error (error, text, "not an IPv4 address");
  if (slash != NULL && !g_ascii_string_to_unsigned (slash + 1, 10, 0, 32, &bits, NULL))
    return allow_error (error, text, "the prefix length is a number from 0 to 32");
  a->mask = bits == 0 ? 0 : htonl (~(guint32) 0 << (32 - bits));
  a->addr = in.s_addr;
  if ((a->addr & ~a->mask) != 0)
    {
      g_autofree char *why = NULL;
      char net[INET_ADDRSTRLEN];
      in.s_addr = a->addr & a->mask;
      inet_ntop (AF_INET, &in, net, sizeof net);
      why = g_strdup_printf ("%s has bits set past the prefix (did you mean %s/%u?)", ip, net,
                             (guint) bits);
      return allow_error (error, text, why);
    }
  return TRUE;
}

gboolean
hutch_net_config_add_allow (HutchNetConfig *cfg, const char *text, GError **error)
{
  g_autoptr (GError) local = NULL;
  g_autofree char *host = g_ascii_strdown (text, -1);
  const char *colon = strchr (host, ':');
  HutchNetAllow a = { 0 };
  guint64 port = 0;
  gboolean is_addr;

  if (*host == '\0')
    return allow_error (error, text, "empty");
  if (host[0] == '[' || (colon != NULL && strchr (colon + 1, ':') != NULL))
    return hutch_throw (error, HUTCH_ERROR_USAGE,
                        "--allow-host \"%s\": IPv6 is not supported: the policy covers IPv4 "
                        "alone (a container with --allow-host has no IPv6)",
                        text);
  if (colon != NULL)
    {
      if (!g_ascii_string_to_unsigned (colon + 1, 10, 1, 65535, &port, NULL))
        return allow_error (error, text, "the port is a number from 1 to 65535");
      host[colon - host] = '\0';
    }
  a.port = (guint16) port;
  if (parse_addr (&a, text, host, &is_addr, &local))
    a.gateway = a.addr == inet_addr (HUTCH_NET_GATEWAY) && a.mask == G_MAXUINT32;
  else if (is_addr)
    return g_propagate_error (error, g_steal_pointer (&local)), FALSE;
  else
    {
      gsize n = strlen (host);
      if (n > 1 && host[n - 1] == '.')
        host[n - 1] = '\0';
      if (strcmp (host, "host.containers.internal") == 0
          || strcmp (host, "host.docker.internal") == 0)
        {
          a.gateway = TRUE;
          a.addr = inet_addr (HUTCH_NET_GATEWAY);
          a.mask = G_MAXUINT32;
        }
      else if (g_str_has_prefix (host, "*.") && valid_name (host + 2))
        a.name = g_strdup (host + 1);
      else if (valid_name (host))
        a.name = g_strdup (host);
      else if (strcmp (host, "*") == 0)
        return allow_error (error, text,
                            "a lone * would allow everything (that is --network slirp without "
                            "--allow-host)");
      else
        return allow_error (error, text, "not a host name (a * only as the first label)");
    }
  /* the host's loopback, reached through 10.0.2.2, opens for the listed
   * ports alone: the policy refuses the rest */
  if (a.gateway)
    cfg->allow_host_loopback = TRUE;
  a.text = g_strdup (text);
  g_ptr_array_add (cfg->allow, g_memdup2 (&a, sizeof a));
  return TRUE;
}

gboolean
hutch_net_config_has_policy (const HutchNetConfig *cfg)
{
  return cfg->allow != NULL && cfg->allow->len > 0;
}

static void
learned_free (gpointer data)
{
  Learned *l = data;

  g_free (l->name);
  g_array_unref (l->ports);
  g_free (l);
}

HutchNetPolicy *
hutch_net_policy_new (const HutchNetConfig *cfg, GError **error)
{
  HutchNetPolicy *p = g_new0 (HutchNetPolicy, 1);

  p->allow = cfg->allow;
  p->learned = g_hash_table_new_full (NULL, NULL, NULL, learned_free);
  p->gateway = inet_addr (HUTCH_NET_GATEWAY);
  p->dns = inet_addr (HUTCH_NET_DNS);
  p->log = -1;
  if (cfg->egress_log != NULL)
    {
      p->log = open (cfg->egress_log, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
      if (p->log < 0)
        {
          hutch_throw_errno (error, "opening the egress log %s", cfg->egress_log);
          hutch_net_policy_free (p);
          return NULL;
        }
    }
  return p;
}

void
hutch_net_policy_free (HutchNetPolicy *p)
{
  if (p == NULL)
    return;
  hutch_fd_clear (&p->log);
  g_hash_table_unref (p->learned);
  g_free (p);
}

int
hutch_net_policy_log_fd (HutchNetPolicy *p)
{
  return p->log;
}

static gboolean
port_allows (guint16 allowed, int port)
{
  return allowed == 0 || port == HUTCH_NET_ANY_PORT || allowed == port;
}

static gboolean
name_matches (const HutchNetAllow *a, const char *name)
{
  gsize n, k;

  if (a->name == NULL)
    return FALSE;
  if (a->name[0] != '.')
    return strcmp (a->name, name) == 0;
  /* *.example.org: any name below example.org, not example.org itself */
  n = strlen (name);
  k = strlen (a->name);
  return n > k && strcmp (name + n - k, a->name) == 0;
}

static char *
dest_text (guint32 addr, int port)
{
  char ip[INET_ADDRSTRLEN];
  struct in_addr in = { addr };

  inet_ntop (AF_INET, &in, ip, sizeof ip);
  return port == HUTCH_NET_ANY_PORT ? g_strdup (ip) : g_strdup_printf ("%s:%d", ip, port);
}

char *
hutch_net_policy_judge (HutchNetPolicy *p, guint32 addr, int port, const char **out_name)
{
  gboolean gateway = addr == p->gateway;
  Learned *l;
  g_autofree char *dest = NULL;

  *out_name = NULL;
  if (addr == p->dns)
    return g_strdup ("refused, " HUTCH_NET_DNS " answers DNS over UDP alone under --allow-host");
  for (guint i = 0; i < p->allow->len; i++)
    {
      const HutchNetAllow *a = p->allow->pdata[i];
      /* 10.0.2.2 is the host's loopback: only an entry that names it opens
       * it, never a range that happens to hold it */
      if (a->name == NULL && a->gateway == gateway && (addr & a->mask) == a->addr
          && port_allows (a->port, port))
        return NULL;
    }
  l = gateway ? NULL : g_hash_table_lookup (p->learned, GUINT_TO_POINTER (addr));
  for (guint i = 0; l != NULL && i < l->ports->len; i++)
    if (port_allows (g_array_index (l->ports, guint16, i), port))
      return NULL;
  if (l != NULL)
    *out_name = l->name;
  dest = l != NULL && port != HUTCH_NET_ANY_PORT ? g_strdup_printf ("%s:%d", l->name, port)
         : l != NULL                             ? g_strdup (l->name)
                                                 : dest_text (addr, port);
  return g_strdup_printf ("refused, needs --allow-host %s", dest);
}

gboolean
hutch_net_policy_name_allowed (HutchNetPolicy *p, const char *name)
{
  for (guint i = 0; i < p->allow->len; i++)
    if (name_matches (p->allow->pdata[i], name))
      return TRUE;
  return FALSE;
}

void
hutch_net_policy_learn (HutchNetPolicy *p, const char *name, guint32 addr)
{
  Learned *l = g_hash_table_lookup (p->learned, GUINT_TO_POINTER (addr));

  if (l == NULL)
    {
      if (g_hash_table_size (p->learned) >= LEARNED_MAX)
        {
          if (!p->learned_full_said)
            hutch_net_policy_log (p, "dns", name, NULL,
                                  "not learned: the container has had answers for too many "
                                  "addresses; no more are allowed by name");
          p->learned_full_said = TRUE;
          return;
        }
      l = g_new0 (Learned, 1);
      l->name = g_strdup (name);
      l->ports = g_array_new (FALSE, FALSE, sizeof (guint16));
      g_hash_table_insert (p->learned, GUINT_TO_POINTER (addr), l);
    }
  for (guint i = 0; i < p->allow->len; i++)
    {
      const HutchNetAllow *a = p->allow->pdata[i];
      gboolean have = FALSE;
      if (!name_matches (a, name))
        continue;
      for (guint k = 0; k < l->ports->len && !have; k++)
        have = g_array_index (l->ports, guint16, k) == a->port;
      if (!have)
        g_array_append_val (l->ports, a->port);
    }
}

static void
log_write (HutchNetPolicy *p, const char *line)
{
  gsize len = strlen (line);
  ssize_t n;

  /* one write(2) a line: O_APPEND keeps lines whole */
  do
    n = write (p->log, line, len);
  while (n < 0 && errno == EINTR);
}

static char *
now_text (void)
{
  g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *secs = g_date_time_format (now, "%Y-%m-%dT%H:%M:%S");

  return g_strdup_printf ("%s.%03dZ", secs, g_date_time_get_microsecond (now) / 1000);
}

void
hutch_net_policy_log (HutchNetPolicy *p, const char *proto, const char *dest, const char *name,
                      const char *why)
{
  gint64 second = g_get_monotonic_time () / G_USEC_PER_SEC;
  g_autofree char *now = NULL;
  g_autofree char *line = NULL;

  if (p->log < 0)
    return;
  /* a container that knocks in a loop must not fill the disk */
  if (second != p->log_second)
    {
      if (p->log_dropped > 0)
        {
          g_autofree char *t = now_text ();
          g_autofree char *note = g_strdup_printf ("%s - - - %u more refusals in a second were "
                                                   "not logged\n",
                                                   t, p->log_dropped);
          log_write (p, note);
        }
      p->log_second = second;
      p->log_lines = 0;
      p->log_dropped = 0;
    }
  if (++p->log_lines > LOG_LINES_PER_SEC)
    {
      p->log_dropped++;
      return;
    }
  now = now_text ();
  line = g_strdup_printf ("%s %s %s %s %s\n", now, proto, dest, name != NULL ? name : "-", why);
  log_write (p, line);
}
