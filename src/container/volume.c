/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Volumes as containers use them: made on first use by create, refused
 * removal while a container (running or not) names one in its
 * config.json, pruned when none does, and a container's anonymous volumes
 * removed with it when it was run with --rm. The records themselves are
 * store/'s (volume.c). */
#include "config.h"

#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "container-private.h"

gboolean
hutch_container_volumes_resolve (const HutchContext *ctx, GPtrArray *mounts, int *volumes_lock,
                                 GPtrArray *made, GError **error)
{
  for (guint i = 0; i < mounts->len; i++)
    {
      HutchContainerMount *cm = mounts->pdata[i];
      HutchSandboxMount *m = cm->mount;
      g_autoptr (HutchStoreVolume) v = NULL;
      gboolean existed = FALSE;
      if (m->volume == NULL && !m->anonymous)
        continue;
      /* held until the container's record is written: a `volume rm` that
       * runs meanwhile sees the record, or waits */
      if (*volumes_lock < 0
          && (*volumes_lock = hutch_store_volumes_lock (ctx->root, FALSE, error)) < 0)
        return FALSE;
      v = hutch_store_volume_create (ctx->root, m->volume, cm->labels, m->anonymous, &existed,
                                     error);
      if (v == NULL)
        return g_prefix_error (error, "the volume for %s: ", m->target), FALSE;
      if (m->anonymous && made != NULL)
        g_ptr_array_add (made, g_strdup (v->name));
      g_free (m->volume);
      m->volume = g_strdup (v->name);
      m->source = g_strdup (v->mountpoint);
    }
  return TRUE;
}

/* Each mount of container @id's config.json (those of its tombstone too,
 * when @dir says where it is). */
static GPtrArray *
mounts_of (const char *dir)
{
  HutchSandboxSpec spec = { .cleanup_fd = -1 };
  GPtrArray *out = NULL;

  if (hutch_container_spec_read (dir, &spec, NULL))
    out = g_ptr_array_ref (spec.mounts);
  hutch_container_spec_clear (&spec);
  return out;
}

/* The first container that names volume @name, or NULL. */
static HutchContainer *
first_user (const HutchContext *ctx, const char *name, GError **error)
{
  g_autoptr (GPtrArray) all = hutch_container_list (ctx, error);

  if (all == NULL)
    return NULL;
  for (guint i = 0; i < all->len; i++)
    {
      HutchContainer *c = all->pdata[i];
      g_autofree char *dir = hutch_container_dir (ctx, c->id);
      g_autoptr (GPtrArray) mounts = mounts_of (dir);
      for (guint j = 0; mounts != NULL && j < mounts->len; j++)
        {
          const HutchSandboxMount *m = mounts->pdata[j];
          if (g_strcmp0 (m->volume, name) == 0)
            return g_ptr_array_steal_index (all, i);
        }
    }
  return NULL;
}

/* @name removed unless a container names it; the caller holds the volumes
 * lock exclusive. */
static gboolean
remove_unused (const HutchContext *ctx, const char *name, GError **error)
{
  g_autoptr (GError) local = NULL;
  g_autoptr (HutchContainer) user = first_user (ctx, name, &local);

  if (local != NULL)
    return g_propagate_prefixed_error (error, g_steal_pointer (&local),
                                       "removing volume %s: ", name),
           FALSE;
  if (user != NULL)
    return hutch_throw (error, HUTCH_ERROR_BUSY,
                        "volume %s is in use by container %s (%.12s, %s): remove the container "
                        "first (hutch rm %s)",
                        name, user->name, user->id, hutch_container_status_name (user->status),
                        user->name);
  return hutch_store_volume_delete (ctx->root, name, error);
}

gboolean
hutch_container_volume_remove (const HutchContext *ctx, const char *name, gboolean skip_missing,
                               GError **error)
{
  g_autoptr (GError) local = NULL;
  hutch_autofd int lock = -1;

  if (!hutch_store_volume_name_validate (name, error))
    return FALSE;
  if ((lock = hutch_store_volumes_lock (ctx->root, TRUE, error)) < 0)
    return FALSE;
  if (remove_unused (ctx, name, &local))
    return TRUE;
  if (skip_missing && g_error_matches (local, HUTCH_ERROR, HUTCH_ERROR_NOT_FOUND))
    return TRUE;
  return g_propagate_error (error, g_steal_pointer (&local)), FALSE;
}

/* Bytes in the files under @dfd, as far as the user can see them (what a
 * container wrote as another id may be out of sight). */
static guint64
tree_bytes (int dfd)
{
  g_autoptr (GPtrArray) names = hutch_util_list_dir_at (dfd, NULL);
  guint64 total = 0;

  for (guint i = 0; names != NULL && i < names->len; i++)
    {
      struct stat st;
      if (fstatat (dfd, names->pdata[i], &st, AT_SYMLINK_NOFOLLOW) < 0)
        continue;
      if (S_ISDIR (st.st_mode))
        {
          hutch_autofd int sub
              = openat (dfd, names->pdata[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
          if (sub >= 0)
            total += tree_bytes (sub);
        }
      else if (S_ISREG (st.st_mode))
        total += (guint64)st.st_size;
    }
  return total;
}

gboolean
hutch_container_volume_prune (const HutchContext *ctx, GPtrArray *out_removed, guint64 *out_bytes,
                              GError **error)
{
  hutch_autofd int lock = hutch_store_volumes_lock (ctx->root, TRUE, error);
  g_autoptr (GPtrArray) volumes = NULL;
  g_autoptr (GHashTable) used = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr (GPtrArray) all = NULL;

  *out_bytes = 0;
  if (lock < 0 || (volumes = hutch_store_volume_list (ctx->root, error)) == NULL
      || (all = hutch_container_list (ctx, error)) == NULL)
    return FALSE;
  for (guint i = 0; i < all->len; i++)
    {
      g_autofree char *dir = hutch_container_dir (ctx, ((HutchContainer *)all->pdata[i])->id);
      g_autoptr (GPtrArray) mounts = mounts_of (dir);
      for (guint j = 0; mounts != NULL && j < mounts->len; j++)
        {
          const HutchSandboxMount *m = mounts->pdata[j];
          if (m->volume != NULL)
            g_hash_table_add (used, g_strdup (m->volume));
        }
    }
  for (guint i = 0; i < volumes->len; i++)
    {
      const HutchStoreVolume *v = volumes->pdata[i];
      hutch_autofd int data = -1;
      guint64 bytes;
      if (g_hash_table_contains (used, v->name))
        continue;
      data = open (v->mountpoint, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      bytes = data >= 0 ? tree_bytes (data) : 0;
      if (!hutch_store_volume_delete (ctx->root, v->name, error))
        return FALSE;
      *out_bytes += bytes;
      g_ptr_array_add (out_removed, g_strdup (v->name));
    }
  return TRUE;
}

char **
hutch_container_anonymous_volumes (const char *dir)
{
  g_autoptr (GPtrArray) mounts = mounts_of (dir);
  GPtrArray *out = g_ptr_array_new ();

  for (guint i = 0; mounts != NULL && i < mounts->len; i++)
    {
      const HutchSandboxMount *m = mounts->pdata[i];
      if (m->anonymous && m->volume != NULL)
        g_ptr_array_add (out, g_strdup (m->volume));
    }
  g_ptr_array_add (out, NULL);
  return (char **)g_ptr_array_free (out, FALSE);
}

void
hutch_container_volumes_drop (const HutchContext *ctx, char **names)
{
  for (char **n = names; n != NULL && *n != NULL; n++)
    {
      g_autoptr (GError) error = NULL;
      /* without the volumes lock: this runs inside listings that hold it
       * (a sweep's removal of an abandoned --rm container), and no one
       * else makes a container of a volume named by 64 random digits */
      if (!remove_unused (ctx, *n, &error)
          && !g_error_matches (error, HUTCH_ERROR, HUTCH_ERROR_NOT_FOUND))
        g_warning ("leaving the anonymous volume %s: %s", *n, error->message);
    }
}

gboolean
hutch_container_remove_volumes (const HutchContext *ctx, const char *id, gboolean force,
                                GError **error)
{
  g_autofree char *dir = hutch_container_dir (ctx, id);
  /* read before the container's directory goes */
  g_auto (GStrv) anonymous = hutch_container_anonymous_volumes (dir);

  if (!hutch_container_remove (ctx, id, force, error))
    return FALSE;
  hutch_container_volumes_drop (ctx, anonymous);
  return TRUE;
}
