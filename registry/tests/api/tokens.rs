//! Token listing and revocation: API and command line, audited, immediate.

use super::*;
use registry::auth::Role;
use serde_json::json;

fn id_of(list: &serde_json::Value, name: &str) -> i64 {
    list.as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == name)
        .unwrap_or_else(|| panic!("token {name} not listed: {list}"))["id"]
        .as_i64()
        .unwrap()
}

#[actix_rt::test]
async fn a_revoked_token_stops_working_at_once_and_the_last_admin_is_kept() {
    for db in BACKENDS {
        let h = Harness::new(db);
        let app = test::init_service(registry::app(h.state.clone())).await;
        let station = h.token(Role::Inspector);
        let security = h.token(Role::Security);
        // The station works (and is now in the authentication cache).
        let (s, _, _) = call(&app, "GET", "/api/v1/vendors", Some(&station), None, &[]).await;
        assert_eq!(s, 200);

        let (s, _, list) = call(&app, "GET", "/api/v1/tokens", Some(&h.admin), None, &[]).await;
        assert_eq!(s, 200, "{list}");
        let text = list.to_string();
        assert!(!text.contains("tg_") && !text.contains("hash"), "{text}");
        let sid = id_of(&list, "test-inspector");
        assert_eq!(list.as_array().unwrap().len(), 3);

        // Only an admin may list or revoke.
        let uri = format!("/api/v1/tokens/{sid}/revoke");
        for who in [&security, &station] {
            assert_eq!(
                call(&app, "GET", "/api/v1/tokens", Some(who), None, &[])
                    .await
                    .0,
                403
            );
            assert_eq!(call(&app, "POST", &uri, Some(who), None, &[]).await.0, 403);
        }

        let (s, _, t) = call(&app, "POST", &uri, Some(&h.admin), None, &[]).await;
        assert_eq!(s, 200, "{db:?} {t}");
        assert_eq!(t["revoked"], true);
        assert_eq!(t["name"], "test-inspector");
        let (s, _, e) = call(&app, "GET", "/api/v1/vendors", Some(&station), None, &[]).await;
        assert_eq!(s, 401, "{db:?} a revoked token still works: {e}");
        // Others are unaffected; revoking again changes nothing.
        let (s, _, _) = call(&app, "GET", "/api/v1/vendors", Some(&security), None, &[]).await;
        assert_eq!(s, 200);
        assert_eq!(
            call(&app, "POST", &uri, Some(&h.admin), None, &[]).await.0,
            200
        );
        let (s, _, e) = call(
            &app,
            "POST",
            "/api/v1/tokens/987654/revoke",
            Some(&h.admin),
            None,
            &[],
        )
        .await;
        assert_eq!(s, 404, "{e}");

        // Audited once, and the chain stays intact.
        let (_, _, log) = call(
            &app,
            "GET",
            "/api/v1/audit?limit=50",
            Some(&h.admin),
            None,
            &[],
        )
        .await;
        let revokes: Vec<&serde_json::Value> = log
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["action"] == "revoke" && e["entity"] == "token")
            .collect();
        assert_eq!(revokes.len(), 1, "{log}");
        assert_eq!(revokes[0]["before"]["revoked"], false);
        assert_eq!(revokes[0]["after"]["revoked"], true);
        let (_, _, v) = call(
            &app,
            "GET",
            "/api/v1/audit/verify",
            Some(&h.admin),
            None,
            &[],
        )
        .await;
        assert_eq!(v["intact"], true, "{v}");

        // The only admin token cannot be revoked (nobody could manage tokens).
        let aid = id_of(&list, "test-admin");
        let admin_uri = format!("/api/v1/tokens/{aid}/revoke");
        let (s, _, e) = call(&app, "POST", &admin_uri, Some(&h.admin), None, &[]).await;
        assert_eq!(s, 409, "{e}");
        assert!(
            e["error"]["message"]
                .as_str()
                .unwrap()
                .contains("last working admin token")
        );
        assert_eq!(
            call(&app, "GET", "/api/v1/tokens", Some(&h.admin), None, &[])
                .await
                .0,
            200
        );
        // With a second admin it can.
        let (s, _, created) = call(
            &app,
            "POST",
            "/api/v1/tokens",
            Some(&h.admin),
            Some(json!({"name": "second-admin", "role": "admin"})),
            &[],
        )
        .await;
        assert_eq!(s, 201);
        let second = created["token"].as_str().unwrap().to_string();
        let (s, _, _) = call(&app, "POST", &admin_uri, Some(&second), None, &[]).await;
        assert_eq!(s, 200);
        assert_eq!(
            call(&app, "GET", "/api/v1/tokens", Some(&h.admin), None, &[])
                .await
                .0,
            401
        );
        assert_eq!(
            call(&app, "GET", "/api/v1/tokens", Some(&second), None, &[])
                .await
                .0,
            200
        );
    }
}

#[actix_rt::test]
async fn token_list_and_revoke_from_the_command_line() {
    for db in BACKENDS {
        let h = Harness::new(db);
        let cli = |args: &[&str]| registry_cli(&h.url, args);
        let (code, secret, err) = cli(&[
            "token",
            "create",
            "--role",
            "inspector",
            "--name",
            "station-7",
        ]);
        assert_eq!(code, Some(0), "{err}");
        let secret = secret.trim().to_string();
        assert!(secret.starts_with("tg_"));
        let (code, out, _) = cli(&["token", "list"]);
        assert_eq!(code, Some(0));
        let line = out
            .lines()
            .find(|l| l.ends_with("station-7"))
            .unwrap()
            .to_string();
        assert!(
            line.contains("inspector") && line.contains("active"),
            "{out}"
        );
        assert!(!out.contains(&secret));
        let id = line.split_whitespace().next().unwrap().to_string();

        let app = test::init_service(registry::app(h.state.clone())).await;
        assert_eq!(
            call(&app, "GET", "/api/v1/vendors", Some(&secret), None, &[])
                .await
                .0,
            200
        );
        let (code, out, err) = cli(&["token", "revoke", &id]);
        assert_eq!(code, Some(0), "{err}");
        assert!(
            out.contains("station-7") && out.contains("revoked"),
            "{out}"
        );
        // A fresh registry process (no cache) refuses it.
        let app = test::init_service(registry::app(web::Data::new(AppState::new(
            h.state.pool.clone(),
            RegistryKey::load_or_create(&h.dir).unwrap().0,
            std::time::Duration::from_secs(60),
        ))))
        .await;
        assert_eq!(
            call(&app, "GET", "/api/v1/vendors", Some(&secret), None, &[])
                .await
                .0,
            401
        );
        let (code, out, _) = cli(&["token", "list"]);
        assert_eq!(code, Some(0));
        assert!(
            out.lines()
                .any(|l| l.ends_with("station-7") && l.contains("revoked")),
            "{out}"
        );
        // Both changes are in the audit log, by the local operator.
        let (_, _, log) = call(
            &app,
            "GET",
            "/api/v1/audit?limit=10",
            Some(&h.admin),
            None,
            &[],
        )
        .await;
        let actions: Vec<(String, String)> = log
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                (
                    e["action"].as_str().unwrap().to_string(),
                    e["actor"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        assert_eq!(actions.len(), 2, "{log}");
        assert_eq!(actions[0].0, "revoke");
        assert_eq!(actions[1].0, "create");
        assert!(
            actions.iter().all(|(_, a)| a.starts_with("local operator")),
            "{actions:?}"
        );
        // Unknown id and the last admin: refused with a reason and exit code 1.
        let (code, _, err) = cli(&["token", "revoke", "987654"]);
        assert_ne!(code, Some(0));
        assert!(err.contains("no token with id 987654"), "{err}");
    }
}
