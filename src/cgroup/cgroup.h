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

/* ---- limits (limits.c) ---- */

/* What run's flags ask for; 0 means "not asked" throughout. */
typedef struct
{
  gint64 memory;             /* --memory, bytes */
  gint64 memory_swap;        /* --memory-swap: memory plus swap, bytes; -1 unlimited */
  gint64 memory_reservation; /* --memory-reservation, bytes */
  double cpus;               /* --cpus */
  guint64 cpu_shares;        /* --cpu-shares (2..262144) */
  char *cpuset_cpus;         /* --cpuset-cpus "0-2,4" */
  gint64 pids_limit;         /* --pids-limit; -1 unlimited */
  gboolean disabled;         /* --cgroups=disabled */
  char *parent;              /* --cgroup-parent */
} HutchCgroupLimits;

void hutch_cgroup_limits_clear (HutchCgroupLimits *l);
/* Whether any limit was asked for (a default pids limit is not one). */
gboolean hutch_cgroup_limits_any (const HutchCgroupLimits *l);
/* The flags that asked, for messages: "--memory, --cpus". */
char *hutch_cgroup_limits_describe (const HutchCgroupLimits *l);

/* "512m", "1g", "1024" (bytes), as docker: b, k, m, g, t. */
gboolean hutch_cgroup_parse_size (const char *flag, const char *text, gint64 *out, GError **error);
/* --cpus "0.5"; --cpuset-cpus "0-2,4" (validated). HUTCH_ERROR_USAGE. */
gboolean hutch_cgroup_parse_cpus (const char *text, double *out, GError **error);
gboolean hutch_cgroup_parse_cpuset (const char *text, GError **error);
/* Checks the combination (--memory-swap below --memory, ...). */
gboolean hutch_cgroup_limits_validate (const HutchCgroupLimits *l, GError **error);

/* cpu.weight for --cpu-shares, as crun and the runtime-spec's cgroup v2
 * conversion: 1 + (shares - 2) * 9999 / 262142. */
guint64 hutch_cgroup_shares_to_weight (guint64 shares);

/* Whether @caps can apply @l. Else HUTCH_ERROR_HOST_UNSUPPORTED naming
 * the limits asked for, why they cannot be applied on this host and the
 * fix (the kernel command line on v1 or hybrid hosts; lingering for the
 * user manager; the Delegate= drop-in for a controller not delegated). */
gboolean hutch_cgroup_limits_check (const HutchCgroupCaps *caps, const HutchCgroupLimits *l,
                                    GError **error);
/* The part of hutch_cgroup_limits_check that needs no limits: whether
 * this host gives the user any cgroup v2 subtree at all. Else
 * HUTCH_ERROR_HOST_UNSUPPORTED "@asked cannot be applied: ..." with the
 * host's fix; @asked names what was asked for in the caller's words
 * ("--memory", "linux.resources.memory.limit"). */
gboolean hutch_cgroup_caps_check (const HutchCgroupCaps *caps, const char *asked, GError **error);
/* The controllers @l needs that @caps lacks, "memory, cpuset", or NULL. */
char *hutch_cgroup_limits_missing (const HutchCgroupCaps *caps, const HutchCgroupLimits *l);

/* ---- a scope of the systemd user manager (scope.c) ---- */

#define HUTCH_CGROUP_SCOPE_ENV "HUTCH_SYSTEMD_SCOPE"

/* Why @l needs what only the systemd user manager can give here ("cgroup X
 * is not yours"), or NULL when it does not: a limit asked for, a user
 * manager on the session bus, not already in a scope of it
 * (HUTCH_CGROUP_SCOPE_ENV), and our own cgroup not delegated, or
 * delegated without a controller @l needs, or shared with other processes
 * (a terminal's scope), where the kernel would give no controllers. */
char *hutch_cgroup_need_scope (const HutchCgroupCaps *caps, const HutchCgroupLimits *l);
/* Asks the user manager on @bus (HutchCgroupCaps.user_bus) over D-Bus for
 * a transient scope with Delegate=yes holding this process, as crun and
 * podman do, and waits until we are in it: there hutch finds a delegated
 * cgroup of its own (probe the caps again). Sets HUTCH_CGROUP_SCOPE_ENV to
 * the unit, for this process and its children. HUTCH_ERROR_HOST_UNSUPPORTED
 * saying what the manager or the bus said. */
gboolean hutch_cgroup_enter_scope (const char *bus, const char *why, GError **error);
/* The cgroup of the user manager on @bus ("/user.slice/…/user@1000.service"),
 * asked over D-Bus: its cgroup.controllers are what a scope of its gets. */
char *hutch_cgroup_manager_cgroup (const char *bus, GError **error);

/* ---- a container's cgroup (apply.c) ---- */

typedef struct HutchCgroup HutchCgroup;

/* Makes the cgroup of container @id under the delegated one we run in,
 * moving us (its monitor to be) into a leaf of our own first, and writes
 * the limits of @l (adding the default pids limit when pids is delegated).
 * NULL without @error when there is to be no cgroup: none asked for
 * (--cgroups=disabled, or no limit and none can be had); NULL with @error
 * when a limit was asked for and cannot be applied. */
HutchCgroup *hutch_cgroup_prepare (const HutchCgroupCaps *caps, const char *id,
                                   HutchCgroupLimits *l, GError **error);
/* Puts @pid (the container's first process, before it goes on) in it. */
gboolean hutch_cgroup_enter (HutchCgroup *cg, pid_t pid, GError **error);
/* Its directory under /sys/fs/cgroup. */
const char *hutch_cgroup_dir (const HutchCgroup *cg);
/* Whether the kernel killed a process of it for its memory limit. */
gboolean hutch_cgroup_oom_killed (const HutchCgroup *cg);
/* Removes the cgroup @dir, waiting up to @timeout_ms for its last
 * processes to be gone (cgroup.events says "populated 0"). */
gboolean hutch_cgroup_remove_dir (const char *dir, int timeout_ms);
/* Removes it (empty once the container has ended) and frees it. */
void hutch_cgroup_free (HutchCgroup *cg);

/* ---- reading a container's cgroup (stats.c) ---- */

typedef struct
{
  gint64 cpu_usec;      /* cpu.stat usage_usec; -1 unknown */
  gint64 memory;        /* memory.current; -1 unknown */
  gint64 memory_limit;  /* memory.max; 0 none ("max") */
  gint64 pids;          /* pids.current; -1 unknown */
  gint64 pids_limit;    /* pids.max; 0 none */
  gint64 io_read;       /* io.stat rbytes, summed; -1 unknown */
  gint64 io_write;      /* io.stat wbytes, summed */
} HutchCgroupStats;

/* The cgroup v2 directory of @pid, or NULL (a v1 or hybrid host). */
char *hutch_cgroup_dir_of_pid (pid_t pid);
/* Reads what @dir's files say; FALSE with @error when @dir is gone. */
gboolean hutch_cgroup_stats_read (const char *dir, HutchCgroupStats *out, GError **error);

/* ---- the freezer (freeze.c) ---- */

/* Freezes (or thaws) every process of the cgroup v2 directory @dir and
 * waits until the kernel says it is done (cgroup.events "frozen"). */
gboolean hutch_cgroup_freeze (const char *dir, gboolean frozen, GError **error);
/* Whether @dir is asked to be frozen (its cgroup.freeze says 1). */
gboolean hutch_cgroup_frozen (const char *dir);

G_END_DECLS
