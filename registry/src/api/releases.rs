//! Product releases: defined, listed, checked (issue 14, item 3).

use super::{Caller, with_conn};
use crate::error::ApiError;
use crate::service::releases::{self, CheckOutcome, ReleaseRequest, ReleaseView};
use crate::state::AppState;
use actix_web::{HttpResponse, get, post, web};

/// Defines a release of a product: `{version, images: [{stage, component,
/// sha256}]}`. Releases do not change (409 for an existing version).
/// Security role; audited.
#[utoipa::path(tag = "releases", params(("id" = String, Path)), request_body = ReleaseRequest, responses((status = 201, body = ReleaseView), (status = 400, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody)), security(("bearer" = [])))]
#[post("/products/{id}/releases")]
pub async fn create(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    body: web::Json<ReleaseRequest>,
) -> Result<HttpResponse, ApiError> {
    let (id, body) = (id.into_inner(), body.into_inner());
    let v = with_conn(&state, move |c| releases::create(c, &caller, &id, body)).await?;
    Ok(HttpResponse::Created().json(v))
}

/// A product's releases, newest first, with their status, support end and
/// last check.
#[utoipa::path(tag = "releases", params(("id" = String, Path)), responses((status = 200, body = Vec<ReleaseView>), (status = 404, body = crate::error::ErrorBody)), security(("bearer" = [])))]
#[get("/products/{id}/releases")]
pub async fn list(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let v = with_conn(&state, move |c| releases::list(c, &caller, &id)).await?;
    Ok(HttpResponse::Ok().json(v))
}

/// One release.
#[utoipa::path(tag = "releases", params(("id" = String, Path), ("version" = String, Path)), responses((status = 200, body = ReleaseView), (status = 404, body = crate::error::ErrorBody)), security(("bearer" = [])))]
#[get("/products/{id}/releases/{version}")]
pub async fn get_one(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (id, version) = path.into_inner();
    let v = with_conn(&state, move |c| releases::get(c, &caller, &id, &version)).await?;
    Ok(HttpResponse::Ok().json(v))
}

/// Checks a release under the current trust state: `{ok, problems,
/// components, attestation}`. Every problem is named (a missing component,
/// an unproven image, one below its floor or outside its stage's
/// allowlist, a signer no stage key verifies); when there is none the
/// registry signs an in-toto release attestation (DSSE). Security role;
/// audited.
#[utoipa::path(tag = "releases", params(("id" = String, Path), ("version" = String, Path)), responses((status = 200, body = CheckOutcome), (status = 404, body = crate::error::ErrorBody)), security(("bearer" = [])))]
#[post("/products/{id}/releases/{version}/check")]
pub async fn check(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (id, version) = path.into_inner();
    let st = state.clone();
    let v = with_conn(&state, move |c| {
        releases::check(c, &caller, &st.key, &id, &version)
    })
    .await?;
    Ok(HttpResponse::Ok().json(v))
}

/// The CycloneDX 1.6 SBOM of a release (`application/vnd.cyclonedx+json`):
/// the product as the root component, each vendor image with its supplier
/// and PSIRT contact, hash and signature-verification properties, the boot
/// stages as dependencies. Built from the release's last passing check:
/// byte-identical when fetched again (409 before a check passed).
#[utoipa::path(tag = "releases", params(("id" = String, Path), ("version" = String, Path)), responses((status = 200, description = "CycloneDX 1.6 JSON", content_type = "application/vnd.cyclonedx+json", body = Object), (status = 404, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody)), security(("bearer" = [])))]
#[get("/products/{id}/releases/{version}/sbom")]
pub async fn sbom(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (id, version) = path.into_inner();
    let author = state.sbom_author.clone();
    let bytes = with_conn(&state, move |c| {
        crate::service::sbom::release_sbom(c, &caller, &id, &version, author.as_deref())
    })
    .await?;
    Ok(HttpResponse::Ok()
        .content_type(crate::service::sbom::MEDIA_TYPE)
        .body(bytes))
}

/// The CRA evidence pack of a release (`application/zip`): the SBOM, the
/// release attestation, the update-integrity description and allowlist
/// exports, the vendors' PSIRT contacts and support periods, the receipts
/// with the registry's reports, the audit history behind them, a printable
/// `summary.html`, and `manifest.json` with the registry's signature
/// `manifest.sig`. Byte-identical when rebuilt from the same state;
/// `X-Tollgate-Signature` signs the whole archive. Admin, security,
/// auditor; 409 before the release passed its check.
#[utoipa::path(tag = "releases", params(("id" = String, Path), ("version" = String, Path)), responses((status = 200, description = "ZIP archive", content_type = "application/zip", body = Vec<u8>), (status = 404, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody)), security(("bearer" = [])))]
#[get("/products/{id}/releases/{version}/evidence")]
pub async fn evidence(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (id, version) = path.into_inner();
    let st = state.clone();
    let (bytes, name) = with_conn(&state, move |c| {
        crate::service::cra::evidence_pack(
            c,
            &caller,
            &st.key,
            &id,
            &version,
            st.sbom_author.as_deref(),
        )
    })
    .await?;
    let sig = base64::Engine::encode(
        &base64::engine::general_purpose::STANDARD,
        state.key.sign(&bytes),
    );
    Ok(HttpResponse::Ok()
        .content_type("application/zip")
        .insert_header(("X-Tollgate-Signature", sig))
        .insert_header((
            actix_web::http::header::CONTENT_DISPOSITION,
            // Product ids and release versions are restricted to
            // filename-safe characters when they are created.
            format!("attachment; filename=\"{name}\""),
        ))
        .body(bytes))
}
