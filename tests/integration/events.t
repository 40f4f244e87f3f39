#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# hutch events (issue 27): what was done to containers and images, as
# docker prints it, filtered and formatted; streamed as it happens.
. "$(dirname "$0")/lib.sh"
require_fixtures

R=$T/store
BB=localhost/hutch-test/busybox:latest
H() { hutch --root "$R" "$@"; }
"$HUTCH" --root "$R" load -q -i "$FIX/busybox.docker.tar" 2>/dev/null
at_exit '"$HUTCH" --root "$R" rm -f -a >/dev/null 2>&1; "$HUTCH" --root "$R" unshare rm -rf "$R" 2>/dev/null'

H events --stream=false
like "$rc:$out" "^0:.*image load" "load is an event"

H run --rm --name one "$BB" sh -c 'exit 3'
H run -d --name two "$BB" sleep 100
two=$out
H stop two
H rm two
H tag "$BB" other:1
H rmi other:1

H events --stream=false --filter type=container
actions=$(awk '{ print $3 }' <<<"$out" | tr '\n' ' ')
is "$actions" "create start die remove create start die stop remove " \
  "run --rm, then run -d, stop and rm: each step, in docker's order (die, then stop)"
like "$out" "container die [0-9a-f]{64} \(image=$BB, name=one, exitCode=3\)" "die with the exit code, docker's line"
H events --stream=false --filter container=two --filter event=die --format '{{.Actor.Attributes.name}} {{.Actor.Attributes.exitCode}} {{.ID}}'
is "$out" "two 143 $two" "filters on container and event AND; a template of docker's fields"
H events --stream=false --filter event=tag --filter event=untag --format json
like "$out" '"Type":"image","Action":"tag"' "--format json, one object a line"
like "$out" '"Action":"untag"' "the same key ORs"
H events --since 1h --until "$(date -u -d '+1 min' +%Y-%m-%dT%H:%M:%SZ)" --filter type=image
like "$out" "image tag" "--since and --until bound it (and end it)"
H events --stream=false --until 2000-01-01T00:00:00Z
is "$rc:$out" "0:" "nothing before 2000"
H events --filter color=red
like "$rc:$err" "^125:.*--filter color=red: hutch filters events by type=, event=, container= and image=" "an unknown filter: 125"
H events --since yesterday-ish
is "$rc" 125 "a bad --since: 125"

# streaming: events that happen while it runs
"$HUTCH" --root "$R" events --filter type=container --format '{{.Action}} {{.Actor.Attributes.name}}' >"$T/stream" &
streamer=$!
for i in $(seq 100); do [ -e "$R/events.log" ] && [ -n "$(ls /proc/$streamer/fd 2>/dev/null | wc -l)" ] && break; tick; done
H run --rm --name three "$BB" true
for i in $(seq 200); do grep -q "remove three" "$T/stream" && break; tick; done
kill "$streamer"
wait "$streamer" 2>/dev/null
is "$(grep three "$T/stream" | tr '\n' ' ')" "create three start three die three remove three " \
  "without --until, events are printed as they happen"
