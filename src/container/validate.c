/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What run, create and exec take from the user that ends up in a file of
 * the container (the hostname in /etc/hosts and /etc/hostname) or in a
 * syscall (the uid and gid, the working directory), checked before
 * anything is made, each refusal naming the flag. Names, env entries,
 * ports, sizes and mounts are checked where they are parsed. */
#include "config.h"

#include <arpa/inet.h>
#include <string.h>

#include "container-private.h"

/* RFC 1123: labels of letters, digits and '-', 1 to 63 long, neither
 * starting nor ending with '-', joined by dots. A newline here would
 * have been a line of the container's /etc/hosts of the user's making. */
static gboolean
rfc1123_name (const char *name)
{
  gsize len = strlen (name);
  gboolean ok = len >= 1 && len <= 253;
  gsize label = 0;

  for (gsize i = 0; ok && i <= len; i++)
    {
      char ch = name[i];
      if (ch == '.' || ch == '\0')
        {
          ok = label >= 1 && label <= 63 && name[i - 1] != '-';
          label = 0;
        }
      else if (g_ascii_isalnum (ch) || (ch == '-' && label > 0))
        label++;
      else
        ok = FALSE;
    }
  return ok;
}

gboolean
hutch_container_hostname_validate (const char *name, GError **error)
{
  gboolean ok = strlen (name) <= 64 && rfc1123_name (name); /* HOST_NAME_MAX, sethostname(2) */

  if (!ok)
    {
      g_autofree char *shown = g_strescape (name, NULL);
      return hutch_throw (error, HUTCH_ERROR_USAGE,
                          "--hostname \"%s\": a hostname is up to 64 characters of letters, "
                          "digits and '-', in dot-separated labels that neither start nor end "
                          "with '-' (RFC 1123)",
                          shown);
    }
  return TRUE;
}

/* The highest container id @map maps, plus one. */
static guint64
mapped (const HutchIdMap *map, gboolean gid)
{
  g_autoptr (GArray) lines = hutch_sandbox_idmap_lines (map, gid);
  guint64 n = 0;

  for (guint i = 0; i < lines->len; i++)
    {
      const HutchIdMapLine *l = &g_array_index (lines, HutchIdMapLine, i);
      n = MAX (n, (guint64) l->inside + l->count);
    }
  return n;
}

static gboolean
id_validate (const char *flag, const char *user, const char *part, gboolean gid,
             const HutchIdMap *map, GError **error)
{
  guint64 v, n;
  char *end = NULL;

  if (*part == '\0')
    return hutch_throw (error, HUTCH_ERROR_USAGE, "%s \"%s\": an empty %s", flag, user,
                        gid ? "group" : "user");
  if (!g_ascii_isdigit (*part))
    return TRUE; /* a name: the image's /etc/passwd or /etc/group says */
  v = g_ascii_strtoull (part, &end, 10);
  if (*end != '\0')
    return hutch_throw (error, HUTCH_ERROR_USAGE, "%s \"%s\": \"%s\" is neither a number nor a name",
                        flag, user, part);
  /* (uid_t) -1 means "unchanged" to setresuid(2): the command would have
   * stayed root. */
  if (v >= G_MAXUINT32)
    return hutch_throw (error, HUTCH_ERROR_USAGE, "%s \"%s\": %s %s is not a valid id", flag, user,
                        gid ? "gid" : "uid", part);
  n = map != NULL ? mapped (map, gid) : G_MAXUINT32;
  if (v >= n || (map != NULL && !hutch_sandbox_idmap_contains (map, gid, (guint32) v)))
    return hutch_throw (error, HUTCH_ERROR_USAGE,
                        "%s \"%s\": %s %s is not mapped in the container, whose ids are 0 to %"
                        G_GUINT64_FORMAT " (%s)",
                        flag, user, gid ? "gid" : "uid", part, n - 1,
                        map->single ? "you have no subordinate ids: see \"hutch check\""
                                    : "your subordinate ids in /etc/subuid and /etc/subgid");
  return TRUE;
}

gboolean
hutch_container_user_validate (const char *flag, const char *user, const HutchIdMap *map,
                               GError **error)
{
  g_auto (GStrv) parts = NULL;

  if (user == NULL)
    return TRUE;
  parts = g_strsplit (user, ":", 2);
  return id_validate (flag, user, parts[0] != NULL ? parts[0] : "", FALSE, map, error)
         && (parts[0] == NULL || parts[1] == NULL
             || id_validate (flag, user, parts[1], TRUE, map, error));
}

gboolean
hutch_container_workdir_validate (const char *flag, const char *dir, GError **error)
{
  if (dir != NULL && dir[0] != '/')
    return hutch_throw (error, HUTCH_ERROR_USAGE,
                        "%s \"%s\": the working directory must be an absolute path", flag, dir);
  return TRUE;
}

static gboolean
ip_address (const char *text)
{
  unsigned char buf[sizeof (struct in6_addr)];

  return inet_pton (AF_INET, text, buf) == 1 || inet_pton (AF_INET6, text, buf) == 1;
}

/* Nothing that would split a line of a file. */
static gboolean
one_line (const char *text)
{
  return *text != '\0' && strpbrk (text, "\n\r") == NULL;
}

gboolean
hutch_container_run_flags_validate (const HutchRunOptions *o, GError **error)
{
  for (char **h = o->extra_hosts; h != NULL && *h != NULL; h++)
    {
      /* NAME:IP, as docker; the IP may be IPv6 and hold colons, the name not */
      const char *sep = strpbrk (*h, ":=");
      g_autofree char *name = sep != NULL ? g_strndup (*h, (gsize) (sep - *h)) : NULL;
      g_autofree char *shown = g_strescape (*h, NULL);
      if (sep == NULL || !rfc1123_name (name)
          || (!ip_address (sep + 1) && strcmp (sep + 1, "host-gateway") != 0))
        return hutch_throw (error, HUTCH_ERROR_USAGE,
                            "--add-host \"%s\": use NAME:IP (an IPv4 or IPv6 address, or "
                            "host-gateway for the host), NAME a hostname (RFC 1123)", shown);
    }
  for (char **d = o->dns; d != NULL && *d != NULL; d++)
    if (!ip_address (*d))
      {
        g_autofree char *shown = g_strescape (*d, NULL);
        return hutch_throw (error, HUTCH_ERROR_USAGE,
                            "--dns \"%s\": a name server is an IPv4 or IPv6 address", shown);
      }
  for (char **d = o->dns_search; d != NULL && *d != NULL; d++)
    if (strcmp (*d, ".") != 0 && !rfc1123_name (*d))
      {
        g_autofree char *shown = g_strescape (*d, NULL);
        return hutch_throw (error, HUTCH_ERROR_USAGE,
                            "--dns-search \"%s\": a domain name (RFC 1123), or \".\" for none",
                            shown);
      }
  for (char **d = o->dns_options; d != NULL && *d != NULL; d++)
    if (!one_line (*d) || strpbrk (*d, " \t") != NULL)
      {
        g_autofree char *shown = g_strescape (*d, NULL);
        return hutch_throw (error, HUTCH_ERROR_USAGE,
                            "--dns-option \"%s\": one resolv.conf option, as ndots:2 or edns0",
                            shown);
      }
  for (char **l = o->labels; l != NULL && *l != NULL; l++)
    if (!one_line (*l) || **l == '=')
      {
        g_autofree char *shown = g_strescape (*l, NULL);
        return hutch_throw (error, HUTCH_ERROR_USAGE,
                            "--label \"%s\": use KEY=VALUE (or KEY), on one line", shown);
      }
  return TRUE;
}
