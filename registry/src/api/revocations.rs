//! Revocations (by certificate, or imported from a CRL) and TSA anchors.

use super::vendors::READERS;
use super::{parse_time, time_str, with_conn};
use crate::audit;
use crate::auth::{Caller, Role};
use crate::error::ApiError;
use crate::state::AppState;
use actix_web::{HttpResponse, get, post, web};
use base64::Engine;
use der::{Decode, Encode};
use diesel::prelude::*;
use inspector::cert::ParsedCert;
use inspector::digest::{DigestAlgorithm, hex};
use inspector::policy::REVOCATION_REASONS;
use schema::models::{Certificate, NewRevocation, NewTsaAnchor, Revocation, TsaAnchor};
use schema::schema::{certificates, revocations, tsa_anchors};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use x509_cert::crl::CertificateList;

/// Revoke one certificate.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
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
}

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
}

/// Add a TSA anchor.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TsaAnchorRequest {
    /// PEM…
    #[serde(default)]
    pub pem: Option<String>,
    /// …or base64 DER.
    #[serde(default)]
    pub der_base64: Option<String>,
}

fn view(r: &Revocation) -> RevocationView {
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

fn check_reason(reason: &str) -> Result<(), ApiError> {
    if REVOCATION_REASONS.contains(&reason) {
        Ok(())
    } else {
        Err(ApiError::BadRequest(format!(
            "reason '{reason}' is not one of {}",
            REVOCATION_REASONS.join(", ")
        )))
    }
}

/// Lists revocations.
#[utoipa::path(tag = "revocations", responses((status = 200, body = Vec<RevocationView>)), security(("bearer" = [])))]
#[get("/revocations")]
pub async fn list(state: web::Data<AppState>, caller: Caller) -> Result<HttpResponse, ApiError> {
    caller.require(READERS, "read revocations")?;
    let rows: Vec<Revocation> = with_conn(&state, |c| {
        Ok(revocations::table
            .order(revocations::id)
            .select(Revocation::as_select())
            .load(c)?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(rows.iter().map(view).collect::<Vec<_>>()))
}

/// Records a revocation (validation, change, audit: one transaction).
pub fn revoke_certificate(
    c: &mut schema::DbConnection,
    actor: &str,
    body: RevocationRequest,
) -> Result<Revocation, ApiError> {
    check_reason(&body.reason)?;
    let cert = super::certificates::decode_one(body.pem.as_deref(), body.der_base64.as_deref())?;
    let invalidity = body
        .invalidity_date
        .as_deref()
        .map(|s| parse_time("invalidity_date", s))
        .transpose()?;
    c.transaction(|c| {
        audit::begin_change(c, true)?;
        let brick_before = crate::products::brick_problems(c)?;
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
            actor,
            "revoke",
            "certificate",
            &cert.fingerprint(),
            None::<&()>,
            Some(&view(&row)),
        )?;
        crate::products::check_new_problems(c, &brick_before, body.confirm_brick)?;
        Ok(row)
    })
}

/// Revokes a certificate.
#[utoipa::path(tag = "revocations", request_body = RevocationRequest, responses((status = 201, body = RevocationView), (status = 400, body = crate::error::ErrorBody)), security(("bearer" = [])))]
#[post("/revocations")]
pub async fn create(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Json<RevocationRequest>,
) -> Result<HttpResponse, ApiError> {
    caller.require(&[Role::Admin, Role::Security], "revoke certificates")?;
    let body = body.into_inner();
    let actor = caller.actor();
    let row = with_conn(&state, move |c| revoke_certificate(c, &actor, body)).await?;
    Ok(HttpResponse::Created().json(view(&row)))
}

/// Parses a CRL and verifies its signature by `issuer`.
fn verify_crl(crl: &CertificateList, issuer: &ParsedCert) -> Result<(), ApiError> {
    use inspector::oids;
    let alg = &crl.signature_algorithm;
    let digest = match alg.oid {
        oids::ECDSA_WITH_SHA256 | oids::SHA256_WITH_RSA => DigestAlgorithm::Sha256,
        oids::ECDSA_WITH_SHA384 | oids::SHA384_WITH_RSA => DigestAlgorithm::Sha384,
        oids::ECDSA_WITH_SHA512 | oids::SHA512_WITH_RSA => DigestAlgorithm::Sha512,
        other => {
            return Err(ApiError::BadRequest(format!(
                "CRL signature algorithm {other} is not accepted"
            )));
        }
    };
    let tbs = crl
        .tbs_cert_list
        .to_der()
        .map_err(|e| ApiError::BadRequest(format!("CRL: {e}")))?;
    let key = issuer.key_algorithm();
    let spki_alg = spki_alg(alg);
    let scheme = inspector::signature::resolve_scheme(&spki_alg, digest, &key)
        .map_err(ApiError::BadRequest)?;
    let hashed = digest.hash(&tbs);
    let sig = crl
        .signature
        .as_bytes()
        .ok_or_else(|| ApiError::BadRequest("CRL signature is not whole bytes".into()))?;
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
        ApiError::BadRequest(format!(
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

/// Imports a CRL: its issuer must be a registered CA certificate, its
/// signature must verify, and each entry becomes a revocation by issuer and
/// serial. Reason and invalidity date come from the entry extensions; a
/// keyCompromise/cACompromise entry without invalidity date is revoked for all
/// time, any other reason from its revocation date.
#[utoipa::path(tag = "revocations", request_body = CrlImport, responses((status = 201, body = CrlImportResult), (status = 400, body = crate::error::ErrorBody)), security(("bearer" = [])))]
#[post("/revocations/crl")]
pub async fn import_crl(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Json<CrlImport>,
) -> Result<HttpResponse, ApiError> {
    caller.require(&[Role::Admin, Role::Security], "import CRLs")?;
    let body = body.into_inner();
    let confirm_brick = body.confirm_brick;
    let der = match (body.pem.as_deref(), body.der_base64.as_deref()) {
        (Some(p), None) => {
            let block = pem::parse(p).map_err(|e| ApiError::BadRequest(format!("CRL PEM: {e}")))?;
            if block.tag() != "X509 CRL" {
                return Err(ApiError::BadRequest(format!(
                    "PEM label '{}' is not 'X509 CRL'",
                    block.tag()
                )));
            }
            block.into_contents()
        }
        (None, Some(b)) => base64::engine::general_purpose::STANDARD
            .decode(b.trim())
            .map_err(|e| ApiError::BadRequest(format!("der_base64: {e}")))?,
        _ => {
            return Err(ApiError::BadRequest(
                "give exactly one of 'pem' or 'der_base64'".into(),
            ));
        }
    };
    let crl = CertificateList::from_der(&der)
        .map_err(|e| ApiError::BadRequest(format!("not a CRL: {e}")))?;
    let issuer_name = crl
        .tbs_cert_list
        .issuer
        .to_der()
        .map_err(|e| ApiError::BadRequest(format!("CRL issuer: {e}")))?;
    let actor = caller.actor();
    let result = with_conn(&state, move |c| {
        c.transaction(|c| {
            audit::begin_change(c, true)?;
            let brick_before = crate::products::brick_problems(c)?;
            let registered: Vec<Certificate> = certificates::table.select(Certificate::as_select()).load(c)?;
            let issuer = registered
                .iter()
                .filter_map(|r| ParsedCert::from_der(r.der.clone()).ok())
                .find(|p| p.subject_der() == issuer_name && verify_crl(&crl, p).is_ok())
                .ok_or_else(|| {
                    ApiError::BadRequest(format!(
                        "the CRL issuer '{}' is not a registered certificate whose key verifies the CRL",
                        crl.tbs_cert_list.issuer
                    ))
                })?;
            let existing: Vec<Revocation> = revocations::table.select(Revocation::as_select()).load(c)?;
            let (mut imported, mut already) = (0usize, 0usize);
            for entry in crl.tbs_cert_list.revoked_certificates.iter().flatten() {
                let serial = hex(entry.serial_number.as_bytes());
                if existing.iter().any(|r| r.serial.as_deref() == Some(&serial) && r.issuer_der.as_deref() == Some(issuer.der.as_slice())) {
                    already += 1;
                    continue;
                }
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
                if invalidity.is_none() && reason != "keyCompromise" && reason != "cACompromise" && reason != "unspecified" {
                    invalidity = i64::try_from(entry.revocation_date.to_unix_duration().as_secs()).ok();
                }
                diesel::insert_into(revocations::table)
                    .values(NewRevocation {
                        certificate_der: None,
                        issuer_der: Some(issuer.der.clone()),
                        serial: Some(serial.clone()),
                        subject: format!("serial {serial} issued by {}", issuer.subject()),
                        reason,
                        invalidity_date: invalidity,
                        source: "crl".into(),
                        created_at: crate::now_unix(),
                    })
                    .execute(c)?;
                imported += 1;
            }
            crate::products::check_new_problems(c, &brick_before, confirm_brick)?;
            let result = CrlImportResult { issuer: issuer.subject(), imported, already_present: already };
            audit::record(c, &actor, "import-crl", "revocations", &issuer.fingerprint(), None::<&()>, Some(&result))?;
            Ok(result)
        })
    })
    .await?;
    Ok(HttpResponse::Created().json(result))
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

/// Lists TSA anchors.
#[utoipa::path(tag = "tsa", responses((status = 200, body = Vec<TsaAnchorView>)), security(("bearer" = [])))]
#[get("/tsa-anchors")]
pub async fn list_tsa(
    state: web::Data<AppState>,
    caller: Caller,
) -> Result<HttpResponse, ApiError> {
    caller.require(READERS, "read TSA anchors")?;
    let rows: Vec<TsaAnchor> = with_conn(&state, |c| {
        Ok(tsa_anchors::table
            .order(tsa_anchors::id)
            .select(TsaAnchor::as_select())
            .load(c)?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(
        rows.iter()
            .map(|t| TsaAnchorView {
                id: t.id,
                subject: t.subject.clone(),
                sha256: t.sha256.clone(),
                not_after: time_str(t.not_after),
            })
            .collect::<Vec<_>>(),
    ))
}

/// Trusts a time-stamping authority root.
#[utoipa::path(tag = "tsa", request_body = TsaAnchorRequest, responses((status = 201, body = TsaAnchorView), (status = 400, body = crate::error::ErrorBody)), security(("bearer" = [])))]
#[post("/tsa-anchors")]
pub async fn add_tsa(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Json<TsaAnchorRequest>,
) -> Result<HttpResponse, ApiError> {
    caller.require(&[Role::Admin, Role::Security], "trust TSAs")?;
    let cert = super::certificates::decode_one(body.pem.as_deref(), body.der_base64.as_deref())?;
    super::certificates::check_ca(&cert, "a TSA anchor", 2048)?;
    let actor = caller.actor();
    let row = with_conn(&state, move |c| {
        c.transaction(|c| {
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
            let v = TsaAnchorView {
                id: t.id,
                subject: t.subject.clone(),
                sha256: t.sha256.clone(),
                not_after: time_str(t.not_after),
            };
            audit::record(
                c,
                &actor,
                "create",
                "tsa-anchor",
                &fp,
                None::<&()>,
                Some(&v),
            )?;
            Ok(v)
        })
    })
    .await?;
    Ok(HttpResponse::Created().json(row))
}
