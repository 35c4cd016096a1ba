//! Issue 11, item 5: contract terms complete and enforced. The terms are
//! stored, validated field by field, carried in the bundle and shown on the
//! pages; the registry's re-verification applies the `contract` check
//! (contract end at the trusted signing time, allowed key algorithms), and
//! narrowing the terms withdraws what they no longer cover. Both backends;
//! evidence made by OpenSSL with the fixture keys.

use super::*;
use registry::auth::Role;
use serde_json::json;

/// Acme's full contract, with `edit` applied.
fn acme_terms(edit: serde_json::Value) -> serde_json::Value {
    let mut v = json!({
        "name": "Acme Chips", "contract_ref": "C-2026-01",
        "contract_expires": "2099-12-31T00:00:00Z",
        "security_contact": "psirt@acme.example",
        "policy": {"digests": ["sha256", "sha384"], "min_rsa_bits": 3072, "require_timestamp": false,
                   "key_algorithms": ["ecdsa-p256", "ecdsa-p384"]},
        "support_ends": "2031-12-31T00:00:00Z",
        "key_protection": "FIPS 140-3 level 3 HSM, two-person access",
        "key_protection_attestation": "https://acme.example/hsm-attestation.pdf",
        "revocation_procedure": "PSIRT notifies customers by signed e-mail",
        "revocation_deadline_hours": 24
    });
    for (k, val) in edit.as_object().unwrap() {
        if k == "key_algorithms" {
            v["policy"]["key_algorithms"] = val.clone();
        } else {
            v[k] = val.clone();
        }
    }
    v
}

async fn put_vendor<S, B>(app: &S, token: &str, body: serde_json::Value) -> (u16, serde_json::Value)
where
    S: actix_web::dev::Service<
            actix_http::Request,
            Response = actix_web::dev::ServiceResponse<B>,
            Error = actix_web::Error,
        >,
    B: actix_web::body::MessageBody,
{
    let (_, _, v) = call(app, "GET", "/api/v1/vendors/acme", Some(token), None, &[]).await;
    let etag = format!("\"{}\"", v["version"]);
    let (s, _, b) = call(
        app,
        "PUT",
        "/api/v1/vendors/acme",
        Some(token),
        Some(body),
        &[("If-Match", &etag)],
    )
    .await;
    (s, b)
}

#[actix_rt::test]
async fn contract_terms_are_stored_validated_and_carried_in_the_bundle() {
    for db in BACKENDS {
        let h = Harness::new(db);
        let app = test::init_service(registry::app(h.state.clone())).await;
        let a = h.admin.clone();
        seed_acme(&app, &a).await;
        // Each bad field is refused by name, and nothing changes.
        for (edit, field) in [
            (json!({"key_algorithms": ["dsa"]}), "policy.key_algorithms"),
            (json!({"support_ends": "soon"}), "support_ends"),
            (
                json!({"revocation_deadline_hours": 0}),
                "revocation_deadline_hours",
            ),
            (
                json!({"revocation_deadline_hours": 9000}),
                "revocation_deadline_hours",
            ),
            (
                json!({"key_protection": "x".repeat(2001)}),
                "key_protection",
            ),
            (
                json!({"key_protection_attestation": "x".repeat(513)}),
                "key_protection_attestation",
            ),
            (
                json!({"revocation_procedure": "x".repeat(2001)}),
                "revocation_procedure",
            ),
        ] {
            let (s, e) = put_vendor(&app, &a, acme_terms(edit.clone())).await;
            assert_eq!(s, 400, "{edit}: {e}");
            assert!(
                e["error"]["message"].as_str().unwrap().contains(field),
                "{field}: {e}"
            );
        }
        let (_, v) = (
            0,
            call(&app, "GET", "/api/v1/vendors/acme", Some(&a), None, &[])
                .await
                .2,
        );
        assert_eq!(
            v["key_protection"], "",
            "a refused edit changed nothing: {v}"
        );
        // Procurement records the full contract.
        let proc = h.token(Role::Procurement);
        let (s, v) = put_vendor(&app, &proc, acme_terms(json!({}))).await;
        assert_eq!(s, 200, "{db:?} {v}");
        assert_eq!(
            v["policy"]["key_algorithms"],
            json!(["ecdsa-p256", "ecdsa-p384"])
        );
        assert_eq!(v["support_ends"], "2031-12-31T00:00:00Z");
        assert_eq!(v["revocation_deadline_hours"], 24);
        assert_eq!(
            v["key_protection_attestation"],
            "https://acme.example/hsm-attestation.pdf"
        );
        // A component's own support end overrides the vendor's.
        let (_, _, comps) = call(&app, "GET", "/api/v1/components", Some(&a), None, &[]).await;
        let wifi = comps
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == "acme-wifi-fw")
            .unwrap()
            .clone();
        let etag = format!("\"{}\"", wifi["version"]);
        let support = |token: String, body: serde_json::Value, etag: String| {
            let app = &app;
            async move {
                call(
                    app,
                    "PUT",
                    "/api/v1/components/acme-wifi-fw/support",
                    Some(&token),
                    Some(body),
                    &[("If-Match", &etag)],
                )
                .await
            }
        };
        let sec = h.token(Role::Security);
        assert_eq!(
            support(
                sec,
                json!({"support_ends": "2030-06-30T00:00:00Z"}),
                etag.clone()
            )
            .await
            .0,
            403,
            "support periods are procurement's"
        );
        let (s, _, e) = support(proc.clone(), json!({"support_ends": "June"}), etag.clone()).await;
        assert_eq!(s, 400, "{e}");
        assert!(
            e["error"]["message"]
                .as_str()
                .unwrap()
                .contains("support_ends"),
            "{e}"
        );
        let (s, _, c) = support(
            proc.clone(),
            json!({"support_ends": "2030-06-30T00:00:00Z"}),
            etag.clone(),
        )
        .await;
        assert_eq!(s, 200, "{c}");
        assert_eq!(c["support_ends"], "2030-06-30T00:00:00Z");
        assert_eq!(
            support(proc.clone(), json!({"support_ends": null}), etag)
                .await
                .0,
            412,
            "stale If-Match"
        );
        // The bundle carries what stations enforce and report.
        let b = bundle_payload(&app, &a).await;
        let acme = b["vendors"]
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v["id"] == "acme")
            .unwrap();
        assert_eq!(
            acme["policy"]["key_algorithms"],
            json!(["ecdsa-p256", "ecdsa-p384"])
        );
        assert_eq!(acme["support_ends"], "2031-12-31T00:00:00Z");
        assert_eq!(acme["contract_ref"], "C-2026-01");
        let wifi = acme["components"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == "acme-wifi-fw")
            .unwrap();
        assert_eq!(wifi["support_ends"], "2030-06-30T00:00:00Z");
        // Audited.
        let (_, _, log) = call(&app, "GET", "/api/v1/audit?limit=500", Some(&a), None, &[]).await;
        assert!(log.to_string().contains("set-support"), "{log}");
    }
}

/// The registry's re-verification applies the contract: an image signed by
/// a P-384 key is accepted while the contract allows P-384, and withdrawn
/// (audited re-evaluation) when procurement narrows the contract to P-256;
/// a contract that ended before the (untimestamped) signature's trusted
/// time rejects new evidence with the clause named, and one running until
/// 2099 accepts it.
#[actix_rt::test]
async fn the_registry_holds_evidence_to_the_contract_and_narrowing_withdraws() {
    for db in BACKENDS {
        let h = Harness::new(db);
        let app = test::init_service(registry::app(h.state.clone())).await;
        let a = h.admin.clone();
        seed_acme(&app, &a).await;
        let st = h.token(Role::Inspector);
        let (s, v) = put_vendor(&app, &a, acme_terms(json!({}))).await;
        assert_eq!(s, 200, "{v}");
        let receipt = |signer: &str, content: &[u8]| {
            signed_receipt(
                signer,
                "acme-int",
                "acme",
                "acme-wifi-fw",
                "1.5.0",
                content,
                "accept",
            )
        };
        let (_, _, p384) = call(
            &app,
            "POST",
            "/api/v1/receipts",
            Some(&st),
            Some(receipt("acme-signer-p384", b"p384 under the contract")),
            &[],
        )
        .await;
        assert_eq!(p384["registry_verdict"], "accept", "{db:?} {p384}");
        let contract = p384["registry_report"]["signers"][0]["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == "contract")
            .cloned()
            .unwrap_or_default();
        assert_eq!(contract["outcome"], "pass", "{p384}");
        // Narrowed to P-256: the P-384 image is withdrawn.
        let (s, v) = put_vendor(
            &app,
            &a,
            acme_terms(json!({"key_algorithms": ["ecdsa-p256"]})),
        )
        .await;
        assert_eq!(s, 200, "{v}");
        let (_, _, after) = call(
            &app,
            "GET",
            &format!("/api/v1/receipts/{}", p384["id"]),
            Some(&a),
            None,
            &[],
        )
        .await;
        assert_eq!(after["registry_verdict"], "reject", "{after}");
        assert!(
            after["registry_summary"]
                .as_str()
                .unwrap()
                .contains("clause 'allowed key algorithms'"),
            "{after}"
        );
        let (_, _, log) = call(&app, "GET", "/api/v1/audit?limit=500", Some(&a), None, &[]).await;
        assert!(log.to_string().contains("reevaluate"), "{log}");
        let (_, _, p256) = call(
            &app,
            "POST",
            "/api/v1/receipts",
            Some(&st),
            Some(receipt("acme-signer-p256", b"p256 under the contract")),
            &[],
        )
        .await;
        assert_eq!(p256["registry_verdict"], "accept", "{p256}");
        // The contract ended (2026-01-01) before the signature's trusted
        // time (no timestamp: the verification time, 2026-10-01).
        let (s, v) = put_vendor(
            &app,
            &a,
            acme_terms(json!({"key_algorithms": [], "contract_expires": "2026-01-01T00:00:00Z"})),
        )
        .await;
        assert_eq!(s, 200, "{v}");
        let (_, _, ended) = call(
            &app,
            "POST",
            "/api/v1/receipts",
            Some(&st),
            Some(receipt("acme-signer-p256", b"after the contract")),
            &[],
        )
        .await;
        assert_eq!(ended["registry_verdict"], "reject", "{ended}");
        let summary = ended["registry_summary"].as_str().unwrap();
        assert!(
            summary.contains("clause 'contract end'") && summary.contains("C-2026-01"),
            "{summary}"
        );
        let (_, _, earlier) = call(
            &app,
            "GET",
            &format!("/api/v1/receipts/{}", p256["id"]),
            Some(&a),
            None,
            &[],
        )
        .await;
        assert_eq!(
            earlier["registry_verdict"], "reject",
            "the ended contract withdrew it too: {earlier}"
        );
        // Editing only the name or the contact re-evaluates nothing.
        let (_, _, log_before) =
            call(&app, "GET", "/api/v1/audit?limit=500", Some(&a), None, &[]).await;
        let (s, _) = put_vendor(&app, &a, acme_terms(json!({"key_algorithms": [], "contract_expires": "2026-01-01T00:00:00Z", "security_contact": "psirt2@acme.example"}))).await;
        assert_eq!(s, 200);
        let (_, _, log_after) =
            call(&app, "GET", "/api/v1/audit?limit=500", Some(&a), None, &[]).await;
        let reevaluations = |log: &serde_json::Value| {
            log.as_array()
                .unwrap()
                .iter()
                .filter(|e| e["action"] == "reevaluate")
                .count()
        };
        assert_eq!(reevaluations(&log_before), reevaluations(&log_after));
        assert!(reevaluations(&log_before) >= 2);
        // The contract renewed: new evidence is accepted again.
        let (s, _) = put_vendor(&app, &a, acme_terms(json!({"key_algorithms": []}))).await;
        assert_eq!(s, 200);
        let (_, _, renewed) = call(
            &app,
            "POST",
            "/api/v1/receipts",
            Some(&st),
            Some(receipt("acme-signer-p256", b"renewed contract")),
            &[],
        )
        .await;
        assert_eq!(renewed["registry_verdict"], "accept", "{renewed}");
    }
}
