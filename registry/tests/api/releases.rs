//! Issue 14, item 3: product releases. A release with a missing component,
//! an unproven image, a below-floor image or a signer no stage key
//! verifies fails with each problem named; a good release gives an
//! attestation securesystemslib verifies. Both backends; evidence made by
//! OpenSSL with the fixture keys.

use super::*;
use registry::auth::Role;
use serde_json::json;

/// Validates an SBOM with CycloneDX's own library
/// (tests/interop/validate_cyclonedx.py): (valid, what it printed).
fn cyclonedx_valid(bytes: &[u8]) -> (bool, String) {
    let dir = tempdir();
    std::fs::write(dir.join("sbom.json"), bytes).unwrap();
    let out = std::process::Command::new("python3")
        .arg(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../tests/interop/validate_cyclonedx.py"),
        )
        .arg(dir.join("sbom.json"))
        .output()
        .unwrap();
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

fn sha(content: &[u8]) -> String {
    inspector::digest::hex(&inspector::digest::DigestAlgorithm::Sha256.hash(content))
}

#[actix_rt::test]
async fn a_release_is_checked_image_by_image_and_attested_when_it_passes() {
    for db in BACKENDS {
        let h = Harness::new(db);
        let app = test::init_service(registry::app(h.state.clone())).await;
        let a = h.admin.clone();
        seed_acme(&app, &a).await;
        let st = h.token(Role::Inspector);
        let sec = h.token(Role::Security);
        // Two components; the ROM verifies P-256/P-384, the OS only Ed25519.
        let (s, _, b) = call(
            &app,
            "POST",
            "/api/v1/vendors/acme/components",
            Some(&a),
            Some(json!({"name": "acme-bt-fw", "min_version": "2.0.0"})),
            &[],
        )
        .await;
        assert_eq!(s, 201, "{b}");
        let (s, _, b) = call(&app, "POST", "/api/v1/products", Some(&sec), Some(json!({"id": "gw-1", "name": "Gateway", "stages": [
            {"name": "rom", "algorithms": ["ecdsa-p256", "ecdsa-p384"], "components": ["acme-wifi-fw", "acme-bt-fw"]},
            {"name": "os", "algorithms": ["ed25519"], "components": []}]})), &[]).await;
        assert_eq!(s, 201, "{b}");
        let image = |component: &str, version: &str, content: &[u8]| {
            signed_receipt(
                "acme-signer-p256",
                "acme-int",
                "acme",
                component,
                version,
                content,
                "accept",
            )
        };
        for (component, version, content) in [
            ("acme-wifi-fw", "1.5.0", &b"wifi 1.5.0"[..]),
            ("acme-bt-fw", "2.1.0", &b"bt 2.1.0"[..]),
        ] {
            let (_, _, r) = call(
                &app,
                "POST",
                "/api/v1/receipts",
                Some(&st),
                Some(image(component, version, content)),
                &[],
            )
            .await;
            assert_eq!(r["registry_verdict"], "accept", "{r}");
        }
        let wifi = sha(b"wifi 1.5.0");
        let bt = sha(b"bt 2.1.0");
        let define = |version: &str, images: serde_json::Value| {
            let app = &app;
            let sec = sec.clone();
            let body = json!({"version": version, "images": images});
            async move {
                call(
                    app,
                    "POST",
                    "/api/v1/products/gw-1/releases",
                    Some(&sec),
                    Some(body),
                    &[],
                )
                .await
            }
        };
        let check = |version: &str| {
            let app = &app;
            let sec = sec.clone();
            let uri = format!("/api/v1/products/gw-1/releases/{version}/check");
            async move { call(app, "POST", &uri, Some(&sec), None, &[]).await }
        };
        // Refused at the door: a stage the product lacks, a bad digest, roles.
        let (s, _, e) = define(
            "bad",
            json!([{"stage": "bios", "component": "acme-wifi-fw", "sha256": wifi}]),
        )
        .await;
        assert_eq!(s, 400, "{e}");
        assert!(
            e["error"]["message"]
                .as_str()
                .unwrap()
                .contains("images[0].stage"),
            "{e}"
        );
        let (s, _, e) = define(
            "bad",
            json!([{"stage": "rom", "component": "acme-wifi-fw", "sha256": "xyz"}]),
        )
        .await;
        assert_eq!(s, 400, "{e}");
        assert_eq!(
            call(
                &app,
                "POST",
                "/api/v1/products/gw-1/releases",
                Some(&st),
                Some(json!({"version": "x", "images": []})),
                &[]
            )
            .await
            .0,
            403
        );
        // Missing component, unproven image: each named.
        let unknown = "ab".repeat(32);
        let (s, _, r) = define(
            "1.0.0-rc1",
            json!([{"stage": "rom", "component": "acme-wifi-fw", "sha256": unknown}]),
        )
        .await;
        assert_eq!(s, 201, "{r}");
        assert_eq!(r["status"], "draft");
        let (s, _, c) = check("1.0.0-rc1").await;
        assert_eq!(s, 200, "{c}");
        assert_eq!(c["ok"], false);
        let problems = c["problems"].to_string();
        assert!(
            problems.contains("loads component 'acme-bt-fw' but the release has no image of it"),
            "{problems}"
        );
        assert!(
            problems.contains(&format!(
                "image {unknown} of 'acme-wifi-fw' (stage 'rom'): not proven"
            )),
            "{problems}"
        );
        assert!(c["attestation"].is_null());
        let (_, _, v) = call(
            &app,
            "GET",
            "/api/v1/products/gw-1/releases/1.0.0-rc1",
            Some(&st),
            None,
            &[],
        )
        .await;
        assert_eq!(v["status"], "blocked", "{v}");
        // The good release passes and is attested.
        let good = json!([{"stage": "rom", "component": "acme-wifi-fw", "sha256": wifi}, {"stage": "rom", "component": "acme-bt-fw", "sha256": bt}]);
        let (s, _, r) = define("1.0.0", good.clone()).await;
        assert_eq!(s, 201, "{r}");
        assert_eq!(
            define("1.0.0", good.clone()).await.0,
            409,
            "releases do not change"
        );
        let (_, _, c) = check("1.0.0").await;
        assert_eq!(c["ok"], true, "{c}");
        assert_eq!(c["problems"], json!([]));
        let comps = c["components"].as_array().unwrap();
        assert_eq!(comps.len(), 2);
        let w = comps
            .iter()
            .find(|x| x["component"] == "acme-wifi-fw")
            .unwrap();
        assert_eq!(w["version"], "1.5.0");
        assert_eq!(w["vendor"], "acme");
        assert_eq!(w["version_source"], "claimed by the inspector");
        assert!(
            w["signer"]
                .as_str()
                .unwrap()
                .contains("Acme WiFi FW Signer P-256"),
            "{w}"
        );
        let (ok, out) = python_verifies_dsse(&h.state.key.certificate_pem, &c["attestation"]);
        assert!(ok, "securesystemslib: {out}");
        assert!(out.starts_with("RELEASE gw-1 1.0.0 2"), "{out}");
        let mut forged = c["attestation"].clone();
        forged["payload"] = base64::Engine::encode(
            &base64::engine::general_purpose::STANDARD,
            b"{\"_type\":\"x\"}",
        )
        .into();
        assert!(!python_verifies_dsse(&h.state.key.certificate_pem, &forged).0);
        let (_, _, v) = call(
            &app,
            "GET",
            "/api/v1/products/gw-1/releases/1.0.0",
            Some(&st),
            None,
            &[],
        )
        .await;
        assert_eq!(v["status"], "released");
        assert!(v["attestation"].is_object());
        // Its CycloneDX 1.6 SBOM: byte-identical when rebuilt, valid for
        // CycloneDX's own validator, suppliers with their PSIRT contact.
        let sbom = |version: &str| {
            let app = &app;
            let st = st.clone();
            let uri = format!("/api/v1/products/gw-1/releases/{version}/sbom");
            async move {
                let req = test::TestRequest::get()
                    .uri(&uri)
                    .insert_header(("Authorization", format!("Bearer {st}")))
                    .to_request();
                let resp = test::call_service(app, req).await;
                let status = resp.status().as_u16();
                let ctype = resp
                    .headers()
                    .get("content-type")
                    .map(|v| v.to_str().unwrap().to_string())
                    .unwrap_or_default();
                (status, ctype, test::read_body(resp).await.to_vec())
            }
        };
        let validate = cyclonedx_valid;
        let (s1, ctype, first) = sbom("1.0.0").await;
        assert_eq!(s1, 200, "{}", String::from_utf8_lossy(&first));
        assert!(
            ctype.starts_with("application/vnd.cyclonedx+json"),
            "{ctype}"
        );
        let (_, _, again) = sbom("1.0.0").await;
        assert_eq!(first, again, "the SBOM is reproducible byte for byte");
        let (ok, said) = validate(&first);
        assert!(ok, "cyclonedx-python-lib: {said}");
        assert!(said.starts_with("valid 2 components"), "{said}");
        let bom: serde_json::Value = serde_json::from_slice(&first).unwrap();
        assert_eq!(bom["specVersion"], "1.6");
        assert_eq!(bom["metadata"]["component"]["name"], "Gateway");
        let wifi_c = bom["components"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == "acme-wifi-fw")
            .unwrap();
        assert_eq!(
            wifi_c["supplier"]["contact"][0]["email"],
            "psirt@acme.example"
        );
        assert_eq!(wifi_c["hashes"][0]["content"], wifi.as_str());
        assert!(
            wifi_c["properties"]
                .to_string()
                .contains("Acme WiFi FW Signer P-256")
        );
        // A broken SBOM is refused by the same validator (the check can fail).
        let mut broken = bom.clone();
        broken["components"][0]["hashes"][0]["alg"] = json!("SHA-1000");
        assert!(!validate(broken.to_string().as_bytes()).0);
        let mut no_flag = bom.clone();
        no_flag["components"][0]["properties"] = json!([]);
        assert!(!validate(no_flag.to_string().as_bytes()).0);
        assert_eq!(
            sbom("1.0.0-rc1").await.0,
            409,
            "no SBOM before a check passed"
        );
        // The CRA evidence pack: byte-identical when rebuilt, read by
        // Python's zipfile against its manifest, the manifest signature
        // verified by OpenSSL, the SBOM inside the same as the one served.
        let pack = |version: &str, token: String| {
            let app = &app;
            let uri = format!("/api/v1/products/gw-1/releases/{version}/evidence");
            async move {
                let req = test::TestRequest::get()
                    .uri(&uri)
                    .insert_header(("Authorization", format!("Bearer {token}")))
                    .to_request();
                let resp = test::call_service(app, req).await;
                let status = resp.status().as_u16();
                let sig = resp
                    .headers()
                    .get("x-tollgate-signature")
                    .map(|v| v.to_str().unwrap().to_string())
                    .unwrap_or_default();
                (status, sig, test::read_body(resp).await.to_vec())
            }
        };
        let auditor = h.token(Role::Auditor);
        let (s, sig, zip1) = pack("1.0.0", auditor.clone()).await;
        assert_eq!(s, 200, "{}", String::from_utf8_lossy(&zip1));
        assert!(!sig.is_empty());
        let (_, _, zip2) = pack("1.0.0", auditor.clone()).await;
        assert_eq!(
            zip1, zip2,
            "the evidence pack is reproducible byte for byte"
        );
        assert_eq!(
            pack("1.0.0", st.clone()).await.0,
            403,
            "inspectors read no evidence packs"
        );
        assert_eq!(pack("1.0.0-rc1", auditor.clone()).await.0, 409);
        let dir = tempdir();
        std::fs::write(dir.join("pack.zip"), &zip1).unwrap();
        let out = std::process::Command::new("python3")
            .arg(
                std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                    .join("../tests/interop/read_evidence.py"),
            )
            .arg(dir.join("pack.zip"))
            .arg(&dir)
            .output()
            .unwrap();
        let listing = String::from_utf8_lossy(&out.stdout).to_string();
        assert!(
            out.status.success(),
            "{listing}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        for f in [
            "sbom.cdx.json",
            "release-attestation.dsse.json",
            "update-integrity.json",
            "allowlist/efi-db.esl",
            "vendors.json",
            "receipts.json",
            "history.json",
            "summary.html",
        ] {
            assert!(listing.contains(f), "{f}: {listing}");
        }
        assert_eq!(std::fs::read(dir.join("sbom.cdx.json")).unwrap(), first);
        let summary = std::fs::read_to_string(dir.join("summary.html")).unwrap();
        assert!(
            summary.contains("acme-wifi-fw") && summary.contains("psirt@acme.example"),
            "{summary}"
        );
        let pubkey = std::process::Command::new("openssl")
            .args(["x509", "-pubkey", "-noout", "-in"])
            .arg(dir.join("registry-certificate.pem"))
            .output()
            .unwrap();
        std::fs::write(dir.join("pub.pem"), pubkey.stdout).unwrap();
        let verify = |file: &str| {
            std::process::Command::new("openssl")
                .args(["dgst", "-sha256", "-verify"])
                .arg(dir.join("pub.pem"))
                .arg("-signature")
                .arg(dir.join("manifest.sig"))
                .arg(dir.join(file))
                .output()
                .unwrap()
                .status
                .success()
        };
        assert!(
            verify("manifest.json"),
            "OpenSSL verifies the manifest signature"
        );
        assert!(
            !verify("summary.html"),
            "and the signature covers nothing else"
        );
        // Raising a floor above the shipped version blocks it, naming the floor.
        let (_, _, comp) = call(&app, "GET", "/api/v1/components", Some(&a), None, &[]).await;
        let bt_row = comp
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["name"] == "acme-bt-fw")
            .unwrap()
            .clone();
        let (s, _, b) = call(
            &app,
            "PUT",
            "/api/v1/components/acme-bt-fw/floor",
            Some(&sec),
            Some(json!({"min_version": "3.0.0", "confirm_brick": true})),
            &[("If-Match", &format!("\"{}\"", bt_row["version"]))],
        )
        .await;
        assert_eq!(s, 200, "{b}");
        let (_, _, c) = check("1.0.0").await;
        assert_eq!(c["ok"], false);
        assert!(
            c["problems"]
                .to_string()
                .contains("version 2.1.0 is below the component's floor 3.0.0"),
            "{c}"
        );
        let (_, _, v) = call(
            &app,
            "GET",
            "/api/v1/products/gw-1/releases/1.0.0",
            Some(&st),
            None,
            &[],
        )
        .await;
        assert_eq!(v["status"], "blocked");
        assert!(
            v["attestation"].is_object(),
            "the last passing attestation is kept as history"
        );
        // A stage that cannot verify the vendor's keys.
        let (s, _, b) = call(
            &app,
            "POST",
            "/api/v1/products",
            Some(&sec),
            Some(json!({"id": "gw-2", "name": "Gateway 2", "stages": [
            {"name": "rom", "algorithms": ["ed25519"], "components": ["acme-wifi-fw"]}]})),
            &[],
        )
        .await;
        assert_eq!(s, 201, "{b}");
        let (s, _, _) = call(&app, "POST", "/api/v1/products/gw-2/releases", Some(&sec), Some(json!({"version": "1", "images": [{"stage": "rom", "component": "acme-wifi-fw", "sha256": wifi}]})), &[]).await;
        assert_eq!(s, 201);
        let (_, _, c) = call(
            &app,
            "POST",
            "/api/v1/products/gw-2/releases/1/check",
            Some(&sec),
            None,
            &[],
        )
        .await;
        assert_eq!(c["ok"], false);
        assert!(
            c["problems"]
                .to_string()
                .contains("chains to no key stage 'rom' trusts and can verify"),
            "{c}"
        );
        // The command line checks it too (as the local operator).
        let (code, out, err) = registry_cli(
            &h.url,
            &[
                "release-check",
                "--product",
                "gw-2",
                "--release",
                "1",
                "--data-dir",
                h.dir.to_str().unwrap(),
            ],
        );
        assert_eq!(code, Some(1), "{out}{err}");
        assert!(
            out.contains("BLOCKED") && out.contains("chains to no key"),
            "{out}"
        );
        let (code, out, err) = registry_cli(
            &h.url,
            &[
                "release-check",
                "--product",
                "gw-1",
                "--release",
                "1.0.0-rc1",
                "--data-dir",
                h.dir.to_str().unwrap(),
            ],
        );
        assert_eq!(code, Some(1), "{out}{err}");
        let (code, _, err) = registry_cli(
            &h.url,
            &[
                "release-check",
                "--product",
                "gw-1",
                "--release",
                "nope",
                "--data-dir",
                h.dir.to_str().unwrap(),
            ],
        );
        assert_eq!(code, Some(2), "{err}");
        let out_zip = tempdir().join("pack.zip");
        let (code, out, err) = registry_cli(
            &h.url,
            &[
                "evidence",
                "--product",
                "gw-1",
                "--release",
                "1.0.0",
                "--out",
                out_zip.to_str().unwrap(),
                "--data-dir",
                h.dir.to_str().unwrap(),
            ],
        );
        assert_eq!(code, Some(0), "{out}{err}");
        let zip = std::fs::read(&out_zip).unwrap();
        assert!(zip.starts_with(b"PK"), "a ZIP archive");
        assert!(
            std::fs::metadata(format!("{}.sig", out_zip.display()))
                .unwrap()
                .len()
                > 60
        );
        // Listed, newest first; unknown ones are 404.
        let (_, _, list) = call(
            &app,
            "GET",
            "/api/v1/products/gw-1/releases",
            Some(&st),
            None,
            &[],
        )
        .await;
        assert_eq!(list[0]["version"], "1.0.0");
        assert_eq!(
            call(
                &app,
                "GET",
                "/api/v1/products/gw-1/releases/9.9",
                Some(&st),
                None,
                &[]
            )
            .await
            .0,
            404
        );
        assert_eq!(
            call(
                &app,
                "POST",
                "/api/v1/products/nope/releases/1/check",
                Some(&sec),
                None,
                &[]
            )
            .await
            .0,
            404
        );
    }
}

/// The product page defines, checks and downloads a release; a malformed
/// image line is refused by line; forms need the CSRF token; an auditor
/// reads but cannot define.
#[actix_rt::test]
async fn releases_are_defined_checked_and_downloaded_from_the_product_page() {
    use super::ui::{enc, page, sign_in};
    for db in BACKENDS {
        let h = Harness::new(db);
        let app = test::init_service(registry::app(h.state.clone())).await;
        let a = h.admin.clone();
        seed_acme(&app, &a).await;
        let st = h.token(Role::Inspector);
        let sec = h.token(Role::Security);
        let (s, _, b) = call(&app, "POST", "/api/v1/products", Some(&sec), Some(json!({"id": "gw-1", "name": "Gateway", "stages": [
            {"name": "rom", "algorithms": ["ecdsa-p256", "ecdsa-p384"], "components": ["acme-wifi-fw"]}]})), &[]).await;
        assert_eq!(s, 201, "{b}");
        let (_, _, r) = call(
            &app,
            "POST",
            "/api/v1/receipts",
            Some(&st),
            Some(signed_receipt(
                "acme-signer-p256",
                "acme-int",
                "acme",
                "acme-wifi-fw",
                "1.6.0",
                b"wifi 1.6.0",
                "accept",
            )),
            &[],
        )
        .await;
        assert_eq!(r["registry_verdict"], "accept", "{r}");
        let wifi = sha(b"wifi 1.6.0");
        let (cookie, csrf, _) = sign_in(&app, &sec, false).await;
        let bad = page(
            &app,
            "POST",
            "/products/gw-1/releases",
            &cookie,
            Some(&format!(
                "csrf={csrf}&version=1&images={}",
                enc("rom acme-wifi-fw")
            )),
            &[],
        )
        .await;
        assert_eq!(bad.status, 400, "{}", bad.body);
        assert!(bad.body.contains("line 1"), "{}", bad.body);
        let no_csrf = page(
            &app,
            "POST",
            "/products/gw-1/releases",
            &cookie,
            Some(&format!(
                "version=1&images={}",
                enc(&format!("rom acme-wifi-fw {wifi}"))
            )),
            &[],
        )
        .await;
        assert_eq!(no_csrf.status, 403);
        let ok = page(
            &app,
            "POST",
            "/products/gw-1/releases",
            &cookie,
            Some(&format!(
                "csrf={csrf}&version=2026.12&images={}",
                enc(&format!("rom acme-wifi-fw {wifi}"))
            )),
            &[],
        )
        .await;
        assert_eq!(ok.status, 303, "{}", ok.body);
        let checked = page(
            &app,
            "POST",
            "/products/gw-1/releases/2026.12/check",
            &cookie,
            Some(&format!("csrf={csrf}")),
            &[],
        )
        .await;
        assert_eq!(checked.status, 303, "{}", checked.body);
        assert!(checked.location.unwrap().contains("passed"));
        let product = page(&app, "GET", "/products/gw-1", &cookie, None, &[]).await;
        assert!(
            product.body.contains(">released<") && product.body.contains("SBOM (CycloneDX 1.6)"),
            "{}",
            product.body
        );
        let sbom = page(
            &app,
            "GET",
            "/products/gw-1/releases/2026.12/sbom",
            &cookie,
            None,
            &[],
        )
        .await;
        assert_eq!(sbom.status, 200);
        let bom: serde_json::Value = serde_json::from_str(&sbom.body).unwrap();
        assert_eq!(bom["components"][0]["version"], "1.6.0");
        let att = page(
            &app,
            "GET",
            "/products/gw-1/releases/2026.12/attestation",
            &cookie,
            None,
            &[],
        )
        .await;
        assert_eq!(att.status, 200);
        assert!(att.body.contains("payloadType"));
        // An auditor reads the page but gets no forms, and is refused.
        let (aud, aud_csrf, _) = sign_in(&app, &h.token(Role::Auditor), false).await;
        let seen = page(&app, "GET", "/products/gw-1", &aud, None, &[]).await;
        assert!(seen.body.contains("2026.12") && !seen.body.contains("Define a release"));
        let refused = page(
            &app,
            "POST",
            "/products/gw-1/releases/2026.12/check",
            &aud,
            Some(&format!("csrf={aud_csrf}")),
            &[],
        )
        .await;
        assert_eq!(refused.status, 403);
    }
}

/// BSI TR-03183-2 asks the SBOM for each component's SHA-512: a release
/// may give it per image; the SBOM carries it (CycloneDX's validator
/// accepts it); one that contradicts the SHA-512 the evidence proves is a
/// problem named by the check.
#[actix_rt::test]
async fn release_images_carry_their_sha512_into_the_sbom() {
    for db in BACKENDS {
        let h = Harness::new(db);
        let app = test::init_service(registry::app(h.state.clone())).await;
        let a = h.admin.clone();
        seed_acme(&app, &a).await;
        let st = h.token(Role::Inspector);
        let sec = h.token(Role::Security);
        let (s, _, b) = call(&app, "POST", "/api/v1/products", Some(&sec), Some(json!({"id": "gw-1", "name": "Gateway", "stages": [
            {"name": "rom", "algorithms": ["ecdsa-p256", "ecdsa-p384"], "components": ["acme-wifi-fw"]}]})), &[]).await;
        assert_eq!(s, 201, "{b}");
        let content = b"wifi 1.7.0";
        let sha512 =
            inspector::digest::hex(&inspector::digest::DigestAlgorithm::Sha512.hash(content));
        let mut r = signed_receipt(
            "acme-signer-p256",
            "acme-int",
            "acme",
            "acme-wifi-fw",
            "1.7.0",
            content,
            "accept",
        );
        r["report"]["blob"]["sha512"] = json!(sha512);
        let (_, _, rec) = call(&app, "POST", "/api/v1/receipts", Some(&st), Some(r), &[]).await;
        assert_eq!(rec["registry_verdict"], "accept", "{rec}");
        let define = |version: &str, sha512: &str| {
            let app = &app;
            let sec = sec.clone();
            let body = json!({"version": version, "images": [{"stage": "rom", "component": "acme-wifi-fw", "sha256": sha(content), "sha512": sha512}]});
            async move {
                call(
                    app,
                    "POST",
                    "/api/v1/products/gw-1/releases",
                    Some(&sec),
                    Some(body),
                    &[],
                )
                .await
            }
        };
        assert_eq!(define("bad", "12").await.0, 400);
        let (s, _, b) = define("1", &sha512).await;
        assert_eq!(s, 201, "{b}");
        let (_, _, c) = call(
            &app,
            "POST",
            "/api/v1/products/gw-1/releases/1/check",
            Some(&sec),
            None,
            &[],
        )
        .await;
        assert_eq!(c["ok"], true, "{c}");
        let (s, _, bom) = call(
            &app,
            "GET",
            "/api/v1/products/gw-1/releases/1/sbom",
            Some(&st),
            None,
            &[],
        )
        .await;
        assert_eq!(s, 200);
        assert_eq!(
            bom["components"][0]["hashes"][1],
            json!({"alg": "SHA-512", "content": sha512})
        );
        let (ok, said) = cyclonedx_valid(bom.to_string().as_bytes());
        assert!(ok, "{said}");
        let (s, _, _) = define("2", &"ab".repeat(64)).await;
        assert_eq!(s, 201);
        let (_, _, c) = call(
            &app,
            "POST",
            "/api/v1/products/gw-1/releases/2/check",
            Some(&sec),
            None,
            &[],
        )
        .await;
        assert_eq!(c["ok"], false, "{c}");
        assert!(
            c["problems"]
                .to_string()
                .contains("is not the one the evidence proves"),
            "{c}"
        );
    }
}
