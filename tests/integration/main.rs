//! Integration tests: mrhost against a real AWS-compatible server (moto on loopback), with
//! boto3 as the reference client. One test binary, so the host is linked once.

mod bundled;
mod bundled_more;
mod bundled_new;
mod bundled_security;
mod common;
mod conformance;
mod contract;
mod deploy;
mod ec2;
mod errors;
mod faults;
mod hostile_server;
mod inventory;
mod languages;
mod list;
mod org;
mod plugins;
mod report;
mod results;
mod sandbox;
mod serve;
mod services;
mod services_inventory;
mod trust;
mod ux_outputs;
mod ux_scopes;
