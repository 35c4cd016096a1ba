//! x509-limbo (the C2SP cross-implementation path-validation suite) run
//! through the same path validation `tollgate-inspect chain`, `verify` and
//! the registry use ([`inspector::chain::validate`], strict profile).
//!
//! The suite's data is read from `../shared/data/x509-limbo/` beside the
//! checkout (never copied into the repository; provenance in its README).
//! Only the code-signing-relevant cases (`relevant-ids.txt`) are run. Each
//! case must give the suite's expected result unless
//! `inspector/tests/limbo-exceptions.json` lists it with the result Tollgate
//! gives instead and the reason it deliberately differs; an exception that
//! no longer applies (the case now agrees) fails the test too, so the file
//! stays true.
//!
//! Where the data is absent the test says so on stderr and passes, unless
//! `TOLLGATE_REQUIRE_LIMBO=1` (set by `tests/run-all.sh`, so CI fails
//! rather than silently skipping).
//!
//! `LIMBO_REPORT=1 cargo test -p inspector --test limbo -- --nocapture`
//! prints every case with its result and reason.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use inspector::cert::{ParsedCert, certificates_from_bytes};
use inspector::chain::{ChainRequest, EkuRequirement, validate};
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// At least this many relevant cases must agree with the suite.
const TARGET: usize = 150;

#[derive(Deserialize)]
struct Limbo {
    testcases: Vec<Case>,
}

#[derive(Deserialize)]
struct Case {
    id: String,
    validation_kind: String,
    trusted_certs: Vec<String>,
    untrusted_intermediates: Vec<String>,
    peer_certificate: String,
    validation_time: Option<String>,
    extended_key_usage: Vec<String>,
    expected_result: String,
    max_chain_depth: Option<usize>,
    #[serde(default)]
    crls: Vec<String>,
}

#[derive(Deserialize)]
struct Exception {
    id: String,
    expected: String,
    actual: String,
    reason: String,
}

fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/x509-limbo")
}

fn certs(pems: &[String]) -> Result<Vec<ParsedCert>, String> {
    let mut out = Vec::new();
    for p in pems {
        out.extend(certificates_from_bytes(p.as_bytes()).map_err(|e| e.to_string())?);
    }
    Ok(out)
}

/// Runs one case: `Ok(reason)` when the path is valid, `Err(reason)` when not.
fn run(case: &Case) -> Result<String, String> {
    let anchors = certs(&case.trusted_certs)?;
    let pool = certs(&case.untrusted_intermediates)?;
    let leaf = certs(std::slice::from_ref(&case.peer_certificate))?
        .into_iter()
        .next()
        .ok_or("no peer certificate")?;
    let crls = case
        .crls
        .iter()
        .map(|p| {
            pem::parse(p)
                .map(|b| b.into_contents())
                .map_err(|e| e.to_string())
        })
        .collect::<Result<Vec<_>, _>>()?;
    let time = match &case.validation_time {
        Some(t) => OffsetDateTime::parse(t, &Rfc3339).map_err(|e| e.to_string())?,
        None => OffsetDateTime::now_utc(),
    };
    // The case's purpose stands in for codeSigning.
    let purpose = match case.extended_key_usage.first().map(String::as_str) {
        Some(p) => p.to_string(),
        None if case.validation_kind == "CLIENT" => "clientAuth".into(),
        None => "serverAuth".into(),
    };
    let eku = EkuRequirement::parse(&purpose).map_err(|e| e.to_string())?;
    let refs: Vec<&ParsedCert> = pool.iter().collect();
    validate(&ChainRequest {
        leaf: &leaf,
        anchors: &anchors,
        intermediates: &refs,
        time,
        eku,
        crls: &crls,
    })
    .map_err(|e| e.to_string())
    .and_then(|p| {
        // The suite's `max_chain_depth` (intermediates allowed; self-issued
        // ones do not count, as for pathLenConstraint) is a constraint of
        // the case, honoured here: Tollgate itself has no such setting.
        let depth = p
            .intermediates()
            .iter()
            .filter(|c| !c.is_self_issued())
            .count();
        match case.max_chain_depth {
            Some(max) if depth > max => Err(format!(
                "the path has {depth} intermediates, more than the case's max_chain_depth {max}"
            )),
            _ => Ok(format!("valid, {} certificates", p.certificates.len())),
        }
    })
}

#[test]
fn x509_limbo_code_signing_cases() {
    let dir = data_dir();
    let Ok(json) = std::fs::read(dir.join("limbo.json")) else {
        let msg = format!(
            "x509-limbo data not found at {} (it lives in ../shared beside the checkout): the limbo cases were NOT run",
            dir.display()
        );
        if std::env::var("TOLLGATE_REQUIRE_LIMBO").as_deref() == Ok("1") {
            panic!("{msg}");
        }
        eprintln!("SKIPPED: {msg}");
        return;
    };
    let limbo: Limbo = serde_json::from_slice(&json).expect("limbo.json parses");
    let relevant: BTreeSet<String> = std::fs::read_to_string(dir.join("relevant-ids.txt"))
        .expect("relevant-ids.txt")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(String::from)
        .collect();
    let exceptions: Vec<Exception> = serde_json::from_slice(
        &std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/limbo-exceptions.json"))
            .expect("limbo-exceptions.json"),
    )
    .expect("limbo-exceptions.json parses");
    let mut excepted: BTreeMap<&str, &Exception> = BTreeMap::new();
    for e in &exceptions {
        assert!(
            relevant.contains(&e.id),
            "exception for an unknown case {}",
            e.id
        );
        assert!(
            !e.reason.trim().is_empty(),
            "exception {} gives no reason",
            e.id
        );
        assert_ne!(e.expected, e.actual, "exception {} changes nothing", e.id);
        assert!(
            excepted.insert(&e.id, e).is_none(),
            "exception {} listed twice",
            e.id
        );
    }

    let report = std::env::var("LIMBO_REPORT").as_deref() == Ok("1");
    let mut ran = 0;
    let mut agree = 0;
    let mut problems = Vec::new();
    for case in limbo.testcases.iter().filter(|c| relevant.contains(&c.id)) {
        ran += 1;
        let outcome = run(case);
        let actual = if outcome.is_ok() {
            "SUCCESS"
        } else {
            "FAILURE"
        };
        let reason = match &outcome {
            Ok(r) | Err(r) => r.clone(),
        };
        if report {
            println!(
                "{:7} {:7} {}: {reason}",
                case.expected_result, actual, case.id
            );
        }
        if actual == case.expected_result {
            agree += 1;
            if excepted.contains_key(case.id.as_str()) {
                problems.push(format!(
                    "{}: now agrees with the suite ({actual}); remove its exception",
                    case.id
                ));
            }
        } else {
            match excepted.get(case.id.as_str()) {
                Some(e) if e.actual == actual && e.expected == case.expected_result => {}
                Some(e) => problems.push(format!(
                    "{}: the exception says {} vs {}, but the suite expects {} and Tollgate gives {actual} ({reason})",
                    case.id, e.expected, e.actual, case.expected_result
                )),
                None => problems.push(format!(
                    "{}: expected {}, Tollgate gives {actual}: {reason}",
                    case.id, case.expected_result
                )),
            }
        }
    }
    println!(
        "x509-limbo: {agree} of {ran} code-signing-relevant cases agree; {} listed exceptions",
        exceptions.len()
    );
    assert_eq!(
        ran,
        relevant.len(),
        "every relevant id is a case in limbo.json"
    );
    assert!(
        problems.is_empty(),
        "{} problems:\n{}",
        problems.len(),
        problems.join("\n")
    );
    assert!(
        agree >= TARGET,
        "only {agree} cases agree; the target is {TARGET}"
    );
}
