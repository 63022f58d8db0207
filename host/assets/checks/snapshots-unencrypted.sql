-- id: snapshots-unencrypted
-- title: Unencrypted EBS snapshots
-- severity: medium
-- needs: snapshots.SnapshotId, snapshots.VolumeId, snapshots.VolumeSize,
--   snapshots.StartTime, snapshots.Encrypted
-- description: EBS snapshots the accounts own that are not encrypted; copy them with
--   encryption and delete the originals.
SELECT _account, _region, SnapshotId, VolumeId, VolumeSize, StartTime
FROM snapshots
WHERE Encrypted = 0
ORDER BY _account, _region, SnapshotId
