#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# A /tmp/hutch-run-UID made by another user before ours: refused, never used.
. "$(dirname "$0")/lib.sh"
require_root

victim=hutch-nosub
attacker=hutch-test
dir=/tmp/hutch-run-$(id -u "$victim")
rm -rf "$dir"
install -d -m 0700 -o "$attacker" "$dir"
at_exit 'rm -rf "$dir"'

hutch_as "$victim" -- check
is "$rc" 1 "check exits 1 when the fallback runroot belongs to someone else"
like "$out" "missing +runroot +$dir belongs to uid $(id -u "$attacker"), not to you" \
  "it names the directory and its owner"
like "$out" "Containers cannot run here" "the verdict says so"

rm -rf "$dir"
ln -s "/home/$attacker" "$dir"
hutch_as "$victim" -- check
is "$rc" 1 "a planted symlink at the runroot is refused"
like "$out" "is not a directory \(a symlink" "and explained"
