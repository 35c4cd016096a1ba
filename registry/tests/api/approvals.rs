//! Issue 11, item 6: two people for dangerous changes. With the product's
//! default approval policy, registering an anchor, lowering a floor,
//! revoking, recording a shared CA, un-retiring and changing a role are
//! proposals: nothing changes until another person with the role approves;
//! the proposer can never approve; a rejected or expired proposal applies
//! nothing; a proposal whose change no longer applies fails at approval
//! without a trace. Both backends.

use super::*;
use registry::auth::Role;
use registry::service::approvals::ApprovalPolicy;
use serde_json::json;

/// POST/PUT `uri` and expect a proposal (202 with Location); returns it.
async fn propose<S, B>(
    app: &S,
    method: &str,
    uri: &str,
    token: &str,
    body: serde_json::Value,
    headers: &[(&str, &str)],
) -> serde_json::Value
where
    S: actix_web::dev::Service<
            actix_http::Request,
            Response = actix_web::dev::ServiceResponse<B>,
            Error = actix_web::Error,
        >,
    B: actix_web::body::MessageBody,
{
    let (s, hdr, p) = call(app, method, uri, Some(token), Some(body), headers).await;
    assert_eq!(s, 202, "{method} {uri}: {p}");
    assert_eq!(
        hdr.get("location").unwrap().to_str().unwrap(),
        format!("/api/v1/proposals/{}", p["id"])
    );
    assert_eq!(p["status"], "pending");
    assert_eq!(p["approvals"], 1, "the proposer's own approval counts: {p}");
    p
}

async fn vote<S, B>(
    app: &S,
    id: &serde_json::Value,
    how: &str,
    token: &str,
    reason: &str,
) -> (u16, serde_json::Value)
where
    S: actix_web::dev::Service<
            actix_http::Request,
            Response = actix_web::dev::ServiceResponse<B>,
            Error = actix_web::Error,
        >,
    B: actix_web::body::MessageBody,
{
    let (s, _, b) = call(
        app,
        "POST",
        &format!("/api/v1/proposals/{id}/{how}"),
        Some(token),
        Some(json!({"reason": reason})),
        &[],
    )
    .await;
    (s, b)
}

#[actix_rt::test]
async fn an_anchor_needs_a_second_procurement_user_and_the_proposer_cannot_approve() {
    for db in BACKENDS {
        let h = Harness::two_person(db);
        let app = test::init_service(registry::app(h.state.clone())).await;
        let alice = h.named_token("alice", Role::Procurement);
        let alice_again = h.named_token("alice", Role::Procurement);
        let bob = h.named_token("bob", Role::Procurement);
        let sec = h.named_token("carol", Role::Security);
        let (s, _, _) = call(
            &app,
            "POST",
            "/api/v1/vendors",
            Some(&alice),
            Some(json!({"id": "acme", "name": "Acme"})),
            &[],
        )
        .await;
        assert_eq!(s, 201, "creating a vendor needs one person");
        // A bad certificate is refused at once: no proposal is recorded.
        let (s, _, e) = call(
            &app,
            "POST",
            "/api/v1/vendors/acme/certificates",
            Some(&alice),
            Some(json!({"role": "anchor", "pem": "junk"})),
            &[],
        )
        .await;
        assert_eq!(s, 400, "{e}");
        let p = propose(
            &app,
            "POST",
            "/api/v1/vendors/acme/certificates",
            &alice,
            json!({"role": "anchor", "pem": pem("acme-root.pem")}),
            &[],
        )
        .await;
        assert!(
            p["summary"]
                .as_str()
                .unwrap()
                .contains("as an anchor of vendor 'acme'"),
            "{p}"
        );
        assert_eq!(p["approvals_required"], 2);
        let (_, _, list) = call(
            &app,
            "GET",
            "/api/v1/proposals?status=pending",
            Some(&sec),
            None,
            &[],
        )
        .await;
        assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
        // Until approved, nothing changed.
        let (_, _, certs) = call(
            &app,
            "GET",
            "/api/v1/vendors/acme/certificates",
            Some(&alice),
            None,
            &[],
        )
        .await;
        assert_eq!(certs, json!([]));
        // Not the proposer (under any of her tokens), not another role.
        let (s, e) = vote(&app, &p["id"], "approve", &alice, "").await;
        assert_eq!(s, 403, "{e}");
        assert!(
            e["error"]["message"]
                .as_str()
                .unwrap()
                .contains("another person"),
            "{e}"
        );
        assert_eq!(
            vote(&app, &p["id"], "approve", &alice_again, "").await.0,
            403
        );
        assert_eq!(
            vote(&app, &p["id"], "approve", &sec, "").await.0,
            403,
            "security does not register certificates"
        );
        // Bob approves: the anchor is registered, by the approval.
        let (s, r) = vote(
            &app,
            &p["id"],
            "approve",
            &bob,
            "checked the fingerprint with Acme by phone",
        )
        .await;
        assert_eq!(s, 200, "{db:?} {r}");
        assert_eq!(r["proposal"]["status"], "applied");
        assert_eq!(r["proposal"]["approvals"], 2);
        assert_eq!(r["applied"]["role"], "anchor");
        let (_, _, certs) = call(
            &app,
            "GET",
            "/api/v1/vendors/acme/certificates",
            Some(&alice),
            None,
            &[],
        )
        .await;
        assert_eq!(certs.as_array().unwrap().len(), 1);
        // Decided: no more votes.
        assert_eq!(vote(&app, &p["id"], "approve", &bob, "").await.0, 409);
        assert_eq!(
            vote(&app, &p["id"], "reject", &bob, "too late").await.0,
            409
        );
        // An intermediate needs one person.
        let (s, _, b) = call(
            &app,
            "POST",
            "/api/v1/vendors/acme/certificates",
            Some(&alice),
            Some(json!({"role": "intermediate", "pem": pem("acme-int.pem")})),
            &[],
        )
        .await;
        assert_eq!(s, 201, "{b}");
        // The audit log holds the proposal, the approval and the change.
        let (_, _, log) = call(
            &app,
            "GET",
            "/api/v1/audit?limit=100",
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
        for (action, actor) in [("propose", "alice"), ("approve", "bob"), ("apply", "bob")] {
            assert!(
                actions
                    .iter()
                    .any(|(a, who)| a == action && who.starts_with(actor)),
                "{action} by {actor}: {actions:?}"
            );
        }
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
    }
}

/// A vendor with its anchor, intermediate and component, registered under
/// one-person rules, then the same database served with `policy`.
async fn seeded(db: Db, policy: ApprovalPolicy) -> Harness {
    let single = Harness::new(db);
    let app = test::init_service(registry::app(single.state.clone())).await;
    seed_acme(&app, &single.admin).await;
    let mut state = AppState::new(
        single.state.pool.clone(),
        RegistryKey::load_or_create(&single.dir).unwrap().0,
        std::time::Duration::from_secs(3600),
    );
    state.approvals = policy;
    state.pin_time = single.state.pin_time;
    Harness {
        state: web::Data::new(state),
        admin: single.admin.clone(),
        dir: single.dir.clone(),
        url: single.url.clone(),
    }
}

#[actix_rt::test]
async fn lowering_a_floor_waits_for_approval_raising_does_not_and_stale_or_rejected_proposals_change_nothing()
 {
    for db in BACKENDS {
        let h = seeded(db, ApprovalPolicy::default()).await;
        let app = test::init_service(registry::app(h.state.clone())).await;
        let dana = h.named_token("dana", Role::Security);
        let erik = h.named_token("erik", Role::Security);
        let floor = |app_token: String| {
            let app = &app;
            async move {
                let (_, _, comps) = call(
                    app,
                    "GET",
                    "/api/v1/components",
                    Some(&app_token),
                    None,
                    &[],
                )
                .await;
                comps
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|c| c["name"] == "acme-wifi-fw")
                    .unwrap()
                    .clone()
            }
        };
        let c = floor(dana.clone()).await;
        assert_eq!(c["min_version"], "1.5.0");
        let etag = format!("\"{}\"", c["version"]);
        let uri = "/api/v1/components/acme-wifi-fw/floor";
        // Lowering without a reason is refused at once (the dry run).
        let (s, _, e) = call(
            &app,
            "PUT",
            uri,
            Some(&dana),
            Some(json!({"min_version": "1.0.0"})),
            &[("If-Match", &etag)],
        )
        .await;
        assert_eq!(s, 400, "{e}");
        let p = propose(
            &app,
            "PUT",
            uri,
            &dana,
            json!({"min_version": "1.0.0", "reason": "1.5.0 bricks rev-A boards"}),
            &[("If-Match", &etag)],
        )
        .await;
        assert_eq!(p["action"], "lower-floor");
        assert_eq!(
            floor(dana.clone()).await["min_version"],
            "1.5.0",
            "nothing changed yet"
        );
        // Raising needs one person, and moves the row version on ...
        let (s, _, raised) = call(
            &app,
            "PUT",
            uri,
            Some(&dana),
            Some(json!({"min_version": "1.6.0"})),
            &[("If-Match", &etag)],
        )
        .await;
        assert_eq!(s, 200, "{raised}");
        // ... so the proposal no longer applies: the approval fails and
        // leaves no trace, the proposal stays pending.
        let (s, e) = vote(&app, &p["id"], "approve", &erik, "ok").await;
        assert_eq!(s, 412, "{e}");
        let (_, _, again) = call(
            &app,
            "GET",
            &format!("/api/v1/proposals/{}", p["id"]),
            Some(&erik),
            None,
            &[],
        )
        .await;
        assert_eq!(again["status"], "pending");
        assert_eq!(again["votes"], json!([]));
        assert_eq!(floor(dana.clone()).await["min_version"], "1.6.0");
        // Rejecting needs a reason; then nothing can approve it.
        assert_eq!(vote(&app, &p["id"], "reject", &erik, " ").await.0, 400);
        let (s, r) = vote(
            &app,
            &p["id"],
            "reject",
            &erik,
            "stale: propose against 1.6.0",
        )
        .await;
        assert_eq!(s, 200, "{r}");
        assert_eq!(r["status"], "rejected");
        assert_eq!(r["votes"][0]["decision"], "reject");
        assert_eq!(vote(&app, &p["id"], "approve", &erik, "").await.0, 409);
        // A fresh proposal against the current version, approved by Erik.
        let etag = format!("\"{}\"", raised["version"]);
        let p = propose(
            &app,
            "PUT",
            uri,
            &dana,
            json!({"min_version": "1.0.0", "reason": "rev-A boards"}),
            &[("If-Match", &etag)],
        )
        .await;
        let (s, r) = vote(
            &app,
            &p["id"],
            "approve",
            &erik,
            "confirmed with the board team",
        )
        .await;
        assert_eq!(s, 200, "{r}");
        assert_eq!(r["applied"]["min_version"], "1.0.0");
        assert_eq!(floor(dana.clone()).await["min_version"], "1.0.0");
        // The proposer may withdraw her own proposal (a rejection).
        let c = floor(dana.clone()).await;
        let p = propose(
            &app,
            "PUT",
            uri,
            &dana,
            json!({"min_version": null, "reason": "remove"}),
            &[("If-Match", &format!("\"{}\"", c["version"]))],
        )
        .await;
        let (s, r) = vote(&app, &p["id"], "reject", &dana, "changed my mind").await;
        assert_eq!(s, 200, "{r}");
        assert_eq!(floor(dana.clone()).await["min_version"], "1.0.0");
        // Inspectors neither propose nor vote.
        let st = h.token(Role::Inspector);
        assert_eq!(
            call(
                &app,
                "PUT",
                uri,
                Some(&st),
                Some(json!({"min_version": "0.1.0", "reason": "x"})),
                &[("If-Match", "\"1\"")]
            )
            .await
            .0,
            403
        );
    }
}

#[actix_rt::test]
async fn revocations_need_the_configured_number_of_people_and_expire() {
    for db in BACKENDS {
        let h = seeded(db, ApprovalPolicy::parse("revoke=3").unwrap()).await;
        let app = test::init_service(registry::app(h.state.clone())).await;
        let (a, b, c) = (
            h.named_token("ann", Role::Security),
            h.named_token("ben", Role::Security),
            h.named_token("cat", Role::Admin),
        );
        let body = json!({"pem": pem("acme-signer-p256.pem"), "reason": "keyCompromise", "invalidity_date": "2026-09-01T00:00:00Z"});
        let p = propose(&app, "POST", "/api/v1/revocations", &a, body.clone(), &[]).await;
        assert_eq!(p["approvals_required"], 3);
        let (s, r) = vote(&app, &p["id"], "approve", &b, "seen the advisory").await;
        assert_eq!(s, 200, "{r}");
        assert_eq!(r["proposal"]["status"], "pending");
        assert_eq!(r["proposal"]["approvals"], 2);
        assert!(r["applied"].is_null());
        assert_eq!(
            vote(&app, &p["id"], "approve", &b, "again").await.0,
            409,
            "one vote per person"
        );
        let (_, _, revs) = call(&app, "GET", "/api/v1/revocations", Some(&a), None, &[]).await;
        assert_eq!(
            revs.as_array().unwrap().len(),
            1,
            "only seed_acme's revocation so far: {revs}"
        );
        let (s, r) = vote(&app, &p["id"], "approve", &c, "").await;
        assert_eq!(s, 200, "{r}");
        assert_eq!(r["proposal"]["status"], "applied");
        let (_, _, revs) = call(&app, "GET", "/api/v1/revocations", Some(&a), None, &[]).await;
        assert_eq!(revs.as_array().unwrap().len(), 2);
    }
    // A proposal past its time applies nothing.
    for db in BACKENDS {
        let mut policy = ApprovalPolicy::default();
        policy.ttl_secs = -1;
        let h = seeded(db, policy).await;
        let app = test::init_service(registry::app(h.state.clone())).await;
        let (a, b) = (
            h.named_token("ann", Role::Security),
            h.named_token("ben", Role::Security),
        );
        let (s, _, p) = call(
            &app,
            "POST",
            "/api/v1/revocations",
            Some(&a),
            Some(json!({"pem": pem("acme-signer-p256.pem"), "reason": "superseded"})),
            &[],
        )
        .await;
        assert_eq!(s, 202, "{p}");
        assert_eq!(p["status"], "expired", "{p}");
        let (_, _, listed) = call(
            &app,
            "GET",
            "/api/v1/proposals?status=expired",
            Some(&a),
            None,
            &[],
        )
        .await;
        assert_eq!(listed[0]["id"], p["id"], "{listed}");
        let (s, e) = vote(&app, &p["id"], "approve", &b, "").await;
        assert_eq!(s, 409, "{e}");
        assert!(
            e["error"]["message"].as_str().unwrap().contains("expired"),
            "{e}"
        );
        assert_eq!(
            call(
                &app,
                "GET",
                "/api/v1/proposals?status=bogus",
                Some(&a),
                None,
                &[]
            )
            .await
            .0,
            400
        );
    }
}

#[actix_rt::test]
async fn unretiring_shared_cas_and_roles_are_two_person_changes() {
    for db in BACKENDS {
        let h = seeded(db, ApprovalPolicy::default()).await;
        let app = test::init_service(registry::app(h.state.clone())).await;
        let (p1, p2) = (
            h.named_token("pia", Role::Procurement),
            h.named_token("per", Role::Security),
        );
        // Retiring needs one person; putting it back needs two.
        let (s, _, _) = call(
            &app,
            "POST",
            "/api/v1/components/acme-wifi-fw/retire",
            Some(&p1),
            Some(json!({"reason": "wrong name", "confirm_brick": true})),
            &[],
        )
        .await;
        assert_eq!(s, 200);
        let body = json!({"record": {"kind": "component", "name": "acme-wifi-fw"}, "reason": "retired by mistake"});
        let p = propose(&app, "POST", "/api/v1/unretirements", &p1, body, &[]).await;
        assert_eq!(p["action"], "unretire");
        let comps = bundle_payload(&app, &p1).await;
        assert!(
            !comps.to_string().contains("acme-wifi-fw"),
            "still retired until approved"
        );
        let (s, r) = vote(&app, &p["id"], "approve", &p2, "yes").await;
        assert_eq!(s, 200, "{r}");
        assert!(r["applied"]["retired_at"].is_null(), "{r}");
        assert!(
            bundle_payload(&app, &p1)
                .await
                .to_string()
                .contains("acme-wifi-fw")
        );
        // Un-retiring what is not retired is refused at once.
        let (s, _, e) = call(
            &app,
            "POST",
            "/api/v1/unretirements",
            Some(&p1),
            Some(json!({"record": {"kind": "component", "name": "acme-wifi-fw"}, "reason": "x"})),
            &[],
        )
        .await;
        assert_eq!(s, 409, "{e}");
        let (s, _, e) = call(
            &app,
            "POST",
            "/api/v1/unretirements",
            Some(&p1),
            Some(json!({"record": {"kind": "nonsense", "id": 1}, "reason": "x"})),
            &[],
        )
        .await;
        assert_eq!(s, 400, "{e}");
        // A shared CA.
        let sec1 = h.named_token("sam", Role::Security);
        call(
            &app,
            "POST",
            "/api/v1/vendors",
            Some(&h.admin),
            Some(json!({"id": "globex", "name": "Globex"})),
            &[],
        )
        .await;
        let p = propose(&app, "POST", "/api/v1/shared-cas", &sec1, json!({"pem": pem("acme-root.pem"), "vendors": ["acme", "globex"], "reason": "contract manufacturer"}), &[]).await;
        assert_eq!(p["action"], "shared-ca");
        let (_, _, shared) = call(&app, "GET", "/api/v1/shared-cas", Some(&sec1), None, &[]).await;
        assert_eq!(shared, json!([]));
        assert_eq!(vote(&app, &p["id"], "approve", &p2, "").await.0, 200);
        let (_, _, shared) = call(&app, "GET", "/api/v1/shared-cas", Some(&sec1), None, &[]).await;
        assert_eq!(shared.as_array().unwrap().len(), 1);
        // A role change, between two admins; the user must exist.
        {
            let mut conn = h.state.pool.get().unwrap();
            registry::service::users::create(
                &mut conn,
                &registry::service::Actor::local("test"),
                "zoe",
                "correct horse battery",
                Role::Auditor,
            )
            .unwrap();
        }
        let admin2 = h.named_token("adam", Role::Admin);
        let (s, _, e) = call(
            &app,
            "PUT",
            "/api/v1/users/nobody/role",
            Some(&h.admin),
            Some(json!({"role": "admin"})),
            &[],
        )
        .await;
        assert_eq!(s, 404, "{e}");
        let p = propose(
            &app,
            "PUT",
            "/api/v1/users/zoe/role",
            &h.admin,
            json!({"role": "admin"}),
            &[],
        )
        .await;
        assert_eq!(p["action"], "change-role");
        assert_eq!(
            vote(&app, &p["id"], "approve", &p2, "").await.0,
            403,
            "only admins change roles"
        );
        let (s, r) = vote(&app, &p["id"], "approve", &admin2, "new team lead").await;
        assert_eq!(s, 200, "{r}");
        assert_eq!(r["applied"]["role"], "admin");
    }
}

/// Two approvers at the same moment: exactly one applies the change, the
/// other is told the proposal is decided; one revocation is recorded.
#[actix_rt::test]
async fn concurrent_approvals_apply_the_change_once() {
    for db in BACKENDS {
        let h = seeded(db, ApprovalPolicy::default()).await;
        let app = test::init_service(registry::app(h.state.clone())).await;
        let (a, b, c) = (
            h.named_token("ann", Role::Security),
            h.named_token("ben", Role::Security),
            h.named_token("cat", Role::Security),
        );
        let p = propose(
            &app,
            "POST",
            "/api/v1/revocations",
            &a,
            json!({"pem": pem("acme-signer-p256.pem"), "reason": "superseded"}),
            &[],
        )
        .await;
        let ((s1, r1), (s2, r2)) = futures_util::future::join(
            vote(&app, &p["id"], "approve", &b, ""),
            vote(&app, &p["id"], "approve", &c, ""),
        )
        .await;
        let mut codes = [s1, s2];
        codes.sort_unstable();
        assert_eq!(codes, [200, 409], "{r1} {r2}");
        let (_, _, revs) = call(&app, "GET", "/api/v1/revocations", Some(&a), None, &[]).await;
        assert_eq!(
            revs.as_array().unwrap().len(),
            2,
            "seed_acme's and this one: {revs}"
        );
    }
}

/// The pages: a security user lowers a floor (a proposal, nothing
/// changes), a second one approves it on the Approvals page; retire and
/// un-retire from the vendor page; signers bound and a Sigstore key revoked
/// from the vendor page; a shared CA recorded; forms without the CSRF
/// token are refused.
#[actix_rt::test]
async fn the_pages_propose_approve_retire_bind_and_revoke() {
    use super::ui::{enc, field, page, sign_in};
    for db in BACKENDS {
        let h = seeded(db, ApprovalPolicy::default()).await;
        let app = test::init_service(registry::app(h.state.clone())).await;
        let (dana, dana_csrf, _) =
            sign_in(&app, &h.named_token("dana", Role::Security), false).await;
        let (erik, erik_csrf, _) =
            sign_in(&app, &h.named_token("erik", Role::Security), false).await;
        let key_pem =
            std::fs::read_to_string(fixtures().join("../sigstore/managed-key.pub")).unwrap();
        let (s, _, key) = call(
            &app,
            "POST",
            "/api/v1/vendors/acme/sigstore-keys",
            Some(&h.admin),
            Some(json!({"pem": key_pem})),
            &[],
        )
        .await;
        assert_eq!(s, 201, "{key}");
        let vendor = page(&app, "GET", "/vendors/acme", &dana, None, &[]).await;
        assert_eq!(vendor.status, 200);
        for needle in [
            "Bind signers",
            "Retire",
            "Revoke a Sigstore signer",
            "Record a CA key this vendor shares",
        ] {
            assert!(vendor.body.contains(needle), "{needle}");
        }
        let version = field(&vendor.body, "version");
        // Lower the floor: recorded as a proposal.
        let p = page(
            &app,
            "POST",
            "/components/acme-wifi-fw/floor",
            &dana,
            Some(&format!(
                "csrf={dana_csrf}&version={version}&min_version=1.0.0&reason=rev-A"
            )),
            &[],
        )
        .await;
        assert_eq!(p.status, 303, "{}", p.body);
        let flash = p.location.unwrap();
        assert!(
            flash.contains("Proposal") && flash.contains("Approvals"),
            "{flash}"
        );
        let (_, _, comps) =
            call(&app, "GET", "/api/v1/components", Some(&h.admin), None, &[]).await;
        assert!(
            comps.to_string().contains("\"min_version\":\"1.5.0\""),
            "{comps}"
        );
        // Erik sees it and approves; Dana sees "(you)" and no way to approve herself.
        let list = page(&app, "GET", "/approvals", &erik, None, &[]).await;
        assert!(
            list.body
                .contains("set the rollback floor of &#39;acme-wifi-fw&#39; to 1.0.0"),
            "{}",
            list.body
        );
        let (_, _, pending) = call(
            &app,
            "GET",
            "/api/v1/proposals?status=pending",
            Some(&h.admin),
            None,
            &[],
        )
        .await;
        let id = pending[0]["id"].as_i64().unwrap();
        // Dana's token on the API is still Dana.
        let dana_api = h.named_token("dana", Role::Security);
        assert_eq!(
            vote(&app, &json!(id), "approve", &dana_api, "").await.0,
            403
        );
        let own = page(
            &app,
            "POST",
            &format!("/approvals/{id}/approve"),
            &dana,
            Some(&format!("csrf={dana_csrf}")),
            &[],
        )
        .await;
        assert_eq!(own.status, 403, "{}", own.body);
        assert!(own.body.contains("another person"), "{}", own.body);
        let no_csrf = page(
            &app,
            "POST",
            &format!("/approvals/{id}/approve"),
            &erik,
            Some("reason=x"),
            &[],
        )
        .await;
        assert_eq!(no_csrf.status, 403);
        let ok = page(
            &app,
            "POST",
            &format!("/approvals/{id}/approve"),
            &erik,
            Some(&format!("csrf={erik_csrf}&reason={}", enc("checked"))),
            &[],
        )
        .await;
        assert_eq!(ok.status, 303, "{}", ok.body);
        assert!(ok.location.unwrap().contains("applied"));
        let (_, _, comps) =
            call(&app, "GET", "/api/v1/components", Some(&h.admin), None, &[]).await;
        assert!(
            comps.to_string().contains("\"min_version\":\"1.0.0\""),
            "{comps}"
        );
        // Bind signers (one person), then retire the component and propose putting it back.
        let vendor = page(&app, "GET", "/vendors/acme", &dana, None, &[]).await;
        let version = field(&vendor.body, "version");
        let bound = page(
            &app,
            "POST",
            "/components/acme-wifi-fw/signers",
            &dana,
            Some(&format!(
                "csrf={dana_csrf}&vendor=acme&version={version}&signers={}",
                enc("subject: CN=Acme WiFi FW Signer P-256, O=Acme Chips")
            )),
            &[],
        )
        .await;
        assert_eq!(bound.status, 303, "{}", bound.body);
        let bad = page(
            &app,
            "POST",
            "/components/acme-wifi-fw/signers",
            &dana,
            Some(&format!(
                "csrf={dana_csrf}&vendor=acme&version=99&signers={}",
                enc("whoever")
            )),
            &[],
        )
        .await;
        assert_eq!(bad.status, 400, "{}", bad.body);
        assert!(bad.body.contains("line 1"), "{}", bad.body);
        let retired = page(
            &app,
            "POST",
            "/components/acme-wifi-fw/retire",
            &dana,
            Some(&format!(
                "csrf={dana_csrf}&vendor=acme&reason=wrong+name&confirm_brick=1"
            )),
            &[],
        )
        .await;
        assert_eq!(retired.status, 303, "{}", retired.body);
        let vendor = page(&app, "GET", "/vendors/acme", &dana, None, &[]).await;
        assert!(vendor.body.contains("Un-retire"));
        let back = page(
            &app,
            "POST",
            "/unretire",
            &dana,
            Some(&format!(
                "csrf={dana_csrf}&vendor=acme&kind=component&id=acme-wifi-fw&reason=mistake"
            )),
            &[],
        )
        .await;
        assert_eq!(back.status, 303, "{}", back.body);
        assert!(back.location.unwrap().contains("Proposal"));
        // A shared CA and a Sigstore key revocation are proposals too.
        call(
            &app,
            "POST",
            "/api/v1/vendors",
            Some(&h.admin),
            Some(json!({"id": "globex", "name": "Globex"})),
            &[],
        )
        .await;
        let shared = page(
            &app,
            "POST",
            "/vendors/acme/shared-cas",
            &dana,
            Some(&format!(
                "csrf={dana_csrf}&vendors=globex&reason=cm&pem={}",
                enc(&pem("acme-root.pem"))
            )),
            &[],
        )
        .await;
        assert_eq!(shared.status, 303, "{}", shared.body);
        let revoke = page(
            &app,
            "POST",
            "/vendors/acme/sigstore-revocations",
            &dana,
            Some(&format!(
                "csrf={dana_csrf}&signer=key:{}&reason=superseded&revoked_from=2026-09-01",
                key["id"]
            )),
            &[],
        )
        .await;
        assert_eq!(revoke.status, 303, "{}", revoke.body);
        let (_, _, pending) = call(
            &app,
            "GET",
            "/api/v1/proposals?status=pending",
            Some(&h.admin),
            None,
            &[],
        )
        .await;
        let actions: Vec<&str> = pending
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["action"].as_str().unwrap())
            .collect();
        assert!(
            actions.contains(&"unretire")
                && actions.contains(&"shared-ca")
                && actions.contains(&"revoke"),
            "{actions:?}"
        );
        // Rejecting from the page needs a reason.
        let id = pending[0]["id"].as_i64().unwrap();
        let no_reason = page(
            &app,
            "POST",
            &format!("/approvals/{id}/reject"),
            &erik,
            Some(&format!("csrf={erik_csrf}&reason=")),
            &[],
        )
        .await;
        assert_eq!(no_reason.status, 400, "{}", no_reason.body);
        let rejected = page(
            &app,
            "POST",
            &format!("/approvals/{id}/reject"),
            &erik,
            Some(&format!("csrf={erik_csrf}&reason=no")),
            &[],
        )
        .await;
        assert_eq!(rejected.status, 303, "{}", rejected.body);
    }
}

/// The Trust roots page retires a TSA anchor (one person) and proposes
/// putting it back (two), and comes back to the Trust roots page.
#[actix_rt::test]
async fn trust_roots_are_retired_and_proposed_back_from_their_page() {
    use super::ui::{page, sign_in};
    for db in BACKENDS {
        let h = seeded(db, ApprovalPolicy::default()).await;
        let app = test::init_service(registry::app(h.state.clone())).await;
        let (sec, csrf, _) = sign_in(&app, &h.named_token("sue", Role::Security), false).await;
        let (_, _, tsas) = call(
            &app,
            "GET",
            "/api/v1/tsa-anchors",
            Some(&h.admin),
            None,
            &[],
        )
        .await;
        let id = tsas[0]["id"].as_i64().unwrap();
        let trust = page(&app, "GET", "/trust", &sec, None, &[]).await;
        assert!(
            trust
                .body
                .contains(&format!("/trust/tsa-anchors/{id}/retire"))
        );
        let no_reason = page(
            &app,
            "POST",
            &format!("/trust/tsa-anchors/{id}/retire"),
            &sec,
            Some(&format!("csrf={csrf}&reason=")),
            &[],
        )
        .await;
        assert_eq!(no_reason.status, 400, "{}", no_reason.body);
        let r = page(
            &app,
            "POST",
            &format!("/trust/tsa-anchors/{id}/retire"),
            &sec,
            Some(&format!("csrf={csrf}&reason=rotated&confirm_brick=1")),
            &[],
        )
        .await;
        assert_eq!(r.status, 303, "{}", r.body);
        assert!(r.location.unwrap().starts_with("/trust?done="));
        let (_, _, tsas) = call(
            &app,
            "GET",
            "/api/v1/tsa-anchors",
            Some(&h.admin),
            None,
            &[],
        )
        .await;
        assert!(tsas[0]["retired_at"].is_string(), "{tsas}");
        let back = page(
            &app,
            "POST",
            "/unretire",
            &sec,
            Some(&format!(
                "csrf={csrf}&kind=tsa-anchor&id={id}&reason=mistake"
            )),
            &[],
        )
        .await;
        assert_eq!(back.status, 303, "{}", back.body);
        let to = back.location.unwrap();
        assert!(
            to.starts_with("/trust?done=") && to.contains("Proposal"),
            "{to}"
        );
    }
}
