#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# hutch commit and hutch import into a store whose disk fills up halfway (a
# tmpfs mounted as root: what a test user cannot make): exit 125 with the
# disk named, nothing half made in `images`, no blob, layer or temporary
# file left (the space is free again), and once there is room the same
# commit works.
. "$(dirname "$0")/lib.sh"
require_root
require_fixtures

user=hutch-test
BB=localhost/hutch-test/busybox:latest
mnt=$T/tiny
mkdir "$mnt"
mount -t tmpfs -o "size=20m,mode=0700,uid=$(id -u "$user"),gid=$(id -g "$user")" tmpfs "$mnt"
ok $? "a tmpfs of 20 MB for the store"
at_exit 'umount -l "$mnt"'
at_exit 'rm -rf "/tmp/hutch-run-$(id -u "$user")"'
H() { hutch_as "$user" -- --root "$mnt/store" "$@"; }
avail() { df --output=avail -B1 "$mnt" | tail -1 | tr -d ' '; }
state() { (cd "$mnt/store" && cat index.json && ls -a blobs/sha256 layers | LC_ALL=C sort); }

H load -q -i "$FIX/busybox.docker.tar"
is "$rc" 0 "busybox loaded into it"
# 8 MB that do not compress: the commit needs them twice more (the blob and
# the unpacked layer), and the disk has room for once
H run --name big --network none "$BB" sh -c 'head -c 8000000 /dev/urandom >/big'
is "$rc" 0 "a container that wrote 8 MB of random bytes"
before=$(state)
free_before=$(avail)
H commit big localhost/t/big
is "$rc" 125 "commit onto the full disk fails"
like "$err" "No space left on device" "saying the disk is full"
like "$err" "container big" "naming the container"
H images --format json
is "$(json_get "$out" 'sorted(n for i in d for n in i.get("Names") or [])')" "['$BB']" \
  "nothing half made in images"
is "$(state)" "$before" "no blob, layer or temporary directory left"
is "$(avail)" "$free_before" "the space is free again"
H system check
is "$rc" 0 "system check finds nothing broken"

head -c 12000000 /dev/urandom >"$T/noise.raw"
python3 - "$T/noise.raw" "$T/rootfs.tar" <<'PY'
import sys, tarfile
with tarfile.open(sys.argv[2], "w") as t:
    t.add(sys.argv[1], arcname="big")
PY
chmod 0644 "$T/rootfs.tar"
chmod 0755 "$T"
H import "$T/rootfs.tar" localhost/t/imported
is "$rc" 125 "import of a 12 MB tarball onto the full disk fails"
like "$err" "No space left on device" "saying the disk is full"
is "$(state)" "$before" "and leaves nothing behind"

mount -o remount,size=64m "$mnt"
H commit big localhost/t/big
is "$rc" 0 "with room, the same commit works"
H run --rm --network none localhost/t/big sh -c 'stat -c %s /big'
is "$rc:$out" "0:8000000" "and its image runs"
H rm big
