#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# In the VM, as the test user, in a delegated cgroup v2 subtree (limits.sh
# made it): "ok - ..." or "not ok - ..." a line. Each hutch starts alone in
# a fresh cgroup under SCOPE, as `systemd-run --user --scope hutch ...`
# would start it.
# usage: limits-user.sh full|partial HUTCH FIXTURES STORE SCOPE
part=$1 hutch=$2 fix=$3 store=$4 scope=$5
BB=localhost/hutch-test/busybox:latest
n=0
H() { # hutch ARG..., alone in a cgroup of its own; sets out and rc
  if [ "$part" = systemd ]; then # where the session put it: hutch asks the manager
    out=$("$hutch" --root "$store" "$@" 2>&1)
    rc=$?
    return
  fi
  n=$((n + 1))
  mkdir "$scope/run$n"
  out=$(sh -c 'echo $$ >"$1/cgroup.procs" && shift && exec "$@"' sh "$scope/run$n" \
    "$hutch" --root "$store" "$@" 2>&1)
  rc=$?
}
check() { # STATUS DESCRIPTION
  if [ "$1" = 0 ]; then echo "ok - $part: $2"; else echo "not ok - $part: $2"; fi
}
has() { # TEXT REGEX
  printf '%s\n' "$1" | grep -Eq -- "$2"
}
show() { printf '%s\n' "$out" | head -"${1:-5}" | sed 's/^/#   /'; }
cg_of() { # PID: its cgroup directory
  echo "/sys/fs/cgroup$(sed -n 's/^0:://p' "/proc/$1/cgroup")"
}
field() { # JSON-OF-INSPECT KEY
  printf '%s' "$1" | tr -d ' \n' | sed -n "s/.*\"$2\":\([^,}]*\).*/\1/p" | head -1 | tr -d '"'
}

H load -q -i "$fix/busybox.docker.tar"
H check
case $part in
  full)
    has "$out" "resource limits +cgroup v2 through the delegated subtree hutch runs in; controllers: cpuset cpu io memory pids"
    check $? "check: cgroup v2, the delegated subtree, every controller"
    H run --rm "$BB" echo ran-in-vm
    [ "$rc:$out" = "0:ran-in-vm" ]
    check $? "a container runs as the user inside the VM"
    show

    # no limit asked: a cgroup of its own all the same, with podman's default pids limit
    H run -d --name plain "$BB" sleep 1000
    H inspect plain
    pid=$(field "$out" Pid)
    dir=$(cg_of "$pid")
    case $dir in */hutch-*) r=0 ;; *) r=1 ;; esac
    check $r "without a limit: a cgroup of its own ($dir)"
    [ "$(cat "$dir/pids.max")" = 2048 ]
    check $? "with the default pids limit, 2048"
    # pause: the cgroup v2 freezer of that cgroup
    H pause plain
    [ "$rc" = 0 ] && [ "$(cat "$dir/cgroup.freeze")" = 1 ] && grep -q '^frozen 1' "$dir/cgroup.events"
    check $? "pause: its cgroup is frozen"
    show 2
    H ps --filter name=plain --format '{{.Status}} {{.State}}'
    has "$out" '^Up .* \(Paused\) paused$'
    check $? "ps: Up ... (Paused), state paused"
    show 2
    H inspect plain
    has "$out" '"Paused": true'
    check $? "inspect: State.Paused true"
    H unpause plain
    [ "$rc" = 0 ] && grep -q '^frozen 0' "$dir/cgroup.events"
    check $? "unpause: thawed"
    H inspect plain
    has "$out" '"Paused": false'
    check $? "inspect: State.Paused false again"
    H rm -f plain
    [ ! -e "$dir" ]
    check $? "rm: its cgroup is gone"

    # the monitor killed: rm -f removes the cgroup left behind
    H run -d --name orphan "$BB" sleep 1000
    H inspect orphan
    dir=$(cg_of "$(field "$out" Pid)")
    kill -9 "$(field "$out" MonitorPid)"
    [ -d "$dir.monitor" ]
    check $? "the killed monitor left its leaf ($dir.monitor)"
    H rm -f orphan
    [ "$rc" = 0 ] && [ ! -e "$dir" ] && [ ! -e "$dir.monitor" ]
    check $? "monitor killed, then rm -f: its cgroup and its monitor's leaf are gone too"

    # a memory hog, killed at its limit
    H run --rm --memory 64m "$BB" dd if=/dev/zero of=/dev/null bs=256M count=1
    [ "$rc" = 137 ]
    check $? "a 256 MiB allocation under --memory 64m: killed, 137"
    has "$out" "killed at its memory limit \(--memory\)"
    check $? "and hutch says it was the memory limit"
    show
    H run -d --name hog --memory 64m "$BB" dd if=/dev/zero of=/dev/null bs=256M count=1
    H wait hog
    [ "$out" = 137 ]
    check $? "detached: wait says 137"
    H inspect hog
    has "$out" '"OOMKilled": true'
    check $? "inspect: OOMKilled true"
    has "$out" '"Error": "killed by the kernel at its memory limit'
    check $? "inspect: and the reason"
    H rm hog

    # a fork bomb stopped by pids.max: the shell's fork fails at the limit
    # and it gives up (ash exits 2), the container with it
    H run --rm --pids-limit 12 "$BB" sh -c 'while :; do sleep 1000 & done'
    [ "$rc" = 2 ]
    check $? "a fork bomb under --pids-limit 12 ends (the shell's fork failed: 2)"
    has "$out" "can't fork: Resource temporarily unavailable"
    check $? "with fork's own error, EAGAIN"
    show 2

    # a CPU burner under --cpus 0.5
    H run -d --name burn --cpus 0.5 --memory 128m "$BB" sh -c 'while :; do :; done'
    H inspect burn
    dir=$(cg_of "$(field "$out" Pid)")
    [ "$(cat "$dir/cpu.max")" = "50000 100000" ]
    check $? "--cpus 0.5: cpu.max 50000 100000"
    u0=$(sed -n 's/^usage_usec //p' "$dir/cpu.stat"); t0=$(date +%s%N)
    sleep 4 # the measuring window, not a wait for an event
    u1=$(sed -n 's/^usage_usec //p' "$dir/cpu.stat"); t1=$(date +%s%N)
    pct=$(( (u1 - u0) * 100000 / (t1 - t0) ))
    [ "$pct" -ge 35 ] && [ "$pct" -le 65 ]
    check $? "it got ${pct}% of a CPU (50 ± 15)"
    echo "# cpu: ${pct}% of one CPU over $(( (t1 - t0) / 1000000 )) ms"
    H stats --no-stream --format json burn
    [ "$(field "$out" MemLimit)" = 134217728 ] && [ "$(field "$out" PIDs)" -ge 2 ] \
      && [ "$(field "$out" MemUsage)" -gt 0 ] && [ "$(field "$out" Cgroup)" = true ]
    check $? "stats: memory use under its 128 MiB limit, pids, from its own cgroup"
    cpu=$(field "$out" CPUPerc | cut -d. -f1)
    [ -n "$cpu" ] && [ "$cpu" -ge 30 ] && [ "$cpu" -le 70 ]
    check $? "stats: CPU ${cpu}% (50 ± 20)"
    show 12
    H stats --no-stream
    has "$out" "^CONTAINER ID +NAME +CPU % +MEM USAGE / LIMIT +MEM % +NET I/O +BLOCK I/O +PIDS"
    check $? "stats: docker's columns"
    has "$out" "burn +[0-9.]+% +[0-9.]+ [kMG]?B / 134.2 MB"
    check $? "stats: the burner's row, with its memory limit"
    show 3
    H rm -f burn

    H run -d --name nested --cgroup-parent team/ci --pids-limit 99 "$BB" sleep 1000
    H inspect nested
    dir=$(cg_of "$(field "$out" Pid)")
    case $dir in "$scope"/run*/team/ci/hutch-*) r=0 ;; *) r=1 ;; esac
    [ "$r" = 0 ] && [ "$(cat "$dir/pids.max")" = 99 ]
    check $? "--cgroup-parent team/ci: the cgroup is made there, limits and all ($dir)"
    H rm -f nested

    # hutch in the same cgroup as the shell that started it
    out=$("$hutch" --root "$store" run --rm "$BB" echo ran 2>&1)
    [ "$?:$out" = "0:ran" ] && [ -z "$(ls "$scope/shell" | grep hutch-)" ] \
      && [ "$(sed -n 's/^0:://p' /proc/self/cgroup)" = "${scope#/sys/fs/cgroup}/shell" ]
    check $? "sharing the shell's cgroup, no limit asked: runs, no leaf left, the shell where it was"
    out=$("$hutch" --root "$store" run --rm --memory 64m "$BB" true 2>&1)
    rc=$?
    [ "$rc" = 125 ] && has "$out" "holds processes besides hutch \(your shell\?\)" \
      && has "$out" "systemd-run --user --scope hutch run"
    check $? "sharing the shell's cgroup, --memory, no user manager: refused with the way out"
    show 2

    H run --rm --cpu-shares 512 --memory 128m --memory-swap 256m --memory-reservation 64m \
      --cpuset-cpus 0 "$BB" sh -c 'echo ok'
    [ "$rc:$out" = "0:ok" ]
    check $? "the other limits apply and the container runs"
    show
    ;;
  systemd)
    # our cgroup is not ours; the user manager is on the session bus
    has "$out" "resource limits +cgroup v2 through a systemd user scope with Delegate=yes \(cgroup /[^ ]*session.scope is not yours\); controllers: [a-z ]*memory"
    check $? "check: the systemd user manager's scope, and the controllers its cgroup has (asked over D-Bus)"
    show 3
    # hutch asks over D-Bus itself: no systemd-run on its PATH
    bin=$TMPDIR/bin-$part
    mkdir -p "$bin"
    ln -sf "$(command -v newuidmap)" "$(command -v newgidmap)" "$bin/"
    out=$(PATH=$bin "$hutch" --root "$store" run --rm --memory 64m "$BB" dd if=/dev/zero of=/dev/null bs=256M count=1 2>&1)
    rc=$?
    [ "$rc" = 137 ] && has "$out" "killed at its memory limit"
    check $? "run --memory 64m, no systemd-run on PATH: in a scope of the user manager, the hog is killed at the limit (137)"
    show 2
    # a bus socket nobody answers on (a dead session's): the error says so, nothing is made
    python3 -c 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$TMPDIR/dead-bus"
    before=$("$hutch" --root "$store" ps -aq | wc -l)
    out=$(DBUS_SESSION_BUS_ADDRESS=unix:path=$TMPDIR/dead-bus "$hutch" --root "$store" run --memory 64m "$BB" true 2>&1)
    rc=$?
    [ "$rc" = 125 ] && has "$out" "limits need a scope of the systemd user manager \(cgroup [^ ]* is not yours\): connecting to the session bus at $TMPDIR/dead-bus" \
      && has "$out" "[Cc]onnection refused" && [ "$("$hutch" --root "$store" ps -aq | wc -l)" = "$before" ]
    check $? "a session bus that does not answer: exit 125 naming the bus, no container made"
    show 2
    out=$("$hutch" --root "$store" run -d --name scoped --pids-limit 77 "$BB" sleep 1000 2>&1)
    out=$("$hutch" --root "$store" inspect scoped 2>&1)
    dir=$(field "$out" CgroupPath)
    case $dir in */app.slice/hutch-*.scope/hutch-*) r=0 ;; *) r=1 ;; esac
    [ "$r" = 0 ] && [ "$(cat "$dir/pids.max")" = 77 ]
    check $? "run -d --pids-limit 77: the container's cgroup is in hutch's transient scope ($dir)"
    "$hutch" --root "$store" rm -f scoped >/dev/null 2>&1
    "$hutch" --root "$store" create --name later --memory 64m "$BB" dd if=/dev/zero of=/dev/null bs=256M count=1 >/dev/null 2>&1
    out=$("$hutch" --root "$store" start -a later 2>&1)
    rc=$?
    [ "$rc" = 137 ] && has "$out" "killed at its memory limit"
    check $? "create --memory, then start -a: start too goes into a scope, and the limit holds (137)"
    show 2
    "$hutch" --root "$store" rm later >/dev/null 2>&1
    # a terminal's scope on a desktop: the user's cgroup, under the manager,
    # holding the shell too, where the kernel gives no controllers
    term=$(dirname "$(cg_of $$)")/app.slice/vte-spawn-test.scope
    mkdir "$term"
    sleep 1000 &
    sleeper=$!
    echo "$sleeper" >"$term/cgroup.procs"
    T() { sh -c 'echo $$ >"$1/cgroup.procs" && shift && exec "$@"' sh "$term" "$hutch" --root "$store" "$@" 2>&1; }
    out=$(T check)
    has "$out" "Delegate=yes \(cgroup /[^ ]*vte-spawn-test.scope, yours, (also holds other processes \(your shell\?\)|has no [a-z, ]+ controller)\)"
    check $? "check in a terminal's scope shared with the shell: the user manager's scope, and why"
    printf '%s\n' "$out" | grep 'resource limits' | sed 's/^/#   /'
    out=$(T run -d --name term --memory 64m "$BB" sleep 1000)
    out=$("$hutch" --root "$store" inspect term 2>&1)
    dir=$(field "$out" CgroupPath)
    case $dir in */app.slice/hutch-*.scope/hutch-*) r=0 ;; *) r=1 ;; esac
    [ "$r" = 0 ] && [ "$(cat "$dir/memory.max")" = 67108864 ] && [ -z "$(ls "$term" | grep hutch-)" ]
    check $? "run -d --memory 64m from a terminal's scope: hutch asks for a scope of its own ($dir)"
    "$hutch" --root "$store" rm -f term >/dev/null 2>&1
    kill "$sleeper"
    wait "$sleeper" 2>/dev/null
    rmdir "$term"
    out=$("$hutch" --root "$store" run --rm --cpuset-cpus 0 "$BB" true 2>&1)
    rc=$?
    [ "$rc" = 125 ] && has "$out" "the cpuset controller is not delegated to you"
    check $? "--cpuset-cpus, which the user manager does not delegate by default: the Delegate= fix"
    show 2
    ;;
  partial)
    has "$out" "controllers: cpu pids"
    check $? "check: only cpu and pids delegated"
    H run --rm --memory 64m "$BB" true
    [ "$rc" = 125 ]
    check $? "--memory without the memory controller: refused (125)"
    has "$out" "--memory cannot be applied: the memory controller is not delegated to you"
    check $? "the message names the controller"
    has "$out" "Delegate=cpu cpuset io memory pids"
    check $? "and the fix, the Delegate= drop-in"
    show 2
    H run --rm --cpus 0.5 "$BB" echo ran
    [ "$rc:$out" = "0:ran" ]
    check $? "--cpus with cpu delegated: runs"
    show
    ;;
esac
