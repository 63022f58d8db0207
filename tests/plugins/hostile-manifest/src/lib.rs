//! Hostile test plugin: its `manifest()` never returns. The host must stop it at the
//! `--timeout` given, and say so with that value.
use mrhost_plugin_sdk::prelude::*;

struct HostileManifest;

impl Plugin for HostileManifest {
    fn manifest() -> PluginManifest {
        let mut n = 0u64;
        loop {
            n = std::hint::black_box(n.wrapping_add(1));
        }
    }

    fn collect(_scope: Scope) -> Result<(), Error> {
        Ok(())
    }
}

export_plugin!(HostileManifest);
