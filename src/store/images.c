/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Images and their names: index.json entries grouped by manifest digest,
 * loaded with their manifest and config; lookup by name, digest or ID; tag
 * and remove. An image whose manifest or config cannot be read is listed as
 * damaged, and can be removed: it never hides or blocks the others.
 * Deleting blobs is gc.c. */
#include "config.h"

#include <string.h>

#include "store-private.h"

void
hutch_store_image_free (HutchStoreImage *image)
{
  if (image == NULL)
    return;
  g_free (image->digest);
  g_free (image->media_type);
  g_free (image->damage);
  if (image->names != NULL)
    g_ptr_array_unref (image->names);
  hutch_image_manifest_free (image->manifest);
  hutch_image_config_free (image->config);
  g_free (image);
}

const char *
hutch_store_image_id (const HutchStoreImage *image)
{
  if (image->manifest == NULL)
    return hutch_store_digest_hex (image->digest);
  return hutch_store_digest_hex (image->manifest->config->digest);
}

/* The manifest and config of @image, read and checked; FALSE when either
 * cannot be, with the reason. */
static gboolean
image_read (HutchStore *store, HutchStoreImage *image, HutchMediaKind kind, GError **error)
{
  g_autofree char *text = NULL;
  gsize len;

  if (!hutch_image_media_is_manifest (kind))
    return hutch_throw (error, HUTCH_ERROR_INVALID_IMAGE,
                        "its index.json entry is a \"%s\", not an image manifest",
                        image->media_type);
  text = hutch_store_blob_read (store, image->digest, HUTCH_JSON_MAX_SIZE, &len, error);
  if (text == NULL)
    return g_prefix_error (error, "its manifest: "), FALSE;
  image->manifest = hutch_image_manifest_parse (text, len, kind, error);
  if (image->manifest == NULL)
    return g_prefix_error (error, "manifest %s: ", image->digest), FALSE;
  g_clear_pointer (&text, g_free);
  text = hutch_store_blob_read (store, image->manifest->config->digest, HUTCH_JSON_MAX_SIZE, &len,
                                error);
  if (text == NULL)
    return g_prefix_error (error, "its config: "), FALSE;
  image->config = hutch_image_config_parse (text, len, error);
  if (image->config == NULL)
    return g_prefix_error (error, "config %s: ", image->manifest->config->digest), FALSE;
  return TRUE;
}

/* The image of index.json entry @entry. One that cannot be read is still
 * an image: damaged, with the reason, and with its manifest when that much
 * could be read (so that removing it knows its blobs). */
static HutchStoreImage *
image_load (HutchStore *store, const HutchDescriptor *entry)
{
  g_autoptr (HutchStoreImage) image = g_new0 (HutchStoreImage, 1);
  g_autoptr (GError) local = NULL;

  image->digest = g_strdup (entry->digest);
  image->media_type = g_strdup (entry->media_type);
  image->manifest_size = entry->size;
  image->names = g_ptr_array_new_with_free_func (g_free);
  if (!image_read (store, image, entry->kind, &local))
    {
      image->damage = g_strdup (local->message);
      g_clear_pointer (&image->config, hutch_image_config_free);
      return g_steal_pointer (&image);
    }
  image->size = entry->size + image->manifest->config->size;
  for (guint i = 0; i < image->manifest->layers->len; i++)
    image->size += ((HutchDescriptor *) image->manifest->layers->pdata[i])->size;
  return g_steal_pointer (&image);
}

/* The error for using a damaged image, with what fixes it. */
static void
damaged (const HutchStoreImage *image, const char *what, GError **error)
{
  hutch_throw (error, HUTCH_ERROR_INVALID_IMAGE,
               "image %s is damaged: %s; load or pull it again, which replaces what is damaged, "
               "or remove it with \"hutch rmi -f %s\" (\"hutch system check\" shows what is wrong)",
               what, image->damage, what);
}

/* Newest first; damaged images, which have no date, last. */
static int
compare_created (gconstpointer a, gconstpointer b)
{
  const HutchStoreImage *ia = *(HutchStoreImage *const *) a;
  const HutchStoreImage *ib = *(HutchStoreImage *const *) b;
  gint64 ta = ia->config != NULL ? ia->config->created_unix : G_MININT64;
  gint64 tb = ib->config != NULL ? ib->config->created_unix : G_MININT64;

  if (ta != tb)
    return ta > tb ? -1 : 1;
  return strcmp (ia->digest, ib->digest);
}

/* Groups @entries by manifest digest, in index order. */
static GPtrArray *
images_from_entries (HutchStore *store, GPtrArray *entries)
{
  g_autoptr (GPtrArray) images = g_ptr_array_new_with_free_func ((GDestroyNotify) hutch_store_image_free);
  g_autoptr (GHashTable) by_digest = g_hash_table_new (g_str_hash, g_str_equal);

  for (guint i = 0; i < entries->len; i++)
    {
      const HutchDescriptor *d = entries->pdata[i];
      HutchStoreImage *image = g_hash_table_lookup (by_digest, d->digest);
      if (image == NULL)
        {
          image = image_load (store, d);
          g_ptr_array_add (images, image);
          g_hash_table_insert (by_digest, image->digest, image);
        }
      if (d->ref_name != NULL)
        g_ptr_array_add (image->names, g_strdup (d->ref_name));
    }
  return g_steal_pointer (&images);
}

GHashTable *
hutch_store_chains_in_use (HutchStore *store, GPtrArray *entries, char **out_unknown)
{
  g_autoptr (GPtrArray) images = images_from_entries (store, entries);
  GHashTable *set = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

  *out_unknown = NULL;
  for (guint i = 0; i < images->len; i++)
    {
      const HutchStoreImage *image = images->pdata[i];
      g_autoptr (GPtrArray) chains = NULL;
      if (image->config == NULL)
        {
          if (*out_unknown == NULL)
            *out_unknown = g_strdup (image->names->len > 0 ? image->names->pdata[0] : image->digest);
          continue;
        }
      chains = hutch_store_chain_ids (image->config);
      for (guint j = 0; j < chains->len; j++)
        g_hash_table_add (set, g_strdup (chains->pdata[j]));
    }
  return set;
}

GHashTable *
hutch_store_referenced_chains (HutchStore *store, GPtrArray *entries, GError **error)
{
  g_autofree char *unknown = NULL;
  g_autoptr (GHashTable) set = hutch_store_chains_in_use (store, entries, &unknown);

  /* A layer is kept unless no image can use it: with an image's config
   * unreadable, which layers it uses is not known. */
  if (unknown != NULL)
    return hutch_throw (error, HUTCH_ERROR_INVALID_IMAGE,
                        "image %s is damaged, so which layers it uses is not known (remove it "
                        "with \"hutch rmi -f\", or load or pull it again)", unknown), NULL;
  return g_steal_pointer (&set);
}

GPtrArray *
hutch_store_images_list (HutchStore *store, GError **error)
{
  g_autoptr (GPtrArray) entries = hutch_store_index_entries (store, error);
  GPtrArray *images;

  if (entries == NULL)
    return NULL;
  images = images_from_entries (store, entries);
  g_ptr_array_sort (images, compare_created);
  return images;
}

static gboolean
is_hex (const char *s)
{
  return *s != '\0' && strspn (s, "0123456789abcdef") == strlen (s);
}

/* The last component of a repository path: "debian" of docker.io/library/debian. */
static const char *
repo_base (const char *path)
{
  const char *slash = strrchr (path, '/');

  return slash != NULL ? slash + 1 : path;
}

/* "not in the store", naming what is there that the user may have meant:
 * the same repository with another tag, or another registry's image of the
 * same name (debian for localhost/x/debian). */
static void
not_found (GPtrArray *images, const HutchImageRef *ref, const char *what, GError **error)
{
  g_autoptr (GString) near = g_string_new (NULL);
  guint n_near = 0;

  for (guint i = 0; ref != NULL && i < images->len; i++)
    {
      HutchStoreImage *image = images->pdata[i];
      for (guint j = 0; j < image->names->len; j++)
        {
          g_autoptr (HutchImageRef) other = hutch_image_ref_parse (image->names->pdata[j], NULL);
          if (other == NULL || strcmp (repo_base (other->path), repo_base (ref->path)) != 0)
            continue;
          if (n_near++ >= 5)
            continue;
          g_string_append_printf (near, "%s%s", near->len > 0 ? ", " : "",
                                  (char *) image->names->pdata[j]);
          /* asked by digest: say which digest the name has */
          if (ref->digest != NULL)
            g_string_append_printf (near, " (%s)", image->digest);
        }
    }
  if (n_near > 5)
    g_string_append_printf (near, " and %u more", n_near - 5);
  if (n_near > 0 && ref->digest != NULL)
    hutch_throw (error, HUTCH_ERROR_NOT_FOUND,
                 "image \"%s\" is not in the store: no image has digest %s; it has %s (drop the "
                 "digest to use what the store has, or pull or load the image with that digest)",
                 what, ref->digest, near->str);
  else if (n_near > 0)
    hutch_throw (error, HUTCH_ERROR_NOT_FOUND,
                 "image \"%s\" is not in the store; it has %s (give the full name, or load "
                 "the image with \"hutch load\")", what, near->str);
  else if (images->len == 0)
    hutch_throw (error, HUTCH_ERROR_NOT_FOUND,
                 "image \"%s\" is not in the store, which is empty: load it with \"hutch load\"",
                 what);
  else
    hutch_throw (error, HUTCH_ERROR_NOT_FOUND,
                 "image \"%s\" is not in the store (it has %u other image%s: see \"hutch images\"); "
                 "load it with \"hutch load\"", what, images->len, images->len == 1 ? "" : "s");
}

/* Which image @text names: its index in @images, or -1. */
static int
find_image (GPtrArray *images, const char *text, gboolean *out_by_name, char **out_name,
            GError **error)
{
  g_autoptr (HutchImageRef) ref = NULL;
  g_autofree char *full = NULL;
  const char *id = g_str_has_prefix (text, "sha256:") ? text + 7 : text;
  int found = -1;

  *out_by_name = FALSE;
  ref = hutch_image_ref_parse (text, NULL);
  if (ref != NULL)
    {
      full = ref->tag != NULL ? g_strconcat (ref->domain, "/", ref->path, ":", ref->tag, NULL) : NULL;
      for (guint i = 0; i < images->len; i++)
        {
          HutchStoreImage *image = images->pdata[i];
          if (ref->digest != NULL && strcmp (ref->digest, image->digest) == 0)
            return i;
          for (guint j = 0; full != NULL && ref->digest == NULL && j < image->names->len; j++)
            if (strcmp (image->names->pdata[j], full) == 0)
              {
                *out_by_name = TRUE;
                *out_name = g_strdup (full);
                return i;
              }
        }
    }
  /* Not a name we have: an image ID (config digest) or manifest digest, or
   * a unique prefix of an ID as docker accepts. */
  if (is_hex (id) && strlen (id) <= 64)
    for (guint i = 0; i < images->len; i++)
      {
        HutchStoreImage *image = images->pdata[i];
        if (strcmp (image->digest + 7, id) == 0)
          return i;
        if (g_str_has_prefix (hutch_store_image_id (image), id))
          {
            if (found >= 0)
              return hutch_throw (error, HUTCH_ERROR_NOT_FOUND,
                                  "image ID prefix \"%s\" is ambiguous: give more digits", text), -2;
            found = i;
          }
      }
  if (found >= 0)
    return found;
  if (ref == NULL && !is_hex (id))
    {
      /* Say why the name cannot be one. */
      hutch_image_ref_free (hutch_image_ref_parse (text, error));
      return -2;
    }
  if (ref != NULL && ref->digest != NULL)
    {
      g_autofree char *asked = hutch_image_ref_to_string (ref);
      return not_found (images, ref, asked, error), -2;
    }
  return not_found (images, ref, full != NULL ? full : text, error), -2;
}

/* A name: found in index.json alone, loading only that image's manifest
 * and config (run looks its image up on every start). NULL without error
 * when @text names no tag in the index. */
static HutchStoreImage *
lookup_by_name (HutchStore *store, GPtrArray *entries, const char *text)
{
  g_autoptr (HutchImageRef) ref = hutch_image_ref_parse (text, NULL);
  g_autofree char *full = NULL;
  HutchStoreImage *image;
  const HutchDescriptor *found = NULL;

  if (ref == NULL)
    return NULL;
  /* name:tag, or name@digest as a pull by digest records it */
  full = hutch_image_ref_to_string (ref);
  for (guint i = 0; found == NULL && i < entries->len; i++)
    if (g_strcmp0 (((HutchDescriptor *) entries->pdata[i])->ref_name, full) == 0)
      found = entries->pdata[i];
  if (found == NULL)
    return NULL;
  image = image_load (store, found);
  for (guint i = 0; i < entries->len; i++)
    {
      const HutchDescriptor *d = entries->pdata[i];
      if (d->ref_name != NULL && strcmp (d->digest, found->digest) == 0)
        g_ptr_array_add (image->names, g_strdup (d->ref_name));
    }
  return image;
}

HutchStoreImage *
hutch_store_image_lookup (HutchStore *store, const char *text, gboolean *out_by_name,
                          GError **error)
{
  g_autoptr (GPtrArray) entries = hutch_store_index_entries (store, error);
  g_autoptr (GPtrArray) images = NULL;
  g_autoptr (HutchStoreImage) image = NULL;
  g_autofree char *name = NULL;
  gboolean by_name = TRUE;
  int i;

  if (entries == NULL)
    return NULL;
  image = lookup_by_name (store, entries, text);
  if (image == NULL)
    {
      /* Digests and ID prefixes need every image's config. */
      images = images_from_entries (store, entries);
      g_ptr_array_sort (images, compare_created);
      i = find_image (images, text, &by_name, &name, error);
      if (i < 0)
        return NULL;
      image = g_ptr_array_steal_index (images, (guint) i);
    }
  if (image->damage != NULL)
    return damaged (image, text, error), NULL;
  if (out_by_name != NULL)
    *out_by_name = by_name;
  return g_steal_pointer (&image);
}

static HutchDescriptor *
entry_new (const char *digest, const char *media_type, gint64 size, const char *name)
{
  HutchDescriptor *d = g_new0 (HutchDescriptor, 1);

  d->digest = g_strdup (digest);
  d->media_type = g_strdup (media_type);
  d->kind = hutch_image_media_kind (media_type);
  d->size = size;
  d->ref_name = g_strdup (name);
  return d;
}

/* Removes @name from every entry; an image left with no entry at all keeps
 * one without a name, so that it shows as <none> rather than vanishing. */
static void
entries_drop_name (GPtrArray *entries, const char *name)
{
  for (guint i = 0; i < entries->len; i++)
    {
      HutchDescriptor *d = entries->pdata[i];
      gboolean other = FALSE;
      if (g_strcmp0 (d->ref_name, name) != 0)
        continue;
      for (guint j = 0; j < entries->len; j++)
        if (j != i && strcmp (((HutchDescriptor *) entries->pdata[j])->digest, d->digest) == 0)
          other = TRUE;
      if (other)
        g_ptr_array_remove_index (entries, i--);
      else
        g_clear_pointer (&d->ref_name, g_free);
    }
}

static void
entries_add (GPtrArray *entries, const HutchStoreImageAdd *add, const char *name)
{
  for (guint i = 0; i < entries->len; i++)
    {
      HutchDescriptor *d = entries->pdata[i];
      /* there already; without a name to give, any entry of it will do */
      if (strcmp (d->digest, add->digest) == 0 && (name == NULL || g_strcmp0 (d->ref_name, name) == 0))
        return;
    }
  /* the name moves: off every other image first (an untagged image given
   * a name kept it on the image that had it, which then showed twice) */
  if (name != NULL)
    entries_drop_name (entries, name);
  for (guint i = 0; i < entries->len; i++)
    {
      HutchDescriptor *d = entries->pdata[i];
      if (strcmp (d->digest, add->digest) == 0 && d->ref_name == NULL)
        {
          d->ref_name = g_strdup (name); /* an untagged image gets its first name */
          return;
        }
    }
  g_ptr_array_add (entries, entry_new (add->digest, add->media_type, add->size, name));
}

/* The config digest of the manifest @digest, or NULL. */
static char *
config_of (HutchStore *store, const HutchDescriptor *d)
{
  g_autofree char *text = NULL;
  g_autoptr (HutchManifest) m = NULL;
  gsize len;

  text = hutch_store_blob_read (store, d->digest, HUTCH_JSON_MAX_SIZE, &len, NULL);
  if (text == NULL || (m = hutch_image_manifest_parse (text, len, d->kind, NULL)) == NULL)
    return NULL;
  return g_strdup (m->config->digest);
}

/* An untagged entry whose config is that of a newly added image is the same
 * image packed differently (say, once from a docker-archive with plain
 * layers, then from an oci-archive with gzipped ones): docker shows one image
 * per ID, so the old packing goes, and prune collects its blobs. */
static void
entries_drop_repacked (HutchStore *store, GPtrArray *entries, const HutchStoreImageAdd *add)
{
  g_autofree char *config = NULL;

  for (guint i = 0; i < entries->len; i++)
    {
      HutchDescriptor *d = entries->pdata[i];
      g_autofree char *other = NULL;
      if (d->ref_name != NULL || strcmp (d->digest, add->digest) == 0)
        continue;
      if (config == NULL)
        {
          g_autoptr (HutchDescriptor) self = entry_new (add->digest, add->media_type, add->size, NULL);
          config = config_of (store, self);
          if (config == NULL)
            return;
        }
      other = config_of (store, d);
      if (g_strcmp0 (other, config) == 0)
        g_ptr_array_remove_index (entries, i--);
    }
}

gboolean
hutch_store_images_add (HutchStore *store, const HutchStoreImageAdd *adds, guint n, GError **error)
{
  hutch_autofd int lock = hutch_store_index_lock (store, error);
  g_autoptr (GPtrArray) entries = NULL;

  if (lock < 0)
    return FALSE;
  entries = hutch_store_index_entries (store, error);
  if (entries == NULL)
    return FALSE;
  for (guint i = 0; i < n; i++)
    {
      if (adds[i].names == NULL || adds[i].names[0] == NULL)
        entries_add (entries, &adds[i], NULL);
      for (guint j = 0; adds[i].names != NULL && adds[i].names[j] != NULL; j++)
        entries_add (entries, &adds[i], adds[i].names[j]);
      entries_drop_repacked (store, entries, &adds[i]);
    }
  return hutch_store_index_write (store, entries, error);
}

gboolean
hutch_store_image_tag (HutchStore *store, const char *text, const char *new_name, GError **error)
{
  g_autoptr (HutchImageRef) ref = hutch_image_ref_parse (new_name, error);
  g_autoptr (HutchStoreImage) image = NULL;
  g_autofree char *full = NULL;
  const char *names[2] = { NULL, NULL };
  HutchStoreImageAdd add;

  if (ref == NULL)
    return FALSE;
  if (ref->digest != NULL)
    return hutch_throw (error, HUTCH_ERROR_USAGE,
                        "\"%s\": a new name cannot have a digest; digests belong to the content",
                        new_name);
  image = hutch_store_image_lookup (store, text, NULL, error);
  if (image == NULL)
    return FALSE;
  full = hutch_image_ref_to_string (ref);
  names[0] = full;
  add = (HutchStoreImageAdd){ image->digest, image->media_type, image->manifest_size, names };
  return hutch_store_images_add (store, &add, 1, error);
}

/* The blobs of @image that nothing left in @entries references. When an
 * image left has a manifest that cannot be read, which blobs it uses is not
 * known: only the manifest of @image goes, the rest waits for prune. */
static gboolean
delete_image_blobs (HutchStore *store, HutchStoreImage *image, GPtrArray *entries, GError **error)
{
  g_autofree char *unknown = NULL;
  g_autoptr (GHashTable) keep = hutch_store_referenced (store, entries, &unknown);
  g_autoptr (GPtrArray) mine = g_ptr_array_new ();

  g_ptr_array_add (mine, image->digest);
  for (guint i = 0; unknown == NULL && image->manifest != NULL && i <= image->manifest->layers->len; i++)
    g_ptr_array_add (mine, i == 0 ? image->manifest->config->digest
                                  : ((HutchDescriptor *) image->manifest->layers->pdata[i - 1])->digest);
  for (guint i = 0; i < mine->len; i++)
    if (!g_hash_table_contains (keep, mine->pdata[i])
        && !hutch_store_blob_delete (store, mine->pdata[i], NULL, error))
      return FALSE;
  return TRUE;
}

/* What killed processes left: the store lock is exclusive now. A failure
 * here is no reason to fail the command; the next sweep tries again. */
static void
sweep_quietly (HutchStore *store)
{
  g_autoptr (GError) local = NULL;
  HutchStoreSweep swept;

  if (!hutch_store_sweep (store, &swept, &local))
    g_debug ("sweeping %s: %s", hutch_store_root (store), local->message);
}

gboolean
hutch_store_image_remove (HutchStore *store, const char *text, gboolean force, GPtrArray *report,
                          GError **error)
{
  g_autoptr (GPtrArray) entries = NULL;
  g_autoptr (GPtrArray) images = NULL;
  g_autofree char *name = NULL;
  hutch_autofd int lock = -1;
  HutchStoreImage *image;
  gboolean by_name, gone = TRUE;
  int i;

  if (!hutch_store_lock_exclusive (store, error))
    return FALSE;
  sweep_quietly (store);
  lock = hutch_store_index_lock (store, error);
  if (lock < 0 || (entries = hutch_store_index_entries (store, error)) == NULL)
    return FALSE;
  images = images_from_entries (store, entries);
  if ((i = find_image (images, text, &by_name, &name, error)) < 0)
    return FALSE;
  image = images->pdata[i];
  if (!by_name && image->names->len > 1 && !force)
    return hutch_throw (error, HUTCH_ERROR_BUSY,
                        "image %.12s has %u names; remove them one by one or use --force",
                        hutch_store_image_id (image), image->names->len);
  for (guint j = 0; j < entries->len; j++)
    {
      HutchDescriptor *d = entries->pdata[j];
      if (strcmp (d->digest, image->digest) != 0)
        continue;
      if (!by_name || g_strcmp0 (d->ref_name, name) == 0)
        {
          if (d->ref_name != NULL)
            g_ptr_array_add (report, g_strdup_printf ("Untagged: %s", d->ref_name));
          g_ptr_array_remove_index (entries, j--);
        }
      else
        gone = FALSE;
    }
  if (!hutch_store_index_write (store, entries, error))
    return FALSE;
  if (!gone)
    return TRUE;
  g_ptr_array_add (report, g_strdup_printf ("Deleted: %s", hutch_store_image_id (image)));
  if (!delete_image_blobs (store, image, entries, error))
    return FALSE;
  {
    g_autofree char *unknown = NULL;
    g_autoptr (GHashTable) keep = hutch_store_chains_in_use (store, entries, &unknown);
    /* with an image's layers unknown, its layers may be among the rest:
     * they wait for prune, after that image is fixed or removed */
    return unknown != NULL || hutch_store_layers_remove (store, keep, NULL, FALSE, NULL, error);
  }
}
