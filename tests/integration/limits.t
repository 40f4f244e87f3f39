#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Resource limits on this host. CI machines mount cgroup v1 or a hybrid
# tree, where no normal user can be given controllers: every limit asked
# for must be refused before anything starts, with the reason (v1) and the
# fix (the kernel command line), never ignored; without a limit the
# container runs, in no cgroup of its own, and `check` says so. (Limits
# applied for real are tested in the VM, tests/vm/.) The flags' syntax and
# docker's rules are checked here too.
. "$(dirname "$0")/lib.sh"
require_fixtures

busybox_store

# ---- the flags' own rules (any host)
H run --rm --memory 1x "$BB" true
like "$rc:$err" "^125:.*--memory 1x: give a size in bytes, or with a unit" "--memory 1x: a usage error"
H run --rm --memory 2m "$BB" true
like "$err" "--memory: at least 6m" "--memory below 6m is refused, as docker"
H run --rm --memory 64m --memory-swap 32m "$BB" true
like "$err" "--memory-swap \(memory plus swap\) must be at least --memory" "--memory-swap below --memory"
H run --rm --memory-swap 1g "$BB" true
like "$err" "--memory-swap is memory plus swap: give --memory too" "--memory-swap alone"
H run --rm --cpus 0 "$BB" true
like "$err" "--cpus 0: give a number of CPUs from 0.01 up" "--cpus 0"
H run --rm --cpuset-cpus 3-1 "$BB" true
like "$err" "--cpuset-cpus 3-1: give CPU numbers and ranges" "--cpuset-cpus backwards"
H run --rm --cpu-shares 1 "$BB" true
like "$err" "--cpu-shares: from 2 to 262144" "--cpu-shares 1"
H run --rm --cgroups=disabled --memory 64m "$BB" true
like "$err" "--cgroups=disabled with a limit" "--cgroups=disabled with a limit"
H run --rm --cgroup-parent ../escape "$BB" true
like "$err" "--cgroup-parent \.\./escape: a path of names" "--cgroup-parent with .. is refused"
H run --rm --cgroups=sometimes "$BB" true
like "$err" "--cgroups=sometimes: use enabled or disabled" "--cgroups takes enabled or disabled"

H check --format json
row=$(check_row "$out" cgroups)
if [ "$(json_get "$out" 'd["host"]["cgroups"]["version"]')" = v2 ]; then
  skip "this host mounts cgroup v2: the refusal for v1 hosts does not apply (tests/vm/ covers v2)"
  exit 0
fi

# ---- v1 or hybrid: every limit refused, nothing made
like "$row" "^missing	cgroup (v1|hybrid) host: .*containers run without a cgroup of their own	boot with systemd.unified_cgroup_hierarchy=1" \
  "check: limits missing, containers without a cgroup of their own, and the fix"
for flag in "--memory 64m" "--memory-reservation 32m" "--cpus 0.5" "--cpu-shares 512" \
  "--cpuset-cpus 0" "--pids-limit 100"; do
  # shellcheck disable=SC2086
  H run --rm $flag "$BB" echo ran
  is "$rc:$out" "125:" "run $flag: refused (125), nothing ran"
  like "$err" "^hutch: ${flag%% *} cannot be applied: this host mounts cgroup v1" "run $flag: the message names the flag and v1"
  like "$err" "systemd.unified_cgroup_hierarchy=1 to GRUB_CMDLINE_LINUX" "run $flag: and the fix"
done
H run -d --memory 64m --pids-limit 50 "$BB" sleep 100
like "$rc:$err" "^125:hutch: --memory, --pids-limit cannot be applied" "run -d: refused too, naming both"
H create --cpus 1 "$BB" true
is "$rc" 125 "create with a limit: refused"
H ps -aq
is "$out" "" "no container was made by any of them"

# ---- no limit: it runs, without a cgroup of its own
H run -d --name free "$BB" sleep 100
is "$rc" 0 "without a limit the container runs"
H inspect free
pid1=$(json_get "$out" 'd[0]["State"]["Pid"]')
mon=$(json_get "$out" 'd[0]["State"]["MonitorPid"]')
is "$(cat "/proc/$pid1/cgroup")" "$(cat "/proc/$mon/cgroup")" "its pid 1 is in its monitor's cgroups: none of its own"
H stats --no-stream
like "$out" "free +-- +-- +-- +[0-9.]+ [a-zA-Z]+ / [0-9.]+ [a-zA-Z]+ +-- +--" "stats: no numbers of its own but its network's"
like "$err" "without a cgroup of their own \(this host mounts cgroup v1" "and says why"
H rm -f free
H run --rm --cgroups=disabled "$BB" echo ran
is "$rc:$out" "0:ran" "--cgroups=disabled runs"
