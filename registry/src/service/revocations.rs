//! Revocations: of one certificate (API, page, CLI), or imported from a
//! CRL. Whether a certificate is revoked is decided by the one rule in
//! [`super::revocation_status`].

use super::audit;
use super::brick::BrickGuard;
use super::certificates::decode_one;
use super::{Actor, Conn, READERS, SECURITY, ServiceError, ServiceResult, parse_time, time_str};
use base64::Engine;
use der::{Decode, Encode};
use diesel::prelude::*;
use inspector::cert::ParsedCert;
use inspector::digest::{DigestAlgorithm, hex};
use inspector::policy::REVOCATION_REASONS;
use schema::models::{Certificate, NewRevocation, Revocation};
use schema::schema::{certificates, revocations};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use x509_cert::crl::CertificateList;

/// Revoke one certificate.
#[derive(Serialize, Deserialize, ToSchema, Clone, Debug)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"pem": include_str!("../../../tests/fixtures/cms/certs/old-signer.pem"), "reason": "keyCompromise", "invalidity_date": "2026-08-16T00:00:00Z"}))]
pub struct RevocationRequest {
    /// The revoked certificate (PEM)…
    #[serde(default)]
    pub pem: Option<String>,
    /// …or base64 DER.
    #[serde(default)]
    pub der_base64: Option<String>,
    /// RFC 5280 reason name (`keyCompromise`, …).
    pub reason: String,
    /// From when the key is untrustworthy (RFC 3158). Signatures with a
    /// trusted timestamp before it stay valid. Absent: for all time.
    #[serde(default)]
    pub invalidity_date: Option<String>,
    /// Apply even if the brick check finds products left without a key
    /// for a boot stage.
    #[serde(default)]
    pub confirm_brick: bool,
}

/// Import a CRL.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"pem": include_str!("../../../tests/fixtures/cms/certs/acme-int.crl.pem")}))]
pub struct CrlImport {
    /// The CRL as PEM (`X509 CRL`)…
    #[serde(default)]
    pub pem: Option<String>,
    /// …or base64 DER.
    #[serde(default)]
    pub der_base64: Option<String>,
    /// Apply even if the brick check finds products left without a key.
    #[serde(default)]
    pub confirm_brick: bool,
}

/// A revocation as shown by the API.
#[derive(Serialize, Deserialize, ToSchema, Clone, Debug)]
pub struct RevocationView {
    /// Row id.
    pub id: i64,
    /// Subject of the revoked certificate, or `serial X issued by Y`.
    pub subject: String,
    /// Serial (hex), for CRL entries.
    pub serial: Option<String>,
    /// Reason.
    pub reason: String,
    /// Invalidity date.
    pub invalidity_date: Option<String>,
    /// `api` or `crl`.
    pub source: String,
    /// When recorded.
    pub created_at: String,
}

/// Result of a CRL import.
#[derive(Serialize, Deserialize, ToSchema, Debug)]
pub struct CrlImportResult {
    /// The CA that issued the CRL (a registered certificate).
    pub issuer: String,
    /// Entries added as revocations.
    pub imported: usize,
    /// Entries already present.
    pub already_present: usize,
    /// Registry-accepted receipts whose evidence no longer verifies after
    /// this CRL (their images move to `dbx`).
    pub receipts_withdrawn: usize,
}

/// Converts a row.
pub fn view(r: &Revocation) -> RevocationView {
    RevocationView {
        id: r.id,
        subject: r.subject.clone(),
        serial: r.serial.clone(),
        reason: r.reason.clone(),
        invalidity_date: r.invalidity_date.map(time_str),
        source: r.source.clone(),
        created_at: time_str(r.created_at),
    }
}

fn check_reason(reason: &str) -> ServiceResult<()> {
    if REVOCATION_REASONS.contains(&reason) {
        Ok(())
    } else {
        Err(ServiceError::Invalid(format!(
            "reason '{reason}' is not one of {}",
            REVOCATION_REASONS.join(", ")
        )))
    }
}

/// Every revocation, oldest first.
pub fn list(c: &mut Conn, actor: &Actor) -> ServiceResult<Vec<Revocation>> {
    actor.require(READERS, "read revocations")?;
    Ok(revocations::table
        .order(revocations::id)
        .select(Revocation::as_select())
        .load(c)?)
}

/// Revokes one certificate (validation, change, audit and brick check: one
/// transaction). The one revocation path of the API, the pages and the CLI.
pub fn revoke_certificate(
    c: &mut Conn,
    actor: &Actor,
    body: RevocationRequest,
) -> ServiceResult<Revocation> {
    actor.require(SECURITY, "revoke certificates")?;
    check_reason(&body.reason)?;
    let cert = decode_one(body.pem.as_deref(), body.der_base64.as_deref())?;
    let invalidity = body
        .invalidity_date
        .as_deref()
        .map(|s| parse_time("invalidity_date", s))
        .transpose()?;
    super::transaction(c, |c| {
        audit::begin_change(c, true)?;
        let guard = BrickGuard::start(c)?;
        let new = NewRevocation {
            certificate_der: Some(cert.der.clone()),
            issuer_der: None,
            serial: None,
            subject: cert.subject(),
            reason: body.reason.clone(),
            invalidity_date: invalidity,
            source: "api".into(),
            created_at: crate::now_unix(),
        };
        diesel::insert_into(revocations::table)
            .values(&new)
            .execute(c)?;
        let row: Revocation = revocations::table
            .order(revocations::id.desc())
            .select(Revocation::as_select())
            .first(c)?;
        audit::record(
            c,
            &actor.label(),
            "revoke",
            "certificate",
            &cert.fingerprint(),
            None::<&()>,
            Some(&view(&row)),
        )?;
        let target = inspector::policy::RevokedTarget::Certificate(Box::new(cert.clone()));
        withdraw(c, actor, &[target], &cert.fingerprint())?;
        guard.check(c, body.confirm_brick)?;
        Ok(row)
    })
}

/// The DER of a CRL given as PEM or base64 DER.
pub fn crl_der(pem: Option<&str>, der_base64: Option<&str>) -> ServiceResult<Vec<u8>> {
    match (pem, der_base64) {
        (Some(p), None) => {
            let block =
                pem::parse(p).map_err(|e| ServiceError::Invalid(format!("CRL PEM: {e}")))?;
            if block.tag() != "X509 CRL" {
                return Err(ServiceError::Invalid(format!(
                    "PEM label '{}' is not 'X509 CRL'",
                    block.tag()
                )));
            }
            Ok(block.into_contents())
        }
        (None, Some(b)) => base64::engine::general_purpose::STANDARD
            .decode(b.trim())
            .map_err(|e| ServiceError::Invalid(format!("der_base64: {e}"))),
        _ => Err(ServiceError::Invalid(
            "give exactly one of 'pem' or 'der_base64'".into(),
        )),
    }
}

/// Imports a CRL: its issuer must be a registered CA certificate, its
/// signature must verify, and each entry becomes a revocation by issuer and
/// serial. Reason and invalidity date come from the entry extensions; a
/// keyCompromise/cACompromise/unspecified entry without invalidity date is
/// revoked for all time, any other reason from its revocation date. The
/// brick check runs as for one revocation.
pub fn import_crl(c: &mut Conn, actor: &Actor, body: CrlImport) -> ServiceResult<CrlImportResult> {
    actor.require(SECURITY, "import CRLs")?;
    let der = crl_der(body.pem.as_deref(), body.der_base64.as_deref())?;
    let crl = CertificateList::from_der(&der)
        .map_err(|e| ServiceError::Invalid(format!("not a CRL: {e}")))?;
    let issuer_name = crl
        .tbs_cert_list
        .issuer
        .to_der()
        .map_err(|e| ServiceError::Invalid(format!("CRL issuer: {e}")))?;
    super::transaction(c, |c| {
        audit::begin_change(c, true)?;
        let guard = BrickGuard::start(c)?;
        let registered: Vec<Certificate> = certificates::table
            .select(Certificate::as_select())
            .load(c)?;
        let issuer = registered
            .iter()
            .filter_map(|r| ParsedCert::from_der(r.der.clone()).ok())
            .find(|p| p.subject_der() == issuer_name && verify_crl(&crl, p).is_ok())
            .ok_or_else(|| {
                ServiceError::Invalid(format!(
                    "the CRL issuer '{}' is not a registered certificate whose key verifies the CRL",
                    crl.tbs_cert_list.issuer
                ))
            })?;
        // The profile's CRL rules (RFC 5280 section 5.2.3 CRL number, the
        // issuer's cRLSign), as verification applies them to CRLs it is given.
        inspector::profile::check_crl(&der, Some(&issuer))
            .map_err(|e| ServiceError::Invalid(format!("CRL refused: {e}")))?;
        // The serials already revoked for this issuer (one query, one set:
        // a 100,000-entry CRL must not compare every entry with every row).
        let mut existing: std::collections::HashSet<String> = revocations::table
            .filter(revocations::issuer_der.eq(issuer.der.clone()))
            .select(revocations::serial)
            .load::<Option<String>>(c)?
            .into_iter()
            .flatten()
            .collect();
        let (mut imported, mut already) = (0usize, 0usize);
        let (issuer_subject, now) = (issuer.subject(), crate::now_unix());
        let mut pending = Vec::with_capacity(INSERT_BATCH);
        let mut targets = Vec::new();
        for entry in crl.tbs_cert_list.revoked_certificates.iter().flatten() {
            let serial = hex(entry.serial_number.as_bytes());
            if !existing.insert(serial.clone()) {
                already += 1;
                continue;
            }
            let (reason, invalidity) = entry_reason(entry);
            targets.push(inspector::policy::RevokedTarget::IssuerSerial {
                issuer_name_der: issuer.subject_der(),
                issuer: issuer_subject.clone(),
                serial: entry.serial_number.as_bytes().to_vec(),
            });
            pending.push(NewRevocation {
                certificate_der: None,
                issuer_der: Some(issuer.der.clone()),
                serial: Some(serial.clone()),
                subject: format!("serial {serial} issued by {issuer_subject}"),
                reason,
                invalidity_date: invalidity,
                source: "crl".into(),
                created_at: now,
            });
            if pending.len() == INSERT_BATCH {
                insert_revocations(c, &mut pending)?;
            }
            imported += 1;
        }
        insert_revocations(c, &mut pending)?;
        let receipts_withdrawn = withdraw(c, actor, &targets, &issuer.fingerprint())?;
        guard.check(c, body.confirm_brick)?;
        let result = CrlImportResult {
            issuer: issuer.subject(),
            imported,
            already_present: already,
            receipts_withdrawn,
        };
        audit::record(
            c,
            &actor.label(),
            "import-crl",
            "revocations",
            &issuer.fingerprint(),
            None::<&()>,
            Some(&result),
        )?;
        Ok(result)
    })
}

/// Re-verifies the receipts the new revocations touch (inside the
/// change's transaction, so the brick check sees their images move to
/// `dbx`), and audits what was withdrawn. Returns how many were.
fn withdraw(
    c: &mut Conn,
    actor: &Actor,
    targets: &[inspector::policy::RevokedTarget],
    what: &str,
) -> ServiceResult<usize> {
    let counts = super::evidence::reevaluate(c, targets)?;
    super::evidence::record_reevaluation(c, actor, what, counts)
}

/// Rows per INSERT when a CRL is imported.
const INSERT_BATCH: usize = 1000;

/// Inserts (and empties) a batch of revocations: one multi-row INSERT on
/// PostgreSQL (a 100,000-entry CRL row by row was 100,000 round trips
/// holding the write lock); row by row on SQLite, which is in-process
/// (and has no DEFAULT in a multi-row VALUES for the optional columns).
fn insert_revocations(c: &mut Conn, rows: &mut Vec<NewRevocation>) -> ServiceResult<()> {
    if rows.is_empty() {
        return Ok(());
    }
    match c {
        schema::DbConnection::Pg(pg) => {
            diesel::insert_into(revocations::table)
                .values(rows.as_slice())
                .execute(pg)?;
        }
        schema::DbConnection::Sqlite(_) => {
            for row in rows.iter() {
                diesel::insert_into(revocations::table)
                    .values(row)
                    .execute(c)?;
            }
        }
    }
    rows.clear();
    Ok(())
}

/// Reason and invalidity date of one CRL entry.
fn entry_reason(entry: &x509_cert::crl::RevokedCert) -> (String, Option<i64>) {
    let mut reason = "unspecified".to_string();
    let mut invalidity: Option<i64> = None;
    for ext in entry.crl_entry_extensions.iter().flatten() {
        if ext.extn_id == const_oid_reason() {
            if let Ok(r) = x509_cert::ext::pkix::CrlReason::from_der(ext.extn_value.as_bytes()) {
                reason = reason_name(r).to_string();
            }
        } else if ext.extn_id == const_oid_invalidity()
            && let Ok(t) = der::asn1::GeneralizedTime::from_der(ext.extn_value.as_bytes())
        {
            invalidity = i64::try_from(t.to_unix_duration().as_secs()).ok();
        }
    }
    if invalidity.is_none()
        && reason != "keyCompromise"
        && reason != "cACompromise"
        && reason != "unspecified"
    {
        invalidity = i64::try_from(entry.revocation_date.to_unix_duration().as_secs()).ok();
    }
    (reason, invalidity)
}

/// Parses a CRL and verifies its signature by `issuer`.
fn verify_crl(crl: &CertificateList, issuer: &ParsedCert) -> ServiceResult<()> {
    use inspector::oids;
    let alg = &crl.signature_algorithm;
    let digest = match alg.oid {
        oids::ECDSA_WITH_SHA256 | oids::SHA256_WITH_RSA => DigestAlgorithm::Sha256,
        oids::ECDSA_WITH_SHA384 | oids::SHA384_WITH_RSA => DigestAlgorithm::Sha384,
        oids::ECDSA_WITH_SHA512 | oids::SHA512_WITH_RSA => DigestAlgorithm::Sha512,
        other => {
            return Err(ServiceError::Invalid(format!(
                "CRL signature algorithm {other} is not accepted"
            )));
        }
    };
    let tbs = crl
        .tbs_cert_list
        .to_der()
        .map_err(|e| ServiceError::Invalid(format!("CRL: {e}")))?;
    let key = issuer.key_algorithm();
    let spki_alg = spki_alg(alg);
    let scheme = inspector::signature::resolve_scheme(&spki_alg, digest, &key)
        .map_err(|e| ServiceError::Invalid(e.to_string()))?;
    let hashed = digest.hash(&tbs);
    let sig = crl
        .signature
        .as_bytes()
        .ok_or_else(|| ServiceError::Invalid("CRL signature is not whole bytes".into()))?;
    inspector::signature::verify(
        scheme,
        &key,
        &issuer.spki_der(),
        digest,
        &inspector::signature::SignedMessage {
            digest: &hashed,
            message: Some(&tbs),
        },
        sig,
    )
    .map_err(|e| {
        ServiceError::Invalid(format!(
            "the CRL signature is not valid for '{}': {e}",
            issuer.subject()
        ))
    })
}

fn spki_alg(a: &x509_cert::spki::AlgorithmIdentifierOwned) -> spki::AlgorithmIdentifierOwned {
    spki::AlgorithmIdentifierOwned {
        oid: a.oid,
        parameters: a.parameters.clone(),
    }
}

fn const_oid_reason() -> der::asn1::ObjectIdentifier {
    der::asn1::ObjectIdentifier::new_unwrap("2.5.29.21")
}

fn const_oid_invalidity() -> der::asn1::ObjectIdentifier {
    der::asn1::ObjectIdentifier::new_unwrap("2.5.29.24")
}

fn reason_name(r: x509_cert::ext::pkix::CrlReason) -> &'static str {
    use x509_cert::ext::pkix::CrlReason::*;
    match r {
        Unspecified | RemoveFromCRL => "unspecified",
        KeyCompromise => "keyCompromise",
        CaCompromise => "cACompromise",
        AffiliationChanged => "affiliationChanged",
        Superseded => "superseded",
        CessationOfOperation => "cessationOfOperation",
        CertificateHold => "certificateHold",
        PrivilegeWithdrawn => "privilegeWithdrawn",
        AaCompromise => "aACompromise",
    }
}
