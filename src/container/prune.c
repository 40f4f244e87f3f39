/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Removing the containers that have exited (what `system prune` does
 * first, as docker's does): their directories, with the files of
 * subordinate ids removed inside the user namespace, and their names. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "container.h"

/* Whether containers/@id has ended: its monitor wrote "exited N". A
 * container still running has no state file yet. */
static gboolean
has_exited (int containers_fd, const char *id)
{
  g_autofree char *path = g_strconcat (id, "/state", NULL);
  hutch_autofd int fd = openat (containers_fd, path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  char buf[7] = "";

  return fd >= 0 && read (fd, buf, 6) == 6 && strcmp (buf, "exited") == 0;
}

/* names/<name> -> <id> for every id in @gone. */
static void
drop_names (const char *root, GHashTable *gone)
{
  g_autofree char *dir = g_build_filename (root, "names", NULL);
  hutch_autofd int fd = open (dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  g_autoptr (GPtrArray) names = fd >= 0 ? hutch_util_list_dir_at (fd, NULL) : NULL;

  for (guint i = 0; names != NULL && i < names->len; i++)
    {
      char target[80];
      ssize_t n = readlinkat (fd, names->pdata[i], target, sizeof target - 1);
      if (n <= 0)
        continue;
      target[n] = '\0';
      if (g_hash_table_contains (gone, target))
        (void) unlinkat (fd, names->pdata[i], 0);
    }
}

gboolean
hutch_container_prune (HutchContext *ctx, guint *out_removed, GError **error)
{
  g_autofree char *dir = g_build_filename (ctx->root, "containers", NULL);
  hutch_autofd int fd = open (dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  g_autoptr (GPtrArray) ids = NULL;
  g_autoptr (GPtrArray) exited = g_ptr_array_new ();
  g_autoptr (GHashTable) gone = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr (HutchIdMap) map = NULL;

  *out_removed = 0;
  if (fd < 0)
    return errno == ENOENT ? TRUE : hutch_throw_errno (error, "opening %s", dir);
  if ((ids = hutch_util_list_dir_at (fd, error)) == NULL)
    return FALSE;
  for (guint i = 0; i < ids->len; i++)
    if (has_exited (fd, ids->pdata[i]))
      g_ptr_array_add (exited, ids->pdata[i]);
  if (exited->len == 0)
    return TRUE;
  g_ptr_array_add (exited, NULL);
  /* names first: a name never points at a directory half removed */
  for (guint i = 0; exited->pdata[i] != NULL; i++)
    g_hash_table_add (gone, exited->pdata[i]);
  drop_names (ctx->root, gone);
  map = hutch_sandbox_idmap_new_for_user (error);
  if (map == NULL
      || !hutch_sandbox_userns_remove_at (map, fd, (const char *const *) exited->pdata, error))
    return g_prefix_error (error, "removing exited containers: "), FALSE;
  *out_removed = exited->len - 1;
  return TRUE;
}
