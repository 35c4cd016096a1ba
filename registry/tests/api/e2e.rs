//! End to end: start the `tollgate-registry` binary, register a vendor and
//! its certificates over HTTP, run `tollgate-inspect verify --registry` on
//! fixture blobs, and compare with the local trust-policy file.

use super::*;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

struct Server {
    child: Child,
    url: String,
    token: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(db: Db, dir: &Path) -> Server {
    let url = fresh_database(db, dir);
    let s = start_on(&url, dir);
    assert!(
        !s.token.is_empty(),
        "the registry printed no first admin token"
    );
    s
}

/// Starts `tollgate-registry serve` on an existing database (the token is
/// empty when the database already had one).
fn start_on(url: &str, dir: &Path) -> Server {
    std::fs::create_dir_all(dir).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_tollgate-registry"))
        .env("TOLLGATE_APPROVALS", "single")
        .args([
            "serve",
            "--bind",
            "127.0.0.1:0",
            "--workers",
            "2",
            "--pin-time",
            AT,
            "--data-dir",
        ])
        .arg(dir)
        .env("DATABASE_URL", url)
        .current_dir(dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut token = String::new();
    let mut base = String::new();
    while let Some(Ok(line)) = lines.next() {
        if line.starts_with("tg_") {
            token = line.trim().to_string();
        }
        if let Some(rest) = line.strip_prefix("Tollgate registry listening on ") {
            base = rest.split('/').take(3).collect::<Vec<_>>().join("/");
            break;
        }
    }
    assert!(!base.is_empty(), "the registry did not start");
    Server {
        child,
        url: base,
        token,
    }
}

fn http(method: &str, url: &str, token: &str, body: Option<serde_json::Value>) -> (u16, String) {
    let agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .new_agent();
    let auth = format!("Bearer {token}");
    let mut resp = match (method, body) {
        ("GET", _) => agent
            .get(url)
            .header("Authorization", &auth)
            .call()
            .unwrap(),
        (_, Some(b)) => agent
            .post(url)
            .header("Authorization", &auth)
            .header("Content-Type", "application/json")
            .send(serde_json::to_vec(&b).unwrap().as_slice())
            .unwrap(),
        _ => panic!(),
    };
    (
        resp.status().as_u16(),
        resp.body_mut().read_to_string().unwrap(),
    )
}

fn inspect_binary() -> PathBuf {
    let path =
        Path::new(env!("CARGO_BIN_EXE_tollgate-registry")).with_file_name("tollgate-inspect");
    if !path.exists() {
        // `cargo test -p registry` alone does not build the other package's binary.
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let ok = Command::new(cargo)
            .args(["build", "-p", "inspector", "--bin", "tollgate-inspect"])
            .status()
            .unwrap();
        assert!(ok.success());
    }
    path
}

#[::core::prelude::v1::test]
fn registry_binary_serves_the_inspector_end_to_end() {
    use serde_json::json;
    let inspect = inspect_binary();
    for db in BACKENDS {
        let dir = tempdir();
        let srv = start(db, &dir);
        let api = format!("{}/api/v1", srv.url);
        let t = &srv.token;
        assert_eq!(
            http(
                "POST",
                &format!("{api}/vendors"),
                t,
                Some(json!({"id": "acme", "name": "Acme Chips"}))
            )
            .0,
            201
        );
        assert_eq!(
            http(
                "POST",
                &format!("{api}/vendors"),
                t,
                Some(json!({"id": "globex", "name": "Globex Radio"}))
            )
            .0,
            201
        );
        for (v, file, role) in [
            ("acme", "acme-root.pem", "anchor"),
            ("globex", "globex-root.pem", "anchor"),
            ("globex", "globex-int.pem", "intermediate"),
        ] {
            let (s, b) = http(
                "POST",
                &format!("{api}/vendors/{v}/certificates"),
                t,
                Some(json!({"role": role, "pem": pem(file)})),
            );
            assert_eq!(s, 201, "{b}");
        }
        assert_eq!(
            http(
                "POST",
                &format!("{api}/vendors/acme/components"),
                t,
                Some(json!({"name": "acme-wifi-fw", "min_version": "1.5.0"}))
            )
            .0,
            201
        );
        assert_eq!(
            http(
                "POST",
                &format!("{api}/vendors/globex/components"),
                t,
                Some(json!({"name": "globex-bt-fw", "min_version": "2.0.0"}))
            )
            .0,
            201
        );
        assert_eq!(
            http(
                "POST",
                &format!("{api}/tsa-anchors"),
                t,
                Some(json!({"pem": pem("tsa-root.pem")}))
            )
            .0,
            201
        );
        for (file, reason, date) in [
            (
                "old-signer.pem",
                "keyCompromise",
                Some("2026-08-16T00:00:00Z"),
            ),
            ("acme-int2.pem", "cACompromise", None),
        ] {
            let mut body = json!({"pem": pem(file), "reason": reason});
            if let Some(d) = date {
                body["invalidity_date"] = d.into();
            }
            assert_eq!(
                http("POST", &format!("{api}/revocations"), t, Some(body)).0,
                201
            );
        }
        let inspector_token = http(
            "POST",
            &format!("{api}/tokens"),
            t,
            Some(json!({"name": "station-7", "role": "inspector"})),
        );
        let inspector_token = serde_json::from_str::<serde_json::Value>(&inspector_token.1)
            .unwrap()["token"]
            .as_str()
            .unwrap()
            .to_string();
        let (_, cert) = http("GET", &format!("{api}/registry-certificate"), t, None);
        std::fs::write(dir.join("registry.pem"), cert).unwrap();

        let f = fixtures();
        let run = |extra: &[&str], sig: &str, vendor: &str, component: &str, version: &str| {
            Command::new(&inspect)
                .arg("verify")
                .args(extra)
                .args([
                    "--vendor",
                    vendor,
                    "--component",
                    component,
                    "--version",
                    version,
                    "--at",
                    "2026-10-01T00:00:00Z",
                    "--format",
                    "json",
                    "--signature",
                ])
                .arg(f.join("sigs").join(sig))
                .arg(f.join("blobs/fw.bin"))
                .output()
                .unwrap()
        };
        let reg_cert = dir.join("registry.pem").display().to_string();
        let state = dir.join("state").display().to_string();
        let remote = [
            "--registry",
            &srv.url,
            "--token",
            &inspector_token,
            "--registry-cert",
            &reg_cert,
            "--state-dir",
            &state,
            // A new station: its first bundle starts rollback protection.
            "--trust-on-first-use",
            "--record",
            "--station",
            "e2e",
            "--lot",
            "LOT-1",
        ];
        let local_trust = f.join("trust.json").display().to_string();
        let local = ["--trust", &local_trust];
        let cases = [
            ("p256-detached.der", "acme", "acme-wifi-fw", "1.5.0"),
            ("ts-good.der", "acme", "acme-wifi-fw", "1.6.0"),
            ("revoked-ts-before.der", "acme", "acme-wifi-fw", "1.5.0"),
            ("revoked-nots.der", "acme", "acme-wifi-fw", "1.5.0"),
            ("int2.der", "acme", "acme-wifi-fw", "1.5.0"),
            ("globex.der", "acme", "acme-wifi-fw", "1.5.0"),
            ("globex.der", "globex", "globex-bt-fw", "2.0.0"),
            ("p256-detached.der", "acme", "acme-wifi-fw", "1.4.0"),
            ("rogue.der", "acme", "acme-wifi-fw", "1.5.0"),
        ];
        let mut codes = Vec::new();
        for (sig, v, c, ver) in cases {
            let r = run(&remote, sig, v, c, ver);
            let l = run(&local, sig, v, c, ver);
            assert_eq!(
                r.status.code(),
                l.status.code(),
                "{db:?} {sig} {v}: registry {} vs local {}",
                String::from_utf8_lossy(&r.stderr),
                String::from_utf8_lossy(&l.stderr)
            );
            let rr: serde_json::Value = serde_json::from_slice(&r.stdout).unwrap();
            let lr: serde_json::Value = serde_json::from_slice(&l.stdout).unwrap();
            assert_eq!(rr["verdict"], lr["verdict"], "{sig}");
            codes.push(r.status.code().unwrap());
        }
        assert_eq!(codes, vec![0, 0, 0, 1, 1, 1, 0, 1, 1], "{db:?}");

        // Every verdict became a receipt.
        let (_, list) = http(
            "GET",
            &format!("{api}/receipts?lot=LOT-1&limit=100"),
            t,
            None,
        );
        let list: serde_json::Value = serde_json::from_str(&list).unwrap();
        assert_eq!(list.as_array().unwrap().len(), cases.len());
        assert!(
            list.as_array()
                .unwrap()
                .iter()
                .all(|r| r["station"] == "e2e" && r["bundle_serial"].as_i64().unwrap() > 1)
        );
        // The station sent its evidence and the registry, re-verifying it
        // on its own, reached the same verdict every time.
        for r in list.as_array().unwrap() {
            assert_eq!(r["registry_verdict"], r["verdict"], "{db:?}: {r}");
            assert_eq!(r["disagreement"], false, "{r}");
        }

        // A lot, recorded in one batch.
        let manifest = dir.join("lot.csv");
        std::fs::write(
            &manifest,
            format!(
                "blob,signature,vendor,component,version\n{f}/blobs/fw.bin,{f}/sigs/p384-sha384.der,acme,acme-wifi-fw,1.5.0\n{f}/blobs/fw-tampered.bin,{f}/sigs/p256-detached.der,acme,acme-wifi-fw,1.5.0\n",
                f = f.display()
            ),
        )
        .unwrap();
        let out = Command::new(&inspect)
            .args([
                "verify-lot",
                "--registry",
                &srv.url,
                "--token",
                &inspector_token,
                "--registry-cert",
                &reg_cert,
                "--state-dir",
                &state,
            ])
            .args([
                "--record",
                "--station",
                "e2e",
                "--lot",
                "LOT-2",
                "--at",
                "2026-10-01T00:00:00Z",
            ])
            .arg(&manifest)
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(1),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let (_, lot2) = http("GET", &format!("{api}/receipts?lot=LOT-2"), t, None);
        let lot2: serde_json::Value = serde_json::from_str(&lot2).unwrap();
        let verdicts: Vec<&str> = lot2
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["verdict"].as_str().unwrap())
            .collect();
        assert_eq!(verdicts.len(), 2);
        assert!(verdicts.contains(&"accept") && verdicts.contains(&"reject"));
        // A SHA-384 signer in a lot: the station sends the blob's SHA-384,
        // so the registry can re-verify it from digests.
        for r in lot2.as_array().unwrap() {
            assert_eq!(r["registry_verdict"], r["verdict"], "{db:?}: {r}");
        }

        // Eight editors PUT the same vendor at once with the same If-Match:
        // exactly one wins, the others are told, nothing is lost silently.
        let statuses: Vec<u16> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..8)
                .map(|i| {
                    let (api, t) = (api.clone(), t.clone());
                    scope.spawn(move || {
                        let agent = ureq::Agent::config_builder()
                            .http_status_as_error(false)
                            .build()
                            .new_agent();
                        let body =
                            serde_json::to_vec(&json!({"name": format!("Globex Radio {i}")}))
                                .unwrap();
                        agent
                            .put(&format!("{api}/vendors/globex"))
                            .header("Authorization", &format!("Bearer {t}"))
                            .header("Content-Type", "application/json")
                            .header("If-Match", "\"1\"")
                            .send(body.as_slice())
                            .unwrap()
                            .status()
                            .as_u16()
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert_eq!(
            statuses.iter().filter(|s| **s == 200).count(),
            1,
            "{db:?} {statuses:?}"
        );
        assert_eq!(
            statuses.iter().filter(|s| **s == 412).count(),
            7,
            "{db:?} {statuses:?}"
        );

        // Offline: pull once, then verify from the saved bundle.
        let saved = dir.join("bundle.json");
        let out = Command::new(&inspect)
            .args([
                "trust",
                "pull",
                "--registry",
                &srv.url,
                "--token",
                &inspector_token,
                "--registry-cert",
                &reg_cert,
                "--state-dir",
                &state,
                "--out",
            ])
            .arg(&saved)
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let saved_s = saved.display().to_string();
        let offline = [
            "--trust",
            &saved_s,
            "--registry-cert",
            &reg_cert,
            "--state-dir",
            &state,
        ];
        assert_eq!(
            run(&offline, "ts-good.der", "acme", "acme-wifi-fw", "1.5.0")
                .status
                .code(),
            Some(0)
        );
        // Without the pinned certificate a signed bundle is not used.
        let out = run(
            &["--trust", &saved_s],
            "ts-good.der",
            "acme",
            "acme-wifi-fw",
            "1.5.0",
        );
        assert_eq!(out.status.code(), Some(2));
        assert!(String::from_utf8_lossy(&out.stderr).contains("--registry-cert"));
        // A newer serial seen; the old saved bundle is now a rollback.
        http(
            "POST",
            &format!("{api}/vendors/acme/components"),
            t,
            Some(json!({"name": "acme-bt-fw"})),
        );
        assert_eq!(
            run(&remote, "ts-good.der", "acme", "acme-wifi-fw", "1.5.0")
                .status
                .code(),
            Some(0)
        );
        let out = run(&offline, "ts-good.der", "acme", "acme-wifi-fw", "1.5.0");
        assert_eq!(out.status.code(), Some(2));
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("rollback refused"),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        // Issue 12: a pinned station takes signed bundles only. A forged
        // plain policy in the bundle's place (a rogue root for acme) is
        // refused, and only an explicit danger flag lets it through, loudly.
        let rogue_root = std::fs::read_to_string(f.join("certs/rogue-root.pem")).unwrap();
        let forged = dir.join("forged.json");
        std::fs::write(
            &forged,
            json!({"version": 1, "vendors": [{"id": "acme", "name": "Acme Chips",
                "anchors": [rogue_root], "components": [{"name": "acme-wifi-fw"}]}]})
            .to_string(),
        )
        .unwrap();
        let forged_s = forged.display().to_string();
        let plain_pinned = [
            "--trust",
            &forged_s,
            "--registry-cert",
            &reg_cert,
            "--state-dir",
            &state,
        ];
        let out = run(
            &plain_pinned,
            "ts-good.der",
            "acme",
            "acme-wifi-fw",
            "1.5.0",
        );
        assert_eq!(
            out.status.code(),
            Some(2),
            "{}",
            String::from_utf8_lossy(&out.stdout)
        );
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("is not a signed trust bundle")
                && err.contains("--danger-trust-unsigned-policy"),
            "{err}"
        );
        assert!(out.stdout.is_empty(), "no verdict from an unsigned policy");
        let danger = [
            "--trust",
            &forged_s,
            "--registry-cert",
            &reg_cert,
            "--state-dir",
            &state,
            "--danger-trust-unsigned-policy",
        ];
        // (The forged policy's rogue root is what the reported attack used:
        // with the danger flag the operator gets exactly what they asked for.)
        let out = run(&danger, "rogue.der", "acme", "acme-wifi-fw", "1.5.0");
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            String::from_utf8_lossy(&out.stderr)
                .contains("WARNING: using the UNSIGNED trust policy")
        );

        // Issue 12: deleting the station's state no longer removes rollback
        // protection silently: the old bundle is refused until the operator
        // says to start fresh, and then the output says what happened.
        let lost = dir.join("lost-state").display().to_string();
        let offline_lost = [
            "--trust",
            &saved_s,
            "--registry-cert",
            &reg_cert,
            "--state-dir",
            &lost,
        ];
        let out = run(
            &offline_lost,
            "ts-good.der",
            "acme",
            "acme-wifi-fw",
            "1.5.0",
        );
        assert_eq!(out.status.code(), Some(2));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("rollback protection cannot be checked")
                && err.contains("--trust-on-first-use"),
            "{err}"
        );
        let mut fresh = offline_lost.to_vec();
        fresh.push("--trust-on-first-use");
        let out = run(&fresh, "ts-good.der", "acme", "acme-wifi-fw", "1.5.0");
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(String::from_utf8_lossy(&out.stderr).contains("trust on first use"));

        // A wrong token is a clear error.
        let out = run(
            &[
                "--registry",
                &srv.url,
                "--token",
                "tg_wrong",
                "--registry-cert",
                &reg_cert,
                "--state-dir",
                &state,
            ],
            "ts-good.der",
            "acme",
            "acme-wifi-fw",
            "1.5.0",
        );
        assert_eq!(out.status.code(), Some(2));
        assert!(String::from_utf8_lossy(&out.stderr).contains("401"));
    }
}

/// Issue 12: the audit hash chain forked on PostgreSQL when token changes
/// and vendor changes took different lock rows. Two registry processes over
/// one PostgreSQL database, eight writers mixing token, vendor, component
/// and receipt writes (and the command line creating users), then the
/// chain verifies and counts every audited change.
#[::core::prelude::v1::test]
fn two_registries_over_one_postgresql_keep_one_audit_chain() {
    use serde_json::json;
    let dir = tempdir();
    let url = fresh_database(Db::Postgres, &dir);
    let a = start_on(&url, &dir.join("a"));
    let b = start_on(&url, &dir.join("b"));
    assert!(
        !a.token.is_empty() && b.token.is_empty(),
        "one first admin token"
    );
    let t = a.token.clone();
    let receipt = |n: usize| {
        json!({"station": "st", "lot": "L", "bundle_serial": 1, "report": {
            "report_version": 1, "verdict": "reject", "summary": "x", "vendor": "v", "component": "c",
            "version": "1.0.0", "blob": {"sha256": format!("{n:064x}"), "size": 1},
            "signature": {"kind": "cms"}, "verification_time": "2026-10-01T00:00:00Z",
            "checks": [], "signers": []}})
    };
    let per_writer = 12;
    let started = std::time::Instant::now();
    std::thread::scope(|scope| {
        for w in 0..8 {
            let base = if w % 2 == 0 {
                a.url.clone()
            } else {
                b.url.clone()
            };
            let t = t.clone();
            scope.spawn(move || {
                let api = format!("{base}/api/v1");
                for i in 0..per_writer {
                    let (s, body) = match i % 4 {
                        0 => http(
                            "POST",
                            &format!("{api}/tokens"),
                            &t,
                            Some(json!({"name": format!("w{w}-{i}"), "role": "inspector"})),
                        ),
                        1 => http(
                            "POST",
                            &format!("{api}/vendors"),
                            &t,
                            Some(json!({"id": format!("v{w}-{i}"), "name": "V"})),
                        ),
                        2 => http(
                            "POST",
                            &format!("{api}/vendors/v{w}-{}/components", i - 1),
                            &t,
                            Some(json!({"name": format!("c{w}-{i}")})),
                        ),
                        _ => http(
                            "POST",
                            &format!("{api}/receipts"),
                            &t,
                            Some(receipt(w * 100 + i)),
                        ),
                    };
                    assert_eq!(s, 201, "writer {w} op {i}: {body}");
                }
            });
        }
        for u in 0..3 {
            let url = url.clone();
            scope.spawn(move || {
                let out = Command::new(env!("CARGO_BIN_EXE_tollgate-registry"))
                    .env("TOLLGATE_APPROVALS", "single")
                    .args([
                        "user",
                        "create",
                        "--username",
                        &format!("user{u}"),
                        "--role",
                        "auditor",
                    ])
                    .env("DATABASE_URL", &url)
                    .env("TOLLGATE_PASSWORD", "correct horse battery staple")
                    .output()
                    .unwrap();
                assert!(
                    out.status.success(),
                    "{}",
                    String::from_utf8_lossy(&out.stderr)
                );
            });
        }
    });
    let took = started.elapsed();
    let (s, v) = http("GET", &format!("{}/api/v1/audit/verify", b.url), &t, None);
    assert_eq!(s, 200);
    let v: serde_json::Value = serde_json::from_str(&v).unwrap();
    assert_eq!(v["intact"], true, "{v}");
    // Tokens, vendors and components are audited (3 of every 4 writes), and the users.
    assert_eq!(v["rows"], 8 * per_writer / 4 * 3 + 3, "{v}");
    assert_eq!(v["receipts"], 8 * per_writer / 4, "one receipt chain: {v}");
    // The figure docs/benchmarks.md records (`-- --nocapture`).
    eprintln!(
        "figure: two replicas over one PostgreSQL, 8 writers + 3 CLI users: {} writes in {} ms ({:.0} writes/s), every one 201; audit chain ({} rows) and receipt chain ({} receipts) intact",
        8 * per_writer + 3,
        took.as_millis(),
        (8 * per_writer + 3) as f64 / took.as_secs_f64(),
        v["rows"],
        v["receipts"]
    );
    let out = Command::new(env!("CARGO_BIN_EXE_tollgate-registry"))
        .env("TOLLGATE_APPROVALS", "single")
        .args(["audit", "verify"])
        .env("DATABASE_URL", &url)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

/// Issue 12: a token revoked on one replica kept working on another for up
/// to 30 s (its authentication cache). Now within one second.
#[::core::prelude::v1::test]
fn a_token_revoked_on_one_replica_stops_on_the_other_within_a_second() {
    use serde_json::json;
    let dir = tempdir();
    let url = fresh_database(Db::Postgres, &dir);
    let a = start_on(&url, &dir.join("a"));
    let b = start_on(&url, &dir.join("b"));
    let t = a.token.clone();
    let (s, created) = http(
        "POST",
        &format!("{}/api/v1/tokens", a.url),
        &t,
        Some(json!({"name": "ops-2", "role": "admin"})),
    );
    assert_eq!(s, 201, "{created}");
    let created: serde_json::Value = serde_json::from_str(&created).unwrap();
    let victim = created["token"].as_str().unwrap().to_string();
    // B has the token in its cache now.
    for _ in 0..3 {
        assert_eq!(
            http("GET", &format!("{}/api/v1/vendors", b.url), &victim, None).0,
            200
        );
    }
    let (_, list) = http("GET", &format!("{}/api/v1/tokens", a.url), &t, None);
    let list: serde_json::Value = serde_json::from_str(&list).unwrap();
    let id = list
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["name"] == "ops-2")
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let (s, _) = http(
        "POST",
        &format!("{}/api/v1/tokens/{id}/revoke", a.url),
        &t,
        Some(json!({})),
    );
    assert_eq!(s, 200);
    assert_eq!(
        http("GET", &format!("{}/api/v1/vendors", a.url), &victim, None).0,
        401,
        "at once where it was revoked"
    );
    std::thread::sleep(std::time::Duration::from_millis(1100));
    assert_eq!(
        http("GET", &format!("{}/api/v1/vendors", b.url), &victim, None).0,
        401,
        "within a second on the other replica"
    );
    let (s, _) = http(
        "POST",
        &format!("{}/api/v1/tokens", b.url),
        &victim,
        Some(json!({"name": "sneaky", "role": "admin"})),
    );
    assert_eq!(s, 401, "no new admin token from a revoked one");
}

/// An offline station (issue 16): `station init` makes its key, an admin
/// binds it to the station's token with `tollgate-registry station add`,
/// the station verifies a lot from a saved bundle and writes signed
/// receipts next to its report, and `receipts push` uploads them later:
/// twice, recorded once. Both backends, the real binaries.
#[::core::prelude::v1::test]
fn an_offline_station_signs_its_lot_and_pushes_it_later() {
    use serde_json::json;
    let inspect = inspect_binary();
    for db in BACKENDS {
        let dir = tempdir();
        let url = fresh_database(db, &dir);
        let srv = start_on(&url, &dir);
        let api = format!("{}/api/v1", srv.url);
        let t = &srv.token;
        http(
            "POST",
            &format!("{api}/vendors"),
            t,
            Some(json!({"id": "acme", "name": "Acme Chips"})),
        );
        for (file, role) in [
            ("acme-root.pem", "anchor"),
            ("acme-int.pem", "intermediate"),
        ] {
            let (s, b) = http(
                "POST",
                &format!("{api}/vendors/acme/certificates"),
                t,
                Some(json!({"role": role, "pem": pem(file)})),
            );
            assert_eq!(s, 201, "{b}");
        }
        http(
            "POST",
            &format!("{api}/vendors/acme/components"),
            t,
            Some(json!({"name": "acme-wifi-fw"})),
        );
        let (_, tok) = http(
            "POST",
            &format!("{api}/tokens"),
            t,
            Some(json!({"name": "line-3", "role": "inspector"})),
        );
        let tok: serde_json::Value = serde_json::from_str(&tok).unwrap();
        let station_token = tok["token"].as_str().unwrap().to_string();
        let (_, cert) = http("GET", &format!("{api}/registry-certificate"), t, None);
        let reg_cert = dir.join("registry.pem");
        std::fs::write(&reg_cert, cert).unwrap();

        // The station's key.
        let key = dir.join("station.key");
        let out = Command::new(&inspect)
            .args(["station", "init", "--key"])
            .arg(&key)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                std::fs::metadata(&key).unwrap().permissions().mode() & 0o777,
                0o600
            );
        }
        let again = Command::new(&inspect)
            .args(["station", "init", "--key"])
            .arg(&key)
            .output()
            .unwrap();
        assert_eq!(
            again.status.code(),
            Some(2),
            "an existing key is not overwritten"
        );
        let pubkey = format!("{}.pub", key.display());
        let (code, out, err) = registry_cli(
            &url,
            &[
                "station",
                "add",
                "--name",
                "line-3",
                "--token-id",
                &tok["id"].to_string(),
                "--public-key",
                &pubkey,
            ],
        );
        assert_eq!(code, Some(0), "{err}");
        assert!(out.contains("station 'line-3' registered"), "{out}");

        // Pull once, then work offline.
        let state = dir.join("state").display().to_string();
        let saved = dir.join("bundle.json");
        let out = Command::new(&inspect)
            .args([
                "trust",
                "pull",
                "--registry",
                &srv.url,
                "--token",
                &station_token,
                "--registry-cert",
            ])
            .arg(&reg_cert)
            .args(["--state-dir", &state, "--trust-on-first-use", "--out"])
            .arg(&saved)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let f = fixtures();
        let manifest = dir.join("lot.csv");
        std::fs::write(
            &manifest,
            format!(
                "blob,signature,vendor,component,version\n{f}/blobs/fw.bin,{f}/sigs/p256-detached.der,acme,acme-wifi-fw,1.5.0\n{f}/blobs/fw-tampered.bin,{f}/sigs/p256-detached.der,acme,acme-wifi-fw,1.5.0\n",
                f = f.display()
            ),
        )
        .unwrap();
        let report = dir.join("lot.json");
        let out = Command::new(&inspect)
            .args(["verify-lot", "--trust"])
            .arg(&saved)
            .arg("--registry-cert")
            .arg(&reg_cert)
            .args([
                "--state-dir",
                &state,
                "--station",
                "line-3",
                "--lot",
                "L-9",
                "--at",
                AT,
                "--station-key",
            ])
            .arg(&key)
            .arg("--report")
            .arg(&report)
            .arg(&manifest)
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(1),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let signed = dir.join("lot.json.receipts.json");
        let file: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&signed).unwrap()).unwrap();
        assert_eq!(file["receipts"].as_array().unwrap().len(), 2);
        // The station's envelopes verify with securesystemslib and its public key.
        let (ok, said) = python_verifies_dsse(
            &std::fs::read_to_string(&pubkey).unwrap(),
            &file["receipts"][0]["envelope"],
        );
        assert!(ok, "{said}");

        // Push, push again: recorded once.
        let push = || {
            Command::new(&inspect)
                .args([
                    "receipts",
                    "push",
                    "--registry",
                    &srv.url,
                    "--token",
                    &station_token,
                ])
                .arg(&signed)
                .output()
                .unwrap()
        };
        let first = push();
        assert!(
            first.status.success(),
            "{}",
            String::from_utf8_lossy(&first.stderr)
        );
        assert!(
            String::from_utf8_lossy(&first.stdout)
                .contains("2 receipts recorded, 0 were already recorded")
        );
        let second = push();
        assert!(
            second.status.success(),
            "{}",
            String::from_utf8_lossy(&second.stderr)
        );
        assert!(
            String::from_utf8_lossy(&second.stdout)
                .contains("0 receipts recorded, 2 were already recorded")
        );
        let (_, list) = http("GET", &format!("{api}/receipts?lot=L-9"), t, None);
        let list: serde_json::Value = serde_json::from_str(&list).unwrap();
        assert_eq!(list.as_array().unwrap().len(), 2, "{db:?} {list}");
        for r in list.as_array().unwrap() {
            assert_eq!(r["station"], "line-3");
            assert!(r["station_key"].is_string(), "{r}");
            assert_eq!(r["registry_verdict"], r["verdict"], "{r}");
        }
        // Another token cannot push the station's envelopes.
        let out = Command::new(&inspect)
            .args(["receipts", "push", "--registry", &srv.url, "--token", t])
            .arg(&signed)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2));
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("bound to another token"),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// `serve --log-format json`: one JSON object per line on standard error;
/// each request's line carries its id, which the error body names too.
#[::core::prelude::v1::test]
fn json_logs_carry_the_request_id_of_error_responses() {
    let dir = tempdir();
    let url = fresh_database(Db::Sqlite, &dir);
    let mut child = Command::new(env!("CARGO_BIN_EXE_tollgate-registry"))
        .env("TOLLGATE_APPROVALS", "single")
        .args([
            "serve",
            "--bind",
            "127.0.0.1:0",
            "--log-format",
            "json",
            "--data-dir",
        ])
        .arg(&dir)
        .env("DATABASE_URL", &url)
        .env_remove("RUST_LOG")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let (mut token, mut base) = (String::new(), String::new());
    let mut line = String::new();
    while out.read_line(&mut line).unwrap() > 0 {
        if line.starts_with("tg_") {
            token = line.trim().to_string();
        }
        if let Some(rest) = line.strip_prefix("Tollgate registry listening on ") {
            base = rest.split('/').take(3).collect::<Vec<_>>().join("/");
            break;
        }
        line.clear();
    }
    let agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .new_agent();
    let mut resp = agent
        .get(&format!("{base}/api/v1/vendors/nobody"))
        .header("Authorization", &format!("Bearer {token}"))
        .header("X-Request-Id", "trace-4711")
        .call()
        .unwrap();
    assert_eq!(resp.status().as_u16(), 404);
    let body: serde_json::Value =
        serde_json::from_str(&resp.body_mut().read_to_string().unwrap()).unwrap();
    assert_eq!(body["error"]["request_id"], "trace-4711");
    let _ = child.kill();
    let _ = child.wait();
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
    let lines: Vec<serde_json::Value> = err
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    let hit = lines
        .iter()
        .find(|l| l["span"]["request_id"] == "trace-4711" && l["fields"]["message"] == "request")
        .unwrap_or_else(|| panic!("no request line with the id: {err}"));
    assert_eq!(hit["fields"]["status"], 404, "{hit}");
    assert_eq!(hit["fields"]["route"], "/api/v1/vendors/{id}", "{hit}");
    assert_eq!(hit["level"], "INFO");
}

/// Issue 14, item 1: a station hands a vendor-signed SBOM to the registry
/// with `tollgate-inspect sbom push` (its inspector token): recorded when
/// the vendor's signature verifies (exit 0), refused with the reason when
/// the SBOM was altered (exit 1), exit 2 when the registry is unreachable.
#[::core::prelude::v1::test]
fn a_station_pushes_a_vendor_signed_sbom() {
    use serde_json::json;
    let inspect = inspect_binary();
    let dir = tempdir();
    let srv = start(Db::Sqlite, &dir);
    let api = format!("{}/api/v1", srv.url);
    let t = &srv.token;
    for (uri, body) in [
        ("vendors", json!({"id": "acme", "name": "Acme Chips"})),
        (
            "vendors/acme/certificates",
            json!({"role": "anchor", "pem": pem("acme-root.pem")}),
        ),
        (
            "vendors/acme/certificates",
            json!({"role": "intermediate", "pem": pem("acme-int.pem")}),
        ),
        (
            "vendors/acme/components",
            json!({"name": "acme-wifi-fw", "min_version": "1.0.0"}),
        ),
    ] {
        let (s, b) = http("POST", &format!("{api}/{uri}"), t, Some(body));
        assert_eq!(s, 201, "{uri}: {b}");
    }
    let (s, b) = http(
        "POST",
        &format!("{api}/tokens"),
        t,
        Some(json!({"name": "line-3", "role": "inspector"})),
    );
    assert_eq!(s, 201, "{b}");
    let station: serde_json::Value = serde_json::from_str(&b).unwrap();
    let station = station["token"].as_str().unwrap().to_string();
    let sbom = serde_json::to_vec(&json!({
        "bomFormat": "CycloneDX", "specVersion": "1.5", "version": 1,
        "serialNumber": "urn:uuid:0c8a7e2e-2f5b-4c43-9d1e-2a1b3c4d5e6f",
        "metadata": {"component": {"type": "firmware", "name": "acme-wifi-fw", "version": "1.5.0",
            "hashes": [{"alg": "SHA-256", "content": "ab".repeat(32)}]}},
    }))
    .unwrap();
    let files = tempdir();
    std::fs::write(files.join("fw.cdx.json"), &sbom).unwrap();
    std::fs::write(
        files.join("fw.cdx.json.p7s"),
        cms_sign("acme-signer-p256", "acme-int", &sbom),
    )
    .unwrap();
    let push = |registry: &str, file: &str| {
        Command::new(&inspect)
            .args([
                "sbom",
                "push",
                "--registry",
                registry,
                "--token",
                &station,
                "--vendor",
                "acme",
                "--signature",
            ])
            .arg(files.join("fw.cdx.json.p7s"))
            .arg(files.join(file))
            .output()
            .unwrap()
    };
    let out = push(&srv.url, "fw.cdx.json");
    let said = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{said}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        said.contains("RECORDED") && said.contains("acme-wifi-fw 1.5.0"),
        "{said}"
    );
    let mut altered = sbom.clone();
    let at = altered.iter().position(|b| *b == b'5').unwrap();
    altered[at] = b'9';
    std::fs::write(files.join("altered.cdx.json"), &altered).unwrap();
    let out = push(&srv.url, "altered.cdx.json");
    let said = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{said}");
    assert!(
        said.contains("REFUSED") && said.contains("signature is refused"),
        "{said}"
    );
    let out = push("http://127.0.0.1:9", "fw.cdx.json");
    assert_eq!(out.status.code(), Some(2));
}
