#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Saving an image, hutch beside podman, in one run, on the Debian minbase
# image (tests/fixtures/make-fixtures) loaded into each one's own store on
# the same file system (/var/tmp):
#   hutch save -o FILE IMAGE                       docker-archive: the store's gzipped
#                                                  layer decompressed into the archive
#   podman save -o FILE IMAGE                      the same from podman's overlay store
#   ... --format oci-archive                       both, blobs as stored (for the record)
# Goal (issue 20): hutch save <= 0.7x podman save's time.
#
# usage: tests/bench/save.sh [BUILD_DIR]   (default: build-release, built here)
# As root it makes the fixtures, then re-runs itself as hutch-test.
set -euo pipefail
src=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
. "$src/helpers/lib.sh"
hutch_bench_start "$0" "${1:-}"
archive=$fix/debian.docker.tar
image=localhost/hutch-test/debian:bookworm
# podman rootless on a store of its own: kernel overlay in the user
# namespace, runc and cgroupfs as in the tests (no systemd user session)
P() {
  podman --root "$work/podman" --runroot "$work/podman-run" --runtime runc \
    --cgroup-manager cgroupfs --storage-driver overlay --events-backend file "$@"
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
pcmd="podman --root $work/podman --runroot $work/podman-run --runtime runc --cgroup-manager cgroupfs --storage-driver overlay --events-backend file"

"$hutch" --root "$store" load -q -i "$archive" 2>/dev/null
P load -q -i "$archive" >/dev/null 2>&1

# bench NAME RUNS PREPARE CMD : the median of CMD in seconds, via hyperfine.
bench() {
  local name=$1 runs=$2 prepare=$3 cmd=$4
  hyperfine --warmup 1 --runs "$runs" --prepare "$prepare" --export-json "$work/$name.json" \
    "$cmd" >/dev/null 2>&1
  python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["results"][0]["median"])' \
    "$work/$name.json" >"$work/$name.s"
}
s() { cat "$work/$1.s"; }
ratio() { python3 -c 'import sys; print("%.2f" % (float(sys.argv[1]) / float(sys.argv[2])))' "$(s "$1")" "$(s "$2")"; }

echo "== saving $image ($(($(stat -c %s "$archive") / 1000000)) MB as a docker-archive; median of 10)"
bench hutch 10 "rm -f $work/h.tar" "$hutch --root $store save -o $work/h.tar $image"
bench podman 10 "rm -f $work/p.tar" "$pcmd save -q -o $work/p.tar $image"
bench hutch-oci 10 "rm -f $work/h.oci" "$hutch --root $store save --format oci-archive -o $work/h.oci $image"
bench podman-oci 10 "rm -f $work/p.oci" "$pcmd save -q --format oci-archive -o $work/p.oci $image"
for n in hutch podman hutch-oci podman-oci; do
  printf '%-11s %7.3f s\n' "$n" "$(s $n)"
done
r=$(ratio hutch podman)
echo "hutch save: ${r}x podman save's time (docker-archive); oci-archive: $(ratio hutch-oci podman-oci)x"
if python3 -c 'import sys; sys.exit(0 if float(sys.argv[1]) <= 0.7 else 1)' "$r"; then
  echo "goal met: <= 0.7x podman save"
else
  echo "GOAL MISSED: hutch save is over 0.7x podman save"
  exit 1
fi
