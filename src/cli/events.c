/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* hutch events [--since WHEN] [--until WHEN] [--filter K=V]... [--format F]
 * [--stream=BOOL]: what was done to containers and images, from the
 * store's event log, as docker prints it; without --until it goes on
 * printing events as they come, as docker and podman do. */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "cli-private.h"
#include "container/container.h"

static const HutchCliColumn event_columns[] = {
  { "Type", "TYPE" },   { "Action", "ACTION" }, { "Status", "STATUS" }, { "ID", "ID" },
  { "From", "FROM" },   { "Actor", "ACTOR" },   { "Time", "TIME" },     { "TimeNano", "TIME NANO" },
  { "Scope", "SCOPE" },
};

/* --filter type=, event= (or action=), container=, image=: the same key
 * ORs, different keys AND, as docker's. */
static gboolean
matches (const HutchEvent *e, char **filters)
{
  static const char *const keys[] = { "type", "event", "container", "image" };

  for (gsize k = 0; k < G_N_ELEMENTS (keys); k++)
    {
      gboolean asked = FALSE, any = FALSE;
      for (char **f = filters; f != NULL && *f != NULL; f++)
        {
          const char *eq = strchr (*f, '=');
          g_autofree char *key = eq != NULL ? g_strndup (*f, (gsize) (eq - *f)) : NULL;
          const char *v = eq != NULL ? eq + 1 : "";
          if (key != NULL && strcmp (key, "action") == 0)
            g_free (key), key = g_strdup ("event");
          if (key == NULL || strcmp (key, keys[k]) != 0)
            continue;
          asked = TRUE;
          if (k == 0)
            any |= strcmp (e->type, v) == 0;
          else if (k == 1)
            any |= strcmp (e->action, v) == 0;
          else if (k == 2)
            any |= strcmp (e->type, "container") == 0
                   && (g_str_has_prefix (e->id, v) || g_strcmp0 (e->name, v) == 0);
          else
            any |= g_strcmp0 (e->image, v) == 0 || (strcmp (e->type, "image") == 0
                                                     && (g_strcmp0 (e->name, v) == 0
                                                         || g_str_has_prefix (e->id, v)));
        }
      if (asked && !any)
        return FALSE;
    }
  return TRUE;
}

static gboolean
filters_check (const HutchCliCommand *cmd, char **filters, int *out_status)
{
  for (char **f = filters; f != NULL && *f != NULL; f++)
    if (!g_str_has_prefix (*f, "type=") && !g_str_has_prefix (*f, "event=")
        && !g_str_has_prefix (*f, "action=") && !g_str_has_prefix (*f, "container=")
        && !g_str_has_prefix (*f, "image="))
      {
        *out_status = hutch_cli_usage_error (cmd, "--filter %s: hutch filters events by type=, "
                                             "event=, container= and image=", *f);
        return FALSE;
      }
  return TRUE;
}

static char *
row_json (const HutchEvent *e)
{
  g_autoptr (HutchJsonWriter) w = hutch_json_writer_new (FALSE);

  hutch_json_begin_object (w);
  hutch_json_member_string (w, "Type", e->type);
  hutch_json_member_string (w, "Action", e->action);
  hutch_json_member_string (w, "Status", e->action);
  hutch_json_member_string (w, "ID", e->id);
  hutch_json_member_string (w, "From", e->image != NULL ? e->image : "");
  hutch_json_key (w, "Actor");
  hutch_json_begin_object (w);
  hutch_json_member_string (w, "ID", e->id);
  hutch_json_key (w, "Attributes");
  hutch_json_begin_object (w);
  if (e->name != NULL)
    hutch_json_member_string (w, "name", e->name);
  if (e->image != NULL)
    hutch_json_member_string (w, "image", e->image);
  if (e->extra != NULL)
    hutch_json_member_string (w, strcmp (e->action, "die") == 0    ? "exitCode"
                                 : strcmp (e->action, "kill") == 0 ? "signal"
                                                                   : "extra",
                              e->extra);
  hutch_json_end_object (w);
  hutch_json_end_object (w);
  hutch_json_member_int (w, "Time", e->time / G_USEC_PER_SEC);
  hutch_json_member_int (w, "TimeNano", e->time * 1000);
  hutch_json_member_string (w, "Scope", "local");
  hutch_json_end_object (w);
  return hutch_json_writer_finish (w);
}

/* docker's line: TIME TYPE ACTION ID (image=..., name=..., exitCode=...) */
static void
print_text (const HutchEvent *e)
{
  g_autoptr (GDateTime) t = g_date_time_new_from_unix_utc (e->time / G_USEC_PER_SEC);
  g_autofree char *when = t != NULL ? g_date_time_format (t, "%Y-%m-%dT%H:%M:%S") : g_strdup ("?");
  g_autoptr (GString) attrs = g_string_new (NULL);

  if (e->image != NULL)
    g_string_append_printf (attrs, "image=%s", e->image);
  if (e->name != NULL)
    g_string_append_printf (attrs, "%sname=%s", attrs->len > 0 ? ", " : "", e->name);
  if (e->extra != NULL && strcmp (e->action, "die") == 0)
    g_string_append_printf (attrs, "%sexitCode=%s", attrs->len > 0 ? ", " : "", e->extra);
  else if (e->extra != NULL && strcmp (e->action, "kill") == 0)
    g_string_append_printf (attrs, "%ssignal=%s", attrs->len > 0 ? ", " : "", e->extra);
  printf ("%s.%09" G_GINT64_FORMAT "Z %s %s %s (%s)\n", when, (e->time % G_USEC_PER_SEC) * 1000,
          e->type, e->action, e->id, attrs->str);
}

static gboolean
print_events (GPtrArray *events, char **filters, HutchFormat format, HutchCliTemplate *tmpl,
              GError **error)
{
  for (guint i = 0; i < events->len; i++)
    {
      const HutchEvent *e = events->pdata[i];
      g_autofree char *json = NULL;
      if (!matches (e, filters))
        continue;
      if (tmpl != NULL || format == HUTCH_FORMAT_JSON)
        json = row_json (e);
      if (tmpl != NULL && !hutch_cli_template_row_text (tmpl, json, error))
        return FALSE;
      if (tmpl == NULL && format == HUTCH_FORMAT_JSON)
        printf ("%s\n", json);
      else if (tmpl == NULL)
        print_text (e);
    }
  return fflush (stdout) == 0;
}

static int
run_events (const HutchCliCommand *cmd, HutchContext *ctx, int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *since_text = NULL, *until_text = NULL, *format_text = NULL, *stream_text = NULL;
  g_auto (GStrv) filters = NULL;
  g_autoptr (HutchCliTemplate) tmpl = NULL;
  g_autoptr (GHashTable) died = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autofree char *log = NULL;
  HutchFormat format = HUTCH_FORMAT_TEXT;
  gint64 since = 0, until = 0, offset = 0;
  gboolean stream;
  int status, watch = -1;
  const GOptionEntry entries[] = {
    { "since", 0, 0, G_OPTION_ARG_STRING, &since_text, "Events since a time, or a duration ago (10m)", "WHEN" },
    { "until", 0, 0, G_OPTION_ARG_STRING, &until_text, "Events until a time (then end)", "WHEN" },
    { "filter", 'f', 0, G_OPTION_ARG_STRING_ARRAY, &filters, "type=, event=, container= or image=", "KEY=VALUE" },
    { "format", 0, 0, G_OPTION_ARG_STRING, &format_text, "json, or a Go template", "FORMAT" },
    { "stream", 0, 0, G_OPTION_ARG_STRING, &stream_text,
      "true (default without --until): go on printing events as they come", "BOOL" },
    { NULL },
  };

  if (!hutch_cli_parse_no_args (cmd, entries, argc, argv, &status) || !filters_check (cmd, filters, &status))
    return status;
  if ((since_text != NULL && !hutch_container_parse_since (since_text, &since, &error))
      || (until_text != NULL && !hutch_container_parse_since (until_text, &until, &error)))
    return hutch_cli_usage_error (cmd, "%s", error->message);
  if (stream_text != NULL && strcmp (stream_text, "true") != 0 && strcmp (stream_text, "false") != 0)
    return hutch_cli_usage_error (cmd, "--stream=%s: use true or false", stream_text);
  stream = stream_text != NULL ? strcmp (stream_text, "true") == 0 : until_text == NULL;
  tmpl = hutch_cli_template_new (format_text, event_columns, G_N_ELEMENTS (event_columns), &error);
  if (tmpl == NULL && error == NULL && format_text != NULL
      && !hutch_cli_format_parse (format_text, &format, &error))
    return hutch_cli_usage_error (cmd, "%s", error->message);
  if (error != NULL)
    return hutch_cli_usage_error (cmd, "%s", error->message);
  if (!hutch_container_state_dirs_check (ctx, &error))
    return hutch_cli_fail (g_steal_pointer (&error));
  /* the log exists from now on, so that it can be watched */
  log = g_build_filename (ctx->root, "events.log", NULL);
  if (stream)
    {
      int fd = hutch_event_log_open (ctx);
      if (fd >= 0)
        close (fd);
      watch = inotify_init1 (IN_CLOEXEC | IN_NONBLOCK);
      if (watch >= 0 && inotify_add_watch (watch, log, IN_MODIFY) < 0)
        hutch_fd_clear (&watch);
    }
  for (;;)
    {
      g_autoptr (GPtrArray) events = hutch_events_read (ctx, since, until, &offset, died);
      struct pollfd p = { watch, POLLIN, 0 };
      char buf[4096];
      if (!print_events (events, filters, format, tmpl, &error))
        return hutch_cli_fail (error != NULL ? g_steal_pointer (&error)
                                             : g_error_new (HUTCH_ERROR, HUTCH_ERROR_FAILED,
                                                            "writing the events: %s", g_strerror (errno)));
      if (!stream || (until != 0 && g_get_real_time () > until))
        break;
      /* a write to the log wakes us; a container whose monitor was killed
       * writes none, so its end is looked for each second */
      if (poll (&p, watch >= 0 ? 1 : 0, 1000) > 0)
        while (read (watch, buf, sizeof buf) > 0)
          ;
    }
  if (tmpl != NULL)
    hutch_cli_template_finish (tmpl);
  if (watch >= 0)
    close (watch);
  return 0;
}

const HutchCliCommand hutch_cli_command_events = {
  "events", "[OPTIONS]",
  "Show what was done to containers and images, and go on as it happens",
  run_events,
};
