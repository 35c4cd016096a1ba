//! Sigstore identities, keys and trusted roots in the registry, served in
//! the trust bundle and used by the inspector.

use super::*;
use inspector::report::Verdict;
use inspector::sigstore::{SigstoreArtifact, verify_sigstore};
use inspector::{Limits, TrustPolicy, VerifyRequest};
use serde_json::json;

fn sfix(name: &str) -> PathBuf {
    fixtures().join("../sigstore").join(name)
}

/// A station receipt carrying a real Sigstore bundle from the fixtures as
/// its signature material, with the artifact's digest.
fn sigstore_receipt(
    bundle: &str,
    artifact: &str,
    vendor: &str,
    component: &str,
    version: &str,
) -> serde_json::Value {
    use base64::Engine;
    let bundle = std::fs::read(sfix(bundle)).unwrap();
    let artifact = std::fs::read(sfix(artifact)).unwrap();
    let sha = inspector::digest::hex(&inspector::digest::DigestAlgorithm::Sha256.hash(&artifact));
    json!({
        "station": "st-1", "lot": "L-sigstore", "bundle_serial": 1,
        "signature": base64::engine::general_purpose::STANDARD.encode(&bundle),
        "report": {
            "report_version": 1, "verdict": "accept", "summary": "station says accept",
            "vendor": vendor, "component": component, "version": version,
            "blob": {"sha256": sha, "size": artifact.len()}, "signature": {"kind": "sigstore"},
            "verification_time": AT, "checks": [], "signers": []
        }
    })
}

/// Imports the public-good trusted root.
async fn add_public_good_root<S, B>(app: &S, admin: &str)
where
    S: actix_web::dev::Service<
            actix_http::Request,
            Response = actix_web::dev::ServiceResponse<B>,
            Error = actix_web::Error,
        >,
    B: actix_web::body::MessageBody,
{
    let root: serde_json::Value =
        serde_json::from_slice(&std::fs::read(sfix("trusted_root-public-good.json")).unwrap())
            .unwrap();
    let (s, _, r) = call(
        app,
        "POST",
        "/api/v1/sigstore-trusted-roots",
        Some(admin),
        Some(json!({"name": "public-good", "trusted_root": root})),
        &[],
    )
    .await;
    assert_eq!(s, 201, "{r}");
}

/// Vendor `keyco` with component `keyco-fw`, its managed Sigstore key and
/// the public-good root; returns the key's row.
async fn keyco_with_key_and_root<S, B>(app: &S, admin: &str) -> serde_json::Value
where
    S: actix_web::dev::Service<
            actix_http::Request,
            Response = actix_web::dev::ServiceResponse<B>,
            Error = actix_web::Error,
        >,
    B: actix_web::body::MessageBody,
{
    let a = Some(admin);
    for (uri, body) in [
        ("/api/v1/vendors", json!({"id": "keyco", "name": "Key Co"})),
        (
            "/api/v1/vendors/keyco/components",
            json!({"name": "keyco-fw"}),
        ),
    ] {
        let (s, _, b) = call(app, "POST", uri, a, Some(body), &[]).await;
        assert_eq!(s, 201, "{b}");
    }
    let key = std::fs::read_to_string(sfix("managed-key.pub")).unwrap();
    let (s, _, k) = call(
        app,
        "POST",
        "/api/v1/vendors/keyco/sigstore-keys",
        a,
        Some(json!({"pem": key})),
        &[],
    )
    .await;
    assert_eq!(s, 201, "{k}");
    add_public_good_root(app, admin).await;
    k
}

#[actix_rt::test]
async fn sigstore_material_is_validated_stored_and_exported() {
    for db in BACKENDS {
        let h = Harness::new(db);
        let app = test::init_service(registry::app(h.state.clone())).await;
        let a = Some(h.admin.as_str());
        for (id, name) in [
            ("vollprecht", "W. Vollprecht"),
            ("trailofbits", "Trail of Bits"),
            ("keyco", "KeyCo"),
        ] {
            assert_eq!(
                call(
                    &app,
                    "POST",
                    "/api/v1/vendors",
                    a,
                    Some(json!({"id": id, "name": name})),
                    &[]
                )
                .await
                .0,
                201
            );
        }
        for (v, c) in [
            ("vollprecht", "sensor-fw"),
            ("trailofbits", "rfc8785-wheel"),
            ("keyco", "keyco-fw"),
        ] {
            assert_eq!(
                call(
                    &app,
                    "POST",
                    &format!("/api/v1/vendors/{v}/components"),
                    a,
                    Some(json!({"name": c})),
                    &[]
                )
                .await
                .0,
                201
            );
        }
        let (s, _, b) = call(&app, "POST", "/api/v1/vendors/vollprecht/sigstore-identities", a, Some(json!({"issuer": "https://github.com/login/oauth", "san": "w.vollprecht@gmail.com"})), &[]).await;
        assert_eq!(s, 201, "{b}");
        let (s, _, b) = call(&app, "POST", "/api/v1/vendors/trailofbits/sigstore-identities", a, Some(json!({"issuer": "https://token.actions.githubusercontent.com", "san_regex": "https://github\\.com/trailofbits/.*"})), &[]).await;
        assert_eq!(s, 201, "{b}");
        let key = std::fs::read_to_string(sfix("managed-key.pub")).unwrap();
        let (s, _, k) = call(
            &app,
            "POST",
            "/api/v1/vendors/keyco/sigstore-keys",
            a,
            Some(json!({"pem": key.clone()})),
            &[],
        )
        .await;
        assert_eq!(s, 201, "{k}");
        assert_eq!(
            k["sha256"],
            "4cb32c4837c6dda8cfb1681efb3fef5f94ffce5b979e6bdb9139302c857af139"
        );
        assert_eq!(
            call(
                &app,
                "POST",
                "/api/v1/vendors/keyco/sigstore-keys",
                a,
                Some(json!({"pem": key})),
                &[]
            )
            .await
            .0,
            409
        );
        for (name, file) in [
            ("public-good", "trusted_root-public-good.json"),
            ("github", "trusted_root-github.json"),
        ] {
            let root: serde_json::Value =
                serde_json::from_slice(&std::fs::read(sfix(file)).unwrap()).unwrap();
            let (s, _, r) = call(
                &app,
                "POST",
                "/api/v1/sigstore-trusted-roots",
                a,
                Some(json!({"name": name, "trusted_root": root})),
                &[],
            )
            .await;
            assert_eq!(s, 201, "{r}");
        }
        // Refusals.
        for (uri, body, text) in [
            (
                "/api/v1/vendors/vollprecht/sigstore-identities",
                json!({"issuer": "https://x", "san_regex": "("}),
                "not a valid regular expression",
            ),
            (
                "/api/v1/vendors/vollprecht/sigstore-identities",
                json!({"issuer": "https://x", "san": "a", "san_regex": "b"}),
                "exactly one",
            ),
            (
                "/api/v1/vendors/vollprecht/sigstore-identities",
                json!({"issuer": "", "san": "a"}),
                "issuer",
            ),
            (
                "/api/v1/vendors/vollprecht/sigstore-identities",
                json!({"issuer": "https://token.actions.githubusercontent.com", "san_regex": ".*"}),
                "would accept anyone",
            ),
            (
                "/api/v1/vendors/keyco/sigstore-keys",
                json!({"pem": pem("acme-root.pem")}),
                "key refused",
            ),
            (
                "/api/v1/sigstore-trusted-roots",
                json!({"name": "junk", "trusted_root": {"mediaType": "nope"}}),
                "trusted root refused",
            ),
            (
                "/api/v1/sigstore-trusted-roots",
                json!({"name": "empty", "trusted_root": {"mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1", "tlogs": []}}),
                "no transparency log",
            ),
        ] {
            let (s, _, e) = call(&app, "POST", uri, a, Some(body), &[]).await;
            assert_eq!(s, 400, "{db:?} {uri}: {e}");
            assert!(
                e["error"]["message"].as_str().unwrap().contains(text),
                "{e}"
            );
        }
        let (_, _, roots) = call(&app, "GET", "/api/v1/sigstore-trusted-roots", a, None, &[]).await;
        assert_eq!(roots.as_array().unwrap().len(), 2);
        let (_, _, ids) = call(
            &app,
            "GET",
            "/api/v1/vendors/trailofbits/sigstore-identities",
            a,
            None,
            &[],
        )
        .await;
        assert_eq!(ids[0]["san_regex"], "https://github\\.com/trailofbits/.*");

        // The bundle carries it all, and the inspector accepts and rejects as it should.
        let req = test::TestRequest::get()
            .uri("/api/v1/trust-bundle")
            .insert_header(("Authorization", format!("Bearer {}", h.admin)))
            .to_request();
        let body = test::read_body(test::call_service(&app, req).await).await;
        let pinned =
            inspector::cert::certificates_from_bytes(h.state.key.certificate_pem.as_bytes())
                .unwrap()
                .remove(0);
        let b =
            inspector::bundle::verify_bundle(&body, &pinned, time::OffsetDateTime::now_utc(), None)
                .unwrap();
        let policy =
            TrustPolicy::from_json(&b.document, &mut inspector::policy::InlineOnly).unwrap();
        assert_eq!(policy.sigstore_roots.len(), 2);
        let limits = Limits::default();
        let verdict = |vendor: &str, component: &str, bundle: &str, blob: &str| {
            let sig = std::fs::read(sfix(bundle)).unwrap();
            let req = VerifyRequest {
                policy: &policy,
                vendor,
                component,
                version: "1.0.0",
                signature: &sig,
                time: time::OffsetDateTime::now_utc(),
                limits: &limits,
                cache: None,
                existed_at: None,
            };
            let mut f = std::fs::File::open(sfix(blob)).unwrap();
            verify_sigstore(&req, SigstoreArtifact::Reader(&mut f))
                .unwrap()
                .verdict
        };
        assert_eq!(
            verdict(
                "vollprecht",
                "sensor-fw",
                "cosign-v3-blob.sigstore.json",
                "cosign-v3-blob.txt"
            ),
            Verdict::Accept,
            "{db:?}"
        );
        assert_eq!(
            verdict(
                "keyco",
                "keyco-fw",
                "managed-key.sigstore.json",
                "managed-key-artifact.txt"
            ),
            Verdict::Accept,
            "{db:?}"
        );
        assert_eq!(
            verdict(
                "trailofbits",
                "rfc8785-wheel",
                "cosign-v3-blob.sigstore.json",
                "cosign-v3-blob.txt"
            ),
            Verdict::Reject,
            "{db:?}"
        );
        assert_eq!(
            verdict(
                "keyco",
                "keyco-fw",
                "cosign-v3-blob.sigstore.json",
                "cosign-v3-blob.txt"
            ),
            Verdict::Reject,
            "{db:?}"
        );
    }
}

/// Issue 11, item 4: Sigstore identities and keys can be revoked (security,
/// audited), for all time or from an instant, and the bundle carries it.
#[actix_rt::test]
async fn sigstore_signers_are_revoked_into_the_bundle() {
    use registry::auth::Role;
    for db in BACKENDS {
        let h = Harness::new(db);
        let app = test::init_service(registry::app(h.state.clone())).await;
        let a = Some(h.admin.as_str());
        call(
            &app,
            "POST",
            "/api/v1/vendors",
            a,
            Some(json!({"id": "keyco", "name": "Key Co"})),
            &[],
        )
        .await;
        let uri = "/api/v1/vendors/keyco/sigstore-revocations";
        let ident = json!({"identity": {"issuer": "https://token.actions.githubusercontent.com", "san": "https://github.com/keyco/fw/.github/workflows/release.yml@refs/heads/main"},
            "reason": "keyCompromise", "revoked_from": "2026-09-01T00:00:00Z"});
        let insp = h.token(Role::Inspector);
        assert_eq!(
            call(&app, "POST", uri, Some(&insp), Some(ident.clone()), &[])
                .await
                .0,
            403
        );
        for bad in [
            json!({"reason": "keyCompromise"}),
            json!({"key_spki_sha256": "abc", "reason": "keyCompromise"}),
            json!({"key_spki_sha256": "00".repeat(32), "reason": "because"}),
            json!({"key_spki_sha256": "00".repeat(32), "reason": "superseded", "revoked_from": "soon"}),
        ] {
            assert_eq!(
                call(&app, "POST", uri, a, Some(bad.clone()), &[]).await.0,
                400,
                "{bad}"
            );
        }
        let (s, _, r) = call(&app, "POST", uri, a, Some(ident), &[]).await;
        assert_eq!(s, 201, "{db:?} {r}");
        assert_eq!(r["revoked_from"], "2026-09-01T00:00:00Z");
        let (s, _, _) = call(
            &app,
            "POST",
            uri,
            a,
            Some(json!({"key_spki_sha256": "ab".repeat(32), "reason": "superseded"})),
            &[],
        )
        .await;
        assert_eq!(s, 201);
        let (_, _, list) = call(&app, "GET", uri, Some(&insp), None, &[]).await;
        assert_eq!(list.as_array().unwrap().len(), 2, "{list}");
        let (_, _, bundle) = call(&app, "GET", "/api/v1/trust-bundle", a, None, &[]).await;
        let payload: serde_json::Value = serde_json::from_slice(
            &base64::Engine::decode(
                &base64::engine::general_purpose::STANDARD,
                bundle["payload"].as_str().unwrap(),
            )
            .unwrap(),
        )
        .unwrap();
        let revs = payload["sigstore_revocations"].as_array().unwrap();
        assert_eq!(revs.len(), 2, "{payload}");
        assert_eq!(revs[0]["revoked_from"], "2026-09-01T00:00:00Z");
        assert_eq!(revs[1]["key_spki_sha256"], "ab".repeat(32));
        let (_, _, log) = call(&app, "GET", "/api/v1/audit?limit=1", a, None, &[]).await;
        assert_eq!(log[0]["entity"], "sigstore-signer", "{log}");
    }
}

/// Issue 11, item 4 with the evidence rule: revoking a Sigstore key
/// withdraws the registry-accepted receipts it invalidates (their images
/// leave the allowlists), audited as a re-evaluation; receipts of other
/// vendors are untouched.
#[actix_rt::test]
async fn revoking_a_sigstore_key_withdraws_the_receipts_it_invalidates() {
    use registry::auth::Role;
    for db in BACKENDS {
        let h = Harness::new(db);
        let app = test::init_service(registry::app(h.state.clone())).await;
        let a = Some(h.admin.as_str());
        let k = keyco_with_key_and_root(&app, &h.admin).await;
        let receipt = sigstore_receipt(
            "managed-key.sigstore.json",
            "managed-key-artifact.txt",
            "keyco",
            "keyco-fw",
            "1.0.0",
        );
        let st = h.token(Role::Inspector);
        let (s, _, r) = call(
            &app,
            "POST",
            "/api/v1/receipts",
            Some(&st),
            Some(receipt),
            &[],
        )
        .await;
        assert_eq!(s, 201, "{db:?} {r}");
        assert_eq!(r["registry_verdict"], "accept", "{db:?} {r}");
        let (s, _, _) = call(
            &app,
            "POST",
            "/api/v1/vendors/keyco/sigstore-revocations",
            a,
            Some(json!({"key_spki_sha256": k["sha256"], "reason": "keyCompromise"})),
            &[],
        )
        .await;
        assert_eq!(s, 201);
        let (_, _, after) = call(
            &app,
            "GET",
            &format!("/api/v1/receipts/{}", r["id"]),
            a,
            None,
            &[],
        )
        .await;
        assert_eq!(after["registry_verdict"], "reject", "{db:?} {after}");
        assert!(
            after["registry_summary"]
                .as_str()
                .unwrap()
                .starts_with("withdrawn:"),
            "{after}"
        );
        let (_, _, log) = call(&app, "GET", "/api/v1/audit?limit=5", a, None, &[]).await;
        assert!(
            log.as_array()
                .unwrap()
                .iter()
                .any(|e| e["action"] == "reevaluate" && e["entity_id"] == "keyco"),
            "{log}"
        );
    }
}

/// Issue 11, item 3: a Sigstore identity registered by mistake is retired:
/// out of the bundle, the receipts it alone accepted withdrawn, kept on
/// record as retired.
#[actix_rt::test]
async fn a_retired_sigstore_identity_leaves_the_bundle_and_its_receipts_are_withdrawn() {
    use registry::auth::Role;
    for db in BACKENDS {
        let h = Harness::new(db);
        let app = test::init_service(registry::app(h.state.clone())).await;
        let a = Some(h.admin.as_str());
        call(
            &app,
            "POST",
            "/api/v1/vendors",
            a,
            Some(json!({"id": "vollprecht", "name": "W. Vollprecht"})),
            &[],
        )
        .await;
        call(
            &app,
            "POST",
            "/api/v1/vendors/vollprecht/components",
            a,
            Some(json!({"name": "sensor-fw"})),
            &[],
        )
        .await;
        let (s, _, ident) = call(&app, "POST", "/api/v1/vendors/vollprecht/sigstore-identities", a, Some(json!({"issuer": "https://github.com/login/oauth", "san": "w.vollprecht@gmail.com"})), &[]).await;
        assert_eq!(s, 201, "{ident}");
        add_public_good_root(&app, &h.admin).await;
        let receipt = sigstore_receipt(
            "cosign-v3-blob.sigstore.json",
            "cosign-v3-blob.txt",
            "vollprecht",
            "sensor-fw",
            "1.2.0",
        );
        let st = h.token(Role::Inspector);
        let (_, _, r) = call(
            &app,
            "POST",
            "/api/v1/receipts",
            Some(&st),
            Some(receipt),
            &[],
        )
        .await;
        assert_eq!(r["registry_verdict"], "accept", "{db:?} {r}");
        let uri = format!(
            "/api/v1/vendors/vollprecht/sigstore-identities/{}/retire",
            ident["id"]
        );
        let why =
            json!({"reason": "identity of a personal account, not the vendor's release workflow"});
        assert_eq!(
            call(&app, "POST", &uri, Some(&st), Some(why.clone()), &[])
                .await
                .0,
            403
        );
        assert_eq!(
            call(
                &app,
                "POST",
                &format!(
                    "/api/v1/vendors/nobody/sigstore-identities/{}/retire",
                    ident["id"]
                ),
                a,
                Some(why.clone()),
                &[]
            )
            .await
            .0,
            404,
            "an identity is retired through its own vendor"
        );
        assert!(
            bundle_payload(&app, &h.admin)
                .await
                .to_string()
                .contains("w.vollprecht@gmail.com")
        );
        let (s, _, retired) = call(&app, "POST", &uri, a, Some(why.clone()), &[]).await;
        assert_eq!(s, 200, "{db:?} {retired}");
        assert!(retired["retired_at"].is_string(), "{retired}");
        assert_eq!(call(&app, "POST", &uri, a, Some(why), &[]).await.0, 409);
        let (_, _, after) = call(
            &app,
            "GET",
            &format!("/api/v1/receipts/{}", r["id"]),
            a,
            None,
            &[],
        )
        .await;
        assert_eq!(after["registry_verdict"], "reject", "{db:?} {after}");
        let (_, _, list) = call(
            &app,
            "GET",
            "/api/v1/vendors/vollprecht/sigstore-identities",
            a,
            None,
            &[],
        )
        .await;
        assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
        assert!(list[0]["retired_at"].is_string(), "{list}");
        assert!(
            !bundle_payload(&app, &h.admin)
                .await
                .to_string()
                .contains("w.vollprecht@gmail.com")
        );
    }
}

/// Issue 11, item 3: Sigstore trusted roots and keys are retired, never
/// deleted: a retired root takes the receipts it alone verified out of the
/// allowlists; both stay listed as retired.
#[actix_rt::test]
async fn retired_trusted_roots_and_keys_leave_the_bundle_and_stay_listed() {
    use registry::auth::Role;
    for db in BACKENDS {
        let h = Harness::new(db);
        let app = test::init_service(registry::app(h.state.clone())).await;
        let a = Some(h.admin.as_str());
        let k = keyco_with_key_and_root(&app, &h.admin).await;
        let receipt = sigstore_receipt(
            "managed-key.sigstore.json",
            "managed-key-artifact.txt",
            "keyco",
            "keyco-fw",
            "1.0.0",
        );
        let st = h.token(Role::Inspector);
        let (_, _, r) = call(
            &app,
            "POST",
            "/api/v1/receipts",
            Some(&st),
            Some(receipt),
            &[],
        )
        .await;
        assert_eq!(r["registry_verdict"], "accept", "{db:?} {r}");
        let roots_in_bundle =
            |p: &serde_json::Value| p["sigstore_trusted_roots"].as_array().map_or(0, Vec::len);
        assert_eq!(roots_in_bundle(&bundle_payload(&app, &h.admin).await), 1);
        let why = json!({"reason": "replaced by the operator's new root"});
        let (s, _, retired) = call(
            &app,
            "POST",
            "/api/v1/sigstore-trusted-roots/public-good/retire",
            a,
            Some(why.clone()),
            &[],
        )
        .await;
        assert_eq!(s, 200, "{db:?} {retired}");
        assert!(retired["retired_at"].is_string(), "{retired}");
        assert_eq!(
            call(
                &app,
                "POST",
                "/api/v1/sigstore-trusted-roots/public-good/retire",
                a,
                Some(why.clone()),
                &[]
            )
            .await
            .0,
            409
        );
        let (_, _, after) = call(
            &app,
            "GET",
            &format!("/api/v1/receipts/{}", r["id"]),
            a,
            None,
            &[],
        )
        .await;
        assert_eq!(after["registry_verdict"], "reject", "{db:?} {after}");
        let (_, _, roots) = call(&app, "GET", "/api/v1/sigstore-trusted-roots", a, None, &[]).await;
        assert!(roots[0]["retired_at"].is_string(), "{roots}");
        let uri = format!("/api/v1/vendors/keyco/sigstore-keys/{}/retire", k["id"]);
        assert_eq!(
            call(&app, "POST", &uri, Some(&st), Some(why.clone()), &[])
                .await
                .0,
            403
        );
        assert_eq!(
            call(
                &app,
                "POST",
                &format!("/api/v1/vendors/nobody/sigstore-keys/{}/retire", k["id"]),
                a,
                Some(why.clone()),
                &[]
            )
            .await
            .0,
            404
        );
        let (s, _, rk) = call(&app, "POST", &uri, a, Some(why), &[]).await;
        assert_eq!(s, 200, "{rk}");
        let (_, _, keys) = call(
            &app,
            "GET",
            "/api/v1/vendors/keyco/sigstore-keys",
            a,
            None,
            &[],
        )
        .await;
        assert!(keys[0]["retired_at"].is_string(), "{keys}");
        let payload = bundle_payload(&app, &h.admin).await;
        assert_eq!(roots_in_bundle(&payload), 0, "{payload}");
    }
}
