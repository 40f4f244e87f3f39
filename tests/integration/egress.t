#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# --allow-host, the egress policy the monitor enforces on every frame:
# two TCP servers on the host's own non-loopback address, one allowed and
# one not, reached by busybox's nc and wget (which know nothing of proxy
# variables) by IP and by name through a resolver of the test's own; UDP
# refused with ICMP; the host's loopback closed unless listed; each
# refusal in egress.log; the policy kept by a later start; bad entries
# and --network none/host refused.
. "$(dirname "$0")/lib.sh"
require_fixtures
busybox_store

NET=$(dirname "$0")/nethelp.py
pids=()
at_exit 'for p in "${pids[@]+"${pids[@]}"}"; do kill "$p" 2>/dev/null; done'
port() { python3 "$NET" free-port; }

# the host's first IPv4 address that is not loopback: what the container
# reaches the host's servers at through slirp
HOST=$(ip -4 -o addr show scope global up 2>/dev/null | awk '{ sub("/.*", "", $4); print $4; exit }')
if [ -z "$HOST" ]; then
  skip "the host has no IPv4 address but loopback: nothing to serve the container from"
  exit 0
fi

# start NAME CMD...: a host server in the background, once it says "ready"
start() {
  local name=$1
  shift
  mkfifo "$T/$name.ready"
  "$@" >"$T/$name.ready" 2>"$T/$name.err" &
  pids+=($!)
  read -r _ <"$T/$name.ready"
}

# A resolver that answers NAME=IP and NAME=cname:TARGET, NXDOMAIN for the
# rest, and writes each question it gets ("NAME QTYPE") to its log.
cat >"$T/resolver.py" <<'PY'
import socket, struct, sys
addr, port, log = sys.argv[1], int(sys.argv[2]), sys.argv[3]
zone = dict(spec.partition("=")[::2] for spec in sys.argv[4:])
def enc(n):
    return b"".join(bytes([len(l)]) + l.encode() for l in n.split(".")) + b"\0"
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((addr, port))
print("ready", flush=True)
while True:
    q, peer = s.recvfrom(4096)
    i, labels = 12, []
    while q[i]:
        labels.append(q[i + 1:i + 1 + q[i]].decode())
        i += 1 + q[i]
    name, qtype = ".".join(labels).lower(), struct.unpack("!H", q[i + 1:i + 3])[0]
    with open(log, "a") as f:
        f.write("%s %d\n" % (name, qtype))
    records, cur = [], name
    while cur in zone and len(records) < 8:
        val = zone[cur]
        if val.startswith("cname:"):
            t = enc(val[6:])
            records.append(enc(cur) + struct.pack("!HHIH", 5, 1, 30, len(t)) + t)
            cur = val[6:]
            continue
        if qtype == 1:
            records.append(enc(cur) + struct.pack("!HHIH", 1, 1, 30, 4) + socket.inet_aton(val))
        break
    flags = 0x8180 | (0 if name in zone else 3)
    s.sendto(struct.pack("!HHHHHH", struct.unpack("!H", q[:2])[0], flags, 1, len(records), 0, 0)
             + q[12:i + 5] + b"".join(records), peer)
PY

PA=$(port)
PB=$(port)
PL=$(port)
DP=$(port)
UP=$(port)
start a python3 "$NET" http "$HOST" "$PA"
start b python3 "$NET" http "$HOST" "$PB"
start loop python3 "$NET" http 127.0.0.1 "$PL"
touch "$T/dns.log" "$T/udp.log"
start dns python3 "$T/resolver.py" 127.0.0.1 "$DP" "$T/dns.log" \
  web.test="$HOST" alias.test=cname:web.test a.wild.test="$HOST"
start udp python3 "$T/resolver.py" "$HOST" "$UP" "$T/udp.log" web.test="$HOST"
DNS="--network=slirp:dns=127.0.0.1:$DP"
egress_log() { # NAME: the container's egress.log, by inspect's path
  local path
  H inspect "$1"
  path=$(json_get "$out" 'd[0]["HostConfig"].get("EgressLog") or ""')
  [ -n "$path" ] && cat "$path" 2>/dev/null
}
TS='[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z'

# ---- without --allow-host: as before
H run --name open "$BB" sh -c "wget -q -O- http://$HOST:$PA/; wget -q -O- http://$HOST:$PB/"
is "$rc:$(echo $out)" "0:host-server host-server" "without --allow-host both servers answer"
H inspect open
is "$(json_get "$out" '"EgressLog" in d[0]["HostConfig"]')" False "and there is no egress log"

# ---- by IP
SECONDS=0
H run --name byip --allow-host "$HOST:$PA" "$BB" sh -c \
  "wget -q -O- http://$HOST:$PA/; nc $HOST $PB </dev/null; echo nc=\$?"
took=$SECONDS
like "$out" "^host-server" "--allow-host IP:PORT: the allowed server answers"
like "$err" "can't connect to remote host \($HOST\): Connection refused" \
  "the other is refused with a reset (ECONNREFUSED), though it listens"
like "$out" "nc=1" "and nc fails"
ok "$((took < 20 ? 0 : 1))" "at once, not after a timeout (${took}s for the whole run)"
log=$(egress_log byip)
like "$log" "^$TS tcp $HOST:$PB - refused, needs --allow-host $HOST:$PB$" \
  "egress.log: time, protocol, destination, no name, the entry that was missing"
unlike "$log" ":$PA " "the allowed connection is not logged"

# ---- UDP
: >"$T/udp.log"
H run --name udp --allow-host "$HOST:$PA" "$BB" nslookup web.test "$HOST:$UP"
like "$err" "No route to host" "UDP to an address not allowed: ICMP unreachable (EHOSTUNREACH)"
is "$(cat "$T/udp.log")" "" "and the datagram never left"
like "$(egress_log udp)" "^$TS udp $HOST:$UP - refused, needs --allow-host $HOST:$UP$" \
  "the UDP refusal is logged"
H run --rm --allow-host "$HOST:$UP" "$BB" nslookup web.test "$HOST:$UP"
like "$rc:$(echo $out)" "^0:.*Address: $HOST" "UDP to an allowed address:port goes through"

# ---- by name, through the test's resolver
: >"$T/dns.log"
H run --name byname "$DNS" --allow-host "web.test:$PA" "$BB" sh -c "
  nc $HOST $PA </dev/null; echo before=\$?
  wget -q -O- http://web.test:$PA/
  wget -q -O- http://web.test:$PB/; echo port=\$?
  nc 198.51.100.7 $PA </dev/null; echo other=\$?
  nslookup other.test; echo nx=\$?"
like "$out" "before=1" "a name entry allows no address before it was an answer for the name"
like "$out" "host-server" "the name resolves and its answer's address:port is reached"
like "$out" "port=1" "another port of that address is refused"
like "$out" "other=1" "an address that was no answer for the name is refused"
like "$out" "can't find other.test: NXDOMAIN" "a name not allowed gets NXDOMAIN"
like "$out" "nx=1" "and nslookup fails"
unlike "$(cat "$T/dns.log")" "other.test" "the name not allowed never reached the resolver"
like "$(cat "$T/dns.log")" "web.test 1" "the allowed one did"
log=$(egress_log byname)
like "$log" "$TS tcp $HOST:$PA - refused, needs --allow-host $HOST:$PA" "logged: the address before the answer"
like "$log" "$TS tcp $HOST:$PB web.test refused, needs --allow-host web.test:$PB" \
  "logged: the other port, with the name the address was an answer for"
like "$log" "$TS tcp 198.51.100.7:$PA - refused" "logged: the address of no answer"
like "$log" "$TS dns other.test A refused \(NXDOMAIN\), needs --allow-host other.test" \
  "logged: the refused name"

H run --rm "$DNS" --allow-host "alias.test:$PA" --allow-host '*.wild.test' "$BB" sh -c "
  wget -q -O- http://alias.test:$PA/; echo alias=\$?
  wget -q -O- http://a.wild.test:$PB/; echo wild=\$?
  nslookup wild.test; echo top=\$?"
like "$(echo $out)" "host-server alias=0" "a name whose answer is a CNAME: the addresses at its end are allowed"
like "$(echo $out)" "host-server wild=0" "*.wild.test allows a name below it, on any port"
like "$out" "top=1" "but not wild.test itself"

# ---- the host's loopback
H run --rm --allow-host "$HOST:$PA" "$BB" wget -q -O- "http://10.0.2.2:$PL/"
like "$rc:$err" "^1:.*Connection refused" "the host's loopback (10.0.2.2) is closed unless listed"
H run --rm --allow-host "10.0.2.2:$PL" "$BB" sh -c "wget -q -O- http://10.0.2.2:$PL/; nc 10.0.2.2 $PA </dev/null; echo other=\$?"
like "$out" "^host-server" "--allow-host 10.0.2.2:PORT opens that port of it"
like "$out" "other=1" "and no other"
H run --rm --allow-host "host.containers.internal:$PL" "$BB" wget -q -O- "http://host.containers.internal:$PL/"
is "$rc:$out" "0:host-server" "--allow-host host.containers.internal:PORT does the same, by the name in /etc/hosts"

# ---- start keeps the policy
H create --name keep --allow-host "$HOST:$PA" "$BB" sh -c \
  "wget -q -O- http://$HOST:$PA/; wget -q -O- http://$HOST:$PB/; echo b=\$?"
H start -a keep
like "$(echo $out)" "host-server b=1" "create --allow-host: the first start enforces it"
H start -a keep
like "$(echo $out)" "host-server b=1" "and a later start of the stopped container too"
is "$(egress_log keep | grep -c "tcp $HOST:$PB")" 2 "each start's refusal is logged"

# ---- bad input
H run --rm --allow-host 'no such host' "$BB" true
like "$rc:$err" "^125:.*--allow-host \"no such host\": not a host name.*NAME, \*.DOMAIN, IP or IP/BITS" \
  "a bad entry: exit 125, naming it and the accepted forms"
H run --rm --allow-host "$HOST:99999" "$BB" true
like "$rc:$err" "^125:.*the port is a number from 1 to 65535" "a bad port"
H run --rm --allow-host 10.0.0.1/8 "$BB" true
like "$rc:$err" "^125:.*did you mean 10.0.0.0/8" "a range with host bits set"
H run --rm --allow-host 'fd00::1' "$BB" true
like "$rc:$err" "^125:.*IPv6 is not supported" "an IPv6 entry says IPv4 alone is covered"
H run --rm --network none --allow-host "$HOST" "$BB" true
like "$rc:$err" "^125:.*--allow-host needs the slirp network.*--network none" "--allow-host with --network none"
H run --rm --network host --allow-host "$HOST" "$BB" true
like "$rc:$err" "^125:.*--allow-host needs the slirp network.*cannot filter" "--allow-host with --network host"
H ps -aq
is "$(printf '%s\n' "$out" | wc -l)" 5 "no container was made by the refused commands"
