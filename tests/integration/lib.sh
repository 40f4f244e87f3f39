# SPDX-License-Identifier: LGPL-2.1-or-later
# TAP helpers for the integration tests, which drive the built hutch as an
# ordinary user. Sourced by each *.t script.
set -u

HUTCH=${HUTCH_TEST_BUILDDIR:?run through meson test}/src/hutch
tap_n=0
tap_failed=0

# A private scratch directory, removed on exit; the store defaults go there.
T=$(mktemp -d "${TMPDIR:-/tmp}/hutch-it.XXXXXX")
export XDG_DATA_HOME="$T/data"
# and a runroot of its own: the fallback /tmp/hutch-run-UID is shared by
# every test of the user, and check.t and runroot.t remove it (a container
# of faults.t lost its live state that way, started and never seen).
# (hostenv tests start as root, run alone, and drop to users with env -i)
if [ "$(id -u)" != 0 ]; then
  export XDG_RUNTIME_DIR="$T/xdg"
  mkdir -m 0700 "$XDG_RUNTIME_DIR"
fi
cleanup_hooks=()
at_exit() { cleanup_hooks+=("$1"); }
tap_exit() {
  local h
  for h in "${cleanup_hooks[@]+"${cleanup_hooks[@]}"}"; do eval "$h" || true; done
  rm -rf "$T"
  echo "1..$tap_n"
}
trap tap_exit EXIT

ok() { # ok CONDITION-STATUS DESCRIPTION
  tap_n=$((tap_n + 1))
  if [ "$1" -eq 0 ]; then
    echo "ok $tap_n - $2"
  else
    echo "not ok $tap_n - $2"
    tap_failed=$((tap_failed + 1))
  fi
}
is() { # is GOT WANT DESCRIPTION
  if [ "$1" = "$2" ]; then ok 0 "$3"; else ok 1 "$3"; echo "# got:  '$1'"; echo "# want: '$2'"; fi
}
like() { # like TEXT EXTENDED-REGEX DESCRIPTION
  if printf '%s' "$1" | grep -Eq -- "$2"; then ok 0 "$3"; else
    ok 1 "$3"; echo "# /$2/ not found in:"; printf '%s\n' "$1" | sed 's/^/#   /'; fi
}
unlike() {
  if printf '%s' "$1" | grep -Eq -- "$2"; then
    ok 1 "$3"; echo "# /$2/ found in:"; printf '%s\n' "$1" | sed 's/^/#   /'; else ok 0 "$3"; fi
}
skip() { # skip REASON: a skip, or a failure when HUTCH_TEST_STRICT=1 (CI)
  tap_n=$((tap_n + 1))
  if [ "${HUTCH_TEST_STRICT:-0}" = 1 ]; then
    echo "not ok $tap_n - $1 (skipped, and HUTCH_TEST_STRICT=1 forbids skips)"
  else
    echo "ok $tap_n # SKIP $1"
  fi
}

# test_mounts: how many mounts of the host's mount namespace are under this
# test's directory (others' mounts, of tests beside it, are not counted)
test_mounts() { grep -c -F " $T/" /proc/self/mountinfo || true; }

tick() { # a 50 ms pause between two looks at a condition
  [ -p "$T/.tick" ] || mkfifo "$T/.tick"
  read -r -t 0.05 _ <>"$T/.tick" || true
}

# hutch ARG... : runs hutch; sets $out, $err and $rc.
hutch() {
  local e="$T/.stderr"
  out=$("$HUTCH" "$@" 2>"$e") && rc=0 || rc=$?
  err=$(cat "$e")
}

# json_get JSON EXPR : a Python expression over the parsed document "d".
json_get() {
  python3 -c 'import json,sys; d=json.loads(sys.stdin.read()); print(eval(sys.argv[1]))' "$2" <<<"$1"
}

# The check row for ID: "STATUS<TAB>DETAIL<TAB>FIX" from `hutch check --format json` output.
check_row() {
  python3 -c '
import json, sys
d = json.loads(sys.stdin.read())
for r in d["checks"]:
    if r["id"] == sys.argv[1]:
        print("\t".join([r["status"], r["detail"] or "", r["fix"] or ""]))' "$2" <<<"$1"
}

# ---- hostenv tests: started as root to set up a host condition, they run
# hutch only as a test user (helpers/run-tests creates the users). ----

require_root() {
  if [ "$(id -u)" != 0 ]; then
    skip "needs root to set up the host condition (helpers/run-tests runs it as root)"
    exit 0
  fi
  chmod 0755 "$T"
}

# hutch_as USER [PREFIX-COMMAND...] -- ARG... : hutch as USER, clean environment.
hutch_as() {
  local user=$1 home data
  shift
  local prefix=()
  while [ "$1" != -- ]; do prefix+=("$1"); shift; done
  shift
  home=$(getent passwd "$user" | cut -d: -f6)
  data="$T/data-$user"
  mkdir -p "$data" && chown "$user:" "$data"
  out=$("${prefix[@]+"${prefix[@]}"}" runuser -u "$user" -- env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
    HOME="$home" USER="$user" XDG_DATA_HOME="$data" "$HUTCH" "$@" 2>"$T/.stderr") && rc=0 || rc=$?
  err=$(cat "$T/.stderr")
}

# ---- images: the fixtures tests/fixtures/make-fixtures made (as root) ----

FIX=${HUTCH_TEST_FIXTURES:-/var/tmp/hutch-fixtures}

# require_fixtures [debian]: skips the whole script (a failure under
# HUTCH_TEST_STRICT=1) without busybox and whiteout, or without the Debian
# image when asked for: a normal user's run makes the first two itself
# (make-fixtures --rootless), the Debian one needs root (debootstrap).
require_fixtures() {
  if [ ! -s "$FIX/busybox.docker.tar" ] || [ ! -s "$FIX/whiteout.docker.tar" ]; then
    skip "no test images in $FIX (run tests/fixtures/make-fixtures as root, or with --rootless)"
    exit 0
  fi
  if [ "${1:-}" = debian ] && [ ! -s "$FIX/debian.docker.tar" ]; then
    skip "no Debian test image in $FIX: debootstrap makes it, as root (sudo tests/fixtures/make-fixtures, or helpers/run-tests as root)"
    exit 0
  fi
}

# store_snapshot DIR: every path under DIR with its type, mode and size, and
# the sha256 of every regular file: equal snapshots mean an unchanged tree.
store_snapshot() { # (events.log is a log of what was done, not content: left out)
  (cd "$1" && find . -path ./events.log -prune -o -printf '%p %y %m %s\n' | LC_ALL=C sort &&
    find . -path ./events.log -prune -o -type f -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum)
}

# busybox_store: a store of the test's own at $R holding the busybox image
# ($BB), H to run hutch on them; at the end its
# containers are removed, then the store (inside the user namespace: its
# files belong to subordinate ids).
busybox_store() {
  R=$T/store
  BB=localhost/hutch-test/busybox:latest
  "$HUTCH" --root "$R" load -q -i "$FIX/busybox.docker.tar" 2>/dev/null
  at_exit '"$HUTCH" --root "$R" rm -f $("$HUTCH" --root "$R" ps -aq) >/dev/null 2>&1'
  at_exit '"$HUTCH" --root "$R" unshare rm -rf "$R" 2>/dev/null'
}
H() { hutch --root "$R" "$@"; }

# busybox_layer OUT: the busybox fixture's one layer, as a plain tar.
busybox_layer() {
  local l
  l=$(tar -xOf "$FIX/busybox.docker.tar" manifest.json |
    python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["Layers"][0])')
  tar -xOf "$FIX/busybox.docker.tar" "$l" >"$1"
}

# many_layer_image DIR N NAME: an OCI directory at DIR/oci of busybox and N
# one-file layers on top (layers/001 ... layers/N, "layer K" in each).
many_layer_image() {
  local dir=$1 n=$2 name=$3
  mkdir -p "$dir"
  busybox_layer "$dir/base.tar"
  python3 - "$dir" "$n" <<'PY'
import io, os, sys, tarfile
out, n = sys.argv[1], int(sys.argv[2])
for k in range(1, n + 1):
    with tarfile.open(os.path.join(out, "l%04d.tar" % k), "w") as t:
        data = ("layer %d\n" % k).encode()
        i = tarfile.TarInfo("layers/%03d" % k); i.size = len(data); t.addfile(i, io.BytesIO(data))
PY
  python3 "$HUTCH_TEST_SRCDIR/tests/fixtures/mkimage.py" --out "$dir/oci" --name "$name" \
    "$dir/base.tar" "$dir"/l[0-9]*.tar
}
