//! What an emitted item looks like, as typed columns, and which of its fields refer to other
//! resource types — derived from the service models.
//!
//! - [`shape_columns`]: one [`Column`] per member of a model shape (`ec2:Vpc`), typed from
//!   the member's shape (booleans stay booleans, timestamps timestamps, nested values JSON).
//! - [`host_columns`]: what the host adds to every item (`RequestRegion`, `RequestAccount`,
//!   and `TagsMap`/`Name` when the item has an AWS tag list).
//! - [`infer_references`]: members that name a resource of another type, found from the
//!   models alone: a member named after another type's id field (`VpcId` → `ec2:vpc`,
//!   `KmsKeyId` → `kms:key`, `SubnetIds` → `ec2:subnet`), or an ARN member whose name or
//!   shape matches another type's ARN (`KMSKeyArn` → `kms:key`, lambda's `Role`, shape
//!   `RoleArn` → `iam:role`).
//! - [`Schema`]: the columns and references of a type, implemented here for model-derived
//!   types ([`ModelType`]) and by the plugin host for plugin manifests.
//!
//! A type's name in references is `service:kebab-singular`, as plugins name their resource
//! types: the prefix of its id field (`VpcId` → `ec2:vpc`, `DBInstanceArn` →
//! `rds:db-instance`).

use std::collections::HashMap;

use serde::Serialize;

use crate::catalogue::{kebab, last_segment, service_types, ModelType};
use crate::model::{ServiceModel, Shape, ShapeType};
use crate::Models;

/// The type of a column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ColumnKind {
    /// Text (strings, enums, blobs as base64).
    String,
    /// `true` / `false`.
    Bool,
    /// A 64-bit signed integer.
    Int,
    /// A double.
    Float,
    /// ISO 8601 text as boto3 prints datetimes (`2024-05-01T10:00:00+00:00`).
    Timestamp,
    /// Any JSON value: structures, lists, maps.
    Json,
}

impl ColumnKind {
    /// The kind's name as the contract spells it (`string`, `bool`, `int`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            ColumnKind::String => "string",
            ColumnKind::Bool => "bool",
            ColumnKind::Int => "int",
            ColumnKind::Float => "float",
            ColumnKind::Timestamp => "timestamp",
            ColumnKind::Json => "json",
        }
    }

    /// The kind of values of a model shape.
    pub fn of_shape(shape: &Shape) -> ColumnKind {
        if shape.document {
            return ColumnKind::Json;
        }
        match shape.kind {
            ShapeType::String | ShapeType::Blob => ColumnKind::String,
            ShapeType::Boolean => ColumnKind::Bool,
            ShapeType::Integer | ShapeType::Long => ColumnKind::Int,
            ShapeType::Float | ShapeType::Double => ColumnKind::Float,
            ShapeType::Timestamp => ColumnKind::Timestamp,
            ShapeType::Structure | ShapeType::List | ShapeType::Map | ShapeType::Other => {
                ColumnKind::Json
            }
        }
    }
}

impl std::fmt::Display for ColumnKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One column of a type: a top-level field of its items.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Column {
    /// The field name, as in the emitted JSON.
    pub name: String,
    /// Its type.
    pub kind: ColumnKind,
    /// Where it comes from and what it holds, in a few words.
    pub description: String,
}

/// How a reference names its target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RefBy {
    /// The field holds the target's id (`vpc-0abc`, a key id).
    Id,
    /// The field holds the target's ARN.
    Arn,
}

/// A field of an item that names a resource of another type (one edge per value).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Reference {
    /// The item's top-level field (a string, or a list of strings).
    pub field: String,
    /// The type referred to, as `service:type` (`ec2:vpc`, `kms:key`).
    pub target_type: String,
    /// Whether the field holds the id or the ARN.
    pub by: RefBy,
}

/// A model shape named `service:Shape` (`ec2:Vpc`), as manifests name their items.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShapeName {
    /// botocore's service name.
    pub service: String,
    /// The shape's name in that service's model.
    pub shape: String,
}

/// Why a schema could not be derived.
#[derive(Debug, Clone, thiserror::Error)]
pub enum SchemaError {
    /// Not written `service:Shape`.
    #[error("model shape '{0}' must be written service:Shape, e.g. ec2:Vpc")]
    Syntax(String),
    /// The service or the shape is not in the models.
    #[error("model shape '{name}': {reason}")]
    Unknown {
        /// The name as given.
        name: String,
        /// What was missing.
        reason: String,
    },
    /// The shape is not a structure, so it has no members to be columns.
    #[error("model shape '{0}' is not a structure")]
    NotStructure(String),
}

impl ShapeName {
    /// Parse `service:Shape`.
    pub fn parse(text: &str) -> Result<ShapeName, SchemaError> {
        match text.split_once(':') {
            Some((s, n)) if !s.is_empty() && !n.is_empty() => Ok(ShapeName {
                service: s.to_string(),
                shape: n.to_string(),
            }),
            _ => Err(SchemaError::Syntax(text.to_string())),
        }
    }
}

impl std::fmt::Display for ShapeName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.service, self.shape)
    }
}

/// The names of AWS tag lists the host turns into a map: a list of `{Key, Value}` under
/// one of these top-level names.
pub const TAG_LISTS: &[&str] = &["Tags", "TagList", "TagSet"];

/// The field the host adds beside an AWS tag list: the tags as an object (`{"Name":
/// "web"}`). Not a member name anywhere in the models, so it never hides what AWS sent.
pub const TAGS_MAP: &str = "TagsMap";

/// The field the host adds from the `Name` tag, unless the item has a `Name` already.
pub const NAME: &str = "Name";

/// A short description of a member's shape for a column: `model: list of Tag`.
fn describe_shape(model: &ServiceModel, name: &str, shape: &Shape) -> String {
    let inner = |r: &Option<crate::model::ShapeRef>| {
        r.as_ref().map(|r| r.shape.clone()).unwrap_or_default()
    };
    match shape.kind {
        ShapeType::List => format!("{}: list of {}", model.name, inner(&shape.member)),
        ShapeType::Map => format!(
            "{}: map of {} to {}",
            model.name,
            inner(&shape.key),
            inner(&shape.value)
        ),
        ShapeType::Structure => format!("{}: structure {name}", model.name),
        _ => format!(
            "{}: {} ({name})",
            model.name,
            ColumnKind::of_shape(shape).as_str()
        ),
    }
}

/// Whether a member is an AWS tag list: a list of structures with `Key` and `Value`.
fn is_tag_list(model: &ServiceModel, shape: &Shape) -> bool {
    if shape.kind != ShapeType::List {
        return false;
    }
    let Some(member) = &shape.member else {
        return false;
    };
    model.shape(&member.shape).is_ok_and(|s| {
        s.kind == ShapeType::Structure
            && s.members.contains_key("Key")
            && s.members.contains_key("Value")
    })
}

/// The columns of a structure shape: one per member, in the model's order, then what the
/// host adds (see [`host_columns`]).
pub fn shape_columns(models: &Models, name: &ShapeName) -> Result<Vec<Column>, SchemaError> {
    let unknown = |reason: String| SchemaError::Unknown {
        name: name.to_string(),
        reason,
    };
    let model = models
        .service(&name.service)
        .map_err(|e| unknown(e.to_string()))?;
    let shape = model.shape(&name.shape).map_err(|_| {
        unknown(format!(
            "no shape {} in the {} model",
            name.shape, model.name
        ))
    })?;
    if shape.kind != ShapeType::Structure {
        return Err(SchemaError::NotStructure(name.to_string()));
    }
    let (mut cols, tagged) = member_columns(&model, shape);
    cols.extend(host_columns(tagged));
    Ok(cols)
}

/// The members of a structure as columns, and whether one of them is a tag list.
fn member_columns(model: &ServiceModel, shape: &Shape) -> (Vec<Column>, bool) {
    let mut tagged = false;
    let cols = shape
        .members
        .iter()
        .map(|(member, r)| match model.shape(&r.shape) {
            Ok(s) => {
                if TAG_LISTS.contains(&member.as_str()) && is_tag_list(model, s) {
                    tagged = true;
                }
                Column {
                    name: member.clone(),
                    kind: ColumnKind::of_shape(s),
                    description: describe_shape(model, &r.shape, s),
                }
            }
            Err(_) => Column {
                name: member.clone(),
                kind: ColumnKind::Json,
                description: format!("{}: {}", model.name, r.shape),
            },
        })
        .collect();
    (cols, tagged)
}

/// What the host adds to every item: the tags map and `Name` (when the item has an AWS
/// tag list), then `RequestRegion` and `RequestAccount`.
pub fn host_columns(tagged: bool) -> Vec<Column> {
    let mut cols = Vec::new();
    if tagged {
        cols.push(Column {
            name: TAGS_MAP.into(),
            kind: ColumnKind::Json,
            description: "added by mrhost: the AWS tag list as an object, {Key: Value}".into(),
        });
        cols.push(Column {
            name: NAME.into(),
            kind: ColumnKind::String,
            description: "added by mrhost: the value of the Name tag".into(),
        });
    }
    cols.push(Column {
        name: "RequestRegion".into(),
        kind: ColumnKind::String,
        description: "added by mrhost: the region the item was fetched in".into(),
    });
    cols.push(Column {
        name: "RequestAccount".into(),
        kind: ColumnKind::String,
        description: "added by mrhost: the account whose credentials fetched the item".into(),
    });
    cols
}

/// `base` with `extra` merged in: a column of `extra` replaces the one of the same name
/// (keeping its place), the others are added before the host's columns.
pub fn merge_columns(base: Vec<Column>, extra: &[Column]) -> Vec<Column> {
    const HOST: &[&str] = &[TAGS_MAP, NAME, "RequestRegion", "RequestAccount"];
    let mut out = base;
    let first_host = out
        .iter()
        .position(|c| HOST.contains(&c.name.as_str()) && c.description.starts_with("added by"))
        .unwrap_or(out.len());
    let mut insert_at = first_host;
    for c in extra {
        if let Some(existing) = out.iter_mut().find(|x| x.name == c.name) {
            *existing = c.clone();
        } else {
            out.insert(insert_at, c.clone());
            insert_at += 1;
        }
    }
    out
}

/// Where a model-derived type's items are: the item shape (a structure), or the scalar
/// shape of a names-only listing, as (service model, shape name).
fn item_shape_of(models: &Models, t: &ModelType) -> Option<(std::sync::Arc<ServiceModel>, String)> {
    let model = models.service(&t.service).ok()?;
    let op = model.operations.get(&t.operation)?;
    let mut shape_name = op.output.as_ref()?.shape.clone();
    for part in t.result_key.split('.') {
        let part = part.strip_suffix("[]").unwrap_or(part);
        let mut shape = model.shape(&shape_name).ok()?;
        // A list before the end of the path is flattened, as the items are.
        while shape.kind == ShapeType::List {
            shape_name = shape.member.as_ref()?.shape.clone();
            shape = model.shape(&shape_name).ok()?;
        }
        shape_name = shape.members.get(part)?.shape.clone();
    }
    let mut shape = model.shape(&shape_name).ok()?;
    while shape.kind == ShapeType::List {
        shape_name = shape.member.as_ref()?.shape.clone();
        shape = model.shape(&shape_name).ok()?;
    }
    Some((model, shape_name))
}

/// The item shape of a model-derived type as `service:Shape`, when its items are
/// structures.
pub fn item_shape(models: &Models, t: &ModelType) -> Option<ShapeName> {
    let (model, shape) = item_shape_of(models, t)?;
    (model.shape(&shape).ok()?.kind == ShapeType::Structure).then(|| ShapeName {
        service: model.name.clone(),
        shape,
    })
}

/// Columns and references of a resource type.
pub trait Schema {
    /// The typed columns of its items, the host's included.
    fn columns(&self, models: &Models) -> Vec<Column>;
    /// The fields of its items that name resources of other types.
    fn references(&self, models: &Models) -> Vec<Reference>;
}

impl Schema for ModelType {
    /// The item shape's members; for names-only listings (dynamodb `ListTables`) the one
    /// field an item is wrapped in.
    fn columns(&self, models: &Models) -> Vec<Column> {
        let Some((model, shape_name)) = item_shape_of(models, self) else {
            return host_columns(false);
        };
        match model.shape(&shape_name) {
            Ok(s) if s.kind == ShapeType::Structure => {
                let (mut cols, tagged) = member_columns(&model, s);
                cols.extend(host_columns(tagged));
                cols
            }
            Ok(s) => {
                let mut cols = vec![Column {
                    name: last_segment(&self.result_key).to_string(),
                    kind: ColumnKind::of_shape(s),
                    description: describe_shape(&model, &shape_name, s),
                }];
                cols.extend(host_columns(false));
                cols
            }
            Err(_) => host_columns(false),
        }
    }

    fn references(&self, models: &Models) -> Vec<Reference> {
        item_shape(models, self)
            .map(|s| infer_references(models, &s))
            .unwrap_or_default()
    }
}

/// Services whose types are referred to by ARN from everywhere without a service prefix
/// in the member's name (`RoleArn`, `TopicArn`, `KeyArn`).
const ARN_HUBS: &[&str] = &["iam", "kms", "sns", "sqs", "s3"];

/// A type's identity as other shapes name it: field name → (type, how).
type Identities = HashMap<String, (String, RefBy)>;

/// `Vpcs` → `Vpc`, `Policies` → `Policy`, `Addresses` → `Address`.
pub(crate) fn singular(plural: &str) -> String {
    if let Some(stem) = plural.strip_suffix("ies") {
        return format!("{stem}y");
    }
    for suffix in ["sses", "shes", "ches", "xes"] {
        if plural.ends_with(suffix) {
            return plural[..plural.len() - 2].to_string();
        }
    }
    plural.strip_suffix('s').unwrap_or(plural).to_string()
}

/// Lower-case letters and digits only: `DBInstance` and `DbInstance` compare equal.
fn norm(s: &str) -> String {
    s.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// The identity fields of one service's model-derived types: for each type, its item
/// shape's members named after the type (`VpcId`, `SubnetArn`, `DBInstanceIdentifier`,
/// kms `KeyId`), plus `{Type}Arn` when the shape has a bare `Arn` (iam `Role`).
fn identities(models: &Models, model: &ServiceModel) -> Identities {
    let mut out = Identities::new();
    for t in service_types(models, model) {
        let Some((m, shape_name)) = item_shape_of(models, &t) else {
            continue;
        };
        let Ok(shape) = m.shape(&shape_name) else {
            continue;
        };
        if shape.kind != ShapeType::Structure {
            continue;
        }
        let verb_len = ["Describe", "List", "Get", "Search"]
            .iter()
            .find(|v| t.operation.starts_with(*v))
            .map_or(0, |v| v.len());
        let noun = singular(&t.operation[verb_len..]);
        for cand in [shape_name.as_str(), noun.as_str()] {
            let c = norm(cand);
            if c.is_empty() {
                continue;
            }
            for member in shape.members.keys() {
                let nm = norm(member);
                let Some(rest) = nm.strip_prefix(&c) else {
                    continue;
                };
                let by = match rest {
                    "id" | "identifier" => RefBy::Id,
                    "arn" => RefBy::Arn,
                    _ => continue,
                };
                // The type's name is the member's own spelling of the prefix.
                let prefix = &member[..member.len() - rest.len()];
                let ty = format!("{}:{}", model.name, kebab(prefix));
                out.entry(member.clone()).or_insert((ty, by));
            }
            if shape.members.contains_key("Arn") {
                let alias = format!("{cand}Arn");
                let ty = format!("{}:{}", model.name, kebab(cand));
                out.entry(alias).or_insert((ty, RefBy::Arn));
            }
        }
    }
    out
}

/// The fields of a structure shape that name resources of other types, inferred from the
/// models (see the module documentation). A type's own id fields are not references.
pub fn infer_references(models: &Models, name: &ShapeName) -> Vec<Reference> {
    let Ok(model) = models.service(&name.service) else {
        return Vec::new();
    };
    let Ok(shape) = model.shape(&name.shape) else {
        return Vec::new();
    };
    let mut cache: HashMap<String, Identities> = HashMap::new();
    let mut ids_of = |svc: &str| -> Option<Identities> {
        if let Some(i) = cache.get(svc) {
            return Some(i.clone());
        }
        let m = models.service(svc).ok()?;
        let i = identities(models, &m);
        cache.insert(svc.to_string(), i.clone());
        Some(i)
    };
    let own = ids_of(&model.name).unwrap_or_default();
    let own_type = own
        .iter()
        .filter(|(field, _)| shape.members.contains_key(*field))
        .filter(|(field, _)| norm(field).starts_with(&norm(&name.shape)))
        .map(|(_, (ty, _))| ty.clone())
        .next();
    let services = models.service_names();
    let mut out: Vec<Reference> = Vec::new();
    for (member, r) in &shape.members {
        let Ok(target) = model.shape(&r.shape) else {
            continue;
        };
        // A string, or a list of strings (`SubnetIds`).
        let (field_name, element) = match target.kind {
            ShapeType::String => (member.clone(), r.shape.clone()),
            ShapeType::List => {
                let Some(m) = &target.member else { continue };
                if !model
                    .shape(&m.shape)
                    .is_ok_and(|s| s.kind == ShapeType::String)
                {
                    continue;
                }
                (singular(member), m.shape.clone())
            }
            _ => continue,
        };
        let mut found: Option<(String, RefBy)> = None;
        // The member's name, then its shape's (lambda's `Role` is a `RoleArn`).
        for candidate in [field_name.as_str(), element.as_str()] {
            if let Some(hit) = own.get(candidate) {
                found = Some(hit.clone());
                break;
            }
            // A service prefix: `KmsKeyId`, `KMSKeyArn` → kms `KeyId`, `KeyArn`.
            let lower = candidate.to_ascii_lowercase();
            for svc in services.iter().filter(|s| {
                s.len() < lower.len() && lower.starts_with(s.as_str()) && **s != model.name
            }) {
                let rest = &candidate[svc.len()..];
                if let Some(hit) = ids_of(svc).and_then(|i| i.get(rest).cloned()) {
                    found = Some(hit);
                    break;
                }
            }
            if found.is_some() {
                break;
            }
            if candidate.ends_with("Arn") {
                for hub in ARN_HUBS.iter().filter(|h| **h != model.name) {
                    if let Some(hit) = ids_of(hub).and_then(|i| i.get(candidate).cloned()) {
                        if hit.1 == RefBy::Arn {
                            found = Some(hit);
                            break;
                        }
                    }
                }
            }
            if found.is_some() {
                break;
            }
        }
        if let Some((ty, by)) = found {
            if Some(&ty) == own_type.as_ref() {
                continue;
            }
            out.push(Reference {
                field: member.clone(),
                target_type: ty,
                by,
            });
        }
    }
    out
}

/// `inferred` with `declared` merged in: a declared reference replaces an inferred one of
/// the same field.
pub fn merge_references(inferred: Vec<Reference>, declared: &[Reference]) -> Vec<Reference> {
    let mut out: Vec<Reference> = inferred
        .into_iter()
        .filter(|r| !declared.iter().any(|d| d.field == r.field))
        .collect();
    out.extend(declared.iter().cloned());
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue::find;

    fn col<'a>(cols: &'a [Column], name: &str) -> &'a Column {
        cols.iter()
            .find(|c| c.name == name)
            .unwrap_or_else(|| panic!("no column {name} in {cols:?}"))
    }

    #[test]
    fn a_model_shape_gives_typed_columns_and_the_host_columns() {
        let models = Models::new(vec![]).unwrap();
        let cols = shape_columns(&models, &ShapeName::parse("ec2:Vpc").unwrap()).unwrap();
        assert_eq!(col(&cols, "VpcId").kind, ColumnKind::String);
        assert_eq!(col(&cols, "IsDefault").kind, ColumnKind::Bool);
        assert_eq!(col(&cols, "Tags").kind, ColumnKind::Json);
        assert_eq!(col(&cols, "CidrBlockAssociationSet").kind, ColumnKind::Json);
        assert_eq!(col(&cols, TAGS_MAP).kind, ColumnKind::Json);
        assert_eq!(col(&cols, NAME).kind, ColumnKind::String);
        let names: Vec<&str> = cols.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(
            &names[names.len() - 4..],
            [TAGS_MAP, NAME, "RequestRegion", "RequestAccount"]
        );
        let vols = shape_columns(&models, &ShapeName::parse("ec2:Volume").unwrap()).unwrap();
        assert_eq!(col(&vols, "CreateTime").kind, ColumnKind::Timestamp);
        assert_eq!(col(&vols, "Size").kind, ColumnKind::Int);
        let err = shape_columns(&models, &ShapeName::parse("ec2:Nope").unwrap()).unwrap_err();
        assert!(err.to_string().contains("no shape Nope"), "{err}");
        assert!(ShapeName::parse("Vpc").is_err());
        assert!(matches!(
            shape_columns(&models, &ShapeName::parse("ec2:String").unwrap()),
            Err(SchemaError::NotStructure(_))
        ));
    }

    #[test]
    fn model_types_get_the_columns_of_their_items() {
        let models = Models::new(vec![]).unwrap();
        let subnets = find(&models, "ec2", "subnets").unwrap();
        let cols = subnets.columns(&models);
        assert_eq!(col(&cols, "SubnetId").kind, ColumnKind::String);
        assert_eq!(col(&cols, "MapPublicIpOnLaunch").kind, ColumnKind::Bool);
        assert_eq!(col(&cols, "AvailableIpAddressCount").kind, ColumnKind::Int);
        assert!(cols.iter().any(|c| c.name == TAGS_MAP));
        // Names-only listings are wrapped in their result key.
        let tables = find(&models, "dynamodb", "tables").unwrap();
        let cols = tables.columns(&models);
        assert_eq!(col(&cols, "TableNames").kind, ColumnKind::String);
        assert!(!cols.iter().any(|c| c.name == TAGS_MAP));
        // A nested result key.
        let dists = find(&models, "cloudfront", "distributions").unwrap();
        assert_eq!(
            item_shape(&models, &dists)
                .map(|s| s.to_string())
                .as_deref(),
            Some("cloudfront:DistributionSummary")
        );
    }

    #[test]
    fn declared_columns_replace_or_extend_the_model_ones() {
        let base = host_columns(true);
        let extra = [
            Column {
                name: "MfaDevices".into(),
                kind: ColumnKind::Json,
                description: "enrichment".into(),
            },
            Column {
                name: "Name".into(),
                kind: ColumnKind::String,
                description: "plugin's own".into(),
            },
        ];
        let merged = merge_columns(base, &extra);
        let names: Vec<&str> = merged.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "MfaDevices",
                TAGS_MAP,
                NAME,
                "RequestRegion",
                "RequestAccount"
            ]
        );
        assert_eq!(col(&merged, "Name").description, "plugin's own");
    }

    fn refs(models: &Models, shape: &str) -> Vec<(String, String, RefBy)> {
        infer_references(models, &ShapeName::parse(shape).unwrap())
            .into_iter()
            .map(|r| (r.field, r.target_type, r.by))
            .collect()
    }

    #[test]
    fn references_are_inferred_from_the_models() {
        let models = Models::new(vec![]).unwrap();
        let subnet = refs(&models, "ec2:Subnet");
        assert!(
            subnet.contains(&("VpcId".into(), "ec2:vpc".into(), RefBy::Id)),
            "{subnet:?}"
        );
        // A type's own id is not a reference to itself.
        assert!(!subnet.iter().any(|r| r.0 == "SubnetId"), "{subnet:?}");
        let vpc = refs(&models, "ec2:Vpc");
        assert!(!vpc.iter().any(|r| r.0 == "VpcId"), "{vpc:?}");
        // Cross-service, by a service prefix.
        let db = refs(&models, "rds:DBInstance");
        assert!(
            db.contains(&("KmsKeyId".into(), "kms:key".into(), RefBy::Id)),
            "{db:?}"
        );
        let f = refs(&models, "lambda:FunctionConfiguration");
        assert!(
            f.contains(&("KMSKeyArn".into(), "kms:key".into(), RefBy::Arn)),
            "{f:?}"
        );
        // By the member's shape: lambda's Role is a RoleArn.
        assert!(
            f.contains(&("Role".into(), "iam:role".into(), RefBy::Arn)),
            "{f:?}"
        );
        // Lists of ids.
        let inst = refs(&models, "ec2:Instance");
        assert!(
            inst.contains(&("SubnetId".into(), "ec2:subnet".into(), RefBy::Id))
                && inst.contains(&("VpcId".into(), "ec2:vpc".into(), RefBy::Id)),
            "{inst:?}"
        );
        let declared = [Reference {
            field: "VpcId".into(),
            target_type: "ec2:vpc".into(),
            by: RefBy::Id,
        }];
        let merged = merge_references(
            infer_references(&models, &ShapeName::parse("ec2:Subnet").unwrap()),
            &declared,
        );
        assert_eq!(merged.iter().filter(|r| r.field == "VpcId").count(), 1);
    }

    #[test]
    fn singular_nouns() {
        assert_eq!(singular("Vpcs"), "Vpc");
        assert_eq!(singular("Policies"), "Policy");
        assert_eq!(singular("Addresses"), "Address");
        assert_eq!(singular("SubnetIds"), "SubnetId");
    }

    #[test]
    fn the_tags_map_name_is_not_a_member_anywhere() {
        let models = Models::new(vec![]).unwrap();
        for svc in ["ec2", "rds", "s3", "iam", "lambda", "elbv2"] {
            let m = models.service(svc).unwrap();
            for name in m.shape_names() {
                if let Ok(s) = m.shape(name) {
                    assert!(!s.members.contains_key(TAGS_MAP), "{svc}:{name}");
                }
            }
        }
    }
}
