#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The round trip of issue 20, as a user walks it (docs/round-trip.md): run
# a shell that writes /root/testfolder/testfile, see that a new run does not
# have it, diff, commit the container, save the image, untar the archive and
# find the file in the new layer's layer.tar, owned by the uid that wrote it,
# and a deleted file as a .wh. entry; then hand the archive to podman and
# skopeo, and load it back into a fresh store. (push.t takes images to a
# registry and back.)
. "$(dirname "$0")/lib.sh"
require_fixtures debian
busybox_store
DEB=localhost/hutch-test/debian:bookworm
H load -q -i "$FIX/debian.docker.tar"
ok $rc "the Debian image loaded"

# 1. a container writes a file (as uid 1000) and deletes one of the image's
H run --name walk --network none "$DEB" sh -c \
  'mkdir -p /root/testfolder && echo hello > /root/testfolder/testfile &&
   chown 1000:1000 /root/testfolder/testfile && rm /etc/issue.net && echo written'
is "$out" "written" "the container wrote /root/testfolder/testfile and deleted /etc/issue.net"

# 2. a new container does not have it
H run --rm --network none "$DEB" sh -c 'cat /root/testfolder/testfile 2>&1; test -e /etc/issue.net && echo issue.net-there'
like "$out" "No such file" "a new container of the image has no testfile"
like "$out" "issue.net-there" "and still has /etc/issue.net"

# 3. diff shows the change, docker's way
H diff walk
like "$out" "^A /root/testfolder/testfile$" "diff: A /root/testfolder/testfile"
like "$out" "^D /etc/issue\.net$" "diff: D /etc/issue.net"
like "$out" "^C /root$" "diff: C /root"
unlike "$out" "/etc/hostname|/etc/hosts|/etc/resolv.conf" "diff leaves out the files hutch generated"

# 4. commit it
H commit -m "add testfile" walk localhost/walk:1
ok $rc "commit walk localhost/walk:1"
like "$out" "^(sha256:)?[0-9a-f]{64}$" "commit prints the new image's id"
H run --rm --network none localhost/walk:1 sh -c 'cat /root/testfolder/testfile; stat -c %u /root/testfolder/testfile; test -e /etc/issue.net || echo no-issue.net'
is "$out" "hello
1000
no-issue.net" "the committed image runs with the change, the file owned by 1000"
H image inspect localhost/walk:1
hist=$(json_get "$out" 'd[0]["History"][-1].get("comment", "")' 2>/dev/null)
is "$hist" "add testfile" "the image's last history entry carries the message"

# 5. save it and find the file in the new layer's layer.tar
H save -o "$T/walk.tar" localhost/walk:1
ok $rc "save -o walk.tar"
mkdir "$T/x"
tar -C "$T/x" -xf "$T/walk.tar"
ok $? "the archive untars"
ls "$T/x/manifest.json" >/dev/null 2>&1
ok $? "with a manifest.json"
last=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[0]["Layers"][-1])' "$T/x/manifest.json")
n=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))[0]["Layers"]))' "$T/x/manifest.json")
is "$n" 2 "two layers: the image's and the commit's"
listing=$(tar --numeric-owner -tvf "$T/x/$last")
like "$listing" " 1000/1000 .* root/testfolder/testfile" "the new layer.tar has root/testfolder/testfile, owned by 1000 (not a subordinate id)"
like "$listing" "etc/\.wh\.issue\.net" "the deleted file is a .wh. entry"
unlike "$listing" "etc/hostname|etc/hosts|etc/resolv\.conf" "no file hutch generated is in the layer"
is "$(tar -xOf "$T/x/$last" root/testfolder/testfile)" "hello" "with its content"

# 6. skopeo and podman read what hutch wrote
out=$(skopeo inspect "docker-archive:$T/walk.tar" 2>&1)
ok $? "skopeo inspect docker-archive:"
is "$(json_get "$out" 'len(d["Layers"])')" 2 "skopeo sees two layers"
export XDG_RUNTIME_DIR
P() { podman --root "$T/podman" --runroot "$T/podman-run" --runtime runc --cgroup-manager cgroupfs \
  --events-backend file "$@" 2>"$T/podman.err"; }
at_exit 'podman --root "$T/podman" --runroot "$T/podman-run" unshare rm -rf "$T/podman" >/dev/null 2>&1'
P load -i "$T/walk.tar" >/dev/null
ok $? "podman load of hutch's docker-archive" || sed 's/^/# /' "$T/podman.err"
out=$(P run --rm --network none localhost/walk:1 cat /root/testfolder/testfile)
is "$out" "hello" "podman run of it shows the change" || sed 's/^/# /' "$T/podman.err"
H save --format oci-archive -o "$T/walk.oci.tar" localhost/walk:1
ok $rc "save --format oci-archive"
out=$(skopeo inspect "oci-archive:$T/walk.oci.tar" 2>&1)
ok $? "skopeo inspect oci-archive:"
P rmi -f localhost/walk:1 >/dev/null
P load -i "$T/walk.oci.tar" >/dev/null
ok $? "podman load of hutch's oci-archive" || sed 's/^/# /' "$T/podman.err"
out=$(P run --rm --network none localhost/walk:1 sh -c 'cat /root/testfolder/testfile; stat -c %u /root/testfolder/testfile')
is "$out" "hello
1000" "podman run of it shows the change, owned by 1000"

# 7. load it back into a fresh hutch store
H2() { hutch --root "$T/store2" "$@"; }
at_exit '"$HUTCH" --root "$T/store2" unshare rm -rf "$T/store2" 2>/dev/null'
H2 load -q -i "$T/walk.tar"
ok $rc "hutch load of its own archive into a fresh store"
H2 run --rm --network none localhost/walk:1 cat /root/testfolder/testfile
is "$out" "hello" "and it runs there"
