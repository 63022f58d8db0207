//! Test plugin built for contract 0.1.0 (wit/v0.1) with the raw bindings, as a plugin
//! built before 0.2 existed: every VPC of a region, as ec2 DescribeVpcs returns it. In
//! eu-west-3 it asks for a VPC that does not exist, and ends the scope with the 0.1
//! convention's "Code: message" string.

wit_bindgen::generate!({ path: "../../../wit/v0.1", world: "plugin" });

use exports::mrhost::plugin::collector::Guest;
use mrhost::plugin::types::{CallError, Level, PluginManifest, Scope, ScopeKind};
use mrhost::plugin::{aws, log, sink};

struct VpcsV1;

impl Guest for VpcsV1 {
    fn manifest() -> PluginManifest {
        PluginManifest {
            name: "vpcs-v1".into(),
            version: "0.1.0".into(),
            resource_type: "ec2:vpc".into(),
            description: "VPCs, built for mrhost:plugin@0.1.0".into(),
            operations: vec!["ec2:DescribeVpcs".into()],
            scope_kind: ScopeKind::Regional,
            id_field: Some("VpcId".into()),
            columns: vec!["VpcId".into(), "CidrBlock".into()],
        }
    }

    fn collect(scope: Scope) -> Result<(), String> {
        log::log(Level::Info, &format!("account {}", scope.account));
        let params = if scope.region == "eu-west-3" {
            r#"{"VpcIds":["vpc-0000000000000dead"]}"#
        } else {
            "{}"
        };
        let pages = aws::paginate("ec2", "DescribeVpcs", params);
        loop {
            match pages.next() {
                Ok(Some(page)) => {
                    let page: serde_json::Value =
                        serde_json::from_str(&page).map_err(|e| e.to_string())?;
                    for vpc in page["Vpcs"].as_array().into_iter().flatten() {
                        sink::emit(&vpc.to_string());
                    }
                }
                Ok(None) => return Ok(()),
                Err(CallError::Api(e)) => return Err(format!("{}: {}", e.code, e.message)),
                Err(e) => return Err(format!("{e:?}")),
            }
        }
    }
}

export!(VpcsV1);
