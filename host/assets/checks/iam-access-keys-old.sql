-- id: iam-access-keys-old
-- title: Active IAM access keys older than 90 days
-- severity: medium
-- needs: iam_users.AccessKeyMetadata
-- description: Active access keys created more than 90 days before the report. Rotate them,
--   or replace them with roles. Needs each user's keys (iam ListAccessKeys) as an
--   AccessKeyMetadata column, which the bundled iam-users plugin does not fetch.
SELECT u._account, u.UserName, k.value ->> '$.AccessKeyId' AS AccessKeyId,
       k.value ->> '$.CreateDate' AS KeyCreated,
       CAST(julianday('now') - julianday(k.value ->> '$.CreateDate') AS INTEGER) AS AgeDays
FROM iam_users AS u, json_each(u.AccessKeyMetadata) AS k
WHERE k.value ->> '$.Status' = 'Active'
  AND julianday('now') - julianday(k.value ->> '$.CreateDate') > 90
ORDER BY AgeDays DESC
