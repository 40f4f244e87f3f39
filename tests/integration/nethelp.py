#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Small network peers for run-net.t, from Python's standard library.

  dns ADDR PORT ANSWER      a DNS server: every A query gets ANSWER
  http ADDR PORT            an HTTP server saying "host-server"
  get URL [SOURCE] [SECS]   GET URL (from SOURCE address), retried every 50 ms
                            until it answers or SECS (20) pass; prints the body
  parallel N URL            N GETs at once; prints how many were answered 200
  udp ADDR PORT MSG [SOURCE] [SECS]  send MSG until an answer comes; prints it
  free-port                 prints a TCP and UDP port free on 127.0.0.1
"""
import concurrent.futures, http.client, http.server, socket, struct, sys, time


def dns(addr, port, answer):
    a = socket.inet_aton(answer)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((addr, int(port)))
    print("ready", flush=True)
    while True:
        q, peer = s.recvfrom(4096)
        i = 12
        while q[i] != 0:
            i += 1 + q[i]
        qtype = struct.unpack("!H", q[i + 1:i + 3])[0]
        question = q[12:i + 5]
        rr = b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 60, 4) + a if qtype == 1 else b""
        s.sendto(struct.pack("!HHHHHH", struct.unpack("!H", q[:2])[0], 0x8180, 1,
                             1 if rr else 0, 0, 0) + question + rr, peer)


def http_server(addr, port):
    class H(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = b"host-server\n"
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass
    srv = http.server.ThreadingHTTPServer((addr, int(port)), H)
    print("ready", flush=True)
    srv.serve_forever()


def fetch(url, source=None, timeout=5.0):
    host, _, rest = url.partition("//")[2].partition("/")
    h, _, p = host.partition(":")
    c = http.client.HTTPConnection(h, int(p or 80), timeout=timeout,
                                   source_address=(source, 0) if source else None)
    c.request("GET", "/" + rest)
    r = c.getresponse()
    return r.status, r.read()


def get(url, source=None, secs="20"):
    end = time.monotonic() + float(secs)
    while True:
        try:
            status, body = fetch(url, source)
            sys.stdout.write(body.decode())
            return 0 if status == 200 else 1
        except OSError as e:
            if time.monotonic() > end:
                print("no answer from %s: %s" % (url, e), file=sys.stderr)
                return 1
            time.sleep(0.05)  # polling a condition, with a deadline


def parallel(n, url):
    def one(_):
        try:
            return fetch(url, timeout=20)[0]
        except OSError:
            return 0
    with concurrent.futures.ThreadPoolExecutor(int(n)) as ex:
        print(sum(1 for s in ex.map(one, range(int(n))) if s == 200))


def udp(addr, port, msg, source="127.0.0.1", secs="20"):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((source, 0))
    s.settimeout(0.1)
    end = time.monotonic() + float(secs)
    while time.monotonic() < end:
        s.sendto(msg.encode(), (addr, int(port)))
        try:
            print(s.recv(4096).decode())
            return 0
        except socket.timeout:
            pass
    print("no answer over UDP from %s:%s" % (addr, port), file=sys.stderr)
    return 1


def free_port():
    for _ in range(100):
        t = socket.socket()
        t.bind(("127.0.0.1", 0))
        p = t.getsockname()[1]
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            u.bind(("127.0.0.1", p))
        except OSError:
            continue
        print(p)
        return 0
    return 1


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    sys.exit({"dns": dns, "http": http_server, "get": get, "parallel": parallel, "udp": udp,
              "free-port": free_port}[cmd](*args) or 0)
