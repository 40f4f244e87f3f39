#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Issue 20's three goals in one run: commit vs podman commit, save vs
# podman save, push vs skopeo copy (each <= 0.7x the peer's time). Runs the
# three benchmarks one after the other on the same machine and prints their
# ratio lines together at the end.
#
# usage: tests/bench/images-out.sh [BUILD_DIR]   (as root, each re-runs itself as hutch-test)
set -u
here=$(cd "$(dirname "$0")" && pwd)
log=$(mktemp -d "${TMPDIR:-/tmp}/hutch-bench-out.XXXXXX")
trap 'rm -rf "$log"' EXIT
status=0
for b in commit save push; do
  echo "== tests/bench/$b.sh"
  bash "$here/$b.sh" "$@" 2>&1 | tee "$log/$b.out"
  [ "${PIPESTATUS[0]}" = 0 ] || status=1
done
echo
echo "== issue 20's goals, this run"
grep -hE "x (podman|skopeo)|x the time of|GOAL MISSED|BENCH BROKEN|no ratio" "$log"/commit.out "$log"/save.out "$log"/push.out
exit $status
