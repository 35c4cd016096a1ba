//! API tokens (admin only).

use super::with_conn;
use crate::audit;
use crate::auth::{Caller, Role, create_token};
use crate::error::ApiError;
use crate::state::AppState;
use actix_web::{HttpResponse, get, post, web};
use diesel::prelude::*;
use schema::models::ApiToken;
use schema::schema::api_tokens;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Create a token.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenRequest {
    /// A name people recognise (station, person).
    pub name: String,
    /// Its role.
    pub role: Role,
}

/// The new token: shown once, stored hashed.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct TokenCreated {
    /// Name.
    pub name: String,
    /// Role.
    pub role: Role,
    /// The secret. Keep it; it cannot be shown again.
    pub token: String,
}

/// Creates a token.
#[utoipa::path(tag = "tokens", request_body = TokenRequest, responses((status = 201, body = TokenCreated)), security(("bearer" = [])))]
#[post("/tokens")]
pub async fn create(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Json<TokenRequest>,
) -> Result<HttpResponse, ApiError> {
    caller.require(&[Role::Admin], "create tokens")?;
    let body = body.into_inner();
    if body.name.trim().is_empty() || body.name.len() > 128 {
        return Err(ApiError::BadRequest("name must be 1-128 characters".into()));
    }
    let actor = caller.actor();
    let (name, role) = (body.name.trim().to_string(), body.role);
    let token = with_conn(&state, move |c| {
        create_token_audited(c, &name, role, &actor).map(|t| (name, t))
    })
    .await?;
    Ok(HttpResponse::Created().json(TokenCreated {
        name: token.0,
        role,
        token: token.1,
    }))
}

/// Creates a token and its audit entry in one transaction (shared by the API
/// and `tollgate-registry token create`); returns the secret.
pub fn create_token_audited(
    c: &mut schema::DbConnection,
    name: &str,
    role: Role,
    actor: &str,
) -> Result<String, ApiError> {
    diesel::Connection::transaction(c, |c| {
        audit::begin_change(c, false)?;
        let t = create_token(c, name, role)?;
        #[derive(Serialize)]
        struct Created<'a> {
            name: &'a str,
            role: Role,
        }
        audit::record(
            c,
            actor,
            "create",
            "token",
            name,
            None::<&()>,
            Some(&Created { name, role }),
        )?;
        Ok(t)
    })
}

/// A token as listed (never its secret).
#[derive(Serialize, Deserialize, ToSchema, Debug, Clone, PartialEq)]
pub struct TokenInfo {
    /// Identifier (for revocation).
    pub id: i64,
    /// Name.
    pub name: String,
    /// Role.
    pub role: String,
    /// When it was created (RFC 3339).
    pub created_at: String,
    /// Whether it has been revoked.
    pub revoked: bool,
}

impl From<ApiToken> for TokenInfo {
    fn from(t: ApiToken) -> Self {
        TokenInfo {
            id: t.id,
            name: t.name,
            role: t.role,
            created_at: super::time_str(t.created_at),
            revoked: t.revoked,
        }
    }
}

/// Lists the tokens (names, roles, state; never the secrets).
#[utoipa::path(tag = "tokens", responses((status = 200, body = [TokenInfo])), security(("bearer" = [])))]
#[get("/tokens")]
pub async fn list(
    state: web::Data<AppState>,
    caller: Caller,
) -> Result<web::Json<Vec<TokenInfo>>, ApiError> {
    caller.require(&[Role::Admin], "list tokens")?;
    let rows = with_conn(&state, |c| {
        api_tokens::table
            .order(api_tokens::id.asc())
            .select(ApiToken::as_select())
            .load(c)
            .map_err(ApiError::from)
    })
    .await?;
    Ok(web::Json(rows.into_iter().map(TokenInfo::from).collect()))
}

/// Revokes a token: it stops working at once on this registry process
/// (other processes within their 30-second authentication cache), and web
/// sessions signed in with it end. Refused
/// for the last working admin token, which would lock everyone out.
#[utoipa::path(tag = "tokens", params(("id" = i64, Path, description = "token id")),
    responses((status = 200, body = TokenInfo), (status = 404), (status = 409, description = "the last working admin token")),
    security(("bearer" = [])))]
#[post("/tokens/{id}/revoke")]
pub async fn revoke(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i64>,
) -> Result<web::Json<TokenInfo>, ApiError> {
    caller.require(&[Role::Admin], "revoke tokens")?;
    let row = revoke_now(&state, id.into_inner(), caller.actor()).await?;
    Ok(web::Json(TokenInfo::from(row)))
}

/// Revokes a token and forgets this process's authentication cache, so the
/// token stops working at once (shared by the API and the page).
pub async fn revoke_now(
    state: &web::Data<AppState>,
    id: i64,
    actor: String,
) -> Result<ApiToken, ApiError> {
    let row = with_conn(state, move |c| revoke_token(c, id, &actor)).await?;
    state.token_cache.clear();
    Ok(row)
}

/// Marks a token revoked in one audited transaction (shared by the API and
/// `tollgate-registry token revoke`).
pub fn revoke_token(
    c: &mut schema::DbConnection,
    id: i64,
    actor: &str,
) -> Result<ApiToken, ApiError> {
    diesel::Connection::transaction(c, |c| {
        audit::begin_change(c, false)?;
        let before: ApiToken = api_tokens::table
            .find(id)
            .select(ApiToken::as_select())
            .first(c)
            .optional()?
            .ok_or_else(|| ApiError::NotFound(format!("no token with id {id}")))?;
        if before.revoked {
            return Ok(before);
        }
        if before.role == Role::Admin.as_str() {
            let admins: i64 = api_tokens::table
                .filter(api_tokens::role.eq(Role::Admin.as_str()))
                .filter(api_tokens::revoked.eq(false))
                .count()
                .get_result(c)?;
            if admins <= 1 {
                return Err(ApiError::Conflict(
                    "this is the last working admin token: create another admin token first".into(),
                ));
            }
        }
        diesel::update(api_tokens::table.find(id))
            .set(api_tokens::revoked.eq(true))
            .execute(c)?;
        // Web sessions signed in with it end too.
        crate::ui::session::end_sessions_of(
            c,
            &crate::ui::session::token_principal(&before.name, before.id),
        )?;
        let after = ApiToken {
            revoked: true,
            ..before.clone()
        };
        let name = before.name.clone();
        audit::record(
            c,
            actor,
            "revoke",
            "token",
            &name,
            Some(&TokenInfo::from(before)),
            Some(&TokenInfo::from(after.clone())),
        )?;
        Ok(after)
    })
}
