//! The signed trust bundle and the registry certificate.

use super::Caller;
use crate::error::ApiError;
use crate::state::AppState;
use actix_web::{HttpRequest, HttpResponse, get, web};

/// The signed trust bundle (docs/registry.md). Supports `If-None-Match`.
#[utoipa::path(tag = "trust-bundle", responses((status = 200, description = "signed envelope"), (status = 304, description = "unchanged")), security(("bearer" = [])))]
#[get("/trust-bundle")]
pub async fn get_bundle(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let st = state.clone();
    let bundle = web::block(move || crate::service::bundle::current(&st, &caller)).await??;
    let matches = req
        .headers()
        .get("If-None-Match")
        .and_then(|h| h.to_str().ok())
        .is_some_and(|h| h.split(',').any(|t| t.trim() == bundle.etag));
    if matches {
        return Ok(HttpResponse::NotModified()
            .insert_header(("ETag", bundle.etag))
            .finish());
    }
    Ok(HttpResponse::Ok()
        .insert_header(("ETag", bundle.etag.clone()))
        .insert_header(("X-Tollgate-Bundle-Serial", bundle.serial.to_string()))
        .content_type("application/json")
        .body(bundle.body))
}

/// The registry's bundle-signing certificate (PEM), to pin on stations. Public.
#[utoipa::path(tag = "trust-bundle", responses((status = 200, description = "PEM certificate")))]
#[get("/registry-certificate")]
pub async fn registry_certificate(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/x-pem-file")
        .body(state.key.certificate_pem.clone())
}
