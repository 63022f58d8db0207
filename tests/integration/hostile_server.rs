//! A hostile HTTP server behind `--endpoint-url` (issue 15): it answers with whatever a
//! scenario function says and records every request exactly as it arrived on the wire.
//! Each scenario is a plain function from the request to the answer, so a new attack is a
//! new function and a test that runs mrhost against it.
//!
//! Covered here: item 2 (responses and error bodies nested 20,000 deep, in XML and JSON,
//! S3 ListBuckets included: the scope that got them fails with a one-line error and the
//! other scopes still print) and item 10 (path labels and header values as sent: `..`
//! never reaches the wire as a path step, non-ASCII header values are refused before
//! anything is sent).

use std::io::{BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

use crate::common::*;

/// One request as the server read it.
#[derive(Debug, Clone)]
pub struct Request {
    /// `GET /path?query HTTP/1.1`
    pub line: String,
    /// Header lines as sent (name and value), in order.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The region from the SigV4 credential scope.
    pub fn region(&self) -> String {
        self.header("authorization")
            .and_then(|a| a.split("Credential=").nth(1))
            .and_then(|c| c.split('/').nth(2))
            .unwrap_or("unknown")
            .to_string()
    }

    pub fn path(&self) -> &str {
        self.line.split(' ').nth(1).unwrap_or_default()
    }

    pub fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// What the server sends back.
pub struct Response {
    pub status: u16,
    pub content_type: &'static str,
    pub body: Vec<u8>,
}

impl Response {
    pub fn new(status: u16, content_type: &'static str, body: impl Into<Vec<u8>>) -> Response {
        Response {
            status,
            content_type,
            body: body.into(),
        }
    }
}

/// A scenario: the answer to one request.
pub type Scenario = fn(&Request) -> Response;

pub struct HostileServer {
    pub url: String,
    pub requests: Arc<Mutex<Vec<Request>>>,
}

impl HostileServer {
    /// Serve `scenario` on a loopback port until the test process ends. STS
    /// GetCallerIdentity (asked before the fan-out) is answered normally.
    pub fn start(scenario: Scenario) -> HostileServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let seen = requests.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let seen = seen.clone();
                std::thread::spawn(move || serve(stream, scenario, &seen));
            }
        });
        HostileServer { url, requests }
    }

    /// The requests other than STS's.
    pub fn recorded(&self) -> Vec<Request> {
        self.requests
            .lock()
            .expect("lock")
            .iter()
            .filter(|r| !r.body_text().contains("Action=GetCallerIdentity"))
            .cloned()
            .collect()
    }
}

fn serve(mut stream: TcpStream, scenario: Scenario, seen: &Mutex<Vec<Request>>) {
    let Ok(clone) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(clone);
    let Some((head, body)) = read_request(&mut reader) else {
        return;
    };
    let line = head
        .first()
        .map(|l| l.trim_end().to_string())
        .unwrap_or_default();
    let headers = head
        .iter()
        .skip(1)
        .filter_map(|l| l.trim_end().split_once(':'))
        .map(|(k, v)| (k.to_string(), v.trim().to_string()))
        .collect();
    let req = Request {
        line,
        headers,
        body,
    };
    seen.lock().expect("lock").push(req.clone());
    let resp = if req.body_text().contains("Action=GetCallerIdentity") {
        Response::new(
            200,
            "text/xml",
            "<GetCallerIdentityResponse><GetCallerIdentityResult><Arn>arn:aws:iam::123456789012:user/t</Arn><UserId>AID</UserId><Account>123456789012</Account></GetCallerIdentityResult></GetCallerIdentityResponse>",
        )
    } else {
        scenario(&req)
    };
    let _ = write!(
        stream,
        "HTTP/1.1 {} X\r\nContent-Type: {}\r\nContent-Length: {}\r\nx-amzn-requestid: hostile\r\nConnection: close\r\n\r\n",
        resp.status,
        resp.content_type,
        resp.body.len()
    );
    let _ = stream.write_all(&resp.body);
}

const DEEP: usize = 20_000;

fn deep_xml(open: &str, close: &str) -> String {
    let mut s = String::with_capacity(DEEP * 8);
    s.push_str(open);
    s.push_str(&"<item>".repeat(DEEP));
    s.push_str(&"</item>".repeat(DEEP));
    s.push_str(close);
    s
}

fn vpcs_xml() -> String {
    "<DescribeVpcsResponse><requestId>r</requestId><vpcSet><item><vpcId>vpc-good</vpcId><state>available</state><cidrBlock>10.0.0.0/16</cidrBlock><isDefault>false</isDefault></item></vpcSet></DescribeVpcsResponse>".into()
}

/// eu-west-1 answers DescribeVpcs 20,000 elements deep; other regions normally.
fn deep_vpcs(req: &Request) -> Response {
    if req.region() == "eu-west-1" {
        Response::new(
            200,
            "text/xml",
            deep_xml(
                "<DescribeVpcsResponse><vpcSet>",
                "</vpcSet></DescribeVpcsResponse>",
            ),
        )
    } else {
        Response::new(200, "text/xml", vpcs_xml())
    }
}

/// eu-west-1 answers with an error body 20,000 deep; other regions normally.
fn deep_error_body(req: &Request) -> Response {
    if req.region() == "eu-west-1" {
        Response::new(
            400,
            "text/xml",
            deep_xml(
                "<Response><Errors><Error><Code>Deep</Code>",
                "</Error></Errors></Response>",
            ),
        )
    } else {
        Response::new(200, "text/xml", vpcs_xml())
    }
}

/// CloudWatch Logs (JSON): eu-west-1's body and error body are 20,000 deep.
fn deep_json(req: &Request) -> Response {
    let deep = format!("{{\"logGroups\":{}{}}}", "[".repeat(DEEP), "]".repeat(DEEP));
    match req.region().as_str() {
        "eu-west-1" => Response::new(200, "application/x-amz-json-1.1", deep),
        "eu-west-2" => Response::new(400, "application/x-amz-json-1.1", deep),
        _ => Response::new(
            200,
            "application/x-amz-json-1.1",
            r#"{"logGroups":[{"logGroupName":"good","arn":"arn:aws:logs:eu-west-3:123456789012:log-group:good"}]}"#,
        ),
    }
}

/// S3 ListBuckets 20,000 deep in eu-west-1.
fn deep_list_buckets(req: &Request) -> Response {
    if req.region() == "us-east-1" {
        Response::new(
            200,
            "application/xml",
            deep_xml(
                "<ListAllMyBucketsResult><Buckets>",
                "</Buckets></ListAllMyBucketsResult>",
            ),
        )
    } else {
        Response::new(
            200,
            "application/xml",
            "<ListAllMyBucketsResult><Owner><ID>o</ID></Owner><Buckets><Bucket><Name>good-bucket</Name><CreationDate>2024-01-01T00:00:00.000Z</CreationDate></Bucket></Buckets></ListAllMyBucketsResult>",
        )
    }
}

/// Any request: an empty success (the tests look at what was sent).
fn record_only(_req: &Request) -> Response {
    Response::new(200, "application/xml", "")
}

fn regions_call(server: &HostileServer, service: &str, op: &str, regions: &str) -> Run {
    mrhost(&[
        "call",
        service,
        op,
        "--regions",
        regions,
        "--endpoint-url",
        &server.url,
        "--max-attempts",
        "1",
    ])
}

/// The run failed (non-zero exit), printed the good regions, and said why the bad ones
/// failed in one line each, naming the nesting.
fn bad_scopes_fail_alone(run: &Run, bad: &[&str], good: &[&str]) {
    assert_ne!(run.code, 0, "a scope failed: {}", run.stderr);
    assert!(
        !run.stderr.contains("overflow"),
        "no stack overflow: {}",
        run.stderr
    );
    let out = run.by_region();
    for g in good {
        assert!(out.get(*g).is_some(), "{g} printed: {}", run.stdout);
    }
    for b in bad {
        let line = run
            .stderr
            .lines()
            .find(|l| l.contains(b) && l.contains("nested deeper than"))
            .unwrap_or_else(|| panic!("no one-line error for {b}: {}", run.stderr));
        assert!(line.len() < 400, "one short line: {line}");
    }
}

#[test]
fn deep_xml_responses_fail_their_scope_only() {
    let server = HostileServer::start(deep_vpcs);
    let run = regions_call(&server, "ec2", "DescribeVpcs", "eu-west-1,eu-west-2");
    bad_scopes_fail_alone(&run, &["eu-west-1"], &["eu-west-2"]);
    assert_eq!(run.by_region()["eu-west-2"]["Vpcs"][0]["VpcId"], "vpc-good");
}

#[test]
fn deep_xml_error_bodies_fail_their_scope_only() {
    let server = HostileServer::start(deep_error_body);
    let run = regions_call(&server, "ec2", "DescribeVpcs", "eu-west-1,eu-west-2");
    bad_scopes_fail_alone(&run, &["eu-west-1"], &["eu-west-2"]);
}

#[test]
fn deep_json_bodies_and_error_bodies_fail_their_scope_only() {
    let server = HostileServer::start(deep_json);
    let run = regions_call(
        &server,
        "logs",
        "DescribeLogGroups",
        "eu-west-1,eu-west-2,eu-west-3",
    );
    bad_scopes_fail_alone(&run, &["eu-west-1", "eu-west-2"], &["eu-west-3"]);
    assert_eq!(
        run.by_region()["eu-west-3"]["logGroups"][0]["logGroupName"],
        "good"
    );
}

#[test]
fn deep_s3_list_buckets_fails_its_scope_only() {
    let server = HostileServer::start(deep_list_buckets);
    // ListBuckets is account-wide: it runs once per account, in us-east-1 (the deep one).
    let run = regions_call(&server, "s3", "ListBuckets", "eu-west-1,eu-west-2");
    bad_scopes_fail_alone(&run, &["us-east-1"], &[]);
    assert_eq!(run.by_region(), serde_json::json!({}));
}

/// Item 10: `..` in a label never goes out as a path step — greedy (an S3 key) or not (a
/// Lambda function name).
#[test]
fn dot_segments_in_labels_are_sent_encoded() {
    let server = HostileServer::start(record_only);
    let key = "../../../2015-03-31/functions/victim/invocations";
    let params = serde_json::json!({"Bucket": "redteam-bucket", "Key": key}).to_string();
    let _ = mrhost(&[
        "call",
        "s3",
        "HeadObject",
        "--params",
        &params,
        "--regions",
        "us-east-1",
        "--endpoint-url",
        &server.url,
        "--max-attempts",
        "1",
    ]);
    let params = serde_json::json!({"FunctionName": ".."}).to_string();
    let _ = mrhost(&[
        "call",
        "lambda",
        "GetFunction",
        "--allow",
        "secret",
        "--params",
        &params,
        "--regions",
        "us-east-1",
        "--endpoint-url",
        &server.url,
        "--max-attempts",
        "1",
    ]);
    let paths: Vec<String> = server
        .recorded()
        .iter()
        .map(|r| r.path().to_string())
        .collect();
    assert!(
        paths.contains(
            &"/redteam-bucket/%2E%2E/%2E%2E/%2E%2E/2015-03-31/functions/victim/invocations"
                .to_string()
        ),
        "{paths:?}"
    );
    assert!(
        paths.contains(&"/2015-03-31/functions/%2E%2E".to_string()),
        "{paths:?}"
    );
    for p in &paths {
        assert!(
            !p.split('/').any(|seg| seg == ".." || seg == "."),
            "a dot segment went out: {p}"
        );
    }
    // HEAD and GET carry no Content-Length, as botocore sends them.
    for r in server.recorded() {
        assert!(r.header("content-length").is_none(), "{}", r.line);
    }
}

/// Item 10: header values go out exactly as signed — an ASCII value is in the signed
/// headers; a non-ASCII one is refused with one line before anything is sent.
#[test]
fn header_values_are_signed_as_sent_or_refused() {
    let server = HostileServer::start(record_only);
    let call = |if_match: &str| {
        let params =
            serde_json::json!({"Bucket": "b", "Key": "k", "IfMatch": if_match}).to_string();
        mrhost(&[
            "call",
            "s3",
            "HeadObject",
            "--params",
            &params,
            "--regions",
            "us-east-1",
            "--endpoint-url",
            &server.url,
            "--max-attempts",
            "1",
        ])
    };
    let _ = call("\"etag-1\"");
    let sent = server.recorded();
    let req = sent.last().expect("the ASCII request was sent");
    assert_eq!(req.header("if-match"), Some("\"etag-1\""));
    let auth = req.header("authorization").unwrap_or_default();
    assert!(auth.contains("if-match"), "if-match is signed: {auth}");
    let before = server.recorded().len();
    let run = call("caf\u{e9}");
    assert_ne!(run.code, 0);
    assert!(
        run.stderr.contains("IfMatch") || run.stderr.contains("If-Match"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("non-ASCII"), "{}", run.stderr);
    assert_eq!(server.recorded().len(), before, "nothing was sent");
}

/// A CBOR-only service (eventbridgev2) answers {"EventBuses": [{"Name": "bus-1",
/// "CreationTime": 1(1700000000)}]} in CBOR.
fn cbor_event_buses(_req: &Request) -> Response {
    let mut b = vec![0xa1];
    b.push(0x60 | 10);
    b.extend_from_slice(b"EventBuses");
    b.extend_from_slice(&[0x81, 0xa2, 0x64]);
    b.extend_from_slice(b"Name");
    b.push(0x65);
    b.extend_from_slice(b"bus-1");
    b.push(0x6c);
    b.extend_from_slice(b"CreationTime");
    b.extend_from_slice(&[0xc1, 0x1a, 0x65, 0x53, 0xf1, 0x00]);
    Response::new(200, "application/cbor", b)
}

/// smithy-rpc-v2-cbor end to end through `mrhost call`: the request as botocore sends it
/// (path, smithy-protocol, CBOR body) and the CBOR answer as boto3 shows it.
#[test]
fn a_cbor_only_service_works_end_to_end() {
    let server = HostileServer::start(cbor_event_buses);
    let run = mrhost(&[
        "call",
        "eventbridgev2",
        "ListEventBuses",
        "--regions",
        "eu-west-1",
        "--endpoint-url",
        &server.url,
        "--no-paginate",
    ])
    .ok();
    let out = run.by_region();
    assert_eq!(
        out["eu-west-1"],
        serde_json::json!({"EventBuses": [{"Name": "bus-1", "CreationTime": "2023-11-14T22:13:20+00:00"}]})
    );
    let sent = server.recorded();
    let req = sent.first().expect("a request");
    assert_eq!(
        req.line,
        "POST /service/AWSEventsV2/operation/ListEventBuses HTTP/1.1"
    );
    assert_eq!(req.header("smithy-protocol"), Some("rpc-v2-cbor"));
    assert_eq!(req.header("content-type"), Some("application/cbor"));
    assert_eq!(req.header("accept"), Some("application/cbor"));
    assert_eq!(req.body, vec![0xa0], "an empty CBOR map");
    assert_eq!(req.header("content-length"), Some("1"));
}
