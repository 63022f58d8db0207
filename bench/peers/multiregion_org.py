#!/usr/bin/env python3
"""Peer: the seed's MultiRegionClient (boto3_pool.py: one client per region from one Session,
each call dispatched to every region on a thread pool) looped over the organisation's accounts
one after the other, as the seed's README suggests for cross-account use:

  ListAccounts (ACTIVE members, the calling account skipped, as botocove and mrhost do); then
  for each account in turn: STS AssumeRole of OrganizationAccountAccessRole, a Session from the
  temporary keys, and for each of the five calls (org_calls.py) a MultiRegionClient over the
  regions (IAM: us-east-1 only), every region's pages merged with boto3's paginator.

One difference from the seed's class: an error in one region is recorded for that region
instead of aborting the other regions' results (the seed's pool.map would raise and lose them
all), so the losses counted are the least this approach can lose.

    AWS_ENDPOINT_URL=http://127.0.0.1:PORT multiregion_org.py [--limit K] > summary.json
"""

import argparse
import json
import os
import sys
from concurrent.futures import ThreadPoolExecutor

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))

import boto3  # noqa: E402

from boto3_pool import MultiRegionClient  # noqa: E402
from org_calls import CALLS, EXCEPTIONS, GLOBAL_REGION, Summary, error_code, paginate_count  # noqa: E402
from server import REGIONS_17  # noqa: E402


class CountingMultiRegionClient(MultiRegionClient):
    """The seed's client; each region's pages counted, each region's error kept apart."""

    def paginate_count_all(self, operation, result_key, id_key):
        def one(item):
            region, client = item
            try:
                return region, paginate_count(client, operation, result_key, id_key)
            except EXCEPTIONS as e:
                return region, e

        with ThreadPoolExecutor(max_workers=len(self.clients)) as pool:
            return dict(pool.map(one, self.clients.items()))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--regions", default=",".join(REGIONS_17))
    ap.add_argument("--limit", type=int, default=None, help="only the first K ACTIVE member accounts (by id)")
    ap.add_argument("--role", default="OrganizationAccountAccessRole")
    args = ap.parse_args()
    if not os.environ.get("AWS_ENDPOINT_URL", "").startswith("http://127.0.0.1"):
        raise SystemExit("set AWS_ENDPOINT_URL to the local org_server (http://127.0.0.1:PORT)")
    regions = [r for r in args.regions.split(",") if r]
    summary = Summary("multiregion", regions, args.limit)

    base = boto3.Session()
    sts = base.client("sts")
    me = sts.get_caller_identity()["Account"]
    accounts = sorted(a["Id"] for p in base.client("organizations").get_paginator("list_accounts").paginate()
                      for a in p["Accounts"] if a["Status"] == "ACTIVE" and a["Id"] != me)
    if args.limit:
        accounts = accounts[: args.limit]
    summary.d["accounts"] = accounts

    for account in accounts:
        try:
            creds = sts.assume_role(RoleArn="arn:aws:iam::%s:role/%s" % (account, args.role),
                                    RoleSessionName="multiregion")["Credentials"]
        except EXCEPTIONS as e:
            summary.fail(account, None, None, error_code(e))
            continue
        session = boto3.Session(aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
                                aws_session_token=creds["SessionToken"])
        clients = {}  # one MultiRegionClient per service, as the seed is used
        for type_, service, method, rkey, idkey, is_global in CALLS:
            client = clients.get(service)
            if client is None:
                client = clients[service] = CountingMultiRegionClient(session, service, [GLOBAL_REGION] if is_global else regions)
            for region, res in client.paginate_count_all(method, rkey, idkey).items():
                scope = "global" if is_global else region
                if isinstance(res, Exception):
                    summary.fail(account, type_, scope, error_code(res))
                else:
                    summary.ok(account, type_, scope, *res)

    json.dump(summary.done(), sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
