/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A new image config from an old one (commit) or from nothing (import):
 * the Dockerfile-style changes of `-c` (CMD, ENTRYPOINT, ENV, WORKDIR,
 * USER, EXPOSE, LABEL, STOPSIGNAL, VOLUME) applied to its "config" object,
 * the new layers' diff_ids appended and a history entry added. Other
 * members of the old document are kept as they were. Pure: no I/O. */
#include "config.h"

#include <string.h>

#include "image.h"

/* The "config" object being edited: its members in order, each value
 * borrowed from the old document or owned by @owned. */
typedef struct
{
  GPtrArray *keys;   /* of char*, owned */
  GPtrArray *values; /* of const HutchJsonNode* */
  GPtrArray *owned;  /* of HutchJsonNode*, the values we made */
} Edit;

static void
edit_clear (Edit *e)
{
  g_ptr_array_unref (e->keys);
  g_ptr_array_unref (e->values);
  g_ptr_array_unref (e->owned);
}

static const HutchJsonNode *
edit_get (Edit *e, const char *key)
{
  for (guint i = 0; i < e->keys->len; i++)
    if (strcmp (e->keys->pdata[i], key) == 0)
      return e->values->pdata[i];
  return NULL;
}

/* Sets @key to what the writer @w holds (finished here). */
static void
edit_set (Edit *e, const char *key, HutchJsonWriter *w)
{
  g_autofree char *text = hutch_json_writer_finish (w);
  HutchJsonNode *node = hutch_json_parse (text, strlen (text), NULL);

  g_assert (node != NULL); /* our own writer's output */
  g_ptr_array_add (e->owned, node);
  for (guint i = 0; i < e->keys->len; i++)
    if (strcmp (e->keys->pdata[i], key) == 0)
      {
        e->values->pdata[i] = node;
        return;
      }
  g_ptr_array_add (e->keys, g_strdup (key));
  g_ptr_array_add (e->values, node);
}

static gboolean
bad_change (GError **error, const char *change, const char *why)
{
  return hutch_throw (error, HUTCH_ERROR_USAGE, "-c \"%s\": %s", change, why);
}

/* CMD/ENTRYPOINT/VOLUME's JSON form ["a", "b"], when @rest is one. */
static HutchJsonNode *
json_form (const char *rest)
{
  HutchJsonNode *n;

  if (*rest != '[')
    return NULL;
  n = hutch_json_parse (rest, strlen (rest), NULL);
  if (n != NULL && n->type == HUTCH_JSON_ARRAY)
    {
      for (guint i = 0; i < n->n_members; i++)
        if (n->members[i]->type != HUTCH_JSON_STRING)
          goto not_strings;
      return n;
    }
not_strings:
  if (n != NULL)
    hutch_json_node_free (n);
  return NULL;
}

/* Words as a shell would split them (quotes honoured), or NULL. */
static char **
words (const char *rest, const char *change, GError **error)
{
  g_autoptr (GError) local = NULL;
  char **argv = NULL;
  int argc;

  if (!g_shell_parse_argv (rest, &argc, &argv, &local))
    {
      bad_change (error, change, local->message);
      return NULL;
    }
  return argv;
}

static gboolean
set_command (Edit *e, const char *key, const char *rest, const char *change, GError **error)
{
  g_autoptr (HutchJsonNode) arr = json_form (rest);
  g_autoptr (HutchJsonWriter) w = hutch_json_writer_new (FALSE);

  if (*rest == '[' && arr == NULL)
    return bad_change (error, change, "not a JSON array of strings");
  if (arr != NULL)
    hutch_json_write_node (w, arr);
  else
    {
      /* the shell form, as a Dockerfile takes it */
      hutch_json_begin_array (w);
      hutch_json_string (w, "/bin/sh");
      hutch_json_string (w, "-c");
      hutch_json_string (w, rest);
      hutch_json_end_array (w);
    }
  edit_set (e, key, w);
  return TRUE;
}

/* KEY=VALUE pairs (several, quoted as a shell would), or "KEY VALUE". */
static GPtrArray *
pairs (const char *rest, const char *change, GError **error)
{
  g_autoptr (GPtrArray) out = g_ptr_array_new_with_free_func (g_free);
  const char *space = strpbrk (rest, " \t");
  const char *eq = strchr (rest, '=');
  g_auto (GStrv) argv = NULL;

  if (eq == NULL || (space != NULL && space < eq))
    {
      /* the old form: the first word is the key, the rest its value */
      if (space == NULL)
        return bad_change (error, change, "give NAME=VALUE"), NULL;
      g_ptr_array_add (out, g_strndup (rest, space - rest));
      g_ptr_array_add (out, g_strdup (g_strchug ((char *) space)));
      g_strstrip ((char *) out->pdata[1]);
      return g_steal_pointer (&out);
    }
  argv = words (rest, change, error);
  if (argv == NULL)
    return NULL;
  for (char **a = argv; *a != NULL; a++)
    {
      char *k_eq = strchr (*a, '=');
      if (k_eq == NULL || k_eq == *a)
        return bad_change (error, change, "each word must be NAME=VALUE"), NULL;
      g_ptr_array_add (out, g_strndup (*a, k_eq - *a));
      g_ptr_array_add (out, g_strdup (k_eq + 1));
    }
  return g_steal_pointer (&out);
}

static gboolean
set_env (Edit *e, const char *rest, const char *change, GError **error)
{
  g_autoptr (GPtrArray) kv = pairs (rest, change, error);
  const HutchJsonNode *old = edit_get (e, "Env");
  g_autoptr (GPtrArray) env = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (HutchJsonWriter) w = hutch_json_writer_new (FALSE);

  if (kv == NULL)
    return FALSE;
  for (guint i = 0; old != NULL && old->type == HUTCH_JSON_ARRAY && i < old->n_members; i++)
    g_ptr_array_add (env, g_strdup (old->members[i]->string));
  for (guint p = 0; p < kv->len; p += 2)
    {
      g_autofree char *prefix = g_strconcat (kv->pdata[p], "=", NULL);
      char *item = g_strconcat (prefix, kv->pdata[p + 1], NULL);
      guint i;
      for (i = 0; i < env->len; i++)
        if (g_str_has_prefix (env->pdata[i], prefix))
          break;
      if (i < env->len)
        {
          g_free (env->pdata[i]);
          env->pdata[i] = item;
        }
      else
        g_ptr_array_add (env, item);
    }
  hutch_json_begin_array (w);
  for (guint i = 0; i < env->len; i++)
    hutch_json_string (w, env->pdata[i]);
  hutch_json_end_array (w);
  edit_set (e, "Env", w);
  return TRUE;
}

static gboolean
set_labels (Edit *e, const char *rest, const char *change, GError **error)
{
  g_autoptr (GPtrArray) kv = pairs (rest, change, error);
  const HutchJsonNode *old = edit_get (e, "Labels");
  g_autoptr (HutchJsonWriter) w = hutch_json_writer_new (FALSE);

  if (kv == NULL)
    return FALSE;
  hutch_json_begin_object (w);
  for (guint i = 0; old != NULL && old->type == HUTCH_JSON_OBJECT && i < old->n_members; i++)
    {
      gboolean replaced = FALSE;
      for (guint p = 0; p < kv->len && !replaced; p += 2)
        replaced = strcmp (kv->pdata[p], old->keys[i]) == 0;
      if (!replaced)
        hutch_json_member_string (w, old->keys[i], old->members[i]->string);
    }
  for (guint p = 0; p < kv->len; p += 2)
    {
      gboolean later = FALSE;
      for (guint q = p + 2; q < kv->len && !later; q += 2)
        later = strcmp (kv->pdata[p], kv->pdata[q]) == 0;
      if (!later) /* a key given twice: the last one, and one member */
        hutch_json_member_string (w, kv->pdata[p], kv->pdata[p + 1]);
    }
  hutch_json_end_object (w);
  edit_set (e, "Labels", w);
  return TRUE;
}

/* EXPOSE and VOLUME: members of a set, {"80/tcp": {}} */
static gboolean
add_to_set (Edit *e, const char *key, char **items, GError **error)
{
  const HutchJsonNode *old = edit_get (e, key);
  g_autoptr (GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr (HutchJsonWriter) w = hutch_json_writer_new (FALSE);

  (void) error;
  hutch_json_begin_object (w);
  for (guint i = 0; old != NULL && old->type == HUTCH_JSON_OBJECT && i < old->n_members; i++)
    if (g_hash_table_add (seen, old->keys[i]))
      {
        hutch_json_key (w, old->keys[i]);
        hutch_json_begin_object (w);
        hutch_json_end_object (w);
      }
  for (char **i = items; *i != NULL; i++)
    if (g_hash_table_add (seen, *i))
      {
        hutch_json_key (w, *i);
        hutch_json_begin_object (w);
        hutch_json_end_object (w);
      }
  hutch_json_end_object (w);
  edit_set (e, key, w);
  return TRUE;
}

static gboolean
set_expose (Edit *e, const char *rest, const char *change, GError **error)
{
  g_auto (GStrv) argv = words (rest, change, error);

  if (argv == NULL)
    return FALSE;
  for (char **a = argv; *a != NULL; a++)
    {
      char *slash = strchr (*a, '/');
      char *end = NULL;
      guint64 port = g_ascii_strtoull (*a, &end, 10);
      if (end == *a || port == 0 || port > 65535 || (end != slash && *end != '\0')
          || (slash != NULL && strcmp (slash, "/tcp") != 0 && strcmp (slash, "/udp") != 0
              && strcmp (slash, "/sctp") != 0))
        return bad_change (error, change, "a port is PORT or PORT/tcp, PORT/udp, PORT/sctp");
      if (slash == NULL)
        {
          char *full = g_strconcat (*a, "/tcp", NULL);
          g_free (*a);
          *a = full;
        }
    }
  return add_to_set (e, "ExposedPorts", argv, error);
}

static gboolean
set_volume (Edit *e, const char *rest, const char *change, GError **error)
{
  g_autoptr (HutchJsonNode) arr = json_form (rest);
  g_auto (GStrv) items = NULL;

  if (arr != NULL)
    {
      items = g_new0 (char *, arr->n_members + 1);
      for (guint i = 0; i < arr->n_members; i++)
        items[i] = g_strdup (arr->members[i]->string);
    }
  else if ((items = words (rest, change, error)) == NULL)
    return FALSE;
  for (char **i = items; *i != NULL; i++)
    if (**i != '/')
      return bad_change (error, change, "a volume is an absolute path");
  return add_to_set (e, "Volumes", items, error);
}

static gboolean
set_string (Edit *e, const char *key, const char *value)
{
  g_autoptr (HutchJsonWriter) w = hutch_json_writer_new (FALSE);

  hutch_json_string (w, value);
  edit_set (e, key, w);
  return TRUE;
}

static gboolean
set_workdir (Edit *e, const char *rest)
{
  const HutchJsonNode *old = edit_get (e, "WorkingDir");
  g_autofree char *dir = NULL;

  /* relative: to the one before, as a Dockerfile's WORKDIR */
  if (*rest != '/')
    dir = g_build_filename (old != NULL && old->type == HUTCH_JSON_STRING && *old->string == '/'
                                ? old->string : "/",
                            rest, NULL);
  else
    dir = g_strdup (rest);
  return set_string (e, "WorkingDir", dir);
}

/* A member set from its JSON text (build's Shell, Healthcheck, OnBuild). */
static gboolean
set_member (Edit *e, const char *key, const char *json, GError **error)
{
  g_autoptr (HutchJsonNode) node = hutch_json_parse (json, strlen (json), error);
  g_autoptr (HutchJsonWriter) w = hutch_json_writer_new (FALSE);

  if (node == NULL)
    return g_prefix_error (error, "the config's %s: ", key), FALSE;
  hutch_json_write_node (w, node);
  edit_set (e, key, w);
  return TRUE;
}

/* One change: "INSTRUCTION ARGUMENTS" (or "INSTRUCTION=ARGUMENTS", as
 * docker also takes it). */
static gboolean
apply_change (Edit *e, const char *change, GError **error)
{
  const char *p = change;
  g_autofree char *instr = NULL;
  g_autofree char *rest = NULL;

  while (g_ascii_isspace (*p))
    p++;
  instr = g_ascii_strup (p, strcspn (p, " \t="));
  p += strlen (instr);
  if (*p == '=')
    p++;
  rest = g_strstrip (g_strdup (p));
  if (*instr == '\0')
    return bad_change (error, change, "empty; give an instruction such as CMD or ENV");
  if (!hutch_image_change_known (instr))
    return hutch_throw (error, HUTCH_ERROR_USAGE,
                        "-c \"%s\": %s is not a change hutch can make to an image; it takes "
                        "CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, STOPSIGNAL, USER, VOLUME and "
                        "WORKDIR", change, instr);
  if (*rest == '\0')
    return bad_change (error, change, "the instruction has no argument");
  if (strcmp (instr, "CMD") == 0)
    return set_command (e, "Cmd", rest, change, error);
  if (strcmp (instr, "ENTRYPOINT") == 0)
    return set_command (e, "Entrypoint", rest, change, error);
  if (strcmp (instr, "ENV") == 0)
    return set_env (e, rest, change, error);
  if (strcmp (instr, "LABEL") == 0)
    return set_labels (e, rest, change, error);
  if (strcmp (instr, "EXPOSE") == 0)
    return set_expose (e, rest, change, error);
  if (strcmp (instr, "VOLUME") == 0)
    return set_volume (e, rest, change, error);
  if (strcmp (instr, "WORKDIR") == 0)
    return set_workdir (e, rest);
  if (strcmp (instr, "USER") == 0)
    return set_string (e, "User", rest);
  return set_string (e, "StopSignal", rest); /* STOPSIGNAL */
}

gboolean
hutch_image_change_known (const char *instruction)
{
  static const char *const known[] = { "CMD",   "ENTRYPOINT", "ENV",    "EXPOSE", "LABEL",
                                       "STOPSIGNAL", "USER",  "VOLUME", "WORKDIR" };
  for (gsize i = 0; i < G_N_ELEMENTS (known); i++)
    if (g_ascii_strcasecmp (instruction, known[i]) == 0)
      return TRUE;
  return FALSE;
}

gboolean
hutch_image_changes_check (const char *const *changes, GError **error)
{
  g_autofree char *doc = hutch_image_config_derive (NULL, &(HutchImageConfigEdit){ .changes = changes },
                                                    error);
  return doc != NULL;
}

static char *
time_text (gint64 unix_time)
{
  g_autoptr (GDateTime) t = g_date_time_new_from_unix_utc (unix_time);

  return g_date_time_format (t, "%Y-%m-%dT%H:%M:%SZ");
}

static void
write_history (HutchJsonWriter *w, const HutchJsonNode *old, const HutchImageConfigEdit *edit,
               const char *created)
{
  hutch_json_key (w, "history");
  hutch_json_begin_array (w);
  for (guint i = 0; !edit->squash && old != NULL && old->type == HUTCH_JSON_ARRAY && i < old->n_members; i++)
    hutch_json_write_node (w, old->members[i]);
  for (guint i = 0; edit->empty_layer || (edit->diff_ids != NULL && edit->diff_ids[i] != NULL);
       i++)
    {
      hutch_json_begin_object (w);
      hutch_json_member_string (w, "created", created);
      if (edit->author != NULL)
        hutch_json_member_string (w, "author", edit->author);
      if (edit->created_by != NULL)
        hutch_json_member_string (w, "created_by", edit->created_by);
      if (edit->comment != NULL)
        hutch_json_member_string (w, "comment", edit->comment);
      if (edit->empty_layer)
        {
          hutch_json_key (w, "empty_layer");
          hutch_json_bool (w, TRUE);
        }
      hutch_json_end_object (w);
      if (edit->empty_layer)
        break;
    }
  hutch_json_end_array (w);
}

static void
write_rootfs (HutchJsonWriter *w, const HutchJsonNode *base, const HutchImageConfigEdit *edit)
{
  const HutchJsonNode *old = hutch_json_node_member (hutch_json_node_member (base, "rootfs"),
                                                     "diff_ids");

  hutch_json_key (w, "rootfs");
  hutch_json_begin_object (w);
  hutch_json_member_string (w, "type", "layers");
  hutch_json_key (w, "diff_ids");
  hutch_json_begin_array (w);
  for (guint i = 0; !edit->squash && old != NULL && old->type == HUTCH_JSON_ARRAY && i < old->n_members; i++)
    hutch_json_write_node (w, old->members[i]);
  for (guint i = 0; edit->diff_ids != NULL && edit->diff_ids[i] != NULL; i++)
    hutch_json_string (w, edit->diff_ids[i]);
  hutch_json_end_array (w);
  hutch_json_end_object (w);
}

char *
hutch_image_config_derive (const HutchJsonNode *base, const HutchImageConfigEdit *edit,
                           GError **error)
{
  const HutchJsonNode *cfg = hutch_json_node_member (base, "config");
  Edit e = { g_ptr_array_new_with_free_func (g_free), g_ptr_array_new (),
             g_ptr_array_new_with_free_func ((GDestroyNotify) hutch_json_node_free) };
  g_autoptr (HutchJsonWriter) w = hutch_json_writer_new (FALSE);
  g_autofree char *created = time_text (edit->created != 0 ? edit->created
                                                           : g_get_real_time () / G_USEC_PER_SEC);
  g_autoptr (HutchPlatform) host = hutch_image_platform_host ();
  static const char *const replaced[] = { "created", "author", "config", "rootfs", "history" };
  gboolean ok = TRUE;

  for (guint i = 0; cfg != NULL && cfg->type == HUTCH_JSON_OBJECT && i < cfg->n_members; i++)
    {
      g_ptr_array_add (e.keys, g_strdup (cfg->keys[i]));
      g_ptr_array_add (e.values, cfg->members[i]);
    }
  for (guint i = 0; ok && edit->changes != NULL && edit->changes[i] != NULL; i++)
    ok = apply_change (&e, edit->changes[i], error);
  for (guint i = 0; ok && edit->members != NULL && edit->members[i] != NULL
                    && edit->members[i + 1] != NULL; i += 2)
    ok = set_member (&e, edit->members[i], edit->members[i + 1], error);
  if (!ok)
    {
      edit_clear (&e);
      return NULL;
    }
  hutch_json_begin_object (w);
  hutch_json_member_string (w, "created", created);
  if (edit->author != NULL)
    hutch_json_member_string (w, "author", edit->author);
  else if (hutch_json_node_member (base, "author") != NULL)
    {
      hutch_json_key (w, "author");
      hutch_json_write_node (w, hutch_json_node_member (base, "author"));
    }
  if (base == NULL)
    {
      hutch_json_member_string (w, "architecture", host->architecture);
      if (host->variant != NULL)
        hutch_json_member_string (w, "variant", host->variant);
      hutch_json_member_string (w, "os", host->os);
    }
  for (guint i = 0; base != NULL && i < base->n_members; i++)
    {
      gboolean ours = FALSE;
      for (gsize r = 0; r < G_N_ELEMENTS (replaced) && !ours; r++)
        ours = strcmp (base->keys[i], replaced[r]) == 0;
      if (ours)
        continue;
      hutch_json_key (w, base->keys[i]);
      hutch_json_write_node (w, base->members[i]);
    }
  hutch_json_key (w, "config");
  hutch_json_begin_object (w);
  for (guint i = 0; i < e.keys->len; i++)
    {
      hutch_json_key (w, e.keys->pdata[i]);
      hutch_json_write_node (w, e.values->pdata[i]);
    }
  hutch_json_end_object (w);
  write_rootfs (w, base, edit);
  write_history (w, hutch_json_node_member (base, "history"), edit, created);
  hutch_json_end_object (w);
  edit_clear (&e);
  return hutch_json_writer_finish (w);
}
