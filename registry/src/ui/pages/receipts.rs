//! Inspection receipts: the filtered list (keyset paging past any number
//! of rows, the total count, a CSV download of the filtered rows) and one
//! receipt with every check.

use super::{
    Layout, PageResult, csv_download, date_range, db, html, non_empty, one_page, page_request,
};
use crate::service::receipts::{self, ReceiptFilter, summary_of};
use crate::service::time_str;
use crate::state::AppState;
use crate::ui::session::PageUser;
use actix_web::http::StatusCode;
use actix_web::{get, web};
use askama::Template;
use serde::{Deserialize, Serialize};

/// The filter form (empty fields do not filter; dates are whole UTC days).
#[derive(Deserialize, Serialize, Default, Clone)]
pub(super) struct ReceiptForm {
    #[serde(default)]
    vendor: String,
    #[serde(default)]
    component: String,
    #[serde(default)]
    verdict: String,
    #[serde(default)]
    lot: String,
    #[serde(default)]
    station: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    /// Keyset paging: only receipts with an id below this.
    #[serde(default, skip_serializing)]
    before: Option<i64>,
}

impl ReceiptForm {
    /// The service filter. An unknown verdict is refused by the service.
    fn filter(&self) -> Result<ReceiptFilter, crate::error::ApiError> {
        let (since, until) = date_range(&self.from, &self.to)?;
        Ok(ReceiptFilter {
            vendor: non_empty(&self.vendor),
            component: non_empty(&self.component),
            verdict: non_empty(&self.verdict),
            lot: non_empty(&self.lot),
            station: non_empty(&self.station),
            since,
            until,
        })
    }

    /// The filter as a query string (for the next-page and CSV links).
    fn query(&self) -> String {
        serde_urlencoded::to_string(self).unwrap_or_default()
    }
}

/// One receipt in a list (the receipts page, the dashboard's rejections).
pub(crate) struct ReceiptRow {
    pub(crate) id: i64,
    pub(crate) received_at: String,
    pub(crate) verdict: String,
    pub(crate) vendor: String,
    pub(crate) component: String,
    pub(crate) version: String,
    pub(crate) station: String,
    pub(crate) lot: String,
    pub(crate) summary: String,
}

impl From<schema::models::Receipt> for ReceiptRow {
    fn from(r: schema::models::Receipt) -> Self {
        ReceiptRow {
            id: r.id,
            received_at: time_str(r.received_at),
            summary: summary_of(&r.report),
            verdict: r.verdict,
            vendor: r.vendor,
            component: r.component,
            version: r.version,
            station: r.station,
            lot: r.lot,
        }
    }
}

#[derive(Template)]
#[template(path = "receipts.html")]
struct ReceiptsPage {
    layout: Layout,
    f: ReceiptForm,
    rows: Vec<ReceiptRow>,
    total: i64,
    /// The query string of the filter (for links).
    query: String,
    /// The `before` of the next page, when there is one.
    next: Option<i64>,
    /// Whether this is a later page.
    paged: bool,
}

#[get("/receipts")]
async fn receipts_list(
    state: web::Data<AppState>,
    user: PageUser,
    q: web::Query<ReceiptForm>,
) -> PageResult {
    let f = q.into_inner();
    let filter = f.filter()?;
    let page = page_request(f.before);
    let actor = user.actor();
    let (mut rows, total) = db(&state, &user, move |c| {
        let rows = receipts::list(c, &actor, &filter, page)?;
        Ok((rows, receipts::count(c, &actor, &filter)?))
    })
    .await?;
    let next = one_page(&mut rows, |r| r.id);
    let rows = rows.into_iter().map(ReceiptRow::from).collect();
    Ok(html(
        StatusCode::OK,
        ReceiptsPage {
            layout: Layout::new(&user, "receipts", None),
            query: f.query(),
            paged: f.before.is_some(),
            f,
            rows,
            total,
            next,
        }
        .render(),
    ))
}

#[get("/receipts.csv")]
async fn receipts_csv(
    state: web::Data<AppState>,
    user: PageUser,
    q: web::Query<ReceiptForm>,
) -> PageResult {
    let filter = q.filter()?;
    let actor = user.actor();
    let body = db(&state, &user, move |c| receipts::csv(c, &actor, &filter)).await?;
    Ok(csv_download("tollgate-receipts.csv", body))
}

struct ReceiptDetail {
    id: i64,
    received_at: String,
    verdict: String,
    vendor: String,
    component: String,
    version: String,
    blob_sha256: String,
    blob_size: i64,
    station: String,
    lot: String,
    recorded_by: String,
    bundle_serial: i64,
}

#[derive(Template)]
#[template(path = "receipt.html")]
struct ReceiptPage {
    layout: Layout,
    r: ReceiptDetail,
    summary: String,
    checks: Vec<(String, String, String, String)>,
}

#[get("/receipts/{id}")]
async fn receipt_detail(
    state: web::Data<AppState>,
    user: PageUser,
    id: web::Path<i64>,
) -> PageResult {
    let id = id.into_inner();
    let actor = user.actor();
    let r = db(&state, &user, move |c| receipts::get(c, &actor, id)).await?;
    let report: Option<inspector::report::Report> = serde_json::from_str(&r.report).ok();
    let mut checks = Vec::new();
    let outcome = |o: inspector::report::Outcome| match o {
        inspector::report::Outcome::Pass => "pass",
        inspector::report::Outcome::Fail => "fail",
        inspector::report::Outcome::Skip => "skip",
    };
    if let Some(rep) = &report {
        for c in &rep.checks {
            checks.push((
                "blob".to_string(),
                c.id.name().to_string(),
                outcome(c.outcome).to_string(),
                c.reason.clone(),
            ));
        }
        for s in &rep.signers {
            let who = s
                .certificate
                .as_ref()
                .map(|c| c.subject.clone())
                .unwrap_or_else(|| format!("signer {}", s.index + 1));
            for c in &s.checks {
                checks.push((
                    who.clone(),
                    c.id.name().to_string(),
                    outcome(c.outcome).to_string(),
                    c.reason.clone(),
                ));
            }
        }
    }
    let page = ReceiptPage {
        layout: Layout::new(&user, "receipts", None),
        summary: report.map(|r| r.summary).unwrap_or_default(),
        checks,
        r: ReceiptDetail {
            id: r.id,
            received_at: time_str(r.received_at),
            verdict: r.verdict,
            vendor: r.vendor,
            component: r.component,
            version: r.version,
            blob_sha256: r.blob_sha256,
            blob_size: r.blob_size,
            station: r.station,
            lot: r.lot,
            recorded_by: r.recorded_by,
            bundle_serial: r.bundle_serial,
        },
    };
    Ok(html(StatusCode::OK, page.render()))
}

pub(super) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(receipts_csv)
        .service(receipts_list)
        .service(receipt_detail);
}
