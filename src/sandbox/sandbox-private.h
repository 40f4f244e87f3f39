/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What the files of sandbox/ share for running a container. */
#pragma once

#include <signal.h>

#include "sandbox.h"

G_BEGIN_DECLS

/* In the outer child, root of the user namespace: the rootfs, with why
 * the drivers before the one used failed in *@out_why and, for
 * fuse-overlayfs, its server's pid in *@out_fuse_pid (a child, killed
 * with us). Then, in pid 1: the rest, and pivot_root. */
gboolean hutch_sandbox_mount_rootfs (const HutchSandboxSpec *spec, HutchRootfsDriver *out_used,
                                     pid_t *out_fuse_pid, char **out_why, GError **error);
/* In the outer child, after the rootfs: spec->early_mounts (hutch shell's
 * tmpfs and overlays), the pid of each fuse-overlayfs server started for
 * them appended to @fuse_pids (children, killed with us). */
gboolean hutch_sandbox_mount_early (const HutchSandboxSpec *spec, GArray *fuse_pids,
                                    GError **error);
/* fuse-overlayfs's -o (fuse-paths.c): @opts names spec's directories; where
 * a path has ',', ':' or '\', as seen through a bind of @dir (the
 * directory that holds them all) over /tmp, which _enter() makes in the
 * forked server before its exec. */
typedef struct
{
  GString *opts;
  char *dir; /* the store, or NULL when the paths are plain */
} HutchFusePaths;
gboolean hutch_sandbox_fuse_paths_prepare (const HutchSandboxSpec *spec, HutchFusePaths *p,
                                           GError **error);
gboolean hutch_sandbox_fuse_paths_enter (const HutchFusePaths *p, const char *rootfs);
void hutch_sandbox_fuse_paths_clear (HutchFusePaths *p);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (HutchFusePaths, hutch_sandbox_fuse_paths_clear)
/* The copy driver (copy.c): the layers merged into spec->rootfs. */
gboolean hutch_sandbox_copy_rootfs (const HutchSandboxSpec *spec, GError **error);
/* What directory @src_fd holds, copied into @dst_fd with owners, modes,
 * xattrs and times (and @dst_fd given @src_fd's own): a volume filled from
 * the image. @what names the source in errors. */
gboolean hutch_sandbox_copy_tree_at (int src_fd, int dst_fd, const char *what, GError **error);
/* The uid and gid of @spec ("uid[:gid]", "name[:group]", NULL: root) in
 * the image whose root is @root_fd (init.c), as the command gets them. */
gboolean hutch_sandbox_user_ids_at (int root_fd, const char *spec, uid_t *out_uid, gid_t *out_gid,
                                    GError **error);
gboolean hutch_sandbox_setup_mounts (const HutchSandboxSpec *spec, GError **error);

/* In the child after pivot_root: become the command, or its init. Never
 * returns; reports exec failures on @err_fd. With -t, @tty_sock is where
 * the terminal's master goes (else -1). */
void hutch_sandbox_init_run (const HutchSandboxSpec *spec, int err_fd, int tty_sock) G_GNUC_NORETURN;

/* The default filter (seccomp.c), loaded just before exec. */
gboolean hutch_sandbox_seccomp_load (GError **error);
/* The monitor's, once the container runs: the container's rules, no
 * execve, and no_new_privs for the calling process. */
gboolean hutch_sandbox_seccomp_load_monitor (GError **error);

/* The user's namespace holder (holder.c): an fd of its namespace in
 * *@out_ns when a live one maps @map, and NULL; else a new holder being
 * mapped, for _finish, which records it and returns the fd (-1 with @error
 * when the mapping failed); else NULL and -1 (no runroot to record it in:
 * the caller makes a namespace of its own). */
typedef struct _HutchHolderNew HutchHolderNew;
HutchHolderNew *hutch_sandbox_holder_get (const HutchIdMap *map, const char *runroot, int *out_ns);
int hutch_sandbox_holder_finish (HutchHolderNew *h, GError **error);
void hutch_sandbox_holder_new_free (HutchHolderNew *h);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (HutchHolderNew, hutch_sandbox_holder_new_free)
/* The holder's map for @map, a map of this user's (every HutchIdMap is one,
 * from hutch_sandbox_idmap_new_for_user()): the same ids, keep-id or not.
 * Shares @map's arrays: valid while @map is. */
HutchIdMap hutch_sandbox_holder_map (const HutchIdMap *map);
/* The holder's namespace (in the default runroot), made if need be, for
 * work as root of @map when @map is the user's own map; -1 otherwise (the
 * caller maps a namespace of its own). */
int hutch_sandbox_holder_ns_for (const HutchIdMap *map);
/* @inner's lines (container ids to host ids) as seen from a namespace
 * mapped with @outer: the uid_map (gid_map with @gid) text a process in
 * that namespace writes for one nested in it; NULL when an id of @inner is
 * not in @outer. */
char *hutch_sandbox_idmap_nest_text (const HutchIdMap *inner, const HutchIdMap *outer, gboolean gid);

/* userns.c: why a new user namespace was refused with ENOSPC, the limit
 * being @max (user.max_user_namespaces as the host sees it). */
char *hutch_sandbox_userns_why_nospace (gint64 max, char **out_fix);

/* capabilities.c: the bounding set cut to @keep (while root of the
 * namespace: CAP_SETPCAP); capset(2) of the calling thread's sets. */
gboolean hutch_sandbox_caps_bound (guint64 keep, GError **error);
gboolean hutch_sandbox_caps_set (guint64 effective, guint64 permitted, guint64 inheritable,
                                 GError **error);

/* The message protocol from the child to the monitor on the error pipe:
 * one byte kind, then a NUL-terminated message. */
#define HUTCH_SANDBOX_MSG_SETUP 'S'   /* setup failed: message */
#define HUTCH_SANDBOX_MSG_EXEC 'X'    /* exec failed (126): message */
#define HUTCH_SANDBOX_MSG_NOT_FOUND 'Y' /* the command is not there (127): message */
#define HUTCH_SANDBOX_MSG_DRIVER 'D'  /* the rootfs driver used: one digit */
#define HUTCH_SANDBOX_MSG_PID 'P'     /* pid 1 as the monitor sees it: digits */
#define HUTCH_SANDBOX_MSG_NAMESPACES 'N' /* pid 1's namespaces, as fds */

void hutch_sandbox_send (int fd, char kind, const char *text);

/* What the monitor (or exec) hears on that socket (messages.c). */
typedef struct
{
  int fd;
  HutchSandboxResult *result;
  const HutchSandboxHooks *hooks;
  pid_t init;
  int ns[HUTCH_SANDBOX_N_NS];
  char *setup_error;
  int exec_status; /* 126 or 127 once an exec failure was said */
  gboolean ended;
} HutchSandboxMessages;

void hutch_sandbox_messages_init (HutchSandboxMessages *m, int fd, HutchSandboxResult *result,
                                  const HutchSandboxHooks *hooks);
/* One datagram, without waiting; FALSE when none is there (or at the end). */
gboolean hutch_sandbox_message_read (HutchSandboxMessages *m);
/* As a HutchSandboxPoll: at the end, hooks->started when all went well. */
void hutch_sandbox_messages_prepare (gpointer data, GArray *fds, int *timeout_ms);
void hutch_sandbox_messages_dispatch (gpointer data, GArray *fds);
/* Reads to the end (every writer gone) and closes what was kept. */
void hutch_sandbox_messages_finish (HutchSandboxMessages *m);

/* The signals passed on to a container, and SIGCHLD; blocking them (and
 * taking back those a shell made ignored) before a fork. */
void hutch_sandbox_forwarded_set (sigset_t *set);
void hutch_sandbox_block_forwarded (sigset_t *set, sigset_t *old);

/* docker's exit status for a wait status: the code, or 128+N for signal N. */
int hutch_sandbox_exit_code (int wait_status);

/* Waits for @pid (its wait status is returned), passing every signal of
 * @set but SIGCHLD on to it, which the caller has blocked; with @reap_all
 * every other child is reaped on the way (pid 1's orphans). */
int hutch_sandbox_forward_until_exit (pid_t pid, const sigset_t *set, gboolean reap_all);

/* -t (tty.c). In pid 1: opens a terminal pair of the container's devpts,
 * sends the master over @sock and returns the slave (-1 with @error). */
int hutch_sandbox_tty_open (int sock, GError **error);
/* In the command: @slave becomes its controlling terminal and stdio. */
gboolean hutch_sandbox_tty_attach (int slave);
/* In the monitor: the master pid 1 sent, or -1 when it failed first. */
int hutch_sandbox_tty_receive (int sock);

typedef struct HutchTtyState HutchTtyState;
/* The user's terminal, put in raw mode when @input goes to the container
 * and it is ours (foreground); freeing it restores the mode. */
HutchTtyState *hutch_sandbox_tty_state_new (gboolean input);
void hutch_sandbox_tty_state_free (HutchTtyState *t);
/* Gives @master the size of the user's terminal. */
void hutch_sandbox_tty_resize (HutchTtyState *t, int master);

/* The monitor's loop (monitor.c): forwards @set's signals to @pid, polls
 * @polls (NULL-terminated) and, with a terminal @master (else -1), relays
 * it: to @tty_output, or our stdout when that is NULL. Returns @pid's wait
 * status, or -1 with @error set when it could not watch @pid (signalfd or
 * poll failed): @pid is then killed and reaped. */
int hutch_sandbox_monitor (pid_t pid, const sigset_t *set, int master, gboolean input,
                           const HutchSandboxPoll *const *polls,
                           void (*tty_output) (gpointer, const char *, gsize), gpointer tty_data,
                           GError **error);

/* In exec's waiter (init.c): takes the command's credentials (its user,
 * capabilities, no_new_privs, seccomp filter) and forks it; returns its
 * pid. Failures go to @err_fd and end the caller (126). @tty: the slave,
 * or -1. */
pid_t hutch_sandbox_fork_command (const HutchSandboxSpec *spec, int err_fd, int tty);

/* userns.c's child protocol, for rootfs-job.c: a function's result (and
 * its GError) over a pipe, and a child that is root of a new user namespace
 * mapped with @map, calling @func; its pid, and *@out_result the read end
 * of its result, or -1. */
void hutch_sandbox_result_send (int fd, gboolean ok, const GError *error);
gboolean hutch_sandbox_result_receive (int fd, GError **error);
pid_t hutch_sandbox_userns_spawn (const HutchIdMap *map, HutchUsernsFunc func, gpointer user_data,
                                  int *out_result, GError **error);

G_END_DECLS
