#!/usr/bin/env python3
"""Self-test of org_server.py with boto3 as the reference (run with bench/.venv's Python):

  1. protocol: every operation parsed by botocore with every field, paginators followed to the
     exact /expected counts (default and small page sizes), Organizations paging and the OU tree
     (depth >= 3), AssumeRole attribution, AccessDenied for SUSPENDED and unknown accounts,
     AccessDeniedException for a member calling Organizations, bad tokens and page sizes refused;
  2. throttling: a second server with one-token buckets answers each service's throttle as that
     service does, and botocore classifies each as throttling (standard/adaptive modes'
     ThrottledRetryableChecker, and the legacy _retry.json policies);
  3. peers: peers/botocove_org.py and peers/multiregion_org.py over the whole organisation,
     each compared with /expected: nothing lost, nothing extra.

    org_selftest.py [--accounts 30] [--skip-peers] [--regions a,b,c]

Ends with a line `N passed, M failed`; exit status 1 if anything failed. Takes about 10 minutes
on the 2-core machine, 6 of them botocove's (26 accounts x 17 regions, a new boto3 Session for
each pair); --skip-peers about 1.5 minutes.
"""

import argparse
import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from org_server import TYPES, Process, compare  # noqa: E402
from server import REGIONS_17  # noqa: E402

RESULTS = []


def check(name, ok, detail=""):
    RESULTS.append((name, bool(ok)))
    print("%s %s%s" % ("ok  " if ok else "FAIL", name, (": " + detail) if detail and not ok else ""), flush=True)
    return ok


def env_for(url):
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION="us-east-1",
               AWS_REGION="us-east-1", AWS_EC2_METADATA_DISABLED="true", AWS_ENDPOINT_URL=url,
               AWS_CONFIG_FILE=os.devnull, AWS_SHARED_CREDENTIALS_FILE=os.devnull, TZ="UTC")
    return env


# The fields each item must come back with (botocore names): proof that nothing was dropped.
FIELDS = {
    "vpcs": {"VpcId", "OwnerId", "State", "CidrBlock", "CidrBlockAssociationSet", "DhcpOptionsId", "Tags",
             "InstanceTenancy", "IsDefault", "BlockPublicAccessStates"},
    "subnets": {"SubnetId", "SubnetArn", "State", "OwnerId", "VpcId", "CidrBlock", "Ipv6CidrBlockAssociationSet",
                "AvailableIpAddressCount", "AvailabilityZone", "AvailabilityZoneId", "DefaultForAz",
                "MapPublicIpOnLaunch", "AssignIpv6AddressOnCreation", "Tags", "PrivateDnsNameOptionsOnLaunch",
                "BlockPublicAccessStates", "Ipv6Native", "EnableDns64", "MapCustomerOwnedIpOnLaunch"},
    "security_groups": {"OwnerId", "GroupId", "GroupName", "Description", "VpcId", "IpPermissions",
                        "IpPermissionsEgress", "Tags", "SecurityGroupArn"},
    "db_snapshots": {"DBSnapshotIdentifier", "DBInstanceIdentifier", "SnapshotCreateTime", "Engine", "AllocatedStorage",
                     "Status", "Port", "AvailabilityZone", "VpcId", "InstanceCreateTime", "MasterUsername",
                     "EngineVersion", "LicenseModel", "SnapshotType", "OptionGroupName", "PercentProgress",
                     "StorageType", "Encrypted", "KmsKeyId", "DBSnapshotArn", "IAMDatabaseAuthenticationEnabled",
                     "ProcessorFeatures", "DbiResourceId", "TagList", "OriginalSnapshotCreateTime", "SnapshotTarget"},
    "roles": {"Path", "RoleName", "RoleId", "Arn", "CreateDate", "AssumeRolePolicyDocument", "Description",
              "MaxSessionDuration"},
}
CALL = {"vpcs": ("ec2", "describe_vpcs", "Vpcs", "MaxResults"), "subnets": ("ec2", "describe_subnets", "Subnets", None),
        "security_groups": ("ec2", "describe_security_groups", "SecurityGroups", None),
        "db_snapshots": ("rds", "describe_db_snapshots", "DBSnapshots", None), "roles": ("iam", "list_roles", "Roles", None)}


def protocol(srv, exp):
    import boto3
    from botocore.config import Config
    from botocore.exceptions import ClientError

    base = boto3.Session()
    sts = base.client("sts")
    me = sts.get_caller_identity()
    check("GetCallerIdentity with the base key is the management account", me["Account"] == exp["management"])

    org = base.client("organizations")
    o = org.describe_organization()["Organization"]
    check("DescribeOrganization", o["Id"] == exp["organization"] and o["MasterAccountId"] == exp["management"])
    pages = list(org.get_paginator("list_accounts").paginate())
    accts = [a for p in pages for a in p["Accounts"]]
    check("ListAccounts pages of <= 20 with NextToken", all(len(p["Accounts"]) <= 20 for p in pages) and len(pages) == -(-len(exp["accounts"]) // 20))
    check("ListAccounts returns every account once", sorted(a["Id"] for a in accts) == sorted(exp["accounts"]))
    check("ListAccounts Status/State as /expected", all(a["Status"] == exp["accounts"][a["Id"]]["Status"] and a["State"] == a["Status"] for a in accts))
    check("a few SUSPENDED accounts", sum(a["Status"] == "SUSPENDED" for a in accts) >= 2)
    check("Account fields parsed", all({"Id", "Arn", "Email", "Name", "Status", "State", "JoinedMethod", "JoinedTimestamp"} <= set(a) for a in accts))
    small = list(org.get_paginator("list_accounts").paginate(PaginationConfig={"PageSize": 7}))
    check("ListAccounts with MaxResults 7", sum(len(p["Accounts"]) for p in small) == len(accts) and len(small[0]["Accounts"]) == 7)
    roots = org.list_roots()["Roots"]
    check("ListRoots", [r["Id"] for r in roots] == [exp["root"]])

    found, depth = [], 0

    def walk(pid, d):
        nonlocal depth
        depth = max(depth, d)
        kids = [c["Id"] for p in org.get_paginator("list_children").paginate(ParentId=pid, ChildType="ACCOUNT") for c in p["Children"]]
        via = [a["Id"] for p in org.get_paginator("list_accounts_for_parent").paginate(ParentId=pid) for a in p["Accounts"]]
        assert kids == via, (pid, kids, via)
        found.extend(kids)
        ous = [c["Id"] for p in org.get_paginator("list_children").paginate(ParentId=pid, ChildType="ORGANIZATIONAL_UNIT") for c in p["Children"]]
        ous2 = [u["Id"] for p in org.get_paginator("list_organizational_units_for_parent").paginate(ParentId=pid) for u in p["OrganizationalUnits"]]
        assert ous == ous2
        for u in ous:
            walk(u, d + 1)

    walk(exp["root"], 0)
    check("OU walk (ListChildren, ListAccountsForParent, ListOrganizationalUnitsForParent) finds every account",
          sorted(found) == sorted(exp["accounts"]))
    check("OU depth >= 3", depth >= 3, str(depth))

    def code_of(fn):
        try:
            fn()
        except ClientError as e:
            return e.response["Error"]["Code"], e.response["ResponseMetadata"]["HTTPStatusCode"]
        return None, 200

    rawo = base.client("organizations", config=Config(parameter_validation=False))
    check("MaxResults 21 refused", code_of(lambda: rawo.list_accounts(MaxResults=21))[0] == "InvalidInputException")
    check("bad NextToken refused", code_of(lambda: org.list_accounts(NextToken="bogus"))[0] == "InvalidInputException")
    check("unknown parent refused", code_of(lambda: org.list_children(ParentId="ou-zzzz-zzzzzzzz", ChildType="ACCOUNT"))[0] == "ParentNotFoundException")

    def creds_for(acct):
        c = sts.assume_role(RoleArn="arn:aws:iam::%s:role/OrganizationAccountAccessRole" % acct, RoleSessionName="selftest")["Credentials"]
        return boto3.Session(aws_access_key_id=c["AccessKeyId"], aws_secret_access_key=c["SecretAccessKey"], aws_session_token=c["SessionToken"])

    member = exp["active_members"][0]
    ms = creds_for(member)
    check("AssumeRole credentials are attributed to the target account", ms.client("sts").get_caller_identity()["Account"] == member)
    check("a member calling Organizations gets AccessDeniedException",
          code_of(lambda: ms.client("organizations").list_accounts())[0] == "AccessDeniedException")
    susp = [a for a, v in exp["accounts"].items() if v["Status"] == "SUSPENDED"][0]
    check("AssumeRole into a SUSPENDED account: AccessDenied 403",
          code_of(lambda: sts.assume_role(RoleArn="arn:aws:iam::%s:role/OrganizationAccountAccessRole" % susp, RoleSessionName="x1")) == ("AccessDenied", 403))
    check("AssumeRole into an unknown account: AccessDenied 403",
          code_of(lambda: sts.assume_role(RoleArn="arn:aws:iam::000000000000:role/OrganizationAccountAccessRole", RoleSessionName="x1")) == ("AccessDenied", 403))
    bad = boto3.Session(aws_access_key_id="AKIANOTKNOWN", aws_secret_access_key="x")
    check("an unknown key: AuthFailure (ec2) / InvalidClientTokenId (query)",
          code_of(lambda: bad.client("ec2", region_name="eu-west-1").describe_vpcs())[0] == "AuthFailure"
          and code_of(lambda: bad.client("iam").list_roles())[0] == "InvalidClientTokenId")

    # Every type, in every scope of one big and one small account, paginated by boto3.
    big = [a for a in exp["active_members"] if exp["accounts"][a]["Kind"] == "big"][0]
    for acct in (big, member):
        s = creds_for(acct) if acct != member else ms
        counts = exp["counts"].get(acct, {})
        bad_scopes, fields_ok, n_items = [], True, 0
        jobs = [(t, r) for t in CALL for r in (["us-east-1"] if TYPES[t][2] else exp["regions"])]
        clients = {(svc, r): s.client(svc, region_name=r, config=Config(retries={"mode": "standard", "max_attempts": 10}))
                   for svc in ("ec2", "rds", "iam") for r in exp["regions"]}

        def scan(job):
            t, r = job
            svc, method, key, _ = CALL[t]
            return t, r, [i for p in clients[(svc, r)].get_paginator(method).paginate() for i in p[key]]

        with ThreadPoolExecutor(8) as pool:
            scanned = list(pool.map(scan, jobs))
        for t, r, items in scanned:
            want = counts.get(t, {}).get("global" if TYPES[t][2] else r, 0)
            n_items += len(items)
            if len(items) != want:
                bad_scopes.append((t, r, len(items), want))
            missing = [FIELDS[t] - set(i) for i in items[:50] if FIELDS[t] - set(i)]
            if missing:
                fields_ok = False
                bad_scopes.append((t, r, "missing fields", sorted(missing[0])))
        check("%s account %s: every scope's count as /expected (%d items)" % (exp["accounts"][acct]["Kind"], acct, n_items),
              not bad_scopes, str(bad_scopes[:3]))
        check("%s account: every field of every type parsed" % exp["accounts"][acct]["Kind"], fields_ok)
    bs = creds_for(big)
    for t, (svc, method, key, _) in CALL.items():
        scope = max(exp["counts"][big][t].items(), key=lambda kv: kv[1])
        region = "us-east-1" if scope[0] == "global" else scope[0]
        size = {"ec2": 5, "rds": 20, "iam": 7}[svc]
        c = bs.client(svc, region_name=region)
        pages = list(c.get_paginator(method).paginate(PaginationConfig={"PageSize": size, "MaxItems": size * 3 + 1}))
        check("%s with page size %d: pages of %d, resumable" % (t, size, size),
              [len(p[key]) for p in pages] == [size, size, size, 1] if scope[1] > size * 3 else True)
    check("ec2 DescribeRegions lists the regions", sorted(r["RegionName"] for r in ms.client("ec2", region_name="eu-west-1").describe_regions()["Regions"]) == sorted(exp["regions"]))
    raw = Config(parameter_validation=False)
    ec2 = ms.client("ec2", region_name="eu-west-1", config=raw)
    check("ec2 MaxResults 4 refused (InvalidParameterValue)", code_of(lambda: ec2.describe_vpcs(MaxResults=4))[0] == "InvalidParameterValue")
    check("ec2 bad NextToken refused", code_of(lambda: ec2.describe_vpcs(NextToken="x"))[0] == "InvalidNextToken")
    check("rds MaxRecords 101 refused", code_of(lambda: ms.client("rds", region_name="eu-west-1", config=raw).describe_db_snapshots(MaxRecords=101))[0] == "InvalidParameterValue")
    check("iam MaxItems 1001 refused", code_of(lambda: ms.client("iam", config=raw).list_roles(MaxItems=1001))[0] == "ValidationError")


def throttling():
    """One-token buckets that never refill: the second call to each service is throttled."""
    import boto3
    from botocore import translate
    from botocore.config import Config
    from botocore.exceptions import ClientError
    from botocore.retries import standard
    from botocore import retryhandler

    args = []
    for s in ("ec2", "rds", "iam", "sts", "org"):
        args += ["--%s-rate" % s, "0.0001", "--%s-burst" % s, "1"]
    srv = Process(["--accounts", "10", "--delays", "none", *args])
    try:
        old = dict(os.environ)
        os.environ.update(env_for(srv.url))
        try:
            exp = srv.get("/expected")
            base = boto3.Session()
            no_retry = Config(retries={"mode": "standard", "max_attempts": 1})
            sts = base.client("sts", config=no_retry)
            c = sts.assume_role(RoleArn="arn:aws:iam::%s:role/OrganizationAccountAccessRole" % exp["active_members"][0],
                                RoleSessionName="throttle")["Credentials"]
            ms = boto3.Session(aws_access_key_id=c["AccessKeyId"], aws_secret_access_key=c["SecretAccessKey"],
                               aws_session_token=c["SessionToken"])
            loader = base._session.get_component("data_loader")
            retry_model = loader.load_data("_retry")
            cases = [
                ("ec2", ms.client("ec2", region_name="eu-west-1", config=no_retry), "describe_vpcs", {}, "RequestLimitExceeded", 503),
                ("rds", ms.client("rds", region_name="eu-west-1", config=no_retry), "describe_db_snapshots", {}, "Throttling", 400),
                ("iam", ms.client("iam", config=no_retry), "list_roles", {}, "Throttling", 400),
                ("sts", sts, "get_caller_identity", {}, "Throttling", 400),
                ("organizations", base.client("organizations", config=no_retry), "list_roots", {}, "TooManyRequestsException", 400),
            ]
            for svc, client, method, params, want_code, want_status in cases:
                seen = {}

                def grab(http_response, parsed, model, **kw):
                    seen.update(http=http_response, parsed=parsed, model=model)

                client.meta.events.register("after-call.*.*", grab)
                if svc == "ec2":  # the per-API bucket: DescribeVpcs' own token first
                    getattr(client, method)(**params)
                try:
                    getattr(client, method)(**params)
                    getattr(client, method)(**params)
                    got = (None, 200)
                except ClientError as e:
                    got = (e.response["Error"]["Code"], e.response["ResponseMetadata"]["HTTPStatusCode"])
                ctx = standard.RetryContext(attempt_number=1, operation_model=seen.get("model"),
                                            parsed_response=seen.get("parsed"), http_response=seen.get("http"))
                std = standard.ThrottledRetryableChecker().is_retryable(ctx)
                prefix = client.meta.service_model.endpoint_prefix
                cfg = translate.build_retry_config(prefix, retry_model["retry"], retry_model.get("definitions", {}))
                legacy = retryhandler.create_checker_from_retry_config(cfg, seen["model"].name)(
                    attempt_number=1, response=(seen["http"], seen["parsed"]), caught_exception=None, retries_context={})
                check("%s throttle answers %s HTTP %d, a throttle to botocore (standard: %s, legacy retries: %s)"
                      % (svc, want_code, want_status, std, legacy),
                      got == (want_code, want_status) and std and legacy, str(got))
            st = srv.get("/stats?summary=1")
            check("/stats counts the throttles", st["throttled"] >= 5, str(st["throttled"]))
        finally:
            os.environ.clear()
            os.environ.update(old)
    finally:
        srv.stop()


def peers(srv, exp, regions):
    out = {}
    for name in ("multiregion_org.py", "botocove_org.py"):
        srv.reset()
        t = time.time()
        cmd = [sys.executable, os.path.join(HERE, "peers", name)]
        if regions:
            cmd += ["--regions", ",".join(regions)]
        p = subprocess.run(cmd, env=env_for(srv.url), capture_output=True, timeout=3600)
        if not check("%s ran" % name, p.returncode == 0, p.stderr.decode()[-1500:]):
            continue
        summary = json.loads(p.stdout)
        if regions:
            summary["regions"] = regions
        c = compare(exp if not regions else dict(exp, regions=regions), summary)
        st = srv.get("/stats?summary=1")
        out[name] = {"wall_s": round(time.time() - t, 1), "items": summary["items_total"], "lost": c["lost_items"],
                     "extra": c["extra_items"], "failures": len(summary["failures"]), "throttled_at_server": st["throttled"],
                     "requests": st["requests"], "retries": summary["retry_attempts"]}
        print("  %s: %s" % (name, json.dumps(out[name])), flush=True)
        want = sum(n for a in exp["active_members"] for t in exp["counts"].get(a, {}).values()
                   for r, n in t.items() if not regions or r in regions or r == "global")
        check("%s: every item of every ACTIVE member, nothing lost or extra (%d items)" % (name, want),
              c["complete"] and summary["items_total"] == want and not summary["duplicates"],
              json.dumps({k: v for k, v in c.items() if k != "accounts_missed"})[:800])
        check("%s: no SUSPENDED account targeted, the management account skipped" % name,
              not set(summary["accounts"]) & set(exp["inactive"]) and exp["management"] not in summary["accounts"])
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--accounts", type=int, default=30)
    ap.add_argument("--regions", default="", help="limit the peers to these regions (default: all 17)")
    ap.add_argument("--skip-peers", action="store_true")
    args = ap.parse_args()
    t0 = time.time()
    srv = Process(["--accounts", str(args.accounts)])
    try:
        exp = srv.get("/expected")
        print("org_server: %d accounts, %d ACTIVE members, %d items (%s)" % (
            len(exp["accounts"]), len(exp["active_members"]), exp["total"], srv.url), flush=True)
        old = dict(os.environ)
        os.environ.update(env_for(srv.url))
        try:
            protocol(srv, exp)
        finally:
            os.environ.clear()
            os.environ.update(old)
        throttling()
        if not args.skip_peers:
            regions = [r for r in args.regions.split(",") if r]
            for r in regions:
                if r not in REGIONS_17:
                    raise SystemExit("unknown region %s" % r)
            peers(srv, exp, regions)
    finally:
        srv.stop()
    failed = sum(1 for _, ok in RESULTS if not ok)
    print("org self-test took %.0fs" % (time.time() - t0))
    print("%d passed, %d failed" % (len(RESULTS) - failed, failed))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
