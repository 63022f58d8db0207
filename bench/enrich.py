#!/usr/bin/env python3
"""The enrichment scenario: list + one describe per item, sequential (contract 0.1) against
concurrent (0.2's call-many), behind a latency server.

One region holds `--keys` KMS keys (500). Every request — STS GetCallerIdentity, each KMS
ListKeys page (100 keys, the server's default page) and each DescribeKey — is held back by
`--delay` ms (50). A plugin lists the keys, then describes each one:

- enrich-v1 (tests/plugins/enrich-v1, built for 0.1): one DescribeKey after the other,
  all 0.1 allows: about pages x delay + keys x delay (25 s at 500 x 50 ms).
- enrich-v2 (tests/plugins/enrich-v2, 0.2 with the SDK's `enrich`): the describes run at
  once, at most --call-concurrency at a time.

The ideal of a concurrent run is the list chain plus ceil(keys / concurrency) round trips:
pages x delay + ceil(keys / c) x delay; the goal is a wall time within 1.2 x that. The
figures are whole-process wall times, so they also hold the process start, the plugin
load (from the compile cache: a warm-up run fills it) and the STS round trip.

    bench/enrich.py --mrhost target/release/mrhost \\
        --v1 tests/plugins/enrich-v1.wasm --v2 tests/plugins/enrich-v2.wasm

`enrichment(...)` runs the scenario from other scripts (bench/bench.py) and returns the
figures as a dict; `report(...)` renders them as a Markdown table.
"""

import argparse
import json
import math
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import synth  # noqa: E402

ACCOUNT = synth.ACCOUNT
PAGE = 100  # keys per ListKeys page when the request sets no Limit (as KMS's default)
CRED_RE = re.compile(r"Credential=[^/,]+/\d{8}/([a-z0-9-]+)/([a-z0-9-]+)/aws4_request")


def key_id(i):
    return "%08x-0000-4000-8000-%012x" % (i, i)


def key_arn(region, i):
    return "arn:aws:kms:%s:%s:key/%s" % (region, ACCOUNT, key_id(i))


def key_metadata(region, i):
    """DescribeKey's KeyMetadata of key i, as KMS answers for a customer-managed key."""
    return {
        "AWSAccountId": ACCOUNT,
        "KeyId": key_id(i),
        "Arn": key_arn(region, i),
        "CreationDate": 1700000000 + i,
        "Enabled": True,
        "Description": "bench key %d" % i,
        "KeyUsage": "ENCRYPT_DECRYPT",
        "KeyState": "Enabled",
        "Origin": "AWS_KMS",
        "KeyManager": "CUSTOMER",
        "CustomerMasterKeySpec": "SYMMETRIC_DEFAULT",
        "KeySpec": "SYMMETRIC_DEFAULT",
        "EncryptionAlgorithms": ["SYMMETRIC_DEFAULT"],
        "MultiRegion": False,
    }


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "bench-kms"
    sys_version = ""

    def log_message(self, *args):
        pass

    def setup(self):
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def _send(self, status, body, ctype):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("x-amzn-RequestId", "bench")
        self.end_headers()
        self.wfile.write(body)

    def _json_error(self, status, code, message):
        body = json.dumps({"__type": code, "message": message}).encode()
        return status, body, "application/x-amz-json-1.1"

    def do_POST(self):
        started = time.monotonic()
        st = self.server.state
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        m = CRED_RE.search(self.headers.get("Authorization") or "")
        region = m.group(1) if m else ""
        target = self.headers.get("X-Amz-Target") or ""
        if target.startswith("TrentService."):
            action = target.split(".", 1)[1]
            try:
                req = json.loads(raw or b"{}")
            except ValueError:
                req = {}
            status, body, ctype = self._kms(action, region, req)
        else:
            form = {k: v[0] for k, v in parse_qs(raw.decode(), keep_blank_values=True).items()}
            action = form.get("Action", "")
            if action == "GetCallerIdentity":
                status, body, ctype = 200, synth.caller_identity(), "text/xml"
            else:
                status, body, ctype = 400, synth.ec2_error("InvalidAction", action), "text/xml"
        with st["lock"]:
            st["counts"][action] = st["counts"].get(action, 0) + 1
            st["in_flight"] += 1
            st["max_in_flight"] = max(st["max_in_flight"], st["in_flight"])
        left = st["delay"] - (time.monotonic() - started)
        if left > 0:
            time.sleep(left)
        with st["lock"]:
            st["in_flight"] -= 1
        self._send(status, body, ctype)

    def _kms(self, action, region, req):
        keys = self.server.state["keys"]
        if action == "ListKeys":
            limit = int(req.get("Limit") or PAGE)
            start = int(req.get("Marker") or 0)
            end = min(start + limit, keys)
            out = {"Keys": [{"KeyId": key_id(i), "KeyArn": key_arn(region, i)} for i in range(start, end)],
                   "Truncated": end < keys}
            if end < keys:
                out["NextMarker"] = str(end)
            return 200, json.dumps(out).encode(), "application/x-amz-json-1.1"
        if action == "DescribeKey":
            kid = str(req.get("KeyId", "")).rsplit("/", 1)[-1]
            try:
                i = int(kid.split("-", 1)[0], 16)
            except ValueError:
                i = -1
            if not 0 <= i < keys or key_id(i) != kid:
                return self._json_error(400, "NotFoundException", "Key '%s' does not exist" % kid)
            body = json.dumps({"KeyMetadata": key_metadata(region, i)}).encode()
            return 200, body, "application/x-amz-json-1.1"
        return self._json_error(400, "UnknownOperationException", action)


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256
    allow_reuse_address = True


def start_server(keys, delay_ms):
    """The latency server on a free loopback port, serving from a thread; (server, url)."""
    server = Server(("127.0.0.1", 0), Handler)
    server.state = {"lock": threading.Lock(), "counts": {}, "keys": keys,
                    "delay": delay_ms / 1000.0, "in_flight": 0, "max_in_flight": 0}
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True).start()
    return server, "http://127.0.0.1:%d" % server.server_address[1]


def ideal(keys, delay_ms, concurrency):
    """The list chain plus ceil(keys / concurrency) round trips, in seconds."""
    pages = math.ceil(keys / PAGE)
    return (pages + math.ceil(keys / concurrency)) * delay_ms / 1000.0


def run_once(mrhost, plugin, url, region, concurrency, cache_dir):
    env = dict(os.environ)
    env.update({
        "AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "AWS_REGION": region,
        "AWS_EC2_METADATA_DISABLED": "true", "MRHOST_NO_CACHE": "1", "MRHOST_CACHE_DIR": cache_dir,
    })
    for k in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "MRHOST_REGIONS"):
        env.pop(k, None)
    cmd = [mrhost, "run", plugin, "--regions", region, "--endpoint-url", url, "-o", "ndjson",
           "--call-concurrency", str(concurrency), "-q"]
    t = time.monotonic()
    p = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=600)
    wall = time.monotonic() - t
    if p.returncode != 0:
        raise RuntimeError("%s failed (%d): %s" % (" ".join(cmd), p.returncode, p.stderr.decode()[-2000:]))
    items = [json.loads(line) for line in p.stdout.splitlines() if line.strip()]
    return wall, items


def enrichment(mrhost, plugins, keys=500, delay_ms=50, concurrency=(16,), runs=3,
               region="us-east-1", log=None):
    """Run the scenario. `plugins`: [(label, path, contract)] with contract "0.1" (run once,
    sequential whatever the bound) or "0.2" (run at each concurrency). Returns a dict of
    rows: plugin, contract, concurrency, runs' wall times, median, ideal, ratio."""
    log = log or (lambda *a: print(*a, file=sys.stderr))
    server, url = start_server(keys, delay_ms)
    rows = []
    try:
        with tempfile.TemporaryDirectory(prefix="mrhost-enrich-") as cache_dir:
            os.chmod(cache_dir, 0o700)
            for label, path, contract in plugins:
                bounds = list(concurrency) if contract == "0.2" else [max(concurrency)]
                for c in bounds:
                    # Warm-up: compiles the plugin into the cache, checks the output.
                    _, items = run_once(mrhost, path, url, region, c, cache_dir)
                    ids = {i.get("KeyId") for i in items}
                    if len(items) != keys or len(ids) != keys:
                        raise RuntimeError("%s emitted %d items (%d ids), want %d" % (label, len(items), len(ids), keys))
                    walls = []
                    for _ in range(runs):
                        with server.state["lock"]:
                            server.state["max_in_flight"] = 0
                        w, _ = run_once(mrhost, path, url, region, c, cache_dir)
                        walls.append(w)
                    med = statistics.median(walls)
                    ide = ideal(keys, delay_ms, c if contract == "0.2" else 1)
                    row = {"plugin": label, "contract": contract, "concurrency": c if contract == "0.2" else 1,
                           "walls": [round(w, 3) for w in walls], "median_s": round(med, 3),
                           "ideal_s": round(ide, 3), "ratio": round(med / ide, 3),
                           "max_in_flight": server.state["max_in_flight"]}
                    rows.append(row)
                    log("%-10s %s c=%-3d median %.2fs ideal %.2fs ratio %.2f (max in flight %d)" % (
                        label, contract, row["concurrency"], med, ide, med / ide, row["max_in_flight"]))
    finally:
        server.shutdown()
    return {"keys": keys, "delay_ms": delay_ms, "page": PAGE, "runs": runs, "rows": rows}


def report(result):
    """The figures as a Markdown table."""
    out = ["Enrichment: %d KMS keys, %d per ListKeys page, %d ms per request, one region; "
           "median of %d runs, whole-process wall." % (result["keys"], result["page"], result["delay_ms"], result["runs"]),
           "",
           "| plugin | contract | calls at once | wall (median) | ideal | wall / ideal | goal |",
           "|---|---|---|---|---|---|---|"]
    for r in result["rows"]:
        goal = "≤ 1.2 × ideal: %s" % ("met" if r["ratio"] <= 1.2 else "missed") if r["contract"] == "0.2" else "-"
        out.append("| %s | %s | %d | %.2f s | %.2f s | %.2f | %s |" % (
            r["plugin"], r["contract"], r["concurrency"], r["median_s"], r["ideal_s"], r["ratio"], goal))
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mrhost", required=True)
    ap.add_argument("--v1", required=True, help="the 0.1 (sequential) plugin, enrich-v1.wasm")
    ap.add_argument("--v2", required=True, help="the 0.2 (concurrent) plugin, enrich-v2.wasm")
    ap.add_argument("--keys", type=int, default=500)
    ap.add_argument("--delay", type=float, default=50.0, help="ms per request")
    ap.add_argument("--concurrency", default="16,32", help="--call-concurrency values for 0.2")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--json", default=None, help="write the figures here too")
    a = ap.parse_args()
    result = enrichment(
        a.mrhost,
        [("enrich-v1", a.v1, "0.1"), ("enrich-v2", a.v2, "0.2")],
        keys=a.keys, delay_ms=a.delay, runs=a.runs,
        concurrency=[int(c) for c in a.concurrency.split(",") if c],
    )
    if a.json:
        with open(a.json, "w") as f:
            json.dump(result, f, indent=2)
    print(report(result))


if __name__ == "__main__":
    main()
