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
    /// `payload_too_large`, `internal`.
    pub code: &'static str,
    /// A sentence for a person.
    pub message: String,
}

/// Errors of the API.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// Invalid input.
    #[error("{0}")]
    BadRequest(String),
    /// No or unknown token.
    #[error("a valid bearer token is required")]
    Unauthorized,
    /// The role may not do this.
    #[error("{0}")]
    Forbidden(String),
    /// No such record.
    #[error("{0}")]
    NotFound(String),
    /// Already exists, or conflicts with state.
    #[error("{0}")]
    Conflict(String),
    /// If-Match does not match the current version.
    #[error("{0}")]
    PreconditionFailed(String),
    /// If-Match missing on an update.
    #[error("{0}")]
    PreconditionRequired(String),
    /// Anything else. The message is logged, never sent.
    #[error("internal error")]
    Internal(String),
}

impl ApiError {
    /// Wraps an internal failure (logged once, here).
    pub fn internal(e: impl std::fmt::Display) -> Self {
        let msg = e.to_string();
        tracing::error!(error = %msg, "request failed with an internal error");
        ApiError::Internal(msg)
    }

    fn code(&self) -> &'static str {
        match self {
            ApiError::BadRequest(_) => "bad_request",
            ApiError::Unauthorized => "unauthorized",
            ApiError::Forbidden(_) => "forbidden",
            ApiError::NotFound(_) => "not_found",
            ApiError::Conflict(_) => "conflict",
            ApiError::PreconditionFailed(_) => "precondition_failed",
            ApiError::PreconditionRequired(_) => "precondition_required",
            ApiError::Internal(_) => "internal",
        }
    }
}

/// The one mapping of the service layer's errors to HTTP statuses.
impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> Self {
        match e {
            ServiceError::Invalid(m) => ApiError::BadRequest(m),
            ServiceError::Forbidden(m) => ApiError::Forbidden(m),
            ServiceError::NotFound(m) => ApiError::NotFound(m),
            ServiceError::Conflict(m) => ApiError::Conflict(m),
            ServiceError::Stale(m) => ApiError::PreconditionFailed(m),
            // Already logged where it happened.
            ServiceError::Internal(m) => ApiError::Internal(m),
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
        match self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::PreconditionFailed(_) => StatusCode::PRECONDITION_FAILED,
            ApiError::PreconditionRequired(_) => StatusCode::PRECONDITION_REQUIRED,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let mut resp = HttpResponse::build(self.status_code());
        if matches!(self, ApiError::Unauthorized) {
            resp.insert_header(("WWW-Authenticate", "Bearer"));
        }
        resp.json(ErrorBody {
            error: ErrorDetail {
                code: self.code(),
                message: self.to_string(),
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
                    return actix_web::error::InternalError::from_response(
                        err.to_string(),
                        HttpResponse::PayloadTooLarge().json(ErrorBody {
                            error: ErrorDetail {
                                code: "payload_too_large",
                                message: format!(
                                    "the request body is over the limit of {limit} bytes"
                                ),
                            },
                        }),
                    )
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
