//! Vendors: the list, one vendor (contract terms, certificates with their
//! status, components and floors, Sigstore material), the vendor form,
//! certificate upload, components and floors.

use super::{Done, Layout, PageResult, db, flash_of, html, non_empty, redirect_done, refusal, seg};
use crate::error::ApiError;
use crate::service::certificates::{self, CertificateSource};
use crate::service::components::{self, ComponentRequest, FloorRequest};
use crate::service::vendors::{self, SigningTerms, VendorRequest, VendorView};
use crate::service::{PROCUREMENT, SECURITY, dashboard, time_str};
use crate::state::AppState;
use crate::ui::session::{PageError, PageUser};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, post, web};
use askama::Template;
use futures_util::StreamExt;
use schema::models::{SigstoreIdentity, SigstoreKey};
use serde::Deserialize;

struct VendorRow {
    id: String,
    name: String,
    contract_ref: String,
    contract_expires: String,
    security_contact: String,
    certificates: i64,
    components: i64,
}

#[derive(Template)]
#[template(path = "vendors.html")]
struct VendorsPage {
    layout: Layout,
    q: String,
    can_edit: bool,
    vendors: Vec<VendorRow>,
}

#[derive(Deserialize)]
struct SearchQuery {
    q: Option<String>,
    done: Option<String>,
}

fn day(t: i64) -> String {
    time_str(t).chars().take(10).collect()
}

#[get("/vendors")]
async fn vendors_list(
    state: web::Data<AppState>,
    user: PageUser,
    q: web::Query<SearchQuery>,
) -> PageResult {
    let needle = q.q.clone().unwrap_or_default().trim().to_lowercase();
    let actor = user.actor();
    let all = db(&state, &user, move |c| {
        dashboard::vendor_overview(c, &actor)
    })
    .await?;
    let vendors = all
        .into_iter()
        .filter(|(v, _, _)| {
            needle.is_empty()
                || v.name.to_lowercase().contains(&needle)
                || v.id.contains(&needle)
                || v.contract_ref.to_lowercase().contains(&needle)
        })
        .map(|(v, certificates, components)| VendorRow {
            certificates,
            components,
            contract_expires: v.contract_expires.map(day).unwrap_or_default(),
            id: v.id,
            name: v.name,
            contract_ref: v.contract_ref,
            security_contact: v.security_contact,
        })
        .collect();
    let page = VendorsPage {
        can_edit: user.can(PROCUREMENT),
        layout: Layout::new(&user, "vendors", q.done.clone()),
        q: q.q.clone().unwrap_or_default(),
        vendors,
    };
    Ok(html(StatusCode::OK, page.render()))
}

struct CertRow {
    id: i64,
    role: String,
    subject: String,
    issuer: String,
    sha256: String,
    not_before: String,
    not_after: String,
    key_algorithm: String,
    status: String,
    status_class: String,
}

struct CompRow {
    name: String,
    min_version: Option<String>,
    version: i32,
}

#[derive(Template)]
#[template(path = "vendor.html")]
struct VendorPage {
    layout: Layout,
    error: Option<String>,
    csrf: String,
    v: VendorView,
    certs: Vec<CertRow>,
    components: Vec<CompRow>,
    identities: Vec<SigstoreIdentity>,
    keys: Vec<SigstoreKey>,
    can_procure: bool,
    can_floor: bool,
    can_revoke: bool,
}

/// A certificate's status on the vendor page: revoked (by the one
/// revocation rule), expired, expiring within 90 days, or valid.
fn cert_status(revoked: bool, not_after: i64, now: i64) -> (String, &'static str) {
    if revoked {
        ("revoked".to_string(), "revoked")
    } else if not_after < now {
        ("expired".to_string(), "expired")
    } else if not_after < now + 90 * 86_400 {
        (format!("expires {}", day(not_after)), "expiring")
    } else {
        ("valid".to_string(), "valid")
    }
}

pub(super) async fn vendor_page(
    state: &web::Data<AppState>,
    user: PageUser,
    id: String,
    flash: Option<String>,
    error: Option<String>,
    status: StatusCode,
) -> PageResult {
    let actor = user.actor();
    let d = db(state, &user, move |c| vendors::detail(c, &actor, &id)).await?;
    let now = crate::now_unix();
    let certs = d
        .certificates
        .into_iter()
        .map(|(c, revoked)| {
            let (status, class) = cert_status(revoked, c.not_after, now);
            CertRow {
                id: c.id,
                role: c.role,
                subject: c.subject,
                issuer: c.issuer,
                sha256: c.sha256,
                not_before: day(c.not_before),
                not_after: day(c.not_after),
                key_algorithm: c.key_algorithm,
                status,
                status_class: class.to_string(),
            }
        })
        .collect();
    let page = VendorPage {
        csrf: user.csrf.clone(),
        can_procure: user.can(PROCUREMENT),
        can_floor: user.can(SECURITY),
        can_revoke: user.can(SECURITY),
        layout: Layout::new(&user, "vendors", flash),
        error,
        v: vendors::view(&d.vendor),
        certs,
        components: d
            .components
            .into_iter()
            .map(|c| CompRow {
                name: c.name,
                min_version: c.min_version,
                version: c.row_version,
            })
            .collect(),
        identities: d.identities,
        keys: d.keys,
    };
    Ok(html(status, page.render()))
}

#[get("/vendors/{id}")]
async fn vendor_detail(
    state: web::Data<AppState>,
    user: PageUser,
    id: web::Path<String>,
    q: web::Query<Done>,
) -> PageResult {
    vendor_page(
        &state,
        user,
        id.into_inner(),
        flash_of(&q),
        None,
        StatusCode::OK,
    )
    .await
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
    version: i32,
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
    #[serde(default)]
    version: String,
}

impl VendorForm {
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
        let contract_expires = match self.contract_expires.trim() {
            "" => None,
            d => Some(format!("{d}T00:00:00Z")),
        };
        Ok(VendorRequest {
            id: Some(self.id.trim().to_string()),
            name: self.name.clone(),
            contract_ref: self.contract_ref.trim().to_string(),
            contract_expires,
            security_contact: self.security_contact.trim().to_string(),
            policy: Some(SigningTerms {
                digests,
                min_rsa_bits,
                require_timestamp: self.require_timestamp.is_some(),
            }),
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

/// Reads a multipart form (certificate or CRL upload) with size limits:
/// at most 16 fields of at most 1 MiB each.
pub(super) async fn read_multipart(
    mut payload: actix_multipart::Multipart,
) -> Result<std::collections::HashMap<String, Vec<u8>>, PageError> {
    const FIELD_LIMIT: usize = 1024 * 1024;
    let mut fields = std::collections::HashMap::new();
    while let Some(item) = payload.next().await {
        let mut field = item.map_err(|e| ApiError::BadRequest(format!("malformed form: {e}")))?;
        let name = field.name().unwrap_or_default().to_string();
        let mut data = Vec::new();
        while let Some(chunk) = field.next().await {
            let chunk = chunk.map_err(|e| ApiError::BadRequest(format!("malformed form: {e}")))?;
            if data.len() + chunk.len() > FIELD_LIMIT {
                return Err(ApiError::BadRequest(format!(
                    "the form field '{name}' is larger than 1 MiB; a certificate or CRL file of that size is not accepted here"
                ))
                .into());
            }
            data.extend_from_slice(&chunk);
        }
        if fields.len() > 16 {
            return Err(ApiError::BadRequest("too many form fields".into()).into());
        }
        fields.insert(name, data);
    }
    Ok(fields)
}

/// A text field of a multipart form (trimmed; empty when absent).
pub(super) fn text_field(fields: &std::collections::HashMap<String, Vec<u8>>, k: &str) -> String {
    fields
        .get(k)
        .map(|v| String::from_utf8_lossy(v).trim().to_string())
        .unwrap_or_default()
}

#[post("/vendors/{id}/certificates")]
async fn certificate_upload(
    state: web::Data<AppState>,
    user: PageUser,
    id: web::Path<String>,
    payload: actix_multipart::Multipart,
) -> PageResult {
    let fields = read_multipart(payload).await?;
    user.check_csrf(&text_field(&fields, "csrf"))?;
    user.require(PROCUREMENT, "register certificates")?;
    let id = id.into_inner();
    let pasted = text_field(&fields, "pem");
    // The file (PEM or DER) wins over the pasted text.
    let bytes = fields
        .get("file")
        .filter(|f| !f.is_empty())
        .cloned()
        .or_else(|| (!pasted.is_empty()).then(|| pasted.into_bytes()));
    let role = text_field(&fields, "role");
    let actor = user.actor();
    let vid = id.clone();
    let result = crate::api::with_conn(&state, move |c| {
        certificates::upload(c, &actor, vid, role, CertificateSource::Form(bytes))
    })
    .await;
    match result {
        Ok((c, warnings)) => {
            let note = if warnings.is_empty() {
                String::new()
            } else {
                format!(" Capability warning: {}.", warnings.join("; "))
            };
            Ok(redirect_done(
                &format!("/vendors/{}", seg(&id)),
                &format!(
                    "Certificate registered: {} (SHA-256 {}).{note}",
                    c.subject, c.sha256
                ),
            ))
        }
        Err(e) => {
            let (status, message) = refusal(e)?;
            vendor_page(&state, user, id, None, Some(message), status).await
        }
    }
}

#[derive(Deserialize)]
struct ComponentForm {
    #[serde(default)]
    csrf: String,
    name: String,
    #[serde(default)]
    min_version: String,
}

#[post("/vendors/{id}/components")]
async fn component_create(
    state: web::Data<AppState>,
    user: PageUser,
    id: web::Path<String>,
    form: web::Form<ComponentForm>,
) -> PageResult {
    user.check_csrf(&form.csrf)?;
    user.require(PROCUREMENT, "authorise components")?;
    let id = id.into_inner();
    let body = ComponentRequest {
        name: form.name.trim().to_string(),
        min_version: non_empty(&form.min_version),
    };
    let actor = user.actor();
    let vid = id.clone();
    match crate::api::with_conn(&state, move |c| {
        components::create_component(c, &actor, vid, body)
    })
    .await
    {
        Ok(c) => Ok(redirect_done(
            &format!("/vendors/{}", seg(&id)),
            &format!("Component {} authorised.", c.name),
        )),
        Err(e) => {
            let (status, message) = refusal(e)?;
            vendor_page(&state, user, id, None, Some(message), status).await
        }
    }
}

#[derive(Deserialize)]
struct FloorForm {
    #[serde(default)]
    confirm_brick: Option<String>,
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    min_version: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    version: String,
}

#[post("/components/{name}/floor")]
async fn floor_set(
    state: web::Data<AppState>,
    user: PageUser,
    name: web::Path<String>,
    form: web::Form<FloorForm>,
) -> PageResult {
    user.check_csrf(&form.csrf)?;
    user.require(SECURITY, "change rollback floors")?;
    let name = name.into_inner();
    let expected: i32 = form.version.parse().unwrap_or(-1);
    let body = FloorRequest {
        min_version: non_empty(&form.min_version),
        reason: non_empty(&form.reason),
        confirm_brick: form.confirm_brick.is_some(),
    };
    let n = name.clone();
    let vendor = db(&state, &user, move |c| {
        Ok(components::find(c, &n)?.vendor_id)
    })
    .await?;
    let actor = user.actor();
    match crate::api::with_conn(&state, move |c| {
        components::set_component_floor(c, &actor, name, expected, body)
    })
    .await
    {
        Ok(c) => Ok(redirect_done(
            &format!("/vendors/{}", seg(&vendor)),
            &format!(
                "Floor of {} set to {}.",
                c.name,
                c.min_version.unwrap_or_else(|| "none".into())
            ),
        )),
        Err(e) => {
            let (status, message) = refusal(e)?;
            vendor_page(&state, user, vendor, None, Some(message), status).await
        }
    }
}

pub(super) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(vendor_new_form)
        .service(vendor_create)
        .service(vendors_list)
        .service(vendor_edit_form)
        .service(vendor_update)
        .service(certificate_upload)
        .service(component_create)
        .service(vendor_detail)
        .service(floor_set);
}
