-- id: sg-open-admin-ports
-- title: Security groups open to the internet on SSH or RDP
-- severity: high
-- needs: security_groups.GroupId, security_groups.GroupName, security_groups.VpcId,
--   security_groups.IpPermissions
-- description: Ingress rules that let any address (0.0.0.0/0 or ::/0) reach port 22 (SSH)
--   or 3389 (RDP), or every port. Restrict the source to known ranges, or reach the
--   instances through Session Manager or a bastion. One row per open rule and source.
WITH admin(port) AS (VALUES (22), (3389)),
rules AS (
  SELECT sg._account, sg._region, sg.GroupId, sg.GroupName, sg.VpcId,
         p.value ->> '$.IpProtocol' AS protocol,
         p.value ->> '$.FromPort' AS from_port,
         p.value ->> '$.ToPort' AS to_port,
         p.value AS perm
  FROM security_groups AS sg, json_each(sg.IpPermissions) AS p
),
open AS (
  SELECT rules.*, r.value ->> '$.CidrIp' AS source
  FROM rules, json_each(rules.perm, '$.IpRanges') AS r
  WHERE r.value ->> '$.CidrIp' = '0.0.0.0/0'
  UNION ALL
  SELECT rules.*, r.value ->> '$.CidrIpv6' AS source
  FROM rules, json_each(rules.perm, '$.Ipv6Ranges') AS r
  WHERE r.value ->> '$.CidrIpv6' = '::/0'
)
SELECT _account, _region, GroupId, GroupName, VpcId,
       CASE WHEN protocol = '-1' THEN 'all' ELSE protocol END AS Protocol,
       CASE WHEN protocol = '-1' OR from_port IS NULL THEN 'all'
            WHEN from_port = to_port THEN CAST(from_port AS TEXT)
            ELSE from_port || '-' || to_port END AS Ports,
       source AS Source
FROM open
WHERE protocol = '-1'
   OR (protocol IN ('tcp', '6', 'udp', '17')
       AND EXISTS (SELECT 1 FROM admin WHERE admin.port BETWEEN open.from_port AND open.to_port))
ORDER BY _account, _region, GroupId
