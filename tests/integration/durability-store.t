#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The store under kill -9, races and damage: load, pull, rmi and commit
# killed at random moments (HUTCH_SWEEP_TRIALS each; 3 in CI, 20 or more
# nightly: docs/durability-sweeps.md),
# each followed by system check finding nothing broken and the next load,
# pull or run succeeding with every file of the image there; 8 pulls and
# loads of one image at once; and each kind of damage (a truncated
# manifest, a changed config byte, a flipped layer byte, index.json
# deleted) found by system check and fixed by --repair or by loading the
# good archive (or pulling) again, with the other images untouched meanwhile.
. "$(dirname "$0")/lib.sh"
require_fixtures

N=${HUTCH_SWEEP_TRIALS:-3}
HELP=$(dirname "$0")/registryhelp.py
NET=$(dirname "$0")/nethelp.py
R=$T/store
H() { hutch --root "$R" "$@"; }
at_exit '"$HUTCH" --root "$R" unshare rm -rf "$R" 2>/dev/null'
export XDG_RUNTIME_DIR=$T/run
mkdir -p "$XDG_RUNTIME_DIR" && chmod 0700 "$XDG_RUNTIME_DIR"
BB=localhost/hutch-test/busybox:latest
WH=localhost/hutch-test/whiteout:latest
[ -p "$T/.tick" ] || mkfifo "$T/.tick"

now_ms() { echo $(($(date +%s%N) / 1000000)); }
# pause_ms MS: a pause of MS milliseconds; here it only picks the moment of
# a kill, it waits for nothing
pause_ms() { read -r -t "$(printf '%d.%03d' $(($1 / 1000)) $(($1 % 1000)))" _ <>"$T/.tick" || true; }

# killed MS ARG...: hutch ARG... started in a session of its own and killed
# with SIGKILL after MS ms: the whole session (as a CI timeout or ^C does),
# or in odd trials the hutch process alone, leaving any child it has in a
# user namespace to run on. Sets $landed to 1 when hutch was still running.
killed() {
  local ms=$1 pid
  shift
  setsid "$HUTCH" --root "$R" "$@" >/dev/null 2>&1 &
  pid=$!
  pause_ms "$ms"
  if [ $((trial % 2)) = 0 ]; then kill -9 -- "-$pid" 2>/dev/null; else kill -9 "$pid" 2>/dev/null; fi &&
    landed=1 || landed=0
  wait "$pid" 2>/dev/null
}

# clean_check WHAT: system check must find no problem (notes are fine:
# space held, leftovers the next operation removes); else a diagnosis
clean_check() {
  H system check
  if [ "$rc" != 0 ]; then
    echo "# after $1: system check exit $rc:"
    printf '%s\n' "$out" "$err" | sed 's/^/#   /'
    return 1
  fi
}

# what the image holds, file by file: a layer half there shows here
tree_of() { hutch --root "$R" run --rm --network none "$1" sh -c 'find / -xdev | sort | md5sum'; }
leftovers() { ls -a "$R/layers" 2>/dev/null | grep -c '^\.tmp-\|^\.rm-'; }

# ---- a reference: the image whole, and how long each operation takes
H load -q -i "$FIX/busybox.docker.tar"
tree_of "$BB"
want_tree=$out
is "$rc" 0 "busybox loaded and run for reference"

# ---- rmi killed at random moments
t0=$(now_ms); H rmi "$BB"; t_rmi=$(($(now_ms) - t0))
fails=0 landings=0 runs=0
for trial in $(seq "$N"); do
  H load -q -i "$FIX/busybox.docker.tar"
  killed $((RANDOM % (t_rmi + 1))) rmi "$BB"
  landings=$((landings + landed))
  clean_check "rmi killed (trial $trial)" || { fails=$((fails + 1)); continue; }
  H load -i "$FIX/busybox.docker.tar"
  [ "$rc" = 0 ] || { echo "# load after a killed rmi: $err"; fails=$((fails + 1)); continue; }
  tree_of "$BB"
  [ "$out" = "$want_tree" ] || { echo "# trial $trial: the image is not whole: $out $err"; fails=$((fails + 1)); }
  runs=$((runs + 1))
done
is "$fails" 0 "rmi killed $N times ($landings while it ran, within ${t_rmi} ms): system check clean, the next load restores the whole image, and it runs"

# ---- load killed at random moments
t0=$(now_ms); H load -q -i "$FIX/busybox.docker.tar"; t_load=$(($(now_ms) - t0))
H rmi "$BB"
t0=$(now_ms); H load -q -i "$FIX/busybox.docker.tar"; t_load=$(($(now_ms) - t0))
fails=0 landings=0 left=0
for trial in $(seq "$N"); do
  H rmi "$BB"
  killed $((RANDOM % (t_load + 1))) load -q -i "$FIX/busybox.docker.tar"
  landings=$((landings + landed))
  clean_check "load killed (trial $trial)" || { fails=$((fails + 1)); continue; }
  H load -q -i "$FIX/busybox.docker.tar"
  [ "$rc" = 0 ] || { echo "# load after a killed load: $err"; fails=$((fails + 1)); continue; }
  left=$((left + $(leftovers)))
  tree_of "$BB"
  [ "$out" = "$want_tree" ] || { echo "# trial $trial: the image is not whole: $out $err"; fails=$((fails + 1)); }
done
is "$fails" 0 "load killed $N times ($landings while it ran, within ${t_load} ms): system check clean, the next load succeeds, and the image runs whole"
is "$left" 0 "the next load leaves no .tmp- or .rm- directory in layers/"

# ---- pull killed at random moments, from a real registry
have_registry=1
for tool in docker-registry skopeo; do command -v "$tool" >/dev/null || have_registry=0; done
if [ "$have_registry" = 0 ]; then
  skip "docker-registry or skopeo is not installed (helpers/run-tests installs them)"
else
  port=$(python3 "$NET" free-port)
  mkdir -p "$T/reg"
  printf 'version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: %s\nhttp:\n  addr: 127.0.0.1:%s\n' \
    "$T/reg/data" "$port" >"$T/reg/config.yml"
  docker-registry serve "$T/reg/config.yml" >>"$T/reg/log" 2>&1 &
  reg=$!
  at_exit "kill $reg 2>/dev/null"
  for i in $(seq 200); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; tick; done
  P=127.0.0.1:$port/hutch/busybox:latest
  skopeo copy -q --dest-tls-verify=false "oci:$FIX/busybox/oci" "docker://$P" >"$T/.skopeo" 2>&1
  is "$?" 0 "a registry on loopback, seeded with busybox"
  PULL=(pull -q --tls-verify=false "$P")
  H rmi "$BB" # the same layer: the pulls must unpack it
  t0=$(now_ms); H "${PULL[@]}"; t_pull=$(($(now_ms) - t0))
  tree_of "$P"
  is "$out" "$want_tree" "the pulled image is the loaded one, file by file"
  fails=0 landings=0
  for trial in $(seq "$N"); do
    H rmi "$P"
    killed $((RANDOM % (t_pull + 1))) "${PULL[@]}"
    landings=$((landings + landed))
    clean_check "pull killed (trial $trial)" || { fails=$((fails + 1)); continue; }
    H "${PULL[@]}"
    [ "$rc" = 0 ] || { echo "# pull after a killed pull: $err"; fails=$((fails + 1)); continue; }
    tree_of "$P"
    [ "$out" = "$want_tree" ] || { echo "# trial $trial: the image is not whole: $out $err"; fails=$((fails + 1)); }
  done
  is "$fails" 0 "pull killed $N times ($landings while it ran, within ${t_pull} ms): system check clean, the next pull succeeds, and the image runs whole"

  # ---- 8 pulls and loads of one image into one store at once
  H rmi -f "$BB"
  H rmi -f "$P"
  H system prune
  pids=()
  for i in 1 2 3 4; do
    "$HUTCH" --root "$R" "${PULL[@]}" >"$T/par-pull-$i" 2>&1 &
    pids+=($!)
    "$HUTCH" --root "$R" load -q -i "$FIX/busybox.docker.tar" >"$T/par-load-$i" 2>&1 &
    pids+=($!)
  done
  bad=0
  for p in "${pids[@]}"; do wait "$p" || bad=$((bad + 1)); done
  is "$bad" 0 "4 pulls and 4 loads of busybox at once all succeed"
  [ "$bad" = 0 ] || cat "$T"/par-* | sed 's/^/#   /'
  clean_check "8 at once"
  ok $? "system check finds nothing wrong after them"
  tree_of "$P"
  is "$out" "$want_tree" "and the image runs whole"

  # ---- a pull of good content replaces a damaged blob
  H images --format json
  pm=$(json_get "$out" "[i['Digest'][7:] for i in d if '$P' in i['Names']][0]")
  pl=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["layers"][0]["digest"][7:])' \
    "$R/blobs/sha256/$pm")
  printf 'X' | dd of="$R/blobs/sha256/$pl" bs=1 seek=5000 conv=notrunc status=none
  H "${PULL[@]}"
  is "$rc" 0 "a flipped byte in a pulled layer blob: pulling again succeeds"
  is "$(sha256sum "$R/blobs/sha256/$pl" | cut -d' ' -f1)" "$pl" "and replaced the damaged blob"
fi

# ---- damage: one image damaged never hides or blocks the others
[ -n "${P:-}" ] && H rmi -f "$P"
H system prune
H load -q -i "$FIX/busybox.docker.tar"
H load -q -i "$FIX/whiteout.oci.tar"
H images --format json
bb_manifest=$(json_get "$out" "[i['Digest'][7:] for i in d if '$BB' in i['Names']][0]")
bb_config=$(json_get "$out" "[i['Id'] for i in d if '$BB' in i['Names']][0]")

truncate -s 100 "$R/blobs/sha256/$bb_manifest"
H images
like "$out" "localhost/hutch-test/whiteout +latest" "a truncated manifest: images still lists the other image"
like "$out" "localhost/hutch-test/busybox +latest .* DAMAGED" "and marks the damaged one"
like "$err" "image $BB is damaged: its manifest: .*load or pull it again" "saying why and what fixes it, on stderr"
H run --rm --network none "$WH" true
is "$rc" 0 "the other image runs"
H run --rm --network none "$BB" true
like "$rc:$err" "^125:.*image $BB is damaged.*rmi -f" "the damaged one is refused with the fix"
H system check
is "$rc" 1 "system check: exit 1"
like "$out" "problem: blob sha256:$bb_manifest: damaged" "it finds the damaged blob"
like "$out" "problem: image $BB: its manifest sha256:$bb_manifest is damaged" "and the image it breaks"
H system prune
is "$rc" 0 "system prune still works"
like "$err" "kept the blobs and layers no image is known to use: image $BB is damaged" \
  "keeping what the damaged image may use, and saying so"
H rmi -f "$BB"
is "$rc" 0 "rmi -f removes the damaged image"
H images
unlike "$out" "localhost/hutch-test/busybox" "it is gone"
H load -q -i "$FIX/busybox.docker.tar"
tree_of "$BB"
is "$out" "$want_tree" "loaded again, it runs whole"

printf 'X' | dd of="$R/blobs/sha256/$bb_config" bs=1 seek=30 conv=notrunc status=none
H images
like "$out" "busybox .* DAMAGED" "a changed config byte: images marks the image"
like "$out" "whiteout" "and lists the other"
H system check
like "$rc $out" "^1 .*blob sha256:$bb_config: damaged" "system check finds the damaged config (exit 1)"
H load -i "$FIX/busybox.docker.tar"
is "$rc:$out" "0:Loaded image: $BB" "load of the good archive succeeds"
H system check
is "$rc" 0 "and replaced the damaged blob: system check is clean"
tree_of "$BB"
is "$out" "$want_tree" "the image runs whole"

# --repair of an image that cannot run (its manifest or config lost): it
# is taken off the list, the others stay, and a load brings it back
for damage in manifest config; do
  H images --format json
  if [ "$damage" = manifest ]; then
    blob=$(json_get "$out" "[i['Digest'][7:] for i in d if '$BB' in i['Names']][0]")
    truncate -s 100 "$R/blobs/sha256/$blob"
  else
    blob=$(json_get "$out" "[i['Id'] for i in d if '$BB' in i['Names']][0]")
    printf 'X' | dd of="$R/blobs/sha256/$blob" bs=1 seek=30 conv=notrunc status=none
  fi
  H system check --repair
  is "$rc" 0 "a damaged $damage: system check --repair leaves nothing broken (exit 0)"
  like "$out" "image $BB: its $damage sha256:$blob is damaged \(deleted\)" "it names the image and the blob"
  like "$out" "repaired: removed from the list of images, as it cannot run; loading or pulling $BB again" \
    "and takes the image off the list, saying how to get it back"
  H images
  is "$(grep -c hutch-test/busybox <<<"$out"):$(grep -c hutch-test/whiteout <<<"$out")" "0:1" \
    "images: the damaged one is gone, the other is there"
  H system check
  is "$rc" 0 "system check then finds no problem"
  H load -q -i "$FIX/busybox.docker.tar"
  tree_of "$BB"
  is "$out" "$want_tree" "loaded again, it runs whole"
done

layer=$(tar -xOf "$FIX/busybox.docker.tar" manifest.json |
  python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["Layers"][0])')
diff_id=$(tar -xOf "$FIX/busybox.docker.tar" "$layer" | sha256sum | cut -d' ' -f1)
# load keeps the archive's plain layer gzipped: the blob is that
layer=$(skopeo inspect --raw "oci:$R:$BB" | python3 -c 'import json,sys; print(json.load(sys.stdin)["layers"][0]["digest"][7:])')
ok "$([ -f "$R/blobs/sha256/$layer" ] && [ "$layer" != "$diff_id" ]; echo $?)" "the layer blob is the gzipped one"
printf 'X' | dd of="$R/blobs/sha256/$layer" bs=1 seek=5000 conv=notrunc status=none
H system check
like "$rc $out" "^1 .*blob sha256:$layer: damaged" "a flipped layer byte: system check finds it (exit 1)"
like "$out" "problem: image $BB: its layer 1 sha256:$layer is damaged" "and names the image"
H load -q -i "$FIX/busybox.docker.tar"
is "$rc" 0 "with its layer still unpacked, load of the good archive succeeds"
is "$(sha256sum "$R/blobs/sha256/$layer" | cut -d' ' -f1)" "$layer" "and replaces the damaged blob"
printf 'X' | dd of="$R/blobs/sha256/$layer" bs=1 seek=5000 conv=notrunc status=none
"$HUTCH" --root "$R" unshare rm -rf "$R/layers/$diff_id"
H load -q -i "$FIX/busybox.docker.tar"
is "$rc" 0 "with its layer unpacked no more, load of the good archive succeeds"
is "$(sha256sum "$R/blobs/sha256/$layer" | cut -d' ' -f1)" "$layer" \
  "the blob is whole again (the archive's bytes gzipped the same way)"
tree_of "$BB"
is "$out" "$want_tree" "and the layer was unpacked from them: the image runs whole"

printf 'X' | dd of="$R/blobs/sha256/$layer" bs=1 seek=5000 conv=notrunc status=none
H system check --repair
is "$rc" 1 "system check --repair exits 1 for what remains"
like "$out" "repaired: deleted; loading or pulling its image again brings it back" \
  "it deletes the damaged blob"
like "$out" "problem: image $BB: its layer 1 sha256:$layer is damaged \(deleted\)" \
  "the image needs its source again"
like "$out" "fix: load or pull it again" "and it says so"
H load -q -i "$FIX/busybox.docker.tar"
H system check
is "$rc" 0 "the load brings it back: system check is clean"

cp "$R/index.json" "$T/index.json.good"
rm "$R/index.json"
H images
like "$rc $err" "^125 .*index.json is missing.*system check --repair" \
  "index.json deleted: images says so and how to fix it, and lists no empty store"
blobs=$(find "$R/blobs/sha256" -type f | wc -l)
H system prune
is "$rc" 125 "system prune refuses to run on a store without index.json"
is "$(find "$R/blobs/sha256" -type f | wc -l)" "$blobs" "and deletes no blob"
H system check
like "$rc $out" "^1 problem: index.json: .*missing" "system check finds it missing"
H system check --repair
is "$rc" 0 "--repair rebuilds it"
like "$out" "repaired: rebuilt with 2 entries, 2 named from index.json.backup" \
  "from the blobs, with the names"
H images
like "$out" "localhost/hutch-test/busybox +latest" "busybox is listed by name again"
like "$out" "localhost/hutch-test/whiteout +latest" "and whiteout"
tree_of "$BB"
is "$out" "$want_tree" "and runs"
rm "$R/index.json" "$R/index.json.backup"
H system check --repair
is "$rc" 0 "without the copy too, --repair rebuilds it"
like "$out" "rebuilt with 2 entries, 0 named" "untagged"
H images
like "$out" "<none> +<none> +${bb_config:0:12}" "the images are there, to be named again"
cp "$T/index.json.good" "$R/index.json"

# ---- leftovers of killed processes, found and removed
H load -q -i "$FIX/busybox.docker.tar"
mkdir "$R/layers/.tmp-$layer" "$R/layers/.rm-$layer.0000"
: >"$R/blobs/sha256/.new-$layer.1"
H system check
is "$rc" 0 "system check exits 0 with leftovers of killed processes: nothing is broken"
like "$out" "note: +layers/.tmp-$layer: left by an unpack that was killed" "it notes a killed unpack's directory"
like "$out" "note: +layers/.rm-$layer.0000: left by a removal that was killed" "and a killed removal's"
H load -q -i "$FIX/whiteout.oci.tar"
is "$(leftovers):$(ls -a "$R/blobs/sha256" | grep -c '^\.new-')" "0:0" "the next load sweeps them away"

# ---- commit killed at spread-out moments, mid-layer
# a few MB of changes that do not compress: the layer takes a while to
# write, so most kills land in it. Trial i is killed at a random moment of
# the i-th of N equal slices of an uninterrupted commit's time, so that the
# moments cover it from start to end however few trials CI runs.
CM=localhost/t/swept:latest
H run --name big --network none "$BB" sh -c \
  'mkdir /m && for i in 1 2 3 4; do dd if=/dev/urandom of=/m/$i bs=64k count=16 2>/dev/null; done'
is "$rc" 0 "a container with 4 MB of changes"
# the committed image, file by file and byte by byte
whole_of() {
  hutch --root "$R" run --rm --network none "$1" sh -c 'find / -xdev | sort | md5sum; cat /m/* | md5sum'
}
H images --format json
others=$(json_get "$out" "len(d)")
t0=$(now_ms); H commit big "$CM"; t_commit=$(($(now_ms) - t0))
is "$rc" 0 "an uninterrupted commit for reference"
whole_of "$CM"
want_commit=$out
H rmi "$CM"
fails=0 landings=0 n_none=0 n_whole=0 left=0
for trial in $(seq "$N"); do
  killed $(((trial - 1) * t_commit / N + RANDOM % (t_commit / N + 1))) commit big "$CM"
  landings=$((landings + landed))
  clean_check "commit killed (trial $trial)" || { fails=$((fails + 1)); continue; }
  H images --format json
  made=$(json_get "$out" "len([i for i in d if '$CM' in i['Names']])")
  # an image without the name would be a half-made one shown
  [ "$(json_get "$out" "len(d)")" = $((others + made)) ] || made="$made, and others: $out"
  if [ "$made" = 1 ]; then
    # the kill came after the image was made: it is whole
    whole_of "$CM"
    [ "$out" = "$want_commit" ] ||
      { echo "# trial $trial: the committed image is not whole: $out $err"; fails=$((fails + 1)); continue; }
    n_whole=$((n_whole + 1))
    H rmi "$CM"
  elif [ "$made" = 0 ]; then
    n_none=$((n_none + 1))
  else
    echo "# trial $trial: images: $out"
    fails=$((fails + 1))
    continue
  fi
  H commit big "$CM"
  [ "$rc" = 0 ] || { echo "# commit after a killed commit: $err"; fails=$((fails + 1)); continue; }
  left=$((left + $(leftovers) + $(ls -a "$R/blobs/sha256" | grep -c '^\.new-')))
  whole_of "$CM"
  [ "$out" = "$want_commit" ] || { echo "# trial $trial: the next commit is not whole: $out $err"; fails=$((fails + 1)); }
  H rmi "$CM"
done
is "$fails" 0 "commit killed $N times ($landings while it ran, within ${t_commit} ms): system check clean, no image ($n_none) or a whole one ($n_whole), the next commit succeeds and runs whole"
is "$left" 0 "the next commit leaves no .tmp- or .rm- directory in layers/, no .new- blob"
H rm big
