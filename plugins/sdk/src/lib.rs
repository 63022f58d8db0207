//! The mrhost plugin SDK (contract `mrhost:plugin@0.2.0`): write a resource type as a
//! manifest and a `collect` body.
//!
//! A whole plugin, listing KMS keys and describing each one — the describes run at once
//! (this is the compiled example of `cargo test -p mrhost-plugin-sdk --doc`):
//!
//! ```no_run
//! use mrhost_plugin_sdk::prelude::*;
//!
//! struct KmsKeys;
//!
//! impl Plugin for KmsKeys {
//!     fn manifest() -> PluginManifest {
//!         manifest("kms-keys", "kms:key")
//!             .describe("KMS keys (kms ListKeys, then DescribeKey each), one item per key")
//!             .operation("kms:ListKeys")
//!             .operation("kms:DescribeKey")
//!             .model_shape("kms:KeyMetadata")
//!             .id_field("KeyId")
//!             .columns(&["KeyId", "KeyState", "KeyManager", "Description"])
//!             .build()
//!     }
//!
//!     fn collect(_scope: Scope) -> Result<(), Error> {
//!         let keys = items("kms", "ListKeys", json!({}), "Keys").collect::<Result<Vec<_>, _>>()?;
//!         // One DescribeKey per key, run concurrently; each result as it completes.
//!         for (_key, described) in enrich(keys, |k| {
//!             request("kms", "DescribeKey", json!({"KeyId": k["KeyId"]}))
//!         }) {
//!             match described {
//!                 Ok(mut d) => emit(&d["KeyMetadata"].take()),
//!                 Err(e) if e.is_not_found() => continue, // deleted since it was listed
//!                 Err(e) => return Err(e.into()),
//!             }
//!         }
//!         Ok(())
//!     }
//! }
//!
//! export_plugin!(KmsKeys);
//! ```
//!
//! - [`items`] walks every page of a paginated call and yields the items at a path;
//!   `"Reservations[].Instances"` flattens through lists. [`pages`] gives the raw pages,
//!   [`call`] makes one call, [`select`] takes items out of a response.
//! - Concurrent calls: [`call_many`] starts many calls at once and yields each result as
//!   it completes ([`Batch`], with its request's index); [`call_all`] gives them back in
//!   order; [`enrich`] pairs each item with the result of its own call. The host runs them
//!   under the same permission check, retries, rate limits and `--max-calls` as [`call`],
//!   at most `--call-concurrency` at a time per scope.
//! - [`emit`] sends one resource to the output ([`emit_all`]: every item of an iterator); the
//!   host adds `RequestRegion` and `RequestAccount` to each (and `TagsMap`/`Name` when it
//!   has an AWS tag list). [`emit_items`] is `emit_all(items(...))` for items that need no
//!   change, without a parse and re-write of each.
//! - Every operation called must be declared with [`ManifestBuilder::operation`]; the host
//!   refuses any other (`CallError::Denied`), and any write unless the user allowed it.
//! - Errors: `?` turns a [`CallError`] into the [`Error`] `collect` returns, keeping an AWS
//!   error's code (which `--ignore-error-codes` matches); a `String` or `&str` becomes a
//!   plain failure. An error ends that scope (one account and region) only.
//! - The manifest can name the model shape of an item ([`ManifestBuilder::model_shape`]),
//!   declare typed extra columns, references to other types and parameters; [`Scope`] gives
//!   the parameters' values and the account (resolved only when asked for).
//!
//! Build with `cargo build --release --target wasm32-wasip2` (a crate with
//! `crate-type = ["cdylib"]`); the `.wasm` in `target/wasm32-wasip2/release/` is the
//! component `mrhost run` takes. See `docs/plugin-guide.md`.

extern crate self as mrhost_plugin_sdk;

#[doc(hidden)]
pub use wit_bindgen as __wit_bindgen;

/// The raw bindings generated from `wit/v0.2` (for what the helpers below don't cover).
pub mod bindings {
    wit_bindgen::generate!({
        path: "../../wit/v0.2",
        world: "plugin",
        pub_export_macro: true,
        export_macro_name: "__export_plugin_world",
        default_bindings_module: "mrhost_plugin_sdk::bindings",
        runtime_path: "mrhost_plugin_sdk::__wit_bindgen::rt",
    });
}

use bindings::exports::mrhost::plugin::collector;
pub use bindings::mrhost::plugin::types::{
    ApiError, CallError, CollectError, Level, Param, ParamValue, PluginManifest, ReferenceBy,
    ScopeKind, ValueKind,
};
use bindings::mrhost::plugin::{aws, log as wlog, sink};
use serde_json::value::RawValue;
pub use serde_json::{self, json, Value};

/// What `collect` returns on failure: an AWS error (its code kept) or a message.
pub type Error = CollectError;

/// Everything a plugin usually needs.
pub mod prelude {
    pub use crate::{
        call, call_all, call_if_exists, call_many, emit, emit_all, emit_items, enrich,
        export_plugin, items, log, manifest, pages, request, select, ApiError, Batch, CallError,
        Error, Level, Plugin, PluginManifest, ReferenceBy, Request, Scope, ScopeKind, Value,
        ValueKind,
    };
    pub use serde_json::json;
}

/// A resource-type plugin: its manifest, and what it emits in one scope.
pub trait Plugin {
    /// Static description; called once per run, before any `collect`.
    fn manifest() -> PluginManifest;
    /// Emit every resource of the type in `scope`. An error ends this scope only.
    fn collect(scope: Scope) -> Result<(), Error>;
}

/// Export `$t` (which implements [`Plugin`]) as the component's `collector`.
#[macro_export]
macro_rules! export_plugin {
    ($t:ident) => {
        #[doc(hidden)]
        pub struct __MrhostExport;
        impl $crate::__Guest for __MrhostExport {
            fn manifest() -> $crate::PluginManifest {
                <$t as $crate::Plugin>::manifest()
            }
            fn collect(scope: $crate::__WitScope) -> Result<(), $crate::Error> {
                <$t as $crate::Plugin>::collect($crate::Scope::from_wit(scope))
            }
        }
        $crate::bindings::__export_plugin_world!(__MrhostExport with_types_in $crate::bindings);
    };
}

#[doc(hidden)]
pub use bindings::mrhost::plugin::types::Scope as __WitScope;
#[doc(hidden)]
pub use collector::Guest as __Guest;

/// Where one `collect` runs: a region (one account's), and the run's parameters.
#[derive(Debug, Clone)]
pub struct Scope {
    /// The region, e.g. "eu-west-1" (for global plugins the partition's global region).
    pub region: String,
    /// "aws", "aws-cn", "aws-us-gov", ...
    pub partition: String,
    /// The parameters given (`--param`, the config file), typed as declared.
    pub params: Vec<Param>,
}

impl Scope {
    #[doc(hidden)]
    pub fn from_wit(s: __WitScope) -> Self {
        Scope {
            region: s.region,
            partition: s.partition,
            params: s.params,
        }
    }

    /// The account id of the credentials in use. The host resolves it on the first ask
    /// (an STS call at worst), so a plugin that does not need it does not wait for it.
    pub fn account(&self) -> Result<String, CallError> {
        aws::account()
    }

    /// A parameter's value, if given.
    pub fn param(&self, name: &str) -> Option<&ParamValue> {
        self.params
            .iter()
            .find(|p| p.name == name)
            .map(|p| &p.value)
    }

    /// A `string` (or `timestamp`, `json`) parameter's text.
    pub fn param_str(&self, name: &str) -> Option<&str> {
        match self.param(name)? {
            ParamValue::String(s) | ParamValue::Timestamp(s) | ParamValue::Json(s) => Some(s),
            _ => None,
        }
    }

    /// A `bool` parameter.
    pub fn param_bool(&self, name: &str) -> Option<bool> {
        match self.param(name)? {
            ParamValue::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// An `int` parameter.
    pub fn param_int(&self, name: &str) -> Option<i64> {
        match self.param(name)? {
            ParamValue::Int(i) => Some(*i),
            _ => None,
        }
    }

    /// A `float` (or `int`) parameter.
    pub fn param_float(&self, name: &str) -> Option<f64> {
        match self.param(name)? {
            ParamValue::Float(f) => Some(*f),
            ParamValue::Int(i) => Some(*i as f64),
            _ => None,
        }
    }

    /// Add this scope's region and account to an object (the host does this on emit too;
    /// useful when a plugin builds nested records).
    pub fn tag(&self, v: &mut Value) -> Result<(), CallError> {
        let account = self.account()?;
        if let Some(o) = v.as_object_mut() {
            o.insert("RequestRegion".into(), Value::String(self.region.clone()));
            o.insert("RequestAccount".into(), Value::String(account));
        }
        Ok(())
    }
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

    /// Whether the service answered that the resource does not exist: an error code such as
    /// `ResourceNotFoundException`, `NotFoundException`, `InvalidVpcID.NotFound`,
    /// `NoSuchBucket`, `NoSuchEntity`, `AWS.SimpleQueueService.NonExistentQueue` or
    /// `QueueDoesNotExist`.
    pub fn is_not_found(&self) -> bool {
        self.code().is_some_and(|c| {
            c.contains("NotFound")
                || c.starts_with("NoSuch")
                || c.contains("NonExistent")
                || c.contains("DoesNotExist")
        })
    }

    /// Whether an enrichment call found nothing to report or may not look: the resource or
    /// its configuration does not exist ([`CallError::is_not_found`], which covers
    /// `NoSuchPublicAccessBlockConfiguration`, `ServerSideEncryptionConfigurationNotFoundError`
    /// and the like), or access was refused by AWS (`AccessDenied`, `AccessDeniedException`,
    /// `UnauthorizedOperation`, `AuthorizationError`, `Forbidden`), or the resource does not
    /// support the call (`UnsupportedOperationException`, KMS's `KMSInvalidStateException`).
    /// A security plugin reports such a column as null rather than failing the scope (see
    /// [`optional`]). A call the host refused (undeclared) is not one of these.
    pub fn is_unavailable(&self) -> bool {
        self.is_not_found()
            || self.code().is_some_and(|c| {
                c.starts_with("AccessDenied")
                    || matches!(
                        c,
                        "UnauthorizedOperation"
                            | "AuthorizationError"
                            | "Forbidden"
                            | "UnsupportedOperationException"
                            | "KMSInvalidStateException"
                    )
            })
    }

    /// The AWS error code, if the service answered with an error.
    pub fn code(&self) -> Option<&str> {
        match self {
            CallError::Api(e) => Some(&e.code),
            _ => None,
        }
    }
}

/// For plugins that handle errors as text.
impl From<CallError> for String {
    fn from(e: CallError) -> String {
        e.describe()
    }
}

/// So `?` works in `collect`: an AWS error keeps its code; anything else becomes a
/// failure described in one line.
impl From<CallError> for CollectError {
    fn from(e: CallError) -> Self {
        match e {
            CallError::Api(a) => CollectError::Api(a),
            other => CollectError::Failed(other.describe()),
        }
    }
}

impl From<String> for CollectError {
    fn from(m: String) -> Self {
        CollectError::Failed(m)
    }
}

impl From<&str> for CollectError {
    fn from(m: &str) -> Self {
        CollectError::Failed(m.to_string())
    }
}

impl CollectError {
    /// One line, as the host prints it: `Code: message`, or the message.
    pub fn describe(&self) -> String {
        match self {
            CollectError::Api(e) => format!("{}: {}", e.code, e.message),
            CollectError::Failed(m) => m.clone(),
        }
    }
}

fn invalid_json(e: serde_json::Error) -> CallError {
    CallError::Failed(format!("host sent invalid JSON: {e}"))
}

/// One AWS call with boto3-style params; the response as boto3 returns it.
pub fn call(service: &str, operation: &str, params: Value) -> Result<Value, CallError> {
    let text = aws::call(service, operation, &params.to_string())?;
    serde_json::from_str(&text).map_err(invalid_json)
}

/// The pages of a paginated call, one JSON page per item.
pub fn pages(service: &str, operation: &str, params: Value) -> Pages {
    Pages {
        inner: Some(aws::paginate(service, operation, &params.to_string())),
    }
}

/// The pages of a paginated call (see [`pages`]).
pub struct Pages {
    inner: Option<aws::Pages>,
}

impl Iterator for Pages {
    type Item = Result<Value, CallError>;
    fn next(&mut self) -> Option<Self::Item> {
        let pages = self.inner.as_ref()?;
        match pages.next() {
            Ok(Some(text)) => Some(serde_json::from_str(&text).map_err(invalid_json)),
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

/// One call of a batch (see [`call_many`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    /// botocore's service name, e.g. "kms".
    pub service: String,
    /// The operation, e.g. "DescribeKey".
    pub operation: String,
    /// boto3-style parameters.
    pub params: Value,
}

/// A [`Request`].
pub fn request(service: &str, operation: &str, params: Value) -> Request {
    Request {
        service: service.into(),
        operation: operation.into(),
        params,
    }
}

fn wit_request(r: &Request) -> aws::Request {
    aws::Request {
        service: r.service.clone(),
        operation: r.operation.clone(),
        params_json: r.params.to_string(),
    }
}

/// Calls running at once: each result, with its request's index (in the order the
/// requests were given, from 0), as it completes.
pub struct Batch {
    inner: aws::Batch,
}

/// Start `requests` at once (the host runs up to its per-scope bound at a time); iterate
/// the [`Batch`] for the results as they complete.
pub fn call_many(requests: impl IntoIterator<Item = Request>) -> Batch {
    let list: Vec<aws::Request> = requests.into_iter().map(|r| wit_request(&r)).collect();
    Batch {
        inner: aws::call_many(&list),
    }
}

impl Batch {
    /// Start one more call; returns its index.
    pub fn add(&self, request: Request) -> usize {
        self.inner.add(&wit_request(&request)) as usize
    }
}

impl Iterator for Batch {
    type Item = (usize, Result<Value, CallError>);
    fn next(&mut self) -> Option<Self::Item> {
        let done = self.inner.next()?;
        let result = done
            .result
            .and_then(|text| serde_json::from_str(&text).map_err(invalid_json));
        Some((done.index as usize, result))
    }
}

/// Every request's result, in the order of `requests` (the calls run at once).
pub fn call_all(requests: impl IntoIterator<Item = Request>) -> Vec<Result<Value, CallError>> {
    let mut out: Vec<Option<Result<Value, CallError>>> = Vec::new();
    for (i, r) in call_many(requests) {
        if out.len() <= i {
            out.resize_with(i + 1, || None);
        }
        out[i] = Some(r);
    }
    out.into_iter()
        .map(|r| r.unwrap_or_else(|| Err(CallError::Failed("no result".into()))))
        .collect()
}

/// Each item with the result of the call `make` builds for it, as the calls complete
/// (they run at once): the enrichment loop of "list, then describe each".
pub fn enrich<T>(
    items: impl IntoIterator<Item = T>,
    make: impl Fn(&T) -> Request,
) -> impl Iterator<Item = (T, Result<Value, CallError>)> {
    let mut items: Vec<Option<T>> = items.into_iter().map(Some).collect();
    let batch = call_many(items.iter().flatten().map(&make).collect::<Vec<_>>());
    batch.filter_map(move |(i, result)| items.get_mut(i)?.take().map(|item| (item, result)))
}

/// The items at `path` of every page of a paginated call (a single page when the operation
/// has no paginator).
///
/// `path` is a dotted path into the page: `"Vpcs"`, `"DistributionList.Items"`. Every list
/// met on the way is flattened, so `"Reservations[].Instances"` yields every instance of every
/// reservation (the `[]` is optional, and says so for the reader). A list at the end yields
/// its elements, a missing or null value nothing, anything else itself (`"TableNames"` yields
/// strings).
pub fn items(
    service: &str,
    operation: &str,
    params: Value,
    path: &str,
) -> impl Iterator<Item = Result<Value, CallError>> {
    let path = path.to_string();
    pages(service, operation, params).flat_map(move |page| -> Vec<Result<Value, CallError>> {
        match page {
            Err(e) => vec![Err(e)],
            Ok(page) => select(page, &path).into_iter().map(Ok).collect(),
        }
    })
}

/// The values at `path` in `value`, with the path syntax of [`items`]: for the response of a
/// detail call, e.g. `select(resp, "clusters")`.
pub fn select(value: Value, path: &str) -> Vec<Value> {
    let mut out = Vec::new();
    select_into(value, &path_parts(path), &mut out);
    out
}

fn path_parts(path: &str) -> Vec<&str> {
    path.split('.')
        .filter(|p| !p.is_empty())
        .map(|p| p.strip_suffix("[]").unwrap_or(p))
        .collect()
}

fn select_into(value: Value, parts: &[&str], out: &mut Vec<Value>) {
    let Some((first, rest)) = parts.split_first() else {
        match value {
            Value::Array(a) => out.extend(a),
            Value::Null => {}
            other => out.push(other),
        }
        return;
    };
    match value {
        Value::Object(mut m) => {
            if let Some(v) = m.remove(*first) {
                select_into(v, rest, out)
            }
        }
        // A list before the end of the path: every element follows the rest of it.
        Value::Array(a) => {
            for v in a {
                select_into(v, parts, out);
            }
        }
        _ => {}
    }
}

/// One call for a resource that may have gone since it was listed: `Ok(None)` when the
/// service answers that it does not exist (see [`CallError::is_not_found`]), so a plugin
/// that lists, then describes each item, skips what was deleted in between.
///
/// ```no_run
/// # use mrhost_plugin_sdk::prelude::*;
/// # fn collect() -> Result<(), String> {
/// for key in items("kms", "ListKeys", json!({}), "Keys") {
///     let params = json!({"KeyId": key?["KeyId"]});
///     if let Some(mut k) = call_if_exists("kms", "DescribeKey", params)? {
///         emit(&k["KeyMetadata"].take());
///     }
/// }
/// # Ok(())
/// # }
/// ```
pub fn call_if_exists(
    service: &str,
    operation: &str,
    params: Value,
) -> Result<Option<Value>, CallError> {
    match call(service, operation, params) {
        Ok(v) => Ok(Some(v)),
        Err(e) if e.is_not_found() => Ok(None),
        Err(e) => Err(e),
    }
}

/// An enrichment call's result: `Ok(None)` when the call found nothing or may not look
/// ([`CallError::is_unavailable`]: no such configuration, access denied), so the plugin emits
/// a null or false column instead of failing the scope; other errors stay errors.
pub fn optional(result: Result<Value, CallError>) -> Result<Option<Value>, CallError> {
    match result {
        Ok(v) => Ok(Some(v)),
        Err(e) if e.is_unavailable() => Ok(None),
        Err(e) => Err(e),
    }
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

/// Emit every item at `path` of every page of a paginated call, as they are: what
/// `emit_all(items(service, operation, params, path))` does, without parsing the items into
/// [`Value`]s and writing them out again (the JSON the host sent is passed back untouched).
/// The plugin for resources that need no change; returns how many were emitted.
///
/// ```no_run
/// # use mrhost_plugin_sdk::prelude::*;
/// # fn collect() -> Result<(), String> {
/// emit_items("ec2", "DescribeVpcs", json!({}), "Vpcs")?;
/// # Ok(())
/// # }
/// ```
pub fn emit_items(
    service: &str,
    operation: &str,
    params: Value,
    path: &str,
) -> Result<u64, CallError> {
    let parts = path_parts(path);
    let pages = aws::paginate(service, operation, &params.to_string());
    let invalid = |e: serde_json::Error| CallError::Failed(format!("host sent invalid JSON: {e}"));
    let mut n = 0;
    while let Some(page) = pages.next()? {
        let page: &RawValue = serde_json::from_str(&page).map_err(invalid)?;
        let mut found = Vec::new();
        select_raw(page, &parts, &mut found).map_err(invalid)?;
        for item in found {
            sink::emit(item.get());
            n += 1;
        }
    }
    Ok(n)
}

/// [`select_into`] over JSON text: the items are slices of the page.
fn select_raw<'a>(
    value: &'a RawValue,
    parts: &[&str],
    out: &mut Vec<&'a RawValue>,
) -> Result<(), serde_json::Error> {
    let text = value.get();
    let Some((first, rest)) = parts.split_first() else {
        match text.as_bytes().first() {
            Some(b'[') => out.extend(serde_json::from_str::<Vec<&RawValue>>(text)?),
            Some(b'n') => {}
            _ => out.push(value),
        }
        return Ok(());
    };
    match text.as_bytes().first() {
        Some(b'{') => {
            if let Some(v) = raw_field(text, first)? {
                select_raw(v, rest, out)?;
            }
        }
        Some(b'[') => {
            for v in serde_json::from_str::<Vec<&RawValue>>(text)? {
                select_raw(v, parts, out)?;
            }
        }
        _ => {}
    }
    Ok(())
}

/// The value of key `name` in the JSON object `text` (the last one, as a parse into a
/// `Value` keeps), left as text.
fn raw_field<'a>(text: &'a str, name: &str) -> Result<Option<&'a RawValue>, serde_json::Error> {
    use serde::de::{Deserializer, IgnoredAny, MapAccess, Visitor};
    use std::borrow::Cow;

    struct Key<'de>(Cow<'de, str>);
    impl<'de> serde::Deserialize<'de> for Key<'de> {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            struct K;
            impl<'de> Visitor<'de> for K {
                type Value = Key<'de>;
                fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                    f.write_str("a key")
                }
                fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Key<'de>, E> {
                    Ok(Key(Cow::Borrowed(s)))
                }
                fn visit_str<E>(self, s: &str) -> Result<Key<'de>, E> {
                    Ok(Key(Cow::Owned(s.to_string())))
                }
            }
            d.deserialize_str(K)
        }
    }

    struct Field<'n>(&'n str);
    impl<'de> Visitor<'de> for Field<'_> {
        type Value = Option<&'de RawValue>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("an object")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Self::Value, A::Error> {
            let mut found = None;
            while let Some(k) = m.next_key::<Key<'de>>()? {
                if k.0 == self.0 {
                    found = Some(m.next_value::<&'de RawValue>()?);
                } else {
                    m.next_value::<IgnoredAny>()?;
                }
            }
            Ok(found)
        }
    }
    serde_json::Deserializer::from_str(text).deserialize_map(Field(name))
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
        model_shape: None,
        extra_columns: vec![],
        references: vec![],
        params: vec![],
    })
}

/// Builds a [`PluginManifest`] (see [`manifest`]).
pub struct ManifestBuilder(PluginManifest);

impl ManifestBuilder {
    /// The plugin's own version (semver).
    pub fn version(mut self, v: &str) -> Self {
        self.0.version = v.into();
        self
    }
    /// What it emits, in a sentence.
    pub fn describe(mut self, d: &str) -> Self {
        self.0.description = d.into();
        self
    }
    /// Declare an operation the plugin calls, as `service:Operation`.
    pub fn operation(mut self, op: &str) -> Self {
        self.0.operations.push(op.into());
        self
    }
    /// Run once per account instead of once per region.
    pub fn global(mut self) -> Self {
        self.0.scope_kind = ScopeKind::Global;
        self
    }
    /// The field that identifies an item.
    pub fn id_field(mut self, f: &str) -> Self {
        self.0.id_field = Some(f.into());
        self
    }
    /// Default columns for table and CSV output.
    pub fn columns(mut self, cols: &[&str]) -> Self {
        self.0.columns = cols.iter().map(|c| c.to_string()).collect();
        self
    }
    /// The model shape one item is, `service:Shape` (e.g. `ec2:Vpc`): the host derives
    /// typed columns and references from it.
    pub fn model_shape(mut self, shape: &str) -> Self {
        self.0.model_shape = Some(shape.into());
        self
    }
    /// A column the plugin adds (an enrichment), with its type.
    pub fn column(mut self, name: &str, kind: ValueKind, description: &str) -> Self {
        self.0
            .extra_columns
            .push(bindings::mrhost::plugin::types::Column {
                name: name.into(),
                kind,
                description: description.into(),
            });
        self
    }
    /// A field that names a resource of another type (`"VpcId"`, `"ec2:vpc"`).
    pub fn reference(mut self, field: &str, target_type: &str, by: ReferenceBy) -> Self {
        self.0
            .references
            .push(bindings::mrhost::plugin::types::Reference {
                field: field.into(),
                target_type: target_type.into(),
                by,
            });
        self
    }
    /// A parameter the plugin accepts (`--param name=value`).
    pub fn param(mut self, name: &str, kind: ValueKind, required: bool, description: &str) -> Self {
        self.0
            .params
            .push(bindings::mrhost::plugin::types::ParamSpec {
                name: name.into(),
                kind,
                required,
                description: description.into(),
            });
        self
    }
    /// The manifest.
    pub fn build(self) -> PluginManifest {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn select_follows_dotted_paths_and_flattens_lists() {
        let page = json!({
            "Reservations": [
                {"ReservationId": "r-1", "Instances": [{"InstanceId": "i-1"}, {"InstanceId": "i-2"}]},
                {"ReservationId": "r-2", "Instances": [{"InstanceId": "i-3"}]},
                {"ReservationId": "r-3", "Instances": []},
                {"ReservationId": "r-4"}
            ],
            "DistributionList": {"Items": [{"Id": "d-1"}], "Quantity": 1},
            "TableNames": ["a", "b"],
            "Table": {"TableName": "a"},
            "NextToken": null
        });
        let ids = |path: &str| -> Vec<Value> { select(page.clone(), path) };
        let instances =
            json!([{"InstanceId": "i-1"}, {"InstanceId": "i-2"}, {"InstanceId": "i-3"}]);
        assert_eq!(Value::Array(ids("Reservations[].Instances")), instances);
        assert_eq!(Value::Array(ids("Reservations.Instances")), instances);
        assert_eq!(
            Value::Array(ids("Reservations[].Instances[].InstanceId")),
            json!(["i-1", "i-2", "i-3"])
        );
        assert_eq!(ids("Reservations").len(), 4);
        assert_eq!(ids("DistributionList.Items"), vec![json!({"Id": "d-1"})]);
        assert_eq!(ids("TableNames"), vec![json!("a"), json!("b")]);
        assert_eq!(ids("Table"), vec![json!({"TableName": "a"})]);
        assert!(ids("NextToken").is_empty());
        assert!(ids("Nothing.Here").is_empty());
        assert!(ids("TableNames.Deeper").is_empty());
    }

    #[test]
    fn raw_selection_is_the_same_as_select() {
        let page = json!({
            "Reservations": [
                {"ReservationId": "r-1", "Instances": [{"InstanceId": "i-1"}, {"InstanceId": "i-2"}]},
                {"ReservationId": "r-2", "Instances": [{"InstanceId": "i-3"}]},
                {"ReservationId": "r-3", "Instances": []},
                {"ReservationId": "r-4"},
                "odd",
                null
            ],
            "DistributionList": {"Items": [{"Id": "d-1"}], "Quantity": 1},
            "TableNames": ["a", "b\"\u{e9}"],
            "Table": {"TableName": "a"},
            "NextToken": null
        });
        let text = page.to_string();
        for path in [
            "Reservations[].Instances",
            "Reservations.Instances",
            "Reservations[].Instances[].InstanceId",
            "Reservations",
            "DistributionList.Items",
            "TableNames",
            "Table",
            "NextToken",
            "Nothing.Here",
            "TableNames.Deeper",
            "",
        ] {
            let raw: &RawValue = serde_json::from_str(&text).unwrap();
            let mut got = Vec::new();
            select_raw(raw, &path_parts(path), &mut got).unwrap();
            let got: Vec<String> = got.iter().map(|r| r.get().to_string()).collect();
            let want: Vec<String> = select(page.clone(), path)
                .iter()
                .map(Value::to_string)
                .collect();
            assert_eq!(got, want, "{path}");
        }
        // A duplicate key: the last one counts, as in a parse into a Value.
        let dup = r#"{"Vpcs":[1],"Vpcs":[2,3]}"#;
        let mut got = Vec::new();
        select_raw(serde_json::from_str(dup).unwrap(), &["Vpcs"], &mut got).unwrap();
        assert_eq!(got.iter().map(|r| r.get()).collect::<Vec<_>>(), ["2", "3"]);
    }

    #[test]
    fn not_found_codes() {
        let api = |code: &str| {
            CallError::Api(ApiError {
                code: code.into(),
                message: String::new(),
                http_status: 400,
                retryable: false,
            })
        };
        for code in [
            "ResourceNotFoundException",
            "NotFoundException",
            "InvalidVpcID.NotFound",
            "NoSuchBucket",
            "NoSuchEntity",
            "AWS.SimpleQueueService.NonExistentQueue",
            "QueueDoesNotExist",
            "DBInstanceNotFound",
        ] {
            assert!(api(code).is_not_found(), "{code}");
        }
        for code in ["AccessDenied", "ThrottlingException", "ValidationException"] {
            assert!(!api(code).is_not_found(), "{code}");
        }
        assert!(!CallError::Denied("ResourceNotFound".into()).is_not_found());
        for code in [
            "NoSuchPublicAccessBlockConfiguration",
            "ServerSideEncryptionConfigurationNotFoundError",
            "OwnershipControlsNotFoundError",
            "NoSuchBucketPolicy",
            "AccessDenied",
            "AccessDeniedException",
            "UnauthorizedOperation",
            "AuthorizationError",
            "KMSInvalidStateException",
        ] {
            assert!(api(code).is_unavailable(), "{code}");
            assert!(matches!(optional(Err(api(code))), Ok(None)), "{code}");
        }
        for code in [
            "ThrottlingException",
            "ValidationException",
            "InternalError",
        ] {
            assert!(!api(code).is_unavailable(), "{code}");
            assert!(optional(Err(api(code))).is_err(), "{code}");
        }
        assert!(!CallError::Denied("not declared".into()).is_unavailable());
        assert!(matches!(optional(Ok(json!({"a": 1}))), Ok(Some(v)) if v == json!({"a": 1})));
    }
}
