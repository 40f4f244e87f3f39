/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Credentials: WWW-Authenticate challenges, the auth files podman
 * (containers-auth.json(5)) and docker (config.json) write, and hutch.conf's
 * list of insecure registries. An entry is {"auth": base64("user:pass")}
 * under "auths", keyed by registry, or by registry/namespace for a part of
 * it; docker.io also answers to docker's historical keys. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "registry-private.h"

void
hutch_auth_challenge_free (HutchAuthChallenge *c)
{
  if (c == NULL)
    return;
  g_free (c->scheme);
  g_free (c->realm);
  g_free (c->service);
  g_free (c->scope);
  g_free (c);
}

/* One auth-param: name=token or name="quoted string". Advances *@p. */
static gboolean
next_param (const char **p, char **out_name, char **out_value)
{
  const char *s = *p, *start;
  GString *value = g_string_new (NULL);

  while (*s == ' ' || *s == ',' || *s == '\t')
    s++;
  start = s;
  while (*s != '\0' && *s != '=' && *s != ' ' && *s != ',')
    s++;
  if (*s != '=' || s == start)
    return g_string_free (value, TRUE), FALSE;
  *out_name = g_ascii_strdown (start, s - start);
  s++;
  if (*s == '"')
    {
      for (s++; *s != '\0' && *s != '"'; s++)
        {
          if (*s == '\\' && s[1] != '\0')
            s++;
          g_string_append_c (value, *s);
        }
      if (*s == '"')
        s++;
    }
  else
    while (*s != '\0' && *s != ',' && *s != ' ')
      g_string_append_c (value, *s++);
  *out_value = g_string_free (value, FALSE);
  *p = s;
  return TRUE;
}

HutchAuthChallenge *
hutch_auth_challenge_parse (const char *value)
{
  g_autoptr (HutchAuthChallenge) c = g_new0 (HutchAuthChallenge, 1);
  const char *p = value, *start;
  char *name, *v;

  while (*p == ' ')
    p++;
  start = p;
  while (*p != '\0' && *p != ' ')
    p++;
  c->scheme = g_ascii_strdown (start, p - start);
  if (strcmp (c->scheme, "bearer") != 0 && strcmp (c->scheme, "basic") != 0)
    return NULL;
  while (next_param (&p, &name, &v))
    {
      char **slot = strcmp (name, "realm") == 0     ? &c->realm
                    : strcmp (name, "service") == 0 ? &c->service
                    : strcmp (name, "scope") == 0   ? &c->scope
                                                    : NULL;
      if (slot != NULL)
        {
          g_free (*slot);
          *slot = v;
        }
      else
        g_free (v);
      g_free (name);
    }
  if (strcmp (c->scheme, "bearer") == 0 && (c->realm == NULL || c->realm[0] == '\0'))
    return NULL;
  return g_steal_pointer (&c);
}

char *
hutch_registry_auth_file_default (void)
{
  const char *env = g_getenv ("REGISTRY_AUTH_FILE");
  const char *runtime = g_getenv ("XDG_RUNTIME_DIR");

  if (env != NULL && env[0] != '\0')
    return g_strdup (env);
  if (runtime != NULL && runtime[0] == '/')
    return g_build_filename (runtime, "containers", "auth.json", NULL);
  return g_build_filename (g_get_user_config_dir (), "containers", "auth.json", NULL);
}

char *
hutch_registry_auth_key (const char *key)
{
  const char *k = key;
  char *out;
  gsize len, host_len;

  if (g_str_has_prefix (k, "https://"))
    k += 8;
  else if (g_str_has_prefix (k, "http://"))
    k += 7;
  out = g_strdup (k);
  if (k != key)
    {
      char *slash = strchr (out, '/');
      if (slash != NULL)
        *slash = '\0';
    }
  len = strlen (out);
  while (len > 0 && out[len - 1] == '/')
    out[--len] = '\0';
  host_len = strcspn (out, "/");
  if ((host_len == 15 && strncmp (out, "index.docker.io", 15) == 0)
      || (host_len == 20 && strncmp (out, "registry-1.docker.io", 20) == 0))
    {
      char *rest = g_strconcat ("docker.io", out + host_len, NULL);
      g_free (out);
      out = rest;
    }
  return out;
}

static gboolean
decode_auth (const char *path, const char *key, const HutchJsonNode *entry, char **out_user,
             char **out_pass, GError **error)
{
  const HutchJsonNode *auth = hutch_json_node_member (entry, "auth");
  g_autofree guchar *raw = NULL;
  g_autofree char *text = NULL;
  gsize len;
  char *colon;

  if (auth == NULL || auth->type != HUTCH_JSON_STRING || auth->string[0] == '\0')
    return hutch_throw (error, HUTCH_ERROR_AUTH,
                        "%s: the entry for \"%s\" has no \"auth\" (credential helpers are not "
                        "supported): log in again with \"hutch login\"", path, key);
  raw = g_base64_decode (auth->string, &len);
  text = g_strndup ((const char *) raw, len);
  colon = strchr (text, ':');
  if (colon == NULL || colon == text)
    return hutch_throw (error, HUTCH_ERROR_AUTH,
                        "%s: the \"auth\" of \"%s\" is not base64 of USER:PASSWORD: log in again "
                        "with \"hutch login\"", path, key);
  *colon = '\0';
  *out_user = g_strdup (text);
  *out_pass = g_strdup (colon + 1);
  return TRUE;
}

/* The entry of @path's "auths" that best matches @domain/@repo: the longest
 * key that is the domain or a namespace prefix of the repository. */
static int
lookup_in_file (const char *path, const char *domain, const char *repo, char **out_user,
                char **out_pass, GError **error)
{
  g_autofree char *text = NULL;
  g_autoptr (HutchJsonNode) root = NULL;
  g_autofree char *full = g_strconcat (domain, "/", repo, NULL);
  const HutchJsonNode *auths, *best = NULL;
  const char *best_key = NULL;
  gsize best_len = 0, len;
  g_autoptr (GError) local = NULL;

  text = hutch_util_read_host_file (path, 1 << 20, &local);
  if (text == NULL)
    {
      if (g_error_matches (local, G_FILE_ERROR, G_FILE_ERROR_NOENT))
        return 0;
      g_propagate_error (error, g_steal_pointer (&local));
      return -1;
    }
  len = strlen (text);
  root = hutch_json_parse (text, len, error);
  if (root == NULL)
    return g_prefix_error (error, "%s: ", path), -1;
  auths = hutch_json_node_member (root, "auths");
  if (auths == NULL || auths->type != HUTCH_JSON_OBJECT)
    return 0;
  for (guint i = 0; i < auths->n_members; i++)
    {
      g_autofree char *key = hutch_registry_auth_key (auths->keys[i]);
      gsize klen = strlen (key);
      gboolean match = strcmp (key, domain) == 0
                       || (g_str_has_prefix (full, key) && full[klen] == '/')
                       || strcmp (full, key) == 0;
      if (match && klen > best_len)
        {
          best = auths->members[i];
          best_key = auths->keys[i];
          best_len = klen;
        }
    }
  if (best == NULL)
    return 0;
  return decode_auth (path, best_key, best, out_user, out_pass, error) ? 1 : -1;
}

gboolean
hutch_registry_auth_lookup (const char *auth_file, const char *domain, const char *repo,
                            char **out_username, char **out_password, char **out_source,
                            GError **error)
{
  g_autoptr (GPtrArray) files = g_ptr_array_new_with_free_func (g_free);
  const char *env = g_getenv ("REGISTRY_AUTH_FILE");
  const char *runtime = g_getenv ("XDG_RUNTIME_DIR");

  if (auth_file != NULL)
    g_ptr_array_add (files, g_strdup (auth_file));
  else
    {
      if (env != NULL && env[0] != '\0')
        g_ptr_array_add (files, g_strdup (env));
      if (runtime != NULL && runtime[0] == '/')
        g_ptr_array_add (files, g_build_filename (runtime, "containers", "auth.json", NULL));
      g_ptr_array_add (files, g_build_filename (g_get_user_config_dir (), "containers",
                                                "auth.json", NULL));
      g_ptr_array_add (files, g_build_filename (g_get_home_dir (), ".docker", "config.json", NULL));
    }
  for (guint i = 0; i < files->len; i++)
    {
      int r = lookup_in_file (files->pdata[i], domain, repo, out_username, out_password, error);
      if (r < 0)
        return FALSE;
      if (r > 0)
        {
          *out_source = g_strdup (files->pdata[i]);
          return TRUE;
        }
    }
  return FALSE;
}

/* Writes @root to @path atomically, mode 0600, making its directory 0700. */
static gboolean
write_auth_file (const char *path, const HutchJsonNode *root, const char *key, const char *user,
                 const char *pass, gboolean drop_all, guint *out_changed, GError **error)
{
  g_autoptr (HutchJsonWriter) w = hutch_json_writer_new (TRUE);
  g_autofree char *dir = g_path_get_dirname (path);
  g_autofree char *tmp = g_strconcat (path, ".tmp-XXXXXX", NULL);
  g_autofree char *text = NULL;
  const HutchJsonNode *auths = hutch_json_node_member (root, "auths");
  gboolean written = FALSE;
  hutch_autofd int fd = -1;

  *out_changed = 0;
  hutch_json_begin_object (w);
  for (guint i = 0; root != NULL && i < root->n_members; i++)
    if (strcmp (root->keys[i], "auths") != 0)
      {
        hutch_json_key (w, root->keys[i]);
        hutch_json_write_node (w, root->members[i]);
      }
  hutch_json_key (w, "auths");
  hutch_json_begin_object (w);
  for (guint i = 0; auths != NULL && auths->type == HUTCH_JSON_OBJECT && i < auths->n_members; i++)
    {
      g_autofree char *norm = hutch_registry_auth_key (auths->keys[i]);
      if (drop_all || (key != NULL && strcmp (norm, key) == 0))
        {
          (*out_changed)++;
          continue;
        }
      hutch_json_key (w, auths->keys[i]);
      hutch_json_write_node (w, auths->members[i]);
    }
  if (user != NULL)
    {
      g_autofree char *pair = g_strconcat (user, ":", pass, NULL);
      g_autofree char *b64 = g_base64_encode ((const guchar *) pair, strlen (pair));
      hutch_json_key (w, key);
      hutch_json_begin_object (w);
      hutch_json_key (w, "auth");
      hutch_json_string (w, b64);
      hutch_json_end_object (w);
      (*out_changed)++;
    }
  hutch_json_end_object (w);
  hutch_json_end_object (w);
  text = hutch_json_writer_finish (w);
  if (g_mkdir_with_parents (dir, 0700) < 0)
    return hutch_throw_errno (error, "making %s", dir);
  fd = g_mkstemp_full (tmp, O_WRONLY | O_CLOEXEC, 0600);
  if (fd < 0)
    return hutch_throw_errno (error, "writing %s", path);
  written = hutch_util_write_all (fd, text, strlen (text), error)
            && hutch_util_write_all (fd, "\n", 1, error);
  if (written && (fsync (fd) < 0 || rename (tmp, path) < 0))
    written = hutch_throw_errno (error, "writing %s", path);
  if (!written)
    (void) unlink (tmp);
  return written;
}

static HutchJsonNode *
read_auth_file (const char *path, gboolean *out_missing, GError **error)
{
  g_autoptr (GError) local = NULL;
  g_autofree char *text = hutch_util_read_host_file (path, 1 << 20, &local);
  HutchJsonNode *root;

  *out_missing = FALSE;
  if (text == NULL)
    {
      if (g_error_matches (local, G_FILE_ERROR, G_FILE_ERROR_NOENT))
        {
          *out_missing = TRUE;
          return NULL;
        }
      g_propagate_error (error, g_steal_pointer (&local));
      return NULL;
    }
  root = hutch_json_parse (text, strlen (text), error);
  if (root == NULL)
    return g_prefix_error (error, "%s: ", path), NULL;
  if (root->type != HUTCH_JSON_OBJECT)
    {
      hutch_json_node_free (root);
      return hutch_throw (error, HUTCH_ERROR_FAILED, "%s is not a JSON object", path), NULL;
    }
  return root;
}

gboolean
hutch_registry_auth_store (const char *auth_file, const char *key, const char *username,
                           const char *password, GError **error)
{
  g_autoptr (HutchJsonNode) root = NULL;
  g_autofree char *norm = hutch_registry_auth_key (key);
  gboolean missing;
  guint changed;

  root = read_auth_file (auth_file, &missing, error);
  if (root == NULL && !missing)
    return FALSE;
  if (!write_auth_file (auth_file, root, norm, username, password, FALSE, &changed, error))
    return FALSE;
  if (username == NULL && changed == 0)
    return hutch_throw (error, HUTCH_ERROR_NOT_FOUND, "not logged in to %s (nothing for it in %s)",
                        norm, auth_file);
  return TRUE;
}

gboolean
hutch_registry_auth_remove_all (const char *auth_file, guint *out_removed, GError **error)
{
  g_autoptr (HutchJsonNode) root = NULL;
  gboolean missing;

  *out_removed = 0;
  root = read_auth_file (auth_file, &missing, error);
  if (root == NULL)
    return missing;
  return write_auth_file (auth_file, root, NULL, NULL, NULL, TRUE, out_removed, error);
}

gboolean
hutch_registry_is_insecure (const char *domain)
{
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  g_autofree char *path = g_build_filename (g_get_user_config_dir (), "hutch", "hutch.conf", NULL);
  g_auto (GStrv) list = NULL;

  if (!g_key_file_load_from_file (kf, path, G_KEY_FILE_NONE, NULL))
    return FALSE;
  list = g_key_file_get_string_list (kf, "registries", "insecure", NULL, NULL);
  for (guint i = 0; list != NULL && list[i] != NULL; i++)
    if (strcmp (g_strstrip (list[i]), domain) == 0)
      return TRUE;
  return FALSE;
}
