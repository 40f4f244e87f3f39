#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# hutch shell (issue 22): a sandbox over the user's own host files, run as
# the unprivileged test user: the user's own ids inside, writes held in
# the session until applied, secrets and the host's sockets hidden,
# conflicts and planted links refused by apply, sessions kept, re-entered
# and joined.
. "$(dirname "$0")/lib.sh"
require_fixtures

R=$T/store
H() { hutch --root "$R" "$@"; }
at_exit '"$HUTCH" --root "$R" unshare rm -rf "$R" 2>/dev/null'
export HOME=$T/home
mkdir -p "$HOME/.ssh" "$HOME/proj/sub" "$HOME/out" "$T/elsewhere"
echo secret >"$HOME/.ssh/id_ed25519"
echo machine x login y password z >"$HOME/.netrc"
printf 'one\ntwo\n' >"$HOME/proj/a.txt"
echo keep >"$HOME/proj/sub/k"
cd "$HOME/proj" || exit 1
uid=$(id -u)
absent() { if [ -e "$1" ] || [ -L "$1" ]; then ok 1 "$2"; else ok 0 "$2"; fi; }
present() { if [ -e "$1" ]; then ok 0 "$2"; else ok 1 "$2"; fi; }

# ---- identity, the read-only host, hidden secrets ----
GITHUB_TOKEN=ghp_x OTHER_VAR=fine H shell --name s1 -- sh -c \
  'id -u; id -g; pwd; env | grep -c "^GITHUB_TOKEN=" ; echo "$OTHER_VAR"; echo "$HUTCH_SHELL"'
is "$rc" 0 "a command in a shell runs and its status comes back"
is "$out" "$uid
$(id -g)
$HOME/proj
0
fine
s1" "the user's own uid and gid inside, the working directory kept, a token variable dropped, the rest passed"
GITHUB_TOKEN=ghp_x H shell --name s1 --env GITHUB_TOKEN -- sh -c 'echo "$GITHUB_TOKEN"'
is "$out" "ghp_x" "--env passes a variable that looks secret, on purpose"
H shell --name s1 -- sh -c 'cat ~/.ssh/id_*'
ok $((rc == 0)) "cat ~/.ssh/id_* fails inside"
unlike "$out" "secret" "the key is not shown"
H shell --name s1 -- sh -c 'cat ~/.netrc; wc -c <~/.netrc'
unlike "$out" "password" "~/.netrc is hidden (empty)"
H shell --name s1 -- sh -c 'ls "$0" 2>&1; echo; touch /etc/hutch-x 2>&1; touch /usr/hutch-x 2>&1; echo rc=$?' "$R"
unlike "$out" "shells|blobs" "hutch's own store is hidden from the session"
like "$out" "/etc/hutch-x.*Read-only" "the host's /etc is read-only"
absent /etc/hutch-x "nothing reached the host's /etc"
H shell --name s1 -- sh -c 'cat /proc/self/status | grep -E "^(CapEff|CapBnd|NoNewPrivs|Seccomp):" | tr -s "\t " " "'
like "$out" "CapEff: 0000000000000000" "no capabilities"
like "$out" "CapBnd: 0000000000000000" "an empty bounding set"
like "$out" "NoNewPrivs: 1" "no_new_privs"
like "$out" "Seccomp: 2" "a seccomp filter"
H shell --name s1 -- python3 -c '
import fcntl, termios, sys
try:
    fcntl.ioctl(0, termios.TIOCSTI, b"x")
    print("pushed")
except OSError as e:
    print("errno", e.errno)' </dev/null
is "$out" "errno 1" "TIOCSTI is refused by the filter (EPERM), whatever fd 0 is"
H shell --name s1 -- sh -c 'ls /sys/class/net; echo; ls /proc | grep -c "^[0-9]"'
like "$out" "^lo$" "network none by default: loopback alone"

# ---- writes held until apply ----
H shell --name s1 -- sh -c 'touch ~/x; echo three >>~/proj/a.txt; rm ~/proj/sub/k; mkdir ~/proj/new; echo n >~/proj/new/f'
absent "$HOME/x" "touch ~/x inside: not on the host"
is "$(cat "$HOME/proj/a.txt")" "one
two" "an appended file: the host's copy as it was"
present "$HOME/proj/sub/k" "a deleted file: still on the host"
H shell diff s1
is "$out" "C $HOME/proj/a.txt
A $HOME/proj/new
A $HOME/proj/new/f
D $HOME/proj/sub/k
A $HOME/x" "shell diff: A, C and D, by host path"
H shell diff --stat s1
like "$out" "a.txt \| 1 \+1 -0" "--stat counts the lines"
like "$out" "5 files changed" "--stat sums up"
H shell diff -p s1
like "$out" "\+\+\+ b$HOME/proj/a.txt" "-p: a unified diff per text file"
like "$out" "@@ -1,2 \+1,3 @@" "-p: the hunk"
H shell ls
like "$out" "s1 +stopped +5 " "shell ls: the session, stopped, with 5 changes"
# re-entered: the changes are there
H shell --name s1 -- cat "$HOME/x" "$HOME/proj/new/f"
is "$rc:$out" "0:n" "running the session again enters it with its changes"
H shell apply s1 "$HOME/proj/new/f"
is "$rc" 0 "apply of one path"
is "$(cat "$HOME/proj/new/f" 2>&1)" "n" "its new directory made, the file on the host"
absent "$HOME/x" "the other changes wait"
H shell apply s1
is "$rc" 0 "apply of the rest"
present "$HOME/x" "~/x on the host now"
is "$(cat "$HOME/proj/a.txt")" "one
two
three" "the changed file replaced"
absent "$HOME/proj/sub/k" "the deletion applied"
is "$(stat -c %u "$HOME/x")" "$uid" "applied files are the user's"
H shell diff s1
is "$out" "" "nothing left in the session"

# ---- conflicts ----
H shell --name s1 -- sh -c 'echo mine >~/proj/a.txt; chmod 640 ~/proj/a.txt'
echo theirs >"$HOME/proj/a.txt"
H shell diff s1
like "$out" "C $HOME/proj/a.txt +\(changed on the host too" "diff marks a file the host changed too"
H shell apply s1
is "$rc" 125 "apply refuses a file the host changed since the session started"
like "$err" "a.txt: changed on the host since the session started \(apply --force" "and says how to overwrite it"
is "$(cat "$HOME/proj/a.txt")" "theirs" "the host's file as it was"
H shell apply --force s1
is "$rc:$(cat "$HOME/proj/a.txt")" "0:mine" "--force overwrites it"
is "$(stat -c %a "$HOME/proj/a.txt")" "640" "the mode kept"

# ---- planted links: apply never follows one ----
ln -s "$T/elsewhere" "$HOME/proj/lnk"
H shell discard s1
H shell --name s1 -- sh -c 'rm ~/proj/lnk; mkdir ~/proj/lnk; echo pwn >~/proj/lnk/evil; ln -s /etc ~/proj/etc-link; ln -s "$0" ~/proj/el' "$T/elsewhere"
echo changed >"$HOME/proj/sub/k2"   # (the host moves on: no conflict with the session's files)
H shell apply s1
is "$rc" 0 "apply of a session that replaced a host link with a directory"
absent "$T/elsewhere/evil" "the write landed in the new directory, not through the old link"
is "$(ls "$T/elsewhere")" "" "the link's old target untouched"
is "$(readlink "$HOME/proj/etc-link")" "/etc" "a link the session made is copied as a link"
absent /etc/evil "and never written through"
# a link made on the host after the session's directory: refused, not followed
H shell --name s1 -- sh -c 'mkdir ~/proj/d2; echo data >~/proj/d2/f'
ln -s "$T/elsewhere" "$HOME/proj/d2"
H shell apply --force s1
absent "$T/elsewhere/f" "apply --force replaces a link with the session's directory, never writes through it"
is "$(cat "$HOME/proj/d2/f" 2>&1)" "data" "the file in its place"
H shell discard s1

# ---- fuse-overlayfs: where the kernel's overlay is refused, or asked for ----
if command -v fuse-overlayfs >/dev/null && [ -r /dev/fuse ] && [ -w /dev/fuse ]; then
  mkdir -p "$HOME/fz/gone"
  echo 1 >"$HOME/fz/gone/f"
  echo 1 >"$HOME/fz/del"
  H shell --name fz --overlay-driver fuse-overlayfs -- sh -c \
    'grep -c " fuse.fuse-overlayfs " /proc/self/mounts; echo n >~/fz/new; rm ~/fz/del; rm -r ~/fz/gone; mkdir ~/fz/gone; echo g >~/fz/gone/g'
  is "$rc:$out" "0:1" "--overlay-driver fuse-overlayfs: the home directory under fuse-overlayfs"
  absent "$HOME/fz/new" "its writes are held as well"
  H shell diff fz
  is "$out" "D $HOME/fz/del
C $HOME/fz/gone
D $HOME/fz/gone/f
A $HOME/fz/gone/g
A $HOME/fz/new" "diff reads fuse-overlayfs's whiteouts and opaque directories"
  H shell apply fz
  is "$rc:$(ls "$HOME/fz" | tr '\n' ' ')$(ls "$HOME/fz/gone")" "0:gone new g" "and apply puts them on the host"
  is "$(pgrep -u "$(id -u)" -f 'fuse-overlayfs -f -o lowerdir='"$HOME" | wc -l)" 0 "no fuse-overlayfs server is left"
  H shell rm fz
  H shell --name fz --overlay-driver nonesuch -- true
  like "$rc:$err" "^125:.*--overlay-driver nonesuch" "an unknown overlay driver"
else
  skip "fuse-overlayfs or a usable /dev/fuse is missing"
fi

# ---- -w, --ro, --hide ----
H shell --name s1 -w "$HOME/out" --hide "$HOME/proj/sub" -- sh -c 'echo built >~/out/bin; ls ~/proj/sub | wc -l; id -u >~/out/who'
is "$(cat "$HOME/out/bin" 2>&1)" "built" "-w: written straight through to the host"
is "$(stat -c %u "$HOME/out/bin")" "$uid" "owned by the user on the host"
is "$out" "0" "--hide: the directory shows empty"
H shell --name s1 -w /usr -- true
is "$rc" 125 "-w of a path not the user's: exit 125"
like "$err" "-w /usr: only your own files under your home" "and says which paths may be"
H shell --name s1 -w "$T/nonexistent" -- true
like "$rc:$err" "^125:.*nonexistent.*No such file" "-w of a missing path"
H shell --name s1 --network host -- true
like "$rc:$err" "^125:.*--network host" "--network host is refused for a shell"
H shell --name s1 --allow-host 'not a host!' -- true
is "$rc" 125 "an allow-list entry that does not parse: exit 125"
H shell --name 'bad/name' -- true
like "$rc:$err" "^125:.*not a valid session name" "a bad session name"
H shell --name s1 --userns=auto -- true
like "$rc:$err" "^125:.*keep-id" "--userns other than keep-id is refused"

# ---- sockets: abstract ones and the host's /tmp and /run are out of reach ----
python3 - "$T/host.sock" >"$T/sock.log" 2>&1 <<'EOF' &
import socket, sys, os
a = socket.socket(socket.AF_UNIX); a.bind("\0hutch-test-abstract-%d" % os.getuid()); a.listen(4)
f = socket.socket(socket.AF_UNIX); f.bind(sys.argv[1]); f.listen(4)
open(sys.argv[1] + ".up", "w").close()
import select
while True:
    r, _, _ = select.select([a, f], [], [])
    for s in r:
        c, _ = s.accept(); c.sendall(b"hello\n"); c.close()
EOF
server=$!
at_exit "kill $server"
for _ in $(seq 100); do [ -e "$T/host.sock.up" ] && break; tick; done
probe='
import socket, sys, os
for name in ["\0hutch-test-abstract-%d" % os.getuid(), sys.argv[1]]:
    s = socket.socket(socket.AF_UNIX)
    try:
        s.connect(name); print("reached", s.recv(10).decode().strip())
    except OSError as e:
        print("refused", e.errno)'
python3 -c "$probe" "$T/host.sock" >"$T/probe.out"
is "$(cat "$T/probe.out")" "reached hello
reached hello" "(the host's own process reaches both sockets)"
H shell --name s1 -- python3 -c "$probe" "$T/host.sock"
like "$out" "^refused [0-9]+
refused [0-9]+$" "inside, neither the abstract socket nor the one in the host's /tmp is reachable"
H shell --name s1 --allow-socket "$T/host.sock" -- python3 -c "$probe" "$T/host.sock"
like "$out" "^refused [0-9]+
reached hello$" "--allow-socket shows that one socket"

# ---- the egress allow-list, for a program that knows nothing of proxies ----
NET=$(dirname "$0")/nethelp.py
HOSTIP=$(ip -4 -o addr show scope global up 2>/dev/null | awk '{ sub("/.*", "", $4); print $4; exit }')
if [ -z "$HOSTIP" ]; then
  skip "the host has no IPv4 address but loopback: nothing to serve the sandbox from"
else
  PA=$(python3 "$NET" free-port)
  PB=$(python3 "$NET" free-port)
  DP=$(python3 "$NET" free-port)
  for s in "a $PA" "b $PB"; do
    set -- $s
    mkfifo "$T/$1.ready"
    python3 "$NET" http "$HOSTIP" "$2" >"$T/$1.ready" 2>/dev/null &
    at_exit "kill $!"
    read -r _ <"$T/$1.ready"
  done
  # a resolver of the test's own: good.test is the host, the rest NXDOMAIN
  cat >"$T/resolver.py" <<'PY'
import socket, struct, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], int(sys.argv[2])))
print("ready", flush=True)
while True:
    q, peer = s.recvfrom(4096)
    i, labels = 12, []
    while q[i]:
        labels.append(q[i + 1:i + 1 + q[i]].decode()); i += 1 + q[i]
    name, qtype = ".".join(labels).lower(), struct.unpack("!H", q[i + 1:i + 3])[0]
    rr = b""
    if name == "good.test" and qtype == 1:
        rr = b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 30, 4) + socket.inet_aton(sys.argv[1])
    flags = 0x8180 | (0 if name == "good.test" else 3)
    s.sendto(struct.pack("!HHHHHH", struct.unpack("!H", q[:2])[0], flags, 1, 1 if rr else 0, 0, 0)
             + q[12:i + 5] + rr, peer)
PY
  mkfifo "$T/dns.ready"
  python3 "$T/resolver.py" "$HOSTIP" "$DP" >"$T/dns.ready" 2>/dev/null &
  at_exit "kill $!"
  read -r _ <"$T/dns.ready"
  client='
import socket, sys
for target in sys.argv[1:]:
    host, port = target.rsplit(":", 1)
    try:
        socket.create_connection((host, int(port)), timeout=10).close(); print(target, "ok")
    except socket.gaierror as e:
        print(target, "no-name")
    except OSError as e:
        print(target, "errno", e.errno)'
  H shell --name net1 --allow-host "$HOSTIP:$PA" -- env -u http_proxy python3 -c "$client" \
    "$HOSTIP:$PA" "$HOSTIP:$PB"
  is "$out" "$HOSTIP:$PA ok
$HOSTIP:$PB errno 111" "--allow-host IP:PORT: the allowed server answers, the other is refused at once (a reset)"
  H shell --name net1 --network "slirp:dns=$HOSTIP:$DP" --allow-host "good.test:$PB" -- \
    python3 -c "$client" "good.test:$PB" "bad.test:$PA" "$HOSTIP:$PA"
  is "$out" "good.test:$PB ok
bad.test:$PA no-name
$HOSTIP:$PA errno 111" "by name: the listed name resolves and answers, an unlisted name has no address, an unlisted IP is refused"
  H shell log net1
  like "$out" "tcp $HOSTIP:$PB .*refused" "shell log: the refused connection"
  like "$out" "dns bad.test .*refused" "shell log: the refused name"
  H shell rm net1
fi

# ---- a session's name, kept sessions, a running session joined ----
H load -q -i "$FIX/busybox.docker.tar"
H create --name taken localhost/hutch-test/busybox:latest true
H shell --name taken -- true
like "$rc:$err" "^125:.*a container has that name" "a name already in use by a container is refused"
H rm taken
H shell -- sh -c 'echo x >~/anon-file'
like "$err" "session shell-[0-9a-f]+ holds 1 change" "an unnamed session with changes is kept and named"
anon=$(grep -oE 'shell-[0-9a-f]+' <<<"$err" | head -1)
H shell -- true
H shell ls -q
is "$out" "s1
$anon" "an unnamed session without changes goes; the others are listed"
H shell rm "$anon"
mkfifo "$HOME/out/go"
H shell --name j -w "$HOME/out" -- sh -c 'echo up >~/out/up; read l <~/out/go; echo "$l"' &
bg=$!
for _ in $(seq 200); do [ -s "$HOME/out/up" ] && break; tick; done
H shell ls
like "$out" "j +running" "shell ls: a running session"
H shell --name j -- sh -c 'echo joined; ls /proc | grep -c "^[0-9]"; echo z >~/joined'
is "$rc" 0 "a second shell of a running session joins it"
like "$out" "^joined
[3-9]$" "in the same pid namespace as the first"
H shell discard j
like "$rc:$err" "^125:.*running" "discard of a running session is refused"
H shell rm j
like "$rc:$err" "^125:.*running" "and so is rm"
echo done >"$HOME/out/go"
wait "$bg"
H shell diff j
is "$out" "A $HOME/joined" "the joined shell's write is the session's"
H shell rm j s1
is "$rc" 0 "shell rm"
H shell ls -q
is "$out" "" "no session left"
is "$(ls "$R/shells" 2>&1)" "" "and nothing of them in the store"
H shell diff nosuch
like "$rc:$err" "^125:.*no shell session \"nosuch\"" "a session that does not exist"
