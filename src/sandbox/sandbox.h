/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* sandbox/: user namespaces and id maps, the rootfs, mounts and the init.
 * For now: what the host offers for them (probe.c) and the id mapping that
 * both the probe and `run` use (idmap.c). */
#pragma once

#include <signal.h>
#include <sys/types.h>
#include <glib.h>

#include "util/util.h"

G_BEGIN_DECLS

/* One line of /etc/subuid or /etc/subgid that belongs to the user. */
typedef struct
{
  guint32 start;
  guint32 count;
} HutchIdRange;

/* How container ids map onto host ids: container 0 is the user, container
 * 1..n are the user's subordinate ranges in order; with @single only 0.
 * With @keep_id (--userns=keep-id) the user is container @uid/@gid instead,
 * the subordinate ranges fill 0..uid-1 and then uid+1.. (as podman maps). */
typedef struct
{
  uid_t uid;
  gid_t gid;
  GArray *uid_ranges; /* HutchIdRange */
  GArray *gid_ranges; /* HutchIdRange */
  gboolean single;
  gboolean keep_id;
} HutchIdMap;

/* One line of a uid_map or gid_map: @count ids from @inside map to
 * @outside.. on the host. */
typedef struct
{
  guint32 inside;
  guint32 outside;
  guint32 count;
} HutchIdMapLine;

/* The lines of @map's uid (or, with @gid, gid) map, in container order.
 * Returns a new array of HutchIdMapLine. */
GArray *hutch_sandbox_idmap_lines (const HutchIdMap *map, gboolean gid);
/* Whether container id @id (a gid with @gid) is mapped by @map. */
gboolean hutch_sandbox_idmap_contains (const HutchIdMap *map, gboolean gid, guint32 id);
/* The user's own map made keep-id (HUTCH_ERROR_USAGE-free: never fails). */
void hutch_sandbox_idmap_set_keep_id (HutchIdMap *map);
/* Whether container id 0 is mapped: not in a single keep-id map, the user
 * alone at its own id (hutch shell: no setuid helper to run), where the
 * sandbox's set-up runs as the user with the namespace's capabilities. */
gboolean hutch_sandbox_idmap_root_mapped (const HutchIdMap *map);

/* Reads the ranges that @user (or its numeric @uid) owns in @path (the
 * subuid/subgid file). A missing file means no ranges, not an error.
 * Returns a new array of HutchIdRange. */
GArray *hutch_sandbox_subid_ranges_read (const char *path, const char *user, uid_t uid,
                                         GError **error);

/* The first free range of @count ids at or above 100000 that no entry of
 * @path uses: what `hutch check` suggests to `usermod --add-subuids`. */
guint32 hutch_sandbox_subid_free_start (const char *path, guint32 count);

/* Total ids in @ranges. */
guint64 hutch_sandbox_id_ranges_total (GArray *ranges);

/* Writes @map for the process @pid, which has just unshared its user
 * namespace: through newuidmap/newgidmap (found in PATH) unless @map is
 * single, else by writing uid_map/gid_map ourselves. Errors name the helper
 * and carry what it printed. */
gboolean hutch_sandbox_idmap_write (pid_t pid, const HutchIdMap *map, GError **error);
/* The same in two steps: the helpers started, then waited for; what went
 * wrong is told by _finish, which frees @w. */
typedef struct _HutchIdMapWriter HutchIdMapWriter;
HutchIdMapWriter *hutch_sandbox_idmap_write_start (pid_t pid, const HutchIdMap *map);
gboolean hutch_sandbox_idmap_write_finish (HutchIdMapWriter *w, GError **error);

/* The map this user gets: container 0 is the user, 1.. the ranges of
 * /etc/subuid and /etc/subgid; single (the user alone) without them. */
HutchIdMap *hutch_sandbox_idmap_new_for_user (GError **error);
void hutch_sandbox_idmap_free (HutchIdMap *map);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (HutchIdMap, hutch_sandbox_idmap_free)
/* A stable text of @map, recorded with what was unpacked under it. */
char *hutch_sandbox_idmap_describe (const HutchIdMap *map);
/* How many container ids @map maps (0 .. n-1). */
guint64 hutch_sandbox_idmap_size (const HutchIdMap *map);

typedef gboolean (*HutchUsernsFunc) (gpointer user_data, GError **error);

/* Calls @func in a forked child that is root (uid and gid 0, umask 0) of a
 * new user namespace mapped with @map, and returns what it returned; its
 * GError comes back through a pipe. The child dies with us. */
gboolean hutch_sandbox_userns_run (const HutchIdMap *map, HutchUsernsFunc func,
                                   gpointer user_data, GError **error);

/* hutch_sandbox_userns_run() in two halves, so that the caller works
 * beside the child (feeding it through a socket, say): _start() returns
 * once the child is mapped and calling @func, which runs on a copy of
 * the caller's memory; _join() waits for it, returns what @func returned
 * and frees @child. Every child spawned must be joined. The caller must
 * be single-threaded at _start() (it forks). */
typedef struct HutchUsernsChild HutchUsernsChild;
HutchUsernsChild *hutch_sandbox_userns_start (const HutchIdMap *map, HutchUsernsFunc func,
                                              gpointer user_data, GError **error);
gboolean hutch_sandbox_userns_join (HutchUsernsChild *child, GError **error);

/* Removes @names (NULL-terminated) under @dfd, trees included, as root of
 * such a namespace: files of unpacked layers and containers belong to
 * subordinate ids the user alone cannot delete. */
gboolean hutch_sandbox_userns_remove_at (const HutchIdMap *map, int dfd, const char *const *names,
                                         GError **error);

/* Runs @argv as root of such a namespace (umask kept), as `podman unshare` does, and
 * returns its exit status (128+N for signal N), or -1 with @error set when
 * it could not be started. */
int hutch_sandbox_userns_exec (const HutchIdMap *map, char **argv, GError **error);

/* Why the kernel refused a new user namespace (clone or unshare with
 * CLONE_NEWUSER failed with @errsv), judged from the host's sysctls as they
 * are now, in the words of `hutch check`: the limit reached (ENOSPC), the
 * switches that turn them off, a policy around us (EPERM). *@out_fix is
 * the command that fixes it, or NULL; the caller frees both. */
char *hutch_sandbox_userns_why (int errsv, char **out_fix);
/* The same as @error (HUTCH_ERROR_HOST_UNSUPPORTED): "@what: why. To fix
 * it: command". Returns FALSE. */
gboolean hutch_sandbox_userns_throw (GError **error, int errsv, const char *what);
/* A number from a sysctl file under /proc/sys; -1 when it is not there. */
gint64 hutch_sandbox_sysctl_read (const char *path);

/* The newuidmap/newgidmap helper and whether it can do its job: setuid root
 * or with file capabilities. */
typedef struct
{
  char *path;          /* NULL when not in PATH */
  gboolean privileged; /* setuid root, or security.capability set */
} HutchIdHelper;

void hutch_sandbox_id_helper_find (const char *name, HutchIdHelper *out);

typedef struct
{
  char *user;
  /* user namespaces */
  gboolean userns;
  int userns_errno;      /* from unshare(CLONE_NEWUSER), 0 when it worked */
  int userns_setup_errno; /* mapping or mounting inside failed (AppArmor) */
  /* The sysctls that turn them off; -1 when this kernel has none. */
  gint64 max_user_namespaces;
  gint64 unprivileged_userns_clone;       /* Debian before 11 */
  gint64 apparmor_restrict_userns;        /* Ubuntu 23.10 and later */
  /* id mapping */
  HutchIdHelper newuidmap;
  HutchIdHelper newgidmap;
  GArray *subuids;
  GArray *subgids;
  gboolean idmap_full;   /* the full mapping was written in the probe */
  char *idmap_error;     /* why it was not */
  /* rootfs */
  gboolean overlay;      /* kernel overlayfs with userxattr in a userns */
  char *overlay_error;
  gboolean whiteout;     /* a 0/0 char device can be made in a userns */
  char *fuse_overlayfs;  /* path, or NULL */
  gboolean dev_fuse;     /* /dev/fuse opens read-write */
  int dev_fuse_errno;
} HutchSandboxCaps;

/* Probes the host once: a throwaway child in new user and mount namespaces,
 * mapped as `run` would map it, makes a whiteout and mounts an overlay in a
 * temporary directory under @probe_dir (the store, so the answer is about
 * the filesystem containers will use), then removes it.
 * Fills @caps (cleared with hutch_sandbox_caps_clear()); FALSE only when the
 * probe itself could not run (fork failed). */
gboolean hutch_sandbox_caps_probe (HutchSandboxCaps *caps, const char *probe_dir,
                                   GError **error);
void hutch_sandbox_caps_clear (HutchSandboxCaps *caps);

/* ---- running a container (run.c, mounts.c, init.c) ---- */

typedef enum
{
  HUTCH_ROOTFS_OVERLAY,        /* kernel overlayfs, userxattr */
  HUTCH_ROOTFS_FUSE_OVERLAYFS,
  HUTCH_ROOTFS_COPY,
} HutchRootfsDriver;

/* "overlay", "fuse-overlayfs", "copy" */
const char *hutch_rootfs_driver_name (HutchRootfsDriver driver);

/* A -v bind or a --tmpfs, mounted in the order given (container/ sorts
 * them so that a mount lands on top of the one holding its target). */
typedef struct
{
  char *source;        /* on the host; NULL for a tmpfs */
  char *target;        /* inside the container, resolved beneath its root */
  gboolean readonly;
  unsigned long flags; /* tmpfs: MS_NOSUID, MS_NODEV, MS_NOEXEC as asked */
  char *data;          /* tmpfs: size=, mode=, uid=, gid=, nr_inodes= */
  char *volume;        /* a named volume's name (source is its _data dir), or NULL */
  gboolean anonymous;  /* the volume was made for this container alone (-v /path) */
  gboolean copy_up;    /* a volume: when empty, filled first with what the image has at
                        * target, owners kept, as docker does */
  gboolean chown;      /* -v :U: source and all it holds given to the container's user */
  gboolean overlay;    /* -v :O: an overlay over source, what is written thrown away */
  char *overlay_dir;   /* :O: its upper and work dirs, emptied at each start and end */
  gboolean keep_overlay; /* with overlay: the upper dir is kept, start to start (hutch shell) */
  gboolean hide;       /* no source: what is at target is hidden (an empty read-only tmpfs
                        * over a directory, /dev/null over a file); nothing when it is not there */
} HutchSandboxMount;

void hutch_sandbox_mount_free (HutchSandboxMount *m);

/* A --ulimit: RLIMIT_* @resource, soft and hard (RLIM_INFINITY for
 * unlimited). */
typedef struct
{
  int resource;
  guint64 soft;
  guint64 hard;
} HutchSandboxRlimit;

/* "nofile", "NOFILE" or "RLIMIT_NOFILE" to RLIMIT_NOFILE; -1 when unknown. */
int hutch_sandbox_rlimit_from_name (const char *name);
/* RLIMIT_NOFILE to "NOFILE" (the caller frees it), NULL when unknown. */
char *hutch_sandbox_rlimit_name (int resource);
/* "as, core, cpu, ...": for a message. */
char *hutch_sandbox_rlimit_known_names (void);
/* setrlimit() of each of @limits (of HutchSandboxRlimit), in the caller. */
gboolean hutch_sandbox_rlimits_apply (GArray *limits, GError **error);

/* Docker's default capability set, as a mask of CAP_* bits. */
guint64 hutch_sandbox_caps_default (void);
/* The set for --cap-add @add, --cap-drop @drop (names, or ALL) and
 * --privileged; HUTCH_ERROR_USAGE for an unknown name. */
gboolean hutch_sandbox_caps_compute (char **add, char **drop, gboolean privileged,
                                     guint64 *out_mask, GError **error);

/* The container's network when it has one of its own beyond loopback
 * (net/ provides it; the sandbox only calls it at the right places). */
typedef struct
{
  /* In the outer child, now in the container's new network namespace:
   * makes the interface and returns the fd the monitor is to have. */
  int (*child_setup) (gpointer data, GError **error);
  /* In the outer child, when the monitor asks something on @ctl. FALSE
   * once @ctl has ended. */
  gboolean (*child_serve) (int ctl);
  /* In the monitor: @ctl is where the fd and the answers come. */
  void (*monitor_start) (gpointer data, int ctl);
  /* In the monitor's poll loop: see hutch_net_poll_prepare(). */
  void (*prepare) (gpointer data, GArray *fds, int *timeout_ms);
  void (*dispatch) (gpointer data, GArray *fds);
  gpointer data;
} HutchSandboxNet;

/* Something more for the monitor's poll loop (as the network's hooks). */
typedef struct
{
  void (*prepare) (gpointer data, GArray *fds, int *timeout_ms);
  void (*dispatch) (gpointer data, GArray *fds);
  gpointer data;
} HutchSandboxPoll;

/* The container's namespaces, in the order they are joined: user first,
 * as the others belong to it. */
#define HUTCH_SANDBOX_N_NS 7
extern const char *const hutch_sandbox_ns_names[HUTCH_SANDBOX_N_NS];

/* What container/ wants to hear from the monitor while the container runs. */
typedef struct
{
  HutchSandboxPoll poll; /* its own fds (logs, the control socket) */
  /* The container's first process exists and waits: the moment to put it
   * in a cgroup (all the container's processes will be its children).
   * FALSE with @error (HUTCH_ERROR_HOST_UNSUPPORTED, given as it is)
   * stops the start. */
  gboolean (*created) (gpointer data, pid_t pid, GError **error);
  /* The command has been exec'd: @init is the container's pid 1 as we see
   * it, @ns its namespaces (borrowed: dup what is kept). */
  void (*started) (gpointer data, pid_t init, const int *ns);
  /* -t: a copy of what the container's terminal printed (for the log),
   * besides our stdout; or NULL. */
  void (*tty_output) (gpointer data, const char *buf, gsize len);
  gpointer data;
} HutchSandboxHooks;

/* Everything the sandbox child needs, prepared by container/. */
typedef struct
{
  const HutchIdMap *idmap;
  /* a user namespace made and mapped ahead (hutch_sandbox_userns_ahead),
   * which the container joins instead of making and mapping its own */
  gboolean join_userns;
  int userns_fd;
  /* with join_userns, the user's namespace holder's: the container's own
   * user namespace is made inside it, mapped with these uid_map and
   * gid_map texts (in the holder's ids); NULL: the joined one is the
   * container's */
  char *nest_maps[2];
  /* hutch shell: the rootfs is the host's own /, bound read-only (with what
   * is mounted below it); lowerdirs, upperdir and the driver are unused */
  gboolean host_root;
  char **lowerdirs; /* the layers, top first */
  char *upperdir;
  char *workdir;
  char *rootfs;     /* where the rootfs is mounted, then pivoted into */
  HutchRootfsDriver driver;
  gboolean driver_forced;
  char *hostname;
  char *hostname_file; /* bound over /etc/hostname ... */
  char *hosts_file;
  char *resolv_file;
  GPtrArray *mounts; /* of HutchSandboxMount */
  /* with host_root: mounted by the outer child before pid 1 is made, so
   * that a fuse-overlayfs server for one is outside the sandbox's pid
   * namespace; driver_forced with HUTCH_ROOTFS_FUSE_OVERLAYFS makes its
   * overlays fuse-overlayfs's */
  GPtrArray *early_mounts;
  gboolean network_host;
  const HutchSandboxNet *net; /* NULL: loopback only (or the host's) */
  gboolean read_only;
  gboolean init;    /* pid 1 is our init, the command its child */
  char **argv;
  char **env;
  char *cwd;
  char *user;       /* "uid[:gid]" or "name[:group]", resolved in the image */
  guint64 caps;     /* the command's capabilities as root (bounding set for others) */
  int cleanup_fd;   /* --rm: the container directory, whose upper and work pid 1
                     * empties when the command is done (files of subordinate
                     * ids the user alone could not delete); -1 otherwise */
  gboolean seccomp; /* the default seccomp filter */
  GArray *rlimits;  /* --ulimit: of HutchSandboxRlimit, or NULL */
  char **groups_add; /* --group-add: more groups, names of the image's or ids */
  guint64 shm_size; /* --shm-size of /dev/shm in bytes; 0: 64 MiB */
  gboolean tty;     /* -t: the command on a terminal of the container's */
  gboolean input;   /* -i: our stdin goes to it (with -t, as keys) */
  gboolean redirect; /* stdio[] become the container's 0, 1 and 2 */
  int stdio[3];
  /* with redirect: the monitor's ends of the pipes in stdio[], which the
   * sandbox's processes (forks of the monitor) close, so that a pipe whose
   * reader the monitor closes fails the command's writes */
  int readers[2];
  guint n_readers;
  const HutchSandboxHooks *hooks; /* NULL: nothing to hear */
} HutchSandboxSpec;

typedef struct
{
  int status;              /* the command's exit status, 128+N for signal N */
  HutchRootfsDriver driver; /* the rootfs driver used */
  char *exec_error;        /* why the command could not be run (126, 127) */
} HutchSandboxResult;

/* A user namespace made and mapped with @map ahead of the container, by a
 * child that only holds it: newuidmap and newgidmap (a setuid exec each,
 * a fifth of a container's start-up) run while the caller does other work.
 * With @runroot (and subordinate ids, and HUTCH_USERNS_HOLDER not "0"),
 * the user's namespace holder there instead (holder.c): made once, kept
 * between runs, each container's namespace nested in it with no setuid
 * helper at all. NULL when it could not be made: the container then makes
 * its own, and tells why that fails. */
typedef struct _HutchUsernsAhead HutchUsernsAhead;
HutchUsernsAhead *hutch_sandbox_userns_ahead (const HutchIdMap *map, const char *runroot);
/* Waits for the mapping, then sets @spec's join_userns, userns_fd (the
 * caller closes it) and nest_maps (the caller frees them); FALSE with
 * @error as hutch_sandbox_run would tell it. Frees @ahead. */
gboolean hutch_sandbox_userns_ahead_finish (HutchUsernsAhead *ahead, HutchSandboxSpec *spec,
                                            GError **error);
/* Gives it up unused. */
void hutch_sandbox_userns_ahead_free (HutchUsernsAhead *ahead);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (HutchUsernsAhead, hutch_sandbox_userns_ahead_free)

/* Runs the container @spec describes in the foreground: the child is pid 1
 * of new user, mount, pid, uts, ipc, (net) and cgroup namespaces, mapped
 * with @spec->idmap. Signals we get go to it. FALSE with @error set when
 * the sandbox could not be made; else @result says how the command ended
 * (the caller frees result->exec_error). */
gboolean hutch_sandbox_run (const HutchSandboxSpec *spec, HutchSandboxResult *result,
                            GError **error);

/* For the monitor once its container's command runs (confine.c): a user
 * namespace of its own (its ids mapped to themselves) whose file system is
 * an empty tmpfs with @keep (absolute paths of directories,
 * NULL-terminated) bound at their own paths, its own /proc/PID as
 * /proc/self, and /dev/null; then no_new_privs and a seccomp filter with
 * the container's rules and no execve. Every fd stays. FALSE with @error
 * when the kernel refused a step: the caller goes on with what was done
 * (without the view, it still has all of the host's files). */
gboolean hutch_sandbox_monitor_confine (const char *const *keep, GError **error);

/* Starts @spec->argv in a running container whose namespaces are @ns
 * (HUTCH_SANDBOX_N_NS fds, in hutch_sandbox_ns_names order), as the
 * container's command is started: its user, capabilities, no_new_privs,
 * seccomp filter, working directory and, with @spec->tty, a terminal of the
 * container's. Its parent inside the container waits for it, so that when
 * we go the container's pid 1 reaps it. With @detach it returns once the
 * command is exec'd; else @result has its exit status. @ns are closed (set
 * to -1) once the process that joins them has its own. */
gboolean hutch_sandbox_exec (const HutchSandboxSpec *spec, int *ns, gboolean detach,
                             HutchSandboxResult *result, GError **error);

/* Capability masks as the runtime-spec's "CAP_CHOWN" names, and back
 * (HUTCH_ERROR_INVALID_IMAGE for a name not known). */
char **hutch_sandbox_caps_names (guint64 mask);
gboolean hutch_sandbox_caps_from_names (const char *const *names, guint64 *out_mask, GError **error);

/* ---- working in a container's files from outside it (rootfs-job.c) ---- */

/* Called in a child as root of the container's user namespace, with
 * @root_fd (O_PATH) its root: every container path is to be resolved
 * beneath it (hutch_util_open_in_root). */
typedef gboolean (*HutchSandboxRootFunc) (int root_fd, gpointer data, GError **error);

typedef enum
{
  /* The container's view: its rootfs with the mounts on it (-v, /proc). */
  HUTCH_SANDBOX_VIEW_MOUNTS,
  /* The rootfs alone, no mount on it (export). */
  HUTCH_SANDBOX_VIEW_ROOTFS,
} HutchSandboxView;

typedef struct _HutchSandboxRootJob HutchSandboxRootJob;

/* Starts @func in a child that joins a running container's user and mount
 * namespaces (@ns, as hutch_sandbox_exec() takes them, closed and set to
 * -1 here): not dumpable, so nothing in the container can ptrace it or
 * open its fds. Fds the caller made before are the child's too (pipes). */
HutchSandboxRootJob *hutch_sandbox_root_job_join (int *ns, HutchSandboxView view,
                                                  HutchSandboxRootFunc func, gpointer data,
                                                  GError **error);
/* The same for a container that is not running: the child is root of a
 * new user namespace mapped with @spec->idmap and mounts the rootfs as
 * start would (@spec's layers, upper dir and driver) in a mount namespace
 * of its own, unmounted when @func returns. The view is the rootfs. */
HutchSandboxRootJob *hutch_sandbox_root_job_mount (const HutchSandboxSpec *spec,
                                                   HutchSandboxRootFunc func, gpointer data,
                                                   GError **error);
/* Waits for the child: TRUE when @func returned TRUE, else its GError.
 * Frees @job. */
gboolean hutch_sandbox_root_job_finish (HutchSandboxRootJob *job, GError **error);

/* ---- running an OCI bundle (bundle*.c): `hutch oci` ----
 * What oci/ hands down after reading a bundle's config.json. Unlike `run`
 * there is no monitor: the container's process is a grandchild of the
 * runtime that outlives it (the caller, conmon or a shim, is its reaper),
 * its rootfs is a plain directory, its mounts come in config.json's order,
 * and it waits on an exec fifo between create and start. */

/* A namespace of the bundle: @type a CLONE_NEW* flag; @path to join, or
 * NULL for a new one. */
typedef struct
{
  int type;
  char *path;
} HutchBundleNs;

/* One entry of config.json's "mounts", options already split: @flags to
 * set, @propagation (MS_SHARED, MS_SLAVE, MS_PRIVATE or MS_UNBINDABLE, with
 * MS_REC) applied after, @data what the file system gets. */
typedef struct
{
  char *destination;
  char *type;
  char *source;
  unsigned long flags;
  unsigned long propagation;
  char *data;
} HutchBundleMount;

void hutch_sandbox_bundle_mount_free (HutchBundleMount *m);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (HutchBundleMount, hutch_sandbox_bundle_mount_free)

/* The capability sets of a process, as masks of CAP_* bits. */
enum
{
  HUTCH_CAPS_BOUNDING,
  HUTCH_CAPS_EFFECTIVE,
  HUTCH_CAPS_INHERITABLE,
  HUTCH_CAPS_PERMITTED,
  HUTCH_CAPS_AMBIENT,
  HUTCH_CAPS_N_SETS,
};

/* linux.seccomp, compiled by libseccomp in the process before its exec.
 * Actions are libseccomp's SCMP_ACT_* values; @op a scmp_compare. */
typedef struct
{
  guint index;
  guint64 value;
  guint64 value_two;
  int op;
} HutchSeccompArg;

typedef struct
{
  char **names;
  guint32 action;
  GArray *args; /* HutchSeccompArg, or NULL */
} HutchSeccompRule;

typedef struct
{
  guint32 default_action;
  GArray *archs;    /* guint32 SCMP_ARCH_* tokens */
  GPtrArray *rules; /* HutchSeccompRule */
} HutchSeccompProfile;

void hutch_sandbox_seccomp_profile_free (HutchSeccompProfile *p);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (HutchSeccompProfile, hutch_sandbox_seccomp_profile_free)

/* config.json's "process" (or exec's --process). */
typedef struct
{
  char **args;
  char **env;
  char *cwd;
  uid_t uid;
  gid_t gid;
  GArray *groups; /* gid_t: additionalGids; NULL for none */
  gboolean has_umask;
  mode_t umask;
  gboolean has_caps;
  guint64 caps[HUTCH_CAPS_N_SETS];
  GArray *rlimits; /* HutchSandboxRlimit, or NULL */
  gboolean no_new_privs;
  gboolean terminal;
  gboolean has_oom_score_adj;
  int oom_score_adj;
  HutchSeccompProfile *seccomp; /* NULL: none */
} HutchBundleProcess;

void hutch_sandbox_bundle_process_clear (HutchBundleProcess *p);

/* One of config.json's hooks: @path run with @args (NULL: the path
 * alone) and @env (NULL: empty), the container's state document on its
 * stdin, killed after @timeout seconds (0: never). */
typedef struct
{
  char *path;
  char **args;
  char **env;
  int timeout;
} HutchSandboxHook;

void hutch_sandbox_hook_free (HutchSandboxHook *h);

/* Runs @hooks (HutchSandboxHook; NULL: none) in order with @state_json on
 * each one's stdin. One that fails, or outlives its timeout (killed then),
 * is HUTCH_ERROR_FAILED "@what hook: PATH failed (exit status N)" or
 * "... timed out after N s"; the hooks after it do not run. */
gboolean hutch_sandbox_hooks_run (GPtrArray *hooks, const char *what, const char *state_json,
                                  GError **error);

typedef struct
{
  char *rootfs;               /* absolute */
  gboolean rootfs_readonly;
  unsigned long rootfs_propagation; /* 0: MS_REC | MS_PRIVATE, as runc */
  GPtrArray *mounts;          /* HutchBundleMount, in order */
  char **masked_paths;
  char **readonly_paths;
  char **devices;             /* linux.devices' paths: the host's bound there */
  char **sysctl;              /* "key=value" */
  char *hostname;
  char *domainname;
  GArray *namespaces;         /* HutchBundleNs */
  GArray *uid_map;            /* HutchIdMapLine, or NULL */
  GArray *gid_map;
  HutchBundleProcess process;
  gboolean no_pivot;
  int preserve_fds;           /* fds 3 .. 3+n-1 stay open across exec */
  int console_fd;             /* where a terminal's master goes, or -1 */
  int fifo_fd;                /* O_PATH of the exec fifo the process waits on */
  /* The hooks, all borrowed. When @runtime_hooks is set, the process stops
   * once its mounts are made (before pivot_root) and the runtime calls it
   * with the process's pid (prestart, createRuntime); a FALSE fails
   * create. Then the process itself runs @create_hooks (createContainer)
   * there, and @start_hooks (startContainer) once started, before its exec:
   * in its namespaces, each given @hook_state ("creating" or "created",
   * and the pid the process has there, as runc passes them). */
  gboolean (*runtime_hooks) (pid_t pid, gconstpointer data, GError **error);
  GPtrArray *create_hooks;    /* HutchSandboxHook, or NULL */
  GPtrArray *start_hooks;
  char *(*hook_state) (const char *status, pid_t pid, gconstpointer data);
  gconstpointer hooks_data;
} HutchSandboxBundle;

void hutch_sandbox_bundle_clear (HutchSandboxBundle *b);

/* Whether @b has a namespace of @type (new or joined); its entry, or NULL. */
const HutchBundleNs *hutch_sandbox_bundle_ns (const HutchSandboxBundle *b, int type);

/* Makes the container @b describes and leaves its process waiting on the
 * exec fifo (`hutch oci create`): set up, pivoted, its terminal sent, its
 * command found, but not yet its own user. Returns its pid as we see it,
 * or -1 with @error (nothing of it left then). The process is not our child:
 * an intermediate that joined and made the namespaces forked it and left. */
pid_t hutch_sandbox_bundle_create (const HutchSandboxBundle *b, GError **error);

/* `start`: lets the process waiting on the exec fifo @fifo go on, and
 * waits until it has run its startContainer hooks and exec'd (the fifo
 * closes). @alive says whether it still exists (a process that died
 * waiting is not waited for). HUTCH_ERROR_FAILED with what the process
 * said when a hook or its exec failed. */
gboolean hutch_sandbox_bundle_start (const char *fifo, gboolean (*alive) (gconstpointer data),
                                     gconstpointer data, GError **error);

/* Starts @p in the running container whose pid 1 is @pid (`hutch oci
 * exec`): joins its namespaces, takes @p's credentials and execs. Its pid
 * goes to @pid_file (unless NULL) once it runs, before any wait: a failure
 * to write it kills it. With @detach returns its pid once it runs
 * (*@out_status unset); else waits and sets *@out_status (128+N for
 * signal N). @console_fd as in the bundle. */
pid_t hutch_sandbox_bundle_exec (pid_t pid, const HutchBundleProcess *p, int console_fd,
                                 int preserve_fds, gboolean detach, const char *pid_file,
                                 int *out_status, GError **error);

/* `run` with process.terminal and no --console-socket, as runc does: the
 * terminal's @master relayed to and from our stdio (our terminal raw,
 * its size passed on), the signals of @set (which the caller blocked
 * before the container was made, SIGCHLD among them) forwarded to @pid,
 * our child, until it ends. Its exit status (128+N for signal N), or -1
 * with @error when it could not be watched (it is killed then). */
int hutch_sandbox_bundle_relay (pid_t pid, int master, const sigset_t *set, GError **error);

/* Writes id maps @uid_map and @gid_map (HutchIdMapLine) for @pid: directly
 * when we may (root, or only our own ids), else with newuidmap/newgidmap. */
gboolean hutch_sandbox_idmap_write_lines (pid_t pid, GArray *uid_map, GArray *gid_map,
                                          GError **error);

G_END_DECLS
