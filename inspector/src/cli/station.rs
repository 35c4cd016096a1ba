//! Station keys and signed receipts: `station init` makes the key, every
//! receipt a station records or writes for later is a DSSE envelope over
//! an in-toto Statement with a SLSA VSA predicate (inspector::attest),
//! signed by that key; `receipts push` uploads envelopes written offline.

use anyhow::{Context, Result, bail};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use inspector::attest;
use inspector::dsse::{self, Envelope, IN_TOTO_PAYLOAD_TYPE};
use inspector::report::Report;
use p256::ecdsa::SigningKey;
use p256::pkcs8::{DecodePrivateKey, EncodePrivateKey, EncodePublicKey, LineEnding};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// A signed receipt: the envelope and the evidence it names.
#[derive(Serialize, Deserialize, Clone, Debug)]
#[serde(deny_unknown_fields)]
pub struct SignedReceipt {
    /// DSSE envelope over the statement.
    pub envelope: Envelope,
    /// Base64 of the signature file the station verified.
    pub signature: String,
}

/// A file of signed receipts (`verify-lot --report` with `--station-key`
/// writes one; `receipts push` uploads it).
#[derive(Serialize, Deserialize, Debug, Default)]
#[serde(deny_unknown_fields)]
pub struct SignedReceipts {
    /// The receipts.
    pub receipts: Vec<SignedReceipt>,
}

/// The public key file written next to a station key.
pub fn public_path(key: &Path) -> PathBuf {
    let mut p = key.as_os_str().to_owned();
    p.push(".pub");
    PathBuf::from(p)
}

/// Makes a P-256 station key (PKCS #8 PEM, mode 0600) and its public key
/// (`KEY.pub`, SPKI PEM). Refuses to overwrite unless `force`.
pub fn init(key: &Path, force: bool) -> Result<String> {
    let mut seed = [0u8; 32];
    let signing = loop {
        rand::Rng::fill(&mut rand::rng(), &mut seed);
        if let Ok(k) = SigningKey::from_slice(&seed) {
            break k;
        }
    };
    let pem = signing
        .to_pkcs8_pem(LineEnding::LF)
        .map_err(|e| anyhow::anyhow!("cannot encode the key: {e}"))?;
    let public = signing
        .verifying_key()
        .to_public_key_pem(LineEnding::LF)
        .map_err(|e| anyhow::anyhow!("cannot encode the public key: {e}"))?;
    write_new(key, pem.as_bytes(), force, 0o600)?;
    write_new(&public_path(key), public.as_bytes(), force, 0o644)?;
    let spki = dsse::public_spki(&signing)?;
    Ok(dsse::keyid(&spki))
}

fn write_new(path: &Path, bytes: &[u8], force: bool, mode: u32) -> Result<()> {
    use std::io::Write;
    let mut o = std::fs::OpenOptions::new();
    o.write(true);
    if force {
        o.create(true).truncate(true);
    } else {
        o.create_new(true);
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(mode);
    }
    #[cfg(not(unix))]
    let _ = mode;
    let mut f = o.open(path).with_context(|| {
        format!(
            "cannot create '{}'{}",
            path.display(),
            if force {
                ""
            } else {
                " (it may exist already: pass --force to replace it)"
            }
        )
    })?;
    f.write_all(bytes)
        .with_context(|| format!("cannot write '{}'", path.display()))
}

/// Reads a station key.
pub fn load_key(path: &Path) -> Result<SigningKey> {
    let pem = super::io::read_limited(path, 64 * 1024)?;
    let pem = String::from_utf8(pem).context("the station key is not PEM text")?;
    SigningKey::from_pkcs8_pem(&pem).map_err(|e| {
        anyhow::anyhow!(
            "'{}' is not a P-256 private key in PKCS #8 PEM (make one with `tollgate-inspect station init`): {e}",
            path.display()
        )
    })
}

/// Signs what the station saw about one blob.
pub fn sign(
    key: &SigningKey,
    report: &Report,
    evidence: &[u8],
    station: &str,
    lot: &str,
    serial: u64,
) -> Result<SignedReceipt> {
    let statement = attest::statement(
        report,
        &attest::Context {
            verifier_id: format!("tollgate-station:{station}"),
            station,
            lot,
            bundle_serial: serial,
            policy_sha256: None,
            evidence,
        },
    );
    let payload = serde_json::to_vec(&statement)?;
    Ok(SignedReceipt {
        envelope: dsse::seal(IN_TOTO_PAYLOAD_TYPE, &payload, key)?,
        signature: STANDARD.encode(evidence),
    })
}

/// Reads signed-receipt files and uploads them, 500 per request. The
/// registry records each envelope once, so a partly failed push can be
/// run again. Returns how many were new and how many already recorded.
pub fn push(registry: &str, token: &str, files: &[PathBuf]) -> Result<(usize, usize)> {
    let mut all = Vec::new();
    for f in files {
        let bytes = super::io::read_limited(f, 1024 * 1024 * 1024)?;
        let parsed: SignedReceipts = serde_json::from_slice(&bytes)
            .with_context(|| format!("'{}' is not a signed-receipts file", f.display()))?;
        all.extend(parsed.receipts);
    }
    if all.is_empty() {
        bail!("no signed receipts in {} file(s)", files.len());
    }
    let (mut new, mut already) = (0, 0);
    for chunk in all.chunks(500) {
        let (n, a) = super::registry::post_signed(registry, token, chunk)?;
        new += n;
        already += a;
    }
    Ok((new, already))
}
