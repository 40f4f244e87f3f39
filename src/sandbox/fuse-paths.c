/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The directories fuse-overlayfs is given (its -o lowerdir=, upperdir=,
 * workdir=). libfuse splits -o at ',' and takes a backslash away; then
 * fuse-overlayfs splits lowerdir at ':', and before 1.15 (Debian 12 has
 * 1.10) splits the realpath() of upperdir at ':' again, which no escaping
 * survives. A store whose path has ',', ':' or '\' is therefore shown to
 * it where the path has none: the directory that holds them all (the
 * store) is bound over /tmp in a mount namespace of the server's own (it
 * has no use for /tmp, and nothing else sees the bind), and the paths are
 * given from there. One bind for all: renames between upper and work
 * must not cross mounts (EXDEV). */
#include "config.h"

#include <errno.h>
#include <sched.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include "sandbox-private.h"

#define PLAIN_DIR "/tmp"

static gboolean
is_plain (const char *path)
{
  return strpbrk (path, ",:\\") == NULL;
}

/* The longest directory prefix @dir and @path share, in place. */
static void
common_dir (char *dir, const char *path)
{
  gsize n = 0, last = 0;

  while (dir[n] != '\0' && dir[n] == path[n])
    if (dir[n++] == '/')
      last = n - 1;
  if (dir[n] == '\0' && (path[n] == '/' || path[n] == '\0'))
    return; /* @dir holds @path, or is it */
  dir[last] = '\0';
}

static const char *
under (const char *path, const char *dir)
{
  return path + strlen (dir) + (path[strlen (dir)] == '/');
}

void
hutch_sandbox_fuse_paths_clear (HutchFusePaths *p)
{
  g_clear_pointer (&p->dir, g_free);
  if (p->opts != NULL)
    g_string_free (g_steal_pointer (&p->opts), TRUE);
}

gboolean
hutch_sandbox_fuse_paths_prepare (const HutchSandboxSpec *spec, HutchFusePaths *p, GError **error)
{
  gboolean plain = is_plain (spec->upperdir) && is_plain (spec->workdir);
  g_autofree char *dir = g_path_get_dirname (spec->upperdir);
  const char *base = "";

  memset (p, 0, sizeof *p);
  p->opts = g_string_new ("lowerdir=");
  common_dir (dir, spec->workdir);
  for (guint i = 0; spec->lowerdirs[i] != NULL; i++)
    {
      plain = plain && is_plain (spec->lowerdirs[i]);
      common_dir (dir, spec->lowerdirs[i]);
    }
  if (!plain)
    {
      /* what is left under it must be plain: layers/<id>/diff and
       * containers/<id>/upper are */
      gboolean ok = dir[0] == '/' && dir[1] != '\0' && is_plain (under (spec->upperdir, dir))
                    && is_plain (under (spec->workdir, dir));
      for (guint i = 0; ok && spec->lowerdirs[i] != NULL; i++)
        ok = is_plain (under (spec->lowerdirs[i], dir));
      if (!ok)
        return hutch_throw (error, HUTCH_ERROR_HOST_UNSUPPORTED,
                            "fuse-overlayfs cannot be given the directories of %s (',', ':' or "
                            "'\\' in their paths)",
                            spec->upperdir);
      p->dir = g_strdup (dir);
      base = PLAIN_DIR "/";
    }
  for (guint i = 0; spec->lowerdirs[i] != NULL; i++)
    g_string_append_printf (p->opts, "%s%s%s", i > 0 ? ":" : "", base,
                            plain ? spec->lowerdirs[i] : under (spec->lowerdirs[i], dir));
  g_string_append_printf (p->opts, ",upperdir=%s%s,workdir=%s%s", base,
                          plain ? spec->upperdir : under (spec->upperdir, dir), base,
                          plain ? spec->workdir : under (spec->workdir, dir));
  return TRUE;
}

gboolean
hutch_sandbox_fuse_paths_enter (const HutchFusePaths *p, const char *rootfs)
{
  if (p->dir == NULL)
    return TRUE;
  /* The namespace's copy of the FUSE mount would keep the file system,
   * and so its server, alive after the container unmounts it: it goes,
   * before /tmp (where it may be) is covered. mount(2) and umount2(2)
   * take their paths as they are: no separators there. */
  return unshare (CLONE_NEWNS) == 0 && umount2 (rootfs, MNT_DETACH) == 0
         && mount (p->dir, PLAIN_DIR, NULL, MS_BIND, NULL) == 0;
}
