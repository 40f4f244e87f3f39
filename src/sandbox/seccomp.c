/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The default seccomp filter, in the spirit of Docker's default profile
 * (moby/profiles/seccomp/default.json) for a container without
 * CAP_SYS_ADMIN: allow everything else, and make EPERM of what loads kernel
 * code, reaches other namespaces, mounts, touches the keyring, the clock,
 * swap, BPF, perf, userfaultfd, io_uring, or opens files by handle (the
 * "shocker" escape). clone3 gets ENOSYS, so libc falls back to clone,
 * whose namespace flags are then checked here. */
#include "config.h"

#include <errno.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <seccomp.h>
#include <sys/prctl.h>

#include "sandbox-private.h"

typedef scmp_filter_ctx HutchSeccomp;
G_DEFINE_AUTO_CLEANUP_FREE_FUNC (HutchSeccomp, seccomp_release, NULL)

static const char *const denied[] = {
  "acct", "add_key", "bpf", "clock_adjtime", "clock_settime", "create_module", "delete_module",
  "finit_module", "fsconfig", "fsmount", "fsopen", "fspick", "get_kernel_syms", "get_mempolicy",
  "init_module", "io_uring_enter", "io_uring_register", "io_uring_setup", "ioperm", "iopl",
  "kcmp", "kexec_file_load", "kexec_load", "keyctl", "lookup_dcookie", "mbind", "migrate_pages",
  "mount", "mount_setattr", "move_mount", "move_pages", "name_to_handle_at", "nfsservctl",
  "open_by_handle_at", "open_tree", "perf_event_open", "pivot_root", "process_vm_readv",
  "process_vm_writev", "ptrace", "query_module", "quotactl", "quotactl_fd", "reboot",
  "request_key", "set_mempolicy", "setns", "settimeofday", "stime", "swapoff", "swapon",
  "sysfs", "syslog", "umount", "umount2", "unshare", "uselib", "userfaultfd", "ustat",
  "vhangup", "vm86", "vm86old",
};

static const unsigned long namespace_flags[] = {
  CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC, CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET,
  CLONE_NEWCGROUP,
};

static const unsigned long tty_denied[] = { TIOCSTI, TIOCLINUX };

/* The container's rules, and @extra (NULL-terminated) denied as well. */
static gboolean
load (const char *const *extra, const char *allowed, GError **error)
{
  g_auto (HutchSeccomp) ctx = seccomp_init (SCMP_ACT_ALLOW);
  int nr, r;

  if (ctx == NULL)
    return hutch_throw (error, HUTCH_ERROR_FAILED, "making the seccomp filter");
  for (gsize i = 0; i < G_N_ELEMENTS (denied); i++)
    {
      nr = seccomp_syscall_resolve_name (denied[i]);
      if (nr == __NR_SCMP_ERROR || g_strcmp0 (denied[i], allowed) == 0)
        continue; /* not on this architecture, or wanted */
      if ((r = seccomp_rule_add (ctx, SCMP_ACT_ERRNO (EPERM), nr, 0)) < 0)
        return hutch_throw_errno_val (error, -r, "seccomp: denying %s", denied[i]);
    }
  for (const char *const *x = extra; x != NULL && *x != NULL; x++)
    if ((nr = seccomp_syscall_resolve_name (*x)) != __NR_SCMP_ERROR
        && (r = seccomp_rule_add (ctx, SCMP_ACT_ERRNO (EPERM), nr, 0)) < 0)
      return hutch_throw_errno_val (error, -r, "seccomp: denying %s", *x);
  nr = seccomp_syscall_resolve_name ("clone3");
  if (nr != __NR_SCMP_ERROR && (r = seccomp_rule_add (ctx, SCMP_ACT_ERRNO (ENOSYS), nr, 0)) < 0)
    return hutch_throw_errno_val (error, -r, "seccomp: clone3");
  for (gsize i = 0; i < G_N_ELEMENTS (namespace_flags); i++)
    if ((r = seccomp_rule_add (ctx, SCMP_ACT_ERRNO (EPERM), SCMP_SYS (clone), 1,
                               SCMP_A0 (SCMP_CMP_MASKED_EQ, namespace_flags[i], namespace_flags[i]))) < 0)
      return hutch_throw_errno_val (error, -r, "seccomp: clone flags");
  /* No keystrokes pushed into a terminal (TIOCSTI) nor its console
   * selection read (TIOCLINUX): a terminal the sandbox shares with the
   * user is the user's shell's input. */
  for (gsize i = 0; i < G_N_ELEMENTS (tty_denied); i++)
    if ((r = seccomp_rule_add (ctx, SCMP_ACT_ERRNO (EPERM), SCMP_SYS (ioctl), 1,
                               SCMP_A1 (SCMP_CMP_MASKED_EQ, 0xffffffffu, tty_denied[i]))) < 0)
      return hutch_throw_errno_val (error, -r, "seccomp: ioctl");
  if ((r = seccomp_load (ctx)) < 0)
    return hutch_throw_errno_val (error, -r, "loading the seccomp filter");
  return TRUE;
}

gboolean
hutch_sandbox_seccomp_load (GError **error)
{
  return load (NULL, NULL, error);
}

gboolean
hutch_sandbox_seccomp_load_monitor (GError **error)
{
  /* The monitor runs libslirp, a TCP/IP stack that parses what the
   * container sends, as slirp4netns --enable-seccomp confines it. Once the
   * container runs, the monitor starts no program (the setuid id helpers
   * ran before) and makes no namespace or mount: it gets the container's
   * rules, no exec, and no_new_privs, which a filter needs without
   * CAP_SYS_ADMIN. What it may still do is what the user may: write the
   * container's log and records, and talk to the network. */
  static const char *const no_exec[] = { "execve", "execveat", NULL };
#ifdef __SANITIZE_ADDRESS__
  /* LeakSanitizer stops the process at its end with ptrace(2) */
  const char *allowed = "ptrace";
#else
  const char *allowed = NULL;
#endif

  if (prctl (PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
    return hutch_throw_errno (error, "setting no_new_privs in the monitor");
  return load (no_exec, allowed, error);
}
