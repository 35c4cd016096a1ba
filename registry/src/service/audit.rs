//! The audit log: every change, who made it, before and after, in a hash
//! chain. `verify_chain` finds a row edited or deleted behind the API's back.

use super::{Actor, Conn, PageRequest, Role, ServiceError, ServiceResult, csv_line, time_str};
use diesel::prelude::*;
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
    let at = e.at.to_string();
    chain_hash(
        prev,
        &[
            Some(at.as_str()),
            Some(e.actor),
            Some(e.action),
            Some(e.entity),
            Some(e.entity_id),
            e.before,
            e.after,
        ],
    )
}

/// SHA-256 over the previous hash and `parts`, each length-prefixed (or
/// marked absent) so no two sequences serialise alike: the one chain rule
/// of the audit log and the receipt chain.
pub fn chain_hash(prev: &str, parts: &[Option<&str>]) -> String {
    let mut h = sha2::Sha256::new();
    for part in std::iter::once(Some(prev)).chain(parts.iter().copied()) {
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

/// Takes the registry's one write lock and bumps the trust-bundle serial
/// when `changes_bundle`. Call first inside every write transaction: every
/// writer updates the same `write_lock` row (made by a migration), so
/// PostgreSQL's row lock and SQLite's write lock put all writers in one
/// order and two audit entries can never share a previous hash.
pub fn begin_change(conn: &mut Conn, changes_bundle: bool) -> ServiceResult<()> {
    bump(conn, "write_lock")?;
    if changes_bundle {
        bump(conn, "bundle_serial")?;
        // When the new serial became current: the start of its bundle's
        // validity window (an offline station's late receipt is judged by it).
        let serial: i64 = registry_state::table
            .filter(registry_state::key.eq("bundle_serial"))
            .select(registry_state::value)
            .first(conn)?;
        diesel::insert_into(schema::schema::bundle_serials::table)
            .values((
                schema::schema::bundle_serials::serial.eq(serial),
                schema::schema::bundle_serials::issued_at.eq(crate::now_unix()),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// Adds one to a registry_state counter that the migrations created.
fn bump(conn: &mut Conn, key: &str) -> ServiceResult<()> {
    bump_by(conn, key, 1)
}

/// Adds `n` to a registry_state counter that the migrations created (and
/// locks its row until the transaction ends).
pub fn bump_by(conn: &mut Conn, key: &str, n: i64) -> ServiceResult<()> {
    let n = diesel::update(registry_state::table.filter(registry_state::key.eq(key)))
        .set(registry_state::value.eq(registry_state::value + n))
        .execute(conn)?;
    if n != 1 {
        return Err(ServiceError::internal(format!(
            "registry_state row '{key}' is missing: the database migrations did not run"
        )));
    }
    Ok(())
}

/// Appends an entry (inside the caller's transaction).
pub fn record<B: Serialize, A: Serialize>(
    conn: &mut Conn,
    actor: &str,
    action: &str,
    entity: &str,
    entity_id: &str,
    before: Option<&B>,
    after: Option<&A>,
) -> ServiceResult<()> {
    let prev: Option<String> = audit_log::table
        .order(audit_log::id.desc())
        .select(audit_log::hash)
        .first(conn)
        .optional()?;
    let prev = prev.unwrap_or_else(|| GENESIS.to_string());
    let before = before
        .map(serde_json::to_string)
        .transpose()
        .map_err(ServiceError::internal)?;
    let after = after
        .map(serde_json::to_string)
        .transpose()
        .map_err(ServiceError::internal)?;
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
    bump(conn, "audit_rows")
}

/// The heads of the audit log and the receipt chain now (inside the
/// caller's transaction): what a trust bundle signs as its checkpoint.
pub fn checkpoint(
    conn: &mut Conn,
) -> Result<inspector::policy::CheckpointDocument, diesel::result::Error> {
    use schema::schema::receipts;
    let counter = |conn: &mut Conn, key: &str| -> Result<i64, diesel::result::Error> {
        Ok(registry_state::table
            .filter(registry_state::key.eq(key))
            .select(registry_state::value)
            .first(conn)
            .optional()?
            .unwrap_or(0))
    };
    let audit_head: Option<String> = audit_log::table
        .order(audit_log::id.desc())
        .select(audit_log::hash)
        .first(conn)
        .optional()?;
    let receipt_head: Option<String> = receipts::table
        .filter(receipts::hash.ne(""))
        .order(receipts::id.desc())
        .select(receipts::hash)
        .first(conn)
        .optional()?;
    Ok(inspector::policy::CheckpointDocument {
        audit_entries: u64::try_from(counter(conn, "audit_rows")?).unwrap_or(0),
        audit_head: audit_head.unwrap_or_else(|| GENESIS.to_string()),
        receipt_entries: u64::try_from(counter(conn, "receipt_rows")?).unwrap_or(0),
        receipt_head: receipt_head.unwrap_or_else(|| GENESIS.to_string()),
    })
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
    /// Chained receipts checked (the receipt chain).
    #[serde(default)]
    pub receipts: usize,
    /// Whether the chain is intact.
    pub intact: bool,
    /// Every problem, first first.
    pub problems: Vec<ChainProblem>,
}

/// Recomputes every hash in id order.
pub fn verify_chain(conn: &mut Conn) -> Result<ChainVerification, diesel::result::Error> {
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
        receipts: 0,
        intact: problems.is_empty(),
        problems,
    })
}

/// Roles that may read the audit log.
pub const AUDIT_READERS: &[Role] = &[Role::Admin, Role::Auditor, Role::Security];

/// One audit entry.
#[derive(Serialize, serde::Deserialize, utoipa::ToSchema, Debug)]
pub struct AuditView {
    /// Row id.
    pub id: i64,
    /// When (RFC 3339).
    pub at: String,
    /// Token name and role.
    pub actor: String,
    /// create, update, revoke, set-floor, lower-floor, import-crl…
    pub action: String,
    /// What kind of record.
    pub entity: String,
    /// Which record.
    pub entity_id: String,
    /// Before (JSON); null for a creation.
    #[schema(value_type = Option<Object>)]
    pub before: Option<serde_json::Value>,
    /// After (JSON); null when nothing is left.
    #[schema(value_type = Option<Object>)]
    pub after: Option<serde_json::Value>,
    /// Hash of the previous entry.
    pub prev_hash: String,
    /// This entry's hash.
    pub hash: String,
}

/// Converts a row.
pub fn view(r: AuditEntry) -> AuditView {
    let parse = |s: Option<String>| s.and_then(|j| serde_json::from_str(&j).ok());
    AuditView {
        id: r.id,
        at: time_str(r.at),
        actor: r.actor,
        action: r.action,
        entity: r.entity,
        entity_id: r.entity_id,
        before: parse(r.before_json),
        after: parse(r.after_json),
        prev_hash: r.prev_hash,
        hash: r.hash,
    }
}

/// Which entries to list. Empty fields do not filter.
#[derive(Clone, Debug, Default)]
pub struct AuditFilter {
    /// Exact action (`revoke`, `lower-floor`, …).
    pub action: Option<String>,
    /// Exact kind of record (`vendor`, `certificate`, …).
    pub entity: Option<String>,
    /// Actor contains this text.
    pub actor: Option<String>,
    /// At or after (Unix seconds).
    pub since: Option<i64>,
    /// Before (Unix seconds).
    pub until: Option<i64>,
}

macro_rules! filtered {
    ($f:expr) => {{
        let f: &AuditFilter = $f;
        let mut q = audit_log::table.into_boxed();
        if let Some(v) = &f.action {
            q = q.filter(audit_log::action.eq(v.clone()));
        }
        if let Some(v) = &f.entity {
            q = q.filter(audit_log::entity.eq(v.clone()));
        }
        if let Some(v) = &f.actor {
            let escaped = v
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_");
            q = q.filter(audit_log::actor.like(format!("%{escaped}%")).escape('\\'));
        }
        if let Some(s) = f.since {
            q = q.filter(audit_log::at.ge(s));
        }
        if let Some(u) = f.until {
            q = q.filter(audit_log::at.lt(u));
        }
        q
    }};
}

/// Entries matching `filter`, newest first, one page.
pub fn list(
    c: &mut Conn,
    actor: &Actor,
    filter: &AuditFilter,
    page: PageRequest,
) -> ServiceResult<Vec<AuditView>> {
    actor.require(AUDIT_READERS, "read the audit log")?;
    let mut q = filtered!(filter);
    if let Some(b) = page.before {
        q = q.filter(audit_log::id.lt(b));
    }
    let rows: Vec<AuditEntry> = q
        .order(audit_log::id.desc())
        .limit(page.limit)
        .offset(page.offset)
        .select(AuditEntry::as_select())
        .load(c)?;
    Ok(rows.into_iter().map(view).collect())
}

/// How many entries match `filter`.
pub fn count(c: &mut Conn, actor: &Actor, filter: &AuditFilter) -> ServiceResult<i64> {
    actor.require(AUDIT_READERS, "read the audit log")?;
    Ok(filtered!(filter).count().get_result(c)?)
}

/// Verifies the whole chain (for a reader of the log).
pub fn verify(c: &mut Conn, actor: &Actor) -> ServiceResult<ChainVerification> {
    actor.require(AUDIT_READERS, "verify the audit log")?;
    let mut v = verify_chain(c)?;
    // The receipt chain is part of the registry's history too.
    let r = super::receipts::verify_chain(c)?;
    v.receipts = r.rows;
    v.problems.extend(r.problems);
    v.intact = v.problems.is_empty();
    Ok(v)
}

/// The entries matching `filter` as CSV, newest first, at most
/// [`super::CSV_MAX_ROWS`], read 1,000 at a time.
pub fn csv(c: &mut Conn, actor: &Actor, filter: &AuditFilter) -> ServiceResult<String> {
    let mut out =
        String::from("id,at,actor,action,entity,entity_id,before,after,prev_hash,hash\r\n");
    let mut before = None;
    let mut written = 0i64;
    while written < super::CSV_MAX_ROWS {
        let rows = list(c, actor, filter, PageRequest::new(Some(1000), before, None))?;
        let Some(last) = rows.last() else { break };
        before = Some(last.id);
        for r in rows {
            let json = |v: Option<serde_json::Value>| v.map(|v| v.to_string()).unwrap_or_default();
            out.push_str(&csv_line(&[
                r.id.to_string(),
                r.at,
                r.actor,
                r.action,
                r.entity,
                r.entity_id,
                json(r.before),
                json(r.after),
                r.prev_hash,
                r.hash,
            ]));
            written += 1;
        }
    }
    Ok(out)
}

/// What checking the registry against a checkpoint found.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CheckpointVerification {
    /// Whether both chains are intact and extend the checkpoint.
    pub extends: bool,
    /// Audit entries now.
    pub audit_entries: usize,
    /// Chained receipts now.
    pub receipt_entries: usize,
    /// Every problem found, in words.
    pub problems: Vec<String>,
}

/// Proves the audit log and the receipt chain still extend `cp` (a
/// checkpoint the registry signed into an earlier trust bundle): both
/// chains recompute, and the entry at the checkpoint's position has the
/// hash the checkpoint signed. Whoever rewrote history (even recomputing
/// every hash after an edit) cannot produce the signed head.
pub fn verify_checkpoint(
    conn: &mut Conn,
    actor: &Actor,
    cp: &inspector::policy::CheckpointDocument,
) -> ServiceResult<CheckpointVerification> {
    actor.require(AUDIT_READERS, "verify the audit log")?;
    let mut problems = Vec::new();
    let audit = verify_chain(conn)?;
    problems.extend(
        audit
            .problems
            .iter()
            .map(|p| format!("audit row {}: {}", p.id, p.problem)),
    );
    let audit_nth: Option<String> = if cp.audit_entries == 0 {
        Some(GENESIS.to_string())
    } else {
        audit_log::table
            .order(audit_log::id.asc())
            .offset(i64::try_from(cp.audit_entries - 1).unwrap_or(i64::MAX))
            .select(audit_log::hash)
            .first(conn)
            .optional()?
    };
    match audit_nth {
        None => problems.push(format!(
            "the audit log has {} entries, fewer than the {} the checkpoint signed: entries were deleted",
            audit.rows, cp.audit_entries
        )),
        Some(h) if h != cp.audit_head => problems.push(format!(
            "audit entry {} hashes to {h}, but the checkpoint signed {}: the log's history was rewritten",
            cp.audit_entries, cp.audit_head
        )),
        Some(_) => {}
    }
    let receipts = super::receipts::verify_chain(conn)?;
    problems.extend(
        receipts
            .problems
            .iter()
            .map(|p| format!("receipt {}: {}", p.id, p.problem)),
    );
    match super::receipts::nth_hash(conn, cp.receipt_entries)? {
        None => problems.push(format!(
            "the receipt chain has {} receipts, fewer than the {} the checkpoint signed: receipts were deleted",
            receipts.rows, cp.receipt_entries
        )),
        Some(h) if h != cp.receipt_head => problems.push(format!(
            "receipt {} of the chain hashes to {h}, but the checkpoint signed {}: receipts were rewritten",
            cp.receipt_entries, cp.receipt_head
        )),
        Some(_) => {}
    }
    Ok(CheckpointVerification {
        extends: problems.is_empty(),
        audit_entries: audit.rows,
        receipt_entries: receipts.rows,
        problems,
    })
}
