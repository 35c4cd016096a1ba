//! The Approvals page: proposals waiting for a second person (issue 11,
//! item 6), with Approve and Reject, and the recently decided ones.

use super::{Done, Layout, PageResult, db, flash_of, html, redirect_done, refusal};
use crate::service::approvals::{self, ApprovalPolicy, ProposalView, VoteRequest};
use crate::state::AppState;
use crate::ui::session::PageUser;
use actix_web::http::StatusCode;
use actix_web::{get, post, web};
use askama::Template;
use serde::Deserialize;

#[derive(Template)]
#[template(path = "approvals.html")]
struct ApprovalsPage {
    layout: Layout,
    csrf: String,
    error: Option<String>,
    /// The signed-in person's name (their own proposals say so).
    me: String,
    pending: Vec<ProposalView>,
    decided: Vec<ProposalView>,
    /// (action, approvals needed, what it is).
    rules: Vec<(String, u32, &'static str)>,
}

async fn approvals_page(
    state: &web::Data<AppState>,
    user: PageUser,
    flash: Option<String>,
    error: Option<String>,
    status: StatusCode,
) -> PageResult {
    let actor = user.actor();
    let all = db(state, &user, move |c| approvals::list(c, &actor, None)).await?;
    let (pending, decided): (Vec<_>, Vec<_>) = all.into_iter().partition(|p| p.status == "pending");
    let policy: &ApprovalPolicy = &state.approvals;
    let page = ApprovalsPage {
        layout: Layout::new(&user, "approvals", flash),
        csrf: user.csrf.clone(),
        error,
        me: user.actor().label(),
        pending,
        decided: decided.into_iter().take(50).collect(),
        rules: policy.describe(),
    };
    Ok(html(status, page.render()))
}

#[get("/approvals")]
async fn approvals_list(
    state: web::Data<AppState>,
    user: PageUser,
    q: web::Query<Done>,
) -> PageResult {
    approvals_page(&state, user, flash_of(&q), None, StatusCode::OK).await
}

#[derive(Deserialize)]
struct VoteForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    reason: String,
}

#[post("/approvals/{id}/{decision}")]
async fn approvals_vote(
    state: web::Data<AppState>,
    user: PageUser,
    path: web::Path<(i64, String)>,
    form: web::Form<VoteForm>,
) -> PageResult {
    user.check_csrf(&form.csrf)?;
    let (id, decision) = path.into_inner();
    let body = VoteRequest {
        reason: form.reason.clone(),
    };
    let actor = user.actor();
    let policy = state.approvals.clone();
    let done = match decision.as_str() {
        "approve" => crate::api::with_conn(&state, move |c| {
            approvals::approve(c, &actor, &policy, id, body)
        })
        .await
        .map(|r| match r.applied {
            Some(_) => format!(
                "Proposal {id} approved and applied: {}.",
                r.proposal.summary
            ),
            None => format!(
                "Proposal {id} approved ({} of {}); it waits for more approvals.",
                r.proposal.approvals, r.proposal.approvals_required
            ),
        }),
        "reject" => crate::api::with_conn(&state, move |c| approvals::reject(c, &actor, id, body))
            .await
            .map(|p| format!("Proposal {id} rejected: {}.", p.summary)),
        _ => Err(crate::error::ApiError::Service(
            crate::service::ServiceError::NotFound(format!("no action '{decision}' on proposals")),
        )),
    };
    match done {
        Ok(message) => Ok(redirect_done("/approvals", &message)),
        Err(e) => {
            let (status, message) = refusal(e)?;
            approvals_page(&state, user, None, Some(message), status).await
        }
    }
}

pub(super) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(approvals_list).service(approvals_vote);
}
