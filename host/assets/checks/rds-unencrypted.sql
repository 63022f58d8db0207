-- id: rds-unencrypted
-- title: Unencrypted RDS databases
-- severity: medium
-- needs: rds_db_instances.DBInstanceIdentifier, rds_db_instances.Engine,
--   rds_db_instances.DBInstanceClass, rds_db_instances.StorageEncrypted
-- description: DB instances whose storage is not encrypted at rest. Encryption is chosen at
--   creation: restore an encrypted copy of a snapshot and switch over.
SELECT _account, _region, DBInstanceIdentifier, Engine, DBInstanceClass
FROM rds_db_instances
WHERE StorageEncrypted = 0
ORDER BY _account, _region, DBInstanceIdentifier
