#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Where live state goes: $XDG_RUNTIME_DIR/hutch when that is ours, else a
# private /tmp/hutch-run-UID that must really be ours.
. "$(dirname "$0")/lib.sh"

uid=$(id -u)
fallback=/tmp/hutch-run-$uid
existed=no
[ -e "$fallback" ] && existed=yes
at_exit '[ "$existed" = no ] && rm -rf "$fallback"'

runroot_of() { json_get "$1" 'd["host"]["store"]["runroot"]'; }

# No XDG_RUNTIME_DIR: CI, su, cron.
out=$(env -u XDG_RUNTIME_DIR "$HUTCH" info) && rc=0 || rc=$?
is "$rc" 0 "info without XDG_RUNTIME_DIR exits 0"
is "$(runroot_of "$out")" "$fallback" "runroot falls back to /tmp/hutch-run-UID"
like "$(json_get "$out" 'd["host"]["store"]["runrootFallback"]')" "not set" "and says why"
is "$(stat -c '%u %a %F' "$fallback")" "$uid 700 directory" "it is a 0700 directory of ours"

# XDG_RUNTIME_DIR that is ours.
out=$(XDG_RUNTIME_DIR=$T/xdg "$HUTCH" info)
is "$(runroot_of "$out")" "$T/xdg/hutch" "runroot is \$XDG_RUNTIME_DIR/hutch when that is ours"
is "$(json_get "$out" 'd["host"]["store"]["runrootFallback"]')" None "no fallback reason then"
ok "$([ -d "$T/xdg/hutch" ]; echo $?)" "and it was created"

# XDG_RUNTIME_DIR left over from another user (after su).
out=$(XDG_RUNTIME_DIR=/ "$HUTCH" info)
is "$(runroot_of "$out")" "$fallback" "someone else's XDG_RUNTIME_DIR is not used"
like "$(json_get "$out" 'd["host"]["store"]["runrootFallback"]')" "not yours" "and the reason says so"

# --runroot that is a symlink someone planted.
mkdir -m 0700 "$T/real"
ln -s "$T/real" "$T/link"
hutch --runroot "$T/link" check
is "$rc" 1 "check exits 1 when the runroot is a symlink"
like "$out" "missing +runroot +.*is not a directory \(a symlink" "and names the problem"
like "$out" "Containers cannot run here" "the verdict says so"

# --runroot writable by others.
mkdir "$T/open" && chmod 0777 "$T/open"
hutch --runroot "$T/open" check
is "$rc" 1 "check exits 1 when the runroot is world-writable"
like "$out" "writable by other users \(mode 0777\); run \"chmod go-w" "with the chmod that fixes it"

# Relative --root and --runroot are made absolute.
mkdir -m 0700 "$T/rel"
out=$(cd "$T" && "$HUTCH" --root rel/store --runroot rel/run info)
is "$(json_get "$out" 'd["host"]["store"]["root"]')" "$T/rel/store" "a relative --root is made absolute"
is "$(runroot_of "$out")" "$T/rel/run" "a relative --runroot is made absolute"

# A store that cannot be created.
hutch --root /proc/hutch-store check
is "$rc" 1 "check exits 1 when the store cannot be made"
like "$out" "missing +store +creating /proc/hutch-store" "and names the store path"

# ---- What is inside the store is checked as the store is (issue 25): a
# directory in it that is a symlink or that others can write is refused,
# for reading as for writing, and nothing is followed or written there.
mkdir -m 0700 "$T/sq" "$T/elsewhere"
hutch --root "$T/sq/store" load -i /dev/null # makes the store, loads nothing
is "$(stat -c %a "$T/sq/store/blobs/sha256")" 700 "the store's directories are made 0700"
chmod 0777 "$T/sq/store/blobs/sha256"
hutch --root "$T/sq/store" images
is "$rc" 125 "blobs/sha256 writable by others: images refuses"
like "$err" "blobs/sha256 is writable by other users \(mode 0777\); run \"chmod go-w" "naming the directory and the chmod"
hutch --root "$T/sq/store" load -i /dev/null
is "$rc" 125 "and so does load"
chmod 0700 "$T/sq/store/blobs/sha256"
rm -rf "$T/sq/store/locks"
ln -s "$T/elsewhere" "$T/sq/store/locks"
hutch --root "$T/sq/store" load -i /dev/null
is "$rc" 125 "locks/ a symlink: load refuses"
like "$err" "locks in the store is not a directory \(a symlink" "saying so"
is "$(ls -A "$T/elsewhere")" "" "and writes nothing where it leads"
ln -s "$T/sq/store" "$T/sq/link"
hutch --root "$T/sq/link" images
is "$rc" 125 "a store that is a symlink is refused for reading too"
like "$err" "is not a directory \(a symlink" "saying so"

# ---- A pid is acted on only if it is the process the monitor recorded
# (issue 25): a live file that names pid -1, or a pid of ours with another
# start time, under a lock as a monitor holds it, is never signalled.
if [ -s "$FIX/busybox.docker.tar" ]; then
  export XDG_RUNTIME_DIR=$T/xdg
  S=$T/pidstore
  "$HUTCH" --root "$S" load -q -i "$FIX/busybox.docker.tar" >/dev/null 2>&1
  id=$("$HUTCH" --root "$S" create --name forged localhost/hutch-test/busybox:latest sleep 1000)
  python3 - "$S/containers/$id/hutch.json" <<'PY'
import json, sys
p = sys.argv[1]; d = json.load(open(p)); d["State"]["Status"] = "running"
open(p, "w").write(json.dumps(d))
PY
  live=$XDG_RUNTIME_DIR/hutch/containers/$id/live
  mkdir -p "$(dirname "$live")"
  sleep 1000 &
  bystander=$!
  at_exit "kill $bystander 2>/dev/null"
  mkfifo "$T/held"
  for forged in "-1 -1 1 1" "0 0 1 1" "$bystander $bystander 1 1"; do
    printf '%s\n' "$forged" >"$live"
    flock -x "$live" sh -c "read x <'$T/held'" &
    holder=$!
    for i in $(seq 100); do flock -n -s "$live" true || break; tick; done
    hutch --root "$S" stop -t 0 forged
    hutch --root "$S" kill forged
    ok "$([ "$rc" != 0 ]; echo $?)" "live says \"$forged\": kill refuses"
    like "$err" "no valid pid|has ended" "and says why"
    kill -0 "$bystander"
    ok $? "our other processes are untouched"
    echo >"$T/held"
    wait "$holder"
  done
  rm -f "$live"
  hutch --root "$S" rm forged
  is "$rc" 0 "the forged container is removed"
else
  skip "the busybox fixture is missing (tests/fixtures/make-fixtures)"
fi
