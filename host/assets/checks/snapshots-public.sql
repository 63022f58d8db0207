-- id: snapshots-public
-- title: Public EBS snapshots
-- severity: high
-- needs: snapshots.SnapshotId, snapshots.VolumeId, snapshots.VolumeSize,
--   snapshots.StartTime, snapshots.Public
-- description: Snapshots any AWS account can create a volume from (the snapshots plugin's
--   Public: a createVolumePermission for the group "all", from DescribeSnapshotAttribute).
--   Remove the permission unless publishing the data is intended.
SELECT _account, _region, SnapshotId, VolumeId, VolumeSize, StartTime
FROM snapshots
WHERE Public = 1
ORDER BY _account, _region, SnapshotId
