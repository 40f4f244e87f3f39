/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* hutch stats [--no-stream] [--format json] [CONTAINER...]: what each
 * running container's cgroup says: CPU % (over the time between two
 * readings), memory use and limit, block I/O, pids; and the network
 * traffic of its namespace (from its pid 1's /proc/PID/net/dev). A
 * container without a cgroup of its own (a cgroup v1 or hybrid host, --cgroups=disabled) has
 * no numbers of its own, and hutch says so instead of showing its
 * monitor's. */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli-private.h"
#include "container/container.h"

typedef struct
{
  HutchContainer *c;
  char *dir;            /* its own cgroup, or NULL */
  HutchCgroupStats s0, s1;
  gint64 t0, t1;        /* monotonic, usec */
  gint64 net_rx, net_tx; /* bytes, its interfaces but lo; -1: unknown */
} Row;

static void
row_clear (gpointer p)
{
  Row *r = p;

  hutch_container_free (r->c);
  g_free (r->dir);
}

static gint64
mem_total (void)
{
  g_autofree char *text = hutch_util_read_host_file ("/proc/meminfo", 65536, NULL);
  const char *at = text != NULL ? strstr (text, "MemTotal:") : NULL;

  return at != NULL ? g_ascii_strtoll (at + 9, NULL, 10) * 1024 : 0;
}

/* What the interfaces of @r's network namespace but lo have received and
 * sent; with the host's network, unknown (they are the host's). */
static void
net_read (Row *r)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/net/dev", (int) r->c->init_pid);
  g_autofree char *text = NULL;
  g_auto (GStrv) lines = NULL;

  r->net_rx = r->net_tx = -1;
  if (g_strcmp0 (r->c->network, "host") == 0 || r->c->init_pid <= 0
      || (text = hutch_util_read_host_file (path, 1 << 20, NULL)) == NULL)
    return;
  r->net_rx = r->net_tx = 0;
  lines = g_strsplit (text, "\n", -1);
  for (char **l = lines; *l != NULL; l++)
    {
      char *colon = strchr (*l, ':');
      g_autofree char *name = colon != NULL ? g_strstrip (g_strndup (*l, (gsize) (colon - *l))) : NULL;
      guint64 v[9];
      if (name == NULL || strcmp (name, "lo") == 0
          || sscanf (colon + 1, "%" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT
                                " %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT
                                " %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT,
                     &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7], &v[8]) != 9)
        continue;
      r->net_rx += (gint64) v[0]; /* receive: bytes first */
      r->net_tx += (gint64) v[8]; /* transmit: bytes after the eight receive columns */
    }
}

static void
sample (GArray *rows, gboolean second)
{
  for (guint i = 0; i < rows->len; i++)
    {
      Row *r = &g_array_index (rows, Row, i);
      HutchCgroupStats *s = second ? &r->s1 : &r->s0;
      if (r->dir == NULL || !hutch_cgroup_stats_read (r->dir, s, NULL))
        memset (s, 0xff, sizeof *s); /* -1: gone or none */
      *(second ? &r->t1 : &r->t0) = g_get_monotonic_time ();
      if (second)
        net_read (r);
    }
}

static double
cpu_percent (const Row *r)
{
  if (r->s0.cpu_usec < 0 || r->s1.cpu_usec < 0 || r->t1 <= r->t0)
    return -1;
  return 100.0 * (double) (r->s1.cpu_usec - r->s0.cpu_usec) / (double) (r->t1 - r->t0);
}

static void
print_rows (GArray *rows, HutchFormat format, gint64 total)
{
  g_autoptr (HutchJsonWriter) w = format == HUTCH_FORMAT_JSON ? hutch_json_writer_new (TRUE) : NULL;

  if (w != NULL)
    hutch_json_begin_array (w);
  else
    printf ("%-14s %-24s %-8s %-24s %-8s %-22s %-22s %s\n", "CONTAINER ID", "NAME", "CPU %",
            "MEM USAGE / LIMIT", "MEM %", "NET I/O", "BLOCK I/O", "PIDS");
  for (guint i = 0; i < rows->len; i++)
    {
      const Row *r = &g_array_index (rows, Row, i);
      const HutchCgroupStats *s = &r->s1;
      gint64 limit = s->memory_limit > 0 ? s->memory_limit : total;
      double cpu = cpu_percent (r);
      double mem = s->memory >= 0 && limit > 0 ? 100.0 * (double) s->memory / (double) limit : -1;
      g_autofree char *net_rx = hutch_cli_format_size (MAX (r->net_rx, 0));
      g_autofree char *net_tx = hutch_cli_format_size (MAX (r->net_tx, 0));
      g_autofree char *net_pair = r->net_rx >= 0 ? g_strdup_printf ("%s / %s", net_rx, net_tx)
                                                 : g_strdup ("--");
      if (w != NULL)
        {
          hutch_json_begin_object (w);
          hutch_json_member_string (w, "ID", r->c->id);
          hutch_json_member_string (w, "Name", r->c->name);
          hutch_json_member_bool (w, "Cgroup", r->dir != NULL);
          hutch_json_key (w, "CPUPerc");
          cpu >= 0 ? hutch_json_double (w, cpu) : hutch_json_string (w, NULL);
          hutch_json_member_int (w, "MemUsage", s->memory);
          hutch_json_member_int (w, "MemLimit", limit);
          hutch_json_member_int (w, "NetInput", r->net_rx);
          hutch_json_member_int (w, "NetOutput", r->net_tx);
          hutch_json_member_int (w, "BlockRead", s->io_read);
          hutch_json_member_int (w, "BlockWrite", s->io_write);
          hutch_json_member_int (w, "PIDs", s->pids);
          hutch_json_member_int (w, "PIDsLimit", s->pids_limit);
          hutch_json_end_object (w);
          continue;
        }
      if (r->dir == NULL)
        {
          printf ("%-14.12s %-24s %-8s %-24s %-8s %-22s %-22s %s\n", r->c->id, r->c->name, "--", "--",
                  "--", net_pair, "--", "--");
          continue;
        }
      {
        g_autofree char *use = hutch_cli_format_size (MAX (s->memory, 0));
        g_autofree char *lim = hutch_cli_format_size (limit);
        g_autofree char *rd = hutch_cli_format_size (MAX (s->io_read, 0));
        g_autofree char *wr = hutch_cli_format_size (MAX (s->io_write, 0));
        g_autofree char *cpu_text = g_strdup_printf ("%.2f%%", MAX (cpu, 0));
        g_autofree char *mem_text = g_strdup_printf ("%.2f%%", MAX (mem, 0));
        g_autofree char *mem_pair = g_strdup_printf ("%s / %s", use, lim);
        g_autofree char *io_pair = g_strdup_printf ("%s / %s", rd, wr);
        printf ("%-14.12s %-24s %-8s %-24s %-8s %-22s %-22s %" G_GINT64_FORMAT "\n", r->c->id,
                r->c->name, cpu_text, mem_pair, mem_text, net_pair, io_pair, MAX (s->pids, 0));
      }
    }
  if (w != NULL)
    {
      g_autofree char *text = NULL;
      hutch_json_end_array (w);
      text = hutch_json_writer_finish (w);
      printf ("%s\n", text);
    }
  fflush (stdout);
}

/* The running containers named (all when none is), each with its own
 * cgroup when it has one. */
static GArray *
collect (HutchContext *ctx, int argc, char **argv, gboolean *out_none_own, GError **error)
{
  g_autoptr (GArray) rows = g_array_new (FALSE, TRUE, sizeof (Row));
  g_autoptr (GPtrArray) all = NULL;

  g_array_set_clear_func (rows, row_clear);
  *out_none_own = FALSE;
  if (argc < 2 && (all = hutch_container_list (ctx, error)) == NULL)
    return NULL;
  for (guint i = 0; i < (argc >= 2 ? (guint) argc - 1 : all->len); i++)
    {
      Row r = { 0 };
      g_autofree char *base = NULL;
      if (argc >= 2)
        {
          g_autofree char *id = hutch_container_resolve (ctx, argv[i + 1], error);
          if (id == NULL || (r.c = hutch_container_load (ctx, id, error)) == NULL)
            return NULL;
          if (r.c->status != HUTCH_CONTAINER_RUNNING)
            {
              hutch_throw (error, HUTCH_ERROR_USAGE, "container %s is not running", r.c->name);
              hutch_container_free (r.c);
              return NULL;
            }
        }
      else if (((HutchContainer *) all->pdata[i])->status == HUTCH_CONTAINER_RUNNING)
        r.c = g_steal_pointer (&all->pdata[i]);
      else
        continue;
      r.dir = hutch_cgroup_dir_of_pid (r.c->init_pid);
      base = r.dir != NULL ? g_path_get_basename (r.dir) : NULL;
      if (base == NULL || !g_str_has_prefix (base, "hutch-"))
        {
          g_clear_pointer (&r.dir, g_free);
          *out_none_own = TRUE;
        }
      g_array_append_val (rows, r);
    }
  return g_steal_pointer (&rows);
}

static int
run_stats (const HutchCliCommand *cmd, HutchContext *ctx, int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *format_text = NULL;
  gboolean no_stream = FALSE, none_own = FALSE;
  HutchFormat format = HUTCH_FORMAT_TEXT;
  gint64 total = mem_total ();
  int status;
  const GOptionEntry entries[] = {
    { "no-stream", 0, 0, G_OPTION_ARG_NONE, &no_stream, "One reading, then exit", NULL },
    { "format", 0, 0, G_OPTION_ARG_STRING, &format_text, "table (default) or json", "FORMAT" },
    { NULL },
  };

  if (!hutch_cli_parse (cmd, entries, &argc, &argv, &status))
    return status;
  if (!hutch_cli_format_parse (format_text, &format, &error))
    return hutch_cli_usage_error (cmd, "%s", error->message);
  for (;;)
    {
      g_autoptr (GArray) rows = collect (ctx, argc, argv, &none_own, &error);
      if (rows == NULL)
        return hutch_cli_fail (g_steal_pointer (&error));
      if (none_own)
        {
          HutchCgroupCaps caps;
          hutch_cgroup_caps_probe (&caps);
          fprintf (stderr, "hutch: %s: they run without a cgroup of their own (%s; see \"hutch "
                           "check\")\n",
                   argc >= 2 ? "some of these containers have no numbers of their own"
                             : "containers shown with -- have no numbers of their own",
                   caps.version != HUTCH_CGROUP_V2 ? "this host mounts cgroup v1" : "--cgroups=disabled, or no delegation");
          hutch_cgroup_caps_clear (&caps);
        }
      sample (rows, FALSE);
      /* the reading's window: CPU % is the time used between two readings */
      g_usleep (no_stream ? 500 * 1000 : 1000 * 1000);
      sample (rows, TRUE);
      if (!no_stream && isatty (STDOUT_FILENO))
        printf ("\033[2J\033[H");
      print_rows (rows, format, total);
      if (no_stream || (argc < 2 && rows->len == 0))
        return 0;
    }
}

const HutchCliCommand hutch_cli_command_stats = {
  "stats", "[OPTIONS] [CONTAINER...]", "Show running containers' CPU, memory, I/O and pids", run_stats,
};
