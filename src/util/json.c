/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Reading JSON from images and archives, strictly: RFC 8259 grammar only,
 * duplicate keys refused (two parsers could otherwise read two different
 * documents from one digest), nesting and size capped, strings valid UTF-8
 * without NUL. Not json-glib: it keeps the last duplicate silently and would
 * pull libgio into every start-up. Writing JSON is json-writer.c. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

typedef struct
{
  const char *text;
  gsize len;
  gsize pos;
  guint depth;
} Parser;

static gboolean parse_value (Parser *p, HutchJsonNode **out, GError **error);

static gboolean
fail_at (Parser *p, GError **error, const char *what)
{
  guint line = 1, col = 1;

  for (gsize i = 0; i < p->pos && i < p->len; i++)
    {
      if (p->text[i] == '\n')
        {
          line++;
          col = 1;
        }
      else
        col++;
    }
  return hutch_throw (error, HUTCH_ERROR_INVALID_IMAGE, "invalid JSON at line %u, column %u: %s",
                      line, col, what);
}

void
hutch_json_node_free (HutchJsonNode *node)
{
  if (node == NULL)
    return;
  for (guint i = 0; i < node->n_members; i++)
    {
      hutch_json_node_free (node->members[i]);
      if (node->keys != NULL)
        g_free (node->keys[i]);
    }
  g_free (node->members);
  g_free (node->keys);
  g_free (node->string);
  g_free (node);
}

static void
skip_space (Parser *p)
{
  while (p->pos < p->len)
    {
      char c = p->text[p->pos];
      if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
        break;
      p->pos++;
    }
}

static gboolean
expect_word (Parser *p, const char *word, GError **error)
{
  gsize n = strlen (word);

  if (p->len - p->pos < n || memcmp (p->text + p->pos, word, n) != 0)
    return fail_at (p, error, "unexpected character");
  p->pos += n;
  return TRUE;
}

static int
hex_value (char c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

static gboolean
parse_hex4 (Parser *p, gunichar *out, GError **error)
{
  gunichar v = 0;

  if (p->len - p->pos < 4)
    return fail_at (p, error, "truncated \\u escape");
  for (int i = 0; i < 4; i++)
    {
      int h = hex_value (p->text[p->pos + i]);
      if (h < 0)
        return fail_at (p, error, "invalid \\u escape");
      v = (v << 4) | (gunichar) h;
    }
  p->pos += 4;
  *out = v;
  return TRUE;
}

static gboolean
parse_escape (Parser *p, GString *s, GError **error)
{
  char c = p->text[p->pos++];
  gunichar u, lo;

  switch (c)
    {
    case '"': g_string_append_c (s, '"'); return TRUE;
    case '\\': g_string_append_c (s, '\\'); return TRUE;
    case '/': g_string_append_c (s, '/'); return TRUE;
    case 'b': g_string_append_c (s, '\b'); return TRUE;
    case 'f': g_string_append_c (s, '\f'); return TRUE;
    case 'n': g_string_append_c (s, '\n'); return TRUE;
    case 'r': g_string_append_c (s, '\r'); return TRUE;
    case 't': g_string_append_c (s, '\t'); return TRUE;
    case 'u': break;
    default: p->pos--; return fail_at (p, error, "invalid escape in string");
    }
  if (!parse_hex4 (p, &u, error))
    return FALSE;
  if (u == 0)
    return fail_at (p, error, "\\u0000 in a string");
  if (u >= 0xDC00 && u <= 0xDFFF)
    return fail_at (p, error, "lone low surrogate in a string");
  if (u >= 0xD800 && u <= 0xDBFF)
    {
      if (p->len - p->pos < 2 || p->text[p->pos] != '\\' || p->text[p->pos + 1] != 'u')
        return fail_at (p, error, "high surrogate without its low half");
      p->pos += 2;
      if (!parse_hex4 (p, &lo, error))
        return FALSE;
      if (lo < 0xDC00 || lo > 0xDFFF)
        return fail_at (p, error, "high surrogate without its low half");
      u = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00);
    }
  g_string_append_unichar (s, u);
  return TRUE;
}

/* The position is at the opening quote. */
static gboolean
parse_string (Parser *p, char **out, gsize *out_len, GError **error)
{
  g_autoptr (GString) s = g_string_new (NULL);
  const char *end;

  p->pos++;
  for (;;)
    {
      gsize run = p->pos;
      while (run < p->len && p->text[run] != '"' && p->text[run] != '\\'
             && (guchar) p->text[run] >= 0x20)
        run++;
      g_string_append_len (s, p->text + p->pos, (gssize) (run - p->pos));
      p->pos = run;
      if (p->pos >= p->len)
        return fail_at (p, error, "unterminated string");
      if (p->text[p->pos] == '"')
        break;
      if (p->text[p->pos] != '\\')
        return fail_at (p, error, "control character in a string");
      p->pos++;
      if (p->pos >= p->len)
        return fail_at (p, error, "unterminated string");
      if (!parse_escape (p, s, error))
        return FALSE;
    }
  p->pos++;
  if (!g_utf8_validate (s->str, (gssize) s->len, &end))
    return fail_at (p, error, "string is not valid UTF-8");
  *out_len = s->len;
  *out = g_string_free (g_steal_pointer (&s), FALSE);
  return TRUE;
}

static gboolean
parse_number (Parser *p, HutchJsonNode *node, GError **error)
{
  gsize start = p->pos;
  gboolean integral = TRUE;
  g_autofree char *copy = NULL;
  char *end = NULL;

#define DIGITS_AT(i) ((i) < p->len && g_ascii_isdigit (p->text[i]))
  if (p->pos < p->len && p->text[p->pos] == '-')
    p->pos++;
  if (!DIGITS_AT (p->pos))
    return fail_at (p, error, "invalid number");
  if (p->text[p->pos] == '0')
    p->pos++;
  else
    while (DIGITS_AT (p->pos))
      p->pos++;
  if (p->pos < p->len && p->text[p->pos] == '.')
    {
      integral = FALSE;
      p->pos++;
      if (!DIGITS_AT (p->pos))
        return fail_at (p, error, "invalid number");
      while (DIGITS_AT (p->pos))
        p->pos++;
    }
  if (p->pos < p->len && (p->text[p->pos] == 'e' || p->text[p->pos] == 'E'))
    {
      integral = FALSE;
      p->pos++;
      if (p->pos < p->len && (p->text[p->pos] == '+' || p->text[p->pos] == '-'))
        p->pos++;
      if (!DIGITS_AT (p->pos))
        return fail_at (p, error, "invalid number");
      while (DIGITS_AT (p->pos))
        p->pos++;
    }
#undef DIGITS_AT
  copy = g_strndup (p->text + start, p->pos - start);
  node->type = HUTCH_JSON_NUMBER;
  node->number = g_ascii_strtod (copy, NULL);
  if (integral)
    {
      errno = 0;
      node->integer = g_ascii_strtoll (copy, &end, 10);
      node->is_int = (errno == 0 && end != NULL && *end == '\0');
    }
  node->string = g_steal_pointer (&copy); /* written back as it was read */
  node->string_len = p->pos - start;
  return TRUE;
}

static int
compare_keys (gconstpointer a, gconstpointer b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

/* Sorting a copy of the key pointers makes the check O(n log n) for objects
 * such as Labels with thousands of members. */
static gboolean
check_duplicates (Parser *p, HutchJsonNode *obj, GError **error)
{
  g_autofree char **sorted = NULL;

  if (obj->n_members < 2)
    return TRUE;
  sorted = g_memdup2 (obj->keys, sizeof (char *) * obj->n_members);
  qsort (sorted, obj->n_members, sizeof (char *), compare_keys);
  for (guint i = 1; i < obj->n_members; i++)
    if (strcmp (sorted[i - 1], sorted[i]) == 0)
      {
        g_autofree char *msg = g_strdup_printf ("duplicate key \"%s\"", sorted[i]);
        return fail_at (p, error, msg);
      }
  return TRUE;
}

static gboolean
parse_container (Parser *p, HutchJsonNode *node, gboolean is_object, GError **error)
{
  g_autoptr (GPtrArray) members = g_ptr_array_new_with_free_func ((GDestroyNotify) hutch_json_node_free);
  g_autoptr (GPtrArray) keys = g_ptr_array_new_with_free_func (g_free);
  char close = is_object ? '}' : ']';

  if (++p->depth > HUTCH_JSON_MAX_DEPTH)
    return fail_at (p, error, "nested too deeply");
  p->pos++;
  skip_space (p);
  if (p->pos < p->len && p->text[p->pos] == close)
    p->pos++;
  else
    for (;;)
      {
        HutchJsonNode *child = NULL;

        skip_space (p);
        if (is_object)
          {
            char *key = NULL;
            gsize key_len;
            if (p->pos >= p->len || p->text[p->pos] != '"')
              return fail_at (p, error, "expected a string key");
            if (!parse_string (p, &key, &key_len, error))
              return FALSE;
            g_ptr_array_add (keys, key);
            skip_space (p);
            if (!expect_word (p, ":", error))
              return FALSE;
          }
        if (!parse_value (p, &child, error))
          return FALSE;
        g_ptr_array_add (members, child);
        skip_space (p);
        if (p->pos < p->len && p->text[p->pos] == ',')
          {
            p->pos++;
            continue;
          }
        if (p->pos < p->len && p->text[p->pos] == close)
          {
            p->pos++;
            break;
          }
        return fail_at (p, error, is_object ? "expected ',' or '}'" : "expected ',' or ']'");
      }
  p->depth--;
  node->type = is_object ? HUTCH_JSON_OBJECT : HUTCH_JSON_ARRAY;
  node->n_members = members->len;
  g_ptr_array_set_free_func (members, NULL);
  node->members = (HutchJsonNode **) g_ptr_array_free (g_steal_pointer (&members), FALSE);
  if (is_object)
    {
      g_ptr_array_set_free_func (keys, NULL);
      node->keys = (char **) g_ptr_array_free (g_steal_pointer (&keys), FALSE);
      return check_duplicates (p, node, error);
    }
  return TRUE;
}

static gboolean
parse_value (Parser *p, HutchJsonNode **out, GError **error)
{
  g_autoptr (HutchJsonNode) node = g_new0 (HutchJsonNode, 1);
  gboolean ok;

  skip_space (p);
  if (p->pos >= p->len)
    return fail_at (p, error, "unexpected end of document");
  switch (p->text[p->pos])
    {
    case '{':
    case '[':
      ok = parse_container (p, node, p->text[p->pos] == '{', error);
      break;
    case '"':
      node->type = HUTCH_JSON_STRING;
      ok = parse_string (p, &node->string, &node->string_len, error);
      break;
    case 't':
    case 'f':
      node->type = HUTCH_JSON_BOOL;
      node->boolean = p->text[p->pos] == 't';
      ok = expect_word (p, node->boolean ? "true" : "false", error);
      break;
    case 'n':
      node->type = HUTCH_JSON_NULL;
      ok = expect_word (p, "null", error);
      break;
    default:
      ok = parse_number (p, node, error);
      break;
    }
  if (!ok)
    return FALSE;
  *out = g_steal_pointer (&node);
  return TRUE;
}

HutchJsonNode *
hutch_json_parse (const char *text, gsize len, GError **error)
{
  Parser p = { text, len, 0, 0 };
  g_autoptr (HutchJsonNode) root = NULL;

  if (len > HUTCH_JSON_MAX_SIZE)
    return hutch_throw (error, HUTCH_ERROR_INVALID_IMAGE,
                        "JSON document of %" G_GSIZE_FORMAT " bytes is over the %d MiB limit",
                        len, HUTCH_JSON_MAX_SIZE >> 20), NULL;
  if (memchr (text, '\0', len) != NULL)
    {
      p.pos = (gsize) ((const char *) memchr (text, '\0', len) - text);
      return fail_at (&p, error, "NUL byte in the document"), NULL;
    }
  if (!parse_value (&p, &root, error))
    return NULL;
  skip_space (&p);
  if (p.pos != len)
    return fail_at (&p, error, "trailing data after the document"), NULL;
  return g_steal_pointer (&root);
}

const HutchJsonNode *
hutch_json_node_member (const HutchJsonNode *obj, const char *key)
{
  if (obj == NULL || obj->type != HUTCH_JSON_OBJECT)
    return NULL;
  for (guint i = 0; i < obj->n_members; i++)
    if (strcmp (obj->keys[i], key) == 0)
      return obj->members[i];
  return NULL;
}

void
hutch_json_write_node (HutchJsonWriter *w, const HutchJsonNode *node)
{
  if (node == NULL)
    {
      hutch_json_string (w, NULL);
      return;
    }
  switch (node->type)
    {
    case HUTCH_JSON_NULL: hutch_json_string (w, NULL); break;
    case HUTCH_JSON_BOOL: hutch_json_bool (w, node->boolean); break;
    case HUTCH_JSON_STRING: hutch_json_string (w, node->string); break;
    case HUTCH_JSON_NUMBER:
      hutch_json_number_text (w, node->string);
      break;
    case HUTCH_JSON_ARRAY:
      hutch_json_begin_array (w);
      for (guint i = 0; i < node->n_members; i++)
        hutch_json_write_node (w, node->members[i]);
      hutch_json_end_array (w);
      break;
    case HUTCH_JSON_OBJECT:
      hutch_json_begin_object (w);
      for (guint i = 0; i < node->n_members; i++)
        {
          hutch_json_key (w, node->keys[i]);
          hutch_json_write_node (w, node->members[i]);
        }
      hutch_json_end_object (w);
      break;
    }
}
