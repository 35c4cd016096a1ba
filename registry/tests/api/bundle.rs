//! The signed trust bundle: serial, ETag, signature, freshness, rollback,
//! and verdicts identical to the local trust-policy file.

use super::*;
use inspector::bundle::{BundleError, verify_bundle};
use inspector::cert::{ParsedCert, certificates_from_bytes};
use inspector::report::Verdict;
use inspector::{Limits, TrustPolicy, VerifyRequest, verify_cms};
use serde_json::json;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

fn registry_cert(h: &Harness) -> ParsedCert {
    certificates_from_bytes(h.state.key.certificate_pem.as_bytes())
        .unwrap()
        .remove(0)
}

async fn get_bundle<S, B>(app: &S, token: &str) -> (Vec<u8>, String)
where
    S: actix_web::dev::Service<
            actix_http::Request,
            Response = actix_web::dev::ServiceResponse<B>,
            Error = actix_web::Error,
        >,
    B: actix_web::body::MessageBody,
{
    let req = test::TestRequest::get()
        .uri("/api/v1/trust-bundle")
        .insert_header(("Authorization", format!("Bearer {token}")))
        .to_request();
    let resp = test::call_service(app, req).await;
    assert_eq!(resp.status().as_u16(), 200);
    let etag = resp
        .headers()
        .get("etag")
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    (test::read_body(resp).await.to_vec(), etag)
}

#[actix_rt::test]
async fn bundle_is_signed_fresh_versioned_and_cached() {
    for db in BACKENDS {
        let h = Harness::new(db);
        let app = test::init_service(registry::app(h.state.clone())).await;
        seed_acme(&app, &h.admin).await;
        let pinned = registry_cert(&h);
        let now = OffsetDateTime::now_utc();
        let (body, etag) = get_bundle(&app, &h.admin).await;
        let b = verify_bundle(&body, &pinned, now, None).unwrap();
        // 1 initial + 6 changes by seed_acme.
        assert_eq!(b.serial, 7, "{db:?}");
        assert!(b.expires_at > now + time::Duration::minutes(59));

        // Unchanged: 304 on If-None-Match, and the same bytes otherwise.
        let (s, _, _) = call(
            &app,
            "GET",
            "/api/v1/trust-bundle",
            Some(&h.admin),
            None,
            &[("If-None-Match", &etag)],
        )
        .await;
        assert_eq!(s, 304);
        let (again, etag2) = get_bundle(&app, &h.admin).await;
        assert_eq!(again, body);
        assert_eq!(etag2, etag);

        // Any change raises the serial and the ETag.
        call(
            &app,
            "POST",
            "/api/v1/vendors/acme/components",
            Some(&h.admin),
            Some(json!({"name": "acme-bt-fw"})),
            &[],
        )
        .await;
        let (newer, etag3) = get_bundle(&app, &h.admin).await;
        assert_ne!(etag3, etag);
        let nb = verify_bundle(&newer, &pinned, now, Some(b.serial)).unwrap();
        assert_eq!(nb.serial, 8);
        let (s, _, _) = call(
            &app,
            "GET",
            "/api/v1/trust-bundle",
            Some(&h.admin),
            None,
            &[("If-None-Match", &etag)],
        )
        .await;
        assert_eq!(s, 200);

        // Rollback: the older bundle after the newer one is refused.
        match verify_bundle(&body, &pinned, now, Some(nb.serial)) {
            Err(BundleError::Rollback { serial: 7, seen: 8 }) => {}
            other => panic!("expected rollback refusal, got {other:?}"),
        }
        // Expired: past its freshness deadline.
        assert!(matches!(
            verify_bundle(&body, &pinned, now + time::Duration::hours(2), None),
            Err(BundleError::Expired { .. })
        ));
        // Another key, or a tampered payload: refused.
        let other = certificates_from_bytes(pem("acme-int.pem").as_bytes())
            .unwrap()
            .remove(0);
        assert!(matches!(
            verify_bundle(&body, &other, now, None),
            Err(BundleError::Signature)
        ));
        let mut env: serde_json::Value = serde_json::from_slice(&body).unwrap();
        let payload = base64::Engine::decode(
            &base64::engine::general_purpose::STANDARD,
            env["payload"].as_str().unwrap(),
        )
        .unwrap();
        let forged = String::from_utf8(payload)
            .unwrap()
            .replace("1.5.0", "0.0.1");
        env["payload"] =
            base64::Engine::encode(&base64::engine::general_purpose::STANDARD, forged).into();
        assert!(matches!(
            verify_bundle(&serde_json::to_vec(&env).unwrap(), &pinned, now, None),
            Err(BundleError::Signature)
        ));
    }
}

#[actix_rt::test]
async fn bundle_policy_gives_the_same_verdicts_as_the_local_file() {
    for db in BACKENDS {
        let h = Harness::new(db);
        let app = test::init_service(registry::app(h.state.clone())).await;
        seed_acme(&app, &h.admin).await;
        let (body, _) = get_bundle(&app, &h.admin).await;
        let b = verify_bundle(&body, &registry_cert(&h), OffsetDateTime::now_utc(), None).unwrap();
        let from_registry =
            TrustPolicy::from_json(&b.document, &mut inspector::policy::InlineOnly).unwrap();
        struct Files;
        impl inspector::policy::CertificateSource for Files {
            fn load(&mut self, r: &str) -> Result<Vec<u8>, String> {
                std::fs::read(fixtures().join(r)).map_err(|e| e.to_string())
            }
        }
        let local = TrustPolicy::from_json(
            &std::fs::read(fixtures().join("trust-registered-int.json")).unwrap(),
            &mut Files,
        )
        .unwrap();
        let at = OffsetDateTime::parse("2026-10-01T00:00:00Z", &Rfc3339).unwrap();
        let limits = Limits::default();
        let mut accepted = 0;
        for sig in [
            "p256-detached.der",
            "noint.der",
            "ts-good.der",
            "revoked-ts-before.der",
            "revoked-nots.der",
            "revoked-ts-after.der",
            "rogue.der",
            "expired-nots.der",
            "expired-ts.der",
            "sha1.der",
            "ed25519.der",
        ] {
            let verdict = |p: &TrustPolicy| {
                let s = std::fs::read(fixtures().join("sigs").join(sig)).unwrap();
                let mut blob = std::fs::File::open(fixtures().join("blobs/fw.bin")).unwrap();
                let req = VerifyRequest {
                    policy: p,
                    vendor: "acme",
                    component: "acme-wifi-fw",
                    version: "1.5.0",
                    signature: &s,
                    time: at,
                    limits: &limits,
                    cache: None,
                    existed_at: None,
                };
                verify_cms(&req, &mut blob).unwrap().verdict
            };
            let (r, l) = (verdict(&from_registry), verdict(&local));
            assert_eq!(
                r, l,
                "{db:?} {sig}: registry bundle and local policy disagree"
            );
            if r == Verdict::Accept {
                accepted += 1;
            }
        }
        assert_eq!(
            accepted, 6,
            "the comparison must include accepted and rejected cases"
        );
    }
}
