//! Integration tests: mrhost against a real AWS-compatible server (moto on loopback), with
//! boto3 as the reference client. One test binary, so the host is linked once.

mod bundled;
mod bundled_more;
mod common;
mod conformance;
mod ec2;
mod errors;
mod faults;
mod hostile_server;
mod languages;
mod list;
mod org;
mod plugins;
mod results;
mod sandbox;
mod serve;
mod services;
mod services_inventory;
mod trust;
