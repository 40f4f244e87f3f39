/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* hutch load, start to end: read the source, import its images, and only
 * when every image checks out record their names in one index.json update.
 * Blobs linked on the way are deleted again on failure (and those no image
 * uses, such as other platforms' manifests), so the store ends as it was. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "archive-private.h"

typedef struct
{
  char *digest;
  char *media_type;
  gint64 size;
  GPtrArray *names; /* NULL-terminated */
  char *id;         /* the config digest, once known */
} Pending;

static void
pending_free (gpointer p)
{
  Pending *x = p;
  g_free (x->digest);
  g_free (x->media_type);
  g_free (x->id);
  g_ptr_array_unref (x->names);
}

gboolean
hutch_archive_format_parse (const char *text, HutchArchiveFormat *out_format, GError **error)
{
  if (strcmp (text, "docker-archive") == 0)
    *out_format = HUTCH_ARCHIVE_DOCKER;
  else if (strcmp (text, "oci-archive") == 0)
    *out_format = HUTCH_ARCHIVE_OCI;
  else if (strcmp (text, "oci-dir") == 0)
    *out_format = HUTCH_ARCHIVE_OCI_DIR;
  else
    return hutch_throw (error, HUTCH_ERROR_USAGE,
                        "unknown format \"%s\": use docker-archive, oci-archive or oci-dir",
                        text);
  return TRUE;
}

gboolean
hutch_archive_put_blob (Load *load, const char *data, gsize len,
                        char out_digest[HUTCH_DIGEST_BUFSIZE], GError **error)
{
  gboolean created;

  hutch_sha256_digest_of (data, len, out_digest);
  if (!hutch_store_blob_put (load->store, data, len, out_digest, &created, error))
    return FALSE;
  if (created)
    g_ptr_array_add (load->created, g_strdup (out_digest));
  return TRUE;
}

void
hutch_archive_add_image (Load *load, const char *digest, const char *media_type, gint64 size,
                         GPtrArray *names)
{
  Pending p = { g_strdup (digest), g_strdup (media_type), size,
                g_ptr_array_new_with_free_func (g_free), NULL };

  for (guint i = 0; i < names->len; i++)
    g_ptr_array_add (p.names, g_strdup (names->pdata[i]));
  g_ptr_array_add (p.names, NULL);
  g_array_append_val (load->adds, p);
}

gboolean
hutch_archive_check_layers (Load *load, const HutchManifest *m, const HutchImageConfig *config,
                            GError **error)
{
  if (!hutch_image_check_consistent (m, config, error))
    return FALSE;
  for (guint i = 0; i < m->layers->len; i++)
    {
      const HutchDescriptor *d = m->layers->pdata[i];
      const char *diff_id = config->diff_ids->pdata[i];
      /* A compressed layer's diff_id is checked when it is unpacked. */
      if (d->kind == HUTCH_MEDIA_LAYER_TAR && strcmp (d->digest, diff_id) != 0)
        return hutch_throw (error, HUTCH_ERROR_DIGEST_MISMATCH,
                            "layer %u is %s, but the image config says its content is %s", i + 1,
                            d->digest, diff_id);
    }
  return TRUE;
}

/* For every image found: note the digests it uses (to tell the blobs this
 * load linked but no image uses), and unpack its layers so that the first
 * run starts at once. A layer that cannot be unpacked safely fails the
 * whole load. Each manifest and config is read once, here. */
static gboolean
finish_images (Load *load, GHashTable *used, GPtrArray *created, GError **error)
{
  if (load->map == NULL && (load->map = hutch_sandbox_idmap_new_for_user (error)) == NULL)
    return FALSE;
  for (guint i = 0; i < load->adds->len; i++)
    {
      Pending *p = &g_array_index (load->adds, Pending, i);
      g_autofree char *mtext = NULL, *ctext = NULL;
      g_autoptr (HutchManifest) m = NULL;
      g_autoptr (HutchImageConfig) cfg = NULL;
      gsize len;

      mtext = hutch_store_blob_read (load->store, p->digest, HUTCH_JSON_MAX_SIZE, &len, error);
      if (mtext == NULL
          || (m = hutch_image_manifest_parse (mtext, len, hutch_image_media_kind (p->media_type), error)) == NULL)
        return FALSE;
      g_hash_table_add (used, g_strdup (p->digest));
      g_hash_table_add (used, g_strdup (m->config->digest));
      for (guint j = 0; j < m->layers->len; j++)
        g_hash_table_add (used, g_strdup (((HutchDescriptor *) m->layers->pdata[j])->digest));
      p->id = g_strdup (m->config->digest);
      ctext = hutch_store_blob_read (load->store, m->config->digest, HUTCH_JSON_MAX_SIZE, &len, error);
      if (ctext == NULL || (cfg = hutch_image_config_parse (ctext, len, error)) == NULL)
        return FALSE;
      if (!hutch_store_layers_ensure (load->store, m, cfg, load->map,
                                      p->names->len > 1 ? (char *) p->names->pdata[0] : p->id,
                                      load->unpack_limit, created, error))
        return g_prefix_error (error, "%s: ", load->what), FALSE;
    }
  return TRUE;
}

static gboolean
dir_has (const char *path, const char *name)
{
  g_autofree char *p = g_build_filename (path, name, NULL);

  return access (p, F_OK) == 0;
}

/* A directory given as the archive: a docker-dir (an unpacked
 * docker-archive) when it has manifest.json, an OCI layout when it has
 * oci-layout; Docker 25's layout has both, and manifest.json has the
 * names. Else an error that says what it is. */
static gboolean
directory_format (const char *path, HutchArchiveFormat *format, gboolean *out_docker_dir,
                  GError **error)
{
  struct stat st;
  gboolean manifest, layout;

  *out_docker_dir = FALSE;
  if (*format == HUTCH_ARCHIVE_OCI_DIR || strcmp (path, "-") == 0 || stat (path, &st) < 0
      || !S_ISDIR (st.st_mode))
    return TRUE; /* opening it says what is wrong */
  manifest = dir_has (path, "manifest.json");
  layout = dir_has (path, "oci-layout");
  if (*format == HUTCH_ARCHIVE_DOCKER && manifest)
    return *out_docker_dir = TRUE;
  if (*format != HUTCH_ARCHIVE_AUTO)
    return hutch_throw (error, HUTCH_ERROR_USAGE,
                        "%s is a directory, not a %s tarball (an OCI layout directory loads "
                        "with --input-format oci-dir, an unpacked docker-archive needs its "
                        "manifest.json)", path,
                        *format == HUTCH_ARCHIVE_DOCKER ? "docker-archive" : "oci-archive");
  if (manifest)
    return *out_docker_dir = TRUE;
  if (!layout)
    return hutch_throw (error, HUTCH_ERROR_USAGE,
                        "%s is a directory without an OCI image layout in it (no oci-layout "
                        "file) nor a docker-archive's manifest.json: give an archive file, a "
                        "layout directory or an unpacked docker-archive", path);
  *format = HUTCH_ARCHIVE_OCI_DIR;
  return TRUE;
}

gboolean
hutch_archive_read_and_import (Load *load, const char *path, HutchArchiveFormat format,
                               GError **error)
{
  gboolean docker_dir;

  if (!directory_format (path, &format, &docker_dir, error))
    return FALSE;
  if (docker_dir)
    return hutch_archive_docker_dir_open (load, path, error) && hutch_archive_docker_import (load, error);
  if (format == HUTCH_ARCHIVE_OCI_DIR)
    return hutch_archive_oci_dir_open (load, path, error) && hutch_archive_oci_import (load, error);
  if (!hutch_archive_tar_read (load, path, error))
    return FALSE;
  if (format == HUTCH_ARCHIVE_DOCKER && load->manifest_json == NULL)
    return hutch_throw (error, HUTCH_ERROR_INVALID_IMAGE,
                        "%s has no manifest.json: not a docker-archive", load->what);
  if (format == HUTCH_ARCHIVE_OCI && load->index_json == NULL)
    return hutch_throw (error, HUTCH_ERROR_INVALID_IMAGE,
                        "%s has no index.json: not an oci-archive", load->what);
  /* docker save since Docker 25 writes both; manifest.json has the names. */
  if (format != HUTCH_ARCHIVE_OCI && load->manifest_json != NULL)
    return hutch_archive_docker_import (load, error);
  if (load->index_json != NULL)
    return hutch_archive_oci_import (load, error);
  return hutch_throw (error, HUTCH_ERROR_INVALID_IMAGE,
                      "%s has neither manifest.json nor index.json: not a docker-archive or "
                      "oci-archive", load->what);
}

static gboolean
record (Load *load, GPtrArray *out_loaded, GError **error)
{
  g_autofree HutchStoreImageAdd *adds = g_new0 (HutchStoreImageAdd, load->adds->len);

  for (guint i = 0; i < load->adds->len; i++)
    {
      Pending *p = &g_array_index (load->adds, Pending, i);
      adds[i] = (HutchStoreImageAdd){ p->digest, p->media_type, p->size,
                                      (const char *const *) p->names->pdata };
    }
  if (!hutch_store_images_add (load->store, adds, load->adds->len, error))
    return FALSE;
  for (guint i = 0; i < load->adds->len; i++)
    {
      Pending *p = &g_array_index (load->adds, Pending, i);
      if (p->names->len <= 1)
        g_ptr_array_add (out_loaded, g_strdup (p->id));
      for (guint j = 0; j + 1 < p->names->len; j++)
        g_ptr_array_add (out_loaded, g_strdup (p->names->pdata[j]));
    }
  return TRUE;
}

/* After success, the blobs this load linked that none of its images use;
 * after failure, all it linked. Only those no image in the store uses are
 * deleted, with the store lock exclusive: another load may have found one
 * of them present and be about to name it. */
static void
undo_blobs (Load *load, GHashTable *used, GPtrArray *layers)
{
  g_autoptr (GPtrArray) leftover = g_ptr_array_new ();
  g_autoptr (GError) local = NULL;
  g_autoptr (GPtrArray) entries = NULL;
  g_autoptr (GHashTable) keep = NULL;

  for (guint i = 0; i < load->created->len; i++)
    if (used == NULL || !g_hash_table_contains (used, load->created->pdata[i]))
      g_ptr_array_add (leftover, load->created->pdata[i]);
  if (!hutch_store_delete_unreferenced (load->store, leftover, &local))
    g_warning ("%s: leaving unused blobs in the store (\"hutch system prune\" removes them): %s",
               load->what, local->message);
  g_clear_error (&local);
  /* After a failure, the layers this load unpacked that no image uses; the
   * store lock is exclusive now, so no other load is about to name them. */
  if (used != NULL || layers->len == 0)
    return;
  if ((entries = hutch_store_index_entries (load->store, &local)) == NULL
      || (keep = hutch_store_referenced_chains (load->store, entries, &local)) == NULL
      || !hutch_store_layers_remove (load->store, keep, layers, FALSE, NULL, &local))
    g_warning ("%s: leaving unused layers in the store (\"hutch system prune\" removes them): %s",
               load->what, local->message);
}

void
hutch_archive_load_init (Load *load, HutchStore *store, const char *what,
                         const HutchPlatform *platform, guint64 unpack_limit)
{
  *load = (Load){ .store = store, .what = what, .platform = platform, .dir_fd = -1,
                  .unpack_limit = unpack_limit };
  load->created = g_ptr_array_new_with_free_func (g_free);
  load->adds = g_array_new (FALSE, TRUE, sizeof (Pending));
  g_array_set_clear_func (load->adds, pending_free);
}

void
hutch_archive_load_clear (Load *load)
{
  if (load->members != NULL)
    g_hash_table_unref (load->members);
  g_clear_pointer (&load->manifest_json, g_bytes_unref);
  g_clear_pointer (&load->index_json, g_bytes_unref);
  g_clear_pointer (&load->oci_layout, g_bytes_unref);
  hutch_fd_clear (&load->dir_fd);
  hutch_archive_prepared_clear (load);
  g_clear_pointer (&load->map, hutch_sandbox_idmap_free);
  g_ptr_array_unref (load->created);
  g_array_unref (load->adds);
}

gboolean
hutch_archive_load (HutchStore *store, const char *path, HutchArchiveFormat format,
                    const HutchPlatform *platform, guint64 unpack_limit, GPtrArray *out_loaded,
                    GError **error)
{
  g_autoptr (GPtrArray) layers = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *what = strcmp (path, "-") == 0 ? g_strdup ("the archive on stdin")
                                                   : g_strdup_printf ("archive %s", path);
  g_autoptr (GHashTable) used = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  Load load;
  gboolean ok;

  hutch_archive_load_init (&load, store, what, platform, unpack_limit);
  load.layers = layers;
  hutch_util_profile_mark ("load: start");
  ok = hutch_archive_read_and_import (&load, path, format, error);
  hutch_util_profile_mark ("load: archive read, blobs stored");
  ok = ok && finish_images (&load, used, layers, error);
  hutch_util_profile_mark ("load: layers unpacked");
  ok = ok && record (&load, out_loaded, error);
  hutch_util_profile_mark ("load: recorded");
  undo_blobs (&load, ok ? used : NULL, layers);
  hutch_archive_load_clear (&load);
  return ok;
}
