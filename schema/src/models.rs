//! Rows and insert forms.
#![allow(missing_docs)]

use crate::schema::*;
use diesel::prelude::*;

#[derive(Debug, Clone, Queryable, Selectable, Insertable, Identifiable, AsChangeset, PartialEq)]
#[diesel(table_name = vendors)]
pub struct Vendor {
    pub id: String,
    pub name: String,
    pub contract_ref: String,
    pub contract_expires: Option<i64>,
    pub security_contact: String,
    pub digests: String,
    pub min_rsa_bits: i32,
    pub require_timestamp: bool,
    pub row_version: i32,
    pub created_at: i64,
    pub updated_at: i64,
    /// End of the vendor's support period.
    pub support_ends: Option<i64>,
    /// Allowed signer key families, comma-separated (empty: any).
    pub key_algorithms: String,
    /// How the vendor protects its signing keys (free text).
    pub key_protection: String,
    /// A reference to an attestation of that protection (URL, document id).
    pub key_protection_attestation: String,
    /// What the vendor does when a key is compromised.
    pub revocation_procedure: String,
    /// Hours within which the vendor must report a compromise.
    pub revocation_deadline_hours: Option<i32>,
    /// Every image's version must be bound by a signed SBOM.
    pub require_signed_sbom: bool,
}

#[derive(Debug, Clone, Queryable, Selectable, Identifiable, PartialEq)]
#[diesel(table_name = certificates)]
pub struct Certificate {
    pub id: i64,
    pub vendor_id: String,
    pub role: String,
    pub der: Vec<u8>,
    pub sha256: String,
    pub subject: String,
    pub issuer: String,
    pub serial: String,
    pub not_before: i64,
    pub not_after: i64,
    pub key_algorithm: String,
    pub created_at: i64,
    /// When it was retired (out of the bundle and the allowlists).
    pub retired_at: Option<i64>,
    /// Why.
    pub retired_reason: Option<String>,
    /// By whom.
    pub retired_by: Option<String>,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = certificates)]
pub struct NewCertificate {
    pub vendor_id: String,
    pub role: String,
    pub der: Vec<u8>,
    pub sha256: String,
    pub subject: String,
    pub issuer: String,
    pub serial: String,
    pub not_before: i64,
    pub not_after: i64,
    pub key_algorithm: String,
    pub created_at: i64,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, Identifiable, AsChangeset, PartialEq)]
#[diesel(table_name = components, primary_key(name))]
pub struct Component {
    pub name: String,
    pub vendor_id: String,
    pub min_version: Option<String>,
    pub row_version: i32,
    pub updated_at: i64,
    pub allowed_signers: String,
    /// When it was retired (out of the bundle; kept on record).
    pub retired_at: Option<i64>,
    /// Why.
    pub retired_reason: Option<String>,
    /// By whom.
    pub retired_by: Option<String>,
    /// End of support, overriding the vendor's.
    pub support_ends: Option<i64>,
    /// Its RFC 4108 package identifier (an OID).
    pub firmware_package_oid: Option<String>,
    /// The floor its vendor signed: (S+1).0.0 after an accepted RFC 4108
    /// package declared versions at or below S stale.
    pub vendor_floor: Option<String>,
}

#[derive(Debug, Clone, Queryable, Selectable, PartialEq)]
#[diesel(table_name = tsa_anchors)]
pub struct TsaAnchor {
    pub id: i64,
    pub der: Vec<u8>,
    pub sha256: String,
    pub subject: String,
    pub not_after: i64,
    pub created_at: i64,
    /// When it was retired (out of the bundle; kept on record).
    pub retired_at: Option<i64>,
    /// Why.
    pub retired_reason: Option<String>,
    /// By whom.
    pub retired_by: Option<String>,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = tsa_anchors)]
pub struct NewTsaAnchor {
    pub der: Vec<u8>,
    pub sha256: String,
    pub subject: String,
    pub not_after: i64,
    pub created_at: i64,
}

#[derive(Debug, Clone, Queryable, Selectable, PartialEq)]
#[diesel(table_name = revocations)]
pub struct Revocation {
    pub id: i64,
    pub certificate_der: Option<Vec<u8>>,
    pub issuer_der: Option<Vec<u8>>,
    pub serial: Option<String>,
    pub subject: String,
    pub reason: String,
    pub invalidity_date: Option<i64>,
    pub source: String,
    pub created_at: i64,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = revocations)]
pub struct NewRevocation {
    pub certificate_der: Option<Vec<u8>>,
    pub issuer_der: Option<Vec<u8>>,
    pub serial: Option<String>,
    pub subject: String,
    pub reason: String,
    pub invalidity_date: Option<i64>,
    pub source: String,
    pub created_at: i64,
}

#[derive(Debug, Clone, Queryable, Selectable, PartialEq)]
#[diesel(table_name = receipts)]
pub struct Receipt {
    pub id: i64,
    pub received_at: i64,
    pub station: String,
    pub lot: String,
    pub vendor: String,
    pub component: String,
    pub version: String,
    pub verdict: String,
    pub blob_sha256: String,
    pub blob_size: i64,
    pub bundle_serial: i64,
    pub report: String,
    pub recorded_by: String,
    pub uid: String,
    pub summary: String,
    pub blob_sha384: Option<String>,
    pub blob_sha512: Option<String>,
    pub registry_verdict: String,
    pub registry_summary: String,
    pub verified_at: i64,
    pub verified_serial: i64,
    pub ever_accepted: bool,
    pub disagreement: bool,
    pub reevaluated_at: Option<i64>,
    pub station_key: Option<String>,
    pub prev_hash: String,
    pub hash: String,
    pub late: bool,
    pub station_time: Option<i64>,
}

/// A receipt as lists show it: everything but the station's report.
#[derive(Debug, Clone, Queryable, Selectable, PartialEq)]
#[diesel(table_name = receipts)]
pub struct ReceiptRow {
    pub id: i64,
    pub received_at: i64,
    pub station: String,
    pub lot: String,
    pub vendor: String,
    pub component: String,
    pub version: String,
    pub verdict: String,
    pub blob_sha256: String,
    pub blob_size: i64,
    pub bundle_serial: i64,
    pub recorded_by: String,
    pub summary: String,
    pub registry_verdict: String,
    pub registry_summary: String,
    pub verified_at: i64,
    pub verified_serial: i64,
    pub disagreement: bool,
    pub reevaluated_at: Option<i64>,
    pub station_key: Option<String>,
    pub late: bool,
    pub station_time: Option<i64>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, PartialEq)]
#[diesel(table_name = receipt_evidence)]
pub struct ReceiptEvidence {
    pub receipt_id: i64,
    pub signature: Vec<u8>,
    pub registry_report: String,
    pub envelope: Option<String>,
}

#[derive(Debug, Clone, Queryable, Selectable, PartialEq)]
#[diesel(table_name = station_keys)]
pub struct StationKey {
    pub id: i64,
    pub name: String,
    pub token_id: i64,
    pub spki_der: Vec<u8>,
    pub keyid: String,
    pub created_at: i64,
    pub created_by: String,
    pub retired_at: Option<i64>,
    pub retired_by: Option<String>,
    pub retired_reason: Option<String>,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = station_keys)]
pub struct NewStationKey {
    pub name: String,
    pub token_id: i64,
    pub spki_der: Vec<u8>,
    pub keyid: String,
    pub created_at: i64,
    pub created_by: String,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, PartialEq)]
#[diesel(table_name = receipt_certs)]
pub struct ReceiptCert {
    pub receipt_id: i64,
    pub position: i32,
    pub sha256: String,
    pub issuer: String,
    pub serial: String,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = receipts)]
pub struct NewReceipt {
    pub received_at: i64,
    pub station: String,
    pub lot: String,
    pub vendor: String,
    pub component: String,
    pub version: String,
    pub verdict: String,
    pub blob_sha256: String,
    pub blob_size: i64,
    pub bundle_serial: i64,
    pub report: String,
    pub recorded_by: String,
    pub uid: String,
    pub summary: String,
    pub blob_sha384: Option<String>,
    pub blob_sha512: Option<String>,
    pub registry_verdict: String,
    pub registry_summary: String,
    pub verified_at: i64,
    pub verified_serial: i64,
    pub ever_accepted: bool,
    pub disagreement: bool,
    pub station_key: Option<String>,
    pub prev_hash: String,
    pub hash: String,
    pub late: bool,
    pub station_time: Option<i64>,
}

#[derive(Debug, Clone, Queryable, Selectable, PartialEq)]
#[diesel(table_name = api_tokens)]
pub struct ApiToken {
    pub id: i64,
    pub name: String,
    pub role: String,
    pub token_hash: String,
    pub created_at: i64,
    pub revoked: bool,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = api_tokens)]
pub struct NewApiToken {
    pub name: String,
    pub role: String,
    pub token_hash: String,
    pub created_at: i64,
}

#[derive(Debug, Clone, Queryable, Selectable, PartialEq)]
#[diesel(table_name = audit_log)]
pub struct AuditEntry {
    pub id: i64,
    pub at: i64,
    pub actor: String,
    pub action: String,
    pub entity: String,
    pub entity_id: String,
    pub before_json: Option<String>,
    pub after_json: Option<String>,
    pub prev_hash: String,
    pub hash: String,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = audit_log)]
pub struct NewAuditEntry {
    pub at: i64,
    pub actor: String,
    pub action: String,
    pub entity: String,
    pub entity_id: String,
    pub before_json: Option<String>,
    pub after_json: Option<String>,
    pub prev_hash: String,
    pub hash: String,
}

#[derive(Debug, Clone, Queryable, Selectable, PartialEq)]
#[diesel(table_name = sigstore_identities)]
pub struct SigstoreIdentity {
    pub id: i64,
    pub vendor_id: String,
    pub issuer: String,
    pub san: Option<String>,
    pub san_regex: Option<String>,
    pub created_at: i64,
    /// When it was retired (out of the bundle; kept on record).
    pub retired_at: Option<i64>,
    /// Why.
    pub retired_reason: Option<String>,
    /// By whom.
    pub retired_by: Option<String>,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = sigstore_identities)]
pub struct NewSigstoreIdentity {
    pub vendor_id: String,
    pub issuer: String,
    pub san: Option<String>,
    pub san_regex: Option<String>,
    pub created_at: i64,
}

#[derive(Debug, Clone, Queryable, Selectable, PartialEq)]
#[diesel(table_name = sigstore_keys)]
pub struct SigstoreKey {
    pub id: i64,
    pub vendor_id: String,
    pub pem: String,
    pub sha256: String,
    pub created_at: i64,
    /// When it was retired (out of the bundle; kept on record).
    pub retired_at: Option<i64>,
    /// Why.
    pub retired_reason: Option<String>,
    /// By whom.
    pub retired_by: Option<String>,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = sigstore_keys)]
pub struct NewSigstoreKey {
    pub vendor_id: String,
    pub pem: String,
    pub sha256: String,
    pub created_at: i64,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, PartialEq)]
#[diesel(table_name = sigstore_trusted_roots)]
pub struct SigstoreTrustedRoot {
    pub name: String,
    pub trusted_root: String,
    pub sha256: String,
    pub created_at: i64,
    /// When it was retired (out of the bundle; kept on record).
    pub retired_at: Option<i64>,
    /// Why.
    pub retired_reason: Option<String>,
    /// By whom.
    pub retired_by: Option<String>,
}

#[derive(Debug, Clone, Queryable, Selectable, PartialEq)]
#[diesel(table_name = users)]
pub struct User {
    pub id: i64,
    pub username: String,
    pub password_hash: String,
    pub role: String,
    pub created_at: i64,
    pub disabled: bool,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = users)]
pub struct NewUser {
    pub username: String,
    pub password_hash: String,
    pub role: String,
    pub created_at: i64,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, PartialEq)]
#[diesel(table_name = web_sessions)]
pub struct WebSession {
    pub id_hash: String,
    pub principal: String,
    pub role: String,
    pub csrf: String,
    pub expires_at: i64,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, PartialEq)]
#[diesel(table_name = products)]
pub struct Product {
    pub id: String,
    pub name: String,
    /// JSON array of boot stages (see registry::products::Stage).
    pub stages: String,
    pub row_version: i32,
    pub created_at: i64,
    pub updated_at: i64,
    /// The hardware it is built on: OIDs, comma-separated (RFC 4108
    /// targetHardwareIDs are checked against them).
    pub hardware_ids: String,
}

#[derive(Debug, Clone, Queryable, Selectable, PartialEq)]
#[diesel(table_name = product_exports)]
pub struct ProductExport {
    pub id: i64,
    pub product_id: String,
    pub sha256: String,
    pub allowlist: String,
    pub created_at: i64,
    pub bundle_serial: i64,
    pub published_at: Option<i64>,
    pub published_by: Option<String>,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = product_exports)]
pub struct NewProductExport {
    pub product_id: String,
    pub sha256: String,
    pub allowlist: String,
    pub created_at: i64,
    pub bundle_serial: i64,
    pub published_at: Option<i64>,
    pub published_by: Option<String>,
}

#[derive(Debug, Clone, Queryable, Selectable, PartialEq)]
#[diesel(table_name = sigstore_revocations)]
pub struct SigstoreRevocationRow {
    pub id: i64,
    pub vendor_id: String,
    pub issuer: Option<String>,
    pub san: Option<String>,
    pub key_spki_sha256: Option<String>,
    pub reason: String,
    pub revoked_from: Option<i64>,
    pub created_at: i64,
    pub created_by: String,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = sigstore_revocations)]
pub struct NewSigstoreRevocation {
    pub vendor_id: String,
    pub issuer: Option<String>,
    pub san: Option<String>,
    pub key_spki_sha256: Option<String>,
    pub reason: String,
    pub revoked_from: Option<i64>,
    pub created_at: i64,
    pub created_by: String,
}

#[derive(Debug, Clone, Queryable, Selectable, PartialEq)]
#[diesel(table_name = shared_cas)]
pub struct SharedCa {
    pub id: i64,
    pub spki_sha256: String,
    pub subject: String,
    pub vendors: String,
    pub reason: String,
    pub created_at: i64,
    pub created_by: String,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = shared_cas)]
pub struct NewSharedCa {
    pub spki_sha256: String,
    pub subject: String,
    pub vendors: String,
    pub reason: String,
    pub created_at: i64,
    pub created_by: String,
}

#[derive(Debug, Clone, Queryable, Selectable, PartialEq)]
#[diesel(table_name = proposals)]
pub struct Proposal {
    pub id: i64,
    pub action: String,
    pub summary: String,
    pub payload: String,
    pub required_roles: String,
    pub approvals_required: i32,
    pub proposed_by: String,
    pub proposed_by_label: String,
    pub status: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub decided_at: Option<i64>,
    pub outcome: Option<String>,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = proposals)]
pub struct NewProposal {
    pub action: String,
    pub summary: String,
    pub payload: String,
    pub required_roles: String,
    pub approvals_required: i32,
    pub proposed_by: String,
    pub proposed_by_label: String,
    pub status: String,
    pub created_at: i64,
    pub expires_at: i64,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, PartialEq)]
#[diesel(table_name = proposal_votes)]
pub struct ProposalVote {
    pub proposal_id: i64,
    pub voter: String,
    pub voter_label: String,
    pub decision: String,
    pub reason: String,
    pub at: i64,
}

#[derive(Debug, Clone, Queryable, Selectable, PartialEq)]
#[diesel(table_name = releases)]
pub struct Release {
    pub id: i64,
    pub product_id: String,
    pub version: String,
    pub images: String,
    pub status: String,
    pub created_at: i64,
    pub created_by: String,
    pub checked_at: Option<i64>,
    pub problems: String,
    pub attestation: Option<String>,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = releases)]
pub struct NewRelease {
    pub product_id: String,
    pub version: String,
    pub images: String,
    pub status: String,
    pub created_at: i64,
    pub created_by: String,
}

#[derive(Debug, Clone, Queryable, Selectable, PartialEq)]
#[diesel(table_name = vendor_sboms)]
pub struct VendorSbom {
    pub id: i64,
    pub vendor_id: String,
    pub serial: String,
    pub sha256: String,
    pub component: String,
    pub version: String,
    pub sbom: Vec<u8>,
    pub signature: Vec<u8>,
    pub uploaded_at: i64,
    pub uploaded_by: String,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = vendor_sboms)]
pub struct NewVendorSbom {
    pub vendor_id: String,
    pub serial: String,
    pub sha256: String,
    pub component: String,
    pub version: String,
    pub sbom: Vec<u8>,
    pub signature: Vec<u8>,
    pub uploaded_at: i64,
    pub uploaded_by: String,
}

#[derive(Debug, Clone, Queryable, Selectable, PartialEq)]
#[diesel(table_name = sbom_bindings)]
pub struct SbomBinding {
    pub id: i64,
    pub sbom_id: i64,
    pub vendor_id: String,
    pub component: String,
    pub version: String,
    pub sha256: Option<String>,
    pub sha384: Option<String>,
    pub sha512: Option<String>,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = sbom_bindings)]
pub struct NewSbomBinding {
    pub sbom_id: i64,
    pub vendor_id: String,
    pub component: String,
    pub version: String,
    pub sha256: Option<String>,
    pub sha384: Option<String>,
    pub sha512: Option<String>,
}
