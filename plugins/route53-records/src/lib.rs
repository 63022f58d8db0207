//! Route 53 record sets: route53 ListHostedZones, then ListResourceRecordSets for each zone
//! (the first pages all at once, further pages of a large zone after), one item per record
//! set, once per account, with its zone's `HostedZoneId`, `ZoneName` and `PrivateZone`.

use mrhost_plugin_sdk::prelude::*;

struct Route53Records;

impl Plugin for Route53Records {
    fn manifest() -> PluginManifest {
        manifest("route53-records", "route53:record-set")
            .describe("Route 53 record sets (route53 ListHostedZones, then ListResourceRecordSets each), one item per record set; once per account")
            .operation("route53:ListHostedZones")
            .operation("route53:ListResourceRecordSets")
            .global()
            .model_shape("route53:ResourceRecordSet")
            .column("HostedZoneId", ValueKind::String, "The record's hosted zone")
            .column("ZoneName", ValueKind::String, "The zone's domain name")
            .column("PrivateZone", ValueKind::Bool, "Whether the zone is private")
            .reference("HostedZoneId", "route53:hostedzone", ReferenceBy::Id)
            .columns(&["ZoneName", "Name", "Type", "TTL", "ResourceRecords", "AliasTarget"])
            .build()
    }

    fn collect(_scope: Scope) -> Result<(), Error> {
        let zones = items("route53", "ListHostedZones", json!({}), "HostedZones")
            .collect::<Result<Vec<_>, _>>()?;
        let params = |z: &Value| json!({"HostedZoneId": bare_id(&z["Id"])});
        let first = call_all(
            zones
                .iter()
                .map(|z| request("route53", "ListResourceRecordSets", params(z))),
        );
        for (zone, first) in zones.iter().zip(first) {
            let mut first = match first {
                Ok(f) => f,
                Err(e) if e.is_not_found() => continue,
                Err(e) => return Err(e.into()),
            };
            let truncated = first["IsTruncated"].as_bool() == Some(true);
            let mut next = params(zone);
            for (to, from) in [
                ("StartRecordName", "NextRecordName"),
                ("StartRecordType", "NextRecordType"),
                ("StartRecordIdentifier", "NextRecordIdentifier"),
            ] {
                if first[from].is_string() {
                    next[to] = first[from].take();
                }
            }
            let mut records = select(first, "ResourceRecordSets");
            if truncated {
                for r in items(
                    "route53",
                    "ListResourceRecordSets",
                    next,
                    "ResourceRecordSets",
                ) {
                    records.push(r?);
                }
            }
            let private = zone["Config"]["PrivateZone"].as_bool() == Some(true);
            for mut record in records {
                if let Some(o) = record.as_object_mut() {
                    o.insert("HostedZoneId".into(), zone["Id"].clone());
                    o.insert("ZoneName".into(), zone["Name"].clone());
                    o.insert("PrivateZone".into(), json!(private));
                }
                emit(&record);
            }
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

export_plugin!(Route53Records);
