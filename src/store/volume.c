/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Named volumes: volumes/<name>/_data, the directory a container sees, and
 * volumes/<name>/volume.json (created time, labels, whether it was made
 * for one container alone). A volume appears whole or not at all: it is
 * made under a temporary name and renamed into place. Which containers
 * use a volume is container/'s to know; here are the records alone. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store.h"

#define VOLUME_RECORD "volume.json"
#define VOLUME_DATA "_data"
#define VOLUMES_LOCK ".lock"
#define TEMP_PREFIX ".new-"
#define TRASH_PREFIX ".trash-"

void
hutch_store_volume_free (HutchStoreVolume *v)
{
  if (v == NULL)
    return;
  g_free (v->name);
  g_free (v->mountpoint);
  g_free (v->created_at);
  g_strfreev (v->labels);
  g_free (v);
}

gboolean
hutch_store_volume_name_validate (const char *name, GError **error)
{
  /* docker's rule: [a-zA-Z0-9][a-zA-Z0-9_.-]+, so two characters at least;
   * a name is one directory of volumes/ and never "." or ".." */
  gboolean ok
      = name != NULL && strlen (name) >= 2 && strlen (name) <= 255 && g_ascii_isalnum (name[0]);

  for (const char *c = name; ok && *c != '\0'; c++)
    ok = g_ascii_isalnum (*c) || *c == '_' || *c == '.' || *c == '-';
  if (!ok)
    return hutch_throw (error, HUTCH_ERROR_USAGE,
                        "\"%s\" is not a volume name: a name is a letter or digit, then at least "
                        "one more of letters, digits, '_', '.' or '-' (a host directory is an "
                        "absolute path, or one starting with \".\")",
                        name != NULL ? name : "");
  return TRUE;
}

/* volumes/ under @root, made when missing and checked to be ours alone. */
static int
open_volumes (const char *root, gboolean create, GError **error)
{
  g_autofree char *dir = g_build_filename (root, "volumes", NULL);
  hutch_autofd int fd = -1;

  if (create && !hutch_util_ensure_private_dir (dir, 0700, error))
    return -1;
  fd = open (dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    {
      if (errno == ENOENT)
        return hutch_throw (error, HUTCH_ERROR_NOT_FOUND, "%s does not exist", dir), -1;
      return hutch_throw_errno (error, "opening %s", dir), -1;
    }
  if (!hutch_util_check_private_fd (fd, dir, error))
    return -1;
  return hutch_fd_steal (&fd);
}

int
hutch_store_volumes_lock (const char *root, gboolean exclusive, GError **error)
{
  hutch_autofd int dfd = open_volumes (root, TRUE, error);
  hutch_autofd int fd = -1;

  if (dfd < 0)
    return -1;
  fd = openat (dfd, VOLUMES_LOCK, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0)
    return hutch_throw_errno (error, "opening %s/volumes/" VOLUMES_LOCK, root), -1;
  while (flock (fd, exclusive ? LOCK_EX : LOCK_SH) < 0)
    if (errno != EINTR)
      return hutch_throw_errno (error, "locking %s/volumes/" VOLUMES_LOCK, root), -1;
  return hutch_fd_steal (&fd);
}

static char *
random_name (void)
{
  guint8 bytes[32];
  GString *s = g_string_new (NULL);

  if (getrandom (bytes, sizeof bytes, 0) != sizeof bytes)
    for (gsize i = 0; i < sizeof bytes; i++)
      bytes[i] = (guint8)g_random_int ();
  for (gsize i = 0; i < sizeof bytes; i++)
    g_string_append_printf (s, "%02x", bytes[i]);
  return g_string_free (s, FALSE);
}

static char *
record_text (const char *created_at, char **labels, gboolean anonymous)
{
  g_autoptr (HutchJsonWriter) w = hutch_json_writer_new (TRUE);

  hutch_json_begin_object (w);
  hutch_json_member_string (w, "CreatedAt", created_at);
  hutch_json_key (w, "Labels");
  hutch_json_begin_object (w);
  for (char **l = labels; l != NULL && *l != NULL; l++)
    {
      const char *eq = strchr (*l, '=');
      g_autofree char *key = eq != NULL ? g_strndup (*l, (gsize)(eq - *l)) : g_strdup (*l);
      hutch_json_member_string (w, key, eq != NULL ? eq + 1 : "");
    }
  hutch_json_end_object (w);
  hutch_json_member_bool (w, "Anonymous", anonymous);
  hutch_json_end_object (w);
  return hutch_json_writer_finish (w);
}

/* volumes/<name> of @dfd as a record, or NULL (NOT_FOUND when missing). */
static HutchStoreVolume *
load (const char *root, int dfd, const char *name, GError **error)
{
  g_autofree char *rel = g_build_filename (name, VOLUME_RECORD, NULL);
  hutch_autofd int fd = openat (dfd, rel, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  g_autoptr (HutchJsonNode) doc = NULL;
  g_autofree char *text = NULL;
  g_autoptr (HutchStoreVolume) v = NULL;
  const HutchJsonNode *labels, *n;
  GPtrArray *list;
  gsize len;

  if (fd < 0 && errno == ENOENT)
    return hutch_throw (error, HUTCH_ERROR_NOT_FOUND, "no such volume: %s", name), NULL;
  if (fd < 0 || (text = hutch_util_read_all (fd, 1 << 20, &len, error)) == NULL
      || (doc = hutch_json_parse (text, len, error)) == NULL)
    {
      if (fd < 0)
        hutch_throw_errno (error, "opening %s/volumes/%s", root, rel);
      return g_prefix_error (error, "reading volume %s: ", name), NULL;
    }
  v = g_new0 (HutchStoreVolume, 1);
  v->name = g_strdup (name);
  v->mountpoint = g_build_filename (root, "volumes", name, VOLUME_DATA, NULL);
  n = hutch_json_node_member (doc, "CreatedAt");
  v->created_at = g_strdup (n != NULL && n->type == HUTCH_JSON_STRING ? n->string : "");
  n = hutch_json_node_member (doc, "Anonymous");
  v->anonymous = n != NULL && n->type == HUTCH_JSON_BOOL && n->boolean;
  labels = hutch_json_node_member (doc, "Labels");
  list = g_ptr_array_new ();
  for (guint i = 0; labels != NULL && labels->type == HUTCH_JSON_OBJECT && i < labels->n_members;
       i++)
    if (labels->members[i]->type == HUTCH_JSON_STRING)
      g_ptr_array_add (list,
                       g_strdup_printf ("%s=%s", labels->keys[i], labels->members[i]->string));
  g_ptr_array_add (list, NULL);
  v->labels = (char **)g_ptr_array_free (list, FALSE);
  return g_steal_pointer (&v);
}

HutchStoreVolume *
hutch_store_volume_get (const char *root, const char *name, GError **error)
{
  hutch_autofd int dfd = -1;
  g_autoptr (GError) local = NULL;

  if (!hutch_store_volume_name_validate (name, error))
    return NULL;
  dfd = open_volumes (root, FALSE, &local);
  if (dfd < 0)
    {
      if (g_error_matches (local, HUTCH_ERROR, HUTCH_ERROR_NOT_FOUND))
        return hutch_throw (error, HUTCH_ERROR_NOT_FOUND, "no such volume: %s", name), NULL;
      return g_propagate_error (error, g_steal_pointer (&local)), NULL;
    }
  return load (root, dfd, name, error);
}

/* The new volume under a temporary name, then renamed into place; *@out_existed
 * when one of that name was there first (and then it is what is returned). */
HutchStoreVolume *
hutch_store_volume_create (const char *root, const char *name, char **labels, gboolean anonymous,
                           gboolean *out_existed, GError **error)
{
  g_autofree char *chosen = name != NULL ? g_strdup (name) : random_name ();
  g_autofree char *temp = g_strconcat (TEMP_PREFIX, chosen, NULL);
  g_autofree char *created = NULL, *text = NULL;
  g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
  hutch_autofd int dfd = -1, tfd = -1;

  if (out_existed != NULL)
    *out_existed = FALSE;
  if (!hutch_store_volume_name_validate (chosen, error)
      || (dfd = open_volumes (root, TRUE, error)) < 0)
    return NULL;
  for (char **l = labels; l != NULL && *l != NULL; l++)
    if (**l == '=' || **l == '\0')
      return hutch_throw (error, HUTCH_ERROR_USAGE, "--label \"%s\": use KEY=VALUE", *l), NULL;
  if (faccessat (dfd, chosen, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
    {
      if (out_existed != NULL)
        *out_existed = TRUE;
      return load (root, dfd, chosen, error);
    }
  (void)hutch_util_remove_tree_at (dfd, temp); /* a killed create's */
  created = g_date_time_format (now, "%Y-%m-%dT%H:%M:%SZ");
  text = record_text (created, labels, anonymous);
  if (mkdirat (dfd, temp, 0700) < 0
      || (tfd = openat (dfd, temp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0
      || mkdirat (tfd, VOLUME_DATA, 0755) < 0)
    return hutch_throw_errno (error, "making volume %s in %s/volumes", chosen, root), NULL;
  {
    g_autofree char *path = g_build_filename (root, "volumes", temp, VOLUME_RECORD, NULL);
    if (!hutch_util_replace_file (path, text, strlen (text), 0600, TRUE, error))
      {
        (void)hutch_util_remove_tree_at (dfd, temp);
        return g_prefix_error (error, "making volume %s: ", chosen), NULL;
      }
  }
  if (renameat2 (dfd, temp, dfd, chosen, RENAME_NOREPLACE) < 0)
    {
      int errsv = errno;
      (void)hutch_util_remove_tree_at (dfd, temp);
      if (errsv == EEXIST)
        {
          /* made meanwhile by another hutch: that one is ours too */
          if (out_existed != NULL)
            *out_existed = TRUE;
          return load (root, dfd, chosen, error);
        }
      errno = errsv;
      return hutch_throw_errno (error, "making volume %s in %s/volumes", chosen, root), NULL;
    }
  if (fsync (dfd) < 0)
    return hutch_throw_errno (error, "syncing %s/volumes", root), NULL;
  return load (root, dfd, chosen, error);
}

static gint
by_name (gconstpointer a, gconstpointer b)
{
  return strcmp ((*(HutchStoreVolume *const *)a)->name, (*(HutchStoreVolume *const *)b)->name);
}

GPtrArray *
hutch_store_volume_list (const char *root, GError **error)
{
  g_autoptr (GPtrArray) out
      = g_ptr_array_new_with_free_func ((GDestroyNotify)hutch_store_volume_free);
  g_autoptr (GError) local = NULL;
  g_autoptr (GPtrArray) names = NULL;
  hutch_autofd int dfd = open_volumes (root, FALSE, &local);

  if (dfd < 0)
    {
      if (g_error_matches (local, HUTCH_ERROR, HUTCH_ERROR_NOT_FOUND))
        return g_steal_pointer (&out);
      return g_propagate_error (error, g_steal_pointer (&local)), NULL;
    }
  names = hutch_util_list_dir_at (dfd, error);
  if (names == NULL)
    return NULL;
  for (guint i = 0; i < names->len; i++)
    {
      g_autoptr (GError) bad = NULL;
      HutchStoreVolume *v;
      if (!hutch_store_volume_name_validate (names->pdata[i], NULL))
        continue; /* .lock, a create's temporary directory */
      v = load (root, dfd, names->pdata[i], &bad);
      if (v == NULL)
        {
          /* one that was just removed is no news */
          if (!g_error_matches (bad, HUTCH_ERROR, HUTCH_ERROR_NOT_FOUND))
            g_warning ("%s", bad->message);
          continue;
        }
      g_ptr_array_add (out, v);
    }
  g_ptr_array_sort (out, by_name);
  return g_steal_pointer (&out);
}

gboolean
hutch_store_volume_delete (const char *root, const char *name, GError **error)
{
  g_autofree char *trash = g_strconcat (TRASH_PREFIX, name, NULL);
  const char *names[] = { trash, NULL };
  hutch_autofd int dfd = -1;
  g_autoptr (HutchIdMap) map = NULL;

  if (!hutch_store_volume_name_validate (name, error)
      || (dfd = open_volumes (root, FALSE, error)) < 0)
    return FALSE;
  /* out of sight in one step: a kill while its files go leaves no half
   * volume, only a .trash- directory, which the next removal of that name
   * clears */
  if (renameat2 (dfd, name, dfd, trash, RENAME_NOREPLACE) < 0)
    {
      if (errno == ENOENT)
        return hutch_throw (error, HUTCH_ERROR_NOT_FOUND, "no such volume: %s", name);
      if (errno != EEXIST)
        return hutch_throw_errno (error, "removing volume %s", name);
      (void)hutch_util_remove_tree_at (dfd, trash);
      if (renameat2 (dfd, name, dfd, trash, RENAME_NOREPLACE) < 0)
        return hutch_throw_errno (error, "removing volume %s", name);
    }
  if (hutch_util_remove_tree_at (dfd, trash))
    return TRUE;
  /* what containers wrote belongs to subordinate ids */
  map = hutch_sandbox_idmap_new_for_user (error);
  if (map == NULL || !hutch_sandbox_userns_remove_at (map, dfd, names, error))
    return g_prefix_error (error, "deleting the files of volume %s (%s/volumes/%s): ", name, root,
                           trash),
           FALSE;
  return TRUE;
}
