/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* An image made here rather than pulled or loaded (commit, import): its
 * config and a manifest written as blobs, then one entry in index.json.
 * The layers are already in the store (layer-new.c). A failure deletes
 * the blobs this wrote, so the store is as it was. */
#include "config.h"

#include <string.h>

#include "store-private.h"

#define DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define DOCKER_CONFIG "application/vnd.docker.container.image.v1+json"

static const char *
layer_media_type (HutchMediaKind kind, gboolean docker)
{
  switch (kind)
    {
    case HUTCH_MEDIA_LAYER_GZIP:
      return docker ? "application/vnd.docker.image.rootfs.diff.tar.gzip"
                    : HUTCH_MEDIA_TYPE_OCI_LAYER_GZIP;
    case HUTCH_MEDIA_LAYER_ZSTD:
      return HUTCH_MEDIA_TYPE_OCI_LAYER_ZSTD;
    default:
      return docker ? "application/vnd.docker.image.rootfs.diff.tar" : HUTCH_MEDIA_TYPE_OCI_LAYER;
    }
}

static void
write_descriptor (HutchJsonWriter *w, const char *media_type, const char *digest, gint64 size)
{
  hutch_json_begin_object (w);
  hutch_json_member_string (w, "mediaType", media_type);
  hutch_json_member_string (w, "digest", digest);
  hutch_json_member_int (w, "size", size);
  hutch_json_end_object (w);
}

static HutchMediaKind
new_layer_kind (const HutchStoreNewLayer *layer)
{
  return layer->compression == HUTCH_LAYER_GZIP   ? HUTCH_MEDIA_LAYER_GZIP
         : layer->compression == HUTCH_LAYER_ZSTD ? HUTCH_MEDIA_LAYER_ZSTD
                                                  : HUTCH_MEDIA_LAYER_TAR;
}

static char *
manifest_json (const char *config_digest, gsize config_size, const HutchManifest *base,
               const HutchStoreNewLayer *layer, gboolean docker)
{
  g_autoptr (HutchJsonWriter) w = hutch_json_writer_new (FALSE);

  hutch_json_begin_object (w);
  hutch_json_member_int (w, "schemaVersion", 2);
  hutch_json_member_string (w, "mediaType", docker ? DOCKER_MANIFEST : HUTCH_MEDIA_TYPE_OCI_MANIFEST);
  hutch_json_key (w, "config");
  write_descriptor (w, docker ? DOCKER_CONFIG : HUTCH_MEDIA_TYPE_OCI_CONFIG, config_digest,
                    (gint64) config_size);
  hutch_json_key (w, "layers");
  hutch_json_begin_array (w);
  for (guint i = 0; base != NULL && i < base->layers->len; i++)
    {
      const HutchDescriptor *d = base->layers->pdata[i];
      write_descriptor (w, layer_media_type (d->kind, docker), d->digest, d->size);
    }
  if (layer != NULL)
    write_descriptor (w, layer_media_type (new_layer_kind (layer), docker), layer->digest,
                      layer->size);
  hutch_json_end_array (w);
  hutch_json_end_object (w);
  return hutch_json_writer_finish (w);
}

/* The config must say what the manifest holds, as a pull would check. */
static gboolean
check (const char *config_json, const char *manifest, GError **error)
{
  g_autoptr (HutchImageConfig) config = hutch_image_config_parse (config_json, strlen (config_json),
                                                                  error);
  g_autoptr (HutchManifest) m = NULL;

  if (config == NULL)
    return FALSE;
  m = hutch_image_manifest_parse (manifest, strlen (manifest), HUTCH_MEDIA_UNKNOWN, error);
  return m != NULL && hutch_image_check_consistent (m, config, error);
}

static gboolean
put (HutchStore *store, const char *data, GPtrArray *created, char digest[HUTCH_DIGEST_BUFSIZE],
     GError **error)
{
  gboolean made = FALSE;

  hutch_sha256_digest_of (data, strlen (data), digest);
  if (!hutch_store_blob_put (store, data, strlen (data), digest, &made, error))
    return FALSE;
  if (made)
    g_ptr_array_add (created, g_strdup (digest));
  return TRUE;
}

gboolean
hutch_store_image_create (HutchStore *store, const char *config_json, const HutchManifest *base,
                          const HutchStoreNewLayer *layer, gboolean docker, const char *name,
                          char out_id[HUTCH_DIGEST_BUFSIZE], GError **error)
{
  g_autoptr (GPtrArray) created = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *manifest = NULL;
  char config_digest[HUTCH_DIGEST_BUFSIZE], manifest_digest[HUTCH_DIGEST_BUFSIZE];
  const char *names[2] = { name, NULL };
  HutchStoreImageAdd add;

  if (layer != NULL && layer->compression == HUTCH_LAYER_ZSTD && docker)
    return hutch_throw (error, HUTCH_ERROR_USAGE,
                        "a Docker schema 2 image cannot have a zstd layer: use the OCI format");
  hutch_sha256_digest_of (config_json, strlen (config_json), config_digest);
  manifest = manifest_json (config_digest, strlen (config_json), base, layer, docker);
  if (!check (config_json, manifest, error))
    return g_prefix_error (error, "the new image: "), FALSE;
  if (put (store, config_json, created, config_digest, error)
      && put (store, manifest, created, manifest_digest, error))
    {
      add.digest = manifest_digest;
      add.media_type = docker ? DOCKER_MANIFEST : HUTCH_MEDIA_TYPE_OCI_MANIFEST;
      add.size = (gint64) strlen (manifest);
      add.names = name != NULL ? names : NULL;
      if (hutch_store_images_add (store, &add, 1, error))
        {
          memcpy (out_id, config_digest, HUTCH_DIGEST_BUFSIZE);
          return TRUE;
        }
    }
  {
    g_autoptr (GError) local = NULL;
    if (!hutch_store_delete_unreferenced (store, created, &local))
      g_debug ("removing the blobs of an image not made: %s", local->message);
  }
  return FALSE;
}
