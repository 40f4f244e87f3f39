/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* hutch volume create|ls|inspect|rm|prune: the named volumes of the store,
 * printed as docker prints them. What a volume is lives in store/; which
 * containers use one, in container/. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "cli-private.h"
#include "container/container.h"
#include "store/store.h"

static const HutchCliColumn volume_columns[] = {
  { "Name", "VOLUME NAME" },    { "Driver", "DRIVER" },        { "Mountpoint", "MOUNTPOINT" },
  { "Scope", "SCOPE" },         { "CreatedAt", "CREATED AT" }, { "Labels", "LABELS" },
  { "Anonymous", "ANONYMOUS" },
};

/* docker's inspect object; @labels_text, for templates, as "K=V,K=V". */
static void
volume_write (HutchJsonWriter *w, const HutchStoreVolume *v, gboolean labels_text)
{
  hutch_json_begin_object (w);
  hutch_json_member_string (w, "CreatedAt", v->created_at);
  hutch_json_member_string (w, "Driver", "local");
  if (labels_text)
    {
      g_autofree char *joined = g_strjoinv (",", v->labels);
      hutch_json_member_string (w, "Labels", joined);
    }
  else
    {
      hutch_json_key (w, "Labels");
      hutch_json_begin_object (w);
      for (char **l = v->labels; *l != NULL; l++)
        {
          g_autofree char *key = g_strndup (*l, strcspn (*l, "="));
          hutch_json_member_string (w, key, strchr (*l, '=') != NULL ? strchr (*l, '=') + 1 : "");
        }
      hutch_json_end_object (w);
    }
  hutch_json_member_string (w, "Mountpoint", v->mountpoint);
  hutch_json_member_string (w, "Name", v->name);
  hutch_json_key (w, "Options");
  hutch_json_begin_object (w);
  hutch_json_end_object (w);
  hutch_json_member_string (w, "Scope", "local");
  hutch_json_member_bool (w, "Anonymous", v->anonymous);
  hutch_json_end_object (w);
}

static gboolean
template_row (HutchCliTemplate *t, const HutchStoreVolume *v, GError **error)
{
  g_autoptr (HutchJsonWriter) w = hutch_json_writer_new (FALSE);
  g_autofree char *text = NULL;

  volume_write (w, v, TRUE);
  text = hutch_json_writer_finish (w);
  return hutch_cli_template_row_text (t, text, error);
}

static int
run_volume_create (const HutchCliCommand *cmd, HutchContext *ctx, int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_auto (GStrv) labels = NULL;
  g_autofree char *driver = NULL;
  g_autoptr (HutchStoreVolume) v = NULL;
  int status;
  const GOptionEntry entries[] = {
    { "label", 'l', 0, G_OPTION_ARG_STRING_ARRAY, &labels, "Set a label on the volume",
      "KEY=VALUE" },
    { "driver", 'd', 0, G_OPTION_ARG_STRING, &driver, "local (the only one)", "DRIVER" },
    { NULL },
  };

  if (!hutch_cli_parse (cmd, entries, &argc, &argv, &status))
    return status;
  if (argc >= 2 && strcmp (argv[1], "--") == 0) /* GOption leaves it */
    argv[1] = argv[0], argv++, argc--;
  if (argc > 2)
    return hutch_cli_usage_error (cmd, "one volume name at most");
  if (driver != NULL && strcmp (driver, "local") != 0)
    return hutch_cli_usage_error (cmd, "--driver %s: hutch has the local driver alone", driver);
  if (argc == 2 && !hutch_store_volume_name_validate (argv[1], &error))
    return hutch_cli_usage_error (cmd, "%s", error->message);
  if (!hutch_container_state_dirs_check (ctx, &error)
      || (v = hutch_store_volume_create (ctx->root, argc == 2 ? argv[1] : NULL, labels, FALSE, NULL,
                                         &error))
             == NULL)
    {
      if (g_error_matches (error, HUTCH_ERROR, HUTCH_ERROR_USAGE))
        return hutch_cli_usage_error (cmd, "%s", error->message);
      return hutch_cli_fail (g_steal_pointer (&error));
    }
  printf ("%s\n", v->name);
  return 0;
}

static int
run_volume_ls (const HutchCliCommand *cmd, HutchContext *ctx, int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *format_text = NULL;
  g_autoptr (HutchCliTemplate) tmpl = NULL;
  g_autoptr (GPtrArray) volumes = NULL;
  HutchFormat format = HUTCH_FORMAT_TEXT;
  gboolean quiet = FALSE;
  int status;
  const GOptionEntry entries[] = {
    { "quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet, "Print volume names only", NULL },
    { "format", 'f', 0, G_OPTION_ARG_STRING, &format_text,
      "table, json, or a Go template ('{{.Name}}')", "FORMAT" },
    { NULL },
  };

  if (!hutch_cli_parse_no_args (cmd, entries, argc, argv, &status))
    return status;
  tmpl
      = hutch_cli_template_new (format_text, volume_columns, G_N_ELEMENTS (volume_columns), &error);
  if (tmpl == NULL && error == NULL)
    (void)hutch_cli_format_parse (format_text, &format, &error);
  if (error != NULL)
    return hutch_cli_usage_error (cmd, "%s", error->message);
  if ((volumes = hutch_store_volume_list (ctx->root, &error)) == NULL)
    return hutch_cli_fail (g_steal_pointer (&error));
  if (format == HUTCH_FORMAT_JSON)
    {
      g_autoptr (HutchJsonWriter) w = hutch_json_writer_new (TRUE);
      g_autofree char *text = NULL;
      hutch_json_begin_array (w);
      for (guint i = 0; i < volumes->len; i++)
        volume_write (w, volumes->pdata[i], FALSE);
      hutch_json_end_array (w);
      text = hutch_json_writer_finish (w);
      puts (text);
      return 0;
    }
  if (tmpl != NULL)
    {
      for (guint i = 0; i < volumes->len; i++)
        if (!template_row (tmpl, volumes->pdata[i], &error))
          return hutch_cli_fail (g_steal_pointer (&error));
      hutch_cli_template_finish (tmpl);
      return 0;
    }
  if (!quiet)
    printf ("%-10s %s\n", "DRIVER", "VOLUME NAME");
  for (guint i = 0; i < volumes->len; i++)
    {
      const HutchStoreVolume *v = volumes->pdata[i];
      if (quiet)
        printf ("%s\n", v->name);
      else
        printf ("%-10s %s\n", "local", v->name);
    }
  return 0;
}

static int
run_volume_inspect (const HutchCliCommand *cmd, HutchContext *ctx, int argc, char **argv)
{
  g_autofree char *format_text = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (HutchCliTemplate) tmpl = NULL;
  g_autoptr (HutchJsonWriter) w = hutch_json_writer_new (TRUE);
  g_autofree char *text = NULL;
  int status = 0;
  const GOptionEntry entries[] = {
    { "format", 'f', 0, G_OPTION_ARG_STRING, &format_text, "A Go template ('{{.Mountpoint}}')",
      "FORMAT" },
    { NULL },
  };

  if (!hutch_cli_parse (cmd, entries, &argc, &argv, &status))
    return status;
  if (argc < 2)
    return hutch_cli_usage_error (cmd, "name at least one volume");
  tmpl
      = hutch_cli_template_new (format_text, volume_columns, G_N_ELEMENTS (volume_columns), &error);
  if (error != NULL || (tmpl == NULL && format_text != NULL && strcmp (format_text, "json") != 0))
    return hutch_cli_usage_error (
        cmd, "%s", error != NULL ? error->message : "--format takes a Go template or json");
  hutch_json_begin_array (w);
  for (int i = 1; i < argc; i++)
    {
      g_autoptr (GError) local = NULL;
      g_autoptr (HutchStoreVolume) v = hutch_store_volume_get (ctx->root, argv[i], &local);
      if (v == NULL)
        {
          status = hutch_cli_fail (g_steal_pointer (&local));
          continue;
        }
      if (tmpl != NULL && !template_row (tmpl, v, &local))
        return hutch_cli_fail (g_steal_pointer (&local));
      volume_write (w, v, FALSE);
    }
  hutch_json_end_array (w);
  text = hutch_json_writer_finish (w);
  if (tmpl != NULL)
    hutch_cli_template_finish (tmpl);
  else
    puts (text);
  return status;
}

static int
run_volume_rm (const HutchCliCommand *cmd, HutchContext *ctx, int argc, char **argv)
{
  gboolean force = FALSE;
  int status = 0;
  const GOptionEntry entries[] = {
    { "force", 'f', 0, G_OPTION_ARG_NONE, &force,
      "A volume that does not exist is no error (one in use is still refused)", NULL },
    { NULL },
  };

  if (!hutch_cli_parse (cmd, entries, &argc, &argv, &status))
    return status;
  if (argc < 2)
    return hutch_cli_usage_error (cmd, "name at least one volume");
  for (int i = 1; i < argc; i++)
    {
      g_autoptr (GError) error = NULL;
      if (hutch_container_volume_remove (ctx, argv[i], force, &error))
        printf ("%s\n", argv[i]);
      else
        status = hutch_cli_fail (g_steal_pointer (&error));
    }
  return status;
}

static int
run_volume_prune (const HutchCliCommand *cmd, HutchContext *ctx, int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) removed = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *size = NULL;
  gboolean force = FALSE;
  guint64 bytes = 0;
  int status;
  const GOptionEntry entries[] = {
    { "force", 'f', 0, G_OPTION_ARG_NONE, &force, "Do not ask (hutch never asks)", NULL },
    { NULL },
  };

  if (!hutch_cli_parse_no_args (cmd, entries, argc, argv, &status))
    return status;
  if (!hutch_container_volume_prune (ctx, removed, &bytes, &error))
    {
      for (guint i = 0; i < removed->len; i++)
        printf ("%s\n", (char *)removed->pdata[i]);
      return hutch_cli_fail (g_steal_pointer (&error));
    }
  if (removed->len > 0)
    {
      printf ("Deleted Volumes:\n");
      for (guint i = 0; i < removed->len; i++)
        printf ("%s\n", (char *)removed->pdata[i]);
      printf ("\n");
    }
  size = hutch_cli_format_size ((gint64)bytes);
  printf ("Total reclaimed space: %s\n", size);
  return 0;
}

static const HutchCliCommand volume_create = {
  "volume create",
  "[OPTIONS] [NAME]",
  "Make a volume (without NAME: one of a random name, printed)",
  run_volume_create,
};
static const HutchCliCommand volume_inspect = {
  "volume inspect",
  "[OPTIONS] NAME...",
  "Print volumes as JSON",
  run_volume_inspect,
};
static const HutchCliCommand volume_ls = {
  "volume ls",
  "[OPTIONS]",
  "List the volumes",
  run_volume_ls,
};
static const HutchCliCommand volume_prune = {
  "volume prune",
  "[OPTIONS]",
  "Remove every volume no container uses",
  run_volume_prune,
};
static const HutchCliCommand volume_rm = {
  "volume rm",
  "[OPTIONS] NAME...",
  "Remove volumes that no container uses",
  run_volume_rm,
};

static int
run_volume (const HutchCliCommand *cmd, HutchContext *ctx, int argc, char **argv)
{
  static const HutchCliCommand *const subs[]
      = { &volume_create, &volume_inspect, &volume_ls, &volume_prune, &volume_rm, NULL };

  /* docker's other names for two of them */
  if (argc >= 2 && strcmp (argv[1], "list") == 0)
    return run_volume_ls (&volume_ls, ctx, argc - 1, argv + 1);
  if (argc >= 2 && strcmp (argv[1], "remove") == 0)
    return run_volume_rm (&volume_rm, ctx, argc - 1, argv + 1);
  return hutch_cli_run_group (cmd, subs, ctx, argc, argv);
}

const HutchCliCommand hutch_cli_command_volume = {
  "volume",
  "COMMAND",
  "Manage volumes: create, inspect, ls, prune, rm",
  run_volume,
};
