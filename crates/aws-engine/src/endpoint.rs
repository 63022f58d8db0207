//! Endpoint resolution from botocore's partition data (endpoints.json), plus the standard
//! overrides: an explicit endpoint URL, `AWS_ENDPOINT_URL_<SERVICE>`, `AWS_ENDPOINT_URL`.

use serde_json::Value;

use super::error::EngineError;
use super::model::{Models, ServiceModel};

/// Where one service's requests go in one region, and how they are signed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// `scheme://host[:port][/base-path]`, no trailing slash.
    pub url: String,
    /// The region requests are signed for (IAM, Route 53, ... sign for us-east-1).
    pub signing_region: String,
    /// Overrides the model's signing name when the partition data says so.
    pub signing_name: Option<String>,
    /// Set by `--endpoint-url` or `AWS_ENDPOINT_URL*` (S3 then uses path-style addressing).
    pub overridden: bool,
}

/// Where endpoint overrides come from; `from_env` reads the process environment once.
#[derive(Debug, Clone, Default)]
pub struct EndpointOverrides {
    /// `--endpoint-url`: wins over everything.
    pub explicit: Option<String>,
    /// `AWS_ENDPOINT_URL`.
    pub global: Option<String>,
    /// `AWS_ENDPOINT_URL_<SERVICE_ID>` entries, keyed by the upper-cased service id.
    pub per_service: Vec<(String, String)>,
}

impl EndpointOverrides {
    /// The overrides: `explicit` (`--endpoint-url`), then the environment
    /// (unless `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true`).
    pub fn from_env(explicit: Option<String>) -> Self {
        let ignore = std::env::var("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")
            .map(|v| v.eq_ignore_ascii_case("true"))
            .unwrap_or(false);
        let mut o = EndpointOverrides {
            explicit,
            ..Default::default()
        };
        if !ignore {
            for (k, v) in std::env::vars() {
                if k == "AWS_ENDPOINT_URL" {
                    o.global = Some(v);
                } else if let Some(svc) = k.strip_prefix("AWS_ENDPOINT_URL_") {
                    o.per_service.push((svc.to_string(), v));
                }
            }
        }
        o
    }

    fn for_service(&self, model: &ServiceModel) -> Option<&str> {
        if let Some(e) = &self.explicit {
            return Some(e);
        }
        let id = model.env_service_id();
        if let Some((_, v)) = self.per_service.iter().find(|(k, _)| *k == id) {
            return Some(v);
        }
        self.global.as_deref()
    }
}

/// The partition a region belongs to (`aws`, `aws-cn`, `aws-us-gov`, ...): listed regions
/// first, then each partition's region pattern.
pub fn partition_of<'a>(endpoints: &'a Value, region: &str) -> Option<&'a Value> {
    let parts = endpoints["partitions"].as_array()?;
    parts
        .iter()
        .find(|p| p["regions"].get(region).is_some())
        .or_else(|| {
            parts.iter().find(|p| {
                p["regionRegex"]
                    .as_str()
                    .map(|re| simple_region_regex_match(re, region))
                    .unwrap_or(false)
            })
        })
}

/// Every region listed in the partition data, with its partition name.
pub fn all_regions(endpoints: &Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for p in endpoints["partitions"].as_array().into_iter().flatten() {
        let name = p["partition"].as_str().unwrap_or_default().to_string();
        for r in p["regions"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(k, _)| k)
        {
            out.push((r.clone(), name.clone()));
        }
    }
    out
}

/// The partition regexes are all of the form `^(a|b|c)\-\w+\-\d+$`; match that form without
/// a regex engine.
fn simple_region_regex_match(re: &str, region: &str) -> bool {
    let Some(inner) = re.strip_prefix("^(").and_then(|r| r.split_once(')')) else {
        return false;
    };
    let (alts, rest) = inner;
    if rest != "\\-\\w+\\-\\d+$" {
        return false;
    }
    let mut parts = region.splitn(2, '-');
    let (Some(first), Some(tail)) = (parts.next(), parts.next()) else {
        return false;
    };
    if !alts.split('|').any(|a| a == first) {
        return false;
    }
    match tail.rsplit_once('-') {
        Some((mid, num)) => {
            !mid.is_empty()
                && mid.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                && !num.is_empty()
                && num.chars().all(|c| c.is_ascii_digit())
        }
        None => false,
    }
}

fn merge(into: &mut serde_json::Map<String, Value>, from: &Value) {
    if let Some(o) = from.as_object() {
        for (k, v) in o {
            into.insert(k.clone(), v.clone());
        }
    }
}

/// The endpoint of `model` in `region`: an override if one applies, else the
/// partition data of the models (botocore's endpoint rules as the AWS CLI applies them).
pub fn resolve(
    models: &Models,
    model: &ServiceModel,
    region: &str,
    overrides: &EndpointOverrides,
) -> Result<Endpoint, EngineError> {
    let endpoints = models.endpoints()?;
    let prefix = model.endpoint_prefix();
    let partition = partition_of(&endpoints, region);

    // What the partition data says (also consulted under an override, for the signing region).
    let resolved = partition.and_then(|p| resolve_in_partition(p, prefix, region));

    if let Some(url) = overrides.for_service(model) {
        let url = url.trim_end_matches('/').to_string();
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(EngineError::endpoint(format!(
                "endpoint URL '{url}' must start with http:// or https://"
            )));
        }
        return Ok(Endpoint {
            url,
            signing_region: region.to_string(),
            signing_name: None,
            overridden: true,
        });
    }
    match resolved {
        Some(e) => Ok(e),
        None => {
            // Not in the partition data: fall back to the partition's pattern, or aws's.
            let (suffix, template) = partition
                .map(|p| {
                    (
                        p.get("dnsSuffix")
                            .and_then(Value::as_str)
                            .unwrap_or("amazonaws.com"),
                        p.get("defaults")
                            .and_then(|d| d.get("hostname"))
                            .and_then(Value::as_str)
                            .unwrap_or("{service}.{region}.{dnsSuffix}"),
                    )
                })
                .unwrap_or(("amazonaws.com", "{service}.{region}.{dnsSuffix}"));
            let host = template
                .replace("{service}", prefix)
                .replace("{region}", region)
                .replace("{dnsSuffix}", suffix);
            Ok(Endpoint {
                url: format!("https://{host}"),
                signing_region: region.to_string(),
                signing_name: None,
                overridden: false,
            })
        }
    }
}

// serde_json's `Value[key]` is `Null` for a missing key or a non-object: it never panics.
#[allow(clippy::indexing_slicing)]
fn resolve_in_partition(partition: &Value, prefix: &str, region: &str) -> Option<Endpoint> {
    let service = &partition["services"][prefix];
    let dns_suffix = partition["dnsSuffix"].as_str().unwrap_or("amazonaws.com");
    let mut cfg = serde_json::Map::new();
    merge(&mut cfg, &partition["defaults"]);
    if service.is_object() {
        merge(&mut cfg, &service["defaults"]);
    }
    let regionalized = service["isRegionalized"].as_bool().unwrap_or(true);
    // S3 in us-east-1 keeps its legacy global hostname, as boto3 does by default.
    let endpoint_key = if prefix == "s3"
        && region == "us-east-1"
        && service["endpoints"].get("aws-global").is_some()
    {
        Some("aws-global".to_string())
    } else if service["endpoints"].get(region).is_some() {
        Some(region.to_string())
    } else if !regionalized {
        service["partitionEndpoint"].as_str().map(str::to_string)
    } else {
        None
    };
    if let Some(key) = &endpoint_key {
        merge(&mut cfg, &service["endpoints"][key.as_str()]);
    } else if !service.is_object() && partition["regions"].get(region).is_none() {
        return None;
    }
    let template = cfg.get("hostname").and_then(Value::as_str)?;
    let host = template
        .replace("{service}", prefix)
        .replace("{region}", region)
        .replace(
            "{dnsSuffix}",
            cfg.get("dnsSuffix")
                .and_then(Value::as_str)
                .unwrap_or(dns_suffix),
        );
    let protocols: Vec<&str> = cfg
        .get("protocols")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let scheme = if protocols.is_empty() || protocols.contains(&"https") {
        "https"
    } else {
        "http"
    };
    let scope = cfg.get("credentialScope");
    let signing_region = scope
        .and_then(|s| s["region"].as_str())
        .unwrap_or(region)
        .to_string();
    let signing_name = scope
        .and_then(|s| s["service"].as_str())
        .map(str::to_string);
    Some(Endpoint {
        url: format!("{scheme}://{host}"),
        signing_region,
        signing_name,
        overridden: false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(service: &str, region: &str) -> (String, String) {
        let models = Models::new(vec![]).unwrap();
        let m = models.service(service).unwrap();
        let e = resolve(&models, &m, region, &EndpointOverrides::default()).unwrap();
        (e.url, e.signing_region)
    }

    /// (service, region) → URL as boto3 {botocore 1.44.5} resolves it (`client.meta.endpoint_url`).
    const BOTO3_ENDPOINTS: &[(&str, &str, &str)] = &[
        ("ec2", "us-east-1", "https://ec2.us-east-1.amazonaws.com"),
        ("ec2", "eu-west-1", "https://ec2.eu-west-1.amazonaws.com"),
        (
            "ec2",
            "ap-southeast-7",
            "https://ec2.ap-southeast-7.amazonaws.com",
        ),
        (
            "ec2",
            "cn-north-1",
            "https://ec2.cn-north-1.amazonaws.com.cn",
        ),
        (
            "ec2",
            "cn-northwest-1",
            "https://ec2.cn-northwest-1.amazonaws.com.cn",
        ),
        (
            "ec2",
            "us-gov-west-1",
            "https://ec2.us-gov-west-1.amazonaws.com",
        ),
        (
            "ec2",
            "us-gov-east-1",
            "https://ec2.us-gov-east-1.amazonaws.com",
        ),
        ("s3", "us-east-1", "https://s3.amazonaws.com"),
        (
            "s3",
            "eu-central-1",
            "https://s3.eu-central-1.amazonaws.com",
        ),
        ("s3", "cn-north-1", "https://s3.cn-north-1.amazonaws.com.cn"),
        (
            "s3",
            "us-gov-west-1",
            "https://s3.us-gov-west-1.amazonaws.com",
        ),
        ("iam", "us-east-1", "https://iam.amazonaws.com"),
        ("iam", "eu-west-1", "https://iam.amazonaws.com"),
        (
            "iam",
            "cn-north-1",
            "https://iam.cn-north-1.amazonaws.com.cn",
        ),
        ("iam", "us-gov-west-1", "https://iam.us-gov.amazonaws.com"),
        ("sts", "us-east-1", "https://sts.us-east-1.amazonaws.com"),
        ("sts", "eu-west-1", "https://sts.eu-west-1.amazonaws.com"),
        ("sts", "ap-east-1", "https://sts.ap-east-1.amazonaws.com"),
        (
            "sts",
            "cn-north-1",
            "https://sts.cn-north-1.amazonaws.com.cn",
        ),
        (
            "sts",
            "us-gov-west-1",
            "https://sts.us-gov-west-1.amazonaws.com",
        ),
        (
            "organizations",
            "us-east-1",
            "https://organizations.us-east-1.amazonaws.com",
        ),
        (
            "organizations",
            "eu-west-1",
            "https://organizations.us-east-1.amazonaws.com",
        ),
        (
            "organizations",
            "cn-northwest-1",
            "https://organizations.cn-northwest-1.amazonaws.com.cn",
        ),
        (
            "organizations",
            "us-gov-west-1",
            "https://organizations.us-gov-west-1.amazonaws.com",
        ),
        ("route53", "us-east-1", "https://route53.amazonaws.com"),
        ("route53", "eu-west-1", "https://route53.amazonaws.com"),
        ("route53", "cn-north-1", "https://route53.amazonaws.com.cn"),
        (
            "route53",
            "us-gov-west-1",
            "https://route53.us-gov.amazonaws.com",
        ),
        (
            "cloudfront",
            "us-east-1",
            "https://cloudfront.amazonaws.com",
        ),
        (
            "cloudfront",
            "eu-west-1",
            "https://cloudfront.amazonaws.com",
        ),
        (
            "cloudfront",
            "cn-north-1",
            "https://cloudfront.cn-northwest-1.amazonaws.com.cn",
        ),
        (
            "lambda",
            "eu-west-2",
            "https://lambda.eu-west-2.amazonaws.com",
        ),
        (
            "lambda",
            "cn-north-1",
            "https://lambda.cn-north-1.amazonaws.com.cn",
        ),
        (
            "dynamodb",
            "us-gov-west-1",
            "https://dynamodb.us-gov-west-1.amazonaws.com",
        ),
        (
            "logs",
            "me-central-1",
            "https://logs.me-central-1.amazonaws.com",
        ),
        ("sqs", "eu-north-1", "https://sqs.eu-north-1.amazonaws.com"),
        ("kms", "ca-west-1", "https://kms.ca-west-1.amazonaws.com"),
        (
            "sso",
            "eu-west-1",
            "https://portal.sso.eu-west-1.amazonaws.com",
        ),
        (
            "ecr",
            "mx-central-1",
            "https://api.ecr.mx-central-1.amazonaws.com",
        ),
        (
            "elbv2",
            "eu-west-1",
            "https://elasticloadbalancing.eu-west-1.amazonaws.com",
        ),
        (
            "cloudwatch",
            "us-east-1",
            "https://monitoring.us-east-1.amazonaws.com",
        ),
        (
            "sns",
            "cn-north-1",
            "https://sns.cn-north-1.amazonaws.com.cn",
        ),
        (
            "apigateway",
            "eu-west-3",
            "https://apigateway.eu-west-3.amazonaws.com",
        ),
        (
            "rds",
            "il-central-1",
            "https://rds.il-central-1.amazonaws.com",
        ),
        (
            "ssm",
            "us-gov-east-1",
            "https://ssm.us-gov-east-1.amazonaws.com",
        ),
    ];

    #[test]
    fn endpoints_match_boto3_across_partitions() {
        let models = Models::new(vec![]).unwrap();
        let mut wrong = Vec::new();
        for (service, region, want) in BOTO3_ENDPOINTS {
            let m = models.service(service).unwrap();
            let got = resolve(&models, &m, region, &EndpointOverrides::default())
                .unwrap()
                .url;
            if got != *want {
                wrong.push(format!("{service} {region}: {got} (boto3: {want})"));
            }
        }
        assert!(
            wrong.is_empty(),
            "{} of {} differ:\n{}",
            wrong.len(),
            BOTO3_ENDPOINTS.len(),
            wrong.join("\n")
        );
    }

    #[test]
    fn regional_and_global_endpoints() {
        assert_eq!(
            url("ec2", "eu-west-1").0,
            "https://ec2.eu-west-1.amazonaws.com"
        );
        assert_eq!(
            url("ec2", "cn-north-1").0,
            "https://ec2.cn-north-1.amazonaws.com.cn"
        );
        assert_eq!(
            url("iam", "eu-west-1"),
            ("https://iam.amazonaws.com".into(), "us-east-1".into())
        );
        assert_eq!(
            url("sts", "eu-west-1").0,
            "https://sts.eu-west-1.amazonaws.com"
        );
    }

    #[test]
    fn explicit_override_wins() {
        let models = Models::new(vec![]).unwrap();
        let m = models.service("ec2").unwrap();
        let o = EndpointOverrides {
            explicit: Some("http://127.0.0.1:5000/".into()),
            ..Default::default()
        };
        let e = resolve(&models, &m, "eu-west-2", &o).unwrap();
        assert_eq!(e.url, "http://127.0.0.1:5000");
        assert_eq!(e.signing_region, "eu-west-2");
        let per = EndpointOverrides {
            per_service: vec![("EC2".into(), "http://localhost:1".into())],
            global: Some("http://localhost:2".into()),
            ..Default::default()
        };
        assert_eq!(
            resolve(&models, &m, "eu-west-2", &per).unwrap().url,
            "http://localhost:1"
        );
        let iam = models.service("iam").unwrap();
        assert_eq!(
            resolve(&models, &iam, "eu-west-2", &per).unwrap().url,
            "http://localhost:2"
        );
    }
}
