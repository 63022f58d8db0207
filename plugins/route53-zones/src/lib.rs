//! Route 53 hosted zones (route53 ListHostedZones, then GetHostedZone for each, all at once),
//! one item per zone, once per account, with `PrivateZone`, `RecordCount`, the VPCs a private
//! zone is associated with and the name servers a public zone is delegated to.

use mrhost_plugin_sdk::prelude::*;

struct Route53Zones;

impl Plugin for Route53Zones {
    fn manifest() -> PluginManifest {
        manifest("route53-zones", "route53:hostedzone")
            .describe("Route 53 hosted zones (route53 ListHostedZones, then GetHostedZone each): private or public, record count, VPCs; once per account")
            .operation("route53:ListHostedZones")
            .operation("route53:GetHostedZone")
            .global()
            .model_shape("route53:HostedZone")
            .id_field("Id")
            .column("PrivateZone", ValueKind::Bool, "Whether the zone is private (answers only in its VPCs)")
            .column("RecordCount", ValueKind::Int, "How many record sets the zone has")
            .column("VPCs", ValueKind::Json, "The VPCs a private zone is associated with")
            .column("NameServers", ValueKind::Json, "The name servers of a public zone's delegation set")
            .columns(&["Id", "Name", "PrivateZone", "RecordCount", "VPCs"])
            .build()
    }

    fn collect(_scope: Scope) -> Result<(), Error> {
        let zones = items("route53", "ListHostedZones", json!({}), "HostedZones")
            .collect::<Result<Vec<_>, _>>()?;
        for (mut zone, detail) in enrich(zones, |z| {
            request("route53", "GetHostedZone", json!({"Id": bare_id(&z["Id"])}))
        }) {
            let detail = match detail {
                Ok(d) => d,
                Err(e) if e.is_not_found() => continue,
                Err(e) => return Err(e.into()),
            };
            let private = zone["Config"]["PrivateZone"].as_bool() == Some(true);
            let count = zone["ResourceRecordSetCount"].clone();
            if let Some(o) = zone.as_object_mut() {
                o.insert("PrivateZone".into(), json!(private));
                o.insert("RecordCount".into(), count);
                o.insert("VPCs".into(), Value::Array(select(detail.clone(), "VPCs")));
                o.insert(
                    "NameServers".into(),
                    Value::Array(select(detail, "DelegationSet.NameServers")),
                );
            }
            emit(&zone);
        }
        Ok(())
    }
}

/// A zone id as the API paths take it: ListHostedZones answers "/hostedzone/Z123", the
/// request URI wants "Z123" (boto3 strips the prefix the same way).
fn bare_id(id: &Value) -> Value {
    match id.as_str() {
        Some(s) => json!(s.rsplit('/').next().unwrap_or(s)),
        None => id.clone(),
    }
}

export_plugin!(Route53Zones);
