//! Inspection receipts: append-only.

use super::vendors::READERS;
use super::{parse_time, time_str, with_conn};
use crate::auth::{Caller, Role};
use crate::error::ApiError;
use crate::state::AppState;
use actix_web::{HttpResponse, get, post, web};
use diesel::prelude::*;
use inspector::report::{Report, Verdict};
use schema::models::{NewReceipt, Receipt};
use schema::schema::receipts;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

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

fn view(r: Receipt) -> ReceiptView {
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

/// Flags the accepted signer's key when the product's stage that loads the
/// component cannot verify it.
fn receipt_capability(
    c: &mut schema::DbConnection,
    product: &str,
    report: &Report,
) -> Result<Vec<String>, ApiError> {
    use schema::schema::products;
    let stages: Option<String> = products::table
        .find(product)
        .select(products::stages)
        .first(c)
        .optional()?;
    let stages: Vec<crate::products::Stage> = match stages {
        Some(s) => serde_json::from_str(&s).map_err(ApiError::internal)?,
        None => return Err(ApiError::BadRequest(format!("no product '{product}'"))),
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

fn to_row(r: &ReceiptRequest, recorded_by: &str, now: i64) -> Result<NewReceipt, ApiError> {
    if r.station.trim().is_empty() || r.station.len() > 128 || r.lot.len() > 128 {
        return Err(ApiError::BadRequest(
            "station must be 1-128 characters and lot at most 128".into(),
        ));
    }
    let (Some(sha), Some(size)) = (&r.report.blob.sha256, r.report.blob.size) else {
        return Err(ApiError::BadRequest(
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
        report: serde_json::to_string(&r.report).map_err(ApiError::internal)?,
        recorded_by: recorded_by.to_string(),
    })
}

/// Records one receipt.
#[utoipa::path(tag = "receipts", request_body = ReceiptRequest, responses((status = 201, body = ReceiptView)), security(("bearer" = [])))]
#[post("/receipts")]
pub async fn create(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Json<ReceiptRequest>,
) -> Result<HttpResponse, ApiError> {
    caller.require(&[Role::Admin, Role::Inspector], "record receipts")?;
    let row = to_row(&body, &caller.actor(), crate::now_unix())?;
    let body = body.into_inner();
    let (stored, warnings) = with_conn(&state, move |c| {
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
        Ok((stored, warnings))
    })
    .await?;
    let mut v = view(stored);
    v.capability_warnings = warnings;
    Ok(HttpResponse::Created().json(v))
}

/// Records many receipts in one transaction: all or none.
#[utoipa::path(tag = "receipts", request_body = ReceiptBatch, responses((status = 201, description = "count recorded")), security(("bearer" = [])))]
#[post("/receipts/batch")]
pub async fn create_batch(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Json<ReceiptBatch>,
) -> Result<HttpResponse, ApiError> {
    caller.require(&[Role::Admin, Role::Inspector], "record receipts")?;
    if body.receipts.len() > 10_000 {
        return Err(ApiError::BadRequest(
            "at most 10,000 receipts per batch".into(),
        ));
    }
    let now = crate::now_unix();
    let rows = body
        .receipts
        .iter()
        .map(|r| to_row(r, &caller.actor(), now))
        .collect::<Result<Vec<_>, _>>()?;
    let n = rows.len();
    with_conn(&state, move |c| {
        c.transaction(|c| {
            // Row by row: diesel's multi-backend connection has no batch
            // insert; inside one transaction this is still one commit.
            for row in &rows {
                diesel::insert_into(receipts::table)
                    .values(row)
                    .execute(c)?;
            }
            Ok::<_, ApiError>(())
        })
    })
    .await?;
    Ok(HttpResponse::Created().json(serde_json::json!({ "recorded": n })))
}

/// Filters of the receipt list.
#[derive(Deserialize, IntoParams)]
pub struct ReceiptQuery {
    /// Vendor id.
    pub vendor: Option<String>,
    /// Component.
    pub component: Option<String>,
    /// accept or reject.
    pub verdict: Option<String>,
    /// Lot.
    pub lot: Option<String>,
    /// Station.
    pub station: Option<String>,
    /// Recorded at or after (RFC 3339).
    pub since: Option<String>,
    /// Recorded before (RFC 3339).
    pub until: Option<String>,
    /// Page size (default 100, at most 1000).
    pub limit: Option<i64>,
    /// Rows to skip.
    pub offset: Option<i64>,
}

/// Lists receipts, newest first.
#[utoipa::path(tag = "receipts", params(ReceiptQuery), responses((status = 200, body = Vec<ReceiptView>)), security(("bearer" = [])))]
#[get("/receipts")]
pub async fn list(
    state: web::Data<AppState>,
    caller: Caller,
    q: web::Query<ReceiptQuery>,
) -> Result<HttpResponse, ApiError> {
    caller.require(READERS, "read receipts")?;
    let q = q.into_inner();
    let since = q
        .since
        .as_deref()
        .map(|s| parse_time("since", s))
        .transpose()?;
    let until = q
        .until
        .as_deref()
        .map(|s| parse_time("until", s))
        .transpose()?;
    if let Some(v) = &q.verdict
        && v != "accept"
        && v != "reject"
    {
        return Err(ApiError::BadRequest(format!(
            "verdict '{v}' must be accept or reject"
        )));
    }
    let limit = q.limit.unwrap_or(100).clamp(1, 1000);
    let offset = q.offset.unwrap_or(0).max(0);
    let rows: Vec<Receipt> = with_conn(&state, move |c| {
        let mut query = receipts::table.into_boxed();
        if let Some(v) = q.vendor {
            query = query.filter(receipts::vendor.eq(v));
        }
        if let Some(v) = q.component {
            query = query.filter(receipts::component.eq(v));
        }
        if let Some(v) = q.verdict {
            query = query.filter(receipts::verdict.eq(v));
        }
        if let Some(v) = q.lot {
            query = query.filter(receipts::lot.eq(v));
        }
        if let Some(v) = q.station {
            query = query.filter(receipts::station.eq(v));
        }
        if let Some(s) = since {
            query = query.filter(receipts::received_at.ge(s));
        }
        if let Some(u) = until {
            query = query.filter(receipts::received_at.lt(u));
        }
        Ok(query
            .order(receipts::id.desc())
            .limit(limit)
            .offset(offset)
            .select(Receipt::as_select())
            .load(c)?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(rows.into_iter().map(view).collect::<Vec<_>>()))
}
