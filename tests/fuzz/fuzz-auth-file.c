/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* registry/auth.c: the auth files podman (containers-auth.json) and docker
 * (config.json) write, which hutch reads for credentials and rewrites on
 * login and logout. The input's first line is a registry (as login takes
 * it, and as domain/repository for the lookup), the rest the file. A file
 * hutch rewrote must still parse, and must give back what was stored. */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "fuzz-common.h"
#include "registry/registry-private.h"

static char *auth_path;

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  hutch_fuzz_setup ();
  auth_path = g_build_filename (hutch_fuzz_scratch (), "auth.json", NULL);
  return 0;
}

static void
write_file (const char *text, gsize len)
{
  g_autoptr (GError) error = NULL;

  if (!g_file_set_contents (auth_path, text, (gssize) len, &error))
    hutch_fuzz_fail ("writing %s: %s", auth_path, error->message);
}

static void
lookup (const char *domain, const char *repo)
{
  g_autofree char *user = NULL, *pass = NULL, *source = NULL;
  g_autoptr (GError) error = NULL;

  if (hutch_registry_auth_lookup (auth_path, domain, repo, &user, &pass, &source, &error))
    {
      if (user == NULL || pass == NULL || user[0] == '\0' || strcmp (source, auth_path) != 0)
        hutch_fuzz_fail ("a lookup succeeded without a user, a password or its file");
    }
  else if (user != NULL || pass != NULL)
    hutch_fuzz_fail ("a failed lookup left credentials behind");
}

/* Whether @root has an entry for a namespace of @domain ("domain/..."),
 * which a lookup would prefer to the whole registry's. */
static gboolean
has_namespace_entry (const HutchJsonNode *root, const char *domain)
{
  const HutchJsonNode *auths = hutch_json_node_member (root, "auths");
  g_autofree char *prefix = g_strconcat (domain, "/", NULL);

  for (guint i = 0; auths != NULL && auths->type == HUTCH_JSON_OBJECT && i < auths->n_members; i++)
    {
      g_autofree char *k = hutch_registry_auth_key (auths->keys[i]);
      if (g_str_has_prefix (k, prefix))
        return TRUE;
    }
  return FALSE;
}

/* hutch login then hutch logout of @key on the file as it is now. */
static void
store_and_remove (const char *key, const char *domain, const char *repo)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *norm = hutch_registry_auth_key (key);
  g_autofree char *text = NULL, *user = NULL, *pass = NULL, *source = NULL;
  g_autoptr (HutchJsonNode) root = NULL;
  guint removed;

  if (!hutch_registry_auth_store (auth_path, key, "fuzz-user", "pass:word", &error))
    return; /* the file was refused: not JSON, not an object */
  if (!g_file_get_contents (auth_path, &text, NULL, &error)
      || (root = hutch_json_parse (text, strlen (text), &error)) == NULL)
    hutch_fuzz_fail ("after storing \"%s\", the auth file does not parse: %s\n%s", key,
                     error->message, text != NULL ? text : "");
  /* Stored for a whole registry, and no entry for a part of it: a lookup
   * of that registry gives back what was stored. ("/" is stored under "",
   * which nothing looks up: no registry has an empty name.) */
  if (norm[0] != '\0' && strcmp (norm, domain) == 0 && !has_namespace_entry (root, domain)
      && (!hutch_registry_auth_lookup (auth_path, domain, repo, &user, &pass, &source, &error)
          || strcmp (user, "fuzz-user") != 0 || strcmp (pass, "pass:word") != 0))
    hutch_fuzz_fail ("after storing \"%s\", a lookup of %s/%s does not find it%s%s", key, domain,
                     repo, error != NULL ? ": " : "", error != NULL ? error->message : "");
  g_clear_error (&error);
  if (!hutch_registry_auth_store (auth_path, key, NULL, NULL, &error))
    hutch_fuzz_fail ("removing \"%s\" just stored failed: %s", key, error->message);
  if (!hutch_registry_auth_remove_all (auth_path, &removed, &error))
    hutch_fuzz_fail ("removing every entry failed: %s", error->message);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  const char *nl = memchr (data, '\n', size);
  gsize key_len = nl != NULL ? (gsize) (nl - (const char *) data) : size;
  g_autofree char *key = hutch_fuzz_cstring (data, key_len);
  const char *file = nl != NULL ? nl + 1 : "";
  gsize file_len = nl != NULL ? size - (gsize) (file - (const char *) data) : 0;
  g_autofree char *domain = NULL;
  const char *slash;

  write_file (file, file_len);
  /* the first line's registry, as a pull of it would look it up */
  slash = strchr (key, '/');
  domain = slash != NULL ? g_strndup (key, (gsize) (slash - key)) : g_strdup (key);
  lookup (domain, slash != NULL && slash[1] != '\0' ? slash + 1 : "library/busybox");
  lookup ("docker.io", "library/busybox");
  lookup ("registry.example:5000", "team/app");
  /* hutch login stores a registry it has just logged in to: a host name,
   * never text that is not UTF-8 (which JSON could not hold as it is). */
  if (key[0] != '\0' && g_utf8_validate (key, -1, NULL))
    store_and_remove (key, domain, slash != NULL && slash[1] != '\0' ? slash + 1 : "x");
  return 0;
}
