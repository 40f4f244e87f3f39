/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Between the files of shell/. */
#pragma once

#include "shell.h"

G_BEGIN_DECLS

char *hutch_shell_dir (const char *root, const char *name);
gint64 hutch_shell_now_ns (void);
gboolean hutch_shell_session_save (const HutchShellSession *s, GError **error);
/* The session's lock file, which a running shell holds (flock). */
int hutch_shell_lock_open (const HutchShellSession *s, GError **error);
/* Removes @name under the directory @dir_path, as root of the session's
 * user namespace where the user alone may not. */
gboolean hutch_shell_remove_at (const char *dir_path, const char *name, GError **error);

G_END_DECLS
