//! Releases on the product page (issue 14): define one from its images,
//! check it (every problem named; a passing check is attested), download
//! its attestation and CycloneDX SBOM.

use super::{PageResult, db, redirect_done, seg};
use crate::error::ApiError;
use crate::service::releases::{self, ReleaseImage, ReleaseRequest};
use crate::service::sbom;
use crate::state::AppState;
use crate::ui::session::PageUser;
use actix_web::{HttpResponse, get, post, web};
use serde::Deserialize;

#[derive(Deserialize)]
struct ReleaseForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    version: String,
    /// One image per line: `stage component sha256 [sha512]`.
    #[serde(default)]
    images: String,
}

/// Parses the image lines of the form.
fn image_lines(text: &str) -> Result<Vec<ReleaseImage>, ApiError> {
    let mut out = Vec::new();
    for (i, line) in text.lines().map(str::trim).enumerate() {
        if line.is_empty() {
            continue;
        }
        let parts: Vec<&str> = line.split_whitespace().collect();
        let (stage, component, sha256, sha512) = match parts.as_slice() {
            [a, b, c] => (a, b, c, None),
            [a, b, c, d] => (a, b, c, Some(d.to_string())),
            _ => {
                return Err(ApiError::BadRequest(format!(
                    "images, line {}: write 'stage component sha256 [sha512]'",
                    i + 1
                )));
            }
        };
        out.push(ReleaseImage {
            stage: stage.to_string(),
            component: component.to_string(),
            sha256: sha256.to_string(),
            sha512,
        });
    }
    Ok(out)
}

#[post("/products/{id}/releases")]
async fn release_define(
    state: web::Data<AppState>,
    user: PageUser,
    id: web::Path<String>,
    form: web::Form<ReleaseForm>,
) -> PageResult {
    user.check_csrf(&form.csrf)?;
    let id = id.into_inner();
    let body = ReleaseRequest {
        version: form.version.trim().to_string(),
        images: image_lines(&form.images)?,
    };
    let actor = user.actor();
    let pid = id.clone();
    let r = db(&state, &user, move |c| {
        releases::create(c, &actor, &pid, body)
    })
    .await?;
    Ok(redirect_done(
        &format!("/products/{}", seg(&id)),
        &format!("Release {} defined; check it to attest it.", r.version),
    ))
}

#[derive(Deserialize)]
struct CsrfOnly {
    #[serde(default)]
    csrf: String,
}

#[post("/products/{id}/releases/{version}/check")]
async fn release_check(
    state: web::Data<AppState>,
    user: PageUser,
    path: web::Path<(String, String)>,
    form: web::Form<CsrfOnly>,
) -> PageResult {
    user.check_csrf(&form.csrf)?;
    let (id, version) = path.into_inner();
    let actor = user.actor();
    let (pid, v, st) = (id.clone(), version.clone(), state.clone());
    let outcome = db(&state, &user, move |c| {
        releases::check(c, &actor, &st.key, &pid, &v)
    })
    .await?;
    let message = if outcome.ok {
        format!(
            "Release {version} passed: {} components proven and attested.",
            outcome.components.len()
        )
    } else {
        format!(
            "Release {version} is blocked: {}",
            outcome.problems.join("; ")
        )
    };
    Ok(redirect_done(&format!("/products/{}", seg(&id)), &message))
}

#[get("/products/{id}/releases/{version}/sbom")]
async fn release_sbom(
    state: web::Data<AppState>,
    user: PageUser,
    path: web::Path<(String, String)>,
) -> PageResult {
    let (id, version) = path.into_inner();
    let actor = user.actor();
    let name = format!("{id}-{version}.cdx.json");
    let author = state.sbom_author.clone();
    let bytes = db(&state, &user, move |c| {
        sbom::release_sbom(c, &actor, &id, &version, author.as_deref())
    })
    .await?;
    Ok(HttpResponse::Ok()
        .content_type(sbom::MEDIA_TYPE)
        .insert_header((
            actix_web::http::header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{}\"", seg(&name)),
        ))
        .body(bytes))
}

#[get("/products/{id}/releases/{version}/attestation")]
async fn release_attestation(
    state: web::Data<AppState>,
    user: PageUser,
    path: web::Path<(String, String)>,
) -> PageResult {
    let (id, version) = path.into_inner();
    let actor = user.actor();
    let r = db(&state, &user, move |c| {
        releases::get(c, &actor, &id, &version)
    })
    .await?;
    match r.attestation {
        Some(a) => Ok(HttpResponse::Ok().json(a)),
        None => Err(ApiError::Service(crate::service::ServiceError::NotFound(
            "this release has no attestation: no check has passed".into(),
        ))
        .into()),
    }
}

#[get("/products/{id}/releases/{version}/evidence")]
async fn release_evidence(
    state: web::Data<AppState>,
    user: PageUser,
    path: web::Path<(String, String)>,
) -> PageResult {
    let (id, version) = path.into_inner();
    let actor = user.actor();
    let st = state.clone();
    let (bytes, name) = db(&state, &user, move |c| {
        crate::service::cra::evidence_pack(
            c,
            &actor,
            &st.key,
            &id,
            &version,
            st.sbom_author.as_deref(),
        )
    })
    .await?;
    Ok(HttpResponse::Ok()
        .content_type("application/zip")
        .insert_header((
            actix_web::http::header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{}\"", seg(&name)),
        ))
        .body(bytes))
}

pub(super) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(release_evidence)
        .service(release_define)
        .service(release_check)
        .service(release_sbom)
        .service(release_attestation);
}
