#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Shell completion (issue 27): the scripts meson builds for bash, zsh and
# fish are loaded in each shell and asked for real completions of
# commands, options, containers and images; and the options offered are
# exactly those each command parses (hutch __complete asks the command).
. "$(dirname "$0")/lib.sh"

B=$HUTCH_TEST_BUILDDIR/completion
S=$T/store
mkdir -p "$T/bin"
ln -s "$HUTCH" "$T/bin/hutch"
export PATH="$T/bin:$PATH"

hutch completion bash
is "$rc:$(cat "$B/hutch")" "0:$out" "the installed bash script is what hutch completion bash prints"
hutch completion zsh
is "$(cat "$B/_hutch")" "$out" "the zsh one too"
hutch completion fish
is "$(cat "$B/hutch.fish")" "$out" "and the fish one"
hutch completion tcsh
like "$rc:$err" "^125:.*unknown shell \"tcsh\" \(bash, zsh or fish\)" "an unknown shell: 125, naming the three"

# Every option a command's --help lists, and no other, is offered.
hutch --help
bad=""
for c in $(printf '%s\n' "$out" | awk '/^Commands:/ { on = 1; next } on && /^  [a-z]/ { print $1 }'); do
  want=$("$HUTCH" "$c" --help 2>/dev/null | grep -oE '^  (-[a-zA-Z], )?--[a-z][a-z0-9-]*' |
    sed 's/.*--/--/' | sort -u)
  have=$("$HUTCH" __complete "$c" -- 2>/dev/null | sed 1d | sort -u)
  [ "$want" = "$have" ] || bad="$bad $c"
done
is "$bad" "" "every command offers exactly the long options its --help lists"

if [ -f "$FIX/busybox.docker.tar" ]; then
  hutch --root "$S" load -q -i "$FIX/busybox.docker.tar"
  hutch --root "$S" create --name comp-box --network none localhost/hutch-test/busybox true
  is "$rc" 0 "a container to complete"
  id=${out:0:12}
else
  skip "the busybox fixture is missing (tests/fixtures/make-fixtures)"
fi

# ---- bash: the script as bash-completion loads it, the function called
# as bash calls it at a TAB
bash_complete() {
  bash --norc -c '
    source "$1"
    COMP_LINE=$2 COMP_POINT=${#2}
    read -r -a COMP_WORDS <<<"$2"; COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))
    [[ $2 == *" " ]] && COMP_WORDS+=("") && COMP_CWORD=$(( COMP_CWORD + 1 ))
    _hutch
    printf "%s\n" "${COMPREPLY[@]}"
    complete -p hutch' _ "$B/hutch" "$1"
}
out=$(bash_complete "hutch sta")
is "$(sed '$d' <<<"$out" | sort | tr '\n' ' ')" "start stats " "bash: a command"
like "$(tail -n1 <<<"$out")" "^complete -F _hutch hutch$" "bash: complete -p hutch shows it is registered"
out=$(bash_complete "hutch --root $S rm comp")
is "$(sed '$d' <<<"$out")" "comp-box" "bash: a container name, in the store --root names"
out=$(bash_complete "hutch --root $S rm $id")
is "$(sed '$d' <<<"$out")" "$id" "bash: a container id, once a hex digit is typed"
out=$(bash_complete "hutch --root $S run --rm localhost/hutch-test/bu")
is "$(sed '$d' <<<"$out")" "localhost/hutch-test/busybox:latest" "bash: an image name after run's options"
out=$(bash_complete "hutch run --netw")
is "$(sed '$d' <<<"$out")" "--network" "bash: an option"
out=$(bash_complete "hutch image ")
is "$(sed '$d' <<<"$out" | tr '\n' ' ')" "history inspect ls prune rm tag " "bash: a group's subcommands"
out=$(bash_complete "hutch --root $S cp comp")
is "$(sed '$d' <<<"$out")" "comp-box:" "bash: cp offers CONTAINER:"

# ---- fish: complete -C is fish's own completion of a command line
fish_complete() {
  fish --no-config -c "source '$B/hutch.fish'; complete -C '$1'"
}
is "$(fish_complete "hutch sto")" "stop" "fish: a command"
is "$(fish_complete "hutch --root $S kill comp")" "comp-box" "fish: a container name"
is "$(fish_complete "hutch --root $S rmi localhost/hutch-test/b")" "localhost/hutch-test/busybox:latest" \
  "fish: an image name"
is "$(fish_complete "hutch logs --foll")" "--follow" "fish: an option"
mkdir "$T/ctx-dir"
is "$(fish_complete "hutch build $T/ctx-")" "$T/ctx-dir/" "fish: a path where a path is wanted"

# ---- zsh: an interactive zsh on a pty (zsh/zpty), compinit, the script
# from fpath as zsh autoloads it, and a real TAB. zpty -r waits for the
# pattern (no sleep); timeout ends a zsh that never shows it.
zsh_complete() { # LINE PATTERN [SECS]: whether TAB after LINE shows PATTERN
  mkdir -p "$T/zfunc"
  cp "$B/_hutch" "$T/zfunc/_hutch"
  timeout "${3:-20}" zsh -f -c '
    zmodload zsh/zpty
    zpty z "zsh -f -i"
    zpty -w z "fpath=($1 \$fpath); autoload -U compinit && compinit -u -d $2/.zcd && echo RE\"\"ADY"
    zpty -r z out "*READY*" || exit 2
    zpty -w -n z "$3"$'"'"'\t'"'"'
    zpty -r z out "*$4*" || exit 1
    zpty -d z' _ "$T/zfunc" "$T" "$1" "$2"
}
zsh_complete "hutch --root $S rm comp-" "comp-box"
is "$?" 0 "zsh: a container name"
zsh_complete "hutch run --netw" "--network"
is "$?" 0 "zsh: an option"
zsh_complete "hutch --root $S rmi localhost/hutch-test/b" "busybox:latest"
is "$?" 0 "zsh: an image name"
zsh_complete "hutch --root $S rmi localhost/hutch-test/b" "qqq-not-there" 3
is "$?" 124 "zsh: (and the check fails when the completion is not shown)"

hutch --root "$S" rm -f comp-box
