//! The dashboard: counts, inspections per day, what expires soon, the
//! latest rejections.

use super::receipts::ReceiptRow;
use super::{Done, Layout, PageResult, db, flash_of, html};
use crate::service::{overview, time_str};
use crate::state::AppState;
use crate::ui::chart::{Day, inspections_svg};
use crate::ui::session::PageUser;
use actix_web::http::StatusCode;
use actix_web::{get, web};
use askama::Template;

struct ExpiringCert {
    vendor_id: String,
    subject: String,
    not_after: String,
}

#[derive(Template)]
#[template(path = "dashboard.html")]
struct DashboardPage {
    layout: Layout,
    counts: overview::Counts,
    chart: String,
    expiring_certs: Vec<ExpiringCert>,
    expiring_contracts: Vec<(String, String, String, String)>,
    /// (product, release, support end) of shipped releases losing support
    /// within 180 days.
    releases_losing_support: Vec<(String, String, String)>,
    /// (vendor id, component or "all components", support end).
    ending_support: Vec<(String, String, String)>,
    rejections: Vec<ReceiptRow>,
    disagreements: Vec<ReceiptRow>,
}

#[get("/")]
async fn dashboard_page(
    state: web::Data<AppState>,
    user: PageUser,
    q: web::Query<Done>,
) -> PageResult {
    let now = crate::now_unix();
    let today = now / 86_400;
    let actor = user.actor();
    let d = db(&state, &user, move |c| overview::dashboard(c, &actor, now)).await?;
    let mut days = vec![Day::default(); 30];
    let mut labels = Vec::with_capacity(30);
    for i in 0..30 {
        let d = time::OffsetDateTime::from_unix_timestamp((today - 29 + i) * 86_400)
            .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
        labels.push(format!("{:02}-{:02}", u8::from(d.month()), d.day()));
    }
    for r in d.per_day {
        let idx = r.day - (today - 29);
        if let Some(slot) = usize::try_from(idx).ok().and_then(|i| days.get_mut(i)) {
            if r.verdict == "accept" {
                slot.accepted += r.n;
            } else {
                slot.rejected += r.n;
            }
        }
    }
    let page = DashboardPage {
        layout: Layout::new(&user, "dashboard", flash_of(&q)),
        counts: d.counts,
        chart: inspections_svg(&days, &labels),
        expiring_certs: d
            .expiring_certs
            .into_iter()
            .map(|c| ExpiringCert {
                vendor_id: c.vendor_id,
                subject: c.subject,
                not_after: time_str(c.not_after),
            })
            .collect(),
        expiring_contracts: d
            .expiring_contracts
            .into_iter()
            .map(|v| {
                (
                    v.id,
                    v.name,
                    v.contract_ref,
                    v.contract_expires.map(time_str).unwrap_or_default(),
                )
            })
            .collect(),
        releases_losing_support: d
            .releases_losing_support
            .into_iter()
            .map(|(p, v, t)| (p, v, time_str(t)))
            .collect(),
        ending_support: d
            .ending_support
            .into_iter()
            .map(|e| {
                (
                    e.vendor_id,
                    e.component
                        .unwrap_or_else(|| "all its components".to_string()),
                    time_str(e.ends),
                )
            })
            .collect(),
        rejections: d.rejections.into_iter().map(ReceiptRow::from).collect(),
        disagreements: d.disagreements.into_iter().map(ReceiptRow::from).collect(),
    };
    Ok(html(StatusCode::OK, page.render()))
}

pub(super) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(dashboard_page);
}
