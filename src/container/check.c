/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* system check's look at the containers: what killed commands left (the
 * tombstone of a removal, a directory without hutch.json, the record of a
 * container whose monitor was killed) and records that cannot be read, and
 * with --repair their finishing. Finishing is the sweep that the next ps or
 * create runs (remove.c), so that check and ps never disagree on what a
 * leftover is. The store's own check is store/check.c. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "container-private.h"

static HutchStoreFinding *
finding_add (GPtrArray *findings, gboolean problem, const char *id, const char *name,
             char *text, const char *fix)
{
  HutchStoreFinding *f = g_new0 (HutchStoreFinding, 1);

  f->problem = problem;
  f->object = name != NULL ? g_strdup_printf ("container %s (%.12s)", name, id)
                           : g_strdup_printf ("container %.12s", id);
  f->text = text;
  f->fix = g_strdup (fix);
  g_ptr_array_add (findings, f);
  return f;
}

static void
finding_repaired (HutchStoreFinding *f, char *what)
{
  f->repaired = TRUE;
  g_free (f->fix);
  f->fix = what;
}

/* Whether containers/@entry is held by a process at work on it (a create
 * or a removal): then it is theirs, not a leftover. */
static gboolean
held_by_other (int containers_fd, const char *entry)
{
  hutch_autofd int held = hutch_container_dir_hold (containers_fd, entry, FALSE, NULL);

  return held < 0;
}

static gboolean
exists_at (int dfd, const char *path)
{
  return faccessat (dfd, path, F_OK, AT_SYMLINK_NOFOLLOW) == 0 || errno != ENOENT;
}

/* A leftover the sweep finishes: @entry is gone once it has. */
typedef struct
{
  HutchStoreFinding *finding;
  char *entry;
} Leftover;

static void
leftover_free (Leftover *l)
{
  g_free (l->entry);
  g_free (l);
}

static void
look_at_tombstone (const HutchContext *ctx, int containers_fd, const char *entry,
                   GPtrArray *findings, GPtrArray *leftovers)
{
  const char *id = entry + strlen (HUTCH_CONTAINER_TRASH_PREFIX);
  g_autofree char *dir = g_build_filename (ctx->root, "containers", entry, NULL);
  g_autoptr (HutchContainer) c = NULL;
  Leftover *l;

  if (held_by_other (containers_fd, entry))
    return; /* its remover is at work */
  c = hutch_container_load_dir (ctx, id, dir, NULL);
  l = g_new0 (Leftover, 1);
  l->entry = g_strdup (entry);
  l->finding = finding_add (findings, FALSE, id, c != NULL ? c->name : NULL,
                            g_strdup_printf ("half-removed: its removal was killed after it "
                                             "took the container away (containers/%s)",
                                             entry),
                            "the next ps or create deletes what is left");
  g_ptr_array_add (leftovers, l);
}

static void
look_at_unmade (int containers_fd, const char *id, int *making, gboolean *tried,
                GPtrArray *findings, GPtrArray *leftovers)
{
  Leftover *l;

  /* with the making lock, no create is between making a directory and
   * holding it (as the sweep takes it) */
  if (!*tried)
    *making = hutch_container_making_lock (containers_fd, TRUE, NULL);
  *tried = TRUE;
  if (*making < 0 || held_by_other (containers_fd, id))
    return;
  {
    g_autofree char *record = g_build_filename (id, "hutch.json", NULL);
    if (exists_at (containers_fd, record))
      return; /* its create wrote it meanwhile */
  }
  l = g_new0 (Leftover, 1);
  l->entry = g_strdup (id);
  l->finding = finding_add (findings, FALSE, id, NULL,
                            g_strdup ("half-made or half-removed: its directory has no "
                                      "hutch.json (a create, or an older hutch's rm, was killed)"),
                            "the next ps or create deletes it");
  g_ptr_array_add (leftovers, l);
}

/* The record of @id: fine, or a finding (repaired with @repair). */
static void
look_at_record (const HutchContext *ctx, const char *id, gboolean repair, GPtrArray *findings)
{
  g_autoptr (GError) local = NULL;
  g_autoptr (HutchContainer) c = hutch_container_load (ctx, id, &local);
  HutchStoreFinding *f;

  if (c == NULL && g_error_matches (local, G_FILE_ERROR, G_FILE_ERROR_NOENT))
    return; /* removed meanwhile */
  if (c == NULL)
    {
      f = finding_add (findings, TRUE, id, NULL,
                       g_strdup_printf ("its record cannot be read, so no command can use or "
                                        "remove it: %s", local->message),
                       "--repair removes the container (its files are of no use without the "
                       "record)");
      g_clear_error (&local);
      if (repair && hutch_container_remove_unreadable (ctx, id, &local))
        finding_repaired (f, g_strdup ("removed"));
      else if (repair)
        {
          g_free (f->fix);
          f->fix = g_strdup_printf ("--repair could not remove it: %s", local->message);
        }
      return;
    }
  if (!c->monitor_gone)
    return;
  if (c->auto_remove)
    {
      f = finding_add (findings, FALSE, id, c->name,
                       g_strdup ("its monitor was killed before it removed the container, as "
                                 "--rm asked"),
                       "the next ps removes it");
      if (repair && hutch_container_remove_abandoned (ctx, id))
        finding_repaired (f, g_strdup ("removed"));
      return;
    }
  f = finding_add (findings, FALSE, id, c->name,
                   g_strdup ("recorded as running, but its monitor is gone (killed, or the "
                             "machine restarted): shown as exited (137)"),
                   "--repair records that end");
  if (repair)
    {
      hutch_autofd int lock = hutch_container_lock (ctx, id, NULL);
      g_autoptr (HutchContainer) again = lock >= 0 ? hutch_container_load (ctx, id, NULL) : NULL;
      /* reread under the lock: a start may have run it meanwhile */
      if (again != NULL && again->monitor_gone && hutch_container_save (ctx, again, &local))
        finding_repaired (f, g_strdup ("recorded as exited (137)"));
    }
}

void
hutch_container_check (const HutchContext *ctx, gboolean repair, GPtrArray *findings)
{
  g_autofree char *dir = g_build_filename (ctx->root, "containers", NULL);
  hutch_autofd int fd = open (dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  g_autoptr (GPtrArray) entries = fd >= 0 ? hutch_util_list_dir_at (fd, NULL) : NULL;
  g_autoptr (GPtrArray) leftovers = g_ptr_array_new_with_free_func ((GDestroyNotify) leftover_free);
  hutch_autofd int making = -1;
  gboolean tried = FALSE;

  for (guint i = 0; entries != NULL && i < entries->len; i++)
    {
      const char *entry = entries->pdata[i];
      g_autofree char *record = g_build_filename (entry, "hutch.json", NULL);
      if (g_str_has_prefix (entry, HUTCH_CONTAINER_TRASH_PREFIX)
          && hutch_container_id_valid (entry + strlen (HUTCH_CONTAINER_TRASH_PREFIX)))
        look_at_tombstone (ctx, fd, entry, findings, leftovers);
      else if (!hutch_container_id_valid (entry))
        continue;
      else if (!exists_at (fd, record))
        look_at_unmade (fd, entry, &making, &tried, findings, leftovers);
      else
        look_at_record (ctx, entry, repair, findings);
    }
  /* the sweep takes the making lock itself */
  hutch_fd_clear (&making);
  if (!repair)
    return;
  /* also the name an unreadable record's container had */
  hutch_container_sweep (ctx);
  for (guint i = 0; i < leftovers->len; i++)
    {
      Leftover *l = leftovers->pdata[i];
      if (!exists_at (fd, l->entry)) /* else the sweep warned why */
        finding_repaired (l->finding, g_strdup ("deleted"));
    }
}
