/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* image/: what an image is, as data. References, media types, manifests,
 * indexes with platform selection, and image configs, all parsed strictly
 * from bytes whose digest the caller has already checked. No I/O here. */
#pragma once

#include <glib.h>

#include "util/util.h"

G_BEGIN_DECLS

/* Largest blob we accept a descriptor for; bigger is an absurd size. */
#define HUTCH_IMAGE_MAX_BLOB_SIZE ((gint64) 1 << 40)
/* Most layers one manifest may have (Docker's overlay driver stops at 128). */
#define HUTCH_IMAGE_MAX_LAYERS 1000

/* ---- references (reference.c) ---- */

typedef struct
{
  char *domain; /* "docker.io", "localhost:5000" */
  char *path;   /* "library/busybox" */
  char *tag;    /* "latest"; NULL when only a digest was given */
  char *digest; /* "sha256:…" or NULL */
} HutchImageRef;

/* Parses @text as docker does and normalises it: "busybox" becomes
 * docker.io/library/busybox:latest, "index.docker.io" docker.io, and a name
 * without tag or digest gets ":latest". HUTCH_ERROR_USAGE with the rule
 * broken otherwise (uppercase, bad tag, bad digest, too long, ...). */
HutchImageRef *hutch_image_ref_parse (const char *text, GError **error);
HutchImageRef *hutch_image_ref_copy (const HutchImageRef *ref);
void hutch_image_ref_free (HutchImageRef *ref);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (HutchImageRef, hutch_image_ref_free)

/* "domain/path[:tag][@digest]" */
char *hutch_image_ref_to_string (const HutchImageRef *ref);
/* "domain/path" */
char *hutch_image_ref_repository (const HutchImageRef *ref);

/* ---- media types (manifest.c) ---- */

typedef enum
{
  HUTCH_MEDIA_UNKNOWN,
  HUTCH_MEDIA_OCI_MANIFEST,
  HUTCH_MEDIA_DOCKER_MANIFEST,
  HUTCH_MEDIA_OCI_INDEX,
  HUTCH_MEDIA_DOCKER_LIST,
  HUTCH_MEDIA_OCI_CONFIG,
  HUTCH_MEDIA_DOCKER_CONFIG,
  HUTCH_MEDIA_LAYER_TAR,
  HUTCH_MEDIA_LAYER_GZIP,
  HUTCH_MEDIA_LAYER_ZSTD,
} HutchMediaKind;

#define HUTCH_MEDIA_TYPE_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define HUTCH_MEDIA_TYPE_OCI_INDEX "application/vnd.oci.image.index.v1+json"
#define HUTCH_MEDIA_TYPE_OCI_CONFIG "application/vnd.oci.image.config.v1+json"
#define HUTCH_MEDIA_TYPE_OCI_LAYER "application/vnd.oci.image.layer.v1.tar"
#define HUTCH_MEDIA_TYPE_OCI_LAYER_GZIP "application/vnd.oci.image.layer.v1.tar+gzip"
#define HUTCH_MEDIA_TYPE_OCI_LAYER_ZSTD "application/vnd.oci.image.layer.v1.tar+zstd"

HutchMediaKind hutch_image_media_kind (const char *media_type);
gboolean hutch_image_media_is_manifest (HutchMediaKind kind);
gboolean hutch_image_media_is_index (HutchMediaKind kind);
gboolean hutch_image_media_is_layer (HutchMediaKind kind);

/* ---- platforms (platform.c) ---- */

typedef struct
{
  char *os;
  char *architecture;
  char *variant; /* may be NULL */
} HutchPlatform;

/* The platform of this machine, normalised (x86_64 → amd64, aarch64 → arm64,
 * armv7l → arm/v7, …). */
HutchPlatform *hutch_image_platform_host (void);
/* Parses "os/arch[/variant]" or "arch" (os linux); HUTCH_ERROR_USAGE. */
HutchPlatform *hutch_image_platform_parse (const char *text, GError **error);
void hutch_image_platform_free (HutchPlatform *p);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (HutchPlatform, hutch_image_platform_free)
char *hutch_image_platform_to_string (const HutchPlatform *p);
/* How well an image of platform @have runs on @want, containerd's rules
 * (amd64 runs 386; arm64 runs arm/v8..v5; arm/vN runs arm/vN..v5): 0 for an
 * exact match, larger for a worse one, -1 for none. */
int hutch_image_platform_rank (const HutchPlatform *want, const HutchPlatform *have);

/* ---- manifests and indexes (manifest.c) ---- */

typedef struct
{
  char *media_type;
  HutchMediaKind kind;
  char *digest;
  gint64 size;
  HutchPlatform *platform; /* index entries only, may be NULL */
  char *ref_name;          /* annotation org.opencontainers.image.ref.name */
} HutchDescriptor;

void hutch_descriptor_free (HutchDescriptor *d);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (HutchDescriptor, hutch_descriptor_free)

typedef struct
{
  HutchMediaKind kind; /* HUTCH_MEDIA_OCI_MANIFEST or _DOCKER_MANIFEST */
  HutchDescriptor *config;
  GPtrArray *layers; /* of HutchDescriptor */
} HutchManifest;

/* Parses an image manifest. @expected is what the descriptor pointing at it
 * said (HUTCH_MEDIA_UNKNOWN when nothing did); a document that says
 * otherwise is refused. HUTCH_ERROR_INVALID_IMAGE. */
HutchManifest *hutch_image_manifest_parse (const char *json, gsize len, HutchMediaKind expected,
                                           GError **error);
void hutch_image_manifest_free (HutchManifest *m);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (HutchManifest, hutch_image_manifest_free)

/* Writes @m as an OCI image manifest; used to give docker-archive images,
 * which have none, a manifest to be stored under. */
char *hutch_image_manifest_to_oci_json (const HutchManifest *m);

typedef struct
{
  HutchMediaKind kind; /* HUTCH_MEDIA_OCI_INDEX or _DOCKER_LIST */
  GPtrArray *manifests; /* of HutchDescriptor */
} HutchIndex;

/* Parses an OCI index or a Docker manifest list (also an OCI layout's
 * index.json, with @expected HUTCH_MEDIA_OCI_INDEX). */
HutchIndex *hutch_image_index_parse (const char *json, gsize len, HutchMediaKind expected,
                                     GError **error);
void hutch_image_index_free (HutchIndex *idx);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (HutchIndex, hutch_image_index_free)

/* The entry of @idx that runs best on @want. HUTCH_ERROR_NOT_FOUND listing
 * the platforms present when none does. */
const HutchDescriptor *hutch_image_index_select (const HutchIndex *idx, const HutchPlatform *want,
                                                 GError **error);

/* ---- image configs (config.c) ---- */

typedef struct
{
  HutchJsonNode *root;         /* the whole document */
  const HutchJsonNode *config; /* its "config" object, or NULL */
  const char *created;         /* RFC 3339 or NULL; these point into root */
  const char *architecture;
  const char *os;
  const char *variant;
  const char *author;
  gint64 created_unix; /* 0 when unknown */
  GPtrArray *diff_ids; /* of char*, validated digests */
} HutchImageConfig;

HutchImageConfig *hutch_image_config_parse (const char *json, gsize len, GError **error);
void hutch_image_config_free (HutchImageConfig *c);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (HutchImageConfig, hutch_image_config_free)

/* A string member of the config's "config" object ("User", "WorkingDir"). */
const char *hutch_image_config_get_string (const HutchImageConfig *c, const char *key);

/* Checks that @config describes the layers of @m: one diff_id per layer,
 * platform fields present. HUTCH_ERROR_INVALID_IMAGE. */
gboolean hutch_image_check_consistent (const HutchManifest *m, const HutchImageConfig *config,
                                       GError **error);

/* ---- a new config from an old one (changes.c) ---- */

typedef struct
{
  const char *const *changes; /* -c: "CMD [...]", "ENV K=V", ...; may be NULL */
  const char *const *diff_ids; /* the new layers', appended; may be NULL */
  const char *author;         /* -a, or NULL (the old one kept) */
  const char *comment;        /* -m, for the history entry, or NULL */
  const char *created_by;     /* for the history entry, or NULL */
  gint64 created;             /* unix time; 0: now */
  gboolean squash;            /* @diff_ids replace the old layers, the history starts anew */
  gboolean empty_layer;       /* no new layer: one history entry, "empty_layer": true (build's
                               * ENV, CMD, ...) */
  const char *const *members; /* members of "config" to set, after @changes: a key, then its
                               * value as JSON text, alternating; NULL-terminated; may be NULL */
} HutchImageConfigEdit;

/* The config document @base (NULL: a new one for this host's platform)
 * with @edit applied: -c changes to its "config", the diff_ids appended
 * to rootfs, one history entry per new layer, "created" now. Members it
 * does not know are kept. HUTCH_ERROR_USAGE naming a change that is not
 * one of CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, STOPSIGNAL, USER, VOLUME,
 * WORKDIR or whose argument does not parse. */
char *hutch_image_config_derive (const HutchJsonNode *base, const HutchImageConfigEdit *edit,
                                 GError **error);
/* Whether @instruction ("CMD", any case) is a change commit can make. */
gboolean hutch_image_change_known (const char *instruction);
/* Checks @changes before any work is done: as hutch_image_config_derive(). */
gboolean hutch_image_changes_check (const char *const *changes, GError **error);

G_END_DECLS
