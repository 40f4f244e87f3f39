/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* hutch build: the Containerfile and the context read, the stages the
 * target needs chosen, and each instruction turned into a step (step.c)
 * or, for ARG, into the stage's scope. The final image gets --label and
 * the -t names; what failed names its file and line. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "executor.h"
#include "registry/registry.h"

/* The ARGs docker knows without an ARG instruction. */
static const char *const predefined_args[] = {
  "HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "FTP_PROXY", "ftp_proxy",
  "NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy", NULL,
};

static void context_tmp_remove (HutchBuild *b);

static void
build_clear (HutchBuild *b)
{
  g_clear_pointer (&b->file, hutch_build_file_free);
  g_free (b->file_name);
  g_free (b->prefix);
  hutch_fd_clear (&b->context_fd);
  g_free (b->context_dir);
  context_tmp_remove (b);
  if (b->download_dir != NULL)
    {
      /* files of the user's own */
      g_autoptr (GDir) d = g_dir_open (b->download_dir, 0, NULL);
      const char *n;
      while (d != NULL && (n = g_dir_read_name (d)) != NULL)
        {
          g_autofree char *p = g_build_filename (b->download_dir, n, NULL);
          (void) unlink (p);
        }
      (void) rmdir (b->download_dir);
      g_free (b->download_dir);
    }
  g_clear_pointer (&b->ignore, hutch_build_ignore_free);
  g_clear_pointer (&b->build_args, g_hash_table_unref);
  g_clear_pointer (&b->global_args, g_hash_table_unref);
  g_clear_pointer (&b->predefined, g_ptr_array_unref);
  if (b->files != NULL && b->files_changed)
    hutch_build_cache_files_save (b->ctx, b->files);
  g_clear_pointer (&b->files, g_hash_table_unref);
  for (guint i = 0; b->stage_ids != NULL && b->file_stages > i; i++)
    g_free (b->stage_ids[i]);
  g_free (b->stage_ids);
}

static void
stage_clear (HutchBuildStageState *s)
{
  g_free (s->image);
  g_clear_pointer (&s->img, hutch_store_image_free);
  g_clear_pointer (&s->args, g_hash_table_unref);
}

/* ---- the inputs ---- */

static gboolean
read_file (HutchBuild *b, GError **error)
{
  const HutchBuildOptions *o = b->o;
  g_autofree char *text = NULL;
  gsize len = 0;

  if (o->file != NULL && strcmp (o->file, "-") == 0)
    {
      text = hutch_util_read_all (STDIN_FILENO, HUTCH_BUILD_FILE_MAX_SIZE + 1, &len, error);
      b->file_name = g_strdup ("Containerfile (stdin)");
      if (text == NULL)
        return g_prefix_error (error, "reading the Containerfile from stdin: "), FALSE;
    }
  else
    {
      const char *const names[] = { "Containerfile", "Dockerfile", NULL };
      g_autofree char *path = NULL;
      hutch_autofd int fd = -1;
      if (o->file != NULL)
        path = g_strdup (o->file);
      else
        for (guint i = 0; path == NULL && names[i] != NULL; i++)
          {
            g_autofree char *p = g_build_filename (b->context_dir, names[i], NULL);
            if (access (p, F_OK) == 0)
              path = g_steal_pointer (&p);
          }
      if (path == NULL)
        return hutch_throw (error, HUTCH_ERROR_NOT_FOUND,
                            "the context %s has no Containerfile or Dockerfile: write one, or "
                            "name it with -f", b->context_dir);
      fd = open (path, O_RDONLY | O_CLOEXEC);
      if (fd < 0)
        return hutch_throw_errno (error, "the Containerfile %s", path);
      text = hutch_util_read_all (fd, HUTCH_BUILD_FILE_MAX_SIZE + 1, &len, error);
      if (text == NULL)
        return g_prefix_error (error, "reading %s: ", path), FALSE;
      b->file_name = o->file != NULL ? g_strdup (o->file) : g_path_get_basename (path);
    }
  b->file = hutch_build_file_parse (text, len, b->file_name, error);
  return b->file != NULL;
}

typedef struct
{
  int dir_fd;
  guint64 id_count;
} StdinContext;

static gboolean
unpack_stdin (gpointer data, GError **error)
{
  StdinContext *c = data;
  HutchLayerOptions opts = { .what = "the build context from stdin", .max_bytes = G_MAXUINT64,
                             .max_file_size = G_MAXUINT64, .id_count = c->id_count,
                             .squash_owners = TRUE };

  return hutch_build_unpack_stream (c->dir_fd, STDIN_FILENO, &opts, FALSE, error);
}

/* "-": the context is a tar (plain, gzip or zstd) on stdin, unpacked into
 * a directory of our own, every file the user's (as root of a user
 * namespace, owners squashed to it), removed after the build. */
static gboolean
context_from_stdin (HutchBuild *b, GError **error)
{
  g_autoptr (HutchIdMap) map = hutch_sandbox_idmap_new_for_user (error);
  hutch_autofd int fd = -1;
  StdinContext c;

  if (map == NULL)
    return FALSE;
  if (b->o->file != NULL && strcmp (b->o->file, "-") == 0)
    return hutch_throw (error, HUTCH_ERROR_USAGE,
                        "the Containerfile and the context cannot both come from stdin: give "
                        "the Containerfile in the context's tar, or -f FILE");
  b->context_tmp = g_dir_make_tmp ("hutch-build-XXXXXX", error);
  if (b->context_tmp == NULL)
    return FALSE;
  b->context_dir = g_strdup (b->context_tmp);
  fd = open (b->context_tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return hutch_throw_errno (error, "%s", b->context_tmp);
  c.dir_fd = fd;
  c.id_count = hutch_sandbox_idmap_size (map);
  return hutch_sandbox_userns_run (map, unpack_stdin, &c, error);
}

static void
context_tmp_remove (HutchBuild *b)
{
  g_autoptr (HutchIdMap) map = NULL;
  g_autofree char *parent = NULL, *base = NULL;
  const char *names[2] = { NULL, NULL };
  hutch_autofd int dfd = -1;
  g_autoptr (GError) local = NULL;

  if (b->context_tmp == NULL)
    return;
  parent = g_path_get_dirname (b->context_tmp);
  base = g_path_get_basename (b->context_tmp);
  names[0] = base;
  dfd = open (parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  map = hutch_sandbox_idmap_new_for_user (NULL);
  if (dfd < 0 || map == NULL || !hutch_sandbox_userns_remove_at (map, dfd, names, &local))
    g_warning ("removing the build context %s: %s", b->context_tmp,
               local != NULL ? local->message : g_strerror (errno));
  g_clear_pointer (&b->context_tmp, g_free);
}

static gboolean
open_context (HutchBuild *b, GError **error)
{
  hutch_autofd int fd = -1;
  g_autofree char *text = NULL;
  gsize len;

  if (strcmp (b->o->context, "-") == 0 && !context_from_stdin (b, error))
    return FALSE;
  if (b->context_dir == NULL)
    b->context_dir = g_canonicalize_filename (b->o->context, NULL);
  b->context_fd = open (b->context_dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (b->context_fd < 0)
    return hutch_throw_errno (error, "the build context %s", b->o->context);
  fd = hutch_util_open_beneath (b->context_fd, ".dockerignore", O_RDONLY | O_CLOEXEC, 0, NULL);
  if (fd < 0)
    return TRUE;
  text = hutch_util_read_all (fd, 4 << 20, &len, error);
  if (text == NULL)
    return g_prefix_error (error, "%s/.dockerignore: ", b->context_dir), FALSE;
  b->ignore = hutch_build_ignore_parse (text, len, error);
  if (b->ignore == NULL)
    return g_prefix_error (error, "%s/.dockerignore: ", b->context_dir), FALSE;
  return TRUE;
}

static gboolean
parse_build_args (HutchBuild *b, GError **error)
{
  b->build_args = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  b->predefined = g_ptr_array_new_with_free_func (g_free);
  for (char **a = b->o->build_args; a != NULL && *a != NULL; a++)
    {
      const char *eq = strchr (*a, '=');
      g_autofree char *name = eq != NULL ? g_strndup (*a, eq - *a) : g_strdup (*a);
      const char *value = eq != NULL ? eq + 1 : g_getenv (name);
      if (*name == '\0')
        return hutch_throw (error, HUTCH_ERROR_USAGE, "--build-arg \"%s\": give NAME=VALUE", *a);
      if (value == NULL)
        continue; /* NAME alone, and not set here: as docker, not given */
      if (g_strv_contains (predefined_args, name))
        g_ptr_array_add (b->predefined, g_strconcat (name, "=", value, NULL));
      g_hash_table_replace (b->build_args, g_steal_pointer (&name), g_strdup (value));
    }
  return TRUE;
}

static const char *
global_lookup (const char *name, gpointer data)
{
  HutchBuild *b = data;

  return g_hash_table_lookup (b->global_args, name);
}

/* ARG NAME[=DEFAULT]... into @scope: the --build-arg value, else the
 * default expanded, else (@fallback) the global ARG's. */
static gboolean
declare_args (HutchBuild *b, const HutchBuildInstruction *ins, HutchBuildLookup lookup,
              gpointer data, GHashTable *scope, GHashTable *fallback, GError **error)
{
  g_autoptr (GPtrArray) pairs = hutch_build_expand_pairs (ins->args, b->file->escape, FALSE, TRUE,
                                                          lookup, data, error);

  if (pairs == NULL)
    return g_prefix_error (error, "%s:%u: %s: ", b->file_name, ins->line, ins->original), FALSE;
  for (guint i = 0; i + 1 < pairs->len; i += 2)
    {
      const char *name = pairs->pdata[i];
      const char *value = g_hash_table_lookup (b->build_args, name);
      if (value == NULL)
        value = pairs->pdata[i + 1];
      if (value == NULL && fallback != NULL)
        value = g_hash_table_lookup (fallback, name);
      g_hash_table_replace (scope, g_strdup (name), g_strdup (value));
    }
  return TRUE;
}

/* ---- the stages ---- */

/* The stage @ref names (its name, or its index), before @before; -1. */
static int
stage_named (const HutchBuild *b, const char *ref, guint before)
{
  char *end = NULL;
  guint64 n = g_ascii_strtoull (ref, &end, 10);

  if (*ref != '\0' && *end == '\0')
    return n < before ? (int) n : -1;
  for (guint i = 0; i < before; i++)
    {
      const HutchBuildStage *st = b->file->stages->pdata[i];
      if (st->name != NULL && g_ascii_strcasecmp (st->name, ref) == 0)
        return (int) i;
    }
  return -1;
}

static const char *
flag_value (const HutchBuildInstruction *ins, const char *name)
{
  for (guint i = 0; ins->flags != NULL && i < ins->flags->len; i++)
    {
      const HutchBuildFlag *f = ins->flags->pdata[i];
      if (strcmp (f->name, name) == 0)
        return f->value != NULL ? f->value : "";
    }
  return NULL;
}

/* Which stages the target needs: itself, and those its FROM and COPY
 * --from name, transitively. */
static gboolean *
needed_stages (HutchBuild *b, guint target)
{
  gboolean *needed = g_new0 (gboolean, b->file->stages->len);

  needed[target] = TRUE;
  for (int i = (int) target; i >= 0; i--)
    {
      const HutchBuildStage *st = b->file->stages->pdata[i];
      int dep;
      if (!needed[i])
        continue;
      if ((dep = stage_named (b, st->base, i)) >= 0)
        needed[dep] = TRUE;
      for (guint k = 0; k < st->instructions->len; k++)
        {
          const HutchBuildInstruction *ins = st->instructions->pdata[k];
          const char *from = ins->kind == HUTCH_BUILD_COPY ? flag_value (ins, "from") : NULL;
          if (from == NULL)
            continue;
          if (strchr (from, '$') != NULL) /* known only once expanded: all before */
            for (int j = 0; j < i; j++)
              needed[j] = TRUE;
          else if ((dep = stage_named (b, from, i)) >= 0)
            needed[dep] = TRUE;
        }
    }
  return needed;
}

static gboolean
step_from (HutchBuild *b, HutchBuildStageState *s, GError **error)
{
  const HutchBuildStage *st = s->stage;
  g_autofree char *base = hutch_build_expand_word (st->base, b->file->escape, global_lookup, b,
                                                   error);
  g_autoptr (HutchStore) store = NULL;
  g_autoptr (HutchStoreImage) img = NULL;
  int dep;

  if (base == NULL)
    return g_prefix_error (error, "%s:%u: %s: ", b->file_name, st->line, st->from->original), FALSE;
  if (g_ascii_strcasecmp (base, "scratch") == 0)
    return TRUE;
  if ((dep = stage_named (b, base, s->index)) >= 0)
    return b->stage_ids[dep] == NULL || hutch_build_stage_set_image (s, b->stage_ids[dep], error);
  if (b->o->pull_func != NULL
      && !b->o->pull_func (b->ctx, base, b->o->pull != NULL ? b->o->pull : "missing",
                           b->o->pull_data, error))
    return g_prefix_error (error, "%s:%u: FROM %s: ", b->file_name, st->line, base), FALSE;
  store = hutch_store_open (b->ctx->root, FALSE, error);
  if (store == NULL || (img = hutch_store_image_lookup (store, base, NULL, error)) == NULL)
    return g_prefix_error (error, "%s:%u: FROM %s: ", b->file_name, st->line, base), FALSE;
  return hutch_build_stage_set_image (s, hutch_store_image_id (img), error);
}

/* ---- the instructions ---- */

static char *
expand (HutchBuildStageState *s, const HutchBuildInstruction *ins, const char *text, GError **error)
{
  char *out = hutch_build_expand_word (text, s->b->file->escape, hutch_build_stage_lookup (), s,
                                       error);
  if (out == NULL)
    g_prefix_error (error, "%s:%u: %s: ", s->b->file_name, ins->line, ins->original);
  return out;
}

static char **
expand_words (HutchBuildStageState *s, const HutchBuildInstruction *ins, GError **error)
{
  char **out;

  if (ins->json)
    {
      g_autoptr (GPtrArray) words = g_ptr_array_new_with_free_func (g_free);
      for (char **a = ins->argv; *a != NULL; a++)
        {
          char *w = expand (s, ins, *a, error);
          if (w == NULL)
            return NULL;
          g_ptr_array_add (words, w);
        }
      g_ptr_array_add (words, NULL);
      return (char **) g_ptr_array_free (g_steal_pointer (&words), FALSE);
    }
  out = hutch_build_expand_words (ins->args, s->b->file->escape, hutch_build_stage_lookup (), s,
                                  error);
  if (out == NULL)
    g_prefix_error (error, "%s:%u: %s: ", s->b->file_name, ins->line, ins->original);
  return out;
}

static char *
json_strv (char **items)
{
  g_autoptr (HutchJsonWriter) w = hutch_json_writer_new (FALSE);

  hutch_json_begin_array (w);
  for (char **i = items; i != NULL && *i != NULL; i++)
    hutch_json_string (w, *i);
  hutch_json_end_array (w);
  return hutch_json_writer_finish (w);
}

/* CMD and ENTRYPOINT: the exec form as is, the shell form through SHELL. */
static char *
command_json (HutchBuildStageState *s, const HutchBuildInstruction *ins)
{
  const HutchJsonNode *shell = hutch_build_stage_config_member (s, "Shell");
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();

  if (ins->json)
    return json_strv (ins->argv);
  if (shell != NULL && shell->type == HUTCH_JSON_ARRAY && shell->n_members > 0)
    for (guint i = 0; i < shell->n_members; i++)
      g_ptr_array_add (argv, shell->members[i]->type == HUTCH_JSON_STRING
                                 ? shell->members[i]->string : (char *) "");
  else
    {
      g_ptr_array_add (argv, (char *) "/bin/sh");
      g_ptr_array_add (argv, (char *) "-c");
    }
  g_ptr_array_add (argv, ins->args);
  g_ptr_array_add (argv, NULL);
  return json_strv ((char **) argv->pdata);
}

/* ENV and LABEL as commit's changes: one quoted K=V word each. */
static gboolean
pairs_change (HutchBuildStageState *s, const HutchBuildInstruction *ins, const char *what,
              GPtrArray *changes, GError **error)
{
  g_autoptr (GPtrArray) pairs = hutch_build_expand_pairs (ins->args, s->b->file->escape, TRUE, FALSE,
                                                          hutch_build_stage_lookup (), s, error);
  g_autoptr (GString) change = g_string_new (what);

  if (pairs == NULL)
    return g_prefix_error (error, "%s:%u: %s: ", s->b->file_name, ins->line, ins->original), FALSE;
  for (guint i = 0; i + 1 < pairs->len; i += 2)
    {
      g_autofree char *kv = g_strconcat (pairs->pdata[i], "=",
                                         pairs->pdata[i + 1] != NULL ? (char *) pairs->pdata[i + 1] : "",
                                         NULL);
      g_autofree char *quoted = g_shell_quote (kv);
      g_string_append_printf (change, " %s", quoted);
    }
  g_ptr_array_add (changes, g_string_free (g_steal_pointer (&change), FALSE));
  return TRUE;
}

/* A Go duration ("30s", "1m30s", "500ms") in nanoseconds; -1 when not one. */
static gint64
parse_duration (const char *text)
{
  static const struct { const char *unit; gint64 ns; } units[] = {
    { "ns", 1 }, { "us", 1000 }, { "ms", 1000000 }, { "s", 1000000000 },
    { "m", G_GINT64_CONSTANT (60000000000) }, { "h", G_GINT64_CONSTANT (3600000000000) },
  };
  gint64 total = 0;
  const char *p = text;

  if (*p == '\0')
    return -1;
  while (*p != '\0')
    {
      char *end;
      double v = g_ascii_strtod (p, &end);
      gsize best = 0;
      gint64 ns = 0;
      if (end == p)
        return -1;
      for (gsize u = 0; u < G_N_ELEMENTS (units); u++)
        if (g_str_has_prefix (end, units[u].unit) && strlen (units[u].unit) > best)
          best = strlen (units[u].unit), ns = units[u].ns;
      if (best == 0)
        return -1;
      total += (gint64) (v * ns);
      p = end + best;
    }
  return total;
}

static char *
healthcheck_json (HutchBuildStageState *s, const HutchBuildInstruction *ins, GError **error)
{
  static const char *const durations[][2] = {
    { "interval", "Interval" }, { "timeout", "Timeout" }, { "start-period", "StartPeriod" },
    { "start-interval", "StartInterval" },
  };
  g_autoptr (HutchJsonWriter) w = hutch_json_writer_new (FALSE);
  g_autoptr (HutchJsonNode) exec = NULL;
  const char *rest = ins->args;
  const char *retries;

  hutch_json_begin_object (w);
  if (g_ascii_strcasecmp (rest, "NONE") == 0)
    {
      hutch_json_key (w, "Test");
      hutch_json_begin_array (w);
      hutch_json_string (w, "NONE");
      hutch_json_end_array (w);
      hutch_json_end_object (w);
      return hutch_json_writer_finish (w);
    }
  if (g_ascii_strncasecmp (rest, "CMD", 3) != 0 || !g_ascii_isspace (rest[3]))
    return hutch_throw (error, HUTCH_ERROR_USAGE,
                        "%s:%u: HEALTHCHECK takes NONE, or CMD and a command: %s",
                        s->b->file_name, ins->line, ins->original), NULL;
  rest += 3;
  while (g_ascii_isspace (*rest))
    rest++;
  exec = *rest == '[' ? hutch_json_parse (rest, strlen (rest), NULL) : NULL;
  hutch_json_key (w, "Test");
  hutch_json_begin_array (w);
  if (exec != NULL && exec->type == HUTCH_JSON_ARRAY)
    {
      hutch_json_string (w, "CMD");
      for (guint i = 0; i < exec->n_members; i++)
        hutch_json_string (w, exec->members[i]->type == HUTCH_JSON_STRING ? exec->members[i]->string : "");
    }
  else
    {
      hutch_json_string (w, "CMD-SHELL");
      hutch_json_string (w, rest);
    }
  hutch_json_end_array (w);
  for (gsize i = 0; i < G_N_ELEMENTS (durations); i++)
    {
      const char *v = flag_value (ins, durations[i][0]);
      gint64 ns;
      if (v == NULL)
        continue;
      if ((ns = parse_duration (v)) < 0)
        return hutch_throw (error, HUTCH_ERROR_USAGE,
                            "%s:%u: HEALTHCHECK --%s=%s is not a duration such as 30s or 1m30s",
                            s->b->file_name, ins->line, durations[i][0], v), NULL;
      hutch_json_member_int (w, durations[i][1], ns);
    }
  if ((retries = flag_value (ins, "retries")) != NULL)
    hutch_json_member_int (w, "Retries", g_ascii_strtoll (retries, NULL, 10));
  hutch_json_end_object (w);
  return hutch_json_writer_finish (w);
}

static char *
onbuild_json (HutchBuildStageState *s, const HutchBuildInstruction *ins)
{
  const HutchJsonNode *old = hutch_build_stage_config_member (s, "OnBuild");
  g_autoptr (HutchJsonWriter) w = hutch_json_writer_new (FALSE);
  const char *trigger = ins->inner != NULL ? ins->inner->original : ins->args;

  hutch_json_begin_array (w);
  for (guint i = 0; old != NULL && old->type == HUTCH_JSON_ARRAY && i < old->n_members; i++)
    hutch_json_write_node (w, old->members[i]);
  hutch_json_string (w, trigger);
  hutch_json_end_array (w);
  return hutch_json_writer_finish (w);
}

/* ADD URL: the file, fetched into a directory of our own that is then
 * the step's source (mode 0600 and the server's Last-Modified, as docker;
 * never unpacked). */
static gboolean
download (HutchBuild *b, HutchBuildCopy *cp, GError **error)
{
  const char *url = cp->sources[0];
  const char *path = strstr (url, "://") + 3;
  g_autofree char *name = NULL, *file = NULL;
  hutch_autofd int fd = -1;
  gint64 mtime = 0;
  const char *slash = strchr (path, '/');
  const char *end;

  if (b->download_dir == NULL && (b->download_dir = g_dir_make_tmp ("hutch-add-XXXXXX", error)) == NULL)
    return FALSE;
  /* the last component of the URL's path, without its query */
  end = slash != NULL ? slash + strcspn (slash, "?#") : path + strlen (path);
  name = slash != NULL ? g_strndup (slash, end - slash) : g_strdup ("");
  {
    char *last = strrchr (name, '/');
    char *base = g_strdup (last != NULL ? last + 1 : name);
    g_free (name);
    name = base;
  }
  if (*name == '\0' || strcmp (name, ".") == 0 || strcmp (name, "..") == 0)
    {
      if (cp->dest_is_dir)
        return hutch_throw (error, HUTCH_ERROR_USAGE,
                            "%s: %s names no file: give the destination's file name", cp->what, url);
      g_free (name);
      name = g_strdup ("download");
    }
  file = g_build_filename (b->download_dir, name, NULL);
  fd = open (file, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0)
    return hutch_throw_errno (error, "%s", file);
  if (!hutch_registry_fetch_url (url, fd, HUTCH_LAYER_DEFAULT_MAX_FILE, &mtime, error))
    return g_prefix_error (error, "%s: ", cp->what), FALSE;
  if (mtime > 0)
    {
      struct timespec times[2] = { { mtime, 0 }, { mtime, 0 } };
      (void) futimens (fd, times);
    }
  hutch_fd_clear (&fd);
  cp->source_fd = open (b->download_dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (cp->source_fd < 0)
    return hutch_throw_errno (error, "%s", b->download_dir);
  g_free (cp->sources[0]);
  cp->sources[0] = g_steal_pointer (&name);
  cp->add = FALSE; /* a download is not unpacked */
  return TRUE;
}

static gboolean
copy_instruction (HutchBuildStageState *s, const HutchBuildInstruction *ins, GError **error)
{
  HutchBuild *b = s->b;
  g_auto (HutchBuildCopy) cp = { 0 };
  g_auto (GStrv) words = NULL;
  const char *from = flag_value (ins, "from");
  const char *chown = flag_value (ins, "chown");
  const char *chmod = flag_value (ins, "chmod");
  const char *wd = NULL;
  const HutchJsonNode *wdn = hutch_build_stage_config_member (s, "WorkingDir");
  guint n;

  cp.ins = ins;
  cp.source_fd = -1;
  cp.add = ins->kind == HUTCH_BUILD_ADD;
  cp.what = g_strdup_printf ("%s:%u: %s", b->file_name, ins->line, hutch_build_kind_name (ins->kind));
  if ((words = expand_words (s, ins, error)) == NULL)
    return FALSE;
  n = g_strv_length (words);
  if (n < 2 && !(n == 1 && ins->heredocs != NULL && ins->heredocs->len > 0))
    return hutch_throw (error, HUTCH_ERROR_USAGE, "%s: give a source and a destination: %s",
                        cp.what, ins->original);
  wd = wdn != NULL && wdn->type == HUTCH_JSON_STRING && *wdn->string != '\0' ? wdn->string : "/";
  cp.dest = words[n - 1][0] == '/' ? g_strdup (words[n - 1])
                                   : g_build_filename (wd, words[n - 1], NULL);
  cp.dest_is_dir = g_str_has_suffix (words[n - 1], "/") || n > 2
                   || strcmp (words[n - 1], ".") == 0;
  if (n > 2 && !g_str_has_suffix (words[n - 1], "/"))
    return hutch_throw (error, HUTCH_ERROR_USAGE,
                        "%s: with several sources the destination must be a directory ending in "
                        "\"/\": %s", cp.what, ins->original);
  {
    g_autofree char *clean = g_canonicalize_filename (cp.dest, "/");
    g_free (cp.dest);
    cp.dest = g_steal_pointer (&clean);
  }
  if (ins->heredocs != NULL && ins->heredocs->len > 0)
    {
      const HutchBuildHeredoc *h = ins->heredocs->pdata[0];
      cp.inline_name = g_strdup (h->delimiter);
      cp.inline_body = h->expand ? expand (s, ins, h->body, error) : g_strdup (h->body);
      if (cp.inline_body == NULL)
        return FALSE;
    }
  else
    {
      words[n - 1] = (g_free (words[n - 1]), NULL);
      cp.sources = g_steal_pointer (&words);
      for (char **src = cp.sources; *src != NULL; src++)
        if (g_str_has_prefix (*src, "http://") || g_str_has_prefix (*src, "https://"))
          {
            if (!cp.add || n != 2)
              return hutch_throw (error, HUTCH_ERROR_USAGE,
                                  "%s: %s: only ADD takes a URL, and as its one source (COPY "
                                  "takes files of the context)", cp.what, *src);
            if (!download (b, &cp, error))
              return FALSE;
            break;
          }
        else if (g_str_has_prefix (*src, "git@") || g_str_has_suffix (*src, ".git"))
          return hutch_throw (error, HUTCH_ERROR_USAGE,
                              "%s: %s: a git repository as a source is not supported: clone it "
                              "in a RUN step, or put it in the context", cp.what, *src);
    }
  if (from != NULL)
    {
      g_autofree char *ref = expand (s, ins, from, error);
      int dep;
      if (ref == NULL)
        return FALSE;
      dep = stage_named (b, ref, s->index);
      if (dep >= 0 && b->stage_ids[dep] == NULL)
        return hutch_throw (error, HUTCH_ERROR_USAGE, "%s --from=%s: that stage has no files",
                            cp.what, ref);
      if (dep >= 0)
        cp.from_id = g_strdup (b->stage_ids[dep]);
      else
        {
          g_autoptr (HutchStore) store = NULL;
          g_autoptr (HutchStoreImage) img = NULL;
          if (b->o->pull_func != NULL && !b->o->pull_func (b->ctx, ref, b->o->pull != NULL ? b->o->pull : "missing",
                                                           b->o->pull_data, NULL))
            return hutch_throw (error, HUTCH_ERROR_NOT_FOUND,
                                "%s --from=%s: no stage of that name before this one, and no "
                                "image of that name", cp.what, ref);
          store = hutch_store_open (b->ctx->root, FALSE, error);
          if (store == NULL || (img = hutch_store_image_lookup (store, ref, NULL, error)) == NULL)
            return g_prefix_error (error, "%s --from=%s: ", cp.what, ref), FALSE;
          cp.from_id = g_strconcat ("sha256:", hutch_store_image_id (img), NULL);
        }
    }
  if (chown != NULL && (cp.chown = expand (s, ins, chown, error)) == NULL)
    return FALSE;
  if (chmod != NULL)
    {
      char *end = NULL;
      guint64 bits = g_ascii_strtoull (chmod, &end, 8);
      if (*chmod == '\0' || *end != '\0' || bits > 07777)
        return hutch_throw (error, HUTCH_ERROR_USAGE,
                            "%s --chmod=%s: give octal bits such as 0755", cp.what, chmod);
      cp.chmod = (guint) bits;
      cp.chmod_set = TRUE;
    }
  return hutch_build_step_copy (s, ins, &cp, error);
}

static gboolean
run_instruction (HutchBuildStageState *s, const HutchBuildInstruction *ins, int *out_status,
                 GError **error)
{
  g_autoptr (GPtrArray) changes = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GPtrArray) members = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *author = NULL;
  g_auto (GStrv) words = NULL;
  char *text;

  switch (ins->kind)
    {
    case HUTCH_BUILD_RUN:
      return hutch_build_step_run (s, ins, out_status, error);
    case HUTCH_BUILD_COPY:
    case HUTCH_BUILD_ADD:
      return copy_instruction (s, ins, error);
    case HUTCH_BUILD_ARG:
      return declare_args (s->b, ins, hutch_build_stage_lookup (), s, s->args, s->b->global_args,
                           error);
    case HUTCH_BUILD_ENV:
      if (!pairs_change (s, ins, "ENV", changes, error))
        return FALSE;
      break;
    case HUTCH_BUILD_LABEL:
      if (!pairs_change (s, ins, "LABEL", changes, error))
        return FALSE;
      break;
    case HUTCH_BUILD_WORKDIR:
    case HUTCH_BUILD_USER:
    case HUTCH_BUILD_STOPSIGNAL:
      if ((text = expand (s, ins, ins->args, error)) == NULL)
        return FALSE;
      g_ptr_array_add (changes, g_strconcat (hutch_build_kind_name (ins->kind), " ", text, NULL));
      g_free (text);
      break;
    case HUTCH_BUILD_EXPOSE:
      if ((words = expand_words (s, ins, error)) == NULL)
        return FALSE;
      text = g_strjoinv (" ", words);
      g_ptr_array_add (changes, g_strconcat ("EXPOSE ", text, NULL));
      g_free (text);
      break;
    case HUTCH_BUILD_VOLUME:
      if ((words = expand_words (s, ins, error)) == NULL)
        return FALSE;
      text = json_strv (words);
      g_ptr_array_add (changes, g_strconcat ("VOLUME ", text, NULL));
      g_free (text);
      break;
    case HUTCH_BUILD_CMD:
      s->cmd_set = TRUE;
      text = command_json (s, ins);
      g_ptr_array_add (changes, g_strconcat ("CMD ", text, NULL));
      g_free (text);
      break;
    case HUTCH_BUILD_ENTRYPOINT:
      text = command_json (s, ins);
      g_ptr_array_add (changes, g_strconcat ("ENTRYPOINT ", text, NULL));
      g_free (text);
      if (!s->cmd_set) /* as docker: an inherited CMD does not outlive a new ENTRYPOINT */
        {
          g_ptr_array_add (members, g_strdup ("Cmd"));
          g_ptr_array_add (members, g_strdup ("null"));
        }
      break;
    case HUTCH_BUILD_SHELL:
      if (!ins->json)
        return hutch_throw (error, HUTCH_ERROR_USAGE,
                            "%s:%u: SHELL takes the JSON form, as [\"/bin/bash\", \"-c\"]: %s",
                            s->b->file_name, ins->line, ins->original);
      g_ptr_array_add (members, g_strdup ("Shell"));
      g_ptr_array_add (members, json_strv (ins->argv));
      break;
    case HUTCH_BUILD_HEALTHCHECK:
      if ((text = healthcheck_json (s, ins, error)) == NULL)
        return FALSE;
      g_ptr_array_add (members, g_strdup ("Healthcheck"));
      g_ptr_array_add (members, text);
      break;
    case HUTCH_BUILD_ONBUILD:
      g_ptr_array_add (members, g_strdup ("OnBuild"));
      g_ptr_array_add (members, onbuild_json (s, ins));
      break;
    case HUTCH_BUILD_MAINTAINER:
      author = g_strdup (ins->args);
      break;
    case HUTCH_BUILD_FROM:
    default:
      return hutch_throw (error, HUTCH_ERROR_USAGE, "%s:%u: %s is not expected here",
                          s->b->file_name, ins->line, ins->original);
    }
  g_ptr_array_add (changes, NULL);
  g_ptr_array_add (members, NULL);
  return hutch_build_step_config (s, ins, (const char *const *) changes->pdata,
                                  (const char *const *) members->pdata, author, error);
}

/* "[2/3] " before a step of the second of three stages, as podman; "" with one. */
static const char *
stage_prefix (HutchBuild *b, guint index)
{
  g_free (b->prefix);
  b->prefix = b->file_stages > 1 ? g_strdup_printf ("[%u/%u] ", index + 1, b->file_stages)
                                 : g_strdup ("");
  return b->prefix;
}

static gboolean
build_stage (HutchBuild *b, guint index, int *out_status, GError **error)
{
  HutchBuildStageState s = { .b = b, .index = index, .stage = b->file->stages->pdata[index] };
  gboolean ok;

  s.args = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  hutch_build_progress (b, "%sSTEP %u/%u: %s", stage_prefix (b, index), ++b->step, b->steps,
                        s.stage->from->original);
  ok = step_from (b, &s, error);
  for (guint i = 0; ok && i < s.stage->instructions->len; i++)
    {
      const HutchBuildInstruction *ins = s.stage->instructions->pdata[i];
      hutch_build_progress (b, "%sSTEP %u/%u: %s", stage_prefix (b, index), ++b->step,
                            b->steps, ins->original);
      ok = run_instruction (&s, ins, out_status, error);
      if (ok && s.image != NULL && ins->kind != HUTCH_BUILD_ARG)
        hutch_build_progress (b, "--> %.12s", s.image + 7);
    }
  if (ok)
    b->stage_ids[index] = g_strdup (s.image);
  stage_clear (&s);
  return ok;
}

/* --label on the final image: one more config, no history entry. */
static gboolean
final_labels (HutchBuild *b, const char *id, char out_id[HUTCH_DIGEST_BUFSIZE], GError **error)
{
  g_autoptr (HutchStore) store = hutch_store_open (b->ctx->root, TRUE, error);
  g_autoptr (HutchStoreImage) img = NULL;
  g_autoptr (GPtrArray) changes = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *config = NULL;

  if (store == NULL || (img = hutch_store_image_lookup (store, id, NULL, error)) == NULL)
    return FALSE;
  for (char **l = b->o->labels; *l != NULL; l++)
    {
      g_autofree char *quoted = g_shell_quote (*l);
      if (strchr (*l, '=') == NULL)
        return hutch_throw (error, HUTCH_ERROR_USAGE, "--label \"%s\": give KEY=VALUE", *l);
      g_ptr_array_add (changes, g_strconcat ("LABEL ", quoted, NULL));
    }
  g_ptr_array_add (changes, NULL);
  config = hutch_image_config_derive (img->config->root,
                                      &(HutchImageConfigEdit){ .changes = (const char *const *) changes->pdata },
                                      error);
  return config != NULL
         && hutch_store_image_create (store, config, img->manifest, NULL, b->o->docker, NULL, out_id,
                                      error);
}

static gboolean
tag (HutchBuild *b, const char *id, GError **error)
{
  g_autoptr (HutchStore) store = NULL;

  if (b->o->tags == NULL || b->o->tags[0] == NULL)
    return TRUE;
  store = hutch_store_open (b->ctx->root, TRUE, error);
  if (store == NULL)
    return FALSE;
  for (char **t = b->o->tags; *t != NULL; t++)
    {
      g_autoptr (HutchImageRef) ref = hutch_image_ref_parse (*t, error);
      g_autofree char *full = NULL;
      if (ref == NULL)
        return g_prefix_error (error, "-t %s: ", *t), FALSE;
      full = hutch_image_ref_to_string (ref);
      if (!hutch_store_image_tag (store, id, full, error))
        return FALSE;
      hutch_build_progress (b, "Successfully tagged %s", full);
    }
  return TRUE;
}

gboolean
hutch_build_image (HutchContext *ctx, const HutchBuildOptions *o,
                   char out_id[HUTCH_DIGEST_BUFSIZE], int *out_status, GError **error)
{
  HutchBuild b = { .ctx = ctx, .o = o, .context_fd = -1 };
  g_autofree gboolean *needed = NULL;
  guint target;
  gboolean ok = TRUE;

  *out_status = 125;
  if (!open_context (&b, error) || !read_file (&b, error) || !parse_build_args (&b, error))
    return build_clear (&b), FALSE;
  b.file_stages = b.file->stages->len;
  if (!o->no_layers)
    b.files = hutch_build_cache_files_load (ctx);
  b.stage_ids = g_new0 (char *, b.file_stages + 1);
  b.global_args = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  for (guint i = 0; ok && i < b.file->global_args->len; i++)
    ok = declare_args (&b, b.file->global_args->pdata[i], global_lookup, &b, b.global_args, NULL,
                       error);
  target = b.file_stages - 1;
  if (ok && o->target != NULL)
    {
      int t = -1;
      for (guint i = 0; i < b.file_stages && t < 0; i++)
        {
          const HutchBuildStage *st = b.file->stages->pdata[i];
          if (st->name != NULL && g_ascii_strcasecmp (st->name, o->target) == 0)
            t = (int) i;
        }
      if (t < 0)
        ok = hutch_throw (error, HUTCH_ERROR_NOT_FOUND, "--target %s: %s has no stage of that name",
                          o->target, b.file_name);
      target = t < 0 ? 0 : (guint) t;
    }
  if (!ok)
    return build_clear (&b), FALSE;
  needed = needed_stages (&b, target);
  for (guint i = 0; i <= target; i++)
    if (needed[i])
      b.steps += 1 + ((const HutchBuildStage *) b.file->stages->pdata[i])->instructions->len;
  for (guint i = 0; ok && i <= target; i++)
    if (needed[i])
      ok = build_stage (&b, i, out_status, error);
  if (ok && b.stage_ids[target] == NULL)
    ok = hutch_throw (error, HUTCH_ERROR_USAGE, "%s: the stage built is FROM scratch with nothing "
                      "in it: there is no image to make", b.file_name);
  if (ok && o->labels != NULL && o->labels[0] != NULL)
    {
      char id[HUTCH_DIGEST_BUFSIZE];
      ok = final_labels (&b, b.stage_ids[target], id, error);
      if (ok)
        {
          g_free (b.stage_ids[target]);
          b.stage_ids[target] = g_strdup (id);
        }
    }
  /* the other stages' images are intermediate too */
  for (guint i = 0; ok && !o->no_layers && i < target; i++)
    if (b.stage_ids[i] != NULL)
      hutch_build_cache_mark_parent (ctx, b.stage_ids[i] + 7);
  ok = ok && tag (&b, b.stage_ids[target], error);
  if (ok)
    {
      g_strlcpy (out_id, b.stage_ids[target], HUTCH_DIGEST_BUFSIZE);
      *out_status = 0;
    }
  build_clear (&b);
  return ok;
}
