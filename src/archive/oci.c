/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* OCI image layouts, tarred (oci-archive) or as a directory: oci-layout and
 * index.json, whose entries are manifests or multi-platform indexes named by
 * their org.opencontainers.image.ref.name annotation. A directory's files are
 * opened beneath its fd, so a symlink in it cannot make us read elsewhere. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "archive-private.h"

static gboolean
check_layout_version (Load *load, GError **error)
{
  g_autoptr (HutchJsonNode) root = NULL;
  const HutchJsonNode *version;
  gsize len;
  const char *text;

  if (load->oci_layout == NULL)
    return hutch_throw (error, HUTCH_ERROR_INVALID_IMAGE,
                        "%s has index.json but no oci-layout file: not an OCI image layout",
                        load->what);
  text = g_bytes_get_data (load->oci_layout, &len);
  root = hutch_json_parse (text, len, error);
  if (root == NULL)
    return g_prefix_error (error, "%s: oci-layout: ", load->what), FALSE;
  version = hutch_json_node_member (root, "imageLayoutVersion");
  if (version == NULL || version->type != HUTCH_JSON_STRING
      || !g_str_has_prefix (version->string, "1.0."))
    return hutch_throw (error, HUTCH_ERROR_INVALID_IMAGE,
                        "%s: oci-layout does not say imageLayoutVersion 1.0.x", load->what);
  return TRUE;
}

static gboolean
import_manifest (Load *load, const HutchDescriptor *d, const char *ref_name, GError **error)
{
  g_autoptr (HutchManifest) m = NULL;
  g_autoptr (HutchImageConfig) cfg = NULL;
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *text = NULL;
  gsize len;

  text = hutch_store_blob_read (load->store, d->digest, HUTCH_JSON_MAX_SIZE, &len, error);
  if (text == NULL || (m = hutch_image_manifest_parse (text, len, d->kind, error)) == NULL)
    return g_prefix_error (error, "manifest %s: ", d->digest), FALSE;
  g_clear_pointer (&text, g_free);
  if (!hutch_archive_ensure_blob (load, m->config, error))
    return g_prefix_error (error, "config of manifest %s: ", d->digest), FALSE;
  text = hutch_store_blob_read (load->store, m->config->digest, HUTCH_JSON_MAX_SIZE, &len, error);
  if (text == NULL || (cfg = hutch_image_config_parse (text, len, error)) == NULL)
    return g_prefix_error (error, "config %s: ", m->config->digest), FALSE;
  for (guint i = 0; i < m->layers->len; i++)
    if (!hutch_archive_ensure_blob (load, m->layers->pdata[i], error))
      return g_prefix_error (error, "layer %u of manifest %s: ", i + 1, d->digest), FALSE;
  if (!hutch_archive_check_layers (load, m, cfg, error))
    return g_prefix_error (error, "manifest %s: ", d->digest), FALSE;
  if (ref_name != NULL)
    {
      g_autoptr (HutchImageRef) ref = hutch_image_ref_parse (ref_name, error);
      if (ref == NULL)
        return g_prefix_error (error, "the name in index.json: "), FALSE;
      g_ptr_array_add (names, hutch_image_ref_to_string (ref));
    }
  hutch_archive_add_image (load, d->digest, d->media_type, d->size, names);
  return TRUE;
}

static gboolean
import_entry (Load *load, const HutchDescriptor *d, GError **error)
{
  g_autoptr (HutchIndex) idx = NULL;
  g_autofree char *text = NULL;
  const HutchDescriptor *chosen;
  gsize len;

  if (!hutch_archive_ensure_blob (load, d, error))
    return FALSE;
  if (hutch_image_media_is_manifest (d->kind))
    return import_manifest (load, d, d->ref_name, error);
  text = hutch_store_blob_read (load->store, d->digest, HUTCH_JSON_MAX_SIZE, &len, error);
  if (text == NULL || (idx = hutch_image_index_parse (text, len, d->kind, error)) == NULL)
    return g_prefix_error (error, "index %s: ", d->digest), FALSE;
  chosen = hutch_image_index_select (idx, load->platform, error);
  if (chosen == NULL)
    return g_prefix_error (error, "index %s: ", d->digest), FALSE;
  if (!hutch_archive_ensure_blob (load, chosen, error))
    return FALSE;
  return import_manifest (load, chosen, d->ref_name, error);
}

gboolean
hutch_archive_oci_import (Load *load, GError **error)
{
  g_autoptr (HutchIndex) idx = NULL;
  gsize len;
  const char *text;

  if (!check_layout_version (load, error))
    return FALSE;
  text = g_bytes_get_data (load->index_json, &len);
  idx = hutch_image_index_parse (text, len, HUTCH_MEDIA_OCI_INDEX, error);
  if (idx == NULL)
    return g_prefix_error (error, "%s: index.json: ", load->what), FALSE;
  if (idx->manifests->len == 0)
    return hutch_throw (error, HUTCH_ERROR_INVALID_IMAGE, "%s: index.json lists no images",
                        load->what);
  for (guint i = 0; i < idx->manifests->len; i++)
    if (!import_entry (load, idx->manifests->pdata[i], error))
      return g_prefix_error (error, "%s: ", load->what), FALSE;
  return TRUE;
}

static GBytes *
read_layout_file (Load *load, const char *name, gboolean required, GError **error)
{
  g_autoptr (GError) local = NULL;
  hutch_autofd int fd = hutch_util_open_beneath (load->dir_fd, name, O_RDONLY, 0, &local);
  char *text;
  gsize len;

  if (fd < 0)
    {
      if (!required && g_error_matches (local, G_FILE_ERROR, G_FILE_ERROR_NOENT))
        return g_bytes_new (NULL, 0);
      g_propagate_prefixed_error (error, g_steal_pointer (&local), "%s: ", load->what);
      return NULL;
    }
  text = hutch_util_read_all (fd, HUTCH_JSON_MAX_SIZE, &len, error);
  if (text == NULL)
    return g_prefix_error (error, "%s: %s: ", load->what, name), NULL;
  return g_bytes_new_take (text, len);
}

gboolean
hutch_archive_oci_dir_open (Load *load, const char *path, GError **error)
{
  load->dir_fd = open (path, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (load->dir_fd < 0)
    return hutch_throw_errno (error, "opening the OCI layout directory %s", path);
  load->index_json = read_layout_file (load, "index.json", TRUE, error);
  if (load->index_json == NULL)
    return FALSE;
  load->oci_layout = read_layout_file (load, "oci-layout", TRUE, error);
  return load->oci_layout != NULL;
}

/* Copies blob @d from the layout directory into the store, verifying it. */
static gboolean
copy_from_dir (Load *load, const HutchDescriptor *d, GError **error)
{
  g_autoptr (HutchBlobWriter) w = NULL;
  g_autofree char *name = g_strconcat ("blobs/sha256/", d->digest + 7, NULL);
  g_autofree char *buf = NULL;
  hutch_autofd int fd = -1;
  gboolean present = FALSE, created = FALSE;
  ssize_t n;

  w = hutch_store_blob_writer_new (load->store, d->digest, &present, error);
  if (w == NULL)
    return present;
  fd = hutch_util_open_beneath (load->dir_fd, name, O_RDONLY, 0, error);
  if (fd < 0)
    return FALSE;
  buf = g_malloc (1 << 20);
  while ((n = read (fd, buf, 1 << 20)) != 0)
    {
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return hutch_throw_errno (error, "reading %s", name);
      if (!hutch_store_blob_writer_write (w, buf, (gsize) n, error))
        return FALSE;
    }
  if (!hutch_store_blob_writer_finish (w, d->size, error)
      || !hutch_store_blob_writer_commit (w, &created, error))
    return FALSE;
  if (created)
    g_ptr_array_add (load->created, g_strdup (d->digest));
  return TRUE;
}

gboolean
hutch_archive_ensure_blob (Load *load, const HutchDescriptor *d, GError **error)
{
  gint64 size;

  /* From a directory, also when the store has the blob: the writer checks
   * the store's copy, and replaces it when it is damaged. */
  if (load->dir_fd >= 0 && !copy_from_dir (load, d, error))
    return FALSE;
  size = hutch_store_blob_size (load->store, d->digest);
  if (size < 0)
    return hutch_throw (error, HUTCH_ERROR_NOT_FOUND,
                        "blob %s is named but missing from the archive", d->digest);
  if (size != d->size)
    return hutch_throw (error, HUTCH_ERROR_INVALID_IMAGE,
                        "blob %s is %" G_GINT64_FORMAT " bytes, but its descriptor says %"
                        G_GINT64_FORMAT, d->digest, size, d->size);
  return TRUE;
}
