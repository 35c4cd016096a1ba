//! Vendors and their contract terms.

use super::{etag, if_match, parse_time, time_str, with_conn};
use crate::audit;
use crate::auth::{Caller, Role};
use crate::error::ApiError;
use crate::state::AppState;
use actix_web::{HttpRequest, HttpResponse, get, post, put, web};
use diesel::prelude::*;
use inspector::digest::DigestAlgorithm;
use schema::models::Vendor;
use schema::schema::vendors;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Roles that may read the registry's records.
pub const READERS: &[Role] = &[
    Role::Admin,
    Role::Procurement,
    Role::Security,
    Role::Auditor,
    Role::Inspector,
];

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

fn validate_terms(t: &SigningTerms) -> Result<String, ApiError> {
    if t.digests.is_empty() {
        return Err(ApiError::BadRequest(
            "policy.digests must list at least one digest".into(),
        ));
    }
    let mut names = Vec::new();
    for d in &t.digests {
        match DigestAlgorithm::from_name(d) {
            Some(DigestAlgorithm::Sha1) | None => {
                return Err(ApiError::BadRequest(format!(
                    "policy.digests: '{d}' is not accepted (use sha256, sha384, sha512)"
                )));
            }
            Some(a) => names.push(a.name()),
        }
    }
    if t.min_rsa_bits < 2048 {
        return Err(ApiError::BadRequest(format!(
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

/// Lists vendors.
#[utoipa::path(tag = "vendors", responses((status = 200, body = Vec<VendorView>)), security(("bearer" = [])))]
#[get("/vendors")]
pub async fn list(state: web::Data<AppState>, caller: Caller) -> Result<HttpResponse, ApiError> {
    caller.require(READERS, "read vendors")?;
    let rows: Vec<Vendor> = with_conn(&state, |c| {
        Ok(vendors::table
            .order(vendors::id)
            .select(Vendor::as_select())
            .load(c)?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(rows.iter().map(view).collect::<Vec<_>>()))
}

/// The request's signing terms (defaulted), their digest list as stored,
/// and the contract expiry.
fn terms_of(body: &VendorRequest) -> Result<(SigningTerms, String, Option<i64>), ApiError> {
    let terms = body.policy.clone().unwrap_or_default();
    let digests = validate_terms(&terms)?;
    let contract_expires = body
        .contract_expires
        .as_deref()
        .map(|s| parse_time("contract_expires", s))
        .transpose()?;
    Ok((terms, digests, contract_expires))
}

/// The vendor with this id, or 404.
pub fn find_vendor(c: &mut schema::DbConnection, id: &str) -> Result<Vendor, ApiError> {
    vendors::table
        .find(id)
        .select(Vendor::as_select())
        .first(c)
        .optional()?
        .ok_or_else(|| ApiError::NotFound(format!("no vendor '{id}'")))
}

/// Creates a vendor (validation, change, audit: one transaction).
pub fn create_vendor(
    c: &mut schema::DbConnection,
    actor: &str,
    body: VendorRequest,
) -> Result<Vendor, ApiError> {
    let id = body
        .id
        .clone()
        .ok_or_else(|| ApiError::BadRequest("id is required".into()))?;
    if !valid_id(&id) {
        return Err(ApiError::BadRequest(format!(
            "id '{id}' must be 1-64 lowercase letters, digits, '-' or '_'"
        )));
    }
    if body.name.trim().is_empty() {
        return Err(ApiError::BadRequest("name must not be empty".into()));
    }
    let (terms, digests, contract_expires) = terms_of(&body)?;
    let now = crate::now_unix();
    let row = Vendor {
        id,
        name: body.name.trim().to_string(),
        contract_ref: body.contract_ref,
        contract_expires,
        security_contact: body.security_contact,
        digests,
        min_rsa_bits: terms.min_rsa_bits,
        require_timestamp: terms.require_timestamp,
        row_version: 1,
        created_at: now,
        updated_at: now,
    };
    c.transaction(|c| {
        audit::begin_change(c, true)?;
        let exists: i64 = vendors::table
            .filter(vendors::id.eq(&row.id))
            .count()
            .get_result(c)?;
        if exists > 0 {
            return Err(ApiError::Conflict(format!(
                "vendor '{}' already exists",
                row.id
            )));
        }
        diesel::insert_into(vendors::table)
            .values(&row)
            .execute(c)?;
        audit::record(
            c,
            actor,
            "create",
            "vendor",
            &row.id,
            None::<&()>,
            Some(&view(&row)),
        )?;
        Ok(row)
    })
}

/// Creates a vendor.
#[utoipa::path(tag = "vendors", request_body = VendorRequest, responses((status = 201, body = VendorView), (status = 409, body = crate::error::ErrorBody)), security(("bearer" = [])))]
#[post("/vendors")]
pub async fn create(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Json<VendorRequest>,
) -> Result<HttpResponse, ApiError> {
    caller.require(&[Role::Admin, Role::Procurement], "create vendors")?;
    let body = body.into_inner();
    let actor = caller.actor();
    let created = with_conn(&state, move |c| create_vendor(c, &actor, body)).await?;
    Ok(HttpResponse::Created()
        .insert_header(("ETag", etag(created.row_version)))
        .json(view(&created)))
}

/// Reads one vendor (with its ETag).
#[utoipa::path(tag = "vendors", params(("id" = String, Path)), responses((status = 200, body = VendorView), (status = 404, body = crate::error::ErrorBody)), security(("bearer" = [])))]
#[get("/vendors/{id}")]
pub async fn get(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    caller.require(READERS, "read vendors")?;
    let id = id.into_inner();
    let v: Vendor = with_conn(&state, move |c| find_vendor(c, &id)).await?;
    Ok(HttpResponse::Ok()
        .insert_header(("ETag", etag(v.row_version)))
        .json(view(&v)))
}

/// Replaces a vendor's details if its row version is still `expected`.
pub fn update_vendor(
    c: &mut schema::DbConnection,
    actor: &str,
    id: String,
    expected: i32,
    body: VendorRequest,
) -> Result<Vendor, ApiError> {
    if body.id.as_ref().is_some_and(|b| *b != id) {
        return Err(ApiError::BadRequest(
            "the id in the body differs from the path; ids cannot change".into(),
        ));
    }
    let (terms, digests, contract_expires) = terms_of(&body)?;
    c.transaction(|c| {
        audit::begin_change(c, true)?;
        let before: Vendor = find_vendor(c, &id)?;
        if before.row_version != expected {
            return Err(ApiError::PreconditionFailed(format!(
                "vendor '{id}' changed since you read it (version {} now, {expected} in If-Match); reload and retry",
                before.row_version
            )));
        }
        let after = Vendor {
            name: body.name.trim().to_string(),
            contract_ref: body.contract_ref,
            contract_expires,
            security_contact: body.security_contact,
            digests,
            min_rsa_bits: terms.min_rsa_bits,
            require_timestamp: terms.require_timestamp,
            row_version: before.row_version + 1,
            updated_at: crate::now_unix(),
            ..before.clone()
        };
        let n = diesel::update(vendors::table.filter(vendors::id.eq(&id)).filter(vendors::row_version.eq(expected)))
            .set(&after)
            .execute(c)?;
        if n != 1 {
            return Err(ApiError::PreconditionFailed(format!("vendor '{id}' changed concurrently; reload and retry")));
        }
        audit::record(c, actor, "update", "vendor", &id, Some(&view(&before)), Some(&view(&after)))?;
        Ok(after)
    })
}

/// Replaces a vendor's details and terms. Needs `If-Match`.
#[utoipa::path(tag = "vendors", params(("id" = String, Path), ("If-Match" = String, Header)), request_body = VendorRequest, responses((status = 200, body = VendorView), (status = 412, body = crate::error::ErrorBody), (status = 428, body = crate::error::ErrorBody)), security(("bearer" = [])))]
#[put("/vendors/{id}")]
pub async fn update(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<String>,
    body: web::Json<VendorRequest>,
) -> Result<HttpResponse, ApiError> {
    caller.require(&[Role::Admin, Role::Procurement], "edit vendors")?;
    let expected = if_match(&req)?;
    let id = id.into_inner();
    let body = body.into_inner();
    let actor = caller.actor();
    let updated = with_conn(&state, move |c| {
        update_vendor(c, &actor, id, expected, body)
    })
    .await?;
    Ok(HttpResponse::Ok()
        .insert_header(("ETag", etag(updated.row_version)))
        .json(view(&updated)))
}
