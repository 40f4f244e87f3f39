/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Running config.json's hooks: each program with its args and env, the
 * container's state document on its stdin, its timeout enforced (killed
 * when it passes). Used by oci/ for the hooks the runtime runs and by the
 * container's process for createContainer and startContainer (bundle.c);
 * which hook runs when is theirs. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bundle-private.h"

void
hutch_sandbox_hook_free (HutchSandboxHook *h)
{
  if (h == NULL)
    return;
  g_free (h->path);
  g_strfreev (h->args);
  g_strfreev (h->env);
  g_free (h);
}

static gboolean
wait_hook (pid_t pid, int timeout, const char *name, GError **error)
{
  gint64 deadline = timeout > 0 ? g_get_monotonic_time () + (gint64) timeout * G_USEC_PER_SEC : 0;
  int status;

  for (;;)
    {
      pid_t r = waitpid (pid, &status, WNOHANG);
      if (r == pid)
        break;
      if (r < 0 && errno != EINTR)
        return hutch_throw_errno (error, "waiting for %s", name);
      if (deadline != 0 && g_get_monotonic_time () > deadline)
        {
          (void) kill (pid, SIGKILL);
          (void) waitpid (pid, NULL, 0);
          return hutch_throw (error, HUTCH_ERROR_FAILED, "%s: timed out after %d s", name, timeout);
        }
      g_usleep (2000);
    }
  if (!WIFEXITED (status) || WEXITSTATUS (status) != 0)
    return hutch_throw (error, HUTCH_ERROR_FAILED, "%s failed (%s %d)", name,
                        WIFEXITED (status) ? "exit status" : "signal",
                        WIFEXITED (status) ? WEXITSTATUS (status) : WTERMSIG (status));
  return TRUE;
}

static gboolean
run_one (const HutchSandboxHook *h, const char *state_json, GError **error)
{
  char *default_args[] = { h->path, NULL };
  char *no_env[] = { NULL };
  posix_spawn_file_actions_t fa;
  int in[2], r;
  pid_t pid;
  gboolean wrote;

  if (pipe2 (in, O_CLOEXEC) < 0)
    return hutch_throw_errno (error, "hook %s: pipe", h->path);
  posix_spawn_file_actions_init (&fa);
  posix_spawn_file_actions_adddup2 (&fa, in[0], STDIN_FILENO);
  hutch_util_assert_single_thread ();
  r = posix_spawn (&pid, h->path, &fa, NULL, h->args != NULL ? h->args : default_args,
                   h->env != NULL ? h->env : no_env);
  posix_spawn_file_actions_destroy (&fa);
  close (in[0]);
  if (r != 0)
    {
      close (in[1]);
      return hutch_throw_errno_val (error, r, "hook %s", h->path);
    }
  /* a hook that does not read its state gets EPIPE on our side: ignored */
  {
    void (*old) (int) = signal (SIGPIPE, SIG_IGN);
    wrote = hutch_util_write_all (in[1], state_json, strlen (state_json), NULL);
    signal (SIGPIPE, old);
  }
  (void) wrote;
  close (in[1]);
  return wait_hook (pid, h->timeout, h->path, error);
}

gboolean
hutch_sandbox_hooks_run (GPtrArray *hooks, const char *what, const char *state_json,
                         GError **error)
{
  for (guint i = 0; hooks != NULL && i < hooks->len; i++)
    if (!run_one (hooks->pdata[i], state_json, error))
      {
        g_prefix_error (error, "%s hook: ", what);
        return FALSE;
      }
  return TRUE;
}
