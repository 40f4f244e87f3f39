#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# hutch commit beside podman commit of the same change, in one run: a
# container of the Debian test image that wrote 200 MB in 2,000 files (the
# same bytes for both, copied from a payload made here: base64 text, which
# compresses about as source trees do) and deleted 500 of the image's files.
#   hutch commit CTR NAME
#   podman --root P --runroot PR --runtime runc --cgroup-manager cgroupfs commit CTR NAME
# each followed by nothing else (the image removed again before the next
# run, by hyperfine's --prepare, untimed). Medians of 5, and the ratio.
# Goal (issue 20): hutch <= 0.7x podman's time.
#
# usage: tests/bench/commit.sh [BUILD_DIR]   (default: build-release, built here)
# As root it makes the fixtures, then re-runs itself as hutch-test.
set -euo pipefail
src=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
. "$src/helpers/lib.sh"
hutch_bench_start "$0" "${1:-}"
img=localhost/hutch-test/debian:bookworm
P=(podman --root "$work/p" --runroot "$work/pr" --runtime runc --cgroup-manager cgroupfs)
trap '"$hutch" --root "$store" rm -f bench >/dev/null 2>&1; "${P[@]}" rm -f bench >/dev/null 2>&1;
  "${P[@]}" unshare rm -rf "$work/p" "$work/pr" 2>/dev/null;
  "$hutch" --root "$store" unshare rm -rf "$work" 2>/dev/null; rm -rf "$work"' EXIT

echo "== making the payload: 2,000 files, 200 MB"
mkdir -p "$work/payload"
python3 - "$work/payload" <<'PY'
import base64, os, random, sys
r = random.Random(20)
for i in range(2000):
    raw = r.randbytes(75000)
    with open(os.path.join(sys.argv[1], "f%04d" % i), "wb") as f:
        f.write(base64.encodebytes(raw))
PY
du -sh "$work/payload"
change='cp -a /p /data && find /usr/share -type f | LC_ALL=C sort | head -500 | xargs rm && echo done'

"$hutch" --root "$store" load -q -i "$fix/debian.docker.tar" 2>/dev/null
out=$("$hutch" --root "$store" run --name bench -v "$work/payload:/p:ro" "$img" sh -c "$change")
[ "$out" = done ] || { echo "BENCH BROKEN: the hutch container did not make its change"; exit 1; }
podman_ok=no
if "${P[@]}" load -q -i "$fix/debian.docker.tar" >/dev/null 2>&1 &&
  out=$("${P[@]}" run --name bench --network none -v "$work/payload:/p:ro" "$img" sh -c "$change") &&
  [ "$out" = done ]; then
  podman_ok=yes
fi
echo "hutch diff: $("$hutch" --root "$store" diff bench | grep -c '^D') deleted, $("$hutch" --root "$store" diff bench | grep -c '^A /data/') added under /data"

# bench NAME PREPARE CMD : the median of CMD in seconds, via hyperfine.
bench() {
  hyperfine --warmup 1 --runs 5 --prepare "$2" --export-json "$work/$1.json" "$3" >/dev/null 2>&1
  python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["results"][0]["median"])' \
    "$work/$1.json" >"$work/$1.s"
}
s() { cat "$work/$1.s"; }
sync
bench hutch "$hutch --root $store rmi -f localhost/bench/commit >/dev/null 2>&1; sync" \
  "$hutch --root $store commit bench localhost/bench/commit"
printf '%-14s %7.3f s\n' "hutch commit" "$(s hutch)"
"$hutch" --root "$store" run --rm localhost/bench/commit sh -c 'test -s /data/f1999 && test ! -e /data/f2000' ||
  { echo "BENCH BROKEN: the committed image lacks the change"; exit 1; }
if [ "$podman_ok" = no ]; then
  echo "podman could not run the Debian image here: no ratio"
  exit 1
fi
bench podman "${P[*]} rmi -f localhost/bench/commit >/dev/null 2>&1; sync" \
  "${P[*]} commit -q bench localhost/bench/commit"
printf '%-14s %7.3f s\n' "podman commit" "$(s podman)"
ratio=$(python3 -c 'import sys; print("%.2f" % (float(sys.argv[1]) / float(sys.argv[2])))' "$(s hutch)" "$(s podman)")
echo "hutch commit: ${ratio}x podman commit's time (goal: <= 0.7x)"
python3 -c 'import sys; sys.exit(0 if float(sys.argv[1]) <= 0.7 else 1)' "$ratio" ||
  { echo "GOAL MISSED: hutch commit takes more than 0.7x podman commit's time"; exit 1; }
