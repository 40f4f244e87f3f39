/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* hutch ps, inspect and port: what the records say, with the live state. */
#include "config.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli-private.h"
#include "container/container.h"

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
      return g_strdup_printf ("Up %s", ago);
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

/* --filter KEY=VALUE: the same key ORs, different keys AND (as docker). */
static gboolean
matches (const HutchContainer *c, char **filters)
{
  gboolean status_given = FALSE, status_ok = FALSE, name_given = FALSE, name_ok = FALSE;
  gboolean id_given = FALSE, id_ok = FALSE;

  for (char **f = filters; f != NULL && *f != NULL; f++)
    {
      const char *v = strchr (*f, '=') + 1;
      if (g_str_has_prefix (*f, "status="))
        status_given = TRUE, status_ok |= strcmp (v, hutch_container_status_name (c->status)) == 0;
      else if (g_str_has_prefix (*f, "name="))
        name_given = TRUE, name_ok |= strstr (c->name, v) != NULL;
      else if (g_str_has_prefix (*f, "id="))
        id_given = TRUE, id_ok |= g_str_has_prefix (c->id, v);
    }
  return (!status_given || status_ok) && (!name_given || name_ok) && (!id_given || id_ok);
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
  hutch_json_member_string (w, "State", hutch_container_status_name (c->status));
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
  gboolean all = FALSE, quiet = FALSE, no_trunc = FALSE;
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
    { "filter", 'f', 0, G_OPTION_ARG_STRING_ARRAY, &filters, "status=, name= or id=", "KEY=VALUE" },
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
  for (char **f = filters; f != NULL && *f != NULL; f++)
    {
      if (!g_str_has_prefix (*f, "status=") && !g_str_has_prefix (*f, "name=")
          && !g_str_has_prefix (*f, "id="))
        return hutch_cli_usage_error (cmd, "--filter %s: hutch filters on status=, name= and id=", *f);
      if (g_str_has_prefix (*f, "status="))
        all = TRUE; /* as docker: a status filter looks at every container */
    }
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
      if ((!all && c->status != HUTCH_CONTAINER_RUNNING && !c->restarting) || !matches (c, filters))
        continue;
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
