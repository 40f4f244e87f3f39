#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# run/create flags as docker and podman users type them (issue 27): -t's
# TERM, --entrypoint's JSON form, --read-only-tmpfs, /etc/hosts with the
# container's name and host.containers.internal, --add-host, --dns,
# --dns-search, --dns-option, --cidfile, --stop-signal, --stop-timeout,
# --label, --label-file and --expose; each with its bad input.
. "$(dirname "$0")/lib.sh"
require_fixtures

R=$T/store
BB=localhost/hutch-test/busybox:latest
H() { hutch --root "$R" "$@"; }
"$HUTCH" --root "$R" load -q -i "$FIX/busybox.docker.tar" 2>/dev/null
at_exit '"$HUTCH" --root "$R" rm -f -a >/dev/null 2>&1; "$HUTCH" --root "$R" unshare rm -rf "$R" 2>/dev/null'

# ---- -t: TERM=xterm, as docker sets it, unless -e says otherwise
H run --rm -t "$BB" sh -c 'echo "$TERM"'
is "$rc:$(tr -d '\r' <<<"$out")" "0:xterm" "-t sets TERM=xterm"
H run --rm -t -e TERM=vt100 "$BB" sh -c 'echo "$TERM"'
is "$(tr -d '\r' <<<"$out")" "vt100" "-e TERM= wins"
H run --rm "$BB" sh -c 'echo "${TERM-unset}"'
is "$out" "unset" "without -t there is no TERM"

# ---- --entrypoint in its JSON form
H run --rm --entrypoint '["/bin/echo", "from", "json"]' "$BB" and args
is "$rc:$out" "0:from json and args" "--entrypoint '[...]' is the exec form, arguments after it"
H run --rm --entrypoint 'echo plain' "$BB" args
is "$out" "plain args" "the plain form still splits at spaces"
H run --rm --entrypoint '["/bin/echo", 1]' "$BB"
like "$rc:$err" "^125:.*--entrypoint \[\"/bin/echo\", 1\]: the JSON form is an array of strings" \
  "a JSON form that is not an array of strings: 125, naming the flag"

# ---- --read-only: /tmp, /var/tmp and /run writable, as podman's --read-only-tmpfs
H run --rm --read-only "$BB" sh -c 'touch /tmp/a /var/tmp/b /run/c && echo wrote; touch /etc/x'
like "$out" "^wrote" "--read-only: /tmp, /var/tmp and /run (made where the image lacks them) are writable"
like "$err" "/etc/x: Read-only file system" "the rest is read-only"
H run --rm --read-only --read-only-tmpfs=false "$BB" touch /tmp/a
like "$rc:$err" "^1:.*/tmp/a: Read-only file system" "--read-only-tmpfs=false: /tmp is read-only too"
H run --rm --read-only --tmpfs /tmp:size=1m "$BB" sh -c 'grep " /tmp " /proc/mounts'
like "$out" "size=1024k" "a --tmpfs of the user's at /tmp is kept, not doubled"
H run --rm --read-only-tmpfs=maybe "$BB" true
like "$rc:$err" "^125:.*--read-only-tmpfs=maybe: use true or false" "a bad --read-only-tmpfs: 125"
H run --rm --tmpfs /deep/er/dir "$BB" ls -d /deep/er/dir
is "$rc:$out" "0:/deep/er/dir" "--tmpfs at a path whose parents the image lacks: they are made"

# ---- /etc/hosts and /etc/resolv.conf
H run --rm --name named-one --hostname hn "$BB" cat /etc/hosts
like "$out" "10\.0\.2\.100	hn named-one" "/etc/hosts has the hostname and the container's name"
like "$out" "	host\.containers\.internal host\.docker\.internal" "and host.containers.internal"
host_ip=$(ip -4 -o addr show scope global up | awk '{ sub("/.*", "", $4); print $4; exit }')
if [ -n "$host_ip" ]; then
  like "$out" "^$host_ip	host\.containers\.internal|
$host_ip	host\.containers\.internal" "at the host's own address (its loopback is closed to the container)"
else
  skip "this host has no global IPv4 address"
fi
H run --rm --network slirp:allow_host_loopback=true "$BB" cat /etc/hosts
like "$out" "10\.0\.2\.2	host\.containers\.internal" "with allow_host_loopback, at the gateway"
H run --rm --add-host db:192.0.2.7 --add-host v6:2001:db8::1 --add-host gw:host-gateway "$BB" cat /etc/hosts
like "$out" "192\.0\.2\.7	db" "--add-host NAME:IP"
like "$out" "2001:db8::1	v6" "an IPv6 address"
like "$out" "[0-9.]+	gw" "host-gateway is the host"
H run --rm --add-host 'bad name:1.2.3.4' "$BB" true
like "$rc:$err" "^125:.*--add-host \"bad name:1\.2\.3\.4\": use NAME:IP" "a bad --add-host: 125, naming the flag"
H run --rm --add-host db:not-an-ip "$BB" true
is "$rc" 125 "an --add-host whose address is not one: 125"
H run --rm --dns 192.0.2.53 --dns-search example.org --dns-option ndots:3 "$BB" cat /etc/resolv.conf
is "$out" "nameserver 192.0.2.53
search example.org
options ndots:3" "--dns, --dns-search and --dns-option make resolv.conf"
H run --rm --dns-search . "$BB" cat /etc/resolv.conf
is "$out" "nameserver 10.0.2.3" "--dns-search . leaves no search line; the network's own server stays"
H run --rm --network host --dns-option edns0 "$BB" cat /etc/resolv.conf
like "$out" "options edns0" "--network host: the host's servers, with the option"
want=$(awk '$1 == "nameserver" { print $2; exit }' /etc/resolv.conf)
[ -n "$want" ] && like "$out" "nameserver $want" "and the host's name server"
H run --rm --dns 1.2.3 "$BB" true
like "$rc:$err" "^125:.*--dns \"1\.2\.3\": a name server is an IPv4 or IPv6 address" "a bad --dns: 125"
H run --rm --dns-option 'a b' "$BB" true
like "$rc:$err" "^125:.*--dns-option \"a b\"" "a bad --dns-option: 125"
H run --rm --dns-search 'bad_domain' "$BB" true
like "$rc:$err" "^125:.*--dns-search \"bad_domain\"" "a bad --dns-search: 125"

# ---- --cidfile
H create --cidfile "$T/cid" --name with-cid "$BB" true
is "$rc:$(cat "$T/cid" 2>/dev/null)" "0:$out" "--cidfile: the id is written there"
H create --cidfile "$T/cid" "$BB" true
like "$rc:$err" "^125:.*--cidfile $T/cid exists" "an existing --cidfile is refused, not overwritten"
H run --rm --cidfile "$T/cid2" "$BB" sh -c 'hostname'
is "$(cut -c1-12 "$T/cid2")" "$out" "run --cidfile: written before the command runs, with its id"
H rm with-cid

# ---- --stop-signal and --stop-timeout
H run -d --name stopper --stop-signal SIGUSR1 --stop-timeout 1 "$BB" sh -c 'trap "" USR1; sleep 100'
H inspect stopper
like "$out" '"StopSignal": "SIGUSR1"' "--stop-signal is in inspect"
like "$out" '"StopTimeout": 1' "and --stop-timeout"
t0=$(date +%s)
H stop stopper
t1=$(date +%s)
H inspect --format '{{.State.ExitCode}}' stopper
is "$out" 137 "SIGUSR1 ignored: stop killed it after --stop-timeout"
ok "$([ $((t1 - t0)) -lt 8 ]; echo $?)" "after 1 s, not the default 10 ($((t1 - t0)) s)"
H rm stopper
H run -d --name usr1 --stop-signal USR1 "$BB" sleep 100
H stop -t 30 usr1
H inspect --format '{{.State.ExitCode}}' usr1
is "$out" 138 "stop sends --stop-signal (sleep dies of SIGUSR1: 138)"
H rm usr1
H run --rm --stop-signal SIGNOPE "$BB" true
like "$rc:$err" "^125:.*--stop-signal SIGNOPE: not a signal" "a bad --stop-signal: 125"
H run --rm --stop-timeout soon "$BB" true
like "$rc:$err" "^125:.*--stop-timeout soon: a number of seconds" "a bad --stop-timeout: 125"

# ---- --label and --label-file
printf '# labels\nfrom.file=1\n\nboth=file\n' >"$T/labels"
H create --name labelled --label-file "$T/labels" --label both=flag -l bare "$BB" true
H inspect --format '{{json .Config.Labels}}' labelled
is "$out" '{"from.file":"1","both":"flag","bare":""}' "--label-file, then --label (the later wins), and KEY alone"
H rm labelled
H run --rm --label "$(printf 'a=b\nc')" "$BB" true
like "$rc:$err" "^125:.*--label \"a=b\\\\nc\": use KEY=VALUE" "a label with a newline: 125"
H run --rm --label-file "$T/none" "$BB" true
like "$rc:$err" "^125:.*--label-file: .*$T/none" "a missing --label-file: 125, naming it"

# ---- --expose with -P
H run -d --name exposer --expose 7777 --expose 7778/udp -P "$BB" sleep 100
H port exposer
like "$out" "7777/tcp -> 0\.0\.0\.0:[0-9]+" "--expose with -P publishes the port"
like "$out" "7778/udp -> 0\.0\.0\.0:[0-9]+" "udp too"
H rm -f exposer
H run --rm --expose nope -P "$BB" true
like "$rc:$err" "^125:.*--expose nope" "a bad --expose: 125"

# ---- --ulimit, --shm-size, --group-add, --device
H run --rm --ulimit nofile=100:200 --ulimit nproc=50 "$BB" sh -c 'ulimit -n; ulimit -Hn; ulimit -u'
is "$rc:$(echo $out)" "0:100 200 50" "--ulimit sets soft and hard limits (hard = soft when not given)"
hard=$(ulimit -Hn)
if [ "$hard" != unlimited ]; then
  H run --rm --ulimit "nofile=10:$((hard + 1))" "$BB" true
  like "$rc:$err" "^125:.*--ulimit nofile=10:$((hard + 1)): over your own hard limit \($hard\)" \
    "--ulimit over the user's hard limit: 125, saying what the limit is"
else
  skip "no hard limit on open files here to go over"
fi
H run --rm --ulimit bogus=1 "$BB" true
like "$rc:$err" "^125:.*--ulimit bogus=1: unknown limit \"bogus\" \(one of as, core" "an unknown --ulimit: 125, listing the names"
H run --rm --ulimit nofile=20:10 "$BB" true
like "$rc:$err" "^125:.*the soft limit is over the hard one" "soft over hard: 125"
H run --rm --shm-size 1m "$BB" sh -c 'df -k /dev/shm | tail -1'
like "$out" "^shm +1024 " "--shm-size sizes /dev/shm"
H run --rm "$BB" sh -c 'df -k /dev/shm | tail -1'
like "$out" "^shm +65536 " "the default is 64 MiB"
H run --rm --shm-size lots "$BB" true
like "$rc:$err" "^125:.*--shm-size" "a bad --shm-size: 125"
H run --rm --group-add 123 --group-add root -u 1000 "$BB" id -G
is "$rc:$out" "0:0 123" "--group-add: an id and a group of the image's, for the command's user"
H run --rm --group-add nosuch "$BB" true
like "$rc:$err" "^125:.*--group-add nosuch: no such group in the image's /etc/group" "an unknown group: 125"
H run --rm --device /dev/zero:/dev/myzero "$BB" sh -c 'head -c 4 /dev/myzero | od -An -tx1'
is "$rc:$(echo $out)" "0:00 00 00 00" "--device HOST:CTR: the device is there, and works"
H run --rm --device /etc/passwd "$BB" true
like "$rc:$err" "^125:.*--device /etc/passwd: not a device node" "a --device that is not a device: 125"
H run --rm --device /dev/kmsg "$BB" true
like "$rc:$err" "^125:.*--device /dev/kmsg: you cannot open it" "a device the user cannot open for writing: 125, with the fix"
H run --rm --device /dev/kmsg:r "$BB" true
is "$rc" 0 "with r only, one the user can read is given"
H run --rm --device /dev/zero:rwx "$BB" true
like "$rc:$err" "^125:.*--device /dev/zero:rwx: use HOST-PATH" "bad permissions: 125"

# ---- --pull newer, --platform, --sig-proxy
H run --rm --pull newer "$BB" true
like "$rc:$err" "^125:.*localhost" "--pull newer asks the registry (here: none at localhost), as always does"
H run --rm --pull sometimes "$BB" true
like "$rc:$err" "^125:.*--pull=sometimes: use missing, always, newer or never" "a bad --pull: 125"
H run --rm --platform linux/amd64/v1/extra "$BB" true
like "$rc:$err" "^125:.*invalid platform \"linux/amd64/v1/extra\"" "a bad --platform: 125, naming it"
H run --rm --platform linux/amd64 --pull never "$BB" true
is "$rc" 0 "--platform with an image in the store: it runs"
H run --rm --sig-proxy=true "$BB" true
is "$rc" 0 "--sig-proxy=true (what hutch does anyway) is taken"
H run --rm --sig-proxy=false "$BB" true
like "$rc:$err" "^125:.*--sig-proxy=false: .*use -d" "--sig-proxy=false: 125, with what to do instead"

# ---- health checks: --health-* and hutch healthcheck run
H run -d --name hc --health-cmd 'test -e /tmp/ok && echo fine' --health-retries 2 "$BB" sleep 100
H inspect --format '{{json .State.Health.Status}} {{json .Config.Healthcheck.Test}}' hc
is "$out" '"starting" ["CMD-SHELL","test -e /tmp/ok && echo fine"]' "a new container's health is starting; the check is in inspect"
H healthcheck run hc
is "$rc:$out" "0:starting" "one failure of two allowed: still starting (exit 0)"
H healthcheck run hc
is "$rc:$out" "1:unhealthy" "the second in a row: unhealthy, exit 1"
H exec hc touch /tmp/ok
H healthcheck run hc
is "$rc:$out" "0:healthy" "the check passes: healthy, exit 0"
H inspect --format '{{.State.Health.FailingStreak}} {{len .State.Health.Log}} {{(index .State.Health.Log 2).ExitCode}} {{(index .State.Health.Log 2).Output}}' hc
is "$out" "0 3 0 fine" "the streak is reset; the log keeps each run, its code and output"
H stop -t 0 hc
H healthcheck run hc
like "$rc:$err" "^125:.*container hc is not running" "a stopped container's check: 125"
H rm hc
H run -d --name hct --health-cmd 'sleep 30' --health-timeout 300ms "$BB" sleep 100
t0=$(date +%s)
H healthcheck run hct
is "$rc:$out" "0:starting" "a check over its --health-timeout fails"
ok "$([ $(($(date +%s) - t0)) -lt 10 ]; echo $?)" "and is cut at the timeout, not waited for"
H inspect --format '{{(index .State.Health.Log 0).ExitCode}} {{(index .State.Health.Log 0).Output}}' hct
is "$out" "-1 Health check exceeded timeout" "recorded as docker records it"
H rm -f hct
H run -d --name nohc "$BB" sleep 100
H healthcheck run nohc
like "$rc:$err" "^125:.*container nohc has no health check" "a container without a check: 125, saying how to give one"
H rm -f nohc
H run --rm --health-cmd true --health-interval often "$BB" true
like "$rc:$err" "^125:.*--health-interval often: a duration, as 30s" "a bad duration: 125"
H run --rm --health-cmd true --no-healthcheck "$BB" true
like "$rc:$err" "^125:.*--no-healthcheck with --health-cmd" "--no-healthcheck with --health-cmd: 125"

# ---- attach: the output from now on, signals passed on, its exit status
H run -d --name att "$BB" sh -c 'trap "echo got TERM; exit 7" TERM; echo started; while :; do sleep 0.05; done'
"$HUTCH" --root "$R" attach att >"$T/attach.out" 2>"$T/attach.err" &
attacher=$!
H run -d --name att2 "$BB" sh -c 'echo done; exit 4'
H wait att2
H attach att2
like "$rc:$err" "^125:.*container att2 is not running: you cannot attach" "attach to an ended container: 125, with what to do"
H rm att2
for i in $(seq 100); do kill -0 "$attacher" && [ -e "$T/attach.out" ] && break; tick; done
# the attacher follows from now on: wait until it follows, by its fd on the log
for i in $(seq 100); do ls -l /proc/$attacher/task/*/children >/dev/null 2>&1 && [ -n "$(cat /proc/$attacher/task/*/children 2>/dev/null)" ] && break; tick; done
kill -TERM "$attacher"
wait "$attacher" && arc=0 || arc=$?
is "$arc" 7 "attach: SIGTERM to it went to the container, whose exit status is attach's"
like "$(cat "$T/attach.out")" "got TERM" "and the output came through it"
H rm att
H attach nosuch
like "$rc:$err" "^125:.*nosuch" "attach to no such container: 125"
