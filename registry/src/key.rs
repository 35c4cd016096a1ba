//! The registry's own signing key: ECDSA P-256, created on first start and
//! kept in PEM files the operator backs up (`docs/operations.md`).

use anyhow::{Context, Result};
use p256::ecdsa::{DerSignature, SigningKey, signature::Signer};
use p256::pkcs8::DecodePrivateKey;
use std::path::{Path, PathBuf};

/// The key and its self-signed certificate.
pub struct RegistryKey {
    signing: SigningKey,
    /// Certificate PEM (what stations pin).
    pub certificate_pem: String,
    /// Certificate DER.
    pub certificate_der: Vec<u8>,
}

/// File names inside the data directory.
pub const KEY_FILE: &str = "tollgate-registry-key.pem";
/// Certificate file name.
pub const CERT_FILE: &str = "tollgate-registry-cert.pem";

impl RegistryKey {
    /// Loads the key from `dir`, or creates it (and its certificate) there.
    /// Returns whether it was created.
    pub fn load_or_create(dir: &Path) -> Result<(Self, bool)> {
        let key_path: PathBuf = dir.join(KEY_FILE);
        let cert_path: PathBuf = dir.join(CERT_FILE);
        if key_path.exists() {
            let key_pem = std::fs::read_to_string(&key_path).with_context(|| {
                format!("cannot read the registry key '{}'", key_path.display())
            })?;
            let signing = SigningKey::from_pkcs8_pem(&key_pem).map_err(|e| {
                anyhow::anyhow!(
                    "registry key '{}' is not a P-256 PKCS#8 key: {e}",
                    key_path.display()
                )
            })?;
            let certificate_pem = std::fs::read_to_string(&cert_path).with_context(|| {
                format!(
                    "cannot read the registry certificate '{}'",
                    cert_path.display()
                )
            })?;
            let certificate_der = pem::parse(&certificate_pem)
                .map_err(|e| anyhow::anyhow!("registry certificate: {e}"))?
                .into_contents();
            return Ok((
                RegistryKey {
                    signing,
                    certificate_pem,
                    certificate_der,
                },
                false,
            ));
        }
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create '{}'", dir.display()))?;
        let key_pair = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)
            .context("cannot generate the registry key")?;
        let key_pem = key_pair.serialize_pem();
        let signing = SigningKey::from_pkcs8_pem(&key_pem)
            .map_err(|e| anyhow::anyhow!("cannot load the new key: {e}"))?;
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new())
            .context("certificate parameters")?;
        params
            .distinguished_name
            .push(rcgen::DnType::OrganizationName, "Tollgate");
        params.distinguished_name.push(
            rcgen::DnType::CommonName,
            "Tollgate Registry Trust-Bundle Signing",
        );
        params.not_before = time::OffsetDateTime::now_utc() - time::Duration::days(1);
        params.not_after = time::OffsetDateTime::now_utc() + time::Duration::days(3650);
        params.key_usages = vec![rcgen::KeyUsagePurpose::DigitalSignature];
        let cert = params
            .self_signed(&key_pair)
            .context("cannot self-sign the registry certificate")?;
        let certificate_pem = cert.pem();
        write_private(&key_path, key_pem.as_bytes())?;
        std::fs::write(&cert_path, &certificate_pem)
            .with_context(|| format!("cannot write '{}'", cert_path.display()))?;
        let certificate_der = cert.der().to_vec();
        Ok((
            RegistryKey {
                signing,
                certificate_pem,
                certificate_der,
            },
            true,
        ))
    }

    /// DER ECDSA P-256 / SHA-256 signature over `data`.
    pub fn sign(&self, data: &[u8]) -> Vec<u8> {
        let sig: DerSignature = self.signing.sign(data);
        sig.as_bytes().to_vec()
    }

    /// The DSSE key id of the registry key (hex SHA-256 of its SPKI).
    pub fn keyid(&self) -> String {
        inspector::dsse::public_spki(&self.signing)
            .map(|spki| inspector::dsse::keyid(&spki))
            .unwrap_or_default()
    }

    /// The verifier id the registry's attestations name.
    pub fn verifier_id(&self) -> String {
        format!("tollgate-registry:{}", self.keyid())
    }

    /// Signs an in-toto statement into a DSSE envelope.
    pub fn attest(
        &self,
        statement: &impl serde::Serialize,
    ) -> Result<inspector::dsse::Envelope, serde_json::Error> {
        use inspector::dsse::IN_TOTO_PAYLOAD_TYPE;
        let payload = serde_json::to_vec(statement)?;
        let sig = self.sign(&inspector::dsse::pae(IN_TOTO_PAYLOAD_TYPE, &payload));
        Ok(inspector::dsse::seal_with(
            IN_TOTO_PAYLOAD_TYPE,
            &payload,
            &self.keyid(),
            &sig,
        ))
    }
}

fn write_private(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    #[cfg(unix)]
    use std::os::unix::fs::OpenOptionsExt;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    opts.mode(0o600);
    let mut f = opts
        .open(path)
        .with_context(|| format!("cannot create '{}'", path.display()))?;
    f.write_all(bytes)
        .with_context(|| format!("cannot write '{}'", path.display()))?;
    Ok(())
}
