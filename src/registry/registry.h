/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* registry/: the OCI distribution (Docker Registry v2) client, and pull.
 *
 * client.c speaks HTTP through libcurl, which curl.c loads with dlopen() the
 * first time a registry is needed (linked, it would cost every command its
 * start-up). auth.c answers Bearer and Basic challenges with credentials
 * from --creds or the auth files podman and docker write, and writes them
 * for login/logout. pull.c is the one file here that writes the store: it
 * resolves a reference to a manifest and config in the parent, then fetches
 * the layers in parallel as root of the user namespace, each streamed into
 * its blob and into the unpacker at once. */
#pragma once

#include <glib.h>

#include "image/image.h"
#include "util/util.h"

G_BEGIN_DECLS

typedef enum
{
  HUTCH_TLS_DEFAULT, /* verify, unless hutch.conf lists the registry as insecure */
  HUTCH_TLS_VERIFY,
  HUTCH_TLS_NO_VERIFY, /* unverified TLS, then plain HTTP */
} HutchTlsMode;

typedef struct
{
  HutchTlsMode tls;
  const char *username; /* --creds; NULL to look in the auth files */
  const char *password;
  const char *auth_file; /* --authfile; NULL for the usual places */
} HutchRegistryOptions;

typedef struct HutchRegistry HutchRegistry;

/* A client for the registry at @domain (a reference's domain: docker.io
 * means registry-1.docker.io), with the credentials for @repo (NULL: the
 * registry's own). Makes no request yet. HUTCH_ERROR_HOST_UNSUPPORTED when
 * libcurl cannot be loaded. */
HutchRegistry *hutch_registry_new (const char *domain, const char *repo,
                                   const HutchRegistryOptions *opts, GError **error);
void hutch_registry_free (HutchRegistry *r);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (HutchRegistry, hutch_registry_free)

/* Where credentials for @domain came from ("--creds", a file's path), or
 * NULL when there are none. */
const char *hutch_registry_credentials_source (const HutchRegistry *r);

/* The manifest or index @reference (a tag or a digest) of repository
 * @repo, checked against the digest when @reference is one, and against the
 * registry's Docker-Content-Digest when it says one. HUTCH_ERROR_NOT_FOUND
 * quoting the registry's error for a missing tag or repository. */
GBytes *hutch_registry_get_manifest (HutchRegistry *r, const char *repo, const char *reference,
                                     char **out_media_type,
                                     char out_digest[HUTCH_DIGEST_BUFSIZE], GError **error);

/* A small blob (a config) read whole and checked against @digest. */
GBytes *hutch_registry_get_small_blob (HutchRegistry *r, const char *repo, const char *digest,
                                       gsize max, GError **error);

/* Receives a blob's bytes in order. */
typedef gboolean (*HutchRegistrySinkFunc) (gpointer data, const void *buf, gsize len,
                                           GError **error);
/* Streams blob @digest of @size bytes to @sink from byte *@offset on, which
 * is advanced as bytes arrive. A broken connection, a 5xx or a 429 is
 * retried with backoff (honouring Retry-After), resuming with an HTTP Range
 * request; from a registry that ignores Range, the bytes already had are
 * dropped as they come again. The bytes are not checked here: the sink
 * hashes them. */
gboolean hutch_registry_get_blob (HutchRegistry *r, const char *repo, const char *digest,
                                  gint64 size, guint64 *offset, HutchRegistrySinkFunc sink,
                                  gpointer data, GError **error);

/* Writes what the http(s) URL @url holds to @fd (build's ADD), at most
 * @max bytes; *@out_mtime (may be NULL) its Last-Modified as a Unix time,
 * 0 when the server gives none. HUTCH_ERROR_NETWORK naming the URL. */
gboolean hutch_registry_fetch_url (const char *url, int fd, guint64 max, gint64 *out_mtime,
                                   GError **error);

/* Checks that the registry accepts the credentials (hutch login). */
gboolean hutch_registry_check_login (HutchRegistry *r, GError **error);

/* Closes pooled connections: a forked child must not share them. */
void hutch_registry_close_connections (HutchRegistry *r);

/* ---- credentials (auth.c) ---- */

/* The auth file login writes: $REGISTRY_AUTH_FILE, else
 * $XDG_RUNTIME_DIR/containers/auth.json, else ~/.config/containers/auth.json. */
char *hutch_registry_auth_file_default (void);

/* An auths key normalised as containers-auth.json does: no scheme, no path
 * after a scheme's host ("https://index.docker.io/v1/"), docker's hosts
 * (index.docker.io, registry-1.docker.io) as docker.io. */
char *hutch_registry_auth_key (const char *key);

/* Looks up credentials for @domain/@repo in @auth_file, or in
 * $REGISTRY_AUTH_FILE, $XDG_RUNTIME_DIR/containers/auth.json,
 * ~/.config/containers/auth.json and ~/.docker/config.json (the first that
 * has an entry wins; the most specific key within it). FALSE with no error
 * when none has an entry; *@out_source names the file. */
gboolean hutch_registry_auth_lookup (const char *auth_file, const char *domain, const char *repo,
                                     char **out_username, char **out_password,
                                     char **out_source, GError **error);

/* Records (or with @username NULL, removes) the entry @key in @auth_file,
 * keeping everything else in it; written atomically at mode 0600. Removing
 * an entry that is not there is HUTCH_ERROR_NOT_FOUND. */
gboolean hutch_registry_auth_store (const char *auth_file, const char *key, const char *username,
                                    const char *password, GError **error);

/* Removes every entry of "auths" in @auth_file; the number removed. */
gboolean hutch_registry_auth_remove_all (const char *auth_file, guint *out_removed,
                                         GError **error);

/* Whether hutch.conf (${XDG_CONFIG_HOME:-~/.config}/hutch/hutch.conf,
 * [registries] insecure=a;b) lists @domain as insecure. */
gboolean hutch_registry_is_insecure (const char *domain);

/* ---- pull (pull.c) ---- */

typedef enum
{
  HUTCH_PULL_PROGRESS_NONE,  /* -q */
  HUTCH_PULL_PROGRESS_LINES, /* one line per layer when it completes */
  HUTCH_PULL_PROGRESS_LIVE,  /* a terminal: live lines, redrawn */
} HutchPullProgress;

typedef struct
{
  HutchRegistryOptions registry;
  const HutchPlatform *platform; /* NULL: this host's */
  gboolean platform_asked;       /* --platform given: a mismatch is an error */
  guint jobs;                    /* layers at once; 0 for 4 */
  guint64 unpack_limit;          /* 0 for HUTCH_LAYER_DEFAULT_MAX_BYTES */
  HutchPullProgress progress;
} HutchPullOptions;

typedef struct HutchStore HutchStore;

/* Pulls @ref_text into @store: every layer downloaded (resuming partial
 * downloads) and unpacked, and the name recorded, or an error with nothing
 * recorded. Verified blobs and layers fetched before a failure stay for the
 * next pull. *@out_name is the full reference recorded (name@digest for a
 * pull by digest), *@out_id the image ID; *@out_new whether the name
 * pointed elsewhere (or nowhere) before. */
gboolean hutch_registry_pull (HutchStore *store, const char *ref_text, const HutchPullOptions *opts,
                              char **out_name, char **out_id, gboolean *out_new, GError **error);

/* ---- push (push.c) ---- */

typedef enum
{
  HUTCH_PUSH_COMPRESSION_DEFAULT, /* compressed layers as stored; plain ones in gzip */
  HUTCH_PUSH_COMPRESSION_GZIP,
  HUTCH_PUSH_COMPRESSION_ZSTD,
} HutchPushCompression;

typedef struct
{
  HutchRegistryOptions registry;
  HutchPushCompression compression;
  guint jobs;         /* layers at once; 0 for 4 */
  guint64 chunk_size; /* blobs larger go in PATCHes of this size; 0 for 64 MiB */
  HutchPullProgress progress;
} HutchPushOptions;

/* Pushes @image (a name or ID in @store) to @destination (a registry
 * reference; NULL for the image's first name): every blob the repository
 * lacks, then the manifest. *@out_name is the full reference pushed,
 * @out_digest the manifest's digest there. */
gboolean hutch_registry_push (HutchStore *store, const char *image, const char *destination,
                              const HutchPushOptions *opts, char **out_name,
                              char out_digest[HUTCH_DIGEST_BUFSIZE], GError **error);

G_END_DECLS
