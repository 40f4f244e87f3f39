#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# --format with Go templates, typed as docker's documentation shows them:
# ps, images and inspect -f print what the template says, "table" heads
# and aligns the columns, and a template that does not parse or names a
# field that is not there is refused, saying where and what there is.
. "$(dirname "$0")/lib.sh"
require_fixtures

busybox_store
H run -d --name web --network none "$BB" sleep 300
is "$rc" 0 "a running container"

H ps -q; id=$out

H ps --format '{{.ID}} {{.Names}} {{.State}} {{.Image}}'
is "$out" "$id web running $BB" "ps --format '{{.ID}} {{.Names}} {{.State}} {{.Image}}'"
H ps --format '{{.Names}}: {{.Command}} {{.Status}}'
like "$out" '^web: "sleep 300" Up ' "ps: .Command quoted, .Status as the table shows it"
H ps --format 'table {{.ID}}\t{{.Names}}'
is "$out" "$(printf 'CONTAINER ID   NAMES\n%s   web' "$id")" \
  "ps --format 'table {{.ID}}\\t{{.Names}}': docker's header and columns"
H ps --format '{{if eq .State "running"}}{{upper .Names}}{{end}}|{{json .Names}}|{{printf "%-5s|" .State}}'
is "$out" 'WEB|"web"|running|' "if, eq, upper, json and printf"
H ps -a --format '{{.Nope}}'
is "$rc" 125 "a field that is not there: exit 125"
like "$err" "there is no field Nope; the fields are: ID, Image, .*Names" "naming the fields there are"
H ps --format '{{.ID'
is "$rc:$(printf '%s' "$err" | head -1)" '125:hutch ps: --format {{.ID: template:1:3: unclosed action, at ".ID"' \
  "a template that does not parse: where, and what"

H images --format '{{.Repository}}:{{.Tag}}'
is "$out" "$BB" "images --format '{{.Repository}}:{{.Tag}}'"
H images --format 'table {{.Repository}}\t{{.Tag}}'
is "$(printf '%s\n' "$out" | head -1)" "REPOSITORY                     TAG" "images: a table's header"

H inspect -f '{{.State.Status}} {{.Name}} {{json .Config.Cmd}} {{range .Config.Env}}[{{.}}]{{end}}' web
like "$out" '^running /web \["sleep","300"\] \[PATH=[^]]*\]' "inspect -f: nested fields, json and range"
H inspect --format '{{.State.Bogus}}' web
is "$rc" 125 "inspect -f of a field that is not there: exit 125"
like "$err" "there is no field Bogus; the fields are: Status, Running" "with those that are"
H inspect -f json web
is "$(json_get "$out" 'd[0]["Name"]')" "/web" "inspect -f json: the JSON as without it"

H rm -f web
is "$rc" 0 "rm"
