#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# hutch build as a user types it (docs/hutch-build.1.md, issue 21): one
# Containerfile using every instruction, checked through hutch run, image
# inspect and the config blob in the store; multi-stage builds with
# --target and a stage nobody needs (RUN false, never run); the progress
# lines, -q and --iidfile; the cache (a rebuild uses it for every step and
# makes nothing new, a changed file rebuilds from its COPY on, --no-cache,
# images -a, system prune); each bad input of the man page (exit 125 or the
# failing RUN's status, file:line and text, nothing tagged, system check
# clean); the same Containerfiles built by podman and the images compared
# (files with owners, modes and hashes; config fields); the built image
# pushed to a real docker-registry and pulled into a fresh store.
. "$(dirname "$0")/lib.sh"
require_fixtures debian
# registry.sh: the store at $R, H, a home and runtime dir in $T, the
# registry tools checked
. "$(dirname "$0")/registry.sh"
BB=localhost/hutch-test/busybox:latest
DEB=localhost/hutch-test/debian:bookworm
"$HUTCH" --root "$R" load -q -i "$FIX/busybox.docker.tar" >/dev/null 2>&1
"$HUTCH" --root "$R" load -q -i "$FIX/debian.docker.tar" >/dev/null 2>&1
H image inspect "$BB" "$DEB" >/dev/null
is "$rc" 0 "the busybox and Debian test images are loaded"
at_exit '"$HUTCH" --root "$R" rm -f $("$HUTCH" --root "$R" ps -aq) >/dev/null 2>&1'

# image_id IMAGE: the ID image inspect gives (64 hex digits)
image_id() { "$HUTCH" --root "$R" image inspect "$1" 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["Id"])' 2>/dev/null; }
# config_blob IMAGE: the image's config as stored (its ID is the blob's digest)
config_blob() { cat "$R/blobs/sha256/$(image_id "$1")"; }
# both: what the last H printed, stdout then stderr
both() { printf '%s\n%s\n' "$out" "$err"; }
# val KEY TEXT: the rest of TEXT's line "KEY=..."
val() { printf '%s\n' "$2" | sed -n "s|^$1=||p"; }
# cached_steps TEXT: the numbers of the steps whose next line is "--> Using cache"
cached_steps() {
  printf '%s\n' "$1" | awk '/STEP [0-9]+\/[0-9]+:/ { match($0, /STEP [0-9]+/); n = substr($0, RSTART + 5, RLENGTH - 5); next }
    /^--> Using cache/ { printf "%s ", n }'
}

# ======== 1. every instruction, in one Containerfile
C=$T/all
mkdir -p "$C/sub/deep" "$C/logs" "$T/pkg/pkg"
echo alpha >"$C/a.txt"
echo beta >"$C/sub/b.txt"
echo gamma >"$C/sub/deep/c.txt"
echo g1 >"$C/g1.conf"
echo g2 >"$C/g2.conf"
echo other >"$C/other.txt"
echo secret >"$C/secret.key"
echo noisy >"$C/logs/x.log"
echo kept >"$C/logs/keep.log"
printf '#!/bin/sh\necho script-ran\n' >"$C/script.sh"
chmod 0644 "$C/script.sh"
echo packed >"$T/pkg/pkg/file1"
tar -C "$T/pkg" --owner=0 --group=0 -czf "$C/app.tar.gz" pkg
printf '*.key\nlogs/*.log\n!logs/keep.log\n' >"$C/.dockerignore"
cat >"$C/Containerfile" <<'CF'
# syntax=docker/dockerfile:1
# every instruction of the man page, once
ARG BASE=localhost/hutch-test/busybox:latest
FROM $BASE AS base
MAINTAINER Tess <t@example.org>
ARG GREETING=hello
ENV APPDIR=/srv/app PLAIN=one
ENV LEGACY legacy value
ENV FALLBACK=${UNSET:-fallback} ALT=${GREETING:+set}
LABEL org.example.title="all of it" org.example.before="[$BASE]"
ARG BASE
LABEL org.example.after=$BASE
RUN echo "app:x:1000:1000:app:/home/app:/bin/sh" >> /etc/passwd && \
    echo "app:x:1000:" >> /etc/group && \
    mkdir -p /home/app && chown app:app /home/app
WORKDIR $APPDIR
COPY a.txt .
COPY a.txt rel/
COPY a.txt /named
COPY a.txt $APPDIR/via-env
COPY sub /subcopy
COPY *.conf /confs/
COPY --chown=app:app a.txt /owned-name
COPY --chown=1234:5678 a.txt /owned-num
COPY --chmod=755 script.sh /usr/local/bin/script.sh
COPY . /ctx/
ADD app.tar.gz /opt/
COPY <<EOF /etc/heredoc.conf
greeting=${GREETING}
dir=$APPDIR
EOF
RUN <<EOF
echo "line one" > /run-heredoc
echo "greeting $GREETING" >> /run-heredoc
EOF
RUN ["/bin/sh", "-c", "echo exec-form > /exec-form"]
RUN echo "$PLAIN|$LEGACY|$GREETING|$HTTP_PROXY|$FALLBACK|$ALT" > /run-env
SHELL ["/bin/sh", "-xc"]
RUN echo traced-by-shell > /shell-mark
USER app
RUN id -u > /home/app/uid && touch /home/app/made-by-app
EXPOSE 8080 53/udp
VOLUME ["/data"]
STOPSIGNAL SIGINT
HEALTHCHECK --interval=30s --timeout=5s CMD ["/bin/true"]
ONBUILD RUN echo onbuild-ran
ENTRYPOINT ["/bin/sh", "-c"]
CMD ["echo cmd-default; id -u; pwd"]
CF
H build --build-arg GREETING=howdy --build-arg HTTP_PROXY=http://proxy.example:3128 \
  --label org.example.cli=yes -t localhost/t/all "$C"
is "$rc" 0 "build of a Containerfile with every instruction"
[ "$rc" = 0 ] || printf '%s\n' "$out" "$err" | tail -n 20 | sed 's/^/#   /'
progress="$out
$err"
like "$progress" '(^|\] )STEP 1/37: FROM ' "progress: STEP 1/37: FROM (the ARG before FROM is not a step)"
like "$progress" 'STEP 37/37: CMD \["echo cmd-default; id -u; pwd"\]' "progress: STEP 37/37: the CMD as written"
is "$(printf '%s\n' "$progress" | grep -cE 'STEP [0-9]+/37: ')" 37 "a STEP line for each instruction"
like "$progress" '^--> [0-9a-f]{12}' "progress: --> ID after a step"
like "$progress" '^Successfully tagged localhost/t/all:latest$' "progress: Successfully tagged NAME"
like "$progress" '\+ echo traced-by-shell' "a RUN's output is shown (SHELL -x traces it)"
id=$(image_id localhost/t/all)
like "$(printf '%s\n' "$out" | tail -n 1)" "^(sha256:)?$id\$" "the last line of stdout is the image's ID"

probe='for f in /srv/app/a.txt /srv/app/rel/a.txt /named /srv/app/via-env /subcopy/b.txt /subcopy/deep/c.txt \
  /opt/pkg/file1 /exec-form /run-env /shell-mark /home/app/uid; do echo "$f=$(cat $f 2>&1)"; done
echo "confs=$(ls /confs | tr "\n" " ")"
echo "subcopy=$(ls /subcopy | tr "\n" " ")"
for f in /owned-name /owned-num /usr/local/bin/script.sh /home/app/made-by-app /srv/app/a.txt; do
  echo "stat:$f=$(stat -c "%u:%g %a" $f 2>&1)"; done
echo "ctx=$(cd /ctx && find . -type f | sort | tr "\n" " ")"
echo "heredoc=$(tr "\n" " " </etc/heredoc.conf)"
echo "runheredoc=$(tr "\n" " " </run-heredoc)"
echo "script=$(/usr/local/bin/script.sh 2>&1)"'
H run --rm --user 0 --entrypoint /bin/sh localhost/t/all -c "$probe"
is "$rc" 0 "the built image runs"
p=$out
is "$(val /srv/app/a.txt "$p")" alpha "COPY to a relative dest (.) lands in WORKDIR"
is "$(val /srv/app/rel/a.txt "$p")" alpha "COPY to a relative dest with a trailing slash: a directory under WORKDIR"
is "$(val /named "$p")" alpha "COPY to a dest without a trailing slash: the file by that name"
is "$(val /srv/app/via-env "$p")" alpha "COPY's dest expands an ENV variable"
is "$(val /subcopy/b.txt "$p"):$(val /subcopy/deep/c.txt "$p")" "beta:gamma" "COPY of a directory copies its contents, subdirectories too"
is "$(val subcopy "$p")" "b.txt deep " "and not the directory itself"
is "$(val confs "$p")" "g1.conf g2.conf " "COPY *.conf: the glob's matches, nothing else"
is "$(val stat:/owned-name "$p")" "1000:1000 644" "COPY --chown=app:app: the names of the image's passwd and group"
is "$(val stat:/owned-num "$p")" "1234:5678 644" "COPY --chown=1234:5678"
is "$(val stat:/srv/app/a.txt "$p")" "0:0 644" "COPY without --chown: root's, whoever owns the context's file"
is "$(val stat:/usr/local/bin/script.sh "$p")" "0:0 755" "COPY --chmod=755 (a 0644 file), owned by root"
is "$(val script "$p")" "script-ran" "and it runs"
ctx=$(val ctx "$p")
like "$ctx" '\./sub/deep/c\.txt' "COPY . copies the context"
unlike "$ctx" 'secret\.key' ".dockerignore: *.key left out"
unlike "$ctx" 'logs/x\.log' ".dockerignore: logs/*.log left out"
like "$ctx" 'logs/keep\.log' ".dockerignore: the ! exception kept"
is "$(val /opt/pkg/file1 "$p")" packed "ADD of a local .tar.gz unpacks it"
is "$(val heredoc "$p")" "greeting=howdy dir=/srv/app " "COPY <<EOF: the here-document, ARG and ENV expanded"
is "$(val runheredoc "$p")" "line one greeting howdy " "RUN <<EOF: the here-document run by the shell"
is "$(val /exec-form "$p")" exec-form "RUN in exec (JSON) form"
is "$(val /run-env "$p")" "one|legacy value|howdy|http://proxy.example:3128|fallback|set" \
  "RUN sees ENV (both forms, \${:-} and \${:+}), the --build-arg and the predefined proxy ARG"
is "$(val /shell-mark "$p")" traced-by-shell "RUN after SHELL runs with it"
is "$(val /home/app/uid "$p")" 1000 "RUN after USER app runs as uid 1000"
is "$(val stat:/home/app/made-by-app "$p")" "1000:1000 644" "and its files are the user's"

H run --rm localhost/t/all
is "$rc:$out" "0:cmd-default
1000
/srv/app" "the image runs its ENTRYPOINT and CMD as USER in WORKDIR"

H image inspect localhost/t/all
ins=$out
is "$(json_get "$ins" '[e for e in d[0]["Config"]["Env"] if not e.startswith("PATH=")]')" \
  "['APPDIR=/srv/app', 'PLAIN=one', 'LEGACY=legacy value', 'FALLBACK=fallback', 'ALT=set']" \
  "Env: each ENV, in order; no ARG"
like "$(json_get "$ins" 'd[0]["Config"]["Env"]')" "'PATH=/usr/local/sbin" "Env: the base image's PATH kept"
is "$(json_get "$ins" 'd[0]["Config"]["Entrypoint"], d[0]["Config"]["Cmd"]')" \
  "(['/bin/sh', '-c'], ['echo cmd-default; id -u; pwd'])" "Entrypoint and Cmd"
is "$(json_get "$ins" 'd[0]["Config"]["WorkingDir"], d[0]["Config"]["User"]')" "('/srv/app', 'app')" "WorkingDir and User"
is "$(json_get "$ins" 'sorted(d[0]["Config"]["ExposedPorts"]), sorted(d[0]["Config"]["Volumes"]), d[0]["Config"]["StopSignal"]')" \
  "(['53/udp', '8080/tcp'], ['/data'], 'SIGINT')" "ExposedPorts, Volumes, StopSignal"
is "$(json_get "$ins" 'sorted(d[0]["Config"]["Labels"].items())')" \
  "[('org.example.after', '$BB'), ('org.example.before', '[]'), ('org.example.cli', 'yes'), ('org.example.title', 'all of it')]" \
  "Labels: LABEL's, --label's; an ARG before FROM is in scope only once declared again"
is "$(json_get "$ins" 'd[0]["Author"]')" "Tess <t@example.org>" "MAINTAINER is the author"
is "$(json_get "$ins" 'len(d[0]["RootFS"]["Layers"])')" 19 \
  "a layer for the base, each RUN, COPY and ADD (19), none for the others"
is "$(json_get "$ins" 'len([h for h in d[0]["History"] if not h.get("empty_layer")])')" 19 \
  "a history entry with a layer for each layer"
is "$(json_get "$ins" '[h.get("empty_layer") for h in d[0]["History"] if "STOPSIGNAL" in h.get("created_by", "")]')" \
  "[True]" "STOPSIGNAL's history entry is marked empty_layer"
cfg=$(config_blob localhost/t/all)
is "$(json_get "$cfg" 'sorted(d["config"].get("Healthcheck", {}).items())')" \
  "[('Interval', 30000000000), ('Test', ['CMD', '/bin/true']), ('Timeout', 5000000000)]" \
  "the config blob: HEALTHCHECK as docker stores it"
is "$(json_get "$cfg" 'd["config"].get("OnBuild"), d["config"].get("Shell")')" \
  "(['RUN echo onbuild-ran'], ['/bin/sh', '-xc'])" "the config blob: OnBuild and Shell"

# ENTRYPOINT resets the base image's CMD
mkdir -p "$T/ep"
printf 'FROM %s\nENTRYPOINT ["/bin/echo", "ep:"]\n' "$BB" >"$T/ep/Containerfile"
H build -q -t localhost/t/ep "$T/ep"
is "$rc" 0 "build of an ENTRYPOINT on busybox (whose Cmd is /bin/sh)"
H image inspect localhost/t/ep
is "$(json_get "$out" 'd[0]["Config"].get("Cmd") or None')" None "ENTRYPOINT resets the inherited Cmd"
H run --rm localhost/t/ep
is "$rc:$out" "0:ep:" "the image runs the ENTRYPOINT alone"
H run --rm localhost/t/ep hi
is "$out" "ep: hi" "and appends the run's arguments"

# ======== 2. multi-stage, --target, a stage not needed
C=$T/ms
mkdir -p "$C"
cat >"$C/Containerfile" <<'CF'
ARG WHO=world
FROM localhost/hutch-test/busybox:latest AS builder
ARG WHO
RUN echo "built for $WHO" > /artifact
FROM builder AS second
RUN echo second >> /artifact
FROM localhost/hutch-test/busybox:latest AS unused
RUN false
FROM scratch
COPY --from=second /artifact /artifact
COPY --from=0 /bin/busybox /bin/busybox
COPY --from=localhost/hutch-test/busybox:latest /etc/passwd /etc/passwd
CMD ["/bin/busybox", "cat", "/artifact"]
CF
H build -t localhost/t/ms "$C"
is "$rc" 0 "a multi-stage build whose unused stage has RUN false"
[ "$rc" = 0 ] || printf '%s\n' "$err" | tail -n 5 | sed 's/^/#   /'
unlike "$(both)" 'RUN false' "the stage the target does not need is not built"
H run --rm localhost/t/ms
is "$rc:$out" "0:built for world
second" "FROM scratch with COPY --from a stage built FROM a stage, and --from=0: it runs"
H run --rm --entrypoint /bin/busybox localhost/t/ms head -n 1 /etc/passwd
is "$out" "root:x:0:0:root:/root:/bin/sh" "COPY --from an image"
H image inspect localhost/t/ms
is "$(json_get "$out" 'len(d[0]["RootFS"]["Layers"])')" 3 "FROM scratch: the three COPY layers only"
H build --target second --build-arg WHO=you -t localhost/t/ms-second "$C"
is "$rc" 0 "--target second"
unlike "$(both)" 'FROM scratch|COPY --from|RUN false' "builds neither the later stage nor the unused one"
H run --rm localhost/t/ms-second cat /artifact
is "$out" "built for you
second" "the target stage's image, with --build-arg for the ARG declared before FROM"
H build --target unused -t localhost/t/bad "$C"
is "$rc" 1 "--target unused builds it: RUN false's status, 1"
like "$err" 'Containerfile:8.*RUN false' "the message names the file, line and instruction"

# ======== 3. progress, -q, --iidfile
C=$T/quiet
mkdir -p "$C"
printf 'FROM %s\nRUN echo should-not-show > /q\n' "$BB" >"$C/Containerfile"
H build -q --iidfile "$T/iid" -t localhost/t/quiet "$C"
is "$rc" 0 "build -q --iidfile"
id=$(image_id localhost/t/quiet)
like "$out" "^(sha256:)?$id\$" "-q prints the image's ID and nothing else"
is "$err" "" "nothing on stderr"
unlike "$(both)" 'should-not-show|STEP' "neither the steps nor the RUN's output"
is "$(cat "$T/iid")" "sha256:$id" "--iidfile holds sha256:ID"

# ======== 4. the cache
C=$T/cache
mkdir -p "$C"
echo f1 >"$C/f1"
echo f2 >"$C/f2"
cat >"$C/Containerfile" <<'CF'
FROM localhost/hutch-test/busybox:latest
RUN echo one > /one
COPY f1 /f1
RUN cat /f1 > /after-f1
COPY f2 /f2
RUN cat /f2 > /after-f2
CF
H build -t localhost/t/cache "$C"
is "$rc" 0 "a build of six steps"
unlike "$(both)" 'Using cache' "the first time, no step from the cache"
id1=$(image_id localhost/t/cache)
blobs1=$(ls "$R/blobs/sha256")
all1=$(H images -a -q --no-trunc; printf '%s\n' "$out" | sort)
H build -t localhost/t/cache "$C"
is "$rc" 0 "the same build again"
is "$(cached_steps "$(both)")" "2 3 4 5 6 " "--> Using cache for every step"
is "$(image_id localhost/t/cache)" "$id1" "the same image"
is "$(ls "$R/blobs/sha256")" "$blobs1" "no new blob"
is "$(H images -a -q --no-trunc; printf '%s\n' "$out" | sort)" "$all1" "no new image"
inter=$(printf '%s\n' "$(both)" | sed -n 's/^--> Using cache \(sha256:\)\{0,1\}\([0-9a-f]\{12,64\}\).*/\2/p' | head -n 1)
H images -q --no-trunc
unlike "$out" "${inter:-none}" "images hides the intermediate images"
H images -a -q --no-trunc
like "$out" "${inter:-none}" "images -a shows them"
touch -d 2001-01-01 "$C/f1"
H build -t localhost/t/cache "$C"
is "$(cached_steps "$(both)")" "2 3 4 5 6 " "a file's mtime alone changes nothing (names, modes, sizes, contents)"
echo changed >"$C/f2"
H build -t localhost/t/cache "$C"
is "$rc" 0 "a build after f2 changed"
is "$(cached_steps "$(both)")" "2 3 4 " "the steps before COPY f2 from the cache, none from it on"
H run --rm localhost/t/cache cat /f1 /f2 /after-f2
is "$out" "f1
changed
changed" "the image has the changed file"
H build --no-cache -t localhost/t/cache "$C"
is "$rc" 0 "--no-cache"
unlike "$(both)" 'Using cache' "builds every step again"
H build --layers=false -t localhost/t/cache-nolayers "$C"
unlike "$(both)" 'Using cache' "--layers=false does not read the cache"
H rmi localhost/t/cache-nolayers >/dev/null
H system prune
is "$rc" 0 "system prune"
H images -a -q --no-trunc
unlike "$out" "${inter:-none}" "removes the cache's intermediate images"
H build -t localhost/t/cache "$C"
is "$rc:$(cached_steps "$(both)")" "0:" "then a build finds no cache"

# ======== 5. bad input: exit 125 (or the RUN's status), file:line and the
# text, nothing tagged, the store consistent
mkdir -p "$T/bad" "$T/empty" "$T/outdir"
echo outside >"$T/outside.txt"
echo secret >"$T/outdir/secret"
bad() { # DESC WANT-RC ERR-REGEX BUILD-ARGS...
  local desc=$1 want=$2 re=$3
  shift 3
  H build -t localhost/t/bad "$@"
  is "$rc" "$want" "$desc: exit $want"
  like "$err" "$re" "$desc: the message says what and where"
  H image inspect localhost/t/bad
  is "$rc" 125 "$desc: nothing tagged"
}
cf() { printf '%s\n' "$@" >"$T/bad/$cfname"; }
bad "no Containerfile in the context" 125 "Containerfile|Dockerfile" "$T/empty"
bad "a context that does not exist" 125 "$T/nowhere" "$T/nowhere"
bad "-f of a file that does not exist" 125 "nofile\.cf" -f "$T/nofile.cf" "$T/bad"
cfname=unknown.cf cf "FROM $BB" "FROBNICATE now"
bad "an unknown instruction" 125 "unknown\.cf:2.*FROBNICATE now" -f "$T/bad/unknown.cf" "$T/bad"
cfname=heredoc.cf cf "FROM $BB" "RUN true" "RUN <<EOF" "echo never ends"
bad "an unterminated here-document" 125 "heredoc\.cf:3.*RUN <<EOF" -f "$T/bad/heredoc.cf" "$T/bad"
cfname=quote.cf cf "FROM $BB" 'ENV A="open'
bad "an unterminated quote" 125 'quote\.cf:2.*A="open' -f "$T/bad/quote.cf" "$T/bad"
cfname=parent.cf cf "FROM $BB" "COPY ../outside.txt /x"
bad "COPY ../x" 125 'parent\.cf:2.*\.\./outside\.txt' -f "$T/bad/parent.cf" "$T/bad"
mkdir -p "$T/link"
ln -s ../outside.txt "$T/link/leak"
ln -s "$T/outdir" "$T/link/dirlink"
printf 'FROM %s\nCOPY leak /leak\n' "$BB" >"$T/link/Containerfile"
bad "COPY of a symlink leading out of the context" 125 'Containerfile:2.*leak' "$T/link"
printf 'FROM %s\nCOPY dirlink/secret /secret\n' "$BB" >"$T/link/Containerfile"
bad "COPY through a symlinked directory leading out" 125 'Containerfile:2.*dirlink' "$T/link"
cfname=from.cf cf "FROM $BB AS builder" "RUN true" "COPY --from=builer /x /x"
bad "COPY --from a stage that does not exist" 125 'from\.cf:3.*builer' --pull=never -f "$T/bad/from.cf" "$T/bad"
cfname=base.cf cf "FROM localhost/no/such:image" "RUN true"
bad "a base image that cannot be pulled (--pull=never)" 125 'localhost/no/such:image' --pull=never -f "$T/bad/base.cf" "$T/bad"
cfname=run.cf cf "FROM $BB" "RUN echo kept > /kept" "RUN exit 3" "RUN echo never"
bad "a failing RUN" 3 'run\.cf:3.*RUN exit 3' -f "$T/bad/run.cf" "$T/bad"
unlike "$(both)" "STEP 4/4" "the build stops at the failing RUN"
cfname=run.cf cf "FROM $BB" "RUN echo kept > /kept" "RUN exit 0" "RUN echo never"
H build -t localhost/t/fixed -f "$T/bad/run.cf" "$T/bad"
is "$rc:$(cached_steps "$(both)")" "0:2 " "fixed, the build takes the step before the failure from the cache"
H ps -a -q
is "$out" "" "no build container is left"
H system check
is "$rc" 0 "system check: the store is consistent"
[ "$rc" = 0 ] || printf '%s\n' "$out" "$err" | sed 's/^/#   /'

# ======== 6. podman builds the same Containerfiles: the same files and config
if ! command -v podman >/dev/null; then
  skip "podman is not installed (helpers/run-tests installs it)"
else
  # rootless on a store of its own, with the kernel overlay driver (this
  # kernel allows it in a user namespace; vfs copies the Debian rootfs at
  # each step, 2-4x slower), runc and cgroupfs (no systemd user session),
  # events to a file (no journald); reset at the end, which unmounts
  P() {
    podman --root "$T/podroot" --runroot "$T/podrun" --storage-driver overlay --runtime runc \
      --cgroup-manager cgroupfs --events-backend file "$@" 2>"$T/podman.err"
  }
  podman_end() {
    local pause
    pause=$(cat "$XDG_RUNTIME_DIR/libpod/tmp/pause.pid" 2>/dev/null) || pause=
    P system reset -f >/dev/null
    [ -z "$pause" ] || kill "$pause" 2>/dev/null
  }
  at_exit podman_end
  P load -q -i "$FIX/busybox.docker.tar" >/dev/null && P load -q -i "$FIX/debian.docker.tar" >/dev/null
  ok $? "podman loads the same base images" || sed 's/^/# /' "$T/podman.err"
  # files: the paths the Containerfile touched, with type, owner, mode,
  # size, link target and sha256; config: the fields of issue 21
  tree='for d in $DIRS; do find $d; done | LC_ALL=C sort | while read -r f; do
    printf "%s %s %s " "$f" "$(stat -c "%F %u:%g %a" "$f")" "$(readlink "$f")"
    if [ -f "$f" ] && [ ! -L "$f" ]; then sha256sum <"$f" | cut -c1-16; else echo; fi; done'
  fields='
import json, sys
c = json.load(sys.stdin)[0]["Config"] or {}
out = {}
for k in ("Env", "Cmd", "Entrypoint", "WorkingDir", "User", "ExposedPorts", "Labels"):
    v = c.get(k)
    if k == "ExposedPorts" and v: v = sorted(v)
    if k == "Labels" and v: v = {a: b for a, b in v.items() if a != "io.buildah.version"}
    out[k] = v if v not in (None, {}, [], "") else None
print(json.dumps(out, sort_keys=True))'
  compare() { # NAME DIRS: build $T/cmp-NAME with both, compare
    local name=$1 dirs=$2 h p
    H build -q --build-arg V=from-cli -t "localhost/cmp/$name" "$T/cmp-$name"
    is "$rc" 0 "$name: hutch builds it"
    [ "$rc" = 0 ] || printf '%s\n' "$err" | tail -n 5 | sed 's/^/#   /'
    P build -q --layers=false --network none --build-arg V=from-cli -t "localhost/cmp/$name" "$T/cmp-$name" >/dev/null
    ok $? "$name: podman builds it" || tail -n 5 "$T/podman.err" | sed 's/^/#   /'
    H run --rm --user 0 --entrypoint /bin/sh -e DIRS="$dirs" "localhost/cmp/$name" -c "$tree"
    h=$out
    p=$(P run --rm --network none --user 0 --entrypoint /bin/sh -e DIRS="$dirs" "localhost/cmp/$name" -c "$tree")
    [ -n "$h" ] && [ "$h" = "$p" ]
    ok $? "$name: the same files, owners, modes and contents under $dirs"
    [ "$h" = "$p" ] || diff <(printf '%s\n' "$p") <(printf '%s\n' "$h") | sed 's/^/# podman|hutch /'
    H image inspect "localhost/cmp/$name"
    h=$(python3 -c "$fields" <<<"$out")
    p=$(P image inspect "localhost/cmp/$name" | python3 -c "$fields")
    is "$h" "$p" "$name: the same Env, Cmd, Entrypoint, WorkingDir, User, ExposedPorts, Labels"
  }
  C=$T/cmp-bb
  mkdir -p "$C/sub/deep" "$C/logs"
  echo alpha >"$C/a.txt"
  echo beta >"$C/sub/b.txt"
  echo gamma >"$C/sub/deep/c.txt"
  echo g1 >"$C/g1.conf"
  echo g2 >"$C/g2.conf"
  echo secret >"$C/secret.key"
  echo noisy >"$C/logs/x.log"
  echo kept >"$C/logs/keep.log"
  ln -s a.txt "$C/a.link"
  chmod 0600 "$C/g2.conf"
  tar -C "$T/pkg" --owner=42 --group=42 -czf "$C/app.tar.gz" pkg
  printf '*.key\nlogs/*.log\n!logs/keep.log\n' >"$C/.dockerignore"
  cat >"$C/Containerfile" <<'CF'
FROM localhost/hutch-test/busybox:latest AS gen
RUN mkdir /out && echo gen > /out/g && chmod 700 /out && chown 7:7 /out/g
FROM localhost/hutch-test/busybox:latest
ARG V=default
ENV E1=one E2="two words" E3=${V}
WORKDIR /w/app
RUN mkdir -p /w/run && echo "$E1 $V" > /w/run/f && chmod 640 /w/run/f && ln -s f /w/run/l && \
    mkdir /w/run/d && chown 65534:65534 /w/run/d
COPY a.txt sub *.conf ./
COPY --chown=1000:1000 --chmod=600 a.txt /w/owned
COPY . /w/ctx/
ADD app.tar.gz /w/tar/
COPY --from=gen /out /w/fromstage
COPY --from=localhost/hutch-test/busybox:latest /etc/group /w/group
USER 65534
EXPOSE 80 53/udp
LABEL a=b "c d"=e
ENTRYPOINT ["/bin/echo"]
CMD ["hi"]
CF
  compare bb /w
  C=$T/cmp-deb
  mkdir -p "$C/sub"
  echo beta >"$C/sub/b.txt"
  cat >"$C/Containerfile" <<'CF'
FROM localhost/hutch-test/debian:bookworm
RUN useradd -u 1500 -m appuser && mkdir -p /w && echo deb > /w/d && chown appuser: /w/d && rm /etc/issue.net
COPY --chown=appuser:appuser sub /w/sub
ENV HOME=/home/appuser
USER appuser
WORKDIR /w
CMD ["bash", "-c", "id"]
CF
  compare deb "/w /home/appuser /etc/passwd /etc/group /etc/shadow /etc/issue.net"
fi

# ======== 7. pushed to a real registry, pulled into a fresh store, run
port=$(python3 "$NET" free-port)
mkdir -p "$T/reg"
cat >"$T/reg/config.yml" <<EOF
version: 0.1
log:
  level: error
storage:
  filesystem:
    rootdirectory: $T/reg/data
http:
  addr: 127.0.0.1:$port
EOF
docker-registry serve "$T/reg/config.yml" >>"$T/reg/log" 2>&1 &
pids+=($!)
wait_port "$port"
H push -q --tls-verify=false localhost/t/all "127.0.0.1:$port/t/all:1"
is "$rc" 0 "push of the built image to a docker-registry"
[ "$rc" = 0 ] || printf '%s\n' "$err" | sed 's/^/#   /'
new_store PS
hutch --root "$PS" pull -q --tls-verify=false "127.0.0.1:$port/t/all:1"
is "$rc" 0 "pulled into a fresh store"
hutch --root "$PS" image inspect "127.0.0.1:$port/t/all:1"
pulled=$(json_get "$out" 'd[0]["Id"]' 2>/dev/null)
[ -n "$pulled" ] && [ "$pulled" = "$(image_id localhost/t/all)" ]
ok $? "the same image ID (config) as built"
hutch --root "$PS" run --rm "127.0.0.1:$port/t/all:1"
is "$rc:$out" "0:cmd-default
1000
/srv/app" "and it runs there as it did here"
