//! The audit log.

use super::{Caller, with_conn};
use crate::error::ApiError;
use crate::service::PageRequest;
use crate::service::audit::{self, AuditView, ChainVerification};
use crate::state::AppState;
use actix_web::{HttpResponse, get, web};
use serde::Deserialize;
use utoipa::IntoParams;

/// Paging.
#[derive(Deserialize, IntoParams)]
pub struct AuditQuery {
    /// Page size (default 100, at most 1000).
    pub limit: Option<i64>,
    /// Only entries with an id below this (keyset paging).
    pub before: Option<i64>,
    /// Rows to skip.
    pub offset: Option<i64>,
}

/// Lists the audit log, newest first (`X-Total-Count`: entries in all).
#[utoipa::path(tag = "audit", params(AuditQuery), responses((status = 200, body = Vec<AuditView>)), security(("bearer" = [])))]
#[get("/audit")]
pub async fn list(
    state: web::Data<AppState>,
    caller: Caller,
    q: web::Query<AuditQuery>,
) -> Result<HttpResponse, ApiError> {
    let page = PageRequest::new(q.limit, q.before, q.offset);
    let (rows, total) = with_conn(&state, move |c| {
        let rows = audit::list(c, &caller, &audit::AuditFilter::default(), page)?;
        Ok((
            rows,
            audit::count(c, &caller, &audit::AuditFilter::default())?,
        ))
    })
    .await?;
    Ok(HttpResponse::Ok()
        .insert_header(("X-Total-Count", total.to_string()))
        .json(rows))
}

/// Verifies the hash chain of the whole log.
#[utoipa::path(tag = "audit", responses((status = 200, body = ChainVerification)), security(("bearer" = [])))]
#[get("/audit/verify")]
pub async fn verify(state: web::Data<AppState>, caller: Caller) -> Result<HttpResponse, ApiError> {
    let v = with_conn(&state, move |c| audit::verify(c, &caller)).await?;
    Ok(HttpResponse::Ok().json(v))
}
