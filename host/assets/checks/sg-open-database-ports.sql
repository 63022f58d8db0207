-- id: sg-open-database-ports
-- title: Security groups open to the internet on database ports
-- severity: medium
-- needs: security_groups.GroupId, security_groups.GroupName, security_groups.VpcId,
--   security_groups.IpPermissions
-- description: Ingress from any address (0.0.0.0/0 or ::/0) to a database port: MySQL
--   3306, PostgreSQL 5432, SQL Server 1433, Oracle 1521, MongoDB 27017, Redis 6379,
--   Elasticsearch 9200. Databases belong behind private subnets.
WITH db(port, engine) AS (VALUES (3306, 'MySQL'), (5432, 'PostgreSQL'), (1433, 'SQL Server'),
                                 (1521, 'Oracle'), (27017, 'MongoDB'), (6379, 'Redis'),
                                 (9200, 'Elasticsearch')),
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
       group_concat(db.engine || ' ' || db.port, ', ') AS Ports,
       source AS Source
FROM open JOIN db ON db.port BETWEEN open.from_port AND open.to_port
WHERE protocol IN ('tcp', '6')
GROUP BY _account, _region, GroupId, GroupName, VpcId, source, from_port, to_port
ORDER BY _account, _region, GroupId
