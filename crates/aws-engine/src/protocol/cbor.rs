//! The CBOR codec (RFC 8949) for smithy-rpc-v2-cbor: boto3-style params → CBOR as
//! botocore's `CBORSerializer` writes it, and CBOR → boto3-shaped JSON as its
//! `BaseCBORParser` + `BaseRpcV2Parser` read it.
//!
//! The bytes are read and written with `minicbor` (its `Decoder` is a cursor over the
//! input: no allocation ahead of the data, every length checked against what is there).
//! Decoding builds a small [`Cbor`] tree first, as botocore does, refusing items nested
//! deeper than [`MAX_DEPTH`]; the shape walk then turns it into JSON.

use base64::Engine as _;
use minicbor::data::Type;
use minicbor::{Decoder, Encoder};
use serde_json::{Map, Value};

use super::shape::{float_json, timestamp_param, too_deep, ReadError, Resolved, MAX_DEPTH};
use crate::model::{ServiceModel, ShapeRef, ShapeType};
use crate::timestamp::Timestamp;

/// One decoded CBOR data item.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Cbor {
    Int(i128),
    Bytes(Vec<u8>),
    Text(String),
    Array(Vec<Cbor>),
    /// Pairs in wire order; pairs whose value is null or undefined are dropped on reading,
    /// as botocore drops them.
    Map(Vec<(Cbor, Cbor)>),
    /// Tag 1: an epoch timestamp (the only tag botocore accepts).
    Time(f64),
    Float(f64),
    Bool(bool),
    Null,
}

impl Cbor {
    /// The value under a text key of a map.
    pub(crate) fn get(&self, key: &str) -> Option<&Cbor> {
        match self {
            Cbor::Map(pairs) => pairs
                .iter()
                .find(|(k, _)| matches!(k, Cbor::Text(t) if t == key))
                .map(|(_, v)| v),
            _ => None,
        }
    }

    pub(crate) fn as_str(&self) -> Option<&str> {
        match self {
            Cbor::Text(t) => Some(t),
            _ => None,
        }
    }
}

fn decode_error(e: minicbor::decode::Error) -> String {
    format!("malformed CBOR: {e}")
}

/// Decode the first data item of `bytes` (what follows it is ignored, as botocore does).
pub(crate) fn decode(bytes: &[u8]) -> Result<Cbor, ReadError> {
    let mut d = Decoder::new(bytes);
    item(&mut d, 0)
}

fn item(d: &mut Decoder<'_>, depth: usize) -> Result<Cbor, ReadError> {
    if depth > MAX_DEPTH {
        return Err(too_deep("the CBOR body", MAX_DEPTH));
    }
    let ty = d.datatype().map_err(decode_error)?;
    Ok(match ty {
        Type::Bool => Cbor::Bool(d.bool().map_err(decode_error)?),
        Type::Null => {
            d.null().map_err(decode_error)?;
            Cbor::Null
        }
        Type::Undefined => {
            d.undefined().map_err(decode_error)?;
            Cbor::Null
        }
        Type::U8
        | Type::U16
        | Type::U32
        | Type::U64
        | Type::I8
        | Type::I16
        | Type::I32
        | Type::I64
        | Type::Int => Cbor::Int(i128::from(d.int().map_err(decode_error)?)),
        Type::F16 => Cbor::Float(half(d)?),
        Type::F32 => Cbor::Float(f64::from(d.f32().map_err(decode_error)?)),
        Type::F64 => Cbor::Float(d.f64().map_err(decode_error)?),
        Type::Bytes | Type::BytesIndef => {
            let mut out = Vec::new();
            for chunk in d.bytes_iter().map_err(decode_error)? {
                out.extend_from_slice(chunk.map_err(decode_error)?);
            }
            Cbor::Bytes(out)
        }
        Type::String | Type::StringIndef => {
            let mut out = String::new();
            for chunk in d.str_iter().map_err(decode_error)? {
                out.push_str(chunk.map_err(decode_error)?);
            }
            Cbor::Text(out)
        }
        Type::Array | Type::ArrayIndef => {
            let len = d.array().map_err(decode_error)?;
            let mut items = Vec::new();
            each(d, len, |d| {
                items.push(item(d, depth + 1)?);
                Ok(())
            })?;
            Cbor::Array(items)
        }
        Type::Map | Type::MapIndef => {
            let len = d.map().map_err(decode_error)?;
            let mut pairs = Vec::new();
            each(d, len, |d| {
                let k = item(d, depth + 1)?;
                let v = item(d, depth + 1)?;
                if v != Cbor::Null {
                    pairs.push((k, v));
                }
                Ok(())
            })?;
            Cbor::Map(pairs)
        }
        Type::Tag => {
            let tag = u64::from(d.tag().map_err(decode_error)?);
            let value = item(d, depth + 1)?;
            match (tag, value) {
                (1, Cbor::Int(i)) => Cbor::Time(i as f64),
                (1, Cbor::Float(f)) => Cbor::Time(f),
                (1, other) => {
                    return Err(format!("Unable to parse datetime value: {other:?}").into())
                }
                (t, _) => {
                    return Err(format!("Found CBOR tag not supported by botocore: {t}").into())
                }
            }
        }
        other => {
            return Err(format!(
                "unsupported CBOR data item ({other}) at byte {}",
                d.position()
            )
            .into())
        }
    })
}

/// Run `f` once per element of an array or map: `len` times, or until the break code of
/// an indefinite-length item.
fn each(
    d: &mut Decoder<'_>,
    len: Option<u64>,
    mut f: impl FnMut(&mut Decoder<'_>) -> Result<(), ReadError>,
) -> Result<(), ReadError> {
    match len {
        Some(n) => {
            for _ in 0..n {
                f(d)?;
            }
        }
        None => loop {
            if d.datatype().map_err(decode_error)? == Type::Break {
                d.set_position(d.position() + 1);
                break;
            }
            f(d)?;
        },
    }
    Ok(())
}

/// A half-precision float (major type 7, additional info 25).
fn half(d: &mut Decoder<'_>) -> Result<f64, String> {
    let p = d.position();
    let bytes = d
        .input()
        .get(p + 1..p + 3)
        .ok_or("End of stream reached; malformed CBOR")?;
    let bits = u16::from_be_bytes(
        <[u8; 2]>::try_from(bytes).map_err(|_| "End of stream reached; malformed CBOR")?,
    );
    d.set_position(p + 3);
    let sign = if bits & 0x8000 != 0 { -1.0 } else { 1.0 };
    let exp = i32::from((bits >> 10) & 0x1f);
    let frac = f64::from(bits & 0x3ff);
    Ok(sign
        * match exp {
            0 => frac * 2f64.powi(-24),
            31 if frac == 0.0 => f64::INFINITY,
            31 => f64::NAN,
            e => (1.0 + frac / 1024.0) * 2f64.powi(e - 15),
        })
}

type Enc = Encoder<Vec<u8>>;

fn enc_error(e: minicbor::encode::Error<std::convert::Infallible>) -> String {
    e.to_string()
}

/// boto3-style params → CBOR, driven by the shape.
pub(crate) struct CborWriter<'m> {
    pub(crate) model: &'m ServiceModel,
}

impl CborWriter<'_> {
    pub(crate) fn encode(&self, r: &ShapeRef, v: &Value) -> Result<Vec<u8>, String> {
        let mut e = Encoder::new(Vec::new());
        self.write(&mut e, r, v, 0)?;
        Ok(e.into_writer())
    }

    fn write(&self, e: &mut Enc, r: &ShapeRef, v: &Value, depth: usize) -> Result<(), String> {
        if depth > MAX_DEPTH {
            return Err(too_deep("the parameters", MAX_DEPTH).to_string());
        }
        let res = Resolved::new(self.model, r)?;
        let shape = res.shape;
        match shape.kind {
            ShapeType::Structure => {
                let obj = v.as_object().ok_or("expected an object")?;
                let set: Vec<(&String, &Value)> =
                    obj.iter().filter(|(_, x)| !x.is_null()).collect();
                e.map(set.len() as u64).map_err(enc_error)?;
                for (k, x) in set {
                    let member = shape
                        .members
                        .get(k)
                        .ok_or_else(|| format!("unknown member {k}"))?;
                    let key = super::shape::wire_name(self.model, k, member);
                    e.str(key).map_err(enc_error)?;
                    self.write(e, member, x, depth + 1)?;
                }
            }
            ShapeType::List => {
                let member = shape.member.as_ref().ok_or("list without member")?;
                let arr = v.as_array().ok_or("expected a list")?;
                e.array(arr.len() as u64).map_err(enc_error)?;
                for x in arr {
                    self.write(e, member, x, depth + 1)?;
                }
            }
            ShapeType::Map => {
                let key = shape.key.as_ref().ok_or("map without key")?;
                let value = shape.value.as_ref().ok_or("map without value")?;
                let obj = v.as_object().ok_or("expected an object")?;
                e.map(obj.len() as u64).map_err(enc_error)?;
                for (k, x) in obj {
                    self.write(e, key, &Value::String(k.clone()), depth + 1)?;
                    self.write(e, value, x, depth + 1)?;
                }
            }
            ShapeType::Integer | ShapeType::Long => {
                let n = v.as_number().ok_or("expected an integer")?;
                match (n.as_u64(), n.as_i64()) {
                    (Some(u), _) => e.u64(u),
                    (None, Some(i)) => e.i64(i),
                    _ => return Err("expected an integer".into()),
                }
                .map_err(enc_error)?;
            }
            ShapeType::Float | ShapeType::Double => {
                let f = match v {
                    Value::Number(n) => n.as_f64().ok_or("expected a number")?,
                    Value::String(s) if s == "NaN" => f64::NAN,
                    Value::String(s) if s == "Infinity" => f64::INFINITY,
                    Value::String(s) if s == "-Infinity" => f64::NEG_INFINITY,
                    _ => return Err("expected a number".into()),
                };
                if f.is_nan() || f.is_infinite() {
                    // botocore writes the special values as half floats.
                    let bits: u16 = if f.is_nan() {
                        0x7e00
                    } else if f > 0.0 {
                        0x7c00
                    } else {
                        0xfc00
                    };
                    let [hi, lo] = bits.to_be_bytes();
                    e.writer_mut().extend_from_slice(&[0xf9, hi, lo]);
                } else if shape.kind == ShapeType::Float {
                    e.f32(f as f32).map_err(enc_error)?;
                } else {
                    e.f64(f).map_err(enc_error)?;
                }
            }
            ShapeType::Boolean => {
                e.bool(v.as_bool().ok_or("expected true or false")?)
                    .map_err(enc_error)?;
            }
            ShapeType::Timestamp => {
                // Tag 1 and whole epoch seconds, as botocore sends them.
                let t = timestamp_param(v).ok_or("invalid timestamp")?;
                let secs = t.0.unix_timestamp();
                e.tag(minicbor::data::Tag::new(1)).map_err(enc_error)?;
                e.i64(secs).map_err(enc_error)?;
            }
            ShapeType::Blob => {
                let s = v.as_str().ok_or("expected a string")?;
                e.bytes(s.as_bytes()).map_err(enc_error)?;
            }
            ShapeType::String | ShapeType::Other => match v {
                Value::String(s) => {
                    e.str(s).map_err(enc_error)?;
                }
                other => {
                    e.str(&other.to_string()).map_err(enc_error)?;
                }
            },
        }
        Ok(())
    }
}

/// CBOR from a service → boto3-shaped JSON, driven by the shape.
pub(crate) struct CborReader<'m> {
    pub(crate) model: &'m ServiceModel,
}

impl CborReader<'_> {
    pub(crate) fn value(&self, r: &ShapeRef, v: &Cbor) -> Result<Value, ReadError> {
        self.value_at(r, v, 0)
    }

    fn value_at(&self, r: &ShapeRef, v: &Cbor, depth: usize) -> Result<Value, ReadError> {
        if depth > MAX_DEPTH {
            return Err(too_deep("the response", MAX_DEPTH));
        }
        let res = Resolved::new(self.model, r)?;
        let shape = res.shape;
        Ok(match (shape.kind, v) {
            (_, Cbor::Null) => Value::Null,
            (ShapeType::Structure, _) if shape.document => raw(v, depth)?,
            (ShapeType::Structure, _) => self.structure_at(r, v, depth)?,
            (ShapeType::List, Cbor::Array(items)) => {
                let member = shape.member.as_ref().ok_or("list without member")?;
                Value::Array(
                    items
                        .iter()
                        .map(|x| self.value_at(member, x, depth + 1))
                        .collect::<Result<_, _>>()?,
                )
            }
            (ShapeType::Map, Cbor::Map(pairs)) => {
                let value = shape.value.as_ref().ok_or("map without value")?;
                let mut out = Map::new();
                for (k, x) in pairs {
                    out.insert(key_text(k), self.value_at(value, x, depth + 1)?);
                }
                Value::Object(out)
            }
            _ => raw(v, depth)?,
        })
    }

    /// A structure: members by their names (botocore's rpcv2 parser reads member names).
    pub(crate) fn structure(&self, r: &ShapeRef, v: &Cbor) -> Result<Value, ReadError> {
        self.structure_at(r, v, 0)
    }

    fn structure_at(&self, r: &ShapeRef, v: &Cbor, depth: usize) -> Result<Value, ReadError> {
        let shape = self.model.shape(&r.shape).map_err(|e| e.to_string())?;
        let pairs = match v {
            Cbor::Map(p) => p,
            Cbor::Null => return Ok(Value::Object(Map::new())),
            _ => return Err("expected a CBOR map".into()),
        };
        if shape.union {
            let set = pairs
                .iter()
                .filter(|(k, _)| !matches!(k, Cbor::Text(t) if t == "__type"))
                .count();
            if set != 1 {
                return Err(format!(
                    "Invalid service response: {} must have one and only one member set.",
                    r.shape
                )
                .into());
            }
        }
        let mut out = Map::new();
        for (name, member) in &shape.members {
            if let Some(x) = v.get(name) {
                out.insert(name.clone(), self.value_at(member, x, depth + 1)?);
            }
        }
        Ok(Value::Object(out))
    }
}

fn key_text(k: &Cbor) -> String {
    match k {
        Cbor::Text(t) => t.clone(),
        Cbor::Int(i) => i.to_string(),
        Cbor::Bytes(b) => String::from_utf8_lossy(b).into_owned(),
        other => format!("{other:?}"),
    }
}

/// A CBOR item as JSON without a shape: bytes as base64 text, tag-1 timestamps as ISO text.
pub(crate) fn raw(v: &Cbor, depth: usize) -> Result<Value, ReadError> {
    if depth > MAX_DEPTH {
        return Err(too_deep("the response", MAX_DEPTH));
    }
    Ok(match v {
        Cbor::Int(i) => match (i64::try_from(*i), u64::try_from(*i)) {
            (Ok(n), _) => Value::from(n),
            (_, Ok(n)) => Value::from(n),
            _ => float_json(*i as f64),
        },
        Cbor::Bytes(b) => Value::String(base64::engine::general_purpose::STANDARD.encode(b)),
        Cbor::Text(t) => Value::String(t.clone()),
        Cbor::Array(items) => Value::Array(
            items
                .iter()
                .map(|x| raw(x, depth + 1))
                .collect::<Result<_, _>>()?,
        ),
        Cbor::Map(pairs) => {
            let mut out = Map::new();
            for (k, x) in pairs {
                out.insert(key_text(k), raw(x, depth + 1)?);
            }
            Value::Object(out)
        }
        Cbor::Time(secs) => Timestamp::from_epoch(*secs)
            .map(|t| Value::String(t.to_isoformat()))
            .unwrap_or_else(|| float_json(*secs)),
        Cbor::Float(f) => float_json(*f),
        Cbor::Bool(b) => Value::Bool(*b),
        Cbor::Null => Value::Null,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_indefinite_items_half_floats_and_tags() {
        // {_ "a": [_ 1, -2], "b": h'0102', "c": 1.5 (f16), "d": 1(1700000000), "e": null}
        let bytes = [
            0xbf, 0x61, b'a', 0x9f, 0x01, 0x21, 0xff, 0x61, b'b', 0x42, 0x01, 0x02, 0x61, b'c',
            0xf9, 0x3e, 0x00, 0x61, b'd', 0xc1, 0x1a, 0x65, 0x53, 0xf1, 0x00, 0x61, b'e', 0xf6,
            0xff,
        ];
        let v = decode(&bytes).unwrap();
        assert_eq!(
            v.get("a"),
            Some(&Cbor::Array(vec![Cbor::Int(1), Cbor::Int(-2)]))
        );
        assert_eq!(v.get("b"), Some(&Cbor::Bytes(vec![1, 2])));
        assert_eq!(v.get("c"), Some(&Cbor::Float(1.5)));
        assert_eq!(v.get("d"), Some(&Cbor::Time(1_700_000_000.0)));
        assert_eq!(v.get("e"), None);
    }

    #[test]
    fn refuses_deep_truncated_and_unknown_tags() {
        let deep = vec![0x81u8; 20_000];
        let err = decode(&deep).unwrap_err();
        assert_eq!(err, too_deep("the CBOR body", MAX_DEPTH));
        assert!(decode(&[0x82, 0x01]).is_err());
        assert!(decode(&[0xc2, 0x41, 0x01])
            .unwrap_err()
            .to_string()
            .contains("tag"));
        // A definite length far beyond the input allocates nothing ahead.
        assert!(decode(&[0x9b, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]).is_err());
    }
}
