//! Products (what each boot stage trusts, signed exports) and the trust
//! bundle page.

use super::{Layout, PageResult, db, html};
use crate::allowlist::Allowlist;
use crate::service::SECURITY;
use crate::service::products::{self, ExportFormat};
use crate::state::AppState;
use crate::ui::session::PageUser;
use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, get, post, web};
use askama::Template;
use serde::Deserialize;

struct ProductRow {
    id: String,
    name: String,
    stages: String,
}

#[derive(Template)]
#[template(path = "products.html")]
struct ProductsPage {
    layout: Layout,
    can_edit: bool,
    products: Vec<ProductRow>,
}

#[get("/products")]
async fn products_list(
    state: web::Data<AppState>,
    user: PageUser,
    q: web::Query<super::Done>,
) -> PageResult {
    let actor = user.actor();
    let rows = db(&state, &user, move |c| products::list(c, &actor)).await?;
    let products = rows
        .into_iter()
        .map(|p| {
            let stages = products::stages_of(&p).unwrap_or_default();
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
            can_edit: user.can(SECURITY),
            layout: Layout::new(&user, "products", super::flash_of(&q)),
            products,
        }
        .render(),
    ))
}

#[derive(Template)]
#[template(path = "product.html")]
struct ProductPage {
    layout: Layout,
    can_edit: bool,
    csrf: String,
    a: Allowlist,
    formats: &'static [(&'static str, &'static str)],
    /// The product's releases, newest first.
    releases: Vec<crate::service::releases::ReleaseView>,
    /// May download CRA evidence packs (admin, security, auditor).
    can_audit: bool,
}

#[get("/products/{id}")]
async fn product_detail(
    state: web::Data<AppState>,
    user: PageUser,
    id: web::Path<String>,
    q: web::Query<super::Done>,
) -> PageResult {
    let id = id.into_inner();
    let actor = user.actor();
    let (a, releases) = db(&state, &user, move |c| {
        products::get(c, &actor, &id)?;
        let releases = crate::service::releases::list(c, &actor, &id)?;
        Ok((products::build(c, &id)?, releases))
    })
    .await?;
    let formats: &'static [(&'static str, &'static str)] = &[
        ("json", "JSON allowlist"),
        ("efi-db", "UEFI db (EFI_SIGNATURE_LIST)"),
        ("efi-dbx", "UEFI dbx"),
        ("c-header", "C header (MCU bootloaders)"),
        ("diff", "diff against the published baseline"),
    ];
    Ok(html(
        StatusCode::OK,
        ProductPage {
            csrf: user.csrf.clone(),
            can_edit: user.can(SECURITY),
            layout: Layout::new(&user, "products", super::flash_of(&q)),
            a,
            formats,
            releases,
            can_audit: user.can(crate::service::audit::AUDIT_READERS),
        }
        .render(),
    ))
}

#[derive(Deserialize)]
struct ExportQuery {
    format: Option<String>,
    signature: Option<String>,
    since: Option<i64>,
}

#[get("/products/{id}/export")]
async fn product_export(
    state: web::Data<AppState>,
    user: PageUser,
    id: web::Path<String>,
    q: web::Query<ExportQuery>,
) -> PageResult {
    let id = id.into_inner();
    let format = ExportFormat::parse(q.format.as_deref())?;
    let since = q.since;
    let actor = user.actor();
    let i2 = id.clone();
    let (body, ct) = db(&state, &user, move |c| {
        products::export(c, &actor, &i2, format, since)
    })
    .await?;
    let (fname, ext) = match format {
        ExportFormat::Json => ("json", "json"),
        ExportFormat::EfiDb => ("efi-db", "esl"),
        ExportFormat::EfiDbx => ("efi-dbx", "esl"),
        ExportFormat::CHeader => ("c-header", "h"),
        ExportFormat::Diff => ("diff", "json"),
    };
    let name = format!("{id}-{fname}.{ext}");
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

#[derive(Template)]
#[template(path = "bundle.html")]
struct BundlePage {
    layout: Layout,
    serial: i64,
    issued_at: String,
    expires_at: String,
    size: usize,
    cert_fp: String,
}

#[get("/trust-bundle")]
async fn bundle_page(state: web::Data<AppState>, user: PageUser) -> PageResult {
    let st = state.clone();
    let actor = user.actor();
    let b = web::block(move || crate::service::bundle::current(&st, &actor)).await??;
    let page = BundlePage {
        layout: Layout::new(&user, "bundle", None),
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
async fn bundle_download(state: web::Data<AppState>, user: PageUser) -> PageResult {
    let st = state.clone();
    let actor = user.actor();
    let b = web::block(move || crate::service::bundle::current(&st, &actor)).await??;
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

#[derive(Deserialize)]
struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

/// Publishes the current allowlist as the review baseline (security).
#[post("/products/{id}/publish")]
async fn product_publish(
    state: web::Data<AppState>,
    user: PageUser,
    id: web::Path<String>,
    form: web::Form<CsrfForm>,
) -> PageResult {
    user.check_csrf(&form.csrf)?;
    user.require(SECURITY, "publish allowlists")?;
    let id = id.into_inner();
    let actor = user.actor();
    let i2 = id.clone();
    let p = db(&state, &user, move |c| products::publish(c, &actor, &i2)).await?;
    Ok(super::redirect_done(
        &format!("/products/{}", super::seg(&id)),
        &format!(
            "Allowlist published as the review baseline (bundle serial {}, SHA-256 {}).",
            p.bundle_serial, p.sha256
        ),
    ))
}

pub(super) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(product_publish)
        .service(products_list)
        .service(product_detail)
        .service(product_export)
        .service(bundle_page)
        .service(bundle_download);
}
