#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# hutch cp against podman cp, as the same unprivileged user, on the Debian
# minbase test image, a running container each (runc's for podman):
#   in:  a 100 MB tree of 1,000 files copied into the container;
#   out: the same tree copied back out to a new host directory.
# Interleaved, median of 5; the copies are removed between runs.
#
# usage: tests/bench/cp.sh [BUILD_DIR]   (default: build-release)
set -euo pipefail
src=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
. "$src/helpers/lib.sh"
hutch_bench_start "$0" "${1:-}"
img=localhost/hutch-test/debian:bookworm
"$hutch" --root "$store" load -q -i "$fix/debian.oci.tar" 2>/dev/null
podman_ok=$(hutch_bench_podman "$img" none)
cleanup_podman() { [ "$podman_ok" = yes ] && podman rm -f -t 0 hutch-bench-cp >/dev/null 2>&1 || true; }
trap 'cleanup_podman; "$hutch" --root "$store" rm -f bench >/dev/null 2>&1; "$hutch" --root "$store" unshare rm -rf "$work" 2>/dev/null; rm -rf "$work"' EXIT

mkdir -p "$work/data"
python3 - "$work/data" <<'PY'
import os, sys
d = sys.argv[1]
for i in range(1000):
    sub = os.path.join(d, "d%02d" % (i // 50))
    os.makedirs(sub, exist_ok=True)
    with open(os.path.join(sub, "f%04d" % i), "wb") as f:
        f.write(os.urandom(100 * 1024))
PY
"$hutch" --root "$store" run -d --network none --name bench "$img" sleep 100000 >/dev/null
if [ "$podman_ok" = yes ]; then
  cleanup_podman
  podman --runtime runc run -d --network none --name hutch-bench-cp "$img" sleep 100000 >/dev/null
fi

python3 - "$hutch" "$store" "$podman_ok" "$work" <<'PY'
import shutil, statistics, subprocess, sys, time
hutch, store, podman_ok, work = sys.argv[1:]
H = [hutch, "--root", store]
tools = {"hutch": (H + ["cp"], H + ["exec", "bench"], "bench")}
if podman_ok == "yes":
    tools["podman"] = (["podman", "cp"], ["podman", "exec", "hutch-bench-cp"], "hutch-bench-cp")
times = {}
def run(c):
    r = subprocess.run(c, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    if r.returncode != 0:
        sys.exit("%s failed (exit %d): %s" % (c, r.returncode, r.stderr.decode()[-400:]))
for i in range(6):  # the first round warms up and checks
    for name, (cp, ex, ctr) in tools.items():
        t = time.perf_counter()
        run(cp + [work + "/data", ctr + ":/tmp/data"])
        tin = time.perf_counter() - t
        t = time.perf_counter()
        run(cp + [ctr + ":/tmp/data", work + "/out"])
        tout = time.perf_counter() - t
        n = sum(1 for _ in subprocess.run(["find", work + "/out", "-type", "f"], stdout=subprocess.PIPE, text=True).stdout.split())
        if n != 1000:
            sys.exit("%s: %d files came out, not 1000" % (name, n))
        shutil.rmtree(work + "/out")
        run(ex + ["rm", "-rf", "/tmp/data"])
        if i > 0:
            times.setdefault(name + " cp in", []).append(tin * 1000)
            times.setdefault(name + " cp out", []).append(tout * 1000)
med = {k: statistics.median(v) for k, v in times.items()}
print("== 100 MB in 1,000 files, median of 5, interleaved, ms")
for k, v in med.items():
    print("%-18s %8.1f ms" % (k, v))
if "podman cp in" in med:
    print("hutch cp in:  %.3fx podman cp" % (med["hutch cp in"] / med["podman cp in"]))
    print("hutch cp out: %.3fx podman cp" % (med["hutch cp out"] / med["podman cp out"]))
PY
