/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Go templates (template.c parses, template-exec.c runs, template-func.c
 * holds the functions). */
#pragma once

#include "util.h"

G_BEGIN_DECLS

typedef enum
{
  T_TEXT,   /* text: @text */
  T_ACTION, /* {{pipeline}}, or {{$x := pipeline}}: @pipe, @var */
  T_IF,     /* @pipe, @body, @alt (else, or an else-if T_IF) */
  T_RANGE,  /* @pipe, @var/@var2 ($i, $v; one variable is @var2), @body, @alt */
  T_WITH,   /* @pipe, @var, @body, @alt */
  T_PIPE,   /* @args: the commands, each T_CMD */
  T_CMD,    /* @args: the operands */
  T_FIELD,  /* .A.B: @fields (NULL: dot itself) */
  T_VAR,    /* $x.A: @var, @fields */
  T_STRING, /* @text */
  T_NUMBER, /* @integer or @number (@is_float) */
  T_BOOL,   /* @boolean */
  T_NIL,
  T_FUNC,  /* a function's name: @text */
  T_PAREN, /* (pipeline).A: @pipe, @fields */
} TNodeKind;

typedef struct TNode TNode;
struct TNode
{
  TNodeKind kind;
  const char *at; /* where it starts in the template's text */
  char *text;
  char **fields;
  char *var;
  char *var2;
  gint64 integer;
  double number;
  gboolean is_float;
  gboolean boolean;
  TNode *args;
  TNode *pipe;
  TNode *body;
  TNode *alt;
  TNode *next;
};

void hutch_tnode_free (TNode *n);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (TNode, hutch_tnode_free)

struct HutchTemplate
{
  TNode *root;
  char *text;
};

typedef struct
{
  const char *text;
  const char *pos;
  gboolean trim_next; /* the last action ended with " -}}" */
  guint depth;        /* of parentheses and blocks */
} Parser;

#define HUTCH_TEMPLATE_MAX_DEPTH 100

/* ---- values ---- */

typedef enum
{
  V_NIL,
  V_BOOL,
  V_INT,
  V_FLOAT,
  V_STRING,
  V_NODE, /* a JSON array or object of the data */
  V_LIST, /* strings a function made (split) */
} VKind;

typedef struct
{
  VKind kind;
  gboolean b;
  gint64 i;
  double f;
  char *s;                   /* V_STRING: ours */
  const HutchJsonNode *node; /* V_NODE: the data's */
  GPtrArray *list;           /* V_LIST: of char *, ours */
} Value;

void hutch_tvalue_clear (Value *v);
/* @node as a value: scalars become their kind, arrays and objects V_NODE. */
Value hutch_tvalue_of_node (const HutchJsonNode *node);
/* As Go's fmt prints it with %v. */
void hutch_tvalue_print (const Value *v, GString *out);
gboolean hutch_tvalue_truth (const Value *v);
const char *hutch_tvalue_kind_name (const Value *v);

/* ---- functions (template-func.c) ---- */

gboolean hutch_template_func_known (const char *name);
/* Calls @name on @n arguments into @out; FALSE with @error (its text
 * without position: the caller adds it). */
gboolean hutch_template_func_call (const char *name, Value *args, guint n, Value *out,
                                   GError **error);

G_END_DECLS
