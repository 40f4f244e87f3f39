/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Image configs (OCI image-spec config.md; Docker's is the same shape):
 * platform, creation time, rootfs.diff_ids, history, and the "config" object
 * with Entrypoint, Cmd, Env, WorkingDir, User, ExposedPorts, Volumes, Labels
 * and StopSignal, each checked for its type so that later code may trust it. */
#include "config.h"

#include <string.h>

#include "image.h"

#define invalid(error, ...) hutch_throw (error, HUTCH_ERROR_INVALID_IMAGE, __VA_ARGS__)

static gboolean
is_string_array (const HutchJsonNode *n)
{
  if (n->type != HUTCH_JSON_ARRAY)
    return FALSE;
  for (guint i = 0; i < n->n_members; i++)
    if (n->members[i]->type != HUTCH_JSON_STRING)
      return FALSE;
  return TRUE;
}

static gboolean
is_object_of (const HutchJsonNode *n, gboolean values_are_strings)
{
  if (n->type != HUTCH_JSON_OBJECT)
    return FALSE;
  for (guint i = 0; i < n->n_members; i++)
    if (values_are_strings ? n->members[i]->type != HUTCH_JSON_STRING
                           : n->members[i]->type != HUTCH_JSON_OBJECT)
      return FALSE;
  return TRUE;
}

/* The runtime part, "config": each known key of the right type or null. */
static gboolean
check_runtime_config (const HutchJsonNode *cfg, GError **error)
{
  static const char *const strings[] = { "User", "WorkingDir", "StopSignal" };
  static const char *const string_arrays[] = { "Env", "Entrypoint", "Cmd" };
  static const char *const sets[] = { "ExposedPorts", "Volumes" };
  const HutchJsonNode *n;

  if (cfg->type != HUTCH_JSON_OBJECT)
    return invalid (error, "\"%s\" is not an object", "config");
  for (gsize i = 0; i < G_N_ELEMENTS (strings); i++)
    if ((n = hutch_json_node_member (cfg, strings[i])) != NULL && n->type != HUTCH_JSON_NULL
        && n->type != HUTCH_JSON_STRING)
      return invalid (error, "config.%s is not a string", strings[i]);
  for (gsize i = 0; i < G_N_ELEMENTS (string_arrays); i++)
    if ((n = hutch_json_node_member (cfg, string_arrays[i])) != NULL && n->type != HUTCH_JSON_NULL
        && !is_string_array (n))
      return invalid (error, "config.%s is not an array of strings", string_arrays[i]);
  for (gsize i = 0; i < G_N_ELEMENTS (sets); i++)
    if ((n = hutch_json_node_member (cfg, sets[i])) != NULL && n->type != HUTCH_JSON_NULL
        && !is_object_of (n, FALSE))
      return invalid (error, "config.%s is not an object of objects", sets[i]);
  if ((n = hutch_json_node_member (cfg, "Labels")) != NULL && n->type != HUTCH_JSON_NULL
      && !is_object_of (n, TRUE))
    return invalid (error, "config.%s is not an object of strings", "Labels");
  if ((n = hutch_json_node_member (cfg, "Env")) != NULL && n->type == HUTCH_JSON_ARRAY)
    for (guint i = 0; i < n->n_members; i++)
      if (strchr (n->members[i]->string, '=') == NULL)
        return hutch_throw (error, HUTCH_ERROR_INVALID_IMAGE,
                            "config.Env entry \"%s\" is not NAME=VALUE", n->members[i]->string);
  return TRUE;
}

static const char *
string_member (const HutchJsonNode *obj, const char *key)
{
  const HutchJsonNode *n = hutch_json_node_member (obj, key);
  return n != NULL && n->type == HUTCH_JSON_STRING ? n->string : NULL;
}

static gboolean
parse_rootfs (HutchImageConfig *c, GError **error)
{
  const HutchJsonNode *rootfs = hutch_json_node_member (c->root, "rootfs");
  const HutchJsonNode *ids;

  if (rootfs == NULL || rootfs->type != HUTCH_JSON_OBJECT)
    return invalid (error, "\"%s\" is missing or not an object", "rootfs");
  if (g_strcmp0 (string_member (rootfs, "type"), "layers") != 0)
    return invalid (error, "%s.type is not \"layers\"", "rootfs");
  ids = hutch_json_node_member (rootfs, "diff_ids");
  if (ids == NULL || !is_string_array (ids))
    return invalid (error, "%s.diff_ids is missing or not an array of strings", "rootfs");
  for (guint i = 0; i < ids->n_members; i++)
    {
      if (!hutch_digest_validate (ids->members[i]->string, error))
        return g_prefix_error (error, "rootfs.diff_ids[%u]: ", i), FALSE;
      g_ptr_array_add (c->diff_ids, ids->members[i]->string);
    }
  return TRUE;
}

HutchImageConfig *
hutch_image_config_parse (const char *json, gsize len, GError **error)
{
  g_autoptr (HutchImageConfig) c = g_new0 (HutchImageConfig, 1);
  const HutchJsonNode *history, *n;
  static const char *const optional_strings[] = { "created", "author", "variant" };

  c->diff_ids = g_ptr_array_new ();
  c->root = hutch_json_parse (json, len, error);
  if (c->root == NULL)
    return NULL;
  if (c->root->type != HUTCH_JSON_OBJECT)
    return invalid (error, "the %s is not a JSON object", "config"), NULL;
  c->architecture = string_member (c->root, "architecture");
  c->os = string_member (c->root, "os");
  if (c->architecture == NULL || c->os == NULL)
    return invalid (error, "\"architecture\" or \"os\" is missing from the %s", "config"), NULL;
  for (gsize i = 0; i < G_N_ELEMENTS (optional_strings); i++)
    if ((n = hutch_json_node_member (c->root, optional_strings[i])) != NULL
        && n->type != HUTCH_JSON_STRING)
      return invalid (error, "\"%s\" is not a string", optional_strings[i]), NULL;
  c->created = string_member (c->root, "created");
  c->author = string_member (c->root, "author");
  c->variant = string_member (c->root, "variant");
  if (c->created != NULL)
    {
      g_autoptr (GDateTime) t = g_date_time_new_from_iso8601 (c->created, NULL);
      if (t != NULL)
        c->created_unix = g_date_time_to_unix (t);
    }
  if (!parse_rootfs (c, error))
    return NULL;
  c->config = hutch_json_node_member (c->root, "config");
  if (c->config != NULL && c->config->type == HUTCH_JSON_NULL)
    c->config = NULL;
  if (c->config != NULL && !check_runtime_config (c->config, error))
    return NULL;
  history = hutch_json_node_member (c->root, "history");
  if (history != NULL && history->type != HUTCH_JSON_ARRAY)
    return invalid (error, "\"%s\" is not an array", "history"), NULL;
  for (guint i = 0; history != NULL && i < history->n_members; i++)
    if (history->members[i]->type != HUTCH_JSON_OBJECT)
      return invalid (error, "an entry of \"%s\" is not an object", "history"), NULL;
  return g_steal_pointer (&c);
}

void
hutch_image_config_free (HutchImageConfig *c)
{
  if (c == NULL)
    return;
  hutch_json_node_free (c->root);
  if (c->diff_ids != NULL)
    g_ptr_array_unref (c->diff_ids);
  g_free (c);
}

const char *
hutch_image_config_get_string (const HutchImageConfig *c, const char *key)
{
  return c->config != NULL ? string_member (c->config, key) : NULL;
}

gboolean
hutch_image_check_consistent (const HutchManifest *m, const HutchImageConfig *config,
                              GError **error)
{
  if (config->diff_ids->len != m->layers->len)
    return hutch_throw (error, HUTCH_ERROR_INVALID_IMAGE,
                        "the config lists %u layer diff_ids but the manifest has %u layers",
                        config->diff_ids->len, m->layers->len);
  return TRUE;
}
