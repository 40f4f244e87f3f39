/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* docker-archive: manifest.json is a list of {Config, RepoTags, Layers}
 * naming members of the tarball. The config is stored as it is (so the image
 * ID is the one docker shows); the image gets an OCI manifest made here,
 * since the archive has none. Layer blobs are the members' bytes, so an
 * uncompressed layer's digest must be its diff_id. */
#include "config.h"

#include <string.h>
#include <unistd.h>

#include "archive-private.h"

#define MAX_IMAGES 1000

/* Whether the blob starts with gzip's or zstd's magic bytes. */
static gboolean
sniff_layer (Load *load, const char *digest, HutchMediaKind *out_kind, GError **error)
{
  hutch_autofd int fd = hutch_store_blob_open (load->store, digest, error);
  unsigned char magic[4] = { 0 };

  if (fd < 0)
    return FALSE;
  if (pread (fd, magic, sizeof magic, 0) < 0)
    return hutch_throw_errno (error, "reading blob %s", digest);
  if (magic[0] == 0x1f && magic[1] == 0x8b)
    *out_kind = HUTCH_MEDIA_LAYER_GZIP;
  else if (magic[0] == 0x28 && magic[1] == 0xb5 && magic[2] == 0x2f && magic[3] == 0xfd)
    *out_kind = HUTCH_MEDIA_LAYER_ZSTD;
  else
    *out_kind = HUTCH_MEDIA_LAYER_TAR;
  return TRUE;
}

static gboolean
string_list (const HutchJsonNode *n, gboolean nullable, const char *what, GError **error)
{
  if (n == NULL || n->type == HUTCH_JSON_NULL)
    return nullable || hutch_throw (error, HUTCH_ERROR_INVALID_IMAGE, "%s is missing", what);
  if (n->type != HUTCH_JSON_ARRAY)
    return hutch_throw (error, HUTCH_ERROR_INVALID_IMAGE, "%s is not an array", what);
  for (guint i = 0; i < n->n_members; i++)
    if (n->members[i]->type != HUTCH_JSON_STRING)
      return hutch_throw (error, HUTCH_ERROR_INVALID_IMAGE, "%s has an entry that is not a string",
                          what);
  return TRUE;
}

/* @out_diff_id: the diff id of a member that came as a plain tar and was
 * stored gzipped, or "" (may be NULL). */
static HutchDescriptor *
member_descriptor (Load *load, const char *who, const char *name, const char **out_diff_id,
                   GError **error)
{
  Member *m = load->dir_fd >= 0 ? hutch_archive_dir_member (load, who, name, error)
                                : hutch_archive_tar_resolve (load, who, name, error);
  HutchDescriptor *d;

  if (m == NULL)
    return NULL;
  d = g_new0 (HutchDescriptor, 1);
  d->digest = g_strdup (m->digest);
  d->size = m->size;
  if (out_diff_id != NULL)
    *out_diff_id = m->diff_id;
  return d;
}

static gboolean
import_entry (Load *load, const HutchJsonNode *entry, guint number, GError **error)
{
  const HutchJsonNode *config = hutch_json_node_member (entry, "Config");
  const HutchJsonNode *tags = hutch_json_node_member (entry, "RepoTags");
  const HutchJsonNode *layers = hutch_json_node_member (entry, "Layers");
  g_autoptr (HutchManifest) m = g_new0 (HutchManifest, 1);
  g_autoptr (HutchImageConfig) cfg = NULL;
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *text = NULL, *manifest_json = NULL;
  char manifest_digest[HUTCH_DIGEST_BUFSIZE];
  gsize len;

  m->kind = HUTCH_MEDIA_OCI_MANIFEST;
  m->layers = g_ptr_array_new_with_free_func ((GDestroyNotify) hutch_descriptor_free);
  if (entry->type != HUTCH_JSON_OBJECT || config == NULL || config->type != HUTCH_JSON_STRING)
    return hutch_throw (error, HUTCH_ERROR_INVALID_IMAGE, "entry %u has no \"Config\" string",
                        number);
  if (!string_list (layers, FALSE, "\"Layers\"", error) || !string_list (tags, TRUE, "\"RepoTags\"", error))
    return g_prefix_error (error, "entry %u: ", number), FALSE;
  if (layers->n_members > HUTCH_IMAGE_MAX_LAYERS)
    return hutch_throw (error, HUTCH_ERROR_INVALID_IMAGE, "entry %u has more than %d layers",
                        number, HUTCH_IMAGE_MAX_LAYERS);
  m->config = member_descriptor (load, "manifest.json", config->string, NULL, error);
  if (m->config == NULL)
    return FALSE;
  m->config->kind = HUTCH_MEDIA_OCI_CONFIG;
  m->config->media_type = g_strdup (HUTCH_MEDIA_TYPE_OCI_CONFIG);
  text = hutch_store_blob_read (load->store, m->config->digest, HUTCH_JSON_MAX_SIZE, &len, error);
  if (text == NULL || (cfg = hutch_image_config_parse (text, len, error)) == NULL)
    return g_prefix_error (error, "config \"%s\": ", config->string), FALSE;
  for (guint i = 0; i < layers->n_members; i++)
    {
      const char *diff_id = NULL;
      HutchDescriptor *d = member_descriptor (load, "manifest.json", layers->members[i]->string,
                                              &diff_id, error);
      if (d == NULL)
        return FALSE;
      g_ptr_array_add (m->layers, d);
      if (!sniff_layer (load, d->digest, &d->kind, error))
        return FALSE;
      /* gzipped here: the diff id came out of the same pass */
      if (*diff_id != '\0' && i < cfg->diff_ids->len
          && strcmp (diff_id, cfg->diff_ids->pdata[i]) != 0)
        return hutch_throw (error, HUTCH_ERROR_DIGEST_MISMATCH,
                            "%s: layer %u (\"%s\") is %s, but the image config says its content "
                            "is %s", load->what, i + 1, layers->members[i]->string, diff_id,
                            (char *) cfg->diff_ids->pdata[i]);
    }
  if (!hutch_archive_check_layers (load, m, cfg, error))
    return FALSE;
  for (guint i = 0; tags != NULL && tags->type == HUTCH_JSON_ARRAY && i < tags->n_members; i++)
    {
      g_autoptr (HutchImageRef) ref = hutch_image_ref_parse (tags->members[i]->string, error);
      if (ref == NULL)
        return g_prefix_error (error, "RepoTags of entry %u: ", number), FALSE;
      g_ptr_array_add (names, hutch_image_ref_to_string (ref));
    }
  manifest_json = hutch_image_manifest_to_oci_json (m);
  if (!hutch_archive_put_blob (load, manifest_json, strlen (manifest_json), manifest_digest, error))
    return FALSE;
  hutch_archive_add_image (load, manifest_digest, HUTCH_MEDIA_TYPE_OCI_MANIFEST,
                           (gint64) strlen (manifest_json), names);
  return TRUE;
}

gboolean
hutch_archive_docker_import (Load *load, GError **error)
{
  g_autoptr (HutchJsonNode) root = NULL;
  gsize len;
  const char *text = g_bytes_get_data (load->manifest_json, &len);

  root = hutch_json_parse (text, len, error);
  if (root == NULL)
    return g_prefix_error (error, "%s: manifest.json: ", load->what), FALSE;
  if (root->type != HUTCH_JSON_ARRAY || root->n_members == 0)
    return hutch_throw (error, HUTCH_ERROR_INVALID_IMAGE,
                        "%s: manifest.json is not a non-empty list of images", load->what);
  if (root->n_members > MAX_IMAGES)
    return hutch_throw (error, HUTCH_ERROR_INVALID_IMAGE, "%s: manifest.json lists over %d images",
                        load->what, MAX_IMAGES);
  for (guint i = 0; i < root->n_members; i++)
    {
      g_autoptr (GError) local = NULL;
      if (import_entry (load, root->members[i], i + 1, &local))
        continue;
      /* Messages about members already name the archive. */
      if (!g_str_has_prefix (local->message, load->what))
        g_prefix_error (&local, "%s: manifest.json: ", load->what);
      g_propagate_error (error, g_steal_pointer (&local));
      return FALSE;
    }
  return TRUE;
}
