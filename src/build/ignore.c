/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Path matching: Go's filepath.Match (COPY's source globs) and the
 * .dockerignore matcher of moby's patternmatcher ("**", "!" exceptions,
 * the last matching pattern decides, a match on a parent directory counts).
 * Both compile a pattern to a few tokens and run them as an NFA, so that
 * no pattern takes more than (pattern × path) steps: a hostile
 * "*a*a*a*…" cannot make a backtracking matcher crawl. Walking the
 * context directory is the executor's business. */
#include "config.h"

#include <string.h>

#include "containerfile.h"
#include "util/util.h"

typedef enum
{
  T_CHAR,
  T_ANY,         /* ? : one character but "/" */
  T_STAR,        /* * : any run without "/" */
  T_CLASS,       /* [a-z], [^…] */
  T_DSTAR_ENTRY, /* "**" then "/" in .dockerignore: nothing, or … */
  T_DSTAR_LOOP,  /* … anything that ends in "/" */
  T_DSTAR_END,   /* "**" at the end in .dockerignore: anything */
} TokenKind;

typedef struct
{
  TokenKind kind;
  gunichar c;
  gboolean negated;
  guint first_range; /* in Pattern.ranges, pairs of lo, hi */
  guint n_ranges;
} Token;

typedef struct
{
  GArray *tokens; /* Token */
  GArray *ranges; /* gunichar */
} Pattern;

/* A byte that is not UTF-8 is a character of its own, unlike any other. */
#define RAW_BYTE_BASE 0x110000

static gunichar
next_char (const char **s)
{
  gunichar c = g_utf8_get_char_validated (*s, -1);

  if (c == (gunichar) -1 || c == (gunichar) -2)
    {
      c = RAW_BYTE_BASE + (guchar) **s;
      *s += 1;
      return c;
    }
  *s = g_utf8_next_char (*s);
  return c;
}

static void
pattern_clear (Pattern *p)
{
  g_clear_pointer (&p->tokens, g_array_unref);
  g_clear_pointer (&p->ranges, g_array_unref);
}

static void
add_token (Pattern *p, TokenKind kind, gunichar c)
{
  Token t = { kind, c, FALSE, 0, 0 };
  g_array_append_val (p->tokens, t);
}

/* Go's getEsc: one character of a class, maybe escaped. */
static gboolean
class_char (const char **s, gunichar *out)
{
  if (**s == '\0' || **s == '-' || **s == ']')
    return FALSE;
  if (**s == '\\')
    {
      (*s)++;
      if (**s == '\0')
        return FALSE;
    }
  *out = next_char (s);
  return **s != '\0';
}

/* At "[": the class up to its "]", as Go's matchChunk reads it. */
static gboolean
compile_class (Pattern *p, const char **s)
{
  Token t = { T_CLASS, 0, FALSE, p->ranges->len, 0 };

  (*s)++;
  if (**s == '^')
    {
      t.negated = TRUE;
      (*s)++;
    }
  for (;;)
    {
      gunichar lo, hi;

      if (**s == ']' && t.n_ranges > 0)
        {
          (*s)++;
          break;
        }
      if (!class_char (s, &lo))
        return FALSE;
      hi = lo;
      if (**s == '-')
        {
          (*s)++;
          if (!class_char (s, &hi))
            return FALSE;
        }
      g_array_append_val (p->ranges, lo);
      g_array_append_val (p->ranges, hi);
      t.n_ranges++;
    }
  g_array_append_val (p->tokens, t);
  return TRUE;
}

/* @dockerignore: "**" is moby's (any directories), not two stars. */
static gboolean
compile (const char *pattern, gboolean dockerignore, Pattern *p)
{
  const char *s = pattern;

  p->tokens = g_array_new (FALSE, FALSE, sizeof (Token));
  p->ranges = g_array_new (FALSE, FALSE, sizeof (gunichar));
  while (*s != '\0')
    {
      if (*s == '*' && dockerignore && s[1] == '*')
        {
          s += 2;
          if (*s == '/')
            s++;
          if (*s == '\0')
            add_token (p, T_DSTAR_END, 0);
          else
            {
              add_token (p, T_DSTAR_ENTRY, 0);
              add_token (p, T_DSTAR_LOOP, 0);
            }
        }
      else if (*s == '*')
        {
          add_token (p, T_STAR, 0);
          s++;
        }
      else if (*s == '?')
        {
          add_token (p, T_ANY, 0);
          s++;
        }
      else if (*s == '[')
        {
          if (!compile_class (p, &s))
            return FALSE;
        }
      else
        {
          if (*s == '\\')
            {
              s++;
              if (*s == '\0')
                return FALSE;
            }
          add_token (p, T_CHAR, next_char (&s));
        }
    }
  return TRUE;
}

static gboolean
class_matches (const Pattern *p, const Token *t, gunichar c)
{
  gboolean in = FALSE;

  for (guint i = 0; i < t->n_ranges && !in; i++)
    {
      gunichar lo = g_array_index (p->ranges, gunichar, t->first_range + 2 * i);
      gunichar hi = g_array_index (p->ranges, gunichar, t->first_range + 2 * i + 1);
      in = lo <= c && c <= hi;
    }
  return in != t->negated;
}

/* The states reachable from the active ones without a character; every
 * such move goes forward, so one pass is enough. */
static void
closure (const Pattern *p, guint8 *active)
{
  guint m = p->tokens->len;

  for (guint i = 0; i < m; i++)
    {
      const Token *t = &g_array_index (p->tokens, Token, i);
      if (!active[i])
        continue;
      if (t->kind == T_STAR || t->kind == T_DSTAR_END || t->kind == T_DSTAR_ENTRY)
        active[i + 1] = 1;
      if (t->kind == T_DSTAR_ENTRY)
        active[i + 2] = 1;
    }
}

static gboolean
run (const Pattern *p, const char *path)
{
  guint m = p->tokens->len;
  g_autofree guint8 *active = g_new0 (guint8, m + 1);
  g_autofree guint8 *next = g_new0 (guint8, m + 1);
  const char *s = path;

  active[0] = 1;
  closure (p, active);
  while (*s != '\0')
    {
      gunichar c = next_char (&s);
      gboolean any = FALSE;

      memset (next, 0, m + 1);
      for (guint i = 0; i < m; i++)
        {
          const Token *t = &g_array_index (p->tokens, Token, i);
          if (!active[i])
            continue;
          switch (t->kind)
            {
            case T_CHAR:
              next[i + 1] |= c == t->c;
              break;
            case T_ANY:
              next[i + 1] |= c != '/';
              break;
            case T_CLASS:
              next[i + 1] |= class_matches (p, t, c);
              break;
            case T_STAR:
              next[i] |= c != '/';
              break;
            case T_DSTAR_LOOP:
              next[i] = 1;
              next[i + 1] |= c == '/';
              break;
            case T_DSTAR_END:
              next[i] = 1;
              break;
            case T_DSTAR_ENTRY:
              break;
            }
        }
      closure (p, next);
      for (guint i = 0; i <= m; i++)
        any |= next[i];
      if (!any)
        return FALSE;
      memcpy (active, next, m + 1);
    }
  return active[m];
}

gboolean
hutch_build_glob_match (const char *pattern, const char *path)
{
  Pattern p = { 0 };
  gboolean matched = compile (pattern, FALSE, &p) && run (&p, path);

  pattern_clear (&p);
  return matched;
}

gboolean
hutch_build_glob_is_pattern (const char *pattern)
{
  /* As docker's containsWildcards: an escaped character is no wildcard. */
  for (const char *s = pattern; *s != '\0'; s++)
    {
      if (*s == '\\' && s[1] != '\0')
        s++;
      else if (*s == '*' || *s == '?' || *s == '[')
        return TRUE;
    }
  return FALSE;
}

/* ---- .dockerignore ---- */

typedef struct
{
  Pattern pattern;
  gboolean exception;
} IgnorePattern;

struct HutchBuildIgnore
{
  GArray *patterns; /* IgnorePattern */
  gboolean has_exceptions;
};

void
hutch_build_ignore_free (HutchBuildIgnore *ignore)
{
  if (ignore == NULL)
    return;
  for (guint i = 0; i < ignore->patterns->len; i++)
    pattern_clear (&g_array_index (ignore->patterns, IgnorePattern, i).pattern);
  g_array_unref (ignore->patterns);
  g_free (ignore);
}

/* Go's path.Clean: no empty or "." components, ".." folded, "/" kept
 * in front. */
static char *
clean_path (const char *path)
{
  gboolean rooted = path[0] == '/';
  g_auto (GStrv) parts = g_strsplit (path, "/", -1);
  g_autoptr (GPtrArray) out = g_ptr_array_new ();
  g_autoptr (GString) joined = g_string_new (rooted ? "/" : "");

  for (gsize i = 0; parts[i] != NULL; i++)
    {
      const char *part = parts[i];
      if (part[0] == '\0' || strcmp (part, ".") == 0)
        continue;
      if (strcmp (part, "..") == 0)
        {
          if (out->len > 0 && strcmp (g_ptr_array_index (out, out->len - 1), "..") != 0)
            g_ptr_array_set_size (out, out->len - 1);
          else if (!rooted)
            g_ptr_array_add (out, (gpointer) part);
          continue;
        }
      g_ptr_array_add (out, (gpointer) part);
    }
  for (guint i = 0; i < out->len; i++)
    {
      if (i > 0)
        g_string_append_c (joined, '/');
      g_string_append (joined, g_ptr_array_index (out, i));
    }
  if (joined->len == 0)
    g_string_append_c (joined, '.');
  return g_string_free (g_steal_pointer (&joined), FALSE);
}

/* One line of a .dockerignore, as moby's ReadAll and NewPatternMatcher
 * take it; FALSE when it holds no pattern. */
static gboolean
add_line (HutchBuildIgnore *ignore, const char *line, guint lineno, GError **error)
{
  g_autofree char *text = NULL;
  g_autofree char *cleaned = NULL;
  const char *s;
  IgnorePattern ip = { { 0 }, FALSE };
  Pattern check = { 0 };
  gboolean valid;

  /* Only a "#" in the first column starts a comment. */
  if (line[0] == '#')
    return TRUE;
  text = g_strstrip (g_strdup (line));
  s = text;
  if (*s == '\0')
    return TRUE;
  if (*s == '!')
    {
      ip.exception = TRUE;
      s++;
      while (g_ascii_isspace (*s))
        s++;
      if (*s == '\0')
        return hutch_throw (error, HUTCH_ERROR_USAGE,
                            ".dockerignore:%u: illegal exclusion pattern: \"%s\"", lineno, line);
    }
  cleaned = clean_path (s);
  if (cleaned[0] == '/' && cleaned[1] != '\0')
    memmove (cleaned, cleaned + 1, strlen (cleaned));

  /* Docker checks each pattern with filepath.Match before using it. */
  valid = compile (cleaned, FALSE, &check);
  pattern_clear (&check);
  if (!valid || !compile (cleaned, TRUE, &ip.pattern))
    {
      pattern_clear (&ip.pattern);
      return hutch_throw (error, HUTCH_ERROR_USAGE, ".dockerignore:%u: syntax error in pattern: \"%s\"",
                          lineno, line);
    }
  ignore->has_exceptions |= ip.exception;
  g_array_append_val (ignore->patterns, ip);
  return TRUE;
}

HutchBuildIgnore *
hutch_build_ignore_parse (const char *text, gsize len, GError **error)
{
  g_autoptr (HutchBuildIgnore) ignore = g_new0 (HutchBuildIgnore, 1);
  g_autofree char *copy = NULL;
  g_auto (GStrv) lines = NULL;
  char *first;

  ignore->patterns = g_array_new (FALSE, FALSE, sizeof (IgnorePattern));
  if (memchr (text, '\0', len) != NULL)
    return hutch_throw (error, HUTCH_ERROR_USAGE, ".dockerignore holds a NUL byte"), NULL;
  copy = g_strndup (text, len);
  lines = g_strsplit (copy, "\n", -1);
  first = lines[0];
  if (first != NULL && g_str_has_prefix (first, "\xEF\xBB\xBF"))
    memmove (first, first + 3, strlen (first + 3) + 1);
  for (guint i = 0; lines[i] != NULL; i++)
    if (!add_line (ignore, lines[i], i + 1, error))
      return NULL;
  return g_steal_pointer (&ignore);
}

gboolean
hutch_build_ignore_has_exceptions (const HutchBuildIgnore *ignore)
{
  return ignore->has_exceptions;
}

/* @path, or one of its parent directories ("a", then "a/b" for "a/b/c"). */
static gboolean
matches_or_parent (const Pattern *p, const char *path)
{
  const char *slash;

  if (run (p, path))
    return TRUE;
  for (slash = strchr (path, '/'); slash != NULL; slash = strchr (slash + 1, '/'))
    {
      g_autofree char *parent = g_strndup (path, slash - path);
      if (run (p, parent))
        return TRUE;
    }
  return FALSE;
}

gboolean
hutch_build_ignore_match (const HutchBuildIgnore *ignore, const char *path)
{
  gboolean matched = FALSE;

  for (guint i = 0; i < ignore->patterns->len; i++)
    {
      const IgnorePattern *ip = &g_array_index (ignore->patterns, IgnorePattern, i);

      /* Only a pattern that would change the answer needs running. */
      if (ip->exception != matched)
        continue;
      if (matches_or_parent (&ip->pattern, path))
        matched = !ip->exception;
    }
  return matched;
}
