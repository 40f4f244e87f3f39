#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# hutch cp both ways, on a running container (its namespaces joined) and a
# stopped one (its rootfs mounted privately, under each rootfs driver):
# docker cp's rules for the destination, "-" as a tar stream both ways,
# owners (the container's root copying in, the caller copying out, the
# container's ids in a tar), and hostile symlinks in the container that
# must never lead a copy onto or out of the host.
. "$(dirname "$0")/lib.sh"
require_fixtures
busybox_store

me="$(id -u):$(id -g)"
me_tar="$(id -u)/$(id -g)"
S=$T/src
mkdir -p "$S/d1/sub" "$T/hostdir" "$T/links"
echo hello >"$S/f1"
echo x >"$S/d1/x"
echo y >"$S/d1/sub/y"
echo secret >"$T/hostdir/secret"
hostdir_before=$(store_snapshot "$T/hostdir")
# hostile symlinks, put into each container through "cp -"
ln -s /etc "$T/links/x"
ln -s ../../../../../../.. "$T/links/up"
ln -s "$T/hostdir" "$T/links/abs"
tar -C "$T/links" -cf "$T/links.tar" x up abs
# a tar of files owned by 1000:1000
tar -C "$S" --owner=1000 --group=1000 -cf "$T/owned.tar" f1
# tars whose names lead through a symlink, or out
python3 - "$T" <<'PY'
import io, sys, tarfile
t = sys.argv[1]
for name, member in (("through", "abs/evil"), ("dotdot", "../../../evil")):
    with tarfile.open(f"{t}/{name}.tar", "w", format=tarfile.PAX_FORMAT) as tf:
        data = b"evil\n"
        ti = tarfile.TarInfo(member)
        ti.size = len(data)
        tf.addfile(ti, io.BytesIO(data))
PY

H create --name stopped --network none "$BB" sleep 1000
is "$rc" 0 "create a container that is not started"
H run -d --name running --network none "$BB" sleep 1000
is "$rc" 0 "run a container in the background"
H create --name fuse --rootfs-driver fuse-overlayfs --network none "$BB" true
H create --name copy --rootfs-driver copy --network none "$BB" true

# ctr_cat C PATH: the file's bytes, out through "-" (the tar's one member)
ctr_cat() { "$HUTCH" --root "$R" cp "$1:$2" - 2>/dev/null | tar -xOf - 2>/dev/null; }
# ctr_ls C PATH: "owner mode name" of each member of the tar cp writes
ctr_ls() {
  "$HUTCH" --root "$R" cp "$1:$2" - 2>/dev/null | tar -tvf - --numeric-owner 2>/dev/null |
    awk '{print $2, $1, $6}'
}

for c in running stopped fuse copy; do
  O=$T/out-$c
  mkdir -p "$O"
  # host -> container
  H cp "$S/f1" "$c:/tmp/"
  is "$rc:$err" "0:" "$c: a file into an existing directory"
  is "$(ctr_cat "$c" /tmp/f1)" hello "$c: it is there, with its contents"
  is "$(ctr_ls "$c" /tmp/f1)" "0/0 -rw-r--r-- f1" "$c: owned by the container's root, mode kept"
  H cp "$S/f1" "$c:/tmp/renamed"
  is "$rc:$(ctr_cat "$c" /tmp/renamed)" "0:hello" "$c: a file to a new name"
  H cp "$S/d1" "$c:/tmp/"
  is "$rc:$(ctr_cat "$c" /tmp/d1/sub/y)" "0:y" "$c: a directory into an existing directory"
  H cp "$S/d1" "$c:/tmp/newdir"
  is "$rc:$(ctr_cat "$c" /tmp/newdir/x)" "0:x" "$c: a directory to a new name holds its contents"
  H cp "$S/d1/." "$c:/root"
  is "$rc:$(ctr_cat "$c" /root/x)" "0:x" "$c: DIR/. copies what DIR holds"
  H cp "$S/f1" "$c:/tmp/newdir"
  is "$rc:$(ctr_cat "$c" /tmp/newdir/f1)" "0:hello" "$c: a file onto a directory goes inside it"
  H cp "$S/f1" "$c:/tmp/nodir/"
  is "$rc" 125 "$c: a file to DIR/ that does not exist is refused"
  like "$err" "has no directory /tmp/nodir" "$c: saying which directory is missing"
  H cp "$S/d1" "$c:/tmp/f1"
  is "$rc" 125 "$c: a directory onto a file is refused"
  like "$err" "cannot copy the directory" "$c: saying so"
  H cp -a "$S/f1" "$c:/tmp/kept"
  is "$(ctr_ls "$c" /tmp/kept)" "$me_tar -rw-r--r-- kept" "$c: -a keeps the owner of the host's file"
  # "-" in
  out=$("$HUTCH" --root "$R" cp - "$c:/home" <"$T/owned.tar" 2>&1) && rc=0 || rc=$?
  is "$rc:$(ctr_ls "$c" /home/f1)" "0:0/0 -rw-r--r-- f1" "$c: a tar from stdin, owned by root"
  out=$("$HUTCH" --root "$R" cp -a - "$c:/home" <"$T/owned.tar" 2>&1) && rc=0 || rc=$?
  is "$rc:$(ctr_ls "$c" /home/f1)" "0:1000/1000 -rw-r--r-- f1" "$c: with -a, the tar's owners"
  out=$(gzip -c "$T/owned.tar" | "$HUTCH" --root "$R" cp - "$c:/tmp" 2>&1) && rc=0 || rc=$?
  is "$rc:$(ctr_cat "$c" /tmp/f1)" "0:hello" "$c: a gzipped tar from stdin"
  out=$(echo "not a tar" | "$HUTCH" --root "$R" cp - "$c:/tmp" 2>&1) && rc=0 || rc=$?
  is "$rc" 125 "$c: stdin that is no tar is exit 125"
  like "$out" "not a tar|corrupt tar|truncated" "$c: saying so ($out)"
  out=$("$HUTCH" --root "$R" cp - "$c:/tmp/f1" <"$T/owned.tar" 2>&1) && rc=0 || rc=$?
  is "$rc" 125 "$c: from stdin the destination must be a directory"
  like "$out" "must be one" "$c: saying so"
  # container -> host
  H cp "$c:/tmp/f1" "$O/f1"
  is "$rc:$(cat "$O/f1"):$(stat -c %u:%g "$O/f1")" "0:hello:$me" "$c: a file out, owned by the caller"
  H cp "$c:/home/f1" "$O/"
  is "$rc:$(stat -c %u:%g "$O/f1")" "0:$me" "$c: a file owned by 1000 in the container is the caller's out here"
  H cp "$c:/tmp/d1" "$O"
  is "$rc:$(cat "$O/d1/sub/y")" "0:y" "$c: a directory into an existing directory"
  H cp "$c:/tmp/d1" "$O/new"
  is "$rc:$(cat "$O/new/x")" "0:x" "$c: a directory to a new name"
  mkdir "$O/contents"
  H cp "$c:/tmp/d1/." "$O/contents"
  is "$rc:$(ls "$O/contents" | tr '\n' ' ')" "0:sub x " "$c: DIR/. copies what DIR holds"
  H cp "$c:/tmp/f1" "$O/nodir/"
  is "$rc" 125 "$c: out to DIR/ that does not exist is refused"
  H cp "$c:/tmp/f1/" "$O/x"
  is "$rc" 125 "$c: a file named as a directory (f1/) is refused"
  "$HUTCH" --root "$R" cp "$c:/etc/passwd" - >"$O/passwd.tar"
  ok $? "$c: out to stdout"
  is "$("$HUTCH" --root "$R" cp "$c:/tmp/d1" - | tar -tf - | LC_ALL=C sort | tr '\n' ' ')" \
    "d1/ d1/sub/ d1/sub/y d1/x " "$c: a directory as a tar named by its base name"
  # missing paths
  H cp "$c:/no/such" "$O/z"
  is "$rc" 125 "$c: a container path that does not exist is exit 125"
  like "$err" "container $c has no /no/such" "$c: and said so"
  ok "$([ ! -e "$O/z" ]; echo $?)" "$c: nothing is written"
  H cp "$T/no-such" "$c:/tmp/"
  is "$rc" 125 "$c: a host path that does not exist is exit 125"
  like "$err" "no-such" "$c: naming it"
  H cp "$S/f1" "$c:/no/such/dir/f"
  is "$rc" 125 "$c: into a directory the container does not have"
  like "$err" "has no directory /no/such/dir" "$c: naming it"

  # hostile symlinks in the container: /tmp/x -> /etc, /tmp/up -> ../../.., /tmp/abs -> a host dir
  out=$("$HUTCH" --root "$R" cp - "$c:/tmp" <"$T/links.tar" 2>&1) && rc=0 || rc=$?
  is "$rc" 0 "$c: symlinks planted in the container"
  H cp "$c:/tmp/abs/secret" "$O/leak"
  is "$rc" 125 "$c: a symlink to a host path does not read the host's file"
  ok "$([ ! -e "$O/leak" ]; echo $?)" "$c: nothing copied out"
  is "$(ctr_cat "$c" /tmp/up/etc/passwd)" "$(ctr_cat "$c" /etc/passwd)" \
    "$c: ../../.. stops at the container's root: its own /etc/passwd"
  unlike "$(ctr_cat "$c" /tmp/x/passwd)" "^hutch-test:" "$c: /tmp/x -> /etc is the container's /etc"
  H cp "$S/f1" "$c:/tmp/abs/"
  is "$rc" 125 "$c: copying in through a symlink to a host directory is refused"
  H cp "$S/f1" "$c:/tmp/abs/f1"
  is "$rc" 125 "$c: and through it to a new name too"
  H cp "$S/f1" "$c:/tmp/up/"
  is "$rc:$(ctr_cat "$c" /f1)" "0:hello" "$c: ../../.. into the container's own root"
  out=$("$HUTCH" --root "$R" cp - "$c:/tmp" <"$T/through.tar" 2>&1) && rc=0 || rc=$?
  is "$rc" 125 "$c: a tar member through a symlink in the container is refused"
  like "$out" "symlink" "$c: saying so"
  out=$("$HUTCH" --root "$R" cp - "$c:/tmp" <"$T/dotdot.tar" 2>&1) && rc=0 || rc=$?
  is "$rc" 125 "$c: a tar member with .. is refused"
  is "$(store_snapshot "$T/hostdir")" "$hostdir_before" "$c: the host directory is as it was"
  ok "$([ ! -e "$T/evil" ] && [ ! -e "$T/hostdir/f1" ]; echo $?)" "$c: nothing written outside"
done

# The same refusals where openat2 is missing (kernels before 5.6, some
# container profiles): the component-by-component walk must hold too.
# Joining a running container needs no newuidmap, which the filter stops.
NOSYS=$HUTCH_TEST_BUILDDIR/tests/no-syscall
for e in ENOSYS EPERM; do
  N=("$NOSYS" "openat2:$e" -- "$HUTCH" --root "$R")
  out=$("${N[@]}" cp running:/tmp/abs/secret "$T/leak-$e" 2>&1) && rc=0 || rc=$?
  is "$rc:$([ -e "$T/leak-$e" ]; echo $?)" "125:1" "openat2 $e: a symlink to a host path reads nothing of the host"
  is "$("${N[@]}" cp running:/tmp/up/etc/passwd - 2>/dev/null | tar -xOf -)" "$(ctr_cat running /etc/passwd)" \
    "openat2 $e: ../../.. stops at the container's root"
  out=$("${N[@]}" cp "$S/f1" running:/tmp/abs/f1 2>&1) && rc=0 || rc=$?
  is "$rc" 125 "openat2 $e: copying in through a symlink to a host directory is refused"
  out=$("${N[@]}" cp "$S/f1" running:/tmp/up/nosys-$e 2>&1) && rc=0 || rc=$?
  is "$rc:$(ctr_cat running /nosys-$e)" "0:hello" "openat2 $e: ../../.. into the container's own root"
  out=$("${N[@]}" cp - running:/tmp <"$T/through.tar" 2>&1) && rc=0 || rc=$?
  is "$rc" 125 "openat2 $e: a tar member through a symlink is refused"
done
is "$(store_snapshot "$T/hostdir")" "$hostdir_before" "the host directory is as it was"

H exec running cat /tmp/f1
is "$rc:$out" "0:hello" "the running container's own processes see what cp wrote"
# on disk: what cp -a made uid 1000 in the container is the subordinate id
# that maps to it, and what it made root's is the user's own
sub=$(awk -F: -v u="$(id -un)" '$1 == u { print $2; exit }' /etc/subuid)
cid=$("$HUTCH" --root "$R" inspect -f '{{.Id}}' stopped)
is "$(stat -c %u "$R/containers/$cid/upper/home/f1")" "$((sub + 999))" \
  "on disk, container uid 1000 is subordinate id $((sub + 999))"
is "$(stat -c %u "$R/containers/$cid/upper/tmp/renamed")" "$(id -u)" "and container root is the user"
H start stopped
H exec stopped cat /tmp/newdir/f1 /home/f1
is "$rc:$out" "$(printf '0:hello\nhello')" "what cp wrote into a stopped container is there when it runs"

# bad input
H cp "$S/f1" nosuch:/tmp/
is "$rc" 125 "a container that does not exist is exit 125"
like "$err" "nosuch" "naming it"
dd if=/dev/urandom of="$T/big" bs=1M count=4 status=none
H run -d --name ro --read-only --network none "$BB" sleep 1000
H cp "$T/big" ro:/home/
is "$rc" 125 "4 MB into a read-only container (more than a pipe holds): exit 125"
like "$err" "Read-only file system" "with the container's reason, not a broken pipe"
H cp "$S/f1" "$T/other"
is "$rc" 125 "two host paths: a usage error"
H cp stopped:/etc/passwd running:/tmp/
is "$rc" 125 "container to container: a usage error"
H cp "$S/f1"
is "$rc" 125 "one argument: a usage error"
out=$(script -qec "$HUTCH --root $R cp stopped:/etc/passwd -" /dev/null </dev/null 2>&1) && rc=0 || rc=$?
is "$rc" 125 "a tar to a terminal is refused"
like "$out" "refusing to write a tar to a terminal" "saying so"
