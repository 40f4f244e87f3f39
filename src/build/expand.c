/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Variable expansion as docker's shell lexer (moby's shell/lex.go,
 * ProcessWord and ProcessWords) does it for ENV, COPY, WORKDIR and the
 * rest: $V, ${V}, the ${V:-w} family, quotes and the escape character; and
 * the name=value pairs of ENV, LABEL and ARG. Not a shell: no command
 * substitution, no globbing, no arithmetic. The lookup is the caller's. */
#include "config.h"

#include <string.h>

#include "build-private.h"
#include "util/util.h"

/* ${a:-${b:-${c:-…}}} recurses once a level; docker has no limit, but a
 * file of a megabyte of "${a:-" must not exhaust our stack. */
#define MAX_DEPTH 64

typedef struct
{
  const char *text; /* the whole text, for messages */
  const char *s;    /* the next character */
  char escape;
  HutchBuildLookup lookup;
  gpointer data;
  guint depth;
} Lexer;

/* Docker's wordsStruct: the words of ProcessWords. Characters from
 * quotes and escapes are "raw" (never split on); unquoted ones and
 * unquoted variables' values are split at whitespace. Empty words are
 * dropped, as docker drops them. */
typedef struct
{
  GPtrArray *words; /* NULL when only the one word is wanted */
  GString *word;
  gboolean in_word;
} Words;

static gboolean
is_space (char c)
{
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static void
words_raw (Words *w, const char *str, gsize len)
{
  if (w->words == NULL)
    return;
  g_string_append_len (w->word, str, len);
  w->in_word = TRUE;
}

static void
words_char (Words *w, char c)
{
  if (w->words == NULL)
    return;
  if (!is_space (c))
    words_raw (w, &c, 1);
  else if (w->in_word && w->word->len > 0)
    {
      g_ptr_array_add (w->words, g_strdup (w->word->str));
      g_string_truncate (w->word, 0);
      w->in_word = FALSE;
    }
}

static void
words_string (Words *w, const char *str)
{
  for (; *str != '\0'; str++)
    words_char (w, *str);
}

static gboolean
fail (Lexer *lx, GError **error, const char *what)
{
  return hutch_throw (error, HUTCH_ERROR_USAGE, "%s: %s", what, lx->text);
}

static gboolean process_stop_on (Lexer *lx, char stop, GString *out, Words *w, GError **error);

/* Docker's processName: a run of digits, or one special parameter, or
 * letters, digits and "_". */
static char *
process_name (Lexer *lx)
{
  const char *start = lx->s;

  if (g_ascii_isdigit (*lx->s))
    {
      while (g_ascii_isdigit (*lx->s))
        lx->s++;
    }
  else if (*lx->s != '\0' && strchr ("@*#?-$!", *lx->s) != NULL)
    lx->s++;
  else
    while (g_ascii_isalnum (*lx->s) || *lx->s == '_')
      lx->s++;
  return g_strndup (start, lx->s - start);
}

/* The word of ${V:-word} and the like, up to its "}". */
static char *
modifier_word (Lexer *lx, GError **error)
{
  g_autoptr (GString) word = g_string_new (NULL);
  Words none = { 0 };

  if (!process_stop_on (lx, '}', word, &none, error))
    return NULL;
  return g_string_free (g_steal_pointer (&word), FALSE);
}

/* ${name<op>word} after the op character: what it comes to. */
static gboolean
apply_modifier (Lexer *lx, const char *name, char op, gboolean colon, GString *out,
                GError **error)
{
  const char *value = lx->lookup (name, lx->data);
  g_autofree char *word = modifier_word (lx, error);
  gboolean set = value != NULL && (!colon || value[0] != '\0');

  if (word == NULL)
    return FALSE;
  switch (op)
    {
    case '-':
      g_string_append (out, set ? value : word);
      return TRUE;
    case '+':
      if (set)
        g_string_append (out, word);
      return TRUE;
    case '?':
      if (!set)
        {
          g_autofree char *what = g_strdup_printf (
              "%s: %s", name,
              word[0] != '\0' ? word
              : value == NULL ? "is not allowed to be unset"
                              : "is not allowed to be empty");
          return fail (lx, error, what);
        }
      g_string_append (out, value);
      return TRUE;
    default:
      {
        g_autofree char *what = g_strdup_printf ("unsupported modifier (%c) in substitution", op);
        return fail (lx, error, what);
      }
    }
}

/* Docker's processDollar, at a "$". */
static gboolean
process_dollar (Lexer *lx, GString *out, GError **error)
{
  g_autofree char *name = NULL;
  const char *value;
  char op;

  lx->s++;
  if (*lx->s != '{')
    {
      name = process_name (lx);
      if (name[0] == '\0')
        g_string_append_c (out, '$');
      else if ((value = lx->lookup (name, lx->data)) != NULL)
        g_string_append (out, value);
      return TRUE;
    }
  lx->s++;
  if (*lx->s == '\0')
    return fail (lx, error, "syntax error: missing '}'");
  if (*lx->s == '{' || *lx->s == '}' || *lx->s == ':')
    return fail (lx, error, "syntax error: bad substitution");
  name = process_name (lx);
  op = *lx->s;
  if (op == '\0')
    return fail (lx, error, "syntax error: missing '}'");
  lx->s++;
  if (op == '}')
    {
      if ((value = lx->lookup (name, lx->data)) != NULL)
        g_string_append (out, value);
      return TRUE;
    }
  if (op == ':')
    {
      op = *lx->s;
      if (op == '\0')
        return fail (lx, error, "syntax error: missing '}'");
      lx->s++;
      return apply_modifier (lx, name, op, TRUE, out, error);
    }
  if (op == '-' || op == '+' || op == '?')
    return apply_modifier (lx, name, op, FALSE, out, error);
  {
    g_autofree char *what = g_strdup_printf ("unsupported modifier (%c) in substitution", op);
    return fail (lx, error, what);
  }
}

/* Docker's processSingleQuote: everything literal up to the next "'". */
static gboolean
process_single_quote (Lexer *lx, GString *out, GError **error)
{
  const char *end = strchr (lx->s + 1, '\'');

  if (end == NULL)
    return fail (lx, error, "unexpected end of statement while looking for matching single-quote");
  g_string_append_len (out, lx->s + 1, end - lx->s - 1);
  lx->s = end + 1;
  return TRUE;
}

/* Docker's processDoubleQuote: variables expanded; the escape character
 * escapes only '"', '$' and itself, and stays before anything else. */
static gboolean
process_double_quote (Lexer *lx, GString *out, GError **error)
{
  lx->s++;
  for (;;)
    {
      char c = *lx->s;

      if (c == '\0')
        return fail (lx, error,
                     "unexpected end of statement while looking for matching double-quote");
      if (c == '"')
        {
          lx->s++;
          return TRUE;
        }
      if (c == '$')
        {
          if (!process_dollar (lx, out, error))
            return FALSE;
          continue;
        }
      lx->s++;
      if (c == lx->escape)
        {
          char next = *lx->s;
          if (next == '\0')
            continue;
          if (next == '"' || next == '$' || next == lx->escape)
            {
              c = next;
              lx->s++;
            }
        }
      g_string_append_c (out, c);
    }
}

/* Docker's processStopOn: up to @stop ('\0' for the end of the text). */
static gboolean
process_stop_on (Lexer *lx, char stop, GString *out, Words *w, GError **error)
{
  gboolean ok = TRUE;

  if (++lx->depth > MAX_DEPTH)
    return fail (lx, error, "variables nested too deeply");
  while (ok && *lx->s != '\0')
    {
      char c = *lx->s;
      gsize before = out->len;

      if (stop != '\0' && c == stop)
        {
          lx->s++;
          lx->depth--;
          return TRUE;
        }
      if (c == '\'' || c == '"')
        {
          ok = c == '\'' ? process_single_quote (lx, out, error)
                         : process_double_quote (lx, out, error);
          if (ok)
            words_raw (w, out->str + before, out->len - before);
        }
      else if (c == '$')
        {
          ok = process_dollar (lx, out, error);
          if (ok)
            words_string (w, out->str + before);
        }
      else if (c == lx->escape)
        {
          /* The escape character escapes anything; at the very end it is
           * dropped. */
          lx->s++;
          if (*lx->s == '\0')
            break;
          g_string_append_c (out, *lx->s);
          words_raw (w, lx->s, 1);
          lx->s++;
        }
      else
        {
          g_string_append_c (out, c);
          words_char (w, c);
          lx->s++;
        }
    }
  if (!ok)
    return FALSE;
  if (stop != '\0')
    return fail (lx, error, "syntax error: missing '}'");
  lx->depth--;
  return TRUE;
}

char *
hutch_build_expand_word (const char *text, char escape, HutchBuildLookup lookup,
                         gpointer data, GError **error)
{
  Lexer lx = { text, text, escape, lookup, data, 0 };
  g_autoptr (GString) out = g_string_new (NULL);
  Words none = { 0 };

  if (!process_stop_on (&lx, '\0', out, &none, error))
    return NULL;
  return g_string_free (g_steal_pointer (&out), FALSE);
}

char **
hutch_build_expand_words (const char *text, char escape, HutchBuildLookup lookup,
                          gpointer data, GError **error)
{
  Lexer lx = { text, text, escape, lookup, data, 0 };
  g_autoptr (GString) out = g_string_new (NULL);
  g_autoptr (GPtrArray) words = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GString) word = g_string_new (NULL);
  Words w = { words, word, FALSE };

  if (!process_stop_on (&lx, '\0', out, &w, error))
    return NULL;
  if (word->len > 0)
    g_ptr_array_add (words, g_strdup (word->str));
  g_ptr_array_add (words, NULL);
  return (char **) g_ptr_array_free (g_steal_pointer (&words), FALSE);
}

/* ---- raw words and pairs ---- */

char **
hutch_build_split_raw_words (const char *text, char escape)
{
  g_autoptr (GPtrArray) words = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GString) word = g_string_new (NULL);
  gboolean in_word = FALSE;
  gboolean blank_ok = FALSE; /* a quoted empty word is a word */
  char quote = 0;

  for (const char *s = text; *s != '\0'; s++)
    {
      char c = *s;

      if (!in_word && quote == 0)
        {
          if (is_space (c))
            continue;
          in_word = TRUE;
        }
      if (quote == 0)
        {
          if (is_space (c))
            {
              if (blank_ok || word->len > 0)
                g_ptr_array_add (words, g_strdup (word->str));
              g_string_truncate (word, 0);
              in_word = blank_ok = FALSE;
              continue;
            }
          if (c == '\'' || c == '"')
            {
              quote = c;
              blank_ok = TRUE;
            }
          else if (c == escape)
            {
              /* Escape and escaped character both stay, even a quote. */
              if (s[1] == '\0')
                continue;
              g_string_append_c (word, c);
              c = *++s;
            }
          g_string_append_c (word, c);
          continue;
        }
      /* Inside quotes; nothing escapes inside '…'. */
      if (c == quote)
        quote = 0;
      else if (c == escape && quote != '\'')
        {
          if (s[1] == '\0')
            {
              quote = 0;
              continue;
            }
          g_string_append_c (word, c);
          c = *++s;
        }
      g_string_append_c (word, c);
    }
  if (in_word && (blank_ok || word->len > 0))
    g_ptr_array_add (words, g_strdup (word->str));
  g_ptr_array_add (words, NULL);
  return (char **) g_ptr_array_free (g_steal_pointer (&words), FALSE);
}

static gboolean
add_pair (GPtrArray *pairs, const char *key, gsize key_len, const char *value, char escape,
          HutchBuildLookup lookup, gpointer data, const char *args, GError **error)
{
  g_autofree char *raw_key = g_strndup (key, key_len);
  g_autofree char *k = hutch_build_expand_word (raw_key, escape, lookup, data, error);
  g_autofree char *v = NULL;

  if (k == NULL)
    return FALSE;
  if (k[0] == '\0')
    return hutch_throw (error, HUTCH_ERROR_USAGE, "a name can not be blank: %s", args);
  if (value != NULL && (v = hutch_build_expand_word (value, escape, lookup, data, error)) == NULL)
    return FALSE;
  g_ptr_array_add (pairs, g_steal_pointer (&k));
  g_ptr_array_add (pairs, g_steal_pointer (&v));
  return TRUE;
}

/* Docker's parseNameVal (ENV, LABEL) and parseNameOrNameVal (ARG): the
 * raw words are cut at their first "=" before either side is expanded,
 * so a "=" in a variable's value never makes a new pair. */
GPtrArray *
hutch_build_expand_pairs (const char *args, char escape, gboolean legacy_ok, gboolean arg,
                          HutchBuildLookup lookup, gpointer data, GError **error)
{
  g_autoptr (GPtrArray) pairs = g_ptr_array_new_with_free_func (g_free);
  g_auto (GStrv) words = hutch_build_split_raw_words (args, escape);

  if (words[0] == NULL)
    return hutch_throw (error, HUTCH_ERROR_USAGE, "no name=value pair: \"%s\"", args), NULL;

  if (legacy_ok && strchr (words[0], '=') == NULL)
    {
      /* The old "ENV NAME the rest of the line" form. */
      const char *s = args;
      const char *key;

      while (is_space (*s))
        s++;
      key = s;
      while (*s != '\0' && !is_space (*s))
        s++;
      if (*s == '\0')
        return hutch_throw (error, HUTCH_ERROR_USAGE,
                            "\"%s\" must have two arguments (NAME VALUE) or be NAME=VALUE",
                            args),
               NULL;
      {
        gsize key_len = s - key;
        g_autofree char *value = NULL;

        while (is_space (*s))
          s++;
        value = g_strchomp (g_strdup (s));
        if (!add_pair (pairs, key, key_len, value, escape, lookup, data, args, error))
          return NULL;
      }
      return g_steal_pointer (&pairs);
    }

  for (gsize i = 0; words[i] != NULL; i++)
    {
      const char *eq = strchr (words[i], '=');

      if (eq == NULL && !arg)
        return hutch_throw (error, HUTCH_ERROR_USAGE,
                            "can't find = in \"%s\" (it must be of the form name=value)",
                            words[i]),
               NULL;
      if (!add_pair (pairs, words[i], eq != NULL ? (gsize) (eq - words[i]) : strlen (words[i]),
                     eq != NULL ? eq + 1 : NULL, escape, lookup, data, args, error))
        return NULL;
    }
  return g_steal_pointer (&pairs);
}
