#!/usr/bin/env python3
"""Peer: botocove (pinned in bench/requirements.txt) over the organisation, with botocove's
defaults: it lists the ACTIVE accounts with Organizations ListAccounts, skips the calling
(management) account, and for every (account, region) pair runs the decorated function on a
pool of 20 threads, after its own STS AssumeRole of OrganizationAccountAccessRole for that pair.
The function makes the scenario's five calls (org_calls.py), IAM only in us-east-1.

Endpoints come from the environment (AWS_ENDPOINT_URL), as for any boto3 program.

    AWS_ENDPOINT_URL=http://127.0.0.1:PORT botocove_org.py [--limit K] > summary.json

--limit K targets only the first K ACTIVE member accounts (sorted by id; botocove target_ids),
to measure a subset and extrapolate. Prints the JSON summary described in org_calls.py; the
accounts botocove could not assume into are failures with type null.
"""

import argparse
import json
import logging
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))

import boto3  # noqa: E402
from botocove import cove  # noqa: E402

from org_calls import Summary, error_code, scan_scope  # noqa: E402
from server import REGIONS_17  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--regions", default=",".join(REGIONS_17))
    ap.add_argument("--limit", type=int, default=None, help="only the first K ACTIVE member accounts")
    args = ap.parse_args()
    if not os.environ.get("AWS_ENDPOINT_URL", "").startswith("http://127.0.0.1"):
        raise SystemExit("set AWS_ENDPOINT_URL to the local org_server (http://127.0.0.1:PORT)")
    logging.basicConfig(level=logging.CRITICAL)  # botocove logs every failed assume at ERROR
    regions = [r for r in args.regions.split(",") if r]
    summary = Summary("botocove", regions, args.limit)

    target_ids = None
    if args.limit:
        s = boto3.Session()
        me = s.client("sts").get_caller_identity()["Account"]
        active = sorted(a["Id"] for p in s.client("organizations").get_paginator("list_accounts").paginate()
                        for a in p["Accounts"] if a["Status"] == "ACTIVE" and a["Id"] != me)
        target_ids = active[: args.limit]

    @cove(regions=regions, target_ids=target_ids)
    def scan(session):
        scan_scope(session, session.session_information["Id"], session.region_name, summary)
        return None

    out = scan()
    accounts = set()
    for r in out["Results"]:
        accounts.add(r["Id"])
    for e in out["Exceptions"]:
        accounts.add(e["Id"])
        summary.fail(e["Id"], None, e.get("Region"), error_code(e["ExceptionDetails"]))
    for f in out["FailedAssumeRole"]:
        accounts.add(f["Id"])
        summary.fail(f["Id"], None, f.get("Region"), error_code(f["ExceptionDetails"]))
    summary.d["accounts"] = sorted(accounts)
    json.dump(summary.done(), sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
