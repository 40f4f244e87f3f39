#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# hutch when a syscall fails as it may on some host, the failure injected
# with strace -e inject: the error must name the real cause and its fix,
# and a loop must end rather than hang or spin. Each run is bounded by a
# timeout; none waits on time.
. "$(dirname "$0")/lib.sh"
require_fixtures

if ! command -v strace >/dev/null; then
  skip "strace is not installed (helpers/debian-packages installs it)"
  exit 0
fi
R=$T/store
BB=localhost/hutch-test/busybox:latest
"$HUTCH" --root "$R" load -q -i "$FIX/busybox.docker.tar" 2>/dev/null
at_exit '"$HUTCH" --root "$R" unshare rm -rf "$R" 2>/dev/null'
# LeakSanitizer cannot work under ptrace
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0

# traced ARG... : hutch under strace (options up to --), 20 s at most.
traced() {
  local opts=()
  while [ "$1" != -- ]; do opts+=("$1"); shift; done
  shift
  out=$(timeout -k 5 20 strace -qq -o /dev/null "${opts[@]}" "$HUTCH" --root "$R" "$@" 2>"$T/.stderr") &&
    rc=0 || rc=$?
  err=$(cat "$T/.stderr")
}

# ---- a user namespace refused: the limit reached, or a policy ----
max=$(cat /proc/sys/user/max_user_namespaces)
# first without the user's namespace holder (hutch-run(1)), whose
# namespace, once made, a command joins instead of making one
export HUTCH_USERNS_HOLDER=0
# unshare, load, pull, rm: a forked child unshares
traced -f -e trace=unshare -e inject=unshare:error=ENOSPC -- unshare true
like "$err" "entering a user namespace: the limit of user namespaces is reached \(user.max_user_namespaces=$max" \
  "unshare(CLONE_NEWUSER) failing with ENOSPC is named as the limit, with its value"
like "$err" "To fix it: echo user.max_user_namespaces=[0-9]+ \| sudo tee .* && sudo sysctl --system" \
  "and the sysctl that raises it"
unlike "$err" "setgroups|uid_map|newuidmap" "nothing about mapping ids, which never happened"
traced -f -e trace=unshare -e inject=unshare:error=EPERM -- unshare true
like "$err" "refused a new user namespace \(Operation not permitted\): .*forbids nesting, or under a seccomp filter" \
  "EPERM is named as a policy that forbids them"
unlike "$err" "setgroups|uid_map|newuidmap" "and nothing about mapping ids"
# run: the user namespace made ahead by a holder child, then by the container's own clone
traced -e trace=clone -e inject=clone:error=ENOSPC -- run --rm "$BB" true
is "$rc" 125 "run: a refused user namespace is hutch's failure (125)"
like "$err" "creating the container's namespaces: the limit of user namespaces is reached \(user.max_user_namespaces=$max.*sysctl --system" \
  "run: clone(CLONE_NEWUSER) failing with ENOSPC names the limit and the fix"
traced -e trace=clone -e inject=clone:error=EPERM -- run --rm "$BB" true
like "$err" "creating the container's namespaces: the kernel refused a new user namespace \(Operation not permitted\)" \
  "run: EPERM is named as a refusal"
# check says it in the same words
traced -f -e trace=unshare -e inject=unshare:error=ENOSPC -- check --format json
like "$(check_row "$out" userns)" "^missing.*the limit of user namespaces is reached.*sysctl --system" \
  "check: the same words and fix"
# with the holder: the container's own namespace, nested in the holder's,
# is made by the outer child's unshare
unset HUTCH_USERNS_HOLDER
"$HUTCH" --root "$R" run --rm "$BB" true
ok $? "run makes the user's namespace holder"
traced -f -e trace=unshare -e inject=unshare:error=ENOSPC -- run --rm "$BB" true
is "$rc" 125 "run with the holder: a refused nested user namespace is hutch's failure (125)"
like "$err" "creating the container's namespaces: the limit of user namespaces is reached \(user.max_user_namespaces=$max.*sysctl --system" \
  "and names the limit and the fix"
traced -f -e trace=unshare -e inject=unshare:error=ENOSPC -- unshare true
is "$rc" 0 "hutch unshare joins the holder's namespace: no new one to be refused"

# ---- the monitor cannot watch: it must end the container, not hang or spin ----
traced -e trace=signalfd4 -e inject=signalfd4:error=EMFILE -- run --rm "$BB" sleep 1000
is "$rc" 125 "signalfd failing in the monitor: run ends at once, 125 (it hung, the end unseen)"
like "$err" "watching the container: signalfd: Too many open files; the container was killed" \
  "and says why"
traced -e trace=poll -e inject=poll:error=ENOMEM -- run --rm "$BB" sleep 1000
is "$rc" 125 "poll failing with ENOMEM in the monitor: run ends at once, 125 (it spun at 100% CPU)"
like "$err" "watching the container: poll: Cannot allocate memory; the container was killed" \
  "and says why"

# The outer child's wait (sigwaitinfo without a network, poll with one):
# strace attaches to it once the command runs and makes the call fail (the
# call it was in when attached comes back as restart_syscall).
# run_attached NETWORK SYSCALL ERRNO
run_attached() {
  local hp outer pid1 i
  "$HUTCH" --root "$R" run --rm --name "fault-$2" --network "$1" "$BB" sleep 1000 >/dev/null 2>"$T/.stderr" &
  hp=$!
  # (up to 60 s: a slirp container under ASan while the suite runs
  # beside it took more than the 10 s this once allowed)
  for i in $(seq 1200); do
    pid1=$("$HUTCH" --root "$R" inspect "fault-$2" 2>/dev/null | python3 -c \
      'import json,sys; print(json.load(sys.stdin)[0]["State"]["Pid"])' 2>/dev/null)
    [ "${pid1:-0}" -gt 0 ] && break
    kill -0 "$hp" 2>/dev/null || break # run ended: its stderr says why
    read -r -t 0.05 _ <>"$T/tick" || true
  done
  if [ "${pid1:-0}" -le 0 ]; then
    # never a hang: the container that did not start in time is ended
    kill "$hp" 2>/dev/null
    "$HUTCH" --root "$R" rm -f "fault-$2" >/dev/null 2>&1
    wait "$hp"
    rc=-1 err="the container fault-$2 had no pid 1 (run said: $(cat "$T/.stderr"))"
    return
  fi
  outer=$(ps -o ppid= -p "$pid1" | tr -d ' ')
  timeout -k 5 20 strace -qq -o /dev/null -p "${outer:-0}" -e trace="$2,restart_syscall" \
    -e inject="$2,restart_syscall:error=$3" &
  # bounded: a monitor that never ends is a failure, not a hang
  timeout 20 tail --pid="$hp" -f /dev/null
  wait "$hp" && rc=0 || rc=$?
  err=$(cat "$T/.stderr")
  kill "$hp" 2>/dev/null
  wait
}
mkfifo "$T/tick"
run_attached none rt_sigtimedwait EINVAL
is "$rc" 137 "sigwaitinfo failing in the outer child: the container is killed and run ends (137)"
like "$err" "waiting for signals: sigwaitinfo: Invalid argument; the container is ended" "and says why"
if [ -c /dev/net/tun ]; then
  run_attached slirp poll ENOMEM
  is "$rc" 137 "poll failing in the outer child: the container is killed and run ends (137)"
  like "$err" "waiting for the container: poll: Cannot allocate memory; the container is ended" \
    "and says why"
else
  skip "no /dev/net/tun: the outer child polls only with a network"
fi
is "$(ls "$R/containers" | wc -l)" 0 "no container is left behind"
