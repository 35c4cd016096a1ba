//! Browser sessions: a random id (only its hash is stored), the principal
//! and role, a CSRF token, an expiry; and the secrets behind tokens and
//! sessions.

use super::{Conn, Role, ServiceResult};
use base64::Engine;
use diesel::prelude::*;
use schema::models::WebSession;
use schema::schema::web_sessions;
use sha2::Digest;

/// Session lifetime.
pub const SESSION_SECONDS: i64 = 8 * 3600;

/// SHA-256 (hex) of a token or session id.
pub fn hash_token(token: &str) -> String {
    inspector::digest::hex(&sha2::Sha256::digest(token.as_bytes()))
}

/// A fresh random secret (`tg_` + 32 bytes, base64url).
pub fn random_secret() -> String {
    let mut raw = [0u8; 32];
    rand::Rng::fill(&mut rand::rng(), &mut raw);
    format!(
        "tg_{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw)
    )
}

/// The principal of a session signed in with a token: its name and id, so
/// that revoking the token can end exactly its sessions.
pub fn token_principal(name: &str, id: i64) -> String {
    format!("{name} (token {id})")
}

/// Ends every session signed in with this principal; returns how many.
pub fn end_sessions_of(c: &mut Conn, principal: &str) -> ServiceResult<usize> {
    Ok(
        diesel::delete(web_sessions::table.filter(web_sessions::principal.eq(principal)))
            .execute(c)?,
    )
}

/// Starts a session with a fresh id and CSRF token; returns the id (the
/// cookie value; only its hash is stored). Expired sessions are swept.
pub fn start_session(c: &mut Conn, principal: &str, role: Role) -> ServiceResult<String> {
    let id = random_secret();
    let now = crate::now_unix();
    diesel::delete(web_sessions::table.filter(web_sessions::expires_at.lt(now))).execute(c)?;
    diesel::insert_into(web_sessions::table)
        .values(WebSession {
            id_hash: hash_token(&id),
            principal: principal.to_string(),
            role: role.as_str().into(),
            csrf: random_secret(),
            expires_at: now + SESSION_SECONDS,
        })
        .execute(c)?;
    Ok(id)
}

/// Ends a session.
pub fn end_session(c: &mut Conn, id: &str) -> ServiceResult<()> {
    diesel::delete(web_sessions::table.filter(web_sessions::id_hash.eq(hash_token(id))))
        .execute(c)?;
    Ok(())
}

/// The open (unexpired) session with this id: principal, role, CSRF token.
pub fn session(c: &mut Conn, id: &str) -> ServiceResult<Option<(String, Role, String)>> {
    let row: Option<WebSession> = web_sessions::table
        .filter(web_sessions::id_hash.eq(hash_token(id)))
        .filter(web_sessions::expires_at.gt(crate::now_unix()))
        .select(WebSession::as_select())
        .first(c)
        .optional()?;
    row.map(|r| Ok((r.principal, Role::stored(&r.role)?, r.csrf)))
        .transpose()
}
