//! CloudFront distributions (cloudfront ListDistributions), one item per distribution, once
//! per account (CloudFront is global), with flattened security columns: the viewer TLS
//! policy, whether the default behaviour allows plain HTTP, the WAF web ACL (null when none)
//! and the origins' domain names.

use mrhost_plugin_sdk::prelude::*;

struct CloudfrontDistributions;

impl Plugin for CloudfrontDistributions {
    fn manifest() -> PluginManifest {
        manifest("cloudfront-distributions", "cloudfront:distribution")
            .describe("CloudFront distributions (cloudfront ListDistributions): viewer TLS policy, WAF web ACL, origins; once per account")
            .operation("cloudfront:ListDistributions")
            .global()
            .model_shape("cloudfront:DistributionSummary")
            .id_field("ARN")
            .column("MinimumProtocolVersion", ValueKind::String, "The viewer TLS security policy (e.g. TLSv1.2_2021); TLSv1 with the default certificate")
            .column("ViewerProtocolPolicy", ValueKind::String, "allow-all, redirect-to-https or https-only (default behaviour)")
            .column("WebAclId", ValueKind::String, "The associated WAF web ACL; null when none")
            .column("OriginDomains", ValueKind::Json, "The domain names of the origins")
            .columns(&[
                "Id",
                "DomainName",
                "Enabled",
                "MinimumProtocolVersion",
                "ViewerProtocolPolicy",
                "WebAclId",
                "OriginDomains",
            ])
            .build()
    }

    fn collect(_scope: Scope) -> Result<(), Error> {
        for d in items(
            "cloudfront",
            "ListDistributions",
            json!({}),
            "DistributionList.Items",
        ) {
            let mut d = d?;
            let tls = d["ViewerCertificate"]["MinimumProtocolVersion"].clone();
            let viewer = d["DefaultCacheBehavior"]["ViewerProtocolPolicy"].clone();
            let waf = match d["WebACLId"].as_str() {
                Some("") | None => Value::Null,
                Some(id) => json!(id),
            };
            let origins: Vec<Value> = select(d["Origins"].clone(), "Items")
                .into_iter()
                .map(|o| o["DomainName"].clone())
                .collect();
            if let Some(o) = d.as_object_mut() {
                o.insert("MinimumProtocolVersion".into(), tls);
                o.insert("ViewerProtocolPolicy".into(), viewer);
                o.insert("WebAclId".into(), waf);
                o.insert("OriginDomains".into(), Value::Array(origins));
            }
            emit(&d);
        }
        Ok(())
    }
}

export_plugin!(CloudfrontDistributions);
