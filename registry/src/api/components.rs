//! Components a vendor may supply, and their rollback floors.

use super::{Caller, etag, if_match, with_conn};
use crate::error::ApiError;
use crate::service::approvals::Change;
use crate::service::components::{self, ComponentRequest, ComponentView, FloorRequest, view};
use crate::state::AppState;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, post, put, web};

/// Authorises a vendor to supply a component.
#[utoipa::path(tag = "components", params(("id" = String, Path)), request_body = ComponentRequest, responses((status = 201, body = ComponentView), (status = 409, body = crate::error::ErrorBody)), security(("bearer" = [])))]
#[post("/vendors/{id}/components")]
pub async fn create(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    body: web::Json<ComponentRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let id = id.into_inner();
    let row = with_conn(&state, move |c| {
        components::create_component(c, &caller, id, body)
    })
    .await?;
    Ok(HttpResponse::Created()
        .insert_header(("ETag", etag(row.row_version)))
        .json(view(&row)))
}

/// Lists components.
#[utoipa::path(tag = "components", responses((status = 200, body = Vec<ComponentView>)), security(("bearer" = [])))]
#[get("/components")]
pub async fn list(state: web::Data<AppState>, caller: Caller) -> Result<HttpResponse, ApiError> {
    let rows = with_conn(&state, move |c| components::list(c, &caller)).await?;
    Ok(HttpResponse::Ok().json(rows.iter().map(view).collect::<Vec<_>>()))
}

/// Sets a component's rollback floor. Security role; lowering or removing
/// needs a reason and, by default, a second person's approval (202 with
/// the proposal: `/proposals`). Needs `If-Match`.
#[utoipa::path(tag = "components", params(("name" = String, Path), ("If-Match" = String, Header)), request_body = FloorRequest, responses((status = 200, body = ComponentView), (status = 202, body = crate::service::approvals::ProposalView, description = "the change needs more approvals: a proposal was recorded (Location: /api/v1/proposals/{id})"), (status = 400, body = crate::error::ErrorBody), (status = 412, body = crate::error::ErrorBody)), security(("bearer" = [])))]
#[put("/components/{name}/floor")]
pub async fn set_floor(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    name: web::Path<String>,
    body: web::Json<FloorRequest>,
) -> Result<HttpResponse, ApiError> {
    let expected = if_match(&req)?;
    let component = name.into_inner();
    let request = body.into_inner();
    super::submit_change(&state, caller, StatusCode::OK, move |_| {
        Ok(Change::SetFloor {
            component,
            expected,
            request,
        })
    })
    .await
}

/// Binds a component to its allowed signers: `{allowed_signers: [{subject}
/// | {spki_sha256} | {sigstore_san}]}`; an empty list lets any key of the
/// vendor sign it. The component's accepted receipts are judged again and
/// those of signers no longer allowed are withdrawn; 409 when that would
/// brick a product, unless `confirm_brick`. Security role; audited; needs
/// `If-Match`.
#[utoipa::path(tag = "components", params(("name" = String, Path), ("If-Match" = String, Header)), request_body = components::SignersRequest, responses((status = 200, body = ComponentView), (status = 400, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody), (status = 412, body = crate::error::ErrorBody)), security(("bearer" = [])))]
#[put("/components/{name}/signers")]
pub async fn set_signers(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    name: web::Path<String>,
    body: web::Json<components::SignersRequest>,
) -> Result<HttpResponse, ApiError> {
    let expected = if_match(&req)?;
    let name = name.into_inner();
    let body = body.into_inner();
    let row = with_conn(&state, move |c| {
        components::set_allowed_signers(c, &caller, name, expected, body)
    })
    .await?;
    Ok(HttpResponse::Ok()
        .insert_header(("ETag", etag(row.row_version)))
        .json(view(&row)))
}

/// Registers or clears a component's RFC 4108 package identifier
/// (`{firmware_package_oid: OID | null}`): firmware packages naming that
/// OID are this component, at the version they sign. One OID names one
/// component (409). Procurement role; audited; needs `If-Match`.
#[utoipa::path(tag = "components", params(("name" = String, Path), ("If-Match" = String, Header)), request_body = components::PackageRequest, responses((status = 200, body = ComponentView), (status = 400, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody), (status = 412, body = crate::error::ErrorBody)), security(("bearer" = [])))]
#[put("/components/{name}/firmware-package")]
pub async fn set_package(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    name: web::Path<String>,
    body: web::Json<components::PackageRequest>,
) -> Result<HttpResponse, ApiError> {
    let expected = if_match(&req)?;
    let name = name.into_inner();
    let body = body.into_inner();
    let row = with_conn(&state, move |c| {
        components::set_package(c, &caller, name, expected, body)
    })
    .await?;
    Ok(HttpResponse::Ok()
        .insert_header(("ETag", etag(row.row_version)))
        .json(view(&row)))
}

/// Sets or clears a component's own end of support
/// (`{support_ends: RFC 3339 | null}`), overriding the vendor's support
/// period. Procurement role; audited; needs `If-Match`.
#[utoipa::path(tag = "components", params(("name" = String, Path), ("If-Match" = String, Header)), request_body = components::SupportRequest, responses((status = 200, body = ComponentView), (status = 400, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody), (status = 412, body = crate::error::ErrorBody)), security(("bearer" = [])))]
#[put("/components/{name}/support")]
pub async fn set_support(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    name: web::Path<String>,
    body: web::Json<components::SupportRequest>,
) -> Result<HttpResponse, ApiError> {
    let expected = if_match(&req)?;
    let name = name.into_inner();
    let body = body.into_inner();
    let row = with_conn(&state, move |c| {
        components::set_support(c, &caller, name, expected, body)
    })
    .await?;
    Ok(HttpResponse::Ok()
        .insert_header(("ETag", etag(row.row_version)))
        .json(view(&row)))
}

/// Retires a component (`{reason, confirm_brick?}`): out of the trust bundle
/// from the next serial, its images' receipts judged again and withdrawn
/// (out of the allowlists); kept on record, listed as retired, audited; no
/// more changes to it. Runs the brick check (409 unless `confirm_brick`).
/// Admin, procurement or security.
#[utoipa::path(tag = "components", params(("name" = String, Path)), request_body = crate::service::retire::RetirementRequest, responses((status = 200, body = ComponentView), (status = 400, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody)), security(("bearer" = [])))]
#[post("/components/{name}/retire")]
pub async fn retire(
    state: web::Data<AppState>,
    caller: Caller,
    name: web::Path<String>,
    body: web::Json<crate::service::retire::RetirementRequest>,
) -> Result<HttpResponse, ApiError> {
    let (name, body) = (name.into_inner(), body.into_inner());
    let row = with_conn(&state, move |c| {
        crate::service::retire::retire_component(c, &caller, &name, body)
    })
    .await?;
    Ok(HttpResponse::Ok()
        .insert_header(("ETag", etag(row.row_version)))
        .json(view(&row)))
}
