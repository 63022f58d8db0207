#!/usr/bin/env python3
"""The mrhost benchmark driver (run it through bench/run.sh, which builds what it needs).

Every figure is the median of several runs with min and max, and every comparison is a ratio
of runs taken in the same session, interleaved, against the same server on 127.0.0.1.
Results go to bench/out/results.json and bench/out/report.md.
"""

import argparse
import hashlib
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
OUT = os.path.join(HERE, "out")
sys.path.insert(0, HERE)
from server import REGIONS_17, SPREAD17  # noqa: E402
import org_bench  # noqa: E402  (the opt-in `org` scenario)

ACCOUNT = "123456789012"
DEVNULL = subprocess.DEVNULL


def log(*a):
    print(*a, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- processes and timing


def bench_env():
    """Nothing may reach AWS or IMDS: dummy keys, a region, no user config files."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        AWS_EC2_METADATA_DISABLED="true",
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_REGION="us-east-1",
        AWS_DEFAULT_REGION="us-east-1",
        AWS_CONFIG_FILE=os.path.join(OUT, "no-aws-config"),
        AWS_SHARED_CREDENTIALS_FILE=os.path.join(OUT, "no-aws-credentials"),
        TZ="UTC",
        MRHOST_CACHE_DIR=os.path.join(OUT, "mrhost-cache"),
        # The compiled-plugin cache stays on; the response cache is off, or repeated runs
        # would be answered from disk while the peers make every request.
        MRHOST_NO_CACHE="1",
    )
    env.pop("MRHOST_LOG", None)
    env.pop("MRHOST_REGIONS", None)
    return env


ENV = bench_env()


class Run:
    """One process: wall time, CPU (user+sys, its children included) and peak RSS."""

    def __init__(self, wall, cpu, maxrss_kib, rc, stderr):
        self.wall, self.cpu, self.maxrss_kib, self.rc, self.stderr = wall, cpu, maxrss_kib, rc, stderr


def run(cmd, stdout=DEVNULL, env=None, check=True, timeout=900):
    err = tempfile.TemporaryFile()
    t = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=stdout, stderr=err, env=env or ENV, cwd=ROOT)
    killer = threading.Timer(timeout, p.kill)
    killer.start()
    try:
        _, status, ru = os.wait4(p.pid, 0)
    finally:
        killer.cancel()
    wall = time.perf_counter() - t
    p.returncode = os.waitstatus_to_exitcode(status)
    err.seek(0)
    stderr = err.read().decode(errors="replace")
    if check and p.returncode != 0:
        raise SystemExit("command failed (%d): %s\n%s" % (p.returncode, " ".join(cmd), stderr[-2000:]))
    return Run(wall, ru.ru_utime + ru.ru_stime, ru.ru_maxrss, p.returncode, stderr)


def stats(xs):
    xs = list(xs)
    return {"median": statistics.median(xs), "min": min(xs), "max": max(xs), "n": len(xs), "all": xs}


class Server:
    def __init__(self, name, *args):
        self.name = name
        cmd = [sys.executable, os.path.join(HERE, "server.py"), "--port", "0", "--max-seconds", "5400", *args]
        self.p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=sys.stderr, cwd=HERE)
        line = self.p.stdout.readline().decode()
        m = re.match(r"PORT (\d+)", line)
        if not m:
            self.stop()
            raise SystemExit("server %s did not start: %r" % (name, line))
        self.url = "http://127.0.0.1:%s" % m.group(1)

    def stats(self):
        with urllib.request.urlopen(self.url + "/stats", timeout=10) as r:
            return json.load(r)

    def reset(self):
        urllib.request.urlopen(self.url + "/reset", timeout=10).read()

    def stop(self):
        if self.p.poll() is None:
            self.p.terminate()
            try:
                self.p.wait(5)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()


# ---------------------------------------------------------------- the scenarios


class Bench:
    def __init__(self, args):
        self.args = args
        self.mrhost = args.mrhost
        self.plugin = args.plugin
        self.native = args.native
        self.aws = args.aws
        self.python = args.python
        self.results = {}
        self.servers = []

    def server(self, name, *args):
        s = Server(name, *args)
        self.servers.append(s)
        return s

    def stop_servers(self):
        for s in self.servers:
            s.stop()

    # -- fan-out over 17 regions: mrhost (run, call) vs boto3 pool vs the AWS CLI loop

    def fanout(self, vpcs, page_size, key, with_cli=True, delays="spread17"):
        regions = REGIONS_17
        srv = self.server(key, "--delays", delays, "--vpcs", str(vpcs), "--page-size", str(page_size))
        pages = -(-vpcs // page_size)
        table = SPREAD17 if delays == "spread17" else {r: 0.0 for r in regions}
        slowest = max(table[r] for r in regions) / 1000.0
        chain = pages * slowest
        sts = table[regions[0]] / 1000.0  # mrhost's GetCallerIdentity goes to the first region
        rs = ",".join(regions)
        cmds = {
            "mrhost run": [self.mrhost, "run", self.plugin, "--regions", rs, "--endpoint-url", srv.url, "-o", "ndjson"],
            "mrhost call": [self.mrhost, "call", "ec2", "DescribeVpcs", "--regions", rs, "--endpoint-url", srv.url],
            "boto3 pool": [self.python, os.path.join(HERE, "peers", "boto3_pool.py"), "--regions", rs, "--endpoint-url", srv.url],
        }
        if with_cli:
            cmds["aws cli loop"] = [os.path.join(HERE, "peers", "aws_cli_loop.sh"), self.aws, srv.url, *regions]
        expected_calls = {
            "mrhost run": pages * len(regions) + 1,
            "mrhost call": pages * len(regions) + 1,
            "boto3 pool": pages * len(regions),
            "aws cli loop": pages * len(regions),
        }
        self.verify_fanout(srv, cmds, vpcs, regions, key)
        runs = {k: [] for k in cmds}
        names = list(cmds)
        n = self.args.runs
        for i in range(n):
            order = names[i % len(names):] + names[: i % len(names)]
            for name in order:
                srv.reset()
                r = run(cmds[name])
                calls = sum(srv.stats().values())
                # mrhost asks GetCallerIdentity only while its identity store does not know
                # the key yet (the first run against this server).
                if calls != expected_calls[name] and not (name.startswith("mrhost") and calls == expected_calls[name] - 1):
                    raise SystemExit("%s made %d requests, expected %d" % (name, calls, expected_calls[name]))
                runs[name].append(r)
                log("  %s round %d/%d %-13s %.3fs wall %.3fs cpu" % (key, i + 1, n, name, r.wall, r.cpu))
        srv.stop()
        res = {
            "regions": len(regions),
            "vpcs_per_region": vpcs,
            "pages_per_region": pages,
            "slowest_delay_s": slowest,
            "slowest_chain_s": chain,
            "sts_round_trip_s": sts,
            "wall": {k: stats(r.wall for r in v) for k, v in runs.items()},
            "cpu": {k: stats(r.cpu for r in v) for k, v in runs.items()},
            "delays": delays,
        }
        if chain > 0:
            res.update(
                efficiency_run=stats(r.wall / chain for r in runs["mrhost run"]),
                efficiency_call=stats(r.wall / chain for r in runs["mrhost call"]),
                efficiency_run_vs_sts_plus_chain=stats(r.wall / (chain + sts) for r in runs["mrhost run"]),
                # The best any tool could do is the chain itself: the ratio a peer can reach at most.
                peer_bound_boto3=stats(r.wall / chain for r in runs["boto3 pool"]),
            )
        # Ratios pair the runs of the same round (same machine load).
        for peer in ("boto3 pool", "aws cli loop"):
            if peer in runs:
                res["speedup_vs_" + peer.replace(" ", "_")] = stats(
                    p.wall / m.wall for p, m in zip(runs[peer], runs["mrhost run"])
                )
                res["speedup_call_vs_" + peer.replace(" ", "_")] = stats(
                    p.wall / m.wall for p, m in zip(runs[peer], runs["mrhost call"])
                )
        self.results[key] = res

    def verify_fanout(self, srv, cmds, vpcs, regions, key):
        """The peers see the same data: same VPCs per region, parsed the same way."""
        outs = {}
        for name, cmd in cmds.items():
            path = os.path.join(OUT, "%s-%s.out" % (key, name.replace(" ", "-")))
            with open(path, "wb") as f:
                run(cmd, stdout=f)
            outs[name] = path
        lines = [json.loads(l) for l in open(outs["mrhost run"])]
        assert len(lines) == vpcs * len(regions), (len(lines), vpcs * len(regions))
        # mrhost call prints one object per scope: {RequestAccount, RequestRegion, ...response}.
        call = {}
        for c in json.load(open(outs["mrhost call"])):
            c.pop("RequestAccount")
            call[c.pop("RequestRegion")] = c
        pool = json.load(open(outs["boto3 pool"]))
        assert call == pool, "mrhost call and boto3 disagree"
        by_region = {}
        for l in lines:
            r = l.pop("RequestRegion")
            assert l.pop("RequestAccount") == ACCOUNT
            # The host adds TagsMap (and Name, when tagged) from an item's Tags: check them
            # against the Tags, then compare the rest with boto3.
            if "TagsMap" in l:
                tm = l.pop("TagsMap")
                assert tm == {t["Key"]: t["Value"] for t in l.get("Tags", [])}, tm
                if "Name" in tm:
                    assert l.pop("Name") == tm["Name"]
            by_region.setdefault(r, []).append(l)
        for r in regions:
            assert sorted(by_region[r], key=lambda v: v["VpcId"]) == sorted(pool[r]["Vpcs"], key=lambda v: v["VpcId"]), r
        if "aws cli loop" in outs:
            text = open(outs["aws cli loop"]).read()
            docs = [json.loads(d) for d in re.split(r"(?m)^(?=\{)", text) if d.strip()]
            assert [d for d in docs] == [pool[r] for r in regions], "aws cli output differs from boto3"
        log("  %s: outputs agree (%d VPCs; mrhost run == mrhost call == boto3 == aws cli)" % (key, vpcs * len(regions)))

    # -- throughput through the vpcs plugin vs the native serde pass

    def throughput(self, vpcs, key, runs, plugins):
        srv = self.server(key, "--delays", "none", "--vpcs", str(vpcs), "--page-size", "1000", "--same-data",
                          "--cache-dir", os.path.join(OUT, "cache"))
        page_dir = os.path.join(OUT, "cache", "pages-all-%d-1000" % vpcs)
        pages = sorted(os.path.join(page_dir, f) for f in os.listdir(page_dir) if f.endswith(".xml"))
        xml_bytes = sum(os.path.getsize(p) for p in pages)
        region = "eu-west-1"
        native_cmd = [self.native, "--region", region, "--account", ACCOUNT, *pages]
        res = {"resources": vpcs, "pages": len(pages), "xml_mb": xml_bytes / 1e6}

        # The server alone: a bare keep-alive client fetching every page, nothing parsed.
        fetch = [self.python, os.path.join(HERE, "fetch_pages.py"), srv.url, region]
        fr = [run(fetch) for _ in range(3)]
        res["server_only_fetch_s"] = stats(r.wall for r in fr)

        # Correctness: mrhost's ndjson is byte-identical to the native pass's.
        digests = {}
        for name, cmd in [("native", native_cmd)] + [
            (pname, [self.mrhost, "run", ppath, "--regions", region, "--endpoint-url", srv.url, "-o", "ndjson"])
            for pname, ppath in plugins
        ]:
            path = os.path.join(OUT, "%s-%s.ndjson" % (key, name))
            with open(path, "wb") as f:
                run(cmd, stdout=f, timeout=3600)
            h = hashlib.sha256()
            with open(path, "rb") as f:
                for chunk in iter(lambda: f.read(1 << 20), b""):
                    h.update(chunk)
            digests[name] = h.hexdigest()
            os.unlink(path)
        res["sha256"] = digests
        for name, d in digests.items():
            if d != digests["native"]:
                raise SystemExit("%s: ndjson differs from the native pass (%s vs %s)" % (name, d, digests["native"]))
        log("  %s: every plugin's ndjson is byte-identical to the native pass" % key)

        cmds = {"native": native_cmd}
        for pname, ppath in plugins:
            cmds[pname] = [self.mrhost, "run", ppath, "--regions", region, "--endpoint-url", srv.url, "-o", "ndjson"]
        out = {k: [] for k in cmds}
        names = list(cmds)
        for i in range(runs):
            order = names[i % len(names):] + names[: i % len(names)]
            for name in order:
                r = run(cmds[name], timeout=3600)
                out[name].append(r)
                log("  %s round %d/%d %-12s %.3fs wall %.3fs cpu %.1f MiB" % (key, i + 1, runs, name, r.wall, r.cpu, r.maxrss_kib / 1024))
        srv.stop()
        for name, rs in out.items():
            res[name] = {
                "wall": stats(r.wall for r in rs),
                "cpu": stats(r.cpu for r in rs),
                "rate_wall": stats(vpcs / r.wall for r in rs),
                "rate_cpu": stats(vpcs / r.cpu for r in rs),
                "maxrss_mib": stats(r.maxrss_kib / 1024 for r in rs),
            }
            if name != "native":
                res[name]["vs_native_wall"] = stats(m.wall / n.wall for m, n in zip(rs, out["native"]))
                res[name]["vs_native_cpu"] = stats(m.cpu / n.cpu for m, n in zip(rs, out["native"]))
        self.results[key] = res

    # -- start-up: a warm `mrhost run` vs `mrhost --version`

    def startup(self, runs):
        srv = self.server("startup", "--delays", "none", "--vpcs", "1", "--page-size", "1000")
        version = [self.mrhost, "--version"]
        runcmd = [self.mrhost, "run", self.plugin, "--regions", "eu-west-1", "--endpoint-url", srv.url, "-o", "ndjson"]
        callcmd = [self.mrhost, "call", "ec2", "DescribeVpcs", "--regions", "eu-west-1", "--endpoint-url", srv.url]
        # Warm the compile cache and the page cache.
        for _ in range(3):
            run(runcmd)
        cmds = {"--version": version, "run (cached plugin)": runcmd, "call": callcmd}
        out = {k: [] for k in cmds}
        for i in range(runs):
            for name, cmd in cmds.items():
                out[name].append(run(cmd))
        res = {k: {"wall": stats(r.wall for r in v), "cpu": stats(r.cpu for r in v)} for k, v in out.items()}
        res["overhead_run_s"] = stats(r.wall - v.wall for r, v in zip(out["run (cached plugin)"], out["--version"]))
        res["overhead_call_s"] = stats(r.wall - v.wall for r, v in zip(out["call"], out["--version"]))
        # Where the warm run's time goes, from -v (load_ms of the cached plugin).
        loads = []
        for _ in range(5):
            r = run(runcmd + ["-v"])
            m = re.search(r"cached=(\w+) load_ms=(\d+)", r.stderr)
            loads.append(int(m.group(2)) if m else float("nan"))
        srv.stop()
        res["cached_load_ms"] = stats(loads)
        self.results["startup"] = res
        log("  startup: --version %.1f ms, run %.1f ms, call %.1f ms (medians)" % (
            res["--version"]["wall"]["median"] * 1e3, res["run (cached plugin)"]["wall"]["median"] * 1e3,
            res["call"]["wall"]["median"] * 1e3))

    # -- first (uncached) compile of each plugin

    def compile(self, plugins, runs):
        srv = self.server("compile", "--delays", "none", "--vpcs", "1", "--page-size", "1000")
        res = {}
        for pname, ppath in plugins:
            loads, walls = [], []
            for _ in range(runs):
                d = tempfile.mkdtemp(prefix="mrhost-cache-", dir=OUT)
                env = dict(ENV, MRHOST_CACHE_DIR=d)
                r = run([self.mrhost, "run", ppath, "--regions", "eu-west-1", "--endpoint-url", srv.url, "-o", "ndjson", "-v"],
                        env=env, timeout=1800)
                m = re.search(r"cached=(\w+) load_ms=(\d+)", r.stderr)
                if not m or m.group(1) != "false":
                    raise SystemExit("%s: expected an uncached load, got %r" % (pname, r.stderr[-500:]))
                loads.append(int(m.group(2)) / 1000.0)
                walls.append(r.wall)
                # And the same cache again: the cached load.
                r2 = run([self.mrhost, "run", ppath, "--regions", "eu-west-1", "--endpoint-url", srv.url, "-o", "ndjson", "-v"],
                         env=env)
                m2 = re.search(r"cached=(\w+) load_ms=(\d+)", r2.stderr)
                shutil.rmtree(d)
                res.setdefault(pname, {"cached_load_s": []})["cached_load_s"].append(int(m2.group(2)) / 1000.0)
                log("  compile %-8s uncached load %.2fs (process %.2fs), cached load %.3fs" % (pname, loads[-1], walls[-1], int(m2.group(2)) / 1000.0))
            res[pname].update(
                load_s=stats(loads), wall_s=stats(walls), wasm_bytes=os.path.getsize(ppath),
                cached_load_s=stats(res[pname]["cached_load_s"]),
            )
        srv.stop()
        self.results["compile"] = res


# ---------------------------------------------------------------- the report


def machine():
    def sh(cmd):
        try:
            return subprocess.run(cmd, shell=True, capture_output=True, text=True).stdout.strip()
        except Exception:
            return "?"

    mem = sh("awk '/MemTotal/ {printf \"%.1f GiB\", $2/1048576}' /proc/meminfo")
    return {
        "nproc": sh("nproc"),
        "cpu": sh("lscpu | sed -n 's/^Model name: *//p' | head -1"),
        "memory": mem,
        "kernel": platform.release(),
        "rustc": sh("rustc --version"),
        "python": platform.python_version(),
        "loadavg_start": open("/proc/loadavg").read().split()[:3],
    }


def fmt_s(s):
    return "%.0f ms" % (s * 1e3) if s < 10 else "%.1f s" % s


def mmm(st, f=lambda x: "%.2f" % x):
    return "%s (%s – %s)" % (f(st["median"]), f(st["min"]), f(st["max"]))


def report(results):
    L = []
    m = results["machine"]
    L.append("Machine: %s × %s, %s, kernel %s, %s, Python %s; load average at start %s, at end %s." % (
        m["nproc"], m["cpu"], m["memory"], m["kernel"], m["rustc"], m["python"],
        " ".join(m["loadavg_start"]), " ".join(m.get("loadavg_end", []))))
    L.append("")
    L.append("All figures: median (min – max) over the runs; ratios pair runs of the same round.")
    L.append("")
    for key in ("fanout", "fanout_1page", "fanout_nodelay"):
        if key not in results:
            continue
        f = results[key]
        L.append("### Fan-out: %d regions, %d VPCs per region in %d page(s), delays %s (%s)" % (
            f["regions"], f["vpcs_per_region"], f["pages_per_region"],
            "none" if f.get("delays") == "none" else "20–250 ms", key))
        L.append("")
        if f["slowest_chain_s"] > 0:
            L.append("Slowest region's chain: %d × %.0f ms = %s; mrhost's STS GetCallerIdentity before the fan-out: %.0f ms." % (
                f["pages_per_region"], f["slowest_delay_s"] * 1e3, fmt_s(f["slowest_chain_s"]), f["sts_round_trip_s"] * 1e3))
            L.append("")
        L.append("| command | wall | CPU (user+sys) |")
        L.append("|---|---|---|")
        for name in f["wall"]:
            L.append("| %s | %s | %s |" % (name, mmm(f["wall"][name], fmt_s), mmm(f["cpu"][name], fmt_s)))
        L.append("")
        L.append("| figure | value | target |")
        L.append("|---|---|---|")
        if "efficiency_run" in f:
            L.append("| fan-out efficiency, `mrhost run` wall / slowest chain | %s | ≤ 1.10 |" % mmm(f["efficiency_run"]))
            L.append("| fan-out efficiency, `mrhost call` wall / slowest chain | %s | |" % mmm(f["efficiency_call"]))
            L.append("| `mrhost run` wall / (STS round trip + slowest chain) | %s | |" % mmm(f["efficiency_run_vs_sts_plus_chain"]))
        if "peer_bound_boto3" not in f and f["slowest_chain_s"] > 0:
            f["peer_bound_boto3"] = stats(w / f["slowest_chain_s"] for w in f["wall"]["boto3 pool"]["all"])
        if "peer_bound_boto3" in f:
            L.append("| boto3 pool wall / slowest chain (the most any tool could beat it by) | %s× | |" % mmm(f["peer_bound_boto3"], lambda x: "%.1f" % x))
        if "speedup_vs_boto3_pool" in f:
            L.append("| boto3 pool wall / `mrhost run` wall | %s× | ≥ 5× |" % mmm(f["speedup_vs_boto3_pool"], lambda x: "%.1f" % x))
            L.append("| boto3 pool wall / `mrhost call` wall | %s× | |" % mmm(f["speedup_call_vs_boto3_pool"], lambda x: "%.1f" % x))
        if "speedup_vs_aws_cli_loop" in f:
            L.append("| AWS CLI loop wall / `mrhost run` wall | %s× | ≥ 12× |" % mmm(f["speedup_vs_aws_cli_loop"], lambda x: "%.1f" % x))
            L.append("| AWS CLI loop wall / `mrhost call` wall | %s× | |" % mmm(f["speedup_call_vs_aws_cli_loop"], lambda x: "%.1f" % x))
        L.append("")
    for key in ("throughput_100k", "throughput_1m"):
        if key not in results:
            continue
        t = results[key]
        L.append("### Throughput: %d VPCs in one region, %d pages of 1000 (%.0f MB of XML), ndjson to /dev/null (%s)" % (
            t["resources"], t["pages"], t["xml_mb"], key))
        L.append("")
        L.append("The server alone (a bare keep-alive client fetching every page): %s." % mmm(t["server_only_fetch_s"], fmt_s))
        L.append("")
        L.append("| pass | wall | resources/s (wall) | CPU | resources/s (CPU) | peak RSS MiB | wall / native | CPU / native |")
        L.append("|---|---|---|---|---|---|---|---|")
        for name, v in t.items():
            if not isinstance(v, dict) or "wall" not in v:
                continue
            L.append("| %s | %s | %s | %s | %s | %s | %s | %s |" % (
                name, mmm(v["wall"], fmt_s), mmm(v["rate_wall"], lambda x: "%.0fk" % (x / 1e3)),
                mmm(v["cpu"], fmt_s), mmm(v["rate_cpu"], lambda x: "%.0fk" % (x / 1e3)),
                mmm(v["maxrss_mib"], lambda x: "%.0f" % x),
                mmm(v["vs_native_wall"]) if "vs_native_wall" in v else "1",
                mmm(v["vs_native_cpu"]) if "vs_native_cpu" in v else "1"))
        L.append("")
    if "startup" in results:
        s = results["startup"]
        L.append("### Start-up (zero-delay server, 1 VPC, one region)")
        L.append("")
        L.append("| command | wall | CPU |")
        L.append("|---|---|---|")
        for name in ("--version", "run (cached plugin)", "call"):
            L.append("| `mrhost %s` | %s | %s |" % (name, mmm(s[name]["wall"], fmt_s), mmm(s[name]["cpu"], fmt_s)))
        L.append("")
        L.append("Warm `mrhost run` − `mrhost --version`: %s (target ≤ 30 ms); `mrhost call` − `--version`: %s; "
                 "cached plugin load (`-v` load_ms): %s." % (
                     mmm(s["overhead_run_s"], fmt_s), mmm(s["overhead_call_s"], fmt_s),
                     mmm(s["cached_load_ms"], lambda x: "%.0f ms" % x)))
        L.append("")
    if "compile" in results:
        L.append("### First (uncached) plugin compile")
        L.append("")
        L.append("| plugin | .wasm size | uncached load (`-v` load_ms) | whole process | cached load |")
        L.append("|---|---|---|---|---|")
        for name, c in results["compile"].items():
            L.append("| %s | %.0f KiB | %s | %s | %s |" % (
                name, c["wasm_bytes"] / 1024, mmm(c["load_s"], fmt_s), mmm(c["wall_s"], fmt_s), mmm(c["cached_load_s"], fmt_s)))
        for name in results.get("plugins_missing", []):
            L.append("| %s | not built | | | |" % name)
        L.append("")
    L += org_bench.report_lines(results, fmt_s, mmm)
    return "\n".join(L)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mrhost", required=True)
    ap.add_argument("--plugin", required=True)
    ap.add_argument("--native", required=True)
    ap.add_argument("--aws", required=True)
    ap.add_argument("--python", default=sys.executable)
    ap.add_argument("--runs", type=int, default=5, help="runs per fan-out figure")
    ap.add_argument("--throughput-runs", type=int, default=5)
    ap.add_argument("--big-runs", type=int, default=3, help="runs of the 1M-VPC scenario (0 skips it)")
    ap.add_argument("--startup-runs", type=int, default=30)
    ap.add_argument("--compile-runs", type=int, default=3)
    ap.add_argument("--only", default="", help="comma-separated: fanout,fanout_1page,throughput,big,startup,compile,org (org only when named)")
    ap.add_argument("--extra-plugin", action="append", default=[], help="NAME=PATH of another vpcs plugin")
    # The organisation scenario (opt-in: --only org; see bench/org_bench.py).
    ap.add_argument("--org-accounts", type=int, default=1000, help="accounts in the simulated organisation")
    ap.add_argument("--org-limit", type=int, default=None, help="peers scan only the first K members (time extrapolated)")
    ap.add_argument("--org-peers", default="ideal,botocove,multiregion", help="comma-separated: ideal (a raw-HTTP bound),botocove,multiregion")
    ap.add_argument("--org-runs", type=int, default=1)
    ap.add_argument("--org-timeout", type=float, default=14400, help="seconds before a run is killed")
    ap.add_argument("--org-server-arg", action="append", default=[], help="extra org_server.py argument (repeatable)")
    ap.add_argument("--mrhost-sync", default=None,
                    help="mrhost's org command, a template with {mrhost} {url} {regions} {out} (default: org_bench.MRHOST_SYNC_DEFAULT when mrhost has `sync`)")
    args = ap.parse_args()
    os.makedirs(OUT, exist_ok=True)
    for f in ("no-aws-config", "no-aws-credentials"):
        open(os.path.join(OUT, f), "a").close()

    plugins = [("rust", args.plugin)]
    missing = []
    for spec in args.extra_plugin:
        name, path = spec.split("=", 1)
        if os.path.exists(path):
            plugins.append((name, path))
        else:
            missing.append(name)

    b = Bench(args)
    only = set(filter(None, args.only.split(",")))
    prev = os.path.join(OUT, "results.json")
    if only and os.path.exists(prev):
        # A partial run updates the figures it measured and keeps the others.
        b.results = json.load(open(prev))
        b.results.setdefault("partial_updates", []).append(sorted(only))
    mkey = "machine_partial" if "partial_updates" in b.results else "machine"
    b.results[mkey] = machine()
    if mkey == "machine":
        b.results["plugins"] = dict(plugins)
        b.results["plugins_missing"] = missing
    want = lambda k: not only or k in only  # noqa: E731
    try:
        # Warm the compile cache for every plugin first (the compile figure uses its own dirs).
        if want("startup"):
            log("== start-up")
            b.startup(args.startup_runs)
        if want("fanout"):
            log("== fan-out, 3 pages per region")
            b.fanout(50, 20, "fanout")
        if want("fanout_1page"):
            log("== fan-out, 1 page per region")
            b.fanout(50, 1000, "fanout_1page", with_cli=False)
        if want("fanout_nodelay"):
            log("== fan-out, no delay (start-up and parsing only)")
            b.fanout(50, 1000, "fanout_nodelay", with_cli=False, delays="none")
        if want("throughput"):
            log("== throughput, 100k VPCs")
            b.throughput(100_000, "throughput_100k", args.throughput_runs, plugins)
        if want("big") and args.big_runs > 0:
            log("== 1M VPCs streamed (throughput and peak RSS)")
            b.throughput(1_000_000, "throughput_1m", args.big_runs, [("rust", args.plugin)])
        if want("compile"):
            log("== first compile")
            b.compile(plugins, args.compile_runs)
        if "org" in only:  # opt-in: not part of a full run
            log("== organisation (%d accounts)" % args.org_accounts)
            org_bench.org(b, args, run=run, stats=stats, log=log, env=ENV, out=OUT)
    finally:
        b.stop_servers()
    b.results[mkey]["loadavg_end"] = open("/proc/loadavg").read().split()[:3]
    stamp = time.strftime("%Y%m%dT%H%M%S")
    with open(os.path.join(OUT, "results-%s.json" % stamp), "w") as f:
        json.dump(b.results, f, indent=1)
    with open(os.path.join(OUT, "results.json"), "w") as f:
        json.dump(b.results, f, indent=1)
    text = report(b.results)
    with open(os.path.join(OUT, "results.json"), "w") as f:
        json.dump(b.results, f, indent=1)
    with open(os.path.join(OUT, "report.md"), "w") as f:
        f.write(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
