//! Receipt intake: validate, re-verify outside any transaction, store in
//! one transaction (with the lock order `store` documents).

use super::chain::receipt_head;
use super::*;

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
pub(super) struct Prepared {
    pub(super) row: NewReceipt,
    pub(super) claims: evidence::Claims,
    pub(super) signature: Option<Vec<u8>>,
    /// The station's DSSE envelope, for a signed receipt.
    pub(super) envelope: Option<String>,
    /// For a late receipt (an offline station's signed receipt whose
    /// stated time lies in its bundle's validity window): judge at this
    /// time instead of the time the registry received it.
    pub(super) at: Option<OffsetDateTime>,
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

pub(super) fn prepare(r: &ReceiptRequest, recorded_by: &str, now: i64) -> ServiceResult<Prepared> {
    if r.station.trim().is_empty() {
        return Err(ServiceError::Invalid("station must not be empty".into()));
    }
    crate::service::bounded("station", &r.station, 128)?;
    crate::service::bounded("lot", &r.lot, 128)?;
    crate::service::bounded("report.vendor", &r.report.vendor, 128)?;
    crate::service::bounded("report.component", &r.report.component, 128)?;
    crate::service::bounded("report.version", &r.report.version, 128)?;
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
pub(super) fn store(
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
    // An RFC 4108 package that signs a stale version raises its
    // component's vendor floor when accepted: that change is audited, so
    // such a batch takes the audit lock from the start.
    // Only evidence the core judged as an RFC 4108 package is parsed
    // again (ordinary receipts pay nothing on this path).
    let stale: Vec<Option<(String, u64)>> = prepared
        .iter()
        .zip(&verifications)
        .map(|(p, v)| {
            let package = v.report.as_ref().is_some_and(|r| {
                r.checks
                    .iter()
                    .any(|c| c.id == inspector::report::CheckId::FirmwarePackage)
            });
            p.signature.as_deref().filter(|_| package).and_then(|s| {
                inspector::firmware_package::stale_of(s, &inspector::Limits::default())
            })
        })
        .collect();
    let mut audit_lock =
        prepared.iter().any(|p| p.row.disagreement) || stale.iter().any(Option::is_some);
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
        )
        .and_then(|ids| match ids {
            Some(ids) if audit_lock => {
                raise_vendor_floors(c, &prepared, &verifications, &stale, &ids)?;
                Ok(Some(ids))
            }
            other => Ok(other),
        });
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

/// Raises the vendor floor of every component whose accepted receipt is an
/// RFC 4108 package signing a stale version S: (S+1).0.0.
fn raise_vendor_floors(
    c: &mut Conn,
    prepared: &[Prepared],
    verifications: &[evidence::Verification],
    stale: &[Option<(String, u64)>],
    ids: &[i64],
) -> ServiceResult<()> {
    for (((p, v), s), id) in prepared.iter().zip(verifications).zip(stale).zip(ids) {
        if let (Some((_, s)), true) = (s, v.verdict == evidence::ACCEPT) {
            let floor = semver::Version::new(s.saturating_add(1), 0, 0);
            crate::service::components::raise_vendor_floor(
                c,
                &p.row.recorded_by,
                &p.row.component,
                &floor,
                *id,
            )?;
        }
    }
    Ok(())
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
        crate::service::audit::begin_change(c, false)?;
    }
    let n = i64::try_from(prepared.len()).unwrap_or(i64::MAX);
    crate::service::audit::bump_by(c, "receipt_rows", n)?;
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
        crate::service::audit::record(
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
    let mut v = evidence_view(c, id)?;
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
