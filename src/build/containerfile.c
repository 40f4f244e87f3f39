/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The Containerfile parser: text to stages of instructions, as docker's
 * (buildkit's frontend/dockerfile/parser) reads it: directives, comments,
 * continuations, flags, the JSON form, here-documents, ONBUILD. Nothing is
 * expanded here (expand.c does it when the executor knows the variables),
 * and no argument is checked beyond what docker's parser itself refuses. */
#include "config.h"

#include <string.h>

#include "build-private.h"
#include "util/util.h"

/* What docker's parser knows of each keyword. */
enum
{
  K_FLAGS = 1 << 0,    /* takes --flags (others are refused, as docker does) */
  K_JSON = 1 << 1,     /* may be written in the exec (JSON) form */
  K_HEREDOC = 1 << 2,  /* may carry here-documents */
  K_EMPTY_OK = 1 << 3, /* may have no arguments */
};

static const struct
{
  HutchBuildKind kind;
  const char *name;
  guint traits;
} kinds[] = {
  { HUTCH_BUILD_FROM, "FROM", K_FLAGS },
  { HUTCH_BUILD_RUN, "RUN", K_FLAGS | K_JSON | K_HEREDOC },
  { HUTCH_BUILD_COPY, "COPY", K_FLAGS | K_JSON | K_HEREDOC },
  { HUTCH_BUILD_ADD, "ADD", K_FLAGS | K_JSON | K_HEREDOC },
  { HUTCH_BUILD_ENV, "ENV", 0 },
  { HUTCH_BUILD_ARG, "ARG", 0 },
  { HUTCH_BUILD_WORKDIR, "WORKDIR", 0 },
  { HUTCH_BUILD_USER, "USER", 0 },
  { HUTCH_BUILD_ENTRYPOINT, "ENTRYPOINT", K_JSON | K_EMPTY_OK },
  { HUTCH_BUILD_CMD, "CMD", K_JSON | K_EMPTY_OK },
  { HUTCH_BUILD_LABEL, "LABEL", 0 },
  { HUTCH_BUILD_EXPOSE, "EXPOSE", 0 },
  { HUTCH_BUILD_VOLUME, "VOLUME", K_JSON },
  { HUTCH_BUILD_STOPSIGNAL, "STOPSIGNAL", 0 },
  { HUTCH_BUILD_SHELL, "SHELL", K_JSON },
  { HUTCH_BUILD_HEALTHCHECK, "HEALTHCHECK", K_FLAGS },
  { HUTCH_BUILD_ONBUILD, "ONBUILD", 0 },
  { HUTCH_BUILD_MAINTAINER, "MAINTAINER", 0 },
};

const char *
hutch_build_kind_name (HutchBuildKind kind)
{
  for (gsize i = 0; i < G_N_ELEMENTS (kinds); i++)
    if (kinds[i].kind == kind)
      return kinds[i].name;
  return "UNKNOWN";
}

static guint
kind_traits (HutchBuildKind kind)
{
  for (gsize i = 0; i < G_N_ELEMENTS (kinds); i++)
    if (kinds[i].kind == kind)
      return kinds[i].traits;
  return 0;
}

static gboolean
kind_lookup (const char *word, gsize len, HutchBuildKind *out_kind)
{
  for (gsize i = 0; i < G_N_ELEMENTS (kinds); i++)
    if (strlen (kinds[i].name) == len && g_ascii_strncasecmp (kinds[i].name, word, len) == 0)
      {
        *out_kind = kinds[i].kind;
        return TRUE;
      }
  return FALSE;
}

/* ---- freeing ---- */

static void
flag_free (gpointer p)
{
  HutchBuildFlag *flag = p;
  g_free (flag->name);
  g_free (flag->value);
  g_free (flag);
}

static void
heredoc_free (gpointer p)
{
  HutchBuildHeredoc *doc = p;
  g_free (doc->delimiter);
  g_free (doc->body);
  g_free (doc);
}

static void
instruction_free (gpointer p)
{
  HutchBuildInstruction *inst = p;
  if (inst == NULL)
    return;
  g_free (inst->original);
  g_ptr_array_unref (inst->flags);
  g_free (inst->args);
  g_strfreev (inst->argv);
  g_ptr_array_unref (inst->heredocs);
  instruction_free (inst->inner);
  g_free (inst);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (HutchBuildInstruction, instruction_free)

static HutchBuildInstruction *
instruction_new (HutchBuildKind kind, guint line, const char *original)
{
  HutchBuildInstruction *inst = g_new0 (HutchBuildInstruction, 1);
  inst->kind = kind;
  inst->line = line;
  inst->original = g_strdup (original);
  inst->flags = g_ptr_array_new_with_free_func (flag_free);
  inst->heredocs = g_ptr_array_new_with_free_func (heredoc_free);
  return inst;
}

static void
stage_free (gpointer p)
{
  HutchBuildStage *stage = p;
  g_free (stage->base);
  g_free (stage->name);
  g_free (stage->platform);
  instruction_free (stage->from);
  g_ptr_array_unref (stage->instructions);
  g_free (stage);
}

void
hutch_build_file_free (HutchBuildFile *file)
{
  if (file == NULL)
    return;
  g_free (file->syntax);
  g_ptr_array_unref (file->global_args);
  g_ptr_array_unref (file->stages);
  g_free (file);
}

/* ---- the parser's state ---- */

typedef struct
{
  const char *filename;
  char escape;
  gboolean directives_done;
  gboolean seen_escape;
  gboolean seen_syntax;
  gboolean seen_check;
  char **lines; /* without their \n and a trailing \r, as Go's ScanLines */
  guint n_lines;
  guint next; /* index of the next line to read */
  HutchBuildFile *file;
} Parser;

static gboolean
is_blank (char c)
{
  /* Go's unicode.IsSpace for the ASCII range, which is what docker's
   * regular expressions and TrimSpace see in practice. */
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static const char *
skip_blanks (const char *s)
{
  while (is_blank (*s))
    s++;
  return s;
}

static char *
strip_copy (const char *s)
{
  return g_strstrip (g_strdup (s));
}

static gboolean
fail_at (Parser *p, guint line, GError **error, const char *what, const char *text)
{
  return hutch_throw (error, HUTCH_ERROR_USAGE, "%s:%u: %s: %s", p->filename, line, what, text);
}

/* ---- parser directives ---- */

/* Docker's directive: ^#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$ on the
 * line without its leading blanks. Only escape, syntax and check are
 * directives; anything else (an unknown one, a comment, an empty line, an
 * instruction) ends the directives for good. Sets *out_taken when the line
 * was a directive (a comment for the rest of the parser). */
static gboolean
parse_directive (Parser *p, const char *line, guint lineno, gboolean *out_taken,
                 GError **error)
{
  const char *s = skip_blanks (line);
  const char *name;
  gsize name_len;
  g_autofree char *value = NULL;
  g_autofree char *lower = NULL;

  *out_taken = FALSE;
  if (*s != '#')
    goto done;
  s = skip_blanks (s + 1);
  name = s;
  if (!g_ascii_isalpha (*s))
    goto done;
  while (g_ascii_isalnum (*s))
    s++;
  name_len = s - name;
  s = skip_blanks (s);
  if (*s != '=')
    goto done;
  value = strip_copy (s + 1);
  if (value[0] == '\0')
    goto done;
  lower = g_ascii_strdown (name, name_len);

  if (strcmp (lower, "escape") == 0)
    {
      if (p->seen_escape)
        return fail_at (p, lineno, error, "only one escape parser directive can be used", line);
      p->seen_escape = TRUE;
      if (strcmp (value, "\\") != 0 && strcmp (value, "`") != 0)
        return fail_at (p, lineno, error, "the escape directive takes \\ or ` only", line);
      p->escape = value[0];
    }
  else if (strcmp (lower, "syntax") == 0)
    {
      if (p->seen_syntax)
        return fail_at (p, lineno, error, "only one syntax parser directive can be used", line);
      p->seen_syntax = TRUE;
      p->file->syntax = g_steal_pointer (&value);
    }
  else if (strcmp (lower, "check") == 0)
    {
      /* buildkit's build-check settings: known, so no comment, but unused. */
      if (p->seen_check)
        return fail_at (p, lineno, error, "only one check parser directive can be used", line);
      p->seen_check = TRUE;
    }
  else
    goto done;
  *out_taken = TRUE;
  return TRUE;

done:
  p->directives_done = TRUE;
  return TRUE;
}

/* ---- lines ---- */

/* Appends @line to @out without a trailing escape character (and the
 * blanks after it); TRUE when there was one, i.e. the next line continues
 * this one (docker's `\\[ \t]*$`). */
static gboolean
append_continued (GString *out, const char *line, char escape)
{
  gsize len = strlen (line);
  gsize end = len;

  while (end > 0 && (line[end - 1] == ' ' || line[end - 1] == '\t'))
    end--;
  if (end > 0 && line[end - 1] == escape)
    {
      g_string_append_len (out, line, end - 1);
      return TRUE;
    }
  g_string_append (out, line);
  return FALSE;
}

/* Reads the logical line that starts at line @first (its text without the
 * leading blanks): continuation lines are appended, comment lines and
 * blank lines inside the continuation skipped, as docker does. */
static char *
read_logical_line (Parser *p, const char *first)
{
  GString *out = g_string_new (NULL);
  gboolean more = append_continued (out, first, p->escape);

  while (more && p->next < p->n_lines)
    {
      const char *line = p->lines[p->next++];
      const char *s = skip_blanks (line);

      if (*s == '#' || *s == '\0')
        continue;
      more = append_continued (out, line, p->escape);
    }
  return g_string_free (out, FALSE);
}

/* ---- flags ---- */

/* Docker's extractBuilderFlags: words that start with "--" at the start of
 * @rest, quotes and backslashes in them interpreted; a lone "--" ends the
 * flags. Returns where the arguments start. */
static const char *
extract_flags (const char *rest, GPtrArray *flags)
{
  const char *s = rest;

  for (;;)
    {
      g_autoptr (GString) word = g_string_new (NULL);
      gboolean has_eq = FALSE;
      gsize eq_at = 0;
      char quote = 0;
      HutchBuildFlag *flag;

      s = skip_blanks (s);
      if (s[0] != '-' || s[1] != '-')
        return s;
      s += 2;
      for (; *s != '\0' && (quote != 0 || !is_blank (*s)); s++)
        {
          if (quote != 0 && *s == quote)
            {
              quote = 0;
              continue;
            }
          if (quote == 0 && (*s == '\'' || *s == '"'))
            {
              quote = *s;
              continue;
            }
          if (*s == '\\')
            {
              if (s[1] == '\0')
                continue;
              s++;
            }
          if (*s == '=' && !has_eq && quote == 0)
            {
              has_eq = TRUE;
              eq_at = word->len;
            }
          g_string_append_c (word, *s);
        }
      if (word->len == 0 && !has_eq)
        return skip_blanks (s); /* "--": the end of the flags */
      flag = g_new0 (HutchBuildFlag, 1);
      if (has_eq)
        {
          flag->name = g_ascii_strdown (word->str, eq_at);
          flag->value = g_strdup (word->str + eq_at + 1);
        }
      else
        flag->name = g_ascii_strdown (word->str, -1);
      g_ptr_array_add (flags, flag);
    }
}

/* ---- the JSON form ---- */

/* Docker's parseMaybeJSON: arguments that start with "[" and parse as a
 * JSON array are the exec form; an array holding anything but strings is
 * an error; anything else that does not parse is the shell form. */
static gboolean
parse_json_form (Parser *p, HutchBuildInstruction *inst, const char *text, GError **error)
{
  g_autoptr (HutchJsonNode) node = NULL;
  g_autoptr (GPtrArray) argv = NULL;

  if (text[0] != '[')
    return TRUE;
  node = hutch_json_parse (text, strlen (text), NULL);
  if (node == NULL || node->type != HUTCH_JSON_ARRAY)
    return TRUE;
  argv = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; i < node->n_members; i++)
    {
      if (node->members[i]->type != HUTCH_JSON_STRING)
        return fail_at (p, inst->line, error,
                        "when using JSON array syntax, arrays must be comprised of strings only",
                        inst->original);
      g_ptr_array_add (argv, g_strdup (node->members[i]->string));
    }
  g_ptr_array_add (argv, NULL);
  inst->json = TRUE;
  inst->argv = (char **) g_ptr_array_free (g_steal_pointer (&argv), FALSE);
  return TRUE;
}

/* HEALTHCHECK NONE, or HEALTHCHECK CMD and a command in either form. */
static gboolean
parse_healthcheck (Parser *p, HutchBuildInstruction *inst, GError **error)
{
  const char *s = inst->args;
  gsize len = 0;

  while (s[len] != '\0' && !is_blank (s[len]))
    len++;
  if (len == 4 && g_ascii_strncasecmp (s, "NONE", 4) == 0)
    {
      if (*skip_blanks (s + len) != '\0')
        return fail_at (p, inst->line, error, "HEALTHCHECK NONE takes no arguments",
                        inst->original);
      return TRUE;
    }
  if (len == 3 && g_ascii_strncasecmp (s, "CMD", 3) == 0)
    {
      if (*skip_blanks (s + len) == '\0')
        return fail_at (p, inst->line, error, "HEALTHCHECK CMD needs a command",
                        inst->original);
      return parse_json_form (p, inst, skip_blanks (s + len), error);
    }
  return fail_at (p, inst->line, error, "HEALTHCHECK takes CMD or NONE", inst->original);
}

/* ---- here-documents ---- */

static const char *
no_variables (const char *name, gpointer data)
{
  return NULL;
}

/* Docker's parseHeredoc on a raw word: ^(\d*)<<(-?)([^<]*)$ with a
 * non-empty rest, which without its quotes is the delimiter; a quote
 * anywhere in it means no expansion. NULL (and no error) when @word is no
 * marker. */
static HutchBuildHeredoc *
heredoc_from_word (Parser *p, HutchBuildInstruction *inst, const char *word,
                   gboolean *out_chomp, GError **error)
{
  const char *s = word;
  gboolean chomp = FALSE;
  g_autofree char *name = NULL;
  g_autoptr (GError) local_error = NULL;
  HutchBuildHeredoc *doc;

  while (g_ascii_isdigit (*s))
    s++;
  if (!g_str_has_prefix (s, "<<"))
    return NULL;
  s += 2;
  if (*s == '-')
    {
      chomp = TRUE;
      s++;
    }
  if (*s == '\0' || strchr (s, '<') != NULL)
    return NULL;
  /* Docker lexes the delimiter with "\" whatever the escape directive. */
  name = hutch_build_expand_word (s, '\\', no_variables, NULL, &local_error);
  if (name == NULL)
    {
      fail_at (p, inst->line, error, "bad here-document delimiter", word);
      return NULL;
    }
  if (name[0] == '\0')
    return NULL;
  doc = g_new0 (HutchBuildHeredoc, 1);
  doc->delimiter = g_steal_pointer (&name);
  doc->expand = strpbrk (s, "'\"") == NULL;
  *out_chomp = chomp;
  return doc;
}

static char *
read_heredoc_body (Parser *p, HutchBuildInstruction *inst, const char *delimiter,
                   gboolean chomp, GError **error)
{
  g_autoptr (GString) body = g_string_new (NULL);

  while (p->next < p->n_lines)
    {
      const char *line = p->lines[p->next++];

      if (chomp)
        while (*line == '\t')
          line++;
      if (strcmp (line, delimiter) == 0)
        return g_string_free (g_steal_pointer (&body), FALSE);
      g_string_append (body, line);
      g_string_append_c (body, '\n');
    }
  {
    g_autofree char *what = g_strdup_printf ("unterminated here-document (no line \"%s\")",
                                             delimiter);
    fail_at (p, inst->line, error, what, inst->original);
  }
  return NULL;
}

/* The markers in @inst's arguments, then their bodies from the lines that
 * follow the instruction, in order. */
static gboolean
read_heredocs (Parser *p, HutchBuildInstruction *inst, GError **error)
{
  g_auto (GStrv) words = NULL;
  g_autoptr (GArray) chomps = NULL;

  if (inst->json || strstr (inst->args, "<<") == NULL)
    return TRUE;
  words = hutch_build_split_raw_words (inst->args, '\\');
  chomps = g_array_new (FALSE, FALSE, sizeof (gboolean));
  for (gsize i = 0; words[i] != NULL; i++)
    {
      g_autoptr (GError) local_error = NULL;
      gboolean chomp = FALSE;
      HutchBuildHeredoc *doc = heredoc_from_word (p, inst, words[i], &chomp, &local_error);

      if (local_error != NULL)
        {
          g_propagate_error (error, g_steal_pointer (&local_error));
          return FALSE;
        }
      if (doc == NULL)
        continue;
      g_ptr_array_add (inst->heredocs, doc);
      g_array_append_val (chomps, chomp);
    }
  for (guint i = 0; i < inst->heredocs->len; i++)
    {
      HutchBuildHeredoc *doc = g_ptr_array_index (inst->heredocs, i);

      doc->body = read_heredoc_body (p, inst, doc->delimiter,
                                     g_array_index (chomps, gboolean, i), error);
      if (doc->body == NULL)
        return FALSE;
    }
  return TRUE;
}

/* ---- instructions ---- */

static HutchBuildInstruction *parse_instruction (Parser *p, const char *line, guint lineno,
                                                 gboolean in_onbuild, GError **error);

static gboolean
parse_onbuild (Parser *p, HutchBuildInstruction *inst, GError **error)
{
  HutchBuildKind kind;

  inst->inner = parse_instruction (p, inst->args, inst->line, TRUE, error);
  if (inst->inner == NULL)
    return FALSE;
  kind = inst->inner->kind;
  if (kind == HUTCH_BUILD_ONBUILD || kind == HUTCH_BUILD_FROM || kind == HUTCH_BUILD_MAINTAINER)
    {
      g_autofree char *what = g_strdup_printf ("%s isn't allowed as an ONBUILD trigger",
                                               hutch_build_kind_name (kind));
      return fail_at (p, inst->line, error, what, inst->original);
    }
  return TRUE;
}

/* Parses one logical line (@line, continuations joined). Inside ONBUILD
 * the line is the trigger, and here-documents are read for it too. */
static HutchBuildInstruction *
parse_instruction (Parser *p, const char *line, guint lineno, gboolean in_onbuild,
                   GError **error)
{
  g_autofree char *original = strip_copy (line);
  g_autoptr (HutchBuildInstruction) inst = NULL;
  const char *s = original;
  const char *rest;
  HutchBuildKind kind;
  guint traits;
  gsize kw_len = 0;

  while (s[kw_len] != '\0' && !is_blank (s[kw_len]))
    kw_len++;
  if (!kind_lookup (s, kw_len, &kind))
    return fail_at (p, lineno, error, "unknown instruction", original), NULL;
  traits = kind_traits (kind);
  inst = instruction_new (kind, lineno, in_onbuild ? line : original);
  if (in_onbuild)
    g_strstrip (inst->original);

  rest = extract_flags (s + kw_len, inst->flags);
  inst->args = strip_copy (rest);
  if (inst->flags->len > 0 && !(traits & K_FLAGS))
    {
      const HutchBuildFlag *flag = g_ptr_array_index (inst->flags, 0);
      g_autofree char *what = g_strdup_printf ("unknown flag for %s: --%s",
                                               hutch_build_kind_name (kind), flag->name);
      return fail_at (p, lineno, error, what, original), NULL;
    }
  if (inst->args[0] == '\0' && !(traits & K_EMPTY_OK))
    {
      g_autofree char *what = g_strdup_printf ("%s requires at least one argument",
                                               hutch_build_kind_name (kind));
      return fail_at (p, lineno, error, what, original), NULL;
    }

  if ((traits & K_JSON) && !parse_json_form (p, inst, inst->args, error))
    return NULL;
  if (kind == HUTCH_BUILD_SHELL && !inst->json)
    return fail_at (p, lineno, error, "SHELL requires the arguments to be in JSON form",
                    original),
           NULL;
  if (kind == HUTCH_BUILD_SHELL && inst->argv[0] == NULL)
    return fail_at (p, lineno, error, "SHELL requires at least one argument", original), NULL;
  if (kind == HUTCH_BUILD_HEALTHCHECK && !parse_healthcheck (p, inst, error))
    return NULL;
  if (kind == HUTCH_BUILD_ONBUILD && !parse_onbuild (p, inst, error))
    return NULL;
  if ((traits & K_HEREDOC) && !read_heredocs (p, inst, error))
    return NULL;
  return g_steal_pointer (&inst);
}

/* ---- stages ---- */

static gboolean
valid_stage_name (const char *name)
{
  if (!g_ascii_islower (name[0]))
    return FALSE;
  for (const char *s = name; *s != '\0'; s++)
    if (!g_ascii_islower (*s) && !g_ascii_isdigit (*s) && *s != '_' && *s != '.' && *s != '-')
      return FALSE;
  return TRUE;
}

/* FROM [--platform=P] image [AS name]. Takes @from. */
static gboolean
add_stage (Parser *p, HutchBuildInstruction *from, GError **error)
{
  g_autoptr (HutchBuildInstruction) inst = from;
  g_auto (GStrv) words = g_strsplit_set (inst->args, " \t\v\f\r\n", -1);
  g_autoptr (GPtrArray) parts = g_ptr_array_new ();
  HutchBuildStage *stage;

  for (gsize i = 0; words[i] != NULL; i++)
    if (words[i][0] != '\0')
      g_ptr_array_add (parts, words[i]);
  if (!(parts->len == 1
        || (parts->len == 3 && g_ascii_strcasecmp (g_ptr_array_index (parts, 1), "as") == 0)))
    return fail_at (p, inst->line, error, "FROM requires either one or three arguments",
                    inst->original);

  stage = g_new0 (HutchBuildStage, 1);
  stage->line = inst->line;
  stage->base = g_strdup (g_ptr_array_index (parts, 0));
  stage->instructions = g_ptr_array_new_with_free_func (instruction_free);
  for (guint i = 0; i < inst->flags->len; i++)
    {
      const HutchBuildFlag *flag = g_ptr_array_index (inst->flags, i);
      if (strcmp (flag->name, "platform") == 0)
        {
          g_free (stage->platform);
          stage->platform = g_strdup (flag->value != NULL ? flag->value : "");
        }
    }
  if (parts->len == 3)
    stage->name = g_ascii_strdown (g_ptr_array_index (parts, 2), -1);
  stage->from = g_steal_pointer (&inst);
  g_ptr_array_add (p->file->stages, stage);

  if (stage->name == NULL)
    return TRUE;
  if (!valid_stage_name (stage->name))
    return fail_at (p, stage->line, error,
                    "invalid name for build stage (a letter, then letters, digits, \"_\", "
                    "\".\" or \"-\")",
                    stage->from->original);
  for (guint i = 0; i + 1 < p->file->stages->len; i++)
    {
      const HutchBuildStage *other = g_ptr_array_index (p->file->stages, i);
      if (g_strcmp0 (other->name, stage->name) == 0)
        {
          g_autofree char *what = g_strdup_printf ("duplicate stage name \"%s\" (line %u has it)",
                                                   stage->name, other->line);
          return fail_at (p, stage->line, error, what, stage->from->original);
        }
    }
  return TRUE;
}

/* Takes @inst. */
static gboolean
place_instruction (Parser *p, HutchBuildInstruction *inst, GError **error)
{
  HutchBuildStage *stage;

  if (inst->kind == HUTCH_BUILD_FROM)
    return add_stage (p, inst, error);
  if (p->file->stages->len == 0)
    {
      g_autoptr (HutchBuildInstruction) owned = inst;
      g_autofree char *what = NULL;

      if (inst->kind == HUTCH_BUILD_ARG)
        {
          g_ptr_array_add (p->file->global_args, g_steal_pointer (&owned));
          return TRUE;
        }
      what = g_strdup_printf ("%s before the first FROM (only ARG may come before it)",
                              hutch_build_kind_name (inst->kind));
      return fail_at (p, inst->line, error, what, inst->original);
    }
  stage = g_ptr_array_index (p->file->stages, p->file->stages->len - 1);
  g_ptr_array_add (stage->instructions, inst);
  return TRUE;
}

/* ---- the file ---- */

static gboolean
check_text (const char *text, gsize len, const char *filename, GError **error)
{
  const char *bad;

  if (len > HUTCH_BUILD_FILE_MAX_SIZE)
    return hutch_throw (error, HUTCH_ERROR_USAGE, "%s: over %u bytes (%" G_GSIZE_FORMAT ")",
                        filename, (guint) HUTCH_BUILD_FILE_MAX_SIZE, len);
  if (memchr (text, '\0', len) != NULL)
    return hutch_throw (error, HUTCH_ERROR_USAGE, "%s: holds a NUL byte (not a text file)",
                        filename);
  if (!g_utf8_validate (text, len, &bad))
    {
      guint line = 1;
      for (const char *s = text; s < bad; s++)
        line += *s == '\n';
      return hutch_throw (error, HUTCH_ERROR_USAGE, "%s:%u: not UTF-8", filename, line);
    }
  return TRUE;
}

/* Lines as Go's bufio.ScanLines gives them: no final empty line after a
 * last \n, a \r before each \n dropped. */
static void
split_lines (Parser *p, const char *text, gsize len)
{
  g_autofree char *copy = g_strndup (text, len);

  if (len > 0 && copy[len - 1] == '\n')
    copy[len - 1] = '\0';
  p->lines = len > 0 ? g_strsplit (copy, "\n", -1) : g_new0 (char *, 1);
  p->n_lines = g_strv_length (p->lines);
  for (guint i = 0; i < p->n_lines; i++)
    {
      gsize l = strlen (p->lines[i]);
      if (l > 0 && p->lines[i][l - 1] == '\r')
        p->lines[i][l - 1] = '\0';
    }
  /* A byte-order mark before the first line is no text. */
  if (p->n_lines > 0 && g_str_has_prefix (p->lines[0], "\xEF\xBB\xBF"))
    memmove (p->lines[0], p->lines[0] + 3, strlen (p->lines[0] + 3) + 1);
}

static gboolean
parse_lines (Parser *p, GError **error)
{
  while (p->next < p->n_lines)
    {
      guint lineno = p->next + 1;
      const char *line = p->lines[p->next++];
      const char *s = skip_blanks (line);
      g_autofree char *logical = NULL;
      HutchBuildInstruction *inst;

      if (!p->directives_done)
        {
          gboolean taken;
          if (!parse_directive (p, line, lineno, &taken, error))
            return FALSE;
          if (taken)
            continue;
        }
      if (*s == '#' || *s == '\0')
        continue;
      logical = read_logical_line (p, s);
      if (*skip_blanks (logical) == '\0')
        continue;
      inst = parse_instruction (p, logical, lineno, FALSE, error);
      if (inst == NULL || !place_instruction (p, inst, error))
        return FALSE;
    }
  return TRUE;
}

HutchBuildFile *
hutch_build_file_parse (const char *text, gsize len, const char *filename, GError **error)
{
  g_autoptr (HutchBuildFile) file = NULL;
  Parser p = { 0 };

  if (!check_text (text, len, filename, error))
    return NULL;
  file = g_new0 (HutchBuildFile, 1);
  file->escape = '\\';
  file->global_args = g_ptr_array_new_with_free_func (instruction_free);
  file->stages = g_ptr_array_new_with_free_func (stage_free);
  p.filename = filename;
  p.escape = '\\';
  p.file = file;
  split_lines (&p, text, len);

  if (!parse_lines (&p, error))
    {
      g_strfreev (p.lines);
      return NULL;
    }
  g_strfreev (p.lines);
  file->escape = p.escape;
  if (file->stages->len == 0)
    {
      hutch_throw (error, HUTCH_ERROR_USAGE, "%s: no FROM instruction (a build starts FROM an "
                   "image, after ARGs only)", filename);
      return NULL;
    }
  return g_steal_pointer (&file);
}
