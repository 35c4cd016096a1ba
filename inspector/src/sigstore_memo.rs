//! Memoised signature verification for the Sigstore verifier.
//!
//! `sigstore-verify` checks the same signatures more than once: the signing
//! certificate's chain is validated again at every verified time (RFC 3161
//! and Rekor integrated time), and for every bundle the timestamp
//! authority's certificate chain, which is the same certificate for every
//! bundle that authority stamped, is validated again. Callgrind showed ECDSA
//! P-384 verification to be over half of a bundle's cost (docs/benchmarks.md).
//!
//! This provider sits between `sigstore-verify` and the aws-lc provider it
//! would use anyway and remembers *successful* verifications. That is sound
//! for any input: a signature verification is a pure function of the scheme,
//! the public key, the message and the signature, and the memo key is the
//! SHA-256 over the scheme, the key, the message's SHA-256 and the signature
//! (length-prefixed); the message is hashed once per verification. A failure is never remembered, so
//! a bad signature is re-checked and rejected every time.
//!
//! Two scopes, so that a lot of identical bundles costs what a lot of
//! distinct bundles would (the benchmark must not flatter us):
//! - **per bundle** (thread-local, cleared by [`bundle_scope`]): every
//!   verification; catches the repetitions inside one bundle's check;
//! - **shared** (process-wide, bounded): only verifications whose message is
//!   the to-be-signed part of a certificate listed in a loaded trusted root
//!   (a TSA or Fulcio certificate). Those are identical for every bundle,
//!   whoever signed it; a bundle's own leaf certificate, log entry, SCT,
//!   timestamp token and artifact signature are never shared between bundles.

use sha2::{Digest, Sha256};
use sigstore_crypto::{
    CryptoProvider, HashContext, KeyAlgorithm, SigningKeyPair, SigningScheme, aws_lc_provider,
};
use sigstore_types::HashAlgorithm;
use std::cell::{Cell, RefCell};
use std::collections::HashSet;
use std::sync::{LazyLock, Mutex, RwLock};

/// Most remembered verifications per scope; past that nothing more is kept
/// (memory stays bounded whatever the input).
const MAX_ENTRIES: usize = 4096;

/// Messages longer than this (a whole small blob signed directly) are
/// verified without memo: hashing them for the key would cost about as much
/// as it saves, and they are never repeated.
const MAX_MEMO_MESSAGE: usize = 16 * 1024;

type MemoKey = [u8; 32];

thread_local! {
    static BUNDLE: RefCell<Option<HashSet<MemoKey>>> = const { RefCell::new(None) };
    static STATS: Cell<MemoStats> = const { Cell::new(MemoStats { performed: 0, remembered: 0 }) };
}

/// Verification counts on the calling thread (for tests and benchmarks).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MemoStats {
    /// Signature verifications actually computed.
    pub performed: u64,
    /// Verifications answered from memory.
    pub remembered: u64,
}

/// The provider installed for `sigstore-verify`.
#[derive(Debug)]
struct MemoProvider {
    inner: &'static dyn CryptoProvider,
    /// SHA-256 of the to-be-signed bytes of every trusted-root certificate.
    anchored: RwLock<HashSet<MemoKey>>,
    shared: Mutex<HashSet<MemoKey>>,
}

static PROVIDER: LazyLock<MemoProvider> = LazyLock::new(|| MemoProvider {
    inner: aws_lc_provider(),
    anchored: RwLock::new(HashSet::new()),
    shared: Mutex::new(HashSet::new()),
});

/// Installs the memoising provider (once per process; later calls do nothing).
/// Returns whether it is the active provider.
pub fn install() -> bool {
    let provider: &'static MemoProvider = &PROVIDER;
    let _ = sigstore_crypto::install_default_provider(provider);
    sigstore_crypto::try_default_provider()
        .is_some_and(|p| std::ptr::addr_eq(p as *const dyn CryptoProvider, provider))
}

/// Registers the certificates of a trusted root (DER), whose signatures may
/// then be remembered across bundles.
pub fn register_trusted_certificates<'a>(certs: impl IntoIterator<Item = &'a [u8]>) {
    let hashes: Vec<MemoKey> = certs.into_iter().filter_map(tbs_hash).collect();
    if let Ok(mut set) = PROVIDER.anchored.write() {
        for h in hashes {
            if set.len() < MAX_ENTRIES {
                set.insert(h);
            }
        }
    }
}

/// Runs `f` (one bundle's verification) with a fresh per-bundle memory on
/// this thread, and forgets it afterwards.
pub fn bundle_scope<R>(f: impl FnOnce() -> R) -> R {
    let previous = BUNDLE.with(|b| b.replace(Some(HashSet::new())));
    let r = f();
    BUNDLE.with(|b| *b.borrow_mut() = previous);
    r
}

/// Counts on this thread since it started.
pub fn stats() -> MemoStats {
    STATS.with(Cell::get)
}

/// SHA-256 of a certificate's TBSCertificate (the bytes its issuer signs).
fn tbs_hash(cert_der: &[u8]) -> Option<MemoKey> {
    use der::{Decode, Encode};
    let cert = x509_cert::Certificate::from_der(cert_der).ok()?;
    let tbs = cert.tbs_certificate().to_der().ok()?;
    Some(Sha256::digest(&tbs).into())
}

/// The memo key: SHA-256 over the kind, scheme, key, the message's SHA-256
/// and the signature, each length-prefixed.
fn memo_key(
    kind: u8,
    scheme: SigningScheme,
    key: &[u8],
    message_hash: &MemoKey,
    sig: &[u8],
) -> MemoKey {
    let mut h = Sha256::new();
    h.update([kind]);
    h.update(scheme.name().as_bytes());
    for part in [key, message_hash.as_slice(), sig] {
        h.update((part.len() as u64).to_be_bytes());
        h.update(part);
    }
    h.finalize().into()
}

/// What a verification was given: the message, or its digest.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Form {
    Message = 0,
    Digest = 1,
}

fn count(f: impl FnOnce(&mut MemoStats)) {
    STATS.with(|s| {
        let mut v = s.get();
        f(&mut v);
        s.set(v);
    });
}

impl MemoProvider {
    fn remembered(&self, key: &MemoKey) -> bool {
        let hit = BUNDLE.with(|b| b.borrow().as_ref().is_some_and(|s| s.contains(key)))
            || self.shared.lock().is_ok_and(|s| s.contains(key));
        if hit {
            count(|s| s.remembered += 1);
        }
        hit
    }

    /// Runs `verify` unless the same verification succeeded before in scope,
    /// and remembers it when it succeeds: process-wide when the message (not
    /// a pre-computed digest) is a trusted-root certificate's TBS, else for
    /// this bundle.
    fn memoised(
        &self,
        form: Form,
        scheme: SigningScheme,
        key: &[u8],
        message: &[u8],
        sig: &[u8],
        verify: impl FnOnce() -> sigstore_crypto::Result<()>,
    ) -> sigstore_crypto::Result<()> {
        let message_hash: MemoKey = Sha256::digest(message).into();
        let k = memo_key(form as u8, scheme, key, &message_hash, sig);
        if self.remembered(&k) {
            return Ok(());
        }
        count(|s| s.performed += 1);
        verify()?;
        let shared = form == Form::Message
            && self
                .anchored
                .read()
                .is_ok_and(|a| a.contains(&message_hash));
        if shared {
            if let Ok(mut s) = self.shared.lock()
                && s.len() < MAX_ENTRIES
            {
                s.insert(k);
            }
        } else {
            BUNDLE.with(|b| {
                if let Some(s) = b.borrow_mut().as_mut()
                    && s.len() < MAX_ENTRIES
                {
                    s.insert(k);
                }
            });
        }
        Ok(())
    }
}

impl CryptoProvider for MemoProvider {
    fn hash(&self, algorithm: HashAlgorithm) -> sigstore_crypto::Result<Box<dyn HashContext>> {
        self.inner.hash(algorithm)
    }

    fn sha256(&self, data: &[u8]) -> [u8; 32] {
        self.inner.sha256(data)
    }

    fn sha384(&self, data: &[u8]) -> [u8; 48] {
        self.inner.sha384(data)
    }

    fn sha512(&self, data: &[u8]) -> [u8; 64] {
        self.inner.sha512(data)
    }

    fn verify_raw(
        &self,
        scheme: SigningScheme,
        spki_pubkey_bytes: &[u8],
        data: &[u8],
        signature: &[u8],
    ) -> sigstore_crypto::Result<()> {
        if data.len() > MAX_MEMO_MESSAGE {
            count(|s| s.performed += 1);
            return self
                .inner
                .verify_raw(scheme, spki_pubkey_bytes, data, signature);
        }
        self.memoised(
            Form::Message,
            scheme,
            spki_pubkey_bytes,
            data,
            signature,
            || {
                self.inner
                    .verify_raw(scheme, spki_pubkey_bytes, data, signature)
            },
        )
    }

    fn verify_prehashed(
        &self,
        scheme: SigningScheme,
        spki_pubkey_bytes: &[u8],
        digest: &[u8],
        signature: &[u8],
    ) -> sigstore_crypto::Result<()> {
        self.memoised(
            Form::Digest,
            scheme,
            spki_pubkey_bytes,
            digest,
            signature,
            || {
                self.inner
                    .verify_prehashed(scheme, spki_pubkey_bytes, digest, signature)
            },
        )
    }

    fn generate_key_pair(
        &self,
        algorithm: KeyAlgorithm,
    ) -> sigstore_crypto::Result<Box<dyn SigningKeyPair>> {
        self.inner.generate_key_pair(algorithm)
    }

    fn key_pair_from_pkcs8_der(
        &self,
        pkcs8: &[u8],
    ) -> sigstore_crypto::Result<Box<dyn SigningKeyPair>> {
        self.inner.key_pair_from_pkcs8_der(pkcs8)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use sigstore_crypto::KeyPair;

    #[test]
    fn remembers_successes_within_one_scope_and_never_failures() {
        assert!(install());
        let provider = sigstore_crypto::default_provider();
        let kp = KeyPair::generate_ecdsa_p256().unwrap();
        let key = kp.public_key_bytes().to_vec();
        let msg = b"tollgate firmware 1.2.0";
        let sig = kp.sign(msg).unwrap();
        let sig = sig.as_bytes();
        let scheme = SigningScheme::EcdsaP256Sha256;
        let mut bad = sig.to_vec();
        if let Some(b) = bad.last_mut() {
            *b ^= 1;
        }
        let delta = |f: &dyn Fn()| {
            let s = stats();
            f();
            let e = stats();
            (e.performed - s.performed, e.remembered - s.remembered)
        };
        bundle_scope(|| {
            let ok = || assert!(provider.verify_raw(scheme, &key, msg, sig).is_ok());
            assert_eq!(delta(&ok), (1, 0));
            assert_eq!(delta(&ok), (0, 1), "the repeat is answered from memory");
            let fails = || assert!(provider.verify_raw(scheme, &key, msg, &bad).is_err());
            assert_eq!(delta(&fails), (1, 0));
            assert_eq!(delta(&fails), (1, 0), "a failure is never remembered");
            let other = || assert!(provider.verify_raw(scheme, &key, b"other", sig).is_err());
            assert_eq!(delta(&other), (1, 0), "another message is not a hit");
        });
        // A new bundle starts with nothing remembered.
        bundle_scope(|| {
            let ok = || assert!(provider.verify_raw(scheme, &key, msg, sig).is_ok());
            assert_eq!(delta(&ok), (1, 0));
        });
        // Outside any bundle nothing is kept.
        let ok = || assert!(provider.verify_raw(scheme, &key, msg, sig).is_ok());
        assert_eq!(delta(&ok), (1, 0));
        assert_eq!(delta(&ok), (1, 0));
    }

    /// A certificate's signature by its issuer, from the OpenSSL fixtures
    /// (acme-int, P-256, signs acme-signer-p256 with ECDSA-SHA256):
    /// (issuer key, TBS, signature, certificate DER).
    fn issued() -> (Vec<u8>, Vec<u8>, Vec<u8>, Vec<u8>) {
        use der::{Decode, Encode};
        let der_of = |pem_text: &str| pem::parse(pem_text).unwrap().into_contents();
        let leaf = der_of(include_str!(
            "../../tests/fixtures/cms/certs/acme-signer-p256.pem"
        ));
        let issuer = der_of(include_str!("../../tests/fixtures/cms/certs/acme-int.pem"));
        let leaf_c = x509_cert::Certificate::from_der(&leaf).unwrap();
        let issuer_c = x509_cert::Certificate::from_der(&issuer).unwrap();
        let key = issuer_c
            .tbs_certificate()
            .subject_public_key_info()
            .subject_public_key
            .raw_bytes()
            .to_vec();
        let tbs = leaf_c.tbs_certificate().to_der().unwrap();
        let sig = leaf_c.signature().raw_bytes().to_vec();
        (key, tbs, sig, leaf)
    }

    #[test]
    fn trusted_root_certificates_are_remembered_across_bundles() {
        assert!(install());
        let provider = sigstore_crypto::default_provider();
        let scheme = SigningScheme::EcdsaP256Sha256;
        let (key, tbs, sig, cert) = issued();
        let check = || {
            let s = stats();
            let r = bundle_scope(|| provider.verify_raw(scheme, &key, &tbs, &sig));
            let e = stats();
            assert!(r.is_ok());
            (e.performed - s.performed, e.remembered - s.remembered)
        };
        // Not (yet) a trusted-root certificate: each bundle checks it anew.
        assert_eq!(check(), (1, 0));
        assert_eq!(check(), (1, 0));
        register_trusted_certificates([cert.as_slice()]);
        assert_eq!(check(), (1, 0));
        assert_eq!(check(), (0, 1), "remembered for the next bundle");
        // A forged signature over the same certificate is still checked and refused.
        let mut bad = sig.clone();
        if let Some(b) = bad.get_mut(10) {
            *b ^= 1;
        }
        assert!(provider.verify_raw(scheme, &key, &tbs, &bad).is_err());
    }
}
