//! Inspection receipts: append-only records of station verdicts, and the
//! one receipt filter (API, pages, CSV download).

use super::{
    Actor, Conn, INSPECTION, PageRequest, READERS, ServiceError, ServiceResult, csv_line, time_str,
};
use diesel::prelude::*;
use inspector::report::{Report, Verdict};
use schema::models::{NewReceipt, Receipt};
use schema::schema::{products, receipts};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Record one verdict.
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
    /// The full verification report (docs/report-format.md).
    #[schema(value_type = Object)]
    pub report: Report,
    /// The product the blob is inspected for: the answer then flags a
    /// signer key the product's boot stage cannot verify.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product: Option<String>,
}

/// Record several verdicts at once (one transaction).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReceiptBatch {
    /// At most 10,000.
    pub receipts: Vec<ReceiptRequest>,
}

/// A stored receipt.
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
    /// accept or reject.
    pub verdict: String,
    /// Blob SHA-256.
    pub blob_sha256: String,
    /// Blob size.
    pub blob_size: i64,
    /// Trust-bundle serial.
    pub bundle_serial: i64,
    /// Who recorded it.
    pub recorded_by: String,
    /// The full report.
    #[schema(value_type = Object)]
    pub report: serde_json::Value,
    /// Capability flags for the product given in the request.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub capability_warnings: Vec<String>,
}

/// Converts a row.
pub fn view(r: Receipt) -> ReceiptView {
    ReceiptView {
        id: r.id,
        received_at: time_str(r.received_at),
        station: r.station,
        lot: r.lot,
        vendor: r.vendor,
        component: r.component,
        version: r.version,
        verdict: r.verdict,
        blob_sha256: r.blob_sha256,
        blob_size: r.blob_size,
        bundle_serial: r.bundle_serial,
        recorded_by: r.recorded_by,
        report: serde_json::from_str(&r.report).unwrap_or(serde_json::Value::Null),
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

fn to_row(r: &ReceiptRequest, recorded_by: &str, now: i64) -> ServiceResult<NewReceipt> {
    if r.station.trim().is_empty() || r.station.len() > 128 || r.lot.len() > 128 {
        return Err(ServiceError::Invalid(
            "station must be 1-128 characters and lot at most 128".into(),
        ));
    }
    super::bounded("station", &r.station, 128)?;
    super::bounded("lot", &r.lot, 128)?;
    let (Some(sha), Some(size)) = (&r.report.blob.sha256, r.report.blob.size) else {
        return Err(ServiceError::Invalid(
            "the report lacks the blob's sha256 and size".into(),
        ));
    };
    Ok(NewReceipt {
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
        blob_sha256: sha.clone(),
        blob_size: i64::try_from(size).unwrap_or(i64::MAX),
        bundle_serial: r.bundle_serial,
        report: serde_json::to_string(&r.report).map_err(ServiceError::internal)?,
        recorded_by: recorded_by.to_string(),
    })
}

/// Records one receipt; returns it with the capability warnings for the
/// product named in the request.
pub fn create(c: &mut Conn, actor: &Actor, body: ReceiptRequest) -> ServiceResult<ReceiptView> {
    actor.require(INSPECTION, "record receipts")?;
    let row = to_row(&body, &actor.label(), crate::now_unix())?;
    let warnings = match &body.product {
        Some(p) => receipt_capability(c, p, &body.report)?,
        None => vec![],
    };
    diesel::insert_into(receipts::table)
        .values(&row)
        .execute(c)?;
    let stored = receipts::table
        .filter(receipts::blob_sha256.eq(&row.blob_sha256))
        .filter(receipts::received_at.eq(row.received_at))
        .order(receipts::id.desc())
        .select(Receipt::as_select())
        .first(c)?;
    let mut v = view(stored);
    v.capability_warnings = warnings;
    Ok(v)
}

/// Most receipts in one batch.
pub const MAX_BATCH: usize = 10_000;

/// Records many receipts in one transaction: all or none. Returns how many.
pub fn create_batch(c: &mut Conn, actor: &Actor, body: ReceiptBatch) -> ServiceResult<usize> {
    actor.require(INSPECTION, "record receipts")?;
    if body.receipts.len() > MAX_BATCH {
        return Err(ServiceError::Invalid(
            "at most 10,000 receipts per batch".into(),
        ));
    }
    let now = crate::now_unix();
    let label = actor.label();
    let rows = body
        .receipts
        .iter()
        .map(|r| to_row(r, &label, now))
        .collect::<Result<Vec<_>, _>>()?;
    super::transaction(c, |c| {
        // Row by row: diesel's multi-backend connection has no batch
        // insert; inside one transaction this is still one commit.
        for row in &rows {
            diesel::insert_into(receipts::table)
                .values(row)
                .execute(c)?;
        }
        Ok(())
    })?;
    Ok(rows.len())
}

/// Which receipts to list. Empty fields do not filter.
#[derive(Clone, Debug, Default)]
pub struct ReceiptFilter {
    /// Vendor id.
    pub vendor: Option<String>,
    /// Component.
    pub component: Option<String>,
    /// `accept` or `reject`.
    pub verdict: Option<String>,
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

/// Receipts matching `filter`, newest first, one page.
pub fn list(
    c: &mut Conn,
    actor: &Actor,
    filter: &ReceiptFilter,
    page: PageRequest,
) -> ServiceResult<Vec<Receipt>> {
    actor.require(READERS, "read receipts")?;
    filter.validate()?;
    let mut q = filtered!(filter);
    if let Some(b) = page.before {
        q = q.filter(receipts::id.lt(b));
    }
    Ok(q.order(receipts::id.desc())
        .limit(page.limit)
        .offset(page.offset)
        .select(Receipt::as_select())
        .load(c)?)
}

/// How many receipts match `filter`.
pub fn count(c: &mut Conn, actor: &Actor, filter: &ReceiptFilter) -> ServiceResult<i64> {
    actor.require(READERS, "read receipts")?;
    filter.validate()?;
    Ok(filtered!(filter).count().get_result(c)?)
}

/// One receipt.
pub fn get(c: &mut Conn, actor: &Actor, id: i64) -> ServiceResult<Receipt> {
    actor.require(READERS, "read receipts")?;
    receipts::table
        .find(id)
        .select(Receipt::as_select())
        .first(c)
        .optional()?
        .ok_or_else(|| ServiceError::NotFound(format!("no receipt {id}")))
}

/// Receipts whose report names the certificate with this SHA-256 (as the
/// signer or in its chain).
pub fn count_naming_certificate(c: &mut Conn, sha256: &str) -> ServiceResult<i64> {
    let pattern = format!("%{sha256}%");
    Ok(receipts::table
        .filter(receipts::report.like(pattern))
        .count()
        .get_result(c)?)
}

/// The receipts matching `filter` as CSV (RFC 4180; newest first; at most
/// [`super::CSV_MAX_ROWS`]), read 1,000 rows at a time by keyset paging.
pub fn csv(c: &mut Conn, actor: &Actor, filter: &ReceiptFilter) -> ServiceResult<String> {
    let mut out = String::from(
        "id,received_at,verdict,vendor,component,version,blob_sha256,blob_size,station,lot,bundle_serial,recorded_by,summary\r\n",
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
                r.vendor.clone(),
                r.component.clone(),
                r.version.clone(),
                r.blob_sha256.clone(),
                r.blob_size.to_string(),
                r.station.clone(),
                r.lot.clone(),
                r.bundle_serial.to_string(),
                r.recorded_by.clone(),
                summary_of(&r.report),
            ];
            out.push_str(&csv_line(&fields));
            written += 1;
        }
    }
    Ok(out)
}
