//! DynamoDB tables (dynamodb ListTables, then DescribeTable for each), one item per table: the
//! `Table` object DescribeTable returns.

use mrhost_plugin_sdk::prelude::*;

struct DynamodbTables;

impl Plugin for DynamodbTables {
    fn manifest() -> PluginManifest {
        manifest("dynamodb-tables", "dynamodb:table")
            .describe("DynamoDB tables (dynamodb ListTables, then DescribeTable each), one item per table")
            .operation("dynamodb:ListTables")
            .operation("dynamodb:DescribeTable")
            .id_field("TableArn")
            .columns(&["TableName", "TableStatus", "ItemCount", "TableSizeBytes", "CreationDateTime"])
            .build()
    }

    fn collect(_scope: Scope) -> Result<(), Error> {
        for name in items("dynamodb", "ListTables", json!({}), "TableNames") {
            let params = json!({"TableName": name?});
            // None: the table was deleted since it was listed.
            if let Some(mut table) = call_if_exists("dynamodb", "DescribeTable", params)? {
                emit(&table["Table"].take());
            }
        }
        Ok(())
    }
}

export_plugin!(DynamodbTables);
