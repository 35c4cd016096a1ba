//! API tokens (admin only).

use super::with_conn;
use crate::audit;
use crate::auth::{Caller, Role, create_token};
use crate::error::ApiError;
use crate::state::AppState;
use actix_web::{HttpResponse, post, web};
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
        diesel::Connection::transaction(c, |c| {
            audit::begin_change(c, false)?;
            let t = create_token(c, &name, role)?;
            #[derive(Serialize)]
            struct Created<'a> {
                name: &'a str,
                role: Role,
            }
            audit::record(
                c,
                &actor,
                "create",
                "token",
                &name,
                None::<&()>,
                Some(&Created { name: &name, role }),
            )?;
            Ok::<_, ApiError>((name, t))
        })
    })
    .await?;
    Ok(HttpResponse::Created().json(TokenCreated {
        name: token.0,
        role,
        token: token.1,
    }))
}
