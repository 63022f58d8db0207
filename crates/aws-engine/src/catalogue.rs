//! Every paginated read operation of the models as a resource type, no plugin needed.
//!
//! The catalogue holds each operation that has a botocore paginator with exactly one
//! `result_key` and whose name starts with List, Describe, Get or Search. A type's name is
//! the operation name in kebab-case without that verb (`DescribeRouteTables` →
//! `route-tables`, `ListFunctions` → `functions`, `DescribeDBInstances` → `db-instances`);
//! when two operations of a service would get the same name, the Describe one keeps it (then
//! List, Get, Search) and the others keep their verb (`stacks` is DescribeStacks,
//! `list-stacks` ListStacks). The operation's own name is accepted too.

use serde_json::{json, Value};

use crate::endpoint::partition_of;
use crate::{EngineError, Models, ServiceModel};

const VERBS: &[&str] = &["List", "Describe", "Get", "Search"];
const VERBS_BY_PRIORITY: &[&str] = &["Describe", "List", "Get", "Search"];

/// A resource type derived from a model: one List/Describe/Get/Search operation whose
/// paginated result is a list of items.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelType {
    /// The service (botocore name).
    pub service: String,
    /// The resource name, kebab-case (`route-tables`).
    pub resource: String,
    /// The operation that lists it.
    pub operation: String,
    /// Where the items are in a page (`Vpcs`, `DistributionList.Items`).
    pub result_key: String,
    /// Required input members: the type cannot run without `--params` for them.
    pub required: Vec<String>,
    /// Global services (IAM, Route 53, ...) run once per account.
    pub global: bool,
}

impl ModelType {
    /// One line of the catalogue: service, resource, operation, result key, required params.
    pub fn line(&self) -> String {
        format!(
            "{}\t{}\t{}\t{}\t{}",
            self.service,
            self.resource,
            self.operation,
            self.result_key,
            if self.required.is_empty() {
                "-".to_string()
            } else {
                self.required.join(",")
            }
        )
    }

    /// The type as a JSON object (`mrhost list --available -o json`).
    pub fn to_json(&self) -> Value {
        json!({
            "service": self.service, "resource": self.resource, "operation": self.operation,
            "result_key": self.result_key, "required_params": self.required, "global": self.global,
        })
    }
}

/// `DBInstances` → `db-instances`, `RouteTables` → `route-tables`, `VPCEndpoints` →
/// `vpc-endpoints`.
pub fn kebab(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    let mut out = String::new();
    for (i, c) in chars.iter().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            let Some(&prev) = chars.get(i - 1) else {
                continue;
            };
            let next_lower = chars.get(i + 1).is_some_and(|n| n.is_ascii_lowercase());
            if prev.is_ascii_lowercase()
                || prev.is_ascii_digit()
                || (prev.is_ascii_uppercase() && next_lower)
            {
                out.push('-');
            }
        }
        out.push(c.to_ascii_lowercase());
    }
    out
}

fn verb_of(op: &str) -> Option<&'static str> {
    VERBS.iter().copied().find(|v| {
        op.strip_prefix(v)
            .is_some_and(|rest| rest.chars().next().is_some_and(|c| c.is_ascii_uppercase()))
    })
}

/// Whether a service is global (one endpoint per partition) in the aws partition data.
fn is_global(models: &Models, model: &ServiceModel) -> bool {
    let Ok(endpoints) = models.endpoints() else {
        return false;
    };
    let Some(p) = partition_of(&endpoints, "us-east-1") else {
        return false;
    };
    p.get("services")
        .and_then(|s| s.get(model.endpoint_prefix()))
        .and_then(|s| s.get("isRegionalized"))
        == Some(&Value::Bool(false))
}

/// The resource types of one service.
pub fn service_types(models: &Models, model: &ServiceModel) -> Vec<ModelType> {
    let global = is_global(models, model);
    let mut types: Vec<ModelType> = Vec::new();
    for (op_name, pag) in &model.paginators {
        let [key] = pag.result_key.as_slice() else {
            continue;
        };
        let Some(verb) = verb_of(op_name) else {
            continue;
        };
        let Some(op) = model.operations.get(op_name) else {
            continue;
        };
        let required = op
            .input
            .as_ref()
            .and_then(|i| model.shape(&i.shape).ok())
            .map(|s| s.required.clone())
            .unwrap_or_default();
        types.push(ModelType {
            service: model.name.clone(),
            resource: kebab(&op_name[verb.len()..]),
            operation: op_name.clone(),
            result_key: key.clone(),
            required,
            global,
        });
    }
    // A name two operations would share goes to the Describe one (then List, Get, Search);
    // the others keep their verb.
    let rank = |op: &str| {
        VERBS_BY_PRIORITY
            .iter()
            .position(|v| verb_of(op) == Some(*v))
            .unwrap_or(9)
    };
    let snapshot: Vec<(String, String)> = types
        .iter()
        .map(|t| (t.resource.clone(), t.operation.clone()))
        .collect();
    for t in &mut types {
        let best = snapshot
            .iter()
            .filter(|(n, _)| *n == t.resource)
            .map(|(_, op)| (rank(op), op.clone()))
            .min();
        if let Some((_, winner)) = best {
            if winner != t.operation {
                t.resource = kebab(&t.operation);
            }
        }
    }
    types.sort_by(|a, b| a.resource.cmp(&b.resource));
    types
}

/// The whole catalogue (every service), or one service's.
pub fn catalogue(models: &Models, service: Option<&str>) -> Result<Vec<ModelType>, EngineError> {
    let names = match service {
        Some(s) => vec![models.service(s)?.name.clone()],
        None => models.service_names(),
    };
    let mut out = Vec::new();
    for n in names {
        let m = models.service(&n)?;
        out.extend(service_types(models, &m));
    }
    Ok(out)
}

/// Why [`find`] found no type.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum FindError {
    /// The service is not in the models.
    #[error(transparent)]
    Service(#[from] crate::EngineError),
    /// The service has no such type.
    #[error("no resource type '{resource}' in {service}{hint}; `mrhost list --available {service}` lists them")]
    UnknownType {
        /// The service.
        service: String,
        /// The name asked for.
        resource: String,
        /// ` (did you mean ...?)`, or empty.
        hint: String,
    },
}

/// Find a type by resource name or operation name (any case style).
pub fn find(models: &Models, service: &str, resource: &str) -> Result<ModelType, FindError> {
    let model = models.service(service)?;
    let types = service_types(models, &model);
    let wanted = crate::model::normalize_op_name(resource);
    if let Some(t) = types
        .iter()
        .find(|t| t.resource == resource || crate::model::normalize_op_name(&t.operation) == wanted)
    {
        return Ok(t.clone());
    }
    let hint = crate::suggest::nearest(resource, types.iter().map(|t| t.resource.as_str()), 4)
        .map(|s| format!(" (did you mean {s}?)"))
        .unwrap_or_default();
    Err(FindError::UnknownType {
        service: service.to_string(),
        resource: resource.to_string(),
        hint,
    })
}

/// The last segment of a result key path (`DistributionList.Items` → `Items`).
pub fn last_segment(key: &str) -> &str {
    key.rsplit('.').next().unwrap_or(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_rule() {
        assert_eq!(kebab("RouteTables"), "route-tables");
        assert_eq!(kebab("DBInstances"), "db-instances");
        assert_eq!(kebab("VPCEndpoints"), "vpc-endpoints");
        assert_eq!(kebab("Ipv6Pools"), "ipv6-pools");
        let models = Models::new(vec![]).unwrap();
        let t = find(&models, "ec2", "route-tables").unwrap();
        assert_eq!(
            (t.operation.as_str(), t.result_key.as_str(), t.global),
            ("DescribeRouteTables", "RouteTables", false)
        );
        assert_eq!(find(&models, "ec2", "DescribeRouteTables").unwrap(), t);
        assert_eq!(
            find(&models, "lambda", "functions").unwrap().operation,
            "ListFunctions"
        );
        assert!(find(&models, "iam", "roles").unwrap().global);
        assert!(matches!(
            find(&models, "ec2", "route-table"),
            Err(FindError::UnknownType { hint, .. }) if hint.contains("did you mean route-tables?")
        ));
        // A type whose operation needs params knows which.
        let pools = find(&models, "ec2", "associated-ipv6-pool-cidrs").unwrap();
        assert_eq!(pools.required, vec!["PoolId".to_string()]);
    }

    #[test]
    fn the_catalogue_covers_every_service() {
        let models = Models::new(vec![]).unwrap();
        let all = catalogue(&models, None).unwrap();
        assert!(all.len() > 3000, "{}", all.len());
        let mut keys: Vec<(String, String)> = all
            .iter()
            .map(|t| (t.service.clone(), t.resource.clone()))
            .collect();
        let n = keys.len();
        keys.sort();
        keys.dedup();
        assert_eq!(keys.len(), n, "resource names are unique per service");
    }
}
