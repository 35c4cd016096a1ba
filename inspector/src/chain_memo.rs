//! Memoised path validation for lots ([`PathCache`]).
//!
//! Path validation is a pure function of the leaf, the anchors, the pool of
//! intermediates, the time, the EKU and the CRLs, so a result is reused when
//! all of those are identical. A lot signed by 2,000 distinct leaves under
//! one intermediate shares more than that: the path above the leaf. Once a
//! leaf has been validated through an intermediate, the next leaf with the
//! same issuer is validated by webpki against that issuer alone (as a trust
//! anchor carrying its own name constraints), and the rest of the path is
//! the one already validated, under conditions that make the result the one
//! full validation gives (see [`PathCache::shortcut`]). Anything else, and
//! every failure, goes through full validation, so reasons are unchanged.

use crate::cert::ParsedCert;
use crate::chain::{
    ChainError, ChainRequest, EkuRequirement, ValidPath, build, finish, truncated, validate,
    validate_with,
};

/// Memoises [`validate`] across the blobs of a lot.
///
/// Path validation is a pure function of the leaf, the anchors, the pool of
/// intermediates, the time, the EKU and the CRLs, so its result can be
/// reused when all of those are identical (the key hashes every one of
/// them). Thousands of blobs signed by the same certificate then cost one
/// path validation. Bounded: past [`PathCache::CAPACITY`] entries it stops
/// storing.
#[derive(Default)]
pub struct PathCache {
    entries: std::sync::Mutex<std::collections::HashMap<Vec<u8>, Result<ValidPath, ChainError>>>,
    /// Profile results per certificate, shared by every path of the lot.
    pub(crate) profile: crate::profile::ProfileMemo,
    /// Validated paths above a leaf (its issuer first, the anchor last), by
    /// [`PathCache::prefix_key`].
    prefixes: std::sync::Mutex<std::collections::HashMap<Vec<u8>, Vec<ParsedCert>>>,
}

impl PathCache {
    /// Most results kept.
    pub const CAPACITY: usize = 4096;

    /// Whether it stopped storing (a long-lived owner then starts a new one).
    pub fn is_full(&self) -> bool {
        self.entries
            .lock()
            .map(|m| m.len() >= Self::CAPACITY)
            .unwrap_or(true)
    }

    fn key(req: &ChainRequest<'_>) -> Vec<u8> {
        let mut parts: Vec<u8> = Vec::new();
        parts.extend_from_slice(&req.leaf.sha256);
        parts.push(b'a');
        for a in req.anchors {
            parts.extend_from_slice(&a.sha256);
        }
        parts.push(b'i');
        for i in req.intermediates {
            parts.extend_from_slice(&i.sha256);
        }
        parts.push(b't');
        parts.extend_from_slice(&req.time.unix_timestamp().to_be_bytes());
        parts.push(b'e');
        if let EkuRequirement::Oid(o) = &req.eku {
            parts.extend_from_slice(o.as_bytes());
        }
        parts.push(b'c');
        for c in req.crls {
            parts.extend_from_slice(&crate::digest::DigestAlgorithm::Sha256.hash(c));
        }
        crate::digest::DigestAlgorithm::Sha256.hash(&parts)
    }
}

impl PathCache {
    /// Everything a path above the leaf depends on: the anchors, the pool
    /// without the leaf itself, the time, the EKU, and the leaf's issuer
    /// name.
    fn prefix_key(req: &ChainRequest<'_>) -> Vec<u8> {
        let mut pool: Vec<&[u8]> = req
            .intermediates
            .iter()
            .filter(|c| c.sha256 != req.leaf.sha256)
            .map(|c| c.sha256.as_slice())
            .collect();
        pool.sort_unstable();
        pool.dedup();
        let mut parts: Vec<u8> = b"prefix".to_vec();
        for a in req.anchors {
            parts.extend_from_slice(&a.sha256);
        }
        parts.push(b'i');
        for p in pool {
            parts.extend_from_slice(p);
        }
        parts.push(b't');
        parts.extend_from_slice(&req.time.unix_timestamp().to_be_bytes());
        parts.push(b'e');
        if let EkuRequirement::Oid(o) = &req.eku {
            parts.extend_from_slice(o.as_bytes());
        }
        parts.push(b'n');
        parts.extend_from_slice(&req.leaf.issuer_der());
        crate::digest::DigestAlgorithm::Sha256.hash(&parts)
    }

    /// The one certificate (anchor or pool, the leaf excepted) named as the
    /// leaf's issuer, if there is exactly one: then webpki has a single
    /// candidate at the first step, and whatever it builds above it is the
    /// same for every leaf with that issuer.
    fn sole_issuer<'c>(req: &'c ChainRequest<'_>) -> Option<&'c ParsedCert> {
        let issuer = req.leaf.issuer_der();
        let mut found = req
            .anchors
            .iter()
            .chain(req.intermediates.iter().copied())
            .filter(|c| c.sha256 != req.leaf.sha256 && c.subject_der() == issuer);
        let first = found.next()?;
        if found.any(|c| c.sha256 != first.sha256) {
            return None;
        }
        Some(first)
    }

    /// Validates `req` through a remembered path above its leaf, when that
    /// gives exactly what full validation would: no CRLs in the request;
    /// the leaf's issuer is the only candidate and is the first certificate
    /// of the remembered path, which has at least one intermediate; no
    /// certificate above the issuer carries name constraints (the issuer's
    /// own are applied by webpki, which takes them from it as an anchor).
    /// webpki then checks the leaf against its issuer (signature, validity,
    /// EKU, constraints), and the usual checks run on the whole path.
    /// `None` when the shortcut does not apply or fails (full validation
    /// then decides and explains).
    fn shortcut(&self, req: &ChainRequest<'_>) -> Option<Result<ValidPath, ChainError>> {
        if !req.crls.is_empty() {
            return None;
        }
        let issuer = Self::sole_issuer(req)?;
        let prefix = self
            .prefixes
            .lock()
            .ok()?
            .get(&Self::prefix_key(req))
            .cloned()?;
        if prefix.first()?.sha256 != issuer.sha256 || prefix.len() < 2 {
            return None;
        }
        let constrained_above = prefix.iter().skip(1).any(|c| {
            c.cert
                .tbs_certificate()
                .get_extension::<x509_cert::ext::pkix::NameConstraints>()
                .map_or(true, |e| e.is_some())
        });
        if constrained_above {
            return None;
        }
        let sole = std::slice::from_ref(issuer);
        let step = ChainRequest {
            leaf: req.leaf,
            anchors: sole,
            intermediates: &[],
            time: req.time,
            eku: req.eku.clone(),
            crls: &[],
        };
        build(&step).ok()?;
        let mut certificates = vec![req.leaf.clone()];
        certificates.extend(prefix);
        Some(finish(req, ValidPath { certificates }, Some(&self.profile)))
    }

    /// Remembers the part of a valid path above its leaf.
    fn remember(&self, req: &ChainRequest<'_>, path: &ValidPath) {
        if path.certificates.len() < 3 || !req.crls.is_empty() {
            return;
        }
        let (Some(issuer), Some(first)) = (Self::sole_issuer(req), path.certificates.get(1)) else {
            return;
        };
        if issuer.sha256 != first.sha256 {
            return;
        }
        if let Ok(mut map) = self.prefixes.lock()
            && map.len() < Self::CAPACITY
        {
            map.entry(Self::prefix_key(req))
                .or_insert_with(|| path.certificates.get(1..).unwrap_or_default().to_vec());
        }
    }
}

/// [`validate`] through an optional cache.
pub fn validate_cached(
    req: &ChainRequest<'_>,
    cache: Option<&PathCache>,
) -> Result<ValidPath, ChainError> {
    let Some(cache) = cache else {
        return validate(req);
    };
    let key = PathCache::key(req);
    if let Ok(map) = cache.entries.lock()
        && let Some(hit) = map.get(&key)
    {
        return hit.clone();
    }
    let req = &truncated(req);
    let result = match cache.shortcut(req) {
        Some(Ok(path)) => Ok(path),
        _ => validate_with(req, Some(&cache.profile)),
    };
    if let Ok(path) = &result {
        // Every blob of the lot gets a clone of this path; its certificates'
        // names and summaries are made once, here, not once per clone.
        for c in &path.certificates {
            c.summary();
        }
        cache.remember(req, path);
    }
    if let Ok(mut map) = cache.entries.lock()
        && map.len() < PathCache::CAPACITY
    {
        map.insert(key, result.clone());
    }
    result
}
