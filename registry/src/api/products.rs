//! Products, boot stages and the signed allowlist exports.

use super::{Caller, etag, if_match, with_conn};
use crate::error::ApiError;
use crate::service::products::{self, ExportFormat, ProductRequest, ProductView, Published, view};
use crate::state::AppState;
use actix_web::{HttpRequest, HttpResponse, get, post, put, web};
use base64::Engine;
use serde::Deserialize;
use utoipa::IntoParams;

/// Creates a product with its boot chain.
#[utoipa::path(tag = "products", request_body = ProductRequest, responses((status = 201, body = ProductView), (status = 400, body = crate::error::ErrorBody)), security(("bearer" = [])))]
#[post("/products")]
pub async fn create(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Json<ProductRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let (row, v) = with_conn(&state, move |c| {
        let row = products::create(c, &caller, body)?;
        let v = view(&row)?;
        Ok((row, v))
    })
    .await?;
    Ok(HttpResponse::Created()
        .insert_header(("ETag", etag(row.row_version)))
        .json(v))
}

/// Replaces a product's name and boot chain. Needs `If-Match`.
#[utoipa::path(tag = "products", params(("id" = String, Path), ("If-Match" = String, Header)), request_body = ProductRequest, responses((status = 200, body = ProductView), (status = 412, body = crate::error::ErrorBody)), security(("bearer" = [])))]
#[put("/products/{id}")]
pub async fn update(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<String>,
    body: web::Json<ProductRequest>,
) -> Result<HttpResponse, ApiError> {
    let expected = if_match(&req)?;
    let (id, body) = (id.into_inner(), body.into_inner());
    let (row, v) = with_conn(&state, move |c| {
        let row = products::update(c, &caller, &id, expected, body)?;
        let v = view(&row)?;
        Ok((row, v))
    })
    .await?;
    Ok(HttpResponse::Ok()
        .insert_header(("ETag", etag(row.row_version)))
        .json(v))
}

/// Lists products.
#[utoipa::path(tag = "products", responses((status = 200, body = Vec<ProductView>)), security(("bearer" = [])))]
#[get("/products")]
pub async fn list(state: web::Data<AppState>, caller: Caller) -> Result<HttpResponse, ApiError> {
    let views = with_conn(&state, move |c| {
        products::list(c, &caller)?
            .iter()
            .map(view)
            .collect::<Result<Vec<_>, _>>()
    })
    .await?;
    Ok(HttpResponse::Ok().json(views))
}

/// Export formats.
#[derive(Deserialize, IntoParams)]
pub struct ExportQuery {
    /// `json` (default), `efi-db`, `efi-dbx`, `c-header`, or `diff` (against
    /// the allowlist security last published, or with `since` the export
    /// recorded at that bundle serial).
    pub format: Option<String>,
    /// For `diff`: compare with the export recorded at this trust-bundle
    /// serial (the newest at or below it).
    pub since: Option<i64>,
}

/// The export bytes and media type (shared by the API and the pages).
pub async fn export_async(
    state: &web::Data<AppState>,
    actor: crate::service::Actor,
    id: String,
    q: ExportQuery,
) -> Result<(Vec<u8>, &'static str), ApiError> {
    with_conn(state, move |c| {
        let format = ExportFormat::parse(q.format.as_deref())?;
        products::export(c, &actor, &id, format, q.since)
    })
    .await
}

/// The product's allowlist in the requested format. The same registry
/// state gives the same bytes; every export is signed by the registry key
/// (`X-Tollgate-Signature`: base64 DER ECDSA P-256/SHA-256 over the body).
#[utoipa::path(tag = "products", params(("id" = String, Path), ExportQuery), responses((status = 200, description = "the export")), security(("bearer" = [])))]
#[get("/products/{id}/allowlist")]
pub async fn allowlist(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    q: web::Query<ExportQuery>,
) -> Result<HttpResponse, ApiError> {
    let (body, ct) = export_async(&state, caller, id.into_inner(), q.into_inner()).await?;
    let sig = base64::engine::general_purpose::STANDARD.encode(state.key.sign(&body));
    Ok(HttpResponse::Ok()
        .content_type(ct)
        .insert_header(("X-Tollgate-Signature", sig))
        .body(body))
}

/// The detached signature (DER) of an export, for tools that want a file.
#[utoipa::path(tag = "products", params(("id" = String, Path), ExportQuery), responses((status = 200, description = "DER ECDSA signature")), security(("bearer" = [])))]
#[get("/products/{id}/allowlist/signature")]
pub async fn allowlist_signature(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    q: web::Query<ExportQuery>,
) -> Result<HttpResponse, ApiError> {
    let (body, _) = export_async(&state, caller, id.into_inner(), q.into_inner()).await?;
    Ok(HttpResponse::Ok()
        .content_type("application/octet-stream")
        .body(state.key.sign(&body)))
}

/// Publishes the product's current allowlist as the baseline diffs compare
/// with (security). A reader's GET never moves the baseline.
#[utoipa::path(tag = "products", params(("id" = String, Path)), responses((status = 201, body = Published)), security(("bearer" = [])))]
#[post("/products/{id}/allowlist/publish")]
pub async fn publish(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let p = with_conn(&state, move |c| products::publish(c, &caller, &id)).await?;
    Ok(HttpResponse::Created().json(p))
}

/// The registry's attestation for every image in a product's allowlist:
/// `{product, images: [{component, version, sha256, receipt, attestation}]}`
/// where each attestation is a DSSE envelope signed by the registry key
/// over the VSA of the receipt that proves the image (docs/evidence.md).
#[utoipa::path(tag = "products", params(("id" = String, Path)), responses((status = 200, description = "per-image DSSE envelopes", body = Object), (status = 404, body = crate::error::ErrorBody)), security(("bearer" = [])))]
#[get("/products/{id}/attestations")]
pub async fn attestations(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let verifier = state.key.verifier_id();
    let pid = id.clone();
    let images = with_conn(&state, move |c| {
        products::image_statements(c, &caller, &pid, &verifier)
    })
    .await?;
    let mut out = Vec::with_capacity(images.len());
    for i in images {
        let env = state.key.attest(&i.statement).map_err(ApiError::internal)?;
        out.push(serde_json::json!({
            "component": i.component, "version": i.version, "sha256": i.sha256,
            "receipt": i.receipt, "attestation": env,
        }));
    }
    Ok(HttpResponse::Ok().json(serde_json::json!({ "product": id, "images": out })))
}
