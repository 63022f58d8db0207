//! AWS Config configuration recorders (config DescribeConfigurationRecorders), one item per
//! recorder, with its status from DescribeConfigurationRecorderStatus (both calls at once):
//! `Recording`, `LastStatus`, `LastStartTime`. A region without a recorder emits nothing; a
//! recorder without a status has null status columns.

use mrhost_plugin_sdk::prelude::*;

struct ConfigRecorders;

impl Plugin for ConfigRecorders {
    fn manifest() -> PluginManifest {
        manifest("config-recorders", "config:configuration-recorder")
            .describe("AWS Config recorders (config DescribeConfigurationRecorders) with their recording status")
            .operation("config:DescribeConfigurationRecorders")
            .operation("config:DescribeConfigurationRecorderStatus")
            .model_shape("config:ConfigurationRecorder")
            .id_field("name")
            .column("Recording", ValueKind::Bool, "Whether the recorder is recording (null: no status)")
            .column("LastStatus", ValueKind::String, "Pending, Success or Failure of the last recording")
            .column("LastStartTime", ValueKind::Timestamp, "When the recorder last started")
            .reference("roleARN", "iam:role", ReferenceBy::Arn)
            .columns(&["name", "Recording", "LastStatus", "recordingGroup"])
            .build()
    }

    fn collect(_scope: Scope) -> Result<(), Error> {
        let mut results = call_all([
            request("config", "DescribeConfigurationRecorders", json!({})),
            request("config", "DescribeConfigurationRecorderStatus", json!({})),
        ])
        .into_iter();
        let recorders = results.next().ok_or("no recorders result")??;
        let statuses = results.next().ok_or("no status result")??;
        let statuses = select(statuses, "ConfigurationRecordersStatus");
        for mut recorder in select(recorders, "ConfigurationRecorders") {
            let status = statuses
                .iter()
                .find(|s| s["name"] == recorder["name"])
                .cloned()
                .unwrap_or(Value::Null);
            if let Some(o) = recorder.as_object_mut() {
                for (key, from) in [
                    ("Recording", "recording"),
                    ("LastStatus", "lastStatus"),
                    ("LastStartTime", "lastStartTime"),
                ] {
                    o.insert(key.into(), status.get(from).cloned().unwrap_or(Value::Null));
                }
            }
            emit(&recorder);
        }
        Ok(())
    }
}

export_plugin!(ConfigRecorders);
