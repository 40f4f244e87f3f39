#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# hutch export: a container's merged rootfs as one flat tar, for a stopped
# container under each rootfs driver and a running one: the container's
# writes and deletions in it, owners as the container sees them (never
# the user's subordinate ids), no whiteouts, nothing mounted on it; -o
# leaves no file behind on failure.
. "$(dirname "$0")/lib.sh"
require_fixtures
busybox_store

# list FILE: "owner mode name" per member
list() { tar -tvf "$1" --numeric-owner | awk '{print $2, $1, $6}' | LC_ALL=C sort -k3; }
image_names=$(busybox_layer "$T/layer.tar"; tar -tf "$T/layer.tar" | sed 's#^\./##; s#/$##' | grep -v '^$' | LC_ALL=C sort)

change='echo hi >/root/f && mkdir /data && echo u >/data/u && chown -R 1000:1000 /data &&
  chmod 4755 /data/u && rm /etc/group && ln /root/f /root/hard'
for d in overlay fuse-overlayfs copy; do
  H run --name "ex-$d" --rootfs-driver "$d" --network none "$BB" sh -c "$change"
  is "$rc" 0 "$d: a container that changed its files, then ended"
  H export -o "$T/$d.tar" "ex-$d"
  is "$rc:$err" "0:" "$d: export -o FILE"
  l=$(list "$T/$d.tar")
  like "$l" "0/0 -rw-r--r-- root/f" "$d: a file the container wrote, owned by its root"
  like "$l" "1000/1000 drwxr-xr-x data
1000/1000 -rwsr-xr-x data/u" "$d: owned by container uid 1000 (not a subordinate id), setuid kept"
  unlike "$l" "etc/group" "$d: a deleted file is not there"
  unlike "$l" "\.wh\." "$d: no whiteouts"
  like "$(tar -tvf "$T/$d.tar" root/hard)" "^h.* root/hard link to root/f" "$d: a hard link stays a link"
  names=$(tar -tf "$T/$d.tar" | sed 's#/$##' | LC_ALL=C sort)
  is "$(comm -23 <(echo "$image_names") <(echo "$names"))" "etc/group" \
    "$d: every file of the image is there but the deleted one"
  is "$(tar -xOf "$T/$d.tar" bin/busybox | sha256sum)" "$(tar -xOf "$T/layer.tar" ./bin/busybox | sha256sum)" \
    "$d: with the image's contents"
  unlike "$(tar -tf "$T/$d.tar" | head -1)" '^(\./|/)' "$d: names are relative, as docker export's"
done
is "$(list "$T/overlay.tar")" "$(list "$T/fuse-overlayfs.tar")" "overlay and fuse-overlayfs export the same tree"

# the round trip: what export wrote, imported, runs with the changes and owners
H import -q "$T/overlay.tar" localhost/exported:1
is "$rc" 0 "hutch import takes the exported tar"
H run --rm --network none localhost/exported:1 sh -c 'cat /root/f; stat -c "%u:%g %a" /data/u; test ! -e /etc/group && echo gone'
is "$rc:$out" "$(printf '0:hi\n1000:1000 4755\ngone')" "and runs with the container's files, owners and modes"

# to stdout, the same bytes' members
"$HUTCH" --root "$R" export ex-overlay >"$T/stdout.tar"
is "$?:$(list "$T/stdout.tar")" "0:$(list "$T/overlay.tar")" "to stdout: the same tar"

# a running container: its own writes, not what is mounted on it
H run -d --name live --network none -v "$T:/vol" "$BB" sh -c 'echo live >/tmp/live && sleep 1000'
is "$rc" 0 "run a container with a volume"
for i in $(seq 100); do H exec live cat /tmp/live; [ "$out" = live ] && break; tick; done
H export -o "$T/live.tar" live
is "$rc:$err" "0:" "export a running container"
l=$(tar -tf "$T/live.tar")
like "$l" "tmp/live" "its write is there"
like "$(tar -xOf "$T/live.tar" tmp/live)" "^live$" "with its contents"
unlike "$l" "^proc/." "not what /proc holds"
unlike "$l" "^vol/." "nor a volume's files"
is "$(tar -tf "$T/live.tar" | grep -c '^dev/.')" 0 "nor /dev's"

# bad input
H export -o "$T/none.tar" nosuch
is "$rc" 125 "a container that does not exist is exit 125"
like "$err" "nosuch" "naming it"
ok "$([ ! -e "$T/none.tar" ]; echo $?)" "and no file is made"
mkdir "$T/ro" && chmod 0500 "$T/ro"
H export -o "$T/ro/x.tar" ex-overlay
is "$rc" 125 "a place that cannot be written is exit 125"
is "$(ls -A "$T/ro")" "" "and leaves nothing there"
out=$(script -qec "$HUTCH --root $R export ex-overlay" /dev/null </dev/null 2>&1) && rc=0 || rc=$?
is "$rc" 125 "stdout on a terminal is refused"
like "$out" "refusing to write a tar to a terminal" "saying so, and what to do"
is "$(printf '%s' "$out" | wc -c)" "$(printf '%s' "$out" | tr -cd '[:print:]\r\n' | wc -c)" "and no tar bytes reach the terminal"
H export
is "$rc" 125 "no container: a usage error"
H export ex-overlay ex-copy
is "$rc" 125 "two containers: a usage error"
