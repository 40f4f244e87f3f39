#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Pulling the Debian minbase image (one gzip layer, from
# tests/fixtures/make-fixtures) from Debian's docker-registry on loopback,
# seeded with skopeo, a fresh store each run, hutch beside its peers in one
# run, all as the same unprivileged user on the same file system (/var/tmp):
#   curl -o /dev/null BLOB                  the HTTP transfer alone
#   curl BLOB | tar -xzf - -C DIR           single-threaded download and unpack
#   podman pull                             rootless podman, its default storage
#   skopeo copy + umoci unpack --rootless   the two-step tool chain
#   hutch pull                              download and unpack at once
# Goals (issue 7): hutch <= 0.6x podman pull, and faster than curl | tar.
#
# usage: tests/bench/pull.sh [BUILD_DIR]   (default: build-release, built here)
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
ref=127.0.0.1:$port/bench/debian:bookworm
skopeo copy -q --dest-tls-verify=false "docker-archive:$fix/debian.docker.tar" "docker://$ref"
layer=$(skopeo inspect --raw --tls-verify=false "docker://$ref" |
  python3 -c 'import json,sys; l=json.load(sys.stdin)["layers"][0]; print(l["digest"], l["size"])')
size=${layer#* }
url=http://127.0.0.1:$port/v2/bench/debian/blobs/${layer% *}

bench() { # NAME PREPARE CMD
  hyperfine -i --warmup 1 --runs "$runs" --prepare "$2" --export-json "$work/$1.json" "$3" >/dev/null 2>&1
  python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["results"][0]["median"])' \
    "$work/$1.json" >"$work/$1.s"
}
s() { cat "$work/$1.s"; }
ratio() { python3 -c 'import sys; print("%.2f" % (float(sys.argv[1]) / float(sys.argv[2])))' "$(s "$1")" "$(s "$2")"; }

echo "== pulling the debian minbase image ($((size / 1000000)) MB compressed; median of $runs, fresh store each run)"
names=(transfer curl-tar hutch)
bench transfer true "curl -s -o /dev/null $url"
bench curl-tar "rm -rf $work/tar && mkdir $work/tar" "sh -c 'curl -s $url | tar -xzf - -C $work/tar'"
bench hutch "$hutch --root $store unshare rm -rf $store" "$hutch --root $store pull -q --tls-verify=false $ref"
if podman info >/dev/null 2>&1; then
  bench podman "podman rmi -f $ref" "podman pull -q --tls-verify=false $ref"
  names+=(podman)
fi
bench skopeo-umoci "rm -rf $work/oci $work/bundle" \
  "sh -c 'skopeo copy -q --src-tls-verify=false docker://$ref oci:$work/oci:x && umoci unpack --rootless --image $work/oci:x $work/bundle'"
names+=(skopeo-umoci)
for n in "${names[@]}"; do printf '%-13s %7.3f s\n' "$n" "$(s "$n")"; done
verdict=0
r_tar=$(ratio hutch curl-tar)
echo "hutch: ${r_tar}x the time of curl | tar -xzf, $(ratio hutch skopeo-umoci)x that of skopeo copy + umoci unpack"
python3 -c 'import sys; sys.exit(0 if float(sys.argv[1]) < 1.0 else 1)' "$r_tar" ||
  { echo "GOAL MISSED: hutch pull is not faster than curl | tar -xzf"; verdict=1; }
if [ -f "$work/podman.s" ]; then
  r_podman=$(ratio hutch podman)
  echo "hutch: ${r_podman}x the time of podman pull"
  python3 -c 'import sys; sys.exit(0 if float(sys.argv[1]) <= 0.6 else 1)' "$r_podman" ||
    { echo "GOAL MISSED: hutch pull is over 0.6x podman pull"; verdict=1; }
  podman rmi -f "$ref" >/dev/null 2>&1 || true
else
  echo "podman cannot run here: no podman comparison"
  verdict=1
fi
[ $verdict = 0 ] && echo "goals met: <= 0.6x podman pull, faster than curl | tar -xzf"
exit $verdict
