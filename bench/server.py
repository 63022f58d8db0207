#!/usr/bin/env python3
"""A latency-injecting fake of EC2 DescribeVpcs and STS GetCallerIdentity on 127.0.0.1.

Requests are read as the SDKs send them (form-encoded POST, SigV4 Authorization header); the
region is taken from the credential scope (`Credential=AKID/20240101/eu-west-1/ec2/aws4_request`)
and every answer to that region is held back by that region's fixed delay. Responses are
pre-rendered bytes (see synth.py), so the server costs little next to what it measures.

    server.py --port 0 --delays spread17 --vpcs 50 --page-size 20     # fan-out scenario
    server.py --port 0 --vpcs 100000 --page-size 1000 --cache-dir out   # throughput scenario

It prints `PORT <n>` on stdout once it listens, answers GET /stats with per-region request
counts, and exits by itself after --max-seconds.
"""

import argparse
import json
import os
import re
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import synth  # noqa: E402

# The 17 regions enabled by default in every account, with a one-way-trip-ish delay spread
# from 20 ms to 250 ms (roughly what a client in Europe sees; the exact map does not matter,
# only that the slowest is known).
REGIONS_17 = [
    "us-east-1", "us-east-2", "us-west-1", "us-west-2", "ca-central-1", "sa-east-1",
    "eu-west-1", "eu-west-2", "eu-west-3", "eu-central-1", "eu-north-1",
    "ap-south-1", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3",
    "ap-southeast-1", "ap-southeast-2",
]
SPREAD17 = {
    "eu-west-1": 20, "eu-west-2": 25, "eu-west-3": 30, "eu-central-1": 35, "eu-north-1": 45,
    "us-east-1": 80, "us-east-2": 95, "ca-central-1": 100, "us-west-2": 140, "us-west-1": 150,
    "ap-south-1": 160, "sa-east-1": 190, "ap-northeast-1": 210, "ap-northeast-2": 220,
    "ap-northeast-3": 225, "ap-southeast-1": 235, "ap-southeast-2": 250,
}
assert sorted(SPREAD17) == sorted(REGIONS_17)

CRED_RE = re.compile(r"Credential=[^/,]+/\d{8}/([a-z0-9-]+)/([a-z0-9-]+)/aws4_request")


def parse_delays(spec: str) -> dict:
    if spec == "spread17":
        return dict(SPREAD17)
    if spec in ("", "none"):
        return {}
    out = {}
    for part in spec.split(","):
        k, v = part.split("=")
        out[k.strip()] = float(v)
    return out


class Dataset:
    """Every region's VPCs: `vpcs` per region, served `page_size` per page by default.

    Default-size pages are rendered once up front. A region gets its own id range (and
    name prefix) unless --same-data, in which case every region serves the same bytes (the
    large scenarios, which use one region)."""

    def __init__(self, vpcs, page_size, regions, same_data, cache_dir):
        self.vpcs = vpcs
        self.page_size = page_size
        self.same_data = same_data
        self.pages = {}
        keys = ["all"] if same_data else regions
        for key in keys:
            self.pages[key] = self._load(key, cache_dir)

    def _params(self, key):
        if key == "all":
            return "bench", 0
        idx = REGIONS_17.index(key) if key in REGIONS_17 else abs(hash(key)) % 1000
        return key, (idx + 1) << 40

    def _load(self, key, cache_dir):
        prefix, base = self._params(key)
        n = synth.page_count(self.vpcs, self.page_size)
        if cache_dir:
            d = os.path.join(cache_dir, "pages-%s-%d-%d" % (key, self.vpcs, self.page_size))
            if not os.path.exists(os.path.join(d, "complete")):
                render_to_dir(d, prefix, base, self.vpcs, self.page_size)
            out = []
            for i in range(n):
                with open(os.path.join(d, "page-%06d.xml" % i), "rb") as f:
                    out.append(f.read())
            return out
        return [synth.render_page(prefix, base, self.vpcs, i, self.page_size) for i in range(n)]

    def page(self, region, page, size):
        key = "all" if self.same_data else region
        if key not in self.pages:
            return None
        if size == self.page_size:
            pages = self.pages[key]
            return pages[page] if 0 <= page < len(pages) else None
        prefix, base = self._params(key)
        if page < 0 or page >= synth.page_count(self.vpcs, size):
            return None
        return synth.render_page(prefix, base, self.vpcs, page, size)


def _render_one(args):
    d, prefix, base, total, size, i = args
    with open(os.path.join(d, "page-%06d.xml" % i), "wb") as f:
        f.write(synth.render_page(prefix, base, total, i, size))


def render_to_dir(d, prefix, base, total, size):
    """Render a dataset's pages into `d` (both cores), then mark it complete."""
    import multiprocessing

    os.makedirs(d, exist_ok=True)
    n = synth.page_count(total, size)
    t = time.time()
    jobs = [(d, prefix, base, total, size, i) for i in range(n)]
    with multiprocessing.Pool(min(2, os.cpu_count() or 1)) as pool:
        pool.map(_render_one, jobs, chunksize=8)
    with open(os.path.join(d, "complete"), "w") as f:
        f.write("%d %d\n" % (total, size))
    print("rendered %d pages into %s in %.1fs" % (n, d, time.time() - t), file=sys.stderr)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "bench-ec2"
    sys_version = ""

    def log_message(self, *args):
        pass

    def setup(self):
        super().setup()
        # Headers and body go out in one write, and nothing waits for Nagle + delayed ACK.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def _send(self, status, body, ctype="text/xml;charset=UTF-8"):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("x-amzn-RequestId", "bench")
        self._headers_buffer.append(b"\r\n")
        head = b"".join(self._headers_buffer)
        self._headers_buffer = []
        if len(body) < 65536:
            self.wfile.write(head + body)
        else:
            self.wfile.write(head)
            self.wfile.write(body)

    def do_GET(self):
        st = self.server.state
        if self.path.startswith("/stats"):
            with st["lock"]:
                body = json.dumps(st["counts"], sort_keys=True).encode()
            self._send(200, body, "application/json")
        elif self.path.startswith("/reset"):
            with st["lock"]:
                st["counts"].clear()
            self._send(200, b"{}", "application/json")
        else:
            self._send(404, b"not found", "text/plain")

    def do_POST(self):
        started = time.monotonic()
        st = self.server.state
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        form = {k: v[0] for k, v in parse_qs(raw.decode(), keep_blank_values=True).items()}
        m = CRED_RE.search(self.headers.get("Authorization") or "")
        if not m:
            return self._send(403, synth.ec2_error("MissingAuthenticationToken", "no SigV4 credential scope"))
        region, service = m.group(1), m.group(2)
        action = form.get("Action", "")
        with st["lock"]:
            key = "%s %s %s" % (region, service, action)
            st["counts"][key] = st["counts"].get(key, 0) + 1
        delay = st["delays"].get(region, st["default_delay"]) / 1000.0

        if action == "GetCallerIdentity":
            status, body = 200, synth.caller_identity()
        elif action == "DescribeVpcs":
            status, body = self._describe_vpcs(region, form)
        else:
            status, body = 400, synth.ec2_error("InvalidAction", "The action %s is not valid for this web service." % action)

        left = delay - (time.monotonic() - started)
        if left > 0:
            time.sleep(left)
        self._send(status, body)

    def _describe_vpcs(self, region, form):
        ds = self.server.state["dataset"]
        size = ds.page_size
        if "MaxResults" in form:
            try:
                size = int(form["MaxResults"])
            except ValueError:
                size = -1
            if not 5 <= size <= 1000:
                return 400, synth.ec2_error("InvalidParameterValue", "Value ( %s ) for parameter maxResults is invalid. Expecting a value between 5 and 1000." % form["MaxResults"])
        page = 0
        if form.get("NextToken"):
            page = synth.parse_token(form["NextToken"])
            if page is None:
                return 400, synth.ec2_error("InvalidNextToken", "The token '%s' is invalid." % form["NextToken"])
        body = ds.page(region, page, size)
        if body is None:
            if page == 0:
                # A region without data: an empty set, as EC2 answers.
                return 200, synth.render_page("none", 0, 0, 0, size)
            return 400, synth.ec2_error("InvalidNextToken", "The token '%s' is invalid." % form["NextToken"])
        return 200, body


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128
    allow_reuse_address = True


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--delays", default="spread17", help="'spread17', 'none', or region=ms,...")
    ap.add_argument("--default-delay", type=float, default=0.0, help="ms for regions not in --delays")
    ap.add_argument("--vpcs", type=int, default=50, help="VPCs per region")
    ap.add_argument("--page-size", type=int, default=1000, help="VPCs per page when MaxResults is absent")
    ap.add_argument("--regions", default=",".join(REGIONS_17), help="regions that have data")
    ap.add_argument("--same-data", action="store_true", help="every region serves the same VPCs")
    ap.add_argument("--cache-dir", default=None, help="keep rendered pages here (large datasets)")
    ap.add_argument("--max-seconds", type=float, default=3600.0, help="exit by itself after this")
    args = ap.parse_args()

    regions = [r for r in args.regions.split(",") if r]
    t = time.time()
    dataset = Dataset(args.vpcs, args.page_size, regions, args.same_data, args.cache_dir)
    server = Server(("127.0.0.1", args.port), Handler)
    server.state = {
        "lock": threading.Lock(),
        "counts": {},
        "delays": parse_delays(args.delays),
        "default_delay": args.default_delay,
        "dataset": dataset,
    }
    print("PORT %d" % server.server_address[1], flush=True)
    print("ready in %.1fs" % (time.time() - t), file=sys.stderr, flush=True)
    timer = threading.Timer(args.max_seconds, server.shutdown)
    timer.daemon = True
    timer.start()
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
