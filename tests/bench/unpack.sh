#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Unpacking the Debian minbase layer (gzip, from tests/fixtures/make-fixtures),
# hutch beside its peers, in one run, all as the same unprivileged user into
# the same file system (/var/tmp), the blob in the page cache:
#   zcat BLOB >/dev/null                    the decompression floor
#   tar -xzf BLOB -C DIR                    into a plain directory (device nodes fail: ignored)
#   umoci unpack --rootless --image ...     into a fresh bundle
#   hutch load (blobs present, layer not)   unpack in the user namespace, diff_id checked
# Goals (issue 4): hutch >= 1.0x tar -xzf and >= 2x umoci.
#
# usage: tests/bench/unpack.sh [BUILD_DIR]   (default: build-release, built here)
# As root it makes the fixtures, then re-runs itself as hutch-test.
set -euo pipefail
src=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
. "$src/helpers/lib.sh"
hutch_bench_start "$0" "${1:-}"
layout=$fix/debian/oci
name=localhost/hutch-test/debian:bookworm
blob=$(python3 -c 'import json,sys; i=json.load(open(sys.argv[1]+"/index.json")); m=json.load(open(sys.argv[1]+"/blobs/sha256/"+i["manifests"][0]["digest"][7:])); print(sys.argv[1]+"/blobs/sha256/"+m["layers"][0]["digest"][7:])' "$layout")
size=$(zcat "$blob" | wc -c)
cat "$blob" >/dev/null
"$hutch" --root "$store" load -q --input-format oci-dir -i "$layout" 2>/dev/null

bench() { # NAME PREPARE CMD
  hyperfine -i --warmup 1 --runs 7 --prepare "$2" --export-json "$work/$1.json" "$3" >/dev/null 2>&1
  python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["results"][0]["median"])' \
    "$work/$1.json" >"$work/$1.s"
}
s() { cat "$work/$1.s"; }
ratio() { python3 -c 'import sys; print("%.2f" % (float(sys.argv[1]) / float(sys.argv[2])))' "$(s "$1")" "$(s "$2")"; }

echo "== unpacking the debian minbase layer ($((size / 1000000)) MB uncompressed; median of 7)"
bench zcat true "zcat $blob"
bench tar "rm -rf $work/tar && mkdir $work/tar" "tar -xzf $blob -C $work/tar"
bench umoci "rm -rf $work/umoci" "umoci unpack --rootless --image $layout:$name $work/umoci"
bench hutch "$hutch --root $store unshare rm -rf $store/layers" \
  "$hutch --root $store load -q --input-format oci-dir -i $layout"
for n in zcat tar umoci hutch; do
  printf '%-8s %7.3f s  %5.0f MB/s\n' "$n" "$(s $n)" \
    "$(python3 -c 'import sys; print(float(sys.argv[1]) / float(sys.argv[2]) / 1e6)' "$size" "$(s $n)")"
done
r_tar=$(ratio tar hutch)
r_umoci=$(ratio umoci hutch)
echo "hutch: ${r_tar}x the speed of tar -xzf, ${r_umoci}x that of umoci unpack --rootless"
verdict=0
python3 -c 'import sys; sys.exit(0 if float(sys.argv[1]) >= 1.0 else 1)' "$r_tar" ||
  { echo "GOAL MISSED: hutch is slower than tar -xzf"; verdict=1; }
python3 -c 'import sys; sys.exit(0 if float(sys.argv[1]) >= 2.0 else 1)' "$r_umoci" ||
  { echo "GOAL MISSED: hutch is under 2x umoci"; verdict=1; }
[ $verdict = 0 ] && echo "goals met: >= 1.0x tar -xzf, >= 2x umoci"
exit $verdict
