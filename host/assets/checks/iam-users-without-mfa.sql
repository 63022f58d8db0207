-- id: iam-users-without-mfa
-- title: IAM users without MFA
-- severity: high
-- needs: iam_users.MFADevices
-- description: IAM users with no MFA device. Needs each user's devices (iam ListMFADevices)
--   as an MFADevices column, which the bundled iam-users plugin does not fetch.
SELECT _account, UserName, Arn, CreateDate, PasswordLastUsed
FROM iam_users
WHERE MFADevices IS NOT NULL AND json_array_length(MFADevices) = 0
ORDER BY _account, UserName
