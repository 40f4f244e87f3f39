#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# hutch as containerd's runtime, as root (issue 23): a containerd of the
# test's own (its config, root, state and sockets under $T, stopped at the
# end), the busybox fixture imported with `ctr image import`, and
# `ctr run --rm --runc-binary $BUILD/src/hutch-runtime`: the runc shim
# drives hutch-runtime (create --pid-file, start, state, delete) with the
# JSON log it reads back.
. "$(dirname "$0")/lib.sh"
require_root
require_fixtures
if ! command -v containerd >/dev/null || ! command -v ctr >/dev/null; then
  skip "containerd is not installed (it is in helpers/debian-packages)"
  exit 0
fi

RT=$HUTCH_TEST_BUILDDIR/src/hutch-runtime
C=$T/containerd
NS=hutch-test-$$
IMG=docker.io/library/busybox:latest
mkdir -p "$C"
cat >"$C/config.toml" <<TOML
version = 2
root = "$C/root"
state = "$C/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$C/containerd.sock"
[ttrpc]
  address = "$C/containerd.sock.ttrpc"
[debug]
  address = "$C/debug.sock"
TOML
containerd --config "$C/config.toml" >"$C/log" 2>&1 &
cpid=$!
# at the end, in this order: our containers, the daemon, then what its
# overlay snapshots left mounted under $C
at_exit 'for id in $(c ctr containers ls -q 2>/dev/null; echo "$out"); do c ctr tasks kill -s KILL "$id"; c ctr tasks rm -f "$id"; c ctr containers rm "$id"; done >/dev/null 2>&1'
at_exit 'kill "$cpid"; wait "$cpid" 2>/dev/null'
at_exit 'grep -o " $C/[^ ]*" /proc/self/mounts | sort -r | xargs -r -n1 umount -l'
# the shim's sockets go under /run/containerd/s whatever we say: the
# directories it made there go when empty, if there was none before
[ -e /run/containerd ] || at_exit 'rmdir /run/containerd/s /run/containerd/fifo /run/containerd 2>/dev/null'
c() { # c ctr ARG...: ctr on our containerd and namespace; sets $out, $err, $rc
  shift
  out=$(timeout 120 ctr --address "$C/containerd.sock" --namespace "$NS" "$@" 2>"$T/.cerr") && rc=0 || rc=$?
  err=$(cat "$T/.cerr")
}
for i in $(seq 600); do # up to 30 s for the socket to answer
  c ctr version && break
  kill -0 "$cpid" 2>/dev/null || break
  tick
done
ok "$rc" "a private containerd answers on $C/containerd.sock"
[ "$rc" = 0 ] || sed 's/^/# /' "$C/log" | tail -20

c ctr images import "$FIX/busybox.docker.tar"
ok "$rc" "ctr images import of the busybox fixture"
[ "$rc" = 0 ] || echo "# $err"
c ctr images tag localhost/hutch-test/busybox:latest "$IMG"
ok "$rc" "tagged $IMG"

# the runtime's state (--runc-root) and the stdio fifos stay in $C too
RUN=(--runc-binary "$RT" --runc-root "$C/runc" --fifo-dir "$C/fifo")
c ctr run --rm "${RUN[@]}" "$IMG" t1 echo hi
is "$rc:$out" "0:hi" "ctr run --rm --runc-binary hutch-runtime ... echo hi"
[ "$rc" = 0 ] || { echo "# $err"; sed 's/^/# /' "$C/log" | tail -20; }
c ctr run --rm "${RUN[@]}" "$IMG" t2 sh -c 'cat /proc/1/cmdline | tr "\0" " "; exit 3'
is "$rc:$out" '3:sh -c cat /proc/1/cmdline | tr "\0" " "; exit 3 ' \
  "the exit status comes through; the command is pid 1"

# detached, exec into it, kill, delete: the shim's other calls
c ctr run -d "${RUN[@]}" "$IMG" t3 sleep 600
ok "$rc" "ctr run -d"
c ctr tasks exec --fifo-dir "$C/fifo" --exec-id e1 t3 sh -c 'echo in-exec; cat /proc/1/cmdline | tr "\0" " "'
is "$rc:$out" "0:in-exec
sleep 600 " "ctr tasks exec runs in the container"
c ctr tasks kill -s KILL t3
ok "$rc" "ctr tasks kill"
for i in $(seq 200); do # up to 10 s
  c ctr tasks ls
  printf '%s\n' "$out" | grep -Eq '^t3 +[0-9]+ +STOPPED' && break
  tick
done
like "$out" "t3 +[0-9]+ +STOPPED" "... the task is stopped"
c ctr tasks rm t3
ok "$rc" "ctr tasks rm"
c ctr containers rm t3
c ctr containers ls -q
is "$out" "" "no container is left"
is "$(ls "$C/runc/$NS" 2>/dev/null)" "" "... and no runtime state"
