#!/usr/bin/env python3
"""A bound, not a peer: the whole organisation scan done as fast as the server lets it, with raw
keep-alive HTTP on asyncio (no SDK, no signing, items counted by their id tag rather than
parsed). ListAccounts, then every AssumeRole at once, then every (account, region, type) scope
paginated at once over --connections connections, each throttle retried with full-jitter
exponential backoff (no attempt limit short of 30). Its wall time is about what the latency
chains and the buckets allow; mrhost cannot do much better, and this also shows the server
keeps up with a client that asks that fast.

    org_ideal.py --url http://127.0.0.1:PORT [--connections 256]

Prints a JSON line: wall, requests, throttled answers retried, and the comparison with /expected.
"""

import argparse
import asyncio
import json
import os
import random
import re
import sys
import time
import urllib.request
from urllib.parse import quote, urlparse

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from org_server import TYPES, compare  # noqa: E402

ITEM_TAG = {"vpcs": b"<cidrBlockAssociationSet>", "subnets": b"<subnetId>", "security_groups": b"<groupId>",
            "db_snapshots": b"<DBSnapshotIdentifier>", "roles": b"<RoleName>"}
TOKEN_RE = {"ec2": re.compile(rb"<nextToken>([^<]+)</nextToken>"), "rds": re.compile(rb"<Marker>([^<]+)</Marker>"),
            "iam": re.compile(rb"<Marker>([^<]+)</Marker>")}
VERSION = {"ec2": "2016-11-15", "rds": "2014-10-31", "iam": "2010-05-08", "sts": "2011-06-15"}
THROTTLES = (b"RequestLimitExceeded", b"<Code>Throttling</Code>", b"TooManyRequestsException")


class Client:
    def __init__(self, host, port, n):
        self.host, self.port = host, port
        self.pool = asyncio.Queue()
        self.n = n
        self.requests = 0
        self.throttled = 0

    async def start(self):
        for _ in range(self.n):
            self.pool.put_nowait(await asyncio.open_connection(self.host, self.port))

    async def call(self, service, region, akid, token, body, target=None):
        head = ["POST / HTTP/1.1", "Host: %s:%d" % (self.host, self.port),
                "Authorization: AWS4-HMAC-SHA256 Credential=%s/20260101/%s/%s/aws4_request, SignedHeaders=host, Signature=0"
                % (akid, region, service), "Content-Length: %d" % len(body)]
        if token:
            head.append("X-Amz-Security-Token: " + token)
        if target:
            head += ["X-Amz-Target: " + target, "Content-Type: application/x-amz-json-1.1"]
        else:
            head.append("Content-Type: application/x-www-form-urlencoded; charset=utf-8")
        req = ("\r\n".join(head) + "\r\n\r\n").encode() + body
        for attempt in range(30):
            r, w = await self.pool.get()
            try:
                w.write(req)
                h = await r.readuntil(b"\r\n\r\n")
                n = int(re.search(rb"Content-Length: (\d+)", h).group(1))
                data = await r.readexactly(n)
            finally:
                self.pool.put_nowait((r, w))
            self.requests += 1
            status = int(h[9:12])
            if status != 200 and any(t in data[:400] for t in THROTTLES):
                self.throttled += 1
                await asyncio.sleep(random.uniform(0, min(5.0, 0.1 * 2 ** attempt)))
                continue
            return status, data
        raise RuntimeError("still throttled after 30 attempts")


async def scan(args):
    u = urlparse(args.url)
    exp = json.load(urllib.request.urlopen(args.url + "/expected", timeout=120))
    c = Client(u.hostname, u.port, args.connections)
    await c.start()
    t0 = time.perf_counter()
    accounts, token = [], None
    while True:
        body = json.dumps({"NextToken": token} if token else {}).encode()
        _, data = await c.call("organizations", "us-east-1", "testing", None, body, "AWSOrganizationsV20161128.ListAccounts")
        d = json.loads(data)
        accounts += d["Accounts"]
        token = d.get("NextToken")
        if not token:
            break
    members = [a["Id"] for a in accounts if a["Status"] == "ACTIVE" and a["Id"] != exp["management"]]

    async def assume(acct):
        body = ("Action=AssumeRole&Version=2011-06-15&RoleSessionName=ideal&RoleArn=" +
                quote("arn:aws:iam::%s:role/OrganizationAccountAccessRole" % acct, safe="")).encode()
        status, data = await c.call("sts", "us-east-1", "testing", None, body)
        if status != 200:
            return acct, None
        return acct, (re.search(rb"<AccessKeyId>(.*?)</AccessKeyId>", data).group(1).decode(),
                      re.search(rb"<SessionToken>(.*?)</SessionToken>", data).group(1).decode())

    creds = dict(await asyncio.gather(*[assume(a) for a in members]))
    t_assumed = time.perf_counter() - t0
    items, failures = {}, []

    async def scope(acct, t, region):
        service, op, glob = TYPES[t]
        akid, tok = creds[acct]
        n, marker = 0, None
        while True:
            params = "Action=%s&Version=%s" % (op, VERSION[service])
            if marker:
                params += "&%s=%s" % ("NextToken" if service == "ec2" else "Marker", quote(marker, safe=""))
            status, data = await c.call(service, region, akid, tok, params.encode())
            if status != 200:
                failures.append({"account": acct, "type": t, "region": region, "code": status})
                return
            n += data.count(ITEM_TAG[t])
            m = TOKEN_RE[service].search(data)
            if not m:
                break
            marker = m.group(1).decode()
        items.setdefault(acct, {}).setdefault(t, {})["global" if glob else region] = n

    jobs = [scope(a, t, r) for a in members if creds.get(a) for t, (s, op, g) in TYPES.items()
            for r in (["us-east-1"] if g else exp["regions"])]
    await asyncio.gather(*jobs)
    wall = time.perf_counter() - t0
    summary = {"peer": "ideal", "accounts": members, "items": items, "failures": failures, "regions": exp["regions"],
               "limit": None, "wall_s": wall, "items_total": sum(n for a in items.values() for t in a.values() for n in t.values()),
               "retry_attempts": c.throttled, "duplicates": 0}
    if args.summary:  # the peers' summary shape (peers/org_calls.py), for org_bench.py
        print(json.dumps(summary))
        return
    res = compare(exp, summary)
    print(json.dumps({"wall_s": round(wall, 2), "assume_all_s": round(t_assumed, 2), "requests": c.requests,
                      "throttled_retried": c.throttled, "scopes": len(jobs), "lost_items": res["lost_items"],
                      "extra_items": res["extra_items"], "expected_items": res["expected_items"], "complete": res["complete"]}))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--url", required=True)
    ap.add_argument("--connections", type=int, default=256)
    ap.add_argument("--summary", action="store_true", help="print the peers' JSON summary instead")
    args = ap.parse_args()
    if urlparse(args.url).hostname not in ("127.0.0.1", "localhost"):
        raise SystemExit("org_ideal.py only talks to 127.0.0.1")
    asyncio.run(scan(args))


if __name__ == "__main__":
    main()
