//! Object identifiers used by the verification core, with their sources.

use const_oid::ObjectIdentifier as Oid;

/// id-signedData (RFC 5652 section 5.1).
pub const SIGNED_DATA: Oid = Oid::new_unwrap("1.2.840.113549.1.7.2");
/// id-data (RFC 5652 section 4).
pub const DATA: Oid = Oid::new_unwrap("1.2.840.113549.1.7.1");
/// id-ct-firmwarePackage (RFC 4108 section 2.1.1).
pub const FIRMWARE_PACKAGE: Oid = Oid::new_unwrap("1.2.840.113549.1.9.16.1.16");
/// id-aa-firmwarePackageID (RFC 4108 section 2.2.1).
pub const ATTR_FIRMWARE_PACKAGE_ID: Oid = Oid::new_unwrap("1.2.840.113549.1.9.16.2.35");
/// id-aa-targetHardwareIDs (RFC 4108 section 2.2.2).
pub const ATTR_TARGET_HARDWARE_IDS: Oid = Oid::new_unwrap("1.2.840.113549.1.9.16.2.36");
/// id-ct-TSTInfo (RFC 3161 section 2.4.2).
pub const TST_INFO: Oid = Oid::new_unwrap("1.2.840.113549.1.9.16.1.4");
/// id-contentType signed attribute (RFC 5652 section 11.1).
pub const ATTR_CONTENT_TYPE: Oid = Oid::new_unwrap("1.2.840.113549.1.9.3");
/// id-messageDigest signed attribute (RFC 5652 section 11.2).
pub const ATTR_MESSAGE_DIGEST: Oid = Oid::new_unwrap("1.2.840.113549.1.9.4");
/// id-signingTime signed attribute (RFC 5652 section 11.3); self-asserted, never trusted as time.
pub const ATTR_SIGNING_TIME: Oid = Oid::new_unwrap("1.2.840.113549.1.9.5");
/// id-aa-timeStampToken unsigned attribute (RFC 3161 appendix A).
pub const ATTR_TIMESTAMP_TOKEN: Oid = Oid::new_unwrap("1.2.840.113549.1.9.16.2.14");
/// id-aa-signingCertificate (RFC 2634 / RFC 5035), ESSCertID with SHA-1.
pub const ATTR_SIGNING_CERTIFICATE: Oid = Oid::new_unwrap("1.2.840.113549.1.9.16.2.12");
/// id-aa-signingCertificateV2 (RFC 5035), ESSCertIDv2.
pub const ATTR_SIGNING_CERTIFICATE_V2: Oid = Oid::new_unwrap("1.2.840.113549.1.9.16.2.47");

/// SHA-1 (RFC 3279).
pub const SHA1: Oid = Oid::new_unwrap("1.3.14.3.2.26");
/// SHA-256 (RFC 5754).
pub const SHA256: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.2.1");
/// SHA-384 (RFC 5754).
pub const SHA384: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.2.2");
/// SHA-512 (RFC 5754).
pub const SHA512: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.2.3");

/// rsaEncryption (RFC 8017), used as both key and signature algorithm in CMS.
pub const RSA_ENCRYPTION: Oid = Oid::new_unwrap("1.2.840.113549.1.1.1");
/// sha1WithRSAEncryption.
pub const SHA1_WITH_RSA: Oid = Oid::new_unwrap("1.2.840.113549.1.1.5");
/// sha256WithRSAEncryption.
pub const SHA256_WITH_RSA: Oid = Oid::new_unwrap("1.2.840.113549.1.1.11");
/// sha384WithRSAEncryption.
pub const SHA384_WITH_RSA: Oid = Oid::new_unwrap("1.2.840.113549.1.1.12");
/// sha512WithRSAEncryption.
pub const SHA512_WITH_RSA: Oid = Oid::new_unwrap("1.2.840.113549.1.1.13");
/// id-RSASSA-PSS (RFC 4055).
pub const RSASSA_PSS: Oid = Oid::new_unwrap("1.2.840.113549.1.1.10");
/// id-mgf1 (RFC 8017).
pub const MGF1: Oid = Oid::new_unwrap("1.2.840.113549.1.1.8");
/// id-ecPublicKey (RFC 5480).
pub const EC_PUBLIC_KEY: Oid = Oid::new_unwrap("1.2.840.10045.2.1");
/// secp256r1 / P-256 (RFC 5480).
pub const SECP256R1: Oid = Oid::new_unwrap("1.2.840.10045.3.1.7");
/// secp384r1 / P-384 (RFC 5480).
pub const SECP384R1: Oid = Oid::new_unwrap("1.3.132.0.34");
/// ecdsa-with-SHA1.
pub const ECDSA_WITH_SHA1: Oid = Oid::new_unwrap("1.2.840.10045.4.1");
/// ecdsa-with-SHA256 (RFC 5758).
pub const ECDSA_WITH_SHA256: Oid = Oid::new_unwrap("1.2.840.10045.4.3.2");
/// ecdsa-with-SHA384 (RFC 5758).
pub const ECDSA_WITH_SHA384: Oid = Oid::new_unwrap("1.2.840.10045.4.3.3");
/// ecdsa-with-SHA512 (RFC 5758).
pub const ECDSA_WITH_SHA512: Oid = Oid::new_unwrap("1.2.840.10045.4.3.4");
/// id-Ed25519 (RFC 8410, RFC 8419 for CMS).
pub const ED25519: Oid = Oid::new_unwrap("1.3.101.112");

/// id-kp-serverAuth (RFC 5280).
pub const KP_SERVER_AUTH: Oid = Oid::new_unwrap("1.3.6.1.5.5.7.3.1");
/// id-kp-clientAuth (RFC 5280).
pub const KP_CLIENT_AUTH: Oid = Oid::new_unwrap("1.3.6.1.5.5.7.3.2");
/// id-kp-codeSigning (RFC 5280).
pub const KP_CODE_SIGNING: Oid = Oid::new_unwrap("1.3.6.1.5.5.7.3.3");
/// id-kp-timeStamping (RFC 5280, RFC 3161 section 2.3).
pub const KP_TIME_STAMPING: Oid = Oid::new_unwrap("1.3.6.1.5.5.7.3.8");
/// anyExtendedKeyUsage (RFC 5280).
pub const ANY_EKU: Oid = Oid::new_unwrap("2.5.29.37.0");

/// A digest or signature algorithm's name, with its OID: reasons name
/// algorithms in words (`SHA-224 (2.16.840.1.101.3.4.2.4)`).
pub fn algorithm_name(oid: &Oid) -> String {
    let name = match oid.to_string().as_str() {
        "1.2.840.113549.2.5" => "MD5",
        "1.3.14.3.2.26" => "SHA-1",
        "2.16.840.1.101.3.4.2.1" => "SHA-256",
        "2.16.840.1.101.3.4.2.2" => "SHA-384",
        "2.16.840.1.101.3.4.2.3" => "SHA-512",
        "2.16.840.1.101.3.4.2.4" => "SHA-224",
        "2.16.840.1.101.3.4.2.5" => "SHA-512/224",
        "2.16.840.1.101.3.4.2.6" => "SHA-512/256",
        "2.16.840.1.101.3.4.2.7" => "SHA3-224",
        "2.16.840.1.101.3.4.2.8" => "SHA3-256",
        "2.16.840.1.101.3.4.2.9" => "SHA3-384",
        "2.16.840.1.101.3.4.2.10" => "SHA3-512",
        "2.16.840.1.101.3.4.2.11" => "SHAKE128",
        "2.16.840.1.101.3.4.2.12" => "SHAKE256",
        "1.2.156.10197.1.401" => "SM3",
        _ => return format!("with OID {oid} (unknown to Tollgate)"),
    };
    format!("{name} ({oid})")
}

#[cfg(test)]
mod tests {
    #[test]
    fn algorithms_are_named_in_words() {
        let sha224 = const_oid::ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.4");
        assert_eq!(
            super::algorithm_name(&sha224),
            "SHA-224 (2.16.840.1.101.3.4.2.4)"
        );
        let odd = const_oid::ObjectIdentifier::new_unwrap("1.2.3.4");
        assert!(super::algorithm_name(&odd).contains("unknown"));
    }
}
