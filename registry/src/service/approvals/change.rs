//! The changes that may need approval: what each is (its configurable
//! action), who may propose and approve it (the roles its operation
//! requires), how it reads to a person, and how it runs (through its one
//! service operation).

use super::super::components::FloorRequest;
use super::super::retire::RetiredRecord;
use super::super::revocations::RevocationRequest;
use super::super::sigstore::SigstoreRevocationRequest;
use super::super::{ADMIN, Actor, Conn, PROCUREMENT, Role, SECURITY, ServiceError, ServiceResult};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A change that may need approval. Stored as the proposal's payload.
#[derive(Serialize, Deserialize, Clone, Debug, ToSchema)]
#[serde(tag = "change", rename_all = "kebab-case")]
pub enum Change {
    /// Set a component's floor (row version `expected`).
    SetFloor {
        /// Component name.
        component: String,
        /// Its row version when the change was asked for.
        expected: i32,
        /// The floor change.
        #[schema(value_type = Object)]
        request: FloorRequest,
    },
    /// Revoke a certificate.
    RevokeCertificate {
        /// The revocation.
        #[schema(value_type = Object)]
        request: RevocationRequest,
    },
    /// Revoke a vendor's Sigstore identity or key.
    RevokeSigstore {
        /// Vendor id.
        vendor: String,
        /// The revocation.
        #[schema(value_type = Object)]
        request: SigstoreRevocationRequest,
    },
    /// Register a certificate for a vendor.
    RegisterCertificate {
        /// Vendor id.
        vendor: String,
        /// `anchor` or `intermediate`.
        role: String,
        /// The certificate (base64 DER).
        der_base64: String,
        /// Why a lookalike is intended, if it is one.
        lookalike_reason: Option<String>,
    },
    /// Record a CA key several vendors share.
    RecordSharedCa {
        /// The record.
        #[schema(value_type = Object)]
        request: super::super::certificates::SharedCaRequest,
    },
    /// Put a retired record back.
    Unretire {
        /// Which record.
        record: RetiredRecord,
        /// Why.
        reason: String,
    },
    /// Change a web user's role.
    SetRole {
        /// User name.
        username: String,
        /// The new role.
        role: Role,
    },
}

/// What a change gave: the record's API view and, for versioned rows, its
/// new row version (the ETag).
#[derive(Debug, Clone)]
pub struct Applied {
    /// The changed record as the API shows it.
    pub view: serde_json::Value,
    /// Its row version, when it has one.
    pub version: Option<i32>,
}

fn to_json<V: Serialize>(v: V) -> ServiceResult<serde_json::Value> {
    serde_json::to_value(v).map_err(ServiceError::internal)
}

impl Change {
    /// The configurable action this change is (a floor going up is not the
    /// same action as one going down).
    pub(super) fn action(&self, c: &mut Conn) -> ServiceResult<&'static str> {
        Ok(match self {
            Change::SetFloor {
                component, request, ..
            } => {
                let current = super::super::components::find(c, component)?.min_version;
                let lowered = match (&current, &request.min_version) {
                    (None, _) => false,
                    (Some(_), None) => true,
                    (Some(cur), Some(new)) => {
                        match (semver::Version::parse(cur), semver::Version::parse(new)) {
                            (Ok(cur), Ok(new)) => new < cur,
                            // Unparseable: let the operation name the field.
                            _ => false,
                        }
                    }
                };
                if lowered {
                    "lower-floor"
                } else {
                    "raise-floor"
                }
            }
            Change::RevokeCertificate { .. } | Change::RevokeSigstore { .. } => "revoke",
            Change::RegisterCertificate { role, .. } if role == "anchor" => "register-anchor",
            Change::RegisterCertificate { .. } => "register-intermediate",
            Change::RecordSharedCa { .. } => "shared-ca",
            Change::Unretire { .. } => "unretire",
            Change::SetRole { .. } => "change-role",
        })
    }

    /// The roles that may propose, approve or reject it: those the
    /// operation itself requires.
    pub(super) fn roles(&self) -> &'static [Role] {
        match self {
            Change::SetFloor { .. }
            | Change::RevokeCertificate { .. }
            | Change::RevokeSigstore { .. }
            | Change::RecordSharedCa { .. } => SECURITY,
            Change::RegisterCertificate { .. } => PROCUREMENT,
            Change::Unretire { .. } => super::super::retire::RETIRERS,
            Change::SetRole { .. } => ADMIN,
        }
    }

    /// One line a person can approve or reject on.
    pub fn summary(&self) -> String {
        match self {
            Change::SetFloor {
                component, request, ..
            } => match &request.min_version {
                Some(v) => format!(
                    "set the rollback floor of '{component}' to {v}{}",
                    request
                        .reason
                        .as_deref()
                        .map(|r| format!(" ({r})"))
                        .unwrap_or_default()
                ),
                None => format!(
                    "remove the rollback floor of '{component}'{}",
                    request
                        .reason
                        .as_deref()
                        .map(|r| format!(" ({r})"))
                        .unwrap_or_default()
                ),
            },
            Change::RevokeCertificate { request } => {
                let who = super::super::certificates::decode_one(
                    request.pem.as_deref(),
                    request.der_base64.as_deref(),
                )
                .map(|c| format!("'{}' (SHA-256 {})", c.subject(), c.fingerprint()))
                .unwrap_or_else(|_| "a certificate".into());
                format!(
                    "revoke {who} ({}{})",
                    request.reason,
                    request
                        .invalidity_date
                        .as_deref()
                        .map(|d| format!(", from {d}"))
                        .unwrap_or_default()
                )
            }
            Change::RevokeSigstore { vendor, request } => {
                let who = match (&request.identity, &request.key_spki_sha256) {
                    (Some(i), _) => format!("identity {} (issuer {})", i.san, i.issuer),
                    (_, Some(k)) => format!("key {k}"),
                    _ => "a signer".into(),
                };
                format!(
                    "revoke vendor '{vendor}' Sigstore {who} ({})",
                    request.reason
                )
            }
            Change::RegisterCertificate {
                vendor,
                role,
                der_base64,
                ..
            } => {
                let who = super::super::certificates::decode_one(None, Some(der_base64))
                    .map(|c| format!("'{}' (SHA-256 {})", c.subject(), c.fingerprint()))
                    .unwrap_or_else(|_| "a certificate".into());
                format!("register {who} as an {role} of vendor '{vendor}'")
            }
            Change::RecordSharedCa { request } => format!(
                "record a CA key shared by {} ({})",
                request.vendors.join(", "),
                request.reason
            ),
            Change::Unretire { record, reason } => {
                format!("un-retire {} ({reason})", record.describe())
            }
            Change::SetRole { username, role } => {
                format!("give user '{username}' the role {}", role.as_str())
            }
        }
    }

    /// Runs the change through its one service operation.
    pub fn apply(&self, c: &mut Conn, actor: &Actor) -> ServiceResult<Applied> {
        match self.clone() {
            Change::SetFloor {
                component,
                expected,
                request,
            } => {
                let row = super::super::components::set_component_floor(
                    c, actor, component, expected, request,
                )?;
                Ok(Applied {
                    view: to_json(super::super::components::view(&row))?,
                    version: Some(row.row_version),
                })
            }
            Change::RevokeCertificate { request } => {
                let row = super::super::revocations::revoke_certificate(c, actor, request)?;
                Ok(Applied {
                    view: to_json(super::super::revocations::view(&row))?,
                    version: None,
                })
            }
            Change::RevokeSigstore { vendor, request } => {
                let row = super::super::sigstore::revoke(c, actor, &vendor, request)?;
                Ok(Applied {
                    view: to_json(super::super::sigstore::revocation_view(&row))?,
                    version: None,
                })
            }
            Change::RegisterCertificate {
                vendor,
                role,
                der_base64,
                lookalike_reason,
            } => {
                let (row, warnings) = super::super::certificates::upload(
                    c,
                    actor,
                    vendor,
                    role,
                    super::super::certificates::CertificateSource::Fields {
                        pem: None,
                        der_base64: Some(der_base64),
                    },
                    lookalike_reason,
                )?;
                let mut view = super::super::certificates::view(&row);
                view.capability_warnings = warnings;
                Ok(Applied {
                    view: to_json(view)?,
                    version: None,
                })
            }
            Change::RecordSharedCa { request } => {
                let row = super::super::certificates::record_shared_ca(c, actor, request)?;
                Ok(Applied {
                    view: to_json(super::super::certificates::shared_view(&row))?,
                    version: None,
                })
            }
            Change::Unretire { record, reason } => Ok(Applied {
                view: super::super::retire::unretire_record(c, actor, &record, &reason)?,
                version: None,
            }),
            Change::SetRole { username, role } => Ok(Applied {
                view: to_json(super::super::users::set_role(c, actor, &username, role)?)?,
                version: None,
            }),
        }
    }
}
