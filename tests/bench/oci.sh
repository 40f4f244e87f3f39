#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# hutch as an OCI runtime (issue 23), interleaved round by round (20 rounds
# after 3 warm-ups), as the same unprivileged user:
#   bundle: hutch-runtime run vs runc run vs crun run, on one busybox bundle
#           (`hutch-runtime spec --rootless`, args ["true"], no terminal);
#   podman: podman --runtime hutch-runtime|runc|crun run --rm busybox true.
# A runtime that cannot run here (crun on a cgroup v1 host) is left out
# and said so. Prints medians and ratios. Goal: hutch <= 1.0x crun,
# <= 0.3x runc.
#
# usage: tests/bench/oci.sh [BUILD_DIR]   (default: build-release)
set -euo pipefail
src=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
. "$src/helpers/lib.sh"
hutch_bench_start "$0" "${1:-}"
rt=$build/src/hutch-runtime
export XDG_RUNTIME_DIR=$work/xdg
mkdir -m 0700 -p "$XDG_RUNTIME_DIR"

# the bundle: the busybox layer as a plain directory
mkdir -p "$work/bundle/rootfs"
layer=$(tar -xOf "$fix/busybox.docker.tar" manifest.json |
  python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["Layers"][0])')
tar -xOf "$fix/busybox.docker.tar" "$layer" | tar -x -C "$work/bundle/rootfs"
(cd "$work/bundle" && "$rt" spec --rootless)
python3 - "$work/bundle/config.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
d["process"]["terminal"] = False
d["process"]["args"] = ["true"]
json.dump(d, open(sys.argv[1], "w"))
PY

python3 - "$rt" "$work" "$fix" <<'PY'
import shutil, statistics, subprocess, sys, time
rt, work, fix = sys.argv[1:]
bundle = work + "/bundle"
podman = ["podman", "--root", work + "/podman", "--runroot", work + "/xdg/podman",
          "--storage-driver", "vfs", "--cgroup-manager", "cgroupfs", "--events-backend", "file"]
img = "localhost/hutch-test/busybox:latest"

def bundle_cmd(name, path, n):
    return [path, "--root", "%s/state-%s" % (work, name), "run", "--bundle", bundle, "b%d" % n]

def works(cmd):
    return subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode == 0

runtimes = {"hutch": rt}
for name in ("runc", "crun"):
    path = shutil.which(name)
    if path is None:
        print("%s: not installed, left out" % name)
    elif not works(bundle_cmd(name, path, 0)):
        print("%s: cannot run the bundle on this host, left out" % name)
    else:
        runtimes[name] = path

def bench(title, make):
    times = {k: [] for k in make}
    n = 0
    for rnd in range(23):
        for name, f in make.items():
            n += 1
            c = f(n)
            t = time.perf_counter()
            r = subprocess.run(c, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            dt = (time.perf_counter() - t) * 1000
            if r.returncode != 0:
                sys.exit("%s failed (exit %d): %s" % (name, r.returncode, r.stderr.decode()[-400:]))
            if rnd >= 3:
                times[name].append(dt)
    med = {k: statistics.median(v) for k, v in times.items()}
    print("== %s (median of 20, interleaved, ms)" % title)
    for k, v in med.items():
        extra = "".join("  %5.2fx %s" % (med["hutch"] / med[o], o) for o in med if o != "hutch")
        print("%-6s %8.2f ms%s" % (k, v, extra if k == "hutch" else ""))
    return med

results = [bench("OCI bundle: RUNTIME run (create, start, wait, delete) of true",
                 {k: (lambda n, k=k, p=p: bundle_cmd(k, p, n)) for k, p in runtimes.items()})]

if shutil.which("podman") and works(podman + ["--runtime", "runc", "load", "-q", "-i",
                                              fix + "/busybox.docker.tar"]):
    pr = {"hutch": rt}
    for name in ("runc", "crun"):
        if shutil.which(name) and works(podman + ["--runtime", name, "run", "--rm", img, "true"]):
            pr[name] = shutil.which(name)
        else:
            print("podman --runtime %s: cannot run here, left out" % name)
    results.append(bench("podman --runtime RUNTIME run --rm busybox true",
                         {k: (lambda n, p=p: podman + ["--runtime", p, "run", "--rm", img, "true"])
                          for k, p in pr.items()}))
else:
    print("podman: cannot load the image here, left out")

missed = False
for med in results:
    if "crun" in med and med["hutch"] > 1.0 * med["crun"]:
        missed = True
    if "runc" in med and med["hutch"] > 0.3 * med["runc"]:
        missed = True
print("GOAL MISSED (hutch <= 1.0x crun, <= 0.3x runc)" if missed
      else "goal met (hutch <= 1.0x crun, <= 0.3x runc)")
PY
