/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* hutch attach [--sig-proxy=BOOL] CONTAINER: a running container's output
 * as it comes, signals to us passed on to it (docker's --sig-proxy), and
 * its exit status as ours when it ends. A detached hutch container keeps
 * no stdin open (run refuses -d -it), so there is no input to attach. */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli-private.h"
#include "container/container.h"

static const int proxied[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2 };

/* The log from now on, followed until the container ends, in a child. */
static pid_t
follow_output (HutchContext *ctx, const char *id, gint64 since, const sigset_t *old)
{
  pid_t pid;

  fflush (stdout);
  hutch_util_assert_single_thread ();
  pid = fork ();
  if (pid == 0)
    {
      /* since the attach began, not what is in the log when the child
       * opens it: a line written meanwhile is not lost */
      HutchLogsOptions o = { .follow = TRUE, .tail = -1, .since = since };
      g_autoptr (GError) error = NULL;
      sigprocmask (SIG_SETMASK, old, NULL);
      (void) prctl (PR_SET_PDEATHSIG, SIGKILL);
      if (!hutch_container_logs (ctx, id, &o, &error))
        {
          fprintf (stderr, "hutch: %s\n", error->message);
          _exit (HUTCH_EXIT_FAILURE);
        }
      fflush (stdout);
      _exit (0);
    }
  return pid;
}

static int
run_attach (const HutchCliCommand *cmd, HutchContext *ctx, int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (HutchContainer) c = NULL;
  g_autofree char *id = NULL, *sig_proxy = NULL;
  gboolean no_stdin = FALSE, proxy;
  sigset_t set, old;
  int status, code = 0, sfd;
  pid_t follower;
  gint64 since = g_get_real_time ();
  const GOptionEntry entries[] = {
    { "sig-proxy", 0, 0, G_OPTION_ARG_STRING, &sig_proxy,
      "true (default): signals to hutch go to the container's command", "BOOL" },
    { "no-stdin", 0, 0, G_OPTION_ARG_NONE, &no_stdin, "Do not attach stdin (there is none to attach)", NULL },
    { NULL },
  };

  if (!hutch_cli_parse (cmd, entries, &argc, &argv, &status))
    return status;
  if (argc != 2)
    return hutch_cli_usage_error (cmd, "name one container");
  if (sig_proxy != NULL && strcmp (sig_proxy, "true") != 0 && strcmp (sig_proxy, "false") != 0)
    return hutch_cli_usage_error (cmd, "--sig-proxy=%s: use true or false", sig_proxy);
  proxy = sig_proxy == NULL || strcmp (sig_proxy, "true") == 0;
  if ((id = hutch_container_resolve (ctx, argv[1], &error)) == NULL
      || (c = hutch_container_load (ctx, id, &error)) == NULL)
    return hutch_cli_fail (g_steal_pointer (&error));
  if (c->status != HUTCH_CONTAINER_RUNNING)
    return hutch_cli_fail (g_error_new (HUTCH_ERROR, HUTCH_ERROR_USAGE,
                                        "container %s is not running: you cannot attach to it "
                                        "(\"hutch start -a %s\" starts it attached, \"hutch logs "
                                        "%s\" shows what it printed)", c->name, c->name, c->name));
  sigemptyset (&set);
  /* a shell starts background jobs with SIGINT and SIGQUIT ignored, and an
   * ignored signal is discarded even while blocked: take them back */
  for (gsize i = 0; i < G_N_ELEMENTS (proxied); i++)
    {
      signal (proxied[i], SIG_DFL);
      sigaddset (&set, proxied[i]);
    }
  sigaddset (&set, SIGCHLD);
  sigprocmask (SIG_BLOCK, &set, &old);
  sfd = signalfd (-1, &set, SFD_CLOEXEC);
  if (sfd < 0)
    return hutch_cli_fail (g_error_new (HUTCH_ERROR, HUTCH_ERROR_FAILED, "attaching: signalfd: %s",
                                        g_strerror (errno)));
  follower = follow_output (ctx, id, since, &old);
  if (follower < 0)
    return hutch_cli_fail (g_error_new (HUTCH_ERROR, HUTCH_ERROR_FAILED, "attaching: fork: %s",
                                        g_strerror (errno)));
  for (;;)
    {
      struct signalfd_siginfo si;
      ssize_t n = read (sfd, &si, sizeof si);
      if (n < 0 && errno == EINTR)
        continue;
      if (n != sizeof si)
        break;
      if (si.ssi_signo == SIGCHLD)
        {
          int st;
          if (waitpid (follower, &st, WNOHANG) == follower)
            {
              code = WIFEXITED (st) ? WEXITSTATUS (st) : HUTCH_EXIT_FAILURE;
              break;
            }
          continue;
        }
      /* without the proxy, a signal ends the attachment alone, as docker */
      if (!proxy)
        {
          (void) kill (follower, SIGTERM);
          (void) waitpid (follower, NULL, 0);
          close (sfd);
          return 128 + (int) si.ssi_signo;
        }
      if (!hutch_container_kill (ctx, id, (int) si.ssi_signo, &error))
        g_clear_error (&error); /* it has ended meanwhile: the follower sees it */
    }
  close (sfd);
  if (code != 0)
    return code;
  /* the output is all there: the container has ended; its code is ours */
  if (!hutch_container_wait (ctx, id, &code, &error))
    return hutch_cli_fail (g_steal_pointer (&error));
  return code;
}

const HutchCliCommand hutch_cli_command_attach = {
  "attach", "[OPTIONS] CONTAINER",
  "Follow a running container's output, pass signals on, and end with it",
  run_attach,
};
