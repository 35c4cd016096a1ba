//! Inspection receipts: append-only records of what stations saw, with
//! the evidence the registry re-verifies (docs/evidence.md), and the one
//! receipt filter (API, pages, CSV download). Submodules: `intake` (verify
//! and store), `signed` (station-signed envelopes, late receipts), `settle`
//! (a blob settles station-asserted evidence), `chain` (the receipt hash
//! chain).

mod chain;
mod intake;
mod settle;
mod signed;

pub use chain::{nth_hash, receipt_hash, verify_chain};
pub use intake::{BatchResult, Intake, MAX_BATCH, create, create_batch};
pub use settle::{max_blob_upload, verify_blob};
pub use signed::{SignedBatch, SignedBatchResult, SignedReceiptRequest, create_signed};

use super::{
    Actor, Conn, INSPECTION, PageRequest, READERS, ServiceError, ServiceResult, csv_line, evidence,
    time_str,
};
use diesel::prelude::*;
use inspector::policy::TrustPolicy;
use inspector::report::{Report, Verdict};
use schema::models::{NewReceipt, Receipt, ReceiptEvidence, ReceiptRow};
use schema::schema::{products, receipt_certs, receipt_evidence, receipts};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;

/// Most bytes of a receipt's signature material (CMS SignedData or a
/// Sigstore bundle), decoded.
pub const MAX_SIGNATURE_BYTES: usize = 1024 * 1024;
/// Most bytes of the station's report, as JSON.
pub const MAX_REPORT_BYTES: usize = 256 * 1024;

/// Record one inspection: the station's verdict and report, and the
/// evidence the registry re-verifies (docs/evidence.md).
#[derive(Deserialize, Serialize, ToSchema, Clone)]
#[serde(deny_unknown_fields)]
pub struct ReceiptRequest {
    /// Inspection station name.
    pub station: String,
    /// Lot identifier.
    #[serde(default)]
    pub lot: String,
    /// Serial of the trust bundle the verdict was made with.
    pub bundle_serial: i64,
    /// The station's verification report (docs/report-format.md), at most
    /// 256 KiB. Its vendor, component, version, and blob digests (SHA-256;
    /// SHA-384 and SHA-512 where a signer uses them) and size are the
    /// receipt's claims.
    #[schema(value_type = Object)]
    pub report: Report,
    /// The signature file the station checked, base64 (CMS DER or PEM, or
    /// a Sigstore bundle), at most 1 MiB decoded. Without it the receipt
    /// is recorded as station-asserted and never reaches an allowlist.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<String>,
    /// The product the blob is inspected for: the answer then flags a
    /// signer key the product's boot stage cannot verify.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product: Option<String>,
}

/// Record several verdicts at once (one transaction).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReceiptBatch {
    /// At most 1,000.
    pub receipts: Vec<ReceiptRequest>,
}

/// A stored receipt: the station's verdict and the registry's.
#[derive(Serialize, Deserialize, ToSchema, Debug)]
pub struct ReceiptView {
    /// Row id.
    pub id: i64,
    /// When it was recorded (RFC 3339).
    pub received_at: String,
    /// Station.
    pub station: String,
    /// Lot.
    pub lot: String,
    /// Vendor.
    pub vendor: String,
    /// Component.
    pub component: String,
    /// Version.
    pub version: String,
    /// The station's verdict: accept or reject.
    pub verdict: String,
    /// The station's one-line summary.
    pub summary: String,
    /// Blob SHA-256.
    pub blob_sha256: String,
    /// Blob size.
    pub blob_size: i64,
    /// Trust-bundle serial the station used.
    pub bundle_serial: i64,
    /// Who recorded it.
    pub recorded_by: String,
    /// The registry's own verdict on the evidence: `accept`, `reject`,
    /// `asserted` (cannot be re-verified from digests, or no evidence: the
    /// station's word only) or `unverified` (recorded before evidence was
    /// required). Only `accept` reaches an allowlist.
    pub registry_verdict: String,
    /// Why, in one sentence.
    pub registry_summary: String,
    /// The instant the registry judged the evidence at (RFC 3339).
    pub verified_at: String,
    /// The trust-bundle serial the registry judged it under.
    pub verified_serial: i64,
    /// The station and the registry disagree (accept against reject).
    pub disagreement: bool,
    /// When a revocation last re-verified it and withdrew it (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reevaluated_at: Option<String>,
    /// The key id of the station key that signed it (absent: unsigned).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub station_key: Option<String>,
    /// A late receipt: an offline station's, judged at the time it states
    /// (`station_time`, inside its bundle's validity window) rather than
    /// when the registry received it (`received_at`).
    #[serde(default)]
    pub late: bool,
    /// The verification time the station stated (signed receipts).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub station_time: Option<String>,
    /// The station's full report (single-receipt reads only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub report: Option<serde_json::Value>,
    /// The registry's full report (single-receipt reads only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub registry_report: Option<serde_json::Value>,
    /// Capability flags for the product given in the request.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub capability_warnings: Vec<String>,
}

/// Converts a list row (no reports).
pub fn view(r: ReceiptRow) -> ReceiptView {
    ReceiptView {
        id: r.id,
        received_at: time_str(r.received_at),
        station: r.station,
        lot: r.lot,
        vendor: r.vendor,
        component: r.component,
        version: r.version,
        verdict: r.verdict,
        summary: r.summary,
        blob_sha256: r.blob_sha256,
        blob_size: r.blob_size,
        bundle_serial: r.bundle_serial,
        recorded_by: r.recorded_by,
        registry_verdict: r.registry_verdict,
        registry_summary: r.registry_summary,
        verified_at: time_str(r.verified_at),
        verified_serial: r.verified_serial,
        disagreement: r.disagreement,
        reevaluated_at: r.reevaluated_at.map(time_str),
        station_key: r.station_key,
        late: r.late,
        station_time: r.station_time.map(time_str),
        report: None,
        registry_report: None,
        capability_warnings: vec![],
    }
}

/// Which receipts to list. Empty fields do not filter.
#[derive(Clone, Debug, Default)]
pub struct ReceiptFilter {
    /// Vendor id.
    pub vendor: Option<String>,
    /// Component.
    pub component: Option<String>,
    /// The station's verdict: `accept` or `reject`.
    pub verdict: Option<String>,
    /// The registry's verdict: `accept`, `reject`, `asserted` or `unverified`.
    pub registry_verdict: Option<String>,
    /// Only receipts where station and registry disagree.
    pub disagreement: Option<bool>,
    /// Lot.
    pub lot: Option<String>,
    /// Station.
    pub station: Option<String>,
    /// Recorded at or after (Unix seconds).
    pub since: Option<i64>,
    /// Recorded before (Unix seconds).
    pub until: Option<i64>,
}

impl ReceiptFilter {
    /// Checks the verdict value.
    pub fn validate(&self) -> ServiceResult<()> {
        if let Some(v) = &self.verdict
            && v != "accept"
            && v != "reject"
        {
            return Err(ServiceError::Invalid(format!(
                "verdict '{v}' must be accept or reject"
            )));
        }
        if let Some(v) = &self.registry_verdict
            && ![
                evidence::ACCEPT,
                evidence::REJECT,
                evidence::ASSERTED,
                "unverified",
            ]
            .contains(&v.as_str())
        {
            return Err(ServiceError::Invalid(format!(
                "registry_verdict '{v}' must be accept, reject, asserted or unverified"
            )));
        }
        Ok(())
    }
}

/// The boxed receipts query with `$f`'s filters applied (a macro because
/// the boxed query's backend type is generated by diesel's derive).
macro_rules! filtered {
    ($f:expr) => {{
        let f: &ReceiptFilter = $f;
        let mut q = receipts::table.into_boxed();
        if let Some(v) = &f.vendor {
            q = q.filter(receipts::vendor.eq(v.clone()));
        }
        if let Some(v) = &f.component {
            q = q.filter(receipts::component.eq(v.clone()));
        }
        if let Some(v) = &f.verdict {
            q = q.filter(receipts::verdict.eq(v.clone()));
        }
        if let Some(v) = &f.registry_verdict {
            q = q.filter(receipts::registry_verdict.eq(v.clone()));
        }
        if let Some(d) = f.disagreement {
            q = q.filter(receipts::disagreement.eq(d));
        }
        if let Some(v) = &f.lot {
            q = q.filter(receipts::lot.eq(v.clone()));
        }
        if let Some(v) = &f.station {
            q = q.filter(receipts::station.eq(v.clone()));
        }
        if let Some(s) = f.since {
            q = q.filter(receipts::received_at.ge(s));
        }
        if let Some(u) = f.until {
            q = q.filter(receipts::received_at.lt(u));
        }
        q
    }};
}

/// Receipts matching `filter`, newest first, one page (no reports or
/// evidence are read).
pub fn list(
    c: &mut Conn,
    actor: &Actor,
    filter: &ReceiptFilter,
    page: PageRequest,
) -> ServiceResult<Vec<ReceiptRow>> {
    actor.require(READERS, "read receipts")?;
    filter.validate()?;
    let mut q = filtered!(filter);
    if let Some(b) = page.before {
        q = q.filter(receipts::id.lt(b));
    }
    Ok(q.order(receipts::id.desc())
        .limit(page.limit)
        .offset(page.offset)
        .select(ReceiptRow::as_select())
        .load(c)?)
}

/// How many receipts match `filter`.
pub fn count(c: &mut Conn, actor: &Actor, filter: &ReceiptFilter) -> ServiceResult<i64> {
    actor.require(READERS, "read receipts")?;
    filter.validate()?;
    Ok(filtered!(filter).count().get_result(c)?)
}

/// One receipt, with both reports.
pub fn get(c: &mut Conn, actor: &Actor, id: i64) -> ServiceResult<ReceiptView> {
    actor.require(READERS, "read receipts")?;
    let mut v = evidence_view(c, id)?;
    let report: String = receipts::table.find(id).select(receipts::report).first(c)?;
    v.report = serde_json::from_str(&report).ok();
    Ok(v)
}

/// A receipt (without the station's report) with the registry's report on
/// its evidence.
fn evidence_view(c: &mut Conn, id: i64) -> ServiceResult<ReceiptView> {
    let (row, registry_report) = get_full(c, id)?;
    let mut v = view(row);
    v.registry_report = registry_report
        .filter(|s| !s.is_empty())
        .and_then(|s| serde_json::from_str(&s).ok());
    Ok(v)
}

/// A receipt row (no station report) and the registry's report on its
/// evidence.
fn get_full(c: &mut Conn, id: i64) -> ServiceResult<(ReceiptRow, Option<String>)> {
    let row = receipts::table
        .find(id)
        .select(ReceiptRow::as_select())
        .first(c)
        .optional()?
        .ok_or_else(|| ServiceError::NotFound(format!("no receipt {id}")))?;
    let report: Option<String> = receipt_evidence::table
        .find(id)
        .select(receipt_evidence::registry_report)
        .first(c)
        .optional()?;
    Ok((row, report))
}

/// The receipts matching `filter` as CSV (RFC 4180; newest first; at most
/// [`super::CSV_MAX_ROWS`]), read 1,000 rows at a time by keyset paging.
pub fn csv(c: &mut Conn, actor: &Actor, filter: &ReceiptFilter) -> ServiceResult<String> {
    let mut out = String::from(
        "id,received_at,verdict,registry_verdict,disagreement,vendor,component,version,blob_sha256,blob_size,station,lot,bundle_serial,recorded_by,summary,registry_summary\r\n",
    );
    let mut before = None;
    let mut written = 0i64;
    while written < super::CSV_MAX_ROWS {
        let page = PageRequest::new(Some(1000), before, None);
        let rows = list(c, actor, filter, page)?;
        let Some(last) = rows.last() else { break };
        before = Some(last.id);
        for r in &rows {
            let fields = [
                r.id.to_string(),
                time_str(r.received_at),
                r.verdict.clone(),
                r.registry_verdict.clone(),
                r.disagreement.to_string(),
                r.vendor.clone(),
                r.component.clone(),
                r.version.clone(),
                r.blob_sha256.clone(),
                r.blob_size.to_string(),
                r.station.clone(),
                r.lot.clone(),
                r.bundle_serial.to_string(),
                r.recorded_by.clone(),
                r.summary.clone(),
                r.registry_summary.clone(),
            ];
            out.push_str(&csv_line(&fields));
            written += 1;
        }
    }
    Ok(out)
}

/// How many registry-accepted receipts have the certificate `der` in their
/// path, as the signer or as a CA above it (the revocation confirmation).
pub fn count_in_path(c: &mut Conn, der: &[u8]) -> ServiceResult<i64> {
    let cert = inspector::cert::ParsedCert::from_der(der.to_vec())
        .map_err(|e| ServiceError::Invalid(format!("certificate: {e}")))?;
    evidence::count_in_path(c, &cert)
}

/// The registry's own attestation about one receipt: an in-toto Statement
/// v1 with a SLSA VSA v1 predicate built from the registry's report (its
/// verdict, not the station's), the trust-bundle serial it judged under and
/// the evidence's digest, to be signed by the registry key. `None` when
/// the registry has no report (no evidence could be evaluated).
pub fn attestation_statement(
    c: &mut Conn,
    actor: &Actor,
    id: i64,
    verifier_id: &str,
) -> ServiceResult<inspector::attest::Statement> {
    actor.require(READERS, "read receipts")?;
    let (row, report) = get_full(c, id)?;
    let evidence: Option<Vec<u8>> = receipt_evidence::table
        .find(id)
        .select(receipt_evidence::signature)
        .first(c)
        .optional()?;
    let (Some(report), Some(evidence)) = (report.filter(|r| !r.is_empty()), evidence) else {
        return Err(ServiceError::NotFound(format!(
            "receipt {id} has no registry verdict to attest ({})",
            row.registry_verdict
        )));
    };
    let mut report: Report = serde_json::from_str(&report).map_err(ServiceError::internal)?;
    // The registry's verdict now (a revocation may have withdrawn it).
    if row.registry_verdict != evidence::ACCEPT {
        report.verdict = Verdict::Reject;
        report.summary = row.registry_summary.clone();
    }
    Ok(inspector::attest::statement(
        &report,
        &inspector::attest::Context {
            verifier_id: verifier_id.to_string(),
            station: &row.station,
            lot: &row.lot,
            bundle_serial: u64::try_from(row.verified_serial).unwrap_or(0),
            policy_sha256: None,
            evidence: &evidence,
        },
    ))
}

/// The newest registry-accepted receipt for each of `images` (component,
/// version, SHA-256), for per-image attestations.
pub fn accepted_receipt_for(
    c: &mut Conn,
    component: &str,
    version: &str,
    sha256: &str,
) -> ServiceResult<Option<i64>> {
    Ok(receipts::table
        .filter(receipts::registry_verdict.eq(evidence::ACCEPT))
        .filter(receipts::component.eq(component))
        .filter(receipts::version.eq(version))
        .filter(receipts::blob_sha256.eq(sha256))
        .order(receipts::id.desc())
        .select(receipts::id)
        .first(c)
        .optional()?)
}

/// What proves one image: the newest receipt the registry accepted for this
/// component and blob, with the registry's own report on its evidence.
pub struct ImageProof {
    /// The receipt.
    pub receipt: i64,
    /// Vendor and version as the receipt names them.
    pub vendor: String,
    /// Version.
    pub version: String,
    /// When the registry verified the evidence (Unix seconds).
    pub verified_at: i64,
    /// The trust-bundle serial it was verified under.
    pub verified_serial: i64,
    /// The registry's verification report (JSON), when kept.
    pub registry_report: Option<serde_json::Value>,
    /// The evidence itself (the signature), when kept.
    pub signature: Option<Vec<u8>>,
}

/// The proof of an image, if the registry accepted one.
pub fn proof_of_image(
    c: &mut Conn,
    component: &str,
    sha256: &str,
) -> ServiceResult<Option<ImageProof>> {
    let row: Option<ReceiptRow> = receipts::table
        .filter(receipts::registry_verdict.eq(evidence::ACCEPT))
        .filter(receipts::component.eq(component))
        .filter(receipts::blob_sha256.eq(sha256))
        .order(receipts::id.desc())
        .select(ReceiptRow::as_select())
        .first(c)
        .optional()?;
    let Some(row) = row else {
        return Ok(None);
    };
    let (_, report) = get_full(c, row.id)?;
    let signature: Option<Vec<u8>> = receipt_evidence::table
        .find(row.id)
        .select(receipt_evidence::signature)
        .first(c)
        .optional()?;
    Ok(Some(ImageProof {
        signature,
        receipt: row.id,
        vendor: row.vendor,
        version: row.version,
        verified_at: row.verified_at,
        verified_serial: row.verified_serial,
        registry_report: report.and_then(|r| serde_json::from_str(&r).ok()),
    }))
}
