#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Loading an image, hutch beside its peers, in one run, on the Debian
# minbase docker-archive (tests/fixtures/make-fixtures), all into the same
# file system (/var/tmp), the archive in the page cache:
#   sha256sum ARCHIVE                                  the hashing floor
#   hutch load -i ARCHIVE                              blobs into a store whose layer
#                                                      cache has the layer already
#   hutch load -i ARCHIVE (fresh store)                the same plus unpacking (issue 4)
#   skopeo copy docker-archive:ARCHIVE oci:DIR:NAME    into a fresh layout
# and the SHA-256 speed of GLib's GChecksum against OpenSSL's libcrypto.
# Goals (issue 3): hutch load >= 0.9x the throughput of sha256sum, and
# faster than skopeo.
#
# usage: tests/bench/load.sh [BUILD_DIR]   (default: build-release, built here)
# As root it makes the fixtures, then re-runs itself as hutch-test.
set -euo pipefail
src=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
. "$src/helpers/lib.sh"
hutch_bench_start "$0" "${1:-}"
archive=$fix/debian.docker.tar
size=$(stat -c %s "$archive")
cat "$archive" >/dev/null # into the page cache

# bench NAME RUNS PREPARE CMD : the median of CMD in seconds, via hyperfine.
bench() {
  local name=$1 runs=$2 prepare=$3 cmd=$4
  hyperfine --warmup 1 --runs "$runs" --prepare "$prepare" --export-json "$work/$name.json" \
    "$cmd" >/dev/null 2>&1
  python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["results"][0]["median"])' \
    "$work/$name.json" >"$work/$name.s"
}
s() { cat "$work/$1.s"; }
mbps() { python3 -c 'import sys; print("%.0f" % (float(sys.argv[1]) / float(sys.argv[2]) / 1e6))' "$size" "$(s "$1")"; }

echo "== SHA-256 in memory (MB/s)"
"$build/tests/hash-speed" | while read -r what speed; do printf '%-10s %6s MB/s\n' "$what" "$speed"; done

echo "== loading $(basename "$archive") ($((size / 1000000)) MB; median of 10, MB/s of archive)"
bench sha256sum 10 true "sha256sum $archive"
"$hutch" --root "$store" load -q -i "$archive" 2>/dev/null
# Blobs and index go, the unpacked layer stays: load is then import alone.
bench hutch 10 "rm -rf $store/blobs $store/index.json" \
  "$hutch --root $store load -q -i $archive"
bench hutch-unpack 5 "$hutch --root $store unshare rm -rf $store" \
  "$hutch --root $store load -q -i $archive"
bench skopeo 10 "rm -rf $work/oci" \
  "skopeo --insecure-policy copy -q docker-archive:$archive oci:$work/oci:bench"
for n in sha256sum hutch hutch-unpack skopeo; do
  printf '%-13s %7.3f s  %5s MB/s\n' "$n" "$(s $n)" "$(mbps $n)"
done
r_sum=$(python3 -c 'import sys; print("%.2f" % (float(sys.argv[1]) / float(sys.argv[2])))' "$(s sha256sum)" "$(s hutch)")
r_sko=$(python3 -c 'import sys; print("%.2f" % (float(sys.argv[1]) / float(sys.argv[2])))' "$(s skopeo)" "$(s hutch)")
echo "hutch load (import): ${r_sum}x the throughput of sha256sum, ${r_sko}x that of skopeo"
echo "hutch load with the layer unpacked too: $(python3 -c 'import sys; print("%.2f" % (float(sys.argv[1]) / float(sys.argv[2])))' "$(s skopeo)" "$(s hutch-unpack)")x skopeo (which does not unpack)"

verdict=0
python3 -c 'import sys; sys.exit(0 if float(sys.argv[1]) >= 0.9 else 1)' "$r_sum" ||
  { echo "GOAL MISSED: hutch load is below 0.9x sha256sum"; verdict=1; }
python3 -c 'import sys; sys.exit(0 if float(sys.argv[1]) > 1.0 else 1)' "$r_sko" ||
  { echo "GOAL MISSED: hutch load is not faster than skopeo"; verdict=1; }
[ $verdict = 0 ] && echo "goals met: >= 0.9x sha256sum, faster than skopeo"
exit $verdict
