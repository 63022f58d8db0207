//! Every paginated read operation of the models as a resource type, no plugin needed.
//!
//! The catalogue holds each operation that has a botocore paginator with exactly one
//! `result_key` and whose name starts with List, Describe, Get or Search. A type's name is
//! the operation name in kebab-case without that verb (`DescribeRouteTables` →
//! `route-tables`, `ListFunctions` → `functions`, `DescribeDBInstances` → `db-instances`);
//! when two operations of a service would get the same name, the Describe one keeps it (then
//! List, Get, Search) and the others keep their verb (`stacks` is DescribeStacks,
//! `list-stacks` ListStacks). The operation's own name is accepted too.
//!
//! A type whose pages hold containers of the items its name promises — `DescribeInstances`
//! gives `Reservations`, each with its `Instances` — is flattened to those items, as the
//! AWS CLI idiom `Reservations[].Instances[]` is: its result key is written
//! `Reservations[].Instances` and [`take_items`] follows it.

use serde_json::{json, Value};

use crate::endpoint::partition_of;
use crate::model::ShapeType;
use crate::schema::{ColumnKind, Schema};
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
    /// Where the items are in a page (`Vpcs`, `DistributionList.Items`, or for containers
    /// flattened `Reservations[].Instances`).
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

/// Operations of regional services whose answer is the same in every region of an
/// account: they run once per account, as global services do.
const ACCOUNT_WIDE: &[(&str, &str)] = &[("s3", "ListBuckets")];

/// Whether an operation runs once per account (in its partition's global region): its
/// service is global ([`is_global`]), or the operation is account-wide (s3 ListBuckets).
pub fn once_per_account(models: &Models, model: &ServiceModel, operation: &str) -> bool {
    ACCOUNT_WIDE.contains(&(model.name.as_str(), operation)) || is_global(models, model)
}

/// Whether a service is global (one endpoint per partition) in the aws partition data.
pub fn is_global(models: &Models, model: &ServiceModel) -> bool {
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
        let resource = kebab(&op_name[verb.len()..]);
        let result_key = match inner_items(model, op, key, &resource) {
            Some(member) => format!("{key}[].{member}"),
            None => key.clone(),
        };
        types.push(ModelType {
            service: model.name.clone(),
            resource,
            operation: op_name.clone(),
            result_key,
            required,
            global: global || ACCOUNT_WIDE.contains(&(model.name.as_str(), op_name.as_str())),
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

/// The member of a container that holds the items a type is named after: the result key's
/// items are structures (`Reservation`) that are not themselves what the name says, and
/// one of their members is a list of structures named after the type (`Instances`).
fn inner_items(
    model: &ServiceModel,
    op: &crate::model::Operation,
    key: &str,
    resource: &str,
) -> Option<String> {
    if kebab(last_segment(key)) == resource {
        return None;
    }
    let mut shape = model.shape(&op.output.as_ref()?.shape).ok()?;
    for part in key.split('.') {
        shape = model.shape(&shape.members.get(part)?.shape).ok()?;
    }
    if shape.kind != ShapeType::List {
        return None;
    }
    let item = model.shape(&shape.member.as_ref()?.shape).ok()?;
    if item.kind != ShapeType::Structure {
        return None;
    }
    item.members.iter().find_map(|(name, r)| {
        let list = model.shape(&r.shape).ok()?;
        let inner = model.shape(&list.member.as_ref()?.shape).ok()?;
        (list.kind == ShapeType::List
            && inner.kind == ShapeType::Structure
            && kebab(name) == resource)
            .then(|| name.clone())
    })
}

/// The items of one page at a result key: lists flattened where the key says `[]`
/// (`Reservations[].Instances`), a missing key none, a single value one item.
pub fn take_items(page: &mut Value, result_key: &str) -> Vec<Value> {
    fn walk(v: Value, parts: &[&str], out: &mut Vec<Value>) {
        let Some((first, rest)) = parts.split_first() else {
            match v {
                Value::Array(a) => out.extend(a),
                Value::Null => {}
                other => out.push(other),
            }
            return;
        };
        let (name, flatten) = match first.strip_suffix("[]") {
            Some(n) => (n, true),
            None => (*first, false),
        };
        let child = match v {
            Value::Object(mut m) => m.shift_remove(name).unwrap_or(Value::Null),
            _ => Value::Null,
        };
        if flatten {
            if let Value::Array(items) = child {
                for x in items {
                    walk(x, rest, out);
                }
            }
        } else {
            walk(child, rest, out);
        }
    }
    let parts: Vec<&str> = result_key.split('.').collect();
    let mut out = Vec::new();
    walk(page.take(), &parts, &mut out);
    out
}

/// The columns a table of the type shows by default: its id (`InstanceId`, `TopicArn`),
/// `Name` from the tags when the items have tags, its state (`State.Name` when the state
/// is a structure), three more scalar fields, then where each item was fetched.
/// Empty (every field) when the items are not structures.
pub fn default_columns(models: &Models, t: &ModelType) -> Vec<String> {
    let Some(shape_name) = crate::schema::item_shape(models, t) else {
        return Vec::new();
    };
    let Ok(model) = models.service(&shape_name.service) else {
        return Vec::new();
    };
    let Ok(shape) = model.shape(&shape_name.shape) else {
        return Vec::new();
    };
    let columns = t.columns(models);
    let scalar = |name: &str| {
        columns
            .iter()
            .any(|c| c.name == name && c.kind != ColumnKind::Json)
    };
    let verb_len = verb_of(&t.operation).map_or(0, str::len);
    let noun = crate::schema::singular(t.operation.get(verb_len..).unwrap_or_default());
    let norm = |s: &str| s.to_ascii_lowercase().replace(['-', '_'], "");
    // The id: `{Type}Id` over `{Type}Identifier`, `{Type}Name`, `{Type}Arn`; else any
    // member ending so, in that order.
    let scalars: Vec<&String> = shape.members.keys().filter(|m| scalar(m)).collect();
    let own = [norm(&noun), norm(&shape_name.shape)];
    let id = ["id", "identifier", "name", "arn"]
        .iter()
        .find_map(|suffix| {
            scalars.iter().find(|m| {
                let m = norm(m);
                own.iter().any(|o| m == format!("{o}{suffix}"))
            })
        })
        .or_else(|| {
            ["Id", "Identifier", "Name", "Arn", "Url"]
                .iter()
                .find_map(|suffix| scalars.iter().find(|m| m.ends_with(suffix)))
        })
        .map(|m| (*m).clone());
    let mut out: Vec<String> = id.into_iter().collect();
    let tagged = columns
        .iter()
        .any(|c| c.name == "Name" && c.description.starts_with("added by"));
    if tagged && !out.iter().any(|c| c == "Name") {
        out.push("Name".into());
    }
    let state = shape.members.iter().find_map(|(name, r)| {
        if !(name == "State"
            || name == "Status"
            || name.ends_with("State")
            || name.ends_with("Status"))
        {
            return None;
        }
        let s = model.shape(&r.shape).ok()?;
        match s.kind {
            ShapeType::Structure if s.members.contains_key("Name") => Some(format!("{name}.Name")),
            ShapeType::Structure | ShapeType::List | ShapeType::Map => None,
            _ => Some(name.clone()),
        }
    });
    out.extend(state);
    // The type's own fields (InstanceType), then kinds, places and addresses, before the
    // rest (an instance's type and IP address over its architecture).
    const TELLING: &[&str] = &["Type", "CidrBlock", "Address", "Zone", "Time", "Date"];
    let mut more: Vec<&String> = shape
        .members
        .keys()
        .filter(|m| {
            scalar(m)
                && !out
                    .iter()
                    .any(|c| c == *m || c.starts_with(&format!("{m}.")))
        })
        .collect();
    more.sort_by_key(|m| {
        if m.starts_with(noun.as_str()) {
            0
        } else if TELLING.iter().any(|s| m.ends_with(s)) {
            1
        } else {
            2
        }
    });
    let more: Vec<String> = more.into_iter().take(3).cloned().collect();
    out.extend(more);
    out.extend(["RequestRegion".to_string(), "RequestAccount".to_string()]);
    out
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
