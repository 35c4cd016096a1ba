//! Vendor certificates: upload (PEM or DER), checked on the way in.

use super::vendors::READERS;
use super::{time_str, with_conn};
use crate::audit;
use crate::auth::{Caller, Role};
use crate::error::ApiError;
use crate::state::AppState;
use actix_web::{HttpResponse, get, post, web};
use base64::Engine;
use diesel::prelude::*;
use inspector::cert::{KeyAlgorithm, ParsedCert, certificates_from_bytes};
use schema::models::{Certificate, NewCertificate, Vendor};
use schema::schema::{certificates, vendors};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// Upload one certificate.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CertificateUpload {
    /// `anchor` (a CA trusted for this vendor only) or `intermediate`.
    pub role: String,
    /// The certificate as PEM text…
    #[serde(default)]
    pub pem: Option<String>,
    /// …or as base64 DER.
    #[serde(default)]
    pub der_base64: Option<String>,
}

/// A stored certificate.
#[derive(Serialize, Deserialize, ToSchema, Clone, Debug)]
pub struct CertificateView {
    /// Row id.
    pub id: i64,
    /// Owning vendor.
    pub vendor_id: String,
    /// anchor or intermediate.
    pub role: String,
    /// SHA-256 fingerprint (hex).
    pub sha256: String,
    /// Subject DN.
    pub subject: String,
    /// Issuer DN.
    pub issuer: String,
    /// Serial (hex).
    pub serial: String,
    /// Validity start (RFC 3339).
    pub not_before: String,
    /// Validity end (RFC 3339).
    pub not_after: String,
    /// Key algorithm and size.
    pub key_algorithm: String,
    /// The certificate (PEM).
    pub pem: String,
    /// Boot stages of products that load this vendor's components and
    /// cannot verify this key (on upload only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub capability_warnings: Vec<String>,
}

/// Converts a row.
pub fn view(c: &Certificate) -> CertificateView {
    CertificateView {
        id: c.id,
        vendor_id: c.vendor_id.clone(),
        role: c.role.clone(),
        sha256: c.sha256.clone(),
        subject: c.subject.clone(),
        issuer: c.issuer.clone(),
        serial: c.serial.clone(),
        not_before: time_str(c.not_before),
        not_after: time_str(c.not_after),
        key_algorithm: c.key_algorithm.clone(),
        pem: crate::bundle::pem_of(&c.der),
        capability_warnings: vec![],
    }
}

/// Decodes an upload into exactly one certificate.
pub fn decode_one(pem: Option<&str>, der_base64: Option<&str>) -> Result<ParsedCert, ApiError> {
    let bytes = match (pem, der_base64) {
        (Some(p), None) => p.as_bytes().to_vec(),
        (None, Some(b)) => base64::engine::general_purpose::STANDARD
            .decode(b.trim())
            .map_err(|e| ApiError::BadRequest(format!("der_base64 is not base64: {e}")))?,
        _ => {
            return Err(ApiError::BadRequest(
                "give exactly one of 'pem' or 'der_base64'".into(),
            ));
        }
    };
    one_certificate(&bytes)
}

/// Exactly one certificate from PEM or DER bytes (an upload).
pub fn one_certificate(bytes: &[u8]) -> Result<ParsedCert, ApiError> {
    let mut certs = certificates_from_bytes(bytes)
        .map_err(|e| ApiError::BadRequest(format!("certificate refused: {e}")))?;
    if certs.len() != 1 {
        return Err(ApiError::BadRequest(format!(
            "upload one certificate at a time ({} found)",
            certs.len()
        )));
    }
    certs
        .pop()
        .ok_or_else(|| ApiError::BadRequest("no certificate found".into()))
}

/// The checks every registered CA certificate must pass now.
pub fn check_ca(cert: &ParsedCert, role: &str, min_rsa_bits: i32) -> Result<(), ApiError> {
    let now = time::OffsetDateTime::now_utc();
    if now > cert.not_after() {
        return Err(ApiError::BadRequest(format!(
            "certificate refused: '{}' expired on {}",
            cert.subject(),
            inspector::cert::date(cert.not_after())
        )));
    }
    match cert.is_ca() {
        Ok(true) => {}
        Ok(false) => {
            return Err(ApiError::BadRequest(format!(
                "certificate refused: '{}' is not a CA certificate (basicConstraints cA is not set), so it cannot be registered as {role}; signer certificates travel inside the signatures",
                cert.subject()
            )));
        }
        Err(e) => return Err(ApiError::BadRequest(format!("certificate refused: {e}"))),
    }
    if let Ok(Some(ku)) = cert.key_usage()
        && !ku.key_cert_sign()
    {
        return Err(ApiError::BadRequest(format!(
            "certificate refused: '{}' lacks the keyCertSign key usage",
            cert.subject()
        )));
    }
    match cert.key_algorithm() {
        KeyAlgorithm::Rsa { bits } if i64::from(bits) < i64::from(min_rsa_bits) => {
            Err(ApiError::BadRequest(format!(
                "certificate refused: RSA-{bits} key is below the vendor's minimum of {min_rsa_bits} bits"
            )))
        }
        KeyAlgorithm::Unsupported { oid } => Err(ApiError::BadRequest(format!(
            "certificate refused: unsupported key algorithm {oid}"
        ))),
        _ => Ok(()),
    }
}

/// Registers a vendor CA certificate after the upload checks.
pub fn register_certificate(
    c: &mut schema::DbConnection,
    actor: &str,
    id: String,
    role: String,
    cert: ParsedCert,
) -> Result<Certificate, ApiError> {
    if role != "anchor" && role != "intermediate" {
        return Err(ApiError::BadRequest(format!(
            "role '{role}' must be 'anchor' or 'intermediate'"
        )));
    }
    c.transaction(|c| {
        audit::begin_change(c, true)?;
        let vendor: Vendor = crate::api::vendors::find_vendor(c, &id)?;
        check_ca(&cert, &role, vendor.min_rsa_bits)?;
        let fp = cert.fingerprint();
        let dup: i64 = certificates::table
            .filter(certificates::vendor_id.eq(&id))
            .filter(certificates::sha256.eq(&fp))
            .count()
            .get_result(c)?;
        if dup > 0 {
            return Err(ApiError::Conflict(format!(
                "certificate {fp} is already registered for vendor '{id}'"
            )));
        }
        let new = NewCertificate {
            vendor_id: id.clone(),
            role: role.clone(),
            der: cert.der.clone(),
            sha256: fp.clone(),
            subject: cert.subject(),
            issuer: cert.issuer(),
            serial: cert.serial_hex(),
            not_before: cert.not_before().unix_timestamp(),
            not_after: cert.not_after().unix_timestamp(),
            key_algorithm: cert.key_algorithm().to_string(),
            created_at: crate::now_unix(),
        };
        diesel::insert_into(certificates::table)
            .values(&new)
            .execute(c)?;
        let row: Certificate = certificates::table
            .filter(certificates::vendor_id.eq(&id))
            .filter(certificates::sha256.eq(&fp))
            .select(Certificate::as_select())
            .first(c)?;
        let mut summary = view(&row);
        summary.pem.clear();
        audit::record(
            c,
            actor,
            "create",
            "certificate",
            &row.id.to_string(),
            None::<&()>,
            Some(&summary),
        )?;
        Ok(row)
    })
}

/// Registers a certificate and returns the capability warnings for it:
/// product boot stages that load this vendor's components and cannot
/// verify its key.
pub fn register_and_flag(
    c: &mut schema::DbConnection,
    actor: &str,
    id: String,
    role: String,
    cert: ParsedCert,
) -> Result<(Certificate, Vec<String>), ApiError> {
    let warnings = crate::products::capability_warnings(c, &id, &cert)?;
    let row = register_certificate(c, actor, id, role, cert)?;
    Ok((row, warnings))
}

/// Uploads a vendor certificate (anchor or intermediate).
#[utoipa::path(tag = "certificates", params(("id" = String, Path)), request_body = CertificateUpload, responses((status = 201, body = CertificateView), (status = 400, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody)), security(("bearer" = [])))]
#[post("/vendors/{id}/certificates")]
pub async fn upload(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    body: web::Json<CertificateUpload>,
) -> Result<HttpResponse, ApiError> {
    caller.require(&[Role::Admin, Role::Procurement], "register certificates")?;
    let id = id.into_inner();
    let body = body.into_inner();
    let cert = decode_one(body.pem.as_deref(), body.der_base64.as_deref())?;
    let actor = caller.actor();
    let (row, warnings) = with_conn(&state, move |c| {
        register_and_flag(c, &actor, id, body.role, cert)
    })
    .await?;
    let mut v = view(&row);
    v.capability_warnings = warnings;
    Ok(HttpResponse::Created().json(v))
}

/// Lists a vendor's certificates.
#[utoipa::path(tag = "certificates", params(("id" = String, Path)), responses((status = 200, body = Vec<CertificateView>)), security(("bearer" = [])))]
#[get("/vendors/{id}/certificates")]
pub async fn list_for_vendor(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    caller.require(READERS, "read certificates")?;
    let id = id.into_inner();
    let rows: Vec<Certificate> = with_conn(&state, move |c| {
        let exists: i64 = vendors::table
            .filter(vendors::id.eq(&id))
            .count()
            .get_result(c)?;
        if exists == 0 {
            return Err(ApiError::NotFound(format!("no vendor '{id}'")));
        }
        Ok(certificates::table
            .filter(certificates::vendor_id.eq(&id))
            .order(certificates::id)
            .select(Certificate::as_select())
            .load(c)?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(rows.iter().map(view).collect::<Vec<_>>()))
}

/// Query of the expiring list.
#[derive(Deserialize, IntoParams)]
pub struct ExpiringQuery {
    /// Window in days (default 90).
    pub days: Option<i64>,
}

/// Certificates expiring within `days` (default 90), soonest first.
#[utoipa::path(tag = "certificates", params(ExpiringQuery), responses((status = 200, body = Vec<CertificateView>)), security(("bearer" = [])))]
#[get("/certificates/expiring")]
pub async fn expiring(
    state: web::Data<AppState>,
    caller: Caller,
    q: web::Query<ExpiringQuery>,
) -> Result<HttpResponse, ApiError> {
    caller.require(READERS, "read certificates")?;
    let days = q.days.unwrap_or(90).clamp(0, 36_500);
    let limit = crate::now_unix() + days * 86_400;
    let rows: Vec<Certificate> = with_conn(&state, move |c| {
        Ok(certificates::table
            .filter(certificates::not_after.le(limit))
            .order(certificates::not_after)
            .select(Certificate::as_select())
            .load(c)?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(rows.iter().map(view).collect::<Vec<_>>()))
}
