#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Only stdio reaches a container's command, whatever the caller's shell
# has open: with close_range(CLOSE_RANGE_CLOEXEC), and with its fallback
# (the /proc/self/fd walk of kernels before 5.11) forced by a seccomp
# filter that makes close_range fail as those kernels do. The filter needs
# no_new_privs, under which newuidmap cannot work: it is exec that runs
# under it, which joins a running container without it.
. "$(dirname "$0")/lib.sh"
require_fixtures

R=$T/store
BB=localhost/hutch-test/busybox:latest
NOSYS=$HUTCH_TEST_BUILDDIR/tests/no-syscall
"$HUTCH" --root "$R" load -q -i "$FIX/busybox.docker.tar" 2>/dev/null
at_exit '"$HUTCH" --root "$R" rm -f fds >/dev/null 2>&1; "$HUTCH" --root "$R" unshare rm -rf "$R" 2>/dev/null'
inside='ls /proc/self/fd | tr "\n" " "'

out=$("$HUTCH" --root "$R" run --rm "$BB" sh -c "$inside" 7</dev/null 200>"$T/leak" 2>&1)
is "$out" "0 1 2 3 " "run: fds 7 and 200 of the caller's shell do not reach the command (3 is ls's own)"
"$HUTCH" --root "$R" run -d --name fds "$BB" sleep 1000 >/dev/null
out=$("$HUTCH" --root "$R" exec fds sh -c "$inside" 7</dev/null 200>"$T/leak" 2>&1)
is "$out" "0 1 2 3 " "exec: neither do they there"
for e in ENOSYS EINVAL; do
  out=$("$NOSYS" "close_range:$e" -- "$HUTCH" --root "$R" exec fds sh -c "$inside" 7</dev/null 200>"$T/leak" 2>&1)
  is "$out" "0 1 2 3 " "exec with close_range failing with $e (the /proc/self/fd walk): neither"
done
out=$("$NOSYS" close_range -- "$HUTCH" --root "$R" exec fds sh -c 'echo $$' 2>&1)
like "$out" "^[0-9]+$" "a command runs under the filter"
"$HUTCH" --root "$R" rm -f fds >/dev/null
