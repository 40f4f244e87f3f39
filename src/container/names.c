/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The names containers are known by: names/<name>, a symlink to the id.
 * A link is made with symlink(2), which fails when it exists, so two
 * creates cannot both take a free name. A link whose container directory
 * has gone (a removal killed between its two steps, or one by a hutch
 * before removals were atomic) names nothing: it reads as free, and the
 * next create of that name takes it over. A link that exists changes only
 * under names/.lock (takeover, release, the sweep of stale links), so that
 * a release never unlinks a link another container has just taken over. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "container-private.h"

#define NAMES_LOCK ".lock"

/* docker's rule for names: [a-zA-Z0-9][a-zA-Z0-9_.-]+ */
static gboolean
name_valid (const char *name)
{
  gsize len = strlen (name);

  if (len < 2 || len > 128 || !g_ascii_isalnum (name[0]))
    return FALSE;
  for (gsize i = 1; i < len; i++)
    if (!g_ascii_isalnum (name[i]) && strchr ("_.-", name[i]) == NULL)
      return FALSE;
  return TRUE;
}

gboolean
hutch_container_id_valid (const char *text)
{
  return text != NULL && strlen (text) == 64 && strspn (text, "0123456789abcdef") == 64;
}

/* Whether containers/@id is there: a container, whole or being made (its
 * directory is made before its name). */
static gboolean
container_exists (const HutchContext *ctx, const char *id)
{
  g_autofree char *dir = NULL;

  if (!hutch_container_id_valid (id))
    return FALSE;
  dir = hutch_container_dir (ctx, id);
  return faccessat (AT_FDCWD, dir, F_OK, AT_SYMLINK_NOFOLLOW) == 0 || errno != ENOENT;
}

static int
names_lock (const char *dir, GError **error)
{
  g_autofree char *path = g_build_filename (dir, NAMES_LOCK, NULL);
  hutch_autofd int fd = open (path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);

  if (fd < 0)
    return hutch_throw_errno (error, "opening the lock of container names %s", path), -1;
  while (flock (fd, LOCK_EX) < 0)
    if (errno != EINTR)
      return hutch_throw_errno (error, "locking the container names %s", path), -1;
  return hutch_fd_steal (&fd);
}

char *
hutch_container_name_lookup (const HutchContext *ctx, const char *name)
{
  g_autofree char *path = g_build_filename (ctx->root, "names", name, NULL);
  g_autofree char *target = strchr (name, '/') == NULL && *name != '.'
                              ? g_file_read_link (path, NULL) : NULL;

  return target != NULL && container_exists (ctx, target) ? g_steal_pointer (&target) : NULL;
}

/* names/@name -> @stale is replaced by -> @id, if it still points there
 * and its container is still gone: a new link under a temporary name,
 * renamed over the old one in one step. */
static gboolean
take_over (const HutchContext *ctx, const char *dir, const char *name, const char *stale,
           const char *id, gboolean *out_taken, GError **error)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  g_autofree char *tmp = g_strdup_printf ("%s/.new-%s", dir, id);
  g_autofree char *now = NULL;
  hutch_autofd int lock = names_lock (dir, error);

  *out_taken = FALSE;
  if (lock < 0)
    return FALSE;
  now = g_file_read_link (path, NULL);
  if (g_strcmp0 (now, stale) != 0 || (now != NULL && container_exists (ctx, now)))
    return TRUE; /* changed meanwhile: the caller looks again */
  (void) unlink (tmp);
  if (symlink (id, tmp) < 0)
    return hutch_throw_errno (error, "reserving the name %s", name);
  if ((now != NULL ? rename (tmp, path) : renameat2 (AT_FDCWD, tmp, AT_FDCWD, path, RENAME_NOREPLACE)) < 0)
    {
      int errsv = errno;
      (void) unlink (tmp);
      if (errsv == EEXIST)
        return TRUE;
      return hutch_throw_errno_val (error, errsv, "reserving the name %s", name);
    }
  *out_taken = TRUE;
  return TRUE;
}

gboolean
hutch_container_name_reserve (const HutchContext *ctx, const char *name, const char *id,
                              GError **error)
{
  g_autofree char *dir = g_build_filename (ctx->root, "names", NULL);
  g_autofree char *path = g_build_filename (dir, name, NULL);

  if (!name_valid (name))
    return hutch_throw (error, HUTCH_ERROR_USAGE,
                        "--name \"%s\": a name is 2 to 128 of a-z, A-Z, 0-9, _, . and -, "
                        "starting with a letter or digit", name);
  if (g_mkdir_with_parents (dir, 0700) < 0)
    return hutch_throw_errno (error, "making %s", dir);
  for (guint tries = 0;; tries++)
    {
      g_autofree char *other = NULL;
      gboolean taken = FALSE;
      if (symlink (id, path) == 0)
        return TRUE;
      if (errno != EEXIST)
        return hutch_throw_errno (error, "reserving the name %s", name);
      other = g_file_read_link (path, NULL);
      if (other != NULL && container_exists (ctx, other))
        return hutch_throw (error, HUTCH_ERROR_BUSY,
                            "the name \"%s\" is in use by container %.12s: choose another name, "
                            "or remove that container (hutch rm %s)",
                            name, other, name);
      /* the name of a container that has gone: free */
      if (!take_over (ctx, dir, name, other, id, &taken, error))
        return FALSE;
      if (taken)
        return TRUE;
      if (tries >= 100)
        return hutch_throw (error, HUTCH_ERROR_BUSY,
                            "the name \"%s\" keeps changing hands: choose another name", name);
    }
}

void
hutch_container_name_release (const HutchContext *ctx, const char *name, const char *id)
{
  g_autofree char *dir = g_build_filename (ctx->root, "names", NULL);
  g_autofree char *path = g_build_filename (dir, name, NULL);
  g_autofree char *target = g_file_read_link (path, NULL);
  g_autoptr (GError) error = NULL;
  hutch_autofd int lock = -1;

  if (target == NULL || strcmp (target, id) != 0)
    return;
  lock = names_lock (dir, &error);
  if (lock < 0)
    {
      g_warning ("releasing the name %s: %s", name, error->message);
      return;
    }
  g_free (target);
  target = g_file_read_link (path, NULL);
  if (target != NULL && strcmp (target, id) == 0)
    (void) unlink (path);
}

void
hutch_container_names_sweep (const HutchContext *ctx)
{
  g_autofree char *dir = g_build_filename (ctx->root, "names", NULL);
  hutch_autofd int dfd = open (dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  g_autoptr (GPtrArray) names = dfd >= 0 ? hutch_util_list_dir_at (dfd, NULL) : NULL;
  hutch_autofd int lock = -1;

  for (guint i = 0; names != NULL && i < names->len; i++)
    {
      const char *name = names->pdata[i];
      g_autofree char *path = NULL;
      g_autofree char *target = NULL;
      if (*name == '.')
        {
          /* a takeover's link that a killed create never renamed */
          if (g_str_has_prefix (name, ".new-") && lock < 0 && (lock = names_lock (dir, NULL)) < 0)
            return;
          if (g_str_has_prefix (name, ".new-"))
            (void) unlinkat (dfd, name, 0);
          continue;
        }
      path = g_build_filename (dir, name, NULL);
      target = g_file_read_link (path, NULL);
      if (target == NULL || container_exists (ctx, target))
        continue;
      if (lock < 0 && (lock = names_lock (dir, NULL)) < 0)
        return;
      /* again, under the lock: a takeover may have made it a live name */
      g_free (target);
      target = g_file_read_link (path, NULL);
      if (target != NULL && !container_exists (ctx, target))
        (void) unlinkat (dfd, name, 0);
    }
}

/* The Name hutch.json in @dir says now, or NULL. */
static char *
recorded_name (const char *dir)
{
  g_autofree char *path = g_build_filename (dir, "hutch.json", NULL);
  g_autofree char *text = NULL;
  g_autoptr (HutchJsonNode) root = NULL;
  const HutchJsonNode *n;
  gsize len;

  if (!g_file_get_contents (path, &text, &len, NULL)
      || (root = hutch_json_parse (text, len, NULL)) == NULL)
    return NULL;
  n = hutch_json_node_member (root, "Name");
  return n != NULL && n->type == HUTCH_JSON_STRING ? g_strdup (n->string) : NULL;
}

int
hutch_container_name_sync (const HutchContext *ctx, HutchContainer *c)
{
  g_autofree char *names = g_build_filename (ctx->root, "names", NULL);
  g_autofree char *dir = hutch_container_dir (ctx, c->id);
  g_autofree char *now = NULL;
  int lock = names_lock (names, NULL);

  /* without the lock (names/ gone with the store): the record as it is */
  if ((now = recorded_name (dir)) != NULL && strcmp (now, c->name) != 0)
    {
      g_free (c->name);
      c->name = g_steal_pointer (&now);
    }
  return lock;
}

gboolean
hutch_container_rename (const HutchContext *ctx, const char *id, const char *new_name,
                        GError **error)
{
  g_autofree char *names = g_build_filename (ctx->root, "names", NULL);
  hutch_autofd int lock = -1;
  hutch_autofd int names_fd = -1;
  g_autoptr (HutchContainer) c = NULL;
  g_autofree char *old_name = NULL;
  g_autofree char *held = NULL;
  gboolean saved;

  if (!name_valid (new_name))
    return hutch_throw (error, HUTCH_ERROR_USAGE,
                        "\"%s\" is not a valid container name: a name is 2 to 128 of a-z, A-Z, "
                        "0-9, _, . and -, starting with a letter or digit", new_name);
  /* the container lock: no start, stop or rm of it meanwhile */
  if ((lock = hutch_container_lock (ctx, id, error)) < 0
      || (c = hutch_container_load (ctx, id, error)) == NULL)
    return FALSE;
  if (strcmp (c->name, new_name) == 0)
    return hutch_throw (error, HUTCH_ERROR_USAGE,
                        "container %.12s is already named \"%s\": give another name", id,
                        new_name);
  /* the new name is taken first, so that at no moment has the container
   * no name, and a name another container takes meanwhile is refused */
  held = hutch_container_name_lookup (ctx, new_name);
  /* (a rename killed after its first step left the name to this container) */
  if (g_strcmp0 (held, id) != 0 && !hutch_container_name_reserve (ctx, new_name, id, error))
    return FALSE;
  /* the record is written under names/.lock, which a running container's
   * monitor holds while it reads the name back and writes the record
   * (hutch_container_name_sync()): its write never brings back the old name */
  names_fd = names_lock (names, error);
  if (names_fd < 0)
    {
      hutch_container_name_release (ctx, new_name, id);
      return FALSE;
    }
  old_name = g_steal_pointer (&c->name);
  c->name = g_strdup (new_name);
  saved = hutch_container_save (ctx, c, error);
  hutch_fd_clear (&names_fd);
  if (!saved)
    {
      hutch_container_name_release (ctx, new_name, id);
      return g_prefix_error (error, "renaming container %s to %s: ", old_name, new_name), FALSE;
    }
  hutch_container_name_release (ctx, old_name, id);
  return TRUE;
}
