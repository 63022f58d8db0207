//! Application, network and gateway load balancers (elbv2 DescribeLoadBalancers), one item per load balancer.

use mrhost_plugin_sdk::prelude::*;

struct Elbv2LoadBalancers;

impl Plugin for Elbv2LoadBalancers {
    fn manifest() -> PluginManifest {
        manifest("elbv2-load-balancers", "elbv2:loadbalancer")
            .describe("Application, network and gateway load balancers (elbv2 DescribeLoadBalancers), one item per load balancer")
            .operation("elbv2:DescribeLoadBalancers")
            .id_field("LoadBalancerArn")
            .columns(&["LoadBalancerName", "Type", "Scheme", "DNSName", "VpcId"])
            .build()
    }

    fn collect(_scope: Scope) -> Result<(), Error> {
        emit_items("elbv2", "DescribeLoadBalancers", json!({}), "LoadBalancers")?;
        Ok(())
    }
}

export_plugin!(Elbv2LoadBalancers);
