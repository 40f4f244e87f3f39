/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Writing JSON for --format json and for records: a small streaming writer
 * on a GString. Reading JSON (strict, for images) is not here. */
#include "config.h"

#include <string.h>

#include "util.h"

struct HutchJsonWriter
{
  GString *out;
  GArray *has_items; /* per open container: gboolean */
  gboolean pretty;
  gboolean after_key;
};

HutchJsonWriter *
hutch_json_writer_new (gboolean pretty)
{
  HutchJsonWriter *w = g_new0 (HutchJsonWriter, 1);
  w->out = g_string_new (NULL);
  w->has_items = g_array_new (FALSE, FALSE, sizeof (gboolean));
  w->pretty = pretty;
  return w;
}

void
hutch_json_writer_free (HutchJsonWriter *w)
{
  if (w == NULL)
    return;
  g_string_free (w->out, TRUE);
  g_array_unref (w->has_items);
  g_free (w);
}

static void
newline (HutchJsonWriter *w)
{
  if (!w->pretty)
    return;
  g_string_append_c (w->out, '\n');
  for (guint i = 0; i < w->has_items->len; i++)
    g_string_append (w->out, "  ");
}

/* Commas and indentation before a value or a key. */
static void
separate (HutchJsonWriter *w)
{
  gboolean *has;

  if (w->after_key)
    {
      w->after_key = FALSE;
      return;
    }
  if (w->has_items->len == 0)
    return;
  has = &g_array_index (w->has_items, gboolean, w->has_items->len - 1);
  if (*has)
    g_string_append_c (w->out, ',');
  *has = TRUE;
  newline (w);
}

static void
append_quoted (GString *out, const char *s)
{
  g_autofree char *valid = g_utf8_make_valid (s, -1);

  g_string_append_c (out, '"');
  for (const char *p = valid; *p != '\0'; p++)
    {
      unsigned char c = (unsigned char) *p;
      switch (c)
        {
        case '"':
          g_string_append (out, "\\\"");
          break;
        case '\\':
          g_string_append (out, "\\\\");
          break;
        case '\n':
          g_string_append (out, "\\n");
          break;
        case '\t':
          g_string_append (out, "\\t");
          break;
        case '\r':
          g_string_append (out, "\\r");
          break;
        default:
          if (c < 0x20)
            g_string_append_printf (out, "\\u%04x", c);
          else
            g_string_append_c (out, (char) c);
        }
    }
  g_string_append_c (out, '"');
}

static void
open_container (HutchJsonWriter *w, char c)
{
  gboolean none = FALSE;
  separate (w);
  g_string_append_c (w->out, c);
  g_array_append_val (w->has_items, none);
}

static void
close_container (HutchJsonWriter *w, char c)
{
  gboolean had;

  g_return_if_fail (w->has_items->len > 0);
  had = g_array_index (w->has_items, gboolean, w->has_items->len - 1);
  g_array_set_size (w->has_items, w->has_items->len - 1);
  if (had)
    newline (w);
  g_string_append_c (w->out, c);
}

void
hutch_json_begin_object (HutchJsonWriter *w)
{
  open_container (w, '{');
}

void
hutch_json_end_object (HutchJsonWriter *w)
{
  close_container (w, '}');
}

void
hutch_json_begin_array (HutchJsonWriter *w)
{
  open_container (w, '[');
}

void
hutch_json_end_array (HutchJsonWriter *w)
{
  close_container (w, ']');
}

void
hutch_json_key (HutchJsonWriter *w, const char *key)
{
  separate (w);
  append_quoted (w->out, key);
  g_string_append (w->out, w->pretty ? ": " : ":");
  w->after_key = TRUE;
}

void
hutch_json_string (HutchJsonWriter *w, const char *value)
{
  separate (w);
  if (value == NULL)
    g_string_append (w->out, "null");
  else
    append_quoted (w->out, value);
}

void
hutch_json_int (HutchJsonWriter *w, gint64 value)
{
  separate (w);
  g_string_append_printf (w->out, "%" G_GINT64_FORMAT, value);
}

void
hutch_json_double (HutchJsonWriter *w, double value)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];
  separate (w);
  /* Locale-independent: a "," decimal mark would not be JSON. */
  g_string_append (w->out, g_ascii_formatd (buf, sizeof buf, "%.3f", value));
}

void
hutch_json_number_text (HutchJsonWriter *w, const char *text)
{
  separate (w);
  g_string_append (w->out, text);
}

void
hutch_json_bool (HutchJsonWriter *w, gboolean value)
{
  separate (w);
  g_string_append (w->out, value ? "true" : "false");
}

char *
hutch_json_writer_finish (HutchJsonWriter *w)
{
  g_return_val_if_fail (w->has_items->len == 0, NULL);
  return g_strdup (w->out->str);
}

void
hutch_json_member_string (HutchJsonWriter *w, const char *key, const char *value)
{
  hutch_json_key (w, key);
  hutch_json_string (w, value);
}

void
hutch_json_member_int (HutchJsonWriter *w, const char *key, gint64 value)
{
  hutch_json_key (w, key);
  hutch_json_int (w, value);
}

void
hutch_json_member_bool (HutchJsonWriter *w, const char *key, gboolean value)
{
  hutch_json_key (w, key);
  hutch_json_bool (w, value);
}

void
hutch_json_member_strv (HutchJsonWriter *w, const char *key, char **values)
{
  hutch_json_key (w, key);
  hutch_json_begin_array (w);
  for (; values != NULL && *values != NULL; values++)
    hutch_json_string (w, *values);
  hutch_json_end_array (w);
}
