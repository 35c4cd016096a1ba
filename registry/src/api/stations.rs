//! Station keys: register (bound to an inspector token), list, retire.

use super::{Caller, with_conn};
use crate::error::ApiError;
use crate::service::stations::{self, RetireRequest, StationKeyRequest, StationKeyView};
use crate::state::AppState;
use actix_web::{HttpResponse, get, post, web};

/// Every registered station key, newest first.
#[utoipa::path(tag = "stations", responses((status = 200, body = Vec<StationKeyView>)), security(("bearer" = [])))]
#[get("/stations")]
pub async fn list(state: web::Data<AppState>, caller: Caller) -> Result<HttpResponse, ApiError> {
    let v = with_conn(&state, move |c| stations::list(c, &caller)).await?;
    Ok(HttpResponse::Ok().json(v))
}

/// Registers a station's public key (from `tollgate-inspect station init`)
/// and binds it to the station's inspector token. Admins; audited.
#[utoipa::path(tag = "stations", request_body = StationKeyRequest, responses((status = 201, body = StationKeyView), (status = 409, body = crate::error::ErrorBody)), security(("bearer" = [])))]
#[post("/stations")]
pub async fn register(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Json<StationKeyRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let v = with_conn(&state, move |c| stations::register(c, &caller, body)).await?;
    Ok(HttpResponse::Created().json(v))
}

/// Retires a station key: envelopes signed with it are refused from now on.
#[utoipa::path(tag = "stations", params(("id" = i64, Path)), request_body = RetireRequest, responses((status = 200, body = StationKeyView)), security(("bearer" = [])))]
#[post("/stations/{id}/retire")]
pub async fn retire(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i64>,
    body: web::Json<RetireRequest>,
) -> Result<HttpResponse, ApiError> {
    let (id, body) = (id.into_inner(), body.into_inner());
    let v = with_conn(&state, move |c| stations::retire(c, &caller, id, body)).await?;
    Ok(HttpResponse::Ok().json(v))
}
