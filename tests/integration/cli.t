#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The command line itself: help, version, usage errors and their exit status.
. "$(dirname "$0")/lib.sh"

hutch --help
is "$rc" 0 "--help exits 0"
like "$out" "Usage:" "--help prints a usage line"
like "$out" "check +Check what this host" "--help lists check with its summary"
like "$out" "--root=DIR" "--help lists --root"
like "$out" "--runroot=DIR" "--help lists --runroot"
like "$out" "--log-level=LEVEL" "--help lists --log-level"

hutch --version
is "$rc" 0 "--version exits 0"
like "$out" "^hutch version [0-9]+\.[0-9]+\.[0-9]+$" "--version prints the version"

hutch version
like "$out" "^hutch version" "the version command prints it too"

hutch help check
is "$rc" 0 "help check exits 0"
like "$out" "hutch check" "help check names the command"
like "$out" "--format" "help check lists --format"

hutch check --help
is "$rc" 0 "check --help exits 0"
like "$out" "--format" "check --help is the same help"

hutch chek
is "$rc" 125 "an unknown command exits 125"
like "$err" 'unknown command "chek" \(did you mean "check"\?\)' "it suggests the closest command"
like "$err" "Usage: hutch" "it prints the usage line"
like "$err" "hutch --help" "and a one-line hint"
is "$out" "" "nothing goes to stdout"

hutch pus
like "$err" 'unknown command "pus" \(did you mean "push"\?\)' "a tie of edits goes to the name typed the longer way: push, not ps"
hutch expor
like "$err" 'did you mean "export"' "export, not port"
hutch image lst
like "$rc:$err" '^125:.*unknown command "image lst" \(did you mean "image ls"\?\)' "a group's subcommand is suggested too"
hutch --root "$T/st" container list
is "$rc" 0 "docker's spellings: container list"
hutch --root "$T/st" container ps
is "$rc" 0 "container ps"
hutch --root "$T/st" image list
is "$rc" 0 "image list"
hutch --root "$T/st" image remove nosuch
like "$rc:$err" "^125:.*(nosuch|empty)" "image remove is rm"
hutch container remove nosuch
like "$rc:$err" "^125:.*no container is named or has the id \"nosuch\"" "container remove is rm"

hutch frobnicate
is "$rc" 125 "a command far from any exits 125"
unlike "$err" "did you mean" "and suggests nothing"

hutch check --bogus
is "$rc" 125 "an unknown flag exits 125"
like "$err" "Unknown option --bogus" "it names the flag"
like "$err" "hutch help check" "it points at the command's help"
unlike "$err" "did you mean" "a flag far from any: no suggestion"

hutch run --nmae web busybox
is "$rc" 125 "a mistyped flag exits 125"
like "$err" 'Unknown option --nmae \(did you mean "--name"\?\)' "it suggests the closest flag (two letters swapped are one edit)"
hutch ps --formt=json
like "$err" 'Unknown option --formt=json \(did you mean "--format"\?\)' "with its value given by ="
hutch rm --fx
unlike "$err" "did you mean" "two edits on a short flag suggest nothing (they make anything of anything)"

hutch --bogus check
is "$rc" 125 "an unknown global flag exits 125"

hutch --log-level loud check
is "$rc" 125 "a bad --log-level exits 125"
like "$err" 'unknown log level "loud"' "it names the bad level"

hutch check --format yaml
is "$rc" 125 "an unknown --format exits 125"

hutch check extra
is "$rc" 125 "a stray argument exits 125"

hutch help nosuch
is "$rc" 125 "help for an unknown command exits 125"

hutch
is "$rc" 125 "no command exits 125"
like "$err" "Commands:" "and lists the commands on stderr"

# Every command in the table has a man page (its own, or one that sources
# the page it is folded into), and each renders with man(1).
mkdir -p "$T/man/man1"
cp "$HUTCH_TEST_BUILDDIR"/docs/*.1 "$T/man/man1/"
hutch --help
missing="" broken=""
for c in $(printf '%s\n' "$out" | awk '/^Commands:/ { on = 1; next } on && /^  [a-z]/ { print $1 }'); do
  if [ ! -f "$T/man/man1/hutch-$c.1" ]; then
    missing="$missing $c"
  elif ! MANWIDTH=80 man -M "$T/man" "hutch-$c" 2>/dev/null | grep -q "^NAME"; then
    broken="$broken $c"
  fi
done
is "$missing" "" "every command in hutch --help has a man page"
is "$broken" "" "and man renders each"
