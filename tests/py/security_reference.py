#!/usr/bin/env python3
"""boto3 as the reference for the security columns of the bundled plugins.

For each plugin asked for, makes the same calls the plugin makes (the listing, then the
enrichment calls for each item) with boto3 and computes the same extra columns in Python,
so tests/integration/bundled_security.rs can require the plugin's output to be exactly this.

Reads on stdin:
  {"endpoint": "http://127.0.0.1:PORT", "account": "123456789012",
   "runs": [{"plugin": "kms-keys", "regions": ["eu-west-1", "us-east-2"]}, ...]}
and prints one list per run of [region, item] pairs, in region order then listing order, as
`mrhost run` emits them before the host adds its own columns (TagsMap, Name, RequestRegion,
RequestAccount: the Rust side adds those as the host does). Rendering is tests/py/aws.py's.

An enrichment call that fails with a NotFound-style code means "not configured", one that
fails with an AccessDenied-style code means "unknown" (the column is null); the codes are
the same as the SDK's CallError::is_not_found / is_unavailable.
"""
import json
import os
import sys

import boto3
import botocore.exceptions
from botocore import xform_name

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from aws import render  # noqa: E402

UNAVAILABLE = {"UnauthorizedOperation", "AuthorizationError", "Forbidden",
               "UnsupportedOperationException", "KMSInvalidStateException"}


def not_found(code):
    return ("NotFound" in code or code.startswith("NoSuch") or "NonExistent" in code
            or "DoesNotExist" in code)


def unavailable(code):
    return not_found(code) or code.startswith("AccessDenied") or code in UNAVAILABLE


class Refs:
    def __init__(self, endpoint):
        self.endpoint = endpoint
        self.clients = {}

    def client(self, service, region):
        key = (service, region)
        if key not in self.clients:
            self.clients[key] = boto3.client(service, region_name=region, endpoint_url=self.endpoint)
        return self.clients[key]

    def items(self, service, region, operation, params, path):
        """Every item at a dotted path of the full result (every page when botocore
        paginates the operation); lists met on the way are flattened."""
        c = self.client(service, region)
        name = xform_name(operation)
        if c.can_paginate(name):
            result = c.get_paginator(name).paginate(**params).build_full_result()
        else:
            result = getattr(c, name)(**params)
        return pluck(result, path.split("."))


def pluck(v, parts):
    if not parts:
        if v is None:
            return []
        return list(v) if isinstance(v, list) else [v]
    if isinstance(v, list):
        return [x for e in v for x in pluck(e, parts)]
    if isinstance(v, dict) and parts[0] in v:
        return pluck(v[parts[0]], parts[1:])
    return []


def call(fn, **params):
    """("got", response) | ("notset", None) | ("unknown", None); other errors raise."""
    try:
        r = fn(**params)
        r.pop("ResponseMetadata", None)
        return "got", r
    except botocore.exceptions.ClientError as e:
        code = e.response.get("Error", {}).get("Code", "")
        if not_found(code):
            return "notset", None
        if unavailable(code):
            return "unknown", None
        raise


def optional(fn, **params):
    """The response, or None when the call found nothing or may not look."""
    return call(fn, **params)[1]


# --- one function per plugin: (refs, region, account) -> items -------------------------

def iam_users(refs, region, account):
    iam = refs.client("iam", region)
    lists = [("list_mfa_devices", "MFADevices"), ("list_access_keys", "AccessKeyMetadata"),
             ("list_attached_user_policies", "AttachedPolicies"),
             ("list_user_policies", "PolicyNames"), ("list_groups_for_user", "Groups")]
    out = []
    for u in refs.items("iam", region, "ListUsers", {}, "Users"):
        name = u["UserName"]
        got = []
        for op, key in lists:
            first = optional(getattr(iam, op), UserName=name, MaxItems=1000)
            if first is None:
                got.append(None)
            elif first.get("IsTruncated"):
                got.append(iam.get_paginator(op).paginate(UserName=name).build_full_result()[key])
            else:
                got.append(first.get(key, []))
        mfa, keys, attached, inline, groups = got
        kind, _ = call(iam.get_login_profile, UserName=name)
        console = {"got": True, "notset": False, "unknown": None}[kind]
        access_keys = None
        if keys is not None:
            access_keys = []
            for k in keys:
                used = optional(iam.get_access_key_last_used, AccessKeyId=k["AccessKeyId"])
                used = (used or {}).get("AccessKeyLastUsed") or {}
                access_keys.append({
                    "AccessKeyId": k.get("AccessKeyId"), "Status": k.get("Status"),
                    "CreateDate": k.get("CreateDate"), "LastUsedDate": used.get("LastUsedDate"),
                    "LastUsedService": used.get("ServiceName"), "LastUsedRegion": used.get("Region"),
                })
        u["MfaDevices"] = mfa
        u["MfaEnabled"] = None if mfa is None else len(mfa) > 0
        u["AccessKeys"] = access_keys
        u["ActiveAccessKeys"] = None if access_keys is None else sum(k["Status"] == "Active" for k in access_keys)
        u["ConsoleAccess"] = console
        u["AttachedPolicyNames"] = None if attached is None else [p.get("PolicyName") for p in attached]
        u["InlinePolicyNames"] = inline
        u["GroupNames"] = None if groups is None else [g.get("GroupName") for g in groups]
        out.append(u)
    return out


def principals(policy):
    out = []
    statements = policy.get("Statement") if isinstance(policy, dict) else None
    if isinstance(statements, dict):
        statements = [statements]
    for s in statements or []:
        if s.get("Effect") != "Allow":
            continue
        p = s.get("Principal")
        values = [p] if isinstance(p, str) else []
        if isinstance(p, dict):
            for v in p.values():
                values.extend(v if isinstance(v, list) else [v])
        for v in values:
            if isinstance(v, str) and v not in out:
                out.append(v)
    return out


def iam_roles(refs, region, account):
    iam = refs.client("iam", region)
    out = []
    for r in refs.items("iam", region, "ListRoles", {}, "Roles"):
        role = optional(iam.get_role, RoleName=r["RoleName"])
        last_used = None if role is None else role["Role"].get("RoleLastUsed")
        r["TrustedPrincipals"] = principals(r.get("AssumeRolePolicyDocument"))
        r["RoleLastUsed"] = last_used
        r["LastUsedDate"] = (last_used or {}).get("LastUsedDate")
        out.append(r)
    return out


def bucket_region(constraint):
    if not constraint:
        return "us-east-1"
    return "eu-west-1" if constraint == "EU" else constraint


def s3_buckets(refs, region, account):
    s3 = refs.client("s3", region)
    out = []
    for b in refs.items("s3", region, "ListBuckets", {}, "Buckets"):
        name = b["Name"]
        kind, location = call(s3.get_bucket_location, Bucket=name)
        if kind == "notset":
            continue
        kind, pab = call(s3.get_public_access_block, Bucket=name)
        if kind == "got":
            pab = pab.get("PublicAccessBlockConfiguration")
            blocked = all((pab or {}).get(k) is True for k in
                          ["BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets"])
        else:
            blocked = False if kind == "notset" else None
        kind, status = call(s3.get_bucket_policy_status, Bucket=name)
        public = {"got": lambda: status.get("PolicyStatus", {}).get("IsPublic") is True,
                  "notset": lambda: False, "unknown": lambda: None}[kind]()
        enc = optional(s3.get_bucket_encryption, Bucket=name)
        rules = None if enc is None else enc.get("ServerSideEncryptionConfiguration", {}).get("Rules")
        algorithm = None
        if rules:
            algorithm = rules[0].get("ApplyServerSideEncryptionByDefault", {}).get("SSEAlgorithm")
        versioning = optional(s3.get_bucket_versioning, Bucket=name) or {}
        kind, logging = call(s3.get_bucket_logging, Bucket=name)
        if kind == "got":
            logging = logging.get("LoggingEnabled")
            logging_enabled = isinstance(logging, dict)
        else:
            logging_enabled = False if kind == "notset" else None
        own = optional(s3.get_bucket_ownership_controls, Bucket=name)
        ownership = None
        if own is not None:
            rules_o = own.get("OwnershipControls", {}).get("Rules") or [{}]
            ownership = rules_o[0].get("ObjectOwnership")
        b["BucketRegion"] = None if location is None else bucket_region(location.get("LocationConstraint"))
        b["PublicAccessBlock"] = pab
        b["PublicAccessBlocked"] = blocked
        b["PolicyIsPublic"] = public
        b["Encryption"] = algorithm
        b["EncryptionRules"] = rules
        b["Versioning"] = versioning.get("Status")
        b["MfaDelete"] = versioning.get("MFADelete")
        b["LoggingEnabled"] = logging_enabled
        b["Logging"] = logging
        b["ObjectOwnership"] = ownership
        out.append(b)
    return out


def instances(refs, region, account):
    out = []
    for i in refs.items("ec2", region, "DescribeInstances", {"MaxResults": 1000}, "Reservations.Instances"):
        tokens = (i.get("MetadataOptions") or {}).get("HttpTokens")
        i["StateName"] = (i.get("State") or {}).get("Name")
        i["Imdsv2Required"] = None if tokens is None else tokens == "required"
        i["InstanceProfileArn"] = (i.get("IamInstanceProfile") or {}).get("Arn")
        out.append(i)
    return out


def open_to_world(permissions):
    out = []
    for p in permissions or []:
        v4 = any(r.get("CidrIp") == "0.0.0.0/0" for r in p.get("IpRanges") or [])
        v6 = any(r.get("CidrIpv6") == "::/0" for r in p.get("Ipv6Ranges") or [])
        if not (v4 or v6):
            continue
        proto = str(p.get("IpProtocol"))
        if proto == "-1":
            out.append("all")
            continue
        f, t = p.get("FromPort"), p.get("ToPort")
        if isinstance(f, int) and isinstance(t, int):
            out.append(f"{proto}:{f}" if f == t else f"{proto}:{f}-{t}")
        else:
            out.append(proto)
    return out


def security_groups(refs, region, account):
    out = []
    for g in refs.items("ec2", region, "DescribeSecurityGroups", {}, "SecurityGroups"):
        g["OpenToWorld"] = open_to_world(g.get("IpPermissions"))
        g["OpenToWorldCount"] = len(g["OpenToWorld"])
        out.append(g)
    return out


def volumes(refs, region, account):
    return refs.items("ec2", region, "DescribeVolumes", {}, "Volumes")


def snapshots(refs, region, account):
    ec2 = refs.client("ec2", region)
    out = []
    for s in refs.items("ec2", region, "DescribeSnapshots", {"OwnerIds": ["self"]}, "Snapshots"):
        perms = None
        if s.get("OwnerId") == account:
            a = optional(ec2.describe_snapshot_attribute, SnapshotId=s["SnapshotId"],
                         Attribute="createVolumePermission")
            perms = None if a is None else (a.get("CreateVolumePermissions") or [])
        s["Public"] = None if perms is None else any(p.get("Group") == "all" for p in perms)
        s["SharedWithAccounts"] = None if perms is None else [p["UserId"] for p in perms if "UserId" in p]
        out.append(s)
    return out


def kms_keys(refs, region, account):
    kms = refs.client("kms", region)
    out = []
    for k in refs.items("kms", region, "ListKeys", {"Limit": 1000}, "Keys"):
        kind, d = call(kms.describe_key, KeyId=k["KeyId"])
        if kind == "notset":
            continue
        key = d["KeyMetadata"]
        rotation = optional(kms.get_key_rotation_status, KeyId=k["KeyId"])
        policy = optional(kms.get_key_policy, KeyId=k["KeyId"], PolicyName="default")
        key["KeyRotationEnabled"] = None if rotation is None else rotation.get("KeyRotationEnabled")
        key["KeyPolicy"] = json.loads(policy["Policy"]) if policy and policy.get("Policy") else None
        out.append(key)
    return out


def rds_db_instances(refs, region, account):
    return refs.items("rds", region, "DescribeDBInstances", {}, "DBInstances")


def lambda_functions(refs, region, account):
    lam = refs.client("lambda", region)
    out = []
    for f in refs.items("lambda", region, "ListFunctions", {}, "Functions"):
        url = optional(lam.get_function_url_config, FunctionName=f["FunctionName"]) or {}
        variables = (f.get("Environment") or {}).get("Variables")
        if variables is not None:
            # Without --allow secret the host redacts the values (the names stay).
            f["Environment"]["Variables"] = {k: "<redacted>" for k in variables}
        f["EnvironmentVariableNames"] = sorted(variables or {})
        f["FunctionUrl"] = url.get("FunctionUrl")
        f["FunctionUrlAuthType"] = url.get("AuthType")
        out.append(f)
    return out


def policy_json(text):
    return json.loads(text) if text else None


def sns_topics(refs, region, account):
    sns = refs.client("sns", region)
    out = []
    for t in refs.items("sns", region, "ListTopics", {}, "Topics"):
        kind, a = call(sns.get_topic_attributes, TopicArn=t["TopicArn"])
        if kind == "notset":
            continue
        if kind == "got":
            attrs = a.get("Attributes", {})
            key = attrs.get("KmsMasterKeyId") or None
            t["Policy"] = policy_json(attrs.get("Policy"))
            t["KmsMasterKeyId"] = key
            t["Encrypted"] = key is not None
        else:
            t["Policy"] = t["KmsMasterKeyId"] = t["Encrypted"] = None
        out.append(t)
    return out


def sqs_queues(refs, region, account):
    sqs = refs.client("sqs", region)
    out = []
    for url in refs.items("sqs", region, "ListQueues", {"MaxResults": 1000}, "QueueUrls"):
        kind, a = call(sqs.get_queue_attributes, QueueUrl=url, AttributeNames=["All"])
        if kind == "notset":
            continue
        q = {"QueueUrl": url}
        q.update(a.get("Attributes", {}))
        q["PolicyDocument"] = policy_json(q.get("Policy"))
        q["Encrypted"] = bool(q.get("KmsMasterKeyId")) or q.get("SqsManagedSseEnabled") == "true"
        out.append(q)
    return out


def secretsmanager_secrets(refs, region, account):
    out = []
    for s in refs.items("secretsmanager", region, "ListSecrets", {}, "SecretList"):
        s["RotationActive"] = s.get("RotationEnabled") is True
        s["RotationDays"] = (s.get("RotationRules") or {}).get("AutomaticallyAfterDays")
        out.append(s)
    return out


PLUGINS = {
    "iam-users": iam_users, "iam-roles": iam_roles, "s3-buckets": s3_buckets,
    "instances": instances, "security-groups": security_groups, "volumes": volumes,
    "snapshots": snapshots, "kms-keys": kms_keys, "rds-db-instances": rds_db_instances,
    "lambda-functions": lambda_functions, "sns-topics": sns_topics, "sqs-queues": sqs_queues,
    "secretsmanager-secrets": secretsmanager_secrets,
}


def main():
    prog = json.load(sys.stdin)
    refs = Refs(prog["endpoint"])
    out = []
    for run in prog["runs"]:
        fn = PLUGINS[run["plugin"]]
        out.append([[r, item] for r in run["regions"] for item in fn(refs, r, prog["account"])])
    json.dump(out, sys.stdout, default=render, ensure_ascii=False)


if __name__ == "__main__":
    main()
