/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Where hutch keeps its store and its live state, and making sure those
 * directories are really the user's own before anything is put in them. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

gboolean
hutch_util_check_private_fd (int fd, const char *path, GError **error)
{
  struct stat st;
  uid_t uid = geteuid ();

  if (fstat (fd, &st) < 0)
    return hutch_throw_errno (error, "examining %s", path);
  if (!S_ISDIR (st.st_mode))
    return hutch_throw (error, HUTCH_ERROR_UNSAFE_PATH,
                        "%s is not a directory; remove it, or choose another directory with "
                        "--runroot or --root", path);
  if (st.st_uid != uid)
    return hutch_throw (error, HUTCH_ERROR_UNSAFE_PATH,
                        "%s belongs to uid %u, not to you (uid %u): another user could read or "
                        "steer hutch's state there; have it removed, or choose another directory "
                        "with --runroot or --root", path, (unsigned) st.st_uid, (unsigned) uid);
  if ((st.st_mode & 0022) != 0)
    return hutch_throw (error, HUTCH_ERROR_UNSAFE_PATH,
                        "%s is writable by other users (mode %04o); run \"chmod go-w %s\"", path,
                        (unsigned) (st.st_mode & 07777), path);
  return TRUE;
}

gboolean
hutch_util_ensure_private_dir (const char *path, mode_t mode, GError **error)
{
  g_autofree char *parent = g_path_get_dirname (path);
  hutch_autofd int fd = -1;

  if (g_mkdir_with_parents (parent, 0700) < 0)
    return hutch_throw_errno (error, "creating %s", parent);
  if (mkdir (path, mode) < 0 && errno != EEXIST)
    return hutch_throw_errno (error, "creating %s", path);

  /* O_NOFOLLOW: in a shared /tmp another user can plant a symlink at our
   * name before we first create it; we refuse rather than follow it. */
  fd = open (path, O_PATH | O_NOFOLLOW | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    {
      if (errno == ELOOP || errno == ENOTDIR)
        return hutch_throw (error, HUTCH_ERROR_UNSAFE_PATH,
                            "%s is not a directory (a symlink or a file is in its place, perhaps "
                            "planted by another user); remove it, or choose another directory "
                            "with --runroot or --root", path);
      return hutch_throw_errno (error, "opening %s", path);
    }
  return hutch_util_check_private_fd (fd, path, error);
}

char *
hutch_util_default_root (void)
{
  return g_build_filename (g_get_user_data_dir (), "hutch", NULL);
}

/* Whether $XDG_RUNTIME_DIR is usable by us; after "su" or "sudo -u" it still
 * names the first user's directory, which we must not use. */
static gboolean
runtime_dir_is_ours (const char *dir, char **out_why)
{
  struct stat st;

  if (stat (dir, &st) < 0)
    {
      *out_why = g_strdup_printf ("XDG_RUNTIME_DIR=%s does not exist", dir);
      return FALSE;
    }
  if (!S_ISDIR (st.st_mode) || st.st_uid != geteuid () || access (dir, W_OK | X_OK) < 0)
    {
      *out_why = g_strdup_printf ("XDG_RUNTIME_DIR=%s is not yours (it belongs to uid %u: "
                                  "was this shell started with su or sudo?)",
                                  dir, (unsigned) st.st_uid);
      return FALSE;
    }
  return TRUE;
}

char *
hutch_util_default_runroot (char **out_why)
{
  const char *xdg = g_getenv ("XDG_RUNTIME_DIR");
  g_autofree char *why = NULL;

  if (xdg != NULL && *xdg == '/' && runtime_dir_is_ours (xdg, &why))
    return g_build_filename (xdg, "hutch", NULL);
  if (why == NULL)
    why = g_strdup ("XDG_RUNTIME_DIR is not set (no systemd user session: su, cron or CI)");
  if (out_why != NULL)
    *out_why = g_steal_pointer (&why);
  return g_strdup_printf ("/tmp/hutch-run-%u", (unsigned) geteuid ());
}
