/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What the libFuzzer targets share: libFuzzer's entry points, GLib
 * criticals made crashes, a scratch directory per process, a failed
 * property reported as a crash, and tar helpers (a writer for the archives
 * a target builds around its input, and a checksum fixer for mutated tars). */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <glib.h>

G_BEGIN_DECLS

/* libFuzzer calls these; no header of its own declares them. */
int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);
int LLVMFuzzerInitialize (int *argc, char ***argv);
size_t LLVMFuzzerMutate (uint8_t *data, size_t size, size_t max_size);
size_t LLVMFuzzerCustomMutator (uint8_t *data, size_t size, size_t max_size, unsigned int seed);

/* With HUTCH_FUZZ_VERBOSE set, the archive and layer targets print what
 * each input came to (for checking seeds). */

/* Once per process, from LLVMFuzzerInitialize: a GLib critical or warning
 * (a g_return_if_fail() that failed, say) aborts, so libFuzzer keeps the
 * input that caused it. */
void hutch_fuzz_setup (void);

/* A directory of this process's own, made on first use in $HUTCH_FUZZ_TMPDIR,
 * else /dev/shm (fsync costs nothing there, and the store fsyncs every
 * blob), else $TMPDIR; removed at exit. */
const char *hutch_fuzz_scratch (void);

/* Deletes @name under @dfd with all it holds, never following a symlink,
 * giving each directory back its owner's rwx first (a layer may have made
 * one read-only, or mode 0). FALSE with errno set on failure. */
gboolean hutch_fuzz_remove_tree_at (int dfd, const char *name);

/* Reports a broken property (not a parse error: a wrong answer) and
 * aborts, which libFuzzer records as a crash with its input. */
G_NORETURN void hutch_fuzz_fail (const char *format, ...) G_GNUC_PRINTF (1, 2);

/* The fuzz input as a C string, cut at its first NUL: what a caller that
 * gets text (argv, a header, a JSON string) can be given. */
char *hutch_fuzz_cstring (const uint8_t *data, size_t size);

/* Recomputes the header checksum of every tar header that a walk by the
 * headers' size fields reaches, so that a mutated header still reaches the
 * parser behind libarchive's checksum test. Leaves gzip and zstd input
 * alone. */
void hutch_fuzz_tar_fix_checksums (uint8_t *data, size_t size);

/* Appends a ustar member: @type '0' file, '1' hard link, '2' symlink, '5'
 * directory; @link the link target or NULL; @data and @len the file. */
void hutch_fuzz_tar_add (GByteArray *out, const char *name, char type, const char *link,
                         const void *data, gsize len);
/* The two zero blocks that end a tar. */
void hutch_fuzz_tar_end (GByteArray *out);

G_END_DECLS
