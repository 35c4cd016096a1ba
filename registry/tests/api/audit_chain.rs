//! The audit log's hash chain detects edits and deletions made directly in the database.

use super::*;
use diesel::RunQueryDsl;
use serde_json::json;

#[actix_rt::test]
async fn audit_chain_detects_edited_and_deleted_rows() {
    for db in BACKENDS {
        let h = Harness::new(db);
        let app = test::init_service(registry::app(h.state.clone())).await;
        seed_acme(&app, &h.admin).await;
        let (s, _, v) = call(
            &app,
            "GET",
            "/api/v1/audit/verify",
            Some(&h.admin),
            None,
            &[],
        )
        .await;
        assert_eq!(s, 200);
        assert_eq!(v["intact"], true, "{db:?} {v}");
        assert_eq!(v["rows"], 6);
        let (_, _, log) = call(
            &app,
            "GET",
            "/api/v1/audit?limit=10",
            Some(&h.admin),
            None,
            &[],
        )
        .await;
        assert_eq!(log[0]["action"], "revoke");
        assert!(log[0]["actor"].as_str().unwrap().contains("test-admin"));
        assert_eq!(log[5]["action"], "create");
        assert_eq!(log[5]["entity"], "vendor");
        assert_eq!(log[5]["after"]["id"], "acme");

        // The CLI agrees.
        let cli = |url: &str| {
            std::process::Command::new(env!("CARGO_BIN_EXE_tollgate-registry"))
                .env("TOLLGATE_APPROVALS", "single")
                .args(["audit", "verify", "--database-url", url])
                .output()
                .unwrap()
        };
        let out = cli(&h.url);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );

        // Someone edits row 3 directly in the database.
        let mut conn = h.state.pool.get().unwrap();
        diesel::sql_query("UPDATE audit_log SET actor = 'nobody' WHERE id = 3")
            .execute(&mut conn)
            .unwrap();
        let (_, _, v) = call(
            &app,
            "GET",
            "/api/v1/audit/verify",
            Some(&h.admin),
            None,
            &[],
        )
        .await;
        assert_eq!(v["intact"], false);
        assert_eq!(v["problems"][0]["id"], 3);
        assert!(
            v["problems"][0]["problem"]
                .as_str()
                .unwrap()
                .contains("edited")
        );
        let out = cli(&h.url);
        assert_eq!(out.status.code(), Some(1));
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("row 3"),
            "{}",
            String::from_utf8_lossy(&out.stdout)
        );

        // Restore it (recompute is impossible without the chain, so the
        // row's hash stays wrong) — then delete row 2 instead on a fresh registry.
        let h2 = Harness::new(db);
        let app2 = test::init_service(registry::app(h2.state.clone())).await;
        seed_acme(&app2, &h2.admin).await;
        let mut conn2 = h2.state.pool.get().unwrap();
        diesel::sql_query("DELETE FROM audit_log WHERE id = 2")
            .execute(&mut conn2)
            .unwrap();
        let (_, _, v) = call(
            &app2,
            "GET",
            "/api/v1/audit/verify",
            Some(&h2.admin),
            None,
            &[],
        )
        .await;
        assert_eq!(v["intact"], false);
        assert_eq!(v["problems"][0]["id"], 3, "{v}");
        assert!(
            v["problems"][0]["problem"]
                .as_str()
                .unwrap()
                .contains("deleted")
        );

        // Deleting the newest row is caught by the row count.
        let h3 = Harness::new(db);
        let app3 = test::init_service(registry::app(h3.state.clone())).await;
        seed_acme(&app3, &h3.admin).await;
        let mut conn3 = h3.state.pool.get().unwrap();
        diesel::sql_query("DELETE FROM audit_log WHERE id = 6")
            .execute(&mut conn3)
            .unwrap();
        let (_, _, v) = call(
            &app3,
            "GET",
            "/api/v1/audit/verify",
            Some(&h3.admin),
            None,
            &[],
        )
        .await;
        assert_eq!(v["intact"], false, "{v}");
        assert!(
            v["problems"][0]["problem"]
                .as_str()
                .unwrap()
                .contains("rows were deleted")
        );

        // A failed request writes nothing: no audit row, no bundle change.
        let before = call(
            &app3,
            "GET",
            "/api/v1/audit?limit=1000",
            Some(&h3.admin),
            None,
            &[],
        )
        .await
        .2
        .as_array()
        .unwrap()
        .len();
        let (s, _, _) = call(
            &app3,
            "POST",
            "/api/v1/vendors/acme/certificates",
            Some(&h3.admin),
            Some(json!({"role": "anchor", "pem": pem("acme-signer-p256.pem")})),
            &[],
        )
        .await;
        assert_eq!(s, 400);
        let after = call(
            &app3,
            "GET",
            "/api/v1/audit?limit=1000",
            Some(&h3.admin),
            None,
            &[],
        )
        .await
        .2
        .as_array()
        .unwrap()
        .len();
        assert_eq!(before, after);
    }
}

/// Recomputes every audit hash in id order after an edit, as someone with
/// write access to the database (but not the registry key) would, so the
/// plain chain check passes again.
fn rehash_audit(conn: &mut registry::service::Conn) {
    use diesel::prelude::*;
    use schema::models::AuditEntry;
    use schema::schema::audit_log;
    let rows: Vec<AuditEntry> = audit_log::table
        .order(audit_log::id.asc())
        .select(AuditEntry::as_select())
        .load(conn)
        .unwrap();
    let mut prev = registry::service::audit::GENESIS.to_string();
    for r in rows {
        let hash = registry::service::audit::entry_hash(
            &prev,
            &registry::service::audit::EntryFields {
                at: r.at,
                actor: &r.actor,
                action: &r.action,
                entity: &r.entity,
                entity_id: &r.entity_id,
                before: r.before_json.as_deref(),
                after: r.after_json.as_deref(),
            },
        );
        diesel::update(audit_log::table.find(r.id))
            .set((audit_log::prev_hash.eq(&prev), audit_log::hash.eq(&hash)))
            .execute(conn)
            .unwrap();
        prev = hash;
    }
}

/// Issue 12, item 11: every trust bundle signs the heads of the audit log
/// and the receipt chain. Whoever keeps an old bundle proves later that
/// history was not rewritten, even when the rewriter recomputed every hash.
#[actix_rt::test]
async fn a_kept_bundle_detects_a_rewritten_history() {
    for db in BACKENDS {
        let h = Harness::new(db);
        let app = test::init_service(registry::app(h.state.clone())).await;
        seed_acme(&app, &h.admin).await;
        let st = h.token(registry::auth::Role::Inspector);
        for i in 0..3 {
            let r = signed_receipt(
                "acme-signer-p256",
                "acme-int",
                "acme",
                "acme-wifi-fw",
                "1.5.0",
                format!("image {i}").as_bytes(),
                "accept",
            );
            assert_eq!(
                call(&app, "POST", "/api/v1/receipts", Some(&st), Some(r), &[])
                    .await
                    .0,
                201
            );
        }
        // A station keeps the bundle of this moment.
        let (s, _, bundle) = call(&app, "GET", "/api/v1/trust-bundle", Some(&st), None, &[]).await;
        assert_eq!(s, 200);
        let payload: serde_json::Value = serde_json::from_slice(
            &base64::Engine::decode(
                &base64::engine::general_purpose::STANDARD,
                bundle["payload"].as_str().unwrap(),
            )
            .unwrap(),
        )
        .unwrap();
        assert_eq!(
            payload["checkpoint"]["receipt_entries"], 3,
            "{}",
            payload["checkpoint"]
        );
        assert!(payload["checkpoint"]["audit_entries"].as_u64().unwrap() >= 6);
        let dir = tempdir();
        std::fs::write(dir.join("bundle.json"), bundle.to_string()).unwrap();
        std::fs::write(dir.join("registry.pem"), &h.state.key.certificate_pem).unwrap();
        // History goes on.
        call(
            &app,
            "POST",
            "/api/v1/vendors",
            Some(&h.admin),
            Some(json!({"id": "globex", "name": "Globex"})),
            &[],
        )
        .await;
        let r = signed_receipt(
            "acme-signer-p256",
            "acme-int",
            "acme",
            "acme-wifi-fw",
            "1.6.0",
            b"later",
            "accept",
        );
        call(&app, "POST", "/api/v1/receipts", Some(&st), Some(r), &[]).await;
        let check = || {
            let (bundle, cert) = (dir.join("bundle.json"), dir.join("registry.pem"));
            let out = std::process::Command::new(env!("CARGO_BIN_EXE_tollgate-registry"))
                .env("TOLLGATE_APPROVALS", "single")
                .args(["audit", "verify", "--database-url", &h.url, "--checkpoint"])
                .arg(&bundle)
                .arg("--registry-cert")
                .arg(&cert)
                .output()
                .unwrap();
            (
                out.status.code(),
                String::from_utf8_lossy(&out.stdout).into_owned()
                    + &String::from_utf8_lossy(&out.stderr),
            )
        };
        let (code, out) = check();
        assert_eq!(code, Some(0), "{db:?}: {out}");
        assert!(
            out.contains("extends the checkpoint") && out.contains("4 chained receipts"),
            "{out}"
        );

        // Someone with database access edits an early audit entry and
        // recomputes the whole chain: the plain check passes…
        let mut conn = h.state.pool.get().unwrap();
        diesel::sql_query("UPDATE audit_log SET actor = 'nobody' WHERE id = 2")
            .execute(&mut conn)
            .unwrap();
        rehash_audit(&mut conn);
        let (_, _, v) = call(
            &app,
            "GET",
            "/api/v1/audit/verify",
            Some(&h.admin),
            None,
            &[],
        )
        .await;
        assert_eq!(
            v["intact"], true,
            "a recomputed chain fools the plain check: {v}"
        );
        // …the kept checkpoint does not.
        let (code, out) = check();
        assert_eq!(code, Some(1), "{out}");
        assert!(
            out.contains("does NOT extend") && out.contains("history was rewritten"),
            "{out}"
        );

        // A receipt edited in place is caught by the receipt chain itself.
        let h2 = Harness::new(db);
        let app2 = test::init_service(registry::app(h2.state.clone())).await;
        seed_acme(&app2, &h2.admin).await;
        let st2 = h2.token(registry::auth::Role::Inspector);
        let r = signed_receipt(
            "acme-signer-p256",
            "acme-int",
            "acme",
            "acme-wifi-fw",
            "1.5.0",
            b"x",
            "accept",
        );
        call(&app2, "POST", "/api/v1/receipts", Some(&st2), Some(r), &[]).await;
        let mut conn2 = h2.state.pool.get().unwrap();
        diesel::sql_query("UPDATE receipts SET verdict = 'reject'")
            .execute(&mut conn2)
            .unwrap();
        let (_, _, v) = call(
            &app2,
            "GET",
            "/api/v1/audit/verify",
            Some(&h2.admin),
            None,
            &[],
        )
        .await;
        assert_eq!(v["intact"], false, "{v}");
        assert!(
            v["problems"].to_string().contains("the receipt was edited"),
            "{v}"
        );
        diesel::sql_query("DELETE FROM receipt_evidence")
            .execute(&mut conn2)
            .unwrap();
        diesel::sql_query("DELETE FROM receipt_certs")
            .execute(&mut conn2)
            .unwrap();
        diesel::sql_query("DELETE FROM receipts")
            .execute(&mut conn2)
            .unwrap();
        let (_, _, v) = call(
            &app2,
            "GET",
            "/api/v1/audit/verify",
            Some(&h2.admin),
            None,
            &[],
        )
        .await;
        assert!(
            v["problems"].to_string().contains("receipts were deleted"),
            "{v}"
        );

        // A checkpoint file not signed by this registry is refused.
        let mut forged = bundle.clone();
        let mut p = payload.clone();
        p["checkpoint"]["audit_head"] = "00".repeat(32).into();
        forged["payload"] =
            base64::Engine::encode(&base64::engine::general_purpose::STANDARD, p.to_string())
                .into();
        std::fs::write(dir.join("bundle.json"), forged.to_string()).unwrap();
        let (code, out) = check();
        assert_eq!(code, Some(2), "{out}");
        assert!(
            out.contains("not a bundle signed by this registry"),
            "{out}"
        );
    }
}
