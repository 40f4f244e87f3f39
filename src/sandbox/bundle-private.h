/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What the bundle*.c files of sandbox/ share (`hutch oci`): the file
 * system (bundle-mounts.c) and the process's credentials and exec
 * (bundle-process.c), used by create and exec (bundle.c). */
#pragma once

#include "sandbox-private.h"

G_BEGIN_DECLS

/* Messages from the runtime's children (hutch_sandbox_send() kinds). */
#define HUTCH_BUNDLE_MSG_PID 'P'   /* the process's pid, as the runtime sees it */
#define HUTCH_BUNDLE_MSG_READY 'R' /* set up; waiting on the exec fifo */
#define HUTCH_BUNDLE_MSG_ERROR 'E' /* failed: message */
#define HUTCH_BUNDLE_MSG_HOOKS 'H' /* mounts made: run the runtime's hooks, then say 'G' */
#define HUTCH_BUNDLE_MSG_GO 'G'    /* (runtime to process) the runtime's hooks ran */

/* In the container's process, root of its user and mount namespaces: the
 * rootfs bound on itself, the mounts in order, the devices (mount_all);
 * then pivot_root (or chroot with no_pivot), masked and read-only paths, a
 * read-only root (pivot). Between the two run the createContainer hooks. */
gboolean hutch_sandbox_bundle_mount_all (const HutchSandboxBundle *b, GError **error);
gboolean hutch_sandbox_bundle_pivot (const HutchSandboxBundle *b, GError **error);

/* The path @p's args[0] names inside the root we are in (PATH of its env
 * searched), or NULL with @error (G_FILE_ERROR_NOENT when not there). */
char *hutch_sandbox_bundle_find_command (const HutchBundleProcess *p, GError **error);

/* A terminal from the devpts at /dev/pts: its master sent over
 * @console_fd with its name, as runc's --console-socket protocol has it;
 * returns the slave, or -1 with @error. */
int hutch_sandbox_bundle_tty_open (int console_fd, GError **error);

/* Becomes @p and execs it: signals reset, terminal @tty (or -1) attached,
 * oom_score_adj, rlimits, umask, cwd, groups and ids, capabilities,
 * no_new_privs, seccomp, fds above 2 + @preserve_fds closed. Never returns:
 * a failure is said on @err_fd (HUTCH_BUNDLE_MSG_ERROR), or on stderr when
 * it is -1, and the process exits 127 (not found) or 126. */
void hutch_sandbox_bundle_process_exec (const HutchBundleProcess *p, int preserve_fds, int tty,
                                        int err_fd) G_GNUC_NORETURN;

/* The OCI seccomp profile, loaded into the calling process (bundle-seccomp.c). */
gboolean hutch_sandbox_bundle_seccomp_load (const HutchSeccompProfile *p, GError **error);

G_END_DECLS
