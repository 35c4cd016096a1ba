//! Size and depth limits applied to untrusted input.

/// Limits that bound the work and memory spent on one verification.
///
/// Every limit has a conservative default; a hostile input that exceeds one
/// gets a rejection naming the limit, never unbounded memory.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Largest signature file accepted (bytes). Attached signatures hold the
    /// whole blob, so this also bounds attached content.
    pub max_signature_bytes: usize,
    /// Most signer infos evaluated in one SignedData.
    pub max_signers: usize,
    /// Most certificates taken from one SignedData.
    pub max_certificates: usize,
    /// Largest blob hashed (bytes).
    pub max_blob_bytes: u64,
    /// Largest content kept in memory for a signature scheme that cannot be
    /// pre-hashed (Ed25519 without signed attributes signs the content itself).
    pub max_unhashed_content_bytes: usize,
    /// Size of the buffer the blob is streamed through.
    pub read_buffer_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_signature_bytes: 64 * 1024 * 1024,
            max_signers: 8,
            max_certificates: 64,
            max_blob_bytes: 64 * 1024 * 1024 * 1024,
            max_unhashed_content_bytes: 16 * 1024 * 1024,
            read_buffer_bytes: 1024 * 1024,
        }
    }
}
