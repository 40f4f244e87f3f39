#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# hutch save, and hutch load reading back all it writes: each format round
# trips (docker-archive, oci-archive, oci-dir, and a docker-archive unpacked
# into a directory); several images in one archive, shared layers once;
# skopeo inspects both archives; podman loads and runs them; podman save →
# hutch load → hutch save → podman load keeps every layer's digest; a loaded
# docker-archive takes the disk of the same image pulled; save refuses a
# terminal; bad input exits 125 and leaves nothing. And the store's promise
# to containers: `tag` moving a name away and `system prune` never take the
# layers a container runs on.
. "$(dirname "$0")/lib.sh"
require_fixtures debian

busybox_store
WH=localhost/hutch-test/whiteout:latest
DEB=localhost/hutch-test/debian:bookworm
H load -q -i "$FIX/whiteout.docker.tar"
# An image whose base layer is busybox's own: the two share a layer.
many_layer_image "$T/many" 2 localhost/hutch-test/many:1 >/dev/null
H load -q -i "$T/many/oci"
MANY=localhost/hutch-test/many:1
is "$rc" 0 "the test images are loaded"
# img_id IMAGE [STORE]: the image's ID (hex)
img_id() { hutch --root "${2:-$R}" image inspect "$1"; json_get "$out" 'd[0]["Id"]'; }
bb_id=$(img_id "$BB")
bb_diff=$(tar -xOf "$FIX/busybox.docker.tar" manifest.json |
  python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["Layers"][0])')
bb_diff=$(tar -xOf "$FIX/busybox.docker.tar" "$bb_diff" | sha256sum | cut -d' ' -f1)

# fresh_store NAME: an empty store of its own at $T/NAME, removed at the end
fresh_store() {
  S=$T/$1
  at_exit "\"\$HUTCH\" --root \"$S\" unshare rm -rf \"$S\" 2>/dev/null"
}
S_() { hutch --root "$S" "$@"; }
# tree IMAGE [STORE]: what the image holds, file by file
# (what the runtime adds left out: /proc, /sys, /dev, /run, /etc/mtab and
# the files of the container's network)
TREE_CMD='find / -xdev | sort'
tree_filter() {
  grep -Ev '^/(proc|sys|dev|run)(/|$)|^/etc/(mtab|hostname|hosts|resolv.conf)$' | md5sum
}
tree() {
  hutch --root "${2:-$R}" run --rm --network none "$1" sh -c "$TREE_CMD"
  out=$(printf '%s\n' "$out" | tree_filter)
}
tree "$BB"; bb_tree=$out
tree "$WH"; wh_tree=$out
tree "$MANY"; many_tree=$out
ok "$([ -n "$bb_tree" ] && [ -n "$wh_tree" ] && [ "$bb_tree" != "$wh_tree" ]; echo $?)" "the images run, for reference"

# ---- docker-archive, the default: several images, shared layers once
H save -o "$T/all.tar" "$BB" "$WH" "$MANY" localhost/hutch-test/busybox
is "$rc:$out:$err" "0::" "save -o FILE of three images (one named twice) prints nothing"
members=$(tar -tf "$T/all.tar" | LC_ALL=C sort)
printf '%s\n' "$members" | grep -qx manifest.json
ok $? "the archive has manifest.json"
printf '%s\n' "$members" | grep -qx repositories
ok $? "and repositories"
is "$(printf '%s\n' "$members" | grep -c "^$bb_diff/layer.tar$")" 1 \
  "busybox's layer, which two images share, is in it once, by its diff id"
is "$(tar -xOf "$T/all.tar" "$bb_diff/layer.tar" | sha256sum | cut -d' ' -f1)" "$bb_diff" \
  "uncompressed: its bytes are its diff id (the store keeps it gzipped)"
m=$(tar -xOf "$T/all.tar" manifest.json)
is "$(json_get "$m" 'len(d)')" 3 "manifest.json lists three images"
is "$(json_get "$m" '[e["RepoTags"] for e in d]')" \
  "[['$BB'], ['$WH'], ['$MANY']]" "each with its names (busybox named twice is one entry)"
is "$(json_get "$m" 'all(x.endswith("/layer.tar") for e in d for x in e["Layers"])')" True \
  "layers as DIFFID/layer.tar"
r=$(tar -xOf "$T/all.tar" repositories)
is "$(json_get "$r" 'd["localhost/hutch-test/busybox"]["latest"]')" "$bb_diff" \
  "repositories maps repository and tag to the top layer"
for f in $(json_get "$m" '" ".join(sorted(set(x for e in d for x in e["Layers"])))'); do
  [ "$(tar -xOf "$T/all.tar" "$f" | sha256sum | cut -d' ' -f1)/layer.tar" = "$f" ] || echo "# $f"
done >"$T/bad-layers"
is "$(cat "$T/bad-layers")" "" "every layer.tar hashes to the diff id it is named by"

fresh_store docker
S_ load -i "$T/all.tar"
is "$rc" 0 "hutch load reads it back"
is "$(printf '%s\n' "$out" | LC_ALL=C sort | tr '\n' ' ')" \
  "Loaded image: $BB Loaded image: $MANY Loaded image: $WH " "with every name"
tree "$BB" "$S"; is "$out" "$bb_tree" "busybox runs from it, whole"
tree "$WH" "$S"; is "$out" "$wh_tree" "the whiteout image too (its deletions kept)"
tree "$MANY" "$S"; is "$out" "$many_tree" "and the image sharing busybox's layer"
is "$(img_id "$WH" "$S") $(img_id "$MANY" "$S")" "$(img_id "$WH") $(img_id "$MANY")" \
  "the same image IDs as in the source store"

# layers the store keeps as others compressed them, decoded by the streaming
# decoder: one large gzip member (skopeo's, as a pull stores it) and zstd
busybox_layer "$T/zl.tar"
python3 "$HUTCH_TEST_SRCDIR/tests/fixtures/mkimage.py" --out "$T/zimg" --name localhost/hutch-test/zstd:1 "$T/zl.tar"
python3 - "$T/zimg" <<'PY'
import hashlib, json, os, subprocess, sys
d = sys.argv[1]; b = os.path.join(d, "blobs", "sha256")
idx = json.load(open(os.path.join(d, "index.json")))
m = json.load(open(os.path.join(b, idx["manifests"][0]["digest"][7:])))
plain = os.path.join(b, m["layers"][0]["digest"][7:])
z = subprocess.run(["zstd", "-q", "-c", plain], check=True, capture_output=True).stdout
zd = hashlib.sha256(z).hexdigest()
open(os.path.join(b, zd), "wb").write(z)
os.unlink(plain)
m["layers"][0] = {"mediaType": "application/vnd.oci.image.layer.v1.tar+zstd",
                  "digest": "sha256:" + zd, "size": len(z)}
mb = json.dumps(m).encode(); md = hashlib.sha256(mb).hexdigest()
open(os.path.join(b, md), "wb").write(mb)
idx["manifests"][0].update(digest="sha256:" + md, size=len(mb))
json.dump(idx, open(os.path.join(d, "index.json"), "w"))
PY
H load -q -i "$T/zimg"
H load -q -i "$FIX/debian.oci.tar"
H save -o "$T/others.tar" localhost/hutch-test/zstd:1 "$DEB"
is "$rc" 0 "save of a zstd layer and of a pulled-style gzip layer"
m=$(tar -xOf "$T/others.tar" manifest.json)
for f in $(json_get "$m" '" ".join(x for e in d for x in e["Layers"])'); do
  [ "$(tar -xOf "$T/others.tar" "$f" | sha256sum | cut -d' ' -f1)/layer.tar" = "$f" ] || echo "# $f"
done >"$T/bad-layers"
is "$(json_get "$m" 'sum(len(e["Layers"]) for e in d)')" 2 "two images of a layer each"
is "$(cat "$T/bad-layers")" "" "decompressed to their diff ids"

# to stdout, when it is not a terminal: the same bytes
"$HUTCH" --root "$R" save "$BB" "$WH" "$MANY" localhost/hutch-test/busybox >"$T/stdout.tar" 2>"$T/stdout.err"
is "$?:$(cat "$T/stdout.err")" "0:" "save to a pipe or file on stdout"
cmp -s "$T/all.tar" "$T/stdout.tar"
ok $? "writes the same archive, byte for byte"

# unpacked: a docker-dir loads without being told what it is
mkdir "$T/docker-dir" && tar -xf "$T/all.tar" -C "$T/docker-dir"
fresh_store ddir
S_ load -i "$T/docker-dir"
is "$rc:$(printf '%s\n' "$out" | wc -l)" "0:3" "load -i DIR of an unpacked docker-archive, no --input-format"
tree "$WH" "$S"; is "$out" "$wh_tree" "and the image is whole"
ln -s /etc/passwd "$T/docker-dir/escape.json"
python3 -c 'import json,sys; m=json.load(open(sys.argv[1])); m[0]["Config"]="escape.json"; json.dump(m, open(sys.argv[1],"w"))' \
  "$T/docker-dir/manifest.json"
S_ load -i "$T/docker-dir"
like "$rc:$err" "^125:.*escape.json" "a docker-dir file that is a symlink out of it is refused"

# ---- disk: a docker-archive's plain layers are kept gzipped
fresh_store disk-docker
S_ load -q -i "$FIX/debian.docker.tar"
docker_bytes=$(du -sb "$S/blobs" | cut -f1)
fresh_store disk-oci
# skopeo's oci-archive holds the blobs a registry serves: what a pull stores
S_ load -q -i "$FIX/debian.oci.tar"
pulled_bytes=$(du -sb "$S/blobs" | cut -f1)
plain_bytes=$(stat -c %s "$FIX/debian.docker.tar")
echo "# Debian: docker-archive loaded $docker_bytes bytes of blobs, pulled (oci) $pulled_bytes, archive $plain_bytes"
ok "$([ $((docker_bytes * 100 / pulled_bytes)) -le 125 ]; echo $?)" \
  "a loaded docker-archive takes about the disk of the pulled image (at most 1.25x)"
ok "$([ $((docker_bytes * 2)) -lt "$plain_bytes" ]; echo $?)" "under half of the plain archive"

# ---- oci-archive: one index.json entry per name
H save --format oci-archive -o "$T/all.oci.tar" "$BB" "$WH" localhost/hutch-test/busybox:alias
is "$rc" 125 "a name the store does not have fails the whole save"
ok "$([ ! -e "$T/all.oci.tar" ]; echo $?)" "and leaves no file"
H tag "$BB" localhost/hutch-test/busybox:alias
H save --format oci-archive -o "$T/all.oci.tar" "$BB" "$WH" localhost/hutch-test/busybox:alias
is "$rc" 0 "save --format oci-archive"
i=$(tar -xOf "$T/all.oci.tar" index.json)
is "$(json_get "$i" '[m["annotations"]["org.opencontainers.image.ref.name"] for m in d["manifests"]]')" \
  "['$BB', 'localhost/hutch-test/busybox:alias', '$WH']" "index.json has an entry per name"
is "$(json_get "$i" '[m["annotations"]["io.containerd.image.name"] for m in d["manifests"]]')" \
  "['$BB', 'localhost/hutch-test/busybox:alias', '$WH']" "annotated for containerd too"
is "$(tar -xOf "$T/all.oci.tar" oci-layout)" '{"imageLayoutVersion":"1.0.0"}' "oci-layout"
fresh_store oci
S_ load -i "$T/all.oci.tar"
is "$rc:$(printf '%s\n' "$out" | LC_ALL=C sort | tr '\n' ' ')" \
  "0:Loaded image: localhost/hutch-test/busybox:alias Loaded image: $BB Loaded image: $WH " \
  "hutch load reads it back, with every name"
tree "localhost/hutch-test/busybox:alias" "$S"; is "$out" "$bb_tree" "and it runs whole"

# ---- oci-dir
H save --format oci-dir -o "$T/layout" "$WH"
is "$rc" 0 "save --format oci-dir"
ok "$([ -f "$T/layout/oci-layout" ] && [ -f "$T/layout/index.json" ] && [ -d "$T/layout/blobs/sha256" ]; echo $?)" \
  "writes an OCI layout directory"
fresh_store ocidir
S_ load -i "$T/layout"
is "$rc:$out" "0:Loaded image: $WH" "load -i DIR reads it back"
s=$(skopeo inspect "oci:$T/layout:$WH" 2>&1)
is "$?" 0 "skopeo reads the layout"
H save --format oci-dir -o "$T/layout" "$WH"
like "$rc:$err" "^125:.*$T/layout is not empty" "an oci-dir into a directory that is not empty is refused"

# ---- skopeo reads both archives
s=$(skopeo inspect "docker-archive:$T/all.tar:$WH" 2>&1) && src=0 || src=$?
is "$src" 0 "skopeo inspect docker-archive:FILE:NAME"
is "$(json_get "$s" 'len(d["Layers"])')" 3 "sees the whiteout image's three layers"
s=$(skopeo inspect "oci-archive:$T/all.oci.tar:$WH" 2>&1) && src=0 || src=$?
is "$src" 0 "skopeo inspect oci-archive:FILE:NAME"
H image inspect "$WH"
is "$(json_get "$s" 'd["Digest"]')" "$(json_get "$out" 'd[0]["Digest"]')" \
  "and finds the manifest the store has"

# ---- podman: loads and runs what hutch wrote. Rootless with its kernel
# overlay driver, which this kernel (>= 5.13) allows in a user namespace,
# on its own store and runroot under $T; runc as the runtime, cgroupfs
# (no systemd user session in the test), events to a file (no journald).
P() {
  podman --root "$T/podman" --runroot "$T/podman-run" --runtime runc --cgroup-manager cgroupfs \
    --storage-driver overlay --events-backend file "$@" 2>"$T/podman.err"
}
# at the end: podman's store reset (it unmounts what it mounted), and its
# pause process, which holds podman's user namespace, ended
podman_end() {
  local pause
  pause=$(cat "$XDG_RUNTIME_DIR/libpod/tmp/pause.pid" 2>/dev/null) || pause=
  P system reset -f >/dev/null
  [ -z "$pause" ] || kill "$pause" 2>/dev/null
}
at_exit podman_end
out=$(P load -i "$T/all.tar") && prc=0 || prc=$?
is "$prc" 0 "podman load of hutch's docker-archive"
out=$(P run --rm --network none "$WH" sh -c "$TREE_CMD") && prc=0 || prc=$?
out=$(printf '%s\n' "$out" | tree_filter)
is "$prc:$out" "0:$wh_tree" "podman runs the image: the same files, whiteouts applied"
P rmi -a -f >/dev/null
# podman 4 loads an oci-archive of one image only ("more than one image in
# oci, choose an image"): hutch's own load takes the one of several above
H save --format oci-archive -o "$T/alias.oci.tar" localhost/hutch-test/busybox:alias
out=$(P load -i "$T/alias.oci.tar") && prc=0 || prc=$?
is "$prc" 0 "podman load of hutch's oci-archive"
out=$(P run --rm --network none localhost/hutch-test/busybox:alias echo from-oci) && prc=0 || prc=$?
is "$prc:$out" "0:from-oci" "podman runs it"

# ---- podman save → hutch load → hutch save → podman load: layers kept
P rmi -a -f >/dev/null
P load -q -i "$FIX/whiteout.oci.tar" >/dev/null
want=$(P image inspect --format '{{json .RootFS.Layers}}' "$WH")
P save -o "$T/podman.tar" "$WH"
fresh_store trip
S_ load -q -i "$T/podman.tar"
is "$rc" 0 "hutch load of podman save's docker-archive"
S_ save -o "$T/trip.tar" "$WH"
is "$rc" 0 "hutch save of it"
is "$(skopeo inspect "docker-archive:$T/trip.tar" | python3 -c 'import json,sys; print(json.load(sys.stdin)["Layers"])')" \
  "$(skopeo inspect "docker-archive:$T/podman.tar" | python3 -c 'import json,sys; print(json.load(sys.stdin)["Layers"])')" \
  "the layer digests of hutch's archive are podman's"
P rmi -a -f >/dev/null
P load -q -i "$T/trip.tar" >/dev/null
is "$(P image inspect --format '{{json .RootFS.Layers}}' "$WH")" "$want" \
  "podman load of it: every layer's digest kept"
is "$(P image inspect --format '{{.Id}}' "$WH")" "$(img_id "$WH" "$S")" "and the image ID"

# ---- stdout a terminal: refused, with the fix
out=$(script -qec "$HUTCH --root $R save $BB; echo rc=\$?" /dev/null </dev/null | tr -d '\r')
like "$out" "refusing to write an archive to a terminal: give -o FILE, or pipe the output" \
  "save to a terminal is refused, saying what to do"
like "$out" "rc=125" "with exit 125"

# ---- bad input: exit 125, nothing left behind
mkdir "$T/out"
H save -o "$T/out/x.tar" no-such-image
like "$rc:$err" '^125:.*docker.io/library/no-such-image:latest" is not in the store' "an unknown image: 125, named"
H save --format zip -o "$T/out/x.tar" "$BB"
like "$rc:$err" '^125:.*unknown format "zip": use docker-archive, oci-archive or oci-dir' \
  "a bad format name: 125, with the ones there are"
H save -o "$T/no-such-dir/x.tar" "$BB"
like "$rc:$err" "^125:.*$T/no-such-dir/x.tar: No such file or directory" "-o in a directory that does not exist"
chmod 0555 "$T/out"
H save -o "$T/out/x.tar" "$BB"
like "$rc:$err" "^125:.*cannot write $T/out/x.tar: Permission denied" "an unwritable -o: 125, named"
chmod 0755 "$T/out"
is "$(ls -A "$T/out")" "" "none of them left a file"
H save "$BB" --format oci-dir
like "$rc:$err" "^125:.*oci-dir writes a directory: name it with -o DIR" "oci-dir without -o"

# a full disk halfway: the archive goes, and the old file stays as it was
mkdir "$T/small"
cat >"$T/full.sh" <<SH
mount -t tmpfs -o size=8m tmpfs "$T/small"
echo old >"$T/small/deb.tar"
"$HUTCH" --root "$R" save -o "$T/small/deb.tar" "$DEB" 2>"$T/full.err"
echo \$? >"$T/full.rc"
ls -A "$T/small" >"$T/full.ls"
cat "$T/small/deb.tar" >"$T/full.old"
SH
H load -q -i "$FIX/debian.oci.tar"
unshare -Urm bash "$T/full.sh"
is "$(cat "$T/full.rc")" 125 "a full disk: exit 125"
like "$(cat "$T/full.err")" "writing $T/small/deb.tar: .*No space left on device" "saying the disk is full"
is "$(cat "$T/full.ls")" "deb.tar" "no temporary file left"
is "$(cat "$T/full.old")" "old" "and the file -o named is as it was"

# ---- the store: a container keeps its image through tag and prune
H rmi localhost/hutch-test/busybox:alias
H run -d --name keeper --network none "$BB" sleep 600
is "$rc" 0 "a container runs busybox"
H create --name later --network none "$BB" cat /bin/busybox
H tag "$WH" "$BB"
is "$rc" 0 "tag moves busybox's name to another image"
H system prune
is "$rc" 0 "system prune"
H images --format json
is "$(json_get "$out" '[i["RepoTags"] for i in d if i["Id"] == "'"${bb_id#sha256:}"'"]')" "[[]]" \
  "the container's image stays, untagged"
ok "$([ -d "$R/layers/$bb_diff/diff" ]; echo $?)" "its layer stays"
H exec keeper sh -c 'ls /bin/busybox && echo alive'
is "$rc:$(printf '%s\n' "$out" | tail -1)" "0:alive" "the running container still has its files"
H start -a later
is "$rc" 0 "the stopped container made before the tag starts on its own image"
H rm -f keeper
H rm -f later
H system prune
H images --format json
is "$(json_get "$out" '[i for i in d if i["Id"] == "'"${bb_id#sha256:}"'"]')" "[]" \
  "with the containers gone, prune takes the image"
