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
