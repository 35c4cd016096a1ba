//! Vendor certificates: upload (PEM or DER), checked on the way in.

use super::{Caller, with_conn};
use crate::error::ApiError;
use crate::service::certificates::{
    self, CertificateSource, CertificateUpload, CertificateView, view,
};
use crate::state::AppState;
use actix_web::{HttpResponse, get, post, web};
use serde::Deserialize;
use utoipa::IntoParams;

/// Uploads a vendor certificate (anchor or intermediate). Registering an
/// anchor needs, by default, a second person's approval (202 with the
/// proposal: `/proposals`).
#[utoipa::path(tag = "certificates", params(("id" = String, Path)), request_body = CertificateUpload, responses((status = 201, body = CertificateView), (status = 202, body = crate::service::approvals::ProposalView, description = "the change needs more approvals: a proposal was recorded (Location: /api/v1/proposals/{id})"), (status = 400, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody)), security(("bearer" = [])))]
#[post("/vendors/{id}/certificates")]
pub async fn upload(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    body: web::Json<CertificateUpload>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let body = body.into_inner();
    let source = CertificateSource::Fields {
        pem: body.pem,
        der_base64: body.der_base64,
    };
    super::submit_change(
        &state,
        caller,
        actix_web::http::StatusCode::CREATED,
        move |caller| {
            certificates::registration_change(caller, id, body.role, source, body.lookalike_reason)
        },
    )
    .await
}

/// Lists a vendor's certificates.
#[utoipa::path(tag = "certificates", params(("id" = String, Path)), responses((status = 200, body = Vec<CertificateView>)), security(("bearer" = [])))]
#[get("/vendors/{id}/certificates")]
pub async fn list_for_vendor(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let rows = with_conn(&state, move |c| {
        certificates::list_for_vendor(c, &caller, &id)
    })
    .await?;
    Ok(HttpResponse::Ok().json(rows.iter().map(view).collect::<Vec<_>>()))
}

/// Retires a certificate (`{reason, confirm_brick?}`): out of the trust
/// bundle from the next serial, and every image whose evidence needed it out
/// of the allowlists (its receipts are judged again and withdrawn); kept on
/// record and on the audit log, listed as retired. Runs the brick check
/// (409 unless `confirm_brick`). Admin, procurement or security.
#[utoipa::path(tag = "certificates", params(("id" = i64, Path)), request_body = crate::service::retire::RetirementRequest, responses((status = 200, body = CertificateView), (status = 400, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody)), security(("bearer" = [])))]
#[post("/certificates/{id}/retire")]
pub async fn retire(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i64>,
    body: web::Json<crate::service::retire::RetirementRequest>,
) -> Result<HttpResponse, ApiError> {
    let (id, body) = (id.into_inner(), body.into_inner());
    let row = with_conn(&state, move |c| {
        crate::service::retire::retire_certificate(c, &caller, id, body)
    })
    .await?;
    Ok(HttpResponse::Ok().json(view(&row)))
}

/// Query of the expiring list.
#[derive(Deserialize, IntoParams)]
pub struct ExpiringQuery {
    /// Window in days (default 90).
    pub days: Option<i64>,
}

/// Certificates expiring within `days` (default 90), soonest first.
#[utoipa::path(tag = "certificates", params(ExpiringQuery), responses((status = 200, body = Vec<CertificateView>)), security(("bearer" = [])))]
#[get("/certificates/expiring")]
pub async fn expiring(
    state: web::Data<AppState>,
    caller: Caller,
    q: web::Query<ExpiringQuery>,
) -> Result<HttpResponse, ApiError> {
    let days = q.days;
    let rows = with_conn(&state, move |c| certificates::expiring(c, &caller, days)).await?;
    Ok(HttpResponse::Ok().json(rows.iter().map(view).collect::<Vec<_>>()))
}

/// Records a CA key several vendors may register (`{pem, vendors, reason}`;
/// without it a key belongs to one vendor). Security; audited; shown on
/// each vendor's page and carried in the bundle. By default a second
/// person approves it first (202 with the proposal).
#[utoipa::path(tag = "certificates", request_body = certificates::SharedCaRequest, responses((status = 201, body = certificates::SharedCaView), (status = 202, body = crate::service::approvals::ProposalView, description = "the change needs more approvals: a proposal was recorded (Location: /api/v1/proposals/{id})"), (status = 400, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody)), security(("bearer" = [])))]
#[post("/shared-cas")]
pub async fn record_shared(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Json<certificates::SharedCaRequest>,
) -> Result<HttpResponse, ApiError> {
    let request = body.into_inner();
    super::submit_change(
        &state,
        caller,
        actix_web::http::StatusCode::CREATED,
        move |_| Ok(crate::service::approvals::Change::RecordSharedCa { request }),
    )
    .await
}

/// Lists the shared-CA records.
#[utoipa::path(tag = "certificates", responses((status = 200, body = Vec<certificates::SharedCaView>)), security(("bearer" = [])))]
#[get("/shared-cas")]
pub async fn list_shared(
    state: web::Data<AppState>,
    caller: Caller,
) -> Result<HttpResponse, ApiError> {
    let rows = with_conn(&state, move |c| certificates::shared_cas(c, &caller, None)).await?;
    Ok(HttpResponse::Ok().json(
        rows.iter()
            .map(certificates::shared_view)
            .collect::<Vec<_>>(),
    ))
}
