// actix-web's route macros turn each handler into a public unit struct
// without documentation; the handlers are documented by their routes below.
#![allow(missing_docs)]

//! Server-rendered pages. Handlers check the session's role exactly as the
//! API does, verify the CSRF token on every form, and call the same service
//! functions as the API, so a page can do nothing the API would refuse.

use super::chart::{Day, inspections_svg};
use super::session::{self, COOKIE, LOGIN_COOKIE, PageError, PageUser};
use crate::api::vendors::{READERS, SigningTerms, VendorRequest, VendorView};
use crate::api::{certificates, components, revocations, time_str};
use crate::auth::Role;
use crate::error::ApiError;
use crate::state::AppState;
use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use askama::Template;
use diesel::prelude::*;
use futures_util::StreamExt;
use schema::models::{
    AuditEntry, Certificate, Component, Receipt, Revocation, SigstoreIdentity, SigstoreKey, Vendor,
};
use schema::schema::{
    audit_log, certificates as certs_t, components as comps_t, receipts, revocations as revs_t,
    sigstore_identities, sigstore_keys, vendors,
};
use serde::Deserialize;

pub(super) type PageResult = Result<HttpResponse, PageError>;

pub(super) fn html(status: StatusCode, body: Result<String, askama::Error>) -> HttpResponse {
    match body {
        Ok(b) => HttpResponse::build(status).content_type("text/html; charset=utf-8").insert_header(("X-Frame-Options", "DENY")).insert_header(("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'none'; frame-ancestors 'none'")).body(b),
        Err(e) => {
            tracing::error!(error = %e, "template rendering failed");
            HttpResponse::InternalServerError().body("internal error")
        }
    }
}

/// Splits a service error: an internal one becomes the error page (it is
/// logged where it was made); any other is shown on the form, with its status.
pub(super) fn refusal(e: ApiError) -> Result<(StatusCode, String), PageError> {
    match e {
        e @ ApiError::Internal(_) => Err(e.into()),
        e => Ok((actix_web::ResponseError::status_code(&e), e.to_string())),
    }
}

/// A trimmed form field, or `None` when empty.
fn non_empty(s: &str) -> Option<String> {
    Some(s.trim().to_string()).filter(|s| !s.is_empty())
}

/// Back to `path` after a change, with the message shown as a flash.
pub(super) fn redirect_done(path: &str, message: &str) -> HttpResponse {
    redirect(&format!("{path}?done={}", session::urlencode(message)))
}

pub(super) fn redirect(to: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, to.to_string()))
        .finish()
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    user: Option<PageUser>,
    nav: &'a str,
    flash: Option<String>,
    status: String,
    message: &'a str,
}

/// An error page (no session details: used before or outside sign-in too).
pub fn error_page(status: StatusCode, message: &str) -> HttpResponse {
    html(
        status,
        ErrorPage {
            user: None,
            nav: "",
            flash: None,
            status: status.to_string(),
            message,
        }
        .render(),
    )
}

pub(super) async fn db<T: Send + 'static>(
    state: &web::Data<AppState>,
    f: impl FnOnce(&mut schema::DbConnection) -> Result<T, ApiError> + Send + 'static,
) -> Result<T, PageError> {
    Ok(crate::api::with_conn(state, f).await?)
}

#[derive(Deserialize)]
pub(super) struct Done {
    done: Option<String>,
}

pub(super) fn flash_of(q: &Done) -> Option<String> {
    q.done.as_ref().map(|d| d.chars().take(800).collect())
}

// ---- sign-in ----------------------------------------------------------------

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage<'a> {
    user: Option<PageUser>,
    nav: &'a str,
    flash: Option<String>,
    error: Option<String>,
    csrf: String,
    next: String,
}

#[derive(Deserialize)]
struct LoginQuery {
    next: Option<String>,
}

fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n.to_string(),
        _ => "/".into(),
    }
}

#[get("/login")]
async fn login_form(req: HttpRequest, q: web::Query<LoginQuery>) -> HttpResponse {
    let csrf = session::login_csrf();
    let mut resp = html(
        StatusCode::OK,
        LoginPage {
            user: None,
            nav: "",
            flash: None,
            error: None,
            csrf: csrf.clone(),
            next: safe_next(q.next.as_deref()),
        }
        .render(),
    );
    let _ = resp.add_cookie(&session::cookie(&req, LOGIN_COOKIE, csrf, 600));
    resp
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
    let again = |error: &str, status: StatusCode| {
        let csrf = session::login_csrf();
        let mut resp = html(
            status,
            LoginPage {
                user: None,
                nav: "",
                flash: None,
                error: Some(error.into()),
                csrf: csrf.clone(),
                next: next.clone(),
            }
            .render(),
        );
        let _ = resp.add_cookie(&session::cookie(&req, LOGIN_COOKIE, csrf, 600));
        resp
    };
    if cookie_csrf.is_empty() || !session::constant_eq(cookie_csrf.as_bytes(), form.csrf.as_bytes())
    {
        return Ok(again(
            "The sign-in form expired or was not sent from this site. Please try again.",
            StatusCode::FORBIDDEN,
        ));
    }
    let (token, username, password) = (
        form.token.clone(),
        form.username.clone(),
        form.password.clone(),
    );
    let auth = db(&state, move |c| {
        session::authenticate(c, &token, &username, &password)
    })
    .await?;
    let Some((principal, role)) = auth else {
        return Ok(again(
            "Unknown user name or password, or unknown token.",
            StatusCode::UNAUTHORIZED,
        ));
    };
    let id = db(&state, move |c| session::start_session(c, &principal, role)).await?;
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
        db(&state, move |c| session::end_session(c, &id)).await?;
    }
    let mut resp = redirect("/login");
    let _ = resp.add_cookie(&session::cookie(&req, COOKIE, String::new(), 0));
    Ok(resp)
}

// ---- dashboard ----------------------------------------------------------------

struct Counts {
    vendors: i64,
    certificates: i64,
    components: i64,
    revocations: i64,
    receipts: i64,
    serial: i64,
}

struct ExpiringCert {
    vendor_id: String,
    subject: String,
    not_after: String,
}

struct Rejection {
    id: i64,
    received_at: String,
    vendor: String,
    component: String,
    version: String,
    summary: String,
}

#[derive(Template)]
#[template(path = "dashboard.html")]
struct Dashboard<'a> {
    user: Option<PageUser>,
    nav: &'a str,
    flash: Option<String>,
    counts: Counts,
    chart: String,
    expiring_certs: Vec<ExpiringCert>,
    expiring_contracts: Vec<(String, String, String, String)>,
    rejections: Vec<Rejection>,
}

#[derive(QueryableByName)]
struct DayCount {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    day: i64,
    #[diesel(sql_type = diesel::sql_types::Text)]
    verdict: String,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

fn summary_of(report: &str) -> String {
    serde_json::from_str::<serde_json::Value>(report)
        .ok()
        .and_then(|v| {
            v.get("summary")
                .and_then(|s| s.as_str())
                .map(str::to_string)
        })
        .unwrap_or_default()
}

#[get("/")]
async fn dashboard(state: web::Data<AppState>, user: PageUser, q: web::Query<Done>) -> PageResult {
    let now = crate::now_unix();
    let today = now / 86_400;
    let data = db(&state, move |c| {
        let counts = Counts {
            vendors: vendors::table.count().get_result(c)?,
            certificates: certs_t::table.count().get_result(c)?,
            components: comps_t::table.count().get_result(c)?,
            revocations: revs_t::table.count().get_result(c)?,
            receipts: receipts::table.count().get_result(c)?,
            serial: crate::bundle::current_serial(c)?,
        };
        // `since` is computed here, not user input: inlining it is safe.
        let since = (today - 29) * 86_400;
        let per_day: Vec<DayCount> = diesel::sql_query(format!(
            "SELECT received_at / 86400 AS day, verdict, COUNT(*) AS n FROM receipts WHERE received_at >= {since} GROUP BY received_at / 86400, verdict"
        ))
        .load(c)?;
        let soon = now + 90 * 86_400;
        let certs: Vec<Certificate> = certs_t::table.filter(certs_t::not_after.le(soon)).order(certs_t::not_after).limit(50).select(Certificate::as_select()).load(c)?;
        let contracts: Vec<Vendor> = vendors::table.filter(vendors::contract_expires.le(soon)).order(vendors::contract_expires).limit(50).select(Vendor::as_select()).load(c)?;
        let rejects: Vec<Receipt> = receipts::table.filter(receipts::verdict.eq("reject")).order(receipts::id.desc()).limit(10).select(Receipt::as_select()).load(c)?;
        Ok((counts, per_day, certs, contracts, rejects))
    })
    .await?;
    let (counts, per_day, certs, contracts, rejects) = data;
    let mut days = vec![Day::default(); 30];
    let mut labels = Vec::with_capacity(30);
    for i in 0..30 {
        let d = time::OffsetDateTime::from_unix_timestamp((today - 29 + i) * 86_400)
            .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
        labels.push(format!("{:02}-{:02}", u8::from(d.month()), d.day()));
    }
    for r in per_day {
        let idx = r.day - (today - 29);
        if let Some(slot) = usize::try_from(idx).ok().and_then(|i| days.get_mut(i)) {
            if r.verdict == "accept" {
                slot.accepted += r.n;
            } else {
                slot.rejected += r.n;
            }
        }
    }
    let page = Dashboard {
        user: Some(user),
        nav: "dashboard",
        flash: flash_of(&q),
        counts,
        chart: inspections_svg(&days, &labels),
        expiring_certs: certs
            .into_iter()
            .map(|c| ExpiringCert {
                vendor_id: c.vendor_id,
                subject: c.subject,
                not_after: time_str(c.not_after),
            })
            .collect(),
        expiring_contracts: contracts
            .into_iter()
            .map(|v| {
                (
                    v.id,
                    v.name,
                    v.contract_ref,
                    v.contract_expires.map(time_str).unwrap_or_default(),
                )
            })
            .collect(),
        rejections: rejects
            .into_iter()
            .map(|r| Rejection {
                id: r.id,
                received_at: time_str(r.received_at),
                summary: summary_of(&r.report),
                vendor: r.vendor,
                component: r.component,
                version: r.version,
            })
            .collect(),
    };
    Ok(html(StatusCode::OK, page.render()))
}

// ---- vendors ------------------------------------------------------------------

struct VendorRow {
    id: String,
    name: String,
    contract_ref: String,
    contract_expires: String,
    security_contact: String,
    certificates: i64,
    components: i64,
}

#[derive(Template)]
#[template(path = "vendors.html")]
struct VendorsPage<'a> {
    user: Option<PageUser>,
    nav: &'a str,
    flash: Option<String>,
    q: String,
    can_edit: bool,
    vendors: Vec<VendorRow>,
}

#[derive(Deserialize)]
struct SearchQuery {
    q: Option<String>,
    done: Option<String>,
}

#[get("/vendors")]
async fn vendors_list(
    state: web::Data<AppState>,
    user: PageUser,
    q: web::Query<SearchQuery>,
) -> PageResult {
    if !user.can(READERS) {
        return Err(PageError::Forbidden(
            "this role may not read vendors".into(),
        ));
    }
    let needle = q.q.clone().unwrap_or_default().trim().to_lowercase();
    let rows = db(&state, move |c| {
        let all: Vec<Vendor> = vendors::table
            .order(vendors::name)
            .select(Vendor::as_select())
            .load(c)?;
        let cert_counts: Vec<(String, i64)> = certs_t::table
            .group_by(certs_t::vendor_id)
            .select((certs_t::vendor_id, diesel::dsl::count_star()))
            .load(c)?;
        let comp_counts: Vec<(String, i64)> = comps_t::table
            .group_by(comps_t::vendor_id)
            .select((comps_t::vendor_id, diesel::dsl::count_star()))
            .load(c)?;
        Ok((all, cert_counts, comp_counts))
    })
    .await?;
    let (all, cc, pc) = rows;
    let count = |v: &[(String, i64)], id: &str| {
        v.iter()
            .find(|(k, _)| k == id)
            .map(|(_, n)| *n)
            .unwrap_or(0)
    };
    let vendors = all
        .into_iter()
        .filter(|v| {
            needle.is_empty()
                || v.name.to_lowercase().contains(&needle)
                || v.id.contains(&needle)
                || v.contract_ref.to_lowercase().contains(&needle)
        })
        .map(|v| VendorRow {
            certificates: count(&cc, &v.id),
            components: count(&pc, &v.id),
            contract_expires: v
                .contract_expires
                .map(time_str)
                .map(|t| t.chars().take(10).collect())
                .unwrap_or_default(),
            id: v.id,
            name: v.name,
            contract_ref: v.contract_ref,
            security_contact: v.security_contact,
        })
        .collect();
    let page = VendorsPage {
        can_edit: user.can(&[Role::Admin, Role::Procurement]),
        user: Some(user),
        nav: "vendors",
        flash: q.done.clone(),
        q: q.q.clone().unwrap_or_default(),
        vendors,
    };
    Ok(html(StatusCode::OK, page.render()))
}

struct CertRow {
    id: i64,
    role: String,
    subject: String,
    issuer: String,
    sha256: String,
    not_before: String,
    not_after: String,
    key_algorithm: String,
    status: String,
    status_class: String,
}

struct CompRow {
    name: String,
    min_version: Option<String>,
    version: i32,
}

#[derive(Template)]
#[template(path = "vendor.html")]
struct VendorPage<'a> {
    user: Option<PageUser>,
    nav: &'a str,
    flash: Option<String>,
    error: Option<String>,
    csrf: String,
    v: VendorView,
    certs: Vec<CertRow>,
    components: Vec<CompRow>,
    identities: Vec<SigstoreIdentity>,
    keys: Vec<SigstoreKey>,
    can_procure: bool,
    can_floor: bool,
    can_revoke: bool,
}

async fn vendor_page(
    state: &web::Data<AppState>,
    user: PageUser,
    id: String,
    flash: Option<String>,
    error: Option<String>,
    status: StatusCode,
) -> PageResult {
    if !user.can(READERS) {
        return Err(PageError::Forbidden(
            "this role may not read vendors".into(),
        ));
    }
    let data = db(state, move |c| {
        let v: Vendor = crate::api::vendors::find_vendor(c, &id)?;
        let certs: Vec<Certificate> = certs_t::table
            .filter(certs_t::vendor_id.eq(&id))
            .order(certs_t::id)
            .select(Certificate::as_select())
            .load(c)?;
        let comps: Vec<Component> = comps_t::table
            .filter(comps_t::vendor_id.eq(&id))
            .order(comps_t::name)
            .select(Component::as_select())
            .load(c)?;
        let revs: Vec<Revocation> = revs_t::table.select(Revocation::as_select()).load(c)?;
        let idents: Vec<SigstoreIdentity> = sigstore_identities::table
            .filter(sigstore_identities::vendor_id.eq(&id))
            .select(SigstoreIdentity::as_select())
            .load(c)?;
        let keys: Vec<SigstoreKey> = sigstore_keys::table
            .filter(sigstore_keys::vendor_id.eq(&id))
            .select(SigstoreKey::as_select())
            .load(c)?;
        Ok((v, certs, comps, revs, idents, keys))
    })
    .await?;
    let (v, certs, comps, revs, identities, keys) = data;
    let now = crate::now_unix();
    let rows = certs
        .into_iter()
        .map(|c| {
            let revoked = revs
                .iter()
                .any(|r| r.certificate_der.as_deref() == Some(c.der.as_slice()));
            let (status, class) = if revoked {
                ("revoked".to_string(), "revoked")
            } else if c.not_after < now {
                ("expired".to_string(), "expired")
            } else if c.not_after < now + 90 * 86_400 {
                (
                    format!(
                        "expires {}",
                        &time_str(c.not_after).chars().take(10).collect::<String>()
                    ),
                    "expiring",
                )
            } else {
                ("valid".to_string(), "valid")
            };
            CertRow {
                id: c.id,
                role: c.role,
                subject: c.subject,
                issuer: c.issuer,
                sha256: c.sha256,
                not_before: time_str(c.not_before).chars().take(10).collect(),
                not_after: time_str(c.not_after).chars().take(10).collect(),
                key_algorithm: c.key_algorithm,
                status,
                status_class: class.to_string(),
            }
        })
        .collect();
    let page = VendorPage {
        csrf: user.csrf.clone(),
        can_procure: user.can(&[Role::Admin, Role::Procurement]),
        can_floor: user.can(&[Role::Admin, Role::Security]),
        can_revoke: user.can(&[Role::Admin, Role::Security]),
        user: Some(user),
        nav: "vendors",
        flash,
        error,
        v: crate::api::vendors::view(&v),
        certs: rows,
        components: comps
            .into_iter()
            .map(|c| CompRow {
                name: c.name,
                min_version: c.min_version,
                version: c.row_version,
            })
            .collect(),
        identities,
        keys,
    };
    Ok(html(status, page.render()))
}

#[get("/vendors/{id}")]
async fn vendor_detail(
    state: web::Data<AppState>,
    user: PageUser,
    id: web::Path<String>,
    q: web::Query<Done>,
) -> PageResult {
    vendor_page(
        &state,
        user,
        id.into_inner(),
        flash_of(&q),
        None,
        StatusCode::OK,
    )
    .await
}

#[derive(Default)]
struct VendorFormData {
    id: String,
    name: String,
    contract_ref: String,
    contract_expires: String,
    security_contact: String,
    sha256: bool,
    sha384: bool,
    sha512: bool,
    min_rsa_bits: i32,
    require_timestamp: bool,
    version: i32,
}

#[derive(Template)]
#[template(path = "vendor_form.html")]
struct VendorFormPage<'a> {
    user: Option<PageUser>,
    nav: &'a str,
    flash: Option<String>,
    error: Option<String>,
    csrf: String,
    editing: bool,
    action: String,
    form: VendorFormData,
}

#[derive(Deserialize, Default)]
struct VendorForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    id: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    contract_ref: String,
    #[serde(default)]
    contract_expires: String,
    #[serde(default)]
    security_contact: String,
    #[serde(default)]
    sha256: Option<String>,
    #[serde(default)]
    sha384: Option<String>,
    #[serde(default)]
    sha512: Option<String>,
    #[serde(default)]
    min_rsa_bits: String,
    #[serde(default)]
    require_timestamp: Option<String>,
    #[serde(default)]
    version: String,
}

impl VendorForm {
    fn data(&self) -> VendorFormData {
        VendorFormData {
            id: self.id.clone(),
            name: self.name.clone(),
            contract_ref: self.contract_ref.clone(),
            contract_expires: self.contract_expires.clone(),
            security_contact: self.security_contact.clone(),
            sha256: self.sha256.is_some(),
            sha384: self.sha384.is_some(),
            sha512: self.sha512.is_some(),
            min_rsa_bits: self.min_rsa_bits.parse().unwrap_or(2048),
            require_timestamp: self.require_timestamp.is_some(),
            version: self.version.parse().unwrap_or(0),
        }
    }
    fn request(&self) -> Result<VendorRequest, ApiError> {
        let mut digests = Vec::new();
        for (on, name) in [
            (&self.sha256, "sha256"),
            (&self.sha384, "sha384"),
            (&self.sha512, "sha512"),
        ] {
            if on.is_some() {
                digests.push(name.to_string());
            }
        }
        let min_rsa_bits = self.min_rsa_bits.trim().parse::<i32>().map_err(|_| {
            ApiError::BadRequest("the minimum RSA key size must be a number".into())
        })?;
        let contract_expires = match self.contract_expires.trim() {
            "" => None,
            d => Some(format!("{d}T00:00:00Z")),
        };
        Ok(VendorRequest {
            id: Some(self.id.trim().to_string()),
            name: self.name.clone(),
            contract_ref: self.contract_ref.trim().to_string(),
            contract_expires,
            security_contact: self.security_contact.trim().to_string(),
            policy: Some(SigningTerms {
                digests,
                min_rsa_bits,
                require_timestamp: self.require_timestamp.is_some(),
            }),
        })
    }
}

fn vendor_form_page(
    user: &PageUser,
    editing: bool,
    form: VendorFormData,
    error: Option<String>,
    status: StatusCode,
) -> HttpResponse {
    let action = if editing {
        format!("/vendors/{}/edit", form.id)
    } else {
        "/vendors/new".into()
    };
    html(
        status,
        VendorFormPage {
            user: Some(user.clone()),
            nav: "vendors",
            flash: None,
            error,
            csrf: user.csrf.clone(),
            editing,
            action,
            form,
        }
        .render(),
    )
}

const PROCUREMENT: &[Role] = &[Role::Admin, Role::Procurement];
const SECURITY: &[Role] = &[Role::Admin, Role::Security];

#[get("/vendors/new")]
async fn vendor_new_form(user: PageUser) -> PageResult {
    user.require(PROCUREMENT, "create vendors")?;
    let form = VendorFormData {
        sha256: true,
        sha384: true,
        sha512: true,
        min_rsa_bits: 2048,
        ..Default::default()
    };
    Ok(vendor_form_page(&user, false, form, None, StatusCode::OK))
}

#[post("/vendors/new")]
async fn vendor_create(
    state: web::Data<AppState>,
    user: PageUser,
    form: web::Form<VendorForm>,
) -> PageResult {
    user.check_csrf(&form.csrf)?;
    user.require(PROCUREMENT, "create vendors")?;
    let req = match form.request() {
        Ok(r) => r,
        Err(e) => {
            return Ok(vendor_form_page(
                &user,
                false,
                form.data(),
                Some(e.to_string()),
                StatusCode::BAD_REQUEST,
            ));
        }
    };
    let actor = user.actor();
    match crate::api::with_conn(&state, move |c| {
        crate::api::vendors::create_vendor(c, &actor, req)
    })
    .await
    {
        Ok(v) => Ok(redirect_done(
            &format!("/vendors/{}", v.id),
            "Vendor created.",
        )),
        Err(e) => {
            let (status, message) = refusal(e)?;
            Ok(vendor_form_page(
                &user,
                false,
                form.data(),
                Some(message),
                status,
            ))
        }
    }
}

#[get("/vendors/{id}/edit")]
async fn vendor_edit_form(
    state: web::Data<AppState>,
    user: PageUser,
    id: web::Path<String>,
) -> PageResult {
    user.require(PROCUREMENT, "edit vendors")?;
    let id = id.into_inner();
    let v: Vendor = db(&state, move |c| crate::api::vendors::find_vendor(c, &id)).await?;
    let form = VendorFormData {
        sha256: v.digests.split(',').any(|d| d == "sha256"),
        sha384: v.digests.split(',').any(|d| d == "sha384"),
        sha512: v.digests.split(',').any(|d| d == "sha512"),
        contract_expires: v
            .contract_expires
            .map(time_str)
            .map(|t| t.chars().take(10).collect())
            .unwrap_or_default(),
        id: v.id,
        name: v.name,
        contract_ref: v.contract_ref,
        security_contact: v.security_contact,
        min_rsa_bits: v.min_rsa_bits,
        require_timestamp: v.require_timestamp,
        version: v.row_version,
    };
    Ok(vendor_form_page(&user, true, form, None, StatusCode::OK))
}

#[post("/vendors/{id}/edit")]
async fn vendor_update(
    state: web::Data<AppState>,
    user: PageUser,
    id: web::Path<String>,
    form: web::Form<VendorForm>,
) -> PageResult {
    user.check_csrf(&form.csrf)?;
    user.require(PROCUREMENT, "edit vendors")?;
    let id = id.into_inner();
    let mut data = form.data();
    data.id = id.clone();
    let expected: i32 = form.version.parse().unwrap_or(-1);
    let mut req = match form.request() {
        Ok(r) => r,
        Err(e) => {
            return Ok(vendor_form_page(
                &user,
                true,
                data,
                Some(e.to_string()),
                StatusCode::BAD_REQUEST,
            ));
        }
    };
    req.id = None;
    let actor = user.actor();
    let vid = id.clone();
    match crate::api::with_conn(&state, move |c| {
        crate::api::vendors::update_vendor(c, &actor, vid, expected, req)
    })
    .await
    {
        Ok(_) => Ok(redirect_done(&format!("/vendors/{id}"), "Vendor saved.")),
        Err(e) => {
            let (status, message) = refusal(e)?;
            Ok(vendor_form_page(&user, true, data, Some(message), status))
        }
    }
}

/// Reads a multipart form (certificate upload) with size limits.
async fn read_multipart(
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
                return Err(ApiError::BadRequest(
                    "the uploaded file is larger than 1 MiB; a certificate is a few KiB".into(),
                )
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

#[post("/vendors/{id}/certificates")]
async fn certificate_upload(
    state: web::Data<AppState>,
    user: PageUser,
    id: web::Path<String>,
    payload: actix_multipart::Multipart,
) -> PageResult {
    let fields = read_multipart(payload).await?;
    let text = |k: &str| {
        fields
            .get(k)
            .map(|v| String::from_utf8_lossy(v).trim().to_string())
            .unwrap_or_default()
    };
    user.check_csrf(&text("csrf"))?;
    user.require(PROCUREMENT, "register certificates")?;
    let id = id.into_inner();
    let file = fields.get("file").filter(|f| !f.is_empty()).cloned();
    let pasted = text("pem");
    let role = text("role");
    // The file (PEM or DER) wins over the pasted text.
    let parsed = match (file, pasted.is_empty()) {
        (Some(bytes), _) => certificates::one_certificate(&bytes),
        (None, false) => certificates::decode_one(Some(&pasted), None),
        (None, true) => Err(ApiError::BadRequest(
            "choose a certificate file or paste a PEM certificate".into(),
        )),
    };
    let result = match parsed {
        Ok(cert) => {
            let actor = user.actor();
            let vid = id.clone();
            crate::api::with_conn(&state, move |c| {
                certificates::register_and_flag(c, &actor, vid, role, cert)
            })
            .await
        }
        Err(e) => Err(e),
    };
    match result {
        Ok((c, warnings)) => {
            let note = if warnings.is_empty() {
                String::new()
            } else {
                format!(" Capability warning: {}.", warnings.join("; "))
            };
            Ok(redirect_done(
                &format!("/vendors/{id}"),
                &format!(
                    "Certificate registered: {} (SHA-256 {}).{note}",
                    c.subject, c.sha256
                ),
            ))
        }
        Err(e) => {
            let (status, message) = refusal(e)?;
            vendor_page(&state, user, id, None, Some(message), status).await
        }
    }
}

#[derive(Deserialize)]
struct ComponentForm {
    #[serde(default)]
    csrf: String,
    name: String,
    #[serde(default)]
    min_version: String,
}

#[post("/vendors/{id}/components")]
async fn component_create(
    state: web::Data<AppState>,
    user: PageUser,
    id: web::Path<String>,
    form: web::Form<ComponentForm>,
) -> PageResult {
    user.check_csrf(&form.csrf)?;
    user.require(PROCUREMENT, "authorise components")?;
    let id = id.into_inner();
    let body = components::ComponentRequest {
        name: form.name.trim().to_string(),
        min_version: non_empty(&form.min_version),
    };
    let actor = user.actor();
    let vid = id.clone();
    match crate::api::with_conn(&state, move |c| {
        components::create_component(c, &actor, vid, body)
    })
    .await
    {
        Ok(c) => Ok(redirect_done(
            &format!("/vendors/{id}"),
            &format!("Component {} authorised.", c.name),
        )),
        Err(e) => {
            let (status, message) = refusal(e)?;
            vendor_page(&state, user, id, None, Some(message), status).await
        }
    }
}

#[derive(Deserialize)]
struct FloorForm {
    #[serde(default)]
    confirm_brick: Option<String>,
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    min_version: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    version: String,
}

#[post("/components/{name}/floor")]
async fn floor_set(
    state: web::Data<AppState>,
    user: PageUser,
    name: web::Path<String>,
    form: web::Form<FloorForm>,
) -> PageResult {
    user.check_csrf(&form.csrf)?;
    user.require(SECURITY, "change rollback floors")?;
    let name = name.into_inner();
    let expected: i32 = form.version.parse().unwrap_or(-1);
    let body = components::FloorRequest {
        min_version: non_empty(&form.min_version),
        reason: non_empty(&form.reason),
        confirm_brick: form.confirm_brick.is_some(),
    };
    let actor = user.actor();
    let n2 = name.clone();
    let vendor_of = name.clone();
    let vendor: Option<String> = db(&state, move |c| {
        Ok(comps_t::table
            .find(&vendor_of)
            .select(comps_t::vendor_id)
            .first(c)
            .optional()?)
    })
    .await?;
    let vendor = vendor
        .ok_or_else(|| PageError::Api(ApiError::NotFound(format!("no component '{name}'"))))?;
    match crate::api::with_conn(&state, move |c| {
        components::set_component_floor(c, &actor, n2, expected, body)
    })
    .await
    {
        Ok(c) => Ok(redirect_done(
            &format!("/vendors/{vendor}"),
            &format!(
                "Floor of {} set to {}.",
                c.name,
                c.min_version.unwrap_or_else(|| "none".into())
            ),
        )),
        Err(e) => {
            let (status, message) = refusal(e)?;
            vendor_page(&state, user, vendor, None, Some(message), status).await
        }
    }
}

// ---- revocation (with a confirmation step) -------------------------------------

struct CertInfo {
    id: i64,
    vendor_id: String,
    subject: String,
    sha256: String,
    role: String,
}

#[derive(Template)]
#[template(path = "revoke.html")]
struct RevokePage<'a> {
    user: Option<PageUser>,
    nav: &'a str,
    flash: Option<String>,
    error: Option<String>,
    csrf: String,
    cert: CertInfo,
    confirming: bool,
    reasons: &'static [&'static str],
    reason: String,
    invalidity_date: String,
    affected_components: Vec<String>,
    affected_receipts: i64,
    bricks: Vec<String>,
}

async fn load_cert(
    state: &web::Data<AppState>,
    id: i64,
) -> Result<(Certificate, Vec<String>, i64), PageError> {
    db(state, move |c| {
        let cert: Certificate = certs_t::table
            .find(id)
            .select(Certificate::as_select())
            .first(c)
            .optional()?
            .ok_or_else(|| ApiError::NotFound(format!("no certificate {id}")))?;
        let comps: Vec<String> = comps_t::table
            .filter(comps_t::vendor_id.eq(&cert.vendor_id))
            .order(comps_t::name)
            .select(comps_t::name)
            .load(c)?;
        // Receipts whose report names this certificate (signer or chain).
        let pattern = format!("%{}%", cert.sha256);
        let n: i64 = receipts::table
            .filter(receipts::report.like(pattern))
            .count()
            .get_result(c)?;
        Ok((cert, comps, n))
    })
    .await
}

#[derive(Deserialize)]
struct RevokeQuery {
    certificate: i64,
}

#[get("/revoke")]
async fn revoke_form(
    state: web::Data<AppState>,
    user: PageUser,
    q: web::Query<RevokeQuery>,
) -> PageResult {
    user.require(SECURITY, "revoke certificates")?;
    let (cert, _, _) = load_cert(&state, q.certificate).await?;
    Ok(html(
        StatusCode::OK,
        RevokePage {
            csrf: user.csrf.clone(),
            user: Some(user),
            nav: "vendors",
            flash: None,
            error: None,
            cert: CertInfo {
                id: cert.id,
                vendor_id: cert.vendor_id,
                subject: cert.subject,
                sha256: cert.sha256,
                role: cert.role,
            },
            confirming: false,
            reasons: inspector::policy::REVOCATION_REASONS,
            reason: String::new(),
            invalidity_date: String::new(),
            affected_components: vec![],
            affected_receipts: 0,
            bricks: vec![],
        }
        .render(),
    ))
}

#[derive(Deserialize)]
struct RevokeForm {
    #[serde(default)]
    csrf: String,
    certificate: i64,
    reason: String,
    #[serde(default)]
    invalidity_date: String,
    #[serde(default)]
    confirm: String,
}

fn normalise_local_time(s: &str) -> Option<String> {
    // datetime-local gives YYYY-MM-DDTHH:MM (UTC by the label); RFC 3339 needs seconds and a zone.
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    Some(match s.len() {
        16 => format!("{s}:00Z"),
        19 => format!("{s}Z"),
        _ => s.to_string(),
    })
}

#[post("/revoke")]
async fn revoke(
    state: web::Data<AppState>,
    user: PageUser,
    form: web::Form<RevokeForm>,
) -> PageResult {
    user.check_csrf(&form.csrf)?;
    user.require(SECURITY, "revoke certificates")?;
    let (cert, comps, n) = load_cert(&state, form.certificate).await?;
    let inv = normalise_local_time(&form.invalidity_date);
    let render =
        |error: Option<String>, confirming: bool, status: StatusCode, bricks: Vec<String>| {
            html(
                status,
                RevokePage {
                    bricks,
                    user: Some(user.clone()),
                    nav: "vendors",
                    flash: None,
                    error,
                    csrf: user.csrf.clone(),
                    cert: CertInfo {
                        id: cert.id,
                        vendor_id: cert.vendor_id.clone(),
                        subject: cert.subject.clone(),
                        sha256: cert.sha256.clone(),
                        role: cert.role.clone(),
                    },
                    confirming,
                    reasons: inspector::policy::REVOCATION_REASONS,
                    reason: form.reason.clone(),
                    invalidity_date: inv.clone().unwrap_or_default(),
                    affected_components: comps.clone(),
                    affected_receipts: n,
                }
                .render(),
            )
        };
    let page = |error: Option<String>, confirming: bool, status: StatusCode| {
        render(error, confirming, status, vec![])
    };
    let page_with_bricks = |bricks: Vec<String>| render(None, true, StatusCode::OK, bricks);
    if !inspector::policy::REVOCATION_REASONS.contains(&form.reason.as_str()) {
        return Ok(page(
            Some(format!(
                "reason '{}' is not an RFC 5280 reason",
                form.reason
            )),
            false,
            StatusCode::BAD_REQUEST,
        ));
    }
    if let Some(d) = &inv
        && let Err(e) = crate::api::parse_time("invalidity date", d)
    {
        return Ok(page(Some(e.to_string()), false, StatusCode::BAD_REQUEST));
    }
    if form.confirm != "yes" {
        let preview = revocations::RevocationRequest {
            pem: Some(crate::bundle::pem_of(&cert.der)),
            der_base64: None,
            reason: form.reason.clone(),
            invalidity_date: inv.clone(),
            confirm_brick: true,
        };
        let actor = user.actor();
        let bricks = db(&state, move |c| {
            crate::products::brick_preview(c, |c| {
                revocations::revoke_certificate(c, &actor, preview).map(|_| ())
            })
        })
        .await?;
        return Ok(page_with_bricks(bricks));
    }
    // The person saw the brick list on the confirmation page: confirmed.
    let body = revocations::RevocationRequest {
        pem: Some(crate::bundle::pem_of(&cert.der)),
        der_base64: None,
        reason: form.reason.clone(),
        invalidity_date: inv.clone(),
        confirm_brick: true,
    };
    let actor = user.actor();
    match crate::api::with_conn(&state, move |c| {
        revocations::revoke_certificate(c, &actor, body)
    })
    .await
    {
        Ok(_) => Ok(redirect_done(
            &format!("/vendors/{}", cert.vendor_id),
            &format!("Certificate {} revoked.", cert.subject),
        )),
        Err(e) => {
            let (status, message) = refusal(e)?;
            Ok(page(Some(message), false, status))
        }
    }
}

// ---- receipts -------------------------------------------------------------------

#[derive(Deserialize, Default, Clone)]
struct ReceiptFilter {
    #[serde(default)]
    vendor: String,
    #[serde(default)]
    component: String,
    #[serde(default)]
    verdict: String,
    #[serde(default)]
    lot: String,
    #[serde(default)]
    station: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
}

struct ReceiptRow {
    id: i64,
    received_at: String,
    verdict: String,
    vendor: String,
    component: String,
    version: String,
    station: String,
    lot: String,
    summary: String,
}

#[derive(Template)]
#[template(path = "receipts.html")]
struct ReceiptsPage<'a> {
    user: Option<PageUser>,
    nav: &'a str,
    flash: Option<String>,
    f: ReceiptFilter,
    rows: Vec<ReceiptRow>,
}

fn day_start(field: &str, s: &str, plus_one: bool) -> Result<Option<i64>, ApiError> {
    if s.trim().is_empty() {
        return Ok(None);
    }
    let t = crate::api::parse_time(field, &format!("{}T00:00:00Z", s.trim()))?;
    Ok(Some(if plus_one { t + 86_400 } else { t }))
}

#[get("/receipts")]
async fn receipts_list(
    state: web::Data<AppState>,
    user: PageUser,
    q: web::Query<ReceiptFilter>,
) -> PageResult {
    if !user.can(READERS) {
        return Err(PageError::Forbidden(
            "this role may not read receipts".into(),
        ));
    }
    let f = q.into_inner();
    let from = day_start("from", &f.from, false)?;
    let to = day_start("to", &f.to, true)?;
    let g = f.clone();
    let rows: Vec<Receipt> = db(&state, move |c| {
        let mut q = receipts::table.into_boxed();
        if !g.vendor.is_empty() {
            q = q.filter(receipts::vendor.eq(g.vendor));
        }
        if !g.component.is_empty() {
            q = q.filter(receipts::component.eq(g.component));
        }
        if g.verdict == "accept" || g.verdict == "reject" {
            q = q.filter(receipts::verdict.eq(g.verdict));
        }
        if !g.lot.is_empty() {
            q = q.filter(receipts::lot.eq(g.lot));
        }
        if !g.station.is_empty() {
            q = q.filter(receipts::station.eq(g.station));
        }
        if let Some(t) = from {
            q = q.filter(receipts::received_at.ge(t));
        }
        if let Some(t) = to {
            q = q.filter(receipts::received_at.lt(t));
        }
        Ok(q.order(receipts::id.desc())
            .limit(200)
            .select(Receipt::as_select())
            .load(c)?)
    })
    .await?;
    let rows = rows
        .into_iter()
        .map(|r| ReceiptRow {
            id: r.id,
            received_at: time_str(r.received_at),
            summary: summary_of(&r.report),
            verdict: r.verdict,
            vendor: r.vendor,
            component: r.component,
            version: r.version,
            station: r.station,
            lot: r.lot,
        })
        .collect();
    Ok(html(
        StatusCode::OK,
        ReceiptsPage {
            user: Some(user),
            nav: "receipts",
            flash: None,
            f,
            rows,
        }
        .render(),
    ))
}

struct ReceiptDetail {
    id: i64,
    received_at: String,
    verdict: String,
    vendor: String,
    component: String,
    version: String,
    blob_sha256: String,
    blob_size: i64,
    station: String,
    lot: String,
    recorded_by: String,
    bundle_serial: i64,
}

#[derive(Template)]
#[template(path = "receipt.html")]
struct ReceiptPage<'a> {
    user: Option<PageUser>,
    nav: &'a str,
    flash: Option<String>,
    r: ReceiptDetail,
    summary: String,
    checks: Vec<(String, String, String, String)>,
}

#[get("/receipts/{id}")]
async fn receipt_detail(
    state: web::Data<AppState>,
    user: PageUser,
    id: web::Path<i64>,
) -> PageResult {
    if !user.can(READERS) {
        return Err(PageError::Forbidden(
            "this role may not read receipts".into(),
        ));
    }
    let id = id.into_inner();
    let r: Receipt = db(&state, move |c| {
        receipts::table
            .find(id)
            .select(Receipt::as_select())
            .first(c)
            .optional()?
            .ok_or_else(|| ApiError::NotFound(format!("no receipt {id}")))
    })
    .await?;
    let report: Option<inspector::report::Report> = serde_json::from_str(&r.report).ok();
    let mut checks = Vec::new();
    let outcome = |o: inspector::report::Outcome| match o {
        inspector::report::Outcome::Pass => "pass",
        inspector::report::Outcome::Fail => "fail",
        inspector::report::Outcome::Skip => "skip",
    };
    if let Some(rep) = &report {
        for c in &rep.checks {
            checks.push((
                "blob".to_string(),
                c.id.name().to_string(),
                outcome(c.outcome).to_string(),
                c.reason.clone(),
            ));
        }
        for s in &rep.signers {
            let who = s
                .certificate
                .as_ref()
                .map(|c| c.subject.clone())
                .unwrap_or_else(|| format!("signer {}", s.index + 1));
            for c in &s.checks {
                checks.push((
                    who.clone(),
                    c.id.name().to_string(),
                    outcome(c.outcome).to_string(),
                    c.reason.clone(),
                ));
            }
        }
    }
    let page = ReceiptPage {
        user: Some(user),
        nav: "receipts",
        flash: None,
        summary: report.map(|r| r.summary).unwrap_or_default(),
        checks,
        r: ReceiptDetail {
            id: r.id,
            received_at: time_str(r.received_at),
            verdict: r.verdict,
            vendor: r.vendor,
            component: r.component,
            version: r.version,
            blob_sha256: r.blob_sha256,
            blob_size: r.blob_size,
            station: r.station,
            lot: r.lot,
            recorded_by: r.recorded_by,
            bundle_serial: r.bundle_serial,
        },
    };
    Ok(html(StatusCode::OK, page.render()))
}

// ---- audit and bundle ------------------------------------------------------------

struct AuditRow {
    id: i64,
    at: String,
    actor: String,
    action: String,
    entity: String,
    entity_id: String,
    before: String,
    after: String,
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage<'a> {
    user: Option<PageUser>,
    nav: &'a str,
    flash: Option<String>,
    intact: bool,
    rows: usize,
    problems: Vec<crate::audit::ChainProblem>,
    entries: Vec<AuditRow>,
}

#[get("/audit")]
async fn audit_page(state: web::Data<AppState>, user: PageUser) -> PageResult {
    if !user.can(&[Role::Admin, Role::Security, Role::Auditor]) {
        return Err(PageError::Forbidden(format!(
            "role '{}' may not read the audit log",
            user.role.as_str()
        )));
    }
    let (v, entries) = db(&state, |c| {
        let v = crate::audit::verify_chain(c)?;
        let e: Vec<AuditEntry> = audit_log::table
            .order(audit_log::id.desc())
            .limit(200)
            .select(AuditEntry::as_select())
            .load(c)?;
        Ok((v, e))
    })
    .await?;
    let page = AuditPage {
        user: Some(user),
        nav: "audit",
        flash: None,
        intact: v.intact,
        rows: v.rows,
        problems: v.problems,
        entries: entries
            .into_iter()
            .map(|e| AuditRow {
                id: e.id,
                at: time_str(e.at),
                actor: e.actor,
                action: e.action,
                entity: e.entity,
                entity_id: e.entity_id,
                before: e.before_json.unwrap_or_default(),
                after: e.after_json.unwrap_or_default(),
            })
            .collect(),
    };
    Ok(html(StatusCode::OK, page.render()))
}

#[derive(Template)]
#[template(path = "bundle.html")]
struct BundlePage<'a> {
    user: Option<PageUser>,
    nav: &'a str,
    flash: Option<String>,
    serial: i64,
    issued_at: String,
    expires_at: String,
    size: usize,
    cert_fp: String,
}

#[get("/trust-bundle")]
async fn bundle_page(state: web::Data<AppState>, user: PageUser) -> PageResult {
    let st = state.clone();
    let b = web::block(move || crate::bundle::current(&st)).await??;
    let page = BundlePage {
        user: Some(user),
        nav: "bundle",
        flash: None,
        serial: b.serial,
        issued_at: inspector::cert::rfc3339(b.issued_at),
        expires_at: inspector::cert::rfc3339(b.expires_at),
        size: b.body.len(),
        cert_fp: inspector::digest::hex(
            &inspector::digest::DigestAlgorithm::Sha256.hash(&state.key.certificate_der),
        ),
    };
    Ok(html(StatusCode::OK, page.render()))
}

#[get("/trust-bundle/download")]
async fn bundle_download(state: web::Data<AppState>, _user: PageUser) -> PageResult {
    let st = state.clone();
    let b = web::block(move || crate::bundle::current(&st)).await??;
    Ok(HttpResponse::Ok()
        .content_type("application/json")
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!(
                "attachment; filename=\"tollgate-trust-bundle-{}.json\"",
                b.serial
            ),
        ))
        .body(b.body))
}

// ---- products ---------------------------------------------------------------------

struct ProductRow {
    id: String,
    name: String,
    stages: String,
}

#[derive(Template)]
#[template(path = "products.html")]
struct ProductsPage<'a> {
    user: Option<PageUser>,
    nav: &'a str,
    flash: Option<String>,
    products: Vec<ProductRow>,
}

#[get("/products")]
async fn products_list(state: web::Data<AppState>, user: PageUser) -> PageResult {
    let rows: Vec<schema::models::Product> = db(&state, |c| {
        use schema::schema::products;
        Ok(products::table
            .order(products::id)
            .select(schema::models::Product::as_select())
            .load(c)?)
    })
    .await?;
    let products = rows
        .into_iter()
        .map(|p| {
            let stages: Vec<crate::products::Stage> =
                serde_json::from_str(&p.stages).unwrap_or_default();
            ProductRow {
                id: p.id,
                name: p.name,
                stages: stages
                    .iter()
                    .map(|s| format!("{} ({})", s.name, s.algorithms.join(", ")))
                    .collect::<Vec<_>>()
                    .join(" → "),
            }
        })
        .collect();
    Ok(html(
        StatusCode::OK,
        ProductsPage {
            user: Some(user),
            nav: "products",
            flash: None,
            products,
        }
        .render(),
    ))
}

#[derive(Template)]
#[template(path = "product.html")]
struct ProductPage<'a> {
    user: Option<PageUser>,
    nav: &'a str,
    flash: Option<String>,
    a: crate::products::Allowlist,
    formats: &'static [(&'static str, &'static str)],
}

#[get("/products/{id}")]
async fn product_detail(
    state: web::Data<AppState>,
    user: PageUser,
    id: web::Path<String>,
) -> PageResult {
    let id = id.into_inner();
    let a = db(&state, move |c| crate::products::build(c, &id)).await?;
    let formats: &'static [(&'static str, &'static str)] = &[
        ("json", "JSON allowlist"),
        ("efi-db", "UEFI db (EFI_SIGNATURE_LIST)"),
        ("efi-dbx", "UEFI dbx"),
        ("c-header", "C header (MCU bootloaders)"),
        ("diff", "diff against the previous export"),
    ];
    Ok(html(
        StatusCode::OK,
        ProductPage {
            user: Some(user),
            nav: "products",
            flash: None,
            a,
            formats,
        }
        .render(),
    ))
}

#[derive(Deserialize)]
struct ExportQuery {
    format: Option<String>,
    signature: Option<String>,
}

#[get("/products/{id}/export")]
async fn product_export(
    state: web::Data<AppState>,
    user: PageUser,
    id: web::Path<String>,
    q: web::Query<ExportQuery>,
) -> PageResult {
    if !user.can(READERS) {
        return Err(PageError::Forbidden(
            "this role may not export allowlists".into(),
        ));
    }
    let id = id.into_inner();
    let format = q.format.clone().unwrap_or_else(|| "json".into());
    let (f2, i2) = (format.clone(), id.clone());
    let (body, ct) = db(&state, move |c| {
        c.transaction(|c| crate::api::products::export(c, &i2, &f2))
    })
    .await?;
    let ext = match format.as_str() {
        "efi-db" | "efi-dbx" => "esl",
        "c-header" => "h",
        _ => "json",
    };
    let name = format!("{id}-{format}.{ext}");
    if q.signature.is_some() {
        return Ok(HttpResponse::Ok()
            .content_type("application/octet-stream")
            .insert_header((
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}.sig\""),
            ))
            .body(state.key.sign(&body)));
    }
    Ok(HttpResponse::Ok()
        .content_type(ct)
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{name}\""),
        ))
        .body(body))
}

#[get("/static/style.css")]
async fn stylesheet() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .body(include_str!("../../../templates/static/style.css"))
}

/// Registers the pages.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(login_form)
        .service(login)
        .service(logout)
        .service(dashboard)
        .service(vendor_new_form)
        .service(vendor_create)
        .service(vendors_list)
        .service(vendor_edit_form)
        .service(vendor_update)
        .service(certificate_upload)
        .service(component_create)
        .service(vendor_detail)
        .service(floor_set)
        .service(revoke_form)
        .service(revoke)
        .service(receipts_list)
        .service(receipt_detail)
        .service(audit_page)
        .service(bundle_page)
        .service(bundle_download)
        .service(products_list)
        .service(product_detail)
        .service(product_export)
        .service(stylesheet)
        .service(super::tokens::tokens_page)
        .service(super::tokens::token_create)
        .service(super::tokens::token_revoke)
        .service(super::tokens::user_set_state);
}
