//! Products and their boot stages, and the allowlist exports built from
//! the registry's rows (the encoders themselves are pure: `crate::allowlist`).

use super::audit;
use super::revocation_status::RevocationSet;
use super::{Actor, Conn, READERS, SECURITY, ServiceError, ServiceResult};
use crate::allowlist::{self, Allowlist, Stage};
use diesel::prelude::*;
use inspector::cert::ParsedCert;
use inspector::digest::{DigestAlgorithm, hex};
use schema::models::{
    Certificate, Component, NewProductExport, Product, ProductExport, Revocation,
};
use schema::schema::{certificates, components, product_exports, products, receipts, revocations};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use utoipa::ToSchema;

/// Create or replace a product.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"id": "gw-100", "name": "Gateway 100", "stages": [{"name": "rom", "algorithms": ["ecdsa-p256"], "components": ["acme-wifi-fw"]}]}))]
pub struct ProductRequest {
    /// Identifier (create only).
    #[serde(default)]
    pub id: Option<String>,
    /// Device model name.
    pub name: String,
    /// Boot chain, in boot order.
    pub stages: Vec<Stage>,
    /// The hardware it is built on (OIDs, as RFC 4108 targetHardwareIDs
    /// name it; at most 32). Omitted on an update: kept.
    #[serde(default)]
    pub hardware_ids: Option<Vec<String>>,
}

/// A product.
#[derive(Serialize, Deserialize, ToSchema, Debug)]
pub struct ProductView {
    /// Identifier.
    pub id: String,
    /// Name.
    pub name: String,
    /// Boot stages.
    pub stages: Vec<Stage>,
    /// The hardware it is built on (OIDs).
    pub hardware_ids: Vec<String>,
    /// Row version (ETag).
    pub version: i32,
}

/// Converts a row.
pub fn view(p: &Product) -> ServiceResult<ProductView> {
    Ok(ProductView {
        id: p.id.clone(),
        name: p.name.clone(),
        stages: stages_of(p)?,
        hardware_ids: hardware_of(p),
        version: p.row_version,
    })
}

/// The boot stages stored with a product.
pub fn stages_of(p: &Product) -> ServiceResult<Vec<Stage>> {
    serde_json::from_str(&p.stages).map_err(ServiceError::internal)
}

/// The hardware ids stored with a product.
pub fn hardware_of(p: &Product) -> Vec<String> {
    p.hardware_ids
        .split(',')
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// Checks and normalises hardware ids (OIDs), as stored.
fn valid_hardware(ids: &[String]) -> ServiceResult<String> {
    if ids.len() > 32 {
        return Err(ServiceError::Invalid("hardware_ids: at most 32".into()));
    }
    let mut out = Vec::new();
    for (i, h) in ids.iter().enumerate() {
        out.push(
            inspector::firmware_package::parse_oid(h)
                .map_err(|e| ServiceError::Invalid(format!("hardware_ids[{i}]: {e}")))?,
        );
    }
    Ok(out.join(","))
}

fn valid_id(id: &str) -> ServiceResult<()> {
    if id.is_empty()
        || id.len() > 64
        || !id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
    {
        return Err(ServiceError::Invalid(format!(
            "id '{id}' must be 1-64 lowercase letters, digits, '-' or '_'"
        )));
    }
    Ok(())
}

/// The product with this id, or NotFound.
pub fn find(c: &mut Conn, id: &str) -> ServiceResult<Product> {
    products::table
        .find(id)
        .select(Product::as_select())
        .first(c)
        .optional()?
        .ok_or_else(|| ServiceError::NotFound(format!("no product '{id}'")))
}

/// Every product, by id.
pub fn list(c: &mut Conn, actor: &Actor) -> ServiceResult<Vec<Product>> {
    actor.require(READERS, "read products")?;
    Ok(products::table
        .order(products::id)
        .select(Product::as_select())
        .load(c)?)
}

/// One product.
pub fn get(c: &mut Conn, actor: &Actor, id: &str) -> ServiceResult<Product> {
    actor.require(READERS, "read products")?;
    find(c, id)
}

/// Creates a product with its boot chain.
pub fn create(c: &mut Conn, actor: &Actor, body: ProductRequest) -> ServiceResult<Product> {
    actor.require(SECURITY, "define products")?;
    let id = body.id.clone().unwrap_or_default();
    valid_id(&id)?;
    super::bounded("name", &body.name, 256)?;
    allowlist::validate_stages(&body.stages)?;
    let stages = serde_json::to_string(&body.stages).map_err(ServiceError::internal)?;
    let hardware_ids = valid_hardware(body.hardware_ids.as_deref().unwrap_or_default())?;
    super::transaction(c, |c| {
        audit::begin_change(c, true)?;
        let row = Product {
            id: id.clone(),
            name: body.name.trim().to_string(),
            stages,
            row_version: 1,
            created_at: crate::now_unix(),
            updated_at: crate::now_unix(),
            hardware_ids,
        };
        diesel::insert_into(products::table)
            .values(&row)
            .execute(c)?;
        audit::record(
            c,
            &actor.label(),
            "create",
            "product",
            &id,
            None::<&()>,
            Some(&view(&row)?),
        )?;
        Ok(row)
    })
}

/// Replaces a product's name and boot chain if its row version is still
/// `expected`.
pub fn update(
    c: &mut Conn,
    actor: &Actor,
    id: &str,
    expected: i32,
    body: ProductRequest,
) -> ServiceResult<Product> {
    actor.require(SECURITY, "define products")?;
    if body.id.as_deref().is_some_and(|b| b != id) {
        return Err(ServiceError::Invalid(
            "the id in the body differs from the path; ids cannot change".into(),
        ));
    }
    super::bounded("name", &body.name, 256)?;
    allowlist::validate_stages(&body.stages)?;
    let stages = serde_json::to_string(&body.stages).map_err(ServiceError::internal)?;
    let hardware = body
        .hardware_ids
        .as_deref()
        .map(valid_hardware)
        .transpose()?;
    super::transaction(c, |c| {
        audit::begin_change(c, true)?;
        let before = find(c, id)?;
        if before.row_version != expected {
            return Err(ServiceError::Stale(format!(
                "product '{id}' changed since you read it"
            )));
        }
        let after = Product {
            name: body.name.trim().to_string(),
            stages,
            hardware_ids: hardware
                .clone()
                .unwrap_or_else(|| before.hardware_ids.clone()),
            row_version: before.row_version + 1,
            updated_at: crate::now_unix(),
            ..before.clone()
        };
        diesel::update(
            products::table
                .filter(products::id.eq(id))
                .filter(products::row_version.eq(expected)),
        )
        .set((
            products::name.eq(&after.name),
            products::stages.eq(&after.stages),
            products::hardware_ids.eq(&after.hardware_ids),
            products::row_version.eq(after.row_version),
            products::updated_at.eq(after.updated_at),
        ))
        .execute(c)?;
        audit::record(
            c,
            &actor.label(),
            "update",
            "product",
            id,
            Some(&view(&before)?),
            Some(&view(&after)?),
        )?;
        Ok(after)
    })
}

/// Builds the allowlist of one product from the registry (deterministic:
/// everything sorted, no clock).
pub fn build(conn: &mut Conn, product_id: &str) -> ServiceResult<Allowlist> {
    build_with(conn, product_id, true)
}

/// [`build`], optionally without the list of revoked keys (the brick check
/// only needs what each stage trusts and the accepted images).
pub fn build_with(
    conn: &mut Conn,
    product_id: &str,
    revoked_list: bool,
) -> ServiceResult<Allowlist> {
    let p = find(conn, product_id)?;
    let stages = stages_of(&p)?;
    let comps: Vec<Component> = components::table
        .filter(components::retired_at.is_null())
        .select(Component::as_select())
        .load(conn)?;
    let certs: Vec<Certificate> = certificates::table
        .filter(certificates::retired_at.is_null())
        .order(certificates::id)
        .select(Certificate::as_select())
        .load(conn)?;
    let revs: Vec<Revocation> = if revoked_list {
        revocations::table
            .order(revocations::id)
            .select(Revocation::as_select())
            .load(conn)?
    } else {
        // The brick check asks only whether registered certificates are
        // revoked: the rows that can designate one are those naming a
        // certificate, and issuer-and-serial rows with a registered
        // certificate's serial (a 100,000-entry CRL is not loaded).
        let serials: Vec<String> = certs
            .iter()
            .filter_map(|c| ParsedCert::from_der(c.der.clone()).ok())
            .flat_map(|p| {
                let h = p.serial_hex();
                let trimmed = h.trim_start_matches("00").to_string();
                [format!("00{trimmed}"), trimmed, h]
            })
            .collect();
        revocations::table
            .filter(
                revocations::certificate_der
                    .is_not_null()
                    .or(revocations::serial.eq_any(&serials)),
            )
            .order(revocations::id)
            .select(Revocation::as_select())
            .load(conn)?
    };
    let stage_components: BTreeSet<String> = stages
        .iter()
        .flat_map(|s| s.components.iter().cloned())
        .collect();
    let stage_components: Vec<String> = stage_components.into_iter().collect();
    // Images the registry itself verified (never a station's word), and
    // those whose evidence stopped verifying after a revocation (dbx).
    let accepted: Vec<allowlist::AcceptedImage> = receipts::table
        .filter(receipts::registry_verdict.eq(super::evidence::ACCEPT))
        .filter(receipts::component.eq_any(&stage_components))
        .select((
            receipts::component,
            receipts::version,
            receipts::blob_sha256,
        ))
        .distinct()
        .load(conn)?;
    let withdrawn: Vec<allowlist::AcceptedImage> = receipts::table
        .filter(receipts::ever_accepted.eq(true))
        .filter(receipts::registry_verdict.ne(super::evidence::ACCEPT))
        .filter(receipts::component.eq_any(&stage_components))
        .select((
            receipts::component,
            receipts::version,
            receipts::blob_sha256,
        ))
        .distinct()
        .load(conn)?;
    let revoked = RevocationSet::new(&revs);
    let rows = allowlist::Rows {
        comps: &comps,
        certs: &certs,
        revs: &revs,
        accepted: &accepted,
        withdrawn: &withdrawn,
    };
    Ok(allowlist::compile(
        p,
        &stages,
        rows,
        &|c| revoked.is_revoked(c),
        revoked_list,
    ))
}

/// Export formats of a product's allowlist.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExportFormat {
    /// The JSON allowlist.
    Json,
    /// UEFI `db` (EFI_SIGNATURE_LIST).
    EfiDb,
    /// UEFI `dbx`.
    EfiDbx,
    /// A C header.
    CHeader,
    /// The difference from the previous export.
    Diff,
}

impl ExportFormat {
    /// Parses the `format` parameter (default `json`).
    pub fn parse(s: Option<&str>) -> ServiceResult<Self> {
        Ok(match s.unwrap_or("json") {
            "json" => ExportFormat::Json,
            "efi-db" => ExportFormat::EfiDb,
            "efi-dbx" => ExportFormat::EfiDbx,
            "c-header" => ExportFormat::CHeader,
            "diff" => ExportFormat::Diff,
            other => {
                return Err(ServiceError::Invalid(format!(
                    "format '{other}' must be json, efi-db, efi-dbx, c-header or diff"
                )));
            }
        })
    }
}

/// Builds the export bytes and their media type, and records the JSON
/// snapshot with the bundle serial it was built at, in one transaction.
/// A diff compares with an explicit baseline: the export recorded at
/// bundle serial `since` (the newest at or below it), or else the one
/// security last published ([`publish`]); never whatever a reader fetched.
pub fn export(
    c: &mut Conn,
    actor: &Actor,
    id: &str,
    format: ExportFormat,
    since: Option<i64>,
) -> ServiceResult<(Vec<u8>, &'static str)> {
    actor.require(READERS, "export allowlists")?;
    super::transaction(c, |c| {
        let current = build(c, id)?;
        let json = serde_json::to_vec_pretty(&current).map_err(ServiceError::internal)?;
        let sha = hex(&DigestAlgorithm::Sha256.hash(&json));
        if format == ExportFormat::Diff {
            let (base, baseline) = baseline_export(c, id, since)?;
            let previous: Option<Allowlist> = base
                .as_ref()
                .and_then(|l| serde_json::from_str(&l.allowlist).ok());
            let mut d = allowlist::diff(previous.as_ref(), &current, base.map(|l| l.sha256), sha);
            d.baseline = baseline;
            return Ok((
                serde_json::to_vec_pretty(&d).map_err(ServiceError::internal)?,
                "application/json",
            ));
        }
        record_export(c, id, &json, &sha, None)?;
        Ok(match format {
            ExportFormat::Json | ExportFormat::Diff => (json, "application/json"),
            ExportFormat::EfiDb => (allowlist::efi_db(&current), "application/octet-stream"),
            ExportFormat::EfiDbx => (allowlist::efi_dbx(&current), "application/octet-stream"),
            ExportFormat::CHeader => (
                allowlist::c_header(&current).into_bytes(),
                "text/x-c; charset=utf-8",
            ),
        })
    })
}

/// The baseline of a diff and a sentence saying which it is.
fn baseline_export(
    c: &mut Conn,
    id: &str,
    since: Option<i64>,
) -> ServiceResult<(Option<ProductExport>, String)> {
    let q = product_exports::table
        .filter(product_exports::product_id.eq(id))
        .select(ProductExport::as_select());
    Ok(match since {
        Some(serial) => {
            let row = q
                .filter(product_exports::bundle_serial.le(serial))
                .order((
                    product_exports::bundle_serial.desc(),
                    product_exports::id.desc(),
                ))
                .first(c)
                .optional()?;
            let text = match &row {
                Some(r) => format!(
                    "the export recorded at bundle serial {} (asked: since {serial})",
                    r.bundle_serial
                ),
                None => format!("no export was recorded at or before bundle serial {serial}"),
            };
            (row, text)
        }
        None => {
            let row = q
                .filter(product_exports::published_at.is_not_null())
                .order(product_exports::id.desc())
                .first(c)
                .optional()?;
            let text = match &row {
                Some(r) => format!(
                    "the allowlist published {} by {} (bundle serial {})",
                    r.published_at.map(super::time_str).unwrap_or_default(),
                    r.published_by.clone().unwrap_or_default(),
                    r.bundle_serial
                ),
                None => "nothing published yet: everything is new".into(),
            };
            (row, text)
        }
    })
}

/// Records an export (the JSON snapshot and the bundle serial) unless the
/// newest one is the same; a publication is always recorded.
fn record_export(
    c: &mut Conn,
    id: &str,
    json: &[u8],
    sha: &str,
    published_by: Option<&str>,
) -> ServiceResult<ProductExport> {
    let last: Option<ProductExport> = product_exports::table
        .filter(product_exports::product_id.eq(id))
        .order(product_exports::id.desc())
        .select(ProductExport::as_select())
        .first(c)
        .optional()?;
    if let Some(l) = last.filter(|l| l.sha256 == sha && published_by.is_none()) {
        return Ok(l);
    }
    let now = crate::now_unix();
    diesel::insert_into(product_exports::table)
        .values(NewProductExport {
            product_id: id.to_string(),
            sha256: sha.to_string(),
            allowlist: String::from_utf8_lossy(json).into_owned(),
            created_at: now,
            bundle_serial: super::bundle::current_serial(c)?,
            published_at: published_by.map(|_| now),
            published_by: published_by.map(str::to_string),
        })
        .execute(c)?;
    Ok(product_exports::table
        .filter(product_exports::product_id.eq(id))
        .order(product_exports::id.desc())
        .select(ProductExport::as_select())
        .first(c)?)
}

/// A published allowlist baseline.
#[derive(Serialize, Deserialize, ToSchema, Debug)]
pub struct Published {
    /// Product.
    pub product: String,
    /// SHA-256 of the JSON allowlist published.
    pub sha256: String,
    /// The trust-bundle serial it was built at.
    pub bundle_serial: i64,
    /// When (RFC 3339).
    pub published_at: String,
    /// Who.
    pub published_by: String,
}

/// Publishes the current allowlist as the review baseline diffs compare
/// with (security's explicit act; audited).
pub fn publish(c: &mut Conn, actor: &Actor, id: &str) -> ServiceResult<Published> {
    actor.require(SECURITY, "publish allowlists")?;
    super::transaction(c, |c| {
        audit::begin_change(c, false)?;
        let current = build(c, id)?;
        let json = serde_json::to_vec_pretty(&current).map_err(ServiceError::internal)?;
        let sha = hex(&DigestAlgorithm::Sha256.hash(&json));
        let row = record_export(c, id, &json, &sha, Some(&actor.label()))?;
        let published = Published {
            product: id.to_string(),
            sha256: row.sha256,
            bundle_serial: row.bundle_serial,
            published_at: super::time_str(row.published_at.unwrap_or(row.created_at)),
            published_by: row.published_by.unwrap_or_default(),
        };
        audit::record(
            c,
            &actor.label(),
            "publish-allowlist",
            "product",
            id,
            None::<&()>,
            Some(&published),
        )?;
        Ok(published)
    })
}

/// The capability warnings for registering `cert` for `vendor`: every stage
/// of every product that loads one of the vendor's components and cannot
/// verify the certificate's key.
pub fn capability_warnings(
    conn: &mut Conn,
    vendor: &str,
    cert: &ParsedCert,
) -> ServiceResult<Vec<String>> {
    let comps: Vec<String> = components::table
        .filter(components::vendor_id.eq(vendor))
        .select(components::name)
        .load(conn)?;
    let ps: Vec<Product> = products::table
        .order(products::id)
        .select(Product::as_select())
        .load(conn)?;
    let cap = cert.key_algorithm().capability();
    let mut out = Vec::new();
    for p in ps {
        for s in stages_of(&p)? {
            if s.components.iter().any(|c| comps.contains(c))
                && !cap.as_ref().is_some_and(|c| s.algorithms.contains(c))
            {
                out.push(format!(
                    "product '{}' stage '{}' verifies {} and cannot verify this {} key",
                    p.id,
                    s.name,
                    s.algorithms.join(", "),
                    cert.key_algorithm()
                ));
            }
        }
    }
    Ok(out)
}

/// Every product id.
pub fn ids(conn: &mut Conn) -> ServiceResult<Vec<String>> {
    Ok(products::table
        .order(products::id)
        .select(products::id)
        .load(conn)?)
}

/// One allowlisted image and the registry's statement about it.
pub struct ImageStatement {
    /// Component.
    pub component: String,
    /// Version.
    pub version: String,
    /// SHA-256.
    pub sha256: String,
    /// The registry-accepted receipt it rests on.
    pub receipt: i64,
    /// The statement to sign.
    pub statement: inspector::attest::Statement,
}

/// For every image in the product's allowlist, the registry's statement
/// about the receipt that proves it (the newest registry-accepted one).
pub fn image_statements(
    c: &mut Conn,
    actor: &Actor,
    id: &str,
    verifier_id: &str,
) -> ServiceResult<Vec<ImageStatement>> {
    actor.require(READERS, "read allowlists")?;
    let a = build(c, id)?;
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for img in a.stages.iter().flat_map(|s| s.images.iter()) {
        if !seen.insert((
            img.component.clone(),
            img.version.clone(),
            img.sha256.clone(),
        )) {
            continue;
        }
        let Some(rid) =
            super::receipts::accepted_receipt_for(c, &img.component, &img.version, &img.sha256)?
        else {
            continue;
        };
        out.push(ImageStatement {
            component: img.component.clone(),
            version: img.version.clone(),
            sha256: img.sha256.clone(),
            receipt: rid,
            statement: super::receipts::attestation_statement(c, actor, rid, verifier_id)?,
        });
    }
    Ok(out)
}
