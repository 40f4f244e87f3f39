/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* hutch push, start to end. The image's layers go first, `jobs` at a
 * time: each one the repository already has costs a HEAD; one another
 * repository of the same registry has (the image's other names there say
 * where it came from) is mounted; the rest are uploaded (upload.c). A layer
 * that must change compression on the way (a plain tar, or gzip to zstd)
 * is decoded by layer/stream.c, compressed anew by the shared compressor
 * and uploaded while that runs, its diff_id checked against the config's
 * before the upload is committed; what it became is remembered, so that
 * the next push asks the registry for it first. Then the config, and last
 * the manifest: a registry never holds a manifest whose blobs are not all
 * there. The store is only read. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "layer/layer.h"
#include "registry-private.h"
#include "store/store.h"

#define DEFAULT_JOBS 4

typedef enum
{
  BLOB_WAITING,
  BLOB_COMPRESSING,
  BLOB_PUSHING,
  BLOB_PUSHED,
  BLOB_EXISTS,
  BLOB_MOUNTED,
  BLOB_FAILED,
} BlobState;

typedef struct Push Push;

typedef struct
{
  Push *push;
  guint index; /* the layer's, or n_layers for the config */
  const HutchDescriptor *stored;
  HutchLayerCompression convert_from, convert_to; /* equal: pushed as stored */
  /* as pushed */
  char digest[HUTCH_DIGEST_BUFSIZE];
  gint64 size;
  HutchMediaKind kind;
  /* progress and result; under push->lock */
  BlobState state;
  guint64 sent;
  gint64 started; /* monotonic µs */
  const char *mounted_from;
  gboolean reported;
  GError *error;
  int fd; /* a recompressed layer's file, or -1 */
} Blob;

struct Push
{
  HutchStore *store;
  HutchRegistry *registry;
  const char *repo;
  const char *name; /* for messages */
  const HutchImageConfig *config;
  GPtrArray *mount_from; /* of char*: other repositories of the registry */
  guint64 chunk_size;
  guint jobs;
  HutchPullProgress progress;
  Blob *blobs; /* the layers, then the config */
  guint n_layers;
  GMutex lock;
  GCond changed;
  guint next;
  guint active;
  gboolean cancel;
  guint lines_drawn;
};

static void
set_state (Blob *b, BlobState state)
{
  g_mutex_lock (&b->push->lock);
  b->state = state;
  if (state == BLOB_PUSHING)
    b->started = g_get_monotonic_time ();
  g_cond_broadcast (&b->push->changed);
  g_mutex_unlock (&b->push->lock);
}

static void
on_sent (gpointer data, guint64 position)
{
  Blob *b = data;

  g_mutex_lock (&b->push->lock);
  b->sent = position;
  g_mutex_unlock (&b->push->lock);
}

/* ---- a layer in another compression ---- */

/* The new blob goes to an unnamed file beside the store (gone with its fd:
 * the store is left as it was) and, as it comes, to an upload session in
 * chunks: compression and upload overlap. When the session breaks, the
 * finished file is uploaded the usual way. */
#define STREAM_CHUNK ((gsize) 8 << 20)

typedef struct
{
  Blob *blob;
  int fd;
  HutchSha256 *sha;
  guint64 size;
  /* to the uploader; under lock */
  GMutex lock;
  GCond cond;
  GByteArray *pending;
  gboolean ended;  /* compression is over (or failed: stop) */
  gboolean stop;
  gboolean failed; /* the uploader gave up */
  GError *upload_error;
  HutchRegistrySession *session;
  const HutchRegistryUploadOptions *up;
} Stream;

static gboolean
stream_write (gpointer data, const void *buf, gsize len, GError **error)
{
  Stream *s = data;

  if (!hutch_util_write_all (s->fd, buf, len, error))
    return g_prefix_error (error, "writing the recompressed layer: "), FALSE;
  hutch_sha256_update (s->sha, buf, len);
  s->size += len;
  g_mutex_lock (&s->lock);
  if (!s->failed)
    {
      g_byte_array_append (s->pending, buf, (guint) len);
      g_cond_broadcast (&s->cond);
      /* at most two chunks ahead of the upload */
      while (!s->failed && s->pending->len >= 2 * STREAM_CHUNK)
        g_cond_wait (&s->cond, &s->lock);
    }
  g_mutex_unlock (&s->lock);
  return TRUE;
}

static gpointer
stream_upload (gpointer data)
{
  Stream *s = data;
  Push *p = s->blob->push;
  g_autoptr (GByteArray) chunk = g_byte_array_sized_new (STREAM_CHUNK);

  s->session = hutch_registry_session_open (p->registry, p->repo, s->up, &s->upload_error);
  g_mutex_lock (&s->lock);
  s->failed = s->session == NULL;
  while (!s->failed)
    {
      gsize len;
      gboolean ok;

      while (!s->ended && s->pending->len < STREAM_CHUNK)
        g_cond_wait (&s->cond, &s->lock);
      if (s->stop || (s->ended && s->pending->len == 0))
        break;
      len = MIN (s->pending->len, STREAM_CHUNK);
      g_byte_array_set_size (chunk, 0);
      g_byte_array_append (chunk, s->pending->data, (guint) len);
      g_byte_array_remove_range (s->pending, 0, (guint) len);
      g_cond_broadcast (&s->cond);
      g_mutex_unlock (&s->lock);
      ok = hutch_registry_session_append (s->session, chunk->data, len, &s->upload_error);
      g_mutex_lock (&s->lock);
      s->failed = !ok;
    }
  if (s->failed)
    g_byte_array_set_size (s->pending, 0);
  g_cond_broadcast (&s->cond);
  g_mutex_unlock (&s->lock);
  return NULL;
}

/* Decodes the stored layer and compresses it anew into b->fd, streaming
 * it to the registry on the way (*@out_pushed when that went through):
 * b->digest and b->size become the new blob's. The diff_id must come out
 * as the config says, or the pushed image would not be this one. */
static gboolean
recompress (Blob *b, const char *diff_id, const HutchRegistryUploadOptions *up,
            gboolean *out_pushed, GError **error)
{
  Push *p = b->push;
  g_autofree char *what = g_strdup_printf ("%s, layer %u (%s)", p->name, b->index + 1,
                                           b->stored->digest);
  g_autoptr (HutchLayerStream) stream = NULL;
  g_autoptr (HutchLayerCompressor) c = NULL;
  g_autofree guint8 *buf = g_malloc (1 << 20);
  char got[HUTCH_DIGEST_BUFSIZE];
  guint64 bytes;
  gboolean ok = FALSE;
  Stream s = { b, -1 };
  GThread *uploader = NULL;
  hutch_autofd int fd = hutch_store_blob_open (p->store, b->stored->digest, error);

  *out_pushed = FALSE;
  if (fd < 0)
    return FALSE;
  /* a plain tar is read as it is: the compressor hashes it already */
  if (b->convert_from != HUTCH_LAYER_PLAIN)
    {
      stream = hutch_layer_stream_new (fd, b->convert_from, HUTCH_LAYER_DEFAULT_MAX_BYTES, what,
                                       error);
      if (stream == NULL)
        return FALSE;
    }
  b->fd = open (hutch_store_root (p->store), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (b->fd < 0)
    return hutch_throw_errno (error, "creating a file in %s for a recompressed layer",
                              hutch_store_root (p->store));
  s.fd = b->fd;
  s.sha = hutch_sha256_new ();
  s.pending = g_byte_array_new ();
  s.up = up;
  g_mutex_init (&s.lock);
  g_cond_init (&s.cond);
  uploader = g_thread_new ("push-stream", stream_upload, &s);
  c = hutch_layer_compressor_new (b->convert_to, HUTCH_LAYER_LEVEL_DEFAULT, 0, stream_write, &s);
  for (;;)
    {
      gssize n = stream != NULL ? hutch_layer_stream_read_into (stream, buf, 1 << 20, error)
                                : read (fd, buf, 1 << 20);
      if (n < 0 && stream == NULL && errno == EINTR)
        continue;
      if (n < 0 && stream == NULL)
        hutch_throw_errno (error, "reading layer %s", b->stored->digest);
      if (n < 0)
        goto out;
      if (n == 0)
        break;
      if (!hutch_layer_compressor_write (c, buf, (gsize) n, error))
        goto out;
    }
  if (!hutch_layer_compressor_finish (c, got, &bytes, error))
    goto out;
  if (strcmp (got, diff_id) != 0)
    {
      hutch_throw (error, HUTCH_ERROR_DIGEST_MISMATCH,
                   "%s: decompressed, it hashes to %s, but the image's config says %s "
                   "(\"hutch system check\" looks at the store)", what, got, diff_id);
      goto out;
    }
  hutch_sha256_finish (s.sha, b->digest);
  b->size = (gint64) s.size;
  b->kind = b->convert_to == HUTCH_LAYER_ZSTD ? HUTCH_MEDIA_LAYER_ZSTD : HUTCH_MEDIA_LAYER_GZIP;
  ok = TRUE;
out:
  g_mutex_lock (&s.lock);
  s.ended = TRUE;
  s.stop = !ok;
  g_cond_broadcast (&s.cond);
  g_mutex_unlock (&s.lock);
  g_thread_join (uploader);
  if (ok && !s.failed)
    *out_pushed = hutch_registry_session_finish (s.session, b->digest, &s.upload_error);
  if (ok && !*out_pushed)
    g_debug ("%s: streaming it to the registry failed (%s); uploading it whole", what,
             s.upload_error != NULL ? s.upload_error->message : "?");
  hutch_registry_session_free (s.session);
  g_clear_error (&s.upload_error);
  g_byte_array_unref (s.pending);
  hutch_sha256_free (s.sha);
  g_mutex_clear (&s.lock);
  g_cond_clear (&s.cond);
  return ok;
}

/* ---- one blob ---- */

/* What a recompression made of a stored layer, remembered in
 * ${XDG_CACHE_HOME:-~/.cache}/hutch/push/HEX.FORMAT as "DIGEST SIZE": the
 * compression is deterministic, so a second push can ask the registry for
 * that blob (HEAD) before compressing anything. A wrong or stale entry
 * costs a HEAD: the registry has what a digest names, or nothing. */
static char *
cache_path (const Blob *b)
{
  return g_strdup_printf ("%s/hutch/push/%s.%s", g_get_user_cache_dir (), b->stored->digest + 7,
                          hutch_layer_compression_name (b->convert_to));
}

static gboolean
cache_lookup (const Blob *b, char out_digest[HUTCH_DIGEST_BUFSIZE], gint64 *out_size)
{
  g_autofree char *path = cache_path (b);
  g_autofree char *text = NULL;
  g_auto (GStrv) fields = NULL;
  guint64 size;

  if (!g_file_get_contents (path, &text, NULL, NULL))
    return FALSE;
  fields = g_strsplit (g_strstrip (text), " ", 3);
  if (g_strv_length (fields) != 2 || !g_str_has_prefix (fields[0], "sha256:")
      || strlen (fields[0]) != 71 || strspn (fields[0] + 7, "0123456789abcdef") != 64
      || !g_ascii_string_to_unsigned (fields[1], 10, 1, G_MAXINT64, &size, NULL))
    return FALSE;
  g_strlcpy (out_digest, fields[0], HUTCH_DIGEST_BUFSIZE);
  *out_size = (gint64) size;
  return TRUE;
}

static void
cache_store (const Blob *b)
{
  g_autofree char *path = cache_path (b);
  g_autofree char *dir = g_path_get_dirname (path);
  g_autofree char *text = g_strdup_printf ("%s %" G_GINT64_FORMAT "\n", b->digest, b->size);

  /* a cache: failing to keep it costs a compression next time */
  if (g_mkdir_with_parents (dir, 0700) == 0)
    (void) g_file_set_contents (path, text, -1, NULL);
}

/* Whether the repository has b->digest, or can mount it from another
 * repository the image is in (*@out_done); a refused mount may leave an
 * upload session in *@out_location. */
static gboolean
find_remote (Blob *b, gboolean *out_done, char **out_location, GError **error)
{
  Push *p = b->push;
  gboolean exists = FALSE, mounted = FALSE;

  *out_done = FALSE;
  *out_location = NULL;
  if (!hutch_registry_blob_exists (p->registry, p->repo, b->digest, &exists, error))
    return FALSE;
  if (exists)
    return set_state (b, BLOB_EXISTS), *out_done = TRUE;
  for (guint i = 0; i < p->mount_from->len && *out_location == NULL; i++)
    {
      const char *from = p->mount_from->pdata[i];
      if (!hutch_registry_blob_mount (p->registry, p->repo, b->digest, from, &mounted,
                                      out_location, error))
        return FALSE;
      if (mounted)
        {
          g_mutex_lock (&p->lock);
          b->mounted_from = from;
          g_mutex_unlock (&p->lock);
          return set_state (b, BLOB_MOUNTED), *out_done = TRUE;
        }
    }
  return TRUE;
}

/* A layer that changes compression: the registry may have what an earlier
 * push made of it; else it is compressed, and streamed on the way
 * (*@out_done when that went through). */
static gboolean
push_recompressed (Blob *b, const HutchRegistryUploadOptions *up, gboolean *out_done,
                   GError **error)
{
  Push *p = b->push;
  char mapped[HUTCH_DIGEST_BUFSIZE];
  gint64 size, t0 = g_get_monotonic_time ();
  g_autofree char *location = NULL;

  if (cache_lookup (b, mapped, &size))
    {
      g_strlcpy (b->digest, mapped, sizeof b->digest);
      b->size = size;
      b->kind = b->convert_to == HUTCH_LAYER_ZSTD ? HUTCH_MEDIA_LAYER_ZSTD
                                                  : HUTCH_MEDIA_LAYER_GZIP;
      if (!find_remote (b, out_done, &location, error))
        return FALSE;
      if (*out_done)
        return TRUE;
      /* not there: made again below, the same bytes */
    }
  set_state (b, BLOB_COMPRESSING);
  if (!recompress (b, p->config->diff_ids->pdata[b->index], up, out_done, error))
    return FALSE;
  cache_store (b);
  g_debug ("%s: layer %u recompressed as %s%s in %.2f s", p->name, b->index + 1, b->digest,
           *out_done ? " and pushed" : "",
           (double) (g_get_monotonic_time () - t0) / G_USEC_PER_SEC);
  if (*out_done)
    set_state (b, BLOB_PUSHED);
  return TRUE;
}

static gboolean
push_blob (Blob *b, GError **error)
{
  Push *p = b->push;
  gboolean done = FALSE;
  g_autofree char *location = NULL;
  HutchRegistryUploadOptions up = { p->chunk_size, on_sent, b };
  hutch_autofd int fd = -1;

  if (b->convert_from != b->convert_to && !push_recompressed (b, &up, &done, error))
    return FALSE;
  if (done || !find_remote (b, &done, &location, error) || done)
    return done;
  fd = b->fd >= 0 ? fcntl (b->fd, F_DUPFD_CLOEXEC, 3)
                  : hutch_store_blob_open (p->store, b->digest, error);
  if (fd < 0)
    return b->fd >= 0 ? hutch_throw_errno (error, "duplicating a file descriptor") : FALSE;
  set_state (b, BLOB_PUSHING);
  if (!hutch_registry_blob_upload (p->registry, p->repo, b->digest, fd, (guint64) b->size,
                                   g_steal_pointer (&location), &up, error))
    return FALSE;
  set_state (b, BLOB_PUSHED);
  return TRUE;
}

static gpointer
worker (gpointer data)
{
  Push *p = data;

  g_mutex_lock (&p->lock);
  while (p->next < p->n_layers && !p->cancel)
    {
      Blob *b = &p->blobs[p->next++];
      GError *local = NULL;
      gboolean ok;

      g_mutex_unlock (&p->lock);
      ok = push_blob (b, &local);
      g_mutex_lock (&p->lock);
      if (!ok)
        b->state = BLOB_FAILED;
      b->error = local;
      p->cancel |= !ok;
      g_cond_broadcast (&p->changed);
    }
  p->active--;
  g_cond_broadcast (&p->changed);
  g_mutex_unlock (&p->lock);
  return NULL;
}

/* ---- progress, on stderr, as pull shows it ---- */

static char *
blob_line (const Blob *b, const Push *p, gint64 now)
{
  g_autofree char *id = g_strndup (b->digest + 7, 12);
  g_autofree char *got = NULL, *total = NULL;

  switch (b->state)
    {
    case BLOB_WAITING:
      return g_strdup_printf ("%s: Waiting", id);
    case BLOB_COMPRESSING:
      return g_strdup_printf ("%s: Compressing", id);
    case BLOB_PUSHING:
      {
        double secs = (double) (now - b->started) / G_USEC_PER_SEC;
        got = hutch_util_format_size (b->sent);
        total = hutch_util_format_size ((guint64) b->size);
        if (secs > 0.2)
          {
            g_autofree char *rate = hutch_util_format_size ((guint64) ((double) b->sent / secs));
            return g_strdup_printf ("%s: Pushing  %s / %s  %s/s", id, got, total, rate);
          }
        return g_strdup_printf ("%s: Pushing  %s / %s", id, got, total);
      }
    case BLOB_PUSHED:
      return g_strdup_printf ("%s: Pushed", id);
    case BLOB_EXISTS:
      return g_strdup_printf ("%s: Layer already exists", id);
    case BLOB_MOUNTED:
      return g_strdup_printf ("%s: Mounted from %s", id, b->mounted_from);
    case BLOB_FAILED:
    default:
      return g_strdup_printf ("%s: Failed", id);
    }
}

static gboolean
blob_ended (const Blob *b)
{
  return b->state == BLOB_PUSHED || b->state == BLOB_EXISTS || b->state == BLOB_MOUNTED;
}

/* Under p->lock. Live: the block of lines is redrawn in place. Lines: each
 * layer once, when it ends. */
static void
draw (Push *p)
{
  gint64 now = g_get_monotonic_time ();

  if (p->progress == HUTCH_PULL_PROGRESS_LIVE)
    {
      if (p->lines_drawn > 0)
        fprintf (stderr, "\033[%uA", p->lines_drawn);
      for (guint i = 0; i < p->n_layers; i++)
        {
          g_autofree char *line = blob_line (&p->blobs[i], p, now);
          fprintf (stderr, "\r%s\033[K\n", line);
        }
      p->lines_drawn = p->n_layers;
    }
  else if (p->progress == HUTCH_PULL_PROGRESS_LINES)
    for (guint i = 0; i < p->n_layers; i++)
      {
        Blob *b = &p->blobs[i];
        if (!b->reported && blob_ended (b))
          {
            g_autofree char *line = blob_line (b, p, now);
            fprintf (stderr, "%s\n", line);
            b->reported = TRUE;
          }
      }
  fflush (stderr);
}

static gboolean
push_layers (Push *p, GError **error)
{
  g_autoptr (GPtrArray) threads = g_ptr_array_new ();

  p->active = MIN (p->jobs, p->n_layers);
  for (guint i = 0; i < p->active; i++)
    g_ptr_array_add (threads, g_thread_new ("push", worker, p));
  g_mutex_lock (&p->lock);
  for (;;)
    {
      draw (p);
      if (p->active == 0)
        break;
      if (p->progress == HUTCH_PULL_PROGRESS_LIVE)
        g_cond_wait_until (&p->changed, &p->lock, g_get_monotonic_time () + G_USEC_PER_SEC / 5);
      else
        g_cond_wait (&p->changed, &p->lock);
    }
  g_mutex_unlock (&p->lock);
  for (guint i = 0; i < threads->len; i++)
    g_thread_join (threads->pdata[i]);
  for (guint i = 0; i < p->n_layers; i++)
    {
      Blob *b = &p->blobs[i];
      if (b->error == NULL)
        continue;
      g_propagate_prefixed_error (error, g_steal_pointer (&b->error),
                                  "pushing %s, layer %u (%s): ", p->name, i + 1,
                                  b->stored->digest);
      return FALSE;
    }
  return TRUE;
}

/* ---- the whole push ---- */

static HutchLayerCompression
stored_compression (HutchMediaKind kind)
{
  return kind == HUTCH_MEDIA_LAYER_GZIP   ? HUTCH_LAYER_GZIP
         : kind == HUTCH_MEDIA_LAYER_ZSTD ? HUTCH_LAYER_ZSTD
                                          : HUTCH_LAYER_PLAIN;
}

/* The compression layer @kind is pushed in: an uncompressed layer is
 * compressed (gzip unless asked otherwise), a compressed one kept unless
 * the other was asked for. */
static HutchLayerCompression
target_compression (HutchMediaKind kind, HutchPushCompression asked)
{
  HutchLayerCompression have = stored_compression (kind);

  if (asked == HUTCH_PUSH_COMPRESSION_ZSTD)
    return HUTCH_LAYER_ZSTD;
  if (asked == HUTCH_PUSH_COMPRESSION_GZIP || have == HUTCH_LAYER_PLAIN)
    return HUTCH_LAYER_GZIP;
  return have;
}

/* The other repositories of @domain the image is named in: where its
 * blobs may be mounted from. */
static GPtrArray *
mount_sources (const HutchStoreImage *img, const HutchImageRef *dest)
{
  GPtrArray *out = g_ptr_array_new_with_free_func (g_free);

  for (guint i = 0; i < img->names->len; i++)
    {
      g_autoptr (HutchImageRef) ref = hutch_image_ref_parse (img->names->pdata[i], NULL);
      gboolean seen = FALSE;

      if (ref == NULL || strcmp (ref->domain, dest->domain) != 0
          || strcmp (ref->path, dest->path) == 0)
        continue;
      for (guint j = 0; j < out->len && !seen; j++)
        seen = strcmp (out->pdata[j], ref->path) == 0;
      if (!seen)
        g_ptr_array_add (out, g_strdup (ref->path));
    }
  return out;
}

/* The manifest to push: the stored bytes when every blob goes as it is
 * (its digest stays the image's), else an OCI manifest naming the new
 * layers. */
static char *
manifest_for (const Push *p, const HutchStoreImage *img, gboolean *out_changed, gsize *out_len,
              GError **error)
{
  g_autoptr (GPtrArray) layers = g_ptr_array_new ();
  g_autofree HutchDescriptor *descs = NULL;
  HutchManifest m = { HUTCH_MEDIA_OCI_MANIFEST, img->manifest->config, NULL };
  char *text;

  *out_changed = FALSE;
  for (guint i = 0; i < p->n_layers; i++)
    *out_changed |= strcmp (p->blobs[i].digest, p->blobs[i].stored->digest) != 0;
  if (!*out_changed)
    return hutch_store_blob_read (p->store, img->digest, HUTCH_JSON_MAX_SIZE, out_len, error);
  descs = g_new0 (HutchDescriptor, p->n_layers);
  for (guint i = 0; i < p->n_layers; i++)
    {
      descs[i] = *p->blobs[i].stored;
      descs[i].digest = (char *) p->blobs[i].digest;
      descs[i].size = p->blobs[i].size;
      descs[i].kind = p->blobs[i].kind;
      g_ptr_array_add (layers, &descs[i]);
    }
  m.layers = layers;
  text = hutch_image_manifest_to_oci_json (&m);
  *out_len = strlen (text);
  return text;
}

gboolean
hutch_registry_push (HutchStore *store, const char *image, const char *destination,
                     const HutchPushOptions *opts, char **out_name,
                     char out_digest[HUTCH_DIGEST_BUFSIZE], GError **error)
{
  gboolean by_name = FALSE;
  g_autoptr (HutchStoreImage) img = hutch_store_image_lookup (store, image, &by_name, error);
  g_autoptr (HutchImageRef) ref = NULL;
  g_autoptr (HutchRegistry) reg = NULL;
  g_autoptr (GPtrArray) sources = NULL;
  g_autofree char *display = NULL, *manifest = NULL;
  const char *dest_text = destination;
  Push p = { 0 };
  gboolean ok = FALSE, changed = FALSE;
  gsize len = 0;

  *out_name = NULL;
  if (img == NULL)
    return FALSE;
  if (dest_text == NULL && by_name)
    dest_text = image; /* docker push NAME: that name */
  if (dest_text == NULL && img->names->len == 0)
    return hutch_throw (error, HUTCH_ERROR_USAGE,
                        "image %s has no name to push it under: give a destination "
                        "(hutch push %s REGISTRY/REPOSITORY[:TAG])", image, image);
  if (dest_text == NULL)
    dest_text = img->names->pdata[0];
  ref = hutch_image_ref_parse (dest_text, error);
  if (ref == NULL)
    return g_prefix_error (error, "destination \"%s\": ", dest_text), FALSE;
  if (ref->digest != NULL)
    return hutch_throw (error, HUTCH_ERROR_USAGE,
                        "destination \"%s\": a push names a tag, not a digest (the registry "
                        "gives the digest)", dest_text);
  display = hutch_image_ref_to_string (ref);
  reg = hutch_registry_new (ref->domain, ref->path, &opts->registry, error);
  /* once, before the threads that would each find out */
  if (reg == NULL || !hutch_registry_ping (reg, error))
    return g_prefix_error (error, "pushing %s: ", display), FALSE;
  sources = mount_sources (img, ref);
  p.store = store;
  p.registry = reg;
  p.repo = ref->path;
  p.name = display;
  p.config = img->config;
  p.mount_from = sources;
  p.chunk_size = opts->chunk_size;
  p.jobs = opts->jobs != 0 ? opts->jobs : DEFAULT_JOBS;
  p.progress = opts->progress;
  p.n_layers = img->manifest->layers->len;
  p.blobs = g_new0 (Blob, p.n_layers + 1);
  g_mutex_init (&p.lock);
  g_cond_init (&p.changed);
  for (guint i = 0; i <= p.n_layers; i++)
    {
      Blob *b = &p.blobs[i];
      b->push = &p;
      b->index = i;
      b->fd = -1;
      b->stored = i < p.n_layers ? img->manifest->layers->pdata[i] : img->manifest->config;
      g_strlcpy (b->digest, b->stored->digest, sizeof b->digest);
      b->size = b->stored->size;
      b->kind = b->stored->kind;
      b->convert_from = b->convert_to = stored_compression (b->kind);
      if (i < p.n_layers)
        b->convert_to = target_compression (b->kind, opts->compression);
    }
  if (!push_layers (&p, error))
    goto out;
  /* the config, then the manifest that names it all */
  {
    Blob *config = &p.blobs[p.n_layers];
    GError *local = NULL;
    if (!push_blob (config, &local))
      {
        g_propagate_prefixed_error (error, local, "pushing %s, its config (%s): ", display,
                                    config->digest);
        goto out;
      }
  }
  manifest = manifest_for (&p, img, &changed, &len, error);
  if (manifest == NULL)
    goto out;
  if (changed)
    hutch_sha256_digest_of (manifest, len, out_digest);
  else
    g_strlcpy (out_digest, img->digest, HUTCH_DIGEST_BUFSIZE);
  if (opts->progress != HUTCH_PULL_PROGRESS_NONE)
    fprintf (stderr, "Writing manifest to image destination\n");
  if (!hutch_registry_put_manifest (reg, ref->path, ref->tag,
                                    changed ? HUTCH_MEDIA_TYPE_OCI_MANIFEST : img->media_type,
                                    manifest, len, out_digest, error))
    goto out;
  *out_name = g_steal_pointer (&display);
  ok = TRUE;
out:
  for (guint i = 0; i <= p.n_layers && p.blobs != NULL; i++)
    {
      g_clear_error (&p.blobs[i].error);
      hutch_fd_clear (&p.blobs[i].fd);
    }
  g_free (p.blobs);
  if (p.blobs != NULL)
    {
      g_mutex_clear (&p.lock);
      g_cond_clear (&p.changed);
    }
  return ok;
}
