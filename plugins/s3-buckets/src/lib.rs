//! S3 buckets (s3 ListBuckets, then GetBucketLocation for each), one item per bucket as
//! ListBuckets returns it plus `BucketRegion`, the region the bucket lives in. Global: once
//! per account, since ListBuckets lists the buckets of every region.

use mrhost_plugin_sdk::prelude::*;

struct S3Buckets;

impl Plugin for S3Buckets {
    fn manifest() -> PluginManifest {
        manifest("s3-buckets", "s3:bucket")
            .describe("S3 buckets (s3 ListBuckets, then GetBucketLocation each), one item per bucket with its BucketRegion; once per account")
            .operation("s3:ListBuckets")
            .operation("s3:GetBucketLocation")
            .global()
            .id_field("Name")
            .columns(&["Name", "BucketRegion", "CreationDate"])
            .build()
    }

    fn collect(_scope: Scope) -> Result<(), Error> {
        for bucket in items("s3", "ListBuckets", json!({}), "Buckets") {
            let mut bucket = bucket?;
            let params = json!({"Bucket": bucket["Name"]});
            // None: the bucket was deleted since it was listed.
            let Some(location) = call_if_exists("s3", "GetBucketLocation", params)? else {
                continue;
            };
            bucket["BucketRegion"] = json!(region(location["LocationConstraint"].as_str()));
            emit(&bucket);
        }
        Ok(())
    }
}

/// The region a LocationConstraint names: none (or empty) is us-east-1 and "EU" is
/// eu-west-1, as the GetBucketLocation documentation says.
fn region(location_constraint: Option<&str>) -> &str {
    match location_constraint {
        None | Some("") => "us-east-1",
        Some("EU") => "eu-west-1",
        Some(region) => region,
    }
}

export_plugin!(S3Buckets);
