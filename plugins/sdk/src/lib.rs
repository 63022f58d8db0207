//! The mrhost plugin SDK: write a resource type as a manifest and a `collect` body.
//!
//! ```ignore
//! use mrhost_plugin_sdk::prelude::*;
//!
//! struct Vpcs;
//!
//! impl Plugin for Vpcs {
//!     fn manifest() -> PluginManifest {
//!         manifest("vpcs", "ec2:vpc")
//!             .describe("Every VPC, as ec2 DescribeVpcs returns it")
//!             .operation("ec2:DescribeVpcs")
//!             .id_field("VpcId")
//!             .columns(&["VpcId", "CidrBlock", "IsDefault", "State"])
//!             .build()
//!     }
//!
//!     fn collect(_scope: Scope) -> Result<(), String> {
//!         for vpc in items("ec2", "DescribeVpcs", json!({}), "Vpcs") {
//!             emit(&vpc?);
//!         }
//!         Ok(())
//!     }
//! }
//!
//! export_plugin!(Vpcs);
//! ```
//!
//! Build with `cargo build --release --target wasm32-wasip2`; the `.wasm` in
//! `target/wasm32-wasip2/release/` is the component `mrhost run` takes. The host adds
//! `RequestRegion` and `RequestAccount` to every emitted object.

extern crate self as mrhost_plugin_sdk;

#[doc(hidden)]
pub use wit_bindgen as __wit_bindgen;

/// The raw bindings generated from `wit/` (for what the helpers below don't cover).
pub mod bindings {
    wit_bindgen::generate!({
        path: "../../wit",
        world: "plugin",
        pub_export_macro: true,
        export_macro_name: "__export_plugin_world",
        default_bindings_module: "mrhost_plugin_sdk::bindings",
        runtime_path: "mrhost_plugin_sdk::__wit_bindgen::rt",
    });
}

pub use bindings::exports::mrhost::plugin::collector::Guest as Plugin;
pub use bindings::mrhost::plugin::types::{
    ApiError, CallError, Level, PluginManifest, Scope, ScopeKind,
};
use bindings::mrhost::plugin::{aws, log as wlog, sink};
pub use serde_json::{self, json, Value};

/// Everything a plugin usually needs.
pub mod prelude {
    pub use crate::{
        call, emit, emit_all, export_plugin, items, log, manifest, pages, ApiError, CallError,
        Plugin, PluginManifest, Scope, ScopeKind, Value,
    };
    pub use serde_json::json;
}

/// Export `$t` (which implements [`Plugin`]) as the component's `collector`.
#[macro_export]
macro_rules! export_plugin {
    ($t:ident) => {
        $crate::bindings::__export_plugin_world!($t with_types_in $crate::bindings);
    };
}

impl CallError {
    /// One line: `Code: message` for API errors, `denied: ...` and so on for the rest.
    pub fn describe(&self) -> String {
        match self {
            CallError::Api(e) => format!("{}: {}", e.code, e.message),
            CallError::Denied(m) => format!("denied: {m}"),
            CallError::InvalidRequest(m) => format!("invalid request: {m}"),
            CallError::Failed(m) => format!("failed: {m}"),
        }
    }

    /// The AWS error code, if the service answered with an error.
    pub fn code(&self) -> Option<&str> {
        match self {
            CallError::Api(e) => Some(&e.code),
            _ => None,
        }
    }
}

/// So `?` works in `collect`, which returns `Result<(), String>`.
impl From<CallError> for String {
    fn from(e: CallError) -> String {
        e.describe()
    }
}

/// One AWS call with boto3-style params; the response as boto3 returns it.
pub fn call(service: &str, operation: &str, params: Value) -> Result<Value, CallError> {
    let text = aws::call(service, operation, &params.to_string())?;
    serde_json::from_str(&text)
        .map_err(|e| CallError::Failed(format!("host sent invalid JSON: {e}")))
}

/// The pages of a paginated call, one JSON page per item.
pub fn pages(service: &str, operation: &str, params: Value) -> Pages {
    Pages {
        inner: Some(aws::paginate(service, operation, &params.to_string())),
    }
}

pub struct Pages {
    inner: Option<aws::Pages>,
}

impl Iterator for Pages {
    type Item = Result<Value, CallError>;
    fn next(&mut self) -> Option<Self::Item> {
        let pages = self.inner.as_ref()?;
        match pages.next() {
            Ok(Some(text)) => Some(
                serde_json::from_str(&text)
                    .map_err(|e| CallError::Failed(format!("host sent invalid JSON: {e}"))),
            ),
            Ok(None) => {
                self.inner = None;
                None
            }
            Err(e) => {
                self.inner = None;
                Some(Err(e))
            }
        }
    }
}

/// The items under `key` (a dotted path such as `"DistributionList.Items"`) of every page.
pub fn items(
    service: &str,
    operation: &str,
    params: Value,
    key: &str,
) -> impl Iterator<Item = Result<Value, CallError>> {
    let key = key.to_string();
    pages(service, operation, params).flat_map(move |page| -> Vec<Result<Value, CallError>> {
        match page {
            Err(e) => vec![Err(e)],
            Ok(mut page) => {
                let mut cur = &mut page;
                for part in key.split('.') {
                    cur = match cur.get_mut(part) {
                        Some(v) => v,
                        None => return vec![],
                    };
                }
                match cur.take() {
                    Value::Array(a) => a.into_iter().map(Ok).collect(),
                    Value::Null => vec![],
                    other => vec![Ok(other)],
                }
            }
        }
    })
}

/// Emit one resource (a JSON object).
pub fn emit(resource: &Value) {
    sink::emit(&resource.to_string());
}

/// Emit every item of an iterator of results, stopping at the first error.
pub fn emit_all(it: impl IntoIterator<Item = Result<Value, CallError>>) -> Result<u64, CallError> {
    let mut n = 0;
    for item in it {
        emit(&item?);
        n += 1;
    }
    Ok(n)
}

/// Log through the host (shown with `-v`, prefixed with the plugin and scope).
pub fn log(level: Level, message: &str) {
    wlog::log(level, message);
}

/// Start a manifest: name and resource type; regional unless [`ManifestBuilder::global`].
pub fn manifest(name: &str, resource_type: &str) -> ManifestBuilder {
    ManifestBuilder(PluginManifest {
        name: name.into(),
        version: "0.1.0".into(),
        resource_type: resource_type.into(),
        description: String::new(),
        operations: vec![],
        scope_kind: ScopeKind::Regional,
        id_field: None,
        columns: vec![],
    })
}

pub struct ManifestBuilder(PluginManifest);

impl ManifestBuilder {
    pub fn version(mut self, v: &str) -> Self {
        self.0.version = v.into();
        self
    }
    pub fn describe(mut self, d: &str) -> Self {
        self.0.description = d.into();
        self
    }
    /// Declare an operation the plugin calls, as `service:Operation`.
    pub fn operation(mut self, op: &str) -> Self {
        self.0.operations.push(op.into());
        self
    }
    pub fn global(mut self) -> Self {
        self.0.scope_kind = ScopeKind::Global;
        self
    }
    pub fn id_field(mut self, f: &str) -> Self {
        self.0.id_field = Some(f.into());
        self
    }
    pub fn columns(mut self, cols: &[&str]) -> Self {
        self.0.columns = cols.iter().map(|c| c.to_string()).collect();
        self
    }
    pub fn build(self) -> PluginManifest {
        self.0
    }
}

impl Scope {
    /// Add this scope's region and account to an object (the host does this on emit too;
    /// useful when a plugin builds nested records).
    pub fn tag(&self, v: &mut Value) {
        if let Some(o) = v.as_object_mut() {
            o.insert("RequestRegion".into(), Value::String(self.region.clone()));
            o.insert("RequestAccount".into(), Value::String(self.account.clone()));
        }
    }
}
