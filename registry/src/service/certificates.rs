//! Vendor certificates: upload (PEM or DER), checked on the way in.

use super::audit;
use super::{Actor, Conn, PROCUREMENT, READERS, ServiceError, ServiceResult, time_str};
use base64::Engine;
use diesel::prelude::*;
use inspector::cert::{KeyAlgorithm, ParsedCert, certificates_from_bytes};
use schema::models::{Certificate, NewCertificate, Vendor};
use schema::schema::certificates;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Upload one certificate.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"role": "anchor", "pem": include_str!("../../../tests/fixtures/cms/certs/acme-root.pem")}))]
pub struct CertificateUpload {
    /// `anchor` (a CA trusted for this vendor only) or `intermediate`.
    pub role: String,
    /// The certificate as PEM text…
    #[serde(default)]
    pub pem: Option<String>,
    /// …or as base64 DER.
    #[serde(default)]
    pub der_base64: Option<String>,
    /// Why a certificate whose subject equals a registered one's, with a
    /// different key, is meant (a root re-keyed by its vendor). Without it
    /// such a lookalike is refused. Audited.
    #[serde(default)]
    pub lookalike_reason: Option<String>,
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
    /// When it was retired (RFC 3339): out of the bundle and the
    /// allowlists, kept on record.
    #[serde(default)]
    pub retired_at: Option<String>,
    /// Why it was retired.
    #[serde(default)]
    pub retired_reason: Option<String>,
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
        pem: inspector::cert::certificate_pem(&c.der),
        capability_warnings: vec![],
        retired_at: c.retired_at.map(time_str),
        retired_reason: c.retired_reason.clone(),
    }
}

/// Decodes an upload into exactly one certificate.
pub fn decode_one(pem: Option<&str>, der_base64: Option<&str>) -> ServiceResult<ParsedCert> {
    let bytes = match (pem, der_base64) {
        (Some(p), None) => p.as_bytes().to_vec(),
        (None, Some(b)) => base64::engine::general_purpose::STANDARD
            .decode(b.trim())
            .map_err(|e| ServiceError::Invalid(format!("der_base64 is not base64: {e}")))?,
        _ => {
            return Err(ServiceError::Invalid(
                "give exactly one of 'pem' or 'der_base64'".into(),
            ));
        }
    };
    one_certificate(&bytes)
}

/// Exactly one certificate from PEM or DER bytes (an upload).
pub fn one_certificate(bytes: &[u8]) -> ServiceResult<ParsedCert> {
    let mut certs = certificates_from_bytes(bytes)
        .map_err(|e| ServiceError::Invalid(format!("certificate refused: {e}")))?;
    if certs.len() != 1 {
        return Err(ServiceError::Invalid(format!(
            "upload one certificate at a time ({} found)",
            certs.len()
        )));
    }
    certs
        .pop()
        .ok_or_else(|| ServiceError::Invalid("no certificate found".into()))
}

/// The checks every registered CA certificate must pass now.
pub fn check_ca(cert: &ParsedCert, role: &str, min_rsa_bits: i32) -> ServiceResult<()> {
    let now = time::OffsetDateTime::now_utc();
    if now > cert.not_after() {
        return Err(ServiceError::Invalid(format!(
            "certificate refused: '{}' expired on {}",
            cert.subject(),
            inspector::cert::date(cert.not_after())
        )));
    }
    match cert.is_ca() {
        Ok(true) => {}
        Ok(false) => {
            return Err(ServiceError::Invalid(format!(
                "certificate refused: '{}' is not a CA certificate (basicConstraints cA is not set), so it cannot be registered as {role}; signer certificates travel inside the signatures",
                cert.subject()
            )));
        }
        Err(e) => return Err(ServiceError::Invalid(format!("certificate refused: {e}"))),
    }
    if let Ok(Some(ku)) = cert.key_usage()
        && !ku.key_cert_sign()
    {
        return Err(ServiceError::Invalid(format!(
            "certificate refused: '{}' lacks the keyCertSign key usage",
            cert.subject()
        )));
    }
    // The strict certificate profile (RFC 5280 MUSTs and key rules), the
    // same rules verification applies to every path; an intermediate is
    // held to the intermediate rules, anything else to the anchor rules.
    let profile = if role == "intermediate" {
        inspector::profile::check_ca(cert)
    } else {
        inspector::profile::check_anchor(cert)
    };
    profile.map_err(|e| ServiceError::Invalid(format!("certificate refused: {e}")))?;
    match cert.key_algorithm() {
        KeyAlgorithm::Rsa { bits } if i64::from(bits) < i64::from(min_rsa_bits) => {
            Err(ServiceError::Invalid(format!(
                "certificate refused: RSA-{bits} key is below the vendor's minimum of {min_rsa_bits} bits"
            )))
        }
        KeyAlgorithm::Unsupported { oid } => Err(ServiceError::Invalid(format!(
            "certificate refused: unsupported key algorithm {oid}"
        ))),
        _ => Ok(()),
    }
}

/// Registers a vendor CA certificate after the upload checks.
pub fn register_certificate(
    c: &mut Conn,
    actor: &Actor,
    id: String,
    role: String,
    cert: ParsedCert,
    lookalike_reason: Option<String>,
) -> ServiceResult<Certificate> {
    actor.require(PROCUREMENT, "register certificates")?;
    let lookalike_reason = lookalike_reason.filter(|r| !r.trim().is_empty());
    if let Some(r) = &lookalike_reason {
        super::bounded("lookalike_reason", r, 1000)?;
    }
    if role != "anchor" && role != "intermediate" {
        return Err(ServiceError::Invalid(format!(
            "role '{role}' must be 'anchor' or 'intermediate'"
        )));
    }
    super::transaction(c, |c| {
        audit::begin_change(c, true)?;
        let vendor: Vendor = super::vendors::find_vendor(c, &id)?;
        check_ca(&cert, &role, vendor.min_rsa_bits)?;
        let fp = cert.fingerprint();
        let dup: i64 = certificates::table
            .filter(certificates::vendor_id.eq(&id))
            .filter(certificates::sha256.eq(&fp))
            .count()
            .get_result(c)?;
        if dup > 0 {
            return Err(ServiceError::Conflict(format!(
                "certificate {fp} is already registered for vendor '{id}'"
            )));
        }
        isolation_check(c, &id, &role, &cert, lookalike_reason.is_some())?;
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
        let mut shown = view(&row);
        shown.pem.clear();
        let mut summary = serde_json::to_value(shown).map_err(ServiceError::internal)?;
        if let (Some(r), Some(obj)) = (&lookalike_reason, summary.as_object_mut()) {
            obj.insert("lookalike_reason".into(), r.clone().into());
        }
        audit::record(
            c,
            &actor.label(),
            "create",
            "certificate",
            &row.id.to_string(),
            None::<&()>,
            Some(&summary),
        )?;
        Ok(row)
    })
}

/// Vendor isolation (issue 11): a key belongs to one vendor; a certificate
/// imitating a registered one's name with another key is a lookalike,
/// refused unless a reason is given; an intermediate must be issued by one
/// of the vendor's own registered CAs.
fn isolation_check(
    c: &mut Conn,
    vendor: &str,
    role: &str,
    cert: &ParsedCert,
    lookalike_confirmed: bool,
) -> ServiceResult<()> {
    let registered: Vec<Certificate> = certificates::table
        .order(certificates::id)
        .select(Certificate::as_select())
        .load(c)?;
    let spki = cert.spki_der();
    let subject = cert.subject_der();
    let mut own_cas = Vec::new();
    for r in &registered {
        let Ok(p) = ParsedCert::from_der(r.der.clone()) else {
            continue;
        };
        if p.spki_der() == spki && r.vendor_id != vendor && !shared(c, &spki, vendor, &r.vendor_id)?
        {
            return Err(ServiceError::Conflict(format!(
                "certificate refused: its key is already registered for vendor '{}' ('{}', SHA-256 {}); a key belongs to one vendor, so another vendor's CA cannot vouch for '{vendor}' (unless product security records it as a CA both share: POST /api/v1/shared-cas)",
                r.vendor_id, r.subject, r.sha256
            )));
        }
        if p.subject_der() == subject && p.spki_der() != spki && !lookalike_confirmed {
            return Err(ServiceError::Conflict(format!(
                "certificate refused as a lookalike: '{}' is already registered (vendor '{}', SHA-256 {}) with a different key; if this is intended (the vendor re-keyed it), register it again with a lookalike_reason",
                r.subject, r.vendor_id, r.sha256
            )));
        }
        if r.vendor_id == vendor {
            own_cas.push(p);
        }
    }
    if role == "intermediate" && !own_cas.iter().any(|ca| cert.is_signed_by(ca)) {
        return Err(ServiceError::Conflict(format!(
            "certificate refused: intermediate '{}' is not issued by any of vendor '{vendor}''s registered certificates (its issuer is '{}'); register the vendor's anchor first",
            cert.subject(),
            cert.issuer()
        )));
    }
    Ok(())
}

/// Where an uploaded certificate comes from.
pub enum CertificateSource {
    /// The API's JSON fields: PEM text or base64 DER (exactly one).
    Fields {
        /// PEM text.
        pem: Option<String>,
        /// Base64 DER.
        der_base64: Option<String>,
    },
    /// A file from a form (PEM or DER), or pasted PEM text; `None` when the
    /// form had neither.
    Form(Option<Vec<u8>>),
}

/// Registers an uploaded certificate and returns it with the capability
/// warnings for it: product boot stages that load this vendor's components
/// and cannot verify its key. The role is checked before the upload is
/// even parsed.
pub fn upload(
    c: &mut Conn,
    actor: &Actor,
    vendor: String,
    role: String,
    source: CertificateSource,
    lookalike_reason: Option<String>,
) -> ServiceResult<(Certificate, Vec<String>)> {
    actor.require(PROCUREMENT, "register certificates")?;
    let cert = match source {
        CertificateSource::Fields { pem, der_base64 } => {
            decode_one(pem.as_deref(), der_base64.as_deref())?
        }
        CertificateSource::Form(Some(bytes)) => one_certificate(&bytes)?,
        CertificateSource::Form(None) => {
            return Err(ServiceError::Invalid(
                "choose a certificate file or paste a PEM certificate".into(),
            ));
        }
    };
    let warnings = super::products::capability_warnings(c, &vendor, &cert)?;
    let row = register_certificate(c, actor, vendor, role, cert, lookalike_reason)?;
    Ok((row, warnings))
}

/// The registration of an uploaded certificate as a change for
/// `service::approvals` (an anchor needs a second person by default). The
/// role is checked before the upload is parsed.
pub fn registration_change(
    actor: &Actor,
    vendor: String,
    role: String,
    source: CertificateSource,
    lookalike_reason: Option<String>,
) -> ServiceResult<super::approvals::Change> {
    actor.require(PROCUREMENT, "register certificates")?;
    let cert = match source {
        CertificateSource::Fields { pem, der_base64 } => {
            decode_one(pem.as_deref(), der_base64.as_deref())?
        }
        CertificateSource::Form(Some(bytes)) => one_certificate(&bytes)?,
        CertificateSource::Form(None) => {
            return Err(ServiceError::Invalid(
                "choose a certificate file or paste a PEM certificate".into(),
            ));
        }
    };
    Ok(super::approvals::Change::RegisterCertificate {
        vendor,
        role,
        der_base64: base64::engine::general_purpose::STANDARD.encode(&cert.der),
        lookalike_reason,
    })
}

/// The vendor whose registered CA issued `cert`, matched by name, if any.
/// It only labels a leaf on the revocation page (which vendor and
/// components it concerns); what a revocation matches is decided by
/// `revocation_status`, not by this.
pub fn issuing_vendor(c: &mut Conn, cert: &ParsedCert) -> ServiceResult<Option<String>> {
    let issuer = cert.issuer_der();
    let rows: Vec<Certificate> = certificates::table
        .order(certificates::id)
        .select(Certificate::as_select())
        .load(c)?;
    Ok(rows
        .into_iter()
        .find(|r| ParsedCert::from_der(r.der.clone()).is_ok_and(|p| p.subject_der() == issuer))
        .map(|r| r.vendor_id))
}

/// A vendor's certificates, oldest first.
pub fn list_for_vendor(c: &mut Conn, actor: &Actor, id: &str) -> ServiceResult<Vec<Certificate>> {
    actor.require(READERS, "read certificates")?;
    super::vendors::find_vendor(c, id)?;
    Ok(certificates::table
        .filter(certificates::vendor_id.eq(id))
        .order(certificates::id)
        .select(Certificate::as_select())
        .load(c)?)
}

/// One certificate by row id.
pub fn get(c: &mut Conn, actor: &Actor, id: i64) -> ServiceResult<Certificate> {
    actor.require(READERS, "read certificates")?;
    certificates::table
        .find(id)
        .select(Certificate::as_select())
        .first(c)
        .optional()?
        .ok_or_else(|| ServiceError::NotFound(format!("no certificate {id}")))
}

/// Certificates expiring within `days` (default 90, at most 100 years),
/// soonest first.
pub fn expiring(c: &mut Conn, actor: &Actor, days: Option<i64>) -> ServiceResult<Vec<Certificate>> {
    actor.require(READERS, "read certificates")?;
    let days = days.unwrap_or(90).clamp(0, 36_500);
    let limit = crate::now_unix() + days * 86_400;
    Ok(certificates::table
        .filter(certificates::not_after.le(limit))
        .filter(certificates::retired_at.is_null())
        .order(certificates::not_after)
        .select(Certificate::as_select())
        .load(c)?)
}

/// Whether a shared-CA record lets vendors `a` and `b` both register the
/// key `spki`.
fn shared(c: &mut Conn, spki: &[u8], a: &str, b: &str) -> ServiceResult<bool> {
    use schema::schema::shared_cas;
    let fp = inspector::digest::hex(&inspector::digest::DigestAlgorithm::Sha256.hash(spki));
    let rows: Vec<String> = shared_cas::table
        .filter(shared_cas::spki_sha256.eq(&fp))
        .select(shared_cas::vendors)
        .load(c)?;
    Ok(rows.iter().any(|v| {
        let set: Vec<&str> = v.split(',').collect();
        set.contains(&a) && set.contains(&b)
    }))
}

/// Record a CA key several vendors may register.
#[derive(Serialize, Deserialize, ToSchema, Clone, Debug)]
#[serde(deny_unknown_fields)]
pub struct SharedCaRequest {
    /// The CA certificate (PEM).
    pub pem: String,
    /// The vendors that share it (at least two, existing).
    pub vendors: Vec<String>,
    /// Why (audited, shown on each vendor's page).
    pub reason: String,
}

/// A recorded shared CA.
#[derive(Serialize, Deserialize, ToSchema, Debug, Clone)]
pub struct SharedCaView {
    /// Row id.
    pub id: i64,
    /// Hex SHA-256 of the CA's SubjectPublicKeyInfo.
    pub spki_sha256: String,
    /// The CA's subject.
    pub subject: String,
    /// The vendors that share it.
    pub vendors: Vec<String>,
    /// Why.
    pub reason: String,
    /// Recorded (RFC 3339).
    pub created_at: String,
    /// By whom.
    pub created_by: String,
}

/// Converts a row.
pub fn shared_view(r: &schema::models::SharedCa) -> SharedCaView {
    SharedCaView {
        id: r.id,
        spki_sha256: r.spki_sha256.clone(),
        subject: r.subject.clone(),
        vendors: r.vendors.split(',').map(str::to_string).collect(),
        reason: r.reason.clone(),
        created_at: time_str(r.created_at),
        created_by: r.created_by.clone(),
    }
}

/// Records a CA key that several vendors may register (product security;
/// audited; the bundle serial moves). Each vendor still registers the
/// certificate itself.
pub fn record_shared_ca(
    c: &mut Conn,
    actor: &Actor,
    body: SharedCaRequest,
) -> ServiceResult<schema::models::SharedCa> {
    use schema::schema::shared_cas;
    actor.require(super::SECURITY, "record shared CAs")?;
    if body.reason.trim().is_empty() {
        return Err(ServiceError::Invalid("reason must not be empty".into()));
    }
    super::bounded("reason", &body.reason, 1000)?;
    let cert = decode_one(Some(&body.pem), None)?;
    let mut vendors = body.vendors.clone();
    vendors.sort();
    vendors.dedup();
    if vendors.len() < 2 || vendors.len() > 20 {
        return Err(ServiceError::Invalid(
            "vendors: name 2 to 20 different vendors".into(),
        ));
    }
    super::transaction(c, |c| {
        audit::begin_change(c, true)?;
        for v in &vendors {
            // A vendor named in the body that does not exist is a bad
            // value of that field (400), not a missing resource.
            super::vendors::find_vendor(c, v).map_err(|e| match e {
                ServiceError::NotFound(_) => {
                    ServiceError::Invalid(format!("vendors: no vendor '{v}'"))
                }
                other => other,
            })?;
        }
        let fp = inspector::digest::hex(
            &inspector::digest::DigestAlgorithm::Sha256.hash(&cert.spki_der()),
        );
        diesel::insert_into(shared_cas::table)
            .values(schema::models::NewSharedCa {
                spki_sha256: fp.clone(),
                subject: cert.subject(),
                vendors: vendors.join(","),
                reason: body.reason.clone(),
                created_at: crate::now_unix(),
                created_by: actor.label(),
            })
            .execute(c)?;
        let row: schema::models::SharedCa = shared_cas::table
            .order(shared_cas::id.desc())
            .select(schema::models::SharedCa::as_select())
            .first(c)?;
        audit::record(
            c,
            &actor.label(),
            "share",
            "certificate",
            &fp,
            None::<&()>,
            Some(&shared_view(&row)),
        )?;
        Ok(row)
    })
}

/// Every shared-CA record (or those naming `vendor`).
pub fn shared_cas(
    c: &mut Conn,
    actor: &Actor,
    vendor: Option<&str>,
) -> ServiceResult<Vec<schema::models::SharedCa>> {
    use schema::schema::shared_cas;
    actor.require(READERS, "read shared CAs")?;
    let rows: Vec<schema::models::SharedCa> = shared_cas::table
        .order(shared_cas::id)
        .select(schema::models::SharedCa::as_select())
        .load(c)?;
    Ok(rows
        .into_iter()
        .filter(|r| vendor.is_none_or(|v| r.vendors.split(',').any(|x| x == v)))
        .collect())
}
