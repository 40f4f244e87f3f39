#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# docs/docker-compat.md is kept true (issue 27): each docker run flag and
# command it marks same, different or hutch is in hutch's help, each one
# marked missing is refused as unknown, and hutch has none it leaves out.
. "$(dirname "$0")/lib.sh"

DOC=$(dirname "$0")/../../docs/docker-compat.md
# table SECTION: "NAME STATUS" for each row of the table under ## SECTION
table() {
  awk -v sec="$1" '
    /^## / { on = ($0 == "## " sec); next }
    on && /^\| `/ {
      split($0, col, "|")
      names = col[2]; status = col[3]; gsub(/ /, "", status)
      n = split(names, parts, ",")
      name = parts[n]; gsub(/[ `]/, "", name)
      print name, status
    }' "$DOC"
}

flags=$(table "docker run (and create) flags")
commands=$(table "docker commands")
ok "$([ "$(wc -l <<<"$flags")" -ge 90 ]; echo $?)" "the run table has docker's flags ($(wc -l <<<"$flags"))"
ok "$([ "$(wc -l <<<"$commands")" -ge 50 ]; echo $?)" "the command table has docker's commands ($(wc -l <<<"$commands"))"
bad=$(printf '%s\n%s\n' "$flags" "$commands" | awk '$2 !~ /^(same|different|missing|hutch)$/')
is "$bad" "" "every row's status is same, different, missing or hutch"

have_flags=$("$HUTCH" run --help | grep -oE '^  (-[a-zA-Z], )?--[a-z][a-z0-9-]*' | sed 's/.*--/--/' | sort -u)
wrong=""
while read -r flag status; do
  listed=no
  grep -qx -- "$flag" <<<"$have_flags" && listed=yes
  case $status in
    missing)
      out=$("$HUTCH" run "$flag" x 2>&1) && wrong="$wrong $flag(accepted)"
      [ $listed = yes ] && wrong="$wrong $flag(listed)"
      grep -q "Unknown option\|unknown option" <<<"$out" || wrong="$wrong $flag(not refused as unknown: $out)"
      ;;
    *) [ $listed = yes ] || wrong="$wrong $flag(not in run --help)" ;;
  esac
done <<<"$flags"
is "$wrong" "" "each flag is as the table says"
left=$(comm -23 <(echo "$have_flags") <(awk '{ print $1 }' <<<"$flags" | sort -u) | tr '\n' ' ')
is "$left" "" "no flag of hutch run is left out of the table"

have_cmds=$("$HUTCH" --help | awk '/^Commands:/ { on = 1; next } on && /^  [a-z]/ { print $1 }' | sort -u)
wrong=""
while read -r c status; do
  listed=no
  grep -qx -- "$c" <<<"$have_cmds" && listed=yes
  case $status in
    missing)
      [ $listed = yes ] && wrong="$wrong $c(listed)"
      out=$("$HUTCH" "$c" 2>&1)
      grep -q "unknown command" <<<"$out" || wrong="$wrong $c(not refused)"
      ;;
    *) [ $listed = yes ] || wrong="$wrong $c(not in hutch --help)" ;;
  esac
done <<<"$commands"
is "$wrong" "" "each command is as the table says"
left=$(comm -23 <(echo "$have_cmds") <(awk '{ print $1 }' <<<"$commands" | sort -u) | tr '\n' ' ')
is "$left" "" "no command of hutch is left out of the table"
