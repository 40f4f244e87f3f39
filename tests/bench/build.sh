#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# hutch build beside podman build (buildah) of the same Containerfile and
# context, in one run (issue 21): FROM the Debian test image, three RUN
# steps writing files, a COPY of a 50 MB context (50 files of random bytes,
# made here), each builder on a store of its own under /var/tmp:
#   cold      build --no-cache      every step run and committed again
#   cached    build                 nothing changed: every step from the cache
#   changed   build                 one context file rewritten before each run
#                                   (untimed): the COPY step again
# Both with their default network for RUN (slirp; slirp4netns for podman).
# podman: --storage-driver overlay --runtime runc --cgroup-manager cgroupfs
# --events-backend file (no systemd user session, no journald).
# Medians of RUNS (default 5) timed runs after one untimed warm-up each, and
# the ratios. Goals: cold <= 0.5x podman, cached <= 0.1x podman and < 150 ms.
#
# usage: tests/bench/build.sh [BUILD_DIR]   (default: build-release, built here)
#        RUNS=3 tests/bench/build.sh BUILD_DIR   (as hutch-test: fewer repetitions;
#        started as root, the re-run as hutch-test has a clean environment)
# As root it makes the fixtures, then re-runs itself as hutch-test.
set -euo pipefail
src=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
. "$src/helpers/lib.sh"
hutch_bench_start "$0" "${1:-}"
runs=${RUNS:-5}
img=localhost/hutch-test/debian:bookworm
name=localhost/bench/build
P() {
  podman --root "$work/p" --runroot "$work/pr" --storage-driver overlay --runtime runc \
    --cgroup-manager cgroupfs --events-backend file "$@"
}
export XDG_RUNTIME_DIR=$work/xdg
mkdir -m 0700 "$XDG_RUNTIME_DIR"
podman_end() {
  local pause
  pause=$(cat "$XDG_RUNTIME_DIR/libpod/tmp/pause.pid" 2>/dev/null) || pause=
  P system reset -f >/dev/null 2>&1
  [ -z "$pause" ] || kill "$pause" 2>/dev/null
}
trap 'podman_end; "$hutch" --root "$store" unshare rm -rf "$work" 2>/dev/null; rm -rf "$work"' EXIT

echo "== the context: 50 files of 1 MB of random bytes, and the Containerfile"
ctx=$work/ctx
mkdir -p "$ctx/data"
python3 - "$ctx/data" <<'PY'
import os, sys
for i in range(50):
    with open(os.path.join(sys.argv[1], "f%03d" % i), "wb") as f:
        f.write(os.urandom(1 << 20))
PY
cat >"$ctx/Containerfile" <<CF
FROM $img
RUN echo one > /one && seq 1 100000 > /seq
RUN mkdir -p /opt/app && head -c 1000000 /dev/urandom > /opt/app/blob
RUN echo three > /three && ls /opt/app > /three.list
COPY data/ /data/
CF
du -sh "$ctx"
change_one() { head -c 1048576 /dev/urandom >"$ctx/data/f017"; }

"$hutch" --root "$store" load -q -i "$fix/debian.docker.tar" >/dev/null 2>&1
P load -q -i "$fix/debian.docker.tar" >/dev/null 2>&1 ||
  { echo "podman could not load the Debian image here: no ratio"; exit 1; }
H="$hutch --root $store build -q -t $name"
PB="P build -q -t $name"

# median NAME PREPARE CMD : one untimed warm-up, then RUNS timed runs of CMD
# each after PREPARE (untimed); the median in seconds in $work/NAME.s
median() {
  local name=$1 prepare=$2 cmd=$3 i t0 t1
  eval "$prepare" && eval "$cmd" >/dev/null 2>&1 ||
    { echo "BENCH BROKEN: $name: $cmd failed"; eval "$cmd" 2>&1 | tail -n 5; exit 1; }
  : >"$work/$name.times"
  for i in $(seq "$runs"); do
    eval "$prepare"
    sync
    t0=$(date +%s%N)
    eval "$cmd" >/dev/null 2>&1 || { echo "BENCH BROKEN: $name: $cmd failed"; exit 1; }
    t1=$(date +%s%N)
    echo $(((t1 - t0) / 1000)) >>"$work/$name.times"
  done
  python3 -c 'import statistics, sys; print(statistics.median(int(l) for l in open(sys.argv[1])) / 1e6)' \
    "$work/$name.times" >"$work/$name.s"
}
s() { cat "$work/$1.s"; }
ratio() { python3 -c 'import sys; print("%.3f" % (float(sys.argv[1]) / float(sys.argv[2])))' "$(s "$1")" "$(s "$2")"; }

echo "== medians of $runs"
median hutch-cold : "$H --no-cache $ctx"
median podman-cold : "$PB --no-cache $ctx"
median hutch-cached : "$H $ctx"
median podman-cached : "$PB $ctx"
median hutch-changed change_one "$H $ctx"
median podman-changed change_one "$PB $ctx"

# the images hold what the Containerfile made
check='test -s /seq && test -s /opt/app/blob && test "$(cat /three.list)" = blob && test "$(ls /data | wc -l)" = 50 && echo ok'
[ "$("$hutch" --root "$store" run --rm --network none "$name" sh -c "$check")" = ok ] ||
  { echo "BENCH BROKEN: hutch's image lacks what the Containerfile made"; exit 1; }
[ "$(P run --rm --network none "$name" sh -c "$check")" = ok ] ||
  { echo "BENCH BROKEN: podman's image lacks what the Containerfile made"; exit 1; }

printf '%-8s %10s %10s %8s\n' "" hutch podman ratio
for c in cold cached changed; do
  printf '%-8s %8.3f s %8.3f s %7sx\n' "$c" "$(s hutch-$c)" "$(s podman-$c)" "$(ratio hutch-$c podman-$c)"
done
status=0
goal() { # DESCRIPTION PYTHON-CONDITION
  if python3 -c "import sys; sys.exit(0 if ($2) else 1)"; then echo "goal met: $1"; else
    echo "GOAL MISSED: $1"; status=1; fi
}
goal "cold build <= 0.5x podman ($(ratio hutch-cold podman-cold)x)" "$(ratio hutch-cold podman-cold) <= 0.5"
goal "cached rebuild <= 0.1x podman ($(ratio hutch-cached podman-cached)x)" "$(ratio hutch-cached podman-cached) <= 0.1"
goal "cached rebuild < 150 ms ($(python3 -c 'import sys; print(round(float(sys.argv[1]) * 1000))' "$(s hutch-cached)") ms)" \
  "$(s hutch-cached) < 0.150"
exit $status
