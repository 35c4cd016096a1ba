//! Vendors, certificates, components, receipts, CRLs: both directions, both backends.

use super::*;
use serde_json::json;

#[actix_rt::test]
async fn vendors_need_if_match_and_never_lose_a_concurrent_edit() {
    for db in BACKENDS {
        let h = Harness::new(db);
        let app = test::init_service(registry::app(h.state.clone())).await;
        let a = Some(h.admin.as_str());
        let (s, hdr, v) = call(
            &app,
            "POST",
            "/api/v1/vendors",
            a,
            Some(json!({"id": "acme", "name": "Acme Chips"})),
            &[],
        )
        .await;
        assert_eq!(s, 201, "{db:?} {v}");
        assert_eq!(hdr.get("etag").unwrap(), "\"1\"");
        assert_eq!(v["policy"]["min_rsa_bits"], 2048);
        // Duplicate, bad id, bad terms.
        assert_eq!(
            call(
                &app,
                "POST",
                "/api/v1/vendors",
                a,
                Some(json!({"id": "acme", "name": "x"})),
                &[]
            )
            .await
            .0,
            409
        );
        assert_eq!(
            call(
                &app,
                "POST",
                "/api/v1/vendors",
                a,
                Some(json!({"id": "Bad Id", "name": "x"})),
                &[]
            )
            .await
            .0,
            400
        );
        let (s, _, e) = call(&app, "POST", "/api/v1/vendors", a, Some(json!({"id": "weak", "name": "x", "policy": {"digests": ["sha1"], "min_rsa_bits": 2048, "require_timestamp": false}})), &[]).await;
        assert_eq!(s, 400);
        assert!(
            e["error"]["message"].as_str().unwrap().contains("sha1"),
            "{e}"
        );
        // Update without If-Match: 428. With it: 200, version 2.
        let body = json!({"name": "Acme Chips Ltd", "contract_ref": "C-2", "security_contact": "psirt@acme.example"});
        assert_eq!(
            call(
                &app,
                "PUT",
                "/api/v1/vendors/acme",
                a,
                Some(body.clone()),
                &[]
            )
            .await
            .0,
            428
        );
        let (s, hdr, v) = call(
            &app,
            "PUT",
            "/api/v1/vendors/acme",
            a,
            Some(body.clone()),
            &[("If-Match", "\"1\"")],
        )
        .await;
        assert_eq!(s, 200, "{v}");
        assert_eq!(hdr.get("etag").unwrap(), "\"2\"");
        assert_eq!(v["name"], "Acme Chips Ltd");
        // A second editor who read version 1 is refused, not silently overwritten.
        let (s, _, e) = call(
            &app,
            "PUT",
            "/api/v1/vendors/acme",
            a,
            Some(json!({"name": "Stale"})),
            &[("If-Match", "\"1\"")],
        )
        .await;
        assert_eq!(s, 412, "{e}");
        assert_eq!(e["error"]["code"], "precondition_failed");
        let (_, _, v) = call(&app, "GET", "/api/v1/vendors/acme", a, None, &[]).await;
        assert_eq!(v["name"], "Acme Chips Ltd");
        assert_eq!(
            call(&app, "GET", "/api/v1/vendors/nobody", a, None, &[])
                .await
                .0,
            404
        );
    }
}

#[actix_rt::test]
async fn certificates_are_checked_on_upload() {
    for db in BACKENDS {
        let h = Harness::new(db);
        let app = test::init_service(registry::app(h.state.clone())).await;
        let a = Some(h.admin.as_str());
        call(
            &app,
            "POST",
            "/api/v1/vendors",
            a,
            Some(json!({"id": "acme", "name": "Acme"})),
            &[],
        )
        .await;
        let up = |role: &str, pem: String| json!({"role": role, "pem": pem});
        let (s, _, c) = call(
            &app,
            "POST",
            "/api/v1/vendors/acme/certificates",
            a,
            Some(up("anchor", pem("acme-root.pem"))),
            &[],
        )
        .await;
        assert_eq!(s, 201, "{c}");
        assert_eq!(c["subject"], "CN=Acme Firmware Root CA,O=Acme Chips");
        assert_eq!(c["key_algorithm"], "ECDSA P-384");
        assert_eq!(c["sha256"].as_str().unwrap().len(), 64);
        assert_eq!(c["not_after"], "2035-01-01T00:00:00Z");
        // DER upload works too.
        let der = ::pem::parse(pem("acme-int.pem")).unwrap().into_contents();
        let b64 = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, der);
        let (s, _, c) = call(
            &app,
            "POST",
            "/api/v1/vendors/acme/certificates",
            a,
            Some(json!({"role": "intermediate", "der_base64": b64})),
            &[],
        )
        .await;
        assert_eq!(s, 201, "{c}");
        // Refusals, each with a specific message.
        for (body, status, text) in [
            (
                up("anchor", pem("acme-root.pem")),
                409,
                "already registered",
            ),
            (
                up("anchor", pem("acme-signer-p256.pem")),
                400,
                "is not a CA certificate",
            ),
            (
                up("anchor", pem("acme-expired.pem")),
                400,
                "expired on 2026-03-01",
            ),
            (
                up(
                    "anchor",
                    "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n".into(),
                ),
                400,
                "certificate refused",
            ),
            (up("anchor", "hello".into()), 400, "certificate refused"),
            (
                up("root", pem("acme-root.pem")),
                400,
                "must be 'anchor' or 'intermediate'",
            ),
            (
                json!({"role": "anchor", "der_base64": "!!"}),
                400,
                "not base64",
            ),
            (json!({"role": "anchor"}), 400, "exactly one of"),
        ] {
            let (s, _, e) = call(
                &app,
                "POST",
                "/api/v1/vendors/acme/certificates",
                a,
                Some(body),
                &[],
            )
            .await;
            assert_eq!(s, status, "{db:?} {e}");
            assert!(
                e["error"]["message"].as_str().unwrap().contains(text),
                "{db:?}: expected '{text}' in {e}"
            );
        }
        assert_eq!(
            call(
                &app,
                "POST",
                "/api/v1/vendors/ghost/certificates",
                a,
                Some(up("anchor", pem("globex-root.pem"))),
                &[]
            )
            .await
            .0,
            404
        );
        let (_, _, list) = call(
            &app,
            "GET",
            "/api/v1/vendors/acme/certificates",
            a,
            None,
            &[],
        )
        .await;
        assert_eq!(list.as_array().unwrap().len(), 2);
        // Nothing registered expires within 90 days (2035); everything within 10 years.
        let (_, _, soon) = call(&app, "GET", "/api/v1/certificates/expiring", a, None, &[]).await;
        assert_eq!(soon.as_array().unwrap().len(), 0);
        let (_, _, later) = call(
            &app,
            "GET",
            "/api/v1/certificates/expiring?days=3700",
            a,
            None,
            &[],
        )
        .await;
        assert_eq!(later.as_array().unwrap().len(), 2);
    }
}

#[actix_rt::test]
async fn floors_go_down_only_with_the_security_role_and_a_reason() {
    use registry::auth::Role;
    for db in BACKENDS {
        let h = Harness::new(db);
        let app = test::init_service(registry::app(h.state.clone())).await;
        seed_acme(&app, &h.admin).await;
        let security = h.token(Role::Security);
        let procurement = h.token(Role::Procurement);
        let put = |v: serde_json::Value| Some(v);
        let (s, _, e) = call(
            &app,
            "PUT",
            "/api/v1/components/acme-wifi-fw/floor",
            Some(&procurement),
            put(json!({"min_version": "1.6.0"})),
            &[("If-Match", "\"1\"")],
        )
        .await;
        assert_eq!(s, 403, "{e}");
        let (s, _, c) = call(
            &app,
            "PUT",
            "/api/v1/components/acme-wifi-fw/floor",
            Some(&security),
            put(json!({"min_version": "1.6.0"})),
            &[("If-Match", "\"1\"")],
        )
        .await;
        assert_eq!(s, 200, "{c}");
        assert_eq!(c["min_version"], "1.6.0");
        let (s, _, e) = call(
            &app,
            "PUT",
            "/api/v1/components/acme-wifi-fw/floor",
            Some(&security),
            put(json!({"min_version": "1.2.0"})),
            &[("If-Match", "\"2\"")],
        )
        .await;
        assert_eq!(s, 400);
        assert!(
            e["error"]["message"]
                .as_str()
                .unwrap()
                .contains("give a reason"),
            "{e}"
        );
        let (s, _, _) = call(
            &app,
            "PUT",
            "/api/v1/components/acme-wifi-fw/floor",
            Some(&security),
            put(json!({"min_version": "1.2.0", "reason": "1.6.0 bricks rev A boards; INC-4411"})),
            &[("If-Match", "\"2\"")],
        )
        .await;
        assert_eq!(s, 200);
        let (s, _, _) = call(
            &app,
            "PUT",
            "/api/v1/components/acme-wifi-fw/floor",
            Some(&security),
            put(json!({"min_version": "x"})),
            &[("If-Match", "\"3\"")],
        )
        .await;
        assert_eq!(s, 400);
        // The lowering and its reason are in the audit log.
        let (_, _, log) = call(&app, "GET", "/api/v1/audit", Some(&h.admin), None, &[]).await;
        let lower = log
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["action"] == "lower-floor")
            .unwrap();
        assert_eq!(
            lower["after"]["reason"],
            "1.6.0 bricks rev A boards; INC-4411"
        );
        assert_eq!(lower["before"]["min_version"], "1.6.0");
        assert!(lower["actor"].as_str().unwrap().contains("security"));
        // Components are unique across vendors.
        call(
            &app,
            "POST",
            "/api/v1/vendors",
            Some(&h.admin),
            Some(json!({"id": "globex", "name": "Globex"})),
            &[],
        )
        .await;
        let (s, _, e) = call(
            &app,
            "POST",
            "/api/v1/vendors/globex/components",
            Some(&h.admin),
            Some(json!({"name": "acme-wifi-fw"})),
            &[],
        )
        .await;
        assert_eq!(s, 409, "{e}");
        assert!(
            e["error"]["message"]
                .as_str()
                .unwrap()
                .contains("already supplied by vendor 'acme'")
        );
    }
}

fn report_json(verdict: &str, sha: &str) -> serde_json::Value {
    json!({
        "report_version": 1, "verdict": verdict, "summary": "x", "vendor": "acme", "component": "acme-wifi-fw",
        "version": "1.5.0", "blob": {"sha256": sha, "size": 4096}, "signature": {"kind": "cms"},
        "verification_time": "2026-10-01T00:00:00Z", "checks": [], "signers": []
    })
}

#[actix_rt::test]
async fn receipts_are_append_only_filterable_and_batches_are_all_or_nothing() {
    use registry::auth::Role;
    for db in BACKENDS {
        let h = Harness::new(db);
        let app = test::init_service(registry::app(h.state.clone())).await;
        let inspector = h.token(Role::Inspector);
        let i = Some(inspector.as_str());
        for (n, verdict) in [(0, "accept"), (1, "reject"), (2, "accept")] {
            let (s, _, r) = call(&app, "POST", "/api/v1/receipts", i, Some(json!({"station": format!("st-{n}"), "lot": "L1", "bundle_serial": 7, "report": report_json(verdict, &format!("{n:064}"))})), &[]).await;
            assert_eq!(s, 201, "{db:?} {r}");
            assert_eq!(r["verdict"], verdict);
            assert_eq!(r["bundle_serial"], 7);
            assert!(r["recorded_by"].as_str().unwrap().contains("inspector"));
        }
        let (_, _, all) = call(&app, "GET", "/api/v1/receipts?lot=L1", i, None, &[]).await;
        assert_eq!(all.as_array().unwrap().len(), 3);
        let (_, _, rej) = call(
            &app,
            "GET",
            "/api/v1/receipts?verdict=reject&vendor=acme&component=acme-wifi-fw",
            i,
            None,
            &[],
        )
        .await;
        assert_eq!(rej.as_array().unwrap().len(), 1);
        assert_eq!(rej[0]["station"], "st-1");
        let (_, _, st) = call(
            &app,
            "GET",
            "/api/v1/receipts?station=st-2&since=2000-01-01T00:00:00Z",
            i,
            None,
            &[],
        )
        .await;
        assert_eq!(st.as_array().unwrap().len(), 1);
        let (_, _, none) = call(
            &app,
            "GET",
            "/api/v1/receipts?until=2000-01-01T00:00:00Z",
            i,
            None,
            &[],
        )
        .await;
        assert_eq!(none.as_array().unwrap().len(), 0);
        assert_eq!(
            call(&app, "GET", "/api/v1/receipts?verdict=maybe", i, None, &[])
                .await
                .0,
            400
        );
        assert_eq!(
            call(
                &app,
                "GET",
                "/api/v1/receipts?since=yesterday",
                i,
                None,
                &[]
            )
            .await
            .0,
            400
        );
        // A batch with one bad receipt (empty station) stores nothing.
        let good = json!({"station": "st-9", "lot": "L2", "bundle_serial": 7, "report": report_json("accept", &"a".repeat(64))});
        let bad = json!({"station": "", "lot": "L2", "bundle_serial": 7, "report": report_json("accept", &"b".repeat(64))});
        assert_eq!(
            call(
                &app,
                "POST",
                "/api/v1/receipts/batch",
                i,
                Some(json!({"receipts": [good.clone(), bad]})),
                &[]
            )
            .await
            .0,
            400
        );
        let (_, _, l2) = call(&app, "GET", "/api/v1/receipts?lot=L2", i, None, &[]).await;
        assert_eq!(l2.as_array().unwrap().len(), 0);
        let (s, _, r) = call(
            &app,
            "POST",
            "/api/v1/receipts/batch",
            i,
            Some(json!({"receipts": [good.clone(), good]})),
            &[],
        )
        .await;
        assert_eq!(s, 201, "{r}");
        assert_eq!(r["recorded"], 2);
        // No endpoint edits or deletes receipts.
        assert_eq!(
            call(
                &app,
                "DELETE",
                "/api/v1/receipts",
                Some(&h.admin),
                None,
                &[]
            )
            .await
            .0,
            404
        );
        // Malformed JSON and oversized bodies get the one error shape.
        let (s, _, e) = call(
            &app,
            "POST",
            "/api/v1/receipts",
            i,
            Some(json!({"station": 5})),
            &[],
        )
        .await;
        assert_eq!(s, 400);
        assert_eq!(e["error"]["code"], "bad_request");
    }
}

#[actix_rt::test]
async fn oversized_bodies_are_refused_with_413() {
    let h = Harness::new(Db::Sqlite);
    let app = test::init_service(registry::app(h.state.clone())).await;
    let big = "x".repeat(registry::MAX_JSON_BODY + 10);
    let (s, _, e) = call(
        &app,
        "POST",
        "/api/v1/vendors",
        Some(&h.admin),
        Some(json!({"id": "a", "name": big})),
        &[],
    )
    .await;
    assert_eq!(s, 413, "{e}");
    assert_eq!(e["error"]["code"], "payload_too_large");
}

#[actix_rt::test]
async fn crl_import_revokes_by_serial_only_when_signed_by_a_registered_ca() {
    for db in BACKENDS {
        let h = Harness::new(db);
        let app = test::init_service(registry::app(h.state.clone())).await;
        let a = Some(h.admin.as_str());
        let crl = std::fs::read_to_string(fixtures().join("certs/acme-int.crl.pem")).unwrap();
        // Before the CA is registered, the CRL cannot be authenticated.
        call(
            &app,
            "POST",
            "/api/v1/vendors",
            a,
            Some(json!({"id": "acme", "name": "Acme"})),
            &[],
        )
        .await;
        let (s, _, e) = call(
            &app,
            "POST",
            "/api/v1/revocations/crl",
            a,
            Some(json!({"pem": crl.clone()})),
            &[],
        )
        .await;
        assert_eq!(s, 400, "{e}");
        assert!(
            e["error"]["message"]
                .as_str()
                .unwrap()
                .contains("not a registered certificate")
        );
        call(
            &app,
            "POST",
            "/api/v1/vendors/acme/certificates",
            a,
            Some(json!({"role": "anchor", "pem": pem("acme-root.pem")})),
            &[],
        )
        .await;
        call(
            &app,
            "POST",
            "/api/v1/vendors/acme/certificates",
            a,
            Some(json!({"role": "intermediate", "pem": pem("acme-int.pem")})),
            &[],
        )
        .await;
        let (s, _, r) = call(
            &app,
            "POST",
            "/api/v1/revocations/crl",
            a,
            Some(json!({"pem": crl.clone()})),
            &[],
        )
        .await;
        assert_eq!(s, 201, "{r}");
        assert_eq!(r["imported"], 1);
        assert_eq!(r["issuer"], "CN=Acme Firmware Signing CA 1,O=Acme Chips");
        let (_, _, r) = call(
            &app,
            "POST",
            "/api/v1/revocations/crl",
            a,
            Some(json!({"pem": crl})),
            &[],
        )
        .await;
        assert_eq!(r["already_present"], 1);
        let (_, _, list) = call(&app, "GET", "/api/v1/revocations", a, None, &[]).await;
        assert_eq!(list[0]["reason"], "keyCompromise");
        assert_eq!(list[0]["source"], "crl");
        // Garbage is refused.
        assert_eq!(
            call(
                &app,
                "POST",
                "/api/v1/revocations/crl",
                a,
                Some(json!({"der_base64": "AAAA"})),
                &[]
            )
            .await
            .0,
            400
        );
        assert_eq!(
            call(
                &app,
                "POST",
                "/api/v1/revocations",
                a,
                Some(json!({"pem": pem("old-signer.pem"), "reason": "whoops"})),
                &[]
            )
            .await
            .0,
            400
        );
    }
}

/// Issue 11, item 1: a key belongs to one vendor; a lookalike of a
/// registered certificate (same name, other key) needs a reason; an
/// intermediate must be issued by one of the vendor's own CAs.
#[actix_rt::test]
async fn one_vendors_keys_cannot_become_anothers_anchor() {
    for db in BACKENDS {
        let h = Harness::new(db);
        let app = test::init_service(registry::app(h.state.clone())).await;
        let a = Some(h.admin.as_str());
        seed_acme(&app, &h.admin).await;
        call(
            &app,
            "POST",
            "/api/v1/vendors",
            a,
            Some(json!({"id": "globex", "name": "Globex Radio"})),
            &[],
        )
        .await;
        let register = |vendor: &'static str,
                        role: &'static str,
                        file: &'static str,
                        reason: Option<&'static str>| {
            let app = &app;
            let mut body = json!({"role": role, "pem": pem(file)});
            if let Some(r) = reason {
                body["lookalike_reason"] = r.into();
            }
            async move {
                call(
                    app,
                    "POST",
                    &format!("/api/v1/vendors/{vendor}/certificates"),
                    a,
                    Some(body),
                    &[],
                )
                .await
            }
        };
        // Acme's root as Globex's anchor: refused, naming Acme.
        let (s, _, e) = register("globex", "anchor", "acme-root.pem", None).await;
        assert_eq!(s, 409, "{db:?} {e}");
        assert!(
            e["error"]["message"]
                .as_str()
                .unwrap()
                .contains("already registered for vendor 'acme'"),
            "{e}"
        );
        // An intermediate before its vendor's root: refused; after: registered.
        let (s, _, e) = register("globex", "intermediate", "globex-int.pem", None).await;
        assert_eq!(s, 409, "{e}");
        assert!(
            e["error"]["message"]
                .as_str()
                .unwrap()
                .contains("not issued by any of vendor 'globex'"),
            "{e}"
        );
        assert_eq!(
            register("globex", "anchor", "globex-root.pem", None)
                .await
                .0,
            201
        );
        assert_eq!(
            register("globex", "intermediate", "globex-int.pem", None)
                .await
                .0,
            201
        );
        // Globex's intermediate under Acme: its key is Globex's.
        let (s, _, e) = register("acme", "intermediate", "globex-int.pem", None).await;
        assert_eq!(s, 409, "{e}");
        assert!(
            e["error"]["message"]
                .as_str()
                .unwrap()
                .contains("vendor 'globex'"),
            "{e}"
        );
        // Globex's root as a second Acme anchor.
        assert_eq!(
            register("acme", "anchor", "globex-root.pem", None).await.0,
            409
        );
        // A lookalike of Acme's root (same name, another key): refused
        // without a reason, registered (and audited) with one.
        let (s, _, e) = register("acme", "anchor", "rogue-root.pem", None).await;
        assert_eq!(s, 409, "{e}");
        assert!(
            e["error"]["message"]
                .as_str()
                .unwrap()
                .contains("lookalike"),
            "{e}"
        );
        let (s, _, c) = register(
            "acme",
            "anchor",
            "rogue-root.pem",
            Some("Acme re-keyed its root (ticket 4711)"),
        )
        .await;
        assert_eq!(s, 201, "{c}");
        let (_, _, log) = call(&app, "GET", "/api/v1/audit?limit=1", a, None, &[]).await;
        assert_eq!(
            log[0]["after"]["lookalike_reason"], "Acme re-keyed its root (ticket 4711)",
            "{log}"
        );
        // Acme's own second CA, issued by its root: registered.
        assert_eq!(
            register("acme", "intermediate", "acme-int2.pem", None)
                .await
                .0,
            201
        );

        // A CA both vendors share on purpose: product security records it
        // (procurement cannot), then Globex may register Acme's root.
        let share = json!({"pem": pem("acme-root.pem"), "vendors": ["acme", "globex"], "reason": "joint venture PKI (contract C-77)"});
        let proc = h.token(registry::auth::Role::Procurement);
        assert_eq!(
            call(
                &app,
                "POST",
                "/api/v1/shared-cas",
                Some(&proc),
                Some(share.clone()),
                &[]
            )
            .await
            .0,
            403
        );
        for bad in [
            json!({"pem": pem("acme-root.pem"), "vendors": ["acme"], "reason": "x"}),
            json!({"pem": pem("acme-root.pem"), "vendors": ["acme", "nobody"], "reason": "x"}),
            json!({"pem": pem("acme-root.pem"), "vendors": ["acme", "globex"], "reason": " "}),
        ] {
            let s = call(
                &app,
                "POST",
                "/api/v1/shared-cas",
                a,
                Some(bad.clone()),
                &[],
            )
            .await
            .0;
            assert!(s == 400 || s == 404, "{bad}: {s}");
        }
        let (s, _, rec) = call(&app, "POST", "/api/v1/shared-cas", a, Some(share), &[]).await;
        assert_eq!(s, 201, "{db:?} {rec}");
        // (The re-keyed root registered above has the same name, so this
        // is a lookalike of it too, and needs its reason.)
        let (s, _, e) = register("globex", "anchor", "acme-root.pem", None).await;
        assert_eq!(s, 409, "{e}");
        assert!(
            e["error"]["message"]
                .as_str()
                .unwrap()
                .contains("lookalike"),
            "{e}"
        );
        let (s, _, e) = register(
            "globex",
            "anchor",
            "acme-root.pem",
            Some("the shared joint-venture root"),
        )
        .await;
        assert_eq!(s, 201, "{e}");
        // Shown on both vendor pages, carried in the bundle.
        let (cookie, _, _) = super::ui::sign_in(&app, &h.admin, false).await;
        for v in ["acme", "globex"] {
            let p =
                super::ui::page(&app, "GET", &format!("/vendors/{v}"), &cookie, None, &[]).await;
            assert!(
                p.body.contains("joint venture PKI (contract C-77)"),
                "{v}: {}",
                p.body
            );
        }
        let (_, _, bundle) = call(&app, "GET", "/api/v1/trust-bundle", a, None, &[]).await;
        let payload: serde_json::Value = serde_json::from_slice(
            &base64::Engine::decode(
                &base64::engine::general_purpose::STANDARD,
                bundle["payload"].as_str().unwrap(),
            )
            .unwrap(),
        )
        .unwrap();
        assert_eq!(
            payload["shared_cas"][0]["vendors"],
            json!(["acme", "globex"]),
            "{payload}"
        );
        // The record covers those two vendors only.
        call(
            &app,
            "POST",
            "/api/v1/vendors",
            a,
            Some(json!({"id": "initech", "name": "Initech"})),
            &[],
        )
        .await;
        let (s, _, e) = register("initech", "anchor", "acme-root.pem", Some("x")).await;
        assert_eq!(s, 409, "{e}");
        assert!(
            e["error"]["message"]
                .as_str()
                .unwrap()
                .contains("already registered for vendor"),
            "{e}"
        );
    }
}

/// A root made by OpenSSL at test time with the given `[v3]` extensions
/// (PEM).
fn openssl_root(dir: &std::path::Path, name: &str, extensions: &str) -> String {
    let cnf = dir.join(format!("{name}.cnf"));
    std::fs::write(
        &cnf,
        format!("[req]\ndistinguished_name = dn\nx509_extensions = v3\nprompt = no\n[dn]\nCN = {name}\nO = Profile Test\n[v3]\n{extensions}\n"),
    )
    .unwrap();
    let out = dir.join(format!("{name}.pem"));
    let status = std::process::Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
        ])
        .arg("-keyout")
        .arg(dir.join(format!("{name}.key")))
        .arg("-out")
        .arg(&out)
        .args(["-days", "3650", "-config"])
        .arg(&cnf)
        .status()
        .unwrap();
    assert!(status.success());
    std::fs::read_to_string(out).unwrap()
}

/// The strict certificate profile at registration: each rule refuses with
/// its RFC section named, and the same certificate with the rule obeyed is
/// accepted. CRLs without a CRL number are refused on import.
#[actix_rt::test]
async fn registration_holds_anchors_and_crls_to_the_strict_profile() {
    let dir = tempdir();
    let ok = "basicConstraints = critical, CA:TRUE\nkeyUsage = keyCertSign, cRLSign\nsubjectKeyIdentifier = hash";
    let cases = [
        ("Strict Root", ok.to_string(), None),
        (
            "Loose BC Root",
            "basicConstraints = CA:TRUE\nkeyUsage = keyCertSign, cRLSign\nsubjectKeyIdentifier = hash".into(),
            Some("basicConstraints are not marked critical; they MUST be (RFC 5280 section 4.2.1.9)"),
        ),
        (
            "No SKI Root",
            "basicConstraints = critical, CA:TRUE\nkeyUsage = keyCertSign, cRLSign\nsubjectKeyIdentifier = none".into(),
            Some("without a subjectKeyIdentifier; CA certificates MUST carry it (RFC 5280 section 4.2.1.2)"),
        ),
        (
            "Unknown Critical Root",
            format!("{ok}\n1.3.6.1.4.1.55555.1 = critical, ASN1:NULL"),
            Some("critical extension this verifier does not recognise (1.3.6.1.4.1.55555.1)"),
        ),
        (
            "EKU Root",
            format!("{ok}\nextendedKeyUsage = codeSigning"),
            Some("is a root with an extended key usage extension"),
        ),
    ];
    let roots: Vec<(String, Option<&str>)> = cases
        .iter()
        .map(|(name, ext, want)| (openssl_root(&dir, &name.replace(' ', "-"), ext), *want))
        .collect();
    // A CRL without a CRL number, signed by the registered Acme intermediate
    // (Python `cryptography`, as OpenSSL's `ca -gencrl` always numbers CRLs
    // when configured to).
    let crl_path = dir.join("no-number.crl.pem");
    let script = format!(
        r#"
import datetime
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
key = serialization.load_pem_private_key(open("{k}", "rb").read(), None)
ca = x509.load_pem_x509_certificate(open("{c}", "rb").read())
now = datetime.datetime(2026, 9, 1, tzinfo=datetime.timezone.utc)
entry = x509.RevokedCertificateBuilder().serial_number(0x5151).revocation_date(now).build()
crl = (x509.CertificateRevocationListBuilder().issuer_name(ca.subject)
       .last_update(now).next_update(now + datetime.timedelta(days=3650))
       .add_revoked_certificate(entry).sign(key, hashes.SHA256()))
open("{o}", "wb").write(crl.public_bytes(serialization.Encoding.PEM))
"#,
        k = fixtures().join("keys/acme-int.key").display(),
        c = fixtures().join("certs/acme-int.pem").display(),
        o = crl_path.display()
    );
    let status = std::process::Command::new("python3")
        .args(["-c", &script])
        .status()
        .unwrap();
    assert!(status.success(), "python cryptography builds the CRL");
    let unnumbered = std::fs::read_to_string(&crl_path).unwrap();

    for db in BACKENDS {
        let h = Harness::new(db);
        let app = test::init_service(registry::app(h.state.clone())).await;
        let a = Some(h.admin.as_str());
        call(
            &app,
            "POST",
            "/api/v1/vendors",
            a,
            Some(json!({"id": "acme", "name": "Acme"})),
            &[],
        )
        .await;
        for (pem_text, want) in &roots {
            let (s, _, body) = call(
                &app,
                "POST",
                "/api/v1/vendors/acme/certificates",
                a,
                Some(json!({"role": "anchor", "pem": pem_text})),
                &[],
            )
            .await;
            match want {
                None => assert_eq!(s, 201, "{db:?} {body}"),
                Some(text) => {
                    assert_eq!(s, 400, "{db:?} {body}");
                    let msg = body["error"]["message"].as_str().unwrap();
                    assert!(msg.contains(text), "{db:?}: expected '{text}' in {msg}");
                }
            }
        }
        for (role, name) in [
            ("anchor", "acme-root.pem"),
            ("intermediate", "acme-int.pem"),
        ] {
            let (s, _, b) = call(
                &app,
                "POST",
                "/api/v1/vendors/acme/certificates",
                a,
                Some(json!({"role": role, "pem": pem(name)})),
                &[],
            )
            .await;
            assert_eq!(s, 201, "{b}");
        }
        let (s, _, e) = call(
            &app,
            "POST",
            "/api/v1/revocations/crl",
            a,
            Some(json!({"pem": unnumbered})),
            &[],
        )
        .await;
        assert_eq!(s, 400, "{db:?} {e}");
        assert!(
            e["error"]["message"]
                .as_str()
                .unwrap()
                .contains("has no CRL number"),
            "{e}"
        );
        // Nothing of the refused CRL was recorded; the numbered one imports.
        let crl = std::fs::read_to_string(fixtures().join("certs/acme-int.crl.pem")).unwrap();
        let (s, _, r) = call(
            &app,
            "POST",
            "/api/v1/revocations/crl",
            a,
            Some(json!({"pem": crl})),
            &[],
        )
        .await;
        assert_eq!(s, 201, "{db:?} {r}");
        assert!(r["imported"].as_u64().unwrap() >= 1, "{r}");
    }
}

/// Issue 11, item 3: retire, never delete. A retired anchor leaves the
/// trust bundle, the images whose evidence chained to it are withdrawn
/// (out of the allowlists), and the row stays, listed as retired with its
/// reason, on the audit log; bounds, roles and repeats are refused.
#[actix_rt::test]
async fn a_retired_anchor_leaves_the_bundle_and_its_images_are_withdrawn() {
    use registry::auth::Role;
    for db in BACKENDS {
        let h = Harness::new(db);
        let app = test::init_service(registry::app(h.state.clone())).await;
        let a = h.admin.clone();
        seed_acme(&app, &a).await;
        let st = h.token(Role::Inspector);
        let receipt = signed_receipt(
            "acme-signer-p256",
            "acme-int",
            "acme",
            "acme-wifi-fw",
            "1.5.0",
            b"image under the root",
            "accept",
        );
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
        let (_, _, certs) = call(
            &app,
            "GET",
            "/api/v1/vendors/acme/certificates",
            Some(&a),
            None,
            &[],
        )
        .await;
        let root = certs
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["role"] == "anchor")
            .unwrap()
            .clone();
        let uri = format!("/api/v1/certificates/{}/retire", root["id"]);
        let why = json!({"reason": "registered by mistake"});
        assert_eq!(
            call(&app, "POST", &uri, Some(&st), Some(why.clone()), &[])
                .await
                .0,
            403
        );
        for bad in [
            json!({"reason": "  "}),
            json!({"reason": "x".repeat(1001)}),
            json!({}),
        ] {
            assert_eq!(
                call(&app, "POST", &uri, Some(&a), Some(bad.clone()), &[])
                    .await
                    .0,
                400,
                "{bad}"
            );
        }
        assert_eq!(
            call(
                &app,
                "POST",
                "/api/v1/certificates/999999/retire",
                Some(&a),
                Some(why.clone()),
                &[]
            )
            .await
            .0,
            404
        );
        let root_der = ::pem::parse(pem("acme-root.pem")).unwrap().into_contents();
        let root_b64 = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, root_der);
        assert!(
            bundle_payload(&app, &a)
                .await
                .to_string()
                .contains(&root_b64[..60]),
            "the root is in the bundle"
        );
        let (s, _, retired) = call(&app, "POST", &uri, Some(&a), Some(why.clone()), &[]).await;
        assert_eq!(s, 200, "{db:?} {retired}");
        assert_eq!(retired["retired_reason"], "registered by mistake");
        assert!(retired["retired_at"].is_string(), "{retired}");
        let (s, _, again) = call(&app, "POST", &uri, Some(&a), Some(why), &[]).await;
        assert_eq!(s, 409, "{again}");
        // Kept on record, listed as retired (API and vendor page).
        let (_, _, certs) = call(
            &app,
            "GET",
            "/api/v1/vendors/acme/certificates",
            Some(&a),
            None,
            &[],
        )
        .await;
        assert_eq!(certs.as_array().unwrap().len(), 2, "{certs}");
        let (cookie, _, _) = super::ui::sign_in(&app, &a, false).await;
        let p = super::ui::page(&app, "GET", "/vendors/acme", &cookie, None, &[]).await;
        assert!(p.body.contains("registered by mistake"), "{}", p.body);
        assert!(p.body.contains("status retired"), "{}", p.body);
        // Out of the bundle.
        assert!(
            !bundle_payload(&app, &a)
                .await
                .to_string()
                .contains(&root_b64[..60]),
            "the retired root is still in the bundle"
        );
        // Its image is withdrawn, and the change is audited.
        let (_, _, after) = call(
            &app,
            "GET",
            &format!("/api/v1/receipts/{}", r["id"]),
            Some(&a),
            None,
            &[],
        )
        .await;
        assert_eq!(after["registry_verdict"], "reject", "{db:?} {after}");
        let (_, _, log) = call(&app, "GET", "/api/v1/audit?limit=10", Some(&a), None, &[]).await;
        assert!(
            log.as_array()
                .unwrap()
                .iter()
                .any(|e| e["action"] == "retire" && e["entity"] == "certificate"),
            "{log}"
        );
    }
}

/// Issue 11, item 3: a retired component leaves the bundle, its images'
/// receipts are withdrawn, it stays listed as retired and takes no more
/// changes.
#[actix_rt::test]
async fn a_retired_component_leaves_the_bundle_and_takes_no_more_changes() {
    use registry::auth::Role;
    for db in BACKENDS {
        let h = Harness::new(db);
        let app = test::init_service(registry::app(h.state.clone())).await;
        let a = h.admin.clone();
        seed_acme(&app, &a).await;
        let st = h.token(Role::Inspector);
        let receipt = signed_receipt(
            "acme-signer-p256",
            "acme-int",
            "acme",
            "acme-wifi-fw",
            "1.5.0",
            b"image of a component pasted by mistake",
            "accept",
        );
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
        let uri = "/api/v1/components/acme-wifi-fw/retire";
        let why = json!({"reason": "pasted the wrong name"});
        assert_eq!(
            call(&app, "POST", uri, Some(&st), Some(why.clone()), &[])
                .await
                .0,
            403
        );
        assert_eq!(
            call(
                &app,
                "POST",
                uri,
                Some(&a),
                Some(json!({"reason": ""})),
                &[]
            )
            .await
            .0,
            400
        );
        let (s, _, c) = call(&app, "POST", uri, Some(&a), Some(why.clone()), &[]).await;
        assert_eq!(s, 200, "{db:?} {c}");
        assert_eq!(c["retired_reason"], "pasted the wrong name");
        assert_eq!(
            call(&app, "POST", uri, Some(&a), Some(why), &[]).await.0,
            409
        );
        let (_, _, after) = call(
            &app,
            "GET",
            &format!("/api/v1/receipts/{}", r["id"]),
            Some(&a),
            None,
            &[],
        )
        .await;
        assert_eq!(after["registry_verdict"], "reject", "{db:?} {after}");
        let (_, _, comps) = call(&app, "GET", "/api/v1/components", Some(&a), None, &[]).await;
        let listed = comps
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["name"] == "acme-wifi-fw")
            .unwrap()
            .clone();
        assert!(listed["retired_at"].is_string(), "{listed}");
        let (s, _, e) = call(
            &app,
            "PUT",
            "/api/v1/components/acme-wifi-fw/floor",
            Some(&a),
            Some(json!({"min_version": "2.0.0"})),
            &[("If-Match", &format!("\"{}\"", listed["version"]))],
        )
        .await;
        assert_eq!(s, 409, "{e}");
        assert!(
            e["error"]["message"].as_str().unwrap().contains("retired"),
            "{e}"
        );
        let (cookie, _, _) = super::ui::sign_in(&app, &a, false).await;
        let p = super::ui::page(&app, "GET", "/vendors/acme", &cookie, None, &[]).await;
        assert!(p.body.contains("pasted the wrong name"), "{}", p.body);
        let payload = bundle_payload(&app, &a).await;
        let acme = payload["vendors"]
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v["id"] == "acme")
            .unwrap();
        assert!(
            !acme["components"]
                .as_array()
                .unwrap()
                .iter()
                .any(|c| c["name"] == "acme-wifi-fw"),
            "{acme}"
        );
    }
}

/// Issue 11, item 3: a TSA anchor is retired, never deleted: out of the
/// bundle, listed as retired.
#[actix_rt::test]
async fn a_retired_tsa_anchor_leaves_the_bundle_and_stays_listed() {
    for db in BACKENDS {
        let h = Harness::new(db);
        let app = test::init_service(registry::app(h.state.clone())).await;
        let a = h.admin.clone();
        seed_acme(&app, &a).await;
        let (_, _, tsas) = call(&app, "GET", "/api/v1/tsa-anchors", Some(&a), None, &[]).await;
        let id = tsas[0]["id"].clone();
        let count = |p: &serde_json::Value| p["tsa_anchors"].as_array().map_or(0, Vec::len);
        assert_eq!(count(&bundle_payload(&app, &a).await), 1);
        let (s, _, t) = call(
            &app,
            "POST",
            &format!("/api/v1/tsa-anchors/{id}/retire"),
            Some(&a),
            Some(json!({"reason": "TSA decommissioned"})),
            &[],
        )
        .await;
        assert_eq!(s, 200, "{db:?} {t}");
        assert_eq!(t["retired_reason"], "TSA decommissioned");
        assert_eq!(count(&bundle_payload(&app, &a).await), 0);
        let (_, _, tsas) = call(&app, "GET", "/api/v1/tsa-anchors", Some(&a), None, &[]).await;
        assert!(tsas[0]["retired_at"].is_string(), "{tsas}");
    }
}
