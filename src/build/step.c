/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* One step of a stage: its cache key, then RUN in a container of the
 * stage's image committed as a layer, COPY and ADD through such a
 * container (copy.c), or a new config without a layer. Each makes an
 * untagged image that becomes the stage's, and a cache entry. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <sys/wait.h>
#include <unistd.h>
#include <stdio.h>
#include <string.h>

#include "executor.h"

/* ---- the stage's image ---- */

const HutchJsonNode *
hutch_build_stage_config_member (const HutchBuildStageState *s, const char *key)
{
  if (s->img == NULL || s->img->config == NULL)
    return NULL;
  return hutch_json_node_member (s->img->config->config, key);
}

/* The value of @name for expansion: the image's Env, then the ARGs. */
static const char *
lookup (const char *name, gpointer data)
{
  HutchBuildStageState *s = data;
  const HutchJsonNode *env = hutch_build_stage_config_member (s, "Env");
  gsize len = strlen (name);
  gpointer value;

  for (guint i = 0; env != NULL && env->type == HUTCH_JSON_ARRAY && i < env->n_members; i++)
    {
      const char *e = env->members[i]->type == HUTCH_JSON_STRING ? env->members[i]->string : "";
      if (strncmp (e, name, len) == 0 && e[len] == '=')
        return e + len + 1;
    }
  if (s->args != NULL && g_hash_table_lookup_extended (s->args, name, NULL, &value))
    return value;
  return NULL;
}

HutchBuildLookup
hutch_build_stage_lookup (void)
{
  return lookup;
}

static const char *
hex (const char *id)
{
  return g_str_has_prefix (id, "sha256:") ? id + 7 : id;
}

gboolean
hutch_build_stage_set_image (HutchBuildStageState *s, const char *id, GError **error)
{
  g_autoptr (HutchStore) store = hutch_store_open (s->b->ctx->root, FALSE, error);
  HutchStoreImage *img;

  if (store == NULL)
    return FALSE;
  img = hutch_store_image_lookup (store, id, NULL, error);
  if (img == NULL)
    return FALSE;
  g_clear_pointer (&s->img, hutch_store_image_free);
  g_free (s->image);
  s->img = img;
  s->image = g_strconcat ("sha256:", hutch_store_image_id (img), NULL);
  return TRUE;
}

/* ---- the key ---- */

static void
key_add (HutchSha256 *h, const char *text)
{
  hutch_sha256_update (h, text != NULL ? text : "", text != NULL ? strlen (text) + 1 : 1);
}

/* The key's start: the format, the parent, the instruction's kind. */
static HutchSha256 *
key_new (const HutchBuildStageState *s, const HutchBuildInstruction *ins)
{
  HutchSha256 *h = hutch_sha256_new ();

  key_add (h, "hutch-build-1");
  key_add (h, s->image != NULL ? s->image : "scratch");
  key_add (h, hutch_build_kind_name (ins->kind));
  key_add (h, s->b->o->docker ? "docker" : "oci");
  return h;
}

static void
key_finish (HutchSha256 *h, char out_key[65])
{
  char digest[HUTCH_DIGEST_BUFSIZE];

  hutch_sha256_finish (h, digest);
  hutch_sha256_free (h);
  g_strlcpy (out_key, digest + 7, 65);
}

/* ---- progress ---- */

void
hutch_build_progress (const HutchBuild *b, const char *format, ...)
{
  va_list ap;
  g_autofree char *line = NULL;

  if (b->o->progress == NULL)
    return;
  va_start (ap, format);
  line = g_strdup_vprintf (format, ap);
  va_end (ap);
  b->o->progress (line, b->o->progress_data);
}

/* Looks the step up in the cache: TRUE and the stage moved on when found. */
static gboolean
from_cache (HutchBuildStageState *s, const char *key, gboolean *out_hit, GError **error)
{
  g_autofree char *manifest = NULL;

  *out_hit = FALSE;
  if (s->b->o->no_cache || s->b->o->no_layers
      || (manifest = hutch_build_cache_get (s->b->ctx, key)) == NULL)
    return TRUE;
  if (!hutch_build_stage_set_image (s, manifest, NULL))
    return TRUE; /* gone or damaged: built again */
  hutch_build_progress (s->b, "--> Using cache %s", s->image + 7);
  *out_hit = TRUE;
  return TRUE;
}

/* The stage moves to @id, the step's new image. */
static gboolean
step_done (HutchBuildStageState *s, const char *key, const char *id, GError **error)
{
  if (s->image != NULL && !s->b->o->no_layers)
    hutch_build_cache_mark_parent (s->b->ctx, hex (s->image));
  if (!hutch_build_stage_set_image (s, id, error))
    return FALSE;
  if (!s->b->o->no_layers)
    hutch_build_cache_put (s->b->ctx, key, hex (id), s->img->digest);
  return TRUE;
}

/* ---- steps without a layer ---- */

gboolean
hutch_build_step_config (HutchBuildStageState *s, const HutchBuildInstruction *ins,
                         const char *const *changes, const char *const *members,
                         const char *author, GError **error)
{
  g_autoptr (HutchSha256) h = key_new (s, ins);
  g_autoptr (HutchStore) store = NULL;
  g_autofree char *config = NULL, *by = NULL;
  char key[65], id[HUTCH_DIGEST_BUFSIZE];
  gboolean hit;

  for (guint i = 0; changes != NULL && changes[i] != NULL; i++)
    key_add (h, changes[i]);
  key_add (h, "|");
  for (guint i = 0; members != NULL && members[i] != NULL; i++)
    key_add (h, members[i]);
  key_add (h, author);
  key_finish (g_steal_pointer (&h), key);
  if (!from_cache (s, key, &hit, error))
    return FALSE;
  if (hit)
    return TRUE;
  by = g_strdup_printf ("/bin/sh -c #(nop) %s", ins->original);
  config = hutch_image_config_derive (s->img != NULL ? s->img->config->root : NULL,
                                      &(HutchImageConfigEdit){ .changes = changes,
                                                               .members = members,
                                                               .author = author,
                                                               .created_by = by,
                                                               .empty_layer = TRUE },
                                      error);
  if (config == NULL)
    return FALSE;
  store = hutch_store_open (s->b->ctx->root, TRUE, error);
  if (store == NULL
      || !hutch_store_image_create (store, config, s->img != NULL ? s->img->manifest : NULL, NULL,
                                    s->b->o->docker, NULL, id, error))
    return FALSE;
  return step_done (s, key, id, error);
}

/* ---- steps in a container ---- */

/* A container of the stage's image (a layer-less one for FROM scratch). */
static HutchContainer *
container_for (HutchBuildStageState *s, char **command, char **env, GError **error)
{
  HutchRunOptions ro = { .stop_timeout = HUTCH_STOP_TIMEOUT_UNSET };
  char *no_command[] = { (char *) "true", NULL };
  HutchContainer *c;

  if (s->image == NULL)
    {
      /* scratch: an image of no layers, for a container of an empty root */
      static const char *const none[] = { NULL };
      char id[HUTCH_DIGEST_BUFSIZE];
      g_autoptr (HutchStore) store = hutch_store_open (s->b->ctx->root, TRUE, error);
      g_autofree char *config = hutch_image_config_derive (NULL, &(HutchImageConfigEdit){ .changes = none },
                                                           error);
      if (store == NULL || config == NULL
          || !hutch_store_image_create (store, config, NULL, NULL, s->b->o->docker, NULL, id, error)
          || !hutch_build_stage_set_image (s, id, error))
        return NULL;
    }
  hutch_net_config_init (&ro.net);
  if (s->b->o->network != NULL && !hutch_net_config_parse_mode (&ro.net, s->b->o->network, error))
    return NULL;
  if (command == NULL)
    ro.net.mode = HUTCH_NET_NONE; /* COPY: no network */
  ro.network = g_strdup (s->b->o->network);
  ro.image = g_strdup (hex (s->image)); /* an image ID, as a user gives it */
  ro.command = g_strdupv (command != NULL ? command : no_command);
  ro.entrypoint = g_strdup ("");
  ro.env = g_strdupv (env);
  ro.log.driver = HUTCH_LOG_DRIVER_NONE;
  c = hutch_container_create (s->b->ctx, &ro, error);
  hutch_run_options_clear (&ro);
  return c;
}

/* Commits container @c as the step's layer and removes it. */
static gboolean
commit_step (HutchBuildStageState *s, HutchContainer *c, const char *key, const char *created_by,
             GError **error)
{
  g_auto (HutchCommitOptions) co = { 0 };
  char id[HUTCH_DIGEST_BUFSIZE];
  g_autoptr (GError) local = NULL;
  gboolean ok;

  co.compression = HUTCH_LAYER_GZIP;
  co.docker = s->b->o->docker;
  co.created_by = g_strdup (created_by);
  ok = hutch_container_commit (s->b->ctx, c->id, &co, id, error);
  if (!hutch_container_remove (s->b->ctx, c->id, TRUE, &local))
    g_warning ("%s", local->message);
  return ok && step_done (s, key, id, error);
}

static void
remove_quietly (HutchBuildStageState *s, HutchContainer *c)
{
  g_autoptr (GError) local = NULL;

  if (c != NULL && !hutch_container_remove (s->b->ctx, c->id, TRUE, &local))
    g_warning ("%s", local->message);
}

/* The ARGs in scope as K=V, for RUN's environment (sorted: the key's). */
static char **
args_env (HutchBuildStageState *s)
{
  g_autoptr (GPtrArray) out = g_ptr_array_new_with_free_func (g_free);
  GHashTableIter it;
  gpointer k, v;

  g_hash_table_iter_init (&it, s->args);
  while (g_hash_table_iter_next (&it, &k, &v))
    if (v != NULL)
      g_ptr_array_add (out, g_strconcat (k, "=", v, NULL));
  for (guint i = 0; s->b->predefined != NULL && i < s->b->predefined->len; i++)
    g_ptr_array_add (out, g_strdup (s->b->predefined->pdata[i]));
  g_ptr_array_sort (out, (GCompareFunc) hutch_build_compare_strv);
  g_ptr_array_add (out, NULL);
  return (char **) g_ptr_array_free (g_steal_pointer (&out), FALSE);
}

int
hutch_build_compare_strv (gconstpointer a, gconstpointer b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

/* RUN's command: the exec form as is; the shell form through the stage's
 * SHELL, with its here-documents after it (a lone "<<EOF" is the script). */
static char **
run_command (HutchBuildStageState *s, const HutchBuildInstruction *ins)
{
  const HutchJsonNode *shell = hutch_build_stage_config_member (s, "Shell");
  g_autoptr (GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GString) script = g_string_new (ins->args);

  if (ins->json)
    return g_strdupv (ins->argv);
  if (shell != NULL && shell->type == HUTCH_JSON_ARRAY && shell->n_members > 0)
    for (guint i = 0; i < shell->n_members; i++)
      g_ptr_array_add (argv, g_strdup (shell->members[i]->type == HUTCH_JSON_STRING
                                           ? shell->members[i]->string : ""));
  else
    {
      g_ptr_array_add (argv, g_strdup ("/bin/sh"));
      g_ptr_array_add (argv, g_strdup ("-c"));
    }
  if (ins->heredocs != NULL && ins->heredocs->len == 1 && g_str_has_prefix (ins->args, "<<")
      && strpbrk (ins->args, " \t") == NULL)
    {
      const HutchBuildHeredoc *h = ins->heredocs->pdata[0];
      g_string_assign (script, h->body);
    }
  else
    for (guint i = 0; ins->heredocs != NULL && i < ins->heredocs->len; i++)
      {
        const HutchBuildHeredoc *h = ins->heredocs->pdata[i];
        g_string_append_printf (script, "\n%s%s", h->body, h->delimiter);
      }
  g_ptr_array_add (argv, g_string_free (g_steal_pointer (&script), FALSE));
  g_ptr_array_add (argv, NULL);
  return (char **) g_ptr_array_free (g_steal_pointer (&argv), FALSE);
}

/* Starts container @id in the foreground in a child of ours, which waits
 * for it: in the foreground the process that starts a container becomes
 * its monitor, which confines itself (its own minimal mount view, a
 * seccomp filter) for the rest of its life, and the build must go on.
 * The child sends back the result, or the error. */
static gboolean
start_in_child (HutchContext *ctx, const char *id, HutchSandboxResult *result, GError **error)
{
  int fds[2];
  pid_t pid;
  int wstatus;
  gint32 head[3]; /* status, error code (-1: none, -2: exec error), message length */
  g_autofree char *text = NULL;

  if (pipe2 (fds, O_CLOEXEC) < 0)
    return hutch_throw_errno (error, "pipe");
  fflush (stdout);
  fflush (stderr);
  pid = fork ();
  if (pid < 0)
    {
      close (fds[0]);
      close (fds[1]);
      return hutch_throw_errno (error, "fork");
    }
  if (pid == 0)
    {
      g_autoptr (GError) local = NULL;
      HutchSandboxResult r = { 0 };
      const char *msg = NULL;
      close (fds[0]);
      if (!hutch_container_start (ctx, id, HUTCH_START_FOREGROUND, &r, &local))
        head[0] = 125, head[1] = local->code, msg = local->message;
      else
        head[0] = r.status, head[1] = r.exec_error != NULL ? -2 : -1, msg = r.exec_error;
      head[2] = msg != NULL ? (gint32) strlen (msg) : 0;
      fflush (stdout);
      fflush (stderr);
      if (!hutch_util_write_all (fds[1], head, sizeof head, NULL)
          || (head[2] > 0 && !hutch_util_write_all (fds[1], msg, head[2], NULL)))
        _exit (125);
      _exit (0);
    }
  close (fds[1]);
  if (!hutch_util_read_exact (fds[0], head, sizeof head) || head[2] < 0 || head[2] > 65536)
    head[0] = -1;
  else if (head[2] > 0)
    {
      text = g_malloc0 (head[2] + 1);
      if (!hutch_util_read_exact (fds[0], text, head[2]))
        head[0] = -1;
    }
  close (fds[0]);
  while (waitpid (pid, &wstatus, 0) < 0 && errno == EINTR)
    ;
  if (head[0] == -1)
    return hutch_throw (error, HUTCH_ERROR_FAILED, "the process that ran the container ended "
                        "without a word (wait status %d)", wstatus);
  if (head[1] >= 0)
    return g_set_error_literal (error, HUTCH_ERROR, head[1], text != NULL ? text : ""), FALSE;
  result->status = head[0];
  result->exec_error = head[1] == -2 ? g_steal_pointer (&text) : NULL;
  return TRUE;
}

gboolean
hutch_build_step_run (HutchBuildStageState *s, const HutchBuildInstruction *ins, int *out_status,
                      GError **error)
{
  g_auto (GStrv) argv = run_command (s, ins);
  g_auto (GStrv) env = args_env (s);
  g_autoptr (HutchSha256) h = key_new (s, ins);
  g_autoptr (HutchContainer) c = NULL;
  g_autofree char *by = NULL;
  HutchSandboxResult result = { 0 };
  char key[65];
  gboolean hit;

  for (char **a = argv; *a != NULL; a++)
    key_add (h, *a);
  key_add (h, "|");
  for (char **e = env; *e != NULL; e++)
    key_add (h, *e);
  key_finish (g_steal_pointer (&h), key);
  if (!from_cache (s, key, &hit, error))
    return FALSE;
  if (hit)
    return TRUE;
  if (s->image == NULL)
    return hutch_throw (error, HUTCH_ERROR_USAGE,
                        "%s:%u: RUN in a stage FROM scratch with no files yet: there is no "
                        "command to run (COPY one in first)", s->b->file_name, ins->line);
  c = container_for (s, argv, env, error);
  if (c == NULL)
    return g_prefix_error (error, "%s:%u: RUN: ", s->b->file_name, ins->line), FALSE;
  if (!start_in_child (s->b->ctx, c->id, &result, error))
    {
      remove_quietly (s, c);
      return g_prefix_error (error, "%s:%u: RUN: ", s->b->file_name, ins->line), FALSE;
    }
  if (result.status != 0)
    {
      *out_status = result.status;
      hutch_throw (error, HUTCH_ERROR_FAILED, "%s:%u: %s: the command %s (exit status %d)%s%s",
                   s->b->file_name, ins->line, ins->original,
                   result.exec_error != NULL ? "could not run" : "failed", result.status,
                   result.exec_error != NULL ? ": " : "",
                   result.exec_error != NULL ? result.exec_error : "");
      g_free (result.exec_error);
      remove_quietly (s, c);
      return FALSE;
    }
  by = ins->json ? g_strjoinv (" ", argv) : g_strdup_printf ("/bin/sh -c %s", ins->args);
  return commit_step (s, c, key, by, error);
}

gboolean
hutch_build_step_copy (HutchBuildStageState *s, const HutchBuildInstruction *ins,
                       const HutchBuildCopy *cp, GError **error)
{
  g_autoptr (HutchSha256) h = key_new (s, ins);
  g_autoptr (HutchContainer) c = NULL;
  g_autofree char *by = NULL;
  char key[65];
  gboolean hit;

  key_add (h, cp->dest);
  key_add (h, cp->dest_is_dir ? "dir" : "path");
  key_add (h, cp->chown);
  key_add (h, cp->chmod_set ? "chmod" : "");
  hutch_sha256_update (h, &cp->chmod, sizeof cp->chmod);
  key_add (h, cp->from_id);
  int source_fd = cp->source_fd >= 0 ? cp->source_fd : s->b->context_fd;
  const HutchBuildIgnore *ignore = cp->source_fd >= 0 ? NULL : s->b->ignore;

  if (!hutch_build_copy_digest (source_fd, ignore, cp, cp->source_fd >= 0 ? NULL : s->b->files,
                                &s->b->files_changed, h, error))
    return FALSE;
  key_finish (g_steal_pointer (&h), key);
  if (!from_cache (s, key, &hit, error))
    return FALSE;
  if (hit)
    return TRUE;
  c = container_for (s, NULL, NULL, error);
  if (c == NULL)
    return g_prefix_error (error, "%s: ", cp->what), FALSE;
  if (!hutch_build_copy_run (s->b->ctx, c->id, source_fd, ignore, cp, error))
    {
      remove_quietly (s, c);
      return FALSE;
    }
  by = g_strdup_printf ("/bin/sh -c #(nop) %s", ins->original);
  return commit_step (s, c, key, by, error);
}
