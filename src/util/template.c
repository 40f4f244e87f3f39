/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Go's text/template, the part docker's --format uses, over our JSON
 * values: what a user copies from docker's documentation runs here as it
 * does there. Parsed into a tree once, executed per row. What it knows:
 * text, {{- -}} trimming, comments, pipelines with |, fields (.A.B, $x.A),
 * variables ($x := …, range $i, $v := …), if/else if/else, range/else,
 * with/else, parentheses, string/raw/number/bool/nil literals, and the
 * functions of text/template (and, or, not, len, index, slice, print,
 * printf, println, eq, ne, lt, le, gt, ge) and of docker (json, join,
 * split, lower, upper, title, truncate, pad). A missing field is an error
 * that lists the fields there are, as the user cannot see the type. */
#include "config.h"

#include <string.h>

#include "template-private.h"

static gboolean
parse_fail (Parser *p, const char *at, GError **error, const char *fmt, ...) G_GNUC_PRINTF (4, 5);

static gboolean
parse_fail (Parser *p, const char *at, GError **error, const char *fmt, ...)
{
  g_autofree char *what = NULL;
  g_autofree char *near = NULL;
  va_list ap;
  int line = 1, col = 1;

  for (const char *c = p->text; c < at && *c != '\0'; c++)
    if (*c == '\n')
      line++, col = 1;
    else
      col++;
  va_start (ap, fmt);
  what = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  near = g_strndup (at, strcspn (at, "\n"));
  if (strlen (near) > 24)
    strcpy (near + 21, "...");
  return hutch_throw (error, HUTCH_ERROR_USAGE, "template:%d:%d: %s, at \"%s\"", line, col, what,
                      near),
         FALSE;
}

void
hutch_tnode_free (TNode *n)
{
  while (n != NULL)
    {
      TNode *next = n->next;
      g_free (n->text);
      g_strfreev (n->fields);
      g_free (n->var);
      g_free (n->var2);
      hutch_tnode_free (n->args);
      hutch_tnode_free (n->pipe);
      hutch_tnode_free (n->body);
      hutch_tnode_free (n->alt);
      g_free (n);
      n = next;
    }
}

static TNode *
tnode_new (TNodeKind kind, const char *at)
{
  TNode *n = g_new0 (TNode, 1);

  n->kind = kind;
  n->at = at;
  return n;
}

static void
skip_space (Parser *p)
{
  while (*p->pos == ' ' || *p->pos == '\t' || *p->pos == '\n' || *p->pos == '\r')
    p->pos++;
}

/* At the end of the action: "}}" or " -}}". */
static gboolean
at_close (Parser *p)
{
  return g_str_has_prefix (p->pos, "}}") || g_str_has_prefix (p->pos, "-}}");
}

static gboolean
ident_char (char c)
{
  return g_ascii_isalnum (c) || c == '_';
}

static char *
take_ident (Parser *p)
{
  const char *start = p->pos;

  while (ident_char (*p->pos))
    p->pos++;
  return g_strndup (start, (gsize) (p->pos - start));
}

/* "$name" (or "$" alone), past the "$". */
static char *
take_var (Parser *p)
{
  g_autofree char *name = take_ident (p);

  return g_strconcat ("$", name, NULL);
}

/* ".A.B" after a term: the field chain, or NULL. */
static char **
take_fields (Parser *p)
{
  g_autoptr (GPtrArray) f = g_ptr_array_new_with_free_func (g_free);

  while (*p->pos == '.' && ident_char (p->pos[1]) && !g_ascii_isdigit (p->pos[1]))
    {
      p->pos++;
      g_ptr_array_add (f, take_ident (p));
    }
  if (f->len == 0)
    return NULL;
  g_ptr_array_add (f, NULL);
  return (char **) g_ptr_array_free (g_steal_pointer (&f), FALSE);
}

static gboolean
take_string (Parser *p, TNode *n, GError **error)
{
  GString *s = g_string_new (NULL);
  char quote = *p->pos++;

  while (*p->pos != quote)
    {
      char c = *p->pos;
      if (c == '\0' || (c == '\n' && quote == '"'))
        return g_string_free (s, TRUE), parse_fail (p, n->at, error, "unterminated string");
      if (c == '\\' && quote == '"')
        {
          p->pos++;
          switch (*p->pos)
            {
            case 'n': c = '\n'; break;
            case 't': c = '\t'; break;
            case 'r': c = '\r'; break;
            case '\\': c = '\\'; break;
            case '"': c = '"'; break;
            default:
              return g_string_free (s, TRUE),
                     parse_fail (p, p->pos - 1, error, "unknown escape in a string");
            }
        }
      g_string_append_c (s, c);
      p->pos++;
    }
  p->pos++;
  n->text = g_string_free (s, FALSE);
  return TRUE;
}

static TNode *parse_pipeline (Parser *p, gboolean in_parens, GError **error);

/* One operand: a field chain, a variable, a literal, a function name or a
 * parenthesised pipeline (with fields after it). */
static TNode *
parse_term (Parser *p, GError **error)
{
  const char *at = p->pos;
  g_autoptr (TNode) n = NULL;
  char c = *p->pos;

  if (c == '.')
    {
      n = tnode_new (T_FIELD, at);
      n->fields = take_fields (p);
      if (n->fields == NULL)
        p->pos++; /* "." alone: dot */
    }
  else if (c == '$')
    {
      n = tnode_new (T_VAR, at);
      p->pos++;
      n->var = take_var (p);
      n->fields = take_fields (p);
    }
  else if (c == '"' || c == '`')
    {
      n = tnode_new (T_STRING, at);
      if (!take_string (p, n, error))
        return NULL;
    }
  else if (g_ascii_isdigit (c) || ((c == '-' || c == '+') && g_ascii_isdigit (p->pos[1])))
    {
      char *end = NULL;
      gint64 i = g_ascii_strtoll (p->pos, &end, 10);
      n = tnode_new (T_NUMBER, at);
      if (*end == '.' || *end == 'e' || *end == 'E')
        {
          n->number = g_ascii_strtod (p->pos, &end);
          n->is_float = TRUE;
        }
      else
        n->integer = i, n->number = (double) i;
      p->pos = end;
    }
  else if (c == '(')
    {
      p->pos++;
      n = tnode_new (T_PAREN, at);
      if (++p->depth > HUTCH_TEMPLATE_MAX_DEPTH)
        return parse_fail (p, at, error, "nested too deeply"), NULL;
      n->pipe = parse_pipeline (p, TRUE, error);
      p->depth--;
      if (n->pipe == NULL)
        return NULL;
      n->fields = take_fields (p);
    }
  else if (g_ascii_isalpha (c) || c == '_')
    {
      g_autofree char *id = take_ident (p);
      if (strcmp (id, "true") == 0 || strcmp (id, "false") == 0)
        {
          n = tnode_new (T_BOOL, at);
          n->boolean = id[0] == 't';
        }
      else if (strcmp (id, "nil") == 0)
        n = tnode_new (T_NIL, at);
      else
        {
          if (!hutch_template_func_known (id))
            return parse_fail (p, at, error, "function \"%s\" not defined", id), NULL;
          n = tnode_new (T_FUNC, at);
          n->text = g_steal_pointer (&id);
        }
    }
  else
    return parse_fail (p, at, error, "unexpected \"%c\" in operand", c), NULL;
  if (*p->pos != '\0' && !g_ascii_isspace (*p->pos) && *p->pos != ')' && *p->pos != '|'
      && !at_close (p))
    return parse_fail (p, p->pos, error, "unexpected \"%c\" in operand", *p->pos), NULL;
  return g_steal_pointer (&n);
}

/* command ('|' command)*, up to "}}" (or ")" with @in_parens). */
static TNode *
parse_pipeline (Parser *p, gboolean in_parens, GError **error)
{
  g_autoptr (TNode) pipe = tnode_new (T_PIPE, p->pos);
  TNode **cmd_tail = &pipe->args;

  for (;;)
    {
      g_autoptr (TNode) cmd = tnode_new (T_CMD, p->pos);
      TNode **arg_tail = &cmd->args;
      for (;;)
        {
          TNode *t;
          skip_space (p);
          if (*p->pos == '|' || (in_parens && *p->pos == ')') || (!in_parens && at_close (p)))
            break;
          if (*p->pos == '\0')
            return parse_fail (p, pipe->at, error, "unclosed action"), NULL;
          if (!in_parens && *p->pos == ')')
            return parse_fail (p, p->pos, error, "unexpected right paren"), NULL;
          t = parse_term (p, error);
          if (t == NULL)
            return NULL;
          *arg_tail = t;
          arg_tail = &t->next;
        }
      if (cmd->args == NULL)
        return parse_fail (p, p->pos, error, "missing command"), NULL;
      *cmd_tail = g_steal_pointer (&cmd);
      cmd_tail = &(*cmd_tail)->next;
      if (*p->pos != '|')
        break;
      p->pos++;
    }
  if (in_parens)
    p->pos++; /* ")" */
  return g_steal_pointer (&pipe);
}

/* "$x :=" or "$i, $v :=" before a pipeline (@two: range's pair). */
static gboolean
parse_decl (Parser *p, TNode *n, gboolean two, GError **error)
{
  const char *save = p->pos;
  g_autofree char *a = NULL;
  g_autofree char *b = NULL;

  skip_space (p);
  if (*p->pos != '$')
    return p->pos = save, TRUE;
  p->pos++;
  a = take_var (p);
  skip_space (p);
  if (two && *p->pos == ',')
    {
      p->pos++;
      skip_space (p);
      if (*p->pos != '$')
        return parse_fail (p, p->pos, error, "expected a variable after \",\"");
      p->pos++;
      b = take_var (p);
      skip_space (p);
    }
  if (!g_str_has_prefix (p->pos, ":=") && !(b == NULL && g_str_has_prefix (p->pos, "=")))
    return p->pos = save, TRUE; /* "$x.Field": a term, not a declaration */
  p->pos += *p->pos == ':' ? 2 : 1;
  if (b != NULL)
    n->var = g_steal_pointer (&a), n->var2 = g_steal_pointer (&b);
  else if (two)
    n->var2 = g_steal_pointer (&a);
  else
    n->var = g_steal_pointer (&a);
  return TRUE;
}

/* Past "}}", trimming the text after it with " -}}". */
static gboolean
close_action (Parser *p, GError **error)
{
  skip_space (p);
  if (g_str_has_prefix (p->pos, "-}}"))
    {
      p->pos += 3;
      p->trim_next = TRUE;
      return TRUE;
    }
  if (g_str_has_prefix (p->pos, "}}"))
    {
      p->pos += 2;
      return TRUE;
    }
  if (*p->pos == '\0')
    return parse_fail (p, p->pos, error, "unclosed action");
  return parse_fail (p, p->pos, error, "unexpected \"%c\" in command", *p->pos);
}

static TNode *parse_list (Parser *p, const char **out_end, GError **error);

/* if/range/with: the pipeline, the body, an else part and "end". */
static TNode *
parse_control (Parser *p, TNodeKind kind, const char *at, GError **error)
{
  g_autoptr (TNode) n = tnode_new (kind, at);
  const char *end = NULL;

  if (++p->depth > HUTCH_TEMPLATE_MAX_DEPTH)
    return parse_fail (p, at, error, "nested too deeply"), NULL;
  if (kind != T_IF && !parse_decl (p, n, kind == T_RANGE, error))
    return NULL;
  if (kind == T_IF && !parse_decl (p, n, FALSE, error))
    return NULL;
  n->pipe = parse_pipeline (p, FALSE, error);
  if (n->pipe == NULL || !close_action (p, error))
    return NULL;
  n->body = parse_list (p, &end, error);
  if (n->body == NULL && error != NULL && *error != NULL)
    return NULL;
  if (end == NULL)
    return parse_fail (p, at, error, "unexpected EOF: no {{end}} for this"), NULL;
  if (strcmp (end, "else") == 0)
    {
      n->alt = parse_list (p, &end, error);
      if (n->alt == NULL && error != NULL && *error != NULL)
        return NULL;
      if (end == NULL || strcmp (end, "end") != 0)
        return parse_fail (p, at, error, "expected {{end}} after {{else}}"), NULL;
    }
  else if (strcmp (end, "else if") == 0)
    {
      n->alt = parse_control (p, T_IF, p->pos, error);
      if (n->alt == NULL)
        return NULL;
    }
  p->depth--;
  return g_steal_pointer (&n);
}

/* Nodes up to the end of the text, or up to {{else}}, {{else if …}} or
 * {{end}}, which @out_end names (NULL at the end of the text). */
static TNode *
parse_list (Parser *p, const char **out_end, GError **error)
{
  TNode *head = NULL, **tail = &head;

  *out_end = NULL;
  while (*p->pos != '\0')
    {
      const char *open = strstr (p->pos, "{{");
      const char *text_end = open != NULL ? open : p->pos + strlen (p->pos);
      gboolean trim_before = open != NULL && open[2] == '-'
                             && (open[3] == ' ' || open[3] == '\t' || open[3] == '\n');
      const char *start = p->pos;
      const char *stop = text_end;
      TNode *n = NULL;
      if (p->trim_next)
        while (start < stop && g_ascii_isspace (*start))
          start++;
      p->trim_next = FALSE;
      if (trim_before)
        while (stop > start && g_ascii_isspace (stop[-1]))
          stop--;
      if (stop > start)
        {
          n = tnode_new (T_TEXT, start);
          n->text = g_strndup (start, (gsize) (stop - start));
          *tail = n;
          tail = &n->next;
        }
      if (open == NULL)
        {
          p->pos = text_end;
          break;
        }
      p->pos = open + (trim_before ? 3 : 2);
      skip_space (p);
      if (g_str_has_prefix (p->pos, "/*"))
        {
          const char *close = strstr (p->pos, "*/");
          if (close == NULL)
            return hutch_tnode_free (head), parse_fail (p, open, error, "unclosed comment"), NULL;
          p->pos = close + 2;
          if (!close_action (p, error))
            return hutch_tnode_free (head), NULL;
          continue;
        }
      if (ident_char (*p->pos))
        {
          const char *save = p->pos;
          g_autofree char *word = take_ident (p);
          TNodeKind kind = strcmp (word, "if") == 0      ? T_IF
                           : strcmp (word, "range") == 0 ? T_RANGE
                           : strcmp (word, "with") == 0  ? T_WITH
                                                          : T_TEXT;
          if (strcmp (word, "end") == 0 || strcmp (word, "else") == 0)
            {
              gboolean elif = FALSE;
              if (word[0] == 'e' && word[1] == 'l')
                {
                  const char *s2 = p->pos;
                  skip_space (p);
                  if (g_str_has_prefix (p->pos, "if") && !ident_char (p->pos[2]))
                    p->pos += 2, elif = TRUE;
                  else
                    p->pos = s2;
                }
              if (!elif && !close_action (p, error))
                return hutch_tnode_free (head), NULL;
              *out_end = elif ? "else if" : word[1] == 'n' ? "end" : "else";
              return head;
            }
          if (kind != T_TEXT)
            {
              n = parse_control (p, kind, open, error);
              if (n == NULL)
                return hutch_tnode_free (head), NULL;
              *tail = n;
              tail = &n->next;
              continue;
            }
          p->pos = save;
        }
      n = tnode_new (T_ACTION, open);
      *tail = n;
      tail = &n->next;
      if (!parse_decl (p, n, FALSE, error))
        return hutch_tnode_free (head), NULL;
      n->pipe = parse_pipeline (p, FALSE, error);
      if (n->pipe == NULL || !close_action (p, error))
        return hutch_tnode_free (head), NULL;
    }
  return head;
}

HutchTemplate *
hutch_template_parse (const char *text, GError **error)
{
  g_autoptr (HutchTemplate) t = g_new0 (HutchTemplate, 1);
  Parser p = { text, text, FALSE, 0 };
  const char *end = NULL;
  GError *local = NULL;

  t->root = parse_list (&p, &end, &local);
  if (local != NULL)
    return g_propagate_error (error, local), NULL;
  if (end != NULL)
    return parse_fail (&p, p.pos, error, "unexpected {{%s}}", end), NULL;
  return g_steal_pointer (&t);
}

void
hutch_template_free (HutchTemplate *t)
{
  if (t == NULL)
    return;
  hutch_tnode_free (t->root);
  g_free (t);
}
