/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* --format TEMPLATE, as docker takes it: "{{.ID}} {{.Names}}" prints a line
 * per row; "table {{.ID}}\t{{.Names}}" a header of the columns' names and
 * the rows, in columns as docker's tabwriter sets them (at least 10 wide,
 * 3 spaces between). "\t" and "\n" typed as two characters are the tab and
 * the newline, as docker reads them. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "cli-private.h"

struct HutchCliTemplate
{
  HutchTemplate *tmpl;
  gboolean table;
  GPtrArray *lines; /* table: what each row printed, header first */
};

void
hutch_cli_template_free (HutchCliTemplate *t)
{
  if (t == NULL)
    return;
  hutch_template_free (t->tmpl);
  if (t->lines != NULL)
    g_ptr_array_unref (t->lines);
  g_free (t);
}

static char *
unescape (const char *text)
{
  GString *s = g_string_new (NULL);

  for (const char *c = text; *c != '\0'; c++)
    if (c[0] == '\\' && c[1] == 't')
      g_string_append_c (s, '\t'), c++;
    else if (c[0] == '\\' && c[1] == 'n')
      g_string_append_c (s, '\n'), c++;
    else
      g_string_append_c (s, *c);
  return g_string_free (s, FALSE);
}

/* The object whose fields are the columns' headers. */
static HutchJsonNode *
header_object (const HutchCliColumn *columns, gsize n_columns)
{
  g_autoptr (HutchJsonWriter) w = hutch_json_writer_new (FALSE);
  g_autofree char *text = NULL;

  hutch_json_begin_object (w);
  for (gsize i = 0; i < n_columns; i++)
    hutch_json_member_string (w, columns[i].field, columns[i].header);
  hutch_json_end_object (w);
  text = hutch_json_writer_finish (w);
  return hutch_json_parse (text, strlen (text), NULL);
}

HutchCliTemplate *
hutch_cli_template_new (const char *text, const HutchCliColumn *columns, gsize n_columns,
                        GError **error)
{
  g_autoptr (HutchCliTemplate) t = NULL;
  g_autoptr (HutchJsonNode) head = NULL;
  g_autoptr (GString) out = g_string_new (NULL);
  g_autoptr (GError) local = NULL;
  g_autofree char *body = NULL;

  if (text == NULL || strstr (text, "{{") == NULL)
    return NULL;
  t = g_new0 (HutchCliTemplate, 1);
  t->table = g_str_has_prefix (text, "table ") || g_str_has_prefix (text, "table\t");
  body = unescape (t->table ? text + 6 : text);
  g_strstrip (body);
  t->tmpl = hutch_template_parse (body, error);
  if (t->tmpl == NULL)
    return g_prefix_error (error, "--format %s: ", text), NULL;
  /* run on the headers first: a field that is not there is said at once,
   * with those that are, even when there are no rows */
  head = header_object (columns, n_columns);
  if (!hutch_template_execute (t->tmpl, head, out, &local)
      && strstr (local->message, "there is no field") != NULL)
    return g_propagate_prefixed_error (error, g_steal_pointer (&local), "--format %s: ", text),
           NULL;
  if (t->table)
    {
      t->lines = g_ptr_array_new_with_free_func (g_free);
      /* a header whose template wants more than names (index, len) is left out */
      if (local == NULL)
        g_ptr_array_add (t->lines, g_strdup (out->str));
    }
  return g_steal_pointer (&t);
}

gboolean
hutch_cli_template_row (HutchCliTemplate *t, const HutchJsonNode *row, GError **error)
{
  g_autoptr (GString) out = g_string_new (NULL);

  if (!hutch_template_execute (t->tmpl, row, out, error))
    return g_prefix_error (error, "--format: "), FALSE;
  if (t->lines != NULL)
    g_ptr_array_add (t->lines, g_string_free (g_steal_pointer (&out), FALSE));
  else
    printf ("%s\n", out->str);
  return TRUE;
}

gboolean
hutch_cli_template_row_text (HutchCliTemplate *t, const char *row_json, GError **error)
{
  g_autoptr (HutchJsonNode) row = hutch_json_parse (row_json, strlen (row_json), error);

  return row != NULL && hutch_cli_template_row (t, row, error);
}

/* As Go's tabwriter with docker's settings: each tab-ended cell is a
 * column as wide as its widest cell and 3 more, 10 at least; the last cell
 * of a line is as it is. */
void
hutch_cli_template_finish (HutchCliTemplate *t)
{
  g_autoptr (GArray) width = g_array_new (FALSE, TRUE, sizeof (gsize));

  if (t->lines == NULL)
    return;
  for (guint i = 0; i < t->lines->len; i++)
    {
      g_auto (GStrv) cells = g_strsplit (t->lines->pdata[i], "\t", -1);
      guint n = g_strv_length (cells);
      for (guint k = 0; k + 1 < n; k++)
        {
          gsize w = (gsize) g_utf8_strlen (cells[k], -1) + 3;
          if (k >= width->len)
            g_array_set_size (width, k + 1);
          g_array_index (width, gsize, k) = MAX (MAX (g_array_index (width, gsize, k), w), 10);
        }
    }
  for (guint i = 0; i < t->lines->len; i++)
    {
      g_auto (GStrv) cells = g_strsplit (t->lines->pdata[i], "\t", -1);
      guint n = g_strv_length (cells);
      for (guint k = 0; k < n; k++)
        {
          gsize len = (gsize) g_utf8_strlen (cells[k], -1);
          printf ("%s", cells[k]);
          if (k + 1 < n)
            printf ("%*s", (int) (g_array_index (width, gsize, k) - len), "");
        }
      printf ("\n");
    }
}
