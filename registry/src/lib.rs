//! Tollgate registry: the service procurement and product security use to
//! record vendors, certificates, contract terms, floors and revocations,
//! and that serves the signed trust bundle inspection stations consume.
//!
//! Layering: `schema` alone knows SQL; inside this crate only `service`
//! names tables, and `api`, `ui` and the command line are adapters over it;
//! this crate alone knows actix, utoipa and HTTP; verification rules come
//! from `inspector`.

pub mod allowlist;
pub mod api;
pub mod auth;
pub mod error;
pub mod key;
pub mod metrics;
pub mod service;
pub mod state;
pub mod ui;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::{App, web};
use utoipa::OpenApi;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa_actix_web::AppExt;
use utoipa_swagger_ui::SwaggerUi;

/// Largest JSON request body (a receipt batch of 10,000 reports fits).
pub const MAX_JSON_BODY: usize = 64 * 1024 * 1024;

/// Seconds since the Unix epoch.
pub fn now_unix() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Tollgate registry API",
        description = "Vendors, their signing certificates, components and rollback floors, contract signing terms, revocations, inspection receipts, the audit log, and the signed trust bundle inspection stations consume. Every endpoint except /registry-certificate needs `Authorization: Bearer <token>`; errors are `{\"error\": {\"code\", \"message\"}}`.",
        version = "1"
    ),
    modifiers(&BearerAuth),
    components(schemas(error::ErrorBody, error::ErrorDetail))
)]
struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The whole application: API under `/api/v1`, the OpenAPI document at
/// `/api/openapi.json`, interactive docs at `/api/docs/` (Swagger UI,
/// vendored into the binary: nothing is fetched at build or view time).
pub fn app(
    state: web::Data<state::AppState>,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let (app, openapi) = App::new()
        .into_utoipa_app()
        .openapi(ApiDoc::openapi())
        .app_data(state)
        .app_data(error::json_config())
        .app_data(error::query_config())
        .app_data(error::path_config())
        .service(utoipa_actix_web::scope("/api/v1").configure(api::routes))
        .split_for_parts();
    let openapi = document_errors(openapi);
    app.wrap_fn(|req, srv| {
        use actix_web::dev::Service;
        use tracing::Instrument;
        let started = std::time::Instant::now();
        let method = req.method().to_string();
        let route = req.match_pattern().unwrap_or_else(|| "unmatched".into());
        let path = req.path().chars().take(256).collect::<String>();
        let state = req.app_data::<web::Data<state::AppState>>().cloned();
        let request_id = request_id(req.headers().get("X-Request-Id"));
        let span = tracing::info_span!("request", request_id = %request_id);
        let fut = {
            let _entered = span.enter();
            srv.call(req)
        };
        async move {
            let res = fut.await?;
            let status = res.status().as_u16();
            let elapsed = started.elapsed();
            if let Some(st) = state {
                st.metrics
                    .request(&route, &method, status, elapsed.as_secs_f64());
            }
            // API errors name the request id in their body too.
            let rebuilt = res
                .response()
                .error()
                .and_then(|e| e.as_error::<error::ApiError>())
                .map(|e| e.response(Some(&request_id)));
            let mut res = match rebuilt {
                Some(r) => res.into_response(r).map_into_boxed_body(),
                None => res.map_into_boxed_body(),
            };
            if let Ok(v) = actix_web::http::header::HeaderValue::from_str(&request_id) {
                res.headers_mut().insert(
                    actix_web::http::header::HeaderName::from_static("x-request-id"),
                    v,
                );
            }
            tracing::info!(
                method = %method,
                route = %route,
                path = %path,
                status,
                duration_ms = u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX),
                "request"
            );
            Ok(res)
        }
        .instrument(span)
    })
    .wrap(security_headers())
    .service(SwaggerUi::new("/api/docs/{_:.*}").url("/api/openapi.json", openapi))
    .app_data(crate::ui::form_config())
    .route("/healthz", web::get().to(healthz))
    .route("/readyz", web::get().to(readyz))
    .route("/metrics", web::get().to(metrics_text))
    .configure(crate::ui::pages::routes)
    .default_service(web::to(not_found))
}

/// The request's id: the caller's `X-Request-Id` when it is 1-64
/// characters of letters, digits, `.`, `_` and `-` (so a load balancer's id
/// carries through), else a new random one.
fn request_id(given: Option<&actix_web::http::header::HeaderValue>) -> String {
    if let Some(v) = given.and_then(|v| v.to_str().ok())
        && (1..=64).contains(&v.len())
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
    {
        return v.to_string();
    }
    let mut raw = [0u8; 12];
    rand::Rng::fill(&mut rand::rng(), &mut raw);
    inspector::digest::hex(&raw)
}

/// Headers every response carries (the API, the pages, the static files
/// and the vendored Swagger UI at `/api/docs/`): no framing by another site
/// (clickjacking), no MIME sniffing, no referrer leaving the registry. The
/// pages add their stricter Content-Security-Policy themselves; a header a
/// handler already set is kept.
fn security_headers() -> actix_web::middleware::DefaultHeaders {
    actix_web::middleware::DefaultHeaders::new()
        .add(("X-Frame-Options", "DENY"))
        .add(("Content-Security-Policy", "frame-ancestors 'none'"))
        .add(("X-Content-Type-Options", "nosniff"))
        .add(("Referrer-Policy", "no-referrer"))
}

/// Prometheus metrics (`docs/operations.md`); any valid token.
async fn metrics_text(
    state: web::Data<state::AppState>,
    _caller: auth::Caller,
) -> actix_web::HttpResponse {
    actix_web::HttpResponse::Ok()
        .content_type("application/openmetrics-text; version=1.0.0; charset=utf-8")
        .body(state.metrics.render(&state.pool))
}

/// Liveness: the process answers (no database access).
async fn healthz() -> actix_web::HttpResponse {
    actix_web::HttpResponse::Ok().json(serde_json::json!({"status": "alive"}))
}

/// Readiness: the database is reachable and its migrations are current;
/// 503 with the reason otherwise (a load balancer stops sending traffic).
async fn readyz(
    state: web::Data<state::AppState>,
) -> Result<actix_web::HttpResponse, error::ApiError> {
    api::with_conn(&state, service::health::ready).await?;
    Ok(actix_web::HttpResponse::Ok().json(serde_json::json!({"status": "ready"})))
}

async fn not_found() -> Result<actix_web::HttpResponse, error::ApiError> {
    Err(service::ServiceError::NotFound("no such endpoint".into()).into())
}

/// The OpenAPI document (for snapshot tests and `tollgate-registry openapi`).
pub fn openapi() -> utoipa::openapi::OpenApi {
    let (_, api) = App::new()
        .into_utoipa_app()
        .openapi(ApiDoc::openapi())
        .service(utoipa_actix_web::scope("/api/v1").configure(api::routes))
        .split_for_parts();
    document_errors(api)
}

/// Adds to every operation the error statuses it can answer with, in the
/// one error shape, by the rules of `error.rs` and the extractors: 401/403
/// where a token is needed, 400 where there is a body or a parameter to get
/// wrong, 404 where the path names a record, 409 where a write can conflict
/// (a duplicate, the brick check, the last admin token), 412/428 on
/// `If-Match` updates, 413 where there is a body, and 500. The handlers'
/// own `responses(...)` keep their specific descriptions.
fn document_errors(mut api: utoipa::openapi::OpenApi) -> utoipa::openapi::OpenApi {
    use utoipa::openapi::path::{Operation, ParameterIn};
    use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};
    fn add(op: &mut Operation, status: &str, description: &str) {
        op.responses
            .responses
            .entry(status.to_string())
            .or_insert_with(|| {
                RefOr::T(
                    ResponseBuilder::new()
                        .description(description)
                        .content(
                            "application/json",
                            ContentBuilder::new()
                                .schema(Some(Ref::from_schema_name("ErrorBody")))
                                .build(),
                        )
                        .build(),
                )
            });
    }
    for (path, item) in api.paths.paths.iter_mut() {
        for (method, op) in [
            ("get", item.get.as_mut()),
            ("post", item.post.as_mut()),
            ("put", item.put.as_mut()),
        ] {
            let Some(op) = op else { continue };
            let params = op.parameters.as_deref().unwrap_or_default();
            let has_query = params.iter().any(|p| p.parameter_in == ParameterIn::Query);
            let has_path = path.contains('{');
            let has_body = op.request_body.is_some();
            if op.security.is_some() {
                add(op, "401", "No bearer token, or an unknown or revoked one.");
                add(op, "403", "The token's role may not do this.");
            }
            if has_body || has_query || has_path {
                add(op, "400", "Invalid input; the message names the field.");
            }
            if has_path {
                add(op, "404", "No such record.");
            }
            if method != "get" {
                add(
                    op,
                    "409",
                    "Conflicts with the current state (a duplicate, or a change the brick check refused).",
                );
            }
            if method == "put" {
                add(
                    op,
                    "412",
                    "The record changed since it was read (If-Match).",
                );
                add(op, "428", "If-Match is required.");
            }
            if has_body {
                add(op, "413", "The request body is over the limit.");
            }
            add(op, "500", "Internal error (logged; no detail is sent).");
            add(op, "503", "The database is unavailable; retry shortly.");
        }
    }
    api
}
