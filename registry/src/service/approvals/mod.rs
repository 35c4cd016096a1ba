//! Two people for dangerous changes (issue 11, item 6).
//!
//! Lowering (or removing) a rollback floor, revoking a certificate or a
//! Sigstore signer, un-retiring a record, registering an anchor, recording
//! a shared CA and changing a user's role are [`Change`]s. [`submit`] runs
//! a change at once when its action needs one approval; otherwise it checks
//! that the change would succeed now (the change is run and rolled back, so
//! a proposal that would brick a product or names an unknown record is
//! refused at once), and records a proposal. Other people with the role the
//! change needs approve it ([`approve`]); the proposer counts as the first
//! approval and can never approve again, so "2" means the proposer and one
//! other person. When the count is reached the approver's request runs the
//! change, in the same transaction as the approval; until then nothing
//! changes. A proposal can be rejected by anyone with the role (or
//! withdrawn by its proposer), and expires after the configured time.
//! Proposals, votes and the change are audited.
//!
//! The thresholds are the operator's configuration (`serve --approvals`),
//! not data an admin can edit through the registry: one administrator must
//! not be able to lower the bar alone (TUF keeps its thresholds in root
//! metadata for the same reason). Identities are principal names: a token
//! counts as the person its name says, so admins name tokens after their
//! holders.

mod change;

pub use change::{Applied, Change};

use super::audit;
use super::{Actor, Conn, READERS, ServiceError, ServiceResult, time_str};
use diesel::prelude::*;
use schema::models::{NewProposal, Proposal, ProposalVote};
use schema::schema::{proposal_votes, proposals};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::ToSchema;

/// The actions whose threshold can be configured, with their defaults.
pub const ACTIONS: [(&str, u32, &str); 8] = [
    ("lower-floor", 2, "lower or remove a rollback floor"),
    ("raise-floor", 1, "raise or set a rollback floor"),
    ("revoke", 2, "revoke a certificate or a Sigstore signer"),
    ("unretire", 2, "put a retired record back"),
    ("register-anchor", 2, "register a vendor anchor"),
    ("register-intermediate", 1, "register a vendor intermediate"),
    ("shared-ca", 2, "record a CA key several vendors share"),
    ("change-role", 2, "change a user's role"),
];

/// How many approvals each action needs, and how long a proposal waits.
#[derive(Clone, Debug, PartialEq)]
pub struct ApprovalPolicy {
    thresholds: BTreeMap<&'static str, u32>,
    /// Seconds a proposal stays open.
    pub ttl_secs: i64,
}

impl Default for ApprovalPolicy {
    /// Two people for the dangerous actions, one for the rest; proposals
    /// expire after 72 hours.
    fn default() -> Self {
        ApprovalPolicy {
            thresholds: ACTIONS.iter().map(|(a, n, _)| (*a, *n)).collect(),
            ttl_secs: 72 * 3600,
        }
    }
}

impl ApprovalPolicy {
    /// One approval for everything: each change applies at once (a
    /// single-operator installation; and the tests of each operation,
    /// while `tests/api/approvals.rs` runs the defaults).
    pub fn single() -> Self {
        ApprovalPolicy {
            thresholds: ACTIONS.iter().map(|(a, _, _)| (*a, 1)).collect(),
            ttl_secs: 72 * 3600,
        }
    }

    /// Parses `single`, `default`, or a comma-separated list of
    /// `action=N` (1-9) and `ttl-hours=H` (1-720) over the defaults.
    pub fn parse(spec: &str) -> Result<Self, String> {
        let spec = spec.trim();
        match spec {
            "" | "default" => return Ok(ApprovalPolicy::default()),
            "single" => return Ok(ApprovalPolicy::single()),
            _ => {}
        }
        let mut p = ApprovalPolicy::default();
        for item in spec.split(',') {
            let (k, v) = item
                .split_once('=')
                .ok_or_else(|| format!("'{item}' is not action=N"))?;
            let (k, v) = (k.trim(), v.trim());
            let n: u32 = v
                .parse()
                .map_err(|_| format!("'{v}' (for {k}) is not a number"))?;
            if k == "ttl-hours" {
                if !(1..=720).contains(&n) {
                    return Err(format!("ttl-hours={n} is outside 1-720"));
                }
                p.ttl_secs = i64::from(n) * 3600;
                continue;
            }
            let Some((name, _, _)) = ACTIONS.iter().find(|(a, _, _)| *a == k) else {
                return Err(format!(
                    "unknown action '{k}' (expected one of {}, or ttl-hours)",
                    ACTIONS.map(|a| a.0).join(", ")
                ));
            };
            if !(1..=9).contains(&n) {
                return Err(format!("{k}={n}: between 1 and 9 approvals"));
            }
            p.thresholds.insert(name, n);
        }
        Ok(p)
    }

    /// The approvals `action` needs (the proposer's included).
    pub fn threshold(&self, action: &str) -> u32 {
        self.thresholds.get(action).copied().unwrap_or(1)
    }

    /// `action=N` for every action, for logs and the proposals page.
    pub fn describe(&self) -> Vec<(String, u32, &'static str)> {
        ACTIONS
            .iter()
            .map(|(a, _, what)| (a.to_string(), self.threshold(a), *what))
            .collect()
    }
}

/// A proposal's approval or rejection.
#[derive(Serialize, Deserialize, ToSchema, Clone, Debug, PartialEq)]
pub struct VoteView {
    /// Who.
    pub by: String,
    /// `approve` or `reject`.
    pub decision: String,
    /// Why (may be empty for an approval).
    pub reason: String,
    /// When (RFC 3339).
    pub at: String,
}

/// A proposal as the API shows it.
#[derive(Serialize, Deserialize, ToSchema, Clone, Debug, PartialEq)]
pub struct ProposalView {
    /// Identifier.
    pub id: i64,
    /// The configurable action (`lower-floor`, `revoke`, ...).
    pub action: String,
    /// What it changes, in one line.
    pub summary: String,
    /// The change itself, as it will be applied.
    #[schema(value_type = Object)]
    pub change: serde_json::Value,
    /// Roles whose holders may approve or reject it.
    pub roles: Vec<String>,
    /// Approvals needed, the proposer's included.
    pub approvals_required: i32,
    /// Approvals so far, the proposer's included.
    pub approvals: i32,
    /// Who proposed it.
    pub proposed_by: String,
    /// `pending`, `applied`, `rejected` or `expired`.
    pub status: String,
    /// When it was proposed (RFC 3339).
    pub created_at: String,
    /// When it expires unless decided (RFC 3339).
    pub expires_at: String,
    /// When it was applied or rejected.
    pub decided_at: Option<String>,
    /// The approvals and rejections, oldest first.
    pub votes: Vec<VoteView>,
}

/// A submitted change: done, or waiting for approvals.
#[derive(Debug)]
pub enum Submitted {
    /// The change ran (one approval was enough).
    Applied(Applied),
    /// A proposal now waits for approvals.
    Pending(Box<ProposalView>),
}

/// What [`approve`] did.
#[derive(Debug)]
pub struct Approved {
    /// The proposal after the vote.
    pub proposal: ProposalView,
    /// The change's result when this approval completed it.
    pub applied: Option<Applied>,
}

/// Approve or reject a proposal.
#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"reason": "checked the vendor's advisory"}))]
pub struct VoteRequest {
    /// Why (required to reject; ≤ 1000 characters).
    #[serde(default)]
    pub reason: String,
}

/// The key a person votes under: the actor's name, without the
/// `(token N)` a web session signed in with a token carries, so a token
/// used on the API and on the pages is one person.
fn principal(actor: &Actor) -> &str {
    let name = actor.name.as_str();
    match name.rfind(" (token ") {
        Some(i) if name.ends_with(')') => name.get(..i).unwrap_or(name),
        _ => name,
    }
}

fn status_of(p: &Proposal, now: i64) -> String {
    if p.status == "pending" && now > p.expires_at {
        "expired".into()
    } else {
        p.status.clone()
    }
}

fn load(c: &mut Conn, id: i64) -> ServiceResult<Proposal> {
    proposals::table
        .find(id)
        .select(Proposal::as_select())
        .first(c)
        .optional()?
        .ok_or_else(|| ServiceError::NotFound(format!("no proposal {id}")))
}

fn votes_of(c: &mut Conn, id: i64) -> ServiceResult<Vec<ProposalVote>> {
    Ok(proposal_votes::table
        .filter(proposal_votes::proposal_id.eq(id))
        .order(proposal_votes::at)
        .select(ProposalVote::as_select())
        .load(c)?)
}

fn view(p: &Proposal, votes: &[ProposalVote], now: i64) -> ProposalView {
    ProposalView {
        id: p.id,
        action: p.action.clone(),
        summary: p.summary.clone(),
        change: serde_json::from_str(&p.payload).unwrap_or_default(),
        roles: p.required_roles.split(',').map(str::to_string).collect(),
        approvals_required: p.approvals_required,
        approvals: 1 + i32::try_from(votes.iter().filter(|v| v.decision == "approve").count())
            .unwrap_or(i32::MAX - 1),
        proposed_by: p.proposed_by_label.clone(),
        status: status_of(p, now),
        created_at: time_str(p.created_at),
        expires_at: time_str(p.expires_at),
        decided_at: p.decided_at.map(time_str),
        votes: votes
            .iter()
            .map(|v| VoteView {
                by: v.voter_label.clone(),
                decision: v.decision.clone(),
                reason: v.reason.clone(),
                at: time_str(v.at),
            })
            .collect(),
    }
}

/// Runs `f` inside a transaction that is always rolled back: whether the
/// change would succeed now, with no trace of it (as `brick::preview`).
fn dry_run(c: &mut Conn, f: impl FnOnce(&mut Conn) -> ServiceResult<Applied>) -> ServiceResult<()> {
    type Tm = <Conn as diesel::Connection>::TransactionManager;
    use diesel::connection::TransactionManager;
    Tm::begin_transaction(c)?;
    let outcome = f(c).map(|_| ());
    Tm::rollback_transaction(c)?;
    outcome
}

/// Submits a change: runs it now when its action needs one approval,
/// otherwise records a proposal (after checking the change would succeed).
pub fn submit(
    c: &mut Conn,
    actor: &Actor,
    policy: &ApprovalPolicy,
    change: Change,
) -> ServiceResult<Submitted> {
    actor.require(change.roles(), "propose this change")?;
    let action = change.action(c)?;
    let needed = policy.threshold(action);
    if needed <= 1 {
        return Ok(Submitted::Applied(change.apply(c, actor)?));
    }
    dry_run(c, |c| change.apply(c, actor))?;
    let now = crate::now_unix();
    let payload = serde_json::to_string(&change).map_err(ServiceError::internal)?;
    let summary = change.summary();
    super::transaction(c, |c| {
        audit::begin_change(c, false)?;
        let new = NewProposal {
            action: action.into(),
            summary: summary.clone(),
            payload: payload.clone(),
            required_roles: change
                .roles()
                .iter()
                .map(|r| r.as_str())
                .collect::<Vec<_>>()
                .join(","),
            approvals_required: i32::try_from(needed).unwrap_or(i32::MAX),
            proposed_by: principal(actor).to_string(),
            proposed_by_label: actor.label(),
            status: "pending".into(),
            created_at: now,
            expires_at: now + policy.ttl_secs,
        };
        diesel::insert_into(proposals::table)
            .values(&new)
            .execute(c)?;
        let row: Proposal = proposals::table
            .order(proposals::id.desc())
            .select(Proposal::as_select())
            .first(c)?;
        let shown = view(&row, &[], now);
        audit::record(
            c,
            &actor.label(),
            "propose",
            "proposal",
            &row.id.to_string(),
            None::<&()>,
            Some(&shown),
        )?;
        Ok(Submitted::Pending(Box::new(shown)))
    })
}

/// A pending, unexpired proposal and its change, or why not.
fn open_proposal(c: &mut Conn, id: i64, now: i64) -> ServiceResult<(Proposal, Change)> {
    let p = load(c, id)?;
    match status_of(&p, now).as_str() {
        "pending" => {}
        "expired" => {
            return Err(ServiceError::Conflict(format!(
                "proposal {id} expired at {}; propose the change again",
                time_str(p.expires_at)
            )));
        }
        s => {
            return Err(ServiceError::Conflict(format!(
                "proposal {id} is already {s}"
            )));
        }
    }
    let change: Change = serde_json::from_str(&p.payload).map_err(ServiceError::internal)?;
    Ok((p, change))
}

/// Approves a proposal; the approval that reaches the threshold applies
/// the change (as this actor), in the same transaction. If the change
/// fails now (the state moved on, the brick check), nothing is recorded
/// and the error says why; the proposal stays pending for a rejection.
pub fn approve(
    c: &mut Conn,
    actor: &Actor,
    policy: &ApprovalPolicy,
    id: i64,
    body: VoteRequest,
) -> ServiceResult<Approved> {
    super::bounded("reason", &body.reason, 1000)?;
    let now = crate::now_unix();
    super::transaction(c, |c| {
        audit::begin_change(c, false)?;
        let (p, change) = open_proposal(c, id, now)?;
        actor.require(change.roles(), "approve this proposal")?;
        if principal(actor) == p.proposed_by {
            return Err(ServiceError::Forbidden(format!(
                "you proposed {id}; another person with the role {} must approve it",
                p.required_roles.replace(',', " or ")
            )));
        }
        let votes = votes_of(c, id)?;
        if votes.iter().any(|v| v.voter == principal(actor)) {
            return Err(ServiceError::Conflict(format!(
                "you already approved proposal {id}; another person must"
            )));
        }
        diesel::insert_into(proposal_votes::table)
            .values(ProposalVote {
                proposal_id: id,
                voter: principal(actor).to_string(),
                voter_label: actor.label(),
                decision: "approve".into(),
                reason: body.reason.trim().to_string(),
                at: now,
            })
            .execute(c)?;
        audit::record(
            c,
            &actor.label(),
            "approve",
            "proposal",
            &id.to_string(),
            None::<&()>,
            Some(&serde_json::json!({"summary": p.summary, "reason": body.reason.trim()})),
        )?;
        let votes = votes_of(c, id)?;
        let approvals = 1 + votes.iter().filter(|v| v.decision == "approve").count();
        // The stricter of the threshold recorded and the one configured now.
        let needed = u32::try_from(p.approvals_required)
            .unwrap_or(u32::MAX)
            .max(policy.threshold(&p.action));
        let mut applied = None;
        let mut row = p.clone();
        if approvals >= usize::try_from(needed).unwrap_or(usize::MAX) {
            let done = change.apply(c, actor)?;
            diesel::update(proposals::table.find(id))
                .set((
                    proposals::status.eq("applied"),
                    proposals::decided_at.eq(Some(now)),
                    proposals::outcome.eq(Some("applied")),
                ))
                .execute(c)?;
            audit::record(
                c,
                &actor.label(),
                "apply",
                "proposal",
                &id.to_string(),
                None::<&()>,
                Some(&serde_json::json!({"summary": p.summary, "result": done.view})),
            )?;
            row = load(c, id)?;
            applied = Some(done);
        }
        Ok(Approved {
            proposal: view(&row, &votes, now),
            applied,
        })
    })
}

/// Rejects a proposal (anyone with its role), or withdraws it (its
/// proposer). A reason is required. Nothing changes but the proposal.
pub fn reject(
    c: &mut Conn,
    actor: &Actor,
    id: i64,
    body: VoteRequest,
) -> ServiceResult<ProposalView> {
    if body.reason.trim().is_empty() {
        return Err(ServiceError::Invalid(
            "reason: say why the proposal is rejected".into(),
        ));
    }
    super::bounded("reason", &body.reason, 1000)?;
    let now = crate::now_unix();
    super::transaction(c, |c| {
        audit::begin_change(c, false)?;
        let (p, change) = open_proposal(c, id, now)?;
        if principal(actor) != p.proposed_by {
            actor.require(change.roles(), "reject this proposal")?;
        }
        if votes_of(c, id)?.iter().any(|v| v.voter == principal(actor)) {
            return Err(ServiceError::Conflict(format!(
                "you already voted on proposal {id}"
            )));
        }
        diesel::insert_into(proposal_votes::table)
            .values(ProposalVote {
                proposal_id: id,
                voter: principal(actor).to_string(),
                voter_label: actor.label(),
                decision: "reject".into(),
                reason: body.reason.trim().to_string(),
                at: now,
            })
            .execute(c)?;
        diesel::update(proposals::table.find(id))
            .set((
                proposals::status.eq("rejected"),
                proposals::decided_at.eq(Some(now)),
                proposals::outcome.eq(Some(body.reason.trim())),
            ))
            .execute(c)?;
        audit::record(
            c,
            &actor.label(),
            "reject",
            "proposal",
            &id.to_string(),
            None::<&()>,
            Some(&serde_json::json!({"summary": p.summary, "reason": body.reason.trim()})),
        )?;
        let row = load(c, id)?;
        let votes = votes_of(c, id)?;
        Ok(view(&row, &votes, now))
    })
}

/// Proposals, newest first (at most 200), optionally only those with this
/// status (`pending`, `applied`, `rejected`, `expired`).
pub fn list(c: &mut Conn, actor: &Actor, status: Option<&str>) -> ServiceResult<Vec<ProposalView>> {
    actor.require(READERS, "read proposals")?;
    if let Some(s) = status
        && !["pending", "applied", "rejected", "expired"].contains(&s)
    {
        return Err(ServiceError::Invalid(format!(
            "status '{s}' must be pending, applied, rejected or expired"
        )));
    }
    let now = crate::now_unix();
    let rows: Vec<Proposal> = proposals::table
        .order(proposals::id.desc())
        .limit(200)
        .select(Proposal::as_select())
        .load(c)?;
    let mut out = Vec::new();
    for p in rows {
        if status.is_some_and(|s| s != status_of(&p, now)) {
            continue;
        }
        let votes = votes_of(c, p.id)?;
        out.push(view(&p, &votes, now));
    }
    Ok(out)
}

/// One proposal.
pub fn get(c: &mut Conn, actor: &Actor, id: i64) -> ServiceResult<ProposalView> {
    actor.require(READERS, "read proposals")?;
    let p = load(c, id)?;
    let votes = votes_of(c, id)?;
    Ok(view(&p, &votes, crate::now_unix()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thresholds_parse_with_defaults_and_bounds() {
        let d = ApprovalPolicy::default();
        assert_eq!(d.threshold("lower-floor"), 2);
        assert_eq!(d.threshold("raise-floor"), 1);
        assert_eq!(
            ApprovalPolicy::parse("single").map(|p| p.threshold("revoke")),
            Ok(1)
        );
        let p = ApprovalPolicy::parse("revoke=3, ttl-hours=24");
        assert_eq!(p.as_ref().map(|p| p.threshold("revoke")), Ok(3));
        assert_eq!(p.as_ref().map(|p| p.threshold("change-role")), Ok(2));
        assert_eq!(p.map(|p| p.ttl_secs), Ok(24 * 3600));
        for bad in [
            "revoke=0",
            "revoke=10",
            "nuke=2",
            "revoke",
            "ttl-hours=0",
            "revoke=x",
        ] {
            assert!(ApprovalPolicy::parse(bad).is_err(), "{bad}");
        }
    }
}
