#!/usr/bin/env python3
"""The inventory benchmark (not CI): `mrhost sync` against its alternatives, and its memory.

    bench/sync_bench.py [--mrhost target/release/mrhost] [--runs 2] [--only fanout,rss]

fanout: every bundled plugin over the 17 default regions, moto behind a latency proxy
  (bench/latency_proxy.py, the spread17 delays of bench/server.py). Three ways to get the
  same tables, each timed whole-process with a warm compile cache and no response cache:
    sync        mrhost sync --to sqlite:...           (one plan, one scheduler)
    query       mrhost query "<UNION ALL of every table>"  (tables one after another)
    sequential  mrhost run PLUGIN -o sqlite:... per table, one after another (the
                CloudQuery-style per-table baseline)
rss: 1,000,000 VPCs (17 regions x 58,824, pages of 1,000) from bench/server.py with no
  delay, `mrhost sync plugins/vpcs.wasm` into SQLite and into PostgreSQL (scripts/pg-temp.sh):
  wall time and peak RSS (VmHWM) of the first sync and of a second, unchanged one.

Writes bench/out/sync_bench.json and prints a Markdown table.
"""

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
from server import REGIONS_17  # noqa: E402

R17 = ",".join(REGIONS_17)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def wait_port(port, timeout=60):
    t = time.time()
    while time.time() - t < timeout:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"nothing listens on {port}")


def env():
    e = dict(os.environ)
    for k in list(e):
        if k.startswith("AWS_"):
            del e[k]
    e.update({"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
              "AWS_REGION": "us-east-1", "AWS_EC2_METADATA_DISABLED": "true",
              "MRHOST_NO_CACHE": "1", "TZ": "UTC"})
    e.pop("MRHOST_INVENTORY", None)
    return e


def measured(cmd, **kw):
    """Run; return (wall seconds, peak RSS MiB, exit code, stderr tail)."""
    t = time.time()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env(), cwd=ROOT, **kw)
    peak = 0
    import threading
    err = []
    th = threading.Thread(target=lambda: err.append(p.stderr.read()))
    th.start()
    while p.poll() is None:
        try:
            with open(f"/proc/{p.pid}/status") as f:
                for line in f:
                    if line.startswith("VmHWM:"):
                        peak = max(peak, int(line.split()[1]))
        except OSError:
            pass
        time.sleep(0.02)
    th.join()
    wall = time.time() - t
    tail = (err[0] if err else b"").decode(errors="replace").strip().splitlines()[-3:]
    if p.returncode not in (0, 3):
        print(f"warning: {' '.join(cmd[:3])} exited {p.returncode}: {tail}", file=sys.stderr)
    return wall, peak / 1024.0, p.returncode, tail


def plugins():
    d = os.path.join(ROOT, "plugins")
    return sorted(os.path.join(d, f) for f in os.listdir(d) if f.endswith(".wasm"))


def fanout(mrhost, runs, out):
    py = os.path.join(ROOT, ".venv", "bin", "python")
    mport = free_port()
    moto = subprocess.Popen([py, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(mport)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env())
    proxy = None
    try:
        wait_port(mport)
        proxy = subprocess.Popen([sys.executable, os.path.join(HERE, "latency_proxy.py"), "--upstream",
                                  f"127.0.0.1:{mport}", "--delays", "spread17"], stdout=subprocess.PIPE, env=env())
        pport = int(proxy.stdout.readline().split()[1])
        url = f"http://127.0.0.1:{pport}"
        tmp = tempfile.mkdtemp(prefix="mrhost-sync-bench-")
        names = [os.path.splitext(os.path.basename(p))[0].replace("-", "_") for p in plugins()]
        union = " UNION ALL ".join(f"SELECT region FROM {n}" for n in names)
        sql = f"SELECT count(*) AS n FROM ({union})"
        # Warm-up: moto builds each region's backend on first use; every contender then
        # meets the same warm server. Also fills the compile cache.
        w = measured([mrhost, "sync", "--to", f"sqlite:{tmp}/warm.db", "--regions", R17, "--endpoint-url", url, "-q"])
        print(f"warm-up sync: {w[0]:.1f}s", file=sys.stderr)
        res = {"sync": [], "query": [], "sequential": []}
        for i in range(runs):
            db = f"{tmp}/sync-{i}.db"
            res["sync"].append(measured([mrhost, "sync", "--to", f"sqlite:{db}", "--regions", R17, "--endpoint-url", url, "-q"]))
            res["query"].append(measured([mrhost, "query", sql, "--regions", R17, "--endpoint-url", url, "-q", "-o", "json"]))
            t = time.time()
            peak = 0.0
            for p in plugins():
                w, rss, _, _ = measured([mrhost, "run", p, "--regions", R17, "--endpoint-url", url, "-q",
                                          "-o", f"sqlite:{tmp}/seq-{i}.db"])
                peak = max(peak, rss)
            res["sequential"].append((time.time() - t, peak, 0, []))
            print(f"run {i + 1}: sync {res['sync'][-1][0]:.1f}s, query {res['query'][-1][0]:.1f}s, "
                  f"sequential {res['sequential'][-1][0]:.1f}s", file=sys.stderr)
        import sqlite3
        c = sqlite3.connect(f"{tmp}/sync-0.db")
        resources = c.execute("SELECT resources, units FROM _syncs").fetchone()
        out["fanout"] = {
            "plugins": len(names), "regions": 17, "units": resources[1], "resources": resources[0],
            **{k: {"wall_s": [round(x[0], 2) for x in v], "median_s": round(statistics.median(x[0] for x in v), 2),
                   "peak_rss_mib": round(max(x[1] for x in v), 1)} for k, v in res.items()},
        }
        shutil.rmtree(tmp, ignore_errors=True)
    finally:
        if proxy:
            proxy.kill()
        moto.kill()


def rss(mrhost, total, out):
    per_region = -(-total // 17)
    cache = os.path.join(HERE, "out", "cache")
    os.makedirs(cache, exist_ok=True)
    srv = subprocess.Popen([sys.executable, os.path.join(HERE, "server.py"), "--port", "0", "--delays", "none",
                            "--vpcs", str(per_region), "--page-size", "1000", "--cache-dir", cache,
                            "--max-seconds", "5400"], stdout=subprocess.PIPE, env=env())
    pg_dir = tempfile.mkdtemp(prefix="mrhost-bench-pg-")
    shutil.rmtree(pg_dir)
    try:
        port = int(srv.stdout.readline().split()[1])
        url = f"http://127.0.0.1:{port}"
        vpcs = os.path.join(ROOT, "plugins", "vpcs.wasm")
        tmp = tempfile.mkdtemp(prefix="mrhost-rss-")
        dests = {"sqlite": f"sqlite:{tmp}/big.db"}
        pg = subprocess.run(["bash", os.path.join(ROOT, "scripts", "pg-temp.sh"), "start", pg_dir, str(free_port())],
                            capture_output=True, text=True)
        if pg.returncode == 0:
            dests["postgres"] = pg.stdout.strip()
        else:
            print(f"PostgreSQL unavailable: {pg.stderr.strip()}", file=sys.stderr)
        out["rss"] = {"resources": per_region * 17}
        for name, dest in dests.items():
            first = measured([mrhost, "sync", vpcs, "--to", dest, "--regions", R17, "--endpoint-url", url, "-q"])
            second = measured([mrhost, "sync", vpcs, "--to", dest, "--regions", R17, "--endpoint-url", url, "-q"])
            out["rss"][name] = {
                "first": {"wall_s": round(first[0], 1), "peak_rss_mib": round(first[1], 1), "exit": first[2]},
                "unchanged": {"wall_s": round(second[0], 1), "peak_rss_mib": round(second[1], 1), "exit": second[2]},
            }
            print(f"{name}: first {first[0]:.1f}s {first[1]:.0f} MiB; unchanged {second[0]:.1f}s {second[1]:.0f} MiB",
                  file=sys.stderr)
        shutil.rmtree(tmp, ignore_errors=True)
    finally:
        subprocess.run(["bash", os.path.join(ROOT, "scripts", "pg-temp.sh"), "stop", pg_dir], capture_output=True)
        srv.kill()


def report(out):
    lines = []
    f = out.get("fanout")
    if f:
        lines += [f"### Every bundled plugin ({f['plugins']}) over 17 regions, moto behind spread17 latency",
                  "", f"{f['units']} units, {f['resources']} resources.", "",
                  "| how | median wall | runs | peak RSS |", "|---|---|---|---|"]
        for k in ("sync", "query", "sequential"):
            v = f[k]
            lines.append(f"| {k} | {v['median_s']} s | {', '.join(map(str, v['wall_s']))} | {v['peak_rss_mib']} MiB |")
        lines.append("")
    r = out.get("rss")
    if r:
        lines += [f"### {r['resources']:,} VPCs (17 regions), no delay", "",
                  "| destination | first sync | peak RSS | unchanged sync | peak RSS |", "|---|---|---|---|---|"]
        for k in ("sqlite", "postgres"):
            if k in r:
                v = r[k]
                lines.append(f"| {k} | {v['first']['wall_s']} s | {v['first']['peak_rss_mib']} MiB | "
                             f"{v['unchanged']['wall_s']} s | {v['unchanged']['peak_rss_mib']} MiB |")
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mrhost", default=os.path.join(ROOT, "target", "release", "mrhost"))
    ap.add_argument("--runs", type=int, default=2)
    ap.add_argument("--only", default="fanout,rss")
    ap.add_argument("--rss-total", type=int, default=1_000_000)
    args = ap.parse_args()
    os.makedirs(os.path.join(HERE, "out"), exist_ok=True)
    out = {"when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    only = args.only.split(",")
    if "fanout" in only:
        fanout(args.mrhost, args.runs, out)
    if "rss" in only:
        rss(args.mrhost, args.rss_total, out)
    with open(os.path.join(HERE, "out", "sync_bench.json"), "w") as fh:
        json.dump(out, fh, indent=2)
    print(report(out))


if __name__ == "__main__":
    main()
