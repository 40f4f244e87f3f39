/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Inside build/: the executor's state and the files of one step. */
#pragma once

#include "build.h"

G_BEGIN_DECLS

/* ---- the build and its stages (build.c, step.c) ---- */

typedef struct
{
  HutchContext *ctx;
  const HutchBuildOptions *o;
  HutchBuildFile *file;
  char *file_name;        /* "Containerfile", for messages */
  int context_fd;         /* the context directory, O_PATH */
  char *context_dir;
  HutchBuildIgnore *ignore; /* .dockerignore, or NULL */
  GHashTable *build_args; /* --build-arg: name -> value */
  GHashTable *global_args; /* ARG before FROM: name -> value or NULL */
  GPtrArray *predefined;  /* the proxy ARGs given (K=V), which RUN sees undeclared */
  char **stage_ids;       /* each built stage's image ("sha256:..."), or NULL */
  guint file_stages;      /* the length of stage_ids */
  guint step, steps;
  char *prefix;           /* of the progress lines */
} HutchBuild;

typedef struct
{
  HutchBuild *b;
  guint index;
  const HutchBuildStage *stage;
  char *image;            /* "sha256:..." of the current image; NULL: scratch, nothing yet */
  HutchStoreImage *img;   /* it, read from the store */
  GHashTable *args;       /* the ARGs in scope: name -> value or NULL */
  gboolean cmd_set;       /* a CMD in this stage: ENTRYPOINT keeps it */
} HutchBuildStageState;

void hutch_build_progress (const HutchBuild *b, const char *format, ...) G_GNUC_PRINTF (2, 3);
const HutchJsonNode *hutch_build_stage_config_member (const HutchBuildStageState *s,
                                                      const char *key);
HutchBuildLookup hutch_build_stage_lookup (void);
gboolean hutch_build_stage_set_image (HutchBuildStageState *s, const char *id, GError **error);
int hutch_build_compare_strv (gconstpointer a, gconstpointer b);

/* A step without a layer: @changes (commit's -c form) and @members (key,
 * JSON text) on the stage's config, @author for MAINTAINER. */
gboolean hutch_build_step_config (HutchBuildStageState *s, const HutchBuildInstruction *ins,
                                  const char *const *changes, const char *const *members,
                                  const char *author, GError **error);
/* RUN; *@out_status gets a failed command's status. */
gboolean hutch_build_step_run (HutchBuildStageState *s, const HutchBuildInstruction *ins,
                               int *out_status, GError **error);

/* ---- cache.c ---- */

/* The image a step with @key (64 hex) made, if it is still in the store:
 * its hex ID, or NULL. */
char *hutch_build_cache_get (const HutchContext *ctx, const char *key);
/* Records that @key made image @id; a failure is only warned of (the
 * build goes on without it). */
void hutch_build_cache_put (const HutchContext *ctx, const char *key, const char *id);
/* Records that a step was built on image @id (an intermediate image). */
void hutch_build_cache_mark_parent (const HutchContext *ctx, const char *id);

/* ---- copy.c: COPY and ADD ---- */

typedef struct
{
  const HutchBuildInstruction *ins;
  char **sources;        /* as expanded, relative to the context or the --from root */
  char *inline_name;     /* a here-document's file name, or NULL */
  char *inline_body;     /* its content */
  char *dest;            /* absolute, the stage's WORKDIR applied */
  gboolean dest_is_dir;  /* a trailing "/", or several sources */
  char *chown;           /* --chown as expanded, or NULL */
  guint chmod;           /* --chmod's bits, or 0 */
  gboolean chmod_set;
  gboolean add;          /* ADD: local archives are unpacked */
  char *from_id;         /* --from's image (hex ID), or NULL: the context */
  char *what;            /* "Containerfile:7: COPY", for messages */
} HutchBuildCopy;

void hutch_build_copy_clear (HutchBuildCopy *c);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (HutchBuildCopy, hutch_build_copy_clear)

/* Hashes what @c copies from the context at @context_fd (paths, modes,
 * sizes, link targets and contents, .dockerignore applied), into @sum;
 * refuses a source outside the context (HUTCH_ERROR_UNSAFE_PATH) or not
 * there (HUTCH_ERROR_NOT_FOUND). For --from, only the sources' names
 * (the image's ID is in the key already). */
gboolean hutch_build_copy_digest (int context_fd, const HutchBuildIgnore *ignore,
                                  const HutchBuildCopy *c, HutchSha256 *sum, GError **error);
/* Copies into container @id (created, not running) what @c names. */
gboolean hutch_build_copy_run (HutchContext *ctx, const char *id, int context_fd,
                               const HutchBuildIgnore *ignore, const HutchBuildCopy *c,
                               GError **error);

/* COPY and ADD as a step of @s. */
gboolean hutch_build_step_copy (HutchBuildStageState *s, const HutchBuildInstruction *ins,
                                const HutchBuildCopy *cp, GError **error);

G_END_DECLS
