#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Layers unpacked at load, as root of a user namespace with the user's
# subordinate ids: the trees match what umoci unpack --rootless makes (and
# the owners match the tar), the whiteout image merged by kernel overlay and
# by fuse-overlayfs matches umoci's merged rootfs, parallel loads unpack a
# layer once, prune and rmi remove layers, hostile layers fail the load.
. "$(dirname "$0")/lib.sh"
require_fixtures debian

R=$T/store
LIST=$HUTCH_TEST_SRCDIR/tests/fixtures/tree-list.py
H() { hutch --root "$R" "$@"; }
in_ns() { "$HUTCH" --root "$R" unshare "$@"; }
layer_dirs() { find "$R/layers" -mindepth 1 -maxdepth 1 -name '[0-9a-f]*' | wc -l; }
chains_of() { # IMAGE: the layer directories of an image, lowest first
  H image inspect "$1"
  python3 -c '
import hashlib, json, sys
ids = json.loads(sys.argv[1])[0]["RootFS"]["Layers"]
chain = []
for d in ids:
    chain.append(d if not chain else "sha256:" + hashlib.sha256((chain[-1] + " " + d).encode()).hexdigest())
print(" ".join(sys.argv[2] + "/layers/" + c[7:] + "/diff" for c in chain))' "$out" "$R"
}

for f in busybox.docker.tar debian.oci.tar whiteout.oci.tar; do
  H load -q -i "$FIX/$f"
  is "$rc" 0 "load $f unpacks its layers"
done
is "$(layer_dirs)" 5 "five layers in the cache (busybox, debian, three of whiteout)"
out=$(in_ns id -u) && r=0 || r=$?
is "$r:$out" "0:0" "hutch unshare runs a command as root of the user namespace"
out=$(in_ns cat /proc/self/uid_map | awk 'NR==2 {print $1, $3}')
is "$out" "1 65536" "mapped with the 65536 subordinate ids"

# Debian: the tree as umoci makes it, owners as the tar has them
deb=$(chains_of localhost/hutch-test/debian:bookworm)
umoci unpack --rootless --image "$FIX/debian/oci:localhost/hutch-test/debian:bookworm" "$T/umoci-deb" >/dev/null 2>&1
is "$?" 0 "umoci unpack --rootless of the same image"
python3 "$LIST" "$T/umoci-deb/rootfs" --skip-devices | grep -v "^b'/dev/" >"$T/umoci.list"
grep "^b'/dev/" <(python3 "$LIST" "$T/umoci-deb/rootfs") | awk '$2 == "f"' | wc -l >"$T/umoci-devs"
in_ns python3 "$LIST" "$deb" --skip-devices | grep -v "^b'/dev/" >"$T/hutch.list"
ok "$(cmp -s "$T/umoci.list" "$T/hutch.list"; echo $?)" \
  "debian: files, types, modes, sizes, contents and link targets match umoci's ($(wc -l <"$T/hutch.list") paths)"
diff "$T/umoci.list" "$T/hutch.list" | head -5 | sed 's/^/# /'
is "$(cat "$T/umoci-devs")" 8 "umoci makes the 8 device nodes empty files; hutch skips them (cannot be made rootless)"
in_ns python3 "$LIST" "$deb" --owners --skip-devices >"$T/hutch-own.list"
python3 "$LIST" --tar "$FIX/cache/minbase-iperf3-bookworm.tar" --owners --skip-devices >"$T/tar-own.list"
ok "$(cmp -s "$T/tar-own.list" "$T/hutch-own.list"; echo $?)" "debian: every owner, seen in hutch unshare, is the tar's"
like "$(grep "'/usr/bin/passwd'" "$T/hutch-own.list")" " f 4755 .* 0:0$" "setuid passwd kept"
like "$(grep "'/etc/shadow'" "$T/hutch-own.list")" " f 0640 .* 0:42$" "shadow owned by group shadow (42)"
sub=$(awk -F: -v u="$(id -un)" '$1 == u {print $2; exit}' /etc/subgid)
out=$(stat -c '%u:%g' "$deb/etc/shadow")
is "$out" "$(id -u):$((sub + 41))" "outside the namespace, owner 0 is the user and group 42 the subordinate gid start+41"

# busybox: the same against umoci
bb=$(chains_of localhost/hutch-test/busybox:latest)
umoci unpack --rootless --image "$FIX/busybox/oci:localhost/hutch-test/busybox:latest" "$T/umoci-bb" >/dev/null 2>&1
python3 "$LIST" "$T/umoci-bb/rootfs" >"$T/umoci-bb.list"
in_ns python3 "$LIST" "$bb" >"$T/hutch-bb.list"
ok "$(cmp -s "$T/umoci-bb.list" "$T/hutch-bb.list"; echo $?)" "busybox: the tree matches umoci's"

# whiteout: the three layers merged by overlay equal umoci's merged rootfs
read -r l1 l2 l3 <<<"$(chains_of localhost/hutch-test/whiteout:latest)"
umoci unpack --rootless --image "$FIX/whiteout/oci:localhost/hutch-test/whiteout:latest" "$T/umoci-wh" >/dev/null 2>&1
python3 "$LIST" "$T/umoci-wh/rootfs" >"$T/umoci-wh.list"
mkdir "$T/kmerged" "$T/fmerged"
in_ns unshare -m sh -c "mount -t overlay overlay -o lowerdir=$l3:$l2:$l1,userxattr $T/kmerged &&
  python3 $LIST $T/kmerged >$T/kernel.list &&
  fuse-overlayfs -o lowerdir=$l3:$l2:$l1 $T/fmerged 2>/dev/null &&
  python3 $LIST $T/fmerged >$T/fuse.list; fusermount3 -u $T/fmerged"
ok "$(cmp -s "$T/umoci-wh.list" "$T/kernel.list"; echo $?)" "whiteout image on kernel overlay (userxattr) matches umoci's rootfs"
ok "$(cmp -s "$T/umoci-wh.list" "$T/fuse.list"; echo $?)" "whiteout image on fuse-overlayfs matches it too"
unlike "$(cat "$T/kernel.list")" "'/data/gone'|'/data/dir'|'/opq/old1'" "deleted files and the replaced directory's old contents are gone"
like "$(grep "'/replaced'" "$T/kernel.list")" "^b'/replaced' f " "the directory replaced by a file is a file"

# Two loads of one image at once unpack each layer once.
R2=$T/par
"$HUTCH" --root "$R2" --log-level debug load -q -i "$FIX/debian.oci.tar" >"$T/p1" 2>&1 & p1=$!
"$HUTCH" --root "$R2" --log-level debug load -q -i "$FIX/debian.oci.tar" >"$T/p2" 2>&1 & p2=$!
wait $p1; r1=$?
wait $p2; r2=$?
is "$r1:$r2" "0:0" "two parallel loads of debian both succeed"
is "$(cat "$T/p1" "$T/p2" | grep -c 'unpacked image')" 1 "and its layer was unpacked once"
is "$(find "$R2/layers" -mindepth 1 -maxdepth 1 | wc -l)" 1 "one layer directory, no leftovers"
"$HUTCH" --root "$R2" unshare rm -rf "$R2" 2>/dev/null; rm -rf "$R2"

# rmi and prune remove layers no image uses, inside the namespace.
H rmi localhost/hutch-test/whiteout:latest
is "$rc" 0 "rmi whiteout"
is "$(layer_dirs)" 2 "and its three layers (busybox and debian keep theirs)"
in_ns sh -c 'mkdir -p "$HUTCH_ROOT/layers/.tmp-999-0/diff/x" && touch "$HUTCH_ROOT/layers/.tmp-999-0/diff/x/f" &&
  chown -R 100:100 "$HUTCH_ROOT/layers/.tmp-999-0/diff"'
rm -rf "$R/layers/.tmp-999-0" 2>/dev/null
ok "$([ -d "$R/layers/.tmp-999-0" ]; echo $?)" "a killed unpack's directory, owned by subordinate ids, resists a plain rm"
H system prune
is "$rc" 0 "system prune"
ok "$([ ! -e "$R/layers/.tmp-999-0" ]; echo $?)" "removes it, inside the namespace"
is "$(layer_dirs)" 2 "and keeps the layers images use"

# Extended attributes: user.* and file capabilities kept, the rest dropped.
python3 - "$T/xattr.tar" <<'PY'
import base64, io, struct, sys, tarfile
caps = struct.pack("<IIIII", 0x02000001, 1 << 13, 0, 0, 0)  # v2, effective, cap_net_raw
b64 = lambda v: base64.b64encode(v).decode()
i = tarfile.TarInfo("ping"); i.size = 4; i.mode = 0o755
i.pax_headers = {"LIBARCHIVE.xattr.security.capability": b64(caps),
                 "LIBARCHIVE.xattr.user.note": b64(b"hello"),
                 "LIBARCHIVE.xattr.trusted.evil": b64(b"x"),
                 "LIBARCHIVE.xattr.user.overlay.opaque": b64(b"y")}
with tarfile.open(sys.argv[1], "w", format=tarfile.PAX_FORMAT) as t:
    t.addfile(i, io.BytesIO(b"\x7fELF"))
PY
python3 "$HUTCH_TEST_SRCDIR/tests/fixtures/mkimage.py" --gzip --out "$T/xattr" \
  --name localhost/hutch-test/xattr:latest "$T/xattr.tar"
H load -q --input-format oci-dir -i "$T/xattr"
is "$rc" 0 "load an image whose file has xattrs"
xl=$(chains_of localhost/hutch-test/xattr:latest)
out=$(in_ns python3 -c '
import os, struct, sys
p = sys.argv[1] + "/ping"
names = sorted(os.listxattr(p))
caps = os.getxattr(p, "security.capability")
print(" ".join(names), os.getxattr(p, "user.note").decode(), struct.unpack("<I", caps[4:8])[0] == 1 << 13)' "$xl")
is "$out" "security.capability user.note hello True" \
  "user.note and the capability are kept; trusted.* and user.overlay.* dropped"

# Hostile layers fail the whole load and leave the store as it was.
before=$(store_snapshot "$R")
python3 - "$T/evil" <<'PY'
import io, os, sys, tarfile
out = sys.argv[1]
os.makedirs(out)
def layer(name, members):
    with tarfile.open(os.path.join(out, name), "w", format=tarfile.PAX_FORMAT) as t:
        for m, data in members:
            t.addfile(m, io.BytesIO(data) if data is not None else None)
def reg(name, data=b"x"):
    i = tarfile.TarInfo(name); i.size = len(data); return (i, data)
def sym(name, target):
    i = tarfile.TarInfo(name); i.type = tarfile.SYMTYPE; i.linkname = target; return (i, None)
def owned(name, uid):
    i, d = reg(name); i.uid = uid; i.gid = uid; return (i, d)
layer("dotdot.tar", [reg("ok"), reg("../escape")])
layer("symlink.tar", [sym("etc", "/etc"), reg("etc/hutch-pwned")])
layer("owner.tar", [owned("far", 1000000)])
layer("good.tar", [reg("fine")])
layer("bomb.tar", [reg("zeros", bytes(50 << 20))])
PY
for c in dotdot symlink owner; do
  python3 "$HUTCH_TEST_SRCDIR/tests/fixtures/mkimage.py" --gzip --out "$T/evil/$c" \
    --name "localhost/hutch-test/evil-$c:latest" "$T/evil/good.tar" "$T/evil/$c.tar"
done
python3 "$HUTCH_TEST_SRCDIR/tests/fixtures/mkimage.py" --gzip --out "$T/evil/bomb" \
  --name localhost/hutch-test/bomb:latest "$T/evil/good.tar" "$T/evil/bomb.tar"
ok "$([ "$(stat -c %s "$T"/evil/bomb/blobs/sha256/* | sort -n | tail -1)" -lt 200000 ]; echo $?)" \
  "a layer of 50 MiB of zeros gzips to under 200 kB"
declare -A expect=(
  [dotdot]='image localhost/hutch-test/evil-dotdot:latest, layer 2 \(sha256:[0-9a-f]{64}\): entry "../escape": ".." in a name'
  [symlink]='entry "etc/hutch-pwned": a directory on its path is a symlink'
  [owner]='entry "far": owned by 1000000:1000000, outside the 65537 ids'
  [bomb]='more than 10485760 bytes, the limit'
)
for c in dotdot symlink owner bomb; do
  H load --unpack-limit 10M --input-format oci-dir -i "$T/evil/$c"
  is "$rc" 125 "hostile layer ($c): the load fails"
  like "$err" "${expect[$c]}" "hostile layer ($c): the message names image, layer and entry"
  is "$(store_snapshot "$R")" "$before" "hostile layer ($c): no name, no layer, no blob left"
done
ok "$([ ! -e /etc/hutch-pwned ] && [ ! -e "$T/escape" ]; echo $?)" "nothing was written outside"

# A compressed layer whose content is not its diff_id.
python3 - "$FIX/busybox/oci" "$T/evil/diffid" <<'PY'
import hashlib, json, os, shutil, sys
src, out = sys.argv[1:]
shutil.copytree(src, out)
b = lambda d: os.path.join(out, "blobs/sha256", d[7:])
idx = json.load(open(os.path.join(out, "index.json")))
m = json.load(open(b(idx["manifests"][0]["digest"])))
c = json.load(open(b(m["config"]["digest"])))
c["rootfs"]["diff_ids"] = ["sha256:" + "0" * 64]
craw = json.dumps(c).encode()
open(b("sha256:" + hashlib.sha256(craw).hexdigest()), "wb").write(craw)
m["config"]["digest"] = "sha256:" + hashlib.sha256(craw).hexdigest()
m["config"]["size"] = len(craw)
mraw = json.dumps(m).encode()
open(b("sha256:" + hashlib.sha256(mraw).hexdigest()), "wb").write(mraw)
idx["manifests"][0].update(digest="sha256:" + hashlib.sha256(mraw).hexdigest(), size=len(mraw))
idx["manifests"][0]["annotations"]["org.opencontainers.image.ref.name"] = "localhost/hutch-test/diffid:latest"
json.dump(idx, open(os.path.join(out, "index.json"), "w"))
PY
H load --input-format oci-dir -i "$T/evil/diffid"
is "$rc" 125 "a gzip layer that is not its diff_id fails the load"
like "$err" "its content is sha256:[0-9a-f]{64}, but the image config says its content is sha256:0{64}" "and says so"
is "$(store_snapshot "$R")" "$before" "leaving the store as it was"

# A layer unpacked under another id mapping is detected, not used.
sed -i 's/"idmap":"[^"]*"/"idmap":"uid 1 gid 1"/' "$R"/layers/*/info
H load -i "$FIX/busybox.docker.tar"
H load -i "$FIX/debian.oci.tar"
like "$err" "was unpacked with the id mapping \"uid 1 gid 1\", but yours is now" "a changed id mapping is detected"
like "$err" "hutch unshare rm -rf $R/layers" "and the message says how to start over"
