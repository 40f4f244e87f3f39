/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* archive/: images in and out of files. Loading docker-archive (docker save,
 * podman save, skopeo) and oci-archive tarballs, plain or compressed, from a
 * file or stdin, and OCI layout directories, into the store. */
#pragma once

#include <glib.h>

#include "store/store.h"

G_BEGIN_DECLS

typedef enum
{
  HUTCH_ARCHIVE_AUTO,   /* a tarball: docker-archive if it has manifest.json, else oci-archive */
  HUTCH_ARCHIVE_DOCKER, /* docker-archive */
  HUTCH_ARCHIVE_OCI,    /* oci-archive */
  HUTCH_ARCHIVE_OCI_DIR /* an OCI layout directory */
} HutchArchiveFormat;

/* Parses "docker-archive", "oci-archive" or "oci-dir"; HUTCH_ERROR_USAGE. */
gboolean hutch_archive_format_parse (const char *text, HutchArchiveFormat *out_format,
                                     GError **error);

/* hutch import (import.c): the rootfs tarball @path ("-": stdin), plain,
 * gzip or zstd, as a new one-layer image (untagged without @name, a full
 * reference), with @changes (-c, as commit takes them) and @message. The
 * layer is kept compressed as @compression and unpacked in the same pass;
 * *@out_id is the image's ID. On failure the store is as it was. */
typedef struct
{
  const char *const *changes;
  const char *message;
  const char *name;
  HutchLayerCompression compression;
} HutchArchiveImport;

gboolean hutch_archive_import (HutchStore *store, const char *path, const HutchArchiveImport *opts,
                               char out_id[HUTCH_DIGEST_BUFSIZE], GError **error);

/* Loads every image in @path ("-" for stdin) into @store, which must be
 * open for writing. Multi-platform indexes give the manifest for @platform.
 * Everything is verified, and every layer unpacked (at most @unpack_limit
 * bytes each, uncompressed), before any image name is recorded; on failure
 * the store is left as it was. Appends what was loaded (names, or
 * sha256:<id> for an image without one) to @out_loaded. */
gboolean hutch_archive_load (HutchStore *store, const char *path, HutchArchiveFormat format,
                             const HutchPlatform *platform, guint64 unpack_limit,
                             GPtrArray *out_loaded, GError **error);

/* Writes the images @texts names (names, IDs, digests; several names of
 * one image give one image with each name) to @path as @format
 * (HUTCH_ARCHIVE_DOCKER, _OCI or _OCI_DIR), or to stdout when @path is
 * NULL. A docker-archive holds each layer uncompressed, once, as
 * <diff id hex>/layer.tar; an oci-archive or oci-dir holds the blobs as
 * stored, with an index.json entry per name. The file or directory appears
 * only once whole; on failure nothing is left. */
gboolean hutch_archive_save (HutchStore *store, const char *const *texts, HutchArchiveFormat format,
                             const char *path, GError **error);

G_END_DECLS
