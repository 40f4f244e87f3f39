/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* hutch history IMAGE (and image history): the steps an image was made
 * of, newest first, as docker prints them: the config's history entries,
 * each that made a layer given that layer's size from the manifest (an
 * empty_layer entry 0B), the top one the image's ID and the others
 * <missing> (the store keeps no image for each step). */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "cli-private.h"
#include "store/store.h"

/* What history --format TEMPLATE sees: docker's fields. */
static const HutchCliColumn history_columns[] = {
  { "ID", "IMAGE" },          { "CreatedSince", "CREATED" }, { "CreatedAt", "CREATED AT" },
  { "CreatedBy", "CREATED BY" }, { "Size", "SIZE" },         { "Comment", "COMMENT" },
};

#define DEFAULT_FORMAT "table {{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}"

static const char *
member_string (const HutchJsonNode *obj, const char *key)
{
  const HutchJsonNode *n = hutch_json_node_member (obj, key);

  return n != NULL && n->type == HUTCH_JSON_STRING ? n->string : "";
}

/* One row's object: @entry of the history, @size its layer's. */
static char *
row_json (const HutchJsonNode *entry, const char *id, gint64 size, gboolean no_trunc)
{
  g_autoptr (HutchJsonWriter) w = hutch_json_writer_new (FALSE);
  const char *created = member_string (entry, "created");
  g_autoptr (GDateTime) t = *created != '\0' ? g_date_time_new_from_iso8601 (created, NULL) : NULL;
  g_autofree char *ago = t != NULL ? hutch_cli_format_ago (g_date_time_to_unix (t)) : g_strdup ("N/A");
  g_autofree char *at = t != NULL ? g_date_time_format_iso8601 (t) : g_strdup ("");
  g_autofree char *by = g_strdup (member_string (entry, "created_by"));
  g_autofree char *size_text = hutch_cli_format_size_docker (size);

  /* as docker: tabs are spaces, and 45 characters at most unless --no-trunc */
  g_strdelimit (by, "\t\n", ' ');
  if (!no_trunc && g_utf8_strlen (by, -1) > 45)
    {
      g_autofree char *cut = g_utf8_substring (by, 0, 44);
      g_free (by);
      by = g_strconcat (cut, "…", NULL);
    }
  hutch_json_begin_object (w);
  hutch_json_member_string (w, "ID", id);
  hutch_json_member_string (w, "CreatedSince", ago);
  hutch_json_member_string (w, "CreatedAt", at);
  hutch_json_member_string (w, "CreatedBy", by);
  hutch_json_member_string (w, "Size", size_text);
  hutch_json_member_string (w, "Comment", member_string (entry, "comment"));
  hutch_json_end_object (w);
  return hutch_json_writer_finish (w);
}

/* The rows, newest first. An image whose config has no history (some
 * imports) gets a row per layer, as docker shows it. */
static GPtrArray *
history_rows (const HutchStoreImage *image, gboolean no_trunc)
{
  const HutchJsonNode *history = hutch_json_node_member (image->config->root, "history");
  GPtrArray *layers = image->manifest->layers;
  g_autoptr (GPtrArray) rows = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *id = no_trunc ? g_strdup_printf ("sha256:%s", hutch_store_image_id (image))
                                 : g_strndup (hutch_store_image_id (image), 12);
  guint layer = 0, n = history != NULL && history->type == HUTCH_JSON_ARRAY ? history->n_members : 0;
  g_autoptr (HutchJsonNode) empty = hutch_json_parse ("{}", 2, NULL);

  for (guint i = 0; i < n; i++)
    {
      const HutchJsonNode *entry = history->members[i];
      const HutchJsonNode *e = hutch_json_node_member (entry, "empty_layer");
      gint64 size = 0;
      if (!(e != NULL && e->type == HUTCH_JSON_BOOL && e->boolean) && layer < layers->len)
        size = ((const HutchDescriptor *) layers->pdata[layer++])->size;
      g_ptr_array_add (rows, row_json (entry, i + 1 == n ? id : "<missing>", size, no_trunc));
    }
  if (n == 0)
    for (guint i = 0; i < layers->len; i++)
      g_ptr_array_add (rows, row_json (empty, i + 1 == layers->len ? id : "<missing>",
                                       ((const HutchDescriptor *) layers->pdata[i])->size,
                                       no_trunc));
  /* newest first */
  for (guint i = 0; i < rows->len / 2; i++)
    {
      gpointer tmp = rows->pdata[i];
      rows->pdata[i] = rows->pdata[rows->len - 1 - i];
      rows->pdata[rows->len - 1 - i] = tmp;
    }
  return g_steal_pointer (&rows);
}

static int
run_history (const HutchCliCommand *cmd, HutchContext *ctx, int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (HutchStore) store = NULL;
  g_autoptr (HutchStoreImage) image = NULL;
  g_autoptr (GPtrArray) rows = NULL;
  g_autoptr (HutchCliTemplate) tmpl = NULL;
  g_autofree char *format_text = NULL;
  gboolean no_trunc = FALSE, quiet = FALSE, human = TRUE;
  HutchFormat format = HUTCH_FORMAT_TEXT;
  int status;
  const GOptionEntry entries[] = {
    { "no-trunc", 0, 0, G_OPTION_ARG_NONE, &no_trunc, "Full IDs and steps", NULL },
    { "quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet, "Only the IDs", NULL },
    { "human", 'H', 0, G_OPTION_ARG_NONE, &human, "Sizes and dates for people (the default)", NULL },
    { "format", 0, 0, G_OPTION_ARG_STRING, &format_text,
      "table (default), json (an object a line), or a Go template ('{{.ID}} {{.Size}}')",
      "FORMAT" },
    { NULL },
  };

  if (!hutch_cli_parse (cmd, entries, &argc, &argv, &status))
    return status;
  if (argc != 2)
    return hutch_cli_usage_error (cmd, "name one image");
  tmpl = hutch_cli_template_new (format_text, history_columns, G_N_ELEMENTS (history_columns),
                                 &error);
  if (tmpl == NULL && error == NULL && !hutch_cli_format_parse (format_text, &format, &error))
    return hutch_cli_usage_error (cmd, "%s", error->message);
  if (error != NULL)
    return hutch_cli_usage_error (cmd, "%s", error->message);
  if (tmpl == NULL && format == HUTCH_FORMAT_TEXT && !quiet)
    tmpl = hutch_cli_template_new (DEFAULT_FORMAT, history_columns,
                                   G_N_ELEMENTS (history_columns), &error);
  store = hutch_store_open (ctx->root, FALSE, &error);
  if (store == NULL || (image = hutch_store_image_lookup (store, argv[1], NULL, &error)) == NULL)
    return hutch_cli_fail (g_steal_pointer (&error));
  rows = history_rows (image, no_trunc);
  for (guint i = 0; i < rows->len; i++)
    {
      if (quiet)
        {
          g_autoptr (HutchJsonNode) row = hutch_json_parse (rows->pdata[i], strlen (rows->pdata[i]),
                                                            NULL);
          printf ("%s\n", member_string (row, "ID"));
        }
      else if (tmpl != NULL)
        {
          if (!hutch_cli_template_row_text (tmpl, rows->pdata[i], &error))
            return hutch_cli_fail (g_steal_pointer (&error));
        }
      else
        printf ("%s\n", (const char *) rows->pdata[i]); /* json: an object a line, as docker */
    }
  if (tmpl != NULL)
    hutch_cli_template_finish (tmpl);
  return 0;
}

const HutchCliCommand hutch_cli_command_history = {
  "history", "[OPTIONS] IMAGE",
  "Show the steps an image was made of",
  run_history,
};
