//! Time-stamping authority anchors: the roots RFC 3161 tokens must chain to.

use super::audit;
use super::certificates::{check_ca, decode_one};
use super::{Actor, Conn, READERS, SECURITY, ServiceResult, time_str};
use diesel::prelude::*;
use schema::models::{NewTsaAnchor, TsaAnchor};
use schema::schema::tsa_anchors;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A TSA anchor.
#[derive(Serialize, Deserialize, ToSchema, Clone, Debug)]
pub struct TsaAnchorView {
    /// Row id.
    pub id: i64,
    /// Subject.
    pub subject: String,
    /// SHA-256 fingerprint.
    pub sha256: String,
    /// Validity end.
    pub not_after: String,
    /// When it was retired (RFC 3339): out of the bundle, kept on record.
    #[serde(default)]
    pub retired_at: Option<String>,
    /// Why it was retired.
    #[serde(default)]
    pub retired_reason: Option<String>,
}

/// Add a TSA anchor.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"pem": include_str!("../../../tests/fixtures/cms/certs/tsa-root.pem")}))]
pub struct TsaAnchorRequest {
    /// PEM…
    #[serde(default)]
    pub pem: Option<String>,
    /// …or base64 DER.
    #[serde(default)]
    pub der_base64: Option<String>,
}
/// Converts a row.
pub fn view(t: &TsaAnchor) -> TsaAnchorView {
    TsaAnchorView {
        id: t.id,
        subject: t.subject.clone(),
        sha256: t.sha256.clone(),
        not_after: time_str(t.not_after),
        retired_at: t.retired_at.map(time_str),
        retired_reason: t.retired_reason.clone(),
    }
}

/// Every TSA anchor.
pub fn list(c: &mut Conn, actor: &Actor) -> ServiceResult<Vec<TsaAnchorView>> {
    actor.require(READERS, "read TSA anchors")?;
    let rows: Vec<TsaAnchor> = tsa_anchors::table
        .order(tsa_anchors::id)
        .select(TsaAnchor::as_select())
        .load(c)?;
    Ok(rows.iter().map(view).collect())
}

/// Trusts a time-stamping authority root (a CA certificate valid now).
pub fn add(c: &mut Conn, actor: &Actor, body: TsaAnchorRequest) -> ServiceResult<TsaAnchorView> {
    actor.require(SECURITY, "trust TSAs")?;
    let cert = decode_one(body.pem.as_deref(), body.der_base64.as_deref())?;
    check_ca(&cert, "a TSA anchor", 2048)?;
    super::transaction(c, |c| {
        audit::begin_change(c, true)?;
        let fp = cert.fingerprint();
        diesel::insert_into(tsa_anchors::table)
            .values(NewTsaAnchor {
                der: cert.der.clone(),
                sha256: fp.clone(),
                subject: cert.subject(),
                not_after: cert.not_after().unix_timestamp(),
                created_at: crate::now_unix(),
            })
            .execute(c)?;
        let t: TsaAnchor = tsa_anchors::table
            .filter(tsa_anchors::sha256.eq(&fp))
            .select(TsaAnchor::as_select())
            .first(c)?;
        let v = view(&t);
        audit::record(
            c,
            &actor.label(),
            "create",
            "tsa-anchor",
            &fp,
            None::<&()>,
            Some(&v),
        )?;
        Ok(v)
    })
}
