#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Detached containers and their lifecycle, as a user of docker would drive
# them: a real busybox httpd with -d -p fetched by curl and seen in the
# logs, ps/port/inspect, exec (pid 1, the filesystem, -e/-w/-u, exit codes,
# -it under a real terminal, -d reaped by the container's init), stop with
# a process that ignores SIGTERM, restart keeping the upper layer,
# create/start, wait, names under a race, id prefixes, the monitor killed
# with SIGKILL, a lost runroot, 20 containers at once, and nothing left.
. "$(dirname "$0")/lib.sh"
require_fixtures

R=$T/store
BB=localhost/hutch-test/busybox:latest
NET=$(dirname "$0")/nethelp.py
H() { hutch --root "$R" "$@"; }
"$HUTCH" --root "$R" load -q -i "$FIX/busybox.docker.tar" 2>/dev/null
at_exit '"$HUTCH" --root "$R" rm -f $("$HUTCH" --root "$R" ps -aq) >/dev/null 2>&1'
at_exit '"$HUTCH" --root "$R" unshare rm -rf "$R" 2>/dev/null'
field() { json_get "$1" "d[0]$2"; } # field INSPECT-JSON '["State"]["Pid"]'
# live processes (not zombies) of ours whose command line names the store
live_procs() {
  local n=0 p
  for p in $(pgrep -u "$(id -u)" -f -- "$R"); do
    [ "$(awk '{print $3}' "/proc/$p/stat" 2>/dev/null)" = Z ] || [ ! -e "/proc/$p" ] || n=$((n + 1))
  done
  echo "$n"
}
gone() { # PID: until it has ended (10 s at most)
  local i
  for i in $(seq 200); do
    { [ ! -e "/proc/$1" ] || [ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" = Z ]; } && return 0
    tick
  done
  return 1
}


# ---- a real service: httpd detached, with a published port
PORT=$(python3 "$NET" free-port)
H info --format json
runroot=$(json_get "$out" 'd["host"]["store"]["runroot"]')
H run -d --name web -p "$PORT:80" "$BB" \
  sh -c 'mkdir -p /www && echo hello-from-httpd >/www/index.html && exec httpd -f -vv -p 80 -h /www'
is "$rc" 0 "run -d returns at once"
like "$out" "^[0-9a-f]{64}$" "and prints the 64-hex id"
ID=$out
body=
for i in $(seq 200); do
  body=$(curl -s --max-time 2 "http://127.0.0.1:$PORT/") && [ -n "$body" ] && break
  tick
done
is "$body" "hello-from-httpd" "curl on the host fetches the page through -p"
H ps
like "$out" "^CONTAINER ID +IMAGE +COMMAND +CREATED +STATUS +PORTS +NAMES" "ps has docker's columns"
like "$out" "^${ID:0:12} +$BB +\"sh -c mkdir -p /www…\" +.* +Up .* +0\.0\.0\.0:$PORT->80/tcp +web$" \
  "ps shows it Up, with 0.0.0.0:$PORT->80/tcp and its name"
H port web
is "$out" "80/tcp -> 0.0.0.0:$PORT" "port lists the binding"
H inspect web
is "$(field "$out" '["State"]["Running"]')" True "inspect: Running"
is "$(field "$out" '["NetworkSettings"]["Ports"]["80/tcp"][0]["HostPort"]')" "$PORT" "inspect: NetworkSettings.Ports"
pid1=$(field "$out" '["State"]["Pid"]')
[ "$pid1" -gt 1 ] && [ -e "/proc/$pid1" ]
ok $? "inspect: State.Pid is the container's pid 1 as the host sees it"
H logs web
like "$out$err" "127.0.0.1|10.0.2.2|GET /" "logs show httpd's record of the request"
H logs -t --tail 1 web
like "$out$err" "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z " "logs -t prefix the time"
is "$(printf '%s\n' "$out$err" | grep -c .)" 1 "--tail 1: one line"
H inspect "${ID:0:5}"
is "$rc" 0 "an id prefix names the container"

# ---- exec
H exec web sh -c 'cat /www/index.html; cat /proc/1/status | grep -c "^Pid:.1$"; echo $$'
is "$(printf '%s\n' "$out" | sed -n 1p)" "hello-from-httpd" "exec sees the container's filesystem"
is "$(printf '%s\n' "$out" | sed -n 2p)" 1 "exec sees the container's pid 1 in its pid namespace"
[ "$(printf '%s\n' "$out" | sed -n 3p)" -lt 100 ]
ok $? "exec's process has a pid of the container's namespace"
H exec web sh -c 'exit 7'
is "$rc" 7 "exec returns the command's exit code"
H exec web no-such-command
is "$rc" 127 "exec of a missing command: 127"
like "$err" "no-such-command: No such file or directory inside the container" "and says why"
H exec -e FOO=bar -w /www -u 1000:1000 web sh -c 'echo "$FOO $(pwd) $(id -u):$(id -g)"'
is "$out" "bar /www 1000:1000" "exec -e, -w and -u"
H exec web sh -c 'grep -E "^(CapEff|NoNewPrivs|Seccomp):" /proc/self/status'
like "$out" "NoNewPrivs:.1" "exec: no_new_privs as the container"
like "$out" "Seccomp:.2" "exec: the seccomp filter as the container"
like "$out" "CapEff:.00000000a80425fb" "exec: docker's default capabilities, as the container"
out=$(script -qec "'$HUTCH' --root '$R' exec -it web sh -c 'tty; exit 3'" /dev/null </dev/null) && rc=0 || rc=$?
like "$out" "/dev/pts/[0-9]" "exec -it under a real terminal: the command has a terminal"
is "$rc" 3 "exec -it: the exit code"
out=$(printf 'line1\nline2\n' | "$HUTCH" --root "$R" exec -i web sh -c 'cat; echo to-err >&2' 2>"$T/exec.err") && rc=0 || rc=$?
is "$out:$(cat "$T/exec.err"):$rc" "line1
line2:to-err:0" "exec -i: our stdin through to the command and its end, stdout and stderr apart"
out=$(seq 1 200000 | "$HUTCH" --root "$R" exec -i web wc -l)
is "$out" 200000 "exec -i: 200000 lines through the pipes, none lost"
H exec web sh -c 'seq 1 100000'
is "$(printf '%s\n' "$out" | tail -n 1):$(printf '%s\n' "$out" | wc -l)" "100000:100000" "exec: all of a long output"
H exec -d web sleep 1000
is "$rc" 0 "exec -d returns"
H exec web sh -c 'for p in $(pidof sleep); do grep PPid /proc/$p/status; done'
like "$out" "PPid:.1$" "exec -d's command is a child of the container's init"
H rm web
is "$rc" 125 "rm of a running container fails"
like "$err" "is running: stop it first \(hutch stop web\), or remove it with rm -f" "and says how"
H stop web
is "$rc" 0 "stop"
H inspect web
is "$(field "$out" '["State"]["Status"]')" exited "stopped: exited"
is "$(field "$out" '["State"]["ExitCode"]')" 143 "httpd ended by SIGTERM: 143 recorded"
[ ! -e "/proc/$pid1" ] || [ "$(awk '{print $3}' "/proc/$pid1/stat")" = Z ]
ok $? "the container's pid 1 is gone"
H ps -a --filter name=web
like "$out" "Exited \(143\) .* ago" "ps -a: Exited (143)"
H ps
unlike "$out" "web" "ps without -a: not listed"
H rm web
is "$rc" 0 "rm"
H ps -aq
is "$out" "" "no container left"
[ -z "$(ls "$runroot/containers")" ]
ok $? "nothing of it left in the runroot"
[ -z "$(ls "$R/containers")" ]
ok $? "no container directory left"

# ---- stats: the traffic of the container's network namespace (no cgroup needed)
H run -d --name talker "$BB" sh -c 'nc -w 2 10.0.2.2 9 </dev/null 2>/dev/null; echo tried; exec sleep 1000'
for i in $(seq 200); do # until nc is done
  H logs talker
  [ "$out" = tried ] && break
  tick
done
H stats --no-stream --format json talker
[ "$(field "$out" '["NetOutput"]')" -gt 0 ] && [ "$(field "$out" '["NetInput"]')" -gt 0 ]
ok $? "stats: NET I/O counts what went out of its namespace and what came back (libslirp's answer)"
H stats --no-stream talker
like "$out" "^CONTAINER ID +NAME +CPU % +MEM USAGE / LIMIT +MEM % +NET I/O +BLOCK I/O +PIDS" "stats: docker's columns, NET I/O among them"
like "$out" "talker +.* [0-9.]+ ([kMG]B|bytes) / [0-9.]+ ([kMG]B|bytes) " "and the talker's traffic in its row"
H rm -f talker
H run -d --name quiet --network none "$BB" sleep 1000
H stats --no-stream --format json quiet
is "$(field "$out" '["NetInput"]'):$(field "$out" '["NetOutput"]')" "0:0" "--network none: nothing, its loopback not counted"
H rm -f quiet

# ---- logs -f follows until the end; stdout and stderr apart
H run -d --name talk "$BB" sh -c 'for i in 1 2 3; do echo out$i; echo err$i >&2; sleep 0.2; done'
H logs -f talk
is "$out" "$(printf 'out1\nout2\nout3')" "logs -f: every line of stdout, ending with the container"
is "$err" "$(printf 'err1\nerr2\nerr3')" "and stderr on stderr"
H wait talk
is "$out" 0 "wait: the exit code"
H logs --since 1h talk
is "$out" "$(printf 'out1\nout2\nout3')" "--since 1h"
H logs --since 2099-01-01T00:00:00Z talk
is "$out" "" "--since the future: nothing"
H rm talk

# ---- logs of a container run in the foreground, and of -d -t
H run --name fg "$BB" sh -c 'echo out1; echo err1 >&2; seq 1 20000 | tail -1'
is "$rc:$out:$err" "0:$(printf 'out1\n20000'):err1" "run in the foreground: the output on our stdout and stderr"
H logs fg
is "$out:$err" "$(printf 'out1\n20000'):err1" "and logs shows it afterwards, stdout and stderr apart (as docker)"
H rm fg
H run --name big "$BB" seq 1 100000
is "$(printf '%s\n' "$out" | wc -l):$(printf '%s\n' "$out" | tail -1)" "100000:100000" "100000 lines in the foreground, none lost"
H logs --tail 1 big
is "$out" 100000 "and in the log"
H rm big
# a reader that goes away: the command's next write fails, as without hutch
timeout 60 "$HUTCH" --root "$R" run --rm "$BB" yes | head -2 >"$T/yes.out"
st=("${PIPESTATUS[@]}")
is "${st[0]}:$(cat "$T/yes.out")" "141:$(printf 'y\ny')" "run ... yes | head -2: yes dies of SIGPIPE (141), nothing hangs"
H run -d -t --name dt "$BB" sh -c 'echo one; sleep 0.2; echo two; sleep 0.2; seq 1 5000 | tail -1'
H wait dt
H logs dt
is "$out" "$(printf 'one\ntwo\n5000')" "-d -t: the terminal's output in the log, all of it"
H rm dt
out=$(script -qec "'$HUTCH' --root '$R' run -t --name fgt '$BB' sh -c 'tty; echo there'" /dev/null </dev/null) && rc=0 || rc=$?
H logs fgt
like "$out" "^/dev/pts/[0-9]+
there$" "run -t in the foreground: the terminal's output in the log too"
H rm fgt

# ---- stop: a process that ignores SIGTERM is killed after the timeout
H run -d --name stubborn "$BB" sh -c 'trap "" TERM; echo ready; while :; do sleep 1; done'
t0=$(date +%s%N)
H stop -t 1 stubborn
t1=$(date +%s%N)
is "$rc" 0 "stop -t 1"
ms=$(((t1 - t0) / 1000000))
[ "$ms" -ge 1000 ] && [ "$ms" -lt 8000 ]
ok $? "it waited the grace time, then killed ($ms ms)"
H inspect stubborn
is "$(field "$out" '["State"]["ExitCode"]')" 137 "killed: 137"
H rm stubborn

# ---- restart keeps the upper layer; create and start
H run -d --name keep "$BB" sh -c 'echo run >>/data.txt; exec sleep 1000'
H restart -t 0 keep
is "$rc" 0 "restart"
H exec keep cat /data.txt
is "$out" "$(printf 'run\nrun')" "the file written in the first run is there in the second"
H rm -f keep
is "$rc" 0 "rm -f of a running container"
H create --name made "$BB" sh -c 'echo made-ran; exit 4'
is "$rc" 0 "create"
H ps -a --filter status=created
like "$out" "Created +made$" "ps: Created"
H start -a made
is "$out" "made-ran" "start -a: in the foreground"
is "$rc" 4 "with its exit code"
H start made
H wait made
is "$out" 4 "start, then wait: 4"
H ps -a --filter status=exited --format json
is "$(json_get "$out" 'd[0]["Names"][0]')" made "ps --format json"
H run -d "$BB" sh -c 'exit 5'
AUTO=$out
H wait "$AUTO"
is "$out" 5 "run -d with a generated name, wait: 5"
H inspect "$AUTO"
like "$(field "$out" '["Name"]')" "^/[a-z]+_[a-z]+$" "the generated name is docker's adjective_surname"
H container prune
like "$out" "Removed 2 exited containers" "container prune"
H run -d --rm "$BB" true
RMID=$out
H wait "$RMID"
H ps -aq
is "$out" "" "run -d --rm: gone once ended"
# wait on a --rm container gets its exit code, though the record goes with it
mkdir "$T/rmw" && mkfifo "$T/rmw/go"
H run -d --rm --name rmw -v "$T/rmw:/s" "$BB" sh -c 'read x </s/go; exit 3'
"$HUTCH" --root "$R" wait rmw >"$T/rmw/out" 2>&1 &
wpid=$!
for i in $(seq 200); do # until wait holds the live file
  ls -l "/proc/$wpid/fd" 2>/dev/null | grep -q '/live$' && break
  tick
done
echo go >"$T/rmw/go"
wait "$wpid" && rc=0 || rc=$?
is "$rc:$(cat "$T/rmw/out")" "0:3" "wait on a run -d --rm container: its exit code, 3"
H ps -aq
is "$out" "" "and it is gone"
H run -d "$BB" no-such-command
is "$rc" 127 "run -d of a missing command: 127, at once"
like "$err" "no-such-command: No such file" "with the reason"
H rm $(H ps -aq; echo "$out")

# ---- names are unique under a race; prefixes
for i in 1 2 3 4 5; do "$HUTCH" --root "$R" create --name same "$BB" true >"$T/c$i" 2>&1 & done
wait
is "$(grep -l '^[0-9a-f]\{64\}$' "$T"/c? | wc -l)" 1 "five creates of one name at once: one gets it"
is "$(grep -l 'the name "same" is in use' "$T"/c? | wc -l)" 4 "the others are told it is in use"
H rm same
H create --name pin "$BB" true
H rmi "$BB"
is "$rc" 125 "rmi of the image a container was made from fails"
like "$err" "is used by container pin \(created\): remove the container first \(hutch rm pin\)" \
  "and names the container"
H rm pin
H inspect nope
is "$rc" 125 "inspect of an unknown container fails"
like "$err" 'no container is named or has the id "nope"' "and says so"

# ---- the monitor killed: the container dies with it, ps tells the truth
H run -d --name orphan "$BB" sleep 1000
H inspect orphan
mon=$(field "$out" '["State"]["MonitorPid"]')
pid1=$(field "$out" '["State"]["Pid"]')
kill -KILL "$mon"
gone "$pid1"
ok $? "SIGKILL to the monitor: the container's pid 1 dies too"
H ps -a --filter name=orphan
like "$out" "Exited \(137\)" "ps: Exited (137), not Up"
H inspect orphan
like "$(field "$out" '["State"]["Error"]')" "monitor ended without recording" "inspect says why"
H rm -f orphan
is "$rc" 0 "rm -f cleans it up"
[ ! -e "$R/names/orphan" ] && [ -z "$(ls "$R/containers")" ]
ok $? "its name and directory are gone"

# ---- the runroot lost (a reboot): never "running" by mistake
H run -d --name boot "$BB" sleep 1000
mkdir -m 0700 "$T/other-runroot"
hutch --root "$R" --runroot "$T/other-runroot" ps -a --filter name=boot
like "$out" "Exited \(137\)" "with another, empty runroot: shown as exited"
H rm -f boot

# ---- 20 containers at once
for i in $(seq 20); do "$HUTCH" --root "$R" run -d --name "many$i" "$BB" sleep 1000 >/dev/null 2>"$T/m$i" & done
wait
H ps -q
is "$(printf '%s\n' "$out" | grep -c .)" 20 "20 started in parallel with -d are all listed"
is "$(cat "$T"/m* | grep -c .)" 0 "with no error"
H stop -t 2 $(H ps -q; echo "$out")
is "$rc" 0 "all stopped"
H rm $(H ps -aq; echo "$out")
is "$rc" 0 "all removed"
H ps -aq
is "$out" "" "none left in ps"
[ -z "$(ls "$R/containers")" ] && [ -z "$(ls "$R/names")" ]
ok $? "no container directory or name left"
[ -n "$runroot" ] && [ -z "$(ls "$runroot/containers" 2>/dev/null)" ]
ok $? "nothing left in the runroot" || ls -lR "$runroot/containers" 2>&1 | head -20 | sed 's/^/# /' 
is "$(live_procs)" 0 "no process of ours left"
is "$(test_mounts)" 0 "no mount left on the host's side"
