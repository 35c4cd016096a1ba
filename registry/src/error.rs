//! The one JSON error shape and the HTTP status mapping (the only place
//! statuses are chosen for errors).

use crate::service::ServiceError;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use utoipa::ToSchema;

/// The body of every error response.
#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

/// Machine code and human message.
#[derive(Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable code: `bad_request`, `unauthorized`, `forbidden`, `not_found`,
    /// `conflict`, `precondition_failed`, `precondition_required`,
    /// `payload_too_large`, `unavailable`, `internal`.
    pub code: &'static str,
    /// A sentence for a person.
    pub message: String,
    /// The request's id (also in the `X-Request-Id` header and the log
    /// line of the request): quote it when reporting a problem.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

/// Errors of the API: the service layer's refusals, plus what only HTTP
/// has (a request that cannot be read, no token, no If-Match).
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The operation refused or failed (see [`ServiceError`]).
    #[error("{0}")]
    Service(#[from] ServiceError),
    /// The request itself could not be read (body, header, form).
    #[error("{0}")]
    BadRequest(String),
    /// No or unknown token.
    #[error("a valid bearer token is required")]
    Unauthorized,
    /// If-Match missing on an update.
    #[error("{0}")]
    PreconditionRequired(String),
    /// A request body over its limit.
    #[error("{0}")]
    TooLarge(String),
}

impl ApiError {
    /// Wraps an internal failure (logged once, by the service layer).
    pub fn internal(e: impl std::fmt::Display) -> Self {
        ApiError::Service(ServiceError::internal(e))
    }

    /// The one mapping of errors to HTTP statuses and stable codes.
    fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            ApiError::Service(e) => match e {
                ServiceError::Invalid(_) => (StatusCode::BAD_REQUEST, "bad_request"),
                ServiceError::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden"),
                ServiceError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
                ServiceError::Conflict(_) => (StatusCode::CONFLICT, "conflict"),
                ServiceError::Stale(_) => (StatusCode::PRECONDITION_FAILED, "precondition_failed"),
                ServiceError::Unavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
                ServiceError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
            },
            ApiError::BadRequest(_) => (StatusCode::BAD_REQUEST, "bad_request"),
            ApiError::Unauthorized => (StatusCode::UNAUTHORIZED, "unauthorized"),
            ApiError::PreconditionRequired(_) => {
                (StatusCode::PRECONDITION_REQUIRED, "precondition_required")
            }
            ApiError::TooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"),
        }
    }
}

impl From<actix_web::error::BlockingError> for ApiError {
    fn from(e: actix_web::error::BlockingError) -> Self {
        ApiError::internal(e)
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status_and_code().0
    }

    fn error_response(&self) -> HttpResponse {
        self.response(None)
    }
}

impl ApiError {
    /// The error response, naming the request's id when known (the
    /// request middleware in `lib.rs` rebuilds every API error with it).
    pub fn response(&self, request_id: Option<&str>) -> HttpResponse {
        let mut resp = HttpResponse::build(self.status_code());
        if matches!(self, ApiError::Unauthorized) {
            resp.insert_header(("WWW-Authenticate", "Bearer"));
        }
        resp.json(ErrorBody {
            error: ErrorDetail {
                code: self.status_and_code().1,
                message: self.to_string(),
                request_id: request_id.map(str::to_string),
            },
        })
    }
}

/// Turns actix's own JSON/path/query extractor errors into the one shape.
pub fn json_config() -> actix_web::web::JsonConfig {
    actix_web::web::JsonConfig::default()
        .limit(crate::MAX_JSON_BODY)
        .error_handler(|err, _| {
            let msg = match &err {
                actix_web::error::JsonPayloadError::Overflow { limit }
                | actix_web::error::JsonPayloadError::OverflowKnownLength { limit, .. } => {
                    return ApiError::TooLarge(format!(
                        "the request body is over the limit of {limit} bytes"
                    ))
                    .into();
                }
                other => format!("invalid JSON body: {other}"),
            };
            ApiError::BadRequest(msg).into()
        })
}

/// Query-string errors in the one shape.
pub fn query_config() -> actix_web::web::QueryConfig {
    actix_web::web::QueryConfig::default()
        .error_handler(|err, _| ApiError::BadRequest(format!("invalid query: {err}")).into())
}

/// Path errors in the one shape.
pub fn path_config() -> actix_web::web::PathConfig {
    actix_web::web::PathConfig::default()
        .error_handler(|err, _| ApiError::BadRequest(format!("invalid path: {err}")).into())
}
