/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What the files of registry/ share: libcurl's entry points, loaded once. */
#pragma once

#include <curl/curl.h>

#include "registry.h"

G_BEGIN_DECLS

typedef struct
{
  CURL *(*easy_init) (void);
  CURLcode (*easy_setopt) (CURL *curl, CURLoption option, ...);
  CURLcode (*easy_perform) (CURL *curl);
  CURLcode (*easy_getinfo) (CURL *curl, CURLINFO info, ...);
  void (*easy_cleanup) (CURL *curl);
  const char *(*easy_strerror) (CURLcode code);
  struct curl_slist *(*slist_append) (struct curl_slist *list, const char *text);
  void (*slist_free_all) (struct curl_slist *list);
  CURLSH *(*share_init) (void);
  CURLSHcode (*share_setopt) (CURLSH *share, CURLSHoption option, ...);
  CURLSHcode (*share_cleanup) (CURLSH *share);
} HutchCurl;

/* libcurl, loaded and initialised on first use (thread-safe); NULL with
 * HUTCH_ERROR_HOST_UNSUPPORTED naming the package when it cannot be. */
const HutchCurl *hutch_curl_get (GError **error);

/* Limits handle @h to http and https, through whichever of libcurl's two
 * options the loaded libcurl has; its result otherwise. */
CURLcode hutch_curl_restrict_protocols (const HutchCurl *c, CURL *h);

/* A challenge from WWW-Authenticate. */
typedef struct
{
  char *scheme; /* "bearer" or "basic", lowercased */
  char *realm;
  char *service;
  char *scope;
} HutchAuthChallenge;

void hutch_auth_challenge_free (HutchAuthChallenge *c);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (HutchAuthChallenge, hutch_auth_challenge_free)

/* Parses a WWW-Authenticate value; NULL when it has no scheme we speak. */
HutchAuthChallenge *hutch_auth_challenge_parse (const char *value);

/* Reads the token service's answer (client.c): FALSE with @error when it
 * is not JSON; else TRUE, with *@out_token the token (NULL when it has
 * none; the caller frees it) and *@out_lifetime_us how long to use it. */
gboolean hutch_registry_token_parse (const char *body, gsize len, char **out_token,
                                     gint64 *out_lifetime_us, GError **error);

/* ---- one request (client.c), for the files that speak the API ---- */

/* What an upload sends: @length bytes of @fd from @start, or of @data.
 * Sent again from the start when the request is repeated (a 401). */
typedef struct
{
  int fd; /* or -1 for @data */
  const void *data;
  guint64 start, length;
  guint64 sent; /* by the current try */
  /* called as bytes go with how far into the blob they reached, from the
   * thread that runs the request */
  void (*on_sent) (gpointer data, guint64 position);
  gpointer on_sent_data;
} HutchRegistryUpload;

/* A request to the registry, run by hutch_registry_request_run(). The
 * first fields are what to ask; a GET when @method is NULL. */
typedef struct
{
  HutchRegistry *r;
  const char *what;   /* for messages: "manifest docker.io/library/busybox:latest" */
  char *url;
  const char *accept; /* or NULL */
  const char *scope;  /* the token scope, or NULL for none; several, space-separated */
  gsize max_body;
  /* streaming a blob */
  HutchRegistrySinkFunc sink;
  gpointer sink_data;
  guint64 skip; /* bytes of a 200 to drop: the registry ignored our Range */
  guint64 *offset;
  /* other methods: "HEAD", "POST", "PUT", "PATCH" */
  const char *method;
  HutchRegistryUpload *upload;     /* the body of a POST, PUT or PATCH; NULL for none */
  const char *const *headers;      /* more request headers ("Content-Range: 0-99"), or NULL */
  gboolean once;                   /* no retries: an upload that broke is the caller's to resume */
  GError *sink_error;
  gboolean body_checked;
  /* the response */
  long status;
  GString *body;
  char *content_type, *docker_digest, *location, *www_auth, *retry_after, *content_range;
  char *range; /* an upload's "Range: 0-N" */
  char curl_error[CURL_ERROR_SIZE];
} HutchRegistryRequest;

/* Runs @q to a final answer (q->status set; q->body allocated if NULL),
 * with authorisation, redirects and, unless q->once, retries. FALSE for a
 * connection that failed (q->status 0) or a sink's error; a registry's
 * answer, whatever it is, is TRUE. */
gboolean hutch_registry_request_run (HutchRegistryRequest *q, GError **error);
void hutch_registry_request_clear (HutchRegistryRequest *q);
/* The registry's error body of @q, as "HTTP 403, DENIED: message". */
char *hutch_registry_request_says (HutchRegistryRequest *q);
/* The error for a final answer of @q that is not 2xx, naming @subject. */
gboolean hutch_registry_request_status_error (HutchRegistryRequest *q, const char *subject,
                                              GError **error);
/* scheme://host/v2/@path, once hutch_registry_ping() has found the scheme. */
char *hutch_registry_url (HutchRegistry *r, const char *path);
/* @location (a Location header) resolved against @base. */
char *hutch_registry_resolve_location (const char *base, const char *location);
/* Finds how to reach the registry and which challenge it sets (once). */
gboolean hutch_registry_ping (HutchRegistry *r, GError **error);
const char *hutch_registry_domain (const HutchRegistry *r);
/* Sleeps before try @tries + 1, as pull's retries do: 0.25 s doubling to
 * 8 s, or what Retry-After says. */
void hutch_registry_backoff (guint tries, const char *retry_after, const char *what,
                             const char *why);
#define HUTCH_REGISTRY_MAX_TRIES 7
#define HUTCH_REGISTRY_ERROR_BODY_MAX 65536

/* ---- the push side of the API (upload.c) ---- */

/* Blobs larger than this go in PATCHes of this size. */
#define HUTCH_REGISTRY_CHUNK_DEFAULT ((guint64) 64 << 20)

typedef struct
{
  guint64 chunk_size; /* 0 for HUTCH_REGISTRY_CHUNK_DEFAULT */
  void (*on_sent) (gpointer data, guint64 position);
  gpointer on_sent_data;
} HutchRegistryUploadOptions;

/* "repository:@repo:pull,push", and pull on @from (a mount's source). */
char *hutch_registry_push_scope (const char *repo, const char *from);
/* HEAD: whether repository @repo has blob @digest. */
gboolean hutch_registry_blob_exists (HutchRegistry *r, const char *repo, const char *digest,
                                     gboolean *out_exists, GError **error);
/* Asks the registry to mount @digest from its repository @from into @repo:
 * *@out_mounted, or else the upload session it opened instead, in
 * *@out_location (hutch_registry_blob_upload() takes it). */
gboolean hutch_registry_blob_mount (HutchRegistry *r, const char *repo, const char *digest,
                                    const char *from, gboolean *out_mounted, char **out_location,
                                    GError **error);
/* Uploads the @size bytes of @fd as blob @digest of @repo, in the session
 * @location (taken; NULL to open one): whole when small, in chunks when
 * large; a broken connection goes on from where the registry stands, or
 * starts over, with pull's backoff. */
gboolean hutch_registry_blob_upload (HutchRegistry *r, const char *repo, const char *digest,
                                     int fd, guint64 size, char *location,
                                     const HutchRegistryUploadOptions *opts, GError **error);
/* An upload fed as its bytes come, in chunks (PATCH), its digest known at
 * the end (PUT): a layer compressed on the way. No retries: a caller whose
 * session broke uploads the finished blob with hutch_registry_blob_upload(). */
typedef struct HutchRegistrySession HutchRegistrySession;
HutchRegistrySession *hutch_registry_session_open (HutchRegistry *r, const char *repo,
                                                   const HutchRegistryUploadOptions *opts,
                                                   GError **error);
gboolean hutch_registry_session_append (HutchRegistrySession *s, const void *data, gsize len,
                                        GError **error);
gboolean hutch_registry_session_finish (HutchRegistrySession *s, const char *digest,
                                        GError **error);
void hutch_registry_session_free (HutchRegistrySession *s);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (HutchRegistrySession, hutch_registry_session_free)

/* PUT of a manifest as @reference (a tag or its digest), checked against
 * the Docker-Content-Digest the registry answers. */
gboolean hutch_registry_put_manifest (HutchRegistry *r, const char *repo, const char *reference,
                                      const char *media_type, const void *data, gsize len,
                                      const char *digest, GError **error);

G_END_DECLS
