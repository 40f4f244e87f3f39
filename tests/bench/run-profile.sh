#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Where one `hutch run --rm --network none IMG /bin/true` spends its time,
# phase by phase, from the kernel's side: bpftrace follows the process tree
# (fork, exec, exit with each process's CPU time, and the syscalls that mark
# the phases: setns, unshare, the clone with CLONE_NEWPID, pivot_root, the
# seccomp filter) with no ptrace and no change to hutch. Rounds alternate
# between the user's namespace holder (the default) and HUTCH_USERNS_HOLDER=0
# (a namespace of the run's own, mapped by newuidmap and newgidmap), so one
# run gives the before and after. Medians of wall and CPU time per phase.
#
# usage: tests/bench/run-profile.sh [BUILD_DIR] [ROUNDS]   (as root: bpftrace
# needs it; hutch itself runs as the unprivileged hutch-test)
# (tests/bench/run-latency.sh --profile runs this)
set -euo pipefail
src=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
. "$src/helpers/lib.sh"
if [ "$(id -u)" != 0 ]; then
  echo "run-profile.sh: run it as root (bpftrace traces the kernel); hutch runs as hutch-test" >&2
  exit 2
fi
build=${1:-$src/build-release}
rounds=${2:-20}
fix=${HUTCH_FIXTURES:-/var/tmp/hutch-fixtures}
hutch_bench_prepare_as_root "$build" bench profile
hutch=$build/src/hutch
work=$(mktemp -d /var/tmp/hutch-profile.XXXXXX)
chown hutch-test: "$work"
as_user() { runuser -u hutch-test -- env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME="$work" \
  XDG_RUNTIME_DIR="$work/xdg" "$@"; }
trap 'as_user "$hutch" --root "$work/store" unshare rm -rf "$work/store" 2>/dev/null; [ -n "${HUTCH_PROFILE_KEEP:-}" ] || rm -rf "$work"' EXIT
as_user mkdir -m 0700 "$work/xdg"
img=localhost/hutch-test/debian:bookworm
as_user "$hutch" --root "$work/store" load -q -i "$fix/debian.oci.tar" 2>/dev/null
run="\"$hutch\" --root \"$work/store\" run --rm --network none $img /bin/true"
as_user sh -c "$run && HUTCH_USERNS_HOLDER=0 $run" # warm: the holder made, caches full

cat >"$work/trace.bt" <<EOF
tracepoint:sched:sched_process_fork /@in[args->parent_pid]/ {
  @in[args->child_pid] = 1; printf("%lu fork %d %d\n", nsecs, args->parent_pid, args->child_pid); }
tracepoint:sched:sched_process_exec /@in[pid] || pid == cpid/ {
  @in[pid] = 1; printf("%lu exec %d %s\n", nsecs, pid, str(args->filename)); }
tracepoint:sched:sched_process_exit /@in[pid] && pid == tid/ {
  printf("%lu exit %d %lu\n", nsecs, pid, curtask->se.sum_exec_runtime); delete(@in[pid]); }
uprobe:$hutch:main /@in[pid]/ { printf("%lu main %d\n", nsecs, pid); }
tracepoint:syscalls:sys_enter_setns /@in[pid]/ { printf("%lu setns %d\n", nsecs, pid); }
tracepoint:syscalls:sys_exit_unshare /@in[pid]/ { printf("%lu unshared %d\n", nsecs, pid); }
tracepoint:syscalls:sys_enter_clone /@in[pid] && (args->clone_flags & 0x20000000)/ {
  printf("%lu clonepid %d\n", nsecs, pid); }
tracepoint:syscalls:sys_enter_pivot_root /@in[pid]/ { printf("%lu pivot %d\n", nsecs, pid); }
tracepoint:syscalls:sys_enter_seccomp /@in[pid] && args->op == 1/ { printf("%lu seccomp %d\n", nsecs, pid); }
END { clear(@in); }
EOF
# (bpftrace -c splits its command at spaces: no quoting, so a script)
echo "for i in \$(seq $rounds); do $run; HUTCH_USERNS_HOLDER=0 $run; done" >"$work/loop.sh"
chmod a+r "$work/loop.sh"
ulimit -l unlimited 2>/dev/null || true
bpftrace -q "$work/trace.bt" -c "/usr/sbin/runuser -u hutch-test -- /usr/bin/env -i \
PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=$work XDG_RUNTIME_DIR=$work/xdg /bin/sh $work/loop.sh" \
  >"$work/events" 2>"$work/bpftrace.err" || {
  cat "$work/bpftrace.err" >&2
  exit 1
}

python3 - "$work/events" "$hutch" "$rounds" <<'PY'
import statistics, sys
path, hutch, nrounds = sys.argv[1], sys.argv[2], int(sys.argv[3])
ev = []
for line in open(path):
    f = line.split()
    if len(f) >= 3 and f[0].isdigit():
        ev.append((int(f[0]), f[1], int(f[2]), f[3:]))
parent, rounds, cur = {}, [], None
def in_round(p, main):
    while p is not None:
        if p == main:
            return True
        p = parent.get(p)
    return False
for t, kind, pid, rest in ev:
    if kind == "fork":
        parent[int(rest[0])] = pid
    if kind == "exec" and rest[0] == hutch and (cur is None or not in_round(pid, cur["main"])):
        cur = {"main": pid, "ev": []}
        rounds.append(cur)
    if cur is not None:
        cur["ev"].append((t, kind, pid, rest))

PHASES = [
    ("process start, dynamic linking", "exec", "main"),
    ("store lookup, container record, holder", "main", "outer"),
    ("user namespace (join, nest, map)", "outer", "userns"),
    ("rootfs mount (outer child)", "userns", "clonepid"),
    ("/proc /dev /sys, masks, pivot_root", "clonepid", "pivot"),
    ("init, caps, seccomp, exec", "pivot", "cmd"),
    ("/bin/true runs", "cmd", "cmd_exit"),
    ("wait, unmount, --rm of upper/work", "cmd_exit", "outer_exit"),
    ("record removal, exit", "outer_exit", "end"),
]
def analyse(r):
    main = r["main"]
    marks, cpu, helpers = {}, {}, []
    outer = next((p for t, k, p, _ in r["ev"] if k == "clonepid"), None)
    if outer is None:
        return None
    init = next((int(x[0]) for t, k, p, x in r["ev"] if k == "fork" and p == outer
                 and t >= next(t2 for t2, k2, p2, _ in r["ev"] if k2 == "clonepid")), None)
    execs = {}
    for t, k, p, x in r["ev"]:
        if k == "exec" and p == main:
            marks.setdefault("exec", t)
        elif k == "main" and p == main:
            marks.setdefault("main", t)
        elif k == "fork" and int(x[0]) == outer:
            marks["outer"] = t
        elif k == "unshared" and p == outer and "clonepid" not in marks:
            marks["userns"] = t
        elif k == "clonepid" and p == outer:
            marks["clonepid"] = t
        elif k == "pivot" and p != main and "pivot" not in marks and in_round(p, init):
            marks["pivot"] = t
        elif k == "exec" and x[0] not in (hutch,) and in_round(p, init):
            marks.setdefault("cmd", t)
            execs[p] = "cmd"
        elif k == "exec" and "newuidmap" in x[0] or k == "exec" and "newgidmap" in x[0]:
            execs[p] = "helper"
            helpers.append([t, None])
        elif k == "exit":
            who = ("main" if p == main else "outer" if p == outer else "init" if p == init
                   else execs.get(p, "other"))
            cpu[who] = cpu.get(who, 0) + int(x[0])
            if who == "cmd":
                marks.setdefault("cmd_exit", t)
            elif who == "outer":
                marks["outer_exit"] = t
            elif who == "main":
                marks["end"] = t
            elif who == "helper":
                for h in helpers:
                    if h[1] is None:
                        h[1] = t
                        break
    marks.setdefault("userns", marks.get("outer"))
    if any(m not in marks or marks[m] is None for m in
           ("exec", "main", "outer", "clonepid", "pivot", "cmd", "cmd_exit", "outer_exit", "end")):
        return None
    out = {name: (marks[b] - marks[a]) / 1e6 for name, a, b in PHASES}
    out["total"] = (marks["end"] - marks["exec"]) / 1e6
    out["helpers"] = sum((h[1] - h[0]) for h in helpers if h[1]) / 1e6
    for k in ("main", "outer", "init", "cmd", "helper", "other"):
        out["cpu " + k] = cpu.get(k, 0) / 1e6
    out["cpu total"] = sum(cpu.values()) / 1e6
    return out

res = {"holder": [], "no holder": []}
for i, r in enumerate(rounds):
    a = analyse(r)
    if a is not None:
        res["holder" if i % 2 == 0 else "no holder"].append(a)
if not res["holder"] or not res["no holder"]:
    sys.exit("run-profile.sh: no complete round was traced (%d rounds seen)" % len(rounds))
med = {k: {f: statistics.median(x[f] for x in v) for f in v[0]} for k, v in res.items()}
print("== hutch run --rm --network none IMG /bin/true, by phase (median of %d and %d rounds, ms)"
      % (len(res["holder"]), len(res["no holder"])))
print("%-44s %10s %12s" % ("phase (wall)", "holder", "no holder"))
for name, _, _ in PHASES:
    print("%-44s %10.2f %12.2f" % (name, med["holder"][name], med["no holder"][name]))
print("%-44s %10.2f %12.2f" % ("total", med["holder"]["total"], med["no holder"]["total"]))
print("%-44s %10.2f %12.2f" % ("(newuidmap+newgidmap, overlapping the above)",
                                med["holder"]["helpers"], med["no holder"]["helpers"]))
print("%-44s %10s %12s" % ("CPU", "", ""))
for k in ("main", "outer", "init", "cmd", "helper", "other", "total"):
    label = {"main": "hutch (the monitor)", "outer": "outer child", "init": "pid 1 (hutch-init)",
             "cmd": "/bin/true", "helper": "newuidmap, newgidmap", "other": "other forks",
             "total": "total"}[k]
    print("%-44s %10.2f %12.2f" % ("  " + label, med["holder"]["cpu " + k],
                                    med["no holder"]["cpu " + k]))
PY
echo "(load while measuring: $(cut -d' ' -f1-3 /proc/loadavg))"
