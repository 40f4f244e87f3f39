#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# --network slirp (the default) with real clients and servers on this host,
# no internet: the container's interface and files, the host's loopback
# closed unless opened, DNS through a resolver of the test's own on a
# loopback address, -p for TCP and UDP with the client's address kept,
# ranges, -P, 100 parallel requests, ports in use and privileged, and
# iperf3 both ways as a smoke test of the data path.
. "$(dirname "$0")/lib.sh"
require_fixtures debian

R=$T/store
DEB=localhost/hutch-test/debian:bookworm
BB=localhost/hutch-test/busybox:latest
NET=$(dirname "$0")/nethelp.py
H() { hutch --root "$R" "$@"; }
procs() { pgrep -u "$(id -u)" -f "$R" | wc -l; }
"$HUTCH" --root "$R" load -q -i "$FIX/debian.oci.tar" 2>/dev/null
"$HUTCH" --root "$R" load -q -i "$FIX/busybox.docker.tar" 2>/dev/null
at_exit '"$HUTCH" --root "$R" unshare rm -rf "$R" 2>/dev/null'
pids=()
at_exit 'for p in "${pids[@]+"${pids[@]}"}"; do kill "$p" 2>/dev/null; done'
port() { python3 "$NET" free-port; }
wait_listen() { # PORT: until something listens on 127.0.0.1:PORT (10 s at most)
  local i
  for i in $(seq 200); do
    ss -Hltn "sport = :$1" | grep -q . && return 0
    tick
  done
  return 1
}

# start NAME CMD...: a host server in the background, once it says "ready"
start() {
  local name=$1
  shift
  mkfifo "$T/$name.ready"
  "$@" >"$T/$name.ready" 2>"$T/$name.err" &
  pids+=($!)
  read -r _ <"$T/$name.ready"
}

# ---- the container's side of the network
H run --rm "$BB" sh -c 'ip -o -4 addr show tap0; ip link show tap0; ip route; cat /etc/resolv.conf /etc/hosts; hostname'
like "$out" "inet 10.0.2.100/24" "the default network: tap0 with 10.0.2.100/24"
like "$out" "mtu 65520" "MTU 65520"
like "$out" "default via 10.0.2.2 dev tap0" "the default route through 10.0.2.2"
like "$out" "nameserver 10.0.2.3" "resolv.conf names 10.0.2.3"
host=$(printf '%s\n' "$out" | tail -1)
like "$out" "10.0.2.100	$host" "hosts maps the hostname to 10.0.2.100"
unlike "$out" "10\.0\.2\.2	host.containers.internal" \
  "host.containers.internal is not the gateway while the host's loopback is closed (run-flags.t: the host's address)"
search=$(awk '$1 == "search" || $1 == "domain" { $1 = ""; s = $0 } END { print s }' /etc/resolv.conf | sed 's/^ //')
if [ -n "$search" ]; then
  like "$out" "search $search" "the host's search domains are kept"
else
  unlike "$out" "search" "the host has no search domains: none is written"
fi
# IPv6 comes from libslirp's router advertisements: poll (10 s at most)
# until the address has passed duplicate address detection
H run --rm "$BB" sh -c 'for i in $(seq 100); do ip -6 addr show tap0 | grep -q "inet6 fd00:.*global" &&
  ! ip -6 addr show tap0 | grep -q tentative && break; usleep 100000; done
  ip -6 route; ping6 -c 1 -W 5 fd00::2'
like "$out" "default via fe80::2 dev tap0" "IPv6: a default route from libslirp's router advertisement"
like "$out" "1 packets received" "and fd00::2 answers"
H run --rm --network slirp:mtu=1500 "$BB" cat /sys/class/net/tap0/mtu
is "$out" 1500 "--network slirp:mtu=1500"
H run --rm --network none "$BB" ls /sys/class/net
is "$(echo $out)" "lo" "--network none: loopback alone"
H run --rm --network host "$BB" ls /sys/class/net
is "$(echo $out)" "$(echo $(ls /sys/class/net))" "--network host: the host's interfaces"
H run --rm --network bogus "$BB" true
like "$rc:$err" "^125:.*--network \"bogus\": use slirp" "an unknown --network is refused"
H run --rm --network slirp:mtu=70000 "$BB" true
like "$rc:$err" "^125:.*mtu=70000: give a number from 576 to 65520" "an MTU out of range is refused"

# ---- the host's loopback
hp=$(port)
start http python3 "$NET" http 127.0.0.1 "$hp"
H run --rm "$DEB" bash -c "exec 3<>/dev/tcp/10.0.2.2/$hp && printf 'GET / HTTP/1.0\r\n\r\n' >&3 && cat <&3"
like "$rc:$err" "^1:bash: connect: (Network is unreachable|Connection refused)" \
  "the host's 127.0.0.1 is closed to the container by default"
H run --rm --network slirp:allow_host_loopback=true "$DEB" bash -c \
  "grep host.containers.internal /etc/hosts; exec 3<>/dev/tcp/host.containers.internal/$hp && printf 'GET / HTTP/1.0\r\n\r\n' >&3 && cat <&3"
like "$out" "10.0.2.2	host.containers.internal" "allow_host_loopback=true adds host.containers.internal"
like "$out" "host-server" "and HTTP reaches a server on the host's 127.0.0.1 through it"

# ---- DNS, from a resolver on a host loopback address (as a local stub is)
dp=$(port)
start dns python3 "$NET" dns 127.0.0.1 "$dp" 192.0.2.77
H run --rm --network "slirp:dns=127.0.0.1:$dp" "$DEB" getent hosts db.example.test
like "$rc:$out" "^0:192.0.2.77 +db.example.test" "a name is resolved through 10.0.2.3 by the resolver given"
H run --rm --network "slirp:dns=127.0.0.1:$dp" "$BB" nslookup -type=a other.example.test 10.0.2.3
like "$out" "Address: 192.0.2.77" "busybox's own resolver too"

# ---- -p: TCP to busybox httpd in the container
p1=$(port)
"$HUTCH" --root "$R" run --rm -p "127.0.0.1:$p1:80" "$BB" sh -c \
  'mkdir /www && echo from-container >/www/index.html && dd if=/dev/zero of=/www/big bs=1M count=64 2>/dev/null && exec httpd -f -vv -p 80 -h /www' \
  >"$T/httpd.out" 2>"$T/httpd.err" &
web=$!
pids+=($web)
body=$(python3 "$NET" get "http://127.0.0.1:$p1/")
is "$body" "from-container" "-p HOSTPORT:80 reaches busybox httpd in the container"
body=$(python3 "$NET" get "http://127.0.0.1:$p1/" 127.0.0.2)
is "$body" "from-container" "a client on a second loopback address is answered too"
n=$(python3 "$NET" parallel 100 "http://127.0.0.1:$p1/")
is "$n" 100 "100 requests at once through the forwarded port are all answered"
for i in 1 2 3; do # clients that hang up while the server is still sending
  python3 -c 'import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"GET /big HTTP/1.0\r\n\r\n"); s.recv(10); s.close()' "$p1"
done
body=$(python3 "$NET" get "http://127.0.0.1:$p1/")
is "$body" "from-container" "clients hanging up mid-transfer do not hurt hutch (no SIGPIPE)"
H run --rm -p "127.0.0.1:$p1:80" "$BB" true
like "$rc:$err" "^125:.*host port $p1 is already in use" "a host port in use is refused before the container starts"
kill -TERM "$web"
wait "$web"
like "$(cat "$T/httpd.err")" "\[::ffff:127.0.0.1\]:[0-9]+: url:/" "the server sees the client's address, 127.0.0.1"
like "$(cat "$T/httpd.err")" "\[::ffff:127.0.0.2\]:[0-9]+: url:/" "and 127.0.0.2 for the client bound there"
H run --rm -p "127.0.0.1:$p1:80" "$BB" true
is "$rc" 0 "once the container has ended, its host port is free again at once"

# ---- ranges and -P
pa=$(port)
pb=$((pa + 1))
"$HUTCH" --root "$R" run --rm -p "127.0.0.1:$pa-$pb:8000-8001" "$BB" sh -c \
  'mkdir /a /b && echo a >/a/index.html && echo b >/b/index.html && httpd -p 8000 -h /a && exec httpd -f -p 8001 -h /b' \
  >/dev/null 2>&1 &
web=$!
pids+=($web)
is "$(python3 "$NET" get "http://127.0.0.1:$pa/") $(python3 "$NET" get "http://127.0.0.1:$pb/")" "a b" \
  "-p with ranges forwards each port of the range"
kill -TERM "$web"
wait "$web"
H run --rm -p 9000-9002:80-81 "$BB" true
like "$rc:$err" "^125:.*the host range has 3 ports and the container range 2" "ranges of different lengths are refused"
busybox_layer "$T/bb.tar"
python3 "$HUTCH_TEST_SRCDIR/tests/fixtures/mkimage.py" --out "$T/exposed" --name localhost/exposed:1 \
  --expose 80/tcp --expose 53/udp "$T/bb.tar"
H load -q --input-format oci-dir -i "$T/exposed"
"$HUTCH" --root "$R" run --rm -P localhost/exposed:1 sh -c \
  'mkdir /www && echo exposed >/www/index.html && cat /proc/net/tcp >/dev/null && exec httpd -f -p 80 -h /www' \
  >/dev/null 2>"$T/P.err" &
web=$!
pids+=($web)
# the host port chosen is the one hutch listens on
found=
for i in $(seq 200); do
  found=$(ss -Hltnp 2>/dev/null | grep "pid=$web," | awk '{print $4}' | sed 's/.*://' | head -1)
  [ -n "$found" ] && break
  tick
done
ok $([ -n "$found" ]; echo $?) "-P: the image's exposed TCP port is forwarded from a free host port ($found)"
is "$(python3 "$NET" get "http://127.0.0.1:$found/")" "exposed" "and answers there"
kill -TERM "$web"
wait "$web"

# ---- UDP
pu=$(port)
"$HUTCH" --root "$R" run --rm -p "127.0.0.1:$pu:9000/udp" "$DEB" perl -MIO::Socket::INET -e \
  '$s = IO::Socket::INET->new(LocalPort => 9000, Proto => "udp") or die; while ($s->recv($m, 2000)) { $s->send("echo $m from " . $s->peerhost) }' \
  >/dev/null 2>"$T/udp.err" &
udp=$!
pids+=($udp)
is "$(python3 "$NET" udp 127.0.0.1 "$pu" hi)" "echo hi from 127.0.0.1" "-p PORT/udp: a UDP echo server in the container answers"
is "$(python3 "$NET" udp 127.0.0.1 "$pu" again 127.0.0.3)" "echo again from 127.0.0.3" \
  "the server sees each UDP client's own address"
kill -TERM "$udp"
wait "$udp"

# ---- refused ports
start_port=$(cat /proc/sys/net/ipv4/ip_unprivileged_port_start)
if [ "$start_port" -gt 80 ]; then
  H run --rm -p 80:80 "$BB" true
  like "$rc:$err" "^125:.*host port 80 is below net.ipv4.ip_unprivileged_port_start \($start_port\).*sysctl -w net.ipv4.ip_unprivileged_port_start=80" \
    "a privileged host port is refused, naming the sysctl"
else
  skip "net.ipv4.ip_unprivileged_port_start is $start_port here: port 80 is not privileged"
fi
H run --rm --network none -p 8080:80 "$BB" true
like "$rc:$err" "^125:.*-p needs --network slirp" "-p with --network none is refused"
H run --rm -p 1.2.3:8080:80 "$BB" true
like "$rc:$err" "^125:.*\"1.2.3\" is not an IPv4 address" "-p with a bad address is refused"

# ---- iperf3 both ways (a second each)
pi=$(port)
"$HUTCH" --root "$R" run --rm -p "127.0.0.1:$pi:5201" "$DEB" iperf3 -s -1 >"$T/iperf-s.out" 2>&1 &
ip3=$!
pids+=($ip3)
for i in $(seq 600); do # until the server in the container takes the test (-J exits 0 on errors)
  iperf3 -c 127.0.0.1 -p "$pi" -t 1 -J >"$T/iperf-in.json" 2>/dev/null && ! grep -q '"error"' "$T/iperf-in.json" && break
  tick
done
bps=$(json_get "$(cat "$T/iperf-in.json")" 'int(d["end"]["sum_received"]["bits_per_second"])' 2>/dev/null || echo 0)
ok $([ "$bps" -gt 100000000 ]; echo $?) "iperf3 host -> container through -p: $((bps / 1000000)) Mbit/s"
[ "$bps" -gt 100000000 ] || grep -E '"error"' "$T/iperf-in.json" "$T/iperf-s.out" | sed 's/^/# /'
[ "$bps" -gt 100000000 ] || kill -TERM "$ip3"
wait "$ip3"
pj=$(port)
iperf3 -s -1 -B 127.0.0.1 -p "$pj" >/dev/null 2>&1 &
pids+=($!)
wait_listen "$pj"
H run --rm --network slirp:allow_host_loopback=true "$DEB" iperf3 -c 10.0.2.2 -p "$pj" -t 1 -J
bps=$(json_get "$out" 'int(d["end"]["sum_received"]["bits_per_second"])' 2>/dev/null || echo 0)
ok $([ "$bps" -gt 100000000 ]; echo $?) "iperf3 container -> host through libslirp: $((bps / 1000000)) Mbit/s"
[ "$bps" -gt 100000000 ] || printf '%s\n' "rc $rc" "$out" "$err" | tail -20 | sed 's/^/# /'

# ---- the monitor killed: the container, its tap and its ports go with it
pk=$(port)
"$HUTCH" --root "$R" run --rm -p "127.0.0.1:$pk:80" "$BB" sh -c \
  'mkdir /www && echo up >/www/index.html && exec httpd -f -p 80 -h /www' >/dev/null 2>&1 &
web=$!
is "$(python3 "$NET" get "http://127.0.0.1:$pk/")" up "a forwarded port is served"
kill -KILL "$web"
wait "$web" 2>/dev/null
for i in $(seq 200); do [ "$(procs)" = 0 ] && break; tick; done
is "$(procs)" 0 "hutch killed with SIGKILL: every process of the container ends"
H run --rm -p "127.0.0.1:$pk:80" "$BB" true
is "$rc" 0 "and its host port is free"
# what --rm could not remove, as the monitor was killed (rm -f is issue 8's)
"$HUTCH" --root "$R" unshare rm -rf "$R/containers"

# ---- nothing left behind
is "$(procs)" 0 "no process of these containers is left"
is "$(ls "$R/containers" 2>/dev/null | wc -l)" 0 "no container directory is left"
ls -l "$R/containers" "$R"/containers/* 2>/dev/null | sed 's/^/# /'
