/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cgroup/: resource limits through cgroup v2 delegation. For now: which way
 * to limits, if any, this host offers the user. */
#pragma once

#include <glib.h>

#include "util/util.h"

G_BEGIN_DECLS

typedef enum
{
  HUTCH_CGROUP_V1,       /* only the legacy hierarchies */
  HUTCH_CGROUP_HYBRID,   /* v1 controllers, a controller-less v2 at unified/ */
  HUTCH_CGROUP_V2,       /* the unified hierarchy */
} HutchCgroupVersion;

typedef enum
{
  HUTCH_CGROUP_DELEGATION_NONE,
  HUTCH_CGROUP_DELEGATION_INHERITED, /* our own cgroup v2 subtree is writable */
  HUTCH_CGROUP_DELEGATION_SYSTEMD,   /* a systemd user manager can make a scope */
} HutchCgroupDelegation;

typedef struct
{
  HutchCgroupVersion version;
  char *own_path;              /* our cgroup v2 path, "/user.slice/…", or NULL */
  HutchCgroupDelegation delegation;
  char **controllers;          /* usable controllers (memory, cpu, pids, …) */
  char *user_bus;              /* the systemd user manager's bus, or NULL */
} HutchCgroupCaps;

void hutch_cgroup_caps_probe (HutchCgroupCaps *caps);
void hutch_cgroup_caps_clear (HutchCgroupCaps *caps);

const char *hutch_cgroup_version_name (HutchCgroupVersion version);

G_END_DECLS
