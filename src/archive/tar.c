/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Streaming a tarball (docker-archive or oci-archive, plain, gzip or zstd)
 * once, from a file or a pipe: every regular member is hashed while it is
 * written to the store, nothing is ever written under a member's name, and
 * the names in manifest.json or index.json are resolved against the members
 * afterwards, symlinks followed only inside the archive. */
#include "config.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "archive-private.h"

typedef struct archive HutchArchiveReader;
G_DEFINE_AUTOPTR_CLEANUP_FUNC (HutchArchiveReader, archive_read_free)

#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
#define READ_BLOCK (4 << 10) /* as layer/pipe.c: fuzz inputs are small */
#else
#define READ_BLOCK (1 << 20)
#endif
#define MAX_MEMBERS 100000
#define MAX_PENDING 512 /* members without a digest in their name: one open fd each */
#define MAX_LINK_HOPS 8

/* Cleans @path (relative to the directory @base, "" for the top) into a
 * member name: no "." or empty components, ".." applied. NULL when it is
 * absolute or climbs out of the archive. */
char *
hutch_archive_clean_path (const char *base, const char *path)
{
  g_autoptr (GPtrArray) parts = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *joined = NULL;
  g_auto (GStrv) comps = NULL;

  if (path[0] == '/')
    return NULL;
  joined = *base != '\0' ? g_strconcat (base, "/", path, NULL) : g_strdup (path);
  comps = g_strsplit (joined, "/", -1);
  for (char **c = comps; *c != NULL; c++)
    {
      if (**c == '\0' || strcmp (*c, ".") == 0)
        continue;
      if (strcmp (*c, "..") == 0)
        {
          if (parts->len == 0)
            return NULL;
          g_ptr_array_remove_index (parts, parts->len - 1);
          continue;
        }
      g_ptr_array_add (parts, g_strdup (*c));
    }
  g_ptr_array_add (parts, NULL);
  return g_strjoinv ("/", (char **) parts->pdata);
}

static gboolean
archive_fail (struct archive *a, const char *what, const char *member, GError **error)
{
  const char *msg = archive_error_string (a);


  if (member != NULL)
    return hutch_throw (error, HUTCH_ERROR_INVALID_IMAGE,
                        "%s is truncated or corrupt, at member \"%s\": %s", what, member,
                        msg != NULL ? msg : "read error");
  return hutch_throw (error, HUTCH_ERROR_INVALID_IMAGE, "%s is not a readable tar archive: %s",
                      what, msg != NULL ? msg : "read error");
}

static gboolean
write_zeros (HutchLayerWriteFunc write, gpointer w, gint64 count, GError **error)
{
  static const char zeros[65536];

  while (count > 0)
    {
      gsize n = (gsize) MIN (count, (gint64) sizeof zeros);
      if (!write (w, zeros, n, error))
        return FALSE;
      count -= (gint64) n;
    }
  return TRUE;
}

/* Copies the current member's data to @w; holes of sparse members become
 * zeros, so the blob is the member's logical content. */
static gboolean
copy_data (Load *load, struct archive *a, const char *name, gint64 size, HutchLayerWriteFunc write,
           gpointer w, GError **error)
{
  const void *buf;
  size_t len;
  la_int64_t offset;
  gint64 at = 0;

  for (;;)
    {
      int r = archive_read_data_block (a, &buf, &len, &offset);
      if (r == ARCHIVE_EOF)
        break;
      if (r != ARCHIVE_OK)
        return archive_fail (a, load->what, name, error);
      if (offset < at)
        return hutch_throw (error, HUTCH_ERROR_INVALID_IMAGE,
                            "%s: member \"%s\" has overlapping data blocks", load->what, name);
      if (!write_zeros (write, w, offset - at, error) || !write (w, buf, len, error))
        return FALSE;
      at = offset + (gint64) len;
    }
  return write_zeros (write, w, size - at, error);
}

static GBytes *
read_small (Load *load, struct archive *a, const char *name, gint64 size, GError **error)
{
  g_autofree char *buf = NULL;
  la_ssize_t got;

  if (size < 0 || size > HUTCH_JSON_MAX_SIZE)
    return hutch_throw (error, HUTCH_ERROR_INVALID_IMAGE, "%s: %s is over the %d MiB limit",
                        load->what, name, HUTCH_JSON_MAX_SIZE >> 20), NULL;
  buf = g_malloc ((gsize) size + 1);
  got = archive_read_data (a, buf, (size_t) size);
  if (got < 0)
    return archive_fail (a, load->what, name, error), NULL;
  if (got != size)
    return hutch_throw (error, HUTCH_ERROR_INVALID_IMAGE, "%s is truncated, in member \"%s\"",
                        load->what, name), NULL;
  return g_bytes_new_take (g_steal_pointer (&buf), (gsize) size);
}

/* "blobs/sha256/<hex>": a member that says its own digest. */
static gboolean
name_is_blob (const char *name, char out_digest[HUTCH_DIGEST_BUFSIZE])
{
  if (!g_str_has_prefix (name, "blobs/sha256/") || strlen (name) != 13 + 64)
    return FALSE;
  g_snprintf (out_digest, HUTCH_DIGEST_BUFSIZE, "sha256:%s", name + 13);
  return hutch_digest_validate (out_digest, NULL);
}

static gboolean
blob_write (gpointer data, const void *buf, gsize len, GError **error)
{
  return hutch_store_blob_writer_write (data, buf, len, error);
}

/* A member that does not say its digest: staged (plain tars gzipped on the
 * way), linked only when a manifest names it. */
static gboolean
stage_unnamed (Load *load, struct archive *a, Member *m, gint64 size, guint *pending,
               GError **error)
{
  g_autoptr (Stager) st = NULL;

  if (++*pending > MAX_PENDING)
    return hutch_throw (error, HUTCH_ERROR_INVALID_IMAGE,
                        "%s has more than %d files not named by their digest", load->what,
                        MAX_PENDING);
  hutch_util_profile_mark ("stage: start");
  st = hutch_archive_stager_new (load, m->name, error);
  if (st == NULL || !copy_data (load, a, m->name, size, hutch_archive_stager_write, st, error))
    return FALSE;
  hutch_util_profile_mark ("stage: member read, hashed, compressed");
  if (!hutch_archive_stager_finish (st, m, error))
    return g_prefix_error (error, "%s, member \"%s\": ", load->what, m->name), FALSE;
  hutch_util_profile_mark ("stage: blob finished (fsync)");
  return TRUE;
}

static gboolean
stage_blob (Load *load, struct archive *a, Member *m, gint64 size, guint *pending, GError **error)
{
  g_autoptr (HutchBlobWriter) w = NULL;
  gboolean present = FALSE, created = FALSE;

  if (!name_is_blob (m->name, m->digest))
    return stage_unnamed (load, a, m, size, pending, error);
  w = hutch_store_blob_writer_new (load->store, m->digest, &present, error);
  if (w == NULL && !present)
    return FALSE;
  m->size = size;
  if (present)
    {
      m->in_store = TRUE;
      return archive_read_data_skip (a) == ARCHIVE_OK || archive_fail (a, load->what, m->name, error);
    }
  if (!copy_data (load, a, m->name, size, blob_write, w, error))
    return FALSE;
  if (!hutch_store_blob_writer_finish (w, size, error))
    return g_prefix_error (error, "%s, member \"%s\": ", load->what, m->name), FALSE;
  if (!hutch_store_blob_writer_commit (w, &created, error))
    return FALSE;
  if (created)
    g_ptr_array_add (load->created, g_strdup (m->digest));
  m->in_store = TRUE;
  return TRUE;
}

static void
member_free (Member *m)
{
  g_free (m->name);
  g_free (m->link_target);
  g_free (m->hardlink);
  hutch_store_blob_writer_free (m->pending);
  g_free (m);
}

static gboolean
read_entry (Load *load, struct archive *a, struct archive_entry *entry, guint *pending,
            GError **error)
{
  g_autofree char *name = hutch_archive_clean_path ("", archive_entry_pathname (entry));
  GBytes **small = NULL;
  Member *m;

  if (name == NULL || *name == '\0' || archive_entry_filetype (entry) == AE_IFDIR)
    return TRUE; /* such a member can never be named by a manifest: ignore it */
  if (g_hash_table_contains (load->members, name))
    return hutch_throw (error, HUTCH_ERROR_INVALID_IMAGE,
                        "%s has two members named \"%s\": refusing an ambiguous archive",
                        load->what, name);
  if (g_hash_table_size (load->members) >= MAX_MEMBERS)
    return hutch_throw (error, HUTCH_ERROR_INVALID_IMAGE, "%s has more than %d members",
                        load->what, MAX_MEMBERS);
  m = g_new0 (Member, 1);
  m->name = g_strdup (name);
  g_hash_table_insert (load->members, m->name, m);
  if (archive_entry_hardlink (entry) != NULL)
    {
      m->hardlink = hutch_archive_clean_path ("", archive_entry_hardlink (entry));
      return TRUE;
    }
  if (archive_entry_filetype (entry) == AE_IFLNK)
    {
      m->link_target = g_strdup (archive_entry_symlink (entry));
      return TRUE;
    }
  if (archive_entry_filetype (entry) != AE_IFREG)
    return TRUE;
  if (strcmp (name, "manifest.json") == 0)
    small = &load->manifest_json;
  else if (strcmp (name, "index.json") == 0)
    small = &load->index_json;
  else if (strcmp (name, "oci-layout") == 0)
    small = &load->oci_layout;
  if (small != NULL)
    return (*small = read_small (load, a, name, archive_entry_size (entry), error)) != NULL;
  /* docker save's legacy per-layer metadata: never named by manifest.json. */
  if (strcmp (name, "repositories") == 0 || g_str_has_suffix (name, "/json")
      || g_str_has_suffix (name, "/VERSION"))
    return TRUE;
  return stage_blob (load, a, m, archive_entry_size (entry), pending, error);
}

/* The archive's bytes, for libarchive: read here, so that an error says
 * what happened (libarchive's own fd reader says "Error reading fd 5") and
 * an input with no byte at all is told from one that is no tar. */
typedef struct
{
  int fd;
  gboolean seekable;
  guint64 total;
  int read_errno; /* of a read that failed, or 0 */
  char *buf;
} Source;

static la_ssize_t
source_read (struct archive *a, void *data, const void **out)
{
  Source *src = data;
  ssize_t n;

  do
    n = read (src->fd, src->buf, READ_BLOCK);
  while (n < 0 && errno == EINTR);
  if (n < 0)
    {
      src->read_errno = errno;
      archive_set_error (a, errno, "%s", g_strerror (errno));
      return -1;
    }
  src->total += (guint64) n;
  *out = src->buf;
  return n;
}

/* Skipping a member the store already has: a seek, in a file. */
static la_int64_t
source_skip (struct archive *a, void *data, la_int64_t request)
{
  Source *src = data;
  off_t here, there;

  if (!src->seekable || request <= 0 || (here = lseek (src->fd, 0, SEEK_CUR)) < 0
      || (there = lseek (src->fd, request, SEEK_CUR)) < 0)
    return 0; /* libarchive reads instead */
  return there - here;
}

gboolean
hutch_archive_tar_read (Load *load, const char *path, GError **error)
{
  g_autofree char *buf = g_malloc (READ_BLOCK);
  Source src = { -1, FALSE, 0, 0, buf };
  g_autoptr (HutchArchiveReader) a = archive_read_new ();
  hutch_autofd int fd = -1;
  struct archive_entry *entry;
  struct stat st;
  guint pending = 0;
  int r;

  load->members = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, (GDestroyNotify) member_free);
  if (strcmp (path, "-") == 0)
    fd = fcntl (STDIN_FILENO, F_DUPFD_CLOEXEC, 3);
  else
    fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return hutch_throw_errno (error, "opening %s", load->what);
  hutch_archive_prescan (load, fd);
  /* The tar format and two filters only: no other format's parser runs on
   * input we have not checked yet. */
  archive_read_support_format_tar (a);
  archive_read_support_filter_gzip (a);
  archive_read_support_filter_zstd (a);
  src.fd = fd;
  src.seekable = fstat (fd, &st) == 0 && S_ISREG (st.st_mode);
  archive_read_set_read_callback (a, source_read);
  archive_read_set_skip_callback (a, source_skip);
  archive_read_set_callback_data (a, &src);
  if (archive_read_open1 (a) != ARCHIVE_OK)
    {
      /* nothing at all came: an empty file, or a pipe closed at once */
      if (src.total == 0 && src.read_errno == 0)
        return hutch_throw (error, HUTCH_ERROR_INVALID_IMAGE, "%s is empty: not a byte to read",
                            load->what);
      return archive_fail (a, load->what, NULL, error);
    }
  while ((r = archive_read_next_header (a, &entry)) == ARCHIVE_OK)
    if (!read_entry (load, a, entry, &pending, error))
      return FALSE;
  if (r != ARCHIVE_EOF)
    return archive_fail (a, load->what, g_hash_table_size (load->members) > 0 ? "(after the last)" : NULL,
                         error);
  if (!hutch_archive_prepared_join_all (load, error))
    return FALSE;
  if (g_hash_table_size (load->members) == 0 && load->manifest_json == NULL
      && load->index_json == NULL)
    return hutch_throw (error, HUTCH_ERROR_INVALID_IMAGE, "%s is empty or not a tar archive",
                        load->what);
  return TRUE;
}

static gboolean
commit_pending (Load *load, Member *m, GError **error)
{
  gboolean created = FALSE;

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
hutch_archive_tar_resolve (Load *load, const char *who, const char *name, GError **error)
{
  g_autofree char *path = hutch_archive_clean_path ("", name);

  if (path == NULL)
    return hutch_throw (error, HUTCH_ERROR_UNSAFE_PATH,
                        "%s: %s names \"%s\", a path outside the archive", load->what, who, name),
           NULL;
  for (int hop = 0; hop <= MAX_LINK_HOPS; hop++)
    {
      Member *m = g_hash_table_lookup (load->members, path);
      g_autofree char *dir = NULL;
      char *next;

      if (m == NULL)
        return hutch_throw (error, HUTCH_ERROR_INVALID_IMAGE,
                            "%s: %s names \"%s\", which is not in the archive", load->what, who,
                            name), NULL;
      if (m->hardlink == NULL && m->link_target == NULL)
        {
          if (m->pending != NULL && !commit_pending (load, m, error))
            return NULL;
          if (!m->in_store)
            return hutch_throw (error, HUTCH_ERROR_INVALID_IMAGE,
                                "%s: %s names \"%s\", which is not a regular file", load->what,
                                who, name), NULL;
          return m;
        }
      dir = g_path_get_dirname (path);
      next = m->hardlink != NULL ? g_strdup (m->hardlink)
                                 : hutch_archive_clean_path (strcmp (dir, ".") == 0 ? "" : dir, m->link_target);
      if (next == NULL)
        return hutch_throw (error, HUTCH_ERROR_UNSAFE_PATH,
                            "%s: %s names \"%s\", a link to \"%s\" outside the archive",
                            load->what, who, name, m->link_target), NULL;
      g_free (path);
      path = next;
    }
  return hutch_throw (error, HUTCH_ERROR_INVALID_IMAGE, "%s: %s names \"%s\": too many links",
                      load->what, who, name), NULL;
}
