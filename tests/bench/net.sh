#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# TCP throughput of the container's network, hutch beside its peers, as the
# same unprivileged user, on the Debian fixture (which has iperf3), in one
# run: iperf3 for 3 s, 3 rounds interleaved, medians in Gbit/s.
#   out: the container's client -> an iperf3 server on the host's 127.0.0.1
#        (hutch --network slirp:allow_host_loopback=true, through libslirp;
#         podman --network slirp4netns:allow_host_loopback=true,mtu=65520;
#         pasta --config-net, through its gateway address)
#   in:  a client on the host -> the container's iperf3 server through -p
#        (hutch's splice forwarder; podman's rootlesskit port handler with
#         slirp4netns; pasta -t)
#   floor: client and server both on the host's loopback.
# Debian 12's podman (4.3) cannot drive pasta (4.4 added it), so pasta runs
# on its own around iperf3, without a container: that is its best case.
# Also the resident memory of what carries the network during a transfer:
# hutch's monitor vs slirp4netns + conmon + rootlessport.
# Goals (issue 6): out >= 1.0x pasta, in >= 1.0x pasta.
#
# usage: tests/bench/net.sh [BUILD_DIR]   (default: build-release)
set -euo pipefail
src=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
. "$src/helpers/lib.sh"
hutch_bench_start "$0" "${1:-}"
img=localhost/hutch-test/debian:bookworm
"$hutch" --root "$store" load -q -i "$fix/debian.oci.tar" 2>/dev/null
podman_ok=$(hutch_bench_podman "$img" slirp4netns)

python3 - "$hutch" "$store" "$img" "$podman_ok" <<'PY'
import json, os, socket, statistics, subprocess, sys, time
hutch, store, img, podman_ok = sys.argv[1:]
SECS = 3

def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p

def gbps(text):
    d = json.loads(text)
    if "error" in d:
        raise RuntimeError(d["error"])
    return d["end"]["sum_received"]["bits_per_second"] / 1e9

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

def host_server():
    port = free_port()
    srv = subprocess.Popen(["iperf3", "-s", "-1", "-B", "127.0.0.1", "-p", str(port)],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(400):  # until it listens
        if subprocess.run(["ss", "-Hltn", "sport = :%d" % port], capture_output=True,
                          text=True).stdout.strip():
            break
        time.sleep(0.025)
    return srv, port

def client(target, port):
    return ["iperf3", "-c", target, "-p", str(port), "-t", str(SECS), "-J"]

def run_out(cmd_for_port, rss_of=None):
    """A client in the container to a server on the host."""
    srv, port = host_server()
    c = subprocess.Popen(cmd_for_port(port), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
    rss = 0
    while rss_of and c.poll() is None:  # the most it holds while the test runs
        rss = max(rss, rss_kib(rss_of(c.pid)))
        time.sleep(0.25)
    out, err = c.communicate()
    srv.kill()
    srv.wait()
    if not out.strip():
        raise RuntimeError("exit %d: %s" % (c.returncode, err.strip()[-300:]))
    return gbps(out), rss

def run_in(prefix_for_port, rss_of=None):
    """A client on the host to a server in the container, through a forwarded port."""
    port = free_port()
    s = subprocess.Popen(prefix_for_port(port) + ["iperf3", "-s", "-1"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(800):  # until the server in the container takes the test
        c = subprocess.Popen(["iperf3", "-c", "127.0.0.1", "-p", str(port), "-t", str(SECS), "-J"],
                             stdout=subprocess.PIPE, text=True)
        rss = 0
        if rss_of:
            time.sleep(0.3)
            rss = rss_kib(rss_of(s.pid))
        out = c.communicate()[0]
        try:
            v = gbps(out)
            break
        except RuntimeError:
            time.sleep(0.05)
    s.wait()
    return v, rss

def floor_out():
    srv, port = host_server()
    out = subprocess.run(["iperf3", "-c", "127.0.0.1", "-p", str(port), "-t", str(SECS), "-J"],
                         capture_output=True, text=True).stdout
    srv.wait()
    return gbps(out), 0

hutch_run = [hutch, "--root", store, "run", "--rm"]
cases = {
    "host loopback": floor_out,
    "hutch out": lambda: run_out(lambda p: hutch_run + ["--network", "slirp:allow_host_loopback=true",
                                                       img] + client("10.0.2.2", p),
                                 lambda pid: [pid]),
    "hutch in": lambda: run_in(lambda p: hutch_run + ["-p", "127.0.0.1:%d:5201" % p, img],
                               lambda pid: [pid]),
    # pasta maps its gateway address to the host's loopback
    "pasta out": lambda: run_out(lambda p: ["pasta", "--config-net", "--quiet", "--", "sh", "-c",
                                            'exec iperf3 -c "$(ip route | awk \'/default/ {print $3; exit}\')"'
                                            ' -p %d -t %d -J' % (p, SECS)]),
    "pasta in": lambda: run_in(lambda p: ["pasta", "--config-net", "--quiet", "-t", "%d:5201" % p,
                                          "-u", "none", "-T", "none", "-U", "none", "--"]),
}
if podman_ok == "yes":
    pod = ["podman", "--runtime", "runc", "run", "--rm"]
    helpers = lambda pid: pids_named("slirp4netns", "conmon", "rootlessport", "rootlessport-chi")
    cases["podman slirp4netns out"] = lambda: run_out(
        lambda p: pod + ["--network", "slirp4netns:allow_host_loopback=true,mtu=65520", img]
        + client("10.0.2.2", p), helpers)
    cases["podman slirp4netns in"] = lambda: run_in(
        lambda p: pod + ["--network", "slirp4netns:mtu=65520", "-p", "127.0.0.1:%d:5201" % p, img],
        helpers)

res = {k: [] for k in cases}
mem = {k: [] for k in cases}
for _ in range(3):
    for name, f in cases.items():
        try:
            v, r = f()
        except Exception as e:  # a peer that cannot run here is reported, not fatal
            print("%s failed: %s" % (name, e), file=sys.stderr)
            continue
        res[name].append(v)
        if r:
            mem[name].append(r)
med = {k: statistics.median(v) for k, v in res.items() if v}
print("== TCP throughput (iperf3 %d s, median of 3, Gbit/s)" % SECS)
for k, v in med.items():
    m = " (network helper RSS %.1f MiB)" % (statistics.median(mem[k]) / 1024) if mem[k] else ""
    print("%-24s %6.2f%s" % (k, v, m))
verdict = 0
for d in ("out", "in"):
    h, p = med.get("hutch " + d), med.get("pasta " + d)
    if h is None or p is None:
        print("%s: n/a" % d); verdict = 1; continue
    line = "hutch %s: %.2fx pasta" % (d, h / p)
    if "podman slirp4netns " + d in med:
        line += ", %.2fx podman+slirp4netns" % (h / med["podman slirp4netns " + d])
    print(line)
    if h < p:
        print("GOAL MISSED: hutch %s is below pasta" % d); verdict = 1
print("goals met" if verdict == 0 else "")
sys.exit(verdict)
PY
