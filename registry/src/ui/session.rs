//! Browser sessions: sign-in with a token or a user name and password
//! (Argon2id), an HttpOnly, SameSite=Strict cookie (Secure over TLS), and a
//! per-session CSRF token checked on every form.

use crate::error::ApiError;
use crate::service::{Actor, Role, sessions};
use crate::state::AppState;
use actix_web::cookie::{Cookie, SameSite};
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, HttpResponse, ResponseError, web};
use std::future::Future;
use std::pin::Pin;

/// Session cookie name.
pub const COOKIE: &str = "tollgate_session";
/// Pre-session CSRF cookie for the sign-in form.
pub const LOGIN_COOKIE: &str = "tollgate_login";
/// Session lifetime.
pub use crate::service::sessions::SESSION_SECONDS;

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
    /// The actor the service layer sees.
    pub fn actor(&self) -> Actor {
        Actor::web(self.principal.clone(), self.role)
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
            Err(PageError::Shown(
                Box::new(self.clone()),
                crate::service::ServiceError::Forbidden(format!(
                    "role '{}' may not {action}",
                    self.role.as_str()
                ))
                .into(),
            ))
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
    /// A refusal or failure for a signed-in person (shown in their layout).
    #[error("{1}")]
    Shown(Box<PageUser>, ApiError),
}

impl From<actix_web::error::BlockingError> for PageError {
    fn from(e: actix_web::error::BlockingError) -> Self {
        PageError::Api(ApiError::internal(e))
    }
}

impl From<crate::service::ServiceError> for PageError {
    fn from(e: crate::service::ServiceError) -> Self {
        PageError::Api(e.into())
    }
}

impl ResponseError for PageError {
    fn status_code(&self) -> actix_web::http::StatusCode {
        match self {
            PageError::SignIn(_) => actix_web::http::StatusCode::SEE_OTHER,
            PageError::Forbidden(_) => actix_web::http::StatusCode::FORBIDDEN,
            PageError::Api(e) | PageError::Shown(_, e) => e.status_code(),
        }
    }
    fn error_response(&self) -> HttpResponse {
        match self {
            PageError::SignIn(next) => HttpResponse::SeeOther()
                .insert_header((header::LOCATION, format!("/login?next={}", urlencode(next))))
                .finish(),
            PageError::Shown(user, e) => {
                super::pages::error_page_for(Some(user), self.status_code(), &e.to_string())
            }
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

/// A fresh random value for the sign-in form's CSRF cookie.
pub fn login_csrf() -> String {
    crate::service::sessions::random_secret()
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
            let row = crate::api::with_conn(&state, move |c| sessions::session(c, &id)).await?;
            let (principal, role, csrf) = row.ok_or(PageError::SignIn(next))?;
            Ok(PageUser {
                principal,
                role,
                csrf,
            })
        })
    }
}
