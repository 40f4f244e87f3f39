/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* container/: container records and lifecycle. For now: the host picture
 * that `check`, `info` and (later) `run` share: probed once, judged once. */
#pragma once

#include <glib.h>

#include "util/util.h"
#include "sandbox/sandbox.h"
#include "net/net.h"
#include "cgroup/cgroup.h"

G_BEGIN_DECLS

typedef struct
{
  char *kernel_release;
  char *kernel_machine;
  gboolean openat2;
  HutchSandboxCaps sandbox;
  HutchNetCaps net;
  HutchCgroupCaps cgroup;
  gboolean runroot_ok;
  char *runroot_error;
  gboolean root_ok;
  char *root_error;
  gint64 probe_usec;
} HutchHostCaps;

/* Probes everything once, creating the store root and the runroot of @ctx
 * when they are missing (a problem with either is recorded, not thrown).
 * Returns NULL only when a probe could not run at all. */
HutchHostCaps *hutch_container_host_probe (const HutchContext *ctx, GError **error);
void hutch_container_host_caps_free (HutchHostCaps *caps);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (HutchHostCaps, hutch_container_host_caps_free)

typedef enum
{
  HUTCH_CHECK_OK,
  HUTCH_CHECK_FALLBACK, /* works, with less than the first choice */
  HUTCH_CHECK_MISSING,  /* not available */
} HutchCheckStatus;

typedef struct
{
  const char *id;          /* stable key for JSON: "userns", "idmap", … */
  const char *title;       /* "user namespaces" */
  HutchCheckStatus status;
  char *detail;            /* what was found */
  char *fix;               /* the command that fixes it, or NULL */
  gboolean required;       /* containers cannot run when this is missing */
} HutchCheckRow;

/* Judges @caps: one row per capability, each with what was found and, for
 * anything less than ok, what to run to fix it. Returns a GPtrArray of
 * HutchCheckRow (freed with it); *@out_runnable says whether containers
 * can run at all. */
GPtrArray *hutch_container_host_report (const HutchHostCaps *caps, const HutchContext *ctx,
                                        gboolean *out_runnable);

const char *hutch_check_status_name (HutchCheckStatus status);

/* The first link of the rootfs fallback chain (DESIGN.md) this host can use. */
HutchRootfsDriver hutch_container_host_rootfs_driver (const HutchHostCaps *caps);

/* ---- hutch run (run.c) ---- */

typedef struct
{
  char *image;
  char **command;    /* after the image; NULL for the image's Cmd */
  char *entrypoint;  /* --entrypoint; "" clears the image's */
  char **env;        /* -e K=V or K (the host's value) */
  char **env_files;  /* --env-file: lines of K=V or K, read before -e */
  char *workdir;
  char *user;
  char *hostname;
  char **volumes;    /* -v HOST:CTR[:ro|rw] */
  char **tmpfs;      /* --tmpfs CTR[:OPTIONS] */
  char *name;        /* --name: unique among the store's containers */
  gboolean rm;
  HutchNetConfig net;     /* --network, -p (hutch_net_config_init'ed) */
  gboolean publish_all;   /* -P: the image's ExposedPorts on free host ports */
  gboolean read_only;
  gboolean init;
  HutchRootfsDriver driver;
  gboolean driver_forced;
  char **cap_add;
  char **cap_drop;
  gboolean privileged;  /* every capability of the user namespace, no seccomp */
  gboolean no_seccomp;  /* --security-opt seccomp=unconfined */
  gboolean tty;         /* -t */
  gboolean interactive; /* -i */
} HutchRunOptions;

void hutch_run_options_clear (HutchRunOptions *o);

/* Runs @o->image in the foreground (see hutch-run(1)). FALSE with @error
 * when the container could not be made; else @result has the command's
 * exit status and, for 126/127, why it could not run. */
gboolean hutch_container_run (HutchContext *ctx, const HutchRunOptions *o,
                              HutchSandboxResult *result, GError **error);

/* Removes every container that has exited, with its name (prune.c). */
gboolean hutch_container_prune (HutchContext *ctx, guint *out_removed, GError **error);

G_END_DECLS
