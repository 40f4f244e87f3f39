/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What the command files of cli/ share: the command table entry, option
 * parsing with hutch's usage errors, and turning a GError into an exit. */
#pragma once

#include <stdio.h>
#include <glib.h>

#include "layer/layer.h"
#include "registry/registry.h"
#include "util/util.h"

G_BEGIN_DECLS

#define HUTCH_EXIT_FAILURE 125 /* hutch itself failed, or was misused */

typedef struct HutchCliCommand HutchCliCommand;

struct HutchCliCommand
{
  const char *name;
  const char *params;  /* after "hutch NAME", e.g. "[OPTIONS] IMAGE" */
  const char *summary; /* one line for `hutch --help` */
  int (*run) (const HutchCliCommand *cmd, HutchContext *ctx, int argc, char **argv);
};

extern const HutchCliCommand hutch_cli_command_check;
extern const HutchCliCommand hutch_cli_command_commit;
extern const HutchCliCommand hutch_cli_command_build;
extern const HutchCliCommand hutch_cli_command_container;
extern const HutchCliCommand hutch_cli_command_create;
extern const HutchCliCommand hutch_cli_command_diff;
extern const HutchCliCommand hutch_cli_command_exec;
extern const HutchCliCommand hutch_cli_command_generate;
extern const HutchCliCommand hutch_cli_command_cp;
extern const HutchCliCommand hutch_cli_command_export;
extern const HutchCliCommand hutch_cli_command_inspect;
extern const HutchCliCommand hutch_cli_command_kill;
extern const HutchCliCommand hutch_cli_command_logs;
extern const HutchCliCommand hutch_cli_command_port;
extern const HutchCliCommand hutch_cli_command_ps;
extern const HutchCliCommand hutch_cli_command_restart;
extern const HutchCliCommand hutch_cli_command_rm;
extern const HutchCliCommand hutch_cli_command_start;
extern const HutchCliCommand hutch_cli_command_stats;
extern const HutchCliCommand hutch_cli_command_stop;
extern const HutchCliCommand hutch_cli_command_wait;
extern const HutchCliCommand hutch_cli_command_help;
extern const HutchCliCommand hutch_cli_command_image;
extern const HutchCliCommand hutch_cli_command_images;
extern const HutchCliCommand hutch_cli_command_import;
extern const HutchCliCommand hutch_cli_command_info;
extern const HutchCliCommand hutch_cli_command_load;
extern const HutchCliCommand hutch_cli_command_save;
extern const HutchCliCommand hutch_cli_command_login;
extern const HutchCliCommand hutch_cli_command_logout;
extern const HutchCliCommand hutch_cli_command_pull;
extern const HutchCliCommand hutch_cli_command_push;
extern const HutchCliCommand hutch_cli_command_rmi;
extern const HutchCliCommand hutch_cli_command_run;
extern const HutchCliCommand hutch_cli_command_system;
extern const HutchCliCommand hutch_cli_command_tag;
extern const HutchCliCommand hutch_cli_command_unshare;
extern const HutchCliCommand hutch_cli_command_version;
extern const HutchCliCommand hutch_cli_command_healthcheck;
extern const HutchCliCommand hutch_cli_command_attach;
extern const HutchCliCommand hutch_cli_command_events;
extern const HutchCliCommand hutch_cli_command_volume;
extern const HutchCliCommand hutch_cli_command_shell;
extern const HutchCliCommand hutch_cli_command_completion;
extern const HutchCliCommand hutch_cli_command_complete; /* __complete, hidden */
extern const HutchCliCommand hutch_cli_command_rename;
extern const HutchCliCommand hutch_cli_command_pause;
extern const HutchCliCommand hutch_cli_command_unpause;
extern const HutchCliCommand hutch_cli_command_top;
extern const HutchCliCommand hutch_cli_command_history;
extern const HutchCliCommand hutch_cli_command_image_prune; /* in the image group */
extern const HutchCliCommand hutch_cli_command_oci;

/* `hutch oci` and the hutch-runtime link (oci.c): runc's command line,
 * from @argv[0] on. */
int hutch_cli_oci_main (int argc, char **argv);

/* Set in the environment of a command that hutch __complete asks for its
 * options: hutch_cli_parse() then prints them and returns (status 0), and a
 * command group prints its subcommands as "@NAME" lines. */
#define HUTCH_CLI_COMPLETE_ENV "HUTCH_COMPLETE_OPTIONS"
/* "--long\tN" and "-s\tN" lines for @entries (N: 1 when the option takes a
 * value), hidden ones left out. */
void hutch_cli_complete_print_options (const GOptionEntry *entries);

/* The command table, NULL-terminated, in the order of `hutch --help`. */
const HutchCliCommand *const *hutch_cli_commands (void);
const HutchCliCommand *hutch_cli_command_find (const char *name);

/* Parses the options of @cmd from @argc and @argv with @entries (which may be
 * NULL). Returns TRUE to go on; FALSE after printing --help (*@out_status 0)
 * or a usage error with its hint (*@out_status 125). */
gboolean hutch_cli_parse (const HutchCliCommand *cmd, const GOptionEntry *entries, int *argc,
                          char ***argv, int *out_status);

/* As hutch_cli_parse(), for a command that takes options alone: any
 * argument left is a usage error. */
gboolean hutch_cli_parse_no_args (const HutchCliCommand *cmd, const GOptionEntry *entries, int argc,
                                  char **argv, int *out_status);

/* As hutch_cli_parse(), but options end at the first argument that is not
 * one (run IMAGE COMMAND -x: -x is the command's). */
gboolean hutch_cli_parse_posix (const HutchCliCommand *cmd, const GOptionEntry *entries, int *argc,
                                char ***argv, int *out_status);

/* Prints "hutch: usage error" and the hint to see the command's help;
 * returns 125. */
int hutch_cli_usage_error (const HutchCliCommand *cmd, const char *fmt, ...) G_GNUC_PRINTF (2, 3);

/* Prints @error to stderr as "hutch: <message>" and returns its exit status:
 * 125 for hutch's own failures. Takes @error. */
int hutch_cli_fail (GError *error);

/* When @error says a disk is full (ENOSPC, EDQUOT), adds to its message
 * @needed (what the operation needed, or NULL) and what the store at
 * ctx->root holds, what of it frees space and how, and what is free. */
void hutch_cli_explain_full_disk (const HutchContext *ctx, GError *error, const char *needed);

/* --format: "table"/"text" or "json". */
typedef enum
{
  HUTCH_FORMAT_TEXT,
  HUTCH_FORMAT_JSON,
} HutchFormat;

gboolean hutch_cli_format_parse (const char *text, HutchFormat *out_format, GError **error);

/* --format TEMPLATE (format.c): Go templates as docker takes them, on rows
 * that are JSON objects with docker's field names. */
typedef struct
{
  const char *field;  /* "ID" */
  const char *header; /* "CONTAINER ID": what "table {{.ID}}" heads it with */
} HutchCliColumn;

typedef struct HutchCliTemplate HutchCliTemplate;

/* NULL without @error when @text is no template (has no "{{"): then it is
 * one of the command's own formats. A template that does not parse, or
 * names a field no column has, is an error naming the fields there are. */
HutchCliTemplate *hutch_cli_template_new (const char *text, const HutchCliColumn *columns,
                                          gsize n_columns, GError **error);
/* Prints @row (at once, or with "table", at the end, in columns). */
gboolean hutch_cli_template_row (HutchCliTemplate *t, const HutchJsonNode *row, GError **error);
gboolean hutch_cli_template_row_text (HutchCliTemplate *t, const char *row_json, GError **error);
void hutch_cli_template_finish (HutchCliTemplate *t);
void hutch_cli_template_free (HutchCliTemplate *t);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (HutchCliTemplate, hutch_cli_template_free)

/* Runs the subcommand of @group named by argv[1] among @subs (whose names
 * are "GROUP SUB"), or lists them. */
int hutch_cli_run_group (const HutchCliCommand *group, const HutchCliCommand *const *subs,
                         HutchContext *ctx, int argc, char **argv);

/* Human-readable "3 days ago" and "4.3 MB", as docker and podman print. */
char *hutch_cli_format_ago (gint64 unix_time);
char *hutch_cli_format_size (gint64 bytes);

/* docker's own sizes (go-units, 3 digits, no space): "0B", "4.26MB". */
char *hutch_cli_format_size_docker (gint64 bytes);

/* image prune (prune.c), and system prune -a: removes the untagged images
 * (@all: every image) no container uses, then the blobs and layers no
 * image uses; "untagged: NAME" and "deleted: sha256:ID" lines appended to
 * @report; *@out_reclaimed the bytes of blobs that went. */
gboolean hutch_cli_images_prune (HutchContext *ctx, gboolean all, GPtrArray *report,
                                 gint64 *out_reclaimed, GError **error);
/* "Deleted Images:" and its lines (when any), "Total reclaimed space: X". */
void hutch_cli_images_prune_print (GPtrArray *report, gint64 reclaimed);

/* Shared by check and info: probe the host and print it. */
int hutch_cli_host_show (const HutchContext *ctx, HutchFormat format, gboolean exit_by_result);

/* The registry options pull, run and login share: --tls-verify=BOOL,
 * --creds USER:PASSWORD, --authfile FILE. HUTCH_ERROR_USAGE. */
gboolean hutch_cli_registry_options (HutchRegistryOptions *out, const char *tls_text,
                                     const char *creds, const char *authfile, GError **error);
void hutch_cli_registry_options_clear (HutchRegistryOptions *o);

/* Live lines on a terminal, plain ones otherwise, none with @quiet. */
HutchPullProgress hutch_cli_pull_progress (gboolean quiet);

/* Pulls @ref into the store with progress on stderr; @print_name prints
 * the full name on stdout at the end. */
gboolean hutch_cli_pull (HutchContext *ctx, const char *ref, const HutchPullOptions *opts,
                         gboolean print_name, GError **error);

/* run's --pull=@policy (missing, the default; always; never) for @image. */
gboolean hutch_cli_pull_for_run (HutchContext *ctx, const char *image, const char *policy,
                                 const HutchPullOptions *opts, GError **error);

/* --compression-format @text (NULL: gzip): gzip or zstd. HUTCH_ERROR_USAGE. */
gboolean hutch_cli_compression_parse (const char *text, HutchLayerCompression *out, GError **error);

G_END_DECLS
