//! Revocations: revoking any registered certificate (with a confirmation
//! step that shows what it affects and what it would brick), the list of
//! revocations, and CRL import (a file, with the same confirmation).

use super::{
    Done, Layout, PageResult, checked_multipart, db, flash_of, html, redirect_done, refusal, seg,
    text_field,
};
use crate::service::revocations::{self, CrlImport, RevocationRequest};
use crate::service::{SECURITY, brick, certificates, components, receipts, time_str};
use crate::state::AppState;
use crate::ui::session::{PageError, PageUser};
use actix_web::http::StatusCode;
use actix_web::{get, post, web};
use askama::Template;
use base64::Engine;
use serde::Deserialize;

/// The certificate to revoke: a registered one (by row id), or any
/// certificate given as PEM (a leaf signer, which is never registered).
struct CertInfo {
    /// The registered certificate's row id.
    id: Option<i64>,
    /// The certificate as PEM (carried through the confirmation step when
    /// it is not registered).
    pem: String,
    /// Its DER.
    der: Vec<u8>,
    /// Its vendor: the owner, or for a leaf the vendor whose registered CA
    /// issued it ("" when none did).
    vendor_id: String,
    subject: String,
    sha256: String,
    role: String,
}

#[derive(Template)]
#[template(path = "revoke.html")]
struct RevokePage {
    layout: Layout,
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

/// The certificate (registered, or given as PEM), its vendor's components
/// and the receipts naming it.
async fn load_cert(
    state: &web::Data<AppState>,
    user: &PageUser,
    id: Option<i64>,
    pem: &str,
) -> Result<(CertInfo, Vec<String>, i64), PageError> {
    let actor = user.actor();
    let pem = pem.to_string();
    db(state, user, move |c| {
        let cert = match id {
            Some(id) => {
                let r = certificates::get(c, &actor, id)?;
                CertInfo {
                    id: Some(r.id),
                    pem: String::new(),
                    der: r.der,
                    vendor_id: r.vendor_id,
                    subject: r.subject,
                    sha256: r.sha256,
                    role: r.role,
                }
            }
            None => {
                actor.require(SECURITY, "revoke certificates")?;
                let parsed = certificates::decode_one(Some(&pem), None)?;
                CertInfo {
                    id: None,
                    vendor_id: certificates::issuing_vendor(c, &parsed)?.unwrap_or_default(),
                    subject: parsed.subject(),
                    sha256: parsed.fingerprint(),
                    role: if matches!(parsed.is_ca(), Ok(true)) {
                        "CA certificate (not registered)".into()
                    } else {
                        "signer (leaf)".into()
                    },
                    pem: inspector::cert::certificate_pem(&parsed.der),
                    der: parsed.der.clone(),
                }
            }
        };
        let comps = components::of_vendor(c, &cert.vendor_id)?
            .into_iter()
            .map(|c| c.name)
            .collect();
        let n = receipts::count_in_path(c, &cert.der)?;
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
    let (cert, _, _) = load_cert(&state, &user, Some(q.certificate), "").await?;
    Ok(html(
        StatusCode::OK,
        RevokePage {
            csrf: user.csrf.clone(),
            layout: Layout::new(&user, "vendors", None),
            error: None,
            cert,
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
    /// A registered certificate…
    #[serde(default)]
    certificate: Option<i64>,
    /// …or any certificate as PEM (a leaf signer).
    #[serde(default)]
    pem: String,
    reason: String,
    #[serde(default)]
    invalidity_date: String,
    #[serde(default)]
    confirm: String,
}

/// A `datetime-local` value (YYYY-MM-DDTHH:MM, UTC by the label) as RFC 3339.
fn normalise_local_time(s: &str) -> Option<String> {
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

/// Revokes a certificate in two steps: the first post shows what the
/// revocation affects and what it would brick (the change is run and rolled
/// back); the second, with `confirm=yes`, makes it.
#[post("/revoke")]
async fn revoke(
    state: web::Data<AppState>,
    user: PageUser,
    form: web::Form<RevokeForm>,
) -> PageResult {
    user.check_csrf(&form.csrf)?;
    user.require(SECURITY, "revoke certificates")?;
    let (cert, comps, n) = match load_cert(&state, &user, form.certificate, &form.pem).await {
        Ok(found) => found,
        Err(PageError::Shown(_, e)) if form.certificate.is_none() => {
            // A pasted certificate that does not parse: back to the list with the reason.
            let (status, m) = refusal(e)?;
            return revocations_page(&state, &user, status, None, Some(m), None).await;
        }
        Err(e) => return Err(e),
    };
    let inv = normalise_local_time(&form.invalidity_date);
    let back = if cert.vendor_id.is_empty() {
        "/revocations".to_string()
    } else {
        format!("/vendors/{}", seg(&cert.vendor_id))
    };
    let subject = cert.subject.clone();
    let der_base64 = base64::engine::general_purpose::STANDARD.encode(&cert.der);
    let page = RevokePage {
        bricks: vec![],
        layout: Layout::new(
            &user,
            if cert.id.is_some() {
                "vendors"
            } else {
                "revocations"
            },
            None,
        ),
        error: None,
        csrf: user.csrf.clone(),
        cert,
        confirming: false,
        reasons: inspector::policy::REVOCATION_REASONS,
        reason: form.reason.clone(),
        invalidity_date: inv.clone().unwrap_or_default(),
        affected_components: comps,
        affected_receipts: n,
    };
    let refused = |mut page: RevokePage, status: StatusCode, m: String| {
        page.error = Some(m);
        html(status, page.render())
    };
    if !inspector::policy::REVOCATION_REASONS.contains(&form.reason.as_str()) {
        let m = format!("reason '{}' is not an RFC 5280 reason", form.reason);
        return Ok(refused(page, StatusCode::BAD_REQUEST, m));
    }
    if let Some(d) = &inv
        && let Err(e) = crate::service::parse_time("invalidity date", d)
    {
        return Ok(refused(page, StatusCode::BAD_REQUEST, e.to_string()));
    }
    let body = RevocationRequest {
        pem: None,
        der_base64: Some(der_base64),
        reason: form.reason.clone(),
        invalidity_date: inv.clone(),
        // The confirmation page lists what it would brick; confirming it
        // is the person's decision.
        confirm_brick: true,
    };
    if form.confirm != "yes" {
        let actor = user.actor();
        let bricks = db(&state, &user, move |c| {
            brick::preview(c, |c| revocations::revoke_certificate(c, &actor, body))
        })
        .await?;
        return Ok(html(
            StatusCode::OK,
            RevokePage {
                bricks,
                confirming: true,
                ..page
            }
            .render(),
        ));
    }
    let done =
        move |_: &crate::service::approvals::Applied| format!("Certificate {subject} revoked.");
    match super::submit_change(
        &state,
        &user,
        move |_, _| Ok(crate::service::approvals::Change::RevokeCertificate { request: body }),
        done,
    )
    .await
    {
        Ok(message) => Ok(redirect_done(&back, &message)),
        Err(e) => {
            let (status, message) = refusal(e)?;
            Ok(refused(page, status, message))
        }
    }
}

struct RevocationRow {
    subject: String,
    serial: String,
    reason: String,
    invalidity_date: String,
    source: String,
    created_at: String,
}

#[derive(Template)]
#[template(path = "revocations.html")]
struct RevocationsPage {
    layout: Layout,
    reasons: &'static [&'static str],
    csrf: String,
    can_import: bool,
    error: Option<String>,
    rows: Vec<RevocationRow>,
    /// A CRL waiting for confirmation: (base64 DER, what it would brick).
    pending: Option<(String, Vec<String>)>,
}

async fn revocations_page(
    state: &web::Data<AppState>,
    user: &PageUser,
    status: StatusCode,
    flash: Option<String>,
    error: Option<String>,
    pending: Option<(String, Vec<String>)>,
) -> PageResult {
    let actor = user.actor();
    let rows = db(state, user, move |c| revocations::list(c, &actor)).await?;
    let rows = rows
        .into_iter()
        .rev()
        .map(|r| RevocationRow {
            subject: r.subject,
            serial: r.serial.unwrap_or_default(),
            reason: r.reason,
            invalidity_date: r.invalidity_date.map(time_str).unwrap_or_default(),
            source: r.source,
            created_at: time_str(r.created_at),
        })
        .collect();
    Ok(html(
        status,
        RevocationsPage {
            reasons: inspector::policy::REVOCATION_REASONS,
            layout: Layout::new(user, "revocations", flash),
            csrf: user.csrf.clone(),
            can_import: user.can(SECURITY),
            error,
            rows,
            pending,
        }
        .render(),
    ))
}

#[get("/revocations")]
async fn revocations_list(
    state: web::Data<AppState>,
    user: PageUser,
    q: web::Query<Done>,
) -> PageResult {
    revocations_page(&state, &user, StatusCode::OK, flash_of(&q), None, None).await
}

/// CRL import from a file (PEM or DER). The first post previews the
/// change (what it would brick) and asks for confirmation; the second
/// carries the CRL back (base64, signed by its issuer, so the round trip
/// through the browser cannot change what is imported) with `confirm=yes`.
#[post("/revocations/crl")]
async fn crl_import(
    state: web::Data<AppState>,
    user: PageUser,
    payload: actix_multipart::Multipart,
) -> PageResult {
    let fields = checked_multipart(&user, payload, SECURITY, "import CRLs").await?;
    let b64 = base64::engine::general_purpose::STANDARD;
    let der = match (
        fields.get("file").filter(|f| !f.is_empty()),
        text_field(&fields, "crl"),
    ) {
        (Some(file), _) => {
            // A PEM file becomes its DER; DER stays as it is.
            match std::str::from_utf8(file)
                .ok()
                .filter(|t| t.contains("-----BEGIN"))
            {
                Some(pem) => revocations::crl_der(Some(pem), None),
                None => Ok(file.clone()),
            }
        }
        (None, carried) if !carried.is_empty() => revocations::crl_der(None, Some(&carried)),
        _ => Err(crate::service::ServiceError::Invalid(
            "choose a CRL file (PEM or DER)".into(),
        )),
    };
    let der = match der {
        Ok(d) => d,
        Err(e) => {
            let (status, m) = refusal(e.into())?;
            return revocations_page(&state, &user, status, None, Some(m), None).await;
        }
    };
    let body = CrlImport {
        pem: None,
        der_base64: Some(b64.encode(&der)),
        confirm_brick: true,
    };
    let actor = user.actor();
    if text_field(&fields, "confirm") != "yes" {
        let preview_body = CrlImport {
            pem: None,
            der_base64: body.der_base64.clone(),
            confirm_brick: true,
        };
        let bricks = crate::api::with_conn(&state, move |c| {
            brick::preview(c, |c| revocations::import_crl(c, &actor, preview_body))
        })
        .await;
        return match bricks {
            Ok(bricks) => {
                revocations_page(
                    &state,
                    &user,
                    StatusCode::OK,
                    None,
                    None,
                    Some((b64.encode(&der), bricks)),
                )
                .await
            }
            Err(e) => {
                let (status, m) = refusal(e)?;
                revocations_page(&state, &user, status, None, Some(m), None).await
            }
        };
    }
    match crate::api::with_conn(&state, move |c| revocations::import_crl(c, &actor, body)).await {
        Ok(r) => Ok(redirect_done(
            "/revocations",
            &format!(
                "CRL of {} imported: {} new revocations, {} already present.",
                r.issuer, r.imported, r.already_present
            ),
        )),
        Err(e) => {
            let (status, m) = refusal(e)?;
            revocations_page(&state, &user, status, None, Some(m), None).await
        }
    }
}

pub(super) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(revoke_form)
        .service(revoke)
        .service(revocations_list)
        .service(crl_import);
}
