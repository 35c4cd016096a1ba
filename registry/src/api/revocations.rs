//! Revocations (by certificate, or imported from a CRL) and TSA anchors.

use super::{Caller, with_conn};
use crate::error::ApiError;
use crate::service::revocations::{
    self, CrlImport, CrlImportResult, RevocationRequest, RevocationView,
};
use crate::service::tsa::{self, TsaAnchorRequest, TsaAnchorView};
use crate::state::AppState;
use actix_web::{HttpResponse, get, post, web};

/// Lists revocations.
#[utoipa::path(tag = "revocations", responses((status = 200, body = Vec<RevocationView>)), security(("bearer" = [])))]
#[get("/revocations")]
pub async fn list(state: web::Data<AppState>, caller: Caller) -> Result<HttpResponse, ApiError> {
    let rows = with_conn(&state, move |c| revocations::list(c, &caller)).await?;
    Ok(HttpResponse::Ok().json(rows.iter().map(revocations::view).collect::<Vec<_>>()))
}

/// Revokes a certificate. By default a second person with the security
/// role must approve it first (202 with the proposal: `/proposals`).
#[utoipa::path(tag = "revocations", request_body = RevocationRequest, responses((status = 201, body = RevocationView), (status = 202, body = crate::service::approvals::ProposalView, description = "the change needs more approvals: a proposal was recorded (Location: /api/v1/proposals/{id})"), (status = 400, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody)), security(("bearer" = [])))]
#[post("/revocations")]
pub async fn create(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Json<RevocationRequest>,
) -> Result<HttpResponse, ApiError> {
    let request = body.into_inner();
    super::submit_change(
        &state,
        caller,
        actix_web::http::StatusCode::CREATED,
        move |_| Ok(crate::service::approvals::Change::RevokeCertificate { request }),
    )
    .await
}

/// Imports a CRL: its issuer must be a registered CA certificate, its
/// signature must verify, and each entry becomes a revocation by issuer and
/// serial. Reason and invalidity date come from the entry extensions; a
/// keyCompromise/cACompromise entry without invalidity date is revoked for all
/// time, any other reason from its revocation date.
#[utoipa::path(tag = "revocations", request_body = CrlImport, responses((status = 201, body = CrlImportResult), (status = 400, body = crate::error::ErrorBody)), security(("bearer" = [])))]
#[post("/revocations/crl")]
pub async fn import_crl(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Json<CrlImport>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let result = with_conn(&state, move |c| revocations::import_crl(c, &caller, body)).await?;
    Ok(HttpResponse::Created().json(result))
}

/// Lists TSA anchors.
#[utoipa::path(tag = "tsa", responses((status = 200, body = Vec<TsaAnchorView>)), security(("bearer" = [])))]
#[get("/tsa-anchors")]
pub async fn list_tsa(
    state: web::Data<AppState>,
    caller: Caller,
) -> Result<HttpResponse, ApiError> {
    let rows = with_conn(&state, move |c| tsa::list(c, &caller)).await?;
    Ok(HttpResponse::Ok().json(rows))
}

/// Trusts a time-stamping authority root.
#[utoipa::path(tag = "tsa", request_body = TsaAnchorRequest, responses((status = 201, body = TsaAnchorView), (status = 400, body = crate::error::ErrorBody)), security(("bearer" = [])))]
#[post("/tsa-anchors")]
pub async fn add_tsa(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Json<TsaAnchorRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let row = with_conn(&state, move |c| tsa::add(c, &caller, body)).await?;
    Ok(HttpResponse::Created().json(row))
}

/// Retires a TSA anchor (`{reason, confirm_brick?}`): its timestamps prove
/// nothing from the next serial; every accepted receipt is judged again and
/// those that needed it are withdrawn; kept on record, listed as retired,
/// audited; brick check (409 unless `confirm_brick`). Admin, procurement or
/// security.
#[utoipa::path(tag = "tsa", params(("id" = i64, Path)), request_body = crate::service::retire::RetirementRequest, responses((status = 200, body = TsaAnchorView), (status = 400, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody)), security(("bearer" = [])))]
#[post("/tsa-anchors/{id}/retire")]
pub async fn retire_tsa(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i64>,
    body: web::Json<crate::service::retire::RetirementRequest>,
) -> Result<HttpResponse, ApiError> {
    let (id, body) = (id.into_inner(), body.into_inner());
    let row = with_conn(&state, move |c| {
        crate::service::retire::retire_tsa_anchor(c, &caller, id, body)
    })
    .await?;
    Ok(HttpResponse::Ok().json(tsa::view(&row)))
}
