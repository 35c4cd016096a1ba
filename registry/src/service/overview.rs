//! Read-only views the pages assemble from several resources: the
//! dashboard (counts, inspections per day, what expires soon, the latest
//! rejections), the vendor list with its counts, and one vendor's page.

use super::{Actor, Conn, READERS, ServiceResult};
use diesel::prelude::*;
use schema::models::{Certificate, ReceiptRow, Vendor};
use schema::schema::{certificates, components, receipts, revocations, vendors};

/// Record counts.
pub struct Counts {
    /// Vendors.
    pub vendors: i64,
    /// Registered certificates.
    pub certificates: i64,
    /// Components.
    pub components: i64,
    /// Revocations.
    pub revocations: i64,
    /// Receipts.
    pub receipts: i64,
    /// Receipts where the station and the registry disagree.
    pub disagreements: i64,
    /// Current trust-bundle serial.
    pub serial: i64,
}

/// Receipts of one day (days since the epoch) with one verdict.
#[derive(QueryableByName)]
pub struct DayCount {
    /// Day number (Unix seconds / 86,400).
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub day: i64,
    /// accept or reject.
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub verdict: String,
    /// How many.
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub n: i64,
}

/// Everything on the dashboard.
pub struct Dashboard {
    /// Counts.
    pub counts: Counts,
    /// Receipts per day and verdict over the last 30 days.
    pub per_day: Vec<DayCount>,
    /// Certificates expiring within 90 days (at most 50).
    pub expiring_certs: Vec<Certificate>,
    /// Contracts ending within 90 days (at most 50).
    pub expiring_contracts: Vec<Vendor>,
    /// Released releases whose support (the earliest of their components')
    /// ends within 180 days: (product, release, end), soonest first.
    pub releases_losing_support: Vec<(String, String, i64)>,
    /// Support periods ending within 90 days, soonest first: vendors'
    /// (component `None`) and components' own (at most 50 of each).
    pub ending_support: Vec<SupportEnd>,
    /// The ten newest rejections.
    pub rejections: Vec<ReceiptRow>,
    /// The ten newest disagreements between a station and the registry.
    pub disagreements: Vec<ReceiptRow>,
}

/// A support period that ends soon.
pub struct SupportEnd {
    /// The vendor.
    pub vendor_id: String,
    /// The component, when it overrides the vendor's period.
    pub component: Option<String>,
    /// When support ends (Unix seconds).
    pub ends: i64,
}

/// Reads the dashboard as of `now` (Unix seconds).
pub fn dashboard(c: &mut Conn, actor: &Actor, now: i64) -> ServiceResult<Dashboard> {
    actor.require(READERS, "read the dashboard")?;
    let today = now / 86_400;
    let counts = Counts {
        vendors: vendors::table.count().get_result(c)?,
        certificates: certificates::table.count().get_result(c)?,
        components: components::table
            .filter(components::retired_at.is_null())
            .count()
            .get_result(c)?,
        revocations: revocations::table.count().get_result(c)?,
        receipts: receipts::table.count().get_result(c)?,
        disagreements: receipts::table
            .filter(receipts::disagreement.eq(true))
            .count()
            .get_result(c)?,
        serial: super::bundle::current_serial(c)?,
    };
    // `since` is computed here, not user input: inlining it is safe.
    let since = (today - 29) * 86_400;
    let per_day: Vec<DayCount> = diesel::sql_query(format!(
        "SELECT received_at / 86400 AS day, verdict, COUNT(*) AS n FROM receipts WHERE received_at >= {since} GROUP BY received_at / 86400, verdict"
    ))
    .load(c)?;
    let soon = now + 90 * 86_400;
    let expiring_certs = certificates::table
        .filter(certificates::not_after.le(soon))
        .filter(certificates::retired_at.is_null())
        .order(certificates::not_after)
        .limit(50)
        .select(Certificate::as_select())
        .load(c)?;
    let expiring_contracts = vendors::table
        .filter(vendors::contract_expires.le(soon))
        .order(vendors::contract_expires)
        .limit(50)
        .select(Vendor::as_select())
        .load(c)?;
    let mut ending_support: Vec<SupportEnd> = vendors::table
        .filter(vendors::support_ends.le(soon))
        .order(vendors::support_ends)
        .limit(50)
        .select((vendors::id, vendors::support_ends))
        .load::<(String, Option<i64>)>(c)?
        .into_iter()
        .filter_map(|(vendor_id, ends)| {
            ends.map(|ends| SupportEnd {
                vendor_id,
                component: None,
                ends,
            })
        })
        .collect();
    ending_support.extend(
        components::table
            .filter(components::support_ends.le(soon))
            .filter(components::retired_at.is_null())
            .order(components::support_ends)
            .limit(50)
            .select((
                components::vendor_id,
                components::name,
                components::support_ends,
            ))
            .load::<(String, String, Option<i64>)>(c)?
            .into_iter()
            .filter_map(|(vendor_id, name, ends)| {
                ends.map(|ends| SupportEnd {
                    vendor_id,
                    component: Some(name),
                    ends,
                })
            }),
    );
    ending_support.sort_by_key(|s| s.ends);
    let releases_losing_support = super::releases::support_ending(c, now + 180 * 86_400)?;
    let rejections = receipts::table
        .filter(receipts::verdict.eq("reject"))
        .order(receipts::id.desc())
        .limit(10)
        .select(ReceiptRow::as_select())
        .load(c)?;
    let disagreements = receipts::table
        .filter(receipts::disagreement.eq(true))
        .order(receipts::id.desc())
        .limit(10)
        .select(ReceiptRow::as_select())
        .load(c)?;
    Ok(Dashboard {
        disagreements,
        counts,
        per_day,
        expiring_certs,
        expiring_contracts,
        ending_support,
        releases_losing_support,
        rejections,
    })
}

/// Vendors with how many certificates and components each, by name.
pub fn vendor_overview(c: &mut Conn, actor: &Actor) -> ServiceResult<Vec<(Vendor, i64, i64)>> {
    actor.require(READERS, "read vendors")?;
    let all: Vec<Vendor> = vendors::table
        .order(vendors::name)
        .select(Vendor::as_select())
        .load(c)?;
    let cert_counts: Vec<(String, i64)> = certificates::table
        .group_by(certificates::vendor_id)
        .select((certificates::vendor_id, diesel::dsl::count_star()))
        .load(c)?;
    let comp_counts: Vec<(String, i64)> = components::table
        .group_by(components::vendor_id)
        .select((components::vendor_id, diesel::dsl::count_star()))
        .load(c)?;
    let count = |v: &[(String, i64)], id: &str| {
        v.iter()
            .find(|(k, _)| k == id)
            .map(|(_, n)| *n)
            .unwrap_or(0)
    };
    Ok(all
        .into_iter()
        .map(|v| {
            let (cc, pc) = (count(&cert_counts, &v.id), count(&comp_counts, &v.id));
            (v, cc, pc)
        })
        .collect())
}

/// Everything the vendor page shows about one vendor.
pub struct VendorDetail {
    /// The vendor.
    pub vendor: Vendor,
    /// Its certificates, each with whether it is revoked (by the one
    /// revocation rule: DER, or issuer and serial as a CRL names it).
    pub certificates: Vec<(schema::models::Certificate, bool)>,
    /// Its components.
    pub components: Vec<schema::models::Component>,
    /// Its Sigstore identities.
    pub identities: Vec<schema::models::SigstoreIdentity>,
    /// Its Sigstore keys.
    pub keys: Vec<schema::models::SigstoreKey>,
}

/// Reads one vendor with its certificates (and their revocation status),
/// components and Sigstore material.
pub fn vendor_detail(c: &mut Conn, actor: &Actor, id: &str) -> ServiceResult<VendorDetail> {
    actor.require(READERS, "read vendors")?;
    let vendor = super::vendors::find_vendor(c, id)?;
    let revoked = super::revocation_status::RevocationSet::load(c)?;
    let certificates = super::certificates::list_for_vendor(c, actor, id)?
        .into_iter()
        .map(|cert| {
            let r = revoked.is_revoked_der(&cert.der);
            (cert, r)
        })
        .collect();
    Ok(VendorDetail {
        vendor,
        certificates,
        components: super::components::of_vendor(c, id)?,
        identities: super::sigstore::identities(c, actor, id)?,
        keys: super::sigstore::keys(c, actor, id)?,
    })
}
