//! File access with limits, the clock, and trust-policy loading.

use anyhow::{Context, Result, anyhow, bail};
use inspector::policy::{CertificateSource, TrustPolicy};
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Largest trust-policy or certificate file read.
const MAX_POLICY_FILE: u64 = 64 * 1024 * 1024;

/// Opens a regular file, refusing directories, FIFOs and devices (which
/// could block or never end).
pub fn open_regular(path: &Path) -> Result<(File, u64)> {
    let file = File::open(path).with_context(|| format!("cannot open '{}'", path.display()))?;
    let meta = file
        .metadata()
        .with_context(|| format!("cannot inspect '{}'", path.display()))?;
    if !meta.is_file() {
        bail!("'{}' is not a regular file", path.display());
    }
    Ok((file, meta.len()))
}

/// Reads a whole regular file of at most `limit` bytes.
pub fn read_limited(path: &Path, limit: u64) -> Result<Vec<u8>> {
    let (file, len) = open_regular(path)?;
    if len > limit {
        bail!(
            "'{}' is {len} bytes, over the limit of {limit} bytes",
            path.display()
        );
    }
    let mut buf = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
    file.take(limit + 1)
        .read_to_end(&mut buf)
        .with_context(|| format!("cannot read '{}'", path.display()))?;
    if buf.len() as u64 > limit {
        bail!(
            "'{}' grew past the limit of {limit} bytes while being read",
            path.display()
        );
    }
    Ok(buf)
}

/// Parses `--at`, or reads the clock.
pub fn verification_time(at: Option<&str>) -> Result<OffsetDateTime> {
    match at {
        None => Ok(OffsetDateTime::now_utc()),
        Some(s) => OffsetDateTime::parse(s, &Rfc3339).map_err(|e| {
            anyhow!("--at '{s}' is not an RFC 3339 time (e.g. 2026-10-01T00:00:00Z): {e}")
        }),
    }
}

/// Resolves certificate paths relative to the policy file's folder.
struct RelativeFiles {
    base: PathBuf,
}

impl CertificateSource for RelativeFiles {
    fn load(&mut self, reference: &str) -> std::result::Result<Vec<u8>, String> {
        let path = self.base.join(reference);
        read_limited(&path, MAX_POLICY_FILE).map_err(|e| format!("{e:#}"))
    }
}

/// Loads and resolves a trust-policy file.
pub fn load_policy(path: &Path) -> Result<TrustPolicy> {
    let json = read_limited(path, MAX_POLICY_FILE).context("cannot read the trust policy")?;
    let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
    TrustPolicy::from_json(&json, &mut RelativeFiles { base })
        .map_err(|e| anyhow!("trust policy '{}' is invalid: {e}", path.display()))
}

/// Finds the signature next to a blob: BLOB.p7s, BLOB.sig, BLOB.cms, then
/// the Sigstore bundles BLOB.sigstore.json and BLOB.sigstore.
pub fn default_signature(blob: &Path) -> Result<PathBuf> {
    for ext in ["p7s", "sig", "cms", "sigstore.json", "sigstore"] {
        let mut name = blob.as_os_str().to_owned();
        name.push(".");
        name.push(ext);
        let candidate = PathBuf::from(name);
        if candidate.exists() {
            return Ok(candidate);
        }
    }
    bail!(
        "no signature given and none found next to the blob ('{0}.p7s', '{0}.sig', '{0}.cms', '{0}.sigstore.json' or '{0}.sigstore'); use --signature or --bundle",
        blob.display()
    )
}

/// Writes `text` to standard output. A reader that went away (`| head -1`)
/// is not an error: the rest of the output is dropped and the command
/// still ends with its verdict's exit code (no panic, no backtrace).
pub fn out(text: &str) -> Result<()> {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other.context("cannot write to standard output"),
    }
}
