//! Issue 14, item 1: vendor-signed SBOMs bind versions. A signed SBOM is
//! accepted and a tampered or other-vendor-signed one refused; a version
//! contradicting the signed SBOM is rejected (and an accepted receipt the
//! new SBOM contradicts is withdrawn); `require_signed_sbom` refuses an
//! unbound version. Both backends; SBOMs signed by `openssl cms` with the
//! fixture keys.

use super::*;
use base64::Engine;
use registry::auth::Role;
use serde_json::json;

fn sha(content: &[u8]) -> String {
    inspector::digest::hex(&inspector::digest::DigestAlgorithm::Sha256.hash(content))
}

/// A CycloneDX 1.6 SBOM by Acme for its Wi-Fi firmware `version`, listing
/// `images` as (name, version, content).
fn acme_sbom(serial: &str, version: &str, images: &[(&str, &str, &[u8])]) -> Vec<u8> {
    serde_json::to_vec_pretty(&json!({
        "bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1,
        "serialNumber": serial,
        "metadata": {"component": {"type": "firmware", "name": "acme-wifi-fw", "version": version}},
        "components": images.iter().map(|(n, v, c)| json!({
            "type": "firmware", "name": n, "version": v,
            "hashes": [{"alg": "SHA-256", "content": sha(c)}],
        })).collect::<Vec<_>>(),
    }))
    .unwrap()
}

fn upload_body(sbom: &[u8], sig: &[u8]) -> serde_json::Value {
    let b64 = base64::engine::general_purpose::STANDARD;
    json!({"sbom_base64": b64.encode(sbom), "signature_base64": b64.encode(sig)})
}

const SERIAL: &str = "urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79";

#[actix_rt::test]
async fn vendor_signed_sboms_bind_the_versions_of_the_images_they_list() {
    for db in BACKENDS {
        let h = Harness::new(db);
        let app = test::init_service(registry::app(h.state.clone())).await;
        let a = h.admin.clone();
        seed_acme(&app, &a).await;
        let st = h.token(Role::Inspector);
        let proc = h.token(Role::Procurement);
        // An image accepted before any SBOM, at a version the SBOM will contradict.
        let early = b"wifi image accepted early";
        let (_, _, r0) = call(
            &app,
            "POST",
            "/api/v1/receipts",
            Some(&st),
            Some(signed_receipt(
                "acme-signer-p256",
                "acme-int",
                "acme",
                "acme-wifi-fw",
                "9.9.9",
                early,
                "accept",
            )),
            &[],
        )
        .await;
        assert_eq!(r0["registry_verdict"], "accept", "{r0}");
        assert_eq!(
            r0["registry_report"]["version_source"], "claimed by the inspector",
            "{r0}"
        );
        let img = b"wifi image 1.5.0";
        let sbom = acme_sbom(
            SERIAL,
            "1.5.0",
            &[
                ("acme-wifi-fw", "1.5.0", img),
                ("acme-wifi-fw", "1.4.0", early),
                ("libfoo", "2.0", b"x"),
            ],
        );
        let sig = cms_sign("acme-signer-p256", "acme-int", &sbom);
        let post = |token: String, body: serde_json::Value| {
            let app = &app;
            async move {
                call(
                    app,
                    "POST",
                    "/api/v1/vendors/acme/sboms",
                    Some(&token),
                    Some(body),
                    &[],
                )
                .await
            }
        };
        // Refused: a tampered SBOM, another vendor's signature, junk, roles.
        let mut tampered = sbom.clone();
        let at = tampered.iter().position(|b| *b == b'5').unwrap();
        tampered[at] = b'7';
        let (s, _, e) = post(proc.clone(), upload_body(&tampered, &sig)).await;
        assert_eq!(s, 400, "{e}");
        assert!(
            e["error"]["message"]
                .as_str()
                .unwrap()
                .contains("signature is refused"),
            "{e}"
        );
        let globex_sig = cms_sign("globex-signer", "globex-int", &sbom);
        let (s, _, e) = post(proc.clone(), upload_body(&sbom, &globex_sig)).await;
        assert_eq!(s, 400, "{e}");
        assert!(
            e["error"]["message"]
                .as_str()
                .unwrap()
                .contains("signature is refused"),
            "{e}"
        );
        let (s, _, e) = post(
            proc.clone(),
            json!({"sbom_base64": "!!", "signature_base64": ""}),
        )
        .await;
        assert_eq!(s, 400, "{e}");
        assert!(
            e["error"]["message"]
                .as_str()
                .unwrap()
                .contains("sbom_base64"),
            "{e}"
        );
        let not_cdx = b"{\"hello\": 1}";
        let (s, _, e) = post(
            proc.clone(),
            upload_body(not_cdx, &cms_sign("acme-signer-p256", "acme-int", not_cdx)),
        )
        .await;
        assert_eq!(s, 400, "{e}");
        let auditor = h.token(Role::Auditor);
        assert_eq!(post(auditor, upload_body(&sbom, &sig)).await.0, 403);
        let (_, _, none) = call(
            &app,
            "GET",
            "/api/v1/vendors/acme/sboms",
            Some(&a),
            None,
            &[],
        )
        .await;
        assert_eq!(none, json!([]), "refused SBOMs leave nothing");
        // Accepted: it binds the two Acme images; libfoo is not Acme's component.
        let (s, _, v) = post(proc.clone(), upload_body(&sbom, &sig)).await;
        assert_eq!(s, 201, "{db:?} {v}");
        assert_eq!(v["serial"], SERIAL);
        assert_eq!(v["bindings"].as_array().unwrap().len(), 2, "{v}");
        assert!(v["ignored"].to_string().contains("libfoo"), "{v}");
        assert_eq!(
            post(proc.clone(), upload_body(&sbom, &sig)).await.0,
            409,
            "recorded once"
        );
        // The earlier receipt it contradicts (9.9.9 vs 1.4.0) is withdrawn.
        let (_, _, r0) = call(
            &app,
            "GET",
            &format!("/api/v1/receipts/{}", r0["id"]),
            Some(&a),
            None,
            &[],
        )
        .await;
        assert_eq!(r0["registry_verdict"], "reject", "{r0}");
        // The same image claimed as 7.0.0 is rejected, naming the SBOM; as 1.5.0 it is bound.
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
                "7.0.0",
                img,
                "accept",
            )),
            &[],
        )
        .await;
        assert_eq!(r["registry_verdict"], "reject", "{r}");
        let summary = r["registry_summary"].as_str().unwrap();
        assert!(
            summary.contains("contradicts vendor 'acme''s signed SBOM") && summary.contains(SERIAL),
            "{summary}"
        );
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
                "1.5.0",
                img,
                "accept",
            )),
            &[],
        )
        .await;
        assert_eq!(r["registry_verdict"], "accept", "{r}");
        assert_eq!(
            r["registry_report"]["version_source"],
            format!("vendor-signed SBOM {SERIAL}")
        );
        // The bundle carries the bindings for stations.
        let b = bundle_payload(&app, &a).await;
        assert_eq!(
            b["sbom_bindings"].as_array().unwrap().len(),
            2,
            "{}",
            b["sbom_bindings"]
        );
        // An image no SBOM lists: accepted as claimed, until the vendor requires binding.
        let other = b"wifi image nobody bound";
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
                other,
                "accept",
            )),
            &[],
        )
        .await;
        assert_eq!(r["registry_verdict"], "accept", "{r}");
        let (_, _, vendor) = call(&app, "GET", "/api/v1/vendors/acme", Some(&a), None, &[]).await;
        let mut body = vendor.clone();
        for k in ["id", "version"] {
            body.as_object_mut().unwrap().remove(k);
        }
        body["require_signed_sbom"] = json!(true);
        body["confirm_brick"] = json!(true);
        let (s, _, v) = call(
            &app,
            "PUT",
            "/api/v1/vendors/acme",
            Some(&a),
            Some(body),
            &[("If-Match", &format!("\"{}\"", vendor["version"]))],
        )
        .await;
        assert_eq!(s, 200, "{v}");
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
                other,
                "accept",
            )),
            &[],
        )
        .await;
        assert_eq!(r["registry_verdict"], "reject", "{r}");
        assert!(
            r["registry_summary"]
                .as_str()
                .unwrap()
                .contains("must bind its versions with a signed SBOM"),
            "{r}"
        );
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
                "1.5.0",
                img,
                "accept",
            )),
            &[],
        )
        .await;
        assert_eq!(
            r["registry_verdict"], "accept",
            "the bound image still passes: {r}"
        );
        let (_, _, list) = call(
            &app,
            "GET",
            "/api/v1/vendors/acme/sboms",
            Some(&st),
            None,
            &[],
        )
        .await;
        assert_eq!(list[0]["serial"], SERIAL);
    }
}

/// The vendor page uploads a signed SBOM (two files) and lists what it
/// binds; a tampered one is refused with the reason; no CSRF, no upload.
#[actix_rt::test]
async fn the_vendor_page_uploads_and_lists_signed_sboms() {
    use super::ui::{page, sign_in};
    for db in BACKENDS {
        let h = Harness::new(db);
        let app = test::init_service(registry::app(h.state.clone())).await;
        seed_acme(&app, &h.admin).await;
        let (cookie, csrf, _) = sign_in(&app, &h.token(Role::Procurement), false).await;
        let sbom = acme_sbom(SERIAL, "1.5.0", &[("acme-wifi-fw", "1.5.0", b"page image")]);
        let sig = cms_sign("acme-signer-p256", "acme-int", &sbom);
        let upload = |csrf: &str, sbom: &[u8]| {
            let boundary = "----tollgate-sbom-test";
            let mut body = Vec::new();
            let mut part = |name: &str, file: Option<&str>, data: &[u8]| {
                body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
                match file {
                    Some(f) => body.extend_from_slice(format!("Content-Disposition: form-data; name=\"{name}\"; filename=\"{f}\"\r\nContent-Type: application/octet-stream\r\n\r\n").as_bytes()),
                    None => body.extend_from_slice(format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes()),
                }
                body.extend_from_slice(data);
                body.extend_from_slice(b"\r\n");
            };
            part("csrf", None, csrf.as_bytes());
            part("sbom", Some("sbom.json"), sbom);
            part("signature", Some("sbom.json.p7s"), &sig);
            body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
            let app = &app;
            let cookie = cookie.clone();
            async move {
                let req = test::TestRequest::post()
                    .uri("/vendors/acme/sboms")
                    .insert_header(("Cookie", cookie))
                    .insert_header((
                        "Content-Type",
                        format!("multipart/form-data; boundary={boundary}"),
                    ))
                    .set_payload(body)
                    .to_request();
                let resp = test::call_service(app, req).await;
                let status = resp.status().as_u16();
                let location = resp
                    .headers()
                    .get("location")
                    .map(|l| l.to_str().unwrap().to_string())
                    .unwrap_or_default();
                let text = String::from_utf8_lossy(&test::read_body(resp).await).into_owned();
                (status, location, text)
            }
        };
        assert_eq!(upload("not-the-token", &sbom).await.0, 403);
        let mut tampered = sbom.clone();
        let at = tampered.iter().position(|b| *b == b'5').unwrap();
        tampered[at] = b'6';
        let (s, _, body) = upload(&csrf, &tampered).await;
        assert_eq!(s, 400, "{body}");
        assert!(body.contains("signature is refused"), "{body}");
        let (s, location, body) = upload(&csrf, &sbom).await;
        assert_eq!(s, 303, "{body}");
        assert!(location.contains("binds"), "{location}");
        let vendor = page(&app, "GET", "/vendors/acme", &cookie, None, &[]).await;
        assert!(vendor.body.contains(SERIAL) && vendor.body.contains("Upload a signed SBOM"));
    }
}

/// Issue 14, item 2: an RFC 4108 firmware package (BouncyCastle fixture)
/// is accepted by the registry for the component procurement registered
/// its package OID for, at the version it signs (the version source says
/// so), and refused for another version or before the OID is registered;
/// one OID names one component.
#[actix_rt::test]
async fn rfc4108_packages_are_accepted_for_their_registered_component_and_signed_version() {
    for db in BACKENDS {
        let h = Harness::new(db);
        let app = test::init_service(registry::app(h.state.clone())).await;
        let a = h.admin.clone();
        seed_acme(&app, &a).await;
        let st = h.token(Role::Inspector);
        let proc = h.token(Role::Procurement);
        let fw = std::fs::read(fixtures().join("blobs/fw.bin")).unwrap();
        let package = std::fs::read(fixtures().join("sigs/fwpkg-v7-stale5.der")).unwrap();
        let receipt = |version: &str| {
            json!({
                "station": "st-1", "lot": "L-1", "bundle_serial": 1,
                "signature": base64::engine::general_purpose::STANDARD.encode(&package),
                "report": {
                    "report_version": 2, "verdict": "accept", "summary": "station says accept",
                    "vendor": "acme", "component": "acme-wifi-fw", "version": version,
                    "blob": {"sha256": sha(&fw), "size": fw.len()}, "signature": {"kind": "cms"},
                    "verification_time": AT, "checks": [], "signers": []
                }
            })
        };
        let post = |version: &str| {
            let app = &app;
            let st = st.clone();
            let body = receipt(version);
            async move {
                call(app, "POST", "/api/v1/receipts", Some(&st), Some(body), &[])
                    .await
                    .2
            }
        };
        // Before the OID is registered the package names no component.
        let r = post("7.0.0").await;
        assert_eq!(r["registry_verdict"], "reject", "{r}");
        assert!(
            r["registry_summary"]
                .as_str()
                .unwrap()
                .contains("not registered for any component"),
            "{r}"
        );
        let (_, _, comps) = call(&app, "GET", "/api/v1/components", Some(&a), None, &[]).await;
        let wifi = comps
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == "acme-wifi-fw")
            .unwrap()
            .clone();
        let set = |name: &str, oid: serde_json::Value, etag: String| {
            let app = &app;
            let proc = proc.clone();
            let uri = format!("/api/v1/components/{name}/firmware-package");
            async move {
                call(
                    app,
                    "PUT",
                    &uri,
                    Some(&proc),
                    Some(json!({"firmware_package_oid": oid})),
                    &[("If-Match", &etag)],
                )
                .await
            }
        };
        let etag = format!("\"{}\"", wifi["version"]);
        let (s, _, e) = set("acme-wifi-fw", json!("not-an-oid"), etag.clone()).await;
        assert_eq!(s, 400, "{e}");
        assert!(
            e["error"]["message"]
                .as_str()
                .unwrap()
                .contains("firmware_package_oid"),
            "{e}"
        );
        let (s, _, c) = set("acme-wifi-fw", json!("1.3.6.1.4.1.32473.1.1"), etag).await;
        assert_eq!(s, 200, "{c}");
        assert_eq!(c["firmware_package_oid"], "1.3.6.1.4.1.32473.1.1");
        let (s, _, b) = call(
            &app,
            "POST",
            "/api/v1/vendors/acme/components",
            Some(&a),
            Some(json!({"name": "acme-bt-fw"})),
            &[],
        )
        .await;
        assert_eq!(s, 201, "{b}");
        let (s, _, e) = set("acme-bt-fw", json!("1.3.6.1.4.1.32473.1.1"), "\"1\"".into()).await;
        assert_eq!(s, 409, "one OID names one component: {e}");
        // The bundle carries it; the package is acme-wifi-fw 7.0.0.
        let bundle = bundle_payload(&app, &a).await;
        assert!(
            bundle
                .to_string()
                .contains("\"firmware_package_oid\":\"1.3.6.1.4.1.32473.1.1\"")
        );
        let r = post("7.0.0").await;
        assert_eq!(r["registry_verdict"], "accept", "{r}");
        assert_eq!(
            r["registry_report"]["version_source"],
            "vendor-signed firmware package identifier 1.3.6.1.4.1.32473.1.1 version 7"
        );
        let r = post("1.5.0").await;
        assert_eq!(r["registry_verdict"], "reject", "{r}");
        // (Its first failure is now the floor the package itself raised.)
        assert!(
            r["registry_report"]["checks"]
                .as_array()
                .unwrap()
                .iter()
                .any(|c| c["id"] == "firmware-package"
                    && c["outcome"] == "fail"
                    && c["reason"]
                        .as_str()
                        .unwrap()
                        .contains("not the claimed 1.5.0")),
            "{r}"
        );
        // The accepted package signed "versions at or below 5 are stale":
        // the component's vendor floor is now 6.0.0, for every later image
        // (audited, in the bundle, enforced by the version-floor check).
        let (_, _, comps) = call(&app, "GET", "/api/v1/components", Some(&a), None, &[]).await;
        let wifi = comps
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == "acme-wifi-fw")
            .unwrap()
            .clone();
        assert_eq!(wifi["vendor_floor"], "6.0.0", "{wifi}");
        let bundle = bundle_payload(&app, &a).await;
        assert!(
            bundle.to_string().contains("\"min_version\":\"6.0.0\""),
            "the bundle carries the higher floor"
        );
        let (_, _, older) = call(
            &app,
            "POST",
            "/api/v1/receipts",
            Some(&st),
            Some(signed_receipt(
                "acme-signer-p256",
                "acme-int",
                "acme",
                "acme-wifi-fw",
                "5.0.0",
                b"an older image",
                "accept",
            )),
            &[],
        )
        .await;
        assert_eq!(older["registry_verdict"], "reject", "{older}");
        assert!(
            older["registry_summary"]
                .as_str()
                .unwrap()
                .contains("below the rollback floor 6.0.0"),
            "{older}"
        );
        let (_, _, newer) = call(
            &app,
            "POST",
            "/api/v1/receipts",
            Some(&st),
            Some(signed_receipt(
                "acme-signer-p256",
                "acme-int",
                "acme",
                "acme-wifi-fw",
                "6.0.0",
                b"a newer image",
                "accept",
            )),
            &[],
        )
        .await;
        assert_eq!(newer["registry_verdict"], "accept", "{newer}");
        let (_, _, log) = call(&app, "GET", "/api/v1/audit?limit=100", Some(&a), None, &[]).await;
        assert!(log.to_string().contains("vendor-floor"), "audited");
        // The package targets hardware 1.3.6.1.4.1.32473.2.1: a release of a
        // product declaring other hardware is blocked, naming both.
        let sec = h.token(Role::Security);
        let product = |hw: serde_json::Value| {
            json!({"id": "gw-9", "name": "Gateway 9", "hardware_ids": hw,
            "stages": [{"name": "rom", "algorithms": ["ecdsa-p256", "ecdsa-p384"], "components": ["acme-wifi-fw"]}]})
        };
        let (s, _, e) = call(
            &app,
            "POST",
            "/api/v1/products",
            Some(&sec),
            Some(product(json!(["no oid"]))),
            &[],
        )
        .await;
        assert_eq!(s, 400, "{e}");
        assert!(
            e["error"]["message"]
                .as_str()
                .unwrap()
                .contains("hardware_ids[0]"),
            "{e}"
        );
        let (s, _, b) = call(
            &app,
            "POST",
            "/api/v1/products",
            Some(&sec),
            Some(product(json!(["1.3.6.1.4.1.32473.2.2"]))),
            &[],
        )
        .await;
        assert_eq!(s, 201, "{b}");
        let (s, _, b) = call(&app, "POST", "/api/v1/products/gw-9/releases", Some(&sec), Some(json!({"version": "1", "images": [{"stage": "rom", "component": "acme-wifi-fw", "sha256": sha(&fw)}]})), &[]).await;
        assert_eq!(s, 201, "{b}");
        let (_, _, c) = call(
            &app,
            "POST",
            "/api/v1/products/gw-9/releases/1/check",
            Some(&sec),
            None,
            &[],
        )
        .await;
        assert_eq!(c["ok"], false, "{c}");
        assert!(
            c["problems"].to_string().contains(
                "targets hardware 1.3.6.1.4.1.32473.2.1, not the product's 1.3.6.1.4.1.32473.2.2"
            ),
            "{c}"
        );
        let mut fixed = product(json!(["1.3.6.1.4.1.32473.2.2", "1.3.6.1.4.1.32473.2.1"]));
        fixed.as_object_mut().unwrap().remove("id");
        let (s, _, b) = call(
            &app,
            "PUT",
            "/api/v1/products/gw-9",
            Some(&sec),
            Some(fixed),
            &[("If-Match", "\"1\"")],
        )
        .await;
        assert_eq!(s, 200, "{b}");
        assert_eq!(b["hardware_ids"].as_array().unwrap().len(), 2);
        let (_, _, c) = call(
            &app,
            "POST",
            "/api/v1/products/gw-9/releases/1/check",
            Some(&sec),
            None,
            &[],
        )
        .await;
        assert_eq!(c["ok"], true, "{c}");
        assert_eq!(
            c["components"][0]["version_source"],
            "vendor-signed firmware package identifier 1.3.6.1.4.1.32473.1.1 version 7"
        );
    }
}
