/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What the files of archive/ share: the load in progress. A source puts
 * blobs into the store (tar.c streams a tarball, oci.c copies from a
 * directory); docker.c and oci.c turn the archive's own index into images;
 * load.c records them, or undoes the blobs on failure. */
#pragma once

#include "archive.h"

G_BEGIN_DECLS

typedef struct Member Member;
typedef struct Load Load;

struct Member
{
  char *name;
  char *link_target; /* a symlink's target, else NULL */
  char *hardlink;    /* the member this one is a hard link to, else NULL */
  gboolean in_store; /* digest is set and the store has the blob */
  char digest[HUTCH_DIGEST_BUFSIZE];
  gint64 size;
  HutchBlobWriter *pending; /* written and verified, not yet linked */
};

struct Load
{
  HutchStore *store;
  const char *what; /* the archive, for messages */
  const HutchPlatform *platform;
  guint64 unpack_limit; /* per layer, uncompressed */
  /* tarballs: members by normalised name, and the small files kept in memory */
  GHashTable *members;
  GBytes *manifest_json;
  GBytes *index_json;
  GBytes *oci_layout;
  /* directories: the layout's directory fd */
  int dir_fd;
  /* blobs this load linked into the store, to undo on failure */
  GPtrArray *created;
  /* what to record */
  GArray *adds; /* images found, to record when all check out (load.c) */
};

/* tar.c: reads the whole tarball at @path into load->members, linking blobs
 * named blobs/sha256/<hex> as they stream past. */
gboolean hutch_archive_tar_read (Load *load, const char *path, GError **error);
/* The member @name refers to (after symlinks inside the archive), its blob
 * linked into the store. @who says which file named it, for messages. */
Member *hutch_archive_tar_resolve (Load *load, const char *who, const char *name, GError **error);

/* Makes sure blob @d is in the store with its declared size: from a layout
 * directory, copied and verified; from a tarball, it must have streamed by. */
gboolean hutch_archive_ensure_blob (Load *load, const HutchDescriptor *d, GError **error);
/* Stores @data as a blob (a manifest made up for a docker-archive image). */
gboolean hutch_archive_put_blob (Load *load, const char *data, gsize len,
                                 char out_digest[HUTCH_DIGEST_BUFSIZE], GError **error);
/* Queues an image to be recorded, with names taken as given (full refs). */
void hutch_archive_add_image (Load *load, const char *digest, const char *media_type, gint64 size,
                              GPtrArray *names);
/* Checks the layers of an image against its config: counts, and for
 * uncompressed layers that the blob digest is the diff_id. */
gboolean hutch_archive_check_layers (Load *load, const HutchManifest *m,
                                     const HutchImageConfig *config, GError **error);

/* docker.c: the images of manifest.json. */
gboolean hutch_archive_docker_import (Load *load, GError **error);
/* oci.c: the images of index.json (tarball or directory). */
gboolean hutch_archive_oci_import (Load *load, GError **error);
/* oci.c: reads oci-layout and index.json from a layout directory. */
gboolean hutch_archive_oci_dir_open (Load *load, const char *path, GError **error);

G_END_DECLS
