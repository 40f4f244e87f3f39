#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# --restart as docker means it, kept by the restart keeper: on-failure:2
# restarts a failing command exactly twice, always restarts one that
# succeeds, ps shows Restarting between two runs, stop and kill by the
# user end it for good (nothing of the container left running), a
# foreground run hands on to the keeper; bad policies and --rm refused;
# and hutch generate systemd's unit, checked by systemd-analyze.
. "$(dirname "$0")/lib.sh"
require_fixtures
busybox_store

# live processes (not zombies) of ours whose command line names the store:
# monitors and restart keepers
live_procs() {
  local n=0 p
  for p in $(pgrep -u "$(id -u)" -f -- "$R"); do
    [ "$(awk '{print $3}' "/proc/$p/stat" 2>/dev/null)" = Z ] || [ ! -e "/proc/$p" ] || n=$((n + 1))
  done
  echo "$n"
}
# state NAME: "STATUS RESTARTING RESTARTCOUNT EXITCODE"
state() {
  H inspect "$1"
  json_get "$out" '"%s %s %s %s" % (d[0]["State"]["Status"], d[0]["State"]["Restarting"], d[0]["RestartCount"], d[0]["State"]["ExitCode"])'
}
# until NAME WANT: polls state NAME until it is WANT (20 s at most)
until_state() {
  local i s
  for i in $(seq 400); do
    s=$(state "$1")
    [ "$s" = "$2" ] && break
    tick
  done
  echo "$s"
}
# no_procs: until nothing of this store runs (10 s at most)
no_procs() {
  local i
  for i in $(seq 200); do
    [ "$(live_procs)" = 0 ] && return 0
    tick
  done
  return 1
}

# ---- bad policies, and --rm
for bad in bogus always:3 unless-stopped:1 no:2 on-failure:x on-failure:-1 on-failure: ""; do
  H run --network none --restart "$bad" "$BB" true
  is "$rc" 125 "--restart '$bad' is refused with 125"
  like "$err" "--restart" "  the message names the flag"
done
like "$err" "no, on-failure\[:N\], always or unless-stopped" "and names the valid policies"
H create --restart bogus "$BB" true
is "$rc" 125 "create --restart bogus is refused too"
H run --rm --network none --restart always "$BB" true
is "$rc" 125 "--restart always with --rm is refused (as docker)"
like "$err" "--restart always with --rm" "  saying which flags conflict"
H run --rm --network none --restart no "$BB" true
is "$rc" 0 "--restart no with --rm is fine"
H ps -aq
is "$out" "" "no container was made by the refused runs"

# ---- on-failure:2 with a command that fails: exactly two restarts
H run -d --name fail2 --network none --restart on-failure:2 "$BB" sh -c 'exit 1'
is "$rc" 0 "run -d --restart on-failure:2"
H inspect fail2
is "$(json_get "$out" 'd[0]["HostConfig"]["RestartPolicy"]')" \
  "{'Name': 'on-failure', 'MaximumRetryCount': 2}" "inspect shows HostConfig.RestartPolicy"
is "$(until_state fail2 'exited False 2 1')" "exited False 2 1" \
  "it is restarted twice (RestartCount 2), then stays exited with code 1"
ok "$(no_procs; echo $?)" "its keeper has gone: nothing restarts it any more"
is "$(state fail2)" "exited False 2 1" "still exited, RestartCount 2"
H logs fail2
H rm fail2

# on-failure does not restart a success
H run -d --name ok0 --network none --restart on-failure "$BB" true
is "$(until_state ok0 'exited False 0 0')" "exited False 0 0" "on-failure: exit 0 is not restarted"
ok "$(no_procs; echo $?)" "  and its keeper goes"
is "$(state ok0)" "exited False 0 0" "  RestartCount stays 0"
H rm ok0

# ---- always: a command that succeeds is restarted; ps shows Restarting
H run -d --name al --network none --restart always "$BB" sh -c 'exit 3'
seen=
for i in $(seq 400); do
  H ps
  case "$out" in *"Restarting (3) "*al*) seen=$out; break ;; esac
  tick
done
like "$seen" "Restarting \(3\) .* al" "ps (without -a) shows it Restarting (3) between two runs"
H stop al
is "$rc" 0 "stop of an always container between its runs"
s=$(state al)
like "$s" "^exited False " "it is exited, not restarting"
ok "$(no_procs; echo $?)" "nothing of it is left running"
is "$(state al)" "$s" "and it is not restarted afterwards"
H ps
unlike "$out" " al$" "ps no longer lists it"
H rm al

H run -d --name al0 --network none --restart always "$BB" true
n=
for i in $(seq 400); do
  n=$(state al0 | awk '{print $3}')
  [ "$n" -ge 2 ] && break
  tick
done
ok "$([ "$n" -ge 2 ]; echo $?)" "always restarts a command that exits 0 (RestartCount $n)"
H rm -f al0
is "$rc" 0 "rm -f of an always container"
ok "$(no_procs; echo $?)" "  ends its keeper too"

# stop of an always container while it runs
H run -d --name up --network none --restart always "$BB" sleep 1000
is "$(until_state up 'running False 0 0')" "running False 0 0" "an always container that runs"
H ps
like "$out" "Up .* up$" "ps shows it Up"
H stop -t 1 up
is "$rc" 0 "stop of it"
ok "$(no_procs; echo $?)" "stop leaves nothing of it running"
like "$(state up)" "^exited False 0 " "it is exited for good, RestartCount 0"
H start up
is "$rc" 0 "start by the user again"
is "$(until_state up 'running False 0 0')" "running False 0 0" "  it runs, the policy afresh"
H kill up
is "$rc" 0 "kill of it"
like "$(until_state up 'exited False 0 137')" "^exited False 0 137$" "kill by the user: not restarted"
ok "$(no_procs; echo $?)" "  and its keeper goes"
H rm up

# a monitor killed (and its container with it) is restarted too
H run -d --name mk --network none --restart always "$BB" sleep 1000
is "$(until_state mk 'running False 0 0')" "running False 0 0" "an always container that runs"
H inspect mk
mon=$(json_get "$out" 'd[0]["State"]["MonitorPid"]')
kill -KILL "$mon"
is "$(until_state mk 'running False 1 0')" "running False 1 0" \
  "its monitor killed with SIGKILL: the keeper starts it again (RestartCount 1)"
H rm -f mk
ok "$(no_procs; echo $?)" "  rm -f ends it and its keeper"

# ---- unless-stopped, likewise
H run -d --name us --network none --restart unless-stopped "$BB" sh -c 'exit 5'
n=
for i in $(seq 400); do
  n=$(state us | awk '{print $3}')
  [ "$n" -ge 1 ] && break
  tick
done
ok "$([ "$n" -ge 1 ]; echo $?)" "unless-stopped restarts a failing command"
H inspect us
is "$(json_get "$out" 'd[0]["HostConfig"]["RestartPolicy"]["Name"]')" unless-stopped \
  "inspect shows the unless-stopped policy"
H stop us
is "$rc" 0 "stop of an unless-stopped container"
ok "$(no_procs; echo $?)" "  nothing of it is left running"
s=$(state us)
like "$s" "^exited False " "  it is exited"
H ps -a
like "$out" "Exited \(5\) .* us" "ps -a shows it Exited (5)"
H rm us

# ---- in the foreground: run returns the code, the keeper restarts it
H run --name fg --network none --restart on-failure:1 "$BB" sh -c 'exit 4'
is "$rc" 4 "run --restart in the foreground returns the command's code"
is "$(until_state fg 'exited False 1 4')" "exited False 1 4" "  then it is restarted once in the background"
ok "$(no_procs; echo $?)" "  and its keeper goes"
H rm fg

# ---- generate systemd
H create --name svc --network none --restart always "$BB" sleep 1000
H generate systemd --name svc
is "$rc" 0 "generate systemd --name"
unit=$out
like "$unit" "^ExecStart=[^ ]*hutch --root $R --runroot [^ ]+ start -a svc" \
  "ExecStart is hutch start -a in the container's store"
like "$unit" "ExecStop=[^ ]*hutch --root .* stop -t 10 svc" "ExecStop is hutch stop -t 10"
like "$unit" "Type=exec" "Type=exec (start -a stays in the foreground)"
like "$unit" "Restart=always" "Restart= from the container's always policy"
like "$unit" "WantedBy=default.target" "WantedBy=default.target"
like "$unit" "Environment=HUTCH_RESTART_BY_SYSTEMD=1" "the container's own policy left to systemd"
H generate systemd --restart-policy on-abnormal -t 3 svc
like "$out" "Restart=on-abnormal" "--restart-policy sets Restart="
like "$out" "stop -t 3 [0-9a-f]{64}" "-t sets the stop's time, and without --name the id"
H generate systemd --restart-policy sometimes svc
is "$rc" 125 "a bad --restart-policy is refused"
like "$err" "on-failure" "  with the valid ones"
H generate systemd --new svc
is "$rc" 125 "--new is refused, saying so"
H generate systemd nosuch
is "$rc" 125 "generate systemd of no container"
if command -v systemd-analyze >/dev/null; then
  mkdir -m 0700 "$T/units"
  printf '%s\n' "$unit" >"$T/units/container-svc.service"
  v=$(cd "$T/units" && systemd-analyze --user verify --man=no "$T/units/container-svc.service" 2>&1)
  ok $? "systemd-analyze --user verify accepts the unit"
  is "$v" "" "  without a warning"
else
  skip "systemd-analyze is not installed"
fi
# the unit's command line, run as systemd would: the container in the foreground
cmd=$(printf '%s\n' "$unit" | sed -n 's/^ExecStart=//p')
stopcmd=$(printf '%s\n' "$unit" | sed -n 's/^ExecStop=//p')
HUTCH_RESTART_BY_SYSTEMD=1 $cmd >/dev/null 2>&1 &
fg=$!
is "$(until_state svc 'running False 0 0')" "running False 0 0" "the unit's ExecStart runs the container"
$stopcmd >/dev/null 2>&1
ok $? "the unit's ExecStop stops it"
wait "$fg"
is "$?" 143 "ExecStart ends with the container's code (SIGTERM)"
ok "$(no_procs; echo $?)" "  and nothing of it is left running"
H rm svc
# under the unit, systemd's Restart= restarts it, not the container's policy
H create --name svc2 --network none --restart always "$BB" sh -c 'exit 2'
H generate systemd --name svc2
cmd=$(printf '%s\n' "$out" | sed -n 's/^ExecStart=//p')
HUTCH_RESTART_BY_SYSTEMD=1 $cmd >/dev/null 2>&1
is "$?" 2 "the unit's ExecStart of a failing container ends with its code"
ok "$(no_procs; echo $?)" "  and no keeper of hutch's restarts it (systemd's Restart= does)"
is "$(state svc2)" "exited False 0 2" "  RestartCount 0"
H start -a svc2
is "$rc" 2 "the same start -a without the unit's environment"
n=
for i in $(seq 400); do
  n=$(state svc2 | awk '{print $3}')
  [ "$n" -ge 1 ] && break
  tick
done
ok "$([ "$n" -ge 1 ]; echo $?)" "  is restarted by its keeper (RestartCount $n)"
H rm -f svc2
ok "$(no_procs; echo $?)" "rm -f ends that keeper"

H ps -aq
is "$out" "" "nothing left"
