//! Browser sessions: sign-in with a token or a user name and password
//! (Argon2id), an HttpOnly, SameSite=Strict cookie (Secure over TLS), and a
//! per-session CSRF token checked on every form.

use crate::auth::{Role, hash_token};
use crate::error::ApiError;
use crate::state::AppState;
use actix_web::cookie::{Cookie, SameSite};
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, HttpResponse, ResponseError, web};
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use base64::Engine;
use diesel::prelude::*;
use schema::models::{NewUser, User, WebSession};
use schema::schema::{api_tokens, users, web_sessions};
use std::future::Future;
use std::pin::Pin;

/// Session cookie name.
pub const COOKIE: &str = "tollgate_session";
/// Pre-session CSRF cookie for the sign-in form.
pub const LOGIN_COOKIE: &str = "tollgate_login";
/// Session lifetime.
pub const SESSION_SECONDS: i64 = 8 * 3600;

/// A signed-in person.
#[derive(Clone, Debug)]
pub struct PageUser {
    /// User name or token name.
    pub principal: String,
    /// Role.
    pub role: Role,
    /// This session's CSRF token.
    pub csrf: String,
}

impl PageUser {
    /// The audit actor.
    pub fn actor(&self) -> String {
        format!("{} ({}, web)", self.principal, self.role.as_str())
    }
    /// Whether the role is one of `roles`.
    pub fn can(&self, roles: &[Role]) -> bool {
        roles.contains(&self.role)
    }
    /// Refuses a form post from a role that may not make it.
    pub fn require(&self, roles: &[Role], action: &str) -> Result<(), PageError> {
        if self.can(roles) {
            Ok(())
        } else {
            Err(PageError::Forbidden(format!(
                "role '{}' may not {action}",
                self.role.as_str()
            )))
        }
    }
    /// Refuses a form whose CSRF token is not this session's.
    pub fn check_csrf(&self, token: &str) -> Result<(), PageError> {
        if !token.is_empty() && constant_eq(token.as_bytes(), self.csrf.as_bytes()) {
            Ok(())
        } else {
            Err(PageError::Forbidden("the form is missing its CSRF token or it does not match this session; reload the page and try again".into()))
        }
    }
}

/// Compares without early exit.
pub fn constant_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Errors of the pages: a redirect to sign-in, or a page with a message.
#[derive(Debug, thiserror::Error)]
pub enum PageError {
    /// Not signed in.
    #[error("sign-in required")]
    SignIn(String),
    /// Signed in, not allowed.
    #[error("{0}")]
    Forbidden(String),
    /// Anything the API layer reports.
    #[error("{0}")]
    Api(#[from] ApiError),
}

impl From<actix_web::error::BlockingError> for PageError {
    fn from(e: actix_web::error::BlockingError) -> Self {
        PageError::Api(ApiError::internal(e))
    }
}

impl From<diesel::result::Error> for PageError {
    fn from(e: diesel::result::Error) -> Self {
        PageError::Api(e.into())
    }
}

impl ResponseError for PageError {
    fn status_code(&self) -> actix_web::http::StatusCode {
        match self {
            PageError::SignIn(_) => actix_web::http::StatusCode::SEE_OTHER,
            PageError::Forbidden(_) => actix_web::http::StatusCode::FORBIDDEN,
            PageError::Api(e) => e.status_code(),
        }
    }
    fn error_response(&self) -> HttpResponse {
        match self {
            PageError::SignIn(next) => HttpResponse::SeeOther()
                .insert_header((header::LOCATION, format!("/login?next={}", urlencode(next))))
                .finish(),
            other => super::pages::error_page(self.status_code(), &other.to_string()),
        }
    }
}

/// Percent-encodes a path for a query string.
pub fn urlencode(s: &str) -> String {
    serde_urlencoded::to_string([("x", s)])
        .map(|e| e.trim_start_matches("x=").to_string())
        .unwrap_or_default()
}

fn random_token() -> String {
    let mut raw = [0u8; 32];
    rand::Rng::fill(&mut rand::rng(), &mut raw);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw)
}

/// Whether the request came over TLS (directly or via a proxy that says so).
pub fn is_tls(req: &HttpRequest) -> bool {
    req.connection_info().scheme() == "https"
}

/// A cookie with the flags every Tollgate cookie carries.
pub fn cookie<'a>(req: &HttpRequest, name: &'a str, value: String, max_age: i64) -> Cookie<'a> {
    Cookie::build(name, value)
        .path("/")
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(is_tls(req))
        .max_age(actix_web::cookie::time::Duration::seconds(max_age))
        .finish()
}

/// Hashes a password with Argon2id (default parameters, random salt).
pub fn hash_password(password: &str) -> Result<String, String> {
    let salt = SaltString::generate(&mut OsRng);
    argon2::Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| format!("cannot hash the password: {e}"))
}

/// Creates a user (CLI).
pub fn create_user(
    conn: &mut schema::DbConnection,
    username: &str,
    password: &str,
    role: Role,
) -> Result<(), String> {
    if username.trim().is_empty() || username.len() > 64 {
        return Err("the user name must be 1-64 characters".into());
    }
    if password.chars().count() < 12 {
        return Err("the password must have at least 12 characters".into());
    }
    let hash = hash_password(password)?;
    diesel::insert_into(users::table)
        .values(NewUser {
            username: username.trim().to_string(),
            password_hash: hash,
            role: role.as_str().into(),
            created_at: crate::now_unix(),
        })
        .execute(conn)
        .map_err(|e| format!("cannot create the user: {e}"))?;
    Ok(())
}

/// The principal of a session signed in with a token: its name and id, so
/// that revoking the token can end exactly its sessions.
pub fn token_principal(name: &str, id: i64) -> String {
    format!("{name} (token {id})")
}

/// Ends every session signed in with this principal; returns how many.
pub fn end_sessions_of(
    conn: &mut schema::DbConnection,
    principal: &str,
) -> Result<usize, diesel::result::Error> {
    diesel::delete(web_sessions::table.filter(web_sessions::principal.eq(principal))).execute(conn)
}

/// A user as listed (never the password hash).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct UserInfo {
    /// User name.
    pub username: String,
    /// Role.
    pub role: String,
    /// When it was created (RFC 3339).
    pub created_at: String,
    /// Whether sign-in is refused.
    pub disabled: bool,
}

impl From<User> for UserInfo {
    fn from(u: User) -> Self {
        UserInfo {
            username: u.username,
            role: u.role,
            created_at: crate::api::time_str(u.created_at),
            disabled: u.disabled,
        }
    }
}

/// Every web user, by name.
pub fn list_users(conn: &mut schema::DbConnection) -> Result<Vec<UserInfo>, ApiError> {
    Ok(users::table
        .order(users::username.asc())
        .select(User::as_select())
        .load(conn)?
        .into_iter()
        .map(UserInfo::from)
        .collect())
}

/// Disables (or enables again) a user, in one audited transaction; disabling
/// also ends the user's web sessions at once. Shared by the page and
/// `tollgate-registry user disable|enable`.
pub fn set_user_disabled(
    conn: &mut schema::DbConnection,
    username: &str,
    disabled: bool,
    actor: &str,
) -> Result<UserInfo, ApiError> {
    conn.transaction(|c| {
        crate::audit::begin_change(c, false)?;
        let before: UserInfo = users::table
            .filter(users::username.eq(username))
            .select(User::as_select())
            .first(c)
            .optional()?
            .map(UserInfo::from)
            .ok_or_else(|| ApiError::NotFound(format!("no user '{username}'")))?;
        if before.disabled == disabled {
            return Ok(before);
        }
        diesel::update(users::table.filter(users::username.eq(username)))
            .set(users::disabled.eq(disabled))
            .execute(c)?;
        if disabled {
            end_sessions_of(c, username)?;
        }
        let after = UserInfo {
            disabled,
            ..before.clone()
        };
        let action = if disabled { "disable" } else { "enable" };
        crate::audit::record(
            c,
            actor,
            action,
            "user",
            username,
            Some(&before),
            Some(&after),
        )?;
        Ok(after)
    })
}

/// Checks credentials: a token, or a user name and password. Returns the principal and role.
pub fn authenticate(
    conn: &mut schema::DbConnection,
    token: &str,
    username: &str,
    password: &str,
) -> Result<Option<(String, Role)>, ApiError> {
    if !token.trim().is_empty() {
        let row: Option<(i64, String, String)> = api_tokens::table
            .filter(api_tokens::token_hash.eq(hash_token(token.trim())))
            .filter(api_tokens::revoked.eq(false))
            .select((api_tokens::id, api_tokens::name, api_tokens::role))
            .first(conn)
            .optional()?;
        return Ok(row.and_then(|(id, n, r)| Role::parse(&r).map(|r| (token_principal(&n, id), r))));
    }
    let user: Option<User> = users::table
        .filter(users::username.eq(username.trim()))
        .select(User::as_select())
        .first(conn)
        .optional()?;
    // Verify against a fixed hash when the user does not exist, so timing
    // does not reveal which user names exist.
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let dummy =
        DUMMY.get_or_init(|| hash_password("no such user, constant work").unwrap_or_default());
    let stored = user
        .as_ref()
        .map(|u| u.password_hash.clone())
        .unwrap_or_else(|| dummy.clone());
    let ok = PasswordHash::new(&stored)
        .map(|h| {
            argon2::Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false);
    Ok(match (user, ok) {
        (Some(u), true) if !u.disabled => Role::parse(&u.role).map(|r| (u.username, r)),
        _ => None,
    })
}

/// Starts a session; returns the cookie value.
pub fn start_session(
    conn: &mut schema::DbConnection,
    principal: &str,
    role: Role,
) -> Result<String, ApiError> {
    let id = random_token();
    let now = crate::now_unix();
    diesel::delete(web_sessions::table.filter(web_sessions::expires_at.lt(now))).execute(conn)?;
    diesel::insert_into(web_sessions::table)
        .values(WebSession {
            id_hash: hash_token(&id),
            principal: principal.to_string(),
            role: role.as_str().into(),
            csrf: random_token(),
            expires_at: now + SESSION_SECONDS,
        })
        .execute(conn)?;
    Ok(id)
}

/// Ends a session.
pub fn end_session(conn: &mut schema::DbConnection, id: &str) -> Result<(), ApiError> {
    diesel::delete(web_sessions::table.filter(web_sessions::id_hash.eq(hash_token(id))))
        .execute(conn)?;
    Ok(())
}

/// A fresh random value for the sign-in form's CSRF cookie.
pub fn login_csrf() -> String {
    random_token()
}

impl FromRequest for PageUser {
    type Error = PageError;
    type Future = Pin<Box<dyn Future<Output = Result<PageUser, PageError>>>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let id = req.cookie(COOKIE).map(|c| c.value().to_string());
        let next = req
            .uri()
            .path_and_query()
            .map(|p| p.to_string())
            .unwrap_or_else(|| "/".into());
        let state = req.app_data::<web::Data<AppState>>().cloned();
        Box::pin(async move {
            let id = id.ok_or_else(|| PageError::SignIn(next.clone()))?;
            let state = state
                .ok_or_else(|| PageError::Api(ApiError::internal("application state missing")))?;
            let pool = state.pool.clone();
            let row: Option<WebSession> = web::block(move || {
                let mut conn = pool.get().map_err(ApiError::internal)?;
                web_sessions::table
                    .filter(web_sessions::id_hash.eq(hash_token(&id)))
                    .filter(web_sessions::expires_at.gt(crate::now_unix()))
                    .select(WebSession::as_select())
                    .first(&mut conn)
                    .optional()
                    .map_err(ApiError::from)
            })
            .await??;
            let row = row.ok_or(PageError::SignIn(next))?;
            let role = Role::parse(&row.role)
                .ok_or_else(|| PageError::Api(ApiError::internal("unknown role in session")))?;
            Ok(PageUser {
                principal: row.principal,
                role,
                csrf: row.csrf,
            })
        })
    }
}
