//! Fault injection: a local EC2-speaking server that throttles, fails with 500s, resets
//! connections and stalls, in a scripted order. The result must still arrive complete; a
//! region throttled to exhaustion fails alone.

use std::io::{BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;

use crate::common::*;

#[derive(Debug, Clone, Copy)]
pub enum Fault {
    /// 503 RequestLimitExceeded (EC2's throttling code).
    Throttle,
    /// 500 InternalError.
    ServerError,
    /// Close the connection without answering.
    Reset,
    /// Answer only after this long.
    Stall(Duration),
    /// 401 OptInRequired, as EC2 answers in a region the account has not enabled.
    OptIn,
}

/// Per region: faults to apply, in order, to DescribeVpcs requests before answering
/// normally; `always` makes a region fail every time.
#[derive(Default)]
pub struct Script {
    pub faults: Vec<(String, Fault)>,
    pub always: Vec<(String, Fault)>,
}

pub struct FaultServer {
    pub url: String,
    pub describe_requests: Arc<AtomicUsize>,
}

const PAGE_SIZE: usize = 3;
const VPCS: usize = 5;

fn vpc_xml(i: usize) -> String {
    format!(
        "<item><vpcId>vpc-{i:04}</vpcId><state>available</state><cidrBlock>10.{i}.0.0/16</cidrBlock><isDefault>false</isDefault></item>"
    )
}

fn region_of(headers: &str) -> String {
    // Credential=AKID/20240101/eu-west-1/ec2/aws4_request
    headers
        .split("Credential=")
        .nth(1)
        .and_then(|c| c.split('/').nth(2))
        .unwrap_or("unknown")
        .to_string()
}

fn respond(stream: &mut TcpStream, status: &str, body: &str) {
    let _ = write!(
        stream,
        "HTTP/1.1 {status}\r\nContent-Type: text/xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
}

impl FaultServer {
    pub fn start(script: Script) -> FaultServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let script = Arc::new(Mutex::new(script));
        let count = Arc::new(AtomicUsize::new(0));
        let counter = count.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let script = script.clone();
                let counter = counter.clone();
                std::thread::spawn(move || handle(stream, &script, &counter));
            }
        });
        FaultServer {
            url,
            describe_requests: count,
        }
    }
}

fn handle(mut stream: TcpStream, script: &Mutex<Script>, counter: &AtomicUsize) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let Some((head, body)) = read_request(&mut reader) else {
        return;
    };
    let head = head.concat();
    let body = String::from_utf8_lossy(&body).to_string();
    if body.contains("Action=GetCallerIdentity") {
        respond(
            &mut stream,
            "200 OK",
            "<GetCallerIdentityResponse><GetCallerIdentityResult><Arn>arn:aws:iam::123456789012:user/t</Arn><UserId>AID</UserId><Account>123456789012</Account></GetCallerIdentityResult></GetCallerIdentityResponse>",
        );
        return;
    }
    counter.fetch_add(1, Ordering::SeqCst);
    let region = region_of(&head);
    let fault = {
        let mut s = script.lock().unwrap();
        match s.always.iter().find(|(r, _)| *r == region) {
            Some((_, f)) => Some(*f),
            None => s
                .faults
                .iter()
                .position(|(r, _)| *r == region)
                .map(|i| s.faults.remove(i).1),
        }
    };
    match fault {
        Some(Fault::Throttle) => respond(
            &mut stream,
            "503 Service Unavailable",
            "<Response><Errors><Error><Code>RequestLimitExceeded</Code><Message>Request limit exceeded.</Message></Error></Errors><RequestID>r</RequestID></Response>",
        ),
        Some(Fault::ServerError) => respond(
            &mut stream,
            "500 Internal Server Error",
            "<Response><Errors><Error><Code>InternalError</Code><Message>An internal error has occurred</Message></Error></Errors><RequestID>r</RequestID></Response>",
        ),
        Some(Fault::OptIn) => respond(
            &mut stream,
            "401 Unauthorized",
            "<Response><Errors><Error><Code>OptInRequired</Code><Message>You are not subscribed to this service.</Message></Error></Errors><RequestID>r</RequestID></Response>",
        ),
        Some(Fault::Reset) => drop(stream),
        Some(Fault::Stall(d)) => {
            std::thread::sleep(d);
            drop(stream);
        }
        None => {
            let start: usize = body
                .split('&')
                .find_map(|kv| kv.strip_prefix("NextToken="))
                .and_then(|t| t.parse().ok())
                .unwrap_or(0);
            let end = (start + PAGE_SIZE).min(VPCS);
            let items: String = (start..end).map(vpc_xml).collect();
            let token = if end < VPCS { format!("<nextToken>{end}</nextToken>") } else { String::new() };
            respond(
                &mut stream,
                "200 OK",
                &format!("<DescribeVpcsResponse><requestId>r</requestId><vpcSet>{items}</vpcSet>{token}</DescribeVpcsResponse>"),
            );
        }
    }
}

fn vpc_ids(v: &Value) -> Vec<String> {
    v["Vpcs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["VpcId"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn the_result_arrives_complete_through_throttles_errors_resets_and_stalls() {
    let script = Script {
        faults: vec![
            ("eu-west-1".into(), Fault::Throttle),
            ("eu-west-1".into(), Fault::ServerError),
            ("eu-west-1".into(), Fault::Reset),
            ("eu-west-1".into(), Fault::Stall(Duration::from_secs(3))),
            // (first page answered here)
            ("eu-west-1".into(), Fault::Throttle),
            // (second page answered here)
        ],
        always: vec![],
    };
    let server = FaultServer::start(script);
    let run = mrhost(&[
        "call",
        "ec2",
        "DescribeVpcs",
        "--regions",
        "eu-west-1",
        "--endpoint-url",
        &server.url,
        "--request-timeout",
        "1",
        "--max-attempts",
        "6",
        "-v",
    ])
    .ok();
    let out = run.by_region();
    assert_eq!(
        vpc_ids(&out["eu-west-1"]),
        ["vpc-0000", "vpc-0001", "vpc-0002", "vpc-0003", "vpc-0004"]
    );
    assert_eq!(
        server.describe_requests.load(Ordering::SeqCst),
        7,
        "5 faults + 2 pages"
    );
}

#[test]
fn a_region_throttled_to_exhaustion_fails_alone() {
    let script = Script {
        faults: vec![],
        always: vec![("eu-west-2".into(), Fault::Throttle)],
    };
    let server = FaultServer::start(script);
    let run = mrhost(&[
        "call",
        "ec2",
        "DescribeVpcs",
        "--regions",
        "eu-west-1,eu-west-2",
        "--endpoint-url",
        &server.url,
        "--max-attempts",
        "3",
    ]);
    assert_eq!(run.code, 3, "partial failure: {}", run.stderr);
    let out = run.by_region();
    assert_eq!(vpc_ids(&out["eu-west-1"]).len(), 5);
    assert!(out.get("eu-west-2").is_none());
    let errors: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| l.contains("error:"))
        .collect();
    assert_eq!(errors.len(), 1, "{}", run.stderr);
    assert!(
        errors[0].contains("eu-west-2") && errors[0].contains("RequestLimitExceeded"),
        "{}",
        errors[0]
    );

    // The same through a plugin: the other region's resources are all there.
    let vpcs = plugin("vpcs");
    let run = mrhost(&[
        "run",
        path_str(&vpcs),
        "--regions",
        "eu-west-1,eu-west-2",
        "--endpoint-url",
        &server.url,
        "--max-attempts",
        "2",
    ]);
    assert_eq!(run.code, 3, "{}", run.stderr);
    let items = run.json();
    assert_eq!(items.as_array().unwrap().len(), 5);
    assert!(
        run.stderr.contains("eu-west-2") && run.stderr.contains("RequestLimitExceeded"),
        "{}",
        run.stderr
    );
}

#[test]
fn ignored_error_codes_are_warnings_not_failures() {
    let script = Script {
        faults: vec![],
        always: vec![("ap-east-1".into(), Fault::OptIn)],
    };
    let server = FaultServer::start(script);
    let args = [
        "call",
        "ec2",
        "DescribeVpcs",
        "--regions",
        "eu-west-1,ap-east-1",
        "--endpoint-url",
        &server.url,
    ];
    let run = mrhost(&args);
    assert_eq!(
        run.code, 0,
        "OptInRequired is ignored by default: {}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("warning: ec2 DescribeVpcs 123456789012/ap-east-1 skipped")
            && run.stderr.contains("OptInRequired"),
        "{}",
        run.stderr
    );
    assert_eq!(vpc_ids(&run.by_region()["eu-west-1"]).len(), 5);
    // With the default set replaced, the same failure counts.
    let mut strict = args.to_vec();
    strict.extend(["--ignore-error-codes", "Throttl*"]);
    let run = mrhost(&strict);
    assert_eq!(run.code, 3, "{}", run.stderr);
}
