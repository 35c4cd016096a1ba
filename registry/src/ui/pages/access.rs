//! The access page (admin only): web users (create with a generated
//! password shown once, reset a password, disable / enable) and API tokens
//! (list, create with the secret shown once in the response to the form,
//! never in a URL, and revoke), through the same audited service functions
//! as the API and the command line.

use super::{Done, Layout, PageResult, db, flash_of, html, redirect_done, refusal};
use crate::api::tokens::revoke_now;
use crate::error::ApiError;
use crate::service::stations::{self, RetireRequest, StationKeyRequest, StationKeyView};
use crate::service::tokens::{self, TokenInfo, TokenRequest};
use crate::service::users::{self, UserInfo};
use crate::service::{ADMIN, Role, ServiceError};
use crate::state::AppState;
use crate::ui::session::PageUser;
use actix_web::http::StatusCode;
use actix_web::{get, post, web};
use askama::Template;
use serde::Deserialize;

#[derive(Template)]
#[template(path = "tokens.html")]
struct TokensPage {
    layout: Layout,
    error: Option<String>,
    csrf: String,
    tokens: Vec<TokenInfo>,
    users: Vec<UserInfo>,
    stations: Vec<StationKeyView>,
    /// The signed-in principal (no disable button on oneself).
    me: String,
    roles: Vec<&'static str>,
    /// (title, what it is, value) of a secret just made: a token, or a
    /// user's password; shown this once.
    created: Option<(String, String, String)>,
    name: String,
}

/// What the page shows besides the lists: a flash, a refusal, a secret
/// shown once, the token name typed so far.
#[derive(Default)]
struct Shown {
    status: Option<StatusCode>,
    flash: Option<String>,
    error: Option<String>,
    created: Option<(String, String, String)>,
    name: String,
}

impl Shown {
    fn refused(status: StatusCode, message: impl Into<String>) -> Self {
        Shown {
            status: Some(status),
            error: Some(message.into()),
            ..Default::default()
        }
    }

    fn secret(title: String, what: &str, value: String) -> Self {
        Shown {
            created: Some((title, what.to_string(), value)),
            ..Default::default()
        }
    }
}

async fn render(state: &web::Data<AppState>, user: PageUser, shown: Shown) -> PageResult {
    let actor = user.actor();
    let (tokens, users, stations) = db(state, &user, move |c| {
        Ok((
            tokens::list(c, &actor)?,
            users::list(c, &actor)?,
            stations::list(c, &actor)?,
        ))
    })
    .await?;
    let page = TokensPage {
        csrf: user.csrf.clone(),
        me: user.principal.clone(),
        layout: Layout::new(&user, "tokens", shown.flash),
        error: shown.error,
        tokens,
        users,
        stations,
        roles: Role::ALL.iter().map(|r| r.as_str()).collect(),
        created: shown.created,
        name: shown.name,
    };
    Ok(html(shown.status.unwrap_or(StatusCode::OK), page.render()))
}

/// The page again with a service refusal (an unknown record is the error
/// page: the form pointed at nothing).
async fn refuse(
    state: &web::Data<AppState>,
    user: PageUser,
    e: ApiError,
    name: String,
) -> PageResult {
    if let e @ ApiError::Service(ServiceError::NotFound(_)) = e {
        return Err(e.into());
    }
    let (status, m) = refusal(e)?;
    let shown = Shown {
        name,
        ..Shown::refused(status, m)
    };
    render(state, user, shown).await
}

/// The confirmation box a destructive form must carry.
fn unconfirmed(confirm: Option<&str>, what: &str) -> Option<Shown> {
    (confirm != Some("yes")).then(|| {
        Shown::refused(
            StatusCode::BAD_REQUEST,
            format!("Tick the confirmation box to {what}."),
        )
    })
}

#[get("/tokens")]
async fn tokens_page(
    state: web::Data<AppState>,
    user: PageUser,
    q: web::Query<Done>,
) -> PageResult {
    user.require(ADMIN, "manage users and API tokens")?;
    let shown = Shown {
        flash: flash_of(&q),
        ..Default::default()
    };
    render(&state, user, shown).await
}

#[derive(Deserialize)]
struct CreateForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    role: String,
}

#[post("/tokens")]
async fn token_create(
    state: web::Data<AppState>,
    user: PageUser,
    form: web::Form<CreateForm>,
) -> PageResult {
    user.check_csrf(&form.csrf)?;
    user.require(ADMIN, "manage users and API tokens")?;
    let name = form.name.trim().to_string();
    let problem = match Role::parse(&form.role) {
        _ if name.is_empty() || name.len() > 128 => {
            Err("The name must be 1 to 128 characters.".to_string())
        }
        None => Err(format!(
            "'{}' is not a role: choose one of the list.",
            form.role
        )),
        Some(role) => Ok(role),
    };
    let role = match problem {
        Ok(r) => r,
        Err(m) => {
            let shown = Shown {
                name,
                ..Shown::refused(StatusCode::BAD_REQUEST, m)
            };
            return render(&state, user, shown).await;
        }
    };
    let actor = user.actor();
    let body = TokenRequest {
        name: name.clone(),
        role,
    };
    match crate::api::with_conn(&state, move |c| tokens::create(c, &actor, body)).await {
        Ok(t) => {
            let title = format!("Token created: {} ({})", t.name, t.role.as_str());
            render(&state, user, Shown::secret(title, "secret", t.token)).await
        }
        Err(e) => refuse(&state, user, e, name).await,
    }
}

#[derive(Deserialize)]
struct ConfirmForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    confirm: Option<String>,
}

#[post("/tokens/{id}/revoke")]
async fn token_revoke(
    state: web::Data<AppState>,
    user: PageUser,
    id: web::Path<i64>,
    form: web::Form<ConfirmForm>,
) -> PageResult {
    user.check_csrf(&form.csrf)?;
    user.require(ADMIN, "manage users and API tokens")?;
    if let Some(shown) = unconfirmed(form.confirm.as_deref(), "revoke the token") {
        return render(&state, user, shown).await;
    }
    match revoke_now(&state, user.actor(), id.into_inner()).await {
        Ok(t) => Ok(redirect_done(
            "/tokens",
            &format!("Token '{}' ({}) is revoked.", t.name, t.role),
        )),
        Err(e) => refuse(&state, user, e, String::new()).await,
    }
}

#[derive(Deserialize)]
struct NewUserForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    role: String,
}

/// Creates a user with a generated password, shown once on the page (the
/// admin never types or chooses it; give it to the person by another
/// channel).
#[post("/users")]
async fn user_create(
    state: web::Data<AppState>,
    user: PageUser,
    form: web::Form<NewUserForm>,
) -> PageResult {
    user.check_csrf(&form.csrf)?;
    user.require(ADMIN, "manage users and API tokens")?;
    let Some(role) = Role::parse(&form.role) else {
        let m = format!("'{}' is not a role: choose one of the list.", form.role);
        return render(&state, user, Shown::refused(StatusCode::BAD_REQUEST, m)).await;
    };
    let actor = user.actor();
    let name = form.username.trim().to_string();
    let password = users::random_password();
    let pw = password.clone();
    match crate::api::with_conn(&state, move |c| users::create(c, &actor, &name, &pw, role)).await {
        Ok(u) => {
            let title = format!("User {} ({})", u.username, u.role);
            render(&state, user, Shown::secret(title, "password", password)).await
        }
        Err(e) => refuse(&state, user, e, String::new()).await,
    }
}

/// Gives a user a new generated password (shown once) and ends their
/// sessions.
#[post("/users/{name}/password")]
async fn user_reset_password(
    state: web::Data<AppState>,
    user: PageUser,
    name: web::Path<String>,
    form: web::Form<ConfirmForm>,
) -> PageResult {
    user.check_csrf(&form.csrf)?;
    user.require(ADMIN, "manage users and API tokens")?;
    if let Some(shown) = unconfirmed(form.confirm.as_deref(), "reset the password") {
        return render(&state, user, shown).await;
    }
    let actor = user.actor();
    let name = name.into_inner();
    let password = users::random_password();
    let pw = password.clone();
    match crate::api::with_conn(&state, move |c| {
        users::reset_password(c, &actor, &name, &pw)
    })
    .await
    {
        Ok(u) => {
            let title = format!("New password for {}", u.username);
            render(&state, user, Shown::secret(title, "password", password)).await
        }
        Err(e) => refuse(&state, user, e, String::new()).await,
    }
}

#[post("/users/{name}/{action}")]
async fn user_set_state(
    state: web::Data<AppState>,
    user: PageUser,
    path: web::Path<(String, String)>,
    form: web::Form<ConfirmForm>,
) -> PageResult {
    user.check_csrf(&form.csrf)?;
    user.require(ADMIN, "manage users and API tokens")?;
    let (name, action) = path.into_inner();
    let disable = match action.as_str() {
        "disable" => true,
        "enable" => false,
        _ => {
            return Err(
                ApiError::from(ServiceError::NotFound(format!("no action '{action}'"))).into(),
            );
        }
    };
    if disable {
        let problem = unconfirmed(form.confirm.as_deref(), "disable the user").or_else(|| {
            (name == user.principal).then(|| {
                Shown::refused(
                    StatusCode::BAD_REQUEST,
                    "You cannot disable your own account here; ask another admin, or use `tollgate-registry user disable`.",
                )
            })
        });
        if let Some(shown) = problem {
            return render(&state, user, shown).await;
        }
    }
    let actor = user.actor();
    let n = name.clone();
    match crate::api::with_conn(&state, move |c| users::set_disabled(c, &actor, &n, disable)).await
    {
        Ok(u) => Ok(redirect_done(
            "/tokens",
            &format!(
                "User '{}' is {}.",
                u.username,
                if u.disabled {
                    "disabled; their open sessions ended"
                } else {
                    "active again"
                }
            ),
        )),
        Err(e) => refuse(&state, user, e, String::new()).await,
    }
}

#[derive(Deserialize)]
struct StationForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    token_id: String,
    #[serde(default)]
    public_key_pem: String,
}

#[post("/stations")]
async fn station_register(
    state: web::Data<AppState>,
    user: PageUser,
    form: web::Form<StationForm>,
) -> PageResult {
    user.check_csrf(&form.csrf)?;
    user.require(ADMIN, "register station keys")?;
    let Ok(token_id) = form.token_id.trim().parse::<i64>() else {
        let shown = Shown::refused(
            StatusCode::BAD_REQUEST,
            "Choose the station's inspector token.",
        );
        return render(&state, user, shown).await;
    };
    let body = StationKeyRequest {
        name: form.name.trim().to_string(),
        token_id,
        public_key_pem: form.public_key_pem.clone(),
    };
    let actor = user.actor();
    match crate::api::with_conn(&state, move |c| stations::register(c, &actor, body)).await {
        Ok(k) => Ok(redirect_done(
            "/tokens",
            &format!("Station '{}' registered (key id {}).", k.name, k.keyid),
        )),
        Err(e) => refuse(&state, user, e, String::new()).await,
    }
}

#[derive(Deserialize)]
struct RetireForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    confirm: Option<String>,
    #[serde(default)]
    reason: String,
}

#[post("/stations/{id}/retire")]
async fn station_retire(
    state: web::Data<AppState>,
    user: PageUser,
    id: web::Path<i64>,
    form: web::Form<RetireForm>,
) -> PageResult {
    user.check_csrf(&form.csrf)?;
    user.require(ADMIN, "retire station keys")?;
    if let Some(shown) = unconfirmed(form.confirm.as_deref(), "retire the station key") {
        return render(&state, user, shown).await;
    }
    let (actor, id) = (user.actor(), id.into_inner());
    let body = RetireRequest {
        reason: form.reason.clone(),
    };
    match crate::api::with_conn(&state, move |c| stations::retire(c, &actor, id, body)).await {
        Ok(k) => Ok(redirect_done(
            "/tokens",
            &format!("Station key '{}' is retired.", k.name),
        )),
        Err(e) => refuse(&state, user, e, String::new()).await,
    }
}

pub(super) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(station_register).service(station_retire);
    cfg.service(tokens_page)
        .service(token_create)
        .service(token_revoke)
        .service(user_create)
        .service(user_reset_password)
        .service(user_set_state);
}
