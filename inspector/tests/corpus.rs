//! The OpenSSL fixture corpus (tests/fixtures/cms, see PROVENANCE.md), run
//! through the library and through the `tollgate-inspect` binary. Every rule
//! has cases that must pass and cases that must fail; the verification time
//! is pinned to 2026-10-01T00:00:00Z.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use inspector::policy::{CertificateSource, TrustPolicy};
use inspector::report::{CheckId, Outcome, Report, Verdict};
use inspector::{Artifact, Limits, VerifyRequest, verify_cms};
use std::path::{Path, PathBuf};
use std::process::Command;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

const AT: &str = "2026-10-01T00:00:00Z";

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/cms")
}

struct Files(PathBuf);
impl CertificateSource for Files {
    fn load(&mut self, r: &str) -> Result<Vec<u8>, String> {
        std::fs::read(self.0.join(r)).map_err(|e| e.to_string())
    }
}

fn policy(name: &str) -> TrustPolicy {
    let json = std::fs::read(fixtures().join(name)).unwrap();
    TrustPolicy::from_json(&json, &mut Files(fixtures())).unwrap()
}

struct Case {
    sig: &'static str,
    trust: &'static str,
    vendor: &'static str,
    component: &'static str,
    version: &'static str,
    blob: &'static str,
    /// None: must be accepted. Some((check, text)): must be rejected, with
    /// that check failing and its reason containing the text.
    reject: Option<(CheckId, &'static str)>,
}

const fn ok(sig: &'static str) -> Case {
    Case {
        sig,
        trust: "trust.json",
        vendor: "acme",
        component: "acme-wifi-fw",
        version: "1.5.0",
        blob: "fw.bin",
        reject: None,
    }
}
const fn bad(sig: &'static str, id: CheckId, text: &'static str) -> Case {
    Case {
        reject: Some((id, text)),
        ..ok(sig)
    }
}

fn cases() -> Vec<Case> {
    use CheckId::*;
    vec![
        // 1. Encodings, detached and attached.
        ok("p256-detached.der"),
        ok("p256-detached.pem"),
        ok("p256-attached.der"),
        ok("p256-attached-ber.der"),
        // Other CMS producers and every BER form of the attached content
        // (gen-producers.sh): GnuTLS, Python cryptography, BouncyCastle
        // (indefinite segments and DL), definite-length and nested segments.
        ok("gnutls-attached.der"),
        ok("pyca-attached.der"),
        ok("bc-attached-ber.der"),
        ok("bc-attached-dl.der"),
        ok("ber-definite-segments.der"),
        ok("ber-nested-segments.der"),
        bad(
            "ber-definite-tampered.der",
            Content,
            "the content attached to the signature is not the blob",
        ),
        bad(
            "attached-other.der",
            Content,
            "attached to the signature is not the blob",
        ),
        bad("trailing-garbage.der", Format, "trailing data"),
        bad("truncated.der", Format, "not a CMS"),
        // 2. With and without signed attributes.
        ok("p256-noattr.der"),
        Case {
            blob: "fw-tampered.bin",
            ..bad(
                "p256-detached.der",
                SignedAttributes,
                "the content does not match the signature",
            )
        },
        Case {
            blob: "fw-tampered.bin",
            ..bad("p256-noattr.der", Signature, "does not verify")
        },
        bad("bad-signature.der", Signature, "does not verify"),
        // 3. Algorithms.
        ok("p384-sha384.der"),
        ok("rsa-pkcs1-sha256.der"),
        ok("rsa-pkcs1-sha512.der"),
        ok("rsa-pss-maxsalt.der"),
        // RFC 4055 section 1.2 (gen-pss-only.sh): a key restricted to
        // RSA-PSS makes PSS signatures within its parameters only.
        ok("pss-only-pss.der"),
        bad(
            "pss-only-pkcs1.der",
            Algorithm,
            "restricted to RSA-PSS (its certificate names id-RSASSA-PSS, RFC 4055 section 1.2), so a RSA PKCS#1 v1.5",
        ),
        bad(
            "pss-only-short-salt.der",
            Algorithm,
            "salt of 20 bytes, below the key's minimum of 32",
        ),
        ok("rsa-pss-digestsalt.der"),
        ok("rsa-pss-noattr.der"),
        ok("ed25519.der"),
        ok("ed25519-attrs.der"),
        bad("sha1.der", Algorithm, "SHA-1"),
        bad(
            "rsa1024.der",
            KeyStrength,
            "RSA-1024, below vendor 'acme' minimum of 2048",
        ),
        Case {
            trust: "trust-strict.json",
            ..bad("p384-sha384.der", Algorithm, "digest sha384 is not allowed")
        },
        Case {
            trust: "trust-strict.json",
            ..bad("rsa-pkcs1-sha256.der", KeyStrength, "minimum of 3072")
        },
        // 4. Paths.
        bad("noint.der", Chain, "intermediate missing"),
        Case {
            trust: "trust-registered-int.json",
            ..ok("noint.der")
        },
        bad("rogue.der", Chain, "unknown root"),
        bad("globex.der", Chain, "chains to vendor 'globex'"),
        Case {
            vendor: "globex",
            component: "globex-bt-fw",
            version: "2.0.0",
            ..ok("globex.der")
        },
        // 5. Signer usage.
        bad("server.der", SignerUsage, "lacks codeSigning"),
        bad("nodigsig.der", SignerUsage, "lacks digitalSignature"),
        bad("casigner.der", SignerUsage, "is a CA certificate"),
        // 6. Authorisation and rollback floor.
        Case {
            version: "1.4.9",
            ..bad(
                "p256-detached.der",
                VersionFloor,
                "below the rollback floor 1.5.0",
            )
        },
        Case {
            version: "2.0.0",
            ..ok("p256-detached.der")
        },
        Case {
            version: "1.5.0-rc.1",
            ..bad(
                "p256-detached.der",
                VersionFloor,
                "below the rollback floor",
            )
        },
        Case {
            version: "v1",
            ..bad("p256-detached.der", VersionFloor, "not a semantic version")
        },
        Case {
            component: "globex-bt-fw",
            ..bad(
                "p256-detached.der",
                Component,
                "not authorised to supply component 'globex-bt-fw'",
            )
        },
        Case {
            vendor: "initech",
            ..bad(
                "p256-detached.der",
                Component,
                "vendor 'initech' is not in the trust policy",
            )
        },
        // 7. Time and timestamps.
        ok("ts-good.der"),
        ok("expired-ts.der"),
        bad(
            "expired-nots.der",
            Chain,
            "expired 2026-03-01, and no trusted timestamp",
        ),
        bad("ts-untrusted.der", Timestamp, "is not trusted"),
        // RFC 3161 section 2.3 (gen-tsa-eku.sh): the TSA's EKU must be
        // critical and timeStamping only.
        bad(
            "ts-noncrit-eku.der",
            Timestamp,
            "is not critical and lists timeStamping",
        ),
        bad(
            "ts-multi-eku.der",
            Timestamp,
            "lists timeStamping, codeSigning",
        ),
        bad("ts-wrong-imprint.der", Timestamp, "messageImprint"),
        // RFC 5652 section 5.3 and RFC 3161 section 2.4.2 (gen-strict-der.sh):
        // signed attributes and the TSTInfo must be DER in the file, even
        // though the signature covers the DER form either way.
        bad(
            "attrs-primitive-tag.der",
            SignedAttributes,
            "primitive [0] tag",
        ),
        bad(
            "attrs-unsorted.der",
            SignedAttributes,
            "not in DER sorted order",
        ),
        bad("ts-attrs-primitive-tag.der", Timestamp, "primitive [0] tag"),
        bad(
            "ts-tstinfo-not-der.der",
            Timestamp,
            "the TSTInfo is not valid DER (RFC 3161 section 2.4.2",
        ),
        Case {
            trust: "trust-no-tsa.json",
            ..bad("ts-good.der", Timestamp, "no TSA anchors")
        },
        Case {
            trust: "trust-strict.json",
            ..bad(
                "p256-detached.der",
                Timestamp,
                "requires a trusted RFC 3161 timestamp",
            )
        },
        Case {
            trust: "trust-strict.json",
            ..ok("ts-good.der")
        },
        // 8. Revocation.
        ok("revoked-ts-before.der"),
        bad("revoked-ts-after.der", Revocation, "after that"),
        bad(
            "revoked-nots.der",
            Revocation,
            "no trusted timestamp proves",
        ),
        bad("int2.der", Revocation, "issuing CA certificate"),
    ]
}

fn run_library(c: &Case) -> Report {
    run_library_cached(c, None)
}

fn run_library_cached(c: &Case, cache: Option<&inspector::chain::PathCache>) -> Report {
    let p = policy(c.trust);
    let sig = std::fs::read(fixtures().join("sigs").join(c.sig)).unwrap();
    let mut blob = std::fs::File::open(fixtures().join("blobs").join(c.blob)).unwrap();
    let limits = Limits::default();
    let req = VerifyRequest {
        policy: &p,
        vendor: c.vendor,
        component: c.component,
        version: c.version,
        signature: &sig,
        time: OffsetDateTime::parse(AT, &Rfc3339).unwrap(),
        limits: &limits,
        cache,
        existed_at: None,
    };
    // The one entry point: it must recognise CMS (the Sigstore corpus
    // checks it recognises bundles).
    inspector::verify(&req, Artifact::Reader(&mut blob)).unwrap()
}

/// The lot memo (remembered paths, the path above a leaf reused for the
/// next leaf with the same issuer, profile results) never changes a
/// verdict or a reason: every corpus case verified through one shared
/// cache, after every other case has filled it, and in reverse order,
/// gives exactly the report verified without a cache.
#[test]
fn the_lot_memo_gives_the_same_reports_as_verifying_alone() {
    let cases = cases();
    let cache = inspector::chain::PathCache::default();
    let strip = |r: &Report| {
        let mut v = serde_json::to_value(r).unwrap();
        // Only the blob and signature paths may differ between runs.
        v["blob"]["path"] = serde_json::Value::Null;
        v["signature"]["path"] = serde_json::Value::Null;
        v
    };
    for round in 0..2 {
        let order: Vec<&Case> = if round == 0 {
            cases.iter().collect()
        } else {
            cases.iter().rev().collect()
        };
        for c in order {
            let alone = strip(&run_library(c));
            let cached = strip(&run_library_cached(c, Some(&cache)));
            assert_eq!(alone, cached, "{} (round {round})", c.sig);
        }
    }
}

/// A CMS signature with only a digest of the blob is not evaluated (typed
/// error), while the same request with the blob is.
#[test]
fn the_entry_point_needs_the_blob_for_cms() {
    let p = policy("trust.json");
    let sig = std::fs::read(fixtures().join("sigs").join("p256-detached.der")).unwrap();
    let limits = Limits::default();
    let req = VerifyRequest {
        policy: &p,
        vendor: "acme",
        component: "acme-wifi-fw",
        version: "1.5.0",
        signature: &sig,
        time: OffsetDateTime::parse(AT, &Rfc3339).unwrap(),
        limits: &limits,
        cache: None,
        existed_at: None,
    };
    let digest = Artifact::Digest {
        algorithm: inspector::digest::DigestAlgorithm::Sha256,
        value: vec![0; 32],
    };
    assert!(matches!(
        inspector::verify(&req, digest),
        Err(inspector::VerifyError::DigestNeedsSigstore)
    ));
    let mut blob = std::fs::File::open(fixtures().join("blobs").join("fw.bin")).unwrap();
    let r = inspector::verify(&req, Artifact::Reader(&mut blob)).unwrap();
    assert_eq!(r.verdict, Verdict::Accept, "{}", r.summary);
}

fn check_case(c: &Case, r: &Report) {
    let label = format!(
        "{} ({} {} {} {})",
        c.sig, c.trust, c.vendor, c.component, c.version
    );
    match c.reject {
        None => {
            assert_eq!(
                r.verdict,
                Verdict::Accept,
                "{label} must be accepted: {}",
                r.summary
            );
            assert!(
                r.first_failure().is_none(),
                "{label}: accepted with a failed check"
            );
        }
        Some((id, text)) => {
            assert_eq!(r.verdict, Verdict::Reject, "{label} must be rejected");
            let failing: Vec<_> = r
                .all_checks()
                .filter(|k| k.outcome == Outcome::Fail)
                .collect();
            assert!(
                failing
                    .iter()
                    .any(|k| k.id == id && k.reason.contains(text)),
                "{label}: expected {id:?} to fail with '{text}', got {failing:#?}"
            );
        }
    }
}

#[test]
fn corpus_through_the_library() {
    for c in cases() {
        let r = run_library(&c);
        check_case(&c, &r);
    }
}

fn cli() -> Command {
    Command::new(env!("CARGO_BIN_EXE_tollgate-inspect"))
}

#[test]
fn corpus_through_the_cli_json() {
    for c in cases() {
        let f = fixtures();
        let out = cli()
            .args(["verify", "--trust"])
            .arg(f.join(c.trust))
            .args([
                "--vendor",
                c.vendor,
                "--component",
                c.component,
                "--version",
                c.version,
                "--at",
                AT,
                "--format",
                "json",
                "--signature",
            ])
            .arg(f.join("sigs").join(c.sig))
            .arg(f.join("blobs").join(c.blob))
            .output()
            .unwrap();
        let expected_code = if c.reject.is_none() { 0 } else { 1 };
        assert_eq!(
            out.status.code(),
            Some(expected_code),
            "{}: {}",
            c.sig,
            String::from_utf8_lossy(&out.stderr)
        );
        let r: Report = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(r.report_version, 2);
        assert_eq!(r.verification_time, AT);
        check_case(&c, &r);
    }
}

#[test]
fn text_output_names_every_check_and_the_reason() {
    let f = fixtures();
    let out = cli()
        .args(["verify", "--trust"])
        .arg(f.join("trust.json"))
        .args([
            "--vendor",
            "acme",
            "--component",
            "acme-wifi-fw",
            "--version",
            "1.5.0",
            "--at",
            AT,
            "--signature",
        ])
        .arg(f.join("sigs/expired-nots.der"))
        .arg(f.join("blobs/fw.bin"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with("REJECT "), "{text}");
    assert!(text.contains("certificate 'CN=Acme Signer 2025,O=Acme Chips' expired 2026-03-01, and no trusted timestamp"), "{text}");
    for id in [
        "component",
        "version-floor",
        "format",
        "content",
        "algorithm",
        "key-strength",
        "signature",
        "timestamp",
        "signer-usage",
        "chain",
        "revocation",
    ] {
        assert!(text.contains(id), "text output lacks check {id}: {text}");
    }
}

#[test]
fn accepted_timestamp_sets_the_signing_time_and_tsa() {
    let r = run_library(&ok("ts-good.der"));
    let t = r.signers[0].signing_time.as_ref().unwrap();
    assert_eq!(t.time, "2026-06-15T12:00:00Z");
    assert_eq!(
        t.tsa.as_deref(),
        Some("CN=Test Time-Stamping Unit 1,O=Tollgate Test")
    );
    let r = run_library(&ok("p256-detached.der"));
    assert_eq!(r.signers[0].signing_time.as_ref().unwrap().time, AT);
    assert_eq!(r.outcome_of(CheckId::Timestamp), Some(Outcome::Skip));
}

#[test]
fn expired_signer_accepted_only_with_timestamp_and_before_expiry() {
    // Verified at a time while the certificate was still valid, the
    // untimestamped signature passes: the rule is about time, not the file.
    let p = policy("trust.json");
    let sig = std::fs::read(fixtures().join("sigs/expired-nots.der")).unwrap();
    let mut blob = std::fs::File::open(fixtures().join("blobs/fw.bin")).unwrap();
    let limits = Limits::default();
    let req = VerifyRequest {
        policy: &p,
        vendor: "acme",
        component: "acme-wifi-fw",
        version: "1.5.0",
        signature: &sig,
        time: OffsetDateTime::parse("2026-02-15T00:00:00Z", &Rfc3339).unwrap(),
        limits: &limits,
        cache: None,
        existed_at: None,
    };
    assert_eq!(
        verify_cms(&req, &mut blob).unwrap().verdict,
        Verdict::Accept
    );
}

#[test]
fn default_signature_is_found_next_to_the_blob() {
    let dir = tempdir();
    std::fs::copy(fixtures().join("blobs/fw.bin"), dir.join("fw.bin")).unwrap();
    // No signature yet: a usage error naming the candidates.
    let out = cli()
        .args(["verify", "--trust"])
        .arg(fixtures().join("trust.json"))
        .args([
            "--vendor",
            "acme",
            "--component",
            "acme-wifi-fw",
            "--version",
            "1.5.0",
            "--at",
            AT,
        ])
        .arg(dir.join("fw.bin"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("fw.bin.p7s"));
    for ext in ["sig", "cms", "p7s"] {
        std::fs::copy(
            fixtures().join("sigs/p256-detached.der"),
            dir.join(format!("fw.bin.{ext}")),
        )
        .unwrap();
        let out = cli()
            .args(["verify", "--trust"])
            .arg(fixtures().join("trust.json"))
            .args([
                "--vendor",
                "acme",
                "--component",
                "acme-wifi-fw",
                "--version",
                "1.5.0",
                "--at",
                AT,
                "--format",
                "json",
            ])
            .arg(dir.join("fw.bin"))
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0));
        let r: Report = serde_json::from_slice(&out.stdout).unwrap();
        assert!(r.signature.path.unwrap().ends_with(".p7s") == (ext == "p7s"));
    }
}

/// A fresh temporary directory for one test.
pub fn tempdir() -> PathBuf {
    let d = std::env::temp_dir().join(format!(
        "tollgate-test-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    ));
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[path = "corpus/hostile.rs"]
mod hostile;
#[path = "corpus/lot_and_chain.rs"]
mod lot_and_chain;
#[path = "corpus/sigstore.rs"]
mod sigstore;

fn known_digests(blob: &[u8], algs: &[inspector::digest::DigestAlgorithm]) -> Artifact<'static> {
    Artifact::Digests(inspector::digest::Digests::known(
        algs.iter().map(|a| (*a, a.hash(blob))).collect(),
        blob.len() as u64,
    ))
}

/// The registry re-verifies receipts from the blob's digests alone: on
/// every corpus case that gives the same verdict and the same failing
/// checks as verifying the blob itself, except where digests cannot decide
/// (Ed25519 over the blob itself), which is a typed `NeedsBlob`.
#[test]
fn corpus_by_digests_agrees_with_the_blob() {
    use inspector::digest::DigestAlgorithm::*;
    let mut needs_blob = Vec::new();
    for c in cases() {
        let p = policy(c.trust);
        let sig = std::fs::read(fixtures().join("sigs").join(c.sig)).unwrap();
        let blob = std::fs::read(fixtures().join("blobs").join(c.blob)).unwrap();
        let limits = Limits::default();
        let req = VerifyRequest {
            policy: &p,
            vendor: c.vendor,
            component: c.component,
            version: c.version,
            signature: &sig,
            time: OffsetDateTime::parse(AT, &Rfc3339).unwrap(),
            limits: &limits,
            cache: None,
            existed_at: None,
        };
        let by_blob = run_library(&c);
        match inspector::verify(&req, known_digests(&blob, &[Sha256, Sha384, Sha512])) {
            Ok(r) => {
                check_case(&c, &r);
                assert_eq!(
                    r.first_failure().map(|k| k.id),
                    by_blob.first_failure().map(|k| k.id),
                    "{}",
                    c.sig
                );
                assert_eq!(r.blob.sha256, by_blob.blob.sha256, "{}", c.sig);
            }
            Err(inspector::VerifyError::NeedsBlob(why)) => {
                assert!(why.contains("Ed25519"), "{}: {why}", c.sig);
                needs_blob.push(c.sig);
            }
            Err(e) => panic!("{}: {e}", c.sig),
        }
    }
    assert_eq!(
        needs_blob,
        vec!["ed25519.der"],
        "only Ed25519 without attributes"
    );
}

/// Digests that are not the signed blob's are refused, detached and
/// attached; a signer's digest that was not given is a typed `NeedsBlob`.
#[test]
fn wrong_or_missing_digests_are_refused() {
    use inspector::digest::DigestAlgorithm::*;
    let p = policy("trust.json");
    let blob = std::fs::read(fixtures().join("blobs").join("fw.bin")).unwrap();
    let other = std::fs::read(fixtures().join("blobs").join("other.bin")).unwrap();
    let limits = Limits::default();
    let run = |sig: &str, artifact: Artifact<'static>| {
        let sig = std::fs::read(fixtures().join("sigs").join(sig)).unwrap();
        let req = VerifyRequest {
            policy: &p,
            vendor: "acme",
            component: "acme-wifi-fw",
            version: "1.5.0",
            signature: &sig,
            time: OffsetDateTime::parse(AT, &Rfc3339).unwrap(),
            limits: &limits,
            cache: None,
            existed_at: None,
        };
        inspector::verify(&req, artifact)
    };
    let r = run("p256-detached.der", known_digests(&blob, &[Sha256])).unwrap();
    assert_eq!(r.verdict, Verdict::Accept, "{}", r.summary);
    let r = run("p256-detached.der", known_digests(&other, &[Sha256])).unwrap();
    assert_eq!(r.verdict, Verdict::Reject);
    assert_eq!(r.first_failure().unwrap().id, CheckId::SignedAttributes);
    let r = run("p256-attached.der", known_digests(&other, &[Sha256])).unwrap();
    assert_eq!(r.verdict, Verdict::Reject);
    let f = r.first_failure().unwrap();
    assert_eq!(f.id, CheckId::Content);
    assert!(f.reason.contains("attached content"), "{}", f.reason);
    match run("p384-sha384.der", known_digests(&blob, &[Sha256])) {
        Err(inspector::VerifyError::NeedsBlob(why)) => {
            assert!(why.contains("sha384"), "{why}")
        }
        other => panic!("{:?}", other.map(|r| r.summary)),
    }
    let r = run("p384-sha384.der", known_digests(&blob, &[Sha256, Sha384])).unwrap();
    assert_eq!(r.verdict, Verdict::Accept, "{}", r.summary);
    assert!(
        !r.signers[0].path.is_empty(),
        "the validated path is reported: {:?}",
        r.signers[0].path
    );
    let r = run("ed25519-attrs.der", known_digests(&blob, &[Sha256, Sha512])).unwrap();
    assert_eq!(r.verdict, Verdict::Accept, "{}", r.summary);
}

/// `tollgate-inspect verify --format json | head -1` used to panic with a
/// backtrace when the reader went away. The reader here is closed before
/// the command even starts, so every write meets a broken pipe: the
/// command must still end with its verdict's exit code, without a panic.
#[test]
fn a_closed_stdout_is_not_a_panic() {
    for (format, sig, code) in [
        ("json", "p256-detached.der", 0),
        ("text", "p256-detached.der", 0),
        ("json", "rogue.der", 1),
    ] {
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let out = cli()
            .args([
                "verify",
                "--trust",
                fixtures().join("trust.json").to_str().unwrap(),
                "--vendor",
                "acme",
                "--component",
                "acme-wifi-fw",
                "--version",
                "1.5.0",
                "--at",
                AT,
                "--format",
                format,
                "--signature",
                fixtures().join("sigs").join(sig).to_str().unwrap(),
                fixtures().join("blobs/fw.bin").to_str().unwrap(),
            ])
            .stdout(writer)
            .stderr(std::process::Stdio::piped())
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!err.contains("panicked"), "{format} {sig}: {err}");
        assert_eq!(out.status.code(), Some(code), "{format} {sig}: {err}");
    }
}

/// The reference trust policy as JSON, to edit in a test.
fn trust_doc() -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(fixtures().join("trust.json")).unwrap()).unwrap()
}

/// Resolves an edited policy document (the error as text).
fn policy_of(doc: &serde_json::Value) -> Result<TrustPolicy, String> {
    TrustPolicy::from_json(&serde_json::to_vec(doc).unwrap(), &mut Files(fixtures()))
        .map_err(|e| e.to_string())
}

/// Verifies `fw.bin` with the signature file `sig` as acme's
/// acme-wifi-fw 1.5.0 under `p`, at the corpus time.
fn verify_fw(p: &TrustPolicy, sig: &str) -> Report {
    let sig = std::fs::read(fixtures().join("sigs").join(sig)).unwrap();
    let mut blob = std::fs::File::open(fixtures().join("blobs/fw.bin")).unwrap();
    let limits = Limits::default();
    let req = VerifyRequest {
        policy: p,
        vendor: "acme",
        component: "acme-wifi-fw",
        version: "1.5.0",
        signature: &sig,
        time: OffsetDateTime::parse(AT, &Rfc3339).unwrap(),
        limits: &limits,
        cache: None,
        existed_at: None,
    };
    inspector::verify(&req, Artifact::Reader(&mut blob)).unwrap()
}

/// Issue 15: revocations apply to every certificate of the TSA's path at
/// genTime. A revoked TSA's token is not trusted, so it can no longer
/// backdate a signature past the signer's own revocation.
#[test]
fn a_revoked_tsa_vouches_for_nothing() {
    let run = |revocation: Option<serde_json::Value>, sig: &str| {
        let mut doc = trust_doc();
        if let Some(r) = revocation {
            doc["revocations"].as_array_mut().unwrap().push(r);
        }
        let p = policy_of(&doc).unwrap();
        verify_fw(&p, sig)
    };
    let tsa = |date: Option<&str>| {
        let mut r = serde_json::json!({"certificate": "certs/tsa.pem", "reason": "keyCompromise"});
        if let Some(d) = date {
            r["invalidity_date"] = d.into();
        }
        Some(r)
    };
    // Not revoked, and revoked only after the token's genTime (2026-06-15): trusted.
    for revocation in [None, tsa(Some("2026-07-01T00:00:00Z"))] {
        let r = run(revocation, "ts-good.der");
        assert_eq!(r.verdict, Verdict::Accept, "{}", r.summary);
        assert_eq!(r.outcome_of(CheckId::Timestamp), Some(Outcome::Pass));
    }
    // Revoked for all time, from before genTime, or its issuing CA: not trusted.
    for (revocation, what) in [
        (tsa(None), "TSA certificate"),
        (tsa(Some("2026-06-01T00:00:00Z")), "TSA certificate"),
        (
            Some(
                serde_json::json!({"certificate": "certs/tsa-root.pem", "reason": "cACompromise"}),
            ),
            "TSA's issuing CA",
        ),
    ] {
        let r = run(revocation, "ts-good.der");
        assert_eq!(r.verdict, Verdict::Reject);
        let f = r.first_failure().unwrap();
        assert_eq!(f.id, CheckId::Timestamp, "{}", f.reason);
        assert!(
            f.reason.contains("is not trusted") && f.reason.contains(what),
            "{}",
            f.reason
        );
    }
    // The signer old-signer is compromised from 2026-08-16; its token from
    // 2026-06-15 excuses it only while the TSA is trusted.
    let r = run(None, "revoked-ts-before.der");
    assert_eq!(r.verdict, Verdict::Accept, "{}", r.summary);
    let r = run(tsa(None), "revoked-ts-before.der");
    assert_eq!(r.verdict, Verdict::Reject);
    assert_eq!(
        r.outcome_of(CheckId::Revocation),
        Some(Outcome::Fail),
        "{}",
        r.summary
    );
}

/// Issue 15: a root re-issued with the same name and key (rollover; made
/// by gen-rollover.sh) registered next to the current one: the issue valid
/// at the signing time is used, whatever the order. Alone, the expired
/// issue is refused.
#[test]
fn among_rolled_over_anchors_the_valid_one_is_used() {
    let run = |anchors: &[&str]| {
        let mut doc = trust_doc();
        for v in doc["vendors"].as_array_mut().unwrap() {
            if v["id"] == "acme" {
                v["anchors"] = serde_json::json!(anchors);
            }
        }
        let p = policy_of(&doc).unwrap();
        verify_fw(&p, "p256-detached.der")
    };
    for anchors in [
        ["certs/acme-root-2024.pem", "certs/acme-root.pem"],
        ["certs/acme-root.pem", "certs/acme-root-2024.pem"],
    ] {
        let r = run(&anchors);
        assert_eq!(r.verdict, Verdict::Accept, "{anchors:?}: {}", r.summary);
    }
    let r = run(&["certs/acme-root-2024.pem"]);
    assert_eq!(r.verdict, Verdict::Reject);
    let f = r.first_failure().unwrap();
    assert_eq!(f.id, CheckId::Chain, "{}", f.reason);
    assert!(f.reason.contains("expired"), "{}", f.reason);
}

/// Acme's policy with its contract fields set (`contract_ends`,
/// `policy.key_algorithms`, …) from `edit`.
fn acme_contract(edit: serde_json::Value) -> TrustPolicy {
    let mut doc = trust_doc();
    for v in doc["vendors"].as_array_mut().unwrap() {
        if v["id"] == "acme" {
            for (k, val) in edit.as_object().unwrap() {
                if k == "key_algorithms" {
                    v["policy"]["key_algorithms"] = val.clone();
                } else {
                    v[k] = val.clone();
                }
            }
        }
    }
    policy_of(&doc).unwrap()
}

/// The `contract` check of the first signer.
fn contract_of(r: &Report) -> inspector::report::Check {
    r.signers[0]
        .checks
        .iter()
        .find(|c| c.id == CheckId::Contract)
        .cloned()
        .expect("a contract check")
}

/// Issue 11: the contract's end is enforced at the signature's trusted
/// time: an untimestamped signature is judged at the verification time
/// (2026-10-01), so a contract that ended before then rejects it with the
/// clause named; one that ends later accepts it.
#[test]
fn nothing_signed_after_the_vendors_contract_ends_is_accepted() {
    let r = verify_fw(
        &acme_contract(
            serde_json::json!({"contract_ends": "2026-12-31T00:00:00Z", "contract_ref": "C-7"}),
        ),
        "p256-detached.der",
    );
    assert_eq!(r.verdict, Verdict::Accept, "{}", r.summary);
    let c = contract_of(&r);
    assert_eq!(c.outcome, Outcome::Pass);
    assert!(
        c.reason.contains("C-7") && c.reason.contains("ends 2026-12-31"),
        "{}",
        c.reason
    );
    let r = verify_fw(
        &acme_contract(
            serde_json::json!({"contract_ends": "2026-09-01T00:00:00Z", "contract_ref": "C-7"}),
        ),
        "p256-detached.der",
    );
    assert_eq!(r.verdict, Verdict::Reject);
    let f = r.first_failure().unwrap();
    assert_eq!(f.id, CheckId::Contract);
    assert!(
        f.reason.contains("clause 'contract end'")
            && f.reason.contains("C-7")
            && f.reason.contains("contract ended 2026-09-01")
            && f.reason.contains("no trusted signing time"),
        "{}",
        f.reason
    );
}

/// Issue 11: a signature timestamped (2026-06-15) while the contract ran is
/// still accepted after the contract ended (2026-09-01); one timestamped
/// after the end is not (the contract ending the day before the token).
#[test]
fn a_signature_timestamped_within_the_contract_outlives_it() {
    let r = verify_fw(
        &acme_contract(serde_json::json!({"contract_ends": "2026-09-01T00:00:00Z"})),
        "ts-good.der",
    );
    assert_eq!(r.verdict, Verdict::Accept, "{}", r.summary);
    assert_eq!(contract_of(&r).outcome, Outcome::Pass);
    let r = verify_fw(
        &acme_contract(serde_json::json!({"contract_ends": "2026-06-14T00:00:00Z"})),
        "ts-good.der",
    );
    assert_eq!(r.verdict, Verdict::Reject);
    let c = contract_of(&r);
    assert_eq!(c.outcome, Outcome::Fail);
    assert!(
        c.reason.contains("2026-06-15") && c.reason.contains("its trusted signing time"),
        "{}",
        c.reason
    );
}

/// Issue 11: the contract's allowed key algorithms: a P-256 signer is
/// accepted when `ecdsa-p256` is listed (or nothing is) and rejected, with
/// the clause named, when only RSA and P-384 are; an RSA signer passes the
/// RSA-only contract.
#[test]
fn the_contracts_key_algorithms_are_enforced() {
    for (list, sig, accept) in [
        (serde_json::json!([]), "p256-detached.der", true),
        (serde_json::json!(["ecdsa-p256"]), "p256-detached.der", true),
        (
            serde_json::json!(["rsa", "ecdsa-p384"]),
            "p256-detached.der",
            false,
        ),
        (serde_json::json!(["rsa"]), "rsa-pkcs1-sha256.der", true),
        (
            serde_json::json!(["ecdsa-p256"]),
            "rsa-pkcs1-sha256.der",
            false,
        ),
    ] {
        let r = verify_fw(
            &acme_contract(serde_json::json!({"key_algorithms": list})),
            sig,
        );
        let c = contract_of(&r);
        if accept {
            assert_eq!(r.verdict, Verdict::Accept, "{list} {sig}: {}", r.summary);
            assert_eq!(c.outcome, Outcome::Pass);
        } else {
            assert_eq!(r.verdict, Verdict::Reject, "{list} {sig}");
            assert_eq!(c.outcome, Outcome::Fail);
            assert!(
                c.reason.contains("clause 'allowed key algorithms'"),
                "{}",
                c.reason
            );
            assert_eq!(r.first_failure().unwrap().id, CheckId::Contract);
        }
    }
    let doc = {
        let mut d = trust_doc();
        d["vendors"][0]["policy"]["key_algorithms"] = serde_json::json!(["dsa"]);
        d
    };
    let e = policy_of(&doc).unwrap_err();
    assert!(
        e.contains("key_algorithms[0]") && e.contains("unknown key algorithm 'dsa'"),
        "{e}"
    );
}

/// Issue 11: the support period is reported (component override first),
/// not enforced: support that ended does not reject a valid signature.
#[test]
fn the_support_period_is_reported_not_enforced() {
    let mut doc = trust_doc();
    for v in doc["vendors"].as_array_mut().unwrap() {
        if v["id"] == "acme" {
            v["support_ends"] = "2026-01-01T00:00:00Z".into();
            for c in v["components"].as_array_mut().unwrap() {
                if c["name"] == "acme-wifi-fw" {
                    c["support_ends"] = "2030-06-30T00:00:00Z".into();
                }
            }
        }
    }
    let r = verify_fw(&policy_of(&doc).unwrap(), "p256-detached.der");
    assert_eq!(r.verdict, Verdict::Accept, "{}", r.summary);
    let c = contract_of(&r);
    assert!(
        c.reason.contains("support until 2030-06-30"),
        "{}",
        c.reason
    );
    doc["vendors"][0]["support_ends"] = "not a time".into();
    assert!(policy_of(&doc).unwrap_err().contains("support_ends"));
}

/// Issue 11: signers bound to components. With an allowed-signer list on
/// the component, only those signers are accepted for it (by subject RDN
/// set or SPKI SHA-256); without one, any key of the vendor (skipped check).
#[test]
fn a_component_accepts_only_its_allowed_signers() {
    let spki = |file: &str| {
        let pem = std::fs::read(fixtures().join("certs").join(file)).unwrap();
        let c = inspector::cert::certificates_from_bytes(&pem)
            .unwrap()
            .remove(0);
        inspector::digest::hex(&inspector::digest::DigestAlgorithm::Sha256.hash(&c.spki_der()))
    };
    let run = |allowed: serde_json::Value, sig: &str| {
        let mut doc = trust_doc();
        for v in doc["vendors"].as_array_mut().unwrap() {
            for c in v["components"].as_array_mut().unwrap() {
                if c["name"] == "acme-wifi-fw" {
                    c["allowed_signers"] = allowed.clone();
                }
            }
        }
        let p = policy_of(&doc)?;
        Ok::<_, String>(verify_fw(&p, sig))
    };
    let by_subject = serde_json::json!([{"subject": "O=Acme Chips, CN=Acme WiFi FW Signer P-256"}]);
    let r = run(by_subject.clone(), "p256-detached.der").unwrap();
    assert_eq!(r.verdict, Verdict::Accept, "{}", r.summary);
    assert_eq!(r.outcome_of(CheckId::SignerIdentity), Some(Outcome::Pass));
    let r = run(by_subject, "p384-sha384.der").unwrap();
    assert_eq!(r.verdict, Verdict::Reject);
    let f = r.first_failure().unwrap();
    assert_eq!(f.id, CheckId::SignerIdentity, "{}", f.reason);
    assert!(
        f.reason.contains("may not sign component 'acme-wifi-fw'"),
        "{}",
        f.reason
    );
    let by_key = serde_json::json!([{"spki_sha256": spki("acme-signer-p384.pem")}]);
    assert_eq!(
        run(by_key.clone(), "p384-sha384.der").unwrap().verdict,
        Verdict::Accept
    );
    assert_eq!(
        run(by_key, "p256-detached.der").unwrap().verdict,
        Verdict::Reject
    );
    // No list: any of the vendor's keys, and the report says so.
    let r = run(serde_json::json!([]), "p384-sha384.der").unwrap();
    assert_eq!(r.verdict, Verdict::Accept);
    assert_eq!(r.outcome_of(CheckId::SignerIdentity), Some(Outcome::Skip));
    // Malformed lists are refused with the field named.
    for bad in [
        serde_json::json!([{"subject": "CN=x", "spki_sha256": "00"}]),
        serde_json::json!([{"subject": "no equals sign"}]),
        serde_json::json!([{"spki_sha256": "abcd"}]),
    ] {
        let e = run(bad, "p256-detached.der").unwrap_err();
        assert!(e.contains("allowed_signers[0]"), "{e}");
    }
}

/// Issue 14, item 1: the `version-binding` check. A vendor-signed SBOM
/// binding `fw.bin` to acme-wifi-fw 1.5.0: the claim 1.5.0 passes with
/// the version source named; 7.0.0 is rejected naming the SBOM; a binding
/// to another component rejects; without a binding the version is
/// claimed (skip), and refused when the vendor requires signed SBOMs.
#[test]
fn versions_bound_by_a_vendor_signed_sbom() {
    use inspector::digest::{DigestAlgorithm, hex};
    let fw = std::fs::read(fixtures().join("blobs/fw.bin")).unwrap();
    let sha = hex(&DigestAlgorithm::Sha256.hash(&fw));
    let run = |bindings: serde_json::Value, require: bool, version: &str| {
        let mut doc = trust_doc();
        doc["sbom_bindings"] = bindings;
        for v in doc["vendors"].as_array_mut().unwrap() {
            if v["id"] == "acme" && require {
                v["require_signed_sbom"] = true.into();
            }
        }
        let p = policy_of(&doc).unwrap();
        let sig = std::fs::read(fixtures().join("sigs/p256-detached.der")).unwrap();
        let limits = Limits::default();
        let req = VerifyRequest {
            policy: &p,
            vendor: "acme",
            component: "acme-wifi-fw",
            version,
            signature: &sig,
            time: OffsetDateTime::parse(AT, &Rfc3339).unwrap(),
            limits: &limits,
            cache: None,
            existed_at: None,
        };
        inspector::verify(&req, Artifact::Reader(&mut std::io::Cursor::new(&fw))).unwrap()
    };
    let binding = |component: &str, version: &str| serde_json::json!([{"vendor": "acme", "component": component, "version": version, "sbom": "urn:uuid:1", "sha256": sha}]);
    let binding_check = |r: &Report| {
        r.checks
            .iter()
            .find(|c| c.id == CheckId::VersionBinding)
            .cloned()
            .unwrap()
    };
    let r = run(binding("acme-wifi-fw", "1.5.0"), false, "1.5.0");
    assert_eq!(r.verdict, Verdict::Accept, "{}", r.summary);
    assert_eq!(binding_check(&r).outcome, Outcome::Pass);
    assert_eq!(
        r.version_source.as_deref(),
        Some("vendor-signed SBOM urn:uuid:1")
    );
    let r = run(binding("acme-wifi-fw", "1.5.0"), false, "7.0.0");
    assert_eq!(r.verdict, Verdict::Reject);
    let c = binding_check(&r);
    assert_eq!(c.outcome, Outcome::Fail);
    assert!(
        c.reason.contains("contradicts") && c.reason.contains("urn:uuid:1"),
        "{}",
        c.reason
    );
    let r = run(binding("acme-bootrom-patch", "1.5.0"), false, "1.5.0");
    assert_eq!(r.verdict, Verdict::Reject);
    assert!(
        binding_check(&r)
            .reason
            .contains("as component 'acme-bootrom-patch'")
    );
    let r = run(serde_json::json!([]), false, "1.5.0");
    assert_eq!(r.verdict, Verdict::Accept);
    assert_eq!(binding_check(&r).outcome, Outcome::Skip);
    assert_eq!(
        r.version_source.as_deref(),
        Some("claimed by the inspector")
    );
    let r = run(serde_json::json!([]), true, "1.5.0");
    assert_eq!(r.verdict, Verdict::Reject);
    assert!(binding_check(&r).reason.contains("must bind its versions"));
    let r = run(binding("acme-wifi-fw", "1.5.0"), true, "1.5.0");
    assert_eq!(r.verdict, Verdict::Accept, "{}", r.summary);
    // Malformed bindings are refused when the policy is loaded.
    let mut doc = trust_doc();
    doc["sbom_bindings"] = serde_json::json!([{"vendor": "acme", "component": "c", "version": "1", "sbom": "s", "sha256": "zz"}]);
    assert!(
        policy_of(&doc)
            .unwrap_err()
            .contains("sbom_bindings[0].sha256")
    );
    doc["sbom_bindings"] =
        serde_json::json!([{"vendor": "acme", "component": "c", "version": "1", "sbom": "s"}]);
    assert!(policy_of(&doc).unwrap_err().contains("at least one digest"));
}

/// Issue 14, item 2: RFC 4108 firmware packages (made by BouncyCastle,
/// gen-firmware-packages.sh). The package OID registered for acme-wifi-fw
/// and the signed version number 7 give acme-wifi-fw 7.0.0, with the
/// version source named; another claimed version, another component's
/// OID, an unregistered OID and a package at or below its own stale
/// version are rejected, naming why.
#[test]
fn rfc4108_firmware_packages_name_their_component_and_version() {
    const PKG: &str = "1.3.6.1.4.1.32473.1.1";
    let run = |oids: &[(&str, &str)], sig: &str, component: &str, version: &str| {
        let mut doc = trust_doc();
        for v in doc["vendors"].as_array_mut().unwrap() {
            if v["id"] == "acme" {
                for c in v["components"].as_array_mut().unwrap() {
                    if let Some((_, oid)) = oids.iter().find(|(n, _)| c["name"] == *n) {
                        c["firmware_package_oid"] = (*oid).into();
                    }
                }
            }
        }
        let p = policy_of(&doc).unwrap();
        let sig = std::fs::read(fixtures().join("sigs").join(sig)).unwrap();
        let mut blob = std::fs::File::open(fixtures().join("blobs/fw.bin")).unwrap();
        let limits = Limits::default();
        let req = VerifyRequest {
            policy: &p,
            vendor: "acme",
            component,
            version,
            signature: &sig,
            time: OffsetDateTime::parse(AT, &Rfc3339).unwrap(),
            limits: &limits,
            cache: None,
            existed_at: None,
        };
        inspector::verify(&req, Artifact::Reader(&mut blob)).unwrap()
    };
    let package_check = |r: &Report| {
        r.checks
            .iter()
            .find(|c| c.id == CheckId::FirmwarePackage)
            .cloned()
            .unwrap()
    };
    let wifi = [("acme-wifi-fw", PKG)];
    let r = run(&wifi, "fwpkg-v7-stale5.der", "acme-wifi-fw", "7.0.0");
    assert_eq!(r.verdict, Verdict::Accept, "{}", r.summary);
    let c = package_check(&r);
    assert!(
        c.reason.contains("stale") && c.reason.contains("1.3.6.1.4.1.32473.2.1"),
        "{}",
        c.reason
    );
    assert_eq!(
        r.version_source.as_deref(),
        Some("vendor-signed firmware package identifier 1.3.6.1.4.1.32473.1.1 version 7")
    );
    let r = run(&wifi, "fwpkg-v7.der", "acme-wifi-fw", "7.0.0");
    assert_eq!(r.verdict, Verdict::Accept, "{}", r.summary);
    for (oids, sig, component, version, why) in [
        (
            &wifi[..],
            "fwpkg-v7.der",
            "acme-wifi-fw",
            "7.0.1",
            "not the claimed 7.0.1",
        ),
        (
            &wifi[..],
            "fwpkg-v4-stale5.der",
            "acme-wifi-fw",
            "4.0.0",
            "declares itself stale",
        ),
        (
            &wifi[..],
            "fwpkg-other-oid.der",
            "acme-wifi-fw",
            "7.0.0",
            "not registered for any component",
        ),
        (
            &[][..],
            "fwpkg-v7.der",
            "acme-wifi-fw",
            "7.0.0",
            "not registered for any component",
        ),
        (
            &[("acme-bootrom-patch", PKG)][..],
            "fwpkg-v7.der",
            "acme-wifi-fw",
            "7.0.0",
            "is component 'acme-bootrom-patch'",
        ),
    ] {
        let r = run(oids, sig, component, version);
        assert_eq!(r.verdict, Verdict::Reject, "{sig} {version}");
        let c = package_check(&r);
        assert_eq!(c.outcome, Outcome::Fail);
        assert!(c.reason.contains(why), "{sig}: {}", c.reason);
    }
    // An ordinary id-data signature carries no package check.
    let r = run(&wifi, "p256-attached.der", "acme-wifi-fw", "1.5.0");
    assert_eq!(r.verdict, Verdict::Accept, "{}", r.summary);
    assert!(r.checks.iter().all(|c| c.id != CheckId::FirmwarePackage));
    // A malformed OID is refused when the policy is loaded.
    let mut doc = trust_doc();
    doc["vendors"][0]["components"][0]["firmware_package_oid"] = "not.an.oid".into();
    assert!(
        policy_of(&doc)
            .unwrap_err()
            .contains("firmware_package_oid")
    );
}
