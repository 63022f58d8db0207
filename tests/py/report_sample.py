#!/usr/bin/env python3
"""Renders the `mrhost report` page template (host/assets/report/) with sample data.

    report_sample.py -o report.html            a realistic inventory: 3 accounts x 2 regions
    report_sample.py -o empty.html --empty     an empty inventory (no sync stored)
    report_sample.py -o big.html --rows 5000   one type with 5000 rows, some left out
    report_sample.py -o x.html --data d.json   any data document (the JSON contract)
    report_sample.py --dump-data               print the sample's JSON

`render(data)` is the reference for the substitution the Rust side does (see
host/assets/report/README.md): every placeholder of the template occurs exactly once and is
replaced in one pass, so text inside one substitution is never mistaken for a placeholder;
the data is compact JSON with every `<` written as `\\u003c`; the vendored files are inlined
in the order of vendor/manifest.txt, `.js` files into /*MRHOST_VENDOR_JS*/ (joined by a
newline and `;`), `.css` files into /*MRHOST_VENDOR_CSS*/.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import random
import re
import sys

ASSETS = pathlib.Path(__file__).resolve().parents[2] / "host" / "assets" / "report"
DATA_PLACEHOLDER = "/*MRHOST_REPORT_DATA*/null"
PLACEHOLDERS = (DATA_PLACEHOLDER, "/*MRHOST_CSS*/", "/*MRHOST_JS*/", "/*MRHOST_VENDOR_JS*/",
                "/*MRHOST_VENDOR_CSS*/")
MAX_TABLE_ROWS = 3000  # rows kept per type in the page; the rest are counted as omitted


def data_json(data) -> str:
    """The data as it goes into the <script type="application/json"> element."""
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).replace("<", "\\u003c")


def render(data, assets: pathlib.Path = ASSETS) -> str:
    template = (assets / "report.html").read_text(encoding="utf-8")
    vendor = assets / "vendor"
    names = [n.strip() for n in (vendor / "manifest.txt").read_text().splitlines()
             if n.strip() and not n.startswith("#")]
    read = lambda p: p.read_text(encoding="utf-8")  # noqa: E731
    subs = {
        DATA_PLACEHOLDER: data_json(data),
        "/*MRHOST_CSS*/": read(assets / "report.css"),
        "/*MRHOST_JS*/": read(assets / "report.js"),
        "/*MRHOST_VENDOR_JS*/": "\n;\n".join(read(vendor / n) for n in names if n.endswith(".js")),
        "/*MRHOST_VENDOR_CSS*/": "\n".join(read(vendor / n) for n in names if n.endswith(".css")),
    }
    for key in PLACEHOLDERS:
        if template.count(key) != 1:
            raise ValueError(f"{key} occurs {template.count(key)} times in the template")
    for key in PLACEHOLDERS[1:]:
        if re.search(r"</(script|style)|<!--", subs[key], re.I):
            raise ValueError(f"the text for {key} would close its element")
    pattern = re.compile("|".join(re.escape(k) for k in PLACEHOLDERS))
    return pattern.sub(lambda m: subs[m.group(0)], template)


# -- sample data ---------------------------------------------------------------------------

ACCOUNTS = [{"id": "111111111111", "name": "prod-a"},
            {"id": "222222222222", "name": "staging"},
            {"id": "333333333333", "name": None}]
REGIONS = ["eu-west-1", "us-east-1"]
SOURCE = "sqlite:/home/u/.local/share/mrhost/inventory.sqlite"

TYPE_DESCRIPTIONS = {
    "vpcs": "EC2 VPCs",
    "subnets": "EC2 subnets",
    "security-groups": "EC2 security groups",
    "instances": "EC2 instances",
    "ebs-volumes": "EBS volumes",
    "s3-buckets": "S3 buckets (global, listed once per account)",
    "iam-roles": "IAM roles (global, listed once per account)",
    "lambda-functions": "Lambda functions",
    "rds-instances": "RDS DB instances",
}


def _sample_rows(rng: random.Random, big: int) -> dict[str, tuple[list[str], list[list]]]:
    tables: dict[str, tuple[list[str], list[list]]] = {}

    def add(t, cols, row):
        tables.setdefault(t, (cols + ["_account", "_region"], []))[1].append(row)

    hexid = lambda: "%017x" % rng.getrandbits(68)  # noqa: E731
    for acct in ACCOUNTS:
        a = acct["id"]
        for region in REGIONS:
            weight = {"111111111111": 3, "222222222222": 2, "333333333333": 1}[a]
            if region == "us-east-1":
                weight = max(1, weight - 1)
            vpcs = []
            for v in range(weight + 1):
                vid = "vpc-" + hexid()
                vpcs.append(vid)
                add("vpcs", ["VpcId", "CidrBlock", "IsDefault", "State", "Tags"],
                    [vid, f"10.{v}.0.0/16", v == 0, "available",
                     {"Name": f"{acct['name'] or 'sandbox'}-{v}", "env": acct["name"] or "dev"}
                     if v else None, a, region])
            for vid in vpcs:
                for z in "abc"[: 1 + weight % 3]:
                    add("subnets", ["SubnetId", "VpcId", "CidrBlock", "AvailabilityZone",
                                    "MapPublicIpOnLaunch"],
                        ["subnet-" + hexid(), vid, f"10.0.{rng.randrange(255)}.0/24",
                         region + z, rng.random() < 0.3, a, region])
            for g in range(weight * 4):
                ports = rng.choice([[443], [80, 443], [22], [5432], [3389], []])
                add("security-groups", ["GroupId", "GroupName", "VpcId", "IpPermissions"],
                    ["sg-" + hexid(), f"app-{g}", rng.choice(vpcs),
                     [{"FromPort": p, "ToPort": p, "IpProtocol": "tcp",
                       "IpRanges": [{"CidrIp": rng.choice(["10.0.0.0/8", "0.0.0.0/0"])}]}
                      for p in ports], a, region])
            n_inst = weight * 9 + (big if (a, region) == ("111111111111", "eu-west-1") else 0)
            for i in range(n_inst):
                add("instances", ["InstanceId", "InstanceType", "State", "LaunchTime",
                                  "PrivateIpAddress", "Tags.Name"],
                    ["i-" + hexid(), rng.choice(["t3.micro", "t3.large", "m7g.xlarge",
                                                 "c7i.2xlarge", "r6i.large"]),
                     rng.choice(["running"] * 6 + ["stopped"]),
                     f"2026-{rng.randint(1, 11):02d}-{rng.randint(1, 28):02d}T0"
                     f"{rng.randint(0, 9)}:15:00+00:00",
                     f"10.0.{rng.randrange(255)}.{rng.randrange(255)}",
                     rng.choice(["web", "api", "worker", "batch", None, "<b>not html</b>"]),
                     a, region])
            for i in range(weight * 6):
                add("ebs-volumes", ["VolumeId", "Size", "VolumeType", "Encrypted", "State"],
                    ["vol-" + hexid(), rng.choice([8, 20, 100, 500]),
                     rng.choice(["gp3", "gp3", "io2", "st1"]), rng.random() < 0.8,
                     rng.choice(["in-use", "in-use", "available"]), a, region])
            if region == "eu-west-1" or a != "333333333333":
                for i in range(weight * 2):
                    add("lambda-functions", ["FunctionName", "Runtime", "MemorySize",
                                             "LastModified"],
                        [f"fn-{acct['name'] or 'x'}-{i}", rng.choice(["python3.12", "nodejs20.x",
                                                                     "provided.al2023"]),
                         rng.choice([128, 256, 1024]), "2026-10-01T10:00:00.000+0000", a, region])
            if a != "333333333333":
                for i in range(weight):
                    add("rds-instances", ["DBInstanceIdentifier", "Engine", "DBInstanceClass",
                                          "MultiAZ", "StorageEncrypted"],
                        [f"db-{acct['name']}-{region}-{i}", rng.choice(["postgres", "mysql"]),
                         "db.t4g.medium", rng.random() < 0.5, rng.random() < 0.7, a, region])
        # global types: once per account, attributed to us-east-1
        for i in range(3 + rng.randrange(4)):
            add("s3-buckets", ["Name", "CreationDate", "BucketRegion"],
                [f"{acct['name'] or a}-bucket-{i}", "2025-03-01T00:00:00+00:00",
                 rng.choice(REGIONS), a, "us-east-1"])
        for i in range(8 + rng.randrange(8)):
            add("iam-roles", ["RoleName", "Arn", "CreateDate", "RoleLastUsed"],
                [f"role-{i}", f"arn:aws:iam::{a}:role/role-{i}", "2024-01-01T00:00:00+00:00",
                 {"LastUsedDate": "2026-11-20T00:00:00+00:00", "Region": "eu-west-1"}
                 if rng.random() < 0.6 else {}, a, "us-east-1"])
    return tables


def sample_data(big: int = 0, seed: int = 7) -> dict:
    rng = random.Random(seed)
    tables = _sample_rows(rng, big)
    heat: dict[tuple[str, str], int] = {}
    for cols, rows in tables.values():
        ai, ri = cols.index("_account"), cols.index("_region")
        for r in rows:
            heat[(r[ai], r[ri])] = heat.get((r[ai], r[ri]), 0) + 1
    total = sum(len(rows) for _, rows in tables.values())
    errors = [
        {"class": "access-denied", "type": "lambda-functions", "account": "333333333333",
         "region": "us-east-1", "code": "AccessDeniedException",
         "message": "User: arn:aws:sts::333333333333:assumed-role/Auditor/mrhost is not "
                    "authorized to perform: lambda:ListFunctions on resource: * because no "
                    "identity-based policy allows the lambda:ListFunctions action"},
        {"class": "throttled", "type": "instances", "account": "222222222222",
         "region": "us-east-1", "code": "RequestLimitExceeded",
         "message": "Request limit exceeded. (gave up after 8 attempts)"},
    ]
    history = []
    resources = total - 31
    for sync in range(1, 8):
        added = [0, 4, 12, 0, 7, 19, 14][sync - 1] if sync > 1 else resources
        removed = [0, 1, 0, 3, 2, 5, 4][sync - 1]
        changed = [0, 2, 5, 1, 8, 6, 9][sync - 1]
        if sync > 1:
            resources += added - removed
        history.append({"sync": sync, "finished": f"2026-11-{23 + sync:02d}T06:00:{10 + sync}Z",
                        "added": added, "removed": removed, "changed": changed,
                        "resources": resources})
    history[-1]["resources"] = total

    inst_cols, inst_rows = tables["instances"]
    diff = []
    for r in inst_rows[:6]:
        diff.append({"type": "instances", "id": r[0], "account": r[-2], "region": r[-1],
                     "change": "added", "fields": []})
    diff.append({"type": "instances", "id": "i-0deadbeef0000001", "account": "111111111111",
                 "region": "eu-west-1", "change": "removed", "fields": []})
    diff.append({"type": "instances", "id": inst_rows[7][0], "account": inst_rows[7][-2],
                 "region": inst_rows[7][-1], "change": "changed",
                 "fields": [{"path": "State", "before": "stopped", "after": "running"},
                            {"path": "InstanceType", "before": "t3.micro", "after": "t3.large"}]})
    vcols, vrows = tables["vpcs"]
    diff.append({"type": "vpcs", "id": vrows[1][0], "account": vrows[1][-2],
                 "region": vrows[1][-1], "change": "changed",
                 "fields": [{"path": "Tags.Name", "before": "web", "after": "api"},
                            {"path": "Tags.owner", "before": None, "after": "team-<b>net</b>"}]})
    scols, srows = tables["security-groups"]
    diff.append({"type": "security-groups", "id": srows[0][0], "account": srows[0][-2],
                 "region": srows[0][-1], "change": "changed",
                 "fields": [{"path": "IpPermissions[0].IpRanges",
                             "before": [{"CidrIp": "10.0.0.0/8"}],
                             "after": [{"CidrIp": "0.0.0.0/0"}]}]})
    for r in tables["iam-roles"][1][:3]:
        diff.append({"type": "iam-roles", "id": r[0] + "-old", "account": r[-2],
                     "region": r[-1], "change": "removed", "fields": []})

    open_sgs = [[r[-2], r[-1], r[0], r[1], p["FromPort"]] for r in srows for p in r[3]
                if p["FromPort"] in (22, 3389) and p["IpRanges"][0]["CidrIp"] == "0.0.0.0/0"]
    ecols, erows = tables["ebs-volumes"]
    unenc = [[r[-2], r[-1], r[0], r[1]] for r in erows if not r[3]]
    findings = [
        {"id": "sg-open-admin-ports", "title": "Security groups open SSH/RDP to the internet",
         "severity": "high",
         "description": "Ingress from 0.0.0.0/0 on port 22 or 3389. Restrict the source to "
                        "a bastion or use Session Manager.",
         "count": len(open_sgs), "columns": ["_account", "_region", "GroupId", "GroupName",
                                             "Port"], "rows": open_sgs},
        {"id": "ebs-unencrypted", "title": "Unencrypted EBS volumes", "severity": "medium",
         "description": "Volumes created without encryption at rest.", "count": len(unenc),
         "columns": ["_account", "_region", "VolumeId", "SizeGiB"], "rows": unenc},
        {"id": "default-vpc-in-use", "title": "Default VPC still present", "severity": "low",
         "description": "Default VPCs come with public subnets; delete the unused ones.",
         "count": sum(1 for r in vrows if r[2]),
         "columns": ["_account", "_region", "VpcId"],
         "rows": [[r[-2], r[-1], r[0]] for r in vrows if r[2]]},
        {"id": "rds-public", "title": "Publicly accessible RDS instances", "severity": "high",
         "description": "DB instances with PubliclyAccessible = true.", "count": 0,
         "columns": ["_account", "_region", "DBInstanceIdentifier"], "rows": []},
    ]

    out_tables = []
    for t in sorted(tables, key=lambda t: -len(tables[t][1])):
        cols, rows = tables[t]
        out_tables.append({
            "type": t, "columns": cols, "rows": rows[:MAX_TABLE_ROWS], "total": len(rows),
            "omitted": max(0, len(rows) - MAX_TABLE_ROWS),
            "query_hint": f'mrhost query "SELECT * FROM {t}" --from {SOURCE}'})
    return {
        "generated_at": "2026-11-30T12:00:00Z",
        "source": SOURCE,
        "at": {"id": 7, "started": "2026-11-30T05:59:48Z", "finished": "2026-11-30T06:00:17Z",
               "duration_s": 29.4, "status": "complete"},
        "since": {"id": 5, "started": "2026-11-28T05:59:51Z",
                  "finished": "2026-11-28T06:00:15Z", "duration_s": 24.1, "status": "complete"},
        "headline": {"accounts": len(ACCOUNTS), "regions": len(REGIONS), "types": len(tables),
                     "resources": total, "failed_units": len(errors)},
        "accounts": ACCOUNTS,
        "regions": REGIONS,
        "heatmap": [{"account": a, "region": r, "count": c} for (a, r), c in sorted(heat.items())],
        "types": [{"type": t, "count": len(tables[t][1]), "description": TYPE_DESCRIPTIONS[t]}
                  for t in sorted(tables, key=lambda t: -len(tables[t][1]))],
        "history": history,
        "diff": diff,
        "diff_omitted": 0,
        "errors": errors,
        "findings": findings,
        "tables": out_tables,
    }


def empty_data() -> dict:
    return {
        "generated_at": "2026-11-30T12:00:00Z", "source": SOURCE, "at": None, "since": None,
        "headline": {"accounts": 0, "regions": 0, "types": 0, "resources": 0,
                     "failed_units": 0},
        "accounts": [], "regions": [], "heatmap": [], "types": [], "history": [], "diff": [],
        "diff_omitted": 0, "errors": [], "findings": [], "tables": [],
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-o", "--output", help="the HTML file to write")
    ap.add_argument("--empty", action="store_true", help="an empty inventory")
    ap.add_argument("--rows", type=int, default=0,
                    help="add this many instances in one scope (tests the row limit)")
    ap.add_argument("--data", help="render this JSON document instead of the sample")
    ap.add_argument("--dump-data", action="store_true", help="print the data, not the page")
    args = ap.parse_args(argv)
    if args.data:
        data = json.loads(pathlib.Path(args.data).read_text())
    else:
        data = empty_data() if args.empty else sample_data(big=args.rows)
    if args.dump_data:
        print(json.dumps(data, indent=1))
        return 0
    if not args.output:
        ap.error("-o is required")
    page = render(data)
    pathlib.Path(args.output).write_text(page, encoding="utf-8")
    print(f"{args.output}: {len(page.encode())} bytes", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
