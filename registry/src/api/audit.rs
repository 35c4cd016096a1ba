//! The audit log.

use super::{time_str, with_conn};
use crate::auth::{Caller, Role};
use crate::error::ApiError;
use crate::state::AppState;
use actix_web::{HttpResponse, get, web};
use diesel::prelude::*;
use schema::models::AuditEntry;
use schema::schema::audit_log;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// One audit entry.
#[derive(Serialize, Deserialize, ToSchema, Debug)]
pub struct AuditView {
    /// Row id.
    pub id: i64,
    /// When (RFC 3339).
    pub at: String,
    /// Token name and role.
    pub actor: String,
    /// create, update, revoke, set-floor, lower-floor, import-crl…
    pub action: String,
    /// What kind of record.
    pub entity: String,
    /// Which record.
    pub entity_id: String,
    /// Before (JSON).
    #[schema(value_type = Object)]
    pub before: Option<serde_json::Value>,
    /// After (JSON).
    #[schema(value_type = Object)]
    pub after: Option<serde_json::Value>,
    /// Hash of the previous entry.
    pub prev_hash: String,
    /// This entry's hash.
    pub hash: String,
}

/// Paging.
#[derive(Deserialize, IntoParams)]
pub struct AuditQuery {
    /// Page size (default 100, at most 1000).
    pub limit: Option<i64>,
    /// Rows to skip.
    pub offset: Option<i64>,
}

const AUDIT_READERS: &[Role] = &[Role::Admin, Role::Auditor, Role::Security];

/// Lists the audit log, newest first.
#[utoipa::path(tag = "audit", params(AuditQuery), responses((status = 200, body = Vec<AuditView>)), security(("bearer" = [])))]
#[get("/audit")]
pub async fn list(
    state: web::Data<AppState>,
    caller: Caller,
    q: web::Query<AuditQuery>,
) -> Result<HttpResponse, ApiError> {
    caller.require(AUDIT_READERS, "read the audit log")?;
    let limit = q.limit.unwrap_or(100).clamp(1, 1000);
    let offset = q.offset.unwrap_or(0).max(0);
    let rows: Vec<AuditEntry> = with_conn(&state, move |c| {
        Ok(audit_log::table
            .order(audit_log::id.desc())
            .limit(limit)
            .offset(offset)
            .select(AuditEntry::as_select())
            .load(c)?)
    })
    .await?;
    let parse = |s: Option<String>| s.and_then(|j| serde_json::from_str(&j).ok());
    Ok(HttpResponse::Ok().json(
        rows.into_iter()
            .map(|r| AuditView {
                id: r.id,
                at: time_str(r.at),
                actor: r.actor,
                action: r.action,
                entity: r.entity,
                entity_id: r.entity_id,
                before: parse(r.before_json),
                after: parse(r.after_json),
                prev_hash: r.prev_hash,
                hash: r.hash,
            })
            .collect::<Vec<_>>(),
    ))
}

/// Verifies the hash chain of the whole log.
#[utoipa::path(tag = "audit", responses((status = 200, body = crate::audit::ChainVerification)), security(("bearer" = [])))]
#[get("/audit/verify")]
pub async fn verify(state: web::Data<AppState>, caller: Caller) -> Result<HttpResponse, ApiError> {
    caller.require(AUDIT_READERS, "verify the audit log")?;
    let v = with_conn(&state, |c| Ok(crate::audit::verify_chain(c)?)).await?;
    Ok(HttpResponse::Ok().json(v))
}
