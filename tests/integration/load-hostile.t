#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Hostile archives: each is refused with exit 125 and a message naming what
# is wrong, and leaves the store byte for byte as it was (and a canary
# directory beside it untouched). Also a load killed midway, a full disk,
# and inputs that are no archive (empty, a closed stdin, a directory).
. "$(dirname "$0")/lib.sh"
require_fixtures debian

R=$T/store
mkdir -p "$T/canary" && echo canary >"$T/canary/file"
canary_before=$(store_snapshot "$T/canary")
python3 "$HUTCH_TEST_SRCDIR/tests/fixtures/hostile.py" "$FIX/busybox/oci" "$T/hostile"
hutch --root "$R" load -i "$FIX/whiteout.oci.tar"
is "$rc" 0 "a good image first, so the store has content to keep"
before=$(store_snapshot "$R")

for f in "$T"/hostile/*.tar; do
  name=$(basename "$f" .tar)
  expect=$(cat "$T/hostile/$name.expect")
  hutch --root "$R" load -i "$f"
  is "$rc" 125 "$name: exit 125"
  case "$err" in
    *"$expect"*) ok 0 "$name: the message says \"$expect\"" ;;
    *) ok 1 "$name: the message says \"$expect\""; echo "# got: $err" ;;
  esac
  like "$err" "archive $f" "$name: the message names the archive"
  is "$(store_snapshot "$R")" "$before" "$name: the store is unchanged"
done

# An OCI layout directory whose blob is a symlink out of it.
cp -r "$FIX/busybox/oci" "$T/evil-dir"
chmod -R u+w "$T/evil-dir"
layer=$(python3 -c 'import json,sys; i=json.load(open(sys.argv[1]+"/index.json")); m=json.load(open(sys.argv[1]+"/blobs/sha256/"+i["manifests"][0]["digest"][7:])); print(m["layers"][0]["digest"][7:])' "$T/evil-dir")
ln -sf "$T/canary/file" "$T/evil-dir/blobs/sha256/$layer"
hutch --root "$R" load --input-format oci-dir -i "$T/evil-dir"
is "$rc" 125 "oci-dir: a blob that is a symlink out of the layout is refused"
like "$err" "blobs/sha256/$layer" "naming the blob"
is "$(store_snapshot "$R")" "$before" "oci-dir: the store is unchanged"

# A load killed midway. feed.py writes into the pipe and kills hutch while
# it still holds the pipe open: with 64 KiB of pipe, hutch has consumed all
# but that much, and cannot have seen the end of the archive.
cat >"$T/feed.py" <<'PY'
import os, signal, sys, tarfile
src, fifo, pid, mode = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
data = open(src, "rb").read()
with open(fifo, "wb") as out:
    if mode == "head":
        out.write(data[: 40 << 20])
    else:
        # every member, then 4 MiB into an 8 MiB member that never ends: the
        # writes return only once hutch is inside that member, past the rest
        last = tarfile.open(src).getmembers()[-1]
        out.write(data[: last.offset_data + (last.size + 511) // 512 * 512])
        filler = tarfile.TarInfo("zzz-filler")
        filler.size = 8 << 20
        out.write(filler.tobuf(format=tarfile.PAX_FORMAT))
        out.write(bytes(4 << 20))
    out.flush()
    os.kill(pid, signal.SIGKILL)
PY
mkfifo "$T/fifo"
killed_load() { # ARCHIVE MODE
  "$HUTCH" --root "$R" load -i "$T/fifo" >/dev/null 2>&1 & pid=$!
  python3 "$T/feed.py" "$1" "$T/fifo" $pid "$2"
  wait $pid 2>/dev/null
}
killed_load "$FIX/debian.docker.tar" head
is "$?" 137 "a load killed with SIGKILL during a layer"
is "$(store_snapshot "$R")" "$before" "leaves no partial blob in the store"

killed_load "$FIX/debian.oci.tar" all
is "$?" 137 "a load killed after its blobs streamed by"
hutch --root "$R" system df --format json
unused=$(json_get "$out" 'd["UnusedBlobs"]')
is "$unused" 3 "leaves the verified blobs it linked, named by no image (layer, config, manifest)"
hutch --root "$R" system prune
is "$rc" 0 "system prune"
is "$(store_snapshot "$R")" "$before" "removes them: the store is as before"

# A full disk: the store on a 4 MiB tmpfs in a private mount namespace.
cat >"$T/full.sh" <<SH
set -e
mount -t tmpfs -o size=4m tmpfs "$T/small"
"$HUTCH" --root "$T/small/r" load -q -i "$FIX/busybox.docker.tar"
cd "$T/small/r"
find . -printf '%p %y %m %s\n' | LC_ALL=C sort >"$T/full.before"
set +e
"$HUTCH" --root "$T/small/r" load -i "$FIX/debian.docker.tar" 2>"$T/full.err"
echo \$? >"$T/full.rc"
find . -printf '%p %y %m %s\n' | LC_ALL=C sort >"$T/full.after"
SH
mkdir "$T/small"
unshare -Urm bash "$T/full.sh"
is "$(cat "$T/full.rc")" 125 "a full disk: exit 125"
like "$(cat "$T/full.err")" "No space left on device" "the message says the disk is full"
like "$(cat "$T/full.err")" "$T/small/r" "and names the store"
like "$(cat "$T/full.err")" "The archive is 128.1 MB: its blobs need up to as much" "how much was needed"
like "$(cat "$T/full.err")" "holds 1.[01] MB of blobs and 2.1 MB of unpacked layers, all of it in use: .*free of" \
  "what the store holds, what frees it and what is free"
unlike "$(cat "$T/full.err")" "fd [0-9]" "and no fd number"
is "$(cat "$T/full.after")" "$(cat "$T/full.before")" "and the store is as before"

# Inputs that are no archive at all: each says what it is
: >"$T/empty.tar"
hutch --root "$R" load -i "$T/empty.tar"
like "$rc $err" "^125 .*archive $T/empty.tar is empty" "an empty file: says it is empty"
out=$("$HUTCH" --root "$R" load 2>&1 </dev/null) && rc=0 || rc=$?
like "$rc $out" "^125 .*the archive on stdin is empty" "an empty stdin: the same"
out=$("$HUTCH" --root "$R" load 2>&1 <&-) && rc=0 || rc=$?
like "$rc $out" "^125 .*no input: stdin is closed" "a closed stdin: says so"
mkdir "$T/notalayout"
hutch --root "$R" load -i "$T/notalayout"
like "$rc $err" "^125 .*$T/notalayout is a directory without an OCI image layout in it" \
  "a directory that is no OCI layout: says so"
hutch --root "$R" load --input-format docker-archive -i "$T/notalayout"
like "$err" "is a directory, not a docker-archive tarball" "with a tarball format asked for, too"
unlike "$err" "fd [0-9]" "no fd number in any of them"
hutch --root "$R" load -q -i "$FIX/busybox/oci"
is "$rc" 0 "a directory with an OCI layout in it loads without --input-format"
bad=sha256:$(printf '%064d' 0)
hutch --root "$R" image inspect "localhost/hutch-test/busybox:latest@$bad"
like "$err" "no image has digest $bad; it has localhost/hutch-test/busybox:latest \(sha256:[0-9a-f]{64}\)" \
  "a digest no image has: says so, and which digest the name has"

is "$(store_snapshot "$T/canary")" "$canary_before" "nothing outside the store was touched"
