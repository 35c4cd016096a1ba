//! Signature schemes allowed in a CMS SignerInfo and their verification.
//!
//! Verification uses the RustCrypto crates on a pre-computed digest, so a
//! multi-gigabyte blob signed without signed attributes is hashed once while
//! streaming and never held in memory. Ed25519 (RFC 8419, "pure" EdDSA)
//! cannot be pre-hashed: it needs the signed message itself, which is the
//! small signed-attribute set, or the content up to a limit.

use crate::cert::KeyAlgorithm;
use crate::digest::DigestAlgorithm;
use crate::oids;
use der::{Decode, Sequence};
use signature::hazmat::PrehashVerifier;
use spki::AlgorithmIdentifierOwned;

/// A fully resolved signature scheme.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scheme {
    /// ECDSA over P-256 or P-384 on the SignerInfo digest.
    Ecdsa,
    /// RSASSA-PKCS1-v1_5.
    RsaPkcs1,
    /// RSASSA-PSS with the salt length from the parameters.
    RsaPss {
        /// Salt length in bytes, as declared.
        salt_len: usize,
    },
    /// Ed25519 over the whole message.
    Ed25519,
}

impl std::fmt::Display for Scheme {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Scheme::Ecdsa => f.write_str("ECDSA"),
            Scheme::RsaPkcs1 => f.write_str("RSA PKCS#1 v1.5"),
            Scheme::RsaPss { salt_len } => write!(f, "RSA-PSS (salt {salt_len} bytes)"),
            Scheme::Ed25519 => f.write_str("Ed25519"),
        }
    }
}

/// RSASSA-PSS-params (RFC 4055 section 3.1), with the salt length typed as
/// `u32` because the `pkcs1` crate's `u8` cannot hold OpenSSL's default
/// (maximum) salt for RSA keys above 2048 bits.
#[derive(Sequence)]
struct PssParams {
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    hash: Option<AlgorithmIdentifierOwned>,
    #[asn1(context_specific = "1", tag_mode = "EXPLICIT", optional = "true")]
    mask_gen: Option<AlgorithmIdentifierOwned>,
    #[asn1(context_specific = "2", tag_mode = "EXPLICIT", optional = "true")]
    salt_len: Option<u32>,
    #[asn1(context_specific = "3", tag_mode = "EXPLICIT", optional = "true")]
    trailer_field: Option<u32>,
}

/// Resolves the SignerInfo's signatureAlgorithm against its digest algorithm
/// and the signer's key, rejecting any inconsistency.
pub fn resolve_scheme(
    sig_alg: &AlgorithmIdentifierOwned,
    digest: DigestAlgorithm,
    key: &KeyAlgorithm,
) -> Result<Scheme, String> {
    let oid = sig_alg.oid;
    let hash_bound = match oid {
        oids::ECDSA_WITH_SHA256 | oids::SHA256_WITH_RSA => Some(DigestAlgorithm::Sha256),
        oids::ECDSA_WITH_SHA384 | oids::SHA384_WITH_RSA => Some(DigestAlgorithm::Sha384),
        oids::ECDSA_WITH_SHA512 | oids::SHA512_WITH_RSA => Some(DigestAlgorithm::Sha512),
        oids::ECDSA_WITH_SHA1 | oids::SHA1_WITH_RSA => Some(DigestAlgorithm::Sha1),
        _ => None,
    };
    if let Some(bound) = hash_bound
        && bound != digest
    {
        return Err(format!(
            "signature algorithm {oid} implies {bound} but the digest algorithm is {digest}"
        ));
    }
    match (oid, key) {
        (
            oids::EC_PUBLIC_KEY
            | oids::ECDSA_WITH_SHA1
            | oids::ECDSA_WITH_SHA256
            | oids::ECDSA_WITH_SHA384
            | oids::ECDSA_WITH_SHA512,
            KeyAlgorithm::EcP256 | KeyAlgorithm::EcP384,
        ) => Ok(Scheme::Ecdsa),
        (
            oids::RSA_ENCRYPTION
            | oids::SHA1_WITH_RSA
            | oids::SHA256_WITH_RSA
            | oids::SHA384_WITH_RSA
            | oids::SHA512_WITH_RSA,
            KeyAlgorithm::Rsa { .. },
        ) => Ok(Scheme::RsaPkcs1),
        (oids::RSASSA_PSS, KeyAlgorithm::Rsa { .. }) => {
            let params = sig_alg
                .parameters
                .as_ref()
                .ok_or("RSA-PSS signature without parameters")?;
            let params: PssParams = params
                .decode_as()
                .map_err(|e| format!("malformed RSA-PSS parameters: {e}"))?;
            let pss_hash = match &params.hash {
                Some(h) => DigestAlgorithm::from_oid(&h.oid)
                    .ok_or_else(|| format!("RSA-PSS hash {} is not supported", h.oid))?,
                None => DigestAlgorithm::Sha1,
            };
            if pss_hash != digest {
                return Err(format!(
                    "RSA-PSS hash {pss_hash} differs from the digest algorithm {digest}"
                ));
            }
            let mgf_hash = match &params.mask_gen {
                Some(mgf) if mgf.oid == oids::MGF1 => mgf
                    .parameters
                    .as_ref()
                    .and_then(|p| p.decode_as::<AlgorithmIdentifierOwned>().ok())
                    .and_then(|a| DigestAlgorithm::from_oid(&a.oid))
                    .ok_or("RSA-PSS MGF1 hash is missing or unsupported")?,
                Some(mgf) => {
                    return Err(format!("RSA-PSS mask generation {} is not MGF1", mgf.oid));
                }
                None => DigestAlgorithm::Sha1,
            };
            if mgf_hash != digest {
                return Err(format!(
                    "RSA-PSS MGF1 hash {mgf_hash} differs from the digest algorithm {digest}"
                ));
            }
            if params.trailer_field.unwrap_or(1) != 1 {
                return Err("RSA-PSS trailer field is not 1 (RFC 4055)".into());
            }
            let salt_len = params.salt_len.unwrap_or(20) as usize;
            Ok(Scheme::RsaPss { salt_len })
        }
        (oids::ED25519, KeyAlgorithm::Ed25519) => {
            if sig_alg.parameters.is_some() {
                return Err(
                    "Ed25519 signature algorithm must have absent parameters (RFC 8419)".into(),
                );
            }
            Ok(Scheme::Ed25519)
        }
        (oid, key) => Err(format!(
            "signature algorithm {oid} cannot be used with a {key} key"
        )),
    }
}

/// What the signature covers: a digest for schemes that accept one, or the
/// message itself for Ed25519.
pub struct SignedMessage<'a> {
    /// Digest of the message under the SignerInfo's digest algorithm.
    pub digest: &'a [u8],
    /// The message, when it is available in memory.
    pub message: Option<&'a [u8]>,
}

/// Verifies `signature` by the key in `spki_der`.
pub fn verify(
    scheme: Scheme,
    key: &KeyAlgorithm,
    spki_der: &[u8],
    digest_alg: DigestAlgorithm,
    msg: &SignedMessage<'_>,
    signature: &[u8],
) -> Result<(), String> {
    match (scheme, key) {
        (Scheme::Ecdsa, KeyAlgorithm::EcP256) => {
            use p256::pkcs8::DecodePublicKey;
            let vk = p256::ecdsa::VerifyingKey::from_public_key_der(spki_der)
                .map_err(|e| format!("malformed P-256 public key: {e}"))?;
            let sig = p256::ecdsa::DerSignature::from_bytes(signature)
                .map_err(|_| "malformed ECDSA signature encoding".to_string())?;
            vk.verify_prehash(msg.digest, &sig).map_err(bad_signature)
        }
        (Scheme::Ecdsa, KeyAlgorithm::EcP384) => {
            use p384::pkcs8::DecodePublicKey;
            let vk = p384::ecdsa::VerifyingKey::from_public_key_der(spki_der)
                .map_err(|e| format!("malformed P-384 public key: {e}"))?;
            let sig = p384::ecdsa::DerSignature::from_bytes(signature)
                .map_err(|_| "malformed ECDSA signature encoding".to_string())?;
            vk.verify_prehash(msg.digest, &sig).map_err(bad_signature)
        }
        (Scheme::RsaPkcs1 | Scheme::RsaPss { .. }, KeyAlgorithm::Rsa { .. }) => {
            use rsa::pkcs8::DecodePublicKey;
            let pk = rsa::PublicKey::from_public_key_der(spki_der)
                .map_err(|e| format!("malformed RSA public key: {e}"))?;
            match (scheme, digest_alg) {
                (Scheme::RsaPkcs1, DigestAlgorithm::Sha256) => pk.verify(
                    rsa::Pkcs1v15Sign::new::<sha2::Sha256>(),
                    msg.digest,
                    signature,
                ),
                (Scheme::RsaPkcs1, DigestAlgorithm::Sha384) => pk.verify(
                    rsa::Pkcs1v15Sign::new::<sha2::Sha384>(),
                    msg.digest,
                    signature,
                ),
                (Scheme::RsaPkcs1, DigestAlgorithm::Sha512) => pk.verify(
                    rsa::Pkcs1v15Sign::new::<sha2::Sha512>(),
                    msg.digest,
                    signature,
                ),
                (Scheme::RsaPss { salt_len }, DigestAlgorithm::Sha256) => pk.verify(
                    rsa::Pss::<sha2::Sha256>::new_with_salt(salt_len),
                    msg.digest,
                    signature,
                ),
                (Scheme::RsaPss { salt_len }, DigestAlgorithm::Sha384) => pk.verify(
                    rsa::Pss::<sha2::Sha384>::new_with_salt(salt_len),
                    msg.digest,
                    signature,
                ),
                (Scheme::RsaPss { salt_len }, DigestAlgorithm::Sha512) => pk.verify(
                    rsa::Pss::<sha2::Sha512>::new_with_salt(salt_len),
                    msg.digest,
                    signature,
                ),
                _ => return Err(format!("{scheme} with {digest_alg} is not supported")),
            }
            .map_err(bad_signature)
        }
        (Scheme::Ed25519, KeyAlgorithm::Ed25519) => {
            let message = msg.message.ok_or(
                "Ed25519 without signed attributes signs the content itself, which is larger than the in-memory limit",
            )?;
            let spki = spki::SubjectPublicKeyInfoRef::from_der(spki_der)
                .map_err(|e| format!("malformed Ed25519 public key: {e}"))?;
            let raw: [u8; 32] = spki
                .subject_public_key
                .as_bytes()
                .and_then(|b| b.try_into().ok())
                .ok_or("malformed Ed25519 public key: not 32 bytes")?;
            let vk = ed25519_dalek::VerifyingKey::from_bytes(&raw)
                .map_err(|e| format!("malformed Ed25519 public key: {e}"))?;
            let sig = ed25519_dalek::Signature::from_slice(signature)
                .map_err(|_| "malformed Ed25519 signature (must be 64 bytes)".to_string())?;
            vk.verify_strict(message, &sig).map_err(bad_signature)
        }
        (scheme, key) => Err(format!("{scheme} cannot be verified with a {key} key")),
    }
}

fn bad_signature<E>(_: E) -> String {
    "the signature does not verify with the signer's public key (the signed data was altered, or another key made the signature)".to_string()
}
