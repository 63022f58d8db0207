//! The engine's error, by the stage of a call at which something went wrong — the five
//! stages smithy-rs's `SdkError` distinguishes:
//!
//! | stage | what happened | retried? |
//! |---|---|---|
//! | [`Construction`](EngineError::Construction) | the request could not be built (unknown operation, invalid parameters, no endpoint, no credentials, signing, a spent call budget): nothing was sent | never |
//! | [`Dispatch`](EngineError::Dispatch) | it could not be sent, or its answer not read (connect, reset, I/O) | yes |
//! | [`Timeout`](EngineError::Timeout) | an attempt, the call, or the caller's deadline ran out | attempts only |
//! | [`Response`](EngineError::Response) | an answer came but cannot be used (unparsable, too large, too deep, a pagination that loops) | never |
//! | [`Service`](EngineError::Service) | the service answered with an error, modeled or not | throttling and transient codes only |
//!
//! Which errors retry, and what a retry costs, is decided in one place:
//! [`crate::retry::classify`]. Messages are one line and never contain credential material.

use std::time::Duration;

use serde::Serialize;

/// An error the service answered with, shaped as botocore shapes `ClientError`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApiError {
    /// The AWS error code (`AccessDenied`, `InvalidVpcID.NotFound`, `Throttling`...).
    pub code: String,
    /// The message the service gave with it.
    pub message: String,
    /// The HTTP status of the answer.
    pub http_status: u16,
    /// The request id the service reported, when it did.
    pub request_id: Option<String>,
    /// The members of the modeled error shape, when the model has one for this code
    /// (`None`: an unmodeled error).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<serde_json::Value>,
}

impl ApiError {
    /// Throttling codes boto3's standard retry mode retries (botocore/retries/standard.py).
    pub fn is_throttling(&self) -> bool {
        const THROTTLING: &[&str] = &[
            "Throttling",
            "ThrottlingException",
            "ThrottledException",
            "RequestThrottledException",
            "TooManyRequestsException",
            "ProvisionedThroughputExceededException",
            "TransactionInProgressException",
            "RequestLimitExceeded",
            "BandwidthLimitExceeded",
            "LimitExceededException",
            "RequestThrottled",
            "SlowDown",
            "PriorRequestNotComplete",
            "EC2ThrottledException",
        ];
        THROTTLING.contains(&self.code.as_str())
    }

    /// Transient codes and statuses boto3's standard retry mode retries: request time-outs
    /// and 500/502/503/504.
    pub fn is_transient(&self) -> bool {
        const TRANSIENT: &[&str] = &[
            "RequestTimeout",
            "RequestTimeoutException",
            "PriorRequestNotComplete",
        ];
        TRANSIENT.contains(&self.code.as_str()) || matches!(self.http_status, 500 | 502 | 503 | 504)
    }

    /// Whether the engine retries this answer (throttling or transient).
    pub fn is_retryable(&self) -> bool {
        self.is_throttling() || self.is_transient()
    }

    /// Whether the model describes this error (its members are in [`ApiError::details`]).
    pub fn is_modeled(&self) -> bool {
        self.details.is_some()
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} (HTTP {}): {}",
            self.code, self.http_status, self.message
        )
    }
}

/// Everything that can go wrong between "call this operation" and a parsed response, by
/// stage (see the [module documentation](self)).
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum EngineError {
    /// The request could not be built; nothing was sent. Never retried.
    #[error(transparent)]
    Construction(#[from] ConstructionError),
    /// The request could not be sent or its answer not read. Retried.
    #[error(transparent)]
    Dispatch(#[from] DispatchError),
    /// An attempt, the call or the caller's deadline ran out of time. Attempt time-outs
    /// are retried.
    #[error(transparent)]
    Timeout(#[from] TimeoutError),
    /// An answer came but cannot be used. Never retried: the same request would get the
    /// same answer.
    #[error(transparent)]
    Response(#[from] ResponseError),
    /// The service answered with an error. Throttling and transient errors are retried.
    #[error("{0}")]
    Service(Box<ApiError>),
}

/// Why a request could not be built (nothing was sent).
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum ConstructionError {
    /// No model for this service.
    #[error("unknown service '{service}'{suggestion}")]
    UnknownService {
        /// The name asked for.
        service: String,
        /// ` (did you mean ...?)`, or empty.
        suggestion: String,
    },
    /// The service's model has no such operation.
    #[error("unknown operation '{operation}' for service {service}{suggestion}")]
    UnknownOperation {
        /// The service asked for.
        service: String,
        /// The operation name asked for.
        operation: String,
        /// ` (did you mean ...?)`, or empty.
        suggestion: String,
    },
    /// The parameters do not fit the operation's input shape (botocore's validation), or
    /// cannot be put on the wire as they are (a non-ASCII header value).
    #[error("invalid parameters for {operation}: {message}")]
    InvalidParams {
        /// The operation.
        operation: String,
        /// What is wrong, naming the parameter.
        message: String,
    },
    /// The service models could not be read or are inconsistent.
    #[error("service model: {0}")]
    Model(String),
    /// The service speaks a protocol the engine does not.
    #[error("protocol '{0}' is not supported yet")]
    UnsupportedProtocol(String),
    /// No usable endpoint (unknown partition, a malformed URL).
    #[error("endpoint: {0}")]
    Endpoint(String),
    /// The HTTP request could not be assembled, or the HTTP client could not be set up
    /// (no TLS roots).
    #[error("building the request: {0}")]
    Serialization(String),
    /// No credentials: none configured, a profile that cannot be used, a role that could
    /// not be assumed.
    #[error("credentials: {0}")]
    Credentials(String),
    /// SigV4 signing failed.
    #[error("signing: {0}")]
    Signing(String),
    /// The caller's budget of calls for this pagination is spent.
    #[error("call limit of {limit} AWS calls reached ({operation})")]
    CallLimit {
        /// The paginated operation.
        operation: String,
        /// Calls allowed.
        limit: u64,
    },
}

/// What kind of dispatch failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DispatchKind {
    /// No connection could be made (refused, DNS, TLS handshake).
    Connect,
    /// The connection broke while the request was sent or the answer read.
    Io,
}

/// The request could not be sent, or its answer not read (retried).
#[derive(Debug, Clone, thiserror::Error)]
#[error("request failed: {target}: {message}")]
pub struct DispatchError {
    /// Connect or I/O.
    pub kind: DispatchKind,
    /// `METHOD host` of the request.
    pub target: String,
    /// The transport's reason, its causes joined on one line.
    pub message: String,
}

/// What ran out of time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TimeoutError {
    /// One attempt (connect and answer) took longer than allowed; retried.
    #[error("request timed out after {0:?}")]
    Attempt(Duration),
    /// The whole call, retries and backoff included, took longer than allowed.
    #[error("call timed out after {0:?} (retries included)")]
    Call(Duration),
    /// The caller's deadline for a pagination (a scope's time limit) passed.
    #[error("time limit of {0:?} reached")]
    Deadline(Duration),
}

/// An answer that cannot be used.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum ResponseError {
    /// The body is not what the protocol and the model say it is.
    #[error("could not parse the response of {operation}: {message}")]
    Unparsable {
        /// The operation.
        operation: String,
        /// What was wrong, in one line.
        message: String,
    },
    /// The body is larger than the caller allows; it was refused before parsing (by its
    /// Content-Length, or while it streamed in).
    #[error("the response of {operation} is larger than the limit of {}{}", size(*.limit), declared_note(*.declared))]
    TooLarge {
        /// The operation.
        operation: String,
        /// The limit, bytes.
        limit: u64,
        /// The size the server declared (Content-Length), when it declared one.
        declared: Option<u64>,
    },
    /// The body nests deeper than the readers follow.
    #[error(
        "could not parse the response of {operation}: {what} is nested deeper than {limit} levels"
    )]
    TooDeep {
        /// The operation.
        operation: String,
        /// What was nested: `the XML body`, `the JSON body`...
        what: String,
        /// The deepest nesting read.
        limit: usize,
    },
    /// A pagination came back to a page token it had already followed: it would never end.
    #[error("pagination of {operation} stopped: page {page}'s next token was already seen after page {first_seen} (the server's tokens loop)")]
    PaginationLoop {
        /// The paginated operation.
        operation: String,
        /// The page (1-based) whose token repeated.
        page: u64,
        /// The page that first returned that token.
        first_seen: u64,
    },
}

fn size(bytes: u64) -> String {
    if bytes >= 1 << 20 && bytes % (1 << 20) == 0 {
        format!("{} MiB", bytes >> 20)
    } else {
        format!("{bytes} bytes")
    }
}

fn declared_note(declared: Option<u64>) -> String {
    match declared {
        Some(n) => format!(" (Content-Length {n})"),
        None => String::new(),
    }
}

impl EngineError {
    /// Parameters that do not fit the operation.
    pub fn invalid(operation: &str, message: impl Into<String>) -> Self {
        ConstructionError::InvalidParams {
            operation: operation.to_string(),
            message: message.into(),
        }
        .into()
    }

    /// A response body that cannot be read.
    pub fn parse(operation: &str, message: impl Into<String>) -> Self {
        ResponseError::Unparsable {
            operation: operation.to_string(),
            message: message.into(),
        }
        .into()
    }

    /// No usable credentials.
    pub fn credentials(message: impl Into<String>) -> Self {
        ConstructionError::Credentials(message.into()).into()
    }

    /// The service models cannot be used.
    pub fn model(message: impl Into<String>) -> Self {
        ConstructionError::Model(message.into()).into()
    }

    /// No usable endpoint.
    pub fn endpoint(message: impl Into<String>) -> Self {
        ConstructionError::Endpoint(message.into()).into()
    }

    /// Worth another attempt (see [`crate::retry::classify`]).
    pub fn is_retryable(&self) -> bool {
        crate::retry::classify(self).is_retryable()
    }

    /// The service's answer, if the service answered with an error.
    pub fn service_error(&self) -> Option<&ApiError> {
        match self {
            EngineError::Service(e) => Some(e),
            _ => None,
        }
    }

    /// The AWS error code, if the service answered with one.
    pub fn code(&self) -> Option<&str> {
        self.service_error().map(|e| e.code.as_str())
    }
}

impl From<ApiError> for EngineError {
    fn from(e: ApiError) -> Self {
        EngineError::Service(Box::new(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_one_line_and_name_the_limit() {
        let e: EngineError = ResponseError::TooLarge {
            operation: "DescribeVpcs".into(),
            limit: 16 << 20,
            declared: Some(300_000_000),
        }
        .into();
        assert_eq!(
            e.to_string(),
            "the response of DescribeVpcs is larger than the limit of 16 MiB (Content-Length 300000000)"
        );
        let e: EngineError = ResponseError::PaginationLoop {
            operation: "DescribeLogGroups".into(),
            page: 4,
            first_seen: 2,
        }
        .into();
        assert!(!e.to_string().contains('\n'));
        assert!(e.to_string().contains("page 4"), "{e}");
    }
}
