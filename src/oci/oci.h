/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* oci/: hutch as an OCI runtime (`hutch oci`, `hutch-runtime`): a bundle's
 * config.json read into what sandbox/ runs (config.c), the state directory
 * of each container under --root (state.c), create/start/kill/delete/exec
 * (runtime.c; the hooks are run through sandbox/), linux.resources
 * (resources.c), and the default spec and features
 * documents (spec.c). Nothing here prints: cli/oci.c does. */
#pragma once

#include <sys/types.h>
#include <glib.h>

#include "sandbox/sandbox.h"
#include "util/util.h"

G_BEGIN_DECLS

typedef enum
{
  HUTCH_OCI_HOOK_PRESTART,
  HUTCH_OCI_HOOK_CREATE_RUNTIME,
  HUTCH_OCI_HOOK_CREATE_CONTAINER,
  HUTCH_OCI_HOOK_START_CONTAINER,
  HUTCH_OCI_HOOK_POSTSTART,
  HUTCH_OCI_HOOK_POSTSTOP,
  HUTCH_OCI_HOOK_N_KINDS,
} HutchOciHookKind;

/* A bundle's config.json, read. */
typedef struct
{
  HutchSandboxBundle sandbox;
  GPtrArray *hooks[HUTCH_OCI_HOOK_N_KINDS]; /* HutchSandboxHook */
  HutchJsonNode *annotations;               /* the object, or NULL */
  char *bundle;                             /* absolute */
  GPtrArray *resources;                     /* linux.resources fields asking a limit */
  char *cgroups_path;                       /* linux.cgroupsPath, or NULL */
} HutchOciConfig;

void hutch_oci_config_free (HutchOciConfig *c);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (HutchOciConfig, hutch_oci_config_free)

/* Reads @path (a bundle's config.json; @bundle is the directory relative
 * paths are taken from). A field hutch does not support is
 * HUTCH_ERROR_USAGE naming it, a value of the wrong kind
 * HUTCH_ERROR_INVALID_IMAGE naming it; unknown fields are ignored, as the
 * runtime-spec asks. */
HutchOciConfig *hutch_oci_config_load (const char *path, const char *bundle, GError **error);

/* A "process" object (config.json's, or exec's --process file) into @out,
 * cleared first. @where prefixes field names in errors. */
gboolean hutch_oci_process_parse (const HutchJsonNode *node, const char *where,
                                  HutchBundleProcess *out, GError **error);

/* ---- the runtime ---- */

/* Global options, as runc has them. */
typedef struct
{
  char *root;     /* the state directory; NULL: the default */
  gboolean debug;
  gboolean systemd_cgroup;
  gboolean rootless;
} HutchOciContext;

/* --root's default: $XDG_RUNTIME_DIR/hutch-runtime for a user, else
 * /run/hutch-runtime as root, else /tmp/hutch-runtime-UID. */
char *hutch_oci_default_root (void);

typedef struct
{
  char *bundle;
  char *pid_file;
  char *console_socket;
  gboolean no_pivot;
  gboolean no_new_keyring;
  int preserve_fds;
  /* `run`: with process.terminal and no console_socket, the terminal's
   * master comes here, for hutch_oci_relay; NULL: no such terminal */
  int *out_master;
} HutchOciCreateOptions;

typedef enum
{
  HUTCH_OCI_CREATING,
  HUTCH_OCI_CREATED,
  HUTCH_OCI_RUNNING,
  HUTCH_OCI_STOPPED,
} HutchOciStatus;

const char *hutch_oci_status_name (HutchOciStatus s);

/* What the state directory of a container holds, and its status now. */
typedef struct
{
  char *id;
  char *dir;       /* its state directory */
  char *bundle;
  char *rootfs;
  char *created;   /* RFC 3339 */
  char *owner;
  pid_t pid;
  guint64 start_time;
  HutchOciStatus status;
  HutchJsonNode *annotations;
} HutchOciState;

void hutch_oci_state_free (HutchOciState *s);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (HutchOciState, hutch_oci_state_free)

/* HUTCH_ERROR_USAGE for an id that is empty, has '/' or is "." or "..". */
gboolean hutch_oci_id_validate (const char *id, GError **error);

/* The state of container @id: HUTCH_ERROR_NOT_FOUND when there is none. */
HutchOciState *hutch_oci_state_load (const HutchOciContext *ctx, const char *id, GError **error);
/* The runtime-spec state document of @s. */
char *hutch_oci_state_json (const HutchOciState *s, gboolean pretty);
/* Every container's state, sorted by id. */
GPtrArray *hutch_oci_state_list (const HutchOciContext *ctx, GError **error);

/* `create`: the container made and left waiting for `start`. */
gboolean hutch_oci_create (const HutchOciContext *ctx, const char *id,
                           const HutchOciCreateOptions *opts, GError **error);
/* `start`: a created container's process let go to its exec. */
gboolean hutch_oci_start (const HutchOciContext *ctx, const char *id, GError **error);
/* `kill`: @sig to its process (with @all, every process of it). */
gboolean hutch_oci_kill (const HutchOciContext *ctx, const char *id, int sig, gboolean all,
                         GError **error);
/* `delete`: the state removed, the poststop hooks run; a running one only
 * with @force (killed first). */
gboolean hutch_oci_delete (const HutchOciContext *ctx, const char *id, gboolean force,
                           GError **error);
/* The pids of the container's processes (its pid namespace's, or pid 1). */
GArray *hutch_oci_pids (const HutchOciContext *ctx, const char *id, GError **error);

/* `run`, before create: we become the subreaper of the container's
 * process and block the signals hutch_oci_wait and hutch_oci_relay pass
 * on to it (SIGCHLD too), so that none is lost before they wait. */
void hutch_oci_run_begin (void);
/* Waits for @s's process to end (it must be our child: see
 * hutch_oci_run_begin), passing our signals on; its exit status. */
int hutch_oci_wait (const HutchOciState *s);
/* The same, relaying the terminal @master (HutchOciCreateOptions.out_master)
 * to and from our stdio meanwhile, as runc run does; -1 with @error when
 * the process could not be watched (it is killed then). */
int hutch_oci_relay (const HutchOciState *s, int master, GError **error);

typedef struct
{
  char *process_file; /* --process, or NULL */
  char **args;        /* else these, over config.json's process */
  char *cwd;
  char **env;
  char *user;         /* "uid[:gid]" */
  char **caps;        /* --cap: added to every set */
  gboolean tty;
  gboolean detach;
  gboolean no_new_privs;
  char *pid_file;
  char *console_socket;
  int preserve_fds;
} HutchOciExecOptions;

/* `exec`: a process in the running container @id; its exit status in
 * *@out_status (not with detach). */
gboolean hutch_oci_exec (const HutchOciContext *ctx, const char *id,
                         const HutchOciExecOptions *opts, int *out_status, GError **error);

/* `update --resources FILE` ("-": stdin): the new linux.resources of a
 * container that is not stopped. Asking for no limit changes nothing;
 * a limit is HUTCH_ERROR_HOST_UNSUPPORTED naming it (no cgroup is made
 * for a container yet, see hutch_oci_resources_check). */
gboolean hutch_oci_update (const HutchOciContext *ctx, const char *id, const char *resources_path,
                           GError **error);

/* `spec`: a default config.json (rootless: a user namespace mapping the
 * caller to root, no network namespace's sysfs needed). */
char *hutch_oci_spec_default (gboolean rootless);
/* `features`: the runtime-spec features document. */
char *hutch_oci_features (void);

/* A signal by name ("TERM", "SIGTERM") or number; -1 when unknown. */
int hutch_oci_signal_parse (const char *text);

G_END_DECLS
