//! Boot stages and device capability, and the allowlists compiled for a
//! product (JSON, UEFI signature lists, a C header, a diff). Pure functions
//! over rows: `service::products` loads the rows and calls `compile`;
//! `service::brick` runs the brick check on top.

use inspector::cert::{ParsedCert, certificate_pem, rfc3339};
use inspector::digest::{DigestAlgorithm, hex};
use schema::models::{Certificate, Component, Product, Revocation};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use utoipa::ToSchema;

/// What a boot stage's verifier can check: `ecdsa-p256`, `ecdsa-p384`,
/// `ed25519`, `rsa-2048`, `rsa-3072`, `rsa-4096`.
pub const CAPABILITIES: &[&str] = &[
    "ecdsa-p256",
    "ecdsa-p384",
    "ed25519",
    "rsa-2048",
    "rsa-3072",
    "rsa-4096",
];

/// One stage of a product's boot chain.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Stage {
    /// Name (`rom`, `bootloader`, `os`, `application`, …).
    pub name: String,
    /// Signature algorithms and key sizes this stage can verify.
    pub algorithms: Vec<String>,
    /// Components loaded and verified by this stage.
    #[serde(default)]
    pub components: Vec<String>,
}

impl From<Stage> for inspector::policy::StageDocument {
    fn from(s: Stage) -> Self {
        inspector::policy::StageDocument {
            name: s.name,
            algorithms: s.algorithms,
            components: s.components,
        }
    }
}

/// Why a boot chain is not acceptable (a sentence naming the stage and field).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct StageError(pub String);

/// Validates stages (names unique, known algorithms, at least one stage).
pub fn validate_stages(stages: &[Stage]) -> Result<(), StageError> {
    if stages.is_empty() {
        return Err(StageError("a product needs at least one boot stage".into()));
    }
    let mut names = BTreeSet::new();
    for (i, s) in stages.iter().enumerate() {
        if s.name.trim().is_empty()
            || !s
                .name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(StageError(format!(
                "stages[{i}].name must be letters, digits, - or _"
            )));
        }
        if !names.insert(s.name.clone()) {
            return Err(StageError(format!("stage '{}' appears twice", s.name)));
        }
        if s.algorithms.is_empty() {
            return Err(StageError(format!(
                "stage '{}' must list the algorithms it can verify",
                s.name
            )));
        }
        for a in &s.algorithms {
            if !CAPABILITIES.contains(&a.as_str()) {
                return Err(StageError(format!(
                    "stage '{}': unknown algorithm '{a}' (expected one of {})",
                    s.name,
                    CAPABILITIES.join(", ")
                )));
            }
        }
    }
    Ok(())
}

/// A trusted key in an allowlist.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema, PartialEq, Eq, PartialOrd, Ord)]
pub struct AllowedKey {
    /// Vendor.
    pub vendor: String,
    /// anchor or intermediate.
    pub role: String,
    /// Subject DN.
    pub subject: String,
    /// SHA-256 of the SubjectPublicKeyInfo (hex).
    pub spki_sha256: String,
    /// SHA-256 of the certificate (hex).
    pub certificate_sha256: String,
    /// Key algorithm as a capability name.
    pub algorithm: String,
    /// The certificate (PEM).
    pub certificate_pem: String,
}

/// A key the stage cannot verify.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema, PartialEq, Eq, PartialOrd, Ord)]
pub struct UnverifiableKey {
    /// Vendor.
    pub vendor: String,
    /// Subject.
    pub subject: String,
    /// Why.
    pub reason: String,
}

/// A component of a stage.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema, PartialEq, Eq, PartialOrd, Ord)]
pub struct StageComponent {
    /// Name.
    pub name: String,
    /// Supplying vendor.
    pub vendor: String,
    /// Rollback floor.
    pub min_version: Option<String>,
}

/// An accepted (or revoked) image.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema, PartialEq, Eq, PartialOrd, Ord)]
pub struct Image {
    /// Component.
    pub component: String,
    /// Version.
    pub version: String,
    /// SHA-256 of the blob (hex).
    pub sha256: String,
}

/// A revoked key.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema, PartialEq, Eq, PartialOrd, Ord)]
pub struct RevokedKey {
    /// Subject, or `serial X issued by Y`.
    pub subject: String,
    /// Certificate SHA-256, when the certificate is known.
    pub certificate_sha256: Option<String>,
    /// The certificate (PEM), when known.
    pub certificate_pem: Option<String>,
    /// RFC 5280 reason.
    pub reason: String,
    /// From when (RFC 3339); absent: for all time.
    pub revoked_from: Option<String>,
}

/// One stage in the allowlist.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct AllowlistStage {
    /// Stage name.
    pub name: String,
    /// What it can verify.
    pub algorithms: Vec<String>,
    /// Its components and floors.
    pub components: Vec<StageComponent>,
    /// Keys it trusts (vendor anchors and intermediates it can verify, not revoked).
    pub keys: Vec<AllowedKey>,
    /// Vendor keys it cannot verify (capability check).
    pub unverifiable_keys: Vec<UnverifiableKey>,
    /// Accepted images at or above the floor.
    pub images: Vec<Image>,
}

/// The JSON allowlist (schema: docs/allowlist.schema.json).
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct Allowlist {
    /// `tollgate-allowlist`.
    pub format: String,
    /// 1.
    pub version: u32,
    /// Product id.
    pub product: String,
    /// Product name.
    pub product_name: String,
    /// Boot stages in boot order.
    pub stages: Vec<AllowlistStage>,
    /// Revoked keys of the product's vendors.
    pub revoked_keys: Vec<RevokedKey>,
    /// Images once accepted, now below their component's floor.
    pub revoked_images: Vec<Image>,
}

/// The registry's rows an allowlist is compiled from.
pub struct Rows<'a> {
    /// Every component.
    pub comps: &'a [Component],
    /// Every registered certificate.
    pub certs: &'a [Certificate],
    /// Every revocation.
    pub revs: &'a [Revocation],
    /// The images of the product's components whose evidence the registry
    /// verified.
    pub accepted: &'a [AcceptedImage],
    /// Images whose evidence the registry once verified and no longer does
    /// (a revocation withdrew them): they go to the revoked images (`dbx`)
    /// unless other evidence for the same image still verifies.
    pub withdrawn: &'a [AcceptedImage],
}

/// An image the registry verified: component, version, SHA-256.
pub type AcceptedImage = (String, String, String);

/// Compiles the allowlist of product `p` from the registry's rows
/// (deterministic: everything sorted, no clock). A certificate is left out
/// when `revoked` says so (the one revocation rule, shared with the
/// inspector and the pages).
pub fn compile(
    p: Product,
    stages: &[Stage],
    rows: Rows<'_>,
    is_revoked: &dyn Fn(&ParsedCert) -> bool,
    revoked_list: bool,
) -> Allowlist {
    let Rows {
        comps,
        certs,
        revs,
        accepted,
        withdrawn,
    } = rows;
    let mut product_vendors = BTreeSet::new();
    let mut out_stages = Vec::new();
    let mut revoked_images = BTreeSet::new();
    for s in stages {
        let mut sc = Vec::new();
        let mut vendors = BTreeSet::new();
        for name in &s.components {
            if let Some(c) = comps.iter().find(|c| &c.name == name) {
                vendors.insert(c.vendor_id.clone());
                sc.push(StageComponent {
                    name: c.name.clone(),
                    vendor: c.vendor_id.clone(),
                    min_version: crate::service::components::effective_floor(c),
                });
            }
        }
        product_vendors.extend(vendors.iter().cloned());
        let mut keys = Vec::new();
        let mut unverifiable = Vec::new();
        for c in certs.iter().filter(|c| vendors.contains(&c.vendor_id)) {
            let Ok(parsed) = ParsedCert::from_der(c.der.clone()) else {
                continue;
            };
            if is_revoked(&parsed) {
                continue;
            }
            let alg = parsed.key_algorithm().capability();
            match alg {
                Some(a) if s.algorithms.contains(&a) => keys.push(AllowedKey {
                    vendor: c.vendor_id.clone(),
                    role: c.role.clone(),
                    subject: c.subject.clone(),
                    spki_sha256: hex(&DigestAlgorithm::Sha256.hash(&parsed.spki_der())),
                    certificate_sha256: c.sha256.clone(),
                    algorithm: a,
                    certificate_pem: certificate_pem(&c.der),
                }),
                other => unverifiable.push(UnverifiableKey {
                    vendor: c.vendor_id.clone(),
                    subject: c.subject.clone(),
                    reason: format!(
                        "stage '{}' verifies {} and cannot verify {} keys",
                        s.name,
                        s.algorithms.join(", "),
                        other.unwrap_or_else(|| parsed.key_algorithm().to_string())
                    ),
                }),
            }
        }
        let mut images = BTreeSet::new();
        for (comp, version, sha) in accepted {
            let Some(c) = sc.iter().find(|c| &c.name == comp) else {
                continue;
            };
            let floor = c
                .min_version
                .as_deref()
                .and_then(|m| semver::Version::parse(m).ok());
            let v = semver::Version::parse(version).ok();
            let img = Image {
                component: comp.clone(),
                version: version.clone(),
                sha256: sha.clone(),
            };
            match (floor, v) {
                (Some(f), Some(v)) if inspector::verify::below_floor(&v, &f) => {
                    revoked_images.insert(img);
                }
                (_, None) => {}
                _ => {
                    images.insert(img);
                }
            }
        }
        for (comp, version, sha) in withdrawn {
            if !sc.iter().any(|c| &c.name == comp)
                || accepted
                    .iter()
                    .any(|(c, v, h)| c == comp && v == version && h == sha)
            {
                continue;
            }
            revoked_images.insert(Image {
                component: comp.clone(),
                version: version.clone(),
                sha256: sha.clone(),
            });
        }
        keys.sort();
        unverifiable.sort();
        sc.sort();
        out_stages.push(AllowlistStage {
            name: s.name.clone(),
            algorithms: s.algorithms.clone(),
            components: sc,
            keys,
            unverifiable_keys: unverifiable,
            images: images.into_iter().collect(),
        });
    }
    // The product vendors' certificates, and the subject names they sign
    // under, computed once (a CRL import can add 100,000 revocations).
    let vendor_certs: BTreeSet<&[u8]> = certs
        .iter()
        .filter(|c| product_vendors.contains(&c.vendor_id))
        .map(|c| c.der.as_slice())
        .collect();
    let vendor_subjects: BTreeSet<Vec<u8>> = vendor_certs
        .iter()
        .filter_map(|der| ParsedCert::from_der(der.to_vec()).ok())
        .map(|c| c.subject_der())
        .collect();
    let mut revoked_keys = Vec::new();
    // The brick check needs keys and images only: it skips the list of
    // revoked keys (one entry per CRL serial).
    let revs = if revoked_list { revs } else { &[] };
    for r in revs {
        // A revocation concerns the product when it names one of its
        // vendors' certificates, or a certificate they issued.
        let owned = match &r.certificate_der {
            Some(der) => {
                vendor_certs.contains(der.as_slice())
                    || ParsedCert::from_der(der.clone())
                        .is_ok_and(|revoked| vendor_subjects.contains(&revoked.issuer_der()))
            }
            None => r
                .issuer_der
                .as_ref()
                .is_some_and(|i| vendor_certs.contains(i.as_slice())),
        };
        if !owned {
            continue;
        }
        revoked_keys.push(RevokedKey {
            subject: r.subject.clone(),
            certificate_sha256: r
                .certificate_der
                .as_deref()
                .map(|d| hex(&DigestAlgorithm::Sha256.hash(d))),
            certificate_pem: r.certificate_der.as_deref().map(certificate_pem),
            reason: r.reason.clone(),
            revoked_from: r
                .invalidity_date
                .and_then(|t| time::OffsetDateTime::from_unix_timestamp(t).ok())
                .map(rfc3339),
        });
    }
    revoked_keys.sort();
    Allowlist {
        format: "tollgate-allowlist".into(),
        version: 1,
        product: p.id,
        product_name: p.name,
        stages: out_stages,
        revoked_keys,
        revoked_images: revoked_images.into_iter().collect(),
    }
}

// ---- UEFI signature lists -----------------------------------------------------------

/// EFI_CERT_X509_GUID a5c059a1-94e4-4aa7-87b5-ab155c2bf072.
const EFI_CERT_X509: [u8; 16] = guid(
    0xa5c059a1,
    0x94e4,
    0x4aa7,
    [0x87, 0xb5, 0xab, 0x15, 0x5c, 0x2b, 0xf0, 0x72],
);
/// EFI_CERT_SHA256_GUID c1c41626-504c-4092-aca9-41f936934328.
const EFI_CERT_SHA256: [u8; 16] = guid(
    0xc1c41626,
    0x504c,
    0x4092,
    [0xac, 0xa9, 0x41, 0xf9, 0x36, 0x93, 0x43, 0x28],
);
/// SignatureOwner of every entry Tollgate writes: 7011ca7e-70c6-4a7e-9d1b-3e5c0f5a0a11.
pub const TOLLGATE_OWNER: [u8; 16] = guid(
    0x7011ca7e,
    0x70c6,
    0x4a7e,
    [0x9d, 0x1b, 0x3e, 0x5c, 0x0f, 0x5a, 0x0a, 0x11],
);

/// A GUID in its UEFI byte order (first three fields little-endian).
const fn guid(a: u32, b: u16, c: u16, d: [u8; 8]) -> [u8; 16] {
    let a = a.to_le_bytes();
    let b = b.to_le_bytes();
    let c = c.to_le_bytes();
    [
        a[0], a[1], a[2], a[3], b[0], b[1], c[0], c[1], d[0], d[1], d[2], d[3], d[4], d[5], d[6],
        d[7],
    ]
}

/// One EFI_SIGNATURE_LIST (UEFI 2.10 section 32.4.1) holding `entries` of
/// equal size, each prefixed with the owner GUID.
fn signature_list(kind: &[u8; 16], entries: &[&[u8]]) -> Vec<u8> {
    let Some(first) = entries.first() else {
        return Vec::new();
    };
    let sig_size = 16 + first.len();
    let list_size = 28 + sig_size * entries.len();
    let mut out = Vec::with_capacity(list_size);
    out.extend_from_slice(kind);
    out.extend_from_slice(&(list_size as u32).to_le_bytes());
    out.extend_from_slice(&0u32.to_le_bytes());
    out.extend_from_slice(&(sig_size as u32).to_le_bytes());
    for e in entries {
        out.extend_from_slice(&TOLLGATE_OWNER);
        out.extend_from_slice(e);
    }
    out
}

fn der_of_pem(p: &str) -> Vec<u8> {
    pem::parse(p).map(|b| b.into_contents()).unwrap_or_default()
}

/// `db`: one X.509 list per certificate (sizes differ), then one SHA-256
/// list of accepted images.
pub fn efi_db(a: &Allowlist) -> Vec<u8> {
    let mut certs: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    let mut hashes: BTreeSet<Vec<u8>> = BTreeSet::new();
    for s in &a.stages {
        for k in &s.keys {
            certs
                .entry(k.certificate_sha256.clone())
                .or_insert_with(|| der_of_pem(&k.certificate_pem));
        }
        for i in &s.images {
            if let Some(h) = inspector::policy::parse_hex(&i.sha256) {
                hashes.insert(h);
            }
        }
    }
    let mut out = Vec::new();
    for der in certs.values() {
        out.extend(signature_list(&EFI_CERT_X509, &[der.as_slice()]));
    }
    let hs: Vec<&[u8]> = hashes.iter().map(Vec::as_slice).collect();
    out.extend(signature_list(&EFI_CERT_SHA256, &hs));
    out
}

/// `dbx`: revoked certificates (X.509 lists) and revoked images (SHA-256 list).
pub fn efi_dbx(a: &Allowlist) -> Vec<u8> {
    let mut out = Vec::new();
    let certs: BTreeSet<Vec<u8>> = a
        .revoked_keys
        .iter()
        .filter_map(|k| k.certificate_pem.as_deref().map(der_of_pem))
        .collect();
    for der in &certs {
        out.extend(signature_list(&EFI_CERT_X509, &[der.as_slice()]));
    }
    let hashes: BTreeSet<Vec<u8>> = a
        .revoked_images
        .iter()
        .filter_map(|i| inspector::policy::parse_hex(&i.sha256))
        .collect();
    let hs: Vec<&[u8]> = hashes.iter().map(Vec::as_slice).collect();
    out.extend(signature_list(&EFI_CERT_SHA256, &hs));
    out
}

// ---- C header ------------------------------------------------------------------------

fn c_ident(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect()
}

fn c_bytes(out: &mut String, bytes: &[u8]) {
    use std::fmt::Write;
    for (i, b) in bytes.iter().enumerate() {
        if i % 12 == 0 {
            out.push_str("\n    ");
        }
        let _ = write!(out, "0x{b:02x},");
    }
    out.push('\n');
}

/// A C header for MCU bootloaders: per stage, each trusted public key as
/// SubjectPublicKeyInfo DER bytes and its SHA-256 (like MCUboot's
/// `imgtool getpub` / `getpubhash`), and a table per stage.
pub fn c_header(a: &Allowlist) -> String {
    use std::fmt::Write;
    let guard = format!(
        "TOLLGATE_ALLOWLIST_{}_H",
        c_ident(&a.product).to_ascii_uppercase()
    );
    let mut out = String::new();
    let _ = writeln!(
        out,
        "/* Generated by the Tollgate registry from its signed state. Do not edit."
    );
    let _ = writeln!(
        out,
        " * Product: {} ({})",
        a.product.replace("*/", "* /"),
        a.product_name.replace("*/", "* /")
    );
    let _ = writeln!(
        out,
        " * Keys are SubjectPublicKeyInfo DER; hashes are SHA-256 of those bytes. */"
    );
    let _ = writeln!(
        out,
        "#ifndef {guard}\n#define {guard}\n\n#include <stddef.h>\n"
    );
    let _ = writeln!(
        out,
        "struct tollgate_key {{\n    const unsigned char *key;\n    size_t key_len;\n    const unsigned char *hash;\n}};\n"
    );
    for s in &a.stages {
        let st = c_ident(&s.name);
        for (i, k) in s.keys.iter().enumerate() {
            let spki = ParsedCert::from_der(der_of_pem(&k.certificate_pem))
                .map(|c| c.spki_der())
                .unwrap_or_default();
            let hash = DigestAlgorithm::Sha256.hash(&spki);
            let _ = writeln!(
                out,
                "/* {}: {} ({}, {}) */",
                s.name,
                k.subject.replace("*/", "* /"),
                k.vendor,
                k.algorithm
            );
            let _ = write!(
                out,
                "static const unsigned char tollgate_{st}_key{i}[{}] = {{",
                spki.len()
            );
            c_bytes(&mut out, &spki);
            let _ = writeln!(out, "}};");
            let _ = write!(
                out,
                "static const unsigned char tollgate_{st}_key{i}_hash[32] = {{"
            );
            c_bytes(&mut out, &hash);
            let _ = writeln!(out, "}};\n");
        }
        let _ = writeln!(
            out,
            "#define TOLLGATE_{}_KEY_COUNT {}",
            st.to_ascii_uppercase(),
            s.keys.len()
        );
        if s.keys.is_empty() {
            let _ = writeln!(out, "/* stage {}: no trusted key */\n", s.name);
            continue;
        }
        let _ = writeln!(
            out,
            "static const struct tollgate_key tollgate_{st}_keys[{}] = {{",
            s.keys.len()
        );
        for i in 0..s.keys.len() {
            let _ = writeln!(
                out,
                "    {{ tollgate_{st}_key{i}, sizeof tollgate_{st}_key{i}, tollgate_{st}_key{i}_hash }},"
            );
        }
        let _ = writeln!(out, "}};\n");
    }
    // What dbx holds: revoked keys (SHA-256 of their SubjectPublicKeyInfo,
    // when the certificate is known) and revoked images (SHA-256 of the
    // image: below a floor, or whose signature no longer verifies).
    let revoked_keys: BTreeSet<[u8; 32]> = a
        .revoked_keys
        .iter()
        .filter_map(|k| k.certificate_pem.as_deref())
        .filter_map(|pem| ParsedCert::from_der(der_of_pem(pem)).ok())
        .filter_map(|c| <[u8; 32]>::try_from(DigestAlgorithm::Sha256.hash(&c.spki_der())).ok())
        .collect();
    let revoked_images: BTreeSet<[u8; 32]> = a
        .revoked_images
        .iter()
        .filter_map(|i| inspector::policy::parse_hex(&i.sha256))
        .filter_map(|h| <[u8; 32]>::try_from(h).ok())
        .collect();
    for (name, what, set) in [
        (
            "REVOKED_KEY",
            "revoked keys: SHA-256 of each SubjectPublicKeyInfo",
            &revoked_keys,
        ),
        (
            "REVOKED_IMAGE",
            "revoked images (dbx): below a rollback floor, or their signature no longer verifies",
            &revoked_images,
        ),
    ] {
        let _ = writeln!(out, "/* {what} */");
        let _ = writeln!(out, "#define TOLLGATE_{name}_COUNT {}", set.len());
        if set.is_empty() {
            let _ = writeln!(out);
            continue;
        }
        let _ = writeln!(
            out,
            "static const unsigned char tollgate_{}s[{}][32] = {{",
            name.to_ascii_lowercase(),
            set.len()
        );
        for h in set {
            let _ = write!(out, "    {{");
            c_bytes(&mut out, h);
            let _ = writeln!(out, "}},");
        }
        let _ = writeln!(out, "}};\n");
    }
    let _ = writeln!(out, "#endif /* {guard} */");
    out
}

// ---- diff -------------------------------------------------------------------------------

/// What changed between two allowlists of a product.
#[derive(Clone, Debug, Default, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct AllowlistDiff {
    /// `tollgate-allowlist-diff`.
    pub format: String,
    /// Product.
    pub product: String,
    /// What the diff is against: the published baseline, or the export
    /// recorded at a bundle serial (`?since=`), or nothing yet.
    #[serde(default)]
    pub baseline: String,
    /// SHA-256 of the baseline export (none when there is none).
    pub previous_sha256: Option<String>,
    /// SHA-256 of the current export.
    pub current_sha256: String,
    /// `stage: subject (spki sha256)` added.
    pub added_keys: Vec<String>,
    /// Keys removed.
    pub removed_keys: Vec<String>,
    /// `component version sha256` added.
    pub added_images: Vec<String>,
    /// Images removed.
    pub removed_images: Vec<String>,
    /// `component: from -> to`.
    pub floor_changes: Vec<String>,
    /// Revocations added.
    pub added_revocations: Vec<String>,
}

fn key_set(a: &Allowlist) -> BTreeSet<String> {
    a.stages
        .iter()
        .flat_map(|s| {
            s.keys
                .iter()
                .map(move |k| format!("{}: {} ({})", s.name, k.subject, k.spki_sha256))
        })
        .collect()
}

fn image_set(a: &Allowlist) -> BTreeSet<String> {
    a.stages
        .iter()
        .flat_map(|s| {
            s.images
                .iter()
                .map(|i| format!("{} {} {}", i.component, i.version, i.sha256))
        })
        .collect()
}

/// Compares `current` with `previous`.
pub fn diff(
    previous: Option<&Allowlist>,
    current: &Allowlist,
    previous_sha: Option<String>,
    current_sha: String,
) -> AllowlistDiff {
    let empty = Allowlist {
        format: String::new(),
        version: 1,
        product: String::new(),
        product_name: String::new(),
        stages: vec![],
        revoked_keys: vec![],
        revoked_images: vec![],
    };
    let prev = previous.unwrap_or(&empty);
    let (pk, ck) = (key_set(prev), key_set(current));
    let (pi, ci) = (image_set(prev), image_set(current));
    let floors = |a: &Allowlist| -> BTreeMap<String, Option<String>> {
        a.stages
            .iter()
            .flat_map(|s| {
                s.components
                    .iter()
                    .map(|c| (c.name.clone(), c.min_version.clone()))
            })
            .collect()
    };
    let (pf, cf) = (floors(prev), floors(current));
    let mut floor_changes = Vec::new();
    for (name, to) in &cf {
        let from = pf.get(name).cloned().flatten();
        if !pf.contains_key(name) || &from != to {
            floor_changes.push(format!(
                "{name}: {} -> {}",
                from.unwrap_or_else(|| "none".into()),
                to.clone().unwrap_or_else(|| "none".into())
            ));
        }
    }
    let revs = |a: &Allowlist| -> BTreeSet<String> {
        a.revoked_keys
            .iter()
            .map(|r| format!("{} ({})", r.subject, r.reason))
            .collect()
    };
    AllowlistDiff {
        format: "tollgate-allowlist-diff".into(),
        baseline: String::new(),
        product: current.product.clone(),
        previous_sha256: previous_sha,
        current_sha256: current_sha,
        added_keys: ck.difference(&pk).cloned().collect(),
        removed_keys: pk.difference(&ck).cloned().collect(),
        added_images: ci.difference(&pi).cloned().collect(),
        removed_images: pi.difference(&ci).cloned().collect(),
        floor_changes,
        added_revocations: revs(current).difference(&revs(prev)).cloned().collect(),
    }
}
