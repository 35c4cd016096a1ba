//! Sigstore material: vendor identities and keys, and trusted roots.

use super::vendors::READERS;
use super::{time_str, with_conn};
use crate::audit;
use crate::auth::{Caller, Role};
use crate::error::ApiError;
use crate::state::AppState;
use actix_web::{HttpResponse, get, post, web};
use diesel::prelude::*;
use inspector::digest::{DigestAlgorithm, hex};
use schema::models::{
    NewSigstoreIdentity, NewSigstoreKey, SigstoreIdentity, SigstoreKey, SigstoreTrustedRoot,
};
use schema::schema::{sigstore_identities, sigstore_keys, sigstore_trusted_roots, vendors};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A keyless identity: OIDC issuer plus certificate SAN (exact, or a regular
/// expression anchored at both ends).
#[derive(Deserialize, Serialize, ToSchema, Clone, Debug)]
#[serde(deny_unknown_fields)]
pub struct IdentityRequest {
    /// OIDC issuer, exact (`https://token.actions.githubusercontent.com`).
    pub issuer: String,
    /// SAN, exact.
    #[serde(default)]
    pub san: Option<String>,
    /// SAN regular expression.
    #[serde(default)]
    pub san_regex: Option<String>,
}

/// A stored identity.
#[derive(Serialize, Deserialize, ToSchema, Clone, Debug)]
pub struct IdentityView {
    /// Row id.
    pub id: i64,
    /// Vendor.
    pub vendor_id: String,
    /// OIDC issuer.
    pub issuer: String,
    /// SAN, exact.
    pub san: Option<String>,
    /// SAN regular expression.
    pub san_regex: Option<String>,
}

/// A vendor public key for keyed bundles.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct KeyRequest {
    /// PEM `PUBLIC KEY`.
    pub pem: String,
}

/// A stored key.
#[derive(Serialize, Deserialize, ToSchema, Clone, Debug)]
pub struct KeyView {
    /// Row id.
    pub id: i64,
    /// Vendor.
    pub vendor_id: String,
    /// SHA-256 of the SubjectPublicKeyInfo.
    pub sha256: String,
    /// The key (PEM).
    pub pem: String,
}

/// Import a Sigstore trusted root.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TrustedRootRequest {
    /// A name (`public-good`, `acme-private`).
    pub name: String,
    /// The `trusted_root.json` document.
    #[schema(value_type = Object)]
    pub trusted_root: serde_json::Value,
}

/// A stored trusted root.
#[derive(Serialize, Deserialize, ToSchema, Clone, Debug)]
pub struct TrustedRootView {
    /// Name.
    pub name: String,
    /// SHA-256 of the stored JSON.
    pub sha256: String,
    /// When imported.
    pub created_at: String,
}

fn vendor_exists(c: &mut schema::DbConnection, id: &str) -> Result<(), ApiError> {
    let n: i64 = vendors::table
        .filter(vendors::id.eq(id))
        .count()
        .get_result(c)?;
    if n == 0 {
        Err(ApiError::NotFound(format!("no vendor '{id}'")))
    } else {
        Ok(())
    }
}

fn identity_view(i: &SigstoreIdentity) -> IdentityView {
    IdentityView {
        id: i.id,
        vendor_id: i.vendor_id.clone(),
        issuer: i.issuer.clone(),
        san: i.san.clone(),
        san_regex: i.san_regex.clone(),
    }
}

/// Adds a keyless identity to a vendor.
#[utoipa::path(tag = "sigstore", params(("id" = String, Path)), request_body = IdentityRequest, responses((status = 201, body = IdentityView), (status = 400, body = crate::error::ErrorBody)), security(("bearer" = [])))]
#[post("/vendors/{id}/sigstore-identities")]
pub async fn add_identity(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    body: web::Json<IdentityRequest>,
) -> Result<HttpResponse, ApiError> {
    caller.require(
        &[Role::Admin, Role::Procurement],
        "register Sigstore identities",
    )?;
    let body = body.into_inner();
    inspector::sigstore::SigstoreIdentity::new(
        &body.issuer,
        body.san.as_deref(),
        body.san_regex.as_deref(),
    )
    .map_err(ApiError::BadRequest)?;
    let id = id.into_inner();
    let actor = caller.actor();
    let row = with_conn(&state, move |c| {
        c.transaction(|c| {
            audit::begin_change(c, true)?;
            vendor_exists(c, &id)?;
            diesel::insert_into(sigstore_identities::table)
                .values(NewSigstoreIdentity {
                    vendor_id: id.clone(),
                    issuer: body.issuer.clone(),
                    san: body.san.clone(),
                    san_regex: body.san_regex.clone(),
                    created_at: crate::now_unix(),
                })
                .execute(c)?;
            let row: SigstoreIdentity = sigstore_identities::table
                .order(sigstore_identities::id.desc())
                .select(SigstoreIdentity::as_select())
                .first(c)?;
            audit::record(
                c,
                &actor,
                "create",
                "sigstore-identity",
                &id,
                None::<&()>,
                Some(&identity_view(&row)),
            )?;
            Ok(row)
        })
    })
    .await?;
    Ok(HttpResponse::Created().json(identity_view(&row)))
}

/// Lists a vendor's identities.
#[utoipa::path(tag = "sigstore", params(("id" = String, Path)), responses((status = 200, body = Vec<IdentityView>)), security(("bearer" = [])))]
#[get("/vendors/{id}/sigstore-identities")]
pub async fn list_identities(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    caller.require(READERS, "read Sigstore identities")?;
    let id = id.into_inner();
    let rows: Vec<SigstoreIdentity> = with_conn(&state, move |c| {
        vendor_exists(c, &id)?;
        Ok(sigstore_identities::table
            .filter(sigstore_identities::vendor_id.eq(&id))
            .order(sigstore_identities::id)
            .select(SigstoreIdentity::as_select())
            .load(c)?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(rows.iter().map(identity_view).collect::<Vec<_>>()))
}

/// Adds a vendor public key (for keyed bundles).
#[utoipa::path(tag = "sigstore", params(("id" = String, Path)), request_body = KeyRequest, responses((status = 201, body = KeyView), (status = 400, body = crate::error::ErrorBody)), security(("bearer" = [])))]
#[post("/vendors/{id}/sigstore-keys")]
pub async fn add_key(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    body: web::Json<KeyRequest>,
) -> Result<HttpResponse, ApiError> {
    caller.require(&[Role::Admin, Role::Procurement], "register Sigstore keys")?;
    let (_, fp) = inspector::sigstore::parse_public_key(&body.pem)
        .map_err(|e| ApiError::BadRequest(format!("key refused: {e}")))?;
    let id = id.into_inner();
    let pem = body.into_inner().pem;
    let actor = caller.actor();
    let row = with_conn(&state, move |c| {
        c.transaction(|c| {
            audit::begin_change(c, true)?;
            vendor_exists(c, &id)?;
            let dup: i64 = sigstore_keys::table
                .filter(sigstore_keys::vendor_id.eq(&id))
                .filter(sigstore_keys::sha256.eq(&fp))
                .count()
                .get_result(c)?;
            if dup > 0 {
                return Err(ApiError::Conflict(format!(
                    "key {fp} is already registered for vendor '{id}'"
                )));
            }
            diesel::insert_into(sigstore_keys::table)
                .values(NewSigstoreKey {
                    vendor_id: id.clone(),
                    pem: pem.clone(),
                    sha256: fp.clone(),
                    created_at: crate::now_unix(),
                })
                .execute(c)?;
            let row: SigstoreKey = sigstore_keys::table
                .filter(sigstore_keys::sha256.eq(&fp))
                .filter(sigstore_keys::vendor_id.eq(&id))
                .select(SigstoreKey::as_select())
                .first(c)?;
            audit::record(
                c,
                &actor,
                "create",
                "sigstore-key",
                &fp,
                None::<&()>,
                Some(&serde_json::json!({"vendor": id, "sha256": fp})),
            )?;
            Ok(row)
        })
    })
    .await?;
    Ok(HttpResponse::Created().json(KeyView {
        id: row.id,
        vendor_id: row.vendor_id,
        sha256: row.sha256,
        pem: row.pem,
    }))
}

/// Lists a vendor's keys.
#[utoipa::path(tag = "sigstore", params(("id" = String, Path)), responses((status = 200, body = Vec<KeyView>)), security(("bearer" = [])))]
#[get("/vendors/{id}/sigstore-keys")]
pub async fn list_keys(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    caller.require(READERS, "read Sigstore keys")?;
    let id = id.into_inner();
    let rows: Vec<SigstoreKey> = with_conn(&state, move |c| {
        vendor_exists(c, &id)?;
        Ok(sigstore_keys::table
            .filter(sigstore_keys::vendor_id.eq(&id))
            .order(sigstore_keys::id)
            .select(SigstoreKey::as_select())
            .load(c)?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(
        rows.into_iter()
            .map(|r| KeyView {
                id: r.id,
                vendor_id: r.vendor_id,
                sha256: r.sha256,
                pem: r.pem,
            })
            .collect::<Vec<_>>(),
    ))
}

/// Imports (or replaces, by name) a Sigstore trusted root.
#[utoipa::path(tag = "sigstore", request_body = TrustedRootRequest, responses((status = 201, body = TrustedRootView), (status = 400, body = crate::error::ErrorBody)), security(("bearer" = [])))]
#[post("/sigstore-trusted-roots")]
pub async fn add_root(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Json<TrustedRootRequest>,
) -> Result<HttpResponse, ApiError> {
    caller.require(
        &[Role::Admin, Role::Security],
        "import Sigstore trusted roots",
    )?;
    let body = body.into_inner();
    if body.name.trim().is_empty() || body.name.len() > 64 {
        return Err(ApiError::BadRequest("name must be 1-64 characters".into()));
    }
    let json = serde_json::to_string(&body.trusted_root).map_err(ApiError::internal)?;
    inspector::sigstore::SigstoreRoot::from_json(&body.name, &json)
        .map_err(|e| ApiError::BadRequest(format!("trusted root refused: {e}")))?;
    let sha = hex(&DigestAlgorithm::Sha256.hash(json.as_bytes()));
    let actor = caller.actor();
    let name = body.name.trim().to_string();
    let row = with_conn(&state, move |c| {
        c.transaction(|c| {
            audit::begin_change(c, true)?;
            let before: Option<SigstoreTrustedRoot> = sigstore_trusted_roots::table
                .find(&name)
                .select(SigstoreTrustedRoot::as_select())
                .first(c)
                .optional()?;
            diesel::delete(
                sigstore_trusted_roots::table.filter(sigstore_trusted_roots::name.eq(&name)),
            )
            .execute(c)?;
            let row = SigstoreTrustedRoot {
                name: name.clone(),
                trusted_root: json,
                sha256: sha.clone(),
                created_at: crate::now_unix(),
            };
            diesel::insert_into(sigstore_trusted_roots::table)
                .values(&row)
                .execute(c)?;
            audit::record(
                c,
                &actor,
                if before.is_some() {
                    "replace"
                } else {
                    "create"
                },
                "sigstore-trusted-root",
                &name,
                before
                    .as_ref()
                    .map(|b| serde_json::json!({"sha256": b.sha256}))
                    .as_ref(),
                Some(&serde_json::json!({"sha256": sha})),
            )?;
            Ok(row)
        })
    })
    .await?;
    Ok(HttpResponse::Created().json(TrustedRootView {
        name: row.name,
        sha256: row.sha256,
        created_at: time_str(row.created_at),
    }))
}

/// Lists the Sigstore trusted roots.
#[utoipa::path(tag = "sigstore", responses((status = 200, body = Vec<TrustedRootView>)), security(("bearer" = [])))]
#[get("/sigstore-trusted-roots")]
pub async fn list_roots(
    state: web::Data<AppState>,
    caller: Caller,
) -> Result<HttpResponse, ApiError> {
    caller.require(READERS, "read Sigstore trusted roots")?;
    let rows: Vec<SigstoreTrustedRoot> = with_conn(&state, |c| {
        Ok(sigstore_trusted_roots::table
            .order(sigstore_trusted_roots::name)
            .select(SigstoreTrustedRoot::as_select())
            .load(c)?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(
        rows.into_iter()
            .map(|r| TrustedRootView {
                name: r.name,
                sha256: r.sha256,
                created_at: time_str(r.created_at),
            })
            .collect::<Vec<_>>(),
    ))
}
