//! `verify-lot` and `chain` through the binary.

use super::*;

fn write_manifest(dir: &Path, name: &str, body: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, body).unwrap();
    p
}

#[test]
fn lot_from_csv_reports_every_blob_and_exits_1_on_any_rejection() {
    let f = fixtures();
    let dir = tempdir();
    let csv = format!(
        "blob,signature,vendor,component,version\n\
         {f}/blobs/fw.bin,{f}/sigs/p256-detached.der,acme,acme-wifi-fw,1.5.0\n\
         {f}/blobs/fw.bin,{f}/sigs/rsa-pss-maxsalt.der,acme,acme-wifi-fw,1.6.0\n\
         {f}/blobs/fw-tampered.bin,{f}/sigs/p256-detached.der,acme,acme-wifi-fw,1.5.0\n\
         {f}/blobs/fw.bin,{f}/sigs/globex.der,acme,acme-wifi-fw,1.5.0\n\
         {f}/blobs/missing.bin,,acme,acme-wifi-fw,1.5.0\n",
        f = f.display()
    );
    let manifest = write_manifest(&dir, "lot.csv", &csv);
    let report = dir.join("report.json");
    let out = cli()
        .args(["verify-lot", "--trust"])
        .arg(f.join("trust.json"))
        .args(["--at", AT, "--jobs", "2", "--report"])
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
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("5 blobs, 2 accepted, 3 rejected"), "{text}");
    assert!(
        text.contains("the content does not match the signature"),
        "{text}"
    );
    assert!(text.contains("chains to vendor 'globex'"), "{text}");
    assert!(text.contains("missing.bin"), "{text}");
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    assert_eq!(json["total"], 5);
    assert_eq!(json["accepted"], 2);
    assert_eq!(json["rejected"], 3);
    // Results keep manifest order.
    let results = json["results"].as_array().unwrap();
    assert_eq!(results[0]["verdict"], "accept");
    assert_eq!(results[1]["version"], "1.6.0");
    assert_eq!(results[2]["verdict"], "reject");
    assert_eq!(results[4]["verdict"], "reject");
}

#[test]
fn lot_from_json_lines_all_accepted_exits_0() {
    let f = fixtures();
    let dir = tempdir();
    // Relative paths resolve against the manifest's folder.
    std::fs::copy(f.join("blobs/fw.bin"), dir.join("a.bin")).unwrap();
    std::fs::copy(f.join("sigs/p384-sha384.der"), dir.join("a.bin.p7s")).unwrap();
    std::fs::copy(f.join("blobs/fw.bin"), dir.join("b.bin")).unwrap();
    let body = format!(
        "{{\"blob\":\"a.bin\",\"vendor\":\"acme\",\"component\":\"acme-wifi-fw\",\"version\":\"1.5.0\"}}\n\
         {{\"blob\":\"b.bin\",\"signature\":\"{}\",\"vendor\":\"acme\",\"component\":\"acme-wifi-fw\",\"version\":\"1.5.1\"}}\n",
        f.join("sigs/ts-good.der").display()
    );
    let manifest = write_manifest(&dir, "lot.jsonl", &body);
    let out = cli()
        .args(["verify-lot", "--trust"])
        .arg(f.join("trust.json"))
        .args(["--at", AT, "--format", "json"])
        .arg(&manifest)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["accepted"], 2);
    assert_eq!(json["kind"], "lot");
}

#[test]
fn malformed_manifests_exit_2_naming_the_row() {
    let f = fixtures();
    let dir = tempdir();
    for (name, body, expected) in [
        ("a.csv", "blob,vendor\nx,acme\n", "row 1"),
        ("b.jsonl", "{\"blob\":\"x\"}\n", "line 1"),
        (
            "c.csv",
            "blob,signature,vendor,component,version\n",
            "lists no blobs",
        ),
    ] {
        let manifest = write_manifest(&dir, name, body);
        let out = cli()
            .args(["verify-lot", "--trust"])
            .arg(f.join("trust.json"))
            .arg(&manifest)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(expected), "{name}: {err}");
    }
}

fn chain(args: &[&str], cert: &str) -> (i32, String) {
    let f = fixtures();
    let mut cmd = cli();
    cmd.arg("chain");
    for a in args {
        if a.starts_with("certs/") {
            cmd.arg(f.join(a));
        } else {
            cmd.arg(a);
        }
    }
    let out = cmd.arg(f.join(cert)).output().unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    )
}

#[test]
fn chain_command_validates_paths_eku_time_and_crls() {
    let base = [
        "--anchors",
        "certs/acme-root.pem",
        "--intermediates",
        "certs/acme-int.pem",
        "--at",
        AT,
    ];
    let (code, out) = chain(&base, "certs/acme-signer-p256.pem");
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("valid: 'CN=Acme WiFi FW Signer P-256,O=Acme Chips' chains to 'CN=Acme Firmware Root CA,O=Acme Chips'"), "{out}");

    let (code, out) = chain(
        &["--anchors", "certs/acme-root.pem", "--at", AT],
        "certs/acme-signer-p256.pem",
    );
    assert_eq!(code, 1);
    assert!(out.contains("intermediate missing"), "{out}");

    let (code, out) = chain(
        &[
            "--anchors",
            "certs/globex-root.pem",
            "--intermediates",
            "certs/acme-int.pem",
            "--at",
            AT,
        ],
        "certs/acme-signer-p256.pem",
    );
    assert_eq!(code, 1);
    assert!(
        out.contains("intermediate missing") || out.contains("unknown root"),
        "{out}"
    );

    let (code, out) = chain(&base, "certs/acme-server.pem");
    assert_eq!(code, 1);
    assert!(out.contains("codeSigning"), "{out}");
    let mut server = base.to_vec();
    server.extend(["--eku", "serverAuth"]);
    assert_eq!(chain(&server, "certs/acme-server.pem").0, 0);
    let mut any = base.to_vec();
    any.extend(["--eku", "any"]);
    assert_eq!(chain(&any, "certs/acme-server.pem").0, 0);

    let (code, out) = chain(&base, "certs/acme-expired.pem");
    assert_eq!(code, 1);
    assert!(out.contains("expired 2026-03-01"), "{out}");
    let early = [
        "--anchors",
        "certs/acme-root.pem",
        "--intermediates",
        "certs/acme-int.pem",
        "--at",
        "2025-06-01T00:00:00Z",
    ];
    assert_eq!(chain(&early, "certs/acme-expired.pem").0, 0);

    let tsa = [
        "--anchors",
        "certs/tsa-root.pem",
        "--at",
        AT,
        "--eku",
        "timeStamping",
    ];
    assert_eq!(chain(&tsa, "certs/tsa.pem").0, 0);
    assert_eq!(chain(&tsa, "certs/evil-tsa.pem").0, 1);

    let mut crl = base.to_vec();
    crl.extend(["--crl", "certs/acme-int.crl.pem"]);
    let (code, out) = chain(&crl, "certs/old-signer.pem");
    assert_eq!(code, 1);
    assert!(out.contains("revoked"), "{out}");
    assert_eq!(chain(&crl, "certs/acme-signer-p256.pem").0, 0);

    // Usage errors exit 2.
    let mut bad_eku = base.to_vec();
    bad_eku.extend(["--eku", "banana"]);
    assert_eq!(chain(&bad_eku, "certs/acme-signer-p256.pem").0, 2);
    assert_eq!(chain(&base, "blobs/fw.bin").0, 2);

    let mut json = base.to_vec();
    json.extend(["--format", "json"]);
    let (code, out) = chain(&json, "certs/acme-signer-p256.pem");
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["valid"], true);
    assert_eq!(v["path"].as_array().unwrap().len(), 3);
}

#[test]
fn product_capability_accepts_verifiable_keys_and_rejects_the_others() {
    let f = fixtures();
    let run = |sig: &str, component: &str, product: &str| {
        let out = cli()
            .args(["verify", "--trust"])
            .arg(f.join("trust.json"))
            .args([
                "--vendor",
                "acme",
                "--component",
                component,
                "--version",
                "1.5.0",
                "--at",
                AT,
                "--format",
                "json",
                "--product",
                product,
                "--signature",
            ])
            .arg(f.join("sigs").join(sig))
            .arg(f.join("blobs/fw.bin"))
            .output()
            .unwrap();
        let r: Report = serde_json::from_slice(&out.stdout).unwrap();
        (out.status.code(), r)
    };
    // The bootloader verifies P-256, P-384 and RSA-2048; the ROM only P-256.
    for sig in [
        "p256-detached.der",
        "p384-sha384.der",
        "rsa-pkcs1-sha256.der",
    ] {
        let (code, r) = run(sig, "acme-wifi-fw", "gw-100");
        assert_eq!(code, Some(0), "{sig}: {}", r.summary);
        assert_eq!(r.outcome_of(CheckId::Capability), Some(Outcome::Pass));
    }
    let (code, r) = run("ed25519.der", "acme-wifi-fw", "gw-100");
    assert_eq!(code, Some(1));
    assert!(r.summary.contains("boot stage 'bootloader' of product 'gw-100' verifies ecdsa-p256, ecdsa-p384, rsa-2048 and cannot verify the Ed25519 key"), "{}", r.summary);
    let (code, _) = run("p256-detached.der", "acme-bootrom-patch", "gw-100");
    assert_eq!(code, Some(0));
    let (code, r) = run("p384-sha384.der", "acme-bootrom-patch", "gw-100");
    assert_eq!(code, Some(1));
    assert!(r.summary.contains("'rom'"), "{}", r.summary);
    let (code, r) = run("p256-detached.der", "acme-wifi-fw", "no-such-product");
    assert_eq!(code, Some(1));
    assert!(r.summary.contains("not in the trust policy"));
}
