/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The user's namespace holder: one user namespace with the user's own id
 * map (the user, then the subordinate ids), kept between runs by a process
 * that only sleeps in it. A run joins it (setns) and makes the container's
 * own user namespace inside it, mapped by a plain write to uid_map from a
 * forked child (nest.c's job in run.c), instead of starting the setuid
 * newuidmap and newgidmap every time: two execs that were most of a
 * container's start-up (tests/bench/run-latency.sh --profile).
 *
 * Each container still has a user namespace of its own, as before: the
 * holder's namespace owns nothing but the holder and the outer children of
 * running containers, and no container has a capability in it.
 *
 * The holder is recorded in RUNROOT/userns as "PID STARTTIME"; a run takes
 * it only when that process is alive, started then, owns a namespace of
 * this user and maps exactly the ids the user has now (a changed
 * /etc/subuid makes a new one). The holder leaves when the record is
 * removed or replaced (inotify), or after HOLDER_IDLE_SECONDS without a
 * run (each run touches the record). Its namespace stays alive as long as
 * a container made in it runs. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/nsfs.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sandbox-private.h"

#define HOLDER_RECORD "userns"
#define HOLDER_LOCK "userns.lock"
#define HOLDER_IDLE_SECONDS 600

/* The record at @path (beneath @dfd). */
static gboolean
record_read (int dfd, const char *path, pid_t *out_pid, guint64 *out_start)
{
  hutch_autofd int fd = openat (dfd, path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  char buf[64];
  ssize_t n;
  int pid;
  guint64 start;

  if (fd < 0 || (n = read (fd, buf, sizeof buf - 1)) <= 0)
    return FALSE;
  buf[n] = '\0';
  if (sscanf (buf, "%d %" G_GUINT64_FORMAT, &pid, &start) != 2 || pid <= 1)
    return FALSE;
  *out_pid = pid;
  *out_start = start;
  return TRUE;
}

/* Whether /proc/PID/uid_map (gid_map with @gid), as we read it from the
 * host, is @map's lines. */
static gboolean
map_matches (pid_t pid, const HutchIdMap *map, gboolean gid)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/%s", (int) pid, gid ? "gid_map" : "uid_map");
  g_autoptr (GArray) lines = hutch_sandbox_idmap_lines (map, gid);
  g_autofree char *text = NULL;
  char *p, *end;
  guint i = 0;

  if (!g_file_get_contents (path, &text, NULL, NULL))
    return FALSE;
  for (p = text; *p != '\0'; p = end, i++)
    {
      guint64 v[3];
      const HutchIdMapLine *l;

      for (int k = 0; k < 3; k++)
        {
          v[k] = g_ascii_strtoull (p, &end, 10);
          if (end == p)
            return *g_strchug (p) == '\0' && k == 0 && i == lines->len;
          p = end;
        }
      if (i >= lines->len)
        return FALSE;
      l = &g_array_index (lines, HutchIdMapLine, i);
      if (v[0] != l->inside || v[1] != l->outside || v[2] != l->count)
        return FALSE;
    }
  return i == lines->len;
}

/* Whether @pid is alive, not a zombie (whose namespace /proc still shows:
 * where nothing reaps orphans, a killed holder stays one). */
static gboolean
pid_running (pid_t pid)
{
  char path[64], buf[512];
  hutch_autofd int fd = -1;
  ssize_t n;
  char *paren;

  g_snprintf (path, sizeof path, "/proc/%d/stat", (int) pid);
  fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0 || (n = read (fd, buf, sizeof buf - 1)) <= 0)
    return FALSE;
  buf[n] = '\0';
  paren = strrchr (buf, ')');
  return paren != NULL && paren[1] == ' ' && paren[2] != 'Z' && paren[2] != 'X';
}

/* The holder's namespace when the record names a live holder of this user
 * with @map; -1 otherwise. */
static int
holder_open (int dfd, const HutchIdMap *map)
{
  g_autofree char *path = NULL;
  hutch_autofd int pidfd = -1;
  hutch_autofd int ns = -1;
  pid_t pid;
  guint64 start, now = 0;
  uid_t owner;

  if (!record_read (dfd, HOLDER_RECORD, &pid, &start))
    return -1;
  pidfd = hutch_util_pidfd_open_checked (pid, start, "the user namespace holder", NULL);
  if (pidfd < 0)
    return -1;
  path = g_strdup_printf ("/proc/%d/ns/user", (int) pid);
  ns = open (path, O_RDONLY | O_CLOEXEC);
  /* the same process still: the fd is its namespace */
  if (ns < 0 || !hutch_util_pid_start_time (pid, &now) || now != start || !pid_running (pid))
    return -1;
  if (ioctl (ns, NS_GET_OWNER_UID, &owner) < 0 || owner != getuid ()
      || !map_matches (pid, map, FALSE) || !map_matches (pid, map, TRUE))
    return -1;
  (void) utimensat (dfd, HOLDER_RECORD, NULL, AT_SYMLINK_NOFOLLOW);
  return hutch_fd_steal (&ns);
}

/* Whether the record at @path still names this process. */
static gboolean
record_is_mine (const char *path)
{
  pid_t pid;
  guint64 start;

  return record_read (AT_FDCWD, path, &pid, &start) && pid == getpid ();
}

/* The holder: no fd of the caller's, no terminal, no directory pinned.
 * Waits for "r" (the record written) on @sync, then for the record to go,
 * or for a long idle time. */
static void G_GNUC_NORETURN
holder_main (int sync, const char *path)
{
  hutch_autofd int ino = -1;
  struct pollfd pfd;
  char c;
  int devnull;

  (void) setsid ();
  (void) chdir ("/");
  /* no argument of the run that made it, no environment of its caller */
  (void) hutch_util_proc_title_set ("hutch-userns");
  signal (SIGHUP, SIG_IGN);
  signal (SIGINT, SIG_IGN);
  signal (SIGPIPE, SIG_IGN);
  devnull = open ("/dev/null", O_RDWR);
  for (int fd = 0; devnull >= 0 && fd < 3; fd++)
    (void) dup2 (devnull, fd);
  if (dup2 (sync, 3) < 0)
    _exit (1);
  (void) syscall (SYS_close_range, 4, ~0U, 0);
  if (read (3, &c, 1) != 1 || c != 'r')
    _exit (0);
  close (3);
  ino = inotify_init1 (IN_CLOEXEC);
  if (ino < 0 || inotify_add_watch (ino, path, IN_DELETE_SELF | IN_MOVE_SELF) < 0)
    _exit (0);
  pfd = (struct pollfd) { .fd = ino, .events = POLLIN };
  for (;;)
    {
      struct stat st;
      int r = poll (&pfd, 1, 60 * 1000);

      if (r < 0 && errno == EINTR)
        continue;
      if (r != 0) /* the record went (or poll failed: never spin) */
        _exit (0);
      if (stat (path, &st) < 0 || !record_is_mine (path))
        _exit (0);
      if (time (NULL) - st.st_mtime > HOLDER_IDLE_SECONDS)
        {
          (void) unlink (path);
          _exit (0);
        }
    }
}

struct _HutchHolderNew
{
  pid_t pid;
  int sync; /* the holder goes on when it reads "r", leaves at EOF */
  int ns;
  int lock;
  int dfd;
  HutchIdMapWriter *writer;
};

void
hutch_sandbox_holder_new_free (HutchHolderNew *h)
{
  if (h->writer != NULL)
    (void) hutch_sandbox_idmap_write_finish (h->writer, NULL);
  hutch_fd_clear (&h->sync);
  hutch_fd_clear (&h->ns);
  hutch_fd_clear (&h->lock);
  hutch_fd_clear (&h->dfd);
  g_free (h);
}

/* A grandchild, so that it is nobody's child once we exit: born in its
 * user namespace, it waits to be mapped. Its pid comes back through a pipe
 * from the child, which then exits. */
static pid_t
holder_spawn (int sync_read, const char *path)
{
  int pipefd[2];
  pid_t mid, pid = -1;
  int status;

  if (pipe2 (pipefd, O_CLOEXEC) < 0)
    return -1;
  hutch_util_assert_single_thread ();
  mid = fork ();
  if (mid == 0)
    {
      pid_t holder;

      close (pipefd[0]);
      holder = (pid_t) syscall (SYS_clone, CLONE_NEWUSER | SIGCHLD, NULL, NULL, NULL, 0);
      if (holder == 0)
        holder_main (sync_read, path);
      (void) !write (pipefd[1], &holder, sizeof holder);
      _exit (holder > 0 ? 0 : 1);
    }
  close (pipefd[1]);
  if (mid > 0)
    {
      if (read (pipefd[0], &pid, sizeof pid) != sizeof pid)
        pid = -1;
      while (waitpid (mid, &status, 0) < 0 && errno == EINTR)
        ;
    }
  close (pipefd[0]);
  return pid;
}

HutchHolderNew *
hutch_sandbox_holder_get (const HutchIdMap *map, const char *runroot, int *out_ns)
{
  g_autoptr (HutchHolderNew) h = g_new0 (HutchHolderNew, 1);
  g_autofree char *path = NULL;
  g_autofree char *ns_path = NULL;
  int sync[2];

  *out_ns = -1;
  h->sync = h->ns = h->lock = -1;
  h->dfd = open (runroot, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (h->dfd < 0)
    return NULL;
  if ((*out_ns = holder_open (h->dfd, map)) >= 0)
    return NULL;
  /* one maker at a time: a second waits and takes the first's */
  h->lock = openat (h->dfd, HOLDER_LOCK, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (h->lock < 0 || flock (h->lock, LOCK_EX) < 0)
    return NULL;
  if ((*out_ns = holder_open (h->dfd, map)) >= 0)
    return NULL;
  if (pipe2 (sync, O_CLOEXEC) < 0)
    return NULL;
  path = g_build_filename (runroot, HOLDER_RECORD, NULL);
  h->pid = holder_spawn (sync[0], path);
  close (sync[0]);
  h->sync = sync[1];
  if (h->pid <= 0)
    return NULL;
  ns_path = g_strdup_printf ("/proc/%d/ns/user", (int) h->pid);
  h->ns = open (ns_path, O_RDONLY | O_CLOEXEC);
  if (h->ns < 0)
    return NULL;
  h->writer = hutch_sandbox_idmap_write_start (h->pid, map);
  return g_steal_pointer (&h);
}

int
hutch_sandbox_holder_finish (HutchHolderNew *h, GError **error)
{
  g_autofree char *text = NULL;
  guint64 start = 0;
  int ns = -1;

  if (!hutch_sandbox_idmap_write_finish (g_steal_pointer (&h->writer), error))
    {
      hutch_sandbox_holder_new_free (h); /* EOF: the holder leaves */
      return -1;
    }
  /* recorded only once mapped: a run that sees it may use it; when it
   * cannot be, the holder leaves at EOF and this run has the namespace */
  if (hutch_util_pid_start_time (h->pid, &start))
    {
      hutch_autofd int fd = openat (h->dfd, HOLDER_RECORD ".tmp",
                                    O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
      text = g_strdup_printf ("%d %" G_GUINT64_FORMAT "\n", (int) h->pid, start);
      if (fd >= 0 && hutch_util_write_all (fd, text, strlen (text), NULL)
          && renameat (h->dfd, HOLDER_RECORD ".tmp", h->dfd, HOLDER_RECORD) == 0)
        (void) !write (h->sync, "r", 1);
    }
  ns = hutch_fd_steal (&h->ns);
  hutch_sandbox_holder_new_free (h);
  return ns;
}

char *
hutch_sandbox_idmap_nest_text (const HutchIdMap *inner, const HutchIdMap *outer, gboolean gid)
{
  g_autoptr (GArray) in = hutch_sandbox_idmap_lines (inner, gid);
  g_autoptr (GArray) out = hutch_sandbox_idmap_lines (outer, gid);
  g_autoptr (GString) text = g_string_new (NULL);

  for (guint i = 0; i < in->len; i++)
    {
      HutchIdMapLine l = g_array_index (in, HutchIdMapLine, i);

      while (l.count > 0)
        {
          const HutchIdMapLine *o = NULL;
          guint32 n;

          for (guint j = 0; j < out->len && o == NULL; j++)
            {
              const HutchIdMapLine *c = &g_array_index (out, HutchIdMapLine, j);
              if (l.outside >= c->outside && l.outside - c->outside < c->count)
                o = c;
            }
          if (o == NULL)
            return NULL;
          n = MIN (l.count, o->count - (l.outside - o->outside));
          g_string_append_printf (text, "%u %u %u\n", l.inside, o->inside + (l.outside - o->outside),
                                  n);
          l.inside += n;
          l.outside += n;
          l.count -= n;
        }
    }
  return g_string_free (g_steal_pointer (&text), FALSE);
}

HutchIdMap
hutch_sandbox_holder_map (const HutchIdMap *map)
{
  HutchIdMap user = *map;

  user.keep_id = FALSE;
  return user;
}

int
hutch_sandbox_holder_ns_for (const HutchIdMap *map)
{
  g_autoptr (HutchHolderNew) made = NULL;
  g_autofree char *runroot = NULL;
  int ns = -1;

  /* only the user's own map, which is the holder's */
  if (map->single || map->keep_id || g_strcmp0 (g_getenv ("HUTCH_USERNS_HOLDER"), "0") == 0)
    return -1;
  runroot = hutch_util_default_runroot (NULL);
  if (runroot == NULL || !hutch_util_ensure_private_dir (runroot, 0700, NULL))
    return -1;
  made = hutch_sandbox_holder_get (map, runroot, &ns);
  if (made != NULL)
    ns = hutch_sandbox_holder_finish (g_steal_pointer (&made), NULL);
  return ns;
}
