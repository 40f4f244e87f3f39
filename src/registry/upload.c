/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The distribution spec's push side, one blob or manifest at a time: HEAD
 * for a blob the repository has, a cross-repository mount for one another
 * repository of the registry has, a monolithic POST and PUT ?digest= for a
 * small blob, chunked PATCHes (Content-Range) then PUT for a large one, and
 * the manifest PUT. Every request goes through client.c's runner, so auth
 * (a token with the push scope), redirects and retries are pull's.
 *
 * The body of an upload is not retried by the runner (q->once): bytes the
 * registry took before a connection broke are its own, and sending them
 * again would corrupt the blob. Instead the upload asks the registry where
 * it stands (GET on the session, its Range) and goes on from there; when
 * it cannot say (a monolithic PUT, a session it dropped), the blob starts
 * over in a new session. The digest in the final PUT is the registry's
 * check that what it has is the blob. */
#include "config.h"

#include <string.h>

#include "registry-private.h"

#define OCTET_STREAM "Content-Type: application/octet-stream"

char *
hutch_registry_push_scope (const char *repo, const char *from)
{
  if (from != NULL)
    return g_strdup_printf ("repository:%s:pull,push repository:%s:pull", repo, from);
  return g_strdup_printf ("repository:%s:pull,push", repo);
}

/* Whether a request that failed (@ok FALSE with @error) or was answered
 * with @q->status is worth another try: a broken connection, 5xx, 429. */
static gboolean
worth_retrying (const HutchRegistryRequest *q, gboolean ok, const GError *error)
{
  if (!ok)
    return g_error_matches (error, HUTCH_ERROR, HUTCH_ERROR_NETWORK);
  return q->status == 429 || q->status >= 500;
}

gboolean
hutch_registry_blob_exists (HutchRegistry *r, const char *repo, const char *digest,
                            gboolean *out_exists, GError **error)
{
  g_autofree char *scope = hutch_registry_push_scope (repo, NULL);
  g_autofree char *subject = g_strdup_printf ("blob %s of %s/%s", digest,
                                              hutch_registry_domain (r), repo);
  g_autofree char *path = g_strdup_printf ("%s/blobs/%s", repo, digest);
  HutchRegistryRequest q = { r, subject, NULL, NULL, scope, HUTCH_REGISTRY_ERROR_BODY_MAX };
  gboolean ok;

  *out_exists = FALSE;
  q.method = "HEAD";
  if (!hutch_registry_ping (r, error))
    return FALSE;
  q.url = hutch_registry_url (r, path);
  ok = hutch_registry_request_run (&q, error);
  if (ok && q.status == 200)
    *out_exists = TRUE;
  else if (ok && q.status != 404)
    ok = hutch_registry_request_status_error (&q, subject, error);
  hutch_registry_request_clear (&q);
  return ok;
}

/* POST /v2/@repo/blobs/uploads/[@query]: 201 (a mount done) or 202 (an
 * upload session, whose Location goes in *@out_location). */
static gboolean
start_session (HutchRegistry *r, const char *repo, const char *query, const char *scope,
               const char *subject, gboolean *out_mounted, char **out_location,
               gboolean *out_retry, GError **error)
{
  g_autofree char *path = g_strdup_printf ("%s/blobs/uploads/%s", repo, query);
  HutchRegistryRequest q = { r, subject, NULL, NULL, scope, HUTCH_REGISTRY_ERROR_BODY_MAX };
  gboolean ok;

  *out_mounted = FALSE;
  *out_location = NULL;
  q.method = "POST";
  if (!hutch_registry_ping (r, error))
    return FALSE;
  q.url = hutch_registry_url (r, path);
  ok = hutch_registry_request_run (&q, error);
  if (out_retry != NULL)
    *out_retry = worth_retrying (&q, ok, error != NULL ? *error : NULL);
  if (ok && q.status == 201 && query[0] != '\0')
    *out_mounted = TRUE;
  else if (ok && q.status == 202 && q.location != NULL)
    *out_location = hutch_registry_resolve_location (q.url, q.location);
  else if (ok && q.status == 202)
    ok = hutch_throw (error, HUTCH_ERROR_NETWORK,
                      "%s: the registry opened an upload without saying where (no Location)",
                      subject);
  else if (ok && q.status == 405)
    {
      g_autofree char *says = hutch_registry_request_says (&q);
      ok = hutch_throw (error, HUTCH_ERROR_FAILED,
                        "%s: the registry takes no uploads (%s): it may be read-only, or a "
                        "mirror", subject, says);
    }
  else if (ok)
    ok = hutch_registry_request_status_error (&q, subject, error);
  hutch_registry_request_clear (&q);
  return ok;
}

gboolean
hutch_registry_blob_mount (HutchRegistry *r, const char *repo, const char *digest,
                           const char *from, gboolean *out_mounted, char **out_location,
                           GError **error)
{
  g_autofree char *scope = hutch_registry_push_scope (repo, from);
  g_autofree char *subject = g_strdup_printf ("mounting blob %s from %s/%s to %s/%s", digest,
                                              hutch_registry_domain (r), from,
                                              hutch_registry_domain (r), repo);
  g_autofree char *e_digest = g_uri_escape_string (digest, NULL, FALSE);
  g_autofree char *e_from = g_uri_escape_string (from, NULL, FALSE);
  g_autofree char *query = g_strdup_printf ("?mount=%s&from=%s", e_digest, e_from);

  return start_session (r, repo, query, scope, subject, out_mounted, out_location, NULL, error);
}

/* @location with ?digest=@digest (or &digest= when it has a query). */
static char *
with_digest (const char *location, const char *digest)
{
  g_autofree char *e = g_uri_escape_string (digest, NULL, FALSE);
  return g_strdup_printf ("%s%cdigest=%s", location, strchr (location, '?') != NULL ? '&' : '?', e);
}

/* The end of "0-N" (or "bytes=0-N"), plus one: what the registry has of an
 * upload. -1 when it does not say. */
static gint64
range_have (const char *value)
{
  const char *dash;
  char *end = NULL;
  guint64 last;

  if (value == NULL)
    return -1;
  dash = strchr (value, '-');
  if (dash == NULL)
    return -1;
  last = g_ascii_strtoull (dash + 1, &end, 10);
  if (end == dash + 1 || *end != '\0')
    return -1;
  return (gint64) last + 1;
}

typedef struct
{
  HutchRegistry *r;
  const char *repo, *digest, *scope, *subject;
  int fd;
  guint64 size;
  const HutchRegistryUploadOptions *opts;
  char *location; /* the session's, as its last answer gave it */
  guint64 offset; /* what the registry has */
  const void *data; /* the bytes of the next request, when they come from memory */
} Upload;

/* One request of the upload, once. FALSE with @error for a failure; *@retry
 * says whether it is worth another try. */
static gboolean
upload_step (Upload *u, const char *method, const char *url, guint64 start, guint64 len,
             const char *const *headers, long want, HutchRegistryRequest *q, gboolean *retry,
             GError **error)
{
  HutchRegistryUpload body = { u->data != NULL ? -1 : u->fd, u->data, start, len };
  gboolean ok;

  q->r = u->r;
  q->what = u->subject;
  q->url = g_strdup (url);
  q->scope = u->scope;
  q->max_body = HUTCH_REGISTRY_ERROR_BODY_MAX;
  q->method = method;
  q->upload = &body;
  q->headers = headers;
  q->once = TRUE;
  if (u->opts != NULL)
    {
      body.on_sent = u->opts->on_sent;
      body.on_sent_data = u->opts->on_sent_data;
    }
  ok = hutch_registry_request_run (q, error);
  *retry = worth_retrying (q, ok, error != NULL ? *error : NULL);
  if (ok && q->status != want)
    ok = hutch_registry_request_status_error (q, u->subject, error);
  q->upload = NULL;
  return ok;
}

/* One PATCH of @len bytes from u->offset, which the registry's answer
 * moves on. */
static gboolean
patch_chunk (Upload *u, guint64 len, const char *const *headers, gboolean *retry, GError **error)
{
  HutchRegistryRequest q = { 0 };
  gint64 have;
  gboolean ok = upload_step (u, "PATCH", u->location, u->offset, len, headers, 202, &q, retry,
                             error);

  if (ok && q.location != NULL)
    {
      char *next = hutch_registry_resolve_location (q.url, q.location);
      g_free (u->location);
      u->location = next;
    }
  have = ok ? range_have (q.range) : -1;
  hutch_registry_request_clear (&q);
  if (!ok)
    return FALSE;
  /* a registry that does not say takes the chunk as sent */
  if (have >= 0 && (guint64) have != u->offset + len)
    {
      *retry = TRUE;
      return hutch_throw (error, HUTCH_ERROR_NETWORK,
                          "%s: after bytes %" G_GUINT64_FORMAT "-%" G_GUINT64_FORMAT
                          " the registry has %" G_GINT64_FORMAT,
                          u->subject, u->offset, u->offset + len - 1, have);
    }
  u->offset += len;
  return TRUE;
}

/* PATCHes from u->offset to the end, each chunk's answer moving the
 * session on. */
static gboolean
upload_chunks (Upload *u, gboolean *retry, GError **error)
{
  guint64 chunk = u->opts != NULL && u->opts->chunk_size > 0 ? u->opts->chunk_size
                                                              : HUTCH_REGISTRY_CHUNK_DEFAULT;

  while (u->offset < u->size)
    {
      guint64 len = MIN (chunk, u->size - u->offset);
      g_autofree char *range = g_strdup_printf ("Content-Range: %" G_GUINT64_FORMAT
                                                "-%" G_GUINT64_FORMAT,
                                                u->offset, u->offset + len - 1);
      const char *headers[] = { OCTET_STREAM, range, NULL };

      if (!patch_chunk (u, len, headers, retry, error))
        return FALSE;
    }
  return TRUE;
}

/* GET on the session: how much of the blob the registry kept, after a
 * broken chunk. FALSE when it cannot say (the session is gone). */
static gboolean
upload_status (Upload *u)
{
  HutchRegistryRequest q = { u->r, u->subject, g_strdup (u->location), NULL, u->scope,
                             HUTCH_REGISTRY_ERROR_BODY_MAX };
  gint64 have = -1;

  if (hutch_registry_request_run (&q, NULL) && q.status == 204)
    have = range_have (q.range);
  if (have < 0 && q.status == 204 && q.range == NULL)
    have = 0; /* nothing yet */
  if (have >= 0 && (guint64) have <= u->size)
    {
      if (q.location != NULL)
        {
          char *next = hutch_registry_resolve_location (q.url, q.location);
          g_free (u->location);
          u->location = next;
        }
      u->offset = (guint64) have;
    }
  hutch_registry_request_clear (&q);
  return have >= 0 && (guint64) have <= u->size;
}

/* One pass over the session from u->offset: the rest in chunks, or the
 * whole blob in the PUT that ends it. */
static gboolean
upload_pass (Upload *u, gboolean *retry, GError **error)
{
  gboolean chunked = u->size > (u->opts != NULL && u->opts->chunk_size > 0
                                    ? u->opts->chunk_size
                                    : HUTCH_REGISTRY_CHUNK_DEFAULT);
  g_autofree char *url = NULL;
  const char *headers[] = { OCTET_STREAM, NULL };
  HutchRegistryRequest q = { 0 };
  gboolean ok;

  if (u->location == NULL)
    {
      gboolean mounted;
      u->offset = 0;
      if (!start_session (u->r, u->repo, "", u->scope, u->subject, &mounted, &u->location, retry,
                          error))
        return FALSE;
    }
  if ((chunked || u->offset > 0) && !upload_chunks (u, retry, error))
    return FALSE;
  url = with_digest (u->location, u->digest);
  ok = upload_step (u, "PUT", url, u->offset, u->size - u->offset, headers, 201, &q, retry, error);
  if (ok && q.docker_digest != NULL && strcmp (q.docker_digest, u->digest) != 0)
    ok = hutch_throw (error, HUTCH_ERROR_DIGEST_MISMATCH,
                      "%s: the registry stored it as %s", u->subject, q.docker_digest);
  if (ok)
    u->offset = u->size;
  hutch_registry_request_clear (&q);
  return ok;
}

gboolean
hutch_registry_blob_upload (HutchRegistry *r, const char *repo, const char *digest, int fd,
                            guint64 size, char *location, const HutchRegistryUploadOptions *opts,
                            GError **error)
{
  g_autofree char *scope = hutch_registry_push_scope (repo, NULL);
  g_autofree char *subject = g_strdup_printf ("blob %s to %s/%s", digest,
                                              hutch_registry_domain (r), repo);
  Upload u = { r, repo, digest, scope, subject, fd, size, opts, location, 0 };
  guint tries = 0;
  gboolean ok = FALSE;

  for (;;)
    {
      g_autoptr (GError) local = NULL;
      gboolean retry = FALSE;
      guint64 before = u.offset;

      if (upload_pass (&u, &retry, &local))
        {
          ok = TRUE;
          break;
        }
      if (!retry || ++tries >= HUTCH_REGISTRY_MAX_TRIES)
        {
          if (retry)
            g_prefix_error (&local, "tried %u times: ", tries);
          g_propagate_error (error, g_steal_pointer (&local));
          break;
        }
      hutch_registry_backoff (tries - 1, NULL, "upload", local->message);
      /* where the registry stands; a session it cannot account for is
       * dropped, and the blob starts over */
      if (u.location != NULL && !upload_status (&u))
        g_clear_pointer (&u.location, g_free);
      if (u.location == NULL)
        u.offset = 0;
      if (u.offset > before)
        tries = 0; /* progress: the retries start again */
    }
  g_free (u.location);
  return ok;
}

gboolean
hutch_registry_put_manifest (HutchRegistry *r, const char *repo, const char *reference,
                             const char *media_type, const void *data, gsize len,
                             const char *digest, GError **error)
{
  g_autofree char *scope = hutch_registry_push_scope (repo, NULL);
  g_autofree char *subject
      = g_strdup_printf ("manifest %s/%s%s%s", hutch_registry_domain (r), repo,
                         g_str_has_prefix (reference, "sha256:") ? "@" : ":", reference);
  g_autofree char *path = g_strdup_printf ("%s/manifests/%s", repo, reference);
  g_autofree char *type = g_strconcat ("Content-Type: ", media_type, NULL);
  const char *headers[] = { type, NULL };
  HutchRegistryUpload body = { -1, data, 0, len };
  HutchRegistryRequest q = { r, subject, NULL, NULL, scope, HUTCH_REGISTRY_ERROR_BODY_MAX };
  gboolean ok;

  q.method = "PUT";
  q.upload = &body;
  q.headers = headers;
  if (!hutch_registry_ping (r, error))
    return FALSE;
  q.url = hutch_registry_url (r, path);
  /* the same bytes again are the same manifest: the runner may retry */
  ok = hutch_registry_request_run (&q, error);
  if (ok && q.status != 201 && q.status != 200)
    ok = hutch_registry_request_status_error (&q, subject, error);
  if (ok && q.docker_digest != NULL && strcmp (q.docker_digest, digest) != 0)
    ok = hutch_throw (error, HUTCH_ERROR_DIGEST_MISMATCH,
                      "%s: the registry stored it as %s, not %s", subject, q.docker_digest,
                      digest);
  hutch_registry_request_clear (&q);
  return ok;
}

/* ---- a session fed as bytes come (a layer compressed on the way) ---- */

struct HutchRegistrySession
{
  Upload u;
  char *scope, *subject;
};

void
hutch_registry_session_free (HutchRegistrySession *s)
{
  if (s == NULL)
    return;
  g_free (s->u.location);
  g_free (s->scope);
  g_free (s->subject);
  g_free (s);
}

HutchRegistrySession *
hutch_registry_session_open (HutchRegistry *r, const char *repo,
                             const HutchRegistryUploadOptions *opts, GError **error)
{
  g_autoptr (HutchRegistrySession) s = g_new0 (HutchRegistrySession, 1);
  gboolean mounted;

  s->scope = hutch_registry_push_scope (repo, NULL);
  s->subject = g_strdup_printf ("a layer to %s/%s", hutch_registry_domain (r), repo);
  s->u = (Upload) { r, repo, NULL, s->scope, s->subject, -1, 0, opts, NULL, 0 };
  if (!start_session (r, repo, "", s->scope, s->subject, &mounted, &s->u.location, NULL, error))
    return NULL;
  return g_steal_pointer (&s);
}

gboolean
hutch_registry_session_append (HutchRegistrySession *s, const void *data, gsize len,
                               GError **error)
{
  Upload *u = &s->u;
  g_autofree char *range = g_strdup_printf ("Content-Range: %" G_GUINT64_FORMAT
                                            "-%" G_GUINT64_FORMAT,
                                            u->offset, u->offset + len - 1);
  const char *headers[] = { OCTET_STREAM, range, NULL };
  gboolean retry, ok;

  if (len == 0)
    return TRUE;
  u->data = data;
  ok = patch_chunk (u, len, headers, &retry, error);
  u->data = NULL;
  return ok;
}

gboolean
hutch_registry_session_finish (HutchRegistrySession *s, const char *digest, GError **error)
{
  Upload *u = &s->u;
  g_autofree char *url = with_digest (u->location, digest);
  const char *headers[] = { OCTET_STREAM, NULL };
  HutchRegistryRequest q = { 0 };
  gboolean retry, ok;

  u->digest = digest;
  u->data = "";
  ok = upload_step (u, "PUT", url, u->offset, 0, headers, 201, &q, &retry, error);
  u->data = NULL;
  if (ok && q.docker_digest != NULL && strcmp (q.docker_digest, digest) != 0)
    ok = hutch_throw (error, HUTCH_ERROR_DIGEST_MISMATCH, "%s: the registry stored %s as %s",
                      u->subject, digest, q.docker_digest);
  hutch_registry_request_clear (&q);
  return ok;
}
