//! `mrhost plugins list|inspect|install|path`: what plugins there are, what one is, and
//! adding one to the search path.

use anyhow::Result;
use aws_engine::schema::Schema;
use serde_json::Value;

use crate::cli::args::{LoadArgs, PluginsCommand};
use crate::cli::{exit, plugin_path, print_document, setup, usage};
use crate::render;

/// `plugins list [DIR]`, `plugins inspect PLUGIN`, `plugins install FILE|URL`,
/// `plugins path`.
pub async fn plugins(cmd: PluginsCommand) -> Result<i32> {
    match cmd {
        PluginsCommand::Path => {
            for d in plugin_path::search_path() {
                let note = if d.is_dir() { "" } else { "\t(absent)" };
                println!("{}{note}", d.display());
            }
            Ok(exit::OK)
        }
        PluginsCommand::Install {
            source,
            sha256,
            force,
            sandbox,
        } => install(&source, sha256.as_deref(), force, &sandbox).await,
        PluginsCommand::List {
            dir,
            out,
            allow,
            no_compile_cache,
        } => {
            let sandbox = LoadArgs {
                plugin_sha256: None,
                manifest_timeout: 300,
                allow,
                no_compile_cache,
            };
            let models = aws_engine::Models::from_env()?;
            let grants = setup::grants(&models, &sandbox.allow)?.items();
            let runtime = setup::runtime(&sandbox)?;
            let mut rows = Vec::new();
            let dirs: Vec<std::path::PathBuf> = dir.into_iter().collect();
            for (_, path) in plugin_path::plugin_files(&dirs)? {
                match runtime.load(&path, &models, None, &grants).await {
                    Ok(p) => rows.push(serde_json::json!({
                        "name": p.manifest.name,
                        "resource_type": p.manifest.resource_type,
                        "scope": p.manifest.scope_kind,
                        "version": p.manifest.version,
                        "contract": p.contract().version(),
                        "operations": p.manifest.operations.len(),
                        "path": path.display().to_string(),
                    })),
                    Err(e) => tracing::warn!("{e}"),
                }
            }
            let format = out.output.clone().unwrap_or_else(render::default_format);
            print_document(&Value::Array(rows), &format, &out.columns)?;
            Ok(exit::OK)
        }
        PluginsCommand::Inspect { plugin, sandbox } => {
            let models = aws_engine::Models::from_env()?;
            let grants = setup::grants(&models, &sandbox.allow)?.items();
            let runtime = setup::runtime(&sandbox)?;
            let plugin = plugin_path::resolve(&plugin)?;
            let p = runtime
                .load(&plugin, &models, sandbox.plugin_sha256.as_deref(), &grants)
                .await?;
            let producers: serde_json::Map<String, Value> =
                p.producers
                    .iter()
                    .fold(serde_json::Map::new(), |mut m, (k, v)| {
                        if let Value::Array(list) =
                            m.entry(k.clone()).or_insert_with(|| Value::Array(vec![]))
                        {
                            list.push(Value::String(v.clone()));
                        }
                        m
                    });
            let info = serde_json::json!({
                "path": p.path.display().to_string(),
                "sha256": p.sha256,
                "manifest": p.manifest,
                // Each declared operation's class (docs/operation-classes.md).
                "classes": p.manifest.classes(),
                "producers": producers,
                "contract": p.contract(),
                "served": plugin_host::served(),
                "schema": {
                    "columns": p.manifest.columns(&models),
                    "references": p.manifest.references(&models),
                },
            });
            render::write_pretty(&mut std::io::stdout().lock(), &info)?;
            Ok(exit::OK)
        }
    }
}

/// Largest download `plugins install` accepts: the loader's own limit.
const MAX_DOWNLOAD: usize = plugin_host::MAX_PLUGIN_BYTES as usize;

/// `plugins install FILE|URL [--sha256 HEX]`: the bytes (a URL needs the pin), checked
/// against the pin, loaded as any plugin is (a component of a served contract whose
/// manifest passes the permission check), then written as `<manifest name>.wasm` into the
/// user's plugin directory, atomically (a temporary file renamed).
async fn install(source: &str, sha256: Option<&str>, force: bool, load: &LoadArgs) -> Result<i32> {
    use sha2::{Digest, Sha256};
    let want = match sha256 {
        Some(h) if h.len() == 64 && h.chars().all(|c| c.is_ascii_hexdigit()) => {
            Some(h.to_ascii_lowercase())
        }
        Some(h) => return usage(format!("--sha256 {h}: not 64 hexadecimal digits")),
        None => None,
    };
    let is_url = source.starts_with("https://") || source.starts_with("http://");
    if is_url && want.is_none() {
        return usage(format!(
            "plugins install {source}: a URL needs --sha256 HEX (the plugin's expected sha256)"
        ));
    }
    let Some(dir) = plugin_path::user_dir() else {
        anyhow::bail!("no HOME or XDG_DATA_HOME: nowhere to install plugins");
    };
    let bytes = if is_url {
        download(source).await?
    } else {
        let path = std::path::Path::new(source);
        let meta = std::fs::metadata(path)
            .map_err(|e| anyhow::anyhow!("plugins install {source}: {e}"))?;
        if !meta.is_file() || meta.len() > plugin_host::MAX_PLUGIN_BYTES {
            anyhow::bail!(
                "plugins install {source}: not a regular file of at most {} MiB",
                plugin_host::MAX_PLUGIN_BYTES >> 20
            );
        }
        std::fs::read(path).map_err(|e| anyhow::anyhow!("plugins install {source}: {e}"))?
    };
    let got = Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<String>();
    if let Some(want) = &want {
        if *want != got {
            anyhow::bail!("plugins install {source}: sha256 is {got}, not {want}: not installed");
        }
    }
    std::fs::create_dir_all(&dir)
        .map_err(|e| anyhow::anyhow!("creating {}: {e}", dir.display()))?;
    let tmp = dir.join(format!(".install-{}.wasm.tmp", std::process::id()));
    std::fs::write(&tmp, &bytes).map_err(|e| anyhow::anyhow!("writing {}: {e}", tmp.display()))?;
    let loaded = async {
        let models = aws_engine::Models::from_env()?;
        let grants = setup::grants(&models, &load.allow)?.items();
        let runtime = setup::runtime(load)?;
        let p = runtime.load(&tmp, &models, Some(&got), &grants).await?;
        anyhow::Ok(p.manifest.name.clone())
    }
    .await;
    let name = match loaded {
        Ok(n) => n,
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            return Err(e.context(format!("plugins install {source}: not installed")));
        }
    };
    let dest = dir.join(format!("{name}.wasm"));
    if dest.exists() && !force {
        let _ = std::fs::remove_file(&tmp);
        return usage(format!(
            "plugins install {source}: {} exists (--force replaces it)",
            dest.display()
        ));
    }
    std::fs::rename(&tmp, &dest)
        .map_err(|e| anyhow::anyhow!("installing {}: {e}", dest.display()))?;
    let shadowed: Vec<String> = plugin_path::existing(plugin_path::search_path())
        .iter()
        .take_while(|d| d.canonicalize().ok() != dir.canonicalize().ok())
        .filter(|d| d.join(format!("{name}.wasm")).is_file())
        .map(|d| d.display().to_string())
        .collect();
    eprintln!(
        "mrhost: installed {name} (sha256 {got}) as {}",
        dest.display()
    );
    if !shadowed.is_empty() {
        eprintln!(
            "mrhost: note: {name}.wasm earlier on the search path ({}) is used first",
            shadowed.join(", ")
        );
    }
    Ok(exit::OK)
}

/// GET a plugin over HTTP(S), at most [`MAX_DOWNLOAD`] bytes, a 2xx status only.
async fn download(url: &str) -> Result<Vec<u8>> {
    use http_body_util::BodyExt;
    let client = aws_engine::https_client()?;
    let req = http::Request::get(url)
        .header("user-agent", concat!("mrhost/", env!("CARGO_PKG_VERSION")))
        .body(http_body_util::Full::new(bytes::Bytes::new()))
        .map_err(|e| anyhow::anyhow!("plugins install {url}: {e}"))?;
    let resp = tokio::time::timeout(std::time::Duration::from_secs(300), async {
        let resp = client
            .request(req)
            .await
            .map_err(|e| anyhow::anyhow!("plugins install {url}: {e}"))?;
        let status = resp.status();
        if !status.is_success() {
            anyhow::bail!("plugins install {url}: HTTP {status}");
        }
        let body = http_body_util::Limited::new(resp.into_body(), MAX_DOWNLOAD)
            .collect()
            .await
            .map_err(|e| anyhow::anyhow!("plugins install {url}: {e}"))?;
        anyhow::Ok(body.to_bytes().to_vec())
    })
    .await
    .map_err(|_| anyhow::anyhow!("plugins install {url}: timed out after 300 s"))??;
    Ok(resp)
}
