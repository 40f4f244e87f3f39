#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# hutch run as a user runs it: output, exit codes, signals, pid 1, ids,
# the masked /proc, capabilities, fds and cwd, binds resolved inside the
# image, both overlay drivers, --rm.
. "$(dirname "$0")/lib.sh"
require_fixtures debian

R=$T/store
DEB=localhost/hutch-test/debian:bookworm
BB=localhost/hutch-test/busybox:latest
H() { hutch --root "$R" "$@"; }
procs() { pgrep -u "$(id -u)" -f "$R" | wc -l; } # ours alone: other tests run beside
procs_before=$(procs)
"$HUTCH" --root "$R" load -q -i "$FIX/debian.oci.tar" 2>/dev/null
"$HUTCH" --root "$R" load -q -i "$FIX/busybox.docker.tar" 2>/dev/null
at_exit '"$HUTCH" --root "$R" unshare rm -rf "$R" 2>/dev/null'

H run --rm "$DEB" echo hello
is "$rc:$out" "0:hello" "run prints what the command prints"
H run --rm "$BB" sh -c 'exit 3'
is "$rc" 3 "the command's exit status is hutch's"
H run --rm "$DEB" no-such-command
is "$rc" 127 "a command not in the image exits 127"
like "$err" "no-such-command: No such file or directory inside the container" "and says so"
H run --rm "$DEB" /etc/passwd
is "$rc" 126 "a file that is not executable exits 126"
H run --rm "$DEB" sh -c 'kill -TERM $$'
is "$rc" 143 "a command killed by SIGTERM exits 143"
H run --rm nosuchimage true
is "$rc" 125 "an image not in the store exits 125"
like "$err" "docker.io/library/nosuchimage:latest\" is not in the store" "naming it"

H run --rm debian true
like "$err" "docker.io/library/debian:latest\" is not in the store; it has localhost/hutch-test/debian:bookworm" \
  "a short name not in the store: the image of that name it has"

# --env-file, -e, --tmpfs, --name
printf '# a comment\n\n  A=1\nB="quoted"\r\nFROM_HOST\nNOT_SET_ANYWHERE\n' >"$T/env"
FROM_HOST=yes H run --rm --env-file "$T/env" -e A=2 "$BB" sh -c 'echo "$A $B $FROM_HOST ${NOT_SET_ANYWHERE-unset}"'
is "$out" '2 "quoted" yes unset' "--env-file: NAME=VALUE as written, NAME from our environment, -e wins"
printf 'BAD NAME=1\n' >"$T/env2"
H run --rm --env-file "$T/env2" "$BB" true
like "$rc:$err" "^125:.*line 1: the variable name \"BAD NAME\" has white space" "--env-file: a bad line is named"
H run --rm --tmpfs /scratch:size=1m,mode=0700 --tmpfs /ro:ro -v "$T/env:/scratch/env:ro" "$BB" \
  sh -c 'grep -E " /(scratch|ro) " /proc/mounts | cut -d" " -f2-4; stat -c %a /scratch; head -1 /scratch/env; touch /ro/x'
like "$out" "/scratch tmpfs rw,nosuid,nodev,noexec,relatime,size=1024k,mode=700" "--tmpfs PATH:size=,mode=: nosuid,nodev,noexec by default"
like "$out" "/ro tmpfs ro," "--tmpfs PATH:ro"
like "$out" "# a comment" "a -v below a --tmpfs lands on it"
like "$err" "/ro/x: Read-only file system" "a read-only tmpfs"
H run --rm --tmpfs /x:bogus "$BB" true
like "$rc:$err" "^125:.*unknown option \"bogus\"" "--tmpfs: an unknown option is refused"
H run --name web "$BB" true
is "$rc" 0 "--name"
H run --rm --name web "$BB" true
like "$rc:$err" "^125:.*the name \"web\" is in use by container [0-9a-f]{12}" "a name in use is refused, naming its container"
H run --rm --name -bad "$BB" true
like "$rc:$err" "^125:.*--name \"-bad\"" "a name docker would refuse is refused"
H system prune
like "$rc:$out" "^0:Removed 1 exited container" "system prune removes the exited container"
H run --rm --name web "$BB" true
is "$rc" 0 "and frees its name"

out=$(echo piped | "$HUTCH" --root "$R" run --rm -i "$DEB" cat)
is "$out" piped "-i passes stdin through"
out=$(echo piped | "$HUTCH" --root "$R" run --rm "$DEB" cat)
is "$out" "" "without -i, stdin is empty"

H run --rm "$BB" sh -c 'echo $$; cat /proc/1/cmdline | tr "\0" " "; echo; hostname'
read -r pid1 <<<"$out"
is "$pid1" 2 "the command is pid 2 under hutch's init"
like "$out" "hutch" "pid 1 is the init"
like "$(sed -n 3p <<<"$out")" "^[0-9a-f]{12}$" "the hostname is the container id"
H run --rm --hostname box "$BB" hostname
is "$out" box "--hostname"
H run --rm --init=false "$BB" sh -c 'echo $$'
is "$out" 1 "--init=false makes the command pid 1"

# (the map as the host sees it: inside, the container's user namespace is
# nested in the user's namespace holder, whose ids it shows)
H run -d --name maps "$DEB" sleep 1000
H inspect -f '{{.State.Pid}}' maps
out=$(cat "/proc/$out/uid_map")
like "$out" "^ +0 +$(id -u) +1" "container root is the user"
like "$out" " +1 +[0-9]+ +65536" "and 65536 subordinate ids follow"
H rm -f maps
H run --rm "$DEB" sh -c 'id -u; stat -c %U:%G /etc/shadow'
like "$out" "^0"$'\n'"root:shadow" "root inside; files keep the image's owners (root:shadow)"
H run --rm -u nobody -w /work -e FOO=bar "$DEB" sh -c 'id -un; pwd; echo $FOO; echo $HOME'
is "$out" "$(printf 'nobody\n/work\nbar\n/nonexistent')" "-u NAME from the image, -w made, -e, HOME from its passwd"
H run --rm -u 1000:1000 "$DEB" id
is "$out" "uid=1000 gid=1000 groups=1000" "-u uid:gid need not be in the image"
H run --rm --entrypoint echo "$DEB" one two
is "$out" "one two" "--entrypoint with arguments"

H run --rm "$DEB" sh -c 'grep -E "^(CapEff|CapBnd|NoNewPrivs)" /proc/self/status'
is "$out" "$(printf 'CapEff:\t00000000a80425fb\nCapBnd:\t00000000a80425fb\nNoNewPrivs:\t1')" \
  "root keeps Docker's default capabilities, no_new_privs is set"
H run --rm -u nobody "$DEB" sh -c 'grep -E "^CapEff" /proc/self/status'
is "$out" "$(printf 'CapEff:\t0000000000000000')" "another user has none"
H run --rm "$DEB" sh -c 'ls /proc/self/fd | tr "\n" " "; readlink /proc/self/cwd'
is "$out" "0 1 2 3 /" "only stdio reaches the command (3 is ls's own), cwd inside the root"
H run --rm "$DEB" sh -c 'wc -c </proc/timer_list; wc -c </proc/keys; ls /sys/firmware | wc -l; echo x >/proc/sys/kernel/domainname && echo WROTE'
is "$out" "$(printf '0\n0\n0')" "masked: /proc/timer_list and /proc/keys read empty, /sys/firmware is empty"
like "$err" "Read-only file system" "/proc/sys is read-only"
H run --rm "$DEB" sh -c 'cat /proc/1/exe >/dev/null && echo READ'
is "$out" "" "pid 1 (a copy of hutch) cannot be opened through /proc/1/exe"
H run --rm "$DEB" sh -c 'ip link 2>/dev/null || cat /proc/net/dev | tail -n +3 | cut -d: -f1'
like "$out" "lo" "--network none: loopback only"

# Capability flags and seccomp.
H run --rm --cap-drop ALL --cap-add net_admin "$DEB" grep CapEff /proc/self/status
is "$out" "$(printf 'CapEff:\t0000000000001000')" "--cap-drop ALL --cap-add NET_ADMIN leaves NET_ADMIN alone"
H run --rm --cap-drop chown "$DEB" grep CapEff /proc/self/status
is "$out" "$(printf 'CapEff:\t00000000a80425fa')" "--cap-drop CHOWN"
H run --rm --cap-add bogus "$DEB" true
is "$rc" 125 "an unknown capability is refused"
H run --rm "$DEB" sh -c 'grep Seccomp: /proc/self/status; unshare -U true'
is "$out" "$(printf 'Seccomp:\t2')" "the default seccomp filter is on"
like "$err" "unshare failed: Operation not permitted" "and denies unshare"
H run --rm --security-opt seccomp=unconfined "$DEB" sh -c 'grep Seccomp: /proc/self/status; unshare -U true && echo nested'
is "$out" "$(printf 'Seccomp:\t0\nnested')" "--security-opt seccomp=unconfined turns it off"
H run --rm --privileged "$DEB" sh -c 'grep -E "^(CapEff|Seccomp):" /proc/self/status'
like "$out" "CapEff:.0000[0-9a-f]{2}ffffffffff" "--privileged keeps every capability of the user namespace"

# A bind through a symlink in the image lands inside the container.
mkdir "$T/bindsrc" && echo from-host >"$T/bindsrc/f"
python3 - "$T/link.tar" <<'PY'
import io, sys, tarfile
with tarfile.open(sys.argv[1], "w") as t:
    i = tarfile.TarInfo("link"); i.type = tarfile.SYMTYPE; i.linkname = "/etc"; t.addfile(i)
    i = tarfile.TarInfo("owned"); i.size = 2; i.uid = 1000; i.gid = 1000; t.addfile(i, io.BytesIO(b"x\n"))
PY
busybox_layer "$T/busybox-layer.tar"
python3 "$HUTCH_TEST_SRCDIR/tests/fixtures/mkimage.py" --out "$T/linkimg" --name localhost/hutch-test/link:latest \
  "$T/busybox-layer.tar" "$T/link.tar"
H load -q --input-format oci-dir -i "$T/linkimg"
H run --rm -v "$T/bindsrc:/link/hutch-bind" localhost/hutch-test/link sh -c 'cat /etc/hutch-bind/f; stat -c %u:%g /owned'
is "$out" "$(printf 'from-host\n1000:1000')" "-v through an image symlink lands in the container's /etc, a file of uid 1000 shows as 1000"
ok "$([ ! -e /etc/hutch-bind ]; echo $?)" "nothing on the host's /etc"

# Zombies: orphans are reparented to pid 1 and reaped.
H run --rm "$BB" sh -c 'for i in 1 2 3 4 5; do sh -c "true & true &"; done
  for i in $(seq 200); do ps -o stat | grep -q "^Z" || break; done; ps -o stat | grep -c "^Z"'
is "$out" 0 "orphans are reaped by pid 1"

# Signals reach the command: SIGINT to hutch ends it with 130.
mkfifo "$T/ready"
"$HUTCH" --root "$R" run --rm -v "$T:/t" "$BB" sh -c 'trap "exit 130" INT; echo up >/t/ready; while :; do sleep 1; done' &
pid=$!
read -r _ <"$T/ready"
kill -INT $pid
wait $pid
is "$?" 130 "SIGINT to hutch reaches the command"

# An image of 131 layers: more than one mount option page holds.
many_layer_image "$T/many" 130 localhost/hutch-test/many:latest
H load -q --input-format oci-dir -i "$T/many/oci"
is "$rc" 0 "load an image of 131 layers"
for d in overlay fuse-overlayfs copy; do
  H run --rm --rootfs-driver $d localhost/hutch-test/many sh -c 'ls /layers | wc -l; cat /layers/130'
  is "$out" "$(printf '130\nlayer 130')" "run it on $d: every layer is there"
done

# fuse-overlayfs serves the rootfs from outside the container's pid
# namespace: even --privileged cannot reach it (and the host) through /proc.
H run --rm --privileged --rootfs-driver fuse-overlayfs "$DEB" \
  sh -c 'for p in /proc/[0-9]*; do read -r c <"$p/comm"; printf "%s " "$c"; done'
is "$out" "hutch-init sh " "fuse-overlayfs is not among the container's processes"

# Drivers, --rm, and what a container leaves.
H run --rm --rootfs-driver fuse-overlayfs "$DEB" sh -c 'grep " / " /proc/mounts | cut -d" " -f3'
is "$out" fuse.fuse-overlayfs "--rootfs-driver fuse-overlayfs"
H run --rm --rootfs-driver overlay "$DEB" sh -c 'grep " / " /proc/mounts | cut -d" " -f3'
is "$out" overlay "--rootfs-driver overlay"
H run --rm --read-only "$DEB" touch /x
like "$err" "Read-only file system" "--read-only"
H run --rm "$DEB" sh -c 'mkdir -p /a/b && touch /a/b/c && chown -R 100:100 /a'
is "$rc" 0 "a container writes files of a subordinate id"
is "$(ls "$R/containers" | wc -l)" 0 "--rm leaves no container directory, even then"
H run "$DEB" sh -c 'echo data >/kept; exit 4'
is "$rc" 4 "a container without --rm"
H ps -a --format json
is "$(json_get "$out" 'd[0]["State"], d[0]["ExitCode"]')" "('exited', 4)" "leaves its container, recorded as exited 4"
H system prune
is "$rc:$(ls "$R/containers" | wc -l)" "0:0" "system prune removes it, files of subordinate ids and all"
is "$(test_mounts)" 0 "no mount is left on the host's side"
is "$(procs)" "$procs_before" "no hutch or fuse-overlayfs process is left"
