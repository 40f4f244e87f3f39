#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# In the VM, as the test user, in a delegated cgroup v2 subtree (limits.sh
# made it): "ok - ..." or "not ok - ..." a line.
# usage: limits-user.sh full|partial HUTCH FIXTURES STORE
part=$1 hutch=$2 fix=$3 store=$4
H() { "$hutch" --root "$store" "$@"; }
check() { # STATUS DESCRIPTION
  if [ "$1" = 0 ]; then echo "ok - $part: $2"; else echo "not ok - $part: $2"; fi
}
has() { # TEXT REGEX
  printf '%s\n' "$1" | grep -Eq -- "$2"
}

H load -q -i "$fix/busybox.docker.tar" 2>&1 | sed "s/^/#   load: /"
out=$(H check 2>&1)
case $part in
  full)
    has "$out" "resource limits +cgroup v2 through the delegated subtree hutch runs in; controllers: cpuset cpu io memory pids"
    check $? "check: cgroup v2, the delegated subtree, every controller"
    echo "$out" | grep "resource limits" | sed 's/^/#   /'
    out=$(H run --rm localhost/hutch-test/busybox:latest sh -c 'echo ran-in-vm; cat /proc/self/cgroup' 2>&1)
    has "$out" "^ran-in-vm$"
    check $? "a container runs as the user inside the VM"
    echo "$out" | sed 's/^/#   /'
    ;;
  partial)
    has "$out" "controllers: cpu pids"
    check $? "check: only cpu and pids delegated"
    out=$(H run --rm --memory 64m localhost/hutch-test/busybox:latest true 2>&1)
    rc=$?
    [ "$rc" = 125 ]
    check $? "--memory without the memory controller: refused (125)"
    has "$out" "--memory cannot be applied: the memory controller is not delegated to you"
    check $? "the message names the controller"
    has "$out" "Delegate=cpu cpuset io memory pids"
    check $? "and the fix, the Delegate= drop-in"
    echo "$out" | sed 's/^/#   /'
    ;;
esac
