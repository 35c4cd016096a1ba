//! The JSON API under `/api/v1`: adapters that parse the typed request,
//! call one service function on a blocking thread and render its result.
//! No file here names a database table (see `crate::service`).

pub mod approvals;
pub mod audit;
pub mod bundle;
pub mod certificates;
pub mod components;
pub mod products;
pub mod receipts;
pub mod releases;
pub mod revocations;
pub mod sboms;
pub mod sigstore;
pub mod stations;
pub mod tokens;
pub mod vendors;

pub use crate::auth::Caller;
use crate::error::ApiError;
pub use crate::service::parse_time;
use crate::service::{Conn, ServiceError, ServiceResult};
use crate::state::AppState;
use actix_web::web;

/// Runs one service call with a pooled connection on the blocking pool.
pub async fn with_conn<T, F>(state: &web::Data<AppState>, f: F) -> Result<T, ApiError>
where
    T: Send + 'static,
    F: FnOnce(&mut Conn) -> ServiceResult<T> + Send + 'static,
{
    let pool = state.pool.clone();
    let st = state.clone();
    // The request's span (its request id) follows the work to the blocking
    // thread, so the service layer's log lines carry it.
    let span = tracing::Span::current();
    let out = web::block(move || {
        let _entered = span.enter();
        let waited = std::time::Instant::now();
        let conn = pool.get();
        st.metrics.pool_wait.observe(waited.elapsed().as_secs_f64());
        let mut conn = conn.map_err(ServiceError::unavailable)?;
        f(&mut conn)
    })
    .await?;
    Ok(out?)
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

/// Submits a change that may need approval (`service::approvals`): the
/// result with `done` (and its ETag, for versioned rows) when it ran, or
/// 202 with the proposal (and `Location`) when it waits for approvals.
pub async fn submit_change(
    state: &web::Data<AppState>,
    caller: Caller,
    done: actix_web::http::StatusCode,
    change: impl FnOnce(
        &Caller,
    ) -> Result<crate::service::approvals::Change, crate::service::ServiceError>
    + Send
    + 'static,
) -> Result<actix_web::HttpResponse, ApiError> {
    use crate::service::approvals::{self, Submitted};
    use actix_web::HttpResponse;
    let policy = state.approvals.clone();
    let r = with_conn(state, move |c| {
        let change = change(&caller)?;
        approvals::submit(c, &caller, &policy, change)
    })
    .await?;
    Ok(match r {
        Submitted::Applied(a) => {
            let mut b = HttpResponse::build(done);
            if let Some(v) = a.version {
                b.insert_header(("ETag", etag(v)));
            }
            b.json(a.view)
        }
        Submitted::Pending(p) => HttpResponse::Accepted()
            .insert_header(("Location", format!("/api/v1/proposals/{}", p.id)))
            .json(p),
    })
}

/// The ETag of a row version.
pub fn etag(version: i32) -> String {
    format!("\"{version}\"")
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
        .service(certificates::retire)
        .service(certificates::record_shared)
        .service(certificates::list_shared)
        .service(approvals::list)
        .service(approvals::get_one)
        .service(approvals::approve)
        .service(approvals::reject)
        .service(approvals::unretire)
        .service(approvals::set_role)
        .service(components::create)
        .service(components::list)
        .service(components::set_floor)
        .service(components::set_signers)
        .service(components::set_support)
        .service(components::set_package)
        .service(components::retire)
        .service(revocations::list_tsa)
        .service(revocations::add_tsa)
        .service(revocations::retire_tsa)
        .service(revocations::list)
        .service(revocations::create)
        .service(revocations::import_crl)
        .service(receipts::create)
        .service(receipts::create_batch)
        .service(receipts::list)
        .service(receipts::create_signed)
        .service(receipts::attestation)
        .service(receipts::upload_blob)
        .service(receipts::get_one)
        .service(stations::list)
        .service(stations::register)
        .service(stations::retire)
        .service(bundle::get_bundle)
        .service(bundle::registry_certificate)
        .service(audit::list)
        .service(audit::verify)
        .service(tokens::create)
        .service(tokens::list)
        .service(tokens::revoke)
        .service(sigstore::add_identity)
        .service(sigstore::list_identities)
        .service(sigstore::retire_identity)
        .service(sigstore::retire_key)
        .service(sigstore::retire_root)
        .service(sigstore::add_key)
        .service(sigstore::list_keys)
        .service(sigstore::revoke)
        .service(sigstore::list_revocations)
        .service(sigstore::add_root)
        .service(sigstore::list_roots)
        .service(products::create)
        .service(products::update)
        .service(products::list)
        .service(products::allowlist_signature)
        .service(products::publish)
        .service(products::attestations)
        .service(products::allowlist)
        .service(sboms::upload)
        .service(sboms::list)
        .service(releases::create)
        .service(releases::list)
        .service(releases::get_one)
        .service(releases::check)
        .service(releases::sbom)
        .service(releases::evidence);
}
