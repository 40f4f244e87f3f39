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

/* ---- processes named by pids from state files (proc.c) ---- */

/* The start time of @pid (clock ticks since boot, field 22 of
 * /proc/PID/stat); FALSE when it has gone. */
gboolean hutch_util_pid_start_time (pid_t pid, guint64 *out_start);

/* A pidfd of @pid, only if it is the process that started at @start:
 * HUTCH_ERROR_NOT_FOUND when it has ended (or its pid is another's now);
 * HUTCH_ERROR_UNSAFE_PATH for a pid <= 1, which is never acted on. @what
 * names the process in messages ("container web's pid 1"). */
int hutch_util_pidfd_open_checked (pid_t pid, guint64 start, const char *what, GError **error);

/* pidfd_send_signal(2); HUTCH_ERROR_NOT_FOUND when the process has ended. */
gboolean hutch_util_pidfd_signal (int pidfd, int sig, GError **error);

/* For a fork of hutch that a container can see (its pid 1, exec's waiter):
 * /proc/PID/cmdline becomes @title alone (no host path, no argument of
 * ours), the environment inherited from the caller is cleared and wiped
 * from memory, and the thread's name (comm) is @title too. Nothing may use
 * the original argv or environ afterwards. FALSE when /proc/self/stat
 * did not say where they are (nothing is changed then but the name). */
gboolean hutch_util_proc_title_set (const char *title);

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

/* ---- paths in mount option strings (escape.c) ---- */

/* @value with a backslash before each ',', ':' and '\\', as overlayfs
 * reads lowerdir=, upperdir= and workdir=. The caller frees it. */
char *hutch_util_option_escape (const char *value);
/* @items (NULL-terminated), each escaped so, joined with @sep. */
char *hutch_util_list_join (char **items, char sep);
/* The reverse: @text split at each @sep without a backslash before it,
 * the backslashes taken out; "" gives an empty list. */
char **hutch_util_list_split (const char *text, char sep);

/* Marks every fd from @first up close-on-exec (cloexec.c): close_range,
 * or on kernels before 5.11 the fds /proc/self/fd lists, or without /proc
 * each number below RLIMIT_NOFILE. Async-signal-safe, for the moment
 * before exec. FALSE with errno set when an fd could not be marked. */
gboolean hutch_util_cloexec_from (int first);

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

/* "4.3 MB", as g_format_size() but with a plain space before the unit
 * (GLib's is a no-break one, which scripts and grep trip on). */
char *hutch_util_format_size (guint64 bytes);

/* ---- directories of our own (dirs.c) ---- */

/* Creates @path as a directory of the calling user with @mode if missing, and
 * verifies that what is there is a real directory (not a symlink) owned by
 * the calling user and not writable by others. HUTCH_ERROR_UNSAFE_PATH when
 * someone else owns it. */
gboolean hutch_util_ensure_private_dir (const char *path, mode_t mode, GError **error);

/* The same check of an open directory @fd (@path names it in the message):
 * a directory, the calling user's, writable by no one else. */
gboolean hutch_util_check_private_fd (int fd, const char *path, GError **error);

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

/* ---- writing to our stdout without waiting for its reader (output.c) ---- */

typedef struct HutchOutput HutchOutput;

/* For writes to @fd (our stdout or stderr, still ours to close) that never
 * block: through a file description of our own where it is a pipe or a
 * terminal, so that O_NONBLOCK never reaches the shell's. */
HutchOutput *hutch_util_output_new (int fd);
void hutch_util_output_free (HutchOutput *o);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (HutchOutput, hutch_util_output_free)
/* Writes @len bytes of @buf, keeping what the reader cannot take now.
 * FALSE once a write failed (EPIPE: nobody reads any more); what was kept
 * is then dropped. */
gboolean hutch_util_output_write (HutchOutput *o, const void *buf, gsize len);
/* Writes what was kept, as much as can go now; FALSE as above. */
gboolean hutch_util_output_flush (HutchOutput *o);
/* How many bytes are kept: the caller stops reading its source above its
 * own bound, so that a reader that stops stops the writer too. */
gsize hutch_util_output_kept (const HutchOutput *o);
gboolean hutch_util_output_gone (const HutchOutput *o);
/* The fd to poll for POLLOUT, or -1 when nothing is kept. */
int hutch_util_output_poll_fd (const HutchOutput *o);

/* ---- the single-thread rule before fork and clone (threads.c) ---- */

/* Aborts, saying where, when the calling process has more than one thread:
 * call it before each fork, clone, vfork or posix_spawn. Debug builds only
 * (meson's b_ndebug=if-release leaves NDEBUG undefined but for release
 * builds); a no-op in a release build, as it reads /proc/self/status. */
#ifndef NDEBUG
void hutch_util_assert_single_thread_at (const char *where);
#define hutch_util_assert_single_thread() hutch_util_assert_single_thread_at (G_STRFUNC)
#else
#define hutch_util_assert_single_thread() ((void) 0)
#endif

/* ---- phase marks for the benchmarks (profile.c) ---- */

/* With HUTCH_PROFILE in the environment, writes "hutch-profile PID WALL
 * USER SYS PHASE" (seconds: CLOCK_MONOTONIC, this process's CPU) to
 * stderr; else does nothing. For tests/bench scripts, never for users. */
void hutch_util_profile_mark (const char *phase);

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
  gboolean stdin_closed; /* hutch was started with fd 0 closed (it is /dev/null now) */
} HutchContext;

HutchContext *hutch_context_new (const char *root, const char *runroot, HutchLogLevel level);
void hutch_context_free (HutchContext *ctx);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (HutchContext, hutch_context_free)

/* Parses "error", "warn", "info" or "debug". */
gboolean hutch_log_level_parse (const char *text, HutchLogLevel *out_level, GError **error);

/* ---- Go templates, as docker's --format takes them (template*.c) ---- */

typedef struct HutchTemplate HutchTemplate;

/* Parses @text (Go's text/template: fields, variables, pipelines, if,
 * range, with, and the functions of Go and docker; see template.c).
 * HUTCH_ERROR_USAGE naming the line, column and text where it fails. */
HutchTemplate *hutch_template_parse (const char *text, GError **error);
void hutch_template_free (HutchTemplate *t);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (HutchTemplate, hutch_template_free)
/* Runs @t with @data as dot, appending to @out. A field that is not there
 * is HUTCH_ERROR_USAGE listing those that are. */
gboolean hutch_template_execute (const HutchTemplate *t, const HutchJsonNode *data, GString *out,
                                 GError **error);

G_END_DECLS
