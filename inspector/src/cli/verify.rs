//! `tollgate-inspect verify`.

use super::Format;
use super::io::{default_signature, open_regular, read_limited, verification_time};
use super::text;
use anyhow::{Context, Result};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use inspector::chain::PathCache;
use inspector::report::{Report, Verdict};
use inspector::{Artifact, Limits, TrustPolicy, VerifyError, VerifyRequest};
use std::io::BufReader;
use std::path::{Path, PathBuf};
use time::OffsetDateTime;

/// Parsed options.
pub struct Options {
    pub source: super::registry::TrustSource,
    pub record: bool,
    pub station: Option<String>,
    pub station_key: Option<PathBuf>,
    pub lot: String,
    pub vendor: String,
    pub component: String,
    pub version: String,
    pub signature: Option<PathBuf>,
    pub at: Option<String>,
    pub format: Format,
    pub blob: Option<PathBuf>,
    pub bundle: Option<PathBuf>,
    pub digest: Option<String>,
    pub product: Option<String>,
}

/// One verification job.
pub struct Job<'a> {
    pub vendor: &'a str,
    pub component: &'a str,
    pub version: &'a str,
    pub blob: &'a Path,
    pub signature: &'a Path,
}

/// Parses `--digest sha256:HEX` or `sha512:HEX`.
pub fn parse_digest(s: &str) -> Result<(inspector::digest::DigestAlgorithm, Vec<u8>)> {
    use inspector::digest::DigestAlgorithm;
    let (alg, hexv) = s
        .split_once(':')
        .ok_or_else(|| anyhow::anyhow!("--digest '{s}' must look like sha256:HEX or sha512:HEX"))?;
    let (alg, len) = match alg {
        "sha256" => (DigestAlgorithm::Sha256, 32),
        "sha512" => (DigestAlgorithm::Sha512, 64),
        other => anyhow::bail!("--digest algorithm '{other}' must be sha256 or sha512"),
    };
    let value = inspector::policy::parse_hex(hexv)
        .filter(|v| v.len() == len)
        .ok_or_else(|| anyhow::anyhow!("--digest value must be {} hexadecimal digits", len * 2))?;
    Ok((alg, value))
}

/// Verifies a Sigstore bundle against a digest computed elsewhere.
pub fn inspect_digest(
    policy: &TrustPolicy,
    limits: &Limits,
    time: OffsetDateTime,
    job: &Job<'_>,
    digest: &str,
) -> Result<Report> {
    let (algorithm, value) = parse_digest(digest)?;
    let signature = read_limited(job.signature, limits.max_signature_bytes as u64)
        .context("cannot read the bundle")?;
    let req = VerifyRequest {
        policy,
        vendor: job.vendor,
        component: job.component,
        version: job.version,
        signature: &signature,
        time,
        limits,
        cache: None,
        existed_at: None,
    };
    let mut report = match inspector::verify(&req, Artifact::Digest { algorithm, value }) {
        Err(VerifyError::DigestNeedsSigstore) => anyhow::bail!(
            "--digest works with Sigstore bundles only; '{}' is not one (a CMS signature needs the blob)",
            job.signature.display()
        ),
        other => other?,
    };
    report.blob.path = Some(digest.to_string());
    report.signature.path = Some(job.signature.display().to_string());
    Ok(report)
}

/// Reads the files and runs the core. `Err` means a file could not be read.
pub fn inspect(
    policy: &TrustPolicy,
    limits: &Limits,
    time: OffsetDateTime,
    cache: Option<&PathCache>,
    progress: bool,
    job: &Job<'_>,
) -> Result<Report> {
    let signature = read_limited(job.signature, limits.max_signature_bytes as u64)
        .context("cannot read the signature")?;
    let (file, len) = open_regular(job.blob).context("cannot read the blob")?;
    if len > limits.max_blob_bytes {
        anyhow::bail!(
            "the blob '{}' is {len} bytes, over the limit of {} bytes",
            job.blob.display(),
            limits.max_blob_bytes
        );
    }
    // A progress bar for big blobs when a person is watching (hidden when
    // standard error is not a terminal, and inside lots, which have their own).
    let bar = if progress && len >= 256 * 1024 * 1024 {
        ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr())
    } else {
        ProgressBar::hidden()
    };
    if let Ok(style) = ProgressStyle::with_template(
        "{spinner} hashing {bytes}/{total_bytes} {bar:40} ({bytes_per_sec}, eta {eta})",
    ) {
        bar.set_style(style);
    }
    // The core reads in large chunks itself; a small buffer suffices here
    // (a 1 MiB one per blob would dominate lots of small blobs).
    let mut reader = BufReader::with_capacity(8 * 1024, bar.wrap_read(file));
    let req = VerifyRequest {
        policy,
        vendor: job.vendor,
        component: job.component,
        version: job.version,
        signature: &signature,
        time,
        limits,
        cache,
        existed_at: None,
    };
    let mut report = inspector::verify(&req, Artifact::Reader(&mut reader))
        .with_context(|| format!("'{}'", job.blob.display()))?;
    bar.finish_and_clear();
    report.blob.path = Some(job.blob.display().to_string());
    report.signature.path = Some(job.signature.display().to_string());
    Ok(report)
}

/// Runs the command; `Ok(true)` when accepted.
pub fn run(o: Options) -> Result<bool> {
    let time = verification_time(o.at.as_deref())?;
    let record = record_target_check(o.record, &o.source)?;
    let loaded = super::registry::load(&o.source, time::OffsetDateTime::now_utc())?;
    let policy = loaded.policy;
    let limits = Limits::default();
    let mut report = match (&o.blob, &o.digest) {
        (Some(_), Some(_)) => anyhow::bail!("give either BLOB or --digest, not both"),
        (None, None) => {
            anyhow::bail!("give the BLOB to verify (or --digest sha256:HEX with a Sigstore bundle)")
        }
        (None, Some(d)) => {
            let bundle = o
                .bundle
                .clone()
                .or(o.signature.clone())
                .ok_or_else(|| anyhow::anyhow!("--digest needs --bundle FILE"))?;
            inspect_digest(
                &policy,
                &limits,
                time,
                &Job {
                    vendor: &o.vendor,
                    component: &o.component,
                    version: &o.version,
                    blob: Path::new(""),
                    signature: &bundle,
                },
                d,
            )?
        }
        (Some(blob), None) => {
            // Refuse a non-regular blob before looking for its signature.
            open_regular(blob).context("cannot read the blob")?;
            let signature = match o.bundle.clone().or(o.signature.clone()) {
                Some(s) => s,
                None => default_signature(blob)?,
            };
            inspect(
                &policy,
                &limits,
                time,
                None,
                true,
                &Job {
                    vendor: &o.vendor,
                    component: &o.component,
                    version: &o.version,
                    blob,
                    signature: &signature,
                },
            )?
        }
    };
    if let Some(p) = &o.product {
        inspector::verify::apply_product(&mut report, &policy, p);
    }
    match o.format {
        Format::Json => super::io::out(&format!("{}\n", serde_json::to_string_pretty(&report)?))?,
        Format::Text => super::io::out(&text::report(&report))?,
    }
    if let Some((url, token)) = record {
        let station = super::registry::station_name(o.station.as_deref());
        let evidence = super::registry::evidence_of(&report);
        match (&o.station_key, evidence) {
            (Some(key), Some(evidence)) => {
                let key = super::station::load_key(key)?;
                let signed = super::station::sign(
                    &key,
                    &report,
                    &evidence,
                    &station,
                    &o.lot,
                    loaded.serial,
                )?;
                let (new, _) = super::registry::post_signed(&url, &token, &[signed])?;
                eprintln!(
                    "signed receipt {} at {url} (station {station})",
                    if new == 1 {
                        "recorded"
                    } else {
                        "was already recorded"
                    }
                );
            }
            (Some(_), None) => {
                anyhow::bail!("--station-key: there is no signature file to sign a receipt for")
            }
            (None, evidence) => {
                super::registry::post_receipts(
                    &super::registry::RecordTarget {
                        registry: &url,
                        token: &token,
                        station: &station,
                        lot: &o.lot,
                        serial: loaded.serial,
                    },
                    &[(report.clone(), evidence)],
                )?;
                eprintln!("receipt recorded at {url} (station {station})");
            }
        }
    }
    Ok(report.verdict == Verdict::Accept)
}

/// With `--record`, the registry URL and token, checked before any work.
pub fn record_target_check(
    record: bool,
    src: &super::registry::TrustSource,
) -> Result<Option<(String, String)>> {
    if !record {
        return Ok(None);
    }
    match (&src.registry, &src.token) {
        (Some(u), Some(t)) => Ok(Some((u.clone(), t.clone()))),
        _ => anyhow::bail!(
            "--record needs --registry URL and --token (receipts are posted to the registry)"
        ),
    }
}
