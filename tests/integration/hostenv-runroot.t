#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# A /tmp/hutch-run-UID made by another user before ours: refused, never used.
. "$(dirname "$0")/lib.sh"
require_root

victim=hutch-nosub
attacker=hutch-test
dir=/tmp/hutch-run-$(id -u "$victim")
rm -rf "$dir"
install -d -m 0700 -o "$attacker" "$dir"
at_exit 'rm -rf "$dir"'

hutch_as "$victim" -- check
is "$rc" 1 "check exits 1 when the fallback runroot belongs to someone else"
like "$out" "missing +runroot +$dir belongs to uid $(id -u "$attacker"), not to you" \
  "it names the directory and its owner"
like "$out" "Containers cannot run here" "the verdict says so"

rm -rf "$dir"
ln -s "/home/$attacker" "$dir"
hutch_as "$victim" -- check
is "$rc" 1 "a planted symlink at the runroot is refused"
like "$out" "is not a directory \(a symlink" "and explained"

# ---- The squatting sequence (issue 25): another user makes the fallback
# runroot first, with a "live" file that names pid -1 under a lock of
# theirs; the victim's stop, kill, rm -f, ps and run must refuse it, and
# none of the victim's processes may be signalled.
rm -rf "$dir"
vuid=$(id -u "$victim")
id=$(printf 'a%.0s' $(seq 64))
store="$T/data-$victim/hutch"
mkdir -p "$store/containers/$id" && chmod -R 0700 "$store"
cat >"$store/containers/$id/hutch.json" <<JSON
{"Id":"$id","Name":"web","Image":"localhost/busybox:latest","Command":["sleep","1000"],
 "Created":"2026-01-01T00:00:00Z","State":{"Status":"running","ExitCode":0}}
JSON
chown -R "$victim:" "$T/data-$victim"
# made by the attacker, an unprivileged user, before the victim's first use
runuser -u "$attacker" -- sh -c "mkdir -m 0777 '$dir' '$dir/containers' '$dir/containers/$id' &&
  chmod 0777 '$dir' '$dir/containers' '$dir/containers/$id' &&
  printf -- '-1 -1 1 1\n' >'$dir/containers/$id/live' && chmod 0644 '$dir/containers/$id/live'"
ok $? "the attacker plants $dir with a live file naming pid -1"
fifo=$T/held && mkfifo "$fifo" && chmod 0666 "$fifo"
# the attacker holds live locked, as a monitor would, until told to stop
runuser -u "$attacker" -- flock -x "$dir/containers/$id/live" sh -c "read x <'$fifo'" &
holder=$!
at_exit "echo >'$fifo'; wait $holder 2>/dev/null"
runuser -u "$victim" -- sleep 1000 &
bystander=$!
at_exit "kill $bystander 2>/dev/null"
for i in $(seq 100); do # until the lock is held
  runuser -u "$victim" -- flock -n -s "$dir/containers/$id/live" true || break
  tick
done
for cmd in "stop $id" "kill $id" "rm -f $id" "ps -a" "run --rm localhost/busybox true"; do
  # shellcheck disable=SC2086
  hutch_as "$victim" -- $cmd
  ok "$([ "$rc" != 0 ]; echo $?)" "squatted runroot: $cmd fails"
  like "$err" "$dir belongs to uid $(id -u "$attacker"), not to you" "and names the runroot and its owner"
done
kill -0 "$bystander"
ok $? "none of the victim's processes was signalled"
