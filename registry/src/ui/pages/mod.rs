// actix-web's route macros turn each handler into a public unit struct
// without documentation; the handlers are documented by their routes below.
#![allow(missing_docs)]

//! Server-rendered pages, one module per resource. Handlers verify the CSRF
//! token on every form and call the same service functions as the API (which
//! check the role), so a page can do nothing the API would refuse. Every
//! page renders through one [`Layout`] (user, navigation, flash message).

pub mod access;
pub mod approvals;
pub mod audit;
pub mod dashboard;
pub mod lifecycle;
pub mod login;
pub mod product_form;
pub mod products;
pub mod receipts;
pub mod releases;
pub mod revocations;
pub mod trust;
pub mod vendor_form;
pub mod vendors;

use super::session::{self, PageError, PageUser};
use crate::error::ApiError;
use crate::service::audit::AUDIT_READERS;
use crate::service::{ADMIN, Conn, ServiceResult};
use crate::state::AppState;
use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, get, web};
use askama::Template;
use futures_util::StreamExt;
use serde::Deserialize;

pub(crate) type PageResult = Result<HttpResponse, PageError>;

/// What every page shows around its content: who is signed in, which
/// navigation entry is current, and a message after a change.
pub struct Layout {
    /// The signed-in person (none on the sign-in and error pages).
    pub user: Option<PageUser>,
    /// The current navigation entry.
    pub nav: &'static str,
    /// A message after a change ("Vendor created.").
    pub flash: Option<String>,
}

impl Layout {
    /// The layout of a signed-in page.
    pub fn new(user: &PageUser, nav: &'static str, flash: Option<String>) -> Self {
        Layout {
            user: Some(user.clone()),
            nav,
            flash,
        }
    }

    /// The layout of a page without a session.
    pub fn anonymous() -> Self {
        Layout {
            user: None,
            nav: "",
            flash: None,
        }
    }

    /// The navigation shows the audit log only to roles that may read it.
    pub fn can_audit(&self) -> bool {
        self.user.as_ref().is_some_and(|u| u.can(AUDIT_READERS))
    }

    /// The navigation shows the Access page only to admins.
    pub fn is_admin(&self) -> bool {
        self.user.as_ref().is_some_and(|u| u.can(ADMIN))
    }
}

/// One path segment, percent-encoded (everything but unreserved characters),
/// for URLs the pages build (links, form actions, redirects).
pub fn seg(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

pub(crate) fn html(status: StatusCode, body: Result<String, askama::Error>) -> HttpResponse {
    match body {
        Ok(b) => HttpResponse::build(status)
            .content_type("text/html; charset=utf-8")
            .insert_header(("X-Frame-Options", "DENY"))
            .insert_header(("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'none'; frame-ancestors 'none'"))
            .body(b),
        Err(e) => {
            tracing::error!(error = %e, "template rendering failed");
            HttpResponse::InternalServerError().body("internal error")
        }
    }
}

/// Splits a service error: an internal one becomes the error page (it is
/// logged where it was made); any other is shown on the form, with its status.
pub(crate) fn refusal(e: ApiError) -> Result<(StatusCode, String), PageError> {
    match e {
        e @ ApiError::Service(crate::service::ServiceError::Internal(_)) => Err(e.into()),
        e => Ok((actix_web::ResponseError::status_code(&e), e.to_string())),
    }
}

/// A trimmed form field, or `None` when empty.
pub(crate) fn non_empty(s: &str) -> Option<String> {
    Some(s.trim().to_string()).filter(|s| !s.is_empty())
}

/// Back to `path` after a change, with the message shown as a flash.
pub(crate) fn redirect_done(path: &str, message: &str) -> HttpResponse {
    redirect(&format!("{path}?done={}", session::urlencode(message)))
}

pub(crate) fn redirect(to: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, to.to_string()))
        .finish()
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    layout: Layout,
    status: String,
    message: &'a str,
}

/// An error page (no session details: used before or outside sign-in too).
pub fn error_page(status: StatusCode, message: &str) -> HttpResponse {
    error_page_for(None, status, message)
}

/// An error page, in the signed-in person's normal layout when there is one.
pub fn error_page_for(user: Option<&PageUser>, status: StatusCode, message: &str) -> HttpResponse {
    let layout = match user {
        Some(u) => Layout::new(u, "", None),
        None => Layout::anonymous(),
    };
    html(
        status,
        ErrorPage {
            layout,
            status: status.to_string(),
            message,
        }
        .render(),
    )
}

/// Runs one service call for a signed-in person on the blocking pool; a
/// refusal is shown in the normal layout (their navigation, signed in).
pub(crate) async fn db<T: Send + 'static>(
    state: &web::Data<AppState>,
    user: &PageUser,
    f: impl FnOnce(&mut Conn) -> ServiceResult<T> + Send + 'static,
) -> Result<T, PageError> {
    crate::api::with_conn(state, f)
        .await
        .map_err(|e| PageError::Shown(Box::new(user.clone()), e))
}

/// Submits a change through the approval rule (`service::approvals`) for
/// a signed-in person: `Ok(message)` for the flash, saying what changed or
/// which proposal now waits for whom.
pub(crate) async fn submit_change(
    state: &web::Data<AppState>,
    user: &PageUser,
    change: impl FnOnce(
        &mut Conn,
        &crate::service::Actor,
    ) -> ServiceResult<crate::service::approvals::Change>
    + Send
    + 'static,
    done: impl FnOnce(&crate::service::approvals::Applied) -> String + Send + 'static,
) -> Result<String, ApiError> {
    use crate::service::approvals::{self, Submitted};
    let actor = user.actor();
    let policy = state.approvals.clone();
    let r = crate::api::with_conn(state, move |c| {
        let change = change(c, &actor)?;
        approvals::submit(c, &actor, &policy, change)
    })
    .await?;
    Ok(match r {
        Submitted::Applied(a) => done(&a),
        Submitted::Pending(p) => format!(
            "Proposal {} recorded: {}. Nothing changes until {} more {} approve it on the Approvals page (you cannot approve your own proposal).",
            p.id,
            p.summary,
            p.approvals_required - 1,
            if p.approvals_required == 2 {
                format!("person with the role {}", p.roles.join(" or "))
            } else {
                format!("people with the role {}", p.roles.join(" or "))
            }
        ),
    })
}

/// A string field of an API view (empty when absent or not a string).
pub(crate) fn view_field<'a>(v: &'a serde_json::Value, k: &str) -> &'a str {
    v.get(k).and_then(|x| x.as_str()).unwrap_or_default()
}

/// Runs one service call before sign-in (no layout to show a refusal in).
pub(crate) async fn db_anon<T: Send + 'static>(
    state: &web::Data<AppState>,
    f: impl FnOnce(&mut Conn) -> ServiceResult<T> + Send + 'static,
) -> Result<T, PageError> {
    Ok(crate::api::with_conn(state, f).await?)
}

#[derive(Deserialize)]
pub(crate) struct Done {
    done: Option<String>,
}

pub(crate) fn flash_of(q: &Done) -> Option<String> {
    q.done.as_ref().map(|d| d.chars().take(800).collect())
}

/// A day (`YYYY-MM-DD`) as Unix seconds at its start (or the next day's
/// start when `plus_one`), for date filters.
pub(crate) fn day_start(field: &str, s: &str, plus_one: bool) -> Result<Option<i64>, ApiError> {
    if s.trim().is_empty() {
        return Ok(None);
    }
    let t = crate::service::parse_time(field, &format!("{}T00:00:00Z", s.trim()))?;
    Ok(Some(if plus_one { t + 86_400 } else { t }))
}

/// Rows per page of the long lists (receipts, audit log).
pub const PAGE_ROWS: i64 = 200;

/// The page request of a long list: one row more than a page, so the
/// extra row tells whether there is a next page.
pub(crate) fn page_request(before: Option<i64>) -> crate::service::PageRequest {
    crate::service::PageRequest::new(Some(PAGE_ROWS + 1), before, None)
}

/// Keeps one page of `rows` (fetched with [`page_request`]) and returns the
/// `before` of the next page, when there is one.
pub(crate) fn one_page<T>(rows: &mut Vec<T>, id: impl Fn(&T) -> i64) -> Option<i64> {
    let more = rows.len() as i64 > PAGE_ROWS;
    rows.truncate(usize::try_from(PAGE_ROWS).unwrap_or(200));
    if more { rows.last().map(id) } else { None }
}

/// A date range from a filter form (whole UTC days, `to` included).
pub(crate) fn date_range(from: &str, to: &str) -> Result<(Option<i64>, Option<i64>), ApiError> {
    Ok((day_start("from", from, false)?, day_start("to", to, true)?))
}

/// A CSV download.
pub(crate) fn csv_download(name: &str, body: String) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{name}\""),
        ))
        .body(body)
}

/// Reads a multipart form (certificate or CRL upload) with size limits:
/// at most 16 fields of at most 1 MiB each.
pub(crate) async fn read_multipart(
    mut payload: actix_multipart::Multipart,
) -> Result<std::collections::HashMap<String, Vec<u8>>, PageError> {
    const FIELD_LIMIT: usize = 1024 * 1024;
    let mut fields = std::collections::HashMap::new();
    while let Some(item) = payload.next().await {
        let mut field = item.map_err(|e| ApiError::BadRequest(format!("malformed form: {e}")))?;
        let name = field.name().unwrap_or_default().to_string();
        let mut data = Vec::new();
        while let Some(chunk) = field.next().await {
            let chunk = chunk.map_err(|e| ApiError::BadRequest(format!("malformed form: {e}")))?;
            if data.len() + chunk.len() > FIELD_LIMIT {
                return Err(ApiError::BadRequest(format!(
                    "the form field '{name}' is larger than 1 MiB; a certificate or CRL file of that size is not accepted here"
                ))
                .into());
            }
            data.extend_from_slice(&chunk);
        }
        if fields.len() > 16 {
            return Err(ApiError::BadRequest("too many form fields".into()).into());
        }
        fields.insert(name, data);
    }
    Ok(fields)
}

/// A multipart form from a signed-in person: read with limits, its CSRF
/// token checked, and the page's role required (the service checks it
/// again).
pub(crate) async fn checked_multipart(
    user: &PageUser,
    payload: actix_multipart::Multipart,
    roles: &[crate::service::Role],
    action: &str,
) -> Result<std::collections::HashMap<String, Vec<u8>>, PageError> {
    let fields = read_multipart(payload).await?;
    user.check_csrf(&text_field(&fields, "csrf"))?;
    user.require(roles, action)?;
    Ok(fields)
}

/// A text field of a multipart form (trimmed; empty when absent).
pub(crate) fn text_field(fields: &std::collections::HashMap<String, Vec<u8>>, k: &str) -> String {
    fields
        .get(k)
        .map(|v| String::from_utf8_lossy(v).trim().to_string())
        .unwrap_or_default()
}

#[get("/static/style.css")]
async fn stylesheet() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .body(include_str!("../../../../templates/static/style.css"))
}

/// Registers the pages.
pub fn routes(cfg: &mut web::ServiceConfig) {
    login::routes(cfg);
    dashboard::routes(cfg);
    vendors::routes(cfg);
    lifecycle::routes(cfg);
    approvals::routes(cfg);
    releases::routes(cfg);
    revocations::routes(cfg);
    receipts::routes(cfg);
    audit::routes(cfg);
    product_form::routes(cfg);
    products::routes(cfg);
    trust::routes(cfg);
    access::routes(cfg);
    cfg.service(stylesheet);
}
