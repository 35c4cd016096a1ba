//! Talking to the registry: fetching the signed trust bundle, remembering
//! the highest serial accepted (rollback protection), posting receipts.
//! The only network code of the inspector; the core never sees it.

use super::io::{load_policy, read_limited};
use anyhow::{Context, Result, anyhow, bail};
use inspector::TrustPolicy;
use inspector::bundle::{is_signed_bundle, verify_bundle};
use inspector::cert::{ParsedCert, certificates_from_bytes};
use inspector::report::Report;
use std::path::{Path, PathBuf};
use std::time::Duration;
use time::OffsetDateTime;

/// Where the trust policy comes from.
#[derive(Clone, Debug, Default)]
pub struct TrustSource {
    /// A policy file or a pulled signed bundle.
    pub trust: Option<PathBuf>,
    /// Registry base URL.
    pub registry: Option<String>,
    /// Bearer token.
    pub token: Option<String>,
    /// Pinned registry certificate.
    pub registry_cert: Option<PathBuf>,
    /// Folder for the highest accepted serial.
    pub state_dir: Option<PathBuf>,
    /// Accept a plain (unsigned) policy file even though a registry
    /// certificate is pinned (`--danger-trust-unsigned-policy`).
    pub danger_unsigned: bool,
    /// No record of earlier bundles yet: start rollback protection from
    /// this bundle (`--trust-on-first-use`).
    pub first_use: bool,
}

/// A loaded policy and, when it came from the registry, its serial.
pub struct LoadedTrust {
    /// The policy.
    pub policy: TrustPolicy,
    /// Bundle serial (0 for a plain policy file).
    pub serial: u64,
}

const MAX_BUNDLE: u64 = 256 * 1024 * 1024;

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(60)))
        .http_status_as_error(false)
        .build()
        .new_agent()
}

fn pinned_cert(path: Option<&Path>) -> Result<ParsedCert> {
    let path = path.ok_or_else(|| {
        anyhow!("--registry-cert is required to verify a signed trust bundle (download it once from /api/v1/registry-certificate and check its fingerprint)")
    })?;
    let bytes = read_limited(path, 1024 * 1024).context("cannot read the registry certificate")?;
    certificates_from_bytes(&bytes)
        .map_err(|e| anyhow!("registry certificate '{}': {e}", path.display()))?
        .into_iter()
        .next()
        .ok_or_else(|| anyhow!("no certificate in '{}'", path.display()))
}

fn state_file(dir: Option<&Path>, pinned: &ParsedCert) -> Result<PathBuf> {
    let dir = match dir {
        Some(d) => d.to_path_buf(),
        None => {
            let base = std::env::var_os("XDG_STATE_HOME")
                .map(PathBuf::from)
                .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/state")))
                .ok_or_else(|| anyhow!("set --state-dir (no HOME or XDG_STATE_HOME)"))?;
            base.join("tollgate")
        }
    };
    let fp = pinned.fingerprint();
    Ok(dir.join(format!("bundle-serial-{}", fp.get(..16).unwrap_or(&fp))))
}

/// The highest serial this station accepted. A missing record is an error
/// unless `first_use`: deleting the state directory must not silently turn
/// rollback protection off (an older bundle would then be accepted).
fn highest_seen(file: &Path, first_use: bool) -> Result<Option<u64>> {
    match std::fs::read_to_string(file) {
        Ok(s) => Ok(Some(s.trim().parse().with_context(|| {
            format!("state file '{}' is corrupt", file.display())
        })?)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && first_use => {
            eprintln!(
                "tollgate-inspect: note: no record of earlier trust bundles in '{}'; trusting this bundle's serial as the starting point (trust on first use)",
                file.parent().unwrap_or(file).display()
            );
            Ok(None)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => bail!(
            "no record of the trust bundles this station accepted ('{}' is missing), so rollback protection cannot be checked; if this is a new station or its state was lost on purpose, start fresh with --trust-on-first-use",
            file.display()
        ),
        Err(e) => Err(e).with_context(|| format!("cannot read '{}'", file.display())),
    }
}

fn remember(file: &Path, serial: u64) -> Result<()> {
    if let Some(parent) = file.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create '{}'", parent.display()))?;
    }
    let tmp = file.with_extension("tmp");
    std::fs::write(&tmp, serial.to_string())
        .with_context(|| format!("cannot write '{}'", tmp.display()))?;
    std::fs::rename(&tmp, file).with_context(|| format!("cannot write '{}'", file.display()))
}

/// GETs the signed bundle.
pub fn fetch_bundle(url: &str, token: &str) -> Result<Vec<u8>> {
    let endpoint = format!("{}/api/v1/trust-bundle", url.trim_end_matches('/'));
    let mut resp = agent()
        .get(&endpoint)
        .header("Authorization", &format!("Bearer {token}"))
        .call()
        .with_context(|| format!("cannot reach the registry at {endpoint}"))?;
    let status = resp.status().as_u16();
    let body = resp
        .body_mut()
        .with_config()
        .limit(MAX_BUNDLE)
        .read_to_vec()
        .with_context(|| format!("cannot read the trust bundle from {endpoint}"))?;
    if status != 200 {
        bail!(
            "the registry answered {status} for {endpoint}: {}",
            String::from_utf8_lossy(&body)
        );
    }
    Ok(body)
}

/// Verifies a signed bundle's bytes and records its serial.
pub fn accept_bundle(bytes: &[u8], src: &TrustSource, now: OffsetDateTime) -> Result<LoadedTrust> {
    let pinned = pinned_cert(src.registry_cert.as_deref())?;
    let file = state_file(src.state_dir.as_deref(), &pinned)?;
    let seen = highest_seen(&file, src.first_use)?;
    let verified = verify_bundle(bytes, &pinned, now, seen)
        .map_err(|e| anyhow!("trust bundle refused: {e}"))?;
    let policy = TrustPolicy::from_json(&verified.document, &mut inspector::policy::InlineOnly)
        .map_err(|e| anyhow!("the trust bundle's policy is invalid: {e}"))?;
    if seen.is_none_or(|s| verified.serial > s) {
        remember(&file, verified.serial)?;
    }
    Ok(LoadedTrust {
        policy,
        serial: verified.serial,
    })
}

/// Loads the policy from `--trust` (plain or signed) or `--registry`.
pub fn load(src: &TrustSource, now: OffsetDateTime) -> Result<LoadedTrust> {
    match (&src.trust, &src.registry) {
        (Some(_), Some(_)) => bail!("give either --trust or --registry, not both"),
        (None, None) => bail!("give --trust FILE or --registry URL"),
        (None, Some(url)) => {
            let token = src
                .token
                .as_deref()
                .ok_or_else(|| anyhow!("--registry needs --token (or TOLLGATE_TOKEN)"))?;
            let bytes = fetch_bundle(url, token)?;
            accept_bundle(&bytes, src, now)
        }
        (Some(path), None) => {
            let bytes = read_limited(path, MAX_BUNDLE).context("cannot read the trust policy")?;
            if is_signed_bundle(&bytes) {
                accept_bundle(&bytes, src, now)
            } else if src.registry_cert.is_some() && !src.danger_unsigned {
                // A pinned station takes signed bundles only: an unsigned
                // file in the bundle's place must not become the policy.
                bail!(
                    "'{}' is not a signed trust bundle; with --registry-cert only a bundle signed by the pinned registry is accepted (a plain policy file needs --danger-trust-unsigned-policy)",
                    path.display()
                )
            } else {
                if src.registry_cert.is_some() {
                    eprintln!(
                        "tollgate-inspect: WARNING: using the UNSIGNED trust policy '{}' although a registry certificate is pinned (--danger-trust-unsigned-policy); nothing proves it comes from the registry",
                        path.display()
                    );
                }
                Ok(LoadedTrust {
                    policy: load_policy(path)?,
                    serial: 0,
                })
            }
        }
    }
}

/// `tollgate-inspect trust pull`: fetch, verify, save for offline use.
pub fn pull(src: &TrustSource, out: &Path, now: OffsetDateTime) -> Result<u64> {
    let url = src
        .registry
        .as_deref()
        .ok_or_else(|| anyhow!("--registry is required"))?;
    let token = src
        .token
        .as_deref()
        .ok_or_else(|| anyhow!("--token is required (or TOLLGATE_TOKEN)"))?;
    let bytes = fetch_bundle(url, token)?;
    let loaded = accept_bundle(&bytes, src, now)?;
    let tmp = out.with_extension("tmp");
    std::fs::write(&tmp, &bytes).with_context(|| format!("cannot write '{}'", tmp.display()))?;
    std::fs::rename(&tmp, out).with_context(|| format!("cannot write '{}'", out.display()))?;
    Ok(loaded.serial)
}

/// Receipt metadata.
pub struct RecordTarget<'a> {
    /// Registry URL.
    pub registry: &'a str,
    /// Token.
    pub token: &'a str,
    /// Station name.
    pub station: &'a str,
    /// Lot.
    pub lot: &'a str,
    /// Bundle serial the verdicts were made with.
    pub serial: u64,
}

/// Most bytes of signature material sent with one receipt (the registry's
/// limit).
pub const MAX_EVIDENCE_BYTES: u64 = 1024 * 1024;

/// The signature file a report names, as evidence for its receipt: `None`
/// when it cannot be read or is over the limit (the registry then records
/// the receipt as station-asserted).
pub fn evidence_of(report: &Report) -> Option<Vec<u8>> {
    let path = report.signature.path.as_deref()?;
    super::io::read_limited(std::path::Path::new(path), MAX_EVIDENCE_BYTES).ok()
}

/// Posts receipts with their evidence (one request, all or none).
pub fn post_receipts(t: &RecordTarget<'_>, reports: &[(Report, Option<Vec<u8>>)]) -> Result<()> {
    use base64::Engine;
    let receipts: Vec<serde_json::Value> = reports
        .iter()
        .map(|(r, sig)| {
            let signature = sig
                .as_ref()
                .map(|s| base64::engine::general_purpose::STANDARD.encode(s));
            serde_json::json!({ "station": t.station, "lot": t.lot, "bundle_serial": t.serial, "report": r, "signature": signature })
        })
        .collect();
    let body = serde_json::to_vec(&serde_json::json!({ "receipts": receipts }))?;
    let endpoint = format!("{}/api/v1/receipts/batch", t.registry.trim_end_matches('/'));
    let mut resp = agent()
        .post(&endpoint)
        .header("Authorization", &format!("Bearer {}", t.token))
        .header("Content-Type", "application/json")
        .send(&body[..])
        .with_context(|| format!("cannot reach the registry at {endpoint}"))?;
    let status = resp.status().as_u16();
    if status != 201 {
        let text = resp
            .body_mut()
            .with_config()
            .limit(64 * 1024)
            .read_to_string()
            .unwrap_or_default();
        bail!("recording receipts failed: the registry answered {status}: {text}");
    }
    Ok(())
}

/// Posts signed receipts (one request, all or none); returns how many were
/// new and how many the registry had already.
pub fn post_signed(
    registry: &str,
    token: &str,
    receipts: &[super::station::SignedReceipt],
) -> Result<(usize, usize)> {
    let body = serde_json::to_vec(&serde_json::json!({ "receipts": receipts }))?;
    let endpoint = format!("{}/api/v1/receipts/signed", registry.trim_end_matches('/'));
    let mut resp = agent()
        .post(&endpoint)
        .header("Authorization", &format!("Bearer {token}"))
        .header("Content-Type", "application/json")
        .send(&body[..])
        .with_context(|| format!("cannot reach the registry at {endpoint}"))?;
    let status = resp.status().as_u16();
    let text = resp
        .body_mut()
        .with_config()
        .limit(1024 * 1024)
        .read_to_string()
        .unwrap_or_default();
    if status != 201 {
        bail!("recording signed receipts failed: the registry answered {status}: {text}");
    }
    let v: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
    let n = |k: &str| {
        v.get(k)
            .and_then(serde_json::Value::as_u64)
            .and_then(|x| usize::try_from(x).ok())
            .unwrap_or(0)
    };
    Ok((n("recorded"), n("already_recorded")))
}

/// The station name: `--station`, else the host name.
pub fn station_name(given: Option<&str>) -> String {
    given
        .map(str::to_string)
        .or_else(|| {
            std::fs::read_to_string("/etc/hostname")
                .ok()
                .map(|s| s.trim().to_string())
        })
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "unknown-station".into())
}

/// Uploads a vendor-signed SBOM: (recorded?, what the registry said).
/// A refusal (400/409) is an answer, not an error.
pub fn push_sbom(
    registry: &str,
    token: &str,
    vendor: &str,
    sbom: &std::path::Path,
    signature: &std::path::Path,
) -> Result<(bool, String)> {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD;
    let sbom_bytes = super::io::read_limited(sbom, 4 * 1024 * 1024)?;
    let sig_bytes = super::io::read_limited(signature, 1024 * 1024)?;
    let body = serde_json::to_vec(&serde_json::json!({
        "sbom_base64": b64.encode(&sbom_bytes),
        "signature_base64": b64.encode(&sig_bytes),
    }))?;
    let endpoint = format!(
        "{}/api/v1/vendors/{}/sboms",
        registry.trim_end_matches('/'),
        url_segment(vendor)
    );
    let mut resp = agent()
        .post(&endpoint)
        .header("Authorization", &format!("Bearer {token}"))
        .header("Content-Type", "application/json")
        .send(&body[..])
        .with_context(|| format!("cannot reach the registry at {endpoint}"))?;
    let status = resp.status().as_u16();
    let text = resp
        .body_mut()
        .with_config()
        .limit(4 * 1024 * 1024)
        .read_to_string()
        .unwrap_or_default();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
    match status {
        201 => {
            let bound: Vec<String> = v
                .get("bindings")
                .and_then(|b| b.as_array())
                .into_iter()
                .flatten()
                .map(|b| {
                    format!(
                        "{} {}",
                        b.get("component")
                            .and_then(|x| x.as_str())
                            .unwrap_or_default(),
                        b.get("version")
                            .and_then(|x| x.as_str())
                            .unwrap_or_default()
                    )
                })
                .collect();
            Ok((
                true,
                format!(
                    "RECORDED SBOM {}: the registry verified vendor '{vendor}''s signature and binds {}",
                    v.get("serial").and_then(|x| x.as_str()).unwrap_or_default(),
                    bound.join(", ")
                ),
            ))
        }
        400 | 409 => Ok((
            false,
            format!(
                "REFUSED: {}",
                v.pointer("/error/message")
                    .and_then(|m| m.as_str())
                    .unwrap_or(&text)
            ),
        )),
        _ => bail!("uploading the SBOM failed: the registry answered {status}: {text}"),
    }
}

/// A URL path segment, percent-encoded.
fn url_segment(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}
