/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* hutch system df, prune and check: what the store holds and takes,
 * collecting what no image uses, and checking (and repairing) it all. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli-private.h"
#include "container/container.h"
#include "store/store.h"

static int
run_df (const HutchCliCommand *cmd, HutchContext *ctx, int argc, char **argv)
{
  g_autofree char *format_text = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (HutchStore) store = NULL;
  HutchFormat format = HUTCH_FORMAT_TEXT;
  HutchStoreUsage u;
  int status;
  const GOptionEntry entries[] = {
    { "format", 'f', 0, G_OPTION_ARG_STRING, &format_text, "Output format: table or json", "FORMAT" },
    { NULL },
  };

  if (!hutch_cli_parse_no_args (cmd, entries, argc, argv, &status))
    return status;
  if (!hutch_cli_format_parse (format_text, &format, &error))
    return hutch_cli_usage_error (cmd, "%s", error->message);
  store = hutch_store_open (ctx->root, FALSE, &error);
  if (store == NULL || !hutch_store_usage (store, &u, &error))
    return hutch_cli_fail (g_steal_pointer (&error));
  if (format == HUTCH_FORMAT_JSON)
    {
      g_autoptr (HutchJsonWriter) w = hutch_json_writer_new (TRUE);
      g_autofree char *text = NULL;
      hutch_json_begin_object (w);
      hutch_json_key (w, "Images");
      hutch_json_int (w, u.images);
      hutch_json_key (w, "Untagged");
      hutch_json_int (w, u.dangling);
      hutch_json_key (w, "Blobs");
      hutch_json_int (w, u.blobs);
      hutch_json_key (w, "Size");
      hutch_json_int (w, u.blob_bytes);
      hutch_json_key (w, "Reclaimable");
      hutch_json_int (w, u.unreferenced_bytes);
      hutch_json_key (w, "UnusedBlobs");
      hutch_json_int (w, u.unreferenced);
      hutch_json_end_object (w);
      text = hutch_json_writer_finish (w);
      puts (text);
      return 0;
    }
  {
    g_autofree char *size = hutch_cli_format_size (u.blob_bytes);
    g_autofree char *reclaim = hutch_cli_format_size (u.unreferenced_bytes);
    printf ("%-8s %-8s %-8s %-12s %s\n", "TYPE", "TOTAL", "UNTAGGED", "SIZE", "RECLAIMABLE");
    printf ("%-8s %-8u %-8u %-12s %s (%u unused blobs)\n", "Images", u.images, u.dangling, size,
            reclaim, u.unreferenced);
  }
  return 0;
}

static const HutchCliCommand system_df = {
  "system df", "[OPTIONS]",
  "Show how much disk the store takes",
  run_df,
};

static int
run_prune (const HutchCliCommand *cmd, HutchContext *ctx, int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (HutchStore) store = NULL;
  g_autofree char *size = NULL;
  g_auto (HutchStorePruned) p = { 0 };
  gboolean force = FALSE, all = FALSE;
  guint containers;
  int status;
  const GOptionEntry entries[] = {
    { "force", 'f', 0, G_OPTION_ARG_NONE, &force, "Accepted for podman compatibility; hutch never asks",
      NULL },
    { "all", 'a', 0, G_OPTION_ARG_NONE, &all, "Every image no container uses too, named or not",
      NULL },
    { NULL },
  };

  if (!hutch_cli_parse_no_args (cmd, entries, argc, argv, &status))
    return status;
  /* containers first: the layers an exited container used may go next */
  if (!hutch_container_prune (ctx, &containers, &error))
    return hutch_cli_fail (g_steal_pointer (&error));
  if (containers > 0)
    printf ("Removed %u exited container%s\n", containers, containers == 1 ? "" : "s");
  if (all)
    {
      g_autoptr (GPtrArray) report = g_ptr_array_new_with_free_func (g_free);
      gint64 reclaimed = 0;
      gboolean ok = hutch_cli_images_prune (ctx, TRUE, report, &reclaimed, &error);
      hutch_cli_images_prune_print (report, reclaimed);
      return ok ? 0 : hutch_cli_fail (g_steal_pointer (&error));
    }
  store = hutch_store_open (ctx->root, FALSE, &error);
  if (store == NULL || !hutch_container_images_protect (ctx, store, &error)
      || !hutch_store_prune (store, &p, &error))
    return hutch_cli_fail (g_steal_pointer (&error));
  size = hutch_cli_format_size (p.bytes);
  printf ("Removed %u untagged image%s, %u unused blob%s and %u unused layer%s; reclaimed %s "
          "of blobs\n", p.images, p.images == 1 ? "" : "s", p.blobs, p.blobs == 1 ? "" : "s",
          p.layers, p.layers == 1 ? "" : "s", size);
  if (p.kept != NULL)
    g_warning ("%s", p.kept);
  return 0;
}

static const HutchCliCommand system_prune = {
  "system prune", "[OPTIONS]",
  "Remove exited containers, untagged images (-a: unused ones) and blobs no image uses",
  run_prune,
};

static void
print_findings_json (const HutchStoreCheck *r, guint problems, guint remaining)
{
  g_autoptr (HutchJsonWriter) w = hutch_json_writer_new (TRUE);
  g_autofree char *text = NULL;

  hutch_json_begin_object (w);
  hutch_json_member_int (w, "Blobs", r->blobs);
  hutch_json_member_int (w, "Images", r->images);
  hutch_json_member_int (w, "Layers", r->layers);
  hutch_json_member_int (w, "Problems", problems);
  hutch_json_member_int (w, "Remaining", remaining);
  hutch_json_member_int (w, "Held", r->held_bytes);
  hutch_json_key (w, "Findings");
  hutch_json_begin_array (w);
  for (guint i = 0; i < r->findings->len; i++)
    {
      const HutchStoreFinding *f = r->findings->pdata[i];
      hutch_json_begin_object (w);
      hutch_json_member_string (w, "Kind", f->problem ? "problem" : "note");
      hutch_json_member_string (w, "Object", f->object);
      hutch_json_member_string (w, "Text", f->text);
      hutch_json_member_string (w, "Fix", f->fix != NULL ? f->fix : "");
      hutch_json_key (w, "Repaired");
      hutch_json_bool (w, f->repaired);
      hutch_json_end_object (w);
    }
  hutch_json_end_array (w);
  hutch_json_end_object (w);
  text = hutch_json_writer_finish (w);
  puts (text);
}

static void
print_findings (const HutchStoreCheck *r, guint problems, guint remaining, const char *root)
{
  for (guint i = 0; i < r->findings->len; i++)
    {
      const HutchStoreFinding *f = r->findings->pdata[i];
      printf ("%s %s: %s\n", f->problem ? "problem:" : "note:   ", f->object, f->text);
      if (f->repaired)
        printf ("         repaired: %s\n", f->fix != NULL ? f->fix : "done");
      else if (f->fix != NULL)
        printf ("         fix: %s\n", f->fix);
    }
  printf ("%s: %u blob%s, %u image%s and %u layer%s checked: ", root, r->blobs,
          r->blobs == 1 ? "" : "s", r->images, r->images == 1 ? "" : "s", r->layers,
          r->layers == 1 ? "" : "s");
  if (problems == 0)
    printf ("no problems\n");
  else if (remaining == 0)
    printf ("%u problem%s, all repaired\n", problems, problems == 1 ? "" : "s");
  else
    printf ("%u problem%s, %u not repaired\n", problems, problems == 1 ? "" : "s", remaining);
}

static int
run_check (const HutchCliCommand *cmd, HutchContext *ctx, int argc, char **argv)
{
  g_autofree char *format_text = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (HutchStore) store = NULL;
  g_auto (HutchStoreCheck) r = { 0 };
  HutchFormat format = HUTCH_FORMAT_TEXT;
  gboolean repair = FALSE;
  guint problems, remaining;
  int status;
  const GOptionEntry entries[] = {
    { "repair", 0, 0, G_OPTION_ARG_NONE, &repair,
      "Repair what can be: rebuild index.json, delete damaged blobs and incomplete layers, "
      "remove leftovers, finish half-removed containers, remove those whose record cannot be "
      "read", NULL },
    { "format", 'f', 0, G_OPTION_ARG_STRING, &format_text, "Output format: table or json", "FORMAT" },
    { NULL },
  };

  if (!hutch_cli_parse_no_args (cmd, entries, argc, argv, &status))
    return status;
  if (!hutch_cli_format_parse (format_text, &format, &error))
    return hutch_cli_usage_error (cmd, "%s", error->message);
  store = hutch_store_open (ctx->root, FALSE, &error);
  if (store == NULL || !hutch_store_check (store, repair, &r, &error))
    return hutch_cli_fail (g_steal_pointer (&error));
  hutch_container_check (ctx, repair, r.findings);
  problems = remaining = 0;
  for (guint i = 0; i < r.findings->len; i++)
    {
      const HutchStoreFinding *f = r.findings->pdata[i];
      problems += f->problem;
      remaining += f->problem && !f->repaired;
    }
  if (format == HUTCH_FORMAT_JSON)
    print_findings_json (&r, problems, remaining);
  else
    print_findings (&r, problems, remaining, ctx->root);
  /* 0: nothing wrong (or all of it repaired); 1: something is */
  return remaining > 0 ? 1 : 0;
}

static const HutchCliCommand system_check = {
  "system check", "[OPTIONS]",
  "Check every blob, image and layer of the store, and repair what can be",
  run_check,
};

static int
run_system (const HutchCliCommand *cmd, HutchContext *ctx, int argc, char **argv)
{
  static const HutchCliCommand system_info = { "system info", "[OPTIONS]",
                                               "Show the host picture (the same as hutch info)",
                                               NULL };
  static const HutchCliCommand *const subs[] = { &system_check, &system_df, &system_info,
                                                 &system_prune, NULL };

  /* `system info` is info, as docker and podman spell it */
  if (argc >= 2 && strcmp (argv[1], "info") == 0)
    return hutch_cli_command_info.run (&hutch_cli_command_info, ctx, argc - 1, argv + 1);
  return hutch_cli_run_group (cmd, subs, ctx, argc, argv);
}

const HutchCliCommand hutch_cli_command_system = {
  "system", "COMMAND",
  "Manage the store: check, df, info, prune",
  run_system,
};
