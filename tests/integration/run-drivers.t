#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The core of hutch run under each rootfs driver (kernel overlay,
# fuse-overlayfs, a private copy): output and exit codes, owners and modes
# from the image, whiteouts and opaque directories, writes, --read-only,
# what a container leaves behind. The three must give the same tree.
. "$(dirname "$0")/lib.sh"
require_fixtures debian

R=$T/store
DEB=localhost/hutch-test/debian:bookworm
WH=localhost/hutch-test/whiteout:latest
H() { hutch --root "$R" "$@"; }
procs() { pgrep -u "$(id -u)" -f "$R" | wc -l; }
procs_before=$(procs)
"$HUTCH" --root "$R" load -q -i "$FIX/debian.oci.tar" 2>/dev/null
"$HUTCH" --root "$R" load -q -i "$FIX/whiteout.oci.tar" 2>/dev/null
at_exit '"$HUTCH" --root "$R" unshare rm -rf "$R" 2>/dev/null'

# every path but /proc, /sys, /dev and the /etc files hutch binds, with type,
# mode, owner, size (not for directories: a file system's own) -- busybox's
# find has no -printf; stat does it
tree='find / -xdev \( -path /proc -o -path /sys -o -path /dev \) -prune -o -print | LC_ALL=C sort |
  grep -vxE "/etc/(hostname|hosts|resolv.conf)" | xargs stat -c "%n %F %a %u:%g %s" | grep -vE "^/(etc)? " |
  sed -E "s/^(.* directory [0-7]+ [0-9]+:[0-9]+) [0-9]+\$/\1/"'

for d in overlay fuse-overlayfs copy; do
  D=(--rootfs-driver "$d")
  H run --rm "${D[@]}" "$DEB" echo hello
  is "$rc:$out:$err" "0:hello:" "$d: output, exit 0 and nothing on stderr"
  H run --rm "${D[@]}" "$DEB" sh -c 'exit 3'
  is "$rc" 3 "$d: exit status"
  H run --rm "${D[@]}" "$DEB" no-such-command
  is "$rc" 127 "$d: not found is 127"
  H run --rm "${D[@]}" "$DEB" /etc/passwd
  is "$rc" 126 "$d: not executable is 126"
  H run --rm "${D[@]}" "$DEB" sh -c 'echo $$; id -u; stat -c "%U:%G %a" /etc/shadow /usr/bin/passwd'
  is "$out" "$(printf '2\n0\nroot:shadow 640\nroot:root 4755')" \
    "$d: pid 2 under init, root inside, owners and setuid bits from the image"
  case $d in
  overlay) fs=overlay ;;
  fuse-overlayfs) fs=fuse.fuse-overlayfs ;;
  copy) fs=$(stat -f -c %T "$R") ;;
  esac
  H run --rm "${D[@]}" "$DEB" sh -c 'grep " / " /proc/mounts | cut -d" " -f3'
  if [ "$d" = copy ]; then
    unlike "$out" "overlay" "$d: the root is not an overlay ($out)"
  else
    is "$out" "$fs" "$d: the root is $fs"
  fi
  H run --rm "${D[@]}" "$WH" sh -c 'ls /data /opq; cat /data/keep /replaced; ls -a /data | wc -l'
  is "$out" "$(printf '/data:\nadded\nkeep\n\n/opq:\nnew\nchanged\nnow a file\n4')" \
    "$d: whiteouts delete, an opaque directory hides what was below, a file replaces a directory"
  H run --rm "${D[@]}" "$WH" sh -c "$tree"
  eval "tree_$(tr - _ <<<"$d")=\$out"
  H run --rm "${D[@]}" "$DEB" sh -c "$tree"
  eval "debtree_$(tr - _ <<<"$d")=\$out"
  H run --rm "${D[@]}" "$DEB" sh -c 'rm /etc/issue && echo new >/etc/new && mkdir -p /a && chown 100:100 /a && cat /etc/new && test ! -e /etc/issue'
  is "$rc:$out" "0:new" "$d: writes, deletes and chown to a subordinate id"
  H run --rm --read-only "${D[@]}" "$DEB" touch /x
  like "$rc:$err" "^1:.*Read-only file system" "$d: --read-only"
  H run --rm --read-only "${D[@]}" "$DEB" sh -c 'for f in hosts hostname resolv.conf; do echo x >>/etc/$f && echo "$f written"; done; exit 0'
  is "$(grep -c written <<<"$out")" 0 "$d: --read-only: /etc/hosts, /etc/hostname and /etc/resolv.conf too"
  is "$(ls "$R/containers" | wc -l)" 0 "$d: every --rm container is gone"
  H run "${D[@]}" "$DEB" sh -c 'echo kept >/kept; exit 4'
  st=$rc
  H ps -a --format json
  is "$st:$(json_get "$out" 'd[0]["State"], d[0]["ExitCode"]')" "4:('exited', 4)" \
    "$d: without --rm the container stays, recorded as exited 4"
  "$HUTCH" --root "$R" unshare rm -rf "$R/containers"
done
is "$tree_fuse_overlayfs" "$tree_overlay" "fuse-overlayfs shows the same tree as the kernel overlay"
is "$tree_copy" "$tree_overlay" "the copy shows the same tree as the kernel overlay"
like "$tree_overlay" "/bin/busybox regular file 755 0:0" "(the trees are not empty)"
is "$debtree_fuse_overlayfs" "$debtree_overlay" "Debian: fuse-overlayfs shows the kernel overlay's tree"
is "$debtree_copy" "$debtree_overlay" "Debian: so does the copy"
like "$debtree_overlay" "/usr/bin/passwd regular file 4755 0:0" "(with setuid files)"
is "$(grep -c . <<<"$debtree_overlay")" "$(grep -c . <<<"$debtree_copy")" "(as many paths: $(grep -c . <<<"$debtree_overlay"))"

# A store under a directory whose name has ',', ':' and '\': mount option
# separators to overlayfs and fuse-overlayfs, escaped or kept out of their
# sight. The whiteout image: three layers, so lowerdir is a list.
S="$T/a,b:c\\d/store"
mkdir -p "${S%/store}"
at_exit '"$HUTCH" --root "$S" unshare rm -rf "$S" 2>/dev/null'
"$HUTCH" --root "$S" load -q -i "$FIX/whiteout.oci.tar" 2>/dev/null
for d in overlay fuse-overlayfs copy; do
  hutch --root "$S" run --rm --rootfs-driver "$d" "$WH" sh -c 'echo new >/etc/new && cat /etc/new /data/keep && grep " / " /proc/mounts | cut -d" " -f3'
  case $d in
  overlay) want="0:new changed overlay " ;;
  fuse-overlayfs) want="0:new changed fuse.fuse-overlayfs " ;;
  copy) want="0:new changed $(printf '%s' "$out" | tail -n 1 | grep -v overlay) " ;;
  esac
  is "$rc:$(printf '%s ' $out)" "$want" \
    "$d: runs from a store under \"a,b:c\\d\", with its three layers and a write"
  is "$err" "" "$d: and says nothing on stderr"
done
hutch --root "$S" check --format json
like "$(check_row "$out" rootfs)" "^ok.*userxattr" "check: the kernel overlay works there too"
is "$(ls "$S/containers" | wc -l)" 0 "every container there is gone"

is "$(test_mounts)" 0 "no mount is left on the host's side"
is "$(procs)" "$procs_before" "no hutch or fuse-overlayfs process is left"
