/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What the files of oci/ share: config.json field readers that name the
 * field in their errors, and the parts of config.json read elsewhere. */
#pragma once

#include "oci.h"

G_BEGIN_DECLS

/* FALSE with HUTCH_ERROR_INVALID_IMAGE "config.json: FIELD: expected ..."
 * unless @n is of @type. */
gboolean hutch_oci_json_want (const HutchJsonNode *n, HutchJsonType type, const char *field,
                              GError **error);
/* Member @key of @obj (its path @where, "" at the top): absent or null
 * leaves *@out NULL (FALSE), otherwise it must be of the kind. */
gboolean hutch_oci_json_string (const HutchJsonNode *obj, const char *key, const char *where,
                                char **out, GError **error);
gboolean hutch_oci_json_strv (const HutchJsonNode *obj, const char *key, const char *where,
                              char ***out, GError **error);
gboolean hutch_oci_json_bool (const HutchJsonNode *obj, const char *key, const char *where,
                              gboolean *out, GError **error);
gboolean hutch_oci_json_int (const HutchJsonNode *obj, const char *key, const char *where,
                             gint64 min, gint64 max, gint64 *out, gboolean *present,
                             GError **error);
/* HUTCH_ERROR_USAGE "... is not supported by hutch" when @key is there and
 * not empty. */
gboolean hutch_oci_json_unsupported (const HutchJsonNode *obj, const char *key, const char *where,
                                     GError **error);

/* linux.seccomp (config-seccomp.c); NULL @node: none. */
gboolean hutch_oci_seccomp_parse (const HutchJsonNode *node, HutchSeccompProfile **out,
                                  GError **error);
/* linux.resources (or update's --resources document; @where names it in
 * errors): the fields that ask for a limit ("linux.resources.memory.limit"),
 * an empty array when none; device rules are not limits (resources.c). */
GPtrArray *hutch_oci_resources_parse (const HutchJsonNode *node, const char *where,
                                      GError **error);
/* Whether the limits @asked (from hutch_oci_resources_parse) can be
 * applied here: none asked is TRUE, with a warning when @cgroups_path is
 * given and this host has no cgroup for us; else HUTCH_ERROR_HOST_UNSUPPORTED
 * naming the fields, why and the host's fix. */
gboolean hutch_oci_resources_check (GPtrArray *asked, const char *cgroups_path, GError **error);
/* hooks.* into @out (HUTCH_OCI_HOOK_N_KINDS arrays, NULL when none). */
gboolean hutch_oci_hooks_parse (const HutchJsonNode *doc, GPtrArray **out, GError **error);

/* The state directory's files (state.c). */
#define HUTCH_OCI_STATE_FILE "state.json"
#define HUTCH_OCI_FIFO "exec.fifo"
#define HUTCH_OCI_CONFIG_COPY "config.json"

/* The state directory for @id (made when @create; HUTCH_ERROR_BUSY
 * "container ID already exists" when it is there then). */
char *hutch_oci_state_dir (const HutchOciContext *ctx, const char *id, gboolean create,
                           GError **error);
/* Writes @s to its directory's state.json, atomically. */
gboolean hutch_oci_state_save (const HutchOciState *s, GError **error);
/* Removes the directory of @s (renamed away first, so a second delete
 * finds nothing). */
gboolean hutch_oci_state_remove (const char *dir, GError **error);

/* Whether @pid is still the process that started at @start, and not a
 * zombie waiting for its reaper (state.c). */
gboolean hutch_oci_process_alive (pid_t pid, guint64 start);

/* The state's owner: the name of the user who created it. */
char *hutch_oci_owner (void);

/* The config.json of a created container (the copy in its state
 * directory, so that a changed bundle changes nothing). */
HutchOciConfig *hutch_oci_state_config (const HutchOciState *s, GError **error);

/* A connection to the caller's --console-socket @path, or -1 with @error. */
int hutch_oci_console_connect (const char *path, GError **error);

G_END_DECLS
