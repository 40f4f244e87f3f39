#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Test peers for the registry tests, standard library only.

multiarch SRC OUT
    Writes an OCI layout at OUT with a two-platform index (see multiarch_main).

token KEY CERT PORTFILE LOG USER:PASS
    A token service for docker-registry's `auth: token`: RS256 JWTs signed
    with KEY (through openssl), the key named by its libtrust key id, which
    the registry derives from CERT. USER gets pull and push everywhere; an
    anonymous client gets pull on public/* only. Bad credentials: 401.
    Each request's query and whether it carried credentials go to LOG.

proxy TARGETPORT PORTFILE LOG [--cut BYTES FIFO_OUT FIFO_IN] [--redirect] [--busy N]
      [--redirect-to URL]
    An HTTP proxy in front of the registry at 127.0.0.1:TARGETPORT that logs
    each request's method, path, Range and Authorization to LOG. --cut:
    once, after BYTES of a blob's body, writes "cut" to FIFO_OUT and waits
    for a line on FIFO_IN before reading on (the test kills the registry
    meanwhile). --redirect: blob GETs are answered with a 307 to the same
    path on 127.0.0.2 (this proxy again, as another host). --busy: the first N
    blob GETs get 503 with Retry-After: 1. --redirect-to: blob GETs are
    answered with a 307 to URL (a file:// or ftp:// a client must refuse).
"""
import base64
import hashlib
import http.client
import http.server
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.parse


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def libtrust_kid(cert):
    der = subprocess.run(["openssl", "x509", "-in", cert, "-noout", "-pubkey"],
                         check=True, capture_output=True).stdout
    der = subprocess.run(["openssl", "pkey", "-pubin", "-outform", "DER"], input=der,
                         check=True, capture_output=True).stdout
    b32 = base64.b32encode(hashlib.sha256(der).digest()[:30]).decode().rstrip("=")
    return ":".join(b32[i:i + 4] for i in range(0, len(b32), 4))


def serve(handler, portfile, host="127.0.0.1", port=0):
    server = http.server.ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    if portfile:
        with open(portfile + ".tmp", "w") as f:
            f.write(str(server.server_address[1]))
        os.rename(portfile + ".tmp", portfile)
    return server


def token_main(key, cert, portfile, log, userpass):
    kid = libtrust_kid(cert)
    lock = threading.Lock()

    class Token(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def do_GET(self):
            url = urllib.parse.urlparse(self.path)
            q = urllib.parse.parse_qs(url.query)
            auth = self.headers.get("Authorization", "")
            user = None
            if auth.startswith("Basic "):
                if base64.b64decode(auth[6:]).decode() != userpass:
                    with lock, open(log, "a") as f:
                        f.write("refused %s\n" % url.query)
                    body = b'{"errors":[{"code":"UNAUTHORIZED","message":"bad credentials"}]}'
                    self.send_response(401)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                    return
                user = userpass.split(":")[0]
            access = []
            for scope in q.get("scope", []):
                kind, name, actions = scope.split(":")
                if user:
                    allowed = actions.split(",")
                elif name.startswith("public/"):
                    allowed = ["pull"]
                else:
                    allowed = []
                access.append({"type": kind, "name": name, "actions": allowed})
            now = int(time.time())
            claims = {"iss": "hutch-test-issuer", "sub": user or "", "aud": q.get("service", [""])[0],
                      "exp": now + 300, "nbf": now - 10, "iat": now,
                      "jti": b64url(os.urandom(12)), "access": access}
            head = {"typ": "JWT", "alg": "RS256", "kid": kid}
            signing = b64url(json.dumps(head).encode()) + "." + b64url(json.dumps(claims).encode())
            sig = subprocess.run(["openssl", "dgst", "-sha256", "-sign", key], input=signing.encode(),
                                 check=True, capture_output=True).stdout
            token = signing + "." + b64url(sig)
            body = json.dumps({"token": token, "expires_in": 300}).encode()
            with lock, open(log, "a") as f:
                f.write("token %s user=%s\n" % (url.query, user or "-"))
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    serve(Token, portfile).serve_forever()


def proxy_main(target, portfile, log, cut, redirect, busy, redirect_to):
    lock = threading.Lock()
    state = {"cut": cut, "busy": busy}

    class Proxy(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def record(self, what):
            with lock, open(log, "a") as f:
                f.write(what + "\n")

        def forward(self, method):
            host = self.headers.get("Host", "")
            is_blob = "/blobs/sha256:" in self.path and method == "GET"
            self.record("%s %s host=%s range=%s auth=%s" % (
                method, self.path, host, self.headers.get("Range", "-"),
                "yes" if self.headers.get("Authorization") else "no"))
            if host.startswith("127.0.0.2") and not self.headers.get("Authorization"):
                # a presigned URL, as blob storage hands out: the proxy signs
                with lock:
                    signed = state.get("auth." + self.path)
                if signed:
                    self.headers["Authorization"] = signed
            elif self.headers.get("Authorization"):
                with lock:
                    state["auth." + self.path] = self.headers["Authorization"]
            if is_blob and redirect_to:
                self.send_response(307)
                self.send_header("Location", redirect_to)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            if is_blob and redirect and not host.startswith("127.0.0.2"):
                self.send_response(307)
                self.send_header("Location", "http://127.0.0.2:%d%s" % (
                    redirect.server_address[1], self.path))
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            if is_blob:
                with lock:
                    refuse = state["busy"] > 0
                    state["busy"] -= 1 if refuse else 0
                if refuse:
                    self.send_response(503)
                    self.send_header("Retry-After", "1")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
            length = int(self.headers.get("Content-Length", "0") or 0)
            body = self.rfile.read(length) if length else None
            headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
            try:
                conn = http.client.HTTPConnection("127.0.0.1", target, timeout=60)
                conn.request(method, self.path, body=body, headers=headers)
                resp = conn.getresponse()
            except OSError:
                self.send_response(502)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(resp.status)
            for k, v in resp.getheaders():
                if k.lower() not in ("connection", "transfer-encoding", "keep-alive"):
                    self.send_header(k, v)
            self.end_headers()
            if method == "HEAD":
                return
            sent = 0
            while True:
                with lock:
                    pending = state["cut"] if is_blob and resp.status in (200, 206) else None
                if pending is not None and sent >= pending[0]:
                    with lock:
                        state["cut"] = None
                    with open(pending[1], "w") as f:
                        f.write("cut %d\n" % sent)
                    with open(pending[2]) as f:
                        f.readline()
                try:
                    chunk = resp.read(64 << 10)
                except (OSError, http.client.HTTPException):
                    chunk = b""
                if not chunk:
                    break
                self.wfile.write(chunk)
                sent += len(chunk)
            if resp.length not in (None, 0):
                # the registry went away mid-body: break the client's connection too
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)

        def do_GET(self):
            self.forward("GET")

        def do_HEAD(self):
            self.forward("HEAD")

    if redirect:
        redirect = serve(Proxy, None, "127.0.0.2", 0)
        threading.Thread(target=redirect.serve_forever, daemon=True).start()
    serve(Proxy, portfile).serve_forever()


def put(blobs, data):
    digest = hashlib.sha256(data).hexdigest()
    with open(os.path.join(blobs, digest), "wb") as f:
        f.write(data)
    return "sha256:" + digest


def multiarch_main(src, out):
    """An OCI layout at OUT whose index has SRC's image as linux/amd64 and
    again, with its config saying arm64, as linux/arm64."""
    shutil.copytree(src, out)
    blobs = os.path.join(out, "blobs", "sha256")
    index = json.load(open(os.path.join(out, "index.json")))
    desc = index["manifests"][0]
    manifest = json.load(open(os.path.join(blobs, desc["digest"][7:])))
    config = json.load(open(os.path.join(blobs, manifest["config"]["digest"][7:])))
    entries = []
    for arch in ("amd64", "arm64"):
        config["architecture"] = arch
        cdata = json.dumps(config).encode()
        manifest["config"] = {"mediaType": manifest["config"]["mediaType"],
                              "digest": put(blobs, cdata), "size": len(cdata)}
        mdata = json.dumps(manifest).encode()
        entries.append({"mediaType": desc["mediaType"], "digest": put(blobs, mdata),
                        "size": len(mdata), "platform": {"os": "linux", "architecture": arch}})
    child = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
             "manifests": entries}
    cdata = json.dumps(child).encode()
    index["manifests"] = [{"mediaType": "application/vnd.oci.image.index.v1+json",
                           "digest": put(blobs, cdata), "size": len(cdata),
                           "annotations": {"org.opencontainers.image.ref.name": "multi"}}]
    with open(os.path.join(out, "index.json"), "w") as f:
        json.dump(index, f)


def main(argv):
    if argv[1] == "multiarch":
        multiarch_main(argv[2], argv[3])
    elif argv[1] == "token":
        token_main(*argv[2:7])
    elif argv[1] == "proxy":
        target, portfile, log = int(argv[2]), argv[3], argv[4]
        rest = argv[5:]
        cut = redirect = redirect_to = None
        busy = 0
        while rest:
            if rest[0] == "--cut":
                cut = (int(rest[1]), rest[2], rest[3])
                rest = rest[4:]
            elif rest[0] == "--redirect":
                redirect = True
                rest = rest[1:]
            elif rest[0] == "--busy":
                busy = int(rest[1])
                rest = rest[2:]
            elif rest[0] == "--redirect-to":
                redirect_to = rest[1]
                rest = rest[2:]
            else:
                raise SystemExit("unknown option " + rest[0])
        proxy_main(target, portfile, log, cut, redirect, busy, redirect_to)
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
