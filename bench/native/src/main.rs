//! The native baseline: read DescribeVpcs XML pages (the same bytes the bench server sends),
//! deserialize each with serde (quick-xml), and write every VPC as one ndjson line with
//! `TagsMap` and `Name` (from its tag list) and `RequestRegion` and `RequestAccount` appended —
//! what `mrhost run plugins/vpcs.wasm -o ndjson` prints, byte for byte, minus everything in
//! between (HTTP, signing, the model-driven parser, the WASM boundary).
//!
//!     native-vpcs --region eu-west-1 --account 123456789012 PAGE.xml... > out.ndjson

use std::io::{BufWriter, Write};
use std::time::Instant;

use serde::{Deserialize, Deserializer, Serialize};

/// `<tagSet><item>..</item><item>..</item></tagSet>` -> `[.., ..]`, as botocore does.
fn items<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<Vec<T>>, D::Error> {
    #[derive(Deserialize)]
    struct Items<T> {
        #[serde(default = "Vec::new")]
        item: Vec<T>,
    }
    Ok(Some(Items::<T>::deserialize(d)?.item))
}

#[derive(Deserialize)]
struct Response {
    #[serde(rename = "vpcSet", default, deserialize_with = "items")]
    vpcs: Option<Vec<Vpc>>,
    #[serde(rename = "nextToken")]
    #[allow(dead_code)]
    next_token: Option<String>,
}

// Fields in the botocore model's member order, so the JSON keys come out in boto3's order.
#[derive(Deserialize, Serialize)]
struct Vpc {
    #[serde(rename(deserialize = "ownerId", serialize = "OwnerId"), skip_serializing_if = "Option::is_none")]
    owner_id: Option<String>,
    #[serde(rename(deserialize = "instanceTenancy", serialize = "InstanceTenancy"), skip_serializing_if = "Option::is_none")]
    instance_tenancy: Option<String>,
    #[serde(
        rename(deserialize = "ipv6CidrBlockAssociationSet", serialize = "Ipv6CidrBlockAssociationSet"),
        default,
        deserialize_with = "items",
        skip_serializing_if = "Option::is_none"
    )]
    ipv6_cidr_block_association_set: Option<Vec<Ipv6Association>>,
    #[serde(
        rename(deserialize = "cidrBlockAssociationSet", serialize = "CidrBlockAssociationSet"),
        default,
        deserialize_with = "items",
        skip_serializing_if = "Option::is_none"
    )]
    cidr_block_association_set: Option<Vec<CidrAssociation>>,
    #[serde(rename(deserialize = "isDefault", serialize = "IsDefault"), skip_serializing_if = "Option::is_none")]
    is_default: Option<bool>,
    #[serde(
        rename(deserialize = "tagSet", serialize = "Tags"),
        default,
        deserialize_with = "items",
        skip_serializing_if = "Option::is_none"
    )]
    tags: Option<Vec<Tag>>,
    #[serde(rename(deserialize = "blockPublicAccessStates", serialize = "BlockPublicAccessStates"), skip_serializing_if = "Option::is_none")]
    block_public_access_states: Option<BlockPublicAccessStates>,
    #[serde(rename(deserialize = "vpcId", serialize = "VpcId"), skip_serializing_if = "Option::is_none")]
    vpc_id: Option<String>,
    #[serde(rename(deserialize = "state", serialize = "State"), skip_serializing_if = "Option::is_none")]
    state: Option<String>,
    #[serde(rename(deserialize = "cidrBlock", serialize = "CidrBlock"), skip_serializing_if = "Option::is_none")]
    cidr_block: Option<String>,
    #[serde(rename(deserialize = "dhcpOptionsId", serialize = "DhcpOptionsId"), skip_serializing_if = "Option::is_none")]
    dhcp_options_id: Option<String>,
    #[serde(rename = "TagsMap", skip_deserializing, skip_serializing_if = "Option::is_none")]
    tags_map: Option<TagsMap>,
    #[serde(rename = "Name", skip_deserializing, skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    #[serde(rename = "RequestRegion", skip_deserializing)]
    request_region: String,
    #[serde(rename = "RequestAccount", skip_deserializing)]
    request_account: String,
}

#[derive(Deserialize, Serialize)]
struct CidrAssociation {
    #[serde(rename(deserialize = "associationId", serialize = "AssociationId"), skip_serializing_if = "Option::is_none")]
    association_id: Option<String>,
    #[serde(rename(deserialize = "cidrBlock", serialize = "CidrBlock"), skip_serializing_if = "Option::is_none")]
    cidr_block: Option<String>,
    #[serde(rename(deserialize = "cidrBlockState", serialize = "CidrBlockState"), skip_serializing_if = "Option::is_none")]
    cidr_block_state: Option<BlockState>,
}

#[derive(Deserialize, Serialize)]
struct Ipv6Association {
    #[serde(rename(deserialize = "associationId", serialize = "AssociationId"), skip_serializing_if = "Option::is_none")]
    association_id: Option<String>,
    #[serde(rename(deserialize = "ipv6CidrBlock", serialize = "Ipv6CidrBlock"), skip_serializing_if = "Option::is_none")]
    ipv6_cidr_block: Option<String>,
    #[serde(rename(deserialize = "ipv6CidrBlockState", serialize = "Ipv6CidrBlockState"), skip_serializing_if = "Option::is_none")]
    ipv6_cidr_block_state: Option<BlockState>,
    #[serde(rename(deserialize = "networkBorderGroup", serialize = "NetworkBorderGroup"), skip_serializing_if = "Option::is_none")]
    network_border_group: Option<String>,
}

#[derive(Deserialize, Serialize)]
struct BlockState {
    #[serde(rename(deserialize = "state", serialize = "State"), skip_serializing_if = "Option::is_none")]
    state: Option<String>,
    #[serde(rename(deserialize = "statusMessage", serialize = "StatusMessage"), skip_serializing_if = "Option::is_none")]
    status_message: Option<String>,
}

#[derive(Deserialize, Serialize)]
struct Tag {
    #[serde(rename(deserialize = "key", serialize = "Key"), skip_serializing_if = "Option::is_none")]
    key: Option<String>,
    #[serde(rename(deserialize = "value", serialize = "Value"), skip_serializing_if = "Option::is_none")]
    value: Option<String>,
}

/// The tag list as an object, in the list's order (a repeated key keeps its first place
/// and its last value, as mrhost's map does).
#[derive(Default)]
struct TagsMap(Vec<(String, Option<String>)>);

impl TagsMap {
    fn of(tags: &[Tag]) -> Option<TagsMap> {
        let mut map = TagsMap::default();
        for t in tags {
            let key = t.key.clone()?;
            match map.0.iter_mut().find(|(k, _)| *k == key) {
                Some(slot) => slot.1.clone_from(&t.value),
                None => map.0.push((key, t.value.clone())),
            }
        }
        Some(map)
    }
}

impl Serialize for TagsMap {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

#[derive(Deserialize, Serialize)]
struct BlockPublicAccessStates {
    #[serde(rename(deserialize = "internetGatewayBlockMode", serialize = "InternetGatewayBlockMode"), skip_serializing_if = "Option::is_none")]
    internet_gateway_block_mode: Option<String>,
}

fn main() {
    let mut region = String::from("us-east-1");
    let mut account = String::from("123456789012");
    let mut files = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--region" => region = args.next().expect("--region VALUE"),
            "--account" => account = args.next().expect("--account VALUE"),
            _ => files.push(a),
        }
    }
    let started = Instant::now();
    let stdout = std::io::stdout();
    let mut out = BufWriter::with_capacity(1 << 16, stdout.lock());
    let (mut n, mut bytes, mut read_time) = (0u64, 0u64, 0f64);
    // One page at a time, as a client holding one response would.
    for f in &files {
        let t = Instant::now();
        let text = std::fs::read_to_string(f).unwrap_or_else(|e| panic!("{f}: {e}"));
        read_time += t.elapsed().as_secs_f64();
        bytes += text.len() as u64;
        let page: Response = quick_xml::de::from_str(&text).unwrap_or_else(|e| panic!("{f}: {e}"));
        for mut vpc in page.vpcs.unwrap_or_default() {
            if let Some(tags) = &vpc.tags {
                vpc.tags_map = TagsMap::of(tags);
                vpc.name = vpc
                    .tags_map
                    .as_ref()
                    .and_then(|m| m.0.iter().find(|(k, _)| k == "Name"))
                    .and_then(|(_, v)| v.clone());
            }
            vpc.request_region.clone_from(&region);
            vpc.request_account.clone_from(&account);
            serde_json::to_writer(&mut out, &vpc).expect("write");
            out.write_all(b"\n").expect("write");
            n += 1;
        }
    }
    out.flush().expect("flush");
    let total = started.elapsed().as_secs_f64();
    eprintln!(
        "native: {n} resources from {} pages ({:.1} MB XML) in {:.3}s (file reads {:.3}s): {:.0} resources/s",
        files.len(),
        bytes as f64 / 1e6,
        total,
        read_time,
        n as f64 / total
    );
}
