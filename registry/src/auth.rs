//! Bearer tokens with roles. Tokens are 32 random bytes, shown once, stored
//! as SHA-256 (they are high-entropy, so a slow password hash adds nothing).

use crate::error::ApiError;
use crate::state::AppState;
use actix_web::{FromRequest, HttpRequest, web};
use base64::Engine;
use diesel::prelude::*;
use schema::models::{ApiToken, NewApiToken};
use schema::schema::api_tokens;
use serde::{Deserialize, Serialize};
use sha2::Digest;
use std::future::Future;
use std::pin::Pin;
use utoipa::ToSchema;

/// What a token may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Everything, including tokens.
    Admin,
    /// Vendors, certificates, components (initial floors), contract terms.
    Procurement,
    /// Revocations, floors, TSA anchors.
    Security,
    /// Reads the trust bundle, posts receipts.
    Inspector,
    /// Reads everything, changes nothing.
    Auditor,
}

impl Role {
    /// Lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Procurement => "procurement",
            Role::Security => "security",
            Role::Inspector => "inspector",
            Role::Auditor => "auditor",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "admin" => Role::Admin,
            "procurement" => Role::Procurement,
            "security" => Role::Security,
            "inspector" => Role::Inspector,
            "auditor" => Role::Auditor,
            _ => return None,
        })
    }

    /// Every role.
    pub const ALL: [Role; 5] = [
        Role::Admin,
        Role::Procurement,
        Role::Security,
        Role::Inspector,
        Role::Auditor,
    ];
}

/// The authenticated caller.
#[derive(Clone, Debug)]
pub struct Caller {
    /// Token name (recorded in the audit log as the actor).
    pub name: String,
    /// Role.
    pub role: Role,
}

impl Caller {
    /// Refuses unless the caller has one of `roles`.
    pub fn require(&self, roles: &[Role], action: &str) -> Result<(), ApiError> {
        if roles.contains(&self.role) {
            Ok(())
        } else {
            let allowed: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
            Err(ApiError::Forbidden(format!(
                "role '{}' may not {action} (allowed: {})",
                self.role.as_str(),
                allowed.join(", ")
            )))
        }
    }

    /// The audit actor string.
    pub fn actor(&self) -> String {
        format!("{} ({})", self.name, self.role.as_str())
    }
}

/// Hex SHA-256 of a token.
pub fn hash_token(token: &str) -> String {
    inspector::digest::hex(&sha2::Sha256::digest(token.as_bytes()))
}

/// Creates a token, stores its hash, returns the secret (shown once).
pub fn create_token(
    conn: &mut schema::DbConnection,
    name: &str,
    role: Role,
) -> Result<String, diesel::result::Error> {
    let mut raw = [0u8; 32];
    rand::Rng::fill(&mut rand::rng(), &mut raw);
    let token = format!(
        "tg_{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw)
    );
    diesel::insert_into(api_tokens::table)
        .values(NewApiToken {
            name: name.to_string(),
            role: role.as_str().to_string(),
            token_hash: hash_token(&token),
            created_at: crate::now_unix(),
        })
        .execute(conn)?;
    Ok(token)
}

/// Whether any token exists (first start).
pub fn has_tokens(conn: &mut schema::DbConnection) -> Result<bool, diesel::result::Error> {
    let n: i64 = api_tokens::table.count().get_result(conn)?;
    Ok(n > 0)
}

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Caller, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let header = req
            .headers()
            .get("Authorization")
            .and_then(|h| h.to_str().ok())
            .and_then(|h| h.strip_prefix("Bearer "))
            .map(|t| t.trim().to_string());
        let state = req.app_data::<web::Data<AppState>>().cloned();
        Box::pin(async move {
            let token = header.ok_or(ApiError::Unauthorized)?;
            let state = state.ok_or_else(|| ApiError::internal("application state missing"))?;
            let hash = hash_token(&token);
            if let Some(c) = state.token_cache.get(&hash) {
                return Ok(c);
            }
            let pool = state.pool.clone();
            let row: Option<ApiToken> = web::block(move || {
                let mut conn = pool.get().map_err(ApiError::internal)?;
                api_tokens::table
                    .filter(api_tokens::token_hash.eq(&hash))
                    .filter(api_tokens::revoked.eq(false))
                    .select(ApiToken::as_select())
                    .first(&mut conn)
                    .optional()
                    .map_err(ApiError::from)
            })
            .await??;
            let row = row.ok_or(ApiError::Unauthorized)?;
            let role =
                Role::parse(&row.role).ok_or_else(|| ApiError::internal("unknown role stored"))?;
            let caller = Caller {
                name: row.name,
                role,
            };
            state.token_cache.put(row.token_hash, caller.clone());
            Ok(caller)
        })
    }
}
