/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* util/: every way out of a root that hutch_util_open_beneath() and
 * hutch_util_open_in_root() must refuse, through openat2 and through the
 * component walk, plus the runroot and error helpers. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <glib/gstdio.h>

#include "util/util.h"
#include "util/util-private.h"

#define INSIDE "inside\n"
#define OUTSIDE "OUTSIDE\n"

typedef struct
{
  char *base;    /* a fresh temporary directory */
  char *root;    /* base/root: the root we open beneath */
  int root_fd;
} Fixture;

typedef int (*OpenFn) (int root_fd, const char *path, int flags, mode_t mode, GError **error);

typedef struct
{
  const char *name;
  gboolean walk;            /* the fallback walk instead of openat2 */
  HutchResolveMode resolve;
} Variant;

static const Variant variants[] = {
  { "openat2/beneath", FALSE, HUTCH_RESOLVE_BENEATH },
  { "openat2/in-root", FALSE, HUTCH_RESOLVE_IN_ROOT },
  { "walk/beneath", TRUE, HUTCH_RESOLVE_BENEATH },
  { "walk/in-root", TRUE, HUTCH_RESOLVE_IN_ROOT },
};

static int
open_variant (const Variant *v, int root_fd, const char *path, int flags, mode_t mode,
              GError **error)
{
  if (v->walk)
    return hutch_util_open_beneath_walk (root_fd, path, flags, mode, v->resolve, error);
  if (v->resolve == HUTCH_RESOLVE_IN_ROOT)
    return hutch_util_open_in_root (root_fd, path, flags, mode, error);
  return hutch_util_open_beneath (root_fd, path, flags, mode, error);
}

static void
put (const char *base, const char *rel, const char *content)
{
  g_autofree char *path = g_build_filename (base, rel, NULL);
  g_autofree char *dir = g_path_get_dirname (path);
  g_autoptr (GError) error = NULL;

  g_assert_cmpint (g_mkdir_with_parents (dir, 0755), ==, 0);
  g_file_set_contents (path, content, -1, &error);
  g_assert_no_error (error);
}

static void
link_to (const char *base, const char *rel, const char *target)
{
  g_autofree char *path = g_build_filename (base, rel, NULL);
  g_assert_cmpint (symlink (target, path), ==, 0);
}

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *outside_abs = NULL;

  f->base = g_dir_make_tmp ("hutch-util-XXXXXX", &error);
  g_assert_no_error (error);
  f->root = g_build_filename (f->base, "root", NULL);

  put (f->base, "outside/secret", OUTSIDE);
  /* The same names inside the root: a clamped escape must land here. */
  put (f->root, "outside/secret", INSIDE);
  put (f->root, "secret", INSIDE);
  put (f->root, "etc/passwd", INSIDE);
  {
    g_autofree char *sub = g_build_filename (f->root, "dir/sub", NULL);
    g_assert_cmpint (g_mkdir_with_parents (sub, 0755), ==, 0);
  }

  outside_abs = g_build_filename (f->base, "outside", NULL);
  link_to (f->root, "up", "..");
  link_to (f->root, "dir/up2", "../../outside");
  link_to (f->root, "abs", "/");
  link_to (f->root, "abs_outside", outside_abs);
  link_to (f->root, "loop1", "loop2");
  link_to (f->root, "loop2", "loop1");
  link_to (f->root, "self", "/proc/self/root");
  link_to (f->root, "rel_secret", "dir/../secret");
  link_to (f->root, "dangling_abs", "/created");
  link_to (f->root, "dangling_rel", "../../outside/created");

  /* chainN -> chain(N+1) -> ... -> chain59 -> secret */
  for (int i = 0; i < 60; i++)
    {
      g_autofree char *name = g_strdup_printf ("chain%d", i);
      g_autofree char *next = i == 59 ? g_strdup ("secret") : g_strdup_printf ("chain%d", i + 1);
      link_to (f->root, name, next);
    }

  f->root_fd = open (f->root, O_PATH | O_DIRECTORY | O_CLOEXEC);
  g_assert_cmpint (f->root_fd, >=, 0);
}

static int
rm_one (const char *path, const struct stat *st, int type, struct FTW *ftw)
{
  return type == FTW_DP ? rmdir (path) : unlink (path);
}

static void
rm_rf (const char *path)
{
  (void) nftw (path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  close (f->root_fd);
  rm_rf (f->base);
  g_free (f->root);
  g_free (f->base);
}

/* What an opened fd reads, or NULL when it could not be opened. */
static char *
read_fd (int fd)
{
  g_autoptr (GError) error = NULL;
  char *content;

  if (fd < 0)
    return NULL;
  content = hutch_util_read_all (fd, 4096, NULL, &error);
  g_assert_no_error (error);
  close (fd);
  return content;
}

/* The heart of every escape case: whatever happens, the outside file is not
 * what we read. With RESOLVE_BENEATH the open must fail as unsafe (or not
 * found); with RESOLVE_IN_ROOT it may succeed, but only inside. */
static void
assert_not_outside (const Variant *v, Fixture *f, const char *path, gboolean beneath_must_fail)
{
  g_autoptr (GError) error = NULL;
  int fd = open_variant (v, f->root_fd, path, O_RDONLY, 0, &error);
  g_autofree char *content = read_fd (fd);

  if (content != NULL)
    g_assert_cmpstr (content, !=, OUTSIDE);
  if (v->resolve == HUTCH_RESOLVE_BENEATH && beneath_must_fail)
    {
      g_assert_null (content);
      g_assert_error (error, HUTCH_ERROR, HUTCH_ERROR_UNSAFE_PATH);
    }
}

typedef struct
{
  const Variant *v;
} Case;

#define VARIANT ((const Variant *) data)

static void
test_dotdot (Fixture *f, gconstpointer data)
{
  assert_not_outside (VARIANT, f, "../outside/secret", TRUE);
  assert_not_outside (VARIANT, f, "../../../../../../outside/secret", TRUE);
  assert_not_outside (VARIANT, f, "dir/../../outside/secret", TRUE);
  assert_not_outside (VARIANT, f, "dir/sub/../../../outside/secret", TRUE);
}

static void
test_dotdot_clamped (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  int fd = open_variant (VARIANT, f->root_fd, "../../outside/secret", O_RDONLY, 0, &error);
  g_autofree char *content = read_fd (fd);

  if (VARIANT->resolve == HUTCH_RESOLVE_IN_ROOT)
    {
      /* As for a chrooted process: ".." at "/" is "/". */
      g_assert_no_error (error);
      g_assert_cmpstr (content, ==, INSIDE);
    }
  else
    g_assert_error (error, HUTCH_ERROR, HUTCH_ERROR_UNSAFE_PATH);
}

static void
test_relative_symlink_escape (Fixture *f, gconstpointer data)
{
  assert_not_outside (VARIANT, f, "up/outside/secret", TRUE);
  assert_not_outside (VARIANT, f, "dir/up2/secret", TRUE);
}

static void
test_absolute_symlink (Fixture *f, gconstpointer data)
{
  g_autofree char *via_abs = g_strconcat ("abs", f->base, "/outside/secret", NULL);

  assert_not_outside (VARIANT, f, "abs_outside/secret", TRUE);
  assert_not_outside (VARIANT, f, via_abs, TRUE);
}

static void
test_absolute_path (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *host_path = g_build_filename (f->base, "outside/secret", NULL);
  int fd;

  assert_not_outside (VARIANT, f, host_path, TRUE);

  fd = open_variant (VARIANT, f->root_fd, "/etc/passwd", O_RDONLY, 0, &error);
  if (VARIANT->resolve == HUTCH_RESOLVE_IN_ROOT)
    {
      g_autofree char *content = read_fd (fd);
      g_assert_no_error (error);
      g_assert_cmpstr (content, ==, INSIDE);
    }
  else
    {
      g_assert_cmpint (fd, <, 0);
      g_assert_error (error, HUTCH_ERROR, HUTCH_ERROR_UNSAFE_PATH);
    }
}

static void
test_symlink_loop (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  int fd = open_variant (VARIANT, f->root_fd, "loop1/secret", O_RDONLY, 0, &error);

  g_assert_cmpint (fd, <, 0);
  g_assert_error (error, HUTCH_ERROR, HUTCH_ERROR_UNSAFE_PATH);
  g_clear_error (&error);
  fd = open_variant (VARIANT, f->root_fd, "loop2", O_RDONLY, 0, &error);
  g_assert_cmpint (fd, <, 0);
  g_assert_error (error, HUTCH_ERROR, HUTCH_ERROR_UNSAFE_PATH);
}

static void
test_proc_self_root (Fixture *f, gconstpointer data)
{
  g_autofree char *via_self = g_strconcat ("self", f->base, "/outside/secret", NULL);
  g_autofree char *via_proc = g_strconcat ("self/root", f->base, "/outside/secret", NULL);
  g_autoptr (GError) error = NULL;
  hutch_autofd int proc_fd = -1;
  int fd;

  /* A symlink inside the root that names /proc/self/root. */
  assert_not_outside (VARIANT, f, via_self, TRUE);

  /* A root that is /proc itself: "self/root" is a magic link to the host's
   * "/", which must never be followed. */
  proc_fd = open ("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC);
  g_assert_cmpint (proc_fd, >=, 0);
  fd = open_variant (VARIANT, proc_fd, via_proc, O_RDONLY, 0, &error);
  g_autofree char *content = read_fd (fd);
  g_assert_null (content);
  g_assert_nonnull (error);
}

static void
test_long_chain (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  /* chain30 reaches "secret" after 30 links: within Linux's limit of 40. */
  int fd = open_variant (VARIANT, f->root_fd, "chain30", O_RDONLY, 0, &error);
  g_autofree char *content = read_fd (fd);

  g_assert_no_error (error);
  g_assert_cmpstr (content, ==, INSIDE);

  /* chain0 needs 60: refused as a loop would be. */
  fd = open_variant (VARIANT, f->root_fd, "chain0", O_RDONLY, 0, &error);
  g_assert_cmpint (fd, <, 0);
  g_assert_error (error, HUTCH_ERROR, HUTCH_ERROR_UNSAFE_PATH);
}

static void
test_create_through_symlink (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *outside_created = g_build_filename (f->base, "outside/created", NULL);
  g_autofree char *inside_created = g_build_filename (f->root, "created", NULL);
  int fd;

  fd = open_variant (VARIANT, f->root_fd, "dangling_abs", O_WRONLY | O_CREAT, 0644, &error);
  if (VARIANT->resolve == HUTCH_RESOLVE_IN_ROOT)
    {
      g_assert_no_error (error);
      g_assert_cmpint (fd, >=, 0);
      close (fd);
      g_assert_true (g_file_test (inside_created, G_FILE_TEST_IS_REGULAR));
    }
  else
    g_assert_error (error, HUTCH_ERROR, HUTCH_ERROR_UNSAFE_PATH);
  g_clear_error (&error);

  fd = open_variant (VARIANT, f->root_fd, "dangling_rel", O_WRONLY | O_CREAT, 0644, &error);
  if (fd >= 0)
    close (fd);
  g_assert_false (g_file_test (outside_created, G_FILE_TEST_EXISTS));
  g_clear_error (&error);

  /* O_EXCL never creates through a symlink. */
  fd = open_variant (VARIANT, f->root_fd, "dangling_abs", O_WRONLY | O_CREAT | O_EXCL, 0644,
                     &error);
  g_assert_cmpint (fd, <, 0);
  g_assert_nonnull (error);
}

static void
test_nofollow_and_normal (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  struct stat st;
  int fd;

  fd = open_variant (VARIANT, f->root_fd, "rel_secret", O_RDONLY | O_NOFOLLOW, 0, &error);
  g_assert_cmpint (fd, <, 0);
  g_assert_nonnull (error);
  g_clear_error (&error);

  fd = open_variant (VARIANT, f->root_fd, "rel_secret", O_PATH | O_NOFOLLOW, 0, &error);
  g_assert_no_error (error);
  g_assert_cmpint (fstat (fd, &st), ==, 0);
  g_assert_true (S_ISLNK (st.st_mode));
  close (fd);

  fd = open_variant (VARIANT, f->root_fd, "rel_secret", O_RDONLY, 0, &error);
  g_autofree char *content = read_fd (fd);
  g_assert_no_error (error);
  g_assert_cmpstr (content, ==, INSIDE);

  fd = open_variant (VARIANT, f->root_fd, "./dir//sub/", O_RDONLY | O_DIRECTORY, 0, &error);
  g_assert_no_error (error);
  g_assert_cmpint (fstat (fd, &st), ==, 0);
  g_assert_true (S_ISDIR (st.st_mode));
  close (fd);

  fd = open_variant (VARIANT, f->root_fd, "secret/", O_RDONLY, 0, &error);
  g_assert_cmpint (fd, <, 0);
  g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_NOTDIR);
  g_clear_error (&error);

  fd = open_variant (VARIANT, f->root_fd, "missing/file", O_RDONLY, 0, &error);
  g_assert_cmpint (fd, <, 0);
  g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT);
  g_assert_cmpint (errno, ==, ENOENT);
}

/* ---- a symlink swapped in while we walk ---- */

typedef struct
{
  const char *root;
  const char *outside;
  volatile gint stop;
} Swapper;

static gpointer
swap_thread (gpointer data)
{
  Swapper *s = data;
  g_autofree char *race = g_build_filename (s->root, "race", NULL);
  g_autofree char *race_dir = g_build_filename (s->root, "race.dir", NULL);
  g_autofree char *race_link = g_build_filename (s->root, "race.link", NULL);

  /* Flip "race" between a real directory and a symlink to the outside. */
  while (!g_atomic_int_get (&s->stop))
    {
      (void) rename (race_link, race);
      (void) symlink (s->outside, race_link);
      (void) rename (race_dir, race_link);
      (void) rename (race, race_dir);
      (void) rename (race_link, race);
      (void) rename (race, race_link);
      (void) rename (race_dir, race);
      (void) rename (race, race_dir);
    }
  return NULL;
}

static void
test_swap_race (Fixture *f, gconstpointer data)
{
  g_autofree char *outside = g_build_filename (f->base, "outside", NULL);
  Swapper s = { f->root, outside, 0 };
  GThread *thread;
  guint inside = 0;

  put (f->root, "race.dir/secret", INSIDE);
  thread = g_thread_new ("swapper", swap_thread, &s);
  for (int i = 0; i < 4000; i++)
    {
      g_autoptr (GError) error = NULL;
      int fd = open_variant (VARIANT, f->root_fd, "race/secret", O_RDONLY, 0, &error);
      g_autofree char *content = read_fd (fd);
      if (content != NULL)
        {
          g_assert_cmpstr (content, !=, OUTSIDE);
          inside++;
        }
    }
  g_atomic_int_set (&s.stop, 1);
  g_thread_join (thread);
  g_test_message ("%u of 4000 opens found the inside file", inside);
}

/* ---- the seccomp run ---- */

static void
test_openat2_state (void)
{
  /* meson runs this program twice; under tests/no-syscall openat2 the kernel's
   * openat2 answers ENOSYS and every case above took the fallback. */
  if (g_getenv ("HUTCH_TEST_NO_OPENAT2") != NULL)
    g_assert_false (hutch_util_have_openat2 ());
  else
    g_assert_true (hutch_util_have_openat2 ());
}

/* ---- runroot and private directories ---- */

static void
test_private_dir (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *base = g_dir_make_tmp ("hutch-dir-XXXXXX", &error);
  g_autofree char *dir = g_build_filename (base, "a/b/run", NULL);
  g_autofree char *link = g_build_filename (base, "link", NULL);
  g_autofree char *open_dir = g_build_filename (base, "open", NULL);
  struct stat st;

  g_assert_no_error (error);
  g_assert_true (hutch_util_ensure_private_dir (dir, 0700, &error));
  g_assert_no_error (error);
  g_assert_cmpint (stat (dir, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 07777, ==, 0700);
  /* A second call accepts what the first made. */
  g_assert_true (hutch_util_ensure_private_dir (dir, 0700, &error));

  /* A planted symlink is refused, not followed. */
  g_assert_cmpint (symlink (dir, link), ==, 0);
  g_assert_false (hutch_util_ensure_private_dir (link, 0700, &error));
  g_assert_error (error, HUTCH_ERROR, HUTCH_ERROR_UNSAFE_PATH);
  g_clear_error (&error);

  g_assert_cmpint (mkdir (open_dir, 0777), ==, 0);
  g_assert_cmpint (chmod (open_dir, 0777), ==, 0);
  g_assert_false (hutch_util_ensure_private_dir (open_dir, 0700, &error));
  g_assert_error (error, HUTCH_ERROR, HUTCH_ERROR_UNSAFE_PATH);

  rmdir (open_dir);
  unlink (link);
  rmdir (dir);
  g_autofree char *b = g_build_filename (base, "a/b", NULL);
  g_autofree char *a = g_build_filename (base, "a", NULL);
  rmdir (b);
  rmdir (a);
  rmdir (base);
}

static void
test_default_runroot (void)
{
  g_autofree char *saved = g_strdup (g_getenv ("XDG_RUNTIME_DIR"));
  g_autofree char *expected = g_strdup_printf ("/tmp/hutch-run-%u", (unsigned) geteuid ());
  g_autofree char *why = NULL;
  g_autofree char *runroot = NULL;

  g_unsetenv ("XDG_RUNTIME_DIR");
  runroot = hutch_util_default_runroot (&why);
  g_assert_cmpstr (runroot, ==, expected);
  g_assert_nonnull (strstr (why, "not set"));
  g_clear_pointer (&runroot, g_free);
  g_clear_pointer (&why, g_free);

  /* After "su", XDG_RUNTIME_DIR still names someone else's directory: / is
   * root's and not ours (these tests never run as root). */
  if (geteuid () != 0)
    {
      g_setenv ("XDG_RUNTIME_DIR", "/", TRUE);
      runroot = hutch_util_default_runroot (&why);
      g_assert_cmpstr (runroot, ==, expected);
      g_assert_nonnull (strstr (why, "not yours"));
      g_clear_pointer (&runroot, g_free);
      g_clear_pointer (&why, g_free);
    }

  g_setenv ("XDG_RUNTIME_DIR", g_get_tmp_dir (), TRUE);
  runroot = hutch_util_default_runroot (&why);
  if (geteuid () != 0)
    g_assert_cmpstr (runroot, ==, expected); /* /tmp is root's */
  if (saved != NULL)
    g_setenv ("XDG_RUNTIME_DIR", saved, TRUE);
  else
    g_unsetenv ("XDG_RUNTIME_DIR");
}

static void
test_throw_errno (void)
{
  g_autoptr (GError) error = NULL;

  errno = ENOENT;
  g_assert_false (hutch_throw_errno (&error, "opening %s", "x"));
  g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT);
  g_assert_cmpint (errno, ==, ENOENT);
  g_assert_true (g_str_has_prefix (error->message, "opening x: "));
}

static void
test_json_writer (void)
{
  g_autoptr (HutchJsonWriter) w = hutch_json_writer_new (FALSE);
  g_autofree char *text = NULL;

  hutch_json_begin_object (w);
  hutch_json_key (w, "s");
  hutch_json_string (w, "q\"b\\n\nt\t\001\xff");
  hutch_json_key (w, "n");
  hutch_json_string (w, NULL);
  hutch_json_key (w, "a");
  hutch_json_begin_array (w);
  hutch_json_int (w, -3);
  hutch_json_bool (w, TRUE);
  hutch_json_double (w, 1.5);
  hutch_json_begin_object (w);
  hutch_json_end_object (w);
  hutch_json_end_array (w);
  hutch_json_end_object (w);
  text = hutch_json_writer_finish (w);
  /* Control characters escaped; invalid UTF-8 replaced, never passed on. */
  g_assert_cmpstr (text, ==,
                   "{\"s\":\"q\\\"b\\\\n\\nt\\t\\u0001\xef\xbf\xbd\","
                   "\"n\":null,\"a\":[-3,true,1.500,{}]}");
}

/* Every fd from 3 up close-on-exec, stdio left alone; under
 * tests/no-syscall close_range (meson runs this case there too) through the
 * /proc/self/fd walk, as on kernels before 5.11. */
static void
test_cloexec_from (void)
{
  pid_t pid = fork ();
  int status;

  g_assert_cmpint (pid, >=, 0);
  if (pid == 0)
    {
      const char *forced = g_getenv ("HUTCH_TEST_NO_CLOSE_RANGE");
      int a = fcntl (STDIN_FILENO, F_DUPFD, 10);
      int b = fcntl (STDIN_FILENO, F_DUPFD, 300);
      g_autoptr (GDir) dir = NULL;
      const char *name;

      if (a < 0 || b < 0 || (fcntl (a, F_GETFD) & FD_CLOEXEC))
        _exit (2);
      /* the filter is what forces the walk */
      if (forced != NULL && (syscall (SYS_close_range, 3, ~0U, 0) == 0
                             || errno != (g_str_equal (forced, "EINVAL") ? EINVAL : ENOSYS)))
        _exit (3);
      if (!hutch_util_cloexec_from (3))
        _exit (4);
      for (int fd = 0; fd <= 2; fd++)
        if (fcntl (fd, F_GETFD) >= 0 && (fcntl (fd, F_GETFD) & FD_CLOEXEC))
          _exit (5);
      dir = g_dir_open ("/proc/self/fd", 0, NULL);
      while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
        {
          int fd = atoi (name);
          if (fd >= 3 && fcntl (fd, F_GETFD) >= 0 && !(fcntl (fd, F_GETFD) & FD_CLOEXEC))
            _exit (6);
        }
      _exit (dir != NULL && (fcntl (b, F_GETFD) & FD_CLOEXEC) ? 0 : 7);
    }
  g_assert_cmpint (waitpid (pid, &status, 0), ==, pid);
  g_assert_true (WIFEXITED (status));
  g_assert_cmpint (WEXITSTATUS (status), ==, 0);
}

/* Paths in overlayfs's option syntax: ',', ':' and '\\' escaped, and a
 * list of them split back into the same paths. */
static void
test_option_escape (void)
{
  const char *paths[] = { "/a,b:c\\d/x", "/plain", ":", "", NULL };
  g_autofree char *one = hutch_util_option_escape ("/s,t:o\\re");
  g_autofree char *joined = hutch_util_list_join ((char **) paths, ':');
  g_auto (GStrv) back = hutch_util_list_split (joined, ':');
  g_auto (GStrv) none = hutch_util_list_split ("", ':');
  g_auto (GStrv) old = hutch_util_list_split ("/l/1:/l/2", ':');

  g_assert_cmpstr (one, ==, "/s\\,t\\:o\\\\re");
  g_assert_cmpstr (joined, ==, "/a\\,b\\:c\\\\d/x:/plain:\\::");
  g_assert_cmpstrv (back, paths);
  g_assert_cmpuint (g_strv_length (none), ==, 0);
  /* a list written before escaping (no backslash in it) reads the same */
  g_assert_cmpuint (g_strv_length (old), ==, 2);
  g_assert_cmpstr (old[1], ==, "/l/2");
}

/* Writes that never wait: a pipe nobody reads keeps what it cannot take,
 * the shared file description stays blocking, what is kept goes once the
 * reader reads, and a reader that has gone is said. */
static void
test_output_pipe (void)
{
  g_autoptr (HutchOutput) o = NULL;
  g_autofree char *block = g_malloc0 (1 << 20);
  char buf[65536];
  int p[2];
  gsize kept;

  g_assert_no_errno (pipe2 (p, O_CLOEXEC));
  o = hutch_util_output_new (p[1]);
  g_assert_true (hutch_util_output_write (o, block, 1 << 20));
  kept = hutch_util_output_kept (o);
  g_assert_cmpuint (kept, >, 0);
  g_assert_cmpuint (kept, <, 1 << 20);
  g_assert_cmpint (hutch_util_output_poll_fd (o), >=, 0);
  g_assert_false (fcntl (p[1], F_GETFL) & O_NONBLOCK);
  g_assert_cmpint (read (p[0], buf, sizeof buf), ==, sizeof buf);
  g_assert_true (hutch_util_output_flush (o));
  g_assert_cmpuint (hutch_util_output_kept (o), <, kept);
  close (p[0]);
  signal (SIGPIPE, SIG_IGN);
  g_assert_false (hutch_util_output_flush (o));
  g_assert_true (hutch_util_output_gone (o));
  g_assert_cmpuint (hutch_util_output_kept (o), ==, 0);
  g_assert_cmpint (hutch_util_output_poll_fd (o), ==, -1);
  g_assert_false (hutch_util_output_write (o, "x", 1));
  signal (SIGPIPE, SIG_DFL);
  g_clear_pointer (&o, hutch_util_output_free);
  close (p[1]);
}

#ifndef NDEBUG
static gpointer
wait_for_quit (gpointer data)
{
  g_mutex_lock (data);
  g_mutex_unlock (data);
  return NULL;
}

/* The single-thread assertion: silent with one thread, and with a second
 * it stops the process naming the count and the caller. */
static void
test_single_thread_assert (void)
{
  if (g_test_subprocess ())
    {
      GMutex quit;
      GThread *t;

      hutch_util_assert_single_thread ();
      g_mutex_init (&quit);
      g_mutex_lock (&quit);
      t = g_thread_new ("second", wait_for_quit, &quit);
      hutch_util_assert_single_thread ();
      g_mutex_unlock (&quit);
      g_thread_join (t);
      return;
    }
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_failed ();
  g_test_trap_assert_stderr ("*forking with 2 threads in test_single_thread_assert*");
}
#endif

int
main (int argc, char **argv)
{
  static const struct
  {
    const char *name;
    void (*fn) (Fixture *, gconstpointer);
  } cases[] = {
    { "dotdot", test_dotdot },
    { "dotdot-clamped", test_dotdot_clamped },
    { "relative-symlink-escape", test_relative_symlink_escape },
    { "absolute-symlink", test_absolute_symlink },
    { "absolute-path", test_absolute_path },
    { "symlink-loop", test_symlink_loop },
    { "proc-self-root", test_proc_self_root },
    { "long-chain", test_long_chain },
    { "create-through-symlink", test_create_through_symlink },
    { "nofollow-and-normal", test_nofollow_and_normal },
    { "swap-race", test_swap_race },
  };

  g_test_init (&argc, &argv, NULL);

  for (gsize v = 0; v < G_N_ELEMENTS (variants); v++)
    for (gsize c = 0; c < G_N_ELEMENTS (cases); c++)
      {
        g_autofree char *path = g_strdup_printf ("/util/beneath/%s/%s", variants[v].name,
                                                 cases[c].name);
        g_test_add (path, Fixture, &variants[v], fixture_setup, cases[c].fn, fixture_teardown);
      }
  g_test_add_func ("/util/beneath/openat2-state", test_openat2_state);
  g_test_add_func ("/util/dirs/private-dir", test_private_dir);
  g_test_add_func ("/util/dirs/default-runroot", test_default_runroot);
  g_test_add_func ("/util/error/throw-errno", test_throw_errno);
  g_test_add_func ("/util/json/writer", test_json_writer);
  g_test_add_func ("/util/output/pipe", test_output_pipe);
  g_test_add_func ("/util/escape/option", test_option_escape);
  g_test_add_func ("/util/fds/cloexec-from", test_cloexec_from);
#ifndef NDEBUG
  g_test_add_func ("/util/threads/single-thread-assert", test_single_thread_assert);
#endif

  return g_test_run ();
}
