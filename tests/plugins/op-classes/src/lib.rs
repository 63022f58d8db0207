//! Test plugin: declares one operation of each class (read, data, secret, billed, write)
//! and a redacted read, calls each, and emits one row per operation with what happened:
//! `ok` (with what it saw), `denied` (the host refused) or `error` (AWS answered an error).
use mrhost_plugin_sdk::prelude::*;

struct OpClasses;

/// (service, operation, params) in class order.
fn operations() -> Vec<(&'static str, &'static str, Value)> {
    vec![
        ("ec2", "DescribeVpcs", json!({})),
        ("dynamodb", "Scan", json!({"TableName": "mrhost-classes"})),
        ("sts", "GetSessionToken", json!({})),
        (
            "cloudwatch",
            "GetMetricData",
            json!({
                "MetricDataQueries": [{"Id": "q", "MetricStat": {
                    "Metric": {"Namespace": "mrhost", "MetricName": "m"},
                    "Period": 60, "Stat": "Sum"}}],
                "StartTime": "2024-01-01T00:00:00Z",
                "EndTime": "2024-01-02T00:00:00Z"
            }),
        ),
        ("sqs", "CreateQueue", json!({"QueueName": "mrhost-classes"})),
        ("lambda", "ListFunctions", json!({})),
    ]
}

impl Plugin for OpClasses {
    fn manifest() -> PluginManifest {
        let mut m = manifest("op-classes", "test:operation-class");
        for (service, operation, _) in operations() {
            m = m.operation(&format!("{service}:{operation}"));
        }
        m.id_field("Operation").build()
    }

    fn collect(_scope: Scope) -> Result<(), Error> {
        for (service, operation, params) in operations() {
            let (outcome, detail) = match call(service, operation, params) {
                // What a redacted read leaves to see: the functions' environments.
                Ok(v) if operation == "ListFunctions" => (
                    "ok",
                    json!(v["Functions"].as_array().map(|fs| fs
                        .iter()
                        .map(|f| f["Environment"].clone())
                        .collect::<Vec<_>>())),
                ),
                Ok(_) => ("ok", Value::Null),
                Err(CallError::Denied(reason)) => ("denied", json!(reason)),
                Err(e) => ("error", json!(e.describe())),
            };
            emit(&json!({
                "Operation": format!("{service}:{operation}"),
                "Outcome": outcome,
                "Detail": detail,
            }));
        }
        Ok(())
    }
}

export_plugin!(OpClasses);
