/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* container/ without a container: config.json written and read back to
 * the same sandbox spec, records saved and loaded (a "running" record
 * without its monitor reads as exited), names and id prefixes resolved,
 * signals and --since parsed, the log's options parsed, its writer's
 * rotation and its failures. */
#include "config.h"

#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "container/container-private.h"

static char *
scratch (void)
{
  g_autoptr (GError) error = NULL;
  char *dir = g_dir_make_tmp ("hutch-unit-XXXXXX", &error);

  g_assert_no_error (error);
  return dir;
}

static void
rm_rf (const char *dir)
{
  g_assert_true (hutch_util_remove_tree_at (AT_FDCWD, dir));
}

static void
test_spec_round_trip (void)
{
  g_autofree char *dir = scratch ();
  g_autoptr (GError) error = NULL;
  HutchIdMap map = { 1000, 1000, g_array_new (FALSE, FALSE, sizeof (HutchIdRange)),
                     g_array_new (FALSE, FALSE, sizeof (HutchIdRange)), FALSE };
  HutchIdRange r = { 100000, 65536 };
  char *lower[] = { "/s/layers/b/diff", "/s/layers/a/diff", NULL };
  char *argv[] = { "sh", "-c", "echo \"hi\" there", NULL };
  char *env[] = { "PATH=/bin", "X=a=b", NULL };
  HutchSandboxMount bind = { "/home/u/data", "/data", TRUE, 0, NULL };
  HutchSandboxMount tmp = { NULL, "/tmp", FALSE, MS_NOSUID | MS_NODEV, "size=64m,mode=1777" };
  HutchSandboxSpec in = { .cleanup_fd = -1 }, out = { .cleanup_fd = -1 };

  g_array_append_val (map.uid_ranges, r);
  g_array_append_val (map.gid_ranges, r);
  in.idmap = &map;
  in.lowerdirs = lower;
  in.hostname = "abc";
  in.argv = argv;
  in.env = env;
  in.cwd = "/work dir";
  in.user = "1000:wheel";
  in.driver = HUTCH_ROOTFS_FUSE_OVERLAYFS;
  in.driver_forced = TRUE;
  in.init = TRUE;
  in.seccomp = FALSE;
  in.tty = TRUE;
  in.input = TRUE;
  in.read_only = TRUE;
  in.caps = (G_GUINT64_CONSTANT (1) << 0) | (G_GUINT64_CONSTANT (1) << 21) | (G_GUINT64_CONSTANT (1) << 40);
  in.mounts = g_ptr_array_new ();
  g_ptr_array_add (in.mounts, &bind);
  g_ptr_array_add (in.mounts, &tmp);
  g_assert_true (hutch_container_spec_write (dir, &in, NULL, TRUE, &error));
  g_assert_no_error (error);
  g_assert_true (hutch_container_spec_read (dir, &out, &error));
  g_assert_no_error (error);
  g_assert_cmpstrv (out.lowerdirs, lower);
  g_assert_cmpstrv (out.argv, argv);
  g_assert_cmpstrv (out.env, env);
  g_assert_cmpstr (out.cwd, ==, "/work dir");
  g_assert_cmpstr (out.user, ==, "1000:wheel");
  g_assert_cmpstr (out.hostname, ==, "abc");
  g_assert_cmpint (out.driver, ==, HUTCH_ROOTFS_FUSE_OVERLAYFS);
  g_assert_true (out.driver_forced && out.init && !out.seccomp && out.tty && out.input && out.read_only);
  g_assert_false (out.network_host);
  g_assert_cmphex (out.caps, ==, in.caps);
  g_assert_cmpuint (out.mounts->len, ==, 2);
  {
    const HutchSandboxMount *b = out.mounts->pdata[0], *t = out.mounts->pdata[1];
    g_assert_cmpstr (b->source, ==, "/home/u/data");
    g_assert_cmpstr (b->target, ==, "/data");
    g_assert_true (b->readonly);
    g_assert_null (t->source);
    g_assert_cmpstr (t->target, ==, "/tmp");
    g_assert_false (t->readonly);
    g_assert_cmphex (t->flags, ==, MS_NOSUID | MS_NODEV);
    g_assert_cmpstr (t->data, ==, "size=64m,mode=1777");
  }
  g_assert_true (g_str_has_suffix (out.upperdir, "/upper"));
  g_ptr_array_unref (in.mounts);
  hutch_container_spec_clear (&out);
  g_array_unref (map.uid_ranges);
  g_array_unref (map.gid_ranges);
  rm_rf (dir);
}

static void
test_spec_refused (void)
{
  g_autofree char *dir = scratch ();
  g_autofree char *path = g_build_filename (dir, "config.json", NULL);
  g_autoptr (GError) error = NULL;
  HutchSandboxSpec out = { .cleanup_fd = -1 };

  g_assert_true (g_file_set_contents (path, "{\"process\": {\"args\": []}}", -1, NULL));
  g_assert_false (hutch_container_spec_read (dir, &out, &error));
  g_assert_nonnull (strstr (error->message, "lacks process.args"));
  hutch_container_spec_clear (&out);
  g_clear_error (&error);
  g_assert_true (g_file_set_contents (path, "{\"process\": {\"args\": [\"x\"], \"capabilities\": "
                                            "{\"bounding\": [\"CAP_NOPE\"]}}}", -1, NULL));
  g_assert_false (hutch_container_spec_read (dir, &out, &error));
  g_assert_nonnull (strstr (error->message, "CAP_NOPE"));
  hutch_container_spec_clear (&out);
  rm_rf (dir);
}

static void
test_records (void)
{
  g_autofree char *root = scratch ();
  g_autofree char *run = scratch ();
  g_autoptr (HutchContext) ctx = hutch_context_new (root, run, HUTCH_LOG_ERROR);
  g_autoptr (GError) error = NULL;
  g_autoptr (HutchContainer) c = g_new0 (HutchContainer, 1);
  g_autoptr (HutchContainer) back = NULL;
  g_autofree char *id = NULL;
  const char *ids[] = { "abcdef0000000000000000000000000000000000000000000000000000000001",
                        "abcdef1100000000000000000000000000000000000000000000000000000002" };
  HutchNetPort p = { TRUE, { 0 }, 5353, 53 };
  char *cmd[] = { "sleep", "1", NULL };

  c->name = g_strdup ("one");
  c->image = g_strdup ("busybox");
  c->image_id = g_strdup ("sha256:x");
  c->command = g_strdupv (cmd);
  c->created = G_GINT64_CONSTANT (1795471389123456);
  c->status = HUTCH_CONTAINER_RUNNING;
  c->ports = g_array_new (FALSE, TRUE, sizeof (HutchNetPort));
  c->bound = g_array_new (FALSE, TRUE, sizeof (HutchNetPort));
  g_array_append_val (c->ports, p);
  c->log = (HutchLogConfig) { HUTCH_LOG_DRIVER_K8S_FILE, 8192, 2 };
  c->log_error = g_strdup ("writing the log: No space left on device");
  for (guint i = 0; i < G_N_ELEMENTS (ids); i++)
    {
      g_autofree char *dir = hutch_container_dir (ctx, ids[i]);
      g_assert_cmpint (g_mkdir_with_parents (dir, 0700), ==, 0);
      g_free (c->id);
      c->id = g_strdup (ids[i]);
      g_assert_true (hutch_container_save (ctx, c, &error));
      g_assert_no_error (error);
    }
  g_assert_true (hutch_container_name_reserve (ctx, "one", ids[0], &error));
  g_assert_false (hutch_container_name_reserve (ctx, "one", ids[1], &error));
  g_assert_error (error, HUTCH_ERROR, HUTCH_ERROR_BUSY);
  g_clear_error (&error);
  g_assert_false (hutch_container_name_reserve (ctx, "-bad", ids[1], &error));
  g_clear_error (&error);
  id = hutch_container_resolve (ctx, "one", &error);
  g_assert_cmpstr (id, ==, ids[0]);
  g_free (id);
  id = hutch_container_resolve (ctx, "abcdef1", &error);
  g_assert_cmpstr (id, ==, ids[1]);
  g_assert_null (hutch_container_resolve (ctx, "abcdef", &error));
  g_assert_error (error, HUTCH_ERROR, HUTCH_ERROR_USAGE);
  g_assert_nonnull (strstr (error->message, "more than one"));
  g_clear_error (&error);
  g_assert_null (hutch_container_resolve (ctx, "ffff", &error));
  g_assert_error (error, HUTCH_ERROR, HUTCH_ERROR_NOT_FOUND);
  g_clear_error (&error);
  back = hutch_container_load (ctx, ids[0], &error);
  g_assert_no_error (error);
  g_assert_cmpstr (back->name, ==, "one");
  g_assert_cmpstrv (back->command, cmd);
  g_assert_cmpint (back->created, ==, c->created);
  g_assert_cmpuint (back->ports->len, ==, 1);
  g_assert_true (g_array_index (back->ports, HutchNetPort, 0).udp);
  g_assert_cmpint (back->log.driver, ==, HUTCH_LOG_DRIVER_K8S_FILE);
  g_assert_cmpint (back->log.max_size, ==, 8192);
  g_assert_cmpint (back->log.max_file, ==, 2);
  g_assert_cmpstr (back->log_error, ==, c->log_error);
  /* recorded running, but no monitor holds the live lock: exited, 137 */
  g_assert_cmpint (back->status, ==, HUTCH_CONTAINER_EXITED);
  g_assert_cmpint (back->exit_code, ==, 137);
  g_assert_nonnull (strstr (back->error, "monitor ended"));
  {
    g_autofree char *ports = hutch_container_ports_text (back);
    g_assert_cmpstr (ports, ==, "0.0.0.0:5353->53/udp");
  }
  hutch_container_name_release (ctx, "one", ids[1]); /* not its: kept */
  g_free (id);
  id = hutch_container_resolve (ctx, "one", &error);
  g_assert_cmpstr (id, ==, ids[0]);
  rm_rf (root);
  rm_rf (run);
}

/* A record of a hutch before --log-opt: the default cap. */
static void
test_record_without_log_config (void)
{
  g_autofree char *root = scratch ();
  g_autofree char *run = scratch ();
  g_autoptr (HutchContext) ctx = hutch_context_new (root, run, HUTCH_LOG_ERROR);
  g_autoptr (GError) error = NULL;
  const char *id = "abcdef0000000000000000000000000000000000000000000000000000000003";
  g_autofree char *dir = hutch_container_dir (ctx, id);
  g_autofree char *path = g_build_filename (dir, "hutch.json", NULL);
  g_autoptr (HutchContainer) c = NULL;

  g_assert_cmpint (g_mkdir_with_parents (dir, 0700), ==, 0);
  g_assert_true (g_file_set_contents (path, "{\"Name\": \"old\", \"Image\": \"busybox\", "
                                            "\"State\": {\"Status\": \"exited\"}}", -1, NULL));
  c = hutch_container_load (ctx, id, &error);
  g_assert_no_error (error);
  g_assert_cmpint (c->log.driver, ==, HUTCH_LOG_DRIVER_K8S_FILE);
  g_assert_cmpint (c->log.max_size, ==, HUTCH_LOG_DEFAULT_MAX_SIZE);
  g_assert_cmpint (c->log.max_file, ==, HUTCH_LOG_DEFAULT_MAX_FILE);
  g_assert_null (c->log_error);
  rm_rf (root);
  rm_rf (run);
}

static void
log_refused (const char *driver, const char *opt, const char *want)
{
  g_autoptr (GError) error = NULL;
  char *opts[] = { (char *) opt, NULL };
  HutchLogConfig c;

  g_assert_false (hutch_log_config_parse (&c, driver, opt != NULL ? opts : NULL, &error));
  g_assert_error (error, HUTCH_ERROR, HUTCH_ERROR_USAGE);
  if (strstr (error->message, want) == NULL)
    g_error ("\"%s\" lacks \"%s\"", error->message, want);
}

static void
test_log_config (void)
{
  g_autoptr (GError) error = NULL;
  char *both[] = { "max-size=10k,max-file=2", NULL };
  char *docker[] = { "max-size=20mb", "max-file=1", NULL };
  char *mib[] = { "max-size=1.5MiB", NULL };
  char *spaced[] = { "max-size=2 g,", "max-size=-1", NULL };
  HutchLogConfig c;
  g_autofree char *t1 = hutch_log_size_text (20000000), *t2 = hutch_log_size_text (1536000);
  g_autofree char *t3 = hutch_log_size_text (1500), *t4 = hutch_log_size_text (-1);
  g_autofree char *t5 = hutch_log_size_text (1000);

  g_assert_true (hutch_log_config_parse (&c, NULL, NULL, &error));
  g_assert_cmpint (c.driver, ==, HUTCH_LOG_DRIVER_K8S_FILE);
  g_assert_cmpint (c.max_size, ==, 20000000); /* as docker and podman read 20m */
  g_assert_cmpint (c.max_file, ==, 5);
  g_assert_true (hutch_log_config_parse (&c, "json-file", both, &error));
  g_assert_cmpint (c.max_size, ==, 10000);
  g_assert_cmpint (c.max_file, ==, 2);
  g_assert_true (hutch_log_config_parse (&c, "k8s-file", docker, &error));
  g_assert_cmpint (c.max_size, ==, 20000000);
  g_assert_cmpint (c.max_file, ==, 1);
  g_assert_true (hutch_log_config_parse (&c, NULL, mib, &error));
  g_assert_cmpint (c.max_size, ==, 1500000); /* go-units' FromHumanSize: MiB too */
  g_assert_true (hutch_log_config_parse (&c, NULL, spaced, &error));
  g_assert_cmpint (c.max_size, ==, -1); /* the last one given wins */
  g_assert_true (hutch_log_config_parse (&c, "none", NULL, &error));
  g_assert_cmpint (c.driver, ==, HUTCH_LOG_DRIVER_NONE);
  g_assert_no_error (error);
  log_refused (NULL, "max-size=0", "--log-opt max-size=0: give a size");
  log_refused (NULL, "max-size=ten", "--log-opt max-size=ten: give a size");
  log_refused (NULL, "max-size=10x", "or -1 for no cap");
  log_refused (NULL, "max-size=1e6", "--log-opt max-size=1e6");
  log_refused (NULL, "max-size=.5m", "--log-opt max-size=.5m");
  log_refused (NULL, "max-size=0.1", "--log-opt max-size=0.1");
  log_refused (NULL, "max-file=0", "--log-opt max-file=0: give the number of files to keep, 1 to 1000");
  log_refused (NULL, "max-file=1001", "--log-opt max-file=1001");
  log_refused (NULL, "max-file=", "--log-opt max-file=:");
  log_refused (NULL, "max-file=2,mode=non-blocking", "--log-opt mode=non-blocking: hutch's k8s-file log takes");
  log_refused (NULL, "max-size", "--log-opt max-size: hutch's k8s-file log takes max-size=SIZE");
  log_refused ("syslog", NULL, "--log-driver syslog: hutch writes k8s-file");
  log_refused ("none", "max-file=2", "--log-opt max-file=2: --log-driver none keeps no log");
  g_assert_cmpstr (t1, ==, "20m");
  g_assert_cmpstr (t2, ==, "1536k");
  g_assert_cmpstr (t3, ==, "1500");
  g_assert_cmpstr (t4, ==, "-1");
  g_assert_cmpstr (t5, ==, "1k");
}

/* @text through a pipe to @w, read to the pipe's end (whole lines). */
static void
log_feed (HutchLogWriter *w, const char *text, gsize len)
{
  int p[2];

  g_assert_cmpint (pipe2 (p, O_CLOEXEC), ==, 0);
  hutch_log_writer_attach (w, p[0], -1);
  while (len > 0)
    {
      gsize n = MIN (len, 32768);
      g_assert_true (hutch_util_write_all (p[1], text, n, NULL));
      hutch_log_writer_drain (w);
      text += n;
      len -= n;
    }
  close (p[1]);
  hutch_log_writer_drain (w);
}

static char *
read_text (const char *dir, const char *name, gsize *out_len)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  char *text = NULL;

  if (!g_file_get_contents (path, &text, out_len, NULL))
    return NULL;
  return text;
}

/* max-size 1000, max-file 3: never more than 3 files, each at most 1000
 * bytes and of whole lines, the newest lines in order across them; a
 * line longer than max-size alone in one; a writer opened again goes on. */
static void
test_log_rotation (void)
{
  g_autofree char *dir = scratch ();
  g_autoptr (GError) error = NULL;
  g_autoptr (GString) in = g_string_new (NULL), all = g_string_new (NULL);
  g_auto (GStrv) lines = NULL;
  HutchLogConfig config = { HUTCH_LOG_DRIVER_K8S_FILE, 1000, 3 };
  HutchLogWriter *w = hutch_log_writer_open (dir, &config, &error);
  int expect = 0;

  g_assert_no_error (error);
  for (int i = 1; i <= 400; i++)
    g_string_append_printf (in, "%d\n", i);
  log_feed (w, in->str, in->len);
  hutch_log_writer_free (w);
  for (int k = 2; k >= 0; k--)
    {
      g_autofree char *name = hutch_log_file_name (k);
      gsize len = 0;
      g_autofree char *text = read_text (dir, name, &len);
      g_assert_nonnull (text);
      g_assert_cmpuint (len, <=, 1000);
      if (k > 0) /* rotated once the next line would not fit: full but for less than one */
        g_assert_cmpuint (len, >, 1000 - 42);
      g_assert_cmpint (text[len - 1], ==, '\n');
      g_string_append (all, text);
    }
  g_assert_null (read_text (dir, "ctr.log.3", NULL));
  lines = g_strsplit (all->str, "\n", -1);
  for (char **l = lines; *l != NULL && **l != '\0'; l++)
    {
      g_auto (GStrv) f = g_strsplit (*l, " ", 4);
      g_assert_cmpstr (f[1], ==, "stdout");
      g_assert_cmpstr (f[2], ==, "F");
      if (expect != 0)
        g_assert_cmpint (atoi (f[3]), ==, expect);
      expect = atoi (f[3]) + 1;
    }
  g_assert_cmpint (expect, ==, 401);
  /* again, as at a restart: a line of 3000 bytes, then one more */
  w = hutch_log_writer_open (dir, &config, &error);
  g_string_set_size (in, 0);
  for (int i = 0; i < 3000; i++)
    g_string_append_c (in, 'x');
  g_string_append (in, "\nend\n");
  log_feed (w, in->str, in->len);
  hutch_log_writer_free (w);
  {
    gsize len1 = 0, len0 = 0;
    g_autofree char *one = read_text (dir, "ctr.log.1", &len1);
    g_autofree char *cur = read_text (dir, "ctr.log", &len0);
    g_assert_cmpuint (len1, >, 3000);
    g_assert_nonnull (strstr (one, " stdout F xxxxxxxxxx"));
    g_assert_true (g_str_has_suffix (one, "xxxxxxxxxx\n"));
    g_assert_cmpuint (strlen (one), ==, (gsize) (strchr (one, '\n') - one) + 1); /* one line */
    g_assert_true (g_str_has_suffix (cur, " stdout F end\n"));
  }
  rm_rf (dir);
}

/* Past RLIMIT_FSIZE a write fails with EFBIG and raises SIGXFSZ (as a
 * full disk fails with ENOSPC): the writer lives on, keeps whole lines,
 * and tells of it once. In a child of its own, for the limit. */
static void
test_log_write_failure (void)
{
  if (g_test_subprocess ())
    {
      g_autofree char *dir = scratch ();
      g_autoptr (GError) error = NULL;
      g_autoptr (GString) in = g_string_new (NULL);
      HutchLogConfig config = { HUTCH_LOG_DRIVER_K8S_FILE, -1, 1 };
      HutchLogWriter *w = hutch_log_writer_open (dir, &config, &error);
      g_autofree char *failure = NULL;
      g_autofree char *text = NULL;
      struct rlimit lim;
      gsize len = 0;

      g_assert_no_error (error);
      g_assert_cmpint (getrlimit (RLIMIT_FSIZE, &lim), ==, 0);
      lim.rlim_cur = 4096;
      g_assert_cmpint (setrlimit (RLIMIT_FSIZE, &lim), ==, 0);
      hutch_log_writer_free (w); /* opened again, to see the limit */
      w = hutch_log_writer_open (dir, &config, &error);
      for (int i = 1; i <= 2000; i++)
        g_string_append_printf (in, "line %d\n", i);
      log_feed (w, in->str, in->len);
      failure = hutch_log_writer_take_failure (w);
      g_assert_nonnull (failure);
      g_assert_nonnull (strstr (failure, "writing the log "));
      g_assert_nonnull (strstr (failure, "/ctr.log: File too large"));
      g_assert_null (hutch_log_writer_take_failure (w)); /* once */
      hutch_log_writer_free (w);
      text = read_text (dir, "ctr.log", &len);
      g_assert_cmpuint (len, <=, 4096);
      g_assert_cmpuint (len, >, 4000);
      g_assert_cmpint (text[len - 1], ==, '\n');
      g_assert_true (g_str_has_prefix (strchr (text, ' '), " stdout F line 1\n"));
      rm_rf (dir);
      return;
    }
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
}

static void
test_signals_and_since (void)
{
  g_autoptr (GError) error = NULL;
  gint64 t = 0, now = g_get_real_time ();

  g_assert_cmpint (hutch_container_signal_parse ("TERM"), ==, SIGTERM);
  g_assert_cmpint (hutch_container_signal_parse ("sigkill"), ==, SIGKILL);
  g_assert_cmpint (hutch_container_signal_parse ("10"), ==, 10);
  g_assert_cmpint (hutch_container_signal_parse ("RTMIN+3"), ==, SIGRTMIN + 3);
  g_assert_cmpint (hutch_container_signal_parse ("NOPE"), ==, -1);
  g_assert_cmpint (hutch_container_signal_parse ("0"), ==, -1);
  g_assert_true (hutch_container_parse_since ("2026-11-23T10:00:00Z", &t, &error));
  g_assert_cmpint (t, ==, G_GINT64_CONSTANT (1795428000) * G_USEC_PER_SEC);
  g_assert_true (hutch_container_parse_since ("1795428000", &t, &error));
  g_assert_cmpint (t, ==, G_GINT64_CONSTANT (1795428000) * G_USEC_PER_SEC);
  g_assert_true (hutch_container_parse_since ("10m", &t, &error));
  g_assert_cmpint (now - t, >=, 600 * G_USEC_PER_SEC - G_USEC_PER_SEC);
  g_assert_cmpint (now - t, <=, 600 * G_USEC_PER_SEC + 5 * G_USEC_PER_SEC);
  g_assert_false (hutch_container_parse_since ("yesterday", &t, &error));
  g_assert_error (error, HUTCH_ERROR, HUTCH_ERROR_USAGE);
}

/* When limits need a scope of the systemd user manager, and why. */
static void
test_need_scope (void)
{
  char *cpu_pids[] = { "cpu", "pids", NULL };
  char *none[] = { NULL };
  HutchCgroupCaps caps = { HUTCH_CGROUP_V2, "/user.slice/user-1000.slice/session-2.scope",
                           HUTCH_CGROUP_DELEGATION_SYSTEMD, none, "/run/user/1000/bus" };
  HutchCgroupLimits memory = { .memory = 64 << 20 }, nothing = { 0 };
  g_autofree char *why = NULL;

  g_unsetenv (HUTCH_CGROUP_SCOPE_ENV);
  why = hutch_cgroup_need_scope (&caps, &memory);
  g_assert_cmpstr (why, ==, "cgroup /user.slice/user-1000.slice/session-2.scope is not yours");
  g_clear_pointer (&why, g_free);
  /* no limit asked, or --cgroups=disabled: no scope */
  g_assert_null (hutch_cgroup_need_scope (&caps, &nothing));
  memory.disabled = TRUE;
  g_assert_null (hutch_cgroup_need_scope (&caps, &memory));
  memory.disabled = FALSE;
  /* a delegated cgroup of ours without the memory controller */
  caps.delegation = HUTCH_CGROUP_DELEGATION_INHERITED;
  caps.controllers = cpu_pids;
  why = hutch_cgroup_need_scope (&caps, &memory);
  g_assert_cmpstr (why, ==, "cgroup /user.slice/user-1000.slice/session-2.scope, yours, has no "
                            "memory controller");
  g_clear_pointer (&why, g_free);
  /* no user manager on a bus, a hybrid host, or already in a scope: none */
  caps.user_bus = NULL;
  g_assert_null (hutch_cgroup_need_scope (&caps, &memory));
  caps.user_bus = "/run/user/1000/bus";
  caps.version = HUTCH_CGROUP_HYBRID;
  g_assert_null (hutch_cgroup_need_scope (&caps, &memory));
  caps.version = HUTCH_CGROUP_V2;
  g_setenv (HUTCH_CGROUP_SCOPE_ENV, "hutch-1-00000000.scope", TRUE);
  g_assert_null (hutch_cgroup_need_scope (&caps, &memory));
  g_unsetenv (HUTCH_CGROUP_SCOPE_ENV);
  /* the controllers a limit needs */
  g_assert_cmpstr ((why = hutch_cgroup_limits_missing (&caps, &memory)), ==, "memory");
  g_clear_pointer (&why, g_free);
  memory.cpuset_cpus = "0";
  g_assert_cmpstr ((why = hutch_cgroup_limits_missing (&caps, &memory)), ==, "memory, cpuset");
}

static void
test_limits (void)
{
  g_autofree char *dir = scratch ();
  g_autoptr (GError) error = NULL;
  HutchIdMap map = { 1000, 1000, NULL, NULL, TRUE };
  char *lower[] = { "/l", NULL };
  char *argv[] = { "true", NULL };
  HutchSandboxSpec spec = { .cleanup_fd = -1 };
  HutchCgroupLimits in = { 0 }, out = { 0 };
  gint64 v = 0;

  g_assert_true (hutch_cgroup_parse_size ("--memory", "512m", &v, &error));
  g_assert_cmpint (v, ==, 512 * 1024 * 1024);
  g_assert_true (hutch_cgroup_parse_size ("--memory", "1.5g", &v, &error));
  g_assert_cmpint (v, ==, 1536 * G_GINT64_CONSTANT (1024) * 1024);
  g_assert_true (hutch_cgroup_parse_size ("--memory", "4096", &v, &error));
  g_assert_cmpint (v, ==, 4096);
  g_assert_false (hutch_cgroup_parse_size ("--memory", "-1", &v, &error));
  g_assert_error (error, HUTCH_ERROR, HUTCH_ERROR_USAGE);
  g_clear_error (&error);
  g_assert_false (hutch_cgroup_parse_size ("--memory", "12q", &v, &error));
  g_clear_error (&error);
  g_assert_true (hutch_cgroup_parse_cpuset ("0-2,4", &error));
  g_assert_false (hutch_cgroup_parse_cpuset ("0-", &error));
  g_clear_error (&error);
  /* the runtime-spec's conversion: 2 -> 1, 1024 -> 39, 262144 -> 10000 */
  g_assert_cmpuint (hutch_cgroup_shares_to_weight (2), ==, 1);
  g_assert_cmpuint (hutch_cgroup_shares_to_weight (1024), ==, 39);
  g_assert_cmpuint (hutch_cgroup_shares_to_weight (262144), ==, 10000);

  in.memory = 64 << 20;
  in.memory_swap = -1;
  in.memory_reservation = 32 << 20;
  in.cpus = 0.5;
  in.cpu_shares = 512;
  in.cpuset_cpus = g_strdup ("0-1");
  in.pids_limit = 100;
  in.parent = g_strdup ("/mine");
  g_assert_true (hutch_cgroup_limits_validate (&in, &error));
  {
    g_autofree char *asked = hutch_cgroup_limits_describe (&in);
    g_assert_cmpstr (asked, ==, "--memory, --memory-swap, --memory-reservation, --cpus, "
                                "--cpu-shares, --cpuset-cpus, --pids-limit");
  }
  spec.idmap = &map;
  spec.lowerdirs = lower;
  spec.argv = argv;
  spec.hostname = "h";
  spec.cwd = "/";
  g_assert_true (hutch_container_spec_write (dir, &spec, &in, FALSE, &error));
  g_assert_no_error (error);
  g_assert_true (hutch_container_limits_read (dir, &out, &error));
  g_assert_cmpint (out.memory, ==, in.memory);
  g_assert_cmpint (out.memory_swap, ==, -1);
  g_assert_cmpint (out.memory_reservation, ==, in.memory_reservation);
  g_assert_cmpfloat (out.cpus, ==, 0.5);
  g_assert_cmpuint (out.cpu_shares, ==, 512);
  g_assert_cmpstr (out.cpuset_cpus, ==, "0-1");
  g_assert_cmpint (out.pids_limit, ==, 100);
  g_assert_cmpstr (out.parent, ==, "/mine");
  g_assert_false (out.disabled);
  hutch_cgroup_limits_clear (&out);
  {
    HutchCgroupCaps v1 = { HUTCH_CGROUP_V1, NULL, HUTCH_CGROUP_DELEGATION_NONE, NULL, NULL };
    HutchCgroupCaps v2 = { HUTCH_CGROUP_V2, "/user.slice", HUTCH_CGROUP_DELEGATION_INHERITED, NULL, NULL };
    char *some[] = { "cpu", "pids", NULL };
    v2.controllers = some;
    g_assert_false (hutch_cgroup_limits_check (&v1, &in, &error));
    g_assert_error (error, HUTCH_ERROR, HUTCH_ERROR_HOST_UNSUPPORTED);
    g_assert_nonnull (strstr (error->message, "cgroup v1 only"));
    g_assert_nonnull (strstr (error->message, "systemd.unified_cgroup_hierarchy=1"));
    g_clear_error (&error);
    v2.delegation = HUTCH_CGROUP_DELEGATION_NONE;
    g_assert_false (hutch_cgroup_limits_check (&v2, &in, &error));
    g_assert_nonnull (strstr (error->message, "loginctl enable-linger"));
    g_clear_error (&error);
    v2.delegation = HUTCH_CGROUP_DELEGATION_INHERITED;
    g_assert_false (hutch_cgroup_limits_check (&v2, &in, &error));
    g_assert_nonnull (strstr (error->message, "the memory, cpuset controllers are not delegated"));
    g_assert_nonnull (strstr (error->message, "Delegate=cpu cpuset io memory pids"));
    g_clear_error (&error);
    memset (&out, 0, sizeof out);
    g_assert_true (hutch_cgroup_limits_check (&v1, &out, &error)); /* nothing asked */
  }
  hutch_cgroup_limits_clear (&in);
  rm_rf (dir);
}

static void
test_userns_parse (void)
{
  g_autoptr (GError) error = NULL;
  HutchUsernsMode m = HUTCH_USERNS_KEEP_ID;
  const char *refused[] = { "host", "auto", "keep-id:uid=0", "KEEP-ID", " keep-id" };

  g_assert_true (hutch_container_userns_parse (NULL, &m, &error));
  g_assert_cmpint (m, ==, HUTCH_USERNS_DEFAULT);
  g_assert_true (hutch_container_userns_parse ("keep-id", &m, &error));
  g_assert_cmpint (m, ==, HUTCH_USERNS_KEEP_ID);
  g_assert_true (hutch_container_userns_parse ("", &m, &error));
  g_assert_cmpint (m, ==, HUTCH_USERNS_DEFAULT);
  g_assert_no_error (error);
  g_assert_cmpstr (hutch_container_userns_name (HUTCH_USERNS_DEFAULT), ==, "");
  g_assert_cmpstr (hutch_container_userns_name (HUTCH_USERNS_KEEP_ID), ==, "keep-id");
  for (gsize i = 0; i < G_N_ELEMENTS (refused); i++)
    {
      g_assert_false (hutch_container_userns_parse (refused[i], &m, &error));
      g_assert_error (error, HUTCH_ERROR, HUTCH_ERROR_USAGE);
      g_assert_nonnull (strstr (error->message, "--userns"));
      g_assert_nonnull (strstr (error->message, "keep-id"));
      g_clear_error (&error);
    }
}

/* A record keeps its --userns; one without UsernsMode (a hutch before
 * it) is the default map. */
static void
test_record_userns (void)
{
  g_autofree char *root = scratch ();
  g_autofree char *run = scratch ();
  g_autoptr (HutchContext) ctx = hutch_context_new (root, run, HUTCH_LOG_ERROR);
  g_autoptr (GError) error = NULL;
  g_autoptr (HutchContainer) c = g_new0 (HutchContainer, 1);
  g_autoptr (HutchContainer) back = NULL;
  g_autoptr (HutchContainer) plain = NULL;
  g_autofree char *dir = NULL, *path = NULL, *text = NULL;
  char *cmd[] = { "true", NULL };

  c->id = g_strdup ("abcdef0000000000000000000000000000000000000000000000000000000003");
  c->name = g_strdup ("kid");
  c->image = g_strdup ("busybox");
  c->image_id = g_strdup ("sha256:x");
  c->command = g_strdupv (cmd);
  c->userns = HUTCH_USERNS_KEEP_ID;
  dir = hutch_container_dir (ctx, c->id);
  g_assert_cmpint (g_mkdir_with_parents (dir, 0700), ==, 0);
  g_assert_true (hutch_container_save (ctx, c, &error));
  back = hutch_container_load (ctx, c->id, &error);
  g_assert_no_error (error);
  g_assert_cmpint (back->userns, ==, HUTCH_USERNS_KEEP_ID);
  path = g_build_filename (dir, "hutch.json", NULL);
  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
  g_assert_nonnull (strstr (text, "\"UsernsMode\": \"keep-id\""));
  c->userns = HUTCH_USERNS_DEFAULT;
  g_assert_true (hutch_container_save (ctx, c, &error));
  g_clear_pointer (&text, g_free);
  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
  g_assert_null (strstr (text, "UsernsMode"));
  plain = hutch_container_load (ctx, c->id, &error);
  g_assert_no_error (error);
  g_assert_cmpint (plain->userns, ==, HUTCH_USERNS_DEFAULT);
  rm_rf (root);
  rm_rf (run);
}

static void
write_at (const char *dir, const char *rel, const char *text)
{
  g_autofree char *path = g_build_filename (dir, rel, NULL);
  g_autofree char *parent = g_path_get_dirname (path);

  g_assert_cmpint (g_mkdir_with_parents (parent, 0755), ==, 0);
  g_assert_true (g_file_set_contents (path, text, -1, NULL));
}

static char *
read_at (const char *dir, const char *rel)
{
  g_autofree char *path = g_build_filename (dir, rel, NULL);
  char *text = NULL;

  return g_file_get_contents (path, &text, NULL, NULL) ? text : NULL;
}

/* keep-id's /etc files: the image's (from the top layer that has each)
 * with the user's line, unless the image lists the id; bound among the
 * mounts in depth order; none over a -v at /etc. */
static void
test_keep_id_prepare (void)
{
  g_autofree char *top = scratch ();
  g_autofree char *low = scratch ();
  g_autofree char *ctr = scratch ();
  g_autoptr (GError) error = NULL;
  char *lower[] = { top, low, NULL };
  g_autofree char *me = g_strdup_printf ("%u:%u", (unsigned) getuid (), (unsigned) getgid ());
  g_autofree char *line = NULL, *passwd = NULL, *group = NULL, *listed = NULL;
  HutchSandboxMount *data = g_new0 (HutchSandboxMount, 1);
  HutchSandboxMount *deep = g_new0 (HutchSandboxMount, 1);
  HutchSandboxSpec spec = { .cleanup_fd = -1 };

  /* ids no test user has */
  g_assert_cmpuint (getuid (), <, 65500);
  write_at (low, "etc/passwd", "sys:x:65500:65500::/:/bin/sh\nold:x:65501:65501::/:/bin/sh\n");
  write_at (low, "etc/group", "sys:x:65500:\nold:x:65501:\n");
  write_at (top, "etc/group", "sys:x:65500:\nwheel:x:65510:sys"); /* no newline at its end */
  data->source = g_strdup ("/srv");
  data->target = g_strdup ("/data");
  deep->source = g_strdup ("/srv/x");
  deep->target = g_strdup ("/data/a/b");
  spec.lowerdirs = g_strdupv (lower);
  spec.cwd = g_strdup ("/src");
  spec.user = g_strdup ("nginx");
  spec.mounts = g_ptr_array_new_with_free_func ((GDestroyNotify) hutch_sandbox_mount_free);
  g_ptr_array_add (spec.mounts, data);
  g_ptr_array_add (spec.mounts, deep);
  g_assert_true (hutch_container_keep_id_prepare (ctr, &spec, FALSE, TRUE, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (spec.user, ==, me);
  passwd = read_at (ctr, "passwd");
  group = read_at (ctr, "group");
  line = g_strdup_printf (":x:%u:%u:", (unsigned) getuid (), (unsigned) getgid ());
  g_assert_true (g_str_has_prefix (passwd, "sys:x:65500:65500::/:/bin/sh\nold:x:65501:65501::/:/bin/sh\n"));
  g_assert_nonnull (strstr (passwd, line));
  g_assert_true (g_str_has_suffix (passwd, ":/src:/bin/sh\n"));
  /* the top layer's group, a newline put before the user's line */
  g_assert_true (g_str_has_prefix (group, "sys:x:65500:\nwheel:x:65510:sys\n"));
  g_assert_null (strstr (group, "old:"));
  /* order: /data, then the two binds (depth 2, read-only as asked), then /data/a/b */
  g_assert_cmpuint (spec.mounts->len, ==, 4);
  g_assert_cmpstr (((HutchSandboxMount *) spec.mounts->pdata[1])->target, ==, "/etc/passwd");
  g_assert_cmpstr (((HutchSandboxMount *) spec.mounts->pdata[2])->target, ==, "/etc/group");
  g_assert_true (((HutchSandboxMount *) spec.mounts->pdata[1])->readonly);
  g_assert_cmpstr (((HutchSandboxMount *) spec.mounts->pdata[3])->target, ==, "/data/a/b");
  hutch_container_spec_clear (&spec);

  /* -u given: kept; the image lists the uid: no line added */
  listed = g_strdup_printf ("sys:x:65500:65500::/:/bin/sh\nimg:x:%u:%u::/home/img:/bin/sh\n",
                            (unsigned) getuid (), (unsigned) getgid ());
  write_at (top, "etc/passwd", listed);
  memset (&spec, 0, sizeof spec);
  spec.cleanup_fd = -1;
  spec.lowerdirs = g_strdupv (lower);
  spec.cwd = g_strdup ("/");
  spec.user = g_strdup ("0");
  spec.mounts = g_ptr_array_new_with_free_func ((GDestroyNotify) hutch_sandbox_mount_free);
  g_assert_true (hutch_container_keep_id_prepare (ctr, &spec, TRUE, FALSE, &error));
  g_assert_cmpstr (spec.user, ==, "0");
  g_clear_pointer (&passwd, g_free);
  passwd = read_at (ctr, "passwd");
  g_assert_cmpstr (passwd, ==, listed);
  hutch_container_spec_clear (&spec);

  /* a -v over /etc: the user's, no file bound over it */
  memset (&spec, 0, sizeof spec);
  spec.cleanup_fd = -1;
  spec.lowerdirs = g_strdupv (lower);
  spec.cwd = g_strdup ("/");
  spec.mounts = g_ptr_array_new_with_free_func ((GDestroyNotify) hutch_sandbox_mount_free);
  data = g_new0 (HutchSandboxMount, 1);
  data->source = g_strdup ("/srv/etc");
  data->target = g_strdup ("/etc/");
  g_ptr_array_add (spec.mounts, data);
  g_assert_true (hutch_container_keep_id_prepare (ctr, &spec, FALSE, FALSE, &error));
  g_assert_cmpuint (spec.mounts->len, ==, 1);
  hutch_container_spec_clear (&spec);
  rm_rf (top);
  rm_rf (low);
  rm_rf (ctr);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/container/spec/round-trip", test_spec_round_trip);
  g_test_add_func ("/container/spec/refused", test_spec_refused);
  g_test_add_func ("/container/records", test_records);
  g_test_add_func ("/container/records/without-log-config", test_record_without_log_config);
  g_test_add_func ("/container/records/userns", test_record_userns);
  g_test_add_func ("/container/userns/parse", test_userns_parse);
  g_test_add_func ("/container/userns/keep-id-etc-files", test_keep_id_prepare);
  g_test_add_func ("/container/log/config", test_log_config);
  g_test_add_func ("/container/log/rotation", test_log_rotation);
  g_test_add_func ("/container/log/write-failure", test_log_write_failure);
  g_test_add_func ("/container/signals-and-since", test_signals_and_since);
  g_test_add_func ("/container/limits", test_limits);
  g_test_add_func ("/container/limits/need-scope", test_need_scope);
  return g_test_run ();
}
