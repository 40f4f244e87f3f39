#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Starting a container that runs /bin/true, hutch beside its peers, on the
# same Debian minbase content, interleaved round by round (20 rounds), as the
# same unprivileged user:
#   hutch run --rm --network none IMG /bin/true    (overlay, full subordinate mapping)
#   ch-run ROOTFS -- /bin/true                      (user and mount namespaces only)
#   bwrap --unshare-all --bind ROOTFS / ... /bin/true
#   podman --runtime runc run --rm --network none IMG /bin/true
# Prints medians, ratios and hutch's peak RSS. Goals (issue 5): hutch <= 1.0x
# bwrap and <= 0.05x podman; ch-run is the stretch.
#
# usage: tests/bench/run-latency.sh [BUILD_DIR]   (default: build-release)
#        tests/bench/run-latency.sh --profile [BUILD_DIR] [ROUNDS]: one run
#        broken into phases, as root (tests/bench/run-profile.sh)
set -euo pipefail
if [ "${1:-}" = --profile ]; then
  shift
  exec bash "$(dirname "${BASH_SOURCE[0]}")/run-profile.sh" "$@"
fi
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
cmds = {
    "hutch": [hutch, "--root", store, "run", "--rm", "--network", "none", img, "/bin/true"],
    "ch-run": ["ch-run", rootfs, "--", "/bin/true"],
    "bwrap": ["bwrap", "--unshare-all", "--bind", rootfs, "/", "--proc", "/proc", "--dev", "/dev",
              "/bin/true"],
}
if podman_ok == "yes":
    cmds["podman"] = ["podman", "--runtime", "runc", "run", "--rm", "--network", "none", img, "/bin/true"]
times = {k: [] for k in cmds}
for _ in range(2):  # warm-up
    for c in cmds.values():
        subprocess.run(c, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
for _ in range(20):
    for name, c in cmds.items():
        t = time.perf_counter()
        r = subprocess.run(c, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        times[name].append((time.perf_counter() - t) * 1000)
        if r.returncode != 0:
            sys.exit("%s failed (exit %d): %s" % (name, r.returncode, r.stderr.decode()[-400:]))
med = {k: statistics.median(v) for k, v in times.items()}
print("== container start and /bin/true (median of 20, interleaved, ms)")
for k, v in med.items():
    print("%-8s %8.1f ms  %6.2fx bwrap" % (k, v, v / med["bwrap"]))
rss = subprocess.run(["/usr/bin/time", "-f", "%M"] + cmds["hutch"], stderr=subprocess.PIPE,
                     stdout=subprocess.DEVNULL, text=True).stderr.strip().splitlines()[-1]
print("hutch peak RSS: %s KiB" % rss)
verdict = 0
if med["hutch"] > med["bwrap"]:
    print("GOAL MISSED: hutch is slower than bwrap (%.2fx)" % (med["hutch"] / med["bwrap"]))
    verdict = 1
if "podman" in med:
    print("hutch: %.3fx podman" % (med["hutch"] / med["podman"]))
    if med["hutch"] > 0.05 * med["podman"]:
        print("GOAL MISSED: hutch is over 0.05x podman")
        verdict = 1
else:
    print("podman --runtime runc could not run here: n/a")
print("goals met" if verdict == 0 else "")
sys.exit(verdict)
PY
