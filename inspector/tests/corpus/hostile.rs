//! Hostile input: never a panic, a hang or unbounded memory; always a
//! rejection (exit 1) or an error (exit 2) with a clear reason.

use super::*;

fn verify_bytes(sig: &[u8], blob: &[u8], limits: &Limits) -> Report {
    let p = policy("trust.json");
    let req = VerifyRequest {
        policy: &p,
        vendor: "acme",
        component: "acme-wifi-fw",
        version: "1.5.0",
        signature: sig,
        time: OffsetDateTime::parse(AT, &Rfc3339).unwrap(),
        limits,
        cache: None,
        existed_at: None,
    };
    let mut reader = blob;
    verify_cms(&req, &mut reader).unwrap()
}

fn format_failure(r: &Report) -> String {
    assert_eq!(r.verdict, Verdict::Reject);
    let c = r.checks.iter().find(|c| c.id == CheckId::Format).unwrap();
    assert_eq!(c.outcome, Outcome::Fail);
    c.reason.clone()
}

#[test]
fn empty_random_and_nested_signatures_are_rejected_with_reasons() {
    let blob = std::fs::read(fixtures().join("blobs/fw.bin")).unwrap();
    let limits = Limits::default();
    assert!(format_failure(&verify_bytes(b"", &blob, &limits)).contains("empty"));
    // Deterministic pseudo-random bytes (xorshift), starting like a SEQUENCE.
    let mut x: u64 = 0x9e3779b97f4a7c15;
    let random: Vec<u8> = std::iter::once(0x30)
        .chain((0..4096).map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        }))
        .collect();
    assert!(format_failure(&verify_bytes(&random, &blob, &limits)).contains("not a CMS"));
    // 200,000 levels of indefinite-length nesting must not overflow the stack.
    let mut nested = Vec::new();
    for _ in 0..200_000 {
        nested.extend_from_slice(&[0x30, 0x80]);
    }
    nested.extend(std::iter::repeat_n(0u8, 400_000));
    assert!(format_failure(&verify_bytes(&nested, &blob, &limits)).contains("not a CMS"));
    // PEM armour with a wrong label, and PEM garbage.
    assert!(
        format_failure(&verify_bytes(
            b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
            &blob,
            &limits
        ))
        .contains("PEM")
    );
    assert!(
        format_failure(&verify_bytes(
            b"-----BEGIN PKCS7-----\n!!!\n",
            &blob,
            &limits
        ))
        .contains("PEM")
    );
}

#[test]
fn every_truncation_of_a_good_signature_is_rejected() {
    let sig = std::fs::read(fixtures().join("sigs/p256-attached-ber.der")).unwrap();
    let blob = std::fs::read(fixtures().join("blobs/fw.bin")).unwrap();
    let limits = Limits::default();
    assert_eq!(verify_bytes(&sig, &blob, &limits).verdict, Verdict::Accept);
    for len in (0..sig.len()).step_by(13) {
        let r = verify_bytes(&sig[..len], &blob, &limits);
        assert_eq!(r.verdict, Verdict::Reject, "prefix of {len} bytes accepted");
    }
}

#[test]
fn flipped_bytes_never_panic_and_signature_bytes_always_reject() {
    let sig = std::fs::read(fixtures().join("sigs/p256-detached.der")).unwrap();
    let blob = std::fs::read(fixtures().join("blobs/fw.bin")).unwrap();
    let limits = Limits::default();
    for i in 0..sig.len() {
        let mut m = sig.clone();
        m[i] ^= 0x5a;
        let r = verify_bytes(&m, &blob, &limits);
        // The last 40 bytes are the tail of the ECDSA signature value.
        if i >= sig.len() - 40 {
            assert_eq!(r.verdict, Verdict::Reject, "flip at {i} accepted");
        }
    }
}

#[test]
fn size_limits_reject_instead_of_buffering() {
    let sig = std::fs::read(fixtures().join("sigs/p256-detached.der")).unwrap();
    let blob = std::fs::read(fixtures().join("blobs/fw.bin")).unwrap();
    let small_sig = Limits {
        max_signature_bytes: 512,
        ..Limits::default()
    };
    assert!(
        format_failure(&verify_bytes(&sig, &blob, &small_sig)).contains("over the limit of 512")
    );
    let small_blob = Limits {
        max_blob_bytes: 1000,
        ..Limits::default()
    };
    let r = verify_bytes(&sig, &blob, &small_blob);
    assert_eq!(r.verdict, Verdict::Reject);
    assert!(
        r.checks
            .iter()
            .any(|c| c.id == CheckId::Content && c.reason.contains("larger than the limit"))
    );
    let few_certs = Limits {
        max_certificates: 1,
        ..Limits::default()
    };
    assert!(format_failure(&verify_bytes(&sig, &blob, &few_certs)).contains("certificates"));
    // Ed25519 without signed attributes needs the content in memory: over
    // the limit it is a clear rejection, not an allocation.
    let ed = std::fs::read(fixtures().join("sigs/ed25519.der")).unwrap();
    let tight = Limits {
        max_unhashed_content_bytes: 1024,
        ..Limits::default()
    };
    let r = verify_bytes(&ed, &blob, &tight);
    assert_eq!(r.verdict, Verdict::Reject);
    assert!(
        r.first_failure()
            .unwrap()
            .reason
            .contains("in-memory limit")
    );
    assert_eq!(
        verify_bytes(&ed, &blob, &Limits::default()).verdict,
        Verdict::Accept
    );
}

fn verify_cli(blob: &Path, sig: &Path, trust: &Path) -> std::process::Output {
    cli()
        .args(["verify", "--trust"])
        .arg(trust)
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
        .arg(sig)
        .arg(blob)
        .output()
        .unwrap()
}

#[test]
fn blobs_that_are_not_regular_files_are_refused() {
    let f = fixtures();
    let sig = f.join("sigs/p256-detached.der");
    let trust = f.join("trust.json");
    for (blob, text) in [
        (f.join("blobs"), "not a regular file"),
        (PathBuf::from("/dev/zero"), "not a regular file"),
        (f.join("blobs/does-not-exist.bin"), "cannot open"),
    ] {
        let out = verify_cli(&blob, &sig, &trust);
        assert_eq!(out.status.code(), Some(2), "{}", blob.display());
        assert!(
            String::from_utf8_lossy(&out.stderr).contains(text),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // A signature that is /dev/zero is refused too, not read forever.
    let out = verify_cli(&f.join("blobs/fw.bin"), Path::new("/dev/zero"), &trust);
    assert_eq!(out.status.code(), Some(2));
    // An empty signature file is a rejection with a reason.
    let dir = tempdir();
    std::fs::write(dir.join("empty.p7s"), b"").unwrap();
    let out = verify_cli(&f.join("blobs/fw.bin"), &dir.join("empty.p7s"), &trust);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("the signature file is empty"));
}

#[test]
fn malformed_policy_files_exit_2_naming_the_field() {
    let f = fixtures();
    let dir = tempdir();
    let good: serde_json::Value =
        serde_json::from_slice(&std::fs::read(f.join("trust.json")).unwrap()).unwrap();
    let certs = f.join("certs");
    let fix_paths = |mut v: serde_json::Value| {
        // Make certificate paths absolute so the copy in a temp dir resolves.
        let s = v
            .to_string()
            .replace("\"certs/", &format!("\"{}/", certs.display()));
        v = serde_json::from_str(&s).unwrap();
        v
    };
    type Mutation = Box<dyn Fn(&mut serde_json::Value)>;
    let cases: Vec<(Mutation, &str)> = vec![
        (
            Box::new(|v| v["version"] = 2.into()),
            "version: unsupported trust-policy version 2",
        ),
        (
            Box::new(|v| v["vendors"][0]["components"][0]["min_version"] = "1.x".into()),
            "vendors[0].components[0].min_version",
        ),
        (
            Box::new(|v| v["vendors"][0]["anchors"][0] = "certs/acme-signer-p256.pem".into()),
            "vendors[0].anchors[0]: 'CN=Acme WiFi FW Signer P-256,O=Acme Chips' is not a CA",
        ),
        (
            Box::new(|v| v["vendors"][0]["policy"]["digests"][0] = "sha1".into()),
            "vendors[0].policy.digests[0]",
        ),
        (
            Box::new(|v| v["vendors"][0]["policy"]["min_rsa_bits"] = 1024.into()),
            "vendors[0].policy.min_rsa_bits",
        ),
        (
            Box::new(|v| v["vendors"][0]["policy"]["require_timestamps"] = true.into()),
            "vendors[0].policy.require_timestamps: unknown field `require_timestamps`",
        ),
        (
            Box::new(|v| v["vendors"][1]["id"] = "acme".into()),
            "vendors[1].id: duplicate vendor id",
        ),
        (
            Box::new(|v| v["revocations"][0]["invalidity_date"] = "yesterday".into()),
            "revocations[0].invalidity_date",
        ),
        (
            Box::new(|v| v["revocations"][0]["reason"] = "oops".into()),
            "revocations[0].reason",
        ),
        (
            Box::new(|v| v["tsa_anchors"][0] = "certs/missing.pem".into()),
            "tsa_anchors[0]",
        ),
        (
            Box::new(|v| v["vendors"][0]["anchors"] = serde_json::json!([])),
            "vendors[0].anchors: a vendor needs at least one trust anchor",
        ),
        (
            Box::new(|v| {
                v["vendors"][0]["intermediates"] = serde_json::json!([
                    "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----"
                ])
            }),
            "vendors[0].intermediates[0]",
        ),
    ];
    for (i, (mutate, expected)) in cases.iter().enumerate() {
        let mut v = good.clone();
        mutate(&mut v);
        let v = fix_paths(v);
        let path = dir.join(format!("policy-{i}.json"));
        std::fs::write(&path, v.to_string()).unwrap();
        let out = verify_cli(
            &f.join("blobs/fw.bin"),
            &f.join("sigs/p256-detached.der"),
            &path,
        );
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "case {i}: {err}");
        assert!(
            err.contains(expected),
            "case {i}: expected '{expected}' in: {err}"
        );
    }
    // Not JSON at all.
    let path = dir.join("garbage.json");
    std::fs::write(&path, b"{ \"version\": 1, ").unwrap();
    let out = verify_cli(
        &f.join("blobs/fw.bin"),
        &f.join("sigs/p256-detached.der"),
        &path,
    );
    assert_eq!(out.status.code(), Some(2));
    // The unmodified policy, with inline PEM for the anchor, still works.
    let mut v = fix_paths(good.clone());
    v["vendors"][0]["anchors"][0] = std::fs::read_to_string(f.join("certs/acme-root.pem"))
        .unwrap()
        .into();
    let path = dir.join("inline.json");
    std::fs::write(&path, v.to_string()).unwrap();
    let out = verify_cli(
        &f.join("blobs/fw.bin"),
        &f.join("sigs/p256-detached.der"),
        &path,
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_blob_over_the_size_limit_is_refused_before_reading() {
    let dir = tempdir();
    let huge = dir.join("huge.bin");
    // Sparse: 65 GiB of apparent size, no disk used; reading it would take minutes.
    std::fs::File::create(&huge)
        .unwrap()
        .set_len(65 * 1024 * 1024 * 1024)
        .unwrap();
    let f = fixtures();
    let out = verify_cli(
        &huge,
        &f.join("sigs/p256-detached.der"),
        &f.join("trust.json"),
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("over the limit"));
    std::fs::remove_file(&huge).unwrap();
}
