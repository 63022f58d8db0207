"""The organisation scenario's five read calls, shared by the peers so that each does the same
work: every call paginated fully with boto3's own paginator (default page sizes), items counted
(distinct ids too, so a paging bug that repeats items shows), retries read from each page's
ResponseMetadata. A call that still fails after boto3's retries counts as a failed scope: its
items are lost (a caller would have had an exception, not a result).

The summary both peers print (JSON):
  {"peer", "wall_s", "cpu_s", "accounts": [targeted ids], "limit", "regions",
   "items": {account: {type: {region|"global": n}}},       # completed scopes only (zeros kept)
   "failures": [{"account", "region", "type", "code"}],    # scopes that failed (type None: whole account)
   "items_total", "retry_attempts", "pages"}
"""

import resource
import threading
import time

from botocore.exceptions import BotoCoreError, ClientError

# (type, service, method, result key, id key, global?)
CALLS = [
    ("vpcs", "ec2", "describe_vpcs", "Vpcs", "VpcId", False),
    ("subnets", "ec2", "describe_subnets", "Subnets", "SubnetId", False),
    ("security_groups", "ec2", "describe_security_groups", "SecurityGroups", "GroupId", False),
    ("db_snapshots", "rds", "describe_db_snapshots", "DBSnapshots", "DBSnapshotArn", False),
    ("roles", "iam", "list_roles", "Roles", "Arn", True),
]
GLOBAL_REGION = "us-east-1"


def error_code(e):
    if isinstance(e, ClientError):
        return e.response.get("Error", {}).get("Code") or "ClientError"
    return type(e).__name__


def paginate_count(client, method, result_key, id_key):
    """(items, distinct ids, retry attempts, pages) of one fully paginated call; raises on failure."""
    n = 0
    ids = set()
    retries = 0
    pages = 0
    for page in client.get_paginator(method).paginate():
        items = page.get(result_key, [])
        n += len(items)
        ids.update(i.get(id_key) for i in items)
        retries += page.get("ResponseMetadata", {}).get("RetryAttempts", 0)
        pages += 1
    return n, len(ids), retries, pages


class Summary:
    def __init__(self, peer, regions, limit):
        self.t0 = time.perf_counter()
        self.d = {"peer": peer, "regions": regions, "limit": limit, "accounts": [], "items": {},
                  "failures": [], "items_total": 0, "duplicates": 0, "retry_attempts": 0, "pages": 0}
        self.lock = threading.Lock()  # the peers call ok/fail from many threads

    def ok(self, account, type_, region, n, distinct, retries, pages):
        with self.lock:
            self._ok(account, type_, region, n, distinct, retries, pages)

    def _ok(self, account, type_, region, n, distinct, retries, pages):
        self.d["items"].setdefault(account, {}).setdefault(type_, {})[region] = distinct
        self.d["items_total"] += distinct
        self.d["duplicates"] += n - distinct
        self.d["retry_attempts"] += retries
        self.d["pages"] += pages

    def fail(self, account, type_, region, code):
        with self.lock:
            self.d["failures"].append({"account": account, "region": region, "type": type_, "code": code})

    def done(self):
        ru = resource.getrusage(resource.RUSAGE_SELF)
        self.d["wall_s"] = time.perf_counter() - self.t0
        self.d["cpu_s"] = ru.ru_utime + ru.ru_stime
        return self.d


def scan_scope(session, account, region, summary, calls=CALLS):
    """The regional calls (and the global one when region is GLOBAL_REGION) in one session."""
    clients = {}
    for type_, service, method, rkey, idkey, is_global in calls:
        if is_global and region != GLOBAL_REGION:
            continue
        where = "global" if is_global else region
        try:
            c = clients.get(service)
            if c is None:
                c = clients[service] = session.client(service, region_name=region)
            n, distinct, retries, pages = paginate_count(c, method, rkey, idkey)
        except (ClientError, BotoCoreError) as e:
            summary.fail(account, type_, where, error_code(e))
            continue
        summary.ok(account, type_, where, n, distinct, retries, pages)


EXCEPTIONS = (ClientError, BotoCoreError)
