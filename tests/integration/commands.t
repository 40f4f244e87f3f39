#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The commands and listing flags docker users type (issue 27): rename
# (created and running containers, the name atomic), history, image prune
# and system prune -a, system info, top (docker's columns and ps options),
# pause/unpause (the freezer where the container has a cgroup, else the
# refusal with its fix), inspect -f, ps -n/-l and its label=, ancestor=,
# exited= filters, images --digests and --filter; each with its bad input.
. "$(dirname "$0")/lib.sh"
require_fixtures
busybox_store


# ---- rename ----
H create --name first --network none "$BB" true
id1=$out
H rename first second
is "$rc" 0 "rename of a created container succeeds"
H ps -a --format '{{.Names}}' --filter "id=$id1"
is "$out" second "ps shows the new name"
is "$(readlink "$R/names/second")" "$id1" "names/second is the container's"
ok "$([ ! -e "$R/names/first" ] && [ ! -L "$R/names/first" ]; echo $?)" "names/first is gone"
H inspect -f '{{.Name}}' second
like "$out" "second" "inspect by the new name"
H inspect -f '{{.Name}}' first
is "$rc" 125 "the old name no longer names it"
H create --name first --network none "$BB" true
is "$rc" 0 "the old name is free for another container"
id2=$out
H rename first second
is "$rc" 125 "renaming to a name in use exits 125"
like "$err" '"second" is in use by container '"${id1:0:12}" "the message names the name and its container"
is "$(readlink "$R/names/first")" "$id2" "and the refused container keeps its name"
H rename second 'bad name!'
is "$rc" 125 "an invalid name exits 125"
like "$err" '"bad name!" is not a valid container name' "the message names it and the rule"
H rename second second
is "$rc" 125 "renaming to its own name exits 125"
H rename no-such-ctr third
is "$rc" 125 "renaming a missing container exits 125"
like "$err" '"no-such-ctr"' "the message names the container"
H rename second
is "$rc" 125 "rename without a new name is a usage error"
H rm first second

# A running container renamed: its monitor records the end under the new name.
H run -d --name runner --network none "$BB" sleep 1000
idr=$out
H rename runner sprinter
is "$rc" 0 "rename of a running container succeeds"
H ps --format '{{.Names}} {{.State}}' --filter "id=$idr"
is "$out" "sprinter running" "it runs on under the new name"
H kill sprinter
H wait sprinter
is "$out" 137 "killed by its new name"
H ps -a --format '{{.Names}} {{.State}}' --filter "id=$idr"
is "$out" "sprinter exited" "its end is recorded under the new name, not the old"
is "$(json_get "$(cat "$R/containers/$idr/hutch.json")" 'd["Name"]')" sprinter "the record says the new name"
H start sprinter
H ps --format '{{.Names}}' --filter "id=$idr"
is "$out" sprinter "and it starts again by it"
H container rename sprinter runner
is "$rc" 0 "container rename is rename"
H rm -f runner

# ---- history ----
H images -q --no-trunc
bbid=$(printf '%s\n' "$out" | head -1)
H history "$BB"
is "$rc" 0 "history of an image succeeds"
like "$(printf '%s\n' "$out" | head -1)" '^IMAGE +CREATED +CREATED BY +SIZE +COMMENT$' "docker's columns"
like "$(printf '%s\n' "$out" | sed -n 2p)" "^${bbid:0:12} +11 months ago|^${bbid:0:12} +[0-9a-zA-Z ]+ago" "the newest row has the image's ID"
like "$out" '1\.1MB' "the layer's size, in docker's units"
B=$T/ctx
mkdir -p "$B"
printf 'FROM %s\nLABEL team=blue\nENV A=1\nRUN echo hi > /f\n' "$BB" >"$B/Containerfile"
H build -q -t localhost/built:1 "$B"
builtid=$out
is "$rc" 0 "an image of three steps is built"
H history localhost/built:1
mapfile -t rows <<<"$out"
is "${#rows[@]}" 5 "a row per history entry, and the header"
like "${rows[1]}" "^${builtid:0:12} .*echo hi > /f" "newest first: the RUN step with the image's ID"
like "${rows[2]}" '^<missing> .*ENV A=1 +0B' "an empty_layer entry is <missing> with 0B"
like "${rows[3]}" '^<missing> .*LABEL team=blue +0B' "the LABEL step too"
like "${rows[4]}" '^<missing> .*1\.1MB' "the base layer's size"
H history -q localhost/built:1
is "$out" "$(printf '%s\n<missing>\n<missing>\n<missing>' "${builtid:0:12}")" "-q prints the IDs column"
H history --no-trunc --format '{{.ID}}' localhost/built:1
is "$(printf '%s\n' "$out" | head -1)" "sha256:$builtid" "--no-trunc prints the full ID"
H image history --format '{{.CreatedBy}}|{{.Size}}' localhost/built:1
like "$(printf '%s\n' "$out" | head -2 | tr '\n' ' ')" '^/bin/sh -c echo hi > /f\|[0-9]+B /bin/sh -c #\(nop\) ENV A=1\|0B $' \
  "image history takes a template over docker's fields"
H history --format json localhost/built:1
n=0
while read -r line; do
  [ "$(json_get "$line" 'sorted(d.keys())')" = "['Comment', 'CreatedAt', 'CreatedBy', 'CreatedSince', 'ID', 'Size']" ] && n=$((n + 1))
done <<<"$out"
is "$n" 4 "--format json prints an object a line with docker's fields"
H history --format 'table {{.ID}}\t{{.Size}}' localhost/built:1
like "$(printf '%s\n' "$out" | head -1)" '^IMAGE +SIZE$' "a table template has docker's headers"
H history --format '{{.Nope}}' localhost/built:1
is "$rc" 125 "a field history has not exits 125"
like "$err" 'CreatedBy' "and lists the fields there are"
H history localhost/no-such-image
is "$rc" 125 "history of a missing image exits 125"
like "$err" 'no-such-image' "the message names the image"
H history
is "$rc" 125 "history without an image is a usage error"

# ---- inspect -f, ps -n / -l, ps --filter label= ancestor= exited= ----
H create --name from-bb --network none "$BB" sh -c 'exit 3'
H create --name from-built --network none localhost/built:1 true
H inspect -f '{{.Name}} {{.State.Status}}' from-bb
fmt_short=$out
H inspect --format '{{.Name}} {{.State.Status}}' from-bb
is "$fmt_short" "$out" "inspect -f is --format"
like "$out" 'from-bb created' "and runs the template"
H ps -n 2 --format '{{.Names}}'
is "$out" "$(printf 'from-built\nfrom-bb')" "ps -n 2: the two made last, created ones too"
H ps -l --format '{{.Names}}'
is "$out" from-built "ps -l: the one made last"
H ps --last 1 -q
is "$out" "$(H ps -aq; printf '%s\n' "$out" | head -1)" "--last 1 -q: its id"
H ps -n 0
is "$rc" 125 "ps -n 0 is a usage error"
H ps -a --filter label=team=blue --format '{{.Names}}'
is "$out" from-built "label=KEY=VALUE: the containers whose image has it"
H ps -a --filter label=team --format '{{.Names}}'
is "$out" from-built "label=KEY: those with the label"
H ps -a --filter label=team=red --format '{{.Names}}'
is "$out" "" "label with another value: none"
H create --name own-label --network none --label team=red "$BB" true
H ps -a --filter label=team=red --format '{{.Names}}'
is "$out" own-label "label=: the container's own --label too"
H rm own-label
H ps -a --filter "ancestor=$BB" --format '{{.Names}}'
is "$out" "$(printf 'from-built\nfrom-bb')" "ancestor=IMAGE: made from it or from an image built on it"
H ps -a --filter ancestor=localhost/built:1 --format '{{.Names}}'
is "$out" from-built "ancestor of the built image: only its own"
H ps -a --filter "ancestor=${builtid:0:12}" --format '{{.Names}}'
is "$out" from-built "ancestor by ID"
H start -a from-bb
H start -a from-built
H ps --filter exited=3 --format '{{.Names}} {{.Status}}'
like "$out" '^from-bb Exited \(3\)' "exited=3: the container that exited 3, without -a"
H ps --filter exited=0 --format '{{.Names}}'
is "$out" from-built "exited=0: the other"
H ps --filter exited=3 --filter exited=0 -q
is "$(printf '%s\n' "$out" | wc -l)" 2 "two values of a key widen"
H ps --filter exited=0 --filter label=team=red -q
is "$out" "" "two keys narrow"
H ps --filter exited=x
is "$rc" 125 "exited= of no number is a usage error"
H ps --filter color=red
is "$rc" 125 "an unknown filter is a usage error"
like "$err" 'label=.*ancestor=.*exited=' "it lists the filters there are"

# ---- images --digests, --filter ----
H images --digests
like "$(printf '%s\n' "$out" | head -1)" '^REPOSITORY +TAG +DIGEST +IMAGE ID +CREATED +SIZE$' "--digests adds docker's DIGEST column"
H images --format '{{.Digest}}' --filter reference=localhost/built
digest=$out
H images --digests
like "$out" "localhost/built +1 +$digest +${builtid:0:12}" "with the manifest digest of each image"
H commit from-bb
untagged=$out
H images --filter dangling=true -q --no-trunc
is "$out" "${untagged#sha256:}" "dangling=true: the untagged image alone"
H images --filter dangling=false --format '{{.Repository}}:{{.Tag}}'
is "$(printf '%s\n' "$out" | sort | tr '\n' ' ')" "localhost/built:1 localhost/hutch-test/busybox:latest " "dangling=false: the named ones"
H images --filter 'reference=localhost/*/busybox' --format '{{.Repository}}'
is "$out" localhost/hutch-test/busybox "reference= is a glob, * not crossing /"
H images --filter 'reference=localhost/*' --format '{{.Repository}}'
is "$out" localhost/built "reference=localhost/*: one level only"
H tag localhost/built:1 docker.io/library/mybuilt:2
H images --filter 'reference=mybuilt:*' --format '{{.Repository}}:{{.Tag}}'
is "$out" docker.io/library/mybuilt:2 "reference= matches the name as docker writes it, only that row"
H images --filter label=team=blue --format '{{.Repository}}:{{.Tag}}'
is "$(printf '%s\n' "$out" | sort | tr '\n' ' ')" "docker.io/library/mybuilt:2 localhost/built:1 " "label=KEY=VALUE"
H images --filter "since=$BB" --filter dangling=false --format '{{.ID}}'
is "$(printf '%s\n' "$out" | sort -u)" "${builtid:0:12}" "since=IMAGE: created after it"
H images --filter before=localhost/built:1 --format '{{.ID}}'
is "$out" "${bbid:0:12}" "before=IMAGE: created before it"
H images --filter before=localhost/no-such-image
is "$rc" 125 "before= a missing image exits 125"
like "$err" 'no-such-image' "naming it"
H images --filter dangling=maybe
is "$rc" 125 "dangling= of neither true nor false exits 125"
H images --filter shape=round
is "$rc" 125 "an unknown image filter exits 125"
like "$err" 'dangling=.*reference=.*label=.*before=.*since=' "it lists the filters there are"

# ---- image prune, system prune -a ----
H image prune
is "$rc" 0 "image prune succeeds"
like "$out" "^Deleted Images:" "docker's heading"
like "$out" "deleted: $untagged" "the untagged image went"
like "$out" 'Total reclaimed space: [0-9.]+[kMG]?B' "and the space it freed, as docker says it"
H images -q
is "$(printf '%s\n' "$out" | wc -l)" 2 "the named images stay"
H image prune -a -f
is "$rc" 0 "image prune -a succeeds"
is "$out" "Total reclaimed space: 0B" "every image is used by a container: nothing goes"
H rm from-built
H image prune -a
like "$out" 'untagged: localhost/built:1' "-a: a named image no container uses goes"
like "$out" 'untagged: docker.io/library/mybuilt:2' "with each of its names"
like "$out" "deleted: sha256:$builtid" "and the image"
H images --format '{{.Repository}}'
is "$out" localhost/hutch-test/busybox "the image a container uses stays"
H image prune --bogus
is "$rc" 125 "image prune with a bad option is a usage error"
H system prune -a
is "$rc" 0 "system prune -a succeeds"
like "$out" 'Removed 1 exited container' "it removes the exited containers first"
like "$out" "untagged: $BB" "then the images they used"
like "$out" 'Total reclaimed space: 1\.[0-9]+MB' "the space freed"
H images -q
is "$out" "" "the store has no image left"
"$HUTCH" --root "$R" load -q -i "$FIX/busybox.docker.tar" 2>/dev/null

# ---- system info ----
H info
info=$out
H system info
is "$rc" 0 "system info succeeds"
is "$(json_get "$out" 'sorted(d.keys())')" "$(json_get "$info" 'sorted(d.keys())')" "system info is info"
H system info --format text
like "$out" 'cgroup' "with info's options"

# ---- top ----
H run -d --name topper --network none "$BB" sh -c 'sleep 1000 & exec sleep 1001'
H inspect -f '{{.State.Pid}}' topper
pid1=$out
H top topper
is "$rc" 0 "top of a running container succeeds"
like "$(printf '%s\n' "$out" | head -1)" '^UID +PID +PPID +C +STIME +TTY +TIME +CMD$' "docker's columns"
like "$out" "
[^ ]+ +$pid1 +[0-9]+ +[0-9]+ +[0-9:A-Za-z]+ +\\? +00:00:0[0-9] +" "its pid 1, by its host pid"
like "$out" ' sleep 1000' "the command's child"
like "$out" ' sleep 1001' "and the command"
is "$(printf '%s\n' "$out" | wc -l)" 4 "and nothing else of the host"
H container top topper
like "$out" ' sleep 1001' "container top is top"
H exec -d topper sleep 1002
H top topper
like "$out" ' sleep 1002' "a process exec put in it is listed too"
if command -v ps >/dev/null; then
  H top topper -o pid,comm
  is "$rc" 0 "top with ps options succeeds"
  like "$(printf '%s\n' "$out" | head -1)" '^ *PID COMMAND$' "ps's header for the columns asked"
  is "$(printf '%s\n' "$out" | grep -c ' sleep$')" 3 "a row per sleep of the container"
  H top topper -e -o pid,args
  unlike "$out" "$$ " "-e lists no process outside the container"
  is "$(printf '%s\n' "$out" | sed 1d | wc -l)" 4 "only the container's four"
  H top topper --no-such-ps-option
  is "$rc" 125 "options ps refuses exit 125"
  like "$err" 'ps refused the options "--no-such-ps-option"' "naming them"
else
  H top topper -o pid,comm
  is "$rc" 125 "without procps, ps options exit 125"
  like "$err" 'procps' "saying what to install"
fi
H create --name stopped --network none "$BB" true
H top stopped
is "$rc" 125 "top of a container that is not running exits 125"
like "$err" 'stopped is not running' "saying so"
H top no-such-ctr
is "$rc" 125 "top of a missing container exits 125"
like "$err" '"no-such-ctr"' "naming it"

# ---- pause / unpause ----
H inspect topper
if [ -n "$(json_get "$out" 'd[0]["HostConfig"]["CgroupPath"] or ""')" ]; then
  # the container has a cgroup v2 of its own: the freezer
  H pause topper
  is "$rc" 0 "pause succeeds"
  is "$out" topper "and echoes the container"
  H ps --format '{{.Status}}' --filter name=topper
  like "$out" '^Up .* \(Paused\)$' "ps shows Up ... (Paused)"
  H inspect -f '{{.State.Paused}} {{.State.Status}}' topper
  is "$out" "true paused" "inspect says State.Paused"
  is "$(awk '/^State:/ {print $2}' "/proc/$pid1/status")" S "its processes are still there"
  H pause topper
  is "$rc" 125 "pausing a paused container exits 125"
  H unpause topper
  is "$rc" 0 "unpause succeeds"
  H inspect -f '{{.State.Paused}}' topper
  is "$out" false "and it is no longer paused"
else
  H pause topper
  is "$rc" 125 "pause of a container without a cgroup exits 125"
  like "$err" 'cannot pause container topper: ' "naming the container"
  like "$err" 'systemd.unified_cgroup_hierarchy=1|enable-linger|--cgroups=disabled' "with the reason and the fix"
  H ps --format '{{.Status}}' --filter name=topper
  unlike "$out" 'Paused' "ps does not say paused"
  H inspect -f '{{.State.Paused}}' topper
  is "$out" false "nor does inspect"
  H unpause topper
  is "$rc" 125 "unpause exits 125 the same way"
fi
H unpause topper
is "$rc" 125 "unpause of a container that is not paused exits 125"
H pause stopped
is "$rc" 125 "pause of a container that is not running exits 125"
like "$err" 'not running' "saying so"
H pause no-such-ctr
is "$rc" 125 "pause of a missing container exits 125"
like "$err" '"no-such-ctr"' "naming it"
H pause
is "$rc" 125 "pause without a container is a usage error"
H rm -f topper stopped
