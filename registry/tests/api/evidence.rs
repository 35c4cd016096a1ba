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
        // The C header's revoked list holds them too, read back by gcc.
        let req = test::TestRequest::get()
            .uri("/api/v1/products/gw-1/allowlist?format=c-header")
            .insert_header(("Authorization", format!("Bearer {a}")))
            .to_request();
        let header = test::read_body(test::call_service(&app, req).await).await;
        let dir = tempdir();
        std::fs::write(dir.join("tollgate_allowlist.h"), &header).unwrap();
        std::fs::write(
            dir.join("main.c"),
            "#include <stdio.h>\n#include \"tollgate_allowlist.h\"\nint main(void){ printf(\"%d\", TOLLGATE_REVOKED_IMAGE_COUNT); for (int n = 0; n < TOLLGATE_REVOKED_IMAGE_COUNT; n++) { printf(\" \"); for (int i = 0; i < 32; i++) printf(\"%02x\", tollgate_revoked_images[n][i]); } printf(\"\\n\"); return 0; }\n",
        )
        .unwrap();
        let cc = std::process::Command::new("gcc")
            .args(["-std=c99", "-Wall", "-Wextra", "-Werror", "-o"])
            .arg(dir.join("main"))
            .arg(dir.join("main.c"))
            .output()
            .unwrap();
        assert!(
            cc.status.success(),
            "{}",
            String::from_utf8_lossy(&cc.stderr)
        );
        let run = std::process::Command::new(dir.join("main"))
            .output()
            .unwrap();
        let line = String::from_utf8(run.stdout).unwrap();
        let mut words = line.split_whitespace();
        assert_eq!(words.next(), Some("2"), "{line}");
        let mut from_c: Vec<String> = words.map(str::to_string).collect();
        from_c.sort();
        let mut expected = dbx_images.clone();
        expected.sort();
        assert_eq!(from_c, expected);
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

/// A station key, its token binding, and envelopes made the way
/// `tollgate-inspect` makes them (inspector::attest + inspector::dsse).
fn station_envelope(
    key: &p256::ecdsa::SigningKey,
    station: &str,
    receipt: &serde_json::Value,
) -> serde_json::Value {
    use base64::Engine;
    let report: inspector::report::Report =
        serde_json::from_value(receipt["report"].clone()).unwrap();
    let evidence = base64::engine::general_purpose::STANDARD
        .decode(receipt["signature"].as_str().unwrap())
        .unwrap();
    let st = inspector::attest::statement(
        &report,
        &inspector::attest::Context {
            verifier_id: format!("tollgate-station:{station}"),
            station,
            lot: "L-7",
            bundle_serial: 3,
            policy_sha256: None,
            evidence: &evidence,
        },
    );
    let env = inspector::dsse::seal(
        inspector::dsse::IN_TOTO_PAYLOAD_TYPE,
        &serde_json::to_vec(&st).unwrap(),
        key,
    )
    .unwrap();
    json!({"envelope": env, "signature": receipt["signature"]})
}

fn public_pem(key: &p256::ecdsa::SigningKey) -> String {
    ::pem::encode(&::pem::Pem::new(
        "PUBLIC KEY",
        inspector::dsse::public_spki(key).unwrap(),
    ))
}

#[actix_rt::test]
async fn station_signed_receipts_are_bound_to_their_token_and_recorded_once() {
    for db in BACKENDS {
        let h = Harness::new(db);
        let app = test::init_service(registry::app(h.state.clone())).await;
        let a = h.admin.clone();
        seed_acme(&app, &a).await;
        // Two inspector tokens; the station key is bound to the first.
        let (_, _, t1) = call(
            &app,
            "POST",
            "/api/v1/tokens",
            Some(&a),
            Some(json!({"name": "line-3", "role": "inspector"})),
            &[],
        )
        .await;
        let (_, _, t2) = call(
            &app,
            "POST",
            "/api/v1/tokens",
            Some(&a),
            Some(json!({"name": "line-4", "role": "inspector"})),
            &[],
        )
        .await;
        let (tok1, tok2) = (
            t1["token"].as_str().unwrap().to_string(),
            t2["token"].as_str().unwrap().to_string(),
        );
        let key = p256::ecdsa::SigningKey::from_slice(&[42u8; 32]).unwrap();
        let rogue = p256::ecdsa::SigningKey::from_slice(&[43u8; 32]).unwrap();
        let register =
            json!({"name": "line-3", "token_id": t1["id"], "public_key_pem": public_pem(&key)});
        // Only admins register; a token of another role cannot be bound.
        assert_eq!(
            call(
                &app,
                "POST",
                "/api/v1/stations",
                Some(&tok1),
                Some(register.clone()),
                &[]
            )
            .await
            .0,
            403
        );
        let (s, _, e) = call(
            &app,
            "POST",
            "/api/v1/stations",
            Some(&a),
            Some(json!({"name": "x", "token_id": 1, "public_key_pem": public_pem(&rogue)})),
            &[],
        )
        .await;
        assert_eq!(s, 400, "the admin token is not an inspector token: {e}");
        let (s, _, e) = call(
            &app,
            "POST",
            "/api/v1/stations",
            Some(&a),
            Some(
                json!({"name": "x", "token_id": t1["id"], "public_key_pem": pem("acme-root.pem")}),
            ),
            &[],
        )
        .await;
        assert_eq!(s, 400, "{e}");
        let (s, _, k) = call(
            &app,
            "POST",
            "/api/v1/stations",
            Some(&a),
            Some(register.clone()),
            &[],
        )
        .await;
        assert_eq!(s, 201, "{db:?} {k}");
        assert_eq!(
            call(
                &app,
                "POST",
                "/api/v1/stations",
                Some(&a),
                Some(register),
                &[]
            )
            .await
            .0,
            409
        );
        let keyid = k["keyid"].as_str().unwrap().to_string();

        let good = signed_receipt(
            "acme-signer-p256",
            "acme-int",
            "acme",
            "acme-wifi-fw",
            "1.5.0",
            b"signed image",
            "accept",
        );
        let env = station_envelope(&key, "line-3", &good);
        let post = |token: String, receipts: Vec<serde_json::Value>| {
            let app = &app;
            async move {
                call(
                    app,
                    "POST",
                    "/api/v1/receipts/signed",
                    Some(&token),
                    Some(json!({"receipts": receipts})),
                    &[],
                )
                .await
            }
        };
        // Refused: another token, an unregistered key, the wrong station
        // name, an altered payload, other evidence.
        let (s, _, e) = post(tok2.clone(), vec![env.clone()]).await;
        assert_eq!(s, 403, "{e}");
        assert!(
            e["error"]["message"]
                .as_str()
                .unwrap()
                .contains("bound to another token"),
            "{e}"
        );
        let (s, _, e) = post(
            tok1.clone(),
            vec![station_envelope(&rogue, "line-3", &good)],
        )
        .await;
        assert_eq!(s, 403, "{e}");
        assert!(
            e["error"]["message"]
                .as_str()
                .unwrap()
                .contains("not a registered station key"),
            "{e}"
        );
        let (s, _, e) = post(tok1.clone(), vec![station_envelope(&key, "line-9", &good)]).await;
        assert_eq!(s, 400, "{e}");
        assert!(
            e["error"]["message"]
                .as_str()
                .unwrap()
                .contains("names station 'line-9'"),
            "{e}"
        );
        let mut altered = env.clone();
        let mut statement: serde_json::Value = serde_json::from_slice(
            &base64::Engine::decode(
                &base64::engine::general_purpose::STANDARD,
                altered["envelope"]["payload"].as_str().unwrap(),
            )
            .unwrap(),
        )
        .unwrap();
        statement["predicate"]["tollgate"]["report"]["version"] = "9.9.9".into();
        altered["envelope"]["payload"] = base64::Engine::encode(
            &base64::engine::general_purpose::STANDARD,
            statement.to_string(),
        )
        .into();
        let (s, _, e) = post(tok1.clone(), vec![altered]).await;
        assert_eq!(s, 400, "{e}");
        assert!(
            e["error"]["message"]
                .as_str()
                .unwrap()
                .contains("does not verify"),
            "{e}"
        );
        let mut swapped = env.clone();
        swapped["signature"] = signed_receipt(
            "acme-signer-p256",
            "acme-int",
            "acme",
            "acme-wifi-fw",
            "1.5.0",
            b"other",
            "accept",
        )["signature"]
            .clone();
        let (s, _, e) = post(tok1.clone(), vec![swapped]).await;
        assert_eq!(s, 400, "{e}");
        assert!(
            e["error"]["message"]
                .as_str()
                .unwrap()
                .contains("not the evidence"),
            "{e}"
        );
        let (_, hdr, _) = call(&app, "GET", "/api/v1/receipts", Some(&a), None, &[]).await;
        assert_eq!(
            hdr.get("x-total-count").unwrap(),
            "0",
            "nothing recorded by refused pushes"
        );

        // Accepted, then pushed again (and twice in one batch): recorded once.
        let (s, _, r) = post(tok1.clone(), vec![env.clone(), env.clone()]).await;
        assert_eq!(s, 201, "{r}");
        assert_eq!(
            (r["recorded"].as_u64(), r["already_recorded"].as_u64()),
            (Some(1), Some(0)),
            "{r}"
        );
        assert_eq!(r["ids"][0], r["ids"][1]);
        let (s, _, again) = post(tok1.clone(), vec![env.clone()]).await;
        assert_eq!(s, 201, "{again}");
        assert_eq!(
            (
                again["recorded"].as_u64(),
                again["already_recorded"].as_u64()
            ),
            (Some(0), Some(1)),
            "{again}"
        );
        assert_eq!(again["ids"][0], r["ids"][0]);
        let id = r["ids"][0].as_i64().unwrap();
        let (_, _, v) = call(
            &app,
            "GET",
            &format!("/api/v1/receipts/{id}"),
            Some(&a),
            None,
            &[],
        )
        .await;
        assert_eq!(v["station_key"], keyid.as_str(), "{v}");
        assert_eq!(v["station"], "line-3");
        assert_eq!(v["lot"], "L-7");
        assert_eq!(v["registry_verdict"], "accept", "{v}");

        // The station's envelope verifies with securesystemslib too.
        let (ok, out) = python_verifies_dsse(&public_pem(&key), &env["envelope"]);
        assert!(ok, "{out}");
        assert!(out.starts_with("PASSED"), "{out}");

        // The registry's own attestation, verified by securesystemslib with
        // the registry certificate; a forged copy is not.
        let (s, _, att) = call(
            &app,
            "GET",
            &format!("/api/v1/receipts/{id}/attestation"),
            Some(&a),
            None,
            &[],
        )
        .await;
        assert_eq!(s, 200, "{att}");
        let (ok, out) = python_verifies_dsse(&h.state.key.certificate_pem, &att);
        assert!(ok, "{out}");
        assert!(
            out.starts_with(&format!("PASSED {}", sha(b"signed image"))),
            "{out}"
        );
        assert!(out.contains("tollgate-registry:"), "{out}");
        let mut forged = att.clone();
        forged["payload"] = base64::Engine::encode(
            &base64::engine::general_purpose::STANDARD,
            b"{\"_type\":\"x\"}",
        )
        .into();
        assert!(!python_verifies_dsse(&h.state.key.certificate_pem, &forged).0);
        assert!(
            !python_verifies_dsse(&public_pem(&key), &att).0,
            "not with the station's key"
        );

        // Per image of a product's allowlist.
        call(&app, "POST", "/api/v1/products", Some(&a), Some(json!({"id": "gw-1", "name": "GW", "stages": [
            {"name": "boot", "algorithms": ["ecdsa-p256", "ecdsa-p384"], "components": ["acme-wifi-fw"]}]})), &[]).await;
        let (s, _, all) = call(
            &app,
            "GET",
            "/api/v1/products/gw-1/attestations",
            Some(&a),
            None,
            &[],
        )
        .await;
        assert_eq!(s, 200, "{all}");
        assert_eq!(all["images"].as_array().unwrap().len(), 1, "{all}");
        assert_eq!(all["images"][0]["receipt"], id);
        let (ok, out) = python_verifies_dsse(
            &h.state.key.certificate_pem,
            &all["images"][0]["attestation"],
        );
        assert!(ok && out.starts_with("PASSED"), "{out}");

        // A retired key: refused from then on.
        let (s, _, _) = call(
            &app,
            "POST",
            &format!("/api/v1/stations/{}/retire", k["id"]),
            Some(&a),
            Some(json!({"reason": "station replaced"})),
            &[],
        )
        .await;
        assert_eq!(s, 200);
        let other = station_envelope(
            &key,
            "line-3",
            &signed_receipt(
                "acme-signer-p256",
                "acme-int",
                "acme",
                "acme-wifi-fw",
                "1.6.0",
                b"after retirement",
                "accept",
            ),
        );
        let (s, _, e) = post(tok1.clone(), vec![other]).await;
        assert_eq!(s, 403, "{e}");
        assert!(
            e["error"]["message"].as_str().unwrap().contains("retired"),
            "{e}"
        );
    }
}

/// Evidence digests cannot decide (Ed25519 without signed attributes signs
/// the blob itself) is station-asserted until the blob is uploaded; the
/// upload must be the claimed blob, bounded, by an inspection role.
#[actix_rt::test]
async fn station_asserted_evidence_is_settled_by_uploading_the_blob() {
    use base64::Engine;
    for db in BACKENDS {
        let h = Harness::new(db);
        let app = test::init_service(registry::app(h.state.clone())).await;
        seed_acme(&app, &h.admin).await;
        let st = h.token(Role::Inspector);
        let blob = std::fs::read(fixtures().join("blobs/fw.bin")).unwrap();
        let sig = std::fs::read(fixtures().join("sigs/ed25519.der")).unwrap();
        let receipt = json!({"station": "st", "lot": "L", "bundle_serial": 1,
            "signature": base64::engine::general_purpose::STANDARD.encode(&sig),
            "report": {"report_version": 1, "verdict": "accept", "summary": "ok", "vendor": "acme",
                "component": "acme-wifi-fw", "version": "1.5.0", "blob": {"sha256": sha(&blob), "size": blob.len()},
                "signature": {"kind": "cms"}, "verification_time": AT, "checks": [], "signers": []}});
        let (s, _, r) = call(
            &app,
            "POST",
            "/api/v1/receipts",
            Some(&st),
            Some(receipt),
            &[],
        )
        .await;
        assert_eq!(s, 201, "{r}");
        assert_eq!(r["registry_verdict"], "asserted", "{r}");
        assert!(
            r["registry_summary"].as_str().unwrap().contains("Ed25519"),
            "{r}"
        );
        let id = r["id"].as_i64().unwrap();
        let put = |token: String, body: Vec<u8>| {
            let app = &app;
            async move {
                let req = test::TestRequest::put()
                    .uri(&format!("/api/v1/receipts/{id}/blob"))
                    .insert_header(("Authorization", format!("Bearer {token}")))
                    .insert_header(("Content-Type", "application/octet-stream"))
                    .set_payload(body)
                    .to_request();
                let resp = test::call_service(app, req).await;
                let status = resp.status().as_u16();
                let body: serde_json::Value =
                    serde_json::from_slice(&test::read_body(resp).await).unwrap_or_default();
                (status, body)
            }
        };
        assert_eq!(put(h.token(Role::Auditor), blob.clone()).await.0, 403);
        let other = std::fs::read(fixtures().join("blobs/other.bin")).unwrap();
        let (s, e) = put(st.clone(), other).await;
        assert_eq!(s, 400, "{e}");
        assert!(
            e["error"]["message"]
                .as_str()
                .unwrap()
                .contains("not the receipt's blob"),
            "{e}"
        );
        let (s, e) = put(st.clone(), vec![0u8; 17 * 1024 * 1024]).await;
        assert_eq!(s, 413, "{e}");
        let (s, v) = put(st.clone(), blob.clone()).await;
        assert_eq!(s, 200, "{db:?} {v}");
        assert_eq!(v["registry_verdict"], "accept", "{v}");
        assert_eq!(v["disagreement"], false);
        // Settled once; the image is now the registry's to allowlist.
        assert_eq!(put(st.clone(), blob.clone()).await.0, 409);
        let (_, _, audit) = call(
            &app,
            "GET",
            "/api/v1/audit?limit=1000",
            Some(&h.admin),
            None,
            &[],
        )
        .await;
        assert!(
            audit
                .as_array()
                .unwrap()
                .iter()
                .any(|e| e["action"] == "verify-blob"),
            "{audit}"
        );
    }
}

/// An offline station's signed receipt is judged at the time it states
/// when that time lies in the validity window of the bundle it names (then
/// marked late, both times kept); otherwise when received. A revocation in
/// force before that bundle is never skipped.
#[actix_rt::test]
async fn late_offline_receipts_are_judged_at_the_stated_time_inside_the_bundle_window() {
    use diesel::RunQueryDsl;
    for db in BACKENDS {
        let h = Harness::with_ttl(db, std::time::Duration::from_secs(24 * 3600));
        let app = test::init_service(registry::app(h.state.clone())).await;
        let a = h.admin.clone();
        seed_acme(&app, &a).await;
        let (_, _, t) = call(
            &app,
            "POST",
            "/api/v1/tokens",
            Some(&a),
            Some(json!({"name": "line-8", "role": "inspector"})),
            &[],
        )
        .await;
        let tok = t["token"].as_str().unwrap().to_string();
        let key = p256::ecdsa::SigningKey::from_slice(&[8u8; 32]).unwrap();
        let (s, _, _) = call(
            &app,
            "POST",
            "/api/v1/stations",
            Some(&a),
            Some(
                json!({"name": "line-8", "token_id": t["id"], "public_key_pem": public_pem(&key)}),
            ),
            &[],
        )
        .await;
        assert_eq!(s, 201);
        // The leaf is revoked from 2026-09-30T18:00 (no timestamp in the evidence).
        let (s, _, r) = call(
            &app,
            "POST",
            "/api/v1/revocations",
            Some(&a),
            Some(json!({
            "pem": pem("acme-signer-p256.pem"), "reason": "keyCompromise",
            "invalidity_date": "2026-09-30T18:00:00Z"})),
            &[],
        )
        .await;
        assert_eq!(s, 201, "{r}");
        // The bundle the station used became current at 2026-09-30T11:00
        // and stays fresh for 24 hours (the registry's clock is pinned at
        // 2026-10-01T00:00).
        let (_, _, bundle) = call(&app, "GET", "/api/v1/trust-bundle", Some(&tok), None, &[]).await;
        let payload: serde_json::Value = serde_json::from_slice(
            &base64::Engine::decode(
                &base64::engine::general_purpose::STANDARD,
                bundle["payload"].as_str().unwrap(),
            )
            .unwrap(),
        )
        .unwrap();
        let serial = payload["serial"].as_i64().unwrap();
        let mut conn = h.state.pool.get().unwrap();
        diesel::sql_query(format!(
            "UPDATE bundle_serials SET issued_at = 1790766000 WHERE serial = {serial}"
        ))
        .execute(&mut conn)
        .unwrap();
        let signed = |at: &str, content: &[u8], serial: i64| {
            let mut r = signed_receipt(
                "acme-signer-p256",
                "acme-int",
                "acme",
                "acme-wifi-fw",
                "1.5.0",
                content,
                "accept",
            );
            r["report"]["verification_time"] = at.into();
            let mut env = station_envelope(&key, "line-8", &r);
            // Re-sign with the serial the station used.
            let mut st: serde_json::Value = serde_json::from_slice(
                &base64::Engine::decode(
                    &base64::engine::general_purpose::STANDARD,
                    env["envelope"]["payload"].as_str().unwrap(),
                )
                .unwrap(),
            )
            .unwrap();
            st["predicate"]["tollgate"]["bundle_serial"] = serial.into();
            let e = inspector::dsse::seal(
                inspector::dsse::IN_TOTO_PAYLOAD_TYPE,
                st.to_string().as_bytes(),
                &key,
            )
            .unwrap();
            env["envelope"] = serde_json::to_value(e).unwrap();
            env
        };
        let post = |env: serde_json::Value| {
            let (app, tok) = (&app, &tok);
            async move {
                let (s, _, r) = call(
                    app,
                    "POST",
                    "/api/v1/receipts/signed",
                    Some(tok),
                    Some(json!({"receipts": [env]})),
                    &[],
                )
                .await;
                assert_eq!(s, 201, "{r}");
                let id = r["ids"][0].as_i64().unwrap();
                call(
                    app,
                    "GET",
                    &format!("/api/v1/receipts/{id}"),
                    Some(tok),
                    None,
                    &[],
                )
                .await
                .2
            }
        };
        // Verified offline at 12:00, inside the window, before the
        // invalidity date: late, judged then, accepted.
        let v = post(signed("2026-09-30T12:00:00Z", b"offline ok", serial)).await;
        assert_eq!(v["late"], true, "{db:?} {v}");
        assert_eq!(v["station_time"], "2026-09-30T12:00:00Z");
        assert_eq!(v["verified_at"], "2026-09-30T12:00:00Z");
        assert_eq!(v["registry_verdict"], "accept", "{v}");
        // The same evidence sent unsigned is judged on arrival: revoked.
        let unsigned = signed_receipt(
            "acme-signer-p256",
            "acme-int",
            "acme",
            "acme-wifi-fw",
            "1.5.0",
            b"offline ok",
            "accept",
        );
        let (_, _, u) = call(
            &app,
            "POST",
            "/api/v1/receipts",
            Some(&tok),
            Some(unsigned),
            &[],
        )
        .await;
        assert_eq!(u["registry_verdict"], "reject", "{u}");
        assert_eq!(u["late"], false);
        // A stated time before the bundle it names: not believed.
        let v = post(signed("2026-09-29T12:00:00Z", b"too early", serial)).await;
        assert_eq!(v["late"], false, "{v}");
        assert_eq!(v["registry_verdict"], "reject", "{v}");
        // A stated time after the invalidity date: revoked even when late.
        let v = post(signed("2026-09-30T19:00:00Z", b"after", serial)).await;
        assert_eq!(v["late"], true, "{v}");
        assert_eq!(v["registry_verdict"], "reject", "{v}");
        assert!(
            v["registry_summary"].as_str().unwrap().contains("revoked"),
            "{v}"
        );
    }
}

/// Issue 11: the vendor's contract end travels in the bundle, so the
/// registry's own re-verification refuses what a vendor supplies after it.
#[actix_rt::test]
async fn receipts_after_the_vendors_contract_end_are_rejected() {
    for db in BACKENDS {
        let h = Harness::new(db);
        let app = test::init_service(registry::app(h.state.clone())).await;
        let a = h.admin.clone();
        seed_acme(&app, &a).await;
        let st = h.token(Role::Inspector);
        let r = signed_receipt(
            "acme-signer-p256",
            "acme-int",
            "acme",
            "acme-wifi-fw",
            "1.5.0",
            b"in contract",
            "accept",
        );
        let (_, _, ok) = call(&app, "POST", "/api/v1/receipts", Some(&st), Some(r), &[]).await;
        assert_eq!(ok["registry_verdict"], "accept", "{ok}");
        let (_, hdr, v) = call(&app, "GET", "/api/v1/vendors/acme", Some(&a), None, &[]).await;
        let etag = hdr.get("etag").unwrap().to_str().unwrap().to_string();
        let mut body = json!({"name": v["name"], "contract_ref": v["contract_ref"], "security_contact": v["security_contact"],
            "contract_expires": "2026-09-01T00:00:00Z"});
        body["policy"] = v["policy"].clone();
        let (s, _, e) = call(
            &app,
            "PUT",
            "/api/v1/vendors/acme",
            Some(&a),
            Some(body),
            &[("If-Match", &etag)],
        )
        .await;
        assert_eq!(s, 200, "{db:?} {e}");
        // The registry judges at 2026-10-01 (pinned): after the contract.
        let r = signed_receipt(
            "acme-signer-p256",
            "acme-int",
            "acme",
            "acme-wifi-fw",
            "1.5.0",
            b"after the contract",
            "accept",
        );
        let (_, _, late) = call(&app, "POST", "/api/v1/receipts", Some(&st), Some(r), &[]).await;
        assert_eq!(late["registry_verdict"], "reject", "{late}");
        assert!(
            late["registry_summary"]
                .as_str()
                .unwrap()
                .contains("contract ended 2026-09-01"),
            "{late}"
        );
    }
}

/// Issue 11, item 2: a component bound to its allowed signers accepts only
/// them; the binding travels in the bundle (the registry's re-verification
/// applies it) and the vendor page shows which components are unconstrained.
#[actix_rt::test]
async fn a_component_bound_to_its_signers_refuses_other_keys_of_the_vendor() {
    for db in BACKENDS {
        let h = Harness::new(db);
        let app = test::init_service(registry::app(h.state.clone())).await;
        let a = h.admin.clone();
        seed_acme(&app, &a).await;
        let st = h.token(Role::Inspector);
        let (_, _, comps) = call(&app, "GET", "/api/v1/components", Some(&a), None, &[]).await;
        let wifi = comps
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == "acme-wifi-fw")
            .unwrap()
            .clone();
        assert_eq!(wifi["allowed_signers"], json!([]));
        let etag = format!("\"{}\"", wifi["version"]);
        let set = |token: String, body: serde_json::Value, etag: String| {
            let app = &app;
            async move {
                call(
                    app,
                    "PUT",
                    "/api/v1/components/acme-wifi-fw/signers",
                    Some(&token),
                    Some(body),
                    &[("If-Match", &etag)],
                )
                .await
            }
        };
        let good =
            json!({"allowed_signers": [{"subject": "CN=Acme WiFi FW Signer P-256, O=Acme Chips"}]});
        assert_eq!(
            set(st.clone(), good.clone(), etag.clone()).await.0,
            403,
            "inspectors do not bind signers"
        );
        for bad in [
            json!({"allowed_signers": [{"subject": "CN=x", "spki_sha256": "00"}]}),
            json!({"allowed_signers": [{"subject": "nonsense"}]}),
            json!({"allowed_signers": [{"spki_sha256": "xyz"}]}),
            json!({"allowed_signers": [{}]}),
        ] {
            let (s, _, e) = set(a.clone(), bad, etag.clone()).await;
            assert_eq!(s, 400, "{e}");
            assert!(
                e["error"]["message"]
                    .as_str()
                    .unwrap()
                    .contains("allowed_signers[0]"),
                "{e}"
            );
        }
        // Before the binding, the P-384 signer's image is accepted ...
        let before = signed_receipt(
            "acme-signer-p384",
            "acme-int",
            "acme",
            "acme-wifi-fw",
            "1.5.0",
            b"p384 image before the binding",
            "accept",
        );
        let (_, _, early) = call(
            &app,
            "POST",
            "/api/v1/receipts",
            Some(&st),
            Some(before),
            &[],
        )
        .await;
        assert_eq!(early["registry_verdict"], "accept", "{early}");
        let (s, _, v) = set(a.clone(), good, etag.clone()).await;
        assert_eq!(s, 200, "{db:?} {v}");
        // ... and binding the component withdraws it (out of the
        // allowlists), audited as a re-evaluation.
        let (_, _, withdrawn) = call(
            &app,
            "GET",
            &format!("/api/v1/receipts/{}", early["id"]),
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
                .starts_with("withdrawn:"),
            "{withdrawn}"
        );
        assert_eq!(
            set(a.clone(), json!({"allowed_signers": []}), etag).await.0,
            412,
            "stale If-Match"
        );
        // The P-384 signer is Acme's, but not the Wi-Fi firmware's.
        let other = signed_receipt(
            "acme-signer-p384",
            "acme-int",
            "acme",
            "acme-wifi-fw",
            "1.5.0",
            b"p384 image",
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
        assert!(
            r["registry_summary"]
                .as_str()
                .unwrap()
                .contains("may not sign component 'acme-wifi-fw'"),
            "{r}"
        );
        let ok = signed_receipt(
            "acme-signer-p256",
            "acme-int",
            "acme",
            "acme-wifi-fw",
            "1.5.0",
            b"p256 image",
            "accept",
        );
        let (_, _, r) = call(&app, "POST", "/api/v1/receipts", Some(&st), Some(ok), &[]).await;
        assert_eq!(r["registry_verdict"], "accept", "{r}");
        // The vendor page says which components are bound and which are not.
        call(
            &app,
            "POST",
            "/api/v1/vendors/acme/components",
            Some(&a),
            Some(json!({"name": "acme-bt-fw"})),
            &[],
        )
        .await;
        let (cookie, _, _) = super::ui::sign_in(&app, &a, false).await;
        let p = super::ui::page(&app, "GET", "/vendors/acme", &cookie, None, &[]).await;
        assert!(
            p.body
                .contains("subject CN=Acme WiFi FW Signer P-256, O=Acme Chips"),
            "{}",
            p.body
        );
        assert!(p.body.contains("unconstrained"), "{}", p.body);
        let (_, _, log) = call(&app, "GET", "/api/v1/audit?limit=5", Some(&a), None, &[]).await;
        assert!(
            log.as_array()
                .unwrap()
                .iter()
                .any(|e| e["action"] == "set-signers"),
            "{log}"
        );
        let (_, _, log) = call(&app, "GET", "/api/v1/audit?limit=50", Some(&a), None, &[]).await;
        assert!(
            log.as_array()
                .unwrap()
                .iter()
                .any(|e| e["action"] == "reevaluate" && e["entity_id"] == "acme-wifi-fw"),
            "{log}"
        );
    }
}
