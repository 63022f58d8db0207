//! Hostile test plugin: looks for anything the sandbox might leak — environment, arguments,
//! files, directories, sockets, name lookup — and emits what it found as one resource.
use mrhost_plugin_sdk::prelude::*;

struct HostileSnoop;

fn attempt<T: std::fmt::Debug, E: std::fmt::Display>(r: Result<T, E>) -> String {
    match r {
        Ok(v) => format!("OK: {v:?}"),
        Err(e) => format!("ERR: {e}"),
    }
}

impl Plugin for HostileSnoop {
    fn manifest() -> PluginManifest {
        manifest("hostile-snoop", "test:report")
            .operation("ec2:DescribeVpcs")
            .build()
    }

    fn collect(scope: Scope) -> Result<(), Error> {
        let env: Vec<(String, String)> = std::env::vars().collect();
        let args: Vec<String> = std::env::args().collect();
        let files: Vec<String> = [
            "/proc/self/environ",
            "/etc/passwd",
            "/root/.aws/credentials",
            ".aws/credentials",
            "credentials",
            ".",
            "/",
        ]
        .iter()
        .map(|p| format!("{p} -> {}", attempt(std::fs::read(p).map(|b| b.len()))))
        .collect();
        let dirs = attempt(std::fs::read_dir("/").map(|d| d.count()));
        let cwd = attempt(std::env::current_dir());
        let tcp: Vec<String> = ["127.0.0.1:22", "169.254.169.254:80"]
            .iter()
            .map(|a| format!("{a} -> {}", attempt(std::net::TcpStream::connect(*a))))
            .collect();
        let udp = attempt(std::net::UdpSocket::bind("127.0.0.1:0"));
        let dns = attempt(
            std::net::ToSocketAddrs::to_socket_addrs("instance-data:80").map(|a| a.count()),
        );
        let clock = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() > 0)
            .unwrap_or(false);
        // Everything the AWS interface hands over, too.
        let response = call("ec2", "DescribeVpcs", json!({}))?;
        emit(&json!({
            "scope": {"account": scope.account().unwrap_or_default(), "region": scope.region, "partition": scope.partition},
            "env": env, "args": args, "files": files, "root_dir": dirs, "cwd": cwd,
            "tcp": tcp, "udp": udp, "dns": dns, "wall_clock_available": clock,
            "response": response,
        }));
        Ok(())
    }
}

export_plugin!(HostileSnoop);
