#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# --userns=keep-id: the user's own uid and gid inside as outside, so what a
# container writes to a bind mount is the user's on the host while the
# image's files keep their owners (from a keep-id copy of the layers);
# the user's /etc/passwd line and HOME; -u over it; the mode kept by the
# container for start, exec, cp, diff and commit; keep-id and default
# containers of one image at once; the keep-id copies removed with their
# layers; bad modes refused; the default map as it was.
. "$(dirname "$0")/lib.sh"
require_fixtures
busybox_store

me=$(id -u)
my_gid=$(id -g)
my_name=$(id -un)
# the first subordinate uid and gid: the host owner of container root under keep-id
sub_uid=$(awk -F: -v u="$my_name" -v n="$me" '$1 == u || $1 == n { print $2; exit }' /etc/subuid)
sub_gid=$(awk -F: -v u="$my_name" -v n="$me" '$1 == u || $1 == n { print $2; exit }' /etc/subgid)
if [ -z "$sub_uid" ] || [ -z "$sub_gid" ]; then
  skip "keep-id needs subordinate ids, and $my_name has none in /etc/subuid and /etc/subgid"
  exit 0
fi
keep_copies() { find "$R/layers" -maxdepth 1 -name '*-keep-id' | wc -l; }
owner() { stat -c %u:%g "$1"; }

# ---- the CI job's case: a checkout bound in, files written as the user ----
mkdir "$T/src"
H run --rm --userns=keep-id -v "$T/src:/src" -w /src "$BB" sh -c 'id -u; id -g; touch f; mkdir d; echo x >d/g'
is "$rc:$out" "0:$(printf '%s\n%s' "$me" "$my_gid")" "keep-id: the command runs as the user's uid and gid"
is "$(owner "$T/src/f")" "$me:$my_gid" "keep-id: the file it wrote in the bind mount is the user's on the host"
is "$(owner "$T/src/d/g")" "$me:$my_gid" "keep-id: and so is what it wrote in a directory it made"
is "$(keep_copies)" 1 "keep-id: the image's one layer has a keep-id copy"

H run --rm --userns=keep-id "$BB" stat -c '%u:%g' /bin/busybox /etc /
is "$rc:$out" "$(printf '0:0:0\n0:0\n0:0')" "keep-id: the image's files, and /, stay owned by root inside"
H run --rm --userns=keep-id --rootfs-driver copy "$BB" stat -c '%u:%g' /bin/busybox /
is "$rc:$out" "$(printf '0:0:0\n0:0')" "keep-id with the copy driver: the same"

H run --rm --userns=keep-id -v "$T/src:/src" -w /src "$BB" sh -c 'id -un; echo "$HOME"; touch "$HOME/.profile-test" && echo writable; grep "^[^:]*:[^:]*:'"$me"':" /etc/passwd | wc -l; grep ":'"$my_gid"':$" /etc/group | cut -d: -f1'
is "$rc:$out" "0:$(printf '%s\n/src\nwritable\n1\n%s' "$my_name" "$my_name")" \
  "keep-id: the user has its name, one passwd line, a group, and HOME is the working directory"
H run --rm --userns=keep-id "$BB" sh -c 'grep -c "^root:" /etc/passwd; grep -c "^nobody:" /etc/passwd'
is "$rc:$out" "0:$(printf '1\n1')" "keep-id: the image's own passwd lines are kept"

case "${HOME:-}" in
  /?*)
    mkdir "$T/home"
    H run --rm --userns=keep-id -v "$T/home:$HOME" "$BB" sh -c 'echo "$HOME"; touch "$HOME/made"'
    is "$rc:$out" "0:$HOME" "keep-id: with the user's home bound in, HOME is that"
    is "$(owner "$T/home/made")" "$me:$my_gid" "keep-id: and what is written there is the user's"
    ;;
  *) skip "HOME is not an absolute path below /" ;;
esac

H run --rm --userns=keep-id --user 0 -v "$T/src:/src" "$BB" sh -c 'id -u; touch /src/by-root; stat -c %u /bin/busybox'
is "$rc:$out" "0:$(printf '0\n0')" "keep-id with --user 0: root inside"
is "$(owner "$T/src/by-root")" "$sub_uid:$sub_gid" \
  "keep-id with --user 0: root's file is the first subordinate id's on the host"

# ---- an image that lists the user's uid: its line is the one used ----
H run --name withuser --user 0 "$BB" sh -c "echo 'imguser:x:$me:$my_gid:image user:/home/imguser:/bin/sh' >>/etc/passwd && mkdir -p /home/imguser"
H commit withuser localhost/t/withuser
is "$rc" 0 "an image whose /etc/passwd has the user's uid"
H run --rm --userns=keep-id localhost/t/withuser sh -c 'id -un; echo "$HOME"; grep -c ":'"$me"':" /etc/passwd'
is "$rc:$out" "0:$(printf 'imguser\n/home/imguser\n1')" "keep-id: the image's line for the uid is used, no second one added"
H rm withuser

# ---- bad modes, and the default as it was ----
before=$(H ps -aq; echo "$out")
H run --rm --userns=auto "$BB" true
is "$rc" 125 "--userns=auto: exit 125"
like "$err" '--userns "auto": unknown mode: use keep-id' "--userns=auto: the message names the accepted modes"
H create --userns=host "$BB" true
is "$rc" 125 "create --userns=host: exit 125"
like "$err" 'keep-id' "create --userns=host: the message names keep-id"
is "$(H ps -aq; echo "$out")" "$before" "a refused mode makes no container"

for mode in default empty; do
  args=()
  [ "$mode" = empty ] && args=(--userns=)
  rm -f "$T/src/root-file"
  H run --rm "${args[@]+"${args[@]}"}" -v "$T/src:/src" "$BB" sh -c 'id -u; touch /src/root-file'
  is "$rc:$out" "0:0" "$mode map: the command runs as root inside"
  is "$(owner "$T/src/root-file")" "$me:$my_gid" "$mode map: root's file in the bind mount is the user's on the host"
done
H run --rm "$BB" stat -c %u /bin/busybox
is "$rc:$out" "0:0" "default map: the image's files are root's inside"

# ---- create, inspect, start, exec, cp and diff keep the container's map ----
mkdir "$T/out"
H create --name kk --userns=keep-id -v "$T/out:/out" "$BB" \
  sh -c 'stat -c %u:%g /tmp/copied; id -u; stat -c %u /bin/busybox; echo mine >/tmp/mine; touch /out/by-start'
is "$rc" 0 "create --userns=keep-id"
H inspect -f '{{.HostConfig.UsernsMode}}' kk
is "$rc:$out" "0:keep-id" "inspect shows HostConfig.UsernsMode keep-id"
H inspect kk
is "$(json_get "$out" '[m["Destination"] for m in d[0]["Mounts"]]')" "['/out']" \
  "inspect: the generated /etc/passwd and /etc/group are no mounts of the user's"
echo copied >"$T/copied"
H cp "$T/copied" kk:/tmp/copied
is "$rc" 0 "cp into the created keep-id container"
H inspect -f '{{.Id}}' kk
is "$(owner "$R/containers/$out/upper/tmp/copied")" "$sub_uid:$sub_gid" \
  "cp: the copied file is the container root's, under the keep-id map (the first subordinate id)"
H start -a kk
is "$rc:$out" "0:$(printf '0:0\n%s\n0' "$me")" \
  "start: cp's file and the image's are root's inside, the command the user's"
is "$(owner "$T/out/by-start")" "$me:$my_gid" "start: what it writes to its bind mount is the user's on the host"
H diff kk
like "$out" '^A /tmp/mine$' "diff of the keep-id container lists its file"
unlike "$out" '/etc/(passwd|group|hostname|hosts)' "diff leaves out the generated /etc files"
H create --name dflt "$BB" true
H inspect -f '{{.HostConfig.UsernsMode}}' dflt
is "$rc:$out" "0:" "inspect: the default mode is empty, as docker's"
H rm dflt

# ---- keep-id and default containers of the image at once ----
H run -d --name kid --userns=keep-id "$BB" sleep 600
is "$rc" 0 "a keep-id container runs detached"
H run -d --name def "$BB" sleep 600
is "$rc" 0 "and a default one of the same image beside it"
H exec kid sh -c 'id -u; stat -c %u /bin/busybox'
is "$rc:$out" "0:$(printf '%s\n0' "$me")" "exec in the keep-id container: the user, and the image's files root's"
H exec -u 0 kid id -u
is "$rc:$out" "0:0" "exec -u 0 in the keep-id container: root"
H exec def sh -c 'id -u; stat -c %u /bin/busybox'
is "$rc:$out" "0:$(printf '0\n0')" "exec in the default container: root, and the files root's"
H rm -f kid def
is "$rc" 0 "both removed"

# ---- commit maps owners back to the image's ids ----
H commit kk localhost/t/k
is "$rc" 0 "commit of the keep-id container"
layer=$(python3 - "$R" localhost/t/k:latest <<'PY'
import json, sys, os
root, name = sys.argv[1], sys.argv[2]
for m in json.load(open(os.path.join(root, "index.json")))["manifests"]:
    if m.get("annotations", {}).get("org.opencontainers.image.ref.name") == name:
        man = json.load(open(os.path.join(root, "blobs/sha256", m["digest"][7:])))
        print(os.path.join(root, "blobs/sha256", man["layers"][-1]["digest"][7:]))
PY
)
list=$(tar --numeric-owner -tvf "$layer" | awk '{ printf "%s %s %s\n", substr($1, 1, 1), $2, $6 }')
like "$list" "^- $me/$my_gid tmp/mine\$" "commit: the user's file is the user's uid in the layer"
like "$list" '^- 0/0 tmp/copied$' "commit: root's file is 0 in the layer"
unlike "$list" 'etc/(passwd|group)' "commit: the generated /etc/passwd and /etc/group are left out"
H run --rm localhost/t/k stat -c %u /tmp/mine /tmp/copied /bin/busybox
is "$rc:$out" "0:$(printf '%s\n0\n0' "$me")" "the committed image, run with the default map: owners as committed"
H run --rm --userns=keep-id localhost/t/k stat -c %u /tmp/mine /tmp/copied /bin/busybox
is "$rc:$out" "0:$(printf '%s\n0\n0' "$me")" "and with keep-id: the same owners"
H system check
is "$rc" 0 "system check is clean with keep-id copies in the store"
like "$out" 'no problems' "system check: no problems"

# ---- the keep-id copies go with their layers ----
H rm kk
H rmi localhost/t/k localhost/t/withuser
is "$rc" 0 "rmi of the committed images"
is "$(find "$R/layers" -maxdepth 1 -name '*-keep-id' | wc -l)" 1 \
  "rmi took the committed layers' keep-id copies; busybox's stays"
H rmi "$BB"
is "$rc" 0 "rmi of busybox, whose layer has both copies"
is "$(ls -A "$R/layers")" "" "no layer, copy, tombstone or .tmp- is left in layers/"
"$HUTCH" --root "$R" load -q -i "$FIX/busybox.docker.tar" 2>/dev/null
H run --name k2 --userns=keep-id "$BB" touch /tmp/two
H commit k2
is "$rc" 0 "an untagged commit of a keep-id container"
H rm k2
is "$(keep_copies)" 2 "the busybox layer and the new one have keep-id copies"
H system prune -f
is "$rc" 0 "system prune"
is "$(keep_copies)" 1 "prune took the untagged image's layer with its keep-id copy; busybox's stays"
H rmi "$BB"
is "$(ls -A "$R/layers")" "" "and rmi the rest: layers/ is empty"
H system check
is "$rc" 0 "system check is clean afterwards"
like "$out" 'no problems' "system check afterwards: no problems"
