//! Registry integration tests, each run against real SQLite and real
//! PostgreSQL (a fresh database per test on 127.0.0.1:5432, or
//! `TOLLGATE_TEST_PG_URL`). No mocks.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    missing_docs
)]

use actix_web::{test, web};
use registry::key::RegistryKey;
use registry::state::AppState;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

/// The instant tests judge evidence at (the fixtures' pinned time).
pub const AT: &str = "2026-10-01T00:00:00Z";

#[path = "api/approvals.rs"]
mod approvals;
#[path = "api/audit_chain.rs"]
mod audit_chain;
#[path = "api/bundle.rs"]
mod bundle;
#[path = "api/contract.rs"]
mod contract;
#[path = "api/e2e.rs"]
mod e2e;
#[path = "api/evidence.rs"]
mod evidence;
#[path = "api/hardening.rs"]
mod hardening;
#[path = "api/outage.rs"]
mod outage;
#[path = "api/pages.rs"]
mod pages;
#[path = "api/products.rs"]
mod products;
#[path = "api/records.rs"]
mod records;
#[path = "api/releases.rs"]
mod releases;
#[path = "api/roles.rs"]
mod roles;
#[path = "api/sboms.rs"]
mod sboms;
#[path = "api/sigstore.rs"]
mod sigstore;
#[path = "api/tokens.rs"]
mod tokens;
#[path = "api/ui.rs"]
mod ui;

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// The backends every test runs on.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Db {
    Sqlite,
    Postgres,
}

pub const BACKENDS: [Db; 2] = [Db::Sqlite, Db::Postgres];

/// A detached CMS signature over `content` (DER, SHA-256) by `signer`
/// (its key in tests/fixtures/cms/keys, its CA `ca` carried), made by
/// `openssl cms`.
pub fn cms_sign(signer: &str, ca: &str, content: &[u8]) -> Vec<u8> {
    let dir = tempdir();
    std::fs::write(dir.join("blob"), content).unwrap();
    let f = fixtures();
    let out = std::process::Command::new("openssl")
        .args([
            "cms",
            "-sign",
            "-binary",
            "-nosmimecap",
            "-md",
            "sha256",
            "-outform",
            "DER",
        ])
        .arg("-in")
        .arg(dir.join("blob"))
        .arg("-signer")
        .arg(f.join("certs").join(format!("{signer}.pem")))
        .arg("-inkey")
        .arg(f.join("keys").join(format!("{signer}.key")))
        .arg("-certfile")
        .arg(f.join("certs").join(format!("{ca}.pem")))
        .arg("-out")
        .arg(dir.join("sig"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::read(dir.join("sig")).unwrap()
}

/// Signs `content` with the fixture signer `signer` (its key in
/// tests/fixtures/cms/keys, its CA in `ca`) by `openssl cms` (detached,
/// DER, SHA-256), and returns a receipt request carrying the signature as
/// evidence, with the station's verdict `station_verdict`.
pub fn signed_receipt(
    signer: &str,
    ca: &str,
    vendor: &str,
    component: &str,
    version: &str,
    content: &[u8],
    station_verdict: &str,
) -> serde_json::Value {
    use base64::Engine;
    let sig = cms_sign(signer, ca, content);
    let sha = inspector::digest::hex(&inspector::digest::DigestAlgorithm::Sha256.hash(content));
    serde_json::json!({
        "station": "st-1", "lot": "L-1", "bundle_serial": 1,
        "signature": base64::engine::general_purpose::STANDARD.encode(sig),
        "report": {
            "report_version": 1, "verdict": station_verdict, "summary": format!("station says {station_verdict}"),
            "vendor": vendor, "component": component, "version": version,
            "blob": {"sha256": sha, "size": content.len()}, "signature": {"kind": "cms"},
            "verification_time": AT, "checks": [], "signers": []
        }
    })
}

/// Verifies a DSSE envelope with Python's securesystemslib (the library
/// in-toto uses; tests/interop/verify_dsse.py), not Tollgate's code.
/// Returns whether it verified, and what the script printed.
pub fn python_verifies_dsse(key_pem: &str, envelope: &serde_json::Value) -> (bool, String) {
    let dir = tempdir();
    std::fs::write(dir.join("key.pem"), key_pem).unwrap();
    std::fs::write(dir.join("env.json"), envelope.to_string()).unwrap();
    let out = std::process::Command::new("python3")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/interop/verify_dsse.py"))
        .arg(dir.join("key.pem"))
        .arg(dir.join("env.json"))
        .output()
        .unwrap();
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/cms")
}

pub fn pem(name: &str) -> String {
    std::fs::read_to_string(fixtures().join("certs").join(name)).unwrap()
}

pub fn tempdir() -> PathBuf {
    let d = std::env::temp_dir().join(format!(
        "tollgate-reg-{}-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    ));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn pg_admin_url() -> String {
    std::env::var("TOLLGATE_TEST_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

/// A fresh, empty database URL for one test.
pub fn fresh_database(db: Db, dir: &Path) -> String {
    match db {
        Db::Sqlite => dir.join("tollgate.db").display().to_string(),
        Db::Postgres => {
            use diesel::{Connection, RunQueryDsl};
            let admin = pg_admin_url();
            let name = format!(
                "tollgate_t_{}_{}",
                std::process::id(),
                COUNTER.fetch_add(1, Ordering::SeqCst)
            );
            let mut c = diesel::PgConnection::establish(&admin)
                .unwrap_or_else(|e| panic!("PostgreSQL at {admin} is required for the tests: {e}"));
            diesel::sql_query(format!("DROP DATABASE IF EXISTS {name}"))
                .execute(&mut c)
                .unwrap();
            diesel::sql_query(format!("CREATE DATABASE {name}"))
                .execute(&mut c)
                .unwrap();
            let base = admin.rsplit_once('/').map(|(b, _)| b.to_string()).unwrap();
            format!("{base}/{name}")
        }
    }
}

pub struct Harness {
    pub state: web::Data<AppState>,
    pub admin: String,
    pub dir: PathBuf,
    pub url: String,
}

impl Harness {
    pub fn new(db: Db) -> Harness {
        Self::with_ttl(db, std::time::Duration::from_secs(3600))
    }

    /// The tests of each operation run with one approval per change
    /// (`ApprovalPolicy::single`); `tests/api/approvals.rs` runs the
    /// product's defaults (two people for dangerous changes) with
    /// [`Harness::two_person`].
    pub fn with_ttl(db: Db, ttl: std::time::Duration) -> Harness {
        Self::build(
            db,
            ttl,
            registry::service::approvals::ApprovalPolicy::single(),
        )
    }

    /// A registry with the default approval policy.
    pub fn two_person(db: Db) -> Harness {
        Self::with_approvals(db, registry::service::approvals::ApprovalPolicy::default())
    }

    /// A registry with this approval policy.
    pub fn with_approvals(
        db: Db,
        approvals: registry::service::approvals::ApprovalPolicy,
    ) -> Harness {
        Self::build(db, std::time::Duration::from_secs(3600), approvals)
    }

    fn build(
        db: Db,
        ttl: std::time::Duration,
        approvals: registry::service::approvals::ApprovalPolicy,
    ) -> Harness {
        let dir = tempdir();
        let url = fresh_database(db, &dir);
        let pool = schema::connect(&url, 4).unwrap();
        let admin = {
            let mut conn = pool.get().unwrap();
            registry::service::tokens::bootstrap(
                &mut conn,
                "test-admin",
                registry::auth::Role::Admin,
            )
            .unwrap()
        };
        let (key, created) = RegistryKey::load_or_create(&dir).unwrap();
        assert!(created);
        let mut state = AppState::new(pool, key, ttl);
        state.approvals = approvals;
        state.pin_time = Some(
            time::OffsetDateTime::parse(AT, &time::format_description::well_known::Rfc3339)
                .unwrap(),
        );
        let state = web::Data::new(state);
        Harness {
            state,
            admin,
            dir,
            url,
        }
    }

    pub fn token(&self, role: registry::auth::Role) -> String {
        self.named_token(&format!("test-{}", role.as_str()), role)
    }

    /// A token for the person `name` (approvals tell people apart by name).
    pub fn named_token(&self, name: &str, role: registry::auth::Role) -> String {
        let mut conn = self.state.pool.get().unwrap();
        registry::service::tokens::bootstrap(&mut conn, name, role).unwrap()
    }
}

/// Runs `tollgate-registry ARGS --database-url URL`: exit code, stdout, stderr.
pub fn registry_cli(url: &str, args: &[&str]) -> (Option<i32>, String, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_tollgate-registry"))
        .env("TOLLGATE_APPROVALS", "single")
        .args(args)
        .args(["--database-url", url])
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Sends a request; returns status, headers and JSON body (Null if none).
pub async fn call<S, B>(
    app: &S,
    method: &str,
    uri: &str,
    token: Option<&str>,
    body: Option<serde_json::Value>,
    headers: &[(&str, &str)],
) -> (u16, actix_web::http::header::HeaderMap, serde_json::Value)
where
    S: actix_web::dev::Service<
            actix_http::Request,
            Response = actix_web::dev::ServiceResponse<B>,
            Error = actix_web::Error,
        >,
    B: actix_web::body::MessageBody,
{
    let mut req = match method {
        "GET" => test::TestRequest::get(),
        "POST" => test::TestRequest::post(),
        "PUT" => test::TestRequest::put(),
        "DELETE" => test::TestRequest::delete(),
        _ => panic!("method {method}"),
    }
    .uri(uri);
    if let Some(t) = token {
        req = req.insert_header(("Authorization", format!("Bearer {t}")));
    }
    for (k, v) in headers {
        req = req.insert_header((*k, *v));
    }
    if let Some(b) = body {
        req = req.set_json(b);
    }
    let resp = test::call_service(app, req.to_request()).await;
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let bytes = test::read_body(resp).await;
    let json = if bytes.is_empty() {
        serde_json::Value::Null
    } else {
        serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::String(
            String::from_utf8_lossy(&bytes).into_owned(),
        ))
    };
    (status, headers, json)
}

/// Registers Acme (root + intermediate, component with floor 1.5.0), the
/// TSA root and old-signer's revocation through the API.
pub async fn seed_acme<S, B>(app: &S, admin: &str)
where
    S: actix_web::dev::Service<
            actix_http::Request,
            Response = actix_web::dev::ServiceResponse<B>,
            Error = actix_web::Error,
        >,
    B: actix_web::body::MessageBody,
{
    use serde_json::json;
    let (s, _, b) = call(app, "POST", "/api/v1/vendors", Some(admin), Some(json!({"id": "acme", "name": "Acme Chips", "contract_ref": "C-2026-01", "security_contact": "psirt@acme.example"})), &[]).await;
    assert_eq!(s, 201, "{b}");
    for (file, role) in [
        ("acme-root.pem", "anchor"),
        ("acme-int.pem", "intermediate"),
    ] {
        let (s, _, b) = call(
            app,
            "POST",
            "/api/v1/vendors/acme/certificates",
            Some(admin),
            Some(json!({"role": role, "pem": pem(file)})),
            &[],
        )
        .await;
        assert_eq!(s, 201, "{b}");
    }
    let (s, _, b) = call(
        app,
        "POST",
        "/api/v1/vendors/acme/components",
        Some(admin),
        Some(json!({"name": "acme-wifi-fw", "min_version": "1.5.0"})),
        &[],
    )
    .await;
    assert_eq!(s, 201, "{b}");
    let (s, _, b) = call(
        app,
        "POST",
        "/api/v1/tsa-anchors",
        Some(admin),
        Some(json!({"pem": pem("tsa-root.pem")})),
        &[],
    )
    .await;
    assert_eq!(s, 201, "{b}");
    let (s, _, b) = call(app, "POST", "/api/v1/revocations", Some(admin), Some(json!({"pem": pem("old-signer.pem"), "reason": "keyCompromise", "invalidity_date": "2026-08-16T00:00:00Z"})), &[]).await;
    assert_eq!(s, 201, "{b}");
}

#[actix_rt::test]
async fn openapi_document_matches_the_committed_snapshot() {
    let doc = registry::openapi().to_pretty_json().unwrap();
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/openapi.json");
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(&path, &doc).unwrap();
    }
    let committed = std::fs::read_to_string(&path)
        .expect("docs/openapi.json (run with UPDATE_SNAPSHOTS=1 to create)");
    assert_eq!(
        committed, doc,
        "the API changed: review it and run with UPDATE_SNAPSHOTS=1"
    );
    let v: serde_json::Value = serde_json::from_str(&doc).unwrap();
    assert_eq!(v["openapi"], "3.1.0");
    for p in [
        "/api/v1/vendors",
        "/api/v1/trust-bundle",
        "/api/v1/receipts",
        "/api/v1/audit/verify",
        "/api/v1/revocations/crl",
    ] {
        assert!(v["paths"].get(p).is_some(), "{p} missing from OpenAPI");
    }
}

#[actix_rt::test]
async fn docs_page_and_openapi_are_served_without_downloads() {
    let h = Harness::new(Db::Sqlite);
    let app = test::init_service(registry::app(h.state.clone())).await;
    let (s, _, body) = call(&app, "GET", "/api/openapi.json", None, None, &[]).await;
    assert_eq!(s, 200);
    assert_eq!(body["info"]["title"], "Tollgate registry API");
    let req = test::TestRequest::get().uri("/api/docs/").to_request();
    let resp = test::call_service(&app, req).await;
    assert_eq!(resp.status().as_u16(), 200);
    let html = String::from_utf8(test::read_body(resp).await.to_vec()).unwrap();
    assert!(html.contains("swagger"), "{html}");
    assert!(
        !html.contains("https://"),
        "the docs page must not load anything from the internet"
    );
    let (s, _, body) = call(&app, "GET", "/nope", None, None, &[]).await;
    assert_eq!(s, 404);
    assert_eq!(body["error"]["code"], "not_found");
}

/// The current trust bundle's payload (GET /trust-bundle, base64-decoded
/// and parsed), as `token` sees it.
pub async fn bundle_payload<S, B>(app: &S, token: &str) -> serde_json::Value
where
    S: actix_web::dev::Service<
            actix_http::Request,
            Response = actix_web::dev::ServiceResponse<B>,
            Error = actix_web::Error,
        >,
    B: actix_web::body::MessageBody,
{
    let (s, _, bundle) = call(app, "GET", "/api/v1/trust-bundle", Some(token), None, &[]).await;
    assert_eq!(s, 200, "{bundle}");
    serde_json::from_slice(
        &base64::Engine::decode(
            &base64::engine::general_purpose::STANDARD,
            bundle["payload"].as_str().unwrap(),
        )
        .unwrap(),
    )
    .unwrap()
}
