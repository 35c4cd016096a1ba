//! The vendor form: create a vendor, edit its contract terms.

use super::{Layout, PageResult, db, html, redirect_done, refusal, seg};
use crate::error::ApiError;
use crate::service::vendors::{self, SigningTerms, VendorRequest};
use crate::service::{PROCUREMENT, time_str};
use crate::state::AppState;
use crate::ui::session::PageUser;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, post, web};
use askama::Template;
use serde::Deserialize;

fn day(t: i64) -> String {
    time_str(t).chars().take(10).collect()
}

#[derive(Default)]
struct VendorFormData {
    id: String,
    name: String,
    contract_ref: String,
    contract_expires: String,
    security_contact: String,
    sha256: bool,
    sha384: bool,
    sha512: bool,
    min_rsa_bits: i32,
    require_timestamp: bool,
    /// Allowed key families, each with whether it is ticked.
    key_algorithms: Vec<(&'static str, bool)>,
    support_ends: String,
    key_protection: String,
    key_protection_attestation: String,
    revocation_procedure: String,
    revocation_deadline_hours: String,
    require_signed_sbom: bool,
    version: i32,
}

/// The key-family checkboxes, ticked where `on` says so.
fn key_boxes(on: impl Fn(&str) -> bool) -> Vec<(&'static str, bool)> {
    inspector::cert::KeyAlgorithm::FAMILIES
        .iter()
        .map(|f| (*f, on(f)))
        .collect()
}

/// A date field as the API's RFC 3339 (midnight UTC), or none.
fn date_field(d: &str) -> Option<String> {
    match d.trim() {
        "" => None,
        d => Some(format!("{d}T00:00:00Z")),
    }
}

#[derive(Template)]
#[template(path = "vendor_form.html")]
struct VendorFormPage {
    layout: Layout,
    error: Option<String>,
    csrf: String,
    editing: bool,
    action: String,
    form: VendorFormData,
}

#[derive(Deserialize, Default)]
struct VendorForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    id: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    contract_ref: String,
    #[serde(default)]
    contract_expires: String,
    #[serde(default)]
    security_contact: String,
    #[serde(default)]
    sha256: Option<String>,
    #[serde(default)]
    sha384: Option<String>,
    #[serde(default)]
    sha512: Option<String>,
    #[serde(default)]
    min_rsa_bits: String,
    #[serde(default)]
    require_timestamp: Option<String>,
    /// The allowed-key-algorithm boxes (`key_<family>`), one per family.
    #[serde(default, rename = "key_rsa")]
    key_rsa: Option<String>,
    #[serde(default, rename = "key_ecdsa-p256")]
    key_ecdsa_p256: Option<String>,
    #[serde(default, rename = "key_ecdsa-p384")]
    key_ecdsa_p384: Option<String>,
    #[serde(default, rename = "key_ed25519")]
    key_ed25519: Option<String>,
    #[serde(default)]
    support_ends: String,
    #[serde(default)]
    key_protection: String,
    #[serde(default)]
    key_protection_attestation: String,
    #[serde(default)]
    revocation_procedure: String,
    #[serde(default)]
    revocation_deadline_hours: String,
    #[serde(default)]
    confirm_brick: Option<String>,
    #[serde(default)]
    require_signed_sbom: Option<String>,
    #[serde(default)]
    version: String,
}

impl VendorForm {
    /// The ticked key families.
    fn key_algorithms(&self) -> Vec<String> {
        [
            (&self.key_rsa, "rsa"),
            (&self.key_ecdsa_p256, "ecdsa-p256"),
            (&self.key_ecdsa_p384, "ecdsa-p384"),
            (&self.key_ed25519, "ed25519"),
        ]
        .into_iter()
        .filter(|(on, _)| on.is_some())
        .map(|(_, f)| f.to_string())
        .collect()
    }
    fn data(&self) -> VendorFormData {
        VendorFormData {
            id: self.id.clone(),
            name: self.name.clone(),
            contract_ref: self.contract_ref.clone(),
            contract_expires: self.contract_expires.clone(),
            security_contact: self.security_contact.clone(),
            sha256: self.sha256.is_some(),
            sha384: self.sha384.is_some(),
            sha512: self.sha512.is_some(),
            min_rsa_bits: self.min_rsa_bits.parse().unwrap_or(2048),
            require_timestamp: self.require_timestamp.is_some(),
            key_algorithms: {
                let on = self.key_algorithms();
                key_boxes(|f| on.iter().any(|k| k == f))
            },
            support_ends: self.support_ends.clone(),
            key_protection: self.key_protection.clone(),
            key_protection_attestation: self.key_protection_attestation.clone(),
            revocation_procedure: self.revocation_procedure.clone(),
            revocation_deadline_hours: self.revocation_deadline_hours.clone(),
            require_signed_sbom: self.require_signed_sbom.is_some(),
            version: self.version.parse().unwrap_or(0),
        }
    }
    fn request(&self) -> Result<VendorRequest, ApiError> {
        let mut digests = Vec::new();
        for (on, name) in [
            (&self.sha256, "sha256"),
            (&self.sha384, "sha384"),
            (&self.sha512, "sha512"),
        ] {
            if on.is_some() {
                digests.push(name.to_string());
            }
        }
        let min_rsa_bits = self.min_rsa_bits.trim().parse::<i32>().map_err(|_| {
            ApiError::BadRequest("the minimum RSA key size must be a number".into())
        })?;
        let revocation_deadline_hours = match self.revocation_deadline_hours.trim() {
            "" => None,
            h => Some(h.parse::<i32>().map_err(|_| {
                ApiError::BadRequest("the revocation deadline must be a number of hours".into())
            })?),
        };
        Ok(VendorRequest {
            id: Some(self.id.trim().to_string()),
            name: self.name.clone(),
            contract_ref: self.contract_ref.trim().to_string(),
            contract_expires: date_field(&self.contract_expires),
            security_contact: self.security_contact.trim().to_string(),
            policy: Some(SigningTerms {
                digests,
                min_rsa_bits,
                require_timestamp: self.require_timestamp.is_some(),
                key_algorithms: self.key_algorithms(),
            }),
            support_ends: date_field(&self.support_ends),
            key_protection: self.key_protection.clone(),
            key_protection_attestation: self.key_protection_attestation.clone(),
            revocation_procedure: self.revocation_procedure.clone(),
            revocation_deadline_hours,
            require_signed_sbom: self.require_signed_sbom.is_some(),
            confirm_brick: self.confirm_brick.is_some(),
        })
    }
}

fn vendor_form_page(
    user: &PageUser,
    editing: bool,
    form: VendorFormData,
    error: Option<String>,
    status: StatusCode,
) -> HttpResponse {
    let action = if editing {
        format!("/vendors/{}/edit", seg(&form.id))
    } else {
        "/vendors/new".into()
    };
    html(
        status,
        VendorFormPage {
            layout: Layout::new(user, "vendors", None),
            error,
            csrf: user.csrf.clone(),
            editing,
            action,
            form,
        }
        .render(),
    )
}

#[get("/vendors/new")]
async fn vendor_new_form(user: PageUser) -> PageResult {
    user.require(PROCUREMENT, "create vendors")?;
    let form = VendorFormData {
        sha256: true,
        sha384: true,
        sha512: true,
        min_rsa_bits: 2048,
        key_algorithms: key_boxes(|_| false),
        ..Default::default()
    };
    Ok(vendor_form_page(&user, false, form, None, StatusCode::OK))
}

#[post("/vendors/new")]
async fn vendor_create(
    state: web::Data<AppState>,
    user: PageUser,
    form: web::Form<VendorForm>,
) -> PageResult {
    user.check_csrf(&form.csrf)?;
    user.require(PROCUREMENT, "create vendors")?;
    let req = match form.request() {
        Ok(r) => r,
        Err(e) => {
            return Ok(vendor_form_page(
                &user,
                false,
                form.data(),
                Some(e.to_string()),
                StatusCode::BAD_REQUEST,
            ));
        }
    };
    let actor = user.actor();
    match crate::api::with_conn(&state, move |c| vendors::create_vendor(c, &actor, req)).await {
        Ok(v) => Ok(redirect_done(
            &format!("/vendors/{}", seg(&v.id)),
            "Vendor created.",
        )),
        Err(e) => {
            let (status, message) = refusal(e)?;
            Ok(vendor_form_page(
                &user,
                false,
                form.data(),
                Some(message),
                status,
            ))
        }
    }
}

#[get("/vendors/{id}/edit")]
async fn vendor_edit_form(
    state: web::Data<AppState>,
    user: PageUser,
    id: web::Path<String>,
) -> PageResult {
    user.require(PROCUREMENT, "edit vendors")?;
    let id = id.into_inner();
    let actor = user.actor();
    let v = db(&state, &user, move |c| vendors::get(c, &actor, &id)).await?;
    let form = VendorFormData {
        sha256: v.digests.split(',').any(|d| d == "sha256"),
        sha384: v.digests.split(',').any(|d| d == "sha384"),
        sha512: v.digests.split(',').any(|d| d == "sha512"),
        contract_expires: v.contract_expires.map(day).unwrap_or_default(),
        key_algorithms: key_boxes(|f| v.key_algorithms.split(',').any(|k| k == f)),
        support_ends: v.support_ends.map(day).unwrap_or_default(),
        revocation_deadline_hours: v
            .revocation_deadline_hours
            .map(|h| h.to_string())
            .unwrap_or_default(),
        key_protection: v.key_protection,
        key_protection_attestation: v.key_protection_attestation,
        revocation_procedure: v.revocation_procedure,
        require_signed_sbom: v.require_signed_sbom,
        id: v.id,
        name: v.name,
        contract_ref: v.contract_ref,
        security_contact: v.security_contact,
        min_rsa_bits: v.min_rsa_bits,
        require_timestamp: v.require_timestamp,
        version: v.row_version,
    };
    Ok(vendor_form_page(&user, true, form, None, StatusCode::OK))
}

#[post("/vendors/{id}/edit")]
async fn vendor_update(
    state: web::Data<AppState>,
    user: PageUser,
    id: web::Path<String>,
    form: web::Form<VendorForm>,
) -> PageResult {
    user.check_csrf(&form.csrf)?;
    user.require(PROCUREMENT, "edit vendors")?;
    let id = id.into_inner();
    let mut data = form.data();
    data.id = id.clone();
    let expected: i32 = form.version.parse().unwrap_or(-1);
    let mut req = match form.request() {
        Ok(r) => r,
        Err(e) => {
            return Ok(vendor_form_page(
                &user,
                true,
                data,
                Some(e.to_string()),
                StatusCode::BAD_REQUEST,
            ));
        }
    };
    req.id = None;
    let actor = user.actor();
    let vid = id.clone();
    match crate::api::with_conn(&state, move |c| {
        vendors::update_vendor(c, &actor, vid, expected, req)
    })
    .await
    {
        Ok(_) => Ok(redirect_done(
            &format!("/vendors/{}", seg(&id)),
            "Vendor saved.",
        )),
        Err(e) => {
            let (status, message) = refusal(e)?;
            Ok(vendor_form_page(&user, true, data, Some(message), status))
        }
    }
}

pub(super) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(vendor_new_form)
        .service(vendor_create)
        .service(vendor_edit_form)
        .service(vendor_update);
}
