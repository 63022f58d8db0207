//! Regions: `--regions` parsed and checked before any call, then resolved per account
//! (names, globs and `all` within the account's partition; `enabled` from its ec2
//! DescribeRegions).

use aws_engine::endpoint::{all_regions, partition_of};
use aws_engine::{AwsClient, EngineError};
use serde_json::json;

use super::accounts::Account;
use super::PlanError;

/// One item of `--regions`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegionItem {
    All,
    Enabled,
    Glob(String),
    Name(String),
}

/// Parse `--regions` and check every name and pattern against the partition data.
pub fn parse_regions(client: &AwsClient, spec: &str) -> Result<Vec<RegionItem>, PlanError> {
    let endpoints = client.models().endpoints()?;
    let known: Vec<(String, String)> = all_regions(&endpoints);
    let mut items = Vec::new();
    for raw in spec.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let item = match raw {
            "all" => RegionItem::All,
            "enabled" => RegionItem::Enabled,
            g if g.contains(['*', '?', '[']) => {
                if !known.iter().any(|(r, _)| glob_match(g, r)) {
                    return Err(PlanError::EmptyGlob(g.to_string()));
                }
                RegionItem::Glob(g.to_string())
            }
            name => {
                if !known.iter().any(|(k, _)| k == name) {
                    let suggestion = aws_engine::suggest::nearest(
                        name,
                        known.iter().map(|(k, _)| k.as_str()),
                        4,
                    )
                    .map(|s| format!(" (did you mean {s}?)"))
                    .unwrap_or_default();
                    return Err(PlanError::UnknownRegion {
                        region: name.to_string(),
                        suggestion,
                    });
                }
                RegionItem::Name(name.to_string())
            }
        };
        if !items.contains(&item) {
            items.push(item);
        }
    }
    if items.is_empty() {
        return Err(PlanError::NoRegion);
    }
    Ok(items)
}

/// Shell-style glob: `*` any run, `?` one character, `[abc]` a set.
pub fn glob_match(pattern: &str, text: &str) -> bool {
    fn rec(p: &[char], t: &[char]) -> bool {
        match p.first() {
            None => t.is_empty(),
            Some('*') => (0..=t.len()).any(|i| rec(&p[1..], &t[i..])),
            Some('?') => !t.is_empty() && rec(&p[1..], &t[1..]),
            Some('[') => match p.iter().position(|c| *c == ']') {
                Some(end) if !t.is_empty() => {
                    p[1..end].contains(&t[0]) && rec(&p[end + 1..], &t[1..])
                }
                _ => false,
            },
            Some(c) => t.first() == Some(c) && rec(&p[1..], &t[1..]),
        }
    }
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    rec(&p, &t)
}

/// The partition (`aws`, `aws-cn`, ...) of a region.
pub fn partition(client: &AwsClient, region: &str) -> String {
    client
        .models()
        .endpoints()
        .ok()
        .and_then(|e| {
            partition_of(&e, region).and_then(|p| p["partition"].as_str().map(str::to_string))
        })
        .unwrap_or_else(|| "aws".into())
}

/// The region global services are called in, per partition.
pub fn global_region(partition: &str) -> &'static str {
    match partition {
        "aws-cn" => "cn-north-1",
        "aws-us-gov" => "us-gov-west-1",
        "aws-iso" => "us-iso-east-1",
        "aws-iso-b" => "us-isob-east-1",
        _ => "us-east-1",
    }
}

/// The regions of one account: explicit names, globs and `all` within the account's
/// partition, `enabled` from its ec2 DescribeRegions.
pub async fn regions_for(
    client: &AwsClient,
    account: &Account,
    items: &[RegionItem],
    home: &str,
) -> Result<Vec<String>, EngineError> {
    let endpoints = client.models().endpoints()?;
    let part = partition(client, home);
    let in_partition: Vec<String> = all_regions(&endpoints)
        .into_iter()
        .filter(|(_, p)| *p == part)
        .map(|(r, _)| r)
        .collect();
    let mut out: Vec<String> = Vec::new();
    let mut push = |r: String| {
        if !out.contains(&r) {
            out.push(r);
        }
    };
    for item in items {
        match item {
            RegionItem::Name(n) => push(n.clone()),
            RegionItem::All => in_partition.iter().cloned().for_each(&mut push),
            RegionItem::Glob(g) => in_partition
                .iter()
                .filter(|r| glob_match(g, r))
                .cloned()
                .for_each(&mut push),
            RegionItem::Enabled => {
                let resp = client
                    .call(&account.creds, home, "ec2", "DescribeRegions", &json!({}))
                    .await?;
                let mut names: Vec<String> = resp["Regions"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter(|r| r["OptInStatus"].as_str() != Some("not-opted-in"))
                    .filter_map(|r| r["RegionName"].as_str().map(str::to_string))
                    // Only regions of the account's own partition can be reached with its credentials.
                    .filter(|r| in_partition.contains(r))
                    .collect();
                names.sort();
                names.into_iter().for_each(&mut push);
            }
        }
    }
    Ok(out)
}
