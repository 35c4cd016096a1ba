//! Products, boot stages and the signed allowlist exports.

use super::vendors::READERS;
use super::{etag, if_match, with_conn};
use crate::audit;
use crate::auth::{Caller, Role};
use crate::error::ApiError;
use crate::products::{self, Allowlist, Stage};
use crate::state::AppState;
use actix_web::{HttpRequest, HttpResponse, get, post, put, web};
use base64::Engine;
use diesel::prelude::*;
use inspector::digest::{DigestAlgorithm, hex};
use schema::models::{NewProductExport, Product, ProductExport};
use schema::schema::{product_exports, products as products_t};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// Create or replace a product.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProductRequest {
    /// Identifier (create only).
    #[serde(default)]
    pub id: Option<String>,
    /// Device model name.
    pub name: String,
    /// Boot chain, in boot order.
    pub stages: Vec<Stage>,
}

/// A product.
#[derive(Serialize, Deserialize, ToSchema, Debug)]
pub struct ProductView {
    /// Identifier.
    pub id: String,
    /// Name.
    pub name: String,
    /// Boot stages.
    pub stages: Vec<Stage>,
    /// Row version (ETag).
    pub version: i32,
}

fn view(p: &Product) -> Result<ProductView, ApiError> {
    Ok(ProductView {
        id: p.id.clone(),
        name: p.name.clone(),
        stages: serde_json::from_str(&p.stages).map_err(ApiError::internal)?,
        version: p.row_version,
    })
}

const PRODUCT_ADMINS: &[Role] = &[Role::Admin, Role::Security];

/// Creates a product with its boot chain.
#[utoipa::path(tag = "products", request_body = ProductRequest, responses((status = 201, body = ProductView), (status = 400, body = crate::error::ErrorBody)), security(("bearer" = [])))]
#[post("/products")]
pub async fn create(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Json<ProductRequest>,
) -> Result<HttpResponse, ApiError> {
    caller.require(PRODUCT_ADMINS, "define products")?;
    let body = body.into_inner();
    let id = body.id.clone().unwrap_or_default();
    if id.is_empty()
        || id.len() > 64
        || !id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
    {
        return Err(ApiError::BadRequest(format!(
            "id '{id}' must be 1-64 lowercase letters, digits, '-' or '_'"
        )));
    }
    products::validate_stages(&body.stages)?;
    let stages = serde_json::to_string(&body.stages).map_err(ApiError::internal)?;
    let actor = caller.actor();
    let row = with_conn(&state, move |c| {
        c.transaction(|c| {
            audit::begin_change(c, true)?;
            let row = Product {
                id: id.clone(),
                name: body.name.trim().to_string(),
                stages,
                row_version: 1,
                created_at: crate::now_unix(),
                updated_at: crate::now_unix(),
            };
            diesel::insert_into(products_t::table)
                .values(&row)
                .execute(c)?;
            audit::record(
                c,
                &actor,
                "create",
                "product",
                &id,
                None::<&()>,
                Some(&view(&row)?),
            )?;
            Ok(row)
        })
    })
    .await?;
    Ok(HttpResponse::Created()
        .insert_header(("ETag", etag(row.row_version)))
        .json(view(&row)?))
}

/// Replaces a product's name and boot chain. Needs `If-Match`.
#[utoipa::path(tag = "products", params(("id" = String, Path), ("If-Match" = String, Header)), request_body = ProductRequest, responses((status = 200, body = ProductView), (status = 412, body = crate::error::ErrorBody)), security(("bearer" = [])))]
#[put("/products/{id}")]
pub async fn update(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<String>,
    body: web::Json<ProductRequest>,
) -> Result<HttpResponse, ApiError> {
    caller.require(PRODUCT_ADMINS, "define products")?;
    let expected = if_match(&req)?;
    let body = body.into_inner();
    products::validate_stages(&body.stages)?;
    let stages = serde_json::to_string(&body.stages).map_err(ApiError::internal)?;
    let id = id.into_inner();
    let actor = caller.actor();
    let row = with_conn(&state, move |c| {
        c.transaction(|c| {
            audit::begin_change(c, true)?;
            let before: Product = products_t::table
                .find(&id)
                .select(Product::as_select())
                .first(c)
                .optional()?
                .ok_or_else(|| ApiError::NotFound(format!("no product '{id}'")))?;
            if before.row_version != expected {
                return Err(ApiError::PreconditionFailed(format!(
                    "product '{id}' changed since you read it"
                )));
            }
            let after = Product {
                name: body.name.trim().to_string(),
                stages,
                row_version: before.row_version + 1,
                updated_at: crate::now_unix(),
                ..before.clone()
            };
            diesel::update(
                products_t::table
                    .filter(products_t::id.eq(&id))
                    .filter(products_t::row_version.eq(expected)),
            )
            .set((
                products_t::name.eq(&after.name),
                products_t::stages.eq(&after.stages),
                products_t::row_version.eq(after.row_version),
                products_t::updated_at.eq(after.updated_at),
            ))
            .execute(c)?;
            audit::record(
                c,
                &actor,
                "update",
                "product",
                &id,
                Some(&view(&before)?),
                Some(&view(&after)?),
            )?;
            Ok(after)
        })
    })
    .await?;
    Ok(HttpResponse::Ok()
        .insert_header(("ETag", etag(row.row_version)))
        .json(view(&row)?))
}

/// Lists products.
#[utoipa::path(tag = "products", responses((status = 200, body = Vec<ProductView>)), security(("bearer" = [])))]
#[get("/products")]
pub async fn list(state: web::Data<AppState>, caller: Caller) -> Result<HttpResponse, ApiError> {
    caller.require(READERS, "read products")?;
    let rows: Vec<Product> = with_conn(&state, |c| {
        Ok(products_t::table
            .order(products_t::id)
            .select(Product::as_select())
            .load(c)?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(rows.iter().map(view).collect::<Result<Vec<_>, _>>()?))
}

/// Export formats.
#[derive(Deserialize, IntoParams)]
pub struct ExportQuery {
    /// `json` (default), `efi-db`, `efi-dbx`, `c-header`, or `diff` (against the previous export).
    pub format: Option<String>,
}

/// Builds the export bytes and records the JSON snapshot (for diffs).
pub fn export(
    c: &mut schema::DbConnection,
    id: &str,
    format: &str,
) -> Result<(Vec<u8>, &'static str), ApiError> {
    let current = products::build(c, id)?;
    let json = serde_json::to_vec_pretty(&current).map_err(ApiError::internal)?;
    let sha = hex(&DigestAlgorithm::Sha256.hash(&json));
    let last: Option<ProductExport> = product_exports::table
        .filter(product_exports::product_id.eq(id))
        .order(product_exports::id.desc())
        .select(ProductExport::as_select())
        .first(c)
        .optional()?;
    if format == "diff" {
        let previous: Option<Allowlist> = last
            .as_ref()
            .and_then(|l| serde_json::from_str(&l.allowlist).ok());
        let d = products::diff(previous.as_ref(), &current, last.map(|l| l.sha256), sha);
        return Ok((
            serde_json::to_vec_pretty(&d).map_err(ApiError::internal)?,
            "application/json",
        ));
    }
    if last.as_ref().is_none_or(|l| l.sha256 != sha) {
        diesel::insert_into(product_exports::table)
            .values(NewProductExport {
                product_id: id.to_string(),
                sha256: sha,
                allowlist: String::from_utf8_lossy(&json).into_owned(),
                created_at: crate::now_unix(),
            })
            .execute(c)?;
    }
    Ok(match format {
        "json" => (json, "application/json"),
        "efi-db" => (products::efi_db(&current), "application/octet-stream"),
        "efi-dbx" => (products::efi_dbx(&current), "application/octet-stream"),
        "c-header" => (
            products::c_header(&current).into_bytes(),
            "text/x-c; charset=utf-8",
        ),
        other => {
            return Err(ApiError::BadRequest(format!(
                "format '{other}' must be json, efi-db, efi-dbx, c-header or diff"
            )));
        }
    })
}

/// [`export`] on the blocking pool, in one transaction.
pub async fn export_async(
    state: &web::Data<AppState>,
    id: String,
    q: ExportQuery,
) -> Result<(Vec<u8>, &'static str), ApiError> {
    let format = q.format.unwrap_or_else(|| "json".into());
    with_conn(state, move |c| c.transaction(|c| export(c, &id, &format))).await
}

/// The product's allowlist in the requested format. The same registry
/// state gives the same bytes; every export is signed by the registry key
/// (`X-Tollgate-Signature`: base64 DER ECDSA P-256/SHA-256 over the body).
#[utoipa::path(tag = "products", params(("id" = String, Path), ExportQuery), responses((status = 200, description = "the export")), security(("bearer" = [])))]
#[get("/products/{id}/allowlist")]
pub async fn allowlist(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    q: web::Query<ExportQuery>,
) -> Result<HttpResponse, ApiError> {
    caller.require(READERS, "export allowlists")?;
    let (body, ct) = export_async(&state, id.into_inner(), q.into_inner()).await?;
    let sig = base64::engine::general_purpose::STANDARD.encode(state.key.sign(&body));
    Ok(HttpResponse::Ok()
        .content_type(ct)
        .insert_header(("X-Tollgate-Signature", sig))
        .body(body))
}

/// The detached signature (DER) of an export, for tools that want a file.
#[utoipa::path(tag = "products", params(("id" = String, Path), ExportQuery), responses((status = 200, description = "DER ECDSA signature")), security(("bearer" = [])))]
#[get("/products/{id}/allowlist/signature")]
pub async fn allowlist_signature(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    q: web::Query<ExportQuery>,
) -> Result<HttpResponse, ApiError> {
    caller.require(READERS, "export allowlists")?;
    let (body, _) = export_async(&state, id.into_inner(), q.into_inner()).await?;
    Ok(HttpResponse::Ok()
        .content_type("application/octet-stream")
        .body(state.key.sign(&body)))
}
