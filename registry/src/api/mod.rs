//! The JSON API under `/api/v1`. Handlers are short: parse the typed
//! request, check the role, run one transaction on a blocking thread.

pub mod audit;
pub mod bundle;
pub mod certificates;
pub mod components;
pub mod products;
pub mod receipts;
pub mod revocations;
pub mod sigstore;
pub mod tokens;
pub mod vendors;

use crate::error::ApiError;
use crate::state::AppState;
use actix_web::web;
use schema::DbConnection;

/// Runs `f` with a pooled connection on the blocking pool.
pub async fn with_conn<T, F>(state: &web::Data<AppState>, f: F) -> Result<T, ApiError>
where
    T: Send + 'static,
    F: FnOnce(&mut DbConnection) -> Result<T, ApiError> + Send + 'static,
{
    let pool = state.pool.clone();
    web::block(move || {
        let mut conn = pool.get().map_err(ApiError::internal)?;
        f(&mut conn)
    })
    .await?
}

/// Parses `If-Match: "N"` (or `W/"N"`) into a row version.
pub fn if_match(req: &actix_web::HttpRequest) -> Result<i32, ApiError> {
    let raw = req
        .headers()
        .get("If-Match")
        .and_then(|h| h.to_str().ok())
        .ok_or_else(|| {
            ApiError::PreconditionRequired(
                "updates need an If-Match header with the ETag from the last GET, so concurrent edits are never lost".into(),
            )
        })?;
    raw.trim()
        .trim_start_matches("W/")
        .trim_matches('"')
        .parse()
        .map_err(|_| ApiError::BadRequest(format!("If-Match '{raw}' is not an ETag from this API")))
}

/// The ETag of a row version.
pub fn etag(version: i32) -> String {
    format!("\"{version}\"")
}

/// Unix seconds to RFC 3339.
pub fn time_str(t: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(t)
        .map(inspector::cert::rfc3339)
        .unwrap_or_default()
}

/// Parses an RFC 3339 time field.
pub fn parse_time(field: &str, s: &str) -> Result<i64, ApiError> {
    time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
        .map(|t| t.unix_timestamp())
        .map_err(|e| ApiError::BadRequest(format!("{field}: '{s}' is not an RFC 3339 time: {e}")))
}

/// Registers every route (collected by utoipa-actix-web for the OpenAPI document).
pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(vendors::list)
        .service(vendors::create)
        .service(vendors::get)
        .service(vendors::update)
        .service(certificates::upload)
        .service(certificates::list_for_vendor)
        .service(certificates::expiring)
        .service(components::create)
        .service(components::list)
        .service(components::set_floor)
        .service(revocations::list_tsa)
        .service(revocations::add_tsa)
        .service(revocations::list)
        .service(revocations::create)
        .service(revocations::import_crl)
        .service(receipts::create)
        .service(receipts::create_batch)
        .service(receipts::list)
        .service(bundle::get_bundle)
        .service(bundle::registry_certificate)
        .service(audit::list)
        .service(audit::verify)
        .service(tokens::create)
        .service(tokens::list)
        .service(tokens::revoke)
        .service(sigstore::add_identity)
        .service(sigstore::list_identities)
        .service(sigstore::add_key)
        .service(sigstore::list_keys)
        .service(sigstore::add_root)
        .service(sigstore::list_roots)
        .service(products::create)
        .service(products::update)
        .service(products::list)
        .service(products::allowlist_signature)
        .service(products::allowlist);
}
