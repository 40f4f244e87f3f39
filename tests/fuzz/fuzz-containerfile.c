/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* build/: the Containerfile parser, expansion and the matchers. A
 * Containerfile comes from whoever wrote the project being built; its
 * .dockerignore too. The input is parsed as a Containerfile; each
 * instruction's arguments are then expanded (as one word, as words, as
 * pairs) with fixed variables, and the input's first lines are read as a
 * .dockerignore and its words tried as paths and globs. Whatever parses
 * must hold together (stages, lines, JSON argv, here-documents), and every
 * refusal must be a hutch usage error with a message. */
#include "config.h"

#include <string.h>

#include "build/containerfile.h"
#include "fuzz-common.h"
#include "util/util.h"

/* The matchers run in pattern × path steps, for each pattern and each
 * parent directory: a .dockerignore of the first 1 KiB, and a few short
 * words as paths, keep an input to a millisecond. */
#define MATCH_INPUT_MAX 1024
#define MATCH_WORDS_MAX 16
#define MATCH_WORD_LEN_MAX 64

static const char *
lookup (const char *name, gpointer data)
{
  static const char *const vars[] = {
    "A", "a", "EMPTY", "", "SP", "x  y", "Q", "it's \"q\"", "EQ", "k=v", "D", "$A", NULL,
  };
  for (gsize i = 0; vars[i] != NULL; i += 2)
    if (strcmp (vars[i], name) == 0)
      return vars[i + 1];
  return NULL;
}

static void
check_refusal (const GError *error, const char *what)
{
  if (error == NULL || error->domain != HUTCH_ERROR || error->code != HUTCH_ERROR_USAGE
      || error->message[0] == '\0')
    hutch_fuzz_fail ("%s refused without a hutch usage error", what);
}

static void
expand_all (const HutchBuildInstruction *inst, char escape)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *word = hutch_build_expand_word (inst->args, escape, lookup, NULL, &error);
  g_auto (GStrv) words = NULL;
  g_autoptr (GPtrArray) pairs = NULL;

  if (word == NULL)
    check_refusal (error, "a word");
  else if (strpbrk (inst->args, "$'\"") == NULL && strchr (inst->args, escape) == NULL
           && strcmp (word, inst->args) != 0)
    hutch_fuzz_fail ("plain text \"%s\" expanded to \"%s\"", inst->args, word);
  g_clear_error (&error);

  words = hutch_build_expand_words (inst->args, escape, lookup, NULL, &error);
  if (words == NULL)
    check_refusal (error, "words");
  else
    for (gsize i = 0; words[i] != NULL; i++)
      if (words[i][0] == '\0')
        hutch_fuzz_fail ("an empty word from \"%s\"", inst->args);
  if ((word == NULL) != (words == NULL))
    hutch_fuzz_fail ("\"%s\" expands as a word but not as words, or the reverse", inst->args);
  g_clear_error (&error);

  pairs = hutch_build_expand_pairs (inst->args, escape, inst->kind != HUTCH_BUILD_ARG,
                                    inst->kind == HUTCH_BUILD_ARG, lookup, NULL, &error);
  if (pairs == NULL)
    check_refusal (error, "pairs");
  else
    {
      if (pairs->len == 0 || pairs->len % 2 != 0)
        hutch_fuzz_fail ("%u strings of pairs from \"%s\"", pairs->len, inst->args);
      for (guint i = 0; i < pairs->len; i += 2)
        if (((const char *) g_ptr_array_index (pairs, i))[0] == '\0')
          hutch_fuzz_fail ("an empty name from \"%s\"", inst->args);
    }
}

static void
check_instruction (const HutchBuildInstruction *inst, guint last_line, char escape)
{
  if (inst->line < 1 || inst->line < last_line)
    hutch_fuzz_fail ("instruction on line %u after line %u", inst->line, last_line);
  if (inst->original == NULL || inst->args == NULL || inst->flags == NULL
      || inst->heredocs == NULL)
    hutch_fuzz_fail ("an instruction without its parts");
  if (inst->json != (inst->argv != NULL))
    hutch_fuzz_fail ("json %d with argv %p", inst->json, (void *) inst->argv);
  if ((inst->kind == HUTCH_BUILD_ONBUILD) != (inst->inner != NULL))
    hutch_fuzz_fail ("%s with inner %p", hutch_build_kind_name (inst->kind),
                     (void *) inst->inner);
  if (inst->kind == HUTCH_BUILD_SHELL && (!inst->json || inst->argv[0] == NULL))
    hutch_fuzz_fail ("SHELL not a JSON array of one or more");
  for (guint i = 0; i < inst->heredocs->len; i++)
    {
      const HutchBuildHeredoc *doc = g_ptr_array_index (inst->heredocs, i);
      if (doc->delimiter == NULL || doc->delimiter[0] == '\0' || doc->body == NULL)
        hutch_fuzz_fail ("a here-document without delimiter or body");
      if (doc->body[0] != '\0' && !g_str_has_suffix (doc->body, "\n"))
        hutch_fuzz_fail ("a here-document body without its last newline");
    }
  for (guint i = 0; i < inst->flags->len; i++)
    {
      const HutchBuildFlag *flag = g_ptr_array_index (inst->flags, i);
      g_autofree char *lower = g_ascii_strdown (flag->name, -1);
      if (strcmp (lower, flag->name) != 0)
        hutch_fuzz_fail ("flag --%s not lowercase", flag->name);
    }
  expand_all (inst, escape);
  if (inst->inner != NULL)
    {
      if (inst->inner->line != inst->line)
        hutch_fuzz_fail ("ONBUILD's trigger on another line");
      check_instruction (inst->inner, inst->line, escape);
    }
}

static void
check_file (const HutchBuildFile *file)
{
  guint last = 0;

  if (file->escape != '\\' && file->escape != '`')
    hutch_fuzz_fail ("escape character %c", file->escape);
  if (file->stages->len == 0)
    hutch_fuzz_fail ("a file without stages");
  for (guint i = 0; i < file->global_args->len; i++)
    {
      const HutchBuildInstruction *inst = g_ptr_array_index (file->global_args, i);
      if (inst->kind != HUTCH_BUILD_ARG)
        hutch_fuzz_fail ("%s among the global ARGs", hutch_build_kind_name (inst->kind));
      check_instruction (inst, last, file->escape);
      last = inst->line;
    }
  for (guint i = 0; i < file->stages->len; i++)
    {
      const HutchBuildStage *stage = g_ptr_array_index (file->stages, i);
      if (stage->from == NULL || stage->from->kind != HUTCH_BUILD_FROM || stage->base == NULL
          || stage->base[0] == '\0' || stage->line != stage->from->line)
        hutch_fuzz_fail ("stage %u without its FROM", i);
      check_instruction (stage->from, last, file->escape);
      last = stage->line;
      for (guint j = 0; j < i && stage->name != NULL; j++)
        if (g_strcmp0 (((HutchBuildStage *) g_ptr_array_index (file->stages, j))->name,
                       stage->name)
            == 0)
          hutch_fuzz_fail ("stage name %s twice", stage->name);
      for (guint j = 0; j < stage->instructions->len; j++)
        {
          const HutchBuildInstruction *inst = g_ptr_array_index (stage->instructions, j);
          if (inst->kind == HUTCH_BUILD_FROM)
            hutch_fuzz_fail ("FROM inside a stage");
          check_instruction (inst, last, file->escape);
          last = inst->line;
        }
    }
}

/* The input as a .dockerignore, and its words as paths and globs. */
static void
check_matchers (const char *text, gsize len)
{
  static const char *const paths[] = { "a", "a/b", "a/b/c.txt", "README.md", ".git/config",
                                       "x y/\xc3\xa9", "" };
  g_autoptr (GError) error = NULL;
  g_autoptr (HutchBuildIgnore) ignore = NULL;
  g_auto (GStrv) words = NULL;

  if (len > MATCH_INPUT_MAX)
    len = MATCH_INPUT_MAX;
  ignore = hutch_build_ignore_parse (text, len, &error);
  if (ignore == NULL)
    check_refusal (error, "a .dockerignore");
  words = g_strsplit_set (text, " \t\n", MATCH_WORDS_MAX + 1);
  for (gsize i = 0; words[i] != NULL && i < MATCH_WORDS_MAX; i++)
    {
      const char *w = words[i];
      if (strlen (w) > MATCH_WORD_LEN_MAX)
        continue;
      if (ignore != NULL)
        (void) hutch_build_ignore_match (ignore, w);
      if (!hutch_build_glob_is_pattern (w) && strchr (w, '\\') == NULL
          && !hutch_build_glob_match (w, w))
        hutch_fuzz_fail ("\"%s\" does not match itself", w);
      if (ignore != NULL)
        (void) hutch_build_ignore_match (ignore, w);
      for (gsize j = 0; j < G_N_ELEMENTS (paths); j++)
        (void) hutch_build_glob_match (w, paths[j]);
    }
  if (ignore != NULL)
    {
      for (gsize j = 0; j < G_N_ELEMENTS (paths); j++)
        (void) hutch_build_ignore_match (ignore, paths[j]);
      (void) hutch_build_ignore_has_exceptions (ignore);
    }
}

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  hutch_fuzz_setup ();
  return 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (HutchBuildFile) file = NULL;

  file = hutch_build_file_parse ((const char *) data, size, "Containerfile", &error);
  if (file == NULL)
    check_refusal (error, "a Containerfile");
  else
    {
      if (error != NULL)
        hutch_fuzz_fail ("a parse that worked and set an error");
      check_file (file);
    }
  if (memchr (data, '\0', size) == NULL)
    {
      g_autofree char *text = g_strndup ((const char *) data, MIN (size, MATCH_INPUT_MAX));
      check_matchers (text, strlen (text));
    }
  return 0;
}
