/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* util/: the error domain, fd helpers, resolution beneath a root fd, small
 * file helpers and the per-invocation context every module receives. The only
 * header other modules include from here. */
#pragma once

#include <fcntl.h>
#include <sys/types.h>
#include <glib.h>

#include "error.h"
#include "fd.h"

G_BEGIN_DECLS

/* ---- resolution beneath a root (beneath.c) ---- */

typedef enum
{
  /* Our own paths: ".." above the root or an absolute symlink is an error
   * (HUTCH_ERROR_UNSAFE_PATH, errno EXDEV). */
  HUTCH_RESOLVE_BENEATH,
  /* Paths read from an image: "/" and ".." stop at the root, as they would
   * for a process chrooted there. */
  HUTCH_RESOLVE_IN_ROOT,
} HutchResolveMode;

/* Opens @path relative to @root_fd without leaving it (RESOLVE_BENEATH), with
 * open(2) @flags and @mode; O_CLOEXEC is always added, magic links in /proc
 * are never followed. Uses openat2 and falls back to a component-by-component
 * walk with the same guarantees, never to a plain openat(). Returns a new fd
 * owned by the caller, or -1 with @error set (G_FILE_ERROR from errno, or
 * HUTCH_ERROR_UNSAFE_PATH for an escape or a symlink loop) and errno kept. */
int hutch_util_open_beneath (int root_fd, const char *path, int flags, mode_t mode,
                             GError **error);

/* As hutch_util_open_beneath(), but resolves as if @root_fd were "/"
 * (RESOLVE_IN_ROOT): for every path that comes from an image or archive. */
int hutch_util_open_in_root (int root_fd, const char *path, int flags, mode_t mode,
                             GError **error);

/* Whether this kernel (and seccomp filter) lets us use openat2. */
gboolean hutch_util_have_openat2 (void);

/* ---- small file helpers (file.c) ---- */

/* Writes all of @buf to @fd, retrying short writes and EINTR. */
gboolean hutch_util_write_all (int fd, const void *buf, size_t len, GError **error);

/* Reads @fd to its end into a NUL-terminated buffer the caller frees; fails
 * with HUTCH_ERROR_FAILED when it holds more than @max bytes. */
char *hutch_util_read_all (int fd, gsize max, gsize *out_len, GError **error);

/* Reads a small file of the host (a /proc or /etc file we trust), at most @max
 * bytes. Returns NULL with @error set on failure. */
char *hutch_util_read_host_file (const char *path, gsize max, GError **error);

/* Reads exactly @len bytes; FALSE at an early end or an error. */
gboolean hutch_util_read_exact (int fd, void *buf, size_t len);

/* ---- fds over a unix socket (fdpass.c) ---- */

#define HUTCH_UTIL_FDS_MAX 64

/* Sends a one-byte @tag with @n (at most HUTCH_UTIL_FDS_MAX) fds. */
gboolean hutch_util_send_fds (int sock, char tag, const int *fds, guint n);
/* Receives one such message: its tag into *@tag and up to @max fds (close
 * on exec) into @fds. Returns how many fds came, or -1 at the socket's end
 * or an error. */
int hutch_util_recv_fds (int sock, char *tag, int *fds, guint max);

/* The names in directory @dfd, "." and ".." left out. */
GPtrArray *hutch_util_list_dir_at (int dfd, GError **error);

/* Replaces @path with @len bytes of @data (mode @mode) through a temporary
 * file renamed over it, so a reader sees the old contents or the new,
 * never a part. With @sync the data is on disk before the rename, so a
 * crash leaves one or the other too. */
gboolean hutch_util_replace_file (const char *path, const char *data, gsize len, mode_t mode,
                                  gboolean sync, GError **error);

/* Deletes @name under @dfd, never following a symlink: a directory with all
 * it holds. FALSE with errno set when something could not go. */
gboolean hutch_util_remove_tree_at (int dfd, const char *name);

/* ---- directories of our own (dirs.c) ---- */

/* Creates @path as a directory of the calling user with @mode if missing, and
 * verifies that what is there is a real directory (not a symlink) owned by
 * the calling user and not writable by others. HUTCH_ERROR_UNSAFE_PATH when
 * someone else owns it. */
gboolean hutch_util_ensure_private_dir (const char *path, mode_t mode, GError **error);

/* The default store root: ${XDG_DATA_HOME:-~/.local/share}/hutch. */
char *hutch_util_default_root (void);

/* The default run root: $XDG_RUNTIME_DIR/hutch when that directory is ours,
 * else /tmp/hutch-run-<uid>. @out_why (optional) explains a fallback. */
char *hutch_util_default_runroot (char **out_why);

/* ---- writing JSON (json-writer.c) ---- */

/* A streaming JSON writer: begin/end containers, a key before each member of
 * an object, values in order; NULL strings are written as null. */
typedef struct HutchJsonWriter HutchJsonWriter;

HutchJsonWriter *hutch_json_writer_new (gboolean pretty);
void hutch_json_writer_free (HutchJsonWriter *w);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (HutchJsonWriter, hutch_json_writer_free)
void hutch_json_begin_object (HutchJsonWriter *w);
void hutch_json_end_object (HutchJsonWriter *w);
void hutch_json_begin_array (HutchJsonWriter *w);
void hutch_json_end_array (HutchJsonWriter *w);
void hutch_json_key (HutchJsonWriter *w, const char *key);
void hutch_json_string (HutchJsonWriter *w, const char *value);
void hutch_json_int (HutchJsonWriter *w, gint64 value);
void hutch_json_double (HutchJsonWriter *w, double value);
void hutch_json_bool (HutchJsonWriter *w, gboolean value);
/* A number already in JSON syntax (as hutch_json_parse() validated it). */
void hutch_json_number_text (HutchJsonWriter *w, const char *text);
/* A key and its value, in one call. */
void hutch_json_member_string (HutchJsonWriter *w, const char *key, const char *value);
void hutch_json_member_int (HutchJsonWriter *w, const char *key, gint64 value);
void hutch_json_member_bool (HutchJsonWriter *w, const char *key, gboolean value);
void hutch_json_member_strv (HutchJsonWriter *w, const char *key, char **values);
/* The text written so far, which must be complete; the caller frees it. */
char *hutch_json_writer_finish (HutchJsonWriter *w);

typedef struct HutchJsonNode HutchJsonNode;
/* Writes a parsed value back out (json.c). */
void hutch_json_write_node (HutchJsonWriter *w, const HutchJsonNode *node);

/* ---- reading JSON strictly (json.c) ---- */

#define HUTCH_JSON_MAX_SIZE (4 << 20) /* manifests, configs, indexes */
#define HUTCH_JSON_MAX_DEPTH 64

typedef enum
{
  HUTCH_JSON_NULL,
  HUTCH_JSON_BOOL,
  HUTCH_JSON_NUMBER,
  HUTCH_JSON_STRING,
  HUTCH_JSON_ARRAY,
  HUTCH_JSON_OBJECT,
} HutchJsonType;

struct HutchJsonNode
{
  HutchJsonType type;
  gboolean boolean;
  double number;
  gint64 integer;  /* when is_int */
  gboolean is_int; /* written without fraction or exponent, and fits gint64 */
  char *string;    /* NUL-terminated valid UTF-8 without NUL inside; for a
                    * number, its text as written */
  gsize string_len;
  guint n_members;         /* array items or object members */
  char **keys;             /* object keys, in document order */
  HutchJsonNode **members; /* array items or object values */
};

/* Parses @len bytes of @text as one JSON value: RFC 8259 grammar only,
 * duplicate keys, NUL, invalid UTF-8, lone surrogates, nesting beyond
 * HUTCH_JSON_MAX_DEPTH and documents over HUTCH_JSON_MAX_SIZE refused with
 * HUTCH_ERROR_INVALID_IMAGE naming the line and column. */
HutchJsonNode *hutch_json_parse (const char *text, gsize len, GError **error);
void hutch_json_node_free (HutchJsonNode *node);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (HutchJsonNode, hutch_json_node_free)

/* The value of @key in object @obj, or NULL (also when @obj is no object). */
const HutchJsonNode *hutch_json_node_member (const HutchJsonNode *obj, const char *key);

/* ---- SHA-256 digests (sha256.c) ---- */

#define HUTCH_DIGEST_BUFSIZE 72 /* "sha256:" + 64 hex + NUL */

typedef struct HutchSha256 HutchSha256;
HutchSha256 *hutch_sha256_new (void);
void hutch_sha256_free (HutchSha256 *h);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (HutchSha256, hutch_sha256_free)
void hutch_sha256_update (HutchSha256 *h, const void *data, gsize len);
guint64 hutch_sha256_bytes (const HutchSha256 *h);
/* Writes "sha256:<hex>" to @out_digest; @h must not be updated again. */
void hutch_sha256_finish (HutchSha256 *h, char out_digest[HUTCH_DIGEST_BUFSIZE]);
void hutch_sha256_digest_of (const void *data, gsize len, char out_digest[HUTCH_DIGEST_BUFSIZE]);

/* Whether @digest is "sha256:" and 64 lowercase hex digits, nothing more;
 * HUTCH_ERROR_INVALID_IMAGE naming it otherwise. */
gboolean hutch_digest_validate (const char *digest, GError **error);

/* ---- the context passed down from cli/ (context.c) ---- */

typedef enum
{
  HUTCH_LOG_ERROR,
  HUTCH_LOG_WARN,
  HUTCH_LOG_INFO,
  HUTCH_LOG_DEBUG,
} HutchLogLevel;

typedef struct
{
  char *root;         /* the store */
  char *runroot;      /* live state */
  char *runroot_why;  /* why the runroot is not under XDG_RUNTIME_DIR, or NULL */
  HutchLogLevel log_level;
} HutchContext;

HutchContext *hutch_context_new (const char *root, const char *runroot, HutchLogLevel level);
void hutch_context_free (HutchContext *ctx);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (HutchContext, hutch_context_free)

/* Parses "error", "warn", "info" or "debug". */
gboolean hutch_log_level_parse (const char *text, HutchLogLevel *out_level, GError **error);

G_END_DECLS
