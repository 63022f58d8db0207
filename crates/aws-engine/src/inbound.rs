//! The server side of the wire protocols: which operation of which service an incoming
//! request is, read from the request as the models describe it — the query and ec2
//! protocols' `Action` (with `Version` telling services that share a signing name apart),
//! JSON's `X-Amz-Target`, REST's method and URI template (labels, greedy labels, and the
//! query-string literals that tell `GET /{Bucket}` from `GET /{Bucket}?list-type=2`), and
//! smithy-rpc-v2-cbor's `/service/{Service}/operation/{Operation}` path.
//!
//! The service is found from the signing name of the request's credential scope (several
//! services share one: `elasticloadbalancing` is elb and elbv2, `s3` is s3 and s3control).
//! A REST request can match more than one operation's template; the most specific wins
//! (more literal path segments, then more query literals, then no greedy label) and every
//! other match is reported too, so a caller deciding permissions can look at them all.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use crate::error::EngineError;
use crate::model::{Models, ServiceModel};

/// The protocol a request was made in (and the one its errors must be answered in).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WireProtocol {
    /// awsQuery (`Action=` in a form).
    Query,
    /// EC2's variant of query.
    Ec2,
    /// awsJson 1.0/1.1 (`X-Amz-Target`).
    Json,
    /// REST with JSON bodies.
    RestJson,
    /// REST with XML bodies.
    RestXml,
    /// Smithy RPC v2 CBOR.
    Cbor,
}

impl WireProtocol {
    /// The name botocore's models give it.
    pub fn as_str(self) -> &'static str {
        match self {
            WireProtocol::Query => "query",
            WireProtocol::Ec2 => "ec2",
            WireProtocol::Json => "json",
            WireProtocol::RestJson => "rest-json",
            WireProtocol::RestXml => "rest-xml",
            WireProtocol::Cbor => "smithy-rpc-v2-cbor",
        }
    }

    /// The protocol a model is spoken in (botocore's choice among its `protocols`).
    pub fn of_model(model: &ServiceModel) -> Option<WireProtocol> {
        Self::parse(model.protocol())
    }

    /// The protocol a botocore protocol name stands for.
    pub fn parse(s: &str) -> Option<WireProtocol> {
        Some(match s {
            "query" => WireProtocol::Query,
            "ec2" => WireProtocol::Ec2,
            "json" => WireProtocol::Json,
            "rest-json" => WireProtocol::RestJson,
            "rest-xml" => WireProtocol::RestXml,
            "smithy-rpc-v2-cbor" => WireProtocol::Cbor,
            _ => return None,
        })
    }
}

/// An incoming request as the router needs it: everything raw, as it came off the wire.
#[derive(Debug, Clone, Copy)]
pub struct InboundRequest<'a> {
    /// The HTTP method.
    pub method: &'a str,
    /// The path, percent-encoded as sent, without the query string.
    pub path: &'a str,
    /// The query string as sent (no `?`), possibly empty.
    pub query: &'a str,
    /// Every header, as received.
    pub headers: &'a [(String, String)],
    /// The body.
    pub body: &'a [u8],
}

impl InboundRequest<'_> {
    /// The first value of a header (case-insensitive name).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Whether the body is a form (the query protocols' POST).
    fn is_form(&self) -> bool {
        self.header("content-type").is_some_and(|c| {
            c.to_ascii_lowercase()
                .starts_with("application/x-www-form-urlencoded")
        })
    }

    /// The protocol the request looks like it speaks, from its headers alone (for
    /// answering a request that could not be identified).
    pub fn apparent_protocol(&self) -> Option<WireProtocol> {
        if self.header("x-amz-target").is_some() {
            return Some(WireProtocol::Json);
        }
        if self
            .header("smithy-protocol")
            .is_some_and(|p| p.eq_ignore_ascii_case("rpc-v2-cbor"))
        {
            return Some(WireProtocol::Cbor);
        }
        let has_action = |text: &str| form_pairs(text).any(|(k, _)| k == "Action");
        if (self.is_form() && has_action(&String::from_utf8_lossy(self.body)))
            || has_action(self.query)
        {
            return Some(WireProtocol::Query);
        }
        None
    }
}

/// What a request was identified as.
#[derive(Debug, Clone)]
pub struct Identified {
    /// The service's model.
    pub model: Arc<ServiceModel>,
    /// The operation's name (the model's key, what boto3 and the classification use).
    pub operation: String,
    /// The protocol it was made in.
    pub protocol: WireProtocol,
    /// Other operations the request also matches (a REST request that fits several
    /// templates, a query action several services sharing the signing name have): a
    /// permission check must allow them all.
    pub also: Vec<(Arc<ServiceModel>, String)>,
}

/// Why a request could not be identified.
#[derive(Debug, thiserror::Error)]
pub enum InboundError {
    /// No model has the signing name of the credential scope.
    #[error("no service in the models signs requests as '{0}'")]
    UnknownService(String),
    /// The service is known, the operation not.
    #[error("no operation of {services} matches {request}")]
    UnknownOperation {
        /// The services tried.
        services: String,
        /// The request, in short (`GET /path`).
        request: String,
        /// The protocol the request was recognised as, if any.
        protocol: Option<WireProtocol>,
    },
    /// A model could not be read.
    #[error(transparent)]
    Engine(#[from] EngineError),
}

/// One operation's REST route.
#[derive(Debug, Clone)]
struct Route {
    operation: String,
    method: String,
    segments: Vec<Segment>,
    /// Query literals of the template: `?list-type=2` → (`list-type`, Some("2")),
    /// `?acl` → (`acl`, None).
    query: Vec<(String, Option<String>)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Literal(String),
    /// `{Name}` (one segment) or `{Name+}` (greedy: one or more), with any literal text
    /// around it in the same segment.
    Label {
        prefix: String,
        suffix: String,
        greedy: bool,
    },
}

impl Route {
    fn parse(operation: &str, method: &str, request_uri: &str) -> Route {
        let (path, query) = request_uri.split_once('?').unwrap_or((request_uri, ""));
        let segments = path_segments(path)
            .into_iter()
            .map(|s| match (s.find('{'), s.rfind('}')) {
                (Some(open), Some(close)) if open < close => {
                    let name = s.get(open + 1..close).unwrap_or_default();
                    Segment::Label {
                        prefix: s.get(..open).unwrap_or_default().to_string(),
                        suffix: s.get(close + 1..).unwrap_or_default().to_string(),
                        greedy: name.ends_with('+'),
                    }
                }
                _ => Segment::Literal(s.to_string()),
            })
            .collect();
        let query = query
            .split('&')
            .filter(|q| !q.is_empty())
            .map(|q| match q.split_once('=') {
                Some((k, v)) => (k.to_string(), Some(v.to_string())),
                None => (q.to_string(), None),
            })
            .collect();
        Route {
            operation: operation.to_string(),
            method: method.to_ascii_uppercase(),
            segments,
            query,
        }
    }

    /// How specific the route is: literal path segments, query literals, no greedy label.
    fn specificity(&self) -> (usize, usize, bool) {
        let literals = self
            .segments
            .iter()
            .filter(|s| matches!(s, Segment::Literal(_)))
            .count();
        let greedy = self
            .segments
            .iter()
            .any(|s| matches!(s, Segment::Label { greedy: true, .. }));
        (literals, self.query.len(), !greedy)
    }

    /// Whether the request fits; `lenient` ignores an `x-id` literal the request lacks
    /// (SDKs older than the model do not send S3's `?x-id=GetObject`).
    fn matches(
        &self,
        method: &str,
        segments: &[String],
        query: &[(String, String)],
        lenient: bool,
    ) -> bool {
        if !self.method.eq_ignore_ascii_case(method) {
            return false;
        }
        let query_ok = self.query.iter().all(|(k, v)| {
            let found = query.iter().find(|(qk, _)| qk == k);
            match (found, v) {
                (Some(_), None) => true,
                (Some((_, qv)), Some(v)) => qv == v,
                (None, _) => lenient && k == "x-id",
            }
        });
        query_ok && match_segments(&self.segments, segments)
    }
}

/// Template segments against request segments (percent-decoded), greedy labels taking one
/// or more segments.
fn match_segments(template: &[Segment], request: &[String]) -> bool {
    let Some((first, rest)) = template.split_first() else {
        return request.is_empty();
    };
    match first {
        Segment::Literal(l) => request
            .split_first()
            .is_some_and(|(r, more)| r == l && match_segments(rest, more)),
        Segment::Label {
            prefix,
            suffix,
            greedy: false,
        } => request
            .split_first()
            .is_some_and(|(r, more)| label_fits(r, prefix, suffix) && match_segments(rest, more)),
        Segment::Label {
            prefix,
            suffix,
            greedy: true,
        } => {
            // Take 1..=n segments; the joined value must fit and the rest must match.
            // Templates have one greedy label, at most: then the rest is a fixed number of
            // segments and there is one way to split (no quadratic work on a long path).
            let fixed_rest = !rest
                .iter()
                .any(|s| matches!(s, Segment::Label { greedy: true, .. }));
            let take = |n: usize| {
                let (taken, more) = request.split_at(n);
                let value = taken.join("/");
                label_fits(&value, prefix, suffix) && match_segments(rest, more)
            };
            if fixed_rest {
                return request
                    .len()
                    .checked_sub(rest.len())
                    .is_some_and(|n| n >= 1 && take(n));
            }
            (1..=request.len()).rev().any(take)
        }
    }
}

/// A path's segments, without the leading `/` and without one trailing `/` (`/a/b/` and
/// `/a/b` are one route: Lambda's model wrote `ListFunctions` as
/// `/2015-03-31/functions/` for years, and SDKs built on either spelling are in use).
/// The root `/` stays one empty segment.
fn path_segments(path: &str) -> Vec<&str> {
    let path = path.strip_prefix('/').unwrap_or(path);
    let path = match path.strip_suffix('/') {
        Some(p) if !p.is_empty() => p,
        _ => path,
    };
    path.split('/').collect()
}

fn label_fits(value: &str, prefix: &str, suffix: &str) -> bool {
    value.len() > prefix.len() + suffix.len()
        && value.starts_with(prefix)
        && value.ends_with(suffix)
}

/// `k=v&k2=v2` pairs, percent-decoded (`+` is a space, as in forms).
pub fn form_pairs(text: &str) -> impl Iterator<Item = (String, String)> + '_ {
    text.split('&').filter(|p| !p.is_empty()).map(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        (form_decode(k), form_decode(v))
    })
}

fn form_decode(s: &str) -> String {
    let s = s.replace('+', " ");
    percent_encoding::percent_decode_str(&s)
        .decode_utf8_lossy()
        .into_owned()
}

fn path_decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8_lossy()
        .into_owned()
}

/// Which operation an incoming request is: built once per process over the models.
pub struct Router {
    models: Arc<Models>,
    /// Signing name → services (the one named like it first, then by name).
    by_signing_name: OnceLock<HashMap<String, Vec<String>>>,
    routes: Mutex<HashMap<String, Arc<Vec<Route>>>>,
}

impl std::fmt::Debug for Router {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Router").finish()
    }
}

impl Router {
    /// A router over `models`; routes are built per service on first use.
    pub fn new(models: Arc<Models>) -> Self {
        Router {
            models,
            by_signing_name: OnceLock::new(),
            routes: Mutex::new(HashMap::new()),
        }
    }

    /// Build the signing-name index now (it reads every model once: call it off the async
    /// threads, at start-up). Later calls are free.
    pub fn warm(&self) {
        self.index();
    }

    fn index(&self) -> &HashMap<String, Vec<String>> {
        self.by_signing_name.get_or_init(|| {
            let mut map: HashMap<String, Vec<String>> = HashMap::new();
            // Service name → its service id, lower-case, spaces as dashes.
            let mut ids: HashMap<String, String> = HashMap::new();
            for name in self.models.service_names() {
                // Read each model in a store of its own that is dropped straight away, so
                // building the index keeps none of the 400-odd models in memory.
                let Ok(scratch) = Models::from_env() else {
                    continue;
                };
                let Ok(model) = scratch.service(&name) else {
                    continue;
                };
                if let Some(id) = &model.metadata.service_id {
                    ids.insert(name.clone(), id.to_ascii_lowercase().replace(' ', "-"));
                }
                let mut keys = vec![model.signing_name().to_string()];
                if model.endpoint_prefix() != model.signing_name() {
                    keys.push(model.endpoint_prefix().to_string());
                }
                for k in keys {
                    map.entry(k).or_default().push(name.clone());
                }
            }
            for (signing, names) in map.iter_mut() {
                names.sort();
                names.dedup();
                // Rank: the service named like the signing name, then one whose service id
                // is that name (`Lambda`, not `Lambda Core`), then by name — the same order
                // on every run, whatever order the models were read in.
                let ranked: Vec<(bool, bool, String)> = names
                    .drain(..)
                    .map(|n| {
                        let id_matches = ids.get(&n).is_some_and(|id| id == signing);
                        (n != *signing, !id_matches, n)
                    })
                    .collect::<std::collections::BTreeSet<_>>()
                    .into_iter()
                    .collect();
                names.extend(ranked.into_iter().map(|(_, _, n)| n));
            }
            map
        })
    }

    /// The services a signing name may stand for, best first.
    pub fn candidates(&self, signing_name: &str) -> Result<Vec<Arc<ServiceModel>>, InboundError> {
        let names = self.index().get(signing_name).cloned().unwrap_or_default();
        let mut out = Vec::new();
        for n in names {
            out.push(self.models.service(&n)?);
        }
        if out.is_empty() {
            // A service the index does not know by this name (an extra model directory).
            if let Ok(m) = self.models.service(signing_name) {
                out.push(m);
            }
        }
        if out.is_empty() {
            return Err(InboundError::UnknownService(signing_name.to_string()));
        }
        Ok(out)
    }

    /// The protocol the services of a signing name are spoken in (for answering a request
    /// before it is identified).
    pub fn protocol_of(&self, signing_name: &str) -> Option<WireProtocol> {
        let first = self.index().get(signing_name)?.first()?.clone();
        WireProtocol::of_model(&*self.models.service(&first).ok()?)
    }

    /// Which operation `req` is, for a request signed for `signing_name`.
    pub fn identify(
        &self,
        signing_name: &str,
        req: &InboundRequest<'_>,
    ) -> Result<Identified, InboundError> {
        let candidates = self.candidates(signing_name)?;
        let services = candidates
            .iter()
            .map(|m| m.name.as_str())
            .collect::<Vec<_>>()
            .join("/");
        let unknown = |request: String, protocol| InboundError::UnknownOperation {
            services: services.clone(),
            request,
            protocol,
        };

        // JSON: X-Amz-Target = targetPrefix.Operation.
        if let Some(target) = req.header("x-amz-target") {
            let (prefix, op) = target.rsplit_once('.').unwrap_or(("", target));
            for m in &candidates {
                if m.metadata.target_prefix.as_deref() != Some(prefix) {
                    continue;
                }
                if let Some(name) = find_operation(m, op) {
                    return Ok(Identified {
                        model: m.clone(),
                        operation: name,
                        protocol: WireProtocol::Json,
                        also: Vec::new(),
                    });
                }
            }
            return Err(unknown(
                format!("X-Amz-Target {target}"),
                Some(WireProtocol::Json),
            ));
        }

        // smithy-rpc-v2-cbor: POST /service/{targetPrefix}/operation/{Operation}.
        if req
            .header("smithy-protocol")
            .is_some_and(|p| p.eq_ignore_ascii_case("rpc-v2-cbor"))
        {
            let parts: Vec<&str> = req.path.split('/').collect();
            if let ["", "service", service, "operation", op] = parts.as_slice() {
                for m in &candidates {
                    if m.metadata.target_prefix.as_deref() != Some(*service) {
                        continue;
                    }
                    if let Some(name) = find_operation(m, op) {
                        return Ok(Identified {
                            model: m.clone(),
                            operation: name,
                            protocol: WireProtocol::Cbor,
                            also: Vec::new(),
                        });
                    }
                }
            }
            return Err(unknown(
                format!("{} {}", req.method, req.path),
                Some(WireProtocol::Cbor),
            ));
        }

        // query / ec2: Action (and Version) in the form body or the query string.
        let body_text;
        let mut form: Vec<(String, String)> = form_pairs(req.query).collect();
        if req.is_form() {
            body_text = String::from_utf8_lossy(req.body);
            form.extend(form_pairs(&body_text));
        }
        let field = |name: &str| {
            form.iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
        };
        let query_capable = |m: &ServiceModel| {
            let p = m.protocol();
            p == "query"
                || p == "ec2"
                || m.metadata.protocols.iter().any(|x| x == "query")
                || m.metadata.aws_query_compatible.is_some()
        };
        if let Some(action) = field("Action") {
            let version = field("Version");
            let mut found: Vec<(Arc<ServiceModel>, String)> = candidates
                .iter()
                .filter(|m| query_capable(m))
                .filter_map(|m| find_operation(m, action).map(|op| (m.clone(), op)))
                .collect();
            if found.is_empty() && candidates.iter().any(|m| query_capable(m)) {
                return Err(unknown(
                    format!("Action={action}"),
                    Some(WireProtocol::Query),
                ));
            }
            if !found.is_empty() {
                // The service whose API version the request names answers it.
                if let Some(i) = found
                    .iter()
                    .position(|(m, _)| Some(m.metadata.api_version.as_str()) == version)
                {
                    let chosen = found.remove(i);
                    found.retain(|(m, _)| Some(m.metadata.api_version.as_str()) == version);
                    found.insert(0, chosen);
                }
                let (model, operation) = found.remove(0);
                let protocol = if model.protocol() == "ec2" {
                    WireProtocol::Ec2
                } else {
                    WireProtocol::Query
                };
                return Ok(Identified {
                    model,
                    operation,
                    protocol,
                    also: found,
                });
            }
        }

        // REST: method + URI template + query literals.
        let segments: Vec<String> = path_segments(req.path)
            .into_iter()
            .map(path_decode)
            .collect();
        let query: Vec<(String, String)> = form_pairs(req.query).collect();
        for lenient in [false, true] {
            // (candidate rank, model, route): the rank breaks ties between services.
            let mut matched: Vec<(usize, Arc<ServiceModel>, Route)> = Vec::new();
            for (rank, m) in candidates.iter().enumerate() {
                let Some(protocol) = WireProtocol::of_model(m) else {
                    continue;
                };
                if !matches!(protocol, WireProtocol::RestJson | WireProtocol::RestXml) {
                    continue;
                }
                for r in self.routes_of(m).iter() {
                    if r.matches(req.method, &segments, &query, lenient) {
                        matched.push((rank, m.clone(), r.clone()));
                    }
                }
            }
            if matched.is_empty() {
                continue;
            }
            // Most specific first; between equally specific routes the better-ranked
            // service (see `candidates`), then the model's own order.
            matched.sort_by(|a, b| {
                b.2.specificity()
                    .cmp(&a.2.specificity())
                    .then(a.0.cmp(&b.0))
            });
            // S3's `x-id=Operation` names the operation where templates tie (PutObject and
            // CopyObject share `PUT /{Bucket}/{Key+}`).
            if let Some((_, x_id)) = query.iter().find(|(k, _)| k == "x-id") {
                if let Some(i) = matched.iter().position(|(_, _, r)| &r.operation == x_id) {
                    let chosen = matched.remove(i);
                    matched.insert(0, chosen);
                }
            }
            let mut it = matched.into_iter();
            let Some((_, model, route)) = it.next() else {
                continue;
            };
            let protocol = WireProtocol::of_model(&model).unwrap_or(WireProtocol::RestJson);
            return Ok(Identified {
                model,
                operation: route.operation,
                protocol,
                also: it.map(|(_, m, r)| (m, r.operation)).collect(),
            });
        }
        let protocol = candidates.first().and_then(|m| WireProtocol::of_model(m));
        Err(unknown(format!("{} {}", req.method, req.path), protocol))
    }

    /// The REST routes of a model, built on first use.
    fn routes_of(&self, model: &ServiceModel) -> Arc<Vec<Route>> {
        let mut cache = match self.routes.lock() {
            Ok(c) => c,
            Err(p) => p.into_inner(),
        };
        cache
            .entry(model.name.clone())
            .or_insert_with(|| {
                Arc::new(
                    model
                        .operations
                        .values()
                        .map(|op| Route::parse(&op.name, &op.http.method, &op.http.request_uri))
                        .collect(),
                )
            })
            .clone()
    }
}

/// The operation a wire name stands for: the model's own name for it, or its key.
fn find_operation(model: &ServiceModel, wire: &str) -> Option<String> {
    if let Some(op) = model.operations.get(wire) {
        return Some(op.name.clone());
    }
    model
        .operations
        .values()
        .find(|op| op.wire_name.as_deref() == Some(wire))
        .map(|op| op.name.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn router() -> Router {
        Router::new(Arc::new(Models::new(vec![]).unwrap()))
    }

    fn req<'a>(
        method: &'a str,
        path: &'a str,
        query: &'a str,
        headers: &'a [(String, String)],
        body: &'a [u8],
    ) -> InboundRequest<'a> {
        InboundRequest {
            method,
            path,
            query,
            headers,
            body,
        }
    }

    fn form() -> Vec<(String, String)> {
        vec![(
            "Content-Type".into(),
            "application/x-www-form-urlencoded; charset=utf-8".into(),
        )]
    }

    fn id(r: &Router, signing: &str, req: InboundRequest<'_>) -> (String, String) {
        let i = r.identify(signing, &req).unwrap();
        (i.model.name.clone(), i.operation)
    }

    #[test]
    fn query_and_ec2_by_action_and_version() {
        let r = router();
        let h = form();
        assert_eq!(
            id(
                &r,
                "ec2",
                req(
                    "POST",
                    "/",
                    "",
                    &h,
                    b"Action=DescribeVpcs&Version=2016-11-15"
                )
            ),
            ("ec2".into(), "DescribeVpcs".into())
        );
        // elb and elbv2 share the signing name and the action; Version decides.
        assert_eq!(
            id(
                &r,
                "elasticloadbalancing",
                req(
                    "POST",
                    "/",
                    "",
                    &h,
                    b"Action=DescribeLoadBalancers&Version=2015-12-01"
                )
            ),
            ("elbv2".into(), "DescribeLoadBalancers".into())
        );
        assert_eq!(
            id(
                &r,
                "elasticloadbalancing",
                req(
                    "POST",
                    "/",
                    "",
                    &h,
                    b"Action=DescribeLoadBalancers&Version=2012-06-01"
                )
            ),
            ("elb".into(), "DescribeLoadBalancers".into())
        );
        // GET with the action in the query string.
        assert_eq!(
            id(
                &r,
                "iam",
                req("GET", "/", "Action=ListRoles&Version=2010-05-08", &[], b"")
            ),
            ("iam".into(), "ListRoles".into())
        );
        let e = r
            .identify("sts", &req("POST", "/", "", &h, b"Action=MintMoney"))
            .unwrap_err();
        assert!(e.to_string().contains("Action=MintMoney"), "{e}");
    }

    #[test]
    fn json_by_target() {
        let r = router();
        let h = vec![
            (
                "X-Amz-Target".to_string(),
                "DynamoDB_20120810.ListTables".to_string(),
            ),
            ("Content-Type".into(), "application/x-amz-json-1.0".into()),
        ];
        assert_eq!(
            id(&r, "dynamodb", req("POST", "/", "", &h, b"{}")),
            ("dynamodb".into(), "ListTables".into())
        );
        let h = vec![(
            "X-Amz-Target".to_string(),
            "DynamoDBStreams_20120810.ListStreams".to_string(),
        )];
        assert_eq!(
            id(&r, "dynamodb", req("POST", "/", "", &h, b"{}")),
            ("dynamodbstreams".into(), "ListStreams".into())
        );
        let h = vec![(
            "X-Amz-Target".to_string(),
            "AmazonSQS.CreateQueue".to_string(),
        )];
        assert_eq!(
            id(&r, "sqs", req("POST", "/", "", &h, b"{}")),
            ("sqs".into(), "CreateQueue".into())
        );
    }

    #[test]
    fn rest_by_template_with_query_literals_and_greedy_labels() {
        let r = router();
        let cases = [
            ("GET", "/", "", "s3", "ListBuckets"),
            ("GET", "/bucket", "", "s3", "ListObjects"),
            (
                "GET",
                "/bucket",
                "list-type=2&prefix=a",
                "s3",
                "ListObjectsV2",
            ),
            ("GET", "/bucket", "location", "s3", "GetBucketLocation"),
            ("GET", "/bucket", "tagging=", "s3", "GetBucketTagging"),
            ("HEAD", "/bucket", "", "s3", "HeadBucket"),
            (
                "GET",
                "/bucket/a/b%2Fc.txt",
                "x-id=GetObject",
                "s3",
                "GetObject",
            ),
            ("GET", "/bucket/a/b.txt", "", "s3", "GetObject"),
            ("GET", "/bucket/a/b.txt", "acl", "s3", "GetObjectAcl"),
            ("HEAD", "/bucket/k", "", "s3", "HeadObject"),
            ("PUT", "/bucket/k", "x-id=PutObject", "s3", "PutObject"),
            ("DELETE", "/bucket", "", "s3", "DeleteBucket"),
            ("POST", "/bucket", "delete", "s3", "DeleteObjects"),
        ];
        for (method, path, query, svc, op) in cases {
            assert_eq!(
                id(&r, "s3", req(method, path, query, &[], b"")),
                (svc.to_string(), op.to_string()),
                "{method} {path}?{query}"
            );
        }
        assert_eq!(
            id(
                &r,
                "lambda",
                req("GET", "/2015-03-31/functions/", "", &[], b"")
            ),
            ("lambda".into(), "ListFunctions".into())
        );
        // The model's spelling (no trailing slash) too; and the other services signing as
        // `lambda` answer their own routes, Lambda itself coming first among them.
        assert_eq!(
            id(
                &r,
                "lambda",
                req("GET", "/2015-03-31/functions", "", &[], b"")
            ),
            ("lambda".into(), "ListFunctions".into())
        );
        assert_eq!(
            id(
                &r,
                "lambda",
                req("POST", "/2026-10-01/runtimes", "", &[], b"")
            ),
            ("lambda-core".into(), "CreateRuntime".into())
        );
        let names: Vec<String> = r
            .candidates("lambda")
            .unwrap()
            .iter()
            .map(|m| m.name.clone())
            .collect();
        assert_eq!(
            names.first().map(String::as_str),
            Some("lambda"),
            "{names:?}"
        );
        assert!(names.len() > 1, "{names:?}");
        assert_eq!(
            id(
                &r,
                "lambda",
                req(
                    "GET",
                    "/2015-03-31/functions/my-fn/configuration",
                    "",
                    &[],
                    b""
                )
            ),
            ("lambda".into(), "GetFunctionConfiguration".into())
        );
        assert_eq!(
            id(
                &r,
                "lambda",
                req("POST", "/2015-03-31/functions/f/invocations", "", &[], b"")
            ),
            ("lambda".into(), "Invoke".into())
        );
        assert_eq!(
            id(
                &r,
                "route53",
                req("GET", "/2013-04-01/hostedzone", "", &[], b"")
            ),
            ("route53".into(), "ListHostedZones".into())
        );
        // s3control shares the signing name with s3; its paths are its own.
        assert_eq!(
            id(&r, "s3", req("GET", "/v20180820/accesspoint", "", &[], b"")),
            ("s3control".into(), "ListAccessPoints".into())
        );
        // Other matches are reported: GetObjectAcl also fits ListObjects? No: different
        // path. GetBucketAcl also fits ListObjects' template.
        let i = r
            .identify("s3", &req("GET", "/bucket", "acl", &[], b""))
            .unwrap();
        assert_eq!(i.operation, "GetBucketAcl");
        assert!(
            i.also.iter().any(|(_, o)| o == "ListObjects"),
            "{:?}",
            i.also
        );
        assert!(r
            .identify("s3", &req("PATCH", "/bucket", "", &[], b""))
            .is_err());
    }

    #[test]
    fn cbor_by_path() {
        let r = router();
        let h = vec![("smithy-protocol".to_string(), "rpc-v2-cbor".to_string())];
        assert_eq!(
            id(
                &r,
                "monitoring",
                req(
                    "POST",
                    "/service/GraniteServiceVersion20100801/operation/ListMetrics",
                    "",
                    &h,
                    b""
                )
            ),
            ("cloudwatch".into(), "ListMetrics".into())
        );
    }

    #[test]
    fn unknown_signing_names_are_refused() {
        let r = router();
        assert!(matches!(
            r.identify("no-such-service", &req("GET", "/", "", &[], b"")),
            Err(InboundError::UnknownService(_))
        ));
    }

    /// One router over the bundled models for every generated case (building its index
    /// reads every model once).
    fn shared_router() -> &'static Router {
        static R: OnceLock<Router> = OnceLock::new();
        R.get_or_init(router)
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(400))]
        /// Whatever arrives is identified or refused with an error: never a panic, and a
        /// long path costs no more than a linear pass per route.
        #[test]
        fn any_request_is_identified_or_refused_without_panicking(
            method in "(GET|PUT|POST|HEAD|DELETE|PATCH|[A-Za-z]{0,6})",
            path in "(/([a-zA-Z0-9._~:-]|%[0-9A-Fa-f]{0,2}|[{}+ ]){0,10}){0,8}",
            query in "(&?[a-zA-Z0-9%+._-]{0,10}(=[a-zA-Z0-9%+._-]{0,10})?){0,5}",
            target in proptest::option::of("[A-Za-z0-9_.]{0,30}"),
            cbor in proptest::bool::ANY,
            form in proptest::bool::ANY,
            body in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..120),
            action in proptest::option::of("(DescribeVpcs|ListUsers|[A-Za-z]{0,12})"),
            signing in proptest::sample::select(vec![
                "s3", "ec2", "iam", "sqs", "lambda", "monitoring", "elasticloadbalancing",
                "dynamodb", "execute-api", "no-such", "",
            ]),
        ) {
            let mut headers = Vec::new();
            if let Some(t) = target {
                headers.push(("X-Amz-Target".to_string(), t));
            }
            if cbor {
                headers.push(("smithy-protocol".to_string(), "rpc-v2-cbor".to_string()));
            }
            if form {
                headers.push(("Content-Type".to_string(), "application/x-www-form-urlencoded".to_string()));
            }
            let mut body = body;
            if let Some(a) = action {
                body.extend(format!("&Action={a}&Version=2016-11-15").bytes());
            }
            let r = InboundRequest { method: &method, path: &path, query: &query, headers: &headers, body: &body };
            let _ = r.apparent_protocol();
            if let Ok(id) = shared_router().identify(signing, &r) {
                proptest::prop_assert!(id.model.operations.contains_key(&id.operation)
                    || id.model.operations.values().any(|o| o.name == id.operation));
            }
        }
    }

    #[test]
    fn a_very_long_path_is_matched_in_linear_time() {
        let r = shared_router();
        let path = format!("/bucket{}", "/a".repeat(20_000));
        let started = std::time::Instant::now();
        assert_eq!(id(r, "s3", req("GET", &path, "", &[], b"")).1, "GetObject");
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
    }

    #[test]
    fn templates_parse() {
        let route = Route::parse("GetObject", "GET", "/{Bucket}/{Key+}?x-id=GetObject");
        assert_eq!(route.query, vec![("x-id".into(), Some("GetObject".into()))]);
        assert_eq!(route.segments.len(), 2);
        let seg = |s: &str| s.to_string();
        let route = Route::parse("X", "POST", "/v1/{name}:cancel");
        assert!(route.matches("POST", &[seg("v1"), seg("job:cancel")], &[], false));
        assert!(!route.matches("POST", &[seg("v1"), seg(":cancel")], &[], false));
    }
}
