#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# hutch push against real registries on loopback: Debian's docker-registry
# over plain HTTP, read-only, and over TLS with a CA of the test's own and
# htpasswd, and with token auth (registryhelp.py's token service). What the
# registry got is read back with skopeo and with a pull into a fresh store.
# pushproxy.py sits in front to count requests (HEAD only on a second push,
# a mount to another repository, PATCHes for a chunked upload) and to cut a
# connection in the middle of an upload.
. "$(dirname "$0")/lib.sh"
require_fixtures debian

. "$(dirname "$0")/registry.sh"
PROXY=$(dirname "$0")/pushproxy.py
# registry NAME [AFTER-HTTP-ADDR] [IN-STORAGE]: a registry on a free port
# with storage in $T; YAML lines added after http's addr and in storage
declare -A reg_port
registry() {
  local name=$1 extra=${2:-} storage=${3:-} port
  port=$(python3 "$NET" free-port)
  mkdir -p "$T/reg-$name"
  cat >"$T/reg-$name/config.yml" <<EOF
version: 0.1
log:
  level: error
storage:
  filesystem:
    rootdirectory: $T/reg-$name/data
$storage
http:
  addr: 127.0.0.1:$port
$extra
EOF
  docker-registry serve "$T/reg-$name/config.yml" >>"$T/reg-$name/log" 2>&1 &
  pids+=($!)
  reg_port[$name]=$port
  wait_port "$port"
}
# proxy NAME TARGETPORT [--cut BYTES]: pushproxy.py, logging to $T/NAME.log;
# its address in $proxy_addr
proxy() {
  local name=$1 target=$2
  shift 2
  python3 "$PROXY" "$target" "$T/$name.port" "$T/$name.log" "$@" &
  pids+=($!)
  wait_file "$T/$name.port"
  proxy_addr=127.0.0.1:$(cat "$T/$name.port")
}
inspect_digest() { # REF [SKOPEO-OPTION...]: the manifest digest the registry has
  local ref=$1
  shift
  skopeo inspect --tls-verify=false "$@" "docker://$ref" 2>&1 |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["Digest"])' 2>/dev/null
}
raw_manifest() { # REF: the manifest as the registry has it
  skopeo inspect --raw --tls-verify=false "docker://$1"
}
digest_of() { # STORE IMAGE: the manifest digest of IMAGE in STORE
  "$HUTCH" --root "$1" images --format json 2>/dev/null | python3 -c '
import json, sys
for i in json.load(sys.stdin):
    if sys.argv[1] in i["Names"]:
        print(i["Digest"])' "$2"
}
# pulled_digest REF STORE: pulls REF into the fresh store $T/STORE; its digest there
oneline() { printf '%s' "$1" | tr '\n' ' '; }
pulled_digest() {
  new_store "$2"
  "$HUTCH" --root "$T/$2" pull -q --tls-verify=false "$1" >/dev/null 2>"$T/pull.err" ||
    sed 's/^/# pull: /' "$T/pull.err"
  digest_of "$T/$2" "$1"
}

registry plain
P=127.0.0.1:${reg_port[plain]}
proxy counted "${reg_port[plain]}"
X=$proxy_addr
BB=localhost/hutch-test/busybox:latest
DEB=localhost/hutch-test/debian:bookworm
"$HUTCH" --root "$R" load -q -i "$FIX/busybox.docker.tar" >/dev/null 2>&1
"$HUTCH" --root "$R" load -q -i "$FIX/debian.docker.tar" >/dev/null 2>&1
# an image as a registry serves it: gzip layers, a digest to keep
skopeo copy -q --dest-tls-verify=false "oci:$FIX/whiteout/oci" "docker://$P/seed/whiteout:1" >/dev/null 2>&1
H pull -q --tls-verify=false "$P/seed/whiteout:1"
is "$rc" 0 "a gzip image pulled from the registry to push back"
WO=$P/seed/whiteout:1
wo_digest=$(digest_of "$R" "$WO")

# ---- plain HTTP
H push "$WO" "$P/hutch/whiteout:1"
is "$rc" 125 "plain HTTP without --tls-verify=false: exit 125"
like "$err" "TLS handshake failed.*--tls-verify=false" "the error says how to allow plain HTTP"
H push --tls-verify=false --digestfile "$T/digest" "$WO" "$X/hutch/whiteout:1"
is "$rc" 0 "push of a pulled image"
like "$(oneline "$err")" "Pushing $WO to $X/hutch/whiteout:1.*Pushed.*Writing manifest" \
  "progress says each layer was pushed, then the manifest"
is "$(cat "$T/digest")" "$wo_digest" "--digestfile: the manifest keeps the image's digest"
is "$(inspect_digest "$P/hutch/whiteout:1")" "$wo_digest" "skopeo inspect sees that digest"
is "$(pulled_digest "$P/hutch/whiteout:1" PW)" "$wo_digest" "and a pull into a fresh store gets it"
is "$(grep -c '^PUT .*/manifests/' "$T/counted.log")" 1 "the manifest was put once"
is "$(grep -n . "$T/counted.log" | grep '/manifests/' | cut -d: -f1)" "$(wc -l <"$T/counted.log")" \
  "and last, after every blob"
n_layers=$(raw_manifest "$P/hutch/whiteout:1" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["layers"]))')
is "$(grep -c '^HEAD .*/blobs/' "$T/counted.log")" "$((n_layers + 1))" "a HEAD for each blob"

# the same again: HEADs and the manifest, no upload
: >"$T/counted.log"
H push --tls-verify=false "$WO" "$X/hutch/whiteout:1"
is "$rc" 0 "pushed again"
like "$err" "Layer already exists" "progress says the layers are there"
is "$(grep -v '^HEAD \|^GET /v2/$\|^PUT .*/manifests/' "$T/counted.log" | tr '\n' ' ')" "" \
  "the second push only HEADs the blobs and puts the manifest"

# to another repository of the registry: mounted, not uploaded
H tag "$WO" "$X/hutch/whiteout:1"
: >"$T/counted.log"
H push --tls-verify=false "$X/hutch/whiteout:1" "$X/other/whiteout:2"
is "$rc" 0 "push to another repository of the same registry"
like "$err" "Mounted from hutch/whiteout" "progress says the layers were mounted"
is "$(grep -c '^POST /v2/other/whiteout/blobs/uploads/?mount=sha256.*&from=hutch%2Fwhiteout' "$T/counted.log")" \
  "$((n_layers + 1))" "each blob by a cross-repository mount"
is "$(grep -c '^P[UA].*/blobs/uploads/' "$T/counted.log")" 0 "and none uploaded"
is "$(inspect_digest "$P/other/whiteout:2")" "$wo_digest" "the mounted image is the same"

# a mount the registry cannot do (the other repository lacks the blob):
# the upload goes on in the session its answer opened
H rmi "$X/hutch/whiteout:1" >/dev/null
H tag "$WO" "$X/nowhere/whiteout:1"
: >"$T/counted.log"
H push --tls-verify=false "$X/nowhere/whiteout:1" "$X/elsewhere/whiteout:1"
is "$rc" 0 "a refused mount falls back to an upload"
is "$(grep -c '^POST /v2/elsewhere/whiteout/blobs/uploads/?mount=' "$T/counted.log"):$(grep -c '^POST' "$T/counted.log"):$(grep -c '^PUT /v2/elsewhere/whiteout/blobs/uploads/' "$T/counted.log")" \
  "$((n_layers + 1)):$((n_layers + 1)):$((n_layers + 1))" \
  "in the session each mount request opened: no other POST"
is "$(inspect_digest "$P/elsewhere/whiteout:1")" "$wo_digest" "the image is whole"
H rmi "$X/nowhere/whiteout:1" >/dev/null

# on a terminal: the layer lines are redrawn in place
script -qec "'$HUTCH' --root '$R' push --tls-verify=false '$DEB' '$P/hutch/tty:1'" /dev/null >"$T/tty.out" 2>&1
like "$(cat -v "$T/tty.out")" '\^\[\[[0-9]+A.*Pushed' "on a terminal: the layer lines are redrawn in place"

# without a destination: the image's own name
H tag "$BB" "$P/hutch/busybox:own"
H push -q --tls-verify=false "$P/hutch/busybox:own"
is "$rc|$out|$err" "0||" "-q, and no destination: pushed under its own name, quietly"
bb_digest=$(inspect_digest "$P/hutch/busybox:own")
is "$(pulled_digest "$P/hutch/busybox:own" PB)" "$bb_digest" "a pull gets what skopeo sees"

# ---- the Debian image (its layer gzip, as load stores it): in chunks, then as zstd
: >"$T/counted.log"
HUTCH_PUSH_CHUNK_SIZE=4194304 H push --tls-verify=false "$DEB" "$X/hutch/debian:gzip"
is "$rc" 0 "push of the Debian image, uploaded in 4 MiB chunks (HUTCH_PUSH_CHUNK_SIZE)"
like "$(raw_manifest "$P/hutch/debian:gzip")" "vnd.oci.image.layer.v1.tar\+gzip" \
  "its layer went as gzip"
patches=$(grep -c '^PATCH /v2/hutch/debian/blobs/uploads/' "$T/counted.log")
[ "$patches" -gt 5 ]
ok $? "a large layer goes in chunked PATCHes ($patches)"
deb_digest=$(inspect_digest "$P/hutch/debian:gzip")
is "$(pulled_digest "$P/hutch/debian:gzip" PG)" "$deb_digest" "a pull gets what skopeo sees"
"$HUTCH" --root "$T/PG" run --rm "$P/hutch/debian:gzip" cat /etc/debian_version >"$T/run.out" 2>&1
like "$(cat "$T/run.out")" "^12" "and it runs"
H push -q --tls-verify=false --compression-format zstd "$DEB" "$P/hutch/debian:zstd"
is "$rc" 0 "--compression-format zstd"
like "$(raw_manifest "$P/hutch/debian:zstd")" "vnd.oci.image.layer.v1.tar\+zstd" \
  "the manifest names a zstd layer"
is "$(skopeo inspect --config --tls-verify=false "docker://$P/hutch/debian:zstd" | sha256sum)" \
  "$(skopeo inspect --config --tls-verify=false "docker://$P/hutch/debian:gzip" | sha256sum)" \
  "with the same config: the same diff ids"
zstd_digest=$(inspect_digest "$P/hutch/debian:zstd")
: >"$T/counted.log"
H push --tls-verify=false --compression-format zstd "$DEB" "$X/hutch/debian:zstd"
like "$err" "Layer already exists" "pushed again as zstd, the zstd layer is found in the registry"
is "$(grep -v '^HEAD \|^GET /v2/$\|^PUT .*/manifests/' "$T/counted.log" | tr '\n' ' ')" "" \
  "by a HEAD alone: hutch remembers what it compressed the layer into"
is "$(pulled_digest "$P/hutch/debian:zstd" PZ)" "$zstd_digest" "pulled back, the same digest"
"$HUTCH" --root "$T/PZ" run --rm "$P/hutch/debian:zstd" cat /etc/debian_version >"$T/run.out" 2>&1
like "$(cat "$T/run.out")" "^12" "and it runs"
RZ=$T/PZ
hutch --root "$RZ" push -q --tls-verify=false "$P/hutch/debian:zstd" "$P/hutch/debian:zstd-again"
is "$rc:$(inspect_digest "$P/hutch/debian:zstd-again")" "0:$zstd_digest" \
  "a zstd image pushed as it is stored keeps its digest"
hutch --root "$RZ" push -q --tls-verify=false --compression-format gzip "$P/hutch/debian:zstd" \
  "$P/hutch/debian:back-to-gzip"
is "$rc:$(inspect_digest "$P/hutch/debian:back-to-gzip")" "0:$deb_digest" \
  "and --compression-format gzip turns it back into the gzip image"

# ---- a connection cut in the middle of an upload: a gzip layer sent
# whole, in chunks, and as zstd, compressed and streamed on the way
snap_before=$(store_snapshot "$R")
for mode in whole chunked streamed; do
  case $mode in
  whole) proxy "cut-$mode" "${reg_port[plain]}" --cut 3000000 ;;
  chunked) # in the middle of a 2 MiB chunk
    proxy "cut-$mode" "${reg_port[plain]}" --cut 1000000
    export HUTCH_PUSH_CHUNK_SIZE=2097152 ;;
  streamed) proxy "cut-$mode" "${reg_port[plain]}" --cut 3000000 ;;
  esac
  want=$deb_digest
  if [ $mode = streamed ]; then
    H push --tls-verify=false --compression-format zstd "$DEB" "$proxy_addr/cut-$mode/debian:1"
    want=$zstd_digest
  else # the pulled gzip image, sent as it is stored
    hutch --root "$T/PG" push --tls-verify=false "$P/hutch/debian:gzip" "$proxy_addr/cut-$mode/debian:1"
  fi
  unset HUTCH_PUSH_CHUNK_SIZE
  is "$rc" 0 "a connection cut during a $mode upload: the push goes on"
  [ "$rc" = 0 ] || printf '%s\n' "$err" | sed 's/^/# /'
  like "$(cat "$T/cut-$mode.log")" "^cut /v2/cut-$mode/debian/blobs/uploads/" "(the proxy cut it)"
  is "$(inspect_digest "$P/cut-$mode/debian:1")" "$want" "and the registry has the whole image"
  is "$(grep -c '/manifests/' "$T/cut-$mode.log")" 1 "with one manifest put, at the end"
  is "$(tail -n 1 "$T/cut-$mode.log" | cut -d' ' -f1-2)" "PUT /v2/cut-$mode/debian/manifests/1" \
    "(the last request)"
done
like "$(grep -A3 '^cut ' "$T/cut-chunked.log" | sed -n 2p)" "^GET /v2/cut-chunked/debian/blobs/uploads/" \
  "a broken chunk: the client asks the registry where the upload stands"
like "$(grep -A3 '^cut ' "$T/cut-streamed.log" | tr '\n' ' ')" "^cut .* HEAD .* POST /v2/cut-streamed/debian/blobs/uploads/ " \
  "a broken stream: the compressed layer is uploaded anew"
is "$(store_snapshot "$R")" "$snap_before" "the recompressed layers do not stay in the store"

# ---- bad input
H push --tls-verify=false localhost/nothing:here "$P/hutch/nothing:1"
like "$rc:$(oneline "$err")" "^125:.*localhost/nothing:here" "an image that does not exist: exit 125, named"
for dest in "$P/Upper/Case" "$P/hutch/x:bad tag" "$P/hutch/x@sha256:1234"; do
  H push --tls-verify=false "$BB" "$dest"
  like "$rc:$(oneline "$err")" "^125:.*destination \"$dest\"|^125:.*$dest" "an invalid destination ($dest): exit 125"
done
H push --tls-verify=false "$BB" "$P/hutch/x@sha256:$(printf %064d 0)"
like "$rc:$(oneline "$err")" "^125:.*a push names a tag, not a digest" "a destination by digest: exit 125, says why"
H push --tls-verify=false --compression-format lz4 "$BB" "$P/hutch/x:1"
like "$rc:$(oneline "$err")" "^125:.*--compression-format=lz4: use gzip or zstd" "an unknown compression: exit 125"

registry ro "" "  maintenance:
    readonly:
      enabled: true"
O=127.0.0.1:${reg_port[ro]}
snap_before=$(store_snapshot "$R")
H push --tls-verify=false "$DEB" "$O/hutch/debian:1"
like "$rc:$(oneline "$err")" "^125:.*$O/hutch/debian.*takes no uploads \(HTTP 405.*read-only" \
  "a read-only registry refuses: exit 125, its error shown"
is "$(store_snapshot "$R")" "$snap_before" "the store is as it was"

# ---- TLS with a CA of our own, and htpasswd
cd "$T"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=hutch-test-ca -keyout ca.key \
  -out ca.pem >/dev/null 2>&1
openssl req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 -keyout srv.key -out srv.csr >/dev/null 2>&1
printf 'subjectAltName=IP:127.0.0.1\n' >srv.ext
openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -extfile srv.ext \
  -out srv.pem >/dev/null 2>&1
htpasswd -Bbn alice secret >"$T/htpasswd" 2>/dev/null
cd - >/dev/null
registry tls "  tls:
    certificate: $T/srv.pem
    key: $T/srv.key
auth:
  htpasswd:
    realm: hutch-test
    path: $T/htpasswd"
S=127.0.0.1:${reg_port[tls]}
H push --creds alice:secret "$WO" "$S/hutch/whiteout:1"
like "$rc:$(oneline "$err")" "^125:.*not trusted.*SSL_CERT_FILE" "an unknown CA: exit 125, says how to trust it"
export SSL_CERT_FILE=$T/ca.pem
H push "$WO" "$S/hutch/whiteout:1"
like "$rc:$(oneline "$err")" "^125:.*needs credentials.*hutch login $S" "no credentials: 401, says to log in"
H push --creds alice:wrong "$WO" "$S/hutch/whiteout:1"
like "$rc:$(oneline "$err")" "^125:.*access denied to alice.*HTTP 401" "a wrong password: a clear 401"
H push --creds alice:secret "$WO" "$S/hutch/whiteout:1"
is "$rc" 0 "TLS trusted through SSL_CERT_FILE, with Basic credentials"
is "$(inspect_digest "$S/hutch/whiteout:1" --creds alice:secret)" "$wo_digest" \
  "skopeo sees the image's digest"
new_store RT
"$HUTCH" --root "$RT" pull -q --creds alice:secret "$S/hutch/whiteout:1" >/dev/null 2>&1
is "$(digest_of "$RT" "$S/hutch/whiteout:1")" "$wo_digest" "and a pull into a fresh store gets it"
unset SSL_CERT_FILE
H push -q --tls-verify=false --creds alice:secret "$DEB" "$S/hutch/debian:1"
is "$rc" 0 "--tls-verify=false accepts the unknown CA"

# ---- token auth: the push scope, and a mount's two
cd "$T"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=hutch-token -keyout tok.key \
  -out tok.pem >/dev/null 2>&1
cd - >/dev/null
python3 "$HELP" token "$T/tok.key" "$T/tok.pem" "$T/token.port" "$T/token.log" alice:secret &
pids+=($!)
wait_file "$T/token.port"
registry token "auth:
  token:
    realm: http://127.0.0.1:$(cat "$T/token.port")/token
    service: hutch-test-registry
    issuer: hutch-test-issuer
    rootcertbundle: $T/tok.pem"
K=127.0.0.1:${reg_port[token]}
H push --tls-verify=false "$WO" "$K/public/whiteout:1"
like "$rc:$(oneline "$err")" "^125:.*$K/public/whiteout.*refuses an anonymous push.*HTTP 401.*hutch login $K" \
  "an anonymous push: the registry's 401 shown, exit 125, says to log in"
: >"$T/token.log"
H push --tls-verify=false --creds alice:secret "$WO" "$K/public/whiteout:1"
is "$rc" 0 "push with a token"
like "$(cat "$T/token.log")" "scope=repository%3Apublic%2Fwhiteout%3Apull%2Cpush.* user=alice" \
  "for the repository's push scope"
H tag "$WO" "$K/public/whiteout:1"
: >"$T/token.log"
H push --tls-verify=false --creds alice:secret "$K/public/whiteout:1" "$K/mirror/whiteout:1"
like "$err" "Mounted from public/whiteout" "a mount with token auth"
like "$(cat "$T/token.log")" "scope=repository%3Amirror%2Fwhiteout%3Apull%2Cpush&scope=repository%3Apublic%2Fwhiteout%3Apull" \
  "its token covers both repositories"

# ---- an image without a name, and no destination
new_store RU
"$HUTCH" --root "$RU" load -q -i "$FIX/busybox.docker.tar" >/dev/null 2>&1
wo_name=$("$HUTCH" --root "$RU" load -i "$FIX/whiteout.docker.tar" 2>/dev/null | sed -n 's/^Loaded image: //p' | head -n 1)
bb_id=$("$HUTCH" --root "$RU" images --format json | python3 -c '
import json, sys
for i in json.load(sys.stdin):
    if sys.argv[1] in i["Names"]:
        print(i["Id"])' "$BB")
hutch --root "$RU" tag "$wo_name" "$BB"
hutch --root "$RU" push --tls-verify=false "${bb_id:0:12}"
like "$rc:$(oneline "$err")" "^125:.*image ${bb_id:0:12} has no name to push it under: give a destination" \
  "an untagged image without a destination: exit 125, says to give one"
