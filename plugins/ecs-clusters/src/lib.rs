//! ECS clusters (ecs ListClusters, then DescribeClusters in batches of 100, with tags and
//! settings), one item per cluster as DescribeClusters returns it.

use mrhost_plugin_sdk::prelude::*;

struct EcsClusters;

/// The most clusters one DescribeClusters call takes.
const BATCH: usize = 100;

impl Plugin for EcsClusters {
    fn manifest() -> PluginManifest {
        manifest("ecs-clusters", "ecs:cluster")
            .describe("ECS clusters (ecs ListClusters, then DescribeClusters with TAGS and SETTINGS, 100 at a time), one item per cluster")
            .operation("ecs:ListClusters")
            .operation("ecs:DescribeClusters")
            .id_field("clusterArn")
            .columns(&["clusterName", "status", "activeServicesCount", "runningTasksCount", "registeredContainerInstancesCount"])
            .build()
    }

    fn collect(_scope: Scope) -> Result<(), Error> {
        for page in pages("ecs", "ListClusters", json!({"maxResults": BATCH})) {
            // A page is usually at most 100 ARNs, but nothing obliges a server to that.
            for batch in select(page?, "clusterArns").chunks(BATCH) {
                log(
                    Level::Debug,
                    &format!("DescribeClusters: {} clusters", batch.len()),
                );
                let params = json!({"clusters": batch, "include": ["TAGS", "SETTINGS"]});
                let resp = call("ecs", "DescribeClusters", params)?;
                // MISSING: deleted since it was listed.
                for f in resp["failures"].as_array().into_iter().flatten() {
                    log(
                        Level::Info,
                        &format!("skipped {}: {}", f["arn"], f["reason"]),
                    );
                }
                for cluster in select(resp, "clusters") {
                    emit(&cluster);
                }
            }
        }
        Ok(())
    }
}

export_plugin!(EcsClusters);
