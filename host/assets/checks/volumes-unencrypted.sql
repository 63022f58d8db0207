-- id: volumes-unencrypted
-- title: Unencrypted EBS volumes
-- severity: medium
-- needs: volumes.VolumeId, volumes.Size, volumes.VolumeType, volumes.State,
--   volumes.AvailabilityZone, volumes.Encrypted
-- description: EBS volumes without encryption at rest. A volume cannot be encrypted in
--   place: snapshot it, copy the snapshot encrypted, and restore; turn on EBS encryption by
--   default for each region so new volumes are.
SELECT _account, _region, VolumeId, Size, VolumeType, State, AvailabilityZone
FROM volumes
WHERE Encrypted = 0
ORDER BY _account, _region, VolumeId
