//! Issue 16: the registry never trusts a verdict, it re-derives it. Forged
//! receipts are refused or flagged and never reach an export; a revocation
//! withdraws the images whose evidence no longer verifies (db -> dbx) and
//! the brick check says so; POST answers with its own receipt. Both
//! backends; evidence made by OpenSSL with the fixture keys.

use super::*;
use registry::auth::Role;
use serde_json::json;

/// The images in a product's JSON allowlist, and its revoked images.
async fn images<S, B>(app: &S, token: &str) -> (Vec<String>, Vec<String>)
where
    S: actix_web::dev::Service<
            actix_http::Request,
            Response = actix_web::dev::ServiceResponse<B>,
            Error = actix_web::Error,
        >,
    B: actix_web::body::MessageBody,
{
    let (s, _, al) = call(
        app,
        "GET",
        "/api/v1/products/gw-1/allowlist",
        Some(token),
        None,
        &[],
    )
    .await;
    assert_eq!(s, 200, "{al}");
    let shas = |v: &serde_json::Value| -> Vec<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|i| i["sha256"].as_str().unwrap().to_string())
            .collect()
    };
    (
        shas(&al["stages"][0]["images"]),
        shas(&al["revoked_images"]),
    )
}

fn sha(content: &[u8]) -> String {
    inspector::digest::hex(&inspector::digest::DigestAlgorithm::Sha256.hash(content))
}

#[actix_rt::test]
async fn forged_receipts_never_reach_an_export_and_revocation_withdraws_images() {
    for db in BACKENDS {
        let h = Harness::new(db);
        let app = test::init_service(registry::app(h.state.clone())).await;
        let a = h.admin.clone();
        seed_acme(&app, &a).await;
        // Globex, with its own root, so its real signature exists in the trust state.
        call(
            &app,
            "POST",
            "/api/v1/vendors",
            Some(&a),
            Some(json!({"id": "globex", "name": "Globex"})),
            &[],
        )
        .await;
        let (s, _, b) = call(
            &app,
            "POST",
            "/api/v1/vendors/globex/certificates",
            Some(&a),
            Some(json!({"role": "anchor", "pem": pem("globex-root.pem")})),
            &[],
        )
        .await;
        assert_eq!(s, 201, "{b}");
        let (s, _, b) = call(&app, "POST", "/api/v1/products", Some(&a), Some(json!({"id": "gw-1", "name": "GW", "stages": [
            {"name": "boot", "algorithms": ["ecdsa-p256", "ecdsa-p384", "rsa-2048"], "components": ["acme-wifi-fw"]}]})), &[]).await;
        assert_eq!(s, 201, "{b}");
        let st = h.token(Role::Inspector);

        // 1. "accept" with no signers and no evidence: stored as the
        //    station's word only, never allowlisted.
        let forged = json!({"station": "evil", "lot": "L", "bundle_serial": 1, "report": {
            "report_version": 1, "verdict": "accept", "summary": "trust me", "vendor": "acme",
            "component": "acme-wifi-fw", "version": "9.9.9", "blob": {"sha256": sha(b"evil"), "size": 4},
            "signature": {"kind": "cms"}, "verification_time": AT, "checks": [], "signers": []}});
        let (s, _, r) = call(
            &app,
            "POST",
            "/api/v1/receipts",
            Some(&st),
            Some(forged),
            &[],
        )
        .await;
        assert_eq!(s, 201, "{r}");
        assert_eq!(r["registry_verdict"], "asserted", "{r}");
        assert!(
            r["registry_summary"]
                .as_str()
                .unwrap()
                .contains("no signature material"),
            "{r}"
        );

        // 2. A real Acme signature, but the claimed hash is another blob's.
        let mut altered = signed_receipt(
            "acme-signer-p256",
            "acme-int",
            "acme",
            "acme-wifi-fw",
            "1.5.0",
            b"real image",
            "accept",
        );
        altered["report"]["blob"]["sha256"] = sha(b"evil").into();
        let (s, _, r) = call(
            &app,
            "POST",
            "/api/v1/receipts",
            Some(&st),
            Some(altered),
            &[],
        )
        .await;
        assert_eq!(s, 201, "{r}");
        assert_eq!(r["registry_verdict"], "reject", "{db:?} {r}");
        assert_eq!(r["disagreement"], true, "{r}");
        assert!(
            r["registry_summary"]
                .as_str()
                .unwrap()
                .contains("messageDigest"),
            "{r}"
        );

        // 3. A real signature of another vendor, claimed as Acme's.
        let other = signed_receipt(
            "globex-signer",
            "globex-int",
            "acme",
            "acme-wifi-fw",
            "1.5.0",
            b"globex image",
            "accept",
        );
        let (_, _, r) = call(
            &app,
            "POST",
            "/api/v1/receipts",
            Some(&st),
            Some(other),
            &[],
        )
        .await;
        assert_eq!(r["registry_verdict"], "reject", "{r}");
        assert_eq!(r["disagreement"], true, "{r}");

        // 4. A station that rejects a good signature disagrees too (and
        //    the image is the registry's to allowlist: it verified it).
        let good = signed_receipt(
            "acme-signer-p256",
            "acme-int",
            "acme",
            "acme-wifi-fw",
            "1.5.0",
            b"good image 1.5.0",
            "reject",
        );
        let (_, _, r) = call(&app, "POST", "/api/v1/receipts", Some(&st), Some(good), &[]).await;
        assert_eq!(r["registry_verdict"], "accept", "{r}");
        assert_eq!(r["disagreement"], true, "{r}");
        let good2 = signed_receipt(
            "acme-signer-p256",
            "acme-int",
            "acme",
            "acme-wifi-fw",
            "1.6.0",
            b"good image 1.6.0",
            "accept",
        );
        let (_, _, r) = call(
            &app,
            "POST",
            "/api/v1/receipts",
            Some(&st),
            Some(good2),
            &[],
        )
        .await;
        assert_eq!(r["registry_verdict"], "accept", "{r}");
        assert_eq!(r["disagreement"], false, "{r}");
        let good_id = r["id"].as_i64().unwrap();
        // The full receipt holds both reports.
        let (_, _, full) = call(
            &app,
            "GET",
            &format!("/api/v1/receipts/{good_id}"),
            Some(&a),
            None,
            &[],
        )
        .await;
        assert_eq!(full["registry_report"]["verdict"], "accept", "{full}");
        assert_eq!(full["report"]["summary"], "station says accept", "{full}");

        // Disagreements are flagged: list filter, audit log, dashboard, metrics.
        let (_, hdr, flagged) = call(
            &app,
            "GET",
            "/api/v1/receipts?disagreement=true",
            Some(&a),
            None,
            &[],
        )
        .await;
        assert_eq!(flagged.as_array().unwrap().len(), 3, "{flagged}");
        assert_eq!(hdr.get("x-total-count").unwrap(), "3");
        assert!(
            flagged[0].get("report").is_none(),
            "lists never carry full reports"
        );
        let (_, _, audit) =
            call(&app, "GET", "/api/v1/audit?limit=1000", Some(&a), None, &[]).await;
        let disagree = audit
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["action"] == "disagree")
            .count();
        assert_eq!(disagree, 3, "{audit}");

        // Exports: only the two images the registry verified.
        let (db_images, dbx_images) = images(&app, &a).await;
        assert_eq!(db_images.len(), 2, "{db_images:?}");
        assert!(
            db_images.contains(&sha(b"good image 1.5.0"))
                && db_images.contains(&sha(b"good image 1.6.0"))
        );
        assert!(!db_images.contains(&sha(b"evil")) && !db_images.contains(&sha(b"globex image")));
        assert!(dbx_images.is_empty());

        // 5. A revocation dated after the evidence was verified leaves it
        //    standing (the signature existed before the key was compromised).
        let (s, _, r) = call(
            &app,
            "POST",
            "/api/v1/revocations",
            Some(&a),
            Some(json!({
            "pem": pem("acme-signer-p256.pem"), "reason": "keyCompromise",
            "invalidity_date": "2026-11-15T00:00:00Z"})),
            &[],
        )
        .await;
        assert_eq!(s, 201, "{db:?} {r}");
        assert_eq!(images(&app, &a).await.0.len(), 2);

        // 6. Revoked for all time: the brick check names the images that
        //    would move to dbx and refuses without confirmation…
        let revoke = json!({"pem": pem("acme-signer-p256.pem"), "reason": "keyCompromise"});
        let (s, _, e) = call(
            &app,
            "POST",
            "/api/v1/revocations",
            Some(&a),
            Some(revoke.clone()),
            &[],
        )
        .await;
        assert_eq!(s, 409, "{e}");
        let msg = e["error"]["message"].as_str().unwrap();
        assert!(
            msg.contains("would move to dbx") && msg.contains(&sha(b"good image 1.6.0")),
            "{msg}"
        );
        assert_eq!(
            images(&app, &a).await.0.len(),
            2,
            "refused: nothing changed"
        );
        // …the confirmation page counts the receipts signed under it…
        let (cookie, csrf, _) = super::ui::sign_in(&app, &a, false).await;
        let form = format!(
            "csrf={csrf}&pem={}&reason=keyCompromise",
            super::ui::enc(&pem("acme-signer-p256.pem"))
        );
        let pasted = super::ui::page(&app, "POST", "/revoke", &cookie, Some(&form), &[]).await;
        assert_eq!(pasted.status, 200, "{}", pasted.body);
        assert!(
            pasted
                .body
                .contains("<strong>2</strong> recorded inspections"),
            "{}",
            pasted.body
        );
        assert!(pasted.body.contains("would move to dbx"), "{}", pasted.body);
        // …and with confirmation the images move from db to dbx.
        let mut confirmed = revoke.clone();
        confirmed["confirm_brick"] = true.into();
        let (s, _, r) = call(
            &app,
            "POST",
            "/api/v1/revocations",
            Some(&a),
            Some(confirmed),
            &[],
        )
        .await;
        assert_eq!(s, 201, "{r}");
        let (db_images, dbx_images) = images(&app, &a).await;
        assert!(db_images.is_empty(), "{db_images:?}");
        assert_eq!(dbx_images.len(), 2, "{dbx_images:?}");
        let (_, _, withdrawn) = call(
            &app,
            "GET",
            &format!("/api/v1/receipts/{good_id}"),
            Some(&a),
            None,
            &[],
        )
        .await;
        assert_eq!(withdrawn["registry_verdict"], "reject", "{withdrawn}");
        assert!(
            withdrawn["registry_summary"]
                .as_str()
                .unwrap()
                .starts_with("withdrawn: "),
            "{withdrawn}"
        );
        assert!(withdrawn["reevaluated_at"].is_string(), "{withdrawn}");
        let (_, _, audit) =
            call(&app, "GET", "/api/v1/audit?limit=1000", Some(&a), None, &[]).await;
        assert!(
            audit
                .as_array()
                .unwrap()
                .iter()
                .any(|e| e["action"] == "reevaluate" && e["after"]["receipts_withdrawn"] == 2),
            "{audit}"
        );
        // A new receipt under the revoked key is not accepted either.
        let late = signed_receipt(
            "acme-signer-p256",
            "acme-int",
            "acme",
            "acme-wifi-fw",
            "1.7.0",
            b"late image",
            "accept",
        );
        let (_, _, r) = call(&app, "POST", "/api/v1/receipts", Some(&st), Some(late), &[]).await;
        assert_eq!(r["registry_verdict"], "reject", "{r}");
        let (_, _, audit_ok) = call(&app, "GET", "/api/v1/audit/verify", Some(&a), None, &[]).await;
        assert_eq!(audit_ok["intact"], true, "{audit_ok}");
    }
}

#[actix_rt::test]
async fn receipt_bounds_and_each_answer_is_its_own_receipt() {
    for db in BACKENDS {
        let h = Harness::new(db);
        let app = test::init_service(registry::app(h.state.clone())).await;
        seed_acme(&app, &h.admin).await;
        let st = h.token(Role::Inspector);
        let base = signed_receipt(
            "acme-signer-p256",
            "acme-int",
            "acme",
            "acme-wifi-fw",
            "1.5.0",
            b"bounded",
            "accept",
        );
        let bad = |f: &dyn Fn(&mut serde_json::Value)| {
            let mut r = base.clone();
            f(&mut r);
            r
        };
        for (req, field) in [
            (
                bad(&|r| r["signature"] = "!!not base64!!".into()),
                "signature",
            ),
            (
                bad(&|r| r["signature"] = "A".repeat(1_500_000).into()),
                "signature",
            ),
            (
                bad(&|r| r["report"]["summary"] = "x".repeat(300 * 1024).into()),
                "report",
            ),
            (
                bad(&|r| r["report"]["blob"]["sha256"] = "abc".into()),
                "report.blob.sha256",
            ),
            (
                bad(&|r| r["report"]["blob"]["sha384"] = "zz".into()),
                "report.blob.sha384",
            ),
            (
                bad(&|r| r["report"]["vendor"] = "v\u{0}x".into()),
                "report.vendor",
            ),
        ] {
            let (s, _, e) = call(&app, "POST", "/api/v1/receipts", Some(&st), Some(req), &[]).await;
            assert_eq!(s, 400, "{db:?} {field}: {e}");
            assert!(
                e["error"]["message"].as_str().unwrap().contains(field),
                "{field}: {e}"
            );
        }
        let (_, hdr, _) = call(&app, "GET", "/api/v1/receipts", Some(&st), None, &[]).await;
        assert_eq!(
            hdr.get("x-total-count").unwrap(),
            "0",
            "nothing half-written"
        );
        // Batches: over the limit refused; ids answered in order.
        let many: Vec<serde_json::Value> = (0..1001).map(|_| base.clone()).collect();
        let (s, _, e) = call(
            &app,
            "POST",
            "/api/v1/receipts/batch",
            Some(&st),
            Some(json!({"receipts": many})),
            &[],
        )
        .await;
        assert_eq!(s, 400, "{e}");
        let (s, _, b) = call(
            &app,
            "POST",
            "/api/v1/receipts/batch",
            Some(&st),
            Some(json!({"receipts": [base.clone(), base.clone()]})),
            &[],
        )
        .await;
        assert_eq!(s, 201, "{b}");
        assert_eq!(b["recorded"], 2);
        assert_eq!(b["registry_accepted"], 2);
        assert_eq!(b["ids"].as_array().unwrap().len(), 2);
        // Concurrent posts: every answer names the receipt its request created.
        let posts = (0..24).map(|i| {
            let mut r = base.clone();
            r["station"] = format!("station-{i}").into();
            let (app, st) = (&app, &st);
            async move {
                let (s, _, v) = call(app, "POST", "/api/v1/receipts", Some(st), Some(r), &[]).await;
                (i, s, v)
            }
        });
        let answers = futures_util::future::join_all(posts).await;
        let mut ids = std::collections::BTreeSet::new();
        for (i, s, v) in answers {
            assert_eq!(s, 201, "{v}");
            assert_eq!(v["station"], format!("station-{i}"), "{db:?}: {v}");
            assert!(ids.insert(v["id"].as_i64().unwrap()));
        }
    }
}
