//! Station keys: an admin registers an inspection station's public key
//! (from `tollgate-inspect station init`) and binds it to the station's
//! inspector token. A signed receipt is accepted only when its envelope is
//! signed by a registered, unretired key bound to the token posting it.

use super::{ADMIN, Actor, Conn, READERS, ServiceError, ServiceResult, audit, time_str};
use diesel::prelude::*;
use schema::models::{ApiToken, NewStationKey, StationKey};
use schema::schema::{api_tokens, station_keys};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Register a station key.
#[derive(Deserialize, Serialize, ToSchema, Clone)]
#[serde(deny_unknown_fields)]
pub struct StationKeyRequest {
    /// The station's name (receipts signed with the key must name it).
    pub name: String,
    /// The id of the station's inspector token (`GET /tokens`).
    pub token_id: i64,
    /// The public key (`station.key.pub`): an ECDSA P-256 key as PEM.
    pub public_key_pem: String,
}

/// Retire a station key.
#[derive(Deserialize, ToSchema, Clone)]
#[serde(deny_unknown_fields)]
pub struct RetireRequest {
    /// Why (audited).
    pub reason: String,
}

/// A registered station key.
#[derive(Serialize, Deserialize, ToSchema, Debug, Clone)]
pub struct StationKeyView {
    /// Row id.
    pub id: i64,
    /// Station name.
    pub name: String,
    /// The inspector token it is bound to.
    pub token_id: i64,
    /// The key id envelopes name (hex SHA-256 of the SubjectPublicKeyInfo).
    pub keyid: String,
    /// The public key, PEM.
    pub public_key_pem: String,
    /// Registered (RFC 3339).
    pub created_at: String,
    /// By whom.
    pub created_by: String,
    /// Retired (RFC 3339): receipts signed with it are refused from then on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retired_at: Option<String>,
    /// Why it was retired.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retired_reason: Option<String>,
}

/// Converts a row.
pub fn view(k: &StationKey) -> StationKeyView {
    StationKeyView {
        id: k.id,
        name: k.name.clone(),
        token_id: k.token_id,
        keyid: k.keyid.clone(),
        public_key_pem: ::pem::encode_config(
            &::pem::Pem::new("PUBLIC KEY", k.spki_der.clone()),
            ::pem::EncodeConfig::new().set_line_ending(::pem::LineEnding::LF),
        ),
        created_at: time_str(k.created_at),
        created_by: k.created_by.clone(),
        retired_at: k.retired_at.map(time_str),
        retired_reason: k.retired_reason.clone(),
    }
}

/// The SPKI DER of a P-256 public key given as PEM (`PUBLIC KEY`).
fn p256_spki(pem_text: &str) -> ServiceResult<Vec<u8>> {
    let block = ::pem::parse(pem_text.trim())
        .map_err(|e| ServiceError::Invalid(format!("public_key_pem: {e}")))?;
    if block.tag() != "PUBLIC KEY" {
        return Err(ServiceError::Invalid(format!(
            "public_key_pem: PEM label '{}' is not 'PUBLIC KEY'",
            block.tag()
        )));
    }
    use p256::pkcs8::DecodePublicKey;
    p256::ecdsa::VerifyingKey::from_public_key_der(block.contents()).map_err(|e| {
        ServiceError::Invalid(format!(
            "public_key_pem is not an ECDSA P-256 public key: {e}"
        ))
    })?;
    Ok(block.into_contents())
}

/// Registers a station key bound to an inspector token (admins; audited).
pub fn register(
    c: &mut Conn,
    actor: &Actor,
    body: StationKeyRequest,
) -> ServiceResult<StationKeyView> {
    actor.require(ADMIN, "register station keys")?;
    if body.name.trim().is_empty() {
        return Err(ServiceError::Invalid("name must not be empty".into()));
    }
    super::bounded("name", &body.name, 128)?;
    if body.public_key_pem.len() > 4096 {
        return Err(ServiceError::Invalid(
            "public_key_pem is over 4096 bytes".into(),
        ));
    }
    let spki = p256_spki(&body.public_key_pem)?;
    let keyid = inspector::dsse::keyid(&spki);
    super::transaction(c, |c| {
        audit::begin_change(c, false)?;
        let token: ApiToken = api_tokens::table
            .find(body.token_id)
            .select(ApiToken::as_select())
            .first(c)
            .optional()?
            .ok_or_else(|| {
                ServiceError::Invalid(format!("token_id: no token {}", body.token_id))
            })?;
        if token.revoked || token.role != "inspector" {
            return Err(ServiceError::Invalid(format!(
                "token_id: token {} ('{}') is {}; a station key is bound to an active inspector token",
                token.id,
                token.name,
                if token.revoked {
                    "revoked".to_string()
                } else {
                    format!("a '{}' token", token.role)
                }
            )));
        }
        let clash: Option<StationKey> = station_keys::table
            .filter(
                station_keys::name
                    .eq(&body.name)
                    .or(station_keys::keyid.eq(&keyid)),
            )
            .select(StationKey::as_select())
            .first(c)
            .optional()?;
        if let Some(k) = clash {
            return Err(ServiceError::Conflict(if k.keyid == keyid {
                format!("this key is already registered, for station '{}'", k.name)
            } else {
                format!("a station named '{}' is already registered", k.name)
            }));
        }
        diesel::insert_into(station_keys::table)
            .values(&NewStationKey {
                name: body.name.clone(),
                token_id: body.token_id,
                spki_der: spki.clone(),
                keyid: keyid.clone(),
                created_at: crate::now_unix(),
                created_by: actor.label(),
            })
            .execute(c)?;
        let row: StationKey = station_keys::table
            .filter(station_keys::keyid.eq(&keyid))
            .select(StationKey::as_select())
            .first(c)?;
        let v = view(&row);
        audit::record(
            c,
            &actor.label(),
            "register",
            "station_key",
            &row.name,
            None::<&()>,
            Some(&v),
        )?;
        Ok(v)
    })
}

/// Every station key, newest first.
pub fn list(c: &mut Conn, actor: &Actor) -> ServiceResult<Vec<StationKeyView>> {
    actor.require(READERS, "read station keys")?;
    Ok(station_keys::table
        .order(station_keys::id.desc())
        .select(StationKey::as_select())
        .load(c)?
        .iter()
        .map(view)
        .collect())
}

/// Retires a station key: receipts signed with it are refused from now on
/// (those already recorded stay, with their signature). Admins; audited.
pub fn retire(
    c: &mut Conn,
    actor: &Actor,
    id: i64,
    body: RetireRequest,
) -> ServiceResult<StationKeyView> {
    actor.require(ADMIN, "retire station keys")?;
    if body.reason.trim().is_empty() {
        return Err(ServiceError::Invalid("reason must not be empty".into()));
    }
    super::bounded("reason", &body.reason, 1000)?;
    super::transaction(c, |c| {
        audit::begin_change(c, false)?;
        let before: StationKey = station_keys::table
            .find(id)
            .select(StationKey::as_select())
            .first(c)
            .optional()?
            .ok_or_else(|| ServiceError::NotFound(format!("no station key {id}")))?;
        if before.retired_at.is_some() {
            return Err(ServiceError::Conflict(format!(
                "station key '{}' is already retired",
                before.name
            )));
        }
        diesel::update(station_keys::table.find(id))
            .set((
                station_keys::retired_at.eq(crate::now_unix()),
                station_keys::retired_by.eq(actor.label()),
                station_keys::retired_reason.eq(&body.reason),
            ))
            .execute(c)?;
        let after: StationKey = station_keys::table
            .find(id)
            .select(StationKey::as_select())
            .first(c)?;
        audit::record(
            c,
            &actor.label(),
            "retire",
            "station_key",
            &after.name,
            Some(&view(&before)),
            Some(&view(&after)),
        )?;
        Ok(view(&after))
    })
}

/// The active station key among `keyids` (an envelope's signers), checked
/// against the token posting it.
pub fn signing_key(c: &mut Conn, actor: &Actor, keyids: &[&str]) -> ServiceResult<StationKey> {
    let keys: Vec<StationKey> = station_keys::table
        .filter(station_keys::keyid.eq_any(keyids))
        .select(StationKey::as_select())
        .load(c)?;
    let Some(key) = keys.iter().find(|k| k.retired_at.is_none()) else {
        return Err(ServiceError::Forbidden(match keys.first() {
            Some(k) => format!(
                "the envelope is signed by station '{}''s key, which was retired",
                k.name
            ),
            None => format!(
                "the envelope is signed by key {}, which is not a registered station key",
                keyids.first().copied().unwrap_or("(none)")
            ),
        }));
    };
    if actor.token != Some(key.token_id) {
        return Err(ServiceError::Forbidden(format!(
            "the envelope is signed by station '{}''s key, which is bound to another token",
            key.name
        )));
    }
    Ok(key.clone())
}
