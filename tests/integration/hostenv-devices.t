#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# /dev/net/tun and /dev/fuse at mode 0600, as on this VM before the udev-like
# setup: hutch check says networking will be none and fuse-overlayfs cannot
# run, with the chmod that fixes each. The 0600 nodes are bind-mounted over
# the real ones in a private mount namespace, so the host is not changed.
. "$(dirname "$0")/lib.sh"
require_root

user=hutch-test
mknod -m 0600 "$T/tun" c 10 200
mknod -m 0600 "$T/fuse" c 10 229
before=$(stat -c %a /dev/net/tun)

hutch_as "$user" unshare --mount --propagation private sh -c \
  "mount --bind $T/tun /dev/net/tun && mount --bind $T/fuse /dev/fuse && exec \"\$@\"" sh \
  -- check --format json
is "$rc" 0 "check still exits 0: containers run without a network"
json=$out
is "$(check_row "$json" network | cut -f1)" fallback "network is a fallback"
like "$(check_row "$json" network | cut -f2)" "Permission denied\): networking will be none" \
  "it says networking will be none, and why"
like "$(check_row "$json" network | cut -f3)" "^sudo chmod 0666 /dev/net/tun" "the fix is the chmod"
is "$(json_get "$json" 'd["host"]["network"]["default"]')" none "the JSON default network is none"
is "$(check_row "$json" fuse-overlayfs | cut -f1)" missing "fuse-overlayfs is missing"
like "$(check_row "$json" fuse-overlayfs | cut -f3)" "^sudo chmod 0666 /dev/fuse" "with the chmod for /dev/fuse"
is "$(stat -c %a /dev/net/tun)" "$before" "the host's /dev/net/tun is unchanged"
rm -rf "/tmp/hutch-run-$(id -u "$user")"
