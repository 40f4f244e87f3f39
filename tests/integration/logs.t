#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The log of a container kept within its cap: --log-opt max-size and
# max-file (and the default cap without them), the files on disk never
# more than max-size x max-file (plus a line), rotation that `logs`,
# --tail and `logs -f` read across, in order, without a line lost or
# repeated while a container writes numbered lines past a hundred
# rotations, the options kept across a restart, --log-driver none, bad
# options refused, and a log that cannot be written (RLIMIT_FSIZE: EFBIG,
# as a full disk gives ENOSPC) recorded and warned of while the container
# goes on.
. "$(dirname "$0")/lib.sh"
require_fixtures

busybox_store
logconf() { # NAME: its LogConfig in inspect, as "TYPE max-size max-file"
  H inspect "$1"
  json_get "$out" '" ".join([d[0]["HostConfig"]["LogConfig"]["Type"]] + [d[0]["HostConfig"]["LogConfig"]["Config"].get(k, "-") for k in ("max-size", "max-file")])'
}
files() { # ID: the files of its log, "name:size" each: ctr.log, ctr.log.1, ...
  find "$R/containers/$1" -maxdepth 1 -name 'ctr.log*' -printf '%f:%s\n' | sort -t: -k1,1V
}
# numbered: the lines of stdin, checked to be N, N+1, ... M: prints "N M",
# or what is wrong
numbered() {
  awk 'NR == 1 { first = $0; prev = $0 - 1 }
       $0 != prev + 1 { print "line " NR " is \"" $0 "\" after " prev; bad = 1; exit }
       { prev = $0 }
       END { if (!bad) print first " " prev }'
}

# ---- bad options are refused, naming the flag; nothing is made
H create --log-opt max-size=10x "$BB" true
is "$rc" 125 "--log-opt max-size=10x: refused (125)"
like "$err" "--log-opt max-size=10x: give a size" "naming the option and what it takes"
H create --log-opt max-file=0 "$BB" true
like "$rc:$err" "^125:.*--log-opt max-file=0: give the number of files to keep, 1 to 1000" "max-file=0 refused"
H create --log-opt compress=true "$BB" true
like "$rc:$err" "^125:.*--log-opt compress=true: hutch's k8s-file log takes max-size=SIZE and max-file=N" "an option hutch lacks refused"
H create --log-opt max-size "$BB" true
like "$rc:$err" "^125:.*--log-opt max-size: hutch's k8s-file log takes" "max-size without a value refused"
H create --log-driver journald "$BB" true
like "$rc:$err" "^125:.*--log-driver journald: hutch writes k8s-file .* or none" "a driver hutch lacks refused"
H create --log-driver none --log-opt max-size=1m "$BB" true
like "$rc:$err" "^125:.*--log-opt max-size=1m: --log-driver none keeps no log" "none takes no option"
H ps -aq
is "$out" "" "none of them made a container"

# ---- the default cap, and docker's spellings
H create --name dflt "$BB" true
is "$(logconf dflt)" "k8s-file 20m 5" "without options: the default cap, 5 files of 20m"
H create --name spelled --log-driver json-file --log-opt max-size=1.5MiB --log-opt max-file=7 "$BB" true
is "$(logconf spelled)" "k8s-file 1500k 7" "json-file taken as k8s-file; 1.5MiB as docker and podman read it; --log-opt repeated"
H create --name uncapped --log-opt max-size=-1 "$BB" true
is "$(logconf uncapped)" "k8s-file -1 5" "max-size=-1: no cap, as podman spells it"

# ---- the cap: max-size x max-file on disk, whatever is written
H run -d --name capped --log-opt max-size=16k,max-file=3 "$BB" seq 1 20000
CAPPED=$out
H wait capped
is "$out" 0 "a container writing 20000 lines (860 kB of log) past 16k x 3"
is "$(files "$CAPPED" | cut -d: -f1 | tr '\n' ' ')" "ctr.log ctr.log.1 ctr.log.2 " "ctr.log and two rotated files: no more"
big=$(files "$CAPPED" | awk -F: '$2 > 16000' | tr '\n' ' ')
is "$big" "" "none of them over max-size (16k, 16000 bytes): rotated at a line's end"
total=$(files "$CAPPED" | awk -F: '{ s += $2 } END { print s }')
[ "$total" -le $((3 * 16000)) ] && [ "$total" -gt $((2 * 16000)) ]
ok $? "all of it within 3 x 16k ($total bytes), and close to it"
H logs capped
is "$(printf '%s\n' "$out" | numbered | cut -d' ' -f2)" 20000 "logs: the rotated files oldest first, then ctr.log: in order to the last line"
kept=$(printf '%s\n' "$out" | wc -l)
n=$((kept - 10)) # more than ctr.log and ctr.log.1 hold
H logs --tail $n capped
is "$(printf '%s\n' "$out" | numbered)" "$((20001 - n)) 20000" "--tail $n: the last $n lines, from all three files"
H logs --tail 100000 capped
is "$(printf '%s\n' "$out" | wc -l)" "$kept" "--tail more than there is: every line kept"
H logs -t --since 1h --tail 2 capped
like "$out" "^[0-9-]+T[0-9:.]+Z 19999
[0-9-]+T[0-9:.]+Z 20000$" "--since and -t with it"

# ---- logs -f follows across rotations: nothing lost, nothing twice
mkdir "$T/go"
H run -d --name fast -v "$T/go:/go" --log-opt max-size=16k,max-file=1000 "$BB" \
  sh -c 'echo ready; i=0; while [ ! -e /go/now ] && [ $i -lt 400 ]; do sleep 0.05; i=$((i+1)); done; seq 1 50000'
FAST=$out
timeout 120 "$HUTCH" --root "$R" logs -f fast >"$T/follow.out" 2>"$T/follow.err" &
fpid=$!
for i in $(seq 400); do grep -q ready "$T/follow.out" && break; tick; done
touch "$T/go/now" # the container writes from now on, while logs -f runs
wait $fpid
is "$?" 0 "logs -f ended with the container"
is "$(head -1 "$T/follow.out")" ready "logs -f: the line written before it started"
is "$(tail -n +2 "$T/follow.out" | numbered)" "1 50000" "then 50000 lines, each once, in order, across the rotations it followed"
n=$(files "$FAST" | wc -l)
[ "$n" -gt 100 ]
ok $? "over a hundred rotations happened meanwhile ($n files)"
# the same with only 2 files kept: a reader that falls behind may miss a
# dropped file, never repeats or reorders a line, and ends at the last
rm "$T/go/now"
H run -d --name short -v "$T/go:/go" --log-opt max-size=16k,max-file=2 "$BB" \
  sh -c 'echo ready; i=0; while [ ! -e /go/now ] && [ $i -lt 400 ]; do sleep 0.05; i=$((i+1)); done; seq 1 20000'
timeout 120 "$HUTCH" --root "$R" logs -f short >"$T/follow2.out" 2>"$T/follow2.err" &
fpid=$!
for i in $(seq 400); do grep -q ready "$T/follow2.out" && break; tick; done
touch "$T/go/now"
wait $fpid
tail -n +2 "$T/follow2.out" | awk 'NR > 1 && $0 <= prev { print "line " NR " is " $0 " after " prev; exit 1 } { prev = $0 } END { if (prev != 20000) { print "ends at " prev; exit 1 } }'
ok $? "max-file=2: in order, never twice, to the last line ($(($(wc -l <"$T/follow2.out") - 1)) of 20000 seen)"

# ---- the options are recorded: a restart keeps the cap
H create --name again --log-opt max-size=8k --log-opt max-file=2 "$BB" seq 1 3000
AGAIN=$out
H start again
H wait again
H start again
H wait again
is "$(logconf again)" "k8s-file 8k 2" "recorded, as inspect shows"
is "$(files "$AGAIN" | cut -d: -f1 | tr '\n' ' ')" "ctr.log ctr.log.1 " "after two runs: ctr.log and one rotated file"
is "$(files "$AGAIN" | awk -F: '$2 > 8000')" "" "each within 8k (8000 bytes)"
H logs --tail 1 again
is "$out" 3000 "the last line of the second run"

# ---- --log-driver none: no file, the output still on the terminal
H run --name nolog --log-driver none "$BB" sh -c 'echo out1; echo err1 >&2'
is "$rc:$out:$err" "0:out1:err1" "--log-driver none, in the foreground: the output still comes to us"
H inspect nolog
NOLOG=$(json_get "$out" 'd[0]["Id"]')
is "$(files "$NOLOG")" "" "and no log file at all"
H logs nolog
like "$rc:$err" "^125:.*container nolog keeps no log: it was made with --log-driver none" "logs says why there is none"
is "$(logconf nolog)" "none - -" "inspect: Type none"
H run -d --name nolog-d --log-driver none "$BB" sh -c 'seq 1 1000; exit 3'
NOLOG=$out
H wait nolog-d
is "$out:$(files "$NOLOG")" "3:" "detached with none: runs to its end, nothing written"

# ---- a log that cannot be written: the container goes on, the failure is kept
# RLIMIT_FSIZE of 16 KiB for the monitor: its writes past it fail with
# EFBIG (and raise SIGXFSZ, which must not end it), as ENOSPC would
H run -d --name setup "$BB" true # the image unpacked before the limit
out=$(ulimit -f 16 && "$HUTCH" --root "$R" run -d --name full "$BB" sh -c 'seq 1 5000; echo done') && rc=0 || rc=$?
FULL=$out
H wait full
is "$out" 0 "under RLIMIT_FSIZE: the container ran to its end (exit 0), its monitor alive"
H inspect full
logerr=$(json_get "$out" 'd[0]["State"]["LogError"]')
like "$logerr" "writing the log .*/ctr.log: File too large \(at [0-9-]+T[0-9:.]+Z\): what the container printed then is missing" "State.LogError says what failed, why and when"
size=$(stat -c %s "$R/containers/$FULL/ctr.log")
[ "$size" -le 16384 ] && [ "$(tail -c 1 "$R/containers/$FULL/ctr.log" | od -An -c | tr -d ' ')" = '\n' ]
ok $? "the log stops at the limit ($size bytes) with a whole line: no part of one"
H logs full
is "$(printf '%s\n' "$out" | numbered | cut -d' ' -f1)" 1 "logs: what was written, from the first line, in order"
like "$err" "warning: the log of container full is incomplete: writing the log .*File too large" "and a warning that it is incomplete"
out=$(ulimit -f 16 && "$HUTCH" --root "$R" run --name fgfull "$BB" seq 1 5000 2>"$T/fg.err") && rc=0 || rc=$?
is "$rc:$(printf '%s\n' "$out" | numbered)" "0:1 5000" "in the foreground: every line still reaches us"
is "$(grep -c 'warning: container fgfull: writing the log .*File too large' "$T/fg.err")" 1 "with one warning, once"

H rm -f $("$HUTCH" --root "$R" ps -aq)
H ps -aq
is "$rc:$out" "0:" "rm: no container left"
