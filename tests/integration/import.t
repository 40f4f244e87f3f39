#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# hutch import: a rootfs tarball (plain, gzip, zstd; a file or stdin) as a
# one-layer image that runs at once, with -c changes and -m; what is not
# a safe tar of a root file system refused, exit 125, the store as it was.
. "$(dirname "$0")/lib.sh"
require_fixtures
busybox_store

busybox_layer "$T/rootfs.tar"
gzip -k "$T/rootfs.tar"
zstd -q "$T/rootfs.tar" -o "$T/rootfs.tar.zst"
store_state() { (cd "$R" && cat index.json && ls -a blobs/sha256 layers | LC_ALL=C sort); }
# the layers of image $1: "MEDIATYPE DIGEST" lines
layers_of() {
  python3 - "$R" "$1" <<'PY'
import json, sys, os
root, name = sys.argv[1], sys.argv[2]
for m in json.load(open(os.path.join(root, "index.json")))["manifests"]:
    if m.get("annotations", {}).get("org.opencontainers.image.ref.name") == name:
        for l in json.load(open(os.path.join(root, "blobs/sha256", m["digest"][7:])))["layers"]:
            print(l["mediaType"], l["digest"])
PY
}

H import "$T/rootfs.tar" localhost/t/plain
is "$rc:$err" "0:" "a plain tarball: exit 0, nothing on stderr"
like "$out" '^sha256:[0-9a-f]{64}$' "the image ID is printed"
layers=$(ls "$R/layers" | wc -l)
H run --rm localhost/t/plain echo hello
is "$rc:$out" "0:hello" "the imported image runs"
is "$(ls "$R/layers" | wc -l)" "$layers" "without a new unpack: its layer went into the cache on import"
read -r mt digest < <(layers_of localhost/t/plain:latest)
is "$mt" application/vnd.oci.image.layer.v1.tar+gzip "the layer is kept gzip-compressed"
H image inspect localhost/t/plain
is "$(json_get "$out" 'd[0]["RootFS"]["Layers"][0]')" "sha256:$(sha256sum <"$T/rootfs.tar" | cut -d' ' -f1)" \
  "its diff id is the tarball's own digest"

H import -m "from stdin" -c 'CMD ["echo", "from cmd"]' -c 'ENV X=1' - localhost/t/stdin <"$T/rootfs.tar.gz"
is "$rc" 0 "a gzip tarball on stdin"
H run --rm localhost/t/stdin
is "$rc:$out" "0:from cmd" "-c CMD is the image's command"
H image inspect localhost/t/stdin
is "$(json_get "$out" 'd[0]["History"][-1]["comment"], d[0]["Config"]["Env"]')" "('from stdin', ['X=1'])" \
  "-m in the history, -c ENV in the config"

H import --compression-format zstd "$T/rootfs.tar.zst" localhost/t/zstd
is "$rc" 0 "a zstd tarball, kept as zstd"
read -r mt digest < <(layers_of localhost/t/zstd:latest)
is "$mt" application/vnd.oci.image.layer.v1.tar+zstd "the layer is zstd"
H run --rm localhost/t/zstd echo z
is "$rc:$out" "0:z" "and runs"

H import "$T/rootfs.tar"
id=$out
is "$rc" 0 "without a name"
H images -q --no-trunc
like "$out" "${id#sha256:}" "the untagged image is listed by its ID"

# bad input
before=$(store_state)
H import "$T/no-such-file" localhost/t/x
is "$rc" 125 "a missing file: 125"
like "$err" 'no-such-file' "the message names it"
head -c 100000 /dev/urandom >"$T/noise"
H import "$T/noise" localhost/t/x
is "$rc" 125 "not a tar: 125"
H import - localhost/t/x </dev/null
is "$rc" 125 "nothing on stdin: 125"
head -c 300000 "$T/rootfs.tar.gz" >"$T/cut.tar.gz"
H import "$T/cut.tar.gz" localhost/t/x
is "$rc" 125 "a truncated tarball: 125"
like "$err" 'cut.tar.gz' "the message names the tarball"
python3 - "$T/evil.tar" <<'PY'
import io, sys, tarfile
with tarfile.open(sys.argv[1], "w") as t:
    i = tarfile.TarInfo("../../escape"); i.size = 3; t.addfile(i, io.BytesIO(b"hi\n"))
PY
H import "$T/evil.tar" localhost/t/x
is "$rc" 125 "an entry that climbs out with ..: 125"
test ! -e "$T/escape" && test ! -e "$R/escape" && test ! -e "$R/layers/escape"
ok $? "nothing was written outside"
H import -c 'FROM busybox' "$T/rootfs.tar" localhost/t/x
is "$rc" 125 "an unknown -c instruction: 125"
like "$err" 'FROM is not a change' "the message names it"
H import "$T/rootfs.tar" 'NOT VALID'
is "$rc" 125 "an invalid name: 125"
is "$(store_state)" "$before" "the store is as it was after each (no blob, layer or .tmp- left)"
