-- id: iam-users-without-mfa
-- title: IAM users without MFA
-- severity: high
-- needs: iam_users.UserName, iam_users.Arn, iam_users.CreateDate, iam_users.MfaEnabled,
--   iam_users.ConsoleAccess
-- description: IAM users with no MFA device (the iam-users plugin's MfaEnabled, from
--   ListMFADevices; users whose devices could not be read are left out). Those with
--   ConsoleAccess can sign in with a password alone.
SELECT _account, UserName, Arn, CreateDate, ConsoleAccess
FROM iam_users
WHERE MfaEnabled = 0
ORDER BY ConsoleAccess DESC, _account, UserName
