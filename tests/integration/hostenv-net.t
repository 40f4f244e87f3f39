#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# -p with a client that is not on the host's loopback: the server in the
# container still sees the client's own address (TCP and UDP), which needs
# the container's routing to send its replies back to hutch. Set up as
# root in a network namespace of the test's own, with a dummy interface of
# 192.0.2.10 (TEST-NET-1); hutch runs there as the test user. The host's
# network is not touched.
. "$(dirname "$0")/lib.sh"
require_root
require_fixtures debian

user=hutch-test
NET=$(cd "$(dirname "$0")" && pwd)/nethelp.py
chmod 0755 "$T"
cat >"$T/inside.sh" <<'SH'
set -u
hutch=$1 net=$2 t=$3 fix=$4
ip link set lo up
ip addr add 192.0.2.10/32 dev lo # an address of the host outside 127/8
as() { runuser -u hutch-test -- env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME="$t" \
  XDG_DATA_HOME="$t/data" "$@"; }
as "$hutch" load -q -i "$fix/busybox.docker.tar"
as "$hutch" load -q -i "$fix/debian.oci.tar" 2>/dev/null
# detached, and removed by name: a "kill" of a backgrounded "as" would end
# its subshell and leave hutch running after the test
as "$hutch" run -d --name web -p 18080:80 localhost/hutch-test/busybox sh -c \
  'mkdir /www && echo hi >/www/index.html && exec httpd -f -vv -p 80 -h /www' >/dev/null
as python3 "$net" get http://192.0.2.10:18080/ 192.0.2.10 >"$t/tcp.out"
as "$hutch" logs web >"$t/httpd.err" 2>&1
as "$hutch" rm -f web >/dev/null
as "$hutch" run -d --name udp -p 18081:9000/udp localhost/hutch-test/debian:bookworm perl -MIO::Socket::INET -e \
  '$s = IO::Socket::INET->new(LocalPort => 9000, Proto => "udp") or die; while ($s->recv($m, 2000)) { $s->send("echo $m from " . $s->peerhost) }' >/dev/null
as python3 "$net" udp 192.0.2.10 18081 hi 192.0.2.10 >"$t/udp.out"
as "$hutch" rm -f udp >/dev/null
SH
mkdir -p "$T/data" && chown "$user:" "$T/data"
unshare --net bash "$T/inside.sh" "$HUTCH" "$NET" "$T" "$FIX" >"$T/inside.log" 2>&1
is "$(cat "$T/tcp.out" 2>/dev/null)" hi "-p answers a client on another address of the host (192.0.2.10)"
like "$(cat "$T/httpd.err" 2>/dev/null)" "\[::ffff:192.0.2.10\]:[0-9]+: url:/" \
  "the server in the container sees that client's address"
is "$(cat "$T/udp.out" 2>/dev/null)" "echo hi from 192.0.2.10" "and a UDP server its address too"
grep -v '^$' "$T/inside.log" | sed 's/^/# /'
