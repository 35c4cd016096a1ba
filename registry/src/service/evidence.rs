//! The registry re-derives every verdict (issue 16): a receipt's evidence
//! (the signature material and the blob's digests) is verified again with
//! the inspector core against the registry's own trust state, and only
//! what the registry itself verified reaches an allowlist. A revocation
//! re-verifies exactly the receipts whose certification path it touches.

use super::{Conn, ServiceError, ServiceResult};
use diesel::prelude::*;
use inspector::digest::{DigestAlgorithm, Digests};
use inspector::policy::{InlineOnly, RevokedTarget, TrustPolicy};
use inspector::report::{Report, Verdict};
use inspector::{Artifact, Limits, VerifyRequest};
use schema::models::{ReceiptCert, ReceiptEvidence};
use schema::schema::{receipt_certs, receipt_evidence, receipts};
use std::sync::{Arc, Mutex};
use time::OffsetDateTime;

/// The registry's verdict on a receipt's evidence.
pub const ACCEPT: &str = "accept";
/// The evidence does not verify under the registry's trust state.
pub const REJECT: &str = "reject";
/// The evidence cannot be re-verified from digests (or none was sent): the
/// station's word only. Shown as such, never allowlisted.
pub const ASSERTED: &str = "asserted";

/// The trust policy of the current bundle serial, built once per serial
/// (a receipt burst does not rebuild it; any change bumps the serial).
#[derive(Default)]
pub struct PolicyCache {
    current: Mutex<Option<Cached>>,
}

/// The policy of one serial, and the path validations made under it (a
/// burst of receipts signed by one key costs one path validation per
/// second of verification time; renewed when full).
#[derive(Clone)]
pub struct Cached {
    /// The serial.
    pub serial: i64,
    /// Its policy.
    pub policy: Arc<TrustPolicy>,
    /// Path validations under it.
    pub paths: Arc<inspector::chain::PathCache>,
}

impl PolicyCache {
    /// The policy at the serial committed now.
    pub fn get(&self, c: &mut Conn) -> ServiceResult<Cached> {
        let serial = super::bundle::current_serial(c)?;
        if let Ok(mut guard) = self.current.lock()
            && let Some(cached) = guard.as_mut()
            && cached.serial == serial
        {
            if cached.paths.is_full() {
                cached.paths = Arc::default();
            }
            return Ok(cached.clone());
        }
        let (serial, policy) = policy_now(c)?;
        let cached = Cached {
            serial,
            policy: Arc::new(policy),
            paths: Arc::default(),
        };
        if let Ok(mut guard) = self.current.lock() {
            *guard = Some(cached.clone());
        }
        Ok(cached)
    }
}

/// The trust policy as the registry's tables hold it now (inside the
/// caller's transaction, uncommitted changes included): the same document
/// the signed bundle carries, resolved by the inspector.
pub fn policy_now(c: &mut Conn) -> ServiceResult<(i64, TrustPolicy)> {
    let (serial, doc) = super::bundle::build_document(
        c,
        OffsetDateTime::now_utc(),
        std::time::Duration::from_secs(3600),
    )?;
    let policy = TrustPolicy::from_document(&doc, &mut InlineOnly).map_err(|e| {
        ServiceError::internal(format!(
            "the registry's own trust state does not resolve: {e}"
        ))
    })?;
    Ok((serial, policy))
}

/// What a receipt claims about the blob.
#[derive(Clone, Debug)]
pub struct Claims {
    /// Vendor id.
    pub vendor: String,
    /// Component.
    pub component: String,
    /// Version.
    pub version: String,
    /// SHA-256 (lower-case hex, required).
    pub sha256: String,
    /// SHA-384, when the signature uses it.
    pub sha384: Option<String>,
    /// SHA-512, when the signature uses it.
    pub sha512: Option<String>,
    /// Size in bytes.
    pub size: u64,
}

impl Claims {
    fn digests(&self) -> Digests {
        let mut values = Vec::new();
        for (alg, hex) in [
            (DigestAlgorithm::Sha256, Some(&self.sha256)),
            (DigestAlgorithm::Sha384, self.sha384.as_ref()),
            (DigestAlgorithm::Sha512, self.sha512.as_ref()),
        ] {
            if let Some(v) = hex.and_then(|h| inspector::policy::parse_hex(h)) {
                values.push((alg, v));
            }
        }
        Digests::known(values, self.size)
    }
}

/// The registry's conclusion on one receipt's evidence.
#[derive(Clone, Debug)]
pub struct Verification {
    /// [`ACCEPT`], [`REJECT`] or [`ASSERTED`].
    pub verdict: &'static str,
    /// One sentence.
    pub summary: String,
    /// The registry's report (absent when digests cannot decide).
    pub report: Option<Report>,
}

impl Verification {
    /// The station's word only.
    pub fn asserted(why: impl Into<String>) -> Self {
        Verification {
            verdict: ASSERTED,
            summary: why.into(),
            report: None,
        }
    }

    /// The certificates of the accepted signers' paths (signer first), for
    /// [`receipt_certs`].
    pub fn path_certs(&self, receipt_id: i64) -> Vec<ReceiptCert> {
        let mut out = Vec::new();
        let Some(r) = &self.report else {
            return out;
        };
        for s in r.signers.iter().filter(|s| s.accepted) {
            for c in s.certificate.iter().chain(s.path.iter()) {
                if out.iter().any(|o: &ReceiptCert| o.sha256 == c.sha256) {
                    continue;
                }
                out.push(ReceiptCert {
                    receipt_id,
                    position: i32::try_from(out.len()).unwrap_or(i32::MAX),
                    sha256: c.sha256.clone(),
                    issuer: c.issuer.clone(),
                    serial: c.serial.trim_start_matches('0').to_string(),
                });
            }
        }
        out
    }
}

/// Verifies `signature` for `claims` with the inspector core, from the
/// blob's digests, at `time` (an RFC 3161 token in the evidence moves the
/// signing time to the time it proves, as on a station).
pub fn verify(
    policy: &TrustPolicy,
    paths: Option<&inspector::chain::PathCache>,
    claims: &Claims,
    signature: &[u8],
    time: OffsetDateTime,
) -> Verification {
    verify_artifact(
        policy,
        paths,
        claims,
        signature,
        time,
        Artifact::Digests(claims.digests()),
    )
}

/// [`verify`] over a given artifact (the blob itself, when a station
/// uploads it to settle station-asserted evidence).
pub fn verify_artifact(
    policy: &TrustPolicy,
    paths: Option<&inspector::chain::PathCache>,
    claims: &Claims,
    signature: &[u8],
    time: OffsetDateTime,
    artifact: Artifact<'_>,
) -> Verification {
    let limits = Limits::default();
    let req = VerifyRequest {
        policy,
        vendor: &claims.vendor,
        component: &claims.component,
        version: &claims.version,
        signature,
        time,
        limits: &limits,
        cache: paths,
        // The registry witnessed the evidence at `time`: a revocation
        // dated later leaves it standing.
        existed_at: Some(time),
    };
    match inspector::verify(&req, artifact) {
        Ok(report) => Verification {
            verdict: if report.verdict == Verdict::Accept {
                ACCEPT
            } else {
                REJECT
            },
            summary: report.summary.clone(),
            report: Some(report),
        },
        Err(inspector::VerifyError::NeedsBlob(why)) => Verification::asserted(format!(
            "station-asserted: the registry cannot re-verify this signature from the blob's digests ({why})"
        )),
        Err(e) => Verification {
            verdict: REJECT,
            summary: format!("the evidence could not be evaluated: {e}"),
            report: None,
        },
    }
}

/// What a set of revocations designates, as the path rows store it:
/// fingerprints, and issuer names with serials (hex, leading zeros
/// dropped). Matching by these is a superset of the inspector's exact rule
/// (names are compared as strings), so no touched receipt is missed; the
/// re-verification itself decides.
#[derive(Default)]
struct TargetKeys {
    sha256: std::collections::HashSet<String>,
    issuer_serial: std::collections::HashSet<(String, String)>,
}

impl TargetKeys {
    fn new(targets: &[RevokedTarget]) -> Self {
        let mut k = TargetKeys::default();
        for t in targets {
            match t {
                RevokedTarget::Certificate(cert) => {
                    let s = cert.summary();
                    k.sha256.insert(s.sha256);
                    k.issuer_serial
                        .insert((s.issuer, s.serial.trim_start_matches('0').to_string()));
                }
                RevokedTarget::IssuerSerial { issuer, serial, .. } => {
                    k.issuer_serial.insert((
                        issuer.clone(),
                        inspector::digest::hex(serial)
                            .trim_start_matches('0')
                            .to_string(),
                    ));
                }
            }
        }
        k
    }

    fn may_match(&self, c: &ReceiptCert) -> bool {
        self.sha256.contains(&c.sha256)
            || self
                .issuer_serial
                .contains(&(c.issuer.clone(), c.serial.clone()))
    }
}

/// Re-verifies, under the trust state inside the caller's transaction,
/// every registry-accepted receipt whose path a certificate in `targets`
/// may be in, each at the time the registry first verified it (so a
/// revocation with a later invalidity date leaves earlier evidence
/// standing). Receipts that no longer verify lose their accepted status
/// (their images move to `dbx`). Returns how many were checked and how
/// many were withdrawn.
pub fn reevaluate(c: &mut Conn, targets: &[RevokedTarget]) -> ServiceResult<(usize, usize)> {
    if targets.is_empty() {
        return Ok((0, 0));
    }
    let rows: Vec<ReceiptCert> = receipt_certs::table
        .inner_join(receipts::table)
        .filter(receipts::registry_verdict.eq(ACCEPT))
        .select(ReceiptCert::as_select())
        .load(c)?;
    let keys = TargetKeys::new(targets);
    let mut ids: Vec<i64> = rows
        .iter()
        .filter(|r| keys.may_match(r))
        .map(|r| r.receipt_id)
        .collect();
    ids.sort_unstable();
    ids.dedup();
    reevaluate_receipts(c, &ids)
}

/// Audits a re-evaluation that checked any receipt: how many were checked
/// and how many withdrawn, under `what` (the change's subject).
pub fn record_reevaluation(
    c: &mut Conn,
    actor: &crate::auth::Actor,
    what: &str,
    (checked, withdrawn): (usize, usize),
) -> ServiceResult<usize> {
    if checked > 0 {
        super::audit::record(
            c,
            &actor.label(),
            "reevaluate",
            "receipts",
            what,
            None::<&()>,
            Some(&serde_json::json!({
                "receipts_checked": checked,
                "receipts_withdrawn": withdrawn,
            })),
        )?;
    }
    Ok(withdrawn)
}

/// Re-verifies the registry-accepted receipts of a vendor, or of one
/// component, under the current trust state (after a change that may
/// narrow what is accepted without naming a certificate: a component's
/// allowed signers, a Sigstore signer revoked), and withdraws the ones that
/// no longer verify. Returns (checked, withdrawn).
pub fn reevaluate_accepted(
    c: &mut Conn,
    vendor: Option<&str>,
    component: Option<&str>,
) -> ServiceResult<(usize, usize)> {
    let mut query = receipts::table
        .filter(receipts::registry_verdict.eq(ACCEPT))
        .select(receipts::id)
        .into_boxed();
    if let Some(v) = vendor {
        query = query.filter(receipts::vendor.eq(v.to_string()));
    }
    if let Some(n) = component {
        query = query.filter(receipts::component.eq(n.to_string()));
    }
    let ids: Vec<i64> = query.load(c)?;
    reevaluate_receipts(c, &ids)
}

/// Re-verifies the given receipts (all registry-accepted) under the current
/// policy at their original time and withdraws those that no longer verify.
fn reevaluate_receipts(c: &mut Conn, ids: &[i64]) -> ServiceResult<(usize, usize)> {
    if ids.is_empty() {
        return Ok((0, 0));
    }
    let (_, policy) = policy_now(c)?;
    let now = crate::now_unix();
    let mut withdrawn = 0;
    for chunk in ids.chunks(500) {
        let loaded: Vec<(schema::models::Receipt, ReceiptEvidence)> = receipts::table
            .inner_join(receipt_evidence::table)
            .filter(receipts::id.eq_any(chunk))
            .select((
                schema::models::Receipt::as_select(),
                ReceiptEvidence::as_select(),
            ))
            .load(c)?;
        for (r, e) in loaded {
            let claims = claims_of(&r);
            let at = OffsetDateTime::from_unix_timestamp(r.verified_at)
                .map_err(ServiceError::internal)?;
            let v = verify(&policy, None, &claims, &e.signature, at);
            if v.verdict == ACCEPT {
                continue;
            }
            withdrawn += 1;
            let report = v
                .report
                .as_ref()
                .map(serde_json::to_string)
                .transpose()
                .map_err(ServiceError::internal)?
                .unwrap_or_default();
            diesel::update(receipts::table.find(r.id))
                .set((
                    receipts::registry_verdict.eq(v.verdict),
                    receipts::registry_summary.eq(format!("withdrawn: {}", v.summary)),
                    receipts::reevaluated_at.eq(now),
                ))
                .execute(c)?;
            diesel::update(receipt_evidence::table.find(r.id))
                .set(receipt_evidence::registry_report.eq(report))
                .execute(c)?;
        }
    }
    Ok((ids.len(), withdrawn))
}

/// The claims stored with a receipt.
pub fn claims_of(r: &schema::models::Receipt) -> Claims {
    Claims {
        vendor: r.vendor.clone(),
        component: r.component.clone(),
        version: r.version.clone(),
        sha256: r.blob_sha256.clone(),
        sha384: r.blob_sha384.clone(),
        sha512: r.blob_sha512.clone(),
        size: u64::try_from(r.blob_size).unwrap_or(0),
    }
}

/// How many registry-accepted receipts have `cert` in their path (as the
/// signer or above it).
pub fn count_in_path(c: &mut Conn, cert: &inspector::cert::ParsedCert) -> ServiceResult<i64> {
    let keys = TargetKeys::new(&[RevokedTarget::Certificate(Box::new(cert.clone()))]);
    let s = cert.summary();
    let rows: Vec<ReceiptCert> = receipt_certs::table
        .filter(
            receipt_certs::sha256
                .eq(&s.sha256)
                .or(receipt_certs::issuer.eq(&s.issuer)),
        )
        .select(ReceiptCert::as_select())
        .load(c)?;
    let mut ids: Vec<i64> = rows
        .iter()
        .filter(|r| keys.may_match(r))
        .map(|r| r.receipt_id)
        .collect();
    ids.sort_unstable();
    ids.dedup();
    Ok(i64::try_from(ids.len()).unwrap_or(i64::MAX))
}
