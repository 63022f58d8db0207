-- id: s3-buckets-unencrypted
-- title: S3 buckets without default encryption
-- severity: medium
-- needs: s3_buckets.Name, s3_buckets.BucketRegion, s3_buckets.CreationDate,
--   s3_buckets.Encryption
-- description: Buckets with no default encryption algorithm (the s3-buckets plugin's
--   Encryption, from GetBucketEncryption). A bucket whose encryption could not be read
--   is listed too: check it.
SELECT _account, Name, BucketRegion, CreationDate
FROM s3_buckets
WHERE Encryption IS NULL OR Encryption = ''
ORDER BY _account, Name
