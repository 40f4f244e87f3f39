#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Loading an image, hutch beside its peers, in one run, on the Debian
# minbase docker-archive (tests/fixtures/make-fixtures), all into the same
# file system (/var/tmp), the archive in the page cache. Interleaved: each
# round runs every command once, in turn, each into a directory just
# deleted (as a user's repeated loads do); medians over the rounds:
#   sha256sum ARCHIVE                          the hashing floor
#   tar -xf LAYER -C DIR                       the unpacking floor: the same layer,
#                                              no hashing, no store, no fsync
#   hutch load -i ARCHIVE (fresh store)        read, verify, store the blobs, unpack
#   hutch load -i ARCHIVE (layer cached)       blobs only (import)
#   skopeo copy docker-archive:ARCHIVE oci:DIR:NAME    into a fresh layout
#   podman load -i ARCHIVE                     when rootless podman works here
# and the SHA-256 speed of GLib's GChecksum against OpenSSL's libcrypto.
# Ratios to tar swing from run to run (1.5x-3.6x in one hour here): on an
# ext4 without a journal, each inode made in a block group that just lost
# many is found only after skipping every inode freed in the last minute
# (5 minutes while the inode table is dirty): ext4's recently_deleted(),
# as perf shows. Every command here writes into a directory just emptied,
# but how recently its old tree was written differs; CPU time and many
# rounds steady it.
# Goals: hutch load <= 1.5x tar -xf of the layer (issue 24, item 4); the
# import >= 0.9x the throughput of sha256sum and faster than skopeo (issue 3).
#
# usage: tests/bench/load.sh [BUILD_DIR] [--profile]  (default: build-release)
#   HUTCH_BENCH_ROUNDS=N   rounds (default 7)
#   --profile              instead: where a fresh load's time goes, phase by
#                          phase (HUTCH_PROFILE marks, tests/bench/profile-phases.py)
# As root it makes the fixtures, then re-runs itself as hutch-test.
set -euo pipefail
src=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
. "$src/helpers/lib.sh"
hutch_bench_start "$0" "$@"
mode=${2:-}
rounds=${HUTCH_BENCH_ROUNDS:-7}
archive=$fix/debian.docker.tar
size=$(stat -c %s "$archive")
cat "$archive" >/dev/null # into the page cache
mkdir "$work/archive"
tar -xf "$archive" -C "$work/archive"
layer=$(find "$work/archive" -type f -name '*.tar' -size +1M | head -n 1)
echo "== $(date -u +%FT%TZ), $(nproc) cores, load average: $(cut -d' ' -f1-3 /proc/loadavg)"

fresh_store() { "$hutch" --root "$store" unshare rm -rf "$store" 2>/dev/null || true; }

if [ "$mode" = --profile ]; then
  echo "== where a load into a fresh store goes (median of $rounds)"
  for i in $(seq "$rounds"); do
    fresh_store
    start=$EPOCHREALTIME
    HUTCH_PROFILE=1 "$hutch" --root "$store" load -q -i "$archive" 2>"$work/profile.$i" >/dev/null
    echo "$EPOCHREALTIME - $start" | bc >"$work/total.$i"
  done
  python3 "$src/tests/bench/profile-phases.py" "$work"/profile.*
  printf '%-44s %8.1f\n' "whole command (exec to exit)" \
    "$(sort -n "$work"/total.* | sed -n "$(((rounds + 1) / 2))p" | awk '{ print $1 * 1000 }')"
  echo "== end: load average: $(cut -d' ' -f1-3 /proc/loadavg)"
  exit 0
fi

echo "== SHA-256 in memory (MB/s)"
"$build/tests/hash-speed" | while read -r what speed; do printf '%-10s %6s MB/s\n' "$what" "$speed"; done

podman=no
if command -v podman >/dev/null && podman load -q -i "$archive" >/dev/null 2>&1; then
  podman=yes
fi
names="sha256sum tar hutch hutch-import skopeo"
[ $podman = yes ] && names="$names podman"

# run NAME PREPARE CMD : appends CMD's wall time and CPU time (user + sys,
# its children's included; seconds) to work/NAME.t and work/NAME.cpu.
# PREPARE is not timed. On a busy machine the CPU time says more.
run() {
  eval "$2" >/dev/null 2>&1 || true
  /usr/bin/time -f '%e %U %S' -o "$work/time" bash -c "$3" >/dev/null 2>&1 ||
    { echo "FAILED: $3" >&2; exit 1; }
  awk '{ print $1 }' "$work/time" >>"$work/$1.t"
  awk '{ print $2 + $3 }' "$work/time" >>"$work/$1.cpu"
}
median() { sort -n "$work/$1" | sed -n "$((($(wc -l <"$work/$1") + 1) / 2))p"; }
ratio() { python3 -c 'import sys; print("%.2f" % (float(sys.argv[1]) / float(sys.argv[2])))' "$(median "$1")" "$(median "$2")"; }

"$hutch" --root "$store" load -q -i "$archive" 2>/dev/null # warm-up
echo "== loading $(basename "$archive") ($((size / 1000000)) MB), $rounds rounds interleaved, medians"
for i in $(seq "$rounds"); do
  run sha256sum true "sha256sum $archive"
  # device nodes fail unprivileged (exit 2), as hutch skips them
  run tar "rm -rf $work/tar; mkdir $work/tar" "tar -xf $layer -C $work/tar || [ \$? = 2 ]"
  run hutch fresh_store "$hutch --root $store load -q -i $archive"
  # blobs and index go, the unpacked layer stays: load is then import alone
  run hutch-import "rm -rf $store/blobs $store/index.json" "$hutch --root $store load -q -i $archive"
  run skopeo "rm -rf $work/oci" "skopeo --insecure-policy copy -q docker-archive:$archive oci:$work/oci:bench"
  if [ $podman = yes ]; then
    run podman "podman rmi -af" "podman load -q -i $archive"
  fi
done
[ $podman = yes ] && podman rmi -af >/dev/null 2>&1
printf '%-13s %8s %6s %13s %8s\n' "" "wall s" "MB/s" "(min-max)" "CPU s"
for n in $names; do
  printf '%-13s %8.3f %6s %13s %8.3f\n' "$n" "$(median $n.t)" \
    "$(python3 -c 'import sys; print("%.0f" % (float(sys.argv[1]) / float(sys.argv[2]) / 1e6))' "$size" "$(median $n.t)")" \
    "$(sort -n "$work/$n.t" | head -n 1)-$(sort -n "$work/$n.t" | tail -n 1)" "$(median $n.cpu)"
done
r_tar=$(ratio hutch.t tar.t)
r_sum=$(ratio sha256sum.t hutch-import.t)
r_sko=$(ratio skopeo.t hutch-import.t)
echo "hutch load (fresh store): ${r_tar}x the wall time of tar -xf of the layer ($(ratio hutch.cpu tar.cpu)x its CPU time), $(ratio hutch.t skopeo.t)x that of skopeo copy (which does not unpack)"
[ $podman = yes ] && echo "hutch load (fresh store): $(ratio hutch.t podman.t)x the wall time of podman load ($(ratio hutch.cpu podman.cpu)x its CPU time)"
echo "hutch load (import): ${r_sum}x the throughput of sha256sum, ${r_sko}x that of skopeo"
echo "== end: load average: $(cut -d' ' -f1-3 /proc/loadavg)"

verdict=0
python3 -c 'import sys; sys.exit(0 if float(sys.argv[1]) <= 1.5 else 1)' "$r_tar" ||
  { echo "GOAL MISSED: hutch load is over 1.5x tar -xf"; verdict=1; }
python3 -c 'import sys; sys.exit(0 if float(sys.argv[1]) >= 0.9 else 1)' "$r_sum" ||
  { echo "GOAL MISSED: hutch load (import) is below 0.9x sha256sum"; verdict=1; }
python3 -c 'import sys; sys.exit(0 if float(sys.argv[1]) > 1.0 else 1)' "$r_sko" ||
  { echo "GOAL MISSED: hutch load (import) is not faster than skopeo"; verdict=1; }
[ $verdict = 0 ] && echo "goals met: <= 1.5x tar -xf, import >= 0.9x sha256sum and faster than skopeo"
exit $verdict
