/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A member of an archive that does not say its digest (a docker-archive's
 * layer.tar or <hex>.tar, its config) staged as a blob. A member whose
 * first block is a tar header is a layer that arrived uncompressed, as
 * every docker-archive layer does: it is gzipped on its way into the store
 * (tar bytes → HutchLayerCompressor → blob writer, one pass), its diff id
 * hashed from the same bytes, so a loaded image takes the disk of a pulled
 * one instead of 2-3 times that. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "archive-private.h"

#define TAR_BLOCK 512

struct Stager
{
  Load *load;
  char *name;         /* the member's */
  Prepared *prepared; /* its unpack, when it is a layer planned so */
  HutchBlobWriter *w;
  HutchLayerCompressor *c; /* once the member showed a tar header */
  guint8 head[TAR_BLOCK];
  gsize head_len;
  gboolean decided;
};

Stager *
hutch_archive_stager_new (Load *load, const char *name, GError **error)
{
  gboolean present;
  g_autoptr (HutchBlobWriter) w = hutch_store_blob_writer_new (load->store, NULL, &present, error);
  Stager *s;

  if (w == NULL)
    return NULL;
  s = g_new0 (Stager, 1);
  s->load = load;
  s->name = g_strdup (name);
  s->w = g_steal_pointer (&w);
  return s;
}

void
hutch_archive_stager_free (Stager *s)
{
  if (s == NULL)
    return;
  g_clear_pointer (&s->c, hutch_layer_compressor_free);
  g_clear_pointer (&s->prepared, hutch_archive_prepared_abandon);
  hutch_store_blob_writer_free (s->w);
  g_free (s->name);
  g_free (s);
}

static gboolean
blob_write (gpointer data, const void *buf, gsize len, GError **error)
{
  return hutch_store_blob_writer_write (data, buf, len, error);
}

static gboolean
forward (Stager *s, const void *buf, gsize len, GError **error)
{
  if (len == 0)
    return TRUE;
  if (s->prepared != NULL)
    hutch_archive_prepared_feed (s->prepared, buf, len);
  return s->c != NULL ? hutch_layer_compressor_write (s->c, buf, len, error)
                      : hutch_store_blob_writer_write (s->w, buf, len, error);
}

/* A ustar or GNU tar header: "ustar" at offset 257. An old v7 tar without
 * it is stored as it came, which costs disk but nothing else. */
static gboolean
decide (Stager *s, GError **error)
{
  s->decided = TRUE;
  if (s->head_len == TAR_BLOCK && memcmp (s->head + 257, "ustar", 5) == 0)
    /* the child first: it forks, and the compressor starts threads */
    s->prepared = hutch_archive_prepared_start (s->load, s->name);
  if (s->head_len == TAR_BLOCK && memcmp (s->head + 257, "ustar", 5) == 0)
    s->c = hutch_layer_compressor_new (HUTCH_LAYER_GZIP, HUTCH_LAYER_LEVEL_DEFAULT, 0,
                                       blob_write, s->w);
  return forward (s, s->head, s->head_len, error);
}

gboolean
hutch_archive_stager_write (gpointer data, const void *buf, gsize len, GError **error)
{
  Stager *s = data;

  if (!s->decided)
    {
      gsize take = MIN (len, TAR_BLOCK - s->head_len);
      memcpy (s->head + s->head_len, buf, take);
      s->head_len += take;
      buf = (const guint8 *) buf + take;
      len -= take;
      if (s->head_len < TAR_BLOCK)
        return TRUE;
      if (!decide (s, error))
        return FALSE;
    }
  return forward (s, buf, len, error);
}

gboolean
hutch_archive_stager_finish (Stager *s, Member *m, GError **error)
{
  if (!s->decided && !decide (s, error))
    return FALSE;
  m->diff_id[0] = '\0';
  if (s->c != NULL)
    {
      guint64 bytes;
      if (!hutch_layer_compressor_finish (s->c, m->diff_id, &bytes, error))
        return FALSE;
      m->plain_size = (gint64) bytes;
    }
  if (s->prepared != NULL)
    hutch_archive_prepared_end (s->load, g_steal_pointer (&s->prepared));
  if (!hutch_store_blob_writer_finish (s->w, -1, error))
    return FALSE;
  m->size = hutch_store_blob_writer_size (s->w);
  hutch_store_blob_writer_free (m->pending);
  m->pending = g_steal_pointer (&s->w);
  return TRUE;
}

/* ---- a docker-dir: an unpacked docker-archive ---- */

static void
dir_member_free (gpointer p)
{
  Member *m = p;

  g_free (m->name);
  hutch_store_blob_writer_free (m->pending);
  g_free (m);
}

static gboolean
stage_file (Load *load, int fd, Member *m, GError **error)
{
  g_autoptr (Stager) st = hutch_archive_stager_new (load, m->name, error);
  g_autofree char *buf = g_malloc (1 << 20);
  gboolean created = FALSE;
  ssize_t n;

  if (st == NULL)
    return FALSE;
  while ((n = read (fd, buf, 1 << 20)) != 0)
    {
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return hutch_throw_errno (error, "%s: reading \"%s\"", load->what, m->name);
      if (!hutch_archive_stager_write (st, buf, (gsize) n, error))
        return FALSE;
    }
  if (!hutch_archive_stager_finish (st, m, error))
    return FALSE;
  g_strlcpy (m->digest, hutch_store_blob_writer_digest (m->pending), sizeof m->digest);
  if (!hutch_store_blob_writer_commit (m->pending, &created, error))
    return FALSE;
  g_clear_pointer (&m->pending, hutch_store_blob_writer_free);
  if (created)
    g_ptr_array_add (load->created, g_strdup (m->digest));
  m->in_store = TRUE;
  return TRUE;
}

Member *
hutch_archive_dir_member (Load *load, const char *who, const char *name, GError **error)
{
  g_autoptr (GError) local = NULL;
  hutch_autofd int fd = -1;
  Member *m;
  struct stat st;

  if (load->members == NULL)
    load->members = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, dir_member_free);
  m = g_hash_table_lookup (load->members, name);
  if (m != NULL)
    return m;
  /* beneath the directory: a name or symlink that leads out is refused */
  fd = hutch_util_open_beneath (load->dir_fd, name, O_RDONLY | O_NOCTTY, 0, &local);
  if (fd < 0)
    return hutch_throw (error, g_error_matches (local, HUTCH_ERROR, HUTCH_ERROR_UNSAFE_PATH)
                                 ? HUTCH_ERROR_UNSAFE_PATH : HUTCH_ERROR_INVALID_IMAGE,
                        "%s: %s names \"%s\", which cannot be opened in the directory: %s",
                        load->what, who, name, local->message), NULL;
  if (fstat (fd, &st) < 0 || !S_ISREG (st.st_mode))
    return hutch_throw (error, HUTCH_ERROR_INVALID_IMAGE,
                        "%s: %s names \"%s\", which is not a regular file", load->what, who,
                        name), NULL;
  m = g_new0 (Member, 1);
  m->name = g_strdup (name);
  g_hash_table_insert (load->members, m->name, m);
  if (!stage_file (load, fd, m, error))
    return NULL;
  return m;
}

gboolean
hutch_archive_docker_dir_open (Load *load, const char *path, GError **error)
{
  hutch_autofd int fd = -1;
  char *text;
  gsize len;

  load->dir_fd = open (path, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (load->dir_fd < 0)
    return hutch_throw_errno (error, "opening the directory %s", path);
  fd = hutch_util_open_beneath (load->dir_fd, "manifest.json", O_RDONLY, 0, error);
  if (fd < 0)
    return g_prefix_error (error, "%s: ", load->what), FALSE;
  text = hutch_util_read_all (fd, HUTCH_JSON_MAX_SIZE, &len, error);
  if (text == NULL)
    return g_prefix_error (error, "%s: manifest.json: ", load->what), FALSE;
  load->manifest_json = g_bytes_new_take (text, len);
  return TRUE;
}
