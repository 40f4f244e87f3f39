/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* hutch pull, start to end. The parent resolves the reference to a
 * manifest (choosing from an index by platform) and a config, and stores
 * both. The layers are then fetched by a child that is root of the user
 * namespace, so that it can both write blobs and unpack them with their
 * owners: up to `jobs` layers at once, each downloaded into its partial blob
 * while a second thread unpacks the same bytes as they land (reading the
 * growing file). The unpacker sees the end of the blob only after its
 * digest checks, so neither blob nor layer is committed from bad bytes.
 * Last, the parent records the name. */
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
  LAYER_WAITING,
  LAYER_DOWNLOADING,
  LAYER_EXTRACTING,
  LAYER_DONE,
  LAYER_EXISTS,
  LAYER_FAILED,
} LayerState;

typedef struct Pull Pull;

typedef struct
{
  Pull *pull;
  guint index;
  const HutchDescriptor *desc;
  gboolean need_blob, need_unpack;
  /* the growing blob, for the unpacker; under pull->lock */
  int fd;
  guint64 avail;
  gboolean done, failed;
  guint64 read_off; /* the unpacker's alone */
  /* progress and result; under pull->lock */
  LayerState state;
  gint64 started; /* monotonic µs */
  gboolean reported;
  gboolean stopped; /* because another layer failed */
  GError *error;
  GError *unpack_error;
} Layer;

struct Pull
{
  HutchStore *store;
  HutchRegistry *registry;
  const char *repo;
  const char *name; /* for messages */
  const HutchManifest *manifest;
  const HutchImageConfig *config;
  const HutchIdMap *map;
  guint64 unpack_limit;
  guint jobs;
  HutchPullProgress progress;
  Layer *layers;
  guint n_layers;
  GMutex lock;
  GCond changed;
  guint next;   /* the next layer a worker takes */
  guint active; /* workers still running */
  gboolean cancel;
  guint lines_drawn;
};

/* ---- the growing blob, read by the unpacker ---- */

static gssize
tail_read (gpointer data, void *buf, gsize len, GError **error)
{
  Layer *l = data;
  Pull *p = l->pull;
  guint64 avail;
  ssize_t n;

  g_mutex_lock (&p->lock);
  while (l->read_off == l->avail && !l->done && !l->failed)
    g_cond_wait (&p->changed, &p->lock);
  avail = l->avail;
  if (l->failed)
    {
      g_mutex_unlock (&p->lock);
      return hutch_throw (error, HUTCH_ERROR_NETWORK, "the download failed"), -1;
    }
  g_mutex_unlock (&p->lock);
  if (l->read_off == avail)
    return 0;
  do
    n = pread (l->fd, buf, (size_t) MIN ((guint64) len, avail - l->read_off), (off_t) l->read_off);
  while (n < 0 && errno == EINTR);
  if (n < 0)
    return hutch_throw_errno (error, "reading the download of layer %s", l->desc->digest), -1;
  l->read_off += (guint64) n;
  return n;
}

static gpointer
unpack_thread (gpointer data)
{
  Layer *l = data;
  Pull *p = l->pull;

  /* A failure here does not stop the download: when the bytes turn out
   * not to be the blob, that is the error to report. */
  (void) hutch_store_layer_unpack_from (p->store, p->manifest, p->config, l->index, p->map, p->name,
                                        p->unpack_limit, tail_read, l, &l->unpack_error);
  return NULL;
}

/* ---- one layer ---- */

typedef struct
{
  Layer *layer;
  HutchBlobWriter *writer;
} Sink;

static gboolean
sink_write (gpointer data, const void *buf, gsize len, GError **error)
{
  Sink *s = data;
  Layer *l = s->layer;
  Pull *p = l->pull;
  gboolean cancel;

  if (!hutch_store_blob_writer_write (s->writer, buf, len, error))
    return FALSE;
  g_mutex_lock (&p->lock);
  l->avail += len;
  cancel = l->stopped = p->cancel;
  g_cond_broadcast (&p->changed);
  g_mutex_unlock (&p->lock);
  if (cancel)
    return hutch_throw (error, HUTCH_ERROR_FAILED, "stopped: another layer failed");
  return TRUE;
}

/* A layer whose blob the store has: unpacked from the blob. */
static gboolean
unpack_present (Layer *l, GError **error)
{
  Pull *p = l->pull;

  return hutch_store_layer_unpack_from (p->store, p->manifest, p->config, l->index, p->map, p->name,
                                        p->unpack_limit, NULL, NULL, error);
}

static void
set_state (Layer *l, LayerState state)
{
  g_mutex_lock (&l->pull->lock);
  l->state = state;
  g_cond_broadcast (&l->pull->changed);
  g_mutex_unlock (&l->pull->lock);
}

static gboolean
download (Layer *l, GError **error)
{
  Pull *p = l->pull;
  g_autoptr (HutchBlobWriter) w = NULL;
  GThread *unpacker = NULL;
  gboolean present = FALSE, created, ok;
  Sink sink = { l, NULL };
  guint64 offset;

  w = hutch_store_blob_writer_resume (p->store, l->desc->digest, &present, error);
  if (w == NULL && !present)
    return FALSE;
  if (present) /* another pull fetched it while we waited for its lock */
    return !l->need_unpack || (set_state (l, LAYER_EXTRACTING), unpack_present (l, error));
  sink.writer = w;
  offset = (guint64) hutch_store_blob_writer_size (w);
  /* its own fd: committing the blob closes the writer's */
  l->fd = fcntl (hutch_store_blob_writer_fd (w), F_DUPFD_CLOEXEC, 3);
  if (l->fd < 0)
    return hutch_throw_errno (error, "duplicating a file descriptor");
  g_mutex_lock (&p->lock);
  l->avail = offset;
  l->state = LAYER_DOWNLOADING;
  l->started = g_get_monotonic_time ();
  g_mutex_unlock (&p->lock);
  if (offset > 0)
    g_debug ("%s: resuming layer %s at byte %" G_GUINT64_FORMAT, p->name, l->desc->digest, offset);
  if (l->need_unpack)
    unpacker = g_thread_new ("unpack", unpack_thread, l);
  ok = hutch_registry_get_blob (p->registry, p->repo, l->desc->digest, l->desc->size, &offset,
                                sink_write, &sink, error)
       && hutch_store_blob_writer_finish (w, l->desc->size, error)
       && hutch_store_blob_writer_commit (w, &created, error);
  g_mutex_lock (&p->lock);
  if (ok)
    l->done = TRUE;
  else
    l->failed = p->cancel = TRUE;
  if (ok && l->need_unpack)
    l->state = LAYER_EXTRACTING;
  g_cond_broadcast (&p->changed);
  g_mutex_unlock (&p->lock);
  if (unpacker != NULL)
    g_thread_join (unpacker);
  hutch_fd_clear (&l->fd);
  if (ok && l->unpack_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&l->unpack_error));
      return FALSE;
    }
  return ok;
}

static gpointer
worker (gpointer data)
{
  Pull *p = data;

  g_mutex_lock (&p->lock);
  while (p->next < p->n_layers && !p->cancel)
    {
      Layer *l = &p->layers[p->next++];
      GError *local = NULL;
      gboolean ok;

      if (l->state == LAYER_EXISTS)
        continue;
      g_mutex_unlock (&p->lock);
      if (l->need_blob)
        ok = download (l, &local);
      else
        {
          set_state (l, LAYER_EXTRACTING);
          ok = unpack_present (l, &local);
        }
      g_mutex_lock (&p->lock);
      l->state = ok ? LAYER_DONE : LAYER_FAILED;
      l->error = local;
      p->cancel |= !ok;
      g_cond_broadcast (&p->changed);
    }
  p->active--;
  g_cond_broadcast (&p->changed);
  g_mutex_unlock (&p->lock);
  return NULL;
}

/* ---- progress, on stderr ---- */

static char *
short_id (const char *digest)
{
  return g_strndup (digest + 7, 12);
}

static char *
layer_line (const Layer *l, gint64 now)
{
  g_autofree char *id = short_id (l->desc->digest);
  g_autofree char *got = NULL, *total = NULL;

  switch (l->state)
    {
    case LAYER_WAITING:
      return g_strdup_printf ("%s: Waiting", id);
    case LAYER_DOWNLOADING:
      {
        double secs = (double) (now - l->started) / G_USEC_PER_SEC;
        got = hutch_util_format_size (l->avail);
        total = hutch_util_format_size ((guint64) l->desc->size);
        if (secs > 0.2)
          {
            g_autofree char *rate = hutch_util_format_size ((guint64) ((double) l->avail / secs));
            return g_strdup_printf ("%s: Downloading  %s / %s  %s/s", id, got, total, rate);
          }
        return g_strdup_printf ("%s: Downloading  %s / %s", id, got, total);
      }
    case LAYER_EXTRACTING:
      return g_strdup_printf ("%s: Extracting", id);
    case LAYER_DONE:
      return g_strdup_printf ("%s: Pull complete", id);
    case LAYER_EXISTS:
      return g_strdup_printf ("%s: Already exists", id);
    case LAYER_FAILED:
    default:
      return g_strdup_printf ("%s: Failed", id);
    }
}

/* Under p->lock. Live: the block of lines is redrawn in place. Lines: each
 * layer once, when it ends. */
static void
draw (Pull *p)
{
  gint64 now = g_get_monotonic_time ();

  if (p->progress == HUTCH_PULL_PROGRESS_LIVE)
    {
      if (p->lines_drawn > 0)
        fprintf (stderr, "\033[%uA", p->lines_drawn);
      for (guint i = 0; i < p->n_layers; i++)
        {
          g_autofree char *line = layer_line (&p->layers[i], now);
          fprintf (stderr, "\r%s\033[K\n", line);
        }
      p->lines_drawn = p->n_layers;
    }
  else if (p->progress == HUTCH_PULL_PROGRESS_LINES)
    for (guint i = 0; i < p->n_layers; i++)
      {
        Layer *l = &p->layers[i];
        if (!l->reported && (l->state == LAYER_DONE || l->state == LAYER_EXISTS))
          {
            g_autofree char *line = layer_line (l, now);
            fprintf (stderr, "%s\n", line);
            l->reported = TRUE;
          }
      }
  fflush (stderr);
}

/* In the user namespace: every layer, `jobs` at a time. */
static gboolean
pull_layers (gpointer data, GError **error)
{
  Pull *p = data;
  g_autoptr (GPtrArray) threads = g_ptr_array_new ();
  guint todo = 0;

  for (guint i = 0; i < p->n_layers; i++)
    todo += p->layers[i].state != LAYER_EXISTS;
  p->active = MIN (p->jobs, todo);
  for (guint i = 0; i < p->active; i++)
    g_ptr_array_add (threads, g_thread_new ("pull", worker, p));
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
  /* The first failure in layer order; a layer stopped because another
   * failed says less. */
  for (int pass = 0; pass < 2; pass++)
    for (guint i = 0; i < p->n_layers; i++)
      {
        Layer *l = &p->layers[i];
        if (l->error == NULL || (pass == 0 && l->stopped))
          continue;
        g_propagate_prefixed_error (error, g_steal_pointer (&l->error),
                                    "pulling %s, layer %u (%s): ", p->name, i + 1,
                                    l->desc->digest);
        return FALSE;
      }
  return TRUE;
}

/* ---- the parent ---- */

/* Manifests and configs: whole, already checked against their digest. */
static gboolean
put_bytes (HutchStore *store, GBytes *bytes, const char *digest, GError **error)
{
  gboolean created;

  return hutch_store_blob_put (store, g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes),
                               digest, &created, error);
}

/* The media type of a manifest the registry sent without a usable
 * Content-Type: its own mediaType, or by shape. */
static HutchMediaKind
manifest_kind (const char *content_type, GBytes *bytes)
{
  HutchMediaKind kind = content_type != NULL ? hutch_image_media_kind (content_type)
                                             : HUTCH_MEDIA_UNKNOWN;
  gsize len;
  const char *data = g_bytes_get_data (bytes, &len);
  g_autoptr (HutchJsonNode) root = NULL;
  const HutchJsonNode *mt;

  if (hutch_image_media_is_manifest (kind) || hutch_image_media_is_index (kind))
    return kind;
  root = hutch_json_parse (data, len, NULL);
  mt = hutch_json_node_member (root, "mediaType");
  if (mt != NULL && mt->type == HUTCH_JSON_STRING)
    return hutch_image_media_kind (mt->string);
  return hutch_json_node_member (root, "manifests") != NULL ? HUTCH_MEDIA_OCI_INDEX
                                                             : HUTCH_MEDIA_OCI_MANIFEST;
}

static const char *
kind_media_type (HutchMediaKind kind)
{
  return kind == HUTCH_MEDIA_DOCKER_MANIFEST ? "application/vnd.docker.distribution.manifest.v2+json"
                                             : HUTCH_MEDIA_TYPE_OCI_MANIFEST;
}

typedef struct
{
  GBytes *bytes;
  HutchMediaKind kind;
  char digest[HUTCH_DIGEST_BUFSIZE];
  HutchManifest *manifest;
  GBytes *config_bytes;
  HutchImageConfig *config;
} Resolved;

static void
resolved_clear (Resolved *r)
{
  g_clear_pointer (&r->bytes, g_bytes_unref);
  g_clear_pointer (&r->config_bytes, g_bytes_unref);
  g_clear_pointer (&r->manifest, hutch_image_manifest_free);
  g_clear_pointer (&r->config, hutch_image_config_free);
}

/* The reference to the manifest for @platform, and its config. */
static gboolean
resolve (HutchStore *store, HutchRegistry *reg, const HutchImageRef *ref, const char *name,
         const HutchPullOptions *opts, const HutchPlatform *platform, Resolved *out,
         GError **error)
{
  g_autofree char *content_type = NULL;
  gsize len;
  const char *data;

  out->bytes = hutch_registry_get_manifest (reg, ref->path, ref->digest != NULL ? ref->digest : ref->tag,
                                            &content_type, out->digest, error);
  if (out->bytes == NULL)
    return FALSE;
  out->kind = manifest_kind (content_type, out->bytes);
  if (hutch_image_media_is_index (out->kind))
    {
      g_autoptr (HutchIndex) idx = NULL;
      const HutchDescriptor *d;

      data = g_bytes_get_data (out->bytes, &len);
      idx = hutch_image_index_parse (data, len, out->kind, error);
      if (idx == NULL)
        return g_prefix_error (error, "%s: ", name), FALSE;
      d = hutch_image_index_select (idx, platform, error);
      if (d == NULL)
        return g_prefix_error (error, "%s: ", name), FALSE;
      g_clear_pointer (&content_type, g_free);
      g_bytes_unref (out->bytes);
      out->bytes = hutch_registry_get_manifest (reg, ref->path, d->digest, &content_type,
                                                out->digest, error);
      if (out->bytes == NULL)
        return FALSE;
      out->kind = manifest_kind (content_type, out->bytes);
    }
  if (!hutch_image_media_is_manifest (out->kind))
    return hutch_throw (error, HUTCH_ERROR_INVALID_IMAGE,
                        "%s: the registry sent a manifest of type %s, which hutch cannot run "
                        "(Docker schema 1 and artifacts are not images)", name,
                        content_type != NULL ? content_type : "unknown");
  data = g_bytes_get_data (out->bytes, &len);
  out->manifest = hutch_image_manifest_parse (data, len, out->kind, error);
  if (out->manifest == NULL)
    return g_prefix_error (error, "%s: ", name), FALSE;
  /* a config the store has (an earlier pull, another platform's) */
  if (hutch_store_blob_exists (store, out->manifest->config->digest))
    {
      char *text = hutch_store_blob_read (store, out->manifest->config->digest,
                                          HUTCH_JSON_MAX_SIZE, &len, NULL);
      if (text != NULL)
        out->config_bytes = g_bytes_new_take (text, len);
    }
  if (out->config_bytes == NULL)
    out->config_bytes = hutch_registry_get_small_blob (reg, ref->path,
                                                       out->manifest->config->digest,
                                                       HUTCH_JSON_MAX_SIZE, error);
  if (out->config_bytes == NULL)
    return FALSE;
  data = g_bytes_get_data (out->config_bytes, &len);
  out->config = hutch_image_config_parse (data, len, error);
  if (out->config == NULL || !hutch_image_check_consistent (out->manifest, out->config, error))
    return g_prefix_error (error, "%s: ", name), FALSE;
  if (out->config->os != NULL && out->config->architecture != NULL)
    {
      HutchPlatform have = { (char *) out->config->os, (char *) out->config->architecture,
                             (char *) out->config->variant };
      if (hutch_image_platform_rank (platform, &have) < 0)
        {
          g_autofree char *want_text = hutch_image_platform_to_string (platform);
          g_autofree char *have_text = hutch_image_platform_to_string (&have);
          if (opts->platform_asked)
            return hutch_throw (error, HUTCH_ERROR_NOT_FOUND,
                                "%s is for %s, not %s (it has no other platforms)", name,
                                have_text, want_text);
          g_warning ("%s is for %s, which this %s host may not run", name, have_text, want_text);
        }
    }
  return TRUE;
}

/* Whether @name already names the manifest @res found. */
static gboolean
up_to_date (HutchStore *store, const Resolved *res, const char *name)
{
  g_autoptr (HutchStoreImage) have = hutch_store_image_lookup (store, name, NULL, NULL);

  return have != NULL && strcmp (have->digest, res->digest) == 0;
}

static gboolean
record (HutchStore *store, const Resolved *res, const char *name, GError **error)
{
  const char *names[] = { name, NULL };
  HutchStoreImageAdd add = { res->digest, kind_media_type (res->kind),
                             (gint64) g_bytes_get_size (res->bytes), names };

  return hutch_store_images_add (store, &add, 1, error);
}

gboolean
hutch_registry_pull (HutchStore *store, const char *ref_text, const HutchPullOptions *opts,
                     char **out_name, char **out_id, gboolean *out_new, GError **error)
{
  g_autoptr (HutchImageRef) ref = hutch_image_ref_parse (ref_text, error);
  g_autoptr (HutchPlatform) host = NULL;
  g_autoptr (HutchRegistry) reg = NULL;
  g_autoptr (HutchIdMap) map = NULL;
  g_autoptr (GPtrArray) missing = NULL;
  g_autofree char *name = NULL, *display = NULL;
  Resolved res = { 0 };
  Pull p = { 0 };
  gboolean ok = FALSE;
  guint fetch = 0;

  *out_name = *out_id = NULL;
  *out_new = FALSE;
  if (ref == NULL)
    return FALSE;
  display = hutch_image_ref_to_string (ref);
  /* name@digest for a pull by digest: found by it, and not dangling */
  name = g_strdup (display);
  host = opts->platform == NULL ? hutch_image_platform_host () : NULL;
  reg = hutch_registry_new (ref->domain, ref->path, &opts->registry, error);
  if (reg == NULL
      || !resolve (store, reg, ref, display, opts, opts->platform != NULL ? opts->platform : host, &res,
                   error)
      || !put_bytes (store, res.bytes, res.digest, error)
      || !put_bytes (store, res.config_bytes, res.manifest->config->digest, error)
      || (map = hutch_sandbox_idmap_new_for_user (error)) == NULL
      || (missing = hutch_store_layers_missing (store, res.config, map, display, error)) == NULL)
    goto out;
  p.store = store;
  p.registry = reg;
  p.repo = ref->path;
  p.name = display;
  p.manifest = res.manifest;
  p.config = res.config;
  p.map = map;
  p.unpack_limit = opts->unpack_limit != 0 ? opts->unpack_limit : HUTCH_LAYER_DEFAULT_MAX_BYTES;
  p.jobs = opts->jobs != 0 ? opts->jobs : DEFAULT_JOBS;
  p.progress = opts->progress;
  p.n_layers = res.manifest->layers->len;
  p.layers = g_new0 (Layer, p.n_layers);
  g_mutex_init (&p.lock);
  g_cond_init (&p.changed);
  for (guint i = 0; i < p.n_layers; i++)
    {
      Layer *l = &p.layers[i];
      l->pull = &p;
      l->index = i;
      l->desc = res.manifest->layers->pdata[i];
      l->fd = -1;
      /* A damaged copy is fetched again, and replaced when committed. */
      l->need_blob = !hutch_store_blob_verify (store, l->desc->digest, NULL);
      l->need_unpack = g_ptr_array_find (missing, GUINT_TO_POINTER (i), NULL);
      l->state = l->need_blob || l->need_unpack ? LAYER_WAITING : LAYER_EXISTS;
      if (l->need_blob)
        fetch++;
    }
  /* the child gets connections of its own */
  hutch_registry_close_connections (reg);
  *out_new = !up_to_date (store, &res, name);
  if (fetch > 0 || missing->len > 0)
    ok = hutch_sandbox_userns_run (map, pull_layers, &p, error);
  else
    ok = pull_layers (&p, error);
  if (!ok && error != NULL && g_error_matches (*error, G_FILE_ERROR, G_FILE_ERROR_NOSPC))
    {
      guint64 needed = 0;
      g_autofree char *size = NULL;
      for (guint i = 0; i < p.n_layers; i++)
        needed += p.layers[i].need_blob ? (guint64) p.layers[i].desc->size : 0;
      size = hutch_util_format_size (needed);
      g_prefix_error (error, "this pull needs %s for the layers it downloads, and room to "
                             "unpack them: ", size);
    }
  ok = ok && record (store, &res, name, error);
  if (ok)
    {
      *out_name = g_steal_pointer (&name);
      *out_id = g_strdup (res.manifest->config->digest);
    }
  for (guint i = 0; i < p.n_layers; i++)
    {
      g_clear_error (&p.layers[i].error);
      g_clear_error (&p.layers[i].unpack_error);
    }
  g_free (p.layers);
  g_mutex_clear (&p.lock);
  g_cond_clear (&p.changed);
out:
  resolved_clear (&res);
  return ok;
}
