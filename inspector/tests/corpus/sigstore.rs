//! Sigstore: real public bundles (tests/fixtures/sigstore/PROVENANCE.md)
//! accepted for their vendor, rejected under a wrong identity, and rejected
//! when altered.

use super::*;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use inspector::digest::DigestAlgorithm;
use inspector::sigstore::SigstoreArtifact;

fn sfix() -> PathBuf {
    fixtures().join("../sigstore")
}

fn spolicy() -> TrustPolicy {
    spolicy_with(|_| {})
}

/// The fixture policy, edited as JSON first.
fn spolicy_with(edit: impl FnOnce(&mut serde_json::Value)) -> TrustPolicy {
    let mut v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(sfix().join("trust.json")).unwrap()).unwrap();
    edit(&mut v);
    TrustPolicy::from_json(&serde_json::to_vec(&v).unwrap(), &mut Files(sfix())).unwrap()
}

enum Art {
    Blob(&'static str),
    Digest(DigestAlgorithm, &'static str),
}

struct SCase {
    bundle: &'static str,
    vendor: &'static str,
    component: &'static str,
    version: &'static str,
    art: Art,
    /// The vendor whose identity it is *not* (for the wrong-identity run).
    wrong_vendor: &'static str,
}

const SHA256_WHL: &str = "c4e92e9ecc828bef2aa7dba1de8ac983511f7532a0df11c770d39099a25cf201";
const SHA512_SIGJS: &str = "46d4e2f74c4877316640000a6fdf8a8b59f1e0847667973e9859f774dd31b8f1e0937813b777fb66a2ac67d50540fe34640966eee9fc2ccca387082b4c85cd3c";
const SHA256_OTHERNAME: &str = "bc103b4a84971ef6459b294a2b98568a2bfb72cded09d4acd1e16366a401f95b";
const SHA512_DSSE: &str = "bbfd372fc9beeb777fe35d05bb10c0c70a9733d366a75fed7dd18866c7391de3ee7e88ba74dd47abf3e15c845e547fcf0e5c3da80854c751554224d3a6d4e55f";

fn scases() -> Vec<SCase> {
    vec![
        SCase {
            bundle: "cosign-v3-blob.sigstore.json",
            vendor: "vollprecht",
            component: "sensor-fw",
            version: "1.2.0",
            art: Art::Blob("cosign-v3-blob.txt"),
            wrong_vendor: "dehamer",
        },
        SCase {
            bundle: "bundle_v3_github.whl.sigstore",
            vendor: "trailofbits",
            component: "rfc8785-wheel",
            version: "0.1.2",
            art: Art::Digest(DigestAlgorithm::Sha256, SHA256_WHL),
            wrong_vendor: "sigstore-js",
        },
        SCase {
            bundle: "sigstore.js@2.0.0-provenance.sigstore.json",
            vendor: "sigstore-js",
            component: "sigstore-npm",
            version: "2.0.0",
            art: Art::Digest(DigestAlgorithm::Sha512, SHA512_SIGJS),
            wrong_vendor: "trailofbits",
        },
        SCase {
            bundle: "dsse.sigstore.json",
            vendor: "dehamer",
            component: "test-artifact",
            version: "1.0.0",
            art: Art::Digest(DigestAlgorithm::Sha512, SHA512_DSSE),
            wrong_vendor: "vollprecht",
        },
        SCase {
            bundle: "conda-attestation.sigstore.json",
            vendor: "prefix",
            component: "signed-package",
            version: "2.1.0",
            art: Art::Blob("signed-package-2.1.0-hb0f4dca_0.conda"),
            wrong_vendor: "trailofbits",
        },
        SCase {
            bundle: "managed-key.sigstore.json",
            vendor: "keyco",
            component: "keyco-fw",
            version: "1.0.0",
            art: Art::Blob("managed-key-artifact.txt"),
            wrong_vendor: "vollprecht",
        },
        // A private deployment whose Fulcio puts the identity in an
        // OtherName SAN (1.3.6.1.4.1.57264.1.7, sigstore-go test data).
        SCase {
            bundle: "othername.sigstore.json",
            vendor: "oidclocal",
            component: "local-fw",
            version: "1.0.0",
            art: Art::Digest(DigestAlgorithm::Sha256, SHA256_OTHERNAME),
            wrong_vendor: "vollprecht",
        },
    ]
}

fn run_s(
    p: &TrustPolicy,
    bundle: &[u8],
    vendor: &str,
    component: &str,
    version: &str,
    art: &Art,
) -> Report {
    let limits = Limits::default();
    let req = VerifyRequest {
        policy: p,
        vendor,
        component,
        version,
        signature: bundle,
        time: OffsetDateTime::parse(AT, &Rfc3339).unwrap(),
        limits: &limits,
        cache: None,
        existed_at: None,
    };
    match art {
        Art::Blob(name) => {
            let mut f = std::fs::File::open(sfix().join(name)).unwrap();
            // Through the one entry point, which recognises the bundle.
            inspector::verify(&req, SigstoreArtifact::Reader(&mut f)).unwrap()
        }
        Art::Digest(alg, hexv) => {
            let value = inspector::policy::parse_hex(hexv).unwrap();
            inspector::verify(
                &req,
                SigstoreArtifact::Digest {
                    algorithm: *alg,
                    value,
                },
            )
            .unwrap()
        }
    }
}

fn failing(r: &Report) -> Vec<(CheckId, String)> {
    r.all_checks()
        .filter(|c| c.outcome == Outcome::Fail)
        .map(|c| (c.id, c.reason.clone()))
        .collect()
}

#[test]
fn real_bundles_are_accepted_for_their_vendor_and_rejected_for_another() {
    let p = spolicy();
    let mut versions = std::collections::BTreeSet::new();
    for c in scases() {
        let bundle = std::fs::read(sfix().join(c.bundle)).unwrap();
        let r = run_s(&p, &bundle, c.vendor, c.component, c.version, &c.art);
        assert_eq!(
            r.verdict,
            Verdict::Accept,
            "{}: {:#?}",
            c.bundle,
            failing(&r)
        );
        assert_eq!(r.signature.kind, "sigstore");
        versions.insert(r.signature.encoding.clone().unwrap());
        for id in [
            CheckId::Signature,
            CheckId::TransparencyLog,
            CheckId::Identity,
            CheckId::Timestamp,
        ] {
            assert_eq!(
                r.outcome_of(id),
                Some(Outcome::Pass),
                "{}: {id:?}",
                c.bundle
            );
        }
        // The same bundle claimed for another vendor: the identity check fails.
        let wrong = p.vendor(c.wrong_vendor).unwrap();
        let comp = wrong.components[0].name.clone();
        let r = run_s(&p, &bundle, c.wrong_vendor, &comp, "9.9.9", &c.art);
        assert_eq!(
            r.verdict,
            Verdict::Reject,
            "{} must be rejected for {}",
            c.bundle,
            c.wrong_vendor
        );
        let f = failing(&r);
        assert!(
            f.iter().any(|(id, reason)| *id == CheckId::Identity
                && (reason.contains("is not an identity of vendor")
                    || reason.contains("has no Sigstore"))),
            "{}: {f:#?}",
            c.bundle
        );
    }
    assert_eq!(
        versions.into_iter().collect::<Vec<_>>(),
        vec!["v0.1", "v0.2", "v0.3"]
    );
}

#[test]
fn regex_identities_are_anchored_at_both_ends() {
    use inspector::sigstore_trust::SigstoreIdentity;
    let i = SigstoreIdentity::new("https://issuer", None, Some("https://github\\.com/acme/.*"))
        .unwrap();
    assert!(i.matches(
        "https://github.com/acme/fw/.github/workflows/release.yml@refs/heads/main",
        "https://issuer"
    ));
    assert!(
        !i.matches(
            "https://evil.example/https://github.com/acme/x",
            "https://issuer"
        ),
        "must be anchored at the start"
    );
    assert!(
        !i.matches("https://github.com/acme/x", "https://other-issuer"),
        "issuer must match exactly"
    );
    let j = SigstoreIdentity::new("https://issuer", None, Some("a|b")).unwrap();
    assert!(j.matches("a", "https://issuer") && j.matches("b", "https://issuer"));
    assert!(
        !j.matches("ab", "https://issuer") && !j.matches("xa", "https://issuer"),
        "alternation must stay anchored"
    );
    assert!(SigstoreIdentity::new("https://issuer", None, Some("(")).is_err());
    assert!(SigstoreIdentity::new("https://issuer", Some("x"), Some("y")).is_err());
    assert!(SigstoreIdentity::new("", Some("x"), None).is_err());
}

/// Issue 11: a pattern any signer could satisfy is refused: `.*`, `.+`,
/// and open prefixes of namespaces anyone can register in.
#[test]
fn identity_patterns_that_accept_anyone_are_refused() {
    use inspector::sigstore_trust::{SigstoreIdentity, SigstoreTrustError};
    for pattern in [
        ".*",
        ".+",
        "https://github\\.com/.*",
        "https://.*",
        ".*@gmail\\.com",
        "[^@]+@[a-z.]+",
    ] {
        match SigstoreIdentity::new("https://issuer", None, Some(pattern)) {
            Err(SigstoreTrustError::MatchesAnyone { example, .. }) => {
                assert!(!example.is_empty(), "{pattern}")
            }
            other => panic!("{pattern}: {:?}", other.map(|i| i.describe())),
        }
    }
    for pattern in [
        "https://github\\.com/acme/.*",
        "https://github\\.com/acme/fw/\\.github/workflows/release\\.yml@refs/tags/v[0-9.]+",
        "release@acme\\.example",
    ] {
        assert!(
            SigstoreIdentity::new("https://issuer", None, Some(pattern)).is_ok(),
            "{pattern}"
        );
    }
}

fn flip_b64(v: &mut serde_json::Value) {
    let mut bytes = B64.decode(v.as_str().unwrap()).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x01;
    *v = B64.encode(bytes).into();
}

/// Alters a real bundle and expects a rejection at `expect` (or, when
/// `None`, any failing check).
fn altered(case: usize, alter: impl Fn(&mut serde_json::Value), expect: Option<CheckId>) {
    let p = spolicy();
    let c = &scases()[case];
    let mut v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(sfix().join(c.bundle)).unwrap()).unwrap();
    alter(&mut v);
    let r = run_s(
        &p,
        &serde_json::to_vec(&v).unwrap(),
        c.vendor,
        c.component,
        c.version,
        &c.art,
    );
    assert_eq!(
        r.verdict,
        Verdict::Reject,
        "altered {} was accepted",
        c.bundle
    );
    let f = failing(&r);
    assert!(!f.is_empty());
    if let Some(id) = expect {
        assert!(
            f.iter().any(|(i, _)| *i == id),
            "altered {}: expected {id:?} to fail, got {f:#?}",
            c.bundle
        );
    }
}

/// A bundle must name its media type: without one (or with another) it is
/// refused at the format check, not read as v0.1.
#[test]
fn bundles_without_a_sigstore_media_type_are_rejected() {
    for alter in [
        (|v: &mut serde_json::Value| {
            v.as_object_mut().unwrap().remove("mediaType");
        }) as fn(&mut serde_json::Value),
        |v| v["mediaType"] = "application/json".into(),
        |v| v["mediaType"] = 3.into(),
    ] {
        altered(0, alter, Some(CheckId::Format));
    }
}

#[test]
fn altered_bundles_are_rejected() {
    // Signature over the artifact (message signature, and DSSE).
    altered(
        0,
        |v| flip_b64(&mut v["messageSignature"]["signature"]),
        None,
    );
    altered(
        5,
        |v| flip_b64(&mut v["messageSignature"]["signature"]),
        None,
    );
    altered(
        4,
        |v| flip_b64(&mut v["dsseEnvelope"]["signatures"][0]["sig"]),
        None,
    );
    // Log proof: an inclusion-proof hash, the checkpoint, the SET, the entry time.
    altered(
        0,
        |v| {
            flip_b64(
                &mut v["verificationMaterial"]["tlogEntries"][0]["inclusionProof"]["hashes"][0],
            )
        },
        Some(CheckId::TransparencyLog),
    );
    altered(
        0,
        |v| {
            let env = v["verificationMaterial"]["tlogEntries"][0]["inclusionProof"]["checkpoint"]["envelope"].as_str().unwrap().to_string();
            let mut lines: Vec<String> = env.lines().map(str::to_string).collect();
            lines[1] = (lines[1].parse::<u64>().unwrap() + 1).to_string();
            v["verificationMaterial"]["tlogEntries"][0]["inclusionProof"]["checkpoint"]["envelope"] =
                (lines.join("\n") + "\n").into();
        },
        Some(CheckId::TransparencyLog),
    );
    altered(
        2,
        |v| {
            flip_b64(
                &mut v["verificationMaterial"]["tlogEntries"][0]["inclusionPromise"]["signedEntryTimestamp"],
            )
        },
        None,
    );
    altered(
        1,
        |v| {
            let t: i64 = v["verificationMaterial"]["tlogEntries"][0]["integratedTime"]
                .as_str()
                .unwrap()
                .parse()
                .unwrap();
            v["verificationMaterial"]["tlogEntries"][0]["integratedTime"] =
                (t - 3600).to_string().into();
        },
        None,
    );
    // The certificate.
    altered(
        0,
        |v| flip_b64(&mut v["verificationMaterial"]["certificate"]["rawBytes"]),
        None,
    );
    // The bundle version / media type.
    altered(
        0,
        |v| v["mediaType"] = "application/vnd.dev.sigstore.bundle+json;version=0.9".into(),
        Some(CheckId::Format),
    );
    altered(
        0,
        |v| v["mediaType"] = "application/json".into(),
        Some(CheckId::Format),
    );
    // The log entry's body (it must describe this bundle).
    altered(
        5,
        |v| flip_b64(&mut v["verificationMaterial"]["tlogEntries"][0]["canonicalizedBody"]),
        None,
    );
}

#[test]
fn wrong_artifact_wrong_key_and_floors_are_rejected() {
    let p = spolicy();
    let cosign = std::fs::read(sfix().join("cosign-v3-blob.sigstore.json")).unwrap();
    // Another artifact.
    let r = run_s(
        &p,
        &cosign,
        "vollprecht",
        "sensor-fw",
        "1.2.0",
        &Art::Blob("managed-key-artifact.txt"),
    );
    assert_eq!(r.verdict, Verdict::Reject);
    assert!(
        failing(&r)
            .iter()
            .any(|(id, reason)| *id == CheckId::Content && reason.contains("does not match")),
        "{:#?}",
        failing(&r)
    );
    // A digest of the right length but wrong value.
    let r = run_s(
        &p,
        &cosign,
        "vollprecht",
        "sensor-fw",
        "1.2.0",
        &Art::Digest(DigestAlgorithm::Sha256, SHA256_WHL),
    );
    assert_eq!(r.verdict, Verdict::Reject);
    // Rollback floor applies as for CMS.
    let r = run_s(
        &p,
        &cosign,
        "vollprecht",
        "sensor-fw",
        "0.9.0",
        &Art::Blob("cosign-v3-blob.txt"),
    );
    assert_eq!(r.verdict, Verdict::Reject);
    assert!(
        failing(&r)
            .iter()
            .any(|(id, _)| *id == CheckId::VersionFloor)
    );
    // A keyed bundle under a vendor whose registered key is another one:
    // the bundle's key hint is never used.
    let other_key = std::process::Command::new("openssl")
        .args(["pkey", "-pubout", "-in"])
        .arg(fixtures().join("keys/acme-signer-p256.key"))
        .output()
        .unwrap();
    assert!(other_key.status.success());
    let p2 = spolicy_with(|doc| {
        doc["vendors"][5]["sigstore"]["keys"] =
            serde_json::json!([String::from_utf8(other_key.stdout).unwrap()]);
    });
    let keyed = std::fs::read(sfix().join("managed-key.sigstore.json")).unwrap();
    let r = run_s(
        &p2,
        &keyed,
        "keyco",
        "keyco-fw",
        "1.0.0",
        &Art::Blob("managed-key-artifact.txt"),
    );
    assert_eq!(
        r.verdict,
        Verdict::Reject,
        "a bundle signed by another key must be rejected"
    );
    // A vendor without keys.
    let r = run_s(
        &p,
        &keyed,
        "vollprecht",
        "sensor-fw",
        "1.2.0",
        &Art::Blob("managed-key-artifact.txt"),
    );
    assert!(
        failing(&r).iter().any(
            |(id, reason)| *id == CheckId::Identity && reason.contains("hint is never trusted")
        )
    );
    // No trusted roots at all.
    let p3 = spolicy_with(|v| v["sigstore_trusted_roots"] = serde_json::json!([]));
    let r = run_s(
        &p3,
        &cosign,
        "vollprecht",
        "sensor-fw",
        "1.2.0",
        &Art::Blob("cosign-v3-blob.txt"),
    );
    assert!(
        failing(&r)
            .iter()
            .any(|(_, reason)| reason.contains("no Sigstore trusted roots"))
    );
}

#[test]
fn sigstore_through_the_cli_bundle_digest_defaults_and_lots() {
    let f = sfix();
    let trust = f.join("trust.json");
    let base = |extra: &[&str]| {
        let mut c = cli();
        c.arg("verify")
            .arg("--trust")
            .arg(&trust)
            .args(["--at", AT, "--format", "json"])
            .args(extra);
        c
    };
    let out = base(&[
        "--vendor",
        "vollprecht",
        "--component",
        "sensor-fw",
        "--version",
        "1.2.0",
        "--bundle",
    ])
    .arg(f.join("cosign-v3-blob.sigstore.json"))
    .arg(f.join("cosign-v3-blob.txt"))
    .output()
    .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let r: Report = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        r.blob.sha256.as_deref(),
        Some("e194b99df6639501325c5f44da79fe3a8efae6f239bd79443a19787e06fb1764")
    );
    // --digest in place of BLOB.
    let out = base(&[
        "--vendor",
        "sigstore-js",
        "--component",
        "sigstore-npm",
        "--version",
        "2.0.0",
        "--digest",
        &format!("sha512:{SHA512_SIGJS}"),
        "--bundle",
    ])
    .arg(f.join("sigstore.js@2.0.0-provenance.sigstore.json"))
    .output()
    .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    // Bad digests and a CMS signature with --digest are usage errors.
    for d in ["sha256:abcd", "md5:00", "nonsense"] {
        let out = base(&[
            "--vendor",
            "sigstore-js",
            "--component",
            "sigstore-npm",
            "--version",
            "2.0.0",
            "--digest",
            d,
            "--bundle",
        ])
        .arg(f.join("sigstore.js@2.0.0-provenance.sigstore.json"))
        .output()
        .unwrap();
        assert_eq!(out.status.code(), Some(2), "{d}");
    }
    let out = base(&[
        "--vendor",
        "vollprecht",
        "--component",
        "sensor-fw",
        "--version",
        "1.2.0",
        "--digest",
        &format!("sha256:{SHA256_WHL}"),
        "--signature",
    ])
    .arg(fixtures().join("sigs/p256-detached.der"))
    .output()
    .unwrap();
    assert_eq!(out.status.code(), Some(2));
    // Default lookup: BLOB.sigstore.json next to the blob; and an unknown bundle version.
    let dir = tempdir();
    std::fs::copy(f.join("cosign-v3-blob.txt"), dir.join("fw.bin")).unwrap();
    std::fs::copy(
        f.join("cosign-v3-blob.sigstore.json"),
        dir.join("fw.bin.sigstore.json"),
    )
    .unwrap();
    let out = base(&[
        "--vendor",
        "vollprecht",
        "--component",
        "sensor-fw",
        "--version",
        "1.2.0",
    ])
    .arg(dir.join("fw.bin"))
    .output()
    .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = base(&[
        "--vendor",
        "vollprecht",
        "--component",
        "sensor-fw",
        "--version",
        "1.2.0",
        "--bundle",
    ])
    .arg(f.join("bundle_invalid_version.txt.sigstore"))
    .arg(dir.join("fw.bin"))
    .output()
    .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let r: Report = serde_json::from_slice(&out.stdout).unwrap();
    assert!(r.summary.contains("Invalid media type"), "{}", r.summary);
    // A lot mixing Sigstore and CMS.
    let manifest = dir.join("lot.csv");
    std::fs::write(
        &manifest,
        format!(
            "blob,signature,vendor,component,version\nfw.bin,,vollprecht,sensor-fw,1.2.0\n{m},{m}.sigstore,keyco,keyco-fw,1.0.0\n",
            m = f.join("managed-key-artifact.txt").display()
        ),
    )
    .unwrap();
    std::fs::copy(
        f.join("managed-key.sigstore.json"),
        f.join("managed-key-artifact.txt.sigstore"),
    )
    .unwrap();
    let out = cli()
        .args(["verify-lot", "--trust"])
        .arg(&trust)
        .args(["--at", AT, "--format", "json"])
        .arg(&manifest)
        .output()
        .unwrap();
    std::fs::remove_file(f.join("managed-key-artifact.txt.sigstore")).unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let lot: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(lot["accepted"], 2);
}

/// The verifier remembers successful signature checks (sigstore_memo): a
/// repeated bundle must cost exactly what the previous one cost (nothing of
/// one bundle is reused for the next but the trusted-root certificates'
/// own signatures), and remembering must never let an altered bundle through.
#[test]
fn remembered_verifications_stay_within_one_bundle() {
    use inspector::sigstore_memo::stats;
    let p = spolicy();
    for c in scases() {
        let bundle = std::fs::read(sfix().join(c.bundle)).unwrap();
        let run = || {
            let before = stats();
            let r = run_s(&p, &bundle, c.vendor, c.component, c.version, &c.art);
            assert_eq!(r.verdict, Verdict::Accept, "{}: {}", c.bundle, r.summary);
            let after = stats();
            (
                after.performed - before.performed,
                after.remembered - before.remembered,
            )
        };
        run();
        let second = run();
        let third = run();
        assert!(second.0 > 0, "{}: no signature was verified", c.bundle);
        assert_eq!(
            second, third,
            "{}: a repeated bundle reused another bundle's verifications",
            c.bundle
        );
    }
    // Keyless bundles with a timestamp re-check the certificate chain at each
    // verified time: the repetition is answered from memory.
    let cosign = std::fs::read(sfix().join("cosign-v3-blob.sigstore.json")).unwrap();
    let before = stats();
    let art = Art::Blob("cosign-v3-blob.txt");
    let r = run_s(&p, &cosign, "vollprecht", "sensor-fw", "1.2.0", &art);
    assert_eq!(r.verdict, Verdict::Accept);
    assert!(stats().remembered > before.remembered);
    // After those acceptances, altered copies are still rejected.
    for path in [
        "/messageSignature/signature",
        "/verificationMaterial/certificate/rawBytes",
    ] {
        let mut v: serde_json::Value = serde_json::from_slice(&cosign).unwrap();
        flip_b64(v.pointer_mut(path).unwrap());
        let r = run_s(
            &p,
            &serde_json::to_vec(&v).unwrap(),
            "vollprecht",
            "sensor-fw",
            "1.2.0",
            &art,
        );
        assert_eq!(r.verdict, Verdict::Reject, "altered {path} was accepted");
    }
}

/// Rekor v2 (hashedrekord 0.0.2, checkpoint only, no SET) bundles made by
/// sigstore-python on the staging instance: accepted when the policy also
/// trusts the staging root (a second, private-like instance beside
/// public-good), rejected when it does not, and rejected for a wrong identity.
#[test]
fn rekor_v2_bundles_need_their_instance_root_and_the_vendor_identity() {
    let with_staging = spolicy_with(|v| {
        v["sigstore_trusted_roots"].as_array_mut().unwrap().push(
            serde_json::json!({"name": "staging", "trusted_root": "trusted_root-staging.json"}),
        );
    });
    let without = spolicy();
    let message = std::fs::read(sfix().join("staging-rekor-v2.txt.sigstore.json")).unwrap();
    let dsse = std::fs::read(sfix().join("a.dsse.staging-rekor-v2.txt.sigstore.json")).unwrap();
    let blob = Art::Blob("staging-rekor-v2.txt");
    let subject = Art::Digest(
        DigestAlgorithm::Sha256,
        "a0cfc71271d6e278e57cd332ff957c3f7043fdda354c4cbb190a30d56efa01bf",
    );
    let cases = [
        (&message, "jku", "staging-tool", "1.0.0", &blob),
        (&dsse, "conformance", "beacon", "0.0.1", &subject),
    ];
    for (bundle, vendor, component, version, art) in cases {
        let r = run_s(&with_staging, bundle, vendor, component, version, art);
        assert_eq!(r.verdict, Verdict::Accept, "{vendor}: {:#?}", failing(&r));
        assert_eq!(r.outcome_of(CheckId::TransparencyLog), Some(Outcome::Pass));
        assert_eq!(r.outcome_of(CheckId::Chain), Some(Outcome::Pass));
        let vouched = r
            .all_checks()
            .any(|c| c.id == CheckId::Signature && c.reason.contains("trusted root 'staging'"));
        assert!(vouched, "the report names the root that vouched");

        // Without the staging root nothing vouches for its log or CA.
        let r = run_s(&without, bundle, vendor, component, version, art);
        assert_eq!(
            r.verdict,
            Verdict::Reject,
            "{vendor} accepted without its root"
        );
        assert!(
            failing(&r)
                .iter()
                .any(|(_, reason)| reason.contains("public-good")),
            "{:#?}",
            failing(&r)
        );

        // The right root, the wrong vendor.
        let other = if vendor == "jku" {
            "conformance"
        } else {
            "jku"
        };
        let comp = with_staging.vendor(other).unwrap().components[0]
            .name
            .clone();
        let r = run_s(&with_staging, bundle, other, &comp, "1.0.0", art);
        assert_eq!(r.verdict, Verdict::Reject);
        assert_eq!(r.outcome_of(CheckId::Identity), Some(Outcome::Fail));
    }
    // An altered Rekor v2 checkpoint is refused.
    let mut v: serde_json::Value = serde_json::from_slice(&message).unwrap();
    let env = v
        .pointer_mut("/verificationMaterial/tlogEntries/0/inclusionProof/checkpoint/envelope")
        .unwrap();
    let text = env.as_str().unwrap().to_string();
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    lines[1] = (lines[1].parse::<u64>().unwrap() + 1).to_string();
    *env = (lines.join("\n") + "\n").into();
    let r = run_s(
        &with_staging,
        &serde_json::to_vec(&v).unwrap(),
        "jku",
        "staging-tool",
        "1.0.0",
        &blob,
    );
    assert_eq!(r.verdict, Verdict::Reject);
    assert_eq!(
        r.outcome_of(CheckId::TransparencyLog),
        Some(Outcome::Fail),
        "{:#?}",
        failing(&r)
    );
}

/// With several trusted roots, a failure is explained by the bundle's own
/// instance (the root that lists its log), whatever the order of the roots.
#[test]
fn the_bundles_own_instance_explains_a_failure() {
    let p = spolicy_with(|v| {
        v["sigstore_trusted_roots"]
            .as_array_mut()
            .unwrap()
            .reverse();
        assert_eq!(v["sigstore_trusted_roots"][0]["name"], "github");
    });
    let c = &scases()[1]; // the v0.2 wheel bundle: public-good, SET only
    let mut b: serde_json::Value =
        serde_json::from_slice(&std::fs::read(sfix().join(c.bundle)).unwrap()).unwrap();
    flip_b64(
        b.pointer_mut("/verificationMaterial/x509CertificateChain/certificates/0/rawBytes")
            .unwrap(),
    );
    let r = run_s(
        &p,
        &serde_json::to_vec(&b).unwrap(),
        c.vendor,
        c.component,
        c.version,
        &c.art,
    );
    assert_eq!(r.verdict, Verdict::Reject);
    let f = failing(&r);
    assert_eq!(f.len(), 1, "{f:#?}");
    let (id, reason) = &f[0];
    assert_eq!(*id, CheckId::Chain, "{reason}");
    assert!(
        reason.starts_with("trusted root 'public-good': certificate chain is invalid"),
        "{reason}"
    );
    assert!(reason.contains("trusted root 'github'"), "{reason}");
}

/// Issue 11, item 4: a Sigstore identity or key revoked from an instant:
/// bundles whose trusted time is earlier still verify, later ones (and
/// every one, without a date) are rejected, like CMS invalidity dates.
#[test]
fn revoked_sigstore_identities_and_keys_are_time_scoped() {
    let base = spolicy();
    let accepted = |case: usize, p: &TrustPolicy| {
        let c = &scases()[case];
        let bundle = std::fs::read(sfix().join(c.bundle)).unwrap();
        run_s(p, &bundle, c.vendor, c.component, c.version, &c.art)
    };
    let reason_of = |r: &Report, id: CheckId| {
        r.all_checks()
            .find(|k| k.id == id)
            .map(|k| k.reason.clone())
            .unwrap()
    };
    // Keyless: the identity and trusted time of a real bundle.
    let r = accepted(0, &base);
    assert_eq!(r.verdict, Verdict::Accept, "{}", r.summary);
    let who = reason_of(&r, CheckId::Identity);
    let san = who
        .strip_prefix("signed by ")
        .and_then(|s| s.split(" (issuer ").next())
        .unwrap()
        .to_string();
    let issuer = who
        .split(" (issuer ")
        .nth(1)
        .and_then(|s| s.split(')').next())
        .unwrap()
        .to_string();
    let when = reason_of(&r, CheckId::Timestamp);
    let t = OffsetDateTime::parse(
        when.strip_prefix("verified signing time ")
            .unwrap()
            .split(' ')
            .next()
            .unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    let fmt = |t: OffsetDateTime| {
        t.format(&time::format_description::well_known::Rfc3339)
            .unwrap()
    };
    let with = |entry: serde_json::Value| {
        spolicy_with(|v| v["sigstore_revocations"] = serde_json::json!([entry]))
    };
    let identity = serde_json::json!({"issuer": issuer, "san": san});
    // Revoked after the bundle's trusted time: still verifies, noted.
    let r = accepted(
        0,
        &with(
            serde_json::json!({"identity": identity, "reason": "keyCompromise", "revoked_from": fmt(t + time::Duration::days(1))}),
        ),
    );
    assert_eq!(r.verdict, Verdict::Accept, "{}", r.summary);
    assert!(reason_of(&r, CheckId::Identity).contains("is before that"));
    // Revoked before it, or for all time: rejected.
    for entry in [
        serde_json::json!({"identity": identity, "reason": "keyCompromise", "revoked_from": fmt(t - time::Duration::days(1))}),
        serde_json::json!({"identity": identity, "reason": "keyCompromise"}),
    ] {
        let r = accepted(0, &with(entry));
        assert_eq!(r.verdict, Verdict::Reject);
        let f = failing(&r);
        assert!(
            f.iter()
                .any(|(id, why)| *id == CheckId::Identity && why.contains("is revoked")),
            "{f:#?}"
        );
    }
    // Keyed: the vendor key by its SPKI SHA-256.
    let r = accepted(5, &base);
    assert_eq!(r.verdict, Verdict::Accept, "{}", r.summary);
    let keyed = reason_of(&r, CheckId::Identity);
    let fp = keyed
        .split("SPKI SHA-256 ")
        .nth(1)
        .unwrap()
        .trim_end_matches(')')
        .to_string();
    let r = accepted(
        5,
        &with(serde_json::json!({"key_spki_sha256": fp, "reason": "superseded"})),
    );
    assert_eq!(r.verdict, Verdict::Reject);
    // A malformed entry is refused with its field.
    let mut v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(sfix().join("trust.json")).unwrap()).unwrap();
    v["sigstore_revocations"] = serde_json::json!([{"reason": "keyCompromise"}]);
    let e =
        TrustPolicy::from_json(&serde_json::to_vec(&v).unwrap(), &mut Files(sfix())).unwrap_err();
    assert!(e.to_string().contains("sigstore_revocations[0]"), "{e}");
}

/// Issue 11: the `contract` check on Sigstore bundles, keyless (the Fulcio
/// certificate's key) and keyed (the vendor key): the contract's end is
/// judged at the bundle's trusted time (the log's integrated time or the
/// RFC 3161 time), not at the verification time, and the allowed key
/// algorithms apply to the signing key.
#[test]
fn sigstore_signatures_are_held_to_the_vendors_contract() {
    let cases = scases();
    for case in cases.iter().filter(|c| {
        ["cosign-v3-blob.sigstore.json", "managed-key.sigstore.json"].contains(&c.bundle)
    }) {
        let bundle = std::fs::read(sfix().join(case.bundle)).unwrap();
        let run = |edit: &dyn Fn(&mut serde_json::Value)| {
            let p = spolicy_with(|doc| {
                for v in doc["vendors"].as_array_mut().unwrap() {
                    if v["id"] == case.vendor {
                        edit(v);
                    }
                }
            });
            run_s(
                &p,
                &bundle,
                case.vendor,
                case.component,
                case.version,
                &case.art,
            )
        };
        let contract = |r: &Report| {
            r.signers[0]
                .checks
                .iter()
                .find(|c| c.id == CheckId::Contract)
                .cloned()
                .unwrap()
        };
        let r = run(&|_| {});
        assert_eq!(r.verdict, Verdict::Accept, "{}: {}", case.bundle, r.summary);
        let signed =
            OffsetDateTime::parse(&r.signers[0].signing_time.as_ref().unwrap().time, &Rfc3339)
                .unwrap();
        let day = time::Duration::days(1);
        let at = |t: OffsetDateTime| t.format(&Rfc3339).unwrap();
        // Ends after the signing time (even if before the verification time): accepted.
        let r = run(&|v| v["contract_ends"] = at(signed + day).into());
        assert_eq!(r.verdict, Verdict::Accept, "{}: {}", case.bundle, r.summary);
        assert_eq!(contract(&r).outcome, Outcome::Pass);
        // Ended before it: rejected, the clause named.
        let r = run(&|v| v["contract_ends"] = at(signed - day).into());
        assert_eq!(r.verdict, Verdict::Reject, "{}", case.bundle);
        let c = contract(&r);
        assert_eq!(c.outcome, Outcome::Fail);
        assert!(
            c.reason.contains("clause 'contract end'")
                && c.reason.contains("its trusted signing time"),
            "{}",
            c.reason
        );
        // Key algorithms: the signing key is ECDSA P-256 in both bundles.
        let r = run(&|v| v["policy"]["key_algorithms"] = serde_json::json!(["ecdsa-p256"]));
        assert_eq!(r.verdict, Verdict::Accept, "{}: {}", case.bundle, r.summary);
        let r = run(&|v| v["policy"]["key_algorithms"] = serde_json::json!(["rsa", "ed25519"]));
        assert_eq!(r.verdict, Verdict::Reject, "{}", case.bundle);
        let c = contract(&r);
        assert!(
            c.reason.contains("clause 'allowed key algorithms'")
                && c.reason.contains("ECDSA P-256"),
            "{}",
            c.reason
        );
    }
}
