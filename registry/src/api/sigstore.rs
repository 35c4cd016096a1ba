//! Sigstore material: vendor identities and keys, and trusted roots.

use super::{Caller, with_conn};
use crate::error::ApiError;
use crate::service::sigstore::{
    self, IdentityRequest, IdentityView, KeyRequest, KeyView, TrustedRootRequest, TrustedRootView,
    identity_view, key_view, root_view,
};
use crate::state::AppState;
use actix_web::{HttpResponse, get, post, web};

/// Adds a keyless identity to a vendor.
#[utoipa::path(tag = "sigstore", params(("id" = String, Path)), request_body = IdentityRequest, responses((status = 201, body = IdentityView), (status = 400, body = crate::error::ErrorBody)), security(("bearer" = [])))]
#[post("/vendors/{id}/sigstore-identities")]
pub async fn add_identity(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    body: web::Json<IdentityRequest>,
) -> Result<HttpResponse, ApiError> {
    let (id, body) = (id.into_inner(), body.into_inner());
    let row = with_conn(&state, move |c| {
        sigstore::add_identity(c, &caller, &id, body)
    })
    .await?;
    Ok(HttpResponse::Created().json(identity_view(&row)))
}

/// Lists a vendor's identities.
#[utoipa::path(tag = "sigstore", params(("id" = String, Path)), responses((status = 200, body = Vec<IdentityView>)), security(("bearer" = [])))]
#[get("/vendors/{id}/sigstore-identities")]
pub async fn list_identities(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let rows = with_conn(&state, move |c| sigstore::identities(c, &caller, &id)).await?;
    Ok(HttpResponse::Ok().json(rows.iter().map(identity_view).collect::<Vec<_>>()))
}

/// Adds a vendor public key (for keyed bundles).
#[utoipa::path(tag = "sigstore", params(("id" = String, Path)), request_body = KeyRequest, responses((status = 201, body = KeyView), (status = 400, body = crate::error::ErrorBody)), security(("bearer" = [])))]
#[post("/vendors/{id}/sigstore-keys")]
pub async fn add_key(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    body: web::Json<KeyRequest>,
) -> Result<HttpResponse, ApiError> {
    let (id, body) = (id.into_inner(), body.into_inner());
    let row = with_conn(&state, move |c| sigstore::add_key(c, &caller, &id, body)).await?;
    Ok(HttpResponse::Created().json(key_view(row)))
}

/// Lists a vendor's keys.
#[utoipa::path(tag = "sigstore", params(("id" = String, Path)), responses((status = 200, body = Vec<KeyView>)), security(("bearer" = [])))]
#[get("/vendors/{id}/sigstore-keys")]
pub async fn list_keys(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let rows = with_conn(&state, move |c| sigstore::keys(c, &caller, &id)).await?;
    Ok(HttpResponse::Ok().json(rows.into_iter().map(key_view).collect::<Vec<_>>()))
}

/// Imports (or replaces, by name) a Sigstore trusted root.
#[utoipa::path(tag = "sigstore", request_body = TrustedRootRequest, responses((status = 201, body = TrustedRootView), (status = 400, body = crate::error::ErrorBody)), security(("bearer" = [])))]
#[post("/sigstore-trusted-roots")]
pub async fn add_root(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Json<TrustedRootRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let row = with_conn(&state, move |c| sigstore::add_root(c, &caller, body)).await?;
    Ok(HttpResponse::Created().json(root_view(row)))
}

/// Lists the Sigstore trusted roots.
#[utoipa::path(tag = "sigstore", responses((status = 200, body = Vec<TrustedRootView>)), security(("bearer" = [])))]
#[get("/sigstore-trusted-roots")]
pub async fn list_roots(
    state: web::Data<AppState>,
    caller: Caller,
) -> Result<HttpResponse, ApiError> {
    let rows = with_conn(&state, move |c| sigstore::roots(c, &caller)).await?;
    Ok(HttpResponse::Ok().json(rows.into_iter().map(root_view).collect::<Vec<_>>()))
}

/// Revokes a vendor's Sigstore identity (`{identity: {issuer, san}}`) or key
/// (`{key_spki_sha256}`), for all time or from `revoked_from`: bundles whose
/// trusted time is earlier still verify. The vendor's accepted receipts
/// are judged again and those it invalidates withdrawn; 409 when that
/// would brick a product, unless `confirm_brick`. Security; audited; by
/// default a second person approves it first (202 with the proposal).
#[utoipa::path(tag = "sigstore", params(("id" = String, Path)), request_body = sigstore::SigstoreRevocationRequest, responses((status = 201, body = sigstore::SigstoreRevocationView), (status = 202, body = crate::service::approvals::ProposalView, description = "the change needs more approvals: a proposal was recorded (Location: /api/v1/proposals/{id})"), (status = 400, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody)), security(("bearer" = [])))]
#[post("/vendors/{id}/sigstore-revocations")]
pub async fn revoke(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    body: web::Json<sigstore::SigstoreRevocationRequest>,
) -> Result<HttpResponse, ApiError> {
    let (vendor, request) = (id.into_inner(), body.into_inner());
    super::submit_change(
        &state,
        caller,
        actix_web::http::StatusCode::CREATED,
        move |_| Ok(crate::service::approvals::Change::RevokeSigstore { vendor, request }),
    )
    .await
}

/// Lists a vendor's revoked Sigstore signers.
#[utoipa::path(tag = "sigstore", params(("id" = String, Path)), responses((status = 200, body = Vec<sigstore::SigstoreRevocationView>)), security(("bearer" = [])))]
#[get("/vendors/{id}/sigstore-revocations")]
pub async fn list_revocations(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let rows = with_conn(&state, move |c| sigstore::revocations(c, &caller, &id)).await?;
    Ok(HttpResponse::Ok().json(
        rows.iter()
            .map(sigstore::revocation_view)
            .collect::<Vec<_>>(),
    ))
}

/// Retires a vendor's Sigstore identity (`{reason, confirm_brick?}`): out of
/// the trust bundle from the next serial, the vendor's receipts that only it
/// accepted judged again and withdrawn; kept on record, listed as retired,
/// audited. Runs the brick check (409 unless `confirm_brick`). Admin,
/// procurement or security.
#[utoipa::path(tag = "sigstore", params(("id" = String, Path), ("identity" = i64, Path)), request_body = crate::service::retire::RetirementRequest, responses((status = 200, body = IdentityView), (status = 400, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody)), security(("bearer" = [])))]
#[post("/vendors/{id}/sigstore-identities/{identity}/retire")]
pub async fn retire_identity(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, i64)>,
    body: web::Json<crate::service::retire::RetirementRequest>,
) -> Result<HttpResponse, ApiError> {
    let ((vendor, id), body) = (path.into_inner(), body.into_inner());
    let row = with_conn(&state, move |c| {
        crate::service::retire::retire_sigstore_identity(c, &caller, &vendor, id, body)
    })
    .await?;
    Ok(HttpResponse::Ok().json(crate::service::sigstore::identity_view(&row)))
}

/// Retires a vendor's Sigstore key (`{reason, confirm_brick?}`): out of the
/// bundle from the next serial; the vendor's receipts only it accepted are
/// withdrawn; kept on record, listed as retired, audited; brick check.
/// Admin, procurement or security.
#[utoipa::path(tag = "sigstore", params(("id" = String, Path), ("key" = i64, Path)), request_body = crate::service::retire::RetirementRequest, responses((status = 200, body = crate::service::sigstore::KeyView), (status = 400, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody)), security(("bearer" = [])))]
#[post("/vendors/{id}/sigstore-keys/{key}/retire")]
pub async fn retire_key(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, i64)>,
    body: web::Json<crate::service::retire::RetirementRequest>,
) -> Result<HttpResponse, ApiError> {
    let ((vendor, id), body) = (path.into_inner(), body.into_inner());
    let row = with_conn(&state, move |c| {
        crate::service::retire::retire_sigstore_key(c, &caller, &vendor, id, body)
    })
    .await?;
    Ok(HttpResponse::Ok().json(crate::service::sigstore::key_view(row)))
}

/// Retires a Sigstore trusted root (`{reason, confirm_brick?}`): out of the
/// bundle from the next serial; every accepted receipt is judged again and
/// those that needed it are withdrawn; kept on record, listed as retired,
/// audited; brick check. Admin, procurement or security.
#[utoipa::path(tag = "sigstore", params(("name" = String, Path)), request_body = crate::service::retire::RetirementRequest, responses((status = 200, body = TrustedRootView), (status = 400, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody)), security(("bearer" = [])))]
#[post("/sigstore-trusted-roots/{name}/retire")]
pub async fn retire_root(
    state: web::Data<AppState>,
    caller: Caller,
    name: web::Path<String>,
    body: web::Json<crate::service::retire::RetirementRequest>,
) -> Result<HttpResponse, ApiError> {
    let (name, body) = (name.into_inner(), body.into_inner());
    let row = with_conn(&state, move |c| {
        crate::service::retire::retire_trusted_root(c, &caller, &name, body)
    })
    .await?;
    Ok(HttpResponse::Ok().json(root_view(row)))
}
