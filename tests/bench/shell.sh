#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Starting a sandboxed shell over the host that runs /bin/true (issue 22),
# interleaved round by round (30 rounds), as the same unprivileged user:
#   hutch shell -- true     (user, mount, pid, ipc, uts, net namespaces; the host
#                            read-only, an overlay over the home directory, secrets
#                            hidden, seccomp; the session kept)
#   bwrap --unshare-all --ro-bind / / --dev /dev --proc /proc --tmpfs /tmp
#         --overlay-src ~ --tmp-overlay ~ true
# Prints medians and the ratio. Goal: hutch <= 1.2x bwrap.
#
# usage: tests/bench/shell.sh [BUILD_DIR]   (default: build-release)
set -euo pipefail
src=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
. "$src/helpers/lib.sh"
hutch_bench_start "$0" "${1:-}"
export HOME=$work/home
mkdir -p "$HOME/proj"
cd "$HOME/proj"

python3 - "$hutch" "$store" "$HOME" <<'PY'
import statistics, subprocess, sys, time
hutch, store, home = sys.argv[1:]
# bubblewrap before 0.9 has no overlays: the closest it has is the home
# bound writable (less work than an overlay, so the comparison favours it)
overlay = "--overlay-src" in subprocess.run(["bwrap", "--help"], capture_output=True,
                                            text=True).stdout
home_args = ["--overlay-src", home, "--tmp-overlay", home] if overlay else ["--bind", home, home]
cmds = {
    "hutch": [hutch, "--root", store, "shell", "--name", "bench", "--", "true"],
    "bwrap": ["bwrap", "--unshare-all", "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc",
              "--tmpfs", "/tmp"] + home_args + ["true"],
}
print("bwrap: %s" % " ".join(cmds["bwrap"][1:]))
times = {k: [] for k in cmds}
for _ in range(3):  # warm-up
    for c in cmds.values():
        subprocess.run(c, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
for _ in range(30):
    for name, c in cmds.items():
        t = time.perf_counter()
        r = subprocess.run(c, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        times[name].append((time.perf_counter() - t) * 1000)
        if r.returncode != 0:
            sys.exit("%s failed (exit %d): %s" % (name, r.returncode, r.stderr.decode()[-400:]))
med = {k: statistics.median(v) for k, v in times.items()}
print("== sandboxed shell start and true (median of 30, interleaved, ms)")
for k, v in med.items():
    print("%-8s %8.2f ms  %6.2fx bwrap" % (k, v, v / med["bwrap"]))
ratio = med["hutch"] / med["bwrap"]
if ratio > 1.2:
    print("GOAL MISSED: hutch shell is %.2fx bwrap (goal: 1.2x)" % ratio)
    sys.exit(1)
print("goal met: hutch shell is %.2fx bwrap (goal: 1.2x)" % ratio)
PY
