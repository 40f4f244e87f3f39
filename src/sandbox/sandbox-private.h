/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What the files of sandbox/ share for running a container. */
#pragma once

#include "sandbox.h"

G_BEGIN_DECLS

/* In the child, as root of its namespaces: the rootfs, then the rest. */
gboolean hutch_sandbox_mount_rootfs (const HutchSandboxSpec *spec, HutchRootfsDriver *out_used,
                                     GError **error);
gboolean hutch_sandbox_setup_mounts (const HutchSandboxSpec *spec, GError **error);

/* In the child after pivot_root: become the command, or its init. Never
 * returns; reports exec failures on @err_fd. */
void hutch_sandbox_init_run (const HutchSandboxSpec *spec, int err_fd) G_GNUC_NORETURN;

/* The default filter (seccomp.c), loaded just before exec. */
gboolean hutch_sandbox_seccomp_load (GError **error);

/* The message protocol from the child to the monitor on the error pipe:
 * one byte kind, then a NUL-terminated message. */
#define HUTCH_SANDBOX_MSG_SETUP 'S'   /* setup failed: message */
#define HUTCH_SANDBOX_MSG_EXEC 'X'    /* exec failed: errno byte, then message */
#define HUTCH_SANDBOX_MSG_DRIVER 'D'  /* the rootfs driver used: one byte */

void hutch_sandbox_send (int fd, char kind, const char *text);

G_END_DECLS
