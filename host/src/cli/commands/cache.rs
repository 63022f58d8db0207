//! `mrhost cache stats|clear`: the response cache.

use std::time::Duration;

use anyhow::Result;
use aws_engine::cache::{CacheMode, ResponseCache};

use crate::cli::args::CacheCommand;
use crate::cli::{exit, setup};
use crate::render;

/// `cache stats` or `cache clear`.
pub async fn cache(cmd: CacheCommand) -> Result<i32> {
    let c = ResponseCache::open(
        &setup::response_cache_path(),
        Duration::from_secs(300),
        CacheMode::Normal,
        // What --cache-max-mib defaults to: the bound runs apply (shown by `stats`).
        crate::cli::args::DEFAULT_CACHE_MAX_MIB << 20,
    )
    .map_err(|e| anyhow::anyhow!(e))?;
    match cmd {
        CacheCommand::Stats => render::write_pretty(&mut std::io::stdout().lock(), &c.stats())?,
        CacheCommand::Clear => {
            let n = c.clear().map_err(|e| anyhow::anyhow!(e))?;
            eprintln!("mrhost: removed {n} cached responses");
        }
    }
    Ok(exit::OK)
}
