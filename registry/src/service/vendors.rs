//! Vendors and their contract terms.

use super::audit;
use super::{Actor, Conn, PROCUREMENT, READERS, ServiceError, ServiceResult, parse_time, time_str};
use diesel::prelude::*;
use inspector::digest::DigestAlgorithm;
use schema::models::Vendor;
use schema::schema::vendors;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A vendor as the API shows it.
#[derive(Serialize, Deserialize, ToSchema, Clone, PartialEq, Debug)]
pub struct VendorView {
    /// Identifier (`acme`).
    pub id: String,
    /// Display name.
    pub name: String,
    /// Contract reference.
    pub contract_ref: String,
    /// Contract expiry (RFC 3339).
    pub contract_expires: Option<String>,
    /// Security contact / vulnerability-disclosure address.
    pub security_contact: String,
    /// Signing terms.
    pub policy: SigningTerms,
    /// End of the vendor's support period (RFC 3339): security updates are
    /// promised until then; a component may override it.
    pub support_ends: Option<String>,
    /// How the vendor protects its signing keys (HSM, FIPS 140-3 level, …).
    pub key_protection: String,
    /// A reference to evidence of that protection (URL or document id).
    pub key_protection_attestation: String,
    /// What the vendor does when a signing key is compromised.
    pub revocation_procedure: String,
    /// Hours within which the vendor must report a key compromise.
    pub revocation_deadline_hours: Option<i32>,
    /// Every image's version must be bound by a vendor-signed SBOM
    /// (`version-binding` check); unbound versions are refused.
    pub require_signed_sbom: bool,
    /// Row version (also the ETag).
    pub version: i32,
}

/// The contract's signing terms, as in the trust-policy file.
#[derive(Serialize, Deserialize, ToSchema, Clone, PartialEq, Debug)]
pub struct SigningTerms {
    /// Accepted digests: sha256, sha384, sha512.
    pub digests: Vec<String>,
    /// Smallest RSA modulus (≥ 2048).
    pub min_rsa_bits: i32,
    /// A trusted RFC 3161 timestamp is mandatory.
    pub require_timestamp: bool,
    /// Signer key algorithms the contract allows: `rsa`, `ecdsa-p256`,
    /// `ecdsa-p384`, `ed25519`. Empty: any Tollgate supports.
    #[serde(default)]
    pub key_algorithms: Vec<String>,
}

impl Default for SigningTerms {
    fn default() -> Self {
        SigningTerms {
            digests: vec!["sha256".into(), "sha384".into(), "sha512".into()],
            min_rsa_bits: 2048,
            require_timestamp: false,
            key_algorithms: Vec::new(),
        }
    }
}

/// Create or replace a vendor.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"id": "acme", "name": "Acme Chips", "contract_ref": "C-2026-01", "contract_expires": "2027-12-31T00:00:00Z", "security_contact": "psirt@acme.example", "policy": {"digests": ["sha256", "sha384"], "min_rsa_bits": 3072, "require_timestamp": true, "key_algorithms": ["ecdsa-p256", "rsa"]}, "support_ends": "2031-12-31T00:00:00Z", "key_protection": "FIPS 140-3 level 3 HSM, two-person access", "key_protection_attestation": "https://acme.example/hsm-attestation.pdf", "revocation_procedure": "PSIRT notifies Tollgate customers by signed e-mail", "revocation_deadline_hours": 24}))]
pub struct VendorRequest {
    /// Identifier (create only; lowercase letters, digits, `-`, `_`).
    #[serde(default)]
    pub id: Option<String>,
    /// Display name.
    pub name: String,
    /// Contract reference.
    #[serde(default)]
    pub contract_ref: String,
    /// Contract expiry (RFC 3339).
    #[serde(default)]
    pub contract_expires: Option<String>,
    /// Security contact.
    #[serde(default)]
    pub security_contact: String,
    /// Signing terms (defaults: all SHA-2 digests, RSA ≥ 2048, no timestamp required).
    #[serde(default)]
    pub policy: Option<SigningTerms>,
    /// End of the vendor's support period (RFC 3339).
    #[serde(default)]
    pub support_ends: Option<String>,
    /// How the vendor protects its signing keys (free text, ≤ 2000 characters).
    #[serde(default)]
    pub key_protection: String,
    /// A reference to evidence of that protection (≤ 512 characters).
    #[serde(default)]
    pub key_protection_attestation: String,
    /// What the vendor does when a signing key is compromised (≤ 2000 characters).
    #[serde(default)]
    pub revocation_procedure: String,
    /// Hours within which the vendor must report a key compromise (1–8760).
    #[serde(default)]
    pub revocation_deadline_hours: Option<i32>,
    /// Every image's version must be bound by a vendor-signed SBOM.
    #[serde(default)]
    pub require_signed_sbom: bool,
    /// Apply even if narrower signing terms would withdraw accepted images
    /// a product needs to boot (the brick check; updates only).
    #[serde(default)]
    pub confirm_brick: bool,
}

/// Converts a row.
pub fn view(v: &Vendor) -> VendorView {
    VendorView {
        id: v.id.clone(),
        name: v.name.clone(),
        contract_ref: v.contract_ref.clone(),
        contract_expires: v.contract_expires.map(time_str),
        security_contact: v.security_contact.clone(),
        policy: SigningTerms {
            digests: v.digests.split(',').map(str::to_string).collect(),
            min_rsa_bits: v.min_rsa_bits,
            require_timestamp: v.require_timestamp,
            key_algorithms: split_list(&v.key_algorithms),
        },
        support_ends: v.support_ends.map(time_str),
        key_protection: v.key_protection.clone(),
        key_protection_attestation: v.key_protection_attestation.clone(),
        revocation_procedure: v.revocation_procedure.clone(),
        revocation_deadline_hours: v.revocation_deadline_hours,
        require_signed_sbom: v.require_signed_sbom,
        version: v.row_version,
    }
}

/// A comma-separated column as a list (empty: none).
pub fn split_list(s: &str) -> Vec<String> {
    s.split(',')
        .filter(|x| !x.is_empty())
        .map(str::to_string)
        .collect()
}

/// The allowed key algorithms, checked and deduplicated, as stored.
fn validate_key_algorithms(list: &[String]) -> ServiceResult<String> {
    use inspector::cert::KeyAlgorithm;
    let mut out: Vec<&str> = Vec::new();
    for k in list {
        let k = k.trim();
        let Some(f) = KeyAlgorithm::FAMILIES.iter().find(|f| **f == k) else {
            return Err(ServiceError::Invalid(format!(
                "policy.key_algorithms: '{k}' is not one of {}",
                KeyAlgorithm::FAMILIES.join(", ")
            )));
        };
        if !out.contains(f) {
            out.push(f);
        }
    }
    Ok(out.join(","))
}

fn validate_terms(t: &SigningTerms) -> ServiceResult<String> {
    if t.digests.is_empty() {
        return Err(ServiceError::Invalid(
            "policy.digests must list at least one digest".into(),
        ));
    }
    let mut names = Vec::new();
    for d in &t.digests {
        match DigestAlgorithm::from_name(d) {
            Some(DigestAlgorithm::Sha1) | None => {
                return Err(ServiceError::Invalid(format!(
                    "policy.digests: '{d}' is not accepted (use sha256, sha384, sha512)"
                )));
            }
            Some(a) => names.push(a.name()),
        }
    }
    if t.min_rsa_bits < 2048 {
        return Err(ServiceError::Invalid(format!(
            "policy.min_rsa_bits: {} is below Tollgate's floor of 2048",
            t.min_rsa_bits
        )));
    }
    Ok(names.join(","))
}

/// Whether an edit touched a term the verification core enforces.
fn terms_changed(a: &Vendor, b: &Vendor) -> bool {
    a.digests != b.digests
        || a.min_rsa_bits != b.min_rsa_bits
        || a.require_timestamp != b.require_timestamp
        || a.key_algorithms != b.key_algorithms
        || a.contract_expires != b.contract_expires
        || a.require_signed_sbom != b.require_signed_sbom
}

fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

/// A vendor's details as a request gives them, validated: everything but
/// the id and the bookkeeping fields.
struct Details {
    name: String,
    contract_ref: String,
    contract_expires: Option<i64>,
    security_contact: String,
    digests: String,
    min_rsa_bits: i32,
    require_timestamp: bool,
    key_algorithms: String,
    support_ends: Option<i64>,
    key_protection: String,
    key_protection_attestation: String,
    revocation_procedure: String,
    revocation_deadline_hours: Option<i32>,
    require_signed_sbom: bool,
}

impl Details {
    /// Validates the request (bounded strings, signing terms defaulted and
    /// checked, the contract expiry parsed).
    fn of(body: VendorRequest) -> ServiceResult<Self> {
        if body.name.trim().is_empty() {
            return Err(ServiceError::Invalid("name must not be empty".into()));
        }
        super::bounded("name", &body.name, 256)?;
        super::bounded("contract_ref", &body.contract_ref, 256)?;
        super::bounded("security_contact", &body.security_contact, 256)?;
        let terms = body.policy.clone().unwrap_or_default();
        let digests = validate_terms(&terms)?;
        let key_algorithms = validate_key_algorithms(&terms.key_algorithms)?;
        let contract_expires = body
            .contract_expires
            .as_deref()
            .map(|s| parse_time("contract_expires", s))
            .transpose()?;
        let support_ends = body
            .support_ends
            .as_deref()
            .map(|s| parse_time("support_ends", s))
            .transpose()?;
        super::bounded("key_protection", &body.key_protection, 2000)?;
        super::bounded(
            "key_protection_attestation",
            &body.key_protection_attestation,
            512,
        )?;
        super::bounded("revocation_procedure", &body.revocation_procedure, 2000)?;
        if let Some(h) = body.revocation_deadline_hours
            && !(1..=8760).contains(&h)
        {
            return Err(ServiceError::Invalid(format!(
                "revocation_deadline_hours: {h} is outside 1-8760 (one hour to one year)"
            )));
        }
        Ok(Details {
            name: body.name.trim().to_string(),
            contract_ref: body.contract_ref,
            contract_expires,
            security_contact: body.security_contact,
            digests,
            min_rsa_bits: terms.min_rsa_bits,
            require_timestamp: terms.require_timestamp,
            key_algorithms,
            support_ends,
            key_protection: body.key_protection.trim().to_string(),
            key_protection_attestation: body.key_protection_attestation.trim().to_string(),
            revocation_procedure: body.revocation_procedure.trim().to_string(),
            revocation_deadline_hours: body.revocation_deadline_hours,
            require_signed_sbom: body.require_signed_sbom,
        })
    }

    /// `v` with these details, one version later.
    fn apply(self, v: Vendor, now: i64) -> Vendor {
        Vendor {
            name: self.name,
            contract_ref: self.contract_ref,
            contract_expires: self.contract_expires,
            security_contact: self.security_contact,
            digests: self.digests,
            min_rsa_bits: self.min_rsa_bits,
            require_timestamp: self.require_timestamp,
            key_algorithms: self.key_algorithms,
            support_ends: self.support_ends,
            key_protection: self.key_protection,
            key_protection_attestation: self.key_protection_attestation,
            revocation_procedure: self.revocation_procedure,
            revocation_deadline_hours: self.revocation_deadline_hours,
            require_signed_sbom: self.require_signed_sbom,
            row_version: v.row_version + 1,
            updated_at: now,
            ..v
        }
    }
}

/// Every vendor, by id.
pub fn list(c: &mut Conn, actor: &Actor) -> ServiceResult<Vec<Vendor>> {
    actor.require(READERS, "read vendors")?;
    Ok(vendors::table
        .order(vendors::id)
        .select(Vendor::as_select())
        .load(c)?)
}

/// One vendor.
pub fn get(c: &mut Conn, actor: &Actor, id: &str) -> ServiceResult<Vendor> {
    actor.require(READERS, "read vendors")?;
    find_vendor(c, id)
}

/// The vendor with this id, or NotFound.
pub fn find_vendor(c: &mut Conn, id: &str) -> ServiceResult<Vendor> {
    vendors::table
        .find(id)
        .select(Vendor::as_select())
        .first(c)
        .optional()?
        .ok_or_else(|| ServiceError::NotFound(format!("no vendor '{id}'")))
}

/// Creates a vendor (validation, change, audit: one transaction).
pub fn create_vendor(c: &mut Conn, actor: &Actor, body: VendorRequest) -> ServiceResult<Vendor> {
    actor.require(PROCUREMENT, "create vendors")?;
    let id = body
        .id
        .clone()
        .ok_or_else(|| ServiceError::Invalid("id is required".into()))?;
    if !valid_id(&id) {
        return Err(ServiceError::Invalid(format!(
            "id '{id}' must be 1-64 lowercase letters, digits, '-' or '_'"
        )));
    }
    let details = Details::of(body)?;
    let now = crate::now_unix();
    // A new row is version 1: the details applied to an empty version 0.
    let empty = Vendor {
        id,
        name: String::new(),
        contract_ref: String::new(),
        contract_expires: None,
        security_contact: String::new(),
        digests: String::new(),
        min_rsa_bits: 0,
        require_timestamp: false,
        row_version: 0,
        created_at: now,
        updated_at: now,
        support_ends: None,
        key_algorithms: String::new(),
        key_protection: String::new(),
        key_protection_attestation: String::new(),
        revocation_procedure: String::new(),
        revocation_deadline_hours: None,
        require_signed_sbom: false,
    };
    let row = details.apply(empty, now);
    super::transaction(c, |c| {
        audit::begin_change(c, true)?;
        let exists: i64 = vendors::table
            .filter(vendors::id.eq(&row.id))
            .count()
            .get_result(c)?;
        if exists > 0 {
            return Err(ServiceError::Conflict(format!(
                "vendor '{}' already exists",
                row.id
            )));
        }
        diesel::insert_into(vendors::table)
            .values(&row)
            .execute(c)?;
        audit::record(
            c,
            &actor.label(),
            "create",
            "vendor",
            &row.id,
            None::<&()>,
            Some(&view(&row)),
        )?;
        Ok(row)
    })
}

/// Replaces a vendor's details if its row version is still `expected`.
pub fn update_vendor(
    c: &mut Conn,
    actor: &Actor,
    id: String,
    expected: i32,
    body: VendorRequest,
) -> ServiceResult<Vendor> {
    actor.require(PROCUREMENT, "edit vendors")?;
    if body.id.as_ref().is_some_and(|b| *b != id) {
        return Err(ServiceError::Invalid(
            "the id in the body differs from the path; ids cannot change".into(),
        ));
    }
    let confirm_brick = body.confirm_brick;
    let details = Details::of(body)?;
    super::transaction(c, |c| {
        audit::begin_change(c, true)?;
        let guard = super::brick::BrickGuard::start(c)?;
        let before: Vendor = find_vendor(c, &id)?;
        if before.row_version != expected {
            return Err(ServiceError::Stale(format!(
                "vendor '{id}' changed since you read it (version {} now, {expected} in If-Match); reload and retry",
                before.row_version
            )));
        }
        let after = details.apply(before.clone(), crate::now_unix());
        let n = diesel::update(
            vendors::table
                .filter(vendors::id.eq(&id))
                .filter(vendors::row_version.eq(expected)),
        )
        .set(&after)
        .execute(c)?;
        if n != 1 {
            return Err(ServiceError::Stale(format!(
                "vendor '{id}' changed concurrently; reload and retry"
            )));
        }
        audit::record(
            c,
            &actor.label(),
            "update",
            "vendor",
            &id,
            Some(&view(&before)),
            Some(&view(&after)),
        )?;
        // Terms that decide verdicts changed: the vendor's accepted
        // receipts are judged again under them (a shortened contract or a
        // narrower algorithm list withdraws what it no longer covers).
        if terms_changed(&before, &after) {
            let counts = super::evidence::reevaluate_accepted(c, Some(&id), None)?;
            super::evidence::record_reevaluation(c, actor, &id, counts)?;
            guard.check(c, confirm_brick)?;
        }
        Ok(after)
    })
}
