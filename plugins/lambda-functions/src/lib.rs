//! Lambda functions (lambda ListFunctions), one item per function.

use mrhost_plugin_sdk::prelude::*;

struct LambdaFunctions;

impl Plugin for LambdaFunctions {
    fn manifest() -> PluginManifest {
        manifest("lambda-functions", "lambda:function")
            .describe("Lambda functions (lambda ListFunctions), one item per function")
            .operation("lambda:ListFunctions")
            .id_field("FunctionArn")
            .columns(&[
                "FunctionName",
                "Runtime",
                "MemorySize",
                "Timeout",
                "LastModified",
            ])
            .build()
    }

    fn collect(_scope: Scope) -> Result<(), Error> {
        emit_items("lambda", "ListFunctions", json!({}), "Functions")?;
        Ok(())
    }
}

export_plugin!(LambdaFunctions);
