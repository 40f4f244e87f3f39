#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# A container's output in the foreground, which hutch passes through its
# monitor to the log and on to our stdout (as podman's conmon does): the
# same unprivileged user, Debian minbase, `seq 1 2000000` (15 MB, 2 million
# lines) to /dev/null, interleaved, median of 7:
#   hutch run --rm --network none IMG seq ...        (logged, k8s-file)
#   podman --runtime runc run --rm --network none IMG seq ...   (conmon, logged)
#   bwrap ... seq ...                                 (no log: stdout inherited)
# Goal: hutch at most 0.1x podman, which logs as well (k8s-file lines of
# ~40 bytes of time and stream before each of these 8-byte lines: the log
# is 5 times the output). bwrap, which keeps no log, is the floor.
#
# usage: tests/bench/output.sh [BUILD_DIR]   (default: build-release)
set -euo pipefail
src=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
. "$src/helpers/lib.sh"
hutch_bench_start "$0" "${1:-}"
img=localhost/hutch-test/debian:bookworm
"$hutch" --root "$store" load -q -i "$fix/debian.oci.tar" 2>/dev/null
mkdir "$work/rootfs"
tar -xf "$fix/cache/minbase-iperf3-bookworm.tar" -C "$work/rootfs" 2>/dev/null || true
podman_ok=$(hutch_bench_podman "$img" none)

python3 - "$hutch" "$store" "$img" "$work/rootfs" "$podman_ok" <<'PY'
import statistics, subprocess, sys, time
hutch, store, img, rootfs, podman_ok = sys.argv[1:]
seq = ["seq", "1", "2000000"]
cmds = {
    "hutch": [hutch, "--root", store, "run", "--rm", "--network", "none", img] + seq,
    "bwrap": ["bwrap", "--unshare-all", "--bind", rootfs, "/", "--proc", "/proc", "--dev", "/dev"]
    + seq,
}
if podman_ok == "yes":
    cmds["podman"] = ["podman", "--runtime", "runc", "run", "--rm", "--network", "none", img] + seq
times = {k: [] for k in cmds}
for c in cmds.values():  # warm-up
    subprocess.run(c, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
for _ in range(7):
    for name, c in cmds.items():
        with open("/dev/null", "wb") as null:
            t = time.perf_counter()
            r = subprocess.run(c, stdout=null, stderr=subprocess.PIPE)
            times[name].append((time.perf_counter() - t) * 1000)
        if r.returncode != 0:
            sys.exit("%s failed (exit %d): %s" % (name, r.returncode, r.stderr.decode()[-400:]))
# and that hutch's output arrived whole
out = subprocess.run(cmds["hutch"], stdout=subprocess.PIPE, check=True).stdout
if out.count(b"\n") != 2000000 or not out.endswith(b"2000000\n"):
    sys.exit("hutch lost output: %d lines" % out.count(b"\n"))
med = {k: statistics.median(v) for k, v in times.items()}
print("== seq 1 2000000 to /dev/null, in the foreground (median of 7, interleaved, ms)")
for k, v in med.items():
    print("%-8s %8.1f ms  %6.2fx bwrap" % (k, v, v / med["bwrap"]))
verdict = 0
if "podman" in med:
    print("hutch: %.3fx podman" % (med["hutch"] / med["podman"]))
    if med["hutch"] > 0.1 * med["podman"]:
        print("GOAL MISSED: hutch is over 0.1x podman")
        verdict = 1
else:
    print("podman --runtime runc could not run here: n/a")
print("goals met" if verdict == 0 else "")
sys.exit(verdict)
PY
