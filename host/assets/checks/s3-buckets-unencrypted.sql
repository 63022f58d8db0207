-- id: s3-buckets-unencrypted
-- title: S3 buckets without default encryption
-- severity: medium
-- needs: s3_buckets.ServerSideEncryptionConfiguration
-- description: Buckets with no default encryption configuration. Needs each bucket's
--   encryption (s3 GetBucketEncryption) as a ServerSideEncryptionConfiguration column, which
--   the bundled s3-buckets plugin does not fetch.
SELECT _account, _region, Name, BucketRegion, CreationDate
FROM s3_buckets
WHERE ServerSideEncryptionConfiguration IS NULL
   OR json_array_length(ServerSideEncryptionConfiguration, '$.Rules') = 0
ORDER BY _account, Name
