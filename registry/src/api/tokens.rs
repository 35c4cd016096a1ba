//! API tokens (admin only).

use super::{Caller, with_conn};
use crate::error::ApiError;
use crate::service::tokens::{self, TokenCreated, TokenInfo, TokenRequest};
use crate::state::AppState;
use actix_web::{HttpResponse, get, post, web};

/// Creates a token; the secret is in this response only.
#[utoipa::path(tag = "tokens", request_body = TokenRequest, responses((status = 201, body = TokenCreated)), security(("bearer" = [])))]
#[post("/tokens")]
pub async fn create(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Json<TokenRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let created = with_conn(&state, move |c| tokens::create(c, &caller, body)).await?;
    Ok(HttpResponse::Created().json(created))
}

/// Lists tokens (never their secrets).
#[utoipa::path(tag = "tokens", responses((status = 200, body = [TokenInfo])), security(("bearer" = [])))]
#[get("/tokens")]
pub async fn list(
    state: web::Data<AppState>,
    caller: Caller,
) -> Result<web::Json<Vec<TokenInfo>>, ApiError> {
    let rows = with_conn(&state, move |c| tokens::list(c, &caller)).await?;
    Ok(web::Json(rows))
}

/// Revokes a token at once (this process forgets it immediately); the web
/// sessions signed in with it end too. The last working admin token cannot
/// be revoked.
#[utoipa::path(tag = "tokens", params(("id" = i64, Path, description = "token id")),
    responses((status = 200, body = TokenInfo), (status = 404), (status = 409, description = "the last working admin token")),
    security(("bearer" = [])))]
#[post("/tokens/{id}/revoke")]
pub async fn revoke(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i64>,
) -> Result<web::Json<TokenInfo>, ApiError> {
    Ok(web::Json(
        revoke_now(&state, caller, id.into_inner()).await?,
    ))
}

/// Revokes a token and forgets this process's authentication cache (shared
/// by the API and the Access page).
pub async fn revoke_now(
    state: &web::Data<AppState>,
    actor: crate::service::Actor,
    id: i64,
) -> Result<TokenInfo, ApiError> {
    let info = with_conn(state, move |c| tokens::revoke(c, &actor, id)).await?;
    state.token_cache.clear();
    Ok(info)
}
