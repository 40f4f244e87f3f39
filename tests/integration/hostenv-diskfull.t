#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# A store on a disk that fills up (a tmpfs of 8 MB, mounted as root: what a
# test user cannot make): a chatty detached container's log stops short of
# the disk's last MiB, so its monitor still records the end (exit 0, not the
# 137 of a monitor that could not), and why the log is incomplete; in the
# foreground the output still all comes through, with one warning.
. "$(dirname "$0")/lib.sh"
require_root
require_fixtures

user=hutch-test
BB=localhost/hutch-test/busybox:latest
mnt=$T/tiny
mkdir "$mnt"
mount -t tmpfs -o "size=8m,mode=0700,uid=$(id -u "$user"),gid=$(id -g "$user")" tmpfs "$mnt"
ok $? "a tmpfs of 8 MB for the store"
at_exit 'umount -l "$mnt"'
at_exit 'rm -rf "/tmp/hutch-run-$(id -u "$user")"'
H() { hutch_as "$user" -- --root "$mnt/store" "$@"; }
avail() { df --output=avail -B1 "$mnt" | tail -1 | tr -d ' '; }

H load -q -i "$FIX/busybox.docker.tar"
is "$rc" 0 "busybox loaded into it"
H run -d --name chatty --network none "$BB" sh -c 'seq 1 400000; echo done'
is "$rc" 0 "a container that writes 17 MB of log into $(($(avail) / 1024)) KiB"
H wait chatty
is "$rc:$out" 0:0 "it ran to its end, and its end was recorded: exit 0"
[ "$rc:$out" = 0:0 ] || printf "%s\n" "$err" | head -5 | sed "s/^/# wait said: /"
H inspect chatty
[ "$(json_get "$out" 'd[0]["State"]["ExitCode"]')" = 0 ] ||
  printf '%s\n' "$(json_get "$out" 'd[0]["State"]')" "$(ls -la "$mnt"/store/containers/*/ 2>&1)" | sed 's/^/# /'
like "$(json_get "$out" 'd[0]["State"]["LogError"]')" \
  "writing the log .*/ctr.log: its filesystem has .* left, and hutch leaves the last MiB of it for the container's record \(free some space there\) \(at " \
  "State.LogError says why the log stopped, and when"
left=$(avail)
[ "$left" -ge 1000000 ]
ok $? "the log left the last MiB free ($left bytes)"
H logs chatty
first=$(printf '%s\n' "$out" | head -1)
is "$first" 1 "logs: what was kept, from the first line"
like "$err" "warning: the log of container chatty is incomplete: writing the log" "and a warning that it stops short"
H run --rm --network none "$BB" seq 1 100000
is "$rc:$(printf '%s\n' "$out" | wc -l):$(printf '%s\n' "$out" | tail -1)" "0:100000:100000" \
  "in the foreground, with no room for its log: every line still comes through"
is "$(printf '%s\n' "$err" | grep -c 'warning: container .*: writing the log .*hutch leaves the last MiB')" 1 \
  "with one warning"
H rm chatty
is "$rc" 0 "rm"

# A container that fills the disk itself (its upper directory is on the
# store's): the room for the record of its end was taken before it ran, so
# the end is recorded, not read as a monitor killed (137).
H run -d --name filler --network none "$BB" sh -c 'cat /dev/zero >/fill 2>/dev/null; echo full; exit 0'
is "$rc" 0 "a detached container that fills its store's disk"
H wait filler
is "$rc:$out" "0:0" "its end is recorded all the same: exit 0"
H ps -a --filter name=filler
like "$out" "Exited \(0\)" "ps -a: Exited (0), not (137)"
# what is left (the unused part of its record's room) taken too
dd if=/dev/zero of="$mnt/pad" bs=4k >/dev/null 2>&1
left=$(avail)
[ "$left" -lt 16384 ]
ok $? "the disk is full ($left bytes left)"
H start filler
is "$rc" 125 "start of a container with no room left for the record of its end fails"
like "$err" "container filler: its store's disk is full: there is no room for the record of its end \([0-9.]+ KiB in .*\); free some space there \(hutch system prune" \
  "saying so, and what frees space"
H run --name nospace --network none "$BB" true
is "$rc" 125 "run with the disk full fails"
like "$err" "No space left on device: the store's disk is full \(.* left in $mnt/store\): free some space there \(hutch rm removes containers" \
  "saying how much is left, and what frees space"
H ps -a --format json
is "$(json_get "$out" 'sorted(c["Names"][0] for c in d)')" "['filler']" "and leaves nothing of it"
rm -f "$mnt/pad"
H rm filler
is "$rc" 0 "rm frees the disk"
H run --name fillfg --network none "$BB" sh -c 'cat /dev/zero >/fill 2>/dev/null; exit 3'
is "$rc" 3 "in the foreground, a container that fills the disk: its exit status, 3"
H inspect fillfg
is "$(json_get "$out" 'd[0]["State"]["ExitCode"]'):$(json_get "$out" 'd[0]["State"]["Status"]')" "3:exited" \
  "and recorded as such"
H rm fillfg
is "$rc" 0 "rm"

# ---- the store itself on a full disk: load and pull say what they needed,
# what the store still holds, and what frees it
mnt2=$T/tiny2
mkdir "$mnt2"
mount -t tmpfs -o "size=12m,mode=0700,uid=$(id -u "$user"),gid=$(id -g "$user")" tmpfs "$mnt2"
ok $? "a tmpfs of 12 MB for a second store"
at_exit 'umount -l "$mnt2"'
H2() { hutch_as "$user" -- --root "$mnt2/store" "$@"; }
H2 load -q -i "$FIX/busybox.docker.tar"
is "$rc" 0 "busybox loaded into it"
H2 load -i "$FIX/debian.docker.tar"
is "$rc" 125 "loading the Debian image (128 MB) fails"
like "$err" "writing .* to the store $mnt2/store \([0-9.]+ [kM]B of it written\): No space left on device" \
  "the message says what was being written, and how far it got"
like "$err" "The archive is 128.1 MB: its blobs need up to as much" "how much was needed"
like "$err" "the store $mnt2/store holds 1.[01] MB of blobs and 2.1 MB of unpacked layers, all of it in use: \"hutch rmi\" of an image you do not need frees its share; its file system has .* free of" \
  "what the store holds, what frees it, and what is free"
unlike "$err" "fd [0-9]" "and no fd number"
H2 system check
is "$rc" 0 "the failed load left nothing broken behind"

if command -v docker-registry >/dev/null && command -v skopeo >/dev/null; then
  port=$(python3 "$(dirname "$0")/nethelp.py" free-port)
  mkdir -p "$T/reg"
  printf 'version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: %s\nhttp:\n  addr: 127.0.0.1:%s\n' \
    "$T/reg/data" "$port" >"$T/reg/config.yml"
  docker-registry serve "$T/reg/config.yml" >>"$T/reg/log" 2>&1 &
  reg=$!
  at_exit "kill $reg 2>/dev/null"
  for i in $(seq 200); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; tick; done
  skopeo copy -q --dest-tls-verify=false "oci:$FIX/debian/oci" "docker://127.0.0.1:$port/hutch/debian:12" \
    >"$T/.skopeo" 2>&1
  is "$?" 0 "a registry on loopback with the Debian image"
  H2 pull -q --tls-verify=false "127.0.0.1:$port/hutch/debian:12"
  is "$rc" 125 "pulling it into the full store fails"
  like "$err" "this pull needs [0-9.]+ MB for the layers it downloads, and room to unpack them: .*No space left on device" \
    "saying how much the pull needed"
  like "$err" "of that is in downloads that did not finish, kept to resume them; .*\"hutch system prune\" frees" \
    "that the partial download still holds space, and what frees it"
  H2 system check
  like "$rc:$out" "^0:.*note: +blobs/sha256/.partial-.* of a pull that did not finish, kept to resume it" \
    "system check notes the partial download, and finds nothing broken"
  before=$(df --output=avail -B1 "$mnt2" | tail -1)
  H2 system prune
  after=$(df --output=avail -B1 "$mnt2" | tail -1)
  [ "$after" -gt $((before + 1000000)) ]
  ok $? "system prune frees it ($before -> $after bytes free)"
else
  skip "docker-registry or skopeo is not installed (helpers/run-tests installs them)"
fi
