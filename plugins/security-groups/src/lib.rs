//! Security groups (ec2 DescribeSecurityGroups), one item per group, with the inbound rules
//! open to the whole internet (0.0.0.0/0 or ::/0) flattened into a column.

use mrhost_plugin_sdk::prelude::*;

struct SecurityGroups;

impl Plugin for SecurityGroups {
    fn manifest() -> PluginManifest {
        manifest("security-groups", "ec2:security-group")
            .version("0.2.0")
            .describe("Security groups (ec2 DescribeSecurityGroups), one item per group, with the inbound rules open to the world (0.0.0.0/0, ::/0) flattened")
            .operation("ec2:DescribeSecurityGroups")
            .model_shape("ec2:SecurityGroup")
            .id_field("GroupId")
            .columns(&["GroupId", "GroupName", "VpcId", "OpenToWorld"])
            .column("OpenToWorld", ValueKind::Json, "the inbound rules open to 0.0.0.0/0 or ::/0, each as \"protocol:port\" or \"protocol:from-to\" (\"all\" for every protocol), in rule order")
            .column("OpenToWorldCount", ValueKind::Int, "how many inbound rules are open to the world")
            .build()
    }

    fn collect(_scope: Scope) -> Result<(), Error> {
        for group in items("ec2", "DescribeSecurityGroups", json!({}), "SecurityGroups") {
            let mut g = group?;
            let open = open_to_world(&g["IpPermissions"]);
            if let Some(o) = g.as_object_mut() {
                let count = open.len();
                o.insert("OpenToWorld".into(), json!(open));
                o.insert("OpenToWorldCount".into(), json!(count));
            }
            emit(&g);
        }
        Ok(())
    }
}

/// Each permission with an IPv4 range 0.0.0.0/0 or an IPv6 range ::/0, once, as
/// `tcp:443`, `tcp:1000-2000`, `icmp` (no ports) or `all` (protocol -1).
fn open_to_world(permissions: &Value) -> Vec<String> {
    let Some(list) = permissions.as_array() else {
        return vec![];
    };
    let mut out = Vec::new();
    for p in list {
        let v4 = p["IpRanges"]
            .as_array()
            .is_some_and(|r| r.iter().any(|r| r["CidrIp"] == "0.0.0.0/0"));
        let v6 = p["Ipv6Ranges"]
            .as_array()
            .is_some_and(|r| r.iter().any(|r| r["CidrIpv6"] == "::/0"));
        if !(v4 || v6) {
            continue;
        }
        let protocol = match &p["IpProtocol"] {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        if protocol == "-1" {
            out.push("all".to_string());
            continue;
        }
        let port = |k: &str| p[k].as_i64();
        out.push(match (port("FromPort"), port("ToPort")) {
            (Some(f), Some(t)) if f == t => format!("{protocol}:{f}"),
            (Some(f), Some(t)) => format!("{protocol}:{f}-{t}"),
            _ => protocol,
        });
    }
    out
}

export_plugin!(SecurityGroups);
