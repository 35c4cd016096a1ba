//! Sigstore trust material: trusted roots (Fulcio CAs, Rekor logs, CT
//! logs, TSAs) and each vendor's keyless identities and public keys. The
//! trust policy builds these; `crate::sigstore` verifies bundles with them.

use crate::digest::{DigestAlgorithm, hex};
use sigstore_types::DerPublicKey;
use sigstore_verify::Verifier;

/// Why Sigstore trust material is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SigstoreTrustError {
    /// The trusted root is not JSON.
    #[error("not JSON: {0}")]
    NotJson(String),
    /// The document's mediaType is not a trusted root's.
    #[error("mediaType '{0}' is not a Sigstore trusted root")]
    MediaType(String),
    /// A root with nothing to verify against.
    #[error("the trusted root lists no transparency log and no timestamp authority")]
    Empty,
    /// The Sigstore parser refused the document.
    #[error("not a Sigstore trusted root: {0}")]
    NotTrustedRoot(String),
    /// The verifier cannot use the root.
    #[error("unusable Sigstore trusted root: {0}")]
    Unusable(String),
    /// An identity needs its OIDC issuer.
    #[error("issuer must not be empty")]
    EmptyIssuer,
    /// An identity's SAN regular expression does not compile.
    #[error("san_regex '{pattern}' is not a valid regular expression: {detail}")]
    BadRegex {
        /// The expression.
        pattern: String,
        /// The compiler's message.
        detail: String,
    },
    /// Exactly one of `san` and `san_regex`.
    #[error("give exactly one of 'san' or 'san_regex'")]
    SanChoice,
    /// A pattern that any signer could satisfy (`.*`, `.+`, or an open
    /// prefix of a namespace anyone can register in).
    #[error(
        "san_regex '{pattern}' would accept anyone: it matches '{example}'; anchor it to the vendor's own project or account"
    )]
    MatchesAnyone {
        /// The expression.
        pattern: String,
        /// A stranger's identity it matched.
        example: String,
    },
    /// A vendor key that is not a PEM public key.
    #[error("not a PEM public key: {0}")]
    NotPublicKey(String),
}

/// A named Sigstore trusted root (Fulcio CAs, Rekor keys, CT logs, TSAs).
pub struct SigstoreRoot {
    /// Name from the policy (`public-good`, `acme-private`).
    pub name: String,
    /// A verifier prepared for this root.
    pub verifier: Verifier,
    /// The key IDs of its transparency logs (to tell which root a bundle
    /// belongs to when explaining a failure).
    pub log_ids: Vec<Vec<u8>>,
}

impl std::fmt::Debug for SigstoreRoot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigstoreRoot")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl SigstoreRoot {
    /// Parses a `trusted_root.json` and prepares its verifier.
    pub fn from_json(name: &str, json: &str) -> Result<Self, SigstoreTrustError> {
        use SigstoreTrustError as E;
        // The parser below is lenient; a document without the trusted-root
        // media type, or without any transparency log or TSA, cannot verify anything
        // and is refused here rather than failing every bundle later.
        let v: serde_json::Value =
            serde_json::from_str(json).map_err(|e| E::NotJson(e.to_string()))?;
        let media = v
            .get("mediaType")
            .and_then(|m| m.as_str())
            .unwrap_or_default();
        if !media.starts_with("application/vnd.dev.sigstore.trustedroot") {
            return Err(E::MediaType(media.to_string()));
        }
        let listed = |k: &str| {
            v.get(k)
                .and_then(|t| t.as_array())
                .is_some_and(|t| !t.is_empty())
        };
        if !listed("tlogs") && !listed("timestampAuthorities") {
            return Err(E::Empty);
        }
        let root = sigstore_trust_root::TrustedRoot::from_json(json)
            .map_err(|e| E::NotTrustedRoot(e.to_string()))?;
        // The CA and TSA certificates' own signatures are the same for every
        // bundle: let the verifier remember them (see sigstore_memo).
        crate::sigstore_memo::install();
        let certs = root_certificates(&v);
        crate::sigstore_memo::register_trusted_certificates(certs.iter().map(Vec::as_slice));
        let verifier = Verifier::new(&root).map_err(|e| E::Unusable(e.to_string()))?;
        let log_ids = v
            .get("tlogs")
            .and_then(|t| t.as_array())
            .into_iter()
            .flatten()
            .filter_map(|t| t.pointer("/logId/keyId").and_then(|k| k.as_str()))
            .filter_map(|k| {
                use base64::Engine;
                base64::engine::general_purpose::STANDARD.decode(k).ok()
            })
            .collect();
        Ok(SigstoreRoot {
            log_ids,
            name: name.to_string(),
            verifier,
        })
    }
}

/// The DER certificates of a trusted root's certificate authorities and
/// timestamp authorities (`certChain.certificates[].rawBytes`).
fn root_certificates(v: &serde_json::Value) -> Vec<Vec<u8>> {
    use base64::Engine;
    ["certificateAuthorities", "timestampAuthorities"]
        .iter()
        .filter_map(|k| v.get(*k).and_then(|a| a.as_array()))
        .flatten()
        .filter_map(|a| {
            a.pointer("/certChain/certificates")
                .and_then(|c| c.as_array())
        })
        .flatten()
        .filter_map(|c| c.get("rawBytes").and_then(|r| r.as_str()))
        .filter_map(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
        .collect()
}

/// How a keyless identity is matched.
#[derive(Clone, Debug)]
pub enum SanMatcher {
    /// Equal to this string.
    Exact(String),
    /// Matches this regular expression, anchored at both ends.
    Regex(regex::Regex),
}

/// A keyless identity: OIDC issuer plus certificate SAN.
#[derive(Clone, Debug)]
pub struct SigstoreIdentity {
    /// OIDC issuer (exact).
    pub issuer: String,
    /// SAN matcher.
    pub san: SanMatcher,
}

impl SigstoreIdentity {
    /// Builds an identity; a regular expression is anchored at both ends.
    pub fn new(
        issuer: &str,
        san: Option<&str>,
        san_regex: Option<&str>,
    ) -> Result<Self, SigstoreTrustError> {
        if issuer.trim().is_empty() {
            return Err(SigstoreTrustError::EmptyIssuer);
        }
        let san = match (san, san_regex) {
            (Some(s), None) if !s.is_empty() => SanMatcher::Exact(s.to_string()),
            (None, Some(r)) => {
                let anchored = format!("^(?:{r})$");
                let re = regex::RegexBuilder::new(&anchored)
                    .size_limit(1 << 20)
                    .build()
                    .map_err(|e| SigstoreTrustError::BadRegex {
                        pattern: r.to_string(),
                        detail: e.to_string(),
                    })?;
                // Identities strangers can obtain from public issuers: a
                // pattern matching one of them would accept anyone.
                const STRANGERS: [&str; 6] = [
                    "x",
                    "attacker@example.com",
                    "https://attacker.example/release.yml@refs/heads/main",
                    "https://github.com/attacker/attacker/.github/workflows/release.yml@refs/heads/main",
                    "https://gitlab.com/attacker/attacker//.gitlab-ci.yml@refs/heads/main",
                    "attacker@gmail.com",
                ];
                if let Some(example) = STRANGERS.iter().find(|s| re.is_match(s)) {
                    return Err(SigstoreTrustError::MatchesAnyone {
                        pattern: r.to_string(),
                        example: (*example).to_string(),
                    });
                }
                SanMatcher::Regex(re)
            }
            _ => return Err(SigstoreTrustError::SanChoice),
        };
        Ok(SigstoreIdentity {
            issuer: issuer.to_string(),
            san,
        })
    }

    /// Whether a certificate's SAN and issuer satisfy this identity.
    pub fn matches(&self, san: &str, issuer: &str) -> bool {
        issuer == self.issuer
            && match &self.san {
                SanMatcher::Exact(e) => san == e,
                SanMatcher::Regex(r) => r.is_match(san),
            }
    }

    /// For messages.
    pub fn describe(&self) -> String {
        match &self.san {
            SanMatcher::Exact(e) => format!("{e} from {}", self.issuer),
            SanMatcher::Regex(r) => format!("/{}/ from {}", r.as_str(), self.issuer),
        }
    }
}

/// A vendor's Sigstore material.
#[derive(Clone, Debug, Default)]
pub struct VendorSigstore {
    /// Keyless identities.
    pub identities: Vec<SigstoreIdentity>,
    /// Vendor public keys for keyed bundles, with their SPKI SHA-256.
    pub keys: Vec<(DerPublicKey, String)>,
}

/// Parses a PEM public key for keyed bundles.
pub fn parse_public_key(pem_text: &str) -> Result<(DerPublicKey, String), SigstoreTrustError> {
    let key = DerPublicKey::from_pem(pem_text)
        .map_err(|e| SigstoreTrustError::NotPublicKey(e.to_string()))?;
    let fp = hex(&DigestAlgorithm::Sha256.hash(key.as_bytes()));
    Ok((key, fp))
}
