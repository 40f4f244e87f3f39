#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Inside the VM (tests/vm/boot), as root: makes cgroup v2 subtrees owned by
# the test user the way systemd's Delegate=yes does, one with every
# controller and one with cpu and pids only, then runs the user's checks
# in each, as that user, and prints them as TAP.
#
# usage (by tests/vm/boot): limits.sh BUILD_DIR FIXTURES USER
set -u
build=$1 fix=$2 user=$3
cg=/sys/fs/cgroup
scratch=/var/tmp/hutch-vm
here=$(dirname "$0")

echo "+cpu +cpuset +io +memory +pids" >$cg/cgroup.subtree_control
# a subtree delegated to USER: the directory and the three files systemd chowns
# (the user's shell goes in a leaf of it, shell/, so that each hutch can be
# started alone in a cgroup of its own, as systemd-run --user --scope does)
delegate() { # PARENT-CONTROLLERS NAME
  local d="$cg/$2.slice/test.scope"
  mkdir -p "$cg/$2.slice"
  echo "$1" >"$cg/$2.slice/cgroup.subtree_control"
  mkdir "$d"
  chown "$user:" "$d" "$d/cgroup.procs" "$d/cgroup.subtree_control" "$d/cgroup.threads"
  echo "$1" >"$d/cgroup.subtree_control"
  mkdir "$d/shell"
  chown "$user:" "$d/shell" "$d/shell/cgroup.procs" "$d/shell/cgroup.subtree_control" "$d/shell/cgroup.threads"
}
delegate "+cpu +cpuset +io +memory +pids" full
delegate "+cpu +pids" partial
mkdir -p "$scratch/xdg" "$scratch/home"
chown "$user:" "$scratch/xdg" "$scratch/home"
chmod 0700 "$scratch/xdg"

# a systemd user manager for USER, in user@UID.service as systemd would
# put it (sd_booted() wants /run/systemd/system), and a session scope that
# is not the user's, as logind makes it: hutch must ask the manager
mkdir -p /run/systemd/system
uid=$(id -u "$user")
um=$cg/user.slice/user@$uid.service
mkdir -p "$um"
echo "+cpu +cpuset +io +memory +pids" >$cg/user.slice/cgroup.subtree_control
chown -R "$user:" "$um"
sh -c "echo \$\$ >$um/cgroup.procs && exec runuser -u $user -- env -i PATH=/usr/bin:/bin \
  HOME=$scratch/home USER=$user XDG_RUNTIME_DIR=$scratch/xdg /lib/systemd/systemd --user" \
  >$scratch/user-manager.log 2>&1 &
i=0
while [ ! -S "$scratch/xdg/bus" ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
mkdir "$um/session.scope"

# each part runs in its scope, as USER; its "ok"/"not ok" lines are numbered here
n=0
failed=0
for part in full partial systemd; do
  # full and partial are hosts without a user manager (a CI job's cgroup):
  # a runtime directory with no bus in it
  leaf=$cg/$part.slice/test.scope/shell xdg=$scratch/xdg-$part
  [ "$part" = systemd ] && leaf=$um/session.scope xdg=$scratch/xdg
  mkdir -p "$xdg"
  chown "$user:" "$xdg"
  chmod 0700 "$xdg"
  out=$(sh -c "echo \$\$ >$leaf/cgroup.procs && exec runuser -u $user -- \
    env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=$scratch/home USER=$user \
    XDG_RUNTIME_DIR=$xdg TMPDIR=$scratch LANG=C.UTF-8 \
    sh $here/limits-user.sh $part $build/src/hutch $fix $scratch/store-$part $cg/$part.slice/test.scope" 2>&1)
  printf '%s\n' "$out" | while IFS= read -r line; do
    case $line in
      "ok "* | "not ok "*) ;;
      *) printf '# %s\n' "$line" ;;
    esac
  done
  for line in $(printf '%s\n' "$out" | grep -nE '^(not )?ok ' | cut -d: -f1); do
    n=$((n + 1))
    l=$(printf '%s\n' "$out" | sed -n "${line}p")
    case $l in
      "not ok "*) failed=$((failed + 1)); echo "not ok $n - ${l#not ok - }" ;;
      *) echo "ok $n - ${l#ok - }" ;;
    esac
  done
done
echo "1..$n"
[ "$failed" = 0 ]
