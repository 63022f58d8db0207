#!/usr/bin/env python3
"""A latency-injecting HTTP proxy in front of moto, for the inventory benchmark.

Every request is forwarded to moto; its answer is held back by the delay of the region the
request was signed for (SigV4 credential scope), as bench/server.py does for DescribeVpcs,
so every bundled plugin's operations see a WAN-like round trip per region. Global services
(IAM, S3, STS, Organizations) are signed for us-east-1 and get its delay.

    latency_proxy.py --upstream 127.0.0.1:5000 --delays spread17

Prints `PORT <n>` once it listens; exits by itself after --max-seconds.
"""

import argparse
import os
import re
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from server import parse_delays  # noqa: E402

CRED_RE = re.compile(r"Credential=[^/,]+/\d{8}/([a-z0-9-]+)/")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def _forward(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        m = CRED_RE.search(self.headers.get("Authorization", ""))
        region = m.group(1) if m else "us-east-1"
        delay = self.server.delays.get(region, self.server.default_delay) / 1000.0
        started = time.monotonic()
        up = socket.create_connection(self.server.upstream)
        try:
            head = [f"{self.command} {self.path} HTTP/1.1"]
            for k, v in self.headers.items():
                if k.lower() not in ("connection", "keep-alive"):
                    head.append(f"{k}: {v}")
            head.append("Connection: close")
            up.sendall(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body)
            chunks = []
            while True:
                b = up.recv(1 << 16)
                if not b:
                    break
                chunks.append(b)
        finally:
            up.close()
        resp = b"".join(chunks)
        head, _, payload = resp.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = lines[0].split(" ", 2)
        headers = [l.split(":", 1) for l in lines[1:] if ":" in l]
        if any(k.strip().lower() == "transfer-encoding" and "chunked" in v.lower() for k, v in headers):
            payload = dechunk(payload)
        rest = delay - (time.monotonic() - started)
        if rest > 0:
            time.sleep(rest)
        self.send_response_only(int(status[1]), status[2] if len(status) > 2 else "")
        for k, v in headers:
            if k.strip().lower() in ("content-length", "transfer-encoding", "connection", "server", "date"):
                continue
            self.send_header(k.strip(), v.strip())
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def dispatch(self):
        try:
            self._forward()
        except OSError:
            self.close_connection = True

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = dispatch


def dechunk(data: bytes) -> bytes:
    out = []
    while data:
        size_line, _, data = data.partition(b"\r\n")
        size = int(size_line.split(b";")[0] or b"0", 16)
        if size == 0:
            break
        out.append(data[:size])
        data = data[size + 2:]
    return b"".join(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--upstream", required=True, help="host:port of moto")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--delays", default="spread17")
    ap.add_argument("--default-delay", type=float, default=80.0)
    ap.add_argument("--max-seconds", type=float, default=3600.0)
    args = ap.parse_args()
    host, port = args.upstream.rsplit(":", 1)
    srv = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    srv.daemon_threads = True
    srv.upstream = (host, int(port))
    srv.delays = parse_delays(args.delays)
    srv.default_delay = args.default_delay
    print("PORT %d" % srv.server_address[1], flush=True)
    threading.Timer(args.max_seconds, lambda: os._exit(0)).start()
    srv.serve_forever()


if __name__ == "__main__":
    main()
