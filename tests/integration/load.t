#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# hutch load, images, image inspect, tag, rmi and system df/prune, on images
# made from real content and archived by skopeo; the store checked with
# skopeo and umoci, which must read it as the OCI layout it is.
. "$(dirname "$0")/lib.sh"
require_fixtures debian

R=$T/store
H() { hutch --root "$R" "$@"; }
blob_count() { find "$R/blobs/sha256" -type f | wc -l; }
BB=localhost/hutch-test/busybox:latest
DEB=localhost/hutch-test/debian:bookworm
WH=localhost/hutch-test/whiteout:latest

# docker-archive made by skopeo
H load -i "$FIX/busybox.docker.tar"
is "$rc" 0 "load a docker-archive"
is "$out" "Loaded image: $BB" "and say its name"
is "$(stat -c '%a' "$R")" 700 "the store root is 0700"
for f in oci-layout index.json blobs/sha256; do
  ok "$([ -e "$R/$f" ]; echo $?)" "the store has $f"
done
H images --format json
id=$(json_get "$out" 'd[0]["Id"]')
digest=$(json_get "$out" 'd[0]["Digest"]')
is "$(json_get "$out" 'd[0]["RepoTags"]')" "['$BB']" "images --format json lists the name"
is "$(sha256sum "$R/blobs/sha256/$id" | cut -d' ' -f1)" "$id" "the image ID is the config's sha256"

# skopeo and umoci read the store as an OCI layout
s=$(skopeo inspect "oci:$R:$BB" 2>&1) && src=0 || src=$?
is "$src" 0 "skopeo inspect oci:STORE:NAME reads the store"
is "$(json_get "$s" 'd["Digest"]')" "$digest" "and finds the manifest hutch lists"
u=$(umoci ls --layout "$R" 2>&1) && urc=0 || urc=$?
is "$urc" 0 "umoci ls --layout STORE reads it"
is "$u" "$BB" "and lists the name"
tar_digest=$(tar -xOf "$FIX/busybox.docker.tar" manifest.json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["Layers"][0])')
layer=$(tar -xOf "$FIX/busybox.docker.tar" "$tar_digest" | sha256sum | cut -d' ' -f1)
ok "$([ ! -e "$R/blobs/sha256/$layer" ]; echo $?)" "the plain layer is not stored as it came"
s=$(skopeo inspect --raw "oci:$R:$BB" 2>&1)
is "$(json_get "$s" 'd["layers"][0]["mediaType"]')" "application/vnd.oci.image.layer.v1.tar+gzip" \
  "but gzipped, as a pulled layer is"
gz=$(json_get "$s" 'd["layers"][0]["digest"]')
is "$(gzip -dc "$R/blobs/sha256/${gz#sha256:}" | sha256sum | cut -d' ' -f1)" "$layer" \
  "and it unpacks to the diff id, unchanged"
gz_size=$(stat -c %s "$R/blobs/sha256/${gz#sha256:}")
plain_size=$(tar -xOf "$FIX/busybox.docker.tar" "$tar_digest" | wc -c)
ok "$([ $((gz_size * 100 / plain_size)) -le 60 ]; echo $?)" \
  "at 60% of the plain layer's size or less (busybox's binary compresses to about half)"

# The same image from an oci-archive (gzipped layer): one image, one ID
H load -i "$FIX/busybox.oci.tar"
is "$rc" 0 "load an oci-archive made by skopeo"
H images -q
is "$out" "${id:0:12}" "the same config is the same image: one line, the same ID"
H system df --format json
is "$(json_get "$out" 'd["UnusedBlobs"]')" 2 "the plain-layer packing is left unused (manifest and layer)"
H system prune
is "$rc" 0 "system prune"
like "$out" "2 unused blobs" "removes them"
is "$(blob_count)" 3 "leaving manifest, config and layer"
s=$(skopeo inspect "oci:$R:$BB" 2>&1) && src=0 || src=$?
is "$src" 0 "skopeo still reads the image after prune"

# OCI layout directory, and a gzipped docker-archive on stdin
H load --input-format oci-dir -i "$FIX/whiteout/oci"
is "$rc:$out" "0:Loaded image: $WH" "load an OCI layout directory"
out=$("$HUTCH" --root "$R" load <"$FIX/debian.docker.tar.gz" 2>"$T/stdin.err") && rc=0 || rc=$?
is "$rc:$out" "0:Loaded image: $DEB" "load a gzipped docker-archive from stdin"
like "$(cat "$T/stdin.err")" "layer 1 \(sha256:[0-9a-f]{64}\): skipped 8 device nodes" "one warning for the layer's device nodes"

H images
is "$rc" 0 "images"
like "$out" "^REPOSITORY +TAG +IMAGE ID +CREATED +SIZE" "has docker's columns"
like "$out" "localhost/hutch-test/debian +bookworm +[0-9a-f]{12} +[0-9]+ months? ago +[0-9.]+ MB" "a row per name"
is "$(printf '%s\n' "$out" | wc -l)" 4 "three images and the header"

H image inspect "$DEB"
is "$rc" 0 "image inspect"
is "$(json_get "$out" 'sorted(d[0].keys())')" \
  "['Architecture', 'Author', 'Config', 'Created', 'Digest', 'History', 'Id', 'Labels', 'ManifestType', 'Os', 'RepoDigests', 'RepoTags', 'RootFS', 'Size']" \
  "has podman's fields"
is "$(json_get "$out" 'd[0]["Config"]["Cmd"]')" "['/bin/bash']" "Config is the image's"
is "$(json_get "$out" 'len(d[0]["RootFS"]["Layers"])')" 1 "RootFS lists the diff_ids"
like "$(json_get "$out" 'd[0]["RepoDigests"][0]')" "^localhost/hutch-test/debian@sha256:[0-9a-f]{64}$" "RepoDigests"
deb_id=$(json_get "$out" 'd[0]["Id"]')
deb_digest=$(json_get "$out" 'd[0]["Digest"]')
H image inspect "${deb_id:0:8}"
is "$(json_get "$out" 'd[0]["Id"]')" "$deb_id" "inspect by an ID prefix"
H image inspect "$deb_digest"
is "$(json_get "$out" 'd[0]["Id"]')" "$deb_id" "inspect by manifest digest"
H image inspect "localhost/hutch-test/debian@$deb_digest"
is "$(json_get "$out" 'd[0]["Id"]')" "$deb_id" "inspect by name@digest"
H image inspect nosuchimage
is "$rc" 125 "inspect of an unknown image exits 125"
like "$err" "docker.io/library/nosuchimage:latest\" is not in the store" "naming the normalised name"
H image inspect "$WH"
is "$(json_get "$out" 'd[0]["Labels"]["org.example.fixture"]')" whiteout "Labels"
is "$(json_get "$out" 'len(d[0]["History"])')" 3 "History, one per layer"

# tag and rmi
H tag "$BB" mybox:1 localhost:5000/team/box:v2
is "$rc" 0 "tag with two new names"
H images --format json
is "$(json_get "$out" '[i["RepoTags"] for i in d if i["Id"] == "'$id'"][0]')" \
  "['$BB', 'docker.io/library/mybox:1', 'localhost:5000/team/box:v2']" "the image has three names"
H tag "$BB" Bad/Name
is "$rc:$(printf '%s' "$err" | grep -c lowercase)" "125:1" "an invalid new name is refused"
H rmi "${id:0:12}"
is "$rc" 125 "rmi by ID refuses an image with several names"
like "$err" "has 3 names; remove them one by one or use --force" "and says what to do"
n=$(blob_count)
H rmi mybox:1
is "$rc:$out" "0:Untagged: docker.io/library/mybox:1" "rmi NAME untags"
is "$(blob_count)" "$n" "and removes no blob while other names remain"
H rmi --force "$id"
is "$rc" 0 "rmi --force ID"
like "$out" "Deleted: $id" "deletes the image"
is "$(blob_count)" $((n - 3)) "and its three blobs"
s=$(skopeo inspect "oci:$R:$DEB" 2>&1) && src=0 || src=$?
is "$src" 0 "the other images are intact"

# The layout docker save writes since Docker 25: an OCI layout plus a
# manifest.json whose paths are blobs/sha256/<digest>, layers uncompressed.
python3 - "$FIX/busybox/oci" "$T/docker25.tar" <<'PY'
import gzip, hashlib, io, json, os, sys, tarfile
src, dst = sys.argv[1:]
blob = lambda d: open(os.path.join(src, "blobs/sha256", d[7:]), "rb").read()
index = json.load(open(os.path.join(src, "index.json")))
manifest = json.loads(blob(index["manifests"][0]["digest"]))
config = manifest["config"]["digest"]
layer = gzip.decompress(blob(manifest["layers"][0]["digest"]))
ldigest = "sha256:" + hashlib.sha256(layer).hexdigest()
members = {"oci-layout": b'{"imageLayoutVersion":"1.0.0"}',
           "blobs/sha256/" + config[7:]: blob(config),
           "blobs/sha256/" + ldigest[7:]: layer,
           "manifest.json": json.dumps([{"Config": "blobs/sha256/" + config[7:],
                                         "RepoTags": ["localhost/hutch-test/docker25:latest"],
                                         "Layers": ["blobs/sha256/" + ldigest[7:]]}]).encode()}
with tarfile.open(dst, "w") as t:
    for name, data in members.items():
        info = tarfile.TarInfo(name); info.size = len(data); t.addfile(info, io.BytesIO(data))
PY
H load -i "$T/docker25.tar"
is "$rc:$out" "0:Loaded image: localhost/hutch-test/docker25:latest" "load a Docker 25 docker-archive (blobs/sha256 paths)"
H image inspect localhost/hutch-test/docker25
is "$(json_get "$out" 'd[0]["Id"]')" "$id" "its ID is its config's digest, as busybox's"

# errors
H load -i "$T/nonexistent.tar"
is "$rc" 125 "a missing file exits 125"
like "$err" "opening archive $T/nonexistent.tar: No such file" "naming it"
H load --input-format docker-archive -i "$FIX/busybox.oci.tar"
like "$err" "has no manifest.json: not a docker-archive" "a format that does not match is named"
H load --input-format tarball -i "$FIX/busybox.oci.tar"
is "$rc" 125 "an unknown --input-format is a usage error"
H load --platform a/b/c/d -i "$FIX/busybox.oci.tar"
like "$err" "invalid platform" "so is a bad --platform"

# Two loads of one archive at once: both succeed, one copy of each blob.
R2=$T/par
for f in debian.docker.tar whiteout.oci.tar; do
  rm -rf "$R2"
  "$HUTCH" --root "$R2" load -q -i "$FIX/$f" >"$T/p1" 2>&1 & p1=$!
  "$HUTCH" --root "$R2" load -q -i "$FIX/$f" >"$T/p2" 2>&1 & p2=$!
  wait $p1; r1=$?
  wait $p2; r2=$?
  is "$r1:$r2" "0:0" "two parallel loads of $f both succeed"
  out=$("$HUTCH" --root "$R2" images -q)
  is "$(printf '%s\n' "$out" | wc -l)" 1 "and make one image"
  want=$(python3 -c 'import json,sys; m=json.load(open(sys.argv[1])); print(len(m["layers"]) + 2)' \
    "$R2/blobs/sha256/$(json_get "$(cat "$R2/index.json")" 'd["manifests"][0]["digest"][7:]')")
  is "$(find "$R2/blobs/sha256" -type f | wc -l)" "$want" "with one copy of each blob"
  is "$(ls "$R2/locks")" "$(printf 'index\nstore')" "and no blob lock left behind"
done
