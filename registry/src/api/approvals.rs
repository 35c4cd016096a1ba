//! Proposals: dangerous changes waiting for a second person (issue 11,
//! item 6; `service::approvals`), and the two changes that only exist as
//! proposals' actions: un-retiring a record and changing a user's role.

use super::{Caller, submit_change, with_conn};
use crate::error::ApiError;
use crate::service::Role;
use crate::service::approvals::{self, Change, ProposalView, VoteRequest};
use crate::service::retire::RetiredRecord;
use crate::state::AppState;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, post, put, web};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

/// Filter of the proposal list.
#[derive(Deserialize, IntoParams)]
pub struct ProposalQuery {
    /// `pending`, `applied`, `rejected` or `expired`.
    pub status: Option<String>,
}

/// Proposals, newest first (at most 200). All roles.
#[utoipa::path(tag = "approvals", params(ProposalQuery), responses((status = 200, body = Vec<ProposalView>), (status = 400, body = crate::error::ErrorBody)), security(("bearer" = [])))]
#[get("/proposals")]
pub async fn list(
    state: web::Data<AppState>,
    caller: Caller,
    q: web::Query<ProposalQuery>,
) -> Result<HttpResponse, ApiError> {
    let status = q.into_inner().status;
    let rows = with_conn(&state, move |c| {
        approvals::list(c, &caller, status.as_deref())
    })
    .await?;
    Ok(HttpResponse::Ok().json(rows))
}

/// One proposal, with its votes.
#[utoipa::path(tag = "approvals", params(("id" = i64, Path)), responses((status = 200, body = ProposalView), (status = 404, body = crate::error::ErrorBody)), security(("bearer" = [])))]
#[get("/proposals/{id}")]
pub async fn get_one(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let p = with_conn(&state, move |c| approvals::get(c, &caller, id)).await?;
    Ok(HttpResponse::Ok().json(p))
}

/// What an approval answers: the proposal, and the change's result when
/// this approval applied it.
#[derive(serde::Serialize, ToSchema)]
pub struct ApprovalResult {
    /// The proposal after the vote.
    pub proposal: ProposalView,
    /// The changed record, when this approval completed the proposal.
    #[schema(value_type = Option<Object>)]
    pub applied: Option<serde_json::Value>,
}

/// Approves a proposal (`{reason?}`): someone other than the proposer,
/// with one of the proposal's roles. The approval that reaches the
/// threshold applies the change at once (409/412 when the change no
/// longer applies; nothing is recorded then). Audited.
#[utoipa::path(tag = "approvals", params(("id" = i64, Path)), request_body = VoteRequest, responses((status = 200, body = ApprovalResult), (status = 400, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody), (status = 412, body = crate::error::ErrorBody)), security(("bearer" = [])))]
#[post("/proposals/{id}/approve")]
pub async fn approve(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i64>,
    body: web::Json<VoteRequest>,
) -> Result<HttpResponse, ApiError> {
    let (id, body) = (id.into_inner(), body.into_inner());
    let policy = state.approvals.clone();
    let r = with_conn(&state, move |c| {
        approvals::approve(c, &caller, &policy, id, body)
    })
    .await?;
    Ok(HttpResponse::Ok().json(ApprovalResult {
        proposal: r.proposal,
        applied: r.applied.map(|a| a.view),
    }))
}

/// Rejects a proposal (`{reason}`, required): anyone with one of its roles,
/// or its proposer (a withdrawal). Nothing changes but the proposal.
#[utoipa::path(tag = "approvals", params(("id" = i64, Path)), request_body = VoteRequest, responses((status = 200, body = ProposalView), (status = 400, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody)), security(("bearer" = [])))]
#[post("/proposals/{id}/reject")]
pub async fn reject(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i64>,
    body: web::Json<VoteRequest>,
) -> Result<HttpResponse, ApiError> {
    let (id, body) = (id.into_inner(), body.into_inner());
    let p = with_conn(&state, move |c| approvals::reject(c, &caller, id, body)).await?;
    Ok(HttpResponse::Ok().json(p))
}

/// Put a retired record back.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"record": {"kind": "certificate", "id": 12}, "reason": "retired by mistake (ticket SEC-88)"}))]
pub struct UnretireRequest {
    /// The record: `{kind: certificate|tsa-anchor, id}`,
    /// `{kind: component|sigstore-trusted-root, name}`, or
    /// `{kind: sigstore-identity|sigstore-key, vendor, id}`.
    pub record: RetiredRecord,
    /// Why (1-1000 characters).
    pub reason: String,
}

/// Un-retires a record: back in the bundle from the next serial (receipts
/// withdrawn by the retirement stay withdrawn). Admin, procurement or
/// security; by default a second person approves it first (202).
#[utoipa::path(tag = "approvals", request_body = UnretireRequest, responses((status = 200, body = Object), (status = 202, body = ProposalView), (status = 400, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody)), security(("bearer" = [])))]
#[post("/unretirements")]
pub async fn unretire(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Json<UnretireRequest>,
) -> Result<HttpResponse, ApiError> {
    let UnretireRequest { record, reason } = body.into_inner();
    submit_change(&state, caller, StatusCode::OK, move |_| {
        Ok(Change::Unretire { record, reason })
    })
    .await
}

/// Change a user's role.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"role": "security"}))]
pub struct RoleRequest {
    /// The new role.
    pub role: Role,
}

/// Changes a web user's role (their sessions end). Admin; by default a
/// second admin approves it first (202).
#[utoipa::path(tag = "approvals", params(("name" = String, Path)), request_body = RoleRequest, responses((status = 200, body = Object), (status = 202, body = ProposalView), (status = 404, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody)), security(("bearer" = [])))]
#[put("/users/{name}/role")]
pub async fn set_role(
    state: web::Data<AppState>,
    caller: Caller,
    name: web::Path<String>,
    body: web::Json<RoleRequest>,
) -> Result<HttpResponse, ApiError> {
    let username = name.into_inner();
    let role = body.into_inner().role;
    // The dry run before a proposal (or the change itself) answers 404
    // for an unknown user.
    submit_change(&state, caller, StatusCode::OK, move |_| {
        Ok(Change::SetRole { username, role })
    })
    .await
}
