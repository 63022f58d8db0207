//! S3 buckets (s3 ListBuckets), one item per bucket with its region and the settings a
//! security review checks: public access block, whether the bucket policy makes it public,
//! default encryption, versioning, access logging and object ownership. The per-bucket calls
//! run at once; a setting that is not configured (or may not be read) comes out null, or
//! false where the question is yes/no. Once per account.

use mrhost_plugin_sdk::prelude::*;

struct S3Buckets;

/// The per-bucket calls, in the order they are made.
const CALLS: [&str; 7] = [
    "GetBucketLocation",
    "GetPublicAccessBlock",
    "GetBucketPolicyStatus",
    "GetBucketEncryption",
    "GetBucketVersioning",
    "GetBucketLogging",
    "GetBucketOwnershipControls",
];

impl Plugin for S3Buckets {
    fn manifest() -> PluginManifest {
        let mut m = manifest("s3-buckets", "s3:bucket")
            .version("0.2.0")
            .describe("S3 buckets (s3 ListBuckets, then GetBucketLocation, GetPublicAccessBlock, GetBucketPolicyStatus, GetBucketEncryption, GetBucketVersioning, GetBucketLogging and GetBucketOwnershipControls each), one item per bucket; once per account");
        m = m.operation("s3:ListBuckets");
        for op in CALLS {
            m = m.operation(&format!("s3:{op}"));
        }
        m.global()
            .model_shape("s3:Bucket")
            .id_field("Name")
            .columns(&["Name", "BucketRegion", "PublicAccessBlocked", "PolicyIsPublic", "Encryption", "Versioning", "LoggingEnabled"])
            .column("BucketRegion", ValueKind::String, "the region the bucket lives in (GetBucketLocation)")
            .column("PublicAccessBlock", ValueKind::Json, "the bucket's public access block configuration, null when none is set")
            .column("PublicAccessBlocked", ValueKind::Bool, "whether all four public access block settings are on for the bucket")
            .column("PolicyIsPublic", ValueKind::Bool, "whether the bucket policy makes the bucket public (false without a policy)")
            .column("Encryption", ValueKind::String, "the default encryption algorithm (AES256, aws:kms, ...), null when none is configured")
            .column("EncryptionRules", ValueKind::Json, "the default encryption rules, null when none are configured")
            .column("Versioning", ValueKind::String, "Enabled or Suspended, null when versioning was never turned on")
            .column("MfaDelete", ValueKind::String, "Enabled or Disabled, null when never configured")
            .column("LoggingEnabled", ValueKind::Bool, "whether server access logging is on")
            .column("Logging", ValueKind::Json, "where access logs go (TargetBucket, TargetPrefix), null when logging is off")
            .column("ObjectOwnership", ValueKind::String, "BucketOwnerEnforced, BucketOwnerPreferred or ObjectWriter, null when no ownership controls are set")
            .build()
    }

    fn collect(_scope: Scope) -> Result<(), Error> {
        let buckets =
            items("s3", "ListBuckets", json!({}), "Buckets").collect::<Result<Vec<_>, _>>()?;
        let requests = buckets.iter().flat_map(|b| {
            CALLS
                .iter()
                .map(move |op| request("s3", op, json!({"Bucket": b["Name"]})))
        });
        let mut results = call_all(requests.collect::<Vec<_>>()).into_iter();
        let mut next = || {
            results
                .next()
                .unwrap_or_else(|| Err(CallError::Failed("a call had no result".into())))
        };
        for mut bucket in buckets {
            let answers: Vec<_> = CALLS.iter().map(|_| next()).collect();
            let mut answers = answers.into_iter().map(Answer::of);
            let mut next = || answers.next().unwrap_or(Ok(Answer::Unknown));
            // Gone since it was listed: skip it.
            let location = match next()? {
                Answer::Got(l) => l,
                Answer::NotSet => continue,
                Answer::Unknown => Value::Null,
            };
            let region = match &location {
                Value::Null => Value::Null,
                l => json!(region(l["LocationConstraint"].as_str())),
            };
            let (pab, blocked) = match next()? {
                Answer::Got(mut p) => {
                    let pab = p["PublicAccessBlockConfiguration"].take();
                    let all = [
                        "BlockPublicAcls",
                        "IgnorePublicAcls",
                        "BlockPublicPolicy",
                        "RestrictPublicBuckets",
                    ]
                    .iter()
                    .all(|k| pab[*k] == true);
                    (pab, json!(all))
                }
                Answer::NotSet => (Value::Null, json!(false)),
                Answer::Unknown => (Value::Null, Value::Null),
            };
            let public = match next()? {
                Answer::Got(p) => json!(p["PolicyStatus"]["IsPublic"] == true),
                // No bucket policy: the policy makes nothing public.
                Answer::NotSet => json!(false),
                Answer::Unknown => Value::Null,
            };
            let rules = next()?
                .value()
                .map(|mut e| e["ServerSideEncryptionConfiguration"]["Rules"].take())
                .unwrap_or(Value::Null);
            let algorithm = rules[0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"].clone();
            let versioning = next()?.value().unwrap_or(Value::Null);
            let (logging_enabled, logging) = match next()? {
                Answer::Got(mut l) => {
                    let l = l["LoggingEnabled"].take();
                    (json!(l.is_object()), l)
                }
                Answer::NotSet => (json!(false), Value::Null),
                Answer::Unknown => (Value::Null, Value::Null),
            };
            let ownership = next()?
                .value()
                .map(|mut o| o["OwnershipControls"]["Rules"][0]["ObjectOwnership"].take())
                .unwrap_or(Value::Null);
            if let Some(o) = bucket.as_object_mut() {
                o.insert("BucketRegion".into(), region);
                o.insert("PublicAccessBlock".into(), pab);
                o.insert("PublicAccessBlocked".into(), blocked);
                o.insert("PolicyIsPublic".into(), public);
                o.insert("Encryption".into(), algorithm);
                o.insert("EncryptionRules".into(), rules);
                o.insert("Versioning".into(), versioning["Status"].clone());
                o.insert("MfaDelete".into(), versioning["MFADelete"].clone());
                o.insert("LoggingEnabled".into(), logging_enabled);
                o.insert("Logging".into(), logging);
                o.insert("ObjectOwnership".into(), ownership);
            }
            emit(&bucket);
        }
        Ok(())
    }
}

/// What S3 answers when a bucket's request went to another region's endpoint.
const REGION_MISMATCH: [&str; 3] = [
    "PermanentRedirect",
    "AuthorizationHeaderMalformed",
    "IllegalLocationConstraintException",
];

/// What one per-bucket call found.
enum Answer {
    Got(Value),
    /// The bucket has no such configuration (a NotFound-style code).
    NotSet,
    /// AWS would not say (AccessDenied and the like).
    Unknown,
}

impl Answer {
    fn of(r: Result<Value, CallError>) -> Result<Answer, CallError> {
        match r {
            Ok(v) => Ok(Answer::Got(v)),
            Err(e) if e.is_not_found() => Ok(Answer::NotSet),
            Err(e) if e.is_unavailable() => Ok(Answer::Unknown),
            // The bucket lives in another region and the host does not follow S3's
            // redirects: unknown for this bucket (said in the log), not a failed listing.
            Err(e) if e.code().is_some_and(|c| REGION_MISMATCH.contains(&c)) => {
                log(
                    Level::Warn,
                    &format!("bucket setting not read: {}", e.describe()),
                );
                Ok(Answer::Unknown)
            }
            Err(e) => Err(e),
        }
    }

    fn value(self) -> Option<Value> {
        match self {
            Answer::Got(v) => Some(v),
            _ => None,
        }
    }
}

fn region(location_constraint: Option<&str>) -> &str {
    match location_constraint {
        None | Some("") => "us-east-1",
        Some("EU") => "eu-west-1",
        Some(region) => region,
    }
}

export_plugin!(S3Buckets);
