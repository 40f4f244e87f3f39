#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# cgroup v2 delegation, which this host and CI (cgroup v1/hybrid) cannot
# give: Debian's kernel booted under qemu (tests/vm/boot), the host's root
# shared read-only, cgroup2 alone, subtrees delegated to the test user as
# systemd's Delegate=yes does; hutch runs inside as that user
# (tests/vm/limits.sh). Its TAP lines come back here.
. "$(dirname "$0")/lib.sh"
require_root
require_fixtures

src=${HUTCH_TEST_SRCDIR:?run through meson test}
if ! command -v qemu-system-x86_64 >/dev/null; then
  skip "no qemu-system-x86_64 (helpers/debian-packages installs it)"
  exit 0
fi
t0=$(date +%s)
out=$(bash "$src/tests/vm/boot" "$src/tests/vm/limits.sh" "$HUTCH_TEST_BUILDDIR" "$FIX" hutch-test 2>&1) \
  && rc=0 || rc=$?
secs=$(($(date +%s) - t0))
printf '%s\n' "$out" | grep -v -E '^(not )?ok [0-9]+ |^1\.\.[0-9]+$' | sed 's/^/# /'
while IFS= read -r line; do
  case $line in
    "not ok "*) ok 1 "vm: $(printf '%s' "$line" | sed -E 's/^not ok [0-9]+ - //')" ;;
    "ok "*) ok 0 "vm: $(printf '%s' "$line" | sed -E 's/^ok [0-9]+ - //')" ;;
  esac
done <<<"$(printf '%s\n' "$out" | grep -E '^(not )?ok [0-9]+ ')"
plan=$(printf '%s\n' "$out" | sed -n 's/^1\.\.\([0-9]*\)$/\1/p' | tail -1)
[ -n "$plan" ] && [ "$plan" -gt 0 ]
ok $? "the VM booted, ran its checks and gave their plan (1..${plan:-none})"
is "$rc" 0 "and ended well"
echo "# the VM suite took ${secs}s"
