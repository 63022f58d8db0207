//! Application, network and gateway load balancer listeners: elbv2 DescribeLoadBalancers,
//! then DescribeListeners for each load balancer (all at once), one item per listener with
//! its protocol, TLS policy (`SslPolicy`) and certificates, plus the load balancer's name and
//! scheme and `CertificateArns`. DescribeListeners is a redacted read: the OIDC client
//! secret of an authenticate action comes back as `<redacted>` unless `--allow secret`.

use mrhost_plugin_sdk::prelude::*;

struct Elbv2Listeners;

impl Plugin for Elbv2Listeners {
    fn manifest() -> PluginManifest {
        manifest("elbv2-listeners", "elasticloadbalancing:listener")
            .describe("ELBv2 listeners (elbv2 DescribeLoadBalancers, then DescribeListeners each): protocol, TLS policy, certificates")
            .operation("elbv2:DescribeLoadBalancers")
            .operation("elbv2:DescribeListeners")
            .model_shape("elbv2:Listener")
            .id_field("ListenerArn")
            .column("LoadBalancerName", ValueKind::String, "The listener's load balancer")
            .column("Scheme", ValueKind::String, "internet-facing or internal (the load balancer's)")
            .column("CertificateArns", ValueKind::Json, "ARNs of the listener's default certificates")
            .reference("CertificateArns", "acm:certificate", ReferenceBy::Arn)
            .columns(&[
                "LoadBalancerName",
                "Port",
                "Protocol",
                "SslPolicy",
                "Scheme",
                "CertificateArns",
            ])
            .build()
    }

    fn collect(_scope: Scope) -> Result<(), Error> {
        let lbs = items("elbv2", "DescribeLoadBalancers", json!({}), "LoadBalancers")
            .collect::<Result<Vec<_>, _>>()?;
        for (lb, first) in enrich(lbs, |lb| {
            request(
                "elbv2",
                "DescribeListeners",
                json!({"LoadBalancerArn": lb["LoadBalancerArn"]}),
            )
        }) {
            let mut first = match first {
                Ok(f) => f,
                Err(e) if e.is_not_found() => continue,
                Err(e) => return Err(e.into()),
            };
            // The rest of the pages, when the first had a marker.
            let marker = first["NextMarker"].take();
            let mut listeners = select(first, "Listeners");
            if marker.is_string() {
                let params = json!({"LoadBalancerArn": lb["LoadBalancerArn"], "Marker": marker});
                for l in items("elbv2", "DescribeListeners", params, "Listeners") {
                    listeners.push(l?);
                }
            }
            for mut listener in listeners {
                let arns: Vec<Value> = select(listener["Certificates"].clone(), "CertificateArn");
                if let Some(o) = listener.as_object_mut() {
                    o.insert("LoadBalancerName".into(), lb["LoadBalancerName"].clone());
                    o.insert("Scheme".into(), lb["Scheme"].clone());
                    o.insert("CertificateArns".into(), Value::Array(arns));
                }
                emit(&listener);
            }
        }
        Ok(())
    }
}

export_plugin!(Elbv2Listeners);
