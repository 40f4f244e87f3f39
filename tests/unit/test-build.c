/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The Containerfile parser, variable expansion and the matchers
 * (src/build/), table-driven against what docker documents and what its
 * parser (buildkit), shell lexer and patternmatcher do. */
#include "config.h"

#include <string.h>

#include "build/containerfile.h"
#include "util/util.h"

/* ---- the parser: a file written out as text, compared whole ---- */

static void
dump_instruction_line (GString *out, const HutchBuildInstruction *inst)
{
  g_string_append_printf (out, "%s@%u", hutch_build_kind_name (inst->kind), inst->line);
  for (guint i = 0; i < inst->flags->len; i++)
    {
      const HutchBuildFlag *flag = g_ptr_array_index (inst->flags, i);
      g_string_append_printf (out, " --%s", flag->name);
      if (flag->value != NULL)
        g_string_append_printf (out, "=%s", flag->value);
    }
  g_string_append_printf (out, " [%s]", inst->args);
  if (inst->json)
    {
      g_autofree char *items = g_strjoinv ("|", inst->argv);
      g_string_append_printf (out, " json(%s)", items);
    }
  else
    g_assert_null (inst->argv);
  for (guint i = 0; i < inst->heredocs->len; i++)
    {
      const HutchBuildHeredoc *doc = g_ptr_array_index (inst->heredocs, i);
      g_autofree char *body = g_strescape (doc->body, NULL);
      g_string_append_printf (out, doc->expand ? " <<%s=%s" : " <<'%s'=%s", doc->delimiter,
                              body);
    }
  if (inst->inner != NULL)
    {
      g_string_append (out, " {");
      dump_instruction_line (out, inst->inner);
      g_string_append (out, "}");
    }
}

static void
dump_instruction (GString *out, const HutchBuildInstruction *inst)
{
  dump_instruction_line (out, inst);
  g_string_append_c (out, '\n');
}

static char *
dump_file (const HutchBuildFile *file)
{
  GString *out = g_string_new (NULL);

  if (file->escape != '\\')
    g_string_append_printf (out, "escape=%c\n", file->escape);
  if (file->syntax != NULL)
    g_string_append_printf (out, "syntax=%s\n", file->syntax);
  for (guint i = 0; i < file->global_args->len; i++)
    {
      g_string_append (out, "global ");
      dump_instruction (out, g_ptr_array_index (file->global_args, i));
    }
  for (guint i = 0; i < file->stages->len; i++)
    {
      const HutchBuildStage *stage = g_ptr_array_index (file->stages, i);
      g_assert_nonnull (stage->from);
      g_assert_cmpint (stage->from->kind, ==, HUTCH_BUILD_FROM);
      g_assert_cmpuint (stage->from->line, ==, stage->line);
      g_string_append_printf (out, "STAGE %s %s %s @%u\n", stage->base,
                              stage->name != NULL ? stage->name : "-",
                              stage->platform != NULL ? stage->platform : "-", stage->line);
      for (guint j = 0; j < stage->instructions->len; j++)
        dump_instruction (out, g_ptr_array_index (stage->instructions, j));
    }
  return g_string_free (out, FALSE);
}

typedef struct
{
  const char *name;
  const char *text;
  const char *want; /* the dump, or with @error a part of the message */
  gboolean error;
} ParseCase;

static const ParseCase parse_cases[] = {
  { "every-instruction",
    "FROM alpine:3.19 AS Build\n"
    "RUN apk add gcc\n"
    "COPY --from=build --chown=1:1 src/ /dst/\n"
    "ADD https://x/y.tar.gz /opt/\n"
    "ENV A=1 B=\"two words\"\n"
    "ARG V=1\n"
    "WORKDIR /src\n"
    "USER nobody\n"
    "ENTRYPOINT [\"/bin/sh\", \"-c\"]\n"
    "CMD echo hi\n"
    "LABEL a=b\n"
    "EXPOSE 80/tcp 443\n"
    "VOLUME [\"/data\"]\n"
    "STOPSIGNAL SIGTERM\n"
    "SHELL [\"/bin/bash\", \"-c\"]\n"
    "HEALTHCHECK --interval=5s CMD curl -f http://localhost/\n"
    "ONBUILD RUN make\n"
    "MAINTAINER me <me@x>\n",
    "STAGE alpine:3.19 build - @1\n"
    "RUN@2 [apk add gcc]\n"
    "COPY@3 --from=build --chown=1:1 [src/ /dst/]\n"
    "ADD@4 [https://x/y.tar.gz /opt/]\n"
    "ENV@5 [A=1 B=\"two words\"]\n"
    "ARG@6 [V=1]\n"
    "WORKDIR@7 [/src]\n"
    "USER@8 [nobody]\n"
    "ENTRYPOINT@9 [[\"/bin/sh\", \"-c\"]] json(/bin/sh|-c)\n"
    "CMD@10 [echo hi]\n"
    "LABEL@11 [a=b]\n"
    "EXPOSE@12 [80/tcp 443]\n"
    "VOLUME@13 [[\"/data\"]] json(/data)\n"
    "STOPSIGNAL@14 [SIGTERM]\n"
    "SHELL@15 [[\"/bin/bash\", \"-c\"]] json(/bin/bash|-c)\n"
    "HEALTHCHECK@16 --interval=5s [CMD curl -f http://localhost/]\n"
    "ONBUILD@17 [RUN make] {RUN@17 [make]}\n"
    "MAINTAINER@18 [me <me@x>]\n" },
  { "keywords-any-case", "from x\nrun y\nCoPy a b\n",
    "STAGE x - - @1\nRUN@2 [y]\nCOPY@3 [a b]\n" },
  { "bom-crlf-indent-no-final-newline", "\xEF\xBB\xBF" "FROM x\r\n  RUN  y  \r\n\tCMD z",
    "STAGE x - - @1\nRUN@2 [y]\nCMD@3 [z]\n" },
  { "comments-and-blank-lines", "# top\n\nFROM x\n  # indented comment\n\nRUN a # not a comment\n",
    "STAGE x - - @3\nRUN@6 [a # not a comment]\n" },
  { "continuation", "FROM scratch\nRUN a \\\n# comment\n    b \\\n\n  c\nCMD x\n",
    "STAGE scratch - - @1\nRUN@2 [a     b   c]\nCMD@7 [x]\n" },
  { "continuation-blanks-after-escape", "FROM x\nRUN a \\  \t\nb\n",
    "STAGE x - - @1\nRUN@2 [a b]\n" },
  { "continuation-at-end-of-file", "FROM x\nRUN a \\\n",
    "STAGE x - - @1\nRUN@2 [a]\n" },
  { "continuation-of-keyword", "FROM x\nRU\\\nN a\n",
    "STAGE x - - @1\nRUN@2 [a]\n" },
  { "escape-backtick",
    "# escape=`\nFROM mcr.microsoft.com/windows\nCOPY testfile.txt c:\\\nRUN dir c:\\ `\n    /b\n",
    "escape=`\nSTAGE mcr.microsoft.com/windows - - @2\nCOPY@3 [testfile.txt c:\\]\n"
    "RUN@4 [dir c:\\     /b]\n" },
  { "directives-both", "# syntax=docker/dockerfile:1\n#ESCAPE = ` \nFROM x\n",
    "escape=`\nsyntax=docker/dockerfile:1\nSTAGE x - - @3\n" },
  { "directive-after-comment-is-a-comment", "# a comment\n# escape=`\nFROM x\nRUN a `\n",
    "STAGE x - - @3\nRUN@4 [a `]\n" },
  { "directive-after-blank-line-is-a-comment", "\n# escape=`\nFROM x\n",
    "STAGE x - - @3\n" },
  { "directive-after-unknown-directive-is-a-comment", "# foo=bar\n# escape=`\nFROM x\n",
    "STAGE x - - @3\n" },
  { "directive-after-instruction-is-a-comment", "FROM x\n# escape=`\nRUN a `\n",
    "STAGE x - - @1\nRUN@3 [a `]\n" },
  { "json-forms",
    "FROM x\nCMD [\"a\", \"b c\"]\nRUN [ \"a\" ]\nENTRYPOINT []\nCOPY [\"a b\", \"/c\"]\n"
    "HEALTHCHECK CMD [\"curl\", \"x\"]\nHEALTHCHECK NONE\nCMD\nENV [\"a\"] b\n",
    "STAGE x - - @1\nCMD@2 [[\"a\", \"b c\"]] json(a|b c)\nRUN@3 [[ \"a\" ]] json(a)\n"
    "ENTRYPOINT@4 [[]] json()\nCOPY@5 [[\"a b\", \"/c\"]] json(a b|/c)\n"
    "HEALTHCHECK@6 [CMD [\"curl\", \"x\"]] json(curl|x)\nHEALTHCHECK@7 [NONE]\nCMD@8 []\n"
    "ENV@9 [[\"a\"] b]\n" },
  { "invalid-json-is-shell-form",
    "FROM x\nRUN [not json\nRUN [\"a\", 'b']\nCMD {\"a\":1}\nCMD [\"a\"] trailing\n",
    "STAGE x - - @1\nRUN@2 [[not json]\nRUN@3 [[\"a\", 'b']]\nCMD@4 [{\"a\":1}]\n"
    "CMD@5 [[\"a\"] trailing]\n" },
  { "flags",
    "FROM --platform=linux/arm64 busybox AS b\n"
    "RUN --mount=type=cache,target=/root/.cache --network=none make\n"
    "COPY --link a b\nCOPY --FROM=x a b\nCOPY -- --weird /dst\nCOPY --chown=\"a b\" x y\n"
    "ADD --checksum=sha256:00 --keep-git-dir=true u d\n",
    "STAGE busybox b linux/arm64 @1\n"
    "RUN@2 --mount=type=cache,target=/root/.cache --network=none [make]\n"
    "COPY@3 --link [a b]\nCOPY@4 --from=x [a b]\nCOPY@5 [--weird /dst]\nCOPY@6 --chown=a b [x y]\n"
    "ADD@7 --checksum=sha256:00 --keep-git-dir=true [u d]\n" },
  { "heredocs",
    "FROM x\nRUN <<EOF\necho hi\nEOF\nCOPY <<-EOT /file\n\ttabbed\n\t\ttwo\n\tEOT\n"
    "RUN <<\"EOF\" cat\n$HOME\nEOF\nRUN cat <<A <<'B' > out\na\nA\nb\nB\nCMD done\n",
    "STAGE x - - @1\nRUN@2 [<<EOF] <<EOF=echo hi\\n\nCOPY@5 [<<-EOT /file] <<EOT=tabbed\\ntwo\\n\n"
    "RUN@9 [<<\"EOF\" cat] <<'EOF'=$HOME\\n\nRUN@12 [cat <<A <<'B' > out] <<A=a\\n <<'B'=b\\n\n"
    "CMD@17 [done]\n" },
  { "heredoc-body-keeps-comments-and-blanks",
    "FROM x\nRUN <<EOF\n# not skipped\n\n  EOF\nEOF\n",
    "STAGE x - - @1\nRUN@2 [<<EOF] <<EOF=# not skipped\\n\\n  EOF\\n\n" },
  { "heredoc-empty-body-and-fd", "FROM x\nRUN 3<<EOF cat <&3\nEOF\n",
    "STAGE x - - @1\nRUN@2 [3<<EOF cat <&3] <<EOF=\n" },
  { "not-heredocs",
    "FROM x\nRUN echo \"<<EOF\"\nRUN echo a<<EOF\nRUN [\"cat\", \"<<EOF\"]\nCMD <<EOF\n",
    "STAGE x - - @1\nRUN@2 [echo \"<<EOF\"]\nRUN@3 [echo a<<EOF]\n"
    "RUN@4 [[\"cat\", \"<<EOF\"]] json(cat|<<EOF)\nCMD@5 [<<EOF]\n" },
  { "onbuild",
    "FROM x\nONBUILD COPY --from=x a b\nonbuild run <<E\nbody\nE\n",
    "STAGE x - - @1\nONBUILD@2 [COPY --from=x a b] {COPY@2 --from=x [a b]}\n"
    "ONBUILD@3 [run <<E] {RUN@3 [<<E] <<E=body\\n}\n" },
  { "stages-and-global-args",
    "ARG BASE=alpine\nARG TAG\nFROM ${BASE}:${TAG} AS one\nFROM one as two\nRUN x\nFROM scratch\n",
    "global ARG@1 [BASE=alpine]\nglobal ARG@2 [TAG]\nSTAGE ${BASE}:${TAG} one - @3\n"
    "STAGE one two - @4\nRUN@5 [x]\nSTAGE scratch - - @6\n" },
  { "stage-name-chars", "FROM a AS x1_.-y\n", "STAGE a x1_.-y - @1\n" },

  /* errors, each with its line */
  { "empty", "", "Containerfile: no FROM instruction", TRUE },
  { "only-comments", "# c\n\n", "Containerfile: no FROM instruction", TRUE },
  { "only-args", "ARG a\n", "Containerfile: no FROM instruction", TRUE },
  { "before-from", "# c\nRUN x\nFROM y\n",
    "Containerfile:2: RUN before the first FROM (only ARG may come before it): RUN x", TRUE },
  { "unknown", "FROM x\n\nFORM ubuntu\n", "Containerfile:3: unknown instruction: FORM ubuntu", TRUE },
  { "unknown-after-continuation", "FROM x\nRUN a \\\n b\nBAD y\n",
    "Containerfile:4: unknown instruction: BAD y", TRUE },
  { "unknown-after-heredoc", "FROM x\nRUN <<E\nE\nFOO\n", "Containerfile:4: unknown instruction: FOO",
    TRUE },
  { "no-arguments", "FROM x\nRUN\n", "Containerfile:2: RUN requires at least one argument: RUN",
    TRUE },
  { "flags-only", "FROM x\nCOPY --from=a\n", "Containerfile:2: COPY requires at least one argument",
    TRUE },
  { "from-alone", "FROM\n", "Containerfile:1: FROM requires at least one argument", TRUE },
  { "from-two-words", "FROM a b\n", "Containerfile:1: FROM requires either one or three arguments: FROM a b",
    TRUE },
  { "from-four-words", "FROM a AS b c\n", "Containerfile:1: FROM requires either one or three", TRUE },
  { "from-not-as", "FROM a IS b\n", "Containerfile:1: FROM requires either one or three", TRUE },
  { "stage-name-digit", "FROM a AS 1x\n", "Containerfile:1: invalid name for build stage", TRUE },
  { "stage-name-symbol", "FROM a AS x$y\n", "Containerfile:1: invalid name for build stage", TRUE },
  { "stage-name-twice", "FROM a AS x\nFROM b AS X\n",
    "Containerfile:2: duplicate stage name \"x\" (line 1 has it): FROM b AS X", TRUE },
  { "shell-not-json", "FROM x\nSHELL /bin/sh -c\n",
    "Containerfile:2: SHELL requires the arguments to be in JSON form", TRUE },
  { "shell-empty", "FROM x\nSHELL []\n", "Containerfile:2: SHELL requires at least one argument",
    TRUE },
  { "json-not-strings", "FROM x\nCMD [\"a\", 1]\n",
    "Containerfile:2: when using JSON array syntax, arrays must be comprised of strings only", TRUE },
  { "healthcheck-type", "FROM x\nHEALTHCHECK FOO\n", "Containerfile:2: HEALTHCHECK takes CMD or NONE",
    TRUE },
  { "healthcheck-none-args", "FROM x\nHEALTHCHECK NONE x\n",
    "Containerfile:2: HEALTHCHECK NONE takes no arguments", TRUE },
  { "healthcheck-cmd-alone", "FROM x\nHEALTHCHECK CMD\n",
    "Containerfile:2: HEALTHCHECK CMD needs a command", TRUE },
  { "flag-on-env", "FROM x\nENV --x=1 a=b\n", "Containerfile:2: unknown flag for ENV: --x", TRUE },
  { "heredoc-unterminated", "FROM x\nRUN <<EOF\nabc\n",
    "Containerfile:2: unterminated here-document (no line \"EOF\"): RUN <<EOF", TRUE },
  { "heredoc-second-unterminated", "FROM x\nRUN <<A <<B\na\nA\nb\n",
    "Containerfile:2: unterminated here-document (no line \"B\")", TRUE },
  { "heredoc-bad-delimiter", "FROM x\nRUN <<'EOF\n", "Containerfile:2: bad here-document delimiter",
    TRUE },
  { "onbuild-onbuild", "FROM x\nONBUILD ONBUILD RUN x\n",
    "Containerfile:2: ONBUILD isn't allowed as an ONBUILD trigger: ONBUILD ONBUILD RUN x", TRUE },
  { "onbuild-from", "FROM x\nONBUILD FROM y\n",
    "Containerfile:2: FROM isn't allowed as an ONBUILD trigger", TRUE },
  { "onbuild-maintainer", "FROM x\nONBUILD MAINTAINER y\n",
    "Containerfile:2: MAINTAINER isn't allowed as an ONBUILD trigger", TRUE },
  { "onbuild-alone", "FROM x\nONBUILD\n", "Containerfile:2: ONBUILD requires at least one argument",
    TRUE },
  { "onbuild-unknown", "FROM x\nONBUILD FOO\n", "Containerfile:2: unknown instruction: FOO", TRUE },
  { "escape-twice", "# escape=`\n# escape=\\\nFROM x\n",
    "Containerfile:2: only one escape parser directive can be used", TRUE },
  { "escape-bad", "# escape=x\nFROM x\n", "Containerfile:1: the escape directive takes", TRUE },
  { "not-utf8", "FROM x\nRUN \xff\n", "Containerfile:2: not UTF-8", TRUE },
};

static void
test_parse_cases (void)
{
  for (gsize i = 0; i < G_N_ELEMENTS (parse_cases); i++)
    {
      const ParseCase *c = &parse_cases[i];
      g_autoptr (GError) error = NULL;
      g_autoptr (HutchBuildFile) file = NULL;

      g_test_message ("case %s", c->name);
      file = hutch_build_file_parse (c->text, strlen (c->text), "Containerfile", &error);
      if (c->error)
        {
          g_assert_null (file);
          g_assert_error (error, HUTCH_ERROR, HUTCH_ERROR_USAGE);
          if (strstr (error->message, c->want) == NULL)
            g_error ("case %s: message \"%s\" lacks \"%s\"", c->name, error->message, c->want);
        }
      else
        {
          g_autofree char *dump = NULL;
          g_assert_no_error (error);
          dump = dump_file (file);
          if (strcmp (dump, c->want) != 0)
            g_error ("case %s:\n--- got\n%s--- want\n%s", c->name, dump, c->want);
        }
    }
}

static void
test_parse_original (void)
{
  const char *text = "FROM x\nrun  a \\\n  # c\n  b  \nONBUILD  copy a b\n";
  g_autoptr (GError) error = NULL;
  g_autoptr (HutchBuildFile) file = hutch_build_file_parse (text, strlen (text), "F", &error);
  const HutchBuildStage *stage;
  const HutchBuildInstruction *inst;

  g_assert_no_error (error);
  stage = g_ptr_array_index (file->stages, 0);
  g_assert_cmpstr (stage->from->original, ==, "FROM x");
  inst = g_ptr_array_index (stage->instructions, 0);
  g_assert_cmpstr (inst->original, ==, "run  a   b");
  inst = g_ptr_array_index (stage->instructions, 1);
  g_assert_cmpstr (inst->original, ==, "ONBUILD  copy a b");
  g_assert_cmpstr (inst->inner->original, ==, "copy a b");
  g_assert_cmpstr (hutch_build_kind_name (HUTCH_BUILD_HEALTHCHECK), ==, "HEALTHCHECK");
}

static void
test_parse_limits (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *big = g_malloc (HUTCH_BUILD_FILE_MAX_SIZE + 1);
  const char nul[] = "FROM x\0RUN y";

  memset (big, '#', HUTCH_BUILD_FILE_MAX_SIZE + 1);
  g_assert_null (hutch_build_file_parse (big, HUTCH_BUILD_FILE_MAX_SIZE + 1, "C", &error));
  g_assert_error (error, HUTCH_ERROR, HUTCH_ERROR_USAGE);
  g_clear_error (&error);
  g_assert_null (hutch_build_file_parse (nul, sizeof nul - 1, "C", &error));
  g_assert_error (error, HUTCH_ERROR, HUTCH_ERROR_USAGE);
  g_assert_nonnull (strstr (error->message, "NUL"));
  g_clear_error (&error);

  /* Not NUL-terminated: only @len bytes are read. */
  {
    g_autoptr (HutchBuildFile) file = hutch_build_file_parse ("FROM abcdef", 6, "C", &error);
    g_assert_no_error (error);
    g_assert_cmpstr (((HutchBuildStage *) g_ptr_array_index (file->stages, 0))->base, ==, "a");
  }
}

/* ---- expansion ---- */

static const char *
lookup (const char *name, gpointer data)
{
  static const char *const vars[] = {
    "A", "a", "EMPTY", "", "SP", "x  y", "LEAD", "  ab c", "EQ", "x=y", "Q", "it's", NULL,
  };
  for (gsize i = 0; vars[i] != NULL; i += 2)
    if (strcmp (vars[i], name) == 0)
      return vars[i + 1];
  return NULL;
}

typedef struct
{
  const char *text;
  const char *want; /* the result, or a part of the message when NULL … */
  const char *error;
} WordCase;

static const WordCase word_cases[] = {
  { "$A", "a" },
  { "${A}", "a" },
  { "pre${A}post", "preapost" },
  { "$Apost", "" },
  { "$A.b", "a.b" },
  { "$UNSET", "" },
  { "${UNSET}", "" },
  { "${A:-d}", "a" },
  { "${EMPTY:-d}", "d" },
  { "${UNSET:-d}", "d" },
  { "${EMPTY-d}", "" },
  { "${UNSET-d}", "d" },
  { "${A:+r}", "r" },
  { "${EMPTY:+r}", "" },
  { "${UNSET:+r}", "" },
  { "${EMPTY+r}", "r" },
  { "${UNSET+r}", "" },
  { "${A:-}", "a" },
  { "${UNSET:-}", "" },
  { "${UNSET:-$A}", "a" },
  { "${UNSET:-${A:+x}y}", "xy" },
  { "${UNSET:-'a b'}", "a b" },
  { "${UNSET:-\"$A b\"}", "a b" },
  { "${A:?msg}", "a" },
  { "${A?}", "a" },
  { "${EMPTY?}", "" },
  { "'$A'", "$A" },
  { "\"$A\"", "a" },
  { "\"a'b\"", "a'b" },
  { "'a\"b'", "a\"b" },
  { "\"$Q\"", "it's" },
  { "a'b c'd", "ab cd" },
  { "\\$A", "$A" },
  { "a\\ b", "a b" },
  { "\\'a\\'", "'a'" },
  { "\"\\$A\"", "$A" },
  { "\"\\\"\"", "\"" },
  { "\"\\x\"", "\\x" },
  { "\"\\\\\"", "\\" },
  { "'\\x'", "\\x" },
  { "a\\", "a" },
  { "$", "$" },
  { "a$", "a$" },
  { "$ b", "$ b" },
  { "$1", "" },
  { "${A}}", "a}" },
  { "x  y", "x  y" },
  { "$SP", "x  y" },
  { "${UNSET:?msg}", NULL, "UNSET: msg" },
  { "${UNSET?}", NULL, "UNSET: is not allowed to be unset" },
  { "${EMPTY:?}", NULL, "EMPTY: is not allowed to be empty" },
  { "${A", NULL, "syntax error: missing '}': ${A" },
  { "${", NULL, "missing '}'" },
  { "${A:-x", NULL, "missing '}'" },
  { "${A:", NULL, "missing '}'" },
  { "${}", NULL, "bad substitution" },
  { "${:a}", NULL, "bad substitution" },
  { "'abc", NULL, "matching single-quote: 'abc" },
  { "\"abc", NULL, "matching double-quote" },
  { "\"abc\\\"", NULL, "matching double-quote" },
  { "${A:x}", NULL, "unsupported modifier (x) in substitution" },
  { "${A%x}", NULL, "unsupported modifier (%) in substitution" },
  { "${A x}", NULL, "unsupported modifier ( ) in substitution" },
};

static void
test_expand_word (void)
{
  for (gsize i = 0; i < G_N_ELEMENTS (word_cases); i++)
    {
      const WordCase *c = &word_cases[i];
      g_autoptr (GError) error = NULL;
      g_autofree char *got = hutch_build_expand_word (c->text, '\\', lookup, NULL, &error);

      g_test_message ("word %s", c->text);
      if (c->want != NULL)
        {
          g_assert_no_error (error);
          g_assert_cmpstr (got, ==, c->want);
        }
      else
        {
          g_assert_null (got);
          g_assert_error (error, HUTCH_ERROR, HUTCH_ERROR_USAGE);
          if (strstr (error->message, c->error) == NULL)
            g_error ("%s: message \"%s\" lacks \"%s\"", c->text, error->message, c->error);
        }
    }
}

static void
test_expand_backtick (void)
{
  g_autofree char *a = hutch_build_expand_word ("`$A c:\\dir `` x`", '`', lookup, NULL, NULL);
  g_autofree char *b = hutch_build_expand_word ("\"`$A`\"\"", '`', lookup, NULL, NULL);

  g_assert_cmpstr (a, ==, "$A c:\\dir ` x");
  g_assert_cmpstr (b, ==, "$A\"");
}

static void
test_expand_deep (void)
{
  g_autoptr (GString) text = g_string_new (NULL);
  g_autoptr (GError) error = NULL;
  g_autofree char *got = NULL;

  for (int i = 0; i < 10000; i++)
    g_string_append (text, "${A:-");
  got = hutch_build_expand_word (text->str, '\\', lookup, NULL, &error);
  g_assert_null (got);
  g_assert_error (error, HUTCH_ERROR, HUTCH_ERROR_USAGE);
}

typedef struct
{
  const char *text;
  const char *want; /* words joined by "|", or NULL for an error */
} WordsCase;

static const WordsCase words_cases[] = {
  { "a b  c", "a|b|c" },
  { "  a  ", "a" },
  { "", "" },
  { "\"a b\" c", "a b|c" },
  { "$SP", "x|y" },
  { "\"$SP\"", "x  y" },
  { "pre$SP", "prex|y" },
  { "hello${LEAD}def", "hello|ab|cdef" },
  { "'' a", "a" },
  { "a\\ b c", "a b|c" },
  { "${UNSET} a", "a" },
  { "src/*.c /dst/", "src/*.c|/dst/" },
  { "a 'b", NULL },
};

static void
test_expand_words (void)
{
  for (gsize i = 0; i < G_N_ELEMENTS (words_cases); i++)
    {
      const WordsCase *c = &words_cases[i];
      g_autoptr (GError) error = NULL;
      g_auto (GStrv) got = hutch_build_expand_words (c->text, '\\', lookup, NULL, &error);

      g_test_message ("words %s", c->text);
      if (c->want == NULL)
        {
          g_assert_null (got);
          g_assert_error (error, HUTCH_ERROR, HUTCH_ERROR_USAGE);
        }
      else
        {
          g_autofree char *joined = NULL;
          g_assert_no_error (error);
          joined = g_strjoinv ("|", got);
          g_assert_cmpstr (joined, ==, c->want);
        }
    }
}

typedef struct
{
  const char *text;
  gboolean legacy_ok;
  gboolean arg;
  const char *want; /* key=value pairs joined by "|" (NULL value as "k!"), or a part of the
                     * message with @error */
  gboolean error;
} PairsCase;

static const PairsCase pairs_cases[] = {
  { "A=1 B=\"two words\" C=${A}x", TRUE, FALSE, "A=1|B=two words|C=ax" },
  { "MY_NAME John Doe", TRUE, FALSE, "MY_NAME=John Doe" },
  { "MY_NAME   John  Doe  ", TRUE, FALSE, "MY_NAME=John  Doe" },
  { "X \"$A\" b", TRUE, FALSE, "X=a b" },
  { "X a=b", TRUE, FALSE, "X=a=b" },
  { "A=", TRUE, FALSE, "A=" },
  { "A=b=c", TRUE, FALSE, "A=b=c" },
  { "${A}=1", TRUE, FALSE, "a=1" },
  { "K=$EQ", TRUE, FALSE, "K=x=y" },
  { "A=a\\ b", TRUE, FALSE, "A=a b" },
  { "\"com.example\"=1 'x'='y z'", TRUE, FALSE, "com.example=1|x=y z" },
  { "NAME", FALSE, TRUE, "NAME!" },
  { "A=1 B", FALSE, TRUE, "A=1|B!" },
  { "V=${A:-d}", FALSE, TRUE, "V=a" },
  { "ONLY", TRUE, FALSE, "\"ONLY\" must have two arguments", TRUE },
  { "A=1 B", TRUE, FALSE, "can't find = in \"B\"", TRUE },
  { "NAME", FALSE, FALSE, "can't find = in \"NAME\"", TRUE },
  { "=x", TRUE, FALSE, "a name can not be blank: =x", TRUE },
  { "${UNSET}=x", FALSE, TRUE, "a name can not be blank", TRUE },
  { "A='x", TRUE, FALSE, "single-quote", TRUE },
  { "", TRUE, FALSE, "no name=value pair", TRUE },
};

static void
test_expand_pairs (void)
{
  for (gsize i = 0; i < G_N_ELEMENTS (pairs_cases); i++)
    {
      const PairsCase *c = &pairs_cases[i];
      g_autoptr (GError) error = NULL;
      g_autoptr (GPtrArray) got = hutch_build_expand_pairs (c->text, '\\', c->legacy_ok, c->arg,
                                                            lookup, NULL, &error);

      g_test_message ("pairs %s", c->text);
      if (c->error)
        {
          g_assert_null (got);
          g_assert_error (error, HUTCH_ERROR, HUTCH_ERROR_USAGE);
          if (strstr (error->message, c->want) == NULL)
            g_error ("%s: message \"%s\" lacks \"%s\"", c->text, error->message, c->want);
        }
      else
        {
          g_autoptr (GString) joined = g_string_new (NULL);
          g_assert_no_error (error);
          g_assert_cmpuint (got->len % 2, ==, 0);
          for (guint j = 0; j < got->len; j += 2)
            {
              const char *v = g_ptr_array_index (got, j + 1);
              if (j > 0)
                g_string_append_c (joined, '|');
              g_string_append (joined, g_ptr_array_index (got, j));
              if (v != NULL)
                g_string_append_printf (joined, "=%s", v);
              else
                g_string_append_c (joined, '!');
            }
          g_assert_cmpstr (joined->str, ==, c->want);
        }
    }
}

/* ---- matching ---- */

typedef struct
{
  const char *pattern;
  const char *path;
  gboolean want;
} GlobCase;

static const GlobCase glob_cases[] = {
  { "*.txt", "a.txt", TRUE },
  { "*.txt", "d/a.txt", FALSE },
  { "d/*", "d/a", TRUE },
  { "d/*", "d/a/b", FALSE },
  { "*/*", "d/a", TRUE },
  { "*", "", TRUE },
  { "", "", TRUE },
  { "", "a", FALSE },
  { "?", "a", TRUE },
  { "?", "/", FALSE },
  { "?", "", FALSE },
  { "?", "\xc3\xa9", TRUE },
  { "\xc3\xa9?", "\xc3\xa9x", TRUE },
  { "[a-c]x", "bx", TRUE },
  { "[a-c]x", "dx", FALSE },
  { "[^a-c]x", "dx", TRUE },
  { "[^a-c]x", "ax", FALSE },
  { "[abc]", "c", TRUE },
  { "[\\]]", "]", TRUE },
  { "[\\-]", "-", TRUE },
  { "[\xc3\xa9-\xc3\xab]", "\xc3\xaa", TRUE },
  { "\\*", "*", TRUE },
  { "\\*", "a", FALSE },
  { "a*b*c", "axxbyyc", TRUE },
  { "a*b*c", "axxbyy", FALSE },
  { "a*b", "ab", TRUE },
  { "a*", "a/b", FALSE },
  { "ab*", "ab", TRUE },
  /* malformed: never a match */
  { "[", "[", FALSE },
  { "a[", "a", FALSE },
  { "[]a]", "]", FALSE },
  { "[a-]", "a", FALSE },
  { "[^]", "x", FALSE },
  { "a\\", "a", FALSE },
  { "[a", "a", FALSE },
};

static void
test_glob (void)
{
  g_autoptr (GString) path = g_string_new (NULL);

  for (gsize i = 0; i < G_N_ELEMENTS (glob_cases); i++)
    {
      const GlobCase *c = &glob_cases[i];
      if (hutch_build_glob_match (c->pattern, c->path) != c->want)
        g_error ("glob \"%s\" on \"%s\": want %d", c->pattern, c->path, c->want);
    }

  /* A pattern that would make a backtracking matcher crawl. */
  for (int i = 0; i < 20000; i++)
    g_string_append_c (path, 'a');
  g_assert_false (hutch_build_glob_match ("*a*a*a*a*a*a*a*a*a*a*a*b", path->str));
  g_assert_true (hutch_build_glob_match ("*a*a*a*a*a*a*a*a*a*a*a*", path->str));

  g_assert_true (hutch_build_glob_is_pattern ("a*"));
  g_assert_true (hutch_build_glob_is_pattern ("[x]"));
  g_assert_true (hutch_build_glob_is_pattern ("a?"));
  g_assert_false (hutch_build_glob_is_pattern ("a\\*"));
  g_assert_false (hutch_build_glob_is_pattern ("plain/file.txt"));
}

typedef struct
{
  const char *path;
  gboolean want;
} IgnoreCase;

static void
check_ignore (const char *text, const IgnoreCase *cases, gsize n)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (HutchBuildIgnore) ignore = hutch_build_ignore_parse (text, strlen (text), &error);

  g_assert_no_error (error);
  for (gsize i = 0; i < n; i++)
    if (hutch_build_ignore_match (ignore, cases[i].path) != cases[i].want)
      g_error ("ignore \"%s\": want %d", cases[i].path, cases[i].want);
}

static void
test_ignore (void)
{
  static const char text[] = "# comment\n"
                             "*.md\n"
                             "!README.md\n"
                             "/build\n"
                             "temp?\n"
                             "**/*.log\n"
                             "!keep/**/*.log\n"
                             "docs/**\n"
                             "  spaced  \r\n"
                             "./dot/./clean/../x\n"
                             "\n"
                             "**/.git\n"
                             "a//b/../../c\n";
  static const IgnoreCase cases[] = {
    { "a.md", TRUE },
    { "README.md", FALSE },
    { "sub/a.md", FALSE },
    { "build", TRUE },
    { "build/x/y", TRUE },
    { "sub/build", FALSE },
    { "temp1", TRUE },
    { "temp12", FALSE },
    { "x.log", TRUE },
    { "a/b/c.log", TRUE },
    { "keep/a.log", FALSE },
    { "keep/x/y.log", FALSE },
    { "keep/x/y.txt", FALSE },
    { "docs", FALSE },
    { "docs/a/b", TRUE },
    { "spaced", TRUE },
    { "dot/x", TRUE },
    { "dot/x/deeper", TRUE },
    { "dot/clean", FALSE },
    { ".git", TRUE },
    { "src/.git/config", TRUE },
    { "c", TRUE },
    { "# comment", FALSE },
    { "other", FALSE },
  };
  static const IgnoreCase last_wins[] = { { "a", TRUE }, { "b", FALSE } };
  static const IgnoreCase exception_in_dir[] = {
    { "dir", TRUE }, { "dir/keep", FALSE }, { "dir/keep/x", FALSE }, { "dir/other", TRUE },
  };
  static const IgnoreCase bom[] = { { "a", TRUE } };
  static const IgnoreCase star_all[] = {
    { "a", TRUE }, { "a/b", TRUE }, { "Dockerfile", FALSE }, { "sub/Dockerfile", TRUE },
  };
  static const char *const bad[] = { "!\n", "  !  \n", "[\n", "a\\\n", "x\n[]a]\n" };

  check_ignore (text, cases, G_N_ELEMENTS (cases));
  check_ignore ("a\n!a\na\nb\n!b\n", last_wins, G_N_ELEMENTS (last_wins));
  check_ignore ("dir\n!dir/keep\n", exception_in_dir, G_N_ELEMENTS (exception_in_dir));
  check_ignore ("\xEF\xBB\xBF" "a", bom, G_N_ELEMENTS (bom));
  check_ignore ("*\n!Dockerfile\n", star_all, G_N_ELEMENTS (star_all));

  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (HutchBuildIgnore) ignore = hutch_build_ignore_parse (bad[i], strlen (bad[i]),
                                                                      &error);
      g_assert_null (ignore);
      g_assert_error (error, HUTCH_ERROR, HUTCH_ERROR_USAGE);
      g_assert_true (g_str_has_prefix (error->message, ".dockerignore:"));
    }

  {
    g_autoptr (HutchBuildIgnore) none = hutch_build_ignore_parse ("a\nb\n", 4, NULL);
    g_autoptr (HutchBuildIgnore) some = hutch_build_ignore_parse ("a\n!a/b\n", 7, NULL);
    g_autoptr (HutchBuildIgnore) empty = hutch_build_ignore_parse ("", 0, NULL);
    g_assert_false (hutch_build_ignore_has_exceptions (none));
    g_assert_true (hutch_build_ignore_has_exceptions (some));
    g_assert_false (hutch_build_ignore_match (empty, "a"));
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/build/parse/cases", test_parse_cases);
  g_test_add_func ("/build/parse/original", test_parse_original);
  g_test_add_func ("/build/parse/limits", test_parse_limits);
  g_test_add_func ("/build/expand/word", test_expand_word);
  g_test_add_func ("/build/expand/backtick", test_expand_backtick);
  g_test_add_func ("/build/expand/deep", test_expand_deep);
  g_test_add_func ("/build/expand/words", test_expand_words);
  g_test_add_func ("/build/expand/pairs", test_expand_pairs);
  g_test_add_func ("/build/match/glob", test_glob);
  g_test_add_func ("/build/match/ignore", test_ignore);
  return g_test_run ();
}
