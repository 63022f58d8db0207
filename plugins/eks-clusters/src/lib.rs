//! EKS clusters (eks ListClusters, then DescribeCluster for each, all at once), one item per
//! cluster as DescribeCluster returns it, with flattened security columns: whether the API
//! endpoint is public and to which CIDRs, whether it is private, and which control-plane log
//! types are enabled.

use mrhost_plugin_sdk::prelude::*;

struct EksClusters;

impl Plugin for EksClusters {
    fn manifest() -> PluginManifest {
        manifest("eks-clusters", "eks:cluster")
            .describe("EKS clusters (eks ListClusters, then DescribeCluster each): public endpoint, public CIDRs, logging")
            .operation("eks:ListClusters")
            .operation("eks:DescribeCluster")
            .model_shape("eks:Cluster")
            .id_field("arn")
            .column("EndpointPublicAccess", ValueKind::Bool, "Whether the Kubernetes API endpoint is reachable from the internet")
            .column("EndpointPrivateAccess", ValueKind::Bool, "Whether the endpoint is reachable from the VPC")
            .column("PublicAccessCidrs", ValueKind::Json, "CIDRs allowed to reach the public endpoint")
            .column("EnabledLogTypes", ValueKind::Json, "Control-plane log types enabled (api, audit, ...)")
            .reference("roleArn", "iam:role", ReferenceBy::Arn)
            .columns(&[
                "name",
                "version",
                "status",
                "EndpointPublicAccess",
                "PublicAccessCidrs",
                "EnabledLogTypes",
            ])
            .build()
    }

    fn collect(_scope: Scope) -> Result<(), Error> {
        let names =
            items("eks", "ListClusters", json!({}), "clusters").collect::<Result<Vec<_>, _>>()?;
        for (_name, described) in enrich(names, |n| {
            request("eks", "DescribeCluster", json!({"name": n}))
        }) {
            let mut cluster = match described {
                Ok(mut d) => d["cluster"].take(),
                Err(e) if e.is_not_found() => continue,
                Err(e) => return Err(e.into()),
            };
            let vpc = &cluster["resourcesVpcConfig"];
            let public = vpc["endpointPublicAccess"].clone();
            let private = vpc["endpointPrivateAccess"].clone();
            let cidrs = vpc["publicAccessCidrs"].clone();
            let logs: Vec<Value> = select(cluster["logging"].clone(), "clusterLogging")
                .into_iter()
                .filter(|l| l["enabled"] == true)
                .flat_map(|l| select(l, "types"))
                .collect();
            if let Some(o) = cluster.as_object_mut() {
                o.insert("EndpointPublicAccess".into(), public);
                o.insert("EndpointPrivateAccess".into(), private);
                o.insert("PublicAccessCidrs".into(), cidrs);
                o.insert("EnabledLogTypes".into(), Value::Array(logs));
            }
            emit(&cluster);
        }
        Ok(())
    }
}

export_plugin!(EksClusters);
