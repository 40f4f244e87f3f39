#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# hutch run -it under a real terminal (a tmux pane): the shell's prompt,
# Ctrl-C reaching the command, window size changes, the exit status, and
# the user's terminal mode restored afterwards. Then under script(1), with
# keys piped in. Waiting is on what the pane shows, never on time.
. "$(dirname "$0")/lib.sh"
require_fixtures

R=$T/store
BB=localhost/hutch-test/busybox:latest
"$HUTCH" --root "$R" load -q -i "$FIX/busybox.docker.tar" 2>/dev/null
at_exit '"$HUTCH" --root "$R" unshare rm -rf "$R" 2>/dev/null'

if ! command -v tmux >/dev/null; then
  skip "tmux is not installed (helpers/debian-packages installs it)"
  exit 0
fi
tm() { tmux -S "$T/tmux.sock" "$@"; }
at_exit 'tm kill-server 2>/dev/null'
# wait_for REGEX: until the pane shows a line matching it (10 s at most)
wait_for() {
  local i
  for i in $(seq 200); do
    tm capture-pane -p -t t | grep -Eq -- "$1" && return 0
    read -r -t 0.05 _ <>"$T/tick" || true # poll the pane every 50 ms
  done
  echo "# timed out waiting for /$1/; the pane:"
  tm capture-pane -p -t t | sed 's/^/#   /'
  return 1
}
mkfifo "$T/tick"
tm new-session -d -s t -x 100 -y 30 "env -i PATH=$PATH HOME=$T TERM=xterm bash --norc --noprofile"
tm send-keys -t t "PS1='host\$ '; stty -g >$T/stty-before" Enter
wait_for '^host\$'
tm send-keys -t t "$HUTCH --root $R run --rm -it $BB sh; echo hutch-exit=\$?" Enter
wait_for '^/ #'
ok $? "-it gives the image's shell a prompt"
tm send-keys -t t 'tty; stty size' Enter
wait_for '^30 100$'
ok $? "the command's terminal has the window's size"
like "$(tm capture-pane -p -t t)" "/dev/pts/0" "it is a terminal of the container's own devpts"
tm send-keys -t t 'sleep 4242' Enter
# the ^C once sleep runs: before, the shell would take it and then start sleep
for i in $(seq 200); do
  pgrep -u "$(id -u)" -fx 'sleep 4242' >/dev/null && break
  read -r -t 0.05 _ <>"$T/tick" || true
done
tm send-keys -t t C-c
tm send-keys -t t 'echo sleep-status=$?' Enter
wait_for '^sleep-status=130'
ok $? "Ctrl-C reaches the command (sleep ends with 130) and the shell lives on"
tm resize-window -t t -x 80 -y 20
tm send-keys -t t 'stty size' Enter
wait_for '^20 80$'
ok $? "a window size change reaches the container's terminal"
tm send-keys -t t 'exit 7' Enter
wait_for '^hutch-exit=7'
ok $? "the shell's exit status is hutch's"
tm send-keys -t t "stty -g >$T/stty-after; echo saved" Enter
wait_for '^saved'
is "$(cat "$T/stty-after")" "$(cat "$T/stty-before")" "the user's terminal mode is restored"

# Ctrl-C with -t but no -i: the key is the host terminal's, hutch passes the signal on.
tm send-keys -t t "$HUTCH --root $R run --rm -t $BB sh -c 'echo started; sleep 1000'; echo t-exit=\$?" Enter
wait_for '^started'
tm send-keys -t t C-c
wait_for 't-exit=130'
ok $? "-t without -i: Ctrl-C ends the command, 130"

# A command that fails to start, under -it: the message, 127, the terminal back.
tm send-keys -t t "$HUTCH --root $R run --rm -it $BB no-such; echo nf-exit=\$?" Enter
wait_for '^nf-exit=127'
ok $? "-it with a missing command exits 127"
like "$(tm capture-pane -p -t t)" "no-such: No such file or directory inside the container" "and says so"
tm send-keys -t t "stty -g >$T/stty-after; echo saved2" Enter
wait_for '^saved2'
is "$(cat "$T/stty-after")" "$(cat "$T/stty-before")" "the terminal mode is restored after a failed start too"

# script(1): keys piped in through a terminal, output through the container's.
out=$(printf 'echo $((6*7))\nexit 5\n' | script -qec "$HUTCH --root $R run --rm -it $BB sh" /dev/null)
rc=$?
is "$rc" 5 "under script(1): the exit status"
like "$out" $'42\r' "the output comes through the container's terminal (CR LF)"
out=$(printf 'echo pid=$$\nexit 3\n' | script -qec "$HUTCH --root $R run --rm -it --init=false $BB sh" /dev/null)
rc=$?
is "$rc" 3 "--init=false -it: the exit status"
like "$out" $'pid=1\r' "the shell is pid 1 and has the terminal"
out=$(script -qec "$HUTCH --root $R run --rm -t $BB sh -c 'test -t 0 && test -t 1 && echo tty-ok'" /dev/null </dev/null)
like "$out" "tty-ok" "-t: stdin and stdout of the command are terminals"
out=$("$HUTCH" --root "$R" run --rm -t "$BB" sh -c 'echo out' </dev/null | od -c | head -1)
like "$out" 'o   u   t  \\r  \\n' "-t without a terminal of ours still works (output through the pty)"

# A command that writes without end, to a reader that stops: hutch keeps
# what the reader cannot take, stops reading the terminal (so the command
# waits on it), and still passes a signal on at once.
out=$("$HUTCH" --root "$R" run --rm -t "$BB" seq 200000 </dev/null | tr -d '\r' | sed -n '1p;$p;$=' | tr '\n' ' ')
is "$out" "1 200000 200000 " "-t: 200000 lines through the terminal to a pipe, none lost or doubled"
# pipe_holds FD: how many bytes wait in the pipe on our FD
pipe_holds() {
  python3 -c 'import array,fcntl,sys,termios; b=array.array("i",[0]); fcntl.ioctl(int(sys.argv[1]),termios.FIONREAD,b); print(b[0])' "$1"
}
# pid1_of NAME: the container's pid 1, once it runs (10 s at most)
pid1_of() {
  local i p
  for i in $(seq 200); do
    p=$("$HUTCH" --root "$R" inspect "$1" 2>/dev/null | python3 -c \
      'import json,sys; print(json.load(sys.stdin)[0]["State"]["Pid"])' 2>/dev/null)
    [ "${p:-0}" -gt 0 ] && { echo "$p"; return; }
    read -r -t 0.05 _ <>"$T/tick" || true
  done
  echo 0
}
# gone_within PID N: the process has gone within N 50 ms ticks
gone_within() {
  local i
  for i in $(seq "$2"); do
    [ -d "/proc/$1" ] || return 0
    read -r -t 0.05 _ <>"$T/tick" || true
  done
  return 1
}
# spew LABEL WRAPPER...: `yes` in a container, our stdout a pipe whose
# reader stops once it is full; then Ctrl-C's signal to hutch.
spew() {
  local label=$1 hp pid1 i n=0
  shift
  mkfifo "$T/spew"
  "$@" >"$T/spew" 2>/dev/null &
  hp=$!
  exec 4<"$T/spew"
  pid1=$(pid1_of spew)
  for i in $(seq 200); do
    n=$(pipe_holds 4)
    [ "$n" -ge 49152 ] && break
    read -r -t 0.05 _ <>"$T/tick" || true
  done
  # hutch itself (under script(1), a descendant of the shell it starts;
  # the oldest of those with this command line: its own children are forks)
  kill -INT "$(pgrep -o -f "^$HUTCH --root $R run --rm .*--name spew")"
  gone_within "$pid1" 100
  ok $? "$label: SIGINT ends the container within 5 s while the reader is stopped (pipe: $n bytes)"
  cat <&4 >/dev/null &
  gone_within "$hp" 100
  ok $? "$label: once the reader takes the rest, hutch ends"
  kill -KILL "$hp" 2>/dev/null # when it did not: the test goes on
  wait "$hp"
  is "$?" 130 "$label: and exits 130"
  exec 4<&-
  wait
  rm -f "$T/spew"
}
spew "our stdout a pipe" "$HUTCH" --root "$R" run --rm -t --name spew "$BB" yes
spew "our stdout script(1)'s terminal" script -qec "$HUTCH --root $R run --rm -t --name spew $BB yes" /dev/null
# without -t the output goes through the monitor too (to the log and on)
spew "no -t, our stdout a pipe" "$HUTCH" --root "$R" run --rm --name spew "$BB" yes
# a fast reader: the terminal is read 64 KiB a round, so signals still pass
"$HUTCH" --root "$R" run --rm -t --name spew "$BB" yes >/dev/null 2>&1 &
hp=$!
pid1=$(pid1_of spew)
kill -INT "$hp"
gone_within "$hp" 100
ok $? "a fast reader: SIGINT ends the container and hutch within 5 s"
wait "$hp"
is "$?" 130 "and it exits 130"
is "$(ls "$R/containers" | wc -l)" 0 "every container is gone"
