//! Vendors: the list, one vendor (contract terms, certificates with their
//! status, components and floors, Sigstore material), the vendor form,
//! certificate upload, components and floors.

use super::{
    Done, Layout, PageResult, checked_multipart, db, flash_of, html, non_empty, redirect_done,
    refusal, seg, text_field,
};
use crate::error::ApiError;
use crate::service::approvals::Change;
use crate::service::certificates::{self, CertificateSource};
use crate::service::components::{self, ComponentRequest, FloorRequest};
use crate::service::sigstore::{self, IdentityRequest, KeyRequest};
use crate::service::vendors::{self, VendorView};
use crate::service::{PROCUREMENT, SECURITY, overview, time_str};
use crate::state::AppState;
use crate::ui::session::PageUser;
use actix_web::http::StatusCode;
use actix_web::{get, post, web};
use askama::Template;
use schema::models::{SigstoreIdentity, SigstoreKey};
use serde::Deserialize;

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
struct VendorsPage {
    layout: Layout,
    q: String,
    can_edit: bool,
    vendors: Vec<VendorRow>,
}

#[derive(Deserialize)]
struct SearchQuery {
    q: Option<String>,
    done: Option<String>,
}

fn day(t: i64) -> String {
    time_str(t).chars().take(10).collect()
}

#[get("/vendors")]
async fn vendors_list(
    state: web::Data<AppState>,
    user: PageUser,
    q: web::Query<SearchQuery>,
) -> PageResult {
    let needle = q.q.clone().unwrap_or_default().trim().to_lowercase();
    let actor = user.actor();
    let all = db(&state, &user, move |c| overview::vendor_overview(c, &actor)).await?;
    let vendors = all
        .into_iter()
        .filter(|(v, _, _)| {
            needle.is_empty()
                || v.name.to_lowercase().contains(&needle)
                || v.id.contains(&needle)
                || v.contract_ref.to_lowercase().contains(&needle)
        })
        .map(|(v, certificates, components)| VendorRow {
            certificates,
            components,
            contract_expires: v.contract_expires.map(day).unwrap_or_default(),
            id: v.id,
            name: v.name,
            contract_ref: v.contract_ref,
            security_contact: v.security_contact,
        })
        .collect();
    let page = VendorsPage {
        can_edit: user.can(PROCUREMENT),
        layout: Layout::new(&user, "vendors", q.done.clone()),
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
    /// The allowed signers, described; empty: unconstrained.
    signers: Vec<String>,
    /// "retired DATE: reason" when retired.
    retired: Option<String>,
    /// Its own end of support (a day), if it overrides the vendor's.
    support_ends: Option<String>,
    /// The allowed signers as the binding form's lines.
    signer_lines: String,
}

#[derive(Template)]
#[template(path = "vendor.html")]
struct VendorPage {
    layout: Layout,
    error: Option<String>,
    csrf: String,
    v: VendorView,
    certs: Vec<CertRow>,
    components: Vec<CompRow>,
    /// CA keys this vendor shares with others, on record.
    shared: Vec<certificates::SharedCaView>,
    identities: Vec<SigstoreIdentity>,
    keys: Vec<SigstoreKey>,
    can_procure: bool,
    can_floor: bool,
    can_revoke: bool,
    /// May retire and un-retire (procurement, security, admin).
    can_retire: bool,
    /// RFC 5280 reasons, for the Sigstore revocation form.
    reasons: &'static [&'static str],
    /// The vendor's signed SBOMs.
    sboms: Vec<crate::service::sboms::SbomView>,
}

/// A certificate's status on the vendor page: revoked (by the one
/// revocation rule), expired, expiring within 90 days, or valid.
fn cert_status(revoked: bool, not_after: i64, now: i64) -> (String, &'static str) {
    if revoked {
        ("revoked".to_string(), "revoked")
    } else if not_after < now {
        ("expired".to_string(), "expired")
    } else if not_after < now + 90 * 86_400 {
        (format!("expires {}", day(not_after)), "expiring")
    } else {
        ("valid".to_string(), "valid")
    }
}

pub(super) async fn vendor_page(
    state: &web::Data<AppState>,
    user: PageUser,
    id: String,
    flash: Option<String>,
    error: Option<String>,
    status: StatusCode,
) -> PageResult {
    let actor = user.actor();
    let (d, shared, sboms) = db(state, &user, move |c| {
        let d = overview::vendor_detail(c, &actor, &id)?;
        let shared = certificates::shared_cas(c, &actor, Some(&id))?;
        let sboms = crate::service::sboms::list(c, &actor, &id)?;
        Ok((d, shared, sboms))
    })
    .await?;
    let now = crate::now_unix();
    let certs = d
        .certificates
        .into_iter()
        .map(|(c, revoked)| {
            let (status, class) = match (&c.retired_at, &c.retired_reason) {
                (Some(at), reason) => (
                    format!(
                        "retired {}: {}",
                        day(*at),
                        reason.as_deref().unwrap_or_default()
                    ),
                    "retired",
                ),
                _ => cert_status(revoked, c.not_after, now),
            };
            CertRow {
                id: c.id,
                role: c.role,
                subject: c.subject,
                issuer: c.issuer,
                sha256: c.sha256,
                not_before: day(c.not_before),
                not_after: day(c.not_after),
                key_algorithm: c.key_algorithm,
                status,
                status_class: class.to_string(),
            }
        })
        .collect();
    let page = VendorPage {
        csrf: user.csrf.clone(),
        can_procure: user.can(PROCUREMENT),
        can_floor: user.can(SECURITY),
        can_revoke: user.can(SECURITY),
        can_retire: user.can(crate::service::retire::RETIRERS),
        reasons: inspector::policy::REVOCATION_REASONS,
        sboms,
        layout: Layout::new(&user, "vendors", flash),
        error,
        v: vendors::view(&d.vendor),
        certs,
        components: d
            .components
            .into_iter()
            .map(|c| CompRow {
                support_ends: c.support_ends.map(day),
                signer_lines: components::allowed_signers(&c)
                    .iter()
                    .map(|a| match (&a.subject, &a.spki_sha256, &a.sigstore_san) {
                        (Some(s), _, _) => format!("subject: {s}"),
                        (_, Some(h), _) => format!("key: {h}"),
                        (_, _, Some(san)) => format!("sigstore: {san}"),
                        _ => String::new(),
                    })
                    .collect::<Vec<_>>()
                    .join("\n"),
                signers: components::allowed_signers(&c)
                    .iter()
                    .map(|a| match (&a.subject, &a.spki_sha256, &a.sigstore_san) {
                        (Some(s), _, _) => format!("subject {s}"),
                        (_, Some(h), _) => format!("key {h}"),
                        (_, _, Some(san)) => format!("Sigstore {san}"),
                        _ => String::new(),
                    })
                    .collect(),
                retired: c.retired_at.map(|at| {
                    format!(
                        "retired {}: {}",
                        day(at),
                        c.retired_reason.as_deref().unwrap_or_default()
                    )
                }),
                name: c.name,
                min_version: c.min_version,
                version: c.row_version,
            })
            .collect(),
        identities: d.identities,
        shared: shared.iter().map(certificates::shared_view).collect(),
        keys: d.keys,
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

#[post("/vendors/{id}/certificates")]
async fn certificate_upload(
    state: web::Data<AppState>,
    user: PageUser,
    id: web::Path<String>,
    payload: actix_multipart::Multipart,
) -> PageResult {
    let fields = checked_multipart(&user, payload, PROCUREMENT, "register certificates").await?;
    let id = id.into_inner();
    let pasted = text_field(&fields, "pem");
    // The file (PEM or DER) wins over the pasted text.
    let bytes = fields
        .get("file")
        .filter(|f| !f.is_empty())
        .cloned()
        .or_else(|| (!pasted.is_empty()).then(|| pasted.into_bytes()));
    let role = text_field(&fields, "role");
    let reason = Some(text_field(&fields, "lookalike_reason"));
    let vid = id.clone();
    let result = super::submit_change(
        &state,
        &user,
        move |_, actor| {
            certificates::registration_change(
                actor,
                vid,
                role,
                CertificateSource::Form(bytes),
                reason,
            )
        },
        |a| {
            let warnings: Vec<&str> = a
                .view
                .get("capability_warnings")
                .and_then(|w| w.as_array())
                .map(|w| w.iter().filter_map(|x| x.as_str()).collect())
                .unwrap_or_default();
            let note = if warnings.is_empty() {
                String::new()
            } else {
                format!(" Capability warning: {}.", warnings.join("; "))
            };
            format!(
                "Certificate registered: {} (SHA-256 {}).{note}",
                super::view_field(&a.view, "subject"),
                super::view_field(&a.view, "sha256")
            )
        },
    )
    .await;
    after_change(&state, user, id, result).await
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
    let body = ComponentRequest {
        name: form.name.trim().to_string(),
        min_version: non_empty(&form.min_version),
        support_ends: None,
    };
    let actor = user.actor();
    let vid = id.clone();
    let done = crate::api::with_conn(&state, move |c| {
        components::create_component(c, &actor, vid, body)
    })
    .await;
    after_change(
        &state,
        user,
        id,
        done.map(|c| format!("Component {} authorised.", c.name)),
    )
    .await
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
    let body = FloorRequest {
        min_version: non_empty(&form.min_version),
        reason: non_empty(&form.reason),
        confirm_brick: form.confirm_brick.is_some(),
    };
    let n = name.clone();
    let vendor = db(&state, &user, move |c| {
        Ok(components::find(c, &n)?.vendor_id)
    })
    .await?;
    let done = super::submit_change(
        &state,
        &user,
        move |_, _| {
            Ok(Change::SetFloor {
                component: name,
                expected,
                request: body,
            })
        },
        |a| {
            format!(
                "Floor of {} set to {}.",
                super::view_field(&a.view, "name"),
                match super::view_field(&a.view, "min_version") {
                    "" => "none",
                    v => v,
                }
            )
        },
    )
    .await;
    after_change(&state, user, vendor, done).await
}

#[derive(Deserialize)]
struct IdentityForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    issuer: String,
    #[serde(default)]
    san: String,
    #[serde(default)]
    san_regex: String,
}

#[post("/vendors/{id}/sigstore-identities")]
async fn identity_add(
    state: web::Data<AppState>,
    user: PageUser,
    id: web::Path<String>,
    form: web::Form<IdentityForm>,
) -> PageResult {
    user.check_csrf(&form.csrf)?;
    user.require(PROCUREMENT, "register Sigstore identities")?;
    let id = id.into_inner();
    let body = IdentityRequest {
        issuer: form.issuer.trim().to_string(),
        san: non_empty(&form.san),
        san_regex: non_empty(&form.san_regex),
    };
    let actor = user.actor();
    let vid = id.clone();
    let done = crate::api::with_conn(&state, move |c| {
        sigstore::add_identity(c, &actor, &vid, body)
    })
    .await;
    after_change(
        &state,
        user,
        id,
        done.map(|_| "Sigstore identity added.".to_string()),
    )
    .await
}

#[derive(Deserialize)]
struct KeyForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    pem: String,
}

#[post("/vendors/{id}/sigstore-keys")]
async fn key_add(
    state: web::Data<AppState>,
    user: PageUser,
    id: web::Path<String>,
    form: web::Form<KeyForm>,
) -> PageResult {
    user.check_csrf(&form.csrf)?;
    user.require(PROCUREMENT, "register Sigstore keys")?;
    let id = id.into_inner();
    let body = KeyRequest {
        pem: form.pem.trim().to_string(),
    };
    let actor = user.actor();
    let vid = id.clone();
    let done =
        crate::api::with_conn(&state, move |c| sigstore::add_key(c, &actor, &vid, body)).await;
    after_change(
        &state,
        user,
        id,
        done.map(|k| format!("Sigstore key added (SHA-256 {}).", k.sha256)),
    )
    .await
}

/// Back to the vendor page after a form on it: with the message when the
/// change was made, or the page again with the refusal.
pub(super) async fn after_change(
    state: &web::Data<AppState>,
    user: PageUser,
    vendor: String,
    done: Result<String, ApiError>,
) -> PageResult {
    match done {
        Ok(message) => Ok(redirect_done(
            &format!("/vendors/{}", seg(&vendor)),
            &message,
        )),
        Err(e) => {
            let (status, message) = refusal(e)?;
            vendor_page(state, user, vendor, None, Some(message), status).await
        }
    }
}

pub(super) fn routes(cfg: &mut web::ServiceConfig) {
    super::vendor_form::routes(cfg);
    cfg.service(vendors_list)
        .service(certificate_upload)
        .service(component_create)
        .service(vendor_detail)
        .service(floor_set)
        .service(identity_add)
        .service(key_add);
}
