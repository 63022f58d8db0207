#!/usr/bin/env python3
"""Measures what org_server.py sustains: raw keep-alive HTTP/1.1 clients (no SDK, no signing
cost) sending small signed-looking requests as fast as the server answers, over many
(account, region) scopes so that buckets spread out. Run it against a server started with
--no-throttle (and --delays none for raw rate, or the default spread for concurrency).

    org_load.py --url http://127.0.0.1:PORT --connections 64 --seconds 10 [--op vpcs|sts|iam]

Prints one JSON line: requests, seconds, rate, status counts, and latency percentiles.
Bounded in time (--seconds) and only ever talks to the URL given (127.0.0.1).
"""

import argparse
import asyncio
import json
import re
import time
import urllib.request
from urllib.parse import urlparse

REGIONS = ["us-east-1", "eu-west-1", "eu-west-2", "us-west-2", "ap-southeast-2", "ap-south-1"]


def assume(url, account):
    body = ("Action=AssumeRole&Version=2011-06-15&RoleArn=arn%%3Aaws%%3Aiam%%3A%%3A%s%%3Arole%%2FOrganizationAccountAccessRole"
            "&RoleSessionName=load" % account).encode()
    req = urllib.request.Request(url + "/", data=body, method="POST", headers={
        "Content-Type": "application/x-www-form-urlencoded; charset=utf-8",
        "Authorization": "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/sts/aws4_request, SignedHeaders=host, Signature=0"})
    text = urllib.request.urlopen(req, timeout=10).read().decode()
    akid = re.search(r"<AccessKeyId>(.*?)</AccessKeyId>", text).group(1)
    tok = re.search(r"<SessionToken>(.*?)</SessionToken>", text).group(1)
    return akid, tok


def build(host, akid, tok, region, op):
    if op == "sts":
        service, body = "sts", b"Action=GetCallerIdentity&Version=2011-06-15"
    elif op == "iam":
        service, body = "iam", b"Action=ListRoles&Version=2010-05-08"
    else:
        service, body = "ec2", b"Action=DescribeVpcs&Version=2016-11-15"
    return ("POST / HTTP/1.1\r\nHost: %s\r\nContent-Type: application/x-www-form-urlencoded; charset=utf-8\r\n"
            "X-Amz-Security-Token: %s\r\nAuthorization: AWS4-HMAC-SHA256 Credential=%s/20260101/%s/%s/aws4_request, "
            "SignedHeaders=host, Signature=0\r\nContent-Length: %d\r\n\r\n" % (host, tok, akid, region, service, len(body))).encode() + body


async def worker(host, port, reqs, deadline, out):
    r, w = await asyncio.open_connection(host, port)
    i = 0
    while time.monotonic() < deadline:
        t = time.monotonic()
        w.write(reqs[i % len(reqs)])
        i += 1
        head = await r.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        n = int(re.search(rb"Content-Length: (\d+)", head).group(1))
        await r.readexactly(n)
        out["lat"].append(time.monotonic() - t)
        out["status"][status] = out["status"].get(status, 0) + 1
    w.close()


async def main_async(args):
    u = urlparse(args.url)
    exp = json.load(urllib.request.urlopen(args.url + "/expected", timeout=30))
    accounts = [a for a in exp["active_members"] if exp["accounts"][a]["Kind"] == "small"][: args.accounts]
    creds = [assume(args.url, a) for a in accounts]
    host = "%s:%d" % (u.hostname, u.port)
    reqs = [build(host, k, t, r, args.op) for k, t in creds for r in REGIONS]
    urllib.request.urlopen(args.url + "/reset", timeout=10).read()
    out = {"lat": [], "status": {}}
    t0 = time.monotonic()
    deadline = t0 + args.seconds
    await asyncio.gather(*[worker(u.hostname, u.port, reqs[i:] + reqs[:i], deadline, out) for i in range(args.connections)])
    el = time.monotonic() - t0
    lat = sorted(out["lat"])
    pct = lambda q: round(lat[min(len(lat) - 1, int(q * len(lat)))] * 1e3, 2) if lat else None  # noqa: E731
    print(json.dumps({"op": args.op, "connections": args.connections, "requests": len(lat), "seconds": round(el, 2),
                      "rate": round(len(lat) / el, 1), "status": out["status"],
                      "latency_ms": {"p50": pct(0.5), "p90": pct(0.9), "p99": pct(0.99), "max": pct(1.0)}}))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--url", required=True)
    ap.add_argument("--connections", type=int, default=64)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--accounts", type=int, default=20)
    ap.add_argument("--op", choices=("vpcs", "sts", "iam"), default="vpcs")
    args = ap.parse_args()
    if urlparse(args.url).hostname not in ("127.0.0.1", "localhost"):
        raise SystemExit("org_load.py only talks to 127.0.0.1")
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
