#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# hutch diff and hutch commit under each rootfs driver (kernel overlay,
# fuse-overlayfs, a private copy): the changes as docker lists them, the
# new layer's tar (owners as the container saw them, hard links, .wh.
# whiteouts, opaque directories, generated files and mount points left
# out), the committed image running at once from the layer cache, the
# -c changes in its config, and bad input refused with the store as it was.
. "$(dirname "$0")/lib.sh"
require_fixtures
busybox_store

# the blob of the last layer of image $1, and its media type
last_layer() {
  python3 - "$R" "$1" <<'PY'
import json, sys, os
root, name = sys.argv[1], sys.argv[2]
idx = json.load(open(os.path.join(root, "index.json")))
for m in idx["manifests"]:
    if m.get("annotations", {}).get("org.opencontainers.image.ref.name") == name:
        man = json.load(open(os.path.join(root, "blobs/sha256", m["digest"][7:])))
        l = man["layers"][-1]
        print(os.path.join(root, "blobs/sha256", l["digest"][7:]), l["mediaType"], man["mediaType"])
PY
}
# the layer's entries: "TYPE UID/GID NAME" (tar -tv, numeric owners)
layer_list() {
  tar --numeric-owner -tvf "$1" | awk '{ printf "%s %s %s\n", substr($1, 1, 1), $2, $6 }'
}
store_state() { (cd "$R" && cat index.json && ls blobs/sha256 layers | LC_ALL=C sort); }

# what each container does: a file of uid 1000, a hard link, a deleted
# file, a new directory, an emptied-and-remade directory (opaque), a
# volume and a tmpfs whose mount points must not be kept
work='echo hi >/root/f && ln /root/f /root/f2 && echo u >/tmp/ufile && chown 1000:1000 /tmp/ufile &&
  rm /bin/ls && mkdir -p /newd/sub && echo x >/newd/sub/y && rm -rf /opq && mkdir /opq && echo c >/opq/c'
mkdir -p "$T/vol"
H run --name base "$BB" sh -c 'mkdir /opq && echo a >/opq/a && echo b >/opq/b'
H commit base localhost/t/base
ok $? "a base image with a directory to make opaque"

for d in overlay fuse-overlayfs copy; do
  H run --rootfs-driver "$d" --name "c-$d" -v "$T/vol:/data" --tmpfs /scratch localhost/t/base sh -c "$work"
  is "$rc" 0 "$d: the container made its changes"
  H diff "c-$d"
  is "$rc" 0 "$d: diff exits 0"
  want_diff='A /newd
A /newd/sub
A /newd/sub/y
D /bin/ls
A /root/f
A /root/f2
A /tmp/ufile'
  got=$(grep -E '^[ACD] /(newd|bin/ls|root/f|tmp/ufile)' <<<"$out" | LC_ALL=C sort -k2)
  is "$got" "$(LC_ALL=C sort -k2 <<<"$want_diff")" "$d: diff lists the added and deleted files"
  like "$out" '^C /opq$' "$d: the remade directory is changed"
  like "$out" 'D /opq/a' "$d: what the remade directory hid is deleted"
  unlike "$out" '/etc/(hostname|hosts|resolv.conf)|/data|/scratch|/proc|/sys' \
    "$d: generated files and mount points are not changes"
  unlike "$out" '^C /etc$' "$d: nor is /etc, where hutch made its mount points"
  H diff --format json "c-$d"
  is "$(json_get "$out" 'sorted((c["Path"], c["Kind"]) for c in d if c["Path"].startswith("/newd"))')" \
    "[('/newd', 1), ('/newd/sub', 1), ('/newd/sub/y', 1)]" "$d: diff --format json as docker's API"

  layers_before=$(ls "$R/layers" | wc -l)
  H commit -m "the $d change" -a "Tess <t@example.org>" "c-$d" "localhost/t/$d:v1"
  is "$rc:$err" "0:" "$d: commit exits 0, nothing on stderr"
  like "$out" '^sha256:[0-9a-f]{64}$' "$d: commit prints the new image's ID"
  is "$(ls "$R/layers" | wc -l)" "$((layers_before + 1))" "$d: the new layer is in the layer cache"
  read -r blob mt manifest_mt < <(last_layer "localhost/t/$d:v1")
  is "$mt:$manifest_mt" "application/vnd.oci.image.layer.v1.tar+gzip:application/vnd.oci.image.manifest.v1+json" \
    "$d: an OCI manifest and a gzip layer"
  list=$(layer_list "$blob")
  like "$list" '- 1000/1000 tmp/ufile' "$d: uid 1000's file is owned by 1000 in the tar"
  like "$list" '^- 0/0 root/f$' "$d: root's file is owned by 0"
  like "$list" '^h 0/0 root/f2$' "$d: a hard link is a link"
  like "$list" 'bin/\.wh\.ls' "$d: the deleted file is a .wh. entry"
  if [ "$d" = copy ]; then
    like "$list" 'opq/\.wh\.a' "$d: the remade directory hides what it held by whiteouts"
  else
    like "$list" 'opq/\.wh\.\.wh\.\.opq' "$d: the remade directory is opaque (.wh..wh..opq)"
  fi
  unlike "$list" 'etc/(hostname|hosts|resolv\.conf)|(^| )(data|scratch|proc|sys)/?$' \
    "$d: generated files and mount points are left out"
  H run --rm "localhost/t/$d:v1" sh -c 'cat /root/f /tmp/ufile; stat -c "%u %h" /tmp/ufile /root/f; ls /opq; test ! -e /bin/ls && echo gone'
  is "$rc:$out" "$(printf '0:hi\nu\n1000 1\n0 2\nc\ngone')" "$d: the committed image runs with the change"
  is "$(ls "$R/layers" | wc -l)" "$((layers_before + 1))" "$d: and needed no new unpack"
  H image inspect "localhost/t/$d:v1"
  is "$(json_get "$out" 'd[0]["Author"], d[0]["History"][-1]["comment"], len(d[0]["RootFS"]["Layers"])')" \
    "('Tess <t@example.org>', 'the $d change', 3)" "$d: author, history and the new diff id"

  H commit --squash "c-$d" "localhost/t/sq-$d"
  is "$rc" 0 "$d: commit --squash"
  read -r blob mt manifest_mt < <(last_layer "localhost/t/sq-$d:latest")
  list=$(layer_list "$blob")
  like "$list" '^- 0/0 bin/busybox$' "$d: --squash: the image's files are in the one layer"
  like "$list" '^- 1000/1000 tmp/ufile$' "$d: --squash: and the container's"
  unlike "$list" '(^| )bin/ls$|opq/a$|\.wh\.' "$d: --squash: no deleted file, no whiteout"
  unlike "$list" 'etc/(hostname|hosts|resolv\.conf)|(^| )(data|scratch)/?$' \
    "$d: --squash: generated files and mount points are left out"
  H image inspect "localhost/t/sq-$d"
  is "$(json_get "$out" 'len(d[0]["RootFS"]["Layers"]), len(d[0]["History"])')" "(1, 1)" \
    "$d: --squash: one layer, one history entry"
  H run --rm "localhost/t/sq-$d" sh -c 'cat /root/f; ls /opq; test ! -e /bin/ls && echo gone'
  is "$rc:$out" "$(printf '0:hi\nc\ngone')" "$d: the squashed image runs with the change"
done

# xattrs and file capabilities, set on the container's files from outside
# (the images have no setcap) as root of the user namespace
H inspect -f '{{.Id}}' c-overlay
f=$R/containers/$out/upper/root/f
H unshare sh -c "setcap cap_net_raw+ep '$f' && python3 -c 'import os, sys; os.setxattr(sys.argv[1], \"user.note\", b\"kept\")' '$f'"
is "$rc" 0 "a file capability and a user xattr on /root/f"
H commit c-overlay localhost/t/xattr
read -r blob mt manifest_mt < <(last_layer localhost/t/xattr:latest)
is "$(python3 - "$blob" <<'PY'
import sys, tarfile
with tarfile.open(sys.argv[1]) as t:
    h = t.getmember("root/f").pax_headers
    print(sorted(k for k in h if k.startswith("SCHILY.xattr.")), h.get("SCHILY.xattr.user.note"))
PY
)" "['SCHILY.xattr.security.capability', 'SCHILY.xattr.user.note'] kept" "both are in the layer's tar"
chain=$(python3 - "$R" <<'PY'
import hashlib, json, os, sys
root = sys.argv[1]
for m in json.load(open(os.path.join(root, "index.json")))["manifests"]:
    if m.get("annotations", {}).get("org.opencontainers.image.ref.name") == "localhost/t/xattr:latest":
        man = json.load(open(os.path.join(root, "blobs/sha256", m["digest"][7:])))
        cfg = json.load(open(os.path.join(root, "blobs/sha256", man["config"]["digest"][7:])))
        chain = None
        for d in cfg["rootfs"]["diff_ids"]:
            chain = d if chain is None else "sha256:" + hashlib.sha256((chain + " " + d).encode()).hexdigest()
        print(chain[7:])
PY
)
H unshare getcap "$R/layers/$chain/diff/root/f"
like "$out" 'cap_net_raw[=+]ep' "the unpacked layer in the cache has the capability"

# -c changes
H commit -c 'CMD ["cat", "/etc/motd"]' -c 'ENTRYPOINT /bin/sh -c' -c 'ENV A=1 B="two words"' \
  -c 'WORKDIR /srv' -c 'USER 1000:1000' -c 'EXPOSE 80 53/udp' -c 'LABEL org.x=y' \
  -c 'STOPSIGNAL SIGINT' -c 'VOLUME ["/v"]' c-overlay localhost/t/changed
is "$rc" 0 "commit with every kind of -c change"
H image inspect localhost/t/changed
is "$(json_get "$out" '[(c["Cmd"], c["Entrypoint"], [e for e in c["Env"] if not e.startswith("PATH")], c["WorkingDir"], c["User"], sorted(c["ExposedPorts"]), c["Labels"], c["StopSignal"], list(c["Volumes"])) for c in [d[0]["Config"]]][0]')" \
  "(['cat', '/etc/motd'], ['/bin/sh', '-c', '/bin/sh -c'], ['A=1', 'B=two words'], '/srv', '1000:1000', ['53/udp', '80/tcp'], {'org.x': 'y'}, 'SIGINT', ['/v'])" \
  "the changes are in the image's config"

# untagged, docker format, zstd
H commit c-overlay
id=$out
is "$rc" 0 "commit without a name"
H images -q --no-trunc
like "$out" "${id#sha256:}" "the untagged image is listed by its ID"
H run --rm "${id#sha256:}" cat /root/f
is "$rc:$out" "0:hi" "and runs by its ID"
H commit --format docker c-overlay localhost/t/docker
read -r blob mt manifest_mt < <(last_layer localhost/t/docker:latest)
is "$mt:$manifest_mt" "application/vnd.docker.image.rootfs.diff.tar.gzip:application/vnd.docker.distribution.manifest.v2+json" \
  "--format docker: a Docker schema 2 manifest"
H commit --compression-format zstd c-copy localhost/t/zstd
read -r blob mt manifest_mt < <(last_layer localhost/t/zstd:latest)
is "$mt:$(head -c4 "$blob" | od -An -tx1 | tr -d ' ')" "application/vnd.oci.image.layer.v1.tar+zstd:28b52ffd" \
  "--compression-format zstd: a zstd layer"
H run --rm localhost/t/zstd cat /root/f
is "$rc:$out" "0:hi" "the zstd image runs"

# a running container, with and without --pause
H run -d --name busy "$BB" sh -c 'i=0; while :; do i=$((i+1)); echo $i >/tmp/n.$((i % 50)); done'
for i in $(seq 200); do [ -n "$(H diff busy; grep '^A /tmp/n.1$' <<<"$out")" ] && break; tick; done
H diff busy
is "$rc" 0 "diff of a running container"
like "$out" '^A /tmp/n\.1$' "lists what it is writing"
for p in "" --pause; do
  H commit $p busy "localhost/t/busy$p"
  is "$rc" 0 "commit of a running container ${p:-without --pause}"
  read -r blob mt manifest_mt < <(last_layer "localhost/t/busy$p:latest")
  tar -tzf "$blob" >/dev/null
  ok $? "${p:-without --pause}: the layer is a whole tar"
done
H inspect -f '{{.State.Status}}' busy
is "$out" running "the container runs on after --pause"
H rm -f busy

# bad input: exit 125, a message, the store as it was
before=$(store_state)
H commit no-such-container localhost/t/x
is "$rc" 125 "a container that does not exist: 125"
like "$err" 'no-such-container' "the message names it"
H commit c-overlay 'Bad:Name'
is "$rc" 125 "an invalid reference: 125"
like "$err" 'Bad:Name' "the message names it"
H commit -c 'RUN echo hi' c-overlay localhost/t/x
is "$rc" 125 "an instruction commit cannot make: 125"
like "$err" 'RUN is not a change' "the message names the instruction"
H commit -c 'EXPOSE 99999' c-overlay localhost/t/x
is "$rc" 125 "a bad port: 125"
H commit --format tar c-overlay localhost/t/x
is "$rc" 125 "an unknown --format: 125"
H commit --format docker --compression-format zstd c-overlay localhost/t/x
is "$rc" 125 "docker format with zstd: 125"
H commit c-overlay localhost/t/x@sha256:0000000000000000000000000000000000000000000000000000000000000000
is "$rc" 125 "a name with a digest: 125"
is "$(store_state)" "$before" "the store is as it was after each"
H diff no-such-container
is "$rc" 125 "diff of a container that does not exist: 125"

H system check
is "$rc" 0 "system check finds every committed image, blob and cached layer whole"
[ "$rc" = 0 ] || printf '%s\n' "$out" "$err" | sed 's/^/# /'

# the committed image in podman: the store is an OCI layout, which skopeo
# reads; podman runs the image and sees the change, owners included
if command -v skopeo >/dev/null && command -v podman >/dev/null; then
  P=(podman --root "$T/p" --runroot "$T/pr" --runtime runc --cgroup-manager cgroupfs --storage-driver vfs)
  at_exit '"${P[@]}" unshare rm -rf "$T/p" "$T/pr" 2>/dev/null'
  skopeo copy -q "oci:$R:localhost/t/overlay:v1" "containers-storage:[vfs@$T/p+$T/pr]localhost/t/overlay:v1" \
    >"$T/.skopeo" 2>&1
  is "$?" 0 "skopeo copies the committed image out of the store (an OCI layout)"
  out=$("${P[@]}" run --rm --network none localhost/t/overlay:v1 sh -c 'cat /root/f; stat -c %u /tmp/ufile; test ! -e /bin/ls && echo gone' 2>/dev/null)
  is "$out" "$(printf 'hi\n1000\ngone')" "podman runs it and sees the change, uid 1000's file as uid 1000"
else
  skip "skopeo or podman is not installed"
fi
