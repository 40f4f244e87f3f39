#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""An HTTP proxy in front of a registry for push.t, standard library only.

pushproxy.py TARGETPORT PORTFILE LOG [--cut BYTES]

Forwards every request to 127.0.0.1:TARGETPORT, request bodies streamed,
with the client's Host header (so the registry's Location headers point
back at the proxy), and writes "METHOD PATH" of each to LOG. --cut: once,
after BYTES of an upload's body (PATCH or PUT) have gone through, both
connections are cut, the registry's and the client's, halfway through the
request: the registry keeps what it got, the client gets no answer.
"""
import http.client
import http.server
import os
import socket
import sys
import threading


class Cut(Exception):
    pass


def main(target, portfile, log, cut):
    lock = threading.Lock()
    state = {"cut": cut}

    class Proxy(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def forward(self):
            method = self.command
            with lock, open(log, "a") as f:
                f.write("%s %s\n" % (method, self.path))
            length = int(self.headers.get("Content-Length", "0") or 0)
            # a list: skopeo sends Accept more than once
            headers = [(k, v) for k, v in self.headers.items() if k.lower() != "connection"]
            conn = http.client.HTTPConnection("127.0.0.1", target, timeout=60)
            conn.putrequest(method, self.path, skip_host=True, skip_accept_encoding=True)
            for k, v in headers:
                conn.putheader(k, v)
            conn.endheaders()
            sent = 0
            try:
                while sent < length:
                    chunk = self.rfile.read(min(64 << 10, length - sent))
                    if not chunk:
                        raise Cut()
                    with lock:
                        limit = state["cut"] if method in ("PATCH", "PUT") else None
                        if limit is not None and sent + len(chunk) >= limit:
                            state["cut"] = None
                        else:
                            limit = None
                    if limit is not None:
                        conn.send(chunk[:max(limit - sent, 0)])
                        with lock, open(log, "a") as f:
                            f.write("cut %s after %d bytes\n" % (self.path, limit))
                        raise Cut()
                    conn.send(chunk)
                    sent += len(chunk)
                resp = conn.getresponse()
            except (Cut, OSError, http.client.HTTPException):
                conn.sock and conn.sock.shutdown(socket.SHUT_RDWR)
                conn.close()
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            body = resp.read()
            self.send_response(resp.status)
            for k, v in resp.getheaders():
                if k.lower() not in ("connection", "transfer-encoding", "keep-alive",
                                     "content-length"):
                    self.send_header(k, v)
            if method != "HEAD":
                self.send_header("Content-Length", str(len(body)))
            elif resp.getheader("Content-Length"):
                self.send_header("Content-Length", resp.getheader("Content-Length"))
            self.end_headers()
            if method != "HEAD":
                self.wfile.write(body)
            conn.close()

        do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = forward

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Proxy)
    server.daemon_threads = True
    with open(portfile + ".tmp", "w") as f:
        f.write(str(server.server_address[1]))
    os.rename(portfile + ".tmp", portfile)
    server.serve_forever()


if __name__ == "__main__":
    if len(sys.argv) not in (4, 6) or (len(sys.argv) == 6 and sys.argv[4] != "--cut"):
        raise SystemExit(__doc__)
    main(int(sys.argv[1]), sys.argv[2], sys.argv[3],
         int(sys.argv[5]) if len(sys.argv) == 6 else None)
