//! The event-stream codec (`application/vnd.amazon.eventstream`): a body of binary framed
//! messages, each with typed headers and a payload, as botocore's `EventStreamBuffer`
//! decodes it (prelude and message CRC32 checked, every length checked against the bytes
//! there). Turning the messages into events of a shape is [`super::events`].

use base64::Engine as _;
use serde_json::Value;

use crate::timestamp::Timestamp;

/// One header value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum HeaderValue {
    Bool(bool),
    Int(i64),
    Bytes(Vec<u8>),
    Text(String),
    /// Milliseconds since the epoch.
    Time(i64),
    Uuid([u8; 16]),
}

impl HeaderValue {
    pub(crate) fn as_str(&self) -> Option<&str> {
        match self {
            HeaderValue::Text(t) => Some(t),
            _ => None,
        }
    }

    /// As boto3 shows it: bytes as base64, timestamps as ISO 8601.
    pub(crate) fn to_json(&self) -> Value {
        match self {
            HeaderValue::Bool(b) => Value::Bool(*b),
            HeaderValue::Int(i) => Value::from(*i),
            HeaderValue::Bytes(b) => {
                Value::String(base64::engine::general_purpose::STANDARD.encode(b))
            }
            HeaderValue::Text(t) => Value::String(t.clone()),
            HeaderValue::Time(ms) => Timestamp::from_epoch(*ms as f64 / 1000.0)
                .map(|t| Value::String(t.to_isoformat()))
                .unwrap_or_else(|| Value::from(*ms)),
            HeaderValue::Uuid(u) => Value::String(hex::encode(u)),
        }
    }
}

/// One message of the stream.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Message {
    pub(crate) headers: Vec<(String, HeaderValue)>,
    pub(crate) payload: Vec<u8>,
}

impl Message {
    pub(crate) fn header(&self, name: &str) -> Option<&HeaderValue> {
        self.headers.iter().find(|(k, _)| k == name).map(|(_, v)| v)
    }
}

/// A cursor over bytes that fails instead of reading past the end.
struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        let end = self
            .pos
            .checked_add(n)
            .ok_or("event stream length overflow")?;
        let out = self
            .bytes
            .get(self.pos..end)
            .ok_or("truncated event stream message")?;
        self.pos = end;
        Ok(out)
    }
    fn array<const N: usize>(&mut self) -> Result<[u8; N], String> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }
    fn u8(&mut self) -> Result<u8, String> {
        let [b] = self.array::<1>()?;
        Ok(b)
    }
    fn u16(&mut self) -> Result<u16, String> {
        Ok(u16::from_be_bytes(self.array()?))
    }
    fn u32(&mut self) -> Result<u32, String> {
        Ok(u32::from_be_bytes(self.array()?))
    }
}

/// Every message of a body, in order.
pub(crate) fn decode(bytes: &[u8]) -> Result<Vec<Message>, String> {
    let mut out = Vec::new();
    let mut c = Cursor { bytes, pos: 0 };
    while c.pos < bytes.len() {
        let start = c.pos;
        let total = c.u32()? as usize;
        let headers_len = c.u32()? as usize;
        let prelude_crc = c.u32()?;
        let prelude = bytes.get(start..start + 8).ok_or("truncated prelude")?;
        if crc32fast::hash(prelude) != prelude_crc {
            return Err("event stream prelude checksum mismatch".into());
        }
        if total < 16 + headers_len {
            return Err(format!("event stream message length {total} is too short"));
        }
        let message = bytes
            .get(start..start + total)
            .ok_or("truncated event stream message")?;
        let (body, crc) = message.split_at(total - 4);
        let crc = u32::from_be_bytes(
            <[u8; 4]>::try_from(crc).map_err(|_| "truncated event stream message")?,
        );
        if crc32fast::hash(body) != crc {
            return Err("event stream message checksum mismatch".into());
        }
        let mut h = Cursor {
            bytes: c.take(headers_len)?,
            pos: 0,
        };
        let mut headers = Vec::new();
        while h.pos < h.bytes.len() {
            let name_len = usize::from(h.u8()?);
            let name = String::from_utf8_lossy(h.take(name_len)?).into_owned();
            let value = match h.u8()? {
                0 => HeaderValue::Bool(true),
                1 => HeaderValue::Bool(false),
                2 => HeaderValue::Int(i64::from(i8::from_be_bytes(h.array()?))),
                3 => HeaderValue::Int(i64::from(i16::from_be_bytes(h.array()?))),
                4 => HeaderValue::Int(i64::from(i32::from_be_bytes(h.array()?))),
                5 => HeaderValue::Int(i64::from_be_bytes(h.array()?)),
                6 => {
                    let n = usize::from(h.u16()?);
                    HeaderValue::Bytes(h.take(n)?.to_vec())
                }
                7 => {
                    let n = usize::from(h.u16()?);
                    HeaderValue::Text(String::from_utf8_lossy(h.take(n)?).into_owned())
                }
                8 => HeaderValue::Time(i64::from_be_bytes(h.array()?)),
                9 => HeaderValue::Uuid(h.array()?),
                t => return Err(format!("unknown event stream header type {t}")),
            };
            headers.push((name, value));
        }
        let payload_len = total - 16 - headers_len;
        let payload = c.take(payload_len)?.to_vec();
        c.take(4)?; // the message CRC, checked above
        out.push(Message { headers, payload });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(headers: &[(&str, &str)], payload: &[u8]) -> Vec<u8> {
        let mut h = Vec::new();
        for (k, v) in headers {
            h.push(k.len() as u8);
            h.extend_from_slice(k.as_bytes());
            h.push(7);
            h.extend_from_slice(&(v.len() as u16).to_be_bytes());
            h.extend_from_slice(v.as_bytes());
        }
        let total = 16 + h.len() + payload.len();
        let mut m = Vec::new();
        m.extend_from_slice(&(total as u32).to_be_bytes());
        m.extend_from_slice(&(h.len() as u32).to_be_bytes());
        let crc = crc32fast::hash(&m);
        m.extend_from_slice(&crc.to_be_bytes());
        m.extend_from_slice(&h);
        m.extend_from_slice(payload);
        let crc = crc32fast::hash(&m);
        m.extend_from_slice(&crc.to_be_bytes());
        m
    }

    #[test]
    fn decodes_messages_and_refuses_damage() {
        let mut body = message(&[(":event-type", "A")], b"hi");
        body.extend(message(&[], b""));
        let msgs = decode(&body).unwrap();
        assert_eq!(msgs.len(), 2);
        assert_eq!(
            msgs[0].header(":event-type").and_then(HeaderValue::as_str),
            Some("A")
        );
        assert_eq!(msgs[0].payload, b"hi");
        let mut bad = body.clone();
        bad[20] ^= 1;
        assert!(decode(&bad).is_err());
        assert!(decode(&body[..body.len() - 3]).is_err());
        // A length claiming more than there is.
        let mut long = body.clone();
        long[0] = 0x7f;
        assert!(decode(&long).is_err());
    }
}
