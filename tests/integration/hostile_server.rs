//! A hostile HTTP server behind `--endpoint-url` (issue 15): it answers with whatever a
//! scenario function says and records every request exactly as it arrived on the wire.
//! Each scenario is a plain function from the request to the answer, so a new attack is a
//! new function and a test that runs mrhost against it.
//!
//! Covered here: item 2 (responses and error bodies nested 20,000 deep, in XML and JSON,
//! S3 ListBuckets included: the scope that got them fails with a one-line error and the
//! other scopes still print), item 4 (a 300 MB answer under `--max-response-mib 16`,
//! declared by its Content-Length or not: refused before parsing, not retried, the
//! process stays within a small multiple of the limit), item 5 (a server whose
//! pagination never ends — always a new token, or tokens A, B, A, B: `call` and `list`
//! stop at `--max-calls`, at `--timeout`, or at the first token seen twice) and item 10
//! (path labels and header values as sent: `..` never reaches the wire as a path step,
//! non-ASCII header values are refused before anything is sent).

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
    /// The body is sent this many times over: a large answer the server never holds.
    pub repeat: usize,
    /// Whether a Content-Length (of the whole body) is sent; without one the body ends
    /// when the connection closes.
    pub content_length: bool,
}

impl Response {
    pub fn new(status: u16, content_type: &'static str, body: impl Into<Vec<u8>>) -> Response {
        Response {
            status,
            content_type,
            body: body.into(),
            repeat: 1,
            content_length: true,
        }
    }

    /// The body sent `times` times over.
    pub fn repeated(mut self, times: usize) -> Response {
        self.repeat = times;
        self
    }

    /// No Content-Length: the body is read until the connection closes.
    pub fn without_length(mut self) -> Response {
        self.content_length = false;
        self
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
    let length = if resp.content_length {
        format!("Content-Length: {}\r\n", resp.body.len() * resp.repeat)
    } else {
        String::new()
    };
    let _ = write!(
        stream,
        "HTTP/1.1 {} X\r\nContent-Type: {}\r\n{length}x-amzn-requestid: hostile\r\nConnection: close\r\n\r\n",
        resp.status,
        resp.content_type,
    );
    // Until the client hangs up.
    for _ in 0..resp.repeat {
        if stream.write_all(&resp.body).is_err() {
            return;
        }
    }
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

/// An ordinary DescribeVpcs answer in every region.
fn plain_vpcs(_req: &Request) -> Response {
    Response::new(200, "text/xml", vpcs_xml())
}

/// One DescribeVpcs item, repeated into a 300 MB body.
const VPC_ITEM: &str =
    "<item><vpcId>vpc-00000000</vpcId><state>available</state><isDefault>false</isDefault></item>";
const HUGE_BYTES: usize = 300_000_000;

/// eu-west-1 answers DescribeVpcs with 300 MB, its Content-Length saying so; other
/// regions normally.
fn huge_declared_vpcs(req: &Request) -> Response {
    if req.region() == "eu-west-1" {
        Response::new(200, "text/xml", VPC_ITEM).repeated(HUGE_BYTES / VPC_ITEM.len())
    } else {
        Response::new(200, "text/xml", vpcs_xml())
    }
}

/// eu-west-1 streams 300 MB of DescribeVpcs without a Content-Length (the body ends when
/// the connection does); other regions normally.
fn huge_streamed_vpcs(req: &Request) -> Response {
    huge_declared_vpcs(req).without_length()
}

/// The requests one region received.
fn sent_to(server: &HostileServer, region: &str) -> usize {
    server
        .recorded()
        .iter()
        .filter(|r| r.region() == region)
        .count()
}

/// The one stderr line about `region`'s scope, checked to be short.
fn scope_line<'a>(run: &'a Run, region: &str) -> &'a str {
    let line = run
        .stderr
        .lines()
        .find(|l| l.contains(region) && l.contains("error"))
        .unwrap_or_else(|| panic!("no error line for {region}: {}", run.stderr));
    assert!(line.len() < 300, "one short line: {line}");
    line
}

/// Item 4: 300 MB under `--max-response-mib 16` fails that scope — refused by its
/// Content-Length before a byte of the body is read, or cut off as soon as it streams past
/// 16 MiB — before parsing, without a retry, and the process never grows by more than
/// three times the limit over an ordinary run; the other region's answer prints. `run`
/// gets the same limit from the same flag.
#[test]
fn oversized_responses_fail_their_scope_before_parsing_in_bounded_memory() {
    let limit_mib = 16u64;
    let args = |url: &str| -> Vec<String> {
        [
            "call",
            "ec2",
            "DescribeVpcs",
            "--regions",
            "eu-west-1,eu-west-2",
            "--endpoint-url",
            url,
            "--max-response-mib",
            "16",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    };
    let baseline = HostileServer::start(plain_vpcs);
    let argv = args(&baseline.url);
    let (run, baseline_kib) =
        mrhost_measured(&argv.iter().map(String::as_str).collect::<Vec<_>>(), |_| {});
    let run = run.ok();
    assert_eq!(run.by_region()["eu-west-1"]["Vpcs"][0]["VpcId"], "vpc-good");
    for (scenario, declared) in [
        (huge_declared_vpcs as Scenario, true),
        (huge_streamed_vpcs as Scenario, false),
    ] {
        let server = HostileServer::start(scenario);
        let argv = args(&server.url);
        let (run, peak_kib) =
            mrhost_measured(&argv.iter().map(String::as_str).collect::<Vec<_>>(), |_| {});
        assert_eq!(run.code, 3, "partial: {}", run.stderr);
        assert_eq!(run.by_region()["eu-west-2"]["Vpcs"][0]["VpcId"], "vpc-good");
        let line = scope_line(&run, "eu-west-1");
        assert!(
            line.contains("larger than the limit of 16 MiB"),
            "names the limit: {line}"
        );
        assert_eq!(
            line.contains(&format!(
                "Content-Length {}",
                HUGE_BYTES / VPC_ITEM.len() * VPC_ITEM.len()
            )),
            declared,
            "{line}"
        );
        assert_eq!(sent_to(&server, "eu-west-1"), 1, "not retried");
        let grown_mib = peak_kib.saturating_sub(baseline_kib) / 1024;
        eprintln!(
            "declared={declared}: peak {} MiB, baseline {} MiB, took {:?}",
            peak_kib / 1024,
            baseline_kib / 1024,
            run.elapsed
        );
        assert!(
            grown_mib <= 3 * limit_mib,
            "grew {grown_mib} MiB over an ordinary run (limit {limit_mib} MiB)"
        );
    }
}

/// Item 4, for a plugin's scope: `run`'s `--max-response-mib` reaches the engine, so a
/// 300 MB answer streamed without a Content-Length fails that scope before parsing, in
/// bounded memory, and the other region's resources print.
#[test]
fn oversized_responses_fail_a_plugin_scope_before_parsing_in_bounded_memory() {
    let limit_mib = 16u64;
    let baseline = HostileServer::start(plain_vpcs);
    let (_, baseline_kib) = mrhost_measured(
        &[
            "call",
            "ec2",
            "DescribeVpcs",
            "--regions",
            "eu-west-1,eu-west-2",
            "--endpoint-url",
            &baseline.url,
        ],
        |_| {},
    );
    let server = HostileServer::start(huge_streamed_vpcs);
    let vpcs = plugin("vpcs");
    let (run, peak_kib) = mrhost_measured(
        &[
            "run",
            path_str(&vpcs),
            "--regions",
            "eu-west-1,eu-west-2",
            "--endpoint-url",
            &server.url,
            "--max-response-mib",
            "16",
            "-o",
            "json",
        ],
        |_| {},
    );
    assert_eq!(run.code, 3, "partial: {}", run.stderr);
    assert!(run.stdout.contains("vpc-good"), "{}", run.stdout);
    let line = scope_line(&run, "eu-west-1");
    assert!(line.contains("larger than the limit of 16 MiB"), "{line}");
    assert!(
        peak_kib.saturating_sub(baseline_kib) / 1024 <= 3 * limit_mib + 64,
        "plugin run peak {} MiB",
        peak_kib / 1024
    );
}

/// The nextToken a logs request asked with (none on the first page).
fn asked_token(req: &Request) -> Option<String> {
    serde_json::from_slice::<serde_json::Value>(&req.body)
        .ok()?
        .get("nextToken")?
        .as_str()
        .map(str::to_string)
}

fn log_groups_page(region: &str, name: &str, next: Option<String>) -> Response {
    let mut page = serde_json::json!({"logGroups": [{
        "logGroupName": name,
        "arn": format!("arn:aws:logs:{region}:123456789012:log-group:{name}"),
    }]});
    if let Some(t) = next {
        page["nextToken"] = serde_json::Value::String(t);
    }
    Response::new(200, "application/x-amz-json-1.1", page.to_string())
}

/// Item 5: eu-west-1's DescribeLogGroups always has a next page (token n answers n + 1);
/// eu-west-2 answers one page.
fn endless_log_groups(req: &Request) -> Response {
    if req.region() == "eu-west-1" {
        let n: u64 = asked_token(req).and_then(|t| t.parse().ok()).unwrap_or(0);
        log_groups_page("eu-west-1", &format!("g{n}"), Some((n + 1).to_string()))
    } else {
        log_groups_page("eu-west-2", "good", None)
    }
}

/// Item 5: eu-west-1's tokens go A, B, A, B...; eu-west-2 answers one page.
fn looping_log_groups(req: &Request) -> Response {
    if req.region() == "eu-west-1" {
        let next = match asked_token(req).as_deref() {
            Some("A") => "B",
            _ => "A",
        };
        log_groups_page("eu-west-1", "looping", Some(next.into()))
    } else {
        log_groups_page("eu-west-2", "good", None)
    }
}

fn logs_call(server: &HostileServer, extra: &[&str]) -> Run {
    let mut args = vec![
        "call",
        "logs",
        "DescribeLogGroups",
        "--regions",
        "eu-west-1,eu-west-2",
        "--endpoint-url",
        &server.url,
    ];
    args.extend_from_slice(extra);
    mrhost(&args)
}

fn logs_list(server: &HostileServer, extra: &[&str]) -> Run {
    let mut args = vec![
        "list",
        "logs",
        "log-groups",
        "--regions",
        "eu-west-1,eu-west-2",
        "--endpoint-url",
        &server.url,
        "-o",
        "json",
    ];
    args.extend_from_slice(extra);
    mrhost(&args)
}

/// `list`'s output holds eu-west-2's log group.
fn listed_good_group(run: &Run) -> bool {
    run.json().as_array().is_some_and(|items| {
        items
            .iter()
            .any(|i| i["logGroupName"] == "good" && i["RequestRegion"] == "eu-west-2")
    })
}

/// Item 5: against tokens that never end, `call` and `list` stop at `--max-calls`: the
/// scope fails with one line naming the flag after exactly that many requests, and the
/// other region's result is complete.
#[test]
fn endless_pagination_stops_at_the_call_limit() {
    let server = HostileServer::start(endless_log_groups);
    let run = logs_call(&server, &["--max-calls", "50"]);
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert_eq!(
        run.by_region()["eu-west-2"]["logGroups"][0]["logGroupName"],
        "good"
    );
    let line = scope_line(&run, "eu-west-1");
    assert!(line.contains("call limit of 50 AWS calls"), "{line}");
    assert!(line.contains("--max-calls"), "{line}");
    assert_eq!(sent_to(&server, "eu-west-1"), 50);

    let server = HostileServer::start(endless_log_groups);
    let run = logs_list(&server, &["--max-calls", "50", "--timeout", "30"]);
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(listed_good_group(&run), "{}", run.stdout);
    let line = scope_line(&run, "eu-west-1");
    assert!(line.contains("--max-calls"), "{line}");
    assert_eq!(sent_to(&server, "eu-west-1"), 50);
}

/// Item 5: against tokens that never end, `call` and `list` stop at `--timeout`, with one
/// line naming it.
#[test]
fn endless_pagination_stops_at_the_time_limit() {
    for list in [false, true] {
        let server = HostileServer::start(endless_log_groups);
        let run = if list {
            logs_list(&server, &["--timeout", "2"])
        } else {
            logs_call(&server, &["--timeout", "2"])
        };
        assert_eq!(run.code, 3, "{}", run.stderr);
        let line = scope_line(&run, "eu-west-1");
        assert!(line.contains("time limit of 2 s"), "{line}");
        assert!(line.contains("--timeout"), "{line}");
        assert!(
            run.elapsed < std::time::Duration::from_secs(15),
            "stopped in time: {:?}",
            run.elapsed
        );
        if list {
            assert!(listed_good_group(&run), "{}", run.stdout);
        } else {
            assert_eq!(
                run.by_region()["eu-west-2"]["logGroups"][0]["logGroupName"],
                "good"
            );
        }
        assert!(sent_to(&server, "eu-west-1") > 2, "it was paging");
    }
}

/// Item 5: tokens A, B, A, B end the pagination at the first token seen before (not only a
/// token repeated back to back), after three requests, with one line.
#[test]
fn looping_tokens_end_the_pagination() {
    for list in [false, true] {
        let server = HostileServer::start(looping_log_groups);
        let run = if list {
            logs_list(&server, &[])
        } else {
            logs_call(&server, &[])
        };
        assert_eq!(run.code, 3, "{}", run.stderr);
        let line = scope_line(&run, "eu-west-1");
        assert!(
            line.contains("page 3's next token was already seen after page 1"),
            "{line}"
        );
        assert_eq!(sent_to(&server, "eu-west-1"), 3);
        if list {
            assert!(listed_good_group(&run), "{}", run.stdout);
        } else {
            assert_eq!(
                run.by_region()["eu-west-2"]["logGroups"][0]["logGroupName"],
                "good"
            );
        }
    }
}
