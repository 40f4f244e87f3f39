/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The distribution API over libcurl. One HutchRegistry per registry host,
 * shared by the threads of a pull: its token cache is under a mutex and its
 * connections are pooled through a curl share handle. Every request goes
 * through request_run(): authorisation (a cached Bearer token for the
 * repository's scope, or Basic), one 401 answered by a new token, redirects
 * followed by hand so that the registry's Authorization never goes to
 * another host, and retries with backoff on broken connections, 5xx and 429. */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "registry-private.h"

/* first try and six retries: 0.25 s .. 8 s, ~16 s in all */
#define MAX_TRIES HUTCH_REGISTRY_MAX_TRIES
#define MAX_REDIRECTS 10
#define ERROR_BODY_MAX HUTCH_REGISTRY_ERROR_BODY_MAX
#define TOKEN_MAX (1 << 20)

typedef struct
{
  char *value;
  gint64 expires; /* monotonic µs */
} Token;

static void
token_free (gpointer p)
{
  Token *t = p;
  g_free (t->value);
  g_free (t);
}

struct HutchRegistry
{
  const HutchCurl *curl;
  char *domain; /* as references spell it */
  char *host;   /* where it is: registry-1.docker.io for docker.io */
  HutchTlsMode tls;
  char *username, *password, *cred_source;
  GMutex lock; /* guards everything below */
  gboolean pinged;
  char *scheme; /* "https", or "http" for an insecure registry without TLS */
  HutchAuthChallenge *challenge;
  GHashTable *tokens; /* scope -> Token */
  CURLSH *share;
  GMutex share_locks[CURL_LOCK_DATA_LAST];
};

typedef HutchRegistryRequest Request;

static void
response_clear (Request *q)
{
  q->status = 0;
  if (q->body != NULL)
    g_string_truncate (q->body, 0);
  g_clear_pointer (&q->content_type, g_free);
  g_clear_pointer (&q->docker_digest, g_free);
  g_clear_pointer (&q->location, g_free);
  g_clear_pointer (&q->www_auth, g_free);
  g_clear_pointer (&q->retry_after, g_free);
  g_clear_pointer (&q->content_range, g_free);
  g_clear_pointer (&q->range, g_free);
  q->body_checked = FALSE;
  q->curl_error[0] = '\0';
}

static void
request_clear (Request *q)
{
  response_clear (q);
  if (q->body != NULL)
    g_string_free (q->body, TRUE);
  g_free (q->url);
  g_clear_error (&q->sink_error);
}

static void
share_lock (CURL *handle, curl_lock_data data, curl_lock_access access, void *userptr)
{
  HutchRegistry *r = userptr;
  g_mutex_lock (&r->share_locks[data]);
}

static void
share_unlock (CURL *handle, curl_lock_data data, void *userptr)
{
  HutchRegistry *r = userptr;
  g_mutex_unlock (&r->share_locks[data]);
}

static CURLSH *
share_new (HutchRegistry *r)
{
  CURLSH *share = r->curl->share_init ();

  if (share == NULL)
    return NULL;
  r->curl->share_setopt (share, CURLSHOPT_LOCKFUNC, share_lock);
  r->curl->share_setopt (share, CURLSHOPT_UNLOCKFUNC, share_unlock);
  r->curl->share_setopt (share, CURLSHOPT_USERDATA, r);
  r->curl->share_setopt (share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
  r->curl->share_setopt (share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
  r->curl->share_setopt (share, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT);
  return share;
}

HutchRegistry *
hutch_registry_new (const char *domain, const char *repo, const HutchRegistryOptions *opts,
                    GError **error)
{
  const HutchCurl *curl = hutch_curl_get (error);
  g_autoptr (HutchRegistry) r = NULL;
  g_autoptr (GError) local = NULL;

  if (curl == NULL)
    return NULL;
  r = g_new0 (HutchRegistry, 1);
  r->curl = curl;
  g_mutex_init (&r->lock);
  for (guint i = 0; i < CURL_LOCK_DATA_LAST; i++)
    g_mutex_init (&r->share_locks[i]);
  r->domain = g_strdup (domain);
  r->host = g_strdup (strcmp (domain, "docker.io") == 0 ? "registry-1.docker.io" : domain);
  r->tls = opts->tls;
  if (r->tls == HUTCH_TLS_DEFAULT)
    r->tls = hutch_registry_is_insecure (domain) ? HUTCH_TLS_NO_VERIFY : HUTCH_TLS_VERIFY;
  r->tokens = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, token_free);
  r->share = share_new (r);
  if (opts->username != NULL)
    {
      r->username = g_strdup (opts->username);
      r->password = g_strdup (opts->password != NULL ? opts->password : "");
      r->cred_source = g_strdup ("--creds");
    }
  else if (!hutch_registry_auth_lookup (opts->auth_file, domain, repo != NULL ? repo : "",
                                        &r->username, &r->password, &r->cred_source, &local)
           && local != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&local));
      return NULL;
    }
  return g_steal_pointer (&r);
}

void
hutch_registry_free (HutchRegistry *r)
{
  if (r == NULL)
    return;
  if (r->share != NULL)
    r->curl->share_cleanup (r->share);
  g_free (r->domain);
  g_free (r->host);
  g_free (r->username);
  g_free (r->password);
  g_free (r->cred_source);
  g_free (r->scheme);
  hutch_auth_challenge_free (r->challenge);
  g_hash_table_unref (r->tokens);
  g_mutex_clear (&r->lock);
  for (guint i = 0; i < CURL_LOCK_DATA_LAST; i++)
    g_mutex_clear (&r->share_locks[i]);
  g_free (r);
}

const char *
hutch_registry_credentials_source (const HutchRegistry *r)
{
  return r->cred_source;
}

void
hutch_registry_close_connections (HutchRegistry *r)
{
  if (r->share != NULL)
    r->curl->share_cleanup (r->share);
  r->share = share_new (r);
}

/* ---- one HTTP exchange ---- */

static size_t
on_header (char *buffer, size_t size, size_t n, void *userdata)
{
  Request *q = userdata;
  gsize len = size * n;
  g_autofree char *line = g_strndup (buffer, len);
  char *colon, *value;
  char **slot = NULL;

  g_strchomp (line);
  if (g_str_has_prefix (line, "HTTP/"))
    {
      response_clear (q); /* a new response (after 100 Continue, say) */
      return len;
    }
  colon = strchr (line, ':');
  if (colon == NULL)
    return len;
  *colon = '\0';
  value = g_strstrip (colon + 1);
  if (g_ascii_strcasecmp (line, "content-type") == 0)
    slot = &q->content_type;
  else if (g_ascii_strcasecmp (line, "docker-content-digest") == 0)
    slot = &q->docker_digest;
  else if (g_ascii_strcasecmp (line, "location") == 0)
    slot = &q->location;
  else if (g_ascii_strcasecmp (line, "www-authenticate") == 0)
    slot = &q->www_auth;
  else if (g_ascii_strcasecmp (line, "retry-after") == 0)
    slot = &q->retry_after;
  else if (g_ascii_strcasecmp (line, "content-range") == 0)
    slot = &q->content_range;
  else if (g_ascii_strcasecmp (line, "range") == 0)
    slot = &q->range;
  if (slot != NULL && *slot == NULL)
    *slot = g_strdup (value);
  return len;
}

/* The start of a 206's "Content-Range: bytes START-END/TOTAL", or -1. */
static gint64
range_start (const char *value)
{
  guint64 v;
  char *end = NULL;

  if (value == NULL || !g_str_has_prefix (value, "bytes "))
    return -1;
  v = g_ascii_strtoull (value + 6, &end, 10);
  return end != NULL && *end == '-' ? (gint64) v : -1;
}

/* The first bytes of a blob's body: a 206 must start where we are; a 200
 * after a Range request means the registry ignored it, and starts over. */
static gboolean
check_body_start (Request *q, CURL *h, GError **error)
{
  q->r->curl->easy_getinfo (h, CURLINFO_RESPONSE_CODE, &q->status);
  q->body_checked = TRUE;
  if (q->sink == NULL || (q->status != 200 && q->status != 206))
    return TRUE;
  if (q->status == 206 && range_start (q->content_range) != (gint64) *q->offset)
    return hutch_throw (error, HUTCH_ERROR_NETWORK,
                        "%s: the registry answered the request for bytes %" G_GUINT64_FORMAT
                        "- with \"%s\"", q->what, *q->offset,
                        q->content_range != NULL ? q->content_range : "no Content-Range");
  /* The same bytes come again: those we have are dropped on the way, and
   * the digest check at the end still covers them all. */
  q->skip = q->status == 200 ? *q->offset : 0;
  if (q->skip > 0)
    g_debug ("%s: the registry does not resume; skipping %" G_GUINT64_FORMAT " bytes", q->what,
             q->skip);
  return TRUE;
}

static size_t
on_body (char *buffer, size_t size, size_t n, void *userdata)
{
  Request *q = ((gpointer *) userdata)[0];
  CURL *h = ((gpointer *) userdata)[1];
  gsize len = size * n;

  if (!q->body_checked && !check_body_start (q, h, &q->sink_error))
    return 0;
  if (q->sink != NULL && (q->status == 200 || q->status == 206))
    {
      gsize drop = (gsize) MIN ((guint64) len, q->skip);
      q->skip -= drop;
      if (drop == len)
        return len;
      buffer += drop;
      len -= drop;
      if (!q->sink (q->sink_data, buffer, len, &q->sink_error))
        return 0;
      *q->offset += len;
      return len + drop;
    }
  if (q->body->len + len > q->max_body)
    {
      hutch_throw (&q->sink_error, HUTCH_ERROR_INVALID_IMAGE,
                   "%s: the registry's answer is larger than %" G_GSIZE_FORMAT " bytes", q->what,
                   q->max_body);
      return 0;
    }
  g_string_append_len (q->body, buffer, (gssize) len);
  return len;
}

/* An upload's next bytes. */
static size_t
on_read (char *buffer, size_t size, size_t n, void *userdata)
{
  HutchRegistryUpload *u = userdata;
  gsize len = (gsize) MIN ((guint64) size * n, u->length - u->sent);
  ssize_t got;

  if (len == 0)
    return 0;
  if (u->fd < 0)
    memcpy (buffer, (const guint8 *) u->data + u->sent, len);
  else
    {
      do
        got = pread (u->fd, buffer, len, (off_t) (u->start + u->sent));
      while (got < 0 && errno == EINTR);
      if (got <= 0) /* the blob is the store's: it does not shrink */
        return CURL_READFUNC_ABORT;
      len = (gsize) got;
    }
  u->sent += len;
  if (u->on_sent != NULL)
    u->on_sent (u->on_sent_data, u->start + u->sent);
  return len;
}

/* A method other than GET: HEAD asks for no body; the others send
 * q->upload (an empty body when there is none) with their own verb. */
static CURLcode
setup_method (Request *q, CURL *h)
{
  const HutchCurl *c = q->r->curl;
  CURLcode res;

  if (q->method == NULL)
    return CURLE_OK;
  if (strcmp (q->method, "HEAD") == 0)
    return c->easy_setopt (h, CURLOPT_NOBODY, 1L);
  if ((res = c->easy_setopt (h, CURLOPT_UPLOAD, 1L)) != CURLE_OK
      || (res = c->easy_setopt (h, CURLOPT_CUSTOMREQUEST, q->method)) != CURLE_OK
      || (res = c->easy_setopt (h, CURLOPT_INFILESIZE_LARGE,
                                (curl_off_t) (q->upload != NULL ? q->upload->length : 0)))
             != CURLE_OK)
    return res;
  if (q->upload == NULL)
    return CURLE_OK;
  /* No seek function: libcurl must not send a body again by itself (over
   * a new connection, when the pooled one died), as part of it may have
   * reached the registry; the caller asks where the upload stands. */
  q->upload->sent = 0;
  if ((res = c->easy_setopt (h, CURLOPT_READFUNCTION, on_read)) != CURLE_OK
      || (res = c->easy_setopt (h, CURLOPT_READDATA, q->upload)) != CURLE_OK

      || (res = c->easy_setopt (h, CURLOPT_UPLOAD_BUFFERSIZE, 512L << 10)) != CURLE_OK)
    return res;
  return CURLE_OK;
}

/* What trusts the registry's certificate, as asked: a failure here must
 * not leave libcurl's defaults in place of the CA the user named. */
static CURLcode
set_tls (HutchRegistry *r, CURL *h)
{
  const HutchCurl *c = r->curl;
  const char *file = g_getenv ("SSL_CERT_FILE");
  const char *dir = g_getenv ("SSL_CERT_DIR");
  CURLcode res = CURLE_OK;

  /* libcurl itself reads neither variable (the curl tool does): OpenSSL's
   * users expect them, and they are how a test CA is trusted. */
  if (file != NULL && file[0] != '\0')
    res = c->easy_setopt (h, CURLOPT_CAINFO, file);
  if (res == CURLE_OK && dir != NULL && dir[0] != '\0')
    res = c->easy_setopt (h, CURLOPT_CAPATH, dir);
  if (res == CURLE_OK && r->tls == HUTCH_TLS_NO_VERIFY)
    {
      res = c->easy_setopt (h, CURLOPT_SSL_VERIFYPEER, 0L);
      if (res == CURLE_OK)
        res = c->easy_setopt (h, CURLOPT_SSL_VERIFYHOST, 0L);
    }
  return res;
}

/* The options of one GET. Each result is checked: one libcurl does not
 * take would quietly leave its default in place (protocols beyond http,
 * redirects followed with our Authorization, the body to our stdout). */
static CURLcode
setup (Request *q, CURL *h, const char *url, struct curl_slist *headers, gpointer body_data)
{
  HutchRegistry *r = q->r;
  const HutchCurl *c = r->curl;
  CURLcode res;

  if ((res = c->easy_setopt (h, CURLOPT_ERRORBUFFER, q->curl_error)) != CURLE_OK
      || (res = hutch_curl_restrict_protocols (c, h)) != CURLE_OK
      || (res = c->easy_setopt (h, CURLOPT_FOLLOWLOCATION, 0L)) != CURLE_OK
      || (res = c->easy_setopt (h, CURLOPT_URL, url)) != CURLE_OK
      || (res = c->easy_setopt (h, CURLOPT_HTTPHEADER, headers)) != CURLE_OK
      || (res = c->easy_setopt (h, CURLOPT_USERAGENT, "hutch/" HUTCH_VERSION)) != CURLE_OK
      /* no SIGALRM for name lookups: the pull's threads share the process */
      || (res = c->easy_setopt (h, CURLOPT_NOSIGNAL, 1L)) != CURLE_OK
      || (res = c->easy_setopt (h, CURLOPT_CONNECTTIMEOUT, 30L)) != CURLE_OK
      /* a stalled transfer: less than a byte a second for a minute */
      || (res = c->easy_setopt (h, CURLOPT_LOW_SPEED_LIMIT, 1L)) != CURLE_OK
      || (res = c->easy_setopt (h, CURLOPT_LOW_SPEED_TIME, 60L)) != CURLE_OK
      || (res = c->easy_setopt (h, CURLOPT_HEADERFUNCTION, on_header)) != CURLE_OK
      || (res = c->easy_setopt (h, CURLOPT_HEADERDATA, q)) != CURLE_OK
      || (res = c->easy_setopt (h, CURLOPT_WRITEFUNCTION, on_body)) != CURLE_OK
      || (res = c->easy_setopt (h, CURLOPT_WRITEDATA, body_data)) != CURLE_OK
      || (res = c->easy_setopt (h, CURLOPT_BUFFERSIZE, 256L << 10)) != CURLE_OK
      || (r->share != NULL && (res = c->easy_setopt (h, CURLOPT_SHARE, r->share)) != CURLE_OK)
      || (res = set_tls (r, h)) != CURLE_OK
      || (res = setup_method (q, h)) != CURLE_OK)
    g_snprintf (q->curl_error, sizeof q->curl_error,
                "libcurl refused an option hutch needs (%s): hutch needs libcurl 7.74 or later, "
                "built with http and https",
                c->easy_strerror (res));
  return res;
}

/* One GET of @url, with @auth as the Authorization header (or none). */
static CURLcode
perform (Request *q, const char *url, const char *auth, const char *range)
{
  HutchRegistry *r = q->r;
  const HutchCurl *c = r->curl;
  CURL *h = NULL;
  struct curl_slist *headers = NULL;
  g_autofree char *accept = q->accept != NULL ? g_strconcat ("Accept: ", q->accept, NULL) : NULL;
  g_autofree char *authz = auth != NULL ? g_strconcat ("Authorization: ", auth, NULL) : NULL;
  g_autofree char *range_h = range != NULL ? g_strconcat ("Range: ", range, NULL) : NULL;
  gpointer body_data[2] = { q, NULL };
  CURLcode res;

  response_clear (q);
  /* A redirect or a token realm names the next URL: the registry's word,
   * never a file or another protocol of libcurl's (file://, ftp://,
   * gopher://), whichever version of libcurl is loaded. */
  if (g_ascii_strncasecmp (url, "http://", 7) != 0 && g_ascii_strncasecmp (url, "https://", 8) != 0)
    {
      g_snprintf (q->curl_error, sizeof q->curl_error,
                  "refusing %.200s: only http and https URLs are followed", url);
      return CURLE_UNSUPPORTED_PROTOCOL;
    }
  h = c->easy_init ();
  if (h == NULL)
    return CURLE_OUT_OF_MEMORY;
  body_data[1] = h;
  if (accept != NULL)
    headers = c->slist_append (headers, accept);
  if (authz != NULL)
    headers = c->slist_append (headers, authz);
  if (range_h != NULL)
    headers = c->slist_append (headers, range_h);
  for (guint i = 0; q->headers != NULL && q->headers[i] != NULL; i++)
    headers = c->slist_append (headers, q->headers[i]);
  /* an upload starts at once, without waiting for 100 Continue */
  if (q->method != NULL && strcmp (q->method, "HEAD") != 0)
    headers = c->slist_append (headers, "Expect:");
  res = setup (q, h, url, headers, body_data);
  if (res == CURLE_OK)
    res = c->easy_perform (h);
  if (!q->body_checked)
    c->easy_getinfo (h, CURLINFO_RESPONSE_CODE, &q->status);
  c->easy_cleanup (h);
  c->slist_free_all (headers);
  return res;
}

static gboolean
retryable_curl (CURLcode res)
{
  switch (res)
    {
    case CURLE_COULDNT_CONNECT:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_PARTIAL_FILE:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_GOT_NOTHING:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
      return TRUE;
    default:
      return FALSE;
    }
}

static const char *
curl_text (Request *q, CURLcode res)
{
  return q->curl_error[0] != '\0' ? q->curl_error : q->r->curl->easy_strerror (res);
}

/* What the registry's error body says: "CODE: message" of its first error,
 * or the start of the body. */
static char *
registry_says (Request *q)
{
  g_autoptr (HutchJsonNode) root = NULL;
  const HutchJsonNode *errors, *first, *code, *message;

  if (q->body->len == 0)
    return g_strdup_printf ("HTTP %ld", q->status);
  root = hutch_json_parse (q->body->str, q->body->len, NULL);
  errors = hutch_json_node_member (root, "errors");
  if (errors != NULL && errors->type == HUTCH_JSON_ARRAY && errors->n_members > 0)
    {
      first = errors->members[0];
      code = hutch_json_node_member (first, "code");
      message = hutch_json_node_member (first, "message");
      return g_strdup_printf ("HTTP %ld, %s: %s", q->status,
                              code != NULL && code->type == HUTCH_JSON_STRING ? code->string : "?",
                              message != NULL && message->type == HUTCH_JSON_STRING ? message->string
                                                                                     : "");
    }
  return g_strdup_printf ("HTTP %ld, %.200s", q->status, g_strstrip (q->body->str));
}

static char *
host_of (const char *url)
{
  const char *p = strstr (url, "://");
  const char *end;

  if (p == NULL)
    return g_strdup ("");
  p += 3;
  end = p + strcspn (p, "/?#");
  return g_ascii_strdown (p, end - p);
}

/* @location resolved against @base: absolute, host-relative or relative. */
static char *
resolve_location (const char *base, const char *location)
{
  const char *p = strstr (base, "://");
  const char *last;

  if (strstr (location, "://") != NULL)
    return g_strdup (location);
  if (p == NULL)
    return NULL;
  p += 3;
  if (location[0] == '/')
    return g_strdup_printf ("%.*s%s", (int) (p - base + (gssize) strcspn (p, "/?#")), base,
                            location);
  last = strrchr (p, '/');
  if (last == NULL)
    return g_strdup_printf ("%s/%s", base, location);
  return g_strdup_printf ("%.*s/%s", (int) (last - base), base, location);
}

static void
backoff (guint tries, const char *retry_after, const char *what, const char *why)
{
  gulong ms = MIN (250UL << tries, 8000UL);

  if (retry_after != NULL && g_ascii_isdigit (retry_after[0]))
    ms = (gulong) MIN (g_ascii_strtoull (retry_after, NULL, 10), 60) * 1000;
  g_debug ("%s: %s; trying again in %lu ms", what, why, ms);
  g_usleep (ms * 1000);
}

/* ---- authorisation ---- */

static char *
basic_value (const HutchRegistry *r)
{
  g_autofree char *pair = g_strconcat (r->username, ":", r->password, NULL);
  g_autofree char *b64 = g_base64_encode ((const guchar *) pair, strlen (pair));
  return g_strconcat ("Basic ", b64, NULL);
}

static gboolean fetch_token (HutchRegistry *r, const HutchAuthChallenge *c, const char *scope,
                             GError **error);

/* The Authorization value for a request in @scope, or NULL for none. */
static char *
authorization (HutchRegistry *r, const char *scope)
{
  char *value = NULL;

  g_mutex_lock (&r->lock);
  if (r->challenge != NULL && strcmp (r->challenge->scheme, "basic") == 0 && r->username != NULL)
    value = basic_value (r);
  else if (r->challenge != NULL && strcmp (r->challenge->scheme, "bearer") == 0)
    {
      Token *t = g_hash_table_lookup (r->tokens, scope != NULL ? scope : "");
      if (t != NULL && t->expires > g_get_monotonic_time ())
        value = g_strconcat ("Bearer ", t->value, NULL);
    }
  g_mutex_unlock (&r->lock);
  return value;
}

/* Takes the challenge of a 401 and gets what answers it. */
static gboolean
answer_challenge (HutchRegistry *r, Request *q, GError **error)
{
  g_autoptr (HutchAuthChallenge) c = q->www_auth != NULL ? hutch_auth_challenge_parse (q->www_auth)
                                                          : NULL;
  gboolean bearer;

  if (c == NULL)
    return hutch_throw (error, HUTCH_ERROR_AUTH,
                        "%s: the registry answered 401 Unauthorized without a challenge hutch "
                        "understands (WWW-Authenticate: %s)", q->what,
                        q->www_auth != NULL ? q->www_auth : "none");
  bearer = strcmp (c->scheme, "bearer") == 0;
  if (!bearer && r->username == NULL)
    return hutch_throw (error, HUTCH_ERROR_AUTH,
                        "%s: %s needs credentials: log in with \"hutch login %s\" or give "
                        "--creds USER:PASSWORD", q->what, r->domain, r->domain);
  g_mutex_lock (&r->lock);
  hutch_auth_challenge_free (r->challenge);
  r->challenge = g_steal_pointer (&c);
  g_mutex_unlock (&r->lock);
  return !bearer || fetch_token (r, r->challenge, q->scope, error);
}


/* A day: no pull lasts that long, and a larger "expires_in" overflowed
 * the expiry time (UBSan, tests/fuzz token-response). */
#define TOKEN_MAX_LIFETIME (24 * 3600)

gboolean
hutch_registry_token_parse (const char *body, gsize len, char **out_token, gint64 *out_lifetime_us,
                            GError **error)
{
  g_autoptr (HutchJsonNode) root = hutch_json_parse (body, len, error);
  const HutchJsonNode *tok, *expires;
  gint64 secs = 60;

  *out_token = NULL;
  *out_lifetime_us = 0;
  if (root == NULL)
    return FALSE;
  tok = hutch_json_node_member (root, "token");
  if (tok == NULL || tok->type != HUTCH_JSON_STRING || tok->string[0] == '\0')
    tok = hutch_json_node_member (root, "access_token");
  if (tok == NULL || tok->type != HUTCH_JSON_STRING || tok->string[0] == '\0')
    return TRUE;
  expires = hutch_json_node_member (root, "expires_in");
  if (expires != NULL && expires->type == HUTCH_JSON_NUMBER && expires->is_int
      && expires->integer > 0)
    secs = MIN (expires->integer, TOKEN_MAX_LIFETIME);
  *out_token = g_strdup (tok->string);
  /* renewed 10 s early, so that it does not expire on the way */
  *out_lifetime_us = MAX (secs - 10, 1) * G_USEC_PER_SEC;
  return TRUE;
}

static gboolean
fetch_token (HutchRegistry *r, const HutchAuthChallenge *c, const char *scope, GError **error)
{
  g_autoptr (GString) url = g_string_new (c->realm);
  g_autofree char *value = NULL;
  gint64 lifetime = 0;
  Request q = { r, "the registry's token service", NULL, NULL, NULL, TOKEN_MAX };
  Token *t;
  gboolean ok;
  char sep = strchr (c->realm, '?') != NULL ? '&' : '?';

  if (c->service != NULL)
    {
      g_autofree char *e = g_uri_escape_string (c->service, NULL, FALSE);
      g_string_append_printf (url, "%cservice=%s", sep, e);
      sep = '&';
    }
  /* one scope= for each: a mount's token covers two repositories */
  if (scope != NULL)
    {
      g_auto (GStrv) scopes = g_strsplit (scope, " ", -1);
      for (guint i = 0; scopes[i] != NULL; i++)
        {
          g_autofree char *e = g_uri_escape_string (scopes[i], NULL, FALSE);
          g_string_append_printf (url, "%cscope=%s", sep, e);
          sep = '&';
        }
    }
  q.url = g_strdup (url->str);
  q.body = g_string_new (NULL);
  q.scope = NULL;
  {
    g_autofree char *auth = r->username != NULL ? basic_value (r) : NULL;
    CURLcode res = perform (&q, q.url, auth, NULL);
    if (res != CURLE_OK)
      ok = hutch_throw (error, HUTCH_ERROR_NETWORK, "getting a token from %s: %s", c->realm,
                        curl_text (&q, res));
    else if (q.status == 401 || q.status == 403)
      {
        g_autofree char *says = registry_says (&q);
        if (r->username != NULL)
          ok = hutch_throw (error, HUTCH_ERROR_AUTH,
                            "the token service %s refused the credentials of %s from %s (%s): "
                            "check the user name and password (hutch login %s)",
                            c->realm, r->username, r->cred_source, says, r->domain);
        else
          ok = hutch_throw (error, HUTCH_ERROR_AUTH,
                            "the token service %s refused an anonymous pull (%s): the repository "
                            "may be private; log in with \"hutch login %s\"",
                            c->realm, says, r->domain);
      }
    else if (q.status != 200)
      {
        g_autofree char *says = registry_says (&q);
        ok = hutch_throw (error, HUTCH_ERROR_AUTH, "the token service %s answered %s", c->realm,
                          says);
      }
    else
      ok = TRUE;
  }
  if (ok && !hutch_registry_token_parse (q.body->str, q.body->len, &value, &lifetime, error))
    {
      g_prefix_error (error, "the token from %s: ", c->realm);
      ok = FALSE;
    }
  if (ok && value == NULL)
    ok = hutch_throw (error, HUTCH_ERROR_AUTH, "the token service %s answered without a token",
                      c->realm);
  if (ok)
    {
      t = g_new0 (Token, 1);
      t->value = g_steal_pointer (&value);
      t->expires = g_get_monotonic_time () + lifetime;
      g_mutex_lock (&r->lock);
      g_hash_table_replace (r->tokens, g_strdup (scope != NULL ? scope : ""), t);
      g_mutex_unlock (&r->lock);
    }
  request_clear (&q);
  return ok;
}

/* GET /v2/ once: which scheme works, and which challenge the registry
 * sets. With TLS unverified, a registry that speaks plain HTTP is tried
 * over http:// next. */
static gboolean
ping (HutchRegistry *r, GError **error)
{
  Request q = { r, NULL, NULL, NULL, NULL, ERROR_BODY_MAX };
  g_autofree char *what = g_strdup_printf ("registry %s", r->domain);
  const char *schemes[] = { "https", "http" };
  CURLcode res = CURLE_OK;
  gboolean ok = FALSE;

  g_mutex_lock (&r->lock);
  if (r->pinged)
    {
      g_mutex_unlock (&r->lock);
      return TRUE;
    }
  g_mutex_unlock (&r->lock);
  q.what = what;
  q.body = g_string_new (NULL);
  for (guint i = 0; i < (r->tls == HUTCH_TLS_NO_VERIFY ? 2u : 1u); i++)
    {
      for (guint tries = 0;; tries++)
        {
          g_free (q.url);
          q.url = g_strdup_printf ("%s://%s/v2/", schemes[i], r->host);
          res = perform (&q, q.url, NULL, NULL);
          if (res == CURLE_OK || !retryable_curl (res) || res == CURLE_COULDNT_CONNECT
              || tries + 1 >= MAX_TRIES)
            break;
          backoff (tries, NULL, what, curl_text (&q, res));
        }
      if (res == CURLE_OK)
        {
          g_mutex_lock (&r->lock);
          /* threads that pinged at once: the first answer stands */
          if (!r->pinged)
            {
              r->scheme = g_strdup (schemes[i]);
              if (q.status == 401 && q.www_auth != NULL)
                r->challenge = hutch_auth_challenge_parse (q.www_auth);
            }
          r->pinged = TRUE;
          g_mutex_unlock (&r->lock);
          ok = TRUE;
          break;
        }
    }
  if (!ok)
    {
      if (res == CURLE_PEER_FAILED_VERIFICATION || res == CURLE_SSL_CACERT_BADFILE)
        hutch_throw (error, HUTCH_ERROR_NETWORK,
                     "%s: its TLS certificate is not trusted (%s): add its CA to the system's "
                     "(update-ca-certificates) or point SSL_CERT_FILE at it; --tls-verify=false "
                     "skips the check", what, curl_text (&q, res));
      else if (res == CURLE_SSL_CONNECT_ERROR && r->tls != HUTCH_TLS_NO_VERIFY)
        hutch_throw (error, HUTCH_ERROR_NETWORK,
                     "%s: the TLS handshake failed (%s): if it speaks plain HTTP, pull with "
                     "--tls-verify=false or list it under [registries] insecure= in "
                     "~/.config/hutch/hutch.conf", what, curl_text (&q, res));
      else
        hutch_throw (error, HUTCH_ERROR_NETWORK, "%s: cannot reach %s: %s", what, q.url,
                     curl_text (&q, res));
    }
  request_clear (&q);
  return ok;
}

/* Runs @q to a final answer (q->status set), following redirects and
 * answering one 401; errors are connection failures that outlasted the
 * retries and what a sink returned. */
gboolean
hutch_registry_request_run (Request *q, GError **error)
{
  HutchRegistry *r = q->r;
  g_autofree char *url = g_strdup (q->url);
  g_autofree char *registry_host = NULL;
  gboolean answered = FALSE;
  guint redirects = 0, tries = 0;

  if (!ping (r, error))
    return FALSE;
  if (q->body == NULL)
    q->body = g_string_new (NULL);
  registry_host = g_ascii_strdown (r->host, -1);
  /* a Bearer challenge from the ping: get the token before the request */
  if (q->scope != NULL && r->challenge != NULL && strcmp (r->challenge->scheme, "bearer") == 0)
    {
      g_autofree char *have = authorization (r, q->scope);
      if (have == NULL && !fetch_token (r, r->challenge, q->scope, error))
        return FALSE;
    }
  for (;;)
    {
      g_autofree char *host = host_of (url);
      /* the registry's credentials go to the registry alone */
      g_autofree char *auth = strcmp (host, registry_host) == 0 ? authorization (r, q->scope) : NULL;
      g_autofree char *range = NULL;
      guint64 before = q->offset != NULL ? *q->offset : 0;
      CURLcode res;

      if (q->offset != NULL && *q->offset > 0)
        range = g_strdup_printf ("bytes=%" G_GUINT64_FORMAT "-", *q->offset);
      res = perform (q, url, auth, range);
      if (q->sink_error != NULL)
        {
          g_propagate_error (error, g_steal_pointer (&q->sink_error));
          return FALSE;
        }
      if (q->offset != NULL && *q->offset > before)
        tries = 0; /* progress: the retries start again */
      if (res != CURLE_OK)
        {
          if (!q->once && retryable_curl (res) && ++tries < MAX_TRIES)
            {
              backoff (tries - 1, NULL, q->what, curl_text (q, res));
              continue;
            }
          if (q->offset != NULL && *q->offset > 0)
            return hutch_throw (error, HUTCH_ERROR_NETWORK,
                                "%s: the download broke after %" G_GUINT64_FORMAT " bytes (%s); "
                                "tried %u times. What arrived is kept: pull again to resume",
                                q->what, *q->offset, curl_text (q, res), tries);
          return hutch_throw (error, HUTCH_ERROR_NETWORK, "%s: %s", q->what, curl_text (q, res));
        }
      if (q->status == 401 && strcmp (host, registry_host) == 0 && !answered)
        {
          answered = TRUE;
          if (!answer_challenge (r, q, error))
            return FALSE;
          continue;
        }
      if (q->status >= 300 && q->status < 400 && q->status != 304 && q->location != NULL)
        {
          char *next = resolve_location (url, q->location);
          if (next == NULL || ++redirects > MAX_REDIRECTS)
            {
              g_free (next);
              return hutch_throw (error, HUTCH_ERROR_NETWORK, "%s: too many redirects (at %s)",
                                  q->what, url);
            }
          g_debug ("%s: redirected to %s", q->what, next);
          g_free (url);
          url = next;
          continue;
        }
      if (!q->once
          && (q->status == 429 || q->status == 500 || q->status == 502 || q->status == 503
           || q->status == 504)
          && ++tries < MAX_TRIES)
        {
          g_autofree char *says = registry_says (q);
          backoff (tries - 1, q->retry_after, q->what, says);
          continue;
        }
      return TRUE;
    }
}

char *
hutch_registry_url (HutchRegistry *r, const char *path)
{
  return g_strdup_printf ("%s://%s/v2/%s", r->scheme != NULL ? r->scheme : "https", r->host, path);
}

char *
hutch_registry_request_says (Request *q)
{
  return registry_says (q);
}

char *
hutch_registry_resolve_location (const char *base, const char *location)
{
  return resolve_location (base, location);
}

gboolean
hutch_registry_ping (HutchRegistry *r, GError **error)
{
  return ping (r, error);
}

const char *
hutch_registry_domain (const HutchRegistry *r)
{
  return r->domain;
}

void
hutch_registry_backoff (guint tries, const char *retry_after, const char *what, const char *why)
{
  backoff (tries, retry_after, what, why);
}

void
hutch_registry_request_clear (Request *q)
{
  request_clear (q);
}

/* The error for a final answer that is not 2xx. */
gboolean
hutch_registry_request_status_error (Request *q, const char *subject, GError **error)
{
  g_autofree char *says = registry_says (q);

  if (q->status == 404)
    return hutch_throw (error, HUTCH_ERROR_NOT_FOUND, "%s: not found in the registry (%s)",
                        subject, says);
  if ((q->status == 401 || q->status == 403) && q->r->username == NULL && q->method != NULL
      && strcmp (q->method, "HEAD") != 0)
    return hutch_throw (error, HUTCH_ERROR_AUTH,
                        "%s: the registry refuses an anonymous push (%s): log in with \"hutch "
                        "login %s\" or give --creds USER:PASSWORD", subject, says,
                        q->r->domain);
  if ((q->status == 401 || q->status == 403) && q->r->username == NULL)
    return hutch_throw (error, HUTCH_ERROR_AUTH,
                        "%s: access denied (%s): the repository may be private; log in with "
                        "\"hutch login %s\"", subject, says, q->r->domain);
  if (q->status == 401 || q->status == 403)
    return hutch_throw (error, HUTCH_ERROR_AUTH,
                        "%s: access denied to %s with the credentials from %s (%s): check them "
                        "with \"hutch login %s\"", subject, q->r->username, q->r->cred_source, says,
                        q->r->domain);
  return hutch_throw (error, HUTCH_ERROR_NETWORK, "%s: the registry answered %s", subject, says);
}

gboolean
hutch_registry_check_login (HutchRegistry *r, GError **error)
{
  g_autofree char *subject = g_strdup_printf ("registry %s", r->domain);
  Request q = { r, subject, NULL, NULL, NULL, ERROR_BODY_MAX };
  gboolean ok;

  if (!ping (r, error))
    return FALSE;
  if (r->challenge == NULL)
    return TRUE; /* it asks for nothing */
  if (strcmp (r->challenge->scheme, "bearer") == 0)
    return fetch_token (r, r->challenge, NULL, error);
  q.url = g_strdup_printf ("%s://%s/v2/", r->scheme, r->host);
  q.body = g_string_new (NULL);
  ok = hutch_registry_request_run (&q, error);
  if (ok && q.status != 200)
    {
      g_autofree char *says = registry_says (&q);
      ok = hutch_throw (error, HUTCH_ERROR_AUTH, "%s refused the credentials (%s)", r->domain,
                        says);
    }
  request_clear (&q);
  return ok;
}

