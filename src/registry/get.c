/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What pull reads from a registry: manifests, configs and layer blobs,
 * each a GET through the one request runner of client.c. */
#include "config.h"

#include <string.h>

#include "registry-private.h"

static char *
scope_for (const char *repo)
{
  return g_strdup_printf ("repository:%s:pull", repo);
}

/* GET /v2/@repo/@kind/@reference whole into q->body: TRUE for a 200. */
static gboolean
get_whole (HutchRegistryRequest *q, const char *repo, const char *kind, const char *reference,
           GError **error)
{
  g_autofree char *path = g_strdup_printf ("%s/%s/%s", repo, kind, reference);

  if (!hutch_registry_ping (q->r, error))
    return FALSE;
  q->url = hutch_registry_url (q->r, path);
  q->body = g_string_new (NULL);
  if (!hutch_registry_request_run (q, error))
    return FALSE;
  return q->status == 200 || hutch_registry_request_status_error (q, q->what, error);
}

GBytes *
hutch_registry_get_manifest (HutchRegistry *r, const char *repo, const char *reference,
                             char **out_media_type, char out_digest[HUTCH_DIGEST_BUFSIZE],
                             GError **error)
{
  g_autofree char *scope = scope_for (repo);
  g_autofree char *subject
      = g_strdup_printf ("%s/%s%s%s", hutch_registry_domain (r), repo,
                         g_str_has_prefix (reference, "sha256:") ? "@" : ":", reference);
  HutchRegistryRequest q
      = { r,
          subject,
          NULL,
          HUTCH_MEDIA_TYPE_OCI_MANIFEST ", " HUTCH_MEDIA_TYPE_OCI_INDEX ", "
                                        "application/vnd.docker.distribution.manifest.v2+json, "
                                        "application/vnd.docker.distribution.manifest.list.v2+json",
          scope,
          HUTCH_JSON_MAX_SIZE };
  GBytes *out = NULL;

  if (!get_whole (&q, repo, "manifests", reference, error))
    goto out;
  hutch_sha256_digest_of (q.body->str, q.body->len, out_digest);
  if (g_str_has_prefix (reference, "sha256:") && strcmp (reference, out_digest) != 0)
    {
      hutch_throw (error, HUTCH_ERROR_DIGEST_MISMATCH,
                   "%s: the manifest the registry sent hashes to %s", subject, out_digest);
      goto out;
    }
  if (q.docker_digest != NULL && g_str_has_prefix (q.docker_digest, "sha256:")
      && strcmp (q.docker_digest, out_digest) != 0)
    {
      hutch_throw (error, HUTCH_ERROR_DIGEST_MISMATCH,
                   "%s: the registry says the manifest is %s, but it hashes to %s", subject,
                   q.docker_digest, out_digest);
      goto out;
    }
  *out_media_type = q.content_type != NULL ? g_strdup (q.content_type) : NULL;
  if (*out_media_type != NULL)
    (*out_media_type)[strcspn (*out_media_type, "; ")] = '\0';
  out = g_bytes_new (q.body->str, q.body->len);
out:
  hutch_registry_request_clear (&q);
  return out;
}

GBytes *
hutch_registry_get_small_blob (HutchRegistry *r, const char *repo, const char *digest, gsize max,
                               GError **error)
{
  g_autofree char *scope = scope_for (repo);
  g_autofree char *subject
      = g_strdup_printf ("blob %s of %s/%s", digest, hutch_registry_domain (r), repo);
  HutchRegistryRequest q = { r, subject, NULL, NULL, scope, max };
  char actual[HUTCH_DIGEST_BUFSIZE];
  GBytes *out = NULL;

  if (!get_whole (&q, repo, "blobs", digest, error))
    goto out;
  hutch_sha256_digest_of (q.body->str, q.body->len, actual);
  if (strcmp (actual, digest) != 0)
    {
      hutch_throw (error, HUTCH_ERROR_DIGEST_MISMATCH,
                   "%s: what the registry sent hashes to %s (corrupt on the registry, or "
                   "tampered with on the way)",
                   subject, actual);
      goto out;
    }
  out = g_bytes_new (q.body->str, q.body->len);
out:
  hutch_registry_request_clear (&q);
  return out;
}

gboolean
hutch_registry_get_blob (HutchRegistry *r, const char *repo, const char *digest, gint64 size,
                         guint64 *offset, HutchRegistrySinkFunc sink, gpointer data, GError **error)
{
  g_autofree char *scope = scope_for (repo);
  g_autofree char *subject
      = g_strdup_printf ("blob %s of %s/%s", digest, hutch_registry_domain (r), repo);
  HutchRegistryRequest q
      = { r, subject, NULL, NULL, scope, HUTCH_REGISTRY_ERROR_BODY_MAX, sink, data, 0, offset };
  gboolean ok;

  if (size >= 0 && *offset == (guint64)size)
    return TRUE; /* a partial download that had everything */
  if (!hutch_registry_ping (r, error))
    return FALSE;
  {
    g_autofree char *path = g_strdup_printf ("%s/blobs/%s", repo, digest);
    q.url = hutch_registry_url (r, path);
  }
  q.body = g_string_new (NULL);
  ok = hutch_registry_request_run (&q, error);
  if (ok && q.status != 200 && q.status != 206)
    ok = hutch_registry_request_status_error (&q, subject, error);
  hutch_registry_request_clear (&q);
  return ok;
}
