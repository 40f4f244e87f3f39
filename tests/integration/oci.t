#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# hutch as an OCI runtime (issue 23), as an ordinary user: a bundle made
# from the busybox test image, driven through the hutch-runtime link with
# runc's command line (create/start/state/kill/delete, run, exec, list, ps,
# spec, features), config.json honoured (mounts, masked and read-only
# paths, user, capabilities, rlimits, seccomp, hooks, a terminal over
# --console-socket), the bad inputs, and podman --runtime hutch-runtime.
. "$(dirname "$0")/lib.sh"
require_fixtures

RT=$HUTCH_TEST_BUILDDIR/src/hutch-runtime
ROOT=$T/state
# rt ARG...: sets $out, $err, $rc. Through files, not a pipe: a created
# container keeps the stdio it was given, and a pipe would never end.
rt() {
  # (a bound: a hang is a failure, not a stuck test run)
  timeout -k 5 120 "$RT" --root "$ROOT" "$@" >"$T/.stdout" 2>"$T/.stderr" </dev/null && rc=0 || rc=$?
  out=$(cat "$T/.stdout")
  err=$(cat "$T/.stderr")
}
# at the end: every container of ours killed and deleted
at_exit 'for c in $("$RT" --root "$ROOT" list -q 2>/dev/null); do "$RT" --root "$ROOT" delete -f "$c"; done'

# cfg BUNDLE PYTHON: edits BUNDLE/config.json as the dict d
cfg() {
  python3 - "$1/config.json" "$2" <<'PY'
import json, sys
p = sys.argv[1]
d = json.load(open(p))
exec(sys.argv[2])
json.dump(d, open(p, "w"), indent=1)
PY
}
# bundle DIR ARGS-JSON: the busybox rootfs, `spec --rootless`, no terminal
busybox_layer "$T/layer.tar"
bundle() {
  mkdir -p "$1/rootfs"
  tar -xf "$T/layer.tar" -C "$1/rootfs"
  (cd "$1" && "$RT" spec --rootless) || return 1
  cfg "$1" "d['process']['terminal'] = False; d['process']['args'] = $2"
}
wait_status() { # wait_status ID STATUS: up to 5 s
  local i
  for i in $(seq 100); do
    rt state "$1"
    [ "$(json_get "$out" 'd["status"]' 2>/dev/null)" = "$2" ] && return 0
    tick
  done
  return 1
}

# ---- spec and features ----
mkdir -p "$T/spec"
(cd "$T/spec" && "$RT" spec --rootless) && rc=0 || rc=$?
ok "$rc" "spec --rootless writes config.json"
c=$(cat "$T/spec/config.json")
is "$(json_get "$c" '[m["hostID"] for m in d["linux"]["uidMappings"]]')" "[$(id -u)]" \
  "spec --rootless maps the caller to root"
like "$(json_get "$c" '[n["type"] for n in d["linux"]["namespaces"]]')" "'user'" \
  "spec --rootless has a user namespace"
(cd "$T/spec" && "$RT" spec 2>"$T/.stderr") && rc=0 || rc=$?
is "$rc" 1 "spec refuses to overwrite config.json"
rt features
is "$(json_get "$out" 'd["ociVersionMax"]')" "1.2.0" "features is the runtime-spec features document"
like "$(json_get "$out" 'd["linux"]["namespaces"]')" "'user'" "features lists the namespaces"
out=$("$RT" --version) && rc=0 || rc=$?
like "$out" "^hutch-runtime version" "--version"

# ---- create, start, state, exec, kill, delete ----
B=$T/b1
bundle "$B" '["sleep", "30"]'
rt create --bundle "$B" --pid-file "$T/c1.pid" c1
ok "$rc" "create"
[ "$rc" = 0 ] || echo "# $err"
pid=$(cat "$T/c1.pid" 2>/dev/null)
rt state c1
is "$(json_get "$out" 'd["status"]')" created "state after create: created"
is "$(json_get "$out" 'd["pid"]')" "$pid" "state pid is the --pid-file's"
is "$(json_get "$out" 'd["id"]+" "+d["bundle"]+" "+d["ociVersion"]')" "c1 $B 1.2.0" \
  "state id, bundle, ociVersion"
is "$(json_get "$out" 'sorted(d.keys())')" \
  "['annotations', 'bundle', 'created', 'id', 'ociVersion', 'owner', 'pid', 'rootfs', 'status']" \
  "state has the runtime-spec fields"
ok "$([ -d "/proc/$pid" ]; echo $?)" "the created process waits, outliving create"
rt create --bundle "$B" c1
is "$rc" 1 "create of an id in use fails"
like "$err" "exists: c1" "... saying the id exists"
rt exec c1 true
ok "$rc" "exec into a created container"
rt start c1
ok "$rc" "start"
rt state c1
is "$(json_get "$out" 'd["status"]')" running "state after start: running"
rt start c1
is "$rc" 1 "start of a started container fails"
like "$err" "not created" "... saying it is not created"
rt exec c1 sh -c 'echo $((40+2)) $(hostname) $(cat /proc/1/cmdline | tr "\0" " ")'
is "$out" "42 hutch sleep 30" "exec runs in the container (hostname, pid 1)"
rt exec --env FOO=bar --cwd /tmp c1 sh -c 'echo $FOO $(pwd)'
is "$out" "bar /tmp" "exec --env --cwd"
cat >"$T/proc.json" <<'EOF'
{"terminal": false, "user": {"uid": 0, "gid": 0}, "args": ["sh", "-c", "echo from-process-file; exit 7"],
 "env": ["PATH=/bin"], "cwd": "/"}
EOF
rt exec --process "$T/proc.json" c1
is "$rc:$out" "7:from-process-file" "exec --process FILE, its exit status passed on"
rt exec --detach --pid-file "$T/e.pid" c1 sleep 20
ok "$rc" "exec --detach"
epid=$(cat "$T/e.pid" 2>/dev/null)
ok "$([ -n "$epid" ] && [ -d "/proc/$epid" ]; echo $?)" "exec --detach --pid-file: the process runs"
rt ps --format json c1
is "$(json_get "$out" 'sorted(d)')" "$(python3 -c "print(sorted([$pid, ${epid:-0}]))")" \
  "ps lists the container's processes"
rt exec c1 nosuchcommand
is "$rc" 127 "exec of a missing command: 127"
rt list
like "$out" "c1 +$pid +running" "list"
rt delete c1
is "$rc" 1 "delete of a running container without --force fails"
rt kill c1 KILL
ok "$rc" "kill KILL"
wait_status c1 stopped
ok $? "the container is stopped after kill"
rt exec c1 true
is "$rc" 1 "exec into a stopped container fails"
like "$err" "stopped" "... saying it is stopped"
rt delete c1
ok "$rc" "delete"
rt state c1
like "$rc:$err" "^1:.*does not exist" "state after delete: no such container"
ok "$([ ! -d "$ROOT/c1" ]; echo $?)" "delete removes the state directory"

# kill --all and delete --force of a running one
rt create --bundle "$B" c2 && rt start c2
rt exec --detach c2 sleep 40
rt kill --all c2 KILL
ok "$rc" "kill --all"
rt create --bundle "$B" c3 && rt start c3
rt delete --force c3
ok "$rc" "delete --force of a running container"
ok "$([ ! -d "$ROOT/c3" ]; echo $?)" "... removes it"
rt delete --force c2

# ---- run ----
B2=$T/b2
bundle "$B2" '["sh", "-c", "echo hi; id -u; exit 3"]'
rt run --bundle "$B2" r1
is "$rc:$out" "$(printf '3:hi\n0')" "run: output and exit status"
rt state r1
is "$rc" 1 "run deletes the container after it ends"

# ---- config.json honoured ----
B3=$T/b3
bundle "$B3" '["sh", "-c", "touch /x 2>/dev/null && echo rootfs-rw; echo data >/mnt/t/f && cat /mnt/t/f; [ -c /proc/keys ] && echo keys-masked; ls /usr | wc -l; echo w >/proc/sys/kernel/hostname 2>/dev/null || echo sys-ro; cat /data/in; echo > /data/new 2>/dev/null || echo bind-ro; ulimit -n; grep CapEff /proc/self/status; mkdir /tmp/d 2>&1 | grep -o \"not permitted\""]'
mkdir -p "$T/data" && echo host-file >"$T/data/in"
cfg "$B3" "
d['mounts'].append({'destination': '/mnt/t', 'type': 'tmpfs', 'source': 'tmpfs', 'options': ['nosuid', 'size=1m']})
d['mounts'].append({'destination': '/data', 'type': 'bind', 'source': '$T/data', 'options': ['rbind', 'ro']})
d['mounts'].append({'destination': '/tmp', 'type': 'tmpfs', 'source': 'tmpfs'})
d['process']['rlimits'] = [{'type': 'RLIMIT_NOFILE', 'soft': 321, 'hard': 321}]
d['linux']['maskedPaths'].append('/usr')
d['linux']['seccomp'] = {'defaultAction': 'SCMP_ACT_ALLOW', 'architectures': ['SCMP_ARCH_X86_64'],
  'syscalls': [{'names': ['mkdir', 'mkdirat'], 'action': 'SCMP_ACT_ERRNO', 'errnoRet': 1}]}
"
rt run --bundle "$B3" r3
[ "$rc" = 0 ] || echo "# $err"
is "$out" "$(printf 'data\nkeys-masked\n0\nsys-ro\nhost-file\nbind-ro\n321\nCapEff:\t0000000020000420\nnot permitted')" \
  "root.readonly, tmpfs and ro bind mounts, maskedPaths, readonlyPaths, rlimits, capabilities, seccomp"

# a full mapping (newuidmap) and a user with additionalGids
if grep -q "^$(id -un):" /etc/subuid 2>/dev/null; then
  B4=$T/b4
  bundle "$B4" '["sh", "-c", "id -u; id -g; id -G; cat /proc/self/uid_map | wc -l"]'
  s=$(grep "^$(id -un):" /etc/subuid | head -1 | cut -d: -f2)
  g=$(grep "^$(id -un):" /etc/subgid | head -1 | cut -d: -f2)
  cfg "$B4" "
d['linux']['uidMappings'] = [{'containerID': 0, 'hostID': $(id -u), 'size': 1}, {'containerID': 1, 'hostID': $s, 'size': 65536}]
d['linux']['gidMappings'] = [{'containerID': 0, 'hostID': $(id -g), 'size': 1}, {'containerID': 1, 'hostID': $g, 'size': 65536}]
d['process']['user'] = {'uid': 1000, 'gid': 1000, 'additionalGids': [10, 20]}
"
  rt run --bundle "$B4" r4
  [ "$rc" = 0 ] || echo "# $err"
  is "$out" "$(printf '1000\n1000\n1000 10 20\n2')" "uid/gidMappings through newuidmap; process.user with additionalGids"
else
  skip "no /etc/subuid range for $(id -un): the newuidmap mapping is not tested"
fi

# ---- hooks: each at its moment, in its namespaces, the state on stdin ----
# hook NAME [FILE]: a hook that saves its stdin in FILE (default
# $T/hook-NAME.json) and appends NAME to the order log beside it
hook() {
  local f=${2:-$T/hook-$1.json}
  echo "{'path': '/bin/sh', 'args': ['sh', '-c', 'cat > $f; echo $1 >> $(dirname "$f")/order; hostname > $f.host']}"
}
B5=$T/b5
bundle "$B5" '["sh", "-c", "echo process >> /order"]'
cfg "$B5" "
d['root']['readonly'] = False
d['hooks'] = {'prestart': [$(hook prestart)], 'createRuntime': [$(hook createRuntime)],
  'createContainer': [$(hook createContainer)], 'startContainer': [$(hook startContainer /start.json)],
  'poststart': [$(hook poststart)], 'poststop': [$(hook poststop)]}
"
rt run --bundle "$B5" h1
ok "$rc" "run with every kind of hook"
[ "$rc" = 0 ] || echo "# $err"
is "$(tr '\n' ' ' <"$T/order" 2>/dev/null)" "prestart createRuntime createContainer poststart poststop " \
  "the runtime's hooks run in the runtime-spec's order"
is "$(tr '\n' ' ' <"$B5/rootfs/order" 2>/dev/null)" "startContainer process " \
  "startContainer runs inside the container, before the process"
hj() { json_get "$(cat "$1" 2>/dev/null || echo '{}')" "$2"; }
is "$(hj "$T/hook-prestart.json" 'd.get("id")+" "+d.get("status")+" "+str(d.get("pid",0)>1)')" \
  "h1 creating True" "prestart gets the state on stdin: creating, the pid as the runtime sees it"
is "$(hj "$T/hook-createRuntime.json" 'd.get("status")+" "+d.get("bundle")')" "creating $B5" \
  "createRuntime gets the state"
is "$(hj "$T/hook-createContainer.json" 'd.get("status")+" "+str(d.get("pid"))')" "creating 1" \
  "createContainer gets the state, with the pid the process has in its namespace"
is "$(cat "$T/hook-createContainer.json.host" 2>/dev/null)/$(cat "$T/hook-prestart.json.host" 2>/dev/null)" \
  "hutch/$(hostname)" "createContainer runs in the container's namespaces (its hostname), prestart in the runtime's"
is "$(hj "$B5/rootfs/start.json" 'd.get("id")+" "+d.get("status")+" "+str(d.get("pid"))')" "h1 created 1" \
  "startContainer gets the state"
is "$(hj "$T/hook-poststart.json" 'd.get("status")')" "running" "poststart runs once the process runs"
is "$(hj "$T/hook-poststop.json" 'd.get("status")')" "stopped" "poststop runs at delete"

# a hook that fails: its kind, its path and its status in the error
B9=$T/b9
bundle "$B9" '["sh", "-c", "echo ran > /ran"]'
cfg "$B9" "d['root']['readonly'] = False; d['hooks'] = {'prestart': [{'path': '/bin/sh', 'args': ['sh', '-c', 'exit 2']}]}"
rt create --bundle "$B9" h3
like "$rc:$err" "^1:.*prestart hook: /bin/sh failed \(exit status 2\)" "a failing prestart hook fails create"
cfg "$B9" "d['hooks'] = {'createContainer': [{'path': '/bin/sh', 'args': ['sh', '-c', 'exit 3']}]}"
rt create --bundle "$B9" --pid-file "$T/h4.pid" h4
like "$rc:$err" "^1:.*createContainer hook: /bin/sh failed \(exit status 3\)" \
  "a failing createContainer hook fails create"
ok "$([ ! -d "$ROOT/h4" ] && [ ! -e "$T/h4.pid" ]; echo $?)" "... and leaves no state"
cfg "$B9" "d['hooks'] = {'startContainer': [{'path': '/bin/sh', 'args': ['sh', '-c', 'exit 4']}]}"
rt create --bundle "$B9" h5
ok "$rc" "create with a startContainer hook that will fail"
rt start h5
like "$rc:$err" "^1:.*startContainer hook: /bin/sh failed \(exit status 4\)" \
  "a failing startContainer hook fails start"
ok "$([ ! -e "$B9/rootfs/ran" ]; echo $?)" "... and the process never runs"
wait_status h5 stopped
ok $? "... and the container is stopped"
rt delete h5
cfg "$B9" "d['hooks'] = {'poststart': [{'path': '/bin/sh', 'args': ['sh', '-c', 'exit 5']}]}"
rt run --bundle "$B9" h6
like "$rc:$err" "^0:.*warning: poststart hook: /bin/sh failed \(exit status 5\)" \
  "a failing poststart hook is a warning (the container runs)"
rm -f "$B9/rootfs/ran"

# a hook that hangs: killed at its timeout
cfg "$B5" "d['hooks'] = {'createRuntime': [{'path': '/bin/sleep', 'args': ['sleep', '30'], 'timeout': 1}]}"
rt create --bundle "$B5" h2
like "$rc:$err" "^1:.*createRuntime hook: /bin/sleep: timed out after 1 s" "a hook past its timeout fails create"
ok "$([ ! -d "$ROOT/h2" ]; echo $?)" "... and leaves no state"
cfg "$B9" "d['hooks'] = {'startContainer': [{'path': '/bin/sleep', 'args': ['sleep', '30'], 'timeout': 1}]}"
rt create --bundle "$B9" h7
rt start h7
like "$rc:$err" "^1:.*startContainer hook: /bin/sleep: timed out after 1 s" \
  "a startContainer hook past its timeout fails start"
ok "$([ ! -e "$B9/rootfs/ran" ]; echo $?)" "... and the process never runs"
rt delete -f h7
ok "$(! pgrep -u "$(id -u)" -x sleep -a | grep -q 'sleep 30$'; echo $?)" "the hung hooks are killed"

# a terminal over --console-socket (runc's protocol: the master by SCM_RIGHTS)
B6=$T/b6
bundle "$B6" '["sh", "-c", "tty; echo on-tty"]'
cfg "$B6" "d['process']['terminal'] = True"
python3 - "$T/console.sock" >"$T/console.out" 2>&1 <<'PY' &
import array, os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(sys.argv[1]); s.listen(1)
c, _ = s.accept()
msg, anc, _, _ = c.recvmsg(256, socket.CMSG_LEN(4))
fd = array.array("i", anc[0][2][:4])[0]
out = b""
while True:
    try:
        b = os.read(fd, 4096)
    except OSError:
        break
    if not b:
        break
    out += b
print(msg.decode(), out.decode().replace("\r", ""))
PY
py=$!
for i in $(seq 100); do [ -S "$T/console.sock" ] && break; tick; done
rt create --bundle "$B6" --console-socket "$T/console.sock" t1
ok "$rc" "create with process.terminal and --console-socket"
rt start t1
wait_status t1 stopped
wait $py
like "$(cat "$T/console.out")" "^/dev/pts/[0-9]+ /dev/pts/[0-9]+" "the terminal's master came over the socket, with its name"
like "$(cat "$T/console.out")" "on-tty" "the process runs on that terminal"
rt delete t1

# ---- linux.resources, cgroupsPath, update ----
# This user gets no cgroup v2 subtree of its own on a v1 or hybrid host,
# nor on a v2 host without delegation; there runc and crun rootless warn
# when no limit was asked and fail when one was.
cg_v2=$([ "$(stat -fc %T /sys/fs/cgroup)" = cgroup2fs ] && echo 1 || echo 0)
B8=$T/b8
bundle "$B8" '["sleep", "30"]'
cfg "$B8" "
d['linux']['cgroupsPath'] = '/hutch-test/cg1'
d['linux']['resources'] = {'devices': [{'allow': False, 'access': 'rwm'}], 'pids': {'limit': 0},
  'memory': {'limit': -1, 'swap': -1}, 'cpu': {'shares': 1024, 'cpus': ''}}
"
rt create --bundle "$B8" cg0
ok "$rc" "create with a cgroupsPath and resources that ask for no limit"
[ "$cg_v2" = 0 ] && like "$err" "^warning: linux.cgroupsPath /hutch-test/cg1 is ignored.*cgroup v1" \
  "... warns on stderr that cgroupsPath is ignored on this cgroup v1 host"
rt delete cg0
rt --log "$T/cg.log" --log-format json create --bundle "$B8" cg1
ok "$rc" "... and with --log"
[ "$cg_v2" = 0 ] && like "$(cat "$T/cg.log" 2>/dev/null)" '"level":"warning","msg":"linux.cgroupsPath /hutch-test/cg1 is ignored' \
  "... the warning goes to the log as a JSON line"
rt start cg1
echo '{"pids": {"limit": 0}, "memory": {}}' >"$T/res-none.json"
rt update --resources "$T/res-none.json" cg1
ok "$rc" "update --resources that asks for no limit"
echo '{"memory": {"limit": 67108864}, "pids": {"limit": 100}}' >"$T/res.json"
rt update --resources "$T/res.json" cg1
like "$rc:$err" "^1:.*resources\.memory\.limit, resources\.pids\.limit cannot be applied" \
  "update --resources with limits fails, naming the fields"
"$RT" --root "$ROOT" update --resources - cg1 <"$T/res.json" >/dev/null 2>"$T/.stderr" && rc=0 || rc=$?
like "$rc:$(cat "$T/.stderr")" "^1:.*resources\.memory\.limit" "update --resources - reads stdin"
rt update --resources "$T/res.json" nosuch
like "$rc:$err" "^1:.*does not exist: nosuch" "update of a container not created"
rt delete -f cg1
cfg "$B8" "d['linux']['resources'] = {'memory': {'limit': 67108864}, 'cpu': {'quota': 50000, 'period': 100000}}"
rt create --bundle "$B8" cg2
like "$rc:$err" "^1:.*linux\.resources\.memory\.limit, linux\.resources\.cpu\.quota, linux\.resources\.cpu\.period cannot be applied" \
  "create with limits fails, naming the fields"
if [ "$cg_v2" = 0 ]; then
  like "$err" "systemd\.unified_cgroup_hierarchy=1" "... and the host's fix (the unified hierarchy)"
fi
ok "$([ ! -d "$ROOT/cg2" ]; echo $?)" "... and leaves no state"

# ---- run relays its own terminal (no --console-socket), as runc run ----
B10=$T/b10
bundle "$B10" '["sh", "-c", "tty; echo on-tty; read line; echo got-$line; exit 6"]'
cfg "$B10" "d['process']['terminal'] = True"
if command -v script >/dev/null; then
  out=$(set -o pipefail; printf 'typed\n' | timeout 60 script -qec "$(printf '%q ' "$RT" --root "$ROOT") run --bundle $B10 tty1" /dev/null 2>&1 | tr -d '\r') && rc=0 || rc=$?
  like "$out" "^/dev/pts/[0-9]+" "run with process.terminal and no --console-socket: the process is on a terminal"
  like "$out" "got-typed" "... our input reaches it through the relay"
  is "$rc" 6 "... and its exit status comes back"
else
  skip "script(1) is not installed: run's terminal relay is not tested"
fi
rt run --detach --bundle "$B10" tty2
like "$rc:$err" "^1:.*no --console-socket" "run --detach with process.terminal needs --console-socket"
rt create --bundle "$B10" tty3
like "$rc:$err" "^1:.*no --console-socket" "so does create"

# exec --pid-file without --detach: written while the process runs
B11=$T/b11
mkdir -p "$T/pf"
bundle "$B11" '["sleep", "30"]'
cfg "$B11" "d['mounts'].append({'destination': '/pf', 'type': 'bind', 'source': '$T/pf', 'options': ['rbind', 'rw']})"
rt run --detach --bundle "$B11" pf1
rt exec --pid-file "$T/pf/e.pid" pf1 sh -c 'i=0; while [ ! -s /pf/e.pid ] && [ $i -lt 300000 ]; do i=$((i+1)); done; [ -s /pf/e.pid ] && echo seen-while-running'
is "$rc:$out" "0:seen-while-running" "exec --pid-file without --detach: the pid file is there while the process runs"
like "$(cat "$T/pf/e.pid" 2>/dev/null)" "^[0-9]+$" "... holding a pid"
rt delete -f pf1

# ---- bad inputs ----
mkdir -p "$T/empty"
rt create --bundle "$T/empty" bad1
like "$rc:$err" "^1:.*has no config.json" "a bundle without config.json"
B7=$T/b7
bundle "$B7" '["true"]'
echo '{"ociVersion": "1.2.0", "process": ' >"$B7/config.json"
rt create --bundle "$B7" bad2
like "$rc:$err" "^1:.*config.json.*line" "a config.json that does not parse names the place"
(cd "$B7" && rm config.json && "$RT" spec --rootless)
cfg "$B7" "d['process']['args'] = 'sh'"
rt create --bundle "$B7" bad3
like "$rc:$err" "^1:.*process\.args: expected an array" "a field of the wrong kind is named"
cfg "$B7" "d['process']['args'] = ['true']; d['linux']['intelRdt'] = {'closID': 'x'}"
rt create --bundle "$B7" bad4
like "$rc:$err" "^1:.*linux\.intelRdt is not supported" "a feature hutch lacks is named"
cfg "$B7" "del d['linux']['intelRdt']; d['linux']['namespaces'].append({'type': 'time'})"
rt create --bundle "$B7" bad5
like "$rc:$err" "^1:.*linux\.namespaces\[[0-9]\]\.type: \"time\" is not supported" "an unsupported namespace is named"
rt create --bundle "$B" a/b
like "$rc:$err" "^1:.*invalid container id" "an id with '/'"
rt start nosuch
like "$rc:$err" "^1:.*does not exist: nosuch" "start of a container not created"
rt kill nosuch
is "$rc" 1 "kill of a container not created"
# a create that fails after its process exists: no process, no state left
cfg "$B7" "d['linux']['namespaces'] = [n for n in d['linux']['namespaces'] if n['type'] != 'time']; d['process']['args'] = ['sleep', '4242']; d['mounts'].append({'destination': '/x', 'type': 'bind', 'source': '/nonexistent-$$', 'options': ['bind']})"
rt create --bundle "$B7" --pid-file "$T/bad.pid" bad6
like "$rc:$err" "^1:.*bind source /nonexistent" "a mount that fails fails create, naming its source"
ok "$([ ! -d "$ROOT/bad6" ] && [ ! -e "$T/bad.pid" ]; echo $?)" "a failed create leaves no state and no pid file"
sleep 0.2
ok "$(! pgrep -u "$(id -u)" -f "create --bundle $B7 --pid-file" >/dev/null; echo $?)" \
  "a failed create leaves no process"
rt list -q
is "$out" "" "list is empty at the end"

# ---- podman --runtime hutch-runtime ----
if ! command -v podman >/dev/null; then
  skip "podman is not installed"
else
  export XDG_RUNTIME_DIR=$T/xdg
  mkdir -m 0700 -p "$XDG_RUNTIME_DIR"
  P=(podman --root "$T/podman" --runroot "$XDG_RUNTIME_DIR/podman" --storage-driver vfs
     --cgroup-manager cgroupfs --events-backend file)
  at_exit 'podman --root "$T/podman" --runroot "$XDG_RUNTIME_DIR/podman" --storage-driver vfs unshare rm -rf "$T/podman" >/dev/null 2>&1'
  # podman itself needs runc for load here (its default, crun, refuses this host)
  if ! "${P[@]}" --runtime runc load -q -i "$FIX/busybox.docker.tar" >/dev/null 2>"$T/.perr"; then
    skip "podman cannot load an image on this host: $(head -1 "$T/.perr")"
  else
    IMG=localhost/hutch-test/busybox:latest
    out=$("${P[@]}" --runtime "$RT" run --rm --hostname web "$IMG" sh -c 'echo hi; id; hostname' 2>"$T/.perr") && rc=0 || rc=$?
    [ "$rc" = 0 ] || sed 's/^/# /' "$T/.perr"
    is "$out" "$(printf 'hi\nuid=0(root) gid=0(root)\nweb')" "podman --runtime hutch-runtime run --rm"
    out=$("${P[@]}" --runtime "$RT" run --rm "$IMG" sh -c 'exit 5' 2>&1) && rc=0 || rc=$?
    is "$rc" 5 "podman run: the exit status comes through"
    cid=$("${P[@]}" --runtime "$RT" run -d "$IMG" sleep 60 2>"$T/.perr") && rc=0 || rc=$?
    ok "$rc" "podman run -d"
    out=$("${P[@]}" --runtime "$RT" exec "$cid" sh -c 'echo in-exec; cat /proc/1/cmdline | tr "\0" " "' 2>"$T/.perr") && rc=0 || rc=$?
    [ "$rc" = 0 ] || sed 's/^/# /' "$T/.perr"
    is "$out" "$(printf 'in-exec\nsleep 60 ')" "podman exec"
    # -t under a real terminal: the pty's master goes to conmon over --console-socket
    if command -v script >/dev/null; then
      out=$(timeout 30 script -qec "$(printf '%q ' "${P[@]}" --runtime "$RT") exec -it $cid sh -c 'tty; echo on-tty'" /dev/null 2>&1 | tr -d '\r\000' | tr '\n' ' ') && rc=0 || rc=$?
      like "$out" "/dev/pts/[0-9]+ on-tty" "podman exec -it under a terminal"
      out=$(timeout 30 script -qec "$(printf '%q ' "${P[@]}" --runtime "$RT") run --rm -it $IMG sh -c 'tty; echo on-tty'" /dev/null 2>&1 | tr -d '\r\000' | tr '\n' ' ') && rc=0 || rc=$?
      like "$out" "/dev/pts/[0-9]+ on-tty" "podman run --rm -it under a terminal"
    else
      skip "script(1) is not installed: podman -it is not tested"
    fi
    "${P[@]}" --runtime "$RT" stop -t 1 "$cid" >/dev/null 2>"$T/.perr" && rc=0 || rc=$?
    ok "$rc" "podman stop"
    "${P[@]}" --runtime "$RT" rm "$cid" >/dev/null 2>"$T/.perr" && rc=0 || rc=$?
    ok "$rc" "podman rm"
    out=$("${P[@]}" --runtime "$RT" run --rm --read-only "$IMG" sh -c 'touch /x 2>/dev/null || echo ro; touch /tmp/y && echo tmp-rw' 2>"$T/.perr") && rc=0 || rc=$?
    is "$out" "$(printf 'ro\ntmp-rw')" "podman run --read-only"
    port=$((20000 + $$ % 20000))
    "${P[@]}" --runtime "$RT" run -d --name web -p "127.0.0.1:$port:8080" "$IMG" \
      sh -c 'echo served | nc -l -p 8080' >/dev/null 2>"$T/.perr" && rc=0 || rc=$?
    ok "$rc" "podman run -d -p (a published port)"
    out=""
    for i in $(seq 100); do
      out=$(python3 -c 'import socket,sys; s=socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1); print(s.recv(64).decode().strip())' "$port" 2>/dev/null) && break
      tick
    done
    is "$out" "served" "... reachable from the host"
    "${P[@]}" --runtime "$RT" rm -f -t 0 web >/dev/null 2>&1
  fi
fi
