//! Issue 12 hardening, in both directions on both backends: security
//! headers on every response (the vendored API docs included), and bounds
//! on stored strings (a clear 400 naming the field; NUL refused everywhere,
//! where PostgreSQL used to answer 500 and SQLite stored it).

use super::*;
use serde_json::json;

#[actix_rt::test]
async fn every_response_carries_the_security_headers() {
    let h = Harness::new(Db::Sqlite);
    let app = test::init_service(registry::app(h.state.clone())).await;
    for uri in [
        "/api/docs/",
        "/api/openapi.json",
        "/api/v1/vendors",
        "/login",
        "/static/style.css",
        "/no/such/page",
    ] {
        let req = test::TestRequest::get()
            .uri(uri)
            .insert_header(("Authorization", format!("Bearer {}", h.admin)))
            .to_request();
        let resp = test::call_service(&app, req).await;
        let hd = resp.headers();
        assert_eq!(hd.get("x-frame-options").unwrap(), "DENY", "{uri}");
        let csp = hd.get("content-security-policy").unwrap().to_str().unwrap();
        assert!(csp.contains("frame-ancestors 'none'"), "{uri}: {csp}");
        assert_eq!(
            hd.get("x-content-type-options").unwrap(),
            "nosniff",
            "{uri}"
        );
        assert_eq!(hd.get("referrer-policy").unwrap(), "no-referrer", "{uri}");
        if uri == "/login" {
            assert!(
                csp.contains("script-src 'none'"),
                "the pages keep their stricter policy: {csp}"
            );
        }
    }
}

#[actix_rt::test]
async fn stored_strings_are_bounded_and_nul_is_refused_on_both_backends() {
    for db in BACKENDS {
        let h = Harness::new(db);
        let app = test::init_service(registry::app(h.state.clone())).await;
        let a = Some(h.admin.as_str());
        let long = "x".repeat(257);
        let cases = [
            ("/api/v1/vendors", json!({"id": "v1", "name": long}), "name"),
            (
                "/api/v1/vendors",
                json!({"id": "v2", "name": "ok\u{0}evil"}),
                "name",
            ),
            (
                "/api/v1/vendors",
                json!({"id": "v3", "name": "V", "contract_ref": "C\u{0}"}),
                "contract_ref",
            ),
            (
                "/api/v1/vendors",
                json!({"id": "v4", "name": "V", "security_contact": "s".repeat(300)}),
                "security_contact",
            ),
            (
                "/api/v1/products",
                json!({"id": "p1", "name": long, "stages": [{"name": "rom", "algorithms": ["ecdsa-p256"]}]}),
                "name",
            ),
            (
                "/api/v1/tokens",
                json!({"name": "t\u{0}", "role": "auditor"}),
                "name",
            ),
        ];
        for (uri, body, field) in cases {
            let (s, _, e) = call(&app, "POST", uri, a, Some(body), &[]).await;
            assert_eq!(s, 400, "{db:?} {uri}: {e}");
            assert!(
                e["error"]["message"].as_str().unwrap().starts_with(field),
                "{db:?} {uri}: {e}"
            );
        }
        let (_, _, vs) = call(&app, "GET", "/api/v1/vendors", a, None, &[]).await;
        assert_eq!(vs.as_array().unwrap().len(), 0, "nothing half-written");
        // The other direction: the longest accepted name, and ordinary text.
        let (s, _, v) = call(&app, "POST", "/api/v1/vendors", a,
            Some(json!({"id": "ok", "name": "y".repeat(256), "contract_ref": "Rahmenvertrag Nr. 7 — §4\ttab"})), &[]).await;
        assert_eq!(s, 201, "{v}");
        let (s, _, e) = call(
            &app,
            "POST",
            "/api/v1/vendors/ok/components",
            a,
            Some(json!({"name": "fw\u{0}"})),
            &[],
        )
        .await;
        assert_eq!(s, 400, "{e}");
    }
}

/// One sign-in attempt with a password (or a token): the status.
async fn attempt<S, B>(app: &S, user: &str, pw: &str, token: &str) -> super::ui::Page
where
    S: actix_web::dev::Service<
            actix_http::Request,
            Response = actix_web::dev::ServiceResponse<B>,
            Error = actix_web::Error,
        >,
    B: actix_web::body::MessageBody,
{
    use super::ui::{enc, field, page};
    let login = page(app, "GET", "/login", "", None, &[]).await;
    let pre = login.cookies[0].split(';').next().unwrap().to_string();
    let csrf = field(&login.body, "csrf");
    let form = format!(
        "csrf={csrf}&username={}&password={}&token={}",
        enc(user),
        enc(pw),
        enc(token)
    );
    page(app, "POST", "/login", &pre, Some(&form), &[]).await
}

/// Issue 12, item 7: 40 wrong passwords in 4 s met no resistance. Now five
/// failures in a row are free, then each doubles the wait, per account and
/// per address, in the database; the right password works once the wait is
/// over; each wait is audited.
#[actix_rt::test]
async fn repeated_failed_sign_ins_are_throttled_then_allowed_again() {
    const PW: &str = "correct horse battery staple";
    for db in BACKENDS {
        let h = Harness::new(db);
        {
            let mut conn = h.state.pool.get().unwrap();
            let local = registry::service::Actor::local("test");
            registry::service::users::create(
                &mut conn,
                &local,
                "ana",
                PW,
                registry::auth::Role::Auditor,
            )
            .unwrap();
        }
        let app = test::init_service(registry::app(h.state.clone())).await;
        for i in 0..5 {
            let p = attempt(&app, "ana", "wrong horse battery staple", "").await;
            assert_eq!(p.status, 401, "{db:?} failure {i} is free");
        }
        let p = attempt(&app, "ana", PW, "").await;
        assert_eq!(p.status, 429, "{db:?}: even the right password waits");
        assert!(p.body.contains("try again in 1 second"), "{}", p.body);
        std::thread::sleep(std::time::Duration::from_millis(1100));
        let p = attempt(&app, "ana", PW, "").await;
        assert_eq!(
            p.status, 303,
            "{db:?}: the right password works after the wait"
        );
        let p = attempt(&app, "ana", "wrong horse battery staple", "").await;
        assert_eq!(p.status, 401, "a success cleared the count");

        // Per address: failures spread over many names (and tokens) count
        // too: with the wrong password above, five in a row.
        for i in 0..3 {
            assert_eq!(
                attempt(&app, &format!("nobody{i}"), "x", "").await.status,
                401
            );
        }
        assert_eq!(attempt(&app, "", "", "tg_guessed").await.status, 401);
        let p = attempt(&app, "ana", PW, "").await;
        assert_eq!(p.status, 429, "{db:?}: the address waits");

        let (_, _, log) = call(
            &app,
            "GET",
            "/api/v1/audit?limit=50",
            Some(&h.admin),
            None,
            &[],
        )
        .await;
        assert!(
            log.as_array()
                .unwrap()
                .iter()
                .any(|e| e["action"] == "sign-in-throttled"),
            "{log}"
        );
    }
}

/// Issue 12, item 10: the allowlist diff compared with "the last export
/// anyone fetched", so an auditor's plain GET reset security's review
/// baseline and hid a newly added key. Now it compares with what security
/// published, or with the export at an explicit bundle serial.
#[actix_rt::test]
async fn the_allowlist_diff_is_against_the_published_baseline_not_a_readers_get() {
    for db in BACKENDS {
        let h = Harness::new(db);
        let app = test::init_service(registry::app(h.state.clone())).await;
        let a = h.admin.clone();
        seed_acme(&app, &a).await;
        let product = json!({"id": "gw-100", "name": "GW", "stages": [
            {"name": "rom", "algorithms": ["ecdsa-p256"], "components": ["acme-wifi-fw"]}]});
        assert_eq!(
            call(
                &app,
                "POST",
                "/api/v1/products",
                Some(&a),
                Some(product),
                &[]
            )
            .await
            .0,
            201
        );
        let sec = h.token(registry::auth::Role::Security);
        let aud = h.token(registry::auth::Role::Auditor);
        let diff = |q: String| {
            let app = &app;
            let sec = sec.clone();
            async move {
                let (s, _, d) = call(
                    app,
                    "GET",
                    &format!("/api/v1/products/gw-100/allowlist?format=diff{q}"),
                    Some(&sec),
                    None,
                    &[],
                )
                .await;
                assert_eq!(s, 200, "{d}");
                d
            }
        };
        let d = diff(String::new()).await;
        assert!(
            d["baseline"]
                .as_str()
                .unwrap()
                .contains("nothing published"),
            "{d}"
        );
        let (s, _, p) = call(
            &app,
            "POST",
            "/api/v1/products/gw-100/allowlist/publish",
            Some(&aud),
            None,
            &[],
        )
        .await;
        assert_eq!(s, 403, "an auditor cannot publish: {p}");
        let (s, _, p) = call(
            &app,
            "POST",
            "/api/v1/products/gw-100/allowlist/publish",
            Some(&sec),
            None,
            &[],
        )
        .await;
        assert_eq!(s, 201, "{p}");
        let published_at = p["bundle_serial"].as_i64().unwrap();
        assert!(
            diff(String::new()).await["added_keys"]
                .as_array()
                .unwrap()
                .is_empty()
        );

        // A new key, then a reader's GET of the allowlist.
        let (s, _, b) = call(
            &app,
            "POST",
            "/api/v1/vendors/acme/certificates",
            Some(&a),
            Some(json!({"role": "intermediate", "pem": pem("acme-int2.pem")})),
            &[],
        )
        .await;
        assert_eq!(s, 201, "{b}");
        let (s, _, _) = call(
            &app,
            "GET",
            "/api/v1/products/gw-100/allowlist",
            Some(&aud),
            None,
            &[],
        )
        .await;
        assert_eq!(s, 200);

        let d = diff(String::new()).await;
        let added = d["added_keys"].as_array().unwrap();
        assert_eq!(
            added.len(),
            1,
            "{db:?}: the new key is still shown after a reader's GET: {d}"
        );
        assert!(added[0].as_str().unwrap().contains("Signing CA 2"), "{d}");
        assert!(d["baseline"].as_str().unwrap().contains("published"), "{d}");
        // The same against the serial of the publication, and nothing new
        // against the serial of the reader's export.
        let d = diff(format!("&since={published_at}")).await;
        assert_eq!(d["added_keys"].as_array().unwrap().len(), 1, "{d}");
        let d = diff("&since=1000000".into()).await;
        assert!(d["added_keys"].as_array().unwrap().is_empty(), "{d}");
        let (_, _, log) = call(&app, "GET", "/api/v1/audit?limit=20", Some(&a), None, &[]).await;
        assert!(
            log.as_array()
                .unwrap()
                .iter()
                .any(|e| e["action"] == "publish-allowlist"),
            "{log}"
        );
    }
}

/// Issue 12: `/metrics` in the Prometheus text format, for any valid token:
/// requests by route pattern (never the raw path), method and status with
/// latency, receipts ingested, the bundle serial, the database pool.
#[actix_rt::test]
async fn metrics_are_served_in_the_prometheus_format() {
    let h = Harness::new(Db::Sqlite);
    let app = test::init_service(registry::app(h.state.clone())).await;
    let a = Some(h.admin.as_str());
    assert_eq!(call(&app, "GET", "/metrics", None, None, &[]).await.0, 401);
    call(&app, "GET", "/api/v1/vendors", a, None, &[]).await;
    call(&app, "GET", "/api/v1/vendors/nobody-123", a, None, &[]).await;
    call(&app, "GET", "/no/such/page/4711", a, None, &[]).await;
    call(&app, "GET", "/api/v1/trust-bundle", a, None, &[]).await;
    let receipt = json!({"station": "st", "lot": "L", "bundle_serial": 1, "report": {
        "report_version": 1, "verdict": "reject", "summary": "x", "vendor": "v", "component": "c",
        "version": "1.0.0", "blob": {"sha256": "00".repeat(32), "size": 1}, "signature": {"kind": "cms"},
        "verification_time": "2026-10-01T00:00:00Z", "checks": [], "signers": []}});
    assert_eq!(
        call(&app, "POST", "/api/v1/receipts", a, Some(receipt), &[])
            .await
            .0,
        201
    );
    let req = test::TestRequest::get()
        .uri("/metrics")
        .insert_header(("Authorization", format!("Bearer {}", h.admin)))
        .to_request();
    let resp = test::call_service(&app, req).await;
    assert_eq!(resp.status().as_u16(), 200);
    let text = String::from_utf8(test::read_body(resp).await.to_vec()).unwrap();
    for want in [
        r#"tollgate_http_requests_total{route="/api/v1/vendors",method="GET",status="200"} 1"#,
        r#"tollgate_http_requests_total{route="/api/v1/vendors/{id}",method="GET",status="404"} 1"#,
        r#"tollgate_http_requests_total{route="unmatched",method="GET",status="404"} 1"#,
        "tollgate_http_request_duration_seconds_bucket{",
        "tollgate_receipts_ingested_total 1",
        "tollgate_bundle_serial ",
        "tollgate_bundle_build_seconds_count 1",
        "tollgate_db_pool_connections ",
        "tollgate_db_pool_wait_seconds_count ",
        "# EOF",
    ] {
        assert!(text.contains(want), "missing {want:?} in:\n{text}");
    }
    assert!(
        !text.contains("nobody-123") && !text.contains("4711"),
        "no raw paths in labels"
    );
}

/// Every response names its request id (X-Request-Id); API errors carry it
/// in their body; a load balancer's id is kept when it is sane, replaced
/// when it is not.
#[actix_rt::test]
async fn every_response_names_its_request_id() {
    let h = Harness::new(Db::Sqlite);
    let app = test::init_service(registry::app(h.state.clone())).await;
    let a = Some(h.admin.as_str());
    let (s, hdr, e) = call(&app, "GET", "/api/v1/vendors/nobody", a, None, &[]).await;
    assert_eq!(s, 404);
    let id = hdr
        .get("x-request-id")
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    assert_eq!(id.len(), 24, "{id}");
    assert_eq!(e["error"]["request_id"], id.as_str(), "{e}");
    assert_eq!(e["error"]["code"], "not_found");
    let (_, hdr, e) = call(
        &app,
        "POST",
        "/api/v1/vendors",
        a,
        Some(json!({"id": 5})),
        &[("X-Request-Id", "lb-7f3a.9_x")],
    )
    .await;
    assert_eq!(hdr.get("x-request-id").unwrap(), "lb-7f3a.9_x");
    assert_eq!(e["error"]["request_id"], "lb-7f3a.9_x", "{e}");
    for bad in ["has space", "x\u{e9}y", &"a".repeat(65), "<script>"] {
        let (_, hdr, e) = call(
            &app,
            "GET",
            "/api/v1/vendors/nobody",
            a,
            None,
            &[("X-Request-Id", bad)],
        )
        .await;
        let got = hdr
            .get("x-request-id")
            .unwrap()
            .to_str()
            .unwrap()
            .to_string();
        assert_ne!(got, bad);
        assert_eq!(got.len(), 24);
        assert_eq!(e["error"]["request_id"], got.as_str());
    }
    let (s, hdr, _) = call(&app, "GET", "/api/v1/vendors", None, None, &[]).await;
    assert_eq!(s, 401);
    assert!(
        hdr.get("www-authenticate").is_some(),
        "kept when the body is rebuilt"
    );
    assert!(hdr.get("x-frame-options").is_some());
    let (s, hdr, _) = call(&app, "GET", "/login", None, None, &[]).await;
    assert_eq!(s, 200);
    assert!(hdr.get("x-request-id").is_some(), "pages name it too");
}
