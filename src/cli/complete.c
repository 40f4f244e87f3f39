/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Shell completion: `hutch completion bash|zsh|fish` prints a script, and
 * the script asks the hidden `hutch __complete WORD...` for the candidates
 * of the last word. Commands come from the command table, options from the
 * very entries each command parses with (the command is run, in a child,
 * with HUTCH_CLI_COMPLETE_ENV set, and prints them), and arguments from
 * the store: container names and ids, image names, volume names. Nothing
 * to drift. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli-private.h"
#include "container/container.h"
#include "store/store.h"

/* What a positional argument of a command is. */
typedef enum
{
  ARG_FILE,      /* a path: the shell completes it */
  ARG_CONTAINER,
  ARG_IMAGE,
  ARG_COMMAND,   /* a hutch command (help) */
  ARG_SHELL,     /* completion */
  ARG_CP,        /* CONTAINER:PATH or a path */
  ARG_VOLUME,
} ArgKind;

typedef struct
{
  const char *name; /* a command, or "GROUP SUB" */
  ArgKind first;    /* its first positional argument */
  ArgKind rest;     /* the others */
} ArgRule;

/* Commands not here take paths (or nothing). */
static const ArgRule arg_rules[] = {
  { "run", ARG_IMAGE, ARG_FILE },
  { "create", ARG_IMAGE, ARG_FILE },
  { "start", ARG_CONTAINER, ARG_CONTAINER },
  { "stop", ARG_CONTAINER, ARG_CONTAINER },
  { "kill", ARG_CONTAINER, ARG_CONTAINER },
  { "restart", ARG_CONTAINER, ARG_CONTAINER },
  { "wait", ARG_CONTAINER, ARG_CONTAINER },
  { "rm", ARG_CONTAINER, ARG_CONTAINER },
  { "logs", ARG_CONTAINER, ARG_FILE },
  { "exec", ARG_CONTAINER, ARG_FILE },
  { "diff", ARG_CONTAINER, ARG_FILE },
  { "commit", ARG_CONTAINER, ARG_IMAGE },
  { "export", ARG_CONTAINER, ARG_FILE },
  { "port", ARG_CONTAINER, ARG_FILE },
  { "stats", ARG_CONTAINER, ARG_CONTAINER },
  { "inspect", ARG_CONTAINER, ARG_CONTAINER },
  { "cp", ARG_CP, ARG_CP },
  { "rmi", ARG_IMAGE, ARG_IMAGE },
  { "tag", ARG_IMAGE, ARG_IMAGE },
  { "push", ARG_IMAGE, ARG_FILE },
  { "save", ARG_IMAGE, ARG_IMAGE },
  { "image rm", ARG_IMAGE, ARG_IMAGE },
  { "image inspect", ARG_IMAGE, ARG_IMAGE },
  { "image tag", ARG_IMAGE, ARG_IMAGE },
  { "image push", ARG_IMAGE, ARG_FILE },
  { "image save", ARG_IMAGE, ARG_IMAGE },
  { "help", ARG_COMMAND, ARG_FILE },
  { "completion", ARG_SHELL, ARG_FILE },
  { "volume rm", ARG_VOLUME, ARG_VOLUME },
  { "volume inspect", ARG_VOLUME, ARG_VOLUME },
  { "rename", ARG_CONTAINER, ARG_FILE },
  { "attach", ARG_CONTAINER, ARG_FILE },
  { "healthcheck run", ARG_CONTAINER, ARG_FILE },
  { "top", ARG_CONTAINER, ARG_FILE },
  { "pause", ARG_CONTAINER, ARG_CONTAINER },
  { "unpause", ARG_CONTAINER, ARG_CONTAINER },
  { "history", ARG_IMAGE, ARG_FILE },
  { "image history", ARG_IMAGE, ARG_FILE },
};

/* The global options: "NAME\tTAKES_VALUE", as the commands print theirs. */
static const char *const global_options[] = {
  "--root\t1", "--runroot\t1", "--log-level\t1", "--version\t0", "-v\t0", "--help\t0", "-h\t0", NULL,
};

/* What `hutch PATH... ` prints with HUTCH_CLI_COMPLETE_ENV set (its
 * options, or a group's "@SUB" lines), as lines; run in a child, as the
 * command may go on to print a usage error or exit. */
static GPtrArray *
ask_command (const HutchCliCommand *cmd, HutchContext *ctx, char **path, int n)
{
  GPtrArray *lines = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GString) text = g_string_new (NULL);
  g_auto (GStrv) split = NULL;
  int fds[2];
  pid_t pid;
  char buf[4096];
  ssize_t got;

  if (pipe2 (fds, O_CLOEXEC) < 0)
    return lines;
  fflush (stdout);
  pid = fork ();
  if (pid < 0)
    {
      close (fds[0]);
      close (fds[1]);
      return lines;
    }
  if (pid == 0)
    {
      g_autofree char **argv = g_new0 (char *, (gsize) n + 1);
      memcpy (argv, path, sizeof (char *) * (gsize) n);
      if (dup2 (fds[1], STDOUT_FILENO) < 0)
        _exit (1);
      if (freopen ("/dev/null", "w", stderr) == NULL || freopen ("/dev/null", "r", stdin) == NULL)
        _exit (1);
      g_setenv (HUTCH_CLI_COMPLETE_ENV, "1", TRUE);
      cmd->run (cmd, ctx, n, argv);
      fflush (stdout);
      _exit (0);
    }
  close (fds[1]);
  while ((got = read (fds[0], buf, sizeof buf)) != 0)
    {
      if (got < 0 && errno == EINTR)
        continue;
      if (got < 0)
        break;
      g_string_append_len (text, buf, got);
    }
  close (fds[0]);
  while (waitpid (pid, NULL, 0) < 0 && errno == EINTR)
    ;
  split = g_strsplit (text->str, "\n", -1);
  for (char **l = split; *l != NULL; l++)
    if (**l != '\0')
      g_ptr_array_add (lines, g_strdup (*l));
  return lines;
}

/* Whether option @word takes a value, by @options ("NAME\tN" lines). */
static gboolean
takes_value (GPtrArray *options, const char *word)
{
  if (strchr (word, '=') != NULL)
    return FALSE;
  for (guint i = 0; i < options->len; i++)
    {
      const char *o = options->pdata[i];
      const char *tab = strchr (o, '\t');
      if (tab != NULL && strncmp (o, word, (gsize) (tab - o)) == 0 && word[tab - o] == '\0')
        return tab[1] == '1';
    }
  /* -abc: a run of short flags; the last may take a value */
  return FALSE;
}

static void
offer (GPtrArray *out, const char *cur, const char *candidate)
{
  if (g_str_has_prefix (candidate, cur))
    g_ptr_array_add (out, g_strdup (candidate));
}

static void
offer_options (GPtrArray *out, const char *cur, GPtrArray *options)
{
  for (guint i = 0; i < options->len; i++)
    {
      g_autofree char *name = g_strdup (options->pdata[i]);
      char *tab = strchr (name, '\t');
      if (tab != NULL)
        *tab = '\0';
      /* "-" alone: the long forms only, as docker's scripts offer */
      if (strlen (cur) < 2 && name[1] != '-')
        continue;
      offer (out, cur, name);
    }
}

static void
offer_containers (GPtrArray *out, HutchContext *ctx, const char *cur, const char *suffix)
{
  g_autoptr (GPtrArray) list = hutch_container_list (ctx, NULL);

  for (guint i = 0; list != NULL && i < list->len; i++)
    {
      const HutchContainer *c = list->pdata[i];
      g_autofree char *name = g_strconcat (c->name, suffix, NULL);
      g_autofree char *id = g_strdup_printf ("%.12s%s", c->id, suffix);
      offer (out, cur, name);
      /* ids only once one is being typed: names are what people type */
      if (*cur != '\0' && g_ascii_isxdigit (*cur))
        offer (out, cur, id);
    }
}

static void
offer_images (GPtrArray *out, HutchContext *ctx, const char *cur)
{
  g_autoptr (HutchStore) store = hutch_store_open (ctx->root, FALSE, NULL);
  g_autoptr (GPtrArray) images = store != NULL ? hutch_store_images_list (store, NULL) : NULL;

  for (guint i = 0; images != NULL && i < images->len; i++)
    {
      const HutchStoreImage *image = images->pdata[i];
      for (guint j = 0; image->names != NULL && j < image->names->len; j++)
        {
          const char *name = image->names->pdata[j];
          offer (out, cur, name);
          /* docker.io/library/debian:12 is typed as debian:12 */
          if (g_str_has_prefix (name, "docker.io/library/"))
            offer (out, cur, name + strlen ("docker.io/library/"));
        }
    }
}

static void
offer_volumes (GPtrArray *out, HutchContext *ctx, const char *cur)
{
  g_autoptr (GPtrArray) volumes = hutch_store_volume_list (ctx->root, NULL);

  for (guint i = 0; volumes != NULL && i < volumes->len; i++)
    offer (out, cur, ((const HutchStoreVolume *) volumes->pdata[i])->name);
}

static const ArgRule *
rule_for (const char *name)
{
  for (gsize i = 0; i < G_N_ELEMENTS (arg_rules); i++)
    if (strcmp (arg_rules[i].name, name) == 0)
      return &arg_rules[i];
  return NULL;
}

/* The candidates for the last of @words (the words after "hutch"), and
 * whether the shell should offer paths as well. */
static GPtrArray *
candidates (HutchContext *ctx, char **words, int n, gboolean *out_files)
{
  GPtrArray *out = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GPtrArray) globals = g_ptr_array_new ();
  g_autoptr (GPtrArray) options = NULL;
  g_autofree char *full = NULL;
  const char *cur = words[n - 1];
  const HutchCliCommand *cmd;
  const ArgRule *rule;
  int i = 0, first_arg = -1, npos = 0;
  gboolean after_dashes = FALSE;
  char *path[2];
  int depth = 1;
  ArgKind kind;

  *out_files = FALSE;
  for (const char *const *g = global_options; *g != NULL; g++)
    g_ptr_array_add (globals, (gpointer) *g);
  while (i < n - 1 && words[i][0] == '-')
    {
      /* the store and runroot the words name are the ones to list */
      char **slot = g_str_has_prefix (words[i], "--root") ? &ctx->root
                    : g_str_has_prefix (words[i], "--runroot") ? &ctx->runroot : NULL;
      const char *eq = strchr (words[i], '=');
      const char *value = eq != NULL ? eq + 1 : i + 1 < n - 1 ? words[i + 1] : NULL;
      if (slot != NULL && value != NULL)
        {
          g_free (*slot);
          *slot = g_canonicalize_filename (value, NULL);
        }
      i += takes_value (globals, words[i]) ? 2 : 1;
    }
  if (i >= n - 1)
    {
      if (i > n - 1)
        return *out_files = TRUE, out; /* the value of a global option */
      if (cur[0] == '-')
        {
          g_autoptr (GPtrArray) copy = g_ptr_array_new_with_free_func (g_free);
          for (guint k = 0; k < globals->len; k++)
            g_ptr_array_add (copy, g_strdup (globals->pdata[k]));
          offer_options (out, cur, copy);
          return out;
        }
      for (const HutchCliCommand *const *c = hutch_cli_commands (); *c != NULL; c++)
        if ((*c)->name[0] != '_')
          offer (out, cur, (*c)->name);
      return out;
    }
  cmd = hutch_cli_command_find (words[i]);
  if (cmd == NULL || cmd->name[0] == '_')
    return out;
  path[0] = words[i++];
  options = ask_command (cmd, ctx, path, 1);
  if (options->len > 0 && ((char *) options->pdata[0])[0] == '@')
    {
      /* a group: its subcommand next */
      if (i >= n - 1)
        {
          for (guint k = 0; k < options->len; k++)
            offer (out, cur, (char *) options->pdata[k] + 1);
          return out;
        }
      path[1] = words[i++];
      depth = 2;
      g_ptr_array_unref (options);
      options = ask_command (cmd, ctx, path, 2);
    }
  for (; i < n - 1; i++)
    {
      if (!after_dashes && strcmp (words[i], "--") == 0)
        after_dashes = TRUE;
      else if (!after_dashes && words[i][0] == '-' && words[i][1] != '\0' && first_arg < 0)
        i += takes_value (options, words[i]);
      else
        {
          if (first_arg < 0)
            first_arg = i;
          npos++;
        }
    }
  if (i > n - 1)
    return *out_files = TRUE, out; /* the value of an option */
  if (cur[0] == '-' && !after_dashes && first_arg < 0)
    {
      offer_options (out, cur, options);
      return out;
    }
  full = depth == 2 ? g_strdup_printf ("%s %s", path[0], path[1]) : g_strdup (path[0]);
  rule = rule_for (full);
  kind = rule == NULL ? ARG_FILE : npos == 0 ? rule->first : rule->rest;
  /* run and exec: after the image or container, the command's own words */
  switch (kind)
    {
    case ARG_CONTAINER:
      offer_containers (out, ctx, cur, "");
      break;
    case ARG_IMAGE:
      offer_images (out, ctx, cur);
      break;
    case ARG_VOLUME:
      offer_volumes (out, ctx, cur);
      break;
    case ARG_CP:
      offer_containers (out, ctx, cur, ":");
      *out_files = strchr (cur, ':') == NULL;
      break;
    case ARG_COMMAND:
      for (const HutchCliCommand *const *c = hutch_cli_commands (); *c != NULL; c++)
        if ((*c)->name[0] != '_')
          offer (out, cur, (*c)->name);
      break;
    case ARG_SHELL:
      offer (out, cur, "bash");
      offer (out, cur, "fish");
      offer (out, cur, "zsh");
      break;
    case ARG_FILE:
    default:
      *out_files = TRUE;
      break;
    }
  return out;
}

static int
run_complete (const HutchCliCommand *cmd, HutchContext *ctx, int argc, char **argv)
{
  g_autoptr (GPtrArray) out = NULL;
  char *empty[] = { (char *) "", NULL };
  gboolean files;

  (void) cmd;
  /* argv[0] is "__complete"; the words follow, the last being completed */
  out = argc > 1 ? candidates (ctx, argv + 1, argc - 1, &files) : candidates (ctx, empty, 1, &files);
  /* first line: what the shell adds itself */
  puts (files ? ":files" : ":");
  for (guint i = 0; i < out->len; i++)
    puts (out->pdata[i]);
  return 0;
}

void
hutch_cli_complete_print_options (const GOptionEntry *entries)
{
  for (const GOptionEntry *e = entries; e->long_name != NULL; e++)
    {
      gboolean value = e->arg != G_OPTION_ARG_NONE && !(e->flags & G_OPTION_FLAG_NO_ARG);
      if (e->flags & G_OPTION_FLAG_HIDDEN)
        continue;
      printf ("--%s\t%d\n", e->long_name, value);
      if (e->short_name != 0)
        printf ("-%c\t%d\n", e->short_name, value);
    }
}

/* ---- the scripts ---- */

static const char bash_script[] =
  "# bash completion for hutch (hutch completion bash)\n"
  "_hutch() {\n"
  "  local line=${COMP_LINE:0:COMP_POINT} out cur w\n"
  "  local -a words reply\n"
  "  # split as the shell would, but keep CONTAINER:PATH and --opt=value whole\n"
  "  read -r -a words <<<\"$line\"\n"
  "  [[ $line == *[[:space:]] || ${#words[@]} -eq 0 ]] && words+=(\"\")\n"
  "  cur=${words[-1]}\n"
  "  out=$(\"${words[0]}\" __complete \"${words[@]:1}\" 2>/dev/null) || return\n"
  "  local IFS=$'\\n'\n"
  "  reply=($out)\n"
  "  COMPREPLY=()\n"
  "  # bash replaces only what follows the last ':' or '=' it breaks words at\n"
  "  local keep=\n"
  "  [[ $COMP_WORDBREAKS == *:* && $cur == *:* ]] && keep=${cur%\"${cur##*:}\"}\n"
  "  [[ $COMP_WORDBREAKS == *=* && $cur == *=* && ${cur#*=} != *:* ]] && keep=${cur%\"${cur##*=}\"}\n"
  "  for w in \"${reply[@]:1}\"; do COMPREPLY+=(\"${w#\"$keep\"}\"); done\n"
  "  [[ ${reply[0]} == :files ]] && compopt -o default 2>/dev/null\n"
  "  # a container followed by ':' wants its path next, not a space\n"
  "  [[ ${#COMPREPLY[@]} -eq 1 && ${COMPREPLY[0]} == *: ]] && compopt -o nospace 2>/dev/null\n"
  "  return 0\n"
  "}\n"
  "complete -F _hutch hutch\n";

static const char zsh_script[] =
  "#compdef hutch\n"
  "# zsh completion for hutch (hutch completion zsh)\n"
  "_hutch() {\n"
  "  local -a lines cands\n"
  "  local out\n"
  "  out=$(\"${words[1]}\" __complete \"${(@)words[2,CURRENT]}\" 2>/dev/null) || return 1\n"
  "  lines=(\"${(@f)out}\")\n"
  "  cands=(\"${(@)lines[2,-1]}\")\n"
  "  local ret=1\n"
  "  (( ${#cands} )) && compadd -S '' -Q -- \"${(@)cands:#*:}\" && ret=0\n"
  "  (( ${#cands} )) && compadd -S '' -Q -- \"${(@M)cands:#*:}\" && ret=0\n"
  "  [[ $lines[1] == :files ]] && _files && ret=0\n"
  "  return ret\n"
  "}\n"
  "if [[ $zsh_eval_context[-1] == loadautofunc ]]; then\n"
  "  _hutch \"$@\"\n"
  "else\n"
  "  compdef _hutch hutch\n"
  "fi\n";

static const char fish_script[] =
  "# fish completion for hutch (hutch completion fish)\n"
  "function __hutch_complete\n"
  "    set -l words (commandline -opc) (commandline -ct)\n"
  "    set -l out ($words[1] __complete $words[2..-1] 2>/dev/null)\n"
  "    or return\n"
  "    if test (count $out) -gt 1\n"
  "        printf '%s\\n' $out[2..-1]\n"
  "    end\n"
  "    if test \"$out[1]\" = :files\n"
  "        __fish_complete_path (commandline -ct)\n"
  "    end\n"
  "end\n"
  "complete -c hutch -f -a '(__hutch_complete)'\n";

static int
run_completion (const HutchCliCommand *cmd, HutchContext *ctx, int argc, char **argv)
{
  int status;

  (void) ctx;
  if (!hutch_cli_parse (cmd, NULL, &argc, &argv, &status))
    return status;
  if (argc != 2)
    return hutch_cli_usage_error (cmd, "name one shell: bash, zsh or fish");
  if (strcmp (argv[1], "bash") == 0)
    fputs (bash_script, stdout);
  else if (strcmp (argv[1], "zsh") == 0)
    fputs (zsh_script, stdout);
  else if (strcmp (argv[1], "fish") == 0)
    fputs (fish_script, stdout);
  else
    return hutch_cli_usage_error (cmd, "unknown shell \"%s\" (bash, zsh or fish)", argv[1]);
  return 0;
}

const HutchCliCommand hutch_cli_command_completion = {
  "completion", "bash|zsh|fish",
  "Print the shell completion script for bash, zsh or fish",
  run_completion,
};

const HutchCliCommand hutch_cli_command_complete = {
  "__complete", "WORD...",
  "The candidates for the last word (what the completion scripts call)",
  run_complete,
};
