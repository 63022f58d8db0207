//! The `query` and `ec2` protocols (botocore's `QuerySerializer`/`EC2Serializer` and
//! `QueryParser`/`EC2QueryParser`): form-encoded requests, XML responses.

use serde_json::Value;

use super::errors;
use super::form::{form_encode, FormWriter};
use super::shape::ReadError;
use super::xml;
use super::{Protocol, WireRequest, WireResponse};
use crate::error::EngineError;
use crate::model::{Operation, ServiceModel};

pub(crate) struct Query {
    pub(crate) ec2: bool,
}

impl Protocol for Query {
    fn serialize(
        &self,
        model: &ServiceModel,
        op: &Operation,
        params: &Value,
    ) -> Result<WireRequest, EngineError> {
        let mut w = FormWriter {
            model,
            ec2: self.ec2,
            out: vec![
                ("Action".into(), op.name.clone()),
                ("Version".into(), model.metadata.api_version.clone()),
            ],
        };
        if let Some(input) = &op.input {
            w.write(input, params, "")
                .map_err(|m| EngineError::invalid(&op.name, m))?;
        }
        let mut req = WireRequest::new(&op.http.method, "/");
        req.headers.push((
            "Content-Type".into(),
            "application/x-www-form-urlencoded; charset=utf-8".into(),
        ));
        req.body = form_encode(&w.out).into_bytes().into();
        Ok(req)
    }

    fn parse(
        &self,
        model: &ServiceModel,
        op: &Operation,
        resp: &WireResponse,
    ) -> Result<Value, EngineError> {
        let perr = |e: ReadError| e.into_engine(&op.name);
        if resp.status >= 301 {
            let parsed = match errors::generic(resp) {
                Some(p) => p,
                None => errors::xml_error(resp, self.ec2).map_err(perr)?,
            };
            return Err(errors::api_error(model, op, parsed, resp));
        }
        let Some(output) = &op.output else {
            return Ok(Value::Object(Default::default()));
        };
        if resp.body.iter().all(u8::is_ascii_whitespace) {
            return Ok(Value::Object(Default::default()));
        }
        let shape = model.shape(&output.shape)?;
        // Query responses wrap the result in <OperationResult> (the model's resultWrapper).
        let wrapper = output
            .result_wrapper
            .clone()
            .unwrap_or_else(|| format!("{}Result", op.name));
        let root = xml::Root::Structure {
            shape,
            wrapper: (!self.ec2).then_some(wrapper.as_str()),
        };
        xml::parse_body(model, root, &resp.body).map_err(perr)
    }
}
