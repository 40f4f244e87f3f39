/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* build/: the Containerfile language as docker documents it, as data: the
 * parser (a pure function of text to instructions, fuzzed), variable
 * expansion with docker's rules, and the .dockerignore and glob matchers.
 * Nothing here touches the file system or the store: the executor
 * (build.h) does. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* A Containerfile larger than this is refused (docker's parser has no
 * limit; 1 MiB is far past any real one and bounds the fuzzer). */
#define HUTCH_BUILD_FILE_MAX_SIZE (1024 * 1024)

typedef enum
{
  HUTCH_BUILD_FROM,
  HUTCH_BUILD_RUN,
  HUTCH_BUILD_COPY,
  HUTCH_BUILD_ADD,
  HUTCH_BUILD_ENV,
  HUTCH_BUILD_ARG,
  HUTCH_BUILD_WORKDIR,
  HUTCH_BUILD_USER,
  HUTCH_BUILD_ENTRYPOINT,
  HUTCH_BUILD_CMD,
  HUTCH_BUILD_LABEL,
  HUTCH_BUILD_EXPOSE,
  HUTCH_BUILD_VOLUME,
  HUTCH_BUILD_STOPSIGNAL,
  HUTCH_BUILD_SHELL,
  HUTCH_BUILD_HEALTHCHECK,
  HUTCH_BUILD_ONBUILD,
  HUTCH_BUILD_MAINTAINER,
} HutchBuildKind;

/* "RUN", "COPY", … as docker prints them. */
const char *hutch_build_kind_name (HutchBuildKind kind);

/* --name=value before the arguments (COPY --from=, --chown=, --chmod=,
 * FROM --platform=, RUN --network=, HEALTHCHECK --interval=, …): the
 * value as written, not expanded. A flag without "=" has value NULL. */
typedef struct
{
  char *name; /* without the dashes, lowercase */
  char *value;
} HutchBuildFlag;

/* A here-document (<<EOF, <<-EOF, <<"EOF") of RUN, COPY or ADD. */
typedef struct
{
  char *delimiter;   /* EOF, without quotes */
  char *body;        /* the lines between, each ending in \n; with <<- the
                      * leading tabs removed */
  gboolean expand;   /* the delimiter was not quoted: variables in the body
                      * are expanded (by the shell for RUN, by the
                      * executor for COPY) */
} HutchBuildHeredoc;

typedef struct HutchBuildInstruction HutchBuildInstruction;
struct HutchBuildInstruction
{
  HutchBuildKind kind;
  guint line;         /* its first line in the file, from 1 */
  char *original;     /* as written: the keyword as spelled, the lines of a
                       * continuation joined with their escapes removed,
                       * comments inside it left out, no heredoc bodies */
  GPtrArray *flags;   /* HutchBuildFlag, in order */
  char *args;         /* the text after the keyword and the flags, trimmed,
                       * not expanded, quotes and escapes as written */
  gboolean json;      /* args is a JSON array of strings (the exec form of
                       * RUN, CMD, ENTRYPOINT, SHELL, COPY, ADD, VOLUME,
                       * HEALTHCHECK CMD, whose args still start with
                       * "CMD"): its items are in argv */
  char **argv;        /* the JSON items when json, else NULL */
  GPtrArray *heredocs; /* HutchBuildHeredoc, in the order of their <<
                        * markers in args (the markers stay in args, as
                        * written: "cat <<'EOF' > f") */
  HutchBuildInstruction *inner; /* ONBUILD's instruction, else NULL: a whole
                                 * instruction of its own (flags, json,
                                 * heredocs), on ONBUILD's line; ONBUILD's
                                 * args are its text */
};

typedef struct
{
  guint line;          /* its FROM's line */
  char *base;          /* FROM's image as written (not expanded): a
                        * reference, "scratch", or an earlier stage's name */
  char *name;          /* AS name, lowercase as docker keeps it, or NULL */
  char *platform;      /* --platform as written, or NULL */
  HutchBuildInstruction *from; /* the FROM itself */
  GPtrArray *instructions; /* HutchBuildInstruction after FROM, in order */
} HutchBuildStage;

typedef struct
{
  char escape;          /* '\\', or '`' by "# escape=`" */
  char *syntax;         /* "# syntax=" as written, or NULL (recorded, not used) */
  GPtrArray *global_args; /* HutchBuildInstruction, the ARGs before the first FROM */
  GPtrArray *stages;    /* HutchBuildStage, at least one */
} HutchBuildFile;

/* Parses @text (@len bytes, not NUL-terminated necessarily) as docker's
 * parser does: parser directives at the top, comments, empty lines, line
 * continuation by the escape character (a comment line inside a
 * continuation is skipped), keywords in any case, flags, the JSON form,
 * here-documents. @filename names the file in messages. Errors are
 * HUTCH_ERROR_USAGE, worded "FILE:LINE: what is wrong: the text", for: no
 * FROM, an instruction before FROM other than ARG, an unknown
 * instruction, an instruction without its arguments where it needs them,
 * an unterminated here-document, ONBUILD of FROM, ONBUILD or MAINTAINER,
 * a stage name used twice or not a name ([a-z][a-z0-9_.-]*), text that is
 * not UTF-8 or holds a NUL, a file over HUTCH_BUILD_FILE_MAX_SIZE; and as
 * docker: a flag on an instruction that takes none ("ENV --x=1"), a JSON
 * array holding anything but strings (an array that does not parse is the
 * shell form), SHELL not in JSON form, HEALTHCHECK but CMD or NONE, a
 * repeated or invalid parser directive. */
HutchBuildFile *hutch_build_file_parse (const char *text, gsize len, const char *filename,
                                        GError **error);
void hutch_build_file_free (HutchBuildFile *file);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (HutchBuildFile, hutch_build_file_free)

/* ---- variable expansion (expand.c) ---- */

/* The value of variable @name, or NULL when it is not set. */
typedef const char *(*HutchBuildLookup) (const char *name, gpointer data);

/* Expands @text as docker's shell-word processing does for ENV, ADD,
 * COPY, WORKDIR, USER, LABEL, EXPOSE, VOLUME, STOPSIGNAL, FROM and ARG:
 * $V and ${V}, ${V:-word}, ${V-word}, ${V:+word}, ${V+word}, ${V:?word},
 * ${V?word} (word itself expanded; not the pattern forms ${V#p}, ${V%p},
 * ${V/p/r}: an "unsupported modifier" error), single quotes (literal),
 * double quotes (expanded; there the escape character escapes only '"',
 * '$' and itself, and stays before anything else), the escape character
 * before any character; an unset variable is "". The quotes are removed.
 * HUTCH_ERROR_USAGE for a missing "}", an unterminated quote, ${V?} of an
 * unset V, or nesting deeper than 64, naming the text. */
char *hutch_build_expand_word (const char *text, char escape, HutchBuildLookup lookup,
                               gpointer data, GError **error);
/* The same, split into words at unquoted whitespace (as COPY's and
 * EXPOSE's arguments are), as moby's ProcessWords does: the value of an
 * unquoted variable is split too ("$V" with V="a b" is two words, "\"$V\""
 * one), and empty words are dropped ('' alone makes no word). A
 * NULL-terminated array. */
char **hutch_build_expand_words (const char *text, char escape, HutchBuildLookup lookup,
                                 gpointer data, GError **error);

/* ENV, LABEL and ARG's pairs from @args: "k=v k2=\"v 2\"" (each word cut
 * at its first "=" as written, then the name and the value expanded
 * apart, as docker does: a "=" in a variable's value makes no new pair),
 * or, with @legacy_ok (ENV and
 * LABEL), the old "KEY VALUE WITH SPACES" form: one pair, the value the
 * rest expanded as one word. With @arg, "NAME" without "=" is a pair whose
 * value is NULL. A GPtrArray (freeing its strings) of keys and values
 * alternating. HUTCH_ERROR_USAGE for an empty key, or a word without "="
 * where a pair is needed. */
GPtrArray *hutch_build_expand_pairs (const char *args, char escape, gboolean legacy_ok,
                                     gboolean arg, HutchBuildLookup lookup, gpointer data,
                                     GError **error);

/* ---- matching (ignore.c) ---- */

/* Go's filepath.Match on '/'-separated paths: '*' (not '/'), '?', [a-z],
 * [^...], the escape '\\'. FALSE for a malformed pattern too. */
gboolean hutch_build_glob_match (const char *pattern, const char *path);
/* Whether @pattern has any of * ? [ (a COPY source to expand by glob). */
gboolean hutch_build_glob_is_pattern (const char *pattern);

/* A .dockerignore: a line per pattern, '#' comments, blank lines skipped,
 * each pattern cleaned (leading "/" and "./" dropped, "a//b/../c" to "a/c"),
 * "**" matching any number of directories, "!" an exception; the last
 * pattern that matches decides. */
typedef struct HutchBuildIgnore HutchBuildIgnore;

HutchBuildIgnore *hutch_build_ignore_parse (const char *text, gsize len, GError **error);
void hutch_build_ignore_free (HutchBuildIgnore *ignore);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (HutchBuildIgnore, hutch_build_ignore_free)
/* Whether @path (relative to the context, cleaned, no leading "/") is left
 * out: by a pattern that matches it or one of its parent directories, as
 * docker's matcher does, unless a later "!" pattern matches it. */
gboolean hutch_build_ignore_match (const HutchBuildIgnore *ignore, const char *path);
/* Whether the file has any "!" pattern: an ignored directory must then
 * still be walked, as something beneath it may be let back in. */
gboolean hutch_build_ignore_has_exceptions (const HutchBuildIgnore *ignore);

G_END_DECLS
