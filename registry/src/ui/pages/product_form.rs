//! The product form: define a product's boot chain, or edit it. Each stage
//! is a row (name, what it can verify, the components it loads); empty rows
//! are ignored, so a chain of up to eight stages fits without scripts.

use super::{Layout, PageResult, db, html, redirect_done, refusal, seg};
use crate::allowlist::{CAPABILITIES, Stage};
use crate::service::SECURITY;
use crate::service::products::{self, ProductRequest};
use crate::state::AppState;
use crate::ui::session::PageUser;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, post, web};
use askama::Template;

/// Stage rows on the form.
pub const STAGE_ROWS: usize = 8;

/// One stage row as the form shows it.
#[derive(Default, Clone)]
struct StageRow {
    /// Row number (0-based), for field names.
    index: usize,
    name: String,
    algorithms: Vec<String>,
    components: String,
}

#[derive(Template)]
#[template(path = "product_form.html")]
struct ProductFormPage {
    layout: Layout,
    error: Option<String>,
    csrf: String,
    editing: bool,
    action: String,
    id: String,
    name: String,
    version: i32,
    stages: Vec<StageRow>,
    capabilities: &'static [&'static str],
}

/// What was posted: every field, repeated keys kept (the algorithm boxes).
type Posted = Vec<(String, String)>;

fn value<'a>(form: &'a Posted, key: &str) -> &'a str {
    form.iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
        .unwrap_or("")
}

/// The stage rows of a posted form, in order (empty rows kept, for showing
/// the form again).
fn rows_of(form: &Posted) -> Vec<StageRow> {
    (0..STAGE_ROWS)
        .map(|i| StageRow {
            index: i,
            name: value(form, &format!("stage{i}_name")).trim().to_string(),
            algorithms: form
                .iter()
                .filter(|(k, _)| *k == format!("stage{i}_alg"))
                .map(|(_, v)| v.clone())
                .collect(),
            components: value(form, &format!("stage{i}_components")).to_string(),
        })
        .collect()
}

/// The stages of the non-empty rows (the service validates them).
fn stages_of(rows: &[StageRow]) -> Vec<Stage> {
    rows.iter()
        .filter(|r| {
            !r.name.is_empty() || !r.algorithms.is_empty() || !r.components.trim().is_empty()
        })
        .map(|r| Stage {
            name: r.name.clone(),
            algorithms: r.algorithms.clone(),
            components: r
                .components
                .split(',')
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .map(str::to_string)
                .collect(),
        })
        .collect()
}

fn padded(mut rows: Vec<StageRow>) -> Vec<StageRow> {
    rows.resize(STAGE_ROWS.max(rows.len()), StageRow::default());
    for (i, r) in rows.iter_mut().enumerate() {
        r.index = i;
    }
    rows
}

#[allow(clippy::too_many_arguments)]
fn form_page(
    user: &PageUser,
    editing: bool,
    id: &str,
    name: &str,
    version: i32,
    rows: Vec<StageRow>,
    error: Option<String>,
    status: StatusCode,
) -> HttpResponse {
    let action = if editing {
        format!("/products/{}/edit", seg(id))
    } else {
        "/products/new".into()
    };
    html(
        status,
        ProductFormPage {
            layout: Layout::new(user, "products", None),
            error,
            csrf: user.csrf.clone(),
            editing,
            action,
            id: id.to_string(),
            name: name.to_string(),
            version,
            stages: padded(rows),
            capabilities: CAPABILITIES,
        }
        .render(),
    )
}

#[get("/products/new")]
async fn product_new_form(user: PageUser) -> PageResult {
    user.require(SECURITY, "define products")?;
    Ok(form_page(
        &user,
        false,
        "",
        "",
        0,
        vec![],
        None,
        StatusCode::OK,
    ))
}

#[post("/products/new")]
async fn product_create(
    state: web::Data<AppState>,
    user: PageUser,
    form: web::Form<Posted>,
) -> PageResult {
    user.check_csrf(value(&form, "csrf"))?;
    user.require(SECURITY, "define products")?;
    let rows = rows_of(&form);
    let (id, name) = (
        value(&form, "id").trim().to_string(),
        value(&form, "name").to_string(),
    );
    let body = ProductRequest {
        hardware_ids: None,
        id: Some(id.clone()),
        name: name.clone(),
        stages: stages_of(&rows),
    };
    let actor = user.actor();
    match crate::api::with_conn(&state, move |c| products::create(c, &actor, body)).await {
        Ok(p) => Ok(redirect_done(
            &format!("/products/{}", seg(&p.id)),
            "Product defined.",
        )),
        Err(e) => {
            let (status, m) = refusal(e)?;
            Ok(form_page(
                &user,
                false,
                &id,
                &name,
                0,
                rows,
                Some(m),
                status,
            ))
        }
    }
}

#[get("/products/{id}/edit")]
async fn product_edit_form(
    state: web::Data<AppState>,
    user: PageUser,
    id: web::Path<String>,
) -> PageResult {
    user.require(SECURITY, "define products")?;
    let id = id.into_inner();
    let actor = user.actor();
    let p = db(&state, &user, move |c| products::get(c, &actor, &id)).await?;
    let rows = products::stages_of(&p)?
        .into_iter()
        .map(|s| StageRow {
            index: 0,
            name: s.name,
            algorithms: s.algorithms,
            components: s.components.join(", "),
        })
        .collect();
    Ok(form_page(
        &user,
        true,
        &p.id,
        &p.name,
        p.row_version,
        rows,
        None,
        StatusCode::OK,
    ))
}

#[post("/products/{id}/edit")]
async fn product_update(
    state: web::Data<AppState>,
    user: PageUser,
    id: web::Path<String>,
    form: web::Form<Posted>,
) -> PageResult {
    user.check_csrf(value(&form, "csrf"))?;
    user.require(SECURITY, "define products")?;
    let id = id.into_inner();
    let rows = rows_of(&form);
    let name = value(&form, "name").to_string();
    let expected: i32 = value(&form, "version").parse().unwrap_or(-1);
    let body = ProductRequest {
        hardware_ids: None,
        id: None,
        name: name.clone(),
        stages: stages_of(&rows),
    };
    let actor = user.actor();
    let pid = id.clone();
    match crate::api::with_conn(&state, move |c| {
        products::update(c, &actor, &pid, expected, body)
    })
    .await
    {
        Ok(_) => Ok(redirect_done(
            &format!("/products/{}", seg(&id)),
            "Product saved.",
        )),
        Err(e) => {
            let (status, m) = refusal(e)?;
            Ok(form_page(
                &user,
                true,
                &id,
                &name,
                expected,
                rows,
                Some(m),
                status,
            ))
        }
    }
}

pub(super) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(product_new_form)
        .service(product_create)
        .service(product_edit_form)
        .service(product_update);
}
