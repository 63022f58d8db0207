//! Which operations only read: a name-based rule (read verbs) with a list of exceptions,
//! refined by the model (REST methods). Used by the plugin permission check and by the
//! response cache, which keeps read responses only.

/// Operation-name prefixes that only read. An operation whose name starts with one of
/// these verbs (followed by an upper-case letter or the end) is a read.
pub const READ_VERBS: &[&str] = &[
    "Describe", "List", "Get", "Search", "Lookup", "Scan", "Query", "BatchGet", "Select", "Head",
    "Check", "Estimate", "Preview", "Validate", "Test", "Simulate", "Detect", "Discover", "View",
    "Download", "Filter", "Generate",
];

/// Read-verb operations that change something or hand out secrets nonetheless; they need the
/// same explicit permission as writes.
pub const NOT_READS: &[&str] = &[
    "sts:GetSessionToken",
    "sts:GetFederationToken",
    "sso:GetRoleCredentials",
    "ecr:GetAuthorizationToken",
    "ecr-public:GetAuthorizationToken",
    "codeartifact:GetAuthorizationToken",
    "redshift:GetClusterCredentials",
    "redshift:GetClusterCredentialsWithIAM",
    "secretsmanager:GetRandomPassword",
    "kms:GenerateDataKey",
    "kms:GenerateDataKeyPair",
    "kms:GenerateDataKeyWithoutPlaintext",
    "kms:GenerateDataKeyPairWithoutPlaintext",
    "kms:GenerateRandom",
    "kms:GenerateMac",
    "iam:GenerateCredentialReport",
    "iam:GenerateServiceLastAccessedDetails",
    "iam:GenerateOrganizationsAccessReport",
    "rds:GenerateDbAuthToken",
    // Reads that hand out secret values.
    "secretsmanager:GetSecretValue",
    "secretsmanager:BatchGetSecretValue",
    "ssm:GetParameter",
    "ssm:GetParameters",
    "ssm:GetParametersByPath",
    "ssm:GetParameterHistory",
];

/// Whether `service:Operation` only reads, by its name.
pub fn is_read(service: &str, operation: &str) -> bool {
    let full = format!("{service}:{operation}");
    if NOT_READS.contains(&full.as_str()) {
        return false;
    }
    name_reads(operation)
}

fn name_reads(operation: &str) -> bool {
    READ_VERBS.iter().any(|verb| {
        operation.strip_prefix(verb).is_some_and(|rest| {
            rest.is_empty() || rest.chars().next().is_some_and(|c| c.is_ascii_uppercase())
        })
    })
}

/// Whether an operation only reads, by its name refined by the model: for REST services
/// the HTTP method decides when it is GET/HEAD (a read) or PUT/PATCH/DELETE (never a read),
/// whatever the name says.
pub fn is_read_op(model: &crate::ServiceModel, op: &crate::Operation) -> bool {
    let full = format!("{}:{}", model.name, op.name);
    if NOT_READS.contains(&full.as_str()) {
        return false;
    }
    if model.protocol().starts_with("rest-") {
        match op.http.method.to_ascii_uppercase().as_str() {
            "GET" | "HEAD" => return true,
            "PUT" | "PATCH" | "DELETE" => return false,
            _ => {}
        }
    }
    name_reads(&op.name)
}
