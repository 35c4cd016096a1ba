//! Trust roots that are not a vendor's: time-stamping authorities (RFC 3161)
//! and Sigstore trusted roots, each listed with a form to add one.

use super::{
    Done, Layout, PageResult, checked_multipart, db, flash_of, html, redirect_done, refusal,
    text_field,
};
use crate::service::sigstore::{self, TrustedRootRequest, TrustedRootView};
use crate::service::tsa::{self, TsaAnchorRequest, TsaAnchorView};
use crate::service::{SECURITY, ServiceError};
use crate::state::AppState;
use crate::ui::session::PageUser;
use actix_web::http::StatusCode;
use actix_web::{get, post, web};
use askama::Template;

#[derive(Template)]
#[template(path = "trust.html")]
struct TrustPage {
    layout: Layout,
    csrf: String,
    can_edit: bool,
    can_retire: bool,
    error: Option<String>,
    tsas: Vec<TsaAnchorView>,
    roots: Vec<TrustedRootView>,
}

async fn trust_page(
    state: &web::Data<AppState>,
    user: &PageUser,
    status: StatusCode,
    flash: Option<String>,
    error: Option<String>,
) -> PageResult {
    let actor = user.actor();
    let (tsas, roots) = db(state, user, move |c| {
        let roots = sigstore::roots(c, &actor)?
            .into_iter()
            .map(sigstore::root_view)
            .collect();
        Ok((tsa::list(c, &actor)?, roots))
    })
    .await?;
    Ok(html(
        status,
        TrustPage {
            layout: Layout::new(user, "trust", flash),
            csrf: user.csrf.clone(),
            can_edit: user.can(SECURITY),
            can_retire: user.can(crate::service::retire::RETIRERS),
            error,
            tsas,
            roots,
        }
        .render(),
    ))
}

#[get("/trust")]
async fn trust(state: web::Data<AppState>, user: PageUser, q: web::Query<Done>) -> PageResult {
    trust_page(&state, &user, StatusCode::OK, flash_of(&q), None).await
}

/// The uploaded file, or else the pasted text, as UTF-8 text.
fn file_or_text(
    fields: &std::collections::HashMap<String, Vec<u8>>,
    pasted: &str,
    what: &str,
) -> Result<String, ServiceError> {
    match fields.get("file").filter(|f| !f.is_empty()) {
        Some(f) => String::from_utf8(f.clone())
            .map_err(|_| ServiceError::Invalid(format!("the {what} file is not text"))),
        None if !text_field(fields, pasted).is_empty() => Ok(text_field(fields, pasted)),
        None => Err(ServiceError::Invalid(format!("choose a {what} file"))),
    }
}

#[post("/trust/tsa-anchors")]
async fn tsa_add(
    state: web::Data<AppState>,
    user: PageUser,
    payload: actix_multipart::Multipart,
) -> PageResult {
    let fields = checked_multipart(&user, payload, SECURITY, "trust TSAs").await?;
    let actor = user.actor();
    let result = match file_or_text(&fields, "pem", "certificate (PEM)") {
        Ok(pem) => {
            let body = TsaAnchorRequest {
                pem: Some(pem),
                der_base64: None,
            };
            crate::api::with_conn(&state, move |c| tsa::add(c, &actor, body)).await
        }
        Err(e) => Err(e.into()),
    };
    let message =
        |t: TsaAnchorView| format!("TSA anchor {} trusted (SHA-256 {}).", t.subject, t.sha256);
    after_change(&state, &user, result.map(message)).await
}

#[post("/trust/sigstore-roots")]
async fn root_add(
    state: web::Data<AppState>,
    user: PageUser,
    payload: actix_multipart::Multipart,
) -> PageResult {
    let fields =
        checked_multipart(&user, payload, SECURITY, "import Sigstore trusted roots").await?;
    let name = text_field(&fields, "name");
    let actor = user.actor();
    let result = match file_or_text(&fields, "json", "trusted_root.json").and_then(|t| {
        serde_json::from_str::<serde_json::Value>(&t)
            .map_err(|e| ServiceError::Invalid(format!("trusted_root.json is not JSON: {e}")))
    }) {
        Ok(trusted_root) => {
            let body = TrustedRootRequest { name, trusted_root };
            crate::api::with_conn(&state, move |c| sigstore::add_root(c, &actor, body)).await
        }
        Err(e) => Err(e.into()),
    };
    let message = |r: schema::models::SigstoreTrustedRoot| {
        format!(
            "Sigstore trusted root '{}' imported (SHA-256 {}).",
            r.name, r.sha256
        )
    };
    after_change(&state, &user, result.map(message)).await
}

/// The retirement form's fields.
#[derive(serde::Deserialize)]
struct RetireForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    confirm_brick: Option<String>,
}

impl RetireForm {
    fn request(&self) -> crate::service::retire::RetirementRequest {
        crate::service::retire::RetirementRequest {
            reason: self.reason.trim().to_string(),
            confirm_brick: self.confirm_brick.is_some(),
        }
    }
}

#[post("/trust/tsa-anchors/{id}/retire")]
async fn tsa_retire(
    state: web::Data<AppState>,
    user: PageUser,
    id: web::Path<i64>,
    form: web::Form<RetireForm>,
) -> PageResult {
    user.check_csrf(&form.csrf)?;
    let (id, body, actor) = (id.into_inner(), form.request(), user.actor());
    let done = crate::api::with_conn(&state, move |c| {
        crate::service::retire::retire_tsa_anchor(c, &actor, id, body)
    })
    .await
    .map(|t| format!("TSA anchor {} retired.", t.subject));
    after_change(&state, &user, done).await
}

#[post("/trust/sigstore-roots/{name}/retire")]
async fn root_retire(
    state: web::Data<AppState>,
    user: PageUser,
    name: web::Path<String>,
    form: web::Form<RetireForm>,
) -> PageResult {
    user.check_csrf(&form.csrf)?;
    let (name, body, actor) = (name.into_inner(), form.request(), user.actor());
    let done = crate::api::with_conn(&state, move |c| {
        crate::service::retire::retire_trusted_root(c, &actor, &name, body)
    })
    .await
    .map(|r| format!("Sigstore trusted root {} retired.", r.name));
    after_change(&state, &user, done).await
}

/// Back to the page with the message when the change was made, or the
/// page again with the refusal.
pub(super) async fn after_change(
    state: &web::Data<AppState>,
    user: &PageUser,
    done: Result<String, crate::error::ApiError>,
) -> PageResult {
    match done {
        Ok(message) => Ok(redirect_done("/trust", &message)),
        Err(e) => {
            let (status, m) = refusal(e)?;
            trust_page(state, user, status, None, Some(m)).await
        }
    }
}

pub(super) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(trust)
        .service(tsa_add)
        .service(root_add)
        .service(tsa_retire)
        .service(root_retire);
}
