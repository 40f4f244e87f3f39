/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The build cache: build-cache/KEY in the store's root holds the ID of the
 * image the step with that key made. The images are ordinary untagged
 * images: system prune removes them like any, and an entry whose image has
 * gone is a miss. build-cache/parent-ID marks an image a later step was
 * built on, which `images` hides as docker hides intermediate images. */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "executor.h"

static char *
cache_path (const HutchContext *ctx, const char *name)
{
  return g_build_filename (ctx->root, "build-cache", name, NULL);
}

static gboolean
is_hex_id (const char *text)
{
  if (strlen (text) != 64)
    return FALSE;
  for (const char *p = text; *p != '\0'; p++)
    if (!g_ascii_isxdigit (*p) || g_ascii_isupper (*p))
      return FALSE;
  return TRUE;
}

char *
hutch_build_cache_get (const HutchContext *ctx, const char *key)
{
  g_autofree char *path = cache_path (ctx, key);
  g_autofree char *text = NULL;
  g_autofree char *blob = NULL;
  gsize len;

  if (!g_file_get_contents (path, &text, &len, NULL))
    return NULL;
  g_strstrip (text);
  if (!is_hex_id (text))
    return NULL;
  /* the image's config is still a blob of the store: it was not pruned
   * (the caller's lookup then checks the rest) */
  blob = g_build_filename (ctx->root, "blobs", "sha256", text, NULL);
  if (access (blob, F_OK) < 0)
    return NULL;
  return g_steal_pointer (&text);
}

static gboolean
cache_dir (const HutchContext *ctx)
{
  g_autofree char *dir = g_build_filename (ctx->root, "build-cache", NULL);

  if (mkdir (dir, 0700) < 0 && errno != EEXIST)
    {
      g_warning ("the build cache %s: %s", dir, g_strerror (errno));
      return FALSE;
    }
  return TRUE;
}

void
hutch_build_cache_put (const HutchContext *ctx, const char *key, const char *id)
{
  g_autofree char *path = cache_path (ctx, key);
  g_autofree char *text = g_strconcat (id, "\n", NULL);
  g_autoptr (GError) local = NULL;

  if (cache_dir (ctx) && !g_file_set_contents (path, text, -1, &local))
    g_warning ("the build cache: %s", local->message);
}

void
hutch_build_cache_mark_parent (const HutchContext *ctx, const char *id)
{
  g_autofree char *name = g_strconcat ("parent-", id, NULL);
  g_autofree char *path = cache_path (ctx, name);
  g_autoptr (GError) local = NULL;

  if (access (path, F_OK) == 0 || !cache_dir (ctx))
    return;
  if (!g_file_set_contents (path, "", 0, &local))
    g_warning ("the build cache: %s", local->message);
}

GHashTable *
hutch_build_cache_intermediates (const HutchContext *ctx)
{
  GHashTable *out = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autofree char *dir = g_build_filename (ctx->root, "build-cache", NULL);
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;

  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    if (g_str_has_prefix (name, "parent-") && is_hex_id (name + 7))
      g_hash_table_add (out, g_strdup (name + 7));
  return out;
}
