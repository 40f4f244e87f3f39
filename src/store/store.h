/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* store/: the content store under the root directory. It is an OCI image
 * layout (oci-layout, index.json, blobs/sha256/) that skopeo and umoci can
 * read; image names are the org.opencontainers.image.ref.name annotations of
 * index.json, holding full references (docker.io/library/busybox:latest).
 *
 * Writers hold the store lock shared, garbage collection holds it exclusive;
 * index.json is rewritten under its own lock and replaced atomically; a blob
 * is written under its own lock to an unnamed file, verified, fsynced and
 * linked into place, so no reader ever sees a partial blob. */
#pragma once

#include <glib.h>

#include "image/image.h"
#include "layer/layer.h"
#include "sandbox/sandbox.h"

G_BEGIN_DECLS

typedef struct HutchStore HutchStore;

/* Opens the store at @root. With @create, makes the layout when missing and
 * takes the store lock shared (a writer); without, a missing root is an empty
 * store and no lock is taken (readers see index.json replaced atomically). */
HutchStore *hutch_store_open (const char *root, gboolean create, GError **error);
void hutch_store_free (HutchStore *store);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (HutchStore, hutch_store_free)

const char *hutch_store_root (const HutchStore *store);

/* Takes the store lock exclusive (waiting for writers to finish), for
 * garbage collection. */
gboolean hutch_store_lock_exclusive (HutchStore *store, GError **error);

/* ---- blobs (blob.c) ---- */

gboolean hutch_store_blob_exists (HutchStore *store, const char *digest);
/* Size of a present blob, or -1. */
gint64 hutch_store_blob_size (HutchStore *store, const char *digest);
/* Reads a blob of at most @max bytes and checks it against its digest.
 * HUTCH_ERROR_NOT_FOUND when absent, HUTCH_ERROR_DIGEST_MISMATCH when the
 * bytes on disk are not what their name says. */
char *hutch_store_blob_read (HutchStore *store, const char *digest, gsize max, gsize *out_len,
                             GError **error);
/* Reads blob @digest through and checks it against its digest:
 * HUTCH_ERROR_DIGEST_MISMATCH (damaged), HUTCH_ERROR_NOT_FOUND. */
gboolean hutch_store_blob_verify (HutchStore *store, const char *digest, GError **error);
/* Opens a present blob read-only. */
int hutch_store_blob_open (HutchStore *store, const char *digest, GError **error);

typedef struct HutchBlobWriter HutchBlobWriter;

/* Starts writing a blob. With @expected_digest the blob's lock is taken first
 * (waiting while another process writes the same blob); when the store
 * already has the blob, intact (it is read through to check), returns NULL
 * without error and sets *@out_present; a damaged copy is replaced by what
 * is written, atomically, at commit.
 * The data goes to an unnamed file (O_TMPFILE) in blobs/sha256, so a killed
 * writer leaves nothing behind. */
HutchBlobWriter *hutch_store_blob_writer_new (HutchStore *store, const char *expected_digest,
                                              gboolean *out_present, GError **error);
gboolean hutch_store_blob_writer_write (HutchBlobWriter *w, const void *buf, gsize len,
                                        GError **error);
/* Ends the data: computes the digest, compares it with the expected digest
 * (HUTCH_ERROR_DIGEST_MISMATCH) and size (@expected_size, -1 for any), and
 * fsyncs the data. */
gboolean hutch_store_blob_writer_finish (HutchBlobWriter *w, gint64 expected_size, GError **error);
const char *hutch_store_blob_writer_digest (const HutchBlobWriter *w);
gint64 hutch_store_blob_writer_size (const HutchBlobWriter *w);
/* Links a finished blob into place; *@out_created is FALSE when the store
 * already had it (the new copy, checked, replaces it: that mends a damaged
 * one). Releases the blob lock. */
gboolean hutch_store_blob_writer_commit (HutchBlobWriter *w, gboolean *out_created,
                                         GError **error);
/* As hutch_store_blob_writer_new() with @digest, for a download that may
 * break: the data goes to blobs/sha256/.partial-HEX, which a writer killed
 * or freed before commit leaves behind, and which the next one resumes from
 * (hashing it again): hutch_store_blob_writer_size() is where to go on. A
 * partial blob that fails its digest is deleted. */
#define HUTCH_STORE_PARTIAL_PREFIX ".partial-"
HutchBlobWriter *hutch_store_blob_writer_resume (HutchStore *store, const char *digest,
                                                 gboolean *out_present, GError **error);
/* The resumable writer's file, readable (for unpacking while it grows). */
int hutch_store_blob_writer_fd (const HutchBlobWriter *w);
/* Writes the @len bytes at @data as blob @digest (their sha256), unless the
 * store has it; *@out_created says whether this call added it. */
gboolean hutch_store_blob_put (HutchStore *store, const void *data, gsize len, const char *digest,
                               gboolean *out_created, GError **error);
/* Discards whatever was not committed and releases the lock. */
void hutch_store_blob_writer_free (HutchBlobWriter *w);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (HutchBlobWriter, hutch_store_blob_writer_free)

/* ---- images (images.c) ---- */

typedef struct
{
  char *digest; /* of the manifest */
  char *media_type;
  gint64 manifest_size;
  GPtrArray *names; /* of char*: full references, in index order */
  HutchManifest *manifest; /* NULL when damaged and unreadable */
  HutchImageConfig *config; /* NULL when damaged */
  gint64 size; /* manifest + config + layers, as stored; 0 when damaged */
  char *damage; /* why the manifest or config cannot be used, or NULL */
} HutchStoreImage;

void hutch_store_image_free (HutchStoreImage *image);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (HutchStoreImage, hutch_store_image_free)

/* The image's ID: the hex digest of its config, as docker shows it (of its
 * manifest, when that cannot be read). */
const char *hutch_store_image_id (const HutchStoreImage *image);

/* All images, newest first; damaged ones (->damage set) last. */
GPtrArray *hutch_store_images_list (HutchStore *store, GError **error);

/* Finds an image by name (normalised: "busybox" is docker.io/library/busybox:latest),
 * name@digest, manifest digest, full ID or a unique ID prefix.
 * *@out_by_name says whether @text named a tag. HUTCH_ERROR_NOT_FOUND;
 * HUTCH_ERROR_INVALID_IMAGE for a damaged image, saying what fixes it. */
HutchStoreImage *hutch_store_image_lookup (HutchStore *store, const char *text,
                                           gboolean *out_by_name, GError **error);

/* An image to record: a manifest already in the store, and its names (full
 * references, possibly none). */
typedef struct
{
  const char *digest;
  const char *media_type;
  gint64 size;
  const char *const *names;
} HutchStoreImageAdd;

/* Records @n images in index.json in one atomic replacement. A name that
 * pointed at another image moves; that image stays, untagged, if nothing
 * else names it. */
gboolean hutch_store_images_add (HutchStore *store, const HutchStoreImageAdd *adds, guint n,
                                 GError **error);

/* Adds the name @new_name to the image @text names. */
gboolean hutch_store_image_tag (HutchStore *store, const char *text, const char *new_name,
                                GError **error);

/* Untags or removes what @text names (rmi): a name loses just that name; an
 * ID or digest removes the image, refusing when it has several names unless
 * @force. Blobs nothing references any more are deleted. Appends
 * "Untagged: NAME" and "Deleted: ID" lines to @report. */
gboolean hutch_store_image_remove (HutchStore *store, const char *text, gboolean force,
                                   GPtrArray *report, GError **error);

/* ---- new layers and images (layer-new.c, image-new.c) ---- */

/* A layer just written: its blob and where it is unpacked. */
typedef struct
{
  char digest[HUTCH_DIGEST_BUFSIZE];  /* of the blob */
  gint64 size;                        /* of the blob */
  HutchLayerCompression compression;
  char diff_id[HUTCH_DIGEST_BUFSIZE]; /* of its tar */
  guint64 tar_bytes;
  char chain_id[HUTCH_DIGEST_BUFSIZE]; /* layers/<chain id> */
  gboolean blob_created;              /* the store did not have the blob */
  gboolean layer_created;             /* nor the unpacked layer */
  gboolean keep_id;                   /* unpacked as a keep-id map owns it */
} HutchStoreNewLayer;

/* Writes the tar bytes it is given through @write (with @write_data) in
 * the user namespace; FALSE with @error stops the layer. */
typedef gboolean (*HutchStoreLayerFill) (gpointer data, HutchLayerWriteFunc write,
                                         gpointer write_data, GError **error);

/* Makes a new layer in one pass, as root of a user namespace mapped with
 * @map: @fill writes its tar, which is compressed (@compression, threads)
 * into a new blob and, at the same time, unpacked into the layer cache as
 * the layer above @parent_chain (NULL: a first layer), so that an image
 * using it runs without unpacking it again. Nothing is left of it when
 * it fails (the blob is unnamed until it is whole, the unpacked tree is a
 * .tmp- directory until then); @what names it in messages. The caller
 * records an image that uses it, or removes it with
 * hutch_store_new_layer_discard(). */
gboolean hutch_store_layer_create (HutchStore *store, const HutchIdMap *map,
                                   const char *parent_chain, HutchLayerCompression compression,
                                   const char *what, HutchStoreLayerFill fill, gpointer fill_data,
                                   HutchStoreNewLayer *out, GError **error);
/* Removes what hutch_store_layer_create() made when no image came of it
 * (only what it created and nothing uses); failures are only logged. */
void hutch_store_new_layer_discard (HutchStore *store, const HutchStoreNewLayer *layer);

/* The image a commit or import makes: @config_json (a config whose
 * rootfs lists @base's layers, then @layer's diff_id) stored with a
 * manifest (OCI, or Docker schema 2 with @docker) of @base's layer
 * descriptors (may be NULL) and @layer (may be NULL), and recorded in
 * index.json under @name (a full reference), or untagged with NULL.
 * *@out_id: the image's ID (its config digest). On failure the blobs
 * this call wrote are deleted again. HUTCH_ERROR_INVALID_IMAGE when
 * @config_json does not describe those layers. */
gboolean hutch_store_image_create (HutchStore *store, const char *config_json,
                                   const HutchManifest *base, const HutchStoreNewLayer *layer,
                                   gboolean docker, const char *name,
                                   char out_id[HUTCH_DIGEST_BUFSIZE], GError **error);

/* ---- the unpacked-layer cache (layers.c) ---- */

/* The OCI chain ids of @config's layers, in order. */
GPtrArray *hutch_store_chain_ids (const HutchImageConfig *config);

/* The cache holds a layer once for each way of owning its files: the
 * default map (container 0 the user) in layers/<chain hex>, and a keep-id
 * map (--userns=keep-id: the user at its own id) in
 * layers/<chain hex>-keep-id, since the same files belong to other host ids
 * there. Every function below that takes a map works on that map's copy;
 * removal takes a layer's copies together. The name in layers/ of @chain
 * unpacked under @map. */
char *hutch_store_layer_name (const char *chain, const HutchIdMap *map);
/* <@root>/layers/<name>/diff: the tree of @chain as @map owns it. */
char *hutch_store_layer_diff_path (const char *root, const char *chain, const HutchIdMap *map);

/* Makes sure every layer of the image (@manifest, @config) is unpacked in
 * layers/<chain id>, unpacking what is missing as root of a user namespace
 * mapped with @map, each layer at most @max_bytes uncompressed. A layer
 * found unpacked under another mapping is an error that says how to fix it.
 * Appends the chain ids it was to unpack to @out_created (may be NULL),
 * also on failure, for the caller to undo. */
gboolean hutch_store_layers_ensure (HutchStore *store, const HutchManifest *manifest,
                                    const HutchImageConfig *config, const HutchIdMap *map,
                                    const char *image, guint64 max_bytes, GPtrArray *out_created,
                                    GError **error);

/* The indexes (GUINT_TO_POINTER) of @config's layers not unpacked yet. A
 * layer unpacked under another mapping is an error, as above. */
GPtrArray *hutch_store_layers_missing (HutchStore *store, const HutchImageConfig *config,
                                       const HutchIdMap *map, const char *image, GError **error);

/* As root of a user namespace mapped with @map (hutch_sandbox_userns_run),
 * unpacks layer @index of the image from @read, its compressed bytes as
 * they arrive (NULL: from its blob in the store), under the layer's lock; TRUE at once when another process
 * unpacked it meanwhile. */
gboolean hutch_store_layer_unpack_from (HutchStore *store, const HutchManifest *manifest,
                                        const HutchImageConfig *config, guint index,
                                        const HutchIdMap *map, const char *image,
                                        guint64 max_bytes, HutchLayerReadFunc read,
                                        gpointer read_data, GError **error);

/* The length of layer @chain's uncompressed tar (@diff_id), as its info
 * recorded when it was unpacked and checked against @diff_id; -1 when the
 * layer is not unpacked or its info says otherwise. Save needs it for the
 * tar header before it decompresses the blob. */
gint64 hutch_store_layer_tar_size (HutchStore *store, const char *chain, const char *diff_id);

/* Removes the layers whose chain id is not in @keep (only those in @only,
 * when given; with @leftovers also the .tmp- directories of killed
 * unpacks), inside the user namespace their files need. */
gboolean hutch_store_layers_remove (HutchStore *store, GHashTable *keep, GPtrArray *only,
                                    gboolean leftovers, guint *out_removed, GError **error);

/* index.json as a list of HutchDescriptor, each with its ref_name (or
 * NULL); an empty list for a store not made yet. */
GPtrArray *hutch_store_index_entries (HutchStore *store, GError **error);

/* The chain ids of every image in @entries (index.json's). */
GHashTable *hutch_store_referenced_chains (HutchStore *store, GPtrArray *entries, GError **error);

/* ---- garbage collection and usage (gc.c) ---- */

typedef struct
{
  guint images;       /* images in index.json */
  guint blobs;        /* blobs on disk */
  gint64 blob_bytes;
  guint unreferenced; /* blobs no image references */
  gint64 unreferenced_bytes;
  guint dangling;     /* images without a name */
} HutchStoreUsage;

gboolean hutch_store_usage (HutchStore *store, HutchStoreUsage *out, GError **error);

/* For a full disk: what the store holds, how much of it is reclaimable
 * (partial downloads, blobs and layers no image uses) and with which
 * command, and how much its file system has free. */
char *hutch_store_space_describe (HutchStore *store);

typedef struct
{
  guint images; /* untagged images */
  guint blobs;
  gint64 bytes; /* of those blobs */
  guint layers; /* unpacked layers, and leftovers of killed unpacks */
  char *kept;   /* why blobs or layers no image is known to use were kept, or NULL */
} HutchStorePruned;

void hutch_store_pruned_clear (HutchStorePruned *p);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (HutchStorePruned, hutch_store_pruned_clear)

/* Removes untagged images and every blob and layer nothing references (with
 * the store lock exclusive), and what killed processes left; reports what
 * went. With an image damaged, what it may use is kept (*->kept says so). */
gboolean hutch_store_prune (HutchStore *store, HutchStorePruned *out, GError **error);

/* Tells @store which images containers use, by ID (the config digests of
 * their records), @ids taken: prune keeps them, and their layers, even
 * with no name left. The caller holds the store lock exclusive, so that no
 * container is being made meanwhile. */
void hutch_store_images_keep (HutchStore *store, GHashTable *ids);

/* Deletes the blobs in @digests that no image in index.json references, with
 * the store lock exclusive: the undo of a failed load. */
gboolean hutch_store_delete_unreferenced (HutchStore *store, GPtrArray *digests, GError **error);

/* ---- system check (check.c) ---- */

typedef struct
{
  gboolean problem;  /* FALSE: a note (space held, leftovers), not a fault */
  char *object;      /* what it is about: "blob sha256:...", "image NAME", "layers/HEX" */
  char *text;        /* what is wrong */
  char *fix;         /* what fixes it, or (repaired) what was done; may be NULL */
  gboolean repaired; /* --repair fixed it */
} HutchStoreFinding;

typedef struct
{
  GPtrArray *findings; /* of HutchStoreFinding */
  guint blobs, images, layers; /* checked */
  guint unused_layers;
  guint problems, remaining; /* problems found; those not repaired */
  gint64 held_bytes; /* in blobs no image uses and partial downloads */
} HutchStoreCheck;

void hutch_store_check_clear (HutchStoreCheck *c);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (HutchStoreCheck, hutch_store_check_clear)

/* Checks the whole store with its lock exclusive (waiting for loads and
 * pulls to end): every blob against its digest, index.json, every image's
 * manifest, config and layer blobs, every unpacked layer's completeness
 * marker and id mapping, and leftovers of killed processes. With @repair,
 * rebuilds a missing or unreadable index.json (names from its copy),
 * deletes damaged blobs and incomplete layers, removes leftovers. Fills
 * @out; fails only when the store cannot be read at all. */
gboolean hutch_store_check (HutchStore *store, gboolean repair, HutchStoreCheck *out,
                            GError **error);

/* ---- named volumes (volume.c) ---- */

/* A volume: <root>/volumes/<name>/_data is what containers see. */
typedef struct
{
  char *name;
  char *mountpoint;   /* the _data directory */
  char *created_at;   /* "2026-12-05T18:44:11Z" */
  char **labels;      /* "KEY=VALUE", NULL-terminated */
  gboolean anonymous; /* made by -v /path for one container (run --rm removes it) */
} HutchStoreVolume;

void hutch_store_volume_free (HutchStoreVolume *v);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (HutchStoreVolume, hutch_store_volume_free)

/* docker's rule for a name, [a-zA-Z0-9][a-zA-Z0-9_.-]+; HUTCH_ERROR_USAGE
 * saying it otherwise. */
gboolean hutch_store_volume_name_validate (const char *name, GError **error);
/* Makes volume @name (NULL: 64 random hex digits) with @labels
 * ("KEY=VALUE", or NULL) under @root, whole or not at all; one that exists
 * already is returned as it is, with *@out_existed (optional) set. */
HutchStoreVolume *hutch_store_volume_create (const char *root, const char *name, char **labels,
                                             gboolean anonymous, gboolean *out_existed,
                                             GError **error);
/* HUTCH_ERROR_NOT_FOUND when there is none of that name. */
HutchStoreVolume *hutch_store_volume_get (const char *root, const char *name, GError **error);
/* Every volume, by name. */
GPtrArray *hutch_store_volume_list (const char *root, GError **error);
/* Deletes volume @name and its files (those of subordinate ids inside a
 * user namespace). Whether a container uses it is the caller's to know. */
gboolean hutch_store_volume_delete (const char *root, const char *name, GError **error);
/* volumes/.lock: held shared while a container that names volumes is made
 * (until its record is written), exclusive while volumes are removed, so
 * that a removal never misses a container being made. The fd to close. */
int hutch_store_volumes_lock (const char *root, gboolean exclusive, GError **error);

G_END_DECLS
