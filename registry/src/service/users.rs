//! Web users (Argon2id passwords) and browser sessions.

use super::audit;
use super::sessions::{end_sessions_of, token_principal};
use super::{ADMIN, Actor, Conn, Role, ServiceError, ServiceResult, time_str};
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use diesel::prelude::*;
use schema::models::{NewUser, User};
use schema::schema::users;

/// Hashes a password with Argon2id (default parameters, random salt),
/// refusing one shorter than 12 characters.
pub fn hash_password(password: &str) -> ServiceResult<String> {
    if password.chars().count() < 12 {
        return Err(ServiceError::Invalid(
            "the password must have at least 12 characters".into(),
        ));
    }
    let salt = SaltString::generate(&mut OsRng);
    argon2::Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| ServiceError::internal(format!("cannot hash the password: {e}")))
}

/// A user as listed (never the password hash).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct UserInfo {
    /// User name.
    pub username: String,
    /// Role.
    pub role: String,
    /// When it was created (RFC 3339).
    pub created_at: String,
    /// Whether sign-in is refused.
    pub disabled: bool,
}

impl From<User> for UserInfo {
    fn from(u: User) -> Self {
        UserInfo {
            username: u.username,
            role: u.role,
            created_at: time_str(u.created_at),
            disabled: u.disabled,
        }
    }
}

/// Creates a user (audited). The password never travels through a form:
/// `tollgate-registry user create` reads it from the environment or stdin.
pub fn create(
    c: &mut Conn,
    actor: &Actor,
    username: &str,
    password: &str,
    role: Role,
) -> ServiceResult<UserInfo> {
    actor.require(ADMIN, "create users")?;
    let username = username.trim();
    if username.is_empty() || username.len() > 64 {
        return Err(ServiceError::Invalid(
            "the user name must be 1-64 characters".into(),
        ));
    }
    super::bounded("user name", username, 64)?;
    let hash = hash_password(password)?;
    super::transaction(c, |c| {
        audit::begin_change(c, false)?;
        let taken: i64 = users::table
            .filter(users::username.eq(username))
            .count()
            .get_result(c)?;
        if taken > 0 {
            return Err(ServiceError::Conflict(format!(
                "user '{username}' already exists"
            )));
        }
        diesel::insert_into(users::table)
            .values(NewUser {
                username: username.to_string(),
                password_hash: hash,
                role: role.as_str().into(),
                created_at: crate::now_unix(),
            })
            .execute(c)?;
        let info = find(c, username)?;
        audited(c, actor, "create", info)
    })
}

/// Records `action` on a user in the audit log (never a password) and
/// returns the user.
fn audited(c: &mut Conn, actor: &Actor, action: &str, info: UserInfo) -> ServiceResult<UserInfo> {
    audit::record(
        c,
        &actor.label(),
        action,
        "user",
        &info.username,
        None::<&()>,
        Some(&info),
    )?;
    Ok(info)
}

fn find(c: &mut Conn, username: &str) -> ServiceResult<UserInfo> {
    users::table
        .filter(users::username.eq(username))
        .select(User::as_select())
        .first(c)
        .optional()?
        .map(UserInfo::from)
        .ok_or_else(|| ServiceError::NotFound(format!("no user '{username}'")))
}

/// Every web user, by name.
pub fn list(c: &mut Conn, actor: &Actor) -> ServiceResult<Vec<UserInfo>> {
    actor.require(ADMIN, "list users")?;
    Ok(users::table
        .order(users::username.asc())
        .select(User::as_select())
        .load(c)?
        .into_iter()
        .map(UserInfo::from)
        .collect())
}

/// Disables (or enables again) a user, in one audited transaction;
/// disabling also ends the user's web sessions at once. An actor signed in
/// on the web cannot disable themselves.
pub fn set_disabled(
    c: &mut Conn,
    actor: &Actor,
    username: &str,
    disabled: bool,
) -> ServiceResult<UserInfo> {
    actor.require(ADMIN, "disable or enable users")?;
    if disabled && actor.channel == super::Channel::Web && actor.name == username {
        return Err(ServiceError::Conflict(
            "you cannot disable yourself; ask another admin".into(),
        ));
    }
    super::transaction(c, |c| {
        audit::begin_change(c, false)?;
        let before = find(c, username)?;
        if before.disabled == disabled {
            return Ok(before);
        }
        diesel::update(users::table.filter(users::username.eq(username)))
            .set(users::disabled.eq(disabled))
            .execute(c)?;
        if disabled {
            end_sessions_of(c, username)?;
        }
        let after = UserInfo {
            disabled,
            ..before.clone()
        };
        let action = if disabled { "disable" } else { "enable" };
        audit::record(
            c,
            &actor.label(),
            action,
            "user",
            username,
            Some(&before),
            Some(&after),
        )?;
        Ok(after)
    })
}

/// Changes a user's role (admin; audited; the user's web sessions end, so
/// the new role applies at the next sign-in). A dangerous change: the API
/// and pages reach it through `service::approvals`.
pub fn set_role(
    c: &mut Conn,
    actor: &Actor,
    username: &str,
    role: Role,
) -> ServiceResult<UserInfo> {
    actor.require(ADMIN, "change roles")?;
    super::transaction(c, |c| {
        audit::begin_change(c, false)?;
        let before = find(c, username)?;
        if before.role == role.as_str() {
            return Err(ServiceError::Conflict(format!(
                "user '{username}' already has the role {}",
                role.as_str()
            )));
        }
        diesel::update(users::table.filter(users::username.eq(username)))
            .set(users::role.eq(role.as_str()))
            .execute(c)?;
        end_sessions_of(c, username)?;
        let after = UserInfo {
            role: role.as_str().into(),
            ..before.clone()
        };
        audit::record(
            c,
            &actor.label(),
            "set-role",
            "user",
            username,
            Some(&before),
            Some(&after),
        )?;
        Ok(after)
    })
}

/// Checks credentials: a token, or a user name and password. Returns the
/// principal and role. A wrong user name costs the same work as a wrong
/// password, so timing does not reveal which names exist.
pub fn authenticate(
    c: &mut Conn,
    token: &str,
    username: &str,
    password: &str,
) -> ServiceResult<Option<(String, Role)>> {
    if !token.trim().is_empty() {
        let hash = super::sessions::hash_token(token.trim());
        return Ok(super::tokens::authenticate(c, &hash)?
            .map(|(id, name, role)| (token_principal(&name, id), role)));
    }
    let user: Option<User> = users::table
        .filter(users::username.eq(username.trim()))
        .select(User::as_select())
        .first(c)
        .optional()?;
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let dummy =
        DUMMY.get_or_init(|| hash_password("no such user, constant work").unwrap_or_default());
    let stored = user
        .as_ref()
        .map(|u| u.password_hash.clone())
        .unwrap_or_else(|| dummy.clone());
    let ok = PasswordHash::new(&stored)
        .map(|h| {
            argon2::Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false);
    Ok(match (user, ok) {
        (Some(u), true) if !u.disabled => Role::parse(&u.role).map(|r| (u.username, r)),
        _ => None,
    })
}

/// A fresh password for a person: 20 random characters from an alphabet
/// without look-alikes (about 115 bits), shown once to the admin who made it.
pub fn random_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut raw = [0u8; 20];
    rand::Rng::fill(&mut rand::rng(), &mut raw);
    raw.iter()
        .map(|b| {
            let i = usize::from(*b) % ALPHABET.len();
            ALPHABET.get(i).map(|c| char::from(*c)).unwrap_or('x')
        })
        .collect()
}

/// Sets a new password for a user (audited, without the password) and
/// ends their open sessions, so whoever held the old one is signed out.
pub fn reset_password(
    c: &mut Conn,
    actor: &Actor,
    username: &str,
    password: &str,
) -> ServiceResult<UserInfo> {
    actor.require(ADMIN, "reset passwords")?;
    let hash = hash_password(password)?;
    super::transaction(c, |c| {
        audit::begin_change(c, false)?;
        let info = find(c, username)?;
        diesel::update(users::table.filter(users::username.eq(username)))
            .set(users::password_hash.eq(hash))
            .execute(c)?;
        end_sessions_of(c, username)?;
        audited(c, actor, "reset-password", info)
    })
}

/// The outcome of a sign-in attempt.
pub enum SignIn {
    /// Signed in: the new session's id (the cookie value).
    Session(String),
    /// Unknown user, wrong password, unknown or revoked token.
    Refused,
    /// Too many failures from this account or address: wait this many
    /// seconds (the password was not checked).
    Wait(i64),
}

/// Signs in with a token, or a user name and password, from `address`:
/// throttled per account and per address (`super::throttle`), a session
/// started on success.
pub fn sign_in(
    c: &mut Conn,
    token: &str,
    username: &str,
    password: &str,
    address: &str,
) -> ServiceResult<SignIn> {
    let now = super::throttle::now_ms();
    let keys = super::throttle::keys(
        if token.trim().is_empty() {
            username
        } else {
            ""
        },
        address,
    );
    let wait = super::throttle::wait(c, &keys, now)?;
    if wait > 0 {
        return Ok(SignIn::Wait(wait));
    }
    match authenticate(c, token, username, password)? {
        Some((principal, role)) => {
            super::throttle::succeeded(c, &keys)?;
            Ok(SignIn::Session(super::sessions::start_session(
                c, &principal, role,
            )?))
        }
        None => {
            super::throttle::failed(c, &keys, now)?;
            Ok(SignIn::Refused)
        }
    }
}
