-- id: iam-access-keys-old
-- title: Active IAM access keys older than 90 days
-- severity: medium
-- needs: iam_users.UserName, iam_users.AccessKeys
-- description: Active access keys created more than 90 days before the report (the
--   iam-users plugin's AccessKeys, from ListAccessKeys and GetAccessKeyLastUsed). Rotate
--   them, or replace them with roles.
SELECT u._account, u.UserName, k.value ->> '$.AccessKeyId' AS AccessKeyId,
       k.value ->> '$.CreateDate' AS KeyCreated,
       k.value ->> '$.LastUsedDate' AS LastUsed,
       CAST(julianday('now') - julianday(k.value ->> '$.CreateDate') AS INTEGER) AS AgeDays
FROM iam_users AS u, json_each(u.AccessKeys) AS k
WHERE k.value ->> '$.Status' = 'Active'
  AND julianday('now') - julianday(k.value ->> '$.CreateDate') > 90
ORDER BY AgeDays DESC
