//! `tollgate-inspect verify-lot`: a manifest of blobs verified on all cores.

use super::Format;
use super::io::{default_signature, read_limited, verification_time};
use super::verify::{Job, inspect};
use anyhow::{Context, Result, anyhow, bail};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use inspector::cert::rfc3339;
use inspector::chain::PathCache;
use inspector::report::{BlobInfo, Check, CheckId, REPORT_VERSION, Report, SignatureInfo, Verdict};
use inspector::{Limits, TrustPolicy};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use time::OffsetDateTime;

/// Parsed options.
pub struct Options {
    pub source: super::registry::TrustSource,
    pub record: bool,
    pub station: Option<String>,
    pub station_key: Option<PathBuf>,
    pub lot_id: String,
    pub at: Option<String>,
    pub report: Option<PathBuf>,
    pub jobs: Option<usize>,
    pub format: Format,
    pub manifest: PathBuf,
    pub product: Option<String>,
}

/// One manifest row.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    pub blob: String,
    #[serde(default)]
    pub signature: Option<String>,
    pub vendor: String,
    pub component: String,
    pub version: String,
}

/// The lot report written by `--report` and `--format json`.
#[derive(Serialize)]
pub struct LotReport<'a> {
    pub report_version: u32,
    pub kind: &'static str,
    pub manifest: String,
    pub verification_time: String,
    pub total: usize,
    pub accepted: usize,
    pub rejected: usize,
    /// The reports (for the summary table and receipts).
    #[serde(skip)]
    pub results: &'a [Report],
    /// The same reports serialized on the worker threads, one line each:
    /// writing 2,000 reports on one thread at the end was a sixth of a lot's
    /// run (docs/benchmarks.md).
    #[serde(rename = "results")]
    pub serialized: &'a [Box<serde_json::value::RawValue>],
}

const MAX_MANIFEST: u64 = 256 * 1024 * 1024;

/// Parses a manifest: JSON lines if the first non-blank character is `{`,
/// otherwise CSV with a header row.
pub fn parse_manifest(bytes: &[u8]) -> Result<Vec<Entry>> {
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
    let mut entries = Vec::new();
    if first == Some(&b'{') {
        let text = std::str::from_utf8(bytes).context("the manifest is not UTF-8")?;
        for (i, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let e: Entry =
                serde_json::from_str(line).map_err(|e| anyhow!("manifest line {}: {e}", i + 1))?;
            entries.push(e);
        }
    } else {
        let mut reader = csv::ReaderBuilder::new()
            .trim(csv::Trim::All)
            .from_reader(bytes);
        for (i, row) in reader.deserialize::<Entry>().enumerate() {
            let mut e = row.map_err(|e| anyhow!("manifest row {} (line {}): {e}", i + 1, i + 2))?;
            if e.signature.as_deref() == Some("") {
                e.signature = None;
            }
            entries.push(e);
        }
    }
    if entries.is_empty() {
        bail!("the manifest lists no blobs");
    }
    Ok(entries)
}

fn unreadable(entry: &Entry, time: OffsetDateTime, blob: &Path, message: String) -> Report {
    Report {
        report_version: REPORT_VERSION,
        verdict: Verdict::Reject,
        summary: format!("rejected: {message}"),
        vendor: entry.vendor.clone(),
        component: entry.component.clone(),
        version: entry.version.clone(),
        version_source: None,
        blob: BlobInfo {
            path: Some(blob.display().to_string()),
            sha256: None,
            size: None,
            sha384: None,
            sha512: None,
        },
        signature: SignatureInfo {
            path: None,
            kind: "cms".into(),
            encoding: None,
            attached: None,
        },
        verification_time: rfc3339(time),
        checks: vec![Check::fail(CheckId::Format, message)],
        signers: vec![],
    }
}

fn inspect_entry(
    policy: &TrustPolicy,
    limits: &Limits,
    time: OffsetDateTime,
    cache: &PathCache,
    base: &Path,
    entry: &Entry,
) -> Report {
    let blob = base.join(&entry.blob);
    let signature = match &entry.signature {
        Some(s) => Ok(base.join(s)),
        None => default_signature(&blob),
    };
    let result = signature.and_then(|signature| {
        inspect(
            policy,
            limits,
            time,
            Some(cache),
            false,
            &Job {
                vendor: &entry.vendor,
                component: &entry.component,
                version: &entry.version,
                blob: &blob,
                signature: &signature,
            },
        )
    });
    // An unreadable blob or signature is a rejection: nothing unverified passes.
    result.unwrap_or_else(|e| unreadable(entry, time, &blob, format!("{e:#}")))
}

/// Runs the command; `Ok(true)` when every blob is accepted.
pub fn run(o: Options) -> Result<bool> {
    let time = verification_time(o.at.as_deref())?;
    let record = super::verify::record_target_check(o.record, &o.source)?;
    let loaded = super::registry::load(&o.source, time::OffsetDateTime::now_utc())?;
    let policy = loaded.policy;
    let limits = Limits::default();
    let manifest = read_limited(&o.manifest, MAX_MANIFEST).context("cannot read the manifest")?;
    let entries = parse_manifest(&manifest)
        .with_context(|| format!("manifest '{}' is invalid", o.manifest.display()))?;
    let base = o
        .manifest
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();

    let mut builder = rayon::ThreadPoolBuilder::new();
    if let Some(j) = o.jobs {
        builder = builder.num_threads(j.max(1));
    }
    let pool = builder.build().context("cannot start worker threads")?;

    let bar =
        ProgressBar::with_draw_target(Some(entries.len() as u64), ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template(
        "{spinner} [{elapsed_precise}] {bar:40} {pos}/{len} blobs ({per_sec}, eta {eta})",
    ) {
        bar.set_style(style);
    }
    let cache = PathCache::default();
    let (results, serialized): (Vec<Report>, Vec<Box<serde_json::value::RawValue>>) = pool
        .install(|| {
            entries
                .par_iter()
                .map(|e| {
                    let mut r = inspect_entry(&policy, &limits, time, &cache, &base, e);
                    if let Some(p) = &o.product {
                        inspector::verify::apply_product(&mut r, &policy, p);
                    }
                    bar.inc(1);
                    let json = serde_json::value::to_raw_value(&r)?;
                    Ok((r, json))
                })
                .collect::<Result<Vec<_>>>()
                .map(|v| v.into_iter().unzip())
        })?;
    bar.finish_and_clear();

    let accepted = results
        .iter()
        .filter(|r| r.verdict == Verdict::Accept)
        .count();
    let lot = LotReport {
        report_version: REPORT_VERSION,
        kind: "lot",
        manifest: o.manifest.display().to_string(),
        verification_time: rfc3339(time),
        total: results.len(),
        accepted,
        rejected: results.len() - accepted,
        results: &results,
        serialized: &serialized,
    };
    if let Some(path) = &o.report {
        let json = serde_json::to_vec_pretty(&lot)?;
        std::fs::write(path, json)
            .with_context(|| format!("cannot write the report '{}'", path.display()))?;
    }
    // Signed receipts: every blob with a readable signature file, signed
    // by the station key; written next to the report for a later `receipts
    // push` (offline stations) and posted with --record.
    let station = super::registry::station_name(o.station.as_deref());
    let signed = match &o.station_key {
        None => None,
        Some(key) => {
            let key = super::station::load_key(key)?;
            let mut out = super::station::SignedReceipts::default();
            for r in results.iter().filter(|r| r.blob.sha256.is_some()) {
                if let Some(evidence) = super::registry::evidence_of(r) {
                    out.receipts.push(super::station::sign(
                        &key,
                        r,
                        &evidence,
                        &station,
                        &o.lot_id,
                        loaded.serial,
                    )?);
                }
            }
            if let Some(path) = &o.report {
                let file = signed_receipts_path(path);
                std::fs::write(&file, serde_json::to_vec(&out)?).with_context(|| {
                    format!("cannot write the signed receipts '{}'", file.display())
                })?;
                eprintln!(
                    "{} signed receipts written to {} (upload with `tollgate-inspect receipts push`)",
                    out.receipts.len(),
                    file.display()
                );
            }
            Some(out)
        }
    };
    match o.format {
        Format::Json => super::io::out(&format!("{}\n", serde_json::to_string_pretty(&lot)?))?,
        Format::Text => super::io::out(&summary_table(&lot))?,
    }
    if let (Some((url, token)), Some(signed)) = (&record, &signed) {
        let (mut new, mut already) = (0, 0);
        for chunk in signed.receipts.chunks(500) {
            let (n, a) = super::registry::post_signed(url, token, chunk)?;
            new += n;
            already += a;
        }
        eprintln!(
            "{new} signed receipts recorded at {url} ({already} were already recorded; station {station}, lot '{}')",
            o.lot_id
        );
    } else if let Some((url, token)) = record {
        // Receipts need the blob's hash; an unreadable blob has none and is
        // reported in the lot report only.
        let recordable: Vec<(Report, Option<Vec<u8>>)> = results
            .iter()
            .filter(|r| r.blob.sha256.is_some())
            .map(|r| (r.clone(), super::registry::evidence_of(r)))
            .collect();
        for chunk in recordable.chunks(500) {
            super::registry::post_receipts(
                &super::registry::RecordTarget {
                    registry: &url,
                    token: &token,
                    station: &station,
                    lot: &o.lot_id,
                    serial: loaded.serial,
                },
                chunk,
            )?;
        }
        eprintln!(
            "{} receipts recorded at {url} (station {station}, lot '{}')",
            recordable.len(),
            o.lot_id
        );
    }
    Ok(accepted == results.len())
}

/// Where `verify-lot --report FILE --station-key KEY` writes the signed
/// receipts: `FILE.receipts.json`.
pub fn signed_receipts_path(report: &Path) -> PathBuf {
    let mut p = report.as_os_str().to_owned();
    p.push(".receipts.json");
    PathBuf::from(p)
}

/// The text summary: counts per vendor and component, then each rejection.
pub fn summary_table(lot: &LotReport<'_>) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Lot {}: {} blobs, {} accepted, {} rejected (verified at {})",
        lot.manifest, lot.total, lot.accepted, lot.rejected, lot.verification_time
    );
    let mut groups: BTreeMap<(&str, &str), (usize, usize)> = BTreeMap::new();
    for r in lot.results {
        let g = groups
            .entry((r.vendor.as_str(), r.component.as_str()))
            .or_default();
        match r.verdict {
            Verdict::Accept => g.0 += 1,
            Verdict::Reject => g.1 += 1,
        }
    }
    let _ = writeln!(
        out,
        "\n  {:<20} {:<28} {:>8} {:>8}",
        "VENDOR", "COMPONENT", "ACCEPTED", "REJECTED"
    );
    for ((v, c), (a, rj)) in &groups {
        let _ = writeln!(out, "  {v:<20} {c:<28} {a:>8} {rj:>8}");
    }
    let rejected: Vec<&Report> = lot
        .results
        .iter()
        .filter(|r| r.verdict == Verdict::Reject)
        .collect();
    if !rejected.is_empty() {
        let _ = writeln!(out, "\n  Rejected (quarantine these):");
        for r in rejected {
            let _ = writeln!(
                out,
                "  REJECT {} ({} {} {}): {}",
                r.blob.path.as_deref().unwrap_or("?"),
                r.vendor,
                r.component,
                r.version,
                r.summary.trim_start_matches("rejected: ")
            );
        }
    }
    out
}
