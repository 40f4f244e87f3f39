/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Local images: hutch images, image inspect, tag and rmi. The `image` group
 * gives the same commands podman's names (image ls, image rm, ...). */
#include "config.h"

#include <fnmatch.h>
#include <stdio.h>
#include <string.h>

#include "cli-private.h"
#include "build/build.h"
#include "container/container.h"
#include "store/store.h"

/* "docker.io/library/busybox:latest" → repository and tag, by the same
 * parser that normalised the name when it was stored. */
static void
split_name (const char *name, char **out_repo, char **out_tag)
{
  g_autoptr (HutchImageRef) ref = hutch_image_ref_parse (name, NULL);

  *out_repo = ref != NULL ? hutch_image_ref_repository (ref) : g_strdup (name);
  *out_tag = g_strdup (ref != NULL && ref->tag != NULL ? ref->tag : "<none>");
}

static void
print_table_row (const HutchStoreImage *image, const char *name, gboolean no_trunc,
                 gboolean digests)
{
  g_autofree char *repo = NULL, *tag = NULL;
  g_autofree char *ago = image->config != NULL ? hutch_cli_format_ago (image->config->created_unix)
                                               : g_strdup ("-");
  g_autofree char *size = image->damage == NULL ? hutch_cli_format_size (image->size)
                                                : g_strdup ("DAMAGED");

  if (name != NULL)
    split_name (name, &repo, &tag);
  printf ("%-40s %-12s ", repo != NULL ? repo : "<none>", tag != NULL ? tag : "<none>");
  if (digests)
    printf ("%-71s ", image->digest);
  printf ("%-*.*s %-20s %s\n", no_trunc ? 64 : 12, no_trunc ? 64 : 12, hutch_store_image_id (image),
          ago, size);
}

/* What images --format TEMPLATE sees: docker's fields. */
static const HutchCliColumn image_columns[] = {
  { "Repository", "REPOSITORY" }, { "Tag", "TAG" },        { "ID", "IMAGE ID" },
  { "Digest", "DIGEST" },         { "CreatedSince", "CREATED" }, { "CreatedAt", "CREATED AT" },
  { "Size", "SIZE" },             { "Containers", "CONTAINERS" },
};

static gboolean
template_row (HutchCliTemplate *t, const HutchStoreImage *image, const char *name,
              gboolean no_trunc, GError **error)
{
  g_autoptr (HutchJsonWriter) w = hutch_json_writer_new (FALSE);
  g_autofree char *repo = NULL, *tag = NULL, *text = NULL;
  g_autofree char *id = g_strndup (hutch_store_image_id (image), no_trunc ? 64 : 12);
  g_autofree char *ago = image->config != NULL ? hutch_cli_format_ago (image->config->created_unix)
                                               : g_strdup ("");
  g_autofree char *size = image->damage == NULL ? hutch_cli_format_size (image->size)
                                                : g_strdup ("DAMAGED");

  if (name != NULL)
    split_name (name, &repo, &tag);
  hutch_json_begin_object (w);
  hutch_json_member_string (w, "Repository", repo != NULL ? repo : "<none>");
  hutch_json_member_string (w, "Tag", tag != NULL ? tag : "<none>");
  hutch_json_member_string (w, "ID", id);
  hutch_json_member_string (w, "Digest", image->digest);
  hutch_json_member_string (w, "CreatedSince", ago);
  hutch_json_member_string (w, "CreatedAt", image->config != NULL ? image->config->created : "");
  hutch_json_member_string (w, "Size", size);
  hutch_json_member_string (w, "Containers", "N/A");
  hutch_json_end_object (w);
  text = hutch_json_writer_finish (w);
  return hutch_cli_template_row_text (t, text, error);
}

static void
write_repo_digests (HutchJsonWriter *w, const HutchStoreImage *image)
{
  g_autoptr (GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

  hutch_json_begin_array (w);
  for (guint i = 0; i < image->names->len; i++)
    {
      g_autofree char *repo = NULL, *tag = NULL;
      split_name (image->names->pdata[i], &repo, &tag);
      if (g_hash_table_contains (seen, repo))
        continue;
      {
        g_autofree char *rd = g_strdup_printf ("%s@%s", repo, image->digest);
        hutch_json_string (w, rd);
      }
      g_hash_table_add (seen, g_steal_pointer (&repo));
    }
  hutch_json_end_array (w);
}

static void
write_names (HutchJsonWriter *w, const HutchStoreImage *image)
{
  hutch_json_begin_array (w);
  for (guint i = 0; i < image->names->len; i++)
    hutch_json_string (w, image->names->pdata[i]);
  hutch_json_end_array (w);
}

/* @node when it is of @type, else an empty one: podman's shape never
 * has null where an object or a list goes. */
static void
write_or_empty (HutchJsonWriter *w, const HutchJsonNode *node, HutchJsonType type)
{
  if (node != NULL && node->type == type)
    hutch_json_write_node (w, node);
  else if (type == HUTCH_JSON_ARRAY)
    {
      hutch_json_begin_array (w);
      hutch_json_end_array (w);
    }
  else
    {
      hutch_json_begin_object (w);
      hutch_json_end_object (w);
    }
}

static void
write_labels (HutchJsonWriter *w, const HutchStoreImage *image)
{
  write_or_empty (w, image->config != NULL ? hutch_json_node_member (image->config->config, "Labels")
                                           : NULL,
                  HUTCH_JSON_OBJECT);
}

/* A damaged image is listed, marked, and said once on stderr with what
 * fixes it: the others are listed as ever. */
static void
warn_damaged (GPtrArray *images)
{
  for (guint i = 0; i < images->len; i++)
    {
      const HutchStoreImage *image = images->pdata[i];
      const char *what = image->names->len > 0 ? image->names->pdata[0] : hutch_store_image_id (image);
      if (image->damage != NULL)
        g_warning ("image %s is damaged: %s; load or pull it again, which replaces what is "
                   "damaged, or remove it with \"hutch rmi -f %s\"", what, image->damage, what);
    }
}

/* The untagged images builds made their later steps on, as docker and
 * podman leave them out without -a. */
static void
hide_intermediates (const HutchContext *ctx, GPtrArray *images)
{
  g_autoptr (GHashTable) steps = hutch_build_cache_intermediates (ctx);

  for (guint i = images->len; i > 0; i--)
    {
      const HutchStoreImage *image = images->pdata[i - 1];
      if (image->names->len == 0 && g_hash_table_contains (steps, hutch_store_image_id (image)))
        g_ptr_array_remove_index (images, i - 1);
    }
}

/* images --filter: docker's keys. The same key ORs, different keys AND;
 * reference= is matched per name (a row), the others per image. */
static const char *const image_filter_keys[] = { "dangling", "reference", "label", "before",
                                                 "since", NULL };

static char *
image_filters_check (HutchStore *store, char **filters, GError **error)
{
  for (char **f = filters; f != NULL && *f != NULL; f++)
    {
      const char *eq = strchr (*f, '=');
      g_autofree char *key = g_strndup (*f, eq != NULL ? (gsize) (eq - *f) : strlen (*f));
      if (eq == NULL || !g_strv_contains (image_filter_keys, key))
        return g_strdup_printf ("--filter %s: hutch filters images on dangling=true|false, "
                                "reference=PATTERN, label=KEY[=VALUE], before=IMAGE and "
                                "since=IMAGE", *f);
      if (strcmp (key, "dangling") == 0 && strcmp (eq + 1, "true") != 0
          && strcmp (eq + 1, "false") != 0)
        return g_strdup_printf ("--filter %s: dangling is true or false", *f);
      if (strcmp (key, "before") == 0 || strcmp (key, "since") == 0)
        {
          g_autoptr (HutchStoreImage) image = hutch_store_image_lookup (store, eq + 1, NULL, error);
          if (image == NULL)
            return NULL;
        }
    }
  return NULL;
}

/* The created time of the image @text names (checked to be there). */
static gint64
image_created (HutchStore *store, const char *text)
{
  g_autoptr (HutchStoreImage) image = hutch_store_image_lookup (store, text, NULL, NULL);

  return image != NULL && image->config != NULL ? image->config->created_unix : 0;
}

static gboolean
image_label_matches (const HutchStoreImage *image, const char *want)
{
  const HutchJsonNode *labels = image->config != NULL
                                  ? hutch_json_node_member (image->config->config, "Labels") : NULL;
  g_autofree char *key = g_strndup (want, strcspn (want, "="));
  const char *value = strchr (want, '=');
  const HutchJsonNode *n = labels != NULL ? hutch_json_node_member (labels, key) : NULL;

  return n != NULL && n->type == HUTCH_JSON_STRING
         && (value == NULL || strcmp (n->string, value + 1) == 0);
}

/* Whether @image passes the filters other than reference=. */
static gboolean
image_matches (HutchStore *store, const HutchStoreImage *image, char **filters)
{
  static const char *const keys[] = { "dangling", "label", "before", "since" };
  gboolean given[G_N_ELEMENTS (keys)] = { 0 }, ok[G_N_ELEMENTS (keys)] = { 0 };
  gint64 created = image->config != NULL ? image->config->created_unix : 0;

  for (char **f = filters; f != NULL && *f != NULL; f++)
    {
      const char *v = strchr (*f, '=') + 1;
      for (gsize k = 0; k < G_N_ELEMENTS (keys); k++)
        {
          if (!g_str_has_prefix (*f, keys[k]) || (*f)[strlen (keys[k])] != '=')
            continue;
          given[k] = TRUE;
          if (k == 0)
            ok[k] |= (image->names->len == 0) == (strcmp (v, "true") == 0);
          else if (k == 1)
            ok[k] |= image_label_matches (image, v);
          else if (k == 2)
            ok[k] |= created < image_created (store, v);
          else
            ok[k] |= created > image_created (store, v);
        }
    }
  for (gsize k = 0; k < G_N_ELEMENTS (keys); k++)
    if (given[k] && !ok[k])
      return FALSE;
  return TRUE;
}

/* reference=PATTERN against @name (NULL: an untagged image's row, which no
 * pattern matches): as docker, a glob on the name as given to it
 * ("busybox", "busybox:latest") or as stored in full, '*' not crossing '/'. */
static gboolean
reference_matches (const char *name, char **filters)
{
  gboolean given = FALSE;

  for (char **f = filters; f != NULL && *f != NULL; f++)
    {
      g_autofree char *repo = NULL, *tag = NULL, *short_repo = NULL, *with_tag = NULL;
      g_autofree char *short_with_tag = NULL;
      const char *pattern = *f + strlen ("reference=");
      if (!g_str_has_prefix (*f, "reference="))
        continue;
      given = TRUE;
      if (name == NULL)
        continue;
      split_name (name, &repo, &tag);
      short_repo = g_strdup (g_str_has_prefix (repo, "docker.io/library/") ? repo + 18
                             : g_str_has_prefix (repo, "docker.io/")       ? repo + 10
                                                                           : repo);
      with_tag = g_strdup_printf ("%s:%s", repo, tag);
      short_with_tag = g_strdup_printf ("%s:%s", short_repo, tag);
      if (fnmatch (pattern, repo, FNM_PATHNAME) == 0 || fnmatch (pattern, with_tag, FNM_PATHNAME) == 0
          || fnmatch (pattern, short_repo, FNM_PATHNAME) == 0
          || fnmatch (pattern, short_with_tag, FNM_PATHNAME) == 0)
        return TRUE;
    }
  return !given;
}

/* The rows of @images that the filters let through: (image, name) pairs,
 * name NULL for an untagged image. */
static GPtrArray *
filtered_rows (HutchStore *store, GPtrArray *images, char **filters)
{
  GPtrArray *rows = g_ptr_array_new ();

  for (guint i = 0; i < images->len; i++)
    {
      HutchStoreImage *image = images->pdata[i];
      if (!image_matches (store, image, filters))
        continue;
      if (image->names->len == 0 && reference_matches (NULL, filters))
        g_ptr_array_add (rows, image), g_ptr_array_add (rows, NULL);
      for (guint j = 0; j < image->names->len; j++)
        if (reference_matches (image->names->pdata[j], filters))
          g_ptr_array_add (rows, image), g_ptr_array_add (rows, image->names->pdata[j]);
    }
  return rows;
}

static int
run_images (const HutchCliCommand *cmd, HutchContext *ctx, int argc, char **argv)
{
  g_autofree char *format_text = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (HutchStore) store = NULL;
  g_autoptr (GPtrArray) images = NULL;
  gboolean quiet = FALSE, no_trunc = FALSE, all = FALSE, digests = FALSE;
  g_auto (GStrv) filters = NULL;
  g_autofree char *bad = NULL;
  g_autoptr (GPtrArray) rows = NULL;
  HutchFormat format = HUTCH_FORMAT_TEXT;
  g_autoptr (HutchCliTemplate) tmpl = NULL;
  int status;
  const GOptionEntry entries[] = {
    { "quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet, "Print image IDs only", NULL },
    { "all", 'a', 0, G_OPTION_ARG_NONE, &all, "Show the intermediate images of builds too", NULL },
    { "no-trunc", 0, 0, G_OPTION_ARG_NONE, &no_trunc, "Print full image IDs", NULL },
    { "digests", 0, 0, G_OPTION_ARG_NONE, &digests, "Show each image's manifest digest too", NULL },
    { "filter", 0, 0, G_OPTION_ARG_STRING_ARRAY, &filters,
      "dangling=true|false, reference=PATTERN, label=KEY[=VALUE], before=IMAGE or since=IMAGE",
      "KEY=VALUE" },
    { "format", 'f', 0, G_OPTION_ARG_STRING, &format_text,
      "table, json, or a Go template ('{{.Repository}}:{{.Tag}}')", "FORMAT" },
    { NULL },
  };

  if (!hutch_cli_parse_no_args (cmd, entries, argc, argv, &status))
    return status;
  tmpl = hutch_cli_template_new (format_text, image_columns, G_N_ELEMENTS (image_columns), &error);
  if (tmpl == NULL && error == NULL && !hutch_cli_format_parse (format_text, &format, &error))
    return hutch_cli_usage_error (cmd, "%s", error->message);
  if (error != NULL)
    return hutch_cli_usage_error (cmd, "%s", error->message);
  store = hutch_store_open (ctx->root, FALSE, &error);
  if (store == NULL || (images = hutch_store_images_list (store, &error)) == NULL)
    return hutch_cli_fail (g_steal_pointer (&error));
  if ((bad = image_filters_check (store, filters, &error)) != NULL)
    return hutch_cli_usage_error (cmd, "%s", bad);
  if (error != NULL)
    return hutch_cli_fail (g_steal_pointer (&error));
  warn_damaged (images);
  if (!all)
    hide_intermediates (ctx, images);
  if (filters != NULL)
    {
      /* the images no filter lets through are left out of every format */
      g_autoptr (GPtrArray) kept = g_ptr_array_new ();
      rows = filtered_rows (store, images, filters);
      for (guint i = 0; i < rows->len; i += 2)
        if (!g_ptr_array_find (kept, rows->pdata[i], NULL))
          g_ptr_array_add (kept, rows->pdata[i]);
      for (guint i = images->len; i > 0; i--)
        if (!g_ptr_array_find (kept, images->pdata[i - 1], NULL))
          g_ptr_array_remove_index (images, i - 1);
    }
  else
    rows = filtered_rows (store, images, NULL);
  if (format == HUTCH_FORMAT_JSON)
    {
      g_autoptr (HutchJsonWriter) w = hutch_json_writer_new (TRUE);
      g_autofree char *text = NULL;
      hutch_json_begin_array (w);
      for (guint i = 0; i < images->len; i++)
        {
          const HutchStoreImage *image = images->pdata[i];
          hutch_json_begin_object (w);
          hutch_json_key (w, "Id");
          hutch_json_string (w, hutch_store_image_id (image));
          hutch_json_key (w, "Names");
          write_names (w, image);
          hutch_json_key (w, "RepoTags");
          write_names (w, image);
          hutch_json_key (w, "RepoDigests");
          write_repo_digests (w, image);
          hutch_json_key (w, "Digest");
          hutch_json_string (w, image->digest);
          hutch_json_key (w, "Created");
          hutch_json_int (w, image->config != NULL ? image->config->created_unix : 0);
          hutch_json_key (w, "CreatedAt");
          hutch_json_string (w, image->config != NULL ? image->config->created : "");
          hutch_json_key (w, "Size");
          hutch_json_int (w, image->size);
          hutch_json_key (w, "Labels");
          write_labels (w, image);
          if (image->damage != NULL)
            {
              hutch_json_key (w, "Damaged");
              hutch_json_string (w, image->damage);
            }
          hutch_json_end_object (w);
        }
      hutch_json_end_array (w);
      text = hutch_json_writer_finish (w);
      puts (text);
      return 0;
    }
  if (tmpl != NULL)
    {
      for (guint i = 0; i < rows->len; i += 2)
        if (!template_row (tmpl, rows->pdata[i], rows->pdata[i + 1], no_trunc, &error))
          return hutch_cli_fail (g_steal_pointer (&error));
      hutch_cli_template_finish (tmpl);
      return 0;
    }
  if (quiet)
    {
      for (guint i = 0; i < images->len; i++)
        printf ("%.*s\n", no_trunc ? 64 : 12, hutch_store_image_id (images->pdata[i]));
      return 0;
    }
  printf ("%-40s %-12s ", "REPOSITORY", "TAG");
  if (digests)
    printf ("%-71s ", "DIGEST");
  printf ("%-*s %-20s %s\n", no_trunc ? 64 : 12, "IMAGE ID", "CREATED", "SIZE");
  for (guint i = 0; i < rows->len; i += 2)
    print_table_row (rows->pdata[i], rows->pdata[i + 1], no_trunc, digests);
  return 0;
}

const HutchCliCommand hutch_cli_command_images = {
  "images", "[OPTIONS]",
  "List the images in the store",
  run_images,
};

static void
write_inspect (HutchJsonWriter *w, const HutchStoreImage *image)
{
  const HutchImageConfig *c = image->config;
  const HutchJsonNode *history = hutch_json_node_member (c->root, "history");

  hutch_json_begin_object (w);
  hutch_json_key (w, "Id");
  hutch_json_string (w, hutch_store_image_id (image));
  hutch_json_key (w, "Digest");
  hutch_json_string (w, image->digest);
  hutch_json_key (w, "RepoTags");
  write_names (w, image);
  hutch_json_key (w, "RepoDigests");
  write_repo_digests (w, image);
  hutch_json_key (w, "Created");
  hutch_json_string (w, c->created);
  hutch_json_key (w, "Author");
  hutch_json_string (w, c->author != NULL ? c->author : "");
  hutch_json_key (w, "Architecture");
  hutch_json_string (w, c->architecture);
  hutch_json_key (w, "Os");
  hutch_json_string (w, c->os);
  if (c->variant != NULL)
    {
      hutch_json_key (w, "Variant");
      hutch_json_string (w, c->variant);
    }
  hutch_json_key (w, "Config");
  write_or_empty (w, c->config, HUTCH_JSON_OBJECT);
  hutch_json_key (w, "Labels");
  write_labels (w, image);
  hutch_json_key (w, "Size");
  hutch_json_int (w, image->size);
  hutch_json_key (w, "ManifestType");
  hutch_json_string (w, image->media_type);
  hutch_json_key (w, "RootFS");
  hutch_json_begin_object (w);
  hutch_json_key (w, "Type");
  hutch_json_string (w, "layers");
  hutch_json_key (w, "Layers");
  hutch_json_begin_array (w);
  for (guint i = 0; i < c->diff_ids->len; i++)
    hutch_json_string (w, c->diff_ids->pdata[i]);
  hutch_json_end_array (w);
  hutch_json_end_object (w);
  hutch_json_key (w, "History");
  write_or_empty (w, history, HUTCH_JSON_ARRAY);
  hutch_json_end_object (w);
}

static int
run_inspect (const HutchCliCommand *cmd, HutchContext *ctx, int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (HutchStore) store = NULL;
  g_autoptr (HutchJsonWriter) w = hutch_json_writer_new (TRUE);
  g_autofree char *text = NULL;
  int status, failed = 0;

  if (!hutch_cli_parse (cmd, NULL, &argc, &argv, &status))
    return status;
  if (argc < 2)
    return hutch_cli_usage_error (cmd, "name at least one image");
  store = hutch_store_open (ctx->root, FALSE, &error);
  if (store == NULL)
    return hutch_cli_fail (g_steal_pointer (&error));
  hutch_json_begin_array (w);
  for (int i = 1; i < argc; i++)
    {
      g_autoptr (HutchStoreImage) image = hutch_store_image_lookup (store, argv[i], NULL, &error);
      if (image == NULL)
        {
          fprintf (stderr, "hutch: %s\n", error->message);
          g_clear_error (&error);
          failed++;
          continue;
        }
      write_inspect (w, image);
    }
  hutch_json_end_array (w);
  text = hutch_json_writer_finish (w);
  puts (text);
  return failed > 0 ? HUTCH_EXIT_FAILURE : 0;
}

static const HutchCliCommand image_inspect = {
  "image inspect", "IMAGE...",
  "Show what the store knows of images, as JSON",
  run_inspect,
};

static int
run_tag (const HutchCliCommand *cmd, HutchContext *ctx, int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (HutchStore) store = NULL;
  int status;

  if (!hutch_cli_parse (cmd, NULL, &argc, &argv, &status))
    return status;
  if (argc < 3)
    return hutch_cli_usage_error (cmd, "give the image and at least one new name");
  store = hutch_store_open (ctx->root, TRUE, &error);
  if (store == NULL)
    return hutch_cli_fail (g_steal_pointer (&error));
  for (int i = 2; i < argc; i++)
    if (hutch_store_image_tag (store, argv[1], argv[i], &error))
      hutch_event_record (ctx, 0, "image", "tag", argv[1], argv[i], NULL, NULL);
    else
      return hutch_cli_fail (g_steal_pointer (&error));
  return 0;
}

const HutchCliCommand hutch_cli_command_tag = {
  "tag", "IMAGE NAME...",
  "Give an image more names",
  run_tag,
};

static const HutchCliCommand image_tag = { "image tag", "IMAGE NAME...", "Give an image more names",
                                           run_tag };

/* As docker: an image a container was made from keeps its last name
 * (its layers are the container's root) until the container is removed;
 * with -f, until it stops. The caller holds the store lock exclusive
 * (hutch_container_images_protect()), so a container being made has its
 * record by now, or will not find the image. */
static gboolean
check_unused (HutchContext *ctx, HutchStore *store, const char *ref, gboolean force, GError **error)
{
  g_autoptr (HutchStoreImage) image = hutch_store_image_lookup (store, ref, NULL, NULL);
  g_autoptr (GPtrArray) containers = NULL;
  gboolean by_name = FALSE;

  if (image == NULL || image->manifest == NULL)
    return TRUE; /* the removal says what is wrong, or removes the damaged image */
  for (guint i = 0; i < image->names->len; i++)
    by_name |= strstr (image->names->pdata[i], ref) != NULL;
  if (by_name && image->names->len > 1)
    return TRUE; /* only a name goes */
  if ((containers = hutch_container_list (ctx, error)) == NULL)
    return FALSE;
  for (guint i = 0; i < containers->len; i++)
    {
      const HutchContainer *c = containers->pdata[i];
      if (g_strcmp0 (c->image_id, image->manifest->config->digest) != 0
          || (force && c->status != HUTCH_CONTAINER_RUNNING))
        continue;
      if (force)
        return hutch_throw (error, HUTCH_ERROR_BUSY,
                            "image %s is used by running container %s, which runs on its "
                            "layers: stop it first (hutch stop %s); -f does not remove the "
                            "image of a running container",
                            ref, c->name, c->name);
      return hutch_throw (error, HUTCH_ERROR_BUSY,
                            "image %s is used by container %s (%s): remove the container first "
                            "(hutch rm %s), or use rmi -f",
                            ref, c->name, hutch_container_status_name (c->status), c->name);
    }
  return TRUE;
}

static int
run_rmi (const HutchCliCommand *cmd, HutchContext *ctx, int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (HutchStore) store = NULL;
  gboolean force = FALSE;
  int status, failed = 0;
  const GOptionEntry entries[] = {
    { "force", 'f', 0, G_OPTION_ARG_NONE, &force,
      "Remove an image by ID even when it has several names, or a container uses it", NULL },
    { NULL },
  };

  if (!hutch_cli_parse (cmd, entries, &argc, &argv, &status))
    return status;
  if (argc < 2)
    return hutch_cli_usage_error (cmd, "name at least one image");
  store = hutch_store_open (ctx->root, FALSE, &error);
  if (store == NULL || !hutch_container_images_protect (ctx, store, &error))
    return hutch_cli_fail (g_steal_pointer (&error));
  for (int i = 1; i < argc; i++)
    {
      g_autoptr (GPtrArray) report = g_ptr_array_new_with_free_func (g_free);
      gboolean ok = check_unused (ctx, store, argv[i], force, &error)
                    && hutch_store_image_remove (store, argv[i], force, report, &error);
      for (guint j = 0; j < report->len; j++)
        {
          /* "Untagged: NAME" and "Deleted: ID", as docker's untag and delete */
          const char *line = report->pdata[j];
          puts (line);
          if (g_str_has_prefix (line, "Untagged: "))
            hutch_event_record (ctx, 0, "image", "untag", line + 10, line + 10, NULL, NULL);
          else if (g_str_has_prefix (line, "Deleted: "))
            hutch_event_record (ctx, 0, "image", "delete", line + 9, line + 9, NULL, NULL);
        }
      if (!ok)
        {
          fprintf (stderr, "hutch: %s\n", error->message);
          g_clear_error (&error);
          failed++;
        }
    }
  return failed > 0 ? HUTCH_EXIT_FAILURE : 0;
}

const HutchCliCommand hutch_cli_command_rmi = {
  "rmi", "[OPTIONS] IMAGE...",
  "Remove image names, and images left without one",
  run_rmi,
};

static const HutchCliCommand image_rm = { "image rm", "[OPTIONS] IMAGE...",
                                          "Remove image names, and images left without one",
                                          run_rmi };
static const HutchCliCommand image_ls = { "image ls", "[OPTIONS]", "List the images in the store",
                                          run_images };

static int
run_image (const HutchCliCommand *cmd, HutchContext *ctx, int argc, char **argv)
{
  static const HutchCliCommand image_history = { "image history", "[OPTIONS] IMAGE",
                                                 "Show the steps an image was made of", NULL };
  static const HutchCliCommand *const subs[] = { &image_history, &image_inspect, &image_ls,
                                                 &hutch_cli_command_image_prune, &image_rm,
                                                 &image_tag, NULL };

  /* `image history` is history */
  if (argc >= 2 && strcmp (argv[1], "history") == 0)
    return hutch_cli_command_history.run (&hutch_cli_command_history, ctx, argc - 1, argv + 1);
  return hutch_cli_run_group (cmd, subs, ctx, argc, argv);
}

const HutchCliCommand hutch_cli_command_image = {
  "image", "COMMAND",
  "Manage images: history, inspect, ls, prune, rm, tag",
  run_image,
};
