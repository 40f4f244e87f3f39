#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# TCP throughput of the container's network, hutch beside pasta and
# slirp4netns, as the same unprivileged user, on the Debian fixture (which
# has iperf3), in one run: iperf3 rounds of BENCH_NET_SECS (default 2) seconds,
# BENCH_NET_ROUNDS (default 5) rounds, every case of a round before the next round
# (interleaved, so that load from elsewhere falls on all of them alike),
# medians in Gbit/s and as ratios to pasta. The paths (issue 24, item 3):
#   up:     the container's client -> an iperf3 server on the host's 127.0.0.1
#           (hutch --network slirp:allow_host_loopback=true; slirp4netns
#            allow_host_loopback=true; pasta through its gateway address,
#            which it maps to the host's loopback)
#   down:   the same connection, the server sending (iperf3 -R): what
#           apt-get and pip do. libslirp's receive path: host socket ->
#           libslirp's TCP -> tap write.
#   in:     a client on the host -> the container's iperf3 server through -p
#           (hutch's splice forwarder; podman's rootlessport with
#            slirp4netns; pasta -t)
#   second: the container's client -> an iperf3 server on the host's own
#           non-loopback address (the first global IPv4 address of the host,
#           e.g. eth0's): a second host address that needs no privilege to
#           set up and no loopback mapping. A user cannot add an address to
#           lo or make a dummy interface in the host's namespace, and
#           127.0.0.2 is the container's own loopback inside it.
#   floor:  client and server both on the host's loopback.
# slirp4netns runs under podman (with mtu=65520, as hutch's default MTU);
# Debian 12's podman (4.3) cannot drive pasta (4.4 added it), so pasta runs
# on its own around iperf3, without a container: that is its best case.
# Also the CPU seconds that what carries the network (hutch's monitor;
# pasta; slirp4netns + conmon, + rootlessport for "in") spends per GB
# moved: on a loaded machine throughput follows the share of the CPUs a
# process gets, CPU per GB does not, so compare that one first. And the
# resident memory of the carrier during a download (the heaviest path for
# libslirp's buffers), the most seen while it runs (item 5). Carriers of
# podman and pasta are found by name among this user's processes: run
# nothing else of theirs meanwhile.
# Goals (issue 24): every path >= 1.0x pasta, up >= 1.5x; monitor <= 6.4 MB.
#
# usage: tests/bench/net.sh [BUILD_DIR]   (default: build-release)
#   BENCH_NET_ROUNDS=N BENCH_NET_SECS=S BENCH_NET_TOOLS="hutch pasta slirp4netns"
#   BENCH_NET_PATHS="up down in second"
#   BENCH_NET_HUTCH_BEFORE=OTHER_BUILD_DIR adds "hutch-before", that build's hutch
#   on the same store, to compare a change in one interleaved run
set -euo pipefail
src=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
. "$src/helpers/lib.sh"
hutch_bench_start "$0" "${1:-}"
img=localhost/hutch-test/debian:bookworm
"$hutch" --root "$store" load -q -i "$fix/debian.oci.tar" 2>/dev/null
podman_ok=$(hutch_bench_podman "$img" slirp4netns)
# the host's own address, for the "second" path
second=$(ip -4 -o addr show scope global | awk '{ sub(/\/.*/, "", $4); print $4; exit }')
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores" >&2

python3 - "$hutch" "$store" "$img" "$podman_ok" "${second:-}" <<'PY'
import json, os, socket, statistics, subprocess, sys, time
hutch, store, img, podman_ok, second = sys.argv[1:]
before = os.environ.get("BENCH_NET_HUTCH_BEFORE")
SECS = int(os.environ.get("BENCH_NET_SECS", "2"))
ROUNDS = int(os.environ.get("BENCH_NET_ROUNDS", "5"))
TOOLS = os.environ.get("BENCH_NET_TOOLS", "hutch pasta slirp4netns").split()
if before:
    TOOLS.insert(1, "hutch-before")
PATHS = os.environ.get("BENCH_NET_PATHS", "up down in second").split()

def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p

def result(text):
    """Gbit/s and GB moved, from iperf3's JSON."""
    d = json.loads(text)
    if "error" in d:
        raise RuntimeError(d["error"])
    r = d["end"]["sum_received"]
    return r["bits_per_second"] / 1e9, r["bytes"] / 1e9

HZ = os.sysconf("SC_CLK_TCK")

def cpu_ticks(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])  # utime + stime
    except (OSError, IndexError):
        return None

def watch(proc, carriers):
    """While proc runs: the most RSS the carriers (a function giving their
    pids) hold, in KiB, and the CPU seconds they spend, from the first
    look to the last (a pid that ends counts as last seen)."""
    rss, first, last = 0, {}, {}
    while proc.poll() is None:
        pids = carriers()
        rss = max(rss, rss_kib(pids))
        for p in pids:
            t = cpu_ticks(p)
            if t is not None:
                first.setdefault(p, t)
                last[p] = t
        time.sleep(0.05)
    return rss, sum(last[p] - first[p] for p in last) / HZ

def rss_kib(pids):
    total = 0
    for p in pids:
        try:
            with open("/proc/%d/status" % p) as f:
                total += next(int(l.split()[1]) for l in f if l.startswith("VmRSS:"))
        except (OSError, StopIteration):
            pass
    return total

def pids_named(*names):
    out = subprocess.run(["pgrep", "-u", str(os.getuid()), "-x", "|".join(names)],
                         capture_output=True, text=True).stdout
    return [int(x) for x in out.split()]

def listening(port):
    return subprocess.run(["ss", "-Hltn", "sport = :%d" % port], capture_output=True,
                          text=True).stdout.strip() != ""

def host_server(addr):
    port = free_port()
    srv = subprocess.Popen(["iperf3", "-s", "-1", "-B", addr, "-p", str(port)],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(400):  # until it listens: polled, at most 10 s
        if listening(port):
            break
        time.sleep(0.025)
    return srv, port

def iperf(target, port, reverse):
    return ["iperf3", "-c", target, "-p", str(port), "-t", str(SECS), "-J"] + (["-R"] if reverse else [])

# Each case gives (Gbit/s, RSS KiB of the carrier, its CPU seconds per GB).
# The CPU count is the steadier number on a loaded machine: throughput
# follows the share of the CPUs a process gets, CPU per GB does not.
def run_out(addr, reverse, cmd_for_port, carriers):
    """A client in the container to a server on the host at addr; the
    carriers' CPU includes starting the container (some ms)."""
    srv, port = host_server(addr)
    c = subprocess.Popen(cmd_for_port(port, reverse), stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    rss, cpu = watch(c, lambda: carriers(c.pid))
    out, err = c.communicate()
    srv.kill()
    srv.wait()
    if not out.strip():
        raise RuntimeError("exit %d: %s" % (c.returncode, err.strip()[-300:]))
    g, gb = result(out)
    return g, rss, cpu / gb

def run_in(prefix_for_port, carriers):
    """A client on the host to a server in the container, through a forwarded port."""
    port = free_port()
    s = subprocess.Popen(prefix_for_port(port) + ["iperf3", "-s", "-1"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(400):  # until the server in the container takes the test
            c = subprocess.Popen(iperf("127.0.0.1", port, False), stdout=subprocess.PIPE,
                                 stderr=subprocess.DEVNULL, text=True)
            rss, cpu = watch(c, lambda: carriers(s.pid))
            try:
                g, gb = result(c.communicate(timeout=SECS + 30)[0])
                return g, rss, cpu / gb
            except (RuntimeError, ValueError, KeyError):
                time.sleep(0.05)
        raise RuntimeError("the server in the container never answered")
    finally:
        s.wait(timeout=30)

def floor(path):
    srv, port = host_server("127.0.0.1")
    out = subprocess.run(iperf("127.0.0.1", port, path == "down"), capture_output=True,
                         text=True).stdout
    srv.wait()
    return result(out)[0], 0, 0

# --- hutch: its monitor is the `hutch run` process itself
def hutch_case(path, binary=hutch):
    hutch_run = [binary, "--root", store, "run", "--rm"]
    loop = ["--network", "slirp:allow_host_loopback=true"]
    if path == "in":
        return lambda: run_in(lambda p: hutch_run + ["-p", "127.0.0.1:%d:5201" % p, img],
                              lambda pid: [pid])
    addr, target = ("127.0.0.1", "10.0.2.2") if path in ("up", "down") else (second, second)
    return lambda: run_out(addr, path == "down",
                           lambda p, r: hutch_run + loop + [img] + iperf(target, p, r),
                           lambda pid: [pid])

# --- pasta around iperf3; a 10.0.2.0/24 address of its own in the "second"
# case, so that the host's address is not also the namespace's
def pasta_case(path):
    carriers = lambda pid: pids_named("passt", "passt.avx2", "pasta", "pasta.avx2")
    if path == "in":
        return lambda: run_in(lambda p: ["pasta", "--config-net", "--quiet", "-t", "%d:5201" % p,
                                         "-u", "none", "-T", "none", "-U", "none", "--"],
                              carriers)
    if path == "second":
        net = ["-a", "10.0.2.100", "-n", "24", "-g", "10.0.2.2"]
        return lambda: run_out(second, False, lambda p, r: ["pasta", "--config-net", "--quiet"]
                               + net + ["--"] + iperf(second, p, r), carriers)
    gw = 'exec iperf3 -c "$(ip route | awk \'/default/ {print $3; exit}\')" -p %d -t %d -J %s'
    return lambda: run_out("127.0.0.1", path == "down",
                           lambda p, r: ["pasta", "--config-net", "--quiet", "--", "sh", "-c",
                                         gw % (p, SECS, "-R" if r else "")],
                           carriers)

# --- slirp4netns under podman (conmon + slirp4netns carry the network)
pod = ["podman", "--runtime", "runc", "run", "--rm"]
def s4n_case(path):
    helpers = lambda pid: pids_named("slirp4netns", "conmon")
    if path == "in":
        return lambda: run_in(lambda p: pod + ["--network", "slirp4netns:mtu=65520",
                                               "-p", "127.0.0.1:%d:5201" % p, img],
                              lambda pid: pids_named("slirp4netns", "conmon", "rootlessport",
                                                     "rootlessport-c"))
    addr, target = ("127.0.0.1", "10.0.2.2") if path in ("up", "down") else (second, second)
    return lambda: run_out(addr, path == "down",
                           lambda p, r: pod + ["--network",
                                               "slirp4netns:allow_host_loopback=true,mtu=65520",
                                               img] + iperf(target, p, r),
                           helpers)

makers = {"hutch": hutch_case,
          "hutch-before": lambda path: hutch_case(path, os.path.join(before, "src/hutch")),
          "pasta": pasta_case, "slirp4netns": s4n_case}
cases = {}
for path in PATHS:
    if path == "second" and not second:
        print("second: the host has no global IPv4 address: skipped", file=sys.stderr)
        continue
    if path != "in":
        cases[("floor", path)] = lambda path=path: floor(path)
    for tool in TOOLS:
        if tool == "slirp4netns" and podman_ok != "yes":
            continue
        cases[(tool, path)] = makers[tool](path)
if "slirp4netns" in TOOLS and podman_ok != "yes":
    print("slirp4netns: rootless podman cannot run here: left out", file=sys.stderr)

res = {k: [] for k in cases}
mem = {k: [] for k in cases}
cpu = {k: [] for k in cases}
for _ in range(ROUNDS):
    for key, f in cases.items():
        try:
            v, r, c = f()
        except Exception as e:  # a peer that cannot run here is reported, not fatal
            print("%s %s failed: %s" % (key[0], key[1], e), file=sys.stderr)
            continue
        res[key].append(v)
        if r:
            mem[key].append(r)
        if c:
            cpu[key].append(c)
med = {k: statistics.median(v) for k, v in res.items() if v}
cpu_med = {k: statistics.median(v) for k, v in cpu.items() if v}

print("== TCP throughput, iperf3 %d s, median of %d interleaved rounds, Gbit/s (ratio to pasta)"
      % (SECS, ROUNDS))
def row(table, path, tools, fmt):
    """One path's line: each tool's value, with its ratio to pasta's."""
    line = "%-8s" % path
    p = table.get(("pasta", path))
    for t in tools:
        v = table.get((t, path))
        if v is None:
            line += "%20s" % "-"
        elif p and t != "pasta":
            line += "%20s" % ((fmt + " (%.2fx)") % (v, v / p))
        else:
            line += "%20s" % (fmt % v)
    return line
shown = [t for t in ["floor"] + TOOLS if any(k[0] == t for k in med)]
print("%-8s" % "path" + "".join("%20s" % t for t in shown))
verdict = 0
for path in PATHS:
    print(row(med, path, shown, "%.2f"))
    p = med.get(("pasta", path))
    h = med.get(("hutch", path))
    if h is not None and p:
        goal = 1.5 if path == "up" else 1.0
        if h / p < goal:
            print("GOAL MISSED: hutch %s is %.2fx pasta (goal %.1fx)" % (path, h / p, goal))
            verdict = 1
print("== CPU seconds of the network carrier per GB moved, median (ratio to pasta; lower is better)")
print("%-8s" % "path" + "".join("%20s" % t for t in TOOLS))
for path in PATHS:
    print(row(cpu_med, path, TOOLS, "%.3f"))
print("== resident memory of the network carrier during a download, MiB (most seen; median)")
for t, what in (("hutch", "hutch monitor"), ("hutch-before", "hutch-before monitor"),
                ("slirp4netns", "conmon + slirp4netns"),
                ("pasta", "pasta")):
    if mem.get((t, "down")):
        print("%-24s %6.1f" % (what, statistics.median(mem[(t, "down")]) / 1024))
hm = mem.get(("hutch", "down"))
if hm and statistics.median(hm) > 6.4 * 1000 * 1000 / 1024:
    print("GOAL MISSED: the monitor holds more than 6.4 MB")
    verdict = 1
print("load after: %s" % " ".join(open("/proc/loadavg").read().split()[:3]))
print("goals met" if verdict == 0 else "")
sys.exit(verdict)
PY
