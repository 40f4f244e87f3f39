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

typedef enum
{
  HUTCH_ROOTFS_OVERLAY,        /* kernel overlayfs, userxattr */
  HUTCH_ROOTFS_FUSE_OVERLAYFS,
  HUTCH_ROOTFS_COPY,
} HutchRootfsDriver;

/* The first link of the rootfs fallback chain (DESIGN.md) this host can use. */
HutchRootfsDriver hutch_container_host_rootfs_driver (const HutchHostCaps *caps);
const char *hutch_rootfs_driver_name (HutchRootfsDriver driver);

G_END_DECLS
