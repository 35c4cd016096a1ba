//! Inspection receipts: append-only.

use super::{Caller, parse_time, with_conn};
use crate::error::ApiError;
use crate::service::PageRequest;
use crate::service::receipts::{
    self, BatchResult, ReceiptBatch, ReceiptFilter, ReceiptRequest, ReceiptView, SignedBatch,
    SignedBatchResult, view,
};
use crate::state::AppState;
use actix_web::{HttpResponse, get, post, put, web};
use serde::Deserialize;
use utoipa::IntoParams;

/// Records one receipt. The registry re-verifies its evidence with the
/// inspector core under its current trust state and answers with the
/// receipt it created: the station's verdict, the registry's, and whether
/// they disagree (docs/evidence.md).
#[utoipa::path(tag = "receipts", request_body = ReceiptRequest, responses((status = 201, body = ReceiptView)), security(("bearer" = [])))]
#[post("/receipts")]
pub async fn create(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Json<ReceiptRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let st = state.clone();
    let v = with_conn(&state, move |c| {
        receipts::create(c, &caller, &st.intake(), body)
    })
    .await?;
    state.metrics.receipts.inc();
    if v.disagreement {
        state.metrics.disagreements.inc();
    }
    Ok(HttpResponse::Created().json(v))
}

/// Records many receipts (at most 1,000) in one transaction: all or none,
/// each re-verified like a single receipt.
#[utoipa::path(tag = "receipts", request_body = ReceiptBatch, responses((status = 201, body = BatchResult)), security(("bearer" = [])))]
#[post("/receipts/batch")]
pub async fn create_batch(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Json<ReceiptBatch>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let st = state.clone();
    let r = with_conn(&state, move |c| {
        receipts::create_batch(c, &caller, &st.intake(), body)
    })
    .await?;
    state
        .metrics
        .receipts
        .inc_by(u64::try_from(r.recorded).unwrap_or(0));
    state
        .metrics
        .disagreements
        .inc_by(u64::try_from(r.disagreements).unwrap_or(0));
    Ok(HttpResponse::Created().json(r))
}

/// Records receipts signed by their stations (DSSE envelopes over in-toto
/// VSA statements, docs/evidence.md), all or none, at most 1,000.
/// Idempotent: an envelope recorded before is answered with its id and not
/// recorded again, so an offline station can push the same file twice.
#[utoipa::path(tag = "receipts", request_body = SignedBatch, responses((status = 201, body = SignedBatchResult)), security(("bearer" = [])))]
#[post("/receipts/signed")]
pub async fn create_signed(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Json<SignedBatch>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let st = state.clone();
    let r = with_conn(&state, move |c| {
        receipts::create_signed(c, &caller, &st.intake(), body)
    })
    .await?;
    state
        .metrics
        .receipts
        .inc_by(u64::try_from(r.recorded).unwrap_or(0));
    state
        .metrics
        .disagreements
        .inc_by(u64::try_from(r.disagreements).unwrap_or(0));
    Ok(HttpResponse::Created().json(r))
}

/// The registry's own attestation about a receipt: a DSSE envelope, signed
/// by the registry key (the certificate at `/registry-certificate`), over
/// an in-toto Statement v1 with a SLSA VSA v1 predicate carrying the
/// registry's verdict and report (docs/evidence.md).
#[utoipa::path(tag = "receipts", params(("id" = i64, Path, description = "Receipt id")), responses((status = 200, description = "DSSE envelope", body = Object), (status = 404, body = crate::error::ErrorBody)), security(("bearer" = [])))]
#[get("/receipts/{id}/attestation")]
pub async fn attestation(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let verifier = state.key.verifier_id();
    let statement = with_conn(&state, move |c| {
        receipts::attestation_statement(c, &caller, id, &verifier)
    })
    .await?;
    let env = state.key.attest(&statement).map_err(ApiError::internal)?;
    Ok(HttpResponse::Ok().json(env))
}

/// Settles a station-asserted receipt (evidence the registry cannot
/// re-verify from digests: Ed25519 without signed attributes signs the
/// blob itself) by uploading the blob, as `application/octet-stream`, at
/// most 16 MiB. It must be the receipt's blob (SHA-256 and size); the
/// registry verifies the evidence over it and records its verdict. The
/// blob is read as a stream into a bounded buffer and not kept.
#[utoipa::path(tag = "receipts", params(("id" = i64, Path, description = "Receipt id")), request_body(content = Vec<u8>, content_type = "application/octet-stream"), responses((status = 200, body = ReceiptView), (status = 409, body = crate::error::ErrorBody), (status = 413, body = crate::error::ErrorBody)), security(("bearer" = [])))]
#[put("/receipts/{id}/blob")]
pub async fn upload_blob(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i64>,
    mut body: web::Payload,
) -> Result<HttpResponse, ApiError> {
    use futures_util::StreamExt;
    let limit = receipts::max_blob_upload();
    let mut blob = Vec::new();
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|e| ApiError::BadRequest(format!("blob: {e}")))?;
        if blob.len() + chunk.len() > limit {
            return Err(ApiError::TooLarge(format!(
                "blob: over the upload limit of {limit} bytes"
            )));
        }
        blob.extend_from_slice(&chunk);
    }
    let id = id.into_inner();
    let st = state.clone();
    let v = with_conn(&state, move |c| {
        receipts::verify_blob(c, &caller, &st.intake(), id, &blob)
    })
    .await?;
    if v.disagreement {
        state.metrics.disagreements.inc();
    }
    Ok(HttpResponse::Ok().json(v))
}

/// One receipt, with the station's report and the registry's.
#[utoipa::path(tag = "receipts", params(("id" = i64, Path, description = "Receipt id")), responses((status = 200, body = ReceiptView)), security(("bearer" = [])))]
#[get("/receipts/{id}")]
pub async fn get_one(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let v = with_conn(&state, move |c| receipts::get(c, &caller, id)).await?;
    Ok(HttpResponse::Ok().json(v))
}

/// Filters of the receipt list.
#[derive(Deserialize, IntoParams)]
pub struct ReceiptQuery {
    /// Vendor id.
    pub vendor: Option<String>,
    /// Component.
    pub component: Option<String>,
    /// The station's verdict: accept or reject.
    pub verdict: Option<String>,
    /// The registry's verdict: accept, reject, asserted or unverified.
    pub registry_verdict: Option<String>,
    /// true: only receipts where the station and the registry disagree.
    pub disagreement: Option<bool>,
    /// Lot.
    pub lot: Option<String>,
    /// Station.
    pub station: Option<String>,
    /// Recorded at or after (RFC 3339).
    pub since: Option<String>,
    /// Recorded before (RFC 3339).
    pub until: Option<String>,
    /// Page size (default 100, at most 1000).
    pub limit: Option<i64>,
    /// Only receipts with an id below this (keyset paging: pass the last
    /// id of the previous page).
    pub before: Option<i64>,
    /// Rows to skip.
    pub offset: Option<i64>,
}

/// Lists receipts, newest first. The total number matching the filters is
/// in the `X-Total-Count` header.
#[utoipa::path(tag = "receipts", params(ReceiptQuery), responses((status = 200, body = Vec<ReceiptView>)), security(("bearer" = [])))]
#[get("/receipts")]
pub async fn list(
    state: web::Data<AppState>,
    caller: Caller,
    q: web::Query<ReceiptQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = q.into_inner();
    let filter = ReceiptFilter {
        since: q
            .since
            .as_deref()
            .map(|s| parse_time("since", s))
            .transpose()?,
        until: q
            .until
            .as_deref()
            .map(|s| parse_time("until", s))
            .transpose()?,
        vendor: q.vendor,
        component: q.component,
        verdict: q.verdict,
        registry_verdict: q.registry_verdict,
        disagreement: q.disagreement,
        lot: q.lot,
        station: q.station,
    };
    let page = PageRequest::new(q.limit, q.before, q.offset);
    let (rows, total) = with_conn(&state, move |c| {
        let rows = receipts::list(c, &caller, &filter, page)?;
        Ok((rows, receipts::count(c, &caller, &filter)?))
    })
    .await?;
    Ok(HttpResponse::Ok()
        .insert_header(("X-Total-Count", total.to_string()))
        .json(rows.into_iter().map(view).collect::<Vec<_>>()))
}
