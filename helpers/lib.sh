# SPDX-License-Identifier: LGPL-2.1-or-later
# Shared by helpers/quickstart and helpers/run-tests: the package list and
# the host setup that needs root. Sourced, never run.

hutch_helpers_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# hutch_packages ROLE... : the packages of helpers/debian-packages with those roles.
hutch_packages() {
  local roles=" $* "
  awk -v roles="$roles" '!/^#/ && NF >= 2 && index(roles, " " $2 " ") { print $1 }' \
    "$hutch_helpers_dir/debian-packages"
}

# hutch_as_root CMD... : runs CMD as root, through sudo when we are not root.
hutch_as_root() {
  if [ "$(id -u)" = 0 ]; then
    "$@"
  elif command -v sudo >/dev/null; then
    sudo "$@"
  else
    echo "hutch: this step needs root and sudo is not installed: run as root: $*" >&2
    return 1
  fi
}

# hutch_install_packages ROLE... : installs what is missing, quietly.
hutch_install_packages() {
  local missing=() p
  for p in $(hutch_packages "$@"); do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "hutch: installing ${missing[*]}" >&2
  hutch_as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
  hutch_as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null
}

# hutch_subid_count USER FILE : how many subordinate ids USER has in FILE.
hutch_subid_count() {
  local uid
  uid=$(id -u "$1")
  awk -F: -v u="$1" -v id="$uid" '($1 == u || $1 == id) { n += $3 } END { print n + 0 }' "$2" 2>/dev/null || echo 0
}

# hutch_free_subid_start : a start for 65536 ids past every existing range.
hutch_free_subid_start() {
  cat /etc/subuid /etc/subgid 2>/dev/null | awk -F: '
    NF == 3 { end = $2 + $3; if (end > max) max = end }
    END { s = (max < 100000) ? 100000 : max; if (s % 65536) s += 65536 - s % 65536; print s }'
}

# hutch_give_subids USER : a 65536-id subuid and subgid range, unless it has one.
hutch_give_subids() {
  local user=$1 start
  if [ "$(hutch_subid_count "$user" /etc/subuid)" -ge 65536 ] &&
     [ "$(hutch_subid_count "$user" /etc/subgid)" -ge 65536 ]; then
    return 0
  fi
  start=$(hutch_free_subid_start)
  echo "hutch: giving $user subordinate ids $start-$((start + 65535))" >&2
  hutch_as_root usermod --add-subuids "$start-$((start + 65535))" \
    --add-subgids "$start-$((start + 65535))" "$user"
}

# hutch_bench_prepare_as_root BUILD GROUP... : what a benchmark started as
# root needs: the packages of GROUPs, /dev/net/tun and /dev/fuse opened as
# udev would, the test images, BUILD built as a release.
hutch_bench_prepare_as_root() {
  local build=$1 dev
  shift
  hutch_install_packages build run test "$@"
  for dev in /dev/net/tun /dev/fuse; do
    [ -e "$dev" ] && chmod 0666 "$dev"
  done
  bash "$hutch_helpers_dir/../tests/fixtures/make-fixtures"
  if [ ! -f "$build/build.ninja" ]; then
    meson setup "$build" "$hutch_helpers_dir/.." --buildtype=release -Db_sanitize=none >/dev/null
  fi
  ninja -C "$build" >/dev/null
  chmod -R a+rX "$build"
}

# hutch_bench_as_test_user SCRIPT BUILD FIXTURES : for the image benchmarks
# started as root: installs what they need, makes the test images, opens
# /dev/net/tun and /dev/fuse as udev would, builds BUILD as a release, then
# re-runs SCRIPT BUILD as hutch-test (a clean environment, USER set, as
# ch-run wants it; BENCH_* variables, a benchmark's knobs, and ARG...
# pass through). Does not return.
# (usage: hutch_bench_as_test_user SCRIPT BUILD FIXTURES [ARG...])
hutch_bench_as_test_user() {
  local script=$1 build=$2 fix=$3 v knobs=()
  shift 3
  for v in "${!BENCH_@}"; do
    knobs+=("$v=${!v}")
  done
  hutch_bench_prepare_as_root "$build" bench
  exec runuser -u hutch-test -- env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/tmp \
    USER=hutch-test LANG=C.UTF-8 HUTCH_FIXTURES="$fix" "${knobs[@]}" bash "$script" "$build" "$@"
}

# hutch_bench_start SCRIPT [BUILD [ARG...]] : how every benchmark starts.
# Sets build (default: build-release), fix (the test images), hutch, work (a
# scratch directory, removed on exit) and store (work/store). Started as
# root, it re-runs SCRIPT BUILD ARG... as hutch-test
# (hutch_bench_as_test_user) instead.
hutch_bench_start() {
  build=${2:-$(cd "$hutch_helpers_dir/.." && pwd)/build-release}
  fix=${HUTCH_FIXTURES:-/var/tmp/hutch-fixtures}
  if [ "$(id -u)" = 0 ]; then
    hutch_bench_as_test_user "$1" "$build" "$fix" "${@:3}"
  fi
  hutch=$build/src/hutch
  work=$(mktemp -d /var/tmp/hutch-bench.XXXXXX)
  store=$work/store
  trap '"$hutch" --root "$store" unshare rm -rf "$work" 2>/dev/null; rm -rf "$work"' EXIT
}

# hutch_bench_podman IMAGE NETWORK : "yes" when rootless podman here can
# load the Debian test image and run it with --network NETWORK, else "no".
hutch_bench_podman() {
  if podman load -q -i "$fix/debian.docker.tar" >/dev/null 2>&1 &&
    podman --runtime runc run --rm --network "$2" "$1" true >/dev/null 2>&1; then
    echo yes
  else
    echo no
  fi
}
