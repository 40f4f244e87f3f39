/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Media types, descriptors, image manifests (OCI and Docker schema2) and
 * indexes (OCI and Docker manifest lists), validated strictly: known media
 * types only, sha256 digests, sizes within bounds, required fields typed.
 * Unknown fields are ignored, as the OCI spec requires. */
#include "config.h"

#include <string.h>

#include "image.h"

static const struct
{
  const char *type;
  HutchMediaKind kind;
} media_types[] = {
  { HUTCH_MEDIA_TYPE_OCI_MANIFEST, HUTCH_MEDIA_OCI_MANIFEST },
  { "application/vnd.docker.distribution.manifest.v2+json", HUTCH_MEDIA_DOCKER_MANIFEST },
  { HUTCH_MEDIA_TYPE_OCI_INDEX, HUTCH_MEDIA_OCI_INDEX },
  { "application/vnd.docker.distribution.manifest.list.v2+json", HUTCH_MEDIA_DOCKER_LIST },
  { HUTCH_MEDIA_TYPE_OCI_CONFIG, HUTCH_MEDIA_OCI_CONFIG },
  { "application/vnd.docker.container.image.v1+json", HUTCH_MEDIA_DOCKER_CONFIG },
  { HUTCH_MEDIA_TYPE_OCI_LAYER, HUTCH_MEDIA_LAYER_TAR },
  { HUTCH_MEDIA_TYPE_OCI_LAYER_GZIP, HUTCH_MEDIA_LAYER_GZIP },
  { HUTCH_MEDIA_TYPE_OCI_LAYER_ZSTD, HUTCH_MEDIA_LAYER_ZSTD },
  { "application/vnd.oci.image.layer.nondistributable.v1.tar", HUTCH_MEDIA_LAYER_TAR },
  { "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip", HUTCH_MEDIA_LAYER_GZIP },
  { "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd", HUTCH_MEDIA_LAYER_ZSTD },
  { "application/vnd.docker.image.rootfs.diff.tar", HUTCH_MEDIA_LAYER_TAR },
  { "application/vnd.docker.image.rootfs.diff.tar.gzip", HUTCH_MEDIA_LAYER_GZIP },
  { "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip", HUTCH_MEDIA_LAYER_GZIP },
};

HutchMediaKind
hutch_image_media_kind (const char *media_type)
{
  if (media_type == NULL)
    return HUTCH_MEDIA_UNKNOWN;
  for (gsize i = 0; i < G_N_ELEMENTS (media_types); i++)
    if (strcmp (media_types[i].type, media_type) == 0)
      return media_types[i].kind;
  return HUTCH_MEDIA_UNKNOWN;
}

gboolean
hutch_image_media_is_manifest (HutchMediaKind kind)
{
  return kind == HUTCH_MEDIA_OCI_MANIFEST || kind == HUTCH_MEDIA_DOCKER_MANIFEST;
}

gboolean
hutch_image_media_is_index (HutchMediaKind kind)
{
  return kind == HUTCH_MEDIA_OCI_INDEX || kind == HUTCH_MEDIA_DOCKER_LIST;
}

gboolean
hutch_image_media_is_layer (HutchMediaKind kind)
{
  return kind == HUTCH_MEDIA_LAYER_TAR || kind == HUTCH_MEDIA_LAYER_GZIP
         || kind == HUTCH_MEDIA_LAYER_ZSTD;
}

void
hutch_descriptor_free (HutchDescriptor *d)
{
  if (d == NULL)
    return;
  g_free (d->media_type);
  g_free (d->digest);
  hutch_image_platform_free (d->platform);
  g_free (d->ref_name);
  g_free (d);
}

#define invalid(error, ...) hutch_throw (error, HUTCH_ERROR_INVALID_IMAGE, __VA_ARGS__)

/* A member that must be a string when present; NULL when absent. */
static gboolean
get_string (const HutchJsonNode *obj, const char *key, gboolean required, const char **out,
            GError **error)
{
  const HutchJsonNode *n = hutch_json_node_member (obj, key);

  *out = NULL;
  if (n == NULL)
    return required ? invalid (error, "\"%s\" is missing", key) : TRUE;
  if (n->type != HUTCH_JSON_STRING)
    return invalid (error, "\"%s\" is not a string", key);
  *out = n->string;
  return TRUE;
}

static gboolean
parse_platform (const HutchJsonNode *obj, HutchPlatform **out, GError **error)
{
  const char *os, *arch, *variant;
  const HutchJsonNode *n = hutch_json_node_member (obj, "platform");

  *out = NULL;
  if (n == NULL)
    return TRUE;
  if (n->type != HUTCH_JSON_OBJECT)
    return invalid (error, "\"platform\" is not an object");
  if (!get_string (n, "os", TRUE, &os, error) || !get_string (n, "architecture", TRUE, &arch, error)
      || !get_string (n, "variant", FALSE, &variant, error))
    return g_prefix_error (error, "platform: "), FALSE;
  *out = g_new0 (HutchPlatform, 1);
  (*out)->os = g_strdup (os);
  (*out)->architecture = g_strdup (arch);
  (*out)->variant = g_strdup (variant);
  return TRUE;
}

static HutchDescriptor *
parse_descriptor (const HutchJsonNode *obj, GError **error)
{
  g_autoptr (HutchDescriptor) d = g_new0 (HutchDescriptor, 1);
  const HutchJsonNode *size, *annotations;
  const char *media_type, *digest;

  if (obj == NULL || obj->type != HUTCH_JSON_OBJECT)
    return invalid (error, "a descriptor is not an object"), NULL;
  if (!get_string (obj, "mediaType", TRUE, &media_type, error)
      || !get_string (obj, "digest", TRUE, &digest, error)
      || !hutch_digest_validate (digest, error))
    return NULL;
  size = hutch_json_node_member (obj, "size");
  if (size == NULL || size->type != HUTCH_JSON_NUMBER || !size->is_int)
    return invalid (error, "descriptor %s: \"size\" is missing or not an integer", digest), NULL;
  if (size->integer < 0 || size->integer > HUTCH_IMAGE_MAX_BLOB_SIZE)
    return invalid (error, "descriptor %s: size %" G_GINT64_FORMAT " is out of bounds (0 to 1 TiB)",
                    digest, size->integer), NULL;
  if (hutch_json_node_member (obj, "urls") != NULL)
    return invalid (error,
                    "descriptor %s has \"urls\": layers fetched from elsewhere (foreign "
                    "layers) are not supported", digest), NULL;
  d->media_type = g_strdup (media_type);
  d->kind = hutch_image_media_kind (media_type);
  d->digest = g_strdup (digest);
  d->size = size->integer;
  annotations = hutch_json_node_member (obj, "annotations");
  if (annotations != NULL)
    {
      const char *ref_name;
      if (annotations->type != HUTCH_JSON_OBJECT)
        return invalid (error, "descriptor %s: \"annotations\" is not an object", digest), NULL;
      if (!get_string (annotations, "org.opencontainers.image.ref.name", FALSE, &ref_name, error))
        return NULL;
      d->ref_name = g_strdup (ref_name);
    }
  if (!parse_platform (obj, &d->platform, error))
    return g_prefix_error (error, "descriptor %s: ", digest), NULL;
  return g_steal_pointer (&d);
}

/* schemaVersion 2, and a mediaType (when present) that agrees with what the
 * pointing descriptor said. Returns the kind of the document. */
static gboolean
check_header (const HutchJsonNode *root, HutchMediaKind expected, gboolean want_index,
              HutchMediaKind *out_kind, GError **error)
{
  const HutchJsonNode *version = hutch_json_node_member (root, "schemaVersion");
  const char *media_type;
  HutchMediaKind kind;

  if (root->type != HUTCH_JSON_OBJECT)
    return invalid (error, "the document is not a JSON object");
  if (version == NULL || version->type != HUTCH_JSON_NUMBER || !version->is_int
      || version->integer != 2)
    return invalid (error, "\"schemaVersion\" is not 2 (Docker schema 1 images are not supported)");
  if (!get_string (root, "mediaType", FALSE, &media_type, error))
    return FALSE;
  kind = hutch_image_media_kind (media_type);
  if (media_type != NULL && (want_index ? !hutch_image_media_is_index (kind)
                                        : !hutch_image_media_is_manifest (kind)))
    return invalid (error, "media type \"%s\" is not an image %s", media_type,
                    want_index ? "index" : "manifest");
  if (media_type == NULL)
    kind = expected != HUTCH_MEDIA_UNKNOWN ? expected
           : want_index ? HUTCH_MEDIA_OCI_INDEX : HUTCH_MEDIA_OCI_MANIFEST;
  /* Docker's formats always name themselves; only OCI may leave it out. */
  if (media_type == NULL && (kind == HUTCH_MEDIA_DOCKER_MANIFEST || kind == HUTCH_MEDIA_DOCKER_LIST))
    return invalid (error, "\"mediaType\" is missing");
  if (expected != HUTCH_MEDIA_UNKNOWN && kind != expected)
    return invalid (error, "the document's media type \"%s\" is not the one its descriptor names",
                    media_type);
  *out_kind = kind;
  return TRUE;
}

void
hutch_image_manifest_free (HutchManifest *m)
{
  if (m == NULL)
    return;
  hutch_descriptor_free (m->config);
  if (m->layers != NULL)
    g_ptr_array_unref (m->layers);
  g_free (m);
}

HutchManifest *
hutch_image_manifest_parse (const char *json, gsize len, HutchMediaKind expected, GError **error)
{
  g_autoptr (HutchJsonNode) root = hutch_json_parse (json, len, error);
  g_autoptr (HutchManifest) m = NULL;
  const HutchJsonNode *layers;

  if (root == NULL)
    return NULL;
  m = g_new0 (HutchManifest, 1);
  m->layers = g_ptr_array_new_with_free_func ((GDestroyNotify) hutch_descriptor_free);
  if (!check_header (root, expected, FALSE, &m->kind, error))
    return NULL;
  m->config = parse_descriptor (hutch_json_node_member (root, "config"), error);
  if (m->config == NULL)
    return g_prefix_error (error, "config: "), NULL;
  if (m->config->kind != HUTCH_MEDIA_OCI_CONFIG && m->config->kind != HUTCH_MEDIA_DOCKER_CONFIG)
    return invalid (error, "config %s has media type \"%s\", not an image config",
                    m->config->digest, m->config->media_type), NULL;
  if (m->config->size > HUTCH_JSON_MAX_SIZE)
    return invalid (error, "config %s: size %" G_GINT64_FORMAT " is over the 4 MiB limit",
                    m->config->digest, m->config->size), NULL;
  layers = hutch_json_node_member (root, "layers");
  if (layers == NULL || layers->type != HUTCH_JSON_ARRAY)
    return invalid (error, "\"layers\" is missing or not an array"), NULL;
  if (layers->n_members > HUTCH_IMAGE_MAX_LAYERS)
    return invalid (error, "%u layers is more than the %d allowed", layers->n_members,
                    HUTCH_IMAGE_MAX_LAYERS), NULL;
  for (guint i = 0; i < layers->n_members; i++)
    {
      HutchDescriptor *d = parse_descriptor (layers->members[i], error);
      if (d == NULL)
        return g_prefix_error (error, "layer %u: ", i + 1), NULL;
      g_ptr_array_add (m->layers, d);
      if (!hutch_image_media_is_layer (d->kind))
        return invalid (error, "layer %u (%s) has media type \"%s\", which is not a layer type "
                        "hutch knows (tar, tar+gzip, tar+zstd)", i + 1, d->digest,
                        d->media_type), NULL;
    }
  return g_steal_pointer (&m);
}

char *
hutch_image_manifest_to_oci_json (const HutchManifest *m)
{
  g_autoptr (HutchJsonWriter) w = hutch_json_writer_new (FALSE);

  hutch_json_begin_object (w);
  hutch_json_key (w, "schemaVersion");
  hutch_json_int (w, 2);
  hutch_json_key (w, "mediaType");
  hutch_json_string (w, HUTCH_MEDIA_TYPE_OCI_MANIFEST);
  hutch_json_key (w, "config");
  hutch_json_begin_object (w);
  hutch_json_key (w, "mediaType");
  hutch_json_string (w, HUTCH_MEDIA_TYPE_OCI_CONFIG);
  hutch_json_key (w, "digest");
  hutch_json_string (w, m->config->digest);
  hutch_json_key (w, "size");
  hutch_json_int (w, m->config->size);
  hutch_json_end_object (w);
  hutch_json_key (w, "layers");
  hutch_json_begin_array (w);
  for (guint i = 0; i < m->layers->len; i++)
    {
      const HutchDescriptor *d = m->layers->pdata[i];
      hutch_json_begin_object (w);
      hutch_json_key (w, "mediaType");
      hutch_json_string (w, d->kind == HUTCH_MEDIA_LAYER_GZIP   ? HUTCH_MEDIA_TYPE_OCI_LAYER_GZIP
                            : d->kind == HUTCH_MEDIA_LAYER_ZSTD ? HUTCH_MEDIA_TYPE_OCI_LAYER_ZSTD
                                                                : HUTCH_MEDIA_TYPE_OCI_LAYER);
      hutch_json_key (w, "digest");
      hutch_json_string (w, d->digest);
      hutch_json_key (w, "size");
      hutch_json_int (w, d->size);
      hutch_json_end_object (w);
    }
  hutch_json_end_array (w);
  hutch_json_end_object (w);
  return hutch_json_writer_finish (w);
}

void
hutch_image_index_free (HutchIndex *idx)
{
  if (idx == NULL)
    return;
  if (idx->manifests != NULL)
    g_ptr_array_unref (idx->manifests);
  g_free (idx);
}

HutchIndex *
hutch_image_index_parse (const char *json, gsize len, HutchMediaKind expected, GError **error)
{
  g_autoptr (HutchJsonNode) root = hutch_json_parse (json, len, error);
  g_autoptr (HutchIndex) idx = NULL;
  const HutchJsonNode *manifests;

  if (root == NULL)
    return NULL;
  idx = g_new0 (HutchIndex, 1);
  idx->manifests = g_ptr_array_new_with_free_func ((GDestroyNotify) hutch_descriptor_free);
  if (!check_header (root, expected, TRUE, &idx->kind, error))
    return NULL;
  manifests = hutch_json_node_member (root, "manifests");
  if (manifests == NULL || manifests->type != HUTCH_JSON_ARRAY)
    return invalid (error, "\"manifests\" is missing or not an array"), NULL;
  for (guint i = 0; i < manifests->n_members; i++)
    {
      HutchDescriptor *d = parse_descriptor (manifests->members[i], error);
      if (d == NULL)
        return g_prefix_error (error, "manifest entry %u: ", i + 1), NULL;
      g_ptr_array_add (idx->manifests, d);
      if (!hutch_image_media_is_manifest (d->kind) && !hutch_image_media_is_index (d->kind))
        return invalid (error, "manifest entry %u (%s) has media type \"%s\", not a manifest "
                        "or index", i + 1, d->digest, d->media_type), NULL;
      if (d->size > HUTCH_JSON_MAX_SIZE)
        return invalid (error, "manifest entry %u (%s): size %" G_GINT64_FORMAT
                        " is over the 4 MiB limit", i + 1, d->digest, d->size), NULL;
    }
  return g_steal_pointer (&idx);
}

const HutchDescriptor *
hutch_image_index_select (const HutchIndex *idx, const HutchPlatform *want, GError **error)
{
  const HutchDescriptor *best = NULL;
  int best_rank = -1;
  g_autoptr (GString) seen = g_string_new (NULL);
  g_autofree char *want_text = hutch_image_platform_to_string (want);

  for (guint i = 0; i < idx->manifests->len; i++)
    {
      const HutchDescriptor *d = idx->manifests->pdata[i];
      int rank;
      if (d->platform == NULL || !hutch_image_media_is_manifest (d->kind))
        continue;
      rank = hutch_image_platform_rank (want, d->platform);
      if (rank >= 0 && (best == NULL || rank < best_rank))
        best = d, best_rank = rank;
      {
        g_autofree char *p = hutch_image_platform_to_string (d->platform);
        g_string_append_printf (seen, "%s%s", seen->len > 0 ? ", " : "", p);
      }
    }
  if (best == NULL)
    return hutch_throw (error, HUTCH_ERROR_NOT_FOUND,
                        "no image for platform %s; the index has: %s (choose one with --platform)",
                        want_text, seen->len > 0 ? seen->str : "no platform-specific manifests"),
           NULL;
  return best;
}
