#!/usr/bin/env python3
"""Peer (a): the seed's approach. One boto3 client per region (created from one Session, as
the seed's MultiRegionClient does), the call dispatched to every region on a thread pool,
results as {region: response}. Pages are merged with boto3's own paginator
(build_full_result) so the work equals mrhost's and the AWS CLI's (the seed's single
describe_vpcs() would stop at the first page).

    boto3_pool.py --regions a,b,c --endpoint-url URL [--operation describe_vpcs] > out.json
"""

import argparse
import json
import sys
from concurrent.futures import ThreadPoolExecutor

import boto3


class MultiRegionClient:
    def __init__(self, session, service, regions, **client_kwargs):
        self.clients = {r: session.client(service, region_name=r, **client_kwargs) for r in regions}

    def paginate_all(self, operation, **params):
        def one(item):
            region, client = item
            if client.can_paginate(operation):
                return region, client.get_paginator(operation).paginate(**params).build_full_result()
            return region, getattr(client, operation)(**params)

        with ThreadPoolExecutor(max_workers=len(self.clients)) as pool:
            return dict(pool.map(one, self.clients.items()))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--regions", required=True)
    ap.add_argument("--endpoint-url", required=True)
    ap.add_argument("--service", default="ec2")
    ap.add_argument("--operation", default="describe_vpcs")
    args = ap.parse_args()
    regions = [r for r in args.regions.split(",") if r]
    client = MultiRegionClient(boto3.Session(), args.service, regions, endpoint_url=args.endpoint_url)
    result = client.paginate_all(args.operation)
    for r in result.values():
        r.pop("ResponseMetadata", None)
    json.dump(result, sys.stdout, indent=4, default=str)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
