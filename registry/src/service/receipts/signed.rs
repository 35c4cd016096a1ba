//! Receipts signed by their stations: DSSE envelopes over in-toto VSA
//! statements, bound to the posting token; late (offline) receipts.

use super::intake::{Prepared, prepare, store};
use super::*;

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
    let key = crate::service::stations::signing_key(c, actor, &keyids)?;
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
