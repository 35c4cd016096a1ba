//! `tollgate-inspect chain`: validate one certificate's path.

use super::Format;
use super::io::{read_limited, verification_time};
use anyhow::{Context, Result, anyhow, bail};
use inspector::cert::{CertSummary, ParsedCert, certificates_from_bytes, rfc3339};
use inspector::chain::{ChainRequest, EkuRequirement, validate};
use serde::Serialize;
use std::path::{Path, PathBuf};

/// Parsed options.
pub struct Options {
    pub anchors: PathBuf,
    pub intermediates: Option<PathBuf>,
    pub crls: Vec<PathBuf>,
    pub at: Option<String>,
    pub eku: String,
    pub format: Format,
    pub cert: PathBuf,
}

#[derive(Serialize)]
struct ChainReport {
    report_version: u32,
    kind: &'static str,
    valid: bool,
    reason: String,
    time: String,
    eku: String,
    certificate: CertSummary,
    path: Vec<CertSummary>,
}

const MAX_CERT_FILE: u64 = 16 * 1024 * 1024;

fn certs(path: &Path, what: &str) -> Result<Vec<ParsedCert>> {
    let bytes =
        read_limited(path, MAX_CERT_FILE).with_context(|| format!("cannot read the {what}"))?;
    certificates_from_bytes(&bytes).map_err(|e| anyhow!("{what} '{}': {e}", path.display()))
}

fn crl_der(path: &Path) -> Result<Vec<u8>> {
    let bytes = read_limited(path, MAX_CERT_FILE).context("cannot read the CRL")?;
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'-') {
        let block = pem::parse(&bytes).map_err(|e| anyhow!("CRL '{}': {e}", path.display()))?;
        if block.tag() != "X509 CRL" {
            bail!(
                "CRL '{}': PEM label is '{}', expected 'X509 CRL'",
                path.display(),
                block.tag()
            );
        }
        Ok(block.into_contents())
    } else {
        Ok(bytes)
    }
}

/// Runs the command; `Ok(true)` when the path is valid.
pub fn run(o: Options) -> Result<bool> {
    let time = verification_time(o.at.as_deref())?;
    let eku = EkuRequirement::parse(&o.eku).map_err(|e| anyhow!("--eku: {e}"))?;
    let leaf = certs(&o.cert, "certificate")?
        .into_iter()
        .next()
        .ok_or_else(|| anyhow!("no certificate in '{}'", o.cert.display()))?;
    let anchors = certs(&o.anchors, "anchors")?;
    let intermediates = match &o.intermediates {
        Some(p) => certs(p, "intermediates")?,
        None => vec![],
    };
    let crls = o
        .crls
        .iter()
        .map(|p| crl_der(p))
        .collect::<Result<Vec<_>>>()?;
    let pool: Vec<&ParsedCert> = intermediates.iter().collect();
    let result = validate(&ChainRequest {
        leaf: &leaf,
        anchors: &anchors,
        intermediates: &pool,
        time,
        eku,
        crls: &crls,
    });
    let (valid, reason, path) = match &result {
        Ok(p) => (
            true,
            format!(
                "valid: '{}' chains to '{}' at {}",
                leaf.subject(),
                p.anchor().map(|a| a.subject()).unwrap_or_default(),
                rfc3339(time)
            ),
            p.certificates.iter().map(|c| c.summary()).collect(),
        ),
        Err(e) => (false, format!("invalid: {e}"), vec![]),
    };
    let report = ChainReport {
        report_version: 1,
        kind: "chain",
        valid,
        reason,
        time: rfc3339(time),
        eku: o.eku.clone(),
        certificate: leaf.summary(),
        path,
    };
    match o.format {
        Format::Json => super::io::out(&format!("{}\n", serde_json::to_string_pretty(&report)?))?,
        Format::Text => {
            let mut text = format!("{}\n", report.reason);
            for (i, c) in report.path.iter().enumerate() {
                text.push_str(&format!(
                    "  {i}: {} (sha256 {}, {} to {}, {})\n",
                    c.subject, c.sha256, c.not_before, c.not_after, c.key
                ));
            }
            super::io::out(&text)?;
        }
    }
    Ok(valid)
}
