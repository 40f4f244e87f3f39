/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* hutch save: images out of the store as a docker-archive (manifest.json,
 * repositories, each config as <hex>.json and each layer uncompressed as
 * <diff id hex>/layer.tar, as docker's and podman's loaders read it), an
 * oci-archive or an OCI layout directory (oci-layout, index.json with one
 * entry per name, blobs/sha256/ as stored). Everything shared between the
 * images (layers, configs) is written once. Nothing is staged: blobs go
 * from the store into the archive, compressed layers of a docker-archive
 * decompressed on the way, and the diff id of each is checked as it goes. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "archive-private.h"

#define COPY_BLOCK (1 << 20)

typedef struct
{
  HutchStoreImage *image;
  GPtrArray *names;     /* full references, as asked for */
  char *oci_manifest;   /* the stored manifest made OCI, when it is Docker's */
  char oci_digest[HUTCH_DIGEST_BUFSIZE];
} SaveImage;

static void
save_image_free (gpointer p)
{
  SaveImage *s = p;

  hutch_store_image_free (s->image);
  g_ptr_array_unref (s->names);
  g_free (s->oci_manifest);
  g_free (s);
}

typedef struct
{
  HutchStore *store;
  HutchTarWriter *tar; /* NULL when writing a directory */
  int dir_fd;          /* the layout directory being written, or -1 */
  GHashTable *written; /* member names already in the archive */
} Save;

/* ---- what goes where: tar members, or files of the directory ---- */

static gboolean
put_dir (Save *s, const char *name, GError **error)
{
  if (s->tar != NULL)
    return hutch_tar_writer_add_dir (s->tar, name, 0, error);
  if (mkdirat (s->dir_fd, name, 0755) < 0)
    return hutch_throw_errno (error, "making %s", name);
  return TRUE;
}

static gboolean
put_bytes (Save *s, const char *name, const char *data, gsize len, GError **error)
{
  hutch_autofd int fd = -1;

  if (s->tar != NULL)
    return hutch_tar_writer_add_bytes (s->tar, name, data, len, 0, error);
  fd = openat (s->dir_fd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (fd < 0)
    return hutch_throw_errno (error, "writing %s", name);
  if (!hutch_util_write_all (fd, data, len, error))
    return g_prefix_error (error, "writing %s: ", name), FALSE;
  return TRUE;
}

/* Copies @size bytes of @in into a new file @name of the directory:
 * copy_file_range, which clones where the file system can. */
static gboolean
copy_into_dir (Save *s, const char *name, int in, guint64 size, GError **error)
{
  hutch_autofd int out = openat (s->dir_fd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                                 0644);
  g_autofree char *buf = NULL;
  guint64 done = 0;

  if (out < 0)
    return hutch_throw_errno (error, "writing %s", name);
  while (done < size)
    {
      ssize_t n = copy_file_range (in, NULL, out, NULL, MIN (size - done, (guint64) 1 << 30), 0);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0 && (errno == EXDEV || errno == EINVAL || errno == EOPNOTSUPP || errno == ENOSYS))
        break; /* across file systems on older kernels: read and write */
      if (n < 0)
        return hutch_throw_errno (error, "writing %s", name);
      if (n == 0)
        return hutch_throw (error, HUTCH_ERROR_FAILED, "%s: the blob ended early", name);
      done += (guint64) n;
    }
  buf = done < size ? g_malloc (COPY_BLOCK) : NULL;
  while (done < size)
    {
      ssize_t n = pread (in, buf, MIN (size - done, COPY_BLOCK), (off_t) done);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return n < 0 ? hutch_throw_errno (error, "reading the blob for %s", name)
                     : hutch_throw (error, HUTCH_ERROR_FAILED, "%s: the blob ended early", name);
      if (!hutch_util_write_all (out, buf, (gsize) n, error))
        return g_prefix_error (error, "writing %s: ", name), FALSE;
      done += (guint64) n;
    }
  return TRUE;
}

/* Blob @digest of the store as @name. */
static gboolean
put_blob (Save *s, const char *name, const char *digest, GError **error)
{
  hutch_autofd int fd = hutch_store_blob_open (s->store, digest, error);
  struct stat st;

  if (fd < 0)
    return FALSE;
  if (fstat (fd, &st) < 0)
    return hutch_throw_errno (error, "reading blob %s", digest);
  if (s->tar != NULL)
    return hutch_tar_writer_add_fd (s->tar, name, fd, (guint64) st.st_size, 0, error);
  return copy_into_dir (s, name, fd, (guint64) st.st_size, error);
}

/* ---- the images ---- */

static SaveImage *
find_image (GPtrArray *images, const char *digest)
{
  for (guint i = 0; i < images->len; i++)
    {
      SaveImage *si = images->pdata[i];
      if (strcmp (si->image->digest, digest) == 0)
        return si;
    }
  return NULL;
}

static GPtrArray *
resolve_images (HutchStore *store, const char *const *texts, GError **error)
{
  g_autoptr (GPtrArray) images = g_ptr_array_new_with_free_func (save_image_free);

  for (guint i = 0; texts[i] != NULL; i++)
    {
      g_autoptr (HutchStoreImage) image = NULL;
      g_autoptr (HutchImageRef) ref = NULL;
      g_autofree char *name = NULL;
      gboolean by_name = FALSE;
      SaveImage *si;

      image = hutch_store_image_lookup (store, texts[i], &by_name, error);
      if (image == NULL)
        return NULL;
      if (image->manifest == NULL || image->config == NULL)
        return hutch_throw (error, HUTCH_ERROR_INVALID_IMAGE, "image %s is damaged: %s (hutch "
                            "system check says more)", texts[i],
                            image->damage != NULL ? image->damage : "unreadable"), NULL;
      if (by_name && (ref = hutch_image_ref_parse (texts[i], NULL)) != NULL && ref->digest == NULL)
        name = hutch_image_ref_to_string (ref);
      si = find_image (images, image->digest);
      if (si == NULL)
        {
          si = g_new0 (SaveImage, 1);
          si->names = g_ptr_array_new_with_free_func (g_free);
          si->image = g_steal_pointer (&image);
          g_ptr_array_add (images, si);
        }
      if (name != NULL && !g_ptr_array_find_with_equal_func (si->names, name, g_str_equal, NULL))
        g_ptr_array_add (si->names, g_steal_pointer (&name));
    }
  return g_steal_pointer (&images);
}

/* ---- docker-archive ---- */

static const char *
hex_of (const char *digest)
{
  return digest + 7; /* "sha256:" */
}

static gboolean
docker_image (Save *s, SaveImage *si, GError **error)
{
  const HutchManifest *m = si->image->manifest;
  const HutchImageConfig *cfg = si->image->config;
  g_autoptr (GPtrArray) chains = hutch_store_chain_ids (cfg);
  g_autofree char *config_name = g_strconcat (hex_of (m->config->digest), ".json", NULL);

  if (!hutch_image_check_consistent (m, cfg, error))
    return g_prefix_error (error, "image %s: ", hutch_store_image_id (si->image)), FALSE;
  if (!g_hash_table_contains (s->written, config_name))
    {
      if (!put_blob (s, config_name, m->config->digest, error))
        return FALSE;
      g_hash_table_add (s->written, g_strdup (config_name));
    }
  for (guint i = 0; i < m->layers->len; i++)
    {
      const HutchDescriptor *d = m->layers->pdata[i];
      const char *diff_id = cfg->diff_ids->pdata[i];
      g_autofree char *dir = g_strdup (hex_of (diff_id));
      g_autofree char *name = g_strconcat (dir, "/layer.tar", NULL);
      gboolean ok;

      if (g_hash_table_contains (s->written, name))
        continue;
      if (!put_dir (s, dir, error))
        return FALSE;
      if (d->kind == HUTCH_MEDIA_LAYER_GZIP || d->kind == HUTCH_MEDIA_LAYER_ZSTD)
        ok = hutch_archive_save_layer (s->tar, s->store, name, d->digest,
                                       d->kind == HUTCH_MEDIA_LAYER_GZIP ? HUTCH_LAYER_GZIP
                                                                         : HUTCH_LAYER_ZSTD,
                                       diff_id, chains->pdata[i], error);
      else if (strcmp (d->digest, diff_id) != 0)
        ok = hutch_throw (error, HUTCH_ERROR_INVALID_IMAGE,
                          "layer %u is %s, uncompressed, but the image config says its content "
                          "is %s", i + 1, d->digest, diff_id);
      else
        ok = put_blob (s, name, d->digest, error);
      if (!ok)
        return g_prefix_error (error, "image %s, layer %u: ", hutch_store_image_id (si->image),
                               i + 1), FALSE;
      g_hash_table_add (s->written, g_strdup (name));
    }
  return TRUE;
}

static char *
docker_manifest_json (GPtrArray *images)
{
  g_autoptr (HutchJsonWriter) w = hutch_json_writer_new (FALSE);

  hutch_json_begin_array (w);
  for (guint i = 0; i < images->len; i++)
    {
      const SaveImage *si = images->pdata[i];
      const HutchManifest *m = si->image->manifest;
      g_autofree char *config_name = g_strconcat (hex_of (m->config->digest), ".json", NULL);

      hutch_json_begin_object (w);
      hutch_json_member_string (w, "Config", config_name);
      hutch_json_key (w, "RepoTags");
      hutch_json_begin_array (w);
      for (guint j = 0; j < si->names->len; j++)
        hutch_json_string (w, si->names->pdata[j]);
      hutch_json_end_array (w);
      hutch_json_key (w, "Layers");
      hutch_json_begin_array (w);
      for (guint j = 0; j < si->image->config->diff_ids->len; j++)
        {
          g_autofree char *name = g_strconcat (hex_of (si->image->config->diff_ids->pdata[j]),
                                               "/layer.tar", NULL);
          hutch_json_string (w, name);
        }
      hutch_json_end_array (w);
      hutch_json_end_object (w);
    }
  hutch_json_end_array (w);
  return hutch_json_writer_finish (w);
}

/* docker's legacy `repositories`: repository → tag → top layer id. */
static char *
docker_repositories_json (GPtrArray *images)
{
  g_autoptr (HutchJsonWriter) w = hutch_json_writer_new (FALSE);
  g_autoptr (GHashTable) repos = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                                        (GDestroyNotify) g_ptr_array_unref);
  g_autoptr (GPtrArray) order = g_ptr_array_new ();

  for (guint i = 0; i < images->len; i++)
    {
      const SaveImage *si = images->pdata[i];
      const GPtrArray *diff_ids = si->image->config->diff_ids;
      for (guint j = 0; j < si->names->len && diff_ids->len > 0; j++)
        {
          g_autoptr (HutchImageRef) ref = hutch_image_ref_parse (si->names->pdata[j], NULL);
          g_autofree char *repo = ref != NULL && ref->tag != NULL ? hutch_image_ref_repository (ref) : NULL;
          GPtrArray *tags;
          if (repo == NULL)
            continue;
          tags = g_hash_table_lookup (repos, repo);
          if (tags == NULL)
            {
              tags = g_ptr_array_new_with_free_func (g_free);
              g_ptr_array_add (order, repo);
              g_hash_table_insert (repos, g_steal_pointer (&repo), tags);
            }
          g_ptr_array_add (tags, g_strdup (ref->tag));
          g_ptr_array_add (tags, g_strdup (hex_of (diff_ids->pdata[diff_ids->len - 1])));
        }
    }
  hutch_json_begin_object (w);
  for (guint i = 0; i < order->len; i++)
    {
      GPtrArray *tags = g_hash_table_lookup (repos, order->pdata[i]);
      hutch_json_key (w, order->pdata[i]);
      hutch_json_begin_object (w);
      for (guint j = 0; j + 1 < tags->len; j += 2)
        hutch_json_member_string (w, tags->pdata[j], tags->pdata[j + 1]);
      hutch_json_end_object (w);
    }
  hutch_json_end_object (w);
  return hutch_json_writer_finish (w);
}

static gboolean
write_docker (Save *s, GPtrArray *images, GError **error)
{
  g_autofree char *manifest = NULL, *repositories = NULL;

  for (guint i = 0; i < images->len; i++)
    if (!docker_image (s, images->pdata[i], error))
      return FALSE;
  manifest = docker_manifest_json (images);
  repositories = docker_repositories_json (images);
  return put_bytes (s, "manifest.json", manifest, strlen (manifest), error)
         && put_bytes (s, "repositories", repositories, strlen (repositories), error);
}

/* ---- OCI layout ---- */

static gboolean
oci_blob (Save *s, const char *digest, GError **error)
{
  g_autofree char *name = g_strconcat ("blobs/sha256/", hex_of (digest), NULL);

  if (g_hash_table_contains (s->written, name))
    return TRUE;
  if (!put_blob (s, name, digest, error))
    return FALSE;
  g_hash_table_add (s->written, g_steal_pointer (&name));
  return TRUE;
}

/* The manifest as an OCI layout holds it: the stored one when it is OCI,
 * else (Docker schema 2) the same content under OCI media types, which is
 * what podman save and skopeo write for an oci-archive. */
static gboolean
oci_image (Save *s, SaveImage *si, GError **error)
{
  const HutchManifest *m = si->image->manifest;

  if (m->kind == HUTCH_MEDIA_DOCKER_MANIFEST)
    {
      g_autofree char *name = NULL;
      si->oci_manifest = hutch_image_manifest_to_oci_json (m);
      hutch_sha256_digest_of (si->oci_manifest, strlen (si->oci_manifest), si->oci_digest);
      name = g_strconcat ("blobs/sha256/", hex_of (si->oci_digest), NULL);
      if (!g_hash_table_contains (s->written, name))
        {
          if (!put_bytes (s, name, si->oci_manifest, strlen (si->oci_manifest), error))
            return FALSE;
          g_hash_table_add (s->written, g_steal_pointer (&name));
        }
    }
  else
    {
      g_strlcpy (si->oci_digest, si->image->digest, sizeof si->oci_digest);
      if (!oci_blob (s, si->image->digest, error))
        return FALSE;
    }
  if (!oci_blob (s, m->config->digest, error))
    return FALSE;
  for (guint i = 0; i < m->layers->len; i++)
    if (!oci_blob (s, ((HutchDescriptor *) m->layers->pdata[i])->digest, error))
      return g_prefix_error (error, "image %s, layer %u: ", hutch_store_image_id (si->image), i + 1),
             FALSE;
  return TRUE;
}

static void
oci_entry (HutchJsonWriter *w, const SaveImage *si, const char *name)
{
  gboolean converted = si->oci_manifest != NULL;

  hutch_json_begin_object (w);
  hutch_json_member_string (w, "mediaType",
                            converted ? HUTCH_MEDIA_TYPE_OCI_MANIFEST : si->image->media_type);
  hutch_json_member_string (w, "digest", si->oci_digest);
  hutch_json_member_int (w, "size", converted ? (gint64) strlen (si->oci_manifest)
                                              : si->image->manifest_size);
  if (name != NULL)
    {
      /* containerd and podman read the full name from these two */
      hutch_json_key (w, "annotations");
      hutch_json_begin_object (w);
      hutch_json_member_string (w, "io.containerd.image.name", name);
      hutch_json_member_string (w, "org.opencontainers.image.ref.name", name);
      hutch_json_end_object (w);
    }
  hutch_json_end_object (w);
}

static gboolean
write_oci (Save *s, GPtrArray *images, GError **error)
{
  static const char layout[] = "{\"imageLayoutVersion\":\"1.0.0\"}";
  g_autoptr (HutchJsonWriter) w = hutch_json_writer_new (FALSE);
  g_autofree char *index = NULL;

  if (!put_bytes (s, "oci-layout", layout, strlen (layout), error) || !put_dir (s, "blobs", error)
      || !put_dir (s, "blobs/sha256", error))
    return FALSE;
  for (guint i = 0; i < images->len; i++)
    if (!oci_image (s, images->pdata[i], error))
      return FALSE;
  hutch_json_begin_object (w);
  hutch_json_member_int (w, "schemaVersion", 2);
  hutch_json_member_string (w, "mediaType", HUTCH_MEDIA_TYPE_OCI_INDEX);
  hutch_json_key (w, "manifests");
  hutch_json_begin_array (w);
  for (guint i = 0; i < images->len; i++)
    {
      const SaveImage *si = images->pdata[i];
      if (si->names->len == 0)
        oci_entry (w, si, NULL);
      for (guint j = 0; j < si->names->len; j++)
        oci_entry (w, si, si->names->pdata[j]);
    }
  hutch_json_end_array (w);
  hutch_json_end_object (w);
  index = hutch_json_writer_finish (w);
  return put_bytes (s, "index.json", index, strlen (index), error);
}

/* ---- start to end ---- */

gboolean
hutch_archive_save (HutchStore *store, const char *const *texts, HutchArchiveFormat format,
                    const char *path, GError **error)
{
  g_autoptr (GPtrArray) images = NULL;
  g_autoptr (HutchTarWriter) tar = NULL;
  g_autoptr (GHashTable) written = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  HutchTarWriteStats stats;
  SaveOutput out;
  Save s = { store, NULL, -1, written };
  gboolean ok;

  if (format == HUTCH_ARCHIVE_OCI_DIR && path == NULL)
    return hutch_throw (error, HUTCH_ERROR_USAGE, "an oci-dir needs a directory to be written "
                                                  "to: give -o DIR");
  /* every image found before any file is made */
  images = resolve_images (store, texts, error);
  if (images == NULL)
    return FALSE;
  if (!hutch_archive_output_open (&out, path, format == HUTCH_ARCHIVE_OCI_DIR, error))
    {
      hutch_archive_output_clear (&out);
      return FALSE;
    }
  if (format == HUTCH_ARCHIVE_OCI_DIR)
    s.dir_fd = out.fd;
  else
    s.tar = tar = hutch_tar_writer_new (hutch_archive_output_write, &out,
                                        path != NULL ? path : "the archive on stdout");
  ok = format == HUTCH_ARCHIVE_DOCKER ? write_docker (&s, images, error)
                                      : write_oci (&s, images, error);
  ok = ok && (tar == NULL || hutch_tar_writer_finish (tar, &stats, error))
       && hutch_archive_output_commit (&out, error);
  hutch_archive_output_clear (&out);
  return ok;
}
