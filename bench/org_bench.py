"""The `org` scenario of bench.py: an AWS Organisation on 127.0.0.1 (org_server.py) scanned by
the peers (peers/botocove_org.py, peers/multiregion_org.py) and by `mrhost sync` (the
MRHOST_SYNC_DEFAULT command, or --mrhost-sync's template). For each: wall time, CPU, peak RSS (wait4, as the other scenarios), what it lost
against /expected (items, failed scopes) and what the server throttled.

Opt-in (it is long): `bench.py ... --only org [--org-accounts 1000] [--org-limit 50]`.
--org-limit K runs each peer over the first K ACTIVE member accounts only and also reports the
wall time scaled to every member (linear: the peers handle accounts one after another or in a
fixed-size pool, so their time grows with the account count; the big accounts make a subset
lighter or heavier than average, so it is an estimate, said so in the report).
"""

import json
import os
import shlex
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from org_server import Process, compare  # noqa: E402
from server import REGIONS_17  # noqa: E402

PEERS = {
    "ideal": os.path.join(HERE, "org_ideal.py"),  # a bound (raw asyncio HTTP), not a peer
    "botocove": os.path.join(HERE, "peers", "botocove_org.py"),
    "multiregion": os.path.join(HERE, "peers", "multiregion_org.py"),
}


# ---------------------------------------------------------------- mrhost sync

# The five org_server types as `mrhost sync` sources (model-derived types: no plugin build
# needed) and the table each one lands in.
MRHOST_SOURCES = {
    "vpcs": "ec2:vpcs",
    "subnets": "ec2:subnets",
    "security_groups": "ec2:security-groups",
    "db_snapshots": "rds:db-snapshots",
    "roles": "iam:roles",
}
MRHOST_SYNC_DEFAULT = ("{mrhost} sync " + " ".join(MRHOST_SOURCES.values()) +
                       " --to sqlite:{out} --org-role OrganizationAccountAccessRole --regions {regions}"
                       " --endpoint-url {url} --no-cache --concurrency 1024 --max-attempts 10 --quiet")


def _table_type(table):
    """org_server type of an inventory table (ec2_security_groups -> security_groups)."""
    for t in sorted(TYPES_ORDER, key=len, reverse=True):
        if table == t or table.endswith("_" + t):
            return t
    return None


TYPES_ORDER = ("vpcs", "subnets", "security_groups", "db_snapshots", "roles")


def count_mrhost_store(path):
    """What `mrhost sync` stored in the SQLite destination `path`, in the peers' summary
    shape: {"accounts": [...], "items": {account: {type: {region: n}}}, "failures": [...]}.
    Counts the distinct current rows (`_valid_to IS NULL`) per (account, region) of each
    type's table, only for units the latest sync recorded as committed (`_units`); units it
    recorded as failed (`_errors`) are failures, so a scope it did not finish is missing, not
    counted from an earlier sync. Roles are global: their unit region is the partition's
    global region (us-east-1), reported as "global"."""
    import sqlite3
    out = {"accounts": [], "items": {}, "failures": [], "limit": None}
    if not os.path.exists(path):
        out["error"] = "no store at %s" % path
        return out
    db = sqlite3.connect("file:%s?mode=ro" % path, uri=True)
    try:
        row = db.execute("SELECT id, status, units, units_failed, resources FROM _syncs ORDER BY id DESC LIMIT 1").fetchone()
        if not row:
            out["error"] = "no sync recorded"
            return out
        sync_id = row[0]
        out["sync"] = {"id": row[0], "status": row[1], "units": row[2], "units_failed": row[3], "resources": row[4]}
        tables = [r[0] for r in db.execute("SELECT name FROM _mrhost_tables WHERE kind = 'type'")]
        committed = {}
        for t, acct, region, n in db.execute(
                "SELECT type, account, region, resources FROM _units WHERE sync_id = ? AND status = 'ok'", (sync_id,)):
            committed[(t, acct, region)] = n
        statuses = dict(db.execute("SELECT status, count(*) FROM _units WHERE sync_id = ? GROUP BY status", (sync_id,)).fetchall())
        out["unit_statuses"] = statuses
        accounts = set()
        for table in tables:
            typ = _table_type(table)
            if typ is None:
                continue
            q = '"%s"' % table.replace('"', '""')
            rows = db.execute("SELECT _account, _region, count(DISTINCT _id) FROM %s WHERE _valid_to IS NULL "
                              "GROUP BY _account, _region" % q).fetchall()
            got = {(a, r): n for a, r, n in rows}
            for (t, acct, region), _n in committed.items():
                if t != table:
                    continue
                accounts.add(acct)
                key = "global" if typ == "roles" else region
                out["items"].setdefault(acct, {}).setdefault(typ, {})[key] = got.get((acct, region), 0)
        for t, acct, region, code, message, cls in db.execute(
                "SELECT type, account, region, code, message, class FROM _errors WHERE sync_id = ?", (sync_id,)):
            out["failures"].append({"type": t, "account": acct, "region": region, "code": code or cls,
                                    "message": (message or "")[:300]})
            if acct:
                accounts.add(acct)
        out["accounts"] = sorted(accounts)
        out["items_total"] = sum(n for a in out["items"].values() for t in a.values() for n in t.values())
    finally:
        db.close()
    return out


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
    fig = figures(r, summary, compare(exp, summary), st)
    fig["stderr_tail"] = r.stderr[-2000:]
    fig["sync"] = summary.get("sync")
    fig["unit_statuses"] = summary.get("unit_statuses")
    fig["failures_sample"] = summary.get("failures", [])[:5]
    return fig


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



def bucket_bound(exp, throttle, server_args):
    """The other half of the issue's ideal: for each token bucket, (its requests - burst) /
    rate with default page sizes; the largest over every bucket, and which one it is. None
    when the server runs with other page sizes or without throttling."""
    if not throttle or any(a.startswith("--ec2-default-page") for a in server_args):
        return None
    size = {"ec2": 1000, "rds": 100, "iam": 100}
    buckets = {}

    def add(key, n):
        buckets[key] = buckets.get(key, 0) + n

    add(("organizations",), -(-len(exp["accounts"]) // 20))
    add(("sts",), len(exp["active_members"]))
    for acct in exp["active_members"]:
        counts = exp["counts"].get(acct, {})
        for t, meta in exp["types"].items():
            svc = meta["service"]
            for region in (["global"] if meta["global"] else exp["regions"]):
                pages = max(1, -(-counts.get(t, {}).get(region, 0) // size[svc]))
                if svc == "ec2":
                    add(("ec2", acct, region, meta["operation"]), pages)
                elif svc == "rds":
                    add(("rds", acct, region), pages)
                else:
                    add(("iam", acct), pages)
    worst, which = 0.0, None
    for key, n in buckets.items():
        lim = throttle.get(key[0])
        if not lim:
            continue
        t = max(0.0, (n - lim["burst"]) / lim["rate"])
        if t > worst:
            worst, which = t, "%s (%d requests)" % ("/".join(key), n)
    return {"seconds": worst, "bucket": which}


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
    srv = Process(["--accounts", str(args.org_accounts), "--prerender", *extra], max_seconds=21600)
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
    res["bucket_bound"] = bucket_bound(exp, res["throttle"], extra)
    if res["slowest_chain_s"] is not None and res["bucket_bound"] is not None:
        res["ideal_s"] = max(res["slowest_chain_s"], res["bucket_bound"]["seconds"])
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

    # mrhost sync: the default command (MRHOST_SYNC_DEFAULT) or --mrhost-sync's template.
    template = args.mrhost_sync or (MRHOST_SYNC_DEFAULT if mrhost_sync_available(args.mrhost, run) else None)
    if template:
        path = os.path.join(out, "org-mrhost.sqlite")
        cmd = shlex.split(template.format(mrhost=args.mrhost, url=srv.url, regions=",".join(REGIONS_17), out=path))
        runs = []
        for i in range(args.org_runs):
            for f in (path, path + "-wal", path + "-shm"):
                if os.path.exists(f):
                    os.remove(f)
            fig = run_mrhost_sync(cmd, count_mrhost_store, srv, exp, run, penv, path, args.org_timeout)
            runs.append(fig)
            log("  org mrhost round %d/%d: rc %d, %.1fs wall, %.1fs cpu, %.0f MiB, %d/%d items, lost %d, "
                "failed scopes %d, server throttled %d" % (
                    i + 1, args.org_runs, fig["rc"], fig["wall_s"], fig["cpu_s"], fig["maxrss_mib"], fig["items"] or 0,
                    fig["expected_items"], fig["lost_items"], fig["scopes_missing"] + fig["scopes_short"],
                    fig["server_throttled"]))
            if fig["rc"] != 0:
                log("  org mrhost stderr (tail): %s" % fig.get("stderr_tail", ""))
        res["mrhost"] = {"command": template, "runs": runs, "wall": stats(x["wall_s"] for x in runs),
                         "maxrss_mib": stats(x["maxrss_mib"] for x in runs)}
        if res.get("ideal_s"):
            res["mrhost"]["wall_over_ideal"] = res["mrhost"]["wall"]["median"] / res["ideal_s"]
        emp = res["peers"].get("ideal")
        if emp:
            res["mrhost"]["wall_over_ideal_client"] = res["mrhost"]["wall"]["median"] / emp["wall"]["median"]
        bc = res["peers"].get("botocove")
        if bc:
            key = "wall_extrapolated" if limit else "wall"
            res["speedup_vs_botocove"] = bc[key]["median"] / res["mrhost"]["wall"]["median"]
    else:
        res["mrhost"] = {"skipped": "%s has no `sync` command" % args.mrhost}
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
        L.append("| mrhost sync | %d | %s | = | %s | %s | %d of %d | %d (%s) | %s |" % (
            last["accounts"], mmm(m["wall"], fmt_s), fmt_s(last["cpu_s"]), mmm(m["maxrss_mib"], lambda x: "%.0f" % x),
            last["lost_items"], last["expected_items"], last["scopes_missing"] + last["scopes_short"],
            ", ".join("%s %d" % kv for kv in last["failure_codes"].items()) or "none", last["server_throttled"]))
    if o.get("ideal_s"):
        L.append("")
        bb = o.get("bucket_bound") or {}
        L.append("Ideal (the larger of the slowest chain and the slowest bucket, %s: %s): %s." % (
            bb.get("bucket"), fmt_s(bb.get("seconds", 0)), fmt_s(o["ideal_s"])))
        if m.get("wall_over_ideal"):
            L.append("mrhost sync wall / ideal: %.2f× (target ≤ 1.25×)%s." % (
                m["wall_over_ideal"], "; / org_ideal.py's wall in the same run: %.2f×" % m["wall_over_ideal_client"]
                if m.get("wall_over_ideal_client") else ""))
    if "speedup_vs_botocove" in o:
        L.append("")
        L.append("botocove wall / mrhost sync wall: %.1f× (target ≥ 10× with 0 lost)." % o["speedup_vs_botocove"])
    L.append("")
    return L
