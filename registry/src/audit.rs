//! The audit log: every change, who made it, before and after, in a hash
//! chain. `verify_chain` finds a row edited or deleted behind the API's back.

use crate::error::ApiError;
use diesel::prelude::*;
use schema::DbConnection;
use schema::models::{AuditEntry, NewAuditEntry};
use schema::schema::{audit_log, registry_state};
use serde::Serialize;
use sha2::Digest;

/// The hashed fields of one entry.
pub struct EntryFields<'a> {
    /// Unix seconds.
    pub at: i64,
    /// Who.
    pub actor: &'a str,
    /// What.
    pub action: &'a str,
    /// Kind of record.
    pub entity: &'a str,
    /// Which record.
    pub entity_id: &'a str,
    /// Before, as JSON.
    pub before: Option<&'a str>,
    /// After, as JSON.
    pub after: Option<&'a str>,
}

/// Hash of the row before the first.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The hash of one entry: SHA-256 over the previous hash and the entry's
/// fields, each length-prefixed so no two entries serialise alike.
pub fn entry_hash(prev: &str, e: &EntryFields<'_>) -> String {
    let mut h = sha2::Sha256::new();
    let at = e.at.to_string();
    for part in [
        Some(prev),
        Some(at.as_str()),
        Some(e.actor),
        Some(e.action),
        Some(e.entity),
        Some(e.entity_id),
        e.before,
        e.after,
    ] {
        match part {
            Some(p) => {
                h.update([1u8]);
                h.update((p.len() as u64).to_be_bytes());
                h.update(p.as_bytes());
            }
            None => h.update([0u8]),
        }
    }
    inspector::digest::hex(&h.finalize())
}

/// Takes the registry's write lock and bumps the trust-bundle serial when
/// `changes_bundle`. Call first inside every write transaction: the first
/// statement being a write serialises writers on both backends (SQLite's
/// write lock, PostgreSQL's row lock), so the audit chain cannot fork.
pub fn begin_change(conn: &mut DbConnection, changes_bundle: bool) -> Result<(), ApiError> {
    let key = if changes_bundle {
        "bundle_serial"
    } else {
        "audit_lock"
    };
    let n = diesel::update(registry_state::table.filter(registry_state::key.eq(key)))
        .set(registry_state::value.eq(registry_state::value + 1))
        .execute(conn)?;
    if n == 0 {
        diesel::insert_into(registry_state::table)
            .values((registry_state::key.eq(key), registry_state::value.eq(1i64)))
            .execute(conn)?;
    }
    Ok(())
}

/// Appends an entry (inside the caller's transaction).
pub fn record<B: Serialize, A: Serialize>(
    conn: &mut DbConnection,
    actor: &str,
    action: &str,
    entity: &str,
    entity_id: &str,
    before: Option<&B>,
    after: Option<&A>,
) -> Result<(), ApiError> {
    let prev: Option<String> = audit_log::table
        .order(audit_log::id.desc())
        .select(audit_log::hash)
        .first(conn)
        .optional()?;
    let prev = prev.unwrap_or_else(|| GENESIS.to_string());
    let before = before
        .map(serde_json::to_string)
        .transpose()
        .map_err(ApiError::internal)?;
    let after = after
        .map(serde_json::to_string)
        .transpose()
        .map_err(ApiError::internal)?;
    let at = crate::now_unix();
    let hash = entry_hash(
        &prev,
        &EntryFields {
            at,
            actor,
            action,
            entity,
            entity_id,
            before: before.as_deref(),
            after: after.as_deref(),
        },
    );
    diesel::insert_into(audit_log::table)
        .values(NewAuditEntry {
            at,
            actor: actor.to_string(),
            action: action.to_string(),
            entity: entity.to_string(),
            entity_id: entity_id.to_string(),
            before_json: before,
            after_json: after,
            prev_hash: prev,
            hash: hash.clone(),
        })
        .execute(conn)?;
    // The head of the chain, so deleting the newest rows is detected too.
    let n = diesel::update(registry_state::table.filter(registry_state::key.eq("audit_rows")))
        .set(registry_state::value.eq(registry_state::value + 1))
        .execute(conn)?;
    if n == 0 {
        diesel::insert_into(registry_state::table)
            .values((
                registry_state::key.eq("audit_rows"),
                registry_state::value.eq(1i64),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// A problem found in the chain.
#[derive(Debug, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct ChainProblem {
    /// Row id concerned.
    pub id: i64,
    /// What is wrong.
    pub problem: String,
}

/// Result of verifying the chain.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ChainVerification {
    /// Rows checked.
    pub rows: usize,
    /// Whether the chain is intact.
    pub intact: bool,
    /// Every problem, first first.
    pub problems: Vec<ChainProblem>,
}

/// Recomputes every hash in id order.
pub fn verify_chain(conn: &mut DbConnection) -> Result<ChainVerification, diesel::result::Error> {
    let rows: Vec<AuditEntry> = audit_log::table
        .order(audit_log::id.asc())
        .select(AuditEntry::as_select())
        .load(conn)?;
    let mut problems = Vec::new();
    let mut prev = GENESIS.to_string();
    for r in &rows {
        if r.prev_hash != prev {
            problems.push(ChainProblem {
                id: r.id,
                problem: "its prev_hash does not match the row before it: a row before it was deleted or edited".into(),
            });
        }
        let expect = entry_hash(
            &r.prev_hash,
            &EntryFields {
                at: r.at,
                actor: &r.actor,
                action: &r.action,
                entity: &r.entity,
                entity_id: &r.entity_id,
                before: r.before_json.as_deref(),
                after: r.after_json.as_deref(),
            },
        );
        if expect != r.hash {
            problems.push(ChainProblem {
                id: r.id,
                problem: "its content does not match its hash: the row was edited".into(),
            });
        }
        prev = r.hash.clone();
    }
    let expected_rows: Option<i64> = registry_state::table
        .filter(registry_state::key.eq("audit_rows"))
        .select(registry_state::value)
        .first(conn)
        .optional()?;
    let expected_rows = expected_rows.unwrap_or(0);
    if expected_rows != rows.len() as i64 {
        problems.push(ChainProblem {
            id: rows.last().map(|r| r.id).unwrap_or(0),
            problem: format!(
                "the log has {} rows but {} were written: rows were deleted (possibly the newest)",
                rows.len(),
                expected_rows
            ),
        });
    }
    Ok(ChainVerification {
        rows: rows.len(),
        intact: problems.is_empty(),
        problems,
    })
}
