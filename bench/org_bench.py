"""The `org` scenario of bench.py: an AWS Organisation on 127.0.0.1 (org_server.py) scanned by
the peers (peers/botocove_org.py, peers/multiregion_org.py) and, once it exists, by
`mrhost sync`. For each: wall time, CPU, peak RSS (wait4, as the other scenarios), what it lost
against /expected (items, failed scopes) and what the server throttled.

Opt-in (it is long): `bench.py ... --only org [--org-accounts 1000] [--org-limit 50]`.
--org-limit K runs each peer over the first K ACTIVE member accounts only and also reports the
wall time scaled to every member (linear: the peers handle accounts one after another or in a
fixed-size pool, so their time grows with the account count; the big accounts make a subset
lighter or heavier than average, so it is an estimate, said so in the report).
"""

import json
import os
import re
import shlex
import subprocess
import sys
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from org_server import compare  # noqa: E402
from server import REGIONS_17  # noqa: E402

PEERS = {
    "ideal": os.path.join(HERE, "org_ideal.py"),  # a bound (raw asyncio HTTP), not a peer
    "botocove": os.path.join(HERE, "peers", "botocove_org.py"),
    "multiregion": os.path.join(HERE, "peers", "multiregion_org.py"),
}


class OrgServer:
    def __init__(self, accounts, extra=()):
        cmd = [sys.executable, os.path.join(HERE, "org_server.py"), "--port", "0", "--max-seconds", "21600",
               "--accounts", str(accounts), "--prerender", *extra]
        self.p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=sys.stderr, cwd=HERE)
        line = self.p.stdout.readline().decode()
        m = re.match(r"PORT (\d+)", line)
        if not m:
            self.stop()
            raise SystemExit("org_server did not start: %r" % line)
        self.url = "http://127.0.0.1:%s" % m.group(1)

    def get(self, path):
        with urllib.request.urlopen(self.url + path, timeout=120) as r:
            return json.load(r)

    def reset(self):
        urllib.request.urlopen(urllib.request.Request(self.url + "/reset", data=b"", method="POST"), timeout=10).read()

    def stop(self):
        if self.p.poll() is None:
            self.p.terminate()
            try:
                self.p.wait(5)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()


# ---------------------------------------------------------------- mrhost (to be filled in)


def count_mrhost_store(path):
    """PLACEHOLDER for the main developer: read what `mrhost sync` stored at `path` and return
    {"accounts": [account ids it scanned], "items": {account: {type: {region: n}}}} with the
    types of org_server.TYPES ("vpcs", "subnets", "security_groups", "db_snapshots", "roles";
    region "global" for roles), counting distinct resources per completed scope and leaving out
    scopes that failed. `mrhost sync` does not exist yet, so there is nothing to read."""
    raise NotImplementedError("count_mrhost_store: fill in once `mrhost sync` exists")


def mrhost_sync_available(mrhost, run):
    if not mrhost or not os.path.exists(mrhost):
        return False
    r = run([mrhost, "sync", "--help"], check=False, timeout=60)
    return r.rc == 0


def run_mrhost_sync(cmd, count_fn, srv, exp, run, env, out_path, timeout):
    """One timed `mrhost sync` run against the org server. `cmd` is the full command line
    (already formatted); `count_fn(out_path)` returns what mrhost stored, in the peers' summary
    shape (see count_mrhost_store). Returns the same figures as a peer run."""
    srv.reset()
    with open(out_path + ".stdout", "wb") as f:
        r = run(cmd, stdout=f, env=env, check=False, timeout=timeout)
    st = srv.get("/stats?summary=1")
    summary = count_fn(out_path)
    summary.setdefault("regions", exp["regions"])
    summary.setdefault("limit", None)
    summary.setdefault("failures", [])
    return figures(r, summary, compare(exp, summary), st)


# ---------------------------------------------------------------- the scenario


def slowest_chain(exp, server_args):
    """The least any tool can take with default page sizes and the default delays: ListAccounts'
    pages (20 a page, us-east-1) + one AssumeRole (us-east-1) + the longest scope's pages x its
    region's delay. None when the server runs with other delays."""
    if any(a.startswith(("--delays", "--latency-scale", "--ec2-default-page")) for a in server_args):
        return None
    from server import SPREAD17
    size = {"ec2": 1000, "rds": 100, "iam": 100}
    us = SPREAD17["us-east-1"] / 1000.0
    worst = 0.0
    for acct in exp["active_members"]:
        for t, regions in exp["counts"].get(acct, {}).items():
            svc = exp["types"][t]["service"]
            for region, n in regions.items():
                d = SPREAD17["us-east-1" if region == "global" else region] / 1000.0
                worst = max(worst, -(-n // size[svc]) * d)
    return -(-len(exp["accounts"]) // 20) * us + us + worst



def figures(r, summary, c, st):
    return {
        "rc": r.rc, "wall_s": r.wall, "cpu_s": r.cpu, "maxrss_mib": r.maxrss_kib / 1024,
        "accounts": len(summary.get("accounts", [])), "items": summary.get("items_total"),
        "expected_items": c["expected_items"], "lost_items": c["lost_items"], "extra_items": c["extra_items"],
        "scopes_expected": c["scopes_expected"], "scopes_missing": c["scopes_missing"], "scopes_short": c["scopes_short"],
        "scopes_lost_with_items": c["scopes_lost_with_items"], "accounts_missed": len(c["accounts_missed"]),
        "failure_codes": c["failure_codes"], "retry_attempts": summary.get("retry_attempts"),
        "server_requests": st["requests"], "server_throttled": st["throttled"],
        "server_throttled_by_operation": {k: v["throttled"] for k, v in st["by_operation"].items() if v["throttled"]},
        "server_errors": st["errors"], "server_max_inflight": st["max_inflight"], "complete": c["complete"],
    }


def org(b, args, run, stats, log, env, out):
    extra = list(args.org_server_arg or [])
    srv = OrgServer(args.org_accounts, extra)
    b.servers.append(srv)
    exp = srv.get("/expected")
    members = len(exp["active_members"])
    limit = args.org_limit if args.org_limit and args.org_limit < members else None
    penv = dict(env, AWS_ENDPOINT_URL=srv.url)
    res = {
        "slowest_chain_s": slowest_chain(exp, extra),
        "accounts": args.org_accounts, "active_members": members, "inactive": len(exp["inactive"]),
        "expected_items": exp["total"], "regions": len(exp["regions"]), "limit": limit,
        "server_args": extra, "throttle": srv.get("/stats?summary=1")["throttle"], "peers": {},
    }
    log("  org: %d accounts (%d ACTIVE members), %d items; peers over %s" % (
        args.org_accounts, members, exp["total"], "%d accounts (extrapolated)" % limit if limit else "every member"))
    for name in [p for p in args.org_peers.split(",") if p]:
        if name == "ideal":
            cmd = [args.python, PEERS[name], "--url", srv.url, "--summary", "--connections", "1000"]
        else:
            cmd = [args.python, PEERS[name]] + (["--limit", str(limit)] if limit else [])
        runs = []
        for i in range(args.org_runs):
            srv.reset()
            path = os.path.join(out, "org-%s.json" % name)
            with open(path, "wb") as f:
                r = run(cmd, stdout=f, env=penv, check=False, timeout=args.org_timeout)
            st = srv.get("/stats?summary=1")
            try:
                summary = json.load(open(path))
            except ValueError:
                log("  org %s: no summary (rc %d): %s" % (name, r.rc, r.stderr[-1000:]))
                summary = {"accounts": [], "items": {}, "failures": [], "regions": exp["regions"], "limit": limit}
            fig = figures(r, summary, compare(exp, summary), st)
            if limit and name != "ideal":
                fig["wall_s_extrapolated"] = r.wall * members / limit
                fig["cpu_s_extrapolated"] = r.cpu * members / limit
            runs.append(fig)
            log("  org %s round %d/%d: %.1fs wall, %.1fs cpu, %.0f MiB, %d/%d items, lost %d, server throttled %d" % (
                name, i + 1, args.org_runs, r.wall, r.cpu, fig["maxrss_mib"], fig["items"] or 0,
                fig["expected_items"], fig["lost_items"], fig["server_throttled"]))
        res["peers"][name] = {
            "runs": runs,
            "wall": stats(x["wall_s"] for x in runs),
            "wall_extrapolated": stats(x["wall_s_extrapolated"] for x in runs) if limit and name != "ideal" else None,
            "cpu": stats(x["cpu_s"] for x in runs),
            "maxrss_mib": stats(x["maxrss_mib"] for x in runs),
            "lost_items": stats(x["lost_items"] for x in runs),
            "server_throttled": stats(x["server_throttled"] for x in runs),
        }

    # mrhost sync: PLACEHOLDER until the command exists (see count_mrhost_store).
    if args.mrhost_sync:
        path = os.path.join(out, "org-mrhost-store")
        cmd = shlex.split(args.mrhost_sync.format(mrhost=args.mrhost, url=srv.url, regions=",".join(REGIONS_17), out=path))
        runs = [run_mrhost_sync(cmd, count_mrhost_store, srv, exp, run, penv, path, args.org_timeout)
                for _ in range(args.org_runs)]
        res["mrhost"] = {"runs": runs, "wall": stats(x["wall_s"] for x in runs)}
        bc = res["peers"].get("botocove")
        if bc:
            key = "wall_extrapolated" if limit else "wall"
            res["speedup_vs_botocove"] = bc[key]["median"] / res["mrhost"]["wall"]["median"]
    else:
        have = mrhost_sync_available(args.mrhost, run)
        res["mrhost"] = {"skipped": "mrhost has `sync`; pass --mrhost-sync '<command template>' to measure it" if have
                         else "mrhost has no `sync` command yet (placeholder: bench/org_bench.py run_mrhost_sync)"}
        log("  org mrhost: skipped (%s)" % res["mrhost"]["skipped"])
    srv.stop()
    b.results["org"] = res


def report_lines(results, fmt_s, mmm):
    o = results.get("org")
    if not o:
        return []
    L = ["### Organisation: %d accounts (%d ACTIVE members, %d suspended or closing), %d regions, %d items" % (
        o["accounts"], o["active_members"], o["inactive"], o["regions"], o["expected_items"]), ""]
    thr = o.get("throttle") or {}
    if o.get("slowest_chain_s"):
        L.append("Slowest chain (ListAccounts pages + AssumeRole + the longest scope's pages, default page sizes): %s."
                 % fmt_s(o["slowest_chain_s"]))
        L.append("")
    L.append("Server throttling (rate/s, burst): " + ", ".join(
        "%s %g/%g" % (k, v["rate"], v["burst"]) for k, v in thr.items()) + ("" if thr else "off"))
    if o.get("limit"):
        L.append("")
        L.append("Peers ran over the first %d ACTIVE members only; \"all members\" scales their wall time linearly "
                 "(an estimate)." % o["limit"])
    L.append("")
    L.append("| command | accounts | wall | wall, all members | CPU | peak RSS MiB | items lost | failed scopes | throttled at server |")
    L.append("|---|---|---|---|---|---|---|---|---|")
    for name, p in o["peers"].items():
        last = p["runs"][-1]
        L.append("| %s | %d | %s | %s | %s | %s | %s of %d | %d (%s) | %s |" % (
            name, last["accounts"], mmm(p["wall"], fmt_s),
            mmm(p["wall_extrapolated"], fmt_s) if p.get("wall_extrapolated") else "(all)" if name == "ideal" else "=",
            mmm(p["cpu"], fmt_s), mmm(p["maxrss_mib"], lambda x: "%.0f" % x),
            mmm(p["lost_items"], lambda x: "%d" % x), last["expected_items"],
            last["scopes_missing"] + last["scopes_short"],
            ", ".join("%s %d" % kv for kv in last["failure_codes"].items()) or "none",
            mmm(p["server_throttled"], lambda x: "%d" % x)))
    m = o.get("mrhost") or {}
    if "skipped" in m:
        L.append("| mrhost sync | | skipped: %s | | | | | | |" % m["skipped"])
    elif m:
        last = m["runs"][-1]
        L.append("| mrhost sync | %d | %s | = | %s | %.0f | %d of %d | %d | %d |" % (
            last["accounts"], mmm(m["wall"], fmt_s), fmt_s(last["cpu_s"]), last["maxrss_mib"], last["lost_items"],
            last["expected_items"], last["scopes_missing"] + last["scopes_short"], last["server_throttled"]))
    if "speedup_vs_botocove" in o:
        L.append("")
        L.append("botocove wall / mrhost sync wall: %.1f× (target ≥ 10× with 0 lost)." % o["speedup_vs_botocove"])
    L.append("")
    return L
