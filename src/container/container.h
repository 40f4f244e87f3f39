/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* container/: container records and lifecycle. For now: the host picture
 * that `check`, `info` and (later) `run` share: probed once, judged once. */
#pragma once

#include <glib.h>

#include "util/util.h"
#include "sandbox/sandbox.h"
#include "net/net.h"
#include "cgroup/cgroup.h"
#include "store/store.h"

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

/* ---- the log's options (log-file.c) ---- */

typedef enum
{
  HUTCH_LOG_DRIVER_K8S_FILE, /* podman's k8s-file, in containers/<id>/ctr.log */
  HUTCH_LOG_DRIVER_NONE,     /* no log at all */
} HutchLogDriver;

/* The cap of a log when none is asked for: 5 files of 20 MB, as docker's
 * "local" driver keeps (docker's json-file and podman keep everything
 * unless told). Without a cap a chatty -d container wrote 3.8 GB in 8 s
 * into a store that shares its disk with the user's home; 100 MB still
 * holds about 2 million short lines (a line of the log is its text plus
 * about 40 bytes). 20m as --log-opt reads it: 20,000,000 bytes. */
#define HUTCH_LOG_DEFAULT_MAX_SIZE ((gint64) 20 * 1000 * 1000)
#define HUTCH_LOG_DEFAULT_MAX_FILE 5
/* `logs` looks for each file of a log by name: a bound on how many. */
#define HUTCH_LOG_MAX_FILE_LIMIT 1000

/* As recorded (hutch.json LogConfig); all zero means the defaults. */
typedef struct
{
  HutchLogDriver driver;
  gint64 max_size; /* bytes a file of the log may reach; -1: no cap; 0: the default */
  int max_file;    /* files kept, the current one among them; 0: the default */
} HutchLogConfig;

/* --log-driver @driver (NULL: k8s-file) and --log-opt @opts (NULL or a
 * NULL-terminated list; each KEY=VALUE[,KEY=VALUE...]) into @out, with
 * the defaults for what they leave out. HUTCH_ERROR_USAGE naming the flag
 * on a driver or option hutch lacks. */
gboolean hutch_log_config_parse (HutchLogConfig *out, const char *driver, char **opts,
                                 GError **error);
/* Zero fields to the defaults. */
void hutch_log_config_resolve (HutchLogConfig *config);
const char *hutch_log_driver_name (HutchLogDriver driver);
/* 20000000 as "20m", 1500 as "1500"; -1 as "-1". */
char *hutch_log_size_text (gint64 size);

/* ---- --restart (restart.c) ---- */

typedef enum
{
  HUTCH_RESTART_NO,
  HUTCH_RESTART_ON_FAILURE, /* a non-zero exit, at most max_retries times (0: no limit) */
  HUTCH_RESTART_ALWAYS,
  HUTCH_RESTART_UNLESS_STOPPED, /* as always: they differ only after a reboot (see hutch-run(1)) */
} HutchRestartKind;

typedef struct
{
  HutchRestartKind kind;
  int max_retries;
} HutchRestartPolicy;

/* --restart @text: no, on-failure[:N], always or unless-stopped, as docker
 * spells them. HUTCH_ERROR_USAGE naming the flag and the valid policies. */
gboolean hutch_container_restart_policy_parse (const char *text, HutchRestartPolicy *out,
                                               GError **error);
/* "no", "on-failure", "always", "unless-stopped" (docker's Name). */
const char *hutch_container_restart_kind_name (HutchRestartKind kind);
/* The environment variable that, set to 1 in the environment of `hutch
 * start -a` or `run`, leaves restarting to whoever runs hutch (the unit of
 * `hutch generate systemd`, whose Restart= does it). */
#define HUTCH_RESTART_BY_ENV "HUTCH_RESTART_BY_SYSTEMD"

/* ---- --userns (userns.c) ---- */

typedef enum
{
  HUTCH_USERNS_DEFAULT, /* container 0 is the user, 1.. the subordinate ids */
  HUTCH_USERNS_KEEP_ID, /* the user at its own uid and gid, the subordinate ids around it */
} HutchUsernsMode;

/* --userns @text: "" (or NULL) the default, "keep-id". HUTCH_ERROR_USAGE
 * naming the flag and the modes otherwise. */
gboolean hutch_container_userns_parse (const char *text, HutchUsernsMode *out, GError **error);
/* As inspect's HostConfig.UsernsMode shows it: "" or "keep-id". */
const char *hutch_container_userns_name (HutchUsernsMode mode);
/* The user's id map (hutch_sandbox_idmap_new_for_user()) in @mode. */
HutchIdMap *hutch_container_idmap_new_for_mode (HutchUsernsMode mode, GError **error);

/* ---- hutch run (run.c) ---- */

/* No --stop-timeout: stop waits its own default (10 s, or -t). */
#define HUTCH_STOP_TIMEOUT_UNSET G_MININT


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
  char **volumes;    /* -v SOURCE:CTR[:OPTIONS] or -v CTR */
  char **mounts;     /* --mount type=...,... */
  char **tmpfs;      /* --tmpfs CTR[:OPTIONS] */
  char *name;        /* --name: unique among the store's containers */
  gboolean rm;
  HutchNetConfig net;     /* --network, -p (hutch_net_config_init'ed) */
  gboolean publish_all;   /* -P: the image's ExposedPorts on free host ports */
  gboolean read_only;
  gboolean read_only_tmpfs; /* with read_only: tmpfs at /tmp, /var/tmp and /run */
  char *cidfile;        /* --cidfile: the id is written there once the container exists */
  char *stop_signal;    /* --stop-signal */
  int stop_timeout;     /* --stop-timeout; HUTCH_STOP_TIMEOUT_UNSET when not given */
  char **labels;        /* --label K=V (and those of --label-file, read by the cli) */
  char **expose;        /* --expose PORT[/PROTO]: more ports for -P */
  char **extra_hosts;   /* --add-host NAME:IP */
  char **dns;           /* --dns IP */
  char **dns_search;    /* --dns-search DOMAIN */
  char **dns_options;   /* --dns-option OPT */
  char **allow_hosts;   /* --allow-host, as given (parsed into net too) */
  char *shm_size;       /* --shm-size SIZE */
  char **ulimits;       /* --ulimit NAME=SOFT[:HARD] */
  char **group_add;     /* --group-add GROUP */
  char **devices;       /* --device HOST[:CTR[:PERMS]] */
  char *health_cmd;     /* --health-cmd: a shell command */
  char *health_interval; /* --health-interval and the others: durations as given */
  char *health_timeout;
  char *health_start_period;
  int health_retries;   /* 0: the image's, else 3 */
  gboolean no_healthcheck;
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
  HutchLogConfig log;   /* --log-driver, --log-opt */
  HutchRestartPolicy restart; /* --restart */
  HutchUsernsMode userns; /* --userns */
} HutchRunOptions;

/* Checks of what run's flags put in files: --add-host NAME:IP (IP may be
 * "host-gateway"), --dns IP, --dns-search DOMAIN, --dns-option OPT and
 * --label K[=V]. HUTCH_ERROR_USAGE naming the flag. */
gboolean hutch_container_run_flags_validate (const HutchRunOptions *o, GError **error);

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
  gboolean monitor_gone; /* recorded as running, but its monitor ended without
                          * recording the end: read as exited, 137 */
  char *error;          /* what hutch knows beyond the code, or NULL */
  gboolean auto_remove; /* --rm */
  char *network;        /* --network as given; NULL: the default */
  GArray *ports;        /* HutchNetPort, as asked (host_port 0: any free one) */
  GArray *bound;        /* HutchNetPort, as bound by the last start */
  char *stop_signal;    /* --stop-signal, else the image's StopSignal, or NULL (SIGTERM) */
  int stop_timeout;     /* --stop-timeout: seconds stop waits; -1 forever;
                         * HUTCH_STOP_TIMEOUT_UNSET: stop's default */
  char **labels;        /* --label and --label-file, "K=V" (the image's stay in its config) */
  char **extra_hosts;   /* --add-host, "NAME:IP" */
  char **dns;           /* --dns: the name servers of resolv.conf */
  char **dns_search;    /* --dns-search */
  char **dns_options;   /* --dns-option */
  char **allow_hosts;   /* --allow-host: the egress policy, kept for each start */
  gboolean tty;
  char *cgroup;         /* its own cgroup of the last start, or NULL */
  gboolean paused;      /* running, with its cgroup frozen (pause) */
  HutchLogConfig log;   /* resolved: no zero field */
  char *log_error;      /* the first failure to write the log in its last run, or NULL */
  pid_t monitor_pid;    /* while running */
  pid_t init_pid;       /* the container's pid 1, while running */
  guint64 monitor_start; /* their start times (/proc/PID/stat), which a pid */
  guint64 init_start;    /* is checked against before it is acted on */
  HutchRestartPolicy restart; /* --restart */
  int restart_count;     /* restarts by the policy since the user's last start */
  gboolean stop_asked;   /* stop, kill or rm -f by the user since its last start */
  gboolean restarting;   /* exited, and its restart keeper is to start it again */
  HutchUsernsMode userns; /* --userns, for as long as the container lives */
} HutchContainer;

void hutch_container_free (HutchContainer *c);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (HutchContainer, hutch_container_free)

/* The id map container @c runs with (its --userns): what everything that
 * runs in its user namespace, or reads or writes its files as root of one,
 * must use, so that owners inside mean what they meant to the container. */
HutchIdMap *hutch_container_idmap_new (const HutchContainer *c, GError **error);

/* Checks (and makes) the store and the runroot of @ctx before containers
 * are made or read: each must be a directory of the user's own, not a
 * symlink, that no one else can write (hutch_util_ensure_private_dir());
 * HUTCH_ERROR_UNSAFE_PATH with the fix otherwise. */
gboolean hutch_container_state_dirs_check (const HutchContext *ctx, GError **error);

/* The id of the container @ref names: a name, a full id or an unambiguous
 * prefix of one. HUTCH_ERROR_NOT_FOUND, or HUTCH_ERROR_USAGE when
 * ambiguous. */
char *hutch_container_resolve (const HutchContext *ctx, const char *ref, GError **error);
HutchContainer *hutch_container_load (const HutchContext *ctx, const char *id, GError **error);

/* system check's look at the containers (check.c): what killed commands
 * left that no process holds (tombstones of removals, directories without
 * hutch.json, records of containers whose monitor was killed: notes, as
 * the next ps or create finishes them) and records that cannot be read (a
 * problem: no command can use or remove the container), each added to
 * @findings as a HutchStoreFinding. With @repair, the sweep of the next ps
 * finishes the leftovers, a --rm container whose monitor is gone is
 * removed, another's end is recorded, and an unreadable record's container
 * is removed. */
void hutch_container_check (const HutchContext *ctx, gboolean repair, GPtrArray *findings);
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
/* The stop signal, then SIGKILL after @timeout seconds (-1: never;
 * HUTCH_STOP_TIMEOUT_UNSET: the container's --stop-timeout, else 10); waits
 * for the end. */
gboolean hutch_container_stop (const HutchContext *ctx, const char *id, int timeout, GError **error);
/* Waits for a running container to end; its exit code. */
gboolean hutch_container_wait (const HutchContext *ctx, const char *id, int *out_code, GError **error);
/* Removes the container; a running one only with @force (killed first).
 * It is first renamed out of sight in one step (remove.c), so that a kill
 * at any moment leaves it whole or gone, never half. */
gboolean hutch_container_remove (const HutchContext *ctx, const char *id, gboolean force,
                                 GError **error);
/* Removes every container that has exited, with its name (prune.c). */
gboolean hutch_container_prune (HutchContext *ctx, guint *out_removed, GError **error);
/* Before `rmi` or `system prune` of @store: takes the store lock
 * exclusive, which `create` holds shared from the image's lookup until
 * the container's record is written, so that from here on every container
 * of an image has its record; then tells @store which images containers
 * use (hutch_store_images_keep()). */
gboolean hutch_container_images_protect (const HutchContext *ctx, HutchStore *store,
                                         GError **error);

/* Renames container @id (running or not) to @new_name (names.c): the new
 * name is taken first, then the record says it, then the old name is let
 * go, so that the container always has a name and a rename killed midway
 * leaves it known by one or both. HUTCH_ERROR_USAGE for a name that is not
 * valid or is its own; HUTCH_ERROR_BUSY naming the container that has it. */
gboolean hutch_container_rename (const HutchContext *ctx, const char *id, const char *new_name,
                                 GError **error);

/* pause (@pause) or unpause a running container through the cgroup v2
 * freezer of its cgroup (pause.c). HUTCH_ERROR_HOST_UNSUPPORTED saying
 * what gives it a cgroup when it has none; HUTCH_ERROR_USAGE when it is
 * not running, or already (un)paused. */
gboolean hutch_container_pause (const HutchContext *ctx, const char *id, gboolean pause,
                                GError **error);

/* The host pids of running container @id's processes, ascending (top.c):
 * those in its pid namespace. HUTCH_ERROR_USAGE when it is not running. */
GArray *hutch_container_pids (const HutchContext *ctx, const char *id, GError **error);

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

/* ---- the event log (events.c) ---- */

typedef struct
{
  gint64 time;  /* microseconds since the epoch */
  char *type;   /* "container" or "image" */
  char *action; /* docker's: create, start, die, stop, kill, remove, pull, tag, ... */
  char *id;
  char *name;   /* or NULL */
  char *image;  /* a container's image, or NULL */
  char *extra;  /* die: the exit code; tag: the name; or NULL */
} HutchEvent;

void hutch_event_free (HutchEvent *e);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (HutchEvent, hutch_event_free)

/* Appends an event (at @time, 0: now) to the store's events.log; one that
 * cannot be written is dropped, never an error of the command's. */
void hutch_event_record (const HutchContext *ctx, gint64 time, const char *type, const char *action,
                         const char *id, const char *name, const char *image, const char *extra);
void hutch_event_container (const HutchContext *ctx, const HutchContainer *c, const char *action);
/* The log opened for appending (-1 when it cannot be), for a process that
 * writes events after it loses sight of the store (the monitor), and the
 * write of one event to it. */
int hutch_event_log_open (const HutchContext *ctx);
void hutch_event_write (int fd, gint64 time, const char *type, const char *action, const char *id,
                        const char *name, const char *image, const char *extra);
/* The events from @since to @until (0: no end), oldest first: the log's
 * from *@inout_offset on (NULL: all; moved past what was read), and each
 * container's last end ("die") not already in @died (a set of "ID TIME"
 * it adds to; NULL: all). */
GPtrArray *hutch_events_read (const HutchContext *ctx, gint64 since, gint64 until,
                              gint64 *inout_offset, GHashTable *died);

/* ---- health checks (health.c) ---- */

/* Go's durations as docker's flags take them (30s, 1m30s, 500ms). */
gboolean hutch_container_duration_parse (const char *flag, const char *text, gint64 *out_ns,
                                         GError **error);
/* The check of a container being made in @dir: @o's --health-* flags, else
 * @image's Healthcheck; nothing with --no-healthcheck or neither. */
gboolean hutch_container_health_config_write (const char *dir, const HutchRunOptions *o,
                                              const HutchImageConfig *image, GError **error);
/* Runs the check once in running container @id, records the result and
 * sets *@out_status to "healthy", "unhealthy" or "starting". */
gboolean hutch_container_health_run (const HutchContext *ctx, const char *id, char **out_status,
                                     GError **error);
/* inspect's Config.Healthcheck (@config) or State.Health, when it has a check. */
void hutch_container_health_inspect (const HutchContext *ctx, const HutchContainer *c,
                                     HutchJsonWriter *w, gboolean config);
/* "healthy", "unhealthy" or "starting" for a running container with a
 * check, else NULL. */
char *hutch_container_health_status (const HutchContext *ctx, const HutchContainer *c);

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

/* ---- diff and commit (diff.c, commit.c) ---- */

/* The changes of container @id's rootfs against its image, sorted by path:
 * each "A/path", "C/path" or "D/path" (the kind, then the absolute path).
 * Its generated files (/etc/hostname, /etc/hosts, /etc/resolv.conf) and
 * the mount points of -v and --tmpfs are left out. */
GPtrArray *hutch_container_diff (const HutchContext *ctx, const char *id, GError **error);

typedef struct
{
  char *message;  /* -m: the history entry's comment, or NULL */
  char *author;   /* -a, or NULL */
  char **changes; /* -c, NULL-terminated, or NULL */
  gboolean pause; /* stop the container's processes while its changes are read */
  gboolean squash; /* one layer of the whole tree instead of one more layer */
  gboolean docker; /* --format docker: a Docker schema 2 manifest and config */
  HutchLayerCompression compression;
  char *name;     /* a full reference, or NULL: untagged */
  char *created_by; /* the history entry's created_by (build's step), or NULL: "hutch commit" */
} HutchCommitOptions;

void hutch_commit_options_clear (HutchCommitOptions *o);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (HutchCommitOptions, hutch_commit_options_clear)

/* A new image of container @id's image and its changes as one more
 * layer (see hutch-commit(1)); *@out_id its ID. On failure the store is
 * as it was. HUTCH_ERROR_USAGE for a bad -c change. */
gboolean hutch_container_commit (HutchContext *ctx, const char *id, const HutchCommitOptions *o,
                                 char out_id[HUTCH_DIGEST_BUFSIZE], GError **error);
/* ---- a container's files from outside it (rootfs.c, copy.c, export.c) ---- */

/* Starts @func in a child that sees container @id's files (see
 * hutch_sandbox_root_job_join() and _mount()): joined to its namespaces
 * when it runs, else with its rootfs mounted privately as start mounts it,
 * @view then always the rootfs, and the container's lock held until the
 * child ends (a start or rm waits for it; HUTCH_ERROR_BUSY when one holds
 * it now). For cp, export and commit. Finish it with
 * hutch_sandbox_root_job_finish(). */
HutchSandboxRootJob *hutch_container_root_job_start (const HutchContext *ctx, const char *id,
                                                     HutchSandboxView view,
                                                     HutchSandboxRootFunc func, gpointer data,
                                                     GError **error);

/* hutch cp, with docker cp's rules for the destination (a missing one is
 * the copy's new name, an existing directory gets it inside, "SRC/."
 * copies what SRC holds, a trailing "/" must be a directory). @ref names
 * the container in messages. Every container path is resolved beneath its
 * root (a symlink in it never leads out of it). */
typedef struct
{
  const char *ref;     /* as the user named the container */
  const char *path;    /* in the container */
  const char *host;    /* on the host; NULL: a tar stream on stdout or stdin */
  gboolean archive;    /* -a: copying in, keep the tar's or files' owners */
} HutchCopyOptions;

/* Out of the container: to @o->host owned by the caller (as docker cp), or
 * as a tar on stdout with the owners the container sees. */
gboolean hutch_container_copy_out (const HutchContext *ctx, const char *id,
                                   const HutchCopyOptions *o, GError **error);
/* Into it: owned by the container's root, or with @o->archive the owners
 * of the files or of the tar. From stdin the destination must be a
 * directory. HUTCH_ERROR_NOT_FOUND for a source or destination that is
 * not there. */
gboolean hutch_container_copy_in (const HutchContext *ctx, const char *id,
                                  const HutchCopyOptions *o, GError **error);

/* hutch export: the container's merged rootfs as one flat tar on @fd,
 * owners as the container sees them, no whiteouts, nothing mounted on it
 * (/proc, volumes). */
gboolean hutch_container_export (const HutchContext *ctx, const char *id, int fd, GError **error);

/* ---- volumes as containers use them (volume.c, mount-parse.c) ---- */

/* Whether @o's -v and --mount parse; HUTCH_ERROR_USAGE naming the flag
 * and what is wrong. Nothing is made. */
gboolean hutch_container_mounts_check (const HutchRunOptions *o, GError **error);
/* Removes volume @name unless a container, running or not, names it
 * (HUTCH_ERROR_BUSY naming the container); with @skip_missing one that is
 * not there is no error (else HUTCH_ERROR_NOT_FOUND). */
gboolean hutch_container_volume_remove (const HutchContext *ctx, const char *name,
                                        gboolean skip_missing, GError **error);
/* rm -v: hutch_container_remove(), then the anonymous volumes of @id
 * (those another container names stay, with a warning). */
gboolean hutch_container_remove_volumes (const HutchContext *ctx, const char *id, gboolean force,
                                         GError **error);
/* Removes every volume no container names; their names into
 * @out_removed (of char *), and about how many bytes they held. */
gboolean hutch_container_volume_prune (const HutchContext *ctx, GPtrArray *out_removed,
                                       guint64 *out_bytes, GError **error);

G_END_DECLS
