/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Health checks, as docker keeps them: the check (--health-cmd and the
 * other --health-* flags, else the image's Healthcheck) in the container's
 * healthcheck.json, its results in health.json (status, failing streak,
 * the last five runs). With no daemon, a check runs when `hutch
 * healthcheck run` is called (by hand, cron, or the systemd timer podman
 * users know); nothing runs it on its own, and the docs say so. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "container-private.h"
#include "store/store.h"

#define CHECK_FILE "healthcheck.json"
#define STATE_FILE "health.json"
#define NS_PER_SEC G_GINT64_CONSTANT (1000000000)
#define DEFAULT_INTERVAL (30 * NS_PER_SEC)
#define DEFAULT_TIMEOUT (30 * NS_PER_SEC)
#define DEFAULT_RETRIES 3
#define LOG_KEEP 5
#define OUTPUT_MAX 4096 /* docker keeps the first 4 KiB of a run's output */

gboolean
hutch_container_duration_parse (const char *flag, const char *text, gint64 *out_ns, GError **error)
{
  static const struct
  {
    const char *unit;
    gint64 ns;
  } units[] = { { "ns", 1 }, { "us", 1000 }, { "ms", 1000000 }, { "s", NS_PER_SEC },
                { "m", 60 * NS_PER_SEC }, { "h", 3600 * NS_PER_SEC } };
  const char *p = text;
  gint64 total = 0;

  /* Go's time.ParseDuration, as docker reads these flags: 1m30s, 500ms */
  if (*p == '\0')
    goto bad;
  while (*p != '\0')
    {
      char *end;
      double v = g_ascii_strtod (p, &end);
      gsize best = 0;
      gint64 mult = 0;
      if (end == p || v < 0)
        goto bad;
      for (gsize i = 0; i < G_N_ELEMENTS (units); i++)
        if (g_str_has_prefix (end, units[i].unit) && strlen (units[i].unit) > best
            && !(units[i].unit[0] == 'm' && units[i].unit[1] == '\0' && end[1] == 's'))
          best = strlen (units[i].unit), mult = units[i].ns;
      if (best == 0 || v * (double) mult > (double) G_MAXINT64 / 2)
        goto bad;
      total += (gint64) (v * (double) mult);
      p = end + best;
    }
  *out_ns = total;
  return TRUE;
bad:
  return hutch_throw (error, HUTCH_ERROR_USAGE, "%s %s: a duration, as 30s, 1m30s or 500ms", flag, text);
}

/* The test the flags make, else the image's (NULL when there is none). */
static const HutchJsonNode *
image_check (const HutchImageConfig *image)
{
  const HutchJsonNode *h = hutch_json_node_member (image->config, "Healthcheck");

  return h != NULL && h->type == HUTCH_JSON_OBJECT ? h : NULL;
}

static gint64
int_of (const HutchJsonNode *obj, const char *key)
{
  const HutchJsonNode *n = hutch_json_node_member (obj, key);

  return n != NULL && n->is_int ? n->integer : 0;
}

gboolean
hutch_container_health_config_write (const char *dir, const HutchRunOptions *o,
                                     const HutchImageConfig *image, GError **error)
{
  const HutchJsonNode *from_image = image_check (image);
  const HutchJsonNode *image_test = hutch_json_node_member (from_image, "Test");
  g_autoptr (HutchJsonWriter) w = hutch_json_writer_new (TRUE);
  g_autofree char *path = g_build_filename (dir, CHECK_FILE, NULL);
  g_autofree char *text = NULL;
  gint64 interval = int_of (from_image, "Interval"), timeout = int_of (from_image, "Timeout");
  gint64 start = int_of (from_image, "StartPeriod"), retries = int_of (from_image, "Retries");

  if (o->no_healthcheck && o->health_cmd != NULL)
    return hutch_throw (error, HUTCH_ERROR_USAGE, "--no-healthcheck with --health-cmd: choose one");
  if (o->no_healthcheck || (o->health_cmd == NULL && image_test == NULL))
    return TRUE;
  if ((o->health_interval != NULL
       && !hutch_container_duration_parse ("--health-interval", o->health_interval, &interval, error))
      || (o->health_timeout != NULL
          && !hutch_container_duration_parse ("--health-timeout", o->health_timeout, &timeout, error))
      || (o->health_start_period != NULL
          && !hutch_container_duration_parse ("--health-start-period", o->health_start_period, &start,
                                              error)))
    return FALSE;
  if (o->health_retries != 0)
    retries = o->health_retries;
  if (retries < 0)
    return hutch_throw (error, HUTCH_ERROR_USAGE, "--health-retries %" G_GINT64_FORMAT ": 0 or more",
                        retries);
  hutch_json_begin_object (w);
  hutch_json_key (w, "Test");
  hutch_json_begin_array (w);
  if (o->health_cmd != NULL)
    {
      hutch_json_string (w, "CMD-SHELL");
      hutch_json_string (w, o->health_cmd);
    }
  else
    for (guint i = 0; i < image_test->n_members; i++)
      hutch_json_string (w, image_test->members[i]->string != NULL ? image_test->members[i]->string : "");
  hutch_json_end_array (w);
  hutch_json_member_int (w, "Interval", interval);
  hutch_json_member_int (w, "Timeout", timeout);
  hutch_json_member_int (w, "StartPeriod", start);
  hutch_json_member_int (w, "Retries", retries);
  hutch_json_end_object (w);
  text = hutch_json_writer_finish (w);
  return hutch_util_replace_file (path, text, strlen (text), 0600, TRUE, error);
}

static HutchJsonNode *
read_json (const char *dir, const char *name)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  g_autofree char *text = NULL;
  gsize len;

  if (!g_file_get_contents (path, &text, &len, NULL))
    return NULL;
  return hutch_json_parse (text, len, NULL);
}

/* health.json, if it is of the container's current run (a restart
 * starts over at "starting"). */
static HutchJsonNode *
current_state (const char *dir, const HutchContainer *c)
{
  HutchJsonNode *state = read_json (dir, STATE_FILE);

  if (state != NULL && int_of (state, "Started") != c->started_at)
    g_clear_pointer (&state, hutch_json_node_free);
  return state;
}

/* The check's command: CMD's words, or CMD-SHELL's through /bin/sh -c;
 * NULL for NONE or a test hutch cannot read. */
static char **
check_argv (const HutchJsonNode *test)
{
  GPtrArray *a;
  const char *kind;

  if (test == NULL || test->type != HUTCH_JSON_ARRAY || test->n_members < 2)
    return NULL;
  kind = test->members[0]->string;
  a = g_ptr_array_new ();
  if (g_strcmp0 (kind, "CMD-SHELL") == 0)
    {
      g_ptr_array_add (a, g_strdup ("/bin/sh"));
      g_ptr_array_add (a, g_strdup ("-c"));
      g_ptr_array_add (a, g_strdup (test->members[1]->string != NULL ? test->members[1]->string : ""));
    }
  else if (g_strcmp0 (kind, "CMD") == 0)
    for (guint i = 1; i < test->n_members; i++)
      g_ptr_array_add (a, g_strdup (test->members[i]->string != NULL ? test->members[i]->string : ""));
  else
    {
      g_ptr_array_free (a, TRUE);
      return NULL;
    }
  g_ptr_array_add (a, NULL);
  return (char **) g_ptr_array_free (a, FALSE);
}

/* Runs @argv in the container through exec, in a child whose output we
 * read, for at most @timeout_ns; its exit code, -1 when it timed out. */
static int
run_check (const HutchContext *ctx, const char *id, char **argv, gint64 timeout_ns, GString *output)
{
  int fds[2];
  pid_t pid;
  int status = 0;
  gint64 deadline = g_get_monotonic_time () + timeout_ns / 1000;
  gboolean timed_out = FALSE;

  if (pipe2 (fds, O_CLOEXEC) < 0)
    return g_string_append (output, g_strerror (errno)), 1;
  fflush (stdout);
  fflush (stderr);
  hutch_util_assert_single_thread ();
  pid = fork ();
  if (pid < 0)
    {
      close (fds[0]);
      close (fds[1]);
      return g_string_append (output, g_strerror (errno)), 1;
    }
  if (pid == 0)
    {
      HutchExecOptions eo = { .command = argv };
      HutchSandboxResult result = { 0 };
      g_autoptr (GError) error = NULL;
      int null = open ("/dev/null", O_RDONLY | O_CLOEXEC);
      (void) setpgid (0, 0);
      if (null < 0 || dup2 (null, 0) < 0 || dup2 (fds[1], 1) < 0 || dup2 (fds[1], 2) < 0)
        _exit (125);
      if (!hutch_container_exec (ctx, id, &eo, &result, &error))
        {
          dprintf (2, "%s\n", error->message);
          _exit (125);
        }
      if (result.exec_error != NULL)
        dprintf (2, "%s\n", result.exec_error);
      _exit (result.status);
    }
  close (fds[1]);
  for (;;)
    {
      struct pollfd p = { fds[0], POLLIN, 0 };
      gint64 left = (deadline - g_get_monotonic_time ()) / 1000;
      char buf[4096];
      ssize_t n;
      if (left <= 0)
        {
          timed_out = TRUE;
          break;
        }
      if (poll (&p, 1, (int) MIN (left, G_MAXINT)) < 0 && errno != EINTR)
        break;
      if (p.revents == 0)
        continue;
      n = read (fds[0], buf, sizeof buf);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        break;
      if (output->len < OUTPUT_MAX)
        g_string_append_len (output, buf, MIN ((gsize) n, OUTPUT_MAX - output->len));
    }
  close (fds[0]);
  if (timed_out)
    (void) kill (-pid, SIGKILL);
  while (waitpid (pid, &status, 0) < 0 && errno == EINTR)
    ;
  if (timed_out)
    return -1;
  return WIFEXITED (status) ? WEXITSTATUS (status) : 128 + WTERMSIG (status);
}

static void
write_log_entry (HutchJsonWriter *w, const HutchJsonNode *old)
{
  hutch_json_begin_object (w);
  for (guint i = 0; i < old->n_members; i++)
    {
      hutch_json_key (w, old->keys[i]);
      hutch_json_write_node (w, old->members[i]);
    }
  hutch_json_end_object (w);
}

gboolean
hutch_container_health_run (const HutchContext *ctx, const char *id, char **out_status,
                            GError **error)
{
  g_autoptr (HutchContainer) c = hutch_container_load (ctx, id, error);
  g_autofree char *dir = hutch_container_dir (ctx, id);
  g_autoptr (HutchJsonNode) check = NULL, state = NULL;
  g_autoptr (HutchJsonWriter) w = NULL;
  g_autoptr (GString) output = g_string_new (NULL);
  g_auto (GStrv) argv = NULL;
  g_autofree char *start = NULL, *end = NULL, *text = NULL, *path = NULL;
  const HutchJsonNode *log;
  gint64 retries, started_ns, now = g_get_real_time ();
  gint64 streak;
  int code;
  const char *status;
  gboolean in_start_period;

  if (c == NULL)
    return FALSE;
  check = read_json (dir, CHECK_FILE);
  argv = check_argv (hutch_json_node_member (check, "Test"));
  if (argv == NULL)
    return hutch_throw (error, HUTCH_ERROR_USAGE,
                        "container %s has no health check (give one with run --health-cmd, or a "
                        "HEALTHCHECK in the image)", c->name);
  if (c->status != HUTCH_CONTAINER_RUNNING)
    return hutch_throw (error, HUTCH_ERROR_USAGE,
                        "container %s is not running: its health check runs in it (start it first)",
                        c->name);
  start = hutch_container_time_text (now);
  code = run_check (ctx, id, argv, int_of (check, "Timeout") > 0 ? int_of (check, "Timeout") : DEFAULT_TIMEOUT,
                    output);
  end = hutch_container_time_text (g_get_real_time ());
  if (code < 0)
    g_string_assign (output, "Health check exceeded timeout");
  state = current_state (dir, c);
  streak = int_of (state, "FailingStreak");
  retries = int_of (check, "Retries") > 0 ? int_of (check, "Retries") : DEFAULT_RETRIES;
  started_ns = (now - c->started_at) * 1000;
  /* failures in the start period do not count, as docker */
  in_start_period = started_ns < int_of (check, "StartPeriod");
  status = hutch_json_node_member (state, "Status") != NULL
               && hutch_json_node_member (state, "Status")->type == HUTCH_JSON_STRING
             ? hutch_json_node_member (state, "Status")->string
             : "starting";
  if (code == 0)
    streak = 0, status = "healthy";
  else if (!in_start_period && ++streak >= retries)
    status = "unhealthy";
  w = hutch_json_writer_new (TRUE);
  hutch_json_begin_object (w);
  hutch_json_member_string (w, "Status", status);
  hutch_json_member_int (w, "FailingStreak", streak);
  hutch_json_member_int (w, "Started", c->started_at); /* of this run of the container */
  hutch_json_key (w, "Log");
  hutch_json_begin_array (w);
  log = hutch_json_node_member (state, "Log");
  for (guint i = log != NULL && log->type == HUTCH_JSON_ARRAY && log->n_members >= LOG_KEEP
                   ? log->n_members - LOG_KEEP + 1 : 0;
       log != NULL && log->type == HUTCH_JSON_ARRAY && i < log->n_members; i++)
    if (log->members[i]->type == HUTCH_JSON_OBJECT)
      write_log_entry (w, log->members[i]);
  hutch_json_begin_object (w);
  hutch_json_member_string (w, "Start", start);
  hutch_json_member_string (w, "End", end);
  hutch_json_member_int (w, "ExitCode", code);
  hutch_json_member_string (w, "Output", output->str);
  hutch_json_end_object (w);
  hutch_json_end_array (w);
  hutch_json_end_object (w);
  text = hutch_json_writer_finish (w);
  path = g_build_filename (dir, STATE_FILE, NULL);
  if (!hutch_util_replace_file (path, text, strlen (text), 0600, FALSE, error))
    return FALSE;
  *out_status = g_strdup (status);
  return TRUE;
}

void
hutch_container_health_inspect (const HutchContext *ctx, const HutchContainer *c, HutchJsonWriter *w,
                                gboolean config)
{
  g_autofree char *dir = hutch_container_dir (ctx, c->id);
  g_autoptr (HutchJsonNode) check = read_json (dir, CHECK_FILE);
  g_autoptr (HutchJsonNode) state = NULL;

  if (check == NULL)
    return;
  if (config)
    {
      hutch_json_key (w, "Healthcheck");
      hutch_json_write_node (w, check);
      return;
    }
  state = current_state (dir, c);
  hutch_json_key (w, "Health");
  if (state != NULL)
    {
      hutch_json_write_node (w, state);
      return;
    }
  hutch_json_begin_object (w);
  hutch_json_member_string (w, "Status", "starting");
  hutch_json_member_int (w, "FailingStreak", 0);
  hutch_json_key (w, "Log");
  hutch_json_begin_array (w);
  hutch_json_end_array (w);
  hutch_json_end_object (w);
}

char *
hutch_container_health_status (const HutchContext *ctx, const HutchContainer *c)
{
  g_autofree char *dir = hutch_container_dir (ctx, c->id);
  g_autoptr (HutchJsonNode) check = read_json (dir, CHECK_FILE);
  g_autoptr (HutchJsonNode) state = NULL;
  const HutchJsonNode *s;

  if (check == NULL || c->status != HUTCH_CONTAINER_RUNNING)
    return NULL;
  state = current_state (dir, c);
  s = hutch_json_node_member (state, "Status");
  return g_strdup (s != NULL && s->type == HUTCH_JSON_STRING ? s->string : "starting");
}
