/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What the files of container/ share: the record's paths, locks and the
 * OCI config.json that holds what the sandbox needs to start again. */
#pragma once

#include "container.h"

G_BEGIN_DECLS

/* containers/<id> in the store. */
char *hutch_container_dir (const HutchContext *ctx, const char *id);
/* <runroot>/containers/<id>: the live state, gone after a reboot. */
char *hutch_container_run_dir (const HutchContext *ctx, const char *id);

/* Takes containers/<id>/lock (flock, exclusive) for a change of state;
 * -1 with @error when the container has gone. */
int hutch_container_lock (const HutchContext *ctx, const char *id, GError **error);

/* Writes @c's hutch.json atomically. A container kept after it ends is
 * fsynced before the rename, so a crash leaves the old record or the new;
 * one run with --rm is not (its record goes when it ends, and an fsync per
 * change of state was a tenth of such a run's start-up). */
gboolean hutch_container_save (const HutchContext *ctx, const HutchContainer *c, GError **error);

/* config.json (spec.c): the sandbox spec as an OCI runtime-spec config,
 * and back. The container directory's own paths (upper, work, rootfs, the
 * /etc files) are not stored but derived from @dir. @lasting: fsynced, as
 * hutch.json is for a container that outlives its run. */
gboolean hutch_container_spec_write (const char *dir, const HutchSandboxSpec *spec,
                                     const HutchCgroupLimits *limits, gboolean lasting,
                                     GError **error);
gboolean hutch_container_spec_read (const char *dir, HutchSandboxSpec *spec, GError **error);
/* linux.resources and the io.hutch.cgroup* annotations of config.json. */
gboolean hutch_container_limits_read (const char *dir, HutchCgroupLimits *limits, GError **error);
/* Whether this host can apply @limits (none asked: yes); else the error
 * that says why not and how to fix the host. */
gboolean hutch_container_limits_usable (const HutchCgroupLimits *limits, GError **error);
void hutch_container_spec_clear (HutchSandboxSpec *spec);

/* The names a container is known by. */
gboolean hutch_container_name_reserve (const HutchContext *ctx, const char *name, const char *id,
                                       GError **error);
void hutch_container_name_release (const HutchContext *ctx, const char *name, const char *id);

/* The log (logs.c): "TIME STREAM F|P TEXT" lines, as podman's k8s-file. */
typedef struct HutchLogWriter HutchLogWriter;
HutchLogWriter *hutch_log_writer_new (int file_fd, int out_fd, int err_fd);
void hutch_log_writer_free (HutchLogWriter *w);
/* In the foreground: what is read goes on to @out_fd and @err_fd too
 * (borrowed); a stream whose copy cannot be written is closed. */
void hutch_log_writer_tee (HutchLogWriter *w, int out_fd, int err_fd);
void hutch_log_writer_prepare (HutchLogWriter *w, GArray *fds, int *timeout_ms);
void hutch_log_writer_dispatch (HutchLogWriter *w, GArray *fds);
/* -t: the terminal's output, as stdout. */
void hutch_log_writer_tty (HutchLogWriter *w, const char *buf, gsize len);
/* What is left in the pipes once the container has gone. */
void hutch_log_writer_drain (HutchLogWriter *w);

gboolean hutch_container_env_add (char ***env, const char *item, const char *where, GError **error);

G_END_DECLS
