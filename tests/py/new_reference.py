#!/usr/bin/env python3
"""boto3 side of tests/integration/bundled_new.rs: seeds moto for the security plugins added
for issue 17, and computes with boto3 what each plugin must emit (the same calls, the same
enrichments, in Python).

Reads a JSON program on stdin:
  {"endpoint": "http://127.0.0.1:PORT", "regions": ["eu-west-1", "us-east-2"],
   "command": "seed" | "expect", "plugins": ["iam-groups", ...]}
"seed" creates the resources and prints {plugin: [[region, field, value], ...]}: every item
the plugin must list (region "us-east-1" for the global types, which run once). "expect"
prints {plugin: [[region, item], ...]}: each plugin's items, listing order within a region
(regions in the order given), without the RequestRegion/RequestAccount/TagsMap/Name the host adds (the
Rust side adds those with common::as_emitted). Rendering (datetimes, bytes) is aws.py's.
"""
import base64
import csv
import io
import json
import os
import sys

import boto3

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from aws import render  # noqa: E402

GLOBAL = "us-east-1"
ENDPOINT = None


def client(service, region):
    return boto3.client(service, region_name=region, endpoint_url=ENDPOINT)


def strip(resp):
    resp.pop("ResponseMetadata", None)
    return resp


def paged(c, op, key, **params):
    out = []
    for page in c.get_paginator(op).paginate(**params):
        out.extend(page.get(key, []))
    return out


def error_code(e):
    return getattr(e, "response", {}).get("Error", {}).get("Code")


# ---------------------------------------------------------------- seed

def seed(regions):
    made = {}

    def add(plugin, region, field, value):
        made.setdefault(plugin, []).append([region, field, value])

    iam = client("iam", GLOBAL)
    policy_doc = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]})
    read_policy = iam.create_policy(PolicyName="read-objects", PolicyDocument=policy_doc)["Policy"]["Arn"]
    audit_policy = iam.create_policy(PolicyName="audit", PolicyDocument=policy_doc)["Policy"]["Arn"]
    for user in ["alice", "bob", "carol"]:
        iam.create_user(UserName=user)
        add("iam-credential-report", GLOBAL, "user", user)
    iam.create_login_profile(UserName="alice", Password="Correct-Horse-1")
    mfa = iam.create_virtual_mfa_device(VirtualMFADeviceName="alice-mfa")["VirtualMFADevice"]
    iam.enable_mfa_device(UserName="alice", SerialNumber=mfa["SerialNumber"],
                          AuthenticationCode1="123456", AuthenticationCode2="654321")
    iam.create_access_key(UserName="alice")
    key = iam.create_access_key(UserName="bob")["AccessKey"]["AccessKeyId"]
    iam.create_access_key(UserName="bob")
    iam.update_access_key(UserName="bob", AccessKeyId=key, Status="Inactive")
    for group, members, attached, inline in [
        ("admins", ["alice", "bob"], [read_policy, audit_policy], ["break-glass"]),
        ("developers", ["carol"], [read_policy], []),
        ("empty", [], [], []),
    ]:
        iam.create_group(GroupName=group, Path="/teams/")
        for m in members:
            iam.add_user_to_group(GroupName=group, UserName=m)
        for a in attached:
            iam.attach_group_policy(GroupName=group, PolicyArn=a)
        for i in inline:
            iam.put_group_policy(GroupName=group, PolicyName=i, PolicyDocument=policy_doc)
        add("iam-groups", GLOBAL, "GroupName", group)

    role = iam.create_role(RoleName="service-role", AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                "Principal": {"Service": "eks.amazonaws.com"}}]}))["Role"]["Arn"]

    # Route 53: a public zone with records, a private one in a VPC.
    ec2_first = client("ec2", regions[0])
    zone_vpc = ec2_first.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    r53 = client("route53", GLOBAL)
    public = r53.create_hosted_zone(Name="example.com", CallerReference="pub")["HostedZone"]["Id"]
    private = r53.create_hosted_zone(
        Name="internal.example", CallerReference="priv",
        HostedZoneConfig={"Comment": "private", "PrivateZone": True},
        VPC={"VPCRegion": regions[0], "VPCId": zone_vpc})["HostedZone"]["Id"]
    add("route53-zones", GLOBAL, "Name", "example.com.")
    add("route53-zones", GLOBAL, "Name", "internal.example.")
    for zone, changes in [
        (public, [("www.example.com", "A", ["192.0.2.10", "192.0.2.11"]),
                  ("mail.example.com", "MX", ["10 mx.example.com"]),
                  ("api.example.com", "CNAME", ["www.example.com"])]),
        (private, [("db.internal.example", "A", ["10.9.0.5"])]),
    ]:
        r53.change_resource_record_sets(HostedZoneId=zone, ChangeBatch={"Changes": [
            {"Action": "CREATE", "ResourceRecordSet": {
                "Name": name, "Type": kind, "TTL": 300,
                "ResourceRecords": [{"Value": v} for v in values]}}
            for name, kind, values in changes]})
    for z in r53.list_hosted_zones()["HostedZones"]:
        for rr in paged(r53, "list_resource_record_sets", "ResourceRecordSets", HostedZoneId=z["Id"]):
            add("route53-records", GLOBAL, "Name", rr["Name"])

    # CloudFront: one distribution behind a WAF web ACL with a TLS policy, one plain.
    cf = client("cloudfront", GLOBAL)
    for ref, origin, waf, viewer in [
        ("web", "web.example.com", "arn:aws:wafv2:us-east-1:123456789012:global/webacl/edge/1", "redirect-to-https"),
        ("legacy", "legacy.example.com", "", "allow-all"),
    ]:
        config = {
            "CallerReference": ref, "Comment": ref, "Enabled": True,
            "Origins": {"Quantity": 1, "Items": [{"Id": "o1", "DomainName": origin,
                                                  "CustomOriginConfig": {
                                                      "HTTPPort": 80, "HTTPSPort": 443,
                                                      "OriginProtocolPolicy": "https-only"}}]},
            "DefaultCacheBehavior": {"TargetOriginId": "o1", "ViewerProtocolPolicy": viewer,
                                     "MinTTL": 0, "TrustedSigners": {"Enabled": False, "Quantity": 0},
                                     "ForwardedValues": {"QueryString": False, "Cookies": {"Forward": "none"}}},
        }
        if waf:
            config["WebACLId"] = waf
        d = cf.create_distribution(DistributionConfig=config)["Distribution"]
        add("cloudfront-distributions", GLOBAL, "Id", d["Id"])

    # Organizations: an organization, an OU with one account, an SCP on the OU.
    org = client("organizations", GLOBAL)
    org.create_organization(FeatureSet="ALL")
    root = org.list_roots()["Roots"][0]["Id"]
    ou = org.create_organizational_unit(ParentId=root, Name="workloads")["OrganizationalUnit"]["Id"]
    for name in ["prod", "dev"]:
        status = org.create_account(Email=f"{name}@example.com", AccountName=name)["CreateAccountStatus"]
        if name == "prod":
            org.move_account(AccountId=status["AccountId"], SourceParentId=root, DestinationParentId=ou)
    for a in paged(org, "list_accounts", "Accounts"):
        add("organizations-accounts", GLOBAL, "Id", a["Id"])
    scp = org.create_policy(Name="deny-leave", Description="no leaving", Type="SERVICE_CONTROL_POLICY",
                            Content=json.dumps({"Version": "2012-10-17", "Statement": [
                                {"Effect": "Deny", "Action": "organizations:LeaveOrganization", "Resource": "*"}]}))
    scp_id = scp["Policy"]["PolicySummary"]["Id"]
    org.attach_policy(PolicyId=scp_id, TargetId=ou)
    org.attach_policy(PolicyId=scp_id, TargetId=root)
    for p in paged(org, "list_policies", "Policies", Filter="SERVICE_CONTROL_POLICY"):
        add("organizations-policies", GLOBAL, "Name", p["Name"])

    for i, r in enumerate(regions):
        first = i == 0
        s3 = client("s3", r)
        bucket = f"trail-logs-{r}"
        s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": r})
        kms = client("kms", r)
        key = kms.create_key(Description="trail key")["KeyMetadata"]["Arn"]

        ct = client("cloudtrail", r)
        ct.create_trail(Name=f"org-{r}", S3BucketName=bucket, IsMultiRegionTrail=True,
                        EnableLogFileValidation=True, KmsKeyId=key)
        ct.start_logging(Name=f"org-{r}")
        ct.create_trail(Name=f"local-{r}", S3BucketName=bucket)
        add("cloudtrail-trails", r, "Name", f"org-{r}")
        add("cloudtrail-trails", r, "Name", f"local-{r}")

        cfg = client("config", r)
        cfg.put_configuration_recorder(ConfigurationRecorder={
            "name": "default", "roleARN": role,
            "recordingGroup": {"allSupported": True, "includeGlobalResourceTypes": first}})
        add("config-recorders", r, "name", "default")
        if first:
            cfg.put_delivery_channel(DeliveryChannel={"name": "default", "s3BucketName": bucket})
            cfg.start_configuration_recorder(ConfigurationRecorderName="default")

        gd = client("guardduty", r)
        features = [{"Name": "S3_DATA_EVENTS", "Status": "ENABLED"},
                    {"Name": "EKS_AUDIT_LOGS", "Status": "DISABLED" if first else "ENABLED"},
                    {"Name": "RDS_LOGIN_EVENTS", "Status": "ENABLED"}]
        det = gd.create_detector(Enable=first, FindingPublishingFrequency="ONE_HOUR", Features=features)
        add("guardduty-detectors", r, "DetectorId", det["DetectorId"])

        rds = client("rds", r)
        for name, encrypted in [("orders", True), ("reports", False)]:
            rds.create_db_instance(DBInstanceIdentifier=f"{name}-db", DBInstanceClass="db.t3.micro",
                                   Engine="postgres", MasterUsername="admin", MasterUserPassword="secret123",
                                   AllocatedStorage=20, StorageEncrypted=encrypted)
            rds.create_db_snapshot(DBSnapshotIdentifier=f"{name}-snap", DBInstanceIdentifier=f"{name}-db")
        rds.modify_db_snapshot_attribute(DBSnapshotIdentifier="reports-snap", AttributeName="restore",
                                         ValuesToAdd=["all", "111122223333"])
        rds.modify_db_snapshot_attribute(DBSnapshotIdentifier="orders-snap", AttributeName="restore",
                                         ValuesToAdd=["444455556666"])
        # moto also takes an automated snapshot of each new instance: both kinds are listed.
        for s in paged(rds, "describe_db_snapshots", "DBSnapshots"):
            add("rds-db-snapshots", r, "DBSnapshotIdentifier", s["DBSnapshotIdentifier"])

        ecr = client("ecr", r)
        ecr.create_repository(repositoryName="app", imageTagMutability="IMMUTABLE",
                              imageScanningConfiguration={"scanOnPush": True},
                              encryptionConfiguration={"encryptionType": "KMS", "kmsKey": key})
        ecr.create_repository(repositoryName="public-base")
        ecr.create_repository(repositoryName="private-base")
        ecr.set_repository_policy(repositoryName="public-base", policyText=json.dumps({
            "Version": "2012-10-17", "Statement": [{"Sid": "pull", "Effect": "Allow", "Principal": "*",
                                                    "Action": ["ecr:BatchGetImage"]}]}))
        ecr.set_repository_policy(repositoryName="private-base", policyText=json.dumps({
            "Version": "2012-10-17", "Statement": [{"Sid": "pull", "Effect": "Allow",
                                                    "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
                                                    "Action": ["ecr:BatchGetImage"]}]}))
        for repo in ["app", "public-base", "private-base"]:
            add("ecr-repositories", r, "repositoryName", repo)

        ec2 = client("ec2", r)
        vpc = ec2.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"]
        subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.1.{n}.0/24", AvailabilityZone=f"{r}{az}")["Subnet"]["SubnetId"]
                   for n, az in [(1, "a"), (2, "b")]]

        eks = client("eks", r)
        eks.create_cluster(name="public-api", roleArn=role, resourcesVpcConfig={
            "subnetIds": subnets, "endpointPublicAccess": True, "endpointPrivateAccess": False,
            "publicAccessCidrs": ["0.0.0.0/0"]},
            logging={"clusterLogging": [{"types": ["api", "audit"], "enabled": True},
                                        {"types": ["scheduler"], "enabled": False}]})
        eks.create_cluster(name="private-api", roleArn=role, resourcesVpcConfig={
            "subnetIds": subnets, "endpointPublicAccess": False, "endpointPrivateAccess": True})
        add("eks-clusters", r, "name", "public-api")
        add("eks-clusters", r, "name", "private-api")

        acm = client("acm", r)
        cert = acm.request_certificate(DomainName=f"www.{r}.example.com")["CertificateArn"]
        acm.request_certificate(DomainName=f"api.{r}.example.com", KeyAlgorithm="EC_prime256v1",
                                SubjectAlternativeNames=[f"api.{r}.example.com", f"api2.{r}.example.com"])
        add("acm-certificates", r, "DomainName", f"www.{r}.example.com")
        add("acm-certificates", r, "DomainName", f"api.{r}.example.com")

        elb = client("elbv2", r)
        lb = elb.create_load_balancer(Name=f"web-{i}", Subnets=subnets, Scheme="internet-facing")["LoadBalancers"][0]["LoadBalancerArn"]
        tg = elb.create_target_group(Name=f"web-{i}", Protocol="HTTP", Port=80, VpcId=vpc)["TargetGroups"][0]["TargetGroupArn"]
        forward = [{"Type": "forward", "TargetGroupArn": tg}]
        elb.create_listener(LoadBalancerArn=lb, Protocol="HTTP", Port=80, DefaultActions=forward)
        elb.create_listener(LoadBalancerArn=lb, Protocol="HTTPS", Port=443, DefaultActions=forward,
                            SslPolicy="ELBSecurityPolicy-TLS13-1-2-2021-06", Certificates=[{"CertificateArn": cert}])
        internal = elb.create_load_balancer(Name=f"int-{i}", Subnets=subnets, Scheme="internal")["LoadBalancers"][0]["LoadBalancerArn"]
        elb.create_listener(LoadBalancerArn=internal, Protocol="HTTP", Port=8080, DefaultActions=forward)
        for port in [80, 443, 8080]:
            add("elbv2-listeners", r, "Port", port)

        logs = client("logs", r)
        logs.create_log_group(logGroupName="vpc-flow")
        ec2.create_flow_logs(ResourceIds=[vpc], ResourceType="VPC", TrafficType="REJECT",
                             LogDestinationType="s3", LogDestination=f"arn:aws:s3:::{bucket}")
        ec2.create_flow_logs(ResourceIds=[subnets[0]], ResourceType="Subnet", TrafficType="ALL",
                             LogGroupName="vpc-flow", DeliverLogsPermissionArn=role)
        add("vpc-flow-logs", r, "ResourceId", vpc)
        add("vpc-flow-logs", r, "ResourceId", subnets[0])

        if first:
            ec2.enable_ebs_encryption_by_default()
        add("ebs-default-encryption", r, "EbsEncryptionByDefault", first)
    return made


# ---------------------------------------------------------------- expect

def with_extras(item, extras):
    item = dict(item)
    item.update(extras)
    return item


def typed_cell(column, cell):
    if cell in ("", "N/A", "not_supported", "no_information"):
        return None
    if column.endswith("_active") or column == "password_enabled":
        return {"true": True, "false": False}.get(cell)
    return cell


def iam_credential_report(regions):
    resp = client("iam", GLOBAL).get_credential_report()
    text = resp["Content"].decode()
    rows = list(csv.reader(io.StringIO(text)))
    header, body = rows[0], rows[1:]
    out = []
    for row in body:
        item = {h: typed_cell(h, c) for h, c in zip(header, row)}
        item["GeneratedTime"] = resp["GeneratedTime"]
        out.append(item)
    return out


def iam_password_policy(regions):
    try:
        policy = client("iam", GLOBAL).get_account_password_policy()["PasswordPolicy"]
        return [with_extras(policy, {"PasswordPolicyPresent": True})]
    except Exception as e:  # noqa: BLE001
        if error_code(e) == "NoSuchEntity":
            return [{"PasswordPolicyPresent": False}]
        raise


def iam_groups(regions):
    iam = client("iam", GLOBAL)
    out = []
    for g in paged(iam, "list_groups", "Groups"):
        users = paged(iam, "get_group", "Users", GroupName=g["GroupName"])
        attached = paged(iam, "list_attached_group_policies", "AttachedPolicies", GroupName=g["GroupName"])
        inline = paged(iam, "list_group_policies", "PolicyNames", GroupName=g["GroupName"])
        out.append(with_extras(g, {
            "Users": [u["UserName"] for u in users], "UserCount": len(users),
            "AttachedPolicyArns": [p["PolicyArn"] for p in attached], "InlinePolicyNames": inline}))
    return out


def cloudtrail_trails(regions):
    out = []
    for r in regions:
        ct = client("cloudtrail", r)
        for t in ct.describe_trails(includeShadowTrails=False)["trailList"]:
            s = strip(ct.get_trail_status(Name=t["TrailARN"]))
            out.append((r, with_extras(t, {k: s.get(k) for k in ["IsLogging", "LatestDeliveryTime", "LatestDeliveryError"]})))
    return out


def config_recorders(regions):
    out = []
    for r in regions:
        cfg = client("config", r)
        statuses = cfg.describe_configuration_recorder_status()["ConfigurationRecordersStatus"]
        for rec in cfg.describe_configuration_recorders()["ConfigurationRecorders"]:
            s = next((s for s in statuses if s["name"] == rec["name"]), {})
            out.append((r, with_extras(rec, {"Recording": s.get("recording"), "LastStatus": s.get("lastStatus"),
                                         "LastStartTime": s.get("lastStartTime")})))
    return out


def guardduty_detectors(regions):
    out = []
    for r in regions:
        gd = client("guardduty", r)
        for d in paged(gd, "list_detectors", "DetectorIds"):
            det = strip(gd.get_detector(DetectorId=d))
            item = {"DetectorId": d}
            item.update(det)
            item["EnabledFeatures"] = [f["Name"] for f in det.get("Features", []) if f.get("Status") == "ENABLED"]
            out.append((r, item))
    return out


def rds_db_snapshots(regions):
    out = []
    for r in regions:
        rds = client("rds", r)
        for s in paged(rds, "describe_db_snapshots", "DBSnapshots"):
            attrs = rds.describe_db_snapshot_attributes(DBSnapshotIdentifier=s["DBSnapshotIdentifier"])
            restore = [v for a in attrs["DBSnapshotAttributesResult"].get("DBSnapshotAttributes", [])
                       if a.get("AttributeName") == "restore" for v in a.get("AttributeValues", [])]
            out.append((r, with_extras(s, {"Public": "all" in restore,
                                       "SharedWithAccounts": [v for v in restore if v != "all"]})))
    return out


def allows_everyone(policy):
    def star(p):
        return p == "*" or (isinstance(p, list) and "*" in p)
    stmts = policy.get("Statement", []) if isinstance(policy, dict) else []
    if isinstance(stmts, dict):
        stmts = [stmts]
    for s in stmts:
        p = s.get("Principal")
        if s.get("Effect") == "Allow" and (star(p.get("AWS")) if isinstance(p, dict) else star(p)):
            return True
    return False


def ecr_repositories(regions):
    out = []
    for r in regions:
        ecr = client("ecr", r)
        for repo in paged(ecr, "describe_repositories", "repositories"):
            try:
                policy = json.loads(ecr.get_repository_policy(repositoryName=repo["repositoryName"],
                                                              registryId=repo["registryId"])["policyText"])
            except Exception as e:  # noqa: BLE001
                if error_code(e) != "RepositoryPolicyNotFoundException":
                    raise
                policy = None
            out.append((r, with_extras(repo, {
                "ScanOnPush": repo.get("imageScanningConfiguration", {}).get("scanOnPush") is True,
                "TagImmutable": repo.get("imageTagMutability", "").startswith("IMMUTABLE"),
                "EncryptionType": repo.get("encryptionConfiguration", {}).get("encryptionType"),
                "RepositoryPolicy": policy, "PolicyPublic": allows_everyone(policy)})))
    return out


def eks_clusters(regions):
    out = []
    for r in regions:
        eks = client("eks", r)
        for name in paged(eks, "list_clusters", "clusters"):
            c = eks.describe_cluster(name=name)["cluster"]
            vpc = c.get("resourcesVpcConfig", {})
            logs = [t for l in c.get("logging", {}).get("clusterLogging", []) if l.get("enabled") is True
                    for t in l.get("types", [])]
            out.append((r, with_extras(c, {
                "EndpointPublicAccess": vpc.get("endpointPublicAccess"),
                "EndpointPrivateAccess": vpc.get("endpointPrivateAccess"),
                "PublicAccessCidrs": vpc.get("publicAccessCidrs"), "EnabledLogTypes": logs})))
    return out


ACM_KEY_TYPES = ["RSA_1024", "RSA_2048", "RSA_3072", "RSA_4096", "EC_prime256v1", "EC_secp384r1", "EC_secp521r1"]


def acm_certificates(regions):
    out = []
    for r in regions:
        acm = client("acm", r)
        for c in paged(acm, "list_certificates", "CertificateSummaryList", Includes={"keyTypes": ACM_KEY_TYPES}):
            cert = acm.describe_certificate(CertificateArn=c["CertificateArn"])["Certificate"]
            out.append((r, with_extras(cert, {"InUse": bool(cert.get("InUseBy"))})))
    return out


def cloudfront_distributions(regions):
    cf = client("cloudfront", GLOBAL)
    out = []
    items = [i for page in cf.get_paginator("list_distributions").paginate()
             for i in page["DistributionList"].get("Items", [])]
    for d in items:
        out.append(with_extras(d, {
            "MinimumProtocolVersion": d.get("ViewerCertificate", {}).get("MinimumProtocolVersion"),
            "ViewerProtocolPolicy": d.get("DefaultCacheBehavior", {}).get("ViewerProtocolPolicy"),
            "WebAclId": d.get("WebACLId") or None,
            "OriginDomains": [o["DomainName"] for o in d.get("Origins", {}).get("Items", [])]}))
    return out


def elbv2_listeners(regions):
    out = []
    for r in regions:
        elb = client("elbv2", r)
        for lb in paged(elb, "describe_load_balancers", "LoadBalancers"):
            for l in paged(elb, "describe_listeners", "Listeners", LoadBalancerArn=lb["LoadBalancerArn"]):
                out.append((r, with_extras(l, {
                    "LoadBalancerName": lb["LoadBalancerName"], "Scheme": lb.get("Scheme"),
                    "CertificateArns": [c["CertificateArn"] for c in l.get("Certificates", []) if "CertificateArn" in c]})))
    return out


def vpc_flow_logs(regions):
    return [(r, f) for r in regions for f in paged(client("ec2", r), "describe_flow_logs", "FlowLogs")]


def route53_zones(regions):
    r53 = client("route53", GLOBAL)
    out = []
    for z in paged(r53, "list_hosted_zones", "HostedZones"):
        detail = r53.get_hosted_zone(Id=z["Id"])
        out.append(with_extras(z, {
            "PrivateZone": z.get("Config", {}).get("PrivateZone") is True,
            "RecordCount": z.get("ResourceRecordSetCount"),
            "VPCs": detail.get("VPCs", []),
            "NameServers": detail.get("DelegationSet", {}).get("NameServers", [])}))
    return out


def route53_records(regions):
    r53 = client("route53", GLOBAL)
    out = []
    for z in paged(r53, "list_hosted_zones", "HostedZones"):
        for rr in paged(r53, "list_resource_record_sets", "ResourceRecordSets", HostedZoneId=z["Id"]):
            out.append(with_extras(rr, {"HostedZoneId": z["Id"], "ZoneName": z["Name"],
                                        "PrivateZone": z.get("Config", {}).get("PrivateZone") is True}))
    return out


def organizations_accounts(regions):
    org = client("organizations", GLOBAL)
    out = []
    for a in paged(org, "list_accounts", "Accounts"):
        parents = org.list_parents(ChildId=a["Id"])["Parents"]
        out.append(with_extras(a, {"ParentId": parents[0]["Id"] if parents else None}))
    return out


def organizations_policies(regions):
    org = client("organizations", GLOBAL)
    out = []
    for p in paged(org, "list_policies", "Policies", Filter="SERVICE_CONTROL_POLICY"):
        content = json.loads(org.describe_policy(PolicyId=p["Id"])["Policy"]["Content"])
        targets = paged(org, "list_targets_for_policy", "Targets", PolicyId=p["Id"])
        out.append(with_extras(p, {"Content": content, "Targets": targets, "TargetCount": len(targets)}))
    return out


def ebs_default_encryption(regions):
    return [(r, strip(client("ec2", r).get_ebs_encryption_by_default())) for r in regions]


EXPECT = {
    "iam-credential-report": iam_credential_report,
    "iam-password-policy": iam_password_policy,
    "iam-groups": iam_groups,
    "cloudtrail-trails": cloudtrail_trails,
    "config-recorders": config_recorders,
    "guardduty-detectors": guardduty_detectors,
    "rds-db-snapshots": rds_db_snapshots,
    "ecr-repositories": ecr_repositories,
    "eks-clusters": eks_clusters,
    "acm-certificates": acm_certificates,
    "cloudfront-distributions": cloudfront_distributions,
    "elbv2-listeners": elbv2_listeners,
    "vpc-flow-logs": vpc_flow_logs,
    "route53-zones": route53_zones,
    "route53-records": route53_records,
    "organizations-accounts": organizations_accounts,
    "organizations-policies": organizations_policies,
    "ebs-default-encryption": ebs_default_encryption,
}


def main():
    global ENDPOINT
    prog = json.load(sys.stdin)
    ENDPOINT = prog["endpoint"]
    regions = prog["regions"]
    if prog["command"] == "seed":
        out = seed(regions)
    else:
        out = {}
        for p in prog["plugins"]:
            # Regional plugins give (region, item); global ones items of their one scope.
            items = EXPECT[p](regions)
            out[p] = [[i[0], i[1]] if isinstance(i, tuple) else [GLOBAL, i] for i in items]
    json.dump(out, sys.stdout, default=render, ensure_ascii=False)


if __name__ == "__main__":
    main()
