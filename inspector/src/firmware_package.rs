//! RFC 4108 firmware packages (issue 14, item 2): CMS-protected firmware
//! whose eContentType is id-ct-firmwarePackage and whose signed attributes
//! name the package: `firmwarePackageID` (the package OID and its version
//! number, and optionally a "stale" version number: once this package is
//! accepted, packages at or below it are stale, RFC 4108 section 2.2.1),
//! and `targetHardwareIDs` (section 2.2.2).
//!
//! The `firmware-package` check maps the package OID to the component
//! procurement registered it for (`firmware_package_oid`), takes the
//! version from the vendor's signed version number (`N` is the semantic
//! version `N.0.0`) and requires the claim to match, refuses a package at
//! or below its own stale version, and reports the stale version as the
//! floor the vendor asserts. Legacy (octet-string) identifiers are
//! refused: they cannot be compared. No I/O.

use crate::cms;
use crate::oids;
use crate::policy::Vendor;
use crate::report::{Check, CheckId};
use ::cms::signed_data::SignerInfo;
use const_oid::ObjectIdentifier;
use der::{Any, Tag, Tagged};

/// An OID in dotted form, checked and normalised (for the registry, which
/// records package identifiers).
pub fn parse_oid(s: &str) -> Result<String, String> {
    ObjectIdentifier::new(s.trim())
        .map(|o| o.to_string())
        .map_err(|e| format!("'{s}' is not an OID: {e}"))
}

/// The package OID and stale version number of a signature, when it is an
/// RFC 4108 firmware package that signs one.
pub fn stale_of(signature: &[u8], limits: &crate::Limits) -> Option<(String, u64)> {
    let p = crate::cms::parse(signature, limits).ok()?;
    if p.content_type() != oids::FIRMWARE_PACKAGE {
        return None;
    }
    let (id, _) = package_id(p.signers().next()?).ok()?;
    id.stale.map(|s| (id.oid.to_string(), s))
}

/// The targetHardwareIDs of a signature, when it is an RFC 4108 package
/// that names them (dotted OIDs).
pub fn target_hardware_of(signature: &[u8], limits: &crate::Limits) -> Vec<String> {
    let Ok(p) = crate::cms::parse(signature, limits) else {
        return Vec::new();
    };
    if p.content_type() != oids::FIRMWARE_PACKAGE {
        return Vec::new();
    }
    p.signers()
        .next()
        .and_then(|si| package_id(si).ok())
        .map(|(_, hw)| hw.iter().map(ToString::to_string).collect())
        .unwrap_or_default()
}

/// A firmwarePackageID, the preferred form.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PackageId {
    /// fwPkgID.
    pub oid: ObjectIdentifier,
    /// verNum.
    pub version: u64,
    /// The stale version number, if given.
    pub stale: Option<u64>,
}

/// Reads the firmwarePackageID and targetHardwareIDs of one signer.
pub fn package_id(si: &SignerInfo) -> Result<(PackageId, Vec<ObjectIdentifier>), String> {
    let attrs = si
        .signed_attrs
        .as_ref()
        .ok_or("a firmware package must carry signed attributes")?;
    let value = cms::single_attribute(attrs, oids::ATTR_FIRMWARE_PACKAGE_ID)
        .map_err(|e| e.to_string())?
        .ok_or("the firmware package has no firmwarePackageID signed attribute")?;
    let fields: Vec<Any> = value
        .decode_as()
        .map_err(|e| format!("firmwarePackageID is not a SEQUENCE: {e}"))?;
    let mut it = fields.iter();
    let name = it.next().ok_or("firmwarePackageID has no name")?;
    if name.tag() != Tag::Sequence {
        return Err(
            "firmwarePackageID uses a legacy (octet-string) package name, which cannot be compared; only the preferred form (OID and version number) is accepted".into(),
        );
    }
    let parts: Vec<Any> = name
        .decode_as()
        .map_err(|e| format!("firmwarePackageID name: {e}"))?;
    let (Some(oid), Some(ver), None) = (parts.first(), parts.get(1), parts.get(2)) else {
        return Err("firmwarePackageID name must be (fwPkgID, verNum)".into());
    };
    let oid: ObjectIdentifier = oid
        .decode_as()
        .map_err(|e| format!("firmwarePackageID fwPkgID: {e}"))?;
    let version: u64 = ver
        .decode_as()
        .map_err(|e| format!("firmwarePackageID verNum: {e}"))?;
    let stale = match it.next() {
        None => None,
        Some(s) if s.tag() == Tag::Integer => Some(
            s.decode_as::<u64>()
                .map_err(|e| format!("firmwarePackageID stale version: {e}"))?,
        ),
        Some(_) => {
            return Err(
                "firmwarePackageID uses a legacy (octet-string) stale version, which cannot be compared".into(),
            );
        }
    };
    if it.next().is_some() {
        return Err("firmwarePackageID has trailing fields".into());
    }
    let hardware = match cms::single_attribute(attrs, oids::ATTR_TARGET_HARDWARE_IDS)
        .map_err(|e| e.to_string())?
    {
        None => Vec::new(),
        Some(v) => v
            .decode_as::<Vec<ObjectIdentifier>>()
            .map_err(|e| format!("targetHardwareIDs: {e}"))?,
    };
    Ok((
        PackageId {
            oid,
            version,
            stale,
        },
        hardware,
    ))
}

/// The `firmware-package` check of a SignedData whose content type is
/// id-ct-firmwarePackage, and the version source when it passes.
pub fn check(
    vendor: &Vendor,
    component: &str,
    claimed: &str,
    si: Option<&SignerInfo>,
) -> (Check, Option<String>) {
    let fail = |m: String| (Check::fail(CheckId::FirmwarePackage, m), None);
    let Some(si) = si else {
        return fail("the firmware package has no signer".into());
    };
    let (id, hardware) = match package_id(si) {
        Ok(x) => x,
        Err(e) => return fail(e),
    };
    let oid = id.oid.to_string();
    let owner = vendor
        .components
        .iter()
        .find(|c| c.firmware_package_oid.as_deref() == Some(oid.as_str()));
    match owner {
        None => {
            return fail(format!(
                "the package identifier {oid} is not registered for any component of vendor '{}'",
                vendor.id
            ));
        }
        Some(c) if c.name != component => {
            return fail(format!(
                "the package identifier {oid} is component '{}', not '{component}'",
                c.name
            ));
        }
        Some(_) => {}
    }
    let signed = semver::Version::new(id.version, 0, 0);
    if semver::Version::parse(claimed).ok() != Some(signed.clone()) {
        return fail(format!(
            "the vendor signed version number {} ({signed}) in the package identifier, not the claimed {claimed}",
            id.version
        ));
    }
    if let Some(stale) = id.stale
        && id.version <= stale
    {
        return fail(format!(
            "the package declares itself stale: its version {} is at or below its own stale version {stale}",
            id.version
        ));
    }
    let floor = id
        .stale
        .map(|s| format!("; the vendor asserts versions at or below {s} are stale"))
        .unwrap_or_default();
    let hw = if hardware.is_empty() {
        String::new()
    } else {
        format!(
            "; for hardware {}",
            hardware
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    (
        Check::pass(
            CheckId::FirmwarePackage,
            format!(
                "RFC 4108 firmware package {oid} version {} is component '{component}' {signed}{floor}{hw}",
                id.version
            ),
        ),
        Some(format!(
            "vendor-signed firmware package identifier {oid} version {}",
            id.version
        )),
    )
}
