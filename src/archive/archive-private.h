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
typedef struct Prepared Prepared;

struct Member
{
  char *name;
  char *link_target; /* a symlink's target, else NULL */
  char *hardlink;    /* the member this one is a hard link to, else NULL */
  gboolean in_store; /* digest is set and the store has the blob */
  char digest[HUTCH_DIGEST_BUFSIZE];
  gint64 size;
  HutchBlobWriter *pending; /* written and verified, not yet linked */
  /* A plain tar stored gzipped (stage.c): its diff id and length; "" and
   * 0 for a member stored as it came. */
  char diff_id[HUTCH_DIGEST_BUFSIZE];
  gint64 plain_size;
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
  /* unpacking layers as they stream past (prepare.c) */
  HutchIdMap *map;     /* the user's, once asked for */
  GHashTable *plans;   /* member name → Plan: layers to unpack while staged */
  GPtrArray *prepared; /* Prepared, children unpacking, to join */
  GPtrArray *layers;   /* borrowed: chains of layers this load made, to undo */
};

/* load.c: sets up @load for a load of @what (which it borrows) into
 * @store, and frees what it holds again. Split out of hutch_archive_load()
 * so that tests/fuzz drives the same steps on a scratch store. */
void hutch_archive_load_init (Load *load, HutchStore *store, const char *what,
                              const HutchPlatform *platform, guint64 unpack_limit);
void hutch_archive_load_clear (Load *load);
/* load.c: reads @path as @format and finds its images (load->adds), their
 * blobs linked into the store (load->created); unpacks and records nothing. */
gboolean hutch_archive_read_and_import (Load *load, const char *path, HutchArchiveFormat format,
                                        GError **error);

/* tar.c: @path (relative to the directory @base, "" for the top) as a
 * member name: no "." or empty components, ".." applied; NULL when it is
 * absolute or climbs out of the archive. */
char *hutch_archive_clean_path (const char *base, const char *path);
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

/* prepare.c: one pass for docker-archive layers. Before the archive is
 * read, a look at its headers and small members (an uncompressed file
 * only) finds the layers its images lack, as load->plans; then each such
 * layer's bytes, as they stream past to be hashed and compressed, go to an
 * unpack in a user-namespace child too, which puts the layer in the cache
 * (store/layers.c, the same unpack as ever). Best effort: no plan, no
 * harm; the layer is unpacked from its blob later, as before. */
void hutch_archive_prescan (Load *load, int fd);
/* A child unpacking member @name, or NULL (no plan for it, or the child
 * could not start: then later, from the blob). Single-threaded callers
 * only (it forks). */
Prepared *hutch_archive_prepared_start (Load *load, const char *name);
/* The next bytes of the member; a child that stopped gets no more (its
 * error comes at the join). */
void hutch_archive_prepared_feed (Prepared *p, const void *buf, gsize len);
/* The member ended: its child is queued to be joined. */
void hutch_archive_prepared_end (Load *load, Prepared *p);
/* Waits for every child; the first error is the load's. */
gboolean hutch_archive_prepared_join_all (Load *load, GError **error);
/* A member that failed half way: its child is told the end and joined. */
void hutch_archive_prepared_abandon (Prepared *p);
/* The children left (told the end, joined) and the plans go. */
void hutch_archive_prepared_clear (Load *load);

/* stage.c: a member without a digest in its name on its way into the
 * store; plain tars are gzipped as they pass (see there), and unpacked
 * too when load->plans has @name. */
typedef struct Stager Stager;
Stager *hutch_archive_stager_new (Load *load, const char *name, GError **error);
/* A HutchLayerWriteFunc over a Stager. */
gboolean hutch_archive_stager_write (gpointer stager, const void *buf, gsize len, GError **error);
/* Ends the member: @m gets the finished blob (pending, to be linked when
 * a manifest names it), its size, and the diff id when it was gzipped. */
gboolean hutch_archive_stager_finish (Stager *s, Member *m, GError **error);
void hutch_archive_stager_free (Stager *s);
/* stage.c: a docker-dir (an unpacked docker-archive): reads its
 * manifest.json, and stages the files it names, opened beneath it. */
gboolean hutch_archive_docker_dir_open (Load *load, const char *path, GError **error);
Member *hutch_archive_dir_member (Load *load, const char *who, const char *name, GError **error);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Stager, hutch_archive_stager_free)

/* save-layer.c: the compressed layer blob @digest into @tar as @name,
 * decompressed, checked against @diff_id; its length comes from layer
 * @chain's info in the layer cache, or from a first pass. */
gboolean hutch_archive_save_layer (HutchTarWriter *tar, HutchStore *store, const char *name,
                                   const char *digest, HutchLayerCompression c,
                                   const char *diff_id, const char *chain, GError **error);

/* save-output.c: where a save writes. A file or directory gets its name
 * only at commit; cleared before that, it leaves nothing behind. */
typedef struct
{
  char *path;     /* the target; NULL for stdout */
  char *parent;   /* its directory */
  char *tmp_name; /* a hidden name in @parent, while not committed */
  gboolean is_dir;   /* an OCI layout directory: @fd is the temporary directory */
  gboolean tmpfile;  /* @fd is an unnamed file (O_TMPFILE) */
  int fd;
  guint64 written, kicked; /* bytes written; of those, sent to the disk */
} SaveOutput;

gboolean hutch_archive_output_open (SaveOutput *o, const char *path, gboolean is_dir,
                                    GError **error);
/* A HutchLayerWriteFunc over a SaveOutput. */
gboolean hutch_archive_output_write (gpointer data, const void *buf, gsize len, GError **error);
gboolean hutch_archive_output_commit (SaveOutput *o, GError **error);
void hutch_archive_output_clear (SaveOutput *o);

G_END_DECLS
