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
  char *network;        /* --network as given (parsed into net), for the record */
  HutchCgroupLimits limits; /* --memory, --cpus, --pids-limit, --cgroups, ... */
  gboolean detach;      /* -d */
} HutchRunOptions;

void hutch_run_options_clear (HutchRunOptions *o);

/* Creates and starts @o->image (see hutch-run(1)), in the foreground or
 * with @o->detach detached. FALSE with @error when the container could not
 * be made or started (and then nothing of it is left); else @result has
 * the command's exit status (detached: 0 once it runs) and, for 126/127,
 * why it could not run; *@out_id (optional) its id. */
gboolean hutch_container_run (HutchContext *ctx, const HutchRunOptions *o,
                              HutchSandboxResult *result, char **out_id, GError **error);

/* ---- records (record.c) ---- */

typedef enum
{
  HUTCH_CONTAINER_CREATED,
  HUTCH_CONTAINER_RUNNING,
  HUTCH_CONTAINER_EXITED,
} HutchContainerStatus;

/* A container as recorded in containers/<id>/hutch.json, with its live
 * state from the runroot: "running" only while its monitor holds the lock
 * there, so a killed monitor or a reboot reads as exited. */
typedef struct
{
  char *id;             /* 64 hex */
  char *name;
  char *image;          /* as given */
  char *image_id;       /* the config's digest */
  char **command;       /* what runs */
  gint64 created;       /* microseconds since the epoch */
  gint64 started_at;    /* 0: never started */
  gint64 finished_at;   /* 0: not since */
  HutchContainerStatus status;
  int exit_code;
  gboolean oom_killed;  /* the kernel killed it at its memory limit */
  char *error;          /* what hutch knows beyond the code, or NULL */
  gboolean auto_remove; /* --rm */
  char *network;        /* --network as given; NULL: the default */
  GArray *ports;        /* HutchNetPort, as asked (host_port 0: any free one) */
  GArray *bound;        /* HutchNetPort, as bound by the last start */
  char *stop_signal;    /* the image's StopSignal, or NULL (SIGTERM) */
  gboolean tty;
  char *cgroup;         /* its own cgroup of the last start, or NULL */
  pid_t monitor_pid;    /* while running */
  pid_t init_pid;       /* the container's pid 1, while running */
} HutchContainer;

void hutch_container_free (HutchContainer *c);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (HutchContainer, hutch_container_free)

/* The id of the container @ref names: a name, a full id or an unambiguous
 * prefix of one. HUTCH_ERROR_NOT_FOUND, or HUTCH_ERROR_USAGE when
 * ambiguous. */
char *hutch_container_resolve (const HutchContext *ctx, const char *ref, GError **error);
HutchContainer *hutch_container_load (const HutchContext *ctx, const char *id, GError **error);
/* Every container, newest first (those that cannot be read are warned of). */
GPtrArray *hutch_container_list (const HutchContext *ctx, GError **error);

const char *hutch_container_status_name (HutchContainerStatus status);
/* "0.0.0.0:8080->80/tcp, 127.0.0.1:5353->53/udp" */
char *hutch_container_ports_text (const HutchContainer *c);
/* "2026-11-23T10:00:00.123456Z" */
char *hutch_container_time_text (gint64 usec);

/* inspect's document for @c (inspect.c): docker's fields where hutch has
 * them, from the record and config.json. */
gboolean hutch_container_inspect_write (const HutchContext *ctx, const HutchContainer *c,
                                        HutchJsonWriter *w, GError **error);

/* Makes the container from @o (create.c): its directory, name, config.json
 * and record, status created. */
HutchContainer *hutch_container_create (HutchContext *ctx, const HutchRunOptions *o, GError **error);

typedef enum
{
  HUTCH_START_FOREGROUND, /* our stdio is the container's; returns at its end */
  HUTCH_START_DETACHED,   /* a monitor of its own, the output to the log */
} HutchStartMode;

/* Starts a created or exited container (start.c). Foreground, @result
 * has how it ended; detached, it returns once the command runs (or with
 * @result->status and exec_error when it could not be exec'd). */
gboolean hutch_container_start (HutchContext *ctx, const char *id, HutchStartMode mode,
                                HutchSandboxResult *result, GError **error);

/* The limits recorded for container @id (its config.json). */
gboolean hutch_container_limits (const HutchContext *ctx, const char *id, HutchCgroupLimits *out,
                                 GError **error);
/* Why starting @ids (NULL-terminated) needs a scope of the systemd user
 * manager first, or NULL (see hutch_cgroup_need_scope()). */
char *hutch_container_need_scope (const HutchContext *ctx, char **ids);

/* ---- stop, kill, wait, rm (ops.c) ---- */

gboolean hutch_container_kill (const HutchContext *ctx, const char *id, int sig, GError **error);
/* The stop signal, then SIGKILL after @timeout seconds; waits for the end. */
gboolean hutch_container_stop (const HutchContext *ctx, const char *id, int timeout, GError **error);
/* Waits for a running container to end; its exit code. */
gboolean hutch_container_wait (const HutchContext *ctx, const char *id, int *out_code, GError **error);
/* Removes the container; a running one only with @force (killed first). */
gboolean hutch_container_remove (const HutchContext *ctx, const char *id, gboolean force,
                                 GError **error);
/* Removes every container that has exited, with its name (prune.c). */
gboolean hutch_container_prune (HutchContext *ctx, guint *out_removed, GError **error);

/* A signal by name ("TERM", "SIGTERM") or number; -1 when unknown. */
int hutch_container_signal_parse (const char *text);

/* ---- exec (exec.c) ---- */

typedef struct
{
  char **command;
  char **env;       /* -e, over the container's */
  char *workdir;
  char *user;
  gboolean tty;
  gboolean interactive;
  gboolean detach;
  gboolean privileged;
} HutchExecOptions;

gboolean hutch_container_exec (const HutchContext *ctx, const char *id, const HutchExecOptions *o,
                               HutchSandboxResult *result, GError **error);

/* ---- logs (logs.c) ---- */

typedef struct
{
  gboolean follow;
  gboolean timestamps;
  gint64 tail;      /* -1: all */
  gint64 since;     /* microseconds since the epoch; 0: all */
} HutchLogsOptions;

/* Copies the log of @id to our stdout and stderr; with follow, until the
 * container has ended. */
gboolean hutch_container_logs (const HutchContext *ctx, const char *id, const HutchLogsOptions *o,
                               GError **error);
/* "2026-11-23T10:00:00Z", a unix time, or a duration back from now ("10m"). */
gboolean hutch_container_parse_since (const char *text, gint64 *out_usec, GError **error);

G_END_DECLS
