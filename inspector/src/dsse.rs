//! DSSE envelopes (Dead Simple Signing Envelope, secure-systems-lab/dsse
//! v1.0) signed with ECDSA P-256: the wrapper of station receipts and of
//! the registry's attestations. No I/O; the signing key is a parameter.
//!
//! The signature is over the pre-authentication encoding
//! `PAE(type, body) = "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body`
//! (LEN in ASCII decimal), ECDSA P-256 with SHA-256, DER-encoded: the
//! `ecdsa-sha2-nistp256` scheme of securesystemslib and in-toto.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use p256::ecdsa::signature::{Signer, Verifier};
use p256::ecdsa::{DerSignature, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};

/// The payload type of an in-toto Statement.
pub const IN_TOTO_PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";

/// Most bytes of an envelope's payload this module decodes.
pub const MAX_PAYLOAD_BYTES: usize = 512 * 1024;

/// One signature of an envelope.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Signature {
    /// Which key: the lower-case hex SHA-256 of its SubjectPublicKeyInfo.
    pub keyid: String,
    /// Base64 of the DER ECDSA signature.
    pub sig: String,
}

/// A DSSE envelope.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Envelope {
    /// Base64 of the payload.
    pub payload: String,
    /// What the payload is.
    #[serde(rename = "payloadType")]
    pub payload_type: String,
    /// At least one.
    pub signatures: Vec<Signature>,
}

/// Why an envelope was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum DsseError {
    /// Not base64, too large, or without signatures.
    #[error("malformed DSSE envelope: {0}")]
    Malformed(String),
    /// The payload type is not the expected one.
    #[error("payload type '{found}' is not '{expected}'")]
    PayloadType {
        /// Expected.
        expected: String,
        /// Found.
        found: String,
    },
    /// No signature by the expected key.
    #[error("the envelope carries no signature by key {0}")]
    NoSignatureByKey(String),
    /// The key's signature does not verify.
    #[error(
        "the signature by key {0} does not verify: the envelope was altered or signed by another key"
    )]
    BadSignature(String),
    /// The key is not a P-256 public key.
    #[error("not an ECDSA P-256 public key: {0}")]
    Key(String),
}

/// The pre-authentication encoding.
pub fn pae(payload_type: &str, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len() + payload_type.len() + 32);
    out.extend_from_slice(b"DSSEv1 ");
    out.extend_from_slice(payload_type.len().to_string().as_bytes());
    out.push(b' ');
    out.extend_from_slice(payload_type.as_bytes());
    out.push(b' ');
    out.extend_from_slice(body.len().to_string().as_bytes());
    out.push(b' ');
    out.extend_from_slice(body);
    out
}

/// The key id of a public key: lower-case hex SHA-256 of its SPKI DER.
pub fn keyid(spki_der: &[u8]) -> String {
    crate::digest::hex(&crate::digest::DigestAlgorithm::Sha256.hash(spki_der))
}

/// The SPKI DER of a signing key's public half.
pub fn public_spki(key: &SigningKey) -> Result<Vec<u8>, DsseError> {
    use p256::pkcs8::EncodePublicKey;
    key.verifying_key()
        .to_public_key_der()
        .map(|d| d.as_bytes().to_vec())
        .map_err(|e| DsseError::Key(e.to_string()))
}

/// Signs `body` as `payload_type` with `key`.
pub fn seal(payload_type: &str, body: &[u8], key: &SigningKey) -> Result<Envelope, DsseError> {
    let spki = public_spki(key)?;
    let sig: DerSignature = key.sign(&pae(payload_type, body));
    Ok(seal_with(payload_type, body, &keyid(&spki), sig.as_bytes()))
}

/// An envelope from a signature made elsewhere (the registry's key).
pub fn seal_with(payload_type: &str, body: &[u8], keyid: &str, der_signature: &[u8]) -> Envelope {
    Envelope {
        payload: STANDARD.encode(body),
        payload_type: payload_type.to_string(),
        signatures: vec![Signature {
            keyid: keyid.to_string(),
            sig: STANDARD.encode(der_signature),
        }],
    }
}

impl Envelope {
    /// The key ids that signed it.
    pub fn keyids(&self) -> impl Iterator<Item = &str> {
        self.signatures.iter().map(|s| s.keyid.as_str())
    }

    /// Verifies the signature by the P-256 key `spki_der` (found by its key
    /// id) over the payload of type `payload_type`, and returns the payload.
    pub fn open(&self, payload_type: &str, spki_der: &[u8]) -> Result<Vec<u8>, DsseError> {
        if self.payload_type != payload_type {
            return Err(DsseError::PayloadType {
                expected: payload_type.to_string(),
                found: self.payload_type.chars().take(100).collect(),
            });
        }
        if self.payload.len() > MAX_PAYLOAD_BYTES / 3 * 4 + 4 {
            return Err(DsseError::Malformed(format!(
                "the payload is over {MAX_PAYLOAD_BYTES} bytes"
            )));
        }
        let body = STANDARD
            .decode(self.payload.as_bytes())
            .map_err(|e| DsseError::Malformed(format!("payload: {e}")))?;
        use p256::pkcs8::DecodePublicKey;
        let vk = VerifyingKey::from_public_key_der(spki_der)
            .map_err(|e| DsseError::Key(e.to_string()))?;
        let id = keyid(spki_der);
        let sig = self
            .signatures
            .iter()
            .find(|s| s.keyid == id)
            .ok_or_else(|| DsseError::NoSignatureByKey(id.clone()))?;
        let der = STANDARD
            .decode(sig.sig.as_bytes())
            .map_err(|e| DsseError::Malformed(format!("signature: {e}")))?;
        let sig =
            DerSignature::from_bytes(&der).map_err(|_| DsseError::BadSignature(id.clone()))?;
        vk.verify(&pae(payload_type, &body), &sig)
            .map_err(|_| DsseError::BadSignature(id))?;
        Ok(body)
    }

    /// The SHA-256 of the envelope's payload and signatures (its identity:
    /// pushing the same envelope twice records it once).
    pub fn digest(&self) -> String {
        let mut h = Vec::new();
        h.extend_from_slice(&pae(&self.payload_type, self.payload.as_bytes()));
        for s in &self.signatures {
            h.extend_from_slice(s.keyid.as_bytes());
            h.push(0);
            h.extend_from_slice(s.sig.as_bytes());
            h.push(0);
        }
        crate::digest::hex(&crate::digest::DigestAlgorithm::Sha256.hash(&h))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    fn key() -> SigningKey {
        SigningKey::from_slice(&[7u8; 32]).unwrap()
    }

    /// The PAE example of the DSSE specification (protocol.md).
    #[test]
    fn pae_matches_the_specification() {
        assert_eq!(
            pae("http://example.com/HelloWorld", b"hello world"),
            b"DSSEv1 29 http://example.com/HelloWorld 11 hello world".to_vec()
        );
    }

    #[test]
    fn sealed_envelopes_open_with_the_key_only() {
        let k = key();
        let spki = public_spki(&k).unwrap();
        let env = seal(IN_TOTO_PAYLOAD_TYPE, b"{\"a\":1}", &k).unwrap();
        assert_eq!(env.signatures[0].keyid, keyid(&spki));
        assert_eq!(env.open(IN_TOTO_PAYLOAD_TYPE, &spki).unwrap(), b"{\"a\":1}");
        // Another key: no signature by it.
        let other = SigningKey::from_slice(&[9u8; 32]).unwrap();
        let other_spki = public_spki(&other).unwrap();
        assert!(matches!(
            env.open(IN_TOTO_PAYLOAD_TYPE, &other_spki),
            Err(DsseError::NoSignatureByKey(_))
        ));
        // Altered payload, and a signature moved to another key id.
        let mut altered = env.clone();
        altered.payload = STANDARD.encode(b"{\"a\":2}");
        assert!(matches!(
            altered.open(IN_TOTO_PAYLOAD_TYPE, &spki),
            Err(DsseError::BadSignature(_))
        ));
        let mut forged = seal(IN_TOTO_PAYLOAD_TYPE, b"{\"a\":2}", &other).unwrap();
        forged.signatures[0].keyid = keyid(&spki);
        assert!(matches!(
            forged.open(IN_TOTO_PAYLOAD_TYPE, &spki),
            Err(DsseError::BadSignature(_))
        ));
        // The payload type is signed too.
        let mut retyped = env.clone();
        retyped.payload_type = "text/plain".into();
        assert!(matches!(
            retyped.open(IN_TOTO_PAYLOAD_TYPE, &spki),
            Err(DsseError::PayloadType { .. })
        ));
        assert_ne!(env.digest(), altered.digest());
    }
}
