/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What the files of container/ share: the record's paths, locks and the
 * OCI config.json that holds what the sandbox needs to start again. */
#pragma once

#include "container.h"

G_BEGIN_DECLS

/* containers/<id> in the store. */
char *hutch_container_dir (const HutchContext *ctx, const char *id);
/* <runroot>/containers/<id>: the live state, gone after a reboot. The
 * runroot is checked first (hutch_util_ensure_private_dir()): NULL with
 * HUTCH_ERROR_UNSAFE_PATH when another user could have made or changed it. */
char *hutch_container_run_dir (const HutchContext *ctx, const char *id, GError **error);

/* A pidfd of @c's pid 1 (or with @monitor, of its monitor), checked to be
 * the process the monitor recorded (util/proc.c); HUTCH_ERROR_NOT_FOUND
 * once it has ended. */
int hutch_container_pidfd (const HutchContainer *c, gboolean monitor, GError **error);

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

/* hutch.json of the container directory @dir (its tombstone, say). */
HutchContainer *hutch_container_load_dir (const HutchContext *ctx, const char *id, const char *dir,
                                          GError **error);

/* Before a container runs: room on the store's disk for the record of
 * its end, so that the exit status is recorded even when the container
 * has filled the disk. An error that says how to free space when there is
 * none. */
gboolean hutch_container_record_reserve (const HutchContext *ctx, const HutchContainer *c,
                                         GError **error);
/* At its end: @c's record written into that room and renamed into place
 * (as hutch_container_save() without it). */
gboolean hutch_container_save_end (const HutchContext *ctx, const HutchContainer *c,
                                   GError **error);

/* When @error is the store's disk being full (ENOSPC), adds how much is
 * left and what frees space. */
void hutch_container_nospace_explain (const HutchContext *ctx, GError **error);

/* 64 lower-case hex digits. */
gboolean hutch_container_id_valid (const char *text);

/* The names a container is known by (names.c): names/<name> -> id. A
 * name whose container has gone is free: reserve takes it over. */
gboolean hutch_container_name_reserve (const HutchContext *ctx, const char *name, const char *id,
                                       GError **error);
void hutch_container_name_release (const HutchContext *ctx, const char *name, const char *id);
/* The id @name names, if that container exists; else NULL. */
char *hutch_container_name_lookup (const HutchContext *ctx, const char *name);
/* Unlinks the names of containers that have gone. */
void hutch_container_names_sweep (const HutchContext *ctx);
/* Before a monitor writes @c's record: c->name set to what the record
 * says now (a rename may have changed it), with names/.lock taken, which
 * a rename holds while it writes the record. Returns the lock's fd, to
 * close once the record is written (-1: not taken; the name read anyway). */
int hutch_container_name_sync (const HutchContext *ctx, HutchContainer *c);

/* Removal (remove.c). The directory of a container being made or removed
 * is held (a flock of containers/<id> itself), and containers/.lock is
 * held shared by a create until it holds its new directory: a directory
 * without hutch.json, or a tombstone (.trash-<id>), that no one holds was
 * left by a killed process. */
#define HUTCH_CONTAINER_TRASH_PREFIX ".trash-"
int hutch_container_making_lock (int containers_fd, gboolean exclusive, GError **error);
/* Holds containers/@name (waiting for it with @wait, else -1 when someone
 * holds it): the fd to close. */
int hutch_container_dir_hold (int containers_fd, const char *name, gboolean wait, GError **error);
/* Removes @c (the failure of a create, whose directory it holds). */
gboolean hutch_container_discard (const HutchContext *ctx, const HutchContainer *c, GError **error);
/* A --rm container whose monitor has gone is removed, unless another
 * process holds it; TRUE when it went. */
gboolean hutch_container_remove_abandoned (const HutchContext *ctx, const char *id);
/* Whether a monitor is running for @id (holds its live state). */
gboolean hutch_container_monitor_holds (const HutchContext *ctx, const char *id);
/* Removes container @id whose hutch.json cannot be read (nothing else can:
 * every command reads it first), unless a process holds it or its monitor
 * runs (HUTCH_ERROR_BUSY). Its name is left for the names' sweep. */
gboolean hutch_container_remove_unreadable (const HutchContext *ctx, const char *id,
                                            GError **error);
/* Finishes what killed commands left: tombstones, directories of creates
 * that never wrote a record, the live state and names of containers that
 * have gone. Called by whatever lists or creates containers. */
void hutch_container_sweep (const HutchContext *ctx);

/* The log (log-file.c): "TIME STREAM F|P TEXT" lines, as podman's
 * k8s-file, in <dir>/ctr.log, rotated to ctr.log.1 (the newest of the
 * old), ctr.log.2, ... up to ctr.log.<max-file - 1>. */
#define HUTCH_LOG_FILE "ctr.log"
/* ctr.log for @k 0, else ctr.log.<k>. */
char *hutch_log_file_name (int k);

typedef struct HutchLogWriter HutchLogWriter;
/* Opens the log of the container directory @dir for @config (resolved):
 * ctr.log appended to, made when missing; with --log-driver none no file
 * at all, and what is written goes nowhere (a tee still gets it). NULL
 * with @error when ctr.log cannot be opened. */
HutchLogWriter *hutch_log_writer_open (const char *dir, const HutchLogConfig *config,
                                       GError **error);
void hutch_log_writer_free (HutchLogWriter *w);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (HutchLogWriter, hutch_log_writer_free)
/* The container's stdout and stderr (read ends, taken; -1 for none). */
void hutch_log_writer_attach (HutchLogWriter *w, int out_fd, int err_fd);
/* In the foreground: what is read goes on to @out_fd and @err_fd too
 * (borrowed); a stream whose copy cannot be written is closed. */
void hutch_log_writer_tee (HutchLogWriter *w, int out_fd, int err_fd);
void hutch_log_writer_prepare (HutchLogWriter *w, GArray *fds, int *timeout_ms);
void hutch_log_writer_dispatch (HutchLogWriter *w, GArray *fds);
/* -t: the terminal's output, as stdout. */
void hutch_log_writer_tty (HutchLogWriter *w, const char *buf, gsize len);
/* What is left in the pipes once the container has gone. */
void hutch_log_writer_drain (HutchLogWriter *w);
/* The first failure to write the log (or to rotate it) since it was
 * opened, once: what failed and why; NULL when none, or when already
 * taken. The writer goes on after one, dropping what it cannot write. */
char *hutch_log_writer_take_failure (HutchLogWriter *w);

/* --userns=keep-id at create (userns.c): the command as the user's
 * uid:gid unless -u was @user_given (the image's User gives way, as with
 * podman), and <@dir>/passwd and
 * <@dir>/group (the image's, with the user's line added when they lack
 * its id) bound over /etc/passwd and /etc/group among @spec->mounts
 * (read-only with @read_only), unless a -v or --mount is there already.
 * The user's home there is the host's $HOME when a mount brings it in,
 * else the working directory, as podman chooses it. */
gboolean hutch_container_keep_id_prepare (const char *dir, HutchSandboxSpec *spec,
                                          gboolean user_given, gboolean read_only,
                                          GError **error);

/* --userns=keep-id: upper/ and rootfs/ of the container directory @dir
 * given to the container's root (a subordinate id under @map, where the
 * default map's root is the user who made them): the top of the overlay,
 * and a copy driver's root, are the container's "/", which is root's in
 * the image. */
gboolean hutch_container_keep_id_own_root (const HutchIdMap *map, const char *dir,
                                           GError **error);

/* validate.c: HUTCH_ERROR_USAGE naming the flag. A hostname by RFC 1123;
 * a user "uid[:gid]" or "name[:group]" whose numbers are ids the
 * container has in @map (never (uid_t) -1); an absolute working dir. */
gboolean hutch_container_hostname_validate (const char *name, GError **error);
gboolean hutch_container_user_validate (const char *flag, const char *user, const HutchIdMap *map,
                                        GError **error);
gboolean hutch_container_workdir_validate (const char *flag, const char *dir, GError **error);

/* --shm-size, --ulimit, --group-add and --device of @o into @spec (whose
 * mounts and idmap are set), each checked against this host and user
 * (run-flags.c). */
gboolean hutch_container_run_flags_apply (const HutchRunOptions *o, HutchSandboxSpec *spec,
                                          GError **error);

gboolean hutch_container_env_add (char ***env, const char *item, const char *where, GError **error);

/* The rootfs of a container as diff and commit see it (diff.c). */
typedef struct
{
  HutchSandboxSpec spec;    /* its config.json */
  HutchRootfsDriver driver; /* the copy driver when rootfs/ holds a copy, else overlay's upper */
  char **exclude;           /* relative paths left out: /etc/hostname, hosts, resolv.conf, mounts */
} HutchContainerRootfs;

gboolean hutch_container_rootfs_open (const HutchContext *ctx, const HutchContainer *c,
                                      HutchContainerRootfs *out, GError **error);
void hutch_container_rootfs_clear (HutchContainerRootfs *r);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (HutchContainerRootfs, hutch_container_rootfs_clear)
/* Whether @path (relative) is one of r->exclude or beneath one. */
gboolean hutch_container_path_excluded (const HutchContainerRootfs *r, const char *path);

/* A change: @kind 'A', 'C' or 'D', @path relative to the root. */
typedef gboolean (*HutchContainerChangeFunc) (gpointer data, char kind, const char *path,
                                              GError **error);
/* As root of the user namespace: calls @func for each change of @r
 * against its image, parents before what they hold. */
/* An entry of the merged tree: @name in the directory @dir_fd of the
 * layer that shows it, at @path. */
typedef gboolean (*HutchContainerEntryFunc) (gpointer data, int dir_fd, const char *name,
                                             const char *path, GError **error);
/* As root of the user namespace: calls @func for each entry of @r's whole
 * tree as the container sees it (image and changes merged), parents first,
 * without what r->exclude names (commit --squash). */
gboolean hutch_container_merged_walk (const HutchContainerRootfs *r, HutchContainerEntryFunc func,
                                      gpointer data, GError **error);
gboolean hutch_container_changes_walk (const HutchContainerRootfs *r, HutchContainerChangeFunc func,
                                       gpointer data, GError **error);
/* The namespaces of running container @c (HUTCH_SANDBOX_N_NS fds into
 * @ns, in hutch_sandbox_ns_names order), from its monitor over the ctl
 * socket, which must be held by a process of the same user (exec.c). */
gboolean hutch_container_namespaces_get (const HutchContext *ctx, const HutchContainer *c,
                                         int *ns, GError **error);

/* ---- -v, --mount and volumes (mount-parse.c, volume.c) ---- */

/* A -v or --mount as parsed: a bind (mount->source set), a volume
 * (mount->volume, or mount->anonymous for a new one; source set once
 * resolved) or a tmpfs. */
typedef struct
{
  HutchSandboxMount *mount;
  char **labels; /* --mount volume-label=: for a volume made on first use */
} HutchContainerMount;

void hutch_container_mount_free (HutchContainerMount *cm);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (HutchContainerMount, hutch_container_mount_free)

/* @o's -v and --mount, in that order (HutchContainerMount); NULL with
 * HUTCH_ERROR_USAGE naming the flag. Nothing is made. */
GPtrArray *hutch_container_mounts_parse (const HutchRunOptions *o, GError **error);
/* --tmpfs PATH[:OPTIONS] (create.c). */
HutchSandboxMount *hutch_container_tmpfs_parse (const char *v, GError **error);
/* Each volume of @mounts made when missing (named ones kept, anonymous
 * ones named and, in @made, listed) and bound from its _data. The first
 * takes the volumes lock shared into *@volumes_lock (-1 before), for the
 * caller to hold until the container's record is written. */
gboolean hutch_container_volumes_resolve (const HutchContext *ctx, GPtrArray *mounts,
                                          int *volumes_lock, GPtrArray *made, GError **error);
/* The anonymous volumes the config.json in @dir names. */
char **hutch_container_anonymous_volumes (const char *dir);
/* Removes @names, volumes of a container that is gone, unless another
 * container names one (warned, not thrown). */
void hutch_container_volumes_drop (const HutchContext *ctx, char **names);
/* ---- restarts (restart.c) ---- */

/* Records that the user asked container @id to stop (stop, kill, rm -f):
 * no policy restarts it until it is started again. The caller holds its
 * lock, under which the keeper looks before each restart. */
gboolean hutch_container_stop_mark (const HutchContext *ctx, const char *id, GError **error);
/* The mark read (load) and cleared (a start by the user). */
gboolean hutch_container_stop_marked (const HutchContext *ctx, const char *id);
void hutch_container_stop_unmark (const HutchContext *ctx, const char *id);
/* Whether a restart keeper of container @id is alive. */
gboolean hutch_container_keeper_alive (const HutchContext *ctx, const char *id);
/* Tells the keeper of @id (if any) to go, and waits until it has: after a
 * stop, nothing of the container is left running. */
void hutch_container_keeper_end (const HutchContext *ctx, const char *id);
/* The same in two steps, for rm: the keeper's file opened while the
 * container is there (-1 if none), then, its lock let go, the keeper told
 * to go through it (@fd taken). */
int hutch_container_keeper_open (const HutchContext *ctx, const char *id);
void hutch_container_keeper_end_fd (int fd);
/* From the monitor of @c, its container just started, before the monitor
 * confines itself: a process of its own, in a session of its own, that
 * outlives the monitor and starts the container again as @c's policy
 * says (see restart.c for why not the monitor itself). Single-threaded
 * callers only. */
void hutch_container_keeper_spawn (const HutchContext *ctx, const HutchContainer *c);
/* A start by the restart keeper (start.c): refused when the user asked
 * the container to stop, or it runs; counts the restart. */
gboolean hutch_container_start_restart (const HutchContext *ctx, const char *id,
                                        HutchSandboxResult *result, GError **error);

G_END_DECLS
