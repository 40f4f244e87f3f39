#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Volumes as docker users type them: hutch volume create|ls|inspect|rm|prune,
# -v NAME:/path (made on first use, filled from the image), -v /path
# (anonymous, gone with run --rm), the -v options ro, rw, z, Z, U, O and
# nocopy, --mount of each type, and the bad input of each, refused with 125.
. "$(dirname "$0")/lib.sh"
require_fixtures debian

R=$T/store
BB=localhost/hutch-test/busybox:latest
DEB=localhost/hutch-test/debian:bookworm
H() { hutch --root "$R" "$@"; }
run() { hutch --root "$R" run --rm --network none "$@"; }
"$HUTCH" --root "$R" load -q -i "$FIX/busybox.docker.tar" 2>/dev/null
"$HUTCH" --root "$R" load -q -i "$FIX/debian.oci.tar" 2>/dev/null
at_exit '"$HUTCH" --root "$R" unshare rm -rf "$R" 2>/dev/null'

# ---- the store of volumes ----
H volume create --label team=web --label tier=db data1
is "$rc:$out" "0:data1" "volume create NAME prints the name"
H volume create
like "$rc:$out" '^0:[0-9a-f]{64}$' "without a name: a random 64-hex name, printed"
random=$out
H volume create data1
is "$rc:$out" "0:data1" "creating one that exists gives it back, as docker does"
is "$(stat -c %a "$R/volumes"):$(stat -c %a "$R/volumes/data1"):$(stat -c %U "$R/volumes/data1")" \
  "700:700:$(id -un)" "volumes/ and each volume are 0700 and the user's"
H volume ls
like "$out" '^DRIVER +VOLUME NAME' "ls: docker's header"
like "$out" "local +data1" "ls: a row of each volume"
H volume ls -q
is "$out" "$(printf '%s\ndata1\n' "$random" | LC_ALL=C sort)" "ls -q: the names alone, by name"
H volume ls --format json
is "$(json_get "$out" '[v["Name"] for v in d] == sorted(["data1", "'"$random"'"])')" "True" \
  "ls --format json: an array of volumes"
H volume ls --format '{{.Name}} {{.Driver}}'
like "$out" "^data1 local$|
data1 local" "ls --format TEMPLATE"
H volume inspect data1
is "$rc" 0 "volume inspect"
is "$(json_get "$out" '(d[0]["Name"], d[0]["Driver"], d[0]["Scope"], d[0]["Labels"], d[0]["Mountpoint"])')" \
  "('data1', 'local', 'local', {'team': 'web', 'tier': 'db'}, '$R/volumes/data1/_data')" \
  "inspect: docker's Name, Driver, Scope, Labels, Mountpoint"
like "$(json_get "$out" 'd[0]["CreatedAt"]')" '^20[0-9]{2}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z$' "inspect: CreatedAt"
H volume inspect -f '{{.Mountpoint}}' data1
is "$out" "$R/volumes/data1/_data" "inspect -f TEMPLATE"
H volume inspect no-such
is "$rc" 125 "inspect of a volume that is not there: 125"
like "$err" "no such volume: no-such" "naming it"

"$HUTCH" --root "$R" __complete volume rm da >"$T/complete" 2>&1
is "$(sed 1d "$T/complete")" "data1" "hutch __complete offers volume names to volume rm"

for bad in x 'a b' -ab _ab 'a/b' '..'; do
  H volume create -- "$bad"
  is "$rc" 125 "volume create \"$bad\": 125"
  like "$err" "is not a volume name" "  saying it is not a name"
done

# ---- -v NAME:/path ----
run -v data1:/data "$BB" sh -c 'touch /data/made-by-root && echo kept >/data/f && stat -c %u:%g /data/f'
is "$rc:$out" "0:0:0" "-v NAME:/path: root inside writes to the volume, as root"
run -v data1:/data "$BB" cat /data/f
is "$rc:$out" "0:kept" "what one container wrote is there in the next"
is "$(stat -c %u "$R/volumes/data1/_data/f")" "$(id -u)" "on the host, container root's file is the user's"
run -v fresh1:/x "$BB" true
H volume ls -q
like "$out" "fresh1" "a volume named by -v is made on first use"

# copy-up: docker fills an empty volume from the image, owners kept
run -v var1:/var "$DEB" stat -c '%u:%g %a' /var/local /var/mail
is "$out" "$(printf '0:50 2775\n0:8 2775')" "an empty volume is filled with the image's files there, owners and modes kept"
run "$DEB" stat -c '%u:%g %a' /var/local
is "$out" "0:50 2775" "  (as the image has them)"
run -v data1:/etc "$BB" sh -c 'test -e /etc/passwd && echo filled || echo kept'
is "$out" "kept" "a volume that holds something is not filled again"
run -v nocopy1:/etc:nocopy "$BB" sh -c 'test -e /etc/passwd && echo filled || echo empty'
is "$out" "empty" "-v NAME:/path:nocopy is not filled"

# inspect of the container, rm of a volume in use
H create --name user1 --network none -v data1:/data "$BB" true
id1=$out
H inspect user1
is "$(json_get "$out" '[(m["Type"], m["Name"], m["Destination"], m["Source"]) for m in d[0]["Mounts"]]')" \
  "[('volume', 'data1', '/data', '$R/volumes/data1/_data')]" "inspect: Mounts has Type volume and its Name"
H volume rm data1
is "$rc" 125 "volume rm of a volume a container (not running) uses: 125"
like "$err" "volume data1 is in use by container user1 \(${id1:0:12}, created\)" "naming the container"
H volume rm -f data1
is "$rc" 125 "-f does not remove a volume in use either"
H volume prune
unlike "$out" "data1" "prune leaves a volume in use"
H rm user1
H volume ls -q
like "$out" "data1" "rm of the container leaves its named volume"
H volume rm no-such
is "$rc" 125 "rm of a volume that is not there: 125"
H volume rm -f no-such
is "$rc:$out" "0:no-such" "rm -f of one that is not there: no error (named, as docker does)"

# ---- anonymous volumes ----
before=$("$HUTCH" --root "$R" volume ls -q | wc -l)
run -v /anon "$DEB" sh -c 'echo x >/anon/x && mkdir /anon/d && chown 1000:1000 /anon/d && touch /anon/d/y'
is "$rc" 0 "-v /path: an anonymous volume"
is "$("$HUTCH" --root "$R" volume ls -q | wc -l)" "$before" "run --rm removes it with the container, files of other ids too"
run -v /anon -e '=x' "$BB" true
is "$rc:$("$HUTCH" --root "$R" volume ls -q | wc -l)" "125:$before" "a run that fails once its volumes are made leaves no anonymous one"
run -v /anon -v "$T/host-missing:/x" "$BB" true
is "$rc:$("$HUTCH" --root "$R" volume ls -q | wc -l)" "125:$before" "  nor one refused before"
H run --network none -u no-such-user -v /anon "$BB" true
is "$rc:$("$HUTCH" --root "$R" volume ls -q | wc -l)" "125:$before" "  nor one of a container that could not start"
H run --network none -v /anon "$BB" /no-such-command
is "$rc:$("$HUTCH" --root "$R" volume ls -q | wc -l)" "127:$((before + 1))" \
  "one whose command is not there is kept with its container, as docker keeps them"
H ps -aq
H rm -v $out
is "$rc:$("$HUTCH" --root "$R" volume ls -q | wc -l)" "0:$before" "  until rm -v"
H run -d --rm --network none -v /anon "$DEB" sh -c 'mkdir /anon/d && touch /anon/d/f && chown -R 1000:1000 /anon/d'
for _ in $(seq 200); do
  [ "$("$HUTCH" --root "$R" volume ls -q | wc -l)" = "$before" ] && [ -z "$("$HUTCH" --root "$R" ps -aq)" ] && break
  tick
done
is "$("$HUTCH" --root "$R" volume ls -q | wc -l)" "$before" "run -d --rm: its monitor removes the anonymous volume too"
H run --name anon1 --network none -v /anon "$BB" sh -c 'echo a >/anon/a'
H inspect anon1
anon=$(json_get "$out" 'd[0]["Mounts"][0]["Name"]')
like "$anon" '^[0-9a-f]{64}$' "without --rm it gets a 64-hex name"
H volume inspect "$anon"
is "$(json_get "$out" 'd[0]["Anonymous"]')" "True" "  marked anonymous"
H rm anon1
H volume ls -q
like "$out" "$anon" "rm (without --rm at run) keeps it, as docker's rm without -v"
H run --name anon2 --network none -v /anon -v data1:/data "$BB" sh -c 'echo a >/anon/a'
H inspect anon2
anon2=$(json_get "$out" '[m["Name"] for m in d[0]["Mounts"] if m["Destination"] == "/anon"][0]')
H rm -v anon2
H volume ls -q
is "$rc:$(grep -c "$anon2" <<<"$out"):$(grep -c '^data1$' <<<"$out")" "0:0:1" \
  "rm -v removes its anonymous volumes, not the named ones"

# files of the container's other users belong to subordinate ids
run -v subs1:/s "$BB" sh -c 'mkdir /s/d && touch /s/d/f && chown -R 1000:1000 /s/d && chmod 700 /s/d && chown 1000 /s'
H volume rm subs1
is "$rc:$out" "0:subs1" "volume rm deletes files of the container's other ids too"
ok "$([ ! -e "$R/volumes/subs1" ] && [ -z "$(ls -A "$R/volumes" | grep -v '^\.lock$' | grep '^\.')" ]; echo $?)" \
  "  nothing of it is left, not even a temporary directory"

# ---- -v options ----
mkdir -p "$T/host"
echo orig >"$T/host/f"
run -v "$T/host:/h:ro" "$BB" sh -c 'cat /h/f && touch /h/new'
like "$rc:$out:$err" "^1:orig:.*Read-only file system" ":ro: read, not written"
run -v "$T/host:/h:rw,z" "$BB" sh -c 'touch /h/new-z && echo ok'
is "$rc:$out" "0:ok" ":rw,z accepted (SELinux is off here: nothing to relabel)"
run -v "$T/host:/h:Z" "$BB" true
is "$rc" 0 ":Z accepted"
run -v "$T/host:/h:O" "$BB" sh -c 'cat /h/f; echo changed >/h/f; touch /h/g; cat /h/f; ls /h'
is "$rc:$out" "$(printf '0:orig\nchanged\nf\ng\nnew-z')" ":O: the container sees the host's files and may write over them"
is "$(cat "$T/host/f"):$(ls "$T/host" | tr '\n' ' ')" "orig:f new-z " "  the host's directory is untouched"
H run --name ovl1 --network none -v "$T/host:/h:O" "$BB" sh -c 'echo again >/h/f'
H inspect ovl1
is "$(json_get "$out" 'd[0]["Mounts"][0]["Mode"]')" "O" "  inspect shows the mode"
cid=$(json_get "$out" 'd[0]["Id"]')
ok "$([ ! -e "$R/containers/$cid/overlay/0/upper/f" ]; echo $?)" "  its writes are thrown away when the container ends"
H start -a ovl1
H run --rm --network none -v "$T/host:/h:O" "$BB" cat /h/f
is "$out" "orig" "  and the next run sees the host's file again"
H rm ovl1

sub=$(awk -F: -v u="$(id -un)" '$1 == u { print $2; exit }' /etc/subuid)
if [ -n "$sub" ]; then
  mkdir -p "$T/own/d" && touch "$T/own/d/f"
  run -u 1000:1000 -v "$T/own:/own:U" "$BB" sh -c 'touch /own/d/mine && stat -c %u:%g /own /own/d/f /own/d/mine'
  is "$rc:$out" "$(printf '0:1000:1000\n1000:1000\n1000:1000')" ":U: the source is the container user's, files inside too"
  is "$(stat -c %u "$T/own/d/f")" "$((sub + 999))" "  on the host: the subordinate uid that user maps to"
  "$HUTCH" --root "$R" unshare chown -R 0:0 "$T/own"
else
  skip "no subordinate ids for $(id -un): :U needs them"
  skip ":U on the host"
fi

run -v "$T/host:/h:bogus" "$BB" true
is "$rc" 125 "an unknown -v option: 125"
like "$err" 'unknown option "bogus" \(the options are ro, rw, z, Z, U, O, nocopy' "  naming it and the known ones"
run -v "$T/host:/h:ro,rw" "$BB" true
like "$rc:$err" "^125:.*ro and rw at once" ":ro,rw: 125"
run -v data1:/h:O "$BB" true
like "$rc:$err" "^125:.*O lays an overlay over a host directory, not a volume" ":O on a volume: 125"
run -v 'bad name:/h' "$BB" true
like "$rc:$err" '^125:.*"bad name" is not a volume name' "-v with a source that is no name: 125"
run -v data1:relative "$BB" true
like "$rc:$err" "^125:.*the container path must be absolute" "-v with a relative container path: 125"
run -v "$T/no-such:/x" "$BB" true
like "$rc:$err" "^125:.*the host path $T/no-such: No such file" "-v of a host path that is not there: 125"

# ---- --mount ----
run --mount "type=bind,src=$T/host,dst=/h,readonly" "$BB" sh -c 'cat /h/f; touch /h/x'
like "$rc:$out:$err" "^1:orig:.*Read-only file system" "--mount type=bind,src,dst,readonly"
run --mount "type=bind,source=$T/host,target=/h,ro=false" "$BB" sh -c 'touch /h/x && echo ok'
is "$rc:$out" "0:ok" "--mount type=bind,source,target,ro=false"
run --mount "type=volume,source=mvol,destination=/m,volume-label=made=by-mount" "$BB" sh -c 'touch /m/q && echo ok'
is "$rc:$out" "0:ok" "--mount type=volume makes the volume"
H volume inspect mvol
is "$(json_get "$out" 'd[0]["Labels"]')" "{'made': 'by-mount'}" "  with its volume-label"
run --mount "type=tmpfs,target=/t,tmpfs-size=1m,tmpfs-mode=1770" "$BB" sh -c 'stat -c %a /t; df -k /t | tail -n 1'
like "$rc:$out" "^0:1770
tmpfs +1024 " "--mount type=tmpfs,tmpfs-size,tmpfs-mode"
before=$("$HUTCH" --root "$R" volume ls -q | wc -l)
run --mount target=/anon "$BB" sh -c 'touch /anon/x && echo ok'
is "$rc:$out:$("$HUTCH" --root "$R" volume ls -q | wc -l)" "0:ok:$before" "--mount without type or source: an anonymous volume, gone with --rm"
run --mount "type=tmpfs,target=/t,bogus=1" "$BB" true
like "$rc:$err" '^125:.*unknown key "bogus" \(the keys are type, source' "--mount with an unknown key: 125, naming the keys"
run --mount "type=nfs,target=/t" "$BB" true
like "$rc:$err" '^125:.*unknown type "nfs" \(use bind, volume or tmpfs\)' "--mount with an unknown type: 125"
run --mount "type=bind,src=$T/host" "$BB" true
like "$rc:$err" "^125:.*no target=" "--mount without a target: 125"
run --mount "type=volume,src=$T/host,dst=/x" "$BB" true
like "$rc:$err" "^125:.*a volume's source is its name" "--mount type=volume of a path: 125"
run --mount "type=tmpfs,dst=/x,tmpfs-size=lots" "$BB" true
like "$rc:$err" "^125:.*tmpfs-size=lots" "--mount tmpfs-size that is no size: 125"

# ---- prune ----
H volume prune -f
like "$rc:$out" "^0:Deleted Volumes:" "prune prints what it deleted"
like "$out" "Total reclaimed space: " "  and what it freed"
like "$out" "data1" "  a volume no container uses goes"
H volume ls -q
is "$out" "" "nothing is left"
H volume prune
is "$rc:$out" "0:Total reclaimed space: 0 bytes" "prune of nothing"
