//! botocore-format service models: the embedded pack (all services, decoded lazily) and
//! extra directories in the `AWS_DATA_PATH` layout (`<dir>/<service>/<api-version>/service-2.json`).

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use indexmap::IndexMap;
use serde::Deserialize;
use serde_json::Value;

use super::EngineError;

static PACK: &[u8] = include_bytes!("../models/botocore.pack");
const PACK_MAGIC: &[u8] = b"MRHPACK1\n";

/// A reference from a structure member, list member or map key/value to a named shape,
/// with the serialization traits that botocore merges onto the target shape.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct ShapeRef {
    /// The target shape's name.
    pub shape: String,
    /// Where the value travels: `header`, `headers`, `uri`, `querystring`, `statusCode`
    /// (none: the body).
    pub location: Option<String>,
    /// The name on the wire (header, query key, XML element), when not the member name.
    pub location_name: Option<String>,
    /// The EC2 query protocol's name for the member.
    pub query_name: Option<String>,
    /// A list or map serialized without a wrapper element.
    #[serde(default)]
    pub flattened: bool,
    /// The XML namespace of the element.
    pub xml_namespace: Option<XmlNamespace>,
    /// Serialized as an XML attribute.
    #[serde(default)]
    pub xml_attribute: bool,
    /// `iso8601`, `rfc822` or `unixTimestamp`, overriding the protocol's default.
    pub timestamp_format: Option<String>,
    /// Filled with a fresh UUID when the caller leaves it out.
    #[serde(default)]
    pub idempotency_token: bool,
    /// Part of the endpoint's host prefix.
    #[serde(default)]
    pub host_label: bool,
    /// A string holding JSON (sent and returned as base64 in headers).
    #[serde(default)]
    pub jsonvalue: bool,
    /// A streaming body.
    #[serde(default)]
    pub streaming: bool,
    /// An event's member that is the message payload (botocore's `eventpayload`).
    #[serde(default, rename = "eventpayload")]
    pub event_payload: bool,
    /// An event's member read from a message header (botocore's `eventheader`).
    #[serde(default, rename = "eventheader")]
    pub event_header: bool,
    /// The query protocol's wrapper element of the output.
    #[serde(default)]
    pub result_wrapper: Option<String>,
    /// On an operation's input or output reference: the member that is the HTTP body.
    /// (botocore merges a reference's traits over the shape; models usually put it on the
    /// shape, see [`Shape::payload`].)
    pub payload: Option<String>,
}

/// An XML namespace: a bare URI, or a prefix and a URI.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum XmlNamespace {
    /// A bare namespace URI.
    Uri(String),
    /// `xmlns:prefix="uri"`.
    Full {
        /// The prefix, if any.
        prefix: Option<String>,
        /// The namespace URI.
        uri: String,
    },
}

/// A shape's type (botocore's `type`); what the engine does not treat specially is
/// `Other`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ShapeType {
    /// A structure of members.
    Structure,
    /// A list.
    List,
    /// A map.
    Map,
    /// A string (or enum).
    String,
    /// A 32-bit integer.
    Integer,
    /// A 64-bit integer.
    Long,
    /// A float.
    Float,
    /// A double.
    Double,
    /// A boolean.
    Boolean,
    /// A timestamp.
    Timestamp,
    /// Bytes (base64 in JSON).
    Blob,
    /// Any other type (byte, short, bigInteger, document...).
    #[serde(other)]
    Other,
}

/// An error shape's `error` trait.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct ErrorTrait {
    /// The error code when it differs from the shape name (query protocols).
    pub code: Option<String>,
    /// The HTTP status the service answers with.
    pub http_status_code: Option<u16>,
    /// The caller's fault rather than the service's.
    #[serde(default)]
    pub sender_fault: bool,
}

/// A named shape of a service model, as botocore's JSON has it.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Shape {
    /// Its type.
    #[serde(rename = "type")]
    pub kind: ShapeType,
    /// A structure's members, in model order.
    #[serde(default)]
    pub members: IndexMap<String, ShapeRef>,
    /// A list's member.
    pub member: Option<ShapeRef>,
    /// A map's key.
    pub key: Option<ShapeRef>,
    /// A map's value.
    pub value: Option<ShapeRef>,
    /// A structure's required members.
    #[serde(default)]
    pub required: Vec<String>,
    /// A list or map serialized without a wrapper element.
    #[serde(default)]
    pub flattened: bool,
    /// The wire name when not the shape name.
    pub location_name: Option<String>,
    /// Where the value travels (`header`, `uri`, ...) when the shape itself says so;
    /// a member reference's `location` wins (see `protocol::shape::Resolved`).
    pub location: Option<String>,
    /// A string holding JSON.
    #[serde(default)]
    pub jsonvalue: bool,
    /// Serialized as an XML attribute.
    #[serde(default)]
    pub xml_attribute: bool,
    /// `iso8601`, `rfc822` or `unixTimestamp`.
    pub timestamp_format: Option<String>,
    /// The member that is the HTTP body.
    pub payload: Option<String>,
    /// The XML namespace of the element.
    pub xml_namespace: Option<XmlNamespace>,
    /// An error shape.
    #[serde(default)]
    pub exception: bool,
    /// An error shape's `error` trait.
    pub error: Option<ErrorTrait>,
    /// A streaming blob.
    #[serde(default)]
    pub streaming: bool,
    /// A free-form document.
    #[serde(default)]
    pub document: bool,
    /// A union: exactly one member is set.
    #[serde(default)]
    pub union: bool,
    /// An event stream.
    #[serde(default)]
    pub eventstream: bool,
    /// Holds sensitive data (redacted unless allowed).
    #[serde(default)]
    pub sensitive: bool,
    /// The smallest value or length allowed.
    pub min: Option<f64>,
    /// What a codec works out about this shape on first use (the XML reader keeps its
    /// table of wire names here). The model does not know what it holds.
    #[serde(skip)]
    pub(crate) codec_cache: CodecCache,
}

/// The protocols the engine speaks, in botocore's order of preference
/// (`PRIORITY_ORDERED_SUPPORTED_PROTOCOLS`): a model listing several gets the first of these.
pub const SUPPORTED_PROTOCOLS: &[&str] = &[
    "json",
    "rest-json",
    "rest-xml",
    "smithy-rpc-v2-cbor",
    "query",
    "ec2",
];

/// A slot for data a codec derives from one shape, built once on first use. A copy of a
/// shape starts empty (the data may hold indices into the model the shape came from).
#[derive(Default)]
pub struct CodecCache(std::sync::OnceLock<Box<dyn std::any::Any + Send + Sync>>);

impl Clone for CodecCache {
    fn clone(&self) -> Self {
        CodecCache::default()
    }
}

impl std::fmt::Debug for CodecCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CodecCache")
    }
}

impl CodecCache {
    /// The cached value, built with `init` on first use. One shape serves one codec type:
    /// `None` if another type was stored first.
    pub fn get_or_init<T: std::any::Any + Send + Sync>(
        &self,
        init: impl FnOnce() -> T,
    ) -> Option<&T> {
        self.0.get_or_init(|| Box::new(init())).downcast_ref::<T>()
    }
}

/// An operation's `http` trait.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct HttpTrait {
    /// The HTTP method (default POST).
    #[serde(default = "default_method")]
    pub method: String,
    /// The URI template (default `/`).
    #[serde(default = "default_uri")]
    pub request_uri: String,
    /// The success status, when not 200.
    pub response_code: Option<u16>,
}

fn default_method() -> String {
    "POST".into()
}
fn default_uri() -> String {
    "/".into()
}

/// An operation's `endpoint` trait.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct EndpointTrait {
    /// Prepended to the host, with `{label}`s from the input.
    pub host_prefix: Option<String>,
}

/// One operation of a service model.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Operation {
    /// The name boto3 calls the operation by: the key of the model's `operations` map.
    /// (cloudfront's model names its operations `ListDistributions2020_05_31` under the key
    /// `ListDistributions`; botocore's `OperationModel.name` is the key, and its serializers
    /// use it.)
    pub name: String,
    /// The model's own `name` when it differs from the key (botocore's `wire_name`).
    #[serde(skip)]
    pub wire_name: Option<String>,
    /// Its HTTP binding.
    #[serde(default)]
    pub http: HttpTrait,
    /// The input shape.
    pub input: Option<ShapeRef>,
    /// The output shape.
    pub output: Option<ShapeRef>,
    /// The error shapes it declares.
    #[serde(default)]
    pub errors: Vec<ShapeRef>,
    /// Its endpoint trait.
    pub endpoint: Option<EndpointTrait>,
    /// Deprecated in the model.
    #[serde(default)]
    pub deprecated: bool,
    /// `none` when it is called unsigned.
    pub auth_type: Option<String>,
    /// A Content-MD5 checksum is required.
    #[serde(default)]
    pub http_checksum_required: bool,
}

/// A service model's `metadata`.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Metadata {
    /// The API version.
    pub api_version: String,
    /// The endpoint prefix (the host's first label).
    pub endpoint_prefix: Option<String>,
    /// The protocol (`query`, `ec2`, `json`, `rest-json`, `rest-xml`, `smithy-rpc-v2-cbor`).
    pub protocol: String,
    /// Every protocol the service speaks, preferred first.
    #[serde(default)]
    pub protocols: Vec<String>,
    /// The service id (`AWS_ENDPOINT_URL_<ID>` is derived from it).
    pub service_id: Option<String>,
    /// The SigV4 signing name, when not the endpoint prefix.
    pub signing_name: Option<String>,
    /// `v4`, `s3`, `s3v4`...
    pub signature_version: Option<String>,
    /// The JSON protocol's `X-Amz-Target` prefix.
    pub target_prefix: Option<String>,
    /// The JSON protocol's version (`1.0`, `1.1`).
    pub json_version: Option<String>,
    /// The XML namespace of rest-xml bodies.
    pub xml_namespace: Option<String>,
    /// The host of a global service.
    pub global_endpoint: Option<String>,
    /// A JSON service that also answers query-style error codes.
    #[serde(default)]
    pub aws_query_compatible: Option<Value>,
    /// The service's full name.
    pub service_full_name: Option<String>,
}

/// One `pagination` entry of paginators-1.json.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "snake_case")]
pub struct Paginator {
    /// The input members that carry the token.
    #[serde(default, deserialize_with = "one_or_many")]
    pub input_token: Vec<String>,
    /// The output members (JMESPath) the next token comes from.
    #[serde(default, deserialize_with = "one_or_many")]
    pub output_token: Vec<String>,
    /// Where the items are (JMESPath).
    #[serde(default, deserialize_with = "one_or_many")]
    pub result_key: Vec<String>,
    /// The input member that limits the page size.
    pub limit_key: Option<String>,
    /// The output member that says whether there are more pages.
    pub more_results: Option<String>,
    /// Output members that are not merged across pages.
    #[serde(default)]
    pub non_aggregate_keys: Vec<String>,
}

fn one_or_many<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }
    Ok(match OneOrMany::deserialize(d)? {
        OneOrMany::One(s) => vec![s],
        OneOrMany::Many(v) => v,
    })
}

#[derive(Debug, Deserialize)]
struct RawService {
    metadata: Metadata,
    #[serde(default)]
    operations: IndexMap<String, Operation>,
    #[serde(default)]
    shapes: Shapes,
}

/// A pack entry as stored: the service model and its paginators.
#[derive(Debug, Deserialize)]
struct PackDoc {
    service: RawService,
    #[serde(default)]
    paginators: IndexMap<String, Paginator>,
}

/// A shape kept as JSON text until first use: a call touches a few dozen of ec2's 4,000+.
#[derive(Debug)]
struct LazyShape {
    raw: Box<serde_json::value::RawValue>,
    /// Boxed: an entry stays small while the map grows as it is read (a `Shape` inline
    /// made every entry hundreds of bytes to move, and the decode a quarter slower).
    shape: std::sync::OnceLock<Box<Result<Shape, String>>>,
}

impl<'de> Deserialize<'de> for LazyShape {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(LazyShape {
            raw: Deserialize::deserialize(d)?,
            shape: std::sync::OnceLock::new(),
        })
    }
}

/// A model's shapes by name, as read: the map is built once, straight from the text, and
/// hashed with foldhash. Decoding ec2's model is on the path of the first call of a
/// command (`run` against one region: 13 ms of ~35), and SipHash over its 4,000+ names,
/// twice (the map read, then another built from it), was a fifth of that.
type Shapes = IndexMap<String, LazyShape, foldhash::fast::RandomState>;

/// A decoded service model: metadata, operations (in model order), shapes, paginators.
#[derive(Debug)]
pub struct ServiceModel {
    /// botocore's service name (the directory name, what `boto3.client(...)` takes).
    pub name: String,
    /// Its `metadata`.
    pub metadata: Metadata,
    /// Its operations, by the name boto3 calls them by.
    pub operations: IndexMap<String, Operation>,
    /// By name; the index is a stable handle (see [`ServiceModel::shape_index`]).
    shapes: Shapes,
    /// Its paginators, by operation name.
    pub paginators: IndexMap<String, Paginator>,
    /// Where the model came from: "botocore X.Y.Z" or a directory.
    pub source: String,
    /// Exception shape names by error code, built on first use.
    error_codes: std::sync::OnceLock<HashMap<String, String>>,
}

impl ServiceModel {
    /// A model from its JSON (service-2.json, and paginators-1.json when there is one).
    pub fn from_json(
        name: &str,
        service: Value,
        paginators: Value,
        source: String,
    ) -> Result<Self, EngineError> {
        // Through text: shapes stay raw JSON until used.
        let raw: RawService = serde_json::from_str(&service.to_string())
            .map_err(|e| EngineError::model(format!("service model {name}: {e}")))?;
        let paginators: IndexMap<String, Paginator> = serde_json::from_value(paginators)
            .map_err(|e| EngineError::model(format!("paginators of {name}: {e}")))?;
        Ok(Self::assemble(name, raw, paginators, source))
    }

    fn assemble(
        name: &str,
        raw: RawService,
        paginators: IndexMap<String, Paginator>,
        source: String,
    ) -> Self {
        let operations = raw
            .operations
            .into_iter()
            .map(|(key, mut op)| {
                if op.name != key {
                    op.wire_name = Some(std::mem::replace(&mut op.name, key.clone()));
                }
                (key, op)
            })
            .collect();
        ServiceModel {
            name: name.to_string(),
            metadata: raw.metadata,
            operations,
            shapes: raw.shapes,
            paginators,
            source,
            error_codes: std::sync::OnceLock::new(),
        }
    }

    /// The shape named `name`, decoded on first use.
    pub fn shape(&self, name: &str) -> Result<&Shape, EngineError> {
        let i = self.shape_index(name).ok_or_else(|| {
            EngineError::model(format!(
                "{}: shape {name} is missing from the model",
                self.name
            ))
        })?;
        self.shape_at(i)
    }

    /// A shape's position in the model: resolve a name once, then [`Self::shape_at`] is an
    /// index instead of a hash lookup (the XML reader does this per element).
    pub fn shape_index(&self, name: &str) -> Option<usize> {
        self.shapes.get_index_of(name)
    }

    /// The shape at an index from [`Self::shape_index`].
    pub fn shape_at(&self, i: usize) -> Result<&Shape, EngineError> {
        let (name, lazy) = self
            .shapes
            .get_index(i)
            .ok_or_else(|| EngineError::model(format!("{}: no shape #{i}", self.name)))?;
        lazy.shape
            .get_or_init(|| {
                Box::new(serde_json::from_str(lazy.raw.get()).map_err(|e| e.to_string()))
            })
            .as_ref()
            .as_ref()
            .map_err(|e| EngineError::model(format!("{}: shape {name}: {e}", self.name)))
    }

    /// Every shape name (decoding none of them).
    pub fn shape_names(&self) -> impl Iterator<Item = &String> {
        self.shapes.keys()
    }

    /// Whether a shape is an exception, judged from its text first so that searching
    /// every shape for an error code decodes only the exceptions.
    pub fn is_exception_shape(&self, name: &str) -> bool {
        self.shapes.get(name).is_some_and(|l| {
            l.raw.get().contains("\"exception\"") && self.shape(name).is_ok_and(|s| s.exception)
        })
    }

    /// The exception shape for an error code, as botocore's `shape_for_error_code` finds
    /// it: the exception whose `error.code` is the code, or without one whose name is (of
    /// several, the last in the model).
    pub fn error_shape_for_code(&self, code: &str) -> Option<&str> {
        self.error_codes
            .get_or_init(|| {
                let mut map = HashMap::new();
                for name in self.shape_names() {
                    if !self.is_exception_shape(name) {
                        continue;
                    }
                    let Ok(shape) = self.shape(name) else {
                        continue;
                    };
                    let code = shape
                        .error
                        .as_ref()
                        .and_then(|e| e.code.clone())
                        .unwrap_or_else(|| name.clone());
                    map.insert(code, name.clone());
                }
                map
            })
            .get(code)
            .map(String::as_str)
    }

    /// The operation by its exact name (`DescribeVpcs`), or by boto3's snake_case name
    /// (`describe_vpcs`) or the CLI's kebab-case name (`describe-vpcs`). Its `name` is the
    /// key it is kept under.
    pub fn operation(&self, name: &str) -> Option<&Operation> {
        if let Some(op) = self.operations.get(name) {
            return Some(op);
        }
        let wanted = normalize_op_name(name);
        self.operations
            .values()
            .find(|op| normalize_op_name(&op.name) == wanted)
    }

    /// The protocol the engine speaks to this service, chosen as botocore's
    /// `resolved_protocol` chooses it: the first of [`SUPPORTED_PROTOCOLS`] that the model's
    /// `protocols` lists, else the legacy `protocol`.
    pub fn protocol(&self) -> &str {
        SUPPORTED_PROTOCOLS
            .iter()
            .copied()
            .find(|p| self.metadata.protocols.iter().any(|m| m == p))
            .unwrap_or(self.metadata.protocol.as_str())
    }

    /// The name requests are signed with (and the IAM action prefix).
    pub fn signing_name(&self) -> &str {
        self.metadata
            .signing_name
            .as_deref()
            .or(self.metadata.endpoint_prefix.as_deref())
            .unwrap_or(&self.name)
    }

    /// The endpoint prefix (the service name when the model has none).
    pub fn endpoint_prefix(&self) -> &str {
        self.metadata
            .endpoint_prefix
            .as_deref()
            .unwrap_or(&self.name)
    }

    /// serviceId as used by `AWS_ENDPOINT_URL_<SERVICE>`: upper case, spaces to underscores.
    pub fn env_service_id(&self) -> String {
        self.metadata
            .service_id
            .as_deref()
            .unwrap_or(&self.name)
            .to_ascii_uppercase()
            .replace([' ', '-'], "_")
    }
}

/// `DescribeVpcs`, `describe_vpcs` and `describe-vpcs` all normalize to `describevpcs`.
pub fn normalize_op_name(name: &str) -> String {
    name.chars()
        .filter(|c| *c != '_' && *c != '-')
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

struct PackIndex {
    botocore: String,
    services: HashMap<String, (usize, usize)>,
    body_start: usize,
}

/// The embedded pack's index, read once per process: every [`Models`] and the endpoint
/// data share it.
fn pack_index() -> Result<&'static PackIndex, EngineError> {
    static INDEX: std::sync::OnceLock<Result<PackIndex, String>> = std::sync::OnceLock::new();
    INDEX
        .get_or_init(|| read_pack_index().map_err(|e| e.to_string()))
        .as_ref()
        .map_err(|e| EngineError::model(e.clone()))
}

fn read_pack_index() -> Result<PackIndex, EngineError> {
    let bad = || EngineError::model("embedded model pack is corrupt");
    if !PACK.starts_with(PACK_MAGIC) {
        return Err(bad());
    }
    let rest = PACK.get(PACK_MAGIC.len()..).ok_or_else(bad)?;
    let nl = rest.iter().position(|b| *b == b'\n').ok_or_else(bad)?;
    #[derive(Deserialize)]
    struct Index {
        botocore: String,
        services: HashMap<String, (usize, usize)>,
    }
    let idx: Index = serde_json::from_slice(rest.get(..nl).ok_or_else(bad)?).map_err(|_| bad())?;
    Ok(PackIndex {
        botocore: idx.botocore,
        services: idx.services,
        body_start: PACK_MAGIC.len() + nl + 1,
    })
}

/// All models the engine knows: the embedded pack plus any extra directories. Services are
/// decoded on first use and shared afterwards.
pub struct Models {
    index: &'static PackIndex,
    extra_dirs: Vec<PathBuf>,
    loaded: Mutex<HashMap<String, Arc<ServiceModel>>>,
}

impl std::fmt::Debug for Models {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Models")
            .field("botocore", &self.index.botocore)
            .field("extra_dirs", &self.extra_dirs)
            .finish()
    }
}

impl Models {
    /// The embedded models, plus directories from `AWS_DATA_PATH` (':'-separated) if set.
    pub fn from_env() -> Result<Self, EngineError> {
        let dirs = std::env::var_os("AWS_DATA_PATH")
            .map(|v| std::env::split_paths(&v).collect())
            .unwrap_or_default();
        Self::new(dirs)
    }

    /// The embedded models, with models in `extra_dirs` taking precedence.
    pub fn new(extra_dirs: Vec<PathBuf>) -> Result<Self, EngineError> {
        Ok(Models {
            index: pack_index()?,
            extra_dirs,
            loaded: Mutex::new(HashMap::new()),
        })
    }

    /// The botocore version the embedded models came from.
    pub fn botocore_version(&self) -> &str {
        &self.index.botocore
    }

    /// Every service name known (embedded and extra), sorted.
    pub fn service_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .index
            .services
            .keys()
            .filter(|k| !k.starts_with('_'))
            .cloned()
            .collect();
        for dir in &self.extra_dirs {
            if let Ok(rd) = std::fs::read_dir(dir) {
                for e in rd.flatten() {
                    if e.path().is_dir() {
                        if let Some(n) = e.file_name().to_str() {
                            if latest_api_dir(&e.path()).is_some() && !names.iter().any(|x| x == n)
                            {
                                names.push(n.to_string());
                            }
                        }
                    }
                }
            }
        }
        names.sort();
        names
    }

    /// The model of one service by botocore name (`ec2`, `elbv2`, `logs`, ...).
    pub fn service(&self, name: &str) -> Result<Arc<ServiceModel>, EngineError> {
        // A panic while holding the lock leaves a usable map (inserts are single steps).
        if let Some(m) = self
            .loaded
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(name)
        {
            return Ok(m.clone());
        }
        let model = self.load(name)?;
        self.loaded
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(name.to_string())
            .or_insert(model.clone());
        Ok(model)
    }

    fn load(&self, name: &str) -> Result<Arc<ServiceModel>, EngineError> {
        // Extra directories win over the embedded pack, as AWS_DATA_PATH does for botocore.
        for dir in &self.extra_dirs {
            let sdir = dir.join(name);
            if let Some(api_dir) = latest_api_dir(&sdir) {
                return load_dir(name, &api_dir).map(Arc::new);
            }
        }
        if name.starts_with('_') || !self.index.services.contains_key(name) {
            return Err(self.unknown_service(name));
        }
        embedded_model(self.index, name)
    }

    /// Start decoding an embedded service model on another thread, so it is ready (or
    /// under way) when [`Models::service`] asks for it: `mrhost run` knows a plugin's
    /// services from its last run before the plugin has even been instantiated. A model
    /// from an extra directory, or a name the pack lacks, is left alone.
    pub fn prefetch(&self, name: &str) {
        if !self.extra_dirs.is_empty() || !self.index.services.contains_key(name) {
            return;
        }
        // Once per name and process: a command may ask early and again at the load, and
        // a model already asked for (decoded or under way) has its cell.
        let (cell, new) = embedded_cell(name);
        if !new {
            return;
        }
        let index = self.index;
        let name = name.to_string();
        let _ = std::thread::Builder::new()
            .name("model".into())
            .spawn(move || {
                cell.get_or_init(|| decode_embedded(index, &name).ok().map(Arc::new));
            });
    }

    /// botocore's endpoints.json (partitions, regions, per-service endpoint data): the
    /// embedded copy, parsed once per process (see [`prepare_endpoints`]).
    pub fn endpoints(&self) -> Result<Arc<Value>, EngineError> {
        embedded_endpoints()
    }

    fn unknown_service(&self, name: &str) -> EngineError {
        let names = self.service_names();
        let suggestion = crate::suggest::nearest(name, names.iter().map(String::as_str), 3);
        crate::error::ConstructionError::UnknownService {
            service: name.to_string(),
            suggestion: suggestion
                .map(|s| format!(" (did you mean {s}?)"))
                .unwrap_or_default(),
        }
        .into()
    }
}

/// The process-wide cell of one embedded model (`None` inside: the entry does not decode),
/// and whether this call created it.
type ModelCell = Arc<std::sync::OnceLock<Option<Arc<ServiceModel>>>>;

fn embedded_cell(name: &str) -> (ModelCell, bool) {
    static EMBEDDED: std::sync::OnceLock<Mutex<HashMap<String, ModelCell>>> =
        std::sync::OnceLock::new();
    let mut map = EMBEDDED
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    match map.get(name) {
        Some(cell) => (cell.clone(), false),
        None => {
            let cell = ModelCell::default();
            map.insert(name.to_string(), cell.clone());
            (cell, true)
        }
    }
}

/// An embedded model is the same for every `Models` of the process: decoded once, by
/// whichever thread asks first (the others wait for it rather than decode it again), and
/// kept to the end (freeing ec2's took a short command 2 ms on its way out).
fn embedded_model(index: &'static PackIndex, name: &str) -> Result<Arc<ServiceModel>, EngineError> {
    let (cell, _) = embedded_cell(name);
    match cell.get_or_init(|| decode_embedded(index, name).ok().map(Arc::new)) {
        Some(m) => Ok(m.clone()),
        // A pack entry that does not decode: say why (it is not kept).
        None => decode_embedded(index, name).map(Arc::new),
    }
}

fn decode_embedded(index: &PackIndex, name: &str) -> Result<ServiceModel, EngineError> {
    let text = pack_text(index, name)
        .ok_or_else(|| EngineError::model(format!("no model {name} in the pack")))??;
    let doc: PackDoc = serde_json::from_slice(&text)
        .map_err(|e| EngineError::model(format!("parsing model {name}: {e}")))?;
    Ok(ServiceModel::assemble(
        name,
        doc.service,
        doc.paginators,
        format!("botocore {}", index.botocore),
    ))
}

/// The most text one pack entry is trusted to claim (ec2, the largest, is ~1.2 MB).
const MAX_PACK_TEXT: usize = 64 << 20;

/// The decompressed JSON of one entry of the embedded pack.
fn pack_text(index: &PackIndex, name: &str) -> Option<Result<Vec<u8>, EngineError>> {
    let (off, len) = *index.services.get(name)?;
    let start = index.body_start + off;
    let blob = PACK.get(start..start + len)?;
    // The gzip trailer ends with the text's size (mod 2^32): one allocation of the right
    // size instead of a guess that grows (each growth a copy into fresh pages, ec2's text
    // and the endpoint data both on the way to a command's first call).
    let size = blob
        .last_chunk::<4>()
        .map(|b| u32::from_le_bytes(*b) as usize)
        .filter(|n| *n <= MAX_PACK_TEXT)
        .unwrap_or(len * 8);
    let mut text = Vec::with_capacity(size);
    Some(
        flate2::read::GzDecoder::new(blob)
            .read_to_end(&mut text)
            .map(|_| text)
            .map_err(|e| EngineError::model(format!("decoding model {name}: {e}"))),
    )
}

/// The embedded endpoints.json, parsed on first use and kept for the process: it comes
/// from the binary, so every [`Models`] shares it, and it is never dropped (freeing its
/// tree took a `call` 2 ms on its way out).
fn embedded_endpoints() -> Result<Arc<Value>, EngineError> {
    static ENDPOINTS: std::sync::OnceLock<Result<Arc<Value>, String>> = std::sync::OnceLock::new();
    ENDPOINTS
        .get_or_init(|| {
            let index = pack_index().map_err(|e| e.to_string())?;
            let text = pack_text(index, "_endpoints")
                .ok_or("embedded endpoint data is missing")?
                .map_err(|e| e.to_string())?;
            let mut de = serde_json::Deserializer::from_slice(&text);
            serde::de::DeserializeSeed::deserialize(WithoutVariants, &mut de)
                .and_then(|v| de.end().map(|()| v))
                .map(Arc::new)
                .map_err(|e| format!("parsing the endpoint data: {e}"))
        })
        .clone()
        .map_err(EngineError::model)
}

/// endpoints.json as a JSON tree, without its `variants` (the FIPS and dual-stack
/// hostnames of each endpoint, which mrhost never resolves to): skipped while parsing,
/// they are 37 % of the data, and the parse is on the way to the first request.
struct WithoutVariants;

impl<'de> serde::de::DeserializeSeed<'de> for WithoutVariants {
    type Value = Value;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> serde::de::Visitor<'de> for WithoutVariants {
    type Value = Value;
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("JSON")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_string()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut out = Vec::new();
        while let Some(v) = seq.next_element_seed(WithoutVariants)? {
            out.push(v);
        }
        Ok(Value::Array(out))
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = serde_json::Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if key == "variants" {
                map.next_value::<serde::de::IgnoredAny>()?;
            } else {
                let v = map.next_value_seed(WithoutVariants)?;
                out.insert(key, v);
            }
        }
        Ok(Value::Object(out))
    }
}

/// Parse the endpoint data on another thread now, so it is ready when the first request
/// needs it: every command needs it (regions, endpoints), and parsing it (~7 ms) would
/// otherwise sit in front of the first request, after the service model's parse on the
/// same thread. Whoever needs it before it is ready waits for that parse, not a second one.
pub fn prepare_endpoints() {
    let _ = std::thread::Builder::new()
        .name("endpoints".into())
        .spawn(|| {
            let _ = embedded_endpoints();
        });
}

fn latest_api_dir(service_dir: &Path) -> Option<PathBuf> {
    let mut best: Option<PathBuf> = None;
    for e in std::fs::read_dir(service_dir).ok()?.flatten() {
        let p = e.path();
        let has_model = p.join("service-2.json").exists() || p.join("service-2.json.gz").exists();
        if has_model && best.as_ref().is_none_or(|b| p.file_name() > b.file_name()) {
            best = Some(p);
        }
    }
    best
}

fn read_json_maybe_gz(path: &Path) -> Result<Option<Value>, EngineError> {
    let gz = path.with_extension("json.gz");
    let err = |e: String| EngineError::model(format!("{}: {e}", path.display()));
    if path.exists() {
        let bytes = std::fs::read(path).map_err(|e| err(e.to_string()))?;
        return serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| err(e.to_string()));
    }
    if gz.exists() {
        let bytes = std::fs::read(&gz).map_err(|e| err(e.to_string()))?;
        let mut text = Vec::new();
        flate2::read::GzDecoder::new(&bytes[..])
            .read_to_end(&mut text)
            .map_err(|e| err(e.to_string()))?;
        return serde_json::from_slice(&text)
            .map(Some)
            .map_err(|e| err(e.to_string()));
    }
    Ok(None)
}

fn load_dir(name: &str, api_dir: &Path) -> Result<ServiceModel, EngineError> {
    let service = read_json_maybe_gz(&api_dir.join("service-2.json"))?
        .ok_or_else(|| EngineError::model(format!("{}: no service-2.json", api_dir.display())))?;
    let paginators = read_json_maybe_gz(&api_dir.join("paginators-1.json"))?
        .and_then(|mut v| v.get_mut("pagination").map(Value::take))
        .unwrap_or_else(|| Value::Object(Default::default()));
    ServiceModel::from_json(name, service, paginators, api_dir.display().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_pack_has_every_service_and_decodes_ec2() {
        let models = Models::new(vec![]).unwrap();
        assert!(models.service_names().len() > 400);
        let ec2 = models.service("ec2").unwrap();
        assert_eq!(ec2.protocol(), "ec2");
        let op = ec2.operation("describe-vpcs").unwrap();
        assert_eq!(op.name, "DescribeVpcs");
        assert_eq!(ec2.paginators["DescribeVpcs"].result_key, vec!["Vpcs"]);
    }

    #[test]
    fn a_prefetched_model_is_the_one_every_models_gets() {
        // Prefetch and ask at once: whichever decode wins, both see the one model.
        let a = Models::new(vec![]).unwrap();
        a.prefetch("route53resolver");
        a.prefetch("no-such-service");
        let b = Models::new(vec![]).unwrap();
        let (ma, mb) = std::thread::scope(|s| {
            let h = s.spawn(|| a.service("route53resolver").unwrap());
            (b.service("route53resolver").unwrap(), h.join().unwrap())
        });
        assert!(Arc::ptr_eq(&ma, &mb));
        assert!(a.service("no-such-service").is_err());
    }

    #[test]
    fn unknown_service_suggests_the_nearest_name() {
        let models = Models::new(vec![]).unwrap();
        let err = models.service("ec3").unwrap_err().to_string();
        assert!(err.contains("ec2"), "{err}");
    }

    #[test]
    fn extra_model_directory_wins_over_the_pack() {
        let dir = std::env::temp_dir().join(format!("mrhost-models-{}", std::process::id()));
        let api = dir.join("newsvc").join("2030-01-01");
        std::fs::create_dir_all(&api).unwrap();
        std::fs::write(
            api.join("service-2.json"),
            r#"{"metadata":{"apiVersion":"2030-01-01","protocol":"json","endpointPrefix":"newsvc","jsonVersion":"1.1","targetPrefix":"NewSvc"},
               "operations":{"ListThings":{"name":"ListThings","http":{"method":"POST","requestUri":"/"}}},"shapes":{}}"#,
        )
        .unwrap();
        let models = Models::new(vec![dir.clone()]).unwrap();
        assert!(models.service_names().contains(&"newsvc".to_string()));
        assert!(models
            .service("newsvc")
            .unwrap()
            .operation("ListThings")
            .is_some());
        std::fs::remove_dir_all(dir).unwrap();
    }
}
