//! Every reader of data from outside — JSON, XML and CBOR response bodies and error bodies
//! of every protocol, and the params validator — against random, truncated, deeply nested
//! and oversized input: no panic, no stack overflow, and memory within a bound (this test
//! binary counts every allocation). Property tests run a fixed number of cases so CI stays
//! quick (`PROPTEST_CASES` raises it).

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use aws_engine::model::ServiceModel;
use aws_engine::protocol::{self, WireResponse};
use aws_engine::EngineError;
use proptest::prelude::*;
use serde_json::{json, Value};

/// Counts live and peak heap bytes.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded as is to the system allocator.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let now = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(now, Ordering::Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded as is to the system allocator.
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// The most a parse may hold at once beyond what was live before it, for a body of `len`
/// bytes: generous for the values built, far below anything a length field could claim.
fn bound(len: usize) -> usize {
    64 * len + (16 << 20)
}

/// Run `f`, failing if the heap grows past `bound(len)` during it. (Other tests of this
/// binary run in parallel and count too, so the bound is loose on purpose.)
fn within_memory<T>(len: usize, f: impl FnOnce() -> T) -> T {
    let before = LIVE.load(Ordering::Relaxed);
    PEAK.store(before, Ordering::Relaxed);
    let out = f();
    let grew = PEAK.load(Ordering::Relaxed).saturating_sub(before);
    assert!(
        grew <= bound(len) + (32 << 20),
        "a {len}-byte body took {grew} bytes"
    );
    out
}

/// A small service in `protocol` whose output is recursive (a structure holding a list
/// and a map of itself) with every scalar type, plus a modeled error.
fn model(protocol: &str) -> ServiceModel {
    let service = json!({
        "metadata": {"apiVersion": "2020-01-01", "protocol": protocol, "jsonVersion": "1.0",
                     "targetPrefix": "T", "endpointPrefix": "t"},
        "operations": {"Op": {"name": "Op", "http": {"method": "POST", "requestUri": "/op"},
                               "input": {"shape": "Node", "locationName": "Op"},
                               "output": {"shape": "Node"},
                               "errors": [{"shape": "Bad"}]}},
        "shapes": {
            "Node": {"type": "structure", "members": {
                "Name": {"shape": "Str"}, "Count": {"shape": "Int"}, "Ratio": {"shape": "Dbl"},
                "On": {"shape": "Bool"}, "When": {"shape": "Time"}, "Data": {"shape": "Blob"},
                "Kids": {"shape": "Nodes"}, "ByName": {"shape": "NodeMap"}, "Next": {"shape": "Node"},
                "Pick": {"shape": "Choice"}
            }},
            "Nodes": {"type": "list", "member": {"shape": "Node"}},
            "NodeMap": {"type": "map", "key": {"shape": "Str"}, "value": {"shape": "Node"}},
            "Choice": {"type": "structure", "union": true, "members": {"A": {"shape": "Str"}, "B": {"shape": "Node"}}},
            "Bad": {"type": "structure", "exception": true, "error": {"code": "Bad", "httpStatusCode": 400},
                    "members": {"Message": {"shape": "Str"}, "Detail": {"shape": "Node"}}},
            "Str": {"type": "string"}, "Int": {"type": "integer"}, "Dbl": {"type": "double"},
            "Bool": {"type": "boolean"}, "Time": {"type": "timestamp"}, "Blob": {"type": "blob"}
        }
    });
    ServiceModel::from_json("t", service, json!({}), "test".into()).expect("test model")
}

const PROTOCOLS: &[&str] = &[
    "json",
    "rest-json",
    "rest-xml",
    "query",
    "ec2",
    "smithy-rpc-v2-cbor",
];

fn parse(model: &ServiceModel, status: u16, body: &[u8]) -> Result<Value, EngineError> {
    let op = model.operations.get("Op").expect("Op");
    let resp = WireResponse {
        status,
        headers: vec![],
        body: body.to_vec().into(),
    };
    within_memory(body.len(), || protocol::parse(model, op, &resp))
}

/// A body nested `depth` levels deep in the protocol's format.
fn deep_body(protocol: &str, depth: usize) -> Vec<u8> {
    match protocol {
        "json" | "rest-json" => {
            let mut s = String::new();
            for _ in 0..depth {
                s.push_str("{\"Next\":");
            }
            s.push_str("{}");
            s.push_str(&"}".repeat(depth));
            s.into_bytes()
        }
        "smithy-rpc-v2-cbor" => {
            // {"Next": {"Next": ... {}}}
            let mut b = Vec::new();
            for _ in 0..depth {
                b.extend_from_slice(&[0xa1, 0x64, b'N', b'e', b'x', b't']);
            }
            b.push(0xa0);
            b
        }
        _ => {
            let mut s = String::from("<OpResponse><OpResult>");
            s.push_str(&"<Next>".repeat(depth));
            s.push_str(&"</Next>".repeat(depth));
            s.push_str("</OpResult></OpResponse>");
            s.into_bytes()
        }
    }
}

/// Issue 15 item 2: a 20,000-deep response or error body is a one-line error, not a crash —
/// on a thread with half of tokio's default 2 MiB stack.
#[test]
fn twenty_thousand_deep_bodies_are_one_line_errors() {
    for proto in PROTOCOLS {
        std::thread::Builder::new()
            .stack_size(1 << 20)
            .spawn(move || deep_one(proto))
            .expect("thread")
            .join()
            .unwrap_or_else(|_| panic!("{proto} panicked"));
    }
}

fn deep_one(proto: &str) {
    {
        let m = model(proto);
        let body = deep_body(proto, 20_000);
        for status in [200, 400, 500] {
            let err = parse(&m, status, &body).expect_err(proto);
            let text = err.to_string();
            assert!(
                text.contains("nested deeper than"),
                "{proto} {status}: {text}"
            );
            assert!(!text.contains('\n'), "{proto}: {text}");
        }
        // Within the limit it reads.
        let ok = deep_body(proto, 40);
        assert!(parse(&m, 200, &ok).is_ok(), "{proto} 40 deep");
    }
}

/// The validator refuses params nested past the limit (a recursive shape would otherwise
/// follow them all the way down).
#[test]
fn deep_params_are_refused() {
    // Built and dropped on a thread with room: serde_json's own drop recurses.
    std::thread::Builder::new()
        .stack_size(256 << 20)
        .spawn(|| {
            let m = model("json");
            let op = m.operations.get("Op").expect("Op");
            let mut v = json!({});
            for _ in 0..20_000 {
                let mut m = serde_json::Map::new();
                m.insert("Next".into(), v);
                v = Value::Object(m);
            }
            let err = protocol::serialize(&m, op, &v).expect_err("deep params");
            assert!(err.to_string().contains("nested deeper than"), "{err}");
            let mut v = json!({});
            for _ in 0..50 {
                let mut m = serde_json::Map::new();
                m.insert("Kids".into(), Value::Array(vec![v]));
                v = Value::Object(m);
            }
            assert!(protocol::serialize(&m, op, &v).is_ok());
        })
        .expect("thread")
        .join()
        .expect("no panic");
}

/// A typical body of each protocol, for truncation and mutation.
fn typical(protocol: &str) -> Vec<u8> {
    match protocol {
        "json" | "rest-json" => br#"{"Name":"n","Count":3,"Ratio":1.5,"On":true,"When":1700000000,"Data":"aGk=","Kids":[{"Name":"k"}],"ByName":{"a":{"Count":1}},"Pick":{"A":"x"}}"#.to_vec(),
        "smithy-rpc-v2-cbor" => vec![
            0xa3, 0x64, b'N', b'a', b'm', b'e', 0x61, b'n', 0x65, b'C', b'o', b'u', b'n', b't',
            0x03, 0x64, b'K', b'i', b'd', b's', 0x9f, 0xa1, 0x64, b'N', b'a', b'm', b'e', 0x61,
            b'k', 0xff,
        ],
        _ => {
            let inner = "<Name>n</Name><Count>3</Count><Kids><member><Name>k</Name></member></Kids><ByName><entry><key>a</key><value><Count>1</Count></value></entry></ByName><Pick><A>x</A></Pick>";
            match protocol {
                "query" => format!("<OpResponse><OpResult>{inner}</OpResult></OpResponse>"),
                _ => format!("<OpResponse>{inner}</OpResponse>"),
            }
            .into_bytes()
        }
    }
}

fn error_typical(protocol: &str) -> Vec<u8> {
    match protocol {
        "json" | "rest-json" => br#"{"__type":"Bad","message":"m","Detail":{"Kids":[{"Name":"x"}]}}"#.to_vec(),
        "smithy-rpc-v2-cbor" => vec![
            0xa2, 0x66, b'_', b'_', b't', b'y', b'p', b'e', 0x63, b'B', b'a', b'd', 0x67, b'm',
            b'e', b's', b's', b'a', b'g', b'e', 0x61, b'm',
        ],
        "ec2" => b"<Response><Errors><Error><Code>Bad</Code><Message>m</Message><Detail><Name>x</Name></Detail></Error></Errors><RequestID>r</RequestID></Response>".to_vec(),
        _ => b"<ErrorResponse><Error><Code>Bad</Code><Message>m</Message><Detail><Name>x</Name></Detail></Error><RequestId>r</RequestId></ErrorResponse>".to_vec(),
    }
}

#[test]
fn typical_bodies_parse() {
    for proto in PROTOCOLS {
        let m = model(proto);
        let v = parse(&m, 200, &typical(proto)).unwrap_or_else(|e| panic!("{proto}: {e}"));
        assert_eq!(v["Name"], "n", "{proto}: {v}");
        match parse(&m, 400, &error_typical(proto)) {
            Err(EngineError::Service(e)) => {
                assert_eq!(
                    (e.code.as_str(), e.message.as_str()),
                    ("Bad", "m"),
                    "{proto}"
                );
                assert!(e.details.is_some(), "{proto}: modeled members");
            }
            other => panic!("{proto}: {other:?}"),
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Random bytes as a success or error body of every protocol.
    #[test]
    fn random_bodies_never_panic(body in proptest::collection::vec(any::<u8>(), 0..2048),
                                 status in prop::sample::select(vec![200u16, 400, 500, 503])) {
        for proto in PROTOCOLS {
            let _ = parse(&model(proto), status, &body);
        }
    }

    /// Every prefix-truncation and a byte mutation of typical bodies.
    #[test]
    fn truncated_and_mutated_bodies_never_panic(cut in 0usize..400, pos in 0usize..400, byte in any::<u8>()) {
        for proto in PROTOCOLS {
            let m = model(proto);
            for body in [typical(proto), error_typical(proto)] {
                let cut_body = &body[..cut.min(body.len())];
                let _ = parse(&m, 200, cut_body);
                let _ = parse(&m, 400, cut_body);
                let mut mutated = body.clone();
                if let Some(b) = mutated.get_mut(pos) {
                    *b = byte;
                }
                let _ = parse(&m, 200, &mutated);
                let _ = parse(&m, 400, &mutated);
            }
        }
    }

    /// Nesting of any depth up to far past the limits.
    #[test]
    fn any_depth_never_overflows(depth in 0usize..30_000) {
        for proto in PROTOCOLS {
            let m = model(proto);
            let r = parse(&m, 200, &deep_body(proto, depth));
            // Within the limits it reads: XML counts elements (two wrap the body here).
            let limit = if proto.contains("json") || proto.contains("cbor") {
                protocol::MAX_DEPTH - 1
            } else {
                protocol::MAX_XML_DEPTH - 2
            };
            if depth < limit {
                prop_assert!(r.is_ok(), "{} at {}: {:?}", proto, depth, r);
            }
        }
    }

    /// Length fields claiming far more than is there (CBOR) and huge repeated content.
    #[test]
    fn oversized_claims_stay_bounded(claim in any::<u64>(), major in prop::sample::select(vec![0x40u8, 0x60, 0x80, 0xa0])) {
        let mut body = vec![major | 27];
        body.extend_from_slice(&claim.to_be_bytes());
        body.extend_from_slice(&[0u8; 16]);
        let _ = parse(&model("smithy-rpc-v2-cbor"), 200, &body);
        let _ = parse(&model("smithy-rpc-v2-cbor"), 400, &body);
    }

    /// Random JSON params against the recursive input shape: a verdict, never a panic.
    #[test]
    fn random_params_never_panic(v in arb_json()) {
        for proto in PROTOCOLS {
            let m = model(proto);
            let op = m.operations.get("Op").expect("Op");
            let _ = protocol::serialize(&m, op, &v);
        }
    }
}

fn arb_json() -> impl Strategy<Value = Value> {
    let names = prop::sample::select(vec![
        "Name", "Count", "Ratio", "On", "When", "Data", "Kids", "ByName", "Next", "Pick", "A", "B",
        "zzz",
    ]);
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        "[a-z0-9:.\\-]{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(6, 64, 6, move |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            proptest::collection::vec((names.clone(), inner), 0..5).prop_map(|kv| {
                Value::Object(kv.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
            }),
        ]
    })
}
