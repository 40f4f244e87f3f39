/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* hutch top CONTAINER [ps OPTIONS]: the container's processes, by their
 * host pids as docker shows them. Without options, docker's columns (those
 * of ps -ef: UID PID PPID C STIME TTY TIME CMD) read from /proc; with
 * them, the host's procps ps run with them, and its lines of the
 * container's pids kept. */
#include "config.h"

#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli-private.h"
#include "container/container.h"

typedef struct
{
  gint64 boot;  /* the host's boot time, unix seconds */
  long tck;     /* clock ticks a second */
  gint64 now;
} Clock;

/* /proc/PID/stat's fields after "(comm)": field 3 (state) is [0]. */
static char **
stat_fields (pid_t pid)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/stat", (int) pid);
  g_autofree char *text = hutch_util_read_host_file (path, 4096, NULL);
  const char *close = text != NULL ? strrchr (text, ')') : NULL;

  return close != NULL ? g_strsplit (close + 2, " ", -1) : NULL;
}

static char *
uid_text (pid_t pid)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/status", (int) pid);
  g_autofree char *text = hutch_util_read_host_file (path, 16384, NULL);
  const char *line = text != NULL ? strstr (text, "\nUid:") : NULL;
  struct passwd *pw;
  uid_t uid;

  if (line == NULL)
    return g_strdup ("?");
  uid = (uid_t) g_ascii_strtoull (line + 5, NULL, 10);
  pw = getpwuid (uid);
  return pw != NULL ? g_strdup (pw->pw_name) : g_strdup_printf ("%u", (unsigned) uid);
}

static char *
cmd_text (pid_t pid, const char *comm_fallback)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/cmdline", (int) pid);
  g_autofree char *text = NULL;
  gsize len = 0;

  if (!g_file_get_contents (path, &text, &len, NULL) || len == 0)
    return g_strdup_printf ("[%s]", comm_fallback);
  for (gsize i = 0; i + 1 < len; i++)
    if (text[i] == '\0')
      text[i] = ' ';
  return g_strndup (text, len);
}

static char *
comm_text (pid_t pid)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/comm", (int) pid);
  g_autofree char *text = hutch_util_read_host_file (path, 256, NULL);

  return text != NULL ? g_strstrip (g_steal_pointer (&text)) : g_strdup ("?");
}

static char *
tty_text (guint64 nr)
{
  guint major = major ((dev_t) nr), minor = minor ((dev_t) nr);

  if (nr == 0)
    return g_strdup ("?");
  if (major >= 136 && major <= 143)
    return g_strdup_printf ("pts/%u", (major - 136) * 256 + minor);
  if (major == 4 && minor < 64)
    return g_strdup_printf ("tty%u", minor);
  return g_strdup ("?");
}

/* As ps: HH:MM when started today (the last 24 hours), else MonDD. */
static char *
stime_text (const Clock *clk, guint64 start_ticks)
{
  gint64 start = clk->boot + (gint64) (start_ticks / (guint64) clk->tck);
  g_autoptr (GDateTime) t = g_date_time_new_from_unix_local (start);

  if (t == NULL)
    return g_strdup ("?");
  return g_date_time_format (t, clk->now - start < 86400 ? "%H:%M" : "%b%d");
}

/* One row of the default columns; NULL when the process has gone. */
static char **
default_row (const Clock *clk, pid_t pid)
{
  g_auto (GStrv) f = stat_fields (pid);
  g_autofree char *comm = NULL;
  guint64 cpu_ticks, start_ticks;
  gint64 cpu, elapsed;
  char **row;

  /* fields (from 3): state ppid pgrp session tty_nr tpgid flags minflt
   * cminflt majflt cmajflt utime stime ... starttime (22) */
  if (f == NULL || g_strv_length (f) < 20)
    return NULL;
  cpu_ticks = g_ascii_strtoull (f[11], NULL, 10) + g_ascii_strtoull (f[12], NULL, 10);
  start_ticks = g_ascii_strtoull (f[19], NULL, 10);
  cpu = (gint64) (cpu_ticks / (guint64) clk->tck);
  elapsed = clk->now - (clk->boot + (gint64) (start_ticks / (guint64) clk->tck));
  comm = comm_text (pid);
  row = g_new0 (char *, 9);
  row[0] = uid_text (pid);
  row[1] = g_strdup_printf ("%d", (int) pid);
  row[2] = g_strdup (f[1]);
  /* ps's C: the percent of its life it spent on a CPU */
  row[3] = g_strdup_printf ("%" G_GINT64_FORMAT, elapsed > 0 ? cpu * 100 / elapsed : 0);
  row[4] = stime_text (clk, start_ticks);
  row[5] = tty_text (g_ascii_strtoull (f[4], NULL, 10));
  row[6] = g_strdup_printf ("%02" G_GINT64_FORMAT ":%02" G_GINT64_FORMAT ":%02" G_GINT64_FORMAT,
                            cpu / 3600, cpu / 60 % 60, cpu % 60);
  row[7] = cmd_text (pid, comm);
  return row;
}

static gint64
boot_time (void)
{
  g_autofree char *text = hutch_util_read_host_file ("/proc/stat", 1024 * 1024, NULL);
  const char *line = text != NULL ? strstr (text, "\nbtime ") : NULL;

  return line != NULL ? g_ascii_strtoll (line + 7, NULL, 10) : 0;
}

/* Rows in columns as docker's tabwriter sets them: 20 wide at least, 3
 * spaces between, the last as it is. */
static void
print_columns (GPtrArray *rows, guint n)
{
  g_autofree gsize *width = g_new0 (gsize, n);

  for (guint r = 0; r < rows->len; r++)
    for (guint k = 0; k + 1 < n; k++)
      width[k] = MAX (MAX (width[k], (gsize) g_utf8_strlen (((char **) rows->pdata[r])[k], -1) + 3),
                      20);
  for (guint r = 0; r < rows->len; r++)
    {
      char **row = rows->pdata[r];
      for (guint k = 0; k < n; k++)
        printf ("%s%*s", row[k],
                k + 1 < n ? (int) (width[k] - (gsize) g_utf8_strlen (row[k], -1)) : 0, "");
      printf ("\n");
    }
}

static int
top_default (GArray *pids)
{
  static const char *const head[] = { "UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD", NULL };
  g_autoptr (GPtrArray) rows = g_ptr_array_new_with_free_func ((GDestroyNotify) g_strfreev);
  Clock clk = { boot_time (), sysconf (_SC_CLK_TCK), g_get_real_time () / G_USEC_PER_SEC };

  if (clk.tck <= 0)
    clk.tck = 100;
  g_ptr_array_add (rows, g_strdupv ((char **) head));
  for (guint i = 0; i < pids->len; i++)
    {
      char **row = default_row (&clk, g_array_index (pids, pid_t, i));
      if (row != NULL)
        g_ptr_array_add (rows, row);
    }
  print_columns (rows, G_N_ELEMENTS (head) - 1);
  return 0;
}

/* ps @opts -p PIDS, with the lines of other pids dropped (-e or aux
 * among @opts would list every process of the host). */
static int
top_ps (GArray *pids, int n_opts, char **opts)
{
  g_autofree char *ps = g_find_program_in_path ("ps");
  g_autoptr (GPtrArray) args = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GString) list = g_string_new (NULL);
  g_autoptr (GError) error = NULL;
  g_autofree char *out = NULL, *err = NULL;
  g_auto (GStrv) lines = NULL;
  g_autoptr (GHashTable) want = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_auto (GStrv) head = NULL;
  int wait_status, pid_col = -1;

  if (ps == NULL)
    return hutch_cli_fail (g_error_new (HUTCH_ERROR, HUTCH_ERROR_HOST_UNSUPPORTED,
                                        "top with ps options runs the host's ps, which is not "
                                        "installed: install procps (sudo apt-get install "
                                        "procps), or run top without options"));
  for (guint i = 0; i < pids->len; i++)
    g_string_append_printf (list, "%s%d", i > 0 ? "," : "", (int) g_array_index (pids, pid_t, i));
  g_ptr_array_add (args, g_strdup (ps));
  for (int i = 0; i < n_opts; i++)
    g_ptr_array_add (args, g_strdup (opts[i]));
  g_ptr_array_add (args, g_strdup ("-p"));
  g_ptr_array_add (args, g_strdup (list->str));
  g_ptr_array_add (args, NULL);
  if (!g_spawn_sync (NULL, (char **) args->pdata, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, &err,
                     &wait_status, &error))
    return hutch_cli_fail (g_error_new (HUTCH_ERROR, HUTCH_ERROR_FAILED, "running %s: %s", ps,
                                        error->message));
  if (!g_spawn_check_wait_status (wait_status, NULL))
    {
      g_autofree char *given = g_strjoinv (" ", opts);
      return hutch_cli_fail (g_error_new (HUTCH_ERROR, HUTCH_ERROR_USAGE,
                                          "top: ps refused the options \"%s\": %s", given,
                                          g_strstrip (err)));
    }
  lines = g_strsplit (out, "\n", -1);
  if (lines[0] == NULL || *lines[0] == '\0')
    return 0;
  {
    g_autofree char *first = g_strstrip (g_strdup (lines[0]));
    head = g_strsplit_set (first, " \t", -1);
  }
  {
    int k = 0;
    for (char **h = head; *h != NULL; h++)
      if (**h != '\0')
        {
          if (strcmp (*h, "PID") == 0)
            pid_col = k;
          k++;
        }
  }
  for (guint i = 0; i < pids->len; i++)
    g_hash_table_add (want, g_strdup_printf ("%d", (int) g_array_index (pids, pid_t, i)));
  printf ("%s\n", lines[0]);
  for (char **l = lines + 1; *l != NULL; l++)
    {
      g_auto (GStrv) cells = NULL;
      int k = 0;
      gboolean keep = pid_col < 0;
      if (**l == '\0')
        continue;
      cells = g_strsplit_set (*l, " \t", -1);
      for (char **c = cells; !keep && *c != NULL; c++)
        if (**c != '\0' && k++ == pid_col)
          keep = g_hash_table_contains (want, *c);
      if (keep)
        printf ("%s\n", *l);
    }
  return 0;
}

static int
run_top (const HutchCliCommand *cmd, HutchContext *ctx, int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *id = NULL;
  g_autoptr (GArray) pids = NULL;
  int status;

  /* what follows the container is ps's, -o and -e included */
  if (!hutch_cli_parse_posix (cmd, NULL, &argc, &argv, &status))
    return status;
  if (argc < 2)
    return hutch_cli_usage_error (cmd, "name a container");
  if ((id = hutch_container_resolve (ctx, argv[1], &error)) == NULL
      || (pids = hutch_container_pids (ctx, id, &error)) == NULL)
    return hutch_cli_fail (g_steal_pointer (&error));
  if (argc > 2)
    return top_ps (pids, argc - 2, argv + 2);
  return top_default (pids);
}

const HutchCliCommand hutch_cli_command_top = {
  "top", "CONTAINER [ps OPTIONS]",
  "Show a container's processes (docker's columns, or ps's with its options)",
  run_top,
};
