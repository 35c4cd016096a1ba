//! Sign-in and sign-out.

use super::{Layout, PageResult, db, db_anon, html, redirect};
use crate::service::{sessions, users};
use crate::state::AppState;
use crate::ui::session::{self, COOKIE, LOGIN_COOKIE, PageUser};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use askama::Template;
use serde::Deserialize;

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    layout: Layout,
    error: Option<String>,
    csrf: String,
    next: String,
}

#[derive(Deserialize)]
struct LoginQuery {
    next: Option<String>,
}

/// Where to go after sign-in: a plain local path only (no scheme, no
/// `//` or `\`, no control character), else the dashboard.
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n)
            if n.starts_with('/')
                && !n.starts_with("//")
                && !n.contains('\\')
                && !n.chars().any(char::is_control) =>
        {
            n.to_string()
        }
        _ => "/".into(),
    }
}

fn login_page(
    req: &HttpRequest,
    status: StatusCode,
    error: Option<String>,
    next: String,
) -> HttpResponse {
    let csrf = session::login_csrf();
    let mut resp = html(
        status,
        LoginPage {
            layout: Layout::anonymous(),
            error,
            csrf: csrf.clone(),
            next,
        }
        .render(),
    );
    let _ = resp.add_cookie(&session::cookie(req, LOGIN_COOKIE, csrf, 600));
    resp
}

#[get("/login")]
async fn login_form(req: HttpRequest, q: web::Query<LoginQuery>) -> HttpResponse {
    login_page(&req, StatusCode::OK, None, safe_next(q.next.as_deref()))
}

#[derive(Deserialize)]
struct LoginForm {
    csrf: String,
    #[serde(default)]
    next: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    token: String,
}

#[post("/login")]
async fn login(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<LoginForm>,
) -> PageResult {
    let form = form.into_inner();
    let cookie_csrf = req
        .cookie(LOGIN_COOKIE)
        .map(|c| c.value().to_string())
        .unwrap_or_default();
    let next = safe_next(Some(&form.next));
    if cookie_csrf.is_empty() || !session::constant_eq(cookie_csrf.as_bytes(), form.csrf.as_bytes())
    {
        return Ok(login_page(
            &req,
            StatusCode::FORBIDDEN,
            Some(
                "The sign-in form expired or was not sent from this site. Please try again.".into(),
            ),
            next,
        ));
    }
    let (token, username, password) = (form.token, form.username, form.password);
    // The client's address as the socket sees it (a proxy's header could be
    // forged to dodge the per-address limit).
    let address = req
        .peer_addr()
        .map(|a| a.ip().to_string())
        .unwrap_or_else(|| "unknown".into());
    let attempt = db_anon(&state, move |c| {
        users::sign_in(c, &token, &username, &password, &address)
    })
    .await?;
    let id = match attempt {
        users::SignIn::Session(id) => id,
        users::SignIn::Refused => {
            return Ok(login_page(
                &req,
                StatusCode::UNAUTHORIZED,
                Some("Unknown user name or password, or unknown token.".into()),
                next,
            ));
        }
        users::SignIn::Wait(secs) => {
            let mut resp = login_page(
                &req,
                StatusCode::TOO_MANY_REQUESTS,
                Some(format!(
                    "Too many failed sign-ins from this account or address: try again in {secs} second{}.",
                    if secs == 1 { "" } else { "s" }
                )),
                next,
            );
            if let Ok(v) = actix_web::http::header::HeaderValue::from_str(&secs.to_string()) {
                resp.headers_mut()
                    .insert(actix_web::http::header::RETRY_AFTER, v);
            }
            return Ok(resp);
        }
    };
    let mut resp = redirect(&next);
    let _ = resp.add_cookie(&session::cookie(&req, COOKIE, id, session::SESSION_SECONDS));
    let _ = resp.add_cookie(&session::cookie(&req, LOGIN_COOKIE, String::new(), 0));
    Ok(resp)
}

#[derive(Deserialize)]
struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

#[post("/logout")]
async fn logout(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: PageUser,
    form: web::Form<CsrfForm>,
) -> PageResult {
    user.check_csrf(&form.csrf)?;
    if let Some(id) = req.cookie(COOKIE).map(|c| c.value().to_string()) {
        db(&state, &user, move |c| sessions::end_session(c, &id)).await?;
    }
    let mut resp = redirect("/login");
    let _ = resp.add_cookie(&session::cookie(&req, COOKIE, String::new(), 0));
    Ok(resp)
}

pub(super) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(login_form).service(login).service(logout);
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn next_is_a_plain_local_path_or_the_dashboard() {
        assert_eq!(safe_next(Some("/vendors/acme")), "/vendors/acme");
        assert_eq!(
            safe_next(Some("/receipts?verdict=reject")),
            "/receipts?verdict=reject"
        );
        for bad in [
            "//evil.example",
            "/\\evil.example",
            "/\t/evil.example",
            "/\n",
            "/\u{b}x",
            "https://evil.example",
            "evil",
        ] {
            assert_eq!(safe_next(Some(bad)), "/", "{bad:?}");
        }
        assert_eq!(safe_next(None), "/");
    }
}
