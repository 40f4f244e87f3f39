/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* build/: hutch build, the executor. Each step of a Containerfile makes an
 * image in the store, as docker's classic builder does: RUN in a container
 * of the stage's image (container/), committed as one layer; COPY and ADD
 * through a container of the image too, their files written in its user
 * namespace; the other instructions a new config and no layer. Every step's
 * image is a cache entry (cache.c) keyed by its parent, its instruction as
 * expanded and, for COPY and ADD, its files' content. */
#pragma once

#include <glib.h>

#include "build/containerfile.h"
#include "container/container.h"

G_BEGIN_DECLS

/* Makes sure @ref is in the store by @policy ("missing", "always",
 * "never"): cli/ pulls, with its registry options and progress. */
typedef gboolean (*HutchBuildPullFunc) (HutchContext *ctx, const char *ref, const char *policy,
                                        gpointer data, GError **error);
/* One line of progress ("STEP 2/5: RUN make", "--> 3f2a1b0c9d8e"). */
typedef void (*HutchBuildProgressFunc) (const char *line, gpointer data);

typedef struct
{
  const char *file;       /* -f: a path, or "-" for stdin; NULL: Containerfile, then
                           * Dockerfile, in the context */
  const char *context;    /* a directory, or "-": a tar on stdin */
  char **tags;            /* -t, as given */
  char **build_args;      /* --build-arg K=V, or K for the caller's value */
  const char *target;     /* --target: the stage to stop at */
  gboolean no_cache;
  const char *pull;       /* missing (NULL), always or never */
  const char *network;    /* RUN's network: NULL (the default), slirp, none or host */
  char **labels;          /* --label K=V, on the final image */
  gboolean no_layers;     /* --layers=false: no cache read or kept */
  gboolean docker;        /* --format docker */
  HutchBuildPullFunc pull_func;
  gpointer pull_data;
  HutchBuildProgressFunc progress;
  gpointer progress_data;
} HutchBuildOptions;

/* Builds the image @o describes; *@out_id its ID ("sha256:" and the config's hex
 * digest). A RUN that fails is HUTCH_ERROR_FAILED naming the step, its
 * line and its status, which *@out_status gets (else 125 on failure); the
 * steps before it stay in the cache, nothing is tagged. Errors name the
 * file and line of the instruction they come from. */
gboolean hutch_build_image (HutchContext *ctx, const HutchBuildOptions *o,
                            char out_id[HUTCH_DIGEST_BUFSIZE],
                            int *out_status, GError **error);

/* ---- the cache (cache.c) ---- */

/* IDs of the images builds made as steps that later steps were built on:
 * `images` leaves them out unless they are tagged or -a is given, as
 * docker and podman do with intermediate images. A set of hex IDs. */
GHashTable *hutch_build_cache_intermediates (const HutchContext *ctx);

G_END_DECLS
