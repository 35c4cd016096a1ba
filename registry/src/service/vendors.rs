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
}

impl Default for SigningTerms {
    fn default() -> Self {
        SigningTerms {
            digests: vec!["sha256".into(), "sha384".into(), "sha512".into()],
            min_rsa_bits: 2048,
            require_timestamp: false,
        }
    }
}

/// Create or replace a vendor.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"id": "acme", "name": "Acme Chips", "contract_ref": "C-2026-01", "contract_expires": "2027-12-31T00:00:00Z", "security_contact": "psirt@acme.example", "policy": {"digests": ["sha256", "sha384"], "min_rsa_bits": 3072, "require_timestamp": true}}))]
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
        },
        version: v.row_version,
    }
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
        let contract_expires = body
            .contract_expires
            .as_deref()
            .map(|s| parse_time("contract_expires", s))
            .transpose()?;
        Ok(Details {
            name: body.name.trim().to_string(),
            contract_ref: body.contract_ref,
            contract_expires,
            security_contact: body.security_contact,
            digests,
            min_rsa_bits: terms.min_rsa_bits,
            require_timestamp: terms.require_timestamp,
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
    let details = Details::of(body)?;
    super::transaction(c, |c| {
        audit::begin_change(c, true)?;
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
        Ok(after)
    })
}
