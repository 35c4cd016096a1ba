//! The receipt hash chain: each receipt hashes the one before it and what
//! was received.

use super::*;

/// The chain hash of a receipt value `$r` (a row to insert or a stored
/// one: both have these fields): the previous hash, what was received
/// (claims, station report, who recorded it, the evidence's SHA-256 and
/// the station key), never the registry's later re-judgement.
macro_rules! chain_hash_of {
    ($prev:expr, $r:expr, $evidence:expr) => {{
        let r = $r;
        let (received, size, serial) = (
            r.received_at.to_string(),
            r.blob_size.to_string(),
            r.bundle_serial.to_string(),
        );
        crate::service::audit::chain_hash(
            $prev,
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
                Some($evidence),
                r.station_key.as_deref(),
            ],
        )
    }};
}

/// The chain hash of a receipt about to be stored.
pub fn receipt_hash(prev: &str, r: &NewReceipt, evidence_sha256: &str) -> String {
    chain_hash_of!(prev, r, evidence_sha256)
}

/// The hash of the newest chained receipt (the genesis hash before any).
pub(super) fn receipt_head(c: &mut Conn) -> ServiceResult<String> {
    Ok(receipts::table
        .filter(receipts::hash.ne(""))
        .order(receipts::id.desc())
        .select(receipts::hash)
        .first(c)
        .optional()?
        .unwrap_or_else(|| crate::service::audit::GENESIS.to_string()))
}

/// Recomputes the receipt chain in id order (1,000 rows at a time): each
/// chained receipt's `prev_hash` must be the hash before it and its hash
/// must match what was received; the count must match the `receipt_rows`
/// counter (deleting the newest receipts is detected too).
pub fn verify_chain(c: &mut Conn) -> ServiceResult<crate::service::audit::ChainVerification> {
    use crate::service::audit::ChainProblem;
    let mut problems = Vec::new();
    let mut prev = crate::service::audit::GENESIS.to_string();
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
            if chain_hash_of!(&r.prev_hash, r, evidence_sha.as_str()) != r.hash {
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
    Ok(crate::service::audit::ChainVerification {
        rows,
        receipts: rows,
        intact: problems.is_empty(),
        problems,
    })
}

/// The hash of the `n`-th chained receipt (1-based; the genesis hash for 0).
pub fn nth_hash(c: &mut Conn, n: u64) -> ServiceResult<Option<String>> {
    if n == 0 {
        return Ok(Some(crate::service::audit::GENESIS.to_string()));
    }
    Ok(receipts::table
        .filter(receipts::hash.ne(""))
        .order(receipts::id.asc())
        .offset(i64::try_from(n - 1).unwrap_or(i64::MAX))
        .select(receipts::hash)
        .first(c)
        .optional()?)
}
