//! The access page (admin only): web users (disable / enable) and API tokens
//! (list, create with the secret shown once in the response to the form,
//! never in a URL, and revoke), through the same audited functions as the
//! API and the command line.

use super::{Done, Layout, PageResult, db, flash_of, html, redirect_done, refusal};
use crate::api::tokens::revoke_now;
use crate::error::ApiError;
use crate::service::tokens::{self, TokenInfo, TokenRequest};
use crate::service::users::{self, UserInfo};
use crate::service::{ADMIN, Role};
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
    /// The signed-in principal (no disable button on oneself).
    me: String,
    roles: Vec<&'static str>,
    /// (title, what it is, value) of a secret just made: a token, or a
    /// user's password; shown this once.
    created: Option<(String, String, String)>,
    name: String,
}

async fn render(
    state: &web::Data<AppState>,
    user: PageUser,
    status: StatusCode,
    flash: Option<String>,
    error: Option<String>,
    created: Option<(String, String, String)>,
    name: String,
) -> PageResult {
    let actor = user.actor();
    let (tokens, users) = db(state, &user, move |c| {
        Ok((tokens::list(c, &actor)?, users::list(c, &actor)?))
    })
    .await?;
    let page = TokensPage {
        csrf: user.csrf.clone(),
        me: user.principal.clone(),
        layout: Layout::new(&user, "tokens", flash),
        error,
        tokens,
        users,
        roles: Role::ALL.iter().map(|r| r.as_str()).collect(),
        created,
        name,
    };
    Ok(html(status, page.render()))
}

#[get("/tokens")]
async fn tokens_page(
    state: web::Data<AppState>,
    user: PageUser,
    q: web::Query<Done>,
) -> PageResult {
    user.require(ADMIN, "manage users and API tokens")?;
    render(
        &state,
        user,
        StatusCode::OK,
        flash_of(&q),
        None,
        None,
        String::new(),
    )
    .await
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
    let refused = |m: String| (StatusCode::BAD_REQUEST, m);
    let checked = match Role::parse(&form.role) {
        _ if name.is_empty() || name.len() > 128 => {
            Err(refused("The name must be 1 to 128 characters.".into()))
        }
        None => Err(refused(format!(
            "'{}' is not a role: choose one of the list.",
            form.role
        ))),
        Some(role) => Ok(role),
    };
    let role = match checked {
        Ok(r) => r,
        Err((status, m)) => return render(&state, user, status, None, Some(m), None, name).await,
    };
    let actor = user.actor();
    let body = TokenRequest {
        name: name.clone(),
        role,
    };
    match crate::api::with_conn(&state, move |c| tokens::create(c, &actor, body)).await {
        Ok(t) => {
            let created = Some((
                format!("Token created: {} ({})", t.name, t.role.as_str()),
                "secret".to_string(),
                t.token,
            ));
            render(
                &state,
                user,
                StatusCode::OK,
                None,
                None,
                created,
                String::new(),
            )
            .await
        }
        Err(e) => {
            let (status, m) = refusal(e)?;
            render(&state, user, status, None, Some(m), None, name).await
        }
    }
}

#[derive(Deserialize)]
struct RevokeForm {
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
    form: web::Form<RevokeForm>,
) -> PageResult {
    user.check_csrf(&form.csrf)?;
    user.require(ADMIN, "manage users and API tokens")?;
    if form.confirm.as_deref() != Some("yes") {
        let m = "Tick the confirmation box to revoke the token.".to_string();
        return render(
            &state,
            user,
            StatusCode::BAD_REQUEST,
            None,
            Some(m),
            None,
            String::new(),
        )
        .await;
    }
    match revoke_now(&state, user.actor(), id.into_inner()).await {
        Ok(t) => Ok(redirect_done(
            "/tokens",
            &format!("Token '{}' ({}) is revoked.", t.name, t.role),
        )),
        Err(e @ ApiError::NotFound(_)) => Err(e.into()),
        Err(e) => {
            let (status, m) = refusal(e)?;
            render(&state, user, status, None, Some(m), None, String::new()).await
        }
    }
}

#[derive(Deserialize)]
struct UserForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    confirm: Option<String>,
}

#[post("/users/{name}/{action}")]
async fn user_set_state(
    state: web::Data<AppState>,
    user: PageUser,
    path: web::Path<(String, String)>,
    form: web::Form<UserForm>,
) -> PageResult {
    user.check_csrf(&form.csrf)?;
    user.require(ADMIN, "manage users and API tokens")?;
    let (name, action) = path.into_inner();
    let disable = match action.as_str() {
        "disable" => true,
        "enable" => false,
        _ => return Err(ApiError::NotFound(format!("no action '{action}'")).into()),
    };
    let refuse = |m: &str| Some(m.to_string());
    let problem = if disable && form.confirm.as_deref() != Some("yes") {
        refuse("Tick the confirmation box to disable the user.")
    } else if disable && name == user.principal {
        refuse(
            "You cannot disable your own account here; ask another admin, or use `tollgate-registry user disable`.",
        )
    } else {
        None
    };
    if let Some(m) = problem {
        return render(
            &state,
            user,
            StatusCode::BAD_REQUEST,
            None,
            Some(m),
            None,
            String::new(),
        )
        .await;
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
        Err(e @ ApiError::NotFound(_)) => Err(e.into()),
        Err(e) => {
            let (status, m) = refusal(e)?;
            render(&state, user, status, None, Some(m), None, String::new()).await
        }
    }
}

pub(super) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(tokens_page)
        .service(token_create)
        .service(token_revoke)
        .service(user_create)
        .service(user_reset_password)
        .service(user_set_state);
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
        return render(
            &state,
            user,
            StatusCode::BAD_REQUEST,
            None,
            Some(m),
            None,
            String::new(),
        )
        .await;
    };
    let actor = user.actor();
    let name = form.username.trim().to_string();
    let password = users::random_password();
    let pw = password.clone();
    match crate::api::with_conn(&state, move |c| users::create(c, &actor, &name, &pw, role)).await {
        Ok(u) => {
            let shown = Some((
                format!("User {} ({})", u.username, u.role),
                "password".to_string(),
                password,
            ));
            render(
                &state,
                user,
                StatusCode::OK,
                None,
                None,
                shown,
                String::new(),
            )
            .await
        }
        Err(e) => {
            let (status, m) = refusal(e)?;
            render(&state, user, status, None, Some(m), None, String::new()).await
        }
    }
}

/// Gives a user a new generated password (shown once) and ends their
/// sessions.
#[post("/users/{name}/password")]
async fn user_reset_password(
    state: web::Data<AppState>,
    user: PageUser,
    name: web::Path<String>,
    form: web::Form<UserForm>,
) -> PageResult {
    user.check_csrf(&form.csrf)?;
    user.require(ADMIN, "manage users and API tokens")?;
    if form.confirm.as_deref() != Some("yes") {
        let m = "Tick the confirmation box to reset the password.".to_string();
        return render(
            &state,
            user,
            StatusCode::BAD_REQUEST,
            None,
            Some(m),
            None,
            String::new(),
        )
        .await;
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
            let shown = Some((
                format!("New password for {}", u.username),
                "password".to_string(),
                password,
            ));
            render(
                &state,
                user,
                StatusCode::OK,
                None,
                None,
                shown,
                String::new(),
            )
            .await
        }
        Err(e @ ApiError::NotFound(_)) => Err(e.into()),
        Err(e) => {
            let (status, m) = refusal(e)?;
            render(&state, user, status, None, Some(m), None, String::new()).await
        }
    }
}
