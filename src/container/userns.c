/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* --userns: which id map a container has (the default, container 0 the
 * user; or keep-id, the user at its own uid and gid), and what keep-id
 * adds when the container is made: the user's line in /etc/passwd and
 * /etc/group, as generated files bound over the image's. The map itself is
 * sandbox/'s; which copy of the layers it owns is store/'s. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "container-private.h"

/* The image's /etc/passwd and /etc/group are small; a bigger one is not
 * read (and the user's line is then the whole file). */
#define DB_MAX (1024 * 1024)

gboolean
hutch_container_userns_parse (const char *text, HutchUsernsMode *out, GError **error)
{
  *out = HUTCH_USERNS_DEFAULT;
  if (text == NULL || *text == '\0')
    return TRUE;
  if (strcmp (text, "keep-id") == 0)
    {
      *out = HUTCH_USERNS_KEEP_ID;
      return TRUE;
    }
  return hutch_throw (error, HUTCH_ERROR_USAGE,
                      "--userns \"%s\": unknown mode: use keep-id (your uid and gid inside "
                      "as outside), or \"\" for the default map (container root is you)",
                      text);
}

const char *
hutch_container_userns_name (HutchUsernsMode mode)
{
  return mode == HUTCH_USERNS_KEEP_ID ? "keep-id" : "";
}

HutchIdMap *
hutch_container_idmap_new_for_mode (HutchUsernsMode mode, GError **error)
{
  g_autoptr (HutchIdMap) map = hutch_sandbox_idmap_new_for_user (error);

  if (map == NULL || mode != HUTCH_USERNS_KEEP_ID)
    return g_steal_pointer (&map);
  /* The user alone at its own id leaves no id for the image's root: an
   * image's files could not be owned as it says. Nor is keep-id needed
   * then: the default map's root is the user already. */
  if (map->single)
    return hutch_throw (error, HUTCH_ERROR_HOST_UNSUPPORTED,
                        "--userns=keep-id needs subordinate ids for the image's own users, and "
                        "you have none (see \"hutch check\"); without them the container's root "
                        "is you already, so files it writes to a bind mount are yours"),
           NULL;
  hutch_sandbox_idmap_set_keep_id (map);
  return g_steal_pointer (&map);
}

HutchIdMap *
hutch_container_idmap_new (const HutchContainer *c, GError **error)
{
  return hutch_container_idmap_new_for_mode (c->userns, error);
}

/* Whether @name in layer @diff_fd hides what the layers below have: a
 * whiteout (a 0/0 character device, layer/unpack.c), or a parent made
 * opaque. */
static gboolean
hidden_in_layer (int diff_fd, const char *dir, const char *name)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  hutch_autofd int fd = hutch_util_open_in_root (diff_fd, path, O_PATH | O_NOFOLLOW, 0, NULL);
  hutch_autofd int dfd = -1;
  struct stat st;
  char v = 0;

  if (fd >= 0 && fstat (fd, &st) == 0 && S_ISCHR (st.st_mode) && st.st_rdev == 0)
    return TRUE;
  dfd = hutch_util_open_in_root (diff_fd, dir, O_RDONLY | O_DIRECTORY, 0, NULL);
  return dfd >= 0 && fgetxattr (dfd, "user.overlay.opaque", &v, 1) == 1 && v == 'y';
}

/* /@dir/@name as the image has it: from the top layer that has it, unless
 * a layer above hides it; NULL when the image has none (or not a plain
 * file). Paths in a layer are the image's: resolved beneath it. */
static char *
image_file_read (char **lowerdirs, const char *dir, const char *name)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);

  for (char **l = lowerdirs; l != NULL && *l != NULL; l++)
    {
      hutch_autofd int diff = open (*l, O_PATH | O_DIRECTORY | O_CLOEXEC);
      hutch_autofd int fd = -1;
      struct stat st;
      gsize len;

      if (diff < 0)
        return NULL;
      /* O_NONBLOCK: a FIFO planted there cannot hang us */
      fd = hutch_util_open_in_root (diff, path, O_RDONLY | O_NONBLOCK | O_NOCTTY, 0, NULL);
      if (fd >= 0 && fstat (fd, &st) == 0 && S_ISREG (st.st_mode))
        return hutch_util_read_all (fd, DB_MAX, &len, NULL);
      if (fd >= 0 || hidden_in_layer (diff, dir, name))
        return NULL;
    }
  return NULL;
}

/* Whether a line of @db (passwd or group) has @id as its third field. */
static gboolean
db_has_id (const char *db, guint32 id)
{
  g_auto (GStrv) lines = g_strsplit (db != NULL ? db : "", "\n", -1);

  for (char **l = lines; *l != NULL; l++)
    {
      g_auto (GStrv) f = g_strsplit (*l, ":", 4);
      guint64 v;
      if (g_strv_length (f) >= 3 && g_ascii_string_to_unsigned (f[2], 10, 0, G_MAXUINT32, &v, NULL)
          && v == id)
        return TRUE;
    }
  return FALSE;
}

/* A field of a passwd line: no ':' or newline of its own. */
static char *
field (const char *text, const char *fallback)
{
  if (text == NULL || *text == '\0' || strpbrk (text, ":\n") != NULL)
    return g_strdup (fallback);
  return g_strdup (text);
}

/* @db with @line after it, unless @db lists @id already. */
static char *
db_with (const char *db, guint32 id, const char *line)
{
  gsize n = db != NULL ? strlen (db) : 0;

  if (db_has_id (db, id))
    return g_strdup (db);
  return g_strconcat (db != NULL ? db : "", n > 0 && db[n - 1] != '\n' ? "\n" : "", line, NULL);
}

/* Whether a -v or --mount of @spec covers @path (is it, or above it). */
static gboolean
mounted_over (const HutchSandboxSpec *spec, const char *path)
{
  for (guint i = 0; spec->mounts != NULL && i < spec->mounts->len; i++)
    {
      const HutchSandboxMount *m = spec->mounts->pdata[i];
      g_autofree char *t = g_canonicalize_filename (m->target, "/");
      gsize n = strlen (t);
      if (strcmp (t, "/") == 0 || (strncmp (path, t, n) == 0 && (path[n] == '/' || path[n] == '\0')))
        return TRUE;
    }
  return FALSE;
}

/* The bind of <dir>/@name over /etc/@name, among @spec's mounts in their
 * order (shallowest first, as create.c sorts them). */
static void
add_bind (HutchSandboxSpec *spec, const char *dir, const char *name, gboolean readonly)
{
  HutchSandboxMount *m = g_new0 (HutchSandboxMount, 1);
  guint at = 0;

  m->source = g_build_filename (dir, name, NULL);
  m->target = g_build_filename ("/etc", name, NULL);
  m->readonly = readonly;
  /* depth 2: after every mount at depth 1 or 2 */
  for (guint i = 0; i < spec->mounts->len; i++)
    {
      const HutchSandboxMount *o = spec->mounts->pdata[i];
      g_autofree char *t = g_canonicalize_filename (o->target, "/");
      guint depth = 0;
      for (const char *c = t; *c != '\0'; c++)
        depth += *c == '/' && c[1] != '\0';
      if (depth <= 2)
        at = i + 1;
    }
  g_ptr_array_insert (spec->mounts, (gint) at, m);
}

gboolean
hutch_container_keep_id_prepare (const char *dir, HutchSandboxSpec *spec, gboolean user_given,
                                 gboolean read_only, GError **error)
{
  guint32 uid = (guint32) getuid (), gid = (guint32) getgid ();
  g_autofree char *name = field (g_get_user_name (), "user");
  g_autofree char *gecos = field (g_get_real_name (), "");
  g_autofree char *host_home = field (g_get_home_dir (), "/");
  /* podman's choice: the user's own home when a mount brings it in, else
   * the working directory (a CI job's checkout) */
  g_autofree char *home = field (mounted_over (spec, host_home) ? host_home : spec->cwd, "/");
  g_autofree char *passwd_line = g_strdup_printf ("%s:x:%u:%u:%s:%s:/bin/sh\n", name, uid, gid,
                                                  strcmp (gecos, "Unknown") == 0 ? "" : gecos, home);
  g_autofree char *group_line = g_strdup_printf ("%s:x:%u:\n", name, gid);
  static const char *const names[] = { "passwd", "group" };

  if (!user_given)
    {
      g_free (spec->user);
      spec->user = g_strdup_printf ("%u:%u", uid, gid);
    }
  for (gsize i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autofree char *target = g_build_filename ("/etc", names[i], NULL);
      g_autofree char *image = NULL, *text = NULL, *path = NULL;
      /* the user's own /etc (or file) wins, as with podman */
      if (mounted_over (spec, target))
        continue;
      image = image_file_read (spec->lowerdirs, "/etc", names[i]);
      text = i == 0 ? db_with (image, uid, passwd_line) : db_with (image, gid, group_line);
      path = g_build_filename (dir, names[i], NULL);
      if (!g_file_set_contents (path, text, -1, error))
        return g_prefix_error (error, "--userns=keep-id: "), FALSE;
      add_bind (spec, dir, names[i], read_only);
    }
  return TRUE;
}

/* As root of the container's user namespace: upper/ and rootfs/ of the
 * container directory @data given to that root. */
static gboolean
own_root_in_userns (gpointer data, GError **error)
{
  const char *dir = data;
  static const char *const names[] = { "upper", "rootfs" };
  hutch_autofd int dfd = open (dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

  if (dfd < 0)
    return hutch_throw_errno (error, "opening %s", dir);
  for (gsize i = 0; i < G_N_ELEMENTS (names); i++)
    if (fchownat (dfd, names[i], 0, 0, AT_SYMLINK_NOFOLLOW) < 0)
      return hutch_throw_errno (error, "giving %s/%s to the container's root", dir, names[i]);
  return TRUE;
}

gboolean
hutch_container_keep_id_own_root (const HutchIdMap *map, const char *dir, GError **error)
{
  return hutch_sandbox_userns_run (map, own_root_in_userns, (gpointer) dir, error);
}
