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
use spki::ObjectIdentifier;

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

/// Why a signature cannot be checked or does not verify. The messages are
/// the reasons a report shows.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SignatureError {
    /// The signature algorithm names a digest other than the signer's.
    #[error(
        "signature algorithm {algorithm} implies {implied} but the digest algorithm is {digest}"
    )]
    DigestMismatch {
        /// The signatureAlgorithm.
        algorithm: ObjectIdentifier,
        /// The digest it implies.
        implied: DigestAlgorithm,
        /// The SignerInfo's digest algorithm.
        digest: DigestAlgorithm,
    },
    /// RSA-PSS needs its parameters (RFC 4055 section 3.1).
    #[error("RSA-PSS signature without parameters")]
    PssWithoutParameters,
    /// The RSA-PSS parameters do not decode.
    #[error("malformed RSA-PSS parameters: {0}")]
    PssMalformed(String),
    /// The RSA-PSS hash is not one Tollgate accepts.
    #[error("RSA-PSS hash {0} is not supported")]
    PssHashUnsupported(ObjectIdentifier),
    /// The RSA-PSS hash is not the SignerInfo's digest.
    #[error("RSA-PSS hash {pss} differs from the digest algorithm {digest}")]
    PssHashMismatch {
        /// The PSS hash.
        pss: DigestAlgorithm,
        /// The SignerInfo's digest algorithm.
        digest: DigestAlgorithm,
    },
    /// MGF1's hash is absent or unknown.
    #[error("RSA-PSS MGF1 hash is missing or unsupported")]
    PssMgfHashUnsupported,
    /// A mask generation function other than MGF1.
    #[error("RSA-PSS mask generation {0} is not MGF1")]
    PssNotMgf1(ObjectIdentifier),
    /// MGF1's hash is not the SignerInfo's digest.
    #[error("RSA-PSS MGF1 hash {mgf} differs from the digest algorithm {digest}")]
    PssMgfHashMismatch {
        /// The MGF1 hash.
        mgf: DigestAlgorithm,
        /// The SignerInfo's digest algorithm.
        digest: DigestAlgorithm,
    },
    /// RFC 4055 section 3.1: the trailer field is 1.
    #[error("RSA-PSS trailer field is not 1 (RFC 4055)")]
    PssTrailer,
    /// An RSA key restricted to RSA-PSS used for another scheme.
    #[error(
        "the signer's RSA key is restricted to RSA-PSS (its certificate names id-RSASSA-PSS, RFC 4055 section 1.2), so a {scheme} signature by it is refused"
    )]
    PssOnlyKey {
        /// The scheme the signature uses.
        scheme: String,
    },
    /// A PSS signature outside the key's PSS restrictions.
    #[error(
        "the RSA-PSS signature does not meet its key's restrictions: {0} (RFC 4055 section 3.3)"
    )]
    PssKeyRestriction(String),
    /// RFC 8419 section 2.3: Ed25519 has absent parameters.
    #[error("Ed25519 signature algorithm must have absent parameters (RFC 8419)")]
    Ed25519Parameters,
    /// The signature algorithm does not fit the key.
    #[error("signature algorithm {algorithm} cannot be used with a {key} key")]
    AlgorithmKeyMismatch {
        /// The signatureAlgorithm.
        algorithm: ObjectIdentifier,
        /// The key, described.
        key: String,
    },
    /// The signer's public key does not decode.
    #[error("malformed {kind} public key: {detail}")]
    MalformedKey {
        /// P-256, P-384, RSA, Ed25519.
        kind: &'static str,
        /// What the decoder said.
        detail: String,
    },
    /// An ECDSA signature that is not a DER Ecdsa-Sig-Value.
    #[error("malformed ECDSA signature encoding")]
    MalformedEcdsaSignature,
    /// An Ed25519 signature that is not 64 bytes.
    #[error("malformed Ed25519 signature (must be 64 bytes)")]
    MalformedEd25519Signature,
    /// A scheme and digest pair Tollgate does not verify.
    #[error("{scheme} with {digest} is not supported")]
    Unsupported {
        /// The scheme.
        scheme: String,
        /// The digest.
        digest: DigestAlgorithm,
    },
    /// Ed25519 over content too large to hold in memory.
    #[error(
        "Ed25519 without signed attributes signs the content itself, which is larger than the in-memory limit"
    )]
    Ed25519ContentTooLarge,
    /// The scheme cannot be used with the key.
    #[error("{scheme} cannot be verified with a {key} key")]
    SchemeKeyMismatch {
        /// The scheme.
        scheme: String,
        /// The key, described.
        key: String,
    },
    /// The signature is not valid.
    #[error(
        "the signature does not verify with the signer's public key (the signed data was altered, or another key made the signature)"
    )]
    DoesNotVerify,
}

/// Resolves the SignerInfo's signatureAlgorithm against its digest algorithm
/// and the signer's key, rejecting any inconsistency.
pub fn resolve_scheme(
    sig_alg: &AlgorithmIdentifierOwned,
    digest: DigestAlgorithm,
    key: &KeyAlgorithm,
) -> Result<Scheme, SignatureError> {
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
        return Err(SignatureError::DigestMismatch {
            algorithm: oid,
            implied: bound,
            digest,
        });
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
                .ok_or(SignatureError::PssWithoutParameters)?;
            let params: PssParams = params
                .decode_as()
                .map_err(|e: der::Error| SignatureError::PssMalformed(e.to_string()))?;
            let pss_hash = match &params.hash {
                Some(h) => DigestAlgorithm::from_oid(&h.oid)
                    .ok_or(SignatureError::PssHashUnsupported(h.oid))?,
                None => DigestAlgorithm::Sha1,
            };
            if pss_hash != digest {
                return Err(SignatureError::PssHashMismatch {
                    pss: pss_hash,
                    digest,
                });
            }
            let mgf_hash = match &params.mask_gen {
                Some(mgf) if mgf.oid == oids::MGF1 => mgf
                    .parameters
                    .as_ref()
                    .and_then(|p| p.decode_as::<AlgorithmIdentifierOwned>().ok())
                    .and_then(|a| DigestAlgorithm::from_oid(&a.oid))
                    .ok_or(SignatureError::PssMgfHashUnsupported)?,
                Some(mgf) => {
                    return Err(SignatureError::PssNotMgf1(mgf.oid));
                }
                None => DigestAlgorithm::Sha1,
            };
            if mgf_hash != digest {
                return Err(SignatureError::PssMgfHashMismatch {
                    mgf: mgf_hash,
                    digest,
                });
            }
            if params.trailer_field.unwrap_or(1) != 1 {
                return Err(SignatureError::PssTrailer);
            }
            let salt_len = params.salt_len.unwrap_or(20) as usize;
            Ok(Scheme::RsaPss { salt_len })
        }
        (oids::ED25519, KeyAlgorithm::Ed25519) => {
            if sig_alg.parameters.is_some() {
                return Err(SignatureError::Ed25519Parameters);
            }
            Ok(Scheme::Ed25519)
        }
        (oid, key) => Err(SignatureError::AlgorithmKeyMismatch {
            algorithm: oid,
            key: key.to_string(),
        }),
    }
}

/// [`resolve_scheme`] for a signature by `cert`'s key, honouring the key's
/// own restrictions: a key whose SubjectPublicKeyInfo names id-RSASSA-PSS
/// may make RSA-PSS signatures only, and when it carries RSASSA-PSS-params
/// the signature must use the same hash and MGF1 hash and a salt at least
/// as long (RFC 4055 sections 1.2 and 3.3).
pub fn resolve_scheme_for(
    sig_alg: &AlgorithmIdentifierOwned,
    digest: DigestAlgorithm,
    cert: &crate::cert::ParsedCert,
) -> Result<Scheme, SignatureError> {
    let scheme = resolve_scheme(sig_alg, digest, &cert.key_algorithm())?;
    let key_alg = &cert
        .cert
        .tbs_certificate()
        .subject_public_key_info()
        .algorithm;
    if key_alg.oid != oids::RSASSA_PSS {
        return Ok(scheme);
    }
    let Scheme::RsaPss { salt_len } = scheme else {
        return Err(SignatureError::PssOnlyKey {
            scheme: scheme.to_string(),
        });
    };
    let Some(params) = key_alg.parameters.as_ref() else {
        return Ok(scheme);
    };
    let restrict = |what: String| SignatureError::PssKeyRestriction(what);
    let key: PssParams = params.decode_as().map_err(|e: der::Error| {
        restrict(format!("the key's RSA-PSS parameters are malformed ({e})"))
    })?;
    let key_hash = match &key.hash {
        Some(h) => DigestAlgorithm::from_oid(&h.oid)
            .ok_or_else(|| restrict(format!("the key names the unsupported hash {}", h.oid)))?,
        None => DigestAlgorithm::Sha1,
    };
    if key_hash != digest {
        return Err(restrict(format!(
            "the key allows {key_hash} only, the signature uses {digest}"
        )));
    }
    let key_mgf = match &key.mask_gen {
        Some(mgf) if mgf.oid == oids::MGF1 => mgf
            .parameters
            .as_ref()
            .and_then(|p| p.decode_as::<AlgorithmIdentifierOwned>().ok())
            .and_then(|a| DigestAlgorithm::from_oid(&a.oid))
            .ok_or_else(|| restrict("the key's MGF1 hash is unsupported".into()))?,
        Some(mgf) => {
            return Err(restrict(format!(
                "the key's mask generation {} is not MGF1",
                mgf.oid
            )));
        }
        None => DigestAlgorithm::Sha1,
    };
    // resolve_scheme has already required the signature's MGF1 hash to be
    // its digest.
    if key_mgf != digest {
        return Err(restrict(format!(
            "the key allows MGF1 with {key_mgf} only, the signature uses {digest}"
        )));
    }
    let min_salt = key.salt_len.unwrap_or(20) as usize;
    if salt_len < min_salt {
        return Err(restrict(format!(
            "salt of {salt_len} bytes, below the key's minimum of {min_salt}"
        )));
    }
    Ok(scheme)
}

/// What the signature covers: a digest for schemes that accept one, or the
/// message itself for Ed25519.
pub struct SignedMessage<'a> {
    /// Digest of the message under the SignerInfo's digest algorithm.
    pub digest: &'a [u8],
    /// The message, when it is available in memory.
    pub message: Option<&'a [u8]>,
}

/// ECDSA over a message in memory (the DER of the signed attributes, in the
/// normal case) by ring, whose P-256/P-384 code is the fast one; `None`
/// where ring has no algorithm for the combination (SHA-512, a compressed
/// point, no message), and the RustCrypto path below decides. The key and
/// signature are first parsed by RustCrypto exactly as on that path, so a
/// malformed one gets the same reason either way; ring only does the
/// arithmetic.
fn verify_ecdsa_with_ring(
    scheme: Scheme,
    key: &KeyAlgorithm,
    spki_der: &[u8],
    digest_alg: DigestAlgorithm,
    msg: &SignedMessage<'_>,
    signature: &[u8],
) -> Option<Result<(), SignatureError>> {
    use ring::signature as rs;
    let message = msg.message?;
    let algorithm: &dyn rs::VerificationAlgorithm = match (scheme, key, digest_alg) {
        (Scheme::Ecdsa, KeyAlgorithm::EcP256, DigestAlgorithm::Sha256) => {
            &rs::ECDSA_P256_SHA256_ASN1
        }
        (Scheme::Ecdsa, KeyAlgorithm::EcP256, DigestAlgorithm::Sha384) => {
            &rs::ECDSA_P256_SHA384_ASN1
        }
        (Scheme::Ecdsa, KeyAlgorithm::EcP384, DigestAlgorithm::Sha256) => {
            &rs::ECDSA_P384_SHA256_ASN1
        }
        (Scheme::Ecdsa, KeyAlgorithm::EcP384, DigestAlgorithm::Sha384) => {
            &rs::ECDSA_P384_SHA384_ASN1
        }
        _ => return None,
    };
    // The message must be the one whose digest the caller computed.
    if digest_alg.hash(message).as_slice() != msg.digest {
        return None;
    }
    let spki = spki::SubjectPublicKeyInfoRef::try_from(spki_der).ok()?;
    let point = spki.subject_public_key.as_bytes()?;
    if point.first() != Some(&0x04) {
        return None;
    }
    let parsed = match key {
        KeyAlgorithm::EcP256 => {
            use p256::pkcs8::DecodePublicKey;
            p256::ecdsa::VerifyingKey::from_public_key_der(spki_der)
                .map(|_| ())
                .map_err(|e| SignatureError::MalformedKey {
                    kind: "P-256",
                    detail: e.to_string(),
                })
                .and_then(|()| {
                    p256::ecdsa::DerSignature::from_bytes(signature)
                        .map(|_| ())
                        .map_err(|_| SignatureError::MalformedEcdsaSignature)
                })
        }
        _ => {
            use p384::pkcs8::DecodePublicKey;
            p384::ecdsa::VerifyingKey::from_public_key_der(spki_der)
                .map(|_| ())
                .map_err(|e| SignatureError::MalformedKey {
                    kind: "P-384",
                    detail: e.to_string(),
                })
                .and_then(|()| {
                    p384::ecdsa::DerSignature::from_bytes(signature)
                        .map(|_| ())
                        .map_err(|_| SignatureError::MalformedEcdsaSignature)
                })
        }
    };
    if let Err(e) = parsed {
        return Some(Err(e));
    }
    Some(
        rs::UnparsedPublicKey::new(algorithm, point)
            .verify(message, signature)
            .map_err(bad_signature),
    )
}

/// Verifies `signature` by the key in `spki_der`.
pub fn verify(
    scheme: Scheme,
    key: &KeyAlgorithm,
    spki_der: &[u8],
    digest_alg: DigestAlgorithm,
    msg: &SignedMessage<'_>,
    signature: &[u8],
) -> Result<(), SignatureError> {
    if let Some(fast) = verify_ecdsa_with_ring(scheme, key, spki_der, digest_alg, msg, signature) {
        return fast;
    }
    match (scheme, key) {
        (Scheme::Ecdsa, KeyAlgorithm::EcP256) => {
            use p256::pkcs8::DecodePublicKey;
            let vk = p256::ecdsa::VerifyingKey::from_public_key_der(spki_der).map_err(|e| {
                SignatureError::MalformedKey {
                    kind: "P-256",
                    detail: e.to_string(),
                }
            })?;
            let sig = p256::ecdsa::DerSignature::from_bytes(signature)
                .map_err(|_| SignatureError::MalformedEcdsaSignature)?;
            vk.verify_prehash(msg.digest, &sig).map_err(bad_signature)
        }
        (Scheme::Ecdsa, KeyAlgorithm::EcP384) => {
            use p384::pkcs8::DecodePublicKey;
            let vk = p384::ecdsa::VerifyingKey::from_public_key_der(spki_der).map_err(|e| {
                SignatureError::MalformedKey {
                    kind: "P-384",
                    detail: e.to_string(),
                }
            })?;
            let sig = p384::ecdsa::DerSignature::from_bytes(signature)
                .map_err(|_| SignatureError::MalformedEcdsaSignature)?;
            vk.verify_prehash(msg.digest, &sig).map_err(bad_signature)
        }
        (Scheme::RsaPkcs1 | Scheme::RsaPss { .. }, KeyAlgorithm::Rsa { .. }) => {
            // The RSAPublicKey inside the SPKI, whether the SPKI names
            // rsaEncryption or id-RSASSA-PSS (RFC 4055 section 1.2; the
            // `rsa` crate's SPKI decoder knows only the first; the key's
            // PSS restrictions are enforced by `resolve_scheme_for`).
            use rsa::pkcs1::DecodeRsaPublicKey;
            let malformed = |detail: String| SignatureError::MalformedKey {
                kind: "RSA",
                detail,
            };
            let spki = spki::SubjectPublicKeyInfoRef::try_from(spki_der)
                .map_err(|e| malformed(e.to_string()))?;
            let key_bits = spki
                .subject_public_key
                .as_bytes()
                .ok_or_else(|| malformed("the key's bit string has unused bits".into()))?;
            let pk =
                rsa::PublicKey::from_pkcs1_der(key_bits).map_err(|e| malformed(e.to_string()))?;
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
                _ => {
                    return Err(SignatureError::Unsupported {
                        scheme: scheme.to_string(),
                        digest: digest_alg,
                    });
                }
            }
            .map_err(bad_signature)
        }
        (Scheme::Ed25519, KeyAlgorithm::Ed25519) => {
            let message = msg.message.ok_or(SignatureError::Ed25519ContentTooLarge)?;
            let spki = spki::SubjectPublicKeyInfoRef::from_der(spki_der).map_err(|e| {
                SignatureError::MalformedKey {
                    kind: "Ed25519",
                    detail: e.to_string(),
                }
            })?;
            let raw: [u8; 32] = spki
                .subject_public_key
                .as_bytes()
                .and_then(|b| b.try_into().ok())
                .ok_or(SignatureError::MalformedKey {
                    kind: "Ed25519",
                    detail: "not 32 bytes".into(),
                })?;
            let vk = ed25519_dalek::VerifyingKey::from_bytes(&raw).map_err(|e| {
                SignatureError::MalformedKey {
                    kind: "Ed25519",
                    detail: e.to_string(),
                }
            })?;
            let sig = ed25519_dalek::Signature::from_slice(signature)
                .map_err(|_| SignatureError::MalformedEd25519Signature)?;
            vk.verify_strict(message, &sig).map_err(bad_signature)
        }
        (scheme, key) => Err(SignatureError::SchemeKeyMismatch {
            scheme: scheme.to_string(),
            key: key.to_string(),
        }),
    }
}

fn bad_signature<E>(_: E) -> SignatureError {
    SignatureError::DoesNotVerify
}
