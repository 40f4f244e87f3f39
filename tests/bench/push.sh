#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Pushing the Debian minbase image (one layer, from tests/fixtures/make-fixtures)
# to Debian's docker-registry on loopback, a fresh repository each run (so
# every blob is uploaded again), hutch beside skopeo in one run, as the same
# unprivileged user:
#   loaded:  hutch push of the image loaded from debian.docker.tar (load
#            keeps its layer gzip in the store: sent as it is) vs skopeo copy
#            docker-archive:debian.docker.tar (the plain tar, compressed with
#            gzip on the way, one thread): what a user of each sees after
#            loading the archive
#   pulled:  hutch push of the image pulled from the registry (gzip layer, sent
#            as it is) vs skopeo copy oci:debian/oci (gzip layer, as it is)
#   zstd:    both recompress the gzip layer as zstd on the way: hutch push
#            --compression-format zstd vs skopeo copy --dest-compress-format
#            zstd from oci:debian/oci
# skopeo's blob-info cache lives under $HOME: each skopeo run gets a fresh
# HOME, or it would mount the blob it uploaded the run before instead of
# uploading it. Goal (issue 20): hutch <= 0.7x skopeo, for the loaded image.
#
# usage: tests/bench/push.sh [BUILD_DIR]   (default: build-release, built here)
# As root it makes the fixtures, then re-runs itself as hutch-test.
set -euo pipefail
src=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
. "$src/helpers/lib.sh"
hutch_bench_start "$0" "${1:-}"
runs=${HUTCH_BENCH_RUNS:-5}

port=$(python3 "$src/tests/integration/nethelp.py" free-port)
mkdir -p "$work/reg"
cat >"$work/reg/config.yml" <<YML
version: 0.1
log:
  level: error
storage:
  filesystem:
    rootdirectory: $work/reg/data
http:
  addr: 127.0.0.1:$port
YML
docker-registry serve "$work/reg/config.yml" >"$work/reg/log" 2>&1 &
reg=$!
trap 'kill $reg 2>/dev/null; "$hutch" --root "$store" unshare rm -rf "$work" 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/v2/" >/dev/null && break; read -r -t 0.05 _ <>/dev/zero || true; done
R=127.0.0.1:$port
loaded=localhost/hutch-test/debian:bookworm
pulled=$R/seed/debian:bookworm
"$hutch" --root "$store" load -q -i "$fix/debian.docker.tar" >/dev/null
skopeo copy -q --dest-tls-verify=false "oci:$fix/debian/oci" "docker://$pulled"
"$hutch" --root "$store" pull -q --tls-verify=false "$pulled" >/dev/null
# named elsewhere only, or hutch would mount its layer from seed/debian
"$hutch" --root "$store" tag "$pulled" localhost/bench/debian:pulled
"$hutch" --root "$store" rmi "$pulled" >/dev/null
pulled=localhost/bench/debian:pulled
# the repository for the next run: a new one each time
echo 0 >"$work/n"
next="n=\$((\$(cat $work/n) + 1)); echo \$n >$work/n"
fresh_home="rm -rf $work/home && mkdir $work/home"

bench() { # NAME PREPARE CMD
  hyperfine -i --warmup 1 --runs "$runs" --prepare "$2" --export-json "$work/$1.json" "$3" >/dev/null 2>&1
  python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["results"][0]["median"])' \
    "$work/$1.json" >"$work/$1.s"
}
s() { cat "$work/$1.s"; }
ratio() { python3 -c 'import sys; print("%.2f" % (float(sys.argv[1]) / float(sys.argv[2])))' "$(s "$1")" "$(s "$2")"; }

echo "== pushing the debian minbase image (median of $runs, a fresh repository each run)"
bench hutch-loaded "sh -c '$next'" \
  "sh -c '$hutch --root $store push -q --tls-verify=false $loaded $R/hl\$(cat $work/n)/debian:1'"
bench skopeo-archive "sh -c '$next; $fresh_home'" \
  "sh -c 'HOME=$work/home skopeo copy -q --dest-tls-verify=false docker-archive:$fix/debian.docker.tar docker://$R/sa\$(cat $work/n)/debian:1'"
bench hutch-pulled "sh -c '$next'" \
  "sh -c '$hutch --root $store push -q --tls-verify=false $pulled $R/hp\$(cat $work/n)/debian:1'"
bench skopeo-oci "sh -c '$next; $fresh_home'" \
  "sh -c 'HOME=$work/home skopeo copy -q --dest-tls-verify=false oci:$fix/debian/oci docker://$R/so\$(cat $work/n)/debian:1'"
# hutch remembers what it compressed a layer into (~/.cache/hutch/push): a
# fresh cache each run too, as skopeo's
bench hutch-zstd "sh -c '$next; $fresh_home'" \
  "sh -c 'XDG_CACHE_HOME=$work/home $hutch --root $store push -q --tls-verify=false --compression-format zstd $pulled $R/hz\$(cat $work/n)/debian:1'"
bench skopeo-zstd "sh -c '$next; $fresh_home'" \
  "sh -c 'HOME=$work/home skopeo copy -q --dest-tls-verify=false --dest-compress-format zstd oci:$fix/debian/oci docker://$R/sz\$(cat $work/n)/debian:1'"
for n in hutch-loaded skopeo-archive hutch-pulled skopeo-oci hutch-zstd skopeo-zstd; do printf '%-15s %7.3f s\n' "$n" "$(s "$n")"; done
r_loaded=$(ratio hutch-loaded skopeo-archive)
echo "loaded image:        hutch ${r_loaded}x the time of skopeo copy docker-archive:"
echo "pulled image:        hutch $(ratio hutch-pulled skopeo-oci)x the time of skopeo copy oci:"
echo "recompressed (zstd): hutch $(ratio hutch-zstd skopeo-zstd)x the time of skopeo copy --dest-compress-format zstd"
if python3 -c 'import sys; sys.exit(0 if float(sys.argv[1]) <= 0.7 else 1)' "$r_loaded"; then
  echo "goal met: <= 0.7x skopeo copy"
else
  echo "GOAL MISSED: hutch push is over 0.7x skopeo copy"
  exit 1
fi
