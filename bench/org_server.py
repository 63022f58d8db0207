#!/usr/bin/env python3
"""A simulated AWS Organization on 127.0.0.1: Organizations, STS, and five read operations,
with per-region latency and the services' own token-bucket throttling.

    org_server.py --port 0 --accounts 1000            # prints `PORT <n>`, then serves
    org_server.py --self-test                         # starts one with 30 accounts and checks both peers

What it speaks (as botocore sends and parses it; checked by org_selftest.py with boto3):

  sts            query protocol (form POST, XML): GetCallerIdentity, AssumeRole.
  organizations  JSON 1.1 (`X-Amz-Target: AWSOrganizationsV20161128.<Op>`): DescribeOrganization,
                 ListRoots, ListAccounts, ListAccountsForParent, ListOrganizationalUnitsForParent,
                 ListChildren; NextToken paging, MaxResults 1..20 (20 when absent).
  ec2            ec2 protocol: DescribeVpcs, DescribeSubnets, DescribeSecurityGroups; NextToken,
                 MaxResults 5..1000 (--ec2-default-page, 1000, when absent). Also DescribeRegions
                 (the 17 regions, all opt-in-not-required) for `--regions enabled`.
  rds            query protocol: DescribeDBSnapshots; Marker, MaxRecords 20..100 (100 when absent).
  iam            query protocol, global (answered as us-east-1): ListRoles; Marker, MaxItems
                 1..1000 (100 when absent), IsTruncated.

Who is calling. The SigV4 `Credential=AKID/date/region/service/aws4_request` names the caller:
the base key `testing` (--base-key) is the management account; AssumeRole hands out
AccessKeyId `ASIA<12-digit account><4 chars>` with a session token that carries the account and
the expiry, so every later request is attributed to (and throttled as) the target account. An
ASIA key without its token, or any other key, is refused as each service refuses an unknown key;
an expired token gets ExpiredToken. AssumeRole into a SUSPENDED / PENDING_CLOSURE or unknown
account answers AccessDenied (HTTP 403) as STS does. Any role name is accepted unless --role-name.
The Organizations API answers only the management account (AccessDeniedException otherwise).

The organisation (deterministic from --seed): --accounts N accounts (management included) in
nested OUs under one root (4 top-level OUs, 3-4 children each, 2-3 grandchildren each: depth 3),
accounts spread over every level; ~0.5% SUSPENDED (at least 2 when N >= 20) and one
PENDING_CLOSURE. Resources per (account, region, type): most accounts small (1-2 VPCs, 0-5
subnets, 1-5 security groups, 0-3 DB snapshots, 3-12 roles), ~5% medium (tens to hundreds in a
few regions), and ~1% big (--big-accounts; at least 2): one region with 10,000-13,000 security
groups, another with 10,000-12,000 subnets, one with 10,000-12,000 DB snapshots (100 per page:
100+ pages), 1,000-3,000 roles. GET /expected gives the exact count per (account, type, region)
("global" for roles) and totals over ACTIVE members (the management account counted apart).

Latency: every answer (errors and throttles included) is held back by its region's delay; the
17-region spread of server.py (20 ms eu-west-1 ... 250 ms ap-southeast-2, us-east-1 80 ms) by
default. IAM and Organizations are global and answer with us-east-1's delay; STS uses the
region of the credential scope (global endpoint = us-east-1).

Throttling (token buckets: capacity = burst, refilled at `rate` tokens/s; a request takes one
token or is throttled, which costs no token). Defaults, and where they come from:
  ec2  per (account, region, API): burst 100, 20/s. EC2 API docs, "Request throttling for the
       Amazon EC2 API": Describe* are non-mutating actions, bucket 100, refill 20/s, evaluated per
       API. (--ec2-bucket service shares one bucket per (account, region) among the three.)
       Throttle: HTTP 503, ec2 XML <Response><Errors><Error><Code>RequestLimitExceeded</Code>.
  rds  per (account, region): burst 300, 12/s. RDS user guide, "Request throttling for the
       Amazon RDS API" ("up to 300 requests in a burst and a sustained 12 requests per second").
       Throttle: HTTP 400 query ErrorResponse, Code Throttling, "Rate exceeded".
  iam  per account (global): 15/s, burst 15. Assumption: IAM publishes no figure ("Rate
       exceeded" past a per-account token bucket); 15/s is the issue's figure.
       Throttle: HTTP 400 query ErrorResponse, Code Throttling, "Rate exceeded".
  sts  per calling account, all STS actions, all regions: 600/s, burst 600. Assumption: the
       commonly cited STS quota of 600 requests/s per account; no burst is published.
       Throttle: HTTP 400 query ErrorResponse, Code Throttling, "Rate exceeded".
  organizations  per calling account: 10/s, burst 20. Assumption: Organizations publishes no
       API rate; a sequential pager at 80 ms (12.5/s) drains the burst only after ~8 s.
       Throttle: HTTP 400 JSON {"__type": "TooManyRequestsException", ...}.
botocore classifies all five as throttling errors (legacy _retry.json and standard mode);
org_selftest.py checks it. Every rate and burst is a flag (--ec2-rate, --ec2-burst, ...);
--no-throttle turns buckets off (for measuring the server itself).

Endpoints besides the AWS ones: GET /expected; GET /stats (request and throttle counts per
operation and per (account, region, service) bucket; /stats?summary=1 leaves the buckets out);
POST or GET /reset (clears stats and refills every bucket); GET /health.

Implementation: one asyncio process with a hand-written HTTP/1.1 keep-alive parser; answers are
sent with loop.call_at at (arrival + delay), so thousands of requests can wait at once without a
thread each. Pages are rendered on first use (about 20 us per item: 19 ms for a page of 1,000
security groups) and kept (LRU, --cache-mib); --prerender renders every default-size page before
`PORT` is printed, so a fast client never waits on rendering.

Measured on the 2-core bench machine (org_load.py, raw keep-alive clients, --no-throttle): about
65 us of server CPU per small request, i.e. ~15k requests/s on one core; 7.6k requests/s
observed with the Python load generator sharing the two cores (it, not the server, saturates).
With the spread delays, 200 connections: 1.65k requests/s, p90 252 ms for the 250 ms region
(delays held to a few ms); 1,000 connections: 5.7k requests/s (client-bound).
"""

import argparse
import asyncio
import base64
import collections
import hashlib
import json
import os
import random
import re
import signal
import socket
import sys
import time
from urllib.parse import parse_qsl, quote

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from server import REGIONS_17, parse_delays  # noqa: E402

EC2_NS = "http://ec2.amazonaws.com/doc/2016-11-15/"
RDS_NS = "http://rds.amazonaws.com/doc/2014-10-31/"
IAM_NS = "https://iam.amazonaws.com/doc/2010-05-08/"
STS_NS = "https://sts.amazonaws.com/doc/2011-06-15/"
ORG_TARGET = "AWSOrganizationsV20161128."
GLOBAL_REGION = "us-east-1"

# type -> (service, operation, global?)
TYPES = {
    "vpcs": ("ec2", "DescribeVpcs", False),
    "subnets": ("ec2", "DescribeSubnets", False),
    "security_groups": ("ec2", "DescribeSecurityGroups", False),
    "db_snapshots": ("rds", "DescribeDBSnapshots", False),
    "roles": ("iam", "ListRoles", True),
}
OP_TYPE = {op: t for t, (svc, op, g) in TYPES.items()}
TYPE_INDEX = {t: i for i, t in enumerate(TYPES)}

CRED_RE = re.compile(r"Credential=([^/,\s]+)/\d{8}/([a-z0-9-]+)/([a-z0-9-]+)/aws4_request")
OU_RE = re.compile(r"^ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}$")
ROOT_RE = re.compile(r"^r-[0-9a-z]{4,32}$")
SESSION_NAME_RE = re.compile(r"^[\w+=,.@-]{2,64}$")
ROLE_ARN_RE = re.compile(r"^arn:aws[a-z-]*:iam::(\d{12}):role/(?:[\w+=,.@/-]*/)?([\w+=,.@-]{1,64})$")


# ---------------------------------------------------------------- the organisation


def _rng(*parts):
    h = hashlib.blake2b("|".join(str(p) for p in parts).encode(), digest_size=8).digest()
    return random.Random(int.from_bytes(h, "big"))


class Org:
    """Accounts, OUs and per-(account, region, type) resource counts, all from the seed."""

    def __init__(self, n_accounts, seed, regions, big_accounts=None):
        self.seed = seed
        self.regions = list(regions)
        rng = _rng(seed, "org")
        self.org_id = "o-" + "".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(10))
        self.root_id = "r-" + "".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(4))
        ids = sorted(rng.sample(range(100_000_000_000, 1_000_000_000_000), n_accounts))
        rng.shuffle(ids)
        self.management = "%012d" % ids[0]

        # OUs: root -> 4 -> 3..4 each -> 2..3 each (depth 3).
        self.ous = {self.root_id: {"Name": "Root", "parent": None, "ous": [], "accounts": []}}
        top_names = ["Security", "Infrastructure", "Workloads", "Sandbox"]
        tag = self.org_id[2:6]

        def new_ou(parent, name):
            oid = "ou-%s-%s" % (tag, "".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(8)))
            self.ous[oid] = {"Name": name, "parent": parent, "ous": [], "accounts": []}
            self.ous[parent]["ous"].append(oid)
            return oid

        levels = [[self.root_id]]
        l1 = [new_ou(self.root_id, n) for n in top_names]
        l2 = [new_ou(p, "%s-%d" % (self.ous[p]["Name"], j)) for p in l1 for j in range(rng.randint(3, 4))]
        l3 = [new_ou(p, "%s-%d" % (self.ous[p]["Name"], j)) for p in l2 for j in range(rng.randint(2, 3))]
        levels += [l1, l2, l3]
        self.depth = 3

        # Accounts: management at the root; members mostly in the deepest OUs.
        self.accounts = []  # dicts
        self.by_id = {}
        base_ts = 1_600_000_000
        n_susp = max(2, round(n_accounts * 0.005)) if n_accounts >= 20 else (1 if n_accounts >= 5 else 0)
        members = list(range(1, n_accounts))
        special = _rng(seed, "special")
        suspended = set(special.sample(members, min(n_susp, len(members))))
        rest = [i for i in members if i not in suspended]
        pending = set(special.sample(rest, 1)) if n_accounts >= 20 else set()
        rest = [i for i in rest if i not in pending]
        n_big = big_accounts if big_accounts is not None else max(2, round(n_accounts * 0.01))
        big = set(special.sample(rest, min(n_big, len(rest))))
        rest2 = [i for i in rest if i not in big]
        medium = set(special.sample(rest2, min(max(1, round(n_accounts * 0.05)), len(rest2))))
        for i, num in enumerate(ids):
            aid = "%012d" % num
            if i == 0:
                parent = self.root_id
            else:
                r = rng.random()
                lvl = 3 if r < 0.7 else 2 if r < 0.9 else 1 if r < 0.97 else 0
                parent = rng.choice(levels[lvl])
            status = "SUSPENDED" if i in suspended else "PENDING_CLOSURE" if i in pending else "ACTIVE"
            kind = "big" if i in big else "medium" if i in medium else "small"
            name = "mgmt" if i == 0 else "acct-%04d" % i
            acct = {
                "Id": aid,
                "Arn": "arn:aws:organizations::%s:account/%s/%s" % (self.management, self.org_id, aid),
                "Email": "aws+%s@example.com" % name,
                "Name": name,
                "Status": status,
                "State": status,  # State mirrors Status for these three values
                "JoinedMethod": "CREATED" if i == 0 or rng.random() < 0.8 else "INVITED",
                "JoinedTimestamp": base_ts + i * 3600 + rng.randint(0, 3599),
                "index": i,
                "parent": parent,
                "kind": kind,
            }
            self.accounts.append(acct)
            self.by_id[aid] = acct
            self.ous[parent]["accounts"].append(aid)
        self.counts = {}  # (account id, type, region|"global") -> n, non-zero only
        for a in self.accounts:
            self._fill_counts(a)

    def _fill_counts(self, a):
        aid, kind = a["Id"], a["kind"]
        r = _rng(self.seed, "counts", aid)
        regions = self.regions
        big_regions = {}
        if kind == "big":
            picks = r.sample(regions, 3)
            big_regions = {"security_groups": picks[0], "subnets": picks[1], "db_snapshots": picks[2]}
            big_n = {"security_groups": r.randint(10_000, 13_000), "subnets": r.randint(10_000, 12_000),
                     "db_snapshots": r.randint(10_000, 12_000)}
        med_regions = set(r.sample(regions, 4)) if kind == "medium" else set()
        for region in regions:
            for t in ("vpcs", "subnets", "security_groups", "db_snapshots"):
                if kind == "big" and big_regions.get(t) == region:
                    n = big_n[t]
                elif kind == "big" and t == "vpcs" and region in (big_regions["security_groups"], big_regions["subnets"]):
                    n = r.randint(100, 300)
                elif region in med_regions:
                    n = r.randint(20, 400) if t != "vpcs" else r.randint(5, 40)
                elif t == "vpcs":
                    n = 1 + (r.random() < 0.3)
                elif t == "subnets":
                    n = r.randint(0, 5)
                elif t == "security_groups":
                    n = r.randint(1, 5)
                else:
                    n = r.choice((0, 0, 0, 0, 0, 0, 0, 1, 2, 3))
                if n:
                    self.counts[(aid, t, region)] = n
        n = r.randint(1000, 3000) if kind == "big" else r.randint(50, 300) if kind == "medium" else r.randint(3, 12)
        self.counts[(aid, "roles", "global")] = n

    def count(self, aid, t, region):
        return self.counts.get((aid, t, "global" if TYPES[t][2] else region), 0)

    def expected(self):
        per = {}
        totals = {t: 0 for t in TYPES}
        total_mgmt = 0
        for (aid, t, region), n in self.counts.items():
            a = self.by_id[aid]
            if a["Status"] != "ACTIVE":
                continue
            per.setdefault(aid, {}).setdefault(t, {})[region] = n
            if aid == self.management:
                total_mgmt += n
            else:
                totals[t] += n
        accounts = {
            a["Id"]: {"Name": a["Name"], "Status": a["Status"], "State": a["State"], "Parent": a["parent"],
                      "Kind": a["kind"], "Management": a["Id"] == self.management}
            for a in self.accounts
        }
        return {
            "seed": self.seed,
            "organization": self.org_id,
            "root": self.root_id,
            "management": self.management,
            "regions": self.regions,
            "types": {t: {"service": s, "operation": op, "global": g} for t, (s, op, g) in TYPES.items()},
            "accounts": accounts,
            "active_members": sorted(a["Id"] for a in self.accounts if a["Status"] == "ACTIVE" and a["Id"] != self.management),
            "inactive": sorted(a["Id"] for a in self.accounts if a["Status"] != "ACTIVE"),
            "counts": per,  # ACTIVE accounts only (management included), non-zero counts
            "totals": totals,  # ACTIVE members, management excluded
            "total": sum(totals.values()),
            "management_total": total_mgmt,
            "ous": {k: {"Name": v["Name"], "Parent": v["parent"]} for k, v in self.ous.items()},
            "ou_depth": self.depth,
        }


class Process:
    """This server in a child process on a free loopback port, for the benches and the
    self-test: `args` are its command-line flags; `url` is where it listens."""

    def __init__(self, args, python=sys.executable, max_seconds=3600, stderr=sys.stderr):
        import subprocess
        cmd = [python, os.path.join(HERE, "org_server.py"), "--port", "0",
               "--max-seconds", str(max_seconds), *args]
        self.p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=stderr, cwd=HERE)
        line = self.p.stdout.readline().decode()
        m = re.match(r"PORT (\d+)", line)
        if not m:
            self.stop()
            raise SystemExit("org_server did not start: %r" % line)
        self.url = "http://127.0.0.1:%s" % m.group(1)

    def get(self, path):
        import urllib.request
        with urllib.request.urlopen(self.url + path, timeout=120) as r:
            return json.load(r)

    def reset(self):
        import urllib.request
        urllib.request.urlopen(urllib.request.Request(self.url + "/reset", data=b"", method="POST"), timeout=10).read()

    def stop(self):
        import subprocess
        if self.p.poll() is None:
            self.p.terminate()
            try:
                self.p.wait(5)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()


def compare(expected, summary):
    """What a run lost against /expected. `summary` is a peer's JSON (peers/org_calls.py):
    {"accounts": [...], "limit": K|None, "regions": [...], "items": {acct: {type: {region: n}}},
    "failures": [...]}. With no limit, every ACTIVE member is expected; with one, the accounts the
    run targeted. A scope counts as lost when it is missing or short; items beyond the expected
    count are `extra_items` (a paging bug or a wrong attribution)."""
    counts = expected["counts"]
    regions = summary.get("regions") or expected["regions"]
    universe = set(expected["active_members"])
    targeted = set(summary.get("accounts") or [])
    if summary.get("limit"):
        universe = targeted & universe
    got_items = summary.get("items", {})
    res = {"expected_items": 0, "got_items": 0, "lost_items": 0, "extra_items": 0,
           "scopes_expected": 0, "scopes_ok": 0, "scopes_short": 0, "scopes_missing": 0,
           "scopes_lost_with_items": 0,
           "accounts_expected": len(universe), "accounts_missed": sorted(universe - targeted),
           "accounts_not_expected": sorted(targeted - universe - set(expected.get("inactive", []))),
           "failure_codes": {}}
    for f in summary.get("failures", []):
        res["failure_codes"][f["code"]] = res["failure_codes"].get(f["code"], 0) + 1
    for acct in sorted(universe):
        ec = counts.get(acct, {})
        gc = got_items.get(acct, {})
        for t, meta in expected["types"].items():
            for region in (["global"] if meta["global"] else regions):
                n = ec.get(t, {}).get(region, 0)
                g = gc.get(t, {}).get(region)
                res["scopes_expected"] += 1
                res["expected_items"] += n
                if g is None:
                    res["scopes_missing"] += 1
                    res["lost_items"] += n
                    res["scopes_lost_with_items"] += n > 0
                    continue
                res["got_items"] += g
                if g < n:
                    res["scopes_short"] += 1
                    res["lost_items"] += n - g
                    res["scopes_lost_with_items"] += 1
                else:
                    res["scopes_ok"] += 1
                    res["extra_items"] += g - n
    for acct in set(got_items) - universe:
        res["extra_items"] += sum(n for t in got_items[acct].values() for n in t.values())
    res["complete"] = (res["lost_items"] == 0 and res["extra_items"] == 0 and res["scopes_missing"] == 0
                       and not res["accounts_missed"])
    return res


# ---------------------------------------------------------------- rendering

_VPC = """        <item>
            <vpcId>vpc-%(n)017x</vpcId>
            <ownerId>%(owner)s</ownerId>
            <state>available</state>
            <cidrBlock>10.%(a)d.%(b)d.0/24</cidrBlock>
            <cidrBlockAssociationSet>
                <item>
                    <cidrBlock>10.%(a)d.%(b)d.0/24</cidrBlock>
                    <associationId>vpc-cidr-assoc-%(n)017x</associationId>
                    <cidrBlockState>
                        <state>associated</state>
                    </cidrBlockState>
                </item>
            </cidrBlockAssociationSet>
            <dhcpOptionsId>dopt-%(d)08x</dhcpOptionsId>
            <tagSet>
                <item>
                    <key>Name</key>
                    <value>%(name)s-vpc-%(i)d</value>
                </item>
                <item>
                    <key>team</key>
                    <value>platform &amp; tools</value>
                </item>
            </tagSet>
            <instanceTenancy>default</instanceTenancy>
            <isDefault>%(default)s</isDefault>
            <blockPublicAccessStates>
                <internetGatewayBlockMode>off</internetGatewayBlockMode>
            </blockPublicAccessStates>
        </item>
"""

_SUBNET = """        <item>
            <subnetId>subnet-%(n)017x</subnetId>
            <subnetArn>arn:aws:ec2:%(region)s:%(owner)s:subnet/subnet-%(n)017x</subnetArn>
            <state>available</state>
            <ownerId>%(owner)s</ownerId>
            <vpcId>vpc-%(v)017x</vpcId>
            <cidrBlock>10.%(a)d.%(b)d.0/24</cidrBlock>
            <ipv6CidrBlockAssociationSet/>
            <availableIpAddressCount>%(ips)d</availableIpAddressCount>
            <availabilityZone>%(region)s%(az)s</availabilityZone>
            <availabilityZoneId>%(azid)s</availabilityZoneId>
            <defaultForAz>false</defaultForAz>
            <mapPublicIpOnLaunch>false</mapPublicIpOnLaunch>
            <assignIpv6AddressOnCreation>false</assignIpv6AddressOnCreation>
            <tagSet>
                <item>
                    <key>Name</key>
                    <value>%(name)s-subnet-%(i)d</value>
                </item>
            </tagSet>
            <privateDnsNameOptionsOnLaunch>
                <hostnameType>ip-name</hostnameType>
                <enableResourceNameDnsARecord>false</enableResourceNameDnsARecord>
                <enableResourceNameDnsAAAARecord>false</enableResourceNameDnsAAAARecord>
            </privateDnsNameOptionsOnLaunch>
            <blockPublicAccessStates>
                <internetGatewayBlockMode>off</internetGatewayBlockMode>
            </blockPublicAccessStates>
            <ipv6Native>false</ipv6Native>
            <enableDns64>false</enableDns64>
            <mapCustomerOwnedIpOnLaunch>false</mapCustomerOwnedIpOnLaunch>
        </item>
"""

_SG = """        <item>
            <ownerId>%(owner)s</ownerId>
            <groupId>sg-%(n)017x</groupId>
            <groupName>%(name)s-sg-%(i)d</groupName>
            <groupDescription>Managed by platform &amp; tools</groupDescription>
            <vpcId>vpc-%(v)017x</vpcId>
            <ipPermissions>
                <item>
                    <ipProtocol>tcp</ipProtocol>
                    <fromPort>%(port)d</fromPort>
                    <toPort>%(port)d</toPort>
                    <groups/>
                    <ipRanges>
                        <item>
                            <cidrIp>10.%(a)d.0.0/16</cidrIp>
                            <description>internal</description>
                        </item>
                    </ipRanges>
                    <ipv6Ranges/>
                    <prefixListIds/>
                </item>
            </ipPermissions>
            <ipPermissionsEgress>
                <item>
                    <ipProtocol>-1</ipProtocol>
                    <groups/>
                    <ipRanges>
                        <item>
                            <cidrIp>0.0.0.0/0</cidrIp>
                        </item>
                    </ipRanges>
                    <ipv6Ranges/>
                    <prefixListIds/>
                </item>
            </ipPermissionsEgress>
            <tagSet>
                <item>
                    <key>Name</key>
                    <value>%(name)s-sg-%(i)d</value>
                </item>
            </tagSet>
            <securityGroupArn>arn:aws:ec2:%(region)s:%(owner)s:security-group/sg-%(n)017x</securityGroupArn>
        </item>
"""

_SNAPSHOT = """      <DBSnapshot>
        <DBSnapshotIdentifier>%(kind)s%(name)s-db-%(db)d-%(i)d</DBSnapshotIdentifier>
        <DBInstanceIdentifier>%(name)s-db-%(db)d</DBInstanceIdentifier>
        <SnapshotCreateTime>%(t1)s</SnapshotCreateTime>
        <Engine>postgres</Engine>
        <AllocatedStorage>%(gb)d</AllocatedStorage>
        <Status>available</Status>
        <Port>5432</Port>
        <AvailabilityZone>%(region)sa</AvailabilityZone>
        <VpcId>vpc-%(v)017x</VpcId>
        <InstanceCreateTime>2023-01-01T00:00:00.000Z</InstanceCreateTime>
        <MasterUsername>postgres</MasterUsername>
        <EngineVersion>15.4</EngineVersion>
        <LicenseModel>postgresql-license</LicenseModel>
        <SnapshotType>%(type)s</SnapshotType>
        <OptionGroupName>default:postgres-15</OptionGroupName>
        <PercentProgress>100</PercentProgress>
        <StorageType>gp3</StorageType>
        <Encrypted>true</Encrypted>
        <KmsKeyId>arn:aws:kms:%(region)s:%(owner)s:key/%(k)08x-0000-4000-8000-000000000000</KmsKeyId>
        <DBSnapshotArn>arn:aws:rds:%(region)s:%(owner)s:snapshot:%(kind)s%(name)s-db-%(db)d-%(i)d</DBSnapshotArn>
        <IAMDatabaseAuthenticationEnabled>false</IAMDatabaseAuthenticationEnabled>
        <ProcessorFeatures/>
        <DbiResourceId>db-%(n)026X</DbiResourceId>
        <TagList>
          <Tag>
            <Key>team</Key>
            <Value>data &amp; analytics</Value>
          </Tag>
        </TagList>
        <OriginalSnapshotCreateTime>%(t1)s</OriginalSnapshotCreateTime>
        <SnapshotTarget>region</SnapshotTarget>
      </DBSnapshot>
"""

_ROLE = """      <member>
        <Path>/%(path)s</Path>
        <RoleName>%(role)s</RoleName>
        <RoleId>AROA%(n)016X</RoleId>
        <Arn>arn:aws:iam::%(owner)s:role/%(path)s%(role)s</Arn>
        <CreateDate>%(t1)s</CreateDate>
        <AssumeRolePolicyDocument>%(policy)s</AssumeRolePolicyDocument>
        <Description>Role %(i)d of %(name)s</Description>
        <MaxSessionDuration>3600</MaxSessionDuration>
      </member>
"""

_POLICY = {
    svc: quote(json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": svc}, "Action": "sts:AssumeRole"}]}, separators=(",", ":")), safe="")
    for svc in ("ec2.amazonaws.com", "lambda.amazonaws.com", "ecs-tasks.amazonaws.com")
}
_POLICY_LIST = list(_POLICY.values())


_DIRS = {"east": "e", "west": "w", "north": "n", "south": "s", "central": "c", "northeast": "ne",
         "southeast": "se", "northwest": "nw", "southwest": "sw"}


def az_prefix(region):
    """us-east-1 -> use1, ap-southeast-2 -> apse2 (as AvailabilityZoneId spells them)."""
    p = region.split("-")
    return p[0] + "".join(_DIRS.get(w, w[:1]) for w in p[1:-1]) + p[-1]


def _iso(ts):
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ts)) + ".%03dZ" % (ts % 1000)


def _base(acct, region_idx, t):
    # 17 hex digits (68 bits): account index (up to 2^28), region, type, item (up to 2^28).
    return ((acct["index"] + 1) << 40) | (region_idx << 35) | (TYPE_INDEX[t] << 32)


def render_items(org, t, aid, region, start, stop):
    a = org.by_id[aid]
    owner, name = aid, a["Name"]
    ridx = org.regions.index(region) if region in org.regions else 31
    base = _base(a, ridx, t)
    vbase = _base(a, ridx, "vpcs")
    out = []
    if t == "vpcs":
        for i in range(start, stop):
            out.append(_VPC % {"n": base + i, "owner": owner, "a": (i >> 8) & 0xFF, "b": i & 0xFF,
                               "d": (base + i) & 0xFFFFFFFF, "name": name, "i": i,
                               "default": "true" if i == 0 else "false"})
    elif t == "subnets":
        for i in range(start, stop):
            out.append(_SUBNET % {"n": base + i, "owner": owner, "region": region, "v": vbase + (i % 7),
                                  "a": (i >> 8) & 0xFF, "b": i & 0xFF, "ips": 251 - (i % 50),
                                  "az": "abc"[i % 3], "azid": "%s-az%d" % (az_prefix(region), 1 + i % 3),
                                  "name": name, "i": i})
    elif t == "security_groups":
        for i in range(start, stop):
            out.append(_SG % {"n": base + i, "owner": owner, "region": region, "v": vbase + (i % 7),
                              "a": i & 0xFF, "port": (443, 22, 5432, 8080)[i % 4], "name": name, "i": i})
    elif t == "db_snapshots":
        for i in range(start, stop):
            auto = i % 3 != 0
            out.append(_SNAPSHOT % {"n": base + i, "k": (base >> 32) & 0xFFFFFFFF, "owner": owner, "region": region, "v": vbase,
                                    "kind": "rds:" if auto else "", "db": i % 5, "i": i,
                                    "type": "automated" if auto else "manual", "gb": 20 + (i % 10) * 10,
                                    "name": name, "t1": _iso(1_700_000_000 + i * 3600)})
    elif t == "roles":
        for i in range(start, stop):
            out.append(_ROLE % {"n": base + i, "owner": owner, "path": "service-role/" if i % 4 == 0 else "",
                                "role": "%s-role-%05d" % (name, i), "t1": _iso(1_650_000_000 + i * 600),
                                "policy": _POLICY_LIST[i % 3], "name": name, "i": i})
    return "".join(out)


def _rid(n):
    return "%08x-%04x-4%03x-8%03x-%012x" % (n & 0xFFFFFFFF, (n >> 32) & 0xFFFF, n & 0xFFF, (n >> 12) & 0xFFF, n & 0xFFFFFFFFFFFF)


def make_token(*parts):
    return base64.urlsafe_b64encode("|".join(str(p) for p in parts).encode()).decode().rstrip("=")


def read_token(tok):
    try:
        return base64.urlsafe_b64decode(tok + "=" * (-len(tok) % 4)).decode().split("|")
    except Exception:
        return None


def render_page(org, t, aid, region, start, size):
    """(body bytes, items on the page) for items start..start+size of a scope."""
    n = org.count(aid, t, region)
    stop = min(n, start + size)
    items = render_items(org, t, aid, region, start, stop) if start < stop else ""
    more = stop < n
    tok = make_token(t, aid, region, stop) if more else None
    rid = _rid(hash((t, aid, region, start)) & 0xFFFFFFFFFFFFFFFF)
    if t in ("vpcs", "subnets", "security_groups"):
        op, wrapper = {"vpcs": ("DescribeVpcs", "vpcSet"), "subnets": ("DescribeSubnets", "subnetSet"),
                       "security_groups": ("DescribeSecurityGroups", "securityGroupInfo")}[t]
        parts = ['<?xml version="1.0" encoding="UTF-8"?>\n<%sResponse xmlns="%s">\n    <requestId>%s</requestId>\n' % (op, EC2_NS, rid)]
        parts.append("    <%s>\n%s    </%s>\n" % (wrapper, items, wrapper) if items else "    <%s/>\n" % wrapper)
        if tok:
            parts.append("    <nextToken>%s</nextToken>\n" % tok)
        parts.append("</%sResponse>" % op)
    elif t == "db_snapshots":
        parts = ['<DescribeDBSnapshotsResponse xmlns="%s">\n  <DescribeDBSnapshotsResult>\n' % RDS_NS]
        if tok:
            parts.append("    <Marker>%s</Marker>\n" % tok)
        parts.append("    <DBSnapshots>\n%s    </DBSnapshots>\n" % items if items else "    <DBSnapshots/>\n")
        parts.append("  </DescribeDBSnapshotsResult>\n  <ResponseMetadata>\n    <RequestId>%s</RequestId>\n"
                     "  </ResponseMetadata>\n</DescribeDBSnapshotsResponse>\n" % rid)
    else:
        parts = ['<ListRolesResponse xmlns="%s">\n  <ListRolesResult>\n    <IsTruncated>%s</IsTruncated>\n'
                 % (IAM_NS, "true" if more else "false")]
        if tok:
            parts.append("    <Marker>%s</Marker>\n" % tok)
        parts.append("    <Roles>\n%s    </Roles>\n" % items if items else "    <Roles/>\n")
        parts.append("  </ListRolesResult>\n  <ResponseMetadata>\n    <RequestId>%s</RequestId>\n"
                     "  </ResponseMetadata>\n</ListRolesResponse>\n" % rid)
    return "".join(parts).encode()


def ec2_error(code, msg):
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>%s</Code><Message>%s</Message>'
            "</Error></Errors><RequestID>%s</RequestID></Response>" % (code, _xml_escape(msg), _rid(random.getrandbits(64)))).encode()


def query_error(ns, code, msg, kind="Sender"):
    return ('<ErrorResponse xmlns="%s">\n  <Error>\n    <Type>%s</Type>\n    <Code>%s</Code>\n    <Message>%s</Message>\n'
            "  </Error>\n  <RequestId>%s</RequestId>\n</ErrorResponse>\n" % (ns, kind, code, _xml_escape(msg), _rid(random.getrandbits(64)))).encode()


def json_error(code, msg, **extra):
    d = {"__type": code, "Message": msg}
    d.update(extra)
    return json.dumps(d).encode()


def _xml_escape(s):
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# ---------------------------------------------------------------- the service


class Throttled(Exception):
    pass


class State:
    def __init__(self, args, org):
        self.args = args
        self.org = org
        self.delays = parse_delays(args.delays)
        self.default_delay = args.default_delay
        self.scale = args.latency_scale
        self.limits = {
            "ec2": (args.ec2_rate, args.ec2_burst),
            "rds": (args.rds_rate, args.rds_burst),
            "iam": (args.iam_rate, args.iam_burst),
            "sts": (args.sts_rate, args.sts_burst),
            "organizations": (args.org_rate, args.org_burst),
        }
        self.throttle = not args.no_throttle
        self.cache = collections.OrderedDict()
        self.cache_bytes = 0
        self.cache_cap = args.cache_mib << 20
        self.expected_body = json.dumps(org.expected()).encode()
        self.token_cache = {}
        self.reset()

    def reset(self):
        self.buckets = {}
        self.ops = {}  # "service:Op" -> [requests, throttled, errors]
        self.scopes = {}  # "account/region/service" -> [requests, throttled]
        self.status = {}
        self.requests = 0
        self.throttled = 0
        self.errors = 0
        self.inflight = 0
        self.max_inflight = 0
        self.connections = 0
        self.assumed = {}
        self.started = time.monotonic()
        self.first = None
        self.last = None

    def delay(self, region):
        d = self.delays.get(region, self.default_delay)
        return d * self.scale / 1000.0

    def take(self, key, service, now):
        if not self.throttle:
            return True
        rate, burst = self.limits[service]
        b = self.buckets.get(key)
        if b is None:
            b = self.buckets[key] = [float(burst), now]
        tokens = b[0] + (now - b[1]) * rate
        if tokens > burst:
            tokens = burst
        b[1] = now
        if tokens >= 1.0:
            b[0] = tokens - 1.0
            return True
        b[0] = tokens
        return False

    def page(self, t, aid, region, start, size):
        key = (t, aid, region, start, size)
        body = self.cache.get(key)
        if body is not None:
            self.cache.move_to_end(key)
            return body
        body = render_page(self.org, t, aid, region, start, size)
        if len(body) <= self.cache_cap:
            self.cache[key] = body
            self.cache_bytes += len(body)
            while self.cache_bytes > self.cache_cap:
                _, old = self.cache.popitem(last=False)
                self.cache_bytes -= len(old)
        return body

    def prerender(self):
        """Every default-size page of every ACTIVE account's scopes, into the cache."""
        sizes = {"ec2": self.args.ec2_default_page, "rds": 100, "iam": 100}
        n = 0
        for (aid, t, region), count in self.org.counts.items():
            if self.org.by_id[aid]["Status"] != "ACTIVE":
                continue
            size = sizes[TYPES[t][0]]
            for start in range(0, max(count, 1), size):
                self.page(t, aid, region, start, size)
                n += 1
        return n

    def stats(self, summary=False):
        out = {
            "requests": self.requests,
            "throttled": self.throttled,
            "errors": self.errors,
            "by_status": self.status,
            "by_operation": {k: {"requests": v[0], "throttled": v[1], "errors": v[2]} for k, v in sorted(self.ops.items())},
            "max_inflight": self.max_inflight,
            "connections": self.connections,
            "assume_role": {"calls": sum(self.assumed.values()), "accounts": len(self.assumed)},
            "since_reset_s": time.monotonic() - self.started,
            "active_s": (self.last - self.first) if self.first is not None else 0.0,
            "throttle": {k: {"rate": r, "burst": b} for k, (r, b) in self.limits.items()} if self.throttle else None,
            "ec2_bucket": self.args.ec2_bucket,
            "cache_mib": self.cache_bytes / 1048576,
        }
        thr = [k for k, v in self.scopes.items() if v[1]]
        out["throttled_scopes"] = len(thr)
        out["scopes_seen"] = len(self.scopes)
        if not summary:
            out["by_scope"] = {k: {"requests": v[0], "throttled": v[1]} for k, v in sorted(self.scopes.items())}
        return out


class Caller:
    __slots__ = ("account", "kind", "error")

    def __init__(self, account, kind, error=None):
        self.account, self.kind, self.error = account, kind, error


def identify(st, akid, token):
    """(account, kind) for a request's key, or an error code."""
    if akid == st.args.base_key:
        return Caller(st.org.management, "user")
    if akid.startswith("ASIA") and len(akid) == 20 and akid[4:16].isdigit():
        if not token:
            return Caller(None, None, "InvalidClientTokenId")
        info = st.token_cache.get(token)
        if info is None:
            parts = read_token(token[5:]) if token.startswith("BENCH") else None
            if not parts or len(parts) != 3:
                return Caller(None, None, "InvalidClientTokenId")
            info = st.token_cache[token] = (parts[0], parts[1], float(parts[2]))
        acct, key, expiry = info
        if key != akid or acct != akid[4:16]:
            return Caller(None, None, "InvalidClientTokenId")
        if time.time() > expiry:
            return Caller(None, None, "ExpiredToken")
        return Caller(acct, "role")
    return Caller(None, None, "InvalidClientTokenId")


AUTH_ERRORS = {
    # code -> (ec2 (status, code, msg), query (status, code, msg), json (status, code, msg))
    "InvalidClientTokenId": ((401, "AuthFailure", "AWS was not able to validate the provided access credentials"),
                             (403, "InvalidClientTokenId", "The security token included in the request is invalid."),
                             (400, "UnrecognizedClientException", "The security token included in the request is invalid.")),
    "ExpiredToken": ((400, "RequestExpired", "Request has expired."),
                     (400, "ExpiredToken", "The security token included in the request is expired"),
                     (400, "ExpiredTokenException", "The security token included in the request is expired")),
}

NS = {"rds": RDS_NS, "iam": IAM_NS, "sts": STS_NS}
ADMIN_PATHS = ("/expected", "/stats", "/reset", "/health")
XML = "text/xml;charset=UTF-8"
JSON = "application/x-amz-json-1.1"


class Handler:
    """Turns one parsed request into (status, content-type, body, region for the delay)."""

    def __init__(self, st):
        self.st = st

    def handle(self, method, path, headers, body, now):
        st = self.st
        if method == "GET" or path.split("?", 1)[0] in ADMIN_PATHS:
            return self.admin(method, path)
        m = CRED_RE.search(headers.get("authorization", ""))
        if not m:
            return 403, XML, ec2_error("MissingAuthenticationToken", "Request is missing Authentication Token"), None
        akid, region, service = m.group(1), m.group(2), m.group(3)
        caller = identify(st, akid, headers.get("x-amz-security-token"))
        if service in ("iam", "organizations"):
            delay_region = GLOBAL_REGION
        else:
            delay_region = region
        if service == "organizations":
            target = headers.get("x-amz-target", "")
            op = target[len(ORG_TARGET):] if target.startswith(ORG_TARGET) else target
            try:
                params = json.loads(body or b"{}")
            except ValueError:
                params = None
        else:
            params = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
            op = params.get("Action", "")
        st.requests += 1
        opkey = service + ":" + op
        opst = st.ops.get(opkey)
        if opst is None:
            opst = st.ops[opkey] = [0, 0, 0]
        opst[0] += 1
        if caller.error:
            opst[2] += 1
            st.errors += 1
            ec2e, qe, je = AUTH_ERRORS[caller.error]
            if service == "ec2":
                return ec2e[0], XML, ec2_error(ec2e[1], ec2e[2]), delay_region
            if service == "organizations":
                return je[0], JSON, json_error(je[1], je[2]), delay_region
            return qe[0], XML, query_error(NS.get(service, STS_NS), qe[1], qe[2]), delay_region
        acct = caller.account
        # the throttling bucket
        if service == "ec2":
            bkey = (acct, region, "ec2", op if st.args.ec2_bucket == "api" else "")
            skey = "%s/%s/ec2" % (acct, region)
        elif service == "rds":
            bkey = (acct, region, "rds")
            skey = "%s/%s/rds" % (acct, region)
        elif service == "iam":
            bkey = (acct, "iam")
            skey = "%s/global/iam" % acct
        elif service == "sts":
            bkey = (acct, "sts")
            skey = "%s/global/sts" % acct
        elif service == "organizations":
            bkey = (acct, "organizations")
            skey = "%s/global/organizations" % acct
        else:
            opst[2] += 1
            st.errors += 1
            return 400, XML, query_error(STS_NS, "InvalidAction", "Unknown service %s" % service), delay_region
        sc = st.scopes.get(skey)
        if sc is None:
            sc = st.scopes[skey] = [0, 0]
        sc[0] += 1
        if not st.take(bkey, service, now):
            sc[1] += 1
            opst[1] += 1
            st.throttled += 1
            if service == "ec2":
                return 503, XML, ec2_error("RequestLimitExceeded", "Request limit exceeded."), delay_region
            if service == "organizations":
                return 400, JSON, json_error(
                    "TooManyRequestsException",
                    "AWS Organizations can't complete your request because it was throttled: you have sent too many "
                    "requests in too short a period of time. Try again later.", Type="AWSOrganizations"), delay_region
            return 400, XML, query_error(NS[service], "Throttling", "Rate exceeded"), delay_region
        try:
            if service == "organizations":
                status, ctype, out = self.organizations(caller, op, params)
            elif service == "sts":
                status, ctype, out = self.sts(caller, op, params, region)
            else:
                status, ctype, out = self.resource(caller, service, op, params, region)
        except Exception as e:  # a bug here must not hang the client
            import traceback
            traceback.print_exc()
            status, ctype, out = 500, XML, query_error(STS_NS, "InternalFailure", repr(e), "Receiver")
        if status >= 400:
            opst[2] += 1
            st.errors += 1
        return status, ctype, out, delay_region

    # -- admin

    def admin(self, method, path):
        st = self.st
        p = path.split("?", 1)
        if p[0] == "/expected":
            return 200, "application/json", st.expected_body, None
        if p[0] == "/stats":
            summary = len(p) > 1 and "summary" in p[1]
            return 200, "application/json", json.dumps(st.stats(summary)).encode(), None
        if p[0] == "/reset":
            st.reset()
            return 200, "application/json", b"{}", None
        if p[0] == "/health":
            return 200, "application/json", b'{"ok":true}', None
        return 404, "text/plain", b"not found", None

    # -- sts

    def sts(self, caller, op, params, region):
        org = self.st.org
        ok = 200, XML
        if op == "GetCallerIdentity":
            acct = caller.account
            arn = ("arn:aws:iam::%s:user/bench" % acct) if caller.kind == "user" else \
                "arn:aws:sts::%s:assumed-role/%s/bench" % (acct, self.st.args.role_name or "OrganizationAccountAccessRole")
            uid = "AIDABENCHBENCHBENCH01" if caller.kind == "user" else "AROABENCHBENCHBENCH01:bench"
            return ok + (("<GetCallerIdentityResponse xmlns=\"%s\">\n  <GetCallerIdentityResult>\n    <Arn>%s</Arn>\n"
                          "    <UserId>%s</UserId>\n    <Account>%s</Account>\n  </GetCallerIdentityResult>\n"
                          "  <ResponseMetadata>\n    <RequestId>%s</RequestId>\n  </ResponseMetadata>\n"
                          "</GetCallerIdentityResponse>\n" % (STS_NS, arn, uid, acct, _rid(random.getrandbits(64)))).encode(),)
        if op == "AssumeRole":
            arn = params.get("RoleArn", "")
            sess = params.get("RoleSessionName", "")
            if not arn or not sess:
                return 400, XML, query_error(STS_NS, "ValidationError", "1 validation error detected: Value null at '%s' failed to satisfy constraint: Member must not be null" % ("roleArn" if not arn else "roleSessionName"))
            if not SESSION_NAME_RE.match(sess):
                return 400, XML, query_error(STS_NS, "ValidationError", "1 validation error detected: Value '%s' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*" % sess)
            m = ROLE_ARN_RE.match(arn)
            try:
                dur = int(params.get("DurationSeconds", "3600"))
            except ValueError:
                dur = -1
            if not 900 <= dur <= 43200:
                return 400, XML, query_error(STS_NS, "ValidationError", "1 validation error detected: Value '%s' at 'durationSeconds' failed to satisfy constraint: Member must have value between 900 and 43200" % params.get("DurationSeconds"))
            target = m.group(1) if m else None
            role = m.group(2) if m else None
            acct = org.by_id.get(target) if target else None
            denied = (acct is None or acct["Status"] != "ACTIVE" or
                      (self.st.args.role_name and role != self.st.args.role_name))
            if m is None:
                return 400, XML, query_error(STS_NS, "ValidationError", "%s is invalid" % arn)
            if denied:
                principal = ("arn:aws:iam::%s:user/bench" % caller.account) if caller.kind == "user" else \
                    "arn:aws:sts::%s:assumed-role/bench/bench" % caller.account
                return 403, XML, query_error(STS_NS, "AccessDenied", "User: %s is not authorized to perform: sts:AssumeRole on resource: %s" % (principal, arn))
            self.st.assumed[target] = self.st.assumed.get(target, 0) + 1
            ttl = self.st.args.credential_ttl or dur
            expiry = time.time() + ttl
            nonce = "".join(random.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") for _ in range(4))
            akid = "ASIA" + target + nonce
            token = "BENCH" + make_token(target, akid, "%.3f" % expiry)
            secret = base64.b64encode(os.urandom(30)).decode()
            exp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(expiry))
            role_id = "AROA%016X" % (int(target) * 7919 & 0xFFFFFFFFFFFFFFFF)
            return ok + (("<AssumeRoleResponse xmlns=\"%s\">\n  <AssumeRoleResult>\n    <AssumedRoleUser>\n"
                          "      <AssumedRoleId>%s:%s</AssumedRoleId>\n      <Arn>arn:aws:sts::%s:assumed-role/%s/%s</Arn>\n"
                          "    </AssumedRoleUser>\n    <Credentials>\n      <AccessKeyId>%s</AccessKeyId>\n"
                          "      <SecretAccessKey>%s</SecretAccessKey>\n      <SessionToken>%s</SessionToken>\n"
                          "      <Expiration>%s</Expiration>\n    </Credentials>\n  </AssumeRoleResult>\n"
                          "  <ResponseMetadata>\n    <RequestId>%s</RequestId>\n  </ResponseMetadata>\n"
                          "</AssumeRoleResponse>\n" % (STS_NS, role_id, sess, target, role, sess, akid, secret, token, exp,
                                                       _rid(random.getrandbits(64)))).encode(),)
        return 400, XML, query_error(STS_NS, "InvalidAction", "Could not find operation %s for version 2011-06-15" % op)

    # -- organizations

    def organizations(self, caller, op, params):
        org = self.st.org
        if params is None:
            return 400, JSON, json_error("SerializationException", "Start of structure or map found where not expected.")
        if caller.account != org.management:
            return 400, JSON, json_error("AccessDeniedException", "You don't have permissions to access this resource.")

        def acct_json(a):
            return {k: a[k] for k in ("Id", "Arn", "Email", "Name", "Status", "State", "JoinedMethod", "JoinedTimestamp")}

        def page(op, key, items, params, tag):
            mr = params.get("MaxResults", 20)
            if not isinstance(mr, int) or not 1 <= mr <= 20:
                return 400, JSON, json_error("InvalidInputException", "You provided a value that does not match the required pattern.", Reason="MAX_VALUE_EXCEEDED" if isinstance(mr, int) and mr > 20 else "MIN_VALUE_EXCEEDED")
            start = 0
            if params.get("NextToken"):
                t = read_token(params["NextToken"])
                if not t or len(t) != 3 or t[0] != op or t[1] != tag or not t[2].isdigit():
                    return 400, JSON, json_error("InvalidInputException", "The provided token is invalid.", Reason="INVALID_NEXT_TOKEN")
                start = int(t[2])
            chunk = items[start:start + mr]
            out = {key: chunk}
            if start + mr < len(items):
                out["NextToken"] = make_token(op, tag, start + mr)
            return 200, JSON, json.dumps(out).encode()

        def parent_of(params):
            pid = params.get("ParentId")
            if not isinstance(pid, str) or not (ROOT_RE.match(pid) or OU_RE.match(pid)):
                return None, (400, JSON, json_error("InvalidInputException", "You specified an invalid value.", Reason="INVALID_PATTERN_TARGET_ID"))
            if pid not in org.ous:
                return None, (400, JSON, json_error("ParentNotFoundException", "We can't find a root or OU with the ParentId that you specified."))
            return org.ous[pid], None

        if op == "DescribeOrganization":
            return 200, JSON, json.dumps({"Organization": {
                "Id": org.org_id, "Arn": "arn:aws:organizations::%s:organization/%s" % (org.management, org.org_id),
                "FeatureSet": "ALL", "MasterAccountArn": org.by_id[org.management]["Arn"],
                "MasterAccountId": org.management, "MasterAccountEmail": org.by_id[org.management]["Email"],
                "AvailablePolicyTypes": [{"Type": "SERVICE_CONTROL_POLICY", "Status": "ENABLED"}]}}).encode()
        if op == "ListRoots":
            roots = [{"Id": org.root_id, "Arn": "arn:aws:organizations::%s:root/%s/%s" % (org.management, org.org_id, org.root_id),
                      "Name": "Root", "PolicyTypes": [{"Type": "SERVICE_CONTROL_POLICY", "Status": "ENABLED"}]}]
            return page(op, "Roots", roots, params, "")
        if op == "ListAccounts":
            return page(op, "Accounts", [acct_json(a) for a in org.accounts], params, "")
        if op == "ListAccountsForParent":
            p, err = parent_of(params)
            if err:
                return err
            return page(op, "Accounts", [acct_json(org.by_id[a]) for a in p["accounts"]], params, params["ParentId"])
        if op == "ListOrganizationalUnitsForParent":
            p, err = parent_of(params)
            if err:
                return err
            ous = [{"Id": o, "Arn": "arn:aws:organizations::%s:ou/%s/%s" % (org.management, org.org_id, o),
                    "Name": org.ous[o]["Name"]} for o in p["ous"]]
            return page(op, "OrganizationalUnits", ous, params, params["ParentId"])
        if op == "ListChildren":
            p, err = parent_of(params)
            if err:
                return err
            ct = params.get("ChildType")
            if ct == "ACCOUNT":
                kids = [{"Id": a, "Type": "ACCOUNT"} for a in p["accounts"]]
            elif ct == "ORGANIZATIONAL_UNIT":
                kids = [{"Id": o, "Type": "ORGANIZATIONAL_UNIT"} for o in p["ous"]]
            else:
                return 400, JSON, json_error("InvalidInputException", "You specified an invalid value.", Reason="INVALID_ENUM")
            return page(op, "Children", kids, params, params["ParentId"] + ":" + ct)
        return 400, JSON, json_error("UnknownOperationException", "The action %s is not valid for this web service." % op)

    # -- the five resource operations (and ec2 DescribeRegions, for `--regions enabled`)

    def regions_body(self):
        items = "".join(
            "        <item>\n            <regionName>%s</regionName>\n            <regionEndpoint>ec2.%s.amazonaws.com</regionEndpoint>\n"
            "            <optInStatus>opt-in-not-required</optInStatus>\n        </item>\n" % (r, r) for r in self.st.org.regions)
        return ('<?xml version="1.0" encoding="UTF-8"?>\n<DescribeRegionsResponse xmlns="%s">\n    <requestId>%s</requestId>\n'
                "    <regionInfo>\n%s    </regionInfo>\n</DescribeRegionsResponse>" % (EC2_NS, _rid(random.getrandbits(64)), items)).encode()

    def resource(self, caller, service, op, params, region):
        st = self.st
        if service == "ec2" and op == "DescribeRegions":
            return 200, XML, self.regions_body()
        t = OP_TYPE.get(op)
        if t is None or TYPES[t][0] != service:
            if service == "ec2":
                return 400, XML, ec2_error("InvalidAction", "The action %s is not valid for this web service." % op)
            return 400, XML, query_error(NS[service], "InvalidAction", "Could not find operation %s for version" % op)
        aid = caller.account
        scope_region = "global" if TYPES[t][2] else region
        if service == "ec2":
            size = st.args.ec2_default_page
            if "MaxResults" in params:
                try:
                    size = int(params["MaxResults"])
                except ValueError:
                    size = -1
                if not 5 <= size <= 1000:
                    return 400, XML, ec2_error("InvalidParameterValue", "Value ( %s ) for parameter maxResults is invalid. Expecting a value between 5 and 1000." % params["MaxResults"])
            tok = params.get("NextToken")
        elif service == "rds":
            size = 100
            if "MaxRecords" in params:
                try:
                    size = int(params["MaxRecords"])
                except ValueError:
                    size = -1
                if not 20 <= size <= 100:
                    return 400, XML, query_error(RDS_NS, "InvalidParameterValue", "Invalid value %s for MaxRecords. Must be between 20 and 100" % params["MaxRecords"])
            tok = params.get("Marker")
        else:
            size = 100
            if "MaxItems" in params:
                try:
                    size = int(params["MaxItems"])
                except ValueError:
                    size = -1
                if not 1 <= size <= 1000:
                    return 400, XML, query_error(IAM_NS, "ValidationError", "1 validation error detected: Value '%s' at 'maxItems' failed to satisfy constraint: Member must have value between 1 and 1000" % params["MaxItems"])
            tok = params.get("Marker")
        start = 0
        if tok:
            parts = read_token(tok)
            if not parts or len(parts) != 4 or parts[0] != t or parts[1] != aid or parts[2] != scope_region or not parts[3].isdigit():
                if service == "ec2":
                    return 400, XML, ec2_error("InvalidNextToken", "The token '%s' is invalid." % tok)
                if service == "rds":
                    return 400, XML, query_error(RDS_NS, "InvalidParameterValue", "Invalid marker: %s" % tok)
                return 400, XML, query_error(IAM_NS, "ValidationError", "Invalid Marker.")
            start = int(parts[3])
        return 200, XML, st.page(t, aid, scope_region, start, size)


# ---------------------------------------------------------------- HTTP


REASONS = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
           500: "Internal Server Error", 503: "Service Unavailable"}


class Conn(asyncio.Protocol):
    def __init__(self, st, handler, loop):
        self.st, self.handler, self.loop = st, handler, loop
        self.buf = bytearray()
        self.t = None
        self.queue = collections.deque()  # [due, bytes, close?]; answers go out in request order
        self.continued = False
        self.closed = False

    def connection_made(self, transport):
        self.t = transport
        self.st.connections += 1
        sock = transport.get_extra_info("socket")
        if sock is not None:
            try:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            except OSError:
                pass

    def connection_lost(self, exc):
        self.closed = True

    def data_received(self, data):
        self.buf += data
        while True:
            i = self.buf.find(b"\r\n\r\n")
            if i < 0:
                if len(self.buf) > 65536:
                    self.t.close()
                return
            head = self.buf[:i].decode("latin-1")
            lines = head.split("\r\n")
            try:
                method, path, _ = lines[0].split(" ", 2)
            except ValueError:
                self.t.close()
                return
            headers = {}
            for line in lines[1:]:
                k, _, v = line.partition(":")
                headers[k.strip().lower()] = v.strip()
            start = i + 4
            if headers.get("transfer-encoding", "").lower() == "chunked":
                body, end = self._chunked(start)
                if body is None:
                    self._maybe_continue(headers)
                    return
            else:
                n = int(headers.get("content-length") or 0)
                if len(self.buf) - start < n:
                    self._maybe_continue(headers)
                    return
                body = bytes(self.buf[start:start + n])
                end = start + n
            del self.buf[:end]
            self.continued = False
            self._request(method, path, headers, body)

    def _maybe_continue(self, headers):
        if not self.continued and headers.get("expect", "").lower() == "100-continue":
            self.continued = True
            self.t.write(b"HTTP/1.1 100 Continue\r\n\r\n")

    def _chunked(self, pos):
        out = bytearray()
        buf = self.buf
        while True:
            j = buf.find(b"\r\n", pos)
            if j < 0:
                return None, 0
            size = int(bytes(buf[pos:j]).split(b";")[0] or b"0", 16)
            if size == 0:
                k = buf.find(b"\r\n\r\n", j)
                if k < 0:
                    if len(buf) >= j + 4 and buf[j:j + 4] == b"\r\n\r\n":
                        return bytes(out), j + 4
                    return None, 0
                return bytes(out), k + 4
            if len(buf) < j + 2 + size + 2:
                return None, 0
            out += buf[j + 2:j + 2 + size]
            pos = j + 2 + size + 2

    def _request(self, method, path, headers, body):
        st = self.st
        now = self.loop.time()
        if st.first is None:
            st.first = now
        status, ctype, out, region = self.handler.handle(method, path, headers, body, now)
        st.status[status] = st.status.get(status, 0) + 1
        close = headers.get("connection", "").lower() == "close"
        head = ("HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %d\r\nx-amzn-RequestId: %s\r\n%s\r\n"
                % (status, REASONS.get(status, "Error"), ctype, len(out), _rid(st.requests),
                   "Connection: close\r\n" if close else "")).encode()
        data = head + out if len(out) < 262144 else (head, out)
        due = now + (st.delay(region) if region else 0.0)
        st.inflight += 1
        if st.inflight > st.max_inflight:
            st.max_inflight = st.inflight
        self.queue.append((due, data, close))
        if len(self.queue) == 1:
            self._arm()

    def _arm(self):
        due = self.queue[0][0]
        if due <= self.loop.time():
            self._flush()
        else:
            self.loop.call_at(due, self._flush)

    def _flush(self):
        st = self.st
        now = self.loop.time()
        while self.queue and self.queue[0][0] <= now:
            _, data, close = self.queue.popleft()
            st.inflight -= 1
            st.last = now
            if self.closed:
                continue
            if isinstance(data, tuple):
                self.t.write(data[0])
                self.t.write(data[1])
            else:
                self.t.write(data)
            if close:
                self.t.close()
                self.closed = True
        if self.queue:
            self._arm()


async def serve(args, org, port_cb=None):
    loop = asyncio.get_running_loop()
    st = State(args, org)
    if args.prerender:
        t = time.time()
        n = st.prerender()
        print("prerendered %d pages (%.0f MiB) in %.1fs" % (n, st.cache_bytes / 1048576, time.time() - t),
              file=sys.stderr, flush=True)
    handler = Handler(st)
    server = await loop.create_server(lambda: Conn(st, handler, loop), "127.0.0.1", args.port,
                                      backlog=4096, reuse_address=True)
    port = server.sockets[0].getsockname()[1]
    if port_cb:
        port_cb(port)
    loop.call_later(args.max_seconds, server.close)
    for sig in (signal.SIGTERM, signal.SIGINT):
        try:
            loop.add_signal_handler(sig, server.close)
        except (NotImplementedError, RuntimeError):
            pass
    async with server:
        try:
            await server.serve_forever()
        except asyncio.CancelledError:
            pass


def build_parser():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--accounts", type=int, default=1000, help="accounts in the organisation, management included")
    ap.add_argument("--seed", default="mrhost-org-1")
    ap.add_argument("--big-accounts", type=int, default=None, help="accounts with 10k+ items (default 1%%, at least 2)")
    ap.add_argument("--regions", default=",".join(REGIONS_17), help="regions with resources")
    ap.add_argument("--delays", default="spread17", help="'spread17', 'none', or region=ms,...")
    ap.add_argument("--default-delay", type=float, default=0.0, help="ms for regions not in --delays")
    ap.add_argument("--latency-scale", type=float, default=1.0, help="multiply every delay")
    ap.add_argument("--ec2-default-page", type=int, default=1000, help="ec2 items per page when MaxResults is absent")
    ap.add_argument("--ec2-bucket", choices=("api", "service"), default="api",
                    help="ec2 bucket per (account, region, API) as EC2 documents, or per (account, region)")
    for svc, rate, burst in (("ec2", 20, 100), ("rds", 12, 300), ("iam", 15, 15), ("sts", 600, 600), ("org", 10, 20)):
        ap.add_argument("--%s-rate" % svc, type=float, default=rate, help="tokens per second (default %s)" % rate)
        ap.add_argument("--%s-burst" % svc, type=float, default=burst, help="bucket capacity (default %s)" % burst)
    ap.add_argument("--no-throttle", action="store_true", help="no token buckets at all")
    ap.add_argument("--base-key", default="testing", help="access key id of the management account's user")
    ap.add_argument("--role-name", default=None, help="the only role name AssumeRole accepts (default: any)")
    ap.add_argument("--credential-ttl", type=float, default=None, help="seconds assumed credentials last (default: DurationSeconds)")
    ap.add_argument("--cache-mib", type=int, default=2048, help="rendered-page cache")
    ap.add_argument("--prerender", action="store_true",
                    help="render every default-size page before listening (~20 us/item; ~1 GiB at 1000 accounts)")
    ap.add_argument("--max-seconds", type=float, default=5400.0, help="exit by itself after this")
    ap.add_argument("--print-expected", action="store_true", help="print /expected's JSON and exit")
    ap.add_argument("--self-test", action="store_true", help="run org_selftest.py (30 accounts, both peers)")
    return ap


def main():
    args, rest = build_parser().parse_known_args()
    if args.self_test:
        os.execv(sys.executable, [sys.executable, os.path.join(HERE, "org_selftest.py")] + rest)
    if rest:
        build_parser().error("unrecognized arguments: %s" % " ".join(rest))
    regions = [r for r in args.regions.split(",") if r]
    t = time.time()
    org = Org(args.accounts, args.seed, regions, args.big_accounts)
    if args.print_expected:
        json.dump(org.expected(), sys.stdout, indent=1)
        return
    sys.setswitchinterval(0.001)

    def announce(port):
        print("PORT %d" % port, flush=True)
        e = org.expected()
        print("org ready in %.1fs: %d accounts (%d active members), %d items over active members" % (
            time.time() - t, args.accounts, len(e["active_members"]), e["total"]), file=sys.stderr, flush=True)

    try:
        asyncio.run(serve(args, org, announce))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
