//! Lambda functions (lambda ListFunctions, then GetFunctionUrlConfig each, at once), one item
//! per function: its runtime, the NAMES of its environment variables (the host redacts their
//! values unless `--allow secret`) and whether it has a function URL and how it is
//! authorised.

use mrhost_plugin_sdk::optional;
use mrhost_plugin_sdk::prelude::*;

struct LambdaFunctions;

impl Plugin for LambdaFunctions {
    fn manifest() -> PluginManifest {
        manifest("lambda-functions", "lambda:function")
            .version("0.2.0")
            .describe("Lambda functions (lambda ListFunctions, then GetFunctionUrlConfig each), one item per function with its environment variable names (never values) and function URL auth type")
            .operation("lambda:ListFunctions")
            .operation("lambda:GetFunctionUrlConfig")
            .model_shape("lambda:FunctionConfiguration")
            .id_field("FunctionArn")
            .columns(&[
                "FunctionName",
                "Runtime",
                "EnvironmentVariableNames",
                "FunctionUrlAuthType",
                "LastModified",
            ])
            .column("EnvironmentVariableNames", ValueKind::Json, "the names of the function's environment variables, sorted (never their values)")
            .column("FunctionUrl", ValueKind::String, "the function's URL, null when it has none")
            .column("FunctionUrlAuthType", ValueKind::String, "AWS_IAM or NONE (anyone may invoke), null without a function URL")
            .build()
    }

    fn collect(_scope: Scope) -> Result<(), Error> {
        let functions = items("lambda", "ListFunctions", json!({}), "Functions")
            .collect::<Result<Vec<_>, _>>()?;
        let urls = call_all(functions.iter().map(|f| {
            request(
                "lambda",
                "GetFunctionUrlConfig",
                json!({"FunctionName": f["FunctionName"]}),
            )
        }));
        for (mut f, url) in functions.into_iter().zip(urls) {
            let url = optional(url)?.unwrap_or(Value::Null);
            let names = match f["Environment"]["Variables"].as_object() {
                Some(vars) => {
                    let mut names: Vec<&String> = vars.keys().collect();
                    names.sort();
                    json!(names)
                }
                None => json!([]),
            };
            if let Some(o) = f.as_object_mut() {
                o.insert("EnvironmentVariableNames".into(), names);
                o.insert("FunctionUrl".into(), url["FunctionUrl"].clone());
                o.insert("FunctionUrlAuthType".into(), url["AuthType"].clone());
            }
            emit(&f);
        }
        Ok(())
    }
}

export_plugin!(LambdaFunctions);
