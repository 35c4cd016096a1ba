//! The trust lifecycle on the vendor page (issue 11): retire and un-retire
//! certificates, components, Sigstore identities and keys; bind a
//! component's allowed signers; record a CA key vendors share; revoke a
//! Sigstore signer. Each form calls the one service operation (through the
//! approval rule where the change is a dangerous one) and comes back to
//! the vendor page with what happened, or what now waits for approval.

use super::vendors::after_change as after_change_for;
use super::{PageResult, non_empty, submit_change, view_field};
use crate::error::ApiError;
use crate::service::approvals::Change;
use crate::service::retire::{self, RetiredRecord, RetirementRequest};
use crate::service::{self, components, sigstore};
use crate::state::AppState;
use crate::ui::session::PageUser;
use actix_web::{post, web};
use serde::Deserialize;

/// Every field the lifecycle forms use (each form sends some of them).
#[derive(Deserialize, Default)]
struct LifecycleForm {
    #[serde(default)]
    csrf: String,
    /// The vendor page to come back to.
    #[serde(default)]
    vendor: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    confirm_brick: Option<String>,
    #[serde(default)]
    version: String,
    /// Allowed signers, one per line: `subject: CN=…`, `key: <hex>`,
    /// `sigstore: <SAN>`.
    #[serde(default)]
    signers: String,
    /// A Sigstore signer: `identity:<id>` or `key:<id>`.
    #[serde(default)]
    signer: String,
    #[serde(default)]
    revoked_from: String,
    #[serde(default)]
    pem: String,
    /// Other vendors sharing a CA, comma-separated.
    #[serde(default)]
    vendors: String,
    /// What to un-retire: `certificate`, `component`, `sigstore-identity`,
    /// `sigstore-key`.
    #[serde(default)]
    kind: String,
    #[serde(default)]
    id: String,
}

impl LifecycleForm {
    fn retirement(&self) -> RetirementRequest {
        RetirementRequest {
            reason: self.reason.trim().to_string(),
            confirm_brick: self.confirm_brick.is_some(),
        }
    }
}

/// A signed-in person's form: CSRF checked first.
fn checked(user: &PageUser, form: &LifecycleForm) -> Result<(), super::PageError> {
    user.check_csrf(&form.csrf)?;
    Ok(())
}

/// One retirement from the vendor page: CSRF checked, the service called,
/// back to the vendor page with what happened (or the refusal).
async fn retire_on_page(
    state: &web::Data<AppState>,
    user: PageUser,
    form: LifecycleForm,
    vendor: String,
    retire: impl FnOnce(
        &mut crate::service::Conn,
        &service::Actor,
        RetirementRequest,
    ) -> service::ServiceResult<String>
    + Send
    + 'static,
) -> PageResult {
    checked(&user, &form)?;
    let (body, actor) = (form.retirement(), user.actor());
    let done = crate::api::with_conn(state, move |c| retire(c, &actor, body)).await;
    after_change_for(state, user, vendor, done).await
}

#[post("/certificates/{id}/retire")]
async fn certificate_retire(
    state: web::Data<AppState>,
    user: PageUser,
    id: web::Path<i64>,
    form: web::Form<LifecycleForm>,
) -> PageResult {
    let (id, form) = (id.into_inner(), form.into_inner());
    let vendor = form.vendor.clone();
    retire_on_page(&state, user, form, vendor, move |c, a, body| {
        retire::retire_certificate(c, a, id, body)
            .map(|r| format!("Certificate {} retired.", r.subject))
    })
    .await
}

#[post("/components/{name}/retire")]
async fn component_retire(
    state: web::Data<AppState>,
    user: PageUser,
    name: web::Path<String>,
    form: web::Form<LifecycleForm>,
) -> PageResult {
    let (name, form) = (name.into_inner(), form.into_inner());
    let vendor = form.vendor.clone();
    retire_on_page(&state, user, form, vendor, move |c, a, body| {
        retire::retire_component(c, a, &name, body)
            .map(|r| format!("Component {} retired.", r.name))
    })
    .await
}

#[post("/vendors/{id}/sigstore-identities/{identity}/retire")]
async fn identity_retire(
    state: web::Data<AppState>,
    user: PageUser,
    path: web::Path<(String, i64)>,
    form: web::Form<LifecycleForm>,
) -> PageResult {
    let (vendor, id) = path.into_inner();
    let v = vendor.clone();
    retire_on_page(
        &state,
        user,
        form.into_inner(),
        vendor,
        move |c, a, body| {
            retire::retire_sigstore_identity(c, a, &v, id, body)
                .map(|_| "Sigstore identity retired.".to_string())
        },
    )
    .await
}

#[post("/vendors/{id}/sigstore-keys/{key}/retire")]
async fn key_retire(
    state: web::Data<AppState>,
    user: PageUser,
    path: web::Path<(String, i64)>,
    form: web::Form<LifecycleForm>,
) -> PageResult {
    let (vendor, id) = path.into_inner();
    let v = vendor.clone();
    retire_on_page(
        &state,
        user,
        form.into_inner(),
        vendor,
        move |c, a, body| {
            retire::retire_sigstore_key(c, a, &v, id, body)
                .map(|_| "Sigstore key retired.".to_string())
        },
    )
    .await
}

/// Un-retire (a proposal by default).
#[post("/unretire")]
async fn unretire(
    state: web::Data<AppState>,
    user: PageUser,
    form: web::Form<LifecycleForm>,
) -> PageResult {
    checked(&user, &form)?;
    let form = form.into_inner();
    let id = || {
        form.id
            .trim()
            .parse::<i64>()
            .map_err(|_| ApiError::BadRequest(format!("id '{}' is not a number", form.id)))
    };
    let record = match form.kind.as_str() {
        "certificate" => id().map(|id| RetiredRecord::Certificate { id }),
        "component" => Ok(RetiredRecord::Component {
            name: form.id.clone(),
        }),
        "sigstore-identity" => id().map(|id| RetiredRecord::SigstoreIdentity {
            vendor: form.vendor.clone(),
            id,
        }),
        "sigstore-key" => id().map(|id| RetiredRecord::SigstoreKey {
            vendor: form.vendor.clone(),
            id,
        }),
        "tsa-anchor" => id().map(|id| RetiredRecord::TsaAnchor { id }),
        "sigstore-trusted-root" => Ok(RetiredRecord::SigstoreTrustedRoot {
            name: form.id.clone(),
        }),
        k => Err(ApiError::BadRequest(format!(
            "kind '{k}' cannot be un-retired here"
        ))),
    };
    let reason = form.reason.trim().to_string();
    let done = match record {
        Ok(record) => {
            let what = record.describe();
            submit_change(
                &state,
                &user,
                move |_, _| Ok(Change::Unretire { record, reason }),
                move |_| format!("{what} is back in the trust bundle."),
            )
            .await
        }
        Err(e) => Err(e),
    };
    if matches!(form.kind.as_str(), "tsa-anchor" | "sigstore-trusted-root") {
        return super::trust::after_change(&state, &user, done).await;
    }
    after_change_for(&state, user, form.vendor, done).await
}

/// Parses the signer lines of the form.
fn signer_lines(text: &str) -> Result<Vec<inspector::policy::AllowedSignerDocument>, ApiError> {
    let mut out = Vec::new();
    for (i, line) in text.lines().map(str::trim).enumerate() {
        if line.is_empty() {
            continue;
        }
        let (kind, value) = line.split_once(':').ok_or_else(|| {
            ApiError::BadRequest(format!(
                "line {}: write 'subject: CN=…', 'key: <SPKI SHA-256 hex>' or 'sigstore: <identity>'",
                i + 1
            ))
        })?;
        let value = Some(value.trim().to_string());
        let mut doc = inspector::policy::AllowedSignerDocument {
            subject: None,
            spki_sha256: None,
            sigstore_san: None,
        };
        match kind.trim() {
            "subject" => doc.subject = value,
            "key" => doc.spki_sha256 = value,
            "sigstore" => doc.sigstore_san = value,
            other => {
                return Err(ApiError::BadRequest(format!(
                    "line {}: '{other}' is not subject, key or sigstore",
                    i + 1
                )));
            }
        }
        out.push(doc);
    }
    Ok(out)
}

#[post("/components/{name}/signers")]
async fn signers_set(
    state: web::Data<AppState>,
    user: PageUser,
    name: web::Path<String>,
    form: web::Form<LifecycleForm>,
) -> PageResult {
    checked(&user, &form)?;
    let name = name.into_inner();
    let form = form.into_inner();
    let expected: i32 = form.version.parse().unwrap_or(-1);
    let done = match signer_lines(&form.signers) {
        Ok(allowed_signers) => {
            let actor = user.actor();
            let body = components::SignersRequest {
                allowed_signers,
                confirm_brick: form.confirm_brick.is_some(),
            };
            crate::api::with_conn(&state, move |c| {
                components::set_allowed_signers(c, &actor, name, expected, body)
            })
            .await
            .map(|c| {
                if components::allowed_signers(&c).is_empty() {
                    format!("{}: any key of the vendor may sign it.", c.name)
                } else {
                    format!("{}: allowed signers saved.", c.name)
                }
            })
        }
        Err(e) => Err(e),
    };
    after_change_for(&state, user, form.vendor, done).await
}

#[post("/vendors/{id}/shared-cas")]
async fn shared_ca(
    state: web::Data<AppState>,
    user: PageUser,
    id: web::Path<String>,
    form: web::Form<LifecycleForm>,
) -> PageResult {
    checked(&user, &form)?;
    let vendor = id.into_inner();
    let form = form.into_inner();
    let mut vendors = vec![vendor.clone()];
    vendors.extend(
        form.vendors
            .split(',')
            .map(str::trim)
            .filter(|v| !v.is_empty() && *v != vendor)
            .map(str::to_string),
    );
    let request = service::certificates::SharedCaRequest {
        pem: form.pem.trim().to_string(),
        vendors,
        reason: form.reason.trim().to_string(),
    };
    let done = submit_change(
        &state,
        &user,
        move |_, _| Ok(Change::RecordSharedCa { request }),
        |a| format!("Shared CA recorded: {}.", view_field(&a.view, "subject")),
    )
    .await;
    after_change_for(&state, user, vendor, done).await
}

#[post("/vendors/{id}/sigstore-revocations")]
async fn sigstore_revoke(
    state: web::Data<AppState>,
    user: PageUser,
    id: web::Path<String>,
    form: web::Form<LifecycleForm>,
) -> PageResult {
    checked(&user, &form)?;
    let vendor = id.into_inner();
    let form = form.into_inner();
    let revoked_from = non_empty(&form.revoked_from).map(|d| format!("{d}T00:00:00Z"));
    let (reason, confirm_brick, signer) = (
        form.reason.trim().to_string(),
        form.confirm_brick.is_some(),
        form.signer.clone(),
    );
    let v = vendor.clone();
    let done = submit_change(
        &state,
        &user,
        move |c, actor| {
            // The identity or key, looked up among the vendor's own.
            let (kind, id) = signer.split_once(':').unwrap_or_default();
            let id: i64 = id.parse().map_err(|_| {
                service::ServiceError::Invalid("choose the signer to revoke".into())
            })?;
            let (identity, key_spki_sha256) = match kind {
                "identity" => {
                    let i = sigstore::identity_of(c, actor, &v, id)?;
                    (Some(i), None)
                }
                "key" => (None, Some(sigstore::key_fingerprint_of(c, actor, &v, id)?)),
                _ => {
                    return Err(service::ServiceError::Invalid(
                        "choose the signer to revoke".into(),
                    ));
                }
            };
            Ok(Change::RevokeSigstore {
                vendor: v,
                request: sigstore::SigstoreRevocationRequest {
                    identity,
                    key_spki_sha256,
                    reason,
                    revoked_from,
                    confirm_brick,
                },
            })
        },
        |_| "Sigstore signer revoked.".to_string(),
    )
    .await;
    after_change_for(&state, user, vendor, done).await
}

/// Uploads a vendor-signed SBOM (its file and its detached signature).
#[post("/vendors/{id}/sboms")]
async fn sbom_upload(
    state: web::Data<AppState>,
    user: PageUser,
    id: web::Path<String>,
    payload: actix_multipart::Multipart,
) -> PageResult {
    let fields = super::checked_multipart(
        &user,
        payload,
        service::sboms::UPLOADERS,
        "upload vendor SBOMs",
    )
    .await?;
    let vendor = id.into_inner();
    let sbom = fields.get("sbom").cloned().unwrap_or_default();
    let signature = fields.get("signature").cloned().unwrap_or_default();
    let (actor, time, v) = (user.actor(), state.intake().time, vendor.clone());
    let done = crate::api::with_conn(&state, move |c| {
        service::sboms::upload_bytes(c, &actor, &v, sbom, signature, time)
    })
    .await
    .map(|s| {
        format!(
            "SBOM {} verified: it binds {} image version(s).",
            s.serial,
            s.bindings.len()
        )
    });
    after_change_for(&state, user, vendor, done).await
}

pub(super) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(sbom_upload)
        .service(certificate_retire)
        .service(component_retire)
        .service(identity_retire)
        .service(key_retire)
        .service(unretire)
        .service(signers_set)
        .service(shared_ca)
        .service(sigstore_revoke);
}
