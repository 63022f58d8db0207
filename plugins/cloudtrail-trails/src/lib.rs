//! CloudTrail trails (cloudtrail DescribeTrails), one item per trail, in the region the trail
//! lives in (shadow copies of multi-region trails are left out, so each trail is listed once),
//! with its logging status from GetTrailStatus (one per trail, all at once): `IsLogging`,
//! `LatestDeliveryTime`, `LatestDeliveryError`. The trail itself says whether it is
//! multi-region, validates log files and encrypts with KMS. A trail whose status answers
//! `TrailNotFoundException` has null status columns.

use mrhost_plugin_sdk::prelude::*;

struct CloudtrailTrails;

impl Plugin for CloudtrailTrails {
    fn manifest() -> PluginManifest {
        manifest("cloudtrail-trails", "cloudtrail:trail")
            .describe("CloudTrail trails (cloudtrail DescribeTrails, then GetTrailStatus each), one item per trail in its home region")
            .operation("cloudtrail:DescribeTrails")
            .operation("cloudtrail:GetTrailStatus")
            .model_shape("cloudtrail:Trail")
            .id_field("TrailARN")
            .column("IsLogging", ValueKind::Bool, "Whether the trail is recording events (GetTrailStatus)")
            .column("LatestDeliveryTime", ValueKind::Timestamp, "When logs were last delivered to S3")
            .column("LatestDeliveryError", ValueKind::String, "The last S3 delivery error, if any")
            .reference("KmsKeyId", "kms:key", ReferenceBy::Arn)
            .reference("S3BucketName", "s3:bucket", ReferenceBy::Id)
            .columns(&[
                "Name",
                "HomeRegion",
                "IsMultiRegionTrail",
                "IsLogging",
                "LogFileValidationEnabled",
                "KmsKeyId",
            ])
            .build()
    }

    fn collect(_scope: Scope) -> Result<(), Error> {
        let trails = items(
            "cloudtrail",
            "DescribeTrails",
            json!({"includeShadowTrails": false}),
            "trailList",
        )
        .collect::<Result<Vec<_>, _>>()?;
        for (mut trail, status) in enrich(trails, |t| {
            request(
                "cloudtrail",
                "GetTrailStatus",
                json!({"Name": t["TrailARN"]}),
            )
        }) {
            let status = match status {
                Ok(s) => s,
                Err(e) if e.is_not_found() => Value::Null,
                Err(e) => return Err(e.into()),
            };
            if let Some(o) = trail.as_object_mut() {
                for key in ["IsLogging", "LatestDeliveryTime", "LatestDeliveryError"] {
                    o.insert(key.into(), status.get(key).cloned().unwrap_or(Value::Null));
                }
            }
            emit(&trail);
        }
        Ok(())
    }
}

export_plugin!(CloudtrailTrails);
