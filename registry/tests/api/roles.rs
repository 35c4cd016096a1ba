//! Every endpoint with every role, and with no token.

use super::*;
use registry::auth::Role;
use serde_json::json;

#[actix_rt::test]
async fn every_endpoint_with_every_role_and_none() {
    use Role::*;
    const ALL: &[Role] = &[Admin, Procurement, Security, Inspector, Auditor];
    for db in BACKENDS {
        let h = Harness::new(db);
        let app = test::init_service(registry::app(h.state.clone())).await;
        seed_acme(&app, &h.admin).await;
        let tokens: Vec<(Role, String)> = ALL.iter().map(|r| (*r, h.token(*r))).collect();
        let receipt = json!({"station": "s", "lot": "l", "bundle_serial": 1, "report": {
            "report_version": 1, "verdict": "accept", "summary": "x", "vendor": "acme", "component": "acme-wifi-fw",
            "version": "1.5.0", "blob": {"sha256": "00", "size": 1}, "signature": {"kind": "cms"},
            "verification_time": "2026-10-01T00:00:00Z", "checks": [], "signers": []}});
        let crl = std::fs::read_to_string(fixtures().join("certs/acme-int.crl.pem")).unwrap();
        let endpoints: Vec<(&str, &str, Option<serde_json::Value>, &[Role])> = vec![
            (
                "POST",
                "/api/v1/products/gw-1/allowlist/publish",
                None,
                &[Admin, Security],
            ),
            ("GET", "/api/v1/vendors", None, ALL),
            (
                "POST",
                "/api/v1/vendors",
                Some(json!({"id": "v", "name": "V"})),
                &[Admin, Procurement],
            ),
            ("GET", "/api/v1/vendors/acme", None, ALL),
            (
                "PUT",
                "/api/v1/vendors/acme",
                Some(json!({"name": "Acme"})),
                &[Admin, Procurement],
            ),
            (
                "POST",
                "/api/v1/vendors/acme/certificates",
                Some(json!({"role": "anchor", "pem": pem("globex-root.pem")})),
                &[Admin, Procurement],
            ),
            ("GET", "/api/v1/vendors/acme/certificates", None, ALL),
            ("GET", "/api/v1/certificates/expiring", None, ALL),
            (
                "POST",
                "/api/v1/certificates/999999/retire",
                Some(json!({"reason": "x"})),
                &[Admin, Procurement, Security],
            ),
            (
                "POST",
                "/api/v1/components/no-such-component/retire",
                Some(json!({"reason": "x"})),
                &[Admin, Procurement, Security],
            ),
            (
                "POST",
                "/api/v1/vendors/acme/sigstore-identities/999999/retire",
                Some(json!({"reason": "x"})),
                &[Admin, Procurement, Security],
            ),
            (
                "POST",
                "/api/v1/vendors/acme/sigstore-keys/999999/retire",
                Some(json!({"reason": "x"})),
                &[Admin, Procurement, Security],
            ),
            (
                "POST",
                "/api/v1/sigstore-trusted-roots/no-such-root/retire",
                Some(json!({"reason": "x"})),
                &[Admin, Procurement, Security],
            ),
            (
                "POST",
                "/api/v1/tsa-anchors/999999/retire",
                Some(json!({"reason": "x"})),
                &[Admin, Procurement, Security],
            ),
            (
                "POST",
                "/api/v1/vendors/acme/components",
                Some(json!({"name": "c"})),
                &[Admin, Procurement],
            ),
            ("GET", "/api/v1/components", None, ALL),
            (
                "PUT",
                "/api/v1/components/acme-wifi-fw/floor",
                Some(json!({"min_version": "1.5.0"})),
                &[Admin, Security],
            ),
            ("GET", "/api/v1/tsa-anchors", None, ALL),
            (
                "POST",
                "/api/v1/tsa-anchors",
                Some(json!({"pem": pem("evil-tsa-root.pem")})),
                &[Admin, Security],
            ),
            ("GET", "/api/v1/revocations", None, ALL),
            (
                "POST",
                "/api/v1/revocations",
                Some(json!({"pem": pem("acme-server.pem"), "reason": "superseded"})),
                &[Admin, Security],
            ),
            (
                "POST",
                "/api/v1/revocations/crl",
                Some(json!({"pem": crl})),
                &[Admin, Security],
            ),
            (
                "POST",
                "/api/v1/receipts",
                Some(receipt.clone()),
                &[Admin, Inspector],
            ),
            (
                "POST",
                "/api/v1/receipts/batch",
                Some(json!({"receipts": [receipt]})),
                &[Admin, Inspector],
            ),
            ("GET", "/api/v1/receipts", None, ALL),
            ("GET", "/api/v1/receipts/1", None, ALL),
            ("GET", "/api/v1/receipts/1/attestation", None, ALL),
            (
                "POST",
                "/api/v1/receipts/signed",
                Some(json!({"receipts": []})),
                &[Admin, Inspector],
            ),
            ("GET", "/api/v1/stations", None, ALL),
            ("GET", "/api/v1/shared-cas", None, ALL),
            (
                "POST",
                "/api/v1/shared-cas",
                Some(
                    json!({"pem": pem("acme-root.pem"), "vendors": ["acme", "nobody"], "reason": "x"}),
                ),
                &[Admin, Security],
            ),
            (
                "GET",
                "/api/v1/vendors/acme/sigstore-revocations",
                None,
                ALL,
            ),
            (
                "POST",
                "/api/v1/vendors/acme/sigstore-revocations",
                Some(json!({"key_spki_sha256": "cd".repeat(32), "reason": "superseded"})),
                &[Admin, Security],
            ),
            (
                "PUT",
                "/api/v1/components/acme-wifi-fw/signers",
                Some(json!({"allowed_signers": []})),
                &[Admin, Security],
            ),
            ("GET", "/api/v1/vendors/acme/sboms", None, ALL),
            (
                "POST",
                "/api/v1/vendors/acme/sboms",
                Some(json!({"sbom_base64": "", "signature_base64": ""})),
                &[Admin, Procurement, Inspector],
            ),
            ("GET", "/api/v1/products/gw-1/releases", None, ALL),
            ("GET", "/api/v1/products/gw-1/releases/1.0", None, ALL),
            ("GET", "/api/v1/products/gw-1/releases/1.0/sbom", None, ALL),
            (
                "GET",
                "/api/v1/products/gw-1/releases/1.0/evidence",
                None,
                &[Admin, Security, Auditor],
            ),
            (
                "POST",
                "/api/v1/products/gw-1/releases",
                Some(json!({"version": "1.0", "images": []})),
                &[Admin, Security],
            ),
            (
                "POST",
                "/api/v1/products/gw-1/releases/1.0/check",
                None,
                &[Admin, Security],
            ),
            ("GET", "/api/v1/proposals", None, ALL),
            ("GET", "/api/v1/proposals/999999", None, ALL),
            (
                "POST",
                "/api/v1/proposals/999999/approve",
                Some(json!({})),
                ALL,
            ),
            (
                "POST",
                "/api/v1/proposals/999999/reject",
                Some(json!({"reason": "no"})),
                ALL,
            ),
            (
                "POST",
                "/api/v1/unretirements",
                Some(json!({"record": {"kind": "certificate", "id": 999_999}, "reason": "x"})),
                &[Admin, Procurement, Security],
            ),
            (
                "PUT",
                "/api/v1/users/nobody/role",
                Some(json!({"role": "auditor"})),
                &[Admin],
            ),
            (
                "PUT",
                "/api/v1/components/acme-wifi-fw/firmware-package",
                Some(json!({"firmware_package_oid": null})),
                &[Admin, Procurement],
            ),
            (
                "PUT",
                "/api/v1/components/acme-wifi-fw/support",
                Some(json!({"support_ends": null})),
                &[Admin, Procurement],
            ),
            (
                "PUT",
                "/api/v1/receipts/999999/blob",
                Some(json!("x")),
                &[Admin, Inspector],
            ),
            (
                "POST",
                "/api/v1/stations",
                Some(json!({"name": "s", "token_id": 999_999, "public_key_pem": "x"})),
                &[Admin],
            ),
            (
                "POST",
                "/api/v1/stations/999999/retire",
                Some(json!({"reason": "x"})),
                &[Admin],
            ),
            ("GET", "/api/v1/products/gw-1/attestations", None, ALL),
            ("GET", "/api/v1/trust-bundle", None, ALL),
            ("GET", "/api/v1/audit", None, &[Admin, Security, Auditor]),
            (
                "GET",
                "/api/v1/audit/verify",
                None,
                &[Admin, Security, Auditor],
            ),
            ("GET", "/api/v1/tokens", None, &[Admin]),
            (
                "POST",
                "/api/v1/tokens",
                Some(json!({"name": "n", "role": "auditor"})),
                &[Admin],
            ),
        ];
        for (method, uri, body, allowed) in &endpoints {
            let (s, hdr, e) = call(&app, method, uri, None, body.clone(), &[]).await;
            assert_eq!(s, 401, "{db:?} {method} {uri} without a token: {e}");
            assert_eq!(hdr.get("www-authenticate").unwrap(), "Bearer");
            let (s, _, _) = call(
                &app,
                method,
                uri,
                Some("tg_not-a-real-token"),
                body.clone(),
                &[],
            )
            .await;
            assert_eq!(s, 401, "{method} {uri} with a bogus token");
            for (role, token) in &tokens {
                let (s, _, e) = call(
                    &app,
                    method,
                    uri,
                    Some(token),
                    body.clone(),
                    &[("If-Match", "\"1\"")],
                )
                .await;
                if allowed.contains(role) {
                    assert!(
                        s != 401 && s != 403,
                        "{db:?} {method} {uri} as {role:?} must be allowed, got {s}: {e}"
                    );
                    assert!(s < 500, "{db:?} {method} {uri} as {role:?}: {s} {e}");
                } else {
                    assert_eq!(
                        s, 403,
                        "{db:?} {method} {uri} as {role:?} must be forbidden: {e}"
                    );
                    assert_eq!(e["error"]["code"], "forbidden");
                }
            }
        }
        // The registry certificate is public.
        assert_eq!(
            call(&app, "GET", "/api/v1/registry-certificate", None, None, &[])
                .await
                .0,
            200
        );
    }
}
