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

# run with /dev/net/tun closed: the default network falls back to none with
# one line saying why; asking for slirp (or -p) fails naming the fix.
if [ -s "$FIX/busybox.docker.tar" ]; then
  closed() { hutch_as "$user" unshare --mount --propagation private sh -c \
    "mount --bind $T/tun /dev/net/tun && exec \"\$@\"" sh -- "$@"; }
  closed load -q -i "$FIX/busybox.docker.tar"
  closed run --rm localhost/hutch-test/busybox ls /sys/class/net
  is "$rc:$out" "0:lo" "tun closed: the default network falls back to loopback alone"
  is "$(printf '%s\n' "$err" | wc -l)" 1 "with one line"
  like "$err" "no network, only loopback \(--network none\): /dev/net/tun \(mode 0600, owner uid 0\) cannot be opened: Permission denied.*chmod 0666 /dev/net/tun" \
    "naming the device, its mode and the fix"
  closed run --rm --network slirp localhost/hutch-test/busybox true
  like "$rc:$err" "^125:.*the slirp network needs a tap device, but /dev/net/tun \(mode 0600" \
    "--network slirp asked for: an error instead"
  closed run --rm -p 8080:80 localhost/hutch-test/busybox true
  like "$rc:$err" "^125:.*the slirp network needs a tap device" "-p: an error too"
else
  skip "no busybox test image in $FIX"
fi

# The rootfs fallback chain for real: an image of 501 layers is more than
# the kernel overlay stacks (500), /dev/fuse is closed, so run copies.
if [ -s "$FIX/busybox.docker.tar" ]; then
  many_layer_image "$T/many" 500 localhost/hutch-test/many501:latest
  chmod -R a+rX "$T/many"
  denied() { hutch_as "$user" unshare --mount --propagation private sh -c \
    "mount --bind $T/fuse /dev/fuse && exec \"\$@\"" sh -- "$@"; }
  denied load -q --input-format oci-dir -i "$T/many/oci"
  is "$rc" 0 "load an image of 501 layers"
  denied run --rm localhost/hutch-test/many501 sh -c 'ls /layers | wc -l; cat /layers/500'
  is "$rc:$out" "0:$(printf '500\nlayer 500')" "it runs, every layer there"
  like "$err" "warning: the rootfs is on copy: the kernel overlay takes at most 500 layers, and this image has 501; then fuse-overlayfs: opening /dev/fuse .*Permission denied" \
    "one notice says which driver it fell to and why"
  is "$(grep -c . <<<"$err")" 1 "and only one line"
  denied run --rm --rootfs-driver fuse-overlayfs localhost/hutch-test/many501 true
  like "$rc:$err" "^125:.*fuse-overlayfs: opening /dev/fuse \(see \"hutch check\"\): Permission denied" \
    "forced fuse-overlayfs without /dev/fuse: the error says so"
  is "$(ls "$T/data-$user/hutch/containers" | wc -l)" 0 "no container is left behind"
  hutch_as "$user" -- unshare rm -rf "$T/data-$user/hutch"
else
  skip "no test images in $FIX"
fi
