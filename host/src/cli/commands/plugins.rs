//! `mrhost plugins list|inspect`: what plugins there are, and what one is.

use anyhow::Result;
use aws_engine::schema::Schema;
use serde_json::Value;

use crate::cli::args::PluginsCommand;
use crate::cli::{exit, print_document, setup};
use crate::render;

/// `plugins list [DIR]` and `plugins inspect PLUGIN`.
pub async fn plugins(cmd: PluginsCommand) -> Result<i32> {
    match cmd {
        PluginsCommand::List { dir, out, sandbox } => {
            let models = aws_engine::Models::from_env()?;
            let grants = setup::grants(&models, &sandbox.allow)?.items();
            let runtime = setup::runtime(&sandbox)?;
            let mut rows = Vec::new();
            for (_, path) in super::query::plugin_files(std::slice::from_ref(&dir)) {
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
