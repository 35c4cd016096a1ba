//! The audit log: the verified hash chain, filtered entries with keyset
//! paging and a total, and a CSV download of the filtered entries.

use super::{
    Layout, PageResult, csv_download, date_range, db, html, non_empty, one_page, page_request,
};
use crate::service::audit::{self, AuditFilter, ChainProblem};
use crate::state::AppState;
use crate::ui::session::PageUser;
use actix_web::http::StatusCode;
use actix_web::{get, web};
use askama::Template;
use serde::{Deserialize, Serialize};

/// The filter form.
#[derive(Deserialize, Serialize, Default, Clone)]
pub(super) struct AuditForm {
    #[serde(default)]
    action: String,
    #[serde(default)]
    entity: String,
    #[serde(default)]
    actor: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default, skip_serializing)]
    before: Option<i64>,
}

impl AuditForm {
    fn filter(&self) -> Result<AuditFilter, crate::error::ApiError> {
        let (since, until) = date_range(&self.from, &self.to)?;
        Ok(AuditFilter {
            action: non_empty(&self.action),
            entity: non_empty(&self.entity),
            actor: non_empty(&self.actor),
            since,
            until,
        })
    }
}

struct AuditRow {
    id: i64,
    at: String,
    actor: String,
    action: String,
    entity: String,
    entity_id: String,
    before: String,
    after: String,
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    layout: Layout,
    intact: bool,
    rows: usize,
    problems: Vec<ChainProblem>,
    entries: Vec<AuditRow>,
    f: AuditForm,
    total: i64,
    query: String,
    next: Option<i64>,
    paged: bool,
}

#[get("/audit")]
async fn audit_page(
    state: web::Data<AppState>,
    user: PageUser,
    q: web::Query<AuditForm>,
) -> PageResult {
    let f = q.into_inner();
    let filter = f.filter()?;
    let page = page_request(f.before);
    let actor = user.actor();
    let (v, mut entries, total) = db(&state, &user, move |c| {
        let v = audit::verify(c, &actor)?;
        let e = audit::list(c, &actor, &filter, page)?;
        Ok((v, e, audit::count(c, &actor, &filter)?))
    })
    .await?;
    let next = one_page(&mut entries, |e| e.id);
    let json = |v: Option<serde_json::Value>| v.map(|v| v.to_string()).unwrap_or_default();
    let page = AuditPage {
        layout: Layout::new(&user, "audit", None),
        intact: v.intact,
        rows: v.rows,
        problems: v.problems,
        entries: entries
            .into_iter()
            .map(|e| AuditRow {
                id: e.id,
                at: e.at,
                actor: e.actor,
                action: e.action,
                entity: e.entity,
                entity_id: e.entity_id,
                before: json(e.before),
                after: json(e.after),
            })
            .collect(),
        query: serde_urlencoded::to_string(&f).unwrap_or_default(),
        paged: f.before.is_some(),
        f,
        total,
        next,
    };
    Ok(html(StatusCode::OK, page.render()))
}

#[get("/audit.csv")]
async fn audit_csv(
    state: web::Data<AppState>,
    user: PageUser,
    q: web::Query<AuditForm>,
) -> PageResult {
    let filter = q.filter()?;
    let actor = user.actor();
    let body = db(&state, &user, move |c| audit::csv(c, &actor, &filter)).await?;
    Ok(csv_download("tollgate-audit.csv", body))
}

pub(super) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(audit_csv).service(audit_page);
}
