//! API tokens: 32 random bytes, shown once, stored as SHA-256 (they are
//! high-entropy, so a slow password hash adds nothing).

use super::audit;
use super::sessions::{hash_token, random_secret};
use super::{ADMIN, Actor, Conn, Role, ServiceError, ServiceResult, time_str};
use diesel::prelude::*;
use schema::models::{ApiToken, NewApiToken};
use schema::schema::api_tokens;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Create a token.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "station-3", "role": "inspector"}))]
pub struct TokenRequest {
    /// A name for the audit log (`station-3`, `ci`).
    pub name: String,
    /// The role it carries.
    pub role: Role,
}

/// A new token: the secret is shown only here.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct TokenCreated {
    /// Row id (to bind a station key to it, or to revoke it).
    pub id: i64,
    /// Name.
    pub name: String,
    /// Role.
    pub role: Role,
    /// The bearer token (shown once).
    pub token: String,
}

/// A token as listed (never the secret or its hash).
#[derive(Serialize, Deserialize, ToSchema, Debug, Clone, PartialEq)]
pub struct TokenInfo {
    /// Row id (for revocation).
    pub id: i64,
    /// Name.
    pub name: String,
    /// Role.
    pub role: String,
    /// When it was created (RFC 3339).
    pub created_at: String,
    /// Whether it is revoked.
    pub revoked: bool,
}

impl From<ApiToken> for TokenInfo {
    fn from(t: ApiToken) -> Self {
        TokenInfo {
            id: t.id,
            name: t.name,
            role: t.role,
            created_at: time_str(t.created_at),
            revoked: t.revoked,
        }
    }
}

/// Creates a token (audited, in one transaction); returns the secret.
pub fn create(c: &mut Conn, actor: &Actor, body: TokenRequest) -> ServiceResult<TokenCreated> {
    actor.require(ADMIN, "create tokens")?;
    let name = body.name.trim().to_string();
    if name.is_empty() || name.len() > 128 {
        return Err(ServiceError::Invalid(
            "name must be 1-128 characters".into(),
        ));
    }
    super::bounded("name", &name, 128)?;
    let role = body.role;
    let token = random_secret();
    super::transaction(c, |c| {
        audit::begin_change(c, false)?;
        diesel::insert_into(api_tokens::table)
            .values(NewApiToken {
                name: name.clone(),
                role: role.as_str().to_string(),
                token_hash: hash_token(&token),
                created_at: crate::now_unix(),
            })
            .execute(c)?;
        let id: i64 = api_tokens::table
            .filter(api_tokens::token_hash.eq(hash_token(&token)))
            .select(api_tokens::id)
            .first(c)?;
        #[derive(Serialize)]
        struct Created<'a> {
            name: &'a str,
            role: Role,
        }
        audit::record(
            c,
            &actor.label(),
            "create",
            "token",
            &name,
            None::<&()>,
            Some(&Created { name: &name, role }),
        )?;
        Ok(id)
    })
    .map(|id| TokenCreated {
        id,
        name,
        role,
        token,
    })
}

/// Every token, oldest first.
pub fn list(c: &mut Conn, actor: &Actor) -> ServiceResult<Vec<TokenInfo>> {
    actor.require(ADMIN, "list tokens")?;
    let rows: Vec<ApiToken> = api_tokens::table
        .order(api_tokens::id.asc())
        .select(ApiToken::as_select())
        .load(c)?;
    Ok(rows.into_iter().map(TokenInfo::from).collect())
}

/// Whether any token exists (first start prints an admin token if not).
pub fn any(c: &mut Conn) -> ServiceResult<bool> {
    let n: i64 = api_tokens::table.count().get_result(c)?;
    Ok(n > 0)
}

/// The name and role of the working token with this hash.
pub fn authenticate(c: &mut Conn, hash: &str) -> ServiceResult<Option<(i64, String, Role)>> {
    let row: Option<ApiToken> = api_tokens::table
        .filter(api_tokens::token_hash.eq(hash))
        .filter(api_tokens::revoked.eq(false))
        .select(ApiToken::as_select())
        .first(c)
        .optional()?;
    row.map(|r| Ok((r.id, r.name, Role::stored(&r.role)?)))
        .transpose()
}

/// Revokes a token (audited); the web sessions signed in with it end too.
/// The last working admin token cannot be revoked, so nobody is locked out.
/// Callers that cache authentication must forget it afterwards.
pub fn revoke(c: &mut Conn, actor: &Actor, id: i64) -> ServiceResult<TokenInfo> {
    actor.require(ADMIN, "revoke tokens")?;
    super::transaction(c, |c| {
        audit::begin_change(c, false)?;
        let before: ApiToken = api_tokens::table
            .find(id)
            .select(ApiToken::as_select())
            .first(c)
            .optional()?
            .ok_or_else(|| ServiceError::NotFound(format!("no token with id {id}")))?;
        if before.revoked {
            return Ok(TokenInfo::from(before));
        }
        if before.role == Role::Admin.as_str() {
            let admins: i64 = api_tokens::table
                .filter(api_tokens::role.eq(Role::Admin.as_str()))
                .filter(api_tokens::revoked.eq(false))
                .count()
                .get_result(c)?;
            if admins <= 1 {
                return Err(ServiceError::Conflict(
                    "this is the last working admin token: create another admin token first".into(),
                ));
            }
        }
        diesel::update(api_tokens::table.find(id))
            .set(api_tokens::revoked.eq(true))
            .execute(c)?;
        super::sessions::end_sessions_of(
            c,
            &super::sessions::token_principal(&before.name, before.id),
        )?;
        let after = ApiToken {
            revoked: true,
            ..before.clone()
        };
        audit::record(
            c,
            &actor.label(),
            "revoke",
            "token",
            &before.name,
            Some(&TokenInfo::from(before.clone())),
            Some(&TokenInfo::from(after.clone())),
        )?;
        Ok(TokenInfo::from(after))
    })
}

/// Creates a token without an audit entry: only for the first admin token
/// of a new registry (printed once at first start; there is no actor yet)
/// and for test set-up. Returns the secret.
pub fn bootstrap(c: &mut Conn, name: &str, role: Role) -> ServiceResult<String> {
    let token = random_secret();
    diesel::insert_into(api_tokens::table)
        .values(NewApiToken {
            name: name.to_string(),
            role: role.as_str().to_string(),
            token_hash: hash_token(&token),
            created_at: crate::now_unix(),
        })
        .execute(c)?;
    Ok(token)
}
