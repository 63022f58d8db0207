//! Integration tests: mrhost against a real AWS-compatible server (moto on loopback), with
//! boto3 as the reference client. One test binary, so the host is linked once.

mod common;
mod ec2;
mod errors;
mod languages;
mod plugins;
