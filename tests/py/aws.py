#!/usr/bin/env python3
"""boto3 as the reference client, for the integration tests and the demo.

Reads a JSON program on stdin:
  {"endpoint": "http://127.0.0.1:PORT",
   "calls": [{"region": "eu-west-1", "service": "ec2", "operation": "DescribeVpcs",
              "params": {...}, "paginate": false, "save": "name"}, ...]}
and prints a JSON list with one entry per call: the response as boto3 returns it minus
ResponseMetadata (paginated calls: build_full_result()), or {"Error": {...}} when the call
failed. Datetimes are rendered with isoformat(), bytes as base64 — the same rendering
mrhost promises.

String params of the form "$name.path.to.value" are replaced with a value taken from an
earlier call's result saved under "name" (e.g. "$vpc.Vpc.VpcId"); a call's "credentials"
(e.g. "$assumed.Credentials", an AssumeRole result) makes it run as that identity, a call's "profile"
runs it with boto3.Session(profile_name=...) (and "profile": null with boto3's default session, which
resolves the environment as boto3 does); "$base64:DATA" becomes
the decoded bytes (blob params such as a Lambda zip). "paginate": "auto" paginates when
botocore has a paginator for the operation.
"""
import base64
import datetime
import json
import sys

import boto3
import botocore.exceptions
from botocore import xform_name


def render(o):
    if isinstance(o, datetime.datetime):
        return o.isoformat()
    if isinstance(o, (bytes, bytearray)):
        return base64.b64encode(o).decode()
    if hasattr(o, "read"):
        return base64.b64encode(o.read()).decode()
    raise TypeError(f"cannot render {type(o)}")


def resolve(v, saved):
    if isinstance(v, str) and v.startswith("$base64:"):
        return base64.b64decode(v[len("$base64:"):])
    if isinstance(v, str) and v.startswith("$"):
        name, *path = v[1:].split(".")
        cur = saved[name]
        for p in path:
            cur = cur[int(p)] if isinstance(cur, list) else cur[p]
        return cur
    if isinstance(v, dict):
        return {k: resolve(x, saved) for k, x in v.items()}
    if isinstance(v, list):
        return [resolve(x, saved) for x in v]
    return v


def main():
    prog = json.load(sys.stdin)
    endpoint = prog.get("endpoint")
    clients = {}
    saved = {}
    out = []
    for c in prog["calls"]:
        creds = resolve(c.get("credentials"), saved)  # e.g. "$assumed.Credentials"
        profile = c.get("profile")
        key = (c["service"], c["region"], json.dumps(creds, default=str), profile)
        if key not in clients:
            kw = {}
            if creds:
                kw = {"aws_access_key_id": creds["AccessKeyId"], "aws_secret_access_key": creds["SecretAccessKey"],
                      "aws_session_token": creds.get("SessionToken")}
            session = boto3.Session(profile_name=profile) if profile else boto3.Session()
            clients[key] = session.client(c["service"], region_name=c["region"], endpoint_url=endpoint, **kw)
        client = clients[key]
        params = resolve(c.get("params", {}), saved)
        try:
            paginate = c.get("paginate")
            if paginate == "auto":
                paginate = client.can_paginate(xform_name(c["operation"]))
            if paginate:
                result = client.get_paginator(xform_name(c["operation"])).paginate(**params).build_full_result()
            else:
                result = getattr(client, xform_name(c["operation"]))(**params)
            result.pop("ResponseMetadata", None)
        except botocore.exceptions.ClientError as e:
            result = {"Error": e.response.get("Error", {})}
        if c.get("save"):
            saved[c["save"]] = result
        out.append(result)
    json.dump(out, sys.stdout, default=render, ensure_ascii=False)


if __name__ == "__main__":
    main()
