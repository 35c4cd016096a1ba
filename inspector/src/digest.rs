//! Digest algorithms and streaming, multi-algorithm hashing.

use crate::oids;
use const_oid::ObjectIdentifier;
use serde::{Deserialize, Serialize};
use sha2::Digest as _;

/// A digest algorithm the core can compute.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DigestAlgorithm {
    /// SHA-1: computed only to name it in a rejection, never accepted.
    Sha1,
    /// SHA-256.
    Sha256,
    /// SHA-384.
    Sha384,
    /// SHA-512.
    Sha512,
}

impl DigestAlgorithm {
    /// Maps a digest algorithm OID.
    pub fn from_oid(oid: &ObjectIdentifier) -> Option<Self> {
        match *oid {
            oids::SHA1 => Some(Self::Sha1),
            oids::SHA256 => Some(Self::Sha256),
            oids::SHA384 => Some(Self::Sha384),
            oids::SHA512 => Some(Self::Sha512),
            _ => None,
        }
    }

    /// The algorithm's OID.
    pub fn oid(self) -> ObjectIdentifier {
        match self {
            Self::Sha1 => oids::SHA1,
            Self::Sha256 => oids::SHA256,
            Self::Sha384 => oids::SHA384,
            Self::Sha512 => oids::SHA512,
        }
    }

    /// Lower-case name as used in the trust policy (`sha256`).
    pub fn name(self) -> &'static str {
        match self {
            Self::Sha1 => "sha1",
            Self::Sha256 => "sha256",
            Self::Sha384 => "sha384",
            Self::Sha512 => "sha512",
        }
    }

    /// Parses a policy name.
    pub fn from_name(name: &str) -> Option<Self> {
        match name.to_ascii_lowercase().as_str() {
            "sha1" | "sha-1" => Some(Self::Sha1),
            "sha256" | "sha-256" => Some(Self::Sha256),
            "sha384" | "sha-384" => Some(Self::Sha384),
            "sha512" | "sha-512" => Some(Self::Sha512),
            _ => None,
        }
    }

    /// Hashes a byte slice in one call.
    pub fn hash(self, data: &[u8]) -> Vec<u8> {
        match self {
            Self::Sha1 => sha1::Sha1::digest(data).to_vec(),
            Self::Sha256 => sha2::Sha256::digest(data).to_vec(),
            Self::Sha384 => sha2::Sha384::digest(data).to_vec(),
            Self::Sha512 => sha2::Sha512::digest(data).to_vec(),
        }
    }
}

impl std::fmt::Display for DigestAlgorithm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// One running hash.
#[derive(Clone)]
enum Running {
    Sha1(sha1::Sha1),
    Sha256(sha2::Sha256),
    Sha384(sha2::Sha384),
    Sha512(sha2::Sha512),
}

impl Running {
    fn new(alg: DigestAlgorithm) -> Self {
        match alg {
            DigestAlgorithm::Sha1 => Running::Sha1(sha1::Sha1::new()),
            DigestAlgorithm::Sha256 => Running::Sha256(sha2::Sha256::new()),
            DigestAlgorithm::Sha384 => Running::Sha384(sha2::Sha384::new()),
            DigestAlgorithm::Sha512 => Running::Sha512(sha2::Sha512::new()),
        }
    }
    fn update(&mut self, data: &[u8]) {
        match self {
            Running::Sha1(h) => h.update(data),
            Running::Sha256(h) => h.update(data),
            Running::Sha384(h) => h.update(data),
            Running::Sha512(h) => h.update(data),
        }
    }
    fn finish(self) -> Vec<u8> {
        match self {
            Running::Sha1(h) => h.finalize().to_vec(),
            Running::Sha256(h) => h.finalize().to_vec(),
            Running::Sha384(h) => h.finalize().to_vec(),
            Running::Sha512(h) => h.finalize().to_vec(),
        }
    }
}

/// Several digests computed over one pass of the data.
pub struct MultiHasher {
    running: Vec<(DigestAlgorithm, Running)>,
    length: u64,
}

impl MultiHasher {
    /// Starts hashing with each distinct algorithm in `algs`.
    pub fn new(algs: impl IntoIterator<Item = DigestAlgorithm>) -> Self {
        let mut running: Vec<(DigestAlgorithm, Running)> = Vec::new();
        for alg in algs {
            if !running.iter().any(|(a, _)| *a == alg) {
                running.push((alg, Running::new(alg)));
            }
        }
        MultiHasher { running, length: 0 }
    }

    /// Feeds more data.
    pub fn update(&mut self, data: &[u8]) {
        self.length = self.length.saturating_add(data.len() as u64);
        for (_, h) in &mut self.running {
            h.update(data);
        }
    }

    /// Number of bytes fed so far.
    pub fn length(&self) -> u64 {
        self.length
    }

    /// Finishes and returns each algorithm's digest.
    pub fn finish(self) -> Digests {
        Digests {
            values: self
                .running
                .into_iter()
                .map(|(a, h)| (a, h.finish()))
                .collect(),
            length: self.length,
        }
    }
}

/// Digests of one input under several algorithms.
#[derive(Clone, Debug)]
pub struct Digests {
    values: Vec<(DigestAlgorithm, Vec<u8>)>,
    /// Input length in bytes.
    pub length: u64,
}

impl Digests {
    /// Digests computed elsewhere (a receipt states them): `values` pairs
    /// each algorithm with its digest, `length` is the blob's size.
    pub fn known(values: Vec<(DigestAlgorithm, Vec<u8>)>, length: u64) -> Self {
        Digests { values, length }
    }

    /// The digest under `alg`, if it was computed.
    pub fn get(&self, alg: DigestAlgorithm) -> Option<&[u8]> {
        self.values
            .iter()
            .find(|(a, _)| *a == alg)
            .map(|(_, v)| v.as_slice())
    }
}

/// Lower-case hexadecimal.
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// Reads `reader` to the end through a buffer that starts at 64 KiB (most
/// blobs in a lot are small) and grows to `max_buffer`, handing each chunk
/// to `each`. Stops early, returning `Ok(false)`, when `each` returns false.
pub fn for_each_chunk(
    reader: &mut dyn std::io::Read,
    max_buffer: usize,
    mut each: impl FnMut(&[u8]) -> bool,
) -> std::io::Result<bool> {
    let max_buffer = max_buffer.max(4096);
    // One buffer per thread, reused from blob to blob: a fresh zeroed
    // 64 KiB allocation per blob cost a tenth of a lot's run in the
    // allocator and page faults (docs/benchmarks.md).
    thread_local! {
        static BUFFER: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    let mut buf = BUFFER
        .with(|b| b.try_borrow_mut().map(|mut b| std::mem::take(&mut *b)))
        .unwrap_or_default();
    let initial = max_buffer.min(64 * 1024);
    if buf.len() < initial || buf.len() > max_buffer {
        buf = vec![0u8; initial];
    }
    let result = fill_chunks(reader, &mut buf, max_buffer, &mut each);
    BUFFER.with(|b| {
        if let Ok(mut b) = b.try_borrow_mut() {
            *b = buf;
        }
    });
    result
}

fn fill_chunks(
    reader: &mut dyn std::io::Read,
    buf: &mut Vec<u8>,
    max_buffer: usize,
    each: &mut impl FnMut(&[u8]) -> bool,
) -> std::io::Result<bool> {
    // The buffer doubles only after two reads in a row filled it: a blob
    // that fits in one read (the 64 KiB of a lot) never pays for zeroing a
    // larger buffer it will not use.
    let mut filled = 0u8;
    loop {
        let n = match reader.read(buf) {
            Ok(0) => return Ok(true),
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if !each(buf.get(..n).unwrap_or(&[])) {
            return Ok(false);
        }
        filled = if n == buf.len() {
            filled.saturating_add(1)
        } else {
            0
        };
        if filled >= 2 && buf.len() < max_buffer {
            buf.resize((buf.len() * 2).min(max_buffer), 0);
            filled = 0;
        }
    }
}

/// Keeps a copy of streamed bytes up to a limit (for signature schemes
/// that need the whole message); gives up, freeing it, past the limit.
pub struct KeepUpTo {
    limit: usize,
    bytes: Option<Vec<u8>>,
}

impl KeepUpTo {
    /// Keeps up to `limit` bytes when `enabled`.
    pub fn new(enabled: bool, limit: usize) -> Self {
        KeepUpTo {
            limit,
            bytes: enabled.then(Vec::new),
        }
    }
    /// Appends a chunk, or drops everything once over the limit.
    pub fn push(&mut self, chunk: &[u8]) {
        if let Some(k) = &mut self.bytes {
            if k.len() + chunk.len() > self.limit {
                self.bytes = None;
            } else {
                k.extend_from_slice(chunk);
            }
        }
    }
    /// The bytes, if they fit.
    pub fn into_inner(self) -> Option<Vec<u8>> {
        self.bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multi_hasher_matches_one_shot_and_dedupes() {
        let data = b"tollgate";
        let mut h = MultiHasher::new([
            DigestAlgorithm::Sha256,
            DigestAlgorithm::Sha512,
            DigestAlgorithm::Sha256,
        ]);
        h.update(&data[..3]);
        h.update(&data[3..]);
        let d = h.finish();
        assert_eq!(d.length, 8);
        assert_eq!(
            d.get(DigestAlgorithm::Sha256),
            Some(DigestAlgorithm::Sha256.hash(data).as_slice())
        );
        assert_eq!(
            d.get(DigestAlgorithm::Sha512),
            Some(DigestAlgorithm::Sha512.hash(data).as_slice())
        );
        assert_eq!(d.get(DigestAlgorithm::Sha384), None);
        assert_eq!(
            hex(DigestAlgorithm::Sha256.hash(b"").as_slice()),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn chunks_cover_the_input_grow_and_stop_early() -> std::io::Result<()> {
        let data: Vec<u8> = (0..300_000u32).map(|i| i as u8).collect();
        let mut seen = Vec::new();
        let mut sizes = Vec::new();
        let done = for_each_chunk(&mut data.as_slice(), 1 << 20, |c| {
            seen.extend_from_slice(c);
            sizes.push(c.len());
            true
        })?;
        assert!(done);
        assert_eq!(seen, data);
        assert_eq!(sizes.first(), Some(&65536));
        assert!(
            sizes.iter().any(|s| *s > 65536),
            "the buffer grows: {sizes:?}"
        );
        let mut calls = 0;
        let done = for_each_chunk(&mut data.as_slice(), 1 << 20, |_| {
            calls += 1;
            false
        })?;
        assert!(!done);
        assert_eq!(calls, 1);
        Ok(())
    }

    #[test]
    fn keep_up_to_keeps_small_inputs_and_drops_large_ones() {
        let mut k = KeepUpTo::new(true, 4);
        k.push(b"ab");
        k.push(b"cd");
        assert_eq!(k.into_inner().as_deref(), Some(&b"abcd"[..]));
        let mut k = KeepUpTo::new(true, 4);
        k.push(b"abc");
        k.push(b"de");
        assert_eq!(k.into_inner(), None);
        let mut k = KeepUpTo::new(false, 4);
        k.push(b"a");
        assert_eq!(k.into_inner(), None);
    }
}
