/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* One pass for a docker-archive's layers: a layer the store lacks is
 * unpacked from the same bytes that are hashed and compressed into its
 * blob, by a user-namespace child fed through a socket, instead of being
 * decompressed from the blob again once the archive is read. Which members
 * are such layers (and their chain ids) only manifest.json and the configs
 * say, and they come last: a seekable, uncompressed archive gives them in
 * a first look at its headers. This file owns that look and the children;
 * the unpack itself is store/layers.c's, under the layer's lock, checked
 * against the config's diff_id before it takes the layer's name. */
#include "config.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "archive-private.h"

typedef struct archive HutchArchiveReader;
G_DEFINE_AUTOPTR_CLEANUP_FUNC (HutchArchiveReader, archive_read_free)

#define SCAN_BLOCK (64 << 10)
#define SMALL_MAX (1 << 20)    /* configs and manifest.json: kept from the look */
#define SMALL_TOTAL (16 << 20) /* all of them together */
#define MAX_ENTRIES 100000
#define MAX_LINK_HOPS 8

typedef struct
{
  char *image;              /* for messages */
  HutchManifest *manifest;  /* stand-in: each layer's diff_id, plain tar */
  HutchImageConfig *config;
  guint index;
} Plan;

struct Prepared
{
  Load *load;
  const Plan *plan;
  int sock[2]; /* ours, the child's */
  HutchUsernsChild *child;
  gboolean stopped; /* the child reads no more */
};

typedef struct
{
  char *link;     /* a symlink's target, cleaned, or NULL */
  GBytes *small;  /* a small regular member's bytes, or NULL */
  gboolean regular;
} ScanEntry;

typedef struct
{
  int fd;
  off_t at;
  guint8 *buf;
} ScanSource;

static void
plan_free (gpointer p)
{
  Plan *plan = p;

  g_free (plan->image);
  hutch_image_manifest_free (plan->manifest);
  hutch_image_config_free (plan->config);
  g_free (plan);
}

static void
scan_entry_free (gpointer p)
{
  ScanEntry *e = p;

  g_free (e->link);
  g_clear_pointer (&e->small, g_bytes_unref);
  g_free (e);
}

/* pread, so that the main pass finds the fd where it was */
static la_ssize_t
scan_read (struct archive *a, void *data, const void **out)
{
  ScanSource *src = data;
  ssize_t n;

  do
    n = pread (src->fd, src->buf, SCAN_BLOCK, src->at);
  while (n < 0 && errno == EINTR);
  if (n < 0)
    {
      archive_set_error (a, errno, "%s", g_strerror (errno));
      return -1;
    }
  src->at += n;
  *out = src->buf;
  return n;
}

static la_int64_t
scan_skip (struct archive *a, void *data, la_int64_t request)
{
  ScanSource *src = data;

  (void) a;
  src->at += request;
  return request;
}

/* Every member's name, link and (when small) bytes; NULL when the archive
 * is not a plain tar we can read. */
static GHashTable *
scan (int fd)
{
  g_autofree guint8 *buf = g_malloc (SCAN_BLOCK);
  ScanSource src = { fd, 0, buf };
  g_autoptr (HutchArchiveReader) a = archive_read_new ();
  g_autoptr (GHashTable) entries = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                                          scan_entry_free);
  struct archive_entry *entry;
  gsize kept = 0;
  int r;

  archive_read_support_format_tar (a);
  archive_read_set_read_callback (a, scan_read);
  archive_read_set_skip_callback (a, scan_skip);
  archive_read_set_callback_data (a, &src);
  if (archive_read_open1 (a) != ARCHIVE_OK)
    return NULL;
  while ((r = archive_read_next_header (a, &entry)) == ARCHIVE_OK)
    {
      g_autofree char *name = hutch_archive_clean_path ("", archive_entry_pathname (entry));
      ScanEntry *e;
      la_int64_t size = archive_entry_size (entry);

      if (name == NULL || *name == '\0' || g_hash_table_contains (entries, name)
          || g_hash_table_size (entries) >= MAX_ENTRIES)
        return NULL; /* the main pass refuses it, or says why */
      e = g_new0 (ScanEntry, 1);
      if (archive_entry_hardlink (entry) != NULL)
        e->link = hutch_archive_clean_path ("", archive_entry_hardlink (entry));
      else if (archive_entry_filetype (entry) == AE_IFLNK)
        {
          g_autofree char *dir = g_path_get_dirname (name);
          e->link = hutch_archive_clean_path (strcmp (dir, ".") == 0 ? "" : dir,
                                              archive_entry_symlink (entry));
        }
      else if (archive_entry_filetype (entry) == AE_IFREG)
        {
          e->regular = TRUE;
          if (size >= 0 && size <= SMALL_MAX && kept + (gsize) size <= SMALL_TOTAL)
            {
              g_autofree char *data = g_malloc ((gsize) size + 1);
              if (archive_read_data (a, data, (size_t) size) != size)
                {
                  scan_entry_free (e);
                  return NULL;
                }
              kept += (gsize) size;
              e->small = g_bytes_new_take (g_steal_pointer (&data), (gsize) size);
            }
        }
      g_hash_table_insert (entries, g_steal_pointer (&name), e);
    }
  return r == ARCHIVE_EOF ? g_steal_pointer (&entries) : NULL;
}

/* The regular member @name leads to, links followed; NULL if none. */
static const char *
follow (GHashTable *entries, const char *name, ScanEntry **out_entry)
{
  g_autofree char *path = hutch_archive_clean_path ("", name);

  for (int hop = 0; path != NULL && hop <= MAX_LINK_HOPS; hop++)
    {
      gpointer key, value;
      ScanEntry *e;
      if (!g_hash_table_lookup_extended (entries, path, &key, &value))
        return NULL;
      e = value;
      if (e->regular)
        {
          *out_entry = e;
          return key;
        }
      if (e->link == NULL)
        return NULL;
      g_free (path);
      path = g_strdup (e->link);
    }
  return NULL;
}

static HutchManifest *
stand_in_manifest (const HutchImageConfig *config)
{
  HutchManifest *m = g_new0 (HutchManifest, 1);

  m->kind = HUTCH_MEDIA_OCI_MANIFEST;
  m->layers = g_ptr_array_new_with_free_func ((GDestroyNotify) hutch_descriptor_free);
  for (guint i = 0; i < config->diff_ids->len; i++)
    {
      HutchDescriptor *d = g_new0 (HutchDescriptor, 1);
      /* named by its content in messages, as the blob is not made yet */
      d->digest = g_strdup (config->diff_ids->pdata[i]);
      d->kind = HUTCH_MEDIA_LAYER_TAR;
      g_ptr_array_add (m->layers, d);
    }
  return m;
}

/* Plans the layers of one manifest.json entry that the store lacks. */
static void
plan_entry (Load *load, GHashTable *entries, const HutchJsonNode *entry)
{
  const HutchJsonNode *config = hutch_json_node_member (entry, "Config");
  const HutchJsonNode *layers = hutch_json_node_member (entry, "Layers");
  const HutchJsonNode *tags = hutch_json_node_member (entry, "RepoTags");
  g_autoptr (HutchImageConfig) cfg = NULL;
  g_autoptr (GPtrArray) missing = NULL;
  g_autofree char *image = NULL;
  ScanEntry *e = NULL;
  const char *text;
  gsize len;

  if (entry->type != HUTCH_JSON_OBJECT || config == NULL || config->type != HUTCH_JSON_STRING
      || layers == NULL || layers->type != HUTCH_JSON_ARRAY
      || follow (entries, config->string, &e) == NULL || e->small == NULL)
    return;
  text = g_bytes_get_data (e->small, &len);
  if ((cfg = hutch_image_config_parse (text, len, NULL)) == NULL
      || cfg->diff_ids->len != layers->n_members)
    return;
  if (tags != NULL && tags->type == HUTCH_JSON_ARRAY && tags->n_members > 0
      && tags->members[0]->type == HUTCH_JSON_STRING)
    {
      g_autoptr (HutchImageRef) ref = hutch_image_ref_parse (tags->members[0]->string, NULL);
      if (ref != NULL)
        image = hutch_image_ref_to_string (ref);
    }
  if (image == NULL)
    {
      image = g_malloc (HUTCH_DIGEST_BUFSIZE);
      hutch_sha256_digest_of (text, len, image);
    }
  if ((missing = hutch_store_layers_missing (load->store, cfg, load->map, image, NULL)) == NULL)
    return;
  for (guint j = 0; j < missing->len; j++)
    {
      guint i = GPOINTER_TO_UINT (missing->pdata[j]);
      const char *name;
      Plan *plan;
      if (layers->members[i]->type != HUTCH_JSON_STRING
          || (name = follow (entries, layers->members[i]->string, &e)) == NULL
          || g_hash_table_contains (load->plans, name))
        continue;
      plan = g_new0 (Plan, 1);
      plan->image = g_strdup (image);
      plan->config = hutch_image_config_parse (text, len, NULL);
      plan->manifest = stand_in_manifest (plan->config);
      plan->index = i;
      g_hash_table_insert (load->plans, g_strdup (name), plan);
    }
}

void
hutch_archive_prescan (Load *load, int fd)
{
  g_autoptr (GHashTable) entries = NULL;
  g_autoptr (HutchJsonNode) root = NULL;
  ScanEntry *e = NULL;
  guint8 magic[4] = { 0 };
  struct stat st;
  const char *text;
  gsize len;

  /* Only a load that undoes the layers it made when it fails
   * (hutch_archive_load sets load->layers; tests/fuzz does not). */
  if (load->layers == NULL)
    return;
  /* A compressed archive would be decompressed twice to find its
   * manifest.json at the end: its layers are unpacked from their blobs. */
  if (fstat (fd, &st) < 0 || !S_ISREG (st.st_mode) || pread (fd, magic, sizeof magic, 0) != sizeof magic
      || hutch_layer_sniff (magic, sizeof magic) != HUTCH_LAYER_PLAIN)
    return;
  hutch_util_profile_mark ("prescan: start");
  if ((entries = scan (fd)) == NULL || follow (entries, "manifest.json", &e) == NULL
      || e->small == NULL)
    return;
  text = g_bytes_get_data (e->small, &len);
  if ((root = hutch_json_parse (text, len, NULL)) == NULL || root->type != HUTCH_JSON_ARRAY)
    return;
  if (load->map == NULL && (load->map = hutch_sandbox_idmap_new_for_user (NULL)) == NULL)
    return;
  load->plans = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, plan_free);
  for (guint i = 0; i < root->n_members; i++)
    plan_entry (load, entries, root->members[i]);
  hutch_util_profile_mark ("prescan: headers, manifest and configs read");
}

static gssize
child_read (gpointer data, void *buf, gsize len, GError **error)
{
  Prepared *p = data;
  ssize_t n;

  do
    n = read (p->sock[1], buf, len);
  while (n < 0 && errno == EINTR);
  if (n < 0)
    return hutch_throw_errno (error, "reading the layer from the archive"), -1;
  return n;
}

static gboolean
unpack_in_userns (gpointer data, GError **error)
{
  Prepared *p = data;
  Load *load = p->load;

  hutch_fd_clear (&p->sock[0]); /* else we would never see the end */
  return hutch_store_layer_unpack_from (load->store, p->plan->manifest, p->plan->config,
                                        p->plan->index, load->map, p->plan->image,
                                        load->unpack_limit, child_read, p, error);
}

static void
prepared_free (Prepared *p)
{
  g_autoptr (GError) local = NULL;

  hutch_fd_clear (&p->sock[0]);
  hutch_fd_clear (&p->sock[1]);
  if (p->child != NULL && !hutch_sandbox_userns_join (p->child, &local))
    g_debug ("an unpack no one waits for: %s", local->message);
  g_free (p);
}

Prepared *
hutch_archive_prepared_start (Load *load, const char *name)
{
  g_autoptr (GError) local = NULL;
  g_autoptr (GPtrArray) chains = NULL;
  const Plan *plan = load->plans != NULL ? g_hash_table_lookup (load->plans, name) : NULL;
  Prepared *p;

  if (plan == NULL)
    return NULL;
  p = g_new0 (Prepared, 1);
  p->load = load;
  p->plan = plan;
  p->sock[0] = p->sock[1] = -1;
  if (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, p->sock) < 0)
    {
      g_debug ("unpacking %s as it is read: socketpair: %s", name, g_strerror (errno));
      prepared_free (p);
      return NULL;
    }
  hutch_util_profile_mark ("prepare: spawning the unpack");
  p->child = hutch_sandbox_userns_start (load->map, unpack_in_userns, p, &local);
  hutch_fd_clear (&p->sock[1]);
  if (p->child == NULL)
    {
      g_debug ("unpacking %s as it is read: %s", name, local->message);
      prepared_free (p);
      return NULL;
    }
  /* Reported before the work, as store/layers.c does: a load that fails
   * later removes the layer again when no image uses it. */
  chains = hutch_store_chain_ids (plan->config);
  g_ptr_array_add (load->layers, g_strdup (chains->pdata[plan->index]));
  g_hash_table_remove (load->plans, name); /* one child per layer */
  p->plan = NULL;
  return p;
}

void
hutch_archive_prepared_feed (Prepared *p, const void *buf, gsize len)
{
  while (len > 0 && !p->stopped)
    {
      /* MSG_NOSIGNAL: a child that stopped early is no SIGPIPE for us */
      ssize_t n = send (p->sock[0], buf, len, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        {
          p->stopped = TRUE; /* its error, if any, comes at the join */
          break;
        }
      buf = (const guint8 *) buf + n;
      len -= (gsize) n;
    }
}

void
hutch_archive_prepared_end (Load *load, Prepared *p)
{
  hutch_fd_clear (&p->sock[0]); /* the end of the layer, for the child */
  if (load->prepared == NULL)
    load->prepared = g_ptr_array_new ();
  g_ptr_array_add (load->prepared, p);
}

gboolean
hutch_archive_prepared_join_all (Load *load, GError **error)
{
  gboolean ok = TRUE;

  for (guint i = 0; load->prepared != NULL && i < load->prepared->len; i++)
    {
      Prepared *p = load->prepared->pdata[i];
      g_autoptr (GError) local = NULL;
      HutchUsernsChild *child = g_steal_pointer (&p->child);
      if (!hutch_sandbox_userns_join (child, &local) && ok)
        {
          /* what failed, in which archive, as the later checks say it */
          g_propagate_prefixed_error (error, g_steal_pointer (&local), "%s: ", load->what);
          ok = FALSE;
        }
    }
  hutch_util_profile_mark ("prepare: unpacks joined");
  hutch_archive_prepared_clear (load);
  return ok;
}

/* Also after a failure: every child is told the end and waited for (a
 * child that got less than its layer fails, and removes what it made). */
void
hutch_archive_prepared_clear (Load *load)
{
  if (load->prepared != NULL)
    {
      for (guint i = 0; i < load->prepared->len; i++)
        prepared_free (load->prepared->pdata[i]);
      g_clear_pointer (&load->prepared, g_ptr_array_unref);
    }
  g_clear_pointer (&load->plans, g_hash_table_unref);
}

void
hutch_archive_prepared_abandon (Prepared *p)
{
  prepared_free (p);
}
