/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Reading DNS messages (RFC 1035) for the egress policy: the name a query
 * asks about, and the IPv4 addresses an answer gives for it. Everything
 * here comes from the container or from a resolver: lengths are checked,
 * compression pointers may only point backwards, and a name is at most
 * 255 bytes. */
#include "config.h"

#include <string.h>

#include "net-private.h"

#define DNS_HLEN 12
#define TYPE_A 1
#define TYPE_CNAME 5
#define CLASS_IN 1
#define CHAIN_MAX 16

/* The name at @*pos, lower case, dotted, without the final dot ("" for the
 * root); @*pos moves past it. NULL when malformed. */
static char *
read_name (const guint8 *msg, gsize len, gsize *pos)
{
  GString *s = g_string_new (NULL);
  gsize at = *pos, end = 0;
  gsize limit = *pos; /* a pointer must point before the last one */
  gboolean jumped = FALSE;

  for (;;)
    {
      guint8 n;
      if (at >= len)
        goto bad;
      n = msg[at];
      if ((n & 0xc0) == 0xc0)
        {
          gsize to;
          if (at + 1 >= len)
            goto bad;
          to = (gsize) ((n & 0x3f) << 8 | msg[at + 1]);
          if (!jumped)
            end = at + 2;
          jumped = TRUE;
          if (to >= limit)
            goto bad;
          limit = to;
          at = to;
          continue;
        }
      if (n & 0xc0)
        goto bad;
      if (n == 0)
        break;
      if (at + 1 + n > len || s->len + n + 1 > 255)
        goto bad;
      if (s->len > 0)
        g_string_append_c (s, '.');
      for (guint i = 0; i < n; i++)
        g_string_append_c (s, g_ascii_tolower ((char) msg[at + 1 + i]));
      at += 1 + n;
    }
  *pos = jumped ? end : at + 1;
  return g_string_free (s, FALSE);
bad:
  g_string_free (s, TRUE);
  return NULL;
}

gboolean
hutch_net_dns_parse_query (const guint8 *msg, gsize len, char **out_name, guint16 *out_type,
                           gsize *out_end)
{
  gsize pos = DNS_HLEN;
  char *name;

  /* one question, as every resolver sends */
  if (len < DNS_HLEN || hutch_net_get16 (msg + 4) != 1)
    return FALSE;
  name = read_name (msg, len, &pos);
  if (name == NULL || pos + 4 > len)
    {
      g_free (name);
      return FALSE;
    }
  *out_name = name;
  *out_type = hutch_net_get16 (msg + pos);
  *out_end = pos + 4;
  return TRUE;
}

typedef struct
{
  char *owner;
  char *target; /* a CNAME's */
  guint32 addr; /* an A record's, network order */
} Record;

static void
record_clear (gpointer data)
{
  Record *r = data;

  g_free (r->owner);
  g_free (r->target);
}

/* The answer section's A and CNAME records of class IN, into @out. */
static gboolean
read_answers (const guint8 *msg, gsize len, gsize pos, guint count, GArray *out)
{
  for (guint i = 0; i < count; i++)
    {
      Record r = { 0 };
      guint16 type, class, rdlen;
      r.owner = read_name (msg, len, &pos);
      if (r.owner == NULL || pos + 10 > len)
        return record_clear (&r), FALSE;
      type = hutch_net_get16 (msg + pos);
      class = hutch_net_get16 (msg + pos + 2);
      rdlen = hutch_net_get16 (msg + pos + 8);
      pos += 10;
      if (pos + rdlen > len)
        return record_clear (&r), FALSE;
      if (class == CLASS_IN && type == TYPE_A && rdlen == 4)
        memcpy (&r.addr, msg + pos, 4);
      else if (class == CLASS_IN && type == TYPE_CNAME)
        {
          gsize at = pos;
          r.target = read_name (msg, len, &at);
          if (r.target == NULL)
            return record_clear (&r), FALSE;
        }
      else
        {
          record_clear (&r);
          pos += rdlen;
          continue;
        }
      pos += rdlen;
      g_array_append_val (out, r);
    }
  return TRUE;
}

void
hutch_net_dns_parse_answer (const guint8 *msg, gsize len,
                            void (*each) (const char *qname, guint32 addr, gpointer data),
                            gpointer data)
{
  g_autofree char *qname = NULL;
  g_autoptr (GArray) records = g_array_new (FALSE, FALSE, sizeof (Record));
  g_autoptr (GPtrArray) names = g_ptr_array_new ();
  guint16 qtype;
  gsize pos;

  g_array_set_clear_func (records, record_clear);
  if (len < DNS_HLEN || (msg[3] & 0x0f) != 0 /* RCODE */
      || !hutch_net_dns_parse_query (msg, len, &qname, &qtype, &pos)
      || !read_answers (msg, len, pos, hutch_net_get16 (msg + 6), records))
    return;
  /* the names the question leads to through the answer's CNAMEs */
  g_ptr_array_add (names, qname);
  for (guint round = 0; round < CHAIN_MAX; round++)
    {
      guint before = names->len;
      for (guint i = 0; i < records->len; i++)
        {
          const Record *r = &g_array_index (records, Record, i);
          gboolean from = FALSE, seen = FALSE;
          if (r->target == NULL)
            continue;
          for (guint k = 0; k < names->len; k++)
            {
              from = from || strcmp (names->pdata[k], r->owner) == 0;
              seen = seen || strcmp (names->pdata[k], r->target) == 0;
            }
          if (from && !seen)
            g_ptr_array_add (names, r->target);
        }
      if (names->len == before)
        break;
    }
  for (guint i = 0; i < records->len; i++)
    {
      const Record *r = &g_array_index (records, Record, i);
      if (r->target != NULL)
        continue;
      for (guint k = 0; k < names->len; k++)
        if (strcmp (names->pdata[k], r->owner) == 0)
          {
            each (qname, r->addr, data);
            break;
          }
    }
}
