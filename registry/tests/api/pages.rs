//! The pages and rules the service layer brought (both backends): a
//! certificate revoked by CRL shows as revoked, component names cannot
//! steer a form to another URL, receipts and the audit log page past 200
//! rows with a total and a CSV download, the revocations page and CRL
//! import with its brick-check confirmation.

use super::ui::{multipart, page, sign_in};
use super::*;
use registry::auth::Role;
use serde_json::json;

/// A second P-256 signing CA for acme (acme-int2) and the product gw-100
/// whose ROM verifies P-256 only: the set-up of the brick-check cases.
async fn seed_p256_rom<S, B>(app: &S, admin: &str)
where
    S: actix_web::dev::Service<
            actix_http::Request,
            Response = actix_web::dev::ServiceResponse<B>,
            Error = actix_web::Error,
        >,
    B: actix_web::body::MessageBody,
{
    let (s, _, b) = call(
        app,
        "POST",
        "/api/v1/vendors/acme/certificates",
        Some(admin),
        Some(json!({"role": "intermediate", "pem": pem("acme-int2.pem")})),
        &[],
    )
    .await;
    assert_eq!(s, 201, "{b}");
    let product = json!({"id": "gw-100", "name": "Gateway 100", "stages": [
        {"name": "rom", "algorithms": ["ecdsa-p256"], "components": ["acme-wifi-fw"]}]});
    assert_eq!(
        call(
            app,
            "POST",
            "/api/v1/products",
            Some(admin),
            Some(product),
            &[]
        )
        .await
        .0,
        201
    );
}

fn receipt(station: &str, lot: &str, verdict: &str, n: usize) -> serde_json::Value {
    json!({"station": station, "lot": lot, "bundle_serial": 1, "report": {
        "report_version": 1, "verdict": verdict, "summary": format!("receipt {n}"), "vendor": "acme",
        "component": "acme-wifi-fw", "version": "1.5.0",
        "blob": {"sha256": format!("{n:064x}"), "size": 10}, "signature": {"kind": "cms"},
        "verification_time": "2026-10-01T00:00:00Z", "checks": [], "signers": []}})
}

async fn post_multipart<S, B>(
    app: &S,
    uri: &str,
    cookie: &str,
    fields: &[(&str, &str)],
    file: Option<(&str, &[u8])>,
) -> (u16, String)
where
    S: actix_web::dev::Service<
            actix_http::Request,
            Response = actix_web::dev::ServiceResponse<B>,
            Error = actix_web::Error,
        >,
    B: actix_web::body::MessageBody,
{
    let (ct, body) = multipart(fields, file);
    let req = test::TestRequest::post()
        .uri(uri)
        .insert_header(("Cookie", cookie.to_string()))
        .insert_header(("Content-Type", ct))
        .set_payload(body)
        .to_request();
    let resp = test::call_service(app, req).await;
    let status = resp.status().as_u16();
    let body = String::from_utf8_lossy(&test::read_body(resp).await).into_owned();
    (status, body)
}

/// The row of the vendor page's certificate table that names `subject`.
fn cert_row<'a>(body: &'a str, subject: &str) -> &'a str {
    let i = body
        .find(&format!("<td>{subject}</td>"))
        .unwrap_or_else(|| panic!("no row for {subject} in {body}"));
    let end = body[i..].find("</tr>").unwrap() + i;
    &body[i..end]
}

/// Before the service layer the vendor page marked a certificate revoked
/// only when a revocation held its DER, so one revoked by a CRL (issuer and
/// serial) showed as valid while the inspector and the allowlists treated
/// it as revoked. Now one rule decides for all of them.
#[actix_rt::test]
async fn a_certificate_revoked_by_a_crl_shows_as_revoked() {
    for db in BACKENDS {
        let h = Harness::new(db);
        let app = test::init_service(registry::app(h.state.clone())).await;
        let a = h.admin.clone();
        seed_acme(&app, &a).await;
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
        let subject = b["subject"].as_str().unwrap().to_string();
        let (cookie, _, _) = sign_in(&app, &a, false).await;
        let before = page(&app, "GET", "/vendors/acme", &cookie, None, &[]).await;
        assert!(
            !cert_row(&before.body, &subject).contains("revoked"),
            "{db:?}: not yet revoked"
        );

        // acme-root's CRL lists acme-int2 by serial (no DER in the row).
        let crl = std::fs::read_to_string(fixtures().join("certs/acme-root.crl.pem")).unwrap();
        let (s, _, r) = call(
            &app,
            "POST",
            "/api/v1/revocations/crl",
            Some(&a),
            Some(json!({"pem": crl})),
            &[],
        )
        .await;
        assert_eq!(s, 201, "{r}");
        assert_eq!(r["imported"], 1);
        let (_, _, revs) = call(&app, "GET", "/api/v1/revocations", Some(&a), None, &[]).await;
        assert!(
            revs.as_array()
                .unwrap()
                .iter()
                .any(|r| r["serial"].is_string() && r["source"] == "crl"),
            "{revs}"
        );

        let after = page(&app, "GET", "/vendors/acme", &cookie, None, &[]).await;
        let row = cert_row(&after.body, &subject);
        assert!(row.contains("status revoked"), "{db:?}: {row}");
        assert!(
            !row.contains("Revoke…"),
            "a revoked certificate offers no revoke link: {row}"
        );
        // The CRL's other certificates are untouched.
        let int = cert_row(&after.body, "CN=Acme Firmware Signing CA 1,O=Acme Chips");
        assert!(!int.contains("status revoked"), "{db:?}: {int}");
    }
}

/// A component name is a path segment of the floor form's action. A name
/// like `../users/u-victim/enable?` made an admin's floor form post to the
/// user-enable URL with the admin's CSRF token. Such names are refused at
/// creation, and every name the pages put in a URL is percent-encoded, so a
/// form always posts to its own resource.
#[actix_rt::test]
async fn component_names_cannot_steer_a_form_to_another_url() {
    for db in BACKENDS {
        let h = Harness::new(db);
        let app = test::init_service(registry::app(h.state.clone())).await;
        let a = h.admin.clone();
        seed_acme(&app, &a).await;
        for evil in [
            "../users/u-victim/enable?",
            "a/b",
            "x?y",
            "x#y",
            "50%",
            "..",
            "tab\there",
            "a\\b",
        ] {
            let (s, _, e) = call(
                &app,
                "POST",
                "/api/v1/vendors/acme/components",
                Some(&a),
                Some(json!({"name": evil})),
                &[],
            )
            .await;
            assert_eq!(s, 400, "{db:?} {evil:?}: {e}");
            assert!(
                e["error"]["message"].as_str().unwrap().contains("name"),
                "{e}"
            );
        }
        let (cookie, csrf, _) = sign_in(&app, &a, false).await;
        let form = format!(
            "csrf={csrf}&name={}",
            super::ui::enc("../users/u-victim/enable?")
        );
        let p = page(
            &app,
            "POST",
            "/vendors/acme/components",
            &cookie,
            Some(&form),
            &[],
        )
        .await;
        assert_eq!(p.status, 400, "the page refuses it too: {}", p.body);
        let (_, _, comps) = call(&app, "GET", "/api/v1/components", Some(&a), None, &[]).await;
        assert_eq!(comps.as_array().unwrap().len(), 1, "{comps}");

        // A name with a space, '&' and a non-ASCII letter is fine, and its
        // floor form posts to its own, encoded URL.
        let name = "Wi-Fi fw & BT \u{e9}";
        let (s, _, b) = call(
            &app,
            "POST",
            "/api/v1/vendors/acme/components",
            Some(&a),
            Some(json!({"name": name})),
            &[],
        )
        .await;
        assert_eq!(s, 201, "{b}");
        let v = page(&app, "GET", "/vendors/acme", &cookie, None, &[]).await;
        let action = "/components/Wi-Fi%20fw%20%26%20BT%20%C3%A9/floor";
        assert!(
            v.body.contains(&format!("action=\"{action}\"")),
            "{}",
            v.body
        );
        let form = format!("csrf={csrf}&version=1&min_version=2.0.0");
        let p = page(&app, "POST", action, &cookie, Some(&form), &[]).await;
        assert_eq!(p.status, 303, "{}", p.body);
        let (_, _, comps) = call(&app, "GET", "/api/v1/components", Some(&a), None, &[]).await;
        let c = comps
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == name)
            .unwrap();
        assert_eq!(c["min_version"], "2.0.0");
    }
}

/// Receipts: 450 rows page past 200 by keyset paging, with the total, and
/// the CSV download holds exactly the filtered rows (formula-looking cells
/// defused). The API reports the total and pages with `before` too.
#[actix_rt::test]
async fn receipts_page_past_200_rows_with_a_total_and_a_csv_download() {
    for db in BACKENDS {
        let h = Harness::new(db);
        let app = test::init_service(registry::app(h.state.clone())).await;
        let a = h.admin.clone();
        let batch: Vec<_> = (0..450)
            .map(|n| {
                receipt(
                    if n % 3 == 0 {
                        "=cmd|'/c calc'!A1"
                    } else {
                        "st-1"
                    },
                    "L1",
                    if n % 5 == 0 { "reject" } else { "accept" },
                    n,
                )
            })
            .collect();
        let (s, _, r) = call(
            &app,
            "POST",
            "/api/v1/receipts/batch",
            Some(&a),
            Some(json!({"receipts": batch})),
            &[],
        )
        .await;
        assert_eq!(s, 201, "{r}");
        let (cookie, _, _) = sign_in(&app, &a, false).await;

        let mut uri = "/receipts".to_string();
        let mut seen = Vec::new();
        for expect in [200usize, 200, 50] {
            let p = page(&app, "GET", &uri, &cookie, None, &[]).await;
            assert_eq!(p.status, 200);
            assert!(
                p.body.contains("<strong>450</strong> receipts match"),
                "{}",
                p.body
            );
            let ids: Vec<String> = p
                .body
                .match_indices("href=\"/receipts/")
                .map(|(i, _)| p.body[i + 16..].split('"').next().unwrap().to_string())
                .collect();
            assert_eq!(ids.len(), expect, "{db:?} {uri}");
            seen.extend(ids);
            match p.body.find("before=") {
                Some(i) => {
                    let before: String = p.body[i + 7..]
                        .chars()
                        .take_while(char::is_ascii_digit)
                        .collect();
                    uri = format!("/receipts?before={before}");
                }
                None => assert_eq!(expect, 50, "only the last page has no next link"),
            }
        }
        seen.sort();
        seen.dedup();
        assert_eq!(seen.len(), 450, "every receipt once, none twice");

        // Filters and the CSV of exactly the filtered rows.
        let p = page(&app, "GET", "/receipts?verdict=reject", &cookie, None, &[]).await;
        assert!(
            p.body.contains("<strong>90</strong> receipts match"),
            "{}",
            p.body
        );
        let csv = page(
            &app,
            "GET",
            "/receipts.csv?verdict=reject",
            &cookie,
            None,
            &[],
        )
        .await;
        assert_eq!(csv.status, 200);
        let lines: Vec<&str> = csv.body.lines().collect();
        assert_eq!(lines.len(), 91, "a header and 90 rows");
        assert!(lines[0].starts_with("id,received_at,verdict"));
        assert!(lines[1..].iter().all(|l| l.contains("\"reject\"")));
        assert!(
            csv.body.contains("\"'=cmd|'/c calc'!A1\""),
            "a formula is defused"
        );
        assert!(!csv.body.contains(",\"=cmd"));
        let bad = page(&app, "GET", "/receipts?verdict=maybe", &cookie, None, &[]).await;
        assert_eq!(bad.status, 400);
        let bad = page(
            &app,
            "GET",
            "/receipts.csv?from=yesterday",
            &cookie,
            None,
            &[],
        )
        .await;
        assert_eq!(bad.status, 400);

        // The API: a total and keyset paging.
        let (s, hd, l) = call(
            &app,
            "GET",
            "/api/v1/receipts?limit=10&verdict=accept",
            Some(&a),
            None,
            &[],
        )
        .await;
        assert_eq!(s, 200);
        assert_eq!(hd.get("x-total-count").unwrap(), "360");
        let last = l[9]["id"].as_i64().unwrap();
        let (_, _, l2) = call(
            &app,
            "GET",
            &format!("/api/v1/receipts?limit=10&verdict=accept&before={last}"),
            Some(&a),
            None,
            &[],
        )
        .await;
        assert!(
            l2.as_array()
                .unwrap()
                .iter()
                .all(|r| r["id"].as_i64().unwrap() < last)
        );
        assert_eq!(l2.as_array().unwrap().len(), 10);
    }
}

/// The audit log pages past 200 entries, filters, counts and downloads.
#[actix_rt::test]
async fn the_audit_log_pages_filters_and_downloads() {
    for db in BACKENDS {
        let h = Harness::new(db);
        let app = test::init_service(registry::app(h.state.clone())).await;
        let a = h.admin.clone();
        for n in 0..210 {
            let (s, _, b) = call(
                &app,
                "POST",
                "/api/v1/vendors",
                Some(&a),
                Some(json!({"id": format!("v{n:03}"), "name": format!("Vendor {n}")})),
                &[],
            )
            .await;
            assert_eq!(s, 201, "{b}");
        }
        let (s, _, _) = call(
            &app,
            "POST",
            "/api/v1/tokens",
            Some(&a),
            Some(json!({"name": "station-9", "role": "inspector"})),
            &[],
        )
        .await;
        assert_eq!(s, 201);
        let (cookie, _, _) = sign_in(&app, &a, false).await;
        let p = page(&app, "GET", "/audit", &cookie, None, &[]).await;
        assert_eq!(p.status, 200);
        assert!(p.body.contains("intact"));
        assert!(
            p.body.contains("<strong>211</strong> entries match"),
            "{}",
            p.body
        );
        assert_eq!(p.body.matches("<tr><td>").count(), 200);
        let i = p.body.find("before=").expect("a next-page link");
        let before: String = p.body[i + 7..]
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        let p2 = page(
            &app,
            "GET",
            &format!("/audit?before={before}"),
            &cookie,
            None,
            &[],
        )
        .await;
        assert_eq!(p2.body.matches("<tr><td>").count(), 11);
        assert!(!p2.body.contains("rel=\"next\""));

        let p = page(&app, "GET", "/audit?entity=token", &cookie, None, &[]).await;
        assert!(
            p.body.contains("<strong>1</strong> entry matches"),
            "{}",
            p.body
        );
        let csv = page(
            &app,
            "GET",
            "/audit.csv?entity=vendor&actor=test-admin",
            &cookie,
            None,
            &[],
        )
        .await;
        assert_eq!(csv.status, 200);
        assert_eq!(
            csv.body.lines().count(),
            211,
            "a header and 210 vendor entries"
        );
        let csv = page(
            &app,
            "GET",
            "/audit.csv?actor=nobody%25",
            &cookie,
            None,
            &[],
        )
        .await;
        assert_eq!(
            csv.body.lines().count(),
            1,
            "'%' in the filter is a literal"
        );

        // Roles that may not read the log get the normal layout with a refusal.
        let insp = h.token(Role::Inspector);
        let (ic, _, _) = sign_in(&app, &insp, false).await;
        let d = page(&app, "GET", "/", &ic, None, &[]).await;
        assert!(
            !d.body.contains("href=\"/audit\""),
            "no audit link for an inspector"
        );
        let p = page(&app, "GET", "/audit", &ic, None, &[]).await;
        assert_eq!(p.status, 403);
        assert!(
            p.body.contains("may not") && p.body.contains("the audit log"),
            "{}",
            p.body
        );
        assert!(p.body.contains("Sign out"), "the normal layout, signed in");
        let p = page(&app, "GET", "/audit.csv", &ic, None, &[]).await;
        assert_eq!(p.status, 403);
    }
}

/// The revocations page lists revocations to every reader; security
/// imports a CRL file there: first a preview naming what it would brick
/// (nothing changes), then the confirmed import.
#[actix_rt::test]
async fn the_revocations_page_imports_a_crl_after_a_confirmation() {
    for db in BACKENDS {
        let h = Harness::new(db);
        let app = test::init_service(registry::app(h.state.clone())).await;
        let a = h.admin.clone();
        seed_acme(&app, &a).await;
        seed_p256_rom(&app, &a).await;
        let (s, _, e) = call(
            &app,
            "POST",
            "/api/v1/revocations",
            Some(&a),
            Some(json!({"pem": pem("acme-int.pem"), "reason": "superseded"})),
            &[],
        )
        .await;
        assert_eq!(s, 201, "{e}");
        let count = |app_revs: &serde_json::Value| app_revs.as_array().unwrap().len();
        let (_, _, before) = call(&app, "GET", "/api/v1/revocations", Some(&a), None, &[]).await;

        let sec = h.token(Role::Security);
        let (cookie, csrf, _) = sign_in(&app, &sec, false).await;
        let list = page(&app, "GET", "/revocations", &cookie, None, &[]).await;
        assert_eq!(list.status, 200);
        assert!(
            list.body.contains("CN=Acme Firmware Signing CA 1"),
            "{}",
            list.body
        );
        assert!(list.body.contains("action=\"/revocations/crl\""));

        let crl = std::fs::read(fixtures().join("certs/acme-root.crl.pem")).unwrap();
        // Without the CSRF token: refused.
        let (s, _) = post_multipart(
            &app,
            "/revocations/crl",
            &cookie,
            &[("csrf", "x")],
            Some(("root.crl", &crl)),
        )
        .await;
        assert_eq!(s, 403);
        // Garbage: a clear refusal on the page.
        let (s, body) = post_multipart(
            &app,
            "/revocations/crl",
            &cookie,
            &[("csrf", &csrf)],
            Some(("x.crl", b"not a crl")),
        )
        .await;
        assert_eq!(s, 400, "{body}");
        assert!(body.contains("not a CRL"), "{body}");
        // The preview: what it would brick, nothing changed yet.
        let (s, body) = post_multipart(
            &app,
            "/revocations/crl",
            &cookie,
            &[("csrf", &csrf)],
            Some(("root.crl", &crl)),
        )
        .await;
        assert_eq!(s, 200, "{body}");
        assert!(body.contains("Import this CRL?"), "{body}");
        assert!(
            body.contains("product &#39;gw-100&#39;, stage &#39;rom&#39;: no trusted key left"),
            "{body}"
        );
        let (_, _, mid) = call(&app, "GET", "/api/v1/revocations", Some(&a), None, &[]).await;
        assert_eq!(count(&mid), count(&before), "a preview changes nothing");
        let carried = super::ui::field(&body, "crl");
        // Confirmed: imported.
        let (s, body) = post_multipart(
            &app,
            "/revocations/crl",
            &cookie,
            &[("csrf", &csrf), ("crl", &carried), ("confirm", "yes")],
            None,
        )
        .await;
        assert_eq!(s, 303, "{body}");
        let (_, _, after) = call(&app, "GET", "/api/v1/revocations", Some(&a), None, &[]).await;
        assert_eq!(count(&after), count(&before) + 1);
        let list = page(&app, "GET", "/revocations", &cookie, None, &[]).await;
        assert!(
            list.body.contains("issued by CN=Acme Firmware Root CA"),
            "{}",
            list.body
        );

        // An auditor reads the list but has no form, and a post is refused.
        let aud = h.token(Role::Auditor);
        let (ac, acsrf, _) = sign_in(&app, &aud, false).await;
        let list = page(&app, "GET", "/revocations", &ac, None, &[]).await;
        assert_eq!(list.status, 200);
        assert!(!list.body.contains("action=\"/revocations/crl\""));
        let (s, _) = post_multipart(
            &app,
            "/revocations/crl",
            &ac,
            &[("csrf", &acsrf)],
            Some(("root.crl", &crl)),
        )
        .await;
        assert_eq!(s, 403);
    }
}

/// The secret shown once on the Access page.
fn shown_secret(body: &str) -> String {
    let i = body
        .find("id=\"secret\"")
        .unwrap_or_else(|| panic!("no secret shown: {body}"));
    let v = body[i..].find("value=\"").unwrap() + i + 7;
    body[v..].split('"').next().unwrap().to_string()
}

fn sigstore_fixture(name: &str) -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../tests/fixtures/sigstore")
            .join(name),
    )
    .unwrap()
}

/// Every operation the API has for products, Sigstore trust and TSA
/// anchors has a page calling the same service function: a product is
/// defined and edited, identities and keys are added on the vendor page,
/// TSA anchors and trusted roots on the Trust roots page; bad input is
/// refused with the reason and a role that may not is refused.
#[actix_rt::test]
async fn products_sigstore_and_tsa_have_pages() {
    for db in BACKENDS {
        let h = Harness::new(db);
        let app = test::init_service(registry::app(h.state.clone())).await;
        let a = h.admin.clone();
        seed_acme(&app, &a).await;
        let sec = h.token(Role::Security);
        let (sc, scsrf, _) = sign_in(&app, &sec, false).await;

        // Products: the form, a refusal (unknown algorithm), a definition, an edit.
        let f = page(&app, "GET", "/products/new", &sc, None, &[]).await;
        assert_eq!(f.status, 200);
        assert!(f.body.contains("name=\"stage7_name\""), "eight stage rows");
        let bad = format!(
            "csrf={scsrf}&id=gw-7&name=GW7&stage0_name=rom&stage0_alg=rsa-1024&stage0_components=acme-wifi-fw"
        );
        let p = page(&app, "POST", "/products/new", &sc, Some(&bad), &[]).await;
        assert_eq!(p.status, 400, "{}", p.body);
        assert!(
            p.body.contains("rsa-1024"),
            "the reason names it: {}",
            p.body
        );
        assert!(
            p.body.contains("value=\"GW7\""),
            "the form keeps what was typed"
        );
        let good = format!(
            "csrf={scsrf}&id=gw-7&name=GW7&stage0_name=rom&stage0_alg=ecdsa-p256&stage0_alg=rsa-2048&stage0_components=acme-wifi-fw&stage1_name=&stage1_components="
        );
        let p = page(&app, "POST", "/products/new", &sc, Some(&good), &[]).await;
        assert_eq!(p.status, 303, "{}", p.body);
        assert_eq!(
            p.location.as_deref().map(|l| l.split('?').next().unwrap()),
            Some("/products/gw-7")
        );
        let (_, _, list) = call(&app, "GET", "/api/v1/products", Some(&a), None, &[]).await;
        assert_eq!(
            list[0]["stages"],
            json!([{"name": "rom", "algorithms": ["ecdsa-p256", "rsa-2048"], "components": ["acme-wifi-fw"]}])
        );
        let e = page(&app, "GET", "/products/gw-7/edit", &sc, None, &[]).await;
        assert!(
            e.body.contains("value=\"ecdsa-p256\" checked"),
            "{}",
            e.body
        );
        let edit = format!(
            "csrf={scsrf}&version=1&name=GW7b&stage0_name=rom&stage0_alg=ecdsa-p256&stage0_components=acme-wifi-fw&stage1_name=os&stage1_alg=ed25519&stage1_components="
        );
        let p = page(&app, "POST", "/products/gw-7/edit", &sc, Some(&edit), &[]).await;
        assert_eq!(p.status, 303, "{}", p.body);
        let stale = page(&app, "POST", "/products/gw-7/edit", &sc, Some(&edit), &[]).await;
        assert_eq!(stale.status, 412, "an edit from an old read is refused");
        let (_, _, list) = call(&app, "GET", "/api/v1/products", Some(&a), None, &[]).await;
        assert_eq!(list[0]["name"], "GW7b");
        assert_eq!(list[0]["stages"].as_array().unwrap().len(), 2);

        // Sigstore identity and key on the vendor page (procurement's forms).
        let proc_ = h.token(Role::Procurement);
        let (pc, pcsrf, _) = sign_in(&app, &proc_, false).await;
        let v = page(&app, "GET", "/vendors/acme", &pc, None, &[]).await;
        assert!(
            v.body
                .contains("action=\"/vendors/acme/sigstore-identities\"")
        );
        let form = format!(
            "csrf={pcsrf}&issuer={}&san_regex={}",
            super::ui::enc("https://token.actions.githubusercontent.com"),
            super::ui::enc("(unclosed")
        );
        let p = page(
            &app,
            "POST",
            "/vendors/acme/sigstore-identities",
            &pc,
            Some(&form),
            &[],
        )
        .await;
        assert_eq!(p.status, 400, "{}", p.body);
        let form = format!(
            "csrf={pcsrf}&issuer={}&san={}",
            super::ui::enc("https://token.actions.githubusercontent.com"),
            super::ui::enc(
                "https://github.com/acme/fw/.github/workflows/release.yml@refs/heads/main"
            )
        );
        let p = page(
            &app,
            "POST",
            "/vendors/acme/sigstore-identities",
            &pc,
            Some(&form),
            &[],
        )
        .await;
        assert_eq!(p.status, 303, "{}", p.body);
        let key = String::from_utf8(sigstore_fixture("managed-key.pub")).unwrap();
        let form = format!("csrf={pcsrf}&pem={}", super::ui::enc(&key));
        let p = page(
            &app,
            "POST",
            "/vendors/acme/sigstore-keys",
            &pc,
            Some(&form),
            &[],
        )
        .await;
        assert_eq!(p.status, 303, "{}", p.body);
        let p = page(
            &app,
            "POST",
            "/vendors/acme/sigstore-keys",
            &pc,
            Some(&form),
            &[],
        )
        .await;
        assert_eq!(p.status, 409, "the same key twice: {}", p.body);
        let (_, _, ids) = call(
            &app,
            "GET",
            "/api/v1/vendors/acme/sigstore-identities",
            Some(&a),
            None,
            &[],
        )
        .await;
        assert_eq!(ids.as_array().unwrap().len(), 1);
        let (_, _, keys) = call(
            &app,
            "GET",
            "/api/v1/vendors/acme/sigstore-keys",
            Some(&a),
            None,
            &[],
        )
        .await;
        assert_eq!(keys.as_array().unwrap().len(), 1);
        let p = page(
            &app,
            "POST",
            "/vendors/acme/sigstore-keys",
            &sc,
            Some(&format!("csrf={scsrf}&pem=x")),
            &[],
        )
        .await;
        assert_eq!(p.status, 403, "security does not register vendor keys");

        // Trust roots: a TSA anchor (a leaf refused, the root accepted) and a Sigstore root.
        let t = page(&app, "GET", "/trust", &sc, None, &[]).await;
        assert_eq!(t.status, 200);
        assert!(
            t.body.contains("CN=Test TSA Root,O=Tollgate Test"),
            "{}",
            t.body
        );
        let leaf = pem("acme-signer-p256.pem");
        let (s, body) = post_multipart(
            &app,
            "/trust/tsa-anchors",
            &sc,
            &[("csrf", &scsrf), ("pem", &leaf)],
            None,
        )
        .await;
        assert_eq!(s, 400, "{body}");
        assert!(body.contains("not a CA certificate"), "{body}");
        let (s, body) = post_multipart(
            &app,
            "/trust/sigstore-roots",
            &sc,
            &[("csrf", &scsrf), ("name", "public-good")],
            Some(("x.json", b"{\"not\": \"a root\"}")),
        )
        .await;
        assert_eq!(s, 400, "{body}");
        let root = sigstore_fixture("trusted_root-public-good.json");
        let (s, body) = post_multipart(
            &app,
            "/trust/sigstore-roots",
            &sc,
            &[("csrf", &scsrf), ("name", "public-good")],
            Some(("trusted_root.json", &root)),
        )
        .await;
        assert_eq!(s, 303, "{body}");
        let (_, _, roots) = call(
            &app,
            "GET",
            "/api/v1/sigstore-trusted-roots",
            Some(&a),
            None,
            &[],
        )
        .await;
        assert_eq!(roots[0]["name"], "public-good");
        let t = page(&app, "GET", "/trust", &pc, None, &[]).await;
        assert!(t.body.contains("public-good"));
        // Procurement adds no trust roots (it may retire them: RETIRERS).
        assert!(
            !t.body.contains("action=\"/trust/tsa-anchors\"")
                && !t.body.contains("action=\"/trust/sigstore-roots\""),
            "procurement sees no forms adding trust roots"
        );
        assert!(t.body.contains("/retire\""), "procurement may retire roots");
        let (s, _) = post_multipart(
            &app,
            "/trust/sigstore-roots",
            &pc,
            &[("csrf", &pcsrf), ("name", "x")],
            Some(("r.json", &root)),
        )
        .await;
        assert_eq!(s, 403);
    }
}

/// Users on the Access page: created with a generated password shown once
/// (which then signs in), the password reset (the old one and the open
/// sessions stop working), all audited.
#[actix_rt::test]
async fn admins_create_users_and_reset_passwords_on_the_access_page() {
    for db in BACKENDS {
        let h = Harness::new(db);
        let app = test::init_service(registry::app(h.state.clone())).await;
        let (c, csrf, _) = sign_in(&app, &h.admin, false).await;
        let p = page(
            &app,
            "POST",
            "/users",
            &c,
            Some(&format!("csrf={csrf}&username=ana&role=emperor")),
            &[],
        )
        .await;
        assert_eq!(p.status, 400);
        let p = page(
            &app,
            "POST",
            "/users",
            &c,
            Some("csrf=&username=ana&role=auditor"),
            &[],
        )
        .await;
        assert_eq!(p.status, 403, "CSRF");
        let p = page(
            &app,
            "POST",
            "/users",
            &c,
            Some(&format!("csrf={csrf}&username=ana&role=auditor")),
            &[],
        )
        .await;
        assert_eq!(p.status, 200, "{}", p.body);
        let pw = shown_secret(&p.body);
        assert_eq!(pw.len(), 20);
        let again = page(
            &app,
            "POST",
            "/users",
            &c,
            Some(&format!("csrf={csrf}&username=ana&role=auditor")),
            &[],
        )
        .await;
        assert_eq!(again.status, 409, "{}", again.body);
        let session = super::ui::password_session(&app, "ana", &pw).await;
        assert!(session.is_some(), "the generated password signs in");

        let p = page(
            &app,
            "POST",
            "/users/ana/password",
            &c,
            Some(&format!("csrf={csrf}")),
            &[],
        )
        .await;
        assert_eq!(p.status, 400, "the confirmation box");
        let p = page(
            &app,
            "POST",
            "/users/ana/password",
            &c,
            Some(&format!("csrf={csrf}&confirm=yes")),
            &[],
        )
        .await;
        assert_eq!(p.status, 200, "{}", p.body);
        let pw2 = shown_secret(&p.body);
        assert_ne!(pw, pw2);
        assert!(
            super::ui::password_session(&app, "ana", &pw)
                .await
                .is_none(),
            "the old password is gone"
        );
        let old = page(&app, "GET", "/", &session.unwrap(), None, &[]).await;
        assert_eq!(old.status, 303, "the open session ended");
        assert!(
            super::ui::password_session(&app, "ana", &pw2)
                .await
                .is_some()
        );
        let p = page(
            &app,
            "POST",
            "/users/nobody/password",
            &c,
            Some(&format!("csrf={csrf}&confirm=yes")),
            &[],
        )
        .await;
        assert_eq!(p.status, 404);
        let (_, _, log) = call(
            &app,
            "GET",
            "/api/v1/audit?limit=10",
            Some(&h.admin),
            None,
            &[],
        )
        .await;
        let acts: Vec<_> = log
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["entity"] == "user")
            .map(|e| e["action"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(acts, ["reset-password", "create"], "{log}");
        assert!(
            !log.to_string().contains(&pw2),
            "no password in the audit log"
        );

        let aud = h.token(Role::Auditor);
        let (ac, acsrf, _) = sign_in(&app, &aud, false).await;
        let p = page(
            &app,
            "POST",
            "/users",
            &ac,
            Some(&format!("csrf={acsrf}&username=eve&role=admin")),
            &[],
        )
        .await;
        assert_eq!(p.status, 403);
    }
}

/// Any certificate can be revoked from the pages, a leaf signer included
/// (leaves are never registered): pasted on the revocations page, shown
/// with the vendor whose CA issued it, confirmed, recorded.
#[actix_rt::test]
async fn a_leaf_signer_is_revoked_from_the_revocations_page() {
    for db in BACKENDS {
        let h = Harness::new(db);
        let app = test::init_service(registry::app(h.state.clone())).await;
        let a = h.admin.clone();
        seed_acme(&app, &a).await;
        let (_, _, before) = call(&app, "GET", "/api/v1/revocations", Some(&a), None, &[]).await;
        let sec = h.token(Role::Security);
        let (c, csrf, _) = sign_in(&app, &sec, false).await;
        let list = page(&app, "GET", "/revocations", &c, None, &[]).await;
        assert!(list.body.contains("Revoke a signer certificate"));

        let bad = format!("csrf={csrf}&pem=not+a+certificate&reason=keyCompromise");
        let p = page(&app, "POST", "/revoke", &c, Some(&bad), &[]).await;
        assert_eq!(p.status, 400, "{}", p.body);
        assert!(p.body.contains("certificate refused"), "{}", p.body);

        let leaf = pem("acme-signer-p256.pem");
        let form = format!(
            "csrf={csrf}&pem={}&reason=keyCompromise&invalidity_date=2026-08-16T00%3A00",
            super::ui::enc(&leaf)
        );
        let p = page(&app, "POST", "/revoke", &c, Some(&form), &[]).await;
        assert_eq!(p.status, 200, "{}", p.body);
        assert!(p.body.contains("This revocation affects"), "{}", p.body);
        assert!(p.body.contains("signer (leaf)"), "{}", p.body);
        assert!(
            p.body.contains("<dd>acme</dd>"),
            "the issuing vendor is named: {}",
            p.body
        );
        let (_, _, mid) = call(&app, "GET", "/api/v1/revocations", Some(&a), None, &[]).await;
        assert_eq!(mid, before, "nothing is revoked before confirming");
        let carried = super::ui::field(&p.body, "pem");
        let confirm = format!(
            "csrf={csrf}&pem={}&reason=keyCompromise&invalidity_date=2026-08-16T00%3A00%3A00Z&confirm=yes",
            super::ui::enc(&carried.replace("&#10;", "\n"))
        );
        let p = page(&app, "POST", "/revoke", &c, Some(&confirm), &[]).await;
        assert_eq!(p.status, 303, "{}", p.body);
        let (_, _, after) = call(&app, "GET", "/api/v1/revocations", Some(&a), None, &[]).await;
        let after = after.as_array().unwrap();
        assert_eq!(after.len(), before.as_array().unwrap().len() + 1);
        let r = after.last().unwrap();
        assert_eq!(
            r["subject"], "CN=Acme WiFi FW Signer P-256,O=Acme Chips",
            "{r}"
        );
        assert_eq!(r["invalidity_date"], "2026-08-16T00:00:00Z");

        let aud = h.token(Role::Auditor);
        let (ac, acsrf, _) = sign_in(&app, &aud, false).await;
        let list = page(&app, "GET", "/revocations", &ac, None, &[]).await;
        assert!(!list.body.contains("Revoke a signer certificate"));
        let p = page(
            &app,
            "POST",
            "/revoke",
            &ac,
            Some(&form.replace(&csrf, &acsrf)),
            &[],
        )
        .await;
        assert_eq!(p.status, 403);
    }
}

/// The command line revokes and imports CRLs through the same service
/// functions: audited as the local operator, refused by the brick check
/// unless confirmed, refused with the reason on bad input.
#[actix_rt::test]
async fn the_command_line_revokes_and_imports_crls_through_the_service() {
    for db in BACKENDS {
        let h = Harness::new(db);
        let app = test::init_service(registry::app(h.state.clone())).await;
        let a = h.admin.clone();
        seed_acme(&app, &a).await;
        let certs = fixtures().join("certs");
        let path = |f: &str| certs.join(f).display().to_string();
        let count = || async {
            let (_, _, r) = call(&app, "GET", "/api/v1/revocations", Some(&a), None, &[]).await;
            r.as_array().unwrap().len()
        };
        let n0 = count().await;
        let cli = |args: &[&str]| registry_cli(&h.url, args);
        let (code, _, err) = cli(&[
            "revoke",
            "--certificate",
            &path("acme-signer-p256.pem"),
            "--reason",
            "sometimes",
        ]);
        assert_eq!(code, Some(2));
        assert!(err.contains("reason 'sometimes' is not one of"), "{err}");
        let (code, out, err) = cli(&[
            "revoke",
            "--certificate",
            &path("acme-signer-p256.pem"),
            "--reason",
            "keyCompromise",
        ]);
        assert_eq!(code, Some(0), "{err}");
        assert!(
            out.contains("revoked: CN=Acme WiFi FW Signer P-256"),
            "{out}"
        );
        assert_eq!(count().await, n0 + 1);
        let (code, out, err) = cli(&["import-crl", "--crl", &path("acme-int.crl.pem")]);
        assert_eq!(code, Some(0), "{err}");
        assert!(out.contains("1 new revocations"), "{out}");
        assert_eq!(count().await, n0 + 2);
        let (_, _, log) = call(&app, "GET", "/api/v1/audit?limit=2", Some(&a), None, &[]).await;
        assert!(
            log.as_array()
                .unwrap()
                .iter()
                .all(|e| e["actor"].as_str().unwrap().starts_with("local operator")),
            "{log}"
        );

        // The brick check: the root's CRL would leave the ROM without a key.
        seed_p256_rom(&app, &a).await;
        let (code, _, err) = cli(&[
            "revoke",
            "--certificate",
            &path("acme-int.pem"),
            "--reason",
            "superseded",
        ]);
        assert_eq!(code, Some(0), "{err}");
        let n1 = count().await;
        let (code, _, err) = cli(&["import-crl", "--crl", &path("acme-root.crl.pem")]);
        assert_eq!(code, Some(2));
        assert!(
            err.contains("brick check") && err.contains("gw-100"),
            "{err}"
        );
        assert_eq!(count().await, n1, "a refused import changes nothing");
        let (code, _, err) = cli(&[
            "import-crl",
            "--crl",
            &path("acme-root.crl.pem"),
            "--confirm-brick",
        ]);
        assert_eq!(code, Some(0), "{err}");
        assert_eq!(count().await, n1 + 1);
    }
}

/// Station keys on the access page: register (bound to an inspector
/// token), refused without CSRF or with a bad key, retire only with the
/// confirmation box; both backends.
#[actix_rt::test]
async fn station_keys_are_registered_and_retired_on_the_access_page() {
    for db in BACKENDS {
        let h = Harness::new(db);
        let app = test::init_service(registry::app(h.state.clone())).await;
        let a = h.admin.clone();
        let (_, _, t) = call(
            &app,
            "POST",
            "/api/v1/tokens",
            Some(&a),
            Some(json!({"name": "line-5", "role": "inspector"})),
            &[],
        )
        .await;
        let key = p256::ecdsa::SigningKey::from_slice(&[5u8; 32]).unwrap();
        let public = ::pem::encode_config(
            &::pem::Pem::new("PUBLIC KEY", inspector::dsse::public_spki(&key).unwrap()),
            ::pem::EncodeConfig::new().set_line_ending(::pem::LineEnding::LF),
        );
        let (cookie, csrf, _) = sign_in(&app, &a, false).await;
        let p = page(&app, "GET", "/tokens", &cookie, None, &[]).await;
        assert!(
            p.body.contains("Station keys") && p.body.contains(&format!("{}: line-5", t["id"])),
            "{}",
            p.body
        );
        let form = |csrf: &str, pem: &str| {
            format!(
                "csrf={csrf}&name=line-5&token_id={}&public_key_pem={}",
                t["id"],
                super::ui::enc(pem)
            )
        };
        let p = page(
            &app,
            "POST",
            "/stations",
            &cookie,
            Some(&form("wrong", &public)),
            &[],
        )
        .await;
        assert_eq!(p.status, 403, "no CSRF token, no change");
        let p = page(
            &app,
            "POST",
            "/stations",
            &cookie,
            Some(&form(&csrf, &pem("acme-root.pem"))),
            &[],
        )
        .await;
        assert_eq!(p.status, 400, "{}", p.body);
        assert!(p.body.contains("PUBLIC KEY"), "{}", p.body);
        let p = page(
            &app,
            "POST",
            "/stations",
            &cookie,
            Some(&form(&csrf, &public)),
            &[],
        )
        .await;
        assert_eq!(p.status, 303, "{}", p.body);
        let (_, _, list) = call(&app, "GET", "/api/v1/stations", Some(&a), None, &[]).await;
        assert_eq!(list[0]["name"], "line-5", "{list}");
        assert_eq!(
            list[0]["keyid"],
            inspector::dsse::keyid(&inspector::dsse::public_spki(&key).unwrap())
        );
        let id = list[0]["id"].as_i64().unwrap();
        let p = page(
            &app,
            "POST",
            &format!("/stations/{id}/retire"),
            &cookie,
            Some(&format!("csrf={csrf}&reason=replaced")),
            &[],
        )
        .await;
        assert_eq!(p.status, 400, "the confirmation box is required");
        let p = page(
            &app,
            "POST",
            &format!("/stations/{id}/retire"),
            &cookie,
            Some(&format!("csrf={csrf}&reason=replaced&confirm=yes")),
            &[],
        )
        .await;
        assert_eq!(p.status, 303, "{}", p.body);
        let p = page(&app, "GET", "/tokens", &cookie, None, &[]).await;
        assert!(
            p.body.contains("retired") && p.body.contains("replaced"),
            "{}",
            p.body
        );
        // Not for other roles.
        let (c2, _, _) = sign_in(&app, &h.token(Role::Security), false).await;
        let p = page(
            &app,
            "POST",
            "/stations",
            &c2,
            Some(&form("x", &public)),
            &[],
        )
        .await;
        assert!(p.status == 403, "{}", p.status);
    }
}
