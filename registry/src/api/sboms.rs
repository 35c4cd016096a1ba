//! Vendor-signed SBOMs (issue 14, item 1).

use super::{Caller, with_conn};
use crate::error::ApiError;
use crate::service::sboms::{self, SbomUpload, SbomView};
use crate::state::AppState;
use actix_web::{HttpResponse, get, post, web};

/// Uploads a vendor-signed CycloneDX SBOM (`{sbom_base64,
/// signature_base64}`: the exact SBOM bytes and their detached CMS
/// signature or Sigstore bundle). The signature is verified under the
/// vendor's trust like a firmware signature (`metadata.component` must be
/// one of the vendor's components); each listed image with a SHA-2 hash
/// whose name is a registered component of the vendor binds its version
/// (carried in the trust bundle; the `version-binding` check). The
/// vendor's accepted receipts are judged again. Procurement; audited.
#[utoipa::path(tag = "vendors", params(("id" = String, Path)), request_body = SbomUpload, responses((status = 201, body = SbomView), (status = 400, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody)), security(("bearer" = [])))]
#[post("/vendors/{id}/sboms")]
pub async fn upload(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    body: web::Json<SbomUpload>,
) -> Result<HttpResponse, ApiError> {
    let (id, body) = (id.into_inner(), body.into_inner());
    let time = state.intake().time;
    let v = with_conn(&state, move |c| sboms::upload(c, &caller, &id, body, time)).await?;
    Ok(HttpResponse::Created().json(v))
}

/// A vendor's signed SBOMs, newest first, with the images each binds.
#[utoipa::path(tag = "vendors", params(("id" = String, Path)), responses((status = 200, body = Vec<SbomView>), (status = 404, body = crate::error::ErrorBody)), security(("bearer" = [])))]
#[get("/vendors/{id}/sboms")]
pub async fn list(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let v = with_conn(&state, move |c| sboms::list(c, &caller, &id)).await?;
    Ok(HttpResponse::Ok().json(v))
}
