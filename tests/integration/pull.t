#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# hutch pull, login and run --pull against real registries on loopback:
# Debian's docker-registry seeded with skopeo, plain HTTP, TLS with a CA of
# the test's own and htpasswd, and token auth from a token service of the
# test's own (registryhelp.py, which also stands in as an HTTP proxy to
# cut, refuse and redirect). Hostile cases: missing tags and repositories,
# wrong passwords, an untrusted certificate, a registry killed in the
# middle of a layer, a pull killed in the middle of a layer, a blob
# corrupted on the registry's disk, two pulls at once, pull against rmi.
. "$(dirname "$0")/lib.sh"
require_fixtures debian

. "$(dirname "$0")/registry.sh"
# proxy NAME TARGETPORT [OPTION...]: registryhelp.py's proxy in front of the
# registry on TARGETPORT, logging to $T/NAME.log; its address in $proxy_addr
proxy() {
  local name=$1 target=$2
  shift 2
  python3 "$HELP" proxy "$target" "$T/$name.port" "$T/$name.log" "$@" &
  pids+=($!)
  wait_file "$T/$name.port"
  proxy_addr=127.0.0.1:$(cat "$T/$name.port")
}

# registry NAME [YAML-EXTRA]: a registry on a free port with storage in $T;
# sets reg_pid[NAME] and reg_port[NAME]
declare -A reg_pid reg_port
registry() {
  local name=$1 extra=${2:-} port
  port=${reg_port[$name]:-$(python3 "$NET" free-port)}
  mkdir -p "$T/reg-$name"
  cat >"$T/reg-$name/config.yml" <<EOF
version: 0.1
log:
  level: error
storage:
  filesystem:
    rootdirectory: $T/reg-$name/data
http:
  addr: 127.0.0.1:$port
$extra
EOF
  docker-registry serve "$T/reg-$name/config.yml" >>"$T/reg-$name/log" 2>&1 &
  reg_pid[$name]=$!
  pids+=($!)
  reg_port[$name]=$port
  wait_port "$port"
}
seed() { # SRC DEST [SKOPEO-OPTION...]
  local src=$1 dest=$2
  shift 2
  skopeo copy -q --dest-tls-verify=false "$@" "$src" "docker://$dest" >"$T/.skopeo" 2>&1 ||
    { echo "# skopeo copy $src $dest failed:"; sed 's/^/#   /' "$T/.skopeo"; }
}
last_layer() { # REF: the digest of the image's last layer, as the registry has it
  skopeo inspect --raw --tls-verify=false "docker://$1" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["layers"][-1]["digest"])'
}

# ---- plain HTTP, anonymous
registry plain
P=127.0.0.1:${reg_port[plain]}
seed "oci:$FIX/busybox/oci" "$P/hutch/busybox:latest"
seed "docker-archive:$FIX/debian.docker.tar" "$P/hutch/debian:bookworm"
seed "oci:$FIX/whiteout/oci" "$P/hutch/whiteout:1"

H pull "$P/hutch/busybox"
is "$rc" 125 "plain HTTP without --tls-verify=false: exit 125"
like "$err" "TLS handshake failed.*--tls-verify=false" "the error says how to allow plain HTTP"
H pull --tls-verify=false "$P/hutch/busybox"
is "$rc" 0 "anonymous pull of busybox"
is "$out" "$P/hutch/busybox:latest" "stdout is the full name"
like "$err" "Pull complete" "progress says each layer completed"
H run --rm "$P/hutch/busybox" echo pulled-and-run
is "$out" "pulled-and-run" "the pulled image runs"
H pull --tls-verify=false "$P/hutch/debian:bookworm"
is "$rc" 0 "anonymous pull of the Debian image (docker schema 2)"
H run --rm "$P/hutch/debian:bookworm" cat /etc/debian_version
like "$out" "^12" "it runs"
H pull -q --tls-verify=false "$P/hutch/debian:bookworm"
is "$out|$err" "$P/hutch/debian:bookworm|" "-q: the name alone, no progress"
H pull --tls-verify=false "$P/hutch/debian:bookworm"
like "$err" "Already exists" "pulled again: the layer is there"
like "$err" "Image is up to date" "and the image up to date"
H pull --tls-verify=false "$P/hutch/busybox:nope"
is "$rc" 125 "a missing tag: exit 125"
like "$err" "$P/hutch/busybox:nope: not found in the registry \(HTTP 404, MANIFEST_UNKNOWN" \
  "the error names the reference and quotes the registry"
H pull --tls-verify=false "$P/hutch/nothing"
like "$rc:$err" "$P/hutch/nothing:latest: not found in the registry \(HTTP 404, [A-Z_]+: " \
  "a missing repository: the error quotes the registry's"
H pull --tls-verify=false --jobs 1 "$P/hutch/whiteout:1"
H run --rm "$P/hutch/whiteout:1" sh -c 'ls /data 2>&1 | sort | tr "\n" " "'
is "$rc" 0 "a multi-layer image with whiteouts, one layer at a time (--jobs 1)"
mkdir -p "$XDG_CONFIG_HOME/hutch"
printf '[registries]\ninsecure=%s\n' "$P" >"$XDG_CONFIG_HOME/hutch/hutch.conf"
H pull "$P/hutch/busybox"
is "$rc" 0 "a registry listed as insecure in hutch.conf needs no flag"
rm "$XDG_CONFIG_HOME/hutch/hutch.conf"

# run --pull
H rmi "$P/hutch/busybox"
H run --rm --tls-verify=false --pull=never "$P/hutch/busybox" true
is "$rc" 125 "run --pull=never with the image missing: exit 125"
H run --rm --tls-verify=false "$P/hutch/busybox" echo ran
is "$out" "ran" "run pulls a missing image (--pull=missing is the default)"
like "$err" "Trying to pull $P/hutch/busybox" "and says so on stderr"
H run --rm --tls-verify=false --pull=always -q "$P/hutch/busybox" echo again
is "$out|$err" "again|" "run --pull=always -q pulls again, quietly"

# a manifest list
python3 "$HELP" multiarch "$FIX/busybox/oci" "$T/multi"
seed "oci:$T/multi:multi" "$P/hutch/multi:1" --all
H pull --tls-verify=false "$P/hutch/multi:1"
H image inspect "$P/hutch/multi:1"
like "$out" '"Architecture": "amd64"' "a manifest list: this host's platform is chosen"
H pull --tls-verify=false --platform linux/arm64 "$P/hutch/multi:1"
like "$err" "Downloaded newer image" "--platform linux/arm64 gets the other manifest"
H image inspect "$P/hutch/multi:1"
like "$out" '"Architecture": "arm64"' "and records it"
H pull --tls-verify=false --platform linux/s390x "$P/hutch/multi:1"
is "$rc" 125 "a platform not in the index: exit 125"
like "$err" "no image for platform linux/s390x.*linux/amd64, linux/arm64" \
  "and the error lists those present"
digest=$(skopeo inspect --raw --tls-verify=false "docker://$P/hutch/multi:1" | sha256sum | cut -d' ' -f1)
H pull --tls-verify=false "$P/hutch/multi@sha256:$digest"
H run --rm "$P/hutch/multi@sha256:$digest" echo by-digest
is "$out" "by-digest" "a pull by digest runs by that digest"

# ---- live progress on a terminal
"$HUTCH" --root "$R" rmi -f "$P/hutch/whiteout:1" >/dev/null 2>&1
script -qec "'$HUTCH' --root '$R' pull --tls-verify=false '$P/hutch/whiteout:1'" /dev/null >"$T/tty.out" 2>&1
like "$(cat -v "$T/tty.out")" '\^\[\[[0-9]+A.*Pull complete' "on a terminal: the layer lines are redrawn in place"

# ---- through a proxy: 503 with Retry-After, then redirects
proxy proxy1 "${reg_port[plain]}" --busy 2
X=$proxy_addr
new_store R2
hutch --root "$R2" pull --tls-verify=false "$X/hutch/busybox"
is "$rc" 0 "503 with Retry-After twice: the pull waits and succeeds"
is "$(grep -c "GET /v2/hutch/busybox/blobs/" "$T/proxy1.log")" 4 \
  "the blobs were asked for four times (config and layer, and two refusals)"

# ---- two pulls at once download each blob once
: >"$T/proxy1.log"
new_store R3
"$HUTCH" --root "$R3" pull -q --tls-verify=false "$X/hutch/debian:bookworm" >"$T/a.out" 2>&1 &
a=$!
"$HUTCH" --root "$R3" pull -q --tls-verify=false "$X/hutch/debian:bookworm" >"$T/b.out" 2>&1
rb=$?
wait "$a"
ra=$?
is "$ra:$rb" "0:0" "two pulls of one image at once both succeed"
layer=$(last_layer "$P/hutch/debian:bookworm")
is "$(grep -c "GET /v2/hutch/debian/blobs/$layer" "$T/proxy1.log")" 1 \
  "the layer went over the network once"
hutch --root "$R3" run --rm "$X/hutch/debian:bookworm" true
is "$rc" 0 "and the image runs"

# ---- pull against rmi of the same image
for i in 1 2 3; do
  "$HUTCH" --root "$R3" pull -q --tls-verify=false "$X/hutch/busybox" >/dev/null 2>&1 &
  p=$!
  "$HUTCH" --root "$R3" rmi "$X/hutch/busybox" >/dev/null 2>&1
  wait "$p"
  hutch --root "$R3" images --format json
  [ "$rc" = 0 ] || break
  if printf '%s' "$out" | grep -q "hutch/busybox"; then
    hutch --root "$R3" run --rm "$X/hutch/busybox" true
    [ "$rc" = 0 ] || break
  fi
done
is "$rc" 0 "pull against rmi: the image is either whole and runs, or gone"

# ---- the registry killed in the middle of a layer, and restarted
mkfifo "$T/cut.out" "$T/cut.in"
proxy proxy2 "${reg_port[plain]}" --cut 8388608 "$T/cut.out" "$T/cut.in"
Y=$proxy_addr
new_store R4
"$HUTCH" --root "$R4" pull --tls-verify=false "$Y/hutch/debian:bookworm" >"$T/kill.out" 2>"$T/kill.err" &
puller=$!
read -r cut <"$T/cut.out"
kill -9 "${reg_pid[plain]}"
wait "${reg_pid[plain]}" 2>/dev/null
echo go >"$T/cut.in"
registry plain
wait "$puller"
is "$?" 0 "the registry killed in the middle of a layer and restarted: the pull goes on"
like "$(cat "$T/proxy2.log")" "blobs/sha256:[0-9a-f]+ .*range=bytes=[1-9][0-9]*-" \
  "it resumed with a Range request ($cut)"
hutch --root "$R4" run --rm "$Y/hutch/debian:bookworm" cat /etc/debian_version
like "$out" "^12" "and the resumed image runs"

# ---- the pull itself killed in the middle of a layer, then run again
"$HUTCH" --root "$R4" rmi "$Y/hutch/debian:bookworm" >/dev/null 2>&1
"$HUTCH" --root "$R4" system prune >/dev/null 2>&1
proxy proxy3 "${reg_port[plain]}" --cut 8388608 "$T/cut.out" "$T/cut.in"
Z=$proxy_addr
"$HUTCH" --root "$R4" pull --tls-verify=false "$Z/hutch/debian:bookworm" >/dev/null 2>&1 &
puller=$!
read -r cut <"$T/cut.out"
kill -9 "$puller"
wait "$puller" 2>/dev/null
echo go >"$T/cut.in"
partial=$(ls "$R4/blobs/sha256/" | grep -c '^\.partial-' || true)
ls -a "$R4/blobs/sha256" | grep -q '^\.partial-'
ok $? "a killed pull leaves its partial blob"
hutch --root "$R4" images --format json
unlike "$out" "debian" "and records no image"
hutch --root "$R4" pull --tls-verify=false "$Z/hutch/debian:bookworm"
is "$rc" 0 "pulled again, it completes"
like "$(tail -n 3 "$T/proxy3.log")" "range=bytes=[1-9][0-9]*-" "from where the killed pull stopped"
ls -a "$R4/blobs/sha256" | grep -q '^\.partial-'
ok $((!$?)) "no partial blob is left"

# ---- a blob corrupted on the registry's disk
seed "oci:$FIX/whiteout/oci" "$P/hutch/corrupt:1"
wd=$(last_layer "$P/hutch/corrupt:1")
data="$T/reg-plain/data/docker/registry/v2/blobs/sha256/${wd:7:2}/${wd:7}/data"
printf 'XXXX' | dd of="$data" bs=1 seek=40 conv=notrunc status=none
new_store R5
hutch --root "$R5" pull --tls-verify=false "$P/hutch/corrupt:1"
is "$rc" 125 "a corrupt blob: exit 125"
like "$err" "layer [0-9]+ \($wd\).*hashes to" "the error names the layer and the digest mismatch"
hutch --root "$R5" images --format json
unlike "$out" "corrupt" "no image is recorded"
[ ! -e "$R5/blobs/sha256/${wd:7}" ] && [ ! -e "$R5/blobs/sha256/.partial-${wd:7}" ]
ok $? "neither the blob nor a partial of it is kept"
chain=$(python3 - "$R5" <<'PY'
import hashlib, json, os, sys
blobs = os.path.join(sys.argv[1], "blobs", "sha256")
for name in os.listdir(blobs):
    try:
        d = json.load(open(os.path.join(blobs, name)))
    except Exception:
        continue
    if isinstance(d, dict) and "rootfs" in d:
        chain = None
        for diff in d["rootfs"]["diff_ids"]:
            chain = diff if chain is None else "sha256:" + hashlib.sha256((chain + " " + diff).encode()).hexdigest()
        print(chain[7:])
PY
)
[ -n "$chain" ] && [ ! -e "$R5/layers/$chain" ]
ok $? "nor the layer unpacked from it"

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
seed "oci:$FIX/busybox/oci" "$S/hutch/busybox:latest" --dest-creds alice:secret
new_store R6
hutch --root "$R6" pull --creds alice:secret "$S/hutch/busybox"
is "$rc" 125 "a certificate from an unknown CA: exit 125"
like "$err" "not trusted.*SSL_CERT_FILE.*--tls-verify=false" "the error says how to trust it"
export SSL_CERT_FILE=$T/ca.pem
hutch --root "$R6" pull "$S/hutch/busybox"
like "$rc:${err##*$'\n'}" "^125:.*needs credentials.*hutch login $S" "Basic auth without credentials: says to log in"
hutch --root "$R6" pull --creds alice:wrong "$S/hutch/busybox"
like "$rc:${err##*$'\n'}" "^125:.*access denied to alice.*--creds.*HTTP 401" "a wrong password: a clear 401"
hutch --root "$R6" images -q
is "$out" "" "nothing is stored after a refused pull"
hutch --root "$R6" pull --creds alice:secret "$S/hutch/busybox"
is "$rc" 0 "TLS trusted through SSL_CERT_FILE, with Basic credentials"
unset SSL_CERT_FILE
hutch --root "$R6" pull -q --tls-verify=false --creds alice:secret "$S/hutch/busybox"
is "$rc" 0 "--tls-verify=false accepts the unknown CA"

# login and logout
export SSL_CERT_FILE=$T/ca.pem
hutch login -u alice --password-stdin "$S" <<<wrong
like "$rc:${err##*$'\n'}" "^125:.*refused" "login with a wrong password fails"
[ ! -e "$XDG_RUNTIME_DIR/containers/auth.json" ]
ok $? "and writes nothing"
hutch login -u alice --password-stdin "$S" <<<secret
is "$rc:$out" "0:Login Succeeded!" "login"
is "$(stat -c %a "$XDG_RUNTIME_DIR/containers/auth.json")" 600 "auth.json is written at 0600"
like "$(tr -d ' \n' <"$XDG_RUNTIME_DIR/containers/auth.json")" \
  "\"auths\":\{\"$S\":\{\"auth\":\"$(printf alice:secret | base64)\"\}" \
  "with the registry's entry in podman's format"
hutch --root "$R6" pull -q "$S/hutch/busybox"
is "$rc" 0 "pull with the credentials login stored"
hutch logout "$S"
is "$rc:$out" "0:Removed login credentials for $S" "logout"
hutch --root "$R6" pull -q "$S/hutch/busybox"
is "$rc" 125 "after logout the pull needs credentials again"
mkdir -p "$HOME/.docker"
printf '{"auths":{"https://%s/v1/":{"auth":"%s"}}}' "$S" "$(printf alice:secret | base64)" \
  >"$HOME/.docker/config.json"
hutch --root "$R6" pull -q "$S/hutch/busybox"
is "$rc" 0 "credentials from ~/.docker/config.json"
unset SSL_CERT_FILE

# ---- token auth: a token service of our own
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
seed "oci:$FIX/busybox/oci" "$K/public/busybox:latest" --dest-creds alice:secret
seed "oci:$FIX/busybox/oci" "$K/private/busybox:latest" --dest-creds alice:secret
new_store R7
: >"$T/token.log"
hutch --root "$R7" pull --tls-verify=false "$K/public/busybox"
is "$rc" 0 "token auth: an anonymous pull of a public repository"
like "$(cat "$T/token.log")" "scope=repository%3Apublic%2Fbusybox%3Apull.* user=-" \
  "with an anonymous token for the repository's pull scope"
is "$(grep -c '^token' "$T/token.log")" 1 "one token served the whole pull"
hutch --root "$R7" pull --tls-verify=false "$K/private/busybox"
like "$rc:${err##*$'\n'}" "^125:.*access denied.*may be private.*hutch login" "a private repository, anonymously: denied"
hutch --root "$R7" pull --tls-verify=false --creds alice:wrong "$K/private/busybox"
like "$rc:${err##*$'\n'}" "^125:.*token service.*refused the credentials of alice" "wrong credentials: the token service refuses"
hutch --root "$R7" pull --tls-verify=false --creds alice:secret "$K/private/busybox"
is "$rc" 0 "with credentials, a token for the private repository"
like "$(tail -n 1 "$T/token.log")" "user=alice" "asked for as alice"

# redirects to another host do not carry the registry's Authorization
proxy proxy4 "${reg_port[token]}" --redirect
V=$proxy_addr
new_store R8
hutch --root "$R8" pull --tls-verify=false "$V/public/busybox"
is "$rc" 0 "blobs redirected to another host"
like "$(cat "$T/proxy4.log")" "blobs/sha256:.* host=127.0.0.2:[0-9]+ .*auth=no" \
  "the redirected request carries no Authorization"
like "$(cat "$T/proxy4.log")" "blobs/sha256:.* host=127.0.0.1:[0-9]+ .*auth=yes" \
  "the registry's own request did"
# a redirect to another protocol of libcurl's is refused, whatever libcurl
# is loaded (7.74 to 7.84 have no CURLOPT_PROTOCOLS_STR)
for to in "file://$T/secret" "ftp://127.0.0.1:1/x"; do
  echo "a local file" >"$T/secret"
  proxy "proxy-${to%%:*}" "${reg_port[plain]}" --redirect-to "$to"
  new_store "R9${to%%:*}"
  hutch --root "$T/R9${to%%:*}" pull --tls-verify=false "$proxy_addr/hutch/busybox"
  like "$rc:${err##*$'\n'}" "^125:.*refusing $to: only http and https URLs are followed" \
    "a blob redirected to ${to%%:*}:// is refused, saying so"
done
