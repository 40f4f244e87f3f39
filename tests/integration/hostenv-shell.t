#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# hutch shell where the host is set up as root: `apply` onto a home
# directory whose disk is full (a tmpfs of 4 MB, which a test user cannot
# make) leaves every file it could not write whole, as it was, with no
# temporary file behind, applies the rest and says what it did not; and a
# user without subordinate ids still gets a shell (it needs no setuid
# helper: the user alone is mapped).
. "$(dirname "$0")/lib.sh"
require_root

user=hutch-test
mnt=$T/tiny
mkdir "$mnt"
mount -t tmpfs -o "size=4m,mode=0755,uid=$(id -u "$user"),gid=$(id -g "$user")" tmpfs "$mnt"
ok $? "a tmpfs of 4 MB for the home directory"
at_exit 'umount -l "$mnt"'
data=$T/data-$user
mkdir -p "$data" "$mnt/home/proj" && chown "$user:" "$data" "$mnt/home" "$mnt/home/proj"

# S USER ARG...: hutch as USER with the tiny home, from its proj directory
S() {
  local u=$1
  shift
  out=$(cd "$mnt/home/proj" && runuser -u "$u" -- env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
    HOME="$mnt/home" USER="$u" XDG_DATA_HOME="$data" "$HUTCH" "$@" 2>"$T/.stderr") && rc=0 || rc=$?
  err=$(cat "$T/.stderr")
}

head -c 1500000 /dev/urandom >"$mnt/home/proj/big.bin"
echo old >"$mnt/home/proj/small.txt"
chown -R "$user:" "$mnt/home"
before=$(sha256sum <"$mnt/home/proj/big.bin")

S "$user" shell --name full -- sh -c 'head -c 1500000 /dev/zero >big.bin; echo new >small.txt; echo added >new.txt'
is "$rc" 0 "a session rewrote a 1.5 MB file and changed two small ones"
# fill the disk: less left than the new big.bin needs, enough for the small ones
avail=$(df --output=avail -B1 "$mnt" | tail -1 | tr -d ' ')
runuser -u "$user" -- head -c $((avail - 200000)) /dev/zero >"$mnt/home/filler" 2>/dev/null
chown "$user:" "$mnt/home/filler"
S "$user" shell apply --force full
is "$rc" 125 "apply onto a full disk exits 125"
like "$err" "big.bin: .*No space left on device" "and names the file it could not write, and why"
like "$err" "1 change of session full not applied \(2 applied\)" "and counts what it did"
is "$(sha256sum <"$mnt/home/proj/big.bin")" "$before" "the file it could not write is whole, as it was"
is "$(cat "$mnt/home/proj/small.txt"):$(cat "$mnt/home/proj/new.txt")" "new:added" "the others applied"
is "$(find "$mnt/home" -name '.hutch-apply-*' | wc -l)" 0 "no temporary file left behind"
S "$user" shell diff full
is "$out" "C $mnt/home/proj/big.bin" "the change not applied stays in the session"
rm -f "$mnt/home/filler"
S "$user" shell apply --force full
is "$rc" 0 "with room again, apply finishes"
is "$(cmp -n 1500000 "$mnt/home/proj/big.bin" /dev/zero && stat -c %s "$mnt/home/proj/big.bin")" 1500000 \
  "and the file is the session's"
S "$user" shell rm full

nosub=hutch-nosub
if ! id "$nosub" >/dev/null 2>&1 || grep -q "^$nosub:" /etc/subuid /etc/subgid; then
  ok 1 "$nosub exists without subordinate ids (helpers/run-tests makes it)"
  exit 0
fi
chown "$nosub:" "$mnt/home" "$mnt/home/proj"
chown -R "$nosub:" "$data"
S "$nosub" shell --name ns -- sh -c 'id -u; echo x >mine'
is "$rc:$out" "0:$(id -u "$nosub")" "a user without subordinate ids gets a shell, as itself"
S "$nosub" shell diff ns
is "$out" "A $mnt/home/proj/mine" "and its writes are held for review"
S "$nosub" shell rm ns
is "$rc:$(ls "$data/hutch/shells")" "0:" "and removed"
