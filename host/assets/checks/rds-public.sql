-- id: rds-public
-- title: Publicly accessible RDS databases
-- severity: high
-- needs: rds_db_instances.DBInstanceIdentifier, rds_db_instances.Engine,
--   rds_db_instances.DBInstanceClass, rds_db_instances.PubliclyAccessible
-- description: DB instances with PubliclyAccessible set, so their endpoint resolves to a
--   public address; only security groups stand between them and the internet.
SELECT _account, _region, DBInstanceIdentifier, Engine, DBInstanceClass
FROM rds_db_instances
WHERE PubliclyAccessible = 1
ORDER BY _account, _region, DBInstanceIdentifier
