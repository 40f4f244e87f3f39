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

/* Loads every image in @path ("-" for stdin) into @store, which must be
 * open for writing. Multi-platform indexes give the manifest for @platform.
 * Everything is verified, and every layer unpacked (at most @unpack_limit
 * bytes each, uncompressed), before any image name is recorded; on failure
 * the store is left as it was. Appends what was loaded (names, or
 * sha256:<id> for an image without one) to @out_loaded. */
gboolean hutch_archive_load (HutchStore *store, const char *path, HutchArchiveFormat format,
                             const HutchPlatform *platform, guint64 unpack_limit,
                             GPtrArray *out_loaded, GError **error);

G_END_DECLS
