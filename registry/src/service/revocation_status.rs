//! The one rule that decides whether a registered certificate is revoked:
//! the inspector's `RevokedTarget` matching (the certificate's DER, or its
//! issuer and serial as a CRL names it). The vendor page, the allowlists
//! and the brick check ask it; the trust bundle carries the same rows to
//! the inspector.

use super::{Conn, ServiceResult};
use diesel::prelude::*;
use inspector::cert::ParsedCert;
use inspector::policy::RevokedTarget;
use schema::models::Revocation;
use schema::schema::revocations;

/// What the registry's revocations designate, parsed once: the same
/// matching as the inspector (`RevokedTarget::matches`: the certificate's
/// DER, or its issuer and serial). A row that cannot be parsed designates
/// nothing (it could not have been stored through this layer).
pub struct RevocationSet {
    targets: Vec<RevokedTarget>,
}

impl RevocationSet {
    /// Parses the rows. A CRL import stores one issuer for thousands of
    /// serials, so each distinct issuer certificate is parsed once.
    pub fn new(rows: &[Revocation]) -> Self {
        let mut issuers: std::collections::HashMap<&[u8], Option<(Vec<u8>, String)>> =
            std::collections::HashMap::new();
        let mut targets = Vec::with_capacity(rows.len());
        for r in rows {
            let target = match (&r.certificate_der, &r.issuer_der, &r.serial) {
                (Some(der), _, _) => ParsedCert::from_der(der.clone())
                    .ok()
                    .map(|c| RevokedTarget::Certificate(Box::new(c))),
                (None, Some(issuer), Some(serial)) => {
                    let parsed = issuers.entry(issuer.as_slice()).or_insert_with(|| {
                        ParsedCert::from_der(issuer.clone())
                            .ok()
                            .map(|i| (i.subject_der(), i.subject()))
                    });
                    match (parsed, inspector::policy::parse_hex(serial)) {
                        (Some((name, subject)), Some(serial)) => {
                            Some(RevokedTarget::IssuerSerial {
                                issuer_name_der: name.clone(),
                                issuer: subject.clone(),
                                serial,
                            })
                        }
                        _ => None,
                    }
                }
                _ => None,
            };
            targets.extend(target);
        }
        RevocationSet { targets }
    }

    /// Loads every revocation.
    pub fn load(c: &mut Conn) -> ServiceResult<Self> {
        let rows: Vec<Revocation> = revocations::table.select(Revocation::as_select()).load(c)?;
        Ok(Self::new(&rows))
    }

    /// Whether `cert` is revoked (at any time: the allowlists and pages do
    /// not know a signing time; the inspector applies invalidity dates).
    pub fn is_revoked(&self, cert: &ParsedCert) -> bool {
        self.targets.iter().any(|t| t.matches(cert))
    }

    /// Whether the stored certificate `der` is revoked.
    pub fn is_revoked_der(&self, der: &[u8]) -> bool {
        ParsedCert::from_der(der.to_vec()).is_ok_and(|c| self.is_revoked(&c))
    }
}
