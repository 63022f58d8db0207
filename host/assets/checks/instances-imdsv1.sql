-- id: instances-imdsv1
-- title: EC2 instances that allow IMDSv1
-- severity: medium
-- needs: instances.InstanceId, instances.InstanceType, instances.State,
--   instances.MetadataOptions
-- description: Instances whose metadata service answers without a session token (HttpTokens
--   optional), which server-side request forgery can reach. Require IMDSv2.
SELECT _account, _region, InstanceId, InstanceType, State ->> '$.Name' AS State
FROM instances
WHERE MetadataOptions ->> '$.HttpTokens' = 'optional'
  AND coalesce(MetadataOptions ->> '$.HttpEndpoint', 'enabled') = 'enabled'
ORDER BY _account, _region, InstanceId
