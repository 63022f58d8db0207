use serde::Serialize;

/// An error the service answered with, shaped as botocore shapes `ClientError`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApiError {
    pub code: String,
    pub message: String,
    pub http_status: u16,
    pub request_id: Option<String>,
    /// The members of the modeled error shape, when the model has one for this code.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<serde_json::Value>,
}

impl ApiError {
    /// Throttling codes boto3's standard retry mode retries (botocore/retries/standard.py),
    /// plus the transient ones.
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

    pub fn is_transient(&self) -> bool {
        const TRANSIENT: &[&str] = &[
            "RequestTimeout",
            "RequestTimeoutException",
            "PriorRequestNotComplete",
        ];
        TRANSIENT.contains(&self.code.as_str()) || matches!(self.http_status, 500 | 502 | 503 | 504)
    }

    pub fn is_retryable(&self) -> bool {
        self.is_throttling() || self.is_transient()
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

/// Everything that can go wrong between "call this operation" and a parsed response.
/// Messages never contain credential material.
#[derive(Debug, Clone, thiserror::Error)]
pub enum EngineError {
    #[error("unknown service '{service}'{suggestion}")]
    UnknownService { service: String, suggestion: String },
    #[error("unknown operation '{operation}' for service {service}{suggestion}")]
    UnknownOperation {
        service: String,
        operation: String,
        suggestion: String,
    },
    #[error("invalid parameters for {operation}: {message}")]
    InvalidParams { operation: String, message: String },
    #[error("service model: {0}")]
    Model(String),
    #[error("{0}")]
    Api(Box<ApiError>),
    #[error("credentials: {0}")]
    Credentials(String),
    #[error("endpoint: {0}")]
    Endpoint(String),
    #[error("request failed: {0}")]
    Transport(String),
    #[error("request timed out after {0:?}")]
    Timeout(std::time::Duration),
    #[error("could not parse the response of {operation}: {message}")]
    Parse { operation: String, message: String },
    #[error("protocol '{0}' is not supported yet")]
    UnsupportedProtocol(String),
    #[error("pagination of {operation} stopped: {message}")]
    Pagination { operation: String, message: String },
}

impl EngineError {
    pub fn invalid(operation: &str, message: impl Into<String>) -> Self {
        EngineError::InvalidParams {
            operation: operation.to_string(),
            message: message.into(),
        }
    }

    pub fn parse(operation: &str, message: impl Into<String>) -> Self {
        EngineError::Parse {
            operation: operation.to_string(),
            message: message.into(),
        }
    }

    /// Worth another attempt (throttling, 5xx, connection trouble, time-outs).
    pub fn is_retryable(&self) -> bool {
        match self {
            EngineError::Api(e) => e.is_retryable(),
            EngineError::Transport(_) | EngineError::Timeout(_) => true,
            _ => false,
        }
    }

    /// The AWS error code, if the service answered with one.
    pub fn code(&self) -> Option<&str> {
        match self {
            EngineError::Api(e) => Some(&e.code),
            _ => None,
        }
    }
}
