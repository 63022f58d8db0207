#!/usr/bin/env python3
"""The `serve` scenario: ten boto3 audit scripts at once, each listing the same five resource
types (VPCs, subnets, security groups and DB snapshots in 17 regions; IAM roles, a global
type, once) — straight against the latency server (org_server.py: per-region delays from 20
to 250 ms and the services' own token buckets) and through one `mrhost serve` in front of
it, cold (empty response cache) and then warm (a second round of the same ten scripts).

For each: the wall time of the round (all ten scripts started together, until the last
one ends), the HTTP requests the server answered and how many it throttled (its /stats),
and whether every script listed exactly what the server holds (its /expected).

    bench/serve_bench.py --mrhost target/release/mrhost [--scripts 10] [--runs 3]

Standalone or as `bench/run.sh --only serve` (which passes bench.py's arguments through).
Results: bench/out/serve.json and a Markdown table on stdout.
"""

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from server import REGIONS_17  # noqa: E402
from org_server import Process  # noqa: E402

# One audit script: what a person would write with boto3 (paginators, one region after
# another). It prints the item count per (type, region) as JSON.
SCRIPT = r'''
import json, sys, boto3, botocore.config
regions = sys.argv[1].split(",")
cfg = botocore.config.Config(retries={"mode": "standard", "max_attempts": 10})
s = boto3.session.Session()
out = {}
def count(client, op, key, region, kind):
    n = 0
    for page in client.get_paginator(op).paginate():
        n += len(page.get(key, []))
    out["%s %s" % (kind, region)] = n
for r in regions:
    ec2 = s.client("ec2", region_name=r, config=cfg)
    count(ec2, "describe_vpcs", "Vpcs", r, "vpcs")
    count(ec2, "describe_subnets", "Subnets", r, "subnets")
    count(ec2, "describe_security_groups", "SecurityGroups", r, "security_groups")
    count(s.client("rds", region_name=r, config=cfg), "describe_db_snapshots", "DBSnapshots", r, "db_snapshots")
count(s.client("iam", region_name="us-east-1", config=cfg), "list_roles", "Roles", "global", "roles")
json.dump(out, sys.stdout)
'''


def log(*a):
    print(*a, file=sys.stderr, flush=True)


class Serve:
    """`mrhost serve` in front of `upstream`, with its own cache and state directories."""

    def __init__(self, mrhost, upstream, env, workdir):
        self.dir = tempfile.mkdtemp(prefix="serve-", dir=workdir)
        senv = dict(env)
        senv.update({"MRHOST_CACHE_DIR": os.path.join(self.dir, "cache"),
                     "XDG_STATE_HOME": os.path.join(self.dir, "state")})
        senv.pop("MRHOST_NO_CACHE", None)
        self.stderr = open(os.path.join(self.dir, "stderr.log"), "w+")
        self.p = subprocess.Popen([mrhost, "serve", "--endpoint-url", upstream, "--regions", "us-east-1"],
                                  stdout=subprocess.PIPE, stderr=self.stderr, env=senv)
        self.env = {}
        deadline = time.time() + 120
        while time.time() < deadline:
            line = self.p.stdout.readline().decode()
            if not line:
                break
            if line.startswith("export "):
                self.env = dict(kv.split("=", 1) for kv in line[len("export "):].split())
                break
        if not self.env:
            self.stop()
            raise SystemExit("mrhost serve printed no export line; see %s" % self.stderr.name)

    def stop(self):
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGINT)
            try:
                self.p.wait(60)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
        self.stderr.seek(0)
        return self.stderr.read()


def round_of(python, n, env):
    """Start n scripts together; (wall seconds, [outputs]) once the last has ended."""
    t = time.monotonic()
    procs = [subprocess.Popen([python, "-c", SCRIPT, ",".join(REGIONS_17)], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(n)]
    outs = []
    for p in procs:
        out, err = p.communicate()
        if p.returncode != 0:
            raise SystemExit("a script failed: %s" % err.decode()[-2000:])
        outs.append(json.loads(out))
    return time.monotonic() - t, outs


def expected_counts(org):
    """What each script must list, from the server's /expected, as the script keys it."""
    exp = org.get("/expected")
    mgmt = exp.get("management")
    out = {}
    for kind in ("vpcs", "subnets", "security_groups", "db_snapshots"):
        for r in REGIONS_17:
            out["%s %s" % (kind, r)] = 0
    out["roles global"] = 0
    for kind, by_region in exp["counts"].get(mgmt, {}).items():
        for region, n in by_region.items():
            out["%s %s" % (kind, region)] = n
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mrhost", required=True)
    ap.add_argument("--python", default=sys.executable, help="a Python with boto3")
    ap.add_argument("--scripts", type=int, default=10)
    ap.add_argument("--runs", type=int, default=3, help="rounds of each kind (median reported)")
    ap.add_argument("--out", default=os.path.join(HERE, "out"))
    args, _ = ap.parse_known_args()
    os.makedirs(args.out, exist_ok=True)

    base = {k: v for k, v in os.environ.items() if not k.startswith("AWS_") and not k.startswith("MRHOST_")}
    base.update({"AWS_EC2_METADATA_DISABLED": "true", "AWS_CONFIG_FILE": os.devnull,
                 "AWS_SHARED_CREDENTIALS_FILE": os.devnull, "AWS_DEFAULT_REGION": "us-east-1"})
    # org_server.py with one account (the management account the base key belongs to).
    org = Process(["--accounts", "1", "--prerender"], python=args.python, max_seconds=7200,
                  stderr=subprocess.DEVNULL)
    try:
        want = expected_counts(org)
        results = {"scripts": args.scripts, "runs": args.runs, "regions": len(REGIONS_17),
                   "listings_per_script": len(want), "direct": [], "cold": [], "warm": []}

        def check(outs, what):
            for o in outs:
                if o != want:
                    bad = {k: (o.get(k), v) for k, v in want.items() if o.get(k) != v}
                    raise SystemExit("%s: a script listed the wrong counts: %s" % (what, dict(list(bad.items())[:5])))

        direct_env = dict(base, AWS_ENDPOINT_URL=org.url, AWS_ACCESS_KEY_ID="testing",
                          AWS_SECRET_ACCESS_KEY="testing")
        # Each run: the direct round, then a fresh server's cold and warm rounds, one after
        # the other, so the machine's load drifts over all three alike.
        for i in range(args.runs):
            org.reset()
            wall, outs = round_of(args.python, args.scripts, direct_env)
            check(outs, "direct")
            st = org.get("/stats")
            results["direct"].append({"wall_s": wall, "requests": st["requests"], "throttled": st["throttled"]})
            log("run %d direct: %.2fs, %d requests (%d throttled)" % (i + 1, wall, st["requests"], st["throttled"]))
            srv = Serve(args.mrhost, org.url, dict(base, AWS_ACCESS_KEY_ID="testing",
                                                   AWS_SECRET_ACCESS_KEY="testing"), args.out)
            try:
                client_env = dict(base, **srv.env)
                for kind in ("cold", "warm"):
                    org.reset()
                    wall, outs = round_of(args.python, args.scripts, client_env)
                    check(outs, kind)
                    st = org.get("/stats")
                    results[kind].append({"wall_s": wall, "requests": st["requests"], "throttled": st["throttled"]})
                    log("run %d serve %s: %.2fs, %d requests (%d throttled)" % (i + 1, kind, wall, st["requests"], st["throttled"]))
            finally:
                summary = srv.stop().strip().splitlines()
                results.setdefault("serve_summaries", []).append(summary[-1] if summary else "")
                shutil.rmtree(srv.dir, ignore_errors=True)
    finally:
        org.stop()

    def med(kind, key):
        return statistics.median(r[key] for r in results[kind])

    lines = [
        "| %d scripts × %d listings | wall (median of %d) | upstream requests | throttled |" % (
            args.scripts, results["listings_per_script"], args.runs),
        "|---|---|---|---|",
    ]
    for kind, label in (("direct", "boto3 → latency server"), ("cold", "boto3 → mrhost serve, cold"),
                        ("warm", "boto3 → mrhost serve, warm")):
        lines.append("| %s | %.2f s | %d | %d |" % (label, med(kind, "wall_s"), med(kind, "requests"),
                                                    med(kind, "throttled")))
    results["table"] = lines
    with open(os.path.join(args.out, "serve.json"), "w") as f:
        json.dump(results, f, indent=1)
    print("\n".join(lines))
    for s in results.get("serve_summaries", []):
        print("  " + s)


if __name__ == "__main__":
    main()
