//! Vendors and their contract terms.

use super::{Caller, etag, if_match, with_conn};
use crate::error::ApiError;
use crate::service::vendors::{self, VendorRequest, VendorView, view};
use crate::state::AppState;
use actix_web::{HttpRequest, HttpResponse, get, post, put, web};

/// Lists vendors.
#[utoipa::path(tag = "vendors", responses((status = 200, body = Vec<VendorView>)), security(("bearer" = [])))]
#[get("/vendors")]
pub async fn list(state: web::Data<AppState>, caller: Caller) -> Result<HttpResponse, ApiError> {
    let rows = with_conn(&state, move |c| vendors::list(c, &caller)).await?;
    Ok(HttpResponse::Ok().json(rows.iter().map(view).collect::<Vec<_>>()))
}

/// Creates a vendor.
#[utoipa::path(tag = "vendors", request_body = VendorRequest, responses((status = 201, body = VendorView), (status = 409, body = crate::error::ErrorBody)), security(("bearer" = [])))]
#[post("/vendors")]
pub async fn create(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Json<VendorRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let created = with_conn(&state, move |c| vendors::create_vendor(c, &caller, body)).await?;
    Ok(HttpResponse::Created()
        .insert_header(("ETag", etag(created.row_version)))
        .json(view(&created)))
}

/// Reads one vendor (with its ETag).
#[utoipa::path(tag = "vendors", params(("id" = String, Path)), responses((status = 200, body = VendorView), (status = 404, body = crate::error::ErrorBody)), security(("bearer" = [])))]
#[get("/vendors/{id}")]
pub async fn get(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let v = with_conn(&state, move |c| vendors::get(c, &caller, &id)).await?;
    Ok(HttpResponse::Ok()
        .insert_header(("ETag", etag(v.row_version)))
        .json(view(&v)))
}

/// Replaces a vendor's details and terms. Needs `If-Match`.
#[utoipa::path(tag = "vendors", params(("id" = String, Path), ("If-Match" = String, Header)), request_body = VendorRequest, responses((status = 200, body = VendorView), (status = 412, body = crate::error::ErrorBody), (status = 428, body = crate::error::ErrorBody)), security(("bearer" = [])))]
#[put("/vendors/{id}")]
pub async fn update(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<String>,
    body: web::Json<VendorRequest>,
) -> Result<HttpResponse, ApiError> {
    let expected = if_match(&req)?;
    let id = id.into_inner();
    let body = body.into_inner();
    let updated = with_conn(&state, move |c| {
        vendors::update_vendor(c, &caller, id, expected, body)
    })
    .await?;
    Ok(HttpResponse::Ok()
        .insert_header(("ETag", etag(updated.row_version)))
        .json(view(&updated)))
}
