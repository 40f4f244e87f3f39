/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* shell/: hutch shell, a sandbox over the host's own files. Its root is the
 * host's /, read-only; the user's home and working directory lie under
 * overlays whose upper dirs, kept in the store, hold every write until the
 * user reviews them (changes.c) and applies or discards them; secrets are
 * hidden (session.c holds the plan); the network is none, all, or an
 * allow-list enforced in the monitor (net/). A session has a name and
 * outlives the shell: running it again enters it with its changes, or joins
 * it while it runs (launch.c). */
#pragma once

#include <glib.h>

#include "net/net.h"
#include "sandbox/sandbox.h"
#include "util/util.h"

G_BEGIN_DECLS

typedef struct
{
  char *name;
  char *dir;       /* STORE/shells/NAME */
  gint64 created;  /* unix seconds */
  /* host files changed after this (ns since the epoch) conflict with the
   * session's changes to them */
  gint64 since_ns;
  char **paths;    /* host directories under an overlay: ov/N/upper is paths[N]'s */
} HutchShellSession;

void hutch_shell_session_free (HutchShellSession *s);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (HutchShellSession, hutch_shell_session_free)

/* [a-zA-Z0-9][a-zA-Z0-9_.-]*, as container names; HUTCH_ERROR_USAGE. */
gboolean hutch_shell_name_validate (const char *name, GError **error);

/* The session @name of the store @root; HUTCH_ERROR_NOT_FOUND. */
HutchShellSession *hutch_shell_session_load (const char *root, const char *name, GError **error);
/* The names of the store's sessions, sorted. */
GPtrArray *hutch_shell_session_names (const char *root, GError **error);
/* Whether a shell runs in it now; with @out_init its pid 1 and start time. */
gboolean hutch_shell_session_running (const HutchShellSession *s, pid_t *out_init,
                                      guint64 *out_start);
/* Removes the session (refused while it runs, HUTCH_ERROR_BUSY). */
gboolean hutch_shell_session_remove (const char *root, const char *name, GError **error);
/* Forgets every change of the session (refused while it runs). */
gboolean hutch_shell_session_discard (HutchShellSession *s, GError **error);

typedef struct
{
  char *name;          /* NULL: one is made up */
  char **argv;         /* NULL: the user's $SHELL */
  char **writable;     /* -w: host paths written straight through */
  char **readonly;     /* --ro */
  char **hide;         /* --hide */
  char **env;          /* --env NAME[=VALUE]: passed although it looks secret */
  char **allow_socket; /* --allow-socket: host unix sockets shown */
  char **allow_host;   /* --allow-host */
  char *network;       /* none (default), slirp, or NULL */
  char *overlay_driver; /* NULL or "overlay": the kernel's, else fuse-overlayfs; "fuse-overlayfs":
                         * that one alone */
} HutchShellOptions;

/* The secrets hidden by default: paths under the home directory. */
const char *const *hutch_shell_default_hidden (void);
/* Whether the environment variable @name looks like it holds a secret
 * (*_TOKEN, *_SECRET, *PASSWORD*, ...; the list is in hutch-shell(1)). */
gboolean hutch_shell_env_is_secret (const char *name);

/* Reads ${XDG_CONFIG_HOME:-~/.config}/hutch/shell.conf, when there is one,
 * into @hide, @show (defaults no longer hidden), @readonly, @writable and
 * @drop_env (of char *). HUTCH_ERROR_USAGE naming the line of a bad one. */
gboolean hutch_shell_config_read (const char *path, GPtrArray *hide, GPtrArray *show,
                                  GPtrArray *readonly, GPtrArray *writable, GPtrArray *drop_env,
                                  GError **error);
char *hutch_shell_config_path (void);

/* Runs a shell in the session (made when new, entered when stopped,
 * joined when running) in the foreground and returns its exit status in
 * @result. *@out_name is the session's name; *@out_joined whether the
 * session was running already. */
gboolean hutch_shell_run (HutchContext *ctx, const HutchShellOptions *o, HutchSandboxResult *result,
                          char **out_name, gboolean *out_joined, GError **error);

/* ---- what a session changed (changes.c) ---- */

typedef struct
{
  char kind;        /* 'A', 'C' or 'D' */
  char *path;       /* on the host, absolute */
  guint overlay;    /* which of the session's paths it is under */
  char *rel;        /* relative to that path */
  gboolean is_dir;
  gboolean opaque;  /* a directory that replaced the host's (what it held is gone) */
  gboolean conflict; /* the host's file changed since the session started */
} HutchShellChange;

void hutch_shell_change_free (HutchShellChange *c);

/* Every change, sorted by path (of HutchShellChange). */
GPtrArray *hutch_shell_changes (const HutchShellSession *s, GError **error);

/* Copies the changes under @only (host paths; NULL: all) onto the host,
 * each file replaced atomically, never following a link, deletions done,
 * modes kept; a file the host changed since the session started is
 * refused unless @force. Each change applied is taken out of the session.
 * "A path" lines for what was done and "error: path: why" for what was not
 * go to @report; FALSE (HUTCH_ERROR_FAILED) when anything was not done. */
gboolean hutch_shell_apply (HutchShellSession *s, char **only, gboolean force, GPtrArray *report,
                            GError **error);

G_END_DECLS
