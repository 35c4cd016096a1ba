//! Inspection receipts: the filtered list (keyset paging past any number
//! of rows, the total count, a CSV download of the filtered rows) and one
//! receipt with every check.

use super::{
    Layout, PageResult, csv_download, date_range, db, html, non_empty, one_page, page_request,
};
use crate::service::receipts::{self, ReceiptFilter};
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
    /// The registry's verdict.
    #[serde(default)]
    registry: String,
    /// `yes`: only receipts where station and registry disagree.
    #[serde(default)]
    disagreement: String,
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
            registry_verdict: non_empty(&self.registry),
            disagreement: (self.disagreement == "yes").then_some(true),
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
    pub(crate) registry_verdict: String,
    pub(crate) disagreement: bool,
    pub(crate) vendor: String,
    pub(crate) component: String,
    pub(crate) version: String,
    pub(crate) station: String,
    pub(crate) lot: String,
    pub(crate) summary: String,
}

impl From<schema::models::ReceiptRow> for ReceiptRow {
    fn from(r: schema::models::ReceiptRow) -> Self {
        ReceiptRow {
            id: r.id,
            received_at: time_str(r.received_at),
            // The registry's reason where it disagrees with the station.
            summary: if r.disagreement {
                r.registry_summary
            } else {
                r.summary
            },
            verdict: r.verdict,
            registry_verdict: r.registry_verdict,
            disagreement: r.disagreement,
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

#[derive(Template)]
#[template(path = "receipt.html")]
struct ReceiptPage {
    layout: Layout,
    r: receipts::ReceiptView,
    /// The station's checks: scope, check, outcome, reason.
    station_checks: Vec<(String, String, String, String)>,
    /// The registry's checks on the evidence.
    registry_checks: Vec<(String, String, String, String)>,
}

/// Every check of a report, general first, then each signer's.
fn checks_of(report: Option<&serde_json::Value>) -> Vec<(String, String, String, String)> {
    let Some(rep) =
        report.and_then(|v| serde_json::from_value::<inspector::report::Report>(v.clone()).ok())
    else {
        return vec![];
    };
    let outcome = |o: inspector::report::Outcome| match o {
        inspector::report::Outcome::Pass => "pass",
        inspector::report::Outcome::Fail => "fail",
        inspector::report::Outcome::Skip => "skip",
    };
    let mut checks = Vec::new();
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
    checks
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
    let page = ReceiptPage {
        layout: Layout::new(&user, "receipts", None),
        station_checks: checks_of(r.report.as_ref()),
        registry_checks: checks_of(r.registry_report.as_ref()),
        r,
    };
    Ok(html(StatusCode::OK, page.render()))
}

pub(super) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(receipts_csv)
        .service(receipts_list)
        .service(receipt_detail);
}
