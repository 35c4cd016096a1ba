//! The web pages through actix's test server (both backends): sign-in,
//! roles, CSRF, escaping, forms. The real-browser flow is tests/browser.

use super::*;
use registry::auth::Role;

pub struct Page {
    pub status: u16,
    pub location: Option<String>,
    pub cookies: Vec<String>,
    pub body: String,
}

pub async fn page<S, B>(
    app: &S,
    method: &str,
    uri: &str,
    cookie: &str,
    form: Option<&str>,
    extra: &[(&str, &str)],
) -> Page
where
    S: actix_web::dev::Service<
            actix_http::Request,
            Response = actix_web::dev::ServiceResponse<B>,
            Error = actix_web::Error,
        >,
    B: actix_web::body::MessageBody,
{
    let mut req = if method == "POST" {
        test::TestRequest::post()
    } else {
        test::TestRequest::get()
    }
    .uri(uri);
    if !cookie.is_empty() {
        req = req.insert_header(("Cookie", cookie.to_string()));
    }
    for (k, v) in extra {
        req = req.insert_header((*k, *v));
    }
    if let Some(f) = form {
        req = req
            .insert_header(("Content-Type", "application/x-www-form-urlencoded"))
            .set_payload(f.to_string());
    }
    let resp = test::call_service(app, req.to_request()).await;
    let status = resp.status().as_u16();
    let location = resp
        .headers()
        .get("location")
        .map(|l| l.to_str().unwrap().to_string());
    let cookies = resp
        .headers()
        .get_all("set-cookie")
        .map(|c| c.to_str().unwrap().to_string())
        .collect();
    let body = String::from_utf8_lossy(&test::read_body(resp).await).into_owned();
    Page {
        status,
        location,
        cookies,
        body,
    }
}

pub fn field(body: &str, name: &str) -> String {
    let key = format!("name=\"{name}\" value=\"");
    let i = body
        .find(&key)
        .unwrap_or_else(|| panic!("no field {name} in {body}"))
        + key.len();
    body[i..].split('"').next().unwrap().to_string()
}

pub fn enc(s: &str) -> String {
    serde_urlencoded::to_string([("x", s)])
        .unwrap()
        .trim_start_matches("x=")
        .to_string()
}

/// Signs in with a token; returns the session cookie header and the CSRF token.
pub async fn sign_in<S, B>(app: &S, token: &str, secure: bool) -> (String, String, Vec<String>)
where
    S: actix_web::dev::Service<
            actix_http::Request,
            Response = actix_web::dev::ServiceResponse<B>,
            Error = actix_web::Error,
        >,
    B: actix_web::body::MessageBody,
{
    let extra: &[(&str, &str)] = if secure {
        &[("X-Forwarded-Proto", "https")]
    } else {
        &[]
    };
    let login = page(app, "GET", "/login?next=/vendors", "", None, extra).await;
    assert_eq!(login.status, 200);
    let pre = login
        .cookies
        .iter()
        .find(|c| c.starts_with("tollgate_login="))
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let csrf = field(&login.body, "csrf");
    let done = page(
        app,
        "POST",
        "/login",
        &pre,
        Some(&format!("csrf={csrf}&next=%2Fvendors&token={}", enc(token))),
        extra,
    )
    .await;
    assert_eq!(done.status, 303, "{}", done.body);
    assert_eq!(done.location.as_deref(), Some("/vendors"));
    let session = done
        .cookies
        .iter()
        .find(|c| c.starts_with("tollgate_session="))
        .unwrap()
        .clone();
    let cookie = session.split(';').next().unwrap().to_string();
    let dash = page(app, "GET", "/", &cookie, None, &[]).await;
    let csrf = field(&dash.body, "csrf");
    (cookie, csrf, done.cookies)
}

#[actix_rt::test]
async fn pages_require_sign_in_and_set_safe_cookies() {
    let h = Harness::new(Db::Sqlite);
    let app = test::init_service(registry::app(h.state.clone())).await;
    let p = page(&app, "GET", "/vendors?q=a", "", None, &[]).await;
    assert_eq!(p.status, 303);
    assert_eq!(
        p.location.as_deref(),
        Some("/login?next=%2Fvendors%3Fq%3Da")
    );
    // A sign-in form posted without its CSRF cookie is refused.
    let login = page(&app, "GET", "/login", "", None, &[]).await;
    let csrf = field(&login.body, "csrf");
    let p = page(
        &app,
        "POST",
        "/login",
        "",
        Some(&format!("csrf={csrf}&token={}", enc(&h.admin))),
        &[],
    )
    .await;
    assert_eq!(p.status, 403);
    // Wrong credentials: 401 with a message, no session.
    let pre = login.cookies[0].split(';').next().unwrap().to_string();
    let p = page(
        &app,
        "POST",
        "/login",
        &pre,
        Some(&format!("csrf={csrf}&token=tg_wrong")),
        &[],
    )
    .await;
    assert_eq!(p.status, 401);
    assert!(p.body.contains("Unknown user name or password"));
    assert!(!p.cookies.iter().any(|c| c.starts_with("tollgate_session=")));
    // Over TLS (behind a proxy) the session cookie is Secure; always HttpOnly and SameSite=Strict.
    let (_, _, cookies) = sign_in(&app, &h.admin, true).await;
    let s = cookies
        .iter()
        .find(|c| c.starts_with("tollgate_session="))
        .unwrap();
    assert!(
        s.contains("HttpOnly") && s.contains("SameSite=Strict") && s.contains("Secure"),
        "{s}"
    );
    let (_, _, cookies) = sign_in(&app, &h.admin, false).await;
    let s = cookies
        .iter()
        .find(|c| c.starts_with("tollgate_session="))
        .unwrap();
    assert!(
        s.contains("HttpOnly") && s.contains("SameSite=Strict") && !s.contains("Secure"),
        "{s}"
    );
    // An open redirect through ?next is not possible.
    let login = page(&app, "GET", "/login?next=//evil.example/x", "", None, &[]).await;
    assert!(login.body.contains("name=\"next\" value=\"/\""));
    // Sign-out needs the CSRF token and ends the session.
    let (cookie, csrf, _) = sign_in(&app, &h.admin, false).await;
    assert_eq!(
        page(&app, "POST", "/logout", &cookie, Some("csrf=forged"), &[])
            .await
            .status,
        403
    );
    assert_eq!(
        page(
            &app,
            "POST",
            "/logout",
            &cookie,
            Some(&format!("csrf={csrf}")),
            &[]
        )
        .await
        .status,
        303
    );
    assert_eq!(page(&app, "GET", "/", &cookie, None, &[]).await.status, 303);
}

#[actix_rt::test]
async fn password_sign_in_works_and_wrong_passwords_do_not() {
    for db in BACKENDS {
        let h = Harness::new(db);
        {
            let mut conn = h.state.pool.get().unwrap();
            registry::service::users::create(
                &mut conn,
                &registry::service::Actor::local("test"),
                "ana",
                "correct horse battery staple",
                Role::Procurement,
            )
            .unwrap();
            assert!(
                registry::service::users::create(
                    &mut conn,
                    &registry::service::Actor::local("test"),
                    "bob",
                    "short",
                    Role::Auditor
                )
                .is_err()
            );
        }
        let app = test::init_service(registry::app(h.state.clone())).await;
        for (user, pw, ok) in [
            ("ana", "correct horse battery staple", true),
            ("ana", "wrong horse battery staple", false),
            ("nobody", "correct horse battery staple", false),
        ] {
            let login = page(&app, "GET", "/login", "", None, &[]).await;
            let pre = login.cookies[0].split(';').next().unwrap().to_string();
            let csrf = field(&login.body, "csrf");
            let p = page(
                &app,
                "POST",
                "/login",
                &pre,
                Some(&format!("csrf={csrf}&username={user}&password={}", enc(pw))),
                &[],
            )
            .await;
            assert_eq!(p.status == 303, ok, "{db:?} {user}/{pw}: {}", p.status);
        }
    }
}

#[actix_rt::test]
async fn forms_follow_roles_csrf_and_escape_everything() {
    for db in BACKENDS {
        let h = Harness::new(db);
        let app = test::init_service(registry::app(h.state.clone())).await;
        let procurement = h.token(Role::Procurement);
        let security = h.token(Role::Security);
        let auditor = h.token(Role::Auditor);
        let (pc, pcsrf, _) = sign_in(&app, &procurement, false).await;
        // Create a vendor whose name is a script: it shows as text.
        let form = format!(
            "csrf={pcsrf}&id=evil&name={}&contract_ref=C-1&contract_expires=2026-12-31&security_contact=psirt%40evil.example&sha256=1&min_rsa_bits=2048",
            enc("<script>alert(1)</script>")
        );
        let p = page(&app, "POST", "/vendors/new", &pc, Some(&form), &[]).await;
        assert_eq!(p.status, 303, "{db:?} {}", p.body);
        assert_eq!(
            p.location
                .as_deref()
                .map(|l| l.starts_with("/vendors/evil?done=")),
            Some(true)
        );
        let v = page(&app, "GET", "/vendors/evil", &pc, None, &[]).await;
        assert_eq!(v.status, 200);
        assert!(
            v.body.contains("&#60;script&#62;alert(1)&#60;/script&#62;")
                || v.body.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
            "{}",
            v.body
        );
        assert!(!v.body.contains("<script>alert(1)"));
        let list = page(&app, "GET", "/vendors?q=evil", &pc, None, &[]).await;
        assert!(!list.body.contains("<script>alert(1)"));
        // The contract (expiring 2026-12-31, so within 90 days of any run
        // from 2026-10-02 on) is listed on the dashboard, escaped.
        let dash = page(&app, "GET", "/", &pc, None, &[]).await;
        assert_eq!(dash.status, 200);
        assert!(dash.body.contains("<td>C-1</td>"), "{}", dash.body);
        assert!(!dash.body.contains("<script>alert(1)"));
        // Bad input is refused with the form shown again and a specific message.
        let bad = format!("csrf={pcsrf}&id=Bad%20Id&name=x&min_rsa_bits=2048&sha256=1");
        let p = page(&app, "POST", "/vendors/new", &pc, Some(&bad), &[]).await;
        assert_eq!(p.status, 400);
        assert!(
            p.body.contains("must be 1-64 lowercase letters"),
            "{}",
            p.body
        );
        // A forged form without the CSRF token is refused and changes nothing.
        let forged = "id=forged&name=Forged&min_rsa_bits=2048&sha256=1";
        assert_eq!(
            page(&app, "POST", "/vendors/new", &pc, Some(forged), &[])
                .await
                .status,
            403
        );
        assert_eq!(
            page(&app, "GET", "/vendors/forged", &pc, None, &[])
                .await
                .status,
            404
        );
        // Component authorisation through the form.
        let p = page(
            &app,
            "POST",
            "/vendors/evil/components",
            &pc,
            Some(&format!("csrf={pcsrf}&name=evil-fw&min_version=1.0.0")),
            &[],
        )
        .await;
        assert_eq!(p.status, 303, "{}", p.body);
        // Procurement cannot change floors; security can, and must give a reason to lower.
        let p = page(
            &app,
            "POST",
            "/components/evil-fw/floor",
            &pc,
            Some(&format!("csrf={pcsrf}&min_version=2.0.0&version=1")),
            &[],
        )
        .await;
        assert_eq!(p.status, 403);
        let (sc, scsrf, _) = sign_in(&app, &security, false).await;
        let p = page(
            &app,
            "POST",
            "/components/evil-fw/floor",
            &sc,
            Some(&format!("csrf={scsrf}&min_version=0.5.0&version=1")),
            &[],
        )
        .await;
        assert_eq!(p.status, 400);
        assert!(p.body.contains("give a reason"), "{}", p.body);
        let p = page(
            &app,
            "POST",
            "/components/evil-fw/floor",
            &sc,
            Some(&format!("csrf={scsrf}&min_version=2.0.0&version=1")),
            &[],
        )
        .await;
        assert_eq!(p.status, 303, "{}", p.body);
        // The auditor sees the records but no form, and is refused if it posts one.
        let (ac, acsrf, _) = sign_in(&app, &auditor, false).await;
        let v = page(&app, "GET", "/vendors/evil", &ac, None, &[]).await;
        assert_eq!(v.status, 200);
        assert_eq!(
            v.body.matches("<form method=\"post\"").count(),
            1,
            "only the sign-out form: {}",
            v.body
        );
        assert!(
            !page(&app, "GET", "/vendors", &ac, None, &[])
                .await
                .body
                .contains("New vendor")
        );
        assert_eq!(
            page(
                &app,
                "POST",
                "/vendors/new",
                &ac,
                Some(&format!(
                    "csrf={acsrf}&id=aud&name=x&min_rsa_bits=2048&sha256=1"
                )),
                &[]
            )
            .await
            .status,
            403
        );
        assert_eq!(
            page(&app, "GET", "/vendors/new", &ac, None, &[])
                .await
                .status,
            403
        );
        assert_eq!(
            page(&app, "GET", "/audit", &ac, None, &[]).await.status,
            200
        );
        // An inspector may not read the audit log.
        let inspector = h.token(Role::Inspector);
        let (ic, _, _) = sign_in(&app, &inspector, false).await;
        assert_eq!(
            page(&app, "GET", "/audit", &ic, None, &[]).await.status,
            403
        );
        // The audit page shows the chain verified, and who did what.
        let a = page(&app, "GET", "/audit", &sc, None, &[]).await;
        assert!(a.body.contains("Hash chain verified"), "{}", a.body);
        assert!(a.body.contains("(security, web)"));
        // Trust-bundle page and download.
        let b = page(&app, "GET", "/trust-bundle", &ac, None, &[]).await;
        assert!(b.body.contains("Serial"));
        let d = page(&app, "GET", "/trust-bundle/download", &ac, None, &[]).await;
        assert!(d.body.contains("tollgate-trust-bundle"));
        // Pages carry a strict Content-Security-Policy and the one stylesheet.
        let css = page(&app, "GET", "/static/style.css", "", None, &[]).await;
        assert_eq!(css.status, 200);
        assert!(
            !css.body.contains("http"),
            "no external resources in the stylesheet"
        );
    }
}

pub fn multipart(fields: &[(&str, &str)], file: Option<(&str, &[u8])>) -> (String, Vec<u8>) {
    let boundary = "----tollgate-test-boundary";
    let mut body = Vec::new();
    for (k, v) in fields {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n")
                .as_bytes(),
        );
    }
    if let Some((name, data)) = file {
        body.extend_from_slice(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: application/octet-stream\r\n\r\n").as_bytes());
        body.extend_from_slice(data);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

#[actix_rt::test]
async fn certificate_upload_gives_specific_feedback_and_revocation_needs_confirmation() {
    for db in BACKENDS {
        let h = Harness::new(db);
        let app = test::init_service(registry::app(h.state.clone())).await;
        seed_acme(&app, &h.admin).await;
        let (c, csrf, _) = sign_in(&app, &h.admin, false).await;
        let upload = |fields: Vec<(&'static str, String)>,
                      file: Option<(&'static str, Vec<u8>)>| {
            let f: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let (ct, body) = multipart(&f, file.as_ref().map(|(n, d)| (*n, d.as_slice())));
            test::TestRequest::post()
                .uri("/vendors/acme/certificates")
                .insert_header(("Cookie", c.clone()))
                .insert_header(("Content-Type", ct))
                .set_payload(body)
                .to_request()
        };
        // A leaf offered as anchor: refused, with the reason on the page.
        let resp = test::call_service(
            &app,
            upload(
                vec![("csrf", csrf.clone()), ("role", "anchor".into())],
                Some(("leaf.pem", pem("acme-signer-p256.pem").into_bytes())),
            ),
        )
        .await;
        assert_eq!(resp.status().as_u16(), 400);
        let body = String::from_utf8_lossy(&test::read_body(resp).await).into_owned();
        assert!(body.contains("is not a CA certificate"), "{body}");
        // A DER file of a real CA is accepted.
        let der = ::pem::parse(pem("globex-root.pem"))
            .unwrap()
            .into_contents();
        let resp = test::call_service(
            &app,
            upload(
                vec![("csrf", csrf.clone()), ("role", "anchor".into())],
                Some(("globex.der", der)),
            ),
        )
        .await;
        assert_eq!(resp.status().as_u16(), 303);
        let v = page(&app, "GET", "/vendors/acme", &c, None, &[]).await;
        assert!(v.body.contains("CN=Globex Root CA,O=Globex Radio"));
        // The upload flags a key a product's boot stage cannot verify.
        let product = serde_json::json!({"id": "gw-1", "name": "GW", "stages": [{"name": "rom", "algorithms": ["ecdsa-p256"], "components": ["acme-wifi-fw"]}]});
        assert_eq!(
            call(
                &app,
                "POST",
                "/api/v1/products",
                Some(&h.admin),
                Some(product),
                &[]
            )
            .await
            .0,
            201
        );
        let resp = test::call_service(
            &app,
            upload(
                vec![
                    ("csrf", csrf.clone()),
                    ("role", "intermediate".into()),
                    ("pem", pem("acme-rsa-ca.pem")),
                ],
                None,
            ),
        )
        .await;
        assert_eq!(resp.status().as_u16(), 303);
        let to = resp
            .headers()
            .get("location")
            .unwrap()
            .to_str()
            .unwrap()
            .to_string();
        let v = page(&app, "GET", &to, &c, None, &[]).await;
        assert!(
            v.body.contains("Capability warning:")
                && v.body
                    .contains("verifies ecdsa-p256 and cannot verify this RSA-2048 key"),
            "{}",
            v.body
        );
        // Without a CSRF token: refused.
        let resp = test::call_service(
            &app,
            upload(
                vec![("role", "anchor".into()), ("pem", pem("tsa-root.pem"))],
                None,
            ),
        )
        .await;
        assert_eq!(resp.status().as_u16(), 403);

        // Revocation: form → confirmation listing what it affects → done.
        let certs: serde_json::Value = call(
            &app,
            "GET",
            "/api/v1/vendors/acme/certificates",
            Some(&h.admin),
            None,
            &[],
        )
        .await
        .2;
        let int_id = certs
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["role"] == "intermediate")
            .unwrap()["id"]
            .as_i64()
            .unwrap();
        let form = page(
            &app,
            "GET",
            &format!("/revoke?certificate={int_id}"),
            &c,
            None,
            &[],
        )
        .await;
        assert_eq!(form.status, 200);
        let confirm = page(&app, "POST", "/revoke", &c, Some(&format!("csrf={csrf}&certificate={int_id}&reason=keyCompromise&invalidity_date=2026-08-16T00%3A00")), &[]).await;
        assert_eq!(confirm.status, 200);
        assert!(
            confirm.body.contains("This revocation affects")
                && confirm.body.contains("acme-wifi-fw"),
            "{}",
            confirm.body
        );
        assert!(confirm.body.contains("2026-08-16T00:00:00Z"));
        // Nothing is revoked until confirmed.
        let before = call(
            &app,
            "GET",
            "/api/v1/revocations",
            Some(&h.admin),
            None,
            &[],
        )
        .await
        .2
        .as_array()
        .unwrap()
        .len();
        assert_eq!(before, 1);
        let done = page(&app, "POST", "/revoke", &c, Some(&format!("csrf={csrf}&certificate={int_id}&reason=keyCompromise&invalidity_date=2026-08-16T00%3A00%3A00Z&confirm=yes")), &[]).await;
        assert_eq!(done.status, 303, "{}", done.body);
        let after = call(
            &app,
            "GET",
            "/api/v1/revocations",
            Some(&h.admin),
            None,
            &[],
        )
        .await
        .2;
        assert_eq!(after.as_array().unwrap().len(), 2);
        assert_eq!(after[1]["invalidity_date"], "2026-08-16T00:00:00Z");
        let v = page(&app, "GET", "/vendors/acme", &c, None, &[]).await;
        assert!(v.body.contains(">revoked<"), "{}", v.body);
    }
}

#[actix_rt::test]
async fn receipts_pages_filter_and_show_every_check() {
    let h = Harness::new(Db::Postgres);
    let app = test::init_service(registry::app(h.state.clone())).await;
    seed_acme(&app, &h.admin).await;
    // A real report from the verification core, recorded through the API.
    let p = {
        let json = std::fs::read(fixtures().join("trust.json")).unwrap();
        struct Files;
        impl inspector::policy::CertificateSource for Files {
            fn load(&mut self, r: &str) -> Result<Vec<u8>, String> {
                std::fs::read(fixtures().join(r)).map_err(|e| e.to_string())
            }
        }
        inspector::TrustPolicy::from_json(&json, &mut Files).unwrap()
    };
    let limits = inspector::Limits::default();
    let sig = std::fs::read(fixtures().join("sigs/expired-nots.der")).unwrap();
    let mut blob = std::fs::File::open(fixtures().join("blobs/fw.bin")).unwrap();
    let req = inspector::VerifyRequest {
        policy: &p,
        vendor: "acme",
        component: "acme-wifi-fw",
        version: "1.5.0",
        signature: &sig,
        time: time::OffsetDateTime::parse(
            "2026-10-01T00:00:00Z",
            &time::format_description::well_known::Rfc3339,
        )
        .unwrap(),
        limits: &limits,
        cache: None,
        existed_at: None,
    };
    let report = inspector::verify_cms(&req, &mut blob).unwrap();
    let (s, _, r) = call(&app, "POST", "/api/v1/receipts", Some(&h.admin), Some(serde_json::json!({"station": "st-9", "lot": "L-7", "bundle_serial": 3, "report": report, "signature": base64::Engine::encode(&base64::engine::general_purpose::STANDARD, &sig)})), &[]).await;
    assert_eq!(s, 201);
    assert_eq!(r["registry_verdict"], "reject", "{r}");
    assert_eq!(r["disagreement"], false, "{r}");
    let id = r["id"].as_i64().unwrap();
    let (c, _, _) = sign_in(&app, &h.token(Role::Auditor), false).await;
    let list = page(
        &app,
        "GET",
        "/receipts?verdict=reject&lot=L-7",
        &c,
        None,
        &[],
    )
    .await;
    assert!(
        list.body.contains("st-9") && list.body.contains("expired 2026-03-01"),
        "{}",
        list.body
    );
    let none = page(
        &app,
        "GET",
        "/receipts?verdict=accept&lot=L-7",
        &c,
        None,
        &[],
    )
    .await;
    assert!(none.body.contains("No receipt matches"));
    let detail = page(&app, "GET", &format!("/receipts/{id}"), &c, None, &[]).await;
    for check in [
        "component",
        "version-floor",
        "format",
        "signature",
        "chain",
        "revocation",
    ] {
        assert!(
            detail.body.contains(&format!("<td>{check}</td>")),
            "{check} missing: {}",
            detail.body
        );
    }
    assert!(
        detail
            .body
            .contains("no trusted timestamp proves it signed before 2026-03-01")
    );
    let dash = page(&app, "GET", "/", &c, None, &[]).await;
    assert!(
        dash.body.contains("1 rejected") || dash.body.contains("1 in all"),
        "{}",
        dash.body
    );
    assert!(dash.body.contains("Latest rejections") && dash.body.contains("acme / acme-wifi-fw"));
}

#[actix_rt::test]
async fn product_pages_show_stages_capability_and_signed_exports() {
    let h = Harness::new(Db::Sqlite);
    let app = test::init_service(registry::app(h.state.clone())).await;
    seed_acme(&app, &h.admin).await;
    let product = serde_json::json!({"id": "gw-1", "name": "Gateway <1>", "stages": [{"name": "rom", "algorithms": ["ecdsa-p256"], "components": ["acme-wifi-fw"]}]});
    assert_eq!(
        call(
            &app,
            "POST",
            "/api/v1/products",
            Some(&h.admin),
            Some(product),
            &[]
        )
        .await
        .0,
        201
    );
    let (c, _, _) = sign_in(&app, &h.token(Role::Auditor), false).await;
    let list = page(&app, "GET", "/products", &c, None, &[]).await;
    assert!(
        list.body.contains("Gateway &#60;1&#62;") || list.body.contains("Gateway &lt;1&gt;"),
        "{}",
        list.body
    );
    let p = page(&app, "GET", "/products/gw-1", &c, None, &[]).await;
    assert_eq!(p.status, 200);
    assert!(
        p.body.contains("CN=Acme Firmware Signing CA 1"),
        "the P-256 intermediate is trusted by the ROM"
    );
    assert!(
        p.body.contains("Keys this stage cannot verify")
            && p.body.contains("cannot verify ecdsa-p384 keys"),
        "{}",
        p.body
    );
    let e = page(
        &app,
        "GET",
        "/products/gw-1/export?format=c-header",
        &c,
        None,
        &[],
    )
    .await;
    assert_eq!(e.status, 200);
    assert!(e.body.contains("#ifndef TOLLGATE_ALLOWLIST_GW_1_H"));
    let s = page(
        &app,
        "GET",
        "/products/gw-1/export?format=c-header&signature=1",
        &c,
        None,
        &[],
    )
    .await;
    assert_eq!(s.status, 200);
    assert_eq!(
        page(&app, "GET", "/products/none", &c, None, &[])
            .await
            .status,
        404
    );
}

#[actix_rt::test]
async fn admins_manage_tokens_on_a_page_and_revocation_ends_web_sessions() {
    for db in BACKENDS {
        let h = Harness::new(db);
        let app = test::init_service(registry::app(h.state.clone())).await;
        let security = h.token(Role::Security);
        let (sec_cookie, sec_csrf, _) = sign_in(&app, &security, false).await;
        let p = page(&app, "GET", "/tokens", &sec_cookie, None, &[]).await;
        assert_eq!(p.status, 403, "{db:?}");
        let dash = page(&app, "GET", "/", &sec_cookie, None, &[]).await;
        assert!(!dash.body.contains("href=\"/tokens\""));
        let p = page(
            &app,
            "POST",
            "/tokens",
            &sec_cookie,
            Some(&format!("csrf={sec_csrf}&name=x&role=admin")),
            &[],
        )
        .await;
        assert_eq!(p.status, 403);

        let (cookie, csrf, _) = sign_in(&app, &h.admin, false).await;
        let p = page(&app, "GET", "/tokens", &cookie, None, &[]).await;
        assert_eq!(p.status, 200);
        assert!(p.body.contains("href=\"/tokens\" aria-current=\"page\""));
        assert!(p.body.contains("test-admin") && p.body.contains("test-security"));
        assert!(!p.body.contains(&h.admin), "a stored secret is never shown");

        // Create: the secret is shown once, in the response; escaping holds.
        let form = format!(
            "csrf={csrf}&name={}&role=inspector",
            enc("<b>station-9</b>")
        );
        let p = page(&app, "POST", "/tokens", &cookie, Some(&form), &[]).await;
        assert_eq!(p.status, 200, "{}", p.body);
        assert!(!p.body.contains("<b>station-9"), "{}", p.body);
        assert!(
            p.body.contains("station-9&lt;/b&gt;") || p.body.contains("station-9&#60;/b&#62;"),
            "{}",
            p.body
        );
        let i = p.body.find("readonly value=\"tg_").unwrap() + 16;
        let secret = p.body[i..].split('"').next().unwrap().to_string();
        assert!(secret.starts_with("tg_"), "{secret}");
        assert_eq!(
            call(&app, "GET", "/api/v1/vendors", Some(&secret), None, &[])
                .await
                .0,
            200
        );
        let again = page(&app, "GET", "/tokens", &cookie, None, &[]).await;
        assert!(!again.body.contains(&secret));
        // Forged (no CSRF) and bad input are refused.
        let p = page(
            &app,
            "POST",
            "/tokens",
            &cookie,
            Some("name=x&role=admin"),
            &[],
        )
        .await;
        assert_eq!(p.status, 403);
        let p = page(
            &app,
            "POST",
            "/tokens",
            &cookie,
            Some(&format!("csrf={csrf}&name=x&role=superuser")),
            &[],
        )
        .await;
        assert_eq!(p.status, 400);
        assert!(p.body.contains("is not a role"));

        // The new token signs in on the web; revoking it ends that session.
        let (st_cookie, _, _) = sign_in(&app, &secret, false).await;
        assert_eq!(
            page(&app, "GET", "/vendors", &st_cookie, None, &[])
                .await
                .status,
            200
        );
        let (_, _, list) = call(&app, "GET", "/api/v1/tokens", Some(&h.admin), None, &[]).await;
        let id = list
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["name"] == "<b>station-9</b>")
            .unwrap()["id"]
            .as_i64()
            .unwrap();
        let uri = format!("/tokens/{id}/revoke");
        let p = page(
            &app,
            "POST",
            &uri,
            &cookie,
            Some(&format!("csrf={csrf}")),
            &[],
        )
        .await;
        assert_eq!(p.status, 400, "revocation needs the confirmation box");
        let p = page(&app, "POST", &uri, &cookie, Some("confirm=yes"), &[]).await;
        assert_eq!(p.status, 403, "a revocation without the CSRF token");
        assert_eq!(
            call(&app, "GET", "/api/v1/vendors", Some(&secret), None, &[])
                .await
                .0,
            200
        );
        let p = page(
            &app,
            "POST",
            &uri,
            &cookie,
            Some(&format!("csrf={csrf}&confirm=yes")),
            &[],
        )
        .await;
        assert_eq!(p.status, 303, "{}", p.body);
        let done = page(
            &app,
            "GET",
            p.location.as_deref().unwrap(),
            &cookie,
            None,
            &[],
        )
        .await;
        assert!(done.body.contains("is revoked"), "{}", done.body);
        assert!(done.body.contains("status revoked"));
        assert_eq!(
            call(&app, "GET", "/api/v1/vendors", Some(&secret), None, &[])
                .await
                .0,
            401
        );
        let p = page(&app, "GET", "/vendors", &st_cookie, None, &[]).await;
        assert_eq!(p.status, 303, "the revoked token's web session must end");
        // The security user's session (another token) is untouched.
        assert_eq!(
            page(&app, "GET", "/vendors", &sec_cookie, None, &[])
                .await
                .status,
            200
        );

        // The last admin token is kept, with the reason on the page.
        let aid = list
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["name"] == "test-admin")
            .unwrap()["id"]
            .as_i64()
            .unwrap();
        let p = page(
            &app,
            "POST",
            &format!("/tokens/{aid}/revoke"),
            &cookie,
            Some(&format!("csrf={csrf}&confirm=yes")),
            &[],
        )
        .await;
        assert_eq!(p.status, 409);
        assert!(p.body.contains("last working admin token"));
    }
}

/// Signs in with a user name and password; the session cookie, if accepted.
pub async fn password_session<S, B>(app: &S, user: &str, pw: &str) -> Option<String>
where
    S: actix_web::dev::Service<
            actix_http::Request,
            Response = actix_web::dev::ServiceResponse<B>,
            Error = actix_web::Error,
        >,
    B: actix_web::body::MessageBody,
{
    let login = page(app, "GET", "/login", "", None, &[]).await;
    let pre = login.cookies[0].split(';').next().unwrap().to_string();
    let csrf = field(&login.body, "csrf");
    let form = format!("csrf={csrf}&username={}&password={}", enc(user), enc(pw));
    let p = page(app, "POST", "/login", &pre, Some(&form), &[]).await;
    (p.status == 303).then(|| {
        p.cookies
            .iter()
            .find(|c| c.starts_with("tollgate_session="))
            .unwrap()
            .split(';')
            .next()
            .unwrap()
            .to_string()
    })
}

#[actix_rt::test]
async fn admins_disable_users_whose_sessions_end_and_enable_them_again() {
    const PW: &str = "correct horse battery staple";
    for db in BACKENDS {
        let h = Harness::new(db);
        {
            let mut conn = h.state.pool.get().unwrap();
            for (u, r) in [("ana", Role::Procurement), ("ada", Role::Admin)] {
                registry::service::users::create(
                    &mut conn,
                    &registry::service::Actor::local("test"),
                    u,
                    PW,
                    r,
                )
                .unwrap();
            }
        }
        let app = test::init_service(registry::app(h.state.clone())).await;
        let ana = password_session(&app, "ana", PW).await.unwrap();
        assert_eq!(
            page(&app, "GET", "/vendors", &ana, None, &[]).await.status,
            200
        );
        let ada = password_session(&app, "ada", PW).await.unwrap();
        let access = page(&app, "GET", "/tokens", &ada, None, &[]).await;
        assert_eq!(access.status, 200);
        assert!(access.body.contains("I confirm disabling ana"));
        assert!(
            !access.body.contains("$argon2"),
            "no password hash on the page"
        );
        let csrf = field(&access.body, "csrf");

        // Not without confirmation, not forged, not by a non-admin, not oneself.
        let p = page(
            &app,
            "POST",
            "/users/ana/disable",
            &ada,
            Some(&format!("csrf={csrf}")),
            &[],
        )
        .await;
        assert_eq!(p.status, 400);
        let p = page(
            &app,
            "POST",
            "/users/ana/disable",
            &ada,
            Some("confirm=yes"),
            &[],
        )
        .await;
        assert_eq!(p.status, 403);
        let ana_csrf = field(&page(&app, "GET", "/", &ana, None, &[]).await.body, "csrf");
        let p = page(
            &app,
            "POST",
            "/users/ada/disable",
            &ana,
            Some(&format!("csrf={ana_csrf}&confirm=yes")),
            &[],
        )
        .await;
        assert_eq!(p.status, 403);
        let p = page(
            &app,
            "POST",
            "/users/ada/disable",
            &ada,
            Some(&format!("csrf={csrf}&confirm=yes")),
            &[],
        )
        .await;
        assert_eq!(p.status, 400);
        assert!(p.body.contains("cannot disable your own account"));
        let p = page(
            &app,
            "POST",
            "/users/nobody/disable",
            &ada,
            Some(&format!("csrf={csrf}&confirm=yes")),
            &[],
        )
        .await;
        assert_eq!(p.status, 404);
        assert_eq!(
            page(&app, "GET", "/vendors", &ana, None, &[]).await.status,
            200
        );

        // Disabled: the open session ends and sign-in is refused.
        let p = page(
            &app,
            "POST",
            "/users/ana/disable",
            &ada,
            Some(&format!("csrf={csrf}&confirm=yes")),
            &[],
        )
        .await;
        assert_eq!(p.status, 303, "{}", p.body);
        let done = page(&app, "GET", p.location.as_deref().unwrap(), &ada, None, &[]).await;
        assert!(
            done.body.contains("is disabled; their open sessions ended"),
            "{}",
            done.body
        );
        assert_eq!(
            page(&app, "GET", "/vendors", &ana, None, &[]).await.status,
            303
        );
        assert!(password_session(&app, "ana", PW).await.is_none());

        // Enabled again: sign-in works. Both changes are audited.
        let p = page(
            &app,
            "POST",
            "/users/ana/enable",
            &ada,
            Some(&format!("csrf={csrf}")),
            &[],
        )
        .await;
        assert_eq!(p.status, 303);
        assert!(password_session(&app, "ana", PW).await.is_some());
        let (_, _, log) = call(
            &app,
            "GET",
            "/api/v1/audit?limit=5",
            Some(&h.admin),
            None,
            &[],
        )
        .await;
        let acts: Vec<&str> = log
            .as_array()
            .unwrap()
            .iter()
            // User creation is audited too (since the service layer); the
            // two changes made here are the newest entries.
            .filter(|e| e["entity"] == "user" && e["action"] != "create")
            .map(|e| e["action"].as_str().unwrap())
            .collect();
        assert_eq!(acts, ["enable", "disable"], "{log}");
        let (_, _, created) = call(
            &app,
            "GET",
            "/api/v1/audit?limit=1000",
            Some(&h.admin),
            None,
            &[],
        )
        .await;
        assert!(
            created
                .as_array()
                .unwrap()
                .iter()
                .any(|e| e["entity"] == "user"
                    && e["action"] == "create"
                    && e["entity_id"] == "ana"
                    && e["actor"] == "local operator (test)"),
            "creating a user is audited: {created}"
        );

        // The command line does the same.
        let cli = |args: &[&str]| registry_cli(&h.url, args);
        let (code, out, err) = cli(&["user", "disable", "ana"]);
        assert_eq!(code, Some(0), "{err}");
        assert!(out.contains("disabled"), "{out}");
        assert!(password_session(&app, "ana", PW).await.is_none());
        let (code, out, _) = cli(&["user", "list"]);
        assert_eq!(code, Some(0));
        assert!(
            out.lines()
                .any(|l| l.ends_with("ana") && l.contains("disabled")),
            "{out}"
        );
        assert!(
            out.lines()
                .any(|l| l.ends_with("ada") && l.contains("active")),
            "{out}"
        );
        let (code, _, _) = cli(&["user", "enable", "ana"]);
        assert_eq!(code, Some(0));
        assert!(password_session(&app, "ana", PW).await.is_some());
        let (code, _, err) = cli(&["user", "disable", "nobody"]);
        assert_ne!(code, Some(0));
        assert!(err.contains("no user 'nobody'"), "{err}");
    }
}
