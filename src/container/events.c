/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The event log: what hutch commands did to containers and images, a JSON
 * line each in the store's events.log (appended in one write, so lines of
 * commands at once never mix), as podman's file backend keeps them. A
 * container's end is not written there by its monitor, which runs in a
 * view of its own without the store: its "die" is read from its record,
 * which keeps the last end (so a container started many times shows its
 * last die; a removed one's is written by rm before its record goes). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "container-private.h"

#define EVENTS_FILE "events.log"
#define EVENTS_MAX_SIZE (16 << 20) /* then the older half is dropped */

void
hutch_event_free (HutchEvent *e)
{
  if (e == NULL)
    return;
  g_free (e->type);
  g_free (e->action);
  g_free (e->id);
  g_free (e->name);
  g_free (e->image);
  g_free (e->extra);
  g_free (e);
}

static char *
event_line (const HutchEvent *e)
{
  g_autoptr (HutchJsonWriter) w = hutch_json_writer_new (FALSE);
  g_autofree char *text = NULL;

  hutch_json_begin_object (w);
  hutch_json_member_int (w, "time", e->time);
  hutch_json_member_string (w, "type", e->type);
  hutch_json_member_string (w, "action", e->action);
  hutch_json_member_string (w, "id", e->id);
  if (e->name != NULL)
    hutch_json_member_string (w, "name", e->name);
  if (e->image != NULL)
    hutch_json_member_string (w, "image", e->image);
  if (e->extra != NULL)
    hutch_json_member_string (w, "extra", e->extra);
  hutch_json_end_object (w);
  text = hutch_json_writer_finish (w);
  return g_strconcat (text, "\n", NULL);
}

int
hutch_event_log_open (const HutchContext *ctx)
{
  g_autofree char *path = g_build_filename (ctx->root, EVENTS_FILE, NULL);
  int fd = open (path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
  struct stat st;

  if (fd >= 0 && fstat (fd, &st) == 0 && st.st_size > EVENTS_MAX_SIZE)
    {
      /* keep the newer half: read it, and put it in place atomically */
      g_autofree char *text = NULL;
      gsize len;
      if (g_file_get_contents (path, &text, &len, NULL) && len > EVENTS_MAX_SIZE / 2)
        {
          const char *from = strchr (text + len - EVENTS_MAX_SIZE / 2, '\n');
          if (from != NULL)
            (void) hutch_util_replace_file (path, from + 1, strlen (from + 1), 0600, FALSE, NULL);
          close (fd);
          fd = open (path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
        }
    }
  return fd;
}

void
hutch_event_write (int fd, gint64 time, const char *type, const char *action, const char *id,
                   const char *name, const char *image, const char *extra)
{
  HutchEvent e = { time != 0 ? time : g_get_real_time (), (char *) type, (char *) action, (char *) id,
                   (char *) name, (char *) image, (char *) extra };
  g_autofree char *line = NULL;

  /* an event that cannot be kept costs the user nothing else: no error */
  if (fd < 0)
    return;
  line = event_line (&e);
  (void) hutch_util_write_all (fd, line, strlen (line), NULL);
}

void
hutch_event_record (const HutchContext *ctx, gint64 time, const char *type, const char *action,
                    const char *id, const char *name, const char *image, const char *extra)
{
  hutch_autofd int fd = hutch_event_log_open (ctx);

  hutch_event_write (fd, time, type, action, id, name, image, extra);
}

void
hutch_event_container (const HutchContext *ctx, const HutchContainer *c, const char *action)
{
  hutch_event_record (ctx, 0, "container", action, c->id, c->name, c->image, NULL);
}

static HutchEvent *
event_parse (const char *line)
{
  g_autoptr (HutchJsonNode) root = hutch_json_parse (line, strlen (line), NULL);
  const HutchJsonNode *time = hutch_json_node_member (root, "time");
  HutchEvent *e;

  if (time == NULL || !time->is_int)
    return NULL;
  e = g_new0 (HutchEvent, 1);
  e->time = time->integer;
#define STR(field, key)                                                                            \
  do                                                                                               \
    {                                                                                              \
      const HutchJsonNode *n = hutch_json_node_member (root, key);                                 \
      e->field = n != NULL && n->type == HUTCH_JSON_STRING ? g_strdup (n->string) : NULL;         \
    }                                                                                              \
  while (0)
  STR (type, "type");
  STR (action, "action");
  STR (id, "id");
  STR (name, "name");
  STR (image, "image");
  STR (extra, "extra");
#undef STR
  if (e->type == NULL || e->action == NULL || e->id == NULL)
    return hutch_event_free (e), NULL;
  return e;
}

static gint
by_time (gconstpointer a, gconstpointer b)
{
  const HutchEvent *x = *(HutchEvent *const *) a, *y = *(HutchEvent *const *) b;

  return x->time < y->time ? -1 : x->time > y->time;
}

GPtrArray *
hutch_events_read (const HutchContext *ctx, gint64 since, gint64 until, gint64 *inout_offset,
                   GHashTable *died)
{
  GPtrArray *out = g_ptr_array_new_with_free_func ((GDestroyNotify) hutch_event_free);
  g_autofree char *path = g_build_filename (ctx->root, EVENTS_FILE, NULL);
  g_autofree char *text = NULL;
  g_autoptr (GPtrArray) list = NULL;
  gsize len = 0;

  if (g_file_get_contents (path, &text, &len, NULL))
    {
      gsize from = inout_offset != NULL && (gsize) *inout_offset <= len ? (gsize) *inout_offset : 0;
      char *p = text + from;
      char *nl;
      /* whole lines only: one being written is read next time */
      while ((nl = strchr (p, '\n')) != NULL)
        {
          HutchEvent *e;
          *nl = '\0';
          e = event_parse (p);
          if (e != NULL && e->time >= since && (until <= 0 || e->time <= until)
              && !(died != NULL && strcmp (e->action, "die") == 0
                   && !g_hash_table_add (died, g_strdup_printf ("%s %" G_GINT64_FORMAT, e->id, e->time))))
            g_ptr_array_add (out, g_steal_pointer (&e));
          hutch_event_free (e);
          p = nl + 1;
        }
      if (inout_offset != NULL)
        *inout_offset = (gint64) (p - text);
    }
  /* each container's last end, once (@died: the ends already given) */
  list = hutch_container_list (ctx, NULL);
  for (guint i = 0; list != NULL && i < list->len; i++)
    {
      const HutchContainer *c = list->pdata[i];
      g_autofree char *key = NULL;
      HutchEvent *e;
      if (c->finished_at == 0 || c->finished_at < since || (until > 0 && c->finished_at > until))
        continue;
      key = g_strdup_printf ("%s %" G_GINT64_FORMAT, c->id, c->finished_at);
      if (died != NULL && !g_hash_table_add (died, g_steal_pointer (&key)))
        continue;
      e = g_new0 (HutchEvent, 1);
      e->time = c->finished_at;
      e->type = g_strdup ("container");
      e->action = g_strdup ("die");
      e->id = g_strdup (c->id);
      e->name = g_strdup (c->name);
      e->image = g_strdup (c->image);
      e->extra = g_strdup_printf ("%d", c->exit_code);
      g_ptr_array_add (out, e);
    }
  g_ptr_array_sort (out, by_time);
  return out;
}
