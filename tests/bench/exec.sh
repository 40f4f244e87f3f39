#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The lifecycle's hot paths, as the same unprivileged user, on the Debian
# minbase test image:
#   exec: `hutch exec CTR true` beside `podman exec CTR true` (crun's, or
#         runc's, container started detached with --network none),
#         interleaved, median of 30;
#   ps:   `hutch ps -a` with 50 containers (45 created, 5 running), median
#         of 30, beside `podman ps -a` with as many.
# Goals (issue 8): hutch ps under 50 ms with 50 containers; exec latency
# reported as a ratio to podman exec.
#
# usage: tests/bench/exec.sh [BUILD_DIR]   (default: build-release)
set -euo pipefail
src=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
. "$src/helpers/lib.sh"
hutch_bench_start "$0" "${1:-}"
img=localhost/hutch-test/debian:bookworm
"$hutch" --root "$store" load -q -i "$fix/debian.oci.tar" 2>/dev/null
podman_ok=$(hutch_bench_podman "$img" none)
cleanup_podman() { [ "$podman_ok" = yes ] && podman rm -f -t 0 $(podman ps -aq --filter label=hutch-bench) >/dev/null 2>&1 || true; }
trap 'cleanup_podman; "$hutch" --root "$store" rm -f $("$hutch" --root "$store" ps -aq) >/dev/null 2>&1; "$hutch" --root "$store" unshare rm -rf "$work" 2>/dev/null; rm -rf "$work"' EXIT

"$hutch" --root "$store" run -d --network none --name bench "$img" sleep 100000 >/dev/null
for i in $(seq 4); do "$hutch" --root "$store" run -d --network none "$img" sleep 100000 >/dev/null; done
for i in $(seq 45); do "$hutch" --root "$store" create --network none "$img" true >/dev/null; done
if [ "$podman_ok" = yes ]; then
  cleanup_podman
  podman --runtime runc run -d --label hutch-bench --network none --name hutch-bench "$img" sleep 100000 >/dev/null
  for i in $(seq 4); do podman --runtime runc run -d --label hutch-bench --network none "$img" sleep 100000 >/dev/null; done
  for i in $(seq 45); do podman --runtime runc create --label hutch-bench --network none "$img" true >/dev/null; done
fi

python3 - "$hutch" "$store" "$podman_ok" <<'PY'
import statistics, subprocess, sys, time
hutch, store, podman_ok = sys.argv[1:]
H = [hutch, "--root", store]
cmds = {"hutch exec": H + ["exec", "bench", "true"], "hutch ps": H + ["ps", "-a"]}
if podman_ok == "yes":
    cmds["podman exec"] = ["podman", "exec", "hutch-bench", "true"]
    cmds["podman ps"] = ["podman", "ps", "-a"]
times = {k: [] for k in cmds}
for c in cmds.values():  # warm-up, and a check that each works
    r = subprocess.run(c, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if r.returncode != 0:
        sys.exit("%s failed (exit %d): %s" % (c, r.returncode, r.stderr.decode()[-400:]))
rows = subprocess.run(H + ["ps", "-aq"], stdout=subprocess.PIPE, text=True).stdout.split()
print("hutch ps -a lists %d containers" % len(rows))
for _ in range(30):
    for name, c in cmds.items():
        t = time.perf_counter()
        subprocess.run(c, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times[name].append((time.perf_counter() - t) * 1000)
med = {k: statistics.median(v) for k, v in times.items()}
print("== median of 30, interleaved, ms")
for k, v in med.items():
    print("%-12s %8.1f ms" % (k, v))
verdict = 0
if "podman exec" in med:
    print("hutch exec: %.3fx podman exec" % (med["hutch exec"] / med["podman exec"]))
    print("hutch ps:   %.3fx podman ps" % (med["hutch ps"] / med["podman ps"]))
if len(rows) != 50:
    print("BENCH BROKEN: expected 50 containers")
    verdict = 1
if med["hutch ps"] >= 50:
    print("GOAL MISSED: hutch ps with 50 containers takes %.1f ms (goal: under 50)" % med["hutch ps"])
    verdict = 1
sys.exit(verdict)
PY
