#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# hutch check and hutch info as an ordinary user: every row agrees with what
# this host really offers, checked against the host independently.
. "$(dirname "$0")/lib.sh"

unset XDG_RUNTIME_DIR
uid=$(id -u)
user=$(id -un)

hutch check --format json
is "$rc" 0 "check exits 0 where containers can run"
json=$out
is "$(json_get "$json" 'd["runnable"]')" True "the JSON says runnable"

row() { check_row "$json" "$1" | cut -f1; }
title() { json_get "$json" "[r['title'] for r in d['checks'] if r['id'] == '$1'][0]"; }
detail() { check_row "$json" "$1" | cut -f2; }
fix() { check_row "$json" "$1" | cut -f3; }

is "$(row kernel)" ok "kernel row"
like "$(detail kernel)" "Linux $(uname -r)" "kernel row names this kernel"
is "$(row userns)" ok "user namespaces are ok"

# The id mapping row must match /etc/subuid as the system's tools read it.
nsub=$(awk -F: -v u="$user" -v id="$uid" '($1 == u || $1 == id) { n += $3 } END { print n + 0 }' /etc/subuid)
if [ "$nsub" -ge 65536 ] && [ -u /usr/bin/newuidmap ]; then
  is "$(row idmap)" ok "id mapping is ok with subordinate ids"
  like "$(detail idmap)" "map $nsub subordinate uids" "it reports the $nsub subordinate uids"
  is "$(json_get "$json" 'd["host"]["idMapping"]["mode"]')" subordinate "mode is subordinate"
  is "$(json_get "$json" 'sum(r["count"] for r in d["host"]["idMapping"]["subuids"])')" "$nsub" \
    "JSON subuids add up to /etc/subuid"
else
  is "$(row idmap)" fallback "id mapping falls back without subordinate ids"
fi

# Kernel overlayfs in a user namespace: 5.11 and later (this machine: yes).
is "$(row rootfs)" ok "rootfs: kernel overlay with userxattr"
like "$(detail rootfs)" "userxattr" "rootfs row says userxattr"
is "$(json_get "$json" 'd["host"]["rootfs"]["driver"]')" overlay "the chosen driver is overlay"
left=$(find "$XDG_DATA_HOME/hutch" -mindepth 1 -maxdepth 1 -name '.probe-*' | wc -l)
is "$left" 0 "the overlay probe leaves nothing in the store"

if [ -x /usr/bin/fuse-overlayfs ] && [ -r /dev/fuse ] && [ -w /dev/fuse ]; then
  is "$(row fuse-overlayfs)" ok "fuse-overlayfs is ok"
else
  is "$(row fuse-overlayfs)" missing "fuse-overlayfs is missing"
fi

if [ -r /dev/net/tun ] && [ -w /dev/net/tun ]; then
  is "$(row network)" ok "network: /dev/net/tun usable"
  like "$(detail network)" "libslirp [0-9]" "network row names libslirp"
else
  is "$(row network)" fallback "network falls back to none"
fi

fstype=$(stat -f -c %T /sys/fs/cgroup)
if [ "$fstype" = cgroup2fs ]; then
  is "$(json_get "$json" 'd["host"]["cgroups"]["version"]')" v2 "cgroup v2 detected"
else
  is "$(row cgroups)" missing "resource limits are missing on a cgroup v1/hybrid host"
  like "$(detail cgroups)" "cgroup (v1|hybrid) host" "the reason names the cgroup version"
  like "$(fix cgroups)" "systemd.unified_cgroup_hierarchy=1" "the fix names the kernel option"
fi

is "$(row openat2)" ok "openat2 is available"
is "$(row runroot)" fallback "runroot falls back without XDG_RUNTIME_DIR"
like "$(detail runroot)" "/tmp/hutch-run-$uid" "the fallback runroot is /tmp/hutch-run-UID"
is "$(row store)" ok "store row ok"
is "$(json_get "$json" 'd["host"]["store"]["root"]')" "$XDG_DATA_HOME/hutch" \
  "the store defaults to \$XDG_DATA_HOME/hutch"

# The text table says the same as the JSON.
hutch check
is "$rc" 0 "check (text) exits 0"
text=$out
for id in kernel userns idmap rootfs network cgroups runroot; do
  st=$(row "$id")
  like "$text" "^$st +$(title "$id") " "text row '$(title "$id")' says $st"
done
like "$text" "Containers can run here" "the verdict line"
like "$text" "probed in [0-9.]+ ms" "the probe time is shown"

# info: the same data, JSON by default.
hutch info
is "$rc" 0 "info exits 0"
is "$(json_get "$out" '[c["id"]+"="+c["status"] for c in d["checks"]]')" \
  "$(json_get "$json" '[c["id"]+"="+c["status"] for c in d["checks"]]')" \
  "info reports the same checks as check --format json"
hutch info --format text
like "$out" "^STATUS +WHAT +FOUND" "info --format text is the table"

rm -rf "/tmp/hutch-run-$uid"
