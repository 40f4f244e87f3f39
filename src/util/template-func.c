/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The functions a --format template may call: Go's text/template's and
 * docker's (json, join, split, lower, upper, title, truncate, pad). */
#include "config.h"

#include <math.h>
#include <string.h>

#include "template-private.h"

typedef gboolean (*FuncImpl) (Value *args, guint n, Value *out, GError **error);

typedef struct
{
  const char *name;
  int min_args;
  int max_args; /* -1: any */
  FuncImpl impl;
} Func;

static gboolean
fail (GError **error, const char *fmt, ...) G_GNUC_PRINTF (2, 3);

static gboolean
fail (GError **error, const char *fmt, ...)
{
  g_autofree char *what = NULL;
  va_list ap;

  va_start (ap, fmt);
  what = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  return hutch_throw (error, HUTCH_ERROR_USAGE, "%s", what), FALSE;
}

static Value
string_value (char *s)
{
  return (Value) { V_STRING, FALSE, 0, 0, s, NULL, NULL };
}

static Value
bool_value (gboolean b)
{
  return (Value) { V_BOOL, b, 0, 0, NULL, NULL, NULL };
}

static char *
text_of (const Value *v)
{
  g_autoptr (GString) s = g_string_new (NULL);

  hutch_tvalue_print (v, s);
  return g_string_free (g_steal_pointer (&s), FALSE);
}

/* text_of() for the functions that walk characters: bytes that are not
 * UTF-8 (a template or a label may carry any) become U+FFFD, as Go's
 * range over a string makes them, instead of being walked past. */
static char *
utf8_of (const Value *v)
{
  g_autofree char *text = text_of (v);

  if (g_utf8_validate (text, -1, NULL))
    return g_steal_pointer (&text);
  return g_utf8_make_valid (text, -1);
}

static gboolean
want_string (const Value *v, const char *what, GError **error)
{
  return v->kind == V_STRING
         || fail (error, "%s wants a string, not a %s", what, hutch_tvalue_kind_name (v));
}

static gboolean
want_int (const Value *v, const char *what, GError **error)
{
  return v->kind == V_INT
         || fail (error, "%s wants an integer, not a %s", what, hutch_tvalue_kind_name (v));
}

static Value
take (Value *v)
{
  Value t = *v;

  *v = (Value) { V_NIL, FALSE, 0, 0, NULL, NULL, NULL };
  return t;
}

/* and: the first false argument, or the last; or: the first true one. */
static gboolean
f_and (Value *a, guint n, Value *out, GError **error)
{
  (void) error;
  for (guint i = 0; i < n - 1; i++)
    if (!hutch_tvalue_truth (&a[i]))
      return *out = take (&a[i]), TRUE;
  return *out = take (&a[n - 1]), TRUE;
}

static gboolean
f_or (Value *a, guint n, Value *out, GError **error)
{
  (void) error;
  for (guint i = 0; i < n - 1; i++)
    if (hutch_tvalue_truth (&a[i]))
      return *out = take (&a[i]), TRUE;
  return *out = take (&a[n - 1]), TRUE;
}

static gboolean
f_not (Value *a, guint n, Value *out, GError **error)
{
  (void) n, (void) error;
  return *out = bool_value (!hutch_tvalue_truth (&a[0])), TRUE;
}

static gboolean
f_len (Value *a, guint n, Value *out, GError **error)
{
  (void) n;
  if (a[0].kind == V_STRING)
    *out = (Value) { V_INT, FALSE, (gint64) strlen (a[0].s), 0, NULL, NULL, NULL };
  else if (a[0].kind == V_NODE)
    *out = (Value) { V_INT, FALSE, a[0].node->n_members, 0, NULL, NULL, NULL };
  else if (a[0].kind == V_LIST)
    *out = (Value) { V_INT, FALSE, a[0].list->len, 0, NULL, NULL, NULL };
  else
    return fail (error, "len of a %s", hutch_tvalue_kind_name (&a[0]));
  return TRUE;
}

/* index X K...: an array's item by number, an object's by key (a key not
 * there gives no value, as a Go map does). */
static gboolean
f_index (Value *a, guint n, Value *out, GError **error)
{
  Value v = take (&a[0]);

  for (guint k = 1; k < n; k++)
    {
      Value next = { V_NIL, FALSE, 0, 0, NULL, NULL, NULL };
      if (v.kind == V_NODE && v.node->type == HUTCH_JSON_ARRAY)
        {
          if (!want_int (&a[k], "index of a list", error))
            return hutch_tvalue_clear (&v), FALSE;
          if (a[k].i < 0 || a[k].i >= v.node->n_members)
            return fail (error, "index out of range: %" G_GINT64_FORMAT " of %u", a[k].i,
                         v.node->n_members),
                   hutch_tvalue_clear (&v), FALSE;
          next = hutch_tvalue_of_node (v.node->members[a[k].i]);
        }
      else if (v.kind == V_LIST)
        {
          if (!want_int (&a[k], "index of a list", error))
            return hutch_tvalue_clear (&v), FALSE;
          if (a[k].i < 0 || a[k].i >= v.list->len)
            return fail (error, "index out of range: %" G_GINT64_FORMAT " of %u", a[k].i,
                         v.list->len),
                   hutch_tvalue_clear (&v), FALSE;
          next = string_value (g_strdup (v.list->pdata[a[k].i]));
        }
      else if (v.kind == V_NODE)
        {
          if (!want_string (&a[k], "index of an object", error))
            return hutch_tvalue_clear (&v), FALSE;
          next = hutch_tvalue_of_node (hutch_json_node_member (v.node, a[k].s));
        }
      else if (v.kind != V_NIL)
        return fail (error, "can't index a %s", hutch_tvalue_kind_name (&v)),
               hutch_tvalue_clear (&v), FALSE;
      hutch_tvalue_clear (&v);
      v = next;
    }
  *out = v;
  return TRUE;
}

/* slice S I [J]: a string's bytes I to J. */
static gboolean
f_slice (Value *a, guint n, Value *out, GError **error)
{
  gint64 len, from = 0, to;

  if (!want_string (&a[0], "slice", error))
    return FALSE;
  len = (gint64) strlen (a[0].s);
  to = len;
  if (n > 1 && !want_int (&a[1], "slice", error))
    return FALSE;
  if (n > 2 && !want_int (&a[2], "slice", error))
    return FALSE;
  if (n > 1)
    from = a[1].i;
  if (n > 2)
    to = a[2].i;
  if (from < 0 || to > len || from > to)
    return fail (error, "slice bounds out of range [%" G_GINT64_FORMAT ":%" G_GINT64_FORMAT
                        "] of %" G_GINT64_FORMAT, from, to, len);
  *out = string_value (g_strndup (a[0].s + from, (gsize) (to - from)));
  return TRUE;
}

/* print: Go's Sprint, a space between operands when neither is a string;
 * println: Sprintln, spaces always and a newline. */
static gboolean
f_print (Value *a, guint n, Value *out, GError **error)
{
  GString *s = g_string_new (NULL);

  (void) error;
  for (guint i = 0; i < n; i++)
    {
      if (i > 0 && a[i].kind != V_STRING && a[i - 1].kind != V_STRING)
        g_string_append_c (s, ' ');
      hutch_tvalue_print (&a[i], s);
    }
  *out = string_value (g_string_free (s, FALSE));
  return TRUE;
}

static gboolean
f_println (Value *a, guint n, Value *out, GError **error)
{
  GString *s = g_string_new (NULL);

  (void) error;
  for (guint i = 0; i < n; i++)
    {
      if (i > 0)
        g_string_append_c (s, ' ');
      hutch_tvalue_print (&a[i], s);
    }
  g_string_append_c (s, '\n');
  *out = string_value (g_string_free (s, FALSE));
  return TRUE;
}

/* printf: Go's verbs %v %s %d %q %x %X %f %e %g %t %c %%, with flags
 * (-+ 0#), width and precision. The C format is made here, of those
 * characters alone and a conversion that matches the argument's type. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
static gboolean
f_printf (Value *a, guint n, Value *out, GError **error)
{
  GString *s = g_string_new (NULL);
  const char *f;
  guint next = 1;

  if (!want_string (&a[0], "printf's format", error))
    return g_string_free (s, TRUE), FALSE;
  for (f = a[0].s; *f != '\0'; f++)
    {
      char spec[32] = "%";
      gsize flags;
      char verb;
      const Value *v;
      if (*f != '%')
        {
          g_string_append_c (s, *f);
          continue;
        }
      f++;
      if (*f == '%')
        {
          g_string_append_c (s, '%');
          continue;
        }
      flags = strspn (f, "-+ 0#");
      flags += strspn (f + flags, "0123456789");
      if (f[flags] == '.')
        flags += 1 + strspn (f + flags + 1, "0123456789");
      if (flags > 20)
        return g_string_free (s, TRUE), fail (error, "printf: a verb's width is too long");
      memcpy (spec + 1, f, flags);
      f += flags;
      verb = *f;
      if (verb == '\0')
        {
          g_string_append (s, "%!(NOVERB)");
          break;
        }
      if (next >= n)
        {
          g_string_append_printf (s, "%%!%c(MISSING)", verb);
          continue;
        }
      v = &a[next++];
      switch (verb)
        {
        case 'd':
        case 'x':
        case 'X':
        case 'c':
          if (v->kind == V_INT)
            {
              if (verb == 'c')
                {
                  char u[8] = "";
                  g_unichar_to_utf8 ((gunichar) v->i, u);
                  g_string_append (s, u);
                }
              else
                {
                  strcat (spec, "ll");
                  strncat (spec, &verb, 1);
                  g_string_append_printf (s, spec, (long long) v->i);
                }
              break;
            }
          if ((verb == 'x' || verb == 'X') && v->kind == V_STRING)
            {
              for (const char *c = v->s; *c != '\0'; c++)
                g_string_append_printf (s, verb == 'x' ? "%02x" : "%02X", (guchar) *c);
              break;
            }
          g_string_append_printf (s, "%%!%c(%s=", verb, hutch_tvalue_kind_name (v));
          hutch_tvalue_print (v, s);
          g_string_append_c (s, ')');
          break;
        case 'f':
        case 'F':
        case 'e':
        case 'E':
        case 'g':
        case 'G':
          if (v->kind == V_INT || v->kind == V_FLOAT)
            {
              strncat (spec, &verb, 1);
              g_string_append_printf (s, spec, v->kind == V_INT ? (double) v->i : v->f);
              break;
            }
          g_string_append_printf (s, "%%!%c(%s=", verb, hutch_tvalue_kind_name (v));
          hutch_tvalue_print (v, s);
          g_string_append_c (s, ')');
          break;
        case 'q':
          {
            g_autofree char *text = text_of (v);
            g_autofree char *quoted = g_strescape (text, NULL);
            g_string_append_printf (s, "\"%s\"", quoted);
            break;
          }
        case 's':
        case 'v':
        case 't':
          {
            g_autofree char *text = text_of (v);
            strcat (spec, "s");
            g_string_append_printf (s, spec, text);
            break;
          }
        default:
          g_string_append_printf (s, "%%!%c(%s=", verb, hutch_tvalue_kind_name (v));
          hutch_tvalue_print (v, s);
          g_string_append_c (s, ')');
          break;
        }
    }
  if (next < n)
    {
      g_string_append (s, "%!(EXTRA ");
      for (guint i = next; i < n; i++)
        {
          g_string_append_printf (s, "%s%s=", i > next ? ", " : "", hutch_tvalue_kind_name (&a[i]));
          hutch_tvalue_print (&a[i], s);
        }
      g_string_append_c (s, ')');
    }
  *out = string_value (g_string_free (s, FALSE));
  return TRUE;
}

#pragma GCC diagnostic pop

/* -1, 0, 1 for @a against @b; FALSE when they cannot be compared. */
static gboolean
compare (const Value *a, const Value *b, int *out, GError **error)
{
  if ((a->kind == V_INT || a->kind == V_FLOAT) && (b->kind == V_INT || b->kind == V_FLOAT))
    {
      double x = a->kind == V_INT ? (double) a->i : a->f;
      double y = b->kind == V_INT ? (double) b->i : b->f;
      if (a->kind == V_INT && b->kind == V_INT)
        *out = a->i < b->i ? -1 : a->i > b->i;
      else
        *out = x < y ? -1 : x > y;
      return TRUE;
    }
  if (a->kind == V_STRING && b->kind == V_STRING)
    {
      int c = strcmp (a->s, b->s);
      *out = c < 0 ? -1 : c > 0;
      return TRUE;
    }
  return fail (error, "incompatible types for comparison: %s and %s", hutch_tvalue_kind_name (a),
               hutch_tvalue_kind_name (b));
}

static gboolean
equal (const Value *a, const Value *b, gboolean *out, GError **error)
{
  int c = 0;

  if (a->kind == V_NIL || b->kind == V_NIL)
    return *out = a->kind == b->kind, TRUE;
  if (a->kind == V_BOOL && b->kind == V_BOOL)
    return *out = !a->b == !b->b, TRUE;
  if (!compare (a, b, &c, error))
    return FALSE;
  *out = c == 0;
  return TRUE;
}

/* eq A B...: whether A equals any of the others. */
static gboolean
f_eq (Value *a, guint n, Value *out, GError **error)
{
  gboolean any = FALSE;

  for (guint i = 1; i < n && !any; i++)
    if (!equal (&a[0], &a[i], &any, error))
      return FALSE;
  *out = bool_value (any);
  return TRUE;
}

static gboolean
f_ne (Value *a, guint n, Value *out, GError **error)
{
  gboolean same = FALSE;

  (void) n;
  if (!equal (&a[0], &a[1], &same, error))
    return FALSE;
  *out = bool_value (!same);
  return TRUE;
}

#define ORDER_FUNC(fname, test)                                                                    \
  static gboolean fname (Value *a, guint n, Value *out, GError **error)                            \
  {                                                                                                \
    int c = 0;                                                                                     \
    (void) n;                                                                                      \
    if (!compare (&a[0], &a[1], &c, error))                                                        \
      return FALSE;                                                                                \
    *out = bool_value (test);                                                                      \
    return TRUE;                                                                                   \
  }
ORDER_FUNC (f_lt, c < 0)
ORDER_FUNC (f_le, c <= 0)
ORDER_FUNC (f_gt, c > 0)
ORDER_FUNC (f_ge, c >= 0)

/* json: the value as compact JSON, as docker's encoder writes it. */
static gboolean
f_json (Value *a, guint n, Value *out, GError **error)
{
  g_autoptr (HutchJsonWriter) w = hutch_json_writer_new (FALSE);

  (void) n, (void) error;
  switch (a[0].kind)
    {
    case V_NIL: hutch_json_string (w, NULL); break;
    case V_BOOL: hutch_json_bool (w, a[0].b); break;
    case V_INT: hutch_json_int (w, a[0].i); break;
    case V_FLOAT: hutch_json_double (w, a[0].f); break;
    case V_STRING: hutch_json_string (w, a[0].s); break;
    case V_NODE: hutch_json_write_node (w, a[0].node); break;
    case V_LIST:
      hutch_json_begin_array (w);
      for (guint i = 0; i < a[0].list->len; i++)
        hutch_json_string (w, a[0].list->pdata[i]);
      hutch_json_end_array (w);
      break;
    }
  *out = string_value (hutch_json_writer_finish (w));
  return TRUE;
}

/* join LIST SEP */
static gboolean
f_join (Value *a, guint n, Value *out, GError **error)
{
  GString *s;

  (void) n;
  if (!want_string (&a[1], "join's separator", error))
    return FALSE;
  if (a[0].kind == V_NIL)
    return *out = string_value (g_strdup ("")), TRUE;
  if (!(a[0].kind == V_LIST || (a[0].kind == V_NODE && a[0].node->type == HUTCH_JSON_ARRAY)))
    return fail (error, "join wants a list, not a %s", hutch_tvalue_kind_name (&a[0]));
  s = g_string_new (NULL);
  for (guint i = 0; i < (a[0].kind == V_LIST ? a[0].list->len : a[0].node->n_members); i++)
    {
      if (i > 0)
        g_string_append (s, a[1].s);
      if (a[0].kind == V_LIST)
        g_string_append (s, a[0].list->pdata[i]);
      else
        {
          Value item = hutch_tvalue_of_node (a[0].node->members[i]);
          hutch_tvalue_print (&item, s);
          hutch_tvalue_clear (&item);
        }
    }
  *out = string_value (g_string_free (s, FALSE));
  return TRUE;
}

/* split S SEP */
static gboolean
f_split (Value *a, guint n, Value *out, GError **error)
{
  g_auto (GStrv) parts = NULL;
  g_autofree char *chars = NULL;
  GPtrArray *list;

  (void) n;
  if (!want_string (&a[0], "split", error) || !want_string (&a[1], "split's separator", error))
    return FALSE;
  list = g_ptr_array_new_with_free_func (g_free);
  if (a[1].s[0] == '\0')
    for (const char *c = chars = utf8_of (&a[0]); *c != '\0'; c = g_utf8_next_char (c))
      g_ptr_array_add (list, g_strndup (c, (gsize) (g_utf8_next_char (c) - c)));
  else
    {
      parts = g_strsplit (a[0].s, a[1].s, -1);
      for (guint i = 0; parts[i] != NULL; i++)
        g_ptr_array_add (list, g_strdup (parts[i]));
    }
  *out = (Value) { V_LIST, FALSE, 0, 0, NULL, NULL, list };
  return TRUE;
}

static gboolean
f_lower (Value *a, guint n, Value *out, GError **error)
{
  g_autofree char *text = utf8_of (&a[0]);

  (void) n, (void) error;
  *out = string_value (g_utf8_strdown (text, -1));
  return TRUE;
}

static gboolean
f_upper (Value *a, guint n, Value *out, GError **error)
{
  g_autofree char *text = utf8_of (&a[0]);

  (void) n, (void) error;
  *out = string_value (g_utf8_strup (text, -1));
  return TRUE;
}

/* title: the first letter of each word upper case. */
static gboolean
f_title (Value *a, guint n, Value *out, GError **error)
{
  g_autofree char *text = utf8_of (&a[0]);
  GString *s = g_string_new (NULL);
  gboolean start = TRUE;

  (void) n, (void) error;
  for (const char *c = text; *c != '\0'; c = g_utf8_next_char (c))
    {
      gunichar u = g_utf8_get_char (c);
      g_string_append_unichar (s, start ? g_unichar_totitle (u) : u);
      start = g_unichar_isspace (u) || g_unichar_ispunct (u);
    }
  *out = string_value (g_string_free (s, FALSE));
  return TRUE;
}

/* truncate S N: the first N characters. */
static gboolean
f_truncate (Value *a, guint n, Value *out, GError **error)
{
  g_autofree char *text = utf8_of (&a[0]);

  (void) n;
  if (!want_int (&a[1], "truncate's length", error))
    return FALSE;
  if (a[1].i < 0)
    return fail (error, "truncate's length is negative");
  if ((gint64) g_utf8_strlen (text, -1) <= a[1].i)
    *out = string_value (g_steal_pointer (&text));
  else
    *out = string_value (g_utf8_substring (text, 0, (glong) a[1].i));
  return TRUE;
}

/* pad S BEFORE AFTER: spaces either side. */
static gboolean
f_pad (Value *a, guint n, Value *out, GError **error)
{
  g_autofree char *text = text_of (&a[0]);

  (void) n;
  if (!want_int (&a[1], "pad", error) || !want_int (&a[2], "pad", error))
    return FALSE;
  if (a[1].i < 0 || a[2].i < 0 || a[1].i > 4096 || a[2].i > 4096)
    return fail (error, "pad wants counts from 0 to 4096");
  *out = string_value (g_strdup_printf ("%*s%s%*s", (int) a[1].i, "", text, (int) a[2].i, ""));
  return TRUE;
}

static const Func funcs[] = {
  { "and", 1, -1, f_and },         { "or", 1, -1, f_or },           { "not", 1, 1, f_not },
  { "len", 1, 1, f_len },          { "index", 1, -1, f_index },     { "slice", 1, 3, f_slice },
  { "print", 0, -1, f_print },     { "println", 0, -1, f_println }, { "printf", 1, -1, f_printf },
  { "eq", 2, -1, f_eq },           { "ne", 2, 2, f_ne },            { "lt", 2, 2, f_lt },
  { "le", 2, 2, f_le },            { "gt", 2, 2, f_gt },            { "ge", 2, 2, f_ge },
  { "json", 1, 1, f_json },        { "join", 2, 2, f_join },        { "split", 2, 2, f_split },
  { "lower", 1, 1, f_lower },      { "upper", 1, 1, f_upper },      { "title", 1, 1, f_title },
  { "truncate", 2, 2, f_truncate }, { "pad", 3, 3, f_pad },
};

static const Func *
find (const char *name)
{
  for (gsize i = 0; i < G_N_ELEMENTS (funcs); i++)
    if (strcmp (funcs[i].name, name) == 0)
      return &funcs[i];
  return NULL;
}

gboolean
hutch_template_func_known (const char *name)
{
  return find (name) != NULL;
}

gboolean
hutch_template_func_call (const char *name, Value *args, guint n, Value *out, GError **error)
{
  const Func *f = find (name);

  if (f == NULL)
    return fail (error, "function \"%s\" not defined", name);
  if ((int) n < f->min_args || (f->max_args >= 0 && (int) n > f->max_args))
    {
      if (f->min_args == f->max_args)
        return fail (error, "wrong number of args for %s: want %d got %u", name, f->min_args, n);
      return fail (error, "wrong number of args for %s: want at least %d got %u", name,
                   f->min_args, n);
    }
  *out = (Value) { V_NIL, FALSE, 0, 0, NULL, NULL, NULL };
  return f->impl (args, n, out, error);
}
