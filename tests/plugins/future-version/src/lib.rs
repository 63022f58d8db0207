//! Test plugin built against a contract version this host does not serve
//! (mrhost:plugin@0.9.0, see wit/ beside this file): the host must refuse it by name.

wit_bindgen::generate!({ path: "wit", world: "plugin" });

use exports::mrhost::plugin::collector::Guest;
use mrhost::plugin::types::{PluginManifest, Scope, ScopeKind};

struct Future;

impl Guest for Future {
    fn manifest() -> PluginManifest {
        PluginManifest {
            name: "future-version".into(),
            version: "2.0.0".into(),
            resource_type: "ec2:vpc".into(),
            description: String::new(),
            operations: vec!["ec2:DescribeVpcs".into()],
            scope_kind: ScopeKind::Regional,
            id_field: None,
            columns: vec![],
        }
    }

    fn collect(_scope: Scope) -> Result<(), String> {
        Ok(())
    }
}

export!(Future);
