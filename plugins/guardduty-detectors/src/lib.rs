//! GuardDuty detectors (guardduty ListDetectors, then GetDetector for each, all at once), one
//! item per detector: `DetectorId`, what GetDetector returns (status, features, data sources),
//! and `EnabledFeatures`, the names of the features whose status is `ENABLED`. A region
//! without a detector emits nothing (GuardDuty is off there).

use mrhost_plugin_sdk::prelude::*;

struct GuarddutyDetectors;

impl Plugin for GuarddutyDetectors {
    fn manifest() -> PluginManifest {
        manifest("guardduty-detectors", "guardduty:detector")
            .describe("GuardDuty detectors (guardduty ListDetectors, then GetDetector each) with status and features")
            .operation("guardduty:ListDetectors")
            .operation("guardduty:GetDetector")
            .model_shape("guardduty:GetDetectorResponse")
            .id_field("DetectorId")
            .column("DetectorId", ValueKind::String, "The detector's id")
            .column("EnabledFeatures", ValueKind::Json, "Names of the features whose status is ENABLED")
            .columns(&["DetectorId", "Status", "FindingPublishingFrequency", "EnabledFeatures"])
            .build()
    }

    fn collect(_scope: Scope) -> Result<(), Error> {
        let ids = items("guardduty", "ListDetectors", json!({}), "DetectorIds")
            .collect::<Result<Vec<_>, _>>()?;
        for (id, detector) in enrich(ids, |id| {
            request("guardduty", "GetDetector", json!({"DetectorId": id}))
        }) {
            let detector = match detector {
                Ok(d) => d,
                Err(e) if e.is_not_found() || e.code() == Some("BadRequestException") => continue,
                Err(e) => return Err(e.into()),
            };
            let mut item = serde_json::Map::new();
            item.insert("DetectorId".into(), id);
            let enabled: Vec<Value> = detector["Features"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|f| f["Status"] == "ENABLED")
                .map(|f| f["Name"].clone())
                .collect();
            if let Value::Object(d) = detector {
                item.extend(d);
            }
            item.insert("EnabledFeatures".into(), Value::Array(enabled));
            emit(&Value::Object(item));
        }
        Ok(())
    }
}

export_plugin!(GuarddutyDetectors);
