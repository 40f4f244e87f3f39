/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* hutch ps, inspect and port: what the records say, with the live state. */
#include "config.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli-private.h"
#include "container/container.h"
#include "store/store.h"

static char *
status_text (const HutchContainer *c)
{
  g_autofree char *ago = NULL;

  switch (c->status)
    {
    case HUTCH_CONTAINER_CREATED:
      return g_strdup ("Created");
    case HUTCH_CONTAINER_RUNNING:
      ago = hutch_cli_format_ago (c->started_at / G_USEC_PER_SEC);
      if (g_str_has_suffix (ago, " ago"))
        ago[strlen (ago) - 4] = '\0';
      return g_strdup_printf ("Up %s%s", ago, c->paused ? " (Paused)" : "");
    case HUTCH_CONTAINER_EXITED:
    default:
      ago = hutch_cli_format_ago ((c->finished_at != 0 ? c->finished_at : c->created) / G_USEC_PER_SEC);
      /* as docker: the code it last exited with, while it waits to restart */
      if (c->restarting)
        return g_strdup_printf ("Restarting (%d) %s", c->exit_code, ago);
      return g_strdup_printf ("Exited (%d) %s", c->exit_code, ago);
    }
}

static char *
command_text (const HutchContainer *c, gboolean trunc)
{
  g_autofree char *joined = g_strjoinv (" ", c->command);

  if (trunc && g_utf8_strlen (joined, -1) > 20)
    {
      g_autofree char *cut = g_utf8_substring (joined, 0, 19);
      return g_strdup_printf ("\"%s…\"", cut);
    }
  return g_strdup_printf ("\"%s\"", joined);
}

/* What the label=, ancestor= filters need of the store: each image's
 * labels and layers, by ID (config digest), looked up once. */
typedef struct
{
  HutchStore *store;
  GHashTable *configs; /* config digest → HutchImageConfig (or none) */
  GHashTable *ancestors; /* ancestor= value → its HutchImageConfig, NULL: no such image */
} FilterData;

static void
filter_data_clear (FilterData *d)
{
  g_clear_pointer (&d->configs, g_hash_table_unref);
  g_clear_pointer (&d->ancestors, g_hash_table_unref);
  g_clear_pointer (&d->store, hutch_store_free);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (FilterData, filter_data_clear)

static const HutchImageConfig *
image_config (FilterData *d, const char *image_id)
{
  HutchStoreImage *image;

  if (image_id == NULL || d->store == NULL)
    return NULL;
  if (!g_hash_table_contains (d->configs, image_id))
    {
      image = hutch_store_image_lookup (d->store, image_id, NULL, NULL);
      g_hash_table_insert (d->configs, g_strdup (image_id), image);
    }
  image = g_hash_table_lookup (d->configs, image_id);
  return image != NULL ? image->config : NULL;
}

/* label=KEY or label=KEY=VALUE: the container's own (--label) and its
 * image's, as docker gives a container its image's labels; its own win. */
static gboolean
label_matches (const HutchContainer *c, const HutchImageConfig *config, const char *want)
{
  const HutchJsonNode *labels = config != NULL ? hutch_json_node_member (config->config, "Labels")
                                               : NULL;
  g_autofree char *key = g_strndup (want, strcspn (want, "="));
  const char *value = strchr (want, '=');
  const HutchJsonNode *n = labels != NULL ? hutch_json_node_member (labels, key) : NULL;
  gsize klen = strlen (key);

  for (char **l = c->labels; l != NULL && *l != NULL; l++)
    if (strncmp (*l, key, klen) == 0 && ((*l)[klen] == '=' || (*l)[klen] == '\0'))
      return value == NULL || strcmp ((*l)[klen] == '=' ? *l + klen + 1 : "", value + 1) == 0;
  return n != NULL && n->type == HUTCH_JSON_STRING
         && (value == NULL || strcmp (n->string, value + 1) == 0);
}

/* ancestor=IMAGE: made from that image, or from one made on it (whose
 * layers start with all of its). */
static gboolean
ancestor_matches (FilterData *d, const HutchContainer *c, const char *want)
{
  const HutchImageConfig *mine = image_config (d, c->image_id);
  const HutchImageConfig *theirs;
  HutchStoreImage *image;

  if (!g_hash_table_contains (d->ancestors, want))
    {
      image = d->store != NULL ? hutch_store_image_lookup (d->store, want, NULL, NULL)
                                                : NULL;
      g_hash_table_insert (d->ancestors, g_strdup (want), image);
    }
  image = g_hash_table_lookup (d->ancestors, want);
  theirs = image != NULL ? image->config : NULL;
  if (theirs == NULL)
    return g_strcmp0 (c->image, want) == 0; /* an image gone from the store: by the name given */
  if (image->manifest != NULL && g_strcmp0 (c->image_id, image->manifest->config->digest) == 0)
    return TRUE;
  if (mine == NULL || theirs->diff_ids->len == 0 || mine->diff_ids->len < theirs->diff_ids->len)
    return FALSE;
  for (guint i = 0; i < theirs->diff_ids->len; i++)
    if (strcmp (mine->diff_ids->pdata[i], theirs->diff_ids->pdata[i]) != 0)
      return FALSE;
  return TRUE;
}

/* --filter KEY=VALUE: the same key ORs, different keys AND (as docker). */
static gboolean
matches (FilterData *d, const HutchContainer *c, char **filters)
{
  static const char *const keys[] = { "status", "name", "id", "label", "ancestor", "exited" };
  gboolean given[G_N_ELEMENTS (keys)] = { 0 }, ok[G_N_ELEMENTS (keys)] = { 0 };

  for (char **f = filters; f != NULL && *f != NULL; f++)
    {
      const char *v = strchr (*f, '=') + 1;
      gsize k;
      for (k = 0; k < G_N_ELEMENTS (keys); k++)
        if (strncmp (*f, keys[k], strlen (keys[k])) == 0 && (*f)[strlen (keys[k])] == '=')
          break;
      if (k == G_N_ELEMENTS (keys))
        continue;
      given[k] = TRUE;
      if (k == 0)
        ok[k] |= strcmp (v, c->paused ? "paused" : hutch_container_status_name (c->status)) == 0;
      else if (k == 1)
        ok[k] |= strstr (c->name, v) != NULL;
      else if (k == 2)
        ok[k] |= g_str_has_prefix (c->id, v);
      else if (k == 3)
        ok[k] |= label_matches (c, image_config (d, c->image_id), v);
      else if (k == 4)
        ok[k] |= ancestor_matches (d, c, v);
      else
        ok[k] |= c->status == HUTCH_CONTAINER_EXITED && c->exit_code == atoi (v);
    }
  for (gsize k = 0; k < G_N_ELEMENTS (keys); k++)
    if (given[k] && !ok[k])
      return FALSE;
  return TRUE;
}

/* The filters hutch knows, their values checked; a usage error's text, or NULL. */
static char *
filters_check (char **filters, gboolean *all)
{
  for (char **f = filters; f != NULL && *f != NULL; f++)
    {
      const char *v = strchr (*f, '=');
      if (v == NULL
          || (!g_str_has_prefix (*f, "status=") && !g_str_has_prefix (*f, "name=")
              && !g_str_has_prefix (*f, "id=") && !g_str_has_prefix (*f, "label=")
              && !g_str_has_prefix (*f, "ancestor=") && !g_str_has_prefix (*f, "exited=")))
        return g_strdup_printf ("--filter %s: hutch filters on status=, name=, id=, label=, "
                                "ancestor= and exited=", *f);
      if (g_str_has_prefix (*f, "exited=") && (v[1] == '\0' || strspn (v + 1, "0123456789") != strlen (v + 1)))
        return g_strdup_printf ("--filter %s: exited= takes an exit code (a number)", *f);
      if (g_str_has_prefix (*f, "status=")
          && !g_strv_contains ((const char *const[]){ "created", "running", "exited", "paused",
                                                      "restarting", "removing", "dead", NULL },
                               v + 1))
        return g_strdup_printf ("--filter %s: a status is created, running, paused, exited, "
                                "restarting, removing or dead", *f);
      /* as docker: a status or exit code filter looks at every container */
      if (g_str_has_prefix (*f, "status=") || g_str_has_prefix (*f, "exited="))
        *all = TRUE;
    }
  return NULL;
}

static void
json_row (HutchJsonWriter *w, const HutchContainer *c)
{
  g_autofree char *status = status_text (c);
  g_autofree char *ports = hutch_container_ports_text (c);

  hutch_json_begin_object (w);
  hutch_json_member_string (w, "Id", c->id);
  hutch_json_key (w, "Names");
  hutch_json_begin_array (w);
  hutch_json_string (w, c->name);
  hutch_json_end_array (w);
  hutch_json_member_string (w, "Image", c->image);
  hutch_json_member_string (w, "ImageID", c->image_id);
  hutch_json_key (w, "Command");
  hutch_json_begin_array (w);
  for (char **a = c->command; *a != NULL; a++)
    hutch_json_string (w, *a);
  hutch_json_end_array (w);
  hutch_json_member_int (w, "Created", c->created / G_USEC_PER_SEC);
  hutch_json_member_string (w, "State", c->restarting ? "restarting"
                                        : c->paused   ? "paused"
                                                      : hutch_container_status_name (c->status));
  hutch_json_member_string (w, "Status", status);
  hutch_json_member_int (w, "ExitCode", c->exit_code);
  hutch_json_member_int (w, "Pid", c->status == HUTCH_CONTAINER_RUNNING ? c->init_pid : 0);
  hutch_json_member_string (w, "Ports", ports);
  hutch_json_end_object (w);
}

/* What ps --format TEMPLATE sees: docker's fields, and podman's few more. */
static const HutchCliColumn ps_columns[] = {
  { "ID", "CONTAINER ID" },    { "Image", "IMAGE" },         { "ImageID", "IMAGE ID" },
  { "Command", "COMMAND" },    { "CreatedAt", "CREATED AT" }, { "RunningFor", "CREATED" },
  { "Ports", "PORTS" },        { "State", "STATE" },         { "Status", "STATUS" },
  { "Names", "NAMES" },        { "Networks", "NETWORKS" },   { "Pid", "PID" },
  { "ExitCode", "EXIT CODE" }, { "Size", "SIZE" },           { "Labels", "LABELS" },
  { "Mounts", "MOUNTS" },
};

static char *
template_row (const HutchContainer *c, gboolean no_trunc)
{
  g_autoptr (HutchJsonWriter) w = hutch_json_writer_new (FALSE);
  g_autofree char *id = g_strndup (c->id, no_trunc ? 64 : 12);
  g_autofree char *command = command_text (c, !no_trunc);
  g_autoptr (GDateTime) created = g_date_time_new_from_unix_utc (c->created / G_USEC_PER_SEC);
  g_autofree char *created_at = created != NULL ? g_date_time_format (created, "%Y-%m-%d %H:%M:%S +0000 UTC")
                                                : g_strdup ("");
  g_autofree char *ago = hutch_cli_format_ago (c->created / G_USEC_PER_SEC);
  g_autofree char *ports = hutch_container_ports_text (c);
  g_autofree char *status = status_text (c);

  hutch_json_begin_object (w);
  hutch_json_member_string (w, "ID", id);
  hutch_json_member_string (w, "Image", c->image);
  hutch_json_member_string (w, "ImageID", c->image_id);
  hutch_json_member_string (w, "Command", command);
  hutch_json_member_string (w, "CreatedAt", created_at);
  hutch_json_member_string (w, "RunningFor", ago);
  hutch_json_member_string (w, "Ports", ports);
  hutch_json_member_string (w, "State", c->paused ? "paused" : hutch_container_status_name (c->status));
  hutch_json_member_string (w, "Status", status);
  hutch_json_member_string (w, "Names", c->name);
  hutch_json_member_string (w, "Networks", c->network);
  hutch_json_member_int (w, "Pid", c->status == HUTCH_CONTAINER_RUNNING ? c->init_pid : 0);
  hutch_json_member_int (w, "ExitCode", c->exit_code);
  hutch_json_member_string (w, "Size", "");
  hutch_json_member_string (w, "Labels", "");
  hutch_json_member_string (w, "Mounts", "");
  hutch_json_end_object (w);
  return hutch_json_writer_finish (w);
}

static int
run_ps (const HutchCliCommand *cmd, HutchContext *ctx, int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *format_text = NULL;
  g_auto (GStrv) filters = NULL;
  gboolean all = FALSE, quiet = FALSE, no_trunc = FALSE, latest = FALSE;
  int last = -1, shown = 0;
  g_autofree char *bad = NULL;
  g_auto (FilterData) fd = { 0 };
  HutchFormat format = HUTCH_FORMAT_TEXT;
  g_autoptr (GPtrArray) list = NULL;
  g_autoptr (GPtrArray) rows = g_ptr_array_new_with_free_func ((GDestroyNotify) g_strfreev);
  g_autoptr (HutchJsonWriter) w = NULL;
  g_autoptr (HutchCliTemplate) tmpl = NULL;
  const char *head[] = { "CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "PORTS", "NAMES" };
  gsize width[G_N_ELEMENTS (head)];
  int status;
  const GOptionEntry entries[] = {
    { "all", 'a', 0, G_OPTION_ARG_NONE, &all, "Show every container (default: running ones)", NULL },
    { "quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet, "Only the ids", NULL },
    { "filter", 'f', 0, G_OPTION_ARG_STRING_ARRAY, &filters,
      "status=, name=, id=, label=KEY[=VALUE], ancestor=IMAGE or exited=CODE", "KEY=VALUE" },
    { "last", 'n', 0, G_OPTION_ARG_INT, &last, "The N containers made last (any state)", "N" },
    { "latest", 'l', 0, G_OPTION_ARG_NONE, &latest, "The container made last (any state)", NULL },
    { "format", 0, 0, G_OPTION_ARG_STRING, &format_text,
      "table (default), json, or a Go template ('{{.ID}} {{.Names}}', 'table {{.ID}}\\t{{.Status}}')",
      "FORMAT" },
    { "no-trunc", 0, 0, G_OPTION_ARG_NONE, &no_trunc, "Full ids and commands", NULL },
    { NULL },
  };

  if (!hutch_cli_parse_no_args (cmd, entries, argc, argv, &status))
    return status;
  tmpl = hutch_cli_template_new (format_text, ps_columns, G_N_ELEMENTS (ps_columns), &error);
  if (tmpl == NULL && error == NULL && !hutch_cli_format_parse (format_text, &format, &error))
    return hutch_cli_usage_error (cmd, "%s", error->message);
  if (error != NULL)
    return hutch_cli_usage_error (cmd, "%s", error->message);
  if ((bad = filters_check (filters, &all)) != NULL)
    return hutch_cli_usage_error (cmd, "%s", bad);
  if (latest)
    last = 1;
  if (last == 0 || last < -1)
    return hutch_cli_usage_error (cmd, "-n %d: give how many containers (1 or more)", last);
  /* as docker: -n and -l look at every container, newest first */
  if (last > 0)
    all = TRUE;
  fd.configs = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                      (GDestroyNotify) hutch_store_image_free);
  fd.ancestors = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                        (GDestroyNotify) hutch_store_image_free);
  for (char **f = filters; f != NULL && *f != NULL && fd.store == NULL; f++)
    if (g_str_has_prefix (*f, "label=") || g_str_has_prefix (*f, "ancestor="))
      fd.store = hutch_store_open (ctx->root, FALSE, NULL);
  if ((list = hutch_container_list (ctx, &error)) == NULL)
    return hutch_cli_fail (g_steal_pointer (&error));
  if (format == HUTCH_FORMAT_JSON)
    {
      w = hutch_json_writer_new (TRUE);
      hutch_json_begin_array (w);
    }
  for (gsize i = 0; i < G_N_ELEMENTS (head); i++)
    width[i] = strlen (head[i]);
  for (guint i = 0; i < list->len; i++)
    {
      const HutchContainer *c = list->pdata[i];
      char **row;
      if ((!all && c->status != HUTCH_CONTAINER_RUNNING && !c->restarting) || !matches (&fd, c, filters))
        continue;
      if (last > 0 && shown++ >= last)
        break;
      if (quiet)
        {
          printf ("%.*s\n", no_trunc ? 64 : 12, c->id);
          continue;
        }
      if (w != NULL)
        {
          json_row (w, c);
          continue;
        }
      if (tmpl != NULL)
        {
          g_autofree char *text = template_row (c, no_trunc);
          if (!hutch_cli_template_row_text (tmpl, text, &error))
            return hutch_cli_fail (g_steal_pointer (&error));
          continue;
        }
      row = g_new0 (char *, G_N_ELEMENTS (head) + 1);
      row[0] = g_strndup (c->id, no_trunc ? 64 : 12);
      row[1] = g_strdup (c->image);
      row[2] = command_text (c, !no_trunc);
      row[3] = hutch_cli_format_ago (c->created / G_USEC_PER_SEC);
      row[4] = status_text (c);
      row[5] = hutch_container_ports_text (c);
      row[6] = g_strdup (c->name);
      for (gsize k = 0; k < G_N_ELEMENTS (head); k++)
        width[k] = MAX (width[k], (gsize) g_utf8_strlen (row[k], -1));
      g_ptr_array_add (rows, row);
    }
  if (w != NULL)
    {
      g_autofree char *text = NULL;
      hutch_json_end_array (w);
      text = hutch_json_writer_finish (w);
      printf ("%s\n", text);
      return 0;
    }
  if (tmpl != NULL)
    hutch_cli_template_finish (tmpl);
  if (quiet || tmpl != NULL)
    return 0;
  for (guint r = 0; r <= rows->len; r++)
    {
      const char *const *row = r == 0 ? head : (const char *const *) rows->pdata[r - 1];
      for (gsize k = 0; k < G_N_ELEMENTS (head); k++)
        {
          gsize len = (gsize) g_utf8_strlen (row[k], -1);
          printf ("%s%*s", row[k], k + 1 < G_N_ELEMENTS (head) ? (int) (width[k] - len + 3) : 0, "");
        }
      printf ("\n");
    }
  return 0;
}

/* inspect --format TEMPLATE: each container's object, as its JSON says. */
static int
inspect_template (HutchContext *ctx, const char *format, int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (HutchTemplate) t = NULL;
  g_autofree char *body = g_strstrip (g_strdup (format));
  int failed = 0;

  if ((t = hutch_template_parse (body, &error)) == NULL)
    return hutch_cli_fail (g_error_new (HUTCH_ERROR, HUTCH_ERROR_USAGE, "--format %s: %s", format,
                                        error->message));
  for (int i = 1; i < argc; i++)
    {
      g_autoptr (HutchJsonWriter) w = hutch_json_writer_new (FALSE);
      g_autoptr (GString) out = g_string_new (NULL);
      g_autofree char *id = hutch_container_resolve (ctx, argv[i], &error);
      g_autoptr (HutchContainer) c = id != NULL ? hutch_container_load (ctx, id, &error) : NULL;
      g_autofree char *text = NULL;
      g_autoptr (HutchJsonNode) root = NULL;
      if (c != NULL && hutch_container_inspect_write (ctx, c, w, &error))
        {
          text = hutch_json_writer_finish (w);
          root = hutch_json_parse (text, strlen (text), &error);
        }
      if (root == NULL || !hutch_template_execute (t, root, out, &error))
        {
          failed = hutch_cli_fail (g_steal_pointer (&error));
          continue;
        }
      printf ("%s\n", out->str);
    }
  return failed;
}

static int
run_inspect (const HutchCliCommand *cmd, HutchContext *ctx, int argc, char **argv)
{
  g_autoptr (HutchJsonWriter) w = hutch_json_writer_new (TRUE);
  g_autofree char *text = NULL;
  g_autofree char *format = NULL;
  int status, failed = 0;
  const GOptionEntry entries[] = {
    { "format", 'f', 0, G_OPTION_ARG_STRING, &format,
      "json (default), or a Go template run on each container ('{{.State.Status}}')", "FORMAT" },
    { NULL },
  };

  if (!hutch_cli_parse (cmd, entries, &argc, &argv, &status))
    return status;
  if (argc < 2)
    return hutch_cli_usage_error (cmd, "name at least one container");
  if (format != NULL && strcmp (format, "json") != 0)
    return inspect_template (ctx, format, argc, argv);
  hutch_json_begin_array (w);
  for (int i = 1; i < argc; i++)
    {
      g_autoptr (GError) error = NULL;
      g_autofree char *id = hutch_container_resolve (ctx, argv[i], &error);
      g_autoptr (HutchContainer) c = id != NULL ? hutch_container_load (ctx, id, &error) : NULL;
      if (c == NULL || !hutch_container_inspect_write (ctx, c, w, &error))
        failed = hutch_cli_fail (g_steal_pointer (&error));
    }
  hutch_json_end_array (w);
  text = hutch_json_writer_finish (w);
  printf ("%s\n", text);
  return failed;
}

static int
run_port (const HutchCliCommand *cmd, HutchContext *ctx, int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *id = NULL;
  g_autoptr (HutchContainer) c = NULL;
  GArray *ports;
  int status, shown = 0;

  if (!hutch_cli_parse (cmd, NULL, &argc, &argv, &status))
    return status;
  if (argc != 2 && argc != 3)
    return hutch_cli_usage_error (cmd, "name a container, and optionally PORT[/PROTO]");
  if ((id = hutch_container_resolve (ctx, argv[1], &error)) == NULL
      || (c = hutch_container_load (ctx, id, &error)) == NULL)
    return hutch_cli_fail (g_steal_pointer (&error));
  ports = c->status == HUTCH_CONTAINER_RUNNING ? c->bound : c->ports;
  for (guint i = 0; i < ports->len; i++)
    {
      const HutchNetPort *p = &g_array_index (ports, HutchNetPort, i);
      g_autofree char *key = g_strdup_printf ("%u/%s", p->ctr_port, p->udp ? "udp" : "tcp");
      char ip[INET_ADDRSTRLEN] = "0.0.0.0";
      if (argc == 3 && strcmp (argv[2], key) != 0
          && !(strchr (argv[2], '/') == NULL && !p->udp && (guint) atoi (argv[2]) == p->ctr_port))
        continue;
      if (p->host_port == 0)
        continue; /* not bound */
      (void) inet_ntop (AF_INET, &p->host_ip, ip, sizeof ip);
      if (argc == 3)
        printf ("%s:%u\n", ip, p->host_port);
      else
        printf ("%s -> %s:%u\n", key, ip, p->host_port);
      shown++;
    }
  if (argc == 3 && shown == 0)
    return hutch_cli_fail (g_error_new (HUTCH_ERROR, HUTCH_ERROR_NOT_FOUND,
                                        "container %s publishes no port %s", c->name, argv[2]));
  return 0;
}

const HutchCliCommand hutch_cli_command_ps = {
  "ps", "[OPTIONS]", "List containers (-a: those that have exited too)", run_ps,
};
const HutchCliCommand hutch_cli_command_inspect = {
  "inspect", "[-f FORMAT] CONTAINER...", "Show containers in detail, as JSON or through a template",
  run_inspect,
};
const HutchCliCommand hutch_cli_command_port = {
  "port", "CONTAINER [PORT[/PROTO]]", "Show a container's published ports", run_port,
};
