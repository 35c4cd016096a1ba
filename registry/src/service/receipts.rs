//! Inspection receipts: append-only records of station verdicts, and the
//! one receipt filter (API, pages, CSV download).

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

/// Converts a full row and its evidence (single-receipt reads).
pub fn full_view(r: Receipt, registry_report: Option<String>) -> ReceiptView {
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
        report: serde_json::from_str(&r.report).ok(),
        registry_report: registry_report
            .filter(|s| !s.is_empty())
            .and_then(|s| serde_json::from_str(&s).ok()),
        capability_warnings: vec![],
    }
}

/// The report's one-line summary.
pub fn summary_of(report: &str) -> String {
    serde_json::from_str::<serde_json::Value>(report)
        .ok()
        .and_then(|v| {
            v.get("summary")
                .and_then(|s| s.as_str())
                .map(str::to_string)
        })
        .unwrap_or_default()
}

/// Flags the accepted signer's key when a stage of the product that loads
/// the component cannot verify it.
fn receipt_capability(c: &mut Conn, product: &str, report: &Report) -> ServiceResult<Vec<String>> {
    let stages: Option<String> = products::table
        .find(product)
        .select(products::stages)
        .first(c)
        .optional()?;
    let stages: Vec<crate::allowlist::Stage> = match stages {
        Some(s) => serde_json::from_str(&s).map_err(ServiceError::internal)?,
        None => return Err(ServiceError::Invalid(format!("no product '{product}'"))),
    };
    // The same rule, and the same words, as `tollgate-inspect verify --product`.
    let stages: Vec<inspector::policy::StageDocument> =
        stages.into_iter().map(Into::into).collect();
    let check = inspector::verify::capability_check(product, &stages, report);
    Ok(if check.outcome == inspector::report::Outcome::Fail {
        vec![check.reason]
    } else {
        vec![]
    })
}

/// What receipt intake needs besides the database: the trust policy of the
/// current serial, and the instant to judge evidence at (now, or a pinned
/// time for reproductions: `serve --pin-time`).
pub struct Intake<'a> {
    /// The policy cache.
    pub policies: &'a evidence::PolicyCache,
    /// The registry's verification time.
    pub time: OffsetDateTime,
    /// How long a trust bundle stays fresh: the validity window in which an
    /// offline station's stated time is believed.
    pub bundle_ttl: std::time::Duration,
}

/// A validated request, ready to verify and store.
struct Prepared {
    row: NewReceipt,
    claims: evidence::Claims,
    signature: Option<Vec<u8>>,
    /// The station's DSSE envelope, for a signed receipt.
    envelope: Option<String>,
    /// For a late receipt (an offline station's signed receipt whose
    /// stated time lies in its bundle's validity window): judge at this
    /// time instead of the time the registry received it.
    at: Option<OffsetDateTime>,
}

fn hex_digest(field: &str, v: &Option<String>, len: usize) -> ServiceResult<Option<String>> {
    match v {
        None => Ok(None),
        Some(h) if h.len() == len && h.bytes().all(|b| b.is_ascii_hexdigit()) => {
            Ok(Some(h.to_ascii_lowercase()))
        }
        Some(_) => Err(ServiceError::Invalid(format!(
            "{field} must be {len} hexadecimal digits"
        ))),
    }
}

fn prepare(r: &ReceiptRequest, recorded_by: &str, now: i64) -> ServiceResult<Prepared> {
    if r.station.trim().is_empty() {
        return Err(ServiceError::Invalid("station must not be empty".into()));
    }
    super::bounded("station", &r.station, 128)?;
    super::bounded("lot", &r.lot, 128)?;
    super::bounded("report.vendor", &r.report.vendor, 128)?;
    super::bounded("report.component", &r.report.component, 128)?;
    super::bounded("report.version", &r.report.version, 128)?;
    let (Some(sha), Some(size)) = (&r.report.blob.sha256, r.report.blob.size) else {
        return Err(ServiceError::Invalid(
            "the report lacks the blob's sha256 and size".into(),
        ));
    };
    let sha256 = hex_digest("report.blob.sha256", &Some(sha.clone()), 64)?.unwrap_or_default();
    let sha384 = hex_digest("report.blob.sha384", &r.report.blob.sha384, 96)?;
    let sha512 = hex_digest("report.blob.sha512", &r.report.blob.sha512, 128)?;
    let report = serde_json::to_string(&r.report).map_err(ServiceError::internal)?;
    if report.len() > MAX_REPORT_BYTES {
        return Err(ServiceError::Invalid(format!(
            "report is {} bytes; at most {MAX_REPORT_BYTES} are accepted",
            report.len()
        )));
    }
    let signature = match &r.signature {
        None => None,
        Some(b64) => {
            if b64.len() > MAX_SIGNATURE_BYTES / 3 * 4 + 4 {
                return Err(ServiceError::Invalid(format!(
                    "signature is over {MAX_SIGNATURE_BYTES} bytes"
                )));
            }
            use base64::Engine;
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(b64.trim())
                .map_err(|e| ServiceError::Invalid(format!("signature is not base64: {e}")))?;
            if bytes.is_empty() || bytes.len() > MAX_SIGNATURE_BYTES {
                return Err(ServiceError::Invalid(format!(
                    "signature must be 1 to {MAX_SIGNATURE_BYTES} bytes"
                )));
            }
            Some(bytes)
        }
    };
    let summary: String = r.report.summary.chars().take(1000).collect();
    let mut uid = [0u8; 16];
    rand::Rng::fill(&mut rand::rng(), &mut uid);
    Ok(Prepared {
        claims: evidence::Claims {
            vendor: r.report.vendor.clone(),
            component: r.report.component.clone(),
            version: r.report.version.clone(),
            sha256: sha256.clone(),
            sha384: sha384.clone(),
            sha512: sha512.clone(),
            size,
        },
        row: NewReceipt {
            received_at: now,
            station: r.station.clone(),
            lot: r.lot.clone(),
            vendor: r.report.vendor.clone(),
            component: r.report.component.clone(),
            version: r.report.version.clone(),
            verdict: match r.report.verdict {
                Verdict::Accept => "accept".into(),
                Verdict::Reject => "reject".into(),
            },
            blob_sha256: sha256,
            blob_size: i64::try_from(size).unwrap_or(i64::MAX),
            bundle_serial: r.bundle_serial,
            report,
            recorded_by: recorded_by.to_string(),
            uid: inspector::digest::hex(&uid),
            summary,
            blob_sha384: sha384,
            blob_sha512: sha512,
            registry_verdict: evidence::ASSERTED.into(),
            registry_summary: String::new(),
            verified_at: 0,
            verified_serial: 0,
            ever_accepted: false,
            disagreement: false,
            station_key: None,
            prev_hash: String::new(),
            hash: String::new(),
            late: false,
            station_time: None,
        },
        signature,
        envelope: None,
        at: None,
    })
}

/// Judges one prepared receipt under `policy`, filling the registry's
/// columns of its row.
fn judge(
    p: &mut Prepared,
    policy: &TrustPolicy,
    paths: Option<&inspector::chain::PathCache>,
    serial: i64,
    received: OffsetDateTime,
) -> evidence::Verification {
    let at = p.at.unwrap_or(received);
    let v = match &p.signature {
        None => evidence::Verification::asserted(
            "station-asserted: no signature material was sent with this receipt",
        ),
        Some(sig) => evidence::verify(policy, paths, &p.claims, sig, at),
    };
    let row = &mut p.row;
    row.registry_verdict = v.verdict.to_string();
    row.registry_summary = v.summary.chars().take(2000).collect();
    row.verified_at = at.unix_timestamp();
    row.verified_serial = serial;
    row.ever_accepted = v.verdict == evidence::ACCEPT;
    row.disagreement = v.verdict != evidence::ASSERTED && v.verdict != row.verdict;
    v
}

/// The bundle serial committed now, read so that a trust change in
/// progress is waited for (PostgreSQL: a share lock on the serial row,
/// which every trust change updates; SQLite: the caller's transaction
/// already holds the single write lock).
fn serial_for_intake(c: &mut Conn) -> ServiceResult<i64> {
    use schema::schema::registry_state;
    let q = registry_state::table
        .filter(registry_state::key.eq("bundle_serial"))
        .select(registry_state::value);
    Ok(match c {
        schema::DbConnection::Pg(pg) => q.for_share().first(pg)?,
        schema::DbConnection::Sqlite(lite) => q.first(lite)?,
    })
}

/// The chain hash of one receipt: the previous hash, what was received
/// (claims, station report, who recorded it, the evidence's SHA-256 and
/// the station key), never the registry's later re-judgement.
pub fn receipt_hash(prev: &str, r: &NewReceipt, evidence_sha256: &str) -> String {
    let (received, size, serial) = (
        r.received_at.to_string(),
        r.blob_size.to_string(),
        r.bundle_serial.to_string(),
    );
    super::audit::chain_hash(
        prev,
        &[
            Some(&r.uid),
            Some(&received),
            Some(&r.station),
            Some(&r.lot),
            Some(&r.vendor),
            Some(&r.component),
            Some(&r.version),
            Some(&r.verdict),
            Some(&r.blob_sha256),
            Some(&size),
            Some(&serial),
            Some(&r.report),
            Some(&r.recorded_by),
            Some(evidence_sha256),
            r.station_key.as_deref(),
        ],
    )
}

/// The hash of the newest chained receipt (the genesis hash before any).
fn receipt_head(c: &mut Conn) -> ServiceResult<String> {
    Ok(receipts::table
        .filter(receipts::hash.ne(""))
        .order(receipts::id.desc())
        .select(receipts::hash)
        .first(c)
        .optional()?
        .unwrap_or_else(|| super::audit::GENESIS.to_string()))
}

/// Verifies (outside any transaction), then stores every receipt with its
/// evidence in one transaction. A trust change committed between the two
/// (the serial moved) makes the receipts be judged again under it, inside
/// the transaction, so no receipt escapes a revocation's re-evaluation.
///
/// Locks are always taken in one order, the order trust changes use too:
/// the audit write lock (only when disagreements will be audited), then
/// the receipt chain's row (`receipt_rows`: receipt writers queue here, so
/// the chain never forks), then a share lock on the bundle serial. A
/// re-judgement that finds a disagreement the first attempt did not expect
/// rolls back and starts again holding the audit lock: no deadlock.
fn store(
    c: &mut Conn,
    intake: &Intake<'_>,
    mut prepared: Vec<Prepared>,
) -> ServiceResult<Vec<(Prepared, i64)>> {
    let cached = intake.policies.get(c)?;
    let serial = cached.serial;
    // Verification is pure CPU work: a large batch is split over the cores
    // (outside any transaction; nothing is locked yet).
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get());
    let chunk = prepared.len().div_ceil(workers).max(64);
    let mut verifications: Vec<evidence::Verification> = std::thread::scope(|scope| {
        let handles: Vec<_> = prepared
            .chunks_mut(chunk)
            .map(|part| {
                let cached = &cached;
                let time = intake.time;
                scope.spawn(move || {
                    part.iter_mut()
                        .map(|p| judge(p, &cached.policy, Some(&cached.paths), serial, time))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_default())
            .collect()
    });
    if verifications.len() != prepared.len() {
        return Err(ServiceError::internal("a verification worker failed"));
    }
    let mut audit_lock = prepared.iter().any(|p| p.row.disagreement);
    loop {
        type Tm = <Conn as diesel::Connection>::TransactionManager;
        use diesel::connection::TransactionManager;
        Tm::begin_transaction(c)?;
        let attempt = store_once(
            c,
            intake,
            &mut prepared,
            &mut verifications,
            serial,
            audit_lock,
        );
        match attempt {
            Ok(Some(ids)) => {
                Tm::commit_transaction(c)?;
                return Ok(prepared.into_iter().zip(ids).collect());
            }
            Ok(None) => {
                Tm::rollback_transaction(c)?;
                audit_lock = true;
            }
            Err(e) => {
                Tm::rollback_transaction(c)?;
                return Err(e);
            }
        }
    }
}

/// One attempt of [`store`] inside its transaction: `None` when it must be
/// retried holding the audit lock.
fn store_once(
    c: &mut Conn,
    intake: &Intake<'_>,
    prepared: &mut [Prepared],
    verifications: &mut [evidence::Verification],
    serial: i64,
    audit_lock: bool,
) -> ServiceResult<Option<Vec<i64>>> {
    if audit_lock {
        super::audit::begin_change(c, false)?;
    }
    let n = i64::try_from(prepared.len()).unwrap_or(i64::MAX);
    super::audit::bump_by(c, "receipt_rows", n)?;
    let now_serial = serial_for_intake(c)?;
    if now_serial != serial {
        let (s, fresh) = evidence::policy_now(c)?;
        for (p, v) in prepared.iter_mut().zip(verifications.iter_mut()) {
            *v = judge(p, &fresh, None, s, intake.time);
        }
        if !audit_lock && prepared.iter().any(|p| p.row.disagreement) {
            return Ok(None);
        }
    }
    let mut prev = receipt_head(c)?;
    let mut ids = Vec::with_capacity(prepared.len());
    for p in prepared.iter_mut() {
        let evidence_sha = p
            .signature
            .as_deref()
            .map(|s| inspector::digest::hex(&inspector::digest::DigestAlgorithm::Sha256.hash(s)))
            .unwrap_or_default();
        p.row.prev_hash = prev.clone();
        p.row.hash = receipt_hash(&prev, &p.row, &evidence_sha);
        prev = p.row.hash.clone();
        diesel::insert_into(receipts::table)
            .values(&p.row)
            .execute(c)?;
        let id: i64 = receipts::table
            .filter(receipts::uid.eq(&p.row.uid))
            .select(receipts::id)
            .first(c)?;
        ids.push(id);
    }
    for ((p, id), v) in prepared.iter().zip(&ids).zip(verifications.iter()) {
        if let Some(sig) = &p.signature {
            let evidence_row = ReceiptEvidence {
                receipt_id: *id,
                signature: sig.clone(),
                registry_report: v
                    .report
                    .as_ref()
                    .map(serde_json::to_string)
                    .transpose()
                    .map_err(ServiceError::internal)?
                    .unwrap_or_default(),
                envelope: p.envelope.clone(),
            };
            diesel::insert_into(receipt_evidence::table)
                .values(&evidence_row)
                .execute(c)?;
        }
        if v.verdict == evidence::ACCEPT {
            for r in v.path_certs(*id) {
                diesel::insert_into(receipt_certs::table)
                    .values(&r)
                    .execute(c)?;
            }
        }
    }
    let flagged: Vec<serde_json::Value> = prepared
        .iter()
        .zip(&ids)
        .filter(|(p, _)| p.row.disagreement)
        .map(|(p, id)| {
            serde_json::json!({
                "receipt": id, "station": p.row.station, "station_verdict": p.row.verdict,
                "registry_verdict": p.row.registry_verdict, "why": p.row.registry_summary,
                "vendor": p.row.vendor, "component": p.row.component, "sha256": p.row.blob_sha256,
            })
        })
        .collect();
    if !flagged.is_empty() {
        let (by, first) = prepared
            .first()
            .zip(ids.first())
            .map(|(p, id)| (p.row.recorded_by.clone(), id.to_string()))
            .unwrap_or_default();
        super::audit::record(
            c,
            &by,
            "disagree",
            "receipt",
            &first,
            None::<&()>,
            Some(&flagged),
        )?;
    }
    Ok(Some(ids))
}

/// Records one receipt after re-verifying its evidence; returns exactly
/// the receipt it created, with the capability warnings for the product
/// named in the request.
pub fn create(
    c: &mut Conn,
    actor: &Actor,
    intake: &Intake<'_>,
    body: ReceiptRequest,
) -> ServiceResult<ReceiptView> {
    actor.require(INSPECTION, "record receipts")?;
    let p = prepare(&body, &actor.label(), crate::now_unix())?;
    let warnings = match &body.product {
        Some(prod) => receipt_capability(c, prod, &body.report)?,
        None => vec![],
    };
    let stored = store(c, intake, vec![p])?;
    let id = stored.first().map(|(_, id)| *id).unwrap_or_default();
    let (row, ev) = get_full(c, id)?;
    let mut v = full_view(row, ev);
    v.report = None;
    v.capability_warnings = warnings;
    Ok(v)
}

/// Most receipts in one batch (each may carry up to 1 MiB of evidence; the
/// request body is bounded too).
pub const MAX_BATCH: usize = 1_000;

/// What a batch recorded.
#[derive(Serialize, ToSchema, Debug)]
pub struct BatchResult {
    /// How many receipts were recorded.
    pub recorded: usize,
    /// Their ids, in request order.
    pub ids: Vec<i64>,
    /// How many the registry accepted.
    pub registry_accepted: usize,
    /// How many disagree with the station's verdict.
    pub disagreements: usize,
}

/// Records many receipts in one transaction: all or none.
pub fn create_batch(
    c: &mut Conn,
    actor: &Actor,
    intake: &Intake<'_>,
    body: ReceiptBatch,
) -> ServiceResult<BatchResult> {
    actor.require(INSPECTION, "record receipts")?;
    if body.receipts.len() > MAX_BATCH {
        return Err(ServiceError::Invalid(format!(
            "receipts: at most {MAX_BATCH} per batch"
        )));
    }
    let now = crate::now_unix();
    let label = actor.label();
    let prepared = body
        .receipts
        .iter()
        .enumerate()
        .map(|(i, r)| {
            prepare(r, &label, now).map_err(|e| match e {
                ServiceError::Invalid(m) => ServiceError::Invalid(format!("receipts[{i}]: {m}")),
                other => other,
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let stored = store(c, intake, prepared)?;
    Ok(BatchResult {
        recorded: stored.len(),
        registry_accepted: stored
            .iter()
            .filter(|(p, _)| p.row.registry_verdict == evidence::ACCEPT)
            .count(),
        disagreements: stored.iter().filter(|(p, _)| p.row.disagreement).count(),
        ids: stored.into_iter().map(|(_, id)| id).collect(),
    })
}

/// One receipt signed by its station (docs/evidence.md).
#[derive(Deserialize, Serialize, ToSchema, Clone)]
#[serde(deny_unknown_fields)]
pub struct SignedReceiptRequest {
    /// DSSE envelope (payload type `application/vnd.in-toto+json`) over an
    /// in-toto Statement v1 with a SLSA VSA v1 predicate whose `tollgate`
    /// field holds the station, lot, bundle serial and report; signed by a
    /// registered station key bound to the posting token.
    #[schema(value_type = Object)]
    pub envelope: inspector::dsse::Envelope,
    /// Base64 of the signature file the station verified (at most 1 MiB);
    /// its SHA-256 must be the statement's input attestation.
    pub signature: String,
}

/// Signed receipts, all or none (at most 1,000). Idempotent: an envelope
/// already recorded is not recorded again.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignedBatch {
    /// The receipts.
    pub receipts: Vec<SignedReceiptRequest>,
}

/// What a signed batch recorded.
#[derive(Serialize, ToSchema, Debug)]
pub struct SignedBatchResult {
    /// Receipts recorded by this request.
    pub recorded: usize,
    /// Envelopes recorded before (by an earlier push): not recorded again.
    pub already_recorded: usize,
    /// The receipt id of every envelope, in request order.
    pub ids: Vec<i64>,
    /// How many of the new ones the registry accepted.
    pub registry_accepted: usize,
    /// How many of the new ones disagree with their station.
    pub disagreements: usize,
}

/// Records receipts signed by their stations: each envelope must be signed
/// by a registered, unretired station key bound to the posting token, name
/// that station, and carry the evidence sent with it; then the evidence is
/// re-verified like any receipt. Pushing an envelope again records nothing
/// new and answers its existing id.
pub fn create_signed(
    c: &mut Conn,
    actor: &Actor,
    intake: &Intake<'_>,
    body: SignedBatch,
) -> ServiceResult<SignedBatchResult> {
    actor.require(INSPECTION, "record receipts")?;
    if body.receipts.len() > MAX_BATCH {
        return Err(ServiceError::Invalid(format!(
            "receipts: at most {MAX_BATCH} per batch"
        )));
    }
    let now = crate::now_unix();
    let label = actor.label();
    let at = |i: usize| {
        move |e: ServiceError| match e {
            ServiceError::Invalid(m) => ServiceError::Invalid(format!("receipts[{i}]: {m}")),
            ServiceError::Forbidden(m) => ServiceError::Forbidden(format!("receipts[{i}]: {m}")),
            other => other,
        }
    };
    let mut fresh: Vec<Prepared> = Vec::new();
    let mut uids: Vec<String> = Vec::with_capacity(body.receipts.len());
    for (i, r) in body.receipts.iter().enumerate() {
        let uid = format!("dsse:{}", r.envelope.digest());
        uids.push(uid.clone());
        if fresh.iter().any(|p| p.row.uid == uid) {
            continue;
        }
        let p = prepare_signed(c, actor, intake, r, &label, now, uid).map_err(at(i))?;
        fresh.push(p);
    }
    let known: Vec<(String, i64)> = receipts::table
        .filter(receipts::uid.eq_any(&uids))
        .select((receipts::uid, receipts::id))
        .load(c)?;
    fresh.retain(|p| !known.iter().any(|(u, _)| *u == p.row.uid));
    let stored = store(c, intake, fresh)?;
    let id_of = |uid: &str| {
        known
            .iter()
            .find(|(u, _)| u == uid)
            .map(|(_, id)| *id)
            .or_else(|| {
                stored
                    .iter()
                    .find(|(p, _)| p.row.uid == uid)
                    .map(|(_, id)| *id)
            })
            .unwrap_or_default()
    };
    Ok(SignedBatchResult {
        ids: uids.iter().map(|u| id_of(u)).collect(),
        recorded: stored.len(),
        already_recorded: known.len(),
        registry_accepted: stored
            .iter()
            .filter(|(p, _)| p.row.registry_verdict == evidence::ACCEPT)
            .count(),
        disagreements: stored.iter().filter(|(p, _)| p.row.disagreement).count(),
    })
}

/// Receipts stated more than this before they arrive are "late".
const LATE_AFTER_SECONDS: i64 = 300;

/// An offline station's signed receipt is judged at the time it states
/// when that time lies inside the validity window of the trust bundle it
/// names (from when that serial became current, for the bundle freshness
/// period) and is not in the future: it is then marked late and keeps both
/// times. Otherwise it is judged when received. The stated time never lets
/// a revocation issued before that bundle be skipped: such a revocation
/// was in force at every time of the window.
fn late_time(
    c: &mut Conn,
    intake: &Intake<'_>,
    p: &mut Prepared,
    stated: &str,
) -> ServiceResult<()> {
    let Ok(t) = OffsetDateTime::parse(stated, &time::format_description::well_known::Rfc3339)
    else {
        return Ok(());
    };
    p.row.station_time = Some(t.unix_timestamp());
    let issued: Option<i64> = schema::schema::bundle_serials::table
        .find(p.row.bundle_serial)
        .select(schema::schema::bundle_serials::issued_at)
        .first(c)
        .optional()?;
    let Some(issued) = issued else { return Ok(()) };
    let ttl = i64::try_from(intake.bundle_ttl.as_secs()).unwrap_or(i64::MAX);
    let (stated, received) = (t.unix_timestamp(), intake.time.unix_timestamp());
    if stated >= issued
        && stated <= issued.saturating_add(ttl)
        && stated <= received
        && received - stated > LATE_AFTER_SECONDS
    {
        p.row.late = true;
        p.at = Some(t);
    }
    Ok(())
}

/// Checks one envelope (key, binding, signature, statement, evidence) and
/// prepares its receipt.
fn prepare_signed(
    c: &mut Conn,
    actor: &Actor,
    intake: &Intake<'_>,
    r: &SignedReceiptRequest,
    label: &str,
    now: i64,
    uid: String,
) -> ServiceResult<Prepared> {
    use base64::Engine;
    if r.signature.len() > MAX_SIGNATURE_BYTES / 3 * 4 + 4 {
        return Err(ServiceError::Invalid(format!(
            "signature is over {MAX_SIGNATURE_BYTES} bytes"
        )));
    }
    let evidence = base64::engine::general_purpose::STANDARD
        .decode(r.signature.trim())
        .map_err(|e| ServiceError::Invalid(format!("signature is not base64: {e}")))?;
    let keyids: Vec<&str> = r.envelope.keyids().take(8).collect();
    let key = super::stations::signing_key(c, actor, &keyids)?;
    let payload = r
        .envelope
        .open(inspector::dsse::IN_TOTO_PAYLOAD_TYPE, &key.spki_der)
        .map_err(|e| ServiceError::Invalid(format!("envelope: {e}")))?;
    let statement = inspector::attest::Statement::parse(&payload, &evidence)
        .map_err(|e| ServiceError::Invalid(format!("envelope: {e}")))?;
    let details = statement.predicate.tollgate;
    if details.station != key.name {
        return Err(ServiceError::Invalid(format!(
            "envelope: the statement names station '{}', but it is signed by station '{}''s key",
            details.station, key.name
        )));
    }
    let request = ReceiptRequest {
        station: key.name.clone(),
        lot: details.lot,
        bundle_serial: i64::try_from(details.bundle_serial).unwrap_or(i64::MAX),
        report: details.report,
        signature: Some(r.signature.clone()),
        product: None,
    };
    let mut p = prepare(&request, label, now)?;
    p.row.uid = uid;
    p.row.station_key = Some(key.keyid);
    late_time(c, intake, &mut p, &statement.predicate.time_verified)?;
    p.envelope = Some(serde_json::to_string(&r.envelope).map_err(ServiceError::internal)?);
    Ok(p)
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
    let (row, ev) = get_full(c, id)?;
    Ok(full_view(row, ev))
}

/// A receipt row and the registry's report on its evidence.
fn get_full(c: &mut Conn, id: i64) -> ServiceResult<(Receipt, Option<String>)> {
    let row = receipts::table
        .find(id)
        .select(Receipt::as_select())
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

/// Most bytes of a blob uploaded to settle a station-asserted receipt: what
/// the inspector keeps in memory for a signature over the content itself
/// (Ed25519 without signed attributes).
pub fn max_blob_upload() -> usize {
    inspector::Limits::default().max_unhashed_content_bytes
}

/// Settles a station-asserted receipt with the blob itself: the blob must
/// be the one the receipt claims (SHA-256 and size), and the registry then
/// verifies the evidence over it, as at the time it first received the
/// receipt. The registry's verdict, report and path replace "asserted";
/// audited. The blob is not kept.
pub fn verify_blob(
    c: &mut Conn,
    actor: &Actor,
    intake: &Intake<'_>,
    id: i64,
    blob: &[u8],
) -> ServiceResult<ReceiptView> {
    actor.require(INSPECTION, "upload blobs for receipts")?;
    let (row, _) = get_full(c, id)?;
    if row.registry_verdict != evidence::ASSERTED {
        return Err(ServiceError::Conflict(format!(
            "receipt {id} is not station-asserted (the registry's verdict is '{}'): there is nothing to settle",
            row.registry_verdict
        )));
    }
    let signature: Vec<u8> = receipt_evidence::table
        .find(id)
        .select(receipt_evidence::signature)
        .first(c)
        .optional()?
        .ok_or_else(|| {
            ServiceError::Conflict(format!(
                "receipt {id} carries no signature material: a blob alone proves nothing"
            ))
        })?;
    let sha = inspector::digest::hex(&inspector::digest::DigestAlgorithm::Sha256.hash(blob));
    if sha != row.blob_sha256 || i64::try_from(blob.len()).ok() != Some(row.blob_size) {
        return Err(ServiceError::Invalid(format!(
            "blob: the upload ({} bytes, SHA-256 {sha}) is not the receipt's blob ({} bytes, SHA-256 {})",
            blob.len(),
            row.blob_size,
            row.blob_sha256
        )));
    }
    let at = OffsetDateTime::from_unix_timestamp(if row.verified_at > 0 {
        row.verified_at
    } else {
        intake.time.unix_timestamp()
    })
    .map_err(ServiceError::internal)?;
    super::transaction(c, |c| {
        // The audit write lock first: the one lock order (see `store`).
        super::audit::begin_change(c, false)?;
        let (serial, policy) = evidence::policy_now(c)?;
        let limits = inspector::Limits::default();
        let req = inspector::VerifyRequest {
            policy: &policy,
            vendor: &row.vendor,
            component: &row.component,
            version: &row.version,
            signature: &signature,
            time: at,
            limits: &limits,
            cache: None,
            existed_at: Some(at),
        };
        let mut reader = blob;
        let v = match inspector::verify(&req, inspector::Artifact::Reader(&mut reader)) {
            Ok(report) => evidence::Verification {
                verdict: if report.verdict == Verdict::Accept {
                    evidence::ACCEPT
                } else {
                    evidence::REJECT
                },
                summary: report.summary.clone(),
                report: Some(report),
            },
            Err(e) => evidence::Verification {
                verdict: evidence::REJECT,
                summary: format!("the evidence could not be evaluated: {e}"),
                report: None,
            },
        };
        let disagreement = v.verdict != row.verdict;
        diesel::update(receipts::table.find(id))
            .set((
                receipts::registry_verdict.eq(v.verdict),
                receipts::registry_summary.eq(v.summary.chars().take(2000).collect::<String>()),
                receipts::verified_serial.eq(serial),
                receipts::ever_accepted.eq(v.verdict == evidence::ACCEPT),
                receipts::disagreement.eq(disagreement),
            ))
            .execute(c)?;
        let report = v
            .report
            .as_ref()
            .map(serde_json::to_string)
            .transpose()
            .map_err(ServiceError::internal)?
            .unwrap_or_default();
        diesel::update(receipt_evidence::table.find(id))
            .set(receipt_evidence::registry_report.eq(report))
            .execute(c)?;
        if v.verdict == evidence::ACCEPT {
            for r in v.path_certs(id) {
                diesel::insert_into(receipt_certs::table)
                    .values(&r)
                    .execute(c)?;
            }
        }
        super::audit::record(
            c,
            &actor.label(),
            "verify-blob",
            "receipt",
            &id.to_string(),
            Some(&serde_json::json!({"registry_verdict": evidence::ASSERTED})),
            Some(
                &serde_json::json!({"registry_verdict": v.verdict, "why": v.summary, "sha256": sha}),
            ),
        )?;
        Ok(())
    })?;
    let (row, ev) = get_full(c, id)?;
    let mut view = full_view(row, ev);
    view.report = None;
    Ok(view)
}

/// Recomputes the receipt chain in id order (1,000 rows at a time): each
/// chained receipt's `prev_hash` must be the hash before it and its hash
/// must match what was received; the count must match the `receipt_rows`
/// counter (deleting the newest receipts is detected too).
pub fn verify_chain(c: &mut Conn) -> ServiceResult<super::audit::ChainVerification> {
    use super::audit::ChainProblem;
    let mut problems = Vec::new();
    let mut prev = super::audit::GENESIS.to_string();
    let mut after = 0i64;
    let mut rows = 0usize;
    loop {
        let page: Vec<(Receipt, Option<Vec<u8>>)> = receipts::table
            .left_join(receipt_evidence::table)
            .filter(receipts::hash.ne(""))
            .filter(receipts::id.gt(after))
            .order(receipts::id.asc())
            .limit(1000)
            .select((Receipt::as_select(), receipt_evidence::signature.nullable()))
            .load(c)?;
        let Some(last) = page.last() else { break };
        after = last.0.id;
        for (r, sig) in &page {
            rows += 1;
            if r.prev_hash != prev {
                problems.push(ChainProblem {
                    id: r.id,
                    problem: "receipt: its prev_hash does not match the receipt before it: a receipt was deleted or edited".into(),
                });
            }
            let evidence_sha = sig
                .as_deref()
                .map(|s| {
                    inspector::digest::hex(&inspector::digest::DigestAlgorithm::Sha256.hash(s))
                })
                .unwrap_or_default();
            let row = NewReceipt {
                received_at: r.received_at,
                station: r.station.clone(),
                lot: r.lot.clone(),
                vendor: r.vendor.clone(),
                component: r.component.clone(),
                version: r.version.clone(),
                verdict: r.verdict.clone(),
                blob_sha256: r.blob_sha256.clone(),
                blob_size: r.blob_size,
                bundle_serial: r.bundle_serial,
                report: r.report.clone(),
                recorded_by: r.recorded_by.clone(),
                uid: r.uid.clone(),
                summary: String::new(),
                blob_sha384: None,
                blob_sha512: None,
                registry_verdict: String::new(),
                registry_summary: String::new(),
                verified_at: 0,
                verified_serial: 0,
                ever_accepted: false,
                disagreement: false,
                station_key: r.station_key.clone(),
                prev_hash: String::new(),
                hash: String::new(),
                late: false,
                station_time: None,
            };
            if receipt_hash(&r.prev_hash, &row, &evidence_sha) != r.hash {
                problems.push(ChainProblem {
                    id: r.id,
                    problem: "receipt: its content or evidence does not match its hash: the receipt was edited".into(),
                });
            }
            prev = r.hash.clone();
        }
    }
    let expected: i64 = schema::schema::registry_state::table
        .filter(schema::schema::registry_state::key.eq("receipt_rows"))
        .select(schema::schema::registry_state::value)
        .first(c)
        .optional()?
        .unwrap_or(0);
    if usize::try_from(expected).ok() != Some(rows) {
        problems.push(ChainProblem {
            id: after,
            problem: format!(
                "receipt: the chain has {rows} receipts but {expected} were written: receipts were deleted (possibly the newest)"
            ),
        });
    }
    Ok(super::audit::ChainVerification {
        rows,
        receipts: rows,
        intact: problems.is_empty(),
        problems,
    })
}

/// The hash of the `n`-th chained receipt (1-based; the genesis hash for 0).
pub fn nth_hash(c: &mut Conn, n: u64) -> ServiceResult<Option<String>> {
    if n == 0 {
        return Ok(Some(super::audit::GENESIS.to_string()));
    }
    Ok(receipts::table
        .filter(receipts::hash.ne(""))
        .order(receipts::id.asc())
        .offset(i64::try_from(n - 1).unwrap_or(i64::MAX))
        .select(receipts::hash)
        .first(c)
        .optional()?)
}
