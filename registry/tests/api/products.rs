//! Products, capability checks, allowlist exports read back by independent
//! tools (Python's jsonschema, efitools' sig-list-to-certs, gcc, openssl),
//! diffs and the brick check — both directions, both backends.

use super::*;
use registry::auth::Role;
use serde_json::json;
use std::process::Command;

async fn raw<S, B>(app: &S, uri: &str, token: &str) -> (u16, Vec<u8>, Option<String>)
where
    S: actix_web::dev::Service<
            actix_http::Request,
            Response = actix_web::dev::ServiceResponse<B>,
            Error = actix_web::Error,
        >,
    B: actix_web::body::MessageBody,
{
    let req = test::TestRequest::get()
        .uri(uri)
        .insert_header(("Authorization", format!("Bearer {token}")))
        .to_request();
    let resp = test::call_service(app, req).await;
    let status = resp.status().as_u16();
    let sig = resp
        .headers()
        .get("x-tollgate-signature")
        .map(|h| h.to_str().unwrap().to_string());
    (status, test::read_body(resp).await.to_vec(), sig)
}

fn receipt(component: &str, version: &str, sha: &str, verdict: &str) -> serde_json::Value {
    json!({"station": "st", "lot": "L", "bundle_serial": 1, "report": {
        "report_version": 1, "verdict": verdict, "summary": "x", "vendor": "acme", "component": component, "version": version,
        "blob": {"sha256": sha, "size": 10}, "signature": {"kind": "cms"}, "verification_time": "2026-10-01T00:00:00Z",
        "checks": [], "signers": [{"index": 0, "certificate": {"subject": "CN=s", "issuer": "CN=i", "serial": "01", "sha256": "00", "not_before": "x", "not_after": "y", "key": "RSA-2048"}, "digest_algorithm": "sha256", "signing_time": null, "accepted": true, "checks": []}]}})
}

fn verify_signature(h: &Harness, body: &[u8], sig_b64: &str) -> bool {
    let dir = tempdir();
    std::fs::write(dir.join("body"), body).unwrap();
    std::fs::write(
        dir.join("sig"),
        base64::Engine::decode(&base64::engine::general_purpose::STANDARD, sig_b64).unwrap(),
    )
    .unwrap();
    std::fs::write(dir.join("cert.pem"), &h.state.key.certificate_pem).unwrap();
    let pubkey = Command::new("openssl")
        .args(["x509", "-pubkey", "-noout", "-in"])
        .arg(dir.join("cert.pem"))
        .output()
        .unwrap();
    std::fs::write(dir.join("pub.pem"), pubkey.stdout).unwrap();
    Command::new("openssl")
        .args(["dgst", "-sha256", "-verify"])
        .arg(dir.join("pub.pem"))
        .arg("-signature")
        .arg(dir.join("sig"))
        .arg(dir.join("body"))
        .output()
        .unwrap()
        .status
        .success()
}

#[actix_rt::test]
async fn allowlists_capability_diffs_and_brick_checks() {
    for db in BACKENDS {
        let h = Harness::new(db);
        let app = test::init_service(registry::app(h.state.clone())).await;
        let a = h.admin.clone();
        seed_acme(&app, &a).await; // P-384 root (anchor), P-256 intermediate, acme-wifi-fw floor 1.5.0, old-signer revoked
        let (s, _, b) = call(
            &app,
            "POST",
            "/api/v1/vendors/acme/components",
            Some(&a),
            Some(json!({"name": "acme-bootrom-patch"})),
            &[],
        )
        .await;
        assert_eq!(s, 201, "{b}");
        // Product: a ROM that only verifies P-256, a bootloader that also does P-384 and RSA-2048.
        let product = json!({"id": "gw-100", "name": "Gateway 100", "stages": [
            {"name": "rom", "algorithms": ["ecdsa-p256"], "components": ["acme-bootrom-patch"]},
            {"name": "bootloader", "algorithms": ["ecdsa-p256", "ecdsa-p384", "rsa-2048"], "components": ["acme-wifi-fw"]}]});
        let (s, _, b) = call(
            &app,
            "POST",
            "/api/v1/products",
            Some(&a),
            Some(product),
            &[],
        )
        .await;
        assert_eq!(s, 201, "{db:?} {b}");
        for bad in [
            json!({"id": "x", "name": "X", "stages": []}),
            json!({"id": "x", "name": "X", "stages": [{"name": "rom", "algorithms": ["md5-rsa"]}]}),
            json!({"id": "x", "name": "X", "stages": [{"name": "a", "algorithms": ["ed25519"]}, {"name": "a", "algorithms": ["ed25519"]}]}),
        ] {
            assert_eq!(
                call(&app, "POST", "/api/v1/products", Some(&a), Some(bad), &[])
                    .await
                    .0,
                400
            );
        }
        // Capability check on registration: an RSA-2048 CA is flagged for the ROM only.
        let (s, _, c) = call(
            &app,
            "POST",
            "/api/v1/vendors/acme/certificates",
            Some(&a),
            Some(json!({"role": "intermediate", "pem": pem("acme-rsa-ca.pem")})),
            &[],
        )
        .await;
        assert_eq!(s, 201, "{c}");
        let w = c["capability_warnings"].as_array().unwrap();
        assert_eq!(w.len(), 1, "{c}");
        assert!(
            w[0].as_str()
                .unwrap()
                .contains("stage 'rom' verifies ecdsa-p256 and cannot verify this RSA-2048 key")
        );
        let (_, _, c) = call(
            &app,
            "POST",
            "/api/v1/vendors/acme/certificates",
            Some(&a),
            Some(json!({"role": "intermediate", "pem": pem("acme-int2.pem")})),
            &[],
        )
        .await;
        assert!(
            c.get("capability_warnings").is_none(),
            "a P-256 CA is verifiable everywhere: {c}"
        );
        // … and on inspection for a product.
        let inspector_token = h.token(Role::Inspector);
        let mut r = receipt("acme-bootrom-patch", "1.0.0", &"a".repeat(64), "accept");
        r["product"] = "gw-100".into();
        let (s, _, rr) = call(
            &app,
            "POST",
            "/api/v1/receipts",
            Some(&inspector_token),
            Some(r),
            &[],
        )
        .await;
        assert_eq!(s, 201, "{rr}");
        assert!(
            rr["capability_warnings"][0]
                .as_str()
                .unwrap_or_else(|| panic!("{rr}"))
                .contains("boot stage 'rom' of product 'gw-100' verifies ecdsa-p256 and cannot verify the RSA-2048 key that signed this blob"),
            "the same words as tollgate-inspect verify --product: {rr}"
        );
        // Real evidence (signed by OpenSSL with the P-256 fixture signer):
        // the registry re-verifies it and only then lists the image.
        let mut r = signed_receipt(
            "acme-signer-p256",
            "acme-int",
            "acme",
            "acme-wifi-fw",
            "1.5.0",
            b"wifi firmware 1.5.0",
            "accept",
        );
        r["product"] = "gw-100".into();
        let (_, _, rr) = call(
            &app,
            "POST",
            "/api/v1/receipts",
            Some(&inspector_token),
            Some(r),
            &[],
        )
        .await;
        assert!(rr.get("capability_warnings").is_none(), "{rr}");
        assert_eq!(rr["registry_verdict"], "accept", "{rr}");
        for r in [
            signed_receipt(
                "acme-signer-p256",
                "acme-int",
                "acme",
                "acme-wifi-fw",
                "1.6.0",
                b"wifi firmware 1.6.0",
                "accept",
            ),
            // A rogue signer: the station said reject, and so does the registry.
            signed_receipt(
                "rogue-signer",
                "rogue-int",
                "acme",
                "acme-wifi-fw",
                "1.7.0",
                b"wifi firmware 1.7.0",
                "reject",
            ),
            // A station's word without evidence never reaches an allowlist.
            receipt("acme-wifi-fw", "1.8.0", &"d".repeat(64), "accept"),
        ] {
            let (s, _, b) = call(
                &app,
                "POST",
                "/api/v1/receipts",
                Some(&inspector_token),
                Some(r),
                &[],
            )
            .await;
            assert_eq!(s, 201, "{b}");
        }

        // JSON export: reproducible, signed, valid against the JSON Schema (Python jsonschema).
        let (s, body, sig) = raw(&app, "/api/v1/products/gw-100/allowlist?format=json", &a).await;
        assert_eq!(s, 200);
        assert!(
            verify_signature(&h, &body, sig.as_deref().unwrap()),
            "{db:?}: the export signature must verify with openssl"
        );
        let (_, again, _) = raw(&app, "/api/v1/products/gw-100/allowlist", &a).await;
        assert_eq!(body, again, "same registry state, same bytes");
        let mut tampered = body.clone();
        tampered[10] ^= 1;
        assert!(!verify_signature(&h, &tampered, sig.as_deref().unwrap()));
        let dir = tempdir();
        std::fs::write(dir.join("allowlist.json"), &body).unwrap();
        let schema = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/allowlist.schema.json");
        let check = |file: &Path| {
            Command::new("python3")
                .args(["-c", "import json,sys,jsonschema; jsonschema.Draft202012Validator(json.load(open(sys.argv[1]))).validate(json.load(open(sys.argv[2]))); print('valid')"])
                .arg(&schema)
                .arg(file)
                .output()
                .unwrap()
        };
        let out = check(&dir.join("allowlist.json"));
        assert!(
            out.status.success(),
            "jsonschema: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let mut broken: serde_json::Value = serde_json::from_slice(&body).unwrap();
        broken["stages"][0]["keys"] = json!([{"vendor": "x"}]);
        std::fs::write(dir.join("broken.json"), broken.to_string()).unwrap();
        assert!(
            !check(&dir.join("broken.json")).status.success(),
            "the schema must reject a malformed allowlist"
        );
        let al: serde_json::Value = serde_json::from_slice(&body).unwrap();
        let rom = &al["stages"][0];
        let boot = &al["stages"][1];
        assert_eq!(rom["name"], "rom");
        let rom_keys: Vec<&str> = rom["keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["subject"].as_str().unwrap())
            .collect();
        assert_eq!(rom_keys.len(), 2, "P-256 intermediates only: {rom_keys:?}");
        assert!(
            rom["unverifiable_keys"]
                .as_array()
                .unwrap()
                .iter()
                .any(|k| k["subject"].as_str().unwrap().contains("Root CA"))
        );
        assert_eq!(
            boot["keys"].as_array().unwrap().len(),
            4,
            "the bootloader verifies all four"
        );
        let images: Vec<&str> = boot["images"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["version"].as_str().unwrap())
            .collect();
        assert_eq!(
            images,
            vec!["1.5.0", "1.6.0"],
            "registry-verified images only (1.7.0 was rejected, 1.8.0 has no evidence)"
        );
        assert_eq!(al["revoked_keys"][0]["reason"], "keyCompromise");

        // UEFI db / dbx, read back by efitools' sig-list-to-certs.
        let (_, esl, sig) = raw(&app, "/api/v1/products/gw-100/allowlist?format=efi-db", &a).await;
        assert!(verify_signature(&h, &esl, sig.as_deref().unwrap()));
        std::fs::write(dir.join("db.esl"), &esl).unwrap();
        let out = Command::new("sig-list-to-certs")
            .arg(dir.join("db.esl"))
            .arg(dir.join("db"))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8_lossy(&out.stdout).into_owned()
            + &String::from_utf8_lossy(&out.stderr);
        let mut extracted = Vec::new();
        for i in 0.. {
            match std::fs::read(dir.join(format!("db-{i}.der"))) {
                Ok(d) => extracted.push(d),
                Err(_) => break,
            }
        }
        let registered: Vec<Vec<u8>> = [
            "acme-root.pem",
            "acme-int.pem",
            "acme-rsa-ca.pem",
            "acme-int2.pem",
        ]
        .iter()
        .map(|f| ::pem::parse(pem(f)).unwrap().into_contents())
        .collect();
        assert_eq!(extracted.len(), 4, "{text}");
        for d in &extracted {
            assert!(
                registered.contains(d),
                "efitools extracted a certificate that is not registered"
            );
        }
        assert!(
            text.contains("7011ca7e-70c6-4a7e-9d1b-3e5c0f5a0a11"),
            "owner GUID as efitools reads it: {text}"
        );
        assert!(
            text.to_lowercase().contains("sha256"),
            "the image-hash list is parsed too: {text}"
        );

        // C header, compiled by gcc and run: the hash of key 0 is the SPKI SHA-256 in the JSON.
        let (_, header, _) = raw(
            &app,
            "/api/v1/products/gw-100/allowlist?format=c-header",
            &a,
        )
        .await;
        std::fs::write(dir.join("tollgate_allowlist.h"), &header).unwrap();
        std::fs::write(
            dir.join("main.c"),
            "#include <stdio.h>\n#include \"tollgate_allowlist.h\"\nint main(void){ printf(\"%d %d \", TOLLGATE_ROM_KEY_COUNT, TOLLGATE_BOOTLOADER_KEY_COUNT); for (int i = 0; i < 32; i++) printf(\"%02x\", tollgate_rom_keys[0].hash[i]); printf(\" %u\\n\", (unsigned) tollgate_rom_keys[0].key_len); return 0; }\n",
        )
        .unwrap();
        let cc = Command::new("gcc")
            .args(["-std=c99", "-Wall", "-Wextra", "-Werror", "-o"])
            .arg(dir.join("main"))
            .arg(dir.join("main.c"))
            .output()
            .unwrap();
        assert!(
            cc.status.success(),
            "gcc: {}",
            String::from_utf8_lossy(&cc.stderr)
        );
        let run = Command::new(dir.join("main")).output().unwrap();
        let line = String::from_utf8(run.stdout).unwrap();
        let parts: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(parts[0], "2");
        assert_eq!(parts[1], "4");
        assert_eq!(parts[2], rom["keys"][0]["spki_sha256"].as_str().unwrap());
        assert_eq!(parts[3], "91", "a P-256 SubjectPublicKeyInfo is 91 bytes");

        // Diff: security publishes the current allowlist as the review
        // baseline (issue 12: a reader's GET no longer moves it), then raises
        // the floor to 1.6.0 (no product bricked: 1.6.0 was accepted).
        let (s, _, p) = call(
            &app,
            "POST",
            "/api/v1/products/gw-100/allowlist/publish",
            Some(&a),
            None,
            &[],
        )
        .await;
        assert_eq!(s, 201, "{p}");
        let (s, _, e) = call(
            &app,
            "PUT",
            "/api/v1/components/acme-wifi-fw/floor",
            Some(&a),
            Some(json!({"min_version": "1.6.0"})),
            &[("If-Match", "\"1\"")],
        )
        .await;
        assert_eq!(s, 200, "{e}");
        let (_, d, _) = raw(&app, "/api/v1/products/gw-100/allowlist?format=diff", &a).await;
        let d: serde_json::Value = serde_json::from_slice(&d).unwrap();
        assert_eq!(d["floor_changes"][0], "acme-wifi-fw: 1.5.0 -> 1.6.0", "{d}");
        assert_eq!(d["removed_images"].as_array().unwrap().len(), 1, "{d}");
        assert!(d["added_keys"].as_array().unwrap().is_empty());
        // dbx now lists the image below the floor and the revoked certificate.
        let (_, dbx, _) = raw(&app, "/api/v1/products/gw-100/allowlist?format=efi-dbx", &a).await;
        std::fs::write(dir.join("dbx.esl"), &dbx).unwrap();
        let out = Command::new("sig-list-to-certs")
            .arg(dir.join("dbx.esl"))
            .arg(dir.join("dbx"))
            .output()
            .unwrap();
        assert!(out.status.success());
        assert_eq!(
            std::fs::read(dir.join("dbx-0.der")).unwrap(),
            ::pem::parse(pem("old-signer.pem")).unwrap().into_contents()
        );

        // Brick check, both directions.
        let (s, _, e) = call(
            &app,
            "PUT",
            "/api/v1/components/acme-wifi-fw/floor",
            Some(&a),
            Some(json!({"min_version": "9.0.0"})),
            &[("If-Match", "\"2\"")],
        )
        .await;
        assert_eq!(s, 409, "{e}");
        assert!(
            e["error"]["message"]
                .as_str()
                .unwrap()
                .contains("no accepted image of 'acme-wifi-fw' at or above the floor 9.0.0"),
            "{e}"
        );
        let (_, _, comps) = call(&app, "GET", "/api/v1/components", Some(&a), None, &[]).await;
        assert_eq!(
            comps
                .as_array()
                .unwrap()
                .iter()
                .find(|c| c["name"] == "acme-wifi-fw")
                .unwrap()["min_version"],
            "1.6.0",
            "nothing changed"
        );
        let (s, _, _) = call(
            &app,
            "PUT",
            "/api/v1/components/acme-wifi-fw/floor",
            Some(&a),
            Some(json!({"min_version": "9.0.0", "confirm_brick": true})),
            &[("If-Match", "\"2\"")],
        )
        .await;
        assert_eq!(s, 200);
        // Revoking the P-256 intermediates leaves the ROM without a key: confirmation needed.
        let (s, _, e) = call(
            &app,
            "POST",
            "/api/v1/revocations",
            Some(&a),
            Some(json!({"pem": pem("acme-int.pem"), "reason": "keyCompromise"})),
            &[],
        )
        .await;
        assert_eq!(s, 201, "one P-256 intermediate remains: no brick: {e}");
        let (s, _, e) = call(
            &app,
            "POST",
            "/api/v1/revocations",
            Some(&a),
            Some(json!({"pem": pem("acme-int2.pem"), "reason": "keyCompromise"})),
            &[],
        )
        .await;
        assert_eq!(s, 409, "{e}");
        assert!(
            e["error"]["message"]
                .as_str()
                .unwrap()
                .contains("stage 'rom': no trusted key left"),
            "{e}"
        );
        let (s, _, _) = call(&app, "POST", "/api/v1/revocations", Some(&a), Some(json!({"pem": pem("acme-int2.pem"), "reason": "keyCompromise", "confirm_brick": true})), &[]).await;
        assert_eq!(s, 201);
        let (_, body, _) = raw(&app, "/api/v1/products/gw-100/allowlist", &a).await;
        let al: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert!(al["stages"][0]["keys"].as_array().unwrap().is_empty());
        // The CLI exports the same bytes as the API, with a detached signature.
        let (_, api_header, _) = raw(
            &app,
            "/api/v1/products/gw-100/allowlist?format=c-header",
            &a,
        )
        .await;
        let out = Command::new(env!("CARGO_BIN_EXE_tollgate-registry"))
            .env("TOLLGATE_APPROVALS", "single")
            .args([
                "export",
                "--product",
                "gw-100",
                "--format",
                "c-header",
                "--database-url",
                &h.url,
                "--data-dir",
            ])
            .arg(&h.dir)
            .arg("--out")
            .arg(dir.join("cli.h"))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let cli_header = std::fs::read(dir.join("cli.h")).unwrap();
        assert_eq!(cli_header, api_header);
        let sig = std::fs::read(dir.join("cli.h.sig")).unwrap();
        assert!(verify_signature(
            &h,
            &cli_header,
            &base64::Engine::encode(&base64::engine::general_purpose::STANDARD, sig)
        ));
        // The trust bundle carries the product, so `tollgate-inspect verify --product` works offline.
        let (_, bundle, _) = raw(&app, "/api/v1/trust-bundle", &a).await;
        let pinned =
            inspector::cert::certificates_from_bytes(h.state.key.certificate_pem.as_bytes())
                .unwrap()
                .remove(0);
        let b = inspector::bundle::verify_bundle(
            &bundle,
            &pinned,
            time::OffsetDateTime::now_utc(),
            None,
        )
        .unwrap();
        let policy =
            inspector::TrustPolicy::from_json(&b.document, &mut inspector::policy::InlineOnly)
                .unwrap();
        let gw = policy.products.iter().find(|p| p.id == "gw-100").unwrap();
        assert_eq!(gw.stages[0].algorithms, vec!["ecdsa-p256".to_string()]);
        // Roles: an auditor may export but not define products.
        let auditor = h.token(Role::Auditor);
        assert_eq!(
            raw(
                &app,
                "/api/v1/products/gw-100/allowlist?format=c-header",
                &auditor
            )
            .await
            .0,
            200
        );
        assert_eq!(call(&app, "POST", "/api/v1/products", Some(&auditor), Some(json!({"id": "p2", "name": "P2", "stages": [{"name": "rom", "algorithms": ["ed25519"]}]})), &[]).await.0, 403);
        assert_eq!(
            raw(&app, "/api/v1/products/nope/allowlist", &a).await.0,
            404
        );
        assert_eq!(
            raw(&app, "/api/v1/products/gw-100/allowlist?format=pdf", &a)
                .await
                .0,
            400
        );
    }
}

/// The brick check on a CRL import, both directions: a root's CRL revoking
/// the last P-256 signing CA would leave the P-256-only ROM with no key.
#[actix_rt::test]
async fn a_crl_that_would_brick_a_stage_needs_confirmation() {
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
        let product = json!({"id": "gw-100", "name": "Gateway 100", "stages": [
            {"name": "rom", "algorithms": ["ecdsa-p256"], "components": ["acme-wifi-fw"]}]});
        let (s, _, b) = call(
            &app,
            "POST",
            "/api/v1/products",
            Some(&a),
            Some(product),
            &[],
        )
        .await;
        assert_eq!(s, 201, "{b}");
        let crl = std::fs::read_to_string(fixtures().join("certs/acme-root.crl.pem")).unwrap();
        let revoked = |list: &serde_json::Value| list.as_array().unwrap().len();

        // acme-int goes first (acme-int2 still covers the ROM); the root's CRL
        // revoking acme-int2 would then remove the ROM's last key. (A CRL that
        // bricks nothing is imported without a question: records.rs.)
        let (s, _, e) = call(
            &app,
            "POST",
            "/api/v1/revocations",
            Some(&a),
            Some(json!({"pem": pem("acme-int.pem"), "reason": "superseded"})),
            &[],
        )
        .await;
        assert_eq!(s, 201, "one P-256 CA remains: {e}");
        let (_, _, before) = call(&app, "GET", "/api/v1/revocations", Some(&a), None, &[]).await;
        let (s, _, e) = call(
            &app,
            "POST",
            "/api/v1/revocations/crl",
            Some(&a),
            Some(json!({"pem": crl})),
            &[],
        )
        .await;
        assert_eq!(s, 409, "{db:?} {e}");
        let m = e["error"]["message"].as_str().unwrap();
        assert!(
            m.contains("gw-100") && m.contains("stage 'rom': no trusted key left"),
            "{m}"
        );
        let (_, _, after) = call(&app, "GET", "/api/v1/revocations", Some(&a), None, &[]).await;
        assert_eq!(
            revoked(&after),
            revoked(&before),
            "a refused import changes nothing"
        );

        let (s, _, r) = call(
            &app,
            "POST",
            "/api/v1/revocations/crl",
            Some(&a),
            Some(json!({"pem": crl, "confirm_brick": true})),
            &[],
        )
        .await;
        assert_eq!(s, 201, "{r}");
        assert_eq!(r["imported"], 1);
        assert_eq!(r["issuer"], "CN=Acme Firmware Root CA,O=Acme Chips");
        let (_, _, after) = call(&app, "GET", "/api/v1/revocations", Some(&a), None, &[]).await;
        assert_eq!(revoked(&after), revoked(&before) + 1);
        let (_, body, _) = raw(&app, "/api/v1/products/gw-100/allowlist", &a).await;
        let al: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert!(
            al["stages"][0]["keys"].as_array().unwrap().is_empty(),
            "{al}"
        );
    }
}
