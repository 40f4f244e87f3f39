#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# A user without subordinate ids: check reports the single-id fallback and
# the exact usermod command, with a range no other user has.
. "$(dirname "$0")/lib.sh"
require_root

user=hutch-nosub
if ! id "$user" >/dev/null 2>&1 || grep -q "^$user:" /etc/subuid /etc/subgid; then
  ok 1 "$user exists without subordinate ids (helpers/run-tests makes it)"
  exit 0
fi

hutch_as "$user" -- check --format json
is "$rc" 0 "check exits 0: containers still run with one id"
json=$out
is "$(check_row "$json" idmap | cut -f1)" fallback "id mapping is a fallback"
like "$(check_row "$json" idmap | cut -f2)" "single-id fallback" "the detail names the single-id fallback"
is "$(json_get "$json" 'd["host"]["idMapping"]["mode"]')" single "the JSON mode is single"
fixcmd=$(check_row "$json" idmap | cut -f3)
like "$fixcmd" "^sudo usermod --add-subuids [0-9]+-[0-9]+ --add-subgids [0-9]+-[0-9]+ $user$" \
  "the fix is the usermod command for $user"

# The suggested range must not overlap anyone's existing range.
range=$(sed -E 's/.*--add-subuids ([0-9]+)-([0-9]+).*/\1 \2/' <<<"$fixcmd")
read -r start end <<<"$range"
is "$((end - start + 1))" 65536 "it suggests 65536 ids"
overlaps=$(cat /etc/subuid /etc/subgid | awk -F: -v s="$start" -v e="$end" \
  'NF == 3 && $2 <= e && $2 + $3 - 1 >= s' | wc -l)
is "$overlaps" 0 "the suggested range overlaps no existing entry"

hutch_as "$user" -- check
like "$out" "fallback +id mapping" "the table shows the fallback"
like "$out" "fix: sudo usermod --add-subuids" "and the fix line"
rm -rf "/tmp/hutch-run-$(id -u "$user")"

# Loading without subordinate ids: one id, every file the user's, and the
# store records the mapping the layer was made with.
if [ -s "${HUTCH_TEST_FIXTURES:-/var/tmp/hutch-fixtures}/debian.oci.tar" ]; then
  fix=${HUTCH_TEST_FIXTURES:-/var/tmp/hutch-fixtures}
  mkdir "$T/ns" && chown "$user:" "$T/ns"
  hutch_as "$user" -- --root "$T/ns/store" load -q -i "$fix/debian.oci.tar"
  is "$rc" 0 "load works with the single-id mapping"
  info=$(cat "$T"/ns/store/layers/*/info)
  like "$info" "\"idmap\":\"uid $(id -u "$user") gid $(id -g "$user")\"" "the layer records the single mapping"
  owners=$(find "$T"/ns/store/layers/*/diff -printf '%u\n' | sort -u)
  is "$owners" "$user" "every unpacked file belongs to the user (owners squashed)"
  shadow=$(stat -c '%a' "$T"/ns/store/layers/*/diff/etc/shadow)
  is "$shadow" 640 "modes are kept"
else
  skip "no test images (tests/fixtures/make-fixtures)"
fi

# And running: the single mapping, no supplementary groups to set.
if [ -s "${HUTCH_TEST_FIXTURES:-/var/tmp/hutch-fixtures}/debian.oci.tar" ]; then
  hutch_as "$user" -- --root "$T/ns/store" run --rm localhost/hutch-test/debian:bookworm \
    sh -c 'id -u; cat /proc/self/uid_map | wc -l; stat -c %U /etc/shadow'
  is "$rc:$out" "$(printf '0:0\n1\nroot')" "run works with one id: root inside, one map line, files root's"
fi

# Without mount_setattr (before Linux 5.12, or a seccomp profile that does
# not know it): a :ro bind is still read-only all the way down, mount by
# mount. Here because the filter that forces it takes no_new_privs, under
# which no setuid newuidmap could map the ids of a user who has some.
if [ -s "${HUTCH_TEST_FIXTURES:-/var/tmp/hutch-fixtures}/debian.oci.tar" ]; then
  rm -f /dev/shm/hutch-ro-fallback
  out=$("$HUTCH_TEST_BUILDDIR/tests/no-syscall" mount_setattr:ENOSYS -- runuser -u "$user" -- \
    env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME="$T/ns" "$HUTCH" --root "$T/ns/store" \
    run --rm -v /dev:/hostdev:ro localhost/hutch-test/debian:bookworm \
    sh -c 'touch /hostdev/shm/hutch-ro-fallback 2>/dev/null; echo rc=$?; awk "\$5 ~ \"^/hostdev\" {top[\$5] = \$6} END {for (m in top) print m, top[m]}" /proc/self/mountinfo' 2>&1)
  like "$out" "rc=1" "no mount_setattr: a mount below a :ro bind (the host's /dev/shm) cannot be written"
  ok "$([ ! -e /dev/shm/hutch-ro-fallback ]; echo $?)" "and nothing was written on the host"
  like "$out" "/hostdev/shm ro" "every mount below it read-only, remounted one by one"
  # the host stacks two mounts on /dev/shm and /dev/pts: the one below is
  # out of reach (a mount made in a more privileged namespace is locked to
  # the one on it: it cannot be unmounted to bare the one below)
  unlike "$out" "/hostdev[^ ]* rw" "none that can be reached is writable (the top mount of each path)"
  rm -f /dev/shm/hutch-ro-fallback
fi
