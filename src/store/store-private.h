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
};

/* Replaces index.json atomically with @entries. Caller holds the index lock. */
gboolean hutch_store_index_write (HutchStore *store, GPtrArray *entries, GError **error);
/* Takes locks/index exclusive; returns the lock fd to close, or -1. */
int hutch_store_index_lock (HutchStore *store, GError **error);

/* The digests every image in @entries needs: manifests, configs and layers
 * (and index children), as a set of char*. Unreadable manifests are errors:
 * we never delete what we cannot prove unused. */
GHashTable *hutch_store_referenced (HutchStore *store, GPtrArray *entries, GError **error);


/* Deletes blob @digest unless it is in @keep; adds its size to *@bytes. */
gboolean hutch_store_blob_delete (HutchStore *store, const char *digest, gint64 *bytes,
                                  GError **error);

/* Takes locks/@name exclusive (the file is made, and unlinked again by
 * hutch_store_unlock_file()). Returns the fd, or -1. */
int hutch_store_lock_file (HutchStore *store, const char *name, GError **error);
void hutch_store_unlock_file (HutchStore *store, const char *name, int *fdp);

/* The hex part of a validated digest. */
static inline const char *
hutch_store_digest_hex (const char *digest)
{
  return digest + 7;
}

G_END_DECLS
