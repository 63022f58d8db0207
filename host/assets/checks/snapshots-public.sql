-- id: snapshots-public
-- title: Public EBS snapshots
-- severity: high
-- needs: snapshots.CreateVolumePermissions
-- description: Snapshots any AWS account can create a volume from (a createVolumePermission
--   for the group "all"). Needs the snapshots' permissions (ec2 DescribeSnapshotAttribute)
--   as a CreateVolumePermissions column, which the bundled snapshots plugin does not fetch.
SELECT _account, _region, SnapshotId, VolumeId, VolumeSize, StartTime
FROM snapshots
WHERE EXISTS (SELECT 1 FROM json_each(snapshots.CreateVolumePermissions) AS p
              WHERE p.value ->> '$.Group' = 'all')
ORDER BY _account, _region, SnapshotId
