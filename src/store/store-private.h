/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What the files of store/ share: the open store and index.json. */
#pragma once

#include "store.h"

G_BEGIN_DECLS

struct HutchStore
{
  char *root;
  int root_fd;  /* O_PATH | O_DIRECTORY; -1 when the store does not exist */
  int blobs_fd; /* blobs/sha256 */
  int locks_fd; /* locks/ */
  int lock_fd;  /* locks/store, flocked shared or exclusive; -1 unlocked */
  int layers_fd; /* layers/, once needed */
  GHashTable *keep; /* IDs of images containers use (hutch_store_images_keep()), or NULL */
};

/* The copy of index.json that each update leaves, for the names. */
#define HUTCH_STORE_INDEX_BACKUP "index.json.backup"

/* Replaces index.json atomically with @entries, and its copy. Caller holds
 * the index lock. */
gboolean hutch_store_index_write (HutchStore *store, GPtrArray *entries, GError **error);
/* The entries of the index file @name (index.json, or its copy);
 * HUTCH_ERROR_NOT_FOUND when it is missing. */
GPtrArray *hutch_store_index_read_at (HutchStore *store, const char *name, GError **error);

/* What hutch_store_sweep() removed. */
typedef struct
{
  guint layers; /* tombstones and .tmp- directories in layers/ */
  guint locks;  /* lock files no one holds */
  guint files;  /* stray files in blobs/sha256 (not .partial-: those resume pulls) */
} HutchStoreSweep;

/* Removes what killed processes left behind. The caller holds the store
 * lock exclusive (no writer runs); what a process that takes no store lock
 * may be using (a layer's .tmp-, a lock) is tested by its own lock. */
gboolean hutch_store_sweep (HutchStore *store, HutchStoreSweep *out, GError **error);

/* Takes locks/index exclusive; returns the lock fd to close, or -1. */
int hutch_store_index_lock (HutchStore *store, GError **error);

/* The digests every image in @entries needs: manifests, configs and layers
 * (and index children), as a set of char*. A manifest that cannot be read
 * makes the set incomplete: *@out_unknown then says which image, and why,
 * and nothing may be deleted as unused on its word. */
GHashTable *hutch_store_referenced (HutchStore *store, GPtrArray *entries, char **out_unknown);
/* The chain ids every image in @entries uses; an image whose config cannot
 * be read makes it incomplete: *@out_unknown names it. */
GHashTable *hutch_store_chains_in_use (HutchStore *store, GPtrArray *entries, char **out_unknown);


/* The sha256 of blob @digest's content, read through. */
gboolean hutch_store_blob_hash (HutchStore *store, const char *digest,
                                char out_actual[HUTCH_DIGEST_BUFSIZE], GError **error);

/* Deletes blob @digest unless it is in @keep; adds its size to *@bytes. */
gboolean hutch_store_blob_delete (HutchStore *store, const char *digest, gint64 *bytes,
                                  GError **error);

/* Takes locks/@name exclusive (the file is made, and unlinked again by
 * hutch_store_unlock_file()). Returns the fd, or -1. */
int hutch_store_lock_file (HutchStore *store, const char *name, GError **error);
void hutch_store_unlock_file (HutchStore *store, const char *name, int *fdp);
/* As hutch_store_lock_file(), without waiting: -1 with *@out_busy when
 * another process holds it. */
int hutch_store_lock_file_try (HutchStore *store, const char *name, gboolean *out_busy,
                               GError **error);

/* blobs/sha256: a blob replacing a damaged one is linked under this prefix
 * first, then renamed over it. */
#define HUTCH_STORE_NEW_PREFIX ".new-"

/* layers/: a layer being unpacked is .tmp-<chain hex>; one being removed is
 * first renamed to .rm-<name>.<random>, a tombstone. */
#define HUTCH_STORE_TMP_PREFIX ".tmp-"
#define HUTCH_STORE_TOMB_PREFIX ".rm-"

/* Renames layers/@name to a new tombstone (its name in *@out_tomb, may be
 * NULL): from then on no one sees or uses it, and a sweep deletes it. */
gboolean hutch_store_layer_bury_at (int layers_fd, const char *name, char **out_tomb,
                                    GError **error);

/* What the unpacked layers take (as their info records it), and of that
 * what layers not in @in_use (NULL: none counted) take. */
void hutch_store_layers_bytes (HutchStore *store, GHashTable *in_use, gint64 *out_total,
                               gint64 *out_unused);

/* Opens layers/ when it exists; FALSE (no error) when it does not. */
gboolean hutch_store_layers_dir_open (HutchStore *store);

/* The id mapping recorded by layers/@name, a copy of layer @chain, when it
 * is complete (unpacked to the end: its info whole and naming @chain);
 * NULL for anything else. */
char *hutch_store_layer_complete_idmap (HutchStore *store, const char *name, const char *chain);

/* The name in layers/ of a copy of a layer as a keep-id map owns it: its
 * chain's hex, then this. */
#define HUTCH_STORE_KEEP_ID_SUFFIX "-keep-id"

/* Whether @name (of layers/, or of a lock after "layer-") is a layer's
 * copy: the hex of its chain, and for a keep-id copy the suffix. With
 * TRUE, *@out_chain (may be NULL) is the chain id ("sha256:..."), and
 * *@out_keep_id (may be NULL) says which copy. */
gboolean hutch_store_layer_name_parse (const char *name, char **out_chain, gboolean *out_keep_id);

/* In a user namespace mapped with @map, as its root: @name under @dfd
 * (NULL: @dfd itself) made the user's when @map is keep-id. What the store
 * keeps beside a layer's files (its directory, info, locks, blobs) is the
 * user's own, as the default map makes it (container 0 is the user there);
 * keep-id's root is a subordinate id, whose 0700 directory the user could
 * not read outside the namespace. */
gboolean hutch_store_keep_id_own (int dfd, const char *name, const HutchIdMap *map,
                                  GError **error);

/* Removes layers/@names (directory names), each made a tombstone first. */
gboolean hutch_store_layers_remove_names (HutchStore *store, GPtrArray *names, GError **error);

/* Deletes what killed processes left in layers/ (tombstones, and .tmp-
 * directories whose unpack is not running), inside the user namespace when
 * there is any. The caller holds the store lock exclusive. */
gboolean hutch_store_layers_sweep (HutchStore *store, guint *out_removed, GError **error);

/* Writes layers/<...>/info under @dfd (the layer's own directory): what
 * it is and under which id mapping (@idmap) it was unpacked; written last,
 * it marks the layer complete. */
gboolean hutch_store_layer_info_write (int dfd, const char *diff_id, const char *chain,
                                       const char *idmap, const HutchLayerStats *stats,
                                       GError **error);

/* The hex part of a validated digest. */
static inline const char *
hutch_store_digest_hex (const char *digest)
{
  return digest + 7;
}

G_END_DECLS
