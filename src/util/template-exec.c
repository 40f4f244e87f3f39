/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Running a parsed Go template on a JSON value (see template.c). */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "template-private.h"

typedef struct
{
  char *name;
  Value value;
} Var;

typedef struct
{
  GArray *vars; /* of Var: a stack, cut back at the end of each block */
  guint depth;
} Exec;


void
hutch_tvalue_clear (Value *v)
{
  g_free (v->s);
  if (v->list != NULL)
    g_ptr_array_unref (v->list);
  *v = (Value) { V_NIL, FALSE, 0, 0, NULL, NULL, NULL };
}

static Value
value_copy (const Value *v)
{
  Value c = *v;

  c.s = g_strdup (v->s);
  if (v->list != NULL)
    g_ptr_array_ref (v->list);
  return c;
}

Value
hutch_tvalue_of_node (const HutchJsonNode *node)
{
  Value v = { V_NIL, FALSE, 0, 0, NULL, NULL, NULL };

  if (node == NULL)
    return v;
  switch (node->type)
    {
    case HUTCH_JSON_NULL:
      break;
    case HUTCH_JSON_BOOL:
      v.kind = V_BOOL, v.b = node->boolean;
      break;
    case HUTCH_JSON_NUMBER:
      if (node->is_int)
        v.kind = V_INT, v.i = node->integer;
      else
        v.kind = V_FLOAT, v.f = node->number;
      break;
    case HUTCH_JSON_STRING:
      v.kind = V_STRING, v.s = g_strdup (node->string);
      break;
    case HUTCH_JSON_ARRAY:
    case HUTCH_JSON_OBJECT:
      v.kind = V_NODE, v.node = node;
      break;
    }
  return v;
}

const char *
hutch_tvalue_kind_name (const Value *v)
{
  switch (v->kind)
    {
    case V_NIL: return "nil";
    case V_BOOL: return "bool";
    case V_INT: return "int";
    case V_FLOAT: return "float";
    case V_STRING: return "string";
    case V_LIST: return "list";
    case V_NODE: return v->node->type == HUTCH_JSON_ARRAY ? "list" : "object";
    }
  return "?";
}

static void
print_float (double f, GString *out)
{
  char buf[64];

  /* Go's %v: the shortest text that reads back as the same number */
  for (int prec = 1; prec <= 17; prec++)
    {
      g_snprintf (buf, sizeof buf, "%.*g", prec, f);
      if (g_ascii_strtod (buf, NULL) == f)
        break;
    }
  g_string_append (out, buf);
}

static gint
key_order (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

void
hutch_tvalue_print (const Value *v, GString *out)
{
  switch (v->kind)
    {
    case V_NIL:
      g_string_append (out, "<no value>");
      break;
    case V_BOOL:
      g_string_append (out, v->b ? "true" : "false");
      break;
    case V_INT:
      g_string_append_printf (out, "%" G_GINT64_FORMAT, v->i);
      break;
    case V_FLOAT:
      print_float (v->f, out);
      break;
    case V_STRING:
      g_string_append (out, v->s);
      break;
    case V_LIST:
      g_string_append_c (out, '[');
      for (guint i = 0; i < v->list->len; i++)
        g_string_append_printf (out, "%s%s", i > 0 ? " " : "", (char *) v->list->pdata[i]);
      g_string_append_c (out, ']');
      break;
    case V_NODE:
      if (v->node->type == HUTCH_JSON_ARRAY)
        {
          g_string_append_c (out, '[');
          for (guint i = 0; i < v->node->n_members; i++)
            {
              Value item = hutch_tvalue_of_node (v->node->members[i]);
              if (i > 0)
                g_string_append_c (out, ' ');
              hutch_tvalue_print (&item, out);
              hutch_tvalue_clear (&item);
            }
          g_string_append_c (out, ']');
        }
      else
        {
          /* as Go prints a map: keys in order */
          g_autofree char **keys = g_new0 (char *, v->node->n_members + 1);
          if (v->node->n_members > 0) /* (an empty map has no keys array) */
            memcpy (keys, v->node->keys, v->node->n_members * sizeof (char *));
          qsort (keys, v->node->n_members, sizeof (char *), key_order);
          g_string_append (out, "map[");
          for (guint i = 0; i < v->node->n_members; i++)
            {
              Value item = hutch_tvalue_of_node (hutch_json_node_member (v->node, keys[i]));
              g_string_append_printf (out, "%s%s:", i > 0 ? " " : "", keys[i]);
              hutch_tvalue_print (&item, out);
              hutch_tvalue_clear (&item);
            }
          g_string_append_c (out, ']');
        }
      break;
    }
}

gboolean
hutch_tvalue_truth (const Value *v)
{
  switch (v->kind)
    {
    case V_NIL: return FALSE;
    case V_BOOL: return v->b;
    case V_INT: return v->i != 0;
    case V_FLOAT: return v->f != 0;
    case V_STRING: return v->s[0] != '\0';
    case V_LIST: return v->list->len > 0;
    case V_NODE: return v->node->n_members > 0;
    }
  return FALSE;
}

/* The text of the term at @at, for messages: up to a space or the end. */
static char *
term_text (const char *at)
{
  gsize n = strcspn (at, " \t\n|)}");

  return g_strndup (at, MIN (n, 40));
}

static gboolean
exec_fail (const TNode *n, GError **error, const char *fmt, ...) G_GNUC_PRINTF (3, 4);

static gboolean
exec_fail (const TNode *n, GError **error, const char *fmt, ...)
{
  g_autofree char *what = NULL;
  g_autofree char *term = term_text (n->at);
  va_list ap;

  va_start (ap, fmt);
  what = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  return hutch_throw (error, HUTCH_ERROR_USAGE, "template: executing at <%s>: %s", term, what),
         FALSE;
}

static gboolean
walk_fields_once (const TNode *n, Value *v, char **fields, GError **error)
{
  for (guint k = 0; fields != NULL && fields[k] != NULL; k++)
    {
      const HutchJsonNode *m;
      if (v->kind != V_NODE || v->node->type != HUTCH_JSON_OBJECT)
        return exec_fail (n, error, "can't evaluate field %s in type %s", fields[k],
                          hutch_tvalue_kind_name (v));
      m = hutch_json_node_member (v->node, fields[k]);
      if (m == NULL)
        {
          g_autoptr (GString) names = g_string_new (NULL);
          for (guint i = 0; i < v->node->n_members; i++)
            g_string_append_printf (names, "%s%s", i > 0 ? ", " : "", v->node->keys[i]);
          return exec_fail (n, error, "there is no field %s; the fields are: %s", fields[k],
                            names->len > 0 ? names->str : "(none)");
        }
      hutch_tvalue_clear (v);
      *v = hutch_tvalue_of_node (m);
    }
  return TRUE;
}

/* @v.@fields, in place; cleared on failure. */
static gboolean
walk_fields (const TNode *n, Value *v, char **fields, GError **error)
{
  if (!walk_fields_once (n, v, fields, error))
    return hutch_tvalue_clear (v), FALSE;
  return TRUE;
}

static const Value *
var_find (Exec *e, const char *name)
{
  for (guint i = e->vars->len; i > 0; i--)
    {
      Var *x = &g_array_index (e->vars, Var, i - 1);
      if (strcmp (x->name, name) == 0)
        return &x->value;
    }
  return NULL;
}

static void
var_push (Exec *e, const char *name, const Value *v)
{
  Var x = { g_strdup (name), value_copy (v) };

  g_array_append_val (e->vars, x);
}

static void
vars_cut (Exec *e, guint len)
{
  while (e->vars->len > len)
    {
      Var *x = &g_array_index (e->vars, Var, e->vars->len - 1);
      g_free (x->name);
      hutch_tvalue_clear (&x->value);
      g_array_set_size (e->vars, e->vars->len - 1);
    }
}

static gboolean eval_pipe (Exec *e, const TNode *pipe, const Value *dot, Value *out,
                           GError **error);

static gboolean
eval_term (Exec *e, const TNode *n, const Value *dot, Value *out, GError **error)
{
  const Value *var;

  switch (n->kind)
    {
    case T_FIELD:
      *out = value_copy (dot);
      return walk_fields (n, out, n->fields, error);
    case T_VAR:
      var = var_find (e, n->var);
      if (var == NULL)
        return exec_fail (n, error, "undefined variable %s", n->var);
      *out = value_copy (var);
      return walk_fields (n, out, n->fields, error);
    case T_STRING:
      *out = (Value) { V_STRING, FALSE, 0, 0, g_strdup (n->text), NULL, NULL };
      return TRUE;
    case T_NUMBER:
      *out = n->is_float ? (Value) { V_FLOAT, FALSE, 0, n->number, NULL, NULL, NULL }
                         : (Value) { V_INT, FALSE, n->integer, 0, NULL, NULL, NULL };
      return TRUE;
    case T_BOOL:
      *out = (Value) { V_BOOL, n->boolean, 0, 0, NULL, NULL, NULL };
      return TRUE;
    case T_NIL:
      *out = (Value) { V_NIL, FALSE, 0, 0, NULL, NULL, NULL };
      return TRUE;
    case T_PAREN:
      return eval_pipe (e, n->pipe, dot, out, error) && walk_fields (n, out, n->fields, error);
    case T_FUNC:
      if (!hutch_template_func_call (n->text, NULL, 0, out, error))
        return g_prefix_error (error, "template: executing at <%s>: ", n->text), FALSE;
      return TRUE;
    default:
      return exec_fail (n, error, "not a value");
    }
}

/* One command of a pipeline; @piped (or NULL) is the last argument. */
static gboolean
eval_cmd (Exec *e, const TNode *cmd, const Value *dot, Value *piped, Value *out, GError **error)
{
  const TNode *first = cmd->args;
  g_autoptr (GArray) args = NULL;
  gboolean ok;

  if (first->kind != T_FUNC)
    {
      if (first->next != NULL || piped != NULL)
        return exec_fail (first, error, "can't give argument to non-function %s",
                          first->kind == T_FIELD && first->fields == NULL ? "." : "this");
      return eval_term (e, first, dot, out, error);
    }
  args = g_array_new (FALSE, TRUE, sizeof (Value));
  for (const TNode *a = first->next; a != NULL; a = a->next)
    {
      Value v;
      if (!eval_term (e, a, dot, &v, error))
        {
          for (guint i = 0; i < args->len; i++)
            hutch_tvalue_clear (&g_array_index (args, Value, i));
          return FALSE;
        }
      g_array_append_val (args, v);
    }
  if (piped != NULL)
    {
      g_array_append_val (args, *piped);
      *piped = (Value) { V_NIL, FALSE, 0, 0, NULL, NULL, NULL };
    }
  ok = hutch_template_func_call (first->text, (Value *) args->data, args->len, out, error);
  for (guint i = 0; i < args->len; i++)
    hutch_tvalue_clear (&g_array_index (args, Value, i));
  if (!ok)
    return g_prefix_error (error, "template: executing at <%s>: ", first->text), FALSE;
  return TRUE;
}

static gboolean
eval_pipe (Exec *e, const TNode *pipe, const Value *dot, Value *out, GError **error)
{
  Value v = { V_NIL, FALSE, 0, 0, NULL, NULL, NULL };
  gboolean have = FALSE;

  if (++e->depth > HUTCH_TEMPLATE_MAX_DEPTH)
    return e->depth--, exec_fail (pipe, error, "nested too deeply");
  for (const TNode *cmd = pipe->args; cmd != NULL; cmd = cmd->next)
    {
      Value next;
      if (!eval_cmd (e, cmd, dot, have ? &v : NULL, &next, error))
        return hutch_tvalue_clear (&v), e->depth--, FALSE;
      hutch_tvalue_clear (&v);
      v = next;
      have = TRUE;
    }
  e->depth--;
  *out = v;
  return TRUE;
}

static gboolean exec_list (Exec *e, const TNode *n, const Value *dot, GString *out,
                           GError **error);

/* One round of range: $i/$v set, the body with @item as dot. */
static gboolean
range_one (Exec *e, const TNode *n, const Value *key, const Value *item, GString *out,
           GError **error)
{
  guint mark = e->vars->len;
  gboolean ok;

  if (n->var != NULL)
    var_push (e, n->var, key);
  if (n->var2 != NULL)
    var_push (e, n->var2, item);
  ok = exec_list (e, n->body, item, out, error);
  vars_cut (e, mark);
  return ok;
}

static gboolean
exec_range (Exec *e, const TNode *n, const Value *v, const Value *dot, GString *out,
            GError **error)
{
  guint count = 0;

  if (v->kind == V_NODE && v->node->type == HUTCH_JSON_ARRAY)
    for (guint i = 0; i < v->node->n_members; i++, count++)
      {
        Value key = { V_INT, FALSE, i, 0, NULL, NULL, NULL };
        Value item = hutch_tvalue_of_node (v->node->members[i]);
        gboolean ok = range_one (e, n, &key, &item, out, error);
        hutch_tvalue_clear (&item);
        if (!ok)
          return FALSE;
      }
  else if (v->kind == V_NODE)
    {
      /* as Go ranges over a map: keys in order */
      g_autofree char **keys = g_new0 (char *, v->node->n_members + 1);
      memcpy (keys, v->node->keys, v->node->n_members * sizeof (char *));
      qsort (keys, v->node->n_members, sizeof (char *), key_order);
      for (guint i = 0; i < v->node->n_members; i++, count++)
        {
          Value key = { V_STRING, FALSE, 0, 0, g_strdup (keys[i]), NULL, NULL };
          Value item = hutch_tvalue_of_node (hutch_json_node_member (v->node, keys[i]));
          gboolean ok = range_one (e, n, &key, &item, out, error);
          hutch_tvalue_clear (&item);
          hutch_tvalue_clear (&key);
          if (!ok)
            return FALSE;
        }
    }
  else if (v->kind == V_LIST)
    for (guint i = 0; i < v->list->len; i++, count++)
      {
        Value key = { V_INT, FALSE, i, 0, NULL, NULL, NULL };
        Value item = { V_STRING, FALSE, 0, 0, g_strdup (v->list->pdata[i]), NULL, NULL };
        gboolean ok = range_one (e, n, &key, &item, out, error);
        hutch_tvalue_clear (&item);
        if (!ok)
          return FALSE;
      }
  else if (v->kind == V_INT)
    for (gint64 i = 0; i < v->i; i++, count++)
      {
        Value item = { V_INT, FALSE, i, 0, NULL, NULL, NULL };
        if (!range_one (e, n, &item, &item, out, error))
          return FALSE;
      }
  else if (v->kind != V_NIL)
    return exec_fail (n->pipe->args->args, error, "range can't iterate over a %s",
                      hutch_tvalue_kind_name (v));
  if (count == 0 && n->alt != NULL)
    return exec_list (e, n->alt, dot, out, error);
  return TRUE;
}

static gboolean
exec_list (Exec *e, const TNode *n, const Value *dot, GString *out, GError **error)
{
  guint mark = e->vars->len;
  gboolean ok = TRUE;

  if (++e->depth > HUTCH_TEMPLATE_MAX_DEPTH)
    return e->depth--, exec_fail (n, error, "nested too deeply");
  for (; ok && n != NULL; n = n->next)
    {
      Value v = { V_NIL, FALSE, 0, 0, NULL, NULL, NULL };
      switch (n->kind)
        {
        case T_TEXT:
          g_string_append (out, n->text);
          break;
        case T_ACTION:
          ok = eval_pipe (e, n->pipe, dot, &v, error);
          if (ok && n->var != NULL)
            var_push (e, n->var, &v);
          else if (ok)
            hutch_tvalue_print (&v, out);
          break;
        case T_IF:
        case T_WITH:
          ok = eval_pipe (e, n->pipe, dot, &v, error);
          if (ok && n->var != NULL)
            var_push (e, n->var, &v);
          if (ok && hutch_tvalue_truth (&v))
            ok = exec_list (e, n->body, n->kind == T_WITH ? &v : dot, out, error);
          else if (ok && n->alt != NULL)
            ok = exec_list (e, n->alt, dot, out, error);
          break;
        case T_RANGE:
          ok = eval_pipe (e, n->pipe, dot, &v, error) && exec_range (e, n, &v, dot, out, error);
          break;
        default:
          ok = exec_fail (n, error, "not a statement");
          break;
        }
      hutch_tvalue_clear (&v);
    }
  vars_cut (e, mark);
  e->depth--;
  return ok;
}

gboolean
hutch_template_execute (const HutchTemplate *t, const HutchJsonNode *data, GString *out,
                        GError **error)
{
  Exec e = { g_array_new (FALSE, TRUE, sizeof (Var)), 0 };
  Value dot = hutch_tvalue_of_node (data);
  gboolean ok;

  var_push (&e, "$", &dot);
  ok = exec_list (&e, t->root, &dot, out, error);
  vars_cut (&e, 0);
  g_array_unref (e.vars);
  hutch_tvalue_clear (&dot);
  return ok;
}
