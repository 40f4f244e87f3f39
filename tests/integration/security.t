#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# What a container can learn of, or do to, the host through hutch's own
# processes (issue 25): pid 1's command line and environment, an exec in
# progress seen from inside with CAP_SYS_PTRACE (its environment, memory,
# fds and the hutch binary), the command line a password was given on.
. "$(dirname "$0")/lib.sh"
require_fixtures

busybox_store
mkdir "$T/hostdir"

# ---- pid 1 shows nothing of the host
export HUTCH_TEST_TOKEN=tok-$$-secret
H run --rm --creds alice:pw-$$-secret -v "$T/hostdir:/mnt" "$BB" \
  sh -c 'tr "\0" " " </proc/1/cmdline; echo; cat /proc/1/environ 2>&1 >/dev/null | head -c 0; env'
first=$(printf '%s\n' "$out" | head -n 1)
is "$first" "hutch-init " "/proc/1/cmdline is a neutral name"
unlike "$out" "$T|pw-$$-secret|$HUTCH" "no host path, -v path or password in the container's view"
unlike "$out" "tok-$$-secret" "the caller's environment is not the container's"
H run --rm "$BB" sh -c 'cat /proc/1/environ; echo rc=$?'
like "$out" "rc=1" "pid 1's environment cannot be read"

# ---- input that would land in a file or a syscall is checked first
H run --rm -u 4294967295 "$BB" id -u
is "$rc" 125 "-u 4294967295 ((uid_t) -1, 'unchanged') is refused"
like "$err" "-u \"4294967295\": uid 4294967295 is not a valid id" "naming the flag and the id"
H run --rm -u 0:4294967295 "$BB" id -g
like "$rc:$err" "125:.*gid 4294967295 is not a valid id" "and so is the gid"
H run --rm -u 99999999 "$BB" id -u
like "$rc:$err" "125:.*uid 99999999 is not mapped in the container, whose ids are 0 to [0-9]+" \
  "an id beyond the mapping is refused with the range"
H run --rm -u 1000:1000 "$BB" sh -c 'echo $(id -u):$(id -g)'
is "$out" "1000:1000" "a mapped id runs"
H run --rm --hostname "$(printf 'evil\n1.2.3.4 bank.example')" "$BB" cat /etc/hosts
like "$rc:$err" "125:hutch: --hostname \"evil.n1.2.3.4 bank.example\": a hostname is up to 64" \
  "a hostname with a newline is refused (RFC 1123)"
for bad in -dash dash- a..b "$(printf 'x%.0s' $(seq 65))" "under_score"; do
  H create --hostname "$bad" "$BB" true
  is "$rc" 125 "--hostname \"$bad\" is refused"
done
H run --rm --hostname web-1.example "$BB" hostname
is "$out" "web-1.example" "a valid hostname is the container's"
# env entries: a name is one line of printable characters, never empty;
# a value may span lines (docker allows it) but never holds a NUL
H run --rm -e "$(printf 'EVIL\nLD_PRELOAD')=/x.so" "$BB" true
like "$rc:$err" '^125:hutch: -e: the variable name "EVIL\\nLD_PRELOAD" has a control character' \
  "-e with a newline in the name is refused, naming the flag"
H run --rm -e "$(printf 'A\rB')=1" "$BB" true
like "$rc:$err" '^125:.*-e: the variable name "A\\rB" has a control character' "and a carriage return"
H run --rm -e =value "$BB" true
like "$rc:$err" '^125:hutch: -e "=value": no variable name' "-e with '=' first (no name) is refused"
H run --rm -e "$(printf 'MULTI=a\nb')" "$BB" sh -c 'printf "%s" "$MULTI" | od -c | head -1'
like "$rc:$out" '^0:.*a +\\n +b' "a value with a newline is the container's, whole"
printf 'GOOD=1\nA\001B=2\n' >"$T/env-ctl"
H run --rm --env-file "$T/env-ctl" "$BB" true
like "$rc:$err" "^125:.*--env-file $T/env-ctl, line 2: the variable name \"A\\\\001B\" has a control character" \
  "--env-file: a control character in a name is refused, naming the file and line"
printf 'A=1\0B=2\n' >"$T/env-nul"
H run --rm --env-file "$T/env-nul" "$BB" true
like "$rc:$err" "^125:.*--env-file $T/env-nul: not a text file \\(a NUL byte" "--env-file: a NUL is refused"
printf '=x\n' >"$T/env-eq"
H run --rm --env-file "$T/env-eq" "$BB" true
like "$rc:$err" "^125:.*--env-file $T/env-eq, line 1 \"=x\": no variable name" "--env-file: a line with no name is refused"
H run --rm --name "$(printf 'a\nb')" "$BB" true
like "$rc:$err" '^125:.*--name' "--name with a newline is refused"
H run --rm -w relative "$BB" pwd
like "$rc:$err" "125:hutch: -w \"relative\": the working directory must be an absolute path" "-w must be absolute"
H run -d --name target "$BB" sleep 1000
H exec -u 4294967295 target id -u
like "$rc:$err" "125:.*uid 4294967295 is not a valid id" "exec -u 4294967295 is refused too"
H exec -e "$(printf 'X\nY')=1" target true
like "$rc:$err" '^125:.*-e: the variable name "X\\nY" has a control character' "exec -e with a newline in the name is refused"
H exec -w rel target pwd
is "$rc" 125 "exec -w relative is refused"
H rm -f target
is "$(H ps -aq; echo "$out")" "" "nothing was left by the refused runs"

# ---- -v HOST:CTR:ro is read-only all the way down: the host's /dev has
# /dev/shm (a world-writable tmpfs) and /dev/pts mounted below it
H run --rm -v /dev:/hostdev:ro "$BB" sh -c \
  'touch /hostdev/shm/hutch-ro-test; echo rc=$?; awk "\$5 ~ \"^/hostdev\" {print \$5, \$6}" /proc/self/mountinfo'
like "$out" "rc=1" "a mount below a :ro bind cannot be written (the host's /dev/shm)"
ok "$([ ! -e /dev/shm/hutch-ro-test ]; echo $?)" "and nothing was written on the host"
rm -f /dev/shm/hutch-ro-test
like "$out" "/hostdev/shm ro" "/hostdev/shm is read-only in the container's mountinfo"
unlike "$out" "/hostdev[^ ]* rw" "and no mount under /hostdev is writable"

# ---- --creds on the host's command line: starred out while hutch runs
H run -d --name quiet --creds alice:pw-$$-secret "$BB" sleep 1000
H inspect quiet
mon=$(json_get "$out" 'd[0]["State"]["MonitorPid"]')
cmdline=$(tr '\0' ' ' <"/proc/$mon/cmdline")
like "$cmdline" "--creds alice:\*+ " "the monitor's command line keeps the user but not the password"
unlike "$cmdline" "pw-$$-secret" "and the password is nowhere in it"
# the monitor runs libslirp: confined as slirp4netns --enable-seccomp is
is "$(grep -E '^(NoNewPrivs|Seccomp):' "/proc/$mon/status" | tr -s '\t\n' '  ')" "NoNewPrivs: 1 Seccomp: 2 " \
  "the monitor runs under a seccomp filter, with no_new_privs"
# and sees only what it still writes, as slirp4netns --enable-sandbox
view=$(cd "/proc/$mon/root" && find . -path ./proc -prune -o -print | sort | tr '\n' ' ')
like "$view" "^\. \./dev \./dev/null " "the monitor's root is a view of its own: /dev/null,"
like "$view" " \.$R/containers " "the containers' records,"
like "$view" " \.$XDG_RUNTIME_DIR/hutch/containers " "and the live state"
ok "$([ ! -e "/proc/$mon/root$HOME" ] && [ ! -e "/proc/$mon/root/etc/passwd" ] && [ ! -e "/proc/$mon/root$HUTCH" ]; echo $?)" \
  "not your home, /etc or the hutch binary"
is "$(ls "/proc/$mon/root/proc")" "$mon
self
thread-self" "of /proc, only its own pid"
H rm -f quiet

# ---- an exec in progress, seen from a container with CAP_SYS_PTRACE
# The container's own command looks for exec's waiter (the process of
# ours it can see) and tries what a hostile container would.
spy='
for i in $(seq 2000); do # the sleep that exec started, and its parent: the waiter
  for q in /proc/[0-9]*; do
    read -r c <"$q/comm" 2>/dev/null
    [ "$c" = sleep ] && break 2
  done
  usleep 5000
done
p=/proc/$(grep PPid: $q/status | cut -f2)
read -r c <$p/comm
echo "found=$c"
echo "cmdline=$(tr "\0" " " <$p/cmdline)"
cat $p/environ >/dev/null 2>&1; echo "environ=$?"
a=$(head -n 1 $p/maps 2>/dev/null | cut -d- -f1)
dd if=$p/mem bs=4096 count=1 skip=$((0x${a:-0} / 4096)) 2>/dev/null | wc -c | grep -qx 4096; echo "mem=$?"
readlink $p/exe >/dev/null 2>&1; echo "exe=$?"
head -c 4 $p/exe 2>/dev/null | grep -q ELF; echo "exeopen=$?"
ls $p/fd >/dev/null 2>&1; echo "fd=$?"
w=$(grep CapEff $p/status | cut -f2); o=$(grep CapEff /proc/$$/status | cut -f2)
echo "caps=$w own=$o same=$([ "$w" = "$o" ] && echo yes)"
echo "nnp=$(grep NoNewPrivs $p/status | cut -f2) seccomp=$(grep ^Seccomp: $p/status | cut -f2)"
echo "cmdfd1=$(readlink $q/fd/1)"
echo DONE
exec sleep 1000'
H run -d --name spy --cap-add SYS_PTRACE "$BB" sh -c "$spy"
HUTCH_TEST_TOKEN=tok-$$-secret "$HUTCH" --root "$R" exec spy sleep 1000 >"$T/exec.out" 2>&1 &
execpid=$!
for i in $(seq 400); do # until the spy is done (20 s at most)
  H logs spy
  case $out in *DONE*) break ;; esac
  tick
done
kill "$execpid" 2>/dev/null
wait "$execpid" 2>/dev/null
H logs spy
like "$out" "found=" "the spy found exec's waiter"
like "$out" "found=hutch-exec" "whose name is neutral"
like "$out" "cmdline=hutch-exec *$" "its command line is a neutral name"
like "$out" "environ=1" "its environment cannot be read (not dumpable)"
like "$out" "mem=1" "nor its memory"
like "$out" "exe=1" "nor /proc/PID/exe, the hutch binary, resolved"
like "$out" "exeopen=1" "nor the hutch binary opened (to be written once it ends)"
like "$out" "fd=1" "nor its fds listed"
like "$out" "caps=[0-9a-f]+ own=[0-9a-f]+ same=yes" "its capabilities are the container's own, no more"
like "$out" "nnp=1 seccomp=2" "no_new_privs and a seccomp filter, as the container's processes"
like "$out" "cmdfd1=pipe:" "the command's stdout is a pipe of hutch's, not the caller's file"
H rm -f spy

# ---- the hutch binary cannot be written from inside (CVE-2019-5736 class).
# A copy the test user owns, as a user-installed hutch is: container root
# is that user on the host, so only hutch's own care stands in the way.
mkdir "$T/bin"
cp "$HUTCH" "$T/bin/hutch"
sum=$(sha256sum <"$T/bin/hutch")
owner_hutch=$HUTCH
HUTCH=$T/bin/hutch
writer='
try() { # try NAME PATH: open PATH for writing (no truncation)
  if (: 1<>"$2") 2>/dev/null; then echo "$1=WRITABLE"; else echo "$1=refused"; fi
}
try pid1exe /proc/1/exe
for f in /proc/1/map_files/*; do try pid1map "$f"; done
for i in $(seq 2000); do
  for q in /proc/[0-9]*; do
    read -r c <"$q/comm" 2>/dev/null
    [ "$c" = sleep ] && [ "$q" != /proc/$$ ] && break 2
  done
  usleep 5000
done
p=/proc/$(grep PPid: $q/status | cut -f2)
echo "found=$(cat $p/comm)"
try execexe $p/exe
for f in $p/map_files/*; do try execmap "$f"; done
try execroot "$p/root'"$T"'/bin/hutch"
try pid1root "/proc/1/root'"$T"'/bin/hutch"
hold() { # hold FD PATH: keep PATH open for reading (a failed exec N<
  # would end this shell, so look first)
  if (: <"$2") 2>/dev/null; then eval "exec $1<\"\$2\""; echo "$1=held"; else echo "$1=unopened"; fi
}
hold 3 $p/exe
hold 5 /proc/1/exe
while [ -e $p ]; do usleep 20000; done # exec has ended: is its binary free now?
[ -e /proc/self/fd/3 ] && try heldexec /proc/self/fd/3 || echo heldexec=refused
[ -e /proc/self/fd/5 ] && try heldpid1 /proc/self/fd/5 || echo heldpid1=refused
echo DONE
exec sleep 1000'
H run -d --name writer --cap-add SYS_PTRACE "$BB" sh -c "$writer"
H exec writer sleep 2
for i in $(seq 400); do # until the writer is done (20 s at most)
  H logs writer
  case $out in *DONE*) break ;; esac
  tick
done
printf '%s\n' "$out" | sed 's/^/# writer: /'
like "$out" "found=hutch-exec" "the writer found exec's waiter"
unlike "$out" "WRITABLE" "no way in writes the hutch binary: /proc/PID/exe, map_files, /proc/PID/root, an fd held past exec's end"
like "$out" "pid1exe=refused" "/proc/1/exe cannot be opened for writing"
like "$out" "execexe=refused" "nor the exec waiter's /proc/PID/exe"
like "$out" "heldexec=refused" "nor an fd of it kept until exec has ended"
H rm -f writer
is "$(sha256sum <"$T/bin/hutch")" "$sum" "the hutch binary is unchanged"
HUTCH=$owner_hutch
