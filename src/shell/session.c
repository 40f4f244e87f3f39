/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A shell session's record (STORE/shells/NAME/session.json), whether it
 * runs (its lock), its removal, and the plan's defaults: the secrets it
 * hides, the environment variables it drops, and the user's shell.conf. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "shell-private.h"

void
hutch_shell_session_free (HutchShellSession *s)
{
  if (s == NULL)
    return;
  g_free (s->name);
  g_free (s->dir);
  g_strfreev (s->paths);
  g_free (s);
}

gboolean
hutch_shell_name_validate (const char *name, GError **error)
{
  gboolean ok = name != NULL && g_ascii_isalnum (name[0]) && strlen (name) <= 128;

  for (const char *p = name; ok && *p != '\0'; p++)
    ok = g_ascii_isalnum (*p) || *p == '_' || *p == '.' || *p == '-';
  if (!ok)
    return hutch_throw (error, HUTCH_ERROR_USAGE,
                        "\"%s\" is not a valid session name: a letter or digit, then letters, "
                        "digits, '_', '.' or '-' (128 at most)",
                        name != NULL ? name : "");
  return TRUE;
}

char *
hutch_shell_dir (const char *root, const char *name)
{
  return g_build_filename (root, "shells", name, NULL);
}

gint64
hutch_shell_now_ns (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_REALTIME, &ts);
  return (gint64) ts.tv_sec * G_GINT64_CONSTANT (1000000000) + ts.tv_nsec;
}

gboolean
hutch_shell_session_save (const HutchShellSession *s, GError **error)
{
  g_autoptr (HutchJsonWriter) w = hutch_json_writer_new (TRUE);
  g_autofree char *text = NULL, *path = g_build_filename (s->dir, "session.json", NULL);

  hutch_json_begin_object (w);
  hutch_json_member_string (w, "name", s->name);
  hutch_json_member_int (w, "created", s->created);
  hutch_json_member_int (w, "since", s->since_ns);
  hutch_json_member_strv (w, "paths", s->paths);
  hutch_json_end_object (w);
  text = hutch_json_writer_finish (w);
  return hutch_util_replace_file (path, text, strlen (text), 0600, TRUE, error);
}

HutchShellSession *
hutch_shell_session_load (const char *root, const char *name, GError **error)
{
  g_autoptr (HutchShellSession) s = g_new0 (HutchShellSession, 1);
  g_autofree char *path = NULL, *text = NULL;
  g_autoptr (GError) local = NULL;
  g_autoptr (HutchJsonNode) doc = NULL;
  const HutchJsonNode *n, *paths;
  gsize len;

  if (!hutch_shell_name_validate (name, error))
    return NULL;
  s->name = g_strdup (name);
  s->dir = hutch_shell_dir (root, name);
  path = g_build_filename (s->dir, "session.json", NULL);
  if (!g_file_get_contents (path, &text, &len, &local))
    {
      if (g_error_matches (local, G_FILE_ERROR, G_FILE_ERROR_NOENT))
        return hutch_throw (error, HUTCH_ERROR_NOT_FOUND,
                            "no shell session \"%s\" (\"hutch shell ls\" lists them)", name),
               NULL;
      return hutch_throw (error, HUTCH_ERROR_FAILED, "shell session %s: %s", name, local->message),
             NULL;
    }
  if ((doc = hutch_json_parse (text, len, &local)) == NULL)
    return hutch_throw (error, HUTCH_ERROR_FAILED,
                        "shell session %s: %s is damaged (%s): remove the session with \"hutch "
                        "shell rm %s\"",
                        name, path, local->message, name),
           NULL;
  if ((n = hutch_json_node_member (doc, "created")) != NULL && n->is_int)
    s->created = n->integer;
  if ((n = hutch_json_node_member (doc, "since")) != NULL && n->is_int)
    s->since_ns = n->integer;
  paths = hutch_json_node_member (doc, "paths");
  {
    g_autoptr (GPtrArray) list = g_ptr_array_new_with_free_func (g_free);
    for (guint i = 0; paths != NULL && paths->type == HUTCH_JSON_ARRAY && i < paths->n_members; i++)
      if (paths->members[i]->type == HUTCH_JSON_STRING && paths->members[i]->string[0] == '/')
        g_ptr_array_add (list, g_strdup (paths->members[i]->string));
    g_ptr_array_add (list, NULL);
    s->paths = (char **) g_ptr_array_free (g_steal_pointer (&list), FALSE);
  }
  return g_steal_pointer (&s);
}

static gint
compare_names (gconstpointer a, gconstpointer b)
{
  return strcmp (*(char **) a, *(char **) b);
}

GPtrArray *
hutch_shell_session_names (const char *root, GError **error)
{
  g_autofree char *dir = g_build_filename (root, "shells", NULL);
  hutch_autofd int dfd = open (dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  GPtrArray *names;

  if (dfd < 0 && errno == ENOENT)
    return g_ptr_array_new_with_free_func (g_free);
  if (dfd < 0)
    return hutch_throw_errno (error, "opening %s", dir), NULL;
  names = hutch_util_list_dir_at (dfd, error);
  if (names == NULL)
    return NULL;
  for (guint i = names->len; i-- > 0;)
    {
      struct stat st;
      g_autofree char *rec = g_build_filename (names->pdata[i], "session.json", NULL);
      if (fstatat (dfd, rec, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG (st.st_mode))
        g_ptr_array_remove_index (names, i);
    }
  g_ptr_array_sort (names, compare_names);
  return names;
}

int
hutch_shell_lock_open (const HutchShellSession *s, GError **error)
{
  g_autofree char *path = g_build_filename (s->dir, "lock", NULL);
  int fd = open (path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);

  if (fd < 0)
    return hutch_throw_errno (error, "opening %s", path), -1;
  return fd;
}

gboolean
hutch_shell_session_running (const HutchShellSession *s, pid_t *out_init, guint64 *out_start)
{
  hutch_autofd int lock = hutch_shell_lock_open (s, NULL);
  g_autofree char *path = g_build_filename (s->dir, "state", NULL), *text = NULL;
  long long pid = 0;
  unsigned long long start = 0;

  if (lock < 0 || flock (lock, LOCK_EX | LOCK_NB) == 0)
    return FALSE;
  if (out_init == NULL)
    return TRUE;
  *out_init = 0;
  if (g_file_get_contents (path, &text, NULL, NULL)
      && sscanf (text, "%lld %llu", &pid, &start) == 2 && pid > 1)
    {
      *out_init = (pid_t) pid;
      *out_start = start;
    }
  return TRUE;
}

/* Removes @name under @dir_path: the user's own files, but the kernel's
 * overlay leaves work/work without any permission. */
gboolean
hutch_shell_remove_at (const char *dir_path, const char *name, GError **error)
{
  hutch_autofd int dfd = open (dir_path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  g_autoptr (HutchIdMap) map = NULL;
  const char *names[] = { name, NULL };

  if (dfd < 0)
    return errno == ENOENT || hutch_throw_errno (error, "opening %s", dir_path);
  if (hutch_util_remove_tree_at (dfd, name) || errno == ENOENT)
    return TRUE;
  /* (root of a namespace where the user's files are its own: a directory
   * the kernel's overlay left without any permission goes too) */
  if ((map = hutch_sandbox_idmap_new_for_user (error)) == NULL)
    return FALSE;
  return hutch_sandbox_userns_remove_at (map, dfd, names, error);
}

gboolean
hutch_shell_session_remove (const char *root, const char *name, GError **error)
{
  g_autoptr (HutchShellSession) s = hutch_shell_session_load (root, name, error);
  g_autofree char *shells = g_build_filename (root, "shells", NULL);

  if (s == NULL)
    return FALSE;
  if (hutch_shell_session_running (s, NULL, NULL))
    return hutch_throw (error, HUTCH_ERROR_BUSY,
                        "shell session %s is running: leave its shells first", name);
  return hutch_shell_remove_at (shells, name, error);
}

gboolean
hutch_shell_session_discard (HutchShellSession *s, GError **error)
{
  if (hutch_shell_session_running (s, NULL, NULL))
    return hutch_throw (error, HUTCH_ERROR_BUSY,
                        "shell session %s is running: leave its shells first", s->name);
  if (!hutch_shell_remove_at (s->dir, "ov", error))
    return FALSE;
  s->since_ns = hutch_shell_now_ns ();
  return hutch_shell_session_save (s, error);
}

/* ---- the plan's defaults ---- */

static const char *const default_hidden[] = {
  ".ssh", ".gnupg", ".aws", ".azure", ".kube", ".docker/config.json",
  ".config/containers/auth.json", ".config/hutch", ".netrc", ".git-credentials",
  ".config/git/credentials", ".config/gh", ".config/hub", ".npmrc", ".yarnrc", ".pypirc",
  ".cargo/credentials", ".cargo/credentials.toml", ".gem/credentials", ".config/gcloud",
  ".password-store", ".local/share/keyrings", ".pki", ".mozilla", ".thunderbird",
  ".config/google-chrome", ".config/chromium", ".config/BraveSoftware", ".config/Code/User/globalStorage",
  ".vault-token", ".terraform.d/credentials.tfrc.json", ".m2/settings.xml", ".gradle/gradle.properties",
  ".local/share/recently-used.xbel", ".bash_history", ".zsh_history", ".python_history",
  ".lesshst", ".viminfo", NULL,
};

const char *const *
hutch_shell_default_hidden (void)
{
  return default_hidden;
}

/* Patterns of names whose values are secrets, matched without case. */
static const char *const secret_env[] = {
  "*_TOKEN", "*_TOKEN_*", "TOKEN", "*_SECRET", "*_SECRET_*", "SECRET", "*PASSWORD*", "*PASSWD*",
  "*_PASS", "*_API_KEY", "*_APIKEY", "*_ACCESS_KEY", "*_ACCESS_KEY_ID", "*_SECRET_KEY",
  "*_PRIVATE_KEY", "*_CREDENTIALS", "*_CREDENTIAL", "*_AUTH", "*_AUTH_TOKEN", "*_PAT",
  "*_SESSION_KEY", "SSH_AUTH_SOCK", "SSH_AGENT_PID", "GPG_AGENT_INFO", "DBUS_SESSION_BUS_ADDRESS",
  "XAUTHORITY", "DISPLAY", "WAYLAND_DISPLAY", "REGISTRY_AUTH_FILE", "DOCKER_CONFIG",
  "KUBECONFIG", "VAULT_ADDR", NULL,
};

gboolean
hutch_shell_env_is_secret (const char *name)
{
  g_autofree char *up = g_ascii_strup (name, -1);

  for (guint i = 0; secret_env[i] != NULL; i++)
    if (fnmatch (secret_env[i], up, 0) == 0)
      return TRUE;
  return FALSE;
}

char *
hutch_shell_config_path (void)
{
  return g_build_filename (g_get_user_config_dir (), "hutch", "shell.conf", NULL);
}

/* ~/x and $HOME/x to the home directory's x; an absolute path as it is. */
static char *
config_path_expand (const char *text)
{
  const char *home = g_get_home_dir ();

  if (strcmp (text, "~") == 0)
    return g_strdup (home);
  if (g_str_has_prefix (text, "~/"))
    return g_build_filename (home, text + 2, NULL);
  if (g_str_has_prefix (text, "$HOME/"))
    return g_build_filename (home, text + 6, NULL);
  if (text[0] == '/')
    return g_canonicalize_filename (text, "/");
  return NULL;
}

gboolean
hutch_shell_config_read (const char *path, GPtrArray *hide, GPtrArray *show, GPtrArray *readonly,
                         GPtrArray *writable, GPtrArray *drop_env, GError **error)
{
  g_autofree char *text = NULL;
  g_autoptr (GError) local = NULL;
  g_auto (GStrv) lines = NULL;

  if (!g_file_get_contents (path, &text, NULL, &local))
    {
      if (g_error_matches (local, G_FILE_ERROR, G_FILE_ERROR_NOENT))
        return TRUE;
      return hutch_throw (error, HUTCH_ERROR_USAGE, "%s", local->message);
    }
  lines = g_strsplit (text, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_autofree char *line = g_strstrip (g_strdup (lines[i]));
      g_auto (GStrv) f = NULL;
      g_autofree char *arg = NULL;
      GPtrArray *to = NULL;

      if (line[0] == '\0' || line[0] == '#')
        continue;
      f = g_strsplit_set (line, " \t", 2);
      if (f[1] != NULL)
        arg = g_strstrip (g_strdup (f[1]));
      if (strcmp (f[0], "drop-env") == 0 && arg != NULL && *arg != '\0')
        {
          g_ptr_array_add (drop_env, g_steal_pointer (&arg));
          continue;
        }
      to = strcmp (f[0], "hide") == 0       ? hide
           : strcmp (f[0], "show") == 0     ? show
           : strcmp (f[0], "ro") == 0       ? readonly
           : strcmp (f[0], "rw") == 0       ? writable
                                            : NULL;
      if (to == NULL || arg == NULL || *arg == '\0')
        return hutch_throw (error, HUTCH_ERROR_USAGE,
                            "%s, line %u: \"%s\": each line is \"hide PATH\", \"show PATH\", "
                            "\"ro PATH\", \"rw PATH\" or \"drop-env PATTERN\" (see hutch-shell(1))",
                            path, i + 1, line);
      {
        char *p = config_path_expand (arg);
        if (p == NULL)
          return hutch_throw (error, HUTCH_ERROR_USAGE,
                              "%s, line %u: \"%s\": a path is absolute, or starts with ~/", path,
                              i + 1, arg);
        g_ptr_array_add (to, p);
      }
    }
  return TRUE;
}
