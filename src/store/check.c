/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* hutch system check [--repair]: every blob read through against its
 * digest, every image's references (index.json -> manifest -> config and
 * layers), every unpacked layer's completeness marker and id mapping, and
 * what killed processes left; with --repair, what can be fixed without the
 * image's source is: index.json rebuilt from the blobs (names from its copy),
 * damaged blobs and incomplete layers deleted (a load or pull brings them
 * back), leftovers removed. Container records are the CLI's to check. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store-private.h"

typedef struct
{
  HutchStore *store;
  gboolean repair;
  HutchStoreCheck *out;
  GPtrArray *files;   /* names in blobs/sha256 */
  GHashTable *bad;    /* damaged blobs (deleted with --repair) */
  GHashTable *used;   /* blobs the images use */
  GHashTable *chains; /* layers the images use */
  gboolean refs_known; /* FALSE when a manifest or config could not be read */
  GHashTable *unusable; /* images whose manifest or config is lost: --repair drops them */
} Check;

static void
finding_free (HutchStoreFinding *f)
{
  g_free (f->object);
  g_free (f->text);
  g_free (f->fix);
  g_free (f);
}

void
hutch_store_check_clear (HutchStoreCheck *c)
{
  g_clear_pointer (&c->findings, g_ptr_array_unref);
}

static HutchStoreFinding *add (Check *c, gboolean problem, const char *object, const char *fix,
                               const char *fmt, ...) G_GNUC_PRINTF (5, 6);

static HutchStoreFinding *
add (Check *c, gboolean problem, const char *object, const char *fix, const char *fmt, ...)
{
  HutchStoreFinding *f = g_new0 (HutchStoreFinding, 1);
  va_list ap;

  va_start (ap, fmt);
  f->text = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  f->problem = problem;
  f->object = g_strdup (object);
  f->fix = g_strdup (fix);
  g_ptr_array_add (c->out->findings, f);
  return f;
}

/* Marks @f repaired, its fix replaced by what was done. */
static void
mark_repaired (HutchStoreFinding *f, const char *done)
{
  f->repaired = TRUE;
  g_free (f->fix);
  f->fix = g_strdup (done);
}

static gboolean
is_hex64 (const char *s)
{
  return strlen (s) == 64 && strspn (s, "0123456789abcdef") == 64;
}

/* ---- blobs ---- */

static void
check_blob_file (Check *c, const char *name)
{
  g_autofree char *digest = g_strconcat ("sha256:", name, NULL);
  g_autofree char *object = NULL;
  g_autoptr (GError) local = NULL;
  char actual[HUTCH_DIGEST_BUFSIZE];
  HutchStoreFinding *f;

  if (!is_hex64 (name))
    {
      struct stat st;
      g_autofree char *size = NULL;
      gboolean partial = g_str_has_prefix (name, HUTCH_STORE_PARTIAL_PREFIX);
      if (fstatat (c->store->blobs_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        return; /* gone meanwhile */
      size = hutch_util_format_size ((guint64) st.st_size);
      object = g_strconcat ("blobs/sha256/", name, NULL);
      f = add (c, FALSE, object, "\"hutch system prune\" or --repair removes it",
               partial ? "%s of a pull that did not finish, kept to resume it"
                       : "%s in a file that is not a blob (left by a killed process)", size);
      if (c->repair && unlinkat (c->store->blobs_fd, name, 0) == 0)
        mark_repaired (f, "removed");
      c->out->held_bytes += f->repaired ? 0 : st.st_size;
      return;
    }
  c->out->blobs++;
  object = g_strconcat ("blob ", digest, NULL);
  if (!hutch_store_blob_hash (c->store, digest, actual, &local))
    {
      if (g_error_matches (local, HUTCH_ERROR, HUTCH_ERROR_NOT_FOUND))
        return; /* deleted meanwhile */
      f = add (c, TRUE, object, "--repair deletes it; loading or pulling its image again brings it back",
               "%s", local->message);
    }
  else if (strcmp (actual, digest) == 0)
    return;
  else
    f = add (c, TRUE, object, "--repair deletes it; loading or pulling its image again brings it back",
             "damaged: its content hashes to %s", actual);
  g_hash_table_add (c->bad, g_strdup (digest));
  /* Nothing can use a damaged blob; deleted, it is a missing one, which
   * a load or pull of its image fetches again. */
  if (c->repair && hutch_store_blob_delete (c->store, digest, NULL, NULL))
    mark_repaired (f, "deleted; loading or pulling its image again brings it back");
}

static gboolean
check_blobs (Check *c, GError **error)
{
  if (c->store->blobs_fd < 0)
    {
      c->files = g_ptr_array_new_with_free_func (g_free);
      return TRUE;
    }
  c->files = hutch_util_list_dir_at (c->store->blobs_fd, error);
  if (c->files == NULL)
    return g_prefix_error (error, "%s/blobs/sha256: ", c->store->root), FALSE;
  for (guint i = 0; i < c->files->len; i++)
    check_blob_file (c, c->files->pdata[i]);
  return TRUE;
}

/* ---- index.json, and rebuilding it ---- */

/* The manifest in blob @digest, when it is one whose config is in the
 * store and is for a platform this host runs; NULL otherwise. */
static HutchDescriptor *
manifest_entry (Check *c, const char *digest, const HutchPlatform *host)
{
  g_autofree char *text = NULL, *ctext = NULL;
  g_autoptr (HutchJsonNode) root = NULL;
  g_autoptr (HutchManifest) m = NULL;
  g_autoptr (HutchImageConfig) cfg = NULL;
  const HutchJsonNode *mt;
  HutchDescriptor *d;
  gsize len, clen;

  if (g_hash_table_contains (c->bad, digest) || hutch_store_blob_size (c->store, digest) > HUTCH_JSON_MAX_SIZE
      || (text = hutch_store_blob_read (c->store, digest, HUTCH_JSON_MAX_SIZE, &len, NULL)) == NULL
      || len == 0 || text[0] != '{' || (root = hutch_json_parse (text, len, NULL)) == NULL
      || hutch_json_node_member (root, "layers") == NULL
      || (m = hutch_image_manifest_parse (text, len, HUTCH_MEDIA_UNKNOWN, NULL)) == NULL
      || (ctext = hutch_store_blob_read (c->store, m->config->digest, HUTCH_JSON_MAX_SIZE, &clen,
                                         NULL)) == NULL
      || (cfg = hutch_image_config_parse (ctext, clen, NULL)) == NULL)
    return NULL;
  /* The other platforms of a multi-platform archive whose load was killed
   * are no images of this host: prune collects their blobs. */
  if (cfg->os != NULL && cfg->architecture != NULL)
    {
      HutchPlatform have = { (char *) cfg->os, (char *) cfg->architecture, (char *) cfg->variant };
      if (hutch_image_platform_rank (host, &have) < 0)
        return NULL;
    }
  mt = hutch_json_node_member (root, "mediaType");
  d = g_new0 (HutchDescriptor, 1);
  d->digest = g_strdup (digest);
  d->media_type = g_strdup (mt != NULL && mt->type == HUTCH_JSON_STRING ? mt->string
                                                                         : HUTCH_MEDIA_TYPE_OCI_MANIFEST);
  d->kind = hutch_image_media_kind (d->media_type);
  d->size = (gint64) len;
  return d;
}

/* index.json from the blobs: every manifest that is an image of this host,
 * with the names the copy of the index gave it; the others untagged. */
static GPtrArray *
rebuild_index (Check *c, guint *out_named, GError **error)
{
  g_autoptr (GPtrArray) entries = g_ptr_array_new_with_free_func ((GDestroyNotify) hutch_descriptor_free);
  g_autoptr (GPtrArray) found = g_ptr_array_new_with_free_func ((GDestroyNotify) hutch_descriptor_free);
  g_autoptr (GPtrArray) backup = hutch_store_index_read_at (c->store, HUTCH_STORE_INDEX_BACKUP, NULL);
  g_autoptr (GHashTable) by_digest = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr (GHashTable) named = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr (HutchPlatform) host = hutch_image_platform_host ();

  *out_named = 0;
  for (guint i = 0; i < c->files->len; i++)
    {
      g_autofree char *digest = g_strconcat ("sha256:", (char *) c->files->pdata[i], NULL);
      HutchDescriptor *d = is_hex64 (c->files->pdata[i]) ? manifest_entry (c, digest, host) : NULL;
      if (d == NULL)
        continue;
      g_ptr_array_add (found, d);
      g_hash_table_insert (by_digest, d->digest, d);
    }
  for (guint i = 0; backup != NULL && i < backup->len; i++)
    {
      const HutchDescriptor *b = backup->pdata[i];
      const HutchDescriptor *d = g_hash_table_lookup (by_digest, b->digest);
      HutchDescriptor *e;
      if (d == NULL || b->ref_name == NULL)
        continue;
      e = g_new0 (HutchDescriptor, 1);
      e->digest = g_strdup (d->digest);
      e->media_type = g_strdup (d->media_type);
      e->kind = d->kind;
      e->size = d->size;
      e->ref_name = g_strdup (b->ref_name);
      g_ptr_array_add (entries, e);
      g_hash_table_add (named, d->digest);
      (*out_named)++;
    }
  for (guint i = 0; i < found->len; i++)
    {
      HutchDescriptor *d = found->pdata[i];
      if (!g_hash_table_contains (named, d->digest))
        g_ptr_array_add (entries, g_steal_pointer (&found->pdata[i]));
    }
  if (!hutch_store_index_write (c->store, entries, error))
    return g_prefix_error (error, "rebuilding index.json: "), NULL;
  return g_steal_pointer (&entries);
}

/* The entries to check the images of; index.json rebuilt when it is
 * missing or unreadable and --repair was given. NULL without error when
 * there are none to check. */
static GPtrArray *
check_index (Check *c, GError **error)
{
  g_autoptr (GError) local = NULL;
  GPtrArray *entries;
  HutchStoreFinding *f;
  guint named;
  gboolean any_blob = FALSE;

  entries = hutch_store_index_read_at (c->store, "index.json", &local);
  if (entries != NULL)
    return entries;
  for (guint i = 0; !any_blob && i < c->files->len; i++)
    any_blob = is_hex64 (c->files->pdata[i]);
  if (g_error_matches (local, HUTCH_ERROR, HUTCH_ERROR_NOT_FOUND) && !any_blob)
    return g_ptr_array_new_with_free_func ((GDestroyNotify) hutch_descriptor_free);
  f = add (c, TRUE, "index.json",
           "--repair rebuilds it from the blobs, with the names kept in " HUTCH_STORE_INDEX_BACKUP,
           "%s: the store's list of images is lost, but its blobs are there", local->message);
  if (!c->repair)
    return NULL;
  entries = rebuild_index (c, &named, error);
  if (entries == NULL)
    return NULL;
  {
    g_autofree char *done = g_strdup_printf ("rebuilt with %u entr%s, %u named from "
                                             HUTCH_STORE_INDEX_BACKUP "; any other image is "
                                             "untagged (\"hutch tag ID NAME\" names it)",
                                             entries->len, entries->len == 1 ? "y" : "ies", named);
    mark_repaired (f, done);
  }
  return entries;
}

/* ---- images ---- */

/* What is wrong with blob @d of an image, or NULL. */
static char *
blob_trouble (Check *c, const char *what, const HutchDescriptor *d)
{
  if (g_hash_table_contains (c->bad, d->digest))
    return g_strdup_printf ("its %s %s is damaged%s", what, d->digest,
                            c->repair ? " (deleted)" : "");
  if (!hutch_store_blob_exists (c->store, d->digest))
    return g_strdup_printf ("its %s %s is missing", what, d->digest);
  return NULL;
}

/* Reads the JSON blob @d into *@out_text, or says what is wrong. */
static char *
json_trouble (Check *c, const char *what, const HutchDescriptor *d, char **out_text, gsize *out_len)
{
  g_autoptr (GError) local = NULL;
  char *trouble = blob_trouble (c, what, d);

  if (trouble != NULL)
    return trouble;
  *out_text = hutch_store_blob_read (c->store, d->digest, HUTCH_JSON_MAX_SIZE, out_len, &local);
  return *out_text == NULL ? g_strdup_printf ("its %s: %s", what, local->message) : NULL;
}

/* One image: its manifest, config and layers, or what is wrong with them. */
static void
check_image (Check *c, const HutchDescriptor *entry, const char *names)
{
  g_autoptr (GString) trouble = g_string_new (NULL);
  g_autoptr (HutchManifest) m = NULL;
  g_autoptr (HutchImageConfig) cfg = NULL;
  g_autoptr (GError) local = NULL;
  g_autofree char *text = NULL, *why = NULL, *object = NULL, *fix = NULL;
  HutchStoreFinding *f;
  gsize len;

  c->out->images++;
  g_hash_table_add (c->used, g_strdup (entry->digest));
  if (!hutch_image_media_is_manifest (entry->kind))
    why = g_strdup_printf ("its index.json entry is a \"%s\", not an image manifest",
                           entry->media_type);
  else if ((why = json_trouble (c, "manifest", entry, &text, &len)) == NULL
           && (m = hutch_image_manifest_parse (text, len, entry->kind, &local)) == NULL)
    why = g_strdup_printf ("its manifest: %s", local->message);
  if (m != NULL)
    {
      g_clear_pointer (&text, g_free);
      g_hash_table_add (c->used, g_strdup (m->config->digest));
      if ((why = json_trouble (c, "config", m->config, &text, &len)) == NULL
          && ((cfg = hutch_image_config_parse (text, len, &local)) == NULL
              || !hutch_image_check_consistent (m, cfg, &local)))
        why = g_strdup_printf ("its config: %s", local->message);
      for (guint i = 0; i < m->layers->len; i++)
        {
          const HutchDescriptor *l = m->layers->pdata[i];
          g_autofree char *what = g_strdup_printf ("layer %u", i + 1);
          g_autofree char *t = blob_trouble (c, what, l);
          g_hash_table_add (c->used, g_strdup (l->digest));
          if (t != NULL)
            g_string_append_printf (trouble, "%s%s", trouble->len > 0 ? "; " : "", t);
        }
    }
  if (cfg != NULL)
    {
      g_autoptr (GPtrArray) chains = hutch_store_chain_ids (cfg);
      for (guint i = 0; i < chains->len; i++)
        g_hash_table_add (c->chains, g_strdup (chains->pdata[i]));
    }
  else
    c->refs_known = FALSE;
  if (why != NULL)
    {
      g_string_prepend (trouble, trouble->len > 0 ? "; " : "");
      g_string_prepend (trouble, why);
    }
  if (trouble->len == 0)
    return;
  object = g_strconcat ("image ", names, NULL);
  fix = g_strdup_printf ("load or pull it again, which brings back what is missing or damaged, "
                         "or remove it with \"hutch rmi -f %s\"", strchr (names, ',') != NULL
                                                                     ? entry->digest : names);
  f = add (c, TRUE, object, fix, "%s", trouble->str);
  /* Without its manifest or config an image can neither run nor be
   * saved: --repair takes it off the list (its blobs and layers go to
   * prune), and the name is free for the good copy. One whose layer blob
   * alone is lost still runs from its unpacked layer, and stays. */
  if (why != NULL && c->repair)
    {
      g_autofree char *done = g_strdup_printf ("removed from the list of images, as it cannot run; "
                                               "loading or pulling %s again brings it back", names);
      g_hash_table_add (c->unusable, g_strdup (entry->digest));
      mark_repaired (f, done);
    }
}

/* index.json without the images --repair found unusable. */
static gboolean
drop_unusable (Check *c, GPtrArray *entries, GError **error)
{
  g_autoptr (GPtrArray) kept = g_ptr_array_new ();

  if (g_hash_table_size (c->unusable) == 0)
    return TRUE;
  for (guint i = 0; i < entries->len; i++)
    {
      const HutchDescriptor *d = entries->pdata[i];
      if (!g_hash_table_contains (c->unusable, d->digest))
        g_ptr_array_add (kept, entries->pdata[i]);
    }
  if (!hutch_store_index_write (c->store, kept, error))
    return g_prefix_error (error, "removing the unusable images from index.json: "), FALSE;
  return TRUE;
}

static void
check_images (Check *c, GPtrArray *entries)
{
  g_autoptr (GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);

  for (guint i = 0; i < entries->len; i++)
    {
      const HutchDescriptor *d = entries->pdata[i];
      g_autoptr (GString) names = g_string_new (NULL);
      if (g_hash_table_contains (seen, d->digest))
        continue;
      g_hash_table_add (seen, d->digest);
      for (guint j = i; j < entries->len; j++)
        {
          const HutchDescriptor *e = entries->pdata[j];
          if (strcmp (e->digest, d->digest) == 0 && e->ref_name != NULL)
            g_string_append_printf (names, "%s%s", names->len > 0 ? ", " : "", e->ref_name);
        }
      check_image (c, d, names->len > 0 ? names->str : d->digest);
    }
}

/* Blobs no image uses: not a fault, but space prune gives back. */
static void
note_unused_blobs (Check *c)
{
  guint n = 0;
  gint64 bytes = 0;

  for (guint i = 0; c->refs_known && i < c->files->len; i++)
    {
      g_autofree char *digest = g_strconcat ("sha256:", (char *) c->files->pdata[i], NULL);
      gint64 size;
      if (!is_hex64 (c->files->pdata[i]) || g_hash_table_contains (c->used, digest)
          || (size = hutch_store_blob_size (c->store, digest)) < 0)
        continue;
      n++;
      bytes += size;
    }
  if (n > 0)
    {
      g_autofree char *size = hutch_util_format_size ((guint64) bytes);
      add (c, FALSE, "blobs", "\"hutch system prune\" removes them",
           "%u blob%s (%s) that no image uses", n, n == 1 ? "" : "s", size);
      c->out->held_bytes += bytes;
    }
}

/* ---- layers and locks ---- */

/* Whether another process holds locks/@name; read-only: the file is not
 * made when missing, nor removed. */
static gboolean
lock_held (Check *c, const char *name)
{
  hutch_autofd int fd = c->store->locks_fd >= 0 ? openat (c->store->locks_fd, name,
                                                          O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
                                                : -1;

  return fd >= 0 && flock (fd, LOCK_EX | LOCK_NB) < 0 && errno == EWOULDBLOCK;
}

/* @idmap_text: the default map's; @keep_id_text: the keep-id map's, which
 * a keep-id copy (store.h) records. */
static void
check_layer (Check *c, const char *name, const char *idmap_text, const char *keep_id_text,
             GPtrArray *to_remove)
{
  g_autofree char *chain = NULL;
  g_autofree char *object = g_strconcat ("layers/", name, NULL);
  g_autofree char *recorded = NULL;
  gboolean keep_id = FALSE;
  HutchStoreFinding *f;

  if (g_str_has_prefix (name, HUTCH_STORE_TMP_PREFIX) || g_str_has_prefix (name, HUTCH_STORE_TOMB_PREFIX))
    {
      g_autofree char *lock = g_strconcat ("layer-", name + strlen (HUTCH_STORE_TMP_PREFIX), NULL);
      /* a run that takes no store lock may be unpacking it right now */
      if (g_str_has_prefix (name, HUTCH_STORE_TMP_PREFIX) && lock_held (c, lock))
        return;
      add (c, FALSE, object, "the next load, pull, rmi or prune removes it, as does --repair",
           g_str_has_prefix (name, HUTCH_STORE_TMP_PREFIX) ? "left by an unpack that was killed"
                                                           : "left by a removal that was killed");
      return;
    }
  if (!hutch_store_layer_name_parse (name, &chain, &keep_id))
    return;
  if (keep_id)
    idmap_text = keep_id_text;
  c->out->layers++;
  recorded = hutch_store_layer_complete_idmap (c->store, name, chain);
  if (recorded == NULL)
    f = add (c, TRUE, object, "--repair removes it; the next run or load of its image unpacks it again",
             "the layer is incomplete (half unpacked or half removed): its completeness marker "
             "(info) is missing or damaged, so it is never used");
  else if (strcmp (recorded, idmap_text) != 0)
    f = add (c, TRUE, object, "--repair removes it; the next run or load of its image unpacks it again",
             "the layer was unpacked with the id mapping \"%s\", but yours is now \"%s\": its "
             "files have the wrong owners", recorded, idmap_text);
  else
    {
      if (c->refs_known && !g_hash_table_contains (c->chains, chain))
        c->out->unused_layers++;
      return;
    }
  if (c->repair)
    {
      mark_repaired (f, "removed; the next run or load of its image unpacks it again");
      g_ptr_array_add (to_remove, g_strdup (name));
    }
}

static gboolean
check_layers (Check *c, GError **error)
{
  g_autoptr (GPtrArray) names = NULL;
  g_autoptr (GPtrArray) to_remove = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (HutchIdMap) map = NULL;
  g_autofree char *idmap_text = NULL, *keep_id_text = NULL;

  if (!hutch_store_layers_dir_open (c->store))
    return TRUE;
  names = hutch_util_list_dir_at (c->store->layers_fd, error);
  if (names == NULL)
    return g_prefix_error (error, "%s/layers: ", c->store->root), FALSE;
  map = hutch_sandbox_idmap_new_for_user (error);
  if (map == NULL)
    return FALSE;
  idmap_text = hutch_sandbox_idmap_describe (map);
  hutch_sandbox_idmap_set_keep_id (map);
  keep_id_text = hutch_sandbox_idmap_describe (map);
  for (guint i = 0; i < names->len; i++)
    check_layer (c, names->pdata[i], idmap_text, keep_id_text, to_remove);
  if (c->out->unused_layers > 0)
    add (c, FALSE, "layers", "\"hutch system prune\" removes them", "%u unpacked layer%s that no image uses",
         c->out->unused_layers, c->out->unused_layers == 1 ? "" : "s");
  return hutch_store_layers_remove_names (c->store, to_remove, error);
}

static void
check_locks (Check *c)
{
  g_autoptr (GPtrArray) names = c->store->locks_fd >= 0 ? hutch_util_list_dir_at (c->store->locks_fd, NULL)
                                                        : NULL;
  guint stale = 0;

  for (guint i = 0; names != NULL && i < names->len; i++)
    {
      const char *name = names->pdata[i];
      stale += (g_str_has_prefix (name, "layer-") ? hutch_store_layer_name_parse (name + 6, NULL, NULL)
                                                  : is_hex64 (name))
               && !lock_held (c, name);
    }
  if (stale > 0)
    add (c, FALSE, "locks", "the next load, pull, rmi or prune removes them, as does --repair",
         "%u lock file%s of processes that were killed", stale, stale == 1 ? "" : "s");
}

gboolean
hutch_store_check (HutchStore *store, gboolean repair, HutchStoreCheck *out, GError **error)
{
  g_autoptr (GHashTable) bad = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr (GHashTable) used = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr (GHashTable) chains = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr (GHashTable) unusable = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr (GPtrArray) entries = NULL;
  hutch_autofd int index_lock = -1;
  Check c = { store, repair, out, NULL, bad, used, chains, TRUE, unusable };
  HutchStoreSweep swept;
  gboolean ok;

  memset (out, 0, sizeof *out);
  out->findings = g_ptr_array_new_with_free_func ((GDestroyNotify) finding_free);
  if (store->root_fd < 0)
    return TRUE; /* no store yet */
  /* Exclusive: no load or pull is under way, so whatever is half made is
   * a killed process's, and nothing changes while we read. */
  if (!hutch_store_lock_exclusive (store, error)
      || (store->locks_fd >= 0 && (index_lock = hutch_store_index_lock (store, error)) < 0))
    return FALSE;
  ok = check_blobs (&c, error);
  if (ok && (entries = check_index (&c, error)) == NULL && error != NULL && *error != NULL)
    ok = FALSE;
  if (entries != NULL)
    {
      check_images (&c, entries);
      ok = ok && drop_unusable (&c, entries, error);
    }
  else
    c.refs_known = FALSE;
  if (ok)
    note_unused_blobs (&c);
  check_locks (&c);
  ok = ok && check_layers (&c, error);
  if (ok && repair)
    {
      ok = hutch_store_sweep (store, &swept, error);
      for (guint i = 0; ok && i < out->findings->len; i++)
        {
          HutchStoreFinding *f = out->findings->pdata[i];
          /* what the sweep left (a leftover of a process that may still
           * run) is not repaired */
          if (!f->problem
              && (strcmp (f->object, "locks") == 0
                  || (g_str_has_prefix (f->object, "layers/.")
                      && faccessat (store->layers_fd, f->object + strlen ("layers/"), F_OK,
                                    AT_SYMLINK_NOFOLLOW) < 0)))
            mark_repaired (f, "removed");
        }
    }
  g_clear_pointer (&c.files, g_ptr_array_unref);
  for (guint i = 0; i < out->findings->len; i++)
    {
      HutchStoreFinding *f = out->findings->pdata[i];
      out->problems += f->problem;
      out->remaining += f->problem && !f->repaired;
    }
  return ok;
}
